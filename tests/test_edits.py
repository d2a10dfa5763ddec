"""Dates and places a person sets (``Library.edits``, ``glimpse set-date``/``set-place``), on a
real library of real JPEGs: what is stored, that it survives the file being read again, that
events, places and search follow through the change chain, and the words both front ends
read ("+1h03m", "2019-07-14 15:30")."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.api import (
    EditError,
    Library,
    WriteBackReport,
    date_source_text,
    parse_shift,
    parse_when,
)
from glimpse_desktop.kernel.progress import CancelToken, Progress
from tests import imagegen as ig

PORTO = (41.1579, -8.6291)
PARIS = (48.8566, 2.3522)


def shoot(folder: Path, start: str, n: int, tag: str, gps: tuple[float, float] = PORTO,
          offset: str = "+00:00") -> list[Path]:
    t0 = datetime.fromisoformat(start)
    out = []
    for k in range(n):
        when = t0 + timedelta(minutes=10 * k)
        out.append(ig.write_jpeg(folder / f"{tag}-{k}.jpg", (48, 32), seed=k,
                                 datetime_original=when.strftime("%Y:%m:%d %H:%M:%S"),
                                 offset_time_original=offset,
                                 gps=(gps[0] + k * 1e-4, gps[1] + k * 1e-4),
                                 make="Canon", model="EOS R6"))
    return out


@pytest.fixture
def world(lib: Library, photo_dir: Path) -> Library:
    """Christmas Eve and a June Saturday in Porto (six photos each, UTC+0), and one photo
    from a camera whose clock was wrong: dated March 2021, without GPS or offset."""
    shoot(photo_dir, "2023-12-24T19:00", 6, "xmas")
    shoot(photo_dir, "2023-06-10T11:00", 6, "june")
    ig.write_jpeg(photo_dir / "wrong.jpg", (48, 32), seed=9,
                  datetime_original="2021:03:01 12:00:00", make="Canon", model="EOS R6")
    lib.add_root(photo_dir)
    lib.index()
    return lib


def pid(lib: Library, path: Path) -> int:
    photo = lib.photo(str(path))
    assert photo is not None
    return photo.id


def row(lib: Library, photo_id: int) -> dict[str, object]:
    found = lib.reader().row("SELECT * FROM photos WHERE id = ?", (photo_id,))
    assert found is not None
    return found


def albums_holding(lib: Library, photo_id: int) -> list[str]:
    return [str(r[0]) for r in lib.reader().execute(
        "SELECT a.title FROM albums a JOIN album_photos ap ON ap.album_id = a.id "
        "WHERE ap.photo_id = ? AND ap.removed = 0 AND a.kind IN ('event', 'trip')",
        (photo_id,))]


# ---------------------------------------------------------------------------- the words


@pytest.mark.parametrize(("text", "seconds"), [
    ("+1h03m", 3780), ("-2d", -172800), ("+00:30", 1800), ("-1:02:03", -3723),
    ("PT1H3M", 3780), ("-P2DT1H", -(2 * 86400 + 3600)), ("+1 h 03 min", 3780), ("90s", 90),
    ("1w", 7 * 86400), ("+2d 03:00", 2 * 86400 + 3 * 3600), ("+PT0.5S", 0.5),
    ("-3 hours", -10800),
])
def test_durations_read_as_a_person_writes_them(text: str, seconds: float) -> None:
    assert parse_shift(text).total_seconds() == seconds


@pytest.mark.parametrize(("text", "why"), [
    ("x", ""), ("", "no duration"), ("+", "no duration"), ("1h2x", "'x' is not a unit"),
    ("+1y", "'y' is not a unit"), ("P1M", "no fixed length"), ("P1Y2D", "no fixed length"),
    ("0h", "zero"), ("00:00", "zero"), ("1:75", "up to 59"), ("P", ""), ("PT", ""),
    ("P1DT", ""), ("1 h 3", ""), ("h", ""), ("+1h -2m", ""), ("300y", "not a unit"),
    ("80000d", "200 years"), ("2019-07-14", ""),
])
def test_garbage_durations_are_refused_with_what_would_be_read(text: str, why: str) -> None:
    with pytest.raises(EditError) as caught:
        parse_shift(text)
    assert caught.value.code == "edits.bad_duration"
    assert why in str(caught.value) and "+1h03m" in str(caught.value)


@pytest.mark.parametrize(("text", "local", "offset"), [
    ("2019-07-14T15:30:12+02:00", "2019-07-14T15:30:12", 120),
    ("2019-07-14 15:30", "2019-07-14T15:30:00", None),
    ("2019-07-14", "2019-07-14T00:00:00", None),
    ("2019:07:14 15:30:12", "2019-07-14T15:30:12", None),
    ("2019-07-14T15:30Z", "2019-07-14T15:30:00", 0),
    ("2019-07-14 9:05 -0330", "2019-07-14T09:05:00", -210),
    ("  2019-07-14T15:30:12.250  ", "2019-07-14T15:30:12.250000", None),
])
def test_dates_read_with_or_without_an_offset(text: str, local: str,
                                              offset: int | None) -> None:
    when, minutes = parse_when(text)
    assert (when.isoformat(), minutes) == (local, offset)


@pytest.mark.parametrize("text", ["yesterday", "2019-13-01", "2019-07-14 25:00",
                                  "2019-02-30", "14/07/2019", "2019-07-14T10:00+19:00", ""])
def test_dates_that_are_not_dates_are_refused(text: str) -> None:
    with pytest.raises(EditError) as caught:
        parse_when(text)
    assert caught.value.code == "edits.bad_date"


def test_where_a_date_came_from_in_words() -> None:
    assert date_source_text("manual") == "set by you"
    assert date_source_text("exif:DateTimeOriginal") == "EXIF DateTimeOriginal"
    assert date_source_text("xmp:photoshop:DateCreated") == "XMP photoshop:DateCreated"
    assert date_source_text("iptc:DateCreated") == "IPTC DateCreated"
    assert date_source_text("filename") == "file name"
    assert date_source_text("file:mtime") == "file modified time"
    assert date_source_text("something:new") == "something:new"      # as it is
    assert date_source_text(None) is None


# ---------------------------------------------------------------------------- dates


def test_set_date_stores_the_persons_date(world: Library, photo_dir: Path) -> None:
    lib = world
    wrong, xmas = pid(lib, photo_dir / "wrong.jpg"), pid(lib, photo_dir / "xmas-0.jpg")
    edit = lib.edits.set_date([wrong, str(photo_dir / "xmas-0.jpg")],
                              "2019-07-14T15:30:12+02:00")
    assert edit.action == "set" and edit.photo_ids == [wrong, xmas] and not edit.problems
    assert edit.photos[0].before == "2021-03-01T12:00:00"
    for photo_id in (wrong, xmas):
        r = row(lib, photo_id)
        assert (r["taken_at"], r["taken_at_offset"], r["taken_at_source"]) == (
            "2019-07-14T15:30:12+02:00", 120, "manual")
        assert r["taken_ts"] == datetime.fromisoformat("2019-07-14T13:30:12+00:00").timestamp()
    # Without an offset, each photo keeps its own: the time typed is its wall clock.
    june = pid(lib, photo_dir / "june-0.jpg")
    lib.edits.set_date([june, xmas], "2020-01-02 03:04")
    assert row(lib, june)["taken_at"] == "2020-01-02T03:04:00+00:00"
    assert row(lib, xmas)["taken_at"] == "2020-01-02T03:04:00+02:00"
    info = lib.photo(wrong)
    assert info is not None and info.taken_at_source == "manual"


def test_shift_moves_each_photos_own_date_and_keeps_its_offset(lib: Library,
                                                               photo_dir: Path) -> None:
    a = shoot(photo_dir, "2019-07-14T15:30:12", 1, "lisbon", offset="+01:00")[0]
    b = shoot(photo_dir, "2019-07-20T08:00:00", 1, "kyoto", offset="+09:00")[0]
    lib.add_root(photo_dir)
    lib.index()
    ids = [pid(lib, a), pid(lib, b)]
    edit = lib.edits.shift_date(ids, "+1h03m")
    assert [(p.before, p.after) for p in edit.photos] == [
        ("2019-07-14T15:30:12+01:00", "2019-07-14T16:33:12+01:00"),
        ("2019-07-20T08:00:00+09:00", "2019-07-20T09:03:00+09:00")]
    assert row(lib, ids[1])["taken_at_offset"] == 540
    lib.edits.shift_date(ids, "-2d")
    assert row(lib, ids[0])["taken_at"] == "2019-07-12T16:33:12+01:00"
    assert row(lib, ids[0])["taken_ts"] == datetime.fromisoformat(
        "2019-07-12T16:33:12+01:00").timestamp()
    with pytest.raises(EditError):
        lib.edits.shift_date(ids, "soon")
    assert row(lib, ids[0])["taken_at"] == "2019-07-12T16:33:12+01:00"     # untouched


def test_shifts_at_the_same_time_both_count(lib: Library, photo_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    photos = shoot(photo_dir, "2019-07-14T15:30:12", 40, "beach", offset="+01:00")
    lib.add_root(photo_dir)
    lib.index()
    ids = [pid(lib, p) for p in photos]
    before = {i: datetime.fromisoformat(row(lib, i)["taken_at"]) for i in ids}
    # Two windows (or the window and a script) shifting the same photos at once: each moves
    # the date as the other left it.
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda d: lib.edits.shift_date(ids, d), ["+1h", "+1h", "+10m", "-10m"]))
    for i in ids:
        assert datetime.fromisoformat(row(lib, i)["taken_at"]) == before[i] + timedelta(hours=2)


def test_unknown_photos_change_nothing(world: Library, photo_dir: Path) -> None:
    lib = world
    wrong = pid(lib, photo_dir / "wrong.jpg")
    for refs in ([wrong, 99999], [wrong, str(photo_dir / "nope.jpg")]):
        with pytest.raises(EditError) as caught:
            lib.edits.set_date(refs, "2020-01-01")
        assert caught.value.code == "edits.unknown_photo"
    with pytest.raises(EditError) as none:
        lib.edits.clear_place([])
    assert none.value.code == "edits.no_photos"
    assert row(lib, wrong)["taken_at_source"] == "exif:DateTimeOriginal"


def test_a_manual_date_and_place_survive_the_file_being_read_again(
        world: Library, photo_dir: Path) -> None:
    lib = world
    path = photo_dir / "wrong.jpg"
    wrong, june = pid(lib, path), pid(lib, photo_dir / "june-0.jpg")
    lib.edits.set_date([wrong], "2023-12-24T20:05:00+00:00")
    lib.edits.set_place([wrong], *PARIS, 35.0)
    lib.edits.clear_place([june])
    before = {i: row(lib, i) for i in (wrong, june)}
    # Both files change on disk (other pixels, another date and position, a later mtime).
    for target, seed in ((path, 3), (photo_dir / "june-0.jpg", 4)):
        ig.write_jpeg(target, (48, 32), seed=seed, datetime_original="2022:02:02 10:00:00",
                      gps=(10.0, 10.0), make="Canon", model="EOS R6")
        os.utime(target, (1_800_000_000, 1_800_000_000))
    report = lib.index()
    assert report.updated == 2
    for i in (wrong, june):
        after = row(lib, i)
        assert after["content_hash"] != before[i]["content_hash"]       # it was read again
        for column in ("taken_at", "taken_at_offset", "taken_ts", "taken_at_source",
                       "gps_lat", "gps_lon", "gps_alt", "gps_source"):
            if i == june and column.startswith("taken"):
                continue
            assert after[column] == before[i][column], column
    # What the person did not set follows the file: June's date, the camera.
    assert row(lib, june)["taken_at"] == "2022-02-02T10:00:00"
    assert row(lib, june)["gps_lat"] is None                          # cleared stays cleared
    assert row(lib, wrong)["gps_lat"] == PARIS[0]


def test_the_date_from_the_file_undoes_a_manual_one(world: Library, photo_dir: Path) -> None:
    lib = world
    xmas = pid(lib, photo_dir / "xmas-2.jpg")
    original = row(lib, xmas)
    lib.edits.shift_date([xmas], "+3h")
    lib.edits.set_place([xmas], *PARIS)
    edit = lib.edits.date_from_file([xmas])
    assert edit.photos[0].source == "exif:DateTimeOriginal" and not edit.problems
    for column in ("taken_at", "taken_at_offset", "taken_ts", "taken_at_source"):
        assert row(lib, xmas)[column] == original[column]
    assert row(lib, xmas)["gps_source"] == "manual"            # the place is another matter
    placed = lib.edits.place_from_file([xmas])
    assert placed.photos[0].after is not None and placed.photos[0].source is None
    assert (row(lib, xmas)["gps_lat"], row(lib, xmas)["gps_source"]) == (
        original["gps_lat"], None)
    # A file that is gone keeps the date it has, and says why.
    lib.edits.shift_date([xmas], "+1h")
    (photo_dir / "xmas-2.jpg").unlink()
    gone = lib.edits.date_from_file([xmas])
    assert gone.photos == () and [p.code for p in gone.problems] == ["edits.unreadable"]
    assert row(lib, xmas)["taken_at_source"] == "manual"


# ---------------------------------------------------------------------------- places


def test_places_are_checked_copied_and_cleared(world: Library, photo_dir: Path) -> None:
    lib = world
    wrong, xmas = pid(lib, photo_dir / "wrong.jpg"), pid(lib, photo_dir / "xmas-0.jpg")
    for lat, lon in ((91, 0), (0, -180.5), (float("nan"), 0), ("north", 0)):
        with pytest.raises(EditError) as caught:
            lib.edits.set_place([wrong], lat, lon)          # type: ignore[arg-type]
        assert caught.value.code == "edits.bad_place"
    with pytest.raises(EditError) as nowhere:
        lib.edits.copy_place([xmas], wrong)
    assert nowhere.value.code == "edits.no_place"
    copied = lib.edits.copy_place([wrong], str(photo_dir / "xmas-0.jpg"))
    assert copied.action == "from-photo" and copied.photos[0].before is None
    source = row(lib, xmas)
    assert (row(lib, wrong)["gps_lat"], row(lib, wrong)["gps_lon"], row(lib, wrong)
            ["gps_source"]) == (source["gps_lat"], source["gps_lon"], "manual")
    cleared = lib.edits.clear_place([wrong])
    assert cleared.photos[0].after is None
    info = lib.photo(wrong)
    assert info is not None and info.gps is None and info.gps_source == "manual"


def test_events_places_and_search_follow_the_change(world: Library,
                                                    photo_dir: Path) -> None:
    lib = world
    wrong = pid(lib, photo_dir / "wrong.jpg")
    assert albums_holding(lib, wrong) == []
    moved = lib.edits.set_date([wrong], "2023-12-24T20:05:00+00:00")
    changes = lib.photos_changed(moved.photo_ids, "taken")
    assert changes.problems == {} and {"places", "albums"} <= set(changes.ran)
    assert albums_holding(lib, wrong) == albums_holding(lib, pid(lib, photo_dir / "xmas-0.jpg"))
    assert albums_holding(lib, wrong) != []
    assert [h.photo_id for h in lib.search("after:2023-12-24 before:2023-12-25").hits
            if h.photo_id == wrong] == [wrong]
    # Shifted back out of Christmas, it leaves the event.
    out = lib.edits.shift_date([wrong], "-30d")
    lib.photos_changed(out.photo_ids, "taken")
    assert albums_holding(lib, wrong) == []

    placed = lib.edits.set_place([wrong], *PARIS)
    lib.photos_changed(placed.photo_ids, "taken")
    info = lib.photo(wrong)
    assert info is not None and info.place is not None and info.place.city == "Paris"
    assert [h.photo_id for h in lib.search("place:Paris").hits] == [wrong]
    lib.photos_changed(lib.edits.clear_place([wrong]).photo_ids, "taken")
    info = lib.photo(wrong)
    assert info is not None and info.place is None
    assert lib.search("place:Paris").hits == []


def test_write_back_is_asked_for_when_it_is_on(world: Library, photo_dir: Path) -> None:
    lib = world
    wrong = pid(lib, photo_dir / "wrong.jpg")
    edit = lib.edits.set_date([wrong], "2023-12-24T20:05:00+00:00")
    assert lib.photos_changed(edit.photo_ids, "taken").result("write-back") is None   # off
    lib.config.set("writeback.sync", True)
    lib.edits.set_place([wrong], *PARIS)
    written = lib.photos_changed([wrong], "taken").result("write-back")
    assert isinstance(written, WriteBackReport)
    assert written.written + written.unchanged + written.skipped + written.failed >= 1


def test_progress_and_cancel_between_batches(world: Library, photo_dir: Path) -> None:
    lib = world
    ids = [int(r[0]) for r in lib.reader().execute("SELECT id FROM photos ORDER BY id")]
    events: list[Progress] = []
    edit = lib.edits.shift_date(ids, "+1m", progress=events.append)
    assert len(edit.photos) == len(ids) and events[-1].done == len(ids)
    token = CancelToken()
    token.cancel()
    stopped = lib.edits.set_date(ids, "2000-01-01", cancel=token)
    assert stopped.cancelled and stopped.photos == ()
    assert all(r["taken_at_source"] == "manual" and not str(r["taken_at"]).startswith("2000")
               for r in (row(lib, i) for i in ids))


# ---------------------------------------------------------------------------- the CLI


def run(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--library", str(library), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_set_date_and_set_place(capsys: pytest.CaptureFixture[str], library_path: Path,
                                    photo_dir: Path) -> None:
    shoot(photo_dir, "2019-07-14T15:30:12", 2, "lisbon", offset="+01:00")
    ig.write_jpeg(photo_dir / "plain.jpg", (48, 32), datetime_original="2020:01:01 10:00:00")
    assert run(capsys, library_path, "add", str(photo_dir))[0] == 0
    assert run(capsys, library_path, "index", "-q")[0] == 0
    a, b = (str(photo_dir / f"lisbon-{k}.jpg") for k in range(2))

    # A shift back in time is a value, not an option, without "=".
    code, out, err = run(capsys, library_path, "set-date", a, b, "--shift", "-2d", "--json",
                         "-q")
    assert code == 0, err
    shifted = json.loads(out)
    assert shifted["action"] == "shift" and shifted["problems"] == []
    assert [p["after"] for p in shifted["photos"]] == ["2019-07-12T15:30:12+01:00",
                                                       "2019-07-12T15:40:12+01:00"]
    code, out, err = run(capsys, library_path, "set-date", a, "--to", "2019-07-14 15:30", "-q")
    assert code == 0 and "2019-07-12T15:30:12+01:00 → 2019-07-14T15:30:00+01:00" in out
    code, out, _ = run(capsys, library_path, "info", a)
    assert "2019-07-14T15:30:00+01:00 (set by you)" in out
    code, out, _ = run(capsys, library_path, "set-date", a, "--from-file", "-q")
    assert code == 0 and "(from EXIF DateTimeOriginal)" in out

    code, out, err = run(capsys, library_path, "set-place", str(photo_dir / "plain.jpg"),
                         "--lat", "-33.8688", "--lon", "151.2093", "--json", "-q")
    assert code == 0, err
    placed = json.loads(out)
    assert placed["photos"][0]["after"] == {"lat": -33.8688, "lon": 151.2093, "alt": None}
    assert placed["photos"][0]["source"] == "manual"
    code, out, _ = run(capsys, library_path, "info", str(photo_dir / "plain.jpg"), "--json")
    info = json.loads(out)
    assert info["place"]["city"] == "Sydney" and info["gps_source"] == "manual"
    code, _, err = run(capsys, library_path, "set-place", b, "--from",
                       str(photo_dir / "plain.jpg"), "-q")
    assert code == 0, err
    code, out, _ = run(capsys, library_path, "set-place", b, "--clear", "-q")
    assert code == 0 and "→ no place" in out
    code, out, _ = run(capsys, library_path, "info", b)
    assert "cleared by you" in out


@pytest.mark.parametrize(("args", "code", "said"), [
    (["set-date", "1", "--shift", "+1 fortnight"], 1, "is not a unit"),
    (["set-date", "1", "--to", "last tuesday"], 1, "2019-07-14 15:30"),
    (["set-date", "1"], 2, "needs one of --to"),
    (["set-date", "1", "--to", "2020-01-01", "--shift", "+1h"], 2, "needs one of"),
    (["set-date", "424242", "--to", "2020-01-01"], 1, "no photo 424242"),
    (["set-place", "1", "--lat", "95", "--lon", "0"], 1, "outside -90..90"),
    (["set-place", "1", "--lat", "10"], 2, "both --lat and --lon"),
    (["set-place", "1", "--clear", "--lat", "1", "--lon", "1"], 2, "needs one of"),
])
def test_cli_refuses_what_it_cannot_do(capsys: pytest.CaptureFixture[str], library_path: Path,
                                       photo_dir: Path, args: list[str], code: int,
                                       said: str) -> None:
    ig.write_jpeg(photo_dir / "one.jpg", (48, 32), datetime_original="2020:01:01 10:00:00")
    assert run(capsys, library_path, "add", str(photo_dir))[0] == 0
    assert run(capsys, library_path, "index", "-q")[0] == 0
    got, _, err = run(capsys, library_path, *args)
    assert got == code and said in err
    again = Library.open(library_path)
    try:
        assert again.reader().one("SELECT taken_at_source FROM photos") == \
            "exif:DateTimeOriginal"
    finally:
        again.close()



def test_the_date_from_the_file_after_write_back_is_the_cameras_and_the_sidecar_lets_go(
        lib: Library, photo_dir: Path) -> None:
    from tests.test_xmp import exiftool

    path = ig.write_jpeg(photo_dir / "harbour.jpg", (48, 32),
                         datetime_original="2009:09:09 10:11:12", gps=(41.14, -8.61))
    lib.add_root(photo_dir)
    lib.index()
    photo = pid(lib, path)
    lib.edits.set_date([photo], "2015-05-05T05:05:05+01:00")
    lib.edits.set_place([photo], 38.7223, -9.1393)
    lib.writeback.run(sidecar=True)
    sidecar = Path(f"{path}.xmp")
    written = exiftool("-n", "-XMP-exif:DateTimeOriginal", "-XMP-exif:GPSLatitude",
                       str(sidecar))[0]
    assert str(written["DateTimeOriginal"]).startswith("2015:05:05 05:05:05")
    assert written["GPSLatitude"] == pytest.approx(38.7223, abs=1e-5)

    # Taken back: the camera's own date (not the sidecar's copy of the person's), and the
    # sidecar no longer says otherwise once written again.
    back = lib.edits.date_from_file([photo])
    assert [(p.after, p.source) for p in back.photos] == [
        ("2009-09-09T10:11:12", "exif:DateTimeOriginal")]
    lib.edits.place_from_file([photo])
    lib.writeback.run(sidecar=True)
    left = exiftool("-n", "-XMP-exif:all", str(sidecar))[0]
    assert not any(k.startswith(("DateTimeOriginal", "GPS")) for k in left), left
    os.utime(path, (1_700_000_000, 1_700_000_000))   # read again: still the camera's
    lib.index()
    assert row(lib, photo)["taken_at"] == "2009-09-09T10:11:12"
    assert row(lib, photo)["gps_lat"] == pytest.approx(41.14, abs=1e-5)
