"""The People view: the people grid and one person's page in one widget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QFont,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import (
    Face,
    Merged,
    PeopleError,
    PeopleStatus,
    Person,
    PersonDetail,
    SplitResult,
)
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.people.covers import FaceCovers, dim, face_key, plural, title_of
from glimpse_desktop.gui.people.grids import (
    FaceDelegate,
    FaceGrid,
    FaceModel,
    PeopleGrid,
    PeopleModel,
    PersonDelegate,
    PersonIdRole,
    PhotoIdRole,
)
from glimpse_desktop.gui.people.parts import EmptyNotice, MessageBar, RoundCover, Rule, heading
from glimpse_desktop.gui.people.waiting import WaitingView
from glimpse_desktop.gui.tasks import Tasks, describe
from glimpse_desktop.gui.widgets import fit_title
from glimpse_desktop.gui.wording import say

# ---------------------------------------------------------------------------- the view


class PeopleView(QWidget):
    """The People page: a grid of people, and one person's faces.

    ``show_photos(person_id, title)`` asks the main window to show a person's photos in its
    grid; ``open_photo(photo_id)`` to open one photo. Call ``refresh()`` after anything that
    may change people (an indexing run, a re-cluster): it reads off the GUI thread and keeps
    selection and scroll position.
    """

    show_photos = Signal(int, str)
    open_photo = Signal(int)
    people_changed = Signal()       # a name, merge, move or rejection was saved

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.tasks = tasks
        self.covers = FaceCovers(lib, parent=self)
        self.person_id: int | None = None       # the open person (page 2)
        self.person: PersonDetail | None = None
        self.status: PeopleStatus | None = None
        self.everyone: list[Person] = []   # every person, hidden ones too
        self._said: str | None = None              # what the bar last said about faces
        self.loaded = False                     # the first list has arrived
        self._list_gen = 0
        self._person_gen = 0
        self._pending_rows: list[Person] | None = None
        self.question: QMessageBox | None = None  # the open confirmation, if any

        # One surface, as photo apps have it: the grids' background under the headers too.
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.message = MessageBar(self)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._people_page())
        self.pages.addWidget(self._person_page())
        # Page 3: the faces in no person, grouped, and the ignored faces.
        self.waiting = WaitingView(lib, tasks, self.covers, self)
        self.waiting.back_requested.connect(self.back)
        self.waiting.open_photo.connect(self.open_photo)
        self.waiting.people_changed.connect(self._waiting_changed)
        self.pages.addWidget(self.waiting)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        bar = QVBoxLayout()
        bar.setContentsMargins(12, 8, 12, 0)
        bar.addWidget(self.message)
        outer.addLayout(bar)
        outer.addWidget(self.pages, 1)
        self.refresh()

    # ------------------------------------------------------------------ building

    def _people_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QHBoxLayout()
        header.setContentsMargins(20, 14, 16, 10)
        header.setSpacing(10)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(heading("People", 1.6, page))
        self.counts = QLabel(page)
        dim(self.counts)
        titles.addWidget(self.counts)
        header.addLayout(titles, 1)
        self.merge_button = QPushButton("Merge", page)
        self.merge_button.setToolTip("Join the selected people into one person")
        self.merge_button.setEnabled(False)
        self.merge_button.clicked.connect(self.merge_selected)
        # A toggle button rather than a check box: it reads on this view's base-coloured
        # surface in every style and palette.
        self.hidden_toggle = QPushButton("Show hidden", page)
        self.hidden_toggle.setCheckable(True)
        self.hidden_toggle.setToolTip("Show people you have hidden (drawn dimmed)")
        self.hidden_toggle.toggled.connect(lambda _on: self._show_rows())
        self.waiting_button = QPushButton("Unnamed faces", page)
        self.waiting_button.setToolTip("Faces in no person yet, grouped by likeness: name or "
                                       "ignore them in bulk")
        self.waiting_button.clicked.connect(self.open_waiting)
        header.addWidget(self.waiting_button, 0, Qt.AlignmentFlag.AlignBottom)
        header.addWidget(self.merge_button, 0, Qt.AlignmentFlag.AlignBottom)
        header.addWidget(self.hidden_toggle, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(header)

        self.model = PeopleModel(self.covers, self)
        self.model.rename_requested.connect(self.rename)
        self.model.merge_requested.connect(self._dropped)
        self.grid = PeopleGrid(page)
        self.grid.setModel(self.model)
        self.delegate = PersonDelegate(self.grid)
        self.grid.setItemDelegate(self.delegate)
        self.delegate.closeEditor.connect(self._editor_closed)
        self.grid.open_requested.connect(lambda index: self.open_person(int(index.data(
            PersonIdRole))))
        self.grid.customContextMenuRequested.connect(self._people_menu)
        self.grid.selectionModel().selectionChanged.connect(self._people_selection)
        self.grid.setContentsMargins(12, 0, 12, 0)
        self.people_notice = EmptyNotice(page)
        self.people_body = QStackedWidget(page)
        self.people_body.addWidget(self.grid)
        self.people_body.addWidget(self.people_notice)
        grid_box = QHBoxLayout()
        grid_box.setContentsMargins(10, 0, 0, 0)
        grid_box.addWidget(self.people_body)
        layout.addLayout(grid_box, 1)
        return page

    def _person_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        top = QHBoxLayout()
        top.setContentsMargins(10, 10, 16, 0)
        self.back_button = QToolButton(page)
        self.back_button.setText("‹  People")
        self.back_button.setToolTip("Back to everyone (Esc)")
        self.back_button.setAutoRaise(True)
        self.back_button.setShortcut(Qt.Key.Key_Escape)
        self.back_button.clicked.connect(self.back)
        top.addWidget(self.back_button)
        top.addStretch(1)
        layout.addLayout(top)

        header = QHBoxLayout()
        header.setContentsMargins(20, 6, 16, 12)
        header.setSpacing(16)
        self.person_cover = RoundCover(84, page)
        header.addWidget(self.person_cover)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.name_edit = QLineEdit(page)
        self.name_edit.setPlaceholderText("Add a name")
        self.name_edit.setFrame(False)
        self.name_edit.setMaxLength(200)
        self.name_edit.setToolTip("Click to rename; Enter to keep it")
        font = self.name_edit.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setWeight(QFont.Weight.Bold)
        self.name_edit.setFont(font)
        self.name_edit.editingFinished.connect(self._name_edited)
        titles.addStretch(1)
        titles.addWidget(self.name_edit)
        self.person_counts = QLabel(page)
        dim(self.person_counts)
        titles.addWidget(self.person_counts)
        titles.addStretch(1)
        header.addLayout(titles, 1)
        self.photos_button = QPushButton("Show all photos", page)
        self.photos_button.setDefault(False)
        self.photos_button.clicked.connect(self._show_person_photos)
        self.more_button = QPushButton("More", page)
        self.more_menu = QMenu(self.more_button)
        self.hide_action = self.more_menu.addAction("Hide person")
        self.hide_action.triggered.connect(self._toggle_open_hidden)
        self.forget_action = self.more_menu.addAction("Forget person…")
        self.forget_action.triggered.connect(self._forget_open)
        self.more_button.setMenu(self.more_menu)
        header.addWidget(self.photos_button, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(header)

        actions = QHBoxLayout()
        actions.setContentsMargins(20, 0, 16, 8)
        actions.setSpacing(8)
        self.faces_hint = QLabel(page)
        dim(self.faces_hint)
        actions.addWidget(self.faces_hint, 1)
        self.reject_button = QPushButton("Not this person", page)
        self.reject_button.setToolTip("Take the selected faces out of this person, for good")
        self.reject_button.clicked.connect(self.reject_selected)
        self.split_button = QPushButton("Move to new person", page)
        self.split_button.setToolTip("Make a new person of the selected faces")
        self.split_button.clicked.connect(self.split_selected)
        self.cover_button = QPushButton("Use as cover", page)
        self.cover_button.setToolTip("Show this face for the person")
        self.cover_button.clicked.connect(self.cover_selected)
        self.open_button = QPushButton("Open photo", page)
        self.open_button.clicked.connect(self._open_selected_photo)
        for button in (self.reject_button, self.split_button, self.cover_button,
                       self.open_button):
            actions.addWidget(button)
        layout.addLayout(actions)
        layout.addWidget(Rule(page))

        self.face_model = FaceModel(self.covers, self)
        self.faces = FaceGrid(page)
        self.faces.setModel(self.face_model)
        self.faces.setItemDelegate(FaceDelegate(self.faces))
        self.faces.selectionModel().selectionChanged.connect(self._face_selection)
        self.faces.open_requested.connect(
            lambda index: self.open_photo.emit(int(index.data(PhotoIdRole))))
        self.faces.customContextMenuRequested.connect(self._faces_menu)
        faces_box = QHBoxLayout()
        faces_box.setContentsMargins(14, 6, 0, 0)
        faces_box.addWidget(self.faces)
        layout.addLayout(faces_box, 1)
        self.covers.ready.connect(self._cover_ready)
        self._face_selection()
        return page

    # ------------------------------------------------------------------ reading

    def refresh(self) -> None:
        """Read the people (and the open person) again, off the GUI thread."""
        self._list_gen += 1
        gen = self._list_gen
        people = self.lib.people

        def read() -> tuple[list[Person], PeopleStatus]:
            # Hidden people too: the header counts them, and the toggle shows them at once.
            return people.list_people(include_hidden=True), people.status()

        self.tasks.run(read, done=lambda result: self._listed(gen, result),
                       failed=self.show_error, read=True)
        if self.person_id is not None:
            self._load_person(self.person_id)
        if self.pages.currentWidget() is self.waiting:
            self.waiting.refresh()

    def open_waiting(self) -> None:
        """Show the faces in no person (page 3)."""
        self.person_id = None
        self.person = None
        self.pages.setCurrentWidget(self.waiting)
        self.waiting.grid.setFocus()
        self.waiting.refresh()

    def _waiting_changed(self) -> None:
        self.refresh()
        self.people_changed.emit()

    def _listed(self, gen: int, result: tuple[list[Person], PeopleStatus]) -> None:
        if gen != self._list_gen:
            return                   # an older read: a newer one is on its way
        self.everyone, self.status = result
        self.loaded = True
        self._show_rows()

    def _visible(self) -> list[Person]:
        # What `list_people()` leaves out unless asked: hidden people, and named people left
        # without faces.
        if self.hidden_toggle.isChecked():
            return list(self.everyone)
        return [r for r in self.everyone if not r.hidden and r.faces > 0]

    def _show_rows(self) -> None:
        rows = self._visible()
        if self.grid.state() == QAbstractItemView.State.EditingState:
            self._pending_rows = rows   # applied when the name editor closes
        else:
            self._apply_rows(rows)
        self._update_counts()

    def _apply_rows(self, rows: list[Person]) -> None:
        chosen = self.selected_people()
        current = self.grid.currentIndex().data(PersonIdRole)
        scroll = self.grid.verticalScrollBar().value()
        self.model.set_rows(rows)
        selection = QItemSelection()
        for person_id in chosen:
            row = self.model.row_of(person_id)
            if row is not None:
                selection.select(self.model.index(row), self.model.index(row))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.grid.selectionModel().select(selection, flags)
        if current is not None and (row := self.model.row_of(int(current))) is not None:
            self.grid.selectionModel().setCurrentIndex(
                self.model.index(row), QItemSelectionModel.SelectionFlag.NoUpdate)
        QTimer.singleShot(0, lambda: self.grid.verticalScrollBar().setValue(scroll))
        self._people_selection()

    def _editor_closed(self, *_args: Any) -> None:
        rows, self._pending_rows = self._pending_rows, None
        if rows is not None:
            self._apply_rows(rows)

    def _update_counts(self) -> None:
        status = self.status
        shown = [r for r in self.everyone if not r.hidden and r.faces > 0]
        hidden = sum(1 for r in self.everyone if r.hidden)
        parts = [plural(len(shown), "person", "people"),
                 f"{sum(1 for r in shown if r.name):,} named"]
        if hidden:
            parts.append(f"{hidden:,} hidden")
        if status is not None and status.waiting:
            parts.append(f"{plural(status.waiting, 'face')} waiting")
        if status is not None and status.backlog and status.enabled:
            parts.append(f"{plural(status.backlog, 'photo')} still to look at")
        self.counts.setText(" · ".join(parts) if self.everyone or len(parts) > 2 else "")
        self.merge_button.setVisible(bool(self.model.rows))
        waiting = status.waiting if status is not None else 0
        self.waiting_button.setText(f"Unnamed faces ({waiting:,})")
        self.waiting_button.setVisible(bool(waiting) or bool(status and status.faces))
        self.hidden_toggle.setVisible(bool(hidden) or self.hidden_toggle.isChecked())
        self._notice(status, self.model.rows, hidden)

    def _notice(self, status: PeopleStatus | None, rows: list[Person], hidden: int) -> None:
        """Say why the grid is empty (or why faces are not found) and what to do."""
        problem = say(status.problem) if status is not None and status.problem else None
        off = status is not None and not status.enabled
        broken = problem or (status is not None and not status.installed)
        if rows:
            # People already found stay in view; the state is said above them, once.
            said = ("Faces are turned off: new photos are not looked at for faces." if off
                    else "Faces cannot be found right now: "
                    f"{problem or 'the face pack is not installed'}" if broken else None)
            if said != self._said:
                if self._said is not None and self.message.text() == self._said:
                    self.message.dismiss()       # no longer true
                self._said = said
                if off:
                    self.message.show_info(said or "", "Turn on faces", self._turn_on_faces,
                                           stay=True)
                elif said is not None:
                    self.show_error(said)
            self.people_body.setCurrentWidget(self.grid)
            return
        if self._said is not None and self.message.text() == self._said:
            self.message.dismiss()               # the notice says it now
        self._said = None
        if off:
            self.people_notice.say(
                "Faces are turned off",
                "Turn them on to group your photos by the people in them. Faces are found "
                "on this computer while photos are read.",
                "Turn on faces", self._turn_on_faces)
        elif broken:
            self.people_notice.say(
                "Faces cannot be found right now",
                f"{problem or 'The face pack is not installed.'}\nEverything else keeps "
                "working; people appear once the face pack is back.")
        elif not rows and hidden:
            self.people_notice.say(
                "Everyone is hidden",
                f"{plural(hidden, 'person', 'people')} hidden. Hidden people stay out of "
                "this list; show them to unhide someone.", "Show hidden",
                lambda: self.hidden_toggle.setChecked(True))
        elif not rows and status is not None and status.faces and not status.backlog:
            self.people_notice.say(
                "No people yet",
                f"{plural(status.faces, 'face')} found, waiting for more photos of "
                f"the same person: a person appears once there are "
                f"{status.thresholds.min_faces} similar faces.")
        elif not rows and status is not None and status.backlog:
            self.people_notice.say(
                "Looking for faces…",
                "Faces are found while photos are read; people appear here as they are "
                f"grouped. {plural(status.backlog, 'photo')} still to look at.")
        else:
            self.people_notice.say(
                "No people yet",
                "Faces are found while photos are read. Add a folder with photos of people "
                "and they will be grouped here; then give them names.")
        self.people_body.setCurrentWidget(self.people_notice)

    def _load_person(self, person_id: int) -> None:
        self._person_gen += 1
        gen = self._person_gen
        people = self.lib.people

        def read() -> PersonDetail | None:
            try:
                return people.show(person_id)
            except PeopleError:
                if not any(p.id == person_id for p in people.list_people(
                        include_hidden=True)):
                    return None          # merged away, or left without faces
                raise

        self.tasks.run(read, done=lambda person: self._person_loaded(gen, person_id, person),
                       failed=self.show_error, read=True)

    def _person_loaded(self, gen: int, person_id: int, person: PersonDetail | None) -> None:
        if gen != self._person_gen or person_id != self.person_id:
            return
        if person is None:
            self.back()
            return
        self.person = person
        name = person.name
        if not self.name_edit.hasFocus():
            self.name_edit.setText(name or "")
        photos, faces = len(person.photos), len(person.faces)
        counts = [plural(photos, "photo"), plural(faces, "face")]
        if person.hidden:
            counts.append("Hidden")
        self.person_counts.setText(" · ".join(counts))
        self.photos_button.setText(f"Show all {photos:,} photos" if photos != 1
                                   else "Show the photo")
        self.photos_button.setEnabled(photos > 0)
        self.hide_action.setText("Unhide person" if person.hidden else "Hide person")
        cover = person.cover
        self.face_model.set_faces(list(person.faces), cover.face if cover else None)
        pixmap = self.covers.get(cover)
        if pixmap is not None:
            self.person_cover.set_pixmap(pixmap)   # else the old one until the new arrives
        self._face_selection()

    def _cover_ready(self, key: str) -> None:
        cover = self.person.cover if self.person else None
        if cover and face_key(cover) == key:
            self.person_cover.set_pixmap(self.covers.get(cover))

    # ------------------------------------------------------------------ pages

    def open_person(self, person_id: int) -> None:
        """Show one person's faces (page 2)."""
        self.person_id = int(person_id)
        self.person = None
        row = self.model.row_of(self.person_id)
        known = self.model.rows[row] if row is not None else None
        self.name_edit.setText((known.name if known else None) or "")
        self.person_counts.setText("")
        self.face_model.set_faces([], None)
        self.person_cover.set_pixmap(self.covers.get(known.cover if known else None))
        self.pages.setCurrentIndex(1)
        self.faces.setFocus()
        self._load_person(self.person_id)

    def back(self) -> None:
        """Back to the people grid, with the person just seen selected."""
        seen = self.person_id
        self.person_id = None
        self.person = None
        self._person_gen += 1
        self.pages.setCurrentIndex(0)
        if seen is not None and (row := self.model.row_of(seen)) is not None:
            index = self.model.index(row)
            self.grid.setCurrentIndex(index)
            self.grid.scrollTo(index)
        self.grid.setFocus()

    def set_show_hidden(self, on: bool) -> None:
        self.hidden_toggle.setChecked(on)

    # ------------------------------------------------------------------ selection

    def selected_people(self) -> list[int]:
        """Selected person ids, in the order they were selected."""
        return list(dict.fromkeys(int(i.data(PersonIdRole))
                                  for i in self.grid.selectionModel().selectedIndexes()))

    def selected_faces(self) -> list[Face]:
        rows = sorted(i.row() for i in self.faces.selectionModel().selectedIndexes())
        return [self.face_model.rows[r] for r in rows if r < len(self.face_model.rows)]

    def _people_selection(self, *_args: Any) -> None:
        self.merge_button.setEnabled(len(self.selected_people()) >= 2)

    def _face_selection(self, *_args: Any) -> None:
        n = len(self.faces.selectionModel().selectedIndexes())
        self.reject_button.setEnabled(n >= 1)
        self.split_button.setEnabled(n >= 1)
        self.cover_button.setEnabled(n == 1)
        self.open_button.setEnabled(n == 1)
        who = title_of(self.person.name if self.person else None)
        if n:
            self.faces_hint.setText(f"{plural(n, 'face')} selected")
        elif self.person and len(self.person.faces) > 1:
            self.faces_hint.setText(f"Select the faces that are not {who} to take them out")
        else:
            self.faces_hint.setText("")

    def _row(self, person_id: int) -> Person:
        row = self.model.row_of(person_id)
        if row is not None:
            return self.model.rows[row]
        if self.person and self.person.id == person_id:
            return Person(id=person_id, name=self.person.name, hidden=self.person.hidden,
                          faces=len(self.person.faces), photos=len(self.person.photos),
                          cover=self.person.cover)
        return Person(id=person_id, name=None, hidden=False, faces=0, photos=0, cover=None)

    # ------------------------------------------------------------------ menus

    def _people_menu(self, pos: QPoint) -> None:
        index = self.grid.indexAt(pos)
        if not index.isValid():
            return
        if not self.grid.selectionModel().isSelected(index):
            self.grid.selectionModel().select(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.grid.setCurrentIndex(index)
        chosen = self.selected_people()
        person_id = int(index.data(PersonIdRole))
        person = self._row(person_id)
        menu = QMenu(self)
        menu.addAction("Show photos", lambda: self._emit_photos(person))
        menu.addAction("Open", lambda: self.open_person(person_id))
        menu.addSeparator()
        rename = menu.addAction("Rename" if person.name else "Add a name",
                                lambda: self.grid.edit(index))
        rename.setEnabled(len(chosen) == 1)
        merge = menu.addAction(f"Merge {len(chosen)} people…" if len(chosen) > 1
                               else "Merge selected…", self.merge_selected)
        merge.setEnabled(len(chosen) >= 2)
        hidden = all(self._row(p).hidden for p in chosen)
        menu.addAction("Unhide" if hidden else "Hide",
                       lambda: self.hide_people(chosen, not hidden))
        menu.addSeparator()
        menu.addAction("Forget person…" if len(chosen) == 1 else f"Forget {len(chosen)} people…",
                       lambda: self.forget(chosen))
        menu.popup(self.grid.viewport().mapToGlobal(pos))

    def _faces_menu(self, pos: QPoint) -> None:
        index = self.faces.indexAt(pos)
        if not index.isValid():
            return
        if not self.faces.selectionModel().isSelected(index):
            self.faces.selectionModel().select(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.faces.setCurrentIndex(index)
        n = len(self.selected_faces())
        menu = QMenu(self)
        menu.addAction("Open photo", self._open_selected_photo).setEnabled(n == 1)
        menu.addAction("Use as cover", self.cover_selected).setEnabled(n == 1)
        menu.addSeparator()
        menu.addAction("Not this person", self.reject_selected)
        menu.addAction("Move to new person", self.split_selected)
        menu.addSeparator()
        menu.addAction("Ignore this face" if n == 1 else f"Ignore {n} faces",
                       self.ignore_selected)
        menu.popup(self.faces.viewport().mapToGlobal(pos))

    def ignore_selected(self) -> None:
        """"Ignore this face": a stranger, out of the person and never grouped again."""
        faces = self.selected_faces()
        if not faces:
            return
        people, ids = self.lib.people, [f.face for f in faces]
        self._act(lambda: people.ignore_faces(ids), done=lambda _r: self.message.show_info(
            f"{plural(len(ids), 'face')} ignored.", "Undo",
            lambda: self._act(lambda: people.ignore_faces(ids, undo=True))))

    # ------------------------------------------------------------------ actions

    def _act(self, fn: Callable[[], Any], done: Callable[[Any], None] | None = None,
             failed: Callable[[BaseException], None] | None = None) -> None:
        """A core action (in order with the others), then the view read again."""
        def finished(result: Any) -> None:
            if done is not None:
                done(result)
            self.refresh()
            self.people_changed.emit()

        def broke(exc: BaseException) -> None:
            if failed is not None:
                failed(exc)
            else:
                self.show_error(exc)
            self.refresh()        # what is shown must match the library again

        self.tasks.run(fn, done=finished, failed=broke)

    def show_error(self, exc: BaseException | str) -> None:
        self.message.show_error(exc if isinstance(exc, str) else describe(exc))

    def rename(self, person_id: int, name: str) -> None:
        """Name a person; a name someone else has offers to merge the two."""
        people = self.lib.people

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, PeopleError) or exc.code != "people.name_taken":
                self.show_error(exc)
                return
            other = int(exc.values["other"])
            self.ask(f"“{name}” is already someone",
                     f"Another person is already called {name}. Are they the same person? "
                     "Merging puts all their faces together under that name.",
                     "Merge", lambda: self.merge(other, [person_id]))

        self._act(lambda: people.name(person_id, name), failed=failed)

    def _name_edited(self) -> None:
        if self.person is None:
            return
        name = " ".join(self.name_edit.text().split())
        if not name:
            self.name_edit.setText(self.person.name or "")
            return
        if name != (self.person.name or ""):
            self.person = replace(self.person, name=name)
            self.rename(self.person.id, name)

    def merge(self, into: int, others: Sequence[int]) -> None:
        """Join ``others`` into ``into`` (no question asked: callers ask first)."""
        people = self.lib.people
        others = [o for o in others if o != into]
        if not others:
            return

        def done(result: Merged) -> None:
            self.grid.selectionModel().clearSelection()
            if self.person_id is not None and self.person_id in others:
                self.open_person(result.id)

        self._act(lambda: people.merge(into, *others), done=done)

    def _merge_target(self, chosen: Sequence[int]) -> int:
        """The named one, else the first selected."""
        return next((p for p in chosen if self._row(p).name), chosen[0])

    def merge_selected(self) -> None:
        chosen = self.selected_people()
        if len(chosen) < 2:
            self.message.show_info("Select two or more people to merge them "
                                   "(Ctrl or Shift and click).")
            return
        into = self._merge_target(chosen)
        self._confirm_merge(into, [p for p in chosen if p != into])

    def _dropped(self, into: int, others: list[int]) -> None:
        # The dropped person joins the one it was dropped on, unless only the dropped one has
        # a name (then the name is what the person meant to keep).
        target = self._row(into)
        if not target.name:
            named = next((o for o in others if self._row(o).name), None)
            if named is not None:
                into, others = named, [into] + [o for o in others if o != named]
        self._confirm_merge(into, others)

    def _confirm_merge(self, into: int, others: list[int]) -> None:
        target = self._row(into)
        name = target.name
        faces = sum(self._row(p).faces for p in [into, *others])
        lost = [str(self._row(o).name) for o in others if self._row(o).name and name
                and self._row(o).name != name]
        count = plural(len(others) + 1, "person", "people")
        title = f"Merge {count} into “{name}”?" if name else f"Merge {count}?"
        body = (f"Their {plural(faces, 'face')} become one person"
                + (f", {name}." if name else "."))
        if lost:
            body += f" The name{'s' if len(lost) > 1 else ''} {', '.join(lost)} will go."
        body += " Faces can be taken out again with “Move to new person”."
        self.ask(title, body, "Merge", lambda: self.merge(into, others))

    def hide_people(self, person_ids: Sequence[int], hidden: bool = True) -> None:
        people = self.lib.people
        ids = list(person_ids)

        def run() -> None:
            for person_id in ids:
                people.hide(person_id, hidden)

        def done(_result: Any) -> None:
            if hidden and not self.hidden_toggle.isChecked():
                self.message.show_info(
                    f"{plural(len(ids), 'person', 'people')} hidden.", "Show hidden",
                    lambda: self.hidden_toggle.setChecked(True))

        self._act(run, done=done)

    def _toggle_open_hidden(self) -> None:
        if self.person is not None:
            self.hide_people([self.person.id], not self.person.hidden)

    def forget(self, person_ids: Sequence[int]) -> None:
        """Forget people (names and all) after a confirmation; their faces wait again."""
        ids = list(person_ids)
        if not ids:
            return
        people = self.lib.people
        first = self._row(ids[0])
        who = (f"“{first.name}”" if len(ids) == 1 and first.name
               else "this person" if len(ids) == 1 else plural(len(ids), "person", "people"))

        def run() -> None:
            for person_id in ids:
                people.delete(person_id)

        def done(_result: Any) -> None:
            if self.person_id in ids:
                self.back()

        self.ask(f"Forget {who}?",
                 "The name goes, and their faces wait to be grouped again. Photos are not "
                 "touched.", "Forget", lambda: self._act(run, done=done), destructive=True)

    def _forget_open(self) -> None:
        if self.person_id is not None:
            self.forget([self.person_id])

    def _emit_photos(self, person: Person | PersonDetail) -> None:
        if person.id is not None:
            self.show_photos.emit(person.id, person.name or "Unnamed person")

    def _show_person_photos(self) -> None:
        if self.person is not None:
            self._emit_photos(self.person)

    def _open_selected_photo(self) -> None:
        faces = self.selected_faces()
        if faces:
            self.open_photo.emit(faces[0].photo)

    def reject_selected(self) -> None:
        """"Not this person": the selected faces leave the open person for good."""
        faces = self.selected_faces()
        if self.person_id is None or not faces:
            return
        people, person_id = self.lib.people, self.person_id
        ids = [f.face for f in faces]
        self._act(lambda: people.reject(ids, person_id))

    def split_selected(self) -> None:
        """"Move to new person": the selected faces become a person of their own."""
        faces = self.selected_faces()
        if self.person_id is None or not faces:
            return
        people, person_id = self.lib.people, self.person_id
        ids = [f.face for f in faces]

        def done(result: SplitResult) -> None:
            new = result.id
            self.message.show_info(f"{plural(len(ids), 'face')} moved to a new person.",
                                   "Open", lambda: self.open_person(new))

        self._act(lambda: people.split(person_id, ids), done=done)

    def cover_selected(self) -> None:
        faces = self.selected_faces()
        if self.person_id is None or len(faces) != 1:
            return
        people, person_id, face = self.lib.people, self.person_id, faces[0].face
        self._act(lambda: people.cover(person_id, face))

    def _turn_on_faces(self) -> None:
        lib = self.lib
        self._act(lambda: lib.set_faces(True), done=lambda _r: self.message.show_info(
            "Faces are on: they are found the next time photos are read."))

    # ------------------------------------------------------------------ questions

    def ask(self, title: str, text: str, yes: str, then: Callable[[], None], *,
            destructive: bool = False) -> QMessageBox:
        """A question that does not block the event loop (window-modal, answered later)."""
        if self.question is not None:
            self.question.close()
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(title)
        box.setInformativeText(text)
        ok = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole
                           if not destructive else QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel if destructive else ok)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        fit_title(box)

        def answered(_result: int) -> None:
            if self.question is box:
                self.question = None
            if box.clickedButton() is ok:
                then()
            box.deleteLater()

        box.finished.connect(answered)
        self.question = box
        box.open()
        return box
