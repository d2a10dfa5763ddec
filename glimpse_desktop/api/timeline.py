"""The library along time (``Library.timeline``): its months with their photo counts, and the
photos at a date, for a timeline scrubber and the command line.

A grid over 1M photos sizes itself for the whole library from ``months()`` (one grouped pass,
no photo rows) and reads only the pages around where the person is: ``page_at(year, month)``
seeks the month by date (keyset paging along ``photos_by_time``), ``month_page`` reads further
into a month. See ``kernel/timeline.py`` for what a month is.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass

from glimpse_desktop.api.records import PhotoRow
from glimpse_desktop.kernel import photos, timeline
from glimpse_desktop.kernel.db import Connection

__all__ = ["Timeline", "TimelineMonth", "TimelineSummary"]


@dataclass(frozen=True, slots=True)
class TimelineMonth:
    """A month holding photos."""

    year: int
    month: int
    """1 to 12."""
    count: int
    """Photos shown in the library that month (a RAW kept with its JPEG counts once)."""
    newest_ts: float
    oldest_ts: float
    """The month's newest and oldest ``taken_ts``."""

    @property
    def key(self) -> str:
        """ "2024-03"."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start_ts(self) -> float:
        """The month's first instant (``taken_ts`` seconds); the next month's is ``end_ts``."""
        return timeline.month_bounds(self.year, self.month)[0]

    @property
    def end_ts(self) -> float:
        return timeline.month_bounds(self.year, self.month)[1]

    def as_dict(self) -> dict[str, object]:
        return {"month": self.key, "year": self.year, "number": self.month,
                "name": calendar.month_name[self.month], "photos": self.count}


@dataclass(frozen=True, slots=True)
class TimelineSummary:
    """Every month holding photos, newest first, and the photos without a date (shown after
    them)."""

    months: tuple[TimelineMonth, ...]
    undated: int

    @property
    def total(self) -> int:
        return sum(m.count for m in self.months) + self.undated

    def years(self) -> list[tuple[int, int]]:
        """(year, photos), newest year first."""
        out: dict[int, int] = {}
        for m in self.months:
            out[m.year] = out.get(m.year, 0) + m.count
        return list(out.items())

    def as_dict(self) -> dict[str, object]:
        return {"photos": self.total, "undated": self.undated,
                "years": [{"year": y, "photos": n,
                           "months": [m.as_dict() for m in self.months if m.year == y]}
                          for y, n in self.years()]}


class Timeline:
    """The months of the library and the photos at a date (``Library.timeline``)."""

    def __init__(self, *, reader: Callable[[], Connection]) -> None:
        self.reader = reader

    def months(self) -> TimelineSummary:
        """Every month holding photos with its count, newest first, and the undated photos:
        what a scrubber marks and what a grid sizes the whole library by."""
        conn = self.reader()
        return TimelineSummary(tuple(TimelineMonth(*row) for row in timeline.months(conn)),
                               timeline.undated(conn))

    def page_at(self, year: int, month: int, *, limit: int = 200) -> list[PhotoRow]:
        """The first ``limit`` photos of ``year``/``month`` and on (older ones follow when
        the month holds fewer), in the library's order: a jump by date. ValueError for a
        month that is not 1 to 12."""
        _start, end = timeline.month_bounds(year, month)
        # Every photo older than the month's end: (end, -1) bounds (taken_ts, id) so.
        return [PhotoRow(*row) for row in photos.page(self.reader(), after=(end, -1),
                                                      limit=limit)]

    def focus(self, photo_id: int) -> tuple[float, float] | None:
        """Where a tile cropped from the photo should be centred: the middle of the box
        around its faces (fractions of the photo's width and height, as shown), or None when
        no face was found in it."""
        return timeline.focus(self.reader(), photo_id)

    def month_page(self, year: int | None, month: int | None, *, offset: int = 0,
                   limit: int = 200) -> list[PhotoRow]:
        """Photos ``offset`` to ``offset + limit`` of one month (``year``/``month`` None: of
        the undated photos), in the library's order."""
        return [PhotoRow(*row) for row in timeline.month_page(
            self.reader(), year, month, offset=offset, limit=limit)]
