"""The settings dialog against a real library: folders added and removed through the dialog,
models installed from a file and downloaded from a (local) server, a restricted face pack that
asks for its licence first, thresholds that regroup real faces, the device as `doctor` sees it,
and the window's place remembered in a settings file of the test's own (conftest's
``_own_settings`` points QSettings at the test's folder)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Doctor, Library
from glimpse_desktop.gui.settings import SettingsDialog, app_settings
from glimpse_desktop.gui.tasks import Jobs, Tasks
from glimpse_desktop.kernel.progress import Progress
from tests import facephotos
from tests import imagegen as ig
from tests.facephotos import GROUP, IDENTITY

MODEL = "tiny-test"
BUILTIN_PACK = "yunet-sface"
TEST_PACK = "test-pack"


@pytest.fixture
def open_settings(qtbot: QtBot, lib: Library, workers: tuple[Tasks, Jobs]
                  ) -> Callable[[], SettingsDialog]:
    def make() -> SettingsDialog:
        dialog = SettingsDialog(lib, *workers)
        qtbot.addWidget(dialog)
        return dialog

    return make


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A tiny random-initialised open_clip model saved as a publisher would (see
    tests/clipmodels.py)."""
    import torch

    from tests.clipmodels import tiny_clip

    model, _, config, arch = tiny_clip(0)
    path = tmp_path_factory.mktemp("weights") / f"{MODEL}.pt"
    torch.save(model.state_dict(), path)
    return {"path": path, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "size": path.stat().st_size, "config": config, "arch": arch}


class _Files(BaseHTTPRequestHandler):
    """A plain file server: what a model host answers for a download."""

    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, bytes]]]:
    files: ClassVar[dict[str, bytes]] = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Files,), {"files": files}))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", files
    finally:
        httpd.shutdown()


def _manifest(lib: Library, manifest: dict[str, Any]) -> None:
    folder = lib.paths.models / "manifest.d"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tests.json").write_text(json.dumps({"format": 1, **manifest}), "utf-8")


def _clip_entry(weights: dict[str, Any], urls: list[str]) -> dict[str, Any]:
    return {"id": MODEL, "name": "Tiny test model", "arch": weights["arch"], "dim": 64,
            "image_size": 224, "file": "weights.pt", "urls": urls, "size": weights["size"],
            "sha256": weights["sha256"], "licence": "test only",
            "licence_url": "https://example.org/licence", "summary": "A model for tests.",
            "config": weights["config"]}


def _visible_box(parent: Any) -> QMessageBox:
    boxes = [b for b in parent.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1
    return boxes[0]


def _click(box: QMessageBox, text: str) -> None:
    (button,) = [b for b in box.buttons() if b.text() == text]
    button.click()


def _texts(tree: Any) -> list[list[str]]:
    return [[tree.topLevelItem(i).text(c) for c in range(tree.columnCount())]
            for i in range(tree.topLevelItemCount())]


# ---------------------------------------------------------------------- folders


def test_folders_page_lists_each_folder_with_its_count_and_state(
        qtbot: QtBot, lib: Library, photo_dir: Path, tmp_path: Path,
        open_settings: Callable[[], SettingsDialog]) -> None:
    for i in range(3):
        ig.write_jpeg(photo_dir / f"IMG_{i}.jpg", (120, 80), seed=i)
    drive = tmp_path / "Drive"
    drive.mkdir()
    for i in range(2):
        ig.write_jpeg(drive / f"DSC_{i}.jpg", (120, 80), seed=10 + i)
    lib.add_root(photo_dir)
    lib.add_root(drive)
    lib.index()
    drive.rename(tmp_path / "Unplugged")         # the drive is gone; its photos are kept

    dialog = open_settings()
    assert dialog.current_page() == "folders"
    tree = dialog.folders.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 2)
    assert sorted(_texts(tree)) == sorted([
        [os.path.realpath(photo_dir), "3", "Available"],
        [os.path.realpath(drive), "2", "Not connected"]])
    # A folder that cannot be reached cannot be shown in the file manager.
    dialog.folders.select(os.path.realpath(drive))
    assert dialog.folders.remove_button.isEnabled()
    assert not dialog.folders.open_button.isEnabled()


def test_adding_a_folder_adds_it_to_the_library_and_says_so(
        qtbot: QtBot, lib: Library, photo_dir: Path,
        open_settings: Callable[[], SettingsDialog]) -> None:
    ig.write_jpeg(photo_dir / "IMG_1.jpg", (120, 80), seed=1)
    dialog = open_settings()
    page = dialog.folders
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.empty)   # nothing yet
    with qtbot.waitSignal(dialog.roots_changed):
        page.add_folder(str(photo_dir))
    assert [r.path for r in lib.roots()] == [os.path.realpath(photo_dir)]
    qtbot.waitUntil(lambda: page.tree.topLevelItemCount() == 1)
    assert page.stack.currentWidget() is page.tree
    assert page.notice.kind == "info" and "Added Pictures" in page.notice.text()
    assert _texts(page.tree)[0][2] == "Not read yet"

    # The same folder again: refused with the library's reason, and nothing changed.
    with qtbot.assertNotEmitted(dialog.roots_changed, wait=200):
        page.add_folder(str(photo_dir))
        qtbot.waitUntil(lambda: page.notice.kind == "error")
    assert "already in the library" in page.notice.text()
    assert len(lib.roots()) == 1


def test_removing_a_folder_asks_first_and_leaves_the_files(
        qtbot: QtBot, lib: Library, photo_dir: Path, workers: tuple[Tasks, Jobs],
        open_settings: Callable[[], SettingsDialog]) -> None:
    files = [ig.write_jpeg(photo_dir / f"IMG_{i}.jpg", (120, 80), seed=i) for i in range(3)]
    lib.add_root(photo_dir)
    lib.index()
    dialog = open_settings()
    dialog.show()
    page = dialog.folders
    qtbot.waitUntil(lambda: page.tree.topLevelItemCount() == 1)
    assert not page.remove_button.isEnabled()
    page.select(os.path.realpath(photo_dir))
    assert page.remove_button.isEnabled()

    # Cancel: the question goes away and so does nothing else.
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    box = _visible_box(page)
    assert box.text() == "Remove “Pictures” from the library?"
    assert "3 photos leave the library" in box.informativeText()
    assert "not touched" in box.informativeText()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    with qtbot.assertNotEmitted(dialog.roots_changed):
        box.button(QMessageBox.StandardButton.Cancel).click()
        # Actions run one at a time, in order, and report back in order: once one asked
        # after the answer has reported back, a removal the answer had started would have
        # reported already.
        with qtbot.waitCallback() as after:
            workers[0].run(lambda: None, done=after)
    assert len(lib.roots()) == 1 and lib.photo_count() == 3

    # Remove: the folder and its photos leave the library; the files stay on disk.
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.roots_changed):
        _click(_visible_box(page), "Remove Folder")
    assert lib.roots() == [] and lib.photo_count() == 0
    assert all(f.is_file() for f in files)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.empty)
    assert "3 photos left the library" in page.notice.text()


def test_library_page_says_where_the_library_is_and_what_it_holds(
        qtbot: QtBot, lib: Library, photo_dir: Path,
        open_settings: Callable[[], SettingsDialog]) -> None:
    for i in range(4):
        ig.write_jpeg(photo_dir / f"IMG_{i}.jpg", (120, 80), seed=i)
    lib.add_root(photo_dir)
    lib.index()
    dialog = open_settings()
    page = dialog.library
    qtbot.waitUntil(lambda: page.photos.text() != "…")
    assert page.photos.text() == "4 photos in 1 folder"
    assert page.paths["library"].text() == str(lib.paths.library)
    assert page.paths["cache"].text() == str(lib.paths.cache)
    assert page.paths["models"].text() == str(lib.paths.models)
    assert "The library file takes" in page.sizes.text()
    # Adding a folder through the dialog updates the count here as well.
    other = photo_dir.parent / "More"
    other.mkdir()
    with qtbot.waitSignal(dialog.roots_changed):
        dialog.folders.add_folder(str(other))
    qtbot.waitUntil(lambda: page.photos.text() == "4 photos in 2 folders")


# ---------------------------------------------------------------------- models


def test_model_lists_show_what_is_installed_and_in_use(
        qtbot: QtBot, lib: Library, open_settings: Callable[[], SettingsDialog]) -> None:
    dialog = open_settings()
    packs, clip = dialog.faces.packs, dialog.search.models
    qtbot.waitUntil(lambda: bool(packs.rows()) and bool(clip.rows()))
    builtin = packs.row(BUILTIN_PACK)
    assert builtin is not None and builtin.installed and builtin.active
    assert packs.state(BUILTIN_PACK) == "In use · Comes with Glimpse · Recommended"
    assert packs.selected() == BUILTIN_PACK           # the pack in use is shown first
    assert not packs.download_button.isVisible() and not packs.use_button.isEnabled()
    assert not packs.remove_button.isEnabled()
    # The InsightFace packs say their licence before anything is downloaded.
    packs.select("buffalo_l")
    assert "non-commercial" in packs.licence.text()
    assert "accept this licence" in packs.licence.text()
    assert packs.download_button.isEnabled()

    default = next(r for r in clip.rows() if r.default)
    assert not default.installed and not default.active
    assert clip.state(default.id) == "Not installed · Recommended"
    assert clip.selected() == default.id
    assert clip.download_button.isEnabled() and clip.add_button.isEnabled()
    assert not clip.use_button.isEnabled()
    assert f'href="{default.licence_url}"' in clip.licence.text()
    assert default.licence in clip.licence.text()


def test_add_from_file_installs_a_model_and_use_switches_search_to_it(
        qtbot: QtBot, lib: Library, weights: dict[str, Any], workers: tuple[Tasks, Jobs],
        open_settings: Callable[[], SettingsDialog]) -> None:
    _manifest(lib, {"clip": [_clip_entry(weights, [])]})
    dialog = open_settings()
    models = dialog.search.models
    qtbot.waitUntil(lambda: models.row(MODEL) is not None)
    assert models.state(MODEL) == "Not installed"
    models.select(MODEL)
    with qtbot.waitSignal(dialog.models_changed, timeout=60_000):
        models.add_from_file(MODEL, str(weights["path"]))
        # A job of the window: the status bar shows it and can cancel it.
        assert models.job is not None and models.job in workers[1].running
        assert not models.progress_row.isHidden()
    qtbot.waitUntil(lambda: getattr(models.row(MODEL), "installed", False))
    assert models.progress_row.isHidden()
    assert lib.models.installed(MODEL) is not None
    assert weights["path"].is_file()                      # the file itself is left alone
    assert models.state(MODEL) == "Installed"
    assert "is installed" in models.notice.text()
    assert models.use_button.isEnabled()

    with qtbot.waitSignal(dialog.models_changed):
        qtbot.mouseClick(models.use_button, Qt.MouseButton.LeftButton)
    assert lib.semantic.target() == MODEL
    qtbot.waitUntil(lambda: models.state(MODEL).startswith("In use"))
    assert "Search uses Tiny test model" in models.notice.text()

    # Remove asks, then deletes the weights.
    box = models.remove(MODEL)
    assert box is not None and "Remove Tiny test model" in box.text()
    with qtbot.waitSignal(dialog.models_changed):
        _click(box, "Remove")
    assert lib.models.installed(MODEL) is None
    qtbot.waitUntil(lambda: not getattr(models.row(MODEL), "installed", True))


def test_add_from_file_takes_the_exported_folder_and_the_page_says_what_to_fetch(
        qtbot: QtBot, lib: Library, weights: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, open_settings: Callable[[], SettingsDialog]) -> None:
    import numpy as np

    from glimpse_desktop.gui.settings import models as models_page
    from glimpse_desktop.search.clip_text import export_text_onnx
    from glimpse_desktop.search.export import export_visual_onnx
    from tests.clipmodels import tiny_clip

    model = tiny_clip(0)[0]
    export = tmp_path / "Downloads" / "tiny-export"
    export.mkdir(parents=True)
    probes = np.random.default_rng(0).normal(size=(3, 3, 224, 224)).astype(np.float32)
    export_visual_onnx(model, export / "visual.onnx", image_size=224, probes=probes)
    export_text_onnx(model, export / "text.onnx")
    hub = "https://huggingface.co/tests/tiny/resolve/main"
    _manifest(lib, {"clip": [{**_clip_entry(weights, [f"{hub}/weights.pt"]), "exported": {
        "visual": {"file": "visual.onnx", "urls": [f"{hub}/visual/model.onnx"]},
        "text": {"file": "text.onnx", "urls": [f"{hub}/textual/model.onnx"]},
        "vocab": {"file": "bpe_simple_vocab_16e6.txt.gz", "urls": [f"{hub}/vocab.gz"]}}}]})
    dialog = open_settings()
    models = dialog.search.models
    qtbot.waitUntil(lambda: models.row(MODEL) is not None)
    models.select(MODEL)
    # Not installed: the page names the files to fetch elsewhere, linked, and no torch.
    fetch = models.fetch.text()
    assert not models.fetch.isHidden()
    assert f'href="{hub}/visual/model.onnx"' in fetch and "saved as visual.onnx" in fetch
    assert f'href="{hub}/textual/model.onnx"' in fetch and "saved as text.onnx" in fetch
    assert "nothing needs torch" in fetch and models.add_button.text() in fetch
    # The button asks folder or file first: one dialog cannot pick both.
    menu = models.add_button.menu()
    assert menu is not None
    assert [a.text() for a in menu.actions()] == [
        "Folder of the Exported Model…", "Zip of the Exported Model, or Weights File…"]
    asked: list[str] = []

    def pick_folder(parent: Any, caption: str, start: str) -> str:
        asked.append(caption)
        return str(export)

    # The OS dialog is the one seam: it answers as a person choosing the folder would.
    monkeypatch.setattr(models_page.QFileDialog, "getExistingDirectory",
                        staticmethod(pick_folder))
    with qtbot.waitSignal(dialog.models_changed, timeout=60_000):
        models.add_folder_action.trigger()
    assert asked and "Exported Model" in asked[0]
    installed = lib.models.installed(MODEL)
    assert installed is not None and installed.exported
    assert "weights.pt" not in {p.name for p in installed.folder.iterdir()}
    qtbot.waitUntil(lambda: models.state(MODEL) == "Installed")
    assert models.fetch.isHidden()


def test_download_shows_its_progress_and_installs_the_model(
        qtbot: QtBot, lib: Library, weights: dict[str, Any],
        server: tuple[str, dict[str, bytes]],
        open_settings: Callable[[], SettingsDialog]) -> None:
    base, files = server
    files["/tiny/weights.pt"] = weights["path"].read_bytes()
    _manifest(lib, {"clip": [_clip_entry(weights, [f"{base}/tiny/weights.pt"])]})
    dialog = open_settings()
    models = dialog.search.models
    qtbot.waitUntil(lambda: models.row(MODEL) is not None)
    models.select(MODEL)
    events: list[Progress] = []
    labels: list[str] = []
    with qtbot.waitSignal(dialog.models_changed, timeout=60_000):
        qtbot.mouseClick(models.download_button, Qt.MouseButton.LeftButton)
        assert models.job is not None and models.job.name == "Downloading Tiny test model"
        models.job.progress.connect(events.append)
        models.job.progress.connect(lambda _: labels.append(models.progress_label.text()))
    downloads = [e for e in events if e.phase == "download"]
    assert downloads and downloads[-1].done == downloads[-1].total == weights["size"]
    assert any(text.startswith("Downloading ") and " of " in text for text in labels)
    installed = lib.models.installed(MODEL)
    assert installed is not None and installed.sha256 == weights["sha256"]
    qtbot.waitUntil(lambda: models.state(MODEL) == "Installed")


def test_restricted_face_pack_asks_for_its_licence_before_download(
        qtbot: QtBot, lib: Library, server: tuple[str, dict[str, bytes]],
        workers: tuple[Tasks, Jobs], open_settings: Callable[[], SettingsDialog]) -> None:
    # A pack under a restricted licence, served from a local host: the default pack's own
    # files stand in for its models.
    builtin = lib.models.face_pack(BUILTIN_PACK)
    source = lib.models.face_folder(builtin)
    base, files = server
    entry: dict[str, Any] = {
        "id": TEST_PACK, "name": "Test pack", "format": "yunet-sface", "dim": 128,
        "licence": "Test licence: non-commercial research only",
        "licence_url": "https://example.org/pack-licence", "restricted": True,
        "summary": "For tests.", "thresholds": {"join": 0.5, "found": 0.6}}
    for role, f in (("detector", builtin.detector), ("recognizer", builtin.recognizer)):
        files[f"/pack/{f.name}"] = (source / f.name).read_bytes()
        entry[role] = {"file": f.name, "sha256": f.sha256,
                       "size": len(files[f"/pack/{f.name}"]),
                       "urls": [f"{base}/pack/{f.name}"]}
    _manifest(lib, {"faces": [entry]})
    dialog = open_settings()
    dialog.show()
    packs = dialog.faces.packs
    qtbot.waitUntil(lambda: packs.row(TEST_PACK) is not None)
    packs.select(TEST_PACK)
    assert packs.state(TEST_PACK) == "Not installed"

    # Declined: nothing is downloaded.
    qtbot.mouseClick(packs.download_button, Qt.MouseButton.LeftButton)
    box = _visible_box(packs)
    assert "Test licence: non-commercial research only" in box.informativeText()
    assert "https://example.org/pack-licence" in box.informativeText()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert packs.job is None and not workers[1].running
    assert lib.models.face_installed(lib.models.face_pack(TEST_PACK)) is None

    # Accepted: downloaded, checked and installed.
    qtbot.mouseClick(packs.download_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.models_changed, timeout=60_000):
        _click(_visible_box(packs), "Accept and Download")
    assert lib.models.face_installed(lib.models.face_pack(TEST_PACK)) is not None
    qtbot.waitUntil(lambda: packs.state(TEST_PACK) == "Installed")

    # Used: People switches to it, and the thresholds shown are the new pack's own.
    faces = dialog.faces
    qtbot.waitUntil(lambda: faces.join.value() == pytest.approx(0.42))
    with qtbot.waitSignal(dialog.models_changed):
        packs.use(TEST_PACK)
    assert lib.people.pack().id == TEST_PACK
    qtbot.waitUntil(lambda: faces.join.value() == pytest.approx(0.5))
    assert faces.found.value() == pytest.approx(0.6)
    assert "People now uses Test pack" in packs.notice.text()


# ---------------------------------------------------------------------- faces


@pytest.fixture
def people_lib(photo_dir: Path, lib: Library) -> Library:
    face_photos = facephotos.photos()
    for name in [*IDENTITY, GROUP]:
        shutil.copy(face_photos / name, photo_dir / name)
    lib.add_root(photo_dir)
    lib.index()
    return lib


def test_thresholds_apply_and_regroup_the_faces(
        qtbot: QtBot, people_lib: Library, workers: tuple[Tasks, Jobs],
        open_settings: Callable[[], SettingsDialog]) -> None:
    lib = people_lib
    before = lib.people.params()
    faces_found = lib.people.status().faces
    assert faces_found > 0
    dialog = open_settings()
    dialog.show_page("faces")
    page = dialog.faces
    qtbot.waitUntil(lambda: page.apply_button.isEnabled())
    assert page.enabled.isChecked()
    assert (page.join.value(), page.found.value(), page.min_faces.value()) == (
        pytest.approx(before.join), pytest.approx(before.found), before.min_faces)

    page.join.setValue(0.6)
    page.found.setValue(0.7)
    page.min_faces.setValue(2)
    with qtbot.waitSignal(dialog.people_changed, timeout=60_000):
        qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
        assert any(job.name == "Grouping faces" for job in workers[1].running)
    after = lib.people.params()
    assert (after.join, after.found, after.min_faces) == (pytest.approx(0.6),
                                                          pytest.approx(0.7), 2)
    assert page.group_note.text().startswith(f"Grouped {faces_found:,} faces")

    # Restore Defaults puts back the pack's values (applied only when asked).
    qtbot.mouseClick(page.defaults_button, Qt.MouseButton.LeftButton)
    assert (page.join.value(), page.found.value(), page.min_faces.value()) == (
        pytest.approx(0.42), pytest.approx(0.48), 3)
    assert lib.people.params().join == pytest.approx(0.6)


def test_turning_faces_off_is_kept_by_the_library(
        qtbot: QtBot, lib: Library, open_settings: Callable[[], SettingsDialog]) -> None:
    dialog = open_settings()
    page = dialog.faces
    qtbot.waitUntil(lambda: page.enabled.isEnabled())
    assert page.enabled.isChecked()
    with qtbot.waitSignal(dialog.models_changed):
        page.enabled.setChecked(False)
    assert not lib.people.enabled()
    assert "off" in page.enabled_note.text()
    with qtbot.waitSignal(dialog.models_changed):
        page.enabled.setChecked(True)
    assert lib.people.enabled()


# ---------------------------------------------------------------------- device


def test_device_page_shows_what_doctor_says_read_off_the_gui_thread(
        qtbot: QtBot, lib: Library, open_settings: Callable[[], SettingsDialog]) -> None:
    threads: list[object] = []
    original = lib.doctor

    def spy() -> Doctor:
        threads.append(QThread.currentThread())
        return original()

    lib.doctor = spy  # type: ignore[method-assign]
    dialog = open_settings()
    assert threads == []                      # only asked once the page is shown
    dialog.show_page("device")
    page = dialog.device
    qtbot.waitUntil(lambda: page.info is not None, timeout=60_000)
    assert threads and QThread.currentThread() not in threads
    info = original()
    provider = info.faces.providers[0].removesuffix("ExecutionProvider")
    faces = page.fields["faces"].text()
    assert faces.startswith(f"finding faces: ONNX Runtime on {provider} · recognising them: ")
    # The recogniser's own runtime, as the doctor reports it (OpenVINO where it is chosen).
    assert faces.endswith("OpenVINO on CPU") == (info.faces.recogniser == "openvino")
    chosen = info.devices.device
    assert chosen.why in page.fields["device"].text()
    assert page.fields["search"].text() == "no search model installed"
    assert "not installed" in page.fields["model"].text()
    assert page.copy_button.isEnabled()
    page.copy_details()
    from PySide6.QtGui import QGuiApplication

    copied = json.loads(QGuiApplication.clipboard().text())
    assert copied["devices"]["device"] == {"chosen": chosen.chosen, "why": chosen.why}


def test_window_place_and_page_are_remembered_in_the_settings_file(
        qtbot: QtBot, tmp_path: Path, _own_settings: Path,
        open_settings: Callable[[], SettingsDialog]) -> None:
    assert app_settings().fileName().startswith(str(_own_settings))
    dialog = open_settings()
    dialog.resize(720, 540)   # within the (offscreen) screen: Qt fits it there
    dialog.show()
    dialog.show_page("faces")
    qtbot.waitExposed(dialog)
    dialog.close()
    assert Path(app_settings().fileName()).is_file()
    again = open_settings()
    assert again.current_page() == "faces"
    assert (again.width(), again.height()) == (720, 540)
    with pytest.raises(ValueError, match="no settings page"):
        again.show_page("nonsense")
