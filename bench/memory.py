"""Peak memory of ingestion on huge images (issue 15): prints JSON lines, asserts nothing.

Writes ``--images`` single-colour RGB PNGs of ``--size`` x ``--size`` pixels into a temporary
folder (225 MP and ~0.7 MB each at the default 15000: the decompression costs nothing on
disk, the decoded pixels cost ~860 MB each) and indexes them with ``Library.index()`` on
``--workers`` workers in a child process; the parent reads the child's peak resident memory
(``ru_maxrss`` from ``wait4``). The same run over as many small PNGs gives the process's
baseline (interpreter, libraries, the face models), so the figure that matters is visible.

    python bench/memory.py [--images 20] [--size 15000] [--workers 2] [--keep DIR]

Target (issue 15): peak RSS for 20 such PNGs <= 1.5 GB on 2 workers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child: a fresh interpreter whose peak RSS is the ingestion's alone.
CHILD = """
import json, sys
sys.path.insert(0, sys.argv[4])
from glimpse_desktop.api import Library
with Library.open(sys.argv[1], workers=int(sys.argv[3])) as lib:
    lib.add_root(sys.argv[2])
    report = lib.index()
    print(json.dumps({"new": report.new, "errors": report.errors,
                      "errors_text": [r["reason"] for r in lib.reader().rows(
                          "SELECT reason FROM errors LIMIT 3")]}))
"""


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "memory", **fields}), flush=True)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">L", len(data)) + kind + data
            + struct.pack(">L", zlib.crc32(kind + data) & 0xFFFFFFFF))


def write_flat_png(path: Path, size: int, colour: tuple[int, int, int]) -> None:
    """A valid 8-bit RGB PNG of one colour, deflated row batch by row batch (no image in
    memory: the writer must not be what the benchmark measures)."""
    row = b"\x00" + bytes(colour) * size  # filter "none", then the pixels
    rows_per_call = max(1, (8 << 20) // len(row))
    comp = zlib.compressobj(9)
    parts: list[bytes] = []
    left = size
    while left > 0:
        n = min(left, rows_per_call)
        parts.append(comp.compress(row * n))
        left -= n
    parts.append(comp.flush())
    idat = b"".join(parts)
    out = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", struct.pack(">LLBBBBB", size, size, 8, 2,
                                                            0, 0, 0))]
    out += [_chunk(b"IDAT", idat[i:i + (1 << 16)]) for i in range(0, len(idat), 1 << 16)]
    out.append(_chunk(b"IEND", b""))
    path.write_bytes(b"".join(out))


def run_child(library: Path, folder: Path, workers: int) -> dict[str, object]:
    """Index ``folder`` in a child process; its report, peak RSS (MB) and wall time."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        # stderr to a file: a pipe read after stdout could fill up and stall the child.
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(library), str(folder), str(workers), str(ROOT)],
            stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        out = proc.stdout.read()
        # wait4, not Popen.wait: it hands back the child's resource usage (its peak RSS).
        _pid, status, usage = os.wait4(proc.pid, 0)
        errors.seek(0)
        err = errors.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    # ru_maxrss: kilobytes on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    result: dict[str, object] = {"peak_rss_mb": round(usage.ru_maxrss * scale / 2**20, 1),
                                 "seconds": round(seconds, 1), "exit": proc.returncode}
    try:
        result.update(json.loads(out.decode().strip().splitlines()[-1]))
    except (ValueError, IndexError):
        result["stderr"] = err.decode(errors="replace")[-2000:]
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--size", type=int, default=15000, help="edge of each square PNG")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="keep the PNGs here between runs")
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    machine = {"cpus": os.cpu_count(), "machine": platform.machine(),
               "python": platform.python_version(), "workers": args.workers}

    work = Path(tempfile.mkdtemp(prefix="glimpse-bench-memory-"))
    photos = (args.keep or work) / f"huge-{args.size}-{args.images}"
    try:
        photos.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        for i in range(args.images):
            path = photos / f"PANO_{i:03d}.png"
            if not path.exists():
                # A different colour each: different bytes, so nothing is a duplicate.
                write_flat_png(path, args.size, (40 + 9 * i % 200, 120, 200 - 7 * i % 150))
        emit(metric="wrote_pngs", images=args.images, megapixels=args.size**2 / 1e6,
             mb_on_disk=round(sum(p.stat().st_size for p in photos.iterdir()) / 1e6, 1),
             seconds=round(time.perf_counter() - t0, 1))
        if not args.skip_baseline:
            small = work / "small"
            small.mkdir()
            for i in range(args.images):
                write_flat_png(small / f"IMG_{i:03d}.png", 1000, (i * 11 % 256, 100, 50))
            emit(metric="baseline_small_pngs", images=args.images, megapixels=1.0,
                 **run_child(work / "small.sqlite3", small, args.workers), **machine)
        emit(metric="peak_rss_huge_pngs", images=args.images,
             megapixels=args.size**2 / 1e6, target_mb=1536,
             **run_child(work / "huge.sqlite3", photos, args.workers), **machine)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
