"""Captions and write-back in the window, against a real library: the viewer's caption (read,
written by the person, kept from a captioning run), the Captions settings page (nothing is on
until the person agrees to what is sent, and to whom), the Write-Back page writing real XMP
sidecars beside real photos, and the window keeping them in step in the background."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
)
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.photo_model import PhotoListModel
from glimpse_desktop.gui.settings import SettingsDialog, app_settings
from glimpse_desktop.gui.tasks import Jobs, Tasks
from glimpse_desktop.gui.viewer import Viewer
from tests import captionserver as cs
from tests import imagegen as ig
from tests.captionserver import (  # noqa: F401 - fixtures
    FakeService,
    MemoryKeyring,
    memory_keyring_fixture,
    service_fixture,
)

WAIT = 30_000


@pytest.fixture
def two_photos(lib: Library, photo_dir: Path) -> list[Path]:
    paths = [ig.write_jpeg(photo_dir / "harbour.jpg", (900, 600), seed=1,
                           datetime_original="2024:05:04 10:00:00", gps=(38.70, -9.14, 5.0)),
             ig.write_jpeg(photo_dir / "kitchen.jpg", (600, 900), seed=2,
                           datetime_original="2024:05:05 19:00:00")]
    lib.add_root(photo_dir)
    lib.index()
    return paths


def _id(lib: Library, path: Path) -> int:
    info = lib.photo(str(path))
    assert info is not None
    return int(info.id)


@pytest.fixture(autouse=True)
def _hermetic(memory_keyring: MemoryKeyring) -> None:
    """No test touches the developer's own keyring or keys."""


def _press(box: QMessageBox, text: str) -> None:
    next(b for b in box.buttons() if b.text() == text).click()


# ---------------------------------------------------------------------- the viewer


def test_a_person_writes_a_caption_in_the_viewer_and_search_finds_it(
        qtbot: QtBot, lib: Library, two_photos: list[Path], workers: tuple[Tasks, Jobs]
) -> None:
    model = PhotoListModel(lib)
    while model.canFetchMore():
        model.fetchMore()
    row = next(i for i, r in enumerate(model.rows) if r.filename == "harbour.jpg")
    viewer = Viewer(lib, workers[0])
    qtbot.addWidget(viewer)
    viewer.resize(1200, 800)
    viewer.show()
    viewer.open(model, row)
    panel = viewer.panel
    qtbot.waitUntil(lambda: "size" in panel.texts, timeout=WAIT)
    qtbot.waitUntil(lambda: any("Add a caption" in label.text() and label.isVisible()
                                for label in panel.body.findChildren(QLabel)), timeout=WAIT)

    editor = panel.edit_caption()
    assert editor is not None and editor.isVisible()
    qtbot.keyClicks(editor, "Fishing boats moored in the quayside at dawn")
    photo_id = _id(lib, two_photos[0])
    with qtbot.waitSignal(viewer.metadata_changed, timeout=WAIT) as changed:
        qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert changed.args == [photo_id]
    qtbot.waitUntil(lambda: panel.texts.get("caption_by") == "Written by you", timeout=WAIT)
    assert panel.texts["caption"] == "Fishing boats moored in the quayside at dawn"
    assert panel.caption_editor is None            # back to reading
    caption = lib.captions.get(photo_id)
    assert caption is not None and caption.source == "user"
    found = [r.path for r in lib.text_search("quayside")]
    assert found == [str(two_photos[0])]

    # Cancel leaves it as it was; an empty caption removes it.
    editor = panel.edit_caption()
    assert editor is not None
    editor.setPlainText("something else entirely")
    next(b for b in panel.body.findChildren(QPushButton)
         if b.text() == "Cancel" and b.isVisible()).click()
    assert panel.texts["caption"] == "Fishing boats moored in the quayside at dawn"
    editor = panel.edit_caption()
    assert editor is not None
    editor.clear()
    with qtbot.waitSignal(viewer.metadata_changed, timeout=WAIT):
        qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "caption" not in panel.texts, timeout=WAIT)
    assert lib.captions.get(photo_id) is None
    assert lib.text_search("quayside") == []


# ---------------------------------------------------------------------- captions settings


def test_captioning_stays_off_until_the_person_agrees_to_what_is_sent_and_to_whom(
        qtbot: QtBot, lib: Library, settings: Callable[[str], SettingsDialog],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GLIMPSE_CAPTION_BASE_URL", "GLIMPSE_CAPTION_MODEL", "GLIMPSE_CAPTION_API_KEY",
                 "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    dialog = settings("captions")
    page = dialog.captions
    qtbot.waitUntil(lambda: page.enabled.isEnabled(), timeout=WAIT)
    assert not page.enabled.isChecked()
    assert page.enabled_note.text() == "Off: no photo leaves this computer."
    assert page.base_url.text() == "https://api.openai.com/v1"
    assert page.key_state.text() == "None yet."
    assert not page.run_button.isEnabled()         # nothing to run while captions are off

    # A local service: chosen from the list, no key needed.
    page.service.setCurrentIndex(3)
    page.service.activated.emit(3)
    qtbot.waitUntil(lambda: lib.config.get("caption.base_url") == "http://localhost:11434/v1",
                    timeout=WAIT)
    qtbot.waitUntil(lambda: page.key_state.text().startswith("Not needed"), timeout=WAIT)
    assert lib.config.get("caption.model") == "qwen2.5vl"
    assert not lib.config.get("caption.enabled")

    # Turning it on asks first; saying no leaves it off.
    page.enabled.setChecked(True)
    qtbot.waitUntil(lambda: getattr(page, "consent_box", None) is not None, timeout=WAIT)
    box = page.consent_box
    assert "localhost" in box.text()
    assert "1024" in box.informativeText()          # the size of what is sent
    _press(box, "Cancel")
    qtbot.waitUntil(lambda: not page.enabled.isChecked(), timeout=WAIT)
    assert not lib.config.get("caption.enabled") and not lib.captions.consented()

    page.enabled.setChecked(True)
    qtbot.waitUntil(lambda: page.consent_box is not box, timeout=WAIT)
    _press(page.consent_box, "Send to localhost")
    qtbot.waitUntil(lambda: lib.captions.consented(), timeout=WAIT)
    assert lib.config.get("caption.enabled")
    qtbot.waitUntil(lambda: page.enabled_note.text().startswith("On: photos go to localhost"),
                    timeout=WAIT)
    assert page.run_button.isEnabled()

    # Another model is another destination: asked again; no turns captioning off.
    asked = page.consent_box
    page.model.setText("llava")
    page.model.editingFinished.emit()
    qtbot.waitUntil(lambda: page.consent_box is not asked, timeout=WAIT)
    assert "llava" in page.consent_box.informativeText()
    _press(page.consent_box, "Cancel")
    qtbot.waitUntil(lambda: not lib.config.get("caption.enabled"), timeout=WAIT)
    assert lib.config.get("caption.model") == "llava"

    # The pace and the cap are the library's settings, as `glimpse config` shows them.
    page.rpm.setValue(12)
    page.rpm.editingFinished.emit()
    page.max_cost.setValue(2.5)
    page.max_cost.editingFinished.emit()
    page.auto.setChecked(True)
    qtbot.waitUntil(lambda: lib.config.get("caption.rpm") == 12
                    and lib.config.get("caption.max_cost") == 2.5
                    and lib.config.get("caption.auto") is True, timeout=WAIT)


def test_caption_photos_now_says_what_it_costs_then_the_viewer_shows_what_the_model_saw(
        qtbot: QtBot, lib: Library, two_photos: list[Path], service: FakeService,
        settings: Callable[[str], SettingsDialog], workers: tuple[Tasks, Jobs]) -> None:
    lib.config.set("caption.base_url", service.url)
    lib.config.set("caption.model", "test-vision")
    lib.config.set("caption.enabled", True)
    lib.config.set("caption.price_in", 1000.0)
    lib.config.set("caption.price_out", 4000.0)
    lib.captions.give_consent()
    service.default = lambda body: cs.good("Fishing boats moored in a small harbour.")
    dialog = settings("captions")
    page = dialog.captions
    qtbot.waitUntil(lambda: page.run_button.isEnabled(), timeout=WAIT)
    page.caption_now()
    qtbot.waitUntil(lambda: getattr(page, "confirm_box", None) is not None, timeout=WAIT)
    assert "2 photos to send" in page.confirm_box.informativeText()
    assert "Estimated cost: $5.00 (a guess of" in page.confirm_box.informativeText()
    assert service.requests == []                  # nothing sent before the person says so
    with qtbot.waitSignal(dialog.captions_changed, timeout=WAIT):
        _press(page.confirm_box, "Caption")
    assert page.run_note.text().startswith("Wrote 2 captions")
    assert len(service.requests) == 2

    model = PhotoListModel(lib)
    while model.canFetchMore():
        model.fetchMore()
    viewer = Viewer(lib, workers[0])
    qtbot.addWidget(viewer)
    viewer.resize(1200, 800)
    viewer.show()
    viewer.open(model, 0)
    panel = viewer.panel
    qtbot.waitUntil(lambda: "caption_by" in panel.texts, timeout=WAIT)
    assert panel.texts["caption"] == "Fishing boats moored in a small harbour."
    assert panel.texts["caption_objects"] == "red Bicycle, yellow wall"
    assert panel.texts["caption_details"] == ("Scene: city street\nMood: calm\n"
                                              "Composition: rule of thirds, leading lines")
    assert panel.texts["caption_text"] == "Text in the photo: NO PARKING"
    assert panel.texts["caption_by"] == "Written by test-vision"

    # A second run has nothing left to send.
    page.caption_now()
    qtbot.waitUntil(lambda: page.run_note.text() == "Every photo has a caption already.",
                    timeout=WAIT)


def test_the_api_key_set_in_the_window_goes_to_the_keyring_and_nowhere_else(
        qtbot: QtBot, lib: Library, settings: Callable[[str], SettingsDialog],
        memory_keyring: MemoryKeyring, _own_settings: Path) -> None:
    secret = "sk-window-typed-7f3a9c"
    dialog = settings("captions")
    page = dialog.captions
    qtbot.waitUntil(lambda: page.key_state.text() == "None yet.", timeout=WAIT)

    # The person presses "Set Key…" and types the key into the dialog it opens.
    asked: list[str] = []

    def type_key() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QInputDialog)
        asked.append(box.labelText())
        box.setTextValue(f"  {secret}  ")
        box.accept()

    QTimer.singleShot(0, type_key)
    page.set_key_button.click()
    assert asked and "api.openai.com" in asked[0] and "keyring" in asked[0]
    qtbot.waitUntil(lambda: page.key_state.text() == "Kept in the system keyring.",
                    timeout=WAIT)
    assert page.notice.text() == "Key saved in the system keyring."
    assert memory_keyring.store == {("glimpse-desktop", "api.openai.com"): secret}
    assert lib.captions.api_key() == secret

    # Nowhere else: not in the window's settings (every key and value, and the files behind
    # them once the dialog has closed and saved its own state), not in the library.
    dialog.close()
    stored = app_settings()
    stored.sync()
    assert stored.allKeys(), "the window keeps its settings here: the check must see them"
    for key in stored.allKeys():
        assert secret not in key and secret not in str(stored.value(key))
    for path in [p for p in _own_settings.rglob("*") if p.is_file()]:
        assert secret.encode() not in path.read_bytes(), path
    lib.config.set("caption.model", "gpt-4o-mini")        # a write, so the WAL has content
    for path in lib.paths.library.parent.iterdir():
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in " ".join(label.text() for label in page.findChildren(QLabel))


def test_a_service_chosen_by_environment_is_shown_and_not_editable(
        qtbot: QtBot, lib: Library, settings: Callable[[str], SettingsDialog],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLIMPSE_CAPTION_BASE_URL", "https://api.groq.com/openai/v1")
    monkeypatch.setenv("GLIMPSE_CAPTION_MODEL", "vision-x")
    monkeypatch.setenv("GLIMPSE_CAPTION_API_KEY", "sk-test-not-shown")
    dialog = settings("captions")
    page = dialog.captions
    qtbot.waitUntil(lambda: page.enabled.isEnabled(), timeout=WAIT)
    assert page.base_url.text() == "https://api.groq.com/openai/v1"
    assert page.model.text() == "vision-x"
    assert not page.base_url.isEnabled() and not page.model.isEnabled()
    assert "GLIMPSE_CAPTION_BASE_URL" in page.env_note.text()
    assert page.key_state.text() == "From the environment (GLIMPSE_CAPTION_API_KEY)."
    shown = " ".join(label.text() for label in page.findChildren(QLabel))
    assert "sk-test-not-shown" not in shown


# ---------------------------------------------------------------------- write-back


def test_write_back_page_writes_sidecars_after_saying_how_many(
        qtbot: QtBot, lib: Library, two_photos: list[Path],
        settings: Callable[[str], SettingsDialog]) -> None:
    harbour = _id(lib, two_photos[0])
    lib.captions.set_text(harbour, "Fishing boats at dawn")
    dialog = settings("writeback")
    page = dialog.writeback
    qtbot.waitUntil(lambda: page.write_button.isEnabled(), timeout=WAIT)
    assert not page.sync.isChecked() and page.sidecar.isChecked() and not page.embed.isChecked()

    # Writing into the originals is asked first; no keeps it off.
    page.embed.setChecked(True)
    qtbot.waitUntil(lambda: getattr(page, "embed_box", None) is not None, timeout=WAIT)
    _press(page.embed_box, "Cancel")
    qtbot.waitUntil(lambda: not page.embed.isChecked(), timeout=WAIT)
    assert not lib.config.get("writeback.embed")

    page.write_now()
    qtbot.waitUntil(lambda: getattr(page, "confirm_box", None) is not None, timeout=WAIT)
    assert page.confirm_box.text() == "Write 1 sidecar?"
    # Wide enough for its title: a narrow box had it cut by the window manager.
    box = page.confirm_box
    title = box.fontMetrics().horizontalAdvance(box.windowTitle())
    assert box.sizeHint().width() >= max(380, title * 2)
    _press(page.confirm_box, "Write")
    qtbot.waitUntil(lambda: page.job is None and page.run_note.text().startswith("Wrote"),
                    timeout=WAIT)
    sidecar = Path(str(two_photos[0]) + ".xmp")
    assert sidecar.is_file()
    assert "Fishing boats at dawn" in sidecar.read_text("utf-8")
    assert not Path(str(two_photos[1]) + ".xmp").exists()      # nothing to say about it

    page.sync.setChecked(True)
    qtbot.waitUntil(lambda: lib.config.get("writeback.sync") is True, timeout=WAIT)


def test_the_window_keeps_sidecars_in_step_when_a_caption_changes(
        qtbot: QtBot, lib: Library, two_photos: list[Path], window: Callable[..., Any]) -> None:
    lib.config.set("writeback.sync", True)
    w = window(start_jobs=False)
    w.show()
    harbour = _id(lib, two_photos[0])
    sidecar = Path(str(two_photos[0]) + ".xmp")
    w.viewer.save_caption(harbour, "Boats in the morning haze")
    # The viewer is not showing the photo: the save still lands, and the window runs the
    # change chain for it.
    qtbot.waitUntil(lambda: lib.captions.get(harbour) is not None, timeout=WAIT)
    w.photos_changed([harbour], "captions")
    qtbot.waitUntil(lambda: sidecar.is_file()
                    and "Boats in the morning haze" in sidecar.read_text("utf-8"),
                    timeout=WAIT)
