"""Automatic album figures (issue: events, trips, memories), one JSON line each:

- ``albums_build``: events and trips built from scratch for the whole library (``--photos``,
  100k by default): reading photos and places, grouping, writing the albums.
- ``albums_update``: the same library after ``--add`` (1k) new photos (an outing at home and
  a trip abroad after the last photo): the incremental update, which groups only the time
  around them.
- ``albums_update_idle``: an update with nothing new (what `glimpse events` costs each time).
- ``memories``: "on this day" and same-week events for one date.

The library is synthetic and built with SQL, as bench/gui.py does: years of outings at
home (Lisbon, bursts and quiet weeks) with trips abroad to cities on several continents, about
70% of photos with GPS and a ``photo_places`` row (what reverse geocoding writes). The files
do not exist; nothing here reads images. Place lookup rates are bench/places.py's.

    python bench/albums.py [--photos 100000] [--add 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

HOME = ("Lisbon", "Lisbon", "Portugal", "PT", 38.7223, -9.1393)
AWAY = [
    ("Porto", "Porto", "Portugal", "PT", 41.1579, -8.6291),
    ("Kyoto", "Kyoto", "Japan", "JP", 35.0116, 135.7681),
    ("Osaka", "Osaka", "Japan", "JP", 34.6937, 135.5023),
    ("Sydney", "New South Wales", "Australia", "AU", -33.8688, 151.2093),
    ("Buenos Aires", "Buenos Aires", "Argentina", "AR", -34.6037, -58.3816),
    ("New York", "New York", "United States", "US", 40.7128, -74.0060),
    ("Cape Town", "Western Cape", "South Africa", "ZA", -33.9249, 18.4241),
    ("Paris", "Île-de-France", "France", "FR", 48.8566, 2.3522),
]


class World:
    """Photo rows to insert: (ts, lat, lon, place) with place an index into the cities."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.rows: list[tuple[float, float | None, float | None, tuple[object, ...] | None]] = []

    def outing(self, day0: float, place: tuple[object, ...], n: int) -> None:
        """``n`` photos in bursts from a random hour of the day, at ``place``."""
        t = day0 + float(self.rng.uniform(8, 18)) * 3600
        lat, lon = float(place[4]), float(place[5])  # type: ignore[arg-type]
        for _ in range(n):
            t += float(self.rng.exponential(90 if self.rng.random() < 0.8 else 900))
            located = self.rng.random() < 0.7
            self.rows.append((t, lat + float(self.rng.normal(0, 0.02)) if located else None,
                              lon + float(self.rng.normal(0, 0.02)) if located else None,
                              place if located else None))

    def years(self, start: date, photos: int) -> None:
        day = datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()
        while len(self.rows) < photos:
            if self.rng.random() < 0.03:                                  # a trip abroad
                cities = self.rng.choice(len(AWAY), size=2, replace=False)
                for k in range(int(self.rng.integers(3, 8))):
                    self.outing(day, AWAY[int(cities[k * 2 // 7])], int(self.rng.integers(20, 120)))
                    day += 86400
            elif self.rng.random() < 0.35:                                # an outing at home
                self.outing(day, HOME, int(self.rng.choice([3, 8, 25, 200], p=[.4, .3, .25, .05])))
            day += 86400
        del self.rows[photos:]


def insert(lib: object, rows: list[tuple[float, float | None, float | None,
                                      tuple[object, ...] | None]], first: int) -> None:
    from glimpse_desktop.kernel.db import Connection, now_iso

    now = now_iso()

    def apply(c: Connection) -> None:
        photos, places = [], []
        for k, (ts, lat, lon, place) in enumerate(rows, start=first):
            taken = datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat(
                timespec="seconds")
            photos.append((k, f"/bench/{k // 1000:04d}/IMG_{k:07d}.jpg", f"/bench/{k // 1000:04d}",
                           f"IMG_{k:07d}.jpg", f"{k:064x}", taken, ts, lat, lon, now, now))
            if place is not None:
                places.append((k, lat, lon, *place[:4], now))
        c.executemany(
            "INSERT INTO photos(id, root_id, path, folder, filename, size, mtime_ns, content_hash, "
            "taken_at, taken_ts, gps_lat, gps_lon, added_at, updated_at, width, height, format) "
            "VALUES (?, 1, ?, ?, ?, 1, 1, ?, ?, ?, ?, ?, ?, ?, 4000, 3000, 'JPEG')", photos)
        c.executemany(
            "INSERT INTO photo_places(photo_id, source, lat, lon, city, region, country, "
            "country_code, distance_km, updated_at) VALUES (?, 'gps', ?, ?, ?, ?, ?, ?, 1, ?)",
            places)

    lib.writer.call(apply)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--add", type=int, default=1_000)
    parser.add_argument("--keep", metavar="DIR", help="build the library here and keep it")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="glimpse-bench-albums-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["GLIMPSE_CACHE_DIR"] = str(folder / "cache")
    from glimpse_desktop.api.library import Library

    path = folder / "library.sqlite3"
    if path.exists():
        path.unlink()
    lib = Library.open(path, load_models=False)
    root = folder / "Pictures"
    root.mkdir(exist_ok=True)
    lib.add_root(root)
    world = World(7)
    world.years(date(2008, 1, 1), args.photos + args.add)
    base, extra = world.rows[:args.photos], world.rows[args.photos:]
    t0 = time.perf_counter()
    insert(lib, base, 1)
    print(f"  library of {len(base)} photos made in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)

    t0 = time.perf_counter()
    report = lib.auto_albums.rebuild()
    seconds = time.perf_counter() - t0
    print(json.dumps({"metric": "albums_build", "photos": len(base), "seconds": round(seconds, 3),
                      "photos_per_s": round(len(base) / seconds),
                      "events": report.by_kind.get("event"), "trips": report.by_kind.get("trip"),
                      "home": report.home.place if report.home else None}), flush=True)

    insert(lib, extra, args.photos + 1)
    t0 = time.perf_counter()
    report = lib.auto_albums.update()
    seconds = time.perf_counter() - t0
    print(json.dumps({"metric": "albums_update", "added": len(extra), "full": report.full,
                      "windows": report.windows, "photos_regrouped": report.photos,
                      "created": report.created, "updated": report.updated,
                      "seconds": round(seconds, 3)}), flush=True)

    t0 = time.perf_counter()
    report = lib.auto_albums.update()
    print(json.dumps({"metric": "albums_update_idle", "windows": report.windows,
                      "seconds": round(time.perf_counter() - t0, 3)}), flush=True)

    last = max(ts for ts, *_ in extra) if extra else max(ts for ts, *_ in base)
    today = datetime.fromtimestamp(last, UTC).date()
    t0 = time.perf_counter()
    found = lib.auto_albums.memories(today)
    print(json.dumps({"metric": "memories", "date": today.isoformat(), "groups": len(found),
                      "photos": sum(m.count for m in found),
                      "seconds": round(time.perf_counter() - t0, 3)}), flush=True)
    lib.close()


if __name__ == "__main__":
    main()
