"""Names from the disk and from files' metadata reach the terminal escaped: a file called
``\\x1b[2J….jpg`` must not clear the screen (or retitle the window) of whoever lists it.
Real files with such names, read and listed by the real `glimpse` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests import imagegen as ig

ROOT = Path(__file__).resolve().parent.parent
CLEAR = "\x1b[2J"
TITLE = "\x1b]0;pwned\x07"


def glimpse(library: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    return subprocess.run([sys.executable, "-m", "glimpse_desktop", "--library", str(library),
                           *args], capture_output=True, env=env, timeout=180)


def test_names_with_terminal_escapes_are_printed_escaped(tmp_path: Path) -> None:
    # The added folder itself has such a name: `status` lists it.
    folder = tmp_path / f"trip{TITLE}"
    folder.mkdir()
    ig.write_jpeg(folder / f"{CLEAR}beach.jpg", size=(640, 480), seed=1,
                  datetime_original="2024:05:01 12:00:00", make=f"Evil{CLEAR}Cam",
                  model="X", image_description=f"sunset {CLEAR} over the sea")
    ig.write_truncated_jpeg(folder / f"{CLEAR}broken.jpg")
    library = tmp_path / "lib" / "library.sqlite3"
    runs = {
        "add": glimpse(library, "add", str(folder)),
        "index": glimpse(library, "index"),
        "errors": glimpse(library, "errors"),
        "status": glimpse(library, "status"),
        "text-search": glimpse(library, "text-search", "sunset"),
        "search": glimpse(library, "search", "sunset"),
        # By path: the truncated file is a (damaged) photo too, and may be read first.
        "info": glimpse(library, "info", str(folder / f"{CLEAR}beach.jpg")),
        "album": glimpse(library, "albums", "create", f"Holiday{CLEAR}", "1"),
        "albums": glimpse(library, "albums", "list"),
        "album-show": glimpse(library, "albums", "show", "1"),
        "organize": glimpse(library, "organize", "--to", str(tmp_path / "out"), "--dry-run"),
    }
    for verb, done in runs.items():
        assert done.returncode == 0, (verb, done.stderr.decode(errors="replace"))
        assert b"\x1b" not in done.stdout and b"\x07" not in done.stdout, (verb, done.stdout)
        assert b"\x1b" not in done.stderr, (verb, done.stderr)
    # Shown, as `--json` shows it: the escape is visible, not acted on.
    errors = runs["errors"].stdout.decode()
    assert "\\u001b[2Jbroken.jpg" in errors and "trip\\u001b]0;pwned\\u0007" in errors
    assert "\\u001b[2Jbeach.jpg" in runs["text-search"].stdout.decode()
    assert "\\u001b[2Jbeach.jpg" in runs["search"].stdout.decode()
    assert "Evil\\u001b[2JCam" in runs["info"].stdout.decode()
    assert "Holiday\\u001b[2J" in runs["albums"].stdout.decode()
    assert "trip\\u001b]0;pwned\\u0007" in runs["status"].stdout.decode()
    # Scripts still get the names as they are.
    listed = json.loads(glimpse(library, "errors", "--json").stdout)
    assert [Path(r["path"]).name for r in listed] == [f"{CLEAR}broken.jpg"]
