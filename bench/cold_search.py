"""Cold one-shot search benchmark: prints JSON lines, asserts nothing (not in the test suite).

A one-shot search is a new process: everything a person waits for, from starting Python to the
printed results (the OS page cache is warm: one untimed run of each first).

  paired   --photos small JPEGs in one folder, the same random CLIP-like unit vector for each
           file in both tools: a Glimpse library (files indexed, random ViT-B/32 weights
           installed as a person's are, each photo's vector stored through the kernel's vector
           store) and, with --rclip, rclip 3.3's index of the same folder (rows written as its
           indexing writes them, bench/rclip.py). Then --runs rounds, the order alternating:
           `glimpse search` and rclip's one-shot search, both the default (which first checks
           the folder for changes) and ``--no-indexing``. Ratio: rclip's median seconds /
           Glimpse's (target > 1: Glimpse faster).
  large    the same library grown to --vectors photos with synthetic rows and vectors (no
           files: search reads only the library), the approximate index built by a first
           search, then the model-warm text search and similar-photo latencies and --runs cold
           `glimpse search` (target <= 1.0 s median).

    python bench/cold_search.py [--photos 5000] [--vectors 100000] [--runs 10]
                                [--rclip /work/rclip-venv/bin/rclip] [--cpus N]
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench import rclip
from bench.embed import install_random_model
from bench.ingest import glimpse_command, make_photos, pin_cpus
from glimpse_desktop.api import Library
from glimpse_desktop.kernel import vectors
from glimpse_desktop.kernel.paths import ENV_MODELS

DIM = 512
QUERIES = ("kids building a sandcastle", "a red car in the snow", "a dog on a sofa",
           "sunset over the sea", "a birthday cake with candles")


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "cold_search", **fields}), flush=True)


def clip_like(n: int, seed: int) -> np.ndarray:
    """``n`` unit vectors clustered round a common direction, as CLIP's image embeddings are
    (random directions alone would make every search a tie)."""
    rng = np.random.default_rng(seed)
    mean = np.random.default_rng(0).standard_normal(DIM).astype(np.float32)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32) * 0.5 + mean
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def store_vectors(lib: Library, model_id: str, ids: list[int], vecs: np.ndarray) -> None:
    """Each photo's vector, stored as the CLIP stage stores one (with the hash it was
    computed from), in batches."""
    table = lib.semantic.table(model_id)
    for start in range(0, len(ids), 5_000):
        chunk = list(zip(ids[start:start + 5_000], vecs[start:start + 5_000], strict=True))

        def apply(conn: Any, chunk: list[tuple[int, np.ndarray]] = chunk) -> None:
            for photo_id, vec in chunk:
                vectors.store_embedding(conn, table, model_id, photo_id, vec)
        lib.writer.call(apply)


def add_synthetic(lib: Library, model_id: str, n: int, start: int) -> None:
    """``n`` photo rows with no file behind them (search reads only the library), each with a
    CLIP-like vector."""
    table = lib.semantic.table(model_id)
    for first in range(0, n, 10_000):
        count = min(10_000, n - first)
        vecs = clip_like(count, seed=start + first + 1)

        def apply(conn: Any, first: int = first, count: int = count,
                  vecs: np.ndarray = vecs) -> None:
            for i in range(count):
                k = start + first + i
                conn.execute(
                    "INSERT INTO photos(path, folder, filename, size, mtime_ns, content_hash, "
                    "added_at, updated_at, taken_ts) VALUES (?, '/synthetic', ?, 1, 1, ?, "
                    "'2024-01-01', '2024-01-01', ?)",
                    (f"/synthetic/{k}.jpg", f"{k}.jpg", f"h{k}", 1.6e9 + k))
                vectors.store_embedding(conn, table, model_id, conn.raw.last_insert_rowid(),
                                        vecs[i])
        lib.writer.call(apply)


def glimpse_search(lib_path: Path, query: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([*glimpse_command(), "--library", str(lib_path), "search", query,
                           "--json", "--min-score", "0", "--limit", "50"],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"glimpse search failed ({done.returncode}): {done.stderr[-2000:]}")
    hits = json.loads(done.stdout)
    if not hits:
        raise RuntimeError("glimpse search found nothing: the library has no vectors")
    return seconds


def summary(values: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(values), 3), "min_s": round(min(values), 3),
            "max_s": round(max(values), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--photos", type=int, default=5_000, help="files both tools search")
    ap.add_argument("--vectors", type=int, default=100_000, help="photos of the large library")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rclip", type=Path, default=None, help="rclip's executable (its venv)")
    ap.add_argument("--cpus", type=int, default=None, help="pin everything to N CPUs")
    ap.add_argument("--data", type=Path, default=Path(__file__).parent / "out",
                    help="where generated files (and rclip's model) are kept between runs")
    args = ap.parse_args()
    if args.rclip is not None and not os.access(args.rclip, os.X_OK):
        ap.error(f"--rclip {args.rclip} is not an executable")
    pin_cpus(args.cpus)
    folder = (args.data / f"small-{args.photos}").resolve()
    files = make_photos(folder, args.photos, (64, 48))
    vecs = clip_like(len(files), seed=1)
    with tempfile.TemporaryDirectory(prefix="glimpse-bench-cold-") as tmp_name:
        tmp = Path(tmp_name)
        models = tmp / "models"
        models.mkdir()
        os.environ[ENV_MODELS] = str(models)
        weights, model_id = install_random_model(models, "ViT-B-32", 224, DIM).split("|")
        lib_path = tmp / "lib" / "library.sqlite3"
        lib = Library.open(lib_path)
        lib.set_faces(False)
        lib.add_root(folder)
        report = lib.index()        # no model installed yet: files read, nothing embedded
        lib.add_model(model_id, weights)
        lib.use_model(model_id)
        by_path = {str(p): i for i, p in enumerate(files)}
        rows = lib.reader().rows("SELECT id, path FROM photos")
        store_vectors(lib, model_id, [int(r["id"]) for r in rows],
                      vecs[[by_path[str(Path(r["path"]))] for r in rows]])
        lib.semantic.promote_if_complete()
        lib.search("warm up the index", min_score=0)
        lib.close()
        emit(kind="setup", photos=report.new, vectors=len(rows), rclip=str(args.rclip or ""),
             cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count())

        # ---- paired, interleaved: Glimpse and rclip on the same files and vectors
        datadir = None
        if args.rclip:
            model = rclip.export_model(args.data / "rclip-model")
            datadir = rclip.fresh_datadir(model, tmp / "rclip")
            rclip.fill_db(args.rclip, datadir, files, vecs)
        mine: list[float] = []
        theirs: dict[str, list[float]] = {"default": [], "no_indexing": []}

        def rclip_once(query: str, mode: str) -> float:
            assert args.rclip is not None and datadir is not None
            done = rclip.run(args.rclip, folder, datadir, query,
                             no_indexing=mode == "no_indexing")
            if done.indexed != len(files) or not done.results:
                raise RuntimeError(f"rclip's index holds {done.indexed} photos, not "
                                   f"{len(files)}, or it found nothing")
            return done.seconds

        glimpse_search(lib_path, "warm the page cache")
        if datadir is not None:
            for mode in theirs:
                rclip_once("warm the page cache", mode)
        for i in range(args.runs):
            query = f"{QUERIES[i % len(QUERIES)]} {i}"
            order = ["glimpse", "default", "no_indexing"] if datadir is not None else ["glimpse"]
            for who in order if i % 2 == 0 else order[::-1]:
                if who == "glimpse":
                    mine.append(glimpse_search(lib_path, query))
                    emit(kind="paired_run", run=i, tool="glimpse", seconds=round(mine[-1], 3))
                else:
                    theirs[who].append(rclip_once(query, who))
                    emit(kind="paired_run", run=i, tool=f"rclip_{who}",
                         seconds=round(theirs[who][-1], 3))
        paired: dict[str, Any] = {"glimpse": summary(mine)}
        if datadir is not None:
            # rclip's default run checks the folder first; had it embedded the files again
            # (a changed mtime or size), the timing would not be a search.
            paired["rclip_kept_index"] = bool(np.allclose(
                rclip.stored_vectors(datadir, files), vecs))
        for mode, values in theirs.items():
            if values:
                paired[f"rclip_{mode}"] = summary(values)
                paired[f"rclip_{mode}_over_glimpse"] = round(
                    statistics.median(values) / statistics.median(mine), 3)
        emit(kind="paired", photos=len(files), runs=args.runs, target_over_glimpse=1.0,
             **paired)

        # ---- large: the same library grown with synthetic photos
        if args.vectors > len(files):
            lib = Library.open(lib_path)
            add_synthetic(lib, model_id, args.vectors - len(files), len(files))
            started = time.perf_counter()
            lib.search("warm up the index", min_score=0)
            emit(kind="index_build", vectors=args.vectors,
                 seconds=round(time.perf_counter() - started, 1))
            warm = []
            for i in range(30):
                t = time.perf_counter()
                lib.search(f"a red car in the snow {i}", min_score=0, limit=50)
                warm.append(time.perf_counter() - t)
            emit(kind="warm", vectors=args.vectors,
                 p50_ms=round(statistics.median(warm) * 1000, 1),
                 p95_ms=round(sorted(warm)[int(len(warm) * 0.95)] * 1000, 1))
            photo = int(lib.reader().one("SELECT id FROM photos LIMIT 1"))
            sim = []
            for _ in range(30):
                t = time.perf_counter()
                lib.similar(photo, min_score=0)
                sim.append(time.perf_counter() - t)
            emit(kind="similar", vectors=args.vectors,
                 p50_ms=round(statistics.median(sim) * 1000, 1))
            lib.close()
            glimpse_search(lib_path, "warm the page cache")
            cold = [glimpse_search(lib_path, f"{QUERIES[i % len(QUERIES)]} {i}")
                    for i in range(args.runs)]
            emit(kind="cold_cli", vectors=args.vectors, runs=args.runs, target_s=1.0,
                 **summary(cold))


if __name__ == "__main__":
    main()
