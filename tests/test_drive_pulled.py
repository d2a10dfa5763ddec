"""A drive pulled in the middle of a run: the run says the drive went away (not "N skipped"),
the photos it holds go offline (never missing), and `glimpse index` fails with a clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from glimpse_desktop.api.library import Library
from glimpse_desktop.kernel.db import connect
from glimpse_desktop.kernel.progress import Progress
from tests import imagegen as ig
from tests.conftest import eventually, ram_disk


def _fill(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        ig.write_jpeg(folder / f"img_{i:04d}.jpg", (48, 32), seed=i)


def _statuses(lib: Library) -> dict[str, int]:
    return {str(s): int(n) for s, n in lib.reader().execute(
        "SELECT status, count(*) FROM photos GROUP BY status")}


def test_a_drive_pulled_mid_index_is_said_and_its_photos_go_offline(
        tmp_path: Path, library_path: Path) -> None:
    with ram_disk(tmp_path / "drive", "16m") as drive:
        photos = drive / "Photos"
        _fill(photos, 150)
        lib = Library.open(library_path, workers=2)
        try:
            lib.add_root(photos)
            pulled: list[str] = []

            def pull_after_a_few(p: Progress) -> None:
                if not pulled and p.phase == "reading photos" and p.done >= 5:
                    subprocess.run(["umount", "-l", str(drive)], check=True)
                    pulled.append(p.phase)

            report = lib.index(progress=pull_after_a_few)
            assert pulled
            assert [line.split(": ")[0] for line in report.lost_roots] == [str(photos)]
            assert report.offline_roots == report.lost_roots
            assert report.skipped == 0
            assert report.unread > 0 and report.new + report.unread == 150
            assert report.missing == 0 and report.errors == 0
            statuses = _statuses(lib)
            assert statuses.get("missing", 0) == 0 and statuses.get("ok", 0) == 0
            assert statuses.get("offline", 0) == report.new
            assert lib.roots()[0].status == "offline"
        finally:
            lib.close()


def test_a_root_removed_mid_index_is_not_counted_as_skipped(
        tmp_path: Path, library_path: Path) -> None:
    photos = tmp_path / "Photos"
    # More photos than the readers may run ahead of the writer (bounded queues of batches):
    # the folder goes while some are still unread.
    _fill(photos, 400)
    lib = Library.open(library_path, workers=2)
    try:
        lib.add_root(photos)
        gone: list[bool] = []

        def remove_after_a_few(p: Progress) -> None:
            if not gone and p.phase == "reading photos" and p.done >= 3:
                subprocess.run(["rm", "-rf", str(photos)], check=True)
                gone.append(True)

        report = lib.index(progress=remove_after_a_few)
        assert gone and report.lost_roots and report.skipped == 0 and report.unread > 0
        assert _statuses(lib).get("missing", 0) == 0
    finally:
        lib.close()


def test_glimpse_index_fails_and_says_the_drive_went_away(tmp_path: Path,
                                                          library_path: Path) -> None:
    with ram_disk(tmp_path / "drive", "64m") as drive:
        photos = drive / "Photos"
        _fill(photos, 800)
        glimpse = [sys.executable, "-m", "glimpse_desktop", "--library", str(library_path)]
        subprocess.run([*glimpse, "add", str(photos)], check=True, capture_output=True)
        proc = subprocess.Popen([*glimpse, "index", "-q"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

        def some_written() -> bool:
            if not library_path.exists():
                return False
            conn = connect(library_path, readonly=True)
            try:
                return int(conn.one("SELECT count(*) FROM photos")) > 0
            finally:
                conn.close()

        # The first batch is written: the run is reading the drive now; pull it.
        assert eventually(some_written, timeout=120)
        subprocess.run(["umount", "-l", str(drive)], check=True)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (out, err)
    assert f"{photos} went away while it was being read" in err
    assert "skipped" not in out
