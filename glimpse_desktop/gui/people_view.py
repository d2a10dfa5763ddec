"""People: everyone the face pack found, and what a person does with them.

Two pages in one widget:

- The people grid: round face covers with the name (or "Unnamed", dimmed) and the number of
  photos; a header with the counts and a "Show hidden" switch. Names are edited in place (F2,
  or a click on the name); several people are merged with "Merge" or by dropping one onto
  another; a context menu renames, merges, hides, shows photos or forgets.
- One person: their name (editable), "Show all N photos", and their faces, several at a time:
  "Not this person", "Move to new person", "Use as cover", "Open photo".

Every core call goes through ``Tasks``: actions one at a time in the order they were asked
for, reads on their own pool; the grid is refreshed from the library after each action, and a
failure is shown in the view's message bar, never dropped. Face covers are read off the GUI
thread (the aligned face crop, or the photo's grid thumbnail cut to the face box when the crop
is missing) and only turned into pixmaps on it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QByteArray,
    QItemSelection,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QImageReader,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QTransform,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api.library import Library, LibraryError
from glimpse_desktop.faces.people import PeopleError
from glimpse_desktop.gui.tasks import Tasks, describe
from glimpse_desktop.gui.wording import say

PersonIdRole = Qt.ItemDataRole.UserRole + 1
NameRole = Qt.ItemDataRole.UserRole + 2        # the stored name, or None
HiddenRole = Qt.ItemDataRole.UserRole + 3
PhotosRole = Qt.ItemDataRole.UserRole + 4
FacesRole = Qt.ItemDataRole.UserRole + 5
FaceIdRole = Qt.ItemDataRole.UserRole + 6
PhotoIdRole = Qt.ItemDataRole.UserRole + 7
IsCoverRole = Qt.ItemDataRole.UserRole + 8

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


def face_key(face: dict[str, Any]) -> str:
    """The cache key of a face picture: its crop file, else its photo and box."""
    return str(face.get("crop") or f"{face.get('photo')}:{face.get('box')}")


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

    def __init__(self, lib: Library, key: str, face: dict[str, Any],
                 bridge: _CoverBridge) -> None:
        super().__init__()
        self.lib, self.key, self.face, self.bridge = lib, key, face, bridge

    def run(self) -> None:
        try:
            image = self._from_thumbnail(made=False)
            if image.isNull() and self.face.get("crop"):
                image = QImage(str(self.face["crop"]))
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
            path = self.lib.thumbnail(int(self.face["photo"]), "grid")
        else:
            # (The face rows carry no content hash; one indexed read, on this pool thread.)
            found = self.lib.photo_rows([int(self.face["photo"])])
            content_hash = found[0]["content_hash"] if found else None
            if not content_hash:
                return QImage()
            path = self.lib.thumbnails.path_for(str(content_hash), "grid")
            if not path.is_file():
                return QImage()
            size = QImageReader(str(path)).size()
            w, h = float(self.face["box"][2]), float(self.face["box"][3])
            if max(w * size.width(), h * size.height()) < MIN_THUMB_FACE:
                return QImage()
        image = QImage(str(path))
        if image.isNull():
            raise LibraryError(f"cannot read thumbnail {path}")
        return cut_face(image, self.face["box"])


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

    def get(self, face: dict[str, Any] | None) -> QPixmap | None:
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
            self.pool.start(_CoverLoad(self.lib, key, dict(face), self._bridge))
        return None

    def has_failed(self, face: dict[str, Any]) -> bool:
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


# ---------------------------------------------------------------------------- the people grid


class _FaceRows(QAbstractListModel):
    """Rows that each show a face crop (people by their cover, a person's faces): rows
    replaced in place when the same items come back in the same order (the view keeps its
    selection, editor and scroll), else reset; a loaded crop repaints the rows showing it."""

    def __init__(self, covers: FaceCovers, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.covers = covers
        self.rows: list[dict[str, Any]] = []
        self._by_key: dict[str, list[int]] = {}
        covers.ready.connect(self._cover_ready)

    def _replace(self, rows: list[dict[str, Any]], id_key: str,
                 face_of: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
        if [r[id_key] for r in rows] == [r[id_key] for r in self.rows]:
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0), self.index(len(rows) - 1))
        else:
            self.beginResetModel()
            self.rows = rows
            self.endResetModel()
        self._by_key = {}
        for i, row in enumerate(rows):
            face = face_of(row)
            if face:
                self._by_key.setdefault(face_key(face), []).append(i)

    def _cover_ready(self, key: str) -> None:
        for i in self._by_key.get(key, ()):
            index = self.index(i)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class PeopleModel(_FaceRows):
    """The people of ``list_people``: names, counts, covers. Edits and drops are requests: the
    view carries them out through the core (and refreshes the rows from the library)."""

    rename_requested = Signal(int, str)            # person id, new name
    merge_requested = Signal(int, list)            # into, [others] (a drop onto a person)

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """New rows from the library: changed in place when the same people are in the same
        order (no reset: the view keeps selection, editor and scroll), else a reset."""
        self._replace(rows, "id", lambda row: row.get("cover"))

    def row_of(self, person_id: int) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r["id"] == person_id), None)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return title_of(row["name"])
        if role == Qt.ItemDataRole.EditRole:
            return row["name"] or ""
        if role == Qt.ItemDataRole.DecorationRole:
            return self.covers.get(row.get("cover"))
        if role == Qt.ItemDataRole.ToolTipRole:
            who = row["name"] or "A person without a name yet"
            tip = (f"{who}\n{plural(row['faces'], 'face')} in "
                   f"{plural(row['photos'], 'photo')}")
            return tip + ("\nHidden" if row["hidden"] else "")
        if role == PersonIdRole:
            return row["id"]
        if role == NameRole:
            return row["name"]
        if role == HiddenRole:
            return row["hidden"]
        if role == PhotosRole:
            return row["photos"]
        if role == FacesRole:
            return row["faces"]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDragEnabled
                | Qt.ItemFlag.ItemIsDropEnabled)

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """The inline editor commits here: the new name is shown at once and asked of the
        core; a refused name comes back with the next refresh."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or value is None:
            return False
        name = " ".join(str(value).split())
        row = self.rows[index.row()]
        if not name or name == (row["name"] or ""):
            return False
        row["name"] = name
        self.dataChanged.emit(index, index)
        self.rename_requested.emit(int(row["id"]), name)
        return True

    # ------------------------------------------------------------------ drag one onto another

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [PERSON_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids = list(dict.fromkeys(int(self.rows[i.row()]["id"]) for i in indexes if i.isValid()))
        mime = QMimeData()
        mime.setData(PERSON_MIME, QByteArray(",".join(map(str, ids)).encode()))
        return mime

    @staticmethod
    def dragged(data: QMimeData) -> list[int]:
        if not data.hasFormat(PERSON_MIME):
            return []
        raw = bytes(data.data(PERSON_MIME).data()).decode()
        return [int(x) for x in raw.split(",") if x.strip().isdigit()]

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not parent.isValid():
            return False             # between people: nothing to do
        target = int(self.rows[parent.row()]["id"])
        return any(i != target for i in self.dragged(data))

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: QModelIndex | QPersistentModelIndex) -> bool:
        """People dropped onto a person: ask for the merge (after a confirmation). Nothing
        moves here, so the drag never removes rows."""
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        target = int(self.rows[parent.row()]["id"])
        others = [i for i in self.dragged(data) if i != target]
        self.merge_requested.emit(target, others)
        return False


class PersonDelegate(QStyledItemDelegate):
    """A person tile: round cover, name (or "Unnamed", dimmed), "N photos"; edits the name in
    place."""

    PAD = 10

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        name = QFont(option.font)
        name.setWeight(QFont.Weight.DemiBold)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.88))
        return name, small

    def cover_rect(self, rect: QRect) -> QRectF:
        return QRectF(rect.center().x() - COVER / 2 + 0.5, rect.top() + self.PAD, COVER, COVER)

    def name_rect(self, rect: QRect, font: QFont) -> QRect:
        height = QFontMetrics(font).height() + 6
        top = rect.top() + self.PAD + COVER + 8
        return QRect(rect.left() + 6, top, rect.width() - 12, height)

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        name, small = self._fonts(option)
        height = (self.PAD + COVER + 8 + QFontMetrics(name).height() + 6
                  + QFontMetrics(small).height() + self.PAD)
        return QSize(COVER + 2 * self.PAD + 28, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        palette = option.palette
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        hidden = bool(index.data(HiddenRole))
        name = index.data(NameRole)
        photos = int(index.data(PhotosRole) or 0)
        name_font, small_font = self._fonts(option)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected or hover:
            tint = QColor(highlight)
            tint.setAlphaF(0.22 if selected else 0.08)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(tint)
            painter.drawRoundedRect(QRectF(rect).adjusted(2, 2, -2, -2), 12, 12)
        if hidden:
            painter.setOpacity(0.45)
        cover = self.cover_rect(rect)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        paint_face(painter, cover, pixmap if isinstance(pixmap, QPixmap) else None, palette,
                   round_=True)
        if selected:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(highlight, 3))
            painter.drawEllipse(cover.adjusted(-1.5, -1.5, 1.5, 1.5))
        # Name, then "N photos" (both elided to the tile).
        text_color = palette.color(QPalette.ColorRole.Text)
        name_rect = self.name_rect(rect, name_font)
        font = QFont(name_font)
        if not name:
            font.setWeight(QFont.Weight.Normal)
            font.setItalic(True)
        painter.setFont(font)
        painter.setPen(text_color if name else dimmed(palette))
        shown = QFontMetrics(font).elidedText(title_of(name), Qt.TextElideMode.ElideRight,
                                              name_rect.width())
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignCenter, shown)
        count_rect = QRect(rect.left() + 6, name_rect.bottom(), rect.width() - 12,
                           QFontMetrics(small_font).height() + 2)
        painter.setFont(small_font)
        painter.setPen(dimmed(palette))
        count = plural(photos, "photo") if photos else "No photos"
        if hidden:
            count += " · Hidden"
        painter.drawText(count_rect, Qt.AlignmentFlag.AlignCenter,
                         QFontMetrics(small_font).elidedText(
                             count, Qt.TextElideMode.ElideRight, count_rect.width()))
        painter.restore()

    # ------------------------------------------------------------------ the inline editor

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        editor = QLineEdit(parent)
        editor.setAlignment(Qt.AlignmentFlag.AlignCenter)
        editor.setPlaceholderText("Add a name")
        editor.setMaxLength(200)
        editor.setFont(self._fonts(option)[0])
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        assert isinstance(editor, QLineEdit)
        # Once only: the view calls this again whenever the row changes (a cover arriving,
        # a refresh), which must not wipe what the person is typing.
        if editor.property("primed"):
            return
        editor.setProperty("primed", True)
        editor.setText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
        editor.selectAll()

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,
                     index: QModelIndex | QPersistentModelIndex) -> None:
        assert isinstance(editor, QLineEdit)
        model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,
                             index: QModelIndex | QPersistentModelIndex) -> None:
        rect = self.name_rect(option.rect, self._fonts(option)[0])
        editor.setGeometry(rect.adjusted(-2, -2, 2, 2))


class PeopleGrid(QListView):
    """The people grid: Enter or a double click opens a person, F2 or a click on the name
    edits it, people dropped onto another person ask to be merged."""

    open_requested = Signal(QModelIndex)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setSpacing(6)
        self.setWrapping(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMouseTracking(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        # After setMovement(Static), which turns dragging off: one person onto another merges.
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragDropOverwriteMode(True)      # drops land on a person, not between
        self.setDropIndicatorShown(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._edit_timer = QTimer(self)
        self._edit_timer.setSingleShot(True)
        self._edit_timer.timeout.connect(self._edit_pending)
        self._pending: QPersistentModelIndex | None = None
        self._press: QPoint | None = None

    def name_hit(self, index: QModelIndex, pos: QPoint) -> bool:
        delegate = self.itemDelegate()
        if not index.isValid() or not isinstance(delegate, PersonDelegate):
            return False
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        font = delegate._fonts(option)[0]
        return delegate.name_rect(self.visualRect(index), font).contains(pos)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.state() != QAbstractItemView.State.EditingState:
            index = self.currentIndex()
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and index.isValid():
                self.open_requested.emit(index)
                event.accept()
                return
            if event.key() == Qt.Key.Key_F2 and index.isValid():
                self.edit(index)
                event.accept()
                return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        index = self.indexAt(pos)
        plain = (event.button() == Qt.MouseButton.LeftButton
                 and event.modifiers() == Qt.KeyboardModifier.NoModifier)
        still = self._press is not None and (pos - self._press).manhattanLength() < 4
        super().mouseReleaseEvent(event)
        if plain and still and self.name_hit(index, pos):
            # A click on the name edits it, unless it turns out to be a double click.
            self._pending = QPersistentModelIndex(index)
            self._edit_timer.start(max(200, QApplication.doubleClickInterval()))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self._edit_timer.stop()
        self._pending = None
        index = self.indexAt(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and index.isValid():
            self.open_requested.emit(index)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def _edit_pending(self) -> None:
        model = self.model()
        if self._pending is not None and self._pending.isValid() and model is not None:
            self.edit(model.index(self._pending.row(), 0))
        self._pending = None


# ---------------------------------------------------------------------------- one person's faces


class FaceModel(_FaceRows):
    """The faces of one person (``People.show``), newest photo first."""

    def __init__(self, covers: FaceCovers, parent: QObject | None = None) -> None:
        super().__init__(covers, parent)
        self.cover_face: int | None = None

    def set_faces(self, faces: list[dict[str, Any]], cover_face: int | None) -> None:
        self.cover_face = cover_face
        self._replace(faces, "face", lambda face: face)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        face = self.rows[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return self.covers.get(face)
        if role == Qt.ItemDataRole.ToolTipRole:
            name = str(face.get("path") or "").replace("\\", "/").rsplit("/", 1)[-1]
            tip = name or f"Photo {face['photo']}"
            if face["face"] == self.cover_face:
                tip += "\nCover"
            if face.get("assigned") == "user":
                tip += "\nPlaced by you"
            return tip
        if role == FaceIdRole:
            return face["face"]
        if role == PhotoIdRole:
            return face["photo"]
        if role == IsCoverRole:
            return face["face"] == self.cover_face
        return None


class FaceDelegate(QStyledItemDelegate):
    """A face: a rounded square, a ring and a check mark when selected, "Cover" on the cover."""

    PAD = 6

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(FACE + 2 * self.PAD, FACE + 2 * self.PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        palette = option.palette
        rect = QRectF(option.rect).adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        side = min(rect.width(), rect.height())
        rect = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        radius = side * 0.14
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        inset = rect.adjusted(5, 5, -5, -5) if selected else rect
        paint_face(painter, inset, pixmap if isinstance(pixmap, QPixmap) else None, palette,
                   round_=False, radius=radius * (inset.width() / side))
        if hover and not selected:
            shade = QColor(255, 255, 255, 36)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(shade)
            painter.drawRoundedRect(rect, radius, radius)
        if index.data(IsCoverRole):
            font = QFont(option.font)
            font.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.8))
            font.setWeight(QFont.Weight.DemiBold)
            metrics = QFontMetrics(font)
            label = "Cover"
            pill = QRectF(0, 0, metrics.horizontalAdvance(label) + 12, metrics.height() + 2)
            pill.moveBottomLeft(QPointF(inset.left() + 6, inset.bottom() - 6))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 150))
            painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
            painter.setFont(font)
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
        if selected:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(highlight, 3))
            painter.drawRoundedRect(rect.adjusted(1.5, 1.5, -1.5, -1.5), radius, radius)
            # A check mark badge in the corner, as photo apps mark a chosen picture.
            badge = QRectF(inset.right() - 24, inset.top() + 4, 20, 20)
            painter.setPen(QPen(QColor(255, 255, 255), 1.5))
            painter.setBrush(highlight)
            painter.drawEllipse(badge)
            tick = QPainterPath()
            tick.moveTo(badge.left() + 5.5, badge.center().y() + 0.5)
            tick.lineTo(badge.left() + 8.5, badge.bottom() - 6)
            tick.lineTo(badge.right() - 5, badge.top() + 6.5)
            pen = QPen(palette.color(QPalette.ColorRole.HighlightedText), 2)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(tick)
        painter.restore()


class FaceGrid(QListView):
    """A person's faces: several can be chosen; Enter or a double click opens the photo."""

    open_requested = Signal(QModelIndex)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMouseTracking(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and index.isValid():
            self.open_requested.emit(index)
            event.accept()
            return
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and index.isValid():
            self.open_requested.emit(index)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)


# ---------------------------------------------------------------------------- small parts


class MessageBar(QFrame):
    """What went wrong (stays until closed) or what was done (fades after a while), in the
    view itself, tinted from the palette so it reads in dark and light."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("peopleMessage")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.setSpacing(8)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.action = QPushButton(self)
        self.action.hide()
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.dismiss)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action)
        layout.addWidget(self.close_button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self._callback: Callable[[], None] | None = None
        self.action.clicked.connect(self._act)
        self.error = False
        self.hide()

    def text(self) -> str:
        """What the bar says now ("" while it is closed)."""
        return "" if self.isHidden() else self.label.text()

    def show_error(self, text: str) -> None:
        self._show(text, error=True, action=None, callback=None)

    def show_info(self, text: str, action: str | None = None,
                  callback: Callable[[], None] | None = None, *, stay: bool = False) -> None:
        self._show(text, error=False, action=action, callback=callback)
        if not stay:
            self._timer.start(10_000)

    def _show(self, text: str, *, error: bool, action: str | None,
              callback: Callable[[], None] | None) -> None:
        self._timer.stop()
        self.error = error
        palette = self.palette()
        window = palette.color(QPalette.ColorRole.Base)
        accent = QColor(214, 64, 58) if error else palette.color(QPalette.ColorRole.Highlight)
        self.setStyleSheet(
            f"#peopleMessage {{ background: {mix(window, accent, 0.16).name()}; "
            f"border: 1px solid {mix(window, accent, 0.55).name()}; border-radius: 6px; }}")
        self.label.setText(text)
        self._callback = callback
        self.action.setVisible(bool(action and callback))
        self.action.setText(action or "")
        self.show()

    def _act(self) -> None:
        callback = self._callback
        self.dismiss()
        if callback is not None:
            callback()

    def dismiss(self) -> None:
        self._timer.stop()
        self._callback = None
        self.hide()


class Notice(QWidget):
    """A plain message in place of an empty grid: what is going on and what to do."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        self.title = QLabel(self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setWeight(QFont.Weight.DemiBold)
        self.title.setFont(font)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = QLabel(self)
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A fixed width: a wrapped label centred by the layout would get its one-line size.
        self.body.setFixedWidth(440)
        dim(self.body)
        self.button = QPushButton(self)
        self.button.hide()
        layout.addWidget(self.title)
        layout.addSpacing(6)
        layout.addWidget(self.body, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self._callback: Callable[[], None] | None = None
        self.button.clicked.connect(self._act)

    def say(self, title: str, body: str, action: str | None = None,
            callback: Callable[[], None] | None = None) -> None:
        self.title.setText(title)
        self.body.setText(body)
        # Its height for that width, set outright: the stacked widget above does not pass
        # height-for-width down, and the text would be cut to one line.
        self.body.setFixedHeight(self.body.heightForWidth(self.body.width()))
        self._callback = callback
        self.button.setVisible(bool(action and callback))
        self.button.setText(action or "")

    def _act(self) -> None:
        if self._callback is not None:
            self._callback()


def _heading(text: str, scale: float, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setWeight(QFont.Weight.Bold)
    label.setFont(font)
    return label


class _Rule(QWidget):
    """A hairline between a header and its grid, a tint of the text colour (a sunken frame
    line glares on a dark palette)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(1)

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), mix(palette.color(QPalette.ColorRole.Base),
                                          palette.color(QPalette.ColorRole.Text), 0.14))
        painter.end()


class _RoundCover(QWidget):
    """The open person's cover in the page header."""

    def __init__(self, size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(size, size)
        self.pixmap: QPixmap | None = None

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self.pixmap = pixmap
        self.update()

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        paint_face(painter, QRectF(self.rect()).adjusted(1, 1, -1, -1), self.pixmap,
                   self.palette(), round_=True)
        painter.end()


# ---------------------------------------------------------------------------- the view


class PeopleView(QWidget):
    """The People page: a grid of people, and one person's faces.

    ``show_photos(person_id, title)`` asks the main window to show a person's photos in its
    grid; ``open_photo(photo_id)`` to open one photo. Call ``refresh()`` after anything that
    may change people (an indexing run, a re-cluster): it reads off the GUI thread and keeps
    selection and scroll position.
    """

    show_photos = Signal(int, str)
    open_photo = Signal(int)
    people_changed = Signal()       # a name, merge, move or rejection was saved

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.tasks = tasks
        self.covers = FaceCovers(lib, parent=self)
        self.person_id: int | None = None       # the open person (page 2)
        self.person: dict[str, Any] | None = None
        self.status: dict[str, Any] | None = None
        self.everyone: list[dict[str, Any]] = []   # every person, hidden ones too
        self._said: str | None = None              # what the bar last said about faces
        self.loaded = False                     # the first list has arrived
        self._list_gen = 0
        self._person_gen = 0
        self._pending_rows: list[dict[str, Any]] | None = None
        self.question: QMessageBox | None = None  # the open confirmation, if any

        # One surface, as photo apps have it: the grids' background under the headers too.
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.message = MessageBar(self)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._people_page())
        self.pages.addWidget(self._person_page())
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        bar = QVBoxLayout()
        bar.setContentsMargins(12, 8, 12, 0)
        bar.addWidget(self.message)
        outer.addLayout(bar)
        outer.addWidget(self.pages, 1)
        self.refresh()

    # ------------------------------------------------------------------ building

    def _people_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QHBoxLayout()
        header.setContentsMargins(20, 14, 16, 10)
        header.setSpacing(10)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(_heading("People", 1.6, page))
        self.counts = QLabel(page)
        dim(self.counts)
        titles.addWidget(self.counts)
        header.addLayout(titles, 1)
        self.merge_button = QPushButton("Merge", page)
        self.merge_button.setToolTip("Join the selected people into one person")
        self.merge_button.setEnabled(False)
        self.merge_button.clicked.connect(self.merge_selected)
        # A toggle button rather than a check box: it reads on this view's base-coloured
        # surface in every style and palette.
        self.hidden_toggle = QPushButton("Show hidden", page)
        self.hidden_toggle.setCheckable(True)
        self.hidden_toggle.setToolTip("Show people you have hidden (drawn dimmed)")
        self.hidden_toggle.toggled.connect(lambda _on: self._show_rows())
        header.addWidget(self.merge_button, 0, Qt.AlignmentFlag.AlignBottom)
        header.addWidget(self.hidden_toggle, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(header)

        self.model = PeopleModel(self.covers, self)
        self.model.rename_requested.connect(self.rename)
        self.model.merge_requested.connect(self._dropped)
        self.grid = PeopleGrid(page)
        self.grid.setModel(self.model)
        self.delegate = PersonDelegate(self.grid)
        self.grid.setItemDelegate(self.delegate)
        self.delegate.closeEditor.connect(self._editor_closed)
        self.grid.open_requested.connect(lambda index: self.open_person(int(index.data(
            PersonIdRole))))
        self.grid.customContextMenuRequested.connect(self._people_menu)
        self.grid.selectionModel().selectionChanged.connect(self._people_selection)
        self.grid.setContentsMargins(12, 0, 12, 0)
        self.people_notice = Notice(page)
        self.people_body = QStackedWidget(page)
        self.people_body.addWidget(self.grid)
        self.people_body.addWidget(self.people_notice)
        grid_box = QHBoxLayout()
        grid_box.setContentsMargins(10, 0, 0, 0)
        grid_box.addWidget(self.people_body)
        layout.addLayout(grid_box, 1)
        return page

    def _person_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        top = QHBoxLayout()
        top.setContentsMargins(10, 10, 16, 0)
        self.back_button = QToolButton(page)
        self.back_button.setText("‹  People")
        self.back_button.setToolTip("Back to everyone (Esc)")
        self.back_button.setAutoRaise(True)
        self.back_button.setShortcut(Qt.Key.Key_Escape)
        self.back_button.clicked.connect(self.back)
        top.addWidget(self.back_button)
        top.addStretch(1)
        layout.addLayout(top)

        header = QHBoxLayout()
        header.setContentsMargins(20, 6, 16, 12)
        header.setSpacing(16)
        self.person_cover = _RoundCover(84, page)
        header.addWidget(self.person_cover)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.name_edit = QLineEdit(page)
        self.name_edit.setPlaceholderText("Add a name")
        self.name_edit.setFrame(False)
        self.name_edit.setMaxLength(200)
        self.name_edit.setToolTip("Click to rename; Enter to keep it")
        font = self.name_edit.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setWeight(QFont.Weight.Bold)
        self.name_edit.setFont(font)
        self.name_edit.editingFinished.connect(self._name_edited)
        titles.addStretch(1)
        titles.addWidget(self.name_edit)
        self.person_counts = QLabel(page)
        dim(self.person_counts)
        titles.addWidget(self.person_counts)
        titles.addStretch(1)
        header.addLayout(titles, 1)
        self.photos_button = QPushButton("Show all photos", page)
        self.photos_button.setDefault(False)
        self.photos_button.clicked.connect(self._show_person_photos)
        self.more_button = QPushButton("More", page)
        self.more_menu = QMenu(self.more_button)
        self.hide_action = self.more_menu.addAction("Hide person")
        self.hide_action.triggered.connect(self._toggle_open_hidden)
        self.forget_action = self.more_menu.addAction("Forget person…")
        self.forget_action.triggered.connect(self._forget_open)
        self.more_button.setMenu(self.more_menu)
        header.addWidget(self.photos_button, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(header)

        actions = QHBoxLayout()
        actions.setContentsMargins(20, 0, 16, 8)
        actions.setSpacing(8)
        self.faces_hint = QLabel(page)
        dim(self.faces_hint)
        actions.addWidget(self.faces_hint, 1)
        self.reject_button = QPushButton("Not this person", page)
        self.reject_button.setToolTip("Take the selected faces out of this person, for good")
        self.reject_button.clicked.connect(self.reject_selected)
        self.split_button = QPushButton("Move to new person", page)
        self.split_button.setToolTip("Make a new person of the selected faces")
        self.split_button.clicked.connect(self.split_selected)
        self.cover_button = QPushButton("Use as cover", page)
        self.cover_button.setToolTip("Show this face for the person")
        self.cover_button.clicked.connect(self.cover_selected)
        self.open_button = QPushButton("Open photo", page)
        self.open_button.clicked.connect(self._open_selected_photo)
        for button in (self.reject_button, self.split_button, self.cover_button,
                       self.open_button):
            actions.addWidget(button)
        layout.addLayout(actions)
        layout.addWidget(_Rule(page))

        self.face_model = FaceModel(self.covers, self)
        self.faces = FaceGrid(page)
        self.faces.setModel(self.face_model)
        self.faces.setItemDelegate(FaceDelegate(self.faces))
        self.faces.selectionModel().selectionChanged.connect(self._face_selection)
        self.faces.open_requested.connect(
            lambda index: self.open_photo.emit(int(index.data(PhotoIdRole))))
        self.faces.customContextMenuRequested.connect(self._faces_menu)
        faces_box = QHBoxLayout()
        faces_box.setContentsMargins(14, 6, 0, 0)
        faces_box.addWidget(self.faces)
        layout.addLayout(faces_box, 1)
        self.covers.ready.connect(self._cover_ready)
        self._face_selection()
        return page

    # ------------------------------------------------------------------ reading

    def refresh(self) -> None:
        """Read the people (and the open person) again, off the GUI thread."""
        self._list_gen += 1
        gen = self._list_gen
        people = self.lib.people

        def read() -> tuple[list[dict[str, Any]], dict[str, Any]]:
            # Hidden people too: the header counts them, and the toggle shows them at once.
            return people.list_people(include_hidden=True), people.status()

        self.tasks.run(read, done=lambda result: self._listed(gen, result),
                       failed=self.show_error, read=True)
        if self.person_id is not None:
            self._load_person(self.person_id)

    def _listed(self, gen: int, result: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
        if gen != self._list_gen:
            return                   # an older read: a newer one is on its way
        self.everyone, self.status = result
        self.loaded = True
        self._show_rows()

    def _visible(self) -> list[dict[str, Any]]:
        # What `list_people()` leaves out unless asked: hidden people, and named people left
        # without faces.
        if self.hidden_toggle.isChecked():
            return list(self.everyone)
        return [r for r in self.everyone if not r["hidden"] and r["faces"] > 0]

    def _show_rows(self) -> None:
        rows = self._visible()
        if self.grid.state() == QAbstractItemView.State.EditingState:
            self._pending_rows = rows   # applied when the name editor closes
        else:
            self._apply_rows(rows)
        self._update_counts()

    def _apply_rows(self, rows: list[dict[str, Any]]) -> None:
        chosen = self.selected_people()
        current = self.grid.currentIndex().data(PersonIdRole)
        scroll = self.grid.verticalScrollBar().value()
        self.model.set_rows(rows)
        selection = QItemSelection()
        for person_id in chosen:
            row = self.model.row_of(person_id)
            if row is not None:
                selection.select(self.model.index(row), self.model.index(row))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.grid.selectionModel().select(selection, flags)
        if current is not None and (row := self.model.row_of(int(current))) is not None:
            self.grid.selectionModel().setCurrentIndex(
                self.model.index(row), QItemSelectionModel.SelectionFlag.NoUpdate)
        QTimer.singleShot(0, lambda: self.grid.verticalScrollBar().setValue(scroll))
        self._people_selection()

    def _editor_closed(self, *_args: Any) -> None:
        rows, self._pending_rows = self._pending_rows, None
        if rows is not None:
            self._apply_rows(rows)

    def _update_counts(self) -> None:
        status = self.status or {}
        shown = [r for r in self.everyone if not r["hidden"] and r["faces"] > 0]
        hidden = sum(1 for r in self.everyone if r["hidden"])
        parts = [plural(len(shown), "person", "people"),
                 f"{sum(1 for r in shown if r['name']):,} named"]
        if hidden:
            parts.append(f"{hidden:,} hidden")
        if status.get("waiting"):
            parts.append(f"{plural(int(status['waiting']), 'face')} waiting")
        if status.get("backlog") and status.get("enabled", True):
            parts.append(f"{plural(int(status['backlog']), 'photo')} still to look at")
        self.counts.setText(" · ".join(parts) if self.everyone or len(parts) > 2 else "")
        self.merge_button.setVisible(bool(self.model.rows))
        self.hidden_toggle.setVisible(bool(hidden) or self.hidden_toggle.isChecked())
        self._notice(status, self.model.rows, hidden)

    def _notice(self, status: dict[str, Any], rows: list[dict[str, Any]], hidden: int) -> None:
        """Say why the grid is empty (or why faces are not found) and what to do."""
        problem = say(status["problem"]) if status.get("problem") else None
        off = not status.get("enabled", True)
        broken = problem or status.get("installed") is False
        if rows:
            # People already found stay in view; the state is said above them, once.
            said = ("Faces are turned off: new photos are not looked at for faces." if off
                    else "Faces cannot be found right now: "
                    f"{problem or 'the face pack is not installed'}" if broken else None)
            if said != self._said:
                if self._said is not None and self.message.text() == self._said:
                    self.message.dismiss()       # no longer true
                self._said = said
                if off:
                    self.message.show_info(said or "", "Turn on faces", self._turn_on_faces,
                                           stay=True)
                elif said is not None:
                    self.show_error(said)
            self.people_body.setCurrentWidget(self.grid)
            return
        if self._said is not None and self.message.text() == self._said:
            self.message.dismiss()               # the notice says it now
        self._said = None
        if off:
            self.people_notice.say(
                "Faces are turned off",
                "Turn them on to group your photos by the people in them. Faces are found "
                "on this computer while photos are read.",
                "Turn on faces", self._turn_on_faces)
        elif broken:
            self.people_notice.say(
                "Faces cannot be found right now",
                f"{problem or 'The face pack is not installed.'}\nEverything else keeps "
                "working; people appear once the face pack is back.")
        elif not rows and hidden:
            self.people_notice.say(
                "Everyone is hidden",
                f"{plural(hidden, 'person', 'people')} hidden. Hidden people stay out of "
                "this list; show them to unhide someone.", "Show hidden",
                lambda: self.hidden_toggle.setChecked(True))
        elif not rows and status.get("faces") and not status.get("backlog"):
            self.people_notice.say(
                "No people yet",
                f"{plural(int(status['faces']), 'face')} found, waiting for more photos of "
                f"the same person: a person appears once there are "
                f"{int((status.get('thresholds') or {}).get('min_faces', 3))} similar faces.")
        elif not rows and status.get("backlog"):
            self.people_notice.say(
                "Looking for faces…",
                "Faces are found while photos are read; people appear here as they are "
                f"grouped. {plural(int(status['backlog']), 'photo')} still to look at.")
        else:
            self.people_notice.say(
                "No people yet",
                "Faces are found while photos are read. Add a folder with photos of people "
                "and they will be grouped here; then give them names.")
        self.people_body.setCurrentWidget(self.people_notice)

    def _load_person(self, person_id: int) -> None:
        self._person_gen += 1
        gen = self._person_gen
        people = self.lib.people

        def read() -> dict[str, Any] | None:
            try:
                return people.show(person_id)
            except PeopleError:
                if not any(p["id"] == person_id for p in people.list_people(
                        include_hidden=True)):
                    return None          # merged away, or left without faces
                raise

        self.tasks.run(read, done=lambda person: self._person_loaded(gen, person_id, person),
                       failed=self.show_error, read=True)

    def _person_loaded(self, gen: int, person_id: int, person: dict[str, Any] | None) -> None:
        if gen != self._person_gen or person_id != self.person_id:
            return
        if person is None:
            self.back()
            return
        self.person = person
        name = person["name"]
        if not self.name_edit.hasFocus():
            self.name_edit.setText(name or "")
        photos, faces = len(person["photos"]), len(person["faces"])
        counts = [plural(photos, "photo"), plural(faces, "face")]
        if person["hidden"]:
            counts.append("Hidden")
        self.person_counts.setText(" · ".join(counts))
        self.photos_button.setText(f"Show all {photos:,} photos" if photos != 1
                                   else "Show the photo")
        self.photos_button.setEnabled(photos > 0)
        self.hide_action.setText("Unhide person" if person["hidden"] else "Hide person")
        cover = person.get("cover")
        self.face_model.set_faces(person["faces"], cover["face"] if cover else None)
        pixmap = self.covers.get(cover)
        if pixmap is not None:
            self.person_cover.set_pixmap(pixmap)   # else the old one until the new arrives
        self._face_selection()

    def _cover_ready(self, key: str) -> None:
        cover = (self.person or {}).get("cover")
        if cover and face_key(cover) == key:
            self.person_cover.set_pixmap(self.covers.get(cover))

    # ------------------------------------------------------------------ pages

    def open_person(self, person_id: int) -> None:
        """Show one person's faces (page 2)."""
        self.person_id = int(person_id)
        self.person = None
        row = self.model.row_of(self.person_id)
        known = self.model.rows[row] if row is not None else None
        self.name_edit.setText((known or {}).get("name") or "")
        self.person_counts.setText("")
        self.face_model.set_faces([], None)
        self.person_cover.set_pixmap(self.covers.get((known or {}).get("cover")))
        self.pages.setCurrentIndex(1)
        self.faces.setFocus()
        self._load_person(self.person_id)

    def back(self) -> None:
        """Back to the people grid, with the person just seen selected."""
        seen = self.person_id
        self.person_id = None
        self.person = None
        self._person_gen += 1
        self.pages.setCurrentIndex(0)
        if seen is not None and (row := self.model.row_of(seen)) is not None:
            index = self.model.index(row)
            self.grid.setCurrentIndex(index)
            self.grid.scrollTo(index)
        self.grid.setFocus()

    def set_show_hidden(self, on: bool) -> None:
        self.hidden_toggle.setChecked(on)

    # ------------------------------------------------------------------ selection

    def selected_people(self) -> list[int]:
        """Selected person ids, in the order they were selected."""
        return list(dict.fromkeys(int(i.data(PersonIdRole))
                                  for i in self.grid.selectionModel().selectedIndexes()))

    def selected_faces(self) -> list[dict[str, Any]]:
        rows = sorted(i.row() for i in self.faces.selectionModel().selectedIndexes())
        return [self.face_model.rows[r] for r in rows if r < len(self.face_model.rows)]

    def _people_selection(self, *_args: Any) -> None:
        self.merge_button.setEnabled(len(self.selected_people()) >= 2)

    def _face_selection(self, *_args: Any) -> None:
        n = len(self.faces.selectionModel().selectedIndexes())
        self.reject_button.setEnabled(n >= 1)
        self.split_button.setEnabled(n >= 1)
        self.cover_button.setEnabled(n == 1)
        self.open_button.setEnabled(n == 1)
        who = title_of((self.person or {}).get("name"))
        if n:
            self.faces_hint.setText(f"{plural(n, 'face')} selected")
        elif self.person and len(self.person["faces"]) > 1:
            self.faces_hint.setText(f"Select the faces that are not {who} to take them out")
        else:
            self.faces_hint.setText("")

    def _row(self, person_id: int) -> dict[str, Any]:
        row = self.model.row_of(person_id)
        if row is not None:
            return self.model.rows[row]
        if self.person and self.person["id"] == person_id:
            return self.person
        return {"id": person_id, "name": None, "faces": 0, "photos": 0, "hidden": False}

    # ------------------------------------------------------------------ menus

    def _people_menu(self, pos: QPoint) -> None:
        index = self.grid.indexAt(pos)
        if not index.isValid():
            return
        if not self.grid.selectionModel().isSelected(index):
            self.grid.selectionModel().select(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.grid.setCurrentIndex(index)
        chosen = self.selected_people()
        person = self._row(int(index.data(PersonIdRole)))
        menu = QMenu(self)
        menu.addAction("Show photos", lambda: self._emit_photos(person))
        menu.addAction("Open", lambda: self.open_person(int(person["id"])))
        menu.addSeparator()
        rename = menu.addAction("Rename" if person["name"] else "Add a name",
                                lambda: self.grid.edit(index))
        rename.setEnabled(len(chosen) == 1)
        merge = menu.addAction(f"Merge {len(chosen)} people…" if len(chosen) > 1
                               else "Merge selected…", self.merge_selected)
        merge.setEnabled(len(chosen) >= 2)
        hidden = all(self._row(p)["hidden"] for p in chosen)
        menu.addAction("Unhide" if hidden else "Hide",
                       lambda: self.hide_people(chosen, not hidden))
        menu.addSeparator()
        menu.addAction("Forget person…" if len(chosen) == 1 else f"Forget {len(chosen)} people…",
                       lambda: self.forget(chosen))
        menu.popup(self.grid.viewport().mapToGlobal(pos))

    def _faces_menu(self, pos: QPoint) -> None:
        index = self.faces.indexAt(pos)
        if not index.isValid():
            return
        if not self.faces.selectionModel().isSelected(index):
            self.faces.selectionModel().select(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.faces.setCurrentIndex(index)
        n = len(self.selected_faces())
        menu = QMenu(self)
        menu.addAction("Open photo", self._open_selected_photo).setEnabled(n == 1)
        menu.addAction("Use as cover", self.cover_selected).setEnabled(n == 1)
        menu.addSeparator()
        menu.addAction("Not this person", self.reject_selected)
        menu.addAction("Move to new person", self.split_selected)
        menu.popup(self.faces.viewport().mapToGlobal(pos))

    # ------------------------------------------------------------------ actions

    def _act(self, fn: Callable[[], Any], done: Callable[[Any], None] | None = None,
             failed: Callable[[BaseException], None] | None = None) -> None:
        """A core action (in order with the others), then the view read again."""
        def finished(result: Any) -> None:
            if done is not None:
                done(result)
            self.refresh()
            self.people_changed.emit()

        def broke(exc: BaseException) -> None:
            if failed is not None:
                failed(exc)
            else:
                self.show_error(exc)
            self.refresh()        # what is shown must match the library again

        self.tasks.run(fn, done=finished, failed=broke)

    def show_error(self, exc: BaseException | str) -> None:
        self.message.show_error(exc if isinstance(exc, str) else describe(exc))

    def rename(self, person_id: int, name: str) -> None:
        """Name a person; a name someone else has offers to merge the two."""
        people = self.lib.people

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, PeopleError) or exc.code != "people.name_taken":
                self.show_error(exc)
                return
            other = int(exc.values["other"])
            self.ask(f"“{name}” is already someone",
                     f"Another person is already called {name}. Are they the same person? "
                     "Merging puts all their faces together under that name.",
                     "Merge", lambda: self.merge(other, [person_id]))

        self._act(lambda: people.name(person_id, name), failed=failed)

    def _name_edited(self) -> None:
        if self.person is None:
            return
        name = " ".join(self.name_edit.text().split())
        if not name:
            self.name_edit.setText(self.person["name"] or "")
            return
        if name != (self.person["name"] or ""):
            self.person["name"] = name
            self.rename(int(self.person["id"]), name)

    def merge(self, into: int, others: Sequence[int]) -> None:
        """Join ``others`` into ``into`` (no question asked: callers ask first)."""
        people = self.lib.people
        others = [o for o in others if o != into]
        if not others:
            return

        def done(result: dict[str, Any]) -> None:
            self.grid.selectionModel().clearSelection()
            if self.person_id is not None and self.person_id in others:
                self.open_person(int(result["id"]))

        self._act(lambda: people.merge(into, *others), done=done)

    def _merge_target(self, chosen: Sequence[int]) -> int:
        """The named one, else the first selected."""
        return next((p for p in chosen if self._row(p)["name"]), chosen[0])

    def merge_selected(self) -> None:
        chosen = self.selected_people()
        if len(chosen) < 2:
            self.message.show_info("Select two or more people to merge them "
                                   "(Ctrl or Shift and click).")
            return
        into = self._merge_target(chosen)
        self._confirm_merge(into, [p for p in chosen if p != into])

    def _dropped(self, into: int, others: list[int]) -> None:
        # The dropped person joins the one it was dropped on, unless only the dropped one has
        # a name (then the name is what the person meant to keep).
        target = self._row(into)
        if not target["name"]:
            named = next((o for o in others if self._row(o)["name"]), None)
            if named is not None:
                into, others = named, [into] + [o for o in others if o != named]
        self._confirm_merge(into, others)

    def _confirm_merge(self, into: int, others: list[int]) -> None:
        target = self._row(into)
        name = target["name"]
        faces = sum(int(self._row(p)["faces"]) for p in [into, *others])
        lost = [self._row(o)["name"] for o in others if self._row(o)["name"] and name
                and self._row(o)["name"] != name]
        count = plural(len(others) + 1, "person", "people")
        title = f"Merge {count} into “{name}”?" if name else f"Merge {count}?"
        body = (f"Their {plural(faces, 'face')} become one person"
                + (f", {name}." if name else "."))
        if lost:
            body += f" The name{'s' if len(lost) > 1 else ''} {', '.join(lost)} will go."
        body += " Faces can be taken out again with “Move to new person”."
        self.ask(title, body, "Merge", lambda: self.merge(into, others))

    def hide_people(self, person_ids: Sequence[int], hidden: bool = True) -> None:
        people = self.lib.people
        ids = list(person_ids)

        def run() -> None:
            for person_id in ids:
                people.hide(person_id, hidden)

        def done(_result: Any) -> None:
            if hidden and not self.hidden_toggle.isChecked():
                self.message.show_info(
                    f"{plural(len(ids), 'person', 'people')} hidden.", "Show hidden",
                    lambda: self.hidden_toggle.setChecked(True))

        self._act(run, done=done)

    def _toggle_open_hidden(self) -> None:
        if self.person is not None:
            self.hide_people([int(self.person["id"])], not self.person["hidden"])

    def forget(self, person_ids: Sequence[int]) -> None:
        """Forget people (names and all) after a confirmation; their faces wait again."""
        ids = list(person_ids)
        if not ids:
            return
        people = self.lib.people
        first = self._row(ids[0])
        who = (f"“{first['name']}”" if len(ids) == 1 and first["name"]
               else "this person" if len(ids) == 1 else plural(len(ids), "person", "people"))

        def run() -> None:
            for person_id in ids:
                people.delete(person_id)

        def done(_result: Any) -> None:
            if self.person_id in ids:
                self.back()

        self.ask(f"Forget {who}?",
                 "The name goes, and their faces wait to be grouped again. Photos are not "
                 "touched.", "Forget", lambda: self._act(run, done=done), destructive=True)

    def _forget_open(self) -> None:
        if self.person_id is not None:
            self.forget([self.person_id])

    def _emit_photos(self, person: dict[str, Any]) -> None:
        self.show_photos.emit(int(person["id"]), person["name"] or "Unnamed person")

    def _show_person_photos(self) -> None:
        if self.person is not None:
            self._emit_photos(self.person)

    def _open_selected_photo(self) -> None:
        faces = self.selected_faces()
        if faces:
            self.open_photo.emit(int(faces[0]["photo"]))

    def reject_selected(self) -> None:
        """"Not this person": the selected faces leave the open person for good."""
        faces = self.selected_faces()
        if self.person_id is None or not faces:
            return
        people, person_id = self.lib.people, self.person_id
        ids = [int(f["face"]) for f in faces]
        self._act(lambda: people.reject(ids, person_id))

    def split_selected(self) -> None:
        """"Move to new person": the selected faces become a person of their own."""
        faces = self.selected_faces()
        if self.person_id is None or not faces:
            return
        people, person_id = self.lib.people, self.person_id
        ids = [int(f["face"]) for f in faces]

        def done(result: dict[str, Any]) -> None:
            new = int(result["id"])
            self.message.show_info(f"{plural(len(ids), 'face')} moved to a new person.",
                                   "Open", lambda: self.open_person(new))

        self._act(lambda: people.split(person_id, ids), done=done)

    def cover_selected(self) -> None:
        faces = self.selected_faces()
        if self.person_id is None or len(faces) != 1:
            return
        people, person_id, face = self.lib.people, self.person_id, int(faces[0]["face"])
        self._act(lambda: people.cover(person_id, face))

    def _turn_on_faces(self) -> None:
        lib = self.lib
        self._act(lambda: lib.set_faces(True), done=lambda _r: self.message.show_info(
            "Faces are on: they are found the next time photos are read."))

    # ------------------------------------------------------------------ questions

    def ask(self, title: str, text: str, yes: str, then: Callable[[], None], *,
            destructive: bool = False) -> QMessageBox:
        """A question that does not block the event loop (window-modal, answered later)."""
        if self.question is not None:
            self.question.close()
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(title)
        box.setInformativeText(text)
        ok = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole
                           if not destructive else QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel if destructive else ok)
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered(_result: int) -> None:
            if self.question is box:
                self.question = None
            if box.clickedButton() is ok:
                then()
            box.deleteLater()

        box.finished.connect(answered)
        self.question = box
        box.open()
        return box
