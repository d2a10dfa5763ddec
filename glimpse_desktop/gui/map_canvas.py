"""The map itself: a Web Mercator view drawn with QPainter, its land and borders from the
outlines Glimpse ships (or street tiles when the person turned them on), and the photos'
clusters on top.

Drawing is in 256-pixel tiles, as every web map is: an outline tile is drawn once per zoom
(only the rings whose bounds meet it) and kept, so panning is a blit. Markers come from the
page (computed off the GUI thread); this widget only says which part of the world it shows
(``view_changed``) and what the person did: opened a photo, zoomed into a cluster, chose an
area.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from glimpse_desktop.api import (
    MAP_MAX_ZOOM,
    MapArea,
    MapCluster,
    MapOutlines,
    lat_lon,
    map_outlines,
    world_xy,
)

TILE = 256
# Outline tiles kept (a few screens at a few zooms); street tiles likewise.
OUTLINE_TILES = 400
STREET_TILES = 400
# The 1:110m outlines up to this zoom, the 1:50m ones beyond.
COARSE_UNTIL = 2

__all__ = ["STREET_TILES", "MapCanvas", "OutlineTiles", "Palette"]
# From this zoom the shipped outlines are coarser than the screen: the map says so.
DETAIL_ENDS = 9
APPROXIMATE = "Coasts and borders are approximate at this scale (Street Map shows streets)"
# A press that moves less than this is a click, not a drag.
CLICK_SLOP = 5


class Palette:
    """The map's colours, light or dark after the window's."""

    def __init__(self, dark: bool) -> None:
        if dark:
            self.sea, self.land = QColor("#1d2733"), QColor("#2f3437")
            self.coast, self.border = QColor("#5b6872"), QColor("#6f6a61")
            self.text = QColor("#d8dde2")
        else:
            self.sea, self.land = QColor("#cfdde8"), QColor("#f3f0e8")
            self.coast, self.border = QColor("#98a9b6"), QColor("#c4b3a0")
            self.text = QColor("#3a4550")
        self.marker = QColor("#ffffff")
        self.badge = QColor("#d9482b")
        self.select = QColor(42, 118, 210)


class OutlineTiles:
    """Land and borders drawn into 256-pixel tiles, kept per (zoom, x, y)."""

    def __init__(self, palette: Palette) -> None:
        self.palette = palette
        self._levels: dict[str, tuple[list[tuple[QRectF, QPainterPath]],
                                      list[tuple[QRectF, QPolygonF]]]] = {}
        self._tiles: OrderedDict[tuple[int, int, int], QPixmap] = OrderedDict()

    def set_palette(self, palette: Palette) -> None:
        self.palette = palette
        self._tiles.clear()

    def _level(self, name: str) -> tuple[list[tuple[QRectF, QPainterPath]],
                                         list[tuple[QRectF, QPolygonF]]]:
        found = self._levels.get(name)
        if found is None:
            outlines: MapOutlines = map_outlines(name)
            land = []
            for ring in outlines.land:
                poly = QPolygonF([QPointF(ring[i], ring[i + 1]) for i in range(0, len(ring), 2)])
                path = QPainterPath()
                path.addPolygon(poly)
                path.closeSubpath()
                land.append((poly.boundingRect(), path))
            borders = []
            for line in outlines.borders:
                poly = QPolygonF([QPointF(line[i], line[i + 1]) for i in range(0, len(line), 2)])
                borders.append((poly.boundingRect(), poly))
            found = (land, borders)
            self._levels[name] = found
        return found

    def tile(self, z: int, x: int, y: int) -> QPixmap:
        key = (z, x, y)
        pixmap = self._tiles.get(key)
        if pixmap is not None:
            self._tiles.move_to_end(key)
            return pixmap
        pixmap = QPixmap.fromImage(self._draw(z, x, y))
        self._tiles[key] = pixmap
        while len(self._tiles) > OUTLINE_TILES:
            self._tiles.popitem(last=False)
        return pixmap

    def _draw(self, z: int, x: int, y: int) -> QImage:
        n = 1 << z
        image = QImage(TILE, TILE, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(self.palette.sea)
        land, borders = self._level("110m" if z <= COARSE_UNTIL else "50m")
        # A little beyond the tile, so that a coast's stroke is not cut at the tile's edge.
        pad = 2.0 / (n * TILE)
        box = QRectF(x / n - pad, y / n - pad, 1 / n + 2 * pad, 1 / n + 2 * pad)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        transform = QTransform()
        transform.translate(-x * TILE, -y * TILE)
        transform.scale(n * TILE, n * TILE)
        painter.setTransform(transform)
        # Rings drawn even-odd as one path: a lake (a ring inside a ring) stays water.
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.OddEvenFill)
        for bounds, ring in land:
            if bounds.intersects(box):
                path.addPath(ring)
        coast = QPen(self.palette.coast, 1.0)
        coast.setCosmetic(True)
        painter.setPen(coast)
        painter.setBrush(self.palette.land)
        painter.drawPath(path)
        border = QPen(self.palette.border, 1.0 if z >= 4 else 0.8)
        border.setCosmetic(True)
        painter.setPen(border)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for bounds, line in borders:
            if bounds.intersects(box):
                painter.drawPolyline(line)
        painter.end()
        return image


class MapCanvas(QWidget):
    """The world in Web Mercator at a whole zoom level, centred on ``center`` (fractions of
    the world). Wheel or pinch zooms around the pointer, a drag pans, a click on a cluster
    zooms into it, a click on a single photo opens it, a Shift-drag (or any drag while
    ``selecting``) chooses an area."""

    view_changed = Signal()
    open_photo = Signal(int)
    area_chosen = Signal(object)            # MapArea
    cluster_photos = Signal(object)         # MapCluster too close to zoom apart

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 150)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.grabGesture(Qt.GestureType.PinchGesture)
        self.zoom = 2
        self.center = (0.5, 0.45)
        self.clusters: tuple[MapCluster, ...] = ()
        self.selecting = False
        self.message = ""
        self.attribution = ""
        # photo id -> its thumbnail, None while it loads (the page fills this in).
        self.thumbnail: Callable[[int], QPixmap | None] = lambda _id: None
        # (z, x, y) -> a street tile, None when there is none (yet); None: tiles are off.
        self.street_tile: Callable[[int, int, int], QPixmap | None] | None = None
        self.palette_ = Palette(self._dark())
        self.outlines = OutlineTiles(self.palette_)
        self._press: QPointF | None = None
        self._press_center = self.center
        self._dragged = False
        self._band: QRectF | None = None
        self._wheel = 0
        self._pinch = 0.0
        self._placed: list[tuple[QPointF, float, MapCluster]] = []
        self._announce = QTimer(self, singleShot=True, interval=60)
        self._announce.timeout.connect(self.view_changed)

    # ------------------------------------------------------------------ geometry

    def world_px(self, zoom: int | None = None) -> float:
        return float(TILE << (self.zoom if zoom is None else zoom))

    def min_zoom(self) -> int:
        """The largest zoom at which the whole width of the world is on screen (never
        smaller: no tiny globe in a sea of margin)."""
        return max(0, min(MAP_MAX_ZOOM, math.floor(math.log2(max(TILE, self.width()) / TILE))))

    def to_screen(self, wx: float, wy: float) -> QPointF:
        size = self.world_px()
        return QPointF((wx - self.center[0]) * size + self.width() / 2,
                       (wy - self.center[1]) * size + self.height() / 2)

    def to_world(self, point: QPointF) -> tuple[float, float]:
        size = self.world_px()
        return (self.center[0] + (point.x() - self.width() / 2) / size,
                self.center[1] + (point.y() - self.height() / 2) / size)

    def visible_area(self) -> MapArea:
        """The part of the world on screen (held to the world's edges)."""
        x0, y0 = self.to_world(QPointF(0, 0))
        x1, y1 = self.to_world(QPointF(self.width(), self.height()))
        return _area(x0, y0, x1, y1)

    def _clamp(self) -> None:
        size = self.world_px()
        cx, cy = self.center
        half_w, half_h = self.width() / 2 / size, self.height() / 2 / size
        cx = 0.5 if half_w >= 0.5 else min(max(cx, half_w), 1 - half_w)
        cy = 0.5 if half_h >= 0.5 else min(max(cy, half_h), 1 - half_h)
        self.center = (cx, cy)

    def set_view(self, zoom: int, center: tuple[float, float]) -> None:
        """Show ``zoom`` (held within the map's) around ``center`` (fractions of the world)."""
        self.zoom = max(self.min_zoom(), min(MAP_MAX_ZOOM, int(zoom)))
        self.center = center
        self._clamp()
        self.update()
        self._announce.start()

    def zoom_at(self, steps: int, anchor: QPointF | None = None) -> None:
        """Zoom by ``steps`` levels keeping the place under ``anchor`` (default: the middle)
        where it is."""
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        wx, wy = self.to_world(anchor)
        zoom = max(self.min_zoom(), min(MAP_MAX_ZOOM, self.zoom + steps))
        size = float(TILE << zoom)
        center = (wx - (anchor.x() - self.width() / 2) / size,
                  wy - (anchor.y() - self.height() / 2) / size)
        self.set_view(zoom, center)

    def whole_world(self) -> None:
        self.set_view(self.min_zoom(), (0.5, 0.45))

    def fit(self, south: float, west: float, north: float, east: float, *,
            at_least: int = 0) -> None:
        """Show this extent as large as fits (with a margin), at least at zoom ``at_least``."""
        x0, y0 = world_xy(north, west)
        x1, y1 = world_xy(south, east)
        dx, dy = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
        fits = math.log2(min(self.width() * 0.6 / (dx * TILE), self.height() * 0.6 / (dy * TILE)))
        zoom = max(at_least, min(MAP_MAX_ZOOM, math.floor(fits)))
        self.set_view(zoom, ((x0 + x1) / 2, (y0 + y1) / 2))

    # ------------------------------------------------------------------ painting

    def set_clusters(self, clusters: tuple[MapCluster, ...]) -> None:
        self.clusters = clusters
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette_.sea)
        self._paint_tiles(painter)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self._paint_markers(painter)
        if self._band is not None:
            painter.setPen(QPen(self.palette_.select, 1.5))
            fill = QColor(self.palette_.select)
            fill.setAlpha(40)
            painter.setBrush(fill)
            painter.drawRect(self._band)
        if self.message:
            self._paint_message(painter)
        if self.attribution:
            self._paint_attribution(painter)
        elif self.zoom >= DETAIL_ENDS and self.street_tile is None:
            self._paint_attribution(painter, APPROXIMATE)
        painter.end()

    def _paint_tiles(self, painter: QPainter) -> None:
        z, n = self.zoom, 1 << self.zoom
        x0, y0 = self.to_world(QPointF(0, 0))
        x1, y1 = self.to_world(QPointF(self.width(), self.height()))
        for ty in range(max(0, int(y0 * n)), min(n - 1, int(y1 * n)) + 1):
            for tx in range(max(0, int(x0 * n)), min(n - 1, int(x1 * n)) + 1):
                corner = self.to_screen(tx / n, ty / n)
                target = QRectF(round(corner.x()), round(corner.y()), TILE, TILE)
                street = self.street_tile(z, tx, ty) if self.street_tile is not None else None
                painter.drawPixmap(target, street if street is not None
                                   else self.outlines.tile(z, tx, ty), QRectF(0, 0, TILE, TILE))

    def radius(self, cluster: MapCluster) -> float:
        return 20.0 if cluster.count == 1 else min(30.0, 23.0 + 2.0 * math.log10(cluster.count))

    def _paint_markers(self, painter: QPainter) -> None:
        self._placed = []
        margin = 40
        screen = QRectF(-margin, -margin, self.width() + 2 * margin, self.height() + 2 * margin)
        # Fewest photos first, so the biggest clusters are drawn (and hit) on top.
        for cluster in sorted(self.clusters, key=lambda c: (c.count, -c.photo_id)):
            point = self.to_screen(*world_xy(cluster.lat, cluster.lon))
            if not screen.contains(point):
                continue
            r = self.radius(cluster)
            self._placed.append((point, r, cluster))
            self._paint_marker(painter, point, r, cluster)

    def _paint_marker(self, painter: QPainter, at: QPointF, r: float,
                      cluster: MapCluster) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 60))
        painter.drawEllipse(at + QPointF(0, 1.5), r + 1.5, r + 1.5)
        painter.setBrush(self.palette_.marker)
        painter.drawEllipse(at, r, r)
        inner = QRectF(at.x() - r + 2.5, at.y() - r + 2.5, 2 * r - 5, 2 * r - 5)
        pixmap = self.thumbnail(cluster.photo_id)
        if pixmap is not None and not pixmap.isNull():
            clip = QPainterPath()
            clip.addEllipse(inner)
            painter.save()
            painter.setClipPath(clip)
            side = min(pixmap.width(), pixmap.height())
            source = QRectF((pixmap.width() - side) / 2, (pixmap.height() - side) / 2,
                            side, side)
            painter.drawPixmap(inner, pixmap, source)
            painter.restore()
        else:
            painter.setBrush(QColor("#9aa7b2"))
            painter.drawEllipse(inner)
        if cluster.count > 1:
            text = _count_text(cluster.count)
            font = QFont(self.font())
            font.setBold(True)
            font.setPixelSize(11)
            painter.setFont(font)
            width = max(18.0, painter.fontMetrics().horizontalAdvance(text) + 10.0)
            badge = QRectF(at.x() + r * 0.45, at.y() - r - 4, width, 18)
            painter.setPen(QPen(self.palette_.marker, 1.5))
            painter.setBrush(self.palette_.badge)
            painter.drawRoundedRect(badge, 9, 9)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_message(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        painter.setFont(font)
        box = QRectF(self.width() * 0.15, self.height() * 0.38, self.width() * 0.7, 90)
        fill = QColor(self.palette_.land)
        fill.setAlpha(235)
        painter.setPen(QPen(self.palette_.coast, 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(box, 10, 10)
        painter.setPen(self.palette_.text)
        painter.drawText(box.adjusted(16, 8, -16, -8),
                         int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap),
                         self.message)

    def _paint_attribution(self, painter: QPainter, text: str = "") -> None:
        text = text or self.attribution
        font = QFont(self.font())
        font.setPixelSize(11)
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(text) + 12
        box = QRectF(self.width() - width, self.height() - 18, width, 18)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 200))
        painter.drawRect(box)
        painter.setPen(QColor("#333333"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _dark(self) -> bool:
        return self.palette().window().color().lightness() < 128

    # ------------------------------------------------------------------ interaction

    def cluster_at(self, point: QPointF) -> MapCluster | None:
        """The topmost marker under ``point``."""
        for at, r, cluster in reversed(self._placed):
            if math.hypot(point.x() - at.x(), point.y() - at.y()) <= r + 2:
                return cluster
        return None

    def activate(self, cluster: MapCluster) -> None:
        """What a click on a marker does: a photo opens; a cluster is zoomed into until its
        photos stand apart; one that cannot be zoomed apart (taken at one spot) shows its
        photos."""
        if cluster.count == 1:
            self.open_photo.emit(cluster.photo_id)
        elif self.zoom >= MAP_MAX_ZOOM:
            self.cluster_photos.emit(cluster)
        else:
            self.fit(cluster.south, cluster.west, cluster.north, cluster.east,
                     at_least=self.zoom + 1)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._press = event.position()
        self._press_center = self.center
        self._dragged = False
        if self.selecting or event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._band = QRectF(self._press, self._press)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            over = self.cluster_at(event.position())
            self.setCursor(Qt.CursorShape.PointingHandCursor if over is not None
                           else Qt.CursorShape.CrossCursor if self.selecting
                           else Qt.CursorShape.OpenHandCursor)
            return
        delta = event.position() - self._press
        if abs(delta.x()) + abs(delta.y()) > CLICK_SLOP:
            self._dragged = True
        if self._band is not None:
            self._band = QRectF(self._press, event.position()).normalized()
            self.update()
            return
        if self._dragged:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            size = self.world_px()
            self.center = (self._press_center[0] - delta.x() / size,
                           self._press_center[1] - delta.y() / size)
            self._clamp()
            self.update()
            self._announce.start()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return
        band, self._band = self._band, None
        dragged, self._press = self._dragged, None
        self.setCursor(Qt.CursorShape.CrossCursor if self.selecting
                       else Qt.CursorShape.OpenHandCursor)
        if band is not None and dragged:
            self.update()
            self.area_chosen.emit(self.area_of(band))
            return
        self.update()
        if not dragged:
            cluster = self.cluster_at(event.position())
            if cluster is not None:
                self.activate(cluster)

    def area_of(self, rect: QRectF) -> MapArea:
        """The part of the world under a rectangle of the widget."""
        x0, y0 = self.to_world(rect.topLeft())
        x1, y1 = self.to_world(rect.bottomRight())
        return _area(x0, y0, x1, y1)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.cluster_at(event.position()) is None and not self.selecting:
            self.zoom_at(1, event.position())

    def wheelEvent(self, event: QWheelEvent) -> None:
        # A notch is 120; a touchpad sends many small deltas: one level per notch's worth.
        self._wheel += event.angleDelta().y()
        steps = int(self._wheel / 120)
        if steps:
            self._wheel -= steps * 120
            self.zoom_at(steps, event.position())
        event.accept()

    def event(self, event: object) -> bool:
        if isinstance(event, QNativeGestureEvent) and \
                event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
            self._pinch += event.value()
            if abs(self._pinch) >= 0.5:
                self.zoom_at(1 if self._pinch > 0 else -1, event.position())
                self._pinch = 0.0
            return True
        return super().event(event)  # type: ignore[arg-type]

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        size = self.world_px()
        step_x, step_y = self.width() / 4 / size, self.height() / 4 / size
        moves = {Qt.Key.Key_Left: (-step_x, 0.0), Qt.Key.Key_Right: (step_x, 0.0),
                 Qt.Key.Key_Up: (0.0, -step_y), Qt.Key.Key_Down: (0.0, step_y)}
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_at(1)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_at(-1)
        elif key == Qt.Key.Key_Home:
            self.whole_world()
        elif key in moves:
            dx, dy = moves[Qt.Key(key)]
            self.set_view(self.zoom, (self.center[0] + dx, self.center[1] + dy))
        elif key == Qt.Key.Key_Escape and (self.selecting or self._band is not None):
            self._band, self._press = None, None
            self.selecting = False
            self.update()
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.zoom < self.min_zoom():
            self.zoom = self.min_zoom()
        self._clamp()
        self._announce.start()

    def changeEvent(self, event: object) -> None:
        super().changeEvent(event)  # type: ignore[arg-type]
        if not hasattr(self, "outlines"):
            return                           # a change during __init__, before the map
        dark = self._dark()
        if dark != (self.palette_.sea.lightness() < 128):
            self.palette_ = Palette(dark)
            self.outlines.set_palette(self.palette_)
            self.update()


def _area(x0: float, y0: float, x1: float, y1: float) -> MapArea:
    north, west = lat_lon(min(max(x0, 0.0), 1.0), y0)
    south, east = lat_lon(min(max(x1, 0.0), 1.0), y1)
    return MapArea(max(-90.0, min(south, north)), max(-180.0, min(west, east)),
                   min(90.0, max(south, north)), min(180.0, max(west, east)))


def _count_text(n: int) -> str:
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")

