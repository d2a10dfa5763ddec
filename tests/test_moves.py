"""A moved photo is the same photo: renames and moves of files, folders and whole photo
folders keep every row, with its albums, captions and tags, whether they happen while Glimpse
watches or between two scans, however they overlap."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import photos, scan
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.pipeline import IndexReport
from tests import imagegen as ig
from tests import moveplay
from tests.conftest import assert_consistent, eventually

SETTLE = 0.3


def _album_with_caption(lib: Library, photo_dir: Path) -> tuple[dict[str, int], int]:
    """The issue's layout: y2019/summer/beach (five photos in an album, one captioned) and
    y2020/ (three)."""
    beach = photo_dir / "y2019" / "summer" / "beach"
    beach.mkdir(parents=True)
    (photo_dir / "y2020").mkdir()
    for n in range(5):
        ig.write_jpeg(beach / f"b{n}.jpg", (32, 24), seed=n, mtime=1_600_000_000 + n)
    for n in range(3):
        ig.write_jpeg(photo_dir / "y2020" / f"c{n}.jpg", (32, 24), seed=10 + n)
    lib.add_root(photo_dir)
    lib.index()
    ids = {Path(r["path"]).name: int(r["id"]) for r in
           lib.reader().rows("SELECT id, path FROM photos")}
    album = lib.albums.create("Beach", [ids[f"b{n}.jpg"] for n in range(5)])
    lib.captions.set_text(ids["b0.jpg"], "Sand castle at low tide")
    return ids, album.id


def _assert_kept(lib: Library, ids: dict[str, int], album: int, where: Path, *,
                 copies: int = 0) -> None:
    conn = lib.reader()
    rows = {int(r["id"]): r for r in conn.rows("SELECT id, path, status FROM photos")}
    assert len(rows) == len(ids) + copies, rows
    for n in range(5):
        row = rows[ids[f"b{n}.jpg"]]
        assert (row["path"], row["status"]) == (str(where / f"b{n}.jpg"), "ok"), row
    assert sorted(lib.albums.photo_ids(album)) == sorted(ids[f"b{n}.jpg"] for n in range(5))
    caption = lib.captions.get(ids["b0.jpg"])
    assert caption is not None and caption.summary == "Sand castle at low tide"


def test_quick_nested_folder_moves_while_watching_stay_moves(lib: Library,
                                                            photo_dir: Path) -> None:
    """`mv y2020 y2020-B; sleep 0.3; mkdir -p y2020-B/beach2; mv y2019/summer/beach
    y2020-B/beach2/nested`: the second move lands in a folder made a moment before (the
    watcher has no watch on it yet, so the move arrives as a delete and a new folder)."""
    ids, album = _album_with_caption(lib, photo_dir)
    with lib.watcher(settle=SETTLE, poll=0.05, health_interval=0.5) as watcher:
        assert watcher.wait_idle(30)
        (photo_dir / "y2020").rename(photo_dir / "y2020-B")
        time.sleep(0.3)
        nested = photo_dir / "y2020-B" / "beach2" / "nested"
        nested.parent.mkdir(parents=True)
        (photo_dir / "y2019" / "summer" / "beach").rename(nested)
        assert watcher.wait_idle(30)
        _assert_kept(lib, ids, album, nested)
    # A later index keeps it so, and forgetting missing photos forgets nothing.
    lib.index()
    assert lib.forget_missing() == []
    _assert_kept(lib, ids, album, nested)
    assert_consistent(lib)


def test_a_move_seen_as_new_files_before_the_delete_is_still_a_move(
        lib: Library, photo_dir: Path) -> None:
    """The order the watcher may see a move in when its two halves are apart: the files at
    the new place are read first (the folder scan), the old place is found gone after."""
    ids, album = _album_with_caption(lib, photo_dir)
    old = photo_dir / "y2019" / "summer" / "beach"
    new = photo_dir / "elsewhere" / "beach"
    new.parent.mkdir()
    old.rename(new)
    read = lib.indexer.index_files([str(new / f"b{n}.jpg") for n in range(5)])
    assert (read.new, read.moved) == (0, 5)
    gone = lib.indexer.mark_gone([str(old)])
    assert gone.missing == 0
    _assert_kept(lib, ids, album, new)


def test_copy_then_delete_across_drives_is_a_move(lib: Library, photo_dir: Path) -> None:
    """`mv` to another file system copies, then deletes: the copies are read (as new
    photos, the originals still being there) before the originals go. Once they go, the
    photo's row is joined with the copy's: one photo, its album and caption kept, and the
    album the copy was put in meanwhile too."""
    ids, album = _album_with_caption(lib, photo_dir)
    old = photo_dir / "y2019" / "summer" / "beach"
    new = photo_dir / "copied"
    shutil.copytree(old, new)
    report = lib.index()
    assert report.new == 5
    copy_id = int(lib.reader().one("SELECT id FROM photos WHERE path = ?",
                                   (str(new / "b1.jpg"),)))
    later = lib.albums.create("Later", [copy_id])
    # A model's caption on the original, the person's own on the copy: theirs wins.
    model_caption_on = ids["b2.jpg"]
    lib.writer.call(lambda conn: conn.execute(
        "INSERT INTO captions(photo_id, content_hash, source, model, summary, updated_at) "
        "SELECT id, content_hash, 'model', 'm', 'a model guess', '2026-01-01T00:00:00Z' "
        "FROM photos WHERE id = ?", (model_caption_on,)))
    copy2 = int(lib.reader().one("SELECT id FROM photos WHERE path = ?", (str(new / "b2.jpg"),)))
    lib.captions.set_text(copy2, "Grandma's 90th birthday")
    shutil.rmtree(old)
    report = lib.index()
    assert (report.missing, report.moved) == (0, 5)
    _assert_kept(lib, ids, album, new)
    assert lib.albums.photo_ids(later.id) == [ids["b1.jpg"]]
    caption = lib.captions.get(model_caption_on)
    assert caption is not None and caption.summary == "Grandma's 90th birthday"
    assert_consistent(lib)


@pytest.mark.parametrize("gone", ["a.jpg", "b.jpg"])
def test_two_copies_that_lived_side_by_side_stay_two_photos(lib: Library, photo_dir: Path,
                                                            gone: str) -> None:
    """Deleting one of two identical files that were both in the library for long is not a
    move, whichever row is older: the other keeps its own id and caption; the deleted one is
    missing."""
    a = ig.write_jpeg(photo_dir / "a.jpg", (32, 24), seed=1)
    shutil.copy(a, photo_dir / "b.jpg")
    lib.add_root(photo_dir)
    lib.index()
    ids = {Path(r["path"]).name: int(r["id"]) for r in
           lib.reader().rows("SELECT id, path FROM photos")}
    for name, photo_id in ids.items():
        lib.captions.set_text(photo_id, f"caption on {name}")
    lib.writer.call(lambda conn: conn.execute(
        "UPDATE photos SET added_at = '2026-01-01T00:00:00Z'"))
    kept = "b.jpg" if gone == "a.jpg" else "a.jpg"
    (photo_dir / gone).unlink()
    report = lib.index()
    assert (report.missing, report.moved) == (1, 0)
    rows = {int(r["id"]): r for r in lib.reader().rows("SELECT id, path, status FROM photos")}
    assert rows[ids[kept]]["status"] == "ok" and rows[ids[gone]]["status"] == "missing"
    caption = lib.captions.get(ids[kept])
    assert caption is not None and caption.summary == f"caption on {kept}"


def test_an_index_repairs_a_move_recorded_as_new_rows(lib: Library, photo_dir: Path) -> None:
    """A library where an earlier version recorded a move as new rows and missing old ones:
    the next index joins each missing photo with the newer row of its content, so
    `forget-missing` then forgets nothing."""
    ids, album = _album_with_caption(lib, photo_dir)
    old = photo_dir / "y2019" / "summer" / "beach"
    new = photo_dir / "y2020" / "beach"
    old.rename(new)

    def as_the_old_code_did(conn: Connection) -> None:
        # What that bug left: the old rows missing, the moved files read again as new rows.
        for n in range(5):
            row = conn.row("SELECT * FROM photos WHERE id = ?", (ids[f"b{n}.jpg"],))
            assert row is not None
            photos.mark_status(conn, [row["id"]], "missing")
            photos.upsert_photo(conn, path=str(new / f"b{n}.jpg"), root_id=row["root_id"],
                                size=row["size"], mtime_ns=row["mtime_ns"],
                                content_hash=row["content_hash"], meta=None)

    lib.writer.call(as_the_old_code_did)
    assert lib.reader().one("SELECT count(*) FROM photos") == 13
    report = lib.index()
    assert report.missing == 0
    assert lib.forget_missing() == []
    _assert_kept(lib, ids, album, new)
    assert_consistent(lib)


def test_a_file_moved_within_a_root_counts_as_moved_not_missing(lib: Library,
                                                                photo_dir: Path) -> None:
    """`mv photos/a photos/b; glimpse index` said "5 moved, 5 missing"."""
    ids, album = _album_with_caption(lib, photo_dir)
    old = photo_dir / "y2019" / "summer" / "beach"
    old.rename(photo_dir / "b")
    report = lib.index()
    assert (report.moved, report.missing, report.new) == (5, 0, 0)
    assert lib.status().missing == 0
    _assert_kept(lib, ids, album, photo_dir / "b")


def test_names_swapped_between_two_scans_keep_their_photos(lib: Library,
                                                           photo_dir: Path) -> None:
    """`mv a t; mv b a; mv t b` between two scans: both paths still exist, each holding the
    other photo; each photo keeps its caption and album, and nothing is re-read as new."""
    ids, album = _album_with_caption(lib, photo_dir)
    beach = photo_dir / "y2019" / "summer" / "beach"
    (beach / "b0.jpg").rename(beach / "t.jpg")
    (beach / "b1.jpg").rename(beach / "b0.jpg")
    (beach / "t.jpg").rename(beach / "b1.jpg")
    report = lib.index()
    assert (report.moved, report.new, report.updated, report.missing) == (2, 0, 0, 0)
    ids["b0.jpg"], ids["b1.jpg"] = ids["b1.jpg"], ids["b0.jpg"]
    rows = {int(r["id"]): r["path"] for r in lib.reader().rows("SELECT id, path FROM photos")}
    assert rows[ids["b0.jpg"]] == str(beach / "b0.jpg")
    caption = lib.captions.get(ids["b1.jpg"])  # the captioned photo is now called b1.jpg
    assert caption is not None and caption.summary == "Sand castle at low tide"
    assert len(rows) == 8 and sorted(lib.albums.photo_ids(album)) == sorted(
        ids[f"b{n}.jpg"] for n in range(5))
    assert_consistent(lib)


def test_a_photo_overwritten_by_a_move_is_missing_not_deleted(lib: Library,
                                                            photo_dir: Path) -> None:
    """`mv a.jpg b.jpg` over another photo: b's photo is gone from disk, so its row is
    missing (with its album and caption) until its bytes turn up again."""
    ids, album = _album_with_caption(lib, photo_dir)
    beach = photo_dir / "y2019" / "summer" / "beach"
    saved = (beach / "b0.jpg").read_bytes()
    os.replace(beach / "b1.jpg", beach / "b0.jpg")
    report = lib.index()
    assert (report.moved, report.new) == (1, 0)
    status = {int(r["id"]): r["status"] for r in lib.reader().rows("SELECT id, status FROM photos")}
    assert status[ids["b0.jpg"]] == "missing" and status[ids["b1.jpg"]] == "ok"
    assert ids["b0.jpg"] in lib.albums.photo_ids(album)
    # Restored from a backup under another name: the same photo, caption and all.
    (photo_dir / "restored.jpg").write_bytes(saved)
    report = lib.index()
    assert (report.moved, report.new) == (1, 0)
    caption = lib.captions.get(ids["b0.jpg"])
    assert caption is not None and caption.summary == "Sand castle at low tide"
    assert lib.photo(str(photo_dir / "restored.jpg")).id == ids["b0.jpg"]


def test_a_renamed_photo_folder_keeps_its_photos(lib: Library, tmp_path: Path) -> None:
    """`mv photos photos-renamed; glimpse add photos-renamed; glimpse index`: the photos are
    the same rows (names, albums, captions); removing the old name removes none of them."""
    folder = tmp_path / "photos"
    folder.mkdir()
    ids, album = _album_with_caption(lib, folder)
    renamed = tmp_path / "photos-renamed"
    folder.rename(renamed)
    lib.add_root(renamed)
    report = lib.index()
    assert (report.new, report.moved) == (0, 8)
    _assert_kept(lib, ids, album, renamed / "y2019" / "summer" / "beach")
    assert lib.remove_root(folder) == 0
    _assert_kept(lib, ids, album, renamed / "y2019" / "summer" / "beach")
    assert_consistent(lib)


def test_a_photo_folder_renamed_while_watching_is_taken_up_by_its_new_name(
        lib: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    ids, album = _album_with_caption(lib, folder)
    renamed = tmp_path / "photos-renamed"
    with lib.watcher(settle=SETTLE, poll=0.05, health_interval=0.3) as watcher:
        assert watcher.wait_idle(30)
        folder.rename(renamed)
        assert eventually(lambda: lib.reader().one(
            "SELECT status FROM roots WHERE path = ?", (str(folder),)) == "offline")
        lib.add_root(renamed)
        assert eventually(lambda: lib.reader().one(
            "SELECT count(*) FROM photos WHERE path LIKE ?", (f"{renamed}/%",)) == 8)
        assert watcher.wait_idle(30)
        _assert_kept(lib, ids, album, renamed / "y2019" / "summer" / "beach")
        assert lib.remove_root(folder) == 0
    _assert_kept(lib, ids, album, renamed / "y2019" / "summer" / "beach")


def test_a_copy_is_a_new_photo_and_the_original_keeps_its_row(lib: Library,
                                                              photo_dir: Path) -> None:
    """Content matching is for files whose old place is gone: a copy beside its original
    is a photo of its own."""
    ids, album = _album_with_caption(lib, photo_dir)
    shutil.copy(photo_dir / "y2019" / "summer" / "beach" / "b0.jpg", photo_dir / "copy.jpg")
    report = lib.index()
    assert (report.new, report.moved) == (1, 0)
    _assert_kept(lib, ids, album, photo_dir / "y2019" / "summer" / "beach", copies=1)


# ------------------------------------------------------------------ folder names, settling


def test_a_folder_whose_name_is_not_utf8_is_an_error_and_the_rest_is_read(
        lib: Library, photo_dir: Path) -> None:
    bad = os.path.join(os.fsencode(photo_dir), b"dir_\xff")
    os.makedirs(bad)
    ig.write_jpeg(os.fsdecode(os.path.join(bad, b"inside.jpg")), (16, 16), seed=1)
    ig.write_jpeg(photo_dir / "fine.jpg", (16, 16), seed=2)
    lib.add_root(photo_dir)
    report = lib.index()
    assert report.new == 1 and report.errors == 1
    errors = lib.errors()
    assert [e.reason for e in errors] == [scan.UNSTORABLE_FOLDER]
    assert errors[0].path.endswith("dir_\\xff")
    # And watching starts and reads what arrives next.
    with lib.watcher(settle=SETTLE, poll=0.05) as watcher:
        assert watcher.wait_idle(30)
        ig.write_jpeg(photo_dir / "later.jpg", (16, 16), seed=3)
        assert eventually(lambda: lib.photo(str(photo_dir / "later.jpg")) is not None)
        assert watcher.error is None


def test_the_cli_indexes_a_root_with_a_non_utf8_folder(tmp_path: Path,
                                                        photo_dir: Path) -> None:
    bad = os.path.join(os.fsencode(photo_dir), b"dir_\xff")
    os.makedirs(bad)
    ig.write_jpeg(os.fsdecode(os.path.join(bad, b"inside.jpg")), (16, 16), seed=1)
    ig.write_jpeg(photo_dir / "fine.jpg", (16, 16), seed=2)
    library = tmp_path / "cli.glimpse"
    env = {**os.environ, "GLIMPSE_LIBRARY": str(library)}
    for argv in (["add", str(photo_dir)], ["index"]):
        done = subprocess.run([sys.executable, "-m", "glimpse_desktop", *argv], env=env,
                              capture_output=True, text=True, timeout=300)
        assert "Traceback" not in done.stderr, done.stderr
    status = subprocess.run([sys.executable, "-m", "glimpse_desktop", "errors"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert "dir_\\xff" in status.stdout and "not valid UTF-8" in status.stdout


def test_a_scan_leaves_files_still_being_written_for_later(lib: Library,
                                                          photo_dir: Path) -> None:
    lib.add_root(photo_dir)
    lib.index()
    fresh = ig.write_jpeg(photo_dir / "fresh.jpg", (16, 16), seed=4)
    old = ig.write_jpeg(photo_dir / "old.jpg", (16, 16), seed=5, mtime=1_600_000_000)
    root = lib.indexer.roots()[0]
    report = lib.indexer.scan([(root, root.path)], settle=60)
    assert report.unsettled == [str(fresh)]
    assert lib.photo(str(old)) is not None and lib.photo(str(fresh)) is None


def test_a_new_folder_filled_in_parallel_is_read_only_when_whole(lib: Library,
                                                                 photo_dir: Path) -> None:
    """Twenty photos copied into a new folder at once, each written in slow pieces: the
    folder's scan must wait for each file like the watcher waits for a single file."""
    sources = [ig.write_jpeg(photo_dir.parent / f"src{n}.jpg", (200, 150), seed=n)
               for n in range(20)]
    lib.add_root(photo_dir)
    lib.index()
    card = photo_dir / "card"

    def copy_slowly(src: Path, dest: Path) -> None:
        data = src.read_bytes()
        with open(dest, "wb") as fh:
            for start in range(0, len(data), len(data) // 6 + 1):
                fh.write(data[start:start + len(data) // 6 + 1])
                fh.flush()
                time.sleep(0.12)

    half_read: list[str] = []

    def on_report(why: str, report: IndexReport) -> None:
        # A file read before it was whole fails to decode (an error) or is seen changing
        # under the reader (skipped): either way it was read too early.
        if report.errors or report.skipped:
            half_read.append(f"{why}: {report}")

    with lib.watcher(settle=SETTLE, poll=0.05, on_report=on_report) as watcher:
        assert watcher.wait_idle(30)
        card.mkdir()
        threads = [threading.Thread(target=copy_slowly, args=(src, card / src.name))
                   for src in sources]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert watcher.wait_idle(60)
    assert half_read == []
    assert lib.errors() == []
    rows = lib.reader().rows("SELECT path, status, width FROM photos")
    assert sorted(Path(r["path"]).name for r in rows) == sorted(s.name for s in sources)
    assert {(r["status"], r["width"]) for r in rows} == {("ok", 200)}


# ------------------------------------------------------------------ random sequences


def test_random_moves_between_index_runs_keep_every_photo(lib: Library,
                                                          tmp_path: Path) -> None:
    """Seeded random sequences of renames and moves of files, folders and photo folders,
    each followed by a scan: the same ids, albums, captions and tags, no extra rows."""
    play = moveplay.start(lib, tmp_path / "play", photos=12, seed=1)
    for seq in range(300):
        rng = random.Random(seq)
        steps = [moveplay.random_step(play, rng) for _ in range(rng.randint(1, 5))]
        moveplay.adopt_renamed_roots(play)
        # A whole `glimpse index` now and then; the scan alone (its first step) otherwise.
        if seq % 50 == 0:
            lib.index()
        else:
            lib.indexer.scan([(r, r.path) for r in lib.indexer.roots()])
        moveplay.drop_old_roots(play)
        moveplay.check(play, f"sequence {seq}: {steps}")
    assert play.rows_compared == 300 * 12
    assert_consistent(lib)


@pytest.mark.parametrize("seed", [0, 1])
def test_random_moves_while_watching_keep_every_photo(lib: Library, tmp_path: Path,
                                                      seed: int) -> None:
    play = moveplay.start(lib, tmp_path / "play", photos=10, seed=seed)
    with lib.watcher(settle=0.2, poll=0.02, health_interval=0.2) as watcher:
        assert watcher.wait_idle(30)
        for seq in range(12):
            rng = random.Random(1000 * seed + seq)
            steps = []
            for _ in range(rng.randint(1, 4)):
                steps.append(moveplay.random_step(play, rng))
                moveplay.pause(rng, watching=True)
            moveplay.adopt_renamed_roots(play)
            assert watcher.wait_idle(60), steps
            moveplay.drop_old_roots(play)
            assert watcher.wait_idle(60), steps
            moveplay.check(play, f"sequence {seq}: {steps}")
        assert watcher.error is None
