"""Metadata read-rate benchmark, new reader against the old one: prints JSON lines, asserts
nothing (not part of the test suite).

Two versions of Glimpse run side by side, each in processes of its own with its code first on
PYTHONPATH: NEW, the working tree, and OLD, the parsers before issue 18 (``--old``, commit
7251032 by default, exported with ``git archive``). Their runs alternate (old, new, old,
new...) so a machine that speeds up or slows down during the bench costs both alike.

  read    On the real camera files of tests/camerafiles.py (132 files: JPEG, HEIC, TIFF,
          PNG, WebP, RAW), each file's bytes already in memory, the kernel's own
          ``decode(data, path, want=grid size)``, as ingestion calls it. Two figures per
          format, each over the files BOTH versions handle (the same file list):
            meta_per_s    files per second counting only the time spent reading metadata:
                          inside the kernel's ``read_metadata`` call (every metadata reader,
                          as the kernel runs them) and in Pillow's EXIF parse outside it
                          (``getexif``, which the old reader's values came from and the kernel
                          still calls for the orientation); both are wrapped in the worker
                          with a clock, nothing else changed; over the files
                          whose readers both versions ran (``meta_files``; a RAW whose
                          pixels then fail counts)
            decode_per_s  files per second for the whole decode (open, metadata, grid-size
                          pixels): what one photo costs the first pass before its thumbnail
                          is saved, over the files both decode (``decode_files``)
          and the ratios new/old (above 1: the new reader is faster). ``meta`` leaves out
          Pillow's open of the header and the pixels; ``decode`` holds it all. Decode errors
          are counted in ``errors_old`` / ``errors_new`` and listed, one line each.
  index   The first pass: ``Library.index()`` on a fresh library of --photos photo-like
          JPEGs (bench/photosets.py, 12 MP by default, EXIF with date and camera), no model
          installed (hash, metadata, thumbnail, database): seconds, old and new, and the
          ratio new/old of the medians (the issue: at most 1.10).

    python bench/metadata_read.py [--sections read,index] [--rounds 3] [--repeat 3]
                                  [--photos 100] [--size 4000x3000] [--old 7251032]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("read", "index")
RAW_SUFFIXES = {".dng", ".cr2", ".cr3", ".nef", ".nrw", ".arw", ".raf", ".rw2", ".orf", ".pef",
                ".srw"}


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "metadata_read", **fields}), flush=True)


def file_format(path: Path) -> str:
    """The container, by content (a DNG may be named .jpg), RAWs together."""
    head = path.open("rb").read(16)
    if path.suffix.lower() in RAW_SUFFIXES or head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAW"
    if head.startswith(b"\xff\xd8"):
        return "JPEG"
    if head.startswith(b"\x89PNG"):
        return "PNG"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp":
        return "RAW" if head[8:12] == b"crx " else "HEIC"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    return "other"


# --------------------------------------------------------------------------- workers
# Run as `metadata_read.py --worker KIND ...` with PYTHONPATH naming the code to measure:
# nothing of this repository is imported before that code.


def worker_read(files: list[str], repeat: int) -> dict[str, Any]:
    """Per file, over ``repeat`` decodes: seconds inside read_metadata and in the whole
    decode, whether the readers ran (``read``: a RAW whose pixels fail may still have been
    read) and the decode's error, if any."""
    from PIL import Image

    from glimpse_desktop.kernel import decode as decoding
    from glimpse_desktop.kernel import meta as kernel_meta
    from glimpse_desktop.kernel.thumbnails import GRID

    spent = [0.0]
    inside = [False]
    calls = [0]   # read_metadata calls: a file whose readers never ran has no meta figure
    readers, getexif = kernel_meta.read_metadata, Image.Image.getexif

    def timed_readers(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        inside[0] = True
        calls[0] += 1
        try:
            return readers(*args, **kwargs)
        finally:
            inside[0] = False
            spent[0] += time.perf_counter() - started

    def timed_getexif(self: Image.Image) -> Image.Exif:
        if inside[0]:   # already on the readers' clock
            return getexif(self)
        started = time.perf_counter()
        try:
            return getexif(self)
        finally:
            spent[0] += time.perf_counter() - started

    # The kernel calls it by the name decode.py imported it under.
    decoding.read_metadata = timed_readers   # type: ignore[attr-defined]
    Image.Image.getexif = timed_getexif   # type: ignore[method-assign]
    want = decoding.SizeRequest(long_edge=GRID)
    held = [(path, Path(path).read_bytes()) for path in files]

    def one(path: str, data: bytes) -> tuple[float, float, str | None, bool]:
        before, called = spent[0], calls[0]
        started = time.perf_counter()
        error = None
        try:
            decoding.decode(data, path, want=want, mtime=0.0)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        return spent[0] - before, time.perf_counter() - started, error, calls[0] > called

    out: dict[str, Any] = {}
    for path, data in held:   # untimed: imports, readers collected, libraries loaded
        _, _, error, read = one(path, data)
        out[path] = {"read": read, "error": error, "meta_s": 0.0, "decode_s": 0.0}
    for path, data in held:
        for _ in range(repeat):
            meta_s, decode_s, _, _ = one(path, data)
            out[path]["meta_s"] += meta_s
            out[path]["decode_s"] += decode_s
    return out


def worker_index(folder: str, work: str) -> dict[str, Any]:
    """A fresh library of ``folder``, indexed: the seconds of ``index()``."""
    from glimpse_desktop.api import Library

    lib = Library.open(Path(work) / "library.sqlite3", load_models=False)
    try:
        lib.add_root(folder)
        started = time.perf_counter()
        report = lib.index()
        seconds = time.perf_counter() - started
        errors = lib.errors()
    finally:
        lib.close()
    return {"seconds": seconds, "new": report.new, "errors": len(errors)}


def run_worker(code: Path, kind: str, payload: dict[str, Any], scratch: Path) -> Any:
    """One worker process on ``code``; its JSON answer."""
    request = scratch / "request.json"
    request.write_text(json.dumps(payload))
    env = dict(os.environ, PYTHONPATH=str(code),
               GLIMPSE_MODEL_DIR=str(scratch / "models"), GLIMPSE_CACHE_DIR=str(scratch / "cache"))
    env.pop("GLIMPSE_LIBRARY", None)
    # cwd outside the checkout: the script's folder and cwd must not put the new code first.
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", kind,
                           str(request)], cwd=scratch, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker on {code} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- sections


def export_old(commit: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "glimpse_desktop"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def bench_read(codes: dict[str, Path], args: argparse.Namespace, work: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from tests import camerafiles

    files = camerafiles.camera_files()
    formats = {str(p): file_format(p) for p in files}
    emit(section="read", kind="corpus", files=len(files),
         mb=round(sum(p.stat().st_size for p in files) / 1e6, 1),
         per_format=dict(sorted(_count(formats.values()).items())))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in codes}
    for _ in range(args.rounds):
        for name, code in codes.items():   # old then new, every round
            scratch = Path(tempfile.mkdtemp(dir=work))
            runs[name].append(run_worker(code, "read", {"files": list(formats),
                                                        "repeat": args.repeat}, scratch))
            shutil.rmtree(scratch, ignore_errors=True)
    first = {name: r[0] for name, r in runs.items()}
    by_format: dict[str, list[str]] = defaultdict(list)
    for path, fmt in formats.items():
        by_format[fmt].append(path)
    for fmt, paths in sorted(by_format.items()):
        line: dict[str, Any] = {"section": "read", "format": fmt, "files": len(paths)}
        for name in codes:
            line[f"errors_{name}"] = sum(1 for p in paths if first[name][p]["error"])
        for what, usable in (("meta", lambda r: r["read"]), ("decode", lambda r: not r["error"])):
            common = [p for p in paths if all(usable(first[n][p]) for n in codes)]
            line[f"{what}_files"] = len(common)
            for name in codes:
                rates = [len(common) * args.repeat / total for run in runs[name]
                         if (total := sum(run[p][f"{what}_s"] for p in common)) > 0]
                line[f"{what}_per_s_{name}"] = round(statistics.median(rates), 1) \
                    if rates else None
            old, new = line[f"{what}_per_s_old"], line[f"{what}_per_s_new"]
            line[f"{what}_ratio_new_old"] = round(new / old, 3) if old and new else None
        emit(**line)
    for name in codes:
        for path, result in sorted(first[name].items()):
            if result["error"]:
                emit(section="read", kind="error", code=name, file=_short(path),
                     metadata_read=result["read"], error=result["error"])


def bench_index(codes: dict[str, Path], args: argparse.Namespace, work: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.photosets import plain_photo_set

    w, _, h = args.size.lower().partition("x")
    folder = args.data / f"plain-{args.size}"
    started = time.perf_counter()
    photos = plain_photo_set(folder, args.photos, size=(int(w), int(h)))
    emit(section="index", kind="photos", photos=len(photos), size=args.size,
         mb=round(sum(p.stat().st_size for p in photos) / 1e6, 1),
         made_s=round(time.perf_counter() - started, 1))
    for p in photos:   # the page cache warm for every run alike
        p.read_bytes()
    seconds: dict[str, list[float]] = {name: [] for name in codes}
    for r in range(args.rounds):
        for name, code in codes.items():
            scratch = Path(tempfile.mkdtemp(dir=work))
            result = run_worker(code, "index", {"folder": str(folder.resolve()),
                                                "work": str(scratch)}, scratch)
            shutil.rmtree(scratch, ignore_errors=True)
            seconds[name].append(result["seconds"])
            emit(section="index", kind="run", code=name, round=r + 1, photos=result["new"],
                 errors=result["errors"], index_s=round(result["seconds"], 2),
                 photos_per_s=round(result["new"] / result["seconds"], 1))
    old, new = statistics.median(seconds["old"]), statistics.median(seconds["new"])
    emit(section="index", kind="summary", photos=len(photos), index_s_old=round(old, 2),
         index_s_new=round(new, 2), ratio_new_old=round(new / old, 3),
         target="ratio <= 1.10")


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(out)


def _short(path: str) -> str:
    return "/".join(Path(path).parts[-2:])


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        payload = json.loads(Path(sys.argv[3]).read_text())
        result = (worker_read(payload["files"], payload["repeat"]) if sys.argv[2] == "read"
                  else worker_index(payload["folder"], payload["work"]))
        print(json.dumps(result))
        return
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3, help="decodes of each file per round")
    ap.add_argument("--photos", type=int, default=100)
    ap.add_argument("--size", default="4000x3000", help="WxH of the index section's photos")
    ap.add_argument("--old", default="7251032", help="the commit of the old parsers")
    ap.add_argument("--data", type=Path, default=ROOT / ".cache" / "bench-metadata",
                    help="where generated photos are kept between runs")
    args = ap.parse_args()
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    with tempfile.TemporaryDirectory(prefix="glimpse-bench-meta-") as tmp:
        work = Path(tmp)
        codes = {"old": export_old(args.old, work / "old"), "new": ROOT}
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        emit(kind="machine", python=platform.python_version(), cpus=os.cpu_count(),
             old=args.old, new=f"working tree on {commit}", rounds=args.rounds,
             repeat=args.repeat)
        if "read" in sections:
            bench_read(codes, args, work)
        if "index" in sections:
            bench_index(codes, args, work)


if __name__ == "__main__":
    main()
