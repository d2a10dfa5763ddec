"""Catch-up jobs: run a model stage over photos that were read before (a model installed later,
a model or face pack switched, faces turned on), outside the ingestion pipeline.

Each file is read again and checked against the content hash it was indexed with (a file
changed since is left for the next scan, which runs every stage on it anyway), decoded with the
same draft decode as ingestion, prepared on worker threads, run through the model a batch at a
time, and written by the single writer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from glimpse_desktop.kernel import photos
from glimpse_desktop.kernel.db import Connection, Writer
from glimpse_desktop.kernel.decode import Decoded, DecodeError, SizeRequest, decode
from glimpse_desktop.kernel.progress import CancelToken, ProgressMeter


@dataclass
class CatchUpCounts:
    done: int = 0
    errors: int = 0
    skipped: int = 0
    cancelled: bool = False


def catch_up(
    rows: Sequence[dict[str, Any]],
    *,
    stage: str,
    want: SizeRequest,
    prepare: Callable[[dict[str, Any], Decoded], Any],
    run_batch: Callable[[list[Any]], list[Any]],
    write: Callable[[Connection, int, Any], None],
    writer: Writer,
    meter: ProgressMeter,
    cancel: CancelToken,
    workers: int | None = None,
    batch: int = 32,
    on_batch: Callable[[list[Any]], None] | None = None,
) -> CatchUpCounts:
    """Process ``rows`` (``id``, ``path``, ``content_hash``, ``root_id``), newest first as
    given. ``prepare`` runs on worker threads with the decoded photo; ``run_batch`` runs the
    model over a batch of prepared items on this thread and returns one result per item;
    ``write`` stores a result inside the writer's transaction. A file that cannot be read or
    decoded is recorded under ``stage`` (and not retried until it changes); a model failure
    on a whole batch stops the job with its exception, recording nothing against the photos.
    """
    from glimpse_desktop.kernel.pipeline import MAX_FILE_BYTES, hash_content

    counts = CatchUpCounts()

    def read(row: dict[str, Any]) -> tuple[dict[str, Any], Any, str | None]:
        try:
            if os.path.getsize(row["path"]) > MAX_FILE_BYTES:
                return row, None, "too large to read"
            with open(row["path"], "rb") as fh:
                data = fh.read()
        except OSError as exc:
            return row, None, f"could not be read: {exc.strerror or exc}"
        if hash_content(data) != row["content_hash"]:
            return row, None, "changed"   # the next scan reads it again, every stage included
        try:
            return row, prepare(row, decode(data, row["path"], want=want)), None
        except DecodeError as exc:
            return row, None, str(exc)
        except Exception as exc:  # one photo's failure is recorded, never the run's
            return row, None, f"{type(exc).__name__}: {exc}"

    def save(done: list[tuple[int, Any]], failed: list[tuple[dict[str, Any], str]]) -> None:
        def apply(c: Connection) -> None:
            for photo_id, result in done:
                # The photo may have been changed or forgotten meanwhile.
                if c.one("SELECT 1 FROM photos WHERE id = ?", (photo_id,)):
                    write(c, photo_id, result)
            for row, reason in failed:
                photos.record_error(c, path=row["path"], stage=stage, reason=reason,
                                    root_id=row["root_id"], photo_id=row["id"])
        writer.call(apply)

    workers = workers or max(1, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers, thread_name_prefix=f"glimpse-{stage}") as pool:
        pending: list[Future[tuple[dict[str, Any], Any, str | None]]] = []
        todo = iter(rows)
        exhausted = False
        while True:
            # Keep two batches of decodes in flight while the model works on one.
            while not exhausted and not cancel.cancelled and len(pending) < 2 * batch:
                row = next(todo, None)
                if row is None:
                    exhausted = True
                    break
                pending.append(pool.submit(read, row))
            if not pending:
                break
            chunk, pending = pending[:batch], pending[batch:]
            ready: list[tuple[int, Any]] = []
            failed: list[tuple[dict[str, Any], str]] = []
            for fut in chunk:
                row, item, problem = fut.result()
                if problem is None:
                    ready.append((int(row["id"]), item))
                elif problem == "changed":
                    counts.skipped += 1
                else:
                    failed.append((row, problem))
            if cancel.cancelled:
                for fut in pending:
                    fut.cancel()
                counts.cancelled = True
                break
            results = run_batch([item for _, item in ready]) if ready else []
            done = [(pid, result) for (pid, _), result in zip(ready, results, strict=True)]
            save(done, failed)
            if on_batch is not None:
                on_batch([result for _, result in done])
            counts.done += len(done)
            counts.errors += len(failed)
            meter.advance(len(chunk), errors=len(failed))
    return counts
