"""Incremental ingestion end to end: real folders, real files, a real library file."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from PIL import Image

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.db import Connection, LibraryError, LibraryFullError
from glimpse_desktop.kernel.decode import SizeRequest
from glimpse_desktop.kernel.progress import CancelToken, Progress
from glimpse_desktop.kernel.stages import StageBase
from tests import imagegen as ig
from tests.conftest import assert_consistent, stage_plugin, unprivileged


def rows(lib: Library, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, object]]:
    return lib.reader().rows(sql, params)


def ids_by_name(lib: Library) -> dict[str, int]:
    return {str(r["filename"]): int(r["id"]) for r in rows(lib, "SELECT id, filename FROM photos")}


def make_album(folder: Path, n: int = 4, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (320, 240), seed=i,
                          datetime_original=f"2024:05:{i % 28 + 1:02d} 10:00:00")
            for i in range(start, start + n)]


def test_first_index_then_unchanged_rescan(lib: Library, photo_dir: Path) -> None:
    make_album(photo_dir / "2024 Lisbon", 5)
    lib.add_root(photo_dir)
    report = lib.index()
    assert (report.new, report.errors) == (5, 0)
    ids = {r["id"] for r in rows(lib, "SELECT id FROM photos")}
    assert sorted(report.photo_ids) == sorted(ids)     # what a view inserts without a reload
    status = lib.status()
    assert status.photos == 5 and status.roots[0].status == "online"
    for r in rows(lib, "SELECT content_hash, has_thumb FROM photos"):
        assert r["has_thumb"] == 1
        thumb = lib.thumbnails.path_for(str(r["content_hash"]))
        with Image.open(thumb) as im:
            assert max(im.size) == 256
    stamps = rows(lib, "SELECT id, updated_at FROM photos ORDER BY id")
    again = lib.index()
    assert (again.new, again.updated, again.unchanged) == (0, 0, 5)
    assert again.photo_ids == []
    assert rows(lib, "SELECT id, updated_at FROM photos ORDER BY id") == stamps


def test_changed_file_is_reread_into_the_same_row(lib: Library, photo_dir: Path) -> None:
    (path,) = make_album(photo_dir, 1)
    lib.add_root(photo_dir)
    lib.index()
    before = lib.photo(str(path))
    assert before is not None
    ig.write_jpeg(path, (640, 480), seed=99, datetime_original="2001:01:01 01:01:01")
    os.utime(path, ns=(before.modified_ns + 10**9, before.modified_ns + 10**9))
    report = lib.index()
    assert report.updated == 1
    after = lib.photo(str(path))
    assert after is not None
    assert after.id == before.id
    assert after.taken_at == "2001-01-01T01:01:01"
    assert (after.width, after.height) == (640, 480)


def test_touched_file_is_not_decoded_again(lib: Library, photo_dir: Path) -> None:
    (path,) = make_album(photo_dir, 1)
    lib.add_root(photo_dir)
    lib.index()
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))
    report = lib.index()
    assert (report.updated, report.unchanged) == (0, 1)
    assert lib.photo(str(path)).modified_ns == st.st_mtime_ns + 5 * 10**9  # type: ignore[union-attr]


def test_moved_and_renamed_files_and_folders_keep_their_rows(lib: Library,
                                                             photo_dir: Path) -> None:
    make_album(photo_dir / "inbox", 3)
    lib.add_root(photo_dir)
    lib.index()
    before = ids_by_name(lib)
    # Name a photo so we can see attached data survive.
    lib.writer.call(lambda c: c.execute(
        "INSERT INTO photo_text(photo_id, field, source, value) VALUES (?, 'caption', 'user', "
        "'sunset over the river')", (before["IMG_0001.jpg"],)))
    (photo_dir / "inbox" / "IMG_0000.jpg").rename(photo_dir / "inbox" / "renamed.jpg")
    (photo_dir / "sorted").mkdir()
    (photo_dir / "inbox" / "IMG_0001.jpg").rename(photo_dir / "sorted" / "IMG_0001.jpg")
    (photo_dir / "inbox").rename(photo_dir / "2024-05 Porto")
    report = lib.index()
    assert report.moved == 3 and report.new == 0
    after = ids_by_name(lib)
    assert after["renamed.jpg"] == before["IMG_0000.jpg"]
    assert after["IMG_0001.jpg"] == before["IMG_0001.jpg"]
    assert after["IMG_0002.jpg"] == before["IMG_0002.jpg"]
    assert lib.status().missing == 0
    moved = lib.photo(str(photo_dir / "2024-05 Porto" / "IMG_0002.jpg"))
    assert moved is not None and moved.status == "ok"
    # The caption came along, and the FTS index knows the new folder name.
    assert [r.id for r in lib.text_search("sunset river")] == [before["IMG_0001.jpg"]]
    assert sorted(r.id for r in lib.text_search("Porto")) == sorted(
        [before["IMG_0000.jpg"], before["IMG_0002.jpg"]])
    assert_consistent(lib)


def test_deleted_files_are_marked_missing_and_come_back(lib: Library, photo_dir: Path) -> None:
    paths = make_album(photo_dir, 3)
    lib.add_root(photo_dir)
    lib.index()
    keep = paths[0].read_bytes()
    st = paths[0].stat()
    paths[0].unlink()
    report = lib.index()
    assert report.missing == 1
    assert lib.status().missing == 1
    info = lib.photo(str(paths[0]))
    assert info is not None and info.status == "missing"
    paths[0].write_bytes(keep)
    os.utime(paths[0], ns=(st.st_atime_ns, st.st_mtime_ns))
    report = lib.index()
    assert (report.restored, report.new, report.updated) == (1, 0, 0)
    assert lib.status().missing == 0


def test_absent_drive_marks_offline_and_returns_without_reingest(lib: Library,
                                                                 tmp_path: Path) -> None:
    drive = tmp_path / "usb" / "DCIM"
    make_album(drive, 4)
    lib.add_root(drive)
    lib.index()
    ids = ids_by_name(lib)
    unplugged = tmp_path / "elsewhere"
    (tmp_path / "usb").rename(unplugged)
    report = lib.index()
    assert report.offline == 4 and report.missing == 0
    status = lib.status()
    assert (status.photos, status.offline) == (0, 4)
    assert status.roots[0].status == "offline"
    # An empty mount point left behind by an unmounted drive is "offline" too, not "deleted".
    # (Pretend the folder was added while a drive was mounted at tmp/usb.)
    lib.writer.call(lambda c: c.execute("UPDATE volumes SET mount_point = ?",
                                        (str(tmp_path / "usb"),)))
    drive.mkdir(parents=True)
    assert lib.index().missing == 0
    assert lib.status().offline == 4
    drive.rmdir()
    (tmp_path / "usb").rmdir()
    unplugged.rename(tmp_path / "usb")
    report = lib.index()
    assert (report.restored, report.new, report.updated) == (4, 0, 0)
    assert lib.status().photos == 4 and ids_by_name(lib) == ids
    assert_consistent(lib)


def test_a_folder_emptied_on_a_mounted_drive_is_missing_not_offline(
        lib: Library, photo_dir: Path) -> None:
    paths = make_album(photo_dir, 3)
    lib.add_root(photo_dir)
    lib.index()
    for p in paths:
        p.unlink()
    report = lib.index()
    assert (report.missing, report.offline) == (3, 0)
    assert lib.status().roots[0].status == "online"


def test_bad_files_are_recorded_and_never_stop_the_run(lib: Library, photo_dir: Path) -> None:
    make_album(photo_dir, 2)
    ig.write_truncated_jpeg(photo_dir / "truncated.jpg")
    ig.write_zero_byte(photo_dir / "empty.jpg")
    ig.write_not_an_image(photo_dir / "notes.jpg")
    ig.write_png_bomb(photo_dir / "bomb.png")
    sensor = ig.write_raw_without_preview(photo_dir / "sensor.dng")
    sensor.write_bytes(sensor.read_bytes()[:2000])  # no preview, and its sensor data cut off
    ig.write_dng(photo_dir / "ok.dng", datetime_original="2020:02:02 02:02:02")
    (photo_dir / "readme.txt").write_text("not a photo, not even considered")
    lib.add_root(photo_dir)
    report = lib.index()
    # 2 JPEGs, the good DNG, the DNG without preview (unsupported), and the truncated JPEG:
    # kept, marked damaged, shown as far as it decodes.
    assert report.new == 5
    errors = {Path(str(e.path)).name: e for e in lib.errors()}
    assert set(errors) == {"truncated.jpg", "empty.jpg", "notes.jpg",
                           "bomb.png", "sensor.dng"}
    assert "bomb" in errors["bomb.png"].reason
    assert "empty" in errors["empty.jpg"].reason
    assert "truncated" in errors["truncated.jpg"].reason
    damaged = lib.photo(str(photo_dir / "truncated.jpg"))
    assert damaged is not None and damaged.damaged and damaged.status == "ok"
    assert lib.thumbnails.has(damaged.content_hash)
    assert lib.status().unsupported == 1
    assert lib.photo(str(photo_dir / "ok.dng")).taken_at == "2020-02-02T02:02:02"  # type: ignore[union-attr]
    # Unchanged bad files are not retried; fixing one brings it in, no longer damaged.
    again = lib.index()
    assert (again.skipped, again.unchanged, again.new) == (3, 5, 0)
    ig.write_jpeg(photo_dir / "truncated.jpg", (100, 100))
    assert lib.index().updated == 1
    assert "truncated.jpg" not in {Path(str(e.path)).name for e in lib.errors()}
    fixed = lib.photo(str(photo_dir / "truncated.jpg"))
    assert fixed is not None and not fixed.damaged


def test_symlink_loop_and_unicode_names(lib: Library, photo_dir: Path) -> None:
    nested = photo_dir / "Été 2023" / "日本"
    make_album(nested, 2)
    os.symlink(photo_dir, nested / "loop")  # points back up: a cycle
    os.symlink(photo_dir / "nowhere", photo_dir / "dangling.jpg")
    lib.add_root(photo_dir)
    report = lib.index()
    assert report.new == 2
    assert {Path(str(p["path"])).parent.name for p in rows(lib, "SELECT path FROM photos")} == {
        "日本"}
    reasons = " ".join(str(e.reason) for e in lib.errors(stage="scan"))
    assert "loop" in reasons and "broken symbolic link" in reasons
    assert [Path(str(r.path)).name for r in lib.text_search("Été")] != []


def test_unreadable_folder_is_reported_and_its_photos_kept() -> None:
    # Outside pytest's tmp_path, whose parents are private to root.
    with tempfile.TemporaryDirectory(prefix="glimpse-perm-") as tmp:
        _unreadable_folder_case(Path(tmp))


def _unreadable_folder_case(tmp_path: Path) -> None:
    base = tmp_path / "shared"
    base.mkdir()
    make_album(base / "open", 2)
    make_album(base / "private", 2, start=10)
    make_album(base / "listable", 1, start=20)
    lib_path = tmp_path / "libdir" / "lib.sqlite3"
    lib_path.parent.mkdir()
    for p in [tmp_path, base, lib_path.parent, *base.rglob("*")]:
        os.chmod(p, 0o777 if p.is_dir() else 0o666)

    def first_pass() -> None:
        with Library.open(lib_path, workers=1) as lib:
            lib.add_root(base)
            assert lib.index().new == 5

    def second_pass() -> None:
        with Library.open(lib_path, workers=1) as lib:
            report = lib.index()
            assert report.missing == 0, report
            errs = sorted(lib.errors(stage="scan"), key=lambda e: e.path)
            assert [Path(e.path).name for e in errs] == ["listable", "private"]
            assert all("permission denied" in e.reason for e in errs)
            assert lib.status().photos == 5

    assert unprivileged(first_pass) == 0
    os.chmod(base / "private", 0o000)
    os.chmod(base / "listable", 0o444)  # names can be listed, files cannot be opened
    try:
        assert unprivileged(second_pass) == 0
    finally:
        os.chmod(base / "private", 0o777)
        os.chmod(base / "listable", 0o777)


def test_interrupted_index_resumes_without_duplicates(library_path: Path,
                                                      photo_dir: Path) -> None:
    make_album(photo_dir, 40)
    token = CancelToken()

    class StopAfter(StageBase):
        """A pipeline stage that presses "cancel" once 8 photos have been decoded."""

        name = "stopper"
        seen = 0

        def wants(self) -> SizeRequest:
            return SizeRequest()

        def process(self, content_hash: str, decoded: object) -> None:
            StopAfter.seen += 1
            if StopAfter.seen >= 8:
                token.cancel()

        def write(self, conn: object, photo_id: int, result: object) -> None:
            pass

    with Library.open(library_path, workers=2) as lib, stage_plugin(StopAfter()):
        lib.indexer.batch_size = 4
        lib.add_root(photo_dir)
        report = lib.index(cancel=token)
        assert report.cancelled
        done_first = lib.status().photos
        assert 8 <= done_first < 40
    with Library.open(library_path, workers=2) as lib:
        report = lib.index()
        assert report.new == 40 - done_first
        assert report.unchanged == done_first
        assert lib.status().photos == 40
        assert len({r["path"] for r in rows(lib, "SELECT path FROM photos")}) == 40


def test_progress_reports_counts_rate_and_eta(lib: Library, photo_dir: Path) -> None:
    make_album(photo_dir, 12)
    lib.add_root(photo_dir)
    events: list[Progress] = []
    lib.indexer.batch_size = 2
    lib.index(progress=events.append)
    reading = [e for e in events if e.phase == "reading photos"]
    assert reading and reading[-1].total == 12 and reading[-1].done == 12
    # The run ends with the steps after reading (places, albums), each finishing.
    assert events[-1].finished
    assert [e.done for e in reading] == sorted(e.done for e in reading)


def test_text_search_finds_prompts_descriptions_and_names(lib: Library, photo_dir: Path) -> None:
    ig.write_png(photo_dir / "dragon.png", text={
        "parameters": ig.a1111_parameters("a red dragon over a castle", "blue sky")})
    ig.write_jpeg(photo_dir / "bday.jpg", image_description="Grandma's birthday cake")
    ig.write_jpeg(photo_dir / "IMG_2024_beach.jpg", xp_keywords=["holiday", "Algarve"])
    lib.add_root(photo_dir)
    lib.index()

    def names(q: str) -> list[str]:
        return [Path(str(r.path)).name for r in lib.text_search(q)]

    assert names("red dragon") == ["dragon.png"]
    assert names("blue sky") == []  # a negative prompt is not what the picture shows
    assert names("birthday") == ["bday.jpg"]
    assert names("algarve") == ["IMG_2024_beach.jpg"]
    assert names("beach") == ["IMG_2024_beach.jpg"]  # words inside file names
    assert names("birth") == ["bday.jpg"]  # prefix while typing
    assert names('dragon -castle') == []
    assert names('"castle over"') == []
    assert names("(((") == []  # no FTS syntax error can escape


def test_previews_are_made_on_demand(lib: Library, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "big.jpg", (4000, 3000), orientation=6)
    lib.add_root(photo_dir)
    lib.index()
    info = lib.photo(str(photo_dir / "big.jpg"))
    assert info is not None
    assert not lib.thumbnails.has(info.content_hash, "preview")
    preview = lib.thumbnail(info.id, "preview")
    with Image.open(preview) as im:
        assert im.size == (960, 1280)  # upright, 1280 on the long edge
    assert lib.thumbnail(info.id, "preview") == preview


def test_roots_add_nested_and_remove(lib: Library, photo_dir: Path) -> None:
    make_album(photo_dir / "a", 2)
    make_album(photo_dir / "b", 2, start=5)
    lib.add_root(photo_dir / "a")
    lib.index()
    with pytest.raises(LibraryError, match="already in the library"):
        lib.add_root(photo_dir / "a")
    with pytest.raises(LibraryError, match="already in the library"):
        lib.add_root(f"{photo_dir}/a/../a/.")  # the same folder spelled differently
    (photo_dir / "a" / "sub").mkdir()
    with pytest.raises(LibraryError, match="inside"):
        lib.add_root(photo_dir / "a" / "sub")
    ids = ids_by_name(lib)
    added = lib.add_root(photo_dir)
    assert added.absorbed == (str(photo_dir / "a"),)
    assert lib.index().new == 2
    assert {k: v for k, v in ids_by_name(lib).items() if k in ids} == ids
    hashes = [str(r["content_hash"]) for r in rows(lib, "SELECT content_hash FROM photos")]
    assert lib.remove_root(photo_dir) == 4
    assert lib.status().photos == 0 and lib.text_search("IMG") == []
    assert all((photo_dir / d / f"IMG_{i:04d}.jpg").exists() for d, i in (("a", 0), ("b", 5)))
    assert not any(lib.thumbnails.has(h) for h in hashes)
    with pytest.raises(LibraryError, match="not a folder of this library"):
        lib.remove_root(photo_dir)


def test_index_of_a_subfolder_only_touches_that_subfolder(lib: Library, photo_dir: Path) -> None:
    make_album(photo_dir / "x", 2)
    make_album(photo_dir / "y", 2, start=3)
    lib.add_root(photo_dir)
    lib.index()
    shutil.rmtree(photo_dir / "y")
    make_album(photo_dir / "x", 1, start=9)
    report = lib.index([str(photo_dir / "x")])
    assert (report.new, report.missing) == (1, 0)  # y's loss is noticed only when y is scanned
    with pytest.raises(LibraryError, match="not inside a folder of this library") as caught:
        lib.index(["/definitely/not/here"])
    assert caught.value.code == "roots.outside"


def test_originals_are_never_modified(lib: Library, photo_dir: Path) -> None:
    paths = make_album(photo_dir, 3)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}
    lib.add_root(photo_dir)
    lib.index()
    lib.thumbnail(str(paths[0]), "preview")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths} == before
    assert sorted(os.listdir(photo_dir)) == sorted(p.name for p in paths)


def test_full_disk_stops_with_a_clear_error_and_loses_nothing(lib: Library,
                                                              photo_dir: Path) -> None:
    make_album(photo_dir, 40)
    lib.add_root(photo_dir)
    lib.indexer.batch_size = 4
    # SQLite's own page limit makes the database file "full" exactly as a full disk does.
    pages = int(lib.writer.call(lambda c: c.one("PRAGMA page_count")))
    lib.writer.call(lambda c: c.execute(f"PRAGMA max_page_count = {pages + 3}"))
    with pytest.raises(LibraryFullError, match="full"):
        lib.index()
    saved = lib.status().photos
    assert saved < 40
    lib.writer.call(lambda c: c.execute("PRAGMA max_page_count = 1073741823"))
    report = lib.index()
    assert report.new + report.unchanged == 40
    assert lib.reader().one("SELECT count(*) FROM photos") == 40
    assert_consistent(lib)


def test_hostile_metadata_costs_nothing(lib: Library, photo_dir: Path) -> None:
    # A lone surrogate smuggled in through a JSON escape, and an ISO of 1e300.
    ig.write_png(photo_dir / "evil.png", text={
        "prompt": '{"6": {"class_type": "CLIPTextEncode", "inputs": {"text": "dragon \\ud800"}}}'})
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x8827] = 1e300
    Image.new("RGB", (32, 32), (1, 2, 3)).save(photo_dir / "iso.jpg", exif=exif.tobytes())
    make_album(photo_dir, 2)
    lib.add_root(photo_dir)
    report = lib.index()
    assert report.new == 4 and report.errors == 0
    assert lib.photo(str(photo_dir / "iso.jpg")).exposure.iso is None  # type: ignore[union-attr]
    assert [Path(str(r.path)).name for r in lib.text_search("dragon")] == ["evil.png"]
    assert_consistent(lib)


def test_a_value_the_database_refuses_costs_one_file(lib: Library, photo_dir: Path) -> None:
    make_album(photo_dir, 3)
    lib.add_root(photo_dir)

    class Refuses(StageBase):
        """A stage whose result SQLite rejects for one photo (a CHECK constraint)."""

        name = "refuses"

        def wants(self) -> SizeRequest:
            return SizeRequest()

        def process(self, content_hash: str, decoded: object) -> str:
            return content_hash

        def write(self, conn: object, photo_id: int, result: object) -> None:
            assert isinstance(conn, Connection)
            if conn.one("SELECT filename FROM photos WHERE id = ?", (photo_id,)) == \
                    "IMG_0001.jpg":
                conn.execute("UPDATE photos SET status = 'nonsense' WHERE id = ?", (photo_id,))

    with stage_plugin(Refuses()):
        report = lib.index()
    assert report.new == 3
    # The refused write costs that stage's result for that file (each stage writes in a
    # savepoint of its own), never the photo: it is in the library with the others.
    assert lib.status().photos == 3
    assert not lib.errors(stage="ingest")
    errors = lib.errors(stage="refuses")
    assert len(errors) == 1 and "could not be saved" in errors[0].reason
    assert errors[0].path.endswith("IMG_0001.jpg")
    assert lib.reader().one("SELECT count(*) FROM photos WHERE status = 'nonsense'") == 0
    assert_consistent(lib)


def test_names_that_are_not_utf8_are_reported(lib: Library, photo_dir: Path) -> None:
    make_album(photo_dir, 1)
    bad = os.path.join(os.fsencode(photo_dir), b"caf\xe9.jpg")
    with open(bad, "wb") as fh:
        fh.write((photo_dir / "IMG_0000.jpg").read_bytes()[:-1] + b"\xd9")
    lib.add_root(photo_dir)
    assert lib.index().new == 1
    (err,) = lib.errors(stage="scan")
    assert "UTF-8" in err.reason
    # The watcher's entry points refuse it the same way instead of crashing.
    report = lib.indexer.index_files([os.fsdecode(bad)])
    assert report.errors == 1 and report.new == 0
    assert lib.indexer.mark_gone([os.fsdecode(bad)]).photo_ids == []
    assert lib.indexer.move(os.fsdecode(bad), str(photo_dir / "x.jpg"), is_dir=False) == 0


def test_moved_then_edited_file_is_reread(lib: Library, photo_dir: Path) -> None:
    (a,) = make_album(photo_dir, 1)
    lib.add_root(photo_dir)
    lib.index()
    first = lib.photo(str(a))
    assert first is not None
    b = photo_dir / "b.jpg"
    a.rename(b)
    ig.write_jpeg(b, (300, 200), seed=42)  # edited before the move was noticed
    assert lib.indexer.move(str(a), str(b), is_dir=False) == 1
    report = lib.indexer.index_files([str(b)])
    assert report.updated == 1
    after = lib.photo(str(b))
    assert after is not None and after.id == first.id
    assert (after.width, after.height) == (300, 200)


def test_a_file_moved_over_another_while_not_running(lib: Library, photo_dir: Path) -> None:
    apple = ig.write_jpeg(photo_dir / "apple.jpg", seed=1)
    banana = ig.write_jpeg(photo_dir / "banana.jpg", seed=2)
    lib.add_root(photo_dir)
    lib.index()
    ids = ids_by_name(lib)
    os.replace(apple, banana)  # mv apple.jpg banana.jpg
    report = lib.index()
    assert report.moved == 1
    # The same outcome as when the watcher sees the move: apple's row follows its bytes, and
    # banana's photo, whose bytes are gone, is missing (found again if they turn up).
    assert ids_by_name(lib) == {"banana.jpg": ids["apple.jpg"],
                                f"banana.jpg (replaced, #{ids['banana.jpg']})": ids["banana.jpg"]}
    assert lib.status().missing == 1
    assert_consistent(lib)


def test_a_folder_added_through_a_symlink_is_the_same_folder(lib: Library, photo_dir: Path,
                                                              tmp_path: Path) -> None:
    make_album(photo_dir, 2)
    alias = tmp_path / "alias"
    alias.symlink_to(photo_dir)
    lib.add_root(alias)
    with pytest.raises(LibraryError, match="already in the library"):
        lib.add_root(photo_dir)
    assert lib.index().new == 2
    assert lib.photo(str(alias / "IMG_0000.jpg")) is not None
    assert lib.remove_root(alias) == 2


def test_byte_budget_holds_back_big_files_until_memory_is_free() -> None:
    import threading

    from glimpse_desktop.kernel.pipeline import ByteBudget

    class Watched(threading.Condition):
        """The budget's own condition, saying when a thread starts to wait on it."""

        def __init__(self) -> None:
            super().__init__()
            self.waiting = threading.Event()

        def wait(self, timeout: float | None = None) -> bool:
            self.waiting.set()
            return super().wait(timeout)

    budget = ByteBudget(100)
    watched = Watched()
    budget._cond = watched
    first = budget.acquire(60)
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(budget.acquire(60)))
    waiter.start()
    assert watched.waiting.wait(10)          # it asked, found no room, and waits
    assert waiter.is_alive() and got == []  # 60 + 60 > 100: waits
    budget.release(first)
    waiter.join(5)
    assert got == [60]
    budget.release(60)
    assert budget.acquire(10_000) == 100  # a file larger than the cap goes alone


def test_one_ingestion_at_a_time_per_library(library_path: Path, photo_dir: Path) -> None:
    """`glimpse index` while `glimpse watch` runs: the second waits instead of reading the
    same photos again (two Library objects stand for two processes: separate lock handles)."""
    import threading

    make_album(photo_dir, 6)
    with Library.open(library_path) as first, Library.open(library_path) as second:
        first.add_root(photo_dir)
        assert first.indexer.lock is not None
        events: list[Progress] = []
        result: list[object] = []

        class Retrying(CancelToken):
            """Says when the waiter has tried the lock three times: it waits once per
            failed try, on its cancel token."""

            def __init__(self) -> None:
                super().__init__()
                self.tries = 0
                self.retried = threading.Event()

            def wait(self, timeout: float) -> bool:
                self.tries += 1
                if self.tries >= 3:
                    self.retried.set()
                return super().wait(timeout)

        waiting = Retrying()
        with first.indexer.lock.hold():
            runner = threading.Thread(target=lambda: result.append(
                second.index(progress=events.append, cancel=waiting)))
            runner.start()
            assert waiting.retried.wait(30)
            # Three tries in and still waiting: nothing read and nothing but the wait said.
            assert runner.is_alive() and result == []
            assert events and all(e.phase.startswith("waiting for another Glimpse")
                                  for e in events)
        runner.join(30)
        assert len(result) == 1 and result[0].new == 6  # type: ignore[attr-defined]
        # Cancelling while waiting ends the wait cleanly.
        token = CancelToken()

        def cancel_once_waiting(event: Progress) -> None:
            if event.phase.startswith("waiting for another Glimpse"):
                token.cancel()

        with first.indexer.lock.hold():
            report = second.index(cancel=token, progress=cancel_once_waiting)
        assert report.cancelled and report.new == 0


def test_unsupported_files_go_missing_and_keep_their_row_when_renamed(
        lib: Library, photo_dir: Path) -> None:
    raw = ig.write_raw_without_preview(photo_dir / "a.dng")
    raw.write_bytes(raw.read_bytes()[:2000])  # no preview, and its sensor data cut off
    lib.add_root(photo_dir)
    lib.index()
    (row,) = rows(lib, "SELECT id, status FROM photos")
    assert row["status"] == "unsupported"
    raw.rename(photo_dir / "b.dng")
    report = lib.index()
    assert report.moved == 1
    assert rows(lib, "SELECT id, filename, status FROM photos") == [
        {"id": row["id"], "filename": "b.dng", "status": "unsupported"}]
    (photo_dir / "b.dng").unlink()
    lib.index()
    assert rows(lib, "SELECT status FROM photos") == [{"status": "missing"}]
    assert lib.status().unsupported == 0


def test_moving_a_photo_over_a_file_that_failed(lib: Library, photo_dir: Path) -> None:
    (a,) = make_album(photo_dir, 1)
    broken = ig.write_not_an_image(photo_dir / "b.jpg")
    lib.add_root(photo_dir)
    lib.index()
    assert len(lib.errors()) == 1
    photo_id = ids_by_name(lib)["IMG_0000.jpg"]
    os.replace(a, broken)
    assert lib.indexer.move(str(a), str(broken), is_dir=False) == 1
    assert ids_by_name(lib) == {"b.jpg": photo_id}
    assert lib.errors() == []
    assert_consistent(lib)


def test_links_to_folders_inside_the_photo_folder_are_not_followed(
        lib: Library, photo_dir: Path, tmp_path: Path) -> None:
    make_album(photo_dir / "trips", 2)
    (photo_dir / "Best").symlink_to(photo_dir / "trips")  # sorts before its target
    elsewhere = tmp_path / "phone-backup"
    make_album(elsewhere, 1, start=7)
    (photo_dir / "phone").symlink_to(elsewhere)  # leads out: followed
    lib.add_root(photo_dir)
    assert lib.index().new == 3
    assert sorted(str(r["folder"]) for r in rows(lib, "SELECT folder FROM photos")) == [
        str(photo_dir / "phone"), str(photo_dir / "trips"), str(photo_dir / "trips")]
    assert lib.errors() == []


def test_a_thread_waiting_for_the_ingest_lock_can_be_cancelled(lib: Library,
                                                                photo_dir: Path) -> None:
    import threading

    make_album(photo_dir, 2)
    lib.add_root(photo_dir)
    assert lib.indexer.lock is not None
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another thread of the same process (the watcher, say)
        assert lib.indexer.lock is not None
        with lib.indexer.lock.hold():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    token = CancelToken()
    events: list[Progress] = []
    threading.Timer(0.5, token.cancel).start()
    report = lib.index(cancel=token, progress=events.append)
    assert report.cancelled and report.new == 0
    assert any("waiting for another Glimpse" in e.phase for e in events)
    release.set()
    holder.join(5)
    assert lib.index().new == 2


def test_an_edited_photo_does_not_leave_its_old_thumbnails_behind(lib: Library,
                                                                  photo_dir: Path) -> None:
    (path,) = make_album(photo_dir, 1)
    twin = photo_dir / "copy-of-first.jpg"
    twin.write_bytes(path.read_bytes())  # the same content twice
    lib.add_root(photo_dir)
    lib.index()
    old = lib.photo(str(path))
    assert old is not None
    lib.thumbnail(old.id, "preview")
    ig.write_jpeg(path, (200, 150), seed=77)
    lib.index()
    # The twin still shows the old content: its thumbnail stays.
    assert lib.thumbnails.has(old.content_hash)
    twin.unlink()
    ig.write_jpeg(photo_dir / "other.jpg", seed=5)
    twin.write_bytes((photo_dir / "other.jpg").read_bytes())
    lib.index()
    assert not lib.thumbnails.has(old.content_hash)
    assert not lib.thumbnails.has(old.content_hash, "preview")
    new = lib.photo(str(path))
    assert new is not None and lib.thumbnails.has(new.content_hash)


def test_a_photo_overwritten_by_a_damaged_file_keeps_its_row_and_is_not_retried(
        lib: Library, photo_dir: Path) -> None:
    (path,) = make_album(photo_dir, 1)
    lib.add_root(photo_dir)
    lib.index()
    before = lib.photo(str(path))
    assert before is not None and not before.damaged
    # An unreadable file in its place: an error, and the row keeps what was read before.
    ig.write_not_an_image(path)
    report = lib.index()
    assert report.errors == 1
    after = lib.photo(str(path))
    assert after is not None and after.id == before.id
    assert after.taken_at == before.taken_at  # what was read before is kept
    again = lib.index()
    assert (again.skipped, again.errors, again.updated) == (1, 0, 0)
    # A copy cut short whose EXIF survived: the same photo, updated and marked damaged.
    ig.write_truncated_jpeg(path, (640, 480), seed=3, datetime_original="2011:11:11 11:11:11")
    assert lib.index().updated == 1
    cut = lib.photo(str(path))
    assert cut is not None and cut.id == before.id and cut.damaged
    assert cut.taken_at == "2011-11-11T11:11:11"
    assert any("truncated" in e.reason for e in cut.errors)
    again = lib.index()   # kept as a photo: unchanged, not read again
    assert (again.unchanged, again.errors, again.updated) == (1, 0, 0)
    assert lib.text_search("sunset") == [] and "Traceback" not in str(lib.errors())


def test_text_from_phones_is_searchable_with_or_without_accents(lib: Library,
                                                                photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "dessert.jpg", image_description="Crème brûlée at the café")
    ig.write_jpeg(photo_dir / "kyoto.jpg", image_description="京都の寺")
    lib.add_root(photo_dir)
    lib.index()
    assert [Path(str(r.path)).name for r in lib.text_search("creme brulee")] == [
        "dessert.jpg"]
    assert [Path(str(r.path)).name for r in lib.text_search("京都の寺")] == ["kyoto.jpg"]


def test_a_link_into_another_photo_folder_is_not_followed(lib: Library, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    make_album(first, 1)
    make_album(second / "trips", 2, start=5)
    (first / "trips").symlink_to(second / "trips")
    lib.add_root(first)
    lib.add_root(second)
    lib.index()
    assert sorted(str(r["folder"]) for r in rows(lib, "SELECT folder FROM photos")) == [
        str(first), str(second / "trips"), str(second / "trips")]


def test_pages_of_the_library_walk_every_photo_once_newest_first(lib: Library,
                                                                  photo_dir: Path) -> None:
    # Two photos share a timestamp (a burst): the id breaks the tie, so none is lost or
    # repeated at a page boundary.
    for i in range(7):
        ig.write_jpeg(photo_dir / f"p{i}.jpg", (64, 48), seed=i,
                      datetime_original=f"2023:0{1 + i // 2}:10 12:00:00")
    ig.write_png(photo_dir / "undated.png", (64, 48))
    lib.add_root(photo_dir)
    lib.index()
    # A photo the library could not date (all that is known of some files).
    lib.writer.call(lambda c: c.execute("UPDATE photos SET taken_ts = NULL, taken_at = NULL "
                                        "WHERE filename = 'undated.png'"))
    expected = [r["id"] for r in rows(lib, "SELECT id FROM photos ORDER BY taken_ts IS NULL, "
                                           "taken_ts DESC, id DESC")]
    for size in (1, 2, 3, 8, 100):
        seen: list[int] = []
        after = None
        while True:
            page = lib.photo_page(after=after, limit=size)
            seen += [p.id for p in page]
            if len(page) < size:
                break
            after = (page[-1].taken_ts, page[-1].id)
        assert seen == expected, size
    assert lib.photo_count() == 8
    assert lib.photo_page(limit=3)[0].filename == "p6.jpg"


class _WatchedZip:
    """Pillow's own zlib decoder (the one PNGs go through), noting in ``log`` when it starts
    and stops filling an image of how many pixels: what was decoded at the same time."""

    log: list[tuple[int, int]]  # (+1 start / -1 end, pixels), in order
    lock: threading.Lock

    def __init__(self, mode: str, *args: object) -> None:
        from PIL import _imaging

        self._inner = _imaging.zip_decoder(mode, *args)
        self._pixels = 0

    def setimage(self, im: object, extents: tuple[int, int, int, int] | None = None) -> None:
        x0, y0, x1, y1 = extents or (0, 0, 0, 0)
        self._pixels = (x1 - x0) * (y1 - y0)
        with self.lock:
            self.log.append((1, self._pixels))
        self._inner.setimage(im, extents)

    def cleanup(self) -> None:
        with self.lock:
            self.log.append((-1, self._pixels))
        self._inner.cleanup()

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_huge_images_are_decoded_one_at_a_time_and_indexed_whole(
        library_path: Path, photo_dir: Path) -> None:
    """A 687 KB PNG can hold 225 MP (~860 MB decoded): file sizes say nothing about memory,
    so the decoded pixels in flight are bounded, and two such images never decode together
    however many workers there are."""
    from glimpse_desktop.kernel.decode import IN_FLIGHT_PIXELS

    width = 12000
    height = (IN_FLIGHT_PIXELS // width + 2) & ~1  # just over the budget: must go alone
    for i in range(3):
        ig.write_quartered_png(photo_dir / f"a_panorama_{i}.png", (width, height))
    make_album(photo_dir / "z_small", 4)
    _WatchedZip.log, _WatchedZip.lock = [], threading.Lock()
    before = Image.DECODERS.get("zip")
    Image.register_decoder("zip", _WatchedZip)  # type: ignore[arg-type]
    try:
        with Library.open(library_path, workers=2) as lib:
            lib.add_root(photo_dir)
            report = lib.index()
            assert (report.new, report.errors) == (7, 0)
            huge = rows(lib, "SELECT width, height, content_hash, has_thumb FROM photos "
                             "WHERE filename LIKE 'a_panorama_%'")
            assert len(huge) == 3
            for r in huge:
                assert (r["width"], r["height"], r["has_thumb"]) == (width, height, 1)
                with Image.open(lib.thumbnails.path_for(str(r["content_hash"]))) as thumb:
                    assert max(thumb.size) == 256
                    w, h = thumb.size
                    # The quarters where they belong: the image was put back together whole.
                    assert thumb.convert("L").getpixel((w // 4, h // 4)) == 255
                    assert thumb.convert("L").getpixel((3 * w // 4, h // 4)) == 0
                    assert thumb.convert("L").getpixel((w // 4, 3 * h // 4)) == 0
                    assert thumb.convert("L").getpixel((3 * w // 4, 3 * h // 4)) == 255
    finally:
        Image.DECODERS.pop("zip", None)
        if before is not None:
            Image.DECODERS["zip"] = before
    large = [(step, pixels) for step, pixels in _WatchedZip.log if pixels == width * height]
    assert [step for step, _ in large].count(1) == 3  # every panorama was seen decoding
    at_once = most = 0
    for step, _ in large:
        at_once += step
        most = max(most, at_once)
    assert most == 1


def test_a_large_request_is_not_overtaken_by_small_ones() -> None:
    """The pixel budget serves in turn: with workers forever taking small images, a
    panorama waiting for the budget to empty would otherwise wait for ever."""
    from glimpse_desktop.kernel.decode import Budget
    from tests.conftest import eventually

    budget = Budget(100)
    first = budget.acquire(60)
    order: list[str] = []

    def take(name: str, n: int) -> None:
        got = budget.acquire(n)
        order.append(name)
        budget.release(got)

    large = threading.Thread(target=take, args=("large", 100))
    large.start()
    assert eventually(lambda: budget.waiting == 1)
    small = threading.Thread(target=take, args=("small", 10))
    small.start()  # 60 + 10 would fit, but the large one asked first
    assert eventually(lambda: budget.waiting == 2)
    assert order == []
    budget.release(first)
    large.join(10)
    small.join(10)
    assert order == ["large", "small"]
