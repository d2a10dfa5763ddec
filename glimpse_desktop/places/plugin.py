"""The places feature's contributions, through the hooks of kernel/hookspecs.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glimpse_desktop.kernel.changes import WHEN_WHERE, Change, FollowUp
from glimpse_desktop.kernel.config import Key
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.places.filters import PLACE
from glimpse_desktop.places.tiles import SETTINGS as MAP_SETTINGS
from glimpse_desktop.search.filters import SearchFilter

if TYPE_CHECKING:
    from glimpse_desktop.places.service import PlacesReport


@hookimpl
def glimpse_search_filters() -> list[SearchFilter]:
    """``place:NAME``: photos taken in a city, region or country of that name."""
    return [PLACE]


def _update_places(library: Any, change: Change) -> PlacesReport | None:
    # An index's places pass also finishes what a stopped one left (cheap when nothing
    # changed: one query); a watcher batch that changed no photo has nothing to place.
    if change.nothing and change.why != "indexed":
        return None
    report: PlacesReport = library.places.update(progress=change.progress,
                                                 cancel=change.cancel)
    return report


@hookimpl
def glimpse_follow_ups() -> list[FollowUp]:
    """``places``: photos with new or changed coordinates are placed, places inferred for
    photos near them in time."""
    return [FollowUp("places", _update_places, when=WHEN_WHERE)]



@hookimpl
def glimpse_settings() -> list[Key]:
    """``map.tiles`` (street maps from a tile server, off until turned on) and
    ``map.tile_url``."""
    return list(MAP_SETTINGS)
