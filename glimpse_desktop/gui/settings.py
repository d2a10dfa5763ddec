"""Settings: photo folders, where the library lives, the search model, faces, captions and
write-back (gui/sharing.py), the device.

One dialog with a sidebar of pages, as in a system settings app. Everything it shows comes from
the same core calls as `glimpse status`, `glimpse models` and `glimpse doctor`, made off the GUI
thread (``Tasks`` for short calls, ``Jobs`` for downloads and re-clustering, so the window's
status bar shows them and they can be cancelled there too). The dialog itself keeps only what
a person chose and where its window was (QSettings); the library's own settings (face pack,
thresholds, model) live in the library file, where the CLI sees them as well.

File pickers and confirmations are thin shells: ``add_folder(path)``,
``ModelList.add_from_file(id, path)`` and the rest do the work, so tests drive them directly,
and every question is a window-modal box opened with ``open()`` (no nested event loop).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, QRectF, QSettings, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.tasks import Job, Jobs, Tasks, describe, duration
from glimpse_desktop.gui.wording import say
from glimpse_desktop.kernel.progress import Progress

ORGANIZATION = "Glimpse"
APPLICATION = "Glimpse Desktop"
GEOMETRY_KEY = "settings/geometry"
PAGE_KEY = "settings/page"

# The model lists keep each row's dict here (what `glimpse models list --json` prints).
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


def _icon(widget: QWidget, theme: QIcon.ThemeIcon,
          fallback: QStyle.StandardPixmap | None) -> QIcon:
    """The desktop theme's icon where there is one, else the style's own (a drawn person
    where the style has none)."""
    return QIcon.fromTheme(theme, widget.style().standardIcon(fallback) if fallback is not None
                           else _person_icon(widget))


def _person_icon(widget: QWidget) -> QIcon:
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


def _run(owner: QWidget, tasks: Tasks, fn: Callable[[], Any],
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


def _secondary(label: QLabel) -> QLabel:
    """Quieter text for explanations; follows the palette (dark or light)."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def _wrapped(text: str = "", *, secondary: bool = False, rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    if rich:
        label.setOpenExternalLinks(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    return _secondary(label) if secondary else label


def _link(url: str, text: str) -> str:
    if not url:
        return escape(text)
    return f'<a href="{escape(url, quote=True)}">{escape(text)}</a>'


class ElidedLabel(QLabel):
    """One line that shortens itself in the middle (a long path keeps both ends) and shows
    the whole text as a tooltip; selectable, so a path can be copied."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        super().setText(text)

    def full_text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle,
                                             rect.width())
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)


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
        self._text = _wrapped()
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
            self.body.addWidget(_wrapped(self.subtitle, secondary=True))
        self.body.addSpacing(4)
        self.notice = Notice()

    def load(self) -> None:
        """Read what the page shows (off the GUI thread)."""


# ---------------------------------------------------------------------- Folders


class FoldersPage(Page):
    title = "Folders"
    subtitle = ("The folders that hold your photos. Glimpse reads them and keeps the library in "
                "step as files come and go; it never changes or deletes a photo.")

    roots_changed = Signal()

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks = lib, tasks
        self._roots: dict[str, dict[str, Any]] = {}
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Folder", "Photos", "State"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.headerItem().setTextAlignment(
            1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.empty = _wrapped("No folders yet. Add the folder that holds your photos (for "
                              "example Pictures); its subfolders are included.", secondary=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.empty)
        self.body.addWidget(self.stack, 1)

        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add Folder…")
        self.add_button.setIcon(_icon(self, QIcon.ThemeIcon.ListAdd,
                                      QStyle.StandardPixmap.SP_FileDialogNewFolder))
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setIcon(_icon(self, QIcon.ThemeIcon.ListRemove,
                                         QStyle.StandardPixmap.SP_TrashIcon))
        self.remove_button.clicked.connect(self._remove_selected)
        self.open_button = QPushButton("Show in File Manager")
        self.open_button.clicked.connect(self._open_selected)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        self.body.addLayout(buttons)
        self.body.addWidget(self.notice)
        self._selection_changed()

    # -- reading

    def load(self) -> None:
        _run(self, self.tasks, self.lib.roots, done=self._show, failed=self._failed, read=True)

    def roots(self) -> list[dict[str, Any]]:
        """The folders as last shown."""
        return list(self._roots.values())

    def _show(self, rows: list[dict[str, Any]]) -> None:
        chosen = self.selected_path()
        self._roots = {str(r["path"]): r for r in rows}
        self.tree.clear()
        folder_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        offline_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for row in rows:
            path = str(row["path"])
            photos = int(row["photos"]) + int(row["offline"])
            count = f"{photos:,}"
            if row["missing"]:
                count += f" ({int(row['missing']):,} missing)"
            if not row["present"]:
                state = "Not connected"
                why = ("The folder cannot be reached (an unplugged drive?). Its photos are "
                       "kept and come back when it does.")
            elif row["last_scan_at"] is None:
                state, why = "Not read yet", "Its photos are read in the background."
            else:
                state, why = "Available", f"Last read {str(row['last_scan_at'])[:16]}"
            item = QTreeWidgetItem([path, count, state])
            item.setSizeHint(0, QSize(0, ROW_HEIGHT))
            item.setData(0, Qt.ItemDataRole.UserRole, path)
            item.setIcon(0, folder_icon if row["present"] else offline_icon)
            item.setToolTip(0, path)
            item.setToolTip(2, why)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            if path == chosen:
                item.setSelected(True)
        self.stack.setCurrentWidget(self.tree if rows else self.empty)
        self._selection_changed()

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(f"Could not read the folders: {describe(exc)}")

    def selected_path(self) -> str | None:
        items = self.tree.selectedItems()
        return str(items[0].data(0, Qt.ItemDataRole.UserRole)) if items else None

    def select(self, path: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None:
                item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) == path)

    def _selection_changed(self) -> None:
        chosen = self.selected_path()
        self.remove_button.setEnabled(chosen is not None)
        self.open_button.setEnabled(chosen is not None
                                    and bool(self._roots.get(chosen, {}).get("present")))

    # -- changing

    def choose_folder(self) -> None:
        """Add… : the system's folder picker, then ``add_folder``."""
        start = self.selected_path() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Add a Photo Folder", start)
        if folder:
            self.add_folder(folder)

    def add_folder(self, path: str) -> None:
        """Add a photo folder to the library; ``roots_changed`` once it is in."""
        self.notice.clear()
        self.add_button.setEnabled(False)
        _run(self, self.tasks, lambda: self.lib.add_root(path), done=self._added,
             failed=self._add_failed)

    def _added(self, result: dict[str, Any]) -> None:
        self.add_button.setEnabled(True)
        name = os.path.basename(result["path"]) or result["path"]
        text = f"Added {name}. Its photos are read in the background."
        if result.get("absorbed"):
            text += (" It holds folders that were already in the library ("
                     + ", ".join(os.path.basename(p) for p in result["absorbed"])
                     + "); their photos stay as they are.")
        self.notice.say(text)
        self.load()
        self.select(result["path"])
        self.roots_changed.emit()

    def _add_failed(self, exc: BaseException) -> None:
        self.add_button.setEnabled(True)
        self.notice.warn(f"Could not add the folder: {describe(exc)}")

    def _remove_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.remove_folder(path)

    def remove_folder(self, path: str) -> QMessageBox:
        """Ask, then take the folder out of the library (its files stay where they are)."""
        row = self._roots.get(path, {})
        photos = int(row.get("photos", 0)) + int(row.get("offline", 0)) \
            + int(row.get("missing", 0))
        name = os.path.basename(path.rstrip(os.sep)) or path
        what = f"Its {photos:,} photo{'' if photos == 1 else 's'}" if photos else "Its photos"
        return ask(self, "Remove Folder", f"Remove “{name}” from the library?",
                   f"{what} leave the library, with the faces, tags and search data found in "
                   f"them. The files themselves are not touched: add the folder again to bring "
                   "them back.", "Remove Folder", lambda: self._remove_now(path),
                   icon=QMessageBox.Icon.Warning, destructive=True)

    def _remove_now(self, path: str) -> None:
        self.notice.clear()
        self.remove_button.setEnabled(False)
        _run(self, self.tasks, lambda: self.lib.remove_root(path),
             done=lambda n: self._removed(path, int(n)),
             failed=self._remove_failed)

    def _removed(self, path: str, count: int) -> None:
        name = os.path.basename(path.rstrip(os.sep)) or path
        self.notice.say(f"Removed {name}: {count:,} photo{'' if count == 1 else 's'} left the "
                        "library. The files are untouched.")
        self.load()
        self.roots_changed.emit()

    def _remove_failed(self, exc: BaseException) -> None:
        self._selection_changed()
        self.notice.warn(f"Could not remove the folder: {describe(exc)}")

    def _open_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))


# ---------------------------------------------------------------------- Library


class LibraryPage(Page):
    title = "Library"
    subtitle = ("Where Glimpse keeps what it knows about your photos: names, faces, search data "
                "and thumbnails. Your photos themselves stay in their folders.")

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks = lib, tasks
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(10)
        self.photos = QLabel("…")
        form.addRow("Photos:", self.photos)
        self.paths: dict[str, ElidedLabel] = {}
        for key, label, path in (("library", "Library file:", lib.paths.library),
                                 ("cache", "Thumbnails:", lib.paths.cache),
                                 ("models", "Models:", lib.paths.models)):
            field = ElidedLabel(str(path))
            self.paths[key] = field
            button = QPushButton("Show")
            button.setToolTip("Open the folder that holds it in the file manager")
            # The library is a file: show the folder that holds it. (No stat here: a path on
            # a sleeping network drive must not hang the window.)
            folder = path.parent if key == "library" else path
            button.clicked.connect(lambda _=False, f=folder: self._open(Path(f)))
            row = QHBoxLayout()
            row.addWidget(field, 1)
            row.addWidget(button)
            form.addRow(label, row)
        self.sizes = _secondary(QLabel(""))
        form.addRow("", self.sizes)
        self.body.addLayout(form)

        another = QGroupBox("Another library")
        inner = QVBoxLayout(another)
        inner.addWidget(_wrapped("A library is one file. To open another one (on an external "
                                 "drive, or a separate collection), start Glimpse with:",
                                 secondary=True))
        command = QLabel(f"glimpse-desktop --library {Path('PATH')}")
        command.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        command.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner.addWidget(command)
        inner.addWidget(_wrapped("A library that does not exist yet is created there, with its "
                                 "thumbnails beside it.", secondary=True))
        self.body.addWidget(another)
        self.body.addWidget(self.notice)
        self.body.addStretch(1)

    def load(self) -> None:
        lib = self.lib

        def read() -> dict[str, Any]:
            status = lib.status()
            try:
                status["library_bytes"] = os.path.getsize(lib.paths.library)
            except OSError:
                status["library_bytes"] = None
            return status

        _run(self, self.tasks, read, done=self._show, failed=self._failed, read=True)

    def _show(self, status: dict[str, Any]) -> None:
        roots = len(status["roots"])
        text = (f"{status['photos'] + status['offline']:,} photos in {roots:,} "
                f"folder{'' if roots == 1 else 's'}")
        extra = [f"{status[k]:,} {k}" for k in ("offline", "missing") if status[k]]
        if extra:
            text += f" ({', '.join(extra)})"
        self.photos.setText(text)
        if status.get("library_bytes"):
            self.sizes.setText(f"The library file takes {size_text(status['library_bytes'])}.")

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(f"Could not read the library: {describe(exc)}")

    def _open(self, folder: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


# ---------------------------------------------------------------------- models


PHASES = {"download": "Downloading", "verify": "Checking", "copy": "Copying",
          "waiting": "Waiting"}


class ModelList(QWidget):
    """CLIP models or face packs: what is installed and in use, with its licence, and the
    actions a person takes on one (download, add from a file, use, remove).

    ``kind`` is ``"clip"`` or ``"faces"``. Downloads and copies run as jobs, so the window's
    status bar shows them too; the progress is also shown here, with a Cancel button."""

    changed = Signal()          # a model was installed, removed or chosen

    def __init__(self, kind: str, lib: Library, tasks: Tasks, jobs: Jobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if kind not in ("clip", "faces"):
            raise ValueError(f"kind is clip or faces, not {kind!r}")
        self.kind, self.lib, self.tasks, self.jobs = kind, lib, tasks, jobs
        self._rows: dict[str, dict[str, Any]] = {}
        self.job: Job | None = None
        self._job_model: str | None = None
        self.notice = Notice()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Model" if kind == "clip" else "Face pack", "State", "Size"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        outer.addWidget(self.tree)

        details = QFrame()
        details.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(details)
        box.setContentsMargins(14, 12, 14, 12)
        box.setSpacing(6)
        self.name = QLabel()
        bold = QFont(self.name.font())
        bold.setWeight(QFont.Weight.DemiBold)
        self.name.setFont(bold)
        self.name.setWordWrap(True)
        self.summary = _wrapped()
        self.facts = _wrapped(secondary=True)
        self.licence = _wrapped(rich=True)
        box.addWidget(self.name)
        box.addWidget(self.summary)
        box.addWidget(self.facts)
        box.addWidget(self.licence)

        actions = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(lambda: self.download(self.selected()))
        self.add_button = QPushButton("Add from File…" if kind == "clip" else "Add from Folder…")
        self.add_button.clicked.connect(self.choose_file)
        self.use_button = QPushButton("Use This Model" if kind == "clip" else "Use This Pack")
        self.use_button.clicked.connect(lambda: self.use(self.selected()))
        self.remove_button = QPushButton("Remove…")
        self.remove_button.clicked.connect(lambda: self.remove(self.selected()))
        for button in (self.use_button, self.download_button, self.add_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.remove_button)
        box.addSpacing(4)
        box.addLayout(actions)

        progress = QHBoxLayout()
        self.progress_label = _secondary(QLabel())
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        progress.addWidget(self.progress_label, 2)
        progress.addWidget(self.progress_bar, 3)
        progress.addWidget(self.cancel_button)
        self.progress_row = QWidget()
        self.progress_row.setLayout(progress)
        progress.setContentsMargins(0, 0, 0, 0)
        self.progress_row.hide()
        box.addWidget(self.progress_row)
        box.addWidget(self.notice)
        outer.addWidget(details)
        self._selection_changed()

    # -- reading

    def load(self) -> None:
        fn = self.lib.model_list if self.kind == "clip" else self.lib.face_pack_list
        _run(self, self.tasks, fn, done=self._show, failed=self._failed, read=True)

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows.values())

    def row(self, model_id: str) -> dict[str, Any] | None:
        return self._rows.get(model_id)

    def state(self, model_id: str) -> str:
        """The State column as shown."""
        item = self._item(model_id)
        return item.text(1) if item is not None else ""

    def _state(self, row: dict[str, Any]) -> str:
        parts = []
        if row["active"]:
            parts.append("In use")
        elif row.get("target"):
            parts.append("Switching to it")
        if row.get("builtin"):
            parts.append("Comes with Glimpse")
        elif row["installed"]:
            parts.append("Installed")
        else:
            parts.append("Not installed")
        if row["default"]:
            parts.append("Recommended")
        return " · ".join(parts)

    def _show(self, rows: list[dict[str, Any]]) -> None:
        chosen = self.selected()
        self._rows = {str(r["id"]): r for r in rows}
        self.tree.clear()
        ok = self.style().standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton)
        bold = QFont(self.tree.font())
        bold.setWeight(QFont.Weight.DemiBold)
        for row in rows:
            item = QTreeWidgetItem([str(row["name"]), self._state(row), size_text(row["size"])])
            item.setData(0, RowRole, row)
            item.setSizeHint(0, QSize(0, ROW_HEIGHT))
            item.setToolTip(0, f"{row['name']} ({row['id']})")
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if row["active"]:
                item.setIcon(1, ok)
                for col in range(3):
                    item.setFont(col, bold)
            self.tree.addTopLevelItem(item)
        wanted = chosen if chosen in self._rows else next(
            (str(r["id"]) for r in rows if r["active"]),
            next((str(r["id"]) for r in rows if r["default"]), None))
        if wanted is not None:
            self.select(wanted)
        # A handful of models: the list is as tall as its rows, the details sit under it.
        frame = 2 * self.tree.frameWidth()
        self.tree.setFixedHeight(self.tree.header().sizeHint().height() + frame + 2
                                 + ROW_HEIGHT * max(2, len(rows)))
        self._selection_changed()

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(f"Could not read the models: {describe(exc)}")

    def _item(self, model_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.data(0, RowRole)["id"] == model_id:
                return item
        return None

    def select(self, model_id: str) -> None:
        item = self._item(model_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def selected(self) -> str | None:
        item = self.tree.currentItem()
        return str(item.data(0, RowRole)["id"]) if item is not None else None

    def _selection_changed(self) -> None:
        model_id = self.selected()
        row = self._rows.get(model_id or "")
        busy = self.job is not None
        for widget in (self.name, self.summary, self.facts, self.licence):
            widget.setVisible(row is not None)
        if row is None:
            for button in (self.download_button, self.add_button, self.use_button,
                           self.remove_button):
                button.setEnabled(False)
            return
        self.name.setText(f"{row['name']}")
        self.summary.setText(row.get("summary") or "")
        self.summary.setVisible(bool(row.get("summary")))
        facts = [f"id {row['id']}"]
        if row.get("dim"):
            facts.append(f"{row['dim']}-dimensional")
        if row.get("size"):
            facts.append(size_text(row["size"]))
        r5 = row.get("retrieval_r5") or {}
        if r5:
            names = {"flickr30k": "Flickr30k", "mscoco": "MS-COCO"}
            facts.append("retrieval R@5 " + ", ".join(f"{names.get(k, k)} {v:g}"
                                                     for k, v in r5.items()))
        self.facts.setText(" · ".join(facts))
        licence = f"Licence: {_link(row.get('licence_url') or '', str(row['licence']))}"
        if row.get("restricted"):
            licence += ("<br>You are asked to accept this licence before it is downloaded; "
                        "it does not allow commercial use.")
        self.licence.setText(licence)
        builtin = bool(row.get("builtin"))
        self.download_button.setEnabled(not busy and not row["installed"] and not builtin)
        self.add_button.setEnabled(not busy and not row["installed"] and not builtin)
        self.download_button.setVisible(not row["installed"])
        self.add_button.setVisible(not row["installed"])
        self.use_button.setEnabled(not busy and row["installed"] and not row["active"]
                                   and not row.get("target"))
        self.use_button.setVisible(bool(row["installed"]))
        self.remove_button.setEnabled(not busy and row["installed"] and not builtin)
        self.remove_button.setVisible(bool(row["installed"]) and not builtin)

    # -- changing

    def _confirm_licence(self, row: dict[str, Any], then: Callable[[], None]) -> None:
        if not row.get("restricted"):
            then()
            return
        url = row.get("licence_url") or ""
        ask(self, "Licence", f"{row['name']} comes under its own licence:",
            f"{row['licence']}." + (f"\n\nRead it at {url}" if url else "")
            + "\n\nDo you accept this licence?", "Accept and Download", then,
            icon=QMessageBox.Icon.Warning)

    def download(self, model_id: str | None) -> None:
        """Download a model or face pack (after accepting a restricted licence)."""
        row = self._rows.get(model_id or "")
        if row is None or self.job is not None:
            return
        self._confirm_licence(row, lambda: self._start(row, "download", None))

    def choose_file(self) -> None:
        """Add from File… : the file (CLIP) or folder (face pack) picker, then
        ``add_from_file``."""
        model_id = self.selected()
        if model_id is None:
            return
        if self.kind == "clip":
            path, _ = QFileDialog.getOpenFileName(
                self, "Add Model Weights", str(Path.home()),
                "Model weights (*.safetensors *.pt *.pth *.bin);;All files (*)")
        else:
            path = QFileDialog.getExistingDirectory(
                self, "Folder Holding the Face Pack Files", str(Path.home()))
        if path:
            self.add_from_file(model_id, path)

    def add_from_file(self, model_id: str, path: str) -> None:
        """Install from a local file (a folder of files for a face pack): for machines
        without internet. The file is checked and copied; it is left where it is."""
        row = self._rows.get(model_id)
        if row is None or self.job is not None:
            return
        self._confirm_licence(row, lambda: self._start(row, "add", path))

    def _start(self, row: dict[str, Any], action: str, path: str | None) -> None:
        lib, model_id = self.lib, str(row["id"])
        if self.kind == "clip":
            if action == "download":
                def work(progress: Any, cancel: Any) -> Any:
                    return lib.download_model(model_id, progress=progress, cancel=cancel)
            else:
                def work(progress: Any, cancel: Any) -> Any:
                    return lib.add_model(model_id, str(path), progress=progress, cancel=cancel)
        elif action == "download":
            def work(progress: Any, cancel: Any) -> Any:
                return lib.models.download_face_pack(model_id, progress=progress, cancel=cancel)
        else:
            def work(progress: Any, cancel: Any) -> Any:
                return lib.models.add_face_pack(model_id, Path(str(path)), progress=progress,
                                                cancel=cancel)
        self.notice.clear()
        verb = "Downloading" if action == "download" else "Adding"
        self.job = self.jobs.start(f"{verb} {row['name']}", work)
        self._job_model = model_id
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._job_done)
        self.job.failed.connect(self._job_failed)
        self.progress_label.setText(f"{verb}…")
        self.progress_bar.setRange(0, 0)
        self.progress_row.show()
        self._selection_changed()

    def _progress(self, event: Progress) -> None:
        what = PHASES.get(event.phase.split()[0] if event.phase else "", event.phase or "")
        if event.total:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(min(1000, int(event.done * 1000 // event.total)))
            text = f"{what} {size_text(event.done)} of {size_text(event.total)}"
        else:
            self.progress_bar.setRange(0, 0)
            text = f"{what} {size_text(event.done)}" if event.done else f"{what}…"
        if event.rate and event.phase == "download":
            text += f" · {size_text(int(event.rate))}/s"
        if event.eta is not None and event.total and event.eta >= 1:
            text += f" · {duration(event.eta)} left"
        self.progress_label.setText(text)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress_label.setText("Cancelling…")

    def _job_ended(self) -> str:
        model_id = self._job_model or ""
        self.job, self._job_model = None, None
        self.progress_row.hide()
        return model_id

    def _job_done(self, result: object) -> None:
        cancelled = self.job is not None and self.job.cancelled
        model_id = self._job_ended()
        name = self._rows.get(model_id, {}).get("name", model_id)
        if cancelled:
            self.notice.say("Cancelled. What was downloaded is kept: Download carries on "
                            "from there.")
        else:
            use = "Use This Model" if self.kind == "clip" else "Use This Pack"
            self.notice.say(f"{name} is installed. {use} switches to it.")
        self.load()
        if not cancelled:
            self.changed.emit()

    def _job_failed(self, why: str) -> None:
        self._job_ended()
        self.notice.warn(why)
        self.load()

    def use(self, model_id: str | None) -> None:
        """Make this the model search uses (or the pack People uses)."""
        row = self._rows.get(model_id or "")
        if row is None:
            return
        lib = self.lib
        name = str(row["name"])
        self.notice.clear()
        self.use_button.setEnabled(False)
        if self.kind == "clip":
            _run(self, self.tasks, lambda: lib.use_model(str(row["id"])),
                 done=lambda status: self._used_model(name, str(row["id"]), status),
                 failed=self._use_failed)
        else:
            _run(self, self.tasks, lambda: lib.use_face_pack(str(row["id"])),
                 done=lambda status: self._used_pack(name, status),
                 failed=self._use_failed)

    def _used_model(self, name: str, model_id: str, status: dict[str, Any]) -> None:
        if status.get("active") == model_id:
            self.notice.say(f"Search uses {name}.")
        else:
            todo = status.get("backlog") or 0
            self.notice.say(f"Chose {name}. Your photos are read with it in the background "
                            f"({todo:,} to do); search keeps using the previous model until "
                            "then.")
        self.load()
        self.changed.emit()

    def _used_pack(self, name: str, status: dict[str, Any]) -> None:
        todo = int(status.get("backlog") or 0)
        self.notice.say(f"People now uses {name}. {todo:,} photo{'' if todo == 1 else 's'} "
                        "are looked at again with it in the background; names and rejections "
                        "carry over.")
        self.load()
        self.changed.emit()

    def _use_failed(self, exc: BaseException) -> None:
        self._selection_changed()
        self.notice.warn(describe(exc))

    def remove(self, model_id: str | None) -> QMessageBox | None:
        """Ask, then delete the weights (embeddings already made stay in the library)."""
        row = self._rows.get(model_id or "")
        if row is None:
            return None
        lib, ident = self.lib, str(row["id"])
        extra = (" Search falls back to file names and text until another model is chosen."
                 if row["active"] and self.kind == "clip" else "")

        def now() -> None:
            _run(self, self.tasks, lambda: lib.remove_model(ident),
                 done=lambda _: self._removed(row), failed=self._use_failed)

        return ask(self, "Remove Model", f"Remove {row['name']} from this computer?",
                   f"Its files ({size_text(row['size'])}) are deleted; you can download or "
                   f"add it again later.{extra}", "Remove", now,
                   icon=QMessageBox.Icon.Warning, destructive=True)

    def _removed(self, row: dict[str, Any]) -> None:
        self.notice.say(f"Removed {row['name']}.")
        self.load()
        self.changed.emit()


class SearchModelPage(Page):
    title = "Search Model"
    subtitle = ("The model that lets you find photos by describing them (“kids on a beach”). "
                "It runs on this computer; your photos never leave it.")

    def __init__(self, lib: Library, tasks: Tasks, jobs: Jobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = ModelList("clip", lib, tasks, jobs)
        self.body.addWidget(self.models)
        self.body.addWidget(_wrapped(
            "No internet on this computer? Download the model file on another one (the "
            "licence link leads to it), then use Add from File…", secondary=True))
        self.body.addStretch(1)

    def load(self) -> None:
        self.models.load()


# ---------------------------------------------------------------------- Faces


class FacesPage(Page):
    title = "Faces"
    subtitle = ("Glimpse finds faces in your photos and groups them into people, all on this "
                "computer.")

    faces_toggled = Signal(bool)
    people_changed = Signal()

    def __init__(self, lib: Library, tasks: Tasks, jobs: Jobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks, self.jobs = lib, tasks, jobs
        self.job: Job | None = None
        self._defaults: tuple[float, float, int] | None = None
        self.enabled = QCheckBox("Find faces and group them into people")
        self.enabled.toggled.connect(self.set_faces_enabled)
        self.body.addWidget(self.enabled)
        self.enabled_note = _wrapped("Turning this off keeps the people found so far.",
                                     secondary=True)
        indicator = self.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
        spacing = self.style().pixelMetric(QStyle.PixelMetric.PM_CheckBoxLabelSpacing)
        self.enabled_note.setContentsMargins(indicator + spacing, 0, 0, 0)
        self.body.addWidget(self.enabled_note)

        self.packs = ModelList("faces", lib, tasks, jobs)
        self.packs.changed.connect(self._load_thresholds)
        self.body.addWidget(self.packs)

        group = QGroupBox("Grouping")
        inner = QVBoxLayout(group)
        inner.addWidget(_wrapped(
            "Higher similarities make fewer mistakes and leave more faces waiting to be "
            "named; lower ones group more faces and mix up more people. Each face pack has "
            "its own values.", secondary=True))
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.join = self._similarity()
        self.found = self._similarity()
        self.min_faces = QSpinBox()
        self.min_faces.setRange(1, 50)
        self.min_faces.setSuffix(" faces")
        self.min_faces.setMinimumWidth(110)
        form.addRow("Join a person from similarity:", self.join)
        form.addRow("Start a new person from similarity:", self.found)
        form.addRow("A new person needs at least:", self.min_faces)
        inner.addLayout(form)
        buttons = QHBoxLayout()
        self.defaults_button = QPushButton("Restore Defaults")
        self.defaults_button.clicked.connect(self.restore_defaults)
        self.apply_button = QPushButton("Apply and Regroup Faces")
        self.apply_button.clicked.connect(self.apply_thresholds)
        buttons.addStretch(1)
        buttons.addWidget(self.defaults_button)
        buttons.addWidget(self.apply_button)
        inner.addLayout(buttons)
        self.group_note = Notice()
        inner.addWidget(self.group_note)
        self.body.addWidget(group)
        self.body.addWidget(self.notice)
        self.body.addStretch(1)
        for widget in (self.join, self.found, self.min_faces, self.apply_button,
                       self.defaults_button, self.enabled):
            widget.setEnabled(False)     # until the library's values are read

    @staticmethod
    def _similarity() -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.05, 0.95)
        box.setSingleStep(0.01)
        box.setDecimals(2)
        box.setMinimumWidth(110)
        return box

    def load(self) -> None:
        self.packs.load()
        self._load_thresholds()

    def _load_thresholds(self) -> None:
        people = self.lib.people

        def read() -> dict[str, Any]:
            pack = people.pack()
            return {"params": people.params(), "enabled": people.enabled(),
                    "defaults": (pack.join, pack.found, 3), "pack": pack.name,
                    "status": people.status()}

        _run(self, self.tasks, read, done=self._show, failed=self._failed, read=True)

    def _show(self, info: dict[str, Any]) -> None:
        params = info["params"]
        self._defaults = info["defaults"]
        self.enabled.blockSignals(True)
        self.enabled.setChecked(bool(info["enabled"]))
        self.enabled.blockSignals(False)
        self.join.setValue(float(params.join))
        self.found.setValue(float(params.found))
        self.min_faces.setValue(int(params.min_faces))
        status = info["status"]
        if status.get("problem"):
            self.notice.warn(say(status["problem"]))
        for widget in (self.join, self.found, self.min_faces, self.defaults_button,
                       self.enabled):
            widget.setEnabled(True)
        self.apply_button.setEnabled(self.job is None)

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(f"Could not read the face settings: {describe(exc)}")

    def set_faces_enabled(self, on: bool) -> None:
        lib = self.lib
        self.enabled.setEnabled(False)
        _run(self, self.tasks, lambda: lib.set_faces(on), done=lambda _: self._toggled(on),
             failed=self._toggle_failed)

    def _toggled(self, on: bool) -> None:
        self.enabled.setEnabled(True)
        self.enabled_note.setText(
            "Faces are found in the background, in photos read before too." if on else
            "Face finding is off. The people found so far stay.")
        self.faces_toggled.emit(on)

    def _toggle_failed(self, exc: BaseException) -> None:
        self.notice.warn(describe(exc))
        self._load_thresholds()

    def restore_defaults(self) -> None:
        if self._defaults is not None:
            join, found, min_faces = self._defaults
            self.join.setValue(join)
            self.found.setValue(found)
            self.min_faces.setValue(min_faces)

    def apply_thresholds(self) -> Job | None:
        """Remember the thresholds and group every face again from its stored embedding
        (no face is looked for again; names, hand placements and rejections are kept)."""
        if self.job is not None:
            return None
        people = self.lib.people
        join, found, min_faces = self.join.value(), self.found.value(), self.min_faces.value()

        def work(progress: Any, cancel: Any) -> Any:
            progress(Progress("recluster", "Grouping faces", 0, None))
            return people.recluster(join=join, found=found, min_faces=min_faces)

        self.group_note.clear()
        self.apply_button.setEnabled(False)
        self.job = self.jobs.start("Grouping faces", work)
        self.job.finished.connect(self._regrouped)
        self.job.failed.connect(self._regroup_failed)
        self.group_note.say("Grouping faces…")
        return self.job

    def _regrouped(self, report: Any) -> None:
        self.job = None
        self.apply_button.setEnabled(True)
        if report is None:
            self.group_note.say("Cancelled.")
            return
        waiting = int(report.waiting)
        self.group_note.say(
            f"Grouped {int(report.faces):,} faces: {int(report.founded):,} new "
            f"{'person' if report.founded == 1 else 'people'}, {waiting:,} "
            f"face{'' if waiting == 1 else 's'} waiting.")
        self._load_thresholds()
        self.people_changed.emit()

    def _regroup_failed(self, why: str) -> None:
        self.job = None
        self.apply_button.setEnabled(True)
        self.group_note.warn(why)


# ---------------------------------------------------------------------- Device


class DevicePage(Page):
    title = "Device"
    subtitle = ("What runs the models on this computer. Glimpse picks a GPU when there is one "
                "(CUDA, then Apple Metal), else the CPU.")

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks = lib, tasks
        self.info: dict[str, Any] | None = None
        self._loading = False
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setHorizontalSpacing(16)
        self.form.setVerticalSpacing(10)
        self.fields: dict[str, QLabel] = {}
        for key, label in (("search", "Search model runs on:"),
                           ("faces", "Face models run on:"),
                           ("providers", "ONNX Runtime can use:"),
                           ("torch", "PyTorch:"),
                           ("cpu", "CPU threads:"),
                           ("model", "Search model:"),
                           ("versions", "Versions:")):
            field = _wrapped("Looking…" if key == "search" else "")
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = field
            self.form.addRow(label, field)
        self.body.addLayout(self.form)
        row = QHBoxLayout()
        self.copy_button = QPushButton("Copy Details")
        self.copy_button.setToolTip("Everything this page says, for a bug report")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_details)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        self.body.addLayout(row)
        self.body.addWidget(self.notice)
        self.body.addStretch(1)

    def load(self) -> None:
        # Asking the devices imports torch and onnxruntime: seconds, so only when shown.
        if self._loading or self.info is not None:
            return
        self._loading = True
        _run(self, self.tasks, self.lib.doctor, done=self._show, failed=self._failed, read=True)

    def _show(self, info: dict[str, Any]) -> None:
        self._loading = False
        self.info = info
        dev = info.get("devices", {})
        chosen = dev.get("device", {})
        names = {"cpu": "CPU", "cuda": "NVIDIA GPU (CUDA)", "mps": "Apple GPU (Metal)"}
        self.fields["search"].setText(f"{names.get(chosen.get('chosen'), chosen.get('chosen'))}"
                                      f" — {chosen.get('why', '')}")
        providers = info.get("faces", {}).get("providers") or []
        self.fields["faces"].setText(_provider(providers[0]) if providers else "not available")
        ort = dev.get("onnxruntime", {})
        available = ort.get("providers") or []
        self.fields["providers"].setText(
            ", ".join(_provider(p) for p in available) if available
            else f"onnxruntime {ort.get('installed', 'not installed')}")
        torch = dev.get("torch", {})
        gpu = [name for name, key in (("CUDA", "cuda"), ("Metal", "mps")) if torch.get(key)]
        self.fields["torch"].setText(f"{torch.get('installed', 'not installed')}"
                                     + (f" (sees {', '.join(gpu)})" if gpu else
                                        " (no GPU seen)"))
        self.fields["cpu"].setText(str(dev.get("cpu_threads", "?")))
        search = info.get("search", {})
        if search.get("active"):
            model = f"{search['active']}"
            if search.get("precision"):
                model += f" — {search['precision']}"
        elif search.get("installed"):
            model = f"{search.get('target')} (photos are being read with it)"
        else:
            model = "not installed — search uses file names and text"
        self.fields["model"].setText(model)
        self.fields["versions"].setText(
            f"Glimpse {info.get('glimpse')} · Python {info.get('python')} · SQLite "
            f"{info.get('sqlite')} · sqlite-vec {info.get('sqlite_vec')} · Pillow "
            f"{info.get('pillow')} · libheif {info.get('libheif')}")
        self.copy_button.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.fields["search"].setText("")
        self.notice.warn(f"Could not ask the devices: {describe(exc)}")

    def copy_details(self) -> None:
        if self.info is not None:
            QGuiApplication.clipboard().setText(json.dumps(self.info, indent=2, default=str))
            self.notice.say("Copied: paste it into your bug report.")


def _provider(name: str) -> str:
    """'CUDAExecutionProvider' -> 'CUDA'."""
    return name.removesuffix("ExecutionProvider") or name


# ---------------------------------------------------------------------- the dialog


class SettingsDialog(QDialog):
    """The settings window. ``roots_changed``: a folder was added or removed (the window
    re-indexes and restarts watching); ``models_changed``: a CLIP model or face pack was
    installed, chosen or removed, or face finding turned on or off (the window catches up in
    the background); ``people_changed``: faces were regrouped; ``captions_changed``: a
    captioning run ended."""

    roots_changed = Signal()
    models_changed = Signal()
    people_changed = Signal()
    captions_changed = Signal()

    PAGES = ("folders", "library", "search", "faces", "captions", "writeback", "device")

    def __init__(self, lib: Library, tasks: Tasks, jobs: Jobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The captions and write-back pages build on this module's pieces.
        from glimpse_desktop.gui.sharing import CaptionsPage, WriteBackPage

        self.lib, self.tasks, self.jobs = lib, tasks, jobs
        self.setWindowTitle("Settings")
        self.setSizeGripEnabled(True)
        self.folders = FoldersPage(lib, tasks)
        self.library = LibraryPage(lib, tasks)
        self.search = SearchModelPage(lib, tasks, jobs)
        self.faces = FacesPage(lib, tasks, jobs)
        self.device = DevicePage(lib, tasks)
        self.captions = CaptionsPage(lib, tasks, jobs)
        self.writeback = WriteBackPage(lib, tasks, jobs)
        self.pages: dict[str, Page] = {
            "folders": self.folders, "library": self.library, "search": self.search,
            "faces": self.faces, "device": self.device, "captions": self.captions,
            "writeback": self.writeback}
        icons = {
            "folders": (QIcon.ThemeIcon.FolderOpen, QStyle.StandardPixmap.SP_DirIcon),
            "library": (QIcon.ThemeIcon.DriveHarddisk, QStyle.StandardPixmap.SP_DriveHDIcon),
            "search": (QIcon.ThemeIcon.SystemSearch,
                       QStyle.StandardPixmap.SP_FileDialogContentsView),
            "faces": (QIcon.ThemeIcon.UserAvailable, None),
            "device": (QIcon.ThemeIcon.Computer, QStyle.StandardPixmap.SP_ComputerIcon),
            "captions": (QIcon.ThemeIcon.InsertText,
                         QStyle.StandardPixmap.SP_FileDialogDetailedView),
            "writeback": (QIcon.ThemeIcon.DocumentSave,
                          QStyle.StandardPixmap.SP_DialogSaveButton),
        }
        names = {"folders": "Folders", "library": "Library", "search": "Search Model",
                 "faces": "Faces", "device": "Device", "captions": "Captions",
                 "writeback": "Write-Back"}

        self.sidebar = QListWidget()
        self.sidebar.setFrameShape(QFrame.Shape.NoFrame)
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setSpacing(2)
        self.sidebar.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sidebar.setFixedWidth(200)
        self.sidebar.setAccessibleName("Settings pages")
        self.stack = QStackedWidget()
        for key in self.PAGES:
            item = QListWidgetItem(_icon(self, *icons[key]), names[key])
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setSizeHint(QSize(0, 34))
            self.sidebar.addItem(item)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(self.pages[key])
            self.stack.addWidget(scroll)
        self._sidebar_palette()
        self.sidebar.currentRowChanged.connect(self._page_changed)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        side = QVBoxLayout()
        side.setContentsMargins(8, 10, 6, 0)
        side.addWidget(self.sidebar)
        content = QHBoxLayout()
        content.setContentsMargins(0, 0, 0, 0)
        content.setSpacing(0)
        content.addLayout(side)
        content.addWidget(line)
        content.addWidget(self.stack, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 10)
        layout.setSpacing(8)
        layout.addLayout(content, 1)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(12, 0, 16, 0)
        bottom.addWidget(close)
        layout.addLayout(bottom)

        self.folders.roots_changed.connect(self.roots_changed)
        self.folders.roots_changed.connect(self.library.load)
        self.search.models.changed.connect(self.models_changed)
        self.faces.packs.changed.connect(self.models_changed)
        self.faces.faces_toggled.connect(lambda _on: self.models_changed.emit())
        self.faces.people_changed.connect(self.people_changed)
        self.captions.captions_changed.connect(self.captions_changed)
        self.models_changed.connect(self._forget_device)

        settings = app_settings()
        geometry = settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(940, 660)
        start = str(settings.value(PAGE_KEY, "folders"))
        self.refresh()
        self.show_page(start if start in self.pages else "folders")

    def refresh(self) -> None:
        """Read every page again (the Device page when it is next shown)."""
        for key, page in self.pages.items():
            if key != "device":
                page.load()
        if self.current_page() == "device":
            self.device.load()

    def show_page(self, key: str) -> None:
        if key not in self.pages:
            raise ValueError(f"no settings page {key!r} (pages: {', '.join(self.PAGES)})")
        self.sidebar.setCurrentRow(self.PAGES.index(key))
        self._page_changed(self.PAGES.index(key))

    def current_page(self) -> str:
        row = self.sidebar.currentRow()
        return self.PAGES[row] if 0 <= row < len(self.PAGES) else "folders"

    def _page_changed(self, row: int) -> None:
        if not 0 <= row < len(self.PAGES):
            return
        self.stack.setCurrentIndex(row)
        if self.PAGES[row] == "device":
            self.device.load()

    def _forget_device(self) -> None:
        # The search model line of the Device page changes with the model.
        self.device.info = None
        if self.current_page() == "device":
            self.device.load()

    def _sidebar_palette(self) -> None:
        # The sidebar sits on the window's colour (as in system settings apps), not on the
        # white of a list; it follows light and dark palettes.
        palette = self.sidebar.palette()
        palette.setColor(QPalette.ColorRole.Base, self.palette().color(QPalette.ColorRole.Window))
        self.sidebar.setPalette(palette)

    def changeEvent(self, event: Any) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._sidebar_palette()

    def hideEvent(self, event: Any) -> None:
        settings = app_settings()
        settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(PAGE_KEY, self.current_page())
        settings.sync()
        super().hideEvent(event)
