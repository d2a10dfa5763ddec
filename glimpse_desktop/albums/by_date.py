"""Organise photos into ``YYYY/YYYY-MM-DD`` folders by the day they were taken.

The case this serves: a person's folders were reorganised (or never were), and they want one
tidy tree by date, with everything the library knows (names, albums, faces, tags) still
attached. It is sort-by-tag with a different folder per photo, so it runs on the same
machinery (``sorting.sort_photos``) and keeps every one of its safety rules: nothing is ever
overwritten, copies are written to a temporary file and then named, folders that would lead
outside the output (links) are refused, and a move updates the photo's row right away.
"""

from __future__ import annotations

import os
import re

from glimpse_desktop.albums import store
from glimpse_desktop.kernel.db import Connection, Writer
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback
from glimpse_desktop.search.sorting import SortReport, sort_photos

__all__ = ["UNDATED", "date_folder", "organize_by_date"]

# Photos without any date (no EXIF/XMP date and no usable file time) go here, so a move
# leaves nothing behind in the old folders.
UNDATED = "Undated"
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def date_folder(taken_at: str | None) -> str:
    """``2023/2023-07-14`` for a photo taken on that day, ``Undated`` without a date.

    The day is the local date the camera recorded (the date part of ``taken_at``, before
    its UTC offset), which is the day the person lived: a photo taken at 23:30 in Lisbon
    belongs to that evening, not to the next day in UTC."""
    m = _DATE.match(taken_at or "")
    if m is None:
        return UNDATED
    year, month, day = m.groups()
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31) or year == "0000":
        return UNDATED
    return f"{year}/{year}-{month}-{day}"


def organize_by_date(
    conn: Connection,
    *,
    output: str | os.PathLike[str],
    mode: str,
    dry_run: bool,
    writer: Writer | None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> SortReport:
    """Copy or move every photo into ``output``/YYYY/YYYY-MM-DD/ (``output``/Undated/).

    Photos go in the order they were taken, so the earlier of two photos with the same file
    name on one day keeps the name and the later one becomes ``name (2).jpg``. Photos whose
    file is missing or offline are skipped and reported; *unsupported* files (formats Glimpse
    cannot read) are not photos of the library and stay where they are. A photo already in
    its folder is left alone, so running it again does nothing. With ``dry_run`` the plan is
    returned and nothing is touched. Raises SortError, with the report of what was finished,
    when a photo cannot be read or the output cannot be written.

    ``conn`` is a read connection of the calling thread (``Library.reader()``).
    """
    rows = [{"id": pid, "path": path, "status": status, "group": date_folder(taken_at)}
            for pid, path, status, taken_at in store.photos_by_time(conn)]
    return sort_photos(conn, rows, lambda group: tuple(group.split("/")), output=output,
                       mode=mode, dry_run=dry_run, writer=writer, job="organize",
                       progress=progress, cancel=cancel)
