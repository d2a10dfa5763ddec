"""The hooks glimpse-colors implements: the module the ``glimpse_desktop.plugins`` entry point
names. Each function is one extension point of kernel/hookspecs.py, marked ``@hookimpl``;
Glimpse calls them by name and joins every plugin's lists."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from glimpse_desktop.api import (
    Condition,
    FilterContext,
    PhotoAction,
    PluginMigration,
    QueryError,
    SearchFilter,
)
from glimpse_desktop.cli.common import EXIT_ERROR, EXIT_OK, emit_json
from glimpse_desktop.cli.verbs import Verb
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.kernel.progress import CancelToken, Progress, ProgressCallback

from glimpse_colors import store
from glimpse_colors.palette import PALETTE, SIDE, dominant
from glimpse_colors.stage import ColorStage

# Other words people use for a palette colour.
SYNONYMS = {"gray": "grey", "violet": "purple", "magenta": "pink", "tan": "brown"}


@hookimpl
def glimpse_migrations() -> list[PluginMigration]:
    """The plugin's tables (store.py), made when a library opens."""
    return list(store.MIGRATIONS)


@hookimpl
def glimpse_stages(library: Any) -> list[ColorStage]:
    """The batch stage that finds each photo's dominant colours (new photos as they are
    read, older ones by catch-up)."""
    return [ColorStage()]


@hookimpl
def glimpse_photo_text(conn: Connection, photo_id: int) -> list[tuple[str, str]]:
    """A photo's colour names as tags in the full-text index: a plain search for "red"
    finds red photos."""
    colors = store.colors_of(conn, photo_id)
    return [("tags", " ".join(name for name, _share in colors))] if colors else []


# ---------------------------------------------------------------- color:NAME


def _color_name(value: str) -> str:
    name = SYNONYMS.get(value.strip().lower(), value.strip().lower())
    if name not in PALETTE:
        raise QueryError(f"color:{value} is not a colour glimpse-colors knows "
                         f"({', '.join(PALETTE)})", code="colors.unknown",
                         values={"value": value, "colors": list(PALETTE)})
    return name


def _narrow(context: FilterContext, value: str) -> Condition:
    return Condition("p.id IN (SELECT photo_id FROM colors_photo WHERE color = ?)",
                     (_color_name(value),))


def _values(conn: Connection, limit: int) -> list[str]:
    found = store.counts(conn)
    return sorted((name for name in found if found[name]), key=lambda n: -found[n])[:limit]


@hookimpl
def glimpse_search_filters() -> list[SearchFilter]:
    """``color:red``: photos where red is a dominant colour."""
    return [SearchFilter("color", "a colour: red, blue, green…", _narrow, values=_values,
                         check=_color_name, nothing="no photo is mostly {value}")]


# ---------------------------------------------------------------- glimpse colors [PHOTO]


def _find_photo(conn: Connection, ref: str) -> dict[str, Any] | None:
    by_id = int(ref) if ref.isdigit() else None
    return conn.row("SELECT id, path FROM photos WHERE id = ? OR path = ?",
                    (by_id, os.path.realpath(os.path.expanduser(ref))))


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photo", nargs="?", metavar="PHOTO",
                        help="a photo (its path or id): its colours; without it, the palette "
                             "with how many photos each colour dominates")


def _run(library: Any, args: argparse.Namespace) -> int:
    conn = library.reader()
    if args.photo is None:
        counts = store.counts(conn)
        data = {"colors": [{"color": name, "photos": n} for name, n in counts.items()],
                "photos_looked_at": store.looked_at(conn),
                "photos_owed": ColorStage().backlog_count(conn)}
        if args.json:
            emit_json(data)
            return EXIT_OK
        for name, n in counts.items():
            print(f"{name:<8}{n:>8,}")
        if data["photos_owed"]:
            print(f"{data['photos_owed']:,} photos are not looked at yet: "
                  "`glimpse index` finds their colours")
        return EXIT_OK
    photo = _find_photo(conn, args.photo)
    if photo is None:
        print(f"glimpse colors: {args.photo} is not a photo of this library")
        return EXIT_ERROR
    colors = store.colors_of(conn, int(photo["id"]))
    if args.json:
        emit_json({"id": photo["id"], "path": photo["path"],
                   "colors": None if colors is None else
                   [{"color": name, "share": share} for name, share in colors]})
    elif colors is None:
        print(f"{photo['path']}: not looked at yet (`glimpse index` does it)")
    else:
        print(f"{photo['path']}: {_words(colors) or 'no dominant colour'}")
    return EXIT_OK


def _words(colors: Sequence[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {share:.0%}" for name, share in colors)


@hookimpl
def glimpse_cli_verbs() -> list[Verb]:
    """``glimpse colors [PHOTO] [--json]``."""
    return [Verb("colors", "dominant colours: the palette with counts, or one photo's",
                 _run, _arguments)]


# ---------------------------------------------------------------- the window's photo menu


def show_colors(library: Any, photo_ids: Sequence[int], progress: ProgressCallback,
                cancel: CancelToken) -> str:
    """Each selected photo's dominant colours, in words. A photo not looked at yet is looked
    at now (from its file; nothing is stored: indexing does that)."""
    conn = library.reader()
    lines = []
    for done, photo_id in enumerate(photo_ids, 1):
        cancel.raise_if_cancelled()
        row = conn.row("SELECT path FROM photos WHERE id = ?", (photo_id,))
        if row is None:
            continue
        colors = store.colors_of(conn, photo_id)
        if colors is None:
            image = library.full_image(photo_id, max_edge=4 * SIDE).convert("RGB")
            colors = dominant(np.asarray(image.resize((SIDE, SIDE)), dtype=np.uint8))
        name = os.path.basename(str(row["path"]))
        lines.append(f"{name}: {_words(colors) or 'no dominant colour'}")
        progress(Progress("Show dominant colours", "colors", done, len(photo_ids)))
    return "\n".join(lines) or "no photo selected"


@hookimpl
def glimpse_photo_actions() -> list[PhotoAction]:
    """"Show dominant colours" in the window's photo menu."""
    return [PhotoAction(id="colors.show", label="Show dominant colours", run=show_colors)]
