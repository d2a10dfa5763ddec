"""Ingestion benchmark: prints JSON lines, asserts nothing (not part of the test suite).

Measures, on generated photo-like 12 MP JPEGs (noise and texture, so entropy decoding costs
what it costs on real photos):
  ceiling      the same files only draft-decoded to grid size, on all cores (the most any
               ingestion that makes a grid thumbnail could reach)
  first_pass   `Library.index()` on a fresh library: hash, metadata, thumbnail, database
  rescan       a no-change rescan of a library of --rescan-files small files

    python bench/ingest.py [--photos 100] [--rescan-files 10000] [--workers N]

Targets (issue 2): first pass >= 80% of the ceiling; no-change rescan of 10k files < 2 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.thumbnails import GRID
from tests.imagegen import write_jpeg


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "ingest", **fields}), flush=True)


def make_photos(folder: Path, n: int, size: tuple[int, int]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"IMG_{i:05d}.jpg"
        if not path.exists():
            write_jpeg(path, size, seed=i, quality=92, datetime_original="2024:06:01 12:00:00",
                       make="Bench", model="12MP")
        paths.append(path)
    return paths


def draft_decode(path: Path) -> None:
    with open(path, "rb") as fh:
        data = fh.read()
    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", (GRID, GRID))
        img.load()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--photos", type=int, default=100, help="12 MP photos for the first pass")
    ap.add_argument("--rescan-files", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=2, help="alternating runs; best of each")
    ap.add_argument("--data", type=Path, default=Path(__file__).parent / "out",
                    help="where generated photos are kept between runs")
    args = ap.parse_args()
    machine = {"cpus": os.cpu_count(), "machine": platform.machine(),
               "python": platform.python_version(), "workers": args.workers}

    photos = make_photos(args.data / f"12mp-{args.photos}", args.photos, (4000, 3000))
    mb = sum(p.stat().st_size for p in photos) / 1e6
    for p in photos:  # warm the page cache so both measurements read from memory
        p.read_bytes()

    work = Path(tempfile.mkdtemp(prefix="glimpse-bench-"))
    try:
        # Alternate the two measurements and keep the best of each, so a noisy neighbour on
        # the machine skews both alike instead of one.
        ceilings: list[float] = []
        firsts: list[tuple[float, float, int, int]] = []
        for run in range(args.repeat):
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.workers) as pool:
                list(pool.map(draft_decode, photos))
            ceilings.append(len(photos) / (time.perf_counter() - t0))
            with Library.open(work / f"lib{run}.sqlite3", workers=args.workers) as lib:
                lib.add_root(photos[0].parent)
                t0 = time.perf_counter()
                report = lib.index()
                elapsed = time.perf_counter() - t0
                firsts.append((report.new / elapsed, elapsed, report.new, report.errors))
            shutil.rmtree(work / f"lib{run}.cache", ignore_errors=True)
        ceiling = max(ceilings)
        emit(metric="ceiling_draft_decode", photos=len(photos), mb=round(mb, 1),
             photos_per_s=round(ceiling, 2), runs=[round(c, 2) for c in ceilings], **machine)
        first, elapsed, new, errors = max(firsts)
        emit(metric="first_pass", photos=new, errors=errors, seconds=round(elapsed, 2),
             photos_per_s=round(first, 2), runs=[round(f[0], 2) for f in firsts],
             ratio_to_ceiling=round(first / ceiling, 3), target_ratio=0.8, **machine)

        small = make_photos(args.data / f"small-{args.rescan_files}", args.rescan_files,
                            (64, 48))
        with Library.open(work / "rescan.sqlite3", workers=args.workers) as lib:
            lib.add_root(small[0].parent)
            t0 = time.perf_counter()
            report = lib.index()
            emit(metric="small_files_first_pass", files=report.new,
                 seconds=round(time.perf_counter() - t0, 2), **machine)
            timings = []
            for _ in range(3):
                t0 = time.perf_counter()
                again = lib.index()
                timings.append(time.perf_counter() - t0)
            emit(metric="no_change_rescan", files=again.unchanged,
                 seconds_best=round(min(timings), 3), seconds_all=[round(t, 3) for t in timings],
                 target_seconds=2.0, **machine)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if resource is not None:  # peak memory of the whole run (decode buffers, caches)
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        emit(metric="peak_rss", mb=round(peak_kb / 1024, 1), **machine)


if __name__ == "__main__":
    main()
