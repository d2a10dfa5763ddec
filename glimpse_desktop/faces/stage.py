"""Faces as a stage (``kernel.stages``): for photos being read, and, through the same stage
object, catch-up over photos read before (an existing library, a switch of face pack, a photo
whose face step failed).

The ingestion workers detect, align and judge faces on the pixels already decoded for the other
stages (YuNet runs single-threaded per worker: the workers are the parallelism); the recogniser
embeds every face of a batch at once on the pipeline's model thread; the writer stores faces,
vectors and the aligned crop's file name in the batch's transaction.

A photo without a face costs one coarse detection pass at 640 px and nothing more
(``FaceStage.tally`` counts those, and the small faces looked at again at full resolution).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from glimpse_desktop.faces import store
from glimpse_desktop.faces.models import DetectTally, FaceModels, FoundFace
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.decode import Decoded, SizeRequest
from glimpse_desktop.kernel.stages import BacklogPhoto, StageBase, StageReport, owed, owed_count
from glimpse_desktop.kernel.thumbnails import save_jpeg

STAGE = "faces"
# The coarse detection pass runs at 640 px; small faces are detected again, and every crop
# aligned, from this many pixels on the long side, so a face a tenth of the frame wide still
# gives the recogniser a sharp 112 px crop. (JPEG draft decoding rounds up to 1/2, 1/4 or 1/8
# of the file's size: 2000x1500 for a 12 MP photo. Measured on such photos, this decode costs
# ~10 ms a photo more than the 1/8 one the thumbnail and CLIP need, a tenth of what faces
# cost before the coarse pass.)
DECODE_LONG_EDGE = 1280

# A photo is done when this pack has looked at its current content (param: the pack id).
_DONE = ("EXISTS (SELECT 1 FROM photo_faces d WHERE d.photo_id = p.id "
         "AND d.model_id = ? AND d.content_hash = p.content_hash)")


def backlog_count(conn: Connection, model_id: str) -> int:
    """Photos on disk the pack has not looked at in their current content (a file whose face
    step failed is not retried until it changes)."""
    return owed_count(conn, STAGE, _DONE, (model_id,))


class FaceCrops:
    """Aligned 112x112 face crops under ``root``/<2 hex>/<hash>-<box>.jpg, keyed by the photo's
    content and the face's box (so an unchanged photo's crops are reused by a re-detection)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, content_hash: str, box: tuple[float, float, float, float]) -> Path:
        x, y, w, h = (round(v * 10_000) for v in box)
        return self.root / content_hash[:2] / f"{content_hash}-{x}-{y}-{w}-{h}.jpg"

    def write(self, content_hash: str, box: tuple[float, float, float, float],
              crop: np.ndarray) -> Path:
        target = self.path_for(content_hash, box)
        if not target.is_file():
            save_jpeg(Image.fromarray(crop), target, quality=90)
        return target

    def forget(self, content_hash: str) -> None:
        """Delete the crops of content no photo has any more (they are pictures of faces:
        nothing of them stays behind once their photo is gone)."""
        folder = self.root / content_hash[:2]
        try:
            for crop in folder.glob(f"{content_hash}-*.jpg"):
                crop.unlink(missing_ok=True)
        except OSError:
            pass


@dataclass
class PhotoFaces:
    """What the workers found in one photo; ``vectors`` is filled on the model thread."""

    found: list[FoundFace]
    vectors: np.ndarray | None = None


class FaceStage(StageBase):
    """Detection on the workers, embeddings per batch on the model thread, rows in the
    writer."""

    name = STAGE
    batched = True

    def __init__(self, models: FaceModels, crops: FaceCrops,
                 table: Callable[[Connection], str]) -> None:
        self.models = models
        self.crops = crops
        self._table = table
        self.tally = DetectTally()   # which way detection went for the photos processed

    @property
    def label(self) -> str:
        return f"finding faces ({self.models.model_id})"

    def wants(self) -> SizeRequest:
        return SizeRequest(long_edge=DECODE_LONG_EDGE)

    def process(self, content_hash: str, decoded: Decoded) -> PhotoFaces:
        meta = decoded.meta
        original = (meta.width, meta.height) if meta.width and meta.height else None
        found = self.models.find(decoded.image, original_size=original, tally=self.tally)
        for face in found:
            self.crops.write(content_hash, face.box, face.crop)
        return PhotoFaces(found)

    def process_batch(self, items: list[Any]) -> list[Any]:
        crops = [face.crop for item in items for face in item.found]
        vecs = self.models.embed(np.stack(crops)) if crops else np.zeros((0, self.models.dim))
        at = 0
        for item in items:
            item.vectors = vecs[at:at + len(item.found)]
            at += len(item.found)
        return items

    def write(self, conn: Connection, photo_id: int, result: Any) -> None:
        if not isinstance(result, PhotoFaces) or result.vectors is None:
            return
        table = self._table(conn)
        store.store(conn, photo_id=photo_id, model_id=self.models.model_id, table=table,
                    faces=[store.NewFace(f.box, f.landmarks, f.score, f.size_px, f.sharpness,
                                         f.yaw, f.seeds, result.vectors[i])
                           for i, f in enumerate(result.found)])

    def backlog(self, conn: Connection) -> list[BacklogPhoto]:
        return owed(conn, STAGE, _DONE, (self.models.model_id,))

    def backlog_count(self, conn: Connection) -> int:
        return backlog_count(conn, self.models.model_id)


@dataclass
class FaceReport:
    """What looking for faces in photos read before did."""

    photos: int = 0
    faces: int = 0
    errors: int = 0
    skipped: int = 0
    remaining: int = 0
    cancelled: bool = False

    @classmethod
    def of(cls, stage: StageReport, faces: int) -> FaceReport:
        """The face stage's part of a catch-up run (``faces``: how many it found)."""
        return cls(photos=stage.done, faces=faces, errors=stage.errors, skipped=stage.skipped,
                   remaining=stage.remaining, cancelled=stage.cancelled)
