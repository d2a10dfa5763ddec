"""Stress: random renames and moves of files, folders and photo folders, between scans and
while watching; after every sequence the library must still hold each photo by its old id at
its new path, with its album, caption and tag, and no extra row (tests/moveplay.py).

The test suite runs a few hundred short sequences; this runs many more, longer ones, and
prints JSON lines: sequences run, steps, rows compared, failures (with the first failure's
message), seconds. It asserts nothing.

    .venv/bin/python bench/moves.py [--between 2000] [--watching 200] [--photos 24]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from glimpse_desktop.api import Library
from tests import moveplay


def run(mode: str, sequences: int, photos: int, seed: int, max_steps: int) -> dict[str, object]:
    steps_run = failures = 0
    first_failure: str | None = None
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="glimpse-moves-") as tmp:
        base = Path(tmp)
        lib = Library.open(base / "lib" / "library.sqlite3", workers=2)
        try:
            play = moveplay.start(lib, base / "play", photos=photos, seed=seed)
            watcher = None
            if mode == "watching":
                watcher = lib.watcher(settle=0.2, poll=0.02, health_interval=0.2)
                watcher.start()
                watcher.wait_idle(60)
            try:
                for seq in range(sequences):
                    rng = random.Random(seed * 1_000_003 + seq)
                    steps = []
                    for _ in range(rng.randint(1, max_steps)):
                        steps.append(moveplay.random_step(play, rng))
                        moveplay.pause(rng, watching=watcher is not None)
                    steps_run += len(steps)
                    moveplay.adopt_renamed_roots(play)
                    if watcher is None:
                        lib.indexer.scan([(r, r.path) for r in lib.indexer.roots()])
                    else:
                        watcher.wait_idle(120)
                    moveplay.drop_old_roots(play)
                    if watcher is not None:
                        watcher.wait_idle(120)
                    try:
                        moveplay.check(play, f"{mode} sequence {seq}: {steps}")
                    except AssertionError as exc:
                        failures += 1
                        first_failure = first_failure or str(exc)[-1500:]
                        break  # the library no longer matches the model: stop here
            finally:
                if watcher is not None:
                    watcher.stop()
            rows = play.rows_compared
        finally:
            lib.close()
    return {"bench": "moves", "mode": mode, "sequences": seq + 1, "steps": steps_run,
            "photos": photos, "rows_compared": rows, "failures": failures,
            "first_failure": first_failure,
            "seconds": round(time.monotonic() - started, 1), "machine": platform.machine(),
            "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--between", type=int, default=2000,
                        help="sequences with a scan after each (default 2000)")
    parser.add_argument("--watching", type=int, default=200,
                        help="sequences while a watcher runs (default 200)")
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--steps", type=int, default=8, help="most steps in a sequence")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.between:
        print(json.dumps(run("between", args.between, args.photos, args.seed, args.steps)),
              flush=True)
    if args.watching:
        print(json.dumps(run("watching", args.watching, args.photos, args.seed, args.steps)),
              flush=True)


if __name__ == "__main__":
    main()
