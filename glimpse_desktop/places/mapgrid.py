"""The map's geometry and clustering, apart from any storage: Web Mercator (the projection of
every web map and of OpenStreetMap's tiles) and the grid clusters markers are made of.

At zoom ``z`` the world is a square of ``256 * 2**z`` pixels. Photos are first counted per
cell of a grid of ``CELL_PX`` pixels (the store does that in one SQL ``GROUP BY``, so a
million photos never reach Python); then ``merge`` joins neighbouring cells whose centres lie
closer than a marker's reach, as supercluster does, so that a town on a cell's edge is one
marker, not two or four.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from glimpse_desktop.places.map_records import MapCluster

__all__ = ["CELL_PX", "MAX_LAT", "MAX_ZOOM", "TILE_PX", "Cell", "cells_per_side", "lat_lon",
           "merge", "world_xy"]

TILE_PX = 256
# Web Mercator stops here: the world is a square.
MAX_LAT = 85.0511287798066
# OpenStreetMap's tiles go to 19; past it a marker stands for photos taken metres apart.
MAX_ZOOM = 19
# A cluster gathers the photos of a cell of this many pixels (a marker is about half of it).
CELL_PX = 64


def cells_per_side(zoom: int) -> int:
    """The grid's cells along one side of the world at ``zoom``."""
    return (TILE_PX // CELL_PX) << max(0, zoom)


def world_xy(lat: float, lon: float) -> tuple[float, float]:
    """A place as a fraction of the Mercator square: (0, 0) north-west, (1, 1) south-east."""
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    s = math.sin(math.radians(lat))
    x = (lon + 180.0) / 360.0
    y = 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)
    return x, y


def lat_lon(x: float, y: float) -> tuple[float, float]:
    """The place at a fraction of the Mercator square (``world_xy``'s inverse); ``x`` wraps
    around the world, ``y`` is held within it."""
    y = max(0.0, min(1.0, y))
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))
    lon = ((x % 1.0) * 360.0) - 180.0 if not 0 <= x <= 1 else x * 360.0 - 180.0
    return lat, lon


@dataclass(frozen=True, slots=True)
class Cell:
    """The photos of one grid cell: ``count`` of them, their mean position, their extent,
    and the newest (``newest``: its time, -1e18 undated; ``photo_id``: its id)."""

    cx: int
    cy: int
    count: int
    lat: float
    lon: float
    south: float
    west: float
    north: float
    east: float
    newest: float
    photo_id: int


def merge(cells: Iterable[Cell], zoom: int, *, reach_px: float = CELL_PX) -> list[MapCluster]:
    """Clusters of ``cells`` at ``zoom``: the fullest cell first takes each neighbouring cell
    whose centre is within ``reach_px`` of its own, and stands for them all (count, mean,
    extent, newest photo). Most photos first."""
    side = TILE_PX * float(2 ** zoom)
    by_cell: dict[tuple[int, int], Cell] = {}
    for cell in cells:
        by_cell[(cell.cx, cell.cy)] = cell
    taken: set[tuple[int, int]] = set()
    out: list[MapCluster] = []
    for key, cell in sorted(by_cell.items(), key=lambda kv: (-kv[1].count, kv[0])):
        if key in taken:
            continue
        taken.add(key)
        x0, y0 = world_xy(cell.lat, cell.lon)
        group = [cell]
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                other = by_cell.get((cell.cx + dx, cell.cy + dy))
                if other is None or (other.cx, other.cy) in taken:
                    continue
                x1, y1 = world_xy(other.lat, other.lon)
                if math.hypot((x1 - x0) * side, (y1 - y0) * side) <= reach_px:
                    taken.add((other.cx, other.cy))
                    group.append(other)
        out.append(_joined(group))
    out.sort(key=lambda c: (-c.count, c.photo_id))
    return out


def _joined(group: list[Cell]) -> MapCluster:
    count = sum(c.count for c in group)
    newest = max(group, key=lambda c: (c.newest, c.photo_id))
    return MapCluster(
        lat=sum(c.lat * c.count for c in group) / count,
        lon=sum(c.lon * c.count for c in group) / count,
        count=count, photo_id=newest.photo_id,
        south=min(c.south for c in group), west=min(c.west for c in group),
        north=max(c.north for c in group), east=max(c.east for c in group))
