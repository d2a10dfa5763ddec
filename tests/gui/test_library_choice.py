"""The window and the library file: it makes a new library where none exists, and refuses,
in its own words, an existing file that is empty or not a library, leaving it as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot


def _open_and_read_the_box(library: Path) -> tuple[int, list[str]]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from glimpse_desktop import app

    said: list[str] = []

    def dismiss() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            said.append(box.text())
            box.done(0)
        else:
            QTimer.singleShot(100, dismiss)

    QTimer.singleShot(100, dismiss)
    return app.main(["--library", str(library)]), said


@pytest.mark.parametrize("kind", ["empty", "folder"])
def test_an_existing_file_that_is_not_a_library_is_refused_and_left_alone(
        qtbot: QtBot, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    library = tmp_path / "chosen.sqlite3"
    if kind == "empty":
        library.touch()
    else:
        library.mkdir()
    code, said = _open_and_read_the_box(library)
    assert code == 1
    words = {"empty": "is empty", "folder": "is a folder, not a library file"}[kind]
    assert said and words in said[0]
    assert "glimpse " not in said[0] and "--library" not in said[0]
    assert "glimpse " not in capsys.readouterr().err.replace("glimpse-desktop: ", "")
    if kind == "empty":
        assert library.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chosen.sqlite3"]
