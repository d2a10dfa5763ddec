"""Defects found reviewing the torch-free image tower (issue 17): real ONNX files of a tiny
open_clip model, real ONNX Runtime and OpenVINO sessions, a real HTTP hub on 127.0.0.1."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from glimpse_desktop.kernel.registry import Installed, ModelError, Registry
from glimpse_desktop.search import clip_runtime as rt
from glimpse_desktop.search.clip import ClipModel
from glimpse_desktop.search.clip_text import default_vocab_path
from glimpse_desktop.search.export import exported, quantize_visual_onnx
from tests.test_export import (
    MODEL,
    _entry,
    _files_in,
    _Hub,
    _immich_style_text,
    _model_dir,
)


@pytest.fixture(scope="module")
def tiny() -> Any:
    from tests.clipmodels import tiny_clip

    return tiny_clip(0)


def _serve(files: dict[str, bytes]) -> Iterator[str]:
    handler = type("Hub", (_Hub,), {"files": files})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def _exported(tiny: Any, url: str) -> dict[str, Any]:
    _, _, config, arch = tiny
    return _entry({"arch": arch, "config": config}, exported={
        "source": "a test hub",
        "visual": {"file": "visual.onnx", "urls": [f"{url}/visual/model.onnx"]},
        "text": {"file": "text.onnx", "urls": [f"{url}/textual/model.onnx"]},
        "vocab": {"file": "bpe_simple_vocab_16e6.txt.gz", "urls": [f"{url}/vocab.txt.gz"]}})


@pytest.fixture
def text_onnx(tiny: Any, tmp_path: Path) -> bytes:
    path = tmp_path / "text.onnx"
    _immich_style_text(tiny[0], path)
    return path.read_bytes()


def test_a_trusted_export_whose_image_tower_is_no_onnx_file_is_refused_clearly(
        tiny: Any, text_onnx: bytes, tmp_path: Path) -> None:
    # The hub publishes (and vouches by digest for) a file ONNX Runtime cannot parse: its
    # errors derive from Exception only, not from RuntimeError.
    files = {"/visual/model.onnx": b"<html>moved</html>" * 50,
             "/textual/model.onnx": text_onnx,
             "/vocab.txt.gz": default_vocab_path().read_bytes()}
    for url in _serve(files):
        folder = _model_dir(tmp_path, _exported(tiny, url))
        registry = Registry(folder)
        with pytest.raises(ModelError, match="could not be read") as caught:
            registry.download(MODEL)
        assert caught.value.code == "models.damaged"
        assert registry.installed(MODEL) is None
        assert _files_in(registry.folder(MODEL)) == []


class _Machine:
    """A simulated clock, and a load beside the measurement: the decoders fill their queue
    while the first ``busy_runs`` runs are timed (each takes ``factor`` times as long), then
    wait on it."""

    def __init__(self, busy_runs: int, factor: float) -> None:
        self.now = 0.0
        self.runs = 0
        self.busy_runs = busy_runs
        self.factor = factor

    def perf_counter(self) -> float:
        return self.now


class _Costed:
    """A real backend whose runs take ``per_image`` simulated seconds a photo."""

    def __init__(self, backend: rt.Backend, per_image: float, machine: _Machine) -> None:
        self.spec = backend.spec
        self._backend = backend
        self._per_image = per_image
        self._machine = machine

    def run(self, x: np.ndarray) -> np.ndarray:
        out = self._backend.run(x)
        self._machine.runs += 1
        busy = self._machine.runs <= self._machine.busy_runs
        self._machine.now += self._per_image * len(x) * (self._machine.factor if busy else 1.0)
        return out


@pytest.fixture(scope="module")
def installed_model(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    from tests.clipexport import installed_tiny

    return installed_tiny(tmp_path_factory.mktemp("tiny"))


def test_a_load_during_one_candidates_turn_does_not_make_a_slower_one_win(
        installed_model: Installed, monkeypatch: pytest.MonkeyPatch) -> None:
    files = exported(installed_model)
    machine = _Machine(busy_runs=8, factor=3.0)
    monkeypatch.setattr(rt, "time", SimpleNamespace(perf_counter=machine.perf_counter,
                                                    time=time.time))
    bf16 = rt.Spec("openvino", "CPU", "bf16")
    fp32 = rt.Spec("openvino", "CPU", "fp32")
    cost = {bf16: 0.5, fp32: 0.8, rt.REFERENCE: 1.0}   # bf16 is the fastest here

    def make(spec: rt.Spec) -> rt.Backend:
        real = rt.make_backend(spec, files.visual, files.visual_int8, 2)
        return _Costed(real, cost[spec], machine)

    x = np.random.default_rng(0).uniform(-1.5, 1.5, (4, 3, 224, 224)).astype(np.float32)
    choice, backend = rt.measure(x, make(rt.REFERENCE), make, "key", [bf16, fp32, rt.REFERENCE])
    assert (choice.runtime, choice.precision) == ("openvino", "bf16"), choice.why
    assert backend.spec == bf16
    rates = {(f.runtime, f.precision): f.images_per_s for f in choice.candidates}
    assert rates == {("openvino", "bf16"): 2.0, ("openvino", "fp32"): 1.25,
                     ("onnxruntime", "fp32"): 1.0}


def test_two_measurements_remembered_at_once_both_land_whole(
        installed_model: Installed, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # The GUI and a command-line index measuring the same model finish together: each
    # remembers its choice, and the file stays one of them, whole, with no write refused.
    folder = tmp_path / "model"
    folder.mkdir()
    weights = folder / installed_model.weights.name
    weights.write_bytes(b"weights")
    installed = Installed(installed_model.entry, weights, installed_model.sha256, 7)
    choices = [rt.RuntimeChoice("onnxruntime", "CPUExecutionProvider", "fp32", 10.0 + n, 1.0,
                                "measured " * (1 + 40 * n), key="k") for n in range(4)]

    def remember(choice: rt.RuntimeChoice) -> None:
        for _ in range(50):
            rt.remember(installed, choice)

    threads = [threading.Thread(target=remember, args=(c,)) for c in choices]
    with caplog.at_level("WARNING", logger=rt.__name__):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [r.getMessage() for r in caplog.records] == []
    assert rt.remembered(installed) in choices
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [weights.name, installed.derived(rt.CHOICE_FILE).name])


def test_a_visual_tower_fixed_to_one_image_runs_batches_on_every_runtime(
        tiny: Any, installed_model: Installed, face_photos: Path, tmp_path: Path) -> None:
    # Immich's exports take one image at a time, with the batch of one folded into the graph
    # (the class token's Concat): OpenVINO cannot reshape it to a batch of five, so every
    # runtime runs it one image at a time and must still give what torch gives.
    import torch
    from PIL import Image

    model = tiny[0]

    class Visual(torch.nn.Module):
        def __init__(self, clip: Any) -> None:
            super().__init__()
            self.clip = clip

        def forward(self, image: torch.Tensor) -> torch.Tensor:
            return self.clip.encode_image(image, normalize=True)  # type: ignore[no-any-return]

    visual, int8 = tmp_path / "visual.onnx", tmp_path / "visual.int8.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the TorchScript exporter's tracer warnings
        torch.onnx.export(Visual(model), (torch.zeros(1, 3, 224, 224),), str(visual),
                          dynamo=False, input_names=["image"], output_names=["embedding"],
                          opset_version=17)
    clip = ClipModel(installed_model)
    photos = [Image.open(p).convert("RGB") for p in sorted(face_photos.glob("*.jpg"))[:5]]
    x = clip.normalise(np.stack([clip.pixels(im) for im in photos]))
    quantize_visual_onnx(visual, int8, x)
    with torch.no_grad():
        want = model.encode_image(torch.from_numpy(x), normalize=True).numpy()

    def make(spec: rt.Spec) -> rt.Backend:
        return rt.make_backend(spec, visual, int8, 2)

    for spec in rt.candidates():
        got = rt.normalised(make(spec).run(x))
        assert got.shape == (5, 64), spec
        assert float((got * want).sum(1).min()) >= rt.MIN_COSINE, spec
    choice, _ = rt.measure(x, make(rt.REFERENCE), make, "key", rt.candidates())
    assert [f.problem for f in choice.candidates] == [None] * len(choice.candidates)
