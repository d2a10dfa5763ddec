"""Image tower benchmark: prints JSON lines, asserts nothing (not part of the test suite).

The CLIP image tower (random ViT-B/32 weights, installed through `Library.add_model` as a
person's weights are, so they are converted to ONNX the way the app converts them) on every
runtime in one process, interleaved: each round runs --batches batches of --batch images on
each runtime in turn (the order rotates every round, and a short pause between runtimes lets
the previous one's threads go idle), so a noisy neighbour slows all alike. Threads: the model's
share of `kernel.threads` (``--threads`` sets GLIMPSE_THREADS).

  torch_fp32     open_clip on torch, fp32 (built here from open_clip: the reference)
  torch_bf16     the same with the image tower's weights cast to bf16 (Glimpse's path before
                 issue 17: the baseline)
  ort_fp32       ONNX Runtime, the app's exported ``visual`` file
  ort_int8       ONNX Runtime, the app's ``visual_int8`` file (dynamic quantisation)
  ov_f32         OpenVINO on the CPU, ``visual``, inference precision f32
  ov_bf16        OpenVINO on the CPU, ``visual``, inference precision bf16 (where the CPU has
                 no bf16 OpenVINO runs f32: ``executed`` says what ran)
  choice         `ClipModel.encode_pixels` as the app runs it (the runtime it measured once)

Lines: ``setup``; ``cosine`` per runtime (its embeddings of the real photos of
tests/facephotos, prepared by `ClipModel.pixels`, against torch fp32: min and mean); ``rate``
per runtime (median img/s over the rounds, and every round's); ``ratio``: choice / torch_bf16
(target >= 2.3) and choice / the fastest runtime measured (target >= 0.85).

    python bench/embed.py [--rounds 5] [--batches 3] [--batch 32] [--threads N]
                          [--runtimes torch_fp32,torch_bf16,...] [--arch ViT-B-32]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

RUNTIMES = ("torch_fp32", "torch_bf16", "ort_fp32", "ort_int8", "ov_f32", "ov_bf16", "choice")
Encoder = Callable[[np.ndarray], np.ndarray]


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "embed", **fields}), flush=True)


def install_random_model(models: Path, arch: str, image_size: int, dim: int,
                         seed: int = 0) -> str:
    """Random ``arch`` weights saved beside ``models`` and listed in its manifest.d, ready
    for `Library.add_model` (the way a person adds weights). Returns ``"weights|model_id"``."""
    import open_clip
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = open_clip.create_model(arch, pretrained=None)
    weights = models.parent / f"{arch}-random.pt"
    torch.save(model.state_dict(), weights)
    model_id = f"bench-{arch.lower()}"
    (models / "manifest.d").mkdir(parents=True, exist_ok=True)
    (models / "manifest.d" / "bench.json").write_text(json.dumps({"clip": [{
        "id": model_id, "arch": arch, "dim": dim, "image_size": image_size,
        "file": "weights.pt", "urls": [], "licence": "random weights (benchmark)",
        "size": weights.stat().st_size,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}]}))
    return str(weights) + "|" + model_id


def machine_facts() -> dict[str, object]:
    from glimpse_desktop.kernel.runtime import cpu_name

    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count())
    return {"cpu": cpu_name(), "cores": cores, "machine": platform.machine(),
            "python": platform.python_version()}


def normalised(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


# --------------------------------------------------------------------------- runtimes


def nchw(batch: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """uint8 (N, S, S, 3) -> the exported graph's input: float32 (N, 3, S, S), normalised."""
    x = (batch.astype(np.float32) * (1 / 255.0) - mean) / std
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def torch_encoders(arch: str, weights: str, threads: int, mean: np.ndarray, std: np.ndarray,
                   wanted: set[str]) -> dict[str, Encoder]:
    """torch fp32 and torch with the image tower cast to bf16, built from open_clip directly
    (the app no longer runs torch)."""
    if not wanted & {"torch_fp32", "torch_bf16"}:
        return {}
    import copy

    import open_clip
    import torch

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    model = open_clip.create_model(arch, pretrained=weights, precision="fp32",
                                   device="cpu").eval()
    out: dict[str, Encoder] = {}

    def runner(visual: Any, dtype: Any) -> Encoder:
        def run(batch: np.ndarray) -> np.ndarray:
            x = torch.from_numpy(nchw(batch, mean, std)).to(dtype)
            with torch.inference_mode():
                return normalised(visual(x).float().numpy())
        return run

    if "torch_fp32" in wanted:
        out["torch_fp32"] = runner(model.visual, torch.float32)
    if "torch_bf16" in wanted:
        out["torch_bf16"] = runner(copy.deepcopy(model.visual).to(torch.bfloat16),
                                   torch.bfloat16)
    return out


def ort_encoder(path: Path, threads: int, mean: np.ndarray, std: np.ndarray
                ) -> tuple[Encoder, str]:
    from glimpse_desktop.kernel import runtime

    ort = runtime.onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    providers = [p for p in runtime.available_providers()
                 if p in ("CUDAExecutionProvider", "CPUExecutionProvider")][:1]
    if providers != ["CPUExecutionProvider"]:
        providers.append("CPUExecutionProvider")
    session = ort.InferenceSession(str(path), options, providers=providers)
    name = session.get_inputs()[0].name

    def run(batch: np.ndarray) -> np.ndarray:
        return normalised(session.run(None, {name: nchw(batch, mean, std)})[0])
    return run, session.get_providers()[0]


def ov_encoder(path: Path, threads: int, precision: str, mean: np.ndarray, std: np.ndarray
               ) -> tuple[Encoder, str]:
    from glimpse_desktop.kernel import runtime

    core = runtime.openvino_core()
    compiled = core.compile_model(str(path), "CPU", {
        "INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": threads,
        "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()

    def run(batch: np.ndarray) -> np.ndarray:
        request.infer({0: nchw(batch, mean, std)})
        return normalised(np.array(request.get_output_tensor(0).data))
    executed = compiled.get_property("INFERENCE_PRECISION_HINT")
    return run, str(getattr(executed, "get_type_name", lambda: executed)())


def choice_name(clip: Any) -> str:
    choice = getattr(clip, "choice", None)
    runtime = getattr(choice, "runtime", "?")
    return f"{runtime}:{clip.precision} on {clip.device}"


def choice_facts(clip: Any) -> dict[str, object]:
    """What the app measured when it chose (its own figures, from its own timing)."""
    import dataclasses

    choice = getattr(clip, "choice", None)
    if choice is None or not dataclasses.is_dataclass(choice):
        return {"why": str(getattr(clip, "choice_reason", ""))}
    facts = dataclasses.asdict(choice)
    facts.pop("key", None)
    return json.loads(json.dumps(facts, default=str))


# --------------------------------------------------------------------------- the run


def real_photo_pixels(clip: Any) -> np.ndarray:
    """The real photographs of tests/facephotos as the app prepares them for the tower."""
    from PIL import Image

    from tests import facephotos

    pixels = []
    for path in sorted(facephotos.photos().glob("*.jpg")):
        with Image.open(path) as im:
            pixels.append(clip.pixels(im.convert("RGB")))
    return np.stack(pixels)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batches", type=int, default=3, help="batches per runtime per round")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None, help="sets GLIMPSE_THREADS")
    ap.add_argument("--runtimes", default=",".join(RUNTIMES))
    ap.add_argument("--arch", default="ViT-B-32")
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--settle", type=float, default=0.5,
                    help="seconds of pause between runtimes (their threads go idle)")
    args = ap.parse_args()
    wanted = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    unknown = sorted(set(wanted) - set(RUNTIMES))
    if unknown:
        ap.error(f"unknown runtimes {unknown}; choose from {', '.join(RUNTIMES)}")
    if args.threads is not None:
        os.environ["GLIMPSE_THREADS"] = str(args.threads)

    from glimpse_desktop.api import Library
    from glimpse_desktop.kernel.paths import ENV_MODELS
    from glimpse_desktop.kernel.threads import budget
    from glimpse_desktop.search.export import ensure_exported

    with tempfile.TemporaryDirectory(prefix="glimpse-bench-embed-") as tmp_name:
        tmp = Path(tmp_name)
        models = tmp / "models"
        models.mkdir()
        os.environ[ENV_MODELS] = str(models)
        weights, model_id = install_random_model(models, args.arch, args.image_size,
                                                 args.dim).split("|")
        lib = Library.open(tmp / "lib" / "library.sqlite3")
        t0 = time.perf_counter()
        lib.add_model(model_id, weights)
        add_seconds = time.perf_counter() - t0
        lib.use_model(model_id)
        installed = lib.models.require(model_id)
        files = ensure_exported(installed)
        t0 = time.perf_counter()
        clip = lib.semantic.model(model_id).load()
        load_seconds = time.perf_counter() - t0
        threads = budget().model
        mean = np.asarray(clip.mean, np.float32)
        std = np.asarray(clip.std, np.float32)

        encoders: dict[str, Encoder] = {}
        executed: dict[str, str] = {}
        encoders.update(torch_encoders(args.arch, weights, threads, mean, std, set(wanted)))
        for name in ("torch_fp32", "torch_bf16"):
            executed[name] = "cpu"
        if "ort_fp32" in wanted:
            encoders["ort_fp32"], executed["ort_fp32"] = ort_encoder(files.visual, threads,
                                                                     mean, std)
        if "ort_int8" in wanted:
            if files.visual_int8.is_file():
                encoders["ort_int8"], executed["ort_int8"] = ort_encoder(
                    files.visual_int8, threads, mean, std)
            else:
                emit(kind="skipped", runtime="ort_int8",
                     why="no visual_int8 file: quantisation did not keep cosine 0.99")
        for name, precision in (("ov_f32", "f32"), ("ov_bf16", "bf16")):
            if name in wanted:
                encoders[name], executed[name] = ov_encoder(files.visual, threads, precision,
                                                            mean, std)
        if "choice" in wanted:
            encoders["choice"] = clip.encode_pixels
        emit(kind="setup", arch=args.arch, batch=args.batch, batches=args.batches,
             rounds=args.rounds, threads=threads, runtimes=list(encoders),
             add_model_seconds=round(add_seconds, 1), load_seconds=round(load_seconds, 2),
             **machine_facts())

        # Agreement with fp32 on real photographs (random weights: the check is that the
        # runtime computes the same function, not that the embeddings mean anything).
        photos = real_photo_pixels(clip)
        reference = encoders["torch_fp32"](photos) if "torch_fp32" in encoders else None
        for name, encode in encoders.items():
            emb = encode(photos)   # also the warm-up: first runs build kernels
            if reference is not None:
                cos = np.sum(reference * normalised(emb), axis=1)
                emit(kind="cosine", runtime=name, photos=len(photos),
                     min=round(float(cos.min()), 6), mean=round(float(cos.mean()), 6))
        if "choice" in encoders:
            # The app measures its runtimes on the first batch of photos it embeds: the
            # cosine pass above, in this run (unless GLIMPSE_RUNTIME forces one).
            executed["choice"] = choice_name(clip)
            emit(kind="choice", chosen=executed["choice"], **choice_facts(clip))

        rng = np.random.default_rng(0)
        batch = rng.integers(0, 256, (args.batch, args.image_size, args.image_size, 3),
                             np.uint8)
        names = list(encoders)
        rates: dict[str, list[float]] = {n: [] for n in names}
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                time.sleep(args.settle)
                started = time.perf_counter()
                for _ in range(args.batches):
                    encoders[name](batch)
                rates[name].append(args.batches * args.batch / (time.perf_counter() - started))
        median = {n: statistics.median(v) for n, v in rates.items()}
        for name in names:
            emit(kind="rate", runtime=name, executed=executed.get(name),
                 images_per_s=round(median[name], 2), runs=[round(v, 2) for v in rates[name]])
        if "choice" in median:
            others = {n: v for n, v in median.items() if n != "choice"}
            fastest = max(others, key=others.__getitem__) if others else None
            emit(kind="ratio", choice=executed.get("choice"),
                 choice_over_torch_bf16=(round(median["choice"] / median["torch_bf16"], 3)
                                         if "torch_bf16" in median else None),
                 target_over_torch_bf16=2.3, fastest=fastest,
                 choice_over_fastest=(round(median["choice"] / others[fastest], 3)
                                      if fastest else None),
                 target_over_fastest=0.85)
        lib.close()


if __name__ == "__main__":
    main()
