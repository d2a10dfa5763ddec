"""The places feature's search filter: ``place:NAME``, photos taken in a city, region or
country of that name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from glimpse_desktop.search.filters import NONE, Condition, FilterContext, SearchFilter

if TYPE_CHECKING:
    from glimpse_desktop.kernel.db import Connection


def _tidy(value: str) -> str:
    return " ".join(value.split())


def _place(context: FilterContext, value: str) -> Condition:
    """place:Lisbon is the city, the region and the country of that name, whichever exist; a
    place never visited matches nothing (an honest empty answer, which search explains)."""
    # The places service (and its geocoder) loads when a search names a place.
    from glimpse_desktop.places.service import match_place

    found = match_place(context.conn, value)
    names = (found.cities, found.regions, found.countries)
    either = [f"{column} IN ({','.join('?' * len(values))})"
              for column, values in zip(("city", "region", "country"), names, strict=True)
              if values]
    if not either:
        return NONE
    return Condition(f"p.id IN (SELECT photo_id FROM photo_places WHERE {' OR '.join(either)})",
                     tuple(v for values in names for v in values))


def names(conn: Connection, limit: int) -> list[str]:
    """Place names (cities, regions, countries), most photographed first."""
    from glimpse_desktop.places.service import place_names

    return place_names(conn, limit)


PLACE = SearchFilter("place", "a place", _place, values=names, check=_tidy,
                     nothing="no photo was taken in a place called {value!r}")
