"""The captions feature's verb: ``glimpse caption``, photos described by a vision model,
after the person has seen what is sent, to whom, and what it costs."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from glimpse_desktop.api import CAPTION_KEY_ENV as ENV_CAPTION_KEY
from glimpse_desktop.api import CAPTION_LARGE_RUN as LARGE_RUN
from glimpse_desktop.api import Estimate, LibraryError
from glimpse_desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    HINTS,
    confirm,
    emit_json,
    job,
    photos_changed,
    plural,
    said,
)
from glimpse_desktop.cli.verbs import Library, Verb

__all__ = ["VERBS"]


def _estimate_text(est: Estimate) -> str:
    cost = ("unknown" if est.cost_usd is None else f"about ${est.cost_usd:.2f}")
    return (f"{plural(est.photos, 'photo')} to caption: {est.cached} from the cache "
            f"(free), {plural(est.to_send, 'request')} to {est.host} "
            f"(model {est.model}); cost {cost} ({est.basis}).")


def cmd_caption(lib: Library, args: argparse.Namespace) -> int:
    caps = lib.captions
    prompt = args.prompt
    if args.prompt_file:
        try:
            prompt = Path(args.prompt_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise LibraryError(f"cannot read {args.prompt_file}: {exc.strerror or exc}") from exc
    enabled = bool(lib.config.get("caption.enabled"))
    turn_on = "turn it on with `glimpse config set caption.enabled true`"
    chosen: dict[str, Any] = {"where": args.where, "limit": args.limit, "prompt": prompt,
                              "replace": args.replace}
    if args.dry_run:
        est = caps.estimate(**chosen)
        dest = caps.destination()
        if args.json:
            emit_json({"estimate": est, "destination": dest, "consented": caps.consented(),
                         "ready": said(caps.ready())})
            return EXIT_OK
        print(caps.consent_text())
        if dest.key_source is None:
            print(f"To set the key: {HINTS['captions.no_key']({'env': ENV_CAPTION_KEY})}.")
        print(_estimate_text(est))
        print("Dry run: nothing was sent." + ("" if enabled else
                                              f" Captioning is off: {turn_on}."))
        return EXIT_OK
    if not enabled:
        raise LibraryError(
            "captioning is off for this library. It sends a downscaled copy of each photo to "
            "the vision service you choose (see `glimpse config list`, caption.*); "
            f"{turn_on} (`glimpse caption --dry-run` shows what would be sent)")
    dest = caps.destination()
    if dest.key_source is None:
        raise LibraryError(f"no API key for {dest.host}: set GLIMPSE_CAPTION_API_KEY (or "
                           "the provider's usual variable) or run `glimpse config set-key`")
    if not caps.consented():
        shown = caps.consent_record()
        print(caps.consent_text(), file=sys.stderr)
        if not confirm("Send photos for captioning on these terms?", args.yes):
            print("Nothing was sent.", file=sys.stderr)
            return EXIT_ERROR
        caps.give_consent(expected=shown)
    problem = caps.ready()
    if problem is not None:
        raise LibraryError.of(problem)
    est = caps.estimate(**chosen)
    if est.to_send > LARGE_RUN or (est.cost_usd or 0) > 0:
        print(_estimate_text(est), file=sys.stderr)
        if not confirm("Go ahead?", args.yes):
            print("Nothing was sent.", file=sys.stderr)
            return EXIT_ERROR
    with job(args.quiet or args.json) as (bar, token):
        report = caps.run(**chosen, max_cost=args.max_cost, progress=bar, cancel=token)
    if args.json:
        emit_json(asdict(report))
    else:
        cost = "" if report.cost_usd is None else f"; cost about ${report.cost_usd:.4f}"
        print(f"Captioned {report.captioned} of {plural(report.photos, 'photo')} "
              f"({report.from_cache} from the cache, {report.plain_text} as plain text); "
              f"{report.failed} failed{cost}.")
        for error in report.errors[:10]:
            print(f"  {error['path']}: {error['reason']}", file=sys.stderr)
        if report.stopped_by_cap:
            print("Stopped at the cost cap; run again (with a higher --max-cost) to go on.",
                  file=sys.stderr)
    if report.cancelled:
        print(f"stopped; {plural(report.captioned, 'caption')} kept, run again to go on",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if report.failed:
        return EXIT_ERROR
    return photos_changed(lib, report.photo_ids, "captions", args)


def _caption_args(p: argparse.ArgumentParser) -> None:
    prompt = p.add_mutually_exclusive_group()
    prompt.add_argument("--prompt", metavar="TEXT", help="ask this instead of the default")
    prompt.add_argument("--prompt-file", metavar="FILE", help="ask what this file says")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N photos")
    p.add_argument("--where", metavar="QUERY",
                   help='only photos this search finds, e.g. "after:2023 place:Lisbon"')
    p.add_argument("--dry-run", action="store_true",
                   help="say what would be sent, to whom, and the cost; send nothing")
    p.add_argument("--replace", action="store_true",
                   help="also redo captions another model or prompt wrote (never yours)")
    p.add_argument("--max-cost", type=float, default=None, metavar="USD",
                   help="stop when the run has cost this much (default: caption.max_cost)")
    p.add_argument("--yes", action="store_true",
                   help="agree to what is sent and to the estimate without asking")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


VERBS = [
    Verb("caption", "describe photos with a vision model (OpenAI-compatible service, cloud or "
         "local) so search finds them by what is in them; asks before anything is sent",
         cmd_caption, _caption_args),
]
