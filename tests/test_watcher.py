"""Live watching with real watchdog (inotify) events on real folders."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.watcher import Watcher
from tests import imagegen as ig
from tests.conftest import assert_consistent, eventually

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


def settle(watcher: Watcher, timeout: float = 30.0) -> None:
    assert watcher.wait_idle(timeout), "the watcher did not settle"


def paths(lib: Library, status: str = "ok") -> dict[str, int]:
    return {str(r["path"]): int(r["id"]) for r in
            lib.reader().rows("SELECT id, path FROM photos WHERE status = ?", (status,))}


def test_created_modified_moved_deleted(lib: Library, photo_dir: Path,
                                        watched: Watcher) -> None:
    a = ig.write_jpeg(photo_dir / "a.jpg", seed=1)
    settle(watched)
    assert list(paths(lib)) == [str(a)]
    first_id = paths(lib)[str(a)]

    ig.write_jpeg(a, (200, 100), seed=2)
    settle(watched)
    info = lib.photo(str(a))
    assert info is not None and (info.width, info.height) == (200, 100)
    assert info.id == first_id

    b = photo_dir / "renamed.jpg"
    a.rename(b)
    settle(watched)
    assert paths(lib) == {str(b): first_id}

    # Moving one photo over another: the moved photo keeps its row.
    c = ig.write_jpeg(photo_dir / "c.jpg", seed=7)
    settle(watched)
    c_id = paths(lib)[str(c)]
    os.replace(c, b)
    settle(watched)
    assert paths(lib) == {str(b): c_id}
    assert_consistent(lib)

    # The overwritten photo's bytes are gone: its row is missing, not deleted.
    replaced = str(photo_dir / f"renamed.jpg (replaced, #{first_id})")
    assert paths(lib, "missing") == {replaced: first_id}

    b.unlink()
    settle(watched)
    assert paths(lib) == {}
    assert paths(lib, "missing") == {str(b): c_id, replaced: first_id}
    assert_consistent(lib)


def test_folder_renamed_and_moved_in(lib: Library, photo_dir: Path, tmp_path: Path,
                                     watched: Watcher) -> None:
    trip = photo_dir / "trip"
    trip.mkdir()
    for i in range(3):
        ig.write_jpeg(trip / f"{i}.jpg", seed=i)
    settle(watched)
    before = paths(lib)
    assert len(before) == 3
    trip.rename(photo_dir / "Japan 2024")
    settle(watched)
    after = paths(lib)
    assert sorted(after.values()) == sorted(before.values())
    assert all("/Japan 2024/" in p for p in after)

    # A folder moved in from outside the library arrives with its contents.
    outside = tmp_path / "camera-import"
    outside.mkdir()
    for i in range(2):
        ig.write_jpeg(outside / f"new{i}.jpg", seed=10 + i)
    shutil.move(str(outside), str(photo_dir / "camera-import"))
    settle(watched)
    assert len(paths(lib)) == 5

    # And a folder moved out of the library leaves its photos missing, not deleted.
    shutil.move(str(photo_dir / "Japan 2024"), str(tmp_path / "archive"))
    settle(watched)
    assert len(paths(lib)) == 2 and len(paths(lib, "missing")) == 3


def test_file_is_read_only_once_it_stops_growing(lib: Library, photo_dir: Path,
                                                 tmp_path: Path, watched: Watcher) -> None:
    source = ig.write_jpeg(tmp_path / "big.jpg", (1600, 1200))
    data = source.read_bytes()
    target = photo_dir / "copying.jpg"
    # Copy slowly, as from a phone over USB: the watcher must not read it half-written.
    with open(target, "wb") as fh:
        for start in range(0, len(data), len(data) // 8):
            fh.write(data[start:start + len(data) // 8])
            fh.flush()
            time.sleep(SETTLE / 2)
    settle(watched)
    assert lib.errors() == []
    info = lib.photo(str(target))
    assert info is not None and (info.width, info.height) == (1600, 1200)
    assert watched.stats.indexed == 1


def test_temporary_name_then_rename(lib: Library, photo_dir: Path, watched: Watcher) -> None:
    part = photo_dir / "IMG_1.jpg.part"
    ig.write_jpeg(part)
    part.rename(photo_dir / "IMG_1.jpg")
    settle(watched)
    assert list(paths(lib)) == [str(photo_dir / "IMG_1.jpg")]


def test_a_burst_of_5000_files_is_indexed_exactly_once(lib: Library, photo_dir: Path,
                                                       tmp_path: Path,
                                                       watched: Watcher) -> None:
    source = tmp_path / "card"
    source.mkdir()
    template = ig.write_jpeg(tmp_path / "t.jpg", (48, 32)).read_bytes()
    n = 5000
    for i in range(n):
        # Distinct bytes per file (a comment segment), so no file looks like a moved copy.
        (source / f"DSC{i:05d}.jpg").write_bytes(
            template[:2] + b"\xff\xfe\x00\x08" + i.to_bytes(4, "big") + b"\x00\x00"
            + template[2:])
    decodes = 0
    lock = threading.Lock()
    original = lib.indexer._work_inner

    def counting(task: object, moves: object) -> object:
        nonlocal decodes
        out = original(task, moves)  # type: ignore[arg-type]
        if out.kind == "photo":
            with lock:
                decodes += 1
        return out

    lib.indexer._work_inner = counting  # type: ignore[method-assign]
    # Copy the way a file manager does: one file after another into the watched folder.
    dest = photo_dir / "card"
    shutil.copytree(source, dest)
    settle(watched, timeout=240)
    assert len(paths(lib)) == n
    assert decodes == n
    assert lib.reader().one("SELECT count(*) FROM photos") == n


def test_drive_unplugged_while_watching(lib: Library, tmp_path: Path) -> None:
    drive = tmp_path / "usb"
    drive.mkdir()
    ig.write_jpeg(drive / "a.jpg")
    lib.add_root(drive)
    lib.index()
    with lib.watcher(settle=SETTLE, poll=0.05, health_interval=0.2) as watcher:
        settle(watcher)
        drive.rename(tmp_path / "gone")
        assert eventually(lambda: lib.status().offline == 1) and lib.status().missing == 0
        (tmp_path / "gone").rename(drive)
        assert eventually(lambda: lib.status().photos == 1)
        # Back online means watched again.
        ig.write_jpeg(drive / "b.jpg", seed=3)
        assert eventually(lambda: lib.status().photos == 2)


def test_catch_up_on_start(lib: Library, photo_dir: Path) -> None:
    lib.add_root(photo_dir)
    lib.index()
    ig.write_jpeg(photo_dir / "while-closed.jpg")
    with lib.watcher(settle=SETTLE, poll=0.05) as watcher:
        settle(watcher)
        assert list(paths(lib)) == [str(photo_dir / "while-closed.jpg")]
        assert os.path.exists(photo_dir / "while-closed.jpg")


def test_odd_names_and_junk_never_stop_the_watch(lib: Library, photo_dir: Path,
                                                 watched: Watcher) -> None:
    template = ig.write_jpeg(photo_dir.parent / "t.jpg").read_bytes()
    with open(os.path.join(os.fsencode(photo_dir), b"bad\xff.jpg"), "wb") as fh:
        fh.write(template)
    ig.write_not_an_image(photo_dir / "junk.jpg")
    ig.write_png(photo_dir / "evil.png", text={
        "prompt": '{"1": {"inputs": {"text": "x \\udfff"}}}'})
    settle(watched)
    ig.write_jpeg(photo_dir / "later.jpg", seed=5)
    settle(watched)
    assert watched.error is None
    assert sorted(Path(p).name for p in paths(lib)) == ["evil.png", "later.jpg"]
    reasons = {Path(str(e.path)).name: str(e.reason) for e in lib.errors()}
    assert "UTF-8" in reasons["bad\\xff.jpg"] and "not an image" in reasons["junk.jpg"]


def test_a_drive_mounted_again_is_watched_again(lib: Library, tmp_path: Path) -> None:
    drive = tmp_path / "usb"
    drive.mkdir()
    ig.write_jpeg(drive / "a.jpg")
    lib.add_root(drive)
    lib.index()
    with lib.watcher(settle=SETTLE, poll=0.05, health_interval=0.3) as watcher:
        settle(watcher)
        # Unmount and mount again, faster than a health check: the same path is now another
        # folder (another inode), and the old watch died with the old one.
        drive.rename(tmp_path / "old-mount")
        drive.mkdir()
        shutil.copy(tmp_path / "old-mount" / "a.jpg", drive / "a.jpg")
        ig.write_jpeg(drive / "b.jpg", seed=2)
        assert eventually(lambda: lib.status().photos == 2)
        ig.write_jpeg(drive / "c.jpg", seed=3)  # seen live: the new folder is watched
        assert eventually(lambda: lib.status().photos == 3)


def test_after_a_large_burst_only_the_touched_folder_is_rescanned(
        lib: Library, photo_dir: Path, tmp_path: Path) -> None:
    make = ig.write_jpeg(tmp_path / "t.jpg", (32, 24)).read_bytes()
    (photo_dir / "old").mkdir()
    (photo_dir / "old" / "keep.jpg").write_bytes(make)
    lib.add_root(photo_dir)
    lib.index()
    whys: list[str] = []
    with lib.watcher(settle=SETTLE, poll=0.05, burst_rescan=50,
                     on_report=lambda why, report: whys.append(why)) as watcher:
        settle(watcher)
        card = photo_dir / "card"
        card.mkdir()
        for i in range(80):
            (card / f"{i}.jpg").write_bytes(make[:2] + b"\xff\xfe\x00\x04" + bytes([i, 0])
                                            + make[2:])
        settle(watcher)
        assert watcher.stats.rescans == 1
    assert f"rescan {card}" in whys and f"rescan {photo_dir}" not in whys
    assert lib.status().photos == 81


def test_deleting_a_folder_counts_each_photo_once(lib: Library, photo_dir: Path) -> None:
    album = photo_dir / "Backup"
    album.mkdir()
    template = ig.write_jpeg(photo_dir.parent / "t.jpg", (32, 24)).read_bytes()
    for i in range(30):
        (album / f"{i}.jpg").write_bytes(template[:2] + b"\xff\xfe\x00\x04" + bytes([i, 0])
                                         + template[2:])
    lib.add_root(photo_dir)
    lib.index()
    missing: list[int] = []
    with lib.watcher(settle=SETTLE, poll=0.05,
                     on_report=lambda why, r: missing.append(r.missing)) as watcher:
        settle(watcher)
        shutil.rmtree(album)
        settle(watcher)
    assert sum(missing) == 30 and lib.status().missing == 30


def test_one_watcher_per_library(lib: Library, photo_dir: Path) -> None:
    from glimpse_desktop.kernel.db import LibraryError

    lib.add_root(photo_dir)
    with lib.watcher(settle=SETTLE), pytest.raises(LibraryError, match="already being watched"):
        lib.watcher(settle=SETTLE).start()
    with lib.watcher(settle=SETTLE) as again:  # free once the first one stopped
        settle(again)


def test_a_linked_folder_outside_the_library_is_watched_too(lib: Library, photo_dir: Path,
                                                            tmp_path: Path) -> None:
    backup = tmp_path / "phone-backup"
    backup.mkdir()
    ig.write_jpeg(backup / "old.jpg", seed=1)
    (photo_dir / "phone").symlink_to(backup)
    lib.add_root(photo_dir)
    with lib.watcher(settle=SETTLE, poll=0.05) as watcher:
        settle(watcher)
        assert list(paths(lib)) == [str(photo_dir / "phone" / "old.jpg")]
        ig.write_jpeg(backup / "new.jpg", seed=2)  # written through the real path
        settle(watcher)
        (backup / "old.jpg").unlink()
        settle(watcher)
    assert list(paths(lib)) == [str(photo_dir / "phone" / "new.jpg")]
    assert list(paths(lib, "missing")) == [str(photo_dir / "phone" / "old.jpg")]
