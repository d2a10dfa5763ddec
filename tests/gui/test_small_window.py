"""The window at 800×600: no view makes it wider, and the viewer's bar keeps what matters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from tests import imagegen as ig


def test_every_view_fits_an_800_pixel_window(qtbot: QtBot, lib: Library, photo_dir: Path,
                                             window: Any) -> None:
    for i in range(4):
        ig.write_jpeg(photo_dir / f"IMG_{i}.jpg", (300, 200), seed=i,
                      datetime_original=f"2024:0{i + 1}:06 10:00:00", gps=(38.72, -9.14))
    lib.add_root(photo_dir)
    lib.index()
    lib.albums.create("A rather long album title for the header", [1, 2])
    w = window(start_jobs=False)
    w.show()
    qtbot.waitUntil(lambda: w.model.rowCount() == 4)
    # The views whose headers carry counts (they once made the window 890 px at least).
    w.show_view("map")
    qtbot.waitUntil(lambda: "on the map" in w.map_page.subtitle.text())
    w.show_view("albums")
    qtbot.waitUntil(lambda: "of yours" in w.albums_page.subtitle.text())
    w.open_photo(w.library_page.grid, 1)
    viewer = w.viewer
    qtbot.waitUntil(lambda: viewer.position.text() != "")
    assert viewer.zoom_in_button.isVisible()       # 1000 px: room for everything
    w.resize(800, 600)
    qtbot.waitUntil(lambda: w.width() == 800)
    assert w.minimumSizeHint().width() <= 800
    # Narrow: the zoom buttons go (the wheel and + / − still zoom); judging stays.
    qtbot.waitUntil(lambda: not viewer.zoom_in_button.isVisible())
    assert viewer.judge_bar.isVisible() and viewer.info_button.isVisible()
    bar = viewer.bar
    assert bar.layout() is not None and bar.layout().minimumSize().width() <= bar.width()
    w.resize(1200, 700)
    qtbot.waitUntil(lambda: viewer.zoom_in_button.isVisible())


def test_the_grid_fills_the_width_and_its_thumbnails_are_made_at_the_size_drawn(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    for i in range(12):
        ig.write_jpeg(photo_dir / f"IMG_{i}.jpg", (300, 200), seed=i,
                      datetime_original=f"2024:05:{i + 1:02d} 10:00:00")
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)
    w.show()
    qtbot.waitUntil(lambda: w.model.rowCount() == 12)
    grid = w.library_page.grid
    for width in (800, 1013, 1280):
        w.resize(width, 600)
        qtbot.waitUntil(lambda width=width: w.width() == width)
        qtbot.waitUntil(lambda: w.thumbnails.size == grid.tile_pixels())
        # The last column ends at the right margin: no empty band beside the tiles (the
        # tiles were centred, with up to a tile's width left over at 800 px).
        last = grid.visualRect(grid.model().index(grid.columns() - 1, 0))
        assert grid.viewport().width() - 12 - 4 <= last.right() + 1 <= grid.viewport().width()
        # Near the size chosen with the slider.
        assert abs(grid.drawn_tile() - grid.tile()) <= (grid.tile() + 3) / 2
