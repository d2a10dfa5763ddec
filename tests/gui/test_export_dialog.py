"""File ▸ Export… from the window: the dialog's choices reach the files (resized, no GPS,
named by date), the export runs as a job, and the choices are remembered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import ExportOptions, Library
from glimpse_desktop.gui.export_dialog import ExportDialog
from tests import imagegen as ig


def test_export_the_selection_resized_without_location(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any, tmp_path: Path) -> None:
    for i in range(3):
        ig.write_jpeg(photo_dir / f"IMG_{i}.jpg", (800, 600), seed=i, make="Canon",
                      datetime_original=f"2023:05:0{i + 1} 10:22:3{i}", gps=(52.5, 13.4))
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)
    w.show()
    qtbot.waitUntil(lambda: w.model.rowCount() == 3)
    grid = w.library_page.grid
    grid.selectAll()
    qtbot.waitUntil(lambda: w.menus.actions["file.export"].isEnabled())
    w.menus.actions["file.export"].trigger()
    dialog = next(d for d in QApplication.topLevelWidgets() if isinstance(d, ExportDialog))
    assert dialog.ok.text() == "Export 3 photos"
    out = tmp_path / "out"
    dialog.folder.setText(str(out))
    dialog.resized.setChecked(True)
    dialog.long_edge.setValue(300)
    dialog.metadata.setCurrentIndex(dialog.metadata.findData("no-gps"))
    dialog.naming.setCurrentIndex(dialog.naming.findData("date"))
    dialog.ok.click()
    qtbot.waitUntil(lambda: len(list(out.glob("*.jpg"))) == 3 and not w.jobs.running,
                    timeout=20_000)
    names = sorted(p.name for p in out.glob("*.jpg"))
    assert names == ["2023-05-01 10.22.30.jpg", "2023-05-02 10.22.31.jpg",
                     "2023-05-03 10.22.32.jpg"]
    for path in out.glob("*.jpg"):
        with Image.open(path) as im:
            assert max(im.size) == 300
            exif = im.getexif()
            assert exif.get(0x010F) == "Canon" and not exif.get_ifd(0x8825)
    qtbot.waitUntil(lambda: "Exported 3 photos" in w.status._idle_text)
    # The originals are as they were, and the choices come back next time.
    with Image.open(photo_dir / "IMG_0.jpg") as im:
        assert im.size == (800, 600) and im.getexif().get_ifd(0x8825)
    again = ExportDialog(1)
    qtbot.addWidget(again)
    assert again.options() == ExportOptions(size="resized", long_edge=300, metadata="no-gps",
                                            naming="date")
    assert again.target() == str(out)


def test_name_clashes_skip_or_replace(lib: Library, photo_dir: Path, tmp_path: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", (200, 100), seed=1)
    lib.add_root(photo_dir)
    lib.index()
    ids = lib.photos_added_after(None)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.jpg").write_bytes(b"someone else's file")
    skipped = lib.exports.photos(ids, out, ExportOptions(clash="skip"))
    assert not skipped.exported and skipped.skipped[0].kind == "exists"
    assert (out / "a.jpg").read_bytes() == b"someone else's file"
    numbered = lib.exports.photos(ids, out, ExportOptions())
    assert Path(numbered.exported[0].target).name == "a (2).jpg"
    replaced = lib.exports.photos(ids, out, ExportOptions(clash="replace", metadata="strip"))
    assert Path(replaced.exported[0].target).name == "a.jpg"
    assert (out / "a.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_an_original_exported_shows_as_the_person_turned_it(
        lib: Library, photo_dir: Path, tmp_path: Path) -> None:
    # Shot upright on its side: the file's own orientation 6 (turn right to show it).
    ig.write_jpeg(photo_dir / "side.jpg", (200, 100), seed=1, orientation=6)
    ig.write_jpeg(photo_dir / "flat.jpg", (200, 100), seed=2)
    lib.add_root(photo_dir)
    lib.index()
    side, flat = (lib.photo(str(photo_dir / n)).id for n in ("side.jpg", "flat.jpg"))  # type: ignore[union-attr]
    lib.judge.rotate([side, flat], 1)           # both turned right in Glimpse

    def shown(path: Path) -> tuple[int, int]:
        with Image.open(path) as image:
            return ImageOps.exif_transpose(image).size

    out = tmp_path / "out"
    done = lib.exports.photos([side, flat], out, ExportOptions())
    assert len(done.exported) == 2
    assert shown(out / "side.jpg") == (200, 100)      # 6 then a right turn: upside down
    assert shown(out / "flat.jpg") == (100, 200)
    assert shown(out / "side.jpg") == lib.full_image(side).size
    # Without metadata the turns stay (the orientation alone is written).
    stripped = tmp_path / "stripped"
    lib.exports.photos([flat], stripped, ExportOptions(metadata="strip"))
    assert shown(stripped / "flat.jpg") == (100, 200)
    with Image.open(stripped / "flat.jpg") as image:
        assert set(image.getexif()) == {0x0112}
    lib.judge.rotate([flat], 3)                 # turned back: the file as it is
    again = lib.exports.photos([flat], tmp_path / "again", ExportOptions())
    assert (Path(again.exported[0].target).read_bytes()
            == (photo_dir / "flat.jpg").read_bytes())
