"""The status bar: what the library is doing right now, and what went wrong.

- The running job (reading photos, a download, a re-cluster) as "Reading photos 1,204 of
  5,000 · 38/s · 1 min 40 s left" with a progress bar, Pause/Resume and Cancel.
- Watching: how many folders are watched, and the last change the watcher brought in.
- Problems: "3 problems" opens the list of files that could not be read and why.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStatusBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import WARNING_STAGES, FileError
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.tasks import Job, Jobs, Tasks
from glimpse_desktop.gui.widgets import ElidedLabel


class JobStatus(QStatusBar):
    """Live progress of the window's jobs with pause/cancel, the watcher, and problems."""

    problems_clicked = Signal()
    resume_clicked = Signal()      # read what a cancelled read left

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.job: Job | None = None
        self.message = ElidedLabel(elide=Qt.TextElideMode.ElideRight, tooltip_over=60)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(12)
        self.pause = QPushButton("Pause")
        self.pause.setFlat(True)
        self.pause.clicked.connect(self._toggle_pause)
        self.cancel = QPushButton("Cancel")
        self.cancel.setFlat(True)
        self.cancel.clicked.connect(self._cancel)
        self.watching = QLabel()
        self.resume = QPushButton("Resume")
        self.resume.setFlat(True)
        self.resume.setToolTip("Read the photos that were not read when reading was cancelled")
        self.resume.clicked.connect(self.resume_clicked)
        self.resume.hide()
        self.problems = QPushButton()
        self.problems.setFlat(True)
        self.problems.clicked.connect(self.problems_clicked)
        self.problems.hide()
        self.selected = QLabel()
        self.selected.hide()
        self.addWidget(self.message, 1)
        for widget in (self.bar, self.pause, self.cancel):
            self.addWidget(widget)
        self.addPermanentWidget(self.selected)
        self.addPermanentWidget(self.watching)
        self.addPermanentWidget(self.resume)
        self.addPermanentWidget(self.problems)
        jobs.started.connect(self._started)
        jobs.ended.connect(self._ended)
        self._idle_text = ""
        self._show_job(None)

    # ------------------------------------------------------------------ jobs

    def _started(self, job: Job) -> None:
        job.progress.connect(lambda _e, j=job: self._progress(j))
        job.state_changed.connect(lambda j=job: self._progress(j))
        if self.job is None:
            self._show_job(job)

    def _ended(self, job: Job) -> None:
        if job is self.job:
            following = self.jobs.running[0] if self.jobs.running else None
            self._show_job(following)
            if following is None:
                if job.error:
                    self.set_idle(f"{job.name} failed: {job.error}")
                elif job.cancelled:
                    self.set_idle(f"{job.name}: cancelled")

    def _show_job(self, job: Job | None) -> None:
        self.job = job
        visible = job is not None
        for widget in (self.bar, self.pause, self.cancel):
            widget.setVisible(visible)
        if job is None:
            self.message.setText(self._idle_text)
            return
        self._progress(job)

    def _progress(self, job: Job) -> None:
        if job is not self.job:
            return
        self.message.setText(job.describe())
        event = job.last
        if event is not None and event.total:
            self.bar.setRange(0, event.total)
            self.bar.setValue(min(event.done, event.total))
        else:
            self.bar.setRange(0, 0)          # busy: a total is not known yet
        self.pause.setText("Resume" if job.paused else "Pause")
        self.cancel.setEnabled(not job.cancelled)

    def _toggle_pause(self) -> None:
        if self.job is None:
            return
        if self.job.paused:
            self.job.resume()
        else:
            self.job.pause()

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.message.setText(f"{self.job.name}: stopping…")

    # ------------------------------------------------------------------ the rest

    def set_idle(self, text: str) -> None:
        """What the bar says when no job runs ("Up to date · 12,345 photos")."""
        self._idle_text = text
        if self.job is None:
            self.message.setText(text)

    def set_selected(self, count: int) -> None:
        """ "12 selected" while photos are selected in the grid shown; nothing otherwise."""
        self.selected.setText(f"{count:,} selected")
        self.selected.setVisible(count > 0)

    def set_watching(self, text: str) -> None:
        self.watching.setText(text)

    def set_resumable(self, on: bool) -> None:
        """Offer Resume beside the watcher's state (a read was cancelled before its end)."""
        self.resume.setVisible(on)

    def set_problems(self, errors: int, warnings: int = 0) -> None:
        """``errors``: files not read (or not completely); ``warnings``: read, with something
        odd (an unreadable date)."""
        self.problems.setVisible(errors + warnings > 0)
        text = f"{errors:,} problem{'s' if errors != 1 else ''}" if errors else ""
        if warnings:
            text += (" · " if text else "") + f"{warnings:,} warning{'s' if warnings != 1 else ''}"
        self.problems.setText(text)
        self.problems.setToolTip("Files Glimpse could not read, or read with a warning, "
                                 "and why")


class ProblemsDialog(QDialog):
    """Every file that could not be read, with the reason (the library's error list)."""

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Problems")
        self.resize(900, 460)
        layout = QVBoxLayout(self)
        self.summary = QLabel("Reading the list…")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["File", "Step", "Why"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 360)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        tasks.run(lambda: lib.errors(limit=5000), self._show, read=True)

    def _show(self, rows: list[FileError]) -> None:
        rows = sorted(rows, key=lambda r: r.stage in WARNING_STAGES)  # errors first
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate((row.path, row.stage, row.reason)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(i, j, item)
        warnings = sum(1 for r in rows if r.stage in WARNING_STAGES)
        errors = len(rows) - warnings
        parts = []
        if errors:
            parts.append(f"{errors:,} problem{'s' if errors != 1 else ''}: a file that could "
                         "not be read, or not completely")
        if warnings:
            parts.append(f"{warnings:,} warning{'s' if warnings != 1 else ''}: read, but "
                         "something in it was odd (a date that makes no sense)")
        self.summary.setText(
            "Nothing went wrong." if not rows else
            "; ".join(parts) + ". Originals are never changed; fix the file or leave it, and "
            "the next read tries again.")
