"""Models give their memory back after sitting idle in the window, and load again when next
needed: a real library, the real face pack, real files (`glimpse watch`:
tests/test_idle_unload.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from tests import imagegen as ig


def _photos(folder: Path, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (160, 120), seed=i,
                      datetime_original=f"2023:05:{1 + i:02d} 10:00:00")


def test_the_window_unloads_idle_models_and_loads_them_again_when_needed(
        qtbot: QtBot, lib: Library, photo_dir: Path, tmp_path: Path, window: object) -> None:
    _photos(photo_dir, 3)
    lib.add_root(photo_dir)
    lib.config.set("models.unload_after", "0.01")        # 0.6 s
    pack = lib.people.pack().id
    w = window()  # type: ignore[operator]
    # The first read loads the face pack; idle afterwards, it is unloaded.
    with qtbot.waitSignal(w.models_unloaded, timeout=60_000) as unloaded:
        w.show()
    assert pack in unloaded.args[0]
    assert not lib.people.models().loaded
    qtbot.waitUntil(lambda: w.watcher is not None, timeout=60_000)
    # A new photo needs the face pack again: it loads for it, and is let go of again after.
    outside = tmp_path / "new.jpg"
    ig.write_jpeg(outside, (160, 120), seed=50, datetime_original="2024:05:01 12:00:00")
    with qtbot.waitSignal(w.models_unloaded, timeout=60_000) as again:
        shutil.copy(outside, photo_dir / "new.jpg")
    assert pack in again.args[0]
    new = lib.photo(str(photo_dir / "new.jpg"))
    assert new is not None
    # Read with the face pack (which looked at it), not skipped for want of a model.
    assert lib.people.backlog() == 0
