"""The window's sidebar: the views, and the jobs running now under them.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QIcon,
)
from PySide6.QtWidgets import (
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from glimpse_desktop.gui.tasks import Job


class Sidebar(QTreeWidget):
    """Library, People, Albums, Places, Map, Folders, Duplicates, and the running jobs."""

    VIEWS = (("library", "Library", "folder-pictures", QStyle.StandardPixmap.SP_DirHomeIcon),
             ("people", "People", "system-users", QStyle.StandardPixmap.SP_FileDialogDetailedView),
             ("albums", "Albums", "folder", QStyle.StandardPixmap.SP_DirIcon),
             ("places", "Places", "mark-location", QStyle.StandardPixmap.SP_DriveNetIcon),
             ("map", "Map", "map-flat", QStyle.StandardPixmap.SP_DriveNetIcon),
             ("folders", "Folders", "folder-open", QStyle.StandardPixmap.SP_DirOpenIcon),
             ("duplicates", "Duplicates", "edit-copy",
              QStyle.StandardPixmap.SP_FileDialogListView))

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(8)
        self.setIconSize(QSize(20, 20))
        self.setMinimumWidth(180)
        self.setMaximumWidth(280)
        self.setFrameShape(QTreeWidget.Shape.NoFrame)
        self.items: dict[str, QTreeWidgetItem] = {}
        for key, label, theme, fallback in self.VIEWS:
            item = QTreeWidgetItem([label])
            item.setData(0, Qt.ItemDataRole.UserRole, key)
            item.setIcon(0, QIcon.fromTheme(theme, self.style().standardIcon(fallback)))
            item.setSizeHint(0, QSize(0, 32))
            self.addTopLevelItem(item)
            self.items[key] = item
        self.jobs = QTreeWidgetItem(["Jobs"])
        self.jobs.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = self.font()
        font.setBold(True)
        self.jobs.setFont(0, font)
        self.addTopLevelItem(self.jobs)
        self.jobs.setHidden(True)
        self.jobs.setExpanded(True)
        self._job_items: dict[int, QTreeWidgetItem] = {}
        self.currentItemChanged.connect(self._changed)

    def add_view(self, key: str, label: str) -> None:
        """A view a plugin adds (``gui.hooks.Page``): under the built-in ones, above Jobs."""
        item = QTreeWidgetItem([label])
        item.setData(0, Qt.ItemDataRole.UserRole, key)
        item.setIcon(0, QIcon.fromTheme("applications-other",
                                        self.style().standardIcon(
                                            QStyle.StandardPixmap.SP_FileDialogContentsView)))
        item.setSizeHint(0, QSize(0, 32))
        self.insertTopLevelItem(self.indexOfTopLevelItem(self.jobs), item)
        self.items[key] = item

    def select(self, key: str) -> None:
        item = self.items.get(key)
        if item is not None and self.currentItem() is not item:
            self.blockSignals(True)
            self.setCurrentItem(item)
            self.blockSignals(False)

    def _changed(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        key = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        if key:
            self.chosen.emit(str(key))

    def add_job(self, job: Job) -> None:
        item = QTreeWidgetItem([job.name])
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setToolTip(0, job.name)
        self.jobs.addChild(item)
        self.jobs.setHidden(False)
        self.jobs.setExpanded(True)
        self._job_items[id(job)] = item
        job.progress.connect(lambda _e, j=job: self._update_job(j))
        job.state_changed.connect(lambda j=job: self._update_job(j))

    def _update_job(self, job: Job) -> None:
        item = self._job_items.get(id(job))
        if item is None:
            return
        event = job.last
        if event is not None and event.total:
            item.setText(0, f"{job.name} · {event.done * 100 // max(1, event.total)}%"
                         + (" (paused)" if job.paused else ""))
        item.setToolTip(0, job.describe())

    def end_job(self, job: Job) -> None:
        item = self._job_items.pop(id(job), None)
        if item is not None:
            self.jobs.removeChild(item)
        self.jobs.setHidden(self.jobs.childCount() == 0)


