"""Fixes from the user run: the viewer's Next arrow follows the photo area's edge, a
placeholder description is not a description, the Device page lists no remote provider,
Memories fold (remembered; by themselves in a short window)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from tests import imagegen as ig


def test_the_next_arrow_stays_at_the_edge_when_the_info_panel_hides(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> None:
    for i in range(3):
        ig.write_jpeg(photo_dir / f"IMG_{i}.jpg", (200, 150), seed=i)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)
    w.show()
    qtbot.waitUntil(lambda: w.model.rowCount() == 3)
    w.open_photo(w.library_page.grid, 1)
    viewer = w.viewer
    qtbot.waitUntil(lambda: viewer.side_next.isVisible())

    def gap() -> int:
        return viewer.canvas.width() - viewer.side_next.geometry().right()

    before = gap()
    viewer.toggle_panel()
    assert not viewer.panel.isVisible()
    qtbot.waitUntil(lambda: gap() == before)
    viewer.toggle_panel()
    qtbot.waitUntil(lambda: gap() == before)


@pytest.mark.parametrize("text", ["File written by Adobe Photoshop\xa8 5.0",
                                  "OLYMPUS DIGITAL CAMERA", "SONY DSC", "default", "Image",
                                  "Created with GIMP", "KONICA MINOLTA DIGITAL CAMERA"])
def test_placeholder_descriptions_are_not_descriptions(lib: Library, photo_dir: Path,
                                                       text: str) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", (64, 48), seed=1, image_description=text)
    ig.write_jpeg(photo_dir / "b.jpg", (64, 48), seed=2, image_description="Anna at the lake")
    lib.add_root(photo_dir)
    lib.index()
    a, b = lib.photo(str(photo_dir / "a.jpg")), lib.photo(str(photo_dir / "b.jpg"))
    assert a is not None and b is not None
    assert text not in str(a)
    assert "Anna at the lake" in str(b)


def test_the_device_page_lists_no_remote_provider(qtbot: QtBot, settings: Any) -> None:
    import onnxruntime

    from glimpse_desktop.gui.settings.device import DevicePage

    dialog = settings("device")
    device = dialog.findChild(DevicePage)
    qtbot.waitUntil(lambda: bool(device.fields["providers"].text()), timeout=60_000)
    shown = device.fields["providers"].text()
    assert "CPU" in shown
    if "AzureExecutionProvider" in onnxruntime.get_available_providers():
        assert "Azure" not in shown


def test_memories_fold_and_the_choice_is_remembered(qtbot: QtBot, lib: Library,
                                                    window: Any) -> None:
    w = window(start_jobs=False)
    strip = w.memories
    strip.fit_height(900)
    assert not strip.collapsed
    strip.fit_height(600)                 # a short window: folded
    assert strip.collapsed and strip.list.isHidden()
    strip.set_collapsed(False)            # the person unfolds them there
    assert not strip.collapsed
    strip.set_collapsed(True)
    w2 = window(start_jobs=False)
    w2.memories.fit_height(900)
    assert w2.memories.collapsed          # remembered


def test_a_small_picture_says_its_megapixels_in_two_figures_not_zero() -> None:
    from glimpse_desktop.gui.viewer.info import megapixels

    assert megapixels(224 * 218) == "0.049 MP"          # was "0.0 MP"
    assert megapixels(4000 * 3000) == "12.0 MP"
    assert megapixels(0) == "0 MP"
