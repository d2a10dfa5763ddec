"""The ONNX files a CLIP model runs from, and (with the ``torch`` extra) converting open_clip
weights into them.

Contract between conversion and the runtimes (search/clip.py, search/clip_text.py):

- ``visual``: the image tower in fp32. Input ``image``: float32 (N, 3, S, S), pixels scaled to
  0..1 and normalised with the model's mean/std; output ``embedding``: float32 (N, dim), not
  L2-normalised. N is dynamic in a conversion made here; a trusted export may fix it (Immich's
  are exported for N = 1), so a runner reads the batch size off the session's input shape, and
  may get embeddings already L2-normalised (which normalising again leaves as they are).
- ``visual_int8``: the same graph with dynamically quantised int8 weights, where quantisation
  kept it within cosine 0.99 of fp32 (absent otherwise).
- ``text``: the text tower (int8 where it stayed within cosine 0.99, fp32 otherwise): input
  integer token ids (N, context_length); output float32 (N, dim). The input's name and integer
  type are the export's (``tokens`` int64 here, ``text`` int32 in Immich's): read them off the
  session.
- ``vocab``: CLIP's BPE vocabulary (``bpe_simple_vocab_16e6.txt.gz``), copied beside the model
  so the tokenizer needs no open_clip.

A model is converted once, when it is added or downloaded (the ``clip`` kind's ``install``,
`install_model`), or, for a model installed before conversion existed, on first load
(`ensure_exported`). Every file is written beside its final name and moved into place only
when checked, so an interrupted conversion never leaves a file that counts.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import pickle
import secrets
import shlex
import shutil
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from glimpse_desktop.kernel import runtime
from glimpse_desktop.kernel.progress import CancelToken, Progress, ProgressCallback
from glimpse_desktop.kernel.registry import Installed, ModelError, ModelFiles

__all__ = [
    "MIN_EXPORT_COSINE",
    "MIN_INT8_COSINE",
    "ExportedModel",
    "ensure_exported",
    "export_visual_onnx",
    "exported",
    "install_commands",
    "install_model",
    "needs_torch",
    "precheck",
    "quantize_visual_onnx",
    "torch_available",
]

log = logging.getLogger(__name__)

# The ONNX graph must give what torch gives (only float rounding differs).
MIN_EXPORT_COSINE = 0.9999
# int8 weights are kept only where every probe stays this close to fp32.
MIN_INT8_COSINE = 0.99
CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
_OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
_OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
# One conversion at a time in a process: each holds a whole model in memory.
_convert_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ExportedModel:
    """Where an installed model's ONNX files are (whether or not they exist yet)."""

    visual: Path
    visual_int8: Path
    text: Path
    vocab: Path

    @property
    def complete(self) -> bool:
        """Every file a model needs to index and search is there (int8 is optional)."""
        return all(p.is_file() for p in (self.visual, self.text, self.vocab))


def exported(installed: Installed) -> ExportedModel:
    """The paths of ``installed``'s ONNX files: a trusted export's files as downloaded, else
    files derived from its weights (a new checkpoint makes them stale by name)."""
    if installed.exported:
        files = installed.exported
        return ExportedModel(visual=files["visual"],
                             visual_int8=installed.derived("visual.int8.onnx"),
                             text=files["text"], vocab=files["vocab"])
    return ExportedModel(visual=installed.derived("visual.onnx"),
                         visual_int8=installed.derived("visual.int8.onnx"),
                         text=installed.derived("text.onnx"),
                         vocab=installed.derived("bpe_simple_vocab_16e6.txt.gz"))


# ---------------------------------------------------------------------------- torch or not


def _importable(name: str) -> bool:
    # find_spec locates a package without running it (importing torch takes seconds); a
    # finder that refuses the name raises instead of answering None.
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def torch_available() -> bool:
    """torch and open_clip (the ``torch`` extra) are installed here."""
    return _importable("torch") and _importable("open_clip")


def install_commands() -> dict[str, str | None]:
    """How torch and open_clip get into this Python, as the values of ``models.needs_torch``:
    ``install``, the command: the ``torch`` extra where Glimpse runs from a checkout (its
    folder has ../pyproject.toml; glimpse-desktop is not on PyPI), else the three packages;
    ``pip``, this Python's ``pip install`` (with the checkout's pins); ``cpu_index``, on Linux
    (where PyPI's torch carries 3 GB of CUDA libraries), the index of torch's CPU-only build,
    to install torch and torchvision from first on a computer without an NVIDIA GPU (None
    elsewhere)."""
    pip = f"{shlex.quote(sys.executable)} -m pip install"
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        constraints = checkout / "constraints.txt"
        if constraints.is_file():
            pip += f" -c {shlex.quote(str(constraints))}"
        install = f"{pip} -e {shlex.quote(f'{checkout}[torch]')}"
    else:
        install = f"{pip} torch torchvision open_clip_torch"
    return {"install": install, "pip": pip,
            "cpu_index": CPU_TORCH_INDEX if sys.platform.startswith("linux") else None}


def needs_torch(model_id: str, detail: str = "") -> ModelError:
    """The error for a model that must be converted where the converter is not installed;
    its values (``install_commands``) let each front end say the commands."""
    return ModelError(
        f"{model_id} must be converted from its open_clip weights once, which needs torch "
        f"and open_clip{f' ({detail})' if detail else ''}, not installed here",
        code="models.needs_torch",
        values={"model": model_id, "extra": "torch", **install_commands()})


def precheck(entry: Any) -> None:
    """The ``clip`` kind's ``precheck``: a checkpoint of ``entry`` can be converted here
    (torch and open_clip are installed), before it is copied in or downloaded."""
    if not torch_available():
        raise needs_torch(entry.id)


# ---------------------------------------------------------------------------- the install hook


def install_model(files: ModelFiles, progress: ProgressCallback | None = None,
                  cancel: CancelToken | None = None) -> None:
    """The ``clip`` kind's ``install``: convert verified weights to the ONNX files (once), or
    check a trusted export's files and add its int8 image tower where that stays close."""
    entry = files.entry
    digest = files.digests.get(entry.file)
    if digest is not None:
        weights = files.folder / entry.file
        ensure_exported(Installed(entry, weights, digest, weights.stat().st_size),
                        progress=progress, cancel=cancel)
        return
    if entry.exported is None:
        raise ModelError(f"the weights of {entry.id} were not verified")
    paths = {role: files.folder / f.name for role, f in entry.exported.items()}
    if not paths["vocab"].is_file():
        _supply_vocab(entry, paths["vocab"])
    visual = paths["visual"]
    installed = Installed(entry, visual, files.digests[visual.name], visual.stat().st_size,
                          paths)
    model = exported(installed)
    _phase(progress, entry.id, "checking the exported model", 0)
    _check_export(installed, model)
    _cancelled(cancel)
    _phase(progress, entry.id, "quantising the image tower", 1)
    _quantize_visual_quietly(installed, model)
    _phase(progress, entry.id, "converted", 2, finished=True)


def _supply_vocab(entry: Any, dest: Path) -> None:
    """An export added without its vocabulary gets the copy Glimpse ships, where that is the
    one the manifest pins (or it pins none)."""
    from glimpse_desktop.kernel.download import sha256_file
    from glimpse_desktop.search.clip_text import default_vocab_path

    vocab = default_vocab_path()
    wanted = entry.exported["vocab"].sha256
    if wanted is not None and sha256_file(vocab) != wanted:
        raise ModelError(
            f"the export of {entry.id} came without its vocabulary, and the one that comes "
            f"with Glimpse is not the one it needs: add {dest.name} to it",
            code="models.not_an_export", values={"source": str(dest.parent),
                                                 "wanted": dest.name})
    tmp = _tmp_beside(dest)
    try:
        shutil.copyfile(vocab, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _check_export(installed: Installed, model: ExportedModel) -> None:
    """A trusted export's files are the model the manifest describes: the sizes of both
    towers and a vocabulary the tokenizer reads."""
    from glimpse_desktop.search.clip_text import ClipTokenizer

    entry = installed.entry
    size = entry.image_size
    try:
        visual = _session(model.visual)
        shape = list(visual.get_inputs()[0].shape)
        out = list(visual.get_outputs()[0].shape)
        if len(shape) != 4 or shape[1:] != [3, size, size] or out[-1] != entry.dim:
            raise ModelError(f"the image tower takes {shape} and gives {out}, not "
                             f"(N, 3, {size}, {size}) and (N, {entry.dim})")
        text = _session(model.text)
        tshape = list(text.get_inputs()[0].shape)
        tout = list(text.get_outputs()[0].shape)
        if len(tshape) != 2 or tout[-1] != entry.dim:
            raise ModelError(f"the text tower takes {tshape} and gives {tout}, not "
                             f"(N, context) and (N, {entry.dim})")
        ClipTokenizer(model.vocab)
    except ModelError as exc:
        raise ModelError(f"the exported files of {entry.id} are not its model: {exc}",
                         code="models.damaged",
                         values={"model": entry.id, "path": str(installed.folder)}) from exc
    except Exception as exc:  # ORT's own errors (InvalidProtobuf, ...) derive from Exception only
        raise ModelError(f"the exported files of {entry.id} could not be read: {exc}",
                         code="models.damaged",
                         values={"model": entry.id, "path": str(installed.folder)}) from exc


# ---------------------------------------------------------------------------- conversion


def ensure_exported(installed: Installed, *, progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None) -> ExportedModel:
    """``installed``'s ONNX files, converting its open_clip weights first where they are not
    all there (once: later calls find them). Raises ModelError ``models.needs_torch`` where
    the conversion is needed and torch/open_clip are not installed, ``models.damaged`` when
    the weights are not a checkpoint of the model's architecture."""
    files = exported(installed)
    if files.complete:
        return files
    entry = installed.entry
    if installed.exported:
        raise ModelError(f"files of the exported model {entry.id} are missing from "
                         f"{installed.folder}", code="models.damaged",
                         values={"model": entry.id, "path": str(installed.folder)})
    if not torch_available():
        raise needs_torch(entry.id)
    with _convert_lock:
        files = exported(installed)   # another thread may have converted it meanwhile
        if not files.complete:
            _convert(installed, files, progress, cancel)
    return files


def _convert(installed: Installed, files: ExportedModel, progress: ProgressCallback | None,
             cancel: CancelToken | None) -> None:
    entry = installed.entry
    try:
        import open_clip
        import torch
    except ImportError as exc:   # installed but broken (a missing shared library)
        raise needs_torch(entry.id, str(exc)) from exc
    from glimpse_desktop.search.clip_text import (
        ClipTextModelError,
        ClipTokenizer,
        export_text_onnx,
        quantize_text_onnx,
    )

    _phase(progress, entry.id, "loading the weights", 0)
    model = _build(installed, open_clip)
    tokenizer = open_clip.get_tokenizer(entry.arch)
    if type(tokenizer).__name__ != "SimpleTokenizer":
        raise ModelError(
            f"{entry.id} reads text with {type(tokenizer).__name__}, which Glimpse does not "
            "run without open_clip: only models with CLIP's own tokenizer are supported",
            code="models.unsupported", values={"model": entry.id})
    context = int(tokenizer.context_length)
    _cancelled(cancel)
    if not files.vocab.is_file():
        from glimpse_desktop.search.clip_text import default_vocab_path

        tmp = _tmp_beside(files.vocab)
        try:
            shutil.copyfile(default_vocab_path(), tmp)
            os.replace(tmp, files.vocab)
        finally:
            tmp.unlink(missing_ok=True)
    if not files.visual.is_file():
        _phase(progress, entry.id, "converting the image tower", 1)
        export_visual_onnx(model, files.visual, image_size=entry.image_size,
                           probes=_photo_probes(installed))
    _cancelled(cancel)
    if not files.visual_int8.is_file():
        _phase(progress, entry.id, "quantising the image tower", 2)
        _quantize_visual_quietly(installed, files)
    _cancelled(cancel)
    if not files.text.is_file():
        _phase(progress, entry.id, "converting the text tower", 3)
        fp32 = _tmp_beside(files.text)
        try:
            export_text_onnx(model, fp32, context_length=context)
            _cancelled(cancel)
            try:
                # int8 where it keeps every probe query within cosine 0.99 of fp32: 4x
                # smaller, about twice as fast to load and to run.
                quantize_text_onnx(fp32, files.text, ClipTokenizer(files.vocab),
                                   context_length=context, min_cosine=MIN_INT8_COSINE)
            except ClipTextModelError as exc:
                log.info("keeping the fp32 text tower of %s: %s", entry.id, exc)
                os.replace(fp32, files.text)
        finally:
            fp32.unlink(missing_ok=True)
    del torch  # imported above only to fail early, with the extra named, where it is broken
    _phase(progress, entry.id, "converted", 4, finished=True)


def _build(installed: Installed, open_clip: Any) -> Any:
    """The open_clip model of ``installed``'s weights, fp32 on the CPU, in eval mode."""
    entry = installed.entry
    weights = str(installed.weights)
    try:
        if entry.config is not None:
            _register_config(installed, open_clip)
        if entry.pretrained == "openai":
            model = open_clip.load_openai_model(weights, precision="fp32", device="cpu")
        else:
            # A file path as `pretrained`: open_clip loads it strictly (every weight present,
            # every shape right) as part of building the model.
            model = open_clip.create_model(entry.arch, pretrained=weights, precision="fp32",
                                           device="cpu")
    except (RuntimeError, ValueError, KeyError, OSError, EOFError,
            pickle.UnpicklingError) as exc:   # torch.load of a file that is no checkpoint
        raise ModelError(
            f"the weights of {entry.id} at {weights} could not be loaded ({exc})",
            code="models.damaged", values={"model": entry.id, "path": weights}) from exc
    return model.eval()


def _register_config(installed: Installed, open_clip: Any) -> None:
    # open_clip names a model config after its file: the architecture name it is used by.
    folder = installed.folder / "configs"
    folder.mkdir(exist_ok=True)
    cfg_file = folder / f"{installed.entry.arch}.json"
    text = json.dumps(installed.entry.config)
    if not cfg_file.exists() or cfg_file.read_text("utf-8") != text:
        tmp = _tmp_beside(cfg_file)
        tmp.write_text(text, "utf-8")
        os.replace(tmp, cfg_file)
    open_clip.add_model_config(cfg_file)


def export_visual_onnx(model: Any, path: Path, *, image_size: int,
                       probes: npt.NDArray[np.float32]) -> float:
    """Write ``model.encode_image`` of an fp32 open_clip model to ``path`` (the contract's
    ``visual``), checked against torch on ``probes`` (normalised (N, 3, S, S) inputs, a
    batch size other than the traced one) at cosine >= MIN_EXPORT_COSINE before it is moved
    into place. Returns the worst cosine. Imports torch."""
    import torch

    # Without the torch extra (`make typecheck` runs without it) torch is Any: subclassing
    # it is an error there only, and these ignores unused where torch is installed.
    class ImageTower(torch.nn.Module):  # type: ignore[misc, unused-ignore]
        def __init__(self, clip: Any) -> None:
            super().__init__()
            self.clip = clip

        def forward(self, image: torch.Tensor) -> torch.Tensor:
            return self.clip.encode_image(image)  # type: ignore[no-any-return, unused-ignore]

    example = torch.from_numpy(probes[:2].copy())
    tmp = _tmp_beside(path)
    try:
        with torch.no_grad():
            expected = model.encode_image(torch.from_numpy(probes.copy())).float().numpy()
        with warnings.catch_warnings():
            # The TorchScript exporter's deprecation and tracer warnings: the numerical check
            # below, on another batch size, is what says the graph is right.
            warnings.simplefilter("ignore")
            torch.onnx.export(ImageTower(model), (example,), str(tmp), dynamo=False,
                              input_names=["image"], output_names=["embedding"],
                              dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}},
                              opset_version=17)
        worst = _min_cosine(_run(tmp, probes), expected)
        if not worst >= MIN_EXPORT_COSINE:
            raise ModelError(f"the converted image tower disagrees with torch "
                             f"(cosine {worst:.6f})", code="models.convert_failed")
        os.replace(tmp, path)
        return worst
    finally:
        tmp.unlink(missing_ok=True)


def quantize_visual_onnx(src: Path, dst: Path, probes: npt.NDArray[np.float32], *,
                         min_cosine: float = MIN_INT8_COSINE) -> float:
    """Write ``src`` (an fp32 image tower) with dynamically quantised int8 weights to ``dst``,
    kept only if every probe stays within ``min_cosine`` of fp32; ModelError otherwise (and
    ``dst`` is left as it was). Returns the worst cosine. Needs no torch."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _tmp_beside(dst)
    try:
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)   # the quantiser's advice is not for the person
        try:
            quantize_dynamic(Path(src), tmp, weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
        worst = _min_cosine(_run(tmp, probes), _run(Path(src), probes))
        if not worst >= min_cosine:
            raise ModelError(f"the int8 image tower drifts too far from fp32 (cosine "
                             f"{worst:.4f} < {min_cosine})", code="models.int8_drift")
        os.replace(tmp, dst)
        return worst
    finally:
        tmp.unlink(missing_ok=True)


def _quantize_visual_quietly(installed: Installed, files: ExportedModel) -> None:
    """int8 is an option, not a need: a model whose int8 tower drifts runs in fp32."""
    try:
        worst = quantize_visual_onnx(files.visual, files.visual_int8, _photo_probes(installed))
        log.info("int8 image tower of %s: cosine %.4f to fp32", installed.entry.id, worst)
    except Exception as exc:  # ORT's errors (e.g. no ConvInteger kernel) derive from Exception
        log.info("no int8 image tower for %s: %s", installed.entry.id, exc)


# ---------------------------------------------------------------------------- helpers


def _photo_probes(installed: Installed, n: int = 6, seed: int = 0
                  ) -> npt.NDArray[np.float32]:
    """Photo-like model inputs (smooth colour fields, edges, sensor grain), normalised as the
    model expects: what quantisation is checked on (random noise flatters int8)."""
    from PIL import Image

    size = installed.entry.image_size
    pre = installed.entry.preprocess
    mean = np.asarray(pre.get("mean", _OPENAI_MEAN), dtype=np.float32).reshape(1, 1, 3)
    std = np.asarray(pre.get("std", _OPENAI_STD), dtype=np.float32).reshape(1, 1, 3)
    rng = np.random.default_rng(seed)
    out = np.empty((n, 3, size, size), dtype=np.float32)
    for i in range(n):
        cells = 3 + 2 * i
        coarse = (rng.random((cells, cells, 3)) * 255).astype(np.uint8)
        img = Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC)
        arr = np.asarray(img, dtype=np.float32) / 255.0
        for _ in range(3):   # objects: flat patches with hard edges
            x, y = rng.integers(0, size - size // 4, 2)
            w, h = rng.integers(size // 8, size // 3, 2)
            arr[y:y + h, x:x + w] = rng.random(3)
        arr = np.clip(arr + rng.normal(0.0, 0.02, arr.shape), 0.0, 1.0)
        out[i] = ((arr - mean) / std).transpose(2, 0, 1)
    return out


def _session(path: Path) -> Any:
    ort = runtime.onnxruntime()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _run(path: Path, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The model's first output for ``x``, in batches of the size its input is fixed to (if
    it is: Immich's exports take one image at a time)."""
    session = _session(path)
    first = session.get_inputs()[0]
    batch = first.shape[0] if isinstance(first.shape[0], int) and first.shape[0] > 0 else len(x)
    outs = [session.run(None, {first.name: x[i:i + batch]})[0]
            for i in range(0, len(x), batch)]
    return np.concatenate(outs).astype(np.float32, copy=False)


def _min_cosine(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    dots = (a * b).sum(axis=1)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float((dots / np.maximum(norms, 1e-12)).min())


def _tmp_beside(path: Path) -> Path:
    """A fresh name beside ``path`` (same file system) to write and then os.replace onto it;
    hidden, so a crash mid-write leaves nothing that counts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def _cancelled(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def _phase(progress: ProgressCallback | None, model_id: str, phase: str, done: int, *,
           finished: bool = False) -> None:
    if progress is not None:
        progress(Progress(job=f"converting {model_id}", phase=phase, done=done, total=4,
                          finished=finished))

