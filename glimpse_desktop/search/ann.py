"""Approximate nearest neighbours beside the library: a usearch HNSW graph over unit vectors.

The vec0 table in the database stays the source of truth; this index is a cache next to it
(``<name>.usearch`` plus a ``<name>.usearch.json`` sidecar) that the integrator keeps in step
with the table through ``seq``, and that can always be thrown away and rebuilt.

Why usearch (measured on the 2-core target, 512-d clustered "CLIP-like" vectors; the
figures come from bench/search.py and are summarised at the constants below):

* usearch keeps keys and vectors itself: upsert and remove by id in place, no training, so an
  index that grows from an empty library never needs retraining; ``view`` memory-maps a saved
  file, so opening costs a checksum read (~40 ms at 100k, ~0.6 s at 1M), not a load.
* faiss IVF-SQfp16 builds 15x faster (25k/s vs 1.7k/s at 100k) at similar latency and recall,
  but its centroids are trained once on the first vectors and drift as a library grows over
  years, so it needs a retrain-and-rebuild policy; faiss HNSW cannot remove at all. This index
  is built once and then grows a few photos at a time (CLIP itself runs at tens of photos a
  second), so the build rate only matters for a full rebuild: 12 minutes at 1M (1.3k/s),
  20+ when the cores are shared.
* bfloat16 storage: half the memory of f32 at the same recall (0.978 both, 100k, ef 128),
  and here twice as fast to build as f16 (AVX-512 BF16). int8 would save another 40% but its
  quantisation caps recall@10 near 0.94 whatever the search depth.
* connectivity 16, expansion_add 128: at 250k (search depth 512) expansion_add 64 builds 2x
  faster but recall@10 stops at 0.97 (0.99 with 128); connectivity 12 with 64 stops at 0.93,
  24 with 48 at 0.97. 1M takes ~1.25-1.3 GB resident once in memory (1.0 GB of it vectors).

Searches up to 100k vectors are exact (a SIMD scan, ~7 ms), larger ones walk the graph;
filtered searches choose between graph, scan and an exact pass over the allowed ids.

usearch is not safe for concurrent calls on one index from Python: every single-threaded
call uses the same per-thread search context (slot 0), and adds may reallocate. So each call
into the index holds ``_index_lock`` (a FIFO ticket lock: a search waits for at most one
~25 ms batch of an upsert, never for the whole upsert); ``save`` holds only ``_write_lock``,
which keeps writers out while searches continue.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import xxhash
from usearch.compiled import MetricKind, ScalarKind, exact_search
from usearch.index import Index

log = logging.getLogger(__name__)

F32Array = npt.NDArray[np.float32]
I64Array = npt.NDArray[np.int64]

# Bumped whenever the file layout, the sidecar or the parameters below change meaning: an
# older file is then discarded and rebuilt (it is a cache).
FORMAT_VERSION: Final = 1
ENGINE: Final = "usearch-hnsw"
DTYPE: Final = "bf16"
CONNECTIVITY: Final = 16
EXPANSION_ADD: Final = 128
# Search depth (HNSW "ef"). At 1M clustered 512-d vectors (built with the settings above)
# recall@10 was 0.88 at 128, 0.956 at 256, 0.979 at 512 and 0.983 at 1024 on one data set,
# 0.953 at 512, 0.971 at 1024 and 0.978 at 2048 on bench/search.py's; p50 1.4 ms at 128,
# ~3.5 at 512, ~7 at 1024, ~15 at 2048 on one core. Past 512 recall grows slowly, but the
# 50 ms budget pays for the margin. A search for more results than this uses the result
# count as its depth.
EXPANSION_SEARCH: Final = 1024
# Up to this many vectors every search is exact: usearch's brute-force scan of the stored
# vectors (SIMD, ~65 ns a vector on one core: ~7 ms at 100k) is well inside the budget, and
# exact whatever the distribution (HNSW on structureless vectors is not). Most personal
# libraries are this small; above it the graph answers in ~7 ms at 1M where a scan takes 65.
EXACT_BELOW: Final = 100_000
# Filtered search picks the cheapest way (see VectorIndex._search_allowed); costs in
# microseconds, measured on the 2-core target (bench/search.py):
#   graph  GRAPH_US_PER_RESULT * max(count, depth)
#   scan   SCAN_US_PER_VECTOR * n + SCAN_US_PER_RESULT * count
#   exact  EXACT_US_PER_ID * allowed ids (usearch's look-up of the stored vector, ~2 us, is
#          most of it: its Python binding returns one array per id)
# The graph is used for at most GRAPH_MAX_COUNT results: at 1M, keeping the allowed ones of
# the top 40 (50% allowed) or 200 (10%) gives recall@10 0.97-0.98, but of the top 1000 (2%)
# only 0.87-0.94 and of the top 2000 (1%) 0.84-0.95 even at depth 2000-8000. So at 1M a
# filter allowing below ~4% is answered exactly: ~2 ms per 1000 allowed ids, or a full scan
# (~65 ms) when that is cheaper.
# A filtered graph walk keeps only the allowed ones of the top `count`, so the ranks that
# matter run deeper than k: it searches FILTERED_DEPTH times deeper. At 1M, 5% allowed,
# recall@10 0.951 at depth 1024 and 0.963 at 2048 (10%: 0.962, 0.969; unfiltered at 1024:
# 0.969), p50 ~15 ms.
FILTERED_DEPTH: Final = 2
GRAPH_US_PER_RESULT: Final = 8.0
GRAPH_MAX_COUNT: Final = 512
SCAN_US_PER_VECTOR: Final = 0.065
SCAN_US_PER_RESULT: Final = 3.0
EXACT_US_PER_ID: Final = 2.0
# Oversampling of a filtered graph search beyond the inverse selectivity; widened by WIDEN
# each time too few allowed results come back.
OVERSAMPLE: Final = 2.0
WIDEN: Final = 4
# An upsert adds its vectors in batches, each under one hold of the index lock, sized so a
# hold lasts about ADD_HOLD_S: a concurrent search waits at most that long. ADD_BATCH is the
# first batch (~1k vectors/s/core at 1M in 512-d).
ADD_BATCH: Final = 32
ADD_HOLD_S: Final = 0.025


def _sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def _threads() -> int:
    """Cores this process may use (the affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _file_digest(path: Path) -> str:
    """xxh3-64 of a whole file (a read at several GB/s that also warms the page cache)."""
    digest = xxhash.xxh3_64()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _new_index(dim: int) -> Index:
    return Index(ndim=dim, metric=MetricKind.Cos, dtype=DTYPE, connectivity=CONNECTIVITY,
                 expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH)


def _as_keys(ids: I64Array) -> npt.NDArray[np.uint64]:
    # usearch keys are uint64; photo ids are non-negative int64, so the bits are the same.
    return np.ascontiguousarray(ids, dtype=np.int64).view(np.uint64)


class _TicketLock:
    """A FIFO mutex: waiters are served in arrival order, so a thread that releases and at
    once re-acquires (an upsert between batches) cannot starve the others."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next = 0
        self._serving = 0
        self._abandoned: set[int] = set()

    def __enter__(self) -> None:
        with self._cond:
            ticket = self._next
            self._next += 1
            try:
                while ticket != self._serving:
                    self._cond.wait()
            except BaseException:  # interrupted while waiting: give the turn up, not the lock
                if ticket == self._serving:
                    self._advance()
                else:
                    self._abandoned.add(ticket)
                raise

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._advance()

    def _advance(self) -> None:
        self._serving += 1
        while self._serving in self._abandoned:
            self._abandoned.discard(self._serving)
            self._serving += 1
        self._cond.notify_all()


class VectorIndex:
    """Approximate nearest neighbours over unit vectors (cosine), keyed by int64 ids.

    Opened from a saved file the index is memory-mapped (``view``), which is read-only; the
    first upsert or remove copies it into memory. Safe to use from several threads.
    """

    def __init__(self, path: Path, dim: int, index: Index, *, seq: int, viewing: bool,
                 digest: str | None) -> None:
        self.path = path
        self.dim = dim
        self._index = index
        self._seq = seq
        self._viewing = viewing
        # The digest of the file as it is on disk while the graph is unchanged since load/save.
        self._digest = digest
        self._graph_dirty = False
        self._seq_dirty = False
        self._threads = _threads()
        # Tuning knobs (tests lower them to exercise the graph on small sets): index sizes up
        # to which searches scan exactly, and the graph's search depth.
        self.exact_below = EXACT_BELOW
        self.depth = EXPANSION_SEARCH
        self._index_lock = _TicketLock()
        self._write_lock = threading.Lock()

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, dim: int) -> VectorIndex:
        """The index saved at ``path``, or an empty one when there is none, it was made for
        another dimension or format, or it is damaged (never raises for a bad file)."""
        path = Path(path)
        loaded = _load(path, dim)
        if loaded is None:
            return cls(path, dim, _new_index(dim), seq=0, viewing=False, digest=None)
        index, seq, digest = loaded
        return cls(path, dim, index, seq=seq, viewing=True, digest=digest)

    # -- state --------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The integrator's watermark: the last database change this index includes."""
        return self._seq

    @seq.setter
    def seq(self, value: int) -> None:
        if value != self._seq:
            self._seq = int(value)
            self._seq_dirty = True

    @property
    def dirty(self) -> bool:
        """True when there are changes (vectors or ``seq``) that ``save`` has not written."""
        return self._graph_dirty or self._seq_dirty

    def __len__(self) -> int:
        with self._index_lock:
            return len(self._index)

    def __contains__(self, item_id: object) -> bool:
        if not isinstance(item_id, (int, np.integer)) or item_id < 0:
            return False
        with self._index_lock:
            return bool(self._index.contains(int(item_id)))

    # -- updates --------------------------------------------------------------------------

    def upsert(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        """Add or replace vectors (normalised here). A repeated id keeps its last vector; a
        zero or non-finite vector is skipped with a warning and its id removed."""
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        vec_arr = np.asarray(vectors, dtype=np.float32)
        if vec_arr.ndim == 1 and id_arr.size == 1:
            vec_arr = vec_arr.reshape(1, -1)
        if vec_arr.ndim != 2 or vec_arr.shape != (id_arr.size, self.dim):
            raise ValueError(f"expected {id_arr.size} vectors of {self.dim} dimensions, "
                             f"got an array of shape {vec_arr.shape}")
        if id_arr.size == 0:
            return
        if np.any(id_arr < 0):
            raise ValueError("ids must be non-negative")
        _, first_from_end = np.unique(id_arr[::-1], return_index=True)
        if first_from_end.size != id_arr.size:
            keep = np.sort(id_arr.size - 1 - first_from_end)
            id_arr, vec_arr = id_arr[keep], vec_arr[keep]
        norms = _row_norms(vec_arr)
        bad = ~(np.isfinite(norms) & (norms > 0))
        if bad.any():
            # One bad vector (zero, NaN) must not stop the others: it has no direction to
            # search by, so its id leaves the index (an older vector of it would be stale).
            log.warning("ANN index %s: skipping %d zero or non-finite vectors (ids %s)",
                        self.path.name, int(bad.sum()), id_arr[bad][:5].tolist())
            self.remove(id_arr[bad].tolist())
            id_arr, vec_arr, norms = id_arr[~bad], vec_arr[~bad], norms[~bad]
        with self._write_lock:
            start, size = 0, ADD_BATCH
            while start < id_arr.size:
                keys = _as_keys(id_arr[start:start + size])
                batch = vec_arr[start:start + size] / norms[start:start + size, None]
                with self._index_lock:
                    began = time.perf_counter()
                    self._make_writable()
                    present = np.asarray(self._index.contains(keys), dtype=bool)
                    if present.any():
                        self._index.remove(keys[present])
                    self._index.add(keys, batch, threads=min(self._threads, len(keys)))
                    self._graph_dirty = True
                    took = time.perf_counter() - began
                start += len(keys)
                # Size the next batch so one hold of the lock lasts about ADD_HOLD_S.
                size = max(16, min(4096, int(len(keys) * ADD_HOLD_S / max(took, 1e-4))))

    def remove(self, ids: Iterable[int]) -> None:
        """Forget these ids (unknown ids are ignored)."""
        id_arr = np.fromiter((int(i) for i in ids), dtype=np.int64)
        id_arr = id_arr[id_arr >= 0]
        if id_arr.size == 0:
            return
        with self._write_lock:
            for start in range(0, id_arr.size, 4096):
                keys = _as_keys(id_arr[start:start + 4096])
                with self._index_lock:
                    present = np.asarray(self._index.contains(keys), dtype=bool)
                    if not present.any():
                        continue
                    self._make_writable()
                    self._index.remove(keys[present])
                    self._graph_dirty = True

    def _make_writable(self) -> None:
        """Copy a memory-mapped index into memory before its first change (index lock held)."""
        if not self._viewing:
            return
        mapped = self._index
        self._index = mapped.copy()
        self._viewing = False
        # Unmap now: Windows cannot replace a file that is still mapped.
        _release(mapped)

    # -- queries --------------------------------------------------------------------------

    def search(self, query: npt.ArrayLike, k: int, *, allowed: npt.ArrayLike | None = None,
               exclude: Iterable[int] = ()) -> list[tuple[int, float]]:
        """The ``k`` nearest ids by cosine similarity (higher is closer), best first.

        ``allowed`` (sorted int64 ids; None for all; ids without a vector are ignored)
        restricts the results to those ids without losing recall: a graph walk for k over the
        selectivity results where that keeps recall, else an exact scan (see
        ``_search_allowed``). ``exclude`` never appears in the results (the query photo of
        "similar"). Up to ``exact_below`` vectors every search is exact. Similarities come
        from the bfloat16 vectors: within ~1e-3 of float32.
        """
        if k <= 0:
            return []
        q = _normalised(np.asarray(query, dtype=np.float32).reshape(1, -1))
        if q.shape[1] != self.dim:
            raise ValueError(f"expected a query of {self.dim} dimensions, got {q.shape[1]}")
        excluded = np.unique(np.fromiter((int(i) for i in exclude), dtype=np.int64))
        if allowed is None:
            return self._search_all(q[0], k, excluded)
        allow = np.asarray(allowed, dtype=np.int64).reshape(-1)
        if allow.size > 1 and np.any(allow[1:] < allow[:-1]):
            allow = np.sort(allow)
        if excluded.size:
            allow = allow[~_member(allow, excluded)]
        if allow.size == 0:
            return []
        return self._search_allowed(q[0], k, allow)

    def _search_all(self, q: F32Array, k: int, excluded: I64Array) -> list[tuple[int, float]]:
        want = k + excluded.size
        with self._index_lock:
            n = len(self._index)
            if n == 0:
                return []
            keys, sims = self._usearch(q, min(want, n), exact=n <= self.exact_below)
        if excluded.size:
            keep = ~_member(keys, excluded)
            keys, sims = keys[keep], sims[keep]
        return _pairs(keys[:k], sims[:k])

    def _search_allowed(self, q: F32Array, k: int, allow: I64Array) -> list[tuple[int, float]]:
        """Top-k among ``allow``, the cheapest of three ways by the cost model above:

        * graph: the HNSW top-``count``, then keep the allowed ones; approximate, and only
          while ``count`` <= GRAPH_MAX_COUNT (deeper graph results lose recall) and the
          index is past ``exact_below``;
        * scan: usearch's exact top-``count`` over all vectors, then keep the allowed ones;
        * exact: the dot product with the stored vector of every allowed id.

        ``count`` starts at k / selectivity, oversampled; while fewer than k allowed ids come
        back it widens, until the exact way is the cheapest.
        """
        with self._index_lock:
            n = len(self._index)
        if n == 0:
            return []
        # The share of results that are allowed is about allow.size / n (less when some
        # allowed ids have no vector; the widening covers that).
        count = max(k, math.ceil(k * OVERSAMPLE * n / allow.size))
        exact_cost = EXACT_US_PER_ID * allow.size
        while count < n:
            graph = n > self.exact_below and count <= GRAPH_MAX_COUNT
            depth = FILTERED_DEPTH * self.depth
            if graph:
                cost = GRAPH_US_PER_RESULT * max(count, depth)
            else:
                cost = SCAN_US_PER_VECTOR * n + SCAN_US_PER_RESULT * count
            if cost >= exact_cost:
                break
            with self._index_lock:
                keys, sims = self._usearch(q, count, exact=not graph, depth=depth)
            keep = _member(keys, allow)
            if int(keep.sum()) >= k:
                return _pairs(keys[keep][:k], sims[keep][:k])
            count *= WIDEN
        return self._exact(q, k, allow)

    def _usearch(self, q: F32Array, count: int, *, exact: bool,
                 depth: int | None = None) -> tuple[I64Array, F32Array]:
        """One usearch search (index lock held): keys and similarities, best first."""
        index = self._index
        depth = max(depth or self.depth, count)
        if index.expansion_search != depth:
            _set_depth(index, depth)
        matches: Any = index.search(q, count, threads=1, exact=exact)
        keys = np.asarray(matches.keys, dtype=np.uint64).view(np.int64)
        sims = (1.0 - np.asarray(matches.distances, dtype=np.float32)).astype(np.float32)
        return keys, sims

    def _exact(self, q: F32Array, k: int, allow: I64Array) -> list[tuple[int, float]]:
        """Exact top-k over the allowed ids that have a vector."""
        keys, stored = self._stored(allow)
        if keys.size == 0:
            return []
        # usearch's own SIMD kernel on the stored bfloat16 rows: no float32 copy, and not
        # BLAS, whose threads stall for milliseconds when the cores are busy (ingestion).
        rows, distances, _, _, _ = exact_search(
            stored, _bf16(q)[None, :], min(k, keys.size), threads=1,
            metric_kind=MetricKind.Cos, dtype=ScalarKind.BF16)
        found = np.asarray(rows[0], dtype=np.int64)
        sims = (1.0 - np.asarray(distances[0], dtype=np.float32)).astype(np.float32)
        return _pairs(keys[found], sims)

    def _stored(self, ids: I64Array) -> tuple[I64Array, npt.NDArray[np.uint16]]:
        """The ids that have a vector, and their vectors as stored (bfloat16 bits)."""
        parts_keys: list[I64Array] = []
        parts: list[npt.NDArray[np.uint16]] = []
        # Batches bound the time a writer waits behind a large allowed set.
        for start in range(0, ids.size, 8192):
            chunk = ids[start:start + 8192]
            with self._index_lock:
                # The compiled get_many, in the stored type, skips the per-row float32
                # conversion and view of Index.get: ~1.5 us per id instead of ~8.
                got = self._index._compiled.get_many(_as_keys(chunk), ScalarKind.BF16)
            present = np.fromiter((v is not None for v in got), dtype=bool, count=chunk.size)
            if present.any():
                parts_keys.append(chunk[present])
                parts.append(np.concatenate([v for v in got if v is not None]))
        if not parts:
            return np.empty(0, np.int64), np.empty((0, self.dim), np.uint16)
        return np.concatenate(parts_keys), np.concatenate(parts).reshape(-1, self.dim)

    def vectors(self, ids: Sequence[int]) -> F32Array:
        """The stored vectors of ``ids``, float32 (len(ids), dim); KeyError for a missing id."""
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        if id_arr.size == 0:
            return np.empty((0, self.dim), np.float32)
        if np.any(id_arr < 0):
            raise KeyError(int(id_arr[id_arr < 0][0]))
        with self._index_lock:
            got: Any = self._index.get(_as_keys(id_arr), dtype="f32")
        for item_id, vec in zip(id_arr.tolist(), got, strict=True):
            if vec is None:
                raise KeyError(item_id)
        # Back to unit length: bfloat16 rounding moves the norm by up to ~1e-3.
        return _normalised(np.vstack(got))

    # -- persistence ----------------------------------------------------------------------

    def save(self) -> None:
        """Write the index and its sidecar atomically (temporary file, then ``os.replace``).

        The index file is replaced before the sidecar: a crash between the two leaves a
        sidecar whose size and checksum do not match, and the next ``open`` starts empty.
        Searches go on while the file is written; upserts wait.
        """
        with self._write_lock:
            if not self.dirty and self._digest is not None and self.path.exists():
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            seq = self._seq
            if self._graph_dirty or self._digest is None or not self.path.exists():
                tmp = _tmp_path(self.path)
                try:
                    # The write lock keeps the graph still; searches only read it.
                    self._index.save(os.fspath(tmp))
                    with open(tmp, "rb+") as fh:
                        os.fsync(fh.fileno())
                    digest = _file_digest(tmp)
                    os.replace(tmp, self.path)
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        tmp.unlink()
                self._digest = digest
                self._graph_dirty = False
            with self._index_lock:
                count = len(self._index)
            _write_json_atomic(_sidecar_path(self.path), {
                "format": FORMAT_VERSION, "engine": ENGINE, "dim": self.dim, "dtype": DTYPE,
                "seq": seq, "count": count, "bytes": self.path.stat().st_size,
                "xxh3_64": self._digest,
            })
            if self._seq == seq:
                self._seq_dirty = False

    def close(self) -> None:
        """Release the memory (or the file mapping); the object must not be used after."""
        with self._write_lock, self._index_lock:
            _release(self._index)


def _release(index: Index) -> None:
    # usearch's reset() frees the memory or unmaps the file at once (its stub is untyped).
    untyped: Any = index
    untyped.reset()


def _set_depth(index: Index, depth: int) -> None:
    # expansion_search has a setter that the type stub does not declare.
    untyped: Any = index
    untyped.expansion_search = depth


def _bf16(vector: F32Array) -> npt.NDArray[np.uint16]:
    """float32 to bfloat16 bits, rounded to nearest even (the upper half of a float32)."""
    bits = np.ascontiguousarray(vector, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
    return (rounded >> np.uint32(16)).astype(np.uint16)


def _row_norms(vectors: F32Array) -> F32Array:
    # einsum: no temporary the size of the matrix; float64 so large values do not overflow.
    squares: npt.NDArray[np.float64] = np.einsum("ij,ij->i", vectors, vectors,
                                                 dtype=np.float64)
    return np.sqrt(squares).astype(np.float32)


def _norms(vectors: F32Array) -> F32Array:
    """Row norms; ValueError for a zero or non-finite row (no direction to search by)."""
    norms = _row_norms(vectors)
    if not np.all(np.isfinite(norms) & (norms > 0)):
        raise ValueError("vectors must be finite and non-zero")
    return norms


def _normalised(vectors: F32Array) -> F32Array:
    return np.ascontiguousarray(vectors / _norms(vectors)[:, None], dtype=np.float32)


def _member(values: I64Array, sorted_set: I64Array) -> npt.NDArray[np.bool_]:
    """values[i] in sorted_set, for a sorted ``sorted_set``."""
    if sorted_set.size == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.searchsorted(sorted_set, values)
    pos[pos == sorted_set.size] = 0
    return np.asarray(sorted_set[pos] == values, dtype=bool)


def _pairs(keys: I64Array, sims: F32Array) -> list[tuple[int, float]]:
    return list(zip(keys.tolist(), sims.astype(np.float64).tolist(), strict=True))


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = _tmp_path(path)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _load(path: Path, dim: int) -> tuple[Index, int, str] | None:
    """Map the saved index if it and its sidecar agree and match ``dim``; None otherwise."""
    try:
        with open(_sidecar_path(path), encoding="utf-8") as fh:
            meta = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring the ANN index sidecar for %s: %s", path, exc)
        return None
    reason = _check(path, dim, meta)
    if reason is not None:
        log.info("rebuilding the ANN index %s: %s", path, reason)
        return None
    try:
        index = _new_index(dim)
        index.view(os.fspath(path))
    except (OSError, RuntimeError, ValueError) as exc:
        log.warning("ignoring the damaged ANN index %s: %s", path, exc)
        return None
    if len(index) != meta["count"]:
        _release(index)
        log.warning("ignoring the ANN index %s: it does not match its sidecar", path)
        return None
    return index, int(meta["seq"]), str(meta["xxh3_64"])


def _check(path: Path, dim: int, meta: Any) -> str | None:
    """Why a sidecar and its index file cannot be used, or None if they can."""
    if not isinstance(meta, dict):
        return "the sidecar is not an object"
    expected = {"format": FORMAT_VERSION, "engine": ENGINE, "dim": dim, "dtype": DTYPE}
    for key, value in expected.items():
        if meta.get(key) != value:
            return f"{key} is {meta.get(key)!r}, not {value!r}"
    for key in ("seq", "count", "bytes"):
        if not isinstance(meta.get(key), int) or meta[key] < 0:
            return f"the sidecar has no valid {key}"
    if not isinstance(meta.get("xxh3_64"), str):
        return "the sidecar has no checksum"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"the index file cannot be read ({exc})"
    if size != meta["bytes"]:
        return "the index file is not the size its sidecar records"
    try:
        info: Any = Index.metadata(os.fspath(path))
    except (OSError, RuntimeError, ValueError) as exc:
        return f"not a usearch index ({exc})"
    if (not info or info.get("dimensions") != dim or info.get("kind_scalar") != ScalarKind.BF16
            or info.get("kind_metric") != MetricKind.Cos):
        return "the index file was made with other settings"
    # A checksum before mapping: a flipped bit in the graph would crash usearch, not raise.
    try:
        if _file_digest(path) != meta["xxh3_64"]:
            return "the index file is damaged (checksum)"
    except OSError as exc:
        return f"the index file cannot be read ({exc})"
    return None

