"""Settings, Write-back: what Glimpse knows, saved where other apps read it (off
until the person turns it on).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import PlanItem, WriteBackReport
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.settings.common import ask, run_task, wrapped
from glimpse_desktop.gui.settings.jobpage import JobPage, indent, on_decline
from glimpse_desktop.gui.tasks import Job, Jobs, Tasks, describe
from glimpse_desktop.kernel.progress import Progress

# ---------------------------------------------------------------------- Write-back


class WriteBackPage(JobPage):
    title = "Write-Back"
    subtitle = ("Save what Glimpse knows — captions, tags, ratings, and people's names with "
                "their face regions — where other apps find it: digiKam, darktable and "
                "Lightroom read XMP sidecars. Off until you turn it on.")

    def __init__(self, lib: Library, tasks: Tasks, jobs: Jobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(jobs, parent)
        self.lib, self.tasks = lib, tasks
        self.info: dict[str, bool] = {}
        self._loading = False

        self.sync = QCheckBox("Keep my photos' metadata in step with Glimpse")
        self.sync.toggled.connect(lambda on: self._set("writeback.sync", on))
        self.body.addWidget(self.sync)
        sync_note = wrapped("Whenever a name, caption, tag or rating changes, it is written "
                             "again, in the background.", secondary=True)
        indent(sync_note, self)
        self.body.addWidget(sync_note)

        where = QGroupBox("Where")
        inner = QVBoxLayout(where)
        self.sidecar = QCheckBox("XMP sidecar files beside the photos (photo.jpg.xmp)")
        self.sidecar.toggled.connect(lambda on: self._set("writeback.sidecar", on))
        inner.addWidget(self.sidecar)
        sidecar_note = wrapped("Your photo files are not changed. A sidecar another app "
                                "wrote is added to, never replaced.", secondary=True)
        indent(sidecar_note, self)
        inner.addWidget(sidecar_note)
        self.embed = QCheckBox("Inside the JPEG files themselves")
        self.embed.toggled.connect(self._embed_toggled)
        inner.addWidget(self.embed)
        embed_note = wrapped("Description, keywords and XMP are written into the file; its "
                              "pixels and other metadata are kept byte for byte. This changes "
                              "your originals.", secondary=True)
        indent(embed_note, self)
        inner.addWidget(embed_note)
        self.body.addWidget(where)

        self.body.addWidget(wrapped(
            "Reading works the other way round too, always: when Glimpse reads your photos it "
            "reads their sidecars and XMP, so names from digiKam arrive as people and captions "
            "survive a lost library.", secondary=True))

        actions = QHBoxLayout()
        self.write_button = QPushButton("Write Now…")
        self.write_button.clicked.connect(self.write_now)
        actions.addStretch(1)
        actions.addWidget(self.write_button)
        self.body.addLayout(actions)
        self.body.addWidget(self.run_note)
        self.body.addWidget(self.notice)
        self.body.addStretch(1)
        self._controls = (self.sync, self.sidecar, self.embed, self.write_button)
        for widget in self._controls:
            widget.setEnabled(False)

    def load(self) -> None:
        lib = self.lib

        def read() -> dict[str, bool]:
            return {name: bool(lib.config.get(name)) for name in
                    ("writeback.sync", "writeback.sidecar", "writeback.embed")}

        run_task(self, self.tasks, read, done=self._show,
             failed=lambda exc: self.notice.warn(describe(exc)), read=True)

    def _show(self, info: dict[str, bool]) -> None:
        self.info = info
        self._loading = True
        try:
            self.sync.setChecked(bool(info["writeback.sync"]))
            self.sidecar.setChecked(bool(info["writeback.sidecar"]))
            self.embed.setChecked(bool(info["writeback.embed"]))
            for widget in self._controls:
                widget.setEnabled(self.job is None or widget is not self.write_button)
        finally:
            self._loading = False

    def _set(self, name: str, value: Any) -> None:
        if self._loading or not self.info or self.info.get(name) == value:
            return
        lib = self.lib
        run_task(self, self.tasks, lambda: lib.config.set(name, value), done=lambda _v: self.load(),
             failed=self._set_failed)

    def _set_failed(self, exc: BaseException) -> None:
        self.notice.warn(describe(exc))
        self.load()

    def _embed_toggled(self, on: bool) -> None:
        if self._loading or not self.info:
            return
        if not on:
            self._set("writeback.embed", False)
            return
        self.embed_box = ask(
            self, "Write into your photos?", "Write metadata into the JPEG files themselves?",
            "Glimpse will change your original files: it adds the description, keywords and "
            "an XMP packet. The pixels and every other piece of metadata stay byte for byte "
            "as they are, and each file is replaced in one step. Other formats get sidecars "
            "only.", "Write Into Files", lambda: self._set("writeback.embed", True))
        on_decline(self.embed_box, self.load)

    def write_now(self) -> None:
        """Count what would be written, ask, then write as a job."""
        self.run_note.clear()
        lib = self.lib
        sidecar, embed = bool(self.info.get("writeback.sidecar")), bool(
            self.info.get("writeback.embed"))
        if not sidecar and not embed:
            self.run_note.warn("Choose where to write first: sidecars, the files, or both.")
            return

        def plan() -> list[PlanItem]:
            return lib.writeback.plan(sidecar=sidecar, embed=embed)

        run_task(self, self.tasks, plan, done=lambda rows: self._confirm(rows, sidecar, embed),
             failed=lambda exc: self.run_note.warn(describe(exc)), read=True)

    def _confirm(self, rows: list[PlanItem], sidecar: bool, embed: bool) -> None:
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.action] = counts.get(row.action, 0) + 1
        todo = counts.get("create", 0) + counts.get("update", 0)
        if not todo:
            self.run_note.say("Everything is written already: nothing has changed since.")
            return
        parts = []
        if counts.get("create"):
            parts.append(f"{counts['create']:,} new")
        if counts.get("update"):
            parts.append(f"{counts['update']:,} updated")
        if counts.get("unchanged"):
            parts.append(f"{counts['unchanged']:,} already up to date")
        plural = "" if todo == 1 else "s"
        where = (f"sidecar{plural} and file{plural}" if sidecar and embed else
                 f"sidecar{plural}" if sidecar else f"file{plural}")
        self.confirm_box = ask(self, "Write metadata", f"Write {todo:,} {where}?",
                               " · ".join(parts) + ".", "Write",
                               lambda: self._start_write(sidecar, embed))

    def _start_write(self, sidecar: bool, embed: bool) -> None:
        self.start_write(sidecar, embed)

    def start_write(self, sidecar: bool, embed: bool) -> Job | None:
        lib = self.lib

        def work(progress: Any, cancel: Any) -> Any:
            progress(Progress("writeback", "Writing metadata", 0, None))
            return lib.writeback.run(sidecar=sidecar, embed=embed, progress=progress,
                                     cancel=cancel)

        return self.start_job("Writing metadata", self.write_button, work, self._written)

    def _written(self, report: WriteBackReport | None) -> None:
        if report is None:
            self.run_note.say("Stopped. What was written so far stays written.")
            return
        self.run_note.say(writeback_summary(report))


def writeback_summary(report: WriteBackReport) -> str:
    """'Wrote 40 files · 2 up to date · 1 failed: photo.png: not a JPEG.'"""
    written = report.written
    parts = [f"Wrote {written:,} file{'s' if written != 1 else ''}"]
    if report.unchanged:
        parts.append(f"{report.unchanged:,} up to date")
    text = " · ".join(parts)
    if report.failed:
        text += f" · {report.failed:,} failed"
        if report.errors:
            first = report.errors[0]
            text += f": {first.path}: {first.reason}"
    return text + "."
