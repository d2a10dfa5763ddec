"""CLIP image embeddings on the fastest runtime this computer has, without torch.

Pixels are prepared on the ingestion workers (``pixels``: resize + centre crop of the already
decoded image), so only the matrix work runs on the model's thread. The preparation mirrors
open_clip's own transform (shortest side to the model's size with the same filter, centre crop
with the same rounding) so embeddings match the reference; a test holds it to cosine >= 0.99.

The image tower runs from the model's ONNX export (``search.export``: made once, with torch,
when a model is added) on OpenVINO or ONNX Runtime, whichever measured fastest here within
cosine 0.99 of fp32 on the person's first photos (``search.clip_runtime``). Nothing here
imports torch or open_clip.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import numpy as np
from PIL import Image

from glimpse_desktop.kernel.registry import Installed, ModelError, ModelFiles
from glimpse_desktop.kernel.threads import budget
from glimpse_desktop.search import clip_runtime as rt
from glimpse_desktop.search.clip_runtime import MIN_COSINE, RuntimeChoice, normalised
from glimpse_desktop.search.export import ExportedModel, ensure_exported

__all__ = ["MIN_COSINE", "OPENAI_MEAN", "OPENAI_STD", "ClipModel", "RuntimeChoice",
           "load_installed"]

log = logging.getLogger(__name__)

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
_FILTERS = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR,
            "nearest": Image.Resampling.NEAREST}


class ClipModel:
    """One CLIP model's image tower: lazy, locked, idempotent ``load()``; ``unload()`` frees it.

    ``choice``: how the tower runs here (``RuntimeChoice``), None until measured on the first
    batch of photos. ``device``, ``precision``, ``choice_reason``: the same in short.
    """

    def __init__(self, installed: Installed) -> None:
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
        # (x / 255 - mean) / std as one multiply-add per value.
        std = np.asarray(self.std, dtype=np.float32)
        self._scale = (1.0 / (255.0 * std)).astype(np.float32)
        self._offset = (np.asarray(self.mean, dtype=np.float32) / std).astype(np.float32)
        self._lock = threading.RLock()
        self._backend: rt.Backend | None = None
        self._files: ExportedModel | None = None
        self._key = ""
        self.choice: RuntimeChoice | None = None
        self.device = "cpu"
        self.precision = "fp32"
        self.choice_reason = rt.NOT_MEASURED
        self.last_used = 0.0

    # ------------------------------------------------------------------ pixels

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

    def normalise(self, batch: np.ndarray) -> np.ndarray:
        """``pixels()`` outputs stacked (N, S, S, 3) uint8 -> the tower's input: float32
        (N, 3, S, S), scaled to 0..1 and normalised with the model's mean and std."""
        if batch.ndim != 4 or batch.shape[3] != 3:
            raise ValueError(f"expected (N, S, S, 3) pixels, got shape {batch.shape}")
        x = batch.astype(np.float32) * self._scale - self._offset
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    # ------------------------------------------------------------------ life cycle

    @property
    def loaded(self) -> bool:
        return self._backend is not None

    def load(self) -> ClipModel:
        """Find (or make) the ONNX export and compile the remembered runtime, or the reference
        until the first batch of photos is measured (once; concurrent callers wait).
        ModelError when the files are not a model (``models.damaged``), cannot be converted
        without torch (``models.needs_torch``), or ``GLIMPSE_RUNTIME`` names a runtime that
        cannot run here (``models.bad_runtime``)."""
        with self._lock:
            if self._backend is not None:
                return self
            started = time.monotonic()
            files = ensure_exported(self.installed)
            self._files = files
            self._key = rt.choice_key(self.installed, files.visual, files.visual_int8)
            forced = rt.forced_spec()
            if forced is not None:
                try:
                    backend = self._make(forced)
                except Exception as exc:  # any runtime error: say which setting caused it
                    raise ModelError(
                        f"{rt.ENV_RUNTIME} asks for {forced.name}, which cannot run here: {exc}",
                        code="models.bad_runtime",
                        values={"value": forced.name, "error": str(exc)}) from exc
                self._use(backend, rt.forced_choice(forced, self._key))
            else:
                saved = rt.remembered(self.installed)
                backend_or_none: rt.Backend | None = None
                if saved is not None and saved.key == self._key:
                    try:
                        backend_or_none = self._make(saved.spec)
                    except Exception as exc:  # measured before, broken now: measure again
                        log.warning("the remembered runtime %s failed (%s); measuring again",
                                    saved.spec.name, exc)
                if backend_or_none is not None and saved is not None:
                    self._use(backend_or_none, saved)
                else:
                    self._use(self._reference(), None)
            self.last_used = time.monotonic()
            log.info("loaded %s on %s %s %s in %.1fs (%s)", self.model_id,
                     self.choice.runtime if self.choice else "onnxruntime", self.device,
                     self.precision, time.monotonic() - started, self.choice_reason)
            return self

    def unload(self) -> None:
        with self._lock:
            self._backend = None

    def _make(self, spec: rt.Spec) -> rt.Backend:
        files = self._files
        assert files is not None   # set by load() before any backend is made
        return rt.make_backend(spec, files.visual, files.visual_int8, budget().model)

    def _reference(self) -> rt.Backend:
        try:
            return self._make(rt.REFERENCE)
        except Exception as exc:  # ONNX Runtime's errors have no common base worth naming
            path = self._files.visual if self._files else self.installed.weights
            raise ModelError(
                f"the image tower of {self.model_id} at {path} could not be loaded ({exc})",
                code="models.damaged", values={"model": self.model_id, "path": str(path)}
            ) from exc

    def _use(self, backend: rt.Backend, choice: RuntimeChoice | None) -> None:
        self._backend = backend
        self.choice = choice
        self.device = backend.spec.device
        self.precision = backend.spec.precision
        self.choice_reason = choice.why if choice is not None else rt.NOT_MEASURED

    def _measure(self, x: np.ndarray) -> None:
        """Pick the runtime on this batch of real photos and remember it."""
        reference = self._backend if (self._backend is not None
                                      and self._backend.spec == rt.REFERENCE) else None
        if reference is None:
            reference = self._reference()
        started = time.monotonic()
        choice, backend = rt.measure(x, reference, self._make, self._key, rt.candidates())
        rt.remember(self.installed, choice)
        self._use(backend, choice)
        log.info("measured the runtimes of %s on %d photos in %.1fs: %s", self.model_id,
                 len(x), time.monotonic() - started, choice.why)

    # ------------------------------------------------------------------ encoding

    def encode_pixels(self, batch: np.ndarray) -> np.ndarray:
        """Embeddings (n, dim), L2-normalised float32, of ``pixels()`` outputs stacked. The
        first batch of at least a few photos also measures which runtime to use."""
        self.load()
        x = self.normalise(np.asarray(batch))
        with self._lock:
            self.load()      # again under the lock: an idle unload may have come between
            self.last_used = time.monotonic()
            if self.choice is None and len(x) >= rt.MEASURE_MIN_IMAGES:
                self._measure(x)
            backend = self._backend
            assert backend is not None
            return normalised(backend.run(x))

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.encode_pixels(np.stack([self.pixels(im) for im in images]))


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
