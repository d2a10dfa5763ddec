"""Installed tiny CLIP models with their ONNX files, for the runtime tests.

``installed_tiny`` saves a ``tests.clipmodels.tiny_clip`` checkpoint as a person's install
would and converts it through ``search.export.ensure_exported`` (the path a model added by
hand takes). Importing this module imports torch and open_clip.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from glimpse_desktop.kernel.registry import ClipEntry, Installed
from glimpse_desktop.search.export import ensure_exported
from tests.clipmodels import tiny_clip

__all__ = ["installed_tiny"]


def installed_tiny(folder: Path, model_id: str = "tiny-test", seed: int = 0) -> Installed:
    """A tiny model installed in ``folder`` (weights, digest) with its ONNX files made."""
    model, _, config, arch = tiny_clip(seed)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "weights.pt"
    torch.save(model.state_dict(), weights)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    size = weights.stat().st_size
    entry = ClipEntry.from_json({
        "id": model_id, "name": f"Test model {model_id}", "arch": arch, "dim": 64,
        "image_size": 224, "file": "weights.pt", "urls": [], "size": size, "sha256": digest,
        "licence": "test only", "config": config})
    installed = Installed(entry, weights, digest, size)
    ensure_exported(installed)
    return installed
