"""Favourites, stars, rejects and rotation from the window: the keys pressed on a real window
over a real library (real JPEGs, real face photos with the default face pack), then what the
library holds, what the grid's tiles and the viewer show, and the photo menu's items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui import photo_menu
from glimpse_desktop.gui.judge_actions import window_actions
from glimpse_desktop.gui.viewer.canvas import turned_box
from tests import imagegen as ig

WAIT = 30_000


def _photos(folder: Path) -> None:
    for i in range(4):
        ig.write_jpeg(folder / f"IMG_{i}.jpg", (96, 64), seed=i,
                      datetime_original=f"2023:05:0{i + 1} 10:00:00")


def _open(qtbot: QtBot, window: Any) -> Any:
    w = window(start_jobs=False)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.model.rowCount() == 4, timeout=WAIT)
    return w


def _id(lib: Library, path: Path) -> int:
    photo = lib.photo(str(path))
    assert photo is not None
    return photo.id


def _row(w: Any, photo_id: int) -> Any:
    return w.model.rows[w.model.row_of(photo_id)]


def test_keys_in_the_grid_judge_the_selection(qtbot: QtBot, lib: Library, photo_dir: Path,
                                              window: Any) -> None:
    _photos(photo_dir)
    lib.add_root(photo_dir)
    lib.index()
    w = _open(qtbot, window)
    grid = w.library_page.grid
    grid.setFocus()
    a, b = (_id(lib, photo_dir / f"IMG_{i}.jpg") for i in (0, 1))
    selection = grid.selectionModel()
    for pid in (a, b):
        selection.select(w.model.index(w.model.row_of(pid), 0),
                         selection.SelectionFlag.Select)
    assert sorted(w.selected_ids()) == sorted([a, b])

    def info(pid: int) -> Any:
        return lib.photo(pid)

    qtbot.keyClick(grid, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: info(a).favorite and info(b).favorite, timeout=WAIT)
    qtbot.waitUntil(lambda: _row(w, a).favorite, timeout=WAIT)      # the tile's row knows
    qtbot.keyClick(grid, Qt.Key.Key_F)                              # both are: off for both
    qtbot.waitUntil(lambda: not info(a).favorite and not info(b).favorite, timeout=WAIT)
    qtbot.keyClick(grid, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: info(a).rating == 3 and info(b).rating == 3, timeout=WAIT)
    assert info(a).rating_source == "manual"
    qtbot.waitUntil(lambda: _row(w, b).rating == 3, timeout=WAIT)
    qtbot.keyClick(grid, Qt.Key.Key_X)
    qtbot.waitUntil(lambda: info(a).rejected and info(b).rejected, timeout=WAIT)
    qtbot.waitUntil(lambda: _row(w, a).rejected, timeout=WAIT)
    qtbot.keyClick(grid, Qt.Key.Key_0)
    qtbot.waitUntil(lambda: info(a).rating == 0, timeout=WAIT)

    # The tile turns at once with the photo: its pixmap is the upright one turned.
    w.thumbnails.wait()
    qtbot.waitUntil(lambda: w.thumbnails.get(a, _row(w, a).content_hash) is not None,
                    timeout=WAIT)
    upright = w.thumbnails.get(a, _row(w, a).content_hash).toImage()
    qtbot.keyClick(grid, Qt.Key.Key_BracketRight)
    qtbot.waitUntil(lambda: info(a).rotation == 1 and info(b).rotation == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: _row(w, a).rotation == 1, timeout=WAIT)
    index = w.model.index(w.model.row_of(a), 0)
    tile = index.data(Qt.ItemDataRole.DecorationRole).toImage()
    n = upright.width()
    for x, y in ((2, 3), (n - 5, 7), (11, n - 4)):
        # A quarter turn right: what was at (x, y) is at (n - 1 - y, x).
        assert QColor(tile.pixel(n - 1 - y, x)) == QColor(upright.pixel(x, y))
    qtbot.keyClick(grid, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: info(a).rotation == 0, timeout=WAIT)
    # The change chain was told (write-back follows it).
    assert lib.photo(a) is not None


def test_the_viewer_shows_and_changes_the_judgement(qtbot: QtBot, lib: Library,
                                                     photo_dir: Path, window: Any) -> None:
    _photos(photo_dir)
    lib.add_root(photo_dir)
    lib.index()
    w = _open(qtbot, window)
    a = _id(lib, photo_dir / "IMG_2.jpg")
    w.open_photo(w.library_page.grid, w.model.row_of(a))
    viewer = w.viewer
    qtbot.waitUntil(lambda: not viewer.shown_image_size().isEmpty(), timeout=WAIT)
    assert w.selected_ids() == [a]
    bar = viewer.judge_bar
    assert (bar.favorite, bar.stars, bar.rejected) == (False, 0, False)

    qtbot.keyClick(viewer, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: bar.favorite, timeout=WAIT)
    assert lib.photo(a).favorite  # type: ignore[union-attr]
    qtbot.keyClick(viewer, Qt.Key.Key_5)
    qtbot.waitUntil(lambda: bar.stars == 5, timeout=WAIT)
    # Clicking the fifth star again takes the stars away; the heart button toggles.
    bar.star_buttons[4].click()
    qtbot.waitUntil(lambda: bar.stars == 0, timeout=WAIT)
    assert lib.photo(a).rating == 0  # type: ignore[union-attr]
    bar.star_buttons[1].click()
    qtbot.waitUntil(lambda: lib.photo(a).rating == 2, timeout=WAIT)  # type: ignore[union-attr]
    bar.reject_button.click()
    qtbot.waitUntil(lambda: bar.rejected, timeout=WAIT)

    # Rotating turns the picture: the scene is the photo on its side.
    assert viewer.canvas.logical_size().toSize().width() == 96
    qtbot.keyClick(viewer, Qt.Key.Key_BracketLeft)
    qtbot.waitUntil(lambda: viewer.canvas.logical_size().toSize().width() == 64,
                    timeout=WAIT)
    assert lib.photo(a).rotation == 3  # type: ignore[union-attr]
    assert viewer.shown_image_size().width() < viewer.shown_image_size().height()
    bar.rotate_right.click()
    qtbot.waitUntil(lambda: viewer.canvas.logical_size().toSize().width() == 96,
                    timeout=WAIT)
    assert lib.photo(a).rotation == 0  # type: ignore[union-attr]


def test_face_boxes_turn_with_the_photo(qtbot: QtBot, few_faces_lib: Library,
                                        window: Any) -> None:
    assert few_faces_lib.status().photos == 6
    w = window(start_jobs=False)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.model.rowCount() == 6, timeout=WAIT)
    friends = next(r.id for r in w.model.rows if r.filename == "friends.jpg")
    w.open_photo(w.library_page.grid, w.model.row_of(friends))
    viewer = w.viewer
    qtbot.waitUntil(lambda: len(viewer.canvas.boxes) == 6, timeout=WAIT)
    upright = viewer.canvas.logical_size()
    before = {box.face.face: box.rect for box in viewer.canvas.boxes}
    qtbot.keyClick(viewer, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: viewer.canvas.logical_size().width() == upright.height(),
                    timeout=WAIT)
    qtbot.waitUntil(lambda: len(viewer.canvas.boxes) == 6, timeout=WAIT)
    W, H = upright.width(), upright.height()
    for box in viewer.canvas.boxes:
        old = before[box.face.face]
        # Where the face was, a quarter turn right: (x, y) -> (H - y - h, x), w <-> h.
        assert abs(box.rect.x() - (H - old.y() - old.height())) < 1.5
        assert abs(box.rect.y() - old.x()) < 1.5
        assert abs(box.rect.width() - old.height()) < 1.5
        assert abs(box.rect.height() - old.width()) < 1.5
        assert 0 <= box.rect.right() <= H + 1 and 0 <= box.rect.bottom() <= W + 1
    assert turned_box((0.1, 0.2, 0.3, 0.4), 2) == pytest.approx((0.6, 0.4, 0.3, 0.4))
    for turns in range(4):
        x, y, bw, bh = turned_box((0.1, 0.2, 0.3, 0.4), turns)
        assert round(x + bw, 6) <= 1 and round(y + bh, 6) <= 1


def test_the_photo_menu_and_the_menu_bar_actions(qtbot: QtBot, lib: Library,
                                                 photo_dir: Path, window: Any) -> None:
    _photos(photo_dir)
    lib.add_root(photo_dir)
    lib.index()
    w = _open(qtbot, window)
    grid = w.library_page.grid
    a = _id(lib, photo_dir / "IMG_1.jpg")
    qtbot.waitUntil(lambda: grid.visualRect(w.model.index(w.model.row_of(a), 0)).width() > 0,
                    timeout=WAIT)
    menu = photo_menu.grid_menu(w, grid, grid.visualRect(
        w.model.index(w.model.row_of(a), 0)).center())
    assert isinstance(menu, QMenu)
    texts = [act.text() for act in menu.actions()]
    assert "Favourite\t." in texts and "Reject\tX" in texts
    rate = next(act.menu() for act in menu.actions() if act.text() == "Rate")
    next(act for act in rate.actions() if act.text().startswith("★★☆")).trigger()
    qtbot.waitUntil(lambda: lib.photo(a).rating == 2, timeout=WAIT)  # type: ignore[union-attr]
    turn = next(act.menu() for act in menu.actions() if act.text() == "Rotate")
    next(act for act in turn.actions() if act.text() == "180°").trigger()
    qtbot.waitUntil(lambda: lib.photo(a).rotation == 2, timeout=WAIT)  # type: ignore[union-attr]
    menu.close()

    # The "Photo" menu's actions: the same objects every time, with the agreed keys, in the
    # window (so they work wherever the focus is in it).
    actions = window_actions(w)
    assert actions is window_actions(w)
    keys = {act.text(): [k.toString() for k in act.shortcuts()] for act in actions["Photo"]}
    assert keys["Favourite"] == [".", "F"] and keys["Reject"] == ["X"]
    assert keys["Rotate left"] == ["[", "Ctrl+L"] and keys["Rotate right"] == ["]", "Ctrl+R"]
    assert [keys[t] for t in keys if "★" in t or t == "No stars"] == \
        [[str(n)] for n in range(6)]
    assert all(act in w.actions() for act in actions["Photo"])
    # The search box offers the filters and their values, a "not" kept.
    qtbot.waitUntil(lambda: "is" in w.search.vocabulary, timeout=WAIT)
    assert "rating:" in w.search.suggestions("rat")
    assert w.search.suggestions("-is:re") == ["-is:rejected"]
    assert "is:favorite" in w.search.suggestions("is:")
    # Typing in the search box types; it judges nothing.
    w.search.setFocus()
    qtbot.keyClicks(w.search, "x5.")
    assert w.search.text() == "x5."
    info = lib.photo(a)
    assert info is not None and not info.rejected and info.rating == 2 and not info.favorite
