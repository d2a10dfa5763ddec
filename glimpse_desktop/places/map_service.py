"""The map: photos with coordinates as clustered markers for a zoom, the photos of an area,
and (places/tiles.py) street tiles when the person turned them on.

The photos on the map are read once into arrays (half a second at a million photos) and kept
while nothing is written to the library (SQLite's ``data_version``, per connection); each
zoom's clusters are then counted from them in numpy and joined across cell edges by
places/mapgrid.py. ``Library.map`` is this service.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from glimpse_desktop.kernel.config import Config
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.places import map_store, mapgrid
from glimpse_desktop.places.map_records import (
    BAD_ZOOM,
    MapArea,
    MapAreaError,
    MapCounts,
    MapView,
)
from glimpse_desktop.places.tiles import TileSource

__all__ = ["PhotoMap"]


class PhotoMap:
    """Where the photos were taken, on a map."""

    def __init__(self, reader: Callable[[], Connection], config: Config,
                 cache_dir: Path) -> None:
        self._reader = reader
        self._config = config
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        self._points: mapgrid.Points | None = None
        # data_version as each reader connection (one per thread) last saw it while the
        # points were known to be current.
        self._seen: dict[int, int] = {}

    def _current(self) -> mapgrid.Points:
        conn = self._reader()
        with self._lock:
            version = map_store.data_version(conn)
            if self._points is None or self._seen.get(id(conn)) != version:
                self._points = mapgrid.Points.of(*map_store.points(conn))
                self._seen = {}
            self._seen[id(conn)] = version
            return self._points

    def clusters(self, zoom: int, area: MapArea | None = None) -> MapView:
        """The markers at ``zoom`` (0: the whole world in one 256-pixel tile, up to
        ``mapgrid.MAX_ZOOM``) for the photos within ``area`` (None: everywhere)."""
        if not isinstance(zoom, int) or not 0 <= zoom <= mapgrid.MAX_ZOOM:
            raise MapAreaError(f"zoom must be a whole number from 0 to {mapgrid.MAX_ZOOM}, "
                               f"not {zoom!r}", code=BAD_ZOOM, values={"zoom": zoom})
        clusters = mapgrid.merge(mapgrid.grid_cells(self._current(), zoom, area), zoom)
        return MapView(zoom=zoom, area=area, clusters=tuple(clusters),
                       photos=sum(c.count for c in clusters))

    def photos_in(self, area: MapArea) -> list[int]:
        """Ids of the photos taken within ``area``, newest first."""
        return map_store.photos_in(self._reader(), area)

    def counts(self) -> MapCounts:
        """How many photos are on the map, and how many have no coordinates."""
        on_map, without = map_store.counts(self._reader())
        return MapCounts(on_map=on_map, without=without)

    def tiles(self) -> TileSource | None:
        """Where street-map tiles come from, or None while ``map.tiles`` is off (then the
        map asks no server for anything)."""
        if not self._config.get("map.tiles"):
            return None
        return TileSource(str(self._config.get("map.tile_url")), self._cache_dir)
