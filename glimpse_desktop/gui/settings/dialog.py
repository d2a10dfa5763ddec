"""The settings window: a sidebar of pages, as in a system settings app.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSize, Qt, Signal
from PySide6.QtGui import (
    QIcon,
    QPalette,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.settings.captions import CaptionsPage
from glimpse_desktop.gui.settings.common import (
    GEOMETRY_KEY,
    PAGE_KEY,
    Page,
    app_settings,
    theme_icon,
)
from glimpse_desktop.gui.settings.device import DevicePage
from glimpse_desktop.gui.settings.faces import FacesPage
from glimpse_desktop.gui.settings.folders import FoldersPage
from glimpse_desktop.gui.settings.library import LibraryPage
from glimpse_desktop.gui.settings.models import SearchModelPage
from glimpse_desktop.gui.settings.plugins import PluginsPage
from glimpse_desktop.gui.settings.writeback import WriteBackPage
from glimpse_desktop.gui.tasks import Jobs, Tasks

# The library settings the built-in pages edit, each in its own words; the Plugins page shows
# every other one (a plugin's own, and those no page has a control for).
ON_THEIR_OWN_PAGES = frozenset({
    "caption.enabled", "caption.base_url", "caption.model", "caption.prompt",
    "caption.max_edge", "caption.send_metadata", "caption.concurrency", "caption.rpm",
    "caption.max_cost", "caption.auto",
    "writeback.sync", "writeback.sidecar", "writeback.embed",
    "map.tiles", "map.tile_url",
})

# ---------------------------------------------------------------------- the dialog


class SettingsDialog(QDialog):
    """The settings window. ``roots_changed``: a folder was added or removed (the window
    re-indexes and restarts watching); ``models_changed``: a CLIP model or face pack was
    installed, chosen or removed, or face finding turned on or off (the window catches up in
    the background); ``people_changed``: faces were regrouped; ``captions_changed``: a
    captioning run ended. The Plugins page lists the plugins and every setting that no other
    page shows."""

    roots_changed = Signal()
    models_changed = Signal()
    people_changed = Signal()
    captions_changed = Signal()

    PAGES = ("folders", "library", "search", "faces", "captions", "writeback", "device",
             "plugins")

    def __init__(self, lib: Library, tasks: Tasks, jobs: Jobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks, self.jobs = lib, tasks, jobs
        self.setWindowTitle("Settings")
        self.setSizeGripEnabled(True)
        self.folders = FoldersPage(lib, tasks)
        self.library = LibraryPage(lib, tasks)
        self.search = SearchModelPage(lib, tasks, jobs)
        self.faces = FacesPage(lib, tasks, jobs)
        self.device = DevicePage(lib, tasks)
        self.captions = CaptionsPage(lib, tasks, jobs)
        self.writeback = WriteBackPage(lib, tasks, jobs)
        self.plugins = PluginsPage(lib, tasks, ON_THEIR_OWN_PAGES)
        self.pages: dict[str, Page] = {
            "folders": self.folders, "library": self.library, "search": self.search,
            "faces": self.faces, "device": self.device, "captions": self.captions,
            "writeback": self.writeback, "plugins": self.plugins}
        icons = {
            "folders": (QIcon.ThemeIcon.FolderOpen, QStyle.StandardPixmap.SP_DirIcon),
            "library": (QIcon.ThemeIcon.DriveHarddisk, QStyle.StandardPixmap.SP_DriveHDIcon),
            "search": (QIcon.ThemeIcon.SystemSearch,
                       QStyle.StandardPixmap.SP_FileDialogContentsView),
            "faces": (QIcon.ThemeIcon.UserAvailable, None),
            "device": (QIcon.ThemeIcon.Computer, QStyle.StandardPixmap.SP_ComputerIcon),
            "captions": (QIcon.ThemeIcon.InsertText,
                         QStyle.StandardPixmap.SP_FileDialogDetailedView),
            "writeback": (QIcon.ThemeIcon.DocumentSave,
                          QStyle.StandardPixmap.SP_DialogSaveButton),
            "plugins": (QIcon.ThemeIcon.ListAdd, QStyle.StandardPixmap.SP_FileDialogListView),
        }
        names = {"folders": "Folders", "library": "Library", "search": "Search Model",
                 "faces": "Faces", "device": "Device", "captions": "Captions",
                 "writeback": "Write-Back", "plugins": "Plugins"}

        self.sidebar = QListWidget()
        self.sidebar.setFrameShape(QFrame.Shape.NoFrame)
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setSpacing(2)
        self.sidebar.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sidebar.setFixedWidth(200)
        self.sidebar.setAccessibleName("Settings pages")
        self.stack = QStackedWidget()
        for key in self.PAGES:
            item = QListWidgetItem(theme_icon(self, *icons[key]), names[key])
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setSizeHint(QSize(0, 34))
            self.sidebar.addItem(item)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(self.pages[key])
            self.stack.addWidget(scroll)
        self._sidebar_palette()
        self.sidebar.currentRowChanged.connect(self._page_changed)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        side = QVBoxLayout()
        side.setContentsMargins(8, 10, 6, 0)
        side.addWidget(self.sidebar)
        content = QHBoxLayout()
        content.setContentsMargins(0, 0, 0, 0)
        content.setSpacing(0)
        content.addLayout(side)
        content.addWidget(line)
        content.addWidget(self.stack, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 10)
        layout.setSpacing(8)
        layout.addLayout(content, 1)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(12, 0, 16, 0)
        bottom.addWidget(close)
        layout.addLayout(bottom)

        self.folders.roots_changed.connect(self.roots_changed)
        self.folders.roots_changed.connect(self.library.load)
        self.search.models.changed.connect(self.models_changed)
        self.faces.packs.changed.connect(self.models_changed)
        self.faces.faces_toggled.connect(lambda _on: self.models_changed.emit())
        self.faces.people_changed.connect(self.people_changed)
        self.captions.captions_changed.connect(self.captions_changed)
        self.models_changed.connect(self._forget_device)

        settings = app_settings()
        geometry = settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(940, 660)
        start = str(settings.value(PAGE_KEY, "folders"))
        self.refresh()
        self.show_page(start if start in self.pages else "folders")

    def refresh(self) -> None:
        """Read every page again (the Device page when it is next shown)."""
        for key, page in self.pages.items():
            if key != "device":
                page.load()
        if self.current_page() == "device":
            self.device.load()

    def show_page(self, key: str) -> None:
        if key not in self.pages:
            raise ValueError(f"no settings page {key!r} (pages: {', '.join(self.PAGES)})")
        self.sidebar.setCurrentRow(self.PAGES.index(key))
        self._page_changed(self.PAGES.index(key))

    def current_page(self) -> str:
        row = self.sidebar.currentRow()
        return self.PAGES[row] if 0 <= row < len(self.PAGES) else "folders"

    def _page_changed(self, row: int) -> None:
        if not 0 <= row < len(self.PAGES):
            return
        self.stack.setCurrentIndex(row)
        if self.PAGES[row] == "device":
            self.device.load()

    def _forget_device(self) -> None:
        # The search model line of the Device page changes with the model.
        self.device.info = None
        if self.current_page() == "device":
            self.device.load()

    def _sidebar_palette(self) -> None:
        # The sidebar sits on the window's colour (as in system settings apps), not on the
        # white of a list; it follows light and dark palettes.
        palette = self.sidebar.palette()
        palette.setColor(QPalette.ColorRole.Base, self.palette().color(QPalette.ColorRole.Window))
        self.sidebar.setPalette(palette)

    def changeEvent(self, event: Any) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._sidebar_palette()

    def hideEvent(self, event: Any) -> None:
        settings = app_settings()
        settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(PAGE_KEY, self.current_page())
        settings.sync()
        super().hideEvent(event)
