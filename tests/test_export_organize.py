"""Export (copies, previews) and organise-by-date: real library, real files and folders, real
links, and real read-only and full file systems (small RAM disks) where the machine lets the
tests mount them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from glimpse_desktop import cli
from glimpse_desktop.albums.by_date import date_folder
from glimpse_desktop.api import Library
from glimpse_desktop.api.library import ExportError, LibraryError
from glimpse_desktop.kernel.progress import CancelToken
from tests.conftest import ram_disk
from tests.imagegen import write_jpeg

SMALL = (160, 120)


@pytest.fixture
def shelf(lib: Library, photo_dir: Path) -> dict[str, int]:
    """IMG_0001.jpg twice (two cameras, same day), a large portrait-by-orientation photo with
    GPS, and a photo from another year."""
    (photo_dir / "a").mkdir()
    (photo_dir / "b").mkdir()
    write_jpeg(photo_dir / "a" / "IMG_0001.jpg", SMALL, seed=1,
               datetime_original="2023:07:14 09:00:00", mtime=1_600_000_000)
    write_jpeg(photo_dir / "b" / "IMG_0001.jpg", SMALL, seed=2,
               datetime_original="2023:07:14 17:00:00")
    write_jpeg(photo_dir / "a" / "big.jpg", (3000, 2000), seed=3,
               datetime_original="2023:07:15 12:00:00", offset_time_original="+01:00",
               gps=(38.7223, -9.1393), make="Google", model="Pixel 8", orientation=6)
    write_jpeg(photo_dir / "b" / "old.jpg", SMALL, seed=4,
               datetime_original="2019:12:31 23:30:00")
    lib.add_root(photo_dir)
    lib.index()
    base = photo_dir.resolve()
    return {Path(r["path"]).relative_to(base).as_posix(): int(r["id"])
            for r in lib.reader().rows("SELECT id, path FROM photos")}


def tree(folder: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            found[path.relative_to(folder).as_posix()] = (
                b"->" + os.readlink(path).encode() if path.is_symlink() else path.read_bytes())
    return found


def hidden(folder: Path) -> list[str]:
    """Temporary files left behind (there must never be any)."""
    return [p for p in tree(folder) if Path(p).name.startswith(".")]


# --------------------------------------------------------------------------- export


def test_export_copies_originals_byte_for_byte_with_unique_names(
        lib: Library, photo_dir: Path, tmp_path: Path, shelf: dict[str, int]) -> None:
    lib.albums.create("Lisbon", [shelf["a/IMG_0001.jpg"], shelf["b/IMG_0001.jpg"],
                                 shelf["a/big.jpg"]])
    before = tree(photo_dir)
    out = tmp_path / "out" / "Lisbon"
    (out).mkdir(parents=True)
    (out / "big.jpg").write_bytes(b"someone else's file")
    report = lib.export(out, album="lisbon")
    assert not report.cancelled and len(report.exported) == 3
    assert tree(out) == {
        "IMG_0001.jpg": before["a/IMG_0001.jpg"],      # the album's order decides the names
        "IMG_0001 (2).jpg": before["b/IMG_0001.jpg"],
        "big.jpg": b"someone else's file",             # never overwritten
        "big (2).jpg": before["a/big.jpg"],
    }
    assert (out / "IMG_0001.jpg").stat().st_mtime == 1_600_000_000  # times kept
    assert tree(photo_dir) == before  # copies, never moves
    assert report.bytes_written == sum(len(before[p]) for p in
                                       ("a/IMG_0001.jpg", "b/IMG_0001.jpg", "a/big.jpg"))
    # Run again: the copies are recognised, nothing is written twice.
    again = lib.export(out, album="Lisbon")
    assert again.exported == [] and again.as_dict()["skipped"] == {"exists": 3}
    assert len(tree(out)) == 4 and not hidden(out)
    # A search's results instead of an album.
    found = lib.export(tmp_path / "old", search="before:2020")
    assert [Path(e.target).name for e in found.exported] == ["old.jpg"]


def test_preview_export_keeps_the_date_camera_and_place(lib: Library, tmp_path: Path,
                                                        shelf: dict[str, int]) -> None:
    lib.albums.create("Big", [shelf["a/big.jpg"]])
    report = lib.export(tmp_path / "small", album="Big", size="preview")
    (done,) = report.exported
    assert Path(done.target).name == "big.jpg"
    with Image.open(done.target) as im:
        assert im.format == "JPEG"
        assert im.size == (1365, 2048)  # upright (orientation 6 applied), long edge 2048
        exif = im.getexif()
        assert exif[0x0112] == 1 and exif[0x0110] == "Pixel 8"
        assert exif.get_ifd(0x8769)[0x9003] == "2023:07:15 12:00:00"
        assert exif.get_ifd(0x8769)[0x9011] == "+01:00"
        gps = exif.get_ifd(0x8825)
        assert gps[1] == "N" and gps[3] == "W" and float(gps[2][0]) == 38.0
    # The library reads the export as the same moment and place.
    other = tmp_path / "other.sqlite3"
    with Library.open(other) as second:
        second.add_root(tmp_path / "small")
        second.index()
        info = second.photo(str(Path(done.target)))
        assert info is not None and info.taken_at == "2023-07-15T12:00:00+01:00"
        assert info.gps.lat == pytest.approx(38.7223, abs=1e-4)


def test_export_refuses_what_it_must(lib: Library, photo_dir: Path, tmp_path: Path,
                                     shelf: dict[str, int]) -> None:
    lib.albums.create("All", list(shelf.values()))
    with pytest.raises(LibraryError, match="inside the library folder"):
        lib.export(photo_dir / "Export", album="All")
    assert not (photo_dir / "Export").exists()
    forced = lib.export(photo_dir / "Export", album="All", force=True)
    assert len(forced.exported) == 4
    with pytest.raises(LibraryError, match="one of the two"):
        lib.export(tmp_path / "x", album="All", search="after:2020")
    with pytest.raises(LibraryError, match="one of the two"):
        lib.export(tmp_path / "x")
    with pytest.raises(LibraryError, match="no album"):
        lib.export(tmp_path / "x", album="Nope")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ExportError, match="is a file"):
        lib.export(tmp_path / "file", album="All")
    # A target below a regular file cannot be created (what "no such folder" looks like).
    with pytest.raises(ExportError, match="cannot create"):
        lib.export(tmp_path / "file" / "Export", album="All")


def test_missing_photos_are_reported_and_cancel_leaves_no_partial_file(
        lib: Library, photo_dir: Path, tmp_path: Path, shelf: dict[str, int]) -> None:
    lib.albums.create("All", sorted(shelf.values()))
    (photo_dir / "b" / "old.jpg").unlink()  # gone, and the library has not noticed yet
    report = lib.export(tmp_path / "out", album="All", size="preview")
    assert len(report.exported) == 3
    assert [(s.photo_id, s.kind) for s in report.skipped] == [(shelf["b/old.jpg"], "failed")]

    class CancelAfter(CancelToken):
        """Asked to stop once the first photo is done (a Ctrl-C at that moment)."""

        def __init__(self) -> None:
            super().__init__()
            self.checks = 0

        @property
        def cancelled(self) -> bool:
            self.checks += 1
            return self.checks > 1

    stopped = lib.export(tmp_path / "stopped", album="All", cancel=CancelAfter())
    assert stopped.cancelled and len(stopped.exported) == 1
    assert list(tree(tmp_path / "stopped")) == [Path(stopped.exported[0].target).name]


def test_a_read_only_target_stops_with_what_was_done(lib: Library, tmp_path: Path,
                                                     shelf: dict[str, int]) -> None:
    lib.albums.create("All", list(shelf.values()))
    with ram_disk(tmp_path / "ro", "4m") as disk:
        (disk / "Export").mkdir()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        with pytest.raises(ExportError, match=r"cannot write to .*Read-only") as caught:
            lib.export(disk / "Export", album="All")
        assert caught.value.report.exported == []
        assert list((disk / "Export").iterdir()) == []


def test_a_full_target_stops_and_every_file_written_is_complete(
        lib: Library, photo_dir: Path, tmp_path: Path, shelf: dict[str, int]) -> None:
    big = (photo_dir / "a" / "big.jpg").read_bytes()
    order = [shelf["a/IMG_0001.jpg"], shelf["b/IMG_0001.jpg"], shelf["a/big.jpg"],
             shelf["b/old.jpg"]]
    lib.albums.create("All", order)
    # Room for the small photos, not for the large one.
    size = max(64 * 1024, len(big) // 2 // 4096 * 4096)
    with ram_disk(tmp_path / "full", str(size)) as disk:
        with pytest.raises(ExportError, match="is full") as caught:
            lib.export(disk, album="All")
        report = caught.value.report
        assert [e.photo_id for e in report.exported] == order[:2]
        for e in report.exported:
            assert Path(e.target).read_bytes() == Path(e.source).read_bytes()
        assert sorted(tree(disk)) == ["IMG_0001 (2).jpg", "IMG_0001.jpg"]  # nothing partial


def test_export_cli(capsys: pytest.CaptureFixture[str], library_path: Path, lib: Library,
                    tmp_path: Path, shelf: dict[str, int]) -> None:
    lib.albums.create("Summer", [shelf["a/big.jpg"]])
    lib.close()
    out = tmp_path / "cli"
    code = cli.main(["--library", str(library_path), "export", "Summer", "--to", str(out),
                     "--size", "preview", "--json"])
    printed, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(printed)
    assert data["written"] == 1 and data["size"] == "preview"
    with Image.open(data["exported"][0]["target"]) as im:
        assert max(im.size) == 2048
    code = cli.main(["--library", str(library_path), "export", "--search", "after:2023",
                     "--to", str(out)])
    printed, err = capsys.readouterr()
    assert code == 0 and "Exported 3 photos" in err
    assert sorted(Path(p).name for p in printed.splitlines()) == [
        "IMG_0001 (2).jpg", "IMG_0001.jpg", "big (2).jpg"]
    code = cli.main(["--library", str(library_path), "export", "Summer", "--to",
                     str(tmp_path / "Pictures" / "x")])
    assert code == 1 and "inside the library folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- organize


def test_date_folders() -> None:
    assert date_folder("2023-07-14T23:30:00+01:00") == "2023/2023-07-14"  # the local day
    assert date_folder("2023-07-14T09:00:00") == "2023/2023-07-14"
    assert date_folder(None) == "Undated"
    assert date_folder("") == "Undated"
    assert date_folder("0000-00-00T00:00:00") == "Undated"
    assert date_folder("../../etc") == "Undated"


def test_dry_run_prints_the_plan_and_changes_nothing(
        capsys: pytest.CaptureFixture[str], library_path: Path, lib: Library,
        photo_dir: Path, tmp_path: Path, shelf: dict[str, int]) -> None:
    before = tree(photo_dir)
    out = tmp_path / "ByDate"
    plan = lib.organize(out, mode="move", dry_run=True)
    assert not out.exists() and tree(photo_dir) == before
    assert lib.photo(shelf["a/big.jpg"]).path == str(photo_dir / "a" / "big.jpg")  # type: ignore[union-attr]
    targets = {p.photo_id: Path(p.target).relative_to(out).as_posix() for p in plan.placements}
    assert targets == {
        shelf["b/old.jpg"]: "2019/2019-12-31/old.jpg",
        shelf["a/IMG_0001.jpg"]: "2023/2023-07-14/IMG_0001.jpg",  # taken first: keeps it
        shelf["b/IMG_0001.jpg"]: "2023/2023-07-14/IMG_0001 (2).jpg",
        shelf["a/big.jpg"]: "2023/2023-07-15/big.jpg",
    }
    lib.close()
    code = cli.main(["--library", str(library_path), "organize", "--by", "date", "--to",
                     str(out), "--move", "--dry-run"])
    printed, err = capsys.readouterr()
    assert code == 0 and "4 photos would be moved" in err and "nothing was changed" in err
    assert f"{photo_dir / 'b' / 'old.jpg'} -> {out / '2019' / '2019-12-31' / 'old.jpg'}" \
        in printed.splitlines()
    assert not out.exists() and tree(photo_dir) == before


def test_copy_by_date_never_overwrites_and_runs_again_as_a_no_op(
        lib: Library, photo_dir: Path, tmp_path: Path, shelf: dict[str, int]) -> None:
    before = tree(photo_dir)
    out = tmp_path / "ByDate"
    (out / "2023" / "2023-07-15").mkdir(parents=True)
    (out / "2023" / "2023-07-15" / "big.jpg").write_bytes(b"someone else's")
    report = lib.organize(out, mode="copy")
    assert report.copied == 4
    assert tree(out) == {
        "2019/2019-12-31/old.jpg": before["b/old.jpg"],
        "2023/2023-07-14/IMG_0001.jpg": before["a/IMG_0001.jpg"],
        "2023/2023-07-14/IMG_0001 (2).jpg": before["b/IMG_0001.jpg"],
        "2023/2023-07-15/big.jpg": b"someone else's",
        "2023/2023-07-15/big (2).jpg": before["a/big.jpg"],
    }
    assert tree(photo_dir) == before
    assert lib.photo(shelf["b/old.jpg"]).path == str(photo_dir / "b" / "old.jpg")  # type: ignore[union-attr]
    again = lib.organize(out, mode="copy")
    assert again.copied == 0 and again.skipped_by_kind() == {"exists": 4}
    assert len(tree(out)) == 5 and not hidden(out)


def test_move_by_date_updates_the_library(lib: Library, photo_dir: Path,
                                          shelf: dict[str, int]) -> None:
    # The "recover from a folder reorganisation" case: tidy the photo folder in place.
    lib.albums.create("Keep", [shelf["b/IMG_0001.jpg"]])
    lib.writer.call(lambda c: c.execute("UPDATE photos SET taken_at = NULL, taken_ts = NULL "
                                        "WHERE id = ?", (shelf["b/old.jpg"],)))
    out = photo_dir / "ByDate"
    report = lib.organize(out, mode="move")
    assert report.moved == 4 and report.unwatched == 0
    for p in report.placements:
        row = lib.photo(p.photo_id)
        assert row is not None and row.path == p.target and row.status == "ok"
        assert Path(p.target).is_file() and not Path(p.source).exists()
    assert sorted(tree(out)) == ["2023/2023-07-14/IMG_0001 (2).jpg",
                                 "2023/2023-07-14/IMG_0001.jpg", "2023/2023-07-15/big.jpg",
                                 "Undated/old.jpg"]
    # Rows keep their ids: albums follow the photos.
    assert lib.albums.show("Keep").photos[0].path == str(
        out / "2023" / "2023-07-14" / "IMG_0001 (2).jpg")
    rescan = lib.index()
    assert (rescan.new, rescan.missing, rescan.moved) == (0, 0, 0)
    again = lib.organize(out, mode="move")
    assert again.moved == 0 and again.skipped_by_kind() == {"in_place": 4}


def test_folders_that_lead_outside_are_refused(lib: Library, photo_dir: Path, tmp_path: Path,
                                               shelf: dict[str, int]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = tree(photo_dir)
    for mode in ("copy", "move"):
        out = tmp_path / f"ByDate-{mode}"
        out.mkdir()
        (out / "2023").symlink_to(elsewhere, target_is_directory=True)
        report = lib.organize(out, mode=mode)
        assert list(elsewhere.iterdir()) == []
        assert {s.photo_id for s in report.skipped if s.kind == "refused"} == {
            shelf["a/IMG_0001.jpg"], shelf["b/IMG_0001.jpg"], shelf["a/big.jpg"]}
        assert sorted(tree(out)) == ["2019/2019-12-31/old.jpg"]
    assert (photo_dir / "a" / "big.jpg").read_bytes() == before["a/big.jpg"]
    with pytest.raises(LibraryError, match="by date only"):
        lib.organize(out, by="camera")


def test_organize_cli_json(capsys: pytest.CaptureFixture[str], library_path: Path,
                           lib: Library, tmp_path: Path, shelf: dict[str, int]) -> None:
    lib.close()
    out = tmp_path / "ByDate"
    code = cli.main(["--library", str(library_path), "organize", "--to", str(out), "--json"])
    printed, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(printed)
    assert data["copied"] == 4 and data["mode"] == "copy" and not data["dry_run"]
    assert {p["folder"] for p in data["placements"]} == {
        "2019/2019-12-31", "2023/2023-07-14", "2023/2023-07-15"}
