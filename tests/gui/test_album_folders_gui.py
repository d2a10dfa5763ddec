"""Album folders on the Albums page of a real window over a real library: the tree of folders
and albums, a new folder from its button, an album dragged onto a folder, "Move to folder…",
a folder's card opening it, deleting a folder (its albums move up), and which folders are
open remembered by the next window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.album_folders import MIME_ALBUM
from tests import imagegen as ig


def _library(lib: Library, folder: Path) -> list[int]:
    for i in range(6):
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (96, 64), seed=i,
                      datetime_original=f"2023:05:{i + 1:02d} 10:00:00")
    lib.add_root(folder)
    lib.index()
    ids = [int(r["id"]) for r in lib.reader().rows("SELECT id FROM photos ORDER BY id")]
    lib.albums.create_folder("Travel/2024")
    lib.albums.create("Lisbon", ids[:2], folder="Travel/2024")
    lib.albums.create("Porto", ids[2:4])
    return ids


def _answer(qtbot: QtBot, fill: Callable[[Any], None]) -> None:
    """Answer the next modal dialog as a person would (it opens after this returns)."""
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, answer)
            return
        fill(dialog)

    QTimer.singleShot(0, answer)


def _items(tree: Any) -> dict[str, QTreeWidgetItem]:
    """Every item of the tree by its path of texts ("Travel/2024/Lisbon")."""
    out: dict[str, QTreeWidgetItem] = {}

    def walk(item: QTreeWidgetItem, above: str) -> None:
        path = f"{above}/{item.text(0)}" if above else item.text(0)
        out[path] = item
        for n in range(item.childCount()):
            walk(item.child(n), path)

    for n in range(tree.topLevelItemCount()):
        walk(tree.topLevelItem(n), "")
    return out


def _page(window: Any, qtbot: QtBot) -> Any:
    w = window(start_jobs=False)
    w.show()
    w.show_view("albums")
    page = w.albums_page
    qtbot.waitUntil(lambda: "Travel/2024/Lisbon" in _items(page.folders))
    return page


def test_the_tree_holds_folders_and_albums_and_folders_are_made_and_filed(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    _library(lib, photo_dir)
    page = _page(window, qtbot)
    items = _items(page.folders)
    assert {"All albums", "Travel", "Travel/2024", "Travel/2024/Lisbon"} <= set(items)
    assert "Porto" not in items                     # at the top: under "All albums" only
    assert items["Travel/2024/Lisbon"].text(1) == "2"

    # A folder chosen in the tree shows what it holds: its folders as cards, its albums.
    page.folders.setCurrentItem(items["Travel"])
    assert [c.title for c in page.model.covers] == ["2024"]
    assert page.model.covers[0].badge == "Folder"
    page._activated(page.model.index(0))            # the card opens the folder
    assert page.chosen_folder() is not None and page.chosen_folder().path == "Travel/2024"
    assert [c.title for c in page.model.covers] == ["Lisbon"]

    # New folder… from its button: a dialog asks for the name.
    page.folders.setCurrentItem(_items(page.folders)["All albums"])
    _answer(qtbot, lambda d: (d.setTextValue("Family/Kids"), d.accept()))
    page.new_folder_button.click()
    qtbot.waitUntil(lambda: "Family/Kids" in _items(page.folders))

    # An album's cover dragged onto a folder of the tree goes into it.
    porto_row = next(n for n, c in enumerate(page.model.covers) if c.title == "Porto")
    mime = page.model.mimeData([page.model.index(porto_row)])
    assert mime.hasFormat(MIME_ALBUM)
    target = _items(page.folders)["Family/Kids"]
    at = QPointF(page.folders.visualItemRect(target).center())
    drop = QDropEvent(at, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    page.folders.dropEvent(drop)
    qtbot.waitUntil(lambda: "Family/Kids/Porto" in _items(page.folders))
    qtbot.waitUntil(lambda: lib.albums.show("Porto").folder == "Family/Kids")

    # An album dropped on a folder's own album or on People goes nowhere.
    lisbon = _items(page.folders)["Travel/2024/Lisbon"]
    refused = QMimeData()
    refused.setData(MIME_ALBUM, str(lib.albums.show("Porto").id).encode())
    page.folders.dropEvent(QDropEvent(QPointF(page.folders.visualItemRect(lisbon).center()),
                                      Qt.DropAction.MoveAction, refused,
                                      Qt.MouseButton.LeftButton,
                                      Qt.KeyboardModifier.NoModifier))
    assert lib.albums.show("Porto").folder == "Family/Kids"

    # "Move to folder…": the list of folders, the top first.
    porto = lib.albums.show("Porto")

    def choose(dialog: Any) -> None:
        assert dialog.comboBoxItems()[0].startswith("(No folder")
        dialog.setTextValue("Travel/")
        dialog.accept()

    _answer(qtbot, choose)
    page.ask_move(porto)
    qtbot.waitUntil(lambda: "Travel/Porto" in _items(page.folders))
    assert lib.albums.show("Porto").folder == "Travel"

    # Deleting a folder asks; "Move albums up" keeps the albums one level higher.
    travel_2024 = lib.albums.folder("Travel/2024")

    def move_up(box: Any) -> None:
        assert isinstance(box, QMessageBox) and "never" in box.informativeText()
        up = next(b for b in box.buttons() if b.text() == "Move albums up")
        up.click()

    _answer(qtbot, move_up)
    page.delete_folder(travel_2024)
    qtbot.waitUntil(lambda: "Travel/Lisbon" in _items(page.folders))
    assert "Travel/2024" not in _items(page.folders)
    assert lib.albums.show("Lisbon").count == 2


def test_open_folders_are_remembered_by_the_next_window(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    _library(lib, photo_dir)
    page = _page(window, qtbot)
    travel = _items(page.folders)["Travel"]
    travel.setExpanded(True)
    _items(page.folders)["Travel/2024"].setExpanded(True)
    travel.setExpanded(False)
    page.window().close()

    again = _page(window, qtbot)
    items = _items(again.folders)
    assert not items["Travel"].isExpanded() and items["Travel/2024"].isExpanded()
    items["Travel"].setExpanded(True)
    again.refresh()                                 # filled again: still as left
    qtbot.waitUntil(lambda: _items(again.folders)["Travel"].isExpanded())
    assert _items(again.folders)["Travel/2024"].isExpanded()


def test_a_folder_cannot_be_dropped_into_itself(qtbot: QtBot, lib: Library,
                                               photo_dir: Path, window: Any) -> None:
    _library(lib, photo_dir)
    page = _page(window, qtbot)
    items = _items(page.folders)
    items["Travel"].setExpanded(True)
    mime = page.folders.mimeData([items["Travel"]])
    messages: list[str] = []

    def read_warning(box: Any) -> None:
        messages.append(box.text())
        box.accept()

    _answer(qtbot, read_warning)
    target = items["Travel/2024"]
    page.folders.dropEvent(QDropEvent(QPointF(page.folders.visualItemRect(target).center()),
                                      Qt.DropAction.MoveAction, mime,
                                      Qt.MouseButton.LeftButton,
                                      Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: bool(messages))
    assert "cannot go into itself" in messages[0]
    assert lib.albums.folder("Travel/2024").parent == lib.albums.folder("Travel").id
