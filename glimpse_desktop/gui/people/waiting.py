"""Faces without a person: the waiting faces in groups of look-alikes (rows of face crops under a
header each), to name, ignore or drop out of a group in bulk, and the faces the person ignored,
to take back. Reached from the People page ("Unnamed faces (N)").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import Face, FacesNamed, WaitingFaces
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.people.covers import FaceCovers, dim, dimmed, face_key, plural
from glimpse_desktop.gui.people.grids import FaceDelegate, FaceGrid, FaceIdRole, PhotoIdRole
from glimpse_desktop.gui.people.parts import EmptyNotice, MessageBar, Rule, heading
from glimpse_desktop.gui.tasks import Tasks, describe

HeaderRole = Qt.ItemDataRole.UserRole + 20     # True on a group's header row
GroupRole = Qt.ItemDataRole.UserRole + 21      # the section's index (a header selects it)
AloneRole = Qt.ItemDataRole.UserRole + 22      # the header of the faces like no other
PAGE = 200            # groups read at a time ("Show more" reads the next ones)
BUSY_FROM = 50        # faces from which a bulk action shows its progress in the view


@dataclass(frozen=True)
class _Item:
    section: int               # what a header click selects: a group, or all lone faces
    group: int                 # the group the face is in (lone faces: one each)
    face: Face | None          # None: the section's header
    size: int = 0
    photos: int = 0
    alone: bool = False        # the section of faces like no other


class WaitingModel(QAbstractListModel):
    """Groups as a header row followed by their faces (or the ignored faces, no headers)."""

    def __init__(self, covers: FaceCovers, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.covers = covers
        self.items: list[_Item] = []
        self._by_key: dict[str, list[int]] = {}
        covers.ready.connect(self._cover_ready)

    def set_groups(self, groups: Sequence[Sequence[Face]], photos: Sequence[int],
                   headers: bool) -> None:
        """Groups of two or more faces each under a header; the faces alike to no other
        (groups of one) together under one last header, wrapped like a grid, so that a
        library's many strangers take a few rows, not one each, and can be dismissed at once."""
        self.beginResetModel()
        self.items = []
        lone: list[tuple[int, Face]] = []
        section = 0
        for g, faces in enumerate(groups):
            if headers and len(faces) == 1:
                lone.append((g, faces[0]))
                continue
            if headers:
                self.items.append(_Item(section, g, None, len(faces), photos[g]))
            self.items += [_Item(section, g, f) for f in faces]
            section += 1
        if lone:
            self.items.append(_Item(section, -1, None, len(lone), len(lone), alone=True))
            self.items += [_Item(section, g, f) for g, f in lone]
        self._by_key = {}
        for i, item in enumerate(self.items):
            if item.face is not None:
                self._by_key.setdefault(face_key(item.face), []).append(i)
        self.endResetModel()

    def faces_of(self, section: int) -> list[int]:
        """Rows of a section's faces."""
        return [i for i, it in enumerate(self.items) if it.section == section and it.face]

    def row_of_face(self, face_id: int) -> int | None:
        return next((i for i, it in enumerate(self.items)
                     if it.face is not None and it.face.face == face_id), None)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self.items[index.row()].face is None:
            return Qt.ItemFlag.ItemIsEnabled        # a header is clicked, never selected
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        if role == HeaderRole:
            return item.face is None
        if role == GroupRole:
            return item.section
        face = item.face
        if face is None:
            if role == Qt.ItemDataRole.DisplayRole:
                return (f"Group {item.section + 1}",
                        f"{plural(item.size, 'face')} in {plural(item.photos, 'photo')}")
            if role == AloneRole:
                return item.alone
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return self.covers.get(face)
        if role == Qt.ItemDataRole.ToolTipRole:
            name = (face.path or "").replace("\\", "/").rsplit("/", 1)[-1]
            return f"{name or f'Photo {face.photo}'}\nFace {face.face}"
        if role == FaceIdRole:
            return face.face
        if role == PhotoIdRole:
            return face.photo
        return None

    def _cover_ready(self, key: str) -> None:
        for i in self._by_key.get(key, ()):
            index = self.index(i)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class WaitingDelegate(FaceDelegate):
    """A face as on a person's page; a header as a full-width line ("3 faces in 3 photos")."""

    HEADER = 34

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        if index.data(HeaderRole):
            # The width of the view: the header takes a row of its own, its faces the next.
            return QSize(max(120, self.view.viewport().width() - 2 * self.view.spacing() - 4),
                         self.HEADER)
        return super().sizeHint(option, index)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        if not index.data(HeaderRole):
            super().paint(painter, option, index)
            return
        painter.save()
        font = QFont(option.font)
        font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(font)
        rect = QRect(option.rect).adjusted(8, 10, -8, 0)
        painter.setPen(option.palette.color(QPalette.ColorRole.Text))
        title, counts = index.data(Qt.ItemDataRole.DisplayRole)
        if index.data(AloneRole):
            title, counts = "Like no other face", counts.split(" in ")[0]
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        width = QFontMetrics(font).horizontalAdvance(title + "   ")
        small = QFont(option.font)
        painter.setFont(small)
        painter.setPen(dimmed(option.palette))
        painter.drawText(rect.adjusted(width, 0, 0, 0),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         f"{counts} · click to select all")
        painter.restore()


class NameFacesDialog(QDialog):
    """"Name N faces": a name, with the names already in the library offered as one types."""

    def __init__(self, count: int, names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Name {plural(count, 'face')}")
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        title = QLabel(f"Who {'is this' if count == 1 else 'are these ' + str(count) + ' faces'}?",
                       self)
        font = title.font()
        font.setWeight(QFont.Weight.DemiBold)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        layout.addWidget(title)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("Name")
        self.line.setMinimumWidth(300)
        self.line.setMaxLength(200)
        self.set_names(names)
        layout.addWidget(self.line)
        hint = QLabel("A name someone already has adds the faces to that person. A person "
                      "is in a photo once: a second face of the same photo is left out.", self)
        hint.setWordWrap(True)
        dim(hint)
        layout.addWidget(hint)
        buttons = QDialogButtonBox(self)
        self.ok = buttons.addButton("Name", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.ok.setEnabled(False)
        self.line.textChanged.connect(lambda text: self.ok.setEnabled(bool(text.strip())))

    def set_names(self, names: list[str]) -> None:
        completer = QCompleter(sorted(names, key=str.casefold), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.line.setCompleter(completer)

    def name(self) -> str:
        return " ".join(self.line.text().split())


class WaitingView(QWidget):
    """The faces in no person, grouped; and the ignored faces. ``open_photo(photo_id)`` asks
    the window to show a photo, ``back_requested`` to go back to People, ``people_changed``
    says a bulk action was saved (the window runs the change chain)."""

    open_photo = Signal(int)
    back_requested = Signal()
    people_changed = Signal()

    def __init__(self, lib: Library, tasks: Tasks, covers: FaceCovers,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.tasks = tasks
        self.covers = covers
        self.ignored_mode = False
        self.limit = PAGE
        self.result: WaitingFaces | None = None
        self.ignored: list[Face] = []
        self.loaded = False
        self.busy = False
        self._gen = 0
        self.dialog: NameFacesDialog | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        top = QHBoxLayout()
        top.setContentsMargins(10, 10, 16, 0)
        self.back_button = QToolButton(self)
        self.back_button.setText("‹  People")
        self.back_button.setToolTip("Back to everyone (Esc)")
        self.back_button.setAutoRaise(True)
        self.back_button.setShortcut(Qt.Key.Key_Escape)
        self.back_button.clicked.connect(self.back_requested)
        top.addWidget(self.back_button)
        top.addStretch(1)
        layout.addLayout(top)

        header = QHBoxLayout()
        header.setContentsMargins(20, 4, 16, 10)
        header.setSpacing(8)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title = heading("Unnamed faces", 1.6, self)
        titles.addWidget(self.title)
        self.counts = QLabel(self)
        dim(self.counts)
        titles.addWidget(self.counts)
        header.addLayout(titles, 1)
        self.waiting_tab = QPushButton("Waiting", self)
        self.ignored_tab = QPushButton("Ignored faces", self)
        tabs = QButtonGroup(self)
        for tab in (self.waiting_tab, self.ignored_tab):
            tab.setCheckable(True)
            tabs.addButton(tab)
            header.addWidget(tab, 0, Qt.AlignmentFlag.AlignBottom)
        self.waiting_tab.setChecked(True)
        self.waiting_tab.clicked.connect(lambda: self.show_ignored(False))
        self.ignored_tab.clicked.connect(lambda: self.show_ignored(True))
        layout.addLayout(header)

        actions = QHBoxLayout()
        actions.setContentsMargins(20, 0, 16, 8)
        actions.setSpacing(8)
        self.hint = QLabel(self)
        dim(self.hint)
        # The hint gives way (wraps) before the buttons do: the window stays usable at 800 px.
        self.hint.setWordWrap(True)
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        actions.addWidget(self.hint, 1)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)            # one transaction: busy, not a percentage
        self.progress.setMaximumWidth(140)
        self.progress.setTextVisible(False)
        self.progress.hide()
        actions.addWidget(self.progress)
        self.name_button = QPushButton("Name…", self)
        self.name_button.setToolTip("Put the selected faces in a person (new or existing)")
        self.name_button.clicked.connect(self.name_selected)
        self.apart_button = QPushButton("Not the same person", self)
        self.apart_button.setToolTip("Take the selected faces out of their group, for good")
        self.apart_button.clicked.connect(self.apart_selected)
        self.ignore_button = QPushButton("Ignore", self)
        self.ignore_button.setToolTip("Strangers: never group or show these faces again")
        self.ignore_button.clicked.connect(self.ignore_selected)
        self.unignore_button = QPushButton("Don't ignore", self)
        self.unignore_button.setToolTip("The selected faces wait for a person again")
        self.unignore_button.clicked.connect(self.unignore_selected)
        self.open_button = QPushButton("Open photo", self)
        self.open_button.clicked.connect(self._open_selected)
        for button in (self.name_button, self.apart_button, self.ignore_button,
                       self.unignore_button, self.open_button):
            actions.addWidget(button)
        layout.addLayout(actions)
        bar = QVBoxLayout()
        bar.setContentsMargins(12, 0, 12, 6)
        self.message = MessageBar(self)
        bar.addWidget(self.message)
        layout.addLayout(bar)
        layout.addWidget(Rule(self))

        self.model = WaitingModel(covers, self)
        self.grid = FaceGrid(self)
        self.grid.setUniformItemSizes(False)
        self.grid.setSpacing(2)
        self.grid.setModel(self.model)
        self.grid.setItemDelegate(WaitingDelegate(self.grid))
        self.grid.selectionModel().selectionChanged.connect(self._selection)
        self.grid.clicked.connect(self._clicked)
        self.grid.open_requested.connect(self._open_index)
        self.grid.customContextMenuRequested.connect(self._menu)
        self.more_button = QPushButton("Show more groups", self)
        self.more_button.clicked.connect(self.show_more)
        self.notice = EmptyNotice(self)
        self.body = QStackedWidget(self)
        self.body.addWidget(self.grid)
        self.body.addWidget(self.notice)
        box = QVBoxLayout()
        box.setContentsMargins(14, 6, 0, 6)
        box.addWidget(self.body, 1)
        box.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(box, 1)
        self._selection()

    # ------------------------------------------------------------------ reading

    def refresh(self) -> None:
        """Read the groups (or the ignored faces) again off the GUI thread; the view keeps
        its scroll position."""
        self._gen += 1
        gen, people, limit, ignored = self._gen, self.lib.people, self.limit, self.ignored_mode

        def read() -> tuple[WaitingFaces, list[Face]]:
            if not ignored:
                return people.waiting_faces(limit=limit), []
            # The ignored list needs no grouping (which a large library pays for).
            faces = people.ignored_faces()
            return WaitingFaces(groups=(), total_groups=0, faces=people.status().waiting,
                                ignored=len(faces)), faces

        self.tasks.run(read, done=lambda result: self._read(gen, result),
                       failed=lambda exc: self.message.show_error(describe(exc)), read=True)

    def _read(self, gen: int, result: tuple[WaitingFaces, list[Face]]) -> None:
        if gen != self._gen:
            return
        self.result, self.ignored = result
        self.loaded = True
        scroll = self.grid.verticalScrollBar().value()
        if self.ignored_mode:
            self.model.set_groups([self.ignored], [len(self.ignored)], headers=False)
        else:
            groups = self.result.groups
            self.model.set_groups([g.faces for g in groups], [g.photos for g in groups],
                                  headers=True)
        QTimer.singleShot(0, lambda: self.grid.verticalScrollBar().setValue(scroll))
        self._counts()
        self._selection()

    def _counts(self) -> None:
        result = self.result
        if result is None:
            return
        self.waiting_tab.setText(f"Waiting faces ({result.faces:,})")
        self.ignored_tab.setText(f"Ignored faces ({result.ignored:,})")
        shown = len(result.groups)
        if self.ignored_mode:
            self.title.setText("Ignored faces")
            self.counts.setText(f"{plural(result.ignored, 'face')} you ignored: never grouped "
                                "or shown")
        else:
            self.title.setText("Unnamed faces")
            text = (f"{plural(result.faces, 'face')} in no person yet, in "
                    f"{plural(result.total_groups, 'group')} of look-alikes")
            if shown < result.total_groups:
                text += f" · showing the first {shown:,}"
            self.counts.setText(text)
        self.more_button.setVisible(not self.ignored_mode and shown < result.total_groups)
        empty = not self.model.items
        if empty:
            if self.ignored_mode:
                self.notice.say("No ignored faces",
                                "Faces you ignore (strangers in the background) are listed "
                                "here, to take back.")
            else:
                self.notice.say("No faces wait for a person",
                                "Every face found is in a person"
                                + (" or ignored." if result.ignored else "."))
        self.body.setCurrentWidget(self.notice if empty else self.grid)

    def show_more(self) -> None:
        self.limit += PAGE
        self.refresh()

    def show_ignored(self, on: bool) -> None:
        if on == self.ignored_mode:
            return
        self.ignored_mode = on
        self.message.dismiss()               # about the other list
        (self.ignored_tab if on else self.waiting_tab).setChecked(True)
        self.model.set_groups([], [], headers=False)
        self.grid.verticalScrollBar().setValue(0)
        self.refresh()

    # ------------------------------------------------------------------ selection

    def selected_faces(self) -> list[Face]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        return [face for r in rows if r < len(self.model.items)
                if (face := self.model.items[r].face) is not None]

    def select_group(self, group: int, *, add: bool = False) -> None:
        rows = self.model.faces_of(group)
        if not rows:
            return
        selection = QItemSelection(self.model.index(rows[0]), self.model.index(rows[-1]))
        flag = (QItemSelectionModel.SelectionFlag.Select if add
                else QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.grid.selectionModel().select(selection, flag)
        self.grid.selectionModel().setCurrentIndex(
            self.model.index(rows[0]), QItemSelectionModel.SelectionFlag.NoUpdate)

    def _clicked(self, index: QModelIndex) -> None:
        if index.data(HeaderRole):
            from PySide6.QtWidgets import QApplication

            add = bool(QApplication.keyboardModifiers()
                       & (Qt.KeyboardModifier.ControlModifier
                          | Qt.KeyboardModifier.ShiftModifier))
            self.select_group(int(index.data(GroupRole)), add=add)

    def _selection(self, *_args: Any) -> None:
        faces = self.selected_faces()
        n = len(faces)
        idle = not self.busy
        self.name_button.setVisible(not self.ignored_mode)
        self.apart_button.setVisible(not self.ignored_mode)
        self.ignore_button.setVisible(not self.ignored_mode)
        self.unignore_button.setVisible(self.ignored_mode)
        self.name_button.setEnabled(idle and n >= 1)
        self.ignore_button.setEnabled(idle and n >= 1)
        self.unignore_button.setEnabled(idle and n >= 1)
        self.apart_button.setEnabled(idle and self._apart_groups(faces) != {})
        self.open_button.setEnabled(n == 1)
        if self.busy:
            return
        if n:
            self.hint.setText(f"{plural(n, 'face')} selected")
        elif self.ignored_mode:
            self.hint.setText("Select faces to take them back")
        else:
            self.hint.setText("Select faces (Ctrl or Shift and click; a title selects its "
                              "faces), then name or ignore them")

    def _apart_groups(self, faces: Sequence[Face]) -> dict[int, tuple[list[int], list[int]]]:
        """Group -> (selected faces, the rest of the group) where both are non-empty."""
        if self.ignored_mode:
            return {}
        chosen = {f.face for f in faces}
        out: dict[int, tuple[list[int], list[int]]] = {}
        groups = {self.model.items[r].group for r in range(len(self.model.items))
                  if (f := self.model.items[r].face) is not None and f.face in chosen}
        for g in groups:
            members = [it.face.face for it in self.model.items
                       if it.group == g and it.face and g >= 0]
            picked = [m for m in members if m in chosen]
            rest = [m for m in members if m not in chosen]
            if picked and rest:
                out[g] = (picked, rest)
        return out

    # ------------------------------------------------------------------ actions

    def _run(self, fn: Callable[[], Any], count: int, doing: str,
             done: Callable[[Any], None]) -> None:
        """A bulk action off the GUI thread (one write); a large one shows that it runs."""
        self.busy = True
        if count >= BUSY_FROM:
            self.progress.show()
            self.hint.setText(f"{doing} {plural(count, 'face')}…")
        self._selection()

        def finished(result: Any) -> None:
            self._idle()
            self.grid.selectionModel().clearSelection()
            done(result)
            self.refresh()
            self.people_changed.emit()

        def broke(exc: BaseException) -> None:
            self._idle()
            self.message.show_error(describe(exc))
            self.refresh()

        self.tasks.run(fn, done=finished, failed=broke)

    def _idle(self) -> None:
        self.busy = False
        self.progress.hide()
        self._selection()

    def name_selected(self) -> NameFacesDialog | None:
        """Ask a name for the selected faces (window-modal, answered later)."""
        faces = self.selected_faces()
        if not faces or self.ignored_mode:
            return None
        dialog = NameFacesDialog(len(faces), [], self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        ids = [f.face for f in faces]

        def answered(code: int) -> None:
            if self.dialog is dialog:
                self.dialog = None
            if code == QDialog.DialogCode.Accepted and dialog.name():
                self.name_faces(ids, dialog.name())
            dialog.deleteLater()

        dialog.finished.connect(answered)
        self.dialog = dialog
        people = self.lib.people
        self.tasks.run(lambda: [p.name for p in people.list_people(include_hidden=True)
                                if p.name],
                       done=lambda names: dialog.set_names(names) if self.dialog is dialog
                       else None, read=True)
        dialog.open()
        return dialog

    def name_faces(self, face_ids: list[int], name: str) -> None:
        people = self.lib.people
        self._run(lambda: people.name_faces(face_ids, name), len(face_ids), "Naming",
                  self._named)

    def _named(self, result: FacesNamed) -> None:
        who = result.name or "the person"
        text = f"{plural(len(result.added), 'face')} added to {who}."
        if result.skipped:
            same = sum(1 for s in result.skipped if s.reason == "same_photo")
            gone = len(result.skipped) - same
            if same:
                text += (f" {plural(same, 'face')} left out: {who} is already in "
                         f"{'that photo' if same == 1 else 'those photos'}.")
            if gone:
                text += f" {plural(gone, 'face')} no longer in the library."
        self.message.show_info(text)

    def ignore_selected(self) -> None:
        faces = self.selected_faces()
        if not faces:
            return
        ids = [f.face for f in faces]
        people = self.lib.people

        def done(_result: Any) -> None:
            self.message.show_info(f"{plural(len(ids), 'face')} ignored.", "Undo",
                                   lambda: self._undo_ignore(ids))

        self._run(lambda: people.ignore_faces(ids), len(ids), "Ignoring", done)

    def _undo_ignore(self, ids: list[int]) -> None:
        people = self.lib.people
        self._run(lambda: people.ignore_faces(ids, undo=True), len(ids), "Bringing back",
                  lambda _r: None)

    def unignore_selected(self) -> None:
        faces = self.selected_faces()
        if not faces:
            return
        ids = [f.face for f in faces]
        self._run(lambda: self.lib.people.ignore_faces(ids, undo=True), len(ids),
                  "Bringing back", lambda _r: self.message.show_info(
                      f"{plural(len(ids), 'face')} wait for a person again."))

    def apart_selected(self) -> None:
        """"Not the same person": the selected faces leave their group, for good."""
        split = self._apart_groups(self.selected_faces())
        if not split:
            return
        people = self.lib.people

        def run() -> int:
            for picked, rest in split.values():
                people.keep_apart(picked, rest)
            return sum(len(p) for p, _ in split.values())

        self._run(run, sum(len(p) for p, _ in split.values()), "Separating",
                  lambda n: self.message.show_info(
                      f"{plural(n, 'face')} taken out of {'its' if n == 1 else 'their'} "
                      "group."))

    def _open_selected(self) -> None:
        faces = self.selected_faces()
        if faces:
            self.open_photo.emit(faces[0].photo)

    def _open_index(self, index: QModelIndex) -> None:
        if not index.data(HeaderRole) and index.data(PhotoIdRole) is not None:
            self.open_photo.emit(int(index.data(PhotoIdRole)))

    def _menu(self, pos: QPoint) -> None:
        index = self.grid.indexAt(pos)
        if not index.isValid() or index.data(HeaderRole):
            return
        if not self.grid.selectionModel().isSelected(index):
            self.grid.selectionModel().select(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.grid.setCurrentIndex(index)
        menu = self.face_menu()
        menu.popup(self.grid.viewport().mapToGlobal(pos))

    def face_menu(self) -> QMenu:
        """What a right click on the selected faces offers (built, not shown)."""
        n = len(self.selected_faces())
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Open photo", self._open_selected).setEnabled(n == 1)
        menu.addSeparator()
        if self.ignored_mode:
            menu.addAction("Don't ignore", self.unignore_selected)
            return menu
        menu.addAction("Name…", self.name_selected)
        menu.addAction("Not the same person", self.apart_selected).setEnabled(
            self.apart_button.isEnabled())
        menu.addAction("Ignore this face" if n == 1 else f"Ignore {n} faces",
                       self.ignore_selected)
        return menu
