"""The library along time: how many photos each month holds, and the photos of a month.

What a timeline scrubber needs to be instant at 1M photos: the months with their counts
(one pass grouped by month, so the grid knows where every month starts without reading a
photo row), and a page anywhere in the order read by date, never by a row offset from the top.

A month is the calendar month of ``taken_ts`` read as UTC: the library's order
(``photos_by_time``), so each month is one run of that order. ``taken_ts`` is the local time
read as UTC when a photo's offset is unknown (most files), so this is the month its clock
said; a photo whose file records an offset sits in the month of its instant in UTC (an evening
photo on the last day of a month, taken west of Greenwich, can fall into the next one).
"""

from __future__ import annotations

import calendar
import time
from typing import Any

from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.photos import _SHOWN, ROW_COLUMNS


def month_bounds(year: int, month: int) -> tuple[float, float]:
    """``[start, end)`` of a calendar month in ``taken_ts`` seconds."""
    if not 1 <= month <= 12:
        raise ValueError(f"no month {month}: months are 1 to 12")
    start = calendar.timegm((year, month, 1, 0, 0, 0))
    end = calendar.timegm((year + (month == 12), month % 12 + 1, 1, 0, 0, 0))
    return float(start), float(end)


def months(conn: Connection) -> list[tuple[int, int, int, float, float]]:
    """(year, month, photos, newest taken_ts, oldest taken_ts) of every month holding photos
    shown in the library, newest month first.

    One count a month, each a range of ``photos_by_time`` (a seek, then its photos): no
    GROUP BY, whose sorter would hold a row per photo (200 MB at 1M photos); the filter on
    what is shown reads each row once. About 0.15 s a 100k photos, run off the GUI thread once
    per window (and after a folder is removed)."""
    span = list(conn.execute("SELECT min(taken_ts), max(taken_ts) FROM photos "
                             "WHERE taken_ts IS NOT NULL"))
    if not span or span[0][0] is None:
        return []
    oldest, newest = time.gmtime(span[0][0]), time.gmtime(span[0][1])
    out: list[tuple[int, int, int, float, float]] = []
    year, month = newest.tm_year, newest.tm_mon
    while (year, month) >= (oldest.tm_year, oldest.tm_mon):
        start, end = month_bounds(year, month)
        n, hi, lo = next(iter(conn.execute(
            "SELECT count(*), max(taken_ts), min(taken_ts) FROM photos INDEXED BY "
            f"photos_by_time WHERE taken_ts >= ? AND taken_ts < ? AND {_SHOWN}",
            (start, end))))
        if n:
            out.append((year, month, int(n), float(hi), float(lo)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def undated(conn: Connection) -> int:
    """How many photos shown in the library have no date (they come after every month)."""
    return int(conn.one(f"SELECT count(*) FROM photos WHERE taken_ts IS NULL AND {_SHOWN}"))


def month_page(conn: Connection, year: int | None, month: int | None, *, offset: int,
               limit: int) -> list[tuple[Any, ...]]:
    """Photos ``offset`` to ``offset + limit`` of one month (ROW_COLUMNS), in the library's
    order; ``year``/``month`` None: the undated photos.

    The seek goes to the month by date along the index; the offset counts only within the
    month (a few thousand photos at most in a real library), never from the top."""
    if offset < 0 or limit < 0:
        raise ValueError("a page starts at 0 or later and holds 0 photos or more")
    select = f"SELECT {ROW_COLUMNS} FROM photos "
    if year is None or month is None:
        return list(conn.execute(
            select + f"WHERE taken_ts IS NULL AND {_SHOWN} ORDER BY id DESC LIMIT ? OFFSET ?",
            (limit, offset)))
    start, end = month_bounds(year, month)
    return list(conn.execute(
        select + f"WHERE taken_ts >= ? AND taken_ts < ? AND {_SHOWN} "
        "ORDER BY taken_ts DESC, id DESC LIMIT ? OFFSET ?", (start, end, limit, offset)))


def focus(conn: Connection, photo_id: int) -> tuple[float, float] | None:
    """The centre of the box around a photo's faces (fractions of the shown photo), None
    without faces. The faces table is the kernel's schema; faces are found by a feature."""
    found = list(conn.execute("SELECT min(x), min(y), max(x + w), max(y + h) FROM faces "
                              "WHERE photo_id = ?", (photo_id,)))
    if not found or found[0][0] is None:
        return None
    x0, y0, x1, y1 = (float(v) for v in found[0])
    return ((x0 + x1) / 2, (y0 + y1) / 2)
