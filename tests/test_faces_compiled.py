"""The face pack loads from what an earlier process prepared (kernel/compiled.py).

The first load of the pack cleans both graphs (onnx), compiles the recogniser twice and
probes bf16 against f32; the cleaned graphs, the verdict and OpenVINO's compiled model are
kept per machine, so later processes skip that work and give the same vectors. A damaged or
unwritable cache costs time, never the faces.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from glimpse_desktop.kernel.compiled import ENV_COMPILED

ROOT = Path(__file__).resolve().parent.parent

# Loads the default pack in a fresh process and embeds the fixed probe crops.
LOAD = r"""
import json, sys
import numpy as np
from glimpse_desktop.faces import models as fm

models = fm.FaceModels().load()
crops = fm._probe_crops().transpose(0, 2, 3, 1).astype(np.uint8)   # (n, 112, 112, 3)
np.save(sys.argv[1], models.embed(crops))
print(json.dumps({"runtime": models.recogniser_runtime,
                  "precision": getattr(models._ov_recogniser, "precision", None),
                  "onnx": "onnx" in sys.modules}))
"""

def _load(cache: Path, out: Path, **extra: str) -> dict[str, object]:
    env = {**os.environ, ENV_COMPILED: str(cache), **extra}
    done = subprocess.run([sys.executable, "-c", LOAD, str(out)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_later_process_loads_the_pack_from_what_the_first_kept(tmp_path: Path) -> None:
    cache = tmp_path / "compiled"
    first = _load(cache, tmp_path / "first.npy")
    kept = sorted(p.name for p in cache.iterdir() if p.is_file())
    assert any(name.endswith("-recogniser-r1.onnx") for name in kept)
    assert any(name.startswith("faces-") and "-detector" in name for name in kept)
    assert first["onnx"] is True                 # the first load cleaned the graphs
    if first["runtime"] == "openvino":
        assert any(name.endswith("-precision-r1.json") for name in kept)
        assert list((cache / "openvino").iterdir())    # OpenVINO's compiled model

    second = _load(cache, tmp_path / "second.npy")
    assert second["onnx"] is False               # nothing to clean: onnx is not even imported
    assert (second["runtime"], second["precision"]) == (first["runtime"], first["precision"])
    np.testing.assert_allclose(np.load(tmp_path / "second.npy"),
                               np.load(tmp_path / "first.npy"), rtol=0, atol=1e-5)


def _flip(path: Path, count: int) -> None:
    """Invert ``count`` bytes in the middle of ``path``: a file a runtime still accepts."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + count] = bytes(255 - b for b in data[middle:middle + count])
    path.write_bytes(bytes(data))


def test_a_damaged_kept_graph_is_made_again(tmp_path: Path) -> None:
    cache = tmp_path / "compiled"
    _load(cache, tmp_path / "first.npy")
    graph = next(p for p in cache.iterdir() if p.name.endswith("-recogniser-r1.onnx"))
    # Damaged where the weights are: onnxruntime and OpenVINO would both take the graph, and
    # compute other vectors with it.
    _flip(graph, 256)
    again = _load(cache, tmp_path / "again.npy")
    assert again["onnx"] is True                 # made again from the verified pack file
    np.testing.assert_allclose(np.load(tmp_path / "again.npy"),
                               np.load(tmp_path / "first.npy"), rtol=0, atol=1e-5)
    third = _load(cache, tmp_path / "third.npy")
    assert third["onnx"] is False                # and kept again, whole


def test_a_damaged_compiled_model_is_compiled_again(tmp_path: Path) -> None:
    """OpenVINO loads some damaged compiled models without a word (NaN or wrong vectors):
    what it loads is checked on the probe, and compiled again where it disagrees."""
    cache = tmp_path / "compiled"
    openvino = {"GLIMPSE_FACES_RUNTIME": "openvino"}
    _load(cache, tmp_path / "first.npy", **openvino)
    blobs = list((cache / "openvino").rglob("*.blob"))
    assert blobs
    for blob in blobs:
        _flip(blob, 4096)
    again = _load(cache, tmp_path / "again.npy", **openvino)
    vectors = np.load(tmp_path / "again.npy")
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(vectors, np.load(tmp_path / "first.npy"), rtol=0, atol=1e-5)
    assert again["precision"] is not None


def test_a_cache_folder_that_cannot_be_made_costs_time_not_faces(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache folder would be")
    result = _load(blocker / "compiled", tmp_path / "vectors.npy")
    assert result["onnx"] is True
    assert np.load(tmp_path / "vectors.npy").shape[1] == 128
    assert blocker.read_text() == "a file where the cache folder would be"


def test_a_verdict_for_another_cpu_or_runtime_is_probed_again(tmp_path: Path) -> None:
    cache = tmp_path / "compiled"
    openvino = {"GLIMPSE_FACES_RUNTIME": "openvino"}
    first = _load(cache, tmp_path / "first.npy", **openvino)
    verdict = next(p for p in cache.iterdir() if p.name.endswith("-precision-r1.json"))
    record = json.loads(verdict.read_text())
    verdict.write_text(json.dumps({**record, "key": record["key"].replace("cpu ", "cpu other "),
                                   "precision": "f32"}))
    again = _load(cache, tmp_path / "again.npy", **openvino)
    assert again["precision"] == first["precision"]   # probed again, not the stale "f32"
    assert json.loads(verdict.read_text())["key"] == record["key"]
