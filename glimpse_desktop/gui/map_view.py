"""Map: where the photos were taken, as clustered markers on a world map drawn from the
outlines Glimpse ships; street maps from OpenStreetMap only when the person turned them on.

The page asks the library for the clusters of the zoom and area on screen off the GUI thread
(``lib.map.clusters``), with the ids of their photos' thumbnails, and keeps the answer while
the view stays inside the area asked for. Street tiles are fetched by a pool of their own (a
slow tile server never holds up the window's reads), and only while ``map.tiles`` is on:
with it off, nothing on this page opens a connection.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import (
    TILE_ATTRIBUTION,
    MapArea,
    MapCluster,
    MapCounts,
    MapView,
    TileSource,
)
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.map_canvas import STREET_TILES, MapCanvas
from glimpse_desktop.gui.pages import dimmed, title_font
from glimpse_desktop.gui.photo_model import ThumbnailCache
from glimpse_desktop.gui.tasks import Tasks, describe

__all__ = ["TILES_NOTICE", "MapPage"]

TILES_NOTICE = ("Street maps come from OpenStreetMap's servers: each tile request tells them "
                "which area you are looking at. Without them the map shows coasts and "
                "borders kept on this computer, and asks nothing of anyone.")
# Clusters are asked for an area this much larger than the screen on each side, so a short
# pan needs no new answer.
MARGIN = 0.5


class MapPage(QWidget):
    """The Map view. ``open_photo``: a single photo's marker was clicked; ``show_photos``:
    (title, ids) to show in the results grid (an area chosen, a cluster of one spot)."""

    open_photo = Signal(int)
    show_photos = Signal(str, list)

    def __init__(self, lib: Library, tasks: Tasks, thumbnails: ThumbnailCache,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks, self.thumbnails = lib, tasks, thumbnails
        self.counts: MapCounts | None = None
        self.view: MapView | None = None
        self.hashes: dict[int, str] = {}
        self.tiles: TileSource | None = None
        self._asked: tuple[int, MapArea] | None = None
        self._generation = 0
        self._street: OrderedDict[tuple[int, int, int], QPixmap] = OrderedDict()
        self._fetching: set[tuple[int, int, int]] = set()
        self._missing: set[tuple[int, int, int]] = set()
        # Tile requests have threads of their own: a slow server never delays the window.
        self.tile_tasks = Tasks(self, readers=4)
        self.canvas = MapCanvas(self)
        self.canvas.thumbnail = self._thumbnail

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        head = QHBoxLayout()
        head.setContentsMargins(16, 10, 16, 6)
        title = QLabel("Map")
        title.setFont(title_font(self))
        self.subtitle = dimmed(QLabel(""))
        # Wraps rather than widening the window: the counts alone made it wider than 800 px.
        self.subtitle.setWordWrap(True)
        head.addWidget(title)
        head.addSpacing(12)
        head.addWidget(self.subtitle, 1)
        self.select_button = self._tool("Select Area", "Drag a rectangle to see the photos "
                                        "taken there (or Shift-drag at any time)")
        self.select_button.setCheckable(True)
        self.select_button.toggled.connect(self._select_mode)
        self.world_button = self._tool("Whole World", "Show the whole world (Home)")
        self.world_button.clicked.connect(lambda: self.canvas.whole_world())
        self.out_button = self._tool("−", "Zoom out (−, or the mouse wheel)")
        self.out_button.clicked.connect(lambda: self.canvas.zoom_at(-1))
        self.in_button = self._tool("+", "Zoom in (+, or the mouse wheel)")
        self.in_button.clicked.connect(lambda: self.canvas.zoom_at(1))
        self.street_button = self._tool("Street Map", TILES_NOTICE)
        self.street_button.setCheckable(True)
        self.street_button.toggled.connect(self._street_toggled)
        for button in (self.select_button, self.world_button, self.out_button,
                       self.in_button, self.street_button):
            head.addWidget(button)
        layout.addLayout(head)
        layout.addWidget(self.canvas, 1)

        self.canvas.view_changed.connect(self._view_changed)
        self.canvas.open_photo.connect(self.open_photo)
        self.canvas.area_chosen.connect(self.show_area)
        self.canvas.cluster_photos.connect(self._cluster_photos)
        thumbnails.ready.connect(self._thumbnail_ready)
        self._first = True
        # Photos read or changed while the map is shown: once for a burst (a big library's
        # points take a moment to read again).
        self._again = QTimer(self, singleShot=True, interval=3000)
        self._again.timeout.connect(lambda: self.refresh() if self.isVisible() else None)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Back from the Settings window (street maps may have been turned on or off there).
        if event.type() == QEvent.Type.ActivationChange and self.isVisible() \
                and self.window().isActiveWindow():
            self.tasks.run(self.lib.map.tiles, self._set_tiles, self._failed, read=True)

    def _tool(self, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    # ------------------------------------------------------------------ reading

    def refresh(self) -> None:
        """Read the counts and the tile setting again, and the clusters on screen."""
        def read() -> tuple[MapCounts, TileSource | None]:
            return self.lib.map.counts(), self.lib.map.tiles()

        self.tasks.run(read, self._read, self._failed, read=True)
        if self._first:
            self._first = False
            QTimer.singleShot(0, self.canvas.whole_world)
        self._asked = None
        self._view_changed()

    def refresh_if_shown(self) -> None:
        """The library changed: read again soon, if the map is on screen."""
        if self.isVisible() and not self._again.isActive():
            self._again.start()

    def _read(self, found: tuple[MapCounts, TileSource | None]) -> None:
        counts, tiles = found
        self.counts = counts
        self.subtitle.setText(f"Photos on the map: {counts.on_map:,}, without a place: "
                              f"{counts.without:,}")
        self.canvas.message = "" if counts.on_map else (
            "No photo has a place yet. Photos from phones and cameras that record where "
            "they were taken appear here.")
        self._set_tiles(tiles)
        self.canvas.update()

    def _failed(self, exc: BaseException) -> None:
        self.subtitle.setText(f"⚠ {describe(exc)}")

    def _view_changed(self) -> None:
        visible = self.canvas.visible_area()
        zoom = self.canvas.zoom
        if self._asked is not None and self._asked[0] == zoom and _inside(visible,
                                                                          self._asked[1]):
            return
        area = _grown(visible, MARGIN)
        self._asked = (zoom, area)
        self._generation += 1
        generation = self._generation

        def read() -> tuple[MapView, dict[int, str]]:
            view = self.lib.map.clusters(zoom, area)
            rows = self.lib.photo_rows([c.photo_id for c in view.clusters])
            return view, {row.id: row.content_hash for row in rows}

        def shown(found: tuple[MapView, dict[int, str]]) -> None:
            if generation != self._generation:
                return                     # the view moved on while this was read
            self.view, self.hashes = found
            self.canvas.set_clusters(self.view.clusters)

        self.tasks.run(read, shown, self._failed, read=True)

    # ------------------------------------------------------------------ thumbnails

    def _thumbnail(self, photo_id: int) -> QPixmap | None:
        content_hash = self.hashes.get(photo_id)
        return None if content_hash is None else self.thumbnails.get(photo_id, content_hash)

    def _thumbnail_ready(self, content_hash: str) -> None:
        if self.isVisible() and content_hash in self.hashes.values():
            self.canvas.update()

    # ------------------------------------------------------------------ areas

    def show_area(self, area: MapArea, title: str = "Photos in the chosen area") -> None:
        """The photos taken within ``area``, in the results grid."""
        self.select_button.setChecked(False)
        self.tasks.run(lambda: self.lib.map.photos_in(area),
                       lambda ids: self.show_photos.emit(title, ids), self._failed,
                       read=True)

    def _cluster_photos(self, cluster: MapCluster) -> None:
        self.show_area(MapArea(cluster.south, cluster.west, cluster.north, cluster.east),
                       "Photos taken here")

    def _select_mode(self, on: bool) -> None:
        self.canvas.selecting = on
        self.canvas.setFocus()

    # ------------------------------------------------------------------ street tiles

    def _street_toggled(self, on: bool) -> None:
        if on == (self.tiles is not None):
            return
        if on:
            answer = QMessageBox.question(
                self, "Show street maps?", TILES_NOTICE + "\n\nTurn street maps on? (Settings "
                "› Library turns them off again.)")
            if answer != QMessageBox.StandardButton.Yes:
                self.street_button.setChecked(False)
                return

        def change() -> TileSource | None:
            self.lib.config.set("map.tiles", on)
            return self.lib.map.tiles()

        self.tasks.run(change, self._set_tiles, self._failed)

    def _set_tiles(self, tiles: TileSource | None) -> None:
        changed = (tiles is None) != (self.tiles is None) or (
            tiles is not None and self.tiles is not None
            and tiles.url_template != self.tiles.url_template)
        self.tiles = tiles
        self.street_button.blockSignals(True)
        self.street_button.setChecked(tiles is not None)
        self.street_button.blockSignals(False)
        if changed:
            self._street.clear()
            self._missing.clear()
        self.canvas.street_tile = self._street_tile if tiles is not None else None
        self.canvas.attribution = TILE_ATTRIBUTION if tiles is not None else ""
        self.canvas.update()

    def _street_tile(self, z: int, x: int, y: int) -> QPixmap | None:
        key = (z, x, y)
        pixmap = self._street.get(key)
        if pixmap is not None:
            self._street.move_to_end(key)
            return pixmap
        source = self.tiles
        if source is None or key in self._fetching or key in self._missing:
            return None
        self._fetching.add(key)

        def fetch() -> QImage | None:
            if self.tiles is not source:
                return None                  # turned off (or moved) while this waited
            data = source.tile(z, x, y)
            if data is None:
                return None
            image = QImage.fromData(data)
            return None if image.isNull() else image

        def fetched(image: QImage | None) -> None:
            self._fetching.discard(key)
            if self.tiles is not source:
                return                       # turned off, or pointed elsewhere, meanwhile
            if image is None:
                self._missing.add(key)
                return
            self._street[key] = QPixmap.fromImage(image)
            while len(self._street) > STREET_TILES:
                self._street.popitem(last=False)
            if key[0] == self.canvas.zoom:
                self.canvas.update()

        def failed(_exc: BaseException) -> None:
            self._fetching.discard(key)
            self._missing.add(key)

        self.tile_tasks.run(fetch, fetched, failed, read=True)
        return None


def _inside(inner: MapArea, outer: MapArea) -> bool:
    return (outer.south <= inner.south and inner.north <= outer.north
            and outer.west <= inner.west and inner.east <= outer.east)


def _grown(area: MapArea, by: float) -> MapArea:
    dlat, dlon = (area.north - area.south) * by, (area.east - area.west) * by
    return MapArea(max(-90.0, area.south - dlat), max(-180.0, area.west - dlon),
                   min(90.0, area.north + dlat), min(180.0, area.east + dlon))
