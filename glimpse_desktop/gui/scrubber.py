"""The timeline scrubber beside the library grid (as Google Photos and Immich have it): the
years and months of the library marked along the grid's whole height, the date under the
pointer shown beside it, a click jumps to that month and a drag scrolls through time.

The marks are where the months are in the grid (``PhotoGrid.months()``), so a year with many
photos takes more of the bar than a quiet one, as its photos take more of the grid. A jump
costs the grid a scroll and the model the pages it then paints (``TimelineModel``): the same
at 1M photos as at 1k.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QLabel, QWidget

if TYPE_CHECKING:
    from glimpse_desktop.gui.grid import PhotoGrid

WIDTH = 64
PAD = 10            # above the first mark and below the last


class TimelineScrubber(QWidget):
    """See the module docstring. ``hovered(label)``: the month under the pointer ("" when
    the pointer left); ``jump_requested(month)``: a click on a month ("2024-03")."""

    hovered = Signal(str)
    jump_requested = Signal(str)

    def __init__(self, grid: PhotoGrid) -> None:
        super().__init__(grid)
        self.grid = grid
        self.setFixedWidth(WIDTH)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("")
        self._hover_y: int | None = None
        self._dragging = False
        self._pressed_y = 0
        # The date under the pointer, beside the bar over the grid (the bar is too narrow
        # for "September 2024").
        self.bubble = QLabel(grid)
        self.bubble.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.bubble.setStyleSheet(
            "QLabel { background: rgba(20, 20, 20, 225); color: white; border-radius: 11px;"
            " padding: 3px 10px; font-weight: bold; }")
        self.bubble.hide()

    # ------------------------------------------------------------------ geometry

    def _span(self) -> tuple[float, float]:
        """(top, height) of the marked part of the bar."""
        return float(PAD), float(max(1, self.height() - 2 * PAD))

    def y_of(self, content_y: float) -> float:
        top, span = self._span()
        return top + span * content_y / max(1, self.grid.content_height())

    def content_y_at(self, y: float) -> float:
        top, span = self._span()
        fraction = min(1.0, max(0.0, (y - top) / span))
        return fraction * self.grid.content_height()

    def month_at(self, y: float) -> tuple[str, str] | None:
        """(month, label) of the grid's month at bar height ``y``, None without months."""
        months = self.grid.months()
        if not months:
            return None
        tops = [m[0] for m in months]
        s = max(0, bisect.bisect_right(tops, self.content_y_at(y)) - 1)
        return months[s][1], months[s][2]

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        months = self.grid.months()
        text = palette.color(QPalette.ColorRole.Text)
        dim = QColor(text)
        dim.setAlpha(110)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        line_h = painter.fontMetrics().height()
        last_label = -1e9
        last_dot = -1e9
        year_seen: set[str] = set()
        for top, key, _label in months:
            y = self.y_of(top)
            year = key[:4] if key else ""
            if year not in year_seen:
                year_seen.add(year)
                if y - last_label >= line_h + 2:
                    painter.setPen(text)
                    painter.drawText(QRectF(2, y - line_h / 2, self.width() - 14, line_h),
                                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                     year or "—")
                    last_label = y
                    last_dot = y
                    continue
            if y - last_dot >= 4 and y - last_label >= line_h / 2 + 2:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(dim)
                painter.drawEllipse(QPointF(self.width() - 8, y), 1.6, 1.6)
                last_dot = y
        # Where the view is: a bar over the span of the library on screen.
        height = max(1, self.grid.content_height())
        offset = self.grid.verticalScrollBar().value()
        page = self.grid.viewport().height()
        y0, y1 = self.y_of(offset), self.y_of(min(height, offset + page))
        highlight = palette.color(QPalette.ColorRole.Highlight)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(highlight)
        painter.drawRoundedRect(QRectF(self.width() - 4, y0, 3, max(6.0, y1 - y0)), 1.5, 1.5)
        if self._hover_y is not None:
            painter.setPen(QPen(highlight, 2))
            painter.drawLine(QPointF(0, self._hover_y), QPointF(self.width(), self._hover_y))
        painter.end()

    # ------------------------------------------------------------------ the pointer

    def _show_bubble(self, y: int) -> None:
        found = self.month_at(y)
        label = found[1] if found else ""
        self._hover_y = y
        self.update()
        self.hovered.emit(label)
        if not label:
            self.bubble.hide()
            return
        self.bubble.setText(label)
        self.bubble.adjustSize()
        at = self.mapTo(self.grid, self.rect().topLeft())
        top = at.y() + y - self.bubble.height() // 2
        top = max(at.y(), min(top, at.y() + self.height() - self.bubble.height()))
        self.bubble.move(at.x() - self.bubble.width() - 6, top)
        self.bubble.show()
        self.bubble.raise_()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        y = round(event.position().y())
        self._show_bubble(y)
        if self._dragging or (event.buttons() & Qt.MouseButton.LeftButton
                              and abs(y - self._pressed_y) > 3):
            self._dragging = True
            # A drag moves through time continuously: wherever the pointer is, row or month.
            self.grid.verticalScrollBar().setValue(round(self.content_y_at(y)))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed_y = round(event.position().y())
            self._dragging = False
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if not self._dragging:
            found = self.month_at(event.position().y())
            if found is not None:
                self.jump_requested.emit(found[0])
                self.grid.scroll_to_month(found[0])
        self._dragging = False
        event.accept()

    def leaveEvent(self, event: object) -> None:
        self._hover_y = None
        self.bubble.hide()
        self.hovered.emit("")
        self.update()

    def hover_at(self, y: int) -> None:
        """Show the date at bar height ``y`` as a pointer there would (screenshots, tests)."""
        self._show_bubble(y)

    def bubble_rect(self) -> QRect:
        return self.bubble.geometry() if self.bubble.isVisible() else QRect()
