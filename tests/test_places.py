"""Places: offline reverse geocoding, inferred places, search by place, incremental updates.

The geocoder is tested on real coordinates against the real GeoNames data the package ships;
the library tests use real JPEGs whose EXIF carries real GPS coordinates.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.places import service as core_places
from glimpse_desktop.places.geocode import (
    INFER_WINDOW_S,
    Geocoder,
    TimedPhoto,
    camera_key,
    geocoder,
    infer_places,
    place_text,
)
from glimpse_desktop.places.service import Places, fold
from tests import imagegen as ig
from tests.conftest import assert_consistent, eventually


@pytest.fixture(scope="module")
def coder() -> Geocoder:
    return geocoder()


# ---------------------------------------------------------------------------- the geocoder


@pytest.mark.parametrize(("where", "latlon", "city", "region", "country"), [
    ("Lisbon, Baixa", (38.7108, -9.1368), "Lisbon", "Lisbon", "Portugal"),
    # Nearer to the parish of Belém and to Algés than to Lisbon's centre; a person says Lisbon.
    ("Lisbon, Belém tower", (38.6916, -9.2160), "Lisbon", "Lisbon", "Portugal"),
    ("Lisbon, Jerónimos", (38.6979, -9.2068), "Lisbon", "Lisbon", "Portugal"),
    # A town of 26k, 22 km from Lisbon, keeps its own name.
    ("Sintra", (38.7976, -9.3907), "Sintra", "Lisbon", "Portugal"),
    ("Kyoto, Nakagyō", (35.0116, 135.7681), "Kyoto", "Kyoto", "Japan"),
    ("Sydney Opera House", (-33.8568, 151.2153), "Sydney", "New South Wales", "Australia"),
    ("São Paulo, Avenida Paulista", (-23.5614, -46.6559), "São Paulo", "São Paulo", "Brazil"),
    ("Cape Town", (-33.9249, 18.4241), "Cape Town", "Western Cape", "South Africa"),
    ("Vancouver", (49.2827, -123.1207), "Vancouver", "British Columbia", "Canada"),
    ("Suva", (-18.1416, 178.4419), "Suva", "Central", "Fiji"),
    ("Petropavlovsk-Kamchatsky", (53.02, 158.65), "Petropavlovsk-Kamchatsky", "Kamchatka",
     "Russian Federation"),
    # West of the antimeridian, its nearest town lies east of it (lon -179.1): a tree on raw
    # longitudes sees them 359 degrees apart.
    ("Chukotka, lon 179.95", (66.30, 179.95), "Egvekinot", "Chukotka", "Russian Federation"),
    ("Longyearbyen (78° N)", (78.2232, 15.6267), "Longyearbyen", "Svalbard",
     "Svalbard and Jan Mayen"),
    ("Paris, Eiffel tower", (48.8584, 2.2945), "Paris", "Île-de-France", "France"),
    ("New York, Times Square", (40.758, -73.9855), "New York City", "New York",
     "United States"),
])
def test_real_coordinates_name_the_place_a_person_would(
        coder: Geocoder, where: str, latlon: tuple[float, float], city: str, region: str,
        country: str) -> None:
    place = coder.lookup([latlon])[0]
    assert place is not None, where
    assert (place.city, place.region, place.country) == (city, region, country), where
    assert 0 <= place.distance_km < 50


def test_far_from_towns_keeps_the_country_and_mid_ocean_gets_nothing(coder: Geocoder) -> None:
    # Taveuni, Fiji, east of the antimeridian (lon -179.97): 85 km from Labasa (lon 179.36),
    # too far for a city, near enough for the country.
    taveuni, atlantic, pacific = coder.lookup([(-16.85, -179.97), (30.0, -40.0),
                                               (-30.0, -140.0)])
    assert taveuni is not None
    assert (taveuni.city, taveuni.country, taveuni.country_code) == (None, "Fiji", "FJ")
    assert 50 < taveuni.distance_km < 150
    assert atlantic is None and pacific is None


def test_lookup_is_batched_in_order_and_refuses_impossible_coordinates(coder: Geocoder) -> None:
    latlons = np.array([[35.0116, 135.7681], [math.nan, 0.0], [95.0, 10.0], [38.7108, -9.1368],
                        [10.0, 181.0]])
    found = coder.lookup(latlons)
    assert [p.city if p else None for p in found] == ["Kyoto", None, None, "Lisbon", None]
    assert coder.lookup([]) == []
    # A random sample of the globe: every answer is a place or None, never an error.
    rng = np.random.default_rng(7)
    sample = np.column_stack([np.degrees(np.arcsin(rng.uniform(-1, 1, 2000))),
                              rng.uniform(-180, 180, 2000)])
    results = coder.lookup(sample)
    assert len(results) == 2000
    assert all(p is None or (p.country and p.distance_km <= 150) for p in results)


def test_the_shared_geocoder_is_built_once(coder: Geocoder) -> None:
    assert geocoder() is coder
    assert len(coder) > 100_000


def test_place_text_says_a_region_named_like_its_city_once() -> None:
    assert place_text("Lisbon", "Lisbon", "Portugal") == "Lisbon, Portugal"
    assert place_text("Sintra", "Lisbon", "Portugal") == "Sintra, Lisbon, Portugal"
    assert place_text(None, "Northern", "Fiji") == "Northern, Fiji"


def test_fold_ignores_accents_case_and_punctuation() -> None:
    assert fold("São Paulo") == fold("sao paulo") == fold("SAO-PAULO") == "sao paulo"
    assert fold("  Île-de-France ") == "ile de france"


# ---------------------------------------------------------------------------- inference


def test_inference_takes_the_nearest_photo_in_time_from_the_same_camera() -> None:
    canon = camera_key("Canon", "Canon EOS R5")
    phone = camera_key("Apple", "iPhone 13")
    assert camera_key(" canon ", "canon  eos r5") == canon
    assert camera_key("Apple", None) is None and camera_key(None, "  ") is None
    t = 1_700_000_000.0
    photos = [
        TimedPhoto(1, t, canon, True),                     # GPS
        TimedPhoto(2, t + 600, canon, False),              # 10 min after 1
        TimedPhoto(3, t + 1500, canon, True),              # GPS, 25 min after 1
        TimedPhoto(4, t + 1200, canon, False),             # nearer to 3 than to 1
        TimedPhoto(5, t + 300, phone, False),              # another camera
        TimedPhoto(6, t + 100, None, False),               # no camera: no evidence
        TimedPhoto(7, t + 1500 + INFER_WINDOW_S + 1, canon, False),  # too long after 3
        TimedPhoto(8, t - INFER_WINDOW_S, canon, False),   # exactly one window before 1
        TimedPhoto(9, t + 750, canon, False),              # as far from 1 as from 3: earlier
    ]
    assert infer_places(photos) == {2: 1, 4: 3, 8: 1, 9: 1}
    # The answer does not depend on the order given.
    assert infer_places(list(reversed(photos))) == {2: 1, 4: 3, 8: 1, 9: 1}
    assert infer_places(photos, window_s=60) == {}


# ---------------------------------------------------------------------------- the library

T0 = "2023:06:10 10:00:00"


def _shot(folder: Path, name: str, when: str, *, gps: tuple[float, float] | None = None,
          model: str | None = "Canon EOS R5", make: str | None = "Canon", seed: int = 0,
          mtime: float | None = None) -> Path:
    return ig.write_jpeg(folder / name, (96, 64), seed=seed, datetime_original=when,
                         gps=gps, make=make if model else None, model=model, mtime=mtime)


@pytest.fixture
def placed_lib(lib: Library, photo_dir: Path) -> Library:
    """Photos on four continents (both hemispheres), plus photos without GPS around the
    Lisbon one."""
    trip = photo_dir / "trip"
    trip.mkdir()
    _shot(trip, "lisbon.jpg", T0, gps=(38.6916, -9.2160), seed=1)            # Belém tower
    _shot(trip, "lisbon_later.jpg", "2023:06:10 10:20:00", seed=2)           # inherits
    _shot(trip, "lisbon_evening.jpg", "2023:06:10 11:30:00", seed=3)         # too late
    _shot(trip, "phone.jpg", "2023:06:10 10:05:00", model="iPhone 13", make="Apple", seed=4)
    _shot(trip, "messenger.jpg", "2023:06:10 10:01:00", model=None, seed=5)  # no camera
    _shot(trip, "sintra.jpg", "2023:06:11 15:00:00", gps=(38.7976, -9.3907), seed=6)
    _shot(photo_dir, "kyoto.jpg", "2022:04:01 09:00:00", gps=(35.0116, 135.7681), seed=7)
    _shot(photo_dir, "sydney.jpg", "2021:01:01 12:00:00", gps=(-33.8568, 151.2153), seed=8)
    _shot(photo_dir, "saopaulo.jpg", "2020:03:03 18:00:00", gps=(-23.5614, -46.6559), seed=9)
    _shot(photo_dir, "vancouver.jpg", "2019:08:08 08:00:00", gps=(49.2827, -123.1207),
          seed=10)
    _shot(photo_dir, "atlantic.jpg", "2019:09:09 09:00:00", gps=(30.0, -40.0), seed=11)
    lib.set_faces(False)   # faces are not what is tested here
    lib.add_root(photo_dir)
    report = lib.index()
    assert report.new == 11 and report.errors == 0
    assert report.places == 8   # seven placed by GPS (one at sea, with no place) + one inferred
    return lib


def _id(lib: Library, name: str) -> int:
    return int(lib.reader().one("SELECT id FROM photos WHERE filename = ?", (name,)))


def _place(lib: Library, name: str) -> dict[str, Any] | None:
    return lib.reader().row("SELECT * FROM photo_places WHERE photo_id = ?",
                            (_id(lib, name),))


def test_index_places_every_photo_with_gps(placed_lib: Library) -> None:
    expected = {
        "lisbon.jpg": ("Lisbon", "Lisbon", "Portugal", "PT"),
        "sintra.jpg": ("Sintra", "Lisbon", "Portugal", "PT"),
        "kyoto.jpg": ("Kyoto", "Kyoto", "Japan", "JP"),
        "sydney.jpg": ("Sydney", "New South Wales", "Australia", "AU"),
        "saopaulo.jpg": ("São Paulo", "São Paulo", "Brazil", "BR"),
        "vancouver.jpg": ("Vancouver", "British Columbia", "Canada", "CA"),
    }
    for name, names in expected.items():
        row = _place(placed_lib, name)
        assert row is not None, name
        assert (row["city"], row["region"], row["country"], row["country_code"]) == names
        assert row["source"] == "gps" and row["from_photo"] is None
    # Looked up, and found to be nowhere: remembered, so it is not looked up again.
    at_sea = _place(placed_lib, "atlantic.jpg")
    assert at_sea is not None and at_sea["country"] is None
    atlantic = placed_lib.photo(_id(placed_lib, "atlantic.jpg"))
    assert atlantic is not None and atlantic.place is None
    assert_consistent(placed_lib)


def test_a_photo_without_gps_inherits_from_the_same_camera_minutes_apart(
        placed_lib: Library) -> None:
    inherited = _place(placed_lib, "lisbon_later.jpg")
    assert inherited is not None
    assert inherited["source"] == "inferred"
    assert inherited["from_photo"] == _id(placed_lib, "lisbon.jpg")
    assert (inherited["city"], inherited["country"]) == ("Lisbon", "Portugal")
    # Too long after, another camera, no camera at all: no place.
    for name in ("lisbon_evening.jpg", "phone.jpg", "messenger.jpg"):
        assert _place(placed_lib, name) is None, name
    info = placed_lib.photo(_id(placed_lib, "lisbon_later.jpg"))
    assert info is not None and info.place is not None and info.place.source == "inferred"
    assert info.place.from_photo == _id(placed_lib, "lisbon.jpg")
    assert placed_lib.places.of_photo(_id(placed_lib, "lisbon_later.jpg")) == info.place


def test_place_filter_and_plain_words_find_photos(placed_lib: Library) -> None:
    def found(query: str) -> set[str]:
        return {Path(h.path).name for h in placed_lib.search(query).hits}

    lisbon = {"lisbon.jpg", "lisbon_later.jpg"}
    # The city, and the region of the same name (which holds Sintra).
    assert found("place:Lisbon") == lisbon | {"sintra.jpg"}
    assert found("place:lisbon place:sintra") == {"sintra.jpg"}
    assert found("place:Portugal") == lisbon | {"sintra.jpg"}
    assert found("place:PT") == lisbon | {"sintra.jpg"}
    assert found("place:Sao Paulo") == {"saopaulo.jpg"} == found("place:são-paulo")
    assert found('place:"New South Wales"') == {"sydney.jpg"}
    assert found("place:japan after:2022") == {"kyoto.jpg"}
    assert found("place:japan before:2022") == set()
    result = placed_lib.search("place:Paris")
    assert result.hits == [] and any("Paris" in n.text for n in result.notices)
    # Place names are in the text index: plain words find them, accents folded.
    assert {Path(h.path).name for h in placed_lib.text_search("kyoto")} == {"kyoto.jpg"}
    assert found("sao paulo") == {"saopaulo.jpg"}
    assert found("sintra") == {"sintra.jpg"}
    vocabulary = placed_lib.search_vocabulary()["place"]
    assert {"Lisbon", "Portugal", "Kyoto", "Japan", "São Paulo"} <= set(vocabulary)
    assert vocabulary[0] in ("Lisbon", "Portugal")   # most photographed first


def test_tree_counts_and_covers(placed_lib: Library) -> None:
    tree = placed_lib.places.tree()
    assert tree[0].name == "Portugal"
    portugal = tree[0]
    assert (portugal.photos, portugal.inferred, portugal.country_code) == (3, 1, "PT")
    assert portugal.cover == _id(placed_lib, "sintra.jpg")   # the most recent
    (region,) = portugal.regions
    assert region.name == "Lisbon" and region.photos == 3
    assert [(c.name, c.photos, c.inferred) for c in region.cities] == [
        ("Lisbon", 2, 1), ("Sintra", 1, 0)]
    assert region.cities[0].cover == _id(placed_lib, "lisbon_later.jpg")
    assert {c.name for c in tree} == {"Portugal", "Japan", "Australia", "Brazil", "Canada"}
    assert sum(c.photos for c in tree) == 7
    assert placed_lib.places.photos(country="Portugal", city="Lisbon") == [
        _id(placed_lib, "lisbon_later.jpg"), _id(placed_lib, "lisbon.jpg")]
    assert placed_lib.places.photos(country="Japan") == [_id(placed_lib, "kyoto.jpg")]
    status = placed_lib.places.status()
    assert (status.placed, status.inferred, status.nowhere) == (6, 1, 1)
    assert (status.countries, status.cities) == (5, 6)
    assert placed_lib.status().places == status


def _raise() -> Geocoder:
    raise AssertionError("nothing to look up, yet the geocoder was asked for")


def test_nothing_changed_means_nothing_looked_up_or_written(
        placed_lib: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    before = placed_lib.reader().rows("SELECT * FROM photo_places ORDER BY photo_id")
    quiet = Places(reader=placed_lib.reader, writer=placed_lib.writer, geocoder=_raise)
    report = quiet.update()
    assert report.changed == 0 and not report.cancelled
    assert placed_lib.reader().rows("SELECT * FROM photo_places ORDER BY photo_id") == before
    # Once the last write is older than the safety margin, the pass is one query and
    # writes nothing at all. A negative margin puts the mark ahead of every write so far,
    # as the passing of the margin would.
    monkeypatch.setattr(core_places, "CHECK_MARGIN_S", -5.0)
    quiet.update()
    calls: list[object] = []
    real_call = placed_lib.writer.call
    monkeypatch.setattr(placed_lib.writer, "call",
                        lambda fn, *a: calls.append(fn) or real_call(fn, *a))
    assert quiet.update().changed == 0
    assert calls == []


def test_new_and_changed_photos_are_placed_by_index(placed_lib: Library,
                                                    photo_dir: Path) -> None:
    trip = photo_dir / "trip"
    # A new photo with GPS; and the Lisbon photo loses its GPS (edited, re-saved).
    _shot(photo_dir, "capetown.jpg", "2018:02:02 12:00:00", gps=(-33.9249, 18.4241), seed=12)
    _shot(trip, "lisbon.jpg", T0, seed=13, mtime=time.time() + 5)
    report = placed_lib.index()
    assert report.new == 1 and report.updated == 1
    cape = _place(placed_lib, "capetown.jpg")
    assert cape is not None and cape["city"] == "Cape Town"
    assert _place(placed_lib, "lisbon.jpg") is None
    # The photo that inherited from it has nothing to inherit now.
    assert _place(placed_lib, "lisbon_later.jpg") is None
    in_words = placed_lib.reader().rows(
        "SELECT p.filename FROM photos_fts JOIN photos p ON p.id = photos_fts.rowid "
        "WHERE photos_fts MATCH '{places} : lisbon'")
    assert [r["filename"] for r in in_words] == ["sintra.jpg"]
    assert placed_lib.search("place:cape town").hits[0].path.endswith("capetown.jpg")
    # GPS back, 15 minutes later in the day: it is placed again and gives its place again.
    _shot(trip, "lisbon.jpg", "2023:06:10 10:15:00", gps=(38.7108, -9.1368), seed=14,
          mtime=time.time() + 10)
    placed_lib.index()
    assert _place(placed_lib, "lisbon.jpg")["source"] == "gps"  # type: ignore[index]
    later = _place(placed_lib, "lisbon_later.jpg")
    assert later is not None and later["from_photo"] == _id(placed_lib, "lisbon.jpg")
    # 11:30 is 75 minutes after it, still beyond the window: no place.
    assert _place(placed_lib, "lisbon_evening.jpg") is None
    assert_consistent(placed_lib)


def test_forgetting_the_source_photo_removes_the_inferred_place(placed_lib: Library,
                                                               photo_dir: Path) -> None:
    (photo_dir / "trip" / "lisbon.jpg").unlink()
    placed_lib.index()
    assert placed_lib.forget_missing()
    report = placed_lib.places.update()
    assert report.uninferred == 1
    assert _place(placed_lib, "lisbon_later.jpg") is None
    assert placed_lib.search("place:lisbon").hits[0].path.endswith("sintra.jpg")
    assert_consistent(placed_lib)


def test_a_library_read_before_places_gets_its_places_in_one_pass(
        lib: Library, photo_dir: Path) -> None:
    for i in range(30):
        _shot(photo_dir, f"kyoto{i:02d}.jpg", f"2022:04:01 09:{i:02d}:00",
              gps=(35.0116, 135.7681) if i % 3 == 0 else None, seed=i)
    lib.set_faces(False)
    lib.add_root(photo_dir)
    lib.index()
    # As if Places had never run: no place, no place words, no mark.
    lib.writer.call(lambda c: (c.execute("DELETE FROM photo_places"),
                               c.execute("DELETE FROM photo_text WHERE field = 'places'"),
                               c.execute("DELETE FROM settings WHERE key = ?",
                                         (core_places.CHECKED_KEY,))))
    events: list[Any] = []
    report = lib.places.update(progress=events.append)
    assert (report.placed, report.inferred) == (10, 20)
    assert events and events[-1].finished
    assert lib.places.tree()[0].photos == 30


def test_the_watcher_places_photos_as_they_arrive(lib: Library, photo_dir: Path) -> None:
    lib.set_faces(False)
    lib.add_root(photo_dir)
    lib.index()
    reports: list[Any] = []
    with lib.watcher(settle=0.3, poll=0.05,
                     on_report=lambda why, report: reports.append(report)) as watcher:
        _shot(photo_dir, "vancouver.jpg", T0, gps=(49.2827, -123.1207), seed=1)
        _shot(photo_dir, "vancouver2.jpg", "2023:06:10 10:03:00", seed=2)
        assert eventually(lambda: _place_of_file(lib, "vancouver2.jpg") is not None, 30)
        assert watcher.error is None
    assert _place_of_file(lib, "vancouver.jpg") == ("Vancouver", "gps")
    assert _place_of_file(lib, "vancouver2.jpg") == ("Vancouver", "inferred")
    assert sum(r.places for r in reports) == 2


def _place_of_file(lib: Library, name: str) -> tuple[str, str] | None:
    row = lib.reader().row("SELECT pp.city, pp.source FROM photo_places pp JOIN photos p "
                           "ON p.id = pp.photo_id WHERE p.filename = ?", (name,))
    return None if row is None else (row["city"], row["source"])
