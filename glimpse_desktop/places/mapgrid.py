"""The map's geometry and clustering, apart from any storage: Web Mercator (the projection of
every web map and of OpenStreetMap's tiles) and the grid clusters markers are made of.

At zoom ``z`` the world is a square of ``256 * 2**z`` pixels. Photos (``Points``: arrays, so
a million of them are counted in a few hundred milliseconds, never one Python object each)
are first counted per cell of a grid of ``CELL_PX`` pixels (``grid_cells``); then ``merge``
joins neighbouring cells whose centres lie closer than a marker's reach, as supercluster
does, so that a town on a cell's edge is one marker, not two or four.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from glimpse_desktop.places.map_records import MapArea, MapCluster

__all__ = ["CELL_PX", "MAX_LAT", "MAX_ZOOM", "TILE_PX", "Cell", "Points", "cells_per_side",
           "grid_cells", "lat_lon", "merge", "world_xy"]

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


@dataclass(frozen=True, slots=True)
class Points:
    """Photos on the map as arrays: ``ids``, ``lat``, ``lon`` (degrees), ``ts`` (time taken,
    -1e18 undated), and ``x``, ``y`` (``world_xy`` of each); oldest first (then by id), so
    that the last photo of a cell is its newest."""

    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    ts: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def of(cls, ids: np.ndarray, lat: np.ndarray, lon: np.ndarray, ts: np.ndarray
           ) -> Points:
        """The points of these arrays (given in id order), put in time order."""
        # A stable sort keeps the id order among photos taken at the same time.
        order = np.argsort(ts, kind="stable")
        ids, lat, lon, ts = ids[order], lat[order], lon[order], ts[order]
        s = np.sin(np.radians(np.clip(lat, -MAX_LAT, MAX_LAT)))
        x = (lon + 180.0) / 360.0
        y = 0.5 - np.log((1 + s) / (1 - s)) / (4 * math.pi)
        return cls(ids, lat, lon, ts, x, y)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def within(self, area: MapArea | None) -> np.ndarray:
        """Which points lie in ``area`` (a boolean mask; all of them for None)."""
        if area is None:
            return np.ones(len(self), dtype=bool)
        mask = (self.lat >= area.south) & (self.lat <= area.north)
        if area.crosses_antimeridian:
            return mask & ((self.lon >= area.west) | (self.lon <= area.east))
        return mask & (self.lon >= area.west) & (self.lon <= area.east)


def grid_cells(points: Points, zoom: int, area: MapArea | None = None) -> list[Cell]:
    """The points (within ``area``) counted per grid cell of ``zoom``: each cell's count,
    mean position, extent and newest photo."""
    mask = points.within(area)
    if not mask.any():
        return []
    n = cells_per_side(zoom)
    lat, lon, ts, ids = points.lat[mask], points.lon[mask], points.ts[mask], points.ids[mask]
    cx = np.clip((points.x[mask] * n).astype(np.int64), 0, n - 1)
    cy = np.clip((points.y[mask] * n).astype(np.int64), 0, n - 1)
    key = cx * n + cy
    # By cell, keeping the points' time order within it: a cell's last row is its newest.
    order = np.argsort(key, kind="stable")
    key, lat, lon = key[order], lat[order], lon[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], key.shape[0]]
    counts = ends - starts
    sums_lat = np.add.reduceat(lat, starts)
    sums_lon = np.add.reduceat(lon, starts)
    south, north = np.minimum.reduceat(lat, starts), np.maximum.reduceat(lat, starts)
    west, east = np.minimum.reduceat(lon, starts), np.maximum.reduceat(lon, starts)
    last = order[ends - 1]
    cell_keys = key[starts]
    return [Cell(int(k // n), int(k % n), int(c), float(sa / c), float(so / c), float(s),
                 float(w), float(no), float(e), float(t), int(i))
            for k, c, sa, so, s, w, no, e, t, i in zip(
                cell_keys, counts, sums_lat, sums_lon, south, west, north, east,
                ts[last], ids[last], strict=True)]


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
