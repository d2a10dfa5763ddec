"""Sorting photos into tag folders: real library, real files, real folders and links."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import photos, vectors
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.progress import CancelToken
from glimpse_desktop.search.sorting import (
    MAX_NAME_BYTES,
    SortError,
    SortReport,
    folder_name,
    sort_by_tag,
)
from tests.conftest import ram_disk
from tests.imagegen import write_jpeg, write_png

SMALL = (160, 120)


def ingest(lib: Library, folder: Path) -> dict[str, int]:
    """Index ``folder``; photo ids by path relative to it."""
    lib.add_root(folder)
    lib.index()
    base = folder.resolve()
    return {Path(r["path"]).relative_to(base).as_posix(): int(r["id"])
            for r in lib.reader().rows("SELECT id, path FROM photos")}


def tag(lib: Library, photo_id: int, *tags: tuple[str, float | None],
        source: str = "clip:test") -> None:
    lib.writer.call(lambda c: c.executemany(
        "INSERT INTO photo_tags(photo_id, tag, source, confidence, vocabulary) "
        "VALUES (?, ?, ?, ?, 'test')", [(photo_id, t, source, conf) for t, conf in tags]))


def sort(lib: Library, output: Path, mode: str = "copy", *, dry_run: bool = False,
         **kwargs: object) -> SortReport:
    return sort_by_tag(lib.reader(), output=output, mode=mode, dry_run=dry_run,
                       writer=lib.writer, **kwargs)  # type: ignore[arg-type]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (links not followed) with its bytes."""
    found: dict[str, bytes] = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            found[path.relative_to(folder).as_posix()] = (
                b"->" + os.readlink(path).encode() if path.is_symlink() else path.read_bytes())
    return found


@pytest.fixture
def shelf(lib: Library, photo_dir: Path) -> dict[str, int]:
    """dog.jpg (dog beats cat), cat.jpg (a tie: "cat" sorts first), trip/dog.jpg (the same
    name, also a dog), beach.png (a tag from another source only) and plain.jpg (no tag)."""
    write_jpeg(photo_dir / "dog.jpg", SMALL, seed=1, make="Canon", model="EOS R6")
    write_jpeg(photo_dir / "cat.jpg", SMALL, seed=2)
    (photo_dir / "trip").mkdir()
    write_jpeg(photo_dir / "trip" / "dog.jpg", SMALL, seed=3)
    write_png(photo_dir / "beach.png", SMALL, seed=4)
    write_jpeg(photo_dir / "plain.jpg", SMALL, seed=5)
    ids = ingest(lib, photo_dir)
    tag(lib, ids["dog.jpg"], ("dog", 0.9), ("cat", 0.4))
    tag(lib, ids["cat.jpg"], ("dog", 0.7), ("cat", 0.7))
    tag(lib, ids["trip/dog.jpg"], ("dog", 0.8))
    tag(lib, ids["beach.png"], ("beach", None), source="manual")
    return ids


def test_copy_puts_each_photo_in_its_first_tags_folder(lib: Library, photo_dir: Path,
                                                       tmp_path: Path, shelf: dict[str, int]
                                                       ) -> None:
    before = tree(photo_dir)
    mtimes = {p: (photo_dir / p).stat().st_mtime_ns for p in before}
    out = tmp_path / "Sorted"
    report = sort(lib, out)
    assert report.copied == 4 and report.moved == 0 and not report.cancelled
    copies = tree(out)
    # Photos are sorted in id order: the first of the two dog.jpg keeps its name.
    first, second = sorted(["dog.jpg", "trip/dog.jpg"], key=shelf.__getitem__)
    assert copies == {
        "dog/dog.jpg": before[first],
        "dog/dog (2).jpg": before[second],
        "cat/cat.jpg": before["cat.jpg"],
        "beach/beach.png": before["beach.png"],
    }
    # Copies keep the file's times; the originals and the library are untouched.
    assert (out / "dog" / "dog.jpg").stat().st_mtime_ns == mtimes[first]
    assert tree(photo_dir) == before
    assert {p: (photo_dir / p).stat().st_mtime_ns for p in before} == mtimes
    row = lib.photo(shelf["dog.jpg"])
    assert row is not None and row.path == str((photo_dir / "dog.jpg").resolve())
    assert [(s.photo_id, s.kind) for s in report.skipped] == [(shelf["plain.jpg"], "untagged")]
    assert {(p.photo_id, Path(p.target).relative_to(out.resolve()).as_posix())
            for p in report.placements} == {
        (shelf[first], "dog/dog.jpg"), (shelf[second], "dog/dog (2).jpg"),
        (shelf["cat.jpg"], "cat/cat.jpg"), (shelf["beach.png"], "beach/beach.png")}
    # Copying again finds every copy already there, and adds nothing.
    again = sort(lib, out)
    assert again.copied == 0 and again.skipped_by_kind() == {"untagged": 1, "exists": 4}
    assert tree(out) == copies


def test_tags_source_limits_the_tags_used(lib: Library, tmp_path: Path,
                                          shelf: dict[str, int]) -> None:
    report = sort(lib, tmp_path / "Sorted", tags_source="clip")
    assert report.copied == 3
    assert {s.photo_id for s in report.skipped if s.kind == "untagged"} == {
        shelf["plain.jpg"], shelf["beach.png"]}
    report = sort(lib, tmp_path / "Manual", tags_source="manual")
    assert [Path(p.target).name for p in report.placements] == ["beach.png"]


def test_dry_run_plans_what_a_run_does_and_touches_nothing(lib: Library, photo_dir: Path,
                                                           tmp_path: Path,
                                                           shelf: dict[str, int]) -> None:
    out = tmp_path / "Sorted"
    before = tree(photo_dir)
    plan = sort(lib, out, "move", dry_run=True)
    assert not out.exists()
    assert tree(photo_dir) == before
    assert lib.photo(shelf["dog.jpg"]).path == str((photo_dir / "dog.jpg").resolve())  # type: ignore[union-attr]
    assert plan.planned == 4 and plan.moved == 0
    done = sort(lib, out, "move")
    assert [(p.photo_id, p.target) for p in plan.placements] == [
        (p.photo_id, p.target) for p in done.placements]


def test_an_existing_file_is_never_overwritten(lib: Library, tmp_path: Path,
                                               shelf: dict[str, int]) -> None:
    out = tmp_path / "Sorted"
    (out / "dog").mkdir(parents=True)
    (out / "dog" / "dog.jpg").write_bytes(b"someone else's photo")
    (out / "dog" / "dog (2).jpg").symlink_to(tmp_path / "nowhere.jpg")  # a dangling link
    plan = sort(lib, out, dry_run=True)
    report = sort(lib, out)
    assert (out / "dog" / "dog.jpg").read_bytes() == b"someone else's photo"
    assert (out / "dog" / "dog (2).jpg").is_symlink()
    assert not (tmp_path / "nowhere.jpg").exists()
    names = sorted(Path(p.target).name for p in report.placements
                   if Path(p.target).parent.name == "dog")
    assert names == ["dog (3).jpg", "dog (4).jpg"]
    assert [p.target for p in plan.placements] == [p.target for p in report.placements]
    # No temporary file is left behind.
    assert not [p for p in tree(out) if Path(p).name.startswith(".")]


def test_move_updates_the_library(lib: Library, photo_dir: Path,
                                  shelf: dict[str, int]) -> None:
    vec = np.arange(8, dtype=np.float32) + 1

    def embed(conn: Connection) -> None:
        table = vectors.ensure_space(conn, "test-model", kind="image", dim=8)
        vectors.store_embedding(conn, table, "test-model", shelf["trip/dog.jpg"], vec)

    lib.writer.call(embed)
    out = photo_dir / "Sorted"  # inside the library folder: the photos stay watched
    old = (photo_dir / "trip" / "dog.jpg").resolve()
    report = sort(lib, out, "move")
    assert report.moved == 4 and report.unwatched == 0 and report.output_in_library
    for placement in report.placements:
        row = lib.photo(placement.photo_id)
        assert row is not None and row.path == placement.target
        assert Path(placement.target).is_file() and not Path(placement.source).exists()
        assert row.status == "ok"
    moved = lib.photo(shelf["trip/dog.jpg"])
    assert moved is not None and Path(moved.path).parent == out.resolve() / "dog"
    assert not old.exists() and (photo_dir / "plain.jpg").exists()
    # Tags and the embedding belong to the same row still.
    conn = lib.reader()
    assert conn.one("SELECT count(*) FROM photo_tags WHERE photo_id = ?",
                    (shelf["trip/dog.jpg"],)) == 1
    blob = vectors.get_many(conn, "vec_image_test_model", [shelf["trip/dog.jpg"]])
    assert np.frombuffer(blob[shelf["trip/dog.jpg"]], dtype=np.float32).tolist() == vec.tolist()
    assert lib.text_search("Sorted")  # the folder words follow the file
    # A rescan finds every photo where the library says it is.
    rescan = lib.index()
    assert (rescan.new, rescan.missing, rescan.moved) == (0, 0, 0)
    assert conn.one("SELECT count(*) FROM photos") == len(shelf)
    # Sorting again leaves photos that are in their folder alone.
    again = sort(lib, out, "move")
    assert again.moved == 0 and again.skipped_by_kind() == {"untagged": 1, "in_place": 4}


def test_move_outside_the_library_keeps_the_photos_tracked(lib: Library, photo_dir: Path,
                                                           tmp_path: Path,
                                                           shelf: dict[str, int]) -> None:
    out = tmp_path / "Sorted"
    report = sort(lib, out, "move")
    assert report.moved == 4 and report.unwatched == 4 and not report.output_in_library
    row = lib.reader().row("SELECT path, root_id, status FROM photos WHERE id = ?",
                           (shelf["cat.jpg"],))
    assert row == {"path": str(out.resolve() / "cat" / "cat.jpg"), "root_id": None,
                   "status": "ok"}
    # Adding the output folder later adopts the rows: same ids, so tags survive.
    lib.add_root(out)
    lib.index()
    row = lib.reader().row("SELECT root_id FROM photos WHERE id = ?", (shelf["cat.jpg"],))
    assert row is not None and row["root_id"] is not None
    assert lib.reader().one("SELECT count(*) FROM photos") == len(shelf)
    assert lib.reader().one("SELECT tag FROM photo_tags WHERE photo_id = ? ORDER BY tag",
                            (shelf["cat.jpg"],)) == "cat"


@pytest.fixture
def other_device(tmp_path: Path) -> Iterator[Path]:
    """A folder on another file system than ``tmp_path``: /dev/shm where it is one, else a
    RAM disk of the test's own."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        with ram_disk(tmp_path / "other-device", "16m") as disk:
            yield disk
        return
    folder = Path(tempfile.mkdtemp(dir=shm, prefix="glimpse-test-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_move_across_file_systems_copies_checks_and_deletes(lib: Library, photo_dir: Path,
                                                            other_device: Path,
                                                            shelf: dict[str, int]) -> None:
    before = tree(photo_dir)
    mtime = (photo_dir / "cat.jpg").stat().st_mtime_ns
    report = sort(lib, other_device / "Sorted", "move")
    assert report.moved == 4 and report.unwatched == 4
    assert not (photo_dir / "cat.jpg").exists()
    target = other_device.resolve() / "Sorted" / "cat" / "cat.jpg"
    assert target.read_bytes() == before["cat.jpg"] and target.stat().st_mtime_ns == mtime
    assert lib.photo(shelf["cat.jpg"]).path == str(target)  # type: ignore[union-attr]
    assert not [p for p in tree(other_device) if Path(p).name.startswith(".")]


@pytest.mark.parametrize(("tag_text", "expected"), [
    ("dog", "dog"),
    ("../../etc", "etc"),
    ("a/b", "a_b"),
    ("a\\b", "a_b"),
    (".", None),
    ("..", None),
    ("/", None),
    ("con", "con_"),
    ("LPT1.txt", "LPT1_.txt"),
    ("..hidden", "hidden"),
    ("trailing. ", "trailing"),
    ("what?*", "what__"),
    ("new\nline\x00", "newline"),
    ("abc\u202egpj.exe", "abcgpj.exe"),
    ("  spaced   out ", "spaced out"),
])
def test_folder_names_are_one_safe_component(tag_text: str, expected: str | None) -> None:
    assert folder_name(tag_text) == expected


def test_folder_names_are_length_limited() -> None:
    name = folder_name("é" * 300)
    assert name is not None and len(name.encode()) <= MAX_NAME_BYTES and name == "é" * 50


def test_hostile_tags_stay_inside_the_output(lib: Library, photo_dir: Path, tmp_path: Path
                                             ) -> None:
    tags = ["../../etc", "a/b", ".", "con", "/abs/path", "..\\..\\win"]
    for n in range(len(tags)):
        write_jpeg(photo_dir / f"p{n}.jpg", SMALL, seed=10 + n)
    ids = ingest(lib, photo_dir)
    for n, t in enumerate(tags):
        tag(lib, ids[f"p{n}.jpg"], (t, 0.9))
    out = tmp_path / "deep" / "Sorted"

    def elsewhere() -> set[Path]:
        return {p for p in tmp_path.rglob("*") if not {"deep", "lib"} & set(p.parts)}

    before = elsewhere()
    report = sort(lib, out)
    assert elsewhere() == before
    assert sorted(p.name for p in out.iterdir()) == ["a_b", "abs_path", "con_", "etc", "win"]
    assert all(p.is_dir() and not p.is_symlink() for p in out.iterdir())
    assert [(s.kind, s.tag) for s in report.skipped] == [("refused", ".")]
    assert report.copied == 5


def test_a_link_inside_the_output_pointing_outside_is_not_followed(
        lib: Library, photo_dir: Path, tmp_path: Path) -> None:
    write_jpeg(photo_dir / "a.jpg", SMALL, seed=1)
    write_jpeg(photo_dir / "b.jpg", SMALL, seed=2)
    ids = ingest(lib, photo_dir)
    tag(lib, ids["a.jpg"], ("escape", 0.9))
    tag(lib, ids["b.jpg"], ("inner", 0.9))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "Sorted"
    (out / "real").mkdir(parents=True)
    (out / "escape").symlink_to(elsewhere, target_is_directory=True)
    (out / "inner").symlink_to(out / "real", target_is_directory=True)  # stays inside: fine
    for mode in ("copy", "move"):
        report = sort(lib, out, mode)
        assert list(elsewhere.iterdir()) == []
        assert [(s.photo_id, s.kind) for s in report.skipped] == [(ids["a.jpg"], "refused")]
    assert (out / "real" / "b.jpg").is_file()
    assert (photo_dir / "a.jpg").is_file()


def test_missing_and_offline_photos_are_skipped(lib: Library, photo_dir: Path,
                                                tmp_path: Path, shelf: dict[str, int]) -> None:
    lib.writer.call(lambda c: photos.mark_status(c, [shelf["cat.jpg"]], "offline"))
    (photo_dir / "beach.png").unlink()  # gone, and the library has not noticed yet
    report = sort(lib, tmp_path / "Sorted", "move")
    kinds = {s.photo_id: s.kind for s in report.skipped}
    assert kinds[shelf["cat.jpg"]] == "offline" and kinds[shelf["beach.png"]] == "missing"
    assert report.moved == 2
    assert lib.photo(shelf["beach.png"]).path == str(  # type: ignore[union-attr]
        (photo_dir / "beach.png").resolve())


@pytest.mark.parametrize("mode", ["copy", "move"])
def test_an_unreadable_photo_stops_the_run_consistently(lib: Library, photo_dir: Path,
                                                        tmp_path: Path, shelf: dict[str, int],
                                                        mode: str) -> None:
    # The last tagged photo (photos go in id order): where its file was, a folder now stands,
    # which no program can read as a photo (file permissions would not stop root).
    tagged = ["dog.jpg", "cat.jpg", "trip/dog.jpg", "beach.png"]
    last = max(tagged, key=shelf.__getitem__)
    bad = photo_dir / last
    bad.unlink()
    bad.mkdir()
    out = tmp_path / "Sorted"
    with pytest.raises(SortError, match=Path(last).name) as caught:
        sort(lib, out, mode)
    report = caught.value.report
    done = {p.photo_id for p in report.placements}
    assert done == {shelf[name] for name in tagged if name != last}
    for p in report.placements:
        assert Path(p.target).is_file()
        assert lib.photo(p.photo_id).path == (  # type: ignore[union-attr]
            p.target if mode == "move" else p.source)
    assert not [p for p in tree(out) if Path(p).name.startswith(".")]
    assert bad.is_dir()


def test_cancel_and_progress(lib: Library, tmp_path: Path, shelf: dict[str, int]) -> None:
    token = CancelToken()
    token.cancel()
    report = sort(lib, tmp_path / "Sorted", cancel=token)
    assert report.cancelled and report.copied == 0
    events: list[object] = []
    report = sort(lib, tmp_path / "Sorted", progress=events.append)
    assert report.copied == 4 and events


def test_bad_arguments(lib: Library, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        sort(lib, tmp_path / "x", "link")
    with pytest.raises(ValueError):
        sort_by_tag(lib.reader(), output=tmp_path / "x", mode="move", dry_run=False, writer=None)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(SortError):
        sort(lib, tmp_path / "file")


def test_a_move_the_library_refuses_is_put_back(lib: Library, photo_dir: Path, tmp_path: Path,
                                                shelf: dict[str, int]) -> None:
    # The database itself says no to the second path change (a real SQLite trigger).
    lib.writer.call(lambda c: c.execute(
        "CREATE TEMP TABLE moves(n INTEGER); INSERT INTO moves VALUES (0); "
        "CREATE TEMP TRIGGER refuse BEFORE UPDATE OF path ON main.photos BEGIN "
        "UPDATE moves SET n = n + 1; "
        "SELECT RAISE(ABORT, 'disk says no') WHERE (SELECT n FROM moves) > 1; END"))
    before = tree(photo_dir)
    with pytest.raises(SortError, match="disk says no") as caught:
        sort(lib, tmp_path / "Sorted", "move")
    report = caught.value.report
    assert report.moved == 1
    (done,) = report.placements
    assert lib.photo(done.photo_id).path == done.target  # type: ignore[union-attr]
    # Every other photo is where it was, on disk and in the library.
    moved_name = Path(done.source).relative_to(photo_dir.resolve()).as_posix()
    assert tree(photo_dir) == {k: v for k, v in before.items() if k != moved_name}
    for name, pid in shelf.items():
        if pid != done.photo_id:
            assert lib.photo(pid).path == str((photo_dir / name).resolve())  # type: ignore[union-attr]
    assert not [p for p in tree(tmp_path / "Sorted") if Path(p).name != Path(done.target).name]
