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
from glimpse_desktop.albums import store
from glimpse_desktop.albums.records import AutoAlbum, Home, Memory
from glimpse_desktop.albums.store import Membership, StoredAlbum
from glimpse_desktop.kernel.config import get_setting, set_setting
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer, now_iso
from glimpse_desktop.kernel.progress import (
    Cancelled,
    CancelToken,
    ProgressCallback,
    ProgressMeter,
)

__all__ = ["AUTO_KINDS", "AutoAlbumReport", "AutoAlbums", "AutoAlbumsError"]

AUTO_KINDS = store.AUTO_KINDS
HOME_KEY = "albums.home"           # the person's own home: {"lat": .., "lon": ..}
STATE_KEY = "albums.auto.state"    # what the last build saw (see _State)
# Bump when grouping or titles change: the next update() then rebuilds everything.
# 2: trips hold their days (no event repeats them), events at home must stand out, photos
# dated from the file's modification time make no album.
ALGORITHM = 2
# How far around a changed photo an update looks again: trips bridge up to two days without
# photos, and an event's typical-gap median looks ten photos either side.
MARGIN = 3 * ev.DAY


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
    home: Home | None = None
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        """Albums made, changed or dropped: what the index report counts."""
        return self.created + self.updated + self.deleted


class AutoAlbums:
    """Events, trips, home and memories of one library (thread-safe: one build at a time)."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer,
                 params: ev.Params = ev.DEFAULT) -> None:
        self.reader = reader
        self.writer = writer
        self.params = params
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ home

    def home(self) -> Home | None:
        """Where the person lives: the one they set (``source`` 'set'), else inferred from
        where photos were taken on the most distinct days (``source`` 'inferred'); None when
        neither is known (no trips then)."""
        conn = self.reader()
        raw = get_setting(conn, HOME_KEY)
        if raw:
            try:
                value = json.loads(raw)
                lat, lon = float(value["lat"]), float(value["lon"])
            except (ValueError, KeyError, TypeError):
                pass        # a damaged setting is ignored (and replaced by the next set_home)
            else:
                return Home(lat=lat, lon=lon, place=self._place_near(conn, lat, lon),
                            source="set", days=None)
        return self._inferred_home(conn)

    def set_home(self, lat: float, lon: float) -> Home:
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

    def clear_home(self) -> Home | None:
        """Forget the home the person set; the inferred one (if any) is used again."""
        self.writer.call(lambda c: set_setting(c, HOME_KEY, None))
        return self.home()

    def _inferred_home(self, conn: Connection) -> Home | None:
        cells = store.located_days(conn)
        best = ev.infer_home(cells)
        if best is None:
            return None
        days = len({d for y, x, d in cells if abs(y - best[0]) <= 1 and abs(x - best[1]) <= 1})
        lat, lon = store.centre_of(conn, best)
        return Home(lat=round(lat, 5), lon=round(lon, 5), place=self._place_near(conn, lat, lon),
                    source="inferred", days=days)

    @staticmethod
    def _place_near(conn: Connection, lat: float, lon: float) -> str | None:
        """The city most photos near a point were placed in (about 25 km around it)."""
        found = store.city_near(conn, lat, lon)
        if found is None:
            return None
        return ", ".join(str(v) for v in found if v)

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
        # Timestamps have whole seconds: what changed in the second of the mark, before the
        # read, is remembered as seen; what changes later in that second is not, and is
        # grouped again next time (see _dirty_windows).
        _, seen_places = store.written_since(conn, at)
        newest = store.newest_photo_id(conn)
        # Each with the date it had: a photo written again within that second with another
        # date (a date set by hand twice in a second) is not taken for seen.
        seen = [[pid, ts] for pid, ts, _ in store.photos_changed_since(conn, newest, at)]
        mark: dict[str, Any] = {"version": ALGORITHM, "at": at, "max_id": newest,
                                "seen": seen, "seen_places": seen_places}
        home = self.home()
        home_point = None if home is None else (home.lat, home.lon)
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
            shots = store.shots(conn, window)
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
        report.by_kind = {kind: store.count_auto(conn, kind) for kind in AUTO_KINDS}

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
        rows = store.day_places(conn, self.params.day_start_hour * 3600)
        return ev.busy_threshold(ev.home_day_counts(rows, home, self.params), self.params)

    def _dirty_windows(self, conn: Connection,
                       state: dict[str, Any]) -> list[tuple[float, float]]:
        """Time ranges to group again: around photos added or changed (or re-placed) since
        the last build and around albums that lost photos, each widened by MARGIN and then
        to the automatic albums it overlaps, so that no album is ever cut in two."""
        max_id, since = int(state.get("max_id", 0)), str(state.get("at", ""))
        # (A state written before the dates were kept holds bare ids: those are grouped again.)
        seen = {int(s[0]): s[1] for s in state.get("seen", ())
                if isinstance(s, list) and len(s) == 2}
        seen_places = set(state.get("seen_places", ()))
        stamps: list[float] = []
        changed: list[int] = []         # photos already there at the last build
        for pid, ts, at in store.photos_changed_since(conn, max_id, since):
            if pid <= max_id and at == since and pid in seen and seen[pid] == ts:
                continue
            if ts is not None:
                stamps.append(float(ts))
            if pid <= max_id:
                changed.append(pid)
        for pid, ts, at in store.places_changed_since(conn, since):
            if ts is not None and not (at == since and pid in seen_places):
                stamps.append(float(ts))
        # A photo whose date changed left its old album: that album's time is dirty too; so
        # is an album that lost photos (forgotten ones).
        for lo, hi in store.spans_holding(conn, changed) + store.spans_that_lost_photos(conn):
            stamps += [lo, hi]
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
                first, last = store.span_of_overlapping(conn, lo, hi)
                new_lo = lo if first is None else min(lo, float(first))
                new_hi = hi if last is None else max(hi, float(last))
                if (new_lo, new_hi) == (lo, hi):
                    break
                lo, hi = new_lo, new_hi
            if out and lo <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], hi))
            else:
                out.append((lo, hi))
        return out

    # ------------------------------------------------------------------ reading

    def albums(self, kinds: Sequence[str] = AUTO_KINDS) -> list[AutoAlbum]:
        """Automatic albums newest first (deleted ones are not), each with its photo count,
        dates, cover and details; one query, cheap enough for thousands of events."""
        wanted = [k for k in kinds if k in AUTO_KINDS]
        if not wanted:
            raise AutoAlbumsError(f"automatic albums are of kinds {', '.join(AUTO_KINDS)}")
        return store.auto_albums(self.reader(), wanted)

    def memories(self, today: date | None = None) -> list[Memory]:
        """What to show on ``today`` (default: the local date): "On this day" photos of each
        earlier year, titled "1 year ago", "3 years ago" (29 February's photos show on 28
        February in other years), then events and trips of the same week (±3 days) in earlier
        years, titled as their album with "N years ago" beside. Only photos that can be shown
        now (status ok) and whose date was taken, not read from the file's modification time
        (the day a folder was copied is no memory)."""
        today = today or date.today()
        conn = self.reader()
        days = [f"{today.month:02d}-{today.day:02d}"]
        if (today.month, today.day) == (2, 28) and not _leap(today.year):
            days.append("02-29")
        by_year: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for pid, taken_at in store.taken_on_days(conn, days, today.year):
            by_year[int(taken_at[:4])].append((pid, taken_at))
        out: list[Memory] = []
        for year in sorted(by_year, reverse=True):
            photos = by_year[year]
            ago = today.year - year
            then = date.fromisoformat(photos[0][1][:10])
            out.append(Memory(kind="on_this_day", title=_years_ago(ago),
                              subtitle=f"On this day, {ev.date_range(then, then)}",
                              years_ago=ago, year=year, date=then.isoformat(),
                              photo_ids=tuple(pid for pid, _ in photos),
                              cover=photos[len(photos) // 2][0], count=len(photos)))
        for album in self.albums():
            start, end = album.start_date, album.end_date
            if not start or not end:
                continue
            first, last = date.fromisoformat(start), date.fromisoformat(end)
            if first.year >= today.year:
                continue
            then = _same_day(today, first.year)
            if not first - timedelta(days=3) <= then <= last + timedelta(days=3):
                continue
            ids = store.member_ids(conn, album.id, showable=True)
            if not ids:
                continue
            ago = today.year - first.year
            cover = album.cover if album.cover in ids else ids[len(ids) // 2]
            out.append(Memory(kind=album.kind, title=album.title, subtitle=_years_ago(ago),
                              years_ago=ago, year=first.year, date=start,
                              photo_ids=tuple(ids), cover=int(cover), count=len(ids),
                              album_id=album.id))
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


def _reconciler(groups: list[ev.Group], window: tuple[float, float] | None,
                min_photos: int) -> Callable[[Connection], dict[str, int]]:
    return lambda conn: _reconcile(conn, groups, window, min_photos)


def _reconcile(conn: Connection, groups: list[ev.Group], window: tuple[float, float] | None,
               min_photos: int) -> dict[str, int]:
    """Make the stored automatic albums of ``window`` (all of them when None) match
    ``groups``, inside the writer's transaction (the person's edits are read here, so an
    edit made while the groups were computed is still respected)."""
    counts = dict.fromkeys(("created", "updated", "unchanged", "deleted", "kept"), 0)
    albums = {a.id: a for a in store.auto_albums_overlapping(conn, window)}
    members: dict[int, dict[int, Membership]] = defaultdict(dict)
    by_photo: dict[int, list[int]] = defaultdict(list)
    for aid in albums:
        for m in store.memberships(conn, aid):
            members[aid][m.photo_id] = m
            by_photo[m.photo_id].append(aid)

    def protected(a: StoredAlbum) -> bool:
        # Edited or deleted by the person; or (an update only) reaching outside the window,
        # which can only happen if it changed since the window was drawn: leave it be.
        return a.edited or a.removed or (
            window is not None and a.start_ts is not None and a.end_ts is not None
            and (a.start_ts < window[0] or a.end_ts > window[1]))

    now = now_iso()
    matched: set[int] = set()
    for kind in AUTO_KINDS:
        mine = [g for g in groups if g.kind == kind]
        candidates: list[tuple[int, int, int]] = []
        live: list[ev.Group | None] = []
        for gi, g in enumerate(mine):
            overlap: Counter[int] = Counter(
                a for pid in g.photo_ids for a in by_photo.get(pid, ())
                if albums[a].kind == kind)
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
            store.delete_auto(conn, aid)
            counts["deleted"] += 1
    return counts


def _wanted(g: ev.Group, current: dict[int, Membership]) -> list[int]:
    """The group's photos less those the person took out of the album."""
    return [pid for pid in g.photo_ids if not (pid in current and current[pid].removed)]


def _finish(g: ev.Group, ids: list[int]) -> tuple[int, str]:
    cover = ids[len(ids) // 2] if ids else g.cover
    details = {**g.details, "photos": len(ids)}
    return cover, json.dumps(details, ensure_ascii=False, sort_keys=True)


def _refill(conn: Connection, album: StoredAlbum, current: dict[int, Membership],
            g: ev.Group, now: str) -> bool:
    """Give a stored album the title and photos of its group; True if anything changed."""
    ids = _wanted(g, current)
    cover, details = _finish(g, ids)
    changed = False
    if (album.title, album.start_ts, album.end_ts, album.cover_photo, album.details) != (
            g.title, g.start_ts, g.end_ts, cover, details):
        store.refill(conn, album.id, title=g.title, start_ts=g.start_ts, end_ts=g.end_ts,
                     cover=cover, details=details, now=now)
        changed = True
    keep = set(ids)
    gone = [pid for pid, m in current.items()
            if pid not in keep and not m.removed and m.added_by == "auto"]
    if gone:
        store.drop_auto_members(conn, album.id, gone)
        changed = True
    new = [(pos, pid) for pos, pid in enumerate(ids) if pid not in current]
    if new:
        store.add_auto_members(conn, album.id, new, now)
        changed = True
    moved = [(pos, pid) for pos, pid in enumerate(ids)
             if pid in current and current[pid].position != pos]
    if moved:
        store.move_members(conn, album.id, moved)
    return changed


def _create(conn: Connection, g: ev.Group, now: str) -> None:
    ids = g.photo_ids
    cover, details = _finish(g, ids)
    # Named after the photo it was first made from: stable, and readable in a bug report.
    album_id = store.create_auto(conn, g.kind, g.title, f"{g.kind}:{ids[0]}", g.start_ts,
                                 g.end_ts, cover, details, now)
    store.add_auto_members(conn, album_id, enumerate(ids), now)
