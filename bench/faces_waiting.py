"""How long grouping waiting faces by likeness takes (faces.clustering.group_waiting), on
synthetic 128-d unit vectors: people of a few faces each among strangers, each face in its own
photo. Prints JSON lines; asserts nothing.

    python bench/faces_waiting.py [N ...]
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from glimpse_desktop.faces import clustering


def synthetic(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n faces: a third in people of 2-8 faces (about 0.6 alike), the rest strangers."""
    rng = np.random.default_rng(seed)
    truth = np.full(n, -1, dtype=np.int64)
    vectors = rng.standard_normal((n, 128)).astype(np.float32)
    i, person = 0, 0
    while i < n // 3:
        k = int(rng.integers(2, 9))
        centre = rng.standard_normal(128).astype(np.float32)
        centre /= np.linalg.norm(centre)
        noise = rng.standard_normal((k, 128)).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        vectors[i:i + k] = centre * 0.8 + noise * 0.6
        truth[i:i + k] = person
        i, person = i + k, person + 1
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, np.arange(n, dtype=np.int64), truth


def main(sizes: list[int]) -> None:
    params = clustering.Params()
    for n in sizes:
        vectors, photo, truth = synthetic(n)
        for exact in ((True, False) if n <= 60_000 else (False,)):
            start = time.perf_counter()
            labels = clustering.group_waiting(vectors, photo, params,
                                              exact_below=n if exact else 0)
            took = time.perf_counter() - start
            people = truth >= 0
            # Pairs of one person's faces that ended in one group.
            together = sum(len(set(labels[truth == p].tolist())) == 1
                           for p in np.unique(truth[people]).tolist())
            print(json.dumps({"faces": n, "exact": exact, "seconds": round(took, 2),
                              "groups": int(labels.max()) + 1,
                              "people_whole": round(together / max(1, truth.max() + 1), 3)}))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [30_000, 300_000])
