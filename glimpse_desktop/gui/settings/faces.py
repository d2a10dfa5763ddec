"""Settings, Faces: face finding on or off, the face pack, and grouping people.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.settings.common import Notice, Page, run_task, wrapped
from glimpse_desktop.gui.settings.models import ModelList
from glimpse_desktop.gui.tasks import Job, Jobs, Tasks, describe
from glimpse_desktop.gui.wording import say
from glimpse_desktop.kernel.progress import Progress

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
        self.enabled_note = wrapped("Turning this off keeps the people found so far.",
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
        inner.addWidget(wrapped(
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

        run_task(self, self.tasks, read, done=self._show, failed=self._failed, read=True)

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
        if status.problem:
            self.notice.warn(say(status.problem))
        for widget in (self.join, self.found, self.min_faces, self.defaults_button,
                       self.enabled):
            widget.setEnabled(True)
        self.apply_button.setEnabled(self.job is None)

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(f"Could not read the face settings: {describe(exc)}")

    def set_faces_enabled(self, on: bool) -> None:
        lib = self.lib
        self.enabled.setEnabled(False)
        run_task(self, self.tasks, lambda: lib.set_faces(on), done=lambda _: self._toggled(on),
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
        self.group_note.say("Grouping faces…")
        # Connected before the job's thread starts (a job that ends at once signals early).
        self.job = self.jobs.start("Grouping faces", work, done=self._regrouped,
                                   failed=self._regroup_failed)
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


