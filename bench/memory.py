"""Memory figures: prints JSON lines, asserts nothing.

``window`` (the default; issue 17): resident memory of the window once it has read a library
and gone idle. A library of ``--photos`` real photos (3000x2000 JPEGs, a quarter of them the
real face photographs; with the search model of $GLIMPSE_MODEL_DIR when one is installed
there, by ``--model``) is read in a child process first, as a person's library would have
been; then a fresh child opens the window over it, offscreen: it shows its first page of
thumbnails, runs its start-up read (a rescan, which loads the models ingestion uses), and goes
idle until its idle models are unloaded (``models.unload_after``, set to 3 s here). One line
``window_idle`` gives the RSS at each step (target: idle <= 500 MB) and what holds the idle
memory: the resident bytes of each mapped library (``/proc/self/smaps``), the anonymous
memory (Python objects, malloc arenas, runtime buffers), and whether torch was imported.

    python bench/memory.py [window] [--photos 60] [--model ID] [--first-read] [--keep DIR]

``ingest`` (issue 15): peak memory of ingestion on huge images.
Writes ``--images`` single-colour RGB PNGs of ``--size`` x ``--size`` pixels into a temporary
folder (225 MP and ~0.7 MB each at the default 15000: the decompression costs nothing on
disk, the decoded pixels cost ~860 MB each) and indexes them with ``Library.index()`` on
``--workers`` workers in a child process; the parent reads the child's peak resident memory
(``ru_maxrss`` from ``wait4``). The same run over as many small PNGs gives the process's
baseline (interpreter, libraries, the face models), so the figure that matters is visible.

    python bench/memory.py ingest [--images 20] [--size 15000] [--workers 2] [--keep DIR]

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


# Runs in the first child: the library read once, as a person's would have been.
PREPARE = """
import sys
sys.path.insert(0, sys.argv[4])
from glimpse_desktop.api import Library
with Library.open(sys.argv[1]) as lib:
    if sys.argv[3]:
        lib.use_model(sys.argv[3])
    lib.add_root(sys.argv[2])
    if sys.argv[5] != "window":
        lib.index()
"""


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _held() -> dict[str, float]:
    """Resident MB by what is mapped: each shared library (by file name), and the anonymous
    memory (heap, malloc arenas, thread stacks, runtime buffers) as "anonymous"."""
    held: dict[str, float] = {}
    name = "anonymous"
    with open("/proc/self/smaps") as fh:
        for line in fh:
            head = line.split()
            if not head:
                continue
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                path = head[5] if len(head) > 5 else ""
                name = os.path.basename(path) if path.startswith("/") else "anonymous"
            elif head[0] == "Rss:":
                held[name] = held.get(name, 0.0) + int(head[1]) / 1024
    top = dict(sorted(held.items(), key=lambda kv: -kv[1])[:12])
    return {k: round(v, 1) for k, v in top.items()}


def window_child(library: Path) -> None:
    """The window over a library read before: first page shown, its start-up read, idle."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    from glimpse_desktop.gui import prepare_qt_environment

    prepare_qt_environment()
    # This figure is the window's own: the benchmark drives it, as bench/gui.py does.
    from PySide6.QtCore import QCoreApplication  # noqa: TID251
    from PySide6.QtWidgets import QApplication  # noqa: TID251

    QCoreApplication.setOrganizationName("Glimpse-bench")
    app = QApplication([sys.argv[0]])
    from glimpse_desktop.api import Library
    from glimpse_desktop.gui.window import MainWindow

    marks: dict[str, object] = {}
    started = time.monotonic()
    lib = Library.open(library, load_models=False)
    lib.config.set("models.unload_after", "0.05")        # 3 s, not the default 5 min
    window = MainWindow(lib)
    unloaded: list[list[str]] = []
    window.models_unloaded.connect(unloaded.append)
    window.resize(1200, 800)
    window.show()

    def spin(until: object, limit: float) -> None:
        deadline = time.monotonic() + limit
        while not until() and time.monotonic() < deadline:  # type: ignore[operator]
            app.processEvents()
            time.sleep(0.01)

    model = window.model
    spin(lambda: model.rowCount() > 0 and all(
        model.thumbnails.get(r.id, r.content_hash) is not None
        for r in model.rows[:24]), 120)
    marks["first_page_rss_mb"] = round(_rss_mb(), 1)
    marks["first_page_seconds"] = round(time.monotonic() - started, 2)
    spin(lambda: window.watcher is not None, 600)        # its start-up read is over
    marks["after_read_rss_mb"] = round(_rss_mb(), 1)
    marks["models_loaded_after_read"] = {
        "faces": lib.people.models().loaded,
        "search": any(m.loaded for m in lib.semantic._models.values())}
    spin(lambda: bool(unloaded), 600)
    spin(lambda: False, 5.0)              # settle (and later unloads), as an idle window would
    marks["models_unloaded"] = sorted({m for batch in unloaded for m in batch})
    marks["models_loaded_idle"] = {
        "faces": lib.people.models().loaded,
        "search": any(m.loaded for m in lib.semantic._models.values())}
    marks["idle_rss_mb"] = round(_rss_mb(), 1)
    marks["held_idle_mb"] = _held()
    marks["torch_imported"] = "torch" in sys.modules
    marks["loaded_runtimes"] = sorted(
        m for m in ("onnxruntime", "openvino", "cv2", "scipy", "torch", "PySide6")
        if m in sys.modules)
    print(json.dumps({"bench": "memory", "metric": "window_idle", "rows": model.rowCount(),
                      "target_mb": 500, **marks}), flush=True)
    window.close()
    lib.close()


def window_main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="glimpse-bench-memory-"))
    folder = args.keep or work
    try:
        sys.path.insert(0, str(ROOT / "bench"))
        from gui import make_read_photos

        make_read_photos(folder, args.photos)
        library = work / "lib" / "library.sqlite3"
        env = dict(os.environ, GLIMPSE_CACHE_DIR=str(work / "cache"),
                   XDG_CONFIG_HOME=str(work / "config"),
                   QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", PREPARE, str(library), str(folder / "Photos"),
                        args.model or "", str(ROOT),
                        "window" if args.first_read else "before"], env=env, check=True,
                       capture_output=True)
        emit(metric="library_read", photos=args.photos, model=args.model,
             read_by="the window" if args.first_read else "a process before it",
             seconds=round(time.perf_counter() - t0, 1))
        out = subprocess.run([sys.executable, __file__, "--window-child", str(library)],
                             env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            sys.stderr.write(out.stderr[-4000:])
            raise SystemExit(out.returncode)
        sys.stdout.write(out.stdout)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--window-child":
        window_child(Path(sys.argv[2]))
        return
    what = "window"
    if len(sys.argv) > 1 and sys.argv[1] in ("window", "ingest"):
        what = sys.argv.pop(1)
    if what == "window":
        wp = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
        wp.add_argument("--photos", type=int, default=60)
        wp.add_argument("--model", help="search model id (installed in $GLIMPSE_MODEL_DIR)")
        wp.add_argument("--keep", type=Path, help="keep the photos here between runs")
        wp.add_argument("--first-read", action="store_true",
                        help="the window reads the photos itself (its start-up read is the "
                             "library's first: every photo decoded, embedded, faces found)")
        window_main(wp.parse_args())
        return
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
