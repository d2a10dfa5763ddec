"""The photo itself: drawn at the zoom asked for, dragged to pan, its faces boxed and
named on top; a notice over it for what went wrong.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import (
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    QSizeF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QStyleOptionGraphicsItem,
    QToolButton,
    QWidget,
)

from glimpse_desktop.api import PhotoFace
from glimpse_desktop.gui.viewer.parts import ZOOM_MAX, ZOOM_STEP, dim_colour, face_label, line_icon

# ---------------------------------------------------------------------------------- canvas

class ImageItem(QGraphicsItem):
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


class FaceLabel(QGraphicsItem):
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


class FaceBox(QGraphicsObject):
    """One face: a box in scene (original pixel) units, its label underneath."""

    def __init__(self, face: PhotoFace, rect: QRectF, accent: QColor) -> None:
        super().__init__()
        self.face = face
        self.rect = rect
        self.accent = accent
        self.hovered = False
        self.view_scale = 1.0
        self.label = FaceLabel(face_label(face), self)
        self.label.named = bool(face.name)
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
        named = bool(self.face.name)
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


class PhotoNotice(QFrame):
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
        self.close_button.setIcon(line_icon("close", QColor(255, 255, 255)))
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


def turned_box(box: tuple[float, float, float, float], rotation: int
               ) -> tuple[float, float, float, float]:
    """A box (x, y, w, h as fractions of the picture) where it is once the picture is turned
    ``rotation`` quarter turns clockwise."""
    x, y, w, h = box
    turns = int(rotation or 0) % 4
    if turns == 1:
        return 1 - y - h, x, h, w
    if turns == 2:
        return 1 - x - w, 1 - y - h, w, h
    if turns == 3:
        return y, 1 - x - w, h, w
    return x, y, w, h


class Canvas(QGraphicsView):
    """The photo: fit to the window or zoomed (wheel, keys), dragged to pan, faces on top."""

    zoom_changed = Signal()
    face_clicked = Signal(int, QPoint)      # face id, global position
    toggled_zoom = Signal()                 # double click

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.image = ImageItem()
        self.scene().addItem(self.image)
        self.boxes: list[FaceBox] = []
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

    def set_faces(self, faces: list[PhotoFace], rotation: int = 0) -> None:
        """Boxes over the faces (``face.box``: fractions of the picture upright as its file
        says), turned with the picture by ``rotation`` quarter turns clockwise."""
        for box in self.boxes:
            self.scene().removeItem(box)
        self.boxes = []
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        w, h = self.image.size.width(), self.image.size.height()
        for face in faces:
            x, y, bw, bh = turned_box(face.box, rotation)
            box = FaceBox(face, QRectF(x * w, y * h, bw * w, bh * h), accent)
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
        for child in self.findChildren(PhotoNotice):
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
                    self.face_clicked.emit(box.face.face,
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

    def box_at(self, pos: QPoint) -> FaceBox | None:
        for item in self.items(pos):
            while item is not None and not isinstance(item, FaceBox):
                item = item.parentItem()
            if isinstance(item, FaceBox) and item.isVisible():
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
            painter.setPen(dim_colour(self.palette()))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, "Loading…")
            painter.restore()


