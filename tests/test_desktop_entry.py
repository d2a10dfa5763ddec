"""packaging/install-desktop-entry.sh from a checkout: the menu entry runs the program by its
absolute path (a desktop's menu has neither the virtualenv nor a shell's PATH), and with no
program to run it says what to do instead of writing an entry that cannot start.

The real script runs in a subprocess, into a temporary XDG_DATA_HOME; the "other checkouts"
are copies of the script and the files it reads, in folders made by the test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "packaging/install-desktop-entry.sh"
APP = "glimpse-desktop"


def _install(checkout: Path, data: Path, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(data), "PATH": path}
    return subprocess.run(["bash", str(checkout / SCRIPT), *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False)


def _exec_program(entry: Path) -> str:
    """The program of the entry's Exec key, unquoted as the Desktop Entry Specification says:
    the string value's backslashes first, then the argument's quoting, then %%."""
    lines = [line for line in entry.read_text(encoding="utf-8").splitlines()
             if line.startswith("Exec=")]
    assert len(lines) == 1
    value = re.sub(r"\\(.)", r"\1", lines[0].removeprefix("Exec="))
    match = re.fullmatch(r'"((?:[^"\\]|\\.)*)" %F', value)
    assert match, value
    return re.sub(r"\\(.)", r"\1", match.group(1)).replace("%%", "%")


def _checkout(where: Path) -> Path:
    """A checkout's files the script reads: itself, the entry and the icon."""
    for name in (SCRIPT, f"resources/{APP}.desktop", f"resources/{APP}.svg"):
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, where / name)
    return where


def _path_without_app() -> str:
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(f for f in folders if f and not (Path(f) / APP).exists())


def test_the_entry_runs_the_checkouts_virtualenv_program(tmp_path: Path) -> None:
    program = ROOT / ".venv" / "bin" / APP
    assert program.is_file(), "the test set-up (make test) installs the app into .venv"
    # PATH without the virtualenv, as a desktop's menu has it.
    run = _install(ROOT, tmp_path / "data", _path_without_app())
    assert run.returncode == 0, run.stderr
    entry = tmp_path / "data" / "applications" / f"{APP}.desktop"
    assert _exec_program(entry) == str(program)
    assert (tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / f"{APP}.svg").is_file()
    assert str(program) in run.stdout
    uninstalled = _install(ROOT, tmp_path / "data", _path_without_app(), "--uninstall")
    assert uninstalled.returncode == 0, uninstalled.stderr
    assert not entry.exists()


def test_without_a_virtualenv_the_program_on_path_is_written_by_its_absolute_path(
        tmp_path: Path) -> None:
    # A folder name with every character the Exec key quotes.
    checkout = _checkout(tmp_path / 'my "photos" $HOME `x` \\ 100%')
    bin_dir = checkout / "elsewhere" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / APP).write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    (bin_dir / APP).chmod(0o755)
    # A relative PATH entry, as `command -v` reports it: the entry gets the absolute path.
    env_path = os.pathsep.join(["elsewhere/bin", _path_without_app()])
    run = subprocess.run(["bash", str(checkout / SCRIPT)], capture_output=True, text=True,
                         env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"),
                              "PATH": env_path},
                         cwd=checkout, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    entry = tmp_path / "data" / "applications" / f"{APP}.desktop"
    assert _exec_program(entry) == str(bin_dir / APP)


def test_with_no_program_anywhere_it_says_to_install_and_writes_nothing(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "checkout")
    run = _install(checkout, tmp_path / "data", _path_without_app())
    assert run.returncode == 1
    assert "make run" in run.stderr and str(checkout / ".venv") in run.stderr
    assert not (tmp_path / "data" / "applications").exists()
