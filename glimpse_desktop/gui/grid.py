"""The photo grid: square tiles under month headers, laid out by arithmetic, painted on demand.

A QListView in icon mode can't draw section headers, and the variable-size layout that would
let it costs a Python ``sizeHint`` call per row on every insert (a visible stall at 100k
rows). This view knows its layout in closed form instead: the model gives its sections as
(first row, label); a section is a header and ``ceil(n / columns)`` lines of tiles, so the
position of any row, and the row under any point, is a bisect over the sections. Painting
touches only the tiles on screen; selection (click, shift, ctrl, rubber band), keyboard
navigation and scrolling are the stock QAbstractItemView behaviour fed by that geometry.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
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
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QRubberBand,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from glimpse_desktop.gui.photo_model import DamagedRole, PairedRole, ScoreRole, StatusRole

MIN_TILE, MAX_TILE, DEFAULT_TILE = 96, 384, 176
SPACING = 3
MARGIN = 12
HEADER = 44


def _unpaired(row: int) -> bool:
    """A row without a mark (for models that do not say which rows are paired, damaged)."""
    return False


class TileDelegate(QStyledItemDelegate):
    """A square tile: the thumbnail cropped to fill, a tint and check mark when selected, the
    match score on search results, a mark on photos whose drive is not connected."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        state = option.state
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        row_at = getattr(index.model(), "row_at", None)
        item = row_at(index.row()) if callable(row_at) else None
        self.paint_tile(painter, option.rect, option.palette,
                        pixmap if isinstance(pixmap, QPixmap) else None,
                        index.data(StatusRole), index.data(ScoreRole),
                        selected=bool(state & QStyle.StateFlag.State_Selected),
                        hover=bool(state & QStyle.StateFlag.State_MouseOver),
                        focus=bool(state & QStyle.StateFlag.State_HasFocus),
                        paired=bool(index.data(PairedRole)),
                        damaged=bool(index.data(DamagedRole)),
                        favorite=bool(getattr(item, "favorite", False)),
                        rating=getattr(item, "rating", None),
                        rejected=bool(getattr(item, "rejected", False)))

    def paint_tile(self, painter: QPainter, rect: QRect, palette: QPalette,
                   pixmap: QPixmap | None, status: str | None, score: float | None, *,
                   selected: bool, hover: bool, focus: bool, paired: bool = False,
                   damaged: bool = False, favorite: bool = False, rating: int | None = None,
                   rejected: bool = False) -> None:
        """One tile from its data (the grid calls this directly: no model round trips).

        Marks: top right RAW+JPEG; bottom left, from the bottom up, stars (only when rated)
        and a drive or file problem; bottom right the heart of a favourite and the match
        score; a rejected photo is dimmed under a crossed circle."""
        painter.save()
        target = rect.adjusted(6, 6, -6, -6) if selected else rect
        if pixmap is not None and not pixmap.isNull():
            ratio = pixmap.devicePixelRatio()
            w, h = round(pixmap.width() / ratio), round(pixmap.height() / ratio)
            if w == h == target.width() == target.height():
                painter.drawPixmap(target.topLeft(), pixmap)     # a tile made to size: a blit
            else:
                # Another size (a zoom in progress, a tile being selected): crop to the
                # centre square and scale, quickly; the tile at the right size follows.
                side = min(pixmap.width(), pixmap.height())
                source = QRect((pixmap.width() - side) // 2, (pixmap.height() - side) // 2,
                               side, side)
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, selected)
                painter.drawPixmap(target, pixmap, source)
        else:
            painter.fillRect(target, palette.color(QPalette.ColorRole.AlternateBase))
        left = right = 0          # badges stacked so far in each bottom corner
        if rejected:
            painter.fillRect(target, QColor(0, 0, 0, 150))
            self._rejected_mark(painter, target)
        if status and status != "ok":
            painter.fillRect(target, QColor(0, 0, 0, 110))
        if rating and not rejected:
            stars = max(0, min(5, rating))
            # A small tile has no room for five stars beside a heart: "4★" says the same.
            self._badge(painter, target, "★" * stars if target.width() >= 150 else f"{stars}★",
                        left=True, stack=left, stars=True)
            left += 1
        if status and status != "ok":
            self._badge(painter, target, "offline" if status == "offline" else str(status),
                        left=True, stack=left)
            left += 1
        elif damaged:
            self._badge(painter, target, "damaged", left=True, stack=left)
            left += 1
        if favorite:
            self._heart(painter, target, stack=right)
            right += 1
        if isinstance(score, float):
            self._badge(painter, target, f"{score:.0%}", stack=right)
        if paired:
            self._badge(painter, target, "RAW+JPEG", top=True)
        if selected:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            highlight = palette.color(QPalette.ColorRole.Highlight)
            painter.setPen(QPen(highlight, 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(1, 1, -2, -2))
            # A check mark in a filled circle, top-left, as in Photos apps.
            circle = QRectF(rect.left() + 10, rect.top() + 10, 22, 22)
            painter.setPen(QPen(QColor("white"), 2))
            painter.setBrush(highlight)
            painter.drawEllipse(circle)
            path = QPainterPath()
            path.moveTo(circle.left() + 6, circle.center().y())
            path.lineTo(circle.left() + 10, circle.bottom() - 6)
            path.lineTo(circle.right() - 5, circle.top() + 7)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        elif hover:
            painter.fillRect(target, QColor(255, 255, 255, 28))
        if focus and not selected:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1,
                                Qt.PenStyle.DotLine))
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
        painter.restore()

    @staticmethod
    def _badge_font(painter: QPainter) -> QFont:
        font = QFont(painter.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        font.setBold(True)
        return font

    @classmethod
    def _badge(cls, painter: QPainter, rect: QRect, text: str, *, left: bool = False,
               top: bool = False, stack: int = 0, stars: bool = False) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setFont(cls._badge_font(painter))
        metrics = painter.fontMetrics()
        w, h = metrics.horizontalAdvance(text) + 12, metrics.height() + 4
        x = rect.left() + 6 if left else rect.right() - w - 5
        y = rect.top() + 5 if top else rect.bottom() - h - 5 - stack * (h + 4)
        box = QRectF(x, y, w, h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(box, h / 2, h / 2)
        painter.setPen(QColor(255, 204, 0) if stars else QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    @classmethod
    def _heart(cls, painter: QPainter, rect: QRect, *, stack: int = 0) -> None:
        """A white heart on a dark disc, bottom right: the photo is a favourite."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setFont(cls._badge_font(painter))
        h = painter.fontMetrics().height() + 4
        side = float(h + 2)
        box = QRectF(rect.right() - side - 5, rect.bottom() - side - 5 - stack * (h + 4),
                     side, side)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawEllipse(box)
        # Two lobes and a point, drawn in a square of 0..1.
        unit = side * 0.56
        ox, oy = box.center().x() - unit / 2, box.center().y() - unit * 0.45
        heart = QPainterPath()
        heart.moveTo(ox + unit * 0.5, oy + unit * 0.95)
        heart.cubicTo(ox - unit * 0.15, oy + unit * 0.5, ox + unit * 0.05, oy - unit * 0.15,
                      ox + unit * 0.5, oy + unit * 0.22)
        heart.cubicTo(ox + unit * 0.95, oy - unit * 0.15, ox + unit * 1.15, oy + unit * 0.5,
                      ox + unit * 0.5, oy + unit * 0.95)
        painter.setBrush(QColor(255, 80, 100))
        painter.drawPath(heart)

    @staticmethod
    def _rejected_mark(painter: QPainter, rect: QRect) -> None:
        """A crossed circle in the middle of the dimmed tile: rejected."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        side = max(16.0, min(28.0, rect.width() / 6))
        box = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
        painter.setPen(QPen(QColor(255, 255, 255, 230), 2.5))
        painter.setBrush(QColor(200, 40, 40, 200))
        painter.drawEllipse(box)
        inset = side * 0.3
        painter.drawLine(box.topLeft() + QPointF(inset, inset),
                         box.bottomRight() - QPointF(inset, inset))
        painter.drawLine(QPointF(box.right() - inset, box.top() + inset),
                         QPointF(box.left() + inset, box.bottom() - inset))

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(DEFAULT_TILE, DEFAULT_TILE)


class PhotoGrid(QAbstractItemView):
    """Tiles in month sections; see the module docstring for how the layout is computed."""

    tile_changed = Signal(int)
    # The edge tiles are drawn at changed (a zoom, a resize: ``drawn_tile``).
    drawn_changed = Signal(int)
    # The selection or the current photo changed (what the menu bar's actions work on).
    selection_changed = Signal()
    # How many photos are selected, after every change of the selection.
    selection_count_changed = Signal(int)
    # A jump by the timeline (scrubber, ``scroll_to_month``): the month, "2024-03".
    jumped = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tile = DEFAULT_TILE
        self._cols = 1
        self._cell = float(DEFAULT_TILE)
        self._drawn = DEFAULT_TILE
        self._left = MARGIN
        self._starts: list[int] = []      # first row of each section
        self._labels: list[str] = []
        self._tops: list[int] = []        # y of each section's header, in content coordinates
        self._header = HEADER
        self._height = 0
        self._dirty = True
        self._rubber: QRubberBand | None = None
        self._banding = False
        self._anchor = -1
        self._origin = QPoint()
        self._selected = 0
        self.scrubber: QWidget | None = None
        self.setItemDelegate(TileDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setFrameShape(QAbstractItemView.Shape.NoFrame)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover, True)
        # paintEvent fills every pixel it is asked for: telling Qt so lets a scroll move the
        # pixels already drawn and repaint only the strip that comes into view.
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._geometry_timer = QTimer(self, singleShot=True, interval=0)
        self._geometry_timer.timeout.connect(self._update_geometries)
        self._fetch_timer = QTimer(self, singleShot=True, interval=0)
        self._fetch_timer.timeout.connect(self._fetch_if_needed)
        self.verticalScrollBar().valueChanged.connect(lambda _v: self._fetch_timer.start())

    # ------------------------------------------------------------------ zoom and layout

    def tile(self) -> int:
        return self._tile

    def drawn_tile(self) -> int:
        """The edge tiles are drawn at: the chosen size (``tile``), made to fill the width."""
        self._ensure_layout()
        return round(self._cell) - SPACING

    def tile_pixels(self) -> int:
        """The tile edge drawn, in device pixels (what the thumbnail cache makes pixmaps at)."""
        return round(self.drawn_tile() * self.devicePixelRatioF())

    def set_tile(self, size: int) -> None:
        """Zoom: tile edge in pixels; the photo at the top of the view stays there."""
        size = max(MIN_TILE, min(MAX_TILE, int(size)))
        if size == self._tile:
            return
        anchor = self.indexAt(QPoint(self._left + 1, self._header + 1))
        self._tile = size
        self._relayout()
        self.updateGeometries()        # the scroll range of the new size, before scrolling
        if anchor.isValid():
            self.scrollTo(anchor, QAbstractItemView.ScrollHint.PositionAtTop)
        self.tile_changed.emit(size)

    def columns(self) -> int:
        self._ensure_layout()
        return self._cols

    def setModel(self, model: QAbstractItemModel | None) -> None:
        """Show ``model``; a list made for one view (search results: ``disposable``) and the
        old selection model are deleted when replaced, so views do not pile up."""
        old = self.model()
        old_selection = self.selectionModel()
        if old is not None:
            for signal in (old.rowsInserted, old.rowsRemoved, old.modelReset, old.layoutChanged):
                try:
                    signal.disconnect(self._relayout)
                except (RuntimeError, TypeError):
                    pass
        super().setModel(model)
        if old_selection is not None and old_selection is not self.selectionModel():
            old_selection.deleteLater()
        if old is not None and old is not model and getattr(old, "disposable", False):
            old.deleteLater()
        if model is not None:
            for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset,
                           model.layoutChanged):
                signal.connect(self._relayout)
        selection = self.selectionModel()
        if selection is not None:
            selection.selectionChanged.connect(self._selection_changed)
            selection.modelChanged.connect(self._selection_changed)
        self._selection_changed()
        self.verticalScrollBar().setValue(0)
        self._relayout()
        self._fetch_timer.start()

    def selectionChanged(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        super().selectionChanged(selected, deselected)
        self.selection_changed.emit()

    def currentChanged(self, current: QModelIndex | QPersistentModelIndex,
                       previous: QModelIndex | QPersistentModelIndex) -> None:
        super().currentChanged(current, previous)
        self.selection_changed.emit()
    # ------------------------------------------------------------------ selection count

    def selection_count(self) -> int:
        """How many photos are selected (counted over the selection's ranges: a Select All
        over 1M photos is one range, not 1M indexes)."""
        selection = self.selectionModel()
        if selection is None:
            return 0
        ranges = selection.selection()
        spans = sorted((ranges.at(i).top(), ranges.at(i).bottom()) for i in range(ranges.size())
                       if ranges.at(i).isValid())
        count, reach = 0, -1
        for top, bottom in spans:
            if bottom > reach:
                count += bottom - max(top, reach + 1) + 1
                reach = bottom
        return count

    def _selection_changed(self, *_args: Any) -> None:
        count = self.selection_count()
        if count != self._selected:
            self._selected = count
            self.selection_count_changed.emit(count)

    # ------------------------------------------------------------------ the timeline

    def show_timeline(self, on: bool = True) -> None:
        """A timeline scrubber beside the grid instead of its scroll bar: years and months
        along it, the date under the pointer, a click or a drag jumps there."""
        from glimpse_desktop.gui.scrubber import TimelineScrubber

        if on and self.scrubber is None:
            self.scrubber = TimelineScrubber(self)
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.setViewportMargins(0, 0, self.scrubber.width(), 0)
            self._place_scrubber()
            self.scrubber.show()
        elif not on and self.scrubber is not None:
            self.scrubber.deleteLater()
            self.scrubber = None
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            self.setViewportMargins(0, 0, 0, 0)

    def _place_scrubber(self) -> None:
        if self.scrubber is not None:
            area = self.contentsRect()
            self.scrubber.setGeometry(area.right() - self.scrubber.width() + 1, area.top(),
                                      self.scrubber.width(), area.height())

    def months(self) -> list[tuple[int, str, str]]:
        """(content y, month "2024-03" or "" for no date, label) of every month section, for
        the scrubber; empty for a list without months."""
        self._ensure_layout()
        model = self.model()
        keys_of = getattr(model, "month_keys", None)
        if not callable(keys_of):
            return []
        keys = list(keys_of())
        if len(keys) != len(self._tops):
            return []
        return list(zip(self._tops, keys, self._labels, strict=True))

    def content_height(self) -> int:
        self._ensure_layout()
        return self._height

    def scroll_to_month(self, key: str) -> bool:
        """Jump to a month ("2024-03"): its header at the top. False when the grid has no
        such month. The rows there are read as they are painted, a page or two."""
        for top, month, _label in self.months():
            if month == key:
                self.verticalScrollBar().setValue(top)
                self.jumped.emit(key)
                return True
        return False

    def pinned_label(self) -> str:
        """The month at the top of the view (what the pinned header names)."""
        s = self._pinned_section()
        return self._labels[s] if s >= 0 else ""

    def _pinned_section(self) -> int:
        self._ensure_layout()
        if not self._tops or not any(self._labels):
            return -1
        return max(0, bisect.bisect_right(self._tops, self.verticalOffset()) - 1)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        # The pinned header does not scroll with the tiles: Qt moved its pixels with them, so
        # the band it covered and the band it moved to are painted again.
        if dy and any(self._labels):
            self.viewport().update(QRect(0, 0, self.viewport().width(),
                                         self._header + abs(dy)))
        if self.scrubber is not None:
            self.scrubber.update()

    def _relayout(self, *_args: Any) -> None:
        # Rows may arrive a thousand at a time: the layout is computed once, when next asked
        # for (a paint, a hit test) or on the next turn of the event loop.
        self._dirty = True
        self._geometry_timer.start()
        self.viewport().update()

    def _update_geometries(self) -> None:
        self.updateGeometries()
        self._fetch_timer.start()

    def _ensure_layout(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        width = max(1, self.viewport().width() - 2 * MARGIN)
        # The grid fills the width (a narrow window shows no empty band beside it): as many
        # columns as tiles of the chosen size come nearest to filling it, each tile then a
        # little larger or smaller than that size. The thumbnail cache makes its pixmaps at the
        # size drawn (``drawn_changed``), so painting stays a blit.
        self._cols = max(1, round((width + SPACING) / (self._tile + SPACING)))
        while self._cols > 1 and (width + SPACING) / self._cols - SPACING < MIN_TILE:
            self._cols -= 1
        self._cell = max(float(MIN_TILE + SPACING), (width + SPACING) / self._cols)
        self._left = MARGIN
        drawn = round(self._cell) - SPACING
        if drawn != self._drawn:
            self._drawn = drawn
            # After this layout, not inside it: the window's answer asks for a new one.
            QTimer.singleShot(0, lambda: self.drawn_changed.emit(self.drawn_tile()))
        sections_of = getattr(model, "sections", None)
        sections: list[tuple[int, str]] = list(sections_of()) if callable(sections_of) else []
        if rows and not sections:
            sections = [(0, "")]
        self._header = HEADER if any(label for _, label in sections) else MARGIN
        self._starts = [start for start, _ in sections]
        self._labels = [label for _, label in sections]
        self._tops = []
        y = 0
        for i, start in enumerate(self._starts):
            end = self._starts[i + 1] if i + 1 < len(self._starts) else rows
            self._tops.append(y)
            y += self._header + math.ceil(max(0, end - start) / self._cols) * round(self._cell)
        self._height = y + MARGIN

    def _first_row_below(self, y: int) -> int:
        """The first row of the line at content height ``y`` (or of the next line)."""
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        s = max(0, bisect.bisect_right(self._tops, y) - 1)
        if s >= len(self._starts):
            return rows
        line = max(0, (y - self._tops[s] - self._header) // self._line_height())
        end = self._starts[s + 1] if s + 1 < len(self._starts) else rows
        return min(end, self._starts[s] + line * self._cols)

    def _line_height(self) -> int:
        return round(self._cell)

    def _content_rect(self, row: int) -> QRect:
        """The tile of ``row`` in content coordinates (before scrolling)."""
        s = bisect.bisect_right(self._starts, row) - 1
        if s < 0:
            return QRect()
        offset = row - self._starts[s]
        line, col = divmod(offset, self._cols)
        x = self._left + round(col * self._cell)
        y = self._tops[s] + self._header + line * self._line_height()
        size = round(self._cell) - SPACING
        return QRect(x, y, size, size)

    def updateGeometries(self) -> None:
        self._ensure_layout()
        bar = self.verticalScrollBar()
        page = self.viewport().height()
        bar.setRange(0, max(0, self._height - page))
        bar.setPageStep(page)
        bar.setSingleStep(max(20, self._line_height() // 3))
        super().updateGeometries()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._dirty = True
        super().resizeEvent(event)
        self._place_scrubber()
        self.updateGeometries()
        self._fetch_timer.start()

    def _fetch_if_needed(self) -> None:
        """Ask the model for the next page when the end of what is loaded comes into view;
        a model that has every row from the start (the library's) for the pages of the rows
        on screen and a screen either side."""
        model = self.model()
        if model is None:
            return
        prefetch = getattr(model, "prefetch", None)
        if callable(prefetch) and self._tops:
            self._ensure_layout()
            top, page = self.verticalOffset(), self.viewport().height()
            # Asked for last is read first (the model's queue is newest first): the screen
            # above, then the one below (where a scroll goes), then what is on screen.
            for a, b in ((top - page, top), (top + page, top + 2 * page), (top, top + page)):
                prefetch(self._first_row_below(a), self._first_row_below(b + self._header))
        if not model.canFetchMore(QModelIndex()):
            return
        self._ensure_layout()
        bar = self.verticalScrollBar()
        if bar.value() + 2 * self.viewport().height() >= self._height - MARGIN:
            model.fetchMore(QModelIndex())

    # ------------------------------------------------------------------ QAbstractItemView

    def visualRect(self, index: QModelIndex | QPersistentModelIndex) -> QRect:
        if not index.isValid():
            return QRect()
        self._ensure_layout()
        rect = self._content_rect(index.row())
        return rect.translated(0, -self.verticalOffset()) if rect.isValid() else rect

    def _row_at(self, x: int, y: int) -> int:
        """The row at a point in content coordinates, or -1 (a header, a gap, past the end)."""
        self._ensure_layout()
        model = self.model()
        if model is None or not self._tops:
            return -1
        s = bisect.bisect_right(self._tops, y) - 1
        if s < 0:
            return -1
        inner = y - self._tops[s] - self._header
        if inner < 0 or x < self._left:
            return -1
        line = inner // self._line_height()
        col = int((x - self._left) // self._cell)
        if col >= self._cols:
            return -1
        row = self._starts[s] + line * self._cols + col
        end = self._starts[s + 1] if s + 1 < len(self._starts) else model.rowCount()
        return row if row < end else -1

    def indexAt(self, point: QPoint) -> QModelIndex:
        model = self.model()
        if model is None:
            return QModelIndex()
        row = self._row_at(point.x(), point.y() + self.verticalOffset())
        if row < 0:
            return QModelIndex()
        index = model.index(row, 0, self.rootIndex())
        rect = self.visualRect(index)
        return index if rect.contains(point) else QModelIndex()

    def scrollTo(self, index: QModelIndex | QPersistentModelIndex,
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible
                 ) -> None:
        if not index.isValid():
            return
        self._ensure_layout()
        rect = self._content_rect(index.row())
        bar = self.verticalScrollBar()
        top, page = bar.value(), self.viewport().height()
        if hint == QAbstractItemView.ScrollHint.PositionAtTop:
            bar.setValue(rect.top() - self._header)
        elif hint == QAbstractItemView.ScrollHint.PositionAtCenter:
            bar.setValue(rect.center().y() - page // 2)
        elif rect.top() - MARGIN < top:
            # Show the section header too when the row is on its first line.
            s = bisect.bisect_right(self._starts, index.row()) - 1
            first_line = index.row() - self._starts[s] < self._cols
            bar.setValue(self._tops[s] if first_line else rect.top() - MARGIN)
        elif rect.bottom() + MARGIN > top + page:
            bar.setValue(rect.bottom() + MARGIN - page)
        self.viewport().update()

    def horizontalOffset(self) -> int:
        return 0

    def verticalOffset(self) -> int:
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        return False

    def moveCursor(self, action: QAbstractItemView.CursorAction,
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        model = self.model()
        if model is None or model.rowCount() == 0:
            return QModelIndex()
        self._ensure_layout()
        current = self.currentIndex()
        rows = model.rowCount()
        row = current.row() if current.isValid() else 0
        Move = QAbstractItemView.CursorAction
        if not current.isValid():
            row = 0
        elif action in (Move.MoveRight, Move.MoveNext):
            row = min(rows - 1, row + 1)
        elif action in (Move.MoveLeft, Move.MovePrevious):
            row = max(0, row - 1)
        elif action in (Move.MoveDown, Move.MoveUp):
            row = self._vertical_neighbour(row, 1 if action == Move.MoveDown else -1)
        elif action in (Move.MovePageDown, Move.MovePageUp):
            rect = self._content_rect(row)
            down = action == Move.MovePageDown
            y = rect.center().y() + self.viewport().height() * (1 if down else -1)
            target = self._nearest_row(rect.center().x(), y)
            # Landed on a month's header: the first line below it (or the last above).
            probe = y
            while target < 0 and 0 <= probe <= self._height:
                probe += (1 if down else -1) * max(1, self._line_height() // 2)
                target = self._nearest_row(rect.center().x(), probe)
            row = target if target >= 0 else (rows - 1 if down else 0)
        elif action == Move.MoveHome:
            row = 0
        elif action == Move.MoveEnd:
            if model.canFetchMore(QModelIndex()):
                fetch_now = getattr(model, "fetch_now", None)
                while model.canFetchMore(QModelIndex()):
                    if callable(fetch_now):
                        fetch_now(limit=5000)       # here and now, in big pages
                    else:
                        model.fetchMore(QModelIndex())
                self._ensure_layout()
            row = model.rowCount() - 1
        if not modifiers & Qt.KeyboardModifier.ShiftModifier:
            self._anchor = row            # where a later Shift+move or Shift+click extends from
        return model.index(row, 0, self.rootIndex())

    def _vertical_neighbour(self, row: int, direction: int) -> int:
        """Up/down one line, keeping the column; across section headers too."""
        rect = self._content_rect(row)
        y = rect.center().y() + direction * self._line_height()
        if direction > 0:
            y_limit = self._height
            while y < y_limit:
                found = self._row_at(rect.center().x(), y)
                if found >= 0:
                    return found
                # A gap (a header, or a short last line): take the last tile of that line.
                line_row = self._nearest_row(rect.center().x(), y)
                if line_row > row:
                    return line_row
                y += self._line_height() // 2
            model = self.model()
            if model is not None and model.canFetchMore(QModelIndex()):
                fetch_now = getattr(model, "fetch_now", None)
                if callable(fetch_now):
                    fetch_now()
                else:
                    model.fetchMore(QModelIndex())
                self._ensure_layout()
                return min(model.rowCount() - 1, row + self._cols)
            return row
        while y > 0:
            found = self._row_at(rect.center().x(), y)
            if found >= 0:
                return found
            line_row = self._nearest_row(rect.center().x(), y)
            if 0 <= line_row < row:
                return line_row
            y -= self._line_height() // 2
        return row

    def _nearest_row(self, x: int, y: int) -> int:
        """The row at (x, y) or, on a short line, the last tile of that line; -1 in a header."""
        found = self._row_at(x, y)
        if found >= 0:
            return found
        for probe in range(int(x), self._left - 1, -max(1, int(self._cell))):
            found = self._row_at(probe, y)
            if found >= 0:
                return found
        return -1

    def setSelection(self, rect: QRect, command: QItemSelectionModel.SelectionFlag) -> None:
        """A rubber band selects the tiles its rectangle touches; a click, Shift+click or
        Shift+arrow selects the run of photos from the anchor to the target, in reading order
        (as in every photo app), not the rectangle between them."""
        model, selection_model = self.model(), self.selectionModel()
        if model is None or selection_model is None:
            return
        self._ensure_layout()
        if not self._banding:
            self._select_run(rect, command)
            return
        content = rect.normalized().translated(0, self.verticalOffset())
        selection = QItemSelection()
        rows = model.rowCount()
        for s, top in enumerate(self._tops):
            end = self._starts[s + 1] if s + 1 < len(self._starts) else rows
            body_top = top + self._header
            lines = math.ceil((end - self._starts[s]) / self._cols)
            body_bottom = body_top + lines * self._line_height()
            if content.bottom() < body_top or content.top() >= body_bottom:
                continue
            first_line = max(0, (content.top() - body_top) // self._line_height())
            last_line = min(lines - 1, (content.bottom() - body_top) // self._line_height())
            first_col = max(0, int((content.left() - self._left) // self._cell))
            last_col = min(self._cols - 1, int((content.right() - self._left) // self._cell))
            if last_col < first_col:
                continue
            for line in range(first_line, last_line + 1):
                a = self._starts[s] + line * self._cols + first_col
                b = min(end - 1, self._starts[s] + line * self._cols + last_col)
                if a <= b:
                    selection.select(model.index(a, 0, self.rootIndex()),
                                     model.index(b, 0, self.rootIndex()))
        selection_model.select(selection, command)

    def _select_run(self, rect: QRect, command: QItemSelectionModel.SelectionFlag) -> None:
        model, selection_model = self.model(), self.selectionModel()
        rows = model.rowCount()
        corners = [rect.topLeft(), rect.topRight(), rect.bottomLeft(), rect.bottomRight()]
        offset = self.verticalOffset()
        target = -1
        if 0 <= self._anchor < rows:
            # QAbstractItemView passes the rectangle between the anchor's centre and the
            # target's: the target is the corner opposite the anchor.
            a = self.visualRect(model.index(self._anchor, 0, self.rootIndex())).center()
            k = min(range(4), key=lambda i: (corners[i] - a).manhattanLength())
            t = corners[3 - k]
            target = self._row_at(t.x(), t.y() + offset)
        if target < 0:
            target = self._row_at(rect.center().x(), rect.center().y() + offset)
        if target < 0:
            return
        anchor = self._anchor if 0 <= self._anchor < rows else target
        first, last = min(anchor, target), max(anchor, target)
        selection = QItemSelection(model.index(first, 0, self.rootIndex()),
                                   model.index(last, 0, self.rootIndex()))
        selection_model.select(selection, command)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        region = QRegion()
        height = self.viewport().height()
        for i in range(selection.size()):
            span = selection.at(i)
            for row in range(span.top(), span.bottom() + 1):
                rect = self.visualRect(span.model().index(row, 0, span.parent()))
                if rect.bottom() >= 0 and rect.top() <= height:
                    region += rect
        return region

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ensure_layout()
        model = self.model()
        painter = QPainter(self.viewport())
        exposed = event.rect()
        offset = self.verticalOffset()
        palette = self.palette()
        painter.fillRect(exposed, palette.color(QPalette.ColorRole.Base))
        if model is None or model.rowCount() == 0:
            painter.end()
            return
        rows = model.rowCount()
        top, bottom = exposed.top() + offset, exposed.bottom() + offset
        first = max(0, bisect.bisect_right(self._tops, top) - 1)
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        selection = self.selectionModel()
        current = self.currentIndex().row() if self.hasFocus() else -1
        hover = self.indexAt(self.viewport().mapFromGlobal(self.cursor().pos())).row()
        delegate = self.itemDelegate()
        # Our own models hand their tiles' data straight over (three model round trips a
        # tile saved); any other model goes through the delegate's usual paint().
        tile_data = getattr(model, "tile_data", None)
        fast = isinstance(delegate, TileDelegate) and callable(tile_data)
        paired_of = getattr(model, "paired", None)
        if not callable(paired_of):
            paired_of = _unpaired
        damaged_of = getattr(model, "damaged", None)
        if not callable(damaged_of):
            damaged_of = _unpaired
        row_at = getattr(model, "row_at", None)
        region = event.region()
        header_font = QFont(self.font())
        header_font.setPointSizeF(header_font.pointSizeF() * 1.25)
        header_font.setBold(True)
        size = round(self._cell) - SPACING
        line_h = self._line_height()
        root = self.rootIndex()
        for s in range(first, len(self._tops)):
            section_top = self._tops[s]
            if section_top > bottom:
                break
            end = self._starts[s + 1] if s + 1 < len(self._starts) else rows
            if self._labels[s] and section_top + self._header >= top:
                painter.setFont(header_font)
                painter.setPen(palette.color(QPalette.ColorRole.Text))
                painter.drawText(QRect(self._left + 2, section_top - offset + 8,
                                       self.viewport().width() - 2 * MARGIN, self._header - 12),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 self._labels[s])
            body_top = section_top + self._header
            first_line = max(0, (top - body_top) // line_h)
            last_line = (bottom - body_top) // line_h
            a = self._starts[s] + first_line * self._cols
            b = min(end, self._starts[s] + (last_line + 1) * self._cols)
            for row in range(a, b):
                line, col = divmod(row - self._starts[s], self._cols)
                rect = QRect(self._left + round(col * self._cell),
                             body_top + line * line_h - offset, size, size)
                if not region.intersects(rect):
                    continue          # only what needs painting (a strip after a scroll)
                index = model.index(row, 0, root)
                selected = selection is not None and selection.isSelected(index)
                if fast:
                    assert isinstance(delegate, TileDelegate) and callable(tile_data)
                    pixmap, status, score = tile_data(row)
                    item = row_at(row) if callable(row_at) else None
                    delegate.paint_tile(painter, rect, palette, pixmap, status, score,
                                        selected=selected, hover=row == hover,
                                        focus=row == current, paired=paired_of(row),
                                        damaged=damaged_of(row),
                                        favorite=bool(getattr(item, "favorite", False)),
                                        rating=getattr(item, "rating", None),
                                        rejected=bool(getattr(item, "rejected", False)))
                    continue
                option.rect = rect
                state = QStyle.StateFlag.State_Enabled
                if selected:
                    state |= QStyle.StateFlag.State_Selected
                if row == current:
                    state |= QStyle.StateFlag.State_HasFocus
                if row == hover:
                    state |= QStyle.StateFlag.State_MouseOver
                option.state = state
                delegate.paint(painter, option, index)
        self._paint_pinned(painter, header_font, palette, offset)
        painter.end()

    def _paint_pinned(self, painter: QPainter, font: QFont, palette: QPalette,
                      offset: int) -> None:
        """The month of the top of the view, pinned over the tiles once its own header has
        scrolled away; pushed up by the next month's header as it arrives."""
        s = self._pinned_section()
        if s < 0 or not self._labels[s] or self._tops[s] >= offset:
            return
        top = 0
        if s + 1 < len(self._tops):
            top = min(0, self._tops[s + 1] - offset - self._header)
        band = QRect(0, top, self.viewport().width(), self._header)
        base = palette.color(QPalette.ColorRole.Base)
        painter.fillRect(band, base)
        painter.setPen(QColor(palette.color(QPalette.ColorRole.Mid)))
        painter.drawLine(band.bottomLeft(), band.bottomRight())
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(QRect(self._left + 2, top + 8, self.viewport().width() - 2 * MARGIN,
                               self._header - 12),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         self._labels[s])

    # ------------------------------------------------------------------ mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._origin = event.position().toPoint()
        index = self.indexAt(self._origin)
        # Pressed between tiles: a drag draws a rubber band; on a tile, it drags the photos.
        self._banding = not index.isValid()
        if index.isValid() and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._anchor = index.row()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        if (event.buttons() & Qt.MouseButton.LeftButton
                and self.state() == QAbstractItemView.State.DragSelectingState):
            if self._rubber is None:
                self._rubber = QRubberBand(QRubberBand.Shape.Rectangle, self.viewport())
            self._rubber.setGeometry(QRect(self._origin, event.position().toPoint()).normalized())
            self._rubber.show()
        self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        self._banding = False
        if self._rubber is not None:
            self._rubber.hide()

    def leaveEvent(self, event: Any) -> None:
        super().leaveEvent(event)
        self.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 16 if event.angleDelta().y() > 0 else -16
            self.set_tile(self._tile + step)
            event.accept()
            return
        super().wheelEvent(event)
