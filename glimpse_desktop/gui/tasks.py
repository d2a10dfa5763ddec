"""Work off the GUI thread: short calls (Tasks) and long jobs with progress (Jobs).

Nothing here touches a widget from a worker. A worker's result, error or progress event is
emitted on a bridge QObject that lives on the GUI thread, so Qt queues it there; callbacks run
on the GUI thread.

- ``Tasks.run(fn, done, failed)``: a short core call (a rename, a page of search results, a
  photo's metadata). Actions run one at a time in the order they were asked for, so "rename,
  then merge" can never be reordered; reads have their own pool.
- ``Jobs.start(name, work)``: a long job (indexing, a model download, a re-cluster) on its own
  thread, with live ``Progress``, pause and cancel. ``work(progress, cancel)`` receives the
  callback and the ``CancelToken`` every core job takes. Pausing blocks the job the next time
  it reports progress (its queues fill and the pipeline waits), which is what a person means
  by pause; cancelling also releases a paused job.
"""

from __future__ import annotations

import itertools
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from glimpse_desktop.gui.wording import say
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, Progress, ProgressCallback


class _Bridge(QObject):
    done = Signal(int, object)
    failed = Signal(int, object)


class _Call(QRunnable):
    def __init__(self, key: int, fn: Callable[[], Any], bridge: _Bridge) -> None:
        super().__init__()
        self.key, self.fn, self.bridge = key, fn, bridge

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:  # reported to the caller, never lost in a worker
            self.bridge.failed.emit(self.key, exc)
            return
        self.bridge.done.emit(self.key, result)


def _deliver(callback: Callable[[Any], None], value: Any) -> None:
    """Run a result's callback; one addressed to a widget closed meanwhile (a dialog whose
    read came back after it was deleted) is dropped, not an error."""
    try:
        callback(value)
    except RuntimeError as exc:
        if "already deleted" not in str(exc):
            raise


def describe(exc: BaseException) -> str:
    """One line a person can read: our own errors in the window's words (what happened, and
    what to do here: gui/wording.py), anything else as its type and text."""
    text = str(exc).strip()
    if type(exc).__module__.startswith("glimpse_desktop") and text:
        return say(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Tasks(QObject):
    """Short core calls off the GUI thread, results back on it."""

    # Any call failed without its own handler: the main window shows it in the status bar.
    error = Signal(str)

    def __init__(self, parent: QObject | None = None, *, readers: int = 2) -> None:
        super().__init__(parent)
        self._actions = QThreadPool(self)
        self._actions.setMaxThreadCount(1)        # in order, one at a time
        self._reads = QThreadPool(self)
        self._reads.setMaxThreadCount(max(1, readers))
        for pool in (self._actions, self._reads):
            # Threads stay: each holds the library's read connection of its own, which a
            # retired thread would leave open.
            pool.setExpiryTimeout(-1)
        self._bridge = _Bridge(self)
        self._bridge.done.connect(self._done)
        self._bridge.failed.connect(self._failed)
        self._keys = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable[[Any], None] | None,
                                         Callable[[BaseException], None] | None]] = {}

    def run(self, fn: Callable[[], Any], done: Callable[[Any], None] | None = None,
            failed: Callable[[BaseException], None] | None = None, *,
            read: bool = False) -> int:
        """Run ``fn()`` off the GUI thread; ``done(result)`` or ``failed(exc)`` on it.

        ``read=True`` for calls that change nothing (they may run side by side)."""
        key = next(self._keys)
        self._callbacks[key] = (done, failed)
        (self._reads if read else self._actions).start(_Call(key, fn, self._bridge))
        return key

    def pending(self) -> int:
        return len(self._callbacks)

    def wait(self, msecs: int = 30_000) -> bool:
        """Tests and shutdown: let started calls finish (their callbacks run later)."""
        return bool(self._actions.waitForDone(msecs)) and bool(self._reads.waitForDone(msecs))

    def _done(self, key: int, result: object) -> None:
        done, _ = self._callbacks.pop(key, (None, None))
        if done is not None:
            _deliver(done, result)

    def _failed(self, key: int, exc: object) -> None:
        _, failed = self._callbacks.pop(key, (None, None))
        assert isinstance(exc, BaseException)
        if failed is not None:
            _deliver(failed, exc)
        else:
            self.error.emit(describe(exc))


class Job(QObject):
    """One long job: progress, pause, cancel; signals arrive on the GUI thread."""

    progress = Signal(object)       # Progress
    finished = Signal(object)       # the work's result
    failed = Signal(str)            # one readable line
    state_changed = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.cancel_token = CancelToken()
        self._running = threading.Event()
        self._running.set()
        self.last: Progress | None = None
        self.result: Any = None
        self.error: str | None = None
        self.done = False
        self.progress.connect(self._remember)

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled

    def pause(self) -> None:
        if not self.done:
            self._running.clear()
            self.state_changed.emit()

    def resume(self) -> None:
        self._running.set()
        self.state_changed.emit()

    def cancel(self) -> None:
        self.cancel_token.cancel()
        self._running.set()          # a paused job must wake up to notice
        self.state_changed.emit()

    def report(self, event: Progress) -> None:
        """The callback handed to the core (any thread)."""
        self.progress.emit(event)
        while not self._running.wait(0.2):
            pass     # paused: the job stays here; the core notices a cancel at its next check

    def _remember(self, event: Progress) -> None:
        self.last = event

    def describe(self) -> str:
        """'Reading photos 1,204 of 5,000 · 38/s · 1 min 40 s left' (what the status bar shows)."""
        event = self.last
        if self.error:
            return f"{self.name}: {self.error}"
        if event is None:
            return f"{self.name}…"
        what = event.phase or self.name
        parts = [f"{what} {event.done:,}" + (f" of {event.total:,}" if event.total else "")]
        if event.rate:
            parts.append(f"{event.rate:,.0f}/s" if event.rate >= 10 else f"{event.rate:.1f}/s")
        if event.eta is not None and event.total and not self.paused:
            parts.append(f"{duration(event.eta)} left")
        if event.errors:
            parts.append(f"{event.errors:,} problem{'s' if event.errors != 1 else ''}")
        if self.paused:
            parts.append("paused")
        return " · ".join(parts)


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Jobs(QObject):
    """Every long job of the window, for the status bar and the sidebar's Jobs list."""

    started = Signal(object)      # Job
    ended = Signal(object)        # Job (finished, failed or cancelled)

    def __init__(self, parent: QObject | None = None, *,
                 thread_end: Callable[[], None] | None = None) -> None:
        """``thread_end`` runs on each job's thread as it ends (the library's
        ``release_reader``: the thread's connection closes with it)."""
        super().__init__(parent)
        self.running: list[Job] = []
        self._threads: list[threading.Thread] = []
        self.thread_end = thread_end

    def start(self, name: str, work: Callable[[ProgressCallback, CancelToken], Any],
              done: Callable[[Any], None] | None = None,
              failed: Callable[[str], None] | None = None) -> Job:
        job = Job(name, self)
        job.finished.connect(lambda result: self._end(job, result, None, done, failed))
        job.failed.connect(lambda why: self._end(job, None, why, done, failed))

        def body() -> None:
            try:
                result = work(job.report, job.cancel_token)
            except Cancelled:
                job.finished.emit(None)
            except BaseException as exc:
                if not type(exc).__module__.startswith("glimpse_desktop"):
                    traceback.print_exc()     # a bug: worth a traceback on the terminal
                job.failed.emit(describe(exc))
            else:
                job.finished.emit(result)
            finally:
                if self.thread_end is not None:
                    try:
                        self.thread_end()
                    except Exception:
                        traceback.print_exc()

        thread = threading.Thread(target=body, name=f"glimpse-job-{name}", daemon=True)
        self.running.append(job)
        self._threads.append(thread)
        self.started.emit(job)
        thread.start()
        return job

    def _end(self, job: Job, result: Any, why: str | None,
             done: Callable[[Any], None] | None, failed: Callable[[str], None] | None) -> None:
        job.done, job.result, job.error = True, result, why
        if job in self.running:
            self.running.remove(job)
        self._threads = [t for t in self._threads if t.is_alive()]
        if why is None and done is not None:
            done(result)
        elif why is not None and failed is not None:
            failed(why)
        self.ended.emit(job)
        job.state_changed.emit()

    def cancel_all(self) -> None:
        for job in list(self.running):
            job.cancel()

    def wait(self, timeout: float = 30.0) -> bool:
        """Shutdown and tests: join the job threads (their signals are delivered later)."""
        for thread in list(self._threads):
            thread.join(timeout)
        return not any(t.is_alive() for t in self._threads)
