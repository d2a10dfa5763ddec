"""The `glimpse` command, in-process and as a real subprocess (entry point, signals)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.kernel.db import connect
from glimpse_desktop.kernel.migrations import LATEST_VERSION
from tests import imagegen as ig
from tests.conftest import eventually


def run(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--library", str(library), *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> object:
    code, out, err = run(capsys, library, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_every_verb(capsys: pytest.CaptureFixture[str], library_path: Path,
                    photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "lisbon.jpg", datetime_original="2023:07:14 18:03:22",
                  offset_time_original="+01:00", gps=(38.7223, -9.1393), make="Google",
                  model="Pixel 8", orientation=6, image_description="Tram 28 in Alfama")
    ig.write_png(photo_dir / "gen.png",
                 text={"parameters": ig.a1111_parameters("a red dragon", "blurry")})
    ig.write_not_an_image(photo_dir / "broken.jpg")

    code, out, _ = run(capsys, library_path, "add", str(photo_dir))
    assert code == 0 and str(photo_dir) in out
    report = run_json(capsys, library_path, "index")
    assert isinstance(report, dict) and report["new"] == 2 and report["errors"] == 1

    status = run_json(capsys, library_path, "status")
    assert isinstance(status, dict)
    assert (status["photos"], status["errors"], status["missing"]) == (2, 1, 0)
    assert status["roots"][0]["path"] == str(photo_dir)

    info = run_json(capsys, library_path, "info", str(photo_dir / "lisbon.jpg"))
    assert isinstance(info, dict)
    assert info["taken_at"] == "2023-07-14T18:03:22+01:00"
    assert info["taken_at_source"] == "exif:DateTimeOriginal"
    assert info["gps"]["lat"] == pytest.approx(38.7223, abs=1e-5)
    assert info["gps"]["lon"] == pytest.approx(-9.1393, abs=1e-5)
    assert info["camera"] == {"make": "Google", "model": "Pixel 8"}
    assert (info["width"], info["height"], info["orientation"]) == (480, 640, 6)
    by_id = run_json(capsys, library_path, "info", str(info["id"]))
    assert isinstance(by_id, dict) and by_id["path"] == info["path"]
    code, out, _ = run(capsys, library_path, "info", str(info["id"]))
    assert "Google Pixel 8" in out and "38.72" in out

    errors = run_json(capsys, library_path, "errors")
    assert isinstance(errors, list) and len(errors) == 1
    assert errors[0]["path"].endswith("broken.jpg") and errors[0]["stage"] == "decode"

    hits = run_json(capsys, library_path, "text-search", "red dragon")
    assert isinstance(hits, list) and [Path(h["path"]).name for h in hits] == ["gen.png"]
    code, out, _ = run(capsys, library_path, "text-search", "tram alfama")
    assert code == 0 and "lisbon.jpg" in out

    thumb = run_json(capsys, library_path, "thumbnail", str(info["id"]), "--preview")
    assert isinstance(thumb, dict) and Path(thumb["path"]).is_file()

    doctor = run_json(capsys, library_path, "doctor")
    assert isinstance(doctor, dict)
    assert doctor["fts5"] == "yes" and doctor["sqlite_vec"].startswith("v")
    assert doctor["driver"].startswith("apsw") and "device" in doctor["devices"]

    code, out, _ = run(capsys, library_path, "remove", str(photo_dir))
    assert code == 0 and "2 photos forgotten" in out
    assert (photo_dir / "lisbon.jpg").exists()


def test_clear_errors_not_tracebacks(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                     library_path: Path) -> None:
    code, _, err = run(capsys, library_path, "add", str(tmp_path / "nope"))
    assert code == 1 and "does not exist" in err and "Traceback" not in err
    code, _, err = run(capsys, library_path, "index")
    assert code == 1 and "glimpse add" in err
    code, _, err = run(capsys, library_path, "info", "12345")
    assert code == 1 and "no photo" in err
    # A library from a newer Glimpse.
    conn = connect(library_path)
    conn.execute("INSERT INTO schema_migrations VALUES (1000, 'future', 'x')")
    conn.close()
    code, _, err = run(capsys, library_path, "status")
    assert code == 1 and "newer version of Glimpse" in err


def count_photos(library: Path) -> int:
    """Photos in a library another process is writing (0 while it is still being created)."""
    try:
        conn = connect(library)
    except Exception:
        return 0
    try:
        return int(conn.one("SELECT count(*) FROM photos"))
    except Exception:
        return 0
    finally:
        conn.close()


def _glimpse(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "glimpse_desktop", *args], text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]


def test_ctrl_c_stops_cleanly_and_a_rerun_resumes(tmp_path: Path, photo_dir: Path) -> None:
    for i in range(150):
        ig.write_jpeg(photo_dir / f"{i:03d}.jpg", (1600, 1200), seed=i)
    lib = tmp_path / "l.sqlite3"
    assert subprocess.run([sys.executable, "-m", "glimpse_desktop", "--library", str(lib),
                           "add", str(photo_dir)], capture_output=True).returncode == 0
    proc = _glimpse("--library", str(lib), "index")
    # Wait until some photos are committed, then press Ctrl-C.
    assert eventually(lambda: count_photos(lib) > 0, timeout=60)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run `glimpse index` again" in err
    conn = connect(lib)
    partial = int(conn.one("SELECT count(*) FROM photos"))
    conn.close()
    assert 0 < partial < 150
    rerun = subprocess.run([sys.executable, "-m", "glimpse_desktop", "--library", str(lib),
                            "index", "--json"], capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["new"] == 150 - partial and report["unchanged"] == partial


def test_the_desktop_app_without_a_display_points_to_the_cli(tmp_path: Path) -> None:
    """`python -m glimpse_desktop` with no command is the window; over ssh, with no display,
    it says to use the CLI instead of letting Qt abort."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = _glimpse("--library", str(tmp_path / "l.sqlite3"), env=env)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "no display" in err and "glimpse add" in err
    assert not (tmp_path / "l.sqlite3").exists()        # nothing created for a window not shown


def test_watch_command_runs_and_stops(tmp_path: Path, photo_dir: Path) -> None:
    lib = tmp_path / "l.sqlite3"
    subprocess.run([sys.executable, "-m", "glimpse_desktop", "--library", str(lib), "add",
                    str(photo_dir)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = _glimpse("--library", str(lib), "watch", "--settle", "0.2", "--json", env=env)
    ig.write_jpeg(photo_dir / "first.jpg")  # found by the watcher's catch-up or live
    assert eventually(lambda: count_photos(lib) == 1, timeout=30)
    ig.write_jpeg(photo_dir / "second.jpg", seed=2)  # the watcher is up: seen live
    found = eventually(lambda: count_photos(lib) == 2, timeout=30)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert found
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert sum(e["new"] for e in events) == 2


def test_mistakes_people_make(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                              photo_dir: Path) -> None:
    library = tmp_path / "typo" / "lib.sqlite3"
    # Reading commands never create a library at a mistyped path.
    code, _, err = run(capsys, library, "status")
    assert code == 1 and "no library at" in err
    assert not library.exists() and not library.parent.exists()
    doctor = run_json(capsys, library, "doctor")
    assert isinstance(doctor, dict) and "not created yet" in doctor["library"]
    assert not library.exists()
    # Adding twice is harmless (scripts re-run), a file is not a folder.
    ig.write_jpeg(photo_dir / "a.jpg")
    assert run(capsys, library, "add", str(photo_dir))[0] == 0
    code, _, err = run(capsys, library, "add", str(photo_dir) + "/")
    assert code == 0 and "already in the library" in err
    code, _, err = run(capsys, library, "add", str(photo_dir / "a.jpg"))
    assert code == 1 and "is a file, not a folder" in err
    code, _, err = run(capsys, library, "add", str(tmp_path / "nope"))
    assert code == 1 and "does not exist" in err
    # Options are checked.
    with pytest.raises(SystemExit) as exited:
        cli.main(["--library", str(library), "errors", "--stage", "bogus"])
    assert exited.value.code == 2
    code, _, err = run(capsys, library, "watch", "--settle", "-1")
    assert code == 1 and "--settle" in err
    capsys.readouterr()


def test_search_words_info_on_failed_files_and_offline_photos(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, library_path: Path) -> None:
    drive = tmp_path / "home" / "ana" / "Pictures"
    (drive / "Japan").mkdir(parents=True)
    ig.write_png(drive / "Japan" / "gen.png",
                 text={"parameters": ig.a1111_parameters("a red dragon near a castle", "x")})
    ig.write_jpeg(drive / "Japan" / "temple.jpg", image_description="red gate\nKyoto temple")
    ig.write_not_an_image(drive / "broken.jpg")
    run(capsys, library_path, "add", str(drive))
    run(capsys, library_path, "index")

    def names(*words: str) -> list[str]:
        hits = run_json(capsys, library_path, "text-search", *words)
        assert isinstance(hits, list)
        return sorted(Path(h["path"]).name for h in hits)

    assert names("red", "dragon") == ["gen.png"]  # unquoted words all count
    assert names("red") == ["gen.png", "temple.jpg"]
    assert names("red -castle") == ["temple.jpg"]
    assert names('"red dragon"') == ["gen.png"]
    code, out, _ = run(capsys, library_path, "text-search", "--json", "--", "-castle", "red")
    assert code == 0 and [Path(h["path"]).name for h in json.loads(out)] == ["temple.jpg"]
    assert names("Japan") == ["gen.png", "temple.jpg"]  # folder names inside the photo folder
    assert names("Pictures") == ["gen.png", "temple.jpg"]  # and the photo folder's own name
    assert names("ana") == []  # but not the folders above it
    code, out, _ = run(capsys, library_path, "text-search", "kyoto")
    assert "temple.jpg" in out and "red gate [Kyoto] temple" in out  # one line per hit

    code, _, err = run(capsys, library_path, "info", str(drive / "broken.jpg"))
    assert code == 1 and "is not in the library" in err and "not an image" in err

    # Offline photos are still found, and marked.
    (tmp_path / "home").rename(tmp_path / "unplugged")
    run(capsys, library_path, "index")
    hits = run_json(capsys, library_path, "text-search", "dragon")
    assert isinstance(hits, list) and [h["status"] for h in hits] == ["offline"]
    code, out, _ = run(capsys, library_path, "text-search", "dragon")
    assert "[offline]" in out
    code, _, err = run(capsys, library_path, "thumbnail", str(hits[0]["id"]), "--preview")
    assert code == 1 and "offline" in err
    status = run_json(capsys, library_path, "status")
    assert isinstance(status, dict) and status["roots"][0]["present"] is False


def test_doctor_on_a_broken_library_and_excluded_words(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path, photo_dir: Path) -> None:
    broken = tmp_path / "broken.sqlite3"
    broken.write_text("not a database at all " * 50)
    report = run_json(capsys, broken, "doctor")
    assert isinstance(report, dict) and "not a SQLite database" in report["library_error"]
    assert broken.read_text().startswith("not a database")

    library = tmp_path / "l.sqlite3"
    ig.write_jpeg(photo_dir / "beach-day.jpg")
    ig.write_jpeg(photo_dir / "beach-night.jpg", seed=2)
    run(capsys, library, "add", str(photo_dir))
    run(capsys, library, "index")
    hits = run_json(capsys, library, "text-search", "beach", "-night")
    assert isinstance(hits, list) and [Path(h["path"]).name for h in hits] == ["beach-day.jpg"]
    with pytest.raises(SystemExit):
        cli.main(["--library", str(library), "status", "--bogus"])
    assert run_json(capsys, library, "doctor")["library_schema"] == LATEST_VERSION  # type: ignore[index]


def test_only_excluded_words_is_a_clear_error(capsys: pytest.CaptureFixture[str],
                                              library_path: Path, photo_dir: Path) -> None:
    run(capsys, library_path, "add", str(photo_dir))
    code, _, err = run(capsys, library_path, "text-search", "-night")
    assert code == 1 and "at least one word" in err
