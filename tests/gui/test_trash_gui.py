"""Delete to the trash in the real window (pytest-qt, offscreen): the Delete key on a grid and
in the viewer, Undo in the status bar, Recently deleted with Restore and Shift+Delete (after a
confirmation), and the Duplicates review's "Keep This" and "Keep Suggested in All Groups";
real files, the real XDG trash in a temporary HOME."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui import trash_view
from glimpse_desktop.gui.duplicates_view import DuplicatesReview
from glimpse_desktop.gui.photo_model import PhotoIdRole
from tests import imagegen as ig

WAIT = 20_000


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".local" / "share").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home


def in_trash(home: Path) -> list[str]:
    files = home / ".local" / "share" / "Trash" / "files"
    return sorted(os.listdir(files)) if files.exists() else []


@pytest.fixture
def four(lib: Library, photo_dir: Path) -> Library:
    for n in range(4):
        ig.write_jpeg(photo_dir / f"p{n}.jpg", (320, 240), seed=n + 1,
                      datetime_original=f"2022:03:0{n + 1} 12:00:00")
    lib.add_root(photo_dir)
    lib.index()
    return lib


def shown_names(window: Any) -> list[str]:
    model = window.model
    while model.canFetchMore():
        model.fetchMore()
    return [r.filename for r in model.rows]


def shown(qtbot: QtBot, window: Callable[..., Any]) -> Any:
    """The window, shown and active (its shortcuts answer only then)."""
    w = window(start_jobs=False)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=WAIT)
    return w


def select(grid: Any, *rows: int) -> None:
    selection = grid.selectionModel()
    grid.setCurrentIndex(grid.model().index(rows[0], 0))
    selection.clearSelection()
    for row in rows:
        selection.select(grid.model().index(row, 0), QItemSelectionModel.SelectionFlag.Select)


def answer_next_dialog(qtbot: QtBot, button_text: str) -> list[str]:
    """Click ``button_text`` in the next message box that opens; what it said is returned."""
    said: list[str] = []

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        said.append(box.text())
        for button in box.buttons():
            if button.text().replace("&", "") == button_text:
                button.click()
                return
        box.reject()

    QTimer.singleShot(20, click)
    return said


def test_delete_key_moves_the_selection_to_the_trash_and_undo_restores(
        qtbot: QtBot, window: Callable[..., Any], four: Library, photo_dir: Path,
        home: Path) -> None:
    w = shown(qtbot, window)
    qtbot.waitUntil(lambda: len(shown_names(w)) == 4, timeout=WAIT)
    grid = w.library_page.grid
    select(grid, 0, 1)
    chosen = sorted(shown_names(w)[:2])
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: in_trash(home) == chosen, timeout=WAIT)
    qtbot.waitUntil(lambda: len(shown_names(w)) == 2, timeout=WAIT)
    assert not (photo_dir / chosen[0]).exists()
    qtbot.waitUntil(lambda: "Moved 2 photos to the trash" in w.status.message.text(),
                    timeout=WAIT)
    undo = w.status.findChild(QPushButton, "trash-undo")
    assert undo is not None and undo.isVisible()
    undo.click()
    qtbot.waitUntil(lambda: in_trash(home) == [], timeout=WAIT)
    qtbot.waitUntil(lambda: len(shown_names(w)) == 4, timeout=WAIT)
    assert (photo_dir / chosen[0]).exists()
    assert not undo.isVisible()


def test_delete_in_the_viewer_goes_on_to_the_next_photo(
        qtbot: QtBot, window: Callable[..., Any], four: Library, home: Path) -> None:
    w = shown(qtbot, window)
    qtbot.waitUntil(lambda: len(shown_names(w)) == 4, timeout=WAIT)
    names = shown_names(w)
    w.open_photo(w.library_page.grid, 1)
    first = w.viewer.current_photo()
    assert first == w.model.index(1, 0).data(PhotoIdRole)
    following = w.model.index(2, 0).data(PhotoIdRole)
    qtbot.keyClick(w.viewer, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: in_trash(home) == [names[1]], timeout=WAIT)
    qtbot.waitUntil(lambda: w.viewer.current_photo() == following, timeout=WAIT)
    assert w.stack.currentWidget() is w.viewer


def test_recently_deleted_restores_and_deletes_for_good_after_a_confirmation(
        qtbot: QtBot, window: Callable[..., Any], four: Library, photo_dir: Path,
        home: Path) -> None:
    lib = four
    ids = [lib.reader().one("SELECT id FROM photos WHERE filename = ?", (f"p{n}.jpg",))
           for n in range(4)]
    lib.trash.move([ids[0], ids[1], ids[2]])
    w = shown(qtbot, window)
    # Shift+Delete outside Recently deleted deletes nothing.
    select(w.library_page.grid, 0)
    qtbot.keyClick(w.library_page.grid, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert "works in Recently deleted" in w.status.message.text()
    assert (photo_dir / "p3.jpg").exists()

    w.show_view(trash_view.KEY)
    page = w.pages[trash_view.KEY]
    qtbot.waitUntil(lambda: page.grid.model() is not None
                    and page.grid.model().rowCount() == 3, timeout=WAIT)
    assert "3 photos" in page.subtitle.text()
    assert not page.restore_button.isEnabled()
    order = [d.id for d in page.deleted]            # most recently deleted first
    select(page.grid, order.index(ids[1]))
    assert page.restore_button.isEnabled()
    page.restore_button.click()
    qtbot.waitUntil(lambda: (photo_dir / "p1.jpg").exists(), timeout=WAIT)
    qtbot.waitUntil(lambda: page.grid.model().rowCount() == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: "p1.jpg" in shown_names(w), timeout=WAIT)

    # Shift+Delete: cancelled first (nothing goes), then confirmed.
    select(page.grid, 0)
    target = page.deleted[0]
    said = answer_next_dialog(qtbot, "Cancel")
    qtbot.keyClick(page.grid, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert said == ["Delete 1 photo permanently?"]
    assert in_trash(home) == ["p0.jpg", "p2.jpg"]
    w.activateWindow()      # the window manager's part, when a dialog closes
    qtbot.waitUntil(w.isActiveWindow, timeout=WAIT)
    answer_next_dialog(qtbot, "Delete Permanently")
    qtbot.keyClick(page.grid, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: len(in_trash(home)) == 1, timeout=WAIT)
    assert target.filename not in in_trash(home)
    qtbot.waitUntil(lambda: page.grid.model().rowCount() == 1, timeout=WAIT)
    assert lib.reader().one("SELECT count(*) FROM photos WHERE id = ?", (target.id,)) == 0


def test_thirty_days_on_the_window_start_forgets_them(
        qtbot: QtBot, window: Callable[..., Any], four: Library, home: Path) -> None:
    lib = four
    lib.trash.clock = lambda: 1_000_000.0
    lib.trash.move([lib.reader().one("SELECT id FROM photos WHERE filename = 'p0.jpg'")])
    lib.trash.clock = lambda: 1_000_000.0 + 31 * 86_400
    w = window(start_jobs=False)
    qtbot.waitUntil(lambda: lib.reader().one("SELECT count(*) FROM trash") == 0, timeout=WAIT)
    w.show_view(trash_view.KEY)
    page = w.pages[trash_view.KEY]
    qtbot.waitUntil(lambda: page.empty.isVisibleTo(page), timeout=WAIT)
    assert "No recently deleted photos" in page.empty.text()
    assert in_trash(home) == ["p0.jpg"]     # the system trash empties by its own rules


def test_window_actions_name_their_menus_and_keys(window: Callable[..., Any],
                                                  four: Library) -> None:
    w = window(start_jobs=False)
    actions = trash_view.window_actions(w)
    assert [a.text() for a in actions["Edit"]] == ["Move to Trash", "Delete Permanently…"]
    assert [a.shortcut().toString() for a in actions["Edit"]] == ["Del", "Shift+Del"]
    assert [a.text() for a in actions["Go"]] == ["Recently Deleted"]
    assert all(a in w.actions() for a in actions["Edit"] + actions["Go"])


# ---------------------------------------------------------------------------- duplicates


@pytest.fixture
def copies(lib: Library, photo_dir: Path) -> Library:
    (photo_dir / "Backup").mkdir()
    for n in range(2):
        ig.write_jpeg(photo_dir / f"orig{n}.jpg", (640, 480), seed=n + 10,
                      datetime_original=f"2020:01:0{n + 1} 09:00:00")
        shutil.copy(photo_dir / f"orig{n}.jpg", photo_dir / "Backup" / f"orig{n}.jpg")
    lib.add_root(photo_dir)
    lib.index()
    return lib


def _review(qtbot: QtBot, w: Any) -> DuplicatesReview:
    w.show_view("duplicates")
    review = w.duplicates_page
    assert isinstance(review, DuplicatesReview)
    review.refresh()
    qtbot.waitUntil(lambda: len(review.cards) == 2, timeout=WAIT)
    return review


def test_duplicates_review_keep_this_gives_the_kept_copy_the_album(
        qtbot: QtBot, window: Callable[..., Any], copies: Library, photo_dir: Path,
        home: Path) -> None:
    lib = copies
    backup = lib.reader().one("SELECT id FROM photos WHERE path = ?",
                              (str(photo_dir / "Backup" / "orig0.jpg"),))
    lib.albums.create("Winter", [backup])
    w = shown(qtbot, window)
    review = _review(qtbot, w)
    card = next(c for c in review.cards if backup in {m.member.id for m in c.members})
    suggested, other = card.members
    assert suggested.objectName() == "suggested" and other.objectName() == "copy"
    holder = suggested if suggested.member.id == backup else other
    assert "Winter" in holder.holdings.text()
    kept = next(m for m in card.members if m.member.id != backup)
    kept.keep.click()
    qtbot.waitUntil(lambda: len(review.cards) == 1, timeout=WAIT)
    assert in_trash(home) == ["orig0.jpg"]
    assert not (photo_dir / "Backup" / "orig0.jpg").exists()
    assert lib.albums.photo_ids("Winter") == [kept.member.id]
    assert "Kept 1 copy, moved 1 to the trash" in w.status.message.text()


def test_keep_suggested_in_all_groups_says_how_many_files_go(
        qtbot: QtBot, window: Callable[..., Any], copies: Library, photo_dir: Path,
        home: Path) -> None:
    w = shown(qtbot, window)
    review = _review(qtbot, w)
    assert review.keep_all_button.isEnabled()
    said = answer_next_dialog(qtbot, "Cancel")
    review.keep_all_button.click()
    assert said == ["Move 2 files to the trash?"]
    assert in_trash(home) == []
    answer_next_dialog(qtbot, "Move to Trash")
    review.keep_all_button.click()
    qtbot.waitUntil(lambda: len(in_trash(home)) == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: review.empty.isVisible(), timeout=WAIT)
    assert review.empty.text() == "No duplicates found."
    left = sorted(p.name for p in photo_dir.rglob("*.jpg"))
    assert left == ["orig0.jpg", "orig1.jpg"]
