"""What runtimes make from a model file, kept per machine so the next process skips the work.

Loading a model can cost more than running it once: an ONNX graph cleaned or reshaped before
a runtime will take it, OpenVINO compiling a graph for this CPU, a probe that decides whether
bf16 is exact enough here. Their results depend only on the model file's bytes, the runtime's
version and the CPU, never on a library, so they live in the user's cache folder (shared by
every library) and are named by the model's digest plus whatever else they depend on.

Everything here is a cache: a file that cannot be read is made again, one that cannot be
written is not kept (a read-only or full disk costs time, never a failure), and every file
is written whole (a temporary file renamed over) so another process never reads half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs

from glimpse_desktop import APP_NAME

ENV_COMPILED = "GLIMPSE_COMPILED_DIR"


def folder() -> Path:
    """``$GLIMPSE_COMPILED_DIR``, else ``compiled`` in the platform's user cache folder."""
    forced = os.environ.get(ENV_COMPILED)
    if forced:
        return Path(forced).expanduser().absolute()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "compiled"


def _write(path: Path, data: bytes) -> None:
    """``data`` at ``path``, whole or not at all (errors are the caller's to ignore)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_DIGEST = 32   # a kept file ends with the sha256 of what precedes it


def derived_bytes(name: str, make: Callable[[], bytes]) -> bytes:
    """The bytes kept as ``name``, else ``make()``'s (kept for next time where possible).
    ``name`` must change whenever what ``make`` returns could: the source's digest and the
    version of the recipe belong in it. A kept file whose bytes are not the ones written (a
    bad sector, an edit) is made again: a runtime may well accept a damaged graph and
    compute wrong numbers with it."""
    path = folder() / name
    try:
        kept = path.read_bytes()
    except OSError:
        kept = b""
    data, digest = kept[:-_DIGEST], kept[-_DIGEST:]
    if data and hashlib.sha256(data).digest() == digest:
        return data
    data = make()
    with contextlib.suppress(OSError):
        _write(path, data + hashlib.sha256(data).digest())
    return data


def recall(name: str) -> dict[str, Any] | None:
    """A small JSON record kept by ``remember``; None when there is none or it is damaged."""
    try:
        value = json.loads((folder() / name).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def remember(name: str, value: dict[str, Any]) -> None:
    """Keep ``value`` (JSON) as ``name``; quietly not, where the folder cannot be written."""
    with contextlib.suppress(OSError):
        _write(folder() / name, json.dumps(value, sort_keys=True).encode("utf-8"))


def forget(*prefixes: str) -> None:
    """Delete the kept files whose names start with one of ``prefixes`` (a damaged cache)."""
    try:
        entries = list(folder().iterdir())
    except OSError:
        return
    hidden = tuple(f".{prefix}" for prefix in prefixes)   # temporaries a killed process left
    for path in entries:
        if path.name.startswith((*prefixes, *hidden)) and path.is_file():
            with contextlib.suppress(OSError):
                path.unlink()


def openvino_cache(key: str) -> str | None:
    """A folder for OpenVINO's own compiled-model cache (its ``CACHE_DIR``) for ``key`` (the
    OpenVINO version, the CPU and what it computes natively), or None where none can be
    written (then OpenVINO compiles every time). The folders of other keys (an OpenVINO
    since upgraded) are removed: their compiled models would never be read again."""
    root = folder() / "openvino"
    path = root / hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    with contextlib.suppress(OSError):
        for other in root.iterdir():
            if other != path and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
    return str(path) if os.access(path, os.W_OK | os.X_OK) else None


def forget_openvino() -> None:
    """Delete OpenVINO's compiled models (one it loads wrongly, which it may not notice)."""
    shutil.rmtree(folder() / "openvino", ignore_errors=True)
