"""The image tower as the app runs it, this tree against another (e.g. the commit before the
ONNX runtimes), interleaved in one process tree: prints JSON lines, asserts nothing.

Each round starts one process per tree; each loads the app's own ``ClipModel`` for the same
installed random ViT-B/32 (weights added once through ``Library.add_model`` of this tree,
which the older tree reads as installed weights), embeds a warm-up batch, then times
``encode_pixels`` on --batches batches of 32 photo-like pixels. Ratio: median img/s of this
tree over the other's.

    git worktree add /tmp/before a03bed9
    python bench/tower_vs_tree.py --other /tmp/before [--rounds 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, time
import numpy as np
from glimpse_desktop.kernel.registry import Registry
from glimpse_desktop.search.clip import ClipModel
models, model_id, batches = sys.argv[1], sys.argv[2], int(sys.argv[3])
installed = Registry(models).installed(model_id)
clip = ClipModel(installed).load()
rng = np.random.default_rng(0)
x = rng.integers(0, 256, (32, clip.image_size, clip.image_size, 3), dtype=np.uint8)
clip.encode_pixels(x)            # warm-up (and, in a new tree, the runtime measurement once)
clip.encode_pixels(x)
runs = []
for _ in range(batches):
    t = time.perf_counter(); clip.encode_pixels(x); runs.append(32 / (time.perf_counter() - t))
print(json.dumps({"images_per_s": sorted(runs)[len(runs) // 2], "precision": clip.precision,
                  "device": clip.device, "why": clip.choice_reason}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--other", type=Path, required=True, help="the other tree (a worktree)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ["GLIMPSE_THREADS"] = str(args.threads)
    from bench.embed import install_random_model
    from glimpse_desktop.api import Library

    work = Path(tempfile.mkdtemp(prefix="glimpse-tower-"))
    models = work / "models"
    models.mkdir()
    os.environ["GLIMPSE_MODEL_DIR"] = str(models)
    weights, model_id = install_random_model(models, "ViT-B-32", 224, 512).split("|")
    lib = Library.open(work / "lib.sqlite3", create=True)
    try:
        lib.add_model(model_id, Path(weights))
    finally:
        lib.close()
    trees = {"this": ROOT, "other": args.other.resolve()}
    rates: dict[str, list[float]] = {k: [] for k in trees}
    for r in range(args.rounds):
        for name in (("this", "other") if r % 2 == 0 else ("other", "this")):
            env = {**os.environ, "PYTHONPATH": str(trees[name])}
            out = subprocess.run([sys.executable, "-c", CHILD, str(models), model_id,
                                  str(args.batches)], env=env, capture_output=True, text=True,
                                 check=True, cwd=trees[name]).stdout.strip().splitlines()[-1]
            row = json.loads(out)
            rates[name].append(row["images_per_s"])
            print(json.dumps({"bench": "tower_vs_tree", "round": r, "tree": name, **row}),
                  flush=True)
    this, other = statistics.median(rates["this"]), statistics.median(rates["other"])
    print(json.dumps({"bench": "tower_vs_tree", "kind": "ratio", "this": round(this, 2),
                      "other": round(other, 2), "this_over_other": round(this / other, 3),
                      "other_tree": str(args.other)}), flush=True)


if __name__ == "__main__":
    main()
