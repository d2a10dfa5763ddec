"""Keep the library in step with the disk while Glimpse runs (watchdog observers per root).

Events are coalesced: a file is read only once its size and modification time have stayed the
same for ``settle`` seconds (a photo still being copied is never ingested half-written), a
move is a move (the row follows the file), and a burst of thousands of events becomes a few
batches for the pipeline. After a large burst, or when the kernel's event queue overflowed,
the affected roots are rescanned, which costs a stat per file and catches anything missed.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from glimpse_desktop.kernel import scan
from glimpse_desktop.kernel.db import LibraryError, is_environmental
from glimpse_desktop.kernel.decode import SUPPORTED_EXTENSIONS
from glimpse_desktop.kernel.lock import ExclusiveFile
from glimpse_desktop.kernel.pipeline import Indexer, IndexReport, Root
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback

log = logging.getLogger(__name__)
# watchdog's inotify emitter warns when a folder it watched comes back (moved out and in);
# it handles that case itself, and the warning is a multi-kilobyte line on the terminal.
warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning)
_INOTIFY_PAIRING_DELAY = 0.5


@dataclass
class WatchStats:
    events: int = 0
    indexed: int = 0  # files read and (re)ingested
    moved: int = 0
    missing: int = 0
    rescans: int = 0
    errors: int = 0
    # The most recent reports only: a watcher runs for weeks.
    batches: deque[IndexReport] = field(default_factory=lambda: deque(maxlen=100))


def _describe(paths: list[str]) -> str:
    """A short way to name what changed: the files themselves when few, else their folder."""
    if len(paths) <= 3:
        return ", ".join(paths)
    return f"{len(paths)} files in {os.path.commonpath(paths)}"


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of a folder: changes when a drive is mounted there again."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


@dataclass(frozen=True)
class _Event:
    event_type: str
    is_directory: bool
    src_path: str
    dest_path: str = ""


class _Handler(FileSystemEventHandler):
    """Forwards watchdog's events; for a linked folder, with paths as the library knows them
    (under the link, not under the link's target)."""

    def __init__(self, sink: queue.Queue[_Event], translate: tuple[str, str] | None = None
                 ) -> None:
        self.sink = sink
        self.translate = translate

    def _path(self, raw: bytes | str) -> str:
        path = os.fsdecode(raw)
        if self.translate is not None and path:
            target, link = self.translate
            if path == target or path.startswith(target + os.sep):
                return link + path[len(target):]
        return path

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        self.sink.put(_Event(event.event_type, event.is_directory, self._path(event.src_path),
                             self._path(getattr(event, "dest_path", "") or "")))


class Watcher:
    """Watches every root of the library and feeds changes to the Indexer."""

    def __init__(
        self,
        indexer: Indexer,
        *,
        settle: float = 1.0,
        poll: float = 0.2,
        burst_rescan: int = 2000,
        health_interval: float = 3.0,
        catch_up: bool = True,
        on_report: Callable[[str, IndexReport], None] | None = None,
        exclusive: ExclusiveFile | None = None,
        progress: ProgressCallback | None = None,
        on_sidecars: Callable[[list[str]], None] | None = None,
    ) -> None:
        """``progress`` hears every batch the watcher reads (what the app's status bar shows
        while a burst of new photos is read); ``on_report`` what each batch did;
        ``on_sidecars`` the XMP sidecars created, changed or deleted (settled), which are
        not photos but say things about them."""
        self.indexer = indexer
        self.settle = settle
        self.poll = poll
        self.burst_rescan = burst_rescan
        self.health_interval = health_interval
        self.catch_up = catch_up
        self.on_report = on_report
        self._exclusive = exclusive
        self.progress = progress
        self.on_sidecars = on_sidecars
        self._sidecars: dict[str, float] = {}
        self.stats = WatchStats()
        self._events: queue.Queue[_Event] = queue.Queue()
        self._link_watches: dict[tuple[str, str], ObservedWatch] = {}
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._watches: dict[str, ObservedWatch] = {}
        self._roots: list[Root] = []
        self._offline: set[str] = set()
        self._unwatchable: dict[str, str] = {}
        self._identities: dict[str, tuple[int, int] | None] = {}
        self.problems: deque[str] = deque(maxlen=100)
        self._pending: dict[str, tuple[float, tuple[int, int] | None]] = {}
        self._pending_dirs: dict[str, float] = {}
        self._gone: dict[str, float] = {}
        # Destinations of moves applied to the library, checked once settled: after quick
        # nested folder moves inotify can name a folder by a path it no longer has.
        self._moved_to: dict[str, float] = {}
        self._burst: dict[str, set[str]] = {}  # distinct paths changed per root
        self._cancel = CancelToken()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._exclusive is not None and not self._exclusive.acquire():
            raise LibraryError("this library is already being watched by another Glimpse "
                               "process; one watcher per library is enough",
                               code="watch.already")
        self._observer = Observer()
        self._roots = self.indexer.roots()
        for root in self._roots:
            self._schedule(root)
        self._observer.start()
        self._thread = threading.Thread(target=self._run, name="glimpse-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._cancel.cancel()
        if self._thread is not None:
            self._thread.join()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
        if self._exclusive is not None:
            self._exclusive.release()

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float) -> bool:
        """True once no change is waiting or being processed (tests, and callers that want
        to know the library has caught up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._error is not None:
                raise self._error
            if self._idle.wait(0.05) and self._events.empty() and self._quiet():
                # Confirm after a pause: watchdog holds an unpaired "moved from" for up to
                # half a second while it waits for its "moved to".
                time.sleep(max(self.poll * 2, _INOTIFY_PAIRING_DELAY + 0.25))
                if self._idle.is_set() and self._events.empty() and self._quiet():
                    return True
        return False

    def _quiet(self) -> bool:
        return not (self._pending or self._pending_dirs or self._gone or self._sidecars
                    or self._moved_to)

    def _schedule(self, root: Root) -> None:
        assert self._observer is not None
        if root.path in self._watches or root.path in self._unwatchable:
            return
        if not os.path.isdir(root.path):
            self._offline.add(root.path)
            return
        try:
            self._watches[root.path] = self._observer.schedule(
                _Handler(self._events), root.path, recursive=True)
            self._identities[root.path] = _identity(root.path)
            self._offline.discard(root.path)
        except OSError as exc:
            # Typically the kernel's inotify watch limit on a very large tree. The folder is
            # present, so it is not offline: it is read by a full index, not live.
            hint = ""
            if exc.errno in (errno.ENOSPC, errno.EMFILE):
                hint = (" (the system's limit on watched folders is reached; raise "
                        "fs.inotify.max_user_watches)")
            reason = f"cannot watch {root.path}: {exc.strerror or exc}{hint}"
            self._unwatchable[root.path] = reason
            self.problems.append(reason)
            log.warning("%s", reason)

    # ------------------------------------------------------------------ the loop

    @property
    def error(self) -> BaseException | None:
        """Why the watcher stopped by itself (a full disk, a damaged library), or None."""
        return self._error

    def _run(self) -> None:
        try:
            if self.catch_up:
                # Changes made while Glimpse was not running.
                self._scan("catch-up", [(r, r.path) for r in self._roots])
            last_health = time.monotonic()
            while not self._cancel.cancelled:
                busy = False
                try:
                    self._drain()
                    busy = self._step()
                    if time.monotonic() - last_health > self.health_interval:
                        last_health = time.monotonic()
                        self._check_roots()
                except (LibraryError, MemoryError):
                    raise
                except Exception as exc:
                    # A surprise on one event (a bug, an odd file system) must not end the
                    # watch: count it, say it, and carry on with the next events.
                    if is_environmental(exc):
                        raise
                    self.stats.errors += 1
                    self.problems.append(f"{type(exc).__name__}: {exc}")
                    log.exception("watcher step failed; continuing")
                if not busy and self._events.empty():
                    self._idle.set()
                    self._cancel.wait(self.poll)
        except BaseException as exc:  # surfaced through `error`, wait_idle and the CLI
            self._error = exc
            log.error("watcher stopped: %s", exc)
            self._idle.set()

    def _root_of(self, path: str) -> Root | None:
        return self.indexer.root_for(path, self._roots)

    def _interesting_file(self, path: str) -> bool:
        root = self._root_of(path)
        return (root is not None and not scan.is_ignored(path, root.path)
                and os.path.splitext(path)[1].lower() in SUPPORTED_EXTENSIONS)

    def _drain(self) -> None:
        now = time.monotonic()
        while True:
            try:
                ev = self._events.get_nowait()
            except queue.Empty:
                return
            self._idle.clear()
            self.stats.events += 1
            src, dest = ev.src_path, ev.dest_path
            root = self._root_of(dest or src)
            # A folder's own "modified" (a file appeared in it) says nothing new; counting it
            # would widen the rescan after a burst to that folder's parent.
            if root is not None and not (ev.is_directory and ev.event_type == "modified"):
                touched = self._burst.setdefault(root.path, set())
                if len(touched) <= self.burst_rescan:
                    touched.add(dest or src)
            kind = ev.event_type
            if self.on_sidecars is not None and not ev.is_directory:
                for path in (src, dest):
                    if path and path.lower().endswith(".xmp") and self._root_of(path):
                        self._sidecars[path] = now
            if kind == "moved":
                self._on_moved(src, dest, ev.is_directory, now)
            elif ev.is_directory:
                if kind == "created":
                    self._pending_dirs[src] = now
                elif kind == "deleted":
                    self._gone[src] = now
            elif kind in ("created", "modified", "closed", "attrib"):
                if self._interesting_file(src):
                    self._pending[src] = (now, None)
                    self._gone.pop(src, None)
            elif kind == "deleted":
                self._pending.pop(src, None)
                self._gone[src] = now

    def _on_moved(self, src: str, dest: str, is_dir: bool, now: float) -> None:
        if is_dir:
            # Re-key anything still settling below the old folder.
            prefix = src.rstrip(os.sep) + os.sep
            for old in [p for p in self._pending if p.startswith(prefix)]:
                self._pending[dest + os.sep + old[len(prefix):]] = self._pending.pop(old)
            moved = self.indexer.move_ids(src, dest, is_dir=True) if self._root_of(dest) else []
            if moved:
                self._moved_to[dest] = now
            if self._root_of(dest) is None:
                self._gone[src] = now
            if moved:
                self._report(f"moved {src} → {dest}",
                             IndexReport(moved=len(moved), photo_ids=moved))
            # Files we did not know yet (or a folder moved in from outside): scan it.
            if self._root_of(dest) is not None:
                self._pending_dirs[dest] = now
            return
        if src in self._pending:
            # Written under a temporary name, then renamed (browsers, rsync, phone sync apps).
            self._pending.pop(src)
            if self._interesting_file(dest):
                self._pending[dest] = (now, None)
            return
        if self._root_of(dest) is None or not self._interesting_file(dest):
            self._gone[src] = now
            return
        moved = self.indexer.move_ids(src, dest, is_dir=False)
        if moved:
            self._moved_to[dest] = now
            self._report(f"moved {src} → {dest}", IndexReport(moved=len(moved), photo_ids=moved))
        else:
            self._pending[dest] = (now, None)

    def _step(self) -> bool:
        """Process what has settled; True if anything is still waiting."""
        now = time.monotonic()
        ready: list[str] = []
        for path, (last, seen_stat) in list(self._pending.items()):
            if now - last < self.settle:
                continue
            try:
                st = os.stat(path)
            except OSError:
                self._pending.pop(path)
                if not os.path.isdir(os.path.dirname(path)) and self._root_of(path):
                    # Gone with its folder, or named by a path its folder never had: inotify
                    # names a folder moved twice in quick succession by where it was.
                    self._rescan_all(now, f"{path} is not where it was reported")
                continue
            current = (st.st_size, st.st_mtime_ns)
            if seen_stat == current:
                ready.append(path)
                self._pending.pop(path)
            else:
                # Unchanged for `settle` seconds is the rule, measured from now.
                self._pending[path] = (now, current)
        sidecars = [p for p, t in self._sidecars.items() if now - t >= self.settle]
        for p in sidecars:
            self._sidecars.pop(p)
        if sidecars and self.on_sidecars is not None:
            self.on_sidecars(sidecars)
        gone = [p for p, t in self._gone.items() if now - t >= self.settle]
        dirs = [p for p, t in self._pending_dirs.items() if now - t >= self.settle]
        for p in gone:
            self._gone.pop(p)
        for p in dirs:
            self._pending_dirs.pop(p)
        if gone:
            root_paths = {r.path for r in self._roots}
            roots_gone = [p for p in gone if p in root_paths]
            if roots_gone:
                self._check_roots()
            others = [p for p in gone if p not in root_paths]
            gone_report = self.indexer.mark_gone(others)
            if gone_report.photo_ids:
                self._report(f"deleted {_describe(others)}", gone_report)
        if ready:
            self._report(f"changed {_describe(ready)}", self.indexer.index_files(
                ready, cancel=self._cancel, progress=self.progress))
        for folder in dirs:
            root = self._root_of(folder)
            if root is not None and os.path.isdir(folder):
                self._scan(f"folder {folder}", [(root, folder)])
            elif root is not None and not os.path.isdir(os.path.dirname(folder)):
                self._rescan_all(now, f"folder {folder} is not where it was reported")
        if not self._pending and not self._pending_dirs and not self._gone and self._burst:
            # The burst is over: if it was large, a stat-only rescan catches anything the
            # kernel's bounded event queue may have dropped.
            big = {p: touched for p, touched in self._burst.items()
                   if len(touched) >= self.burst_rescan}
            self._burst.clear()
            for root in self._roots:
                if root.path in big:
                    # Only the part of the tree the burst touched (a card copied into one
                    # folder rescans that folder, not a million-photo library).
                    where = os.path.commonpath(list(big[root.path]))
                    while not os.path.isdir(where) and where != root.path:
                        where = os.path.dirname(where)
                    if _under(where, root.path) and not scan.is_ignored(where, root.path):
                        self.stats.rescans += 1
                        self._scan(f"rescan {where}", [(root, where)])
        self._check_moves(now)
        return bool(self._pending or self._pending_dirs or self._gone or self._sidecars
                    or self._moved_to)

    def _check_moves(self, now: float) -> None:
        """A move whose destination is not there once things settled, while the library
        still places photos there, was reported under a stale path (inotify names a
        folder moved twice in quick succession by where it was): rescan the roots, where the
        files are found by content and their rows follow them (every root: the folder may
        have gone on to another one)."""
        for dest, when in list(self._moved_to.items()):
            if now - when < self.settle:
                continue
            self._moved_to.pop(dest)
            if os.path.lexists(dest):
                continue
            if self._root_of(dest) is not None and self.indexer.has_photos_at(dest):
                self._rescan_all(now, f"move to {dest} not found on disk")

    def _rescan_all(self, now: float, why: str) -> None:
        """The events no longer describe the disk: rescan every watched root (a stat each
        file; what moved is found by content, so rows follow their files)."""
        if not any(root.path in self._pending_dirs for root in self._roots):
            log.info("%s; rescanning", why)
            self.stats.rescans += 1
        for root in self._roots:
            if root.path in self._watches:
                self._pending_dirs[root.path] = now

    def _scan(self, why: str, targets: list[tuple[Root, str]]) -> None:
        """Scan folders for the watcher. The settle rule holds here too: a file the scan
        finds still changing (a folder being copied in) waits with the event-driven ones
        instead of being read half-written."""
        report = self.indexer.scan(targets, cancel=self._cancel, progress=self.progress,
                                   settle=self.settle)
        now = time.monotonic()
        for path in report.unsettled:
            self._pending.setdefault(path, (now, None))
        self._report(why, report)

    def _unwatch(self, path: str) -> None:
        watch = self._watches.pop(path, None)
        if watch is not None and self._observer is not None:
            try:
                self._observer.unschedule(watch)
            except (KeyError, OSError):
                pass

    def _check_roots(self) -> None:
        """Roots whose drive went away become offline; returning ones are rescanned."""
        known = {r.path for r in self._roots}
        self._roots = self.indexer.roots()
        current = {r.path for r in self._roots}
        for path in [p for p in self._watches if p not in current]:  # removed from the library
            self._unwatch(path)
        for root in self._roots:
            if root.path in self._unwatchable:
                continue
            # The same test a full index uses: an empty mount point left by an unmounted
            # drive is not the drive.
            present, _ = self.indexer.root_available(root)
            identity = _identity(root.path) if present else None
            remounted = (root.path in self._watches
                         and self._identities.get(root.path) != identity)
            if present and (root.path in self._offline or root.path not in self._watches
                            or remounted):
                # A drive unmounted and mounted again: its old watch died with the unmount.
                why = "back online" if root.path in known else "new photo folder"
                self._unwatch(root.path)
                self._schedule(root)
                self._scan(f"{why} {root.path}", [(root, root.path)])
            elif not present and root.path not in self._offline:
                self._offline.add(root.path)
                self._unwatch(root.path)
                self._scan(f"offline {root.path}", [(root, root.path)])

    def _watch_links(self) -> None:
        """Watch the targets of folder links followed out of the roots (inotify does not follow
        links), translating their events to the paths under the link."""
        if self._observer is None:
            return
        wanted = {(target, link) for root in self._roots if root.path in self._watches
                  for link, target in self.indexer.links.get(root.id, {}).items()
                  if os.path.isdir(target)}
        for key in [k for k in self._link_watches if k not in wanted]:
            try:
                self._observer.unschedule(self._link_watches.pop(key))
            except (KeyError, OSError):
                pass
        for target, link in wanted - set(self._link_watches):
            try:
                self._link_watches[(target, link)] = self._observer.schedule(
                    _Handler(self._events, translate=(target, link)), target, recursive=True)
            except OSError as exc:
                self.problems.append(f"cannot watch {target} (linked as {link}): "
                                     f"{exc.strerror or exc}")

    def _report(self, why: str, report: IndexReport) -> None:
        self.stats.indexed += report.new + report.updated
        self.stats.moved += report.moved
        self.stats.missing += report.missing
        self.stats.errors += report.errors
        self.stats.batches.append(report)
        self._watch_links()  # a scan may have found (or lost) folder links
        if self.on_report is not None:
            self.on_report(why, report)
