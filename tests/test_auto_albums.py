"""Automatic albums (events, trips), home and memories on a real library of real JPEGs with
EXIF dates, offsets and GPS: a home in Lisbon over months, a trip to Kyoto and Osaka, a weekend
in Porto, a weekend in Sydney (southern hemisphere) and a day in Buenos Aires."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from glimpse_desktop import cli
from glimpse_desktop.core import Library
from glimpse_desktop.library.db import Connection, now_iso
from glimpse_desktop.progress import CancelToken
from tests import imagegen as ig

# city: (lat, lon, region, country, country code, UTC offset)
CITIES = {
    "Lisbon": (38.7223, -9.1393, "Lisbon", "Portugal", "PT", "+01:00"),
    "Porto": (41.1579, -8.6291, "Porto", "Portugal", "PT", "+01:00"),
    "Kyoto": (35.0116, 135.7681, "Kyoto", "Japan", "JP", "+09:00"),
    "Osaka": (34.6937, 135.5023, "Osaka", "Japan", "JP", "+09:00"),
    "Sydney": (-33.8688, 151.2093, "New South Wales", "Australia", "AU", "+11:00"),
    "Buenos Aires": (-34.6037, -58.3816, "Buenos Aires", "Argentina", "AR", "-03:00"),
}


def shoot(folder: Path, city: str, start: str, n: int, every_min: float = 12,
          tag: str = "") -> list[Path]:
    """``n`` photos taken in ``city`` from ``start`` (local wall clock), with GPS and offset."""
    lat, lon, _region, _country, _cc, offset = CITIES[city]
    t0 = datetime.fromisoformat(start)
    out = []
    for k in range(n):
        when = t0 + timedelta(minutes=every_min * k)
        name = f"{city.replace(' ', '')}-{when:%Y%m%d-%H%M}{tag}.jpg"
        out.append(ig.write_jpeg(folder / name, (48, 32), seed=k,
                                 datetime_original=when.strftime("%Y:%m:%d %H:%M:%S"),
                                 offset_time_original=offset,
                                 gps=(lat + k * 1e-4, lon + k * 1e-4)))
    return out


def fill_places(lib: Library) -> None:
    """What reverse geocoding would write, from our own table (the test owns the names)."""

    def apply(c: Connection) -> None:
        for pid, lat, lon in c.execute("SELECT id, gps_lat, gps_lon FROM photos "
                                       "WHERE gps_lat IS NOT NULL").fetchall():
            city = min(CITIES, key=lambda n: (CITIES[n][0] - lat) ** 2 + (CITIES[n][1] - lon) ** 2)
            _lat, _lon, region, country, cc, _offset = CITIES[city]
            if c.one("SELECT city FROM photo_places WHERE photo_id = ?", (pid,)) == city:
                continue     # already placed: an unchanged place is not a change
            c.execute("INSERT OR REPLACE INTO photo_places(photo_id, source, lat, lon, city, "
                      "region, country, country_code, distance_km, updated_at) "
                      "VALUES (?, 'gps', ?, ?, ?, ?, ?, ?, 1.0, ?)",
                      (pid, lat, lon, city, region, country, cc, now_iso()))

    lib.writer.call(apply)


def make_world(folder: Path) -> None:
    # Home: Lisbon, a Saturday or Sunday a month for half a year.
    for day in ("2023-01-14", "2023-02-12", "2023-03-11", "2023-04-16", "2023-05-13",
                "2023-06-10", "2023-07-08"):
        shoot(folder, "Lisbon", f"{day}T10:00", 8)
    # Christmas at home.
    shoot(folder, "Lisbon", "2023-12-24T19:00", 6)
    shoot(folder, "Lisbon", "2023-12-25T12:00", 6)
    # A trip abroad: two days in Kyoto, two in Osaka.
    shoot(folder, "Kyoto", "2024-03-12T09:00", 10)
    shoot(folder, "Kyoto", "2024-03-13T09:00", 10)
    shoot(folder, "Osaka", "2024-03-14T09:00", 8)
    shoot(folder, "Osaka", "2024-03-15T09:00", 6)
    # A weekend in Porto; a weekend in Sydney; a Tuesday in Buenos Aires.
    shoot(folder, "Porto", "2023-09-16T11:00", 7)
    shoot(folder, "Porto", "2023-09-17T10:00", 7)
    shoot(folder, "Sydney", "2023-11-04T10:00", 8)
    shoot(folder, "Sydney", "2023-11-05T10:00", 8)
    shoot(folder, "Buenos Aires", "2023-10-10T15:00", 7)


@pytest.fixture
def world(lib: Library, photo_dir: Path) -> Library:
    make_world(photo_dir)
    lib.set_faces(False)         # faces are not what these tests are about: keep them fast
    lib.add_root(photo_dir)
    lib.index()
    fill_places(lib)
    return lib


def titles(lib: Library, kind: str | None = None) -> list[str]:
    return [a["title"] for a in lib.auto_albums.albums((kind,) if kind else ("event", "trip"))]


def album(lib: Library, title: str) -> dict[str, Any]:
    found = [a for a in lib.auto_albums.albums() if a["title"] == title]
    assert len(found) == 1, (title, titles(lib))
    return found[0]


def members(lib: Library, album_id: int) -> list[int]:
    return [int(r[0]) for r in lib.reader().execute(
        "SELECT photo_id FROM album_photos WHERE album_id = ? AND removed = 0 ORDER BY position",
        (album_id,))]


def photo_ids(lib: Library, pattern: str) -> list[int]:
    return [int(r[0]) for r in lib.reader().execute(
        "SELECT id FROM photos WHERE filename GLOB ? ORDER BY taken_ts", (pattern,))]


def test_events_trips_and_home(world: Library) -> None:
    lib = world
    # index() built the albums already (with the places it found); the places the test set
    # itself are grouped again by a rebuild.
    assert lib.auto_albums.albums()
    report = lib.auto_albums.rebuild()
    assert report.full and not report.cancelled
    home = lib.auto_albums.home()
    assert home is not None and home["source"] == "inferred"
    assert home["place"] == "Lisbon, Portugal" and home["days"] >= 9
    assert abs(home["lat"] - 38.72) < 0.05 and abs(home["lon"] + 9.14) < 0.05

    assert titles(lib, "trip") == ["Trip to Kyoto and Osaka, March 2024",
                                   "Trip to Sydney, November 2023",
                                   "Trip to Porto, September 2023"]
    japan = album(lib, "Trip to Kyoto and Osaka, March 2024")
    assert members(lib, japan["id"]) == photo_ids(lib, "Kyoto-*") + photo_ids(lib, "Osaka-*")
    assert japan["details"]["days"] == 4 and japan["details"]["countries"] == ["Japan"]

    events = titles(lib, "event")
    assert events == [
        "Osaka, 14–15 March 2024", "Kyoto, 12–13 March 2024",
        "Christmas 2023", "Weekend in Sydney", "Tuesday in Buenos Aires", "Weekend in Porto",
        "Saturday in Lisbon", "Saturday in Lisbon", "Saturday in Lisbon", "Sunday in Lisbon",
        "Saturday in Lisbon", "Sunday in Lisbon", "Saturday in Lisbon"]
    sydney = album(lib, "Weekend in Sydney")
    assert members(lib, sydney["id"]) == photo_ids(lib, "Sydney-*")
    assert (sydney["start_date"], sydney["end_date"]) == ("2023-11-04", "2023-11-05")
    assert len(members(lib, album(lib, "Christmas 2023")["id"])) == 12
    # Every automatic member was added by Glimpse.
    assert lib.reader().one("SELECT count(*) FROM album_photos WHERE added_by != 'auto'") == 0
    # The other helper's listing shows them too.
    listed = [a["title"] for a in lib.albums.list_albums(("trip",))]
    assert listed[0] == "Trip to Kyoto and Osaka, March 2024"

    # A rebuild finds the same albums again: same ids, nothing changed.
    before = {a["id"]: a["title"] for a in lib.auto_albums.albums()}
    again = lib.auto_albums.rebuild()
    assert (again.created, again.deleted, again.updated) == (0, 0, 0)
    assert {a["id"]: a["title"] for a in lib.auto_albums.albums()} == before
    # Nothing new: an update reads nothing.
    quiet = lib.auto_albums.update()
    assert not quiet.full and quiet.created == quiet.deleted == quiet.updated == 0


def test_incremental_update_extends_and_creates(world: Library, photo_dir: Path) -> None:
    lib = world
    lib.auto_albums.rebuild()
    kyoto = album(lib, "Kyoto, 12–13 March 2024")
    lisbon = {a["id"]: a["updated_at"] for a in _rows(lib)}
    # More photos in Kyoto that Tuesday evening, and a new Sunday at home.
    shoot(photo_dir, "Kyoto", "2024-03-12T11:00", 6, tag="b")
    shoot(photo_dir, "Lisbon", "2024-06-02T15:00", 9)
    # index() brings the automatic albums up to date itself: the Kyoto event and the trip
    # it is part of grow, the Sunday at home is new.
    indexed = lib.index()
    assert indexed.albums == 3
    fill_places(lib)
    report = lib.auto_albums.update()      # the places the test set: nothing to regroup
    assert report.created == report.deleted == 0
    extended = album(lib, "Kyoto, 12–13 March 2024")
    assert extended["id"] == kyoto["id"] and extended["count"] == kyoto["count"] + 6
    assert sorted(photo_ids(lib, "Lisbon-20240602*")) == sorted(
        members(lib, next(a["id"] for a in lib.auto_albums.albums()
                          if a["start_date"] == "2024-06-02")))
    # Albums far from the new photos were not touched.
    after = {a["id"]: a["updated_at"] for a in _rows(lib)}
    untouched = [i for i in lisbon if after.get(i) == lisbon[i]]
    assert len(untouched) >= len(lisbon) - 3


def _rows(lib: Library) -> list[dict[str, Any]]:
    return lib.reader().rows("SELECT id, title, updated_at FROM albums "
                             "WHERE kind IN ('event', 'trip') AND removed = 0")


def test_person_edits_survive_rebuild_and_update(world: Library, photo_dir: Path) -> None:
    lib = world
    lib.auto_albums.update()
    porto = album(lib, "Weekend in Porto")
    lib.albums.rename(porto["id"], "Porto with Ana")
    sydney = album(lib, "Weekend in Sydney")
    taken_out = members(lib, sydney["id"])[3]
    lib.albums.remove(sydney["id"], [taken_out])
    gone = album(lib, "Tuesday in Buenos Aires")
    lib.albums.delete(gone["id"])
    # A removed photo without the edited mark (an older client) is respected all the same.
    japan = album(lib, "Trip to Kyoto and Osaka, March 2024")
    out_of_trip = members(lib, japan["id"])[0]
    lib.writer.call(lambda c: c.execute(
        "UPDATE album_photos SET removed = 1 WHERE album_id = ? AND photo_id = ?",
        (japan["id"], out_of_trip)))
    lib.writer.call(lambda c: c.execute(
        "UPDATE albums SET details = json_set(details, '$.photos', "
        "json_extract(details, '$.photos') - 1) WHERE id = ?", (japan["id"],)))

    def check() -> None:
        assert "Weekend in Porto" not in titles(lib)
        assert album(lib, "Porto with Ana")["id"] == porto["id"]
        assert taken_out not in members(lib, sydney["id"])
        assert len(members(lib, sydney["id"])) == 15
        assert "Tuesday in Buenos Aires" not in titles(lib)
        assert lib.reader().one("SELECT count(*) FROM albums WHERE removed = 1") == 1
        assert out_of_trip not in members(lib, japan["id"])
        assert album(lib, "Trip to Kyoto and Osaka, March 2024")["id"] == japan["id"]

    check()
    lib.auto_albums.rebuild()
    check()
    # New photos in the time of every edited album: they neither change it nor make twins.
    shoot(photo_dir, "Porto", "2023-09-16T16:00", 4, tag="b")
    shoot(photo_dir, "Buenos Aires", "2023-10-10T17:00", 3, tag="b")
    shoot(photo_dir, "Sydney", "2023-11-05T16:00", 3, tag="b")
    lib.index()                 # which updates the automatic albums around the new photos
    fill_places(lib)
    check()
    assert len(members(lib, porto["id"])) == 14
    report = lib.auto_albums.rebuild()
    assert report.kept >= 3
    check()


def test_home_set_by_the_person_wins(world: Library) -> None:
    lib = world
    lib.auto_albums.update()
    assert lib.auto_albums.home()["source"] == "inferred"  # type: ignore[index]
    home = lib.auto_albums.set_home(35.0, 135.7)          # the person lives in Kyoto
    assert home["source"] == "set" and home["place"] == "Kyoto, Japan"
    report = lib.auto_albums.update()
    assert report.full          # home moved: everything is grouped again
    trips = titles(lib, "trip")
    assert "Trip to Kyoto and Osaka, March 2024" not in trips
    assert any(t.startswith("Trip to Lisbon") for t in trips)
    assert lib.auto_albums.clear_home()["source"] == "inferred"  # type: ignore[index]
    with pytest.raises(Exception, match="not a place on Earth"):
        lib.auto_albums.set_home(95.0, 0.0)


def test_memories_on_a_given_day(world: Library) -> None:
    lib = world
    lib.auto_albums.update()
    found = lib.auto_albums.memories(date(2025, 3, 12))
    on_this_day = [m for m in found if m["kind"] == "on_this_day"]
    assert [(m["title"], m["count"]) for m in on_this_day] == [("1 year ago", 10)]
    assert set(on_this_day[0]["photo_ids"]) == set(photo_ids(lib, "Kyoto-20240312*"))
    same_week = [m["title"] for m in found if m["kind"] != "on_this_day"]
    assert "Trip to Kyoto and Osaka, March 2024" in same_week
    assert "Kyoto, 12–13 March 2024" in same_week
    ago = {m["title"]: m["subtitle"] for m in found if m["kind"] != "on_this_day"}
    assert ago == {"Trip to Kyoto and Osaka, March 2024": "1 year ago",
                   "Kyoto, 12–13 March 2024": "1 year ago",
                   "Osaka, 14–15 March 2024": "1 year ago",
                   "Saturday in Lisbon": "2 years ago"}       # 11 March 2023
    two_years = lib.auto_albums.memories(date(2025, 1, 14))
    assert [m["title"] for m in two_years if m["kind"] == "on_this_day"] == ["2 years ago"]
    assert lib.auto_albums.memories(date(2025, 8, 1)) == []


def test_cancel_keeps_nothing_half_done(world: Library) -> None:
    lib = world
    # index() built the albums; a rebuild cancelled at once leaves them exactly as they were.
    def albums() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in lib.reader().execute(
            "SELECT a.id, a.title, a.updated_at, count(ap.photo_id) FROM albums a "
            "LEFT JOIN album_photos ap ON ap.album_id = a.id GROUP BY a.id ORDER BY a.id")]

    before = albums()
    assert before
    token = CancelToken()
    token.cancel()
    report = lib.auto_albums.rebuild(cancel=token)
    assert report.cancelled
    assert albums() == before
    after = lib.auto_albums.update()
    assert after.created == after.deleted == after.updated == 0


def test_cli(world: Library, library_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world.close()

    def run(*args: str) -> Any:
        code = cli.main(["--library", str(library_path), *args, "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        return json.loads(out)

    built = run("events", "--rebuild")
    assert built["report"]["full"] is True
    assert "Trip to Kyoto and Osaka, March 2024" in [a["title"] for a in built["albums"]]
    assert run("events")["report"]["created"] == 0
    assert run("home")["source"] == "inferred"
    assert run("home", "set", "-33.87", "151.21")["place"] == "Sydney, Australia"
    assert run("home", "clear")["source"] == "inferred"
    memories = run("memories", "--date", "2024-11-05")
    assert [m["title"] for m in memories][:1] == ["1 year ago"]
    code = cli.main(["--library", str(library_path), "memories", "--date", "5/11/2024"])
    assert code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    code = cli.main(["--library", str(library_path), "events"])
    out = capsys.readouterr().out
    assert code == 0 and "Trip to Kyoto and Osaka, March 2024" in out
