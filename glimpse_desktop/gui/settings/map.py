"""Settings, Library › Map: street maps from a tile server, off until the person turns them
on, with what that reveals said in plain words."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import Setting
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.settings.common import Notice, run_task, wrapped
from glimpse_desktop.gui.tasks import Tasks, describe

__all__ = ["MAP_SETTINGS", "MapSettings"]

# The settings this box edits (the Plugins page leaves them out).
MAP_SETTINGS = frozenset({"map.tiles", "map.tile_url"})


class MapSettings(QGroupBox):
    """Street maps on or off, and where their tiles come from."""

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__("Map", parent)
        self.lib, self.tasks = lib, tasks
        layout = QVBoxLayout(self)
        layout.addWidget(wrapped("The map draws coasts and country borders kept on this "
                                 "computer. It can also show street maps.", secondary=True))
        self.tiles = QCheckBox("Show street maps from OpenStreetMap")
        self.tiles.toggled.connect(lambda on: self._set("map.tiles", on))
        layout.addWidget(self.tiles)
        layout.addWidget(wrapped(
            "Street maps come from OpenStreetMap's servers: each tile request tells them which "
            "area you are looking at (and your computer's address). Tiles are kept on this "
            "computer for a week, so an area looked at again is not asked for again. Your "
            "photos and their places are never sent.", secondary=True))
        row = QHBoxLayout()
        row.addWidget(QLabel("Tile address:"))
        self.url = QLineEdit()
        self.url.setToolTip("A tile server's address with {z}, {x} and {y} in it")
        self.url.editingFinished.connect(self._url_edited)
        row.addWidget(self.url, 1)
        self.reset = QPushButton("Use OpenStreetMap")
        self.reset.setToolTip("Use OpenStreetMap's tile server again")
        self.reset.clicked.connect(self._reset_url)
        row.addWidget(self.reset)
        layout.addLayout(row)
        layout.addWidget(wrapped("© OpenStreetMap contributors is shown on the map while "
                                 "street maps are on.", secondary=True))
        self.notice = Notice(self)
        layout.addWidget(self.notice)
        self._loading = False
        self._default = ""

    def load(self) -> None:
        def read() -> tuple[Setting, Setting]:
            return (self.lib.config.describe("map.tiles"),
                    self.lib.config.describe("map.tile_url"))

        run_task(self, self.tasks, read, done=self._show,
                 failed=lambda exc: self.notice.warn(describe(exc)), read=True)

    def _show(self, found: tuple[Setting, Setting]) -> None:
        tiles, url = found
        self._loading = True
        self.tiles.setChecked(bool(tiles.value))
        self.url.setText(str(url.value))
        self._default = str(url.default)
        self.url.setPlaceholderText(self._default)
        self._loading = False

    def _set(self, name: str, value: object) -> None:
        if self._loading:
            return
        run_task(self, self.tasks, lambda: self.lib.config.set(name, value),
                 failed=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(describe(exc))
        self.load()

    def _url_edited(self) -> None:
        text = self.url.text().strip()
        if not text:
            self._reset_url()
            return
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in text]
        if missing:
            self.notice.warn(f"The tile address needs {', '.join(missing)} in it.")
            return
        self.notice.clear()
        self._set("map.tile_url", text)

    def _reset_url(self) -> None:
        self.url.setText(self._default)
        self.notice.clear()
        run_task(self, self.tasks, lambda: self.lib.config.unset("map.tile_url"),
                 failed=self._failed)
