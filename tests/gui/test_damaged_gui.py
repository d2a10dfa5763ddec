"""A damaged file in the window: its tile is marked, and the viewer's panel says what happened."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.grid import TileDelegate
from glimpse_desktop.gui.photo_model import DamagedRole, PhotoListModel
from glimpse_desktop.gui.viewer.info import InfoPanel
from tests import imagegen as ig


def test_a_damaged_photo_is_a_marked_tile_and_the_panel_says_so(
        qtbot: QtBot, lib: Library, photo_dir: Path) -> None:
    cut = ig.write_truncated_jpeg(photo_dir / "cut.jpg", (320, 240), keep=0.5,
                                  datetime_original="2019:07:14 15:30:12", make="Canon")
    ig.write_jpeg(photo_dir / "whole.jpg", (320, 240), seed=3)
    lib.add_root(photo_dir)
    lib.index()

    model = PhotoListModel(lib)
    while model.canFetchMore():
        model.fetchMore()
    tiles = {r.filename: model.index(i, 0) for i, r in enumerate(model.rows)}
    assert tiles["cut.jpg"].data(DamagedRole) is True
    assert tiles["whole.jpg"].data(DamagedRole) is False
    assert "damaged" in str(tiles["cut.jpg"].data(Qt.ItemDataRole.ToolTipRole))

    def paint(damaged: bool) -> QImage:
        image = QImage(200, 200, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        tile = QPixmap(200, 200)
        tile.fill(QColor("white"))
        painter = QPainter(image)
        TileDelegate().paint_tile(painter, QRect(0, 0, 200, 200), QApplication.palette(),
                                  tile, "ok", None, selected=False, hover=False,
                                  focus=False, damaged=damaged)
        painter.end()
        return image

    marked, plain = paint(True), paint(False)
    corner = [(x, y) for x in range(0, 100) for y in range(160, 200)]   # bottom left
    assert all(plain.pixelColor(x, y) == QColor("white") for x, y in corner)
    assert any(marked.pixelColor(x, y) != QColor("white") for x, y in corner)

    info = lib.photo(str(cut))
    assert info is not None and info.damaged and info.taken_at == "2019-07-14T15:30:12"
    panel = InfoPanel()
    qtbot.addWidget(panel)
    panel.show_info(info)
    qtbot.waitUntil(lambda: "path" in panel.texts, timeout=10_000)
    assert "damaged" in panel.texts["damaged"]
    whole = lib.photo(str(photo_dir / "whole.jpg"))
    assert whole is not None and not whole.damaged
    panel.show_info(whole)
    qtbot.waitUntil(lambda: "damaged" not in panel.texts, timeout=10_000)
