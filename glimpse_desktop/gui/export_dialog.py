"""File ▸ Export… (Ctrl+E): the selected photos to a folder, with the person's choices, as a
job of the window (progress and Cancel in the status bar). The choices are remembered for
the next export; the work is ``Library.exports.photos`` (api/exports.py)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import ExportError, ExportOptions, ExportReport
from glimpse_desktop.gui.settings import app_settings
from glimpse_desktop.gui.tasks import Job

if TYPE_CHECKING:
    from glimpse_desktop.gui.window import MainWindow

METADATA_CHOICES = (("keep", "Keep all metadata (date, camera, place, captions)"),
                    ("no-gps", "Keep it, without the location (GPS)"),
                    ("strip", "Remove all metadata"))
NAMING_CHOICES = (("original", "Their own file names"),
                  ("date", "The date taken (2024-05-03 14.22.10.jpg)"))
CLASH_CHOICES = (("number", "Add a number (IMG_0001 (2).jpg)"),
                 ("skip", "Skip the photo"),
                 ("replace", "Replace the file in the folder"))


def _photos(n: int) -> str:
    return f"{n:,} photo{'s' if n != 1 else ''}"


class ExportDialog(QDialog):
    """Where and how ``count`` photos are exported."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export photos")
        self.count = count
        settings = app_settings()
        layout = QVBoxLayout(self)
        intro = QLabel(f"Copies of {_photos(count)} go into a folder. The originals stay as "
                       "they are.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.folder = QLineEdit(str(settings.value("export/folder", "") or _pictures()))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("Folder:", row)

        self.originals = QRadioButton("The original files")
        self.resized = QRadioButton("Resized JPEG copies")
        sizes = QButtonGroup(self)
        sizes.addButton(self.originals)
        sizes.addButton(self.resized)
        resized = settings.value("export/size", "original") == "resized"
        (self.resized if resized else self.originals).setChecked(True)
        self.long_edge = QSpinBox()
        self.long_edge.setRange(64, 20_000)
        self.long_edge.setSingleStep(256)
        self.long_edge.setSuffix(" px")
        self.long_edge.setValue(_int(settings.value("export/long_edge"), 2048))
        self.quality = QSpinBox()
        self.quality.setRange(10, 100)
        self.quality.setSuffix(" %")
        self.quality.setValue(_int(settings.value("export/quality"), 90))
        size_box = QVBoxLayout()
        size_box.addWidget(self.originals)
        size_box.addWidget(self.resized)
        details = QHBoxLayout()
        details.setContentsMargins(24, 0, 0, 0)
        details.addWidget(QLabel("Long edge"))
        details.addWidget(self.long_edge)
        details.addSpacing(12)
        details.addWidget(QLabel("Quality"))
        details.addWidget(self.quality)
        details.addStretch(1)
        size_box.addLayout(details)
        form.addRow("Export:", size_box)
        self.resized.toggled.connect(self._update)

        self.metadata = _combo(METADATA_CHOICES, settings.value("export/metadata", "keep"))
        form.addRow("Metadata:", self.metadata)
        self.naming = _combo(NAMING_CHOICES, settings.value("export/naming", "original"))
        form.addRow("File names:", self.naming)
        self.clash = _combo(CLASH_CHOICES, settings.value("export/clash", "number"))
        form.addRow("A name is taken:", self.clash)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.addButton(f"Export {_photos(count)}",
                                         QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.folder.textChanged.connect(self._update)
        self._update()

    def options(self) -> ExportOptions:
        return ExportOptions(size="resized" if self.resized.isChecked() else "original",
                             long_edge=self.long_edge.value(), quality=self.quality.value(),
                             metadata=str(self.metadata.currentData()),
                             naming=str(self.naming.currentData()),
                             clash=str(self.clash.currentData()))

    def target(self) -> str:
        return os.path.expanduser(self.folder.text().strip())

    def remember(self) -> None:
        settings = app_settings()
        options = self.options()
        settings.setValue("export/folder", self.target())
        for key in ("size", "long_edge", "quality", "metadata", "naming", "clash"):
            settings.setValue(f"export/{key}", getattr(options, key))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to", self.target() or
                                                  _pictures())
        if folder:
            self.folder.setText(folder)

    def _update(self, *_args: Any) -> None:
        resized = self.resized.isChecked()
        self.long_edge.setEnabled(resized)
        self.quality.setEnabled(resized)
        self.ok.setEnabled(bool(self.target()))


def _combo(choices: tuple[tuple[str, str], ...], chosen: Any) -> QComboBox:
    box = QComboBox()
    for value, text in choices:
        box.addItem(text, value)
    found = box.findData(str(chosen))
    box.setCurrentIndex(max(0, found))
    return box


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _pictures() -> str:
    return os.path.join(QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.PicturesLocation) or os.path.expanduser("~"),
        "Glimpse export")


def export_selection(window: MainWindow) -> ExportDialog | None:
    """Ask where and how, then export the photos chosen now (``window.selected_ids``)."""
    ids = window.selected_ids()
    if not ids:
        window.status.set_idle("Select the photos to export first")
        return None
    dialog = ExportDialog(len(ids), window)

    def chosen() -> None:
        dialog.remember()
        folder, options = dialog.target(), dialog.options()
        force = False
        root = window.lib.exports.inside_library(folder)
        if root is not None:
            answer = QMessageBox.question(
                window, "Export into a library folder?",
                f"{folder} is inside your library folder {root}: the copies would be read "
                "in as photos of their own (duplicates).\n\nExport there anyway?")
            if answer != QMessageBox.StandardButton.Yes:
                return
            force = True
        run_export(window, ids, folder, options, force=force)

    dialog.accepted.connect(chosen)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog


def run_export(window: MainWindow, ids: list[int], folder: str, options: ExportOptions, *,
               force: bool = False) -> Job:
    """The export as a job of the window; what it did is said in the status bar."""
    lib = window.lib

    def done(report: ExportReport | None) -> None:
        window.status.set_idle(summary(report))

    def failed(why: str) -> None:
        window.status.set_idle(f"⚠ Export stopped: {why}")

    def work(progress: Any, cancel: Any) -> ExportReport:
        try:
            return lib.exports.photos(ids, folder, options, force=force, progress=progress,
                                      cancel=cancel)
        except ExportError as exc:
            raise ExportError(f"{exc} {summary(exc.report)}", exc.report) from exc

    return window.start_job(f"Exporting {_photos(len(ids))}", work, done, failed)


def summary(report: ExportReport | None) -> str:
    """What an export did, in a line."""
    if report is None:
        return "Export stopped"
    made = len(report.exported)
    text = f"Exported {_photos(made)} to {report.output}"
    if report.bytes_written:
        text += f" ({report.bytes_written / 1e6:.1f} MB)"
    kinds: dict[str, int] = {}
    for s in report.skipped:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    if kinds.get("exists"):
        text += f"; {kinds['exists']:,} there already"
    left = sum(n for k, n in kinds.items() if k != "exists")
    if left:
        text += f"; {left:,} could not be exported ({report.skipped[0].reason})" if left == 1 \
            else f"; {left:,} could not be exported"
    if report.cancelled:
        text += " — stopped before the end"
    return text

