"""The map's reads: photos with coordinates counted per grid cell, the photos of an area, and
how many photos have coordinates. Photos the views show only (kernel/photos.py's rule: not
missing, not a RAW kept as its JPEG's companion, not in the trash)."""

from __future__ import annotations

from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.photos import FLAG_TRASHED
from glimpse_desktop.places.map_records import MapArea
from glimpse_desktop.places.mapgrid import MAX_LAT, Cell, cells_per_side

_SHOWN = ("p.status IN ('ok', 'offline') AND p.companion_of IS NULL "
          f"AND (p.flags & {FLAG_TRASHED}) = 0")
_ON_MAP = f"p.gps_lat IS NOT NULL AND p.gps_lon IS NOT NULL AND {_SHOWN}"

# Web Mercator's x and y as fractions of the world (mapgrid.world_xy in SQL): computing the
# cell in SQLite keeps the million rows of a big library out of Python.
_LAT = f"max(-{MAX_LAT}, min({MAX_LAT}, p.gps_lat))"
_X = "((p.gps_lon + 180.0) / 360.0)"
_Y = (f"(0.5 - ln((1 + sin(radians({_LAT}))) / (1 - sin(radians({_LAT})))) "
      "/ (4 * pi()))")


def _area_sql(area: MapArea | None) -> tuple[str, list[float]]:
    if area is None:
        return "", []
    if area.crosses_antimeridian:
        return (" AND p.gps_lat BETWEEN ? AND ? AND (p.gps_lon >= ? OR p.gps_lon <= ?)",
                [area.south, area.north, area.west, area.east])
    return (" AND p.gps_lat BETWEEN ? AND ? AND p.gps_lon BETWEEN ? AND ?",
            [area.south, area.north, area.west, area.east])


def cells(conn: Connection, zoom: int, area: MapArea | None) -> list[Cell]:
    """The photos on the map (within ``area``) counted per grid cell of ``zoom``."""
    n = cells_per_side(zoom)
    where, params = _area_sql(area)
    # SQLite takes the bare column id from the row holding max(): the newest photo.
    rows = conn.execute(
        f"""SELECT cx, cy, count(*), avg(lat), avg(lon), min(lat), min(lon), max(lat),
                   max(lon), max(ts), id FROM (
              SELECT p.id AS id, p.gps_lat AS lat, p.gps_lon AS lon,
                     coalesce(p.taken_ts, -1e18) AS ts,
                     min({n - 1}, max(0, CAST({_X} * {n} AS INTEGER))) AS cx,
                     min({n - 1}, max(0, CAST({_Y} * {n} AS INTEGER))) AS cy
              FROM photos p WHERE {_ON_MAP}{where})
            GROUP BY cx, cy""", params)
    return [Cell(int(r[0]), int(r[1]), int(r[2]), float(r[3]), float(r[4]), float(r[5]),
                 float(r[6]), float(r[7]), float(r[8]), float(r[9]), int(r[10]))
            for r in rows]


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
