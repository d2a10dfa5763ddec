"""The approximate index beside the library: real usearch files in a temporary folder.

Similarities are compared with numpy over the same (normalised) float32 vectors. The index
stores bfloat16, so a similarity may differ from numpy's by ~1e-3 and near-ties may swap:
``assert_top_k`` accepts any id whose exact similarity is within that of the k-th.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from glimpse_desktop.search.ann import VectorIndex

DIM = 48
TOL = 4e-3  # bfloat16 storage: similarities within a few thousandths of float32


def unit(rows: int, seed: int, dim: int = DIM) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def exact_top(ids: np.ndarray, vecs: np.ndarray, query: np.ndarray, k: int,
              allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """numpy's exact top-k: ids and similarities, best first."""
    q = query / np.linalg.norm(query)
    sims = vecs @ q
    if allowed is not None:
        keep = np.isin(ids, allowed)
        ids, sims = ids[keep], sims[keep]
    order = np.argsort(-sims, kind="stable")[:k]
    return ids[order], sims[order]


def assert_top_k(got: list[tuple[int, float]], ids: np.ndarray, vecs: np.ndarray,
                 query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> None:
    want_ids, want_sims = exact_top(ids, vecs, query, k, allowed)
    assert len(got) == len(want_ids)
    got_ids = [i for i, _ in got]
    assert len(set(got_ids)) == len(got_ids)
    sims = [s for _, s in got]
    assert sims == sorted(sims, reverse=True)
    by_id = dict(zip(ids.tolist(), (vecs @ (query / np.linalg.norm(query))).tolist(),
                     strict=True))
    kth = want_sims[-1]
    for item_id, sim in got:
        assert by_id[item_id] >= kth - TOL, (item_id, by_id[item_id], kth)
        assert sim == pytest.approx(by_id[item_id], abs=TOL)
    if allowed is not None:
        assert set(got_ids) <= set(allowed.tolist())


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "clip.usearch"


IDS = np.arange(100, 4100, dtype=np.int64)
VECS = unit(IDS.size, seed=1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One saved index for the module (building costs ~0.5 s); each test opens a copy."""
    path = tmp_path_factory.mktemp("built") / "clip.usearch"
    index = VectorIndex.open(path, DIM)
    index.upsert(IDS, VECS * 3.0)  # not unit: the index normalises
    assert len(index) == IDS.size and 100 in index and 99 not in index and index.dirty
    index.save()
    index.close()
    return path


@pytest.fixture
def filled(built: Path, path: Path) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    for name in (built.name, built.name + ".json"):
        shutil.copyfile(built.with_name(name), path.with_name(name))
    index = VectorIndex.open(path, DIM)
    assert len(index) == IDS.size
    return index, IDS, VECS


def test_empty_index(path: Path) -> None:
    index = VectorIndex.open(path, DIM)
    assert len(index) == 0 and index.seq == 0 and not index.dirty
    assert index.search(unit(1, 0)[0], 5) == []
    assert index.search(unit(1, 0)[0], 5, allowed=np.array([1, 2], np.int64)) == []
    assert 7 not in index
    with pytest.raises(KeyError):
        index.vectors([7])


def test_search_matches_numpy_exactly_on_a_small_set(filled) -> None:
    index, ids, vecs = filled
    assert 100 in index and 99 not in index and not index.dirty
    for query in unit(10, seed=2):
        assert_top_k(index.search(query, 10), ids, vecs, query, 10)


def test_graph_search_agrees_with_numpy(filled) -> None:
    index, ids, vecs = filled
    index.exact_below, index.depth = 0, 128  # the HNSW walk, as in a large library
    hits = 0
    for query in unit(20, seed=3):
        got = index.search(query, 10)
        want, _ = exact_top(ids, vecs, query, 10)
        hits += len({i for i, _ in got} & set(want.tolist()))
    assert hits / 200 >= 0.95


def test_upsert_replaces_a_vector(filled) -> None:
    index, ids, vecs = filled
    new = unit(1, seed=9)[0]
    index.upsert(np.array([100], np.int64), new[None, :])
    assert len(index) == ids.size
    assert float(index.vectors([100])[0] @ new) >= 0.999
    assert index.search(new, 1)[0][0] == 100
    # the old vector is gone: searching for it no longer finds id 100 first
    assert index.search(vecs[0], 1)[0][0] != 100


def test_upsert_with_a_repeated_id_keeps_the_last_vector(path: Path) -> None:
    index = VectorIndex.open(path, DIM)
    a, b = unit(2, seed=4)
    index.upsert(np.array([5, 5], np.int64), np.stack([a, b]))
    assert len(index) == 1
    assert float(index.vectors([5])[0] @ b) >= 0.999


def test_upsert_rejects_a_bad_shape_and_skips_bad_vectors(path: Path) -> None:
    index = VectorIndex.open(path, DIM)
    with pytest.raises(ValueError):
        index.upsert(np.array([1], np.int64), np.zeros((1, DIM + 1), np.float32))
    with pytest.raises(ValueError):
        index.upsert(np.array([-1], np.int64), unit(1, seed=16))
    vecs = unit(200, seed=16)
    index.upsert(np.arange(200, dtype=np.int64), vecs)
    # a zero or non-finite vector is skipped, the others go in, and the id's old vector goes
    bad = vecs.copy()
    bad[150], bad[7] = np.inf, 0.0
    index.upsert(np.arange(200, dtype=np.int64), bad)
    assert len(index) == 198 and 150 not in index and 7 not in index and 8 in index
    with pytest.raises(ValueError):
        index.search(np.zeros(DIM, np.float32), 5)


def test_remove(filled) -> None:
    index, ids, vecs = filled
    gone = ids[:50]
    index.remove([*gone.tolist(), 999_999])
    assert len(index) == ids.size - 50
    assert all(int(i) not in index for i in gone)
    for query in vecs[:5]:
        got = index.search(query, 10)
        assert not {i for i, _ in got} & set(gone.tolist())
        assert_top_k(got, ids[50:], vecs[50:], query, 10)
    with pytest.raises(KeyError):
        index.vectors([int(gone[0])])


def test_vectors_round_trip(filled) -> None:
    index, ids, vecs = filled
    got = index.vectors(ids[::7].tolist())
    assert got.dtype == np.float32 and got.shape == (len(ids[::7]), DIM)
    cos = np.sum(got * vecs[::7], axis=1)
    assert cos.min() >= 0.999
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert index.vectors([]).shape == (0, DIM)


def test_exclude_never_returns_the_excluded(filled) -> None:
    index, ids, vecs = filled
    for pos in (0, 17, 333):
        item = int(ids[pos])
        got = index.search(index.vectors([item])[0], 5, exclude=[item])
        assert item not in {i for i, _ in got} and len(got) == 5
        assert_top_k(got, np.delete(ids, pos), np.delete(vecs, pos, axis=0), vecs[pos], 5)
        allowed = ids[pos:pos + 40]
        got = index.search(vecs[pos], 5, allowed=allowed, exclude=[item])
        assert item not in {i for i, _ in got}
        assert_top_k(got, ids, vecs, vecs[pos], 5, allowed=allowed[allowed != item])


# "exact-size": a library this small is always scanned exactly, so results equal numpy's;
# "graph-size": the graph path forced, as in a large library (approximate by design).
@pytest.mark.parametrize("graph", [False, True], ids=["exact-size", "graph-size"])
@pytest.mark.parametrize("fraction", [0.002, 0.05, 0.5])
def test_filtered_search_equals_exact_filtered_top_k(filled, graph: bool,
                                                     fraction: float) -> None:
    index, ids, vecs = filled
    if graph:
        index.exact_below, index.depth = 0, 128
    rng = np.random.default_rng(5)
    allowed = np.sort(rng.choice(ids, size=max(1, int(ids.size * fraction)), replace=False))
    # ids without a vector may be allowed too (photos not embedded yet)
    allowed = np.concatenate([allowed, np.array([10_000_000], np.int64)])
    hits = 0
    for query in unit(8, seed=6):
        got = index.search(query, 10, allowed=allowed)
        if graph:  # approximate: only allowed ids, and (nearly) the exact ones
            want, _ = exact_top(ids, vecs, query, 10, allowed)
            assert len(got) == len(want) and {i for i, _ in got} <= set(allowed.tolist())
            hits += len({i for i, _ in got} & set(want.tolist())) * 10 // len(want)
        else:
            assert_top_k(got, ids, vecs, query, 10, allowed=allowed)
    assert not graph or hits / 80 >= 0.9


def test_filtered_search_when_the_allowed_set_is_far_from_the_query(filled) -> None:
    # Half the ids allowed, but exactly the half least similar to the query: the first
    # oversampled graph walk finds none of them, so the search must widen or scan.
    index, ids, vecs = filled
    index.exact_below, index.depth = 0, 128
    query = unit(1, seed=15)[0]
    far = np.sort(ids[np.argsort(vecs @ query)[: ids.size // 2]])
    # (the search ends in an exact scan; near-ties within bfloat16 precision may swap)
    assert_top_k(index.search(query, 10, allowed=far), ids, vecs, query, 10, allowed=far)


def test_filtered_search_with_an_unsorted_or_empty_allowed_set(filled) -> None:
    index, ids, vecs = filled
    query = unit(1, seed=7)[0]
    assert index.search(query, 10, allowed=np.array([], np.int64)) == []
    allowed = ids[::-50].copy()
    assert_top_k(index.search(query, 10, allowed=allowed), ids, vecs, query, 10,
                 allowed=allowed)
    assert index.search(query, 10, allowed=np.array([5, 6], np.int64)) == []


def test_persistence_across_save_and_open(filled, path: Path) -> None:
    index, ids, vecs = filled
    index.seq = 42
    index.save()
    assert not index.dirty
    sidecar = json.loads(path.with_name(path.name + ".json").read_text())
    assert sidecar["dim"] == DIM and sidecar["seq"] == 42 and sidecar["count"] == ids.size
    assert isinstance(sidecar["format"], int)
    index.close()

    again = VectorIndex.open(path, DIM)
    assert (again.seq, len(again), again.dim, again.dirty) == (42, ids.size, DIM, False)
    assert np.sum(again.vectors(ids[:20].tolist()) * vecs[:20], axis=1).min() >= 0.999
    query = unit(1, seed=8)[0]
    assert_top_k(again.search(query, 10), ids, vecs, query, 10)

    # the first change copies the mapped file into memory; later saves replace the file
    again.upsert(np.array([1], np.int64), vecs[:1])
    again.remove([int(ids[-1])])
    again.seq = 43
    assert again.dirty
    again.save()
    again.close()
    third = VectorIndex.open(path, DIM)
    assert (third.seq, len(third)) == (43, ids.size)
    assert 1 in third and int(ids[-1]) not in third


def test_seq_only_change_is_saved(filled, path: Path) -> None:
    index, _, _ = filled
    index.save()
    index.close()
    again = VectorIndex.open(path, DIM)
    again.seq = 7
    assert again.dirty
    again.save()
    again.close()
    assert VectorIndex.open(path, DIM).seq == 7


def _saved(path: Path) -> None:
    index = VectorIndex.open(path, DIM)
    index.upsert(np.arange(300, dtype=np.int64), unit(300, seed=10))
    index.seq = 5
    index.save()
    index.close()


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "sidecar", "no-sidecar",
                                    "foreign-sidecar"])
def test_a_damaged_file_opens_empty(path: Path, damage: str) -> None:
    _saved(path)
    sidecar = path.with_name(path.name + ".json")
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "garbage":
        path.write_bytes(b"\x00not an index" * 100)
    elif damage == "sidecar":
        sidecar.write_text("{not json")
    elif damage == "no-sidecar":
        sidecar.unlink()
    else:
        meta = json.loads(sidecar.read_text())
        sidecar.write_text(json.dumps({**meta, "format": meta["format"] + 1}))
    index = VectorIndex.open(path, DIM)
    assert len(index) == 0 and index.seq == 0
    # and it is usable: a rebuild saves over the damaged file
    index.upsert(np.array([1], np.int64), unit(1, seed=11))
    index.save()
    assert len(VectorIndex.open(path, DIM)) == 1


def test_a_dim_mismatch_opens_empty(path: Path) -> None:
    _saved(path)
    index = VectorIndex.open(path, DIM * 2)
    assert len(index) == 0 and index.seq == 0 and index.dim == DIM * 2


def test_searches_from_threads_while_upserting(path: Path) -> None:
    index = VectorIndex.open(path, DIM)
    base = unit(2000, seed=12)
    index.upsert(np.arange(2000, dtype=np.int64), base)
    more = unit(1000, seed=13)
    queries = unit(16, seed=14)
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while not stop.is_set():
                q = queries[rng.integers(len(queries))]
                got = index.search(q, 10)
                assert len(got) == 10 and all(0 <= i < 3000 for i, _ in got)
                allowed = np.arange(0, 3000, 97, dtype=np.int64)
                assert {i for i, _ in index.search(q, 5, allowed=allowed)} <= set(
                    allowed.tolist())
                index.vectors([int(rng.integers(200, 2000))])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=searcher, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    try:
        for start in range(0, 1000, 100):
            index.upsert(np.arange(2000 + start, 2100 + start, dtype=np.int64),
                         more[start:start + 100])
            index.remove(range(start // 10, start // 10 + 5))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    assert len(index) == 3000 - 50
