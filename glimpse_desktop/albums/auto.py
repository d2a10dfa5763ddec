"""Albums Glimpse makes by itself (events and trips), the person's home, and memories.

The grouping is in ``organize/events`` (pure); this module reads photos and places from the
library, decides where home is, and reconciles what was computed with the albums already
stored, so that:

* an automatic album is found again on every rebuild: a computed group takes over the stored
  album it shares the most photos with (its id, ``auto_key`` and anything pointing at it stay);
* what the person did is never undone: an album they edited (renamed, photos taken out or
  added: ``edited`` = 1) keeps its title and photos, one they deleted (``removed`` = 1, a
  tombstone) does not come back, and a photo they took out (``album_photos.removed`` = 1) is
  never put back. A computed group that is mostly the photos of such an album is dropped; its
  other photos do not make a second album of the same kind;
* only photos whose date was taken are grouped: one dated from its file's modification time
  (``taken_at_source`` 'file:mtime') says when it was copied, and makes no event, trip or
  memory;
* ``update()`` is incremental: only the time around photos added or changed since the last
  build (new ids, ``updated_at`` of photos and of their places, albums that lost photos) is
  read again, widened by a margin and to the albums it touches, and grouped anew. A change of
  home (set by the person, or a new inferred one), of the size that makes an event at home
  stand out (derived from the whole library: photos per ordinary day) or of the algorithm
  rebuilds everything.

Photos that are missing or offline stay members (their drive may come back); forgotten photos
leave their albums with their rows (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from glimpse_desktop.albums import events as ev
from glimpse_desktop.kernel.config import get_setting, set_setting
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer, now_iso
from glimpse_desktop.kernel.progress import (
    Cancelled,
    CancelToken,
    ProgressCallback,
    ProgressMeter,
)
from glimpse_desktop.places.service import UNTRUSTED_TIME_SOURCES

__all__ = ["AUTO_KINDS", "AutoAlbumReport", "AutoAlbums", "AutoAlbumsError"]

AUTO_KINDS = ("event", "trip")
HOME_KEY = "albums.home"           # the person's own home: {"lat": .., "lon": ..}
STATE_KEY = "albums.auto.state"    # what the last build saw (see _State)
# Bump when grouping or titles change: the next update() then rebuilds everything.
# 2: trips hold their days (no event repeats them), events at home must stand out, photos
# dated from the file's modification time make no album.
ALGORITHM = 2
# How far around a changed photo an update looks again: trips bridge up to two days without
# photos, and an event's typical-gap median looks ten photos either side.
MARGIN = 3 * ev.DAY

# Photos whose date says when they were taken (not when the file was copied).
_DATED = ("p.taken_ts IS NOT NULL AND coalesce(p.taken_at_source, '') NOT IN ("
          + ", ".join(f"'{s}'" for s in UNTRUSTED_TIME_SOURCES) + ")")

# A photo's position: its own GPS, else the place inferred for it from a neighbour in time.
# (0, 0) is what broken GPS units write, not a place in the Gulf of Guinea.
_OWN_GPS = ("p.gps_lat IS NOT NULL AND p.gps_lon IS NOT NULL "
            "AND NOT (p.gps_lat = 0 AND p.gps_lon = 0)")
_LAT = f"CASE WHEN {_OWN_GPS} THEN p.gps_lat ELSE pp.lat END"
_LON = f"CASE WHEN {_OWN_GPS} THEN p.gps_lon ELSE pp.lon END"
_LOCAL = "p.taken_ts + coalesce(p.taken_at_offset, 0) * 60.0"

_SHOTS = f"""
SELECT p.id, p.taken_ts, {_LOCAL} AS local, {_LAT}, {_LON},
       pp.city, pp.region, pp.country, pp.country_code
FROM photos p LEFT JOIN photo_places pp ON pp.photo_id = p.id
WHERE {_DATED} {{where}}
ORDER BY p.taken_ts, p.id
"""

# Photos per day and place, what an ordinary day is derived from (ev.home_day_counts);
# grouped in SQL, a row per place and day, not per photo. Places to 0.1 degree (under 6 km
# off): plenty to tell home (30 km) from away (100 km), and a tenth of the rows of 0.01.
_DAY_PLACES = f"""
SELECT CAST(d AS INTEGER) - (d < CAST(d AS INTEGER)) AS day, round(lat, 1), round(lon, 1),
       count(*)
FROM (SELECT ({_LOCAL} - {{start}}) / 86400.0 AS d,
             {_LAT} AS lat, {_LON} AS lon
      FROM photos p LEFT JOIN photo_places pp ON pp.photo_id = p.id WHERE {_DATED})
GROUP BY 1, 2, 3
"""

# Located photos as (cell y, cell x, day), the evidence home is inferred from.
_LOCATED = f"""
SELECT CAST(round(lat / {ev.CELL_DEGREES}) AS INTEGER) AS cy,
       CAST(round(lon / {ev.CELL_DEGREES}) AS INTEGER) AS cx,
       CAST(d AS INTEGER) - (d < CAST(d AS INTEGER)) AS day, lat, lon, city, country
FROM (SELECT coalesce(p.gps_lat, pp.lat) AS lat, coalesce(p.gps_lon, pp.lon) AS lon,
             (p.taken_ts + coalesce(p.taken_at_offset, 0) * 60.0
              - {ev.DEFAULT.day_start_hour * 3600}) / 86400.0 AS d,
             pp.city AS city, pp.country AS country
      FROM photos p LEFT JOIN photo_places pp ON pp.photo_id = p.id
      WHERE {_DATED})
WHERE lat IS NOT NULL AND lon IS NOT NULL AND NOT (lat = 0 AND lon = 0)
"""


class AutoAlbumsError(LibraryError):
    """A request about automatic albums or home that cannot be done; the message says why."""


@dataclass
class AutoAlbumReport:
    """What a build did. ``full``: everything was grouped again (a rebuild, or an update that
    had to: first build, new home, new algorithm); ``windows``: time ranges grouped again."""

    full: bool = False
    windows: int = 0
    photos: int = 0            # photos read and grouped
    events: int = 0            # computed groups of each kind (before the person's edits)
    trips: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0           # automatic albums no longer found (their photos went)
    kept: int = 0              # groups left alone because the person edited or deleted them
    cancelled: bool = False
    home: dict[str, Any] | None = None
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        """Albums made, changed or dropped: what the index report counts."""
        return self.created + self.updated + self.deleted

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AutoAlbums:
    """Events, trips, home and memories of one library (thread-safe: one build at a time)."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer,
                 params: ev.Params = ev.DEFAULT) -> None:
        self.reader = reader
        self.writer = writer
        self.params = params
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ home

    def home(self) -> dict[str, Any] | None:
        """Where the person lives, as ``{lat, lon, place, source, days}``: the one they set
        (``source`` 'set'), else inferred from where photos were taken on the most distinct
        days (``source`` 'inferred'); None when neither is known (no trips then)."""
        conn = self.reader()
        raw = get_setting(conn, HOME_KEY)
        if raw:
            try:
                value = json.loads(raw)
                lat, lon = float(value["lat"]), float(value["lon"])
            except (ValueError, KeyError, TypeError):
                pass        # a damaged setting is ignored (and replaced by the next set_home)
            else:
                return {"lat": lat, "lon": lon, "place": self._place_near(conn, lat, lon),
                        "source": "set", "days": None}
        return self._inferred_home(conn)

    def set_home(self, lat: float, lon: float) -> dict[str, Any]:
        """The person says where home is; it wins over the inferred one. Trips and titles
        follow at the next update (which rebuilds, home having changed)."""
        if not (math.isfinite(lat) and math.isfinite(lon)) or not -90 <= lat <= 90 \
                or not -180 <= lon <= 180:
            raise AutoAlbumsError(f"({lat}, {lon}) is not a place on Earth: latitude goes from "
                                  "-90 to 90 and longitude from -180 to 180 (decimal degrees)")
        value = json.dumps({"lat": lat, "lon": lon})
        self.writer.call(lambda c: set_setting(c, HOME_KEY, value))
        home = self.home()
        assert home is not None
        return home

    def clear_home(self) -> dict[str, Any] | None:
        """Forget the home the person set; the inferred one (if any) is used again."""
        self.writer.call(lambda c: set_setting(c, HOME_KEY, None))
        return self.home()

    def _inferred_home(self, conn: Connection) -> dict[str, Any] | None:
        cells = [(int(r[0]), int(r[1]), int(r[2])) for r in conn.execute(
            f"SELECT DISTINCT cy, cx, day FROM ({_LOCATED})")]
        best = ev.infer_home(cells)
        if best is None:
            return None
        days = len({d for y, x, d in cells if abs(y - best[0]) <= 1 and abs(x - best[1]) <= 1})
        row = conn.row(f"SELECT avg(lat) AS lat, avg(lon) AS lon FROM ({_LOCATED}) "
                       "WHERE cy = ? AND cx = ?", best)
        assert row is not None
        lat, lon = float(row["lat"]), float(row["lon"])
        return {"lat": round(lat, 5), "lon": round(lon, 5),
                "place": self._place_near(conn, lat, lon), "source": "inferred", "days": days}

    @staticmethod
    def _place_near(conn: Connection, lat: float, lon: float) -> str | None:
        """The city most photos near a point were placed in (about 25 km around it)."""
        dlon = 0.25 / max(0.1, math.cos(math.radians(lat)))
        row = conn.row("SELECT city, country FROM photo_places WHERE city IS NOT NULL "
                       "AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? "
                       "GROUP BY city, country ORDER BY count(*) DESC, city LIMIT 1",
                       (lat - 0.25, lat + 0.25, lon - dlon, lon + dlon))
        if row is None:
            return None
        return ", ".join(str(v) for v in (row["city"], row["country"]) if v)

    # ------------------------------------------------------------------ building

    def rebuild(self, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> AutoAlbumReport:
        """Group the whole library again. Albums the person edited or deleted stay as they
        are; the others are updated in place (same ids) or go if their photos went."""
        return self._build(True, progress, cancel)

    def update(self, progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> AutoAlbumReport:
        """Bring automatic albums up to date with photos added or changed since the last
        build, grouping only the time around them (a first build groups everything)."""
        return self._build(False, progress, cancel)

    def _build(self, full: bool, progress: ProgressCallback | None,
               cancel: CancelToken | None) -> AutoAlbumReport:
        token = cancel or CancelToken()
        meter = ProgressMeter("albums", progress)
        report = AutoAlbumReport()
        with self._lock:
            try:
                self._build_locked(full, report, meter, token)
            except Cancelled:
                report.cancelled = True
        meter.finish()
        return report

    def _build_locked(self, full: bool, report: AutoAlbumReport, meter: ProgressMeter,
                      token: CancelToken) -> None:
        conn = self.reader()
        # The marks are taken before reading: what changes during the build is seen next time.
        at = now_iso()
        mark: dict[str, Any] = {
            "version": ALGORITHM, "at": at,
            "max_id": int(conn.one("SELECT coalesce(max(id), 0) FROM photos")),
            # Timestamps have whole seconds: what changed in the second of the mark, before
            # the read, is remembered as seen; what changes later in that second is not, and
            # is grouped again next time (see _dirty_windows).
            "seen": [int(r[0]) for r in conn.execute(
                "SELECT id FROM photos WHERE updated_at >= ?", (at,))],
            "seen_places": [int(r[0]) for r in conn.execute(
                "SELECT photo_id FROM photo_places WHERE updated_at >= ?", (at,))]}
        home = self.home()
        home_point = None if home is None else (float(home["lat"]), float(home["lon"]))
        mark["home"] = None if home_point is None else [round(v, 4) for v in home_point]
        mark["params"] = asdict(self.params)
        report.home = home
        state = self._state(conn)
        if not full and (state is None or state.get("version") != ALGORITHM
                         or state.get("home") != mark["home"]
                         or state.get("params") != mark["params"]):
            full = True
        windows: list[tuple[float, float] | None]
        windows = [None] if full else list(self._dirty_windows(conn, state or {}))
        # No photo changed since the last build, so neither did the ordinary day: reading
        # every photo again to say so would be most of an idle update.
        known = None if state is None else state.get("busy")
        if not full and not windows and isinstance(known, int):
            busy = known
        else:
            busy = self._busy(conn, home_point)
            if not full and busy != known:
                full, windows = True, [None]
        mark["busy"] = busy
        report.full = full
        report.windows = len(windows)
        meter.start_phase("grouping photos into events and trips", len(windows))
        for window in windows:
            token.raise_if_cancelled()
            shots = self._shots(conn, window)
            groups = ev.find_albums(shots, home_point, self.params, busy=busy,
                                    check=token.raise_if_cancelled)
            token.raise_if_cancelled()
            report.photos += len(shots)
            report.events += sum(g.kind == "event" for g in groups)
            report.trips += sum(g.kind == "trip" for g in groups)
            counts = self.writer.call(_reconciler(groups, window, self.params.min_photos))
            for key in ("created", "updated", "unchanged", "deleted", "kept"):
                setattr(report, key, getattr(report, key) + counts[key])
            meter.advance()
        value = json.dumps(mark)
        self.writer.call(lambda c: set_setting(c, STATE_KEY, value))
        report.by_kind = {kind: int(conn.one(
            "SELECT count(*) FROM albums WHERE kind = ? AND removed = 0", (kind,)))
            for kind in AUTO_KINDS}

    @staticmethod
    def _state(conn: Connection) -> dict[str, Any] | None:
        raw = get_setting(conn, STATE_KEY)
        if not raw:
            return None
        try:
            state = json.loads(raw)
        except ValueError:
            return None
        return state if isinstance(state, dict) else None

    def _busy(self, conn: Connection, home: tuple[float, float] | None) -> int:
        """Photos an event at home needs, from the whole library (a window alone would judge
        the same day differently from a rebuild)."""
        rows = [(int(r[0]), None if r[1] is None or r[2] is None else float(r[1]),
                 None if r[1] is None or r[2] is None else float(r[2]), int(r[3]))
                for r in conn.execute(_DAY_PLACES.format(
                    start=self.params.day_start_hour * 3600))]
        return ev.busy_threshold(ev.home_day_counts(rows, home, self.params), self.params)

    def _shots(self, conn: Connection, window: tuple[float, float] | None) -> list[ev.Shot]:
        if window is None:
            cur = conn.execute(_SHOTS.format(where=""))
        else:
            cur = conn.execute(_SHOTS.format(where="AND p.taken_ts BETWEEN ? AND ?"), window)
        return [ev.Shot(int(r[0]), float(r[1]), float(r[2]),
                        None if r[3] is None or r[4] is None else float(r[3]),
                        None if r[3] is None or r[4] is None else float(r[4]),
                        r[5], r[6], r[7], r[8]) for r in cur]

    def _dirty_windows(self, conn: Connection,
                       state: dict[str, Any]) -> list[tuple[float, float]]:
        """Time ranges to group again: around photos added or changed (or re-placed) since
        the last build and around albums that lost photos, each widened by MARGIN and then
        to the automatic albums it overlaps, so that no album is ever cut in two."""
        max_id, since = int(state.get("max_id", 0)), str(state.get("at", ""))
        seen, seen_places = set(state.get("seen", ())), set(state.get("seen_places", ()))
        stamps: list[float] = []
        changed: list[int] = []         # photos already there at the last build
        for pid, ts, at in conn.execute(
                "SELECT id, taken_ts, updated_at FROM photos WHERE id > ? OR updated_at >= ?",
                (max_id, since)):
            if pid <= max_id and at == since and pid in seen:
                continue
            if ts is not None:
                stamps.append(float(ts))
            if pid <= max_id:
                changed.append(int(pid))
        for pid, ts, at in conn.execute(
                "SELECT p.id, p.taken_ts, pp.updated_at FROM photo_places pp "
                "JOIN photos p ON p.id = pp.photo_id WHERE pp.updated_at >= ?", (since,)):
            if ts is not None and not (at == since and pid in seen_places):
                stamps.append(float(ts))
        # A photo whose date changed left its old album: that album's time is dirty too; so
        # is an album that lost photos (forgotten ones).
        for start in range(0, len(changed), 500):
            chunk = changed[start:start + 500]
            for lo, hi in conn.execute(
                    "SELECT DISTINCT a.start_ts, a.end_ts FROM album_photos ap "
                    "JOIN albums a ON a.id = ap.album_id WHERE a.kind IN ('event', 'trip') "
                    f"AND a.start_ts IS NOT NULL AND ap.photo_id IN ({','.join('?' * len(chunk))})",
                    chunk):
                stamps += [float(lo), float(hi)]
        for lo, hi in conn.execute(
                "SELECT a.start_ts, a.end_ts FROM albums a "
                "WHERE a.kind IN ('event', 'trip') AND a.removed = 0 AND a.edited = 0 "
                "AND a.start_ts IS NOT NULL AND coalesce(json_extract(a.details, '$.photos'), "
                "-1) != (SELECT count(*) FROM album_photos ap WHERE ap.album_id = a.id "
                "AND ap.removed = 0)"):
            stamps += [float(lo), float(hi)]
        stamps.sort()
        spans: list[list[float]] = []
        for t in stamps:
            if spans and t - MARGIN <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], t + MARGIN)
            else:
                spans.append([t - MARGIN, t + MARGIN])
        out: list[tuple[float, float]] = []
        for lo, hi in spans:
            while True:
                row = conn.row("SELECT min(start_ts) AS lo, max(end_ts) AS hi FROM albums "
                               "WHERE kind IN ('event', 'trip') AND start_ts <= ? "
                               "AND end_ts >= ?", (hi, lo))
                new_lo = lo if row is None or row["lo"] is None else min(lo, float(row["lo"]))
                new_hi = hi if row is None or row["hi"] is None else max(hi, float(row["hi"]))
                if (new_lo, new_hi) == (lo, hi):
                    break
                lo, hi = new_lo, new_hi
            if out and lo <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], hi))
            else:
                out.append((lo, hi))
        return out

    # ------------------------------------------------------------------ reading

    def albums(self, kinds: Sequence[str] = AUTO_KINDS) -> list[dict[str, Any]]:
        """Automatic albums newest first (deleted ones are not), each with its photo count,
        dates, cover and details; one query, cheap enough for thousands of events."""
        wanted = [k for k in kinds if k in AUTO_KINDS]
        if not wanted:
            raise AutoAlbumsError(f"automatic albums are of kinds {', '.join(AUTO_KINDS)}")
        rows = self.reader().rows(
            "SELECT a.id, a.kind, a.title, a.edited, a.start_ts, a.end_ts, a.cover_photo, "
            "a.details, (SELECT count(*) FROM album_photos ap WHERE ap.album_id = a.id "
            "AND ap.removed = 0) AS count FROM albums a "
            f"WHERE a.removed = 0 AND a.kind IN ({','.join('?' * len(wanted))}) "
            "ORDER BY a.start_ts DESC, a.id DESC", wanted)
        out = []
        for r in rows:
            details = _details(r.pop("details"))
            out.append({**r, "edited": bool(r["edited"]), "cover": r.pop("cover_photo"),
                        "start_date": details.get("start_date"),
                        "end_date": details.get("end_date"), "details": details})
        return out

    def memories(self, today: date | None = None) -> list[dict[str, Any]]:
        """What to show on ``today`` (default: the local date): "On this day" photos of each
        earlier year, titled "1 year ago", "3 years ago" (29 February's photos show on 28
        February in other years), then events and trips of the same week (±3 days) in earlier
        years, titled as their album with "N years ago" beside. Only photos that can be shown
        now (status ok) and whose date was taken, not read from the file's modification time
        (the day a folder was copied is no memory); plain dicts for the CLI and the GUI."""
        today = today or date.today()
        conn = self.reader()
        days = [f"{today.month:02d}-{today.day:02d}"]
        if (today.month, today.day) == (2, 28) and not _leap(today.year):
            days.append("02-29")
        rows = conn.rows(
            "SELECT id, taken_at, taken_ts FROM photos p WHERE status = 'ok' "
            f"AND taken_at IS NOT NULL AND {_DATED} "
            f"AND substr(taken_at, 6, 5) IN ({','.join('?' * len(days))}) "
            "AND CAST(substr(taken_at, 1, 4) AS INTEGER) < ? ORDER BY taken_ts, id",
            [*days, today.year])
        by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_year[int(r["taken_at"][:4])].append(r)
        out: list[dict[str, Any]] = []
        for year in sorted(by_year, reverse=True):
            photos = by_year[year]
            ago = today.year - year
            then = date.fromisoformat(photos[0]["taken_at"][:10])
            out.append({"kind": "on_this_day", "title": _years_ago(ago), "years_ago": ago,
                        "year": year, "date": then.isoformat(),
                        "subtitle": f"On this day, {ev.date_range(then, then)}",
                        "photo_ids": [int(p["id"]) for p in photos],
                        "cover": int(photos[len(photos) // 2]["id"]), "count": len(photos)})
        for album in self.albums():
            start, end = album["start_date"], album["end_date"]
            if not start or not end:
                continue
            first, last = date.fromisoformat(start), date.fromisoformat(end)
            if first.year >= today.year:
                continue
            then = _same_day(today, first.year)
            if not first - timedelta(days=3) <= then <= last + timedelta(days=3):
                continue
            ids = [int(r[0]) for r in conn.execute(
                "SELECT ap.photo_id FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
                "WHERE ap.album_id = ? AND ap.removed = 0 AND p.status = 'ok' "
                "ORDER BY p.taken_ts, p.id", (album["id"],))]
            if not ids:
                continue
            ago = today.year - first.year
            cover = album["cover"] if album["cover"] in ids else ids[len(ids) // 2]
            out.append({"kind": album["kind"], "title": album["title"],
                        "subtitle": _years_ago(ago), "years_ago": ago, "year": first.year,
                        "date": start, "album_id": album["id"], "photo_ids": ids,
                        "cover": cover, "count": len(ids)})
        return out


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _same_day(today: date, year: int) -> date:
    """Today's month and day in another year (29 February becomes the 28th)."""
    if (today.month, today.day) == (2, 29) and not _leap(year):
        return date(year, 2, 28)
    return today.replace(year=year)


def _years_ago(n: int) -> str:
    return "1 year ago" if n == 1 else f"{n} years ago"


def _details(raw: Any) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _reconciler(groups: list[ev.Group], window: tuple[float, float] | None,
                min_photos: int) -> Callable[[Connection], dict[str, int]]:
    return lambda conn: _reconcile(conn, groups, window, min_photos)


def _reconcile(conn: Connection, groups: list[ev.Group], window: tuple[float, float] | None,
               min_photos: int) -> dict[str, int]:
    """Make the stored automatic albums of ``window`` (all of them when None) match
    ``groups``, inside the writer's transaction (the person's edits are read here, so an
    edit made while the groups were computed is still respected)."""
    counts = dict.fromkeys(("created", "updated", "unchanged", "deleted", "kept"), 0)
    params: tuple[float, ...]
    where, params = "", ()
    if window is not None:
        where, params = " AND start_ts <= ? AND end_ts >= ?", (window[1], window[0])
    albums = {int(r["id"]): r for r in conn.rows(
        "SELECT id, kind, title, auto_key, edited, removed, start_ts, end_ts, cover_photo, "
        f"details FROM albums WHERE kind IN ('event', 'trip'){where}", params)}
    members: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    by_photo: dict[int, list[int]] = defaultdict(list)
    for aid in albums:
        for r in conn.rows("SELECT photo_id, removed, added_by, position FROM album_photos "
                           "WHERE album_id = ?", (aid,)):
            members[aid][int(r["photo_id"])] = r
            by_photo[int(r["photo_id"])].append(aid)

    def protected(a: dict[str, Any]) -> bool:
        # Edited or deleted by the person; or (an update only) reaching outside the window,
        # which can only happen if it changed since the window was drawn: leave it be.
        return bool(a["edited"] or a["removed"] or (
            window is not None and a["start_ts"] is not None
            and (a["start_ts"] < window[0] or a["end_ts"] > window[1])))

    now = now_iso()
    matched: set[int] = set()
    for kind in AUTO_KINDS:
        mine = [g for g in groups if g.kind == kind]
        candidates: list[tuple[int, int, int]] = []
        live: list[ev.Group | None] = []
        for gi, g in enumerate(mine):
            overlap: Counter[int] = Counter(
                a for pid in g.photo_ids for a in by_photo.get(pid, ())
                if albums[a]["kind"] == kind)
            claimed = {a for a in overlap if protected(albums[a])}
            if claimed:
                if 2 * sum(overlap[a] for a in claimed) > len(g.shots):
                    counts["kept"] += 1
                    live.append(None)
                    continue
                g.shots = [s for s in g.shots
                           if not any(a in claimed for a in by_photo.get(s.id, ()))]
                if len(g.shots) < min_photos:
                    counts["kept"] += 1
                    live.append(None)
                    continue
            live.append(g)
            candidates += [(n, gi, a) for a, n in overlap.items() if a not in claimed]
        pairs: dict[int, int] = {}
        for _n, gi, aid in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
            if gi in pairs or aid in matched:
                continue
            pairs[gi] = aid
            matched.add(aid)
        for gi, found in enumerate(live):
            if found is None:
                continue
            if gi in pairs:
                changed = _refill(conn, albums[pairs[gi]], members[pairs[gi]], found, now)
                counts["updated" if changed else "unchanged"] += 1
            else:
                _create(conn, found, now)
                counts["created"] += 1
    for aid, a in albums.items():
        if aid not in matched and not protected(a):
            conn.execute("DELETE FROM albums WHERE id = ?", (aid,))
            counts["deleted"] += 1
    return counts


def _wanted(g: ev.Group, current: dict[int, dict[str, Any]]) -> list[int]:
    """The group's photos less those the person took out of the album."""
    return [pid for pid in g.photo_ids if not (pid in current and current[pid]["removed"])]


def _finish(g: ev.Group, ids: list[int]) -> tuple[int, str]:
    cover = ids[len(ids) // 2] if ids else g.cover
    details = {**g.details, "photos": len(ids)}
    return cover, json.dumps(details, ensure_ascii=False, sort_keys=True)


def _refill(conn: Connection, album: dict[str, Any], current: dict[int, dict[str, Any]],
            g: ev.Group, now: str) -> bool:
    """Give a stored album the title and photos of its group; True if anything changed."""
    ids = _wanted(g, current)
    cover, details = _finish(g, ids)
    changed = False
    if (album["title"], album["start_ts"], album["end_ts"], album["cover_photo"],
            album["details"]) != (g.title, g.start_ts, g.end_ts, cover, details):
        conn.execute("UPDATE albums SET title = ?, start_ts = ?, end_ts = ?, cover_photo = ?, "
                     "details = ?, updated_at = ? WHERE id = ?",
                     (g.title, g.start_ts, g.end_ts, cover, details, now, album["id"]))
        changed = True
    keep = set(ids)
    gone = [(album["id"], pid) for pid, r in current.items()
            if pid not in keep and not r["removed"] and r["added_by"] == "auto"]
    if gone:
        conn.executemany("DELETE FROM album_photos WHERE album_id = ? AND photo_id = ?", gone)
        changed = True
    new = [(album["id"], pid, pos, now) for pos, pid in enumerate(ids) if pid not in current]
    if new:
        conn.executemany("INSERT INTO album_photos(album_id, photo_id, position, added_by, "
                         "added_at) VALUES (?, ?, ?, 'auto', ?)", new)
        changed = True
    moved = [(pos, album["id"], pid) for pos, pid in enumerate(ids)
             if pid in current and current[pid]["position"] != pos]
    if moved:
        conn.executemany("UPDATE album_photos SET position = ? WHERE album_id = ? "
                         "AND photo_id = ?", moved)
    return changed


def _create(conn: Connection, g: ev.Group, now: str) -> None:
    ids = g.photo_ids
    cover, details = _finish(g, ids)
    # Named after the photo it was first made from: stable, and readable in a bug report.
    key = base = f"{g.kind}:{ids[0]}"
    n = 1
    while conn.one("SELECT 1 FROM albums WHERE auto_key = ?", (key,)):
        n += 1
        key = f"{base}-{n}"
    conn.execute("INSERT INTO albums(kind, title, auto_key, start_ts, end_ts, cover_photo, "
                 "details, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (g.kind, g.title, key, g.start_ts, g.end_ts, cover, details, now, now))
    album_id = int(conn.raw.last_insert_rowid())
    conn.executemany("INSERT INTO album_photos(album_id, photo_id, position, added_by, "
                     "added_at) VALUES (?, ?, ?, 'auto', ?)",
                     [(album_id, pid, pos, now) for pos, pid in enumerate(ids)])
