"""Small widgets the window's views share (one of each, used everywhere)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QSpacerItem,
    QWidget,
)


def fit_title(box: QMessageBox) -> QMessageBox:
    """Make a question box wide enough for its title: a short question makes a box so narrow
    that the window manager cuts its title bar ("Write … tadata", "Merge 2 people…").
    QMessageBox ignores setMinimumWidth; a spacer across its grid is the way it accepts."""
    grid = box.layout()
    if isinstance(grid, QGridLayout):
        wide = box.fontMetrics().horizontalAdvance(box.windowTitle()) * 2 + 160
        grid.addItem(QSpacerItem(max(380, wide), 0, QSizePolicy.Policy.Minimum,
                                 QSizePolicy.Policy.Expanding),
                     grid.rowCount(), 0, 1, grid.columnCount())
    return box


class ElidedLabel(QLabel):
    """One line that never asks for more width than it gets: a long text (a path, a file
    name, a download's error) is cut with an ellipsis where it does not fit, while ``text()``
    still gives it whole (and a copy of a selectable one copies it whole).

    ``elide``: where to cut (the middle by default, so a path keeps both ends);
    ``tooltip_over``: the whole text becomes the tooltip once it is longer than this many
    characters (``None``: the owner sets its own tooltip); ``selectable``: the text can be
    selected with the mouse."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *,
                 elide: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
                 tooltip_over: int | None = 0, selectable: bool = False) -> None:
        super().__init__(parent)
        self.elide = elide
        self.tooltip_over = tooltip_over
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)
        if selectable:
            self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setText(self, text: str) -> None:
        if self.tooltip_over is not None:
            self.setToolTip(text if len(text) > self.tooltip_over else "")
        super().setText(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        # Drawn here, the label's own text left whole: what it shows is cut to the width it
        # has now, what it holds (and copies) is not.
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        rect = self.contentsRect()
        line = self.text().replace("\n", " ")
        shown = self.fontMetrics().elidedText(line, self.elide, max(0, rect.width()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.end()
