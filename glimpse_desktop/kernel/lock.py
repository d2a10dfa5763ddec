"""One ingestion at a time per library, across threads and processes.

an index started while a watcher (the CLI's or the app's) runs would otherwise read and
decode the same new photos twice. An advisory lock on a file beside the library serialises
them; the operating system releases it if a process dies, so it can never go stale.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import IO

from glimpse_desktop.kernel.progress import Cancelled, CancelToken

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fh: IO[str]) -> bool:
        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fh: IO[str]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fh: IO[str]) -> bool:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fh: IO[str]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class IngestLock:
    """Re-entrant within a thread; exclusive between threads and between processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fh: IO[str] | None = None

    @contextlib.contextmanager
    def hold(self, cancel: CancelToken | None = None,
             on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the lock for the block; wait (cancellably) while another holder has it.

        Raises Cancelled if ``cancel`` is set while waiting.
        """
        cancel = cancel or CancelToken()
        told = False

        def waiting() -> None:
            nonlocal told
            if not told and on_wait is not None:
                on_wait()
                told = True
            if cancel.wait(0.2):
                raise Cancelled()

        # Another thread of this process (the watcher, a GUI job) first, then other processes;
        # both waits can be cancelled and both say so.
        while not self._thread_lock.acquire(timeout=0.2):
            waiting()
        try:
            if self._depth == 0:
                fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held across yield)
                try:
                    while not _try_lock(fh):
                        waiting()
                except BaseException:
                    fh.close()
                    raise
                self._fh = fh
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fh is not None:
                    _unlock(self._fh)
                    self._fh.close()
                    self._fh = None
        finally:
            self._thread_lock.release()


class ExclusiveFile:
    """A lock held for as long as something runs (one watcher per library), never waited for."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._fh: IO[str] | None = None

    def acquire(self) -> bool:
        """True if now held; False if another process or object holds it."""
        if self._fh is not None:
            return True
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
        if not _try_lock(fh):
            fh.close()
            return False
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            _unlock(self._fh)
            self._fh.close()
            self._fh = None
