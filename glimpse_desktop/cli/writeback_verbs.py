"""The write-back feature's verb: ``glimpse writeback``, what the library knows written to
XMP sidecars beside the photos or into the JPEGs."""

from __future__ import annotations

import argparse
import sys

from glimpse_desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    emit_json,
    job,
    plural,
)
from glimpse_desktop.cli.verbs import Library, Verb

__all__ = ["VERBS"]


def cmd_writeback(lib: Library, args: argparse.Namespace) -> int:
    if args.target is None:   # the settings (sidecars unless changed)
        sidecar = bool(lib.config.get("writeback.sidecar"))
        embed = bool(lib.config.get("writeback.embed"))
        if not (sidecar or embed):
            sidecar = True
    else:
        sidecar, embed = args.target in ("sidecar", "both"), args.target in ("embed", "both")
    if args.dry_run:
        plan = lib.writeback.plan(sidecar=sidecar, embed=embed)
        if args.json:
            emit_json(plan)
            return EXIT_OK
        counts: dict[str, int] = {}
        for item in plan:
            counts[item.action] = counts.get(item.action, 0) + 1
            if item.action in ("create", "update"):
                print(f"{item.action:<7} {item.target_path}  ({item.reason})")
        print(", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
              or "Nothing to write.", file=sys.stderr)
        return EXIT_OK
    with job(args.quiet) as (bar, token):
        report = lib.writeback.run(sidecar=sidecar, embed=embed, progress=bar, cancel=token)
    if args.json:
        emit_json(report)
    else:
        where = " and ".join(w for w, on in (("sidecars", sidecar), ("the JPEGs", embed)) if on)
        print(f"Wrote {plural(report.written, 'file')} ({where}); {report.unchanged} "
              f"unchanged, {report.skipped} with nothing to write or not supported, "
              f"{report.failed} failed.")
        for err in report.errors:
            print(f"  failed: {err.path}: {err.reason}", file=sys.stderr)
    if report.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_ERROR if report.failed else EXIT_OK



def _writeback_args(p: argparse.ArgumentParser) -> None:
    target = p.add_mutually_exclusive_group()
    target.add_argument("--sidecar", dest="target", action="store_const", const="sidecar",
                        help="XMP sidecars only (photo.jpg.xmp); the photos are not changed")
    target.add_argument("--embed", dest="target", action="store_const", const="embed",
                        help="into the JPEG files (description, keywords, XMP; pixels and "
                             "other metadata kept byte for byte)")
    target.add_argument("--both", dest="target", action="store_const", const="both",
                        help="sidecars and JPEGs")
    p.add_argument("--dry-run", action="store_true", help="list what would be written")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


VERBS = [
    Verb("writeback", "write names, captions, tags and ratings to XMP sidecars beside the "
         "photos (read by digiKam, darktable, Lightroom), or into the JPEGs with --embed",
         cmd_writeback, _writeback_args),
]
