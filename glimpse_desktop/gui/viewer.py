"""The photo viewer: one photo large, its details beside it, the faces in it named in place.

- The image is the cached 1280 px preview first (made off the GUI thread when missing); when
  zoom asks for more pixels than the preview has, the original is decoded at full resolution
  off the GUI thread and drawn instead from then on, in the same place: the scene is laid out
  in the original's pixels, so swapping images never moves the view. The next and previous
  photos' previews are read ahead, so stepping through photos is instant.
- Everything read from the library (the photo's details, its faces, names) and every action
  (naming a face, "not this person") runs through ``Tasks``; results come back to the GUI
  thread, and a result for a photo no longer shown is dropped.
- Faces are boxes with the person's name; a click on one offers to name it, to say it is not
  that person, or to show every photo of them. Errors from the library are shown, never
  swallowed.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractItemModel,
    QDate,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    QSizeF,
    Qt,
    QTime,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QCursor,
    QDesktopServices,
    QFont,
    QFontMetricsF,
    QIcon,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QShortcut,
    QShowEvent,
    QTextOption,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QCompleter,
    QFrame,
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyleOptionGraphicsItem,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api.library import Library, LibraryError
from glimpse_desktop.gui.photo_model import PhotoIdRole
from glimpse_desktop.gui.tasks import Tasks, describe

ZOOM_MAX = 8.0           # 800 %: enough to check focus on a single eyelash
ZOOM_STEP = 1.25
# The original is decoded at most this large on the long edge: beyond it a photo would cost
# gigabytes as a QImage, and 16k px already shows more detail than any screen at 100 %.
FULL_MAX_EDGE = 16384
READ_AHEAD = 6           # previews kept for photos around the current one
PANEL_WIDTH = 320
LONG_TEXT = 280          # characters of a caption or description shown before "Show more"


# ---------------------------------------------------------------------------------- helpers

def _alive(obj: object) -> bool:
    """A callback may arrive after its widget was closed and deleted."""
    return shiboken6.isValid(obj)


def _icon(name: str, color: QColor, size: int = 20) -> QIcon:
    """Small line icons drawn here, crisp at any scale and in the palette's own colour (the
    platform's icon theme is not there on every system)."""
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(color, 1.7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    s = float(size)
    c = s / 2
    path = QPainterPath()
    if name == "back":
        path.moveTo(c + 1, c - 5.5)
        path.lineTo(c - 4.5, c)
        path.lineTo(c + 1, c + 5.5)
        path.moveTo(c - 4.5, c)
        path.lineTo(c + 6, c)
    elif name == "left":
        path.moveTo(c + 2.5, c - 6)
        path.lineTo(c - 3.5, c)
        path.lineTo(c + 2.5, c + 6)
    elif name == "right":
        path.moveTo(c - 2.5, c - 6)
        path.lineTo(c + 3.5, c)
        path.lineTo(c - 2.5, c + 6)
    elif name in ("plus", "minus"):
        path.addEllipse(QPointF(c - 1.5, c - 1.5), 5.5, 5.5)
        path.moveTo(c + 2.5, c + 2.5)
        path.lineTo(c + 7, c + 7)
        path.moveTo(c - 4.3, c - 1.5)
        path.lineTo(c + 1.3, c - 1.5)
        if name == "plus":
            path.moveTo(c - 1.5, c - 4.3)
            path.lineTo(c - 1.5, c + 1.3)
    elif name == "faces":
        # A face in a viewfinder's corners.
        for sx, sy in ((-1, -1), (1, -1), (-1, 1), (1, 1)):
            path.moveTo(c + sx * 7.5, c + sy * 3.5)
            path.lineTo(c + sx * 7.5, c + sy * 7.5)
            path.lineTo(c + sx * 3.5, c + sy * 7.5)
        path.addEllipse(QPointF(c, c - 1.2), 2.6, 2.6)
        path.moveTo(c - 4.2, c + 5)
        path.cubicTo(c - 3.2, c + 1.8, c + 3.2, c + 1.8, c + 4.2, c + 5)
    elif name == "info":
        path.addEllipse(QPointF(c, c), 7.5, 7.5)
        path.moveTo(c, c - 0.5)
        path.lineTo(c, c + 4)
        p.drawPath(path)
        p.setBrush(color)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QPointF(c, c - 3.6), 1.1, 1.1)
        path = QPainterPath()
    elif name == "folder":
        path.moveTo(c - 7, c - 4.5)
        path.lineTo(c - 2.5, c - 4.5)
        path.lineTo(c - 1, c - 3)
        path.lineTo(c + 7, c - 3)
        path.lineTo(c + 7, c + 5.5)
        path.lineTo(c - 7, c + 5.5)
        path.closeSubpath()
    elif name == "similar":
        path.addRoundedRect(QRectF(c - 7, c - 7, 9, 9), 1.5, 1.5)
        path.addRoundedRect(QRectF(c - 2, c - 2, 9, 9), 1.5, 1.5)
    elif name == "close":
        path.moveTo(c - 4, c - 4)
        path.lineTo(c + 4, c + 4)
        path.moveTo(c + 4, c - 4)
        path.lineTo(c - 4, c + 4)
    p.drawPath(path)
    p.end()
    return QIcon(pixmap)


def _dim(palette: QPalette) -> QColor:
    """Secondary text: the text colour part-way to the background (readable in both themes)."""
    text = palette.color(QPalette.ColorRole.WindowText)
    window = palette.color(QPalette.ColorRole.Window)
    t = 0.58
    return QColor(round(text.red() * t + window.red() * (1 - t)),
                  round(text.green() * t + window.green() * (1 - t)),
                  round(text.blue() * t + window.blue() * (1 - t)))


def long_date(taken_at: str | None, locale: QLocale | None = None) -> str | None:
    """'Saturday 16 March 2024, 15:02' in the person's own language and order. The time is
    the one on the camera's clock where the photo was taken (not converted to here)."""
    if not taken_at:
        return None
    try:
        when = datetime.fromisoformat(taken_at)
    except ValueError:
        return taken_at
    locale = locale or QLocale()
    date = locale.toString(QDate(when.year, when.month, when.day),
                           QLocale.FormatType.LongFormat)
    time = locale.toString(QTime(when.hour, when.minute, when.second),
                           QLocale.FormatType.ShortFormat)
    return f"{date}, {time}"


def exposure_text(exposure: dict[str, Any] | None) -> str | None:
    """'1/250 s · f/2.8 · ISO 100 · 35 mm' from what the camera recorded (any part missing
    is left out)."""
    if not exposure:
        return None
    parts = []
    t = exposure.get("time")
    if t:
        if t < 1 and round(1 / t) >= 2:
            parts.append(f"1/{round(1 / t)} s")
        else:
            parts.append(f"{round(t, 1):g} s")
    if exposure.get("f_number"):
        parts.append(f"f/{round(float(exposure['f_number']), 1):g}")
    if exposure.get("iso"):
        parts.append(f"ISO {int(exposure['iso'])}")
    if exposure.get("focal_length"):
        parts.append(f"{round(float(exposure['focal_length']), 1):g} mm")
    return " · ".join(parts) or None


def place_text(gps: dict[str, Any] | None) -> str | None:
    """'38.72230° N, 9.13930° W · 50 m'."""
    if not gps or gps.get("lat") is None or gps.get("lon") is None:
        return None
    lat, lon = float(gps["lat"]), float(gps["lon"])
    text = (f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, "
            f"{abs(lon):.5f}° {'E' if lon >= 0 else 'W'}")
    if gps.get("alt") is not None:
        text += f" · {float(gps['alt']):.0f} m"
    return text


def face_label(face: dict[str, Any]) -> str:
    """What a face's box says: the person's name, "Unnamed" for a person not named yet,
    "Unknown" for a face no person holds."""
    if face.get("name"):
        return str(face["name"])
    return "Unnamed" if face.get("person") is not None else "Unknown"


@dataclass
class _Entry:
    """What is known of one photo before it is shown: its details and its preview."""

    info: dict[str, Any]
    preview: QImage | None
    problem: str | None = None    # why there is no preview


def _read_photo(lib: Library, photo_id: int) -> dict[str, Any]:
    info = lib.photo(photo_id)
    if info is None:
        raise LibraryError(f"photo {photo_id} is no longer in the library")
    if "caption" not in info:
        info["caption"] = lib.captions.get(photo_id)
    return info


def _read_preview(lib: Library, info: dict[str, Any]) -> QImage:
    """The preview (made now if missing: a decode), else the grid thumbnail: off the GUI
    thread only."""
    path = lib.thumbnails.path_for(info["content_hash"], "preview")
    if not path.is_file():
        try:
            path = lib.thumbnail(info["id"], "preview")
        except LibraryError:
            # The original is offline or unreadable: the small thumbnail is better than none.
            grid = lib.thumbnails.path_for(info["content_hash"], "grid")
            if not grid.is_file():
                raise
            path = grid
    image = QImage(str(path))
    if image.isNull():
        raise LibraryError(f"cannot read the preview {path}")
    return image.convertToFormat(QImage.Format.Format_RGB32)


def _read_entry(lib: Library, photo_id: int) -> _Entry:
    info = _read_photo(lib, photo_id)
    try:
        return _Entry(info, _read_preview(lib, info))
    except LibraryError as exc:
        return _Entry(info, None, describe(exc))


def _read_full(lib: Library, photo_id: int) -> QImage:
    pil = lib.full_image(photo_id, max_edge=FULL_MAX_EDGE)
    data = pil.tobytes("raw", "RGB")
    image = QImage(data, pil.width, pil.height, pil.width * 3, QImage.Format.Format_RGB888)
    # Converted here, not on the GUI thread: RGB32 is what the raster engine draws fastest.
    return image.convertToFormat(QImage.Format.Format_RGB32)


# ---------------------------------------------------------------------------------- canvas

class _ImageItem(QGraphicsItem):
    """The photo, laid out in the original's pixels. It holds the preview and, once loaded,
    the full-resolution image, and draws whichever has enough pixels for the current zoom
    (the preview when zoomed out: smaller, already smoothly scaled, faster)."""

    def __init__(self) -> None:
        super().__init__()
        self.size = QSizeF(1, 1)
        self.images: list[QImage] = []            # smallest first
        self._scaled: tuple[int, float, QImage] | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    def set(self, size: QSizeF, images: list[QImage]) -> None:
        self.prepareGeometryChange()
        self.size = size
        self.images = sorted((i for i in images if not i.isNull()), key=lambda i: i.width())
        self._scaled = None
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(QPointF(0, 0), self.size)

    def choose(self, device_scale: float) -> QImage | None:
        """The smallest image with at least as many pixels as the screen shows, else the
        largest."""
        for image in self.images:
            if image.width() >= self.size.width() * device_scale * 0.98:
                return image
        return self.images[-1] if self.images else None

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        # Screen pixels per scene unit (on a HiDPI screen, more than the zoom says).
        scale = math.hypot(painter.worldTransform().m11(), painter.worldTransform().m12())
        device = painter.device()
        if device is not None:
            scale *= device.devicePixelRatioF()
        image = self.choose(scale)
        if image is None:
            return
        k = image.width() / self.size.width()          # image pixels per scene unit
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if scale < k * 0.75 and image.width() * image.height() <= 6_000_000:
            # Much smaller than the image: bilinear drawing would alias (shimmering detail),
            # so draw a copy scaled once with a proper filter, kept until the zoom changes.
            w = max(1, round(self.size.width() * scale))
            key = (image.cacheKey(), round(scale, 4))
            if self._scaled is None or self._scaled[:2] != key:
                self._scaled = (*key, image.scaledToWidth(
                    w, Qt.TransformationMode.SmoothTransformation))
            painter.drawImage(self.boundingRect(), self._scaled[2])
            return
        target = option.exposedRect.intersected(self.boundingRect())
        if target.isEmpty():
            return
        source = QRectF(target.x() * k, target.y() * k, target.width() * k, target.height() * k)
        painter.drawImage(target, image, source)


class _FaceLabel(QGraphicsItem):
    """The name under a face box: same size on screen whatever the zoom."""

    PAD_X, PAD_Y = 7.0, 3.0

    def __init__(self, text: str, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.text = text
        self.font = QFont()
        self.font.setPointSizeF(max(8.0, self.font.pointSizeF() * 0.92))
        self.font.setWeight(QFont.Weight.DemiBold)
        self.named = True
        self.hovered = False
        metrics = QFontMetricsF(self.font)
        self.text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, 220)
        self._rect = QRectF(0, 0, metrics.horizontalAdvance(self.text) + 2 * self.PAD_X,
                            metrics.height() + 2 * self.PAD_Y)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 20, 20, 215) if not self.hovered else QColor(0, 0, 0, 240))
        radius = self._rect.height() / 2
        painter.drawRoundedRect(self._rect, radius, radius)
        painter.setFont(self.font)
        painter.setPen(QColor(255, 255, 255) if self.named else QColor(255, 255, 255, 190))
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


class _FaceBox(QGraphicsObject):
    """One face: a box in scene (original pixel) units, its label underneath."""

    def __init__(self, face: dict[str, Any], rect: QRectF, accent: QColor) -> None:
        super().__init__()
        self.face = face
        self.rect = rect
        self.accent = accent
        self.hovered = False
        self.view_scale = 1.0
        self.label = _FaceLabel(face_label(face), self)
        self.label.named = bool(face.get("name"))
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{face_label(face)} — click to name, or to say it is not them")
        self.setZValue(1)

    def place_label(self, view_scale: float) -> None:
        """Centred under the box (the label ignores zoom; its offset is in scene units)."""
        view_scale = max(view_scale, 1e-6)
        if view_scale != self.view_scale:
            self.prepareGeometryChange()      # the lines' margin is in screen pixels
            self.view_scale = view_scale
        w = self.label.boundingRect().width() / view_scale
        self.label.setPos(self.rect.center().x() - w / 2, self.rect.bottom() + 5 / view_scale)

    def boundingRect(self) -> QRectF:
        margin = 4 / self.view_scale
        return self.rect.adjusted(-margin, -margin, margin, margin)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.rect)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        named = bool(self.face.get("name"))
        # A dark halo under a light line: visible on snow and on night shots alike.
        halo = QPen(QColor(0, 0, 0, 110), 4.0)
        halo.setCosmetic(True)
        painter.setPen(halo)
        painter.drawRoundedRect(self.rect, 3, 3)
        colour = self.accent if self.hovered else QColor(255, 255, 255, 235)
        line = QPen(colour, 2.0 if not self.hovered else 2.6)
        line.setCosmetic(True)
        if not named:
            line.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(line)
        painter.drawRoundedRect(self.rect, 3, 3)

    def hoverEnterEvent(self, event: Any) -> None:
        self.hovered = self.label.hovered = True
        self.update()
        self.label.update()

    def hoverLeaveEvent(self, event: Any) -> None:
        self.hovered = self.label.hovered = False
        self.update()
        self.label.update()


class _Notice(QFrame):
    """A message over the top of the photo: a note (original offline) or an error."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("viewerNotice")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 6, 6, 6)
        layout.setSpacing(8)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setIcon(_icon("close", QColor(255, 255, 255)))
        self.close_button.setAutoRaise(True)
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.close_button)
        self.level = "note"
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, level: str = "note", timeout_ms: int = 0) -> None:
        self.level = level
        self.text.setText(text)
        bg = {"error": "rgba(150, 32, 32, 225)", "note": "rgba(24, 24, 24, 210)",
              "done": "rgba(24, 24, 24, 210)"}[level]
        self.setStyleSheet(f"#viewerNotice {{ background: {bg}; border-radius: 10px; }}"
                           "#viewerNotice QLabel { color: white; }"
                           "#viewerNotice QToolButton { border: none; }")
        self._timer.stop()
        if timeout_ms:
            self._timer.start(timeout_ms)
        self.show()
        self.raise_()
        parent = self.parentWidget()
        if parent is not None:
            self.place(parent.size())

    def place(self, size: QSize) -> None:
        width = max(200, min(560, size.width() - 40))
        self.setFixedWidth(width)
        layout = self.layout()
        assert layout is not None
        margins = layout.contentsMargins()
        text_width = (width - margins.left() - margins.right() - layout.spacing()
                      - self.close_button.sizeHint().width())
        self.setFixedHeight(max(self.close_button.sizeHint().height(),
                                self.text.heightForWidth(text_width))
                            + margins.top() + margins.bottom())
        self.move((size.width() - self.width()) // 2, 14)


class _Canvas(QGraphicsView):
    """The photo: fit to the window or zoomed (wheel, keys), dragged to pan, faces on top."""

    zoom_changed = Signal()
    face_clicked = Signal(int, QPoint)      # face id, global position
    toggled_zoom = Signal()                 # double click

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.image = _ImageItem()
        self.scene().addItem(self.image)
        self.boxes: list[_FaceBox] = []
        self.faces_visible = True
        self._fit = True
        self._zoom = 1.0
        self._press: QPoint | None = None
        self._panning = False
        self.loading = False
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._apply_background()

    # ------------------------------------------------------------------ content

    def logical_size(self) -> QSizeF:
        return self.image.size

    def set_images(self, size: QSizeF, images: list[QImage], *, keep_view: bool) -> None:
        """A new photo, fitted to the window, or (``keep_view``) other pixels of the same
        one, which change nothing on screen but the sharpness."""
        keep_view = keep_view and size == self.image.size
        self.image.set(size, images)
        self.scene().setSceneRect(QRectF(QPointF(0, 0), size))
        if not keep_view:
            self.fit()
        self.viewport().update()

    def clear(self) -> None:
        self.image.set(self.image.size, [])
        self.set_faces([])
        self.viewport().update()

    def set_faces(self, faces: list[dict[str, Any]]) -> None:
        for box in self.boxes:
            self.scene().removeItem(box)
        self.boxes = []
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        w, h = self.image.size.width(), self.image.size.height()
        for face in faces:
            x, y, bw, bh = (float(v) for v in face["box"])
            box = _FaceBox(face, QRectF(x * w, y * h, bw * w, bh * h), accent)
            box.setVisible(self.faces_visible)
            self.scene().addItem(box)
            self.boxes.append(box)
        self._layout_boxes()

    def _layout_boxes(self) -> None:
        for box in self.boxes:
            box.place_label(self._zoom)

    def show_faces(self, visible: bool) -> None:
        self.faces_visible = visible
        for box in self.boxes:
            box.setVisible(visible)

    # ------------------------------------------------------------------ zoom

    def zoom(self) -> float:
        """View pixels per original pixel (1.0 = 100 %)."""
        return self._zoom

    def is_fit(self) -> bool:
        return self._fit

    def fit_zoom(self) -> float:
        w, h = self.image.size.width(), self.image.size.height()
        vw, vh = self.viewport().width(), self.viewport().height()
        if w <= 1 or h <= 1 or vw <= 0 or vh <= 0:
            return 1.0
        # Never enlarged past 100 %: a small photo stays sharp, in the middle.
        return min(vw / w, vh / h, 1.0)

    def fit(self) -> None:
        self._fit = True
        self._set_zoom(self.fit_zoom(), None)

    def zoom_to(self, zoom: float, anchor: QPoint | None = None) -> None:
        fit = self.fit_zoom()
        if zoom <= fit * 1.001:
            self._fit = True
            zoom = fit
        else:
            self._fit = False
            zoom = min(zoom, ZOOM_MAX)
        self._set_zoom(zoom, anchor)

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        self.zoom_to(self._zoom * factor, anchor)

    def _set_zoom(self, zoom: float, anchor: QPoint | None) -> None:
        vp = self.viewport().rect()
        if anchor is None:
            anchor = vp.center()
        held = self.mapToScene(anchor)
        self.setTransform(QTransform.fromScale(zoom, zoom))
        self._zoom = zoom
        if self._fit:
            self.centerOn(self.image.boundingRect().center())
        else:
            # The point under the mouse (or the centre) stays where it was.
            moved = self.mapFromScene(held) - anchor
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())
        self._layout_boxes()
        self.viewport().setCursor(Qt.CursorShape.ArrowCursor if self._fit
                                  else Qt.CursorShape.OpenHandCursor)
        self.zoom_changed.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()
        for child in self.findChildren(_Notice):
            if child.isVisible():
                child.place(self.size())

    # ------------------------------------------------------------------ mouse and keys

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if not steps:
            return
        self.zoom_by(ZOOM_STEP ** steps, event.position().toPoint())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self._panning = False
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is not None and event.buttons() & Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            delta = pos - self._press
            if not self._panning and delta.manhattanLength() >= 4 and not self._fit:
                self._panning = True
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            if self._panning:
                self.horizontalScrollBar().setValue(self.horizontalScrollBar().value()
                                                    - delta.x())
                self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
                self._press = pos
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._press is not None:
            was_panning, self._press, self._panning = self._panning, None, False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor if self._fit
                                      else Qt.CursorShape.OpenHandCursor)
            if not was_panning:
                box = self.box_at(event.position().toPoint())
                if box is not None:
                    self.face_clicked.emit(int(box.face["face"]),
                                           event.globalPosition().toPoint())
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.box_at(
                event.position().toPoint()) is None:
            self.toggled_zoom.emit()
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def box_at(self, pos: QPoint) -> _FaceBox | None:
        for item in self.items(pos):
            while item is not None and not isinstance(item, _FaceBox):
                item = item.parentItem()
            if isinstance(item, _FaceBox) and item.isVisible():
                return item
        return None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        event.ignore()        # the viewer's keys; the view must not scroll on arrows

    # ------------------------------------------------------------------ look

    def _apply_background(self) -> None:
        window = self.palette().color(QPalette.ColorRole.Window)
        # Photos look best on a quiet ground: near black in a dark theme, a soft light grey
        # in a light one.
        bg = window.darker(170) if window.lightness() < 128 else window.lighter(104)
        self.setBackgroundBrush(bg)

    def changeEvent(self, event: Any) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._apply_background()

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        if self.loading and not self.image.images:
            painter.save()
            painter.resetTransform()
            painter.setPen(_dim(self.palette()))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, "Loading…")
            painter.restore()


# ---------------------------------------------------------------------------------- panel

class _FlowLayout(QLayout):
    """Chips that wrap onto the next line (tags, keywords)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line > 0:
                x, y, line = rect.x(), y + line + self._spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y()


class _ElidedLabel(QLabel):
    """One line that shortens itself in the middle ("IMG_2024…_HDR.jpg") to the space it has."""

    def __init__(self) -> None:
        super().__init__()
        self.full_text = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideMiddle,
                                                   max(0, self.width())))


class _WrappedPath(QTextEdit):
    """A file path that wraps anywhere (a folder name has no spaces to wrap at), selectable
    and copied exactly as it is (a label would need invisible break characters in it)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.setPlainText(text)
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Never the keyboard's: arrows keep moving between photos.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.document().setDocumentMargin(0)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextEdit { background: transparent; }")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit_height(PANEL_WIDTH - 40)

    def _fit_height(self, width: int) -> None:
        self.document().setTextWidth(max(1, width))
        self.setFixedHeight(math.ceil(self.document().size().height()) + 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height(self.viewport().width())


class _Text(QLabel):
    """A wrapped label that asks its layout for the height its text needs at the panel's
    width (a plain wrapped QLabel in a scroll area asks for a guess, leaving gaps)."""

    def _width(self) -> int:
        return self.width() if self.width() > 40 else PANEL_WIDTH - 40

    def sizeHint(self) -> QSize:
        width = self._width()
        return QSize(width, self.heightForWidth(width) if self.wordWrap()
                     else super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.wordWrap() and self.heightForWidth(self.width()) != self.height():
            self.updateGeometry()


# Texts of a photo as the panel titles them (photo_text fields; names and places have their
# own sections). Keywords and tags are shown as chips.
TEXT_FIELDS = {"caption": "Caption", "description": "Description", "prompt": "Prompt",
               "negative_prompt": "Negative prompt", "ocr": "Text in the photo",
               "generation": "Generation settings"}
CHIP_FIELDS = {"keywords": "Keywords", "tags": "Tags"}


class _InfoPanel(QScrollArea):
    """Everything known of the photo, in the order a person looks for it."""

    person_chosen = Signal(int)
    find_similar = Signal(int)
    caption_edited = Signal(int, str)       # photo id, the new text ("" removes the caption)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewerPanel")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedWidth(PANEL_WIDTH)
        self.info: dict[str, Any] | None = None
        self.faces: list[dict[str, Any]] | None = None
        self.body = QWidget()
        self.body.setObjectName("viewerPanelBody")
        self.layout_ = QVBoxLayout(self.body)
        self.layout_.setContentsMargins(20, 18, 20, 20)
        self.layout_.setSpacing(3)
        self.setWidget(self.body)
        self.texts: dict[str, str] = {}         # what each part shows, as plain text
        self.caption_editor: QPlainTextEdit | None = None
        self._caption_span = (0, 0)             # the layout items the caption part fills
        self._rebuild()

    # ------------------------------------------------------------------ public

    def show_info(self, info: dict[str, Any] | None) -> None:
        self.info = info
        self._rebuild()

    def show_faces(self, faces: list[dict[str, Any]] | None) -> None:
        self.faces = faces
        self._rebuild()

    # ------------------------------------------------------------------ building

    def _clear(self) -> None:
        while self.layout_.count():
            item = self.layout_.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self.texts = {}

    def _caption(self, text: str) -> None:
        label = QLabel(text.upper())
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * 0.78)
        font.setWeight(QFont.Weight.DemiBold)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
        label.setFont(font)
        palette = label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, _dim(self.palette()))
        label.setPalette(palette)
        self.layout_.addSpacing(16)
        self.layout_.addWidget(label)
        self.layout_.addSpacing(2)

    def _text(self, text: str, *, key: str | None = None, dim: bool = False,
              selectable: bool = True, size: float = 1.0, bold: bool = False) -> QLabel:
        label = _Text(text)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        if selectable:
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = label.font()
        if size != 1.0:
            font.setPointSizeF(font.pointSizeF() * size)
        if bold:
            font.setWeight(QFont.Weight.DemiBold)
        label.setFont(font)
        if dim:
            palette = label.palette()
            palette.setColor(QPalette.ColorRole.WindowText, _dim(self.palette()))
            label.setPalette(palette)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.layout_.addWidget(label)
        if key is not None:
            self.texts[key] = text
        return label

    def _long_text(self, text: str, *, key: str, dim: bool, size: float) -> None:
        """A text of any length: a few lines, and the rest a click away."""
        label = self._text(text, key=key, dim=dim, size=size)
        if len(text) <= LONG_TEXT:
            return
        cut = text[:LONG_TEXT].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
        label.setText(cut)
        more = QLabel(f'<a href="more" style="color: {_link_colour(self.palette()).name()};'
                      ' text-decoration: none;">Show more</a>')
        more.setTextFormat(Qt.TextFormat.RichText)

        def expand() -> None:
            label.setText(text)
            more.hide()

        more.linkActivated.connect(lambda _href: expand())
        self.layout_.addWidget(more)

    def _chips(self, words: list[str]) -> None:
        holder = QWidget()
        flow = _FlowLayout(holder)
        base = self.palette().color(QPalette.ColorRole.Window)
        chip_bg = base.lighter(135) if base.lightness() < 128 else base.darker(108)
        for word in words:
            chip = QLabel(word)
            chip.setStyleSheet(f"QLabel {{ background: {chip_bg.name()}; border-radius: 10px;"
                               " padding: 2px 9px; }")
            flow.addWidget(chip)
        self.layout_.addWidget(holder)

    def _button(self, text: str, icon: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(_icon(icon, self.palette().color(QPalette.ColorRole.ButtonText)),
                             text)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(button)
        row.addStretch(1)
        holder = QWidget()
        holder.setLayout(row)
        self.layout_.addSpacing(6)
        self.layout_.addWidget(holder)
        return button

    def _rebuild(self) -> None:
        self.body.setUpdatesEnabled(False)
        self._clear()
        info = self.info
        if info is None:
            self._text("Loading…", dim=True, selectable=False)
            self.layout_.addStretch(1)
            self.body.setUpdatesEnabled(True)
            return
        path = Path(str(info["path"]))
        title = _ElidedLabel()
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        title.set_full_text(path.name)
        title.setToolTip(str(path))
        self.layout_.addWidget(title)
        self.texts["title"] = path.name
        when = long_date(info.get("taken_at"))
        self._text(when or "No date", key="date", dim=when is None)
        extra = []
        taken = str(info.get("taken_at") or "")
        if len(taken) > 19 and taken[19] in "+-Z":
            extra.append("UTC" + (taken[19:] if taken[19] != "Z" else ""))
        if str(info.get("taken_at_source") or "").startswith("file:"):
            extra.append("date of the file (none in the photo)")
        if extra:
            self._text(" · ".join(extra), key="date_note", dim=True, size=0.9)

        if info.get("status") in ("offline", "missing"):
            self._caption("Original")
            self._text("On a drive that is not connected: this is the preview."
                       if info["status"] == "offline" else
                       "The file is gone from its folder: this is the preview.", key="status")

        texts = info.get("texts") or []
        places = [t["value"] for t in texts if t.get("field") == "places" and t.get("value")]
        coords = place_text(info.get("gps"))
        if places or coords:
            self._caption("Place")
            if places:
                self._text(", ".join(dict.fromkeys(str(p) for p in places)), key="place")
            if coords:
                self._text(coords, key="coordinates", dim=bool(places))

        camera = " ".join(str(v) for v in (info.get("camera") or {}).values() if v)
        make = str((info.get("camera") or {}).get("make") or "")
        model = str((info.get("camera") or {}).get("model") or "")
        if make and model.lower().startswith(make.lower().split()[0]):
            camera = model       # "Canon Canon EOS R5" is written "Canon EOS R5"
        exposure = exposure_text(info.get("exposure"))
        if camera or info.get("lens") or exposure:
            self._caption("Camera")
            if camera:
                self._text(camera, key="camera")
            if info.get("lens"):
                self._text(str(info["lens"]), key="lens", dim=True)
            if exposure:
                self._text(exposure, key="exposure")

        self._caption("Image")
        parts = []
        if info.get("width") and info.get("height"):
            w, h = int(info["width"]), int(info["height"])
            parts.append(f"{w:,} × {h:,} · {w * h / 1e6:.1f} MP")
        size_parts = []
        if info.get("size") is not None:
            size = int(info["size"])
            size_parts.append(f"{size / 1e6:.1f} MB" if size >= 100_000
                              else f"{max(1, round(size / 1e3))} KB")
        if info.get("format"):
            size_parts.append(str(info["format"]))
        if size_parts:
            parts.append(" · ".join(size_parts))
        self._text("\n".join(parts) or "Size unknown", key="size")

        people = [f for f in (self.faces or [])]
        if people:
            self._caption("People")
            links, names, unknown, seen = [], [], 0, set()
            link = _link_colour(self.palette()).name()
            for face in people:
                if face.get("person") is None:
                    unknown += 1
                    continue
                if face["person"] in seen:
                    continue
                seen.add(face["person"])
                names.append(face_label(face))
                links.append(f'<a href="person:{int(face["person"])}" style="color: {link};'
                             f' text-decoration: none;">{_escape(face_label(face))}</a>')
            html = ", ".join(links)
            if unknown:
                html += ("<br>" if html else "") + (
                    f"<span>{unknown} face{'s' if unknown > 1 else ''} not yet recognised"
                    "</span>")
            names_label = _Text(html)
            names_label.setTextFormat(Qt.TextFormat.RichText)
            names_label.setWordWrap(True)
            names_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            names_label.linkActivated.connect(self._link)
            names_label.setToolTip("Click a name to see every photo of them")
            self.layout_.addWidget(names_label)
            self.texts["people"] = ", ".join(names) + (f" ({unknown} not recognised)"
                                                       if unknown else "")

        caption = info.get("caption")
        self._caption_section(caption)
        for field, heading in {**TEXT_FIELDS, **CHIP_FIELDS}.items():
            if field == "caption" and caption:
                continue        # shown above, in its own words and fields
            # The same text often comes twice (EXIF and XMP), spaced differently.
            # Tags drawn from the caption are its object and scene chips above already.
            values = list({" ".join(str(t["value"]).split()): str(t["value"]).strip()
                           for t in texts if t.get("field") == field
                           and str(t.get("value") or "").strip()
                           and not (caption and t.get("source") == "caption")}.values())
            if not values:
                continue
            self._caption(heading)
            if field in CHIP_FIELDS:
                words: list[str] = []
                for value in values:
                    for word in value.replace(";", "\n").replace(",", "\n").split("\n"):
                        if word.strip():
                            words.append(word.strip())
                self._chips(list(dict.fromkeys(words)))
                self.texts[field] = ", ".join(dict.fromkeys(words))
            else:
                self._long_text("\n\n".join(values), key=field, dim=field == "generation",
                                size=0.9 if field == "generation" else 1)

        self._caption("File")
        path_view = _WrappedPath(str(path))
        font = path_view.font()
        font.setPointSizeF(font.pointSizeF() * 0.92)
        path_view.setFont(font)
        self.layout_.addWidget(path_view)
        self.texts["path"] = str(path)
        self._button("Show in folder", "folder", self._show_in_folder)

        if info.get("errors"):
            self._caption("Problems")
            for error in info["errors"]:
                label = self._text(f"{error.get('stage')}: {error.get('reason')}",
                                   key="errors")
                palette = label.palette()
                bad = QColor(220, 80, 70) if self.palette().color(
                    QPalette.ColorRole.Window).lightness() < 128 else QColor(170, 30, 30)
                palette.setColor(QPalette.ColorRole.WindowText, bad)
                label.setPalette(palette)

        self.layout_.addSpacing(18)
        similar = self._button("Find similar photos", "similar",
                               lambda: self.find_similar.emit(int(info["id"])))
        similar.setToolTip("Photos that look like this one")
        self.layout_.addStretch(1)
        self.body.setUpdatesEnabled(True)

    def _caption_section(self, caption: dict[str, Any] | None) -> None:
        """The caption: its sentence, the fields a model described, who wrote it, and Edit
        (or "Add a caption" where there is none)."""
        self.caption_editor = None
        first = self.layout_.count()
        self._caption_part(caption)
        self._caption_span = (first, self.layout_.count())

    def _caption_part(self, caption: dict[str, Any] | None) -> None:
        link = _link_colour(self.palette()).name()
        if not caption:
            add = QLabel(f'<a href="edit" style="color: {link}; text-decoration: none;">'
                         "Add a caption…</a>")
            add.setTextFormat(Qt.TextFormat.RichText)
            add.setToolTip("Describe this photo in your own words; search finds them")
            add.linkActivated.connect(lambda _href: self.edit_caption())
            self.layout_.addSpacing(12)
            self.layout_.addWidget(add)
            return
        self._caption("Caption")
        summary = str(caption.get("summary") or "")
        self._long_text(summary, key="caption", dim=False, size=1)
        data = caption.get("data") if isinstance(caption.get("data"), dict) else {}
        assert isinstance(data, dict)
        objects = []
        for item in data.get("objects") or []:
            if isinstance(item, dict) and item.get("label"):
                colour = str(item.get("colour") or item.get("color") or "").strip()
                objects.append(f"{colour} {item['label']}".strip() if colour else
                               str(item["label"]))
            elif isinstance(item, str) and item.strip():
                objects.append(item.strip())
        if objects:
            self._chips(list(dict.fromkeys(objects))[:24])
            self.texts["caption_objects"] = ", ".join(dict.fromkeys(objects))
        details = []
        for key, label in (("scene", "Scene"), ("mood", "Mood")):
            value = data.get(key)
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value if v)
            if value:
                details.append(f"{label}: {value}")
        techniques = data.get("techniques")
        if isinstance(techniques, list) and techniques:
            details.append("Composition: " + ", ".join(str(t) for t in techniques if t))
        if details:
            self._text("\n".join(details), key="caption_details", size=0.92)
        seen_text = data.get("text")
        if isinstance(seen_text, list):
            seen_text = " / ".join(str(t) for t in seen_text if t)
        if seen_text:
            self._text(f"Text in the photo: {seen_text}", key="caption_text", size=0.92)
        source = str(caption.get("source") or "")
        by = ("Written by you" if source == "user" else
              "From the photo's XMP" if source == "xmp" else
              f"Written by {caption.get('model') or 'a model'}")
        note = QLabel(f'<span>{_escape(by)}</span> · <a href="edit" style="color: {link};'
                      ' text-decoration: none;">Edit</a>')
        note.setTextFormat(Qt.TextFormat.RichText)
        palette = note.palette()
        palette.setColor(QPalette.ColorRole.WindowText, _dim(self.palette()))
        note.setPalette(palette)
        font = note.font()
        font.setPointSizeF(font.pointSizeF() * 0.88)
        note.setFont(font)
        note.linkActivated.connect(lambda _href: self.edit_caption())
        self.layout_.addWidget(note)
        self.texts["caption_by"] = by

    def edit_caption(self) -> QPlainTextEdit | None:
        """Turn the caption into a text box with Save and Cancel (Ctrl+Return saves)."""
        info = self.info
        if info is None:
            return None
        if self.caption_editor is not None:
            self.caption_editor.setFocus()
            return self.caption_editor
        caption = info.get("caption") or {}
        editor = QPlainTextEdit(str(caption.get("summary") or ""))
        editor.setPlaceholderText("What is in this photo? Search finds these words.")
        editor.setFixedHeight(110)
        editor.setTabChangesFocus(True)
        photo_id = int(info["id"])

        def save() -> None:
            self.caption_edited.emit(photo_id, editor.toPlainText().strip())

        save_button = QPushButton("Save")
        save_button.setDefault(True)
        save_button.clicked.connect(save)
        cancel_button = QPushButton("Cancel")
        cancel_button.clicked.connect(self._rebuild)
        shortcut = QShortcut(QKeySequence("Ctrl+Return"), editor)
        shortcut.activated.connect(save)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), editor)
        escape.setContext(Qt.ShortcutContext.WidgetShortcut)
        escape.activated.connect(self._rebuild)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 4, 0, 0)
        buttons.addStretch(1)
        buttons.addWidget(cancel_button)
        buttons.addWidget(save_button)
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        heading = QLabel("CAPTION")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 0.78)
        font.setWeight(QFont.Weight.DemiBold)
        heading.setFont(font)
        box.addWidget(heading)
        box.addWidget(editor)
        box.addLayout(buttons)
        # The editor takes the place of the caption (or of the "Add a caption" link).
        first, last = self._caption_span
        for i in range(first, last):
            item = self.layout_.itemAt(i)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
        self.layout_.insertWidget(last, holder)
        holder.show()
        self.caption_editor = editor
        editor.setFocus()
        return editor

    def _link(self, href: str) -> None:
        if href.startswith("person:"):
            self.person_chosen.emit(int(href.split(":", 1)[1]))

    def _show_in_folder(self) -> None:
        if self.info is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(str(self.info["path"])).parent)))


def _link_colour(palette: QPalette) -> QColor:
    """The palette's link colour, lightened where it would be dark on a dark panel."""
    link = palette.color(QPalette.ColorRole.Link)
    if palette.color(QPalette.ColorRole.Window).lightness() < 128 and link.lightness() < 150:
        link = palette.color(QPalette.ColorRole.Highlight).lighter(140)
    return link


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _NamePopup(QFrame):
    """'Who is this?': a line with the names already in the library offered as one types."""

    chosen = Signal(str)

    def __init__(self, names: list[str], current: str, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(6)
        title = QLabel("Who is this?")
        font = title.font()
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        layout.addWidget(title)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.line = QLineEdit(current)
        self.line.setPlaceholderText("Name")
        self.line.selectAll()
        self.line.setMinimumWidth(220)
        completer = QCompleter(sorted(names, key=str.casefold), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.line.setCompleter(completer)
        self.ok = QPushButton("Name")
        self.ok.setDefault(True)
        row.addWidget(self.line, 1)
        row.addWidget(self.ok)
        layout.addLayout(row)
        hint = QLabel("A name already used puts the face with that person.")
        hint.setWordWrap(True)
        palette = hint.palette()
        palette.setColor(QPalette.ColorRole.WindowText, _dim(hint.palette()))
        hint.setPalette(palette)
        font = hint.font()
        font.setPointSizeF(font.pointSizeF() * 0.88)
        hint.setFont(font)
        layout.addWidget(hint)
        self.line.returnPressed.connect(self.accept)
        self.ok.clicked.connect(self.accept)

    def accept(self) -> None:
        name = " ".join(self.line.text().split())
        if not name:
            return
        self.close()
        self.chosen.emit(name)


# ---------------------------------------------------------------------------------- viewer

class Viewer(QWidget):
    """One photo large, with next/previous along a list model of the window.

    ``open(model, row)`` shows the photo at ``row`` of any list model whose items carry
    ``PhotoIdRole``. Esc or Back emits ``closed``; ``current_row()`` is the row shown last,
    for the grid to select."""

    closed = Signal()
    person_chosen = Signal(int)
    find_similar = Signal(int)
    photo_changed = Signal(int)          # photo id now shown
    metadata_changed = Signal(int)       # photo id whose caption or face names changed

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.tasks = tasks
        self._model: QAbstractItemModel | None = None
        self._index = QPersistentModelIndex()
        self._last_row = -1
        self._photo_id: int | None = None
        self._info: dict[str, Any] | None = None
        self._preview: QImage | None = None
        self._full: QImage | None = None
        self._full_state = "idle"       # idle, loading, done, failed
        self._preview_hash: str | None = None
        self._preview_loading = False
        self._canvas_photo: int | None = None    # the photo the canvas's view was set for
        self.name_popup: _NamePopup | None = None
        self._faces: list[dict[str, Any]] = []
        self._names: list[str] = []
        self._cache: OrderedDict[int, _Entry] = OrderedDict()
        self._pending: set[int] = set()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.canvas = _Canvas(self)
        self.canvas.zoom_changed.connect(self._zoom_changed)
        self.canvas.face_clicked.connect(self._face_clicked)
        self.canvas.toggled_zoom.connect(self.toggle_zoom)
        self.notice = _Notice(self.canvas)
        self.panel = _InfoPanel(self)
        self.panel.person_chosen.connect(self.person_chosen)
        self.panel.find_similar.connect(self.find_similar)
        self.panel.caption_edited.connect(self.save_caption)

        self.bar = QWidget(self)
        self.bar.setObjectName("viewerBar")
        bar = QHBoxLayout(self.bar)
        bar.setContentsMargins(8, 6, 10, 6)
        bar.setSpacing(2)
        self.back_button = self._tool("back", "Back to the photos (Esc)", self.close_viewer)
        self.back_button.setText("Back")
        self.back_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.title = _ElidedLabel()
        font = self.title.font()
        font.setWeight(QFont.Weight.DemiBold)
        self.title.setFont(font)
        self.position = QLabel()
        self.prev_button = self._tool("left", "Previous photo (←)", self.previous)
        self.next_button = self._tool("right", "Next photo (→)", self.next)
        self.zoom_out_button = self._tool("minus", "Zoom out (−)", lambda: self.zoom_by(
            1 / ZOOM_STEP))
        self.zoom_label = QToolButton()
        self.zoom_label.setAutoRaise(True)
        self.zoom_label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.zoom_label.setToolTip("Fit (0) or 100 % (1); Enter switches")
        self.zoom_label.setMinimumWidth(52)
        self.zoom_label.clicked.connect(self.toggle_zoom)
        self.zoom_in_button = self._tool("plus", "Zoom in (+)", lambda: self.zoom_by(ZOOM_STEP))
        self.faces_button = self._tool("faces", "Show faces (F)", self.toggle_faces)
        self.faces_button.setCheckable(True)
        self.faces_button.setChecked(True)
        self.info_button = self._tool("info", "Show details (I)", self.toggle_panel)
        self.info_button.setCheckable(True)
        self.info_button.setChecked(True)
        bar.addWidget(self.back_button)
        bar.addSpacing(10)
        bar.addWidget(self.title, 1)
        bar.addSpacing(8)
        bar.addWidget(self.position)
        bar.addSpacing(12)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        bar.addSpacing(14)
        bar.addWidget(self.zoom_out_button)
        bar.addWidget(self.zoom_label)
        bar.addWidget(self.zoom_in_button)
        bar.addSpacing(14)
        bar.addWidget(self.faces_button)
        bar.addWidget(self.info_button)

        # Big arrows on the photo's sides, as in every photo app.
        self.side_prev = self._side("left", "Previous photo", self.previous)
        self.side_next = self._side("right", "Next photo", self.next)

        self._rule = QFrame(self)
        self._rule.setFrameShape(QFrame.Shape.HLine)
        self._rule.setFrameShadow(QFrame.Shadow.Plain)
        self._vrule = QFrame(self)
        self._vrule.setFrameShape(QFrame.Shape.VLine)
        self._vrule.setFrameShadow(QFrame.Shadow.Plain)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.canvas, 1)
        body.addWidget(self._vrule)
        body.addWidget(self.panel)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.bar)
        outer.addWidget(self._rule)
        outer.addLayout(body, 1)
        self._restyle()
        self._update_controls()

    # ------------------------------------------------------------------ building

    def _tool(self, icon: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton()
        button.setProperty("glyph", icon)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip(tip)
        button.setIconSize(QSize(20, 20))
        button.clicked.connect(slot)
        return button

    def _side(self, icon: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton(self.canvas)
        button.setIcon(_icon(icon, QColor(255, 255, 255), 24))
        button.setIconSize(QSize(24, 24))
        button.setFixedSize(44, 44)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip(tip)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setStyleSheet("QToolButton { background: rgba(0, 0, 0, 95); border: none;"
                             " border-radius: 22px; }"
                             "QToolButton:hover { background: rgba(0, 0, 0, 165); }"
                             "QToolButton:pressed { background: rgba(0, 0, 0, 200); }")
        button.clicked.connect(slot)
        return button

    def _restyle(self) -> None:
        palette = self.palette()
        colour = palette.color(QPalette.ColorRole.ButtonText)
        for button in self.bar.findChildren(QToolButton):
            glyph = button.property("glyph")
            if glyph:
                button.setIcon(_icon(str(glyph), colour))
        position = self.position.palette()
        position.setColor(QPalette.ColorRole.WindowText, _dim(palette))
        self.position.setPalette(position)
        line = QPalette(palette)
        line.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.Mid))
        self._rule.setPalette(line)
        self._vrule.setPalette(line)

    def changeEvent(self, event: Any) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._restyle()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_side_buttons()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._place_side_buttons()
        self.setFocus()

    def _place_side_buttons(self) -> None:
        h = self.canvas.height()
        y = (h - 44) // 2
        self.side_prev.move(16, y)
        self.side_next.move(self.canvas.width() - 44 - 16, y)

    # ------------------------------------------------------------------ navigation

    def open(self, model: QAbstractItemModel, row: int) -> None:
        """Show the photo at ``row`` of ``model``; next/previous move along it."""
        if model is not self._model:
            if self._model is not None:
                for signal in (self._model.rowsRemoved, self._model.modelReset,
                               self._model.rowsInserted):
                    try:
                        signal.disconnect(self._rows_changed)
                    except (RuntimeError, TypeError):
                        pass
            self._model = model
            self._cache.clear()
            model.rowsRemoved.connect(self._rows_changed)
            model.modelReset.connect(self._rows_changed)
            model.rowsInserted.connect(self._rows_changed)
        # Opening the photo shown last time reads it again: a caption, a name or a new
        # version of the file may have arrived while the viewer was closed.
        self._photo_id = None
        self._show_row(row)
        self.setFocus()

    def current_row(self) -> int:
        """The row of the model shown last (what the grid selects on return)."""
        return self._index.row() if self._index.isValid() else self._last_row

    def current_photo(self) -> int | None:
        return self._photo_id

    def next(self) -> None:
        self._step(1)

    def previous(self) -> None:
        self._step(-1)

    def close_viewer(self) -> None:
        self.closed.emit()

    def _step(self, delta: int) -> None:
        if self._model is None:
            return
        row = self.current_row() + delta
        self._fetch_if_near_end(row)
        if 0 <= row < self._model.rowCount():
            self._show_row(row)

    def _fetch_if_near_end(self, row: int) -> None:
        model = self._model
        if model is not None and row >= model.rowCount() - 2 and model.canFetchMore(
                QModelIndex()):
            model.fetchMore(QModelIndex())

    def _photo_at(self, row: int) -> int | None:
        if self._model is None or not 0 <= row < self._model.rowCount():
            return None
        value = self._model.index(row, 0).data(PhotoIdRole)
        return None if value is None else int(value)

    def _rows_changed(self, *args: object) -> None:
        if self._model is None:
            return
        if not self._index.isValid():
            # The photo shown left the list (forgotten, filtered out): show its neighbour.
            rows = self._model.rowCount()
            if rows == 0:
                self.closed.emit()
                return
            self._show_row(min(max(self._last_row, 0), rows - 1))
            return
        self._last_row = self._index.row()
        self._update_controls()

    def _show_row(self, row: int) -> None:
        assert self._model is not None
        photo_id = self._photo_at(row)
        if photo_id is None:
            return
        self._index = QPersistentModelIndex(self._model.index(row, 0))
        self._last_row = row
        self._fetch_if_near_end(row)
        if photo_id == self._photo_id:
            self._update_controls()
            return
        self._photo_id = photo_id
        self._full, self._full_state = None, "idle"
        self._preview_hash, self._preview_loading = None, False
        self._faces = []
        self.notice.hide()
        entry = self._cache.get(photo_id)
        if entry is not None:
            self._cache.move_to_end(photo_id)
            self._info = entry.info
            self._show_entry(entry)
        else:
            self._info, self._preview = None, None
            self.canvas.clear()
            self.canvas.loading = True
            self.panel.show_info(None)
        self.panel.show_faces(None)
        self._update_controls()
        # Always read again: the cached details may be older than a rename or a new caption.
        self.tasks.run(lambda: _read_photo(self.lib, photo_id),
                       done=lambda info: self._info_ready(photo_id, info),
                       failed=lambda exc: self._failed(photo_id, exc), read=True)
        self._load_faces(photo_id)
        self.photo_changed.emit(photo_id)

    def _show_entry(self, entry: _Entry, *, panel: bool = True) -> None:
        self._preview = entry.preview
        self._preview_hash = entry.info["content_hash"] if entry.preview is not None else None
        if panel:
            self.panel.show_info(entry.info)
        self._show_image()
        self._note_status(entry)
        self._read_ahead()

    def _info_ready(self, photo_id: int, info: dict[str, Any]) -> None:
        if not _alive(self) or photo_id != self._photo_id:
            return
        self._info = info
        self.panel.show_info(info)
        self._update_controls()
        if self._preview_hash == info["content_hash"] or self._preview_loading:
            return
        # No preview yet, or the one read ahead is of older content (the file was edited).
        self._preview_loading = True
        self.tasks.run(lambda: self._unless_moved_on(
                           photo_id, lambda: _Entry(info, _read_preview(self.lib, info))),
                       done=lambda entry: self._preview_ready(photo_id, entry),
                       failed=lambda exc: self._preview_failed(photo_id, info, exc),
                       read=True)

    def _unless_moved_on(self, photo_id: int, work: Callable[[], Any]) -> Any:
        """In a worker: skip a decode for a photo the person has already stepped past
        (holding the arrow key queues one per photo)."""
        if photo_id != self._photo_id:
            return None
        return work()

    def _preview_ready(self, photo_id: int, entry: _Entry | None) -> None:
        if not _alive(self) or entry is None:
            return
        if photo_id == self._photo_id and self._info is not None \
                and self._info.get("id") == photo_id:
            # The details may have been read again while the preview was decoded (a caption
            # saved, a name given): keep the newer ones.
            entry.info = self._info
        self._remember(photo_id, entry)
        if photo_id != self._photo_id:
            return
        self._preview_loading = False
        # The panel already shows these details (and may hold a caption being typed).
        self._show_entry(entry, panel=self.panel.info is not entry.info)

    def _preview_failed(self, photo_id: int, info: dict[str, Any], exc: BaseException) -> None:
        if not _alive(self):
            return
        entry = _Entry(info, None, describe(exc))
        if photo_id == self._photo_id:
            self._preview_loading = False
            self.canvas.loading = False
            self._show_entry(entry)

    def _remember(self, photo_id: int, entry: _Entry) -> None:
        self._cache[photo_id] = entry
        self._cache.move_to_end(photo_id)
        while len(self._cache) > READ_AHEAD:
            self._cache.popitem(last=False)

    def _read_ahead(self) -> None:
        """The next photo's preview (then the previous one's), read while this one is seen."""
        row = self.current_row()
        for other in (row + 1, row - 1):
            photo_id = self._photo_at(other)
            if photo_id is None or photo_id in self._cache or photo_id in self._pending:
                continue
            self._pending.add(photo_id)
            self._read_ahead_one(photo_id)

    def _read_ahead_one(self, photo_id: int) -> None:
        def failed(exc: BaseException) -> None:
            if _alive(self):
                self._pending.discard(photo_id)   # shown with its error if it is opened

        self.tasks.run(lambda: _read_entry(self.lib, photo_id),
                       done=lambda entry: self._read_ahead_done(photo_id, entry),
                       failed=failed, read=True)

    def _read_ahead_done(self, photo_id: int, entry: _Entry) -> None:
        if not _alive(self):
            return
        self._pending.discard(photo_id)
        if entry.preview is not None:
            self._remember(photo_id, entry)
            if photo_id == self._photo_id and self._preview is None:
                self._show_entry(entry)

    def _note_status(self, entry: _Entry) -> None:
        status = entry.info.get("status")
        if entry.preview is None:
            self.canvas.loading = False
            self.canvas.viewport().update()
            self.notice.show_message(f"This photo cannot be shown: {entry.problem}", "error")
        elif status == "offline":
            self.notice.show_message("The original is on a drive that is not connected: "
                                     "showing the preview.")
        elif status == "missing":
            self.notice.show_message("The original file is missing from its folder: "
                                     "showing the preview.")

    def _failed(self, photo_id: int, exc: BaseException) -> None:
        if _alive(self) and photo_id == self._photo_id:
            self.canvas.loading = False
            self.canvas.viewport().update()
            self.notice.show_message(describe(exc), "error")

    # ------------------------------------------------------------------ image and zoom

    def _logical_size(self) -> QSizeF:
        """The original's upright size in pixels: the scene's units."""
        preview = self._preview
        info = self._info or {}
        w, h = info.get("width"), info.get("height")
        if preview is None or preview.isNull():
            return QSizeF(float(w or 1), float(h or 1))
        if not w or not h:
            return QSizeF(preview.size())
        if abs(w / h - preview.width() / preview.height()) > 0.02:
            # Details and pixels disagree (the file changed): the pixels' shape wins.
            return QSizeF(float(max(w, h)) * preview.width() / max(preview.size().width(),
                                                                     preview.size().height()),
                          float(max(w, h)) * preview.height() / max(preview.size().width(),
                                                                      preview.size().height()))
        return QSizeF(float(w), float(h))

    def _show_image(self) -> None:
        images = [i for i in (self._preview, self._full) if i is not None]
        self.canvas.loading = not images
        self.canvas.set_images(self._logical_size(), images,
                               keep_view=self._canvas_photo == self._photo_id)
        self._canvas_photo = self._photo_id if images else None
        self.canvas.set_faces(self._faces)
        self._update_zoom_label()
        self._maybe_load_full()

    def _zoom_changed(self) -> None:
        self._update_zoom_label()
        self._maybe_load_full()

    def _maybe_load_full(self) -> None:
        """Past the preview's pixels, the original at full resolution (once per photo)."""
        if (self._full_state != "idle" or self._preview is None or self._info is None
                or self._photo_id is None):
            return
        size = self.canvas.logical_size()
        needed = size.width() * self.canvas.zoom() * self.devicePixelRatioF()
        if needed <= self._preview.width() * 1.02 or size.width() <= self._preview.width():
            return
        if self._info.get("status") != "ok":
            return      # offline or missing: the preview is all there is (the note says so)
        photo_id = self._photo_id
        self._full_state = "loading"
        self.tasks.run(lambda: self._unless_moved_on(photo_id,
                                                     lambda: _read_full(self.lib, photo_id)),
                       done=lambda image: self._full_ready(photo_id, image),
                       failed=lambda exc: self._full_failed(photo_id, exc), read=True)

    def _full_ready(self, photo_id: int, image: QImage | None) -> None:
        if not _alive(self) or photo_id != self._photo_id or image is None:
            return
        self._full, self._full_state = image, "done"
        # Same scene size: the view keeps its zoom and centre, only the pixels get sharper.
        self.canvas.set_images(self.canvas.logical_size(),
                               [i for i in (self._preview, image) if i is not None],
                               keep_view=True)

    def _full_failed(self, photo_id: int, exc: BaseException) -> None:
        if not _alive(self) or photo_id != self._photo_id:
            return
        self._full_state = "failed"
        self.notice.show_message(f"Full resolution is not available: {describe(exc)}",
                                 "error")

    def shown_image_size(self) -> QSize:
        """The pixel size of the image drawn at the current zoom (the preview, or the
        original once zoom needs it and it is loaded)."""
        image = self.canvas.image.choose(self.canvas.zoom() * self.devicePixelRatioF())
        return image.size() if image is not None else QSize()

    def full_resolution_loaded(self) -> bool:
        return self._full is not None

    def zoom(self) -> float:
        return self.canvas.zoom()

    def zoom_by(self, factor: float) -> None:
        self.canvas.zoom_by(factor)

    def zoom_to(self, zoom: float) -> None:
        """1.0 is 100 % (one original pixel per screen pixel)."""
        self.canvas.zoom_to(zoom)

    def fit(self) -> None:
        self.canvas.fit()

    def toggle_zoom(self) -> None:
        """Fit <-> 100 % (200 % for a photo that fits at 100 % already)."""
        if self.canvas.is_fit():
            self.canvas.zoom_to(1.0 if self.canvas.fit_zoom() < 0.999 else 2.0)
        else:
            self.canvas.fit()

    def _update_zoom_label(self) -> None:
        self.zoom_label.setText("Fit" if self.canvas.is_fit()
                                else f"{self.canvas.zoom() * 100:.0f} %")

    # ------------------------------------------------------------------ faces

    def _load_faces(self, photo_id: int) -> None:
        self.tasks.run(lambda: self.lib.people.photo_faces(photo_id),
                       done=lambda faces: self._faces_ready(photo_id, faces),
                       failed=lambda exc: self._failed(photo_id, exc), read=True)

    def _faces_ready(self, photo_id: int, faces: list[dict[str, Any]]) -> None:
        if not _alive(self) or photo_id != self._photo_id:
            return
        self._faces = faces
        self.canvas.set_faces(faces)
        self.panel.show_faces(faces)
        self._update_controls()

    def shown_faces(self) -> list[dict[str, Any]]:
        """The face boxes drawn now: face id, label text, rectangle in canvas coordinates."""
        out = []
        for box in self.canvas.boxes:
            rect = self.canvas.mapFromScene(box.rect).boundingRect()
            out.append({"face": int(box.face["face"]), "person": box.face.get("person"),
                        "label": box.label.text, "rect": rect, "visible": box.isVisible()})
        return out

    def toggle_faces(self) -> None:
        visible = not self.canvas.faces_visible
        self.canvas.show_faces(visible)
        self.faces_button.setChecked(visible)
        self.faces_button.setToolTip(("Hide" if visible else "Show") + " faces (F)")

    def _face(self, face_id: int) -> dict[str, Any] | None:
        return next((f for f in self._faces if int(f["face"]) == face_id), None)

    def _face_clicked(self, face_id: int, where: QPoint) -> None:
        menu = self.face_menu(face_id)
        if menu is not None:
            menu.popup(where)

    def face_menu(self, face_id: int) -> QMenu | None:
        """What a click on a face offers (the menu is built, not shown)."""
        face = self._face(face_id)
        if face is None:
            return None
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        name, person = face.get("name"), face.get("person")
        title = menu.addAction(face_label(face) if person is not None else "Unknown face")
        title.setEnabled(False)
        menu.addSeparator()
        box = next((b for b in self.canvas.boxes if int(b.face["face"]) == face_id), None)
        where = (self.canvas.viewport().mapToGlobal(
            self.canvas.mapFromScene(box.rect.bottomLeft()) + QPoint(0, 28))
            if box is not None else None)
        menu.addAction("Name…" if not name else "Someone else…",
                       lambda: self.ask_name(face_id, where))
        if person is not None:
            menu.addAction(f"Not {name}" if name else "Not this person",
                           lambda: self.reject_face(face_id))
            menu.addSeparator()
            menu.addAction(f"Show all photos of {name}" if name
                           else "Show all photos of this person",
                           lambda: self.person_chosen.emit(int(person)))
        return menu

    def ask_name(self, face_id: int, where: QPoint | None = None) -> _NamePopup:
        """The "Name…" popup; names come from the library in the background."""
        face = self._face(face_id) or {}
        popup = _NamePopup(self._names, str(face.get("name") or ""), self)
        popup.chosen.connect(lambda name: self.name_face(face_id, name))
        popup.adjustSize()
        popup.move(where if where is not None else QCursor.pos())
        popup.show()
        popup.line.setFocus()
        self.name_popup = popup
        self.tasks.run(lambda: [str(p["name"]) for p in self.lib.people.list_people(
                           include_hidden=True) if p.get("name")],
                       done=lambda names: self._names_ready(popup, names), read=True)
        return popup

    def _names_ready(self, popup: _NamePopup, names: list[str]) -> None:
        if not _alive(self):
            return
        self._names = names
        if _alive(popup):
            completer = QCompleter(sorted(names, key=str.casefold), popup)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            popup.line.setCompleter(completer)

    def name_face(self, face_id: int, name: str) -> None:
        """Name a face: an existing name takes the face, an unnamed person takes the name,
        otherwise a new person starts with this face (``People.name_face``)."""
        photo_id = self._photo_id
        self.tasks.run(lambda: self.lib.people.name_face(face_id, name),
                       done=lambda result: self._acted(photo_id, _named_text(result)),
                       failed=lambda exc: self._action_failed(photo_id, exc))

    def reject_face(self, face_id: int) -> None:
        """"Not this person": the face leaves its person for good."""
        face = self._face(face_id) or {}
        person = face.get("person")
        photo_id = self._photo_id
        who = face_label(face) if face.get("name") else "this person"
        self.tasks.run(lambda: self.lib.people.reject([face_id], person),
                       done=lambda result: self._acted(photo_id, f"Noted: not {who}."),
                       failed=lambda exc: self._action_failed(photo_id, exc))

    def save_caption(self, photo_id: int, text: str) -> None:
        """Keep the person's caption (an empty one removes it); search finds its words, and a
        captioning run never replaces it."""

        def saved(_result: object) -> None:
            if not _alive(self) or photo_id != self._photo_id:
                return
            self.notice.show_message("Caption saved." if text else "Caption removed.",
                                     "done", timeout_ms=2500)
            self.metadata_changed.emit(photo_id)
            self.tasks.run(lambda: _read_photo(self.lib, photo_id),
                           done=lambda info: self._info_ready(photo_id, info),
                           failed=lambda exc: self._failed(photo_id, exc), read=True)

        self.tasks.run(lambda: self.lib.captions.set_text(photo_id, text), done=saved,
                       failed=lambda exc: self._action_failed(photo_id, exc))

    def _acted(self, photo_id: int | None, message: str) -> None:
        if not _alive(self) or photo_id != self._photo_id or photo_id is None:
            return
        self.notice.show_message(message, "done", timeout_ms=3500)
        self._load_faces(photo_id)
        self.metadata_changed.emit(photo_id)

    def _action_failed(self, photo_id: int | None, exc: BaseException) -> None:
        if not _alive(self):
            return
        self.notice.show_message(describe(exc), "error")
        if photo_id is not None and photo_id == self._photo_id:
            self._load_faces(photo_id)

    # ------------------------------------------------------------------ panel, keys

    def toggle_panel(self) -> None:
        visible = not self.panel.isVisible()
        self.panel.setVisible(visible)
        self._vrule.setVisible(visible)
        self.info_button.setChecked(visible)
        self.info_button.setToolTip(("Hide" if visible else "Show") + " details (I)")

    def _update_controls(self) -> None:
        model, row = self._model, self.current_row()
        rows = model.rowCount() if model is not None else 0
        more = model is not None and model.canFetchMore(QModelIndex())
        has_prev, has_next = row > 0, row + 1 < rows or more
        self.prev_button.setEnabled(has_prev)
        self.next_button.setEnabled(has_next)
        self.side_prev.setVisible(has_prev)
        self.side_next.setVisible(has_next)
        name = Path(str(self._info["path"])).name if self._info else ""
        self.title.set_full_text(name)
        self.title.setToolTip(str(self._info["path"]) if self._info else "")
        self.position.setText(f"{row + 1:,} of {rows:,}{'+' if more else ''}"
                              if rows and row >= 0 else "")
        self._update_zoom_label()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        K = Qt.Key
        if key == K.Key_Escape:
            self.close_viewer()
        elif key in (K.Key_Right, K.Key_Space, K.Key_PageDown):
            self.next()
        elif key in (K.Key_Left, K.Key_Backspace, K.Key_PageUp):
            self.previous()
        elif key in (K.Key_Plus, K.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif key in (K.Key_Minus, K.Key_Underscore):
            self.zoom_by(1 / ZOOM_STEP)
        elif key == K.Key_0:
            self.fit()
        elif key == K.Key_1:
            self.zoom_to(1.0)
        elif key in (K.Key_Return, K.Key_Enter):
            self.toggle_zoom()
        elif key == K.Key_F:
            self.toggle_faces()
        elif key == K.Key_I:
            self.toggle_panel()
        elif key == K.Key_Home and self._model is not None and self._model.rowCount():
            self._show_row(0)
        else:
            super().keyPressEvent(event)
            return
        event.accept()


def _named_text(result: dict[str, Any]) -> str:
    name = result.get("name")
    return {"same": f"Already {name}.",
            "assigned": f"Added to {name}.",
            "named": f"Named {name}: their other photos too.",
            "created": f"Named {name}."}.get(str(result.get("action")), f"Named {name}.")


__all__ = ["Viewer", "exposure_text", "face_label", "long_date", "place_text"]
