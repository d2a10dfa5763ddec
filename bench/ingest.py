"""Ingestion benchmark: prints JSON lines, asserts nothing (not part of the test suite).

Sections (``--sections``, default all):

  clip    On --photos generated photo-like 12 MP JPEGs (noise and texture, so entropy decoding
          costs what it costs on real photos), in rounds, each of:
            encoder   `ClipModel.encode_pixels` alone on the same photos' pixels, decoded and
                      prepared before the clock starts, batches of 32 (the ceiling of an
                      ingestion that embeds)
            glimpse   `glimpse index` in a new process on a fresh library: random ViT-B/32
                      weights installed as a person's are, faces off
            rclip     (with --rclip) rclip 3.3 indexing the same folder in a new process with
                      a fresh index (bench/rclip.py: its own venv, random weights exported as
                      its convert_model.py does; rclip's model is ViT-B-32 at 256 px)
          Ratios of the medians: glimpse `index` seconds / encoder (target >= 0.85), and
          glimpse / rclip, both whole processes, start to exit (target >= 5).
  faces   On --face-photos 12 MP photos with about one real face each (bench/photosets.py),
          `glimpse index` with CLIP, faces off and on, alternating, fresh libraries: ratio
          on / off (target >= 0.6).
  plain   The issue-2 figures: the photos only draft-decoded to grid size on all cores (the
          ceiling of any ingestion that makes a grid thumbnail), a first pass with no model
          (hash, metadata, thumbnail, database; target >= 0.8 of the ceiling), and a
          no-change rescan of --rescan-files small files (target < 2 s).

Every `glimpse index` line has ``index_s`` (the scan as the index report times it: models
already loaded) and ``wall_s`` (the process from start to exit, as a person waits for it).
Generated photos are kept in --data between runs; the page cache is warmed before timing.

    python bench/ingest.py [--photos 300] [--face-photos 300] [--rounds 3]
                           [--rclip /work/rclip-venv/bin/rclip] [--cpus N] [--threads N]
                           [--sections clip,faces,plain] [--rescan-files 10000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.paths import ENV_CACHE, ENV_MODELS
from glimpse_desktop.kernel.thumbnails import GRID
from tests.imagegen import write_jpeg

SECTIONS = ("clip", "faces", "plain")


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


def warm(paths: list[Path]) -> float:
    """Read every file once (page cache warm for every run alike); returns their MB."""
    total = 0
    for p in paths:
        total += len(p.read_bytes())
    return round(total / 1e6, 1)


def glimpse_command() -> list[str]:
    """`glimpse` as a person runs it: the console script beside this Python, else -m."""
    script = Path(sys.executable).with_name("glimpse")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "glimpse_desktop"]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b and a == a and b == b else None


# --------------------------------------------------------------------------- glimpse index


class Bench:
    """The models folder (random ViT-B/32 weights, installed once) and fresh libraries."""

    def __init__(self, work: Path, arch: str) -> None:
        from bench.embed import install_random_model

        self.work = work
        self.models = work / "models"
        self.models.mkdir()
        os.environ[ENV_MODELS] = str(self.models)
        weights, self.model_id = install_random_model(self.models, arch, 224, 512).split("|")
        self.runs = 0
        lib = Library.open(work / "setup.sqlite3", load_models=False)
        try:
            lib.add_model(self.model_id, weights)   # converted to ONNX here, once
        finally:
            lib.close()

    def clip_model(self) -> Any:
        """The app's CLIP model, loaded, in this process (for the encoder-only pass)."""
        lib = Library.open(self.work / "setup.sqlite3", load_models=False)
        try:
            lib.use_model(self.model_id)
            return lib.semantic.model(self.model_id).load()
        finally:
            lib.close()

    def index(self, folder: Path, *, clip: bool, faces: bool) -> dict[str, Any]:
        """`glimpse index --json` in a new process on a fresh library of ``folder``."""
        self.runs += 1
        lib_path = self.work / f"lib{self.runs}" / "library.sqlite3"
        lib = Library.open(lib_path, load_models=False)
        try:
            if clip:
                lib.use_model(self.model_id)
            lib.set_faces(faces)
            lib.add_root(folder)
        finally:
            lib.close()
        started = time.perf_counter()
        done = subprocess.run([*glimpse_command(), "--library", str(lib_path), "index",
                               "--json", "--quiet"], capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"glimpse index failed ({done.returncode}): {done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        with sqlite3.connect(lib_path) as conn:   # what the run stored, not what it said
            embedded = conn.execute("SELECT count(*) FROM photo_embeddings").fetchone()[0]
            faces_found = conn.execute("SELECT count(*) FROM faces").fetchone()[0]
        conn.close()
        shutil.rmtree(lib_path.parent, ignore_errors=True)   # its cache is beside it
        return {"photos": report["new"], "errors": report["errors"], "embedded": embedded,
                "faces_found": faces_found,
                "index_s": round(report["seconds"], 2), "wall_s": round(wall, 2),
                "photos_per_s": round(report["new"] / report["seconds"], 2),
                "wall_photos_per_s": round(report["new"] / wall, 2)}


def encoder_rate(clip: Any, pixels: np.ndarray, batch: int = 32) -> float:
    started = time.perf_counter()
    for start in range(0, len(pixels), batch):
        clip.encode_pixels(pixels[start:start + batch])
    return len(pixels) / (time.perf_counter() - started)


def prepared_pixels(clip: Any, photos: list[Path]) -> np.ndarray:
    """The photos as the tower takes them, decoded before any clock starts."""
    out = []
    for path in photos:
        with Image.open(path) as img:
            img.draft("RGB", (clip.image_size * 2, clip.image_size * 2))
            out.append(clip.pixels(img.convert("RGB")))
    return np.stack(out)


def bench_clip(bench: Bench, photos: list[Path], args: argparse.Namespace,
               machine: dict[str, object]) -> None:
    from bench import rclip

    clip = bench.clip_model()
    pixels = prepared_pixels(clip, photos)
    clip.encode_pixels(pixels[:32])   # the app measures its runtimes on its first batch
    choice = getattr(clip, "choice", None)
    emit(section="clip", kind="setup", photos=len(photos), mb=warm(photos),
         runtime=getattr(choice, "runtime", None), precision=clip.precision,
         device=clip.device, why=clip.choice_reason, rclip=str(args.rclip or ""), **machine)
    model = datadir = None
    if args.rclip:
        model = rclip.export_model(args.data / "rclip-model")
        datadir = bench.work / "rclip"
    enc: list[float] = []
    glimpse: list[dict[str, Any]] = []
    theirs: list[float] = []
    for r in range(args.rounds):
        enc.append(encoder_rate(clip, pixels))
        emit(section="clip", kind="encoder", round=r, images_per_s=round(enc[-1], 2))
        glimpse.append(bench.index(photos[0].parent, clip=True, faces=False))
        emit(section="clip", kind="glimpse", round=r, **glimpse[-1])
        if args.rclip and model is not None and datadir is not None:
            done = rclip.run(args.rclip, photos[0].parent,
                             rclip.fresh_datadir(model, datadir), "a photo")
            theirs.append(len(photos) / done.seconds)
            emit(section="clip", kind="rclip", round=r, photos=done.indexed,
                 wall_s=round(done.seconds, 2), wall_photos_per_s=round(theirs[-1], 2))
    index_rate = median([g["photos_per_s"] for g in glimpse])
    wall_rate = median([g["wall_photos_per_s"] for g in glimpse])
    emit(section="clip", kind="summary", photos=len(photos), rounds=args.rounds,
         encoder_images_per_s=round(median(enc), 2), index_photos_per_s=round(index_rate, 2),
         wall_photos_per_s=round(wall_rate, 2),
         index_over_encoder=ratio(index_rate, median(enc)), target_index_over_encoder=0.85,
         rclip_wall_photos_per_s=round(median(theirs), 2) if theirs else None,
         glimpse_over_rclip=ratio(wall_rate, median(theirs)) if theirs else None,
         target_glimpse_over_rclip=5.0, **machine)


def face_set(folder: Path, n: int) -> list[Path]:
    """Photos with about one real face each (bench/photosets.py)."""
    from bench.photosets import face_photo_set

    return face_photo_set(folder, n, size=(4000, 3000), seed=0, workers=os.cpu_count() or 1)


def bench_faces(bench: Bench, args: argparse.Namespace, machine: dict[str, object]) -> None:
    photos = face_set(args.data / f"faces-12mp-{args.face_photos}", args.face_photos)
    emit(section="faces", kind="setup", photos=len(photos), mb=warm(photos), **machine)
    rates: dict[bool, list[float]] = {False: [], True: []}
    for r in range(args.rounds):
        for faces in ((False, True) if r % 2 == 0 else (True, False)):
            run = bench.index(photos[0].parent, clip=True, faces=faces)
            rates[faces].append(run["photos_per_s"])
            emit(section="faces", kind="glimpse", round=r, faces=faces, **run)
    off, on = median(rates[False]), median(rates[True])
    emit(section="faces", kind="summary", photos=len(photos), rounds=args.rounds,
         off_photos_per_s=round(off, 2), on_photos_per_s=round(on, 2),
         on_over_off=ratio(on, off), target_on_over_off=0.6, **machine)


# --------------------------------------------------------------------------- plain (issue 2)


def bench_plain(photos: list[Path], args: argparse.Namespace, machine: dict[str, object],
                work: Path) -> None:
    os.environ[ENV_MODELS] = str(work / "no-models")   # nothing to embed
    workers = os.cpu_count() or 1
    mb = warm(photos)
    # Alternate the two measurements and keep the best of each, so a noisy neighbour on
    # the machine skews both alike instead of one.
    ceilings: list[float] = []
    firsts: list[tuple[float, float, int, int]] = []
    for run in range(args.rounds):
        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(draft_decode, photos))
        ceilings.append(len(photos) / (time.perf_counter() - t0))
        os.environ[ENV_CACHE] = str(work / f"plain{run}.cache")
        with Library.open(work / f"plain{run}.sqlite3") as lib:
            lib.set_faces(False)
            lib.add_root(photos[0].parent)
            t0 = time.perf_counter()
            report = lib.index()
            elapsed = time.perf_counter() - t0
            firsts.append((report.new / elapsed, elapsed, report.new, report.errors))
        shutil.rmtree(work / f"plain{run}.cache", ignore_errors=True)
    ceiling = max(ceilings)
    emit(section="plain", metric="ceiling_draft_decode", photos=len(photos), mb=mb,
         photos_per_s=round(ceiling, 2), runs=[round(c, 2) for c in ceilings], **machine)
    first, elapsed, new, errors = max(firsts)
    emit(section="plain", metric="first_pass", photos=new, errors=errors,
         seconds=round(elapsed, 2), photos_per_s=round(first, 2),
         runs=[round(f[0], 2) for f in firsts], ratio_to_ceiling=round(first / ceiling, 3),
         target_ratio=0.8, **machine)
    if args.rescan_files <= 0:
        return
    small = make_photos(args.data / f"small-{args.rescan_files}", args.rescan_files, (64, 48))
    os.environ[ENV_CACHE] = str(work / "rescan.cache")
    with Library.open(work / "rescan.sqlite3") as lib:
        lib.set_faces(False)
        lib.add_root(small[0].parent)
        t0 = time.perf_counter()
        report = lib.index()
        emit(section="plain", metric="small_files_first_pass", files=report.new,
             seconds=round(time.perf_counter() - t0, 2), **machine)
        timings = []
        for _ in range(3):
            t0 = time.perf_counter()
            again = lib.index()
            timings.append(time.perf_counter() - t0)
        emit(section="plain", metric="no_change_rescan", files=again.unchanged,
             seconds_best=round(min(timings), 3), seconds_all=[round(t, 3) for t in timings],
             target_seconds=2.0, **machine)


# --------------------------------------------------------------------------- main


def pin_cpus(n: int | None) -> None:
    """Run this process and every process it starts (glimpse, rclip) on the same first
    ``n`` CPUs, so both tools get the same cores however many the machine has."""
    if n is None:
        return
    if not hasattr(os, "sched_setaffinity"):
        raise SystemExit("--cpus needs Linux (sched_setaffinity)")
    cpus = sorted(os.sched_getaffinity(0))[:n]
    os.sched_setaffinity(0, cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--photos", type=int, default=300, help="12 MP photos (clip, plain)")
    ap.add_argument("--face-photos", type=int, default=300, help="12 MP photos with faces")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sections", default="clip,faces,plain",
                    help=f"any of {', '.join(SECTIONS)} (rclip runs in clip, with --rclip)")
    ap.add_argument("--rclip", type=Path, default=None, help="rclip's executable (its venv)")
    ap.add_argument("--rescan-files", type=int, default=10_000)
    ap.add_argument("--cpus", type=int, default=None, help="pin everything to N CPUs")
    ap.add_argument("--threads", type=int, default=None, help="sets GLIMPSE_THREADS")
    ap.add_argument("--arch", default="ViT-B-32")
    ap.add_argument("--data", type=Path, default=Path(__file__).parent / "out",
                    help="where generated photos (and rclip's model) are kept between runs")
    args = ap.parse_args()
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    unknown = sorted(sections - set(SECTIONS))
    if unknown:
        ap.error(f"unknown sections {unknown}")
    if args.rclip is not None and not os.access(args.rclip, os.X_OK):
        ap.error(f"--rclip {args.rclip} is not an executable")
    pin_cpus(args.cpus)
    if args.threads is not None:
        os.environ["GLIMPSE_THREADS"] = str(args.threads)
    machine = {"cpus": os.cpu_count(), "machine": platform.machine(),
               "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count(), "python": platform.python_version(),
               "threads": os.environ.get("GLIMPSE_THREADS")}

    photos = make_photos(args.data / f"12mp-{args.photos}", args.photos, (4000, 3000))
    work = Path(tempfile.mkdtemp(prefix="glimpse-bench-ingest-"))
    saved = {k: os.environ.get(k) for k in (ENV_CACHE, ENV_MODELS)}
    try:
        if sections & {"clip", "faces"}:
            bench = Bench(work, args.arch)
            if "clip" in sections:
                bench_clip(bench, photos, args, machine)
            if "faces" in sections:
                bench_faces(bench, args, machine)
        if "plain" in sections:
            bench_plain(photos, args, machine, work)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)
    if resource is not None:  # peak memory of this process (children are their own)
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        emit(metric="peak_rss", mb=round(peak_kb / 1024, 1), **machine)


if __name__ == "__main__":
    main()
