"""The window's plugin seams on a real window: photo actions in the photo menu (the grid's
and the viewer's), run as a job on the selected photos, and pages in the sidebar."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QWidget
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library, PhotoAction
from glimpse_desktop.gui.hooks import Page
from glimpse_desktop.gui.photo_model import PhotoIdRole
from glimpse_desktop.kernel import plugins
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.kernel.progress import CancelToken, Progress, ProgressCallback
from tests import imagegen as ig

WAIT = 20_000


class ActionPlugin:
    """A third party's action: it notes the photos it ran on and says how many."""

    def __init__(self) -> None:
        self.ran_on: list[list[int]] = []

    @hookimpl
    def glimpse_photo_actions(self) -> list[PhotoAction]:
        return [PhotoAction(id="test.count", label="Count these photos", run=self.count)]

    def count(self, library: Any, photo_ids: Sequence[int], progress: ProgressCallback,
              cancel: CancelToken) -> str:
        assert isinstance(library, Library)
        progress(Progress("Count these photos", "count", 0, len(photo_ids)))
        cancel.raise_if_cancelled()
        self.ran_on.append(list(photo_ids))
        return f"Counted {len(photo_ids)} photos"


class PagePlugin:
    def __init__(self, factory: Callable[[Any], QWidget]) -> None:
        self.factory = factory

    @hookimpl
    def glimpse_gui_pages(self) -> list[Page]:
        return [Page(id="test.hello", title="Hello", factory=self.factory)]


@pytest.fixture
def registered() -> Iterator[Callable[[object, str], None]]:
    names: list[str] = []

    def register(plugin: object, name: str) -> None:
        plugins.host().register(plugin, name)
        names.append(name)

    yield register
    for name in names:
        plugins.host().unregister(name)


@pytest.fixture
def indexed(lib: Library, photo_dir: Path) -> Library:
    for i in range(3):
        ig.write_jpeg(photo_dir / f"p{i}.jpg", (320, 240), seed=i)
    lib.add_root(photo_dir)
    lib.index()
    return lib


def _labels(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_a_plugins_photo_action_runs_on_the_selected_photos(
        qtbot: QtBot, indexed: Library, window: Any,
        registered: Callable[[object, str], None]) -> None:
    plugin = ActionPlugin()
    registered(plugin, "test-actions")
    w = window(start_jobs=False)
    w.show()
    grid = w.library_page.grid
    qtbot.waitUntil(lambda: w.model.rowCount() == 3, timeout=WAIT)
    grid.selectAll()
    selected = sorted(int(w.model.data(w.model.index(r, 0), PhotoIdRole)) for r in range(3))

    menu = w._grid_menu(grid, grid.visualRect(w.model.index(0, 0)).center())
    assert isinstance(menu, QMenu) and menu.isVisible()
    labels = _labels(menu)
    # Under the window's own items; the built-in write-back action is there too, through
    # the same hook.
    assert labels.index("Count these photos") > labels.index("Add to album")
    assert labels.index("Write metadata to files now") < labels.index("Count these photos")
    action = next(a for a in menu.actions() if a.text() == "Count these photos")
    assert action.isEnabled()
    action.trigger()
    menu.close()

    qtbot.waitUntil(lambda: w.status.message.text() == "Counted 3 photos", timeout=WAIT)
    assert [sorted(ids) for ids in plugin.ran_on] == [selected]


def test_an_action_that_cannot_run_now_is_greyed_out(
        qtbot: QtBot, indexed: Library, window: Any) -> None:
    indexed.config.set("writeback.sidecar", False)
    indexed.config.set("writeback.embed", False)
    w = window(start_jobs=False)
    w.show()
    grid = w.library_page.grid
    qtbot.waitUntil(lambda: w.model.rowCount() == 3, timeout=WAIT)
    menu = w._grid_menu(grid, grid.visualRect(w.model.index(0, 0)).center())
    write = next(a for a in menu.actions() if a.text() == "Write metadata to files now")
    assert not write.isEnabled()          # no target to write to
    menu.close()


def test_the_viewers_photo_menu_offers_the_actions_for_the_photo_shown(
        qtbot: QtBot, indexed: Library, window: Any,
        registered: Callable[[object, str], None]) -> None:
    plugin = ActionPlugin()
    registered(plugin, "test-actions")
    w = window(start_jobs=False)
    w.show()
    qtbot.waitUntil(lambda: w.model.rowCount() == 3, timeout=WAIT)
    w.open_photo(w.library_page.grid, 1)
    shown = int(w.model.data(w.model.index(1, 0), PhotoIdRole))
    qtbot.waitUntil(lambda: w.viewer.current_photo() == shown, timeout=WAIT)

    centre = w.viewer.rect().center()
    QApplication.sendEvent(w.viewer, QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, centre, w.viewer.mapToGlobal(centre)))
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    assert "Count these photos" in _labels(menu)
    next(a for a in menu.actions() if a.text() == "Count these photos").trigger()
    menu.close()
    qtbot.waitUntil(lambda: w.status.message.text() == "Counted 1 photos", timeout=WAIT)
    assert plugin.ran_on == [[shown]]


def test_a_plugins_page_appears_in_the_sidebar_and_shows(
        qtbot: QtBot, lib: Library, window: Any,
        registered: Callable[[object, str], None]) -> None:
    built: list[Any] = []

    def hello(win: Any) -> QWidget:
        built.append(win)
        return QLabel(f"Hello from {Path(str(win.lib.paths.library)).name}")

    registered(PagePlugin(hello), "test-pages")
    w = window(start_jobs=False)
    w.show()
    item = w.sidebar.items["test.hello"]
    assert item.text(0) == "Hello"
    assert built == []                     # built when first shown, not before
    w.sidebar.setCurrentItem(item)         # a click on it
    page = w.stack.currentWidget()
    assert isinstance(page, QLabel) and page.isVisible()
    assert page.text() == "Hello from library.sqlite3"
    assert built == [w]
    w.show_view("library")
    w.show_view("test.hello")
    assert w.stack.currentWidget() is page and built == [w]     # built once


def test_a_page_that_fails_to_build_is_reported_and_the_window_stays(
        qtbot: QtBot, lib: Library, window: Any,
        registered: Callable[[object, str], None]) -> None:
    def broken(win: Any) -> QWidget:
        raise RuntimeError("no colours today")

    registered(PagePlugin(broken), "test-pages")
    w = window(start_jobs=False)
    w.show()
    before = w.stack.currentWidget()
    w.show_view("test.hello")
    assert w.stack.currentWidget() is before
    assert "Hello" in w.status.message.text() and "no colours today" in w.status.message.text()


def test_photo_actions_and_pages_refuse_records_without_what_they_need() -> None:
    with pytest.raises(ValueError):
        PhotoAction(id="", label="Nothing", run=lambda *a: "")
    with pytest.raises(TypeError):
        PhotoAction(id="x.y", label="Nothing", run="not a function")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Page(title="", factory=QLabel)

