"""The people grid (round covers, names edited in place, people dropped on each other)
and one person's faces, with their models (and the roles their items carry) and delegates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from glimpse_desktop.api import Face, Person
from glimpse_desktop.gui.people.covers import (
    COVER,
    FACE,
    PERSON_MIME,
    FaceCovers,
    dimmed,
    face_key,
    paint_face,
    plural,
    title_of,
)

PersonIdRole = Qt.ItemDataRole.UserRole + 1
NameRole = Qt.ItemDataRole.UserRole + 2        # the stored name, or None
HiddenRole = Qt.ItemDataRole.UserRole + 3
PhotosRole = Qt.ItemDataRole.UserRole + 4
FacesRole = Qt.ItemDataRole.UserRole + 5
FaceIdRole = Qt.ItemDataRole.UserRole + 6
PhotoIdRole = Qt.ItemDataRole.UserRole + 7
IsCoverRole = Qt.ItemDataRole.UserRole + 8

# ---------------------------------------------------------------------------- the people grid


Row = TypeVar("Row", Person, Face)


class FaceRows(QAbstractListModel, Generic[Row]):
    """Rows that each show a face crop (people by their cover, a person's faces): rows
    replaced in place when the same items come back in the same order (the view keeps its
    selection, editor and scroll), else reset; a loaded crop repaints the rows showing it."""

    def __init__(self, covers: FaceCovers, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.covers = covers
        self.rows: list[Row] = []
        self._by_key: dict[str, list[int]] = {}
        covers.ready.connect(self._cover_ready)

    def _replace(self, rows: list[Row], id_of: Callable[[Row], int | None],
                 face_of: Callable[[Row], Face | None]) -> None:
        if [id_of(r) for r in rows] == [id_of(r) for r in self.rows]:
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


class PeopleModel(FaceRows[Person]):
    """The people of ``list_people``: names, counts, covers. Edits and drops are requests: the
    view carries them out through the core (and refreshes the rows from the library)."""

    rename_requested = Signal(int, str)            # person id, new name
    merge_requested = Signal(int, list)            # into, [others] (a drop onto a person)

    def set_rows(self, rows: list[Person]) -> None:
        """New rows from the library: changed in place when the same people are in the same
        order (no reset: the view keeps selection, editor and scroll), else a reset."""
        self._replace(rows, lambda row: row.id, lambda row: row.cover)

    def row_of(self, person_id: int) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.id == person_id), None)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return title_of(row.name)
        if role == Qt.ItemDataRole.EditRole:
            return row.name or ""
        if role == Qt.ItemDataRole.DecorationRole:
            return self.covers.get(row.cover)
        if role == Qt.ItemDataRole.ToolTipRole:
            who = row.name or "A person without a name yet"
            tip = (f"{who}\n{plural(row.faces, 'face')} in "
                   f"{plural(row.photos, 'photo')}")
            return tip + ("\nHidden" if row.hidden else "")
        if role == PersonIdRole:
            return row.id
        if role == NameRole:
            return row.name
        if role == HiddenRole:
            return row.hidden
        if role == PhotosRole:
            return row.photos
        if role == FacesRole:
            return row.faces
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
        if not name or name == (row.name or "") or row.id is None:
            return False
        self.rows[index.row()] = replace(row, name=name)
        self.dataChanged.emit(index, index)
        self.rename_requested.emit(row.id, name)
        return True

    # ------------------------------------------------------------------ drag one onto another

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [PERSON_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids = list(dict.fromkeys(pid for i in indexes if i.isValid()
                                 if (pid := self.rows[i.row()].id) is not None))
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
        target = self.rows[parent.row()].id
        return any(i != target for i in self.dragged(data))

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: QModelIndex | QPersistentModelIndex) -> bool:
        """People dropped onto a person: ask for the merge (after a confirmation). Nothing
        moves here, so the drag never removes rows."""
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        target = self.rows[parent.row()].id
        if target is None:
            return False
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


class FaceModel(FaceRows[Face]):
    """The faces of one person (``People.show``), newest photo first."""

    def __init__(self, covers: FaceCovers, parent: QObject | None = None) -> None:
        super().__init__(covers, parent)
        self.cover_face: int | None = None

    def set_faces(self, faces: list[Face], cover_face: int | None) -> None:
        self.cover_face = cover_face
        self._replace(faces, lambda face: face.face, lambda face: face)

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
            name = (face.path or "").replace("\\", "/").rsplit("/", 1)[-1]
            tip = name or f"Photo {face.photo}"
            if face.face == self.cover_face:
                tip += "\nCover"
            if face.assigned == "user":
                tip += "\nPlaced by you"
            return tip
        if role == FaceIdRole:
            return face.face
        if role == PhotoIdRole:
            return face.photo
        if role == IsCoverRole:
            return face.face == self.cover_face
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


