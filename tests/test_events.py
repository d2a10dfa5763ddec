"""Event and trip finding (organize/events) on synthetic timestamps: no database."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from glimpse_desktop.albums import events as ev

# name: (lat, lon, city, region, country, country code)
PLACES = {
    "Lisbon": (38.7223, -9.1393, "Lisbon", "Lisbon", "Portugal", "PT"),
    "Sintra": (38.8029, -9.3817, "Sintra", "Lisbon", "Portugal", "PT"),
    "Porto": (41.1579, -8.6291, "Porto", "Porto", "Portugal", "PT"),
    "Kyoto": (35.0116, 135.7681, "Kyoto", "Kyoto", "Japan", "JP"),
    "Osaka": (34.6937, 135.5023, "Osaka", "Osaka", "Japan", "JP"),
    "Nara": (34.6851, 135.8048, "Nara", "Nara", "Japan", "JP"),
    "Kobe": (34.6901, 135.1955, "Kobe", "Hyogo", "Japan", "JP"),
    "Tokyo": (35.6762, 139.6503, "Tokyo", "Tokyo", "Japan", "JP"),
    "Vienna": (48.2082, 16.3738, "Vienna", "Vienna", "Austria", "AT"),
}
LISBON = PLACES["Lisbon"][:2]


class Maker:
    """Shots with increasing ids; times are local wall clock (offset 0)."""

    def __init__(self) -> None:
        self.next_id = 1

    def at(self, when: datetime, place: str | None = None) -> ev.Shot:
        ts = when.replace(tzinfo=UTC).timestamp()
        shot_id, self.next_id = self.next_id, self.next_id + 1
        if place is None:
            return ev.Shot(shot_id, ts, ts)
        lat, lon, city, region, country, cc = PLACES[place]
        return ev.Shot(shot_id, ts, ts, lat, lon, city, region, country, cc)

    def series(self, start: str, n: int, every_min: float,
               place: str | None = None) -> list[ev.Shot]:
        t0 = datetime.fromisoformat(start)
        return [self.at(t0 + timedelta(minutes=every_min * k), place) for k in range(n)]


def ordered(*parts: list[ev.Shot]) -> list[ev.Shot]:
    return sorted((s for p in parts for s in p), key=lambda s: (s.ts, s.id))


# ---------------------------------------------------------------------------- segmentation


def test_a_burst_is_one_event_and_weekly_photos_are_none() -> None:
    m = Maker()
    weekly = [m.at(datetime(2024, 1, 3, 12) + timedelta(weeks=k), "Lisbon") for k in range(20)]
    burst = m.series("2024-03-09T14:00", 200, 1.2, "Lisbon")   # Saturday afternoon
    found = ev.find_events(ordered(weekly, burst), LISBON)
    assert [g.title for g in found] == ["Saturday in Lisbon"]
    assert found[0].photo_ids == [s.id for s in burst]


def test_the_gap_that_splits_follows_the_rhythm() -> None:
    m = Maker()
    # Someone who takes a photo every 50 minutes: a 4-hour lull is part of their day.
    sparse = (m.series("2024-05-04T09:00", 5, 50, "Lisbon")
              + m.series("2024-05-04T16:30", 5, 50, "Lisbon"))
    assert len(ev.find_events(sparse)) == 1
    # Someone who shoots a photo a minute: the same lull ends one outing and starts another.
    dense = (m.series("2024-05-11T09:00", 60, 1, "Lisbon")
             + m.series("2024-05-11T14:00", 60, 1, "Lisbon"))
    found = ev.find_events(dense, LISBON)
    assert [g.title for g in found] == ["Saturday morning in Lisbon",
                                       "Saturday afternoon in Lisbon"]
    # ...while a lunch break shorter than min_gap never splits, however dense the shooting.
    lunch = (m.series("2024-05-18T10:00", 60, 1, "Lisbon")
             + m.series("2024-05-18T13:30", 60, 1, "Lisbon"))
    assert len(ev.find_events(lunch, LISBON)) == 1


def test_gap_thresholds_are_bounded() -> None:
    p = ev.DEFAULT
    burst = [k * 5.0 for k in range(50)]
    assert set(ev.gap_thresholds(burst)) == {p.min_gap}
    sparse = [k * 3 * ev.HOUR for k in range(20)]
    assert set(ev.gap_thresholds(sparse)) == {p.max_gap}
    assert ev.gap_thresholds([1.0]).size == 0


def test_a_change_of_place_splits_without_a_pause() -> None:
    m = Maker()
    shots = (m.series("2024-03-16T09:00", 20, 5, "Kyoto")
             + m.series("2024-03-16T10:45", 20, 5, "Osaka"))
    found = ev.find_events(shots)
    assert [g.title for g in found] == ["Saturday in Kyoto", "Saturday in Osaka"]
    # Within the place radius (Lisbon to Sintra is ~22 km) it does not.
    near = m.series("2024-03-23T09:00", 10, 5, "Lisbon") + m.series("2024-03-23T10:00", 10, 5,
                                                                     "Sintra")
    found = ev.find_events(near)
    assert len(found) == 1
    assert found[0].title == "Saturday in Lisbon and Sintra"


def test_minimum_size() -> None:
    m = Maker()
    five = m.series("2024-06-01T10:00", 5, 2, "Lisbon")
    six = m.series("2024-06-08T10:00", 6, 2, "Lisbon")
    found = ev.find_events(five + six)
    assert [len(g.shots) for g in found] == [6]
    assert ev.find_events(five, params=ev.Params(min_photos=5))[0].title == "Saturday in Lisbon"


def test_days_join_away_from_home_not_at_home() -> None:
    m = Maker()
    porto = (m.series("2024-05-04T10:00", 15, 10, "Porto")      # Saturday
             + m.series("2024-05-05T09:30", 15, 10, "Porto"))   # Sunday
    assert [g.title for g in ev.find_events(porto, LISBON)] == ["Weekend in Porto"]
    # The same two days in one's own city are two days.
    home = (m.series("2024-05-11T10:00", 15, 10, "Lisbon")
            + m.series("2024-05-12T09:30", 15, 10, "Lisbon"))
    assert [g.title for g in ev.find_events(home, LISBON)] == ["Saturday in Lisbon",
                                                               "Sunday in Lisbon"]
    # Without a known home nothing is known to be away: days stay apart.
    assert len(ev.find_events(porto, None)) == 2
    # Three weekdays away: place and dates.
    week = [s for d in (7, 8, 9) for s in m.series(f"2024-05-{d:02d}T10:00", 8, 20, "Porto")]
    assert [g.title for g in ev.find_events(week, LISBON)] == ["Porto, 7–9 May 2024"]


def test_a_late_night_belongs_to_its_evening() -> None:
    m = Maker()
    party = m.series("2024-06-15T21:00", 30, 10, "Lisbon")   # Saturday 21:00 to 01:50
    found = ev.find_events(party, LISBON)
    assert [g.title for g in found] == ["Saturday in Lisbon"]
    assert found[0].details["days"] == 1


def test_titles_without_place_names() -> None:
    m = Maker()
    shots = m.series("2024-05-04T10:00", 10, 5)
    assert ev.find_events(shots)[0].title == "Saturday, 4 May 2024"


# ---------------------------------------------------------------------------- holidays


@pytest.mark.parametrize(("year", "expected"), [
    (1818, date(1818, 3, 22)), (1943, date(1943, 4, 25)), (2000, date(2000, 4, 23)),
    (2019, date(2019, 4, 21)), (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)),
    (2038, date(2038, 4, 25))])
def test_easter_by_computus(year: int, expected: date) -> None:
    assert ev.easter(year) == expected


def test_holiday_titles() -> None:
    m = Maker()
    eve = m.series("2023-12-24T18:00", 12, 10, "Lisbon")
    day = m.series("2023-12-25T11:00", 12, 10, "Lisbon")
    # Christmas Eve and Day at home join, and are simply "Christmas".
    assert [g.title for g in ev.find_events(eve + day, LISBON)] == ["Christmas 2023"]
    assert [g.title for g in ev.find_events(eve, LISBON)] == ["Christmas Eve 2023"]
    # Away from home the place is said.
    vienna = m.series("2023-12-25T11:00", 12, 10, "Vienna")
    assert [g.title for g in ev.find_events(vienna, LISBON)] == ["Christmas 2023 in Vienna"]
    easter = m.series("2024-03-31T12:00", 10, 10, "Lisbon")
    assert [g.title for g in ev.find_events(easter, LISBON)] == ["Easter 2024"]
    nye = m.series("2023-12-31T22:00", 20, 10, "Lisbon")      # to 01:10 on New Year's Day
    assert [g.title for g in ev.find_events(nye, LISBON)] == ["New Year's Eve 2023"]
    assert ev.holiday(date(2024, 2, 14)) == ev.Holiday("Valentine's Day", 1)
    assert ev.holiday(date(2024, 3, 30)) is None


# ---------------------------------------------------------------------------- trips


def test_trip_abroad_titled_with_its_cities_and_month() -> None:
    m = Maker()
    before = m.series("2024-03-10T10:00", 10, 10, "Lisbon")
    trip = (m.series("2024-03-12T09:00", 30, 15, "Kyoto") + m.series("2024-03-13T09:00", 30, 15,
                                                                      "Kyoto")
            + m.series("2024-03-14T09:00", 20, 15, "Osaka") + m.series("2024-03-15T09:00", 10,
                                                                        15, "Osaka"))
    after = m.series("2024-03-17T10:00", 10, 10, "Lisbon")
    trips = ev.find_trips(ordered(before, trip, after), LISBON)
    assert [g.title for g in trips] == ["Trip to Kyoto and Osaka, March 2024"]
    assert trips[0].photo_ids == [s.id for s in trip]
    assert trips[0].details["days"] == 4
    assert trips[0].details["countries"] == ["Japan"]
    assert ev.find_trips(trip, None) == []


def test_trip_bridges_days_without_photos_but_not_a_day_at_home() -> None:
    m = Maker()
    a = m.series("2024-03-30T10:00", 10, 10, "Porto")
    b = m.series("2024-04-02T10:00", 10, 10, "Porto")         # two days without photos between
    assert [g.title for g in ev.find_trips(a + b, LISBON)] == [
        "Trip to Porto, March–April 2024"]
    home = m.series("2024-03-31T10:00", 3, 10, "Lisbon")
    assert ev.find_trips(ordered(a, home, b), LISBON) == []   # two one-day trips: none
    one_day = m.series("2024-05-04T10:00", 40, 5, "Porto")
    assert ev.find_trips(one_day, LISBON) == []


def test_many_cities_make_a_country_and_year_ends_are_spelled() -> None:
    m = Maker()
    shots: list[ev.Shot] = []
    for k, city in enumerate(("Tokyo", "Kyoto", "Osaka", "Nara", "Kobe")):
        shots += m.series(f"2023-12-{28 + k:02d}T10:00" if k < 4 else "2024-01-01T10:00",
                          10, 10, city)
    trips = ev.find_trips(shots, LISBON)
    assert [g.title for g in trips] == ["Trip to Japan, December 2023 – January 2024"]
    # Southern hemisphere and far west: distances are great-circle, signs respected.
    sydney, santiago = (-33.8688, 151.2093), (-33.4489, -70.6693)
    assert 11_000 < ev.haversine_km(*sydney, *santiago) < 11_500
    assert ev.haversine_km(*LISBON, *LISBON) == 0


def test_home_is_where_the_most_days_are() -> None:
    lisbon, kyoto = ev.cell_of(*LISBON), ev.cell_of(*PLACES["Kyoto"][:2])
    cells = [(*lisbon, day) for day in range(0, 300, 10)]             # 30 days, one photo each
    cells += [(*kyoto, 400 + k % 4) for k in range(2000)]             # 2,000 photos in 4 days
    assert ev.infer_home(cells) == lisbon
    # A home on a cell's edge still gathers its days from the neighbouring cell.
    edge = [(lisbon[0], lisbon[1] + 1, day) for day in range(1, 300, 10)]
    assert ev.infer_home(cells[:30] + edge + cells[30:]) in (lisbon, (lisbon[0], lisbon[1] + 1))
    assert ev.infer_home([(*kyoto, 1), (*kyoto, 2)]) is None           # too little to say


def test_words() -> None:
    assert ev.date_range(date(2024, 5, 3), date(2024, 5, 5)) == "3–5 May 2024"
    assert ev.date_range(date(2024, 4, 30), date(2024, 5, 2)) == "30 April – 2 May 2024"
    assert (ev.date_range(date(2023, 12, 30), date(2024, 1, 2))
            == "30 December 2023 – 2 January 2024")
    assert ev.month_range(date(2024, 3, 1), date(2024, 3, 9)) == "March 2024"
    assert ev.join_words(["Kyoto", "Osaka", "Nara"]) == "Kyoto, Osaka and Nara"


def test_a_day_away_stays_one_event_across_a_long_pause() -> None:
    m = Maker()
    kyoto = (m.series("2024-03-12T08:00", 60, 1, "Kyoto")
             + m.series("2024-03-12T19:00", 30, 1, "Kyoto"))     # temples, then dinner
    assert [g.title for g in ev.find_events(kyoto, LISBON)] == ["Tuesday in Kyoto"]


# ---------------------------------------------------------------------------- the albums a
# person would expect from a whole library


def _a_year_in_lisbon(m: Maker) -> dict[str, list[ev.Shot]]:
    """Six months of someone living in Lisbon: 8 to 14 photos on every ordinary day (an
    afternoon out, one photo every quarter of an hour), a birthday party of 80 photos (after a
    morning like any other), Christmas
    Eve and Day, a Saturday in Porto and four days in Kyoto (the morning of leaving at home)."""
    first, last = date(2024, 10, 1), date(2025, 3, 31)
    party, porto = date(2025, 2, 15), date(2025, 1, 18)                # both Saturdays
    kyoto = [date(2025, 3, d) for d in (12, 13, 14, 15)]
    out: dict[str, list[ev.Shot]] = defaultdict(list)
    day = first
    while day <= last:
        if day in kyoto[1:]:
            out["kyoto"] += m.series(f"{day}T09:00", 15, 20, "Kyoto")
        elif day == kyoto[0]:
            out["home"] += m.series(f"{day}T06:30", 3, 10, "Lisbon")
            out["kyoto"] += m.series(f"{day}T15:00", 12, 20, "Kyoto")
        elif day == porto:
            out["porto"] += m.series(f"{day}T11:00", 10, 15, "Porto")
        elif (day.month, day.day) in ((12, 24), (12, 25)):
            out["christmas"] += m.series(f"{day}T{'19' if day.day == 24 else '12'}:00", 12, 10,
                                         "Lisbon")
        else:
            n = 14 if day.weekday() >= 5 else 8 + day.toordinal() % 5
            taken = m.series(f"{day}T{'09' if day == party else '14'}:00", n, 15, "Lisbon")
            feast = ev.holiday(day)
            out[feast.name if feast else "home"] += taken
            if day == party:
                out["party"] += m.series(f"{day}T19:00", 80, 3, "Lisbon")
        day += timedelta(days=1)
    return out


def test_a_library_gives_the_albums_a_person_expects() -> None:
    parts = _a_year_in_lisbon(Maker())
    shots = ordered(*parts.values())
    found = ev.find_albums(shots, LISBON)
    # The trip once, no event for any of its days; the party, the holidays and the day away
    # as events; not one of the ~170 ordinary days at home.
    assert [(g.kind, g.title) for g in sorted(found, key=lambda g: g.start_ts)] == [
        ("event", "Halloween 2024"),
        ("event", "Christmas 2024"),
        ("event", "New Year's Eve 2024"),      # the afternoons of 31 December and 1 January
        ("event", "Saturday in Porto"),
        ("event", "Valentine's Day 2025"),
        ("event", "Saturday in Lisbon"),       # the party
        ("trip", "Trip to Kyoto, March 2025"),
    ]
    by_title = {g.title: g for g in found}
    assert by_title["Saturday in Lisbon"].photo_ids == [s.id for s in parts["party"]]
    assert by_title["Trip to Kyoto, March 2025"].photo_ids == [s.id for s in parts["kyoto"]]
    assert by_title["Christmas 2024"].photo_ids == [s.id for s in parts["christmas"]]
    # Twice a busy ordinary day (the 75th percentile is a Saturday's 14): 28 photos.
    assert ev.busy_threshold(ev.home_day_counts(ev.shot_day_rows(shots), LISBON)) == 28
    # A window of the library agrees with the whole when given the library's threshold.
    window = [s for s in shots if date(2025, 2, 10) <= ev.date_of(ev.day_of(s.local))
              <= date(2025, 2, 20)]
    assert [g.title for g in ev.find_albums(window, LISBON, busy=28)] == [
        "Valentine's Day 2025", "Saturday in Lisbon"]
    # The same days seen by find_events alone would repeat the trip as its days.
    assert "Kyoto, 12–15 March 2025" in [g.title for g in ev.find_events(shots, LISBON)]


def test_what_an_ordinary_day_is() -> None:
    lisbon, obidos, porto = LISBON, (39.3606, -9.1571), PLACES["Porto"][:2]
    rows: list[tuple[int, float | None, float | None, int]] = [
        (day, *lisbon, 10) for day in range(20)]
    rows += [(5, *obidos, 30)]          # an outing (70 km) is not part of an ordinary day
    rows += [(7, *porto, 40)]           # a day away is left out altogether
    rows += [(30, None, None, 9)]       # no position: counted where most photos are, at home
    counts = ev.home_day_counts(rows, lisbon)
    assert sorted(counts) == [9] + [10] * 19
    assert ev.busy_threshold(counts) == 20
    # Without a home every day counts, outings and days away too.
    assert sorted(ev.home_day_counts(rows, None))[-2:] == [10 + 30, 10 + 40]
    # Too few days say nothing about an ordinary one: the minimum size is all it takes.
    assert ev.busy_threshold(counts[:13]) == ev.DEFAULT.min_photos
    assert ev.busy_threshold([1] * 30) == ev.DEFAULT.min_photos
