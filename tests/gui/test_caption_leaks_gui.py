"""The window shows a captioning service's errors without the key the service echoed back:
the Captions page's run note, and the Problems list of files it could not caption."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.captions import client
from glimpse_desktop.gui.settings import SettingsDialog
from glimpse_desktop.gui.statusbar import ProblemsDialog
from glimpse_desktop.gui.tasks import Jobs, Tasks
from glimpse_desktop.kernel.redact import forget_secrets
from tests import captionserver as cs
from tests import imagegen as ig
from tests.captionserver import (  # noqa: F401 - fixtures
    FakeService,
    MemoryKeyring,
    memory_keyring_fixture,
    service_fixture,
)

WAIT = 60_000


def test_caption_errors_in_the_window_carry_no_key(
        qtbot: QtBot, lib: Library, photo_dir: Path, service: FakeService,
        workers: tuple[Tasks, Jobs], memory_keyring: MemoryKeyring,
        monkeypatch: pytest.MonkeyPatch) -> None:
    forget_secrets()
    key = f"sk-proj-{uuid.uuid4().hex}"
    monkeypatch.setenv("GLIMPSE_CAPTION_API_KEY", key)
    monkeypatch.setattr(client, "BACKOFF_BASE", 0.01)
    for i in range(6):
        ig.write_jpeg(photo_dir / f"p{i}.jpg", (640, 480), seed=i)
    lib.add_root(photo_dir)
    lib.index()
    lib.config.set("caption.base_url", service.url)
    lib.config.set("caption.model", "test-vision")
    lib.config.set("caption.enabled", True)
    lib.config.set("caption.concurrency", 1)
    lib.captions.give_consent()
    # The first photo refused (kept as a problem), then every one: the run stops.
    service.default = lambda body: cs.echo(400, "unsupported image")
    dialog = SettingsDialog(lib, *workers)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_page("captions")
    page = dialog.captions
    qtbot.waitUntil(lambda: page.run_button.isEnabled(), timeout=WAIT)
    page.caption_now()
    qtbot.waitUntil(lambda: getattr(page, "confirm_box", None) is not None, timeout=WAIT)
    box: QMessageBox = page.confirm_box
    next(b for b in box.buttons() if b.text() == "Caption").click()
    qtbot.waitUntil(lambda: page.job is None and bool(page.run_note.text()), timeout=WAIT)
    note = page.run_note.text()
    assert "refused" in note and "Bearer [redacted]" in note, note
    assert all(h["authorization"] == f"Bearer {key}" for h in service.headers)

    problems = ProblemsDialog(lib, workers[0])
    qtbot.addWidget(problems)
    qtbot.waitUntil(lambda: problems.table.rowCount() > 0, timeout=WAIT)
    shown = [problems.table.item(r, c).text() for r in range(problems.table.rowCount())
             for c in range(3)]
    assert any("Bearer [redacted]" in text for text in shown), shown
    for text in [note, *shown]:
        assert key not in text and key[8:] not in text
