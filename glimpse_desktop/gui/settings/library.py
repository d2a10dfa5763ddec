"""Settings, Library: where the library lives and how big it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QFontDatabase,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import LibraryStatus
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.settings.common import Page, run_task, secondary_text, size_text, wrapped
from glimpse_desktop.gui.settings.map import MapSettings
from glimpse_desktop.gui.tasks import Tasks, describe
from glimpse_desktop.gui.widgets import ElidedLabel

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
            field = ElidedLabel(str(path), selectable=True)
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
        self.sizes = secondary_text(QLabel(""))
        form.addRow("", self.sizes)
        self.body.addLayout(form)

        another = QGroupBox("Another library")
        inner = QVBoxLayout(another)
        inner.addWidget(wrapped("A library is one file. To open another one (on an external "
                                 "drive, or a separate collection), start Glimpse with:",
                                 secondary=True))
        command = QLabel(f"glimpse-desktop --library {Path('PATH')}")
        command.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        command.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner.addWidget(command)
        inner.addWidget(wrapped("A library that does not exist yet is created there, with its "
                                 "thumbnails beside it.", secondary=True))
        self.body.addWidget(another)
        self.map = MapSettings(lib, tasks)
        self.body.addWidget(self.map)
        self.body.addWidget(self.notice)
        self.body.addStretch(1)

    def load(self) -> None:
        lib = self.lib
        self.map.load()

        def read() -> tuple[LibraryStatus, int | None]:
            status = lib.status()
            try:
                return status, os.path.getsize(lib.paths.library)
            except OSError:
                return status, None

        run_task(self, self.tasks, read, done=self._show, failed=self._failed, read=True)

    def _show(self, found: tuple[LibraryStatus, int | None]) -> None:
        status, library_bytes = found
        roots = len(status.roots)
        text = (f"{status.photos + status.offline:,} photos in {roots:,} "
                f"folder{'' if roots == 1 else 's'}")
        extra = [f"{n:,} {k}" for k, n in (("offline", status.offline),
                                           ("missing", status.missing)) if n]
        if extra:
            text += f" ({', '.join(extra)})"
        self.photos.setText(text)
        if library_bytes:
            self.sizes.setText(f"The library file takes {size_text(library_bytes)}.")

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(f"Could not read the library: {describe(exc)}")

    def _open(self, folder: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


