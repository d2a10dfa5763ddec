"""The main window against a real library: the grid's count and pages, month headers, the
grid's geometry and selection, search results with scores, Esc back to the library, the
welcome page adding a folder, and a file copied into a watched folder appearing in the grid."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.grid import PhotoGrid
from glimpse_desktop.gui.photo_model import PhotoIdRole, ScoreRole
from glimpse_desktop.gui.search_bar import SearchBox
from glimpse_desktop.gui.window import MainWindow
from tests import imagegen as ig


def _photos(folder: Path, n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (96, 64), seed=i,
                      datetime_original=f"2023:{1 + i % 3:02d}:{1 + i % 27:02d} 10:{i % 60:02d}:00",
                      make="Canon", model="Canon EOS R6" if i % 2 else "Canon EOS 5D")


def _mouse(grid: PhotoGrid, kind: QEvent.Type, at: QPoint | QPointF) -> None:
    """A real mouse event with the left button held (QTest's moves carry no buttons)."""
    held = (Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease
            else Qt.MouseButton.LeftButton)
    point = QPointF(at)
    event = QMouseEvent(kind, point, grid.viewport().mapToGlobal(point),
                        Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove
                        else Qt.MouseButton.NoButton, held, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(grid.viewport(), event)


def _fill(grid: PhotoGrid, qtbot: QtBot) -> None:
    model = grid.model()
    while model.canFetchMore():
        model.fetchMore()
    qtbot.waitUntil(lambda: grid.columns() > 0)


def test_library_grid_shows_every_photo_a_page_at_a_time(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: object) -> None:
    _photos(photo_dir, 45)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False, page=20)  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    grid = w.library_page.grid
    # The first page only, then more as the view scrolls to its end.
    qtbot.waitUntil(lambda: w.model.rowCount() >= 20)
    assert w.model.rowCount() < 45
    for _ in range(10):
        grid.verticalScrollBar().setValue(grid.verticalScrollBar().maximum())
        qtbot.wait(20)
    qtbot.waitUntil(lambda: w.model.rowCount() == 45)
    assert w.model.rowCount() == lib.photo_count()
    qtbot.waitUntil(lambda: "45 photos" in w.library_page.subtitle.text())
    # Month headers, newest first, over the photos of that month.
    labels = [label for _, label in w.model.sections()]
    assert labels == ["March 2023", "February 2023", "January 2023"]
    # Pages after the first are read off the GUI thread, and End reads the rest at once.
    assert w.model.background is not None
    other = window(start_jobs=False, page=20)  # type: ignore[operator]
    other.show()
    qtbot.waitUntil(lambda: other.model.rowCount() >= 20)
    grid = other.library_page.grid
    grid.setFocus()
    grid.setCurrentIndex(other.model.index(0, 0))
    qtbot.keyClick(grid, Qt.Key.Key_End)
    assert other.model.rowCount() == 45 and grid.currentIndex().row() == 44


def test_grid_geometry_selection_and_keyboard(qtbot: QtBot, lib: Library, photo_dir: Path,
                                              window: object) -> None:
    _photos(photo_dir, 30)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    grid = w.library_page.grid
    _fill(grid, qtbot)
    model = grid.model()
    cols = grid.columns()
    assert cols > 1
    # Every visible tile is found again under its own centre; headers are not tiles.
    for row in range(model.rowCount()):
        rect = grid.visualRect(model.index(row, 0))
        if grid.viewport().rect().contains(rect.center()):
            assert grid.indexAt(rect.center()).row() == row
    assert not grid.indexAt(QPoint(grid.viewport().width() // 2, 10)).isValid()
    # Down keeps the column within a month (two lines of the first section).
    first_section = w.model.sections()
    rows_in_first = first_section[1][0] - first_section[0][0]
    grid.setFocus()
    grid.setCurrentIndex(model.index(0, 0))
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert grid.currentIndex().row() == 1
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert grid.currentIndex().row() == (1 + cols if rows_in_first > 1 + cols
                                         else first_section[1][0] + 1)
    # A rubber band dragged from the month's header over its first line selects exactly
    # those tiles.
    grid.selectionModel().clear()
    last = min(cols, rows_in_first) - 1
    first_tile = grid.visualRect(model.index(0, 0))
    start = QPoint(first_tile.left() + 2, first_tile.top() - 6)          # in the header
    end = grid.visualRect(model.index(last, 0)).center()
    assert not grid.indexAt(start).isValid()
    _mouse(grid, QEvent.Type.MouseButtonPress, start)
    _mouse(grid, QEvent.Type.MouseMove, (start + end) / 2)
    _mouse(grid, QEvent.Type.MouseMove, end)
    _mouse(grid, QEvent.Type.MouseButtonRelease, end)
    assert sorted(i.row() for i in grid.selectionModel().selectedIndexes()) == list(
        range(last + 1))
    # Shift+click selects the run of photos between, in reading order, not a rectangle.
    a, b = 1, min(model.rowCount() - 1, cols + 2)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton,
                     pos=grid.visualRect(model.index(a, 0)).center())
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ShiftModifier,
                     pos=grid.visualRect(model.index(b, 0)).center())
    assert sorted(i.row() for i in grid.selectionModel().selectedIndexes()) == list(
        range(a, b + 1))
    # Shift+Right extends the run by one.
    qtbot.keyClick(grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert sorted(i.row() for i in grid.selectionModel().selectedIndexes()) == list(
        range(a, b + 2))
    # Page Down never lands on a header or jumps to the end.
    grid.setCurrentIndex(model.index(0, 0))
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)
    assert 0 < grid.currentIndex().row() < model.rowCount() - 1
    # Zoom: bigger tiles, fewer columns.
    w.zoom.setValue(grid.tile() * 2)
    assert grid.columns() < cols


def test_search_shows_scored_results_and_esc_returns(qtbot: QtBot, lib: Library,
                                                     photo_dir: Path, window: object) -> None:
    _photos(photo_dir, 12)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    qtbot.keyClicks(w.search, "camera:R6 IMG_0003")
    qtbot.keyClick(w.search, Qt.Key.Key_Return)
    grid = w.results_page.grid
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.results_page
                    and grid.model() is not None and grid.model().rowCount() > 0)
    model = grid.model()
    ids = [model.data(model.index(i, 0), PhotoIdRole) for i in range(model.rowCount())]
    want = lib.photo(str(photo_dir / "IMG_0003.jpg"))
    assert want is not None and ids == [want.id]
    score = model.data(model.index(0, 0), ScoreRole)
    assert isinstance(score, float) and 0 < score <= 1
    assert "1 photo" in w.results_page.title.text()
    # A query that matches nothing says so, rather than showing an empty grid.
    w.search.setText("camera:Hasselblad")
    qtbot.keyClick(w.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Nothing matches" in w.results_page.empty.text())
    assert w.results_page.empty.isVisible() and not grid.isVisible()
    # Esc in the search box: back to the whole library.
    w.search.setFocus()
    qtbot.keyClick(w.search, Qt.Key.Key_Escape)
    assert w.stack.currentWidget() is w.library_page
    assert w.search.text() == ""


def test_search_box_suggests_filters_and_names(qtbot: QtBot, lib: Library, photo_dir: Path,
                                               window: object) -> None:
    _photos(photo_dir, 4)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)  # type: ignore[operator]
    box: SearchBox = w.search
    qtbot.waitUntil(lambda: bool(box.vocabulary.get("camera")))
    assert box.suggestions("cam") == ["camera:"]
    assert 'camera:"Canon EOS R6"' in box.suggestions("camera:")
    assert box.suggestions("camera:can") == ['camera:"Canon EOS R6"', 'camera:"Canon EOS 5D"'] \
        or box.suggestions("camera:can") == ['camera:"Canon EOS 5D"', 'camera:"Canon EOS R6"']
    assert box.suggestions("camera:nik") == []
    box.vocabulary = {**box.vocabulary, "person": ["Barack Obama", "Ada Lovelace"]}
    assert box.suggestions("person:b") == ['person:"Barack Obama"']
    assert box.suggestions("person:\"bar") == ['person:"Barack Obama"']
    assert 'person:"Barack Obama"' in box.suggestions("ob")      # a last name works too
    # Enter on a suggestion inserts it; it does not search for the half-typed word.
    searched: list[str] = []
    box.submitted.connect(searched.append)
    box.show()
    box.setFocus()
    box.clear()
    qtbot.keyClicks(box, "camera:")
    popup = box.completer_.popup()
    assert popup is not None and popup.isVisible()
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.wait(50)
    assert box.text().startswith('camera:"Canon EOS') and searched == []
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: searched == [box.text()])
    # Choosing a suggestion replaces the word being typed, keeping the rest.
    box.setText("beach cam")
    box.setCursorPosition(len(box.text()))
    box._insert('camera:"Canon EOS R6"')
    assert box.text() == 'beach camera:"Canon EOS R6" '


def test_welcome_page_adds_a_folder_and_reads_it(qtbot: QtBot, lib: Library, photo_dir: Path,
                                                 window: object) -> None:
    _photos(photo_dir, 5)
    w = window()  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    assert w.stack.currentWidget() is w.welcome
    w.welcome.add_folders.emit([str(photo_dir)])
    qtbot.waitUntil(lambda: w.model.rowCount() == 5, timeout=60_000)
    assert [r.path for r in lib.roots()] == [str(photo_dir)]
    assert w.stack.currentWidget() is w.library_page


def test_a_photo_copied_into_a_watched_folder_appears(qtbot: QtBot, lib: Library,
                                                      photo_dir: Path, tmp_path: Path,
                                                      window: object) -> None:
    _photos(photo_dir, 3)
    lib.add_root(photo_dir)
    lib.index()
    w = window()  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.watcher is not None, timeout=60_000)
    assert w.model.rowCount() == 3
    resets: list[bool] = []
    w.model.modelReset.connect(lambda: resets.append(True))
    heard: list[str] = []
    w._watch_progress.connect(lambda _event: heard.append(w.status.watching.text()))
    outside = tmp_path / "new.jpg"
    ig.write_jpeg(outside, (96, 64), seed=99, datetime_original="2024:05:01 12:00:00")
    shutil.copy(outside, photo_dir / "new.jpg")
    qtbot.waitUntil(lambda: w.model.rowCount() == 4, timeout=60_000)
    new = lib.photo(str(photo_dir / "new.jpg"))
    assert new is not None
    assert w.model.data(w.model.index(0, 0), PhotoIdRole) == new.id   # newest first
    assert not resets                                                     # rows inserted
    # The status bar said what the watcher was doing, then went back to watching.
    assert any(text.startswith("Reading new photos") for text in heard)
    qtbot.waitUntil(lambda: w.status.watching.text() == "Watching 1 folder")


def test_double_click_opens_the_viewer_and_esc_returns(qtbot: QtBot, lib: Library,
                                                       photo_dir: Path, window: object) -> None:
    _photos(photo_dir, 6)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    grid = w.library_page.grid
    qtbot.waitUntil(lambda: w.model.rowCount() == 6)
    grid.setFocus()
    grid.setCurrentIndex(w.model.index(2, 0))
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert w.stack.currentWidget() is w.viewer
    assert w.viewer.current_row() == 2
    qtbot.keyClick(w.viewer, Qt.Key.Key_Right)
    qtbot.keyClick(w.viewer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.library_page)
    assert grid.currentIndex().row() == 3       # the grid follows what was last shown


def test_glimpse_desktop_opens_its_window_on_the_library(qtbot: QtBot, lib: Library,
                                                         photo_dir: Path,
                                                         library_path: Path) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from glimpse_desktop import app

    _photos(photo_dir, 3)
    lib.add_root(photo_dir)
    lib.index()
    seen: dict[str, object] = {}

    def look_and_close() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        seen["windows"] = len(windows)
        if windows:
            seen["rows"] = windows[0].model.rowCount()
            seen["library"] = str(windows[0].lib.paths.library)
            windows[0].close()

    def poll() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].model.rowCount() == 3:
            look_and_close()
        else:
            QTimer.singleShot(100, poll)

    QTimer.singleShot(100, poll)
    assert app.main(["--library", str(library_path)]) == 0
    assert seen == {"windows": 1, "rows": 3, "library": str(library_path)}


def test_a_library_that_cannot_be_opened_is_said_in_a_window(qtbot: QtBot, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from glimpse_desktop import app

    bad = tmp_path / "notes.sqlite3"
    bad.write_text("this is not a photo library\n" * 100)
    said: list[str] = []

    def dismiss() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            said.append(box.text())
            box.done(0)
        else:
            QTimer.singleShot(100, dismiss)

    QTimer.singleShot(100, dismiss)
    assert app.main(["--library", str(bad)]) == 1
    assert said and "cannot be opened" in said[0]
    err = capsys.readouterr().err
    assert err.startswith("glimpse-desktop: ") and err.strip()[len("glimpse-desktop: "):] in said[0]
    assert bad.read_text().startswith("this is not a photo library")   # left as it was


def test_double_click_opens_once_and_back_returns(qtbot: QtBot, lib: Library, photo_dir: Path,
                                                  window: object) -> None:
    """A double-click is also an 'activated': the photo must open once, so Back returns to
    the grid rather than to the viewer itself."""
    _photos(photo_dir, 4)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    grid = w.library_page.grid
    qtbot.waitUntil(lambda: w.model.rowCount() == 4)
    centre = grid.visualRect(w.model.index(1, 0)).center()
    # As a real double-click arrives: press, release, double-click, release.
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseRelease(grid.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert w.stack.currentWidget() is w.viewer and w.viewer.current_row() == 1
    qtbot.waitUntil(lambda: w.viewer.isAncestorOf(QApplication.focusWidget())
                    or QApplication.focusWidget() is w.viewer)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.library_page)


def test_a_long_message_never_widens_the_window(qtbot: QtBot, lib: Library,
                                                window: object) -> None:
    w = window(start_jobs=False)  # type: ignore[operator]
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    width = w.width()
    long = "Downloading the model failed: " + "a very long reason " * 40
    w.status.set_idle(long)
    qtbot.wait(50)
    assert w.width() == width
    assert w.status.message.text() == long and w.status.message.toolTip() == long
