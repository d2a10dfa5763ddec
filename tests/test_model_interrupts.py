"""An interrupted conversion keeps the verified files it was given.

A model's weights (hundreds of megabytes) are verified against their digest before the model
kind converts them. Cancelling, or a second Ctrl-C, during that conversion must not delete
them: the next try converts again without fetching them again. A conversion that fails on
its own (the files are not the model) leaves nothing, as before.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from glimpse_desktop.kernel.manifest import ClipEntry
from glimpse_desktop.kernel.progress import Cancelled
from glimpse_desktop.kernel.registry import ModelFiles, Registry


def _weights(folder: Path) -> tuple[ClipEntry, Path, str]:
    folder.mkdir(parents=True)
    target = folder / "weights.pt"
    target.write_bytes(bytes(range(256)) * 4096)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    entry = ClipEntry(id="interrupted", name="Interrupted", arch="ViT-B-32", pretrained=None,
                      dim=512, image_size=224, file="weights.pt", urls=(), size=None,
                      sha256=digest, licence="MIT")
    return entry, target, digest


def _converter(failure: BaseException) -> Any:
    """A conversion that wrote one of its files (atomically, as the real one does), then
    stops with ``failure``."""
    def install(files: ModelFiles, progress: Any, cancel: Any) -> None:
        (files.folder / f"{files.digests['weights.pt'][:16]}-text.onnx").write_bytes(b"onnx")
        raise failure
    return install


@pytest.mark.parametrize("failure", [KeyboardInterrupt(), Cancelled("cancelled")],
                         ids=["second-ctrl-c", "cancel"])
def test_an_interrupted_conversion_keeps_the_verified_weights(
        tmp_path: Path, failure: BaseException) -> None:
    entry, target, digest = _weights(tmp_path / "clip" / "interrupted")
    registry = Registry(tmp_path)
    with pytest.raises(type(failure)):
        registry._install(_converter(failure), entry, target, digest, None, None)
    assert target.is_file()
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest


def test_a_conversion_that_fails_leaves_nothing(tmp_path: Path) -> None:
    entry, target, digest = _weights(tmp_path / "clip" / "interrupted")
    registry = Registry(tmp_path)
    with pytest.raises(ValueError, match="not this model"):
        registry._install(_converter(ValueError("not this model")), entry, target, digest,
                          None, None)
    assert sorted(p.name for p in target.parent.iterdir()) == []
