"""The faces feature's search filter: ``person:NAME``, the photos a person is in."""

from __future__ import annotations

from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.search.filters import Condition, FilterContext, SearchFilter
from glimpse_desktop.search.query import QueryError


def _like_exact(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _tidy(value: str) -> str:
    return " ".join(value.split())


def _person(context: FilterContext, name: str) -> Condition:
    """The photos of the people ``name`` names: the person of that exact name if there is
    one, otherwise everyone whose name starts with those words (person:barack finds Barack
    Obama). A name nobody has is a typo far more often than an empty answer."""
    conn = context.conn
    ids = [int(r[0]) for r in conn.execute(
        "SELECT id FROM people WHERE name = ? COLLATE NOCASE", (name,))]
    if not ids:
        ids = [int(r[0]) for r in conn.execute(
            "SELECT id FROM people WHERE name LIKE ? ESCAPE '\\'", (_like_exact(name) + " %",))]
    if not ids:
        raise QueryError(f"nobody is named {name!r} in People", code="search.unknown_person",
                         values={"name": name})
    # Every person: filter must be in the photo (person:ada person:bob: both of them).
    return Condition(f"p.id IN (SELECT photo_id FROM faces WHERE person_id IN "
                     f"({','.join('?' * len(ids))}))", tuple(ids))


def _names(conn: Connection, limit: int) -> list[str]:
    """People's names, alphabetically (hidden people left out)."""
    return [str(r["name"]) for r in conn.rows(
        "SELECT name FROM people WHERE name IS NOT NULL AND hidden = 0 ORDER BY name "
        "LIMIT ?", (limit,))]


PERSON = SearchFilter("person", "a name", _person, values=_names, check=_tidy,
                      nothing="no photo shows {value}")
