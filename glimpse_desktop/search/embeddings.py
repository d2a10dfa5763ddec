"""CLIP image embeddings as a stage (``kernel.stages``): for photos being read, and, through
the same stage object, catch-up over photos that were read before (a model installed later, a
model switch, a failed batch).

The stage splits the work where it is cheapest: the workers turn their decoded pixels into the
model's input (resize + crop, a few ms, no second decode); the model runs over a whole batch
on the model thread while the workers decode the next batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from glimpse_desktop.kernel import vectors
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.decode import Decoded, SizeRequest
from glimpse_desktop.kernel.progress import CancelToken, ProgressMeter
from glimpse_desktop.kernel.stages import BacklogPhoto, StageBase, StageReport, owed, owed_count
from glimpse_desktop.search.clip import ClipModel

STAGE = "clip"
BATCH = 32

# A photo is done when it has an embedding of its current content in the model's space
# (param: the model id).
_DONE = ("EXISTS (SELECT 1 FROM photo_embeddings e WHERE e.photo_id = p.id "
         "AND e.model_id = ? AND e.content_hash = p.content_hash)")


def backlog_count(conn: Connection, model_id: str) -> int:
    """Photos on disk that have no embedding of their current content in this model's space
    (a file that failed is not retried until it changes)."""
    return owed_count(conn, STAGE, _DONE, (model_id,))


class ClipStage(StageBase):
    """Pixels on the workers, ``process_batch`` on the model thread, vectors written in the
    batch's transaction. ``after`` runs once a catch-up run is over (search moves to the
    model once every photo has it)."""

    name = STAGE
    batched = True

    def __init__(self, model: ClipModel, table: str,
                 after: Callable[[StageReport, ProgressMeter, CancelToken], None] | None = None
                 ) -> None:
        self.model = model
        self.table = table
        self._after = after

    @property
    def label(self) -> str:
        return f"embedding photos ({self.model.model_id})"

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

    def backlog(self, conn: Connection) -> list[BacklogPhoto]:
        return owed(conn, STAGE, _DONE, (self.model.model_id,))

    def backlog_count(self, conn: Connection) -> int:
        return backlog_count(conn, self.model.model_id)

    def after_catch_up(self, report: StageReport, meter: ProgressMeter,
                       cancel: CancelToken) -> None:
        if self._after is not None:
            self._after(report, meter, cancel)


@dataclass
class EmbedReport:
    """What embedding photos read before did (``remaining`` -1: the model is not installed)."""

    embedded: int = 0
    errors: int = 0
    skipped: int = 0
    remaining: int = 0
    cancelled: bool = False

    @classmethod
    def of(cls, stage: StageReport) -> EmbedReport:
        """The CLIP stage's part of a catch-up run."""
        return cls(embedded=stage.done, errors=stage.errors, skipped=stage.skipped,
                   remaining=stage.remaining, cancelled=stage.cancelled)
