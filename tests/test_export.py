"""torch and open_clip as a conversion path: a model is converted to ONNX once when it is added
(real torch export of a small open_clip model, real ONNX Runtime sessions), a trusted export
is downloaded instead of the weights (from a real HTTP server on 127.0.0.1), and without torch
the app says which extra to install and installs nothing (real subprocesses in which importing
torch fails)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.registry import ModelError, Registry
from glimpse_desktop.search.clip_text import default_vocab_path
from glimpse_desktop.search.export import ensure_exported, export_visual_onnx, exported
from tests.conftest import closed_port
from tests.imagegen import write_jpeg

MODEL = "tiny-test"

# Run first in a subprocess: importing torch, torchvision or open_clip fails there as it does
# where the `torch` extra is not installed.
NO_TORCH = (
    "import sys\n"
    "class _NoTorch:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('torch', 'torchvision', 'open_clip'):\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
    "        return None\n"
    "sys.meta_path.insert(0, _NoTorch())\n"
)


def _run_without_torch(code: str, model_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GLIMPSE_MODEL_DIR": str(model_dir)}
    return subprocess.run([sys.executable, "-c", NO_TORCH + code], env=env,
                          capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parent.parent)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import torch

    from tests.clipmodels import tiny_clip  # not at the top: subprocesses import this module

    model, _, config, arch = tiny_clip(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    torch.save(model.state_dict(), path)
    return {"path": path, "config": config, "arch": arch, "model": model}


def _entry(checkpoint: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": MODEL, "name": "Tiny test model", "arch": checkpoint["arch"], "dim": 64,
            "image_size": 224, "file": "weights.pt", "urls": [], "size": None,
            "sha256": None, "licence": "test only", "config": checkpoint["config"], **extra}


def _model_dir(tmp_path: Path, entry: dict[str, Any]) -> Path:
    folder = tmp_path / "models"
    (folder / "manifest.d").mkdir(parents=True)
    (folder / "manifest.d" / "tests.json").write_text(json.dumps({"format": 1,
                                                                   "clip": [entry]}))
    return folder


def _files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _index_and_search(library_path: Path, photo_dir: Path) -> None:
    with Library.open(library_path, workers=2) as lib:
        lib.use_model(MODEL)
        for i in range(3):
            write_jpeg(photo_dir / f"p{i}.jpg", (640, 480), seed=10 + i)
        lib.add_root(photo_dir)
        lib.index()
        assert lib.reader().one("SELECT count(*) FROM photo_embeddings WHERE model_id = ?",
                                (MODEL,)) == 3
        result = lib.search("a red car", min_score=0)
        assert result.semantic and result.model == MODEL and len(result.hits) == 3


def test_adding_a_checkpoint_converts_it_once_and_the_model_searches(
        tmp_path: Path, checkpoint: dict[str, Any], photo_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    folder = _model_dir(tmp_path, _entry(checkpoint))
    monkeypatch.setenv("GLIMPSE_MODEL_DIR", str(folder))
    phases: list[str] = []
    installed = Registry(folder).add(MODEL, checkpoint["path"],
                                     progress=lambda p: phases.append(p.phase))
    files = exported(installed)
    for path in (files.visual, files.visual_int8, files.text, files.vocab):
        assert path.is_file() and path.parent == installed.folder
    assert "converting the image tower" in phases and "converting the text tower" in phases
    # The ONNX image tower is the torch one: same embeddings on an input it was not traced on.
    from glimpse_desktop.kernel import runtime

    x = np.random.default_rng(3).normal(size=(3, 3, 224, 224)).astype(np.float32)
    session = runtime.onnxruntime().InferenceSession(str(files.visual),
                                                     providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"image": x})
    with torch.no_grad():
        want = checkpoint["model"].encode_image(torch.from_numpy(x)).numpy()
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cos.min() >= 0.9999
    # Once: a second call finds the files and converts nothing.
    stamp = files.visual.stat().st_mtime_ns
    assert ensure_exported(installed) == files
    assert files.visual.stat().st_mtime_ns == stamp
    _index_and_search(tmp_path / "lib.sqlite3", photo_dir)


def test_a_bad_checkpoint_leaves_nothing_behind(tmp_path: Path,
                                               checkpoint: dict[str, Any]) -> None:
    folder = _model_dir(tmp_path, _entry(checkpoint))
    registry = Registry(folder)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ModelError, match="is not a") as caught:
        registry.add(MODEL, junk)
    assert caught.value.code == "models.damaged"
    assert registry.installed(MODEL) is None
    assert not registry.folder(MODEL).exists()
    assert registry.remove(MODEL) is False      # never installed: nothing was removed


def test_without_torch_adding_a_checkpoint_says_the_commands_before_copying_anything(
        tmp_path: Path, checkpoint: dict[str, Any]) -> None:
    folder = _model_dir(tmp_path, _entry(checkpoint))
    library = tmp_path / "lib.sqlite3"
    done = _run_without_torch(
        "from pathlib import Path\n"
        "from glimpse_desktop.cli import main\n"
        "from glimpse_desktop.kernel.registry import ModelError, Registry\n"
        "phases = []\n"
        "try:\n"
        f"    Registry(Path({str(folder)!r})).add({MODEL!r}, Path({str(checkpoint['path'])!r}),"
        " progress=lambda p: phases.append(p.phase))\n"
        "except ModelError as exc:\n"
        "    assert exc.code == 'models.needs_torch', exc.code\n"
        "assert phases == [], phases\n"   # refused before a byte was copied
        f"rc = main(['--library', {str(library)!r}, 'models', 'add', {MODEL!r}, "
        f"{str(checkpoint['path'])!r}])\n"
        "assert 'torch' not in sys.modules and 'open_clip' not in sys.modules\n"
        "sys.exit(rc)\n", folder)
    assert done.returncode == 1, done.stderr
    err = done.stderr
    # Commands that work here: this Python's pip, the checkout's extra with its pins (the
    # package is not on PyPI), and the CPU-only index once; said once, not twice.
    checkout = Path(__file__).resolve().parent.parent
    install = (f"{sys.executable} -m pip install -c {checkout / 'constraints.txt'} "
               f"-e '{checkout}[torch]'")
    assert err.count(install) == 1
    assert err.count("--index-url https://download.pytorch.org/whl/cpu torch torchvision") == 1
    assert "pip install 'glimpse-desktop[torch]'" not in err
    assert "Traceback" not in err
    assert Registry(folder).installed(MODEL) is None
    assert not (folder / "clip").exists()


def test_the_install_commands_outside_a_checkout_name_the_packages(tmp_path: Path) -> None:
    # An installed copy of the package (no ../pyproject.toml beside it).
    package = Path(__file__).resolve().parent.parent / "glimpse_desktop"
    site = tmp_path / "site"
    shutil.copytree(package, site / "glimpse_desktop",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(package.parent / "models", site / "glimpse_desktop" / "models",
                    dirs_exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", "from glimpse_desktop.search.export import needs_torch\n"
         "print(needs_torch('m').values['install'])"],
        env={**os.environ, "PYTHONPATH": str(site)},
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{sys.executable} -m pip install torch torchvision open_clip_torch" in done.stdout
    assert "-e " not in done.stdout and "constraints" not in done.stdout


def _immich_style_text(model: Any, path: Path) -> None:
    """The text tower as Immich exports it: input ``text`` int32, one text at a time."""
    import torch

    class Text(torch.nn.Module):
        def __init__(self, clip: Any) -> None:
            super().__init__()
            self.clip = clip

        def forward(self, text: torch.Tensor) -> torch.Tensor:
            return self.clip.encode_text(text, normalize=True)  # type: ignore[no-any-return]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the TorchScript exporter's tracer warnings
        torch.onnx.export(Text(model), (torch.ones(1, 77, dtype=torch.int32),), str(path),
                          dynamo=False, input_names=["text"], output_names=["embedding"],
                          opset_version=17)


class _Hub(BaseHTTPRequestHandler):
    """A hub like Hugging Face: HEAD answers with a redirect carrying the LFS digest."""

    files: ClassVar[dict[str, bytes]] = {}

    def do_HEAD(self) -> None:
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(302)
        self.send_header("Location", "/cdn" + self.path)
        self.send_header("X-Linked-Etag", f'"{hashlib.sha256(body).hexdigest()}"')
        self.send_header("X-Linked-Size", str(len(body)))
        self.end_headers()

    def do_GET(self) -> None:
        body = self.files.get(self.path.removeprefix("/cdn"))
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def towers(tmp_path_factory: pytest.TempPathFactory, checkpoint: dict[str, Any]
           ) -> tuple[Path, Path]:
    """The model's two towers as ONNX files, exported once for the module (the tests that
    use them read or copy them, never change them): our image tower and an Immich-style
    text tower."""
    folder = tmp_path_factory.mktemp("towers")
    probes = np.random.default_rng(0).normal(size=(3, 3, 224, 224)).astype(np.float32)
    export_visual_onnx(checkpoint["model"], folder / "v.onnx", image_size=224, probes=probes)
    _immich_style_text(checkpoint["model"], folder / "t.onnx")
    return folder / "v.onnx", folder / "t.onnx"


@pytest.fixture
def hub(towers: tuple[Path, Path]) -> Iterator[str]:
    visual, text = towers
    files = {"/visual/model.onnx": visual.read_bytes(),
             "/textual/model.onnx": text.read_bytes(),
             "/vocab.txt.gz": default_vocab_path().read_bytes()}
    handler = type("Hub", (_Hub,), {"files": files})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def _exported_entry(checkpoint: dict[str, Any], url: str) -> dict[str, Any]:
    return _entry(checkpoint, exported={
        "source": "a test hub",
        "visual": {"file": "visual.onnx", "urls": [f"{url}/visual/model.onnx"]},
        "text": {"file": "text.onnx", "urls": [f"{url}/textual/model.onnx"]},
        "vocab": {"file": "bpe_simple_vocab_16e6.txt.gz", "urls": [f"{url}/vocab.txt.gz"]}})


def test_a_trusted_export_downloads_and_searches_without_torch(
        tmp_path: Path, checkpoint: dict[str, Any], hub: str, photo_dir: Path) -> None:
    folder = _model_dir(tmp_path, _exported_entry(checkpoint, hub))
    library = tmp_path / "lib.sqlite3"
    done = _run_without_torch(
        "from pathlib import Path\n"
        "from glimpse_desktop.cli import main\n"
        "from tests.test_export import _index_and_search\n"
        f"assert main(['--library', {str(library)!r}, 'models', 'download', {MODEL!r}]) == 0\n"
        f"_index_and_search(Path({str(library)!r}), Path({str(photo_dir)!r}))\n"
        "assert 'torch' not in sys.modules and 'open_clip' not in sys.modules\n", folder)
    assert done.returncode == 0, done.stderr
    installed = Registry(folder).installed(MODEL)
    assert installed is not None and installed.exported
    names = _files_in(folder / "clip" / MODEL)
    assert "weights.pt" not in names      # the weights themselves were never fetched
    assert {"visual.onnx", "text.onnx", "bpe_simple_vocab_16e6.txt.gz"} <= set(names)
    # The int32, one-at-a-time text tower gives what the torch model gives.
    import torch

    from glimpse_desktop.search.clip_text import ClipTokenizer, OnnxTextEncoder

    files = exported(installed)
    texts = ["a red car", "a dog on the beach", "東京の夜景"]
    got = OnnxTextEncoder(files.text, ClipTokenizer(files.vocab)).encode(texts)
    with torch.no_grad():
        want = checkpoint["model"].encode_text(
            torch.from_numpy(ClipTokenizer(files.vocab)(texts)), normalize=True).numpy()
    assert float((got * want).sum(1).min()) >= 0.999


def test_an_export_that_is_not_the_model_is_refused(tmp_path: Path,
                                                    checkpoint: dict[str, Any],
                                                    hub: str) -> None:
    entry = _exported_entry(checkpoint, hub)
    entry["dim"] = 512       # the files are a 64-wide model
    folder = _model_dir(tmp_path, entry)
    registry = Registry(folder)
    with pytest.raises(ModelError, match="not its model") as caught:
        registry.download(MODEL)
    assert caught.value.code == "models.damaged"
    assert registry.installed(MODEL) is None
    assert not registry.folder(MODEL).exists()


def _install_weights_only(folder: Path, checkpoint: dict[str, Any]) -> Path:
    """A model as an older Glimpse installed it: the weights and their record, no ONNX."""
    target = folder / "clip" / MODEL
    target.mkdir(parents=True)
    shutil.copyfile(checkpoint["path"], target / "weights.pt")
    body = (target / "weights.pt").read_bytes()
    (target / "installed.json").write_text(json.dumps({
        "id": MODEL, "file": "weights.pt", "sha256": hashlib.sha256(body).hexdigest(),
        "size": len(body), "source": "file"}))
    return target


def test_a_model_installed_before_conversion_is_converted_on_first_use(
        tmp_path: Path, checkpoint: dict[str, Any], photo_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _model_dir(tmp_path, _entry(checkpoint))
    monkeypatch.setenv("GLIMPSE_MODEL_DIR", str(folder))
    target = _install_weights_only(folder, checkpoint)
    # Without torch, using it says what to install (and converts nothing).
    done = _run_without_torch(
        "from pathlib import Path\n"
        "from glimpse_desktop.kernel.registry import ModelError, Registry\n"
        "from glimpse_desktop.search.export import ensure_exported\n"
        f"installed = Registry(Path({str(folder)!r})).require({MODEL!r})\n"
        "try:\n"
        "    ensure_exported(installed)\n"
        "except ModelError as exc:\n"
        "    print(exc.code, exc.values['install'])\n", folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("models.needs_torch")
    assert "[torch]'" in done.stdout and "-m pip install" in done.stdout
    assert not list(target.glob("*.onnx"))
    # With torch, the first index converts it, and search works.
    _index_and_search(tmp_path / "lib.sqlite3", photo_dir)
    installed = Registry(folder).require(MODEL)
    assert exported(installed).complete


# ---------------------------------------------------------------------------- offline adds


def test_an_export_folder_in_the_hubs_layout_adds_and_searches_without_torch(
        tmp_path: Path, checkpoint: dict[str, Any], towers: tuple[Path, Path],
        photo_dir: Path) -> None:
    visual, text = towers
    # As a clone of the Hugging Face repository has it, without a vocabulary.
    given = tmp_path / "ViT-tiny__export"
    (given / "visual").mkdir(parents=True)
    (given / "textual").mkdir()
    shutil.copyfile(visual, given / "visual" / "model.onnx")
    shutil.copyfile(text, given / "textual" / "model.onnx")
    (given / "config.json").write_text("{}")
    vocab_digest = hashlib.sha256(default_vocab_path().read_bytes()).hexdigest()
    url = f"http://127.0.0.1:{closed_port()}/m/resolve/main"
    entry = _entry(checkpoint, exported={
        "visual": {"file": "visual.onnx", "urls": [f"{url}/visual/model.onnx"]},
        "text": {"file": "text.onnx", "urls": [f"{url}/textual/model.onnx"]},
        "vocab": {"file": "bpe_simple_vocab_16e6.txt.gz", "urls": [f"{url}/vocab.gz"],
                  "sha256": vocab_digest}})
    folder = _model_dir(tmp_path, entry)
    library = tmp_path / "lib.sqlite3"
    done = _run_without_torch(
        "from pathlib import Path\n"
        "from glimpse_desktop.cli import main\n"
        "from tests.test_export import _index_and_search\n"
        f"assert main(['--library', {str(library)!r}, 'models', 'add', {MODEL!r}, "
        f"{str(given)!r}]) == 0\n"
        f"_index_and_search(Path({str(library)!r}), Path({str(photo_dir)!r}))\n"
        "assert 'torch' not in sys.modules and 'open_clip' not in sys.modules\n", folder)
    assert done.returncode == 0, done.stderr
    installed = Registry(folder).installed(MODEL)
    assert installed is not None and installed.exported
    files = exported(installed)
    assert files.visual.read_bytes() == visual.read_bytes()
    assert files.text.read_bytes() == text.read_bytes()
    # The vocabulary is the copy that ships with Glimpse, checked against the manifest.
    assert hashlib.sha256(files.vocab.read_bytes()).hexdigest() == vocab_digest
    assert (given / "visual" / "model.onnx").is_file()      # the source is left alone


def test_a_zip_of_our_own_export_adds_a_model_listed_only_as_weights(
        tmp_path: Path, checkpoint: dict[str, Any], towers: tuple[Path, Path]) -> None:
    import zipfile

    visual, text = towers
    archive = tmp_path / "tiny-export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(visual, "tiny-export/visual.onnx")
        z.write(text, "tiny-export/text.onnx")
        z.writestr("../../escape.onnx", b"a member's path is never used as a path")
    registry = Registry(_model_dir(tmp_path, _entry(checkpoint)))
    installed = registry.add(MODEL, archive)
    files = exported(installed)
    assert files.complete and installed.exported
    assert files.visual.read_bytes() == visual.read_bytes()
    assert not (tmp_path / "escape.onnx").exists()
    assert not list(registry.folder(MODEL).parent.glob(".add-*"))   # scratch removed
    assert registry.installed(MODEL) is not None
    # A model folder copied from another Glimpse (digest-named files) adds the same way.
    other = Registry(_model_dir(tmp_path / "b", _entry(checkpoint)))
    assert exported(other.add(MODEL, installed.folder)).complete
    assert registry.remove(MODEL) is True and not registry.folder(MODEL).exists()


def test_a_folder_or_zip_that_is_not_the_export_is_refused_and_leaves_nothing(
        tmp_path: Path, checkpoint: dict[str, Any], towers: tuple[Path, Path]) -> None:
    import zipfile

    registry = Registry(_model_dir(tmp_path, _entry(checkpoint)))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="holds no ONNX export") as caught:
        registry.add(MODEL, empty)
    assert caught.value.code == "models.not_an_export"
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match=r"could not be read as a \.zip"):
        registry.add(MODEL, junk)
    # Towers that are not this model's (a 64-wide model where 512 is listed).
    visual, text = towers
    wrong = Registry(_model_dir(tmp_path / "w", {**_entry(checkpoint), "dim": 512}))
    archive = tmp_path / "wrong.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(visual, "visual.onnx")
        z.write(text, "text.onnx")
    with pytest.raises(ModelError, match="not its model"):
        wrong.add(MODEL, archive)
    with pytest.raises(ModelError, match="one file of an ONNX export"):
        registry.add(MODEL, visual)
    for reg in (registry, wrong):
        assert reg.installed(MODEL) is None
        assert not (reg.model_dir / "clip").exists()


def test_the_vocabulary_ships_with_glimpse_and_is_the_manifests(tmp_path: Path) -> None:
    done = _run_without_torch(
        "from glimpse_desktop.search.clip_text import ClipTokenizer, default_vocab_path\n"
        "print(default_vocab_path())\n"
        "assert ClipTokenizer()('a red car').shape == (1, 77)\n", tmp_path)
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.parent == Path(__file__).resolve().parent.parent / "glimpse_desktop" / \
        "search" / "data"
    manifest = json.loads((path.parents[3] / "models" / "manifest.json").read_text())
    (default,) = [e for e in manifest["clip"] if e.get("default")]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == default["exported"]["vocab"][
        "sha256"]


def test_a_second_ctrl_c_while_an_export_is_checked_keeps_the_downloaded_files(
        tmp_path: Path, checkpoint: dict[str, Any], hub: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The files of a trusted export are verified by their digests before the kind checks
    them; an interrupt then (a second Ctrl-C) keeps them, and the next try installs from them
    without fetching them again."""
    from glimpse_desktop.search import export as export_module

    folder = _model_dir(tmp_path, _exported_entry(checkpoint, hub))
    real_install = export_module.install_model

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(export_module, "install_model", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Registry(folder).download(MODEL)
    target = folder / "clip" / MODEL
    kept = {name: (target / name).stat().st_ino
            for name in ("visual.onnx", "text.onnx", "bpe_simple_vocab_16e6.txt.gz")}
    assert Registry(folder).installed(MODEL) is None

    monkeypatch.setattr(export_module, "install_model", real_install)
    Registry(folder).download(MODEL)
    installed = Registry(folder).installed(MODEL)
    assert installed is not None and installed.exported
    # The same files, not fetched again (a download replaces a file by renaming a new one).
    assert {name: (target / name).stat().st_ino for name in kept} == kept
