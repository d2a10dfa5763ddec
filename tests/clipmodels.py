"""Real open_clip models small enough for tests.

No pretrained weights can be downloaded in tests, and a full ViT-B-32 takes seconds to build and
hundreds of MB. `tiny_clip` builds a genuine open_clip ``CLIP`` (same classes, same forward code,
same tokenizer and vocabulary as ViT-B-32) with two narrow layers per tower and random weights
that are the same for the same seed. Importing this module imports torch and open_clip.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import open_clip
import torch

__all__ = ["TINY_ARCH", "TINY_CONFIG", "tiny_clip"]

TINY_ARCH = "glimpse-test-tiny-clip"
# ViT-B-32's layout (224 px images, 32 px patches, 77 tokens, the 49,408-token CLIP vocabulary)
# at a width of 64 and two layers per tower: a forward pass takes milliseconds.
TINY_CONFIG: dict[str, Any] = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}

_registered = False


def _register() -> None:
    """Make `TINY_ARCH` an open_clip model name, through its public `add_model_config`.

    open_clip reads the JSON file when it is added and keeps the config in memory, so the file
    does not need to outlive the call.
    """
    global _registered
    if _registered:
        return
    with tempfile.TemporaryDirectory(prefix="glimpse-clip-config-") as folder:
        path = Path(folder) / f"{TINY_ARCH}.json"
        path.write_text(json.dumps(TINY_CONFIG), encoding="utf-8")
        open_clip.add_model_config(path)
    if TINY_ARCH not in open_clip.list_models():
        raise RuntimeError(f"open_clip did not register the {TINY_ARCH} config")
    _registered = True


def tiny_clip(seed: int = 0) -> tuple[Any, Any, dict[str, Any], str]:
    """A tiny random-initialised open_clip CLIP model, fp32 on the CPU, in eval mode.

    Returns ``(model, preprocess, config, arch)``: ``preprocess`` is open_clip's inference image
    transform (PIL image -> tensor), ``config`` a copy of the model config, ``arch`` the name the
    config is registered under (so ``open_clip.get_tokenizer(arch)`` works). The same seed gives
    the same weights; torch's global random state is left as it was.
    """
    _register()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model, _, preprocess = open_clip.create_model_and_transforms(TINY_ARCH, pretrained=None)
    model.eval()
    return model, preprocess, copy.deepcopy(TINY_CONFIG), TINY_ARCH
