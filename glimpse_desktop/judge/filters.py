"""``is:`` and ``rating:``: the photos a person kept, rated or rejected.

``is:favorite`` (``is:favourite``), ``is:rejected``, ``is:rated``, ``is:unrated``; ``-is:rejected``
leaves the rejects out (search/query.py reads ``-key:value`` as "not"). ``rating:3`` is exactly
three stars, ``rating:>=4``, ``rating:>3``, ``rating:<=2``, ``rating:<2`` compare, and
``rating:0`` is a photo without stars. A file rated -1 (Lightroom's reject) is rejected and has
no stars. Smart albums are saved searches, so they can use these too.
"""

from __future__ import annotations

import re

from glimpse_desktop.kernel import photos
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.search.filters import Condition, FilterContext, SearchFilter
from glimpse_desktop.search.query import QueryError

__all__ = ["FILTERS", "IS", "RATING"]

# Each word ``is:`` takes, to the condition on ``photos p``; the first spelling is the one
# the search box suggests.
_REJECTED = f"((p.flags & {photos.FLAG_REJECTED}) != 0 OR coalesce(p.rating, 0) < 0)"
_IS = {
    "favorite": f"(p.flags & {photos.FLAG_FAVORITE}) != 0",
    "favourite": f"(p.flags & {photos.FLAG_FAVORITE}) != 0",
    "fav": f"(p.flags & {photos.FLAG_FAVORITE}) != 0",
    "rejected": _REJECTED,
    "reject": _REJECTED,
    "rated": "coalesce(p.rating, 0) > 0",
    "unrated": "coalesce(p.rating, 0) <= 0",
}
_SUGGESTED_IS = ["favorite", "rejected", "rated", "unrated"]
_RATING = re.compile(r"(>=|<=|=>|=<|>|<|=)?\s*(\d+)(?:\s*stars?)?")
_RATING_HELP = "0 to 5 stars: rating:4, rating:>=4, rating:<=2 (rating:0: no stars)"


def _checked_is(value: str) -> str:
    word = value.strip().lower()
    if word not in _IS:
        raise QueryError(f"is:{value} is not something a photo can be "
                         f"({', '.join(_SUGGESTED_IS)})", code="search.unknown_is",
                         values={"value": value, "known": _SUGGESTED_IS})
    return word


def _is(_context: FilterContext, value: str) -> Condition:
    return Condition(_IS[_checked_is(value)])


def _parts(value: str) -> tuple[str, int]:
    m = _RATING.fullmatch(value.strip().lower())
    stars = int(m.group(2)) if m else -1
    if m is None or not 0 <= stars <= 5:
        raise QueryError(f"rating:{value} is not a rating: {_RATING_HELP}",
                         code="search.bad_rating", values={"value": value})
    op = {"=>": ">=", "=<": "<="}.get(m.group(1) or "=", m.group(1) or "=")
    return op, stars


def _checked_rating(value: str) -> str:
    op, stars = _parts(value)
    return str(stars) if op == "=" else f"{op}{stars}"


def _rating(_context: FilterContext, value: str) -> Condition:
    op, stars = _parts(value)
    # No stars, or a reject's -1, is 0 stars.
    return Condition(f"max(coalesce(p.rating, 0), 0) {op} ?", (stars,))


def _is_values(_conn: Connection, limit: int) -> list[str]:
    return _SUGGESTED_IS[:limit]


def _rating_values(_conn: Connection, limit: int) -> list[str]:
    return ["5", ">=4", ">=3", ">=1", "0"][:limit]


IS = SearchFilter("is", "favorite, rejected, rated, unrated", _is, values=_is_values,
                  check=_checked_is, nothing="no photo is {value}")
RATING = SearchFilter("rating", "stars: 4, >=4, <=2, 0 (no stars)", _rating,
                      values=_rating_values, check=_checked_rating,
                      nothing="no photo has a rating of {value}")
FILTERS = (IS, RATING)
