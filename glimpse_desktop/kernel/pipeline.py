"""The ingestion pipeline: stat diff -> read + hash -> decode once -> stages -> one writer.

Threads do the reading and decoding (Pillow, hashing and SQLite release the GIL for the heavy
parts), a bounded number of files is in flight at any moment (back-pressure, bounded memory),
and results are committed by the library's single writer in batches. The stages
(``kernel.stages``: the thumbnail, and whatever the features and plugins contribute) receive
the same decoded pixels; catch-up runs the same stage objects over photos read before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from glimpse_desktop.kernel import pairs, photos, scan
from glimpse_desktop.kernel.db import (
    Connection,
    LibraryError,
    LibraryFullError,
    Writer,
    is_environmental,
    now_iso,
)
from glimpse_desktop.kernel.decode import (
    SUPPORTED_EXTENSIONS,
    Budget,
    DecodeError,
    SizeRequest,
    UnsupportedError,
    decode,
)
from glimpse_desktop.kernel.lock import IngestLock
from glimpse_desktop.kernel.meta import PhotoMeta
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, ProgressCallback, ProgressMeter
from glimpse_desktop.kernel.stages import (
    MAX_FILE_BYTES,
    Stage,
    hash_content,
    run_batch_stages,
    run_stages,
    write_results,
)
from glimpse_desktop.kernel.threads import budget

__all__ = ["MAX_FILE_BYTES", "ByteBudget", "FileTask", "IndexReport", "Indexer", "MoveFinder",
           "Outcome", "Root", "Stage", "hash_content", "read_original"]

# File bytes held in memory by all workers together (decoded pixels come on top).
IN_FLIGHT_BYTES = 512 * 1024**2


def read_original(path: str) -> bytes:
    """A photo's bytes, within ingestion's size limit, or a LibraryError that says why not
    (for the viewer's full image, an export, a caption: reads outside ingestion)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LibraryError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise LibraryError(f"{path} is too large to be a photo")
    return data


@dataclass(frozen=True)
class Root:
    id: int
    path: str


@dataclass(frozen=True, slots=True)
class FileTask:
    path: str
    root_id: int | None
    size: int
    mtime_ns: int
    photo_id: int | None = None  # the row this path already has
    old_hash: str | None = None


@dataclass(slots=True)
class Outcome:
    task: FileTask
    kind: str  # photo | unsupported | moved | touched | error | skipped | fatal
    size: int = 0
    mtime_ns: int = 0
    content_hash: str | None = None
    meta: PhotoMeta | None = None
    moved_id: int | None = None
    stage: str | None = None
    reason: str | None = None
    stage_results: dict[str, Any] = field(default_factory=dict)
    stage_errors: dict[str, str] = field(default_factory=dict)
    written: int | None = None  # the photo row this outcome added, changed or moved
    displaced: bool = False     # a new photo at a path whose photo moved on in this run


@dataclass
class IndexReport:
    """What a run did; every count is of files."""

    seen: int = 0
    new: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    missing: int = 0
    restored: int = 0
    offline: int = 0
    errors: int = 0
    skipped: int = 0
    embedded: int = 0      # photos read before that were embedded afterwards (CLIP catch-up)
    embed_errors: int = 0
    faces: int = 0         # faces found by the run (in new and changed photos, and catch-up)
    people_new: int = 0    # people founded by clustering after the run
    places: int = 0        # photos whose place was found, changed or inferred after the run
    albums: int = 0        # automatic albums (events, trips) made or changed after the run
    cancelled: bool = False
    seconds: float = 0.0
    offline_roots: list[str] = field(default_factory=list)
    # Files a watcher's scan found still being written (changed within its settle time):
    # not read yet; the watcher waits for them to settle like any other new file.
    unsettled: list[str] = field(default_factory=list)
    # Photos added, changed, moved, restored or gone missing in the run: the rows a view
    # inserts, refreshes or drops.
    photo_ids: list[int] = field(default_factory=list)
    # Folders that went away while the run read them (a drive pulled mid-index), "path: why";
    # also in offline_roots. Their photos are offline, and the files left unread are counted
    # in `unread`, not in `skipped`: the run did not finish them, nothing was wrong with them.
    lost_roots: list[str] = field(default_factory=list)
    unread: int = 0
    # Files that vanished between the scan and their read (removed, or their drive pulled).
    vanished: list[str] = field(default_factory=list)
    # What follows the run (``Library.photos_changed``) that failed, by follow-up name, with
    # the reason: the photos themselves were read; people, places or sidecars lag behind.
    follow_up_problems: dict[str, str] = field(default_factory=dict)

    def merge(self, other: IndexReport) -> None:
        for name in ("seen", "new", "updated", "moved", "unchanged", "missing", "restored",
                     "offline", "errors", "skipped", "unread"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cancelled = self.cancelled or other.cancelled
        self.offline_roots += other.offline_roots
        self.lost_roots += other.lost_roots
        self.vanished += other.vanished
        self.unsettled += other.unsettled
        self.photo_ids += other.photo_ids
        self.follow_up_problems.update(other.follow_up_problems)


VANISHED = "removed before it could be read"


def _take_offline(conn: Connection, root: Root) -> int:
    """Mark a root and its photos offline (its drive is absent): kept, never missing."""
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM photos WHERE root_id = ? AND status != 'offline' "
        # A photo in the trash (flag 16, kernel.photos.FLAG_TRASHED) is not on the drive.
        "AND (flags & 16) = 0", (root.id,))]
    photos.mark_status(conn, ids, "offline")
    conn.execute("UPDATE roots SET status = 'offline' WHERE id = ?", (root.id,))
    return len(ids)


class ByteBudget(Budget):
    """Caps the bytes of files held in memory at once: a handful of 300 MB panoramas must
    not be read by every worker together. One file larger than the cap still goes alone.
    (Their decoded pixels are bounded apart, by ``decode.PIXELS``: a 687 KB PNG can hold
    225 MP.)"""


class MoveFinder:
    """A file whose bytes belong to a photo whose own file has gone is that photo, moved:
    whatever the row's state (missing, offline, or still "ok" because the delete or the
    move's other half has not been seen yet) and whichever root either lies in. So is a file
    whose bytes belong to a photo whose path now holds another photo's bytes (names swapped
    or rotated between two scans). Asked per new or changed file, by content hash (indexed);
    a row is claimed once per run, by a move or by staying where it is."""

    def __init__(self, reader: Callable[[], Connection]) -> None:
        self._reader = reader
        self._claimed: set[int] = set()
        self._lock = threading.Lock()

    def claim(self, content_hash: str, path: str) -> int | None:
        conn = self._reader()
        rows = conn.rows(
            "SELECT id, path, size, mtime_ns, content_hash FROM photos WHERE content_hash = ? "
            "AND path != ? ORDER BY status = 'ok', id", (content_hash, path))
        for row in rows:
            photo_id = int(row["id"])
            if not (photos.file_gone(str(row["path"])) or self._displaced(conn, row)):
                continue  # a copy: both files are there (or the old one cannot be looked at)
            with self._lock:
                if photo_id in self._claimed:
                    continue
                self._claimed.add(photo_id)
            return photo_id
        return None

    def keep_in_place(self, photo_id: int) -> bool:
        """The file at a photo's own path changed and is not another photo moved there: the
        photo stays (re-read in place), unless a move has claimed it already (False: then the
        file at its old path is a new photo)."""
        with self._lock:
            if photo_id in self._claimed:
                return False
            self._claimed.add(photo_id)
            return True

    @staticmethod
    def _displaced(conn: Connection, row: dict[str, Any]) -> bool:
        """Whether the row's path now holds another photo of the library (names swapped):
        only then did its own bytes leave. A file edited in place holds bytes no row has."""
        try:
            st = os.stat(str(row["path"]))
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) == (row["size"], row["mtime_ns"]):
            return False
        try:
            with open(str(row["path"]), "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError:
            return False
        now_holds = hash_content(data)
        return now_holds != row["content_hash"] and conn.one(
            "SELECT 1 FROM photos WHERE content_hash = ? AND id != ?",
            (now_holds, row["id"])) is not None


def _settled(future: Future[Any]) -> bool:
    """Whether a batch is written (or failed): its model step and then its write."""
    if not future.done():
        return False
    if future.exception() is not None:
        return True
    inner = future.result()
    return not isinstance(inner, Future) or inner.done()


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _prefix_range(folder: str) -> tuple[str, str]:
    prefix = folder.rstrip(os.sep) + os.sep
    return prefix, prefix[:-1] + chr(ord(os.sep) + 1)


class Indexer:
    """Brings the library in line with the disk, for whole roots or for single files."""

    def __init__(
        self,
        writer: Writer,
        reader: Callable[[], Connection],
        stages: Sequence[Stage],
        *,
        workers: int | None = None,
        batch_size: int = 64,
        flush_seconds: float = 1.0,
        lock: IngestLock | None = None,
        on_released: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.writer = writer
        self.reader = reader
        self.stages = list(stages)
        self.workers = workers or budget().decode
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.lock = lock
        # Per root: folder links followed out of it (link path -> real target), as last seen.
        self.links: dict[int, dict[str, str]] = {}
        # Called (outside any transaction) with content hashes no photo refers to any more.
        self.on_released = on_released
        self._budget = ByteBudget(IN_FLIGHT_BYTES)
        self._next_stages: list[Stage] | None = None
        self._apply_stages(stages)

    def set_stages(self, stages: Sequence[Stage], *, at_once: bool = False) -> None:
        """Change the stages (a model was installed or switched). A job that is running keeps
        the stages it started with; the next job takes these (``at_once``: before any job)."""
        if at_once:
            self._apply_stages(stages)
            self._next_stages = None
        else:
            self._next_stages = list(stages)

    def upcoming_stages(self) -> list[Stage]:
        """The stages the next job runs (catch-up runs them too)."""
        return list(self._next_stages if self._next_stages is not None else self.stages)

    def _apply_stages(self, stages: Sequence[Stage]) -> None:
        want = SizeRequest()
        for stage in stages:
            want = want.union(stage.wants())
        self.stages, self._want = list(stages), want

    # ------------------------------------------------------------------ roots

    def roots(self) -> list[Root]:
        return [Root(r["id"], r["path"]) for r in
                self.reader().rows("SELECT id, path FROM roots ORDER BY path")]

    def root_for(self, path: str, roots: Sequence[Root] | None = None) -> Root | None:
        best: Root | None = None
        for root in roots if roots is not None else self.roots():
            if _under(path, root.path) and (best is None or len(root.path) > len(best.path)):
                best = root
        return best

    def scan(
        self,
        targets: Sequence[tuple[Root, str]],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        settle: float = 0.0,
    ) -> IndexReport:
        """Scan folders (each a root or a folder inside one) and ingest what changed.

        ``settle``: files modified less than this many seconds ago are not read but listed in
        the report's ``unsettled`` (a watcher's scan of a folder still being copied)."""
        return self._job(lambda meter, token: self._scan(targets, meter, token, settle),
                         progress, cancel)

    def _job(self, work: Callable[[ProgressMeter, CancelToken], IndexReport],
             progress: ProgressCallback | None, cancel: CancelToken | None) -> IndexReport:
        """Run an ingestion job: one at a time per library, timed, cancellable, reported."""
        cancel = cancel or CancelToken()
        meter = ProgressMeter("index", progress)
        started = time.monotonic()
        try:
            with self._exclusive(meter, cancel):
                if self._next_stages is not None:
                    self._apply_stages(self._next_stages)
                    self._next_stages = None
                report = work(meter, cancel)
        except Cancelled:
            report = IndexReport()
        report.cancelled = cancel.cancelled
        report.seconds = time.monotonic() - started
        meter.finish()
        return report

    def _exclusive(self, meter: ProgressMeter, cancel: CancelToken
                   ) -> contextlib.AbstractContextManager[None]:
        if self.lock is None:
            return contextlib.nullcontext()
        return self.lock.hold(cancel, lambda: meter.start_phase(
            "waiting for another Glimpse that is indexing this library", None))

    def _scan(self, targets: Sequence[tuple[Root, str]], meter: ProgressMeter,
              cancel: CancelToken, settle: float = 0.0) -> IndexReport:
        report = IndexReport()
        tasks: list[FileTask] = []
        gone: list[int] = []
        for root, folder in targets:
            if cancel.cancelled:
                break
            tasks += self._diff_folder(root, folder, report, meter, cancel, gone=gone,
                                       settle_ns=int(settle * 1e9))
        if not cancel.cancelled:
            self._process(tasks, report, meter, cancel)
            # A drive pulled mid-run first (its photos go offline, not missing), then the
            # photos that went missing are joined to their moved files.
            self._check_still_there([root for root, _ in targets], report)
            self._rejoin(report, gone)
            if not cancel.cancelled:
                done_roots = {root.id for root, folder in targets if folder == root.path}
                self.writer.call(lambda conn: conn.executemany(
                    "UPDATE roots SET last_scan_at = ? WHERE id = ? AND status = 'online'",
                    [(now_iso(), rid) for rid in done_roots]))
        return report

    def _check_still_there(self, roots: Sequence[Root], report: IndexReport) -> None:
        """After reading: a root that was there when the run began and is gone now (its drive
        was pulled, or it was removed) is offline, as it would have been found at the start;
        its unread files are not "skipped" but waiting for the drive to come back."""
        already = {line.partition(": ")[0] for line in report.offline_roots}
        for root in {r.id: r for r in roots}.values():
            if root.path in already:
                continue
            available, why = self.root_available(root)
            if available:
                continue
            report.offline += self.writer.call(functools.partial(_take_offline, root=root))
            report.offline_roots.append(f"{root.path}: {why}")
            report.lost_roots.append(f"{root.path}: {why}")
            unread = [p for p in report.vanished if _under(p, root.path)]
            report.skipped -= len(unread)
            report.unread += len(unread)

    def _rejoin(self, report: IndexReport, gone: list[int]) -> None:
        """After a run: photos that went missing whose file was read elsewhere as new (the
        move was seen in two halves, or in an earlier run) are joined back to their rows;
        the report counts them as moved, not missing."""
        def apply(conn: Connection) -> tuple[list[tuple[int, int]], int]:
            joined = photos.rejoin(conn)
            still = 0
            for start in range(0, len(gone), 500):
                chunk = gone[start:start + 500]
                still += int(conn.one(
                    f"SELECT count(*) FROM photos WHERE status = 'missing' AND id IN "
                    f"({', '.join('?' * len(chunk))})", chunk))
            return joined, still

        joined, still = self.writer.call(apply)
        # Gone in the diff, found again as a move by content: a move, not a loss.
        report.missing = max(0, report.missing - (len(gone) - still))
        report.moved += len(joined)
        # Rows this run made that turned out to be moved photos are not new.
        made = set(report.photo_ids)
        report.new -= min(report.new, sum(1 for _, other in joined if other in made))
        for keep, other in joined:
            report.photo_ids += [keep, other]

    def root_available(self, root: Root) -> tuple[bool, str | None]:
        """Whether a root's files are there to read, and if not, why."""
        if not os.path.isdir(root.path):
            return False, "folder not found (drive unplugged or folder removed?)"
        try:
            with os.scandir(root.path) as it:
                empty = next(it, None) is None
        except OSError as exc:
            return False, f"cannot read folder: {exc.strerror or exc}"
        if empty:
            # An unmounted drive leaves its empty mount point behind. The folder was added on a
            # volume mounted somewhere; if that is no longer where the folder's file system is
            # mounted, the drive is absent, not every photo deleted.
            conn = self.reader()
            known = conn.one(
                "SELECT count(*) FROM photos WHERE root_id = ? AND status != 'missing'",
                (root.id,))
            volume = conn.one("SELECT v.mount_point FROM roots r JOIN volumes v "
                              "ON v.id = r.volume_id WHERE r.id = ?", (root.id,))
            if known and (volume is None or scan.mount_point(root.path) != volume):
                return False, "folder is empty and its drive is not mounted"
        return True, None

    def _diff_folder(self, root: Root, folder: str, report: IndexReport, meter: ProgressMeter,
                     cancel: CancelToken, *, gone: list[int] | None = None,
                     settle_ns: int = 0) -> list[FileTask]:
        if not scan.encodable(folder):
            # Never stored, so nothing below it is known: say so, as the walk does for the
            # folders it meets.
            def record(conn: Connection) -> None:
                photos.record_error(conn, path=scan.printable(folder), stage="scan",
                                    reason=scan.UNSTORABLE_FOLDER, root_id=root.id)

            self.writer.call(record)
            report.errors += 1
            return []
        available, why = self.root_available(root)
        if not available:
            report.offline += self.writer.call(functools.partial(_take_offline, root=root))
            report.offline_roots.append(f"{root.path}: {why}")
            return []
        meter.start_phase(f"scanning {folder}", None)
        problems: list[scan.ScanProblem] = []
        lo, hi = _prefix_range(folder)
        conn = self.reader()
        # Known-bad files (few) for the whole target; known photos folder by folder.
        bad = {
            r[0]: (r[1], r[2]) for r in conn.execute(
                "SELECT path, size, mtime_ns FROM errors WHERE stage IN ('read', 'decode') "
                "AND path >= ? AND path < ?", (lo, hi))
        }
        tasks: list[FileTask] = []
        restore: list[int] = []
        gone_here: list[int] = []
        stale_errors: list[str] = []
        fresh_after = time.time_ns() - settle_ns
        visited: set[str] = set()
        links: dict[str, str] = {}
        others = [r.path for r in self.roots() if r.id != root.id]
        for directory, entries in scan.walk(folder, SUPPORTED_EXTENSIONS, problems.append,
                                            root=root.path, other_roots=others,
                                            on_link=links.__setitem__,
                                            should_stop=lambda: cancel.cancelled):
            visited.add(directory)
            report.seen += len(entries)
            meter.advance(len(entries))
            known = {
                r[1]: r for r in conn.execute(
                    "SELECT id, path, size, mtime_ns, status, content_hash FROM photos "
                    "WHERE folder = ? AND root_id = ?", (directory, root.id))
            }
            seen: set[str] = set()
            for e in entries:
                seen.add(e.path)
                row = known.get(e.path)
                if row is not None and row[2] == e.size and row[3] == e.mtime_ns:
                    if row[4] in ("missing", "offline"):
                        restore.append(row[0])
                    report.unchanged += 1
                    continue
                if settle_ns and e.mtime_ns > fresh_after:
                    report.unsettled.append(e.path)
                    continue
                if bad.get(e.path) == (e.size, e.mtime_ns):
                    # Known bad and unchanged (also a photo overwritten by a damaged file: its
                    # row keeps what was read before): not worth another try.
                    report.skipped += 1
                    continue
                tasks.append(FileTask(e.path, root.id, e.size, e.mtime_ns,
                                      row[0] if row else None, row[5] if row else None))
            gone_here += [row[0] for path, row in known.items()
                          if path not in seen and row[4] != "missing"]
            stale_errors += [p for p in bad if os.path.dirname(p) == directory and p not in seen]
        if cancel.cancelled:
            return []
        # Remember the links followed below this folder, for the watcher to watch their targets.
        known_links = {link: target for link, target in self.links.get(root.id, {}).items()
                       if not _under(link, folder)}
        self.links[root.id] = {**known_links, **links}
        # Folders the library knows that the walk did not reach: deleted or renamed (their
        # photos are missing until a move is recognised), or unreadable (kept as they are).
        unreadable = [p.path for p in problems if p.reason.startswith("cannot read folder")]
        for directory in [r[0] for r in conn.execute(
                "SELECT DISTINCT folder FROM photos WHERE root_id = ? AND "
                "(folder = ? OR (folder >= ? AND folder < ?))", (root.id, folder, lo, hi))]:
            if directory in visited or any(_under(directory, u) for u in unreadable):
                continue
            gone_here += [r[0] for r in conn.execute(
                "SELECT id FROM photos WHERE folder = ? AND root_id = ? "
                "AND status != 'missing'", (directory, root.id))]
        stale_errors += [p for p in bad if os.path.dirname(p) not in visited
                         and not any(_under(p, u) for u in unreadable)]

        def apply(conn: Connection) -> None:
            photos.mark_status(conn, gone_here, "missing")
            photos.mark_status(conn, restore, "ok")
            conn.execute("DELETE FROM errors WHERE stage = 'scan' AND (path = ? OR "
                         "(path >= ? AND path < ?))", (folder, lo, hi))
            for p in problems:
                photos.record_error(conn, path=p.path, stage="scan", reason=p.reason,
                                    root_id=root.id)
            for stale in stale_errors:
                photos.clear_errors(conn, stale)
            conn.execute("UPDATE roots SET status = 'online' WHERE id = ?", (root.id,))

        self.writer.call(apply)
        report.missing += len(gone_here)
        if gone is not None:
            gone += gone_here
        report.restored += len(restore)
        report.photo_ids += restore     # back on screen: views show them again
        report.photo_ids += gone_here   # and these leave the views
        report.errors += len(problems)
        return tasks

    # ------------------------------------------------------------------ single files

    def index_files(
        self,
        paths: Iterable[str],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IndexReport:
        """Ingest these files if they are new or changed (the watcher's entry point)."""
        return self._job(lambda meter, token: self._index_files(paths, meter, token),
                         progress, cancel)

    def _index_files(self, paths: Iterable[str], meter: ProgressMeter,
                     cancel: CancelToken) -> IndexReport:
        report = IndexReport()
        roots = self.roots()
        conn = self.reader()
        tasks: list[FileTask] = []
        restore: list[int] = []
        unstorable: list[str] = []
        for path in dict.fromkeys(paths):
            if not scan.encodable(path):
                unstorable.append(scan.printable(path))
                continue
            root = self.root_for(path, roots)
            entry = scan.stat_file(path)
            if root is None or entry is None:
                continue
            if os.path.splitext(path)[1].lower() not in SUPPORTED_EXTENSIONS:
                continue
            if scan.is_ignored(path, root.path):
                continue
            report.seen += 1
            row = conn.row("SELECT id, size, mtime_ns, status, content_hash FROM photos "
                           "WHERE path = ?", (path,))
            if row and (row["size"], row["mtime_ns"]) == (entry.size, entry.mtime_ns):
                if row["status"] in ("missing", "offline"):
                    restore.append(int(row["id"]))
                    report.restored += 1
                else:
                    report.unchanged += 1
                continue
            bad = conn.row("SELECT size, mtime_ns FROM errors WHERE path = ? AND "
                           "stage IN ('read', 'decode')", (path,))
            if bad and (bad["size"], bad["mtime_ns"]) == (entry.size, entry.mtime_ns):
                report.skipped += 1
                continue
            tasks.append(FileTask(path, root.id, entry.size, entry.mtime_ns,
                                  row["id"] if row else None,
                                  row["content_hash"] if row else None))
        def bookkeeping(conn: Connection) -> None:
            photos.mark_status(conn, restore, "ok")
            for name in unstorable:
                photos.record_error(conn, path=name, stage="scan", reason=scan.UNSTORABLE_NAME)

        if restore or unstorable:
            self.writer.call(bookkeeping)
        report.photo_ids += restore
        report.errors += len(unstorable)
        self._process(tasks, report, meter, cancel)
        return report

    def mark_gone(self, paths: Iterable[str]) -> IndexReport:
        """Files or folders deleted (the watcher's entry point): their rows become missing,
        except where the file was already read at its new place (a move seen in two halves):
        that row is joined back to the photo's, which counts as moved."""
        wanted = [p for p in paths if scan.encodable(p)]  # others were never stored

        def apply(conn: Connection) -> tuple[list[int], list[tuple[int, int]]]:
            ids: list[int] = []
            for path in wanted:
                if os.path.lexists(path):
                    continue  # came back (an editor's save-by-rename) or never left
                lo, hi = _prefix_range(path)
                ids += [r[0] for r in conn.execute(
                    "SELECT id FROM photos WHERE (path = ? OR (path >= ? AND path < ?)) "
                    "AND status IN ('ok', 'unsupported')", (path, lo, hi))]
                conn.execute("DELETE FROM errors WHERE path = ? OR (path >= ? AND path < ?)",
                             (path, lo, hi))
            unique = list(dict.fromkeys(ids))  # a file and its deleted folder both listed
            photos.mark_status(conn, unique, "missing")
            return unique, photos.rejoin(conn, unique)

        gone, joined = self.writer.call(apply)
        kept = {keep for keep, _ in joined}
        # Views drop the missing and the joined-away rows, and refresh the moved ones.
        return IndexReport(missing=len(gone) - len(kept), moved=len(joined),
                           photo_ids=gone + [other for _, other in joined])

    def has_photos_at(self, path: str) -> bool:
        """Whether the library places a present photo at ``path`` or below it."""
        if not scan.encodable(path):
            return False
        lo, hi = _prefix_range(path)
        return self.reader().one(
            "SELECT 1 FROM photos WHERE (path = ? OR (path >= ? AND path < ?)) "
            "AND status IN ('ok', 'unsupported') LIMIT 1", (path, lo, hi)) is not None

    def move(self, src: str, dest: str, *, is_dir: bool) -> int:
        return len(self.move_ids(src, dest, is_dir=is_dir))

    def move_ids(self, src: str, dest: str, *, is_dir: bool) -> list[int]:
        """A file or folder renamed/moved inside the library: rows follow, nothing is re-read.

        Returns how many photos moved (0 when the source was unknown: the caller then treats
        the destination as new).
        """
        if not scan.encodable(src):
            return []  # never stored: the caller treats the destination as new
        root = self.root_for(dest)
        if root is None or not scan.encodable(dest):
            return self.mark_gone([src]).photo_ids

        def apply(conn: Connection) -> list[int]:
            if is_dir:
                return photos.move_folder(conn, src, dest, root_id=root.id)
            photo_id = conn.one("SELECT id FROM photos WHERE path = ?", (src,))
            if photo_id is None:
                return []
            # The row keeps the size and time it was read with: a rename preserves both, and
            # if the file was also edited, the difference makes the next look re-read it.
            photos.move_photo(conn, int(photo_id), dest, root_id=root.id)
            return [int(photo_id)]

        return self.writer.call(apply)

    # ------------------------------------------------------------------ the work

    def _process(self, tasks: list[FileTask], report: IndexReport, meter: ProgressMeter,
                 cancel: CancelToken) -> None:
        if not tasks:
            return
        moves = MoveFinder(self.reader)
        meter.start_phase("reading photos", len(tasks))
        batch: list[Outcome] = []
        writes: deque[tuple[Future[Future[list[str]]] | Future[list[str]], list[Outcome]]] = \
            deque()
        last_flush = time.monotonic()

        def finish(todo: list[Outcome]) -> Future[list[str]]:
            # In turn, a batch at a time: batched inference (CLIP, the face recogniser, each
            # on its model thread) for this batch while the workers decode the next one; then
            # its write is queued, in order, and the models go on to the next batch while the
            # writer stores this one.
            run_batch_stages(self.stages, todo)
            return self.writer.submit(lambda conn: self._write_batch(conn, todo))

        def flush() -> None:
            nonlocal batch, last_flush
            if batch:
                todo, batch = batch, []
                if batch_stages:
                    writes.append((post.submit(finish, todo), todo))
                else:
                    writes.append((self.writer.submit(
                        lambda conn: self._write_batch(conn, todo)), todo))
            last_flush = time.monotonic()
            # At most two batches wait for the writer: readers slow down rather than pile up.
            while len(writes) > 2 or (writes and _settled(writes[0][0])):
                done_write()

        def done_write() -> None:
            future, written = writes.popleft()
            result = future.result()
            self._released(result.result() if isinstance(result, Future) else result)
            report.photo_ids += [o.written for o in written if o.written is not None]

        queue_limit = self.workers * 2
        fatal: str | None = None
        batch_stages = [s for s in self.stages if s.batched]
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="glimpse-batches") as post, \
                    ThreadPoolExecutor(self.workers, thread_name_prefix="glimpse-ingest") as pool:
                pending: set[Future[Outcome]] = set()
                todo = iter(tasks)
                exhausted = False
                while True:
                    while (not exhausted and not cancel.cancelled and fatal is None
                           and len(pending) < queue_limit):
                        task = next(todo, None)
                        if task is None:
                            exhausted = True
                            break
                        pending.add(pool.submit(self._work, task, moves))
                    if not pending:
                        break
                    done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                    for fut in done:
                        outcome = fut.result()
                        if outcome.kind == "fatal":
                            fatal = fatal or outcome.reason
                            continue
                        batch.append(outcome)
                        self._count(outcome, report)
                        meter.advance(errors=int(outcome.kind == "error"),
                                      current=outcome.task.path)
                    if len(batch) >= self.batch_size or (
                            batch and time.monotonic() - last_flush > self.flush_seconds):
                        flush()
                flush()
                while writes:
                    done_write()
        finally:
            # A run that stops on an error still waits for the writes it queued: none may
            # land after the run (and its lock) is over.
            for future, _ in writes:
                with contextlib.suppress(Exception):
                    queued = future.result()
                    if isinstance(queued, Future):
                        queued.result()
        if fatal is not None:
            raise LibraryFullError(fatal)

    @staticmethod
    def _count(outcome: Outcome, report: IndexReport) -> None:
        kind = outcome.kind
        if kind in ("photo", "unsupported"):
            if outcome.task.photo_id is None:
                report.new += 1
            else:
                report.updated += 1
            if kind == "unsupported":
                report.errors += 1
        elif kind == "moved":
            report.moved += 1
        elif kind == "touched":
            report.unchanged += 1
        elif kind == "error":
            report.errors += 1
        elif kind == "skipped":
            report.skipped += 1
            if outcome.reason == VANISHED:
                report.vanished.append(outcome.task.path)
        report.errors += len(outcome.stage_errors)

    def _work(self, task: FileTask, moves: MoveFinder) -> Outcome:
        """Runs on a worker thread. Never raises: every failure becomes an Outcome."""
        try:
            return self._work_inner(task, moves)
        except Exception as exc:  # a bug or an OS surprise costs one file, never the run
            return Outcome(task, "error", task.size, task.mtime_ns, stage="ingest",
                           reason=f"unexpected {type(exc).__name__}: {exc}")

    def _work_inner(self, task: FileTask, moves: MoveFinder) -> Outcome:
        if task.size > MAX_FILE_BYTES:
            return Outcome(task, "error", task.size, task.mtime_ns, stage="read",
                           reason=f"file is {task.size / 1024**3:.1f} GB, too large for a photo")
        held = self._budget.acquire(task.size)
        try:
            return self._read_and_decode(task, moves)
        finally:
            self._budget.release(held)

    def _read_and_decode(self, task: FileTask, moves: MoveFinder) -> Outcome:
        try:
            with open(task.path, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
                st = os.fstat(fh.fileno())
        except FileNotFoundError:
            return Outcome(task, "skipped", reason=VANISHED)
        except OSError as exc:
            return Outcome(task, "error", task.size, task.mtime_ns, stage="read",
                           reason=f"cannot read file: {exc.strerror or exc}")
        if len(data) != st.st_size or st.st_size != task.size or st.st_mtime_ns != task.mtime_ns:
            # Still being written (a copy in progress): the next scan or watch event gets it.
            return Outcome(task, "skipped", reason="file changed while it was being read")
        # Hashing the bytes already in memory costs <1% of decoding them (xxh3 runs at tens of
        # GB/s), and lets a moved or renamed file be recognised before any decoding.
        content_hash = hash_content(data)
        out = Outcome(task, "photo", st.st_size, st.st_mtime_ns, content_hash)
        if task.photo_id is not None and task.old_hash == content_hash:
            out.kind = "touched"
            return out
        # Bytes that belonged to a photo whose file has gone: that photo moved here (also over
        # an existing file, `mv a.jpg b.jpg`, as the watcher sees it too).
        moved = moves.claim(content_hash, task.path)
        if moved is not None and moved != task.photo_id:
            out.kind, out.moved_id = "moved", moved
            return out
        if task.photo_id is not None and not moves.keep_in_place(task.photo_id):
            # This path's photo moved on (names swapped): these bytes are a photo of their own.
            out.task = task = dataclasses.replace(task, photo_id=None, old_hash=None)
            out.displaced = True
        try:
            decoded = decode(data, task.path, want=self._want, mtime=st.st_mtime_ns / 1e9)
        except UnsupportedError as exc:
            out.kind, out.stage, out.reason = "unsupported", "decode", str(exc)
            out.meta = exc.meta   # what it says about itself (its date, camera), if anything
            return out
        except DecodeError as exc:
            out.kind, out.stage, out.reason = "error", "decode", str(exc)
            return out
        del data
        out.meta = decoded.meta
        stages = self.stages
        if pairs.partner_on_disk(task.path):
            # A RAW beside its JPEG is about to be that photo's companion: it gets its
            # thumbnail (shown again if the pair breaks), the models look at the JPEG alone.
            stages = [s for s in stages if s.name == "thumbnail"]
        full = run_stages(stages, content_hash, decoded, out)
        if full is not None:
            # Not this photo's fault: every following one would fail the same way.
            out.kind = "fatal"
            out.stage, out.reason = full
        return out

    def _released(self, hashes: list[str]) -> None:
        """Content no photo has any more (a file was edited): let its derived data go."""
        if not hashes or self.on_released is None:
            return
        conn = self.reader()
        gone = [h for h in dict.fromkeys(hashes)
                if conn.one("SELECT 1 FROM photos WHERE content_hash = ?", (h,)) is None]
        if gone:
            self.on_released(gone)

    def _write_batch(self, conn: Connection, outcomes: list[Outcome]) -> list[str]:
        """Runs on the writer thread, inside one transaction for the whole batch.

        Each file gets its own savepoint: a value the database refuses costs that file (which
        is recorded as an error), never the batch or the run. Each photo's row is written,
        then every stage's results; its full-text row is rebuilt once, when the batch
        commits, from all of them (``fts.mark``).
        """
        released: list[str] = []
        for o in outcomes:
            if (o.kind in ("photo", "unsupported") and o.task.old_hash
                    and o.task.old_hash != o.content_hash):
                released.append(o.task.old_hash)
            conn.execute("SAVEPOINT outcome")
            try:
                self._write_outcome(conn, o)
            except Exception as exc:
                if not conn.in_transaction or isinstance(exc, LibraryError) \
                        or is_environmental(exc):
                    raise  # a full disk, an I/O error: not this file's fault
                conn.execute("ROLLBACK TO outcome")
                conn.execute("RELEASE outcome")
                o.written = None
                photos.record_error(conn, path=o.task.path, stage="ingest",
                                    reason=f"could not be saved: {type(exc).__name__}: {exc}",
                                    root_id=o.task.root_id, size=o.size, mtime_ns=o.mtime_ns)
            else:
                conn.execute("RELEASE outcome")
        return released

    def _write_outcome(self, conn: Connection, o: Outcome) -> None:
        t = o.task
        if o.kind in ("photo", "unsupported"):
            assert o.content_hash is not None
            meta = o.meta
            photo_id = photos.upsert_photo(
                conn, path=t.path, root_id=t.root_id, size=o.size, mtime_ns=o.mtime_ns,
                content_hash=o.content_hash, meta=meta,
                status="ok" if o.kind == "photo" else "unsupported",
                texts=meta.texts if meta else (), photo_id=t.photo_id, fresh=o.displaced)
            o.written = photo_id
            photos.clear_errors(conn, t.path)
            if o.kind == "unsupported":
                photos.record_error(conn, path=t.path, stage=o.stage or "decode",
                                    reason=o.reason or "unsupported", root_id=t.root_id,
                                    photo_id=photo_id, size=o.size, mtime_ns=o.mtime_ns)
            if meta is not None and meta.warnings:
                photos.record_error(conn, path=t.path, stage="metadata",
                                    reason="; ".join(meta.warnings), root_id=t.root_id,
                                    photo_id=photo_id, size=o.size, mtime_ns=o.mtime_ns)
            write_results(conn, self.stages, photo_id, o, path=t.path, root_id=t.root_id,
                          size=o.size, mtime_ns=o.mtime_ns)
        elif o.kind == "moved":
            assert o.moved_id is not None
            photos.move_photo(conn, o.moved_id, t.path, root_id=t.root_id,
                              size=o.size, mtime_ns=o.mtime_ns)
            o.written = o.moved_id
        elif o.kind == "touched":
            assert t.photo_id is not None
            photos.touch_photo(conn, t.photo_id, size=o.size, mtime_ns=o.mtime_ns)
        elif o.kind == "error":
            photos.record_error(conn, path=t.path, stage=o.stage or "ingest",
                                reason=o.reason or "unknown error", root_id=t.root_id,
                                photo_id=t.photo_id, size=o.size, mtime_ns=o.mtime_ns)
