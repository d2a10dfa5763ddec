"""The places feature's verb: ``glimpse places``, where the photos were taken."""

from __future__ import annotations

import argparse
import sys

from glimpse_desktop.api import PlaceCity, PlaceCountry, PlaceRegion
from glimpse_desktop.cli.common import EXIT_INTERRUPTED, EXIT_OK, emit_json, job, plural
from glimpse_desktop.cli.verbs import Library, Verb

__all__ = ["VERBS"]


def _print_place_tree(tree: list[PlaceCountry]) -> None:
    def line(depth: int, node: PlaceCountry | PlaceRegion | PlaceCity, unnamed: str) -> None:
        inferred = f" ({node.inferred} inferred)" if node.inferred else ""
        print(f"{'  ' * depth}{node.name or unnamed}  {node.photos}{inferred}")

    for country in tree:
        line(0, country, "")
        for region in country.regions:
            line(1, region, "(no region)")
            for city in region.cities:
                line(2, city, "(far from any town)")


def cmd_places(lib: Library, args: argparse.Namespace) -> int:
    # Bring places up to date first: a no-op when nothing changed, and on a library read
    # before Places existed it finds every photo's place once (with a progress bar).
    with job(args.quiet) as (bar, token):
        report = lib.places.update(progress=bar, cancel=token)
    if report.cancelled:
        print("Interrupted: the places found so far are saved; run `glimpse places` again "
              "to finish.", file=sys.stderr)
        return EXIT_INTERRUPTED
    tree = lib.places.tree()
    if args.json:
        emit_json(tree)
        return EXIT_OK
    _print_place_tree(tree)
    status = lib.places.status()
    if not tree:
        print(f"No photo has a place yet: places come from the GPS coordinates in the photos "
              f"({plural(lib.status().with_gps, 'photo')} with GPS).",
              file=sys.stderr)
    else:
        countries = status.countries
        print(f"{plural(status.placed + status.inferred, 'photo')} in "
              f"{plural(status.cities, 'place')} of {countries} "
              f"{'country' if countries == 1 else 'countries'}"
              + (f"; {status.inferred} inferred from photos taken minutes apart with the "
                 "same camera" if status.inferred else "")
              + (f"; {status.nowhere} with GPS far from any known place"
                 if status.nowhere else ""), file=sys.stderr)
    return EXIT_OK



def _places_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


VERBS = [
    Verb("places", "where your photos were taken: countries, regions and cities with counts "
         "(updated first, offline)", cmd_places, _places_args),
]
