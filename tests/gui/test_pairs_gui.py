"""A RAW+JPEG pair in the window: one tile, marked, and the viewer's panel names both files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.grid import TileDelegate
from glimpse_desktop.gui.photo_model import PairedRole, PhotoListModel
from glimpse_desktop.gui.viewer.info import InfoPanel, WrappedPath
from tests import imagegen as ig

SHOT = "2023:07:14 09:41:27"


def test_a_pair_is_one_marked_tile_and_the_panel_names_both_files(
        qtbot: QtBot, lib: Library, photo_dir: Path) -> None:
    jpeg = ig.write_jpeg(photo_dir / "IMG_0001.JPG", (320, 240), seed=1,
                         datetime_original=SHOT)
    raw = ig.write_dng(photo_dir / "IMG_0001.DNG", preview_size=(320, 240),
                       thumb_size=(64, 48), seed=2, datetime_original=SHOT)
    ig.write_jpeg(photo_dir / "alone.jpg", (320, 240), seed=3, datetime_original=SHOT)
    lib.add_root(photo_dir)
    lib.index()

    model = PhotoListModel(lib)
    while model.canFetchMore():
        model.fetchMore()
    tiles = {r.filename: model.index(i, 0) for i, r in enumerate(model.rows)}
    assert sorted(tiles) == ["IMG_0001.JPG", "alone.jpg"]
    assert tiles["IMG_0001.JPG"].data(PairedRole) is True
    assert tiles["alone.jpg"].data(PairedRole) is False

    # The mark is painted on the paired tile only.
    def paint(paired: bool) -> QImage:
        image = QImage(200, 200, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        tile = QPixmap(200, 200)
        tile.fill(QColor("white"))
        painter = QPainter(image)
        TileDelegate().paint_tile(painter, QRect(0, 0, 200, 200), QApplication.palette(),
                                  tile, "ok", None, selected=False, hover=False,
                                  focus=False, paired=paired)
        painter.end()
        return image

    marked, plain = paint(True), paint(False)
    corner = [(x, y) for x in range(100, 200) for y in range(0, 40)]
    assert all(plain.pixelColor(x, y) == QColor("white") for x, y in corner)
    assert any(marked.pixelColor(x, y) != QColor("white") for x, y in corner)

    info = lib.photo(str(jpeg))
    assert info is not None
    panel = InfoPanel()
    qtbot.addWidget(panel)
    panel.show_info(info)
    qtbot.waitUntil(lambda: "path" in panel.texts, timeout=10_000)
    assert panel.texts["path"] == str(jpeg)
    assert panel.texts["companions"] == str(raw)
    shown = [w.toPlainText() for w in panel.findChildren(WrappedPath)]
    assert shown == [str(jpeg), str(raw)]
