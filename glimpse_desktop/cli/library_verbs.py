"""The verbs of the library itself, which belong to no feature: its folders (add, remove,
forget-missing), reading them (index, watch), what it holds (status, info, errors,
thumbnail)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from typing import Any

from glimpse_desktop.api import date_source_text
from glimpse_desktop.api.library import (
    ERROR_STAGES,
    AlreadyInLibraryError,
    DecodeError,
    IndexReport,
    Library,
    LibraryError,
    StorageError,
)
from glimpse_desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Interrupt,
    emit_json,
    job,
    people_count,
    plural,
    say,
)
from glimpse_desktop.cli.judge_verbs import info_lines
from glimpse_desktop.cli.verbs import Verb
from glimpse_desktop.kernel.progress import CancelToken

__all__ = ["VERBS"]


def _report_json(report: IndexReport) -> dict[str, Any]:
    """A run's counts for scripts; the ids of every photo written stay in the API (a first
    index of 100k photos would print them all)."""
    out = asdict(report)
    out["photos_written"] = len(out.pop("photo_ids"))
    out["vanished"] = len(out["vanished"])
    return out


def _report_text(report: IndexReport, *, brief: bool = False) -> str:
    parts = [f"{report.new} new", f"{report.updated} updated", f"{report.moved} moved",
             f"{report.unchanged} unchanged", f"{report.missing} missing"]
    if brief:  # only what happened
        parts = [p for p in parts if not p.startswith("0 ")]
        if report.errors:
            parts.append(f"{report.errors} errors")
        for name in ("restored", "offline", "skipped"):
            if getattr(report, name):
                parts.append(f"{getattr(report, name)} {'back' if name == 'restored' else name}")
        return ", ".join(parts) or "no change"
    if report.restored:
        parts.append(f"{report.restored} back")
    if report.offline:
        parts.append(f"{report.offline} offline")
    if report.skipped:
        parts.append(f"{report.skipped} skipped")
    if report.unread:
        parts.append(f"{report.unread} not read (drive gone)")
    parts.append(f"{report.errors} errors")
    return ", ".join(parts)


# ---------------------------------------------------------------------------- verbs


def cmd_add(lib: Library, args: argparse.Namespace) -> int:
    for folder in args.folders:
        try:
            added = lib.add_root(folder)
        except AlreadyInLibraryError as exc:
            print(f"glimpse: {exc} (nothing to do)", file=sys.stderr)
            continue
        msg = f"Added {added.path}"
        if added.absorbed:
            msg += f" (now includes {', '.join(added.absorbed)})"
        print(msg)
    print("Run `glimpse index` to read the photos, or `glimpse watch` to keep the library in "
          "step with these folders.", file=sys.stderr)
    return EXIT_OK


def cmd_remove(lib: Library, args: argparse.Namespace) -> int:
    for folder in args.folders:
        n = lib.remove_root(folder)
        print(f"Removed {os.path.abspath(folder)} from the library ({n} photos forgotten; "
              "no file was touched)")
    return EXIT_OK


def cmd_index(lib: Library, args: argparse.Namespace) -> int:
    with job(args.quiet) as (bar, token):
        report = lib.index(args.folders or None, progress=bar, cancel=token)
    if args.json:
        emit_json(_report_json(report))
    else:
        print(f"Indexed in {report.seconds:.1f} s: {_report_text(report)}")
        people = lib.people.status()
        if people.problem:
            print(f"  People: faces cannot be found: {say(people.problem)}",
                  file=sys.stderr)
        elif people.enabled and people.faces:
            print(f"  People: {plural(report.faces, 'face')} found; "
                  f"{people_count(people.people)} from {plural(people.faces, 'face')}"
                  + (f" ({report.people_new} new)" if report.people_new else "")
                  + (f", {people.waiting} faces waiting for more photos of the same person"
                     if people.waiting else "") + "; `glimpse people` lists them")
        if report.places:
            print(f"  Places: {plural(report.places, 'photo')} placed or re-placed; "
                  "`glimpse places` lists them")
        if report.albums:
            print(f"  Albums: {plural(report.albums, 'event or trip album')} made or "
                  "updated; `glimpse albums list` shows them")
        if report.embedded or report.embed_errors:
            print(f"  embedded {report.embedded} earlier photos for search"
                  + (f" ({report.embed_errors} could not be)" if report.embed_errors else ""))
        search = lib.semantic.status()
        if search.missing is not None:
            print(f"  search by content is off: {say(search.missing)}", file=sys.stderr)
        for line in report.offline_roots:
            print(f"  offline: {line}")
        for name, why in report.follow_up_problems.items():
            # The photos were read: the exit status stays theirs.
            print(f"  after reading, {name} failed: {why}", file=sys.stderr)
        if report.errors:
            print("  `glimpse errors` lists the files that could not be read.", file=sys.stderr)
    if report.cancelled:
        print("Interrupted: what was read is saved; run `glimpse index` again to finish.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    for line in report.lost_roots:
        folder, _, why = line.partition(": ")
        print(f"glimpse: {folder} went away while it was being read ({why}); its photos are "
              "kept, marked offline"
              + (f", and {plural(report.unread, 'file')} were not read" if report.unread
                 else "")
              + ". Reconnect it and run `glimpse index` again.", file=sys.stderr)
    if report.lost_roots:
        return EXIT_ERROR
    return EXIT_OK


def cmd_watch(lib: Library, args: argparse.Namespace) -> int:
    # Captions for new photos (caption.auto) start from the change chain the watcher runs
    # after each batch, in a thread of their own.
    def on_report(why: str, report: IndexReport) -> None:
        if args.json:
            print(json.dumps({"event": why, **_report_json(report)}, default=str), flush=True)
        elif report.new or report.updated or report.moved or report.missing or report.errors \
                or report.offline or report.restored or why.startswith(("offline", "back")):
            people = (f"; {people_count(report.people_new)} new in People"
                      if report.people_new else "")
            print(f"{time.strftime('%H:%M:%S')} {why}: {_report_text(report, brief=True)}"
                  f"{people}", flush=True)

    if args.settle < 0:
        raise LibraryError("--settle must be 0 seconds or more")
    token = CancelToken()
    watcher = lib.watcher(settle=args.settle, on_report=on_report)
    roots = lib.roots()
    if not roots:
        raise LibraryError("the library has no photo folders yet: add one with "
                           "`glimpse add FOLDER`")
    print(f"Watching {plural(len(roots), 'folder')} (and any added later); Ctrl-C to stop.",
          file=sys.stderr)
    started = time.monotonic()
    told: set[str] = set()
    unload_check = started
    with Interrupt(token), watcher:
        while not token.wait(0.5):
            if time.monotonic() - unload_check >= 2.0:
                # Models idle for `models.unload_after` minutes give their memory back; the
                # next photo loads them again.
                unload_check = time.monotonic()
                freed = lib.unload_idle()
                if freed and args.json:
                    print(json.dumps({"event": "models unloaded", "models": freed}),
                          flush=True)
            for problem in list(watcher.problems):
                if problem not in told:
                    told.add(problem)
                    print(f"glimpse: {problem}", file=sys.stderr, flush=True)
            if watcher.error is not None:
                error = watcher.error
                if isinstance(error, LibraryError | StorageError):
                    raise error
                raise LibraryError(f"watching stopped: {type(error).__name__}: {error}")
            if args.duration and time.monotonic() - started >= args.duration:
                break
    return EXIT_OK


def cmd_forget_missing(lib: Library, args: argparse.Namespace) -> int:
    gone = lib.forget_missing(dry_run=args.dry_run)
    if args.json:
        emit_json({"dry_run": args.dry_run, "photos": gone})
        return EXIT_OK
    for photo in gone:
        print(photo.path + (f"  (missing since {photo.missing_since})"
                            if photo.missing_since else ""))
    verb = "Would forget" if args.dry_run else "Forgot"
    print(f"{verb} {plural(len(gone), 'missing photo')}"
          + ("" if gone else " (every photo's file is where the library expects it)")
          + (" with their faces, tags and thumbnails" if gone and not args.dry_run else "")
          + "; photos on unplugged drives are kept.", file=sys.stderr)
    return EXIT_OK


def cmd_status(lib: Library, args: argparse.Namespace) -> int:
    status = lib.status()
    if args.json:
        emit_json(status)
        return EXIT_OK
    print(f"Library: {status.library}")
    print(f"  {status.photos} photos, {status.missing} missing, {status.offline} "
          f"offline, {status.unsupported} unsupported, {status.errors} errors, "
          f"{status.warnings} warnings")
    search = status.search
    if search.missing is not None:
        print(f"  Search by content: off ({say(search.missing)})")
    else:
        line = f"  Search by content: {search.embedded} photos embedded with {search.active}"
        if search.backlog:
            line += f", {search.backlog} to do (`glimpse index`)"
        if search.target != search.active:
            line += f"; switching to {search.target}"
        print(line)
    people = status.people
    if not people.enabled:
        print("  People: off (`glimpse people on`)")
    elif people.problem:
        print(f"  People: faces cannot be found: {say(people.problem)}")
    else:
        line = (f"  People: {people_count(people.people)} ({people.named} named) from "
                f"{plural(people.faces, 'face')}, {people.waiting} waiting")
        if people.backlog:
            line += f"; {plural(people.backlog, 'photo')} to look at (`glimpse index`)"
        print(line)
    places = status.places
    if places.placed or places.inferred:
        print(f"  Places: {places.placed} photos placed by GPS, {places.inferred} "
              f"inferred, in {places.countries} countries (`glimpse places`)")
    if not status.roots:
        print("  No photo folders yet: `glimpse add FOLDER`.")
    for r in status.roots:
        scanned = f"scanned {r.last_scan_at}" if r.last_scan_at else "never scanned"
        state = r.status if r.present else "not found now (drive unplugged?)"
        print(f"  {r.path} [{state}] {r.photos} photos, {r.missing} missing, "
              f"{r.offline} offline, {r.errors} errors, {r.warnings} warnings "
              f"— {scanned}")
    return EXIT_OK


def cmd_info(lib: Library, args: argparse.Namespace) -> int:
    info = lib.photo(args.photo)
    if info is None:
        problems = [] if args.photo.isdigit() else lib.file_errors(args.photo)
        if problems:
            if args.json:
                emit_json({"path": problems[0].path, "in_library": False,
                             "errors": problems})
                return EXIT_ERROR
            reasons = "; ".join(f"{e.stage}: {e.reason}" for e in problems)
            raise LibraryError(f"{problems[0].path} is not in the library: {reasons}")
        raise LibraryError(f"no photo {args.photo!r} in this library (give an id or a path)")
    if args.json:
        emit_json(info)
        return EXIT_OK
    print(f"#{info.id} {info.path} [{info.status}]")
    if info.damaged:
        print("  damaged         the file is damaged: what it says about itself was kept, and "
              "as much of its picture as decodes is shown (the rest grey)")
    # Where the date came from, in words: "set by you" says a set-date can be undone.
    print(f"  taken           {info.taken_at} "
          f"({date_source_text(info.taken_at_source) or 'no date'})")
    print(f"  size            {info.width}x{info.height} {info.format}, "
          f"orientation {info.orientation}, {info.size} bytes")
    # A RAW+JPEG pair is one photo with two files: both are named, from either side.
    for c in info.companions:
        print(f"  also the file   {c.path} ({c.format or 'RAW'}, {c.size} bytes"
              + (f", {c.status})" if c.status != "ok" else ")"))
    if info.companion_of is not None:
        print(f"  kept with       #{info.companion_of} (the photo shown; this is its RAW file)")
    for line in info_lines(info):   # favourite, rejected, stars, rotation
        print(line)
    make, model = info.camera.make or "", info.camera.model or ""
    # "Canon" + "Canon EOS R5" reads as "Canon EOS R5", not "Canon Canon EOS R5".
    cam = model if make and model.lower().startswith(make.split()[0].lower()) else \
        f"{make} {model}".strip()
    if cam:
        print(f"  camera          {cam}" + (f", {info.lens}" if info.lens else ""))
    exp = info.exposure
    bits = []
    if exp.time:
        t = exp.time
        bits.append(f"1/{round(1 / t)} s" if 0 < t < 1 else f"{t:g} s")
    if exp.f_number:
        bits.append(f"f/{exp.f_number:g}")
    if exp.iso:
        bits.append(f"ISO {exp.iso}")
    if exp.focal_length:
        bits.append(f"{exp.focal_length:g} mm")
    if bits:
        print(f"  exposure        {', '.join(bits)}")
    if info.gps:
        g = info.gps
        alt = f", {g.alt:.0f} m" if g.alt is not None else ""
        print(f"  gps             {g.lat:.6f}, {g.lon:.6f}{alt}"
              + (" (set by you)" if info.gps_source == "manual" else ""))
    elif info.gps_source == "manual":
        print("  gps             none (cleared by you)")
    place = info.place
    if place:
        names = ", ".join(dict.fromkeys(n for n in (place.city, place.region,
                                                    place.country) if n))
        how = (f" (inferred from photo {place.from_photo}, taken minutes apart with the "
               "same camera)" if place.source == "inferred" else "")
        print(f"  place           {names}{how}")
    caption = info.caption
    if caption:
        who = "yours" if caption.source == "user" else caption.model or caption.source
        print(f"  caption         {caption.summary[:200]} ({who})")
    for text in info.texts:
        if text.source == "caption" and text.field == "caption":
            continue        # shown just above
        value = text.value.replace("\n", " ")
        print(f"  {text.field.replace('_', ' '):<15} {value[:200]} ({text.source})")
    for e in info.errors:
        print(f"  error           {e.stage}: {e.reason}")
    return EXIT_OK


def cmd_errors(lib: Library, args: argparse.Namespace) -> int:
    rows = lib.errors(limit=args.limit, stage=args.stage)
    if args.json:
        emit_json(rows)
        return EXIT_OK
    if not rows:
        print("No errors.")
    for r in rows:
        print(f"{r.stage:<9} {r.path}: {r.reason}")
    return EXIT_OK



def cmd_thumbnail(lib: Library, args: argparse.Namespace) -> int:
    try:
        path = lib.thumbnail(args.photo, "preview" if args.preview else "grid")
    except DecodeError as exc:
        raise LibraryError(f"cannot make a thumbnail: {exc}") from exc
    if args.json:
        emit_json({"path": str(path)})
    else:
        print(path)
    return EXIT_OK


# ---------------------------------------------------------------------------- arguments


def _folders(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="+", metavar="FOLDER")


def _index_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="*", metavar="FOLDER")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _watch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--settle", type=float, default=1.0, metavar="SECONDS",
                   help="how long a file must stay unchanged before it is read (default 1)")
    p.add_argument("--duration", type=float, default=0.0, metavar="SECONDS",
                   help=argparse.SUPPRESS)


def _forget_missing_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="list them, forget nothing")


def _photo_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("photo", metavar="PHOTO", help="photo id or path")


def _errors_args(p: argparse.ArgumentParser) -> None:
    # Not ``choices``: a plugin's stage is known only once the library is open (_errors).
    p.add_argument("--stage", metavar="STAGE",
                   help="only this stage's errors: one of " + ", ".join(ERROR_STAGES)
                   + ", or a plugin's stage (metadata: warnings about single fields)")
    p.add_argument("--limit", type=int, default=None)


def _errors(lib: Library, args: argparse.Namespace) -> int:
    """``errors``, its ``--stage`` checked against Glimpse's stages and the loaded ones."""
    if args.stage is not None and args.stage not in ERROR_STAGES:
        known = list(dict.fromkeys([*ERROR_STAGES, *lib.stage_names()]))
        if args.stage not in known:
            print(f"glimpse errors: error: argument --stage: invalid choice: {args.stage!r} "
                  f"(choose from {', '.join(known)})", file=sys.stderr)
            raise SystemExit(EXIT_USAGE)
    return cmd_errors(lib, args)


def _thumbnail_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("photo", metavar="PHOTO", help="photo id or path")
    p.add_argument("--preview", action="store_true", help="the large (1280 px) preview instead")


VERBS = [
    Verb("add", "add photo folders to the library (files are never changed)", cmd_add,
         _folders, json=False, library="create"),
    Verb("remove", "forget photo folders (files are never touched)", cmd_remove, _folders,
         json=False),
    Verb("index", "read new and changed photos in all folders (or the given ones)", cmd_index,
         _index_args),
    Verb("watch", "keep the library in step with its folders until Ctrl-C", cmd_watch,
         _watch_args),
    Verb("status", "counts of photos, missing, offline and errors, per folder", cmd_status),
    Verb("forget-missing",
         "forget photos whose files were deleted (not those on unplugged drives)",
         cmd_forget_missing, _forget_missing_args),
    Verb("info", "everything the library knows about one photo", cmd_info, _photo_arg),
    Verb("errors", "files that could not be read, and why", _errors, _errors_args),
    Verb("thumbnail", "path of a photo's cached thumbnail (made if missing)", cmd_thumbnail,
         _thumbnail_args),
]
