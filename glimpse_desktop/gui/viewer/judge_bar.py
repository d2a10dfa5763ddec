"""The viewer's judging controls: a heart (favourite), five stars, a reject flag and the two
rotate buttons, in its top bar. They say what the person asked for (``judged``: an action
and its value); the window does it (gui/judge_actions.py) and the viewer shows the result
with ``show``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

__all__ = ["FAVORITE_COLOUR", "STAR_COLOUR", "JudgeBar", "judge_icon"]

FAVORITE_COLOUR = QColor(230, 65, 85)
STAR_COLOUR = QColor(245, 180, 30)
REJECT_COLOUR = QColor(215, 60, 50)


def _heart(c: float) -> QPainterPath:
    path = QPainterPath()
    path.moveTo(c, c + 6.5)
    path.cubicTo(c - 9.5, c, c - 6.5, c - 8.5, c, c - 4)
    path.cubicTo(c + 6.5, c - 8.5, c + 9.5, c, c, c + 6.5)
    return path


def _star(c: float, outer: float = 8.2, inner: float = 3.5) -> QPainterPath:
    path = QPainterPath()
    for k in range(10):
        r = outer if k % 2 == 0 else inner
        a = -math.pi / 2 + k * math.pi / 5
        point = QPointF(c + r * math.cos(a), c + 0.6 + r * math.sin(a))
        if k == 0:
            path.moveTo(point)
        else:
            path.lineTo(point)
    path.closeSubpath()
    return path


def _turn(c: float, clockwise: bool) -> QPainterPath:
    """A square with an arrow curling over it: rotate left or right."""
    path = QPainterPath()
    path.addRoundedRect(QRectF(c - 6.5, c - 1.5, 9, 8), 1.2, 1.2)
    sign = 1 if clockwise else -1
    start = QPointF(c - sign * 4.5, c - 3.5)
    path.moveTo(start)
    path.cubicTo(c - sign * 3, c - 8.5, c + sign * 4.5, c - 8.5, c + sign * 5.5, c - 3)
    path.moveTo(c + sign * 5.5, c - 3)
    path.lineTo(c + sign * 7.8, c - 5.4)
    path.moveTo(c + sign * 5.5, c - 3)
    path.lineTo(c + sign * 2.6, c - 4.3)
    return path


def judge_icon(name: str, colour: QColor, *, filled: bool = False, size: int = 20) -> QIcon:
    """'heart', 'star', 'reject', 'rotate-left', 'rotate-right': line icons, filled when on."""
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(colour, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                  Qt.PenJoinStyle.RoundJoin))
    c = size / 2
    if filled:
        p.setBrush(colour)
    if name == "heart":
        p.drawPath(_heart(c))
    elif name == "star":
        p.drawPath(_star(c))
    elif name == "reject":
        # A flag struck through: Lightroom's "rejected".
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QPointF(c, c), 7.2, 7.2)
        if filled:
            p.setBrush(colour)
            p.drawEllipse(QPointF(c, c), 7.2, 7.2)
            p.setPen(QPen(QColor(255, 255, 255), 1.8, Qt.PenStyle.SolidLine,
                          Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(c - 3.4, c - 3.4), QPointF(c + 3.4, c + 3.4))
        p.drawLine(QPointF(c + 3.4, c - 3.4), QPointF(c - 3.4, c + 3.4))
    elif name in ("rotate-left", "rotate-right"):
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(_turn(c, name == "rotate-right"))
    p.end()
    return QIcon(pixmap)


class JudgeBar(QWidget):
    """♥ ★★★★★ ⊘ ⟲ ⟳: what the person thinks of the photo shown, and the buttons to change it."""

    judged = Signal(str, int)     # ("favorite"|"reject", 0) toggles; ("rating", stars);
    #                               ("rotate", quarter turns clockwise)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.favorite = False
        self.stars = 0
        self.rejected = False
        self.heart = self._button("Favourite (. or F)", lambda: self.judged.emit("favorite", 0))
        self.star_buttons = [
            self._button(f"{n} star{'s' if n > 1 else ''} ({n}); again: none (0)",
                         self._rate(n)) for n in range(1, 6)]
        self.reject_button = self._button("Reject (X)", lambda: self.judged.emit("reject", 0))
        self.rotate_left = self._button("Rotate left ([ or Ctrl+L)",
                                        lambda: self.judged.emit("rotate", 3))
        self.rotate_right = self._button("Rotate right (] or Ctrl+R)",
                                         lambda: self.judged.emit("rotate", 1))
        # Narrow buttons: the viewer's bar must fit an 800 px window beside the sidebar.
        for button in (self.heart, self.reject_button, self.rotate_left, self.rotate_right):
            button.setFixedWidth(26)
        layout.addWidget(self.heart)
        layout.addSpacing(4)
        for button in self.star_buttons:
            button.setFixedWidth(21)
            button.setIconSize(QSize(18, 18))
            layout.addWidget(button)
        layout.addSpacing(4)
        layout.addWidget(self.reject_button)
        layout.addSpacing(8)
        layout.addWidget(self.rotate_left)
        layout.addWidget(self.rotate_right)
        self.restyle()

    def _button(self, tip: str, slot: Callable[[], object]) -> QToolButton:
        button = QToolButton(self)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip(tip)
        button.setIconSize(QSize(20, 20))
        button.clicked.connect(slot)
        return button

    def _rate(self, n: int) -> Callable[[], None]:
        # Clicking the stars a photo has takes them away, as in Lightroom and digiKam.
        return lambda: self.judged.emit("rating", 0 if n == self.stars else n)

    def show_state(self, favorite: bool, stars: int, rejected: bool) -> None:
        """What the photo shown is now."""
        self.favorite, self.stars, self.rejected = favorite, max(0, min(5, stars)), rejected
        self.restyle()

    def restyle(self) -> None:
        line = self.palette().color(QPalette.ColorRole.ButtonText)
        self.heart.setIcon(judge_icon("heart", FAVORITE_COLOUR if self.favorite else line,
                                      filled=self.favorite))
        self.heart.setToolTip("Not a favourite any more (. or F)" if self.favorite
                              else "Favourite (. or F)")
        for n, button in enumerate(self.star_buttons, start=1):
            on = n <= self.stars
            button.setIcon(judge_icon("star", STAR_COLOUR if on else line, filled=on))
        self.reject_button.setIcon(judge_icon("reject", REJECT_COLOUR if self.rejected
                                              else line, filled=self.rejected))
        self.reject_button.setToolTip("Rejected: take it back (X)" if self.rejected
                                      else "Reject (X)")
        self.rotate_left.setIcon(judge_icon("rotate-left", line))
        self.rotate_right.setIcon(judge_icon("rotate-right", line))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.restyle()
