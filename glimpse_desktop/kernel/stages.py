"""Stages, and the one engine that runs them: over photos being read (the ingestion
pipeline) and over photos read before a stage existed (catch-up).

A stage is a step that uses a photo's decoded pixels: the grid thumbnail, CLIP embeddings,
faces, or a plugin's (``glimpse_stages``). It declares the pixels it needs (``wants``),
whether it runs a model over a whole batch (``batched``), and which photos still owe it work
(``backlog``), so the same stage object serves both paths:

- ingestion (``kernel.pipeline``): each file is read, hashed and decoded once for every
  stage; ``process`` runs on the worker threads, ``process_batch`` on the model thread, and
  ``write`` in the writer's transaction for the batch;
- catch-up (``catch_up`` here): a model installed later, a switch of model or face pack, a
  plugin installed after the photos were read. Each owed file is read again, checked against
  the content hash it was indexed with, decoded once for all the stages that owe it, and run
  through the same ``process``, ``process_batch`` and ``write``.

A file that fails a stage is recorded under the stage's name and is not owed again until it
changes (the backlog leaves out photos with an error of the stage).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import xxhash

from glimpse_desktop.kernel import fts, photos
from glimpse_desktop.kernel.db import (
    Connection,
    LibraryError,
    LibraryFullError,
    Writer,
    is_environmental,
)
from glimpse_desktop.kernel.decode import Decoded, DecodeError, SizeRequest, decode
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, ProgressMeter
from glimpse_desktop.kernel.threads import budget

__all__ = ["MAX_FILE_BYTES", "BacklogPhoto", "CatchUpReport", "Stage", "StageBase",
           "StageReport", "catch_up", "check_stage", "hash_content", "model_thread", "owed",
           "owed_count", "run_batch_stages", "run_stages", "write_results"]

# Files larger than this are not read into memory; no still photo comes close.
MAX_FILE_BYTES = 2 * 1024**3
# Photos a catch-up run takes through the model at a time (a batch stage may split it).
CATCH_UP_BATCH = 64


def hash_content(data: bytes) -> str:
    """The content hash that keys thumbnails and recognises moved files (xxh3, 128 bits)."""
    return str(xxhash.xxh3_128_hexdigest(data))


@dataclass(frozen=True, slots=True)
class BacklogPhoto:
    """A photo a stage still owes work: its row id, the file, the content hash the stage's
    work must match, its folder of the library, and when it was taken (newest first)."""

    id: int
    path: str
    content_hash: str
    root_id: int | None = None
    taken_ts: float | None = None


@dataclass
class StageReport:
    """What a catch-up run did for one stage; every count is of photos."""

    name: str
    done: int = 0        # processed and written
    errors: int = 0      # could not be read, decoded or processed: recorded under the stage
    skipped: int = 0     # changed since they were read: the next scan reads them, every stage
    remaining: int = 0   # still owed after the run
    cancelled: bool = False
    photo_ids: list[int] = field(default_factory=list)   # the photos written
    # The stage itself failed (its backlog, a whole batch, or after_catch_up): why, as
    # "process_batch: RuntimeError: …". It stopped there; the other stages went on, and the
    # photos it did not reach are still owed (no photo is to blame).
    problem: str | None = None
    # The exception behind ``problem``, for a caller that ran this stage alone to raise.
    error: BaseException | None = field(default=None, repr=False, compare=False)


@dataclass
class CatchUpReport:
    """What a catch-up run did, stage by stage."""

    stages: dict[str, StageReport] = field(default_factory=dict)
    photos: int = 0      # files read (one read serves every stage that owed the photo)
    cancelled: bool = False

    def stage(self, name: str) -> StageReport:
        """The report of stage ``name`` (an empty one if the stage did not run)."""
        return self.stages.get(name) or StageReport(name, cancelled=self.cancelled)


class Stage(Protocol):
    """A step that uses the decoded pixels of a photo (``StageBase`` has the defaults).

    ``process`` runs on worker threads and must not touch the database; ``process_batch``
    (for a stage that declares ``batched``) runs on the model thread with the results of
    ``process`` for a batch of photos and returns one result per item, in order; ``write``
    runs on the writer thread inside the batch's transaction. ``backlog`` lists the photos
    that still owe this stage work (a query on the library; ``owed`` builds the usual one),
    newest first; ``after_catch_up`` runs once a catch-up run is over (a model whose photos
    are all done takes over search, say).

    A stage whose results carry words for the full-text index (read back through the
    ``glimpse_photo_text`` hook) sets ``writes_text = True``: the photo's full-text row is
    then rebuilt once, after every stage has written, at the end of the transaction; the
    stage never rebuilds it itself."""

    @property
    def name(self) -> str:
        """Short and unique: results are keyed by it and errors recorded under it."""
        ...

    @property
    def label(self) -> str:
        """What catch-up progress calls the work ("embedding photos (clip-vit-b-32)")."""
        ...

    @property
    def batched(self) -> bool:
        """Whether ``process_batch`` runs over each batch on the model thread."""
        ...

    def wants(self) -> SizeRequest: ...

    def process(self, content_hash: str, decoded: Decoded) -> Any: ...

    def process_batch(self, items: list[Any]) -> list[Any]: ...

    def write(self, conn: Connection, photo_id: int, result: Any) -> None: ...

    def backlog(self, conn: Connection) -> list[BacklogPhoto]: ...

    def backlog_count(self, conn: Connection) -> int: ...

    def after_catch_up(self, report: StageReport, meter: ProgressMeter,
                       cancel: CancelToken) -> None: ...


class StageBase:
    """The optional parts of a stage: not batched, nothing owed, nothing to do after a
    catch-up. A stage sets ``name`` and implements ``process`` and ``write``."""

    name: str = ""
    batched: bool = False
    # Its results are words for the full-text index (see Stage).
    writes_text: bool = False

    @property
    def label(self) -> str:
        return f"catching up ({self.name})"

    def wants(self) -> SizeRequest:
        return SizeRequest()

    def process(self, content_hash: str, decoded: Decoded) -> Any:
        raise NotImplementedError

    def process_batch(self, items: list[Any]) -> list[Any]:
        return items

    def write(self, conn: Connection, photo_id: int, result: Any) -> None:
        raise NotImplementedError

    def backlog(self, conn: Connection) -> list[BacklogPhoto]:
        return []

    def backlog_count(self, conn: Connection) -> int:
        return 0

    def after_catch_up(self, report: StageReport, meter: ProgressMeter,
                       cancel: CancelToken) -> None:
        return None


_METHODS = ("wants", "process", "process_batch", "write", "backlog", "backlog_count",
            "after_catch_up")


def check_stage(obj: object) -> str | None:
    """Why ``obj`` (returned by a plugin's ``glimpse_stages``) cannot run as a stage, or None
    when it can: a stage it cannot run would fail every photo, or the run."""
    try:
        name = getattr(obj, "name", None)
    except Exception as exc:
        return f"{type(obj).__name__}'s name failed: {type(exc).__name__}: {exc}"
    if not isinstance(name, str) or not name:
        return f"{type(obj).__name__} has no name"
    missing = [m for m in _METHODS if not callable(getattr(obj, m, None))]
    if missing:
        return f"stage {name} lacks {', '.join(missing)} (kernel.stages.StageBase has them)"
    # A plugin's property or ``wants`` may raise: that stage is left out, never the library.
    try:
        if not isinstance(getattr(obj, "batched", None), bool):
            return f"stage {name} does not say whether it is batched"
        if not isinstance(getattr(obj, "label", None), str):
            return f"stage {name} has no label"
        want = obj.wants()  # type: ignore[attr-defined]
    except Exception as exc:
        return f"stage {name} failed: {type(exc).__name__}: {exc}"
    if not isinstance(want, SizeRequest):
        return f"stage {name}: wants() returned {type(want).__name__}, not a SizeRequest"
    return None


# ---------------------------------------------------------------------- backlog queries


def _owed_sql(done: str) -> str:
    # Photos on disk whose stage work is not ``done`` for their current content; a file that
    # failed the stage is not owed again until it changes (its error goes with the re-read).
    # A RAW kept as a JPEG's companion (kernel/pairs.py) owes nothing: its photo is the JPEG.
    return ("FROM photos p WHERE p.status = 'ok' AND p.companion_of IS NULL AND NOT ("
            + done + ") "
            "AND NOT EXISTS (SELECT 1 FROM errors x WHERE x.photo_id = p.id AND x.stage = ?)")


def owed(conn: Connection, stage: str, done: str, params: Sequence[Any] = ()
         ) -> list[BacklogPhoto]:
    """The photos that owe ``stage`` work, newest first: those on disk for which the SQL
    condition ``done`` (on the row ``p`` of ``photos``, with ``params``) is false, leaving out
    files that failed the stage in their current content. ``done`` is the stage's own
    constant SQL, e.g. ``EXISTS (SELECT 1 FROM colors c WHERE c.photo_id = p.id AND
    c.content_hash = p.content_hash)``."""
    rows = conn.rows(
        "SELECT p.id, p.path, p.content_hash, p.root_id, p.taken_ts " + _owed_sql(done)
        + " ORDER BY p.taken_ts DESC, p.id DESC", (*params, stage))
    return [BacklogPhoto(int(r["id"]), str(r["path"]), str(r["content_hash"]), r["root_id"],
                         r["taken_ts"]) for r in rows]


def owed_count(conn: Connection, stage: str, done: str, params: Sequence[Any] = ()) -> int:
    """How many photos ``owed`` would list."""
    return int(conn.one("SELECT count(*) " + _owed_sql(done), (*params, stage)))


# ---------------------------------------------------------------------- the engine


class _Results(Protocol):
    """What a photo carries through the stages (a pipeline Outcome, a catch-up item)."""

    stage_results: dict[str, Any]
    stage_errors: dict[str, str]


def _disk_full(exc: OSError) -> str | None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"the disk is full ({exc.filename or 'cache'}): free some space and run the "
                "command again (everything saved before this point is kept)")
    return None


def run_stages(stages: Sequence[Stage], content_hash: str, decoded: Decoded,
               into: _Results) -> tuple[str, str] | None:
    """Run each stage's ``process`` on one decoded photo (on a worker thread), keeping each
    result or error in ``into``: one stage failing costs only its own result. A full disk is
    no photo's fault (every following one would fail alike): returned as ``(stage, why)``
    for the caller to stop on."""
    for stage in stages:
        try:
            into.stage_results[stage.name] = stage.process(content_hash, decoded)
        except OSError as exc:
            full = _disk_full(exc)
            if full is not None:
                return stage.name, full
            into.stage_errors[stage.name] = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # one stage failing keeps the photo and the other stages
            into.stage_errors[stage.name] = f"{type(exc).__name__}: {exc}"
    return None


# ---------------------------------------------------------------------- model threads

# One long-lived thread per batched stage, for the life of the process (by stage name).
_model_threads: dict[str, ThreadPoolExecutor] = {}
_model_threads_lock = threading.Lock()
# Set on a model thread to the name of the stage it serves (a stage's own thread runs it inline).
_serving = threading.local()


def _forget_model_threads() -> None:
    # A child made by fork() has none of its parent's threads: the executors it inherited
    # would take work that no thread ever runs. It makes its own on first use.
    global _model_threads_lock
    _model_threads.clear()
    _model_threads_lock = threading.Lock()


if hasattr(os, "register_at_fork"):     # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_model_threads)


def _serve(name: str) -> None:
    _serving.stage = name


def model_thread(name: str) -> ThreadPoolExecutor:
    """The one thread that runs the batched stage ``name``'s ``process_batch``, made on first
    use and kept for the life of the process.

    A runtime keeps state per calling thread: an OpenMP runtime (torch, OpenCV builds) makes
    a thread team for each new thread that enters a parallel region, and ONNX Runtime's
    kernels (MLAS) and OpenVINO's (oneDNN) keep per-thread scratch buffers on the thread that
    calls them, which joins their work. A new thread per
    batch (as a pool made per batch gives) paid that every batch and left the old teams
    behind; one thread per stage, reused by every ingestion and catch-up run, keeps one
    team per runtime. An idle model thread waits on its queue and costs no CPU."""
    with _model_threads_lock:
        pool = _model_threads.get(name)
        if pool is None:
            pool = ThreadPoolExecutor(1, thread_name_prefix=f"glimpse-model-{name}",
                                      initializer=_serve, initargs=(name,))
            _model_threads[name] = pool
        return pool


def run_batch_stages(stages: Sequence[Stage], holders: Sequence[_Results], *,
                     record: bool = True) -> dict[str, Exception]:
    """Give each batched stage the per-photo results of one batch at once, each on its own
    long-lived model thread (``model_thread``), and wait for them. ``record``: a failure
    costs that stage's results for the batch, recorded per photo, never the photos
    themselves (ingestion); otherwise each failing stage's exception is returned by name,
    its results taken off the holders and nothing recorded per photo (catch-up: a model
    failing on a whole batch is the model's or the machine's problem, not the photos').

    The stages run one after the other, not side by side: each model's thread team is sized
    to the whole machine (``kernel.threads``), and two such teams at once (CLIP and the face
    recogniser) would ask for twice the cores there are; the total work is the same, and
    the recogniser's batch (a few crops per photo) is short."""
    work = []
    for stage in stages:
        if not stage.batched:
            continue
        held = [h for h in holders if stage.name in h.stage_results]
        if held:
            work.append((stage, held))
    failures: dict[str, Exception] = {}

    def run(stage: Stage, held: list[_Results]) -> None:
        try:
            results = stage.process_batch([h.stage_results[stage.name] for h in held])
            if len(results) != len(held):
                raise ValueError(f"{stage.name}: process_batch returned {len(results)} "
                                 f"results for {len(held)} items")
        except Exception as exc:
            if not record:
                failures[stage.name] = exc
                for h in held:
                    del h.stage_results[stage.name]
                return
            for h in held:
                del h.stage_results[stage.name]
                h.stage_errors[stage.name] = f"{type(exc).__name__}: {exc}"
            return
        for h, result in zip(held, results, strict=True):
            h.stage_results[stage.name] = result

    for stage, held in work:
        if getattr(_serving, "stage", None) == stage.name:
            run(stage, held)   # already on its thread: waiting on itself would never end
        else:
            model_thread(stage.name).submit(run, stage, held).result()
    return failures


def write_results(conn: Connection, stages: Sequence[Stage], photo_id: int, holder: _Results,
                  *, path: str, root_id: int | None, size: int | None = None,
                  mtime_ns: int | None = None) -> list[str]:
    """Store each stage's result for a photo and record each stage's error under its name
    (on the writer, inside its transaction); returns the names of the stages written. A
    stage whose ``write`` raises has its own writes rolled back and the error recorded under
    its name (and kept in ``holder.stage_errors``); a failure of the disk or the database
    itself goes up. The
    photo's full-text row, if a stage wrote words, is rebuilt once at the end of the
    transaction, after the photo's row and every stage's results."""
    written = []
    for stage in stages:
        if stage.name in holder.stage_results:
            # Each stage's write in a savepoint of its own: a stage whose write fails costs
            # its own result (recorded under its name), never the photo or the other stages.
            conn.execute("SAVEPOINT stage_write")
            try:
                stage.write(conn, photo_id, holder.stage_results[stage.name])
            except Exception as exc:
                if not conn.in_transaction or isinstance(exc, LibraryError) \
                        or is_environmental(exc):
                    raise  # a full disk, an I/O error: no stage's fault
                conn.execute("ROLLBACK TO stage_write")
                conn.execute("RELEASE stage_write")
                holder.stage_errors[stage.name] = \
                    f"could not be saved: {type(exc).__name__}: {exc}"
                continue
            conn.execute("RELEASE stage_write")
            written.append(stage.name)
            # Read with getattr: a plugin's stage need not derive from StageBase.
            if getattr(stage, "writes_text", False) is True:
                fts.mark(conn, [photo_id])
    for name, reason in holder.stage_errors.items():
        photos.record_error(conn, path=path, stage=name, reason=reason, root_id=root_id,
                            photo_id=photo_id, size=size, mtime_ns=mtime_ns)
    return written


@dataclass(slots=True)
class _Item:
    """One owed photo on its way through catch-up."""

    photo: BacklogPhoto
    stages: list[Stage]
    stage_results: dict[str, Any] = field(default_factory=dict)
    stage_errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None     # the file could not be read or decoded: every stage's
    changed: bool = False          # the file is not what was read: left for the next scan
    full: tuple[str, str] | None = None


def _newest_first(photo: BacklogPhoto) -> tuple[bool, float, int]:
    # As SQLite's ``ORDER BY taken_ts DESC, id DESC``: undated photos last.
    return photo.taken_ts is not None, photo.taken_ts or 0.0, photo.id


def catch_up(
    stages: Sequence[Stage],
    *,
    reader: Callable[[], Connection],
    writer: Writer,
    meter: ProgressMeter,
    cancel: CancelToken,
    workers: int | None = None,
    batch: int = CATCH_UP_BATCH,
) -> CatchUpReport:
    """Run ``stages`` over the photos each still owes work (its ``backlog``), newest first.

    Each owed file is read once, checked against the content hash it was indexed with (a
    file changed since is left for the next scan, which runs every stage on it anyway) and
    decoded once, to the largest size any stage that owes it needs; ``process`` runs on
    worker threads, ``process_batch`` on this thread a batch at a time while the workers
    decode the next, ``write`` in the single writer. A file that cannot be read or decoded,
    or that a stage fails on, is recorded under the stage's name (and not owed again until it
    changes). A stage that fails as a whole (its ``backlog``, ``process_batch`` on a batch,
    ``backlog_count`` or ``after_catch_up`` raises) stops there with the reason in its
    report's ``problem``, and the other stages go on; a failure of the disk, the database
    or memory stops the run. Every stage's ``after_catch_up`` runs at the end, owed photos
    or not.
    """
    report = CatchUpReport({s.name: StageReport(s.name) for s in stages})
    conn = reader()
    owing: dict[int, _Item] = {}
    for stage in stages:
        try:
            backlog = stage.backlog(conn)
        except Exception as exc:
            _stage_failed(report.stages[stage.name], "backlog", exc)
            continue
        for photo in backlog:
            item = owing.get(photo.id)
            if item is None:
                owing[photo.id] = item = _Item(photo, [])
            item.stages.append(stage)
    todo = list(owing.values())
    if len({s.name for item in todo for s in item.stages}) > 1:
        todo.sort(key=lambda item: _newest_first(item.photo), reverse=True)
    busy = [s for s in stages if any(s in item.stages for item in todo)]
    if todo:
        meter.start_phase("; ".join(s.label for s in busy), len(todo))
        _run(todo, report, writer=writer, meter=meter, cancel=cancel,
             workers=workers or budget().decode, batch=max(1, batch))
    for stage in stages:
        stage_report = report.stages[stage.name]
        stage_report.cancelled = report.cancelled
        # A stage that owed nothing at the start owes nothing now (spare a count per run).
        try:
            stage_report.remaining = stage.backlog_count(reader()) if stage in busy else 0
        except Exception as exc:
            _stage_failed(stage_report, "backlog_count", exc)
    for stage in stages:
        try:
            stage.after_catch_up(report.stages[stage.name], meter, cancel)
        except Exception as exc:
            _stage_failed(report.stages[stage.name], "after_catch_up", exc)
    return report


def _stage_failed(report: StageReport, part: str, exc: Exception) -> None:
    """Note that a stage failed as a whole in ``part``: the stage's own problem, unless the
    machine or the library failed (or the run was cancelled), which stops the run."""
    if isinstance(exc, Cancelled | LibraryError) or is_environmental(exc):
        raise exc
    if report.problem is None:      # the first failure is the one to fix
        report.problem = f"{part}: {type(exc).__name__}: {exc}"
        report.error = exc


def _read(item: _Item) -> _Item:
    """On a worker thread: read, check, decode once, and run the stages that owe the photo.
    Never raises: every failure is kept on the item."""
    photo = item.photo
    try:
        try:
            if os.path.getsize(photo.path) > MAX_FILE_BYTES:
                item.problem = "too large to read"
                return item
            with open(photo.path, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            item.problem = f"could not be read: {exc.strerror or exc}"
            return item
        if hash_content(data) != photo.content_hash:
            item.changed = True
            return item
        want = SizeRequest()
        able = []
        for stage in item.stages:
            try:
                want = want.union(stage.wants())
            except Exception as exc:  # that stage's bug, not the photo's or the others'
                item.stage_errors[stage.name] = f"{type(exc).__name__}: {exc}"
                continue
            able.append(stage)
        try:
            decoded = decode(data, photo.path, want=want)
        except DecodeError as exc:
            item.problem = str(exc)
            return item
        del data
        item.full = run_stages(able, photo.content_hash, decoded, item)
    except Exception as exc:  # one photo's failure is recorded, never the run's
        item.problem = f"{type(exc).__name__}: {exc}"
    return item


def _run(todo: list[_Item], report: CatchUpReport, *, writer: Writer, meter: ProgressMeter,
         cancel: CancelToken, workers: int, batch: int) -> None:
    stages: dict[str, Stage] = {}
    for item in todo:
        for stage in item.stages:
            stages.setdefault(stage.name, stage)
    full: str | None = None
    dropped: set[str] = set()      # stages that failed on a whole batch: out of this run
    # The previous batch's write: it runs on the writer while the model works on this batch
    # (one at a time, so the batches held in memory stay bounded).
    saving: Future[None] | None = None
    with ThreadPoolExecutor(workers, thread_name_prefix="glimpse-catch-up") as pool, \
            _awaiting(lambda: saving):
        pending: list[Future[_Item]] = []
        queue = iter(todo)
        exhausted = False
        while True:
            # Keep two batches of decodes in flight while the model works on one.
            while (not exhausted and not cancel.cancelled and full is None
                   and len(pending) < 2 * batch):
                nxt = next(queue, None)
                if nxt is None:
                    exhausted = True
                    break
                pending.append(pool.submit(_read, nxt))
            if not pending:
                break
            chunk, pending = pending[:batch], pending[batch:]
            items = [fut.result() for fut in chunk]
            if cancel.cancelled:
                for fut in pending:
                    fut.cancel()
                report.cancelled = True
                break
            for item in items:
                if item.full is not None and full is None:
                    full = item.full[1]
                if dropped:       # the worker is done with the item: no race on its lists
                    _drop(item, dropped)
            ready = [i for i in items if i.problem is None and not i.changed and i.full is None]
            failed = run_batch_stages([s for s in stages.values() if s.name not in dropped],
                                      ready, record=False)
            for name, exc in failed.items():
                _stage_failed(report.stages[name], "process_batch", exc)
                dropped.add(name)
            if failed:
                for item in items:
                    _drop(item, dropped)
            if saving is not None:
                saving.result()
            saving = writer.submit(functools.partial(_save, items=items, report=report))
            report.photos += len(items)
            meter.advance(len(items), errors=sum(
                1 for i in items if i.problem is not None or i.stage_errors))
            if full is not None:
                for fut in pending:
                    fut.cancel()
                break
        if saving is not None:
            saving.result()
    if full is not None:
        raise LibraryFullError(full)


@contextlib.contextmanager
def _awaiting(pending: Callable[[], Future[None] | None]) -> Iterator[None]:
    """On the way out of a run that failed, wait for its last write: the report it fills
    is read once the run is over, and a write must not outlive the run that made it."""
    try:
        yield
    except BaseException:
        fut = pending()
        if fut is not None:
            with contextlib.suppress(Exception):
                fut.result()
        raise


def _drop(item: _Item, dropped: set[str]) -> None:
    """Take stages that failed as a whole off an item: the photo still owes them."""
    item.stages = [s for s in item.stages if s.name not in dropped]
    for name in dropped:
        item.stage_results.pop(name, None)
        item.stage_errors.pop(name, None)


def _save(conn: Connection, items: list[_Item], report: CatchUpReport) -> None:
    """On the writer, in one transaction for the batch; each photo in its own savepoint, so a
    value the database refuses costs that photo (recorded), never the batch."""
    for item in items:
        photo = item.photo
        counts = [report.stages[s.name] for s in item.stages]
        if item.changed or item.full is not None:
            for c in counts:
                c.skipped += int(item.changed)
            continue
        # The photo may have been forgotten, or read again with other content, meanwhile.
        if conn.one("SELECT 1 FROM photos WHERE id = ? AND content_hash = ?",
                    (photo.id, photo.content_hash)) is None:
            for c in counts:
                c.skipped += 1
            continue
        if item.problem is not None:
            item.stage_errors = {s.name: item.problem for s in item.stages}
            item.stage_results = {}
        conn.execute("SAVEPOINT catch_up")
        try:
            written = write_results(conn, item.stages, photo.id, item, path=photo.path,
                                    root_id=photo.root_id)
        except Exception as exc:
            if not conn.in_transaction or isinstance(exc, LibraryError) \
                    or is_environmental(exc):
                raise  # a full disk, an I/O error: not this photo's fault
            conn.execute("ROLLBACK TO catch_up")
            conn.execute("RELEASE catch_up")
            # Each stage's write has a savepoint of its own (write_results): what fails here
            # is the photo's own record, which every stage owing it shares.
            reason = f"could not be saved: {type(exc).__name__}: {exc}"
            for stage in item.stages:
                photos.record_error(conn, path=photo.path, stage=stage.name, reason=reason,
                                    root_id=photo.root_id, photo_id=photo.id)
                report.stages[stage.name].errors += 1
            continue
        conn.execute("RELEASE catch_up")
        for name in written:
            report.stages[name].done += 1
            report.stages[name].photo_ids.append(photo.id)
        for name in item.stage_errors:
            report.stages[name].errors += 1
