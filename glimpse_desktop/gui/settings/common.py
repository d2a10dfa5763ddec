"""What every settings page stands on: the GUI's own preferences, the page with its
title and notice, questions, links, and short calls made off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import shiboken6
from PySide6.QtCore import QRectF, QSettings, Qt
from PySide6.QtGui import (
    QFont,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.gui.tasks import Tasks
from glimpse_desktop.gui.widgets import fit_title

ORGANIZATION = "Glimpse"
APPLICATION = "Glimpse Desktop"
GEOMETRY_KEY = "settings/geometry"
PAGE_KEY = "settings/page"

# The model lists keep each row's dict here (the API's model list records).
RowRole = Qt.ItemDataRole.UserRole + 1
ROW_HEIGHT = 28


def app_settings() -> QSettings:
    """The GUI's own preferences (window places, last page); the library keeps the rest."""
    return QSettings(ORGANIZATION, APPLICATION)


# ---------------------------------------------------------------------- small pieces


def size_text(size: int | None) -> str:
    """'350 MB', '1.2 GB', '—' for a size nobody published."""
    if not size:
        return "—"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            if unit == "bytes":
                return f"{int(value)} bytes"
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
        value /= 1000
    return f"{value:.0f} GB"  # pragma: no cover - the loop always returns


def theme_icon(widget: QWidget, theme: QIcon.ThemeIcon,
          fallback: QStyle.StandardPixmap | None) -> QIcon:
    """The desktop theme's icon where there is one, else the style's own (a drawn person
    where the style has none)."""
    return QIcon.fromTheme(theme, widget.style().standardIcon(fallback) if fallback is not None
                           else person_icon(widget))


def person_icon(widget: QWidget) -> QIcon:
    """A head and shoulders in the palette's accent colour (its text colour when selected)."""
    icon = QIcon()
    for role, mode in ((QPalette.ColorRole.Highlight, QIcon.Mode.Normal),
                       (QPalette.ColorRole.HighlightedText, QIcon.Mode.Selected)):
        pixmap = QPixmap(64, 64)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(widget.palette().color(role))
        painter.drawEllipse(QRectF(19, 4, 26, 26))
        body = QPainterPath()
        body.moveTo(6, 62)
        body.cubicTo(6, 30, 58, 30, 58, 62)
        body.closeSubpath()
        painter.drawPath(body)
        painter.end()
        icon.addPixmap(pixmap, mode)
    return icon


def run_task(owner: QWidget, tasks: Tasks, fn: Callable[[], Any],
         done: Callable[[Any], None] | None = None,
         failed: Callable[[BaseException], None] | None = None, *, read: bool = False) -> int:
    """``tasks.run`` whose callbacks are dropped once ``owner`` is gone: the window may
    delete a closed dialog while one of its calls is still on its way."""

    def alive(callback: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
        if callback is None:
            return None

        def call(arg: Any) -> None:
            if shiboken6.isValid(owner):
                callback(arg)

        return call

    return tasks.run(fn, alive(done), alive(failed), read=read)


def secondary_text(label: QLabel) -> QLabel:
    """Quieter text for explanations; follows the palette (dark or light)."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def wrapped(text: str = "", *, secondary: bool = False, rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    if rich:
        label.setOpenExternalLinks(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    return secondary_text(label) if secondary else label


def link_html(url: str, text: str) -> str:
    if not url:
        return escape(text)
    return f'<a href="{escape(url, quote=True)}">{escape(text)}</a>'


class Notice(QWidget):
    """An inline message under a page's controls: what just happened, or what went wrong and
    what to do. Hidden while there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 4, 0, 4)
        row.setSpacing(8)
        self._icon = QLabel()
        self._icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._text = wrapped()
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self._icon)
        row.addWidget(self._text, 1)
        self.kind = ""
        self.hide()

    def text(self) -> str:
        return self._text.text()

    def say(self, text: str) -> None:
        self._show("info", text, QStyle.StandardPixmap.SP_MessageBoxInformation)

    def warn(self, text: str) -> None:
        self._show("error", text, QStyle.StandardPixmap.SP_MessageBoxWarning)

    def clear(self) -> None:
        self.kind = ""
        self._text.clear()
        self.hide()

    def _show(self, kind: str, text: str, pixmap: QStyle.StandardPixmap) -> None:
        self.kind = kind
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self._icon.setPixmap(self.style().standardIcon(pixmap).pixmap(size, size))
        self._text.setText(text[:1].upper() + text[1:])   # core messages start lower-case
        self.show()


def ask(parent: QWidget, title: str, text: str, informative: str, accept: str,
        on_accept: Callable[[], None], *, icon: QMessageBox.Icon = QMessageBox.Icon.Question,
        destructive: bool = False) -> QMessageBox:
    """A window-modal question that calls ``on_accept`` if the person agrees. Cancel is the
    default answer of a destructive question (Return must not remove anything)."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText(informative)
    box.setTextFormat(Qt.TextFormat.PlainText)
    yes = box.addButton(accept, QMessageBox.ButtonRole.DestructiveRole if destructive
                        else QMessageBox.ButtonRole.AcceptRole)
    if destructive:
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    else:
        box.setDefaultButton(yes)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    fit_title(box)

    def finished() -> None:
        if box.clickedButton() is yes:
            on_accept()
        box.deleteLater()

    box.finished.connect(finished)
    box.open()
    return box


class Page(QWidget):
    """A settings page: a title, a sentence saying what it is for, then its controls."""

    title = ""
    subtitle = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(28, 22, 28, 22)
        self.body.setSpacing(12)
        heading = QLabel(self.title)
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setWeight(QFont.Weight.DemiBold)
        heading.setFont(font)
        heading.setAccessibleName(self.title)
        self.body.addWidget(heading)
        if self.subtitle:
            self.body.addWidget(wrapped(self.subtitle, secondary=True))
        self.body.addSpacing(4)
        self.notice = Notice()

    def load(self) -> None:
        """Read what the page shows (off the GUI thread)."""


