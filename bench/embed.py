"""Embedding benchmark: prints JSON lines, asserts nothing (not part of the test suite).

In one run, on the same generated 12 MP photo-like JPEGs:
  encoder      the CLIP image tower alone on ready pixels, batches of 32 (the ceiling any
               ingestion that embeds could reach)
  ingest       `Library.index()` of a fresh library with the model installed: read, hash,
               metadata, grid thumbnail, CLIP pixels, batched embedding, database
  ratio        ingest / encoder (target >= 0.9: decoding hides behind the encoder)

Weights are random (speed does not depend on them): the model is built by open_clip from its
architecture name, saved, and installed through `glimpse models add` like real weights.

    python bench/embed.py [--photos 128] [--arch ViT-B-32] [--workers N] [--device cpu]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.ingest import make_photos
from glimpse_desktop.api import Library


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "embed", **fields}), flush=True)


def install_random_model(models: Path, arch: str, image_size: int, dim: int) -> str:
    import open_clip
    import torch

    model = open_clip.create_model(arch, pretrained=None)
    weights = models.parent / f"{arch}-random.pt"
    torch.save(model.state_dict(), weights)
    model_id = f"bench-{arch.lower()}"
    (models / "manifest.d").mkdir(parents=True, exist_ok=True)
    (models / "manifest.d" / "bench.json").write_text(json.dumps({"clip": [{
        "id": model_id, "arch": arch, "dim": dim, "image_size": image_size,
        "file": "weights.pt", "urls": [], "licence": "random weights (benchmark)",
        "size": weights.stat().st_size,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}]}))
    return str(weights) + "|" + model_id


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=128)
    ap.add_argument("--arch", default="ViT-B-32")
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--device", default=None, help="cpu, cuda or mps (default: best found)")
    ap.add_argument("--keep", metavar="DIR", help="reuse generated photos from DIR")
    args = ap.parse_args()
    if args.device:
        os.environ["GLIMPSE_DEVICE"] = args.device
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        photos_dir = Path(args.keep) if args.keep else tmp / "photos"
        make_photos(photos_dir, args.photos, (4000, 3000))
        models = tmp / "models"
        os.environ["GLIMPSE_MODEL_DIR"] = str(models)
        models.mkdir()
        weights, model_id = install_random_model(models, args.arch, args.image_size,
                                                 args.dim).split("|")
        lib = Library.open(tmp / "lib" / "library.sqlite3", workers=args.workers)
        lib.add_model(model_id, weights)
        lib.use_model(model_id)
        clip = lib.semantic.model(model_id).load()
        emit(kind="setup", photos=args.photos, arch=args.arch, device=clip.device,
             precision=clip.precision, why=clip.choice_reason, workers=lib.indexer.workers,
             cpu=platform.processor() or platform.machine(),
             cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count())

        # Encoder ceiling: ready pixels, batches of 32, as many images as the ingest run.
        rng = np.random.default_rng(0)
        pixels = rng.integers(0, 256, (32, args.image_size, args.image_size, 3), np.uint8)
        clip.encode_pixels(pixels[:4])
        done, started = 0, time.perf_counter()
        while done < args.photos:
            clip.encode_pixels(pixels)
            done += len(pixels)
        encoder = done / (time.perf_counter() - started)
        emit(kind="encoder", images_per_s=round(encoder, 2))

        lib.add_root(photos_dir)
        started = time.perf_counter()
        report = lib.index()
        seconds = time.perf_counter() - started
        embedded = lib.reader().one("SELECT count(*) FROM photo_embeddings")
        ingest = report.new / seconds
        emit(kind="ingest", photos=report.new, embedded=embedded, seconds=round(seconds, 2),
             photos_per_s=round(ingest, 2))
        emit(kind="ratio", ingest_over_encoder=round(ingest / encoder, 3), target=0.9)
        lib.close()


if __name__ == "__main__":
    main()
