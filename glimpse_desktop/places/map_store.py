"""The map's reads: the photos with coordinates (for clustering), the photos of an area, and
how many photos have coordinates. Photos the views show only (kernel/photos.py's rule: not
missing, not a RAW kept as its JPEG's companion, not in the trash)."""

from __future__ import annotations

import itertools

import numpy as np

from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.photos import FLAG_TRASHED
from glimpse_desktop.places.map_records import MapArea

_SHOWN = ("p.status IN ('ok', 'offline') AND p.companion_of IS NULL "
          f"AND (p.flags & {FLAG_TRASHED}) = 0")
_ON_MAP = f"p.gps_lat IS NOT NULL AND p.gps_lon IS NOT NULL AND {_SHOWN}"

def _area_sql(area: MapArea | None) -> tuple[str, list[float]]:
    if area is None:
        return "", []
    if area.crosses_antimeridian:
        return (" AND p.gps_lat BETWEEN ? AND ? AND (p.gps_lon >= ? OR p.gps_lon <= ?)",
                [area.south, area.north, area.west, area.east])
    return (" AND p.gps_lat BETWEEN ? AND ? AND p.gps_lon BETWEEN ? AND ?",
            [area.south, area.north, area.west, area.east])


def points(conn: Connection) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ids, latitudes, longitudes, times) of every photo on the map, as arrays, in id order
    (times: -1e18 for an undated photo). One plain scan streamed into numpy: at a million
    photos that costs about half a second, where a GROUP BY on computed cells cost three."""
    cursor = conn.execute(
        f"SELECT p.id, p.gps_lat, p.gps_lon, coalesce(p.taken_ts, -1e18) FROM photos p "
        f"WHERE {_ON_MAP} ORDER BY p.id")
    table = np.fromiter(itertools.chain.from_iterable(cursor), np.float64).reshape(-1, 4)
    return (table[:, 0].astype(np.int64), table[:, 1].copy(), table[:, 2].copy(),
            table[:, 3].copy())


def data_version(conn: Connection) -> int:
    """SQLite's count of commits other connections made that this one has seen: unchanged,
    nothing was written since this connection last asked."""
    return int(conn.one("PRAGMA data_version"))


def photos_in(conn: Connection, area: MapArea) -> list[int]:
    """Ids of the photos taken within ``area``, newest first."""
    where, params = _area_sql(area)
    return [int(r[0]) for r in conn.execute(
        f"SELECT p.id FROM photos p WHERE {_ON_MAP}{where} "
        "ORDER BY p.taken_ts IS NULL, p.taken_ts DESC, p.id DESC", params)]


def counts(conn: Connection) -> tuple[int, int]:
    """(photos with coordinates, photos without) among those shown."""
    r = conn.execute(
        f"SELECT count(*) FILTER (WHERE p.gps_lat IS NOT NULL AND p.gps_lon IS NOT NULL), "
        f"count(*) FILTER (WHERE p.gps_lat IS NULL OR p.gps_lon IS NULL) "
        f"FROM photos p WHERE {_SHOWN}").fetchone()
    return (int(r[0] or 0), int(r[1] or 0)) if r else (0, 0)
