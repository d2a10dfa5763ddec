"""Settings, Folders: the folders that hold the photos, added, removed, read again.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QIcon,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from glimpse_desktop.api import Root, RootAdded
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.settings.common import (
    ROW_HEIGHT,
    Page,
    ask,
    run_task,
    theme_icon,
    wrapped,
)
from glimpse_desktop.gui.tasks import Tasks, describe

# ---------------------------------------------------------------------- Folders


class FoldersPage(Page):
    title = "Folders"
    subtitle = ("The folders that hold your photos. Glimpse reads them and keeps the library in "
                "step as files come and go; it never changes or deletes a photo.")

    roots_changed = Signal()

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks = lib, tasks
        self._roots: dict[str, Root] = {}
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Folder", "Photos", "State"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.headerItem().setTextAlignment(
            1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.empty = wrapped("No folders yet. Add the folder that holds your photos (for "
                              "example Pictures); its subfolders are included.", secondary=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.empty)
        self.body.addWidget(self.stack, 1)

        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add Folder…")
        self.add_button.setIcon(theme_icon(self, QIcon.ThemeIcon.ListAdd,
                                      QStyle.StandardPixmap.SP_FileDialogNewFolder))
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setIcon(theme_icon(self, QIcon.ThemeIcon.ListRemove,
                                         QStyle.StandardPixmap.SP_TrashIcon))
        self.remove_button.clicked.connect(self._remove_selected)
        self.open_button = QPushButton("Show in File Manager")
        self.open_button.clicked.connect(self._open_selected)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        self.body.addLayout(buttons)
        self.body.addWidget(self.notice)
        self._selection_changed()

    # -- reading

    def load(self) -> None:
        run_task(self, self.tasks, self.lib.roots, done=self._show, failed=self._failed, read=True)

    def roots(self) -> list[Root]:
        """The folders as last shown."""
        return list(self._roots.values())

    def _show(self, rows: list[Root]) -> None:
        chosen = self.selected_path()
        self._roots = {r.path: r for r in rows}
        self.tree.clear()
        folder_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        offline_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for row in rows:
            path = row.path
            photos = row.photos + row.offline
            count = f"{photos:,}"
            if row.missing:
                count += f" ({row.missing:,} missing)"
            if not row.present:
                state = "Not connected"
                why = ("The folder cannot be reached (an unplugged drive?). Its photos are "
                       "kept and come back when it does.")
            elif row.last_scan_at is None:
                state, why = "Not read yet", "Its photos are read in the background."
            else:
                state, why = "Available", f"Last read {row.last_scan_at[:16]}"
            item = QTreeWidgetItem([path, count, state])
            item.setSizeHint(0, QSize(0, ROW_HEIGHT))
            item.setData(0, Qt.ItemDataRole.UserRole, path)
            item.setIcon(0, folder_icon if row.present else offline_icon)
            item.setToolTip(0, path)
            item.setToolTip(2, why)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            if path == chosen:
                item.setSelected(True)
        self.stack.setCurrentWidget(self.tree if rows else self.empty)
        self._selection_changed()

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(f"Could not read the folders: {describe(exc)}")

    def selected_path(self) -> str | None:
        items = self.tree.selectedItems()
        return str(items[0].data(0, Qt.ItemDataRole.UserRole)) if items else None

    def select(self, path: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None:
                item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) == path)

    def _selection_changed(self) -> None:
        chosen = self.selected_path()
        self.remove_button.setEnabled(chosen is not None)
        root = self._roots.get(chosen) if chosen is not None else None
        self.open_button.setEnabled(root is not None and root.present)

    # -- changing

    def choose_folder(self) -> None:
        """Add… : the system's folder picker, then ``add_folder``."""
        start = self.selected_path() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Add a Photo Folder", start)
        if folder:
            self.add_folder(folder)

    def add_folder(self, path: str) -> None:
        """Add a photo folder to the library; ``roots_changed`` once it is in."""
        self.notice.clear()
        self.add_button.setEnabled(False)
        run_task(self, self.tasks, lambda: self.lib.add_root(path), done=self._added,
             failed=self._add_failed)

    def _added(self, result: RootAdded) -> None:
        self.add_button.setEnabled(True)
        name = os.path.basename(result.path) or result.path
        text = f"Added {name}. Its photos are read in the background."
        if result.absorbed:
            text += (" It holds folders that were already in the library ("
                     + ", ".join(os.path.basename(p) for p in result.absorbed)
                     + "); their photos stay as they are.")
        self.notice.say(text)
        self.load()
        self.select(result.path)
        self.roots_changed.emit()

    def _add_failed(self, exc: BaseException) -> None:
        self.add_button.setEnabled(True)
        self.notice.warn(f"Could not add the folder: {describe(exc)}")

    def _remove_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.remove_folder(path)

    def remove_folder(self, path: str) -> QMessageBox:
        """Ask, then take the folder out of the library (its files stay where they are)."""
        row = self._roots.get(path)
        photos = row.photos + row.offline + row.missing if row is not None else 0
        name = os.path.basename(path.rstrip(os.sep)) or path
        what = f"Its {photos:,} photo{'' if photos == 1 else 's'}" if photos else "Its photos"
        return ask(self, "Remove Folder", f"Remove “{name}” from the library?",
                   f"{what} leave the library, with the faces, tags and search data found in "
                   f"them. The files themselves are not touched: add the folder again to bring "
                   "them back.", "Remove Folder", lambda: self._remove_now(path),
                   icon=QMessageBox.Icon.Warning, destructive=True)

    def _remove_now(self, path: str) -> None:
        self.notice.clear()
        self.remove_button.setEnabled(False)
        run_task(self, self.tasks, lambda: self.lib.remove_root(path),
             done=lambda n: self._removed(path, int(n)),
             failed=self._remove_failed)

    def _removed(self, path: str, count: int) -> None:
        name = os.path.basename(path.rstrip(os.sep)) or path
        self.notice.say(f"Removed {name}: {count:,} photo{'' if count == 1 else 's'} left the "
                        "library. The files are untouched.")
        self.load()
        self.roots_changed.emit()

    def _remove_failed(self, exc: BaseException) -> None:
        self._selection_changed()
        self.notice.warn(f"Could not remove the folder: {describe(exc)}")

    def _open_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))


