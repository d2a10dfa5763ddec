"""Qt runs offscreen here: real widgets and models, no display needed."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui import prepare_qt_environment
from glimpse_desktop.gui.settings import SettingsDialog
from glimpse_desktop.gui.tasks import Jobs, Tasks

prepare_qt_environment()        # Qt as the app configures it (read when the QApplication starts)


@pytest.fixture(autouse=True)
def _own_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """QSettings write to the test's folder: never the developer's real settings."""
    folder = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def window(qtbot: QtBot, lib: Library) -> Iterator[Any]:
    """``window(**kwargs)`` makes a MainWindow over the test's library, closed at the end."""
    from glimpse_desktop.gui.window import MainWindow

    made: list[Any] = []

    def make(**kwargs: Any) -> Any:
        w = MainWindow(lib, **kwargs)
        qtbot.addWidget(w)
        w.resize(1000, 700)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


@pytest.fixture
def workers(qtbot: QtBot, lib: Library) -> Iterator[tuple[Tasks, Jobs]]:
    """Background calls and jobs as the window has them, emptied and joined at the end."""
    tasks, jobs = Tasks(), Jobs()
    yield tasks, jobs
    jobs.cancel_all()
    assert jobs.wait(60)
    assert tasks.wait(60_000)


@pytest.fixture
def settings(qtbot: QtBot, lib: Library, workers: tuple[Tasks, Jobs]
             ) -> Callable[[str], SettingsDialog]:
    """Opens the Settings dialog on a page, as the window would."""
    def make(page: str) -> SettingsDialog:
        dialog = SettingsDialog(lib, *workers)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.show_page(page)
        return dialog

    return make
