"""The faces feature's search filter: ``person:NAME``, the photos a person is in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from glimpse_desktop.search.filters import Condition, FilterContext, SearchFilter
from glimpse_desktop.search.query import QueryError

if TYPE_CHECKING:
    from glimpse_desktop.kernel.db import Connection

# The faces' store loads when a search names a person, not with every command.


def _tidy(value: str) -> str:
    return " ".join(value.split())


def _person(context: FilterContext, name: str) -> Condition:
    """The photos of the people ``name`` names: the person of that exact name if there is
    one, otherwise everyone whose name starts with those words (person:barack finds Barack
    Obama). A name nobody has is a typo far more often than an empty answer."""
    from glimpse_desktop.faces import store

    ids = store.people_called(context.conn, name)
    if not ids:
        raise QueryError(f"nobody is named {name!r} in People", code="search.unknown_person",
                         values={"name": name})
    # Every person: filter must be in the photo (person:ada person:bob: both of them).
    return Condition(f"p.id IN (SELECT photo_id FROM faces WHERE person_id IN "
                     f"({','.join('?' * len(ids))}))", tuple(ids))


def _names(conn: Connection, limit: int) -> list[str]:
    """People's names, alphabetically (hidden people left out)."""
    from glimpse_desktop.faces import store

    return store.names(conn, limit)


PERSON = SearchFilter("person", "a name", _person, values=_names, check=_tidy,
                      nothing="no photo shows {value}")
