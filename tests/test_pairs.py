"""RAW+JPEG pairs (kernel/pairs.py): real JPEGs and real DNG/CR2 files written by the test,
read by the real library, and real watchdog events."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.api import Library
from glimpse_desktop.kernel import stages
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.migrations import MIGRATIONS
from glimpse_desktop.kernel.watcher import Watcher
from tests import imagegen as ig
from tests.conftest import assert_consistent

SHOT = "2023:07:14 09:41:27"


def shot(folder: Path, stem: str, *, raw: str = ".DNG", jpeg: str = ".JPG",
         taken: str | None = SHOT, raw_taken: str | None = SHOT, seed: int = 1
         ) -> tuple[Path, Path]:
    """One RAW+JPEG shot as a camera writes it (the RAW's pixels differ from the JPEG's)."""
    j = ig.write_jpeg(folder / f"{stem}{jpeg}", (320, 240), seed=seed, datetime_original=taken,
                      make="Canon", model="Canon EOS 5D Mark IV")
    r = write_raw(folder / f"{stem}{raw}", seed=seed + 100, taken=raw_taken)
    return j, r


def write_raw(path: Path, *, seed: int, taken: str | None = SHOT) -> Path:
    writer = ig.write_cr2 if path.suffix.lower() == ".cr2" else ig.write_dng
    return writer(path, preview_size=(320, 240), thumb_size=(64, 48), seed=seed,
                  datetime_original=taken)


def listed(lib: Library) -> list[str]:
    """The file names the grid shows, by name."""
    return sorted(r.filename for r in lib.photo_page(limit=1000))


def row_id(lib: Library, path: Path) -> int:
    value = lib.reader().one("SELECT id FROM photos WHERE path = ?", (str(path),))
    assert value is not None, path
    return int(value)


def test_pair_read_in_one_scan_is_one_photo_with_both_files(lib: Library,
                                                            photo_dir: Path) -> None:
    jpeg, dng = shot(photo_dir, "IMG_0001")
    ig.write_jpeg(photo_dir / "other.jpg", seed=9, datetime_original=SHOT)
    lib.add_root(photo_dir)
    report = lib.index()
    assert report.errors == 0

    assert listed(lib) == ["IMG_0001.JPG", "other.jpg"]
    assert lib.status().photos == 2
    assert [f.photos for f in lib.folders()] == [2]
    assert lib.roots()[0].photos == 2
    (tile,) = [r for r in lib.photo_page() if r.filename == "IMG_0001.JPG"]
    assert tile.companions == 1
    assert [r.companions for r in lib.photo_page() if r.filename == "other.jpg"] == [0]

    info = lib.photo(str(jpeg))
    assert info is not None and info.companion_of is None
    assert [(c.path, c.format, c.status) for c in info.companions] == [(str(dng), "DNG", "ok")]
    assert info.companions[0].size == dng.stat().st_size
    raw_info = lib.photo(str(dng))
    assert raw_info is not None and raw_info.companion_of == info.id
    assert raw_info.companions == ()

    # Searching finds the photo once, by the JPEG.
    hits = lib.search("IMG_0001").hits
    assert [h.photo_id for h in hits] == [info.id]
    # The models look at the JPEG only: a stage's catch-up owes nothing for the RAW.
    conn = lib.reader()
    owed = {p.path for p in stages.owed(conn, "test-stage", "0")}
    assert owed == {str(jpeg), str(photo_dir / "other.jpg")}
    assert_consistent(lib)


def test_order_of_arrival_does_not_matter(lib: Library, photo_dir: Path,
                                          tmp_path: Path) -> None:
    # JPEG first, RAW in a later scan; then RAW first, JPEG later.
    lib.add_root(photo_dir)
    a_jpeg = ig.write_jpeg(photo_dir / "A.JPG", seed=1, datetime_original=SHOT)
    lib.index()
    a_raw = write_raw(photo_dir / "A.CR2", seed=2)
    b_raw = write_raw(photo_dir / "B.DNG", seed=3)
    lib.index()
    assert listed(lib) == ["A.JPG", "B.DNG"]     # B's RAW alone is a photo of its own
    ig.write_jpeg(photo_dir / "B.jpg", seed=4, datetime_original=SHOT)
    lib.index()
    assert listed(lib) == ["A.JPG", "B.jpg"]
    assert lib.photo(str(a_raw)).companion_of == lib.photo(str(a_jpeg)).id  # type: ignore[union-attr]
    assert lib.photo(str(b_raw)).companion_of == row_id(lib, photo_dir / "B.jpg")  # type: ignore[union-attr]
    assert_consistent(lib)


def test_same_name_of_another_moment_is_not_a_pair(lib: Library, photo_dir: Path) -> None:
    # An export that reuses a camera's name but shows another moment.
    shot(photo_dir, "IMG_0002", taken="2024:01:02 10:00:00", raw_taken=SHOT)
    # Within two seconds is one shot (a camera may tick between its two files); names compare
    # without regard to case.
    shot(photo_dir, "img_0003", raw=".cr2", jpeg=".JPG", taken="2023:07:14 09:41:28",
         seed=5)
    os.rename(photo_dir / "img_0003.cr2", photo_dir / "IMG_0003.CR2")
    lib.add_root(photo_dir)
    lib.index()
    assert listed(lib) == ["IMG_0002.DNG", "IMG_0002.JPG", "img_0003.JPG"]


def test_pair_forming_later_keeps_what_the_person_gave_the_raw(lib: Library,
                                                               photo_dir: Path) -> None:
    lib.add_root(photo_dir)
    raw = write_raw(photo_dir / "P.DNG", seed=2)
    lib.index()
    raw_id = row_id(lib, raw)
    lib.albums.create("Best", [raw_id])
    lib.writer.submit(lambda c: c.execute("UPDATE photos SET rating = 4 WHERE id = ?",
                                          (raw_id,))).result()

    jpeg = ig.write_jpeg(photo_dir / "P.JPG", seed=1, datetime_original=SHOT)
    lib.index()
    jpeg_id = row_id(lib, jpeg)
    assert listed(lib) == ["P.JPG"]
    assert lib.albums.photo_ids("Best") == [jpeg_id]
    info = lib.photo(jpeg_id)
    assert info is not None and info.rating == 4

    # The JPEG goes: the RAW is a photo of its own again, and nothing it had is lost.
    jpeg.unlink()
    lib.index()
    assert listed(lib) == ["P.DNG"]
    assert lib.photo(raw_id).companion_of is None  # type: ignore[union-attr]
    assert lib.photo(raw_id).rating == 4  # type: ignore[union-attr]
    assert raw_id in lib.albums.photo_ids("Best")   # its album kept it all along
    assert lib.status().photos == 1
    # The owed work of the RAW, now a photo, is back.
    assert str(raw) in {p.path for p in stages.owed(lib.reader(), "test-stage", "0")}
    assert_consistent(lib)


def test_deleting_the_raw_leaves_the_jpeg(lib: Library, photo_dir: Path) -> None:
    jpeg, raw = shot(photo_dir, "IMG_0004")
    lib.add_root(photo_dir)
    lib.index()
    raw.unlink()
    lib.index()
    info = lib.photo(str(jpeg))
    assert info is not None and info.companions == ()
    assert listed(lib) == ["IMG_0004.JPG"]
    assert lib.status().missing == 1     # the RAW's own row, gone from disk


def test_info_names_both_files(capsys: pytest.CaptureFixture[str], lib: Library,
                               library_path: Path, photo_dir: Path) -> None:
    jpeg, raw = shot(photo_dir, "IMG_0005")
    lib.add_root(photo_dir)
    lib.index()
    jpeg_id = row_id(lib, jpeg)
    assert cli.main(["--library", str(library_path), "info", str(jpeg)]) == 0
    out = capsys.readouterr().out
    assert f"also the file   {raw} (DNG, {raw.stat().st_size} bytes)" in out
    assert cli.main(["--library", str(library_path), "info", str(raw)]) == 0
    assert f"kept with       #{jpeg_id}" in capsys.readouterr().out
    import json

    assert cli.main(["--library", str(library_path), "info", str(jpeg), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["path"] for c in data["companions"]] == [str(raw)]


def test_pairs_are_found_through_the_name_index(lib: Library) -> None:
    conn: Connection = lib.reader()
    plan = " ".join(str(r[-1]) for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM photos WHERE folder = ? AND filename >= ? COLLATE "
        "NOCASE AND filename < ? COLLATE NOCASE", ("/x", "a.", "a/")))
    assert "photos_by_name" in plan


# ------------------------------------------------------------------ live watching

SETTLE = 0.3


@pytest.fixture
def watched(lib: Library, photo_dir: Path) -> Iterator[Watcher]:
    lib.add_root(photo_dir)
    lib.index()
    watcher = lib.watcher(settle=SETTLE, poll=0.05, health_interval=0.5)
    watcher.start()
    try:
        yield watcher
    finally:
        watcher.stop()


def settle(watcher: Watcher) -> None:
    assert watcher.wait_idle(30.0), "the watcher did not settle"


def test_watcher_pairs_unpairs_and_keeps_a_renamed_pair(lib: Library, photo_dir: Path,
                                                        watched: Watcher) -> None:
    raw = write_raw(photo_dir / "W.DNG", seed=2)
    settle(watched)
    assert listed(lib) == ["W.DNG"]
    jpeg = ig.write_jpeg(photo_dir / "W.JPG", seed=1, datetime_original=SHOT)
    settle(watched)
    assert listed(lib) == ["W.JPG"]
    jpeg_id = row_id(lib, jpeg)

    # Both renamed to one new stem: still one photo, the same rows.
    raw_id = row_id(lib, raw)
    jpeg.rename(photo_dir / "Holiday.JPG")
    raw.rename(photo_dir / "Holiday.DNG")
    settle(watched)
    assert listed(lib) == ["Holiday.JPG"]
    info = lib.photo(jpeg_id)
    assert info is not None and [c.id for c in info.companions] == [raw_id]

    # The JPEG moved to another folder: the RAW left behind is a photo of its own.
    (photo_dir / "sub").mkdir()
    os.rename(photo_dir / "Holiday.JPG", photo_dir / "sub" / "Holiday.JPG")
    settle(watched)
    assert listed(lib) == ["Holiday.DNG", "Holiday.JPG"]
    assert lib.photo(raw_id).companion_of is None  # type: ignore[union-attr]

    # It comes back: one photo again.
    os.rename(photo_dir / "sub" / "Holiday.JPG", photo_dir / "Holiday.JPG")
    settle(watched)
    assert listed(lib) == ["Holiday.JPG"]
    assert lib.photo(raw_id).companion_of == jpeg_id  # type: ignore[union-attr]

    # The JPEG deleted: the RAW shows.
    (photo_dir / "Holiday.JPG").unlink()
    settle(watched)
    assert listed(lib) == ["Holiday.DNG"]
    assert_consistent(lib)


# How to take each migration since pairs back (newest first when run): the library as
# the version before pairs left it.
_UNDO = {
    7: "DROP INDEX photos_by_companion; DROP INDEX photos_by_name; "
       "ALTER TABLE photos DROP COLUMN companion_of;",
    8: "ALTER TABLE photos DROP COLUMN gps_source;",
    9: "DROP INDEX photos_favorite; DROP INDEX photos_rated; "
       "ALTER TABLE photos DROP COLUMN rating_source; ALTER TABLE photos DROP COLUMN rotation;",
    10: "DROP TABLE trash_files; DROP TABLE trash;",
    11: "DROP INDEX albums_by_folder; ALTER TABLE albums DROP COLUMN folder_id; "
        "DROP TABLE album_folders;",
    12: "DROP INDEX faces_ignored; ALTER TABLE faces DROP COLUMN ignored_at;",
}


def test_a_library_from_before_pairs_pairs_its_files_when_it_is_upgraded(
        library_path: Path, photo_dir: Path) -> None:
    from glimpse_desktop.kernel.db import connect

    jpeg, dng = shot(photo_dir, "IMG_0042")
    library = Library.open(library_path, workers=2)
    try:
        library.add_root(photo_dir)
        library.index()
    finally:
        library.close()
    # The library as the version before pairs left it: no column, each file a photo of its
    # own (the RAW in an album and rated), and the files unchanged since.
    conn = connect(library_path)
    raw_id = int(conn.one("SELECT id FROM photos WHERE path = ?", (str(dng),)))
    assert sorted(_UNDO) == [m.version for m in MIGRATIONS if m.version >= 7], (
        "a new migration: say in _UNDO how to take it back, so this library is as before pairs")
    conn.raw.execute(
        "".join(_UNDO[v] for v in sorted(_UNDO, reverse=True))
        + "DELETE FROM schema_migrations WHERE version >= 7;"
        "UPDATE photos SET rating = 4 WHERE id = ?;"
        "INSERT INTO albums(kind, title, created_at, updated_at) VALUES ('manual', 'Trip', "
        "'2024-01-01', '2024-01-01');"
        "INSERT INTO album_photos(album_id, photo_id, added_at) VALUES (last_insert_rowid(), ?, "
        "'2024-01-01')", (raw_id, raw_id))
    conn.close()

    library = Library.open(library_path, workers=2)
    try:
        assert listed(library) == ["IMG_0042.JPG"]
        photo = library.photo(str(jpeg))
        assert photo is not None and [c.path for c in photo.companions] == [str(dng)]
        assert photo.rating == 4
        assert library.albums.photo_ids("Trip") == [photo.id]
        assert library.index().updated == 0
        # The JPEG gone: the RAW is a photo again, still in its album, still rated.
        jpeg.unlink()
        library.index()
        assert listed(library) == ["IMG_0042.DNG"]
        assert raw_id in library.albums.photo_ids("Trip")
        raw = library.photo(str(dng))
        assert raw is not None and raw.rating == 4
    finally:
        library.close()


def test_a_date_and_place_set_on_a_pair_go_to_its_raw_too(lib: Library,
                                                           photo_dir: Path) -> None:
    jpeg, dng = shot(photo_dir, "IMG_0050")
    lib.add_root(photo_dir)
    lib.index()
    jpeg_id, raw_id = row_id(lib, jpeg), row_id(lib, dng)
    done = lib.edits.shift_date([jpeg_id], "+1h")
    assert {c.id for c in done.photos} == {jpeg_id, raw_id}
    lib.edits.set_place([jpeg_id], 38.7223, -9.1393)
    rows = {int(r["id"]): r for r in lib.reader().rows(
        "SELECT id, taken_at, taken_at_source, gps_lat, gps_source FROM photos")}
    assert rows[raw_id]["taken_at"] == rows[jpeg_id]["taken_at"] == "2023-07-14T10:41:27"
    assert rows[raw_id]["taken_at_source"] == "manual"
    assert rows[raw_id]["gps_lat"] == pytest.approx(38.7223)
    # Both moved together: still one shot, still a pair.
    assert listed(lib) == ["IMG_0050.JPG"]
    # The JPEG deleted: the RAW comes back with the corrected clock and place.
    jpeg.unlink()
    lib.index()
    raw = lib.photo(raw_id)
    assert raw is not None and raw.taken_at == "2023-07-14T10:41:27" and raw.gps is not None
