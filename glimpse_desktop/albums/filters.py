"""The albums feature's search filter: ``album:NAME``, the photos of an album (a smart
album's are what its saved search finds now)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from glimpse_desktop.search.filters import FilterContext, SearchFilter
from glimpse_desktop.search.query import QueryError

if TYPE_CHECKING:
    from glimpse_desktop.kernel.db import Connection

# The albums' store (and the events and places it reads) loads when a search names an album
# or the filter's values are listed, not with every command that registers the filter.


def _tidy(value: str) -> str:
    return " ".join(value.split())


def _album(context: FilterContext, name: str) -> set[int]:
    """The photos of the albums ``name`` names: the album of that title (any case), else
    albums whose titles start with those words, else the album with that id."""
    from glimpse_desktop.albums import store

    conn = context.conn
    albums = store.filter_albums(conn, name)
    if not albums:
        raise QueryError(f"there is no album called {name!r}", code="search.unknown_album",
                         values={"name": name})
    ids: set[int] = set()
    for album_id, kind, query in albums:
        if kind != "smart":
            ids.update(store.member_ids(conn, album_id))
            continue
        # album: filters may name smart albums whose searches name albums in turn; deeper
        # than this is a loop (an album whose search includes itself).
        if context.too_deep:
            raise QueryError(f"album:{name} is a smart album whose search leads back to "
                             "itself", code="search.album_loop", values={"name": name})
        ids.update(context.search(str(query or "")))
    return ids


def _titles(conn: Connection, limit: int) -> list[str]:
    """Album titles: the person's own albums first, then Glimpse's, newest first."""
    from glimpse_desktop.albums import store

    return store.titles(conn, limit)


ALBUM = SearchFilter("album", "an album", _album, values=_titles, check=_tidy,
                     nothing="the album {value!r} has no photos")
