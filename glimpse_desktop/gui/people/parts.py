"""Small parts of the people views: the message bar, the notice in place of an empty
grid, headings, rules and the open person's cover.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QRectF,
    Qt,
    QTimer,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.gui.people.covers import dim, mix, paint_face

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


class EmptyNotice(QWidget):
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


def heading(text: str, scale: float, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setWeight(QFont.Weight.Bold)
    label.setFont(font)
    return label


class Rule(QWidget):
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


class RoundCover(QWidget):
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


