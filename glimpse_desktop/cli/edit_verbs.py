"""The verbs that set what the files got wrong: ``glimpse set-date`` (a date and time, a shift
for a camera whose clock was off, or the file's own date again) and ``glimpse set-place``
(coordinates, another photo's place, none, or the file's own again).

What is set is kept in the library as the person's; places, events and trips follow, and with
write-back on the files are written (the change chain, ``photos_changed(ids, "taken")``)."""

from __future__ import annotations

import argparse
import re
import sys

from glimpse_desktop.api import DateEdit, EditProblem, Gps, PlaceEdit, date_source_text
from glimpse_desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    emit_json,
    job,
    photos_changed,
    plural,
)
from glimpse_desktop.cli.verbs import Library, Verb

__all__ = ["VERBS"]

# What the change chain is told (kernel/changes.py's WHY): photos moved in time or space.
WHY = "taken"


def _problems(problems: tuple[EditProblem, ...]) -> None:
    for p in problems:
        print(f"glimpse: #{p.id} {p.path}: left as it was: {p.reason}", file=sys.stderr)


def _finish(lib: Library, edit: DateEdit | PlaceEdit, args: argparse.Namespace) -> int:
    """The change chain for what was written, then the exit code."""
    code = EXIT_OK
    if edit.photo_ids:
        code = photos_changed(lib, edit.photo_ids, WHY, args)
    _problems(edit.problems)
    if edit.cancelled:
        print(f"Interrupted: {plural(len(edit.photos), 'photo')} changed before the stop "
              "are kept.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_ERROR if edit.problems else code


def cmd_set_date(lib: Library, args: argparse.Namespace) -> int:
    chosen = [args.to is not None, args.shift is not None, args.from_file]
    if sum(chosen) != 1:
        print("glimpse: set-date needs one of --to WHEN, --shift DURATION or --from-file",
              file=sys.stderr)
        return EXIT_USAGE
    with job(args.quiet) as (bar, token):
        if args.to is not None:
            edit = lib.edits.set_date(args.photos, args.to, progress=bar, cancel=token)
        elif args.shift is not None:
            edit = lib.edits.shift_date(args.photos, args.shift, progress=bar, cancel=token)
        else:
            edit = lib.edits.date_from_file(args.photos, progress=bar, cancel=token)
    if args.json:
        emit_json(edit)
    else:
        for p in edit.photos:
            source = "" if p.source == "manual" else f"  (from {date_source_text(p.source)})"
            print(f"#{p.id} {p.path}  {p.before or 'no date'} → {p.after or 'no date'}{source}")
        print(f"Dated {plural(len(edit.photos), 'photo')}"
              + (" from their files." if edit.action == "from-file" else "."), file=sys.stderr)
    return _finish(lib, edit, args)


def _gps_text(gps: Gps | None) -> str:
    return "no place" if gps is None else f"{gps.lat:.6f}, {gps.lon:.6f}"


def cmd_set_place(lib: Library, args: argparse.Namespace) -> int:
    coords = args.lat is not None or args.lon is not None
    chosen = [args.source is not None, coords, args.clear, args.from_file]
    if sum(chosen) != 1:
        print("glimpse: set-place needs one of --from PHOTO, --lat LAT --lon LON, --clear or "
              "--from-file", file=sys.stderr)
        return EXIT_USAGE
    if coords and (args.lat is None or args.lon is None):
        print("glimpse: give both --lat and --lon", file=sys.stderr)
        return EXIT_USAGE
    if args.alt is not None and not coords:
        print("glimpse: --alt goes with --lat and --lon", file=sys.stderr)
        return EXIT_USAGE
    with job(args.quiet) as (bar, token):
        if args.source is not None:
            edit = lib.edits.copy_place(args.photos, args.source, progress=bar, cancel=token)
        elif coords:
            edit = lib.edits.set_place(args.photos, args.lat, args.lon, args.alt,
                                       progress=bar, cancel=token)
        elif args.clear:
            edit = lib.edits.clear_place(args.photos, progress=bar, cancel=token)
        else:
            edit = lib.edits.place_from_file(args.photos, progress=bar, cancel=token)
    if args.json:
        emit_json(edit)
    else:
        for p in edit.photos:
            print(f"#{p.id} {p.path}  {_gps_text(p.before)} → {_gps_text(p.after)}")
        done = {"clear": "Cleared the place of", "from-file": "Took the place from the file "
                "for"}.get(edit.action, "Placed")
        print(f"{done} {plural(len(edit.photos), 'photo')}.", file=sys.stderr)
    return _finish(lib, edit, args)


# A shift back in time ("-2d", "-1h03m", "-00:30", "-PT1H") reads as a value, not as an
# option: argparse takes only negative numbers for values on its own.
_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d|P)", re.IGNORECASE)


def _photos_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("photos", nargs="+", metavar="PHOTO",
                   help="photos by id (as `glimpse search` and `glimpse info` show) or path")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p._negative_number_matcher = _NEGATIVE_VALUE


def _set_date_args(p: argparse.ArgumentParser) -> None:
    _photos_arg(p)
    p.add_argument("--to", metavar="WHEN",
                   help="the date and time, e.g. 2019-07-14T15:30:12+02:00 or "
                        "\"2019-07-14 15:30\" (without an offset each photo keeps its own)")
    p.add_argument("--shift", metavar="DURATION",
                   help="move each photo's date, e.g. +1h03m, -2d, +00:30 or PT1H3M")
    p.add_argument("--from-file", action="store_true",
                   help="undo: take each photo's date from its file again")


def _set_place_args(p: argparse.ArgumentParser) -> None:
    _photos_arg(p)
    p.add_argument("--from", dest="source", metavar="PHOTO",
                   help="where another photo (an id or a path) was taken")
    p.add_argument("--lat", type=float, metavar="LAT", help="degrees north (south negative)")
    p.add_argument("--lon", type=float, metavar="LON", help="degrees east (west negative)")
    p.add_argument("--alt", type=float, metavar="METRES", help="altitude (optional)")
    p.add_argument("--clear", action="store_true",
                   help="no place, kept so when the files are read again")
    p.add_argument("--from-file", action="store_true",
                   help="undo: take each photo's place from its file again")


VERBS = [
    Verb("set-date", "set or shift the date and time of photos (kept in the library; "
         "events follow)", cmd_set_date, _set_date_args),
    Verb("set-place", "set the place of photos: coordinates, another photo's, or none",
         cmd_set_place, _set_place_args),
]
