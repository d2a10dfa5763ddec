"""Map benchmark: prints JSON lines, asserts nothing (not part of the test suite).

A library of --photos photos, 80% with GPS in bursts around 2,000 random towns (a few km
across), the rest without; then, as the window asks for them:
  load          the first clusters asked for: the photos on the map read into arrays
  clusters      then the markers of the whole world at zooms 2, 5 and 8, and of a city's
                view at zoom 13 (PhotoMap.clusters: counted in numpy, cells joined in Python)
  area          the photos of a country-sized area (PhotoMap.photos_in)
  counts        photos on the map and without a place

    python bench/map.py [--photos 1000000] [--library PATH (kept, filled once)]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from glimpse_desktop.api import Library, MapArea


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "map", **fields}), flush=True)


def fill(lib: Library, n: int, rng: np.random.Generator) -> None:
    towns = np.column_stack([np.degrees(np.arcsin(rng.uniform(-0.8, 0.9, 2000))),
                             rng.uniform(-180, 180, 2000)])
    pick = rng.integers(0, len(towns), n)
    lat = towns[pick, 0] + rng.normal(0, 0.03, n)
    lon = towns[pick, 1] + rng.normal(0, 0.03, n)
    has = rng.uniform(0, 1, n) < 0.8
    ts = rng.uniform(1.0e9, 1.7e9, n)
    batch = 50_000
    for start in range(0, n, batch):
        rows = [(i + 1, f"/p/{i}.jpg", "/p", f"{i}.jpg", 1, 1, f"h{i}", float(ts[i]),
                 float(lat[i]) if has[i] else None, float(lon[i]) if has[i] else None)
                for i in range(start, min(n, start + batch))]
        lib.writer.call(lambda c, rows=rows: c.executemany(
            "INSERT INTO photos(id, path, folder, filename, size, mtime_ns, content_hash, "
            "added_at, updated_at, taken_ts, gps_lat, gps_lon) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, '2024-01-01', '2024-01-01', ?, ?, ?)", rows))


def timed(fn):  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(3):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=1_000_000)
    ap.add_argument("--library", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.library or Path(tmp) / "library.sqlite3"
        fresh = not path.exists()
        lib = Library.open(path)
        t = time.perf_counter()
        if fresh:
            fill(lib, args.photos, np.random.default_rng(19))
        emit(step="fill", photos=args.photos, seconds=round(time.perf_counter() - t, 2),
             machine=platform.machine())
        t = time.perf_counter()
        lib.map.clusters(0)
        emit(step="load", ms=round((time.perf_counter() - t) * 1000, 1))
        for zoom in (2, 5, 8):
            s, view = timed(lambda zoom=zoom: lib.map.clusters(zoom))
            emit(step="clusters", zoom=zoom, area="world", ms=round(s * 1000, 1),
                 clusters=len(view.clusters), photos=view.photos)
        city = lib.map.clusters(10).clusters[0]
        area = MapArea(city.lat - 0.1, city.lon - 0.2, city.lat + 0.1, city.lon + 0.2)
        s, view = timed(lambda: lib.map.clusters(13, area))
        emit(step="clusters", zoom=13, area="city", ms=round(s * 1000, 1),
             clusters=len(view.clusters), photos=view.photos)
        country = MapArea(city.lat - 5, city.lon - 5, city.lat + 5, city.lon + 5)
        s, found = timed(lambda: lib.map.photos_in(country))
        emit(step="area", ms=round(s * 1000, 1), photos=len(found))
        s, counts = timed(lib.map.counts)
        emit(step="counts", ms=round(s * 1000, 1), on_map=counts.on_map,
             without=counts.without)
        lib.close()


if __name__ == "__main__":
    main()
