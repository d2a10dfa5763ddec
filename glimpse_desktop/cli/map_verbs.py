"""The map's verb: ``glimpse map``, the photos' places as clusters, or the photos of an area.

    glimpse map                                  how many photos are on the map
    glimpse map --clusters [--zoom Z] [--area S,W,N,E]   the markers the window shows at Z
    glimpse map --area S,W,N,E                   the photos taken in that area, newest first
"""

from __future__ import annotations

import argparse
import sys

from glimpse_desktop.api import MAP_MAX_ZOOM, LibraryError, MapArea, MapAreaError
from glimpse_desktop.cli.common import EXIT_OK, emit_json, plural
from glimpse_desktop.cli.verbs import Library, Verb

__all__ = ["VERBS"]


def _area(text: str | None) -> MapArea | None:
    if text is None:
        return None
    try:
        return MapArea.parse(text)
    except MapAreaError as exc:
        raise LibraryError(f"cannot read --area: {exc}") from exc


def cmd_map(lib: Library, args: argparse.Namespace) -> int:
    area = _area(args.area)
    if args.clusters:
        try:
            view = lib.map.clusters(args.zoom, area)
        except MapAreaError as exc:
            raise LibraryError(f"cannot read --zoom: {exc}") from exc
        if args.json:
            emit_json(view)
            return EXIT_OK
        for c in view.clusters:
            print(f"{c.lat:10.5f} {c.lon:11.5f}  {c.count:>7}  {c.photo_id:>8}")
        print(f"{plural(view.photos, 'photo')} in {plural(len(view.clusters), 'cluster')} at "
              f"zoom {view.zoom} (columns: latitude, longitude, photos, newest photo's id)",
              file=sys.stderr)
        return EXIT_OK
    if area is not None:
        rows = lib.photo_rows(lib.map.photos_in(area))
        if args.json:
            emit_json(rows)
            return EXIT_OK
        for row in rows:
            mark = "" if row.status == "ok" else f" [{row.status}]"
            print(f"{row.id:>7}  {row.path}{mark}")
        print(f"{plural(len(rows), 'photo')} taken in that area", file=sys.stderr)
        return EXIT_OK
    counts = lib.map.counts()
    if args.json:
        emit_json(counts)
        return EXIT_OK
    print(f"Photos on the map: {counts.on_map}, without a place: {counts.without}")
    return EXIT_OK


def _map_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--area", metavar="S,W,N,E",
                   help="an area in decimal degrees (south,west,north,east; west > east "
                        "crosses the 180th meridian): its photos, or with --clusters the "
                        "clusters within it; write --area=-34,18,-33,19 when it starts "
                        "with a minus")
    p.add_argument("--clusters", action="store_true",
                   help="the clustered markers the map shows at --zoom")
    p.add_argument("--zoom", type=int, default=2, metavar="Z",
                   help=f"the map's zoom for --clusters: 0 (the whole world in 256 pixels) "
                        f"to {MAP_MAX_ZOOM} (a street); default 2")


VERBS = [
    Verb("map", "the photos on a world map: clusters per zoom, or the photos taken in an "
         "area (offline)", cmd_map, _map_args),
]
