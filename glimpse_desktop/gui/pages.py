"""The main window's simpler pages: welcome, a titled photo grid, folders (the duplicates
review lives in duplicates_view.py).

Each page is a plain widget that asks the core for its data off the GUI thread (``Tasks``)
and shows it; the main window wires their signals.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFont, QIcon, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import Folder, PhotoRow, Root
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.grid import PhotoGrid
from glimpse_desktop.gui.photo_model import ResultListModel, ThumbnailCache
from glimpse_desktop.gui.tasks import Tasks, describe


def title_font(widget: QWidget, scale: float = 1.6) -> QFont:
    font = QFont(widget.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    return font


def dimmed(label: QLabel) -> QLabel:
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText,
                     palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText))
    label.setPalette(palette)
    return label


def pictures_folder() -> str | None:
    """The system's Pictures folder, when there is one (what the welcome page suggests)."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    return found if found and os.path.isdir(found) else None


def folders_of(urls: list[Any]) -> list[str]:
    """Local folders among dropped URLs (files dropped count for the folder holding them)."""
    out: list[str] = []
    for url in urls:
        if not url.isLocalFile():
            continue
        path = url.toLocalFile()
        folder = path if os.path.isdir(path) else os.path.dirname(path)
        if folder and folder not in out:
            out.append(folder)
    return out


class WelcomePage(QWidget):
    """First run: add the folders that hold photos (button, suggestion, or drag and drop)."""

    add_folders = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        card = QFrame()
        card.setObjectName("welcome")
        card.setMaximumWidth(620)
        layout = QVBoxLayout(card)
        layout.setSpacing(14)
        icon = QLabel()
        icon.setPixmap(QIcon.fromTheme("folder-pictures", self.style().standardIcon(
            QStyle.StandardPixmap.SP_DirIcon)).pixmap(72, 72))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        heading = QLabel("Welcome to Glimpse")
        heading.setFont(title_font(self, 2.0))
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            "Choose the folders that hold your photos. Glimpse reads them where they are — "
            "nothing is moved, changed or uploaded — and keeps watching them for new photos. "
            "Search in plain words and the people in your photos come from models that run on "
            "this computer.")
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(icon)
        layout.addWidget(heading)
        layout.addWidget(text)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.suggested = pictures_folder()
        if self.suggested:
            self.use_pictures = QPushButton(f"Add {self.suggested}")
            self.use_pictures.setDefault(True)
            self.use_pictures.clicked.connect(
                lambda: self.add_folders.emit([self.suggested]))
            buttons.addWidget(self.use_pictures)
        self.choose = QPushButton("Choose a folder…")
        self.choose.clicked.connect(self._choose)
        buttons.addWidget(self.choose)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        hint = dimmed(QLabel("…or drop folders onto this window."))
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(hint)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose a folder of photos", self.suggested or str(Path.home()))
        if folder:
            self.add_folders.emit([folder])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if folders_of(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = folders_of(event.mimeData().urls())
        if folders:
            event.acceptProposedAction()
            self.add_folders.emit(folders)


class GridPage(QWidget):
    """A title line over a photo grid; an empty grid says why instead of showing nothing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        head = QHBoxLayout()
        head.setContentsMargins(16, 10, 16, 4)
        self.title = QLabel()
        self.title.setFont(title_font(self))
        self.subtitle = dimmed(QLabel())
        self.subtitle.setWordWrap(True)
        self.subtitle.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        head.addWidget(self.title)
        head.addSpacing(12)
        head.addWidget(self.subtitle, 1)
        self.tools = QHBoxLayout()
        # Its own spacing: the page's layout has none, and its buttons touched.
        self.tools.setSpacing(6)
        head.addLayout(self.tools)
        layout.addLayout(head)
        self.grid = PhotoGrid()
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setContentsMargins(40, 40, 40, 40)
        dimmed(self.empty)
        self.empty.hide()
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.empty, 1)

    def insert_above_grid(self, widget: QWidget) -> None:
        """A band between the title and the grid (the library's memories)."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, widget)

    def set_title(self, title: str, subtitle: str = "") -> None:
        self.title.setText(title)
        self.subtitle.setText(subtitle)

    def set_empty(self, text: str | None) -> None:
        """Show ``text`` in place of the grid (None: the grid)."""
        self.empty.setText(text or "")
        self.empty.setVisible(bool(text))
        self.grid.setVisible(not text)


class TreeAndGridPage(QWidget):
    """A tree of groups with photo counts on the left (folders, places); the chosen group's
    photos in a grid beside it. Subclasses fill the tree and answer ``_chosen``."""

    def __init__(self, lib: Library, tasks: Tasks, thumbnails: ThumbnailCache, what: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks, self.thumbnails = lib, tasks, thumbnails
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        split = QSplitter()
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([what, "Photos"])
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setMinimumWidth(240)
        self.tree.itemSelectionChanged.connect(self._chosen)
        self.page = GridPage()
        split.addWidget(self.tree)
        split.addWidget(self.page)
        split.setStretchFactor(1, 1)
        split.setSizes([320, 900])
        layout.addWidget(split)

    @property
    def grid(self) -> PhotoGrid:
        return self.page.grid

    def _chosen(self) -> None:
        raise NotImplementedError


class FolderBrowserPage(TreeAndGridPage):
    """The library's folders as a tree (with photo counts); a folder's photos beside it."""

    def __init__(self, lib: Library, tasks: Tasks, thumbnails: ThumbnailCache,
                 parent: QWidget | None = None) -> None:
        super().__init__(lib, tasks, thumbnails, "Folder", parent)
        self.page.set_title("Folders", "Choose a folder on the left.")

    def refresh(self) -> None:
        self.tasks.run(lambda: (self.lib.roots(), self.lib.folders()), self._show, read=True)

    def _show(self, found: tuple[list[Root], list[Folder]]) -> None:
        roots, folders = found
        selected = self._selected_path()
        self.tree.clear()
        nodes: dict[str, QTreeWidgetItem] = {}
        for root in roots:
            item = QTreeWidgetItem([root.path, ""])
            item.setData(0, Qt.ItemDataRole.UserRole, root.path)
            item.setToolTip(0, root.path + ("" if root.present
                                            else "\n(not reachable right now)"))
            self.tree.addTopLevelItem(item)
            nodes[root.path] = item
        totals: dict[str, int] = {}
        for row in folders:
            folder, top = row.path, row.root
            parent = nodes.get(top)
            if parent is None:
                continue
            totals[top] = totals.get(top, 0) + row.photos
            if folder == top:
                continue
            # Make the folders between the root and this one, so the tree has every level.
            rel = os.path.relpath(folder, top).split(os.sep)
            path = top
            for part in rel:
                path = os.path.join(path, part)
                node = nodes.get(path)
                if node is None:
                    node = QTreeWidgetItem([part, ""])
                    node.setData(0, Qt.ItemDataRole.UserRole, path)
                    node.setToolTip(0, path)
                    parent.addChild(node)
                    nodes[path] = node
                parent = node
                # A folder counts the photos below it too, as a file manager would.
                totals[path] = totals.get(path, 0) + row.photos
        for path, item in nodes.items():
            item.setText(1, f"{totals.get(path, 0):,}")
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.tree.expandToDepth(0)
        if selected and selected in nodes:
            self.tree.setCurrentItem(nodes[selected])

    def _selected_path(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else str(item.data(0, Qt.ItemDataRole.UserRole))

    def _chosen(self) -> None:
        folder = self._selected_path()
        if not folder:
            return
        item = self.tree.currentItem()
        recursive = item is not None and item.childCount() > 0
        self.tasks.run(lambda: self.lib.folder_photos(folder, recursive=recursive),
                       lambda rows: self._photos(folder, rows), read=True)

    def _photos(self, folder: str, rows: list[PhotoRow]) -> None:
        if folder != self._selected_path():
            return   # another folder was chosen meanwhile
        model = ResultListModel(self.lib, rows, sectioned=True, thumbnails=self.thumbnails,
                                parent=self)
        self.page.grid.setModel(model)
        self.page.set_title(os.path.basename(folder) or folder,
                            f"{len(rows):,} photo{'s' if len(rows) != 1 else ''} · {folder}")
        self.page.set_empty(None if rows else "No photos directly in this folder.")

def error_text(exc: BaseException) -> str:
    return describe(exc)
