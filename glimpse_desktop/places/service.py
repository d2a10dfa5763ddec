"""Places: where each photo was taken, in words, kept in step with the library.

Every photo with GPS gets the city, region and country of its coordinates from the offline
geocoder (organize/places.py says how the city is chosen); a photo without GPS taken minutes
from one with GPS by the same camera inherits its place, marked as inferred. Place names go
into the text index (``places`` column) and behind the ``place:`` search filter.

``update()`` runs after every `index` and every batch the watcher reads. It starts with one
query over the photos that finds what changed: photos whose coordinates differ from those
their place was looked up from, places of photos that lost their GPS, inferred places whose
source photo is gone, and photos written since the last pass (their camera or time may have
changed, which moves inferences). With nothing changed that query returns no row and the pass
ends there; the geocoder (about a second to load) is loaded only when there is a coordinate
to look up.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from glimpse_desktop.kernel import fts
from glimpse_desktop.kernel.config import get_setting, set_setting
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer, now_iso
from glimpse_desktop.kernel.progress import (
    Cancelled,
    CancelToken,
    ProgressCallback,
    ProgressMeter,
)
from glimpse_desktop.places import geocode as geo
from glimpse_desktop.places import store
from glimpse_desktop.places.records import (
    Place,
    PlaceCity,
    PlaceCountry,
    PlaceRegion,
    PlacesStatus,
)

# Photos written after this moment (ISO, UTC) have not been looked at by a complete pass.
CHECKED_KEY = "places.checked"
# The mark is set this far before the pass started: a write's `updated_at` is taken when its
# batch is built, and the batch may wait for the write lock (another process's writer, up to
# the busy timeout) and commit after a pass read the photos. Photos inside the margin are
# looked at again by the next pass, which finds nothing to change in them.
CHECK_MARGIN_S = 120.0
BATCH = 2000
TEXT_FIELD, TEXT_SOURCE = "places", "geocode"
# Beyond this many separate time ranges to re-infer, one read of every dated photo is cheaper.
MAX_RANGES = 200
# Dates read from a file's modification time say when it was copied, not when it was taken.
UNTRUSTED_TIME_SOURCES = ("file:mtime",)

__all__ = ["PlaceMatch", "Places", "PlacesError", "PlacesReport", "fold", "match_place",
           "place_names"]


class PlacesError(LibraryError):
    """Places cannot be found (the bundled place data is missing or unreadable)."""


@dataclass
class PlacesReport:
    """What a pass changed; every count is of photos."""

    placed: int = 0       # looked up from their own coordinates (new or moved)
    cleared: int = 0      # lost their GPS, and with it their place
    inferred: int = 0     # took (or changed) a place from a photo taken nearby in time
    uninferred: int = 0   # lost an inferred place
    cancelled: bool = False

    @property
    def changed(self) -> int:
        return self.placed + self.cleared + self.inferred + self.uninferred


@dataclass
class PlaceMatch:
    """The exact names a ``place:`` value stands for, by level."""

    cities: list[str]
    regions: list[str]
    countries: list[str]

    def __bool__(self) -> bool:
        return bool(self.cities or self.regions or self.countries)


def fold(text: str) -> str:
    """A name as compared by ``place:``: accents, case, punctuation and spacing ignored
    ("Sao Paulo" is "São Paulo", "new-york" is "New York")."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", bare.casefold()).split())


def _row_place(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["city"], row["region"], row["country"], row["country_code"])


class Places:
    """Places of one library: the update pass, the tree of places, and lookups for search."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer,
                 geocoder: Callable[[], geo.Geocoder] = geo.geocoder) -> None:
        """``geocoder`` builds (or returns the shared) geocoder; it is called only when a
        coordinate needs looking up, never here."""
        self.reader = reader
        self.writer = writer
        self._geocoder = geocoder
        self._lock = threading.Lock()   # one pass at a time per library object

    # ------------------------------------------------------------------ the update pass

    def update(self, *, progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> PlacesReport:
        """Place every photo with GPS that has no place or whose coordinates changed, clear
        the places of photos that lost their GPS, and infer places for photos without GPS
        near changed photos in time. Cheap when nothing changed (one query). Cancel stops at
        a batch boundary; what was written stays and the next pass finishes the rest."""
        token = cancel or CancelToken()
        with self._lock:
            meter = ProgressMeter("places", progress)
            report = PlacesReport()
            try:
                self._update(report, meter, token)
            except Cancelled:
                report.cancelled = True
            if meter.phase:   # only a pass that had work to do showed progress
                meter.finish()
            return report

    def _update(self, report: PlacesReport, meter: ProgressMeter, token: CancelToken) -> None:
        conn = self.reader()
        mark = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - CHECK_MARGIN_S))
        checked = get_setting(conn, CHECKED_KEY) or ""
        rows = conn.rows(
            """SELECT p.id, p.gps_lat, p.gps_lon, p.taken_ts, pp.source, pp.lat AS place_lat,
                      pp.lon AS place_lon, pp.from_photo
               FROM photos p LEFT JOIN photo_places pp ON pp.photo_id = p.id
               WHERE p.updated_at > :checked
                  OR (p.gps_lat IS NOT NULL AND p.gps_lon IS NOT NULL
                      AND (pp.photo_id IS NULL OR pp.source != 'gps' OR pp.lat != p.gps_lat
                           OR pp.lon != p.gps_lon))
                  OR ((p.gps_lat IS NULL OR p.gps_lon IS NULL) AND pp.source = 'gps')
                  OR (pp.source = 'inferred' AND pp.from_photo IS NULL)""",
            {"checked": checked})
        if not rows:
            return
        to_place: list[tuple[int, float, float]] = []
        to_clear: list[int] = []
        for r in rows:
            has_gps = r["gps_lat"] is not None and r["gps_lon"] is not None
            if has_gps and (r["source"] != "gps" or r["place_lat"] != r["gps_lat"]
                            or r["place_lon"] != r["gps_lon"]):
                to_place.append((int(r["id"]), float(r["gps_lat"]), float(r["gps_lon"])))
            elif not has_gps and r["source"] == "gps":
                to_clear.append(int(r["id"]))
        if to_place:
            meter.start_phase("finding places", len(to_place))
            try:
                coder = self._geocoder()
            except geo.GeocodeError as exc:
                raise PlacesError(str(exc)) from exc
            for start in range(0, len(to_place), BATCH):
                token.raise_if_cancelled()
                chunk = to_place[start:start + BATCH]
                found = coder.lookup([(lat, lon) for _, lat, lon in chunk])
                report.placed += self.writer.call(partial(_write_gps, chunk=chunk, found=found))
                meter.advance(len(chunk))
        if to_clear:
            token.raise_if_cancelled()
            report.cleared += self.writer.call(lambda c: _clear(c, to_clear, "gps"))
        token.raise_if_cancelled()
        changed = {int(r["id"]) for r in rows}
        self._reinfer(conn, rows, changed, report, meter, token)
        self.writer.call(lambda c: set_setting(c, CHECKED_KEY, mark))

    def _reinfer(self, conn: Connection, rows: list[dict[str, Any]], changed: set[int],
                 report: PlacesReport, meter: ProgressMeter, token: CancelToken) -> None:
        """Infer places again for photos without GPS within the window of a changed photo
        (its new time, and the times of photos that inherited from it)."""
        window = geo.INFER_WINDOW_S
        times = [float(r["taken_ts"]) for r in rows if r["taken_ts"] is not None]
        for r in conn.rows("SELECT pp.photo_id, pp.from_photo, p.taken_ts FROM photo_places pp "
                           "JOIN photos p ON p.id = pp.photo_id WHERE pp.source = 'inferred'"):
            if (r["from_photo"] is None or int(r["from_photo"]) in changed
                    or int(r["photo_id"]) in changed) and r["taken_ts"] is not None:
                times.append(float(r["taken_ts"]))
        # An inferred place of a changed photo that can no longer take one (its date or camera
        # went) is cleared here; those within a time range are decided below.
        stale = [int(r["id"]) for r in rows if r["source"] == "inferred"
                 and (r["taken_ts"] is None or r["gps_lat"] is not None)]
        stale = [i for i in stale if conn.one(
            "SELECT 1 FROM photo_places WHERE photo_id = ? AND source = 'inferred'", (i,))]
        if stale:
            report.uninferred += self.writer.call(lambda c: _clear(c, stale, "inferred"))
        if not times:
            return
        ranges = _merge_ranges(sorted(times), window)
        # Targets lie within a window of a changed time, and their sources within a window of
        # them: read two windows around each range.
        if len(ranges) > MAX_RANGES:
            photos = conn.rows(_INFER_SQL + "WHERE p.taken_ts IS NOT NULL")
        else:
            photos = []
            for lo, hi in ranges:
                token.raise_if_cancelled()
                photos += conn.rows(_INFER_SQL + "WHERE p.taken_ts BETWEEN ? AND ?",
                                    (lo - 2 * window, hi + 2 * window))
        by_id = {int(p["id"]): p for p in photos}   # neighbouring reads may overlap
        timed = []
        for p in by_id.values():
            trusted = p["taken_at_source"] not in UNTRUSTED_TIME_SOURCES
            timed.append(geo.TimedPhoto(
                id=int(p["id"]), ts=float(p["taken_ts"]),
                camera=geo.camera_key(p["camera_make"], p["camera_model"]) if trusted else None,
                has_gps=p["gps_lat"] is not None and p["gps_lon"] is not None))
        sources = geo.infer_places(timed, window)
        starts = [lo for lo, _ in ranges]
        to_infer: list[tuple[int, dict[str, Any]]] = []
        to_uninfer: list[int] = []
        for photo in timed:
            if photo.has_gps or not _inside(ranges, starts, photo.ts):
                continue
            row = by_id[photo.id]
            src_id = sources.get(photo.id)
            src = by_id.get(src_id) if src_id is not None else None
            if src is not None and (src["source"] != "gps" or src["country"] is None):
                src = None  # its coordinates found no place (mid-ocean), or not placed yet
            if src is None:
                if row["source"] == "inferred":
                    to_uninfer.append(photo.id)
            elif (row["source"] != "inferred" or row["from_photo"] != src["id"]
                  or _row_place(row) != _row_place(src) or row["lat"] != src["lat"]
                  or row["lon"] != src["lon"]):
                to_infer.append((photo.id, src))
        if to_infer:
            meter.start_phase("inferring places", len(to_infer))
        for start in range(0, len(to_infer), BATCH):
            token.raise_if_cancelled()
            chunk = to_infer[start:start + BATCH]
            report.inferred += self.writer.call(partial(_write_inferred, chunk=chunk))
            meter.advance(len(chunk))
        if to_uninfer:
            token.raise_if_cancelled()
            report.uninferred += self.writer.call(lambda c: _clear(c, to_uninfer, "inferred"))

    # ------------------------------------------------------------------ reading

    def of_photo(self, photo_id: int) -> Place | None:
        """A photo's place; None when it has none (no GPS, or nowhere near a known place)."""
        return store.place_of(self.reader(), photo_id)

    def tree(self) -> list[PlaceCountry]:
        """Countries, each with its regions, each with its cities, with their photo counts
        (how many of those inferred) and the most recent photo as ``cover``. Largest first.
        A region or city is None where the data has none (a photo far from every town keeps
        its region and country). Photos of unplugged drives count; missing ones do not."""
        # A node as it is summed up: photos, inferred, newest (taken_ts, id) and children.
        Node = dict[str, Any]
        countries: dict[tuple[str, str | None], Node] = {}
        for c in store.city_counts(self.reader()):
            country = countries.setdefault((c.country, c.country_code), {
                "name": c.country, "photos": 0, "inferred": 0, "newest": None,
                "children": {}})
            region = country["children"].setdefault(c.region, {
                "name": c.region, "photos": 0, "inferred": 0, "newest": None,
                "children": []})
            newest = (c.newest, c.cover)
            region["children"].append(PlaceCity(name=c.city, photos=c.photos,
                                                inferred=c.inferred, cover=c.cover))
            for node in (country, region):
                node["photos"] += c.photos
                node["inferred"] += c.inferred
                if node["newest"] is None or newest > node["newest"]:
                    node["newest"] = newest

        def order(node: Node | PlaceCity) -> tuple[int, bool, str]:
            name, photos = ((node["name"], node["photos"]) if isinstance(node, dict)
                            else (node.name, node.photos))
            return (-photos, name is None, fold(name or ""))

        def cover(node: Node) -> int | None:
            return None if node["newest"] is None else int(node["newest"][1])

        out: list[PlaceCountry] = []
        for (name, code), country in sorted(countries.items(), key=lambda kv: order(kv[1])):
            regions = tuple(
                PlaceRegion(name=r["name"], photos=r["photos"], inferred=r["inferred"],
                            cover=cover(r), cities=tuple(sorted(r["children"], key=order)))
                for r in sorted(country["children"].values(), key=order))
            out.append(PlaceCountry(name=name, country_code=code, photos=country["photos"],
                                    inferred=country["inferred"], cover=cover(country),
                                    regions=regions))
        return out

    def photos(self, country: str | None = None, region: str | None = None,
               city: str | None = None) -> list[int]:
        """Ids of the photos placed in a country (and region, and city: names as ``tree``
        gives them), newest first; with no argument, every placed photo."""
        return store.photos_in(self.reader(), country, region, city)

    def status(self) -> PlacesStatus:
        """Counts: photos placed from their GPS, inferred, and with GPS but far from every
        known place; countries and cities."""
        return store.status(self.reader())

    def names(self, *, limit: int = 500) -> list[str]:
        """Place names (cities, regions, countries), most photographed first: what the search
        box suggests after ``place:``."""
        return place_names(self.reader(), limit)

    def match(self, value: str) -> PlaceMatch:
        """The place names a ``place:`` value means (see ``match_place``)."""
        return match_place(self.reader(), value)


def match_place(conn: Connection, value: str) -> PlaceMatch:
    """The place names a ``place:`` value means: every city, region or country whose name is
    the value (accents, case and punctuation ignored; a two-letter value is also a country
    code, and "USA", "UK" and a few other usual names are understood), or, when none is,
    every name that starts with the value's words ("place:new york" finds New York City)."""
    wanted = fold(value)
    match = PlaceMatch([], [], [])
    if not wanted:
        return match
    code = geo.COUNTRY_ALIASES.get(wanted) or (value.strip().upper() if len(wanted) == 2
                                               else None)
    rows = store.names(conn)
    for exact in (True, False):
        seen: tuple[set[str], set[str], set[str]] = (set(), set(), set())
        for city, region, country, country_code in rows:
            for level, name in enumerate((city, region, country)):
                if name and _name_matches(fold(name), wanted, exact):
                    seen[level].add(name)
            if exact and code is not None and country_code == code:
                seen[2].add(country)
        match = PlaceMatch(*(sorted(s) for s in seen))
        if match:
            break
    return match


def place_names(conn: Connection, limit: int) -> list[str]:
    """Place names (cities, regions, countries), most photographed first."""
    counts: dict[str, int] = {}
    for city, region, country, n in store.name_counts(conn):
        for name in (city, region, country):
            if name:
                counts[name] = counts.get(name, 0) + n
    return sorted(counts, key=lambda n: (-counts[n], fold(n)))[:limit]


def _name_matches(name: str, wanted: str, exact: bool) -> bool:
    return name == wanted if exact else name.startswith(wanted + " ")


_INFER_SQL = """SELECT p.id, p.taken_ts, p.taken_at_source, p.camera_make, p.camera_model,
                       p.gps_lat, p.gps_lon, pp.source, pp.from_photo, pp.lat, pp.lon,
                       pp.city, pp.region, pp.country, pp.country_code, pp.distance_km
                FROM photos p LEFT JOIN photo_places pp ON pp.photo_id = p.id """


def _merge_ranges(times: Sequence[float], window: float) -> list[tuple[float, float]]:
    """Sorted times to the smallest set of ranges that hold them, joining those closer than
    two windows (their surroundings overlap, so one read covers both)."""
    ranges: list[tuple[float, float]] = []
    for t in times:
        if ranges and t - ranges[-1][1] <= 2 * window:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], t))
        else:
            ranges.append((t, t))
    return ranges


def _inside(ranges: Sequence[tuple[float, float]], starts: Sequence[float], ts: float) -> bool:
    """Within one window of a changed time (the photos whose inference may have changed).
    ``ranges`` are sorted and disjoint; ``starts`` are their first times, for a bisect."""
    window = geo.INFER_WINDOW_S
    k = bisect.bisect_right(starts, ts + window) - 1
    return k >= 0 and ts <= ranges[k][1] + window


def _set_text(conn: Connection, photo_id: int, text: str | None) -> bool:
    """Write (or remove) a photo's place words; True when they changed."""
    old = conn.one("SELECT value FROM photo_text WHERE photo_id = ? AND field = ? AND "
                   "source = ?", (photo_id, TEXT_FIELD, TEXT_SOURCE))
    if (old or None) == (text or None):
        return False
    if text:
        conn.execute("INSERT OR REPLACE INTO photo_text(photo_id, field, source, value) "
                     "VALUES (?, ?, ?, ?)", (photo_id, TEXT_FIELD, TEXT_SOURCE, text))
    else:
        conn.execute("DELETE FROM photo_text WHERE photo_id = ? AND field = ? AND source = ?",
                     (photo_id, TEXT_FIELD, TEXT_SOURCE))
    return True


def _exists(conn: Connection, photo_id: int) -> bool:
    return conn.one("SELECT 1 FROM photos WHERE id = ?", (photo_id,)) is not None


def _write_gps(conn: Connection, chunk: Sequence[tuple[int, float, float]],
               found: Sequence[geo.Place | None]) -> int:
    now = now_iso()
    refresh: list[int] = []
    written = 0
    for (photo_id, lat, lon), place in zip(chunk, found, strict=True):
        if not _exists(conn, photo_id):   # forgotten since the pass read it
            continue
        conn.execute(
            "INSERT OR REPLACE INTO photo_places(photo_id, source, from_photo, lat, lon, city, "
            "region, country, country_code, distance_km, updated_at) "
            "VALUES (?, 'gps', NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
            (photo_id, lat, lon, place.city if place else None,
             place.region if place else None, place.country if place else None,
             place.country_code if place else None,
             place.distance_km if place else None, now))
        written += 1
        text = geo.place_text(place.city, place.region, place.country) if place else None
        if _set_text(conn, photo_id, text):
            refresh.append(photo_id)
    fts.mark(conn, refresh)
    return written


def _write_inferred(conn: Connection, chunk: Iterable[tuple[int, dict[str, Any]]]) -> int:
    now = now_iso()
    refresh: list[int] = []
    written = 0
    for photo_id, src in chunk:
        # The pass read both photos outside this transaction: write only if the source still
        # has the place read, and the photo still has no GPS of its own.
        still = conn.row("SELECT city, region, country, country_code FROM photo_places "
                         "WHERE photo_id = ? AND source = 'gps'", (src["id"],))
        own = conn.row("SELECT gps_lat FROM photos WHERE id = ?", (photo_id,))
        if still is None or _row_place(still) != _row_place(src) or own is None \
                or own["gps_lat"] is not None:
            continue
        conn.execute(
            "INSERT OR REPLACE INTO photo_places(photo_id, source, from_photo, lat, lon, city, "
            "region, country, country_code, distance_km, updated_at) "
            "VALUES (?, 'inferred', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (photo_id, src["id"], src["lat"], src["lon"], src["city"], src["region"],
             src["country"], src["country_code"], src["distance_km"], now))
        written += 1
        if _set_text(conn, photo_id, geo.place_text(src["city"], src["region"],
                                                    src["country"])):
            refresh.append(photo_id)
    fts.mark(conn, refresh)
    return written


def _clear(conn: Connection, photo_ids: Sequence[int], source: str) -> int:
    """Remove places of this source (and their words) from these photos; how many had one."""
    refresh: list[int] = []
    cleared = 0
    for photo_id in photo_ids:
        gone = conn.execute("DELETE FROM photo_places WHERE photo_id = ? AND source = ? "
                            "RETURNING photo_id", (photo_id, source)).fetchall()
        if gone:
            cleared += 1
            if _set_text(conn, photo_id, None):
                refresh.append(photo_id)
    fts.mark(conn, refresh)
    return cleared
