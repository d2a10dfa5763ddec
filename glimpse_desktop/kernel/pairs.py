"""RAW+JPEG pairs: a RAW shot together with a JPEG (or HEIC) is one photo with two files.

Cameras set to "RAW+JPEG" write two files per shot: ``IMG_0001.CR2`` and ``IMG_0001.JPG``.
As Lightroom ("Treat JPEG files next to raw files as separate photos" off, its default) and
digiKam (grouping by name) do, Glimpse shows such a pair as ONE photo:

- **What makes a pair.** A RAW file (``kernel.raw.RAW_EXTENSIONS``) and a JPEG or HEIC
  (``SHOWN_EXTENSIONS``) in the same folder with the same stem, compared without regard to
  the case of ASCII letters (``IMG_0001.CR2`` + ``img_0001.jpg``), and, when both files carry
  a capture time (from the file's metadata, not its modification time or name), the same
  capture time within ``SAME_SHOT_SECONDS``: an export that reuses a name but shows another
  moment is not paired. Only files that are there (or on an absent drive) pair; a missing
  file pairs with nothing.
- **Which file is the photo.** The JPEG (or, failing one, the HEIC) is the photo that is
  shown, searched, embedded, face-detected and captioned. The RAW is a *companion* file of
  that photo: its row stays (path, content hash, moves, errors are tracked as for any file),
  with ``photos.companion_of`` naming the photo it belongs to; every list and count of photos
  leaves companions out, and the model stages do not run on them. Several RAWs of one stem
  (``.CR2`` and ``.DNG``) are all companions of the one photo.
- **Order does not matter.** The pairing of a name is settled again whenever a row of that
  name is written, moved, marked missing or restored, or deleted (``kernel.photos`` calls
  ``settle`` from each of those writes), so RAW first, JPEG first, both in one scan and a
  watcher event for either all end in the same state.
- **Breaking a pair.** The JPEG deleted or moved away: its RAW is a photo of its own again
  (shown; the model stages catch up on it). The RAW deleted or moved away: the JPEG stays as
  it was. Both renamed to one new stem: the pair holds.
- **What the person gave a photo stays.** When a pair forms with a RAW that was a photo of
  its own, what the person gave it is given to the shown photo too, where that photo lacks
  it: its rating, its album memberships (and album covers), a caption they wrote, and the
  rows of any plugin table keyed by the photo. Copied, not moved: the RAW keeps its own, and
  has them again if the pair breaks. What was derived from the RAW's own file or pixels
  (faces and who they are, embeddings, tags, places, sidecars, errors) stays on the RAW's row,
  hidden with it, and is there again if the pair is broken: nothing is lost either way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from glimpse_desktop.kernel import fts, raw
from glimpse_desktop.kernel.db import Connection

# photos.FLAG_FAVORITE | photos.FLAG_REJECTED (kernel/photos.py imports this module, and
# checks the two agree): the person's judgement of a RAW carries to its JPEG.
JUDGED = 4 | 8

__all__ = ["SAME_SHOT_SECONDS", "SHOWN_EXTENSIONS", "companions", "is_raw", "key_of",
           "pairable", "partner_on_disk", "settle", "settle_ids", "settle_paths"]

# In order of preference: where a stem has both, the JPEG is the photo shown.
SHOWN_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".jpe", ".heic", ".heif", ".hif")

# Two files of one shot carry the same capture time; a camera writing both may tick a second
# between them.
SAME_SHOT_SECONDS = 2.0

# Rows present enough to pair: on disk, on an absent drive, or a file we cannot show.
_PRESENT = ("ok", "offline", "unsupported")

# Rows hanging off a photo that describe its own file or pixels: they stay with the RAW when
# it becomes a companion (a pair of rows of one table is not one photo's data twice).
_OWN_FILE = {"errors", "sidecars", "xmp_regions", "writeback", "faces", "photo_faces",
             "photo_embeddings", "photo_tags", "photo_places", "photo_text", "captions"}


def _ext(filename: str) -> str:
    return os.path.splitext(filename)[1].lower()


def is_raw(filename: str) -> bool:
    return _ext(filename) in raw.RAW_EXTENSIONS


def pairable(filename: str) -> bool:
    """Whether a file of this name can be one half of a pair."""
    ext = _ext(filename)
    return ext in raw.RAW_EXTENSIONS or ext in SHOWN_EXTENSIONS


def key_of(path: str) -> tuple[str, str]:
    """(folder, stem in lower case): the files of one key are one shot's candidates."""
    folder, filename = os.path.split(path)
    return folder, os.path.splitext(filename)[0].lower()


def _capture_time(row: dict[str, Any]) -> datetime | None:
    """The wall-clock capture time the file itself records; None for a time guessed from the
    file's modification time or name, which two files of one shot need not share, and for a
    date the person set (``manual``: shifting the JPEG's clock does not split the pair)."""
    source = str(row["taken_at_source"] or "")
    if not row["taken_at"] or not source or source.startswith(("file", "name", "manual")):
        return None
    try:
        return datetime.fromisoformat(str(row["taken_at"])[:19])
    except ValueError:
        return None


def _same_shot(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ta, tb = _capture_time(a), _capture_time(b)
    if ta is None or tb is None:
        return True
    return abs((ta - tb).total_seconds()) <= SAME_SHOT_SECONDS


def _rows_of_key(conn: Connection, folder: str, stem: str) -> list[dict[str, Any]]:
    # A range on the (folder, filename NOCASE) index: every "stem.*" in the folder, whatever
    # the case; '/' is the character after '.', and no file name holds one.
    rows = conn.rows(
        "SELECT id, filename, status, taken_at, taken_at_source, companion_of FROM photos "
        "WHERE folder = ? AND filename >= ? COLLATE NOCASE AND filename < ? COLLATE NOCASE",
        (folder, stem + ".", stem + "/"))
    return [r for r in rows if os.path.splitext(str(r["filename"]))[0].lower() == stem]


def settle(conn: Connection, keys: Iterable[tuple[str, str]]) -> list[int]:
    """Pair (or unpair) the files of each ``(folder, stem)`` key as they are now; return the
    ids whose pairing changed (RAWs that became or stopped being companions)."""
    changed: list[int] = []
    for folder, stem in dict.fromkeys(keys):
        rows = _rows_of_key(conn, folder, stem)
        if len(rows) < 2 and not any(r["companion_of"] is not None for r in rows):
            continue
        # The photo shown must be one that can be shown: a JPEG that cannot does not hide
        # its RAW.
        shown = sorted((r for r in rows if _ext(r["filename"]) in SHOWN_EXTENSIONS
                        and r["status"] in ("ok", "offline")),
                       key=lambda r: (SHOWN_EXTENSIONS.index(_ext(r["filename"])), r["id"]))
        for row in rows:
            target: int | None = None
            if is_raw(row["filename"]) and row["status"] in _PRESENT:
                target = next((int(s["id"]) for s in shown if _same_shot(row, s)), None)
            before = row["companion_of"]
            if before == target:
                continue
            raw_id = int(row["id"])
            conn.execute("UPDATE photos SET companion_of = ? WHERE id = ?", (target, raw_id))
            if target is not None and before is None:
                _carry(conn, raw_id, target)
            changed.append(raw_id)
            fts.mark(conn, [raw_id])
    return changed


def settle_paths(conn: Connection, paths: Iterable[str]) -> list[int]:
    """``settle`` the keys of these paths (those that can pair)."""
    return settle(conn, (key_of(p) for p in paths if pairable(os.path.basename(p))))


def settle_ids(conn: Connection, ids: Sequence[int]) -> list[int]:
    """``settle`` the keys of these photos' paths as they are now."""
    paths: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        paths += [str(r[0]) for r in conn.execute(
            f"SELECT path FROM photos WHERE id IN ({', '.join('?' * len(chunk))})", chunk)]
    return settle_paths(conn, paths)


def _references(conn: Connection) -> list[tuple[str, str]]:
    tables = [str(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return [(t, str(fk["from"])) for t in tables
            for fk in conn.rows(f"SELECT \"table\", \"from\" FROM pragma_foreign_key_list('{t}')")
            if fk["table"] == "photos"]


def _carry(conn: Connection, raw_id: int, shown_id: int) -> None:
    """A RAW that was a photo of its own becomes ``shown_id``'s companion: what the person
    gave it is given to the shown photo too, where that one lacks it (see the module's
    docstring). Copied, not moved: the RAW keeps its own, so when the pair breaks (the JPEG
    deleted) it comes back with its albums, rating and caption."""
    conn.execute("UPDATE photos SET rating = coalesce(rating, (SELECT rating FROM photos "
                 "WHERE id = ?)), flags = flags | ((SELECT flags FROM photos WHERE id = ?) & ?) "
                 "WHERE id = ?", (raw_id, raw_id, JUDGED, shown_id))
    # Stars the person gave stay theirs (migration 7 pairs a library before this column).
    if any(c[1] == "rating_source" for c in conn.execute("PRAGMA table_info(photos)")):
        conn.execute("UPDATE photos SET rating_source = (SELECT rating_source FROM photos "
                     "WHERE id = ?) WHERE id = ? AND rating_source IS NULL AND rating = "
                     "(SELECT rating FROM photos WHERE id = ?)", (raw_id, shown_id, raw_id))
    # A caption the person wrote beats a model's; the model's own describe their own pixels.
    if conn.one("SELECT 1 FROM captions WHERE photo_id = ? AND source = 'user'", (raw_id,)) \
            and not conn.one("SELECT 1 FROM captions WHERE photo_id = ? AND source = 'user'",
                             (shown_id,)):
        conn.execute("DELETE FROM captions WHERE photo_id = ?", (shown_id,))
        _copy_rows(conn, "captions", "photo_id", raw_id, shown_id)
    for table, column in _references(conn):
        if table in _OWN_FILE or table == "photos":
            continue
        keyed = any(int(c["pk"]) > 0 and c["name"] == column
                    for c in conn.rows(f"SELECT name, pk FROM pragma_table_info('{table}')"))
        if keyed:
            # A membership (album_photos, a plugin's table keyed by photo): the shown photo
            # joins where the RAW is; where both are, the shown photo's row stays.
            _copy_rows(conn, table, column, raw_id, shown_id)
        else:
            # A pointer to one photo (an album's cover): it now points at the photo shown.
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?",
                         (shown_id, raw_id))
    fts.mark(conn, [shown_id])


def _copy_rows(conn: Connection, table: str, column: str, raw_id: int, shown_id: int) -> None:
    """Copies of ``table``'s rows of the RAW for the shown photo (a row the shown photo has
    under the same key already is kept; a rowid of its own is given to each copy)."""
    info = conn.rows(f"SELECT name, type, pk FROM pragma_table_info('{table}')")
    keys = [c for c in info if int(c["pk"]) > 0]
    rowid = (keys[0]["name"] if len(keys) == 1 and str(keys[0]["type"]).upper() == "INTEGER"
             and keys[0]["name"] != column else None)
    names = [str(c["name"]) for c in info if c["name"] != rowid]
    picked = ", ".join("?" if n == column else f'"{n}"' for n in names)
    listed = ", ".join(f'"{n}"' for n in names)
    conn.execute(f'INSERT OR IGNORE INTO "{table}" ({listed}) SELECT {picked} FROM "{table}" '
                 f'WHERE "{column}" = ?', (shown_id, raw_id))


def partner_on_disk(path: str) -> bool:
    """Whether the RAW at ``path`` has a JPEG or HEIC of its stem beside it on disk (in the
    spellings cameras write): its model stages can wait, it is about to be a companion."""
    if not is_raw(os.path.basename(path)):
        return False
    base = os.path.splitext(path)[0]
    return any(os.path.isfile(base + ext) for e in SHOWN_EXTENSIONS
               for ext in (e, e.upper()))


def companions(conn: Connection, photo_id: int) -> list[dict[str, Any]]:
    """The companion files (rows) of a photo, by path."""
    return conn.rows("SELECT id, path, format, size, status, content_hash FROM photos "
                     "WHERE companion_of = ? ORDER BY path", (photo_id,))
