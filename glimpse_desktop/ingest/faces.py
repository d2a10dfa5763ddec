"""Faces as an ingestion stage, and a catch-up job for photos read before (an existing library,
a switch of face pack, a photo whose face step failed).

The ingestion workers detect, align and judge faces on the pixels already decoded for the other
stages (YuNet runs single-threaded per worker: the workers are the parallelism); the recogniser
embeds every face of a batch at once on the pipeline's model thread; the writer stores faces,
vectors and the aligned crop's file name in the batch's transaction.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from glimpse_desktop.ingest.decode import Decoded, DecodeError, SizeRequest, decode
from glimpse_desktop.library import faces as store
from glimpse_desktop.library import photos
from glimpse_desktop.library.db import Connection, Writer
from glimpse_desktop.ml.faces import FaceModels, FoundFace
from glimpse_desktop.progress import CancelToken, ProgressMeter

STAGE = "faces"
# Detection runs at 640 px; the crops are aligned from this many pixels on the long side, so a
# face a tenth of the frame wide still gives the recogniser a sharp 112 px crop. (JPEG draft
# decoding rounds up to 1/2, 1/4 or 1/8 of the file's size.)
DECODE_LONG_EDGE = 1280
BATCH = 64


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
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jpg", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                Image.fromarray(crop).save(fh, "JPEG", quality=90)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return target


@dataclass
class PhotoFaces:
    """What the workers found in one photo; ``vectors`` is filled on the model thread."""

    found: list[FoundFace]
    vectors: np.ndarray | None = None


class FaceStage:
    """Pipeline stage: detection on the workers, embeddings per batch, rows in the writer."""

    name = STAGE

    def __init__(self, models: FaceModels, crops: FaceCrops,
                 table: Callable[[Connection], str]) -> None:
        self.models = models
        self.crops = crops
        self._table = table

    def wants(self) -> SizeRequest:
        return SizeRequest(long_edge=DECODE_LONG_EDGE)

    def process(self, content_hash: str, decoded: Decoded) -> PhotoFaces:
        meta = decoded.meta
        original = (meta.width, meta.height) if meta.width and meta.height else None
        found = self.models.find(decoded.image, original_size=original)
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


@dataclass
class FaceReport:
    photos: int = 0
    faces: int = 0
    errors: int = 0
    skipped: int = 0
    remaining: int = 0
    cancelled: bool = False


# Photos on disk that this pack has not looked at in their current content (params: pack id,
# stage); a file whose face step failed is not retried until it changes.
_TODO = (
    "FROM photos p LEFT JOIN photo_faces d ON d.photo_id = p.id AND d.model_id = ? "
    "WHERE p.status = 'ok' AND (d.content_hash IS NULL OR d.content_hash != p.content_hash) "
    "AND NOT EXISTS (SELECT 1 FROM errors x WHERE x.photo_id = p.id AND x.stage = ?)")


def backlog(conn: Connection, model_id: str) -> int:
    """Photos the pack has not looked at yet."""
    return int(conn.one(f"SELECT count(*) {_TODO}", (model_id, STAGE)))


def find_missing(*, reader: Callable[[], Connection], writer: Writer, stage: FaceStage,
                 meter: ProgressMeter, cancel: CancelToken, workers: int | None = None
                 ) -> FaceReport:
    """Look for faces in every photo the pack has not seen (reading each file again, with the
    same draft decode as ingestion). Newest photos first: they are the ones people look at."""
    from glimpse_desktop.ingest.pipeline import MAX_FILE_BYTES, hash_content

    report = FaceReport()
    model_id = stage.models.model_id
    rows = reader().rows(
        f"SELECT p.id, p.path, p.content_hash, p.root_id {_TODO} "
        "ORDER BY p.taken_ts DESC, p.id DESC", (model_id, STAGE))
    meter.start_phase(f"finding faces ({model_id})", len(rows))
    if not rows:
        return report
    want = stage.wants()

    def prepare(row: dict[str, Any]) -> tuple[dict[str, Any], PhotoFaces | None, str | None]:
        try:
            if os.path.getsize(row["path"]) > MAX_FILE_BYTES:
                return row, None, "too large to read"
            with open(row["path"], "rb") as fh:
                data = fh.read()
        except OSError as exc:
            return row, None, f"could not be read: {exc.strerror or exc}"
        if hash_content(data) != row["content_hash"]:
            return row, None, "changed"   # the next scan reads it again, faces included
        try:
            decoded = decode(data, row["path"], want=want)
            return row, stage.process(row["content_hash"], decoded), None
        except DecodeError as exc:
            return row, None, str(exc)
        except Exception as exc:  # one photo's failure is recorded, never the run's
            return row, None, f"{type(exc).__name__}: {exc}"

    def save(done: list[tuple[int, PhotoFaces]], failed: list[tuple[dict[str, Any], str]]
             ) -> None:
        def apply(c: Connection) -> None:
            for photo_id, result in done:
                if c.one("SELECT 1 FROM photos WHERE id = ?", (photo_id,)):
                    stage.write(c, photo_id, result)
            for row, reason in failed:
                photos.record_error(c, path=row["path"], stage=STAGE, reason=reason,
                                    root_id=row["root_id"], photo_id=row["id"])
        writer.call(apply)

    workers = workers or max(1, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers, thread_name_prefix="glimpse-faces") as pool:
        pending: list[Future[tuple[dict[str, Any], PhotoFaces | None, str | None]]] = []
        todo = iter(rows)
        exhausted = False
        while True:
            while not exhausted and not cancel.cancelled and len(pending) < 2 * BATCH:
                row = next(todo, None)
                if row is None:
                    exhausted = True
                    break
                pending.append(pool.submit(prepare, row))
            if not pending:
                break
            chunk, pending = pending[:BATCH], pending[BATCH:]
            ready: list[tuple[int, PhotoFaces]] = []
            failed: list[tuple[dict[str, Any], str]] = []
            for fut in chunk:
                row, result, problem = fut.result()
                if result is not None:
                    ready.append((int(row["id"]), result))
                elif problem == "changed":
                    report.skipped += 1
                else:
                    failed.append((row, problem or "unknown error"))
            if cancel.cancelled:
                for fut in pending:
                    fut.cancel()
                report.cancelled = True
                break
            if ready:
                try:
                    stage.process_batch([r for _, r in ready])
                except Exception as exc:
                    failed += [({"id": pid, "path": photos_path(reader(), pid),
                                 "root_id": None}, f"{type(exc).__name__}: {exc}")
                               for pid, _ in ready]
                    ready = []
            save(ready, failed)
            report.photos += len(ready)
            report.faces += sum(len(r.found) for _, r in ready)
            report.errors += len(failed)
            meter.advance(len(chunk), errors=len(failed))
    report.remaining = backlog(reader(), model_id)
    return report


def photos_path(conn: Connection, photo_id: int) -> str:
    return str(conn.one("SELECT path FROM photos WHERE id = ?", (photo_id,)) or "")
