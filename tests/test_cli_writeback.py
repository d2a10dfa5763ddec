"""`glimpse writeback`: sidecars by default, --embed into JPEGs, --dry-run lists the plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from glimpse_desktop import cli
from glimpse_desktop.metadata import xmp
from tests import imagegen as ig
from tests.test_xmp import exiftool


def run(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--library", str(library), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def shelf(capsys: pytest.CaptureFixture[str], library_path: Path, photo_dir: Path) -> Path:
    ig.write_jpeg(photo_dir / "lisbon.jpg", datetime_original="2023:07:14 18:03:22",
                  make="Google", model="Pixel 8", orientation=6,
                  image_description="Tram 28 in Alfama")
    ig.write_png(photo_dir / "gen.png", text={"Description": "A red dragon"})
    assert run(capsys, library_path, "add", str(photo_dir))[0] == 0
    assert run(capsys, library_path, "index", "-q")[0] == 0
    return photo_dir


def test_dry_run_lists_and_writes_nothing(capsys: pytest.CaptureFixture[str],
                                          library_path: Path, shelf: Path) -> None:
    code, out, err = run(capsys, library_path, "writeback", "--dry-run")
    assert code == 0
    assert f"create  {shelf / 'lisbon.jpg'}.xmp" in out
    assert "2 create" in err
    assert not list(shelf.glob("*.xmp"))
    code, out, _ = run(capsys, library_path, "writeback", "--dry-run", "--json")
    plan = json.loads(out)
    assert {(p["target"], p["action"]) for p in plan} == {("sidecar", "create")}


def test_sidecars_by_default_then_unchanged(capsys: pytest.CaptureFixture[str],
                                            library_path: Path, shelf: Path) -> None:
    code, out, _ = run(capsys, library_path, "writeback")
    assert code == 0 and "Wrote 2 files (sidecars)" in out
    data = xmp.parse((shelf / "lisbon.jpg.xmp").read_bytes())
    assert data.description == "Tram 28 in Alfama"
    code, out, _ = run(capsys, library_path, "writeback", "--json")
    report = json.loads(out)
    assert code == 0 and report["written"] == 0 and report["unchanged"] == 2


def test_embed_writes_into_jpegs_and_pngs(capsys: pytest.CaptureFixture[str],
                                         library_path: Path, shelf: Path) -> None:
    png = Image.open(shelf / "gen.png")
    pixels = png.convert("RGB").tobytes()
    code, out, _ = run(capsys, library_path, "writeback", "--embed", "--json", "-q")
    report = json.loads(out)
    assert code == 0, report
    assert report["written"] == 2 and report["skipped"] == 0
    assert report["targets"] == [str(shelf / "gen.png"), str(shelf / "lisbon.jpg")]
    assert Image.open(shelf / "gen.png").convert("RGB").tobytes() == pixels
    assert exiftool("-XMP-dc:Description", str(shelf / "gen.png"))[0][
        "Description"] == "A red dragon"
    assert not list(shelf.glob("*.xmp"))
    # The library saw its own write: a re-index finds nothing changed.
    code, out, _ = run(capsys, library_path, "index", "-q", "--json")
    assert json.loads(out)["updated"] == 0


def test_with_sync_on_naming_someone_writes_their_photos_sidecars(
        capsys: pytest.CaptureFixture[str], library_path: Path, photo_dir: Path,
        few_faces_lib: object) -> None:
    from glimpse_desktop.api import Library

    assert isinstance(few_faces_lib, Library)
    person = next(p for p in few_faces_lib.people.list_people() if p.name is None)
    code, _, err = run(capsys, library_path, "people", "name", str(person.id),
                       "Ada Lovelace")
    assert code == 0 and not list(photo_dir.glob("*.xmp"))      # sync is off: nothing written
    few_faces_lib.config.set("writeback.sync", True)
    code, _, err = run(capsys, library_path, "people", "name", str(person.id),
                       "Ada King")
    assert code == 0
    written = [p for p in photo_dir.glob("*.xmp") if "Ada King" in p.read_text("utf-8")]
    assert written and f"Write-back: wrote {len(list(photo_dir.glob('*.xmp')))} files" in err
    regions = [r.name for p in written for r in xmp.parse(p.read_bytes()).regions]
    assert "Ada King" in regions
