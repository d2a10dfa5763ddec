"""Events and trips: the albums a person would have made from their own photos.

Pure functions over plain values (no database): core reads the photos of a time window, calls
these, and reconciles the result with the albums already stored. Everything here is tested
with synthetic timestamps.

Events, step by step (and why):

1. **Moments from adaptive time gaps.** Between two photos in time order, a gap splits when it
   is much larger (``gap_factor`` times) than the typical gap around it: the median of the
   ``gap_window`` gaps on either side. A burst of 200 photos in an afternoon has a typical gap
   of a minute, so a three-hour pause ends it; someone who takes a photo every hour keeps a
   whole day together. The threshold is bounded: never below ``min_gap`` (a coffee break does
   not split an outing) and never above ``max_gap`` (10 h: a photo a day never chains days
   into one event, and a night's sleep separates days at home). Gaps above ``max_gap`` are
   left out of the "typical" median: they are between events, not inside them.
2. **A change of place splits.** A photo located more than ``place_km`` from the previous
   located photo starts a new moment even without a pause (Kyoto in the morning, Osaka after
   lunch are two events).
3. **Moments join only where a person would join them.** Moments of the same day or of
   consecutive days (days start at 05:00, so a party past midnight belongs to its evening)
   become one event when both are at the same place away from home (a weekend in Porto, a
   morning and an evening in Kyoto), or on a holiday (Christmas Eve and Christmas Day, New
   Year's Eve and Day). At home they stay apart: every Tuesday at home is not one endless
   event, and a morning walk and an evening dinner are two.
4. **A minimum size**: ``min_photos`` (6). Fewer is a snapshot, not an event; a weekly photo
   never makes an album.
5. **At home, an event stands out from an ordinary day.** Someone who takes ten photos on
   every day at home does not have an event every day. An event at home (or whose place is
   unknown) is kept only when it has many more photos than the person's usual day
   (``busy_factor`` times the ``busy_percentile`` of photos per day at home, derived from the
   library itself, see ``busy_threshold``), or falls on a holiday. Away from home (more than
   ``place_km`` from it) an event needs nothing more: a day in Porto is not an ordinary day.
6. **A trip holds its days** (``find_albums``): photos that belong to a trip make no event of
   their own; "Kyoto, 12–14 March 2025" beside "Trip to Kyoto, March 2025" says one thing
   twice.

Photos dated from their file's modification time are not given to these functions at all
(core leaves them out): that date says when a file was copied, not when it was taken.

Titles, one consistent scheme:

- a holiday within a short event (up to 3 days): "Christmas 2023"; away from home, with the
  place: "Christmas 2023 in Vienna";
- one day: weekday and place, "Saturday in Lisbon" (no place known: "Saturday, 4 May 2024");
  two events of the same day and place get the part of the day, "Saturday evening in Lisbon";
- a weekend (Saturday and Sunday, maybe Friday): "Weekend in Porto";
- other spans: "Lisbon, 3–5 May 2024".

Trips: days are "away" when a photo of the day lies more than ``away_km`` (100 km) from home
and "home" when every located photo of the day is near it; days without located photos are
unknown. Away days in a row (up to ``trip_bridge_days`` unknown or photo-less days between them,
never a home day) make a trip when they cover at least ``trip_min_days`` calendar days and
``min_photos`` photos. Its photos are those of its days, less the located ones taken near home
(the morning before leaving). Title: "Trip to Kyoto and Osaka, March 2024" — the 1–3 places with
most photos (a place with under a tenth of the named photos is left out), or the countries when
more cities than that were visited ("Trip to Japan, March 2024"), and the months it covers.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

HOUR = 3600.0
DAY = 86400.0
EPOCH = date(1970, 1, 1)

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Params:
    """The knobs of event and trip finding, with the defaults the module docstring argues."""

    min_gap: float = 3 * HOUR
    max_gap: float = 10 * HOUR
    gap_factor: float = 8.0
    gap_window: int = 10
    place_km: float = 30.0
    away_km: float = 100.0
    min_photos: int = 6
    trip_min_days: int = 2
    trip_bridge_days: int = 2
    day_start_hour: int = 5
    holiday_max_days: int = 3
    busy_percentile: float = 75.0
    busy_factor: float = 2.0
    busy_min_days: int = 14      # fewer days at home say nothing about an ordinary one


DEFAULT = Params()


@dataclass(frozen=True, slots=True)
class Shot:
    """One photo as the organisers see it.

    ``ts`` orders photos and measures gaps (the library's ``taken_ts``); ``local`` is the
    wall-clock time as seconds since 1970 read as UTC (``taken_ts`` plus the offset), which
    decides days, weekdays and holidays. Place names come from reverse geocoding and may be
    missing even where ``lat``/``lon`` are known.
    """

    id: int
    ts: float
    local: float
    lat: float | None = None
    lon: float | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    country_code: str | None = None

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass
class Group:
    """An event or a trip as computed: its photos in time order, title and details."""

    kind: str                     # 'event' or 'trip'
    title: str
    shots: list[Shot]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def photo_ids(self) -> list[int]:
        return [s.id for s in self.shots]

    @property
    def start_ts(self) -> float:
        return self.shots[0].ts

    @property
    def end_ts(self) -> float:
        return self.shots[-1].ts

    @property
    def cover(self) -> int:
        """The middle photo: most often the heart of the event, not the arrival."""
        return self.shots[len(self.shots) // 2].id


# ---------------------------------------------------------------------------- geometry, days


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def day_of(local: float, params: Params = DEFAULT) -> int:
    """Day number (days since 1970-01-01) of a wall-clock time; a day starts at
    ``day_start_hour``, so 01:00 after a Saturday night still belongs to Saturday."""
    return math.floor((local - params.day_start_hour * HOUR) / DAY)


def date_of(day: int) -> date:
    return EPOCH + timedelta(days=day)


def _position(s: Shot) -> tuple[float, float] | None:
    return None if s.lat is None or s.lon is None else (s.lat, s.lon)


def centroid(shots: Iterable[Shot]) -> tuple[float, float] | None:
    """Median position of the located photos (a stray GPS fix does not move it)."""
    located = [s for s in shots if s.lat is not None and s.lon is not None]
    if not located:
        return None
    return (statistics.median(s.lat for s in located if s.lat is not None),
            statistics.median(s.lon for s in located if s.lon is not None))


def _far(a: tuple[float, float] | None, b: tuple[float, float] | None, km: float) -> bool:
    return a is not None and b is not None and haversine_km(a[0], a[1], b[0], b[1]) > km


def _near(a: tuple[float, float] | None, b: tuple[float, float] | None, km: float) -> bool:
    return a is not None and b is not None and haversine_km(a[0], a[1], b[0], b[1]) <= km


# ---------------------------------------------------------------------------- holidays


@dataclass(frozen=True)
class Holiday:
    name: str
    priority: int   # which one titles an event that covers two (Christmas over its Eve)


def easter(year: int) -> date:
    """Easter Sunday (Gregorian calendar), by the anonymous Gregorian computus."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


# Widely known, computable offline, and the same across most countries that use them.
_FIXED = {
    (1, 1): Holiday("New Year's Day", 2),
    (2, 14): Holiday("Valentine's Day", 1),
    (10, 31): Holiday("Halloween", 1),
    (12, 24): Holiday("Christmas Eve", 2),
    (12, 25): Holiday("Christmas", 3),
    (12, 31): Holiday("New Year's Eve", 3),
}
_EASTER = Holiday("Easter", 3)
_HOLIDAY_PAIRS = {((12, 24), (12, 25)), ((12, 31), (1, 1))}


def holiday(d: date) -> Holiday | None:
    """The holiday on a date, if it is one of the few every user would recognise."""
    fixed = _FIXED.get((d.month, d.day))
    if fixed is not None:
        return fixed
    if d.month in (3, 4) and d == easter(d.year):
        return _EASTER
    return None


# ---------------------------------------------------------------------------- words


def join_words(names: Sequence[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def date_range(first: date, last: date) -> str:
    """"4 May 2024", "3–5 May 2024", "30 April – 2 May 2024", "30 December 2023 – 2 January
    2024"."""
    if first == last:
        return f"{first.day} {MONTHS[first.month - 1]} {first.year}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {MONTHS[last.month - 1]} {last.year}"
    if first.year == last.year:
        return (f"{first.day} {MONTHS[first.month - 1]} – {last.day} "
                f"{MONTHS[last.month - 1]} {last.year}")
    return (f"{first.day} {MONTHS[first.month - 1]} {first.year} – {last.day} "
            f"{MONTHS[last.month - 1]} {last.year}")


def month_range(first: date, last: date) -> str:
    """"March 2024", "March–April 2024", "December 2023 – January 2024"."""
    if (first.year, first.month) == (last.year, last.month):
        return f"{MONTHS[first.month - 1]} {first.year}"
    if first.year == last.year:
        return f"{MONTHS[first.month - 1]}–{MONTHS[last.month - 1]} {last.year}"
    return f"{MONTHS[first.month - 1]} {first.year} – {MONTHS[last.month - 1]} {last.year}"


def part_of_day(local: float) -> str:
    hour = (local % DAY) / HOUR
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 21:
        return "evening"
    return "night"


def _place_name(s: Shot) -> str | None:
    return s.city or s.region or s.country


def _ranked_names(names: Counter[str], keep_share: float) -> list[str]:
    """Names by photo count (ties: the first seen, Counter keeps insertion order), without
    those under ``keep_share`` of the named photos; the first is always kept."""
    total = sum(names.values())
    ranked = names.most_common()
    return [n for i, (n, c) in enumerate(ranked) if i == 0 or c >= keep_share * total]


def event_place(shots: Sequence[Shot]) -> str | None:
    """An event's place in words: its city, or two when the second has at least a third as
    many photos as the first ("Kyoto and Nara"); region or country where no city is known."""
    names = Counter(n for s in shots if (n := _place_name(s)))
    if not names:
        return None
    ranked = names.most_common(2)
    if len(ranked) == 2 and ranked[1][1] * 3 >= ranked[0][1]:
        return join_words([ranked[0][0], ranked[1][0]])
    return ranked[0][0]


def trip_places(shots: Sequence[Shot]) -> list[str]:
    """The 1–3 places that name a trip: cities, or countries when more than three cities
    count (each with at least a tenth of the named photos)."""
    cities = Counter(n for s in shots if (n := _place_name(s)))
    if not cities:
        return []
    kept = _ranked_names(cities, 0.1)
    if len(kept) <= 3:
        return kept
    countries = Counter(s.country for s in shots if s.country)
    if not countries:
        return kept[:3]
    return _ranked_names(countries, 0.1)[:3]


# ---------------------------------------------------------------------------- events


def gap_thresholds(ts: Sequence[float], params: Params = DEFAULT) -> np.ndarray[Any, Any]:
    """For each gap between consecutive times, the length above which it splits (see the
    module docstring, step 1). Vectorised: 100k photos take a fraction of a second."""
    t = np.asarray(ts, dtype=np.float64)
    gaps = np.diff(t)
    if gaps.size == 0:
        return gaps
    w = params.gap_window
    usable = np.where(gaps <= params.max_gap, gaps, np.nan)
    padded = np.concatenate([np.full(w, np.nan), usable, np.full(w, np.nan)])
    windows = sliding_window_view(padded, 2 * w + 1).copy()
    windows[:, w] = np.nan          # the gap itself is not part of its own neighbourhood
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN rows: an isolated photo
        typical = np.nanmedian(windows, axis=1)
    typical = np.where(np.isnan(typical), params.max_gap, typical)
    result: np.ndarray[Any, Any] = np.clip(params.gap_factor * typical, params.min_gap,
                                           params.max_gap)
    return result


def moments(shots: Sequence[Shot], params: Params = DEFAULT) -> list[list[Shot]]:
    """Split photos (in time order) at adaptive gaps and at changes of place."""
    if not shots:
        return []
    limits = gap_thresholds([s.ts for s in shots], params)
    out: list[list[Shot]] = []
    current = [shots[0]]
    anchor = _position(shots[0])
    for i in range(1, len(shots)):
        s = shots[i]
        here = _position(s)
        split = s.ts - shots[i - 1].ts > limits[i - 1]
        if not split and here is not None and anchor is not None:
            split = haversine_km(anchor[0], anchor[1], here[0], here[1]) > params.place_km
        if split:
            out.append(current)
            current = [s]
        else:
            current.append(s)
        if here is not None:
            anchor = here
    out.append(current)
    return out


@dataclass
class _Piece:
    shots: list[Shot]
    first_day: int
    last_day: int
    where: tuple[float, float] | None


def _piece(shots: list[Shot], params: Params) -> _Piece:
    return _Piece(shots, day_of(shots[0].local, params), day_of(shots[-1].local, params),
                  centroid(shots))


def _joins(a: _Piece, b: _Piece, home: tuple[float, float] | None, params: Params) -> bool:
    """Whether moment ``b`` continues event ``a``, later that day or on the next (step 3)."""
    days_apart = b.first_day - a.last_day
    if days_apart not in (0, 1):
        return False
    d1, d2 = date_of(a.last_day), date_of(b.first_day)
    if (days_apart == 0 and holiday(d1) is not None) or (
            ((d1.month, d1.day), (d2.month, d2.day)) in _HOLIDAY_PAIRS):
        return a.where is None or b.where is None or _near(a.where, b.where, params.place_km)
    return (_near(a.where, b.where, params.place_km) and home is not None
            and _far(a.where, home, params.away_km))


def home_day_counts(rows: Iterable[tuple[int, float | None, float | None, int]],
                    home: tuple[float, float] | None,
                    params: Params = DEFAULT) -> list[int]:
    """Photos per day at home, from ``(day, lat, lon, photos)`` rows (several rows may share
    a day). A day with a photo more than ``away_km`` from home is left out (a day of a trip),
    and photos more than ``place_km`` from home are not counted (an outing); photos without a
    position count where they were taken, which is most often home. Without a home every day
    counts."""
    per_day: dict[int, int] = defaultdict(int)
    away: set[int] = set()
    for day, lat, lon, n in rows:
        if home is not None and lat is not None and lon is not None:
            km = haversine_km(home[0], home[1], lat, lon)
            if km > params.away_km:
                away.add(day)
                continue
            if km > params.place_km:
                continue
        per_day[day] += n
    return [n for day, n in per_day.items() if n > 0 and day not in away]


def busy_threshold(day_counts: Sequence[int], params: Params = DEFAULT) -> int:
    """How many photos an event at home needs: ``busy_factor`` times the
    ``busy_percentile`` of photos per day at home (twice a busy ordinary day: a party, not a
    walk), never fewer than ``min_photos``. With fewer than ``busy_min_days`` days there is
    no ordinary day to compare with, and ``min_photos`` is all it takes."""
    if len(day_counts) < params.busy_min_days:
        return params.min_photos
    usual = float(np.percentile(np.asarray(day_counts, dtype=np.float64),
                                params.busy_percentile))
    return max(params.min_photos, math.ceil(params.busy_factor * usual))


def shot_day_rows(shots: Iterable[Shot],
                  params: Params = DEFAULT) -> list[tuple[int, float | None, float | None, int]]:
    """``home_day_counts`` rows of photos at hand (core counts them in SQL instead)."""
    return [(day_of(s.local, params), s.lat, s.lon, 1) for s in shots]


def find_albums(shots: Sequence[Shot], home: tuple[float, float] | None = None,
                params: Params = DEFAULT, *, busy: int | None = None,
                check: Callable[[], None] | None = None) -> list[Group]:
    """Events and trips among ``shots`` (in time order): the trips, and the events among the
    photos no trip holds (step 6). ``busy``: see ``find_events``."""
    if busy is None:
        busy = busy_threshold(home_day_counts(shot_day_rows(shots, params), home, params),
                              params)
    trips = find_trips(shots, home, params)
    held = {pid for t in trips for pid in t.photo_ids}
    rest = [s for s in shots if s.id not in held] if held else shots
    return find_events(rest, home, params, busy=busy, check=check) + trips


def find_events(shots: Sequence[Shot], home: tuple[float, float] | None = None,
                params: Params = DEFAULT, *, busy: int | None = None,
                check: Callable[[], None] | None = None) -> list[Group]:
    """Events among ``shots`` (in time order), titled. ``home`` (lat, lon) decides which
    days may join, whether a place is named with a holiday and which events must stand out
    (step 5); ``busy`` is the number of photos that makes an event at home stand out (core
    derives it from the whole library, so that grouping a window agrees with grouping
    everything), by default derived from ``shots``; ``check`` is called between steps (a
    cancel token's ``raise_if_cancelled``)."""
    if busy is None:
        busy = busy_threshold(home_day_counts(shot_day_rows(shots, params), home, params),
                              params)
    pieces: list[_Piece] = []
    for moment in moments(shots, params):
        piece = _piece(moment, params)
        if pieces and _joins(pieces[-1], piece, home, params):
            last = pieces[-1]
            pieces[-1] = _piece(last.shots + moment, params)
        else:
            pieces.append(piece)
    if check is not None:
        check()
    groups = [_event(p, home, params) for p in pieces if len(p.shots) >= params.min_photos]
    groups = [g for g in groups if "holiday" in g.details or len(g.shots) >= busy
              or (home is not None and _far(centroid(g.shots), home, params.place_km))]
    _disambiguate(groups)
    return groups


def _event(piece: _Piece, home: tuple[float, float] | None, params: Params) -> Group:
    shots = piece.shots
    days = sorted({day_of(s.local, params) for s in shots})
    first, last = date_of(days[0]), date_of(days[-1])
    place = event_place(shots)
    away = home is not None and _far(piece.where, home, params.away_km)
    details: dict[str, Any] = {
        "photos": len(shots), "start_date": first.isoformat(), "end_date": last.isoformat(),
        "days": len(days), "place": place, "away": away,
        "part_of_day": part_of_day(statistics.median(s.local for s in shots)),
    }
    if piece.where is not None:
        details["lat"], details["lon"] = round(piece.where[0], 5), round(piece.where[1], 5)
    feast = _holiday_of(shots, days, params)
    if feast is not None:
        name, year = feast
        details["holiday"] = name
        title = f"{name} {year}" + (f" in {place}" if away and place else "")
    elif first == last:
        title = _day_title(first, place, None)
    elif _weekend(days):
        title = f"Weekend in {place}" if place else f"Weekend of {date_range(first, last)}"
    else:
        title = f"{place}, {date_range(first, last)}" if place else date_range(first, last)
    return Group("event", title, shots, details)


def _day_title(d: date, place: str | None, part: str | None) -> str:
    when = WEEKDAYS[d.weekday()] + (f" {part}" if part else "")
    return f"{when} in {place}" if place else f"{when}, {date_range(d, d)}"


def _weekend(days: Sequence[int]) -> bool:
    weekdays = [date_of(d).weekday() for d in days]
    span = days[-1] - days[0] + 1
    return span <= 3 and 5 in weekdays and 6 in weekdays and set(weekdays) <= {4, 5, 6}


def _holiday_of(shots: Sequence[Shot], days: Sequence[int],
                params: Params) -> tuple[str, int] | None:
    if days[-1] - days[0] + 1 > params.holiday_max_days:
        return None
    counts: Counter[int] = Counter(day_of(s.local, params) for s in shots)
    best: tuple[int, int, str, int] | None = None
    for day, n in counts.items():
        d = date_of(day)
        h = holiday(d)
        if h is not None and (best is None or (h.priority, n) > best[:2]):
            best = (h.priority, n, h.name, d.year)
    return None if best is None else (best[2], best[3])


def _disambiguate(groups: list[Group]) -> None:
    """Two one-day events with the same title on the same day get the part of the day
    ("Saturday morning in Lisbon", "Saturday evening in Lisbon")."""
    same: dict[tuple[str, str], list[Group]] = defaultdict(list)
    for g in groups:
        if g.details["days"] == 1 and "holiday" not in g.details:
            same[(g.title, g.details["start_date"])].append(g)
    for clash in same.values():
        if len(clash) < 2:
            continue
        for g in clash:
            d = date.fromisoformat(g.details["start_date"])
            g.title = _day_title(d, g.details["place"], g.details["part_of_day"])


# ---------------------------------------------------------------------------- trips


def find_trips(shots: Sequence[Shot], home: tuple[float, float] | None,
               params: Params = DEFAULT) -> list[Group]:
    """Trips among ``shots`` (in time order): runs of days away from ``home`` (see the module
    docstring). No home, no trips."""
    if home is None or not shots:
        return []
    status: dict[int, str] = {}
    by_day: dict[int, list[Shot]] = defaultdict(list)
    for s in shots:
        day = day_of(s.local, params)
        by_day[day].append(s)
        if s.lat is None or s.lon is None:
            status.setdefault(day, "unknown")
        elif haversine_km(home[0], home[1], s.lat, s.lon) > params.away_km:
            status[day] = "away"
        elif status.get(day) != "away":
            status[day] = "home"
    runs: list[list[int]] = []
    current: list[int] = []
    for day in sorted(status):
        state = status[day]
        if state == "home":
            if current:
                runs.append(current)
            current = []
        elif state == "away":
            if current and day - current[-1] > params.trip_bridge_days + 1:
                runs.append(current)
                current = []
            current.append(day)
    if current:
        runs.append(current)
    trips: list[Group] = []
    for run in runs:
        first_day, last_day = run[0], run[-1]
        if last_day - first_day + 1 < params.trip_min_days:
            continue
        members = sorted((s for day in range(first_day, last_day + 1)
                          for s in by_day.get(day, ())
                          if not (s.lat is not None and s.lon is not None
                                  and haversine_km(home[0], home[1], s.lat, s.lon)
                                  <= params.away_km)),
                         key=lambda s: (s.ts, s.id))
        if len(members) < params.min_photos:
            continue
        trips.append(_trip(members, first_day, last_day))
    return trips


def _trip(shots: list[Shot], first_day: int, last_day: int) -> Group:
    first, last = date_of(first_day), date_of(last_day)
    places = trip_places(shots)
    months = month_range(first, last)
    title = (f"Trip to {join_words(places)}, {months}" if places
             else f"Trip away from home, {months}")
    countries = [c for c, _ in Counter(s.country for s in shots if s.country).most_common()]
    details: dict[str, Any] = {
        "photos": len(shots), "start_date": first.isoformat(), "end_date": last.isoformat(),
        "days": last_day - first_day + 1, "places": places, "countries": countries,
    }
    return Group("trip", title, shots, details)


# ---------------------------------------------------------------------------- home

CELL_DEGREES = 0.25


def cell_of(lat: float, lon: float) -> tuple[int, int]:
    """The grid cell (about 28 km) a position falls in, for counting days per place."""
    return round(lat / CELL_DEGREES), round(lon / CELL_DEGREES)


def infer_home(cell_days: Iterable[tuple[int, int, int]], *,
               min_days: int = 3, candidates: int = 50) -> tuple[int, int] | None:
    """The cell where photos were taken on the most distinct days, counting the days of its
    eight neighbours too (a home near a cell's edge is not split in two). Days, not photos:
    one trip with 2,000 photos must not become home. None with fewer than ``min_days``."""
    by_cell: dict[tuple[int, int], set[int]] = defaultdict(set)
    for cy, cx, day in cell_days:
        by_cell[(cy, cx)].add(day)
    if not by_cell:
        return None
    # Only the busiest cells can win; scoring all of them would be quadratic in the worst case.
    busiest = sorted(by_cell, key=lambda c: (-len(by_cell[c]), c))[:candidates]
    best: tuple[int, int, tuple[int, int]] | None = None
    for cell in busiest:
        days: set[int] = set()
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                days |= by_cell.get((cell[0] + dy, cell[1] + dx), set())
        score = (len(days), len(by_cell[cell]))
        if best is None or score > best[:2]:
            best = (score[0], score[1], cell)
    if best is None or best[0] < min_days:
        return None
    return best[2]
