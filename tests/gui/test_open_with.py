"""Open With on Linux: the programs come from desktop entries in the XDG data folders (a
user's entry hides a system one of the same id; hidden ones and uninstalled TryExec are left
out), and the chosen one really starts, detached, with the photo's path."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from glimpse_desktop.gui import open_with
from tests import imagegen as ig
from tests.conftest import eventually

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="desktop entries are the Linux (XDG) way")


def _entry(folder: Path, name: str, body: str) -> None:
    apps = folder / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    (apps / name).write_text("[Desktop Entry]\nType=Application\n" + body, encoding="utf-8")


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    home, system = tmp_path / "home-data", tmp_path / "system-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_DIRS", str(system))
    return home, system


def _recorder(tmp_path: Path) -> tuple[Path, Path]:
    script, record = tmp_path / "record.py", tmp_path / "argv.txt"
    script.write_text(f"#!{sys.executable}\nimport sys\n"
                      f"open({str(record)!r}, 'w').write('\\n'.join(sys.argv[1:]))\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, record


def test_programs_for_a_jpeg_come_from_the_desktop_entries(
        qtbot: QtBot, xdg: tuple[Path, Path], tmp_path: Path) -> None:
    home, system = xdg
    photo = ig.write_jpeg(tmp_path / "IMG 1.jpg", (64, 48), seed=1)
    _entry(system, "viewer.desktop", "Name=System Viewer\nExec=viewer %f\n"
                                     "MimeType=image/jpeg;image/png;\n")
    _entry(system, "editor.desktop", "Name=Old Editor\nExec=old %U\nMimeType=image/jpeg;\n")
    _entry(home, "editor.desktop", "Name=My Editor\nExec=mine %F\nMimeType=image/jpeg;\n"
                                   "Categories=Graphics;RasterGraphics;\n")
    _entry(system, "gone.desktop", "Name=Gone\nExec=gone %f\nTryExec=no-such-program-here\n"
                                   "MimeType=image/jpeg;\n")
    _entry(system, "hidden.desktop", "Name=Hidden\nExec=h %f\nHidden=true\nMimeType=image/jpeg;\n")
    _entry(system, "text.desktop", "Name=Text\nExec=t %f\nMimeType=text/plain;\n")
    names = [a.name for a in open_with.apps_for(str(photo))]
    assert names == ["My Editor", "System Viewer"]
    assert open_with.editor_for(str(photo)).name == "My Editor"  # type: ignore[union-attr]
    editor = open_with.apps_for(str(photo))[0]
    assert open_with.command_line(editor, [str(photo), "/b.jpg"]) == [
        ["mine", str(photo), "/b.jpg"]]
    viewer = open_with.apps_for(str(photo))[1]
    assert open_with.command_line(viewer, ["/a.jpg", "/b.jpg"]) == [["viewer", "/a.jpg"],
                                                                   ["viewer", "/b.jpg"]]


def test_the_chosen_program_starts_with_the_photo(
        qtbot: QtBot, xdg: tuple[Path, Path], tmp_path: Path) -> None:
    home, _ = xdg
    script, record = _recorder(tmp_path)
    _entry(home, "recorder.desktop", f"Name=Recorder\nExec=\"{script}\" --open %F\n"
                                     "MimeType=image/jpeg;\n")
    photo = ig.write_jpeg(tmp_path / "my photo.jpg", (64, 48), seed=2)
    dialog = open_with.OpenWithDialog([str(photo)], open_with.apps_for(str(photo)))
    qtbot.addWidget(dialog)
    assert dialog.list.item(0).text() == "The default app"
    dialog.list.setCurrentRow(1)
    assert dialog.chosen() is not None and dialog.chosen().name == "Recorder"  # type: ignore[union-attr]
    dialog.accept()
    assert eventually(lambda: record.exists() and bool(record.read_text()), 20)
    assert record.read_text().splitlines() == ["--open", str(photo)]
    assert os.path.exists(photo)
