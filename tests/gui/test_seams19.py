"""Where the parts of issue 19 meet, in the real window over a real library (pytest-qt,
offscreen; real JPEGs; the real XDG trash in a temporary HOME): judging in every grid, the
trash in result grids and in a library grid whose rows are not all read, and the window's
keys (no key bound twice: Qt fires neither action then)."""

from __future__ import annotations

import collections
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QAbstractButton
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui import trash_view
from glimpse_desktop.gui.photo_model import Row, tile_key
from glimpse_desktop.gui.timeline_model import TimelineModel
from tests import imagegen as ig

WAIT = 20_000


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".local" / "share").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home


def _library(lib: Library, folder: Path, n: int) -> list[int]:
    for i in range(n):
        ig.write_jpeg(folder / f"p{i}.jpg", (96, 64), seed=i + 1,
                      datetime_original=f"2022:03:{i + 1:02d} 12:00:00")
    lib.add_root(folder)
    lib.index()
    return [int(lib.reader().one("SELECT id FROM photos WHERE filename = ?", (f"p{i}.jpg",)))
            for i in range(n)]


def _shown(qtbot: QtBot, window: Callable[..., Any], **kwargs: Any) -> Any:
    w = window(start_jobs=False, **kwargs)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=WAIT)
    return w


def _select(grid: Any, *rows: int) -> None:
    selection = grid.selectionModel()
    grid.setCurrentIndex(grid.model().index(rows[0], 0))
    selection.clearSelection()
    for row in rows:
        selection.select(grid.model().index(row, 0), QItemSelectionModel.SelectionFlag.Select)


def _results(qtbot: QtBot, w: Any, ids: list[int]) -> Any:
    w.show_photo_ids("Chosen", ids)
    qtbot.waitUntil(lambda: w.results_page.grid.model() is not None
                    and w.results_page.grid.model().rowCount() == len(ids), timeout=WAIT)
    return w.results_page.grid.model()


def test_judging_in_a_result_grid_shows_on_its_tiles_at_once(
        qtbot: QtBot, window: Callable[..., Any], lib: Library, photo_dir: Path) -> None:
    ids = _library(lib, photo_dir, 3)
    w = _shown(qtbot, window)
    model = _results(qtbot, w, ids[:2])
    grid = w.results_page.grid
    at = model.row_of(ids[0])
    _select(grid, at)
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: model.row_at(model.row_of(ids[0])).favorite, timeout=WAIT)
    qtbot.keyClick(grid, Qt.Key.Key_4)
    qtbot.waitUntil(lambda: model.row_at(model.row_of(ids[0])).rating == 4, timeout=WAIT)
    qtbot.keyClick(grid, Qt.Key.Key_BracketRight)
    qtbot.waitUntil(lambda: model.row_at(model.row_of(ids[0])).rotation == 1, timeout=WAIT)
    assert model.rowCount() == 2 and not model.row_at(model.row_of(ids[1])).favorite


def test_delete_in_results_leaves_every_grid_and_undo_brings_it_back(
        qtbot: QtBot, window: Callable[..., Any], lib: Library, photo_dir: Path) -> None:
    ids = _library(lib, photo_dir, 3)
    w = _shown(qtbot, window)
    qtbot.waitUntil(lambda: w.model.rowCount() == 3, timeout=WAIT)
    model = _results(qtbot, w, ids)
    grid = w.results_page.grid
    _select(grid, model.row_of(ids[1]))
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: model.rowCount() == 2 and w.model.rowCount() == 2, timeout=WAIT)
    assert model.row_of(ids[1]) is None and w.model.row_of(ids[1]) is None
    undo = w.status.findChild(trash_view._UndoBar)
    assert undo is not None and undo.isVisible()
    undo.click()
    qtbot.waitUntil(lambda: w.model.rowCount() == 3, timeout=WAIT)
    # Back in the results too, at its place.
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=WAIT)
    assert [model.row_at(i).id for i in range(3)] == ids


def test_a_photo_trashed_before_its_row_was_read_leaves_the_months(
        qtbot: QtBot, lib: Library, photo_dir: Path) -> None:
    ids = _library(lib, photo_dir, 8)
    model = TimelineModel(lib, page=2)
    model.fetchMore()
    assert model.known and model.rowCount() == 8 and model.rows_read == 2
    oldest, middle = ids[0], ids[4]                  # rows not read yet
    assert model.row_of(oldest) is None and model.row_of(middle) is None
    # A new file of that month that cannot be shown (unsupported) was never counted.
    odd = Row.of(lib.photo_rows([middle])[0])
    odd.id, odd.status = 10_000, "unsupported"
    model.apply_rows([odd])
    assert model.rowCount() == 8
    # Judged elsewhere (a search result) before its row was read: still one row.
    lib.judge.rate([middle], 3)
    model.apply_rows(lib.photo_rows([middle]), held=True)
    assert model.rowCount() == 8
    lib.trash.move([oldest, middle])
    model.apply_rows(lib.photo_rows([oldest, middle]))
    model.apply_rows(lib.photo_rows([oldest]))        # said again (the watcher): once
    assert model.rowCount() == 6 and model.sections() == [(0, "March 2022")]
    model.ensure_loaded(range(6))
    assert [model.row_at(i).id for i in range(6)] == [i for i in ids[::-1]
                                                      if i not in (oldest, middle)]
    lib.trash.restore([oldest, middle])
    model.apply_rows(lib.photo_rows([oldest, middle]))
    assert model.rowCount() == 8
    model.ensure_loaded(range(8))
    assert [model.row_at(i).id for i in range(8)] == ids[::-1]


def test_a_turned_tile_is_painted_when_its_turned_pixmap_arrives(
        qtbot: QtBot, lib: Library, photo_dir: Path) -> None:
    ids = _library(lib, photo_dir, 2)
    model = TimelineModel(lib, page=10)
    model.fetchMore()
    lib.judge.rotate([ids[0]], 1)
    model.apply_rows(lib.photo_rows([ids[0]]))
    row = model.row_at(model.row_of(ids[0]))
    assert row.rotation == 1
    with qtbot.waitSignal(model.dataChanged, timeout=WAIT) as changed:
        model.thumbnails.ready.emit(tile_key(row.content_hash, 1))
    assert changed.args[0].row() == model.row_of(ids[0])


def _keys(w: Any) -> dict[str, list[str]]:
    """Every key a window-wide action or shortcut answers now, with who answers it."""
    keys: dict[str, list[str]] = collections.defaultdict(list)
    for action in w.findChildren(QAction):
        if action.shortcutContext() not in (Qt.ShortcutContext.WindowShortcut,
                                            Qt.ShortcutContext.ApplicationShortcut):
            continue
        if not action.isEnabled() or not any(
                x is w or (hasattr(x, "isVisible") and x.isVisible())
                for x in action.associatedObjects()):
            continue
        for key in action.shortcuts():
            keys[key.toString()].append(action.objectName() or action.text())
    for shortcut in w.findChildren(QShortcut):
        parent = shortcut.parent()
        if shortcut.isEnabled() and getattr(parent, "isVisible", lambda: True)():
            for key in shortcut.keys():  # noqa: SIM118 (QShortcut's keys, not a dict)
                keys[key.toString()].append(f"QShortcut of {type(parent).__name__}")
    for button in w.findChildren(QAbstractButton):
        if not button.shortcut().isEmpty() and button.isVisible() and button.isEnabled():
            keys[button.shortcut().toString()].append(f"button {button.text()}")
    return keys


def test_no_key_is_bound_twice_in_any_view(qtbot: QtBot, window: Callable[..., Any],
                                           lib: Library, photo_dir: Path) -> None:
    ids = _library(lib, photo_dir, 2)
    w = _shown(qtbot, window)
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=WAIT)
    seen: dict[str, dict[str, list[str]]] = {}
    for key in [*w.pages, *w.plugin_pages]:
        if key in ("viewer", "welcome"):
            continue
        w.show_view(key)
        qtbot.wait(50)
        seen[key] = _keys(w)
    w.open_photo(w.library_page.grid, 0)
    qtbot.waitUntil(lambda: w.viewer.current_photo() in ids, timeout=WAIT)
    seen["viewer"] = _keys(w)
    twice = {view: {k: v for k, v in keys.items() if len(v) > 1}
             for view, keys in seen.items()}
    assert not any(twice.values()), twice
    assert "Del" in seen["library"] and "F5" in seen["library"] and "Ctrl+A" in seen["library"]


def test_an_album_shows_its_photos_turned_and_judged(
        qtbot: QtBot, window: Callable[..., Any], lib: Library, photo_dir: Path) -> None:
    ids = _library(lib, photo_dir, 3)
    album = lib.albums.create("Trip", ids[:2])
    lib.judge.rotate([ids[0]], 1)
    lib.judge.toggle_favorite([ids[0]])
    lib.judge.rate([ids[1]], 5)
    w = _shown(qtbot, window)
    w.show_album(album.id, "Trip")
    qtbot.waitUntil(lambda: w.results_page.grid.model() is not None
                    and w.results_page.grid.model().rowCount() == 2, timeout=WAIT)
    model = w.results_page.grid.model()
    first, second = (model.row_at(model.row_of(i)) for i in ids[:2])
    assert first.rotation == 1 and first.favorite and second.rating == 5


def test_keys_typed_in_any_text_field_of_the_window_stay_there(
        qtbot: QtBot, window: Callable[..., Any], lib: Library, photo_dir: Path) -> None:
    from PySide6.QtWidgets import QLineEdit

    ids = _library(lib, photo_dir, 2)
    w = _shown(qtbot, window)
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=WAIT)
    _select(w.library_page.grid, 0)
    chosen = w.selected_ids()
    assert chosen and chosen[0] in ids
    # A text field of the window other than the search box (as a face's or a person's name).
    field = QLineEdit()
    w.library_page.tools.addWidget(field)
    field.show()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=WAIT)
    qtbot.keyClicks(field, "Ann 3.")
    qtbot.keyClick(field, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_F5)
    qtbot.keyClick(field, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(300)
    assert field.text() == "Ann 3."
    judged = lib.judge.judgement(chosen[0])
    assert judged.rotation == 0 and judged.rating is None and not judged.favorite
    assert w.slideshow is None
