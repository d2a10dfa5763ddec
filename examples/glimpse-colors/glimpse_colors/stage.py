"""The batch stage: each photo's dominant colours, from the pixels Glimpse decoded once for
every stage.

``process`` runs on Glimpse's worker threads for one photo (shrinks the decoded image to a
small array); ``process_batch`` runs on the model thread over a whole batch (one numpy
classification for all of it); ``write`` runs in the writer's transaction. ``backlog`` is what
makes catch-up work: photos read before the plugin was installed (or changed since) owe the
stage, and ``glimpse index`` runs the same stage over them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.decode import Decoded, SizeRequest
from glimpse_desktop.kernel.stages import BacklogPhoto, StageBase, owed, owed_count
from PIL import Image

from glimpse_colors import store
from glimpse_colors.palette import SIDE, dominant_batch


class ColorStage(StageBase):
    name = "colors"
    batched = True
    # The colour names are words in the full-text index (plugin.glimpse_photo_text, asked each
    # time a photo's row is rebuilt): Glimpse rebuilds the row once these are written.
    writes_text = True

    @property
    def label(self) -> str:
        return "finding dominant colours"

    def wants(self) -> SizeRequest:
        # Colour shares need few pixels: the smallest decode any other stage asks for will do.
        return SizeRequest(long_edge=SIDE, short_edge=SIDE)

    def process(self, content_hash: str, decoded: Decoded) -> Any:
        # Squeezing to a square keeps each colour's share of the area.
        small = decoded.image.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BILINEAR)
        return content_hash, np.asarray(small, dtype=np.uint8)

    def process_batch(self, items: list[Any]) -> list[Any]:
        found = dominant_batch([pixels for _hash, pixels in items])
        return [(content_hash, colors)
                for (content_hash, _pixels), colors in zip(items, found, strict=True)]

    def write(self, conn: Connection, photo_id: int, result: Any) -> None:
        content_hash, colors = result
        store.save(conn, photo_id, content_hash, colors)

    def backlog(self, conn: Connection) -> list[BacklogPhoto]:
        return owed(conn, self.name, store.DONE)

    def backlog_count(self, conn: Connection) -> int:
        return owed_count(conn, self.name, store.DONE)
