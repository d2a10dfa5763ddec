"""Cancel during the window's first read: the status bar says what is left unread, and the
rest is read at the next change the watcher sees, or at Resume (real library, real files,
real watchdog events)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.progress import Progress
from tests import imagegen as ig

PHOTOS = 150


def _photos(folder: Path, n: int) -> None:
    for i in range(n):
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (320, 240), seed=i,
                      datetime_original=f"2023:05:{1 + i % 28:02d} 10:{i % 60:02d}:00")


def _cancel_while_reading(qtbot: QtBot, w: Any) -> None:
    """Cancel the first read from the status bar once it has read some photos."""
    qtbot.waitUntil(lambda: w.index_job is not None, timeout=30_000)
    job = w.index_job

    def reading(event: Progress) -> None:
        if event.phase == "reading photos" and event.done >= 1 and not job.cancelled:
            w.status.cancel.click()

    job.progress.connect(reading)
    qtbot.waitUntil(lambda: w.watcher is not None, timeout=60_000)
    assert job.cancelled


def test_cancelled_first_read_says_what_is_left_and_the_next_change_reads_it(
        qtbot: QtBot, lib: Library, photo_dir: Path, tmp_path: Path, window: object) -> None:
    _photos(photo_dir, PHOTOS)
    lib.add_root(photo_dir)
    w = window()  # type: ignore[operator]
    w.show()
    _cancel_while_reading(qtbot, w)
    read = lib.photo_count()
    assert read < PHOTOS
    # Not just "Watching": what is pending, and a way to go on.
    qtbot.waitUntil(lambda: "photos not read yet" in w.status.watching.text())
    text = w.status.watching.text()
    assert text.startswith("Watching 1 folder — ")
    assert w.status.resume.isVisible()
    # The next change in the folder reads it, and the rest of what was left.
    outside = tmp_path / "new.jpg"
    ig.write_jpeg(outside, (320, 240), seed=999, datetime_original="2024:01:01 12:00:00")
    shutil.copy(outside, photo_dir / "new.jpg")
    qtbot.waitUntil(lambda: lib.photo_count() == PHOTOS + 1, timeout=120_000)
    qtbot.waitUntil(lambda: w.status.watching.text() == "Watching 1 folder", timeout=60_000)
    assert not w.status.resume.isVisible()


def test_resume_reads_what_a_cancel_left(qtbot: QtBot, lib: Library, photo_dir: Path,
                                         window: object) -> None:
    _photos(photo_dir, PHOTOS)
    lib.add_root(photo_dir)
    w = window()  # type: ignore[operator]
    w.show()
    _cancel_while_reading(qtbot, w)
    assert lib.photo_count() < PHOTOS
    qtbot.waitUntil(lambda: w.status.resume.isVisible())
    w.status.resume.click()
    qtbot.waitUntil(lambda: lib.photo_count() == PHOTOS, timeout=120_000)
    qtbot.waitUntil(lambda: w.status.watching.text() == "Watching 1 folder", timeout=60_000)
    # The grid shows them too (inserted as they were read, or in the pages still to fetch).
    qtbot.waitUntil(lambda: w.model.rowCount() == PHOTOS or w.model.canFetchMore())
