"""The ``glimpse`` command: the parser built from every verb, the dispatch, and errors turned
into messages and exit codes.

The verbs come from the CLI's own modules (the library's verbs, each feature's verbs in the
order ``features.py`` gives, then the tools; all of them phrase what the API reports, so
they live here, with the CLI's words) and from installed plugins through the
``glimpse_cli_verbs`` hook. A plugin's verb that cannot be added
(its arguments fail, its name is taken) is left out and listed by ``glimpse plugins``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

from glimpse_desktop import __version__
from glimpse_desktop.api import load_plugins
from glimpse_desktop.api.library import (
    Library,
    LibraryError,
    LibraryPaths,
    ModelError,
    StorageError,
)
from glimpse_desktop.cli import (
    albums_verbs,
    captions_verbs,
    edit_verbs,
    faces_verbs,
    judge_verbs,
    library_verbs,
    map_verbs,
    places_verbs,
    search_verbs,
    timeline_verbs,
    tool_verbs,
    trash_verbs,
    writeback_verbs,
)
from glimpse_desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    say,
    terminal_safe_output,
)
from glimpse_desktop.cli.verbs import Verb
from glimpse_desktop.kernel.paths import ENV_LIBRARY

__all__ = ["build_parser", "main", "verbs"]

# The built-in features' verbs, in the order features.py lists the features.
FEATURE_VERBS: tuple[Verb, ...] = (*search_verbs.VERBS, *faces_verbs.VERBS, *places_verbs.VERBS,
                                   *map_verbs.VERBS,
                                   *albums_verbs.VERBS, *captions_verbs.VERBS,
                                   *writeback_verbs.VERBS, *trash_verbs.VERBS)


def verbs() -> tuple[list[Verb], dict[str, str]]:
    """Every verb, in the order ``glimpse --help`` lists them, and the contributions left
    out (by verb name, or the contributed object, with why). Glimpse's own verbs come from
    the CLI's modules; an installed plugin's from its ``glimpse_cli_verbs``."""
    contributed = load_plugins().collect("glimpse_cli_verbs")
    found: list[Verb] = []
    left_out: dict[str, str] = {}
    taken: set[str] = set()
    for verb in [*library_verbs.VERBS, *timeline_verbs.VERBS, *edit_verbs.VERBS,
                 *judge_verbs.VERBS, *FEATURE_VERBS, *contributed, *tool_verbs.VERBS]:
        if not isinstance(verb, Verb):
            left_out[repr(verb)[:60]] = "not a glimpse_desktop.cli.verbs.Verb"
            continue
        clash = taken & {verb.name, *verb.aliases}
        if clash:
            left_out[verb.name] = f"another verb is called {', '.join(sorted(clash))}"
            continue
        try:
            # A trial on a parser of its own, made as the real one is (its -h, its --json):
            # one whose arguments fail there is not half-added to the real parser.
            _add_arguments(argparse.ArgumentParser(prog=f"glimpse {verb.name}"), verb)
        except Exception as exc:  # a plugin's broken verb is reported, never fatal
            left_out[verb.name] = f"its arguments failed: {type(exc).__name__}: {exc}"
            continue
        taken |= {verb.name, *verb.aliases}
        found.append(verb)
    return found, left_out


def build_parser(chosen: Sequence[Verb] | None = None) -> argparse.ArgumentParser:
    """The parser of ``glimpse`` with ``chosen`` verbs (default: every verb)."""
    parser = argparse.ArgumentParser(
        prog="glimpse",
        description="Glimpse Desktop: a private photo library on your own machine.",
    )
    parser.add_argument("--version", action="version", version=f"glimpse {__version__}")
    parser.add_argument("--library", metavar="PATH",
                        help=f"library file (default: ${ENV_LIBRARY} or the user data folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for verb in verbs()[0] if chosen is None else chosen:
        p = sub.add_parser(verb.name, help=verb.help, description=verb.help,
                           aliases=list(verb.aliases))
        p.set_defaults(_verb=verb)
        _add_arguments(p, verb)
    return parser


def _add_arguments(p: argparse.ArgumentParser, verb: Verb) -> None:
    """A verb's options on its parser: ``--json`` for a verb that has it, then its own."""
    if verb.json:
        p.add_argument("--json", action="store_true", help="machine-readable output")
    if verb.add_arguments is not None:
        verb.add_arguments(p)


def _default_actions(argv: list[str], defaults: Mapping[str, str]) -> list[str]:
    """`glimpse people --json` means `glimpse people list --json` (``Verb.default_action``)."""
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
        if token in defaults and rest and rest[0].startswith("-") \
                and rest[0] not in ("-h", "--help"):
            return [*argv[:i + 1], defaults[token], *rest]
        return argv
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``glimpse`` with ``argv`` (default: the process's arguments); the exit code."""
    with terminal_safe_output():
        return _main(argv)


def _main(argv: Sequence[str] | None = None) -> int:
    chosen, left_out = verbs()
    parser = build_parser(chosen)
    defaults = {name: verb.default_action for verb in chosen if verb.default_action
                for name in (verb.name, *verb.aliases)}
    args, extra = parser.parse_known_args(
        _default_actions(list(sys.argv[1:] if argv is None else argv), defaults))
    verb: Verb | None = getattr(args, "_verb", None)
    if extra:
        if verb is None or verb.rest is None:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        # `glimpse text-search beach -night`: an excluded word is not an option.
        setattr(args, verb.rest, [*getattr(args, verb.rest), *extra])
    if verb is None:
        parser.print_help()
        return EXIT_USAGE
    args.verbs_left_out = left_out
    lib: Library | None = None
    try:
        # Only `add` creates a library: a mistyped --library path must not quietly become a
        # new, empty one. Models belong to the person, not to a library.
        if verb.library in ("open", "create") or (
                verb.library == "if_exists"
                and LibraryPaths.resolve(args.library).library.exists()):
            # The models ingestion runs (the face pack: ONNX graphs to clean, OpenVINO to
            # compile) load when a verb first reads photos, not for every verb: a search
            # needs none of them. `plugins` lists the stages that failed to load, so it
            # loads them at once.
            lib = Library.open(args.library, create=verb.library == "create",
                               load_models=verb.name == "plugins")
    except (LibraryError, StorageError) as exc:
        print(f"glimpse: {say(exc)}", file=sys.stderr)
        return EXIT_ERROR
    try:
        return verb.run(lib, args)
    except (LibraryError, ModelError) as exc:
        print(f"glimpse: {say(exc)}", file=sys.stderr)
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
    except Exception as exc:
        if verb.run.__module__.startswith("glimpse_desktop."):
            raise       # Glimpse's own bug: the traceback is the report
        # An installed plugin's verb that fails says so, and names the plugin's code.
        print(f"glimpse: {verb.name} (from {verb.run.__module__}) failed: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if lib is not None:
            lib.close()
