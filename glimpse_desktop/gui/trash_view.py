"""Delete to the system trash from the window, and the "Recently deleted" view.

- ``Delete`` (and "Move to Trash" in the photo menu) moves the photos a grid has selected,
  or the photo the viewer shows (the viewer goes on to the next), to the system trash
  without asking, as Apple Photos and Google Photos do: the status bar says what went and
  offers "Undo", which restores them.
- "Recently deleted" (sidebar) shows the photos Glimpse moved there in the last 30 days,
  grouped by the days they have left, with Restore and Delete Permanently. ``Shift+Delete``
  there (or ``Delete``: in Recently deleted nothing is left to move) deletes for good after a
  confirmation; elsewhere it says where it works.
- When the window opens, the library's daily check runs (``Library.trash.tidy``): photos past
  their 30 days leave Recently deleted.

``install(window)`` wires it all (a few lines in window.py); ``window_actions(window)`` gives
the menu bar its actions: "Edit" (Move to Trash, Delete Permanently…) and "Go" (Recently
Deleted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMessageBox, QPushButton, QStyle, QWidget

from glimpse_desktop.api import DeletedPhoto, PurgeReport, RestoreReport, TrashProblem, TrashReport
from glimpse_desktop.gui.hooks import Page
from glimpse_desktop.gui.pages import GridPage
from glimpse_desktop.gui.photo_model import ResultListModel
from glimpse_desktop.gui.widgets import fit_title

if TYPE_CHECKING:
    from glimpse_desktop.gui.window import MainWindow

__all__ = ["KEY", "RecentlyDeletedPage", "delete_for_good", "drop_rows", "install", "left_text",
           "move_to_trash", "problem_text", "refresh_deleted", "restore", "undo_bar",
           "window_actions"]

KEY = "deleted"
# How long the status bar offers "Undo" after a move to the trash.
UNDO_MS = 15_000

_WHY = {
    "trash.read_only": "its folder or drive is read-only",
    "trash.offline": "its drive is not connected",
    "trash.not_found": "its file is not there",
    "trash.no_trash": "its drive has no trash",
    "trash.already": "it is in Recently deleted already",
    "trash.not_trashed": "it is not in Recently deleted",
    "trash.taken": "another file is at its place now",
    "trash.not_in_trash": "the system trash no longer holds it",
    "trash.unknown_photo": "it is not in the library",
}


def problem_text(p: TrashProblem) -> str:
    return _WHY.get(p.code, p.why)


def _photos(n: int) -> str:
    return f"{n:,} photo{'s' if n != 1 else ''}"


def left_text(problems: Sequence[TrashProblem], verb: str) -> str:
    if not problems:
        return ""
    first = problems[0]
    name = first.path.rsplit("/", 1)[-1]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f" · {name} {verb}: {problem_text(first)}{more}"


# ---------------------------------------------------------------------------- actions


def drop_rows(window: MainWindow, ids: Sequence[int]) -> None:
    """Photos that left (or came back to) the library's lists: every grid follows."""
    window.refresh_rows(list(ids))           # the library grid: dropped or put back in place
    for grid in window.grids():
        model = grid.model()
        if isinstance(model, ResultListModel):
            model.remove_photos(ids)
    window.refresh_counts()


def move_to_trash(window: MainWindow, ids: Sequence[int] | None = None) -> None:
    """Move ``ids`` (the window's selection) to the system trash, as a job; the status bar
    then offers Undo."""
    if ids is None and _deleted_page(window, shown=True) is not None:
        delete_for_good(window)   # in Recently deleted, Delete can only mean for good
        return
    chosen = list(window.selected_ids() if ids is None else ids)
    if not chosen:
        return
    lib = window.lib

    def done(report: TrashReport | None) -> None:
        if report is None:
            return
        gone = list(report.photo_ids)
        if gone:
            drop_rows(window, gone)
            window.photos_changed(gone, "edited")
            refresh_deleted(window)
        text = f"Moved {_photos(len(gone))} to the trash" + left_text(report.problems,
                                                                  "stayed")
        undo_bar(window).offer(text, (lambda: restore(window, gone)) if gone else None)

    window.start_job(f"Moving {_photos(len(chosen))} to the trash",
                     lambda progress, cancel: lib.trash.move(chosen, progress=progress,
                                                             cancel=cancel),
                     done, lambda why: window.status.set_idle(f"⚠ Not moved to the trash: "
                                                              f"{why}"))


def restore(window: MainWindow, ids: Sequence[int]) -> None:
    """Put photos back from the trash, as a job."""
    chosen = list(ids)
    if not chosen:
        return
    lib = window.lib

    def done(report: RestoreReport | None) -> None:
        if report is None:
            return
        back = list(report.restored)
        if back:
            window.refresh_rows(back)
            window.refresh_counts()
            window.photos_changed(back, "edited")
        refresh_deleted(window)
        undo_bar(window).offer(f"Restored {_photos(len(back))}"
                                + left_text(report.problems, "stayed in the trash"), None)

    window.start_job(f"Restoring {_photos(len(chosen))}",
                     lambda progress, cancel: lib.trash.restore(chosen, progress=progress,
                                                                cancel=cancel),
                     done, lambda why: window.status.set_idle(f"⚠ Not restored: {why}"))


def confirm_delete_for_good(parent: QWidget, n: int) -> bool:
    """The second confirmation a permanent deletion needs."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Delete permanently",
                      f"Delete {_photos(n)} permanently?", parent=parent)
    box.setInformativeText("Their files are deleted from the trash too, and what Glimpse knew "
                           "of them (people, albums, captions) is forgotten. This cannot be "
                           "undone.")
    delete = box.addButton("Delete Permanently", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    fit_title(box)
    box.exec()
    return box.clickedButton() is delete


def delete_for_good(window: MainWindow, ids: Sequence[int] | None = None) -> None:
    """Delete photos of Recently deleted for good, after a confirmation; elsewhere, say where
    it works (a photo outside Recently deleted is never deleted for good)."""
    page = _deleted_page(window, shown=True)
    if page is None:
        window.status.set_idle("Delete permanently works in Recently deleted: move photos to "
                               "the trash first (Delete)")
        return
    chosen = list(page.selected_ids() if ids is None else ids)
    if not chosen or not confirm_delete_for_good(window, len(chosen)):
        return
    lib = window.lib

    def done(report: PurgeReport | None) -> None:
        if report is None:
            return
        page.refresh()
        window.status.set_idle(f"Deleted {_photos(len(report.deleted))} permanently"
                               + left_text(report.problems, "stayed"))

    window.start_job(f"Deleting {_photos(len(chosen))} permanently",
                     lambda progress, cancel: lib.trash.purge(chosen, progress=progress,
                                                              cancel=cancel),
                     done, lambda why: window.status.set_idle(f"⚠ Not deleted: {why}"))


class _UndoBar(QPushButton):
    """"Undo" in the status bar for a while after a move to the trash."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__("Undo")
        self.window_ = window
        self.setToolTip("Put the photos back where they were")
        self.setObjectName("trash-undo")
        self.hide()
        self._undo: Any = None
        self._timer = QTimer(self, singleShot=True, interval=UNDO_MS)
        self._timer.timeout.connect(self.hide)
        self.clicked.connect(self._clicked)

    def offer(self, text: str, undo: Any) -> None:
        self.window_.status.set_idle(text)
        self._undo = undo
        self.setVisible(undo is not None)
        if undo is not None:
            self._timer.start()

    def _clicked(self) -> None:
        undo, self._undo = self._undo, None
        self.hide()
        if undo is not None:
            undo()


def undo_bar(window: MainWindow) -> _UndoBar:
    bar = window.status.findChild(_UndoBar)
    if bar is None:
        bar = _UndoBar(window)
        window.status.insertPermanentWidget(0, bar)
    return bar


# ---------------------------------------------------------------------------- the view


class RecentlyDeletedPage(GridPage):
    """The photos Glimpse moved to the trash, grouped by the days they have left."""

    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip("Put the selected photos back where they were")
        self.restore_button.clicked.connect(lambda: restore(window, self.selected_ids()))
        self.delete_button = QPushButton("Delete Permanently…")
        self.delete_button.setToolTip("Delete the selected photos for good (Shift+Delete)")
        self.delete_button.clicked.connect(lambda: delete_for_good(window))
        self.tools.addWidget(self.restore_button)
        self.tools.addWidget(self.delete_button)
        self.set_title("Recently deleted")
        self.deleted: list[DeletedPhoto] = []
        # Tiles as large as the window's other grids; no photo menu: a photo here can only be
        # restored or deleted for good (its file is in the trash, not at its place).
        self.grid.set_tile(window.zoom.value())
        window.zoom.valueChanged.connect(self.grid.set_tile)
        self._buttons()
        self.refresh()

    def selected_ids(self) -> list[int]:
        selection = self.grid.selectionModel()
        model = self.grid.model()
        if selection is None or model is None:
            return []
        chosen = sorted(selection.selectedIndexes(), key=lambda i: i.row())
        if not chosen and self.grid.currentIndex().isValid():
            chosen = [self.grid.currentIndex()]
        return [self.deleted[i.row()].id for i in chosen if i.row() < len(self.deleted)]

    def _buttons(self) -> None:
        some = bool(self.selected_ids())
        self.restore_button.setEnabled(some)
        self.delete_button.setEnabled(some)

    def refresh(self) -> None:
        self.window_.tasks.run(self.window_.lib.trash.deleted, self._show, read=True)

    def _show(self, deleted: list[DeletedPhoto]) -> None:
        self.deleted = list(deleted)
        rows = [{"id": d.id, "path": d.path, "filename": d.filename,
                 "content_hash": d.content_hash, "taken_at": d.taken_at, "status": "ok"}
                for d in self.deleted]
        sections: list[tuple[int, str]] = []
        for n, d in enumerate(self.deleted):
            if n == 0 or d.days_left != self.deleted[n - 1].days_left:
                sections.append((n, "Leaves today" if d.days_left == 0 else
                                 f"{d.days_left} day{'s' if d.days_left != 1 else ''} left"))
        model = ResultListModel(self.window_.lib, rows, sections=sections,
                                thumbnails=self.window_.thumbnails, parent=self)
        self.grid.setModel(model)
        selection = self.grid.selectionModel()
        if selection is not None:
            selection.selectionChanged.connect(self._buttons)
            selection.currentChanged.connect(self._buttons)
        n = len(self.deleted)
        self.set_title("Recently deleted",
                       f"{_photos(n)} · kept 30 days in the trash, then forgotten" if n else
                       "Photos you move to the trash stay here 30 days")
        self.set_empty(None if n else
                       "No recently deleted photos. Photos you delete stay here for 30 days, "
                       "so you can restore them with their albums, people and captions.")
        self._buttons()


def _deleted_page(window: MainWindow, *, shown: bool = False) -> RecentlyDeletedPage | None:
    page = window.pages.get(KEY)
    if not isinstance(page, RecentlyDeletedPage):
        return None
    if shown and window.stack.currentWidget() is not page:
        return None
    return page


def refresh_deleted(window: MainWindow) -> None:
    page = _deleted_page(window)
    if page is not None:
        page.refresh()


# ---------------------------------------------------------------------------- wiring


def _actions(window: MainWindow) -> dict[str, QAction]:
    made: dict[str, QAction] | None = getattr(window, "_trash_actions", None)
    if made is not None:
        return made
    move = QAction("Move to Trash", window)
    move.setObjectName("trash.move")
    move.setShortcut(QKeySequence(Qt.Key.Key_Delete))
    move.setToolTip("Move the selected photos to the system trash (Recently deleted keeps "
                    "them 30 days)")
    move.triggered.connect(lambda: move_to_trash(window))
    purge = QAction("Delete Permanently…", window)
    purge.setObjectName("trash.purge")
    purge.setShortcut(QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_Delete))
    purge.triggered.connect(lambda: delete_for_good(window))
    show = QAction("Recently Deleted", window)
    show.setObjectName("trash.show")
    show.triggered.connect(lambda: window.show_view(KEY))
    for action in (move, purge, show):
        # The window's, not a widget's: the search box and text fields keep Delete for
        # their own text (they take it first, through ShortcutOverride).
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    made = {"move": move, "purge": purge, "show": show}
    window._trash_actions = made  # type: ignore[attr-defined]
    return made


def window_actions(window: MainWindow) -> dict[str, list[QAction]]:
    """The menu bar's actions: "Edit" (Move to Trash, Delete Permanently…), "Go" (Recently
    Deleted)."""
    made = _actions(window)
    return {"Edit": [made["move"], made["purge"]], "Go": [made["show"]]}


def menu_item(window: MainWindow, menu: Any, ids: Sequence[int]) -> QAction:
    """"Move to Trash" in a photo menu (grid or viewer), for ``ids``."""
    item = QAction("Move to Trash", menu)
    item.setShortcut(QKeySequence(Qt.Key.Key_Delete))
    item.triggered.connect(lambda: move_to_trash(window, list(ids)))
    menu.addAction(item)
    return item


def install(window: MainWindow) -> None:
    """Wire the trash into the window: its actions, the Recently deleted view (built when
    first shown) and the daily check."""
    made = _actions(window)
    window.addActions(list(made.values()))
    window.plugin_pages[KEY] = Page("Recently deleted", RecentlyDeletedPage, id=KEY)
    window.sidebar.add_view(KEY, "Recently deleted")
    window.sidebar.items[KEY].setIcon(0, QIcon.fromTheme("user-trash", window.style().standardIcon(
        QStyle.StandardPixmap.SP_TrashIcon)))
    window.tasks.run(window.lib.trash.tidy, lambda _report: None)
