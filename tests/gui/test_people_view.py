"""The People view against a real library of real face photographs (the default face pack,
offline): the grid lists the library's people, and every action a person takes in the view
(rename in place, merge, drop one person onto another, split, "not this person", hide) lands
in the library through the core."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library, Person
from glimpse_desktop.gui.people import PeopleView
from glimpse_desktop.gui.people.grids import FaceIdRole, HiddenRole, PersonIdRole, PhotosRole
from glimpse_desktop.gui.tasks import Tasks
from glimpse_desktop.kernel.paths import LibraryPaths
from tests import facephotos
from tests.facephotos import GROUP, IDENTITY

WAIT = 30_000


@pytest.fixture(scope="session")
def _indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The face photos indexed once (detection is the slow part); each test gets a copy of
    the library file and its cache (the photos stay where this one found them)."""
    root = tmp_path_factory.mktemp("people-view")
    photos = root / "Pictures"
    photos.mkdir()
    source = facephotos.photos()
    for name in [*IDENTITY, GROUP]:
        shutil.copy(source / name, photos / name)
    paths = LibraryPaths(root / "lib" / "library.sqlite3", root / "lib" / "library.cache",
                         root / "models")
    with Library(paths, workers=2) as library:
        library.add_root(photos)
        library.index()
    return root


@pytest.fixture
def people_lib(_indexed: Path, tmp_path: Path) -> Iterator[Library]:
    target = tmp_path / "people-lib"
    shutil.copytree(_indexed / "lib", target)
    library = Library(LibraryPaths(target / "library.sqlite3", target / "library.cache",
                                   tmp_path / "models"), workers=2)
    try:
        yield library
    finally:
        library.close()


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[Tasks]:
    runner = Tasks()
    yield runner
    runner.wait()


def _view(qtbot: QtBot, lib: Library, tasks: Tasks) -> PeopleView:
    view = PeopleView(lib, tasks)
    qtbot.addWidget(view)
    view.resize(1100, 760)
    view.show()
    qtbot.waitUntil(lambda: view.loaded, timeout=WAIT)
    return view


def _settle(qtbot: QtBot, view: PeopleView, tasks: Tasks) -> None:
    """Every started call done and its callbacks run (refreshes included)."""
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=WAIT)


def _person_of(lib: Library, filename: str) -> int | None:
    row = lib.reader().row(
        "SELECT f.person_id FROM faces f JOIN photos p ON p.id = f.photo_id "
        "WHERE p.filename = ?", (filename,))
    assert row is not None
    return None if row["person_id"] is None else int(row["person_id"])


def _grid_ids(view: PeopleView) -> list[int]:
    return [int(view.model.index(i).data(PersonIdRole)) for i in range(view.model.rowCount())]


def _answer(qtbot: QtBot, view: PeopleView, button: str) -> str:
    """Click a button of the view's open question; returns the question's text."""
    qtbot.waitUntil(lambda: view.question is not None and view.question.isVisible(),
                    timeout=WAIT)
    box = view.question
    assert isinstance(box, QMessageBox)
    # Every question is wide enough for its title ("Merge 2 people…" was cut).
    assert box.width() >= box.fontMetrics().horizontalAdvance(box.windowTitle()) * 2
    text = f"{box.text()}\n{box.informativeText()}"
    chosen = next(b for b in box.buttons() if b.text().replace("&", "") == button)
    chosen.click()
    return text


def _select(view_list: Any, rows: list[int]) -> None:
    from PySide6.QtCore import QItemSelection, QItemSelectionModel
    model = view_list.model()
    selection = QItemSelection()
    for r in rows:
        selection.select(model.index(r), model.index(r))
    view_list.selectionModel().select(selection,
                                      QItemSelectionModel.SelectionFlag.ClearAndSelect)


def test_the_grid_lists_the_librarys_people_with_their_counts_and_covers(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    people = people_lib.people.list_people()
    assert len(people) == 2       # Obama (4 photos) and Franck (3); the others wait
    # Covers are cut from the grid thumbnail when the face fills enough of it, else the
    # aligned face crop is used; without either, the thumbnail is made again and cut.
    def thumb(person: Person) -> Path:
        content_hash = people_lib.photo(person.cover.photo).content_hash  # type: ignore[union-attr]
        return people_lib.thumbnails.path_for(content_hash, "grid")

    thumb(people[0]).unlink()
    thumb(people[1]).unlink()
    Path(str(people[1].cover.crop)).unlink()  # type: ignore[union-attr]
    view = _view(qtbot, people_lib, tasks)
    assert _grid_ids(view) == [p.id for p in people]
    for row, person in enumerate(people):
        index = view.model.index(row)
        assert index.data() == "Unnamed"
        assert index.data(PhotosRole) == person.photos
    status = people_lib.people.status()
    assert view.counts.text() == f"2 people · 0 named · {status.waiting} faces waiting"
    assert view.people_body.currentWidget() is view.grid
    # Covers arrive off the GUI thread; the one without a crop too.
    qtbot.waitUntil(lambda: all(isinstance(view.model.index(r).data(
        Qt.ItemDataRole.DecorationRole), QPixmap) for r in range(2)), timeout=WAIT)
    from_crop = view.model.index(0).data(Qt.ItemDataRole.DecorationRole)
    from_thumb = view.model.index(1).data(Qt.ItemDataRole.DecorationRole)
    assert from_crop.width() == 112                          # the aligned crop itself
    assert from_thumb.width() == from_thumb.height() != 112  # a square cut from the thumbnail
    assert thumb(people[1]).is_file()                        # made again, off the GUI thread
    assert not thumb(people[0]).is_file()                    # the crop was enough
    # The person's photos, and their faces' photos, are asked of the main window by id.
    shown: list[tuple[int, str]] = []
    view.show_photos.connect(lambda pid, title: shown.append((pid, title)))
    view.open_person(people[0].id)
    qtbot.waitUntil(lambda: view.face_model.rowCount() == people[0].faces, timeout=WAIT)
    assert view.photos_button.text() == f"Show all {people[0].photos} photos"
    view.photos_button.click()
    assert shown == [(people[0].id, "Unnamed person")]
    opened: list[int] = []
    view.open_photo.connect(opened.append)
    face = people_lib.people.show(people[0].id).faces[0]
    _select(view.faces, [0])
    view.open_button.click()
    assert opened == [face.photo]


def test_renaming_in_place_names_the_person_and_a_taken_name_offers_a_merge(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    obama = _person_of(people_lib, "obama1.jpg")
    franck = _person_of(people_lib, "franck1.jpg")
    assert obama is not None and franck is not None
    view = _view(qtbot, people_lib, tasks)
    index = view.model.index(_grid_ids(view).index(obama))
    # What F2 or a click on the name does: the delegate's editor, committed with Enter.
    view.grid.setCurrentIndex(index)
    qtbot.keyClick(view.grid, Qt.Key.Key_F2)
    editor = view.grid.findChild(QLineEdit)
    assert editor is not None and editor.isVisible() and editor.text() == ""
    editor.setText("  Barack   Obama ")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: people_lib.people.show(obama).name == "Barack Obama",
                    timeout=WAIT)
    _settle(qtbot, view, tasks)
    row = _grid_ids(view).index(obama)
    assert view.model.index(row).data() == "Barack Obama"
    assert view.counts.text().startswith("2 people · 1 named")
    # A click on a name edits it too (once the double-click interval has passed); Escape
    # leaves the name as it was.
    other = view.model.index(_grid_ids(view).index(franck))
    option_font = view.grid.font()
    name_font = QFont(option_font)
    name_font.setWeight(QFont.Weight.DemiBold)
    spot = view.delegate.name_rect(view.grid.visualRect(other), name_font).center()
    qtbot.mouseClick(view.grid.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    qtbot.waitUntil(lambda: view.grid.state() == QAbstractItemView.State.EditingState,
                    timeout=WAIT)
    editor = view.grid.findChild(QLineEdit)
    assert editor is not None and editor.geometry().contains(spot)
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: view.grid.state() != QAbstractItemView.State.EditingState,
                    timeout=WAIT)
    assert people_lib.people.show(franck).name is None
    # Franck given the same name: the core refuses; the view offers to merge them.
    view.model.setData(view.model.index(_grid_ids(view).index(franck)), "barack obama")
    text = _answer(qtbot, view, "Merge")
    assert "already" in text
    qtbot.waitUntil(lambda: len(people_lib.people.list_people()) == 1, timeout=WAIT)
    merged = people_lib.people.list_people()[0]
    assert merged.id == obama and merged.name == "Barack Obama" and merged.faces == 7
    _settle(qtbot, view, tasks)
    assert _grid_ids(view) == [obama]
    assert view.message.text() == ""          # nothing went wrong


def test_an_empty_name_or_an_unchanged_one_asks_nothing_of_the_core(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    view = _view(qtbot, people_lib, tasks)
    assert not view.model.setData(view.model.index(0), "   ")
    # A name the core refuses is said in the view, and the grid shows the library again.
    view.model.setData(view.model.index(0), "1234")
    qtbot.waitUntil(lambda: "digits" in view.message.text(), timeout=WAIT)
    _settle(qtbot, view, tasks)
    assert view.model.index(0).data() == "Unnamed"
    assert view.message.error


def test_merging_selected_people_joins_them_in_the_library(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    obama = _person_of(people_lib, "obama1.jpg")
    franck = _person_of(people_lib, "franck1.jpg")
    assert obama is not None and franck is not None
    people_lib.people.name(franck, "Franck")
    view = _view(qtbot, people_lib, tasks)
    assert not view.merge_button.isEnabled()
    _select(view.grid, [_grid_ids(view).index(obama), _grid_ids(view).index(franck)])
    assert view.merge_button.isEnabled()
    view.merge_button.click()
    # Into the named one, whichever was selected first.
    text = _answer(qtbot, view, "Merge")
    assert "Franck" in text and "7 faces" in text
    qtbot.waitUntil(lambda: len(people_lib.people.list_people()) == 1, timeout=WAIT)
    only = people_lib.people.list_people()[0]
    assert only.id == franck and only.name == "Franck" and only.faces == 7
    _settle(qtbot, view, tasks)
    assert _grid_ids(view) == [franck]


def test_dropping_one_person_onto_another_merges_after_asking(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    people_lib.people.recluster(min_faces=2)      # Cage and Bieber become people too
    cage = _person_of(people_lib, "cage1.jpg")
    bieber = _person_of(people_lib, "bieber1.jpg")
    obama = _person_of(people_lib, "obama1.jpg")
    assert None not in (cage, bieber, obama) and len({cage, bieber, obama}) == 3
    view = _view(qtbot, people_lib, tasks)
    assert len(_grid_ids(view)) == 4
    source = view.model.index(_grid_ids(view).index(int(str(cage))))
    target = view.model.index(_grid_ids(view).index(int(str(bieber))))
    view.grid.scrollTo(target)
    mime: QMimeData = view.model.mimeData([source])
    at = QPointF(view.grid.visualRect(target).center())
    # A drop between people (on empty space) does nothing.
    assert not view.model.canDropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, QModelIndex())
    def drop() -> None:
        # As a drag over the grid delivers it: enter, move over the person, drop.
        for kind in (QDragEnterEvent, QDragMoveEvent):
            over = kind(at.toPoint(), Qt.DropAction.MoveAction, mime,
                        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(view.grid.viewport(), over)
            assert over.isAccepted()
        event = QDropEvent(at, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier)
        event.setDropAction(Qt.DropAction.MoveAction)    # what the drag proposes
        QApplication.sendEvent(view.grid.viewport(), event)
        assert not event.isAccepted()    # nothing moved in the grid: the merge is asked for

    drop()
    # Cancel first: nothing changes.
    _answer(qtbot, view, "Cancel")
    _settle(qtbot, view, tasks)
    assert len(people_lib.people.list_people()) == 4
    drop()
    _answer(qtbot, view, "Merge")
    qtbot.waitUntil(lambda: len(people_lib.people.list_people()) == 3, timeout=WAIT)
    assert _person_of(people_lib, "cage1.jpg") == bieber
    assert _person_of(people_lib, "cage2.jpg") == bieber
    _settle(qtbot, view, tasks)
    assert cage not in _grid_ids(view) and len(_grid_ids(view)) == 3


def test_moving_selected_faces_to_a_new_person_splits_them_off(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    view = _view(qtbot, people_lib, tasks)
    view.grid.setCurrentIndex(view.model.index(_grid_ids(view).index(obama)))
    qtbot.keyClick(view.grid, Qt.Key.Key_Return)
    assert view.pages.currentIndex() == 1 and view.person_id == obama
    qtbot.waitUntil(lambda: view.face_model.rowCount() == 4, timeout=WAIT)
    assert not view.split_button.isEnabled()
    _select(view.faces, [0, 1])
    moved = {int(view.face_model.index(r).data(FaceIdRole)) for r in (0, 1)}
    assert view.split_button.isEnabled() and not view.cover_button.isEnabled()
    view.split_button.click()
    qtbot.waitUntil(lambda: len(people_lib.people.list_people()) == 3, timeout=WAIT)
    new = next(p for p in people_lib.people.list_people() if p.id not in
               {obama, _person_of(people_lib, "franck1.jpg")})
    assert {f.face for f in people_lib.people.show(new.id).faces} == moved
    assert len(people_lib.people.show(obama).faces) == 2
    _settle(qtbot, view, tasks)
    assert view.face_model.rowCount() == 2          # the open person, read again
    assert "moved to a new person" in view.message.text()
    # The message's "Open" shows the new person.
    view.message.action.click()
    assert view.person_id == new.id
    qtbot.waitUntil(lambda: view.face_model.rowCount() == 2, timeout=WAIT)
    view.back()
    assert view.pages.currentIndex() == 0
    assert new.id in _grid_ids(view)


def test_not_this_person_takes_the_face_out_and_use_as_cover_sets_the_cover(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    view = _view(qtbot, people_lib, tasks)
    view.open_person(obama)
    qtbot.waitUntil(lambda: view.face_model.rowCount() == 4, timeout=WAIT)
    # Use as cover.
    _select(view.faces, [3])
    chosen = int(view.face_model.index(3).data(FaceIdRole))
    view.cover_button.click()
    qtbot.waitUntil(lambda: people_lib.people.show(obama).cover.face == chosen,
                    timeout=WAIT)
    # Not this person, from the face's context menu.
    _select(view.faces, [0])
    face = int(view.face_model.index(0).data(FaceIdRole))
    view.faces.customContextMenuRequested.emit(
        view.faces.visualRect(view.face_model.index(0)).center())
    menu = next(m for m in view.findChildren(QMenu) if m.isVisible())
    assert {a.text(): a.isEnabled() for a in menu.actions() if a.text()} == {
        "Open photo": True, "Use as cover": True, "Not this person": True,
        "Move to new person": True, "Ignore this face": True}
    next(a for a in menu.actions() if a.text() == "Not this person").trigger()
    menu.close()
    qtbot.waitUntil(lambda: face not in {f.face for f in
                                         people_lib.people.show(obama).faces}, timeout=WAIT)
    _settle(qtbot, view, tasks)
    assert view.face_model.rowCount() == 3
    assert face not in {int(view.face_model.index(r).data(FaceIdRole)) for r in range(3)}
    assert people_lib.reader().one(
        "SELECT count(*) FROM face_rejections WHERE face_id = ? AND person_id = ?",
        (face, obama)) == 1
    # Remembered: clustering again does not put it back.
    people_lib.people.recluster()
    assert face not in {f.face for f in people_lib.people.show(obama).faces}


def test_hidden_people_stay_behind_the_toggle(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    view = _view(qtbot, people_lib, tasks)
    assert not view.hidden_toggle.isVisible()       # nobody hidden yet
    # Hidden from the person's context menu.
    spot = view.grid.visualRect(view.model.index(_grid_ids(view).index(obama))).center()
    view.grid.customContextMenuRequested.emit(spot)
    menu = next(m for m in view.findChildren(QMenu) if m.isVisible())
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Show photos", "Open", "Add a name", "Merge selected…", "Hide", "Forget person…"]
    next(a for a in menu.actions() if a.text() == "Hide").trigger()
    menu.close()
    qtbot.waitUntil(lambda: obama not in _grid_ids(view), timeout=WAIT)
    assert view.hidden_toggle.isVisible()
    assert people_lib.people.show(obama).hidden
    assert view.counts.text().startswith("1 person · 0 named")
    assert "hidden" in view.message.text()
    view.hidden_toggle.setChecked(True)
    qtbot.waitUntil(lambda: obama in _grid_ids(view), timeout=WAIT)
    index = view.model.index(_grid_ids(view).index(obama))
    assert index.data(HiddenRole) is True
    assert "1 hidden" in view.counts.text()
    view.hide_people([obama], False)
    qtbot.waitUntil(lambda: not people_lib.people.show(obama).hidden, timeout=WAIT)
    view.hidden_toggle.setChecked(False)
    qtbot.waitUntil(lambda: obama in _grid_ids(view) and not view.model.index(
        _grid_ids(view).index(obama)).data(HiddenRole), timeout=WAIT)
    # Everyone hidden: the page says so, and offers to show them.
    view.hide_people(_grid_ids(view))
    qtbot.waitUntil(lambda: view.people_body.currentWidget() is view.people_notice,
                    timeout=WAIT)
    assert view.people_notice.title.text() == "Everyone is hidden"
    view.people_notice.button.click()
    assert view.hidden_toggle.isChecked() and len(_grid_ids(view)) == 2
    assert view.people_body.currentWidget() is view.grid


def test_forgetting_a_person_asks_first(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    franck = _person_of(people_lib, "franck1.jpg")
    view = _view(qtbot, people_lib, tasks)
    assert franck is not None
    view.forget([franck])
    assert "Forget" in _answer(qtbot, view, "Forget")
    qtbot.waitUntil(lambda: _person_of(people_lib, "franck1.jpg") is None, timeout=WAIT)
    _settle(qtbot, view, tasks)
    assert franck not in _grid_ids(view)


def test_the_view_says_when_there_are_no_people_and_why(
        qtbot: QtBot, lib: Library, tasks: Tasks) -> None:
    view = _view(qtbot, lib, tasks)
    assert view.people_body.currentWidget() is view.people_notice
    assert view.people_notice.title.text() == "No people yet"
    assert "Faces are found while photos are read" in view.people_notice.body.text()
    lib.set_faces(False)
    view.refresh()
    qtbot.waitUntil(lambda: view.people_notice.title.text() == "Faces are turned off",
                    timeout=WAIT)
    assert view.people_notice.button.text() == "Turn on faces"
    view.people_notice.button.click()
    qtbot.waitUntil(lambda: lib.people.enabled(), timeout=WAIT)
    qtbot.waitUntil(lambda: view.people_notice.title.text() == "No people yet", timeout=WAIT)


def test_a_missing_face_pack_is_said_plainly(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    from glimpse_desktop.faces.people import PACK_KEY
    from glimpse_desktop.kernel.config import set_setting
    # The library is set to a pack that is not installed here (it needs a download).
    people_lib.writer.call(lambda c: set_setting(c, PACK_KEY, "buffalo_s"))
    assert people_lib.people.stage() is None
    view = _view(qtbot, people_lib, tasks)
    # The people found so far stay; the problem is said above them, as an error.
    assert view.people_body.currentWidget() is view.grid and view.model.rowCount() == 2
    assert view.message.error
    assert view.message.text().startswith("Faces cannot be found right now")
    assert "buffalo_s" in view.message.text()
    # Said once: dismissed, it does not come back with every refresh.
    view.message.dismiss()
    view.refresh()
    _settle(qtbot, view, tasks)
    assert view.message.text() == ""
    # With no people at all, the whole page says it.
    for person in people_lib.people.list_people():
        people_lib.people.delete(person.id)
    view.refresh()
    qtbot.waitUntil(lambda: view.people_body.currentWidget() is view.people_notice,
                    timeout=WAIT)
    assert view.people_notice.title.text() == "Faces cannot be found right now"
    assert "buffalo_s" in view.people_notice.body.text()


def _painted(pixmap: QPixmap, at: QPoint, background: QColor) -> bool:
    color = pixmap.toImage().pixelColor(at)
    return abs(color.lightness() - background.lightness()) > 6 or color.saturation() > 30


def test_both_pages_draw_faces_names_and_counts(
        qtbot: QtBot, people_lib: Library, tasks: Tasks, tmp_path: Path) -> None:
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    people_lib.people.name(obama, "Barack Obama")
    people_lib.people.recluster(min_faces=2)
    people_lib.people.hide(int(str(_person_of(people_lib, "cage1.jpg"))))
    view = _view(qtbot, people_lib, tasks)
    view.hidden_toggle.setChecked(True)
    qtbot.waitUntil(lambda: len(_grid_ids(view)) == 4, timeout=WAIT)
    qtbot.waitUntil(lambda: all(isinstance(view.model.index(r).data(
        Qt.ItemDataRole.DecorationRole), QPixmap) for r in range(4)), timeout=WAIT)
    _select(view.grid, [0])
    qtbot.wait(100)
    first = view.grab()
    base = view.grid.palette().color(QPalette.ColorRole.Base)
    cover = view.delegate.cover_rect(view.grid.visualRect(view.model.index(1))).center()
    assert _painted(first, view.grid.viewport().mapTo(view, cover.toPoint()), base)
    view.open_person(obama)
    qtbot.waitUntil(lambda: view.face_model.rowCount() == 4, timeout=WAIT)
    qtbot.waitUntil(lambda: all(isinstance(view.face_model.index(r).data(
        Qt.ItemDataRole.DecorationRole), QPixmap) for r in range(4)), timeout=WAIT)
    _select(view.faces, [1, 2])
    qtbot.wait(100)
    second = view.grab()
    face = view.faces.visualRect(view.face_model.index(0)).center()
    assert _painted(second, view.faces.viewport().mapTo(view, face), base)
    assert view.name_edit.text() == "Barack Obama"
    assert view.person_counts.text() == "4 photos · 4 faces"
    out = Path(os.environ.get("GLIMPSE_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    assert first.save(str(out / "people-grid.png")) and second.save(str(out / "person.png"))
