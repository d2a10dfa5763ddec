"""Grid thumbnails and previews in a cache keyed by content hash.

Sizes, chosen by measurement (README "Thumbnails"): the grid thumbnail (256 px on the long
edge) is made at ingest from the same draft decode every stage shares, which for a 12 MP JPEG
is the 1/8 DCT scale; the 1280 px preview needs the 1/2 scale (about twice the decode cost), so
it is made on first view, not for every photo at ingest.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.decode import Decoded, SizeRequest
from glimpse_desktop.kernel.stages import StageBase

GRID = 256
PREVIEW = 1280
KINDS = {"grid": GRID, "preview": PREVIEW}
_QUALITY = {"grid": 82, "preview": 85}


class ThumbnailCache:
    """Files under ``root``/<kind>/<2 hex>/<hash>.jpg, written atomically."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, content_hash: str, kind: str = "grid") -> Path:
        if kind not in KINDS:
            raise ValueError(f"unknown thumbnail kind {kind!r}")
        return self.root / kind / content_hash[:2] / f"{content_hash}.jpg"

    def has(self, content_hash: str, kind: str = "grid") -> bool:
        return self.path_for(content_hash, kind).is_file()

    def write(self, content_hash: str, kind: str, image: Image.Image) -> Path:
        """Scale ``image`` to the kind's size and store it; a reader never sees half a file."""
        target = self.path_for(content_hash, kind)
        save_jpeg(scaled(image, KINDS[kind]), target, quality=_QUALITY[kind],
                  progressive=kind == "preview")
        return target


def save_jpeg(image: Image.Image, target: Path, *, quality: int,
              progressive: bool = False) -> None:
    """Write a JPEG so that a reader never sees half a file (temp file + rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jpg", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, "JPEG", quality=quality, optimize=False, progressive=progressive)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def scaled(image: Image.Image, long_edge: int) -> Image.Image:
    """A copy no larger than ``long_edge`` on its long side (never enlarged)."""
    if max(image.size) <= long_edge:
        return image
    copy = image.copy()
    # reducing_gap: a cheap box reduction first, then a good filter over the last factor of 2.
    copy.thumbnail((long_edge, long_edge), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return copy


class ThumbnailStage(StageBase):
    """Pipeline stage: the grid thumbnail at ingest (see the module docstring for why only it).
    Nothing to catch up: a missing thumbnail is made when it is first shown."""

    name = "thumbnail"

    def __init__(self, cache: ThumbnailCache) -> None:
        self.cache = cache

    def wants(self) -> SizeRequest:
        return SizeRequest(long_edge=GRID)

    def process(self, content_hash: str, decoded: Decoded) -> bool:
        if not self.cache.has(content_hash, "grid"):
            self.cache.write(content_hash, "grid", decoded.image)
        return True

    def write(self, conn: Connection, photo_id: int, result: object) -> None:
        conn.execute("UPDATE photos SET has_thumb = 1 WHERE id = ?", (photo_id,))
