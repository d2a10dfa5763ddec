"""Cold `glimpse search` benchmark: prints JSON lines, asserts nothing (not in the test suite).

Builds a library whose vector space holds --vectors embeddings (a few real photos embedded by
a random-weight ViT-B/32, installed like real weights, plus synthetic rows and vectors to reach
the size), lets the first search build the approximate index, then times `glimpse search` in
fresh processes: everything a person waits for, from starting Python to the printed result.

    python bench/cold_search.py [--vectors 100000] [--runs 5]

Target (issue 3): <= 2.5 s cold to first result on a 100k library; text search p50 <= 50 ms
with the model warm.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.embed import install_random_model
from bench.ingest import make_photos
from glimpse_desktop.api import Library
from glimpse_desktop.kernel import vectors


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "cold_search", **fields}), flush=True)


def add_synthetic(lib: Library, model_id: str, n: int, dim: int) -> None:
    rng = np.random.default_rng(1)
    table = vectors.table_for(lib.reader(), model_id)
    assert table is not None
    mean = rng.standard_normal(dim).astype(np.float32)
    for start in range(0, n, 10_000):
        count = min(10_000, n - start)
        vecs = rng.standard_normal((count, dim)).astype(np.float32) * 0.5 + mean
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)

        def apply(conn, start=start, count=count, vecs=vecs):  # type: ignore[no-untyped-def]
            for i in range(count):
                k = start + i
                conn.execute(
                    "INSERT INTO photos(path, folder, filename, size, mtime_ns, content_hash, "
                    "added_at, updated_at, taken_ts) VALUES (?, '/synthetic', ?, 1, 1, ?, "
                    "'2024-01-01', '2024-01-01', ?)",
                    (f"/synthetic/{k}.jpg", f"{k}.jpg", f"h{k}", 1.6e9 + k))
                pid = conn.raw.last_insert_rowid()
                vectors.store_embedding(conn, table, model_id, pid, vecs[i])
        lib.writer.call(apply)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        models = tmp / "models"
        models.mkdir()
        os.environ["GLIMPSE_MODEL_DIR"] = str(models)
        weights, model_id = install_random_model(models, "ViT-B-32", 224, 512).split("|")
        lib_path = tmp / "lib" / "library.sqlite3"
        lib = Library.open(lib_path)
        lib.add_model(model_id, weights)
        lib.use_model(model_id)
        photos = tmp / "photos"
        make_photos(photos, 8, (1200, 900))
        lib.add_root(photos)
        lib.index()
        add_synthetic(lib, model_id, args.vectors - 8, 512)
        started = time.perf_counter()
        lib.search("warm up the index", min_score=0)
        emit(kind="index_build", vectors=args.vectors,
             seconds=round(time.perf_counter() - started, 1))
        warm = []
        for i in range(30):
            t = time.perf_counter()
            lib.search(f"a red car in the snow {i}", min_score=0, limit=50)
            warm.append(time.perf_counter() - t)
        emit(kind="warm", p50_ms=round(statistics.median(warm) * 1000, 1),
             p95_ms=round(sorted(warm)[int(len(warm) * 0.95)] * 1000, 1))
        photo = int(lib.reader().one("SELECT id FROM photos LIMIT 1"))
        sim = []
        for _ in range(30):
            t = time.perf_counter()
            lib.similar(photo, min_score=0)
            sim.append(time.perf_counter() - t)
        emit(kind="similar", p50_ms=round(statistics.median(sim) * 1000, 1))
        lib.close()
        cold = []
        env = {**os.environ}
        for i in range(args.runs):
            t = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "glimpse_desktop", "--library", str(lib_path), "search",
                 f"kids building a sandcastle {i}", "--json", "--min-score", "0"],
                capture_output=True, text=True, env=env)
            cold.append(time.perf_counter() - t)
            assert done.returncode == 0, done.stderr
        emit(kind="cold_cli", runs=args.runs, median_s=round(statistics.median(cold), 2),
             max_s=round(max(cold), 2), target_s=2.5)


if __name__ == "__main__":
    main()
