"""Vector search benchmark: prints JSON lines, asserts nothing (not part of the test suite).

For each distribution and size, on synthetic unit vectors:
  build      VectorIndex.upsert of everything in batches, then save (rate, file size)
  exact      numpy float32 matmul + top-k over all vectors (the brute force the index replaces)
  open       VectorIndex.open in a fresh process (memory-mapped), resident memory after it,
             after the queries, and after the first upsert (the copy into memory)
  text       queries that are new vectors from the same distribution: latency p50/p95,
             recall@10 and @50 against exact float32 search
  similar    query = a stored vector (index.vectors), excluding itself
  filtered   text queries restricted to random allowed sets of 0.1%, 1%, 10%, 50% of the ids

Distributions: "uniform" (uniform on the sphere: no structure, the worst case for any
approximate index) and "clustered" (like CLIP image embeddings: a shared mean direction,
a few thousand clusters of Zipf-like popularity, low-rank variation within a cluster, a little
isotropic noise; random pairs have cosine ~0.45, nearest neighbours ~0.8-0.95).

    python bench/search.py [--sizes 100000,1000000] [--dim 512] [--queries 200]
                           [--dists clustered,uniform]

Targets: query p50 <= 50 ms at 100k and 1M, recall@10 >= 0.95, similar <= 50 ms, filtered
queries without loss of recall (2-core machine).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from glimpse_desktop.search import ann
from glimpse_desktop.search.ann import VectorIndex

FRACTIONS = (0.001, 0.01, 0.1, 0.5)
CHUNK = 50_000


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "search", **fields}), flush=True)


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except ImportError:
        return float("nan")


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# -- data -------------------------------------------------------------------------------------


class Clustered:
    """CLIP-like vectors; the model (mean, centres, basis) is fixed by the seed, the samples
    by the sample seed, so queries come from the same distribution as the data."""

    def __init__(self, dim: int, clusters: int = 2000, rank: int = 48, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.dim = dim
        self.mean = _unit(rng.standard_normal((1, dim)))[0]
        self.centres = _unit(rng.standard_normal((clusters, dim)))
        self.basis = (rng.standard_normal((dim, rank)) / np.sqrt(dim)).astype(np.float32)
        pop = 1.0 / np.arange(1, clusters + 1) ** 0.7
        self.pop = pop / pop.sum()

    def sample(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        labels = rng.choice(len(self.centres), size=n, p=self.pop)
        low = rng.standard_normal((n, self.basis.shape[1]), dtype=np.float32)
        low /= np.sqrt(self.basis.shape[1])
        x = rng.standard_normal((n, self.dim), dtype=np.float32)
        x *= 0.15 / np.sqrt(self.dim)
        x += 0.7 * self.mean + 0.6 * self.centres[labels]
        x += 0.5 * (low @ self.basis.T)
        return _unit(x)


class Uniform:
    def __init__(self, dim: int) -> None:
        self.dim = dim

    def sample(self, n: int, seed: int) -> np.ndarray:
        return _unit(np.random.default_rng(seed).standard_normal((n, self.dim),
                                                                 dtype=np.float32))


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def generate(dist: Clustered | Uniform, n: int) -> np.ndarray:
    out = np.empty((n, dist.dim), np.float32)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        out[start:stop] = dist.sample(stop - start, seed=1000 + start // CHUNK)
    return out


# -- exact ground truth (float32, chunked so memory stays bounded) ----------------------------


def exact_top(data: np.ndarray, queries: np.ndarray, k: int,
              masks: list[np.ndarray | None], exclude: np.ndarray | None = None
              ) -> list[np.ndarray]:
    """For each mask (None = all rows), the ids of the exact top-k per query."""
    nq = len(queries)
    best = [(np.full((nq, k), -np.inf, np.float32), np.zeros((nq, k), np.int64))
            for _ in masks]
    rows = np.arange(nq)
    for start in range(0, len(data), CHUNK):
        block = data[start:start + CHUNK]
        sims = queries @ block.T
        ids = np.arange(start, start + len(block), dtype=np.int64)
        if exclude is not None:
            hit = (exclude >= start) & (exclude < start + len(block))
            sims[rows[hit], exclude[hit] - start] = -np.inf
        for (bs, bi), mask in zip(best, masks, strict=True):
            s = sims if mask is None else np.where(mask[start:start + len(block)], sims, -np.inf)
            kk = min(k, s.shape[1])
            part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
            cand_s = np.concatenate([bs, np.take_along_axis(s, part, axis=1)], axis=1)
            cand_i = np.concatenate([bi, ids[part]], axis=1)
            top = np.argsort(-cand_s, axis=1)[:, :k]
            bs[:] = np.take_along_axis(cand_s, top, axis=1)
            bi[:] = np.take_along_axis(cand_i, top, axis=1)
    return [bi for _, bi in best]


def recall(got: list[list[int]], truth: np.ndarray, k: int) -> float:
    hits = sum(len(set(g[:k]) & set(t[:k].tolist())) for g, t in zip(got, truth, strict=True))
    return hits / (k * len(truth))


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 3)


# -- the measuring child: a fresh process, so its memory is the index's ----------------------


def child(work: Path, dim: int, fractions: list[float]) -> None:
    base = rss_mb()
    t = time.perf_counter()
    index = VectorIndex.open(work / "index.usearch", dim)
    open_s = time.perf_counter() - t
    result: dict[str, Any] = {"open_s": open_s, "rss_base_mb": base,
                              "rss_open_mb": rss_mb(), "count": len(index),
                              "depth": index.depth, "exact_below": index.exact_below}
    queries = np.load(work / "queries.npy")
    similar_ids = np.load(work / "similar_ids.npy")

    def run(fn: Any) -> tuple[list[list[int]], list[float]]:
        ids, lat = [], []
        for i in range(len(queries)):
            t0 = time.perf_counter()
            res = fn(i)
            lat.append(time.perf_counter() - t0)
            ids.append([r[0] for r in res])
        return ids, lat

    # one untimed pass so the first timings do not include page faults of the mapped file
    for q in queries[:20]:
        index.search(q, 10)
    modes = ["default"] if len(index) > ann.EXACT_BELOW else ["default", "graph_only"]
    for mode in modes:
        # graph_only: what the HNSW graph gives where the shipped index would scan exactly
        index.exact_below = 0 if mode == "graph_only" else ann.EXACT_BELOW
        result[f"{mode}/text"] = run(lambda i: index.search(queries[i], 50))
        result[f"{mode}/text10"] = run(lambda i: index.search(queries[i], 10))
        result[f"{mode}/similar"] = run(lambda i: index.search(
            index.vectors([int(similar_ids[i])])[0], 10, exclude=[int(similar_ids[i])]))
        for f in fractions:
            allowed = np.load(work / f"allowed_{f}.npy")
            result[f"{mode}/filtered_{f}"] = run(
                lambda i, a=allowed: index.search(queries[i], 10, allowed=a))
    result["modes"] = modes
    result["rss_queried_mb"] = rss_mb()
    t = time.perf_counter()
    index.upsert(np.array([10**12], np.int64), queries[:1])
    result["first_upsert_s"] = time.perf_counter() - t
    result["rss_loaded_mb"] = rss_mb()
    (work / "child.json").write_text(json.dumps(result))


# -- the driver -------------------------------------------------------------------------------


def build(work: Path, data: np.ndarray, dist_name: str, n: int, gen_s: float) -> None:
    """Build in the batches an integrator would feed, save, and report."""
    common = {"dist": dist_name, "n": n, "dim": data.shape[1]}
    index = VectorIndex.open(work / "index.usearch", data.shape[1])
    ids = np.arange(n, dtype=np.int64)
    t = time.perf_counter()
    for start in range(0, n, 10_000):
        index.upsert(ids[start:start + 10_000], data[start:start + 10_000])
    build_s = time.perf_counter() - t
    index.seq = 1
    t = time.perf_counter()
    index.save()
    save_s = time.perf_counter() - t
    index.close()
    del index
    gc.collect()
    size = (work / "index.usearch").stat().st_size
    emit(**common, phase="build", generate_s=round(gen_s, 2), build_s=round(build_s, 2),
         build_rate_per_s=round(n / build_s), save_s=round(save_s, 2),
         file_mb=round(size / 1e6, 1), threads=cores(), dtype=ann.DTYPE,
         connectivity=ann.CONNECTIVITY, expansion_add=ann.EXPANSION_ADD)


def bench(dist_name: str, n: int, args: argparse.Namespace, root: Path) -> None:
    dim = args.dim
    dist: Clustered | Uniform = Clustered(dim) if dist_name == "clustered" else Uniform(dim)
    common = {"dist": dist_name, "n": n, "dim": dim}
    work = root / f"{dist_name}-{n}"
    kept = VectorIndex.open(work / "index.usearch", dim)
    reuse = args.reuse and len(kept) == n
    kept.close()
    if not reuse:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)

    t = time.perf_counter()
    data = generate(dist, n)  # deterministic: the same vectors when an index is reused
    gen_s = time.perf_counter() - t
    if reuse:
        emit(**common, phase="build", reused=str(work / "index.usearch"))
    else:
        build(work, data, dist_name, n, gen_s)

    # numpy exact brute force, one query at a time (what the index replaces)
    queries = dist.sample(args.queries, seed=1)
    lat = []
    for q in queries[:min(50, len(queries))]:
        t0 = time.perf_counter()
        sims = data @ q
        top = np.argpartition(-sims, 9)[:10]
        top[np.argsort(-sims[top])]
        lat.append(time.perf_counter() - t0)
    emit(**common, phase="numpy_exact", p50_ms=pct(lat, 50), p95_ms=pct(lat, 95),
         note="float32 matmul over all vectors, per query")

    # ground truth
    rng = np.random.default_rng(3)
    similar_ids = rng.choice(n, size=args.queries, replace=False).astype(np.int64)
    allowed = {f: np.sort(rng.choice(n, size=max(1, int(n * f)), replace=False)).astype(np.int64)
               for f in args.fractions}
    masks: list[np.ndarray | None] = [None]
    for f in args.fractions:
        mask = np.zeros(n, bool)
        mask[allowed[f]] = True
        masks.append(mask)
    t = time.perf_counter()
    truth = exact_top(data, queries, 50, masks)
    truth_similar = exact_top(data, data[similar_ids], 10, [None], exclude=similar_ids)[0]
    del masks
    np.save(work / "queries.npy", queries)
    np.save(work / "similar_ids.npy", similar_ids)
    for f, a in allowed.items():
        np.save(work / f"allowed_{f}.npy", a)
    del data
    gc.collect()
    emit(**common, phase="ground_truth", seconds=round(time.perf_counter() - t, 1))

    # measure in a fresh process
    subprocess.run([sys.executable, __file__, "--child", str(work), "--dim", str(dim),
                    "--fractions", ",".join(map(str, args.fractions))], check=True)
    res = json.loads((work / "child.json").read_text())
    emit(**common, phase="open", open_ms=round(res["open_s"] * 1000, 1),
         rss_before_mb=round(res["rss_base_mb"]),
         rss_after_open_mb=round(res["rss_open_mb"]),
         rss_after_queries_mb=round(res["rss_queried_mb"]),
         first_upsert_s=round(res["first_upsert_s"], 2),
         rss_after_first_upsert_mb=round(res["rss_loaded_mb"]),
         expansion_search=res["depth"], exact_below=res["exact_below"],
         note="open maps the file; the first upsert copies it into memory")
    for mode in res["modes"]:
        m = {**common, "mode": mode}
        got, lat = res[f"{mode}/text"]
        emit(**m, phase="text", k=50, p50_ms=pct(lat, 50), p95_ms=pct(lat, 95),
             recall_at_10=round(recall(got, truth[0], 10), 4),
             recall_at_50=round(recall(got, truth[0], 50), 4))
        got, lat = res[f"{mode}/text10"]
        emit(**m, phase="text", k=10, p50_ms=pct(lat, 50), p95_ms=pct(lat, 95),
             recall_at_10=round(recall(got, truth[0], 10), 4))
        got, lat = res[f"{mode}/similar"]
        emit(**m, phase="similar", k=10, p50_ms=pct(lat, 50), p95_ms=pct(lat, 95),
             recall_at_10=round(recall(got, truth_similar, 10), 4))
        for i, f in enumerate(args.fractions, start=1):
            got, lat = res[f"{mode}/filtered_{f}"]
            emit(**m, phase="filtered", fraction=f, allowed=len(allowed[f]), k=10,
                 p50_ms=pct(lat, 50), p95_ms=pct(lat, 95),
                 recall_at_10=round(recall(got, truth[i], 10), 4))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--dists", default="clustered,uniform")
    ap.add_argument("--fractions", default=",".join(map(str, FRACTIONS)))
    ap.add_argument("--work", type=Path, default=None,
                    help="where index files are written (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the index files")
    ap.add_argument("--reuse", action="store_true",
                    help="with --work: measure an index kept by an earlier --keep run "
                         "(query-time settings only; the build is skipped)")
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.fractions = [float(f) for f in args.fractions.split(",") if f]
    if args.child is not None:
        child(args.child, args.dim, args.fractions)
        return
    emit(phase="machine", cpus=os.cpu_count(), affinity=cores(), machine=platform.machine(),
         python=platform.python_version(), numpy=np.__version__,
         usearch=__import__("usearch").__version__)
    root = args.work or Path(tempfile.mkdtemp(prefix="glimpse-ann-"))
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            for dist_name in args.dists.split(","):
                bench(dist_name, n, args, root)
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
