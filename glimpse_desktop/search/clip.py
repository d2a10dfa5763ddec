"""CLIP on open_clip/torch: image and text embeddings, with the device and precision chosen by
measurement.

Pixels are prepared on the ingestion workers (``pixels``: resize + centre crop of the already
decoded image, no torch involved), so only the matrix work runs on the model's thread. The
preparation mirrors open_clip's own transform (shortest side to the model's size with the same
filter, centre crop with the same rounding) so embeddings match the reference; a test holds it
to cosine >= 0.99.

torch and open_clip take seconds to import, so nothing here imports them until ``load()``.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from glimpse_desktop.kernel.registry import Installed, ModelError, ModelFiles

log = logging.getLogger(__name__)

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
_FILTERS = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR,
            "nearest": Image.Resampling.NEAREST}
# Reduced precision is used only where it keeps every embedding this close to fp32.
MIN_COSINE = 0.99


def torch_threads() -> int:
    """Intra-op threads for torch on the CPU: every core the process may use, because the
    encoder is the bottleneck of ingestion and decode threads mostly wait on I/O and
    release the GIL."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, cores)


class ClipModel:
    """One CLIP model: lazy, locked, idempotent ``load()``; ``unload()`` frees it."""

    def __init__(self, installed: Installed, *, device: str | None = None) -> None:
        self.installed = installed
        self.entry = installed.entry
        self.model_id = installed.entry.id
        self.dim = installed.entry.dim
        self.image_size = installed.entry.image_size
        pre = installed.entry.preprocess
        self.mean = tuple(float(v) for v in pre.get("mean", OPENAI_MEAN))
        self.std = tuple(float(v) for v in pre.get("std", OPENAI_STD))
        self.interpolation = str(pre.get("interpolation", "bicubic"))
        self.resize_mode = str(pre.get("resize_mode", "shortest"))
        self._requested_device = device
        self._lock = threading.RLock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._input_dtype: Any = None
        self.device = "cpu"
        self.precision = "fp32"
        self.choice_reason = ""
        self.last_used = 0.0

    # ------------------------------------------------------------------ pixels (no torch)

    def pixels(self, image: Image.Image) -> np.ndarray:
        """The model's input for ``image`` as uint8 (S, S, 3): what open_clip's transform
        does before ToTensor/Normalize, done here on the worker that decoded the photo."""
        size = self.image_size
        img = image if image.mode == "RGB" else image.convert("RGB")
        resample = _FILTERS.get(self.interpolation, Image.Resampling.BICUBIC)
        w, h = img.size
        if self.resize_mode == "squash":
            img = img.resize((size, size), resample)
        else:
            # torchvision Resize(int): the short side becomes `size`, the long side is
            # truncated, not rounded.
            if w <= h:
                new_w, new_h = size, int(size * h / w)
            else:
                new_w, new_h = int(size * w / h), size
            if (new_w, new_h) != (w, h):
                img = img.resize((new_w, new_h), resample)
            w, h = img.size
            if (w, h) != (size, size):
                # torchvision CenterCrop rounds the offsets the same way.
                left = round((w - size) / 2.0)
                top = round((h - size) / 2.0)
                img = img.crop((left, top, left + size, top + size))
        return np.asarray(img, dtype=np.uint8)

    # ------------------------------------------------------------------ life cycle

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> ClipModel:
        """Build the model and load the weights (once; concurrent callers wait)."""
        with self._lock:
            if self._model is not None:
                return self
            started = time.monotonic()
            import torch

            # Denormal floats make some text queries 15x slower on x86 CPUs.
            torch.set_flush_denormal(True)
            model = self._build(torch)
            device = self._requested_device or pick_device(torch)
            model = model.to(device).eval()
            self.device = device
            if device == "cpu":
                torch.set_num_threads(torch_threads())
            self._model = model
            self.precision, self.choice_reason = self._choose_precision(torch)
            self.last_used = time.monotonic()
            log.info("loaded %s on %s/%s in %.1fs (%s)", self.model_id, self.device,
                     self.precision, time.monotonic() - started, self.choice_reason)
            return self

    def unload(self) -> None:
        with self._lock:
            self._model = None
            self._tokenizer = None
            self._input_dtype = None

    def _build(self, torch: Any) -> Any:
        import open_clip

        entry = self.entry
        weights = str(self.installed.weights)
        try:
            if entry.config is not None:
                self._register_config(open_clip)
            if entry.pretrained == "openai":
                model = open_clip.load_openai_model(weights, precision="fp32", device="cpu")
            else:
                # A file path as `pretrained`: open_clip loads it strictly (every weight
                # present, every shape right) as part of building the model.
                model = open_clip.create_model(entry.arch, pretrained=weights, precision="fp32",
                                               device="cpu")
            self._tokenizer = open_clip.get_tokenizer(entry.arch)
        except (RuntimeError, ValueError, KeyError, OSError, EOFError,
                pickle.UnpicklingError) as exc:   # torch.load of a file that is no checkpoint
            raise ModelError(
                f"the weights of {entry.id} at {weights} could not be loaded ({exc})",
                code="models.damaged", values={"model": entry.id, "path": str(weights)}
            ) from exc
        return model

    def _register_config(self, open_clip: Any) -> None:
        path = self.installed.derived("open_clip_config.json")
        # open_clip names a model config after its file: the architecture name it is used by.
        folder = path.parent / "configs"
        folder.mkdir(exist_ok=True)
        cfg_file = folder / f"{self.entry.arch}.json"
        text = json.dumps(self.entry.config)
        if not cfg_file.exists() or cfg_file.read_text("utf-8") != text:
            cfg_file.write_text(text, "utf-8")
        open_clip.add_model_config(cfg_file)

    # ------------------------------------------------------------------ precision

    def _choose_precision(self, torch: Any) -> tuple[str, str]:
        """fp32, or the image tower in bf16/fp16 where measured faster AND within MIN_COSINE
        of fp32 here. The weights are cast (autocast was slower than fp32 on the CPU); the
        text tower stays fp32 (queries are few, and its ONNX export needs fp32)."""
        candidates = {"cuda": ["fp16", "bf16"], "mps": ["fp16"]}.get(self.device, ["bf16"])
        cache = self.installed.derived("precision.json")
        key = f"{self.device}|{torch.__version__}|{_cpu_name()}"
        saved: dict[str, Any] = {}
        try:
            saved = json.loads(cache.read_text("utf-8"))
        except (OSError, ValueError):
            pass
        if saved.get("key") == key and saved.get("precision") in ("fp32", *candidates):
            precision = str(saved["precision"])
            if precision != "fp32":
                self._cast_visual(torch, precision)
            return precision, str(saved.get("why", ""))
        rng = np.random.default_rng(0)
        # The batch ingestion uses: speed-ups differ with the batch size. Measured once per
        # model and device (a few seconds), then remembered.
        sample = rng.integers(0, 256, (32, self.image_size, self.image_size, 3),
                              dtype=np.uint8)
        best, why = "fp32", "fp32: no faster precision on this device"
        base_time, base = self._timed(sample)
        fp32_visual = self._model.visual
        for precision in candidates:
            try:
                self._cast_visual(torch, precision)
                t, emb = self._timed(sample)
            except (RuntimeError, TypeError) as exc:  # unsupported here
                log.debug("precision %s unavailable: %s", precision, exc)
                self._restore_visual(torch, fp32_visual)
                continue
            cosine = float(np.min(np.sum(base * emb, axis=1)))
            if cosine >= MIN_COSINE and t < base_time * 0.9:
                best = precision
                why = (f"{precision}: {base_time / t:.1f}x faster than fp32 here, "
                       f"cosine {cosine:.4f}")
                break
            self._restore_visual(torch, fp32_visual)
            why = f"fp32: {precision} was {base_time / t:.2f}x the speed, cosine {cosine:.4f}"
        try:
            cache.write_text(json.dumps({"key": key, "precision": best, "why": why}), "utf-8")
        except OSError:
            pass
        return best, why

    def _cast_visual(self, torch: Any, precision: str) -> None:
        import copy

        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        self._model.visual = copy.deepcopy(self._model.visual).to(dtype)
        self._input_dtype = dtype

    def _restore_visual(self, torch: Any, visual: Any) -> None:
        self._model.visual = visual
        self._input_dtype = torch.float32

    def _timed(self, sample: np.ndarray) -> tuple[float, np.ndarray]:
        self.encode_pixels(sample[:4])  # warm-up: kernels are built per dtype
        started = time.perf_counter()
        emb = self.encode_pixels(sample)
        return time.perf_counter() - started, emb

    # ------------------------------------------------------------------ encoding

    def encode_pixels(self, batch: np.ndarray) -> np.ndarray:
        """Embeddings (n, dim), L2-normalised float32, of ``pixels()`` outputs stacked."""
        self.load()
        import torch

        with self._lock:
            self.load()      # again under the lock: an idle unload may have come between
            self.last_used = time.monotonic()
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
            x = x.permute(0, 3, 1, 2).float().div_(255.0)
            mean = torch.tensor(self.mean, device=self.device).view(1, 3, 1, 1)
            std = torch.tensor(self.std, device=self.device).view(1, 3, 1, 1)
            x = ((x - mean) / std).to(self._input_dtype or torch.float32)
            with torch.inference_mode():
                out = self._model.encode_image(x)
            return _normalised(out.float().cpu().numpy())

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.encode_pixels(np.stack([self.pixels(im) for im in images]))

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        import torch

        with self._lock:
            self.load()      # again under the lock: an idle unload may have come between
            self.last_used = time.monotonic()
            tokens = self._tokenizer(list(texts)).to(self.device)
            with torch.inference_mode():
                out = self._model.encode_text(tokens)
            return _normalised(out.float().cpu().numpy())

    @property
    def torch_model(self) -> Any:
        """The loaded open_clip model (for the ONNX export of the text tower)."""
        self.load()
        return self._model

    def reference_transform(self) -> Any:
        """open_clip's own preprocessing for this model (used by tests to hold ``pixels``
        to it)."""
        import open_clip

        self.load()
        return open_clip.image_transform(
            self.image_size, is_train=False, mean=self.mean, std=self.std,
            interpolation=self.interpolation, resize_mode=self.resize_mode)


def load_installed(files: ModelFiles) -> ClipModel:
    """The ``clip`` model kind's loader: the model whose weights were installed in
    ``files.folder``, loaded (ModelError when they are not a checkpoint of its architecture)."""
    entry = files.entry
    weights = files.folder / entry.file
    digest = files.digests.get(entry.file)
    try:
        size = weights.stat().st_size
    except OSError as exc:
        raise ModelError(f"cannot read the weights of {entry.id}: {exc.strerror or exc}") from exc
    if digest is None:
        raise ModelError(f"the weights of {entry.id} were not verified")
    return ClipModel(Installed(entry, weights, digest, size)).load()


def _normalised(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32, copy=False)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(x / norms, dtype=np.float32)


def pick_device(torch: Any) -> str:
    """CUDA, then Apple MPS, then the CPU (GLIMPSE_DEVICE overrides)."""
    forced = os.environ.get("GLIMPSE_DEVICE")
    if forced:
        return forced
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()
