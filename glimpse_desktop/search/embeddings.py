"""CLIP image embeddings: a pipeline stage for photos being read, and a catch-up job for photos
that were read before (a model installed later, a model switch, a failed batch).

The stage splits the work where it is cheapest: the ingestion workers turn their decoded
pixels into the model's input (resize + crop, a few ms, no second decode); the model runs
over a whole batch on one thread while the workers decode the next batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from glimpse_desktop.kernel import vectors
from glimpse_desktop.kernel.catchup import catch_up
from glimpse_desktop.kernel.db import Connection, Writer
from glimpse_desktop.kernel.decode import Decoded, SizeRequest
from glimpse_desktop.kernel.progress import CancelToken, ProgressMeter
from glimpse_desktop.search.clip import ClipModel

STAGE = "clip"
BATCH = 32


class ClipStage:
    """Pipeline stage: pixels on the workers, ``process_batch`` on the pipeline's model
    thread, vectors written in the batch's transaction."""

    name = STAGE

    def __init__(self, model: ClipModel, table: str) -> None:
        self.model = model
        self.table = table

    def wants(self) -> SizeRequest:
        return SizeRequest(short_edge=self.model.image_size)

    def process(self, content_hash: str, decoded: Decoded) -> np.ndarray:
        return self.model.pixels(decoded.image)

    def process_batch(self, items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(items), BATCH):
            out.extend(self.model.encode_pixels(np.stack(items[start:start + BATCH])))
        return out

    def write(self, conn: Connection, photo_id: int, result: Any) -> None:
        if isinstance(result, np.ndarray) and result.dtype == np.float32:
            vectors.store_embedding(conn, self.table, self.model.model_id, photo_id, result)


@dataclass
class EmbedReport:
    embedded: int = 0
    errors: int = 0
    skipped: int = 0
    remaining: int = 0
    cancelled: bool = False


# Photos on disk without an embedding of their current content in a model's space (params:
# model id, stage); a file that failed is not retried until it changes.
_TODO = (
    "FROM photos p LEFT JOIN photo_embeddings e ON e.photo_id = p.id AND e.model_id = ? "
    "WHERE p.status = 'ok' AND (e.content_hash IS NULL OR e.content_hash != p.content_hash) "
    "AND NOT EXISTS (SELECT 1 FROM errors x WHERE x.photo_id = p.id AND x.stage = ?)")


def backlog(conn: Connection, model_id: str) -> int:
    """Photos on disk that have no embedding of their current content in this model's space."""
    return int(conn.one(f"SELECT count(*) {_TODO}", (model_id, STAGE)))


def embed_missing(
    *,
    reader: Callable[[], Connection],
    writer: Writer,
    model: ClipModel,
    table: str,
    meter: ProgressMeter,
    cancel: CancelToken,
    workers: int | None = None,
) -> EmbedReport:
    """Embed every photo that lacks an embedding of its current content.

    Reads each file again (the photos were decoded before the model was there), with the
    same draft decode as ingestion. A file that changed since it was read is left for the
    next scan; one that cannot be read is recorded under the ``clip`` stage.
    """
    report = EmbedReport()
    conn = reader()
    rows = conn.rows(
        f"SELECT p.id, p.path, p.content_hash, p.root_id {_TODO} "
        "ORDER BY p.taken_ts DESC, p.id DESC", (model.model_id, STAGE))
    meter.start_phase(f"embedding photos ({model.model_id})", len(rows))
    if not rows:
        return report

    def encode(items: list[np.ndarray]) -> list[np.ndarray]:
        return list(model.encode_pixels(np.stack(items)))

    counts = catch_up(
        rows, stage=STAGE, want=SizeRequest(short_edge=model.image_size),
        prepare=lambda row, decoded: model.pixels(decoded.image), run_batch=encode,
        write=lambda c, photo_id, vec: vectors.store_embedding(
            c, table, model.model_id, photo_id, vec),
        writer=writer, meter=meter, cancel=cancel, workers=workers, batch=BATCH)
    report.embedded, report.errors = counts.done, counts.errors
    report.skipped, report.cancelled = counts.skipped, counts.cancelled
    report.remaining = backlog(reader(), model.model_id)
    return report


def run_batch_stages(stages: Sequence[Any], outcomes: Sequence[Any]) -> None:
    """Give each batch stage the per-photo results of one pipeline batch at once (on the
    pipeline's model thread); a failure costs that stage's result for the batch, recorded
    per photo, never the photos themselves. Several batch stages (CLIP and faces) run side
    by side: each is one model that keeps only part of the machine busy."""
    work = []
    for stage in stages:
        batch = getattr(stage, "process_batch", None)
        if batch is None:
            continue
        holders = [o for o in outcomes if stage.name in o.stage_results]
        if holders:
            work.append((stage, batch, holders))

    def run(item: tuple[Any, Any, list[Any]]) -> None:
        stage, batch, holders = item
        try:
            results = batch([o.stage_results[stage.name] for o in holders])
        except Exception as exc:
            for o in holders:
                del o.stage_results[stage.name]
                o.stage_errors[stage.name] = f"{type(exc).__name__}: {exc}"
            return
        for o, result in zip(holders, results, strict=True):
            o.stage_results[stage.name] = result

    if len(work) <= 1:
        for item in work:
            run(item)
        return
    with ThreadPoolExecutor(len(work), thread_name_prefix="glimpse-model") as pool:
        list(pool.map(run, work))
