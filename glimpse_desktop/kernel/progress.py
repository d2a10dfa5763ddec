"""Progress events and cooperative cancellation, shared by every long job.

A leaf module (no imports from the package) so ingestion, models and organisers can report
progress without depending on core, and core/GUI/CLI can render it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class Cancelled(Exception):
    """Raised at a batch or I/O boundary once a job has been asked to stop."""


class CancelToken:
    """Set from any thread (Ctrl-C handler, GUI button); checked by the job at safe points."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if cancelled meanwhile."""
        return self._event.wait(timeout)


@dataclass(frozen=True)
class Progress:
    job: str
    phase: str
    done: int
    total: int | None
    errors: int = 0
    rate: float | None = None  # items per second over the recent past
    eta: float | None = None  # seconds
    current: str | None = None
    finished: bool = False


ProgressCallback = Callable[[Progress], None]


class ProgressMeter:
    """Turns counts into throttled Progress events with a smoothed rate and an ETA."""

    def __init__(
        self,
        job: str,
        callback: ProgressCallback | None,
        *,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self._callback = callback
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self.phase = ""
        self.done = 0
        self.total: int | None = None
        self.errors = 0
        self._rate: float | None = None
        self._last_emit = float("-inf")
        self._last_sample: tuple[float, int] | None = None

    def start_phase(self, phase: str, total: int | None) -> None:
        if self.phase and self.phase != phase:
            self._emit(force=True)  # the last word on the phase that ends
        with self._lock:
            self.phase, self.total, self.done = phase, total, 0
            self._rate, self._last_sample = None, (self._clock(), 0)
        self._emit(force=True)

    def advance(self, n: int = 1, *, errors: int = 0, current: str | None = None) -> None:
        with self._lock:
            self.done += n
            self.errors += errors
        self._emit(current=current)

    def _emit(self, *, force: bool = False, current: str | None = None,
              finished: bool = False) -> None:
        if self._callback is None:
            return
        now = self._clock()
        with self._lock:
            if not force and now - self._last_emit < self._interval:
                return
            if self._last_sample is not None and now - self._last_sample[0] >= 0.5:
                t0, d0 = self._last_sample
                inst = (self.done - d0) / (now - t0)
                # Smoothed so the ETA does not jump about when one file is slow.
                self._rate = inst if self._rate is None else 0.7 * self._rate + 0.3 * inst
                self._last_sample = (now, self.done)
            eta = None
            if self._rate and self.total is not None:
                eta = max(0.0, (self.total - self.done) / self._rate)
            event = Progress(self.job, self.phase, self.done, self.total, self.errors,
                             self._rate, eta, current, finished)
            self._last_emit = now
        self._callback(event)

    def finish(self) -> None:
        self._emit(force=True, finished=True)
