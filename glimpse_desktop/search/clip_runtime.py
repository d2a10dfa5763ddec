"""The runtimes the CLIP image tower can run on, and the measurement that picks one.

The candidates on a computer are OpenVINO on each of its devices (bf16 or fp16 where the
device offers it, and fp32) and ONNX Runtime on its best execution provider (the int8 export
and fp32). The reference is ONNX Runtime fp32 on the CPU: a candidate is eligible only if
every embedding it gives is within ``MIN_COSINE`` of the reference's *on the person's own
photos* (the first real batch asked for, not random pixels: reduced precision that is fine on
noise can drift on photographs, and the other way round). The fastest eligible candidate wins.

The measurement is made once per (model, runtime versions, CPU/GPU) and remembered beside the
weights (``runtime.json``); a change of any of these measures again. ``GLIMPSE_RUNTIME``
(``openvino:bf16``, ``onnxruntime:int8``, ``onnxruntime:fp32``, optionally ``:DEVICE``) forces
one candidate without measuring.

Nothing here imports torch or open_clip.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from glimpse_desktop.kernel import runtime
from glimpse_desktop.kernel.registry import Installed, ModelError
from glimpse_desktop.kernel.threads import budget

log = logging.getLogger(__name__)

__all__ = ["ENV_RUNTIME", "MEASURE_MIN_IMAGES", "MIN_COSINE", "NOT_MEASURED", "REFERENCE",
           "Backend", "ModelRuntime", "RuntimeChoice", "RuntimeFigure", "Spec", "candidates",
           "choice_key", "current_choice", "forced_choice", "forced_spec", "make_backend",
           "measure", "model_runtime", "normalised", "remember", "remembered"]

ENV_RUNTIME = "GLIMPSE_RUNTIME"
# A candidate is used only where it keeps every embedding this close to fp32's.
MIN_COSINE = 0.99
# The measurement waits for a batch of at least this many photos (one photo says little
# about drift, and times badly).
MEASURE_MIN_IMAGES = 4
# Timed rounds after one warm-up run each; every round runs every candidate once, and each
# keeps its fastest run (see ``_timed``).
TIMED_RUNS = 3
CHOICE_FILE = "runtime.json"
# Precision names as Glimpse shows them, and as OpenVINO's INFERENCE_PRECISION_HINT takes them.
_OV_PRECISION = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}


@dataclass(frozen=True, slots=True)
class Spec:
    """One way to run the image tower.

    ``runtime``: 'openvino' or 'onnxruntime'. ``device``: an OpenVINO device ('CPU', 'GPU') or
    an ONNX Runtime execution provider ('CPUExecutionProvider', 'CUDAExecutionProvider', ...).
    ``precision``: 'fp32', 'bf16', 'fp16' (OpenVINO's inference precision) or 'int8' (ONNX
    Runtime on the dynamically quantised export).
    """

    runtime: str
    device: str
    precision: str

    @property
    def name(self) -> str:
        """'openvino:bf16:CPU' (the form ``GLIMPSE_RUNTIME`` takes)."""
        return f"{self.runtime}:{self.precision}:{self.device}"


REFERENCE = Spec("onnxruntime", "CPUExecutionProvider", "fp32")


@dataclass(frozen=True, slots=True)
class RuntimeFigure:
    """One candidate as measured.

    ``images_per_s``: the rate of its fastest timed run over the measured batch (None when it
    did not run).
    ``cosine``: the lowest cosine similarity of any of its embeddings to the reference's.
    ``problem``: why it was not eligible (it failed to compile or run, or drifted below
    ``MIN_COSINE``); None when it was.
    """

    runtime: str
    device: str
    precision: str
    images_per_s: float | None = None
    cosine: float | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class RuntimeChoice:
    """How the image tower runs on this computer, and why.

    ``runtime``, ``device``, ``precision``: the candidate chosen (see ``Spec``). ``images_per_s``
    and ``cosine``: its measured figures (None when forced). ``why``: one sentence.
    ``images``: how many of the person's photos the measurement ran on. ``measured_at``: when
    (seconds since the epoch; None when forced). ``forced``: chosen by ``GLIMPSE_RUNTIME``, not
    measured. ``candidates``: every candidate's figures. ``key``: what the measurement is valid
    for (model digest, runtime versions, CPU and GPU names): another key measures again.
    """

    runtime: str
    device: str
    precision: str
    images_per_s: float | None
    cosine: float | None
    why: str
    images: int = 0
    measured_at: float | None = None
    forced: bool = False
    candidates: tuple[RuntimeFigure, ...] = field(default=())
    key: str = ""

    @property
    def spec(self) -> Spec:
        return Spec(self.runtime, self.device, self.precision)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape (also the remembered file's)."""
        out = asdict(self)
        out["candidates"] = [asdict(c) for c in self.candidates]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuntimeChoice:
        """The record of ``as_dict()`` (ValueError/TypeError/KeyError for anything else)."""
        figures = tuple(RuntimeFigure(**c) for c in data.get("candidates", ()))
        values = {k: v for k, v in data.items() if k != "candidates"}
        return cls(**values, candidates=figures)


class Backend(Protocol):
    """A compiled image tower: float32 (N, 3, S, S) normalised pixels in, raw (N, dim)
    embeddings out. ``spec.device`` is where it really runs (a provider may fall back)."""

    spec: Spec

    def run(self, x: np.ndarray) -> np.ndarray: ...


class OpenVinoBackend:
    """The ONNX file read and compiled by OpenVINO once, one inference request reused."""

    def __init__(self, path: Path, spec: Spec, threads: int) -> None:
        core = runtime.openvino_core()
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY",
                                  "INFERENCE_PRECISION_HINT": _OV_PRECISION[spec.precision]}
        if spec.device == "CPU":
            config["INFERENCE_NUM_THREADS"] = max(1, threads)
            # The cores are shared with the decoders and the face models: pinned threads
            # would fight them for fixed cores.
            config["ENABLE_CPU_PINNING"] = False
        self.spec = spec
        self._compiled = core.compile_model(core.read_model(str(path)), spec.device, config)
        self._request = self._compiled.create_infer_request()
        first = self._compiled.input(0).get_partial_shape()[0]
        self._batch = first.get_length() if first.is_static else None

    def _run(self, x: np.ndarray) -> np.ndarray:
        self._request.infer({0: x})
        return np.array(self._request.get_output_tensor(0).data, dtype=np.float32)

    def run(self, x: np.ndarray) -> np.ndarray:
        return _in_chunks(self._run, x, self._batch)


class OnnxBackend:
    """An ONNX Runtime session on one provider (the CPU behind it for what it cannot run)."""

    def __init__(self, path: Path, spec: Spec, threads: int, cache: Path) -> None:
        ort = runtime.onnxruntime()
        providers: list[Any] = []
        if spec.device == "TensorrtExecutionProvider":
            # Building a TensorRT engine takes minutes: keep it beside the model.
            providers.append((spec.device, {"trt_engine_cache_enable": True,
                                            "trt_engine_cache_path": str(cache)}))
        elif spec.device != "CPUExecutionProvider":
            providers.append(spec.device)
        providers.append("CPUExecutionProvider")
        self._session = ort.InferenceSession(str(path), runtime.session_options(threads),
                                             providers=providers)
        actual = self._session.get_providers()[0]
        if actual != spec.device:
            raise RuntimeError(f"{spec.device} is not usable here (the session fell back to "
                               f"{actual})")
        self.spec = spec
        first = self._session.get_inputs()[0]
        self._input = first.name
        self._batch = first.shape[0] if isinstance(first.shape[0], int) else None

    def _run(self, x: np.ndarray) -> np.ndarray:
        out = self._session.run(None, {self._input: x})[0]
        return np.asarray(out, dtype=np.float32)

    def run(self, x: np.ndarray) -> np.ndarray:
        return _in_chunks(self._run, x, self._batch)


def _in_chunks(run: Callable[[np.ndarray], np.ndarray], x: np.ndarray, batch: int | None
               ) -> np.ndarray:
    """``run`` over ``x`` whole, or ``batch`` rows at a time where the export fixed its batch
    size (trusted exports may be made for N = 1)."""
    if batch is None or batch <= 0 or len(x) == batch:
        return run(x)
    parts = []
    for start in range(0, len(x), batch):
        chunk = x[start:start + batch]
        if len(chunk) < batch:   # pad the last chunk to the fixed size, keep only its rows
            pad = np.zeros((batch - len(chunk), *chunk.shape[1:]), dtype=chunk.dtype)
            parts.append(run(np.concatenate([chunk, pad]))[:len(chunk)])
        else:
            parts.append(run(chunk))
    return np.concatenate(parts)


def make_backend(spec: Spec, visual: Path, visual_int8: Path, threads: int) -> Backend:
    """Compile ``spec`` (any error of the runtime propagates: the caller skips it)."""
    if spec.runtime == "openvino":
        if spec.precision not in _OV_PRECISION:
            raise ValueError(f"OpenVINO runs fp32, bf16 or fp16, not {spec.precision}")
        return OpenVinoBackend(visual, spec, threads)
    if spec.runtime == "onnxruntime":
        if spec.precision == "int8":
            if not visual_int8.is_file():
                raise FileNotFoundError("no int8 export of this model (quantising it moved "
                                        "embeddings too far from fp32, or it was not made)")
            path = visual_int8
        elif spec.precision == "fp32":
            path = visual
        else:
            raise ValueError(f"ONNX Runtime runs the fp32 or int8 file, not {spec.precision}")
        return OnnxBackend(path, spec, threads, visual.parent)
    raise ValueError(f"unknown runtime {spec.runtime!r}")


def _cpu_only() -> bool:
    return os.environ.get("GLIMPSE_DEVICE", "").strip().lower() == "cpu"


def candidates() -> list[Spec]:
    """What may run the image tower here: OpenVINO on each of its devices (reduced precision
    where the device offers it, and fp32), then ONNX Runtime int8 and fp32 on the best
    provider (the reference, fp32 on the CPU, always among them). ``GLIMPSE_DEVICE=cpu``
    keeps to the CPU."""
    out: list[Spec] = []
    try:
        core = runtime.openvino_core()
        for device in core.available_devices:
            device = str(device)
            if _cpu_only() and device != "CPU":
                continue
            try:
                caps = set(core.get_property(device, "OPTIMIZATION_CAPABILITIES"))
            except RuntimeError:
                caps = set()
            reduced = "bf16" if device == "CPU" else "fp16"
            if reduced.upper() in caps:
                out.append(Spec("openvino", device, reduced))
            out.append(Spec("openvino", device, "fp32"))
    except ImportError as exc:      # the openvino package is optional at run time
        log.info("OpenVINO is not available: %s", exc)
    providers = runtime.available_providers()
    best = providers[0] if providers and not _cpu_only() else "CPUExecutionProvider"
    out.append(Spec("onnxruntime", best, "int8"))
    out.append(Spec("onnxruntime", best, "fp32"))
    if best != REFERENCE.device:
        out.append(REFERENCE)
    return out


def forced_spec() -> Spec | None:
    """The candidate ``GLIMPSE_RUNTIME`` names (None when unset). ModelError for a value that
    names none: 'runtime:precision' or 'runtime:precision:device'."""
    value = os.environ.get(ENV_RUNTIME, "").strip()
    if not value:
        return None
    parts = value.split(":")
    runtime_name = parts[0].lower()
    precision = parts[1].lower() if len(parts) > 1 else "fp32"
    precision = {"f32": "fp32", "f16": "fp16"}.get(precision, precision)
    allowed = {"openvino": ("fp32", "bf16", "fp16"), "onnxruntime": ("fp32", "int8")}
    if len(parts) > 3 or runtime_name not in allowed or precision not in allowed[runtime_name]:
        raise ModelError(
            f"{ENV_RUNTIME}={value!r} names no runtime: use openvino:bf16, openvino:fp32, "
            "onnxruntime:int8 or onnxruntime:fp32 (optionally :DEVICE after it)",
            code="models.bad_runtime", values={"value": value})
    if len(parts) == 3 and parts[2]:
        device = parts[2]
    elif runtime_name == "openvino":
        device = "CPU"
    else:
        providers = runtime.available_providers()
        device = providers[0] if providers else REFERENCE.device
    return Spec(runtime_name, device, precision)


def choice_key(installed: Installed, visual: Path, visual_int8: Path) -> str:
    """What a measurement is valid for: the model (weights digest and its exported files), the
    runtimes' versions, the CPU and GPUs, the providers this install offers, and the threads
    the model is given (the ranking of runtimes changes with them: GLIMPSE_THREADS)."""
    def size(path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            return 0

    parts = [f"model {installed.sha256} visual {size(visual)} int8 {size(visual_int8)}",
             f"onnxruntime {runtime.package_version('onnxruntime') or '-'}",
             f"openvino {runtime.package_version('openvino') or '-'}",
             f"cpu {runtime.cpu_name()}", f"gpu {', '.join(runtime.gpu_names()) or '-'}",
             f"providers {','.join(runtime.available_providers())}",
             f"device {'cpu' if _cpu_only() else 'any'}", f"threads {budget().model}"]
    return " | ".join(parts)


def remembered(installed: Installed) -> RuntimeChoice | None:
    """The measurement remembered for ``installed`` (any key; None when there is none or the
    file is damaged)."""
    try:
        data = json.loads(installed.derived(CHOICE_FILE).read_text("utf-8"))
        return RuntimeChoice.from_dict(data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def remember(installed: Installed, choice: RuntimeChoice) -> None:
    """Keep ``choice`` beside the weights (written whole or not at all)."""
    path = installed.derived(CHOICE_FILE)
    # A name of its own: another process (the GUI and a command-line index) may be
    # remembering its measurement of the same model at the same moment.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        tmp.write_text(json.dumps(choice.as_dict(), indent=1), "utf-8")
        os.replace(tmp, path)
    except OSError as exc:      # measured again next time: slower, not wrong
        log.warning("could not remember the runtime choice in %s: %s", path, exc)
    finally:
        tmp.unlink(missing_ok=True)


def normalised(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero)."""
    x = x.astype(np.float32, copy=False)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(x / norms, dtype=np.float32)


def _timed(backends: list[Backend], x: np.ndarray) -> list[float | Exception]:
    """Images per second of each of ``backends`` (already warmed up) on ``x``, or the error
    it raised. The runs are interleaved, round by round, and each keeps its fastest: the
    measurement shares the computer with indexing (the decoders busy filling their queue
    while the first candidates run, then idle), and another load only ever slows a run, so
    timing one candidate after another would let the load pick the winner."""
    fastest = [float("inf")] * len(backends)
    errors: dict[int, Exception] = {}
    for _ in range(TIMED_RUNS):
        for i, backend in enumerate(backends):
            if i in errors:
                continue
            started = time.perf_counter()
            try:
                backend.run(x)
            except Exception as exc:  # any runtime error: this candidate is out, not indexing
                errors[i] = exc
                continue
            fastest[i] = min(fastest[i], time.perf_counter() - started)
    return [errors.get(i) or len(x) / max(t, 1e-9) for i, t in enumerate(fastest)]


def measure(x: np.ndarray, reference: Backend, make: Callable[[Spec], Backend], key: str,
            specs: list[Spec]) -> tuple[RuntimeChoice, Backend]:
    """Time every candidate of ``specs`` on ``x`` (normalised pixels of real photos) and keep
    the fastest whose every embedding is within ``MIN_COSINE`` of ``reference``'s. A candidate
    that fails to compile or run is skipped with the reason. Returns the choice and its
    backend (the reference when nothing else qualifies)."""
    # Each is compiled and run once first (kernels are built on first use), which also gives
    # its embeddings; then all are timed together (``_timed``).
    ref = normalised(reference.run(x))
    ready: dict[Spec, tuple[Backend, np.ndarray]] = {}
    failed: dict[Spec, Exception] = {}
    for spec in specs:
        if spec == reference.spec or spec in ready or spec in failed:
            continue
        try:
            backend = make(spec)
            ready[spec] = (backend, normalised(backend.run(x)))
        except Exception as exc:  # any runtime error: this candidate is out, not indexing
            failed[spec] = exc
    ref_rate, *timings = _timed([reference, *(b for b, _ in ready.values())], x)
    if isinstance(ref_rate, Exception):
        raise ref_rate
    rates = dict(zip(ready, timings, strict=True))
    figures: list[RuntimeFigure] = []
    best: tuple[float, RuntimeFigure, Backend] | None = None
    for spec in specs:
        if spec == reference.spec:
            figure = RuntimeFigure(spec.runtime, spec.device, spec.precision,
                                   images_per_s=round(ref_rate, 2), cosine=1.0)
            backend = reference
        else:
            rate = failed[spec] if spec in failed else rates[spec]
            if isinstance(rate, Exception):
                log.info("runtime %s skipped: %s", spec.name, rate)
                figures.append(RuntimeFigure(spec.runtime, spec.device, spec.precision,
                                             problem=f"{type(rate).__name__}: {rate}"))
                continue
            backend, emb = ready[spec]
            cosine = float(np.min(np.sum(ref * emb, axis=1)))
            if not np.isfinite(cosine):  # NaN/inf out of a reduced precision (fp16 overflow)
                cosine = -1.0            # ineligible, and still valid JSON in runtime.json
            problem = (None if cosine >= MIN_COSINE else
                       f"embeddings drift from fp32 (cosine {cosine:.4f} < {MIN_COSINE})")
            figure = RuntimeFigure(spec.runtime, spec.device, spec.precision,
                                   images_per_s=round(rate, 2), cosine=round(cosine, 6),
                                   problem=problem)
        figures.append(figure)
        rate_of = figure.images_per_s or 0.0
        if figure.problem is None and (best is None or rate_of > best[0]):
            best = (rate_of, figure, backend)
    if best is None:     # the reference is always eligible, but it may not be a candidate
        chosen = RuntimeFigure(reference.spec.runtime, reference.spec.device,
                               reference.spec.precision, images_per_s=round(ref_rate, 2),
                               cosine=1.0)
        best = (ref_rate, chosen, reference)
        figures.append(chosen)
    rate, chosen, backend = best
    others = sorted((f for f in figures if f is not chosen and f.problem is None),
                    key=lambda f: -(f.images_per_s or 0.0))
    why = (f"fastest of {len(figures)} measured on {len(x)} of your photos: "
           f"{rate:.1f} images/s, cosine {chosen.cosine:.4f} to fp32")
    if others and others[0].images_per_s:
        runner = others[0]
        where = runner.device.removesuffix("ExecutionProvider")
        why += (f"; next {runner.runtime} {runner.precision} on {where} at "
                f"{runner.images_per_s:.1f} images/s")
    choice = RuntimeChoice(runtime=chosen.runtime, device=chosen.device,
                           precision=chosen.precision, images_per_s=chosen.images_per_s,
                           cosine=chosen.cosine, why=why, images=len(x),
                           measured_at=time.time(), candidates=tuple(figures), key=key)
    return choice, backend


def forced_choice(spec: Spec, key: str) -> RuntimeChoice:
    """The record of a candidate forced by ``GLIMPSE_RUNTIME`` (not measured)."""
    return RuntimeChoice(runtime=spec.runtime, device=spec.device, precision=spec.precision,
                         images_per_s=None, cosine=None, forced=True, key=key,
                         why=f"forced by {ENV_RUNTIME}={os.environ.get(ENV_RUNTIME, '')}")


NOT_MEASURED = "not measured yet (measured the first time photos are embedded)"


def current_choice(installed: Installed) -> tuple[RuntimeChoice | None, str]:
    """How ``installed``'s image tower runs on this computer as far as is known without
    running it: (the forced or remembered choice, or None; why, in a sentence)."""
    from glimpse_desktop.search.export import exported

    files = exported(installed)
    key = choice_key(installed, files.visual, files.visual_int8)
    try:
        spec = forced_spec()
    except ModelError as exc:
        return None, str(exc)
    if spec is not None:
        choice = forced_choice(spec, key)
        return choice, choice.why
    saved = remembered(installed)
    if saved is None:
        return None, NOT_MEASURED
    if saved.key != key:
        return None, ("measured again the next time photos are embedded (the model, the "
                      "runtimes or this computer changed since the last measurement)")
    return saved, saved.why


@dataclass(frozen=True, slots=True)
class ModelRuntime:
    """How one installed search model's image tower runs on this computer (the doctor
    report): ``model`` its id, ``runtime`` the remembered or forced choice (None before the
    first measurement), ``why`` in a sentence."""

    model: str
    runtime: RuntimeChoice | None
    why: str


def model_runtime(installed: Installed) -> ModelRuntime:
    """``current_choice`` of ``installed`` as a record."""
    choice, why = current_choice(installed)
    return ModelRuntime(model=installed.entry.id, runtime=choice, why=why)
