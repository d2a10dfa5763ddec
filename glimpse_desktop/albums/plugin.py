"""The albums feature's contributions, through the hooks of kernel/hookspecs.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glimpse_desktop.albums.filters import ALBUM
from glimpse_desktop.kernel.changes import WHEN_WHERE, Change, FollowUp
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.search.filters import SearchFilter

if TYPE_CHECKING:
    from glimpse_desktop.albums.auto import AutoAlbumReport


@hookimpl
def glimpse_search_filters() -> list[SearchFilter]:
    """``album:NAME``: the photos of an album (a smart album's search, run now)."""
    return [ALBUM]


def _update_albums(library: Any, change: Change) -> AutoAlbumReport | None:
    # Events and trips group around what changed (a fraction of a second at 100k photos
    # when little did); an index also finishes what a stopped pass left.
    if change.nothing and change.why != "indexed":
        return None
    report: AutoAlbumReport = library.auto_albums.update(progress=change.progress,
                                                         cancel=change.cancel)
    return report


@hookimpl
def glimpse_follow_ups() -> list[FollowUp]:
    """``albums``: automatic albums (events, trips) follow the photos, after ``places`` so
    their titles can name the places."""
    return [FollowUp("albums", _update_albums, after=("places",), when=WHEN_WHERE)]

