"""The CLIP image tower on OpenVINO or ONNX Runtime, chosen by a measurement on real photos.

Real ONNX exports of a tiny open_clip model (made through ``search.export``, as a person's
``models add`` makes them), real OpenVINO and ONNX Runtime sessions, real photographs
(``face_photos``). Nothing here times anything: speed decides which candidate wins, so the
tests check the rule (eligible, fastest of the eligible, measured once) rather than figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glimpse_desktop import cli
from glimpse_desktop.api import Library
from glimpse_desktop.kernel.registry import Installed, ModelError
from glimpse_desktop.search import clip_runtime as rt
from glimpse_desktop.search.clip import ClipModel
from glimpse_desktop.search.export import exported
from tests.clipexport import installed_tiny

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def exported_tiny(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """One tiny model with its ONNX files, converted once for the module."""
    return installed_tiny(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def installed(exported_tiny: Installed, tmp_path: Path) -> Installed:
    """A copy of the converted model of this test's own (its remembered choice included)."""
    folder = tmp_path / "model"
    shutil.copytree(exported_tiny.folder, folder)
    for old in folder.glob(f"*{rt.CHOICE_FILE}"):
        old.unlink()
    return Installed(exported_tiny.entry, folder / exported_tiny.weights.name,
                     exported_tiny.sha256, exported_tiny.size)


@pytest.fixture
def photos(face_photos: Path) -> list[Image.Image]:
    """Eight real photographs (faces, groups, a crowd of colours), decoded."""
    paths = sorted(face_photos.glob("*.jpg"))[:8]
    assert len(paths) == 8
    return [Image.open(p).convert("RGB") for p in paths]


@pytest.fixture(autouse=True)
def _no_forced_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(rt.ENV_RUNTIME, raising=False)
    monkeypatch.delenv("GLIMPSE_DEVICE", raising=False)


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.min(np.sum(a * b, axis=1)))


def test_every_runtime_here_stays_within_cosine_of_fp32_on_real_photos(
        installed: Installed, photos: list[Image.Image]) -> None:
    model = ClipModel(installed)
    x = model.normalise(np.stack([model.pixels(im) for im in photos]))
    files = exported(installed)
    reference = rt.normalised(rt.make_backend(rt.REFERENCE, files.visual, files.visual_int8, 2)
                              .run(x))
    ran = []
    for spec in rt.candidates():
        backend = rt.make_backend(spec, files.visual, files.visual_int8, 2)
        emb = rt.normalised(backend.run(x))
        assert emb.shape == (8, 64)
        assert _min_cosine(emb, reference) >= rt.MIN_COSINE, spec
        ran.append((spec.runtime, spec.precision))
    # OpenVINO and both ONNX Runtime files run on every CPU this project supports.
    assert {("openvino", "fp32"), ("onnxruntime", "int8"), ("onnxruntime", "fp32")} <= set(ran)


def test_pixels_are_normalised_as_open_clip_does(installed: Installed,
                                                 photos: list[Image.Image]) -> None:
    import torch
    from open_clip import image_transform

    model = ClipModel(installed)
    ours = model.normalise(model.pixels(photos[0])[None])
    theirs = image_transform(224, is_train=False, mean=model.mean, std=model.std)(photos[0])
    assert ours.shape == (1, 3, 224, 224) and ours.dtype == np.float32
    # Same resize and crop (PIL in both) and the same arithmetic, up to float rounding.
    assert np.abs(ours[0] - theirs.numpy()).max() < 1e-4
    assert isinstance(theirs, torch.Tensor)
    with pytest.raises(ValueError, match="expected"):
        model.normalise(np.zeros((224, 224, 3), dtype=np.uint8))


def test_the_choice_is_measured_once_on_real_photos_and_remembered(
        installed: Installed, photos: list[Image.Image]) -> None:
    model = ClipModel(installed).load()
    assert model.choice is None and model.choice_reason == rt.NOT_MEASURED
    few = model.encode_images(photos[:rt.MEASURE_MIN_IMAGES - 1])
    assert few.shape == (3, 64) and model.choice is None    # too few photos to judge by
    saved = installed.derived(rt.CHOICE_FILE)
    assert not saved.exists()

    first = model.encode_images(photos)
    choice = model.choice
    assert choice is not None and not choice.forced and choice.images == len(photos)
    assert choice.measured_at is not None
    # Every candidate was tried; the chosen one is eligible and the fastest of the eligible.
    assert {(f.runtime, f.device, f.precision) for f in choice.candidates} >= {
        (s.runtime, s.device, s.precision) for s in rt.candidates()}
    eligible = [f for f in choice.candidates if f.problem is None]
    assert all(f.cosine is not None and f.cosine >= rt.MIN_COSINE for f in eligible)
    fastest = max(eligible, key=lambda f: f.images_per_s or 0.0)
    assert (choice.runtime, choice.device, choice.precision) == (
        fastest.runtime, fastest.device, fastest.precision)
    assert choice.cosine is not None and choice.cosine >= rt.MIN_COSINE
    assert (model.device, model.precision) == (choice.device, choice.precision)
    assert str(len(photos)) in model.choice_reason and "images/s" in model.choice_reason
    assert rt.remembered(installed) == choice
    # What the chosen runtime gives is what the reference gives, within the same bound.
    reference = ClipModel(installed)
    files = exported(installed)
    ref = rt.normalised(rt.make_backend(rt.REFERENCE, files.visual, files.visual_int8, 2).run(
        reference.normalise(np.stack([reference.pixels(im) for im in photos]))))
    assert _min_cosine(first, ref) >= rt.MIN_COSINE

    # A new process (a new model object) uses the remembered choice and measures nothing.
    before = saved.read_bytes()
    again = ClipModel(installed).load()
    assert again.choice == choice and again.precision == choice.precision
    again.encode_images(photos)
    assert again.choice == choice and saved.read_bytes() == before
    # Unloading and loading again keeps it too.
    again.unload()
    assert not again.loaded
    again.encode_images(photos)
    assert again.choice == choice and saved.read_bytes() == before


def test_a_changed_key_measures_again(installed: Installed, photos: list[Image.Image]) -> None:
    model = ClipModel(installed)
    model.encode_images(photos)
    old = model.choice
    assert old is not None
    saved = installed.derived(rt.CHOICE_FILE)
    # As if the runtimes had been upgraded since: the remembered figures no longer count.
    data = json.loads(saved.read_text("utf-8"))
    data["key"] = data["key"].replace("onnxruntime ", "onnxruntime 0.0.1-was-")
    saved.write_text(json.dumps(data), "utf-8")
    stale, why = rt.current_choice(installed)
    assert stale is None and "measured again" in why

    fresh = ClipModel(installed).load()
    assert fresh.choice is None                      # the stale figures are not used
    fresh.encode_images(photos)
    assert fresh.choice is not None and fresh.choice.key == old.key
    assert fresh.choice.measured_at != data["measured_at"]
    assert rt.remembered(installed) == fresh.choice


def test_a_damaged_remembered_file_measures_again(installed: Installed,
                                                  photos: list[Image.Image]) -> None:
    installed.derived(rt.CHOICE_FILE).write_text("{not json", "utf-8")
    model = ClipModel(installed).load()
    assert model.choice is None
    model.encode_images(photos)
    assert model.choice is not None and rt.remembered(installed) == model.choice


@pytest.mark.parametrize(("value", "runtime", "precision", "device"), [
    ("onnxruntime:int8", "onnxruntime", "int8", "CPUExecutionProvider"),
    ("openvino:fp32", "openvino", "fp32", "CPU"),
    ("OpenVINO:f32:CPU", "openvino", "fp32", "CPU"),
])
def test_glimpse_runtime_forces_one_without_measuring(
        installed: Installed, photos: list[Image.Image], monkeypatch: pytest.MonkeyPatch,
        value: str, runtime: str, precision: str, device: str) -> None:
    monkeypatch.setenv(rt.ENV_RUNTIME, value)
    model = ClipModel(installed).load()
    choice = model.choice
    assert choice is not None and choice.forced and choice.images_per_s is None
    assert (choice.runtime, choice.precision, choice.device) == (runtime, precision, device)
    assert rt.ENV_RUNTIME in choice.why
    emb = model.encode_images(photos)
    assert emb.shape == (8, 64) and model.choice == choice
    assert not installed.derived(rt.CHOICE_FILE).exists()     # a forced run is not a figure
    assert rt.current_choice(installed)[0] == choice


def test_a_forced_runtime_that_cannot_run_is_a_clear_error(
        installed: Installed, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(rt.ENV_RUNTIME, "tpu:fast")
    with pytest.raises(ModelError, match="openvino:bf16") as bad:
        ClipModel(installed).load()
    assert bad.value.code == "models.bad_runtime"
    monkeypatch.setenv(rt.ENV_RUNTIME, "openvino:fp32:NO_SUCH_DEVICE")
    with pytest.raises(ModelError, match="NO_SUCH_DEVICE") as missing:
        ClipModel(installed).load()
    assert missing.value.code == "models.bad_runtime"


def test_a_candidate_that_fails_is_skipped_with_its_reason(
        installed: Installed, photos: list[Image.Image]) -> None:
    # The int8 file damaged after conversion: ONNX Runtime cannot load it.
    exported(installed).visual_int8.write_bytes(b"this is no ONNX model")
    model = ClipModel(installed)
    emb = model.encode_images(photos)
    assert emb.shape == (8, 64)
    choice = model.choice
    assert choice is not None and choice.precision != "int8"
    failed = [f for f in choice.candidates if f.precision == "int8"]
    assert len(failed) == 1 and failed[0].images_per_s is None
    assert failed[0].problem and failed[0].cosine is None
    assert any(f.problem is None for f in choice.candidates)


def test_indexing_measures_and_doctor_json_shows_the_choice(
        capsys: pytest.CaptureFixture[str], exported_tiny: Installed, face_photos: Path,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    (models / "manifest.d").mkdir(parents=True)
    entry = exported_tiny.entry
    (models / "manifest.d" / "tests.json").write_text(json.dumps({"format": 1, "clip": [{
        "id": entry.id, "name": entry.name, "arch": entry.arch, "dim": entry.dim,
        "image_size": entry.image_size, "file": "weights.pt", "urls": [],
        "size": exported_tiny.size, "sha256": exported_tiny.sha256, "licence": "test only",
        "config": entry.config}]}))
    monkeypatch.setenv("GLIMPSE_MODEL_DIR", str(models))
    photos = tmp_path / "Pictures"
    photos.mkdir()
    for path in sorted(face_photos.glob("*.jpg"))[:8]:
        shutil.copy(path, photos / path.name)
    library = tmp_path / "lib" / "library.sqlite3"
    lib = Library.open(library, workers=2)
    try:
        lib.add_model(entry.id, exported_tiny.weights)
        lib.use_model(entry.id)
        before = lib.doctor().search
        assert before is not None and before.runtime is None
        assert before.runtime_why == rt.NOT_MEASURED
        lib.add_root(photos)
        lib.index()
    finally:
        lib.close()

    assert cli.main(["--library", str(library), "doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (found,) = report["image_runtimes"]
    runtime = found["runtime"]
    assert found["model"] == entry.id and found["why"] == runtime["why"]
    assert runtime["runtime"] in ("openvino", "onnxruntime") and runtime["images"] >= 4
    assert runtime["images_per_s"] > 0 and runtime["cosine"] >= rt.MIN_COSINE
    assert runtime["device"] and runtime["precision"] in ("fp32", "bf16", "fp16", "int8")
    assert "images/s" in runtime["why"] and not runtime["forced"]
    assert {c["runtime"] for c in runtime["candidates"]} >= {"openvino", "onnxruntime"}
    assert "providers" in report["devices"]["onnxruntime"]
    assert report["devices"]["openvino"]["devices"][0].startswith("CPU")
    assert report["devices"]["torch"]["installed"] not in ("", None)

    assert cli.main(["--library", str(library), "doctor"]) == 0
    text = capsys.readouterr().out
    assert f"- model: {entry.id}, why: {runtime['why']}" in text
    assert f"runtime: {runtime['runtime']}" in text and "images_per_s:" in text
    assert "candidates:" in text and "- runtime: " in text

    # The library's own report (what Settings shows) says the same under search.
    lib = Library.open(library, workers=2)
    try:
        search = lib.doctor().search
    finally:
        lib.close()
    assert search is not None and search.runtime is not None
    assert search.runtime.as_dict() == runtime and search.runtime_why == runtime["why"]


def test_embedding_photos_imports_no_torch_and_blocks_openvino_telemetry(
        installed: Installed, face_photos: Path) -> None:
    script = f"""
import sys
from pathlib import Path
from PIL import Image
from glimpse_desktop.kernel.registry import ClipEntry, Installed
from glimpse_desktop.search.clip import ClipModel
entry = ClipEntry.from_json({json.dumps(installed_entry_json(installed))})
inst = Installed(entry, Path({str(installed.weights)!r}), {installed.sha256!r},
                 {installed.size})
model = ClipModel(inst)
photos = [Image.open(p) for p in sorted(Path({str(face_photos)!r}).glob("*.jpg"))[:6]]
print(model.encode_images(photos).shape, model.choice is not None)
print(sorted(m for m in ("torch", "open_clip", "torchvision") if m in sys.modules))
print(sys.modules.get("openvino_telemetry", "absent"))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "(6, 64) True"
    assert lines[1] == "[]"
    assert lines[2] == "None"      # blocked: OpenVINO falls back to its no-op stub


def installed_entry_json(installed: Installed) -> dict[str, object]:
    entry = installed.entry
    return {"id": entry.id, "name": entry.name, "arch": entry.arch, "dim": entry.dim,
            "image_size": entry.image_size, "file": entry.file, "urls": [],
            "size": installed.size, "sha256": installed.sha256, "licence": "test only",
            "config": entry.config}


def test_only_the_runtime_module_imports_openvino() -> None:
    """OpenVINO's telemetry is blocked in ``kernel.runtime.openvino()``; an import anywhere
    else could come first and send it."""
    offenders = []
    for path in (ROOT / "glimpse_desktop").rglob("*.py"):
        if path.name == "runtime.py" and path.parent.name == "kernel":
            continue
        for line in path.read_text("utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("import openvino", "from openvino")):
                offenders.append(f"{path.relative_to(ROOT)}: {stripped}")
    assert offenders == []


def test_the_threads_the_model_is_given_are_part_of_the_key(
        installed: Installed, monkeypatch: pytest.MonkeyPatch) -> None:
    """A choice measured with two threads says nothing of one (GLIMPSE_THREADS=1 on a busy
    machine): the ranking of runtimes changes with the threads, so it is measured again."""
    from glimpse_desktop.kernel.threads import ENV_THREADS, budget

    files = exported(installed)
    keys = []
    for threads in ("1", "2"):
        monkeypatch.setenv(ENV_THREADS, threads)
        budget.cache_clear()
        keys.append(rt.choice_key(installed, files.visual, files.visual_int8))
    budget.cache_clear()
    assert keys[0] != keys[1]
