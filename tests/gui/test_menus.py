"""The menu bar against a real library and window: actions follow the selection, the keys
work from the grid and never while typing in the search box, other parts' items join their
menus, the shortcuts list is the actions' own and the README's, and the window's keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.export_dialog import ExportDialog
from glimpse_desktop.gui.menus import MENUS, WindowMenus
from glimpse_desktop.gui.shortcuts import (
    README_END,
    README_START,
    VIEW_KEYS,
    ShortcutsDialog,
    markdown,
    rows,
)
from tests import imagegen as ig

ROOT = Path(__file__).resolve().parents[2]


def _library(lib: Library, folder: Path, n: int = 6) -> None:
    for i in range(n):
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (96, 64), seed=i,
                      datetime_original=f"2023:05:{1 + i:02d} 10:00:00")
    lib.add_root(folder)
    lib.index()


def _shown(qtbot: QtBot, window: Any, lib: Library, photo_dir: Path, **kwargs: Any) -> Any:
    _library(lib, photo_dir)
    w = window(start_jobs=False, **kwargs)
    w.show()
    w.activateWindow()
    qtbot.waitActive(w)            # window shortcuts work in the active window
    qtbot.waitUntil(lambda: w.model.rowCount() == 6)
    return w


def _dialogs(kind: type) -> list[Any]:
    return [d for d in QApplication.topLevelWidgets() if isinstance(d, kind) and d.isVisible()]


def test_the_menu_bar_has_the_standard_menus_and_keys(qtbot: QtBot, lib: Library,
                                                      photo_dir: Path, window: Any) -> None:
    w = _shown(qtbot, window, lib, photo_dir)
    titles = [a.text().replace("&", "") for a in w.menuBar().actions()]
    assert titles == list(MENUS)
    keys = {name: a.shortcut().toString() for name, a in w.menus.actions.items()}
    assert keys["file.quit"] == "Ctrl+Q" and keys["file.settings"] == "Ctrl+,"
    assert keys["file.export"] == "Ctrl+E" and keys["file.open_with"] == "Ctrl+Shift+O"
    assert keys["edit.select_all"] == "Ctrl+A" and keys["edit.find"] == "Ctrl+F"
    assert keys["view.full_screen"] == "F11" and keys["help.shortcuts"] == "F1"
    assert keys["go.back"] == "Esc"


def test_actions_follow_the_selection_and_the_count_is_shown(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    w = _shown(qtbot, window, lib, photo_dir)
    grid = w.library_page.grid
    export = w.menus.actions["file.export"]
    grid.setFocus()
    grid.selectionModel().clearSelection()
    grid.setCurrentIndex(grid.model().index(-1, 0))
    qtbot.waitUntil(lambda: not export.isEnabled())
    qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: export.isEnabled())
    assert len(w.selected_ids()) == 6
    qtbot.waitUntil(lambda: w.menus.selected.text() == "6 selected")
    assert not w.menus.actions["photo.similar"].isEnabled()      # one photo only
    w.menus.actions["edit.select_none"].trigger()
    qtbot.waitUntil(lambda: w.menus.selected.text() == "")
    grid.setCurrentIndex(grid.model().index(2, 0))
    qtbot.waitUntil(lambda: w.menus.actions["photo.similar"].isEnabled())


def test_keys_reach_the_search_box_not_the_library_while_typing(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    w = _shown(qtbot, window, lib, photo_dir)
    grid = w.library_page.grid
    grid.setCurrentIndex(grid.model().index(0, 0))
    # From the grid Ctrl+E is the window's Export.
    grid.setFocus()
    qtbot.waitUntil(lambda: w.menus.actions["file.export"].isEnabled())
    qtbot.keyClick(grid, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(_dialogs(ExportDialog)))
    for dialog in _dialogs(ExportDialog):
        dialog.reject()
    qtbot.waitUntil(lambda: not _dialogs(ExportDialog))
    # In the search box the same keys edit the query.
    w.search.setFocus()
    qtbot.keyClicks(w.search, "dog?")
    assert w.search.text() == "dog?"                  # ? typed, no shortcuts list
    assert not _dialogs(ShortcutsDialog)
    qtbot.keyClick(w.search, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert not _dialogs(ExportDialog)
    qtbot.keyClick(w.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert w.search.selectedText() == "dog?"          # the box's own select-all
    assert len(grid.selectionModel().selectedIndexes()) <= 1
    # F1 is help anywhere, the search box included.
    qtbot.keyClick(w.search, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: bool(_dialogs(ShortcutsDialog)))
    for dialog in _dialogs(ShortcutsDialog):
        dialog.close()


def test_escape_in_the_viewer_goes_back_once(qtbot: QtBot, lib: Library, photo_dir: Path,
                                             window: Any) -> None:
    w = _shown(qtbot, window, lib, photo_dir)
    w.open_photo(w.library_page.grid, 1)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.viewer)
    qtbot.waitUntil(lambda: w.menus.actions["view.info_panel"].isEnabled())
    qtbot.keyClick(w.viewer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.library_page)
    qtbot.waitUntil(lambda: not w.menus.actions["view.info_panel"].isEnabled())


def test_full_screen_and_zoom(qtbot: QtBot, lib: Library, photo_dir: Path,
                              window: Any) -> None:
    w = _shown(qtbot, window, lib, photo_dir)
    before = w.zoom.value()
    w.menus.actions["view.zoom_in"].trigger()
    assert w.zoom.value() > before
    w.menus.actions["view.zoom_out"].trigger()
    assert w.zoom.value() == before
    w.library_page.grid.setFocus()
    qtbot.keyClick(w.library_page.grid, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: bool(w.windowState() & Qt.WindowState.WindowFullScreen))
    assert w.menus.actions["view.full_screen"].isChecked()
    w.menus.actions["view.full_screen"].trigger()
    qtbot.waitUntil(lambda: not w.windowState() & Qt.WindowState.WindowFullScreen)


def test_other_parts_items_join_their_menus_and_the_shortcuts_list(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    w = _shown(qtbot, window, lib, photo_dir)
    menus = WindowMenus(w, providers=["tests.gui.menu_provider", "tests.gui.no_such_module"])
    photo = [a.objectName() for a in menus.menus["Photo"].actions()]
    assert "test.mark" in photo
    go = [a.objectName() for a in menus.menus["Go"].actions() if not a.isSeparator()]
    assert go.index("test.page") < go.index("go.back")          # Back stays last
    listed = {(r.section, r.what, r.keys) for r in rows(menus)}
    assert ("Photo", "Mark as Tested", "Ctrl+Shift+M") in listed
    grid = w.library_page.grid
    grid.setCurrentIndex(grid.model().index(3, 0))
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert getattr(w, "marked", None) == w.selected_ids()


def test_the_shortcuts_list_is_every_keyed_action_and_the_readme_agrees(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    w = _shown(qtbot, window, lib, photo_dir)
    # Every keyed item of every menu: the window's own and those other parts provide.
    keyed = {id(a) for menu in w.menuBar().findChildren(QMenu) for a in menu.actions()
             if not a.shortcut().isEmpty()}
    found = rows(w.menus)
    assert len(found) == len(keyed) + len(VIEW_KEYS)
    dialog = ShortcutsDialog(w, w.menus)
    qtbot.addWidget(dialog)
    items = [dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())]
    listed = sum(item.childCount() for item in items if item is not None)
    assert listed == len(found)
    dialog.filter.setText("export")
    visible = [item.child(j).text(0) for item in items if item is not None and
               not item.isHidden() for j in range(item.childCount())
               if not item.child(j).isHidden()]
    assert visible == ["Export"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(README_START) + len(README_START):readme.index(README_END)]
    assert block.strip() == markdown(rows(w.menus, native=False)).strip(), (
        "run tools/shortcuts_readme.py")
