"""The "Unnamed faces" view against a real library of real face photographs (the default face
pack, offline): waiting faces in groups of look-alikes, selected across groups with the mouse,
named, kept apart, ignored and taken back, each landing in the library through the core; and
"Ignore this face" on a person's page and in the viewer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QDialog, QMenu
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.people import PeopleView
from glimpse_desktop.gui.people.grids import FaceIdRole
from glimpse_desktop.gui.people.waiting import AloneRole, HeaderRole, NameFacesDialog
from glimpse_desktop.gui.tasks import Tasks
from glimpse_desktop.kernel.paths import LibraryPaths
from tests import facephotos
from tests.facephotos import GROUP, IDENTITY

WAIT = 30_000


@pytest.fixture(scope="session")
def _indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("waiting-view")
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


def _files(lib: Library) -> dict[int, str]:
    return {int(r[0]): str(r[1]) for r in lib.reader().execute(
        "SELECT f.id, ph.filename FROM faces f JOIN photos ph ON ph.id = f.photo_id")}


def _open(qtbot: QtBot, lib: Library, tasks: Tasks) -> PeopleView:
    view = PeopleView(lib, tasks)
    qtbot.addWidget(view)
    view.resize(1100, 760)
    view.show()
    qtbot.waitUntil(lambda: view.loaded, timeout=WAIT)
    return view


def _settle(qtbot: QtBot, tasks: Tasks) -> None:
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=WAIT)


def _rows(view: PeopleView) -> list[tuple[bool, int, int | None]]:
    """(header?, group, face id) per row of the waiting grid (-1: the header of the faces
    like no other)."""
    model = view.waiting.model
    return [(bool(model.index(i).data(HeaderRole)), model.items[i].group,
             model.index(i).data(FaceIdRole)) for i in range(model.rowCount())]


def _groups(view: PeopleView, files: dict[int, str]) -> list[list[str]]:
    out: dict[int, list[str]] = {}
    for header, group, face in _rows(view):
        if not header and face is not None:
            out.setdefault(group, []).append(files[face])
    return [sorted(v) for _, v in sorted(out.items())]


def _click(qtbot: QtBot, view: PeopleView, row: int,
           modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    grid = view.waiting.grid
    index = view.waiting.model.index(row)
    grid.scrollTo(index)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, modifier,
                     grid.visualRect(index).center())


def _row_of(view: PeopleView, face: int) -> int:
    row = view.waiting.model.row_of_face(face)
    assert row is not None
    return row


def _waiting_open(qtbot: QtBot, lib: Library, tasks: Tasks) -> PeopleView:
    view = _open(qtbot, lib, tasks)
    waiting = lib.people.status().waiting
    assert view.waiting_button.isVisible()
    assert view.waiting_button.text() == f"Unnamed faces ({waiting})"
    qtbot.mouseClick(view.waiting_button, Qt.MouseButton.LeftButton)
    assert view.pages.currentWidget() is view.waiting
    qtbot.waitUntil(lambda: view.waiting.loaded, timeout=WAIT)
    return view


def test_groups_are_named_from_a_header_click_and_the_name_dialog(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    view = _waiting_open(qtbot, people_lib, tasks)
    files = _files(people_lib)
    groups = _groups(view, files)
    assert sorted(groups[:2]) == [["bieber1.jpg", "bieber2.jpg"], ["cage1.jpg", "cage2.jpg"]]
    assert sum(len(g) for g in groups) == people_lib.people.status().waiting
    assert "in no person yet" in view.waiting.counts.text()
    # The faces like no other share one section, after the groups: one click selects them.
    model = view.waiting.model
    lone = next(i for i in range(model.rowCount()) if model.index(i).data(AloneRole))
    assert [h for h, _g, _f in _rows(view)].count(True) == 3
    _click(qtbot, view, lone)
    assert len(view.waiting.selected_faces()) == sum(len(g) == 1 for g in groups)
    # A click on a group's title selects its faces; Name… asks with the names offered.
    cage = next(g for g, names in enumerate(groups) if names[0] == "cage1.jpg")
    header = next(i for i, (h, g, _f) in enumerate(_rows(view)) if h and g == cage)
    _click(qtbot, view, header)
    chosen = {f.face for f in view.waiting.selected_faces()}
    assert sorted(files[f] for f in chosen) == ["cage1.jpg", "cage2.jpg"]
    assert view.waiting.name_button.isEnabled()
    dialog = view.waiting.name_selected()
    assert isinstance(dialog, NameFacesDialog) and dialog.isVisible()
    assert dialog.windowTitle() == "Name 2 faces"
    assert not dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.line, "Nicolas Cage")
    dialog.ok.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    _settle(qtbot, tasks)
    person = people_lib.people.show("Nicolas Cage")
    assert {f.face for f in person.faces} == chosen
    assert all(f.assigned == "user" for f in person.faces)
    qtbot.waitUntil(lambda: "2 faces added to Nicolas Cage" in view.waiting.message.text(),
                    timeout=WAIT)
    # The view refreshed in place: the group is gone, the People grid has the person.
    assert ["cage1.jpg", "cage2.jpg"] not in _groups(view, files)
    assert any(p.name == "Nicolas Cage" for p in view.model.rows)
    # The completion offers the name next time.
    _click(qtbot, view, _row_of(view, next(f for f, n in files.items() if n == "queen.jpg")))
    dialog = view.waiting.name_selected()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.line.completer() is not None and
                    dialog.line.completer().model().rowCount() >= 1, timeout=WAIT)
    dialog.reject()
    # Back to People with Esc's button.
    qtbot.mouseClick(view.waiting.back_button, Qt.MouseButton.LeftButton)
    assert view.pages.currentIndex() == 0


def test_selecting_across_groups_naming_in_bulk_keeps_one_face_per_photo(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    view = _waiting_open(qtbot, people_lib, tasks)
    files = _files(people_lib)
    friends = [f for f, n in files.items() if n == GROUP]
    biden = next(f for f, n in files.items() if n == "biden.jpg")
    # Ctrl+click adds faces of other groups; Shift+click extends a range (headers skipped).
    _click(qtbot, view, _row_of(view, friends[0]))
    _click(qtbot, view, _row_of(view, friends[1]), Qt.KeyboardModifier.ControlModifier)
    _click(qtbot, view, _row_of(view, biden), Qt.KeyboardModifier.ControlModifier)
    assert {f.face for f in view.waiting.selected_faces()} == {friends[0], friends[1], biden}
    view.waiting.name_faces([f.face for f in view.waiting.selected_faces()], "Joey")
    _settle(qtbot, tasks)
    qtbot.waitUntil(lambda: "left out" in view.waiting.message.text(), timeout=WAIT)
    joey = people_lib.people.show("Joey")
    assert len(joey.faces) == 2 and len({f.photo for f in joey.faces}) == 2
    # Shift: a range from one face to another, across groups.
    rows = [i for i, (h, _g, _f) in enumerate(_rows(view)) if not h]
    _click(qtbot, view, rows[0])
    _click(qtbot, view, rows[3], Qt.KeyboardModifier.ShiftModifier)
    assert len(view.waiting.selected_faces()) == 4


def test_not_the_same_person_ignore_undo_and_the_ignored_list(
        qtbot: QtBot, people_lib: Library, tasks: Tasks) -> None:
    view = _waiting_open(qtbot, people_lib, tasks)
    files = _files(people_lib)
    waiting = view.waiting
    cage2 = next(f for f, n in files.items() if n == "cage2.jpg")
    # Dropping one face out of its group: "Not the same person".
    _click(qtbot, view, _row_of(view, cage2))
    assert waiting.apart_button.isEnabled()
    menu = waiting.face_menu()
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Open photo", "Name…", "Not the same person", "Ignore this face"]
    menu.close()
    qtbot.mouseClick(waiting.apart_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, tasks)
    qtbot.waitUntil(lambda: ["cage2.jpg"] in _groups(view, files), timeout=WAIT)
    assert ["cage1.jpg"] in _groups(view, files)
    # A lone face cannot be taken out of its group.
    _click(qtbot, view, _row_of(view, cage2))
    assert not waiting.apart_button.isEnabled()
    # Ignore: gone from the view and the counts, Undo brings it back.
    before = people_lib.people.status().waiting
    scroll = waiting.grid.verticalScrollBar()
    waiting.grid.resize(waiting.grid.width(), 200)
    qtbot.waitUntil(lambda: scroll.maximum() > 0, timeout=WAIT)
    scroll.setValue(scroll.maximum() // 2)
    kept = scroll.value()
    qtbot.mouseClick(waiting.ignore_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, tasks)
    qtbot.waitUntil(lambda: waiting.model.row_of_face(cage2) is None, timeout=WAIT)
    assert people_lib.people.status().waiting == before - 1
    assert [f.face for f in people_lib.people.ignored_faces()] == [cage2]
    qtbot.waitUntil(lambda: scroll.value() == min(kept, scroll.maximum()), timeout=WAIT)
    assert waiting.message.text() == "1 face ignored."
    waiting.message.action.click()                  # Undo
    _settle(qtbot, tasks)
    assert people_lib.people.ignored_faces() == []
    qtbot.waitUntil(lambda: waiting.model.row_of_face(cage2) is not None, timeout=WAIT)
    # The ignored list takes a face back with "Don't ignore".
    people_lib.people.ignore_faces([cage2])
    qtbot.mouseClick(waiting.ignored_tab, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: [r[2] for r in _rows(view)] == [cage2], timeout=WAIT)
    assert waiting.title.text() == "Ignored faces"
    assert waiting.ignored_tab.text() == "Ignored faces (1)"
    assert not waiting.name_button.isVisible() and waiting.unignore_button.isVisible()
    _click(qtbot, view, 0)
    qtbot.mouseClick(waiting.unignore_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, tasks)
    qtbot.waitUntil(lambda: waiting.model.rowCount() == 0, timeout=WAIT)
    assert waiting.notice.isVisible() and people_lib.people.ignored_faces() == []


def test_a_double_click_opens_the_photo_of_a_face(qtbot: QtBot, people_lib: Library,
                                                   tasks: Tasks) -> None:
    view = _waiting_open(qtbot, people_lib, tasks)
    row = next(i for i, (h, _g, _f) in enumerate(_rows(view)) if not h)
    face = view.waiting.model.items[row].face
    assert face is not None
    index: QModelIndex = view.waiting.model.index(row)
    grid = view.waiting.grid
    with qtbot.waitSignal(view.open_photo) as opened:
        qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton,
                          pos=grid.visualRect(index).center())
    assert opened.args == [face.photo]


def test_ignore_this_face_on_a_persons_page(qtbot: QtBot, people_lib: Library,
                                            tasks: Tasks) -> None:
    view = _open(qtbot, people_lib, tasks)
    person = max(view.model.rows, key=lambda p: p.faces)
    assert person.id is not None
    view.open_person(person.id)
    qtbot.waitUntil(lambda: view.person is not None and view.face_model.rowCount() == 4,
                    timeout=WAIT)
    index = view.face_model.index(0)
    face = int(index.data(FaceIdRole))
    view.faces.selectionModel().select(index, view.faces.selectionModel().SelectionFlag.Select)
    view._faces_menu(view.faces.visualRect(index).center())
    menu = next(m for m in view.findChildren(QMenu) if m.isVisible())
    action = next(a for a in menu.actions() if a.text() == "Ignore this face")
    menu.close()
    action.trigger()
    _settle(qtbot, tasks)
    qtbot.waitUntil(lambda: view.face_model.rowCount() == 3, timeout=WAIT)
    assert [f.face for f in people_lib.people.ignored_faces()] == [face]
    assert view.message.text() == "1 face ignored."


def test_ignore_this_face_on_a_face_box_in_the_viewer(qtbot: QtBot, people_lib: Library,
                                                      tasks: Tasks) -> None:
    from glimpse_desktop.gui.photo_model import PhotoListModel
    from glimpse_desktop.gui.viewer import Viewer

    model = PhotoListModel(people_lib)
    while model.canFetchMore():
        model.fetchMore()
    viewer = Viewer(people_lib, tasks)
    qtbot.addWidget(viewer)
    viewer.resize(1200, 800)
    viewer.show()
    viewer.open(model, next(i for i, r in enumerate(model.rows) if r.filename == GROUP))
    qtbot.waitUntil(lambda: len(viewer.shown_faces()) == 6, timeout=WAIT)
    face = viewer.shown_faces()[1]["face"]
    menu = viewer.face_menu(face)
    assert menu is not None
    next(a for a in menu.actions() if a.text() == "Ignore this face").trigger()
    # The stranger's box is no longer drawn, and the library holds the ignore.
    qtbot.waitUntil(lambda: len(viewer.shown_faces()) == 5, timeout=WAIT)
    assert face not in [f["face"] for f in viewer.shown_faces()]
    assert [f.face for f in people_lib.people.ignored_faces()] == [face]
    assert "ignored" in viewer.notice.text.text()
