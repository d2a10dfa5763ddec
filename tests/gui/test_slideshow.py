"""The slideshow in a real window over a real library: F5 on the selection, its timer moving
on, Space, the arrows, +/− remembered, Esc back to the same view and photo; from the viewer
it walks the library grid's model past its first page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.photo_model import PhotoIdRole
from glimpse_desktop.gui.settings import app_settings
from glimpse_desktop.gui.slideshow import SETTING, window_actions
from tests import imagegen as ig


def _photos(lib: Library, folder: Path, n: int) -> None:
    for i in range(n):
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (160, 120), seed=i,
                      datetime_original=f"2023:05:{i + 1:02d} 10:00:00")
    lib.add_root(folder)
    lib.index()


def _library_window(window: Any, qtbot: QtBot, **kwargs: Any) -> Any:
    w = window(start_jobs=False, **kwargs)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    w.show_view("library")
    return w


def test_f5_shows_the_selection_on_its_timer_space_pauses_esc_returns(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    _photos(lib, photo_dir, 8)
    app_settings().setValue(SETTING, 0.2)
    w = _library_window(window, qtbot)
    grid = w.library_page.grid
    qtbot.waitUntil(lambda: grid.model().rowCount() == 8)
    model = grid.model()
    selection = grid.selectionModel()
    grid.setCurrentIndex(model.index(2, 0))
    for row in (2, 3, 5):
        selection.select(model.index(row, 0), QItemSelectionModel.SelectionFlag.Select)
    chosen = [int(model.data(model.index(r, 0), PhotoIdRole)) for r in (2, 3, 5)]
    assert w.selected_ids() == chosen
    assert [a.text() for a in window_actions(w)["View"]] == ["Slideshow"]
    assert window_actions(w)["View"][0] in w.actions()

    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: w.slideshow is not None and w.slideshow.current is not None)
    show = w.slideshow
    seen: list[int] = [show.current]
    show.shown.connect(seen.append)
    assert seen[0] == chosen[0] and show.isVisible()
    # Its timer moves on through the selection, and round again.
    qtbot.waitUntil(lambda: len(seen) >= 4, timeout=10_000)
    assert seen[:4] == [*chosen, chosen[0]]

    qtbot.keyClick(show, Qt.Key.Key_Space)
    assert show.paused and not show.timer.isActive()
    paused_on = show.current
    qtbot.wait(600)                                   # three intervals: nothing moves
    assert show.current == paused_on
    qtbot.keyClick(show, Qt.Key.Key_Right)            # by hand while paused
    qtbot.waitUntil(lambda: show.current == chosen[(chosen.index(paused_on) + 1) % 3])
    qtbot.keyClick(show, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: show.current == paused_on)
    assert not show.timer.isActive()

    qtbot.keyClick(show, Qt.Key.Key_Plus)             # 0.2 s → 1 s, remembered
    assert show.interval == 1.0 and float(app_settings().value(SETTING)) == 1.0
    qtbot.keyClick(show, Qt.Key.Key_Plus)
    qtbot.keyClick(show, Qt.Key.Key_Minus)
    assert float(app_settings().value(SETTING)) == 1.0

    qtbot.keyClick(show, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.slideshow is None)
    assert w.stack.currentWidget() is w.library_page
    assert grid.currentIndex().row() == 2 and w.selected_ids() == chosen


def test_from_the_viewer_it_pages_the_library_model_from_the_photo_shown(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    _photos(lib, photo_dir, 11)
    app_settings().setValue(SETTING, 0.1)
    w = _library_window(window, qtbot, page=4)        # the grid reads 4 rows at a time
    grid = w.library_page.grid
    model = grid.model()
    qtbot.waitUntil(lambda: model.rowCount() >= 4)
    w.open_photo(grid, 1)
    assert w.stack.currentWidget() is w.viewer
    start = w.viewer.current_photo()
    w.viewer.setFocus()
    qtbot.keyClick(w.viewer, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: w.slideshow is not None and w.slideshow.current is not None)
    show = w.slideshow
    seen = [show.current]
    show.shown.connect(seen.append)
    assert seen[0] == start
    # Past the page read so far: the show asks the model for more as it goes.
    qtbot.waitUntil(lambda: len(set(seen)) == 10, timeout=20_000)
    assert model.rowCount() == 11
    newest_first = [int(model.data(model.index(r, 0), PhotoIdRole)) for r in range(11)]
    assert seen[:10] == newest_first[1:11]
    show.close()
    qtbot.waitUntil(lambda: w.slideshow is None)
    assert w.stack.currentWidget() is w.viewer and w.viewer.current_photo() == start


def test_the_results_page_and_an_albums_menu_start_a_slideshow_of_their_photos(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    _photos(lib, photo_dir, 5)
    ids = [int(r["id"]) for r in lib.reader().rows("SELECT id FROM photos ORDER BY id")]
    album = lib.albums.create("Picked", [ids[3], ids[0]])
    app_settings().setValue(SETTING, 30)
    w = _library_window(window, qtbot)
    w.show_album(album.id, album.title)
    grid = w.results_page.grid
    qtbot.waitUntil(lambda: grid.model() is not None and grid.model().rowCount() == 2)
    w.slideshow_button.click()
    qtbot.waitUntil(lambda: w.slideshow is not None and w.slideshow.current is not None)
    assert w.slideshow.current == ids[3]               # the album's own order
    w.slideshow.close()
    qtbot.waitUntil(lambda: w.slideshow is None)
    w.albums_page.play_album.emit(album.id)
    qtbot.waitUntil(lambda: w.slideshow is not None and w.slideshow.current is not None)
    assert w.slideshow.source.ids == [ids[3], ids[0]]
    w.slideshow.close()
