"""The window's own words for what core reports: a button or a page to use, never a terminal
command. The same situations as tests/test_cli_messages.py, where the terminal names its
commands: a search model that cannot be downloaded here, a captioning key missing or refused,
a face pack that is not installed, a person nobody is named, a smart album's search notice.
Real library, real pages and window offscreen; the services are local (a closed port, the
caption service on 127.0.0.1 standing in for api.openai.com as a proxy)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.people import PeopleView
from glimpse_desktop.gui.settings import SettingsDialog
from glimpse_desktop.gui.tasks import Tasks
from tests import captionserver as cs
from tests import imagegen as ig
from tests.captionserver import (  # noqa: F401 - fixtures
    FakeService,
    MemoryKeyring,
    memory_keyring_fixture,
    service_fixture,
)
from tests.conftest import closed_port

WAIT = 90_000  # a bound on waiting, not a timing: a loaded 2-core CI machine is slow


def _photos(lib: Library, folder: Path, n: int = 2) -> None:
    for i in range(n):
        ig.write_jpeg(folder / f"beach_{i}.jpg", (64, 48), seed=i,
                      datetime_original=f"2023:07:1{i} 18:03:22")
    lib.add_root(folder)
    lib.index()


def _press(box: QMessageBox, text: str) -> None:
    (button,) = [b for b in box.buttons() if b.text() == text]
    button.click()


def test_a_download_that_cannot_connect_points_at_add_from_file(
        qtbot: QtBot, lib: Library, settings: Callable[[str], SettingsDialog]) -> None:
    folder = lib.paths.models / "manifest.d"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.json").write_text(json.dumps({"format": 1, "clip": [{
        "id": "tiny", "name": "Tiny test model", "arch": "ViT-B-32", "dim": 64,
        "image_size": 224, "file": "tiny.pt", "size": 10, "sha256": "1" * 64,
        "urls": [f"http://127.0.0.1:{closed_port()}/tiny.pt"]}]}), "utf-8")
    dialog = settings("search")
    models = dialog.search.models
    qtbot.waitUntil(lambda: models.row("tiny") is not None, timeout=WAIT)
    models.select("tiny")
    qtbot.mouseClick(models.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: models.job is None and bool(models.notice.text()), timeout=WAIT)
    said = models.notice.text()
    assert "Could not download tiny" in said
    assert "glimpse " not in said
    # The button beside the message is the one it names.
    assert models.add_button.text() in said and "Settings › Search Model" in said


def test_the_window_says_how_to_install_torch_in_the_terminals_words() -> None:
    from glimpse_desktop.cli.common import say as terminal_says
    from glimpse_desktop.gui.wording import say as window_says
    from glimpse_desktop.search.export import needs_torch

    error = needs_torch("tiny")
    install = error.values["install"]
    window, terminal = window_says(error), terminal_says(error)
    assert window.startswith(str(error)) and terminal.startswith(str(error))
    # The advice is the same words in both, each command once.
    advice = window[len(str(error)):].lstrip(": ")
    assert advice and advice == terminal[len(str(error)):].lstrip("; ")
    assert advice.count(install) == 1 and advice.count("--index-url") == 1


@pytest.fixture
def openai_by_proxy(lib: Library, service: FakeService, memory_keyring: MemoryKeyring,
                    monkeypatch: pytest.MonkeyPatch) -> FakeService:
    """Captions on, agreed to, for api.openai.com (a service that needs a key); the local
    service stands in for it as an HTTP proxy, so nothing leaves this machine."""
    lib.config.set("caption.base_url", "http://api.openai.com/v1")
    lib.config.set("caption.model", "test-vision")
    lib.config.set("caption.enabled", True)
    lib.config.set("caption.price_in", 0)
    lib.config.set("caption.price_out", 0)
    lib.captions.give_consent()
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{service.port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{service.port}")
    return service


def _caption_now(qtbot: QtBot, page: Any) -> str:
    """Caption Photos Now… and Caption: what the page says when the run has ended."""
    qtbot.waitUntil(lambda: page.run_button.isEnabled(), timeout=WAIT)
    page.confirm_box = None
    page.run_note.clear()
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.confirm_box is not None, timeout=WAIT)
    _press(page.confirm_box, "Caption")
    qtbot.waitUntil(lambda: page.job is None and not page.run_note.text().endswith(
        "(the status bar shows progress and can stop it)"), timeout=WAIT)
    return str(page.run_note.text())


def test_a_missing_or_refused_caption_key_points_at_set_key(
        qtbot: QtBot, lib: Library, photo_dir: Path, openai_by_proxy: FakeService,
        memory_keyring: MemoryKeyring, settings: Callable[[str], SettingsDialog]) -> None:
    _photos(lib, photo_dir)
    page = settings("captions").captions
    button = page.set_key_button.text()
    assert button == "Set Key…"

    said = _caption_now(qtbot, page)
    assert "No API key for api.openai.com" in said
    assert "glimpse " not in said and button in said
    assert openai_by_proxy.requests == []          # nothing was sent without a key

    lib.captions.set_api_key("sk-wrong")
    openai_by_proxy.default = lambda body: cs.error(401, "invalid key")
    said = _caption_now(qtbot, page)
    assert "did not accept the API key (401)" in said
    assert "glimpse " not in said and button in said
    assert "sk-wrong" not in said


def test_the_people_page_says_where_to_get_a_missing_face_pack(
        qtbot: QtBot, lib: Library, photo_dir: Path) -> None:
    from glimpse_desktop.faces.people import PACK_KEY
    from glimpse_desktop.kernel.config import set_setting

    # The library is set to a pack that is not installed here (it needs a download).
    lib.writer.call(lambda c: set_setting(c, PACK_KEY, "buffalo_s"))
    _photos(lib, photo_dir, 1)
    tasks = Tasks()
    view = PeopleView(lib, tasks)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    try:
        qtbot.waitUntil(lambda: view.people_notice.title.text()
                        == "Faces cannot be found right now", timeout=WAIT)
        said = view.people_notice.body.text()
        assert "the face pack buffalo_s is not installed" in said
        assert "glimpse " not in said
        assert "Settings › Faces" in said and "“Add from Folder…”" in said
    finally:
        view.close()
        tasks.wait()


def test_search_notices_and_errors_in_the_window_name_its_pages(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    _photos(lib, photo_dir)
    lost = lib.albums.create("Lost city", [], query="beach place:Atlantis")
    w = window(start_jobs=False)
    w.show()
    qtbot.waitExposed(w)

    # A person nobody is named: the People page is where names are.
    w.search.setFocus()
    qtbot.keyClicks(w.search, "person:Zed")
    qtbot.keyClick(w.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Zed" in w.results_page.empty.text(), timeout=WAIT)
    said = w.results_page.empty.text()
    assert "nobody is named 'Zed' in People" in said
    assert "glimpse " not in said and "People in the sidebar" in said

    # A smart album whose search finds nothing, with no search model: its notices.
    w.show_album(lost.id, "Lost city")
    qtbot.waitUntil(lambda: "Atlantis" in w.results_page.subtitle.text(), timeout=WAIT)
    said = w.results_page.subtitle.text()
    assert "no photo was taken in a place called 'Atlantis'" in said
    assert "glimpse " not in said
    assert "Settings › Search Model" in said and "“Add from File…”" in said
