"""Automatic albums (events, trips), home and memories on a real library of real JPEGs with
EXIF dates, offsets and GPS, placed by the real offline geocoder: a home in Lisbon with
ordinary Saturdays for months, a birthday party, Christmas, a trip to Kyoto and Osaka, a
weekend in Porto, a weekend in Sydney (southern hemisphere), a day in Buenos Aires, and a
folder of undated files (their date is the files' modification time)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from glimpse_desktop import cli
from glimpse_desktop.albums import auto as aa
from glimpse_desktop.albums import events as ev
from glimpse_desktop.albums.records import AutoAlbum
from glimpse_desktop.api import Library
from glimpse_desktop.kernel.config import get_setting, set_setting
from glimpse_desktop.kernel.db import Connection, now_iso
from glimpse_desktop.kernel.progress import CancelToken
from tests import imagegen as ig

# city: (lat, lon, UTC offset)
CITIES = {
    "Lisbon": (38.7223, -9.1393, "+01:00"),
    "Porto": (41.1579, -8.6291, "+01:00"),
    "Kyoto": (35.0116, 135.7681, "+09:00"),
    "Osaka": (34.6937, 135.5023, "+09:00"),
    "Sydney": (-33.8688, 151.2093, "+11:00"),
    "Buenos Aires": (-34.6037, -58.3816, "-03:00"),
}
# Fourteen ordinary Saturdays at home, six photos each (the last on 8 April 2023): enough
# days to say what an ordinary day is, and every one of them big enough to be an event if
# an ordinary day could be one.
SATURDAYS = [date(2023, 1, 7) + timedelta(weeks=k) for k in range(14)]


def shoot(folder: Path, city: str, start: str, n: int, every_min: float = 12,
          tag: str = "") -> list[Path]:
    """``n`` photos taken in ``city`` from ``start`` (local wall clock), with GPS and offset."""
    lat, lon, offset = CITIES[city]
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


def make_world(folder: Path) -> None:
    # Home: Lisbon, an ordinary Saturday every week for three months.
    for day in SATURDAYS:
        shoot(folder, "Lisbon", f"{day}T10:00", 6)
    # A birthday party at home: five times an ordinary day.
    shoot(folder, "Lisbon", "2023-06-10T19:00", 30, every_min=5)
    # Christmas at home: a holiday, however few the photos.
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
    # Files without a date, copied on Christmas Day 2024: their date is the copy's.
    undated = folder / "undated"
    undated.mkdir()
    copied = datetime(2024, 12, 25, 10, 0).timestamp()
    for k in range(10):
        ig.write_jpeg(undated / f"undated-{k:02d}.jpg", (48, 32), seed=k,
                      mtime=copied + 60 * k)


@pytest.fixture
def world(lib: Library, photo_dir: Path) -> Library:
    make_world(photo_dir)
    lib.set_faces(False)         # faces are not what these tests are about: keep them fast
    lib.add_root(photo_dir)
    lib.index()                  # which places the photos and builds the albums
    return lib


def titles(lib: Library, kind: str | None = None) -> list[str]:
    return [a.title for a in lib.auto_albums.albums((kind,) if kind else ("event", "trip"))]


def album(lib: Library, title: str) -> AutoAlbum:
    found = [a for a in lib.auto_albums.albums() if a.title == title]
    assert len(found) == 1, (title, titles(lib))
    return found[0]


def members(lib: Library, album_id: int) -> list[int]:
    return [int(r[0]) for r in lib.reader().execute(
        "SELECT photo_id FROM album_photos WHERE album_id = ? AND removed = 0 ORDER BY position",
        (album_id,))]


def photo_ids(lib: Library, pattern: str) -> list[int]:
    return [int(r[0]) for r in lib.reader().execute(
        "SELECT id FROM photos WHERE filename GLOB ? ORDER BY taken_ts", (pattern,))]


EXPECTED = [("trip", "Trip to Kyoto and Osaka, March 2024"), ("event", "Christmas 2023"),
            ("trip", "Trip to Sydney, November 2023"), ("event", "Tuesday in Buenos Aires"),
            ("trip", "Trip to Porto, September 2023"), ("event", "Saturday in Lisbon")]


def kinds_and_titles(lib: Library) -> list[tuple[str, str]]:
    """Newest first; ties (same start) by kind then title, so the order does not depend on
    which album was made first."""
    rows = sorted(lib.auto_albums.albums(), key=lambda a: (-a.start_ts, a.kind, a.title))
    return [(a.kind, a.title) for a in rows]


def test_the_albums_a_person_would_expect(world: Library) -> None:
    lib = world
    # index() built them with the places the geocoder found; a rebuild finds the same.
    assert sorted(kinds_and_titles(lib)) == sorted(EXPECTED)
    report = lib.auto_albums.rebuild()
    assert report.full and not report.cancelled
    assert (report.created, report.deleted, report.updated) == (0, 0, 0)
    # The trip once and no event for its days; the party and Christmas at home as events,
    # and the day away in Buenos Aires; no ordinary Saturday; nothing of the undated files.
    assert kinds_and_titles(lib) == EXPECTED
    home = lib.auto_albums.home()
    assert home is not None and home.source == "inferred"
    assert home.place == "Lisbon, Portugal" and home.days == len(SATURDAYS) + 3
    assert abs(home.lat - 38.72) < 0.05 and abs(home.lon + 9.14) < 0.05

    japan = album(lib, "Trip to Kyoto and Osaka, March 2024")
    assert members(lib, japan.id) == photo_ids(lib, "Kyoto-*") + photo_ids(lib, "Osaka-*")
    assert japan.details["days"] == 4 and japan.details["countries"] == ["Japan"]
    assert japan.details["places"] == ["Kyoto", "Osaka"]
    sydney = album(lib, "Trip to Sydney, November 2023")
    assert members(lib, sydney.id) == photo_ids(lib, "Sydney-*")
    assert (sydney.start_date, sydney.end_date) == ("2023-11-04", "2023-11-05")
    party = album(lib, "Saturday in Lisbon")
    assert members(lib, party.id) == photo_ids(lib, "Lisbon-20230610-*")
    assert party.details["place"] == "Lisbon" and not party.details["away"]
    christmas = album(lib, "Christmas 2023")
    assert members(lib, christmas.id) == (photo_ids(lib, "Lisbon-20231224-*")
                                             + photo_ids(lib, "Lisbon-20231225-*"))
    assert members(lib, album(lib, "Tuesday in Buenos Aires").id) == photo_ids(
        lib, "BuenosAires-*")
    # The undated files are in the library, dated by their modification time, in no album.
    undated = photo_ids(lib, "undated-*")
    assert len(undated) == 10
    assert {r[0] for r in lib.reader().execute(
        "SELECT DISTINCT taken_at_source FROM photos WHERE filename GLOB 'undated-*'")} == {
        "file:mtime"}
    assert lib.reader().one("SELECT count(*) FROM album_photos WHERE photo_id IN "
                            f"({','.join(map(str, undated))})") == 0
    # Every automatic member was added by Glimpse.
    assert lib.reader().one("SELECT count(*) FROM album_photos WHERE added_by != 'auto'") == 0
    # The other helper's listing shows them too.
    listed = [(a.kind, a.title) for a in lib.albums.list_albums(("event", "trip"))]
    assert sorted(listed) == sorted(EXPECTED)

    # A rebuild finds the same albums again: same ids, nothing changed.
    before = {a.id: a.title for a in lib.auto_albums.albums()}
    again = lib.auto_albums.rebuild()
    assert (again.created, again.deleted, again.updated) == (0, 0, 0)
    assert {a.id: a.title for a in lib.auto_albums.albums()} == before
    # Nothing new: an update reads nothing.
    quiet = lib.auto_albums.update()
    assert not quiet.full and quiet.created == quiet.deleted == quiet.updated == 0


def test_incremental_update_extends_and_creates(world: Library, photo_dir: Path) -> None:
    lib = world
    lib.auto_albums.rebuild()
    japan = album(lib, "Trip to Kyoto and Osaka, March 2024")
    tuesday = album(lib, "Tuesday in Buenos Aires")
    # A mark older than any write (updated_at has whole seconds, and all this may take one).
    lib.writer.call(lambda c: c.execute("UPDATE albums SET updated_at = '2000-01-01T00:00:00Z'"))
    before = {a["id"]: a["updated_at"] for a in _rows(lib)}
    # More photos in Kyoto and in Buenos Aires that evening, a big Sunday at home and an
    # ordinary one.
    shoot(photo_dir, "Kyoto", "2024-03-12T17:00", 6, tag="b")
    shoot(photo_dir, "Buenos Aires", "2023-10-10T17:00", 5, tag="b")
    shoot(photo_dir, "Lisbon", "2024-06-02T15:00", 20, every_min=5)
    shoot(photo_dir, "Lisbon", "2024-06-09T15:00", 6)
    # index() brings the automatic albums up to date itself: the trip and the day in Buenos
    # Aires grow, the big Sunday at home is new, the ordinary one is no album.
    indexed = lib.index()
    assert indexed.albums == 3
    grown = album(lib, "Trip to Kyoto and Osaka, March 2024")
    assert grown.id == japan.id and grown.count == japan.count + 6
    longer = album(lib, "Tuesday in Buenos Aires")
    assert longer.id == tuesday.id and longer.count == tuesday.count + 5
    sunday = album(lib, "Sunday in Lisbon")
    assert members(lib, sunday.id) == photo_ids(lib, "Lisbon-20240602-*")
    assert kinds_and_titles(lib) == [("event", "Sunday in Lisbon"), *EXPECTED]
    # Albums far from the new photos were not touched.
    after = {a["id"]: a["updated_at"] for a in _rows(lib)}
    untouched = [i for i in before if after.get(i) == before[i]]
    assert len(untouched) == len(before) - 2
    report = lib.auto_albums.update()
    assert not report.full and report.created == report.deleted == report.updated == 0
    # What an ordinary day is decides over the whole library: when it changes (here, a person
    # for whom an event at home takes six busy days' photos), everything is grouped again.
    choosy = aa.AutoAlbums(reader=lib.reader, writer=lib.writer,
                           params=ev.Params(busy_factor=6.0))
    report = choosy.update()
    assert report.full and report.deleted == 2          # the party (30) and the Sunday (20)
    assert kinds_and_titles(lib) == [k for k in EXPECTED if k[1] != "Saturday in Lisbon"]


def _rows(lib: Library) -> list[dict[str, Any]]:
    return lib.reader().rows("SELECT id, title, updated_at FROM albums "
                             "WHERE kind IN ('event', 'trip') AND removed = 0")


def test_person_edits_survive_rebuild_and_update(world: Library, photo_dir: Path) -> None:
    lib = world
    lib.auto_albums.update()
    porto = album(lib, "Trip to Porto, September 2023")
    lib.albums.rename(porto.id, "Porto with Ana")
    sydney = album(lib, "Trip to Sydney, November 2023")
    taken_out = members(lib, sydney.id)[3]
    lib.albums.remove(sydney.id, [taken_out])
    gone = album(lib, "Tuesday in Buenos Aires")
    lib.albums.delete(gone.id)
    # A removed photo without the edited mark (an older client) is respected all the same.
    japan = album(lib, "Trip to Kyoto and Osaka, March 2024")
    out_of_trip = members(lib, japan.id)[0]
    lib.writer.call(lambda c: c.execute(
        "UPDATE album_photos SET removed = 1 WHERE album_id = ? AND photo_id = ?",
        (japan.id, out_of_trip)))
    lib.writer.call(lambda c: c.execute(
        "UPDATE albums SET details = json_set(details, '$.photos', "
        "json_extract(details, '$.photos') - 1) WHERE id = ?", (japan.id,)))

    def check() -> None:
        assert "Trip to Porto, September 2023" not in titles(lib)
        assert album(lib, "Porto with Ana").id == porto.id
        assert taken_out not in members(lib, sydney.id)
        assert len(members(lib, sydney.id)) == 15
        assert "Tuesday in Buenos Aires" not in titles(lib)
        assert lib.reader().one("SELECT count(*) FROM albums WHERE removed = 1") == 1
        assert out_of_trip not in members(lib, japan.id)
        assert album(lib, "Trip to Kyoto and Osaka, March 2024").id == japan.id

    check()
    lib.auto_albums.rebuild()
    check()
    # New photos in the time of every edited album: they neither change it nor make twins.
    shoot(photo_dir, "Porto", "2023-09-16T16:00", 4, tag="b")
    shoot(photo_dir, "Buenos Aires", "2023-10-10T17:00", 3, tag="b")
    shoot(photo_dir, "Sydney", "2023-11-05T16:00", 3, tag="b")
    lib.index()                 # which updates the automatic albums around the new photos
    check()
    assert len(members(lib, porto.id)) == 14
    report = lib.auto_albums.rebuild()
    assert report.kept >= 3
    check()


def test_albums_that_no_longer_hold_go_unless_the_person_made_them_theirs(
        world: Library) -> None:
    """A library grouped by an older version holds what this one no longer makes: an event
    for every Saturday at home, the trip's days again as events, an album of undated files.
    The next update drops them, keeps the one the person renamed as they made it, and leaves
    the trip (same id) and their own album alone."""
    lib = world
    lib.auto_albums.update()
    current = {a.id: (a.title, members(lib, a.id)) for a in lib.auto_albums.albums()}
    japan = album(lib, "Trip to Kyoto and Osaka, March 2024")
    reader = lib.reader()

    def shots(pattern: str) -> list[ev.Shot]:
        return [ev.Shot(int(r[0]), float(r[1]), float(r[1])) for r in reader.execute(
            "SELECT id, taken_ts FROM photos WHERE filename GLOB ? ORDER BY taken_ts, id",
            (pattern,))]

    older = [ev.Group("event", "Saturday in Lisbon", shots(f"Lisbon-{d:%Y%m%d}-*"))
             for d in SATURDAYS[:3]]
    older += [ev.Group("event", "Kyoto, 12–13 March 2024", shots("Kyoto-*")),
              ev.Group("event", "Wednesday, 25 December 2024", shots("undated-*"))]

    def made_by_version_1(c: Connection) -> None:
        for g in older:
            aa._create(c, g, now_iso())
        state = json.loads(get_setting(c, aa.STATE_KEY) or "{}")
        set_setting(c, aa.STATE_KEY, json.dumps({**state, "version": 1}))

    lib.writer.call(made_by_version_1)
    old_ids = [int(r[0]) for r in reader.execute("SELECT id FROM albums ORDER BY id")
               if int(r[0]) not in current]
    assert len(old_ids) == 5
    renamed = lib.albums.rename(old_ids[1], "Ana's first steps").id
    first_saturday = [s.id for s in older[0].shots]
    mine = lib.albums.create("January at home", first_saturday).id

    report = lib.auto_albums.update()
    assert report.full and report.deleted == 4 and report.created == 0
    left = {a.id: (a.title, members(lib, a.id)) for a in lib.auto_albums.albums()}
    assert left == {**current, renamed: ("Ana's first steps", [s.id for s in older[1].shots])}
    assert album(lib, "Trip to Kyoto and Osaka, March 2024").id == japan.id
    assert lib.albums.photo_ids(mine) == first_saturday
    assert lib.reader().one("SELECT kind FROM albums WHERE id = ?", (mine,)) == "manual"


def test_home_set_by_the_person_wins(world: Library) -> None:
    lib = world
    lib.auto_albums.update()
    assert lib.auto_albums.home().source == "inferred"
    home = lib.auto_albums.set_home(35.0, 135.7)          # the person lives in Kyoto
    assert home.source == "set" and home.place == "Kyoto, Japan"
    report = lib.auto_albums.update()
    assert report.full          # home moved: everything is grouped again
    trips = titles(lib, "trip")
    assert "Trip to Kyoto and Osaka, March 2024" not in trips
    assert any(t.startswith("Trip to Lisbon") for t in trips)
    assert lib.auto_albums.clear_home().source == "inferred"
    with pytest.raises(Exception, match="not a place on Earth"):
        lib.auto_albums.set_home(95.0, 0.0)


def test_memories_on_a_given_day(world: Library) -> None:
    lib = world
    lib.auto_albums.update()
    found = lib.auto_albums.memories(date(2025, 3, 12))
    on_this_day = [m for m in found if m.kind == "on_this_day"]
    assert [(m.title, m.count) for m in on_this_day] == [("1 year ago", 10)]
    assert set(on_this_day[0].photo_ids) == set(photo_ids(lib, "Kyoto-20240312*"))
    # The trip, once; the Saturday at home of 11 March 2023 was an ordinary one.
    ago = {m.title: m.subtitle for m in found if m.kind != "on_this_day"}
    assert ago == {"Trip to Kyoto and Osaka, March 2024": "1 year ago"}
    two_years = lib.auto_albums.memories(date(2025, 1, 14))
    assert [m.title for m in two_years] == ["2 years ago"]
    assert lib.auto_albums.memories(date(2025, 8, 1)) == []
    # Christmas: the one at home two years ago; the day the undated files were copied is no
    # memory.
    christmas = lib.auto_albums.memories(date(2025, 12, 25))
    assert [(m.kind, m.title, m.subtitle) for m in christmas] == [
        ("on_this_day", "2 years ago", "On this day, 25 December 2023"),
        ("event", "Christmas 2023", "2 years ago")]
    assert list(christmas[0].photo_ids) == photo_ids(lib, "Lisbon-20231225-*")


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
    assert sorted((a["kind"], a["title"]) for a in built["albums"]) == sorted(EXPECTED)
    listed = run("albums", "list")
    assert sorted((a["kind"], a["title"]) for a in listed) == sorted(EXPECTED)
    assert run("events")["report"]["created"] == 0
    assert run("home")["source"] == "inferred"
    assert run("home", "set", "-33.87", "151.21")["place"] == "Sydney, Australia"
    assert run("home", "clear")["source"] == "inferred"
    memories = run("memories", "--date", "2024-11-05")
    assert [m["title"] for m in memories][:1] == ["1 year ago"]
    assert "album_id" not in memories[0]        # a day of photos is no album
    assert all(isinstance(m["album_id"], int) for m in memories if m["kind"] != "on_this_day")
    code = cli.main(["--library", str(library_path), "memories", "--date", "5/11/2024"])
    assert code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    code = cli.main(["--library", str(library_path), "events"])
    out = capsys.readouterr().out
    assert code == 0
    for _kind, title in EXPECTED:
        assert out.count(title) == 1, out
    assert "Kyoto, " not in out and "2024-12-25" not in out
