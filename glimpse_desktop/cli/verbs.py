"""What a command of the ``glimpse`` CLI is: the ``Verb`` record that the CLI's own modules and
every feature (built-in or installed) contribute through the ``glimpse_cli_verbs`` hook.

A plugin's verb, in full::

    from glimpse_desktop.cli.common import EXIT_OK, emit_json
    from glimpse_desktop.cli.verbs import Verb
    from glimpse_desktop.kernel.hookspecs import hookimpl

    def _arguments(parser):
        parser.add_argument("photo", metavar="PHOTO")

    def _run(library, args):
        colour = ...
        emit_json(colour) if args.json else print(colour)
        return EXIT_OK

    @hookimpl
    def glimpse_cli_verbs():
        return [Verb("colour", "the dominant colour of a photo", _run, _arguments)]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from glimpse_desktop.api.library import Library

__all__ = ["LIBRARY_USES", "Library", "LibraryUse", "Verb", "actions"]

# How a verb uses the library file (``--library`` or the default one):
LibraryUse = Literal[
    "open",       # it must exist; a missing or foreign file is refused in plain words
    "create",     # made if it does not exist yet (only `add`: a typo never makes a library)
    "if_exists",  # opened when the file exists, else ``run`` gets None (models: the person's)
    "none",       # never opened; ``run`` gets None (doctor, plugins)
]
LIBRARY_USES: tuple[LibraryUse, ...] = ("open", "create", "if_exists", "none")


@dataclass(frozen=True)
class Verb:
    """One command of the ``glimpse`` CLI.

    ``name``: the word on the command line; ``help``: one line for ``glimpse --help`` (and
    the verb's own description); ``run(library, args)`` does the work and returns the exit
    code (``cli.common.EXIT_*``); ``add_arguments(parser)`` adds the verb's arguments to its
    argparse sub-parser. ``json``: the CLI adds ``--json`` (output for scripts, written with
    ``cli.common.emit_json``). ``library``: how the verb uses the library file (one of
    ``LIBRARY_USES``). ``aliases``: other words for the same verb. ``rest``: the name of a
    list argument that words looking like options join (``glimpse search beach -night``:
    ``-night`` excludes a word, it is not an option). ``default_action``: for a verb with
    actions, the action that ``glimpse VERB --flag`` means (``glimpse people --json`` lists).

    A verb that changes photos reports it with ``library.photos_changed(ids, why)`` and shows
    what followed with ``cli.common.report_changes``.
    """

    name: str
    help: str
    run: Callable[[Any, argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    json: bool = True
    library: LibraryUse = "open"
    aliases: tuple[str, ...] = ()
    rest: str | None = None
    default_action: str | None = None

    def __post_init__(self) -> None:
        if self.library not in LIBRARY_USES:
            raise ValueError(f"verb {self.name!r}: library must be one of {LIBRARY_USES}, "
                             f"not {self.library!r}")


def actions(p: argparse.ArgumentParser, dest: str
            ) -> tuple[Any, Callable[[str, str], argparse.ArgumentParser]]:
    """A verb's actions (`glimpse people list`, `glimpse albums show`): the sub-parsers, and
    a maker of one action, each with its own --json."""
    sub = p.add_subparsers(dest=dest, metavar="ACTION")
    json_opt = argparse.ArgumentParser(add_help=False)
    json_opt.add_argument("--json", action="store_true", help="machine-readable output")

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[json_opt])

    return sub, action
