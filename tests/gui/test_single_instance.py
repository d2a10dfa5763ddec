"""One window per library, with real processes: a second launch on the same library hands its
folder to the first window (which adds it) and exits; another library gets a window of its
own; a socket left by a crashed first window does not stop the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalSocket

from glimpse_desktop.api import Library
from glimpse_desktop.gui.single_instance import server_name
from tests.conftest import eventually

ROOT = Path(__file__).resolve().parents[2]
# What the glimpse-desktop program runs (app.main), in a process of its own.
APP = [sys.executable, "-c", "import sys; from glimpse_desktop.app import main; "
       "sys.exit(main(sys.argv[1:]))"]


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp / "cfg"),
            "XDG_DATA_HOME": str(tmp / "data"), "PYTHONPATH": str(ROOT)}


class Launcher:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.started: list[subprocess.Popen[str]] = []

    def start(self, library: Path, *paths: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([*APP, "--library",
                                 str(library), *paths], env=_env(self.tmp), cwd=self.tmp,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.started.append(proc)
        return proc

    def run(self, library: Path, *paths: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*APP, "--library",
                               str(library), *paths], env=_env(self.tmp), cwd=self.tmp,
                              capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    made = Launcher(tmp_path)
    yield made
    for proc in made.started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)


def _listening(library: Path) -> bool:
    socket = QLocalSocket()
    socket.connectToServer(server_name(library))
    ok = socket.waitForConnected(300)
    socket.abort()
    return ok


def _roots(library: Path) -> list[str]:
    lib = Library.open(library, workers=1)
    try:
        return lib.root_paths()
    finally:
        lib.close()


@pytest.mark.timeout(300)
def test_a_second_launch_hands_its_folder_to_the_first_window(
        qapp: object, tmp_path: Path, launcher: Launcher) -> None:
    library = tmp_path / "one" / "library.sqlite3"
    first = launcher.start(library)
    assert eventually(lambda: _listening(library), 90), first.stderr
    folder = tmp_path / "Holiday"
    folder.mkdir()
    second = launcher.run(library, "Holiday")        # relative to the second's folder
    assert second.returncode == 0, second.stderr
    # The first window got it and added the folder; it is still the one running.
    assert eventually(lambda: str(folder) in _roots(library), 60)
    assert first.poll() is None

    # Another library: a window of its own, which itself takes later launches.
    other = tmp_path / "two" / "library.sqlite3"
    third = launcher.start(other)
    assert eventually(lambda: _listening(other), 90), third.stderr
    assert third.poll() is None and first.poll() is None
    folder2 = tmp_path / "Work"
    folder2.mkdir()
    assert launcher.run(other, str(folder2)).returncode == 0
    assert eventually(lambda: str(folder2) in _roots(other), 60)
    assert str(folder2) not in _roots(library)


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes leave nothing behind")
@pytest.mark.timeout(300)
def test_a_crashed_first_window_leaves_no_lock(qapp: object, tmp_path: Path,
                                               launcher: Launcher) -> None:
    library = tmp_path / "lib" / "library.sqlite3"
    crashed = launcher.start(library)
    assert eventually(lambda: _listening(library), 90), crashed.stderr
    crashed.send_signal(signal.SIGKILL)              # its socket file stays behind
    crashed.wait(30)
    assert not _listening(library)
    after = launcher.start(library)
    assert eventually(lambda: _listening(library), 90), after.stderr
    assert after.poll() is None
    folder = tmp_path / "Pictures"
    folder.mkdir()
    assert launcher.run(library, str(folder)).returncode == 0
    assert eventually(lambda: str(folder) in _roots(library), 60)
