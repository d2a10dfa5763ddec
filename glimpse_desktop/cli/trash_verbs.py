"""The trash's verbs: ``glimpse trash`` (to the system trash; ``--purge``/``--empty`` delete
for good from Recently deleted, with ``--yes``; ``--keeping`` for duplicate copies),
``glimpse restore`` and ``glimpse deleted`` (Recently deleted, also ``glimpse trash --list``),
and ``glimpse duplicates --keep-suggested`` (search_verbs.py calls ``keep_suggested``).

Every verb first runs the library's daily check (``Library.trash.tidy``): photos past their
30 days leave Recently deleted, photos put back by the system's own means come back."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from glimpse_desktop.api import (
    DeletedPhoto,
    KeepReport,
    TrashProblem,
)
from glimpse_desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    confirm,
    emit_json,
    job,
    photos_changed,
    plural,
)
from glimpse_desktop.cli.verbs import Library, Verb

__all__ = ["VERBS", "holdings_text", "keep_suggested", "problem_text", "with_holdings"]

# What the change chain is told: the photos left (or came back to) every list.
WHY = "edited"

_WHY_TEXT = {
    "trash.read_only": "its folder or drive is read-only: left where it is",
    "trash.offline": "its drive is not connected: left as it is",
    "trash.not_found": "its file is not there",
    "trash.no_trash": "its drive has no trash Glimpse can use: left where it is",
    "trash.already": "already in Recently deleted",
    "trash.not_trashed": "not in Recently deleted",
    "trash.taken": "another file is at its place now: it stays in the trash",
    "trash.not_in_trash": "the system trash no longer holds its file (emptied?)",
    "trash.unknown_photo": "no such photo in the library",
}


def problem_text(p: TrashProblem) -> str:
    """A refusal in words: the code's phrase, and the system's own where it said more."""
    said = _WHY_TEXT.get(p.code)
    return f"{said} ({p.why})" if said and p.code == "trash.failed" else (said or p.why)


def _problems(problems: Sequence[TrashProblem]) -> None:
    for p in problems:
        where = f"#{p.id} " if p.id is not None else ""
        print(f"glimpse: {where}{p.path}: {problem_text(p)}", file=sys.stderr)


def _line(d: DeletedPhoto) -> str:
    extra = f", {len(d.files) - 1} more file{'s' if len(d.files) > 2 else ''}" \
        if len(d.files) > 1 else ""
    left = "goes today" if d.days_left == 0 else f"{plural(d.days_left, 'day')} left"
    return f"#{d.id:<7} {left:<12} {d.path}{extra}"


def _trash(lib: Library, args: argparse.Namespace) -> int:
    with job(args.quiet) as (bar, token):
        if args.keeping is not None:
            kept = lib.trash.keep(args.keeping, args.photos, progress=bar, cancel=token)
            report = kept.trash
        else:
            kept = None
            report = lib.trash.move(args.photos, progress=bar, cancel=token)
    code = photos_changed(lib, [*report.photo_ids, *([kept.kept_id] if kept else [])], WHY,
                          args) if report.photo_ids else EXIT_OK
    if args.json:
        emit_json(kept if kept is not None else report)
    else:
        for d in report.trashed:
            print(f"#{d.id} {d.path}")
        if kept is not None:
            _say_moved(kept)
        print(f"Moved {plural(len(report.trashed), 'photo')} to the trash (Recently deleted "
              "keeps them 30 days; `glimpse restore` puts them back).", file=sys.stderr)
    _problems(report.problems)
    if report.cancelled:
        print("Interrupted: the photos moved before the stop stay in the trash.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_ERROR if report.problems else code


def _say_moved(kept: KeepReport) -> None:
    for m in kept.moved:
        gave = [*(f"album {a}" for a in m.albums), *(f"{p} named" for p in m.people),
                *(["its caption"] if m.caption else []),
                *([f"{m.rating} stars"] if m.rating is not None else []),
                *(["favourite"] if m.favorite else []), *(f"tag {t}" for t in m.tags)]
        if gave:
            print(f"#{m.from_id} gave #{kept.kept_id}: {', '.join(gave)}", file=sys.stderr)
        for name in m.people_not_placed:
            print(f"glimpse: #{m.from_id}: {name} has no matching face on #{kept.kept_id}; "
                  "kept with the trashed copy", file=sys.stderr)


def _list(lib: Library, args: argparse.Namespace) -> int:
    deleted = lib.trash.deleted()
    if args.json:
        emit_json(deleted)
        return EXIT_OK
    for d in deleted:
        print(_line(d))
    print(f"Recently deleted: {plural(len(deleted), 'photo')}.", file=sys.stderr)
    return EXIT_OK


def _purge(lib: Library, args: argparse.Namespace) -> int:
    refs = None if args.empty else args.photos
    n = lib.trash.count() if refs is None else len(refs)
    if not confirm(f"Delete {plural(n, 'photo')} for good (from the trash too)? This "
                   "cannot be undone.", args.yes):
        print("Nothing deleted.", file=sys.stderr)
        return EXIT_ERROR
    with job(args.quiet) as (bar, token):
        report = lib.trash.purge(refs, progress=bar, cancel=token)
    if args.json:
        emit_json(report)
    else:
        print(f"Deleted {plural(len(report.deleted), 'photo')} for good "
              f"({plural(report.files, 'file')} left the trash).", file=sys.stderr)
    _problems(report.problems)
    if report.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_ERROR if report.problems else EXIT_OK


def cmd_trash(lib: Library, args: argparse.Namespace) -> int:
    lib.trash.tidy()
    if args.list:
        return _list(lib, args)
    if args.empty and args.photos:
        print("glimpse: --empty deletes all of Recently deleted: give no photos with it "
              "(or use --purge PHOTO…)", file=sys.stderr)
        return EXIT_USAGE
    if args.purge or args.empty:
        if not args.photos and not args.empty:
            print("glimpse: --purge needs the photos to delete for good", file=sys.stderr)
            return EXIT_USAGE
        return _purge(lib, args)
    if not args.photos:
        print("glimpse: give the photos to move to the trash (ids or paths), or --list",
              file=sys.stderr)
        return EXIT_USAGE
    return _trash(lib, args)


def cmd_restore(lib: Library, args: argparse.Namespace) -> int:
    lib.trash.tidy()
    with job(args.quiet) as (bar, token):
        report = lib.trash.restore(args.photos, progress=bar, cancel=token)
    code = photos_changed(lib, report.photo_ids, WHY, args) if report.photo_ids else EXIT_OK
    if args.json:
        emit_json(report)
    else:
        for path in report.paths:
            print(path)
        print(f"Restored {plural(len(report.restored), 'photo')}.", file=sys.stderr)
        for path in report.lost:
            print(f"glimpse: {path}: the system trash no longer held it; the photo came "
                  "back without it", file=sys.stderr)
    _problems(report.problems)
    if report.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_ERROR if report.problems else code


def cmd_deleted(lib: Library, args: argparse.Namespace) -> int:
    lib.trash.tidy()
    return _list(lib, args)


def with_holdings(lib: Library, groups: Sequence[Any]) -> list[dict[str, Any]]:
    """``glimpse duplicates --json``: each group as it is, each copy with ``holdings``, what
    the library holds for it (people named, albums, caption, stars, favourite, tags)."""
    held = lib.trash.holdings([m.id for g in groups for m in g.members])
    out = []
    for g in groups:
        group = g.as_dict()
        for member in group["members"]:
            member["holdings"] = held.get(member["id"])
        out.append(group)
    return out


def holdings_text(lib: Library, groups: Sequence[Any]) -> dict[int, str]:
    """What the library holds for each copy, in a few words ("" for nothing)."""
    held = lib.trash.holdings([m.id for g in groups for m in g.members])
    words = {}
    for photo_id, h in held.items():
        parts = [*(f"{p}" for p in h.people), *(f"album {a}" for a in h.albums),
                 *(["caption"] if h.caption else []),
                 *([f"{h.rating}★"] if h.rating else []), *(["favourite"] if h.favorite else []),
                 *(f"#{t}" for t in h.tags)]
        words[photo_id] = ", ".join(parts)
    return words


def keep_suggested(lib: Library, groups: Sequence[Any], args: argparse.Namespace) -> int:
    """``glimpse duplicates --keep-suggested``: in every group, keep the copy Glimpse
    suggests and move the others to the trash (after a yes)."""
    others = sum(len(g.members) - 1 for g in groups)
    if not groups:
        print("No duplicates found.", file=sys.stderr)
        return EXIT_OK
    if not confirm(f"Keep the suggested copy in {plural(len(groups), 'group')} and move "
                   f"{plural(others, 'other copy')} to the trash?", args.yes):
        print("Nothing moved.", file=sys.stderr)
        return EXIT_ERROR
    plan = [(g.best.id, [m.id for m in g.members if m.id != g.best.id]) for g in groups]
    with job(args.quiet) as (bar, token):
        reports = lib.trash.keep_many(plan, progress=bar, cancel=token)
    problems = [p for r in reports for p in r.trash.problems]
    cancelled = token.cancelled
    ids = [i for r in reports for i in r.photo_ids]
    code = photos_changed(lib, ids, WHY, args) if ids else EXIT_OK
    if args.json:
        emit_json(reports)
    else:
        for r in reports:
            _say_moved(r)
        moved = sum(len(r.trash.trashed) for r in reports)
        print(f"Kept {plural(len(reports), 'copy')}; moved {plural(moved, 'photo')} to the "
              "trash.", file=sys.stderr)
    _problems(problems)
    if cancelled or any(r.trash.cancelled for r in reports):
        return EXIT_INTERRUPTED
    return EXIT_ERROR if problems else code


def _photos(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("photos", nargs="+" if required else "*", metavar="PHOTO",
                   help="photos by id (as `glimpse search` shows) or path")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _trash_args(p: argparse.ArgumentParser) -> None:
    _photos(p, required=False)
    p.add_argument("--list", action="store_true",
                   help="list Recently deleted (as `glimpse deleted`)")
    p.add_argument("--keeping", metavar="PHOTO",
                   help="the photos are copies of PHOTO: it gets their albums, names, "
                        "captions, stars and favourite before they go")
    p.add_argument("--purge", action="store_true",
                   help="delete these photos of Recently deleted for good (asks; --yes)")
    p.add_argument("--empty", action="store_true",
                   help="delete everything in Recently deleted for good (asks; --yes)")
    p.add_argument("--yes", action="store_true", help="agree to --purge or --empty")


def _restore_args(p: argparse.ArgumentParser) -> None:
    _photos(p, required=True)


def _deleted_args(p: argparse.ArgumentParser) -> None:
    del p   # only --json, which the CLI adds


VERBS = [
    Verb("trash", "move photos to the system trash, with their RAW and sidecar files "
         "(Recently deleted keeps them 30 days)", cmd_trash, _trash_args),
    Verb("restore", "put photos from Recently deleted back where they were, with their "
         "albums, people and captions", cmd_restore, _restore_args),
    Verb("deleted", "Recently deleted: photos moved to the trash, with the days left",
         cmd_deleted, _deleted_args),
]
