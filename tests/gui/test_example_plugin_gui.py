"""The example plugin (examples/glimpse-colors) in the window: its photo action in the photo
menu, run on the photo chosen, and its ``color:`` filter offered by the search box. The
plugin's module is registered in-process, as its entry point would register it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.photo_model import PathRole
from glimpse_desktop.kernel import plugins

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "glimpse-colors"
WAIT = 20_000


@pytest.fixture
def colors(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    module = importlib.import_module("glimpse_colors.plugin")
    plugins.host().register(module, "colors")
    try:
        yield module
    finally:
        plugins.host().unregister("colors")


@pytest.fixture
def lib(colors: ModuleType, library_path: Path, photo_dir: Path) -> Iterator[Library]:
    """A library opened with the plugin loaded (its tables made), holding a red photo and a
    blue one, read."""
    Image.new("RGB", (120, 80), (205, 25, 30)).save(photo_dir / "red.jpg", quality=90)
    Image.new("RGB", (120, 80), (30, 60, 210)).save(photo_dir / "blue.jpg", quality=90)
    library = Library.open(library_path, workers=2)
    try:
        library.add_root(photo_dir)
        library.index()
        yield library
    finally:
        library.close()


def test_show_dominant_colours_from_the_photo_menu(qtbot: QtBot, lib: Library,
                                                   window: Any) -> None:
    w = window(start_jobs=False)
    w.show()
    grid = w.library_page.grid
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=WAIT)
    row = next(r for r in range(2)
               if Path(str(w.model.data(w.model.index(r, 0), PathRole))).name == "red.jpg")

    menu = w._grid_menu(grid, grid.visualRect(w.model.index(row, 0)).center())
    action = next(a for a in menu.actions() if a.text() == "Show dominant colours")
    assert action.isEnabled()
    action.trigger()
    menu.close()
    qtbot.waitUntil(lambda: w.status.message.text().startswith("red.jpg: red "),
                    timeout=WAIT)
    assert "blue" not in w.status.message.text()


def test_the_search_box_offers_the_plugins_filter_and_its_values(qtbot: QtBot, lib: Library,
                                                                 window: Any) -> None:
    w = window(start_jobs=False)
    box = w.search
    assert "color:" in box.suggestions("co")
    qtbot.waitUntil(lambda: bool(box.vocabulary.get("color")), timeout=WAIT)
    assert set(box.suggestions("color:")) == {"color:red", "color:blue"}
