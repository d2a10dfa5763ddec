"""The albums page's folder tree: "All albums", the person's folders (nested, with their
albums), and "People" (an album per named person). Albums and folders are dragged onto a
folder to file them; which folders are open is remembered between runs.

Drags carry ``MIME_ALBUM`` (an album id) or ``MIME_FOLDER`` (a folder id) as ASCII text:
the cover grid starts album drags, the tree both kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QInputDialog,
    QMessageBox,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from glimpse_desktop.api import Album, AlbumFolder, AlbumTree
from glimpse_desktop.gui.settings import app_settings
from glimpse_desktop.gui.widgets import fit_title

__all__ = ["ALL", "MIME_ALBUM", "MIME_FOLDER", "PEOPLE", "FolderTree", "ask_delete_folder",
           "ask_folder", "folder_paths"]

MIME_ALBUM = "application/x-glimpse-album"
MIME_FOLDER = "application/x-glimpse-album-folder"
NodeRole = Qt.ItemDataRole.UserRole + 41
# What a tree item stands for: ("all", None), ("folder", AlbumFolder), ("album", Album).
ALL = "all"
PEOPLE = 0          # the id of the "People" folder (made from People, never stored)
EXPANDED = "albums/expanded"


def folder_paths(tree: AlbumTree) -> list[tuple[int, str]]:
    """Every folder of the person's as (id, path), in tree order (People left out)."""
    out: list[tuple[int, str]] = []

    def walk(nodes: Iterable[AlbumFolder]) -> None:
        for node in nodes:
            if node.virtual:
                continue
            out.append((node.id, node.path))
            walk(node.folders)

    walk(tree.folders)
    return out


def _expanded_setting() -> set[str]:
    value = app_settings().value(EXPANDED, [])
    if isinstance(value, str):
        return {value} if value else set()
    return {str(v) for v in value} if isinstance(value, list) else set()


class FolderTree(QTreeWidget):
    """Folders and their albums; drop an album or a folder on a folder to move it there (on
    "All albums": to the top)."""

    album_dropped = Signal(int, object)      # album id, folder id (None: the top)
    folder_dropped = Signal(int, object)     # folder id, into folder id (None: the top)
    album_activated = Signal(object)         # Album

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setColumnCount(2)
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setMinimumWidth(200)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self._filling = False
        self.itemExpanded.connect(lambda item: self._remember(item, True))
        self.itemCollapsed.connect(lambda item: self._remember(item, False))
        self.itemActivated.connect(self._activated)
        style = self.style()
        self.folder_icon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        self.album_icon = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)

    # ------------------------------------------------------------------ filling

    @staticmethod
    def node(item: QTreeWidgetItem | None) -> tuple[str, Any]:
        if item is None:
            return ("none", None)
        found = item.data(0, NodeRole)
        return found if isinstance(found, tuple) else ("none", None)

    def fill(self, tree: AlbumTree, chosen: tuple[str, Any] | None) -> None:
        """The tree of ``tree``, the folders open as the person left them, ``chosen`` (a
        node key: ("folder", id), ("album", id) or ("all", None)) selected again."""
        self._filling = True
        self.clear()
        expanded = _expanded_setting()
        every = self._item(None, "All albums", (ALL, None), self.folder_icon,
                           len(tree.albums) + len(tree.auto) + sum(f.count for f in tree.folders
                                                                   if not f.virtual))
        keyed: dict[tuple[str, Any], QTreeWidgetItem] = {(ALL, None): every}

        def add(parent: QTreeWidgetItem | None, folder: AlbumFolder) -> None:
            item = self._item(parent, folder.name, ("folder", folder), self.folder_icon,
                              folder.count)
            item.setToolTip(0, folder.path + ("  (the album of each named person)"
                                              if folder.virtual else ""))
            keyed[("folder", folder.id)] = item
            for below in folder.folders:
                add(item, below)
            for album in folder.albums:
                leaf = self._item(item, album.title, ("album", album), self.album_icon,
                                  album.count)
                leaf.setToolTip(0, f"{album.title} · {album.count:,} photos"
                                   + (f"\n{album.query}" if album.query else ""))
                keyed[("album", album.id)] = leaf
            item.setExpanded(str(folder.id) in expanded)

        for folder in tree.folders:
            add(None, folder)
        every.setExpanded(True)
        current = keyed.get(chosen) if chosen else None
        self.setCurrentItem(current or every)
        self._filling = False

    def _item(self, parent: QTreeWidgetItem | None, text: str, node: tuple[str, Any],
              icon: QIcon, count: int) -> QTreeWidgetItem:
        item = QTreeWidgetItem([text, f"{count:,}"])
        item.setIcon(0, icon)
        item.setData(0, NodeRole, node)
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setForeground(1, self.palette().placeholderText())
        kind, value = node
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        movable = ((kind == "folder" and not value.virtual)
                   or (kind == "album" and not value.auto and value.person is None))
        if movable:
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        if kind == ALL or (kind == "folder" and not value.virtual):
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        item.setFlags(flags)
        if parent is None:
            self.addTopLevelItem(item)
        else:
            parent.addChild(item)
        return item

    def _remember(self, item: QTreeWidgetItem, opened: bool) -> None:
        if self._filling:
            return
        kind, value = self.node(item)
        if kind != "folder":
            return
        expanded = _expanded_setting()
        (expanded.add if opened else expanded.discard)(str(value.id))
        app_settings().setValue(EXPANDED, sorted(expanded))

    def key_of(self, item: QTreeWidgetItem | None) -> tuple[str, Any] | None:
        kind, value = self.node(item)
        if kind == ALL:
            return (ALL, None)
        if kind in ("folder", "album"):
            return (kind, value.id)
        return None

    def item_for(self, key: tuple[str, Any]) -> QTreeWidgetItem | None:
        for item in self._all_items():
            if self.key_of(item) == key:
                return item
        return None

    def _all_items(self) -> list[QTreeWidgetItem]:
        out: list[QTreeWidgetItem] = []

        def walk(item: QTreeWidgetItem | None) -> None:
            if item is None:
                return
            out.append(item)
            for n in range(item.childCount()):
                walk(item.child(n))

        for n in range(self.topLevelItemCount()):
            walk(self.topLevelItem(n))
        return out

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        kind, value = self.node(item)
        if kind == "album":
            self.album_activated.emit(value)

    # ------------------------------------------------------------------ dragging

    def mimeTypes(self) -> list[str]:
        return [MIME_ALBUM, MIME_FOLDER]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        for item in items[:1]:
            kind, value = self.node(item)
            if kind == "album":
                data.setData(MIME_ALBUM, str(value.id).encode("ascii"))
            elif kind == "folder":
                data.setData(MIME_FOLDER, str(value.id).encode("ascii"))
        return data

    def _target(self, event: QDragMoveEvent | QDropEvent) -> tuple[bool, int | None]:
        """(may drop here, the folder id it goes into: None for the top)."""
        item = self.itemAt(event.position().toPoint())
        kind, value = self.node(item)
        if kind == ALL:
            return True, None
        if kind == "folder" and not value.virtual:
            return True, int(value.id)
        return False, None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasFormat(MIME_ALBUM) or mime.hasFormat(MIME_FOLDER):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        ok, _folder = self._target(event)
        mime = event.mimeData()
        if ok and (mime.hasFormat(MIME_ALBUM) or mime.hasFormat(MIME_FOLDER)):
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
            super().dragMoveEvent(event)    # the drop indicator
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        ok, folder = self._target(event)
        mime = event.mimeData()
        if not ok:
            event.ignore()
            return
        # Handled here, never by QTreeWidget's own move: the core decides, the tree is
        # filled again from what it says.
        if mime.hasFormat(MIME_ALBUM):
            self.album_dropped.emit(int(bytes(mime.data(MIME_ALBUM).data()).decode()), folder)
        elif mime.hasFormat(MIME_FOLDER):
            moving = int(bytes(mime.data(MIME_FOLDER).data()).decode())
            if moving != folder:
                self.folder_dropped.emit(moving, folder)
        event.setDropAction(Qt.DropAction.CopyAction)   # nothing for Qt to remove
        event.accept()

    def startDrag(self, actions: Qt.DropAction) -> None:
        super().startDrag(Qt.DropAction.MoveAction | Qt.DropAction.CopyAction)



def ask_folder(parent: QWidget, paths: list[tuple[int, str]], title: str,
               current: int | None) -> tuple[bool, int | None]:
    """"Move to folder…": the folder chosen from every path, or the top (ok, folder id)."""
    top = "(No folder — at the top)"
    choices = [top] + [f"{path}/" for _fid, path in paths]
    at = 0
    for n, (fid, _path) in enumerate(paths, start=1):
        if fid == current:
            at = n
    chosen, ok = QInputDialog.getItem(parent, "Move to folder", f"Move “{title}” to:",
                                      choices, at, False)
    if not ok:
        return False, None
    if chosen == top:
        return True, None
    return True, paths[choices.index(chosen) - 1][0]


def ask_delete_folder(parent: QWidget, folder: AlbumFolder) -> str | None:
    """What deleting a folder does with its albums: 'up', 'delete', or None (cancelled)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Delete folder")
    where = "the folder above" if folder.parent is not None else "the top of Albums"
    box.setText(f"Delete the folder “{folder.name}”?")
    box.setInformativeText(
        f"It holds {folder.count:,} album{'s' if folder.count != 1 else ''}. Move them "
        f"(and its folders) up to {where}, or delete the albums with it? Photos are never "
        "deleted: they stay in your library.")
    up = box.addButton("Move albums up", QMessageBox.ButtonRole.AcceptRole)
    delete = box.addButton("Delete albums", QMessageBox.ButtonRole.DestructiveRole)
    fit_title(box)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(up)
    if folder.count == 0:
        delete.hide()
    box.exec()
    clicked = box.clickedButton()
    if clicked is up:
        return "up"
    if clicked is delete:
        return "delete"
    return None


def album_of(value: Any) -> Album | None:
    return value if isinstance(value, Album) else None
