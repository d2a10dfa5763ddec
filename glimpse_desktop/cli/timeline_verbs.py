"""``glimpse timeline``: the years and months of the library with their photo counts (what the
window's timeline scrubber marks)."""

from __future__ import annotations

import argparse
import calendar

from glimpse_desktop.api.library import Library
from glimpse_desktop.cli.common import EXIT_OK, emit_json, plural
from glimpse_desktop.cli.verbs import Verb

__all__ = ["VERBS"]


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
        print(f"{year}  {plural(count, 'photo'):>14}   "
            + " · ".join(f"{calendar.month_abbr[m.month]} {m.count:,}" for m in months))
    if summary.undated:
        print(f"no date  {plural(summary.undated, 'photo'):>11}")
    return EXIT_OK


VERBS: tuple[Verb, ...] = (
    Verb("timeline", "the years and months of the library with their photo counts",
         cmd_timeline),
)
