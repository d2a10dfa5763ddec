"""What the people views share (sizes, tints) and the face covers: read
off the GUI thread, turned into pixmaps on it, drawn round or square.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from PySide6.QtCore import (
    QObject,
    QRect,
    QRectF,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QImageReader,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
    QTransform,
)
from PySide6.QtWidgets import (
    QWidget,
)

from glimpse_desktop.api import Face
from glimpse_desktop.api.library import Library, LibraryError
from glimpse_desktop.gui.tasks import describe

PERSON_MIME = "application/x-glimpse-person-ids"
COVER = 128           # people grid: cover diameter (logical px)
FACE = 120            # person page: face tile side
COVER_PX = 192        # covers cut from a thumbnail are scaled to this side
# A face at least this big (px) in the grid thumbnail is cut from it rather than taken from
# the 112 px aligned crop.
MIN_THUMB_FACE = 72
COVER_CACHE = 800     # pixmaps kept: ~150 KB each at most, so ~120 MB at worst
UNNAMED = "Unnamed"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved ``t`` of the way to ``b`` (palette-derived tints for dark and light)."""
    return QColor(round(a.red() + (b.red() - a.red()) * t),
                  round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


def dimmed(palette: QPalette) -> QColor:
    return mix(palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base),
               0.45)


def dim(label: QWidget) -> QWidget:
    """Secondary text: dimmed for the role it is drawn in (WindowText over a window, Text
    over the base colour of this view)."""
    palette = label.palette()
    color = dimmed(palette)
    palette.setColor(QPalette.ColorRole.WindowText, color)
    palette.setColor(QPalette.ColorRole.Text, color)
    label.setPalette(palette)
    return label


def title_of(name: str | None) -> str:
    return name or UNNAMED


# ---------------------------------------------------------------------------- face covers


def face_key(face: Face) -> str:
    """The cache key of a face picture: its crop file, else its photo and box."""
    return face.crop or f"{face.photo}:{list(face.box)}"


def cut_face(image: QImage, box: Sequence[float], *, margin: float = 1.6) -> QImage:
    """A square around a face box (fractions of the image), with room for the head."""
    width, height = image.width(), image.height()
    x, y, w, h = (float(v) for v in box)
    cx, cy = (x + w / 2) * width, (y + h / 2) * height
    side = min(max(w * width, h * height) * margin, width, height)
    side = max(side, 1.0)
    left = min(max(cx - side / 2, 0.0), width - side)
    top = min(max(cy - side / 2, 0.0), height - side)
    out = image.copy(QRect(round(left), round(top), round(side), round(side)))
    if out.width() > COVER_PX:
        out = out.scaled(COVER_PX, COVER_PX, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.SmoothTransformation)
    return out


class _CoverBridge(QObject):
    loaded = Signal(str, QImage)
    failed = Signal(str, str)


class _CoverLoad(QRunnable):
    """One face picture, read on a pool thread (QImage is safe there; QPixmap is not)."""

    def __init__(self, lib: Library, key: str, face: Face,
                 bridge: _CoverBridge) -> None:
        super().__init__()
        self.lib, self.key, self.face, self.bridge = lib, key, face, bridge

    def run(self) -> None:
        try:
            image = self._from_thumbnail(made=False)
            if image.isNull() and self.face.crop:
                image = QImage(self.face.crop)
            if image.isNull():
                # No crop (an older library, a cleared cache): the grid thumbnail, made now if
                # it is missing (a decode: here, never on the GUI thread).
                image = self._from_thumbnail(made=True)
        except Exception as exc:  # a bad picture costs its cover, never the view
            self.bridge.failed.emit(self.key, describe(exc))
            return
        self.bridge.loaded.emit(self.key, image)

    def _from_thumbnail(self, *, made: bool) -> QImage:
        """The face cut from the photo's grid thumbnail, with room for the head. Without
        ``made``, only from a thumbnail already on disk in which the face is big enough to
        fill a cover: a head shot looks better than the tight aligned crop (whose corners
        are black where the face was turned or near the edge)."""
        if made:
            path = self.lib.thumbnail(self.face.photo, "grid")
        else:
            # (The face rows carry no content hash; one indexed read, on this pool thread.)
            found = self.lib.photo_rows([self.face.photo])
            content_hash = found[0].content_hash if found else None
            if not content_hash:
                return QImage()
            path = self.lib.thumbnails.path_for(str(content_hash), "grid")
            if not path.is_file():
                return QImage()
            size = QImageReader(str(path)).size()
            w, h = self.face.box[2], self.face.box[3]
            if max(w * size.width(), h * size.height()) < MIN_THUMB_FACE:
                return QImage()
        image = QImage(str(path))
        if image.isNull():
            raise LibraryError(f"cannot read thumbnail {path}")
        return cut_face(image, self.face.box)


class FaceCovers(QObject):
    """Face pictures as pixmaps by key, loaded on demand off the GUI thread, LRU bounded."""

    ready = Signal(str)

    def __init__(self, lib: Library, *, capacity: int = COVER_CACHE, threads: int = 2,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.capacity = capacity
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self.pool = QThreadPool(self)
        self.pool.setExpiryTimeout(-1)   # a retired thread would leak its library connection
        self.pool.setMaxThreadCount(max(1, threads))
        self._bridge = _CoverBridge(self)
        self._bridge.loaded.connect(self._loaded)
        self._bridge.failed.connect(self._failed_load)

    def get(self, face: Face | None) -> QPixmap | None:
        """The face's pixmap if loaded; otherwise a load is queued (once) and None returned."""
        if not face:
            return None
        key = face_key(face)
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            self.pool.start(_CoverLoad(self.lib, key, face, self._bridge))
        return None

    def has_failed(self, face: Face) -> bool:
        return face_key(face) in self._failed

    def _loaded(self, key: str, image: QImage) -> None:
        self._pending.discard(key)
        self._pixmaps[key] = QPixmap.fromImage(image)      # GUI thread: allowed here
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)
        self.ready.emit(key)

    def _failed_load(self, key: str, _why: str) -> None:
        self._pending.discard(key)
        self._failed.add(key)
        self.ready.emit(key)

    def wait(self, msecs: int = 30_000) -> bool:
        """Tests and shutdown: let queued loads finish."""
        return bool(self.pool.waitForDone(msecs))


def paint_face(painter: QPainter, rect: QRectF, pixmap: QPixmap | None, palette: QPalette, *,
               round_: bool, radius: float = 0.0) -> None:
    """A face picture filling ``rect`` as a circle or a rounded square (antialiased edges:
    the picture is the brush, the shape the path), or a silhouette while it loads."""
    path = QPainterPath()
    if round_:
        path.addEllipse(rect)
    else:
        path.addRoundedRect(rect, radius, radius)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.setPen(Qt.PenStyle.NoPen)
    if pixmap is not None and not pixmap.isNull():
        # Fill the square (centre-cropped if the picture is not square).
        side = min(pixmap.width(), pixmap.height())
        scale = rect.width() / max(1, side)
        dx = rect.left() - (pixmap.width() - side) / 2 * scale
        dy = rect.top() - (pixmap.height() - side) / 2 * scale
        brush = QBrush(pixmap)
        brush.setTransform(QTransform(scale, 0, 0, scale, dx, dy))
        painter.setBrush(brush)
        painter.drawPath(path)
    else:
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        painter.setBrush(mix(base, text, 0.10))
        painter.drawPath(path)
        # A head and shoulders, clipped to the shape.
        painter.setClipPath(path)
        painter.setBrush(mix(base, text, 0.22))
        w = rect.width()
        head = QRectF(rect.center().x() - w * 0.17, rect.top() + w * 0.22, w * 0.34, w * 0.34)
        painter.drawEllipse(head)
        body = QRectF(rect.center().x() - w * 0.32, rect.top() + w * 0.62, w * 0.64, w * 0.6)
        painter.drawEllipse(body)
    painter.restore()


