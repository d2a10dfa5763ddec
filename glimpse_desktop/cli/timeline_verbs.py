"""``glimpse timeline``: the years and months of the library with their photo counts (what the
window's timeline scrubber marks)."""

from __future__ import annotations

import argparse
import calendar

from glimpse_desktop.api.library import Library
from glimpse_desktop.cli.common import EXIT_OK, emit_json
from glimpse_desktop.cli.verbs import Verb

__all__ = ["VERBS"]


def _photos(n: int) -> str:
    return f"{n:>9,} photo" + ("" if n == 1 else "s")


def cmd_timeline(lib: Library, args: argparse.Namespace) -> int:
    summary = lib.timeline.months()
    if args.json:
        emit_json(summary.as_dict())
        return EXIT_OK
    if not summary.total:
        print("No photos in the library yet.")
        return EXIT_OK
    for year, count in summary.years():
        months = [m for m in summary.months if m.year == year]
        each = " · ".join(f"{calendar.month_abbr[m.month]} {m.count:,}" for m in months)
        print(f"{year}  {_photos(count)}   {each}")
    if summary.undated:
        print(f"no date  {_photos(summary.undated)[2:]}")
    return EXIT_OK


VERBS: tuple[Verb, ...] = (
    Verb("timeline", "the years and months of the library with their photo counts",
         cmd_timeline),
)
