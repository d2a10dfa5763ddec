"""A command loads only what it uses: indexing, searching and the window never import torch,
open_clip or torchvision (they are the conversion path of a model, not its runtime), and a
search with no place in it never imports scipy (the geocoder's trees), nor the face pack, Qt
or the captioning clients.

Each case runs the real thing in a subprocess under a guard: a meta-path finder that answers
for the forbidden packages with a loader that records the attempt and raises, so an import
anywhere (ours, or a library's "optional" one behind ``except ImportError``) fails loudly;
at exit the guard also writes which modules were loaded. The model is a small random-weight
open_clip model installed the way a person installs one (``Library.add_model``, which exports
it to ONNX: that step may use torch, in this test's own process)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from glimpse_desktop.api import Library
from tests.imagegen import write_jpeg

ROOT = Path(__file__).resolve().parent.parent
MODEL = "tiny-imports"
CONVERSION = ("torch", "open_clip", "torchvision")

# Runs first in the child: the guard, then the command (a module run as __main__, or a file).
GUARD = r'''
import atexit, importlib.abc, importlib.machinery, json, os, runpy, sys

FORBIDDEN = frozenset(os.environ["GUARD_FORBID"].split(","))
attempts = []


def report():
    with open(os.environ["GUARD_OUT"], "w") as fh:
        json.dump({"attempts": attempts, "modules": sorted(sys.modules)}, fh)


class Refuse(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        # Found (so a check that a package is installed still says so), never loaded.
        if name.partition(".")[0] in FORBIDDEN:
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        attempts.append(module.__name__)
        report()
        raise RuntimeError(f"{module.__name__} must not be imported by this command")


sys.meta_path.insert(0, Refuse())
atexit.register(report)
what, args = sys.argv[1], sys.argv[2:]
if what == "-m":
    sys.argv = ["glimpse", *args[1:]]
    runpy.run_module(args[0], run_name="__main__", alter_sys=True)
else:
    sys.argv = [what, *args]
    runpy.run_path(what, run_name="__main__")
'''

# The window over the library, offscreen: it opens, fills its grid's first page, and the
# grid's rows are read as the view reads them.
WINDOW = r'''
import os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from glimpse_desktop.gui import prepare_qt_environment
prepare_qt_environment()
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from glimpse_desktop.api import Library
from glimpse_desktop.gui.window import MainWindow

app = QApplication([sys.argv[0]])
lib = Library.open(sys.argv[1], load_models=False)
window = MainWindow(lib)
window.resize(1000, 700)
window.show()
expected = int(sys.argv[2])
deadline = time.monotonic() + 120
while window.model.rowCount() < expected and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
rows = window.model.rowCount()
names = [window.model.data(window.model.index(r, 0), Qt.ItemDataRole.DisplayRole)
         for r in range(rows)]
print("ROWS", rows, len([n for n in names if n and n.endswith(".jpg")]), flush=True)
window.close()
lib.close()
'''


def _guarded(tmp: Path, name: str, forbid: tuple[str, ...], *args: str,
             env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    guard = tmp / "guard.py"
    guard.write_text(GUARD)
    out = tmp / f"{name}.json"
    proc = subprocess.run(
        [sys.executable, str(guard), *args], capture_output=True, text=True, timeout=300,
        cwd=ROOT, env=dict(env, GUARD_FORBID=",".join(forbid), GUARD_OUT=str(out)),
        check=False)
    assert out.is_file(), proc.stderr[-3000:]
    return proc, json.loads(out.read_text())


def _loaded(record: dict[str, Any], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in record["modules"] if m.partition(".")[0] in packages)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, face_photos: Path
            ) -> tuple[Path, dict[str, str], Path]:
    """A library with a CLIP model installed and in use, its photos not read yet; the
    environment the commands run in; and a scratch folder."""
    import hashlib

    import torch

    from tests.clipmodels import tiny_clip

    tmp = tmp_path_factory.mktemp("imports")
    model, _, config, arch = tiny_clip(3)
    weights = tmp / "weights.pt"
    torch.save(model.state_dict(), weights)
    models = tmp / "models"
    (models / "manifest.d").mkdir(parents=True)
    (models / "manifest.d" / "tests.json").write_text(json.dumps({"format": 1, "clip": [{
        "id": MODEL, "name": "Test model", "arch": arch, "dim": 64, "image_size": 224,
        "file": "weights.pt", "urls": [], "size": weights.stat().st_size,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(), "licence": "test only",
        "config": config}]}))
    photos = tmp / "Photos"
    photos.mkdir()
    for i in range(3):
        write_jpeg(photos / f"IMG_{i}.jpg", (1200, 900), seed=i,
                   datetime_original=f"2024:05:0{i + 1} 10:00:00")
    shutil.copy(face_photos / "obama1.jpg", photos / "obama1.jpg")
    library = tmp / "lib" / "library.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    env.update(GLIMPSE_MODEL_DIR=str(models), GLIMPSE_CACHE_DIR=str(tmp / "cache"),
               GLIMPSE_LIBRARY=str(library), XDG_CONFIG_HOME=str(tmp / "config"),
               QT_QPA_PLATFORM="offscreen")
    saved = os.environ.copy()
    os.environ.update(GLIMPSE_MODEL_DIR=str(models), GLIMPSE_CACHE_DIR=str(tmp / "cache"))
    try:
        with Library.open(library) as lib:
            lib.add_model(MODEL, weights)        # exported to ONNX here, with torch
            lib.use_model(MODEL)
            lib.add_root(photos)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return library, env, tmp


@pytest.fixture(scope="module")
def index_run(indexed: tuple[Path, dict[str, str], Path]
              ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    _, env, tmp = indexed
    return _guarded(tmp, "index", CONVERSION, "-m", "glimpse_desktop", "index", "--json",
                    env=env)


def test_indexing_with_a_clip_model_never_imports_torch(
        index_run: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
        indexed: tuple[Path, dict[str, str], Path]) -> None:
    proc, record = index_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert record["attempts"] == []
    assert _loaded(record, CONVERSION) == []
    # The photos were read and embedded by the model (not skipped for want of torch).
    library, _, _ = indexed
    with Library.open(library, create=False) as lib:
        status = lib.status()
    assert status.photos == 4
    assert (status.search.active, status.search.embedded) == (MODEL, 4)


def test_a_search_imports_only_what_it_uses(
        index_run: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
        indexed: tuple[Path, dict[str, str], Path]) -> None:
    _, env, tmp = indexed
    # Nor the geocoder's scipy, the face pack's graph tools and OpenCV, the window's Qt, or
    # the captioning service's clients: a search loads the text tower and the library.
    forbid = (*CONVERSION, "scipy", "onnx", "cv2", "PySide6", "openai", "keyring")
    proc, record = _guarded(tmp, "search", forbid, "-m", "glimpse_desktop", "search",
                            "red car", "--json", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert record["attempts"] == []
    assert _loaded(record, forbid) == []
    # A real search ran, by content: the model's text tower was loaded for it.
    assert "onnxruntime" in {m.partition(".")[0] for m in record["modules"]}
    assert json.loads(proc.stdout)
    # Nor the features a plain query does not touch (a twelfth of a cold search each, or
    # more): they load on first use, and ftfy only for a query that is not plain ASCII;
    # nor exiv2 and LibRaw, which load with the first file read.
    untouched = {"exiv2", "rawpy", "glimpse_desktop.albums.auto", "glimpse_desktop.albums.events",
                 "glimpse_desktop.albums.export", "glimpse_desktop.albums.store",
                 "glimpse_desktop.api.doctor", "glimpse_desktop.captions.service",
                 "glimpse_desktop.faces.people", "glimpse_desktop.faces.store",
                 "glimpse_desktop.metadata.extract", "glimpse_desktop.places.geocode",
                 "glimpse_desktop.places.service", "glimpse_desktop.writeback.service",
                 "ftfy"}
    assert sorted(untouched & set(record["modules"])) == []


def test_the_window_over_the_library_never_imports_torch(
        index_run: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
        indexed: tuple[Path, dict[str, str], Path]) -> None:
    pytest.importorskip("PySide6")
    _, env, tmp = indexed
    script = tmp / "window.py"
    script.write_text(WINDOW)
    library = env["GLIMPSE_LIBRARY"]
    proc, record = _guarded(tmp, "window", CONVERSION, str(script), library, "4", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ROWS 4 4" in proc.stdout, proc.stdout + proc.stderr[-3000:]
    assert record["attempts"] == []
    assert _loaded(record, CONVERSION) == []
    assert "PySide6" in {m.partition(".")[0] for m in record["modules"]}


def _type_checking_imports(path: Path) -> dict[str, tuple[str, str]]:
    """The names a module's ``if TYPE_CHECKING:`` block imports, and from where."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for item in node.body:
                if isinstance(item, ast.ImportFrom) and item.module:
                    for alias in item.names:
                        found[alias.asname or alias.name] = (item.module, alias.name)
    return found


def test_the_lazy_public_names_are_the_ones_type_checkers_see() -> None:
    """The facade imports its names on first use (PEP 562); what mypy sees is a separate list
    of imports. Both say the same, and every public name resolves to its module's object."""
    import importlib

    import glimpse_desktop.api as api
    import glimpse_desktop.api.library as library

    seen = _type_checking_imports(ROOT / "glimpse_desktop" / "api" / "__init__.py")
    assert seen == api._WHERE
    for name in api.__all__:
        if name in api._WHERE:
            module, attr = api._WHERE[name]
            assert getattr(api, name) is getattr(importlib.import_module(module), attr), name
        else:
            assert name in vars(api), name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        api.Nope  # noqa: B018
    assert api.library is library            # submodules still answer as attributes
    lazy = {name: (module, name) for name, module in library._LAZY.items()}
    assert lazy.items() <= _type_checking_imports(
        ROOT / "glimpse_desktop" / "api" / "library.py").items()
    for name in library.__all__:
        assert getattr(library, name) is not None, name
