"""What the window does after photos change, and how a read of the folders is summed up.

- ``Changes``: edits made in the window (names, captions, albums, settings) go through the
  library's one change chain, ``Library.photos_changed(ids, why)``, in the background, a
  little after them (a burst of edits makes one run); what followed (files written back,
  a follow-up that failed) is said in the status bar. After an index or a watcher batch
  the chain has already run inside the library: the window never runs it again.
- ``BackgroundCaptions``: captions for new photos are started by that chain (its
  ``captions`` follow-up) in a thread of the captions service; the window shows each such
  run as its "Writing captions" job, with progress, pause and cancel, and its result.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from glimpse_desktop.api import WHY, ChangeReport
from glimpse_desktop.api.library import IndexReport
from glimpse_desktop.gui.settings import caption_summary, writeback_summary
from glimpse_desktop.gui.tasks import Job, describe
from glimpse_desktop.kernel.progress import CancelToken, Progress, ProgressCallback

if TYPE_CHECKING:
    from glimpse_desktop.api.library import CaptionReport
    from glimpse_desktop.gui.window import MainWindow

# What follows an edit waits this long, so a burst of edits makes one run.
FOLLOW_UP_MS = 3000


class Changes(QObject):
    """The window's edits, handed to the change chain off the GUI thread.

    ``add(ids, why)`` gathers them (``ids`` None: any photo may have changed); FOLLOW_UP_MS
    after the last one the chain runs once per reason. With write-back sync on the run is the
    "Writing metadata" job (progress, cancel); otherwise a quiet background call."""

    # Each run's reports, once it is over (tests and views that wait for it).
    ran = Signal(list)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.pending: dict[str, set[int] | None] = {}
        self.timer = QTimer(self, singleShot=True, interval=FOLLOW_UP_MS)
        self.timer.timeout.connect(self.run_now)
        self.job: Job | None = None
        self._busy = False

    def add(self, ids: Sequence[int] | None, why: str) -> None:
        if why not in WHY:
            raise ValueError(f"{why!r} is not a reason photos change (one of {WHY})")
        known = self.pending.get(why, set())
        if ids is None or known is None:
            self.pending[why] = None         # any photo may have changed
        else:
            self.pending[why] = known | {int(i) for i in ids}
        self.timer.start()

    def run_now(self) -> None:
        """Run what is gathered now (the timer does, FOLLOW_UP_MS after the last edit); one
        run at a time: what comes meanwhile runs after it."""
        window = self.window
        if window._closing or not self.pending or self._busy:
            return
        self._busy = True
        changes, self.pending = self.pending, {}
        lib = window.lib

        def work(progress: ProgressCallback | None, cancel: CancelToken) -> list[ChangeReport]:
            reports = []
            for why, ids in changes.items():
                if cancel.cancelled:
                    break
                reports.append(lib.photos_changed(None if ids is None else sorted(ids), why,
                                                  progress=progress, cancel=cancel))
            return reports

        def start(sync: bool) -> None:
            if window._closing:
                self._busy = False
                return
            if sync:
                self.job = window.start_job("Writing metadata", work, self._done,
                                            lambda why: self._failed(f"Write-back: {why}"))
            else:
                window.tasks.run(lambda: work(None, CancelToken()), self._done,
                                 lambda exc: self._failed(describe(exc)))

        def unread(exc: BaseException) -> None:
            self._failed(describe(exc))

        # The setting is read off the GUI thread, as every read of the library is.
        window.tasks.run(lambda: bool(lib.config.get("writeback.sync")), start, unread,
                         read=True)

    def _done(self, reports: list[ChangeReport] | None) -> None:
        self._over()
        reports = reports or []
        texts = [text for report in reports for text in said(report)]
        # A problem is worth more than a count: the last warning, else the last count.
        warnings = [t for t in texts if t.startswith("⚠")]
        if warnings or texts:
            self.window.status.set_idle((warnings or texts)[-1])
        self.ran.emit(reports)

    def _failed(self, text: str) -> None:
        self._over()
        self.window.status.set_idle(f"⚠ {text}")
        self.ran.emit([])

    def _over(self) -> None:
        self.job = None
        self._busy = False
        if self.pending and not self.window._closing:
            self.timer.start()       # edits made while this ran


def said(report: ChangeReport) -> list[str]:
    """What the status bar says of one run of the chain: files written back, and each
    follow-up that failed."""
    texts = []
    written = report.result("write-back")          # a WriteBackReport
    files: int = getattr(written, "written", 0) + getattr(written, "failed", 0)
    if written is not None and files:
        texts.append(writeback_summary(written))
    for name, why in report.problems.items():
        texts.append(f"⚠ Write-back: {why}" if name == "write-back" else f"⚠ {name}: {why}")
    return texts


class _Run:
    """One background caption run as the window sees it, shared by the run's thread and the
    GUI thread: ``job`` is set once on the GUI thread; ``report`` and ``error`` are set in
    the run's thread before ``over``."""

    def __init__(self) -> None:
        self.over = threading.Event()
        self.job: Job | None = None
        self.report: CaptionReport | None = None
        self.error: str | None = None


class BackgroundCaptions(QObject):
    """Background caption runs (started by the change chain) as the window's "Writing
    captions" job.

    The captions service calls ``progress`` and ``ended`` in its run's thread; the job is
    made on the GUI thread at the run's first progress and follows it: its progress is the
    run's, its Pause holds the run (the run's progress call waits, as any job's does), its
    Cancel stops the run (not the runs after it). The result goes to the status bar."""

    _first = Signal(object, object)      # _Run, its first Progress
    _ended = Signal(object, object, object)   # _Run or None, the CaptionReport, the error
    # A run is over and shown (tests wait for it).
    finished = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._lock = threading.Lock()
        self._run: _Run | None = None
        self._detached = False
        self._first.connect(self._show)
        self._ended.connect(self._said_unless_shown)
        captions = window.lib.captions
        captions.background_progress = self.progress
        captions.background_ended = self.ended

    def stop(self) -> None:
        """The window closes: the run going on is stopped, the service calls nothing of
        this any more (a run holds on to its progress callback: it is told to do nothing),
        and the job showing the run ends now."""
        self._detached = True
        captions = self.window.lib.captions
        captions.cancel_background_run()
        if captions.background_progress == self.progress:
            captions.background_progress = None
        if captions.background_ended == self.ended:
            captions.background_ended = None
        with self._lock:
            run, self._run = self._run, None
        if run is not None:
            run.over.set()

    # ---- in the run's thread

    def progress(self, event: Progress) -> None:
        if self._detached:
            return
        with self._lock:
            if self._run is None:
                self._run = _Run()
            run = self._run
        job = run.job
        if job is None:
            self._first.emit(run, event)
        else:
            job.report(event)          # waits here while the job is paused

    def ended(self, report: CaptionReport | None, error: str | None) -> None:
        with self._lock:
            run, self._run = self._run, None
        if run is not None:
            run.report, run.error = report, error
            run.over.set()
        if not self._detached:
            self._ended.emit(run, report, error)

    # ---- on the GUI thread

    def _show(self, run: _Run, event: Progress) -> None:
        window = self.window
        if run.job is not None or run.over.is_set() or window._closing:
            return
        captions = window.lib.captions

        def follow(progress: ProgressCallback, cancel: CancelToken) -> _Run:
            # The run goes on in the captions service's thread; this job's thread only waits
            # for its end.
            run.over.wait()
            return run

        # The result is said as the job ends, before the status bar says how it ended (a
        # cancelled job says so last).
        job = window.start_job("Writing captions", follow,
                               lambda over: self._say(over.report, over.error))

        def cancelled() -> None:
            if job.cancelled and not run.over.is_set():
                captions.cancel_background_run()

        job.state_changed.connect(cancelled)
        run.job = job
        job.progress.emit(event)

    def _said_unless_shown(self, run: _Run | None, report: CaptionReport | None,
                           error: str | None) -> None:
        if run is None or run.job is None:       # no job showed it: said here
            self._say(report, error)

    def _say(self, report: CaptionReport | None, error: str | None) -> None:
        if not self.window._closing:
            if error is not None:
                self.window.status.set_idle(f"⚠ Captions: {error}")
            elif report is not None and (report.captioned or report.failed):
                self.window.status.set_idle(caption_summary(report))
        self.finished.emit()


def index_summary(report: IndexReport) -> str:
    parts = []
    if report.new:
        parts.append(f"{report.new:,} new")
    if report.updated:
        parts.append(f"{report.updated:,} changed")
    if report.moved:
        parts.append(f"{report.moved:,} moved")
    if report.missing:
        parts.append(f"{report.missing:,} gone")
    if report.faces:
        parts.append(f"{report.faces:,} faces")
    if report.errors:
        parts.append(f"{report.errors:,} could not be read")
    if report.cancelled:
        parts.append("stopped before the end")
    text = "Up to date" if not parts else "Photos read: " + ", ".join(parts)
    # The photos were read; what should have followed them and did not is said beside them.
    for name, why in report.follow_up_problems.items():
        text += f" · ⚠ after reading, {name} failed: {why}"
    return text


__all__ = ["FOLLOW_UP_MS", "BackgroundCaptions", "Changes", "index_summary", "said"]
