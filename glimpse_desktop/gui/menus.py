"""The window's menu bar: File, Edit, Photo, View, Go, Help, with the standard shortcuts.

Every item is a ``QAction`` the window holds (``window.addActions``), so its shortcut works
wherever the focus is in the window, except:

* while typing in the search box: the box takes the keys of every action that works on
  photos (``_SearchKeys``), so Ctrl+E or Delete there edit the query, never the library;
* keys a view handles itself (Esc, the viewer's I): the menu shows them, the view keeps
  them (``_shown_only``).

Actions that work on photos follow ``window.selected_ids()``: they are greyed out when no
photo is chosen, and the status bar says how many are selected.

Other parts of the window contribute items through a module with
``window_actions(window) -> dict[str, list[QAction]]`` (menu name -> actions, in menu order),
listed in ``PROVIDERS``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMenuBar,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from glimpse_desktop.gui.sidebar import Sidebar
from glimpse_desktop.gui.tasks import describe

if TYPE_CHECKING:
    from glimpse_desktop.gui.window import MainWindow

MENUS = ("File", "Edit", "Photo", "View", "Go", "Help")
# The Go menu's names for the sidebar's views, with their Alt keys.
_MNEMONICS = {"library": "&Library", "people": "&People", "albums": "&Albums",
              "places": "Pla&ces", "map": "&Map", "folders": "&Folders",
              "duplicates": "&Duplicates"}
# Modules of other parts of the window whose ``window_actions(window)`` adds menu items.
PROVIDERS: tuple[str, ...] = ("glimpse_desktop.gui.judge_actions", "glimpse_desktop.gui.trash_view",
                              "glimpse_desktop.gui.slideshow")

# How many photos an action needs: any number (None), at least one, exactly one.
ANY, SOME, ONE = None, "some", "one"


def _action(window: MainWindow, ident: str, text: str, slot: Callable[[], Any], *,
            keys: Sequence[str | QKeySequence.StandardKey] = (), needs: str | None = ANY,
            anywhere: bool = False, tip: str = "") -> QAction:
    """A window action. ``needs``: the photos it works on (greyed out without them);
    ``anywhere``: its shortcut works in the search box too (Quit, Settings, Help)."""
    action = QAction(text, window)
    action.setObjectName(ident)
    # A standard key the platform has none for is an empty sequence: left out (the first
    # one is what the menu shows).
    action.setShortcuts([s for s in (QKeySequence(k) for k in keys) if not s.isEmpty()])
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setProperty("needs", needs)
    action.setProperty("anywhere", anywhere)
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def _shown_only(action: QAction) -> QAction:
    """The menu shows the action's key, the view that has the focus handles it: a shortcut
    context of a widget that never has the focus (the menu bar)."""
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.setProperty("view_key", True)
    return action


class WindowMenus(QObject):
    """The menu bar of ``window`` and its actions (``actions``: by object name)."""

    def __init__(self, window: MainWindow, providers: Iterable[str] = PROVIDERS) -> None:
        super().__init__(window)
        self.window = window
        self.actions: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        self.selected = QLabel()
        self.selected.setObjectName("selectedCount")
        # Apart from "Watching 1 folder" beside it ("1 selected  Watching" ran together).
        self.selected.setContentsMargins(0, 0, 12, 0)
        window.status.addPermanentWidget(self.selected)
        bar = window.menuBar()
        assert isinstance(bar, QMenuBar)
        for name in MENUS:
            menu = bar.addMenu(f"&{name}")
            menu.setObjectName(f"menu{name}")
            menu.aboutToShow.connect(self.update)
            self.menus[name] = menu
        own = self._own_actions()
        extra = self._provided(providers)
        for name in MENUS:
            mine = own.get(name, [])
            theirs = extra.get(name, [])
            self._fill(self.menus[name], mine, theirs, before_last=name in ("Go", "Edit"))
        for action in self._every_action():
            if action not in window.actions():
                window.addAction(action)
        self.search_keys = _SearchKeys(self)
        window.search.installEventFilter(self.search_keys)
        # Every other text field of the window the same (a face's name, a person's, a
        # caption): watched from when it first takes the focus.
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._text_focused)
        window.stack.currentChanged.connect(self.schedule_update)
        window.viewer.photo_changed.connect(self.schedule_update)
        for grid in window.grids():
            grid.selection_changed.connect(self.schedule_update)
        self._later = QTimer(self, singleShot=True, interval=0)
        self._later.timeout.connect(self.update)
        self.update()

    # ------------------------------------------------------------------ building

    def _own_actions(self) -> dict[str, list[QAction | None]]:
        w = self.window
        a = self._add
        from glimpse_desktop.gui import export_dialog, open_with

        settings = a("file.settings", "&Settings…", w.open_settings, keys=["Ctrl+,"],
                     anywhere=True)
        settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        quit_ = a("file.quit", "&Quit", self.quit, keys=["Ctrl+Q", QKeySequence.StandardKey.Quit],
                  anywhere=True)
        quit_.setMenuRole(QAction.MenuRole.QuitRole)
        full = a("view.full_screen", "&Full Screen", self.toggle_full_screen, keys=["F11"],
                 anywhere=True)
        full.setCheckable(True)
        info = _shown_only(a("view.info_panel", "Show &Info Panel", self.toggle_info,
                             keys=["I"]))
        info.setCheckable(True)
        memories = a("view.memories", "Show &Memories", self.toggle_memories)
        memories.setCheckable(True)
        back = _shown_only(a("go.back", "&Back", self.go_back, keys=["Esc"]))
        about = a("help.about", "&About Glimpse", self.about, anywhere=True)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        return {
            "File": [
                a("file.add_folder", "&Add Folder…", self.add_folder, anywhere=True),
                None,
                a("file.export", "&Export…", lambda: export_dialog.export_selection(w),
                  keys=["Ctrl+E"], needs=SOME, tip="Copy the selected photos to a folder"),
                a("file.open_with", "Open &With…", lambda: open_with.choose_app(w),
                  keys=["Ctrl+Shift+O"], needs=SOME),
                a("file.open_default", "Open in &Default App",
                  lambda: open_with.open_default(w), needs=SOME),
                a("file.open_editor", "Open in &Editor", lambda: open_with.open_in_editor(w),
                  needs=SOME),
                a("file.show_in_folder", "Show in File &Manager", self.show_in_folder,
                  needs=ONE),
                None, settings, None, quit_],
            "Edit": [
                a("edit.select_all", "Select &All", self.select_all,
                  keys=[QKeySequence.StandardKey.SelectAll]),
                a("edit.select_none", "Select &None", self.select_none, keys=["Ctrl+Shift+A"]),
                None,
                a("edit.find", "&Find…", w._focus_search,
                  keys=[QKeySequence.StandardKey.Find], anywhere=True),
                None,
                a("edit.set_date", "Set &Date and Time…", self.set_date, needs=SOME),
                a("edit.set_place", "Set &Place…", self.set_place, needs=SOME)],
            "Photo": [
                a("photo.similar", "Find &Similar Photos", self.find_similar, needs=ONE),
                a("photo.copy_path", "&Copy Path", self.copy_paths, needs=SOME)],
            "View": [
                a("view.zoom_in", "Zoom &In", lambda: self.zoom(+1),
                  keys=[QKeySequence.StandardKey.ZoomIn, "Ctrl+="]),
                a("view.zoom_out", "Zoom &Out", lambda: self.zoom(-1),
                  keys=[QKeySequence.StandardKey.ZoomOut]),
                None, full, info, memories],
            "Go": [*self._pages(), None, back],
            "Help": [
                a("help.shortcuts", "&Keyboard Shortcuts", self.show_shortcuts,
                  keys=["F1", "?"], anywhere=True),
                about],
        }

    def _add(self, ident: str, text: str, slot: Callable[[], Any], **kwargs: Any) -> QAction:
        action = _action(self.window, ident, text, slot, **kwargs)
        self.actions[ident] = action
        return action

    def _pages(self) -> list[QAction | None]:
        w = self.window
        pages: list[QAction | None] = []
        # Every view of the sidebar, in its order (a view added there is in Go too).
        for key, label, *_look in Sidebar.VIEWS:
            pages.append(self._add(f"go.{key}", _MNEMONICS.get(key, label),
                                   partial(w.show_view, key), anywhere=True))
        pages.append(self._add("go.memories", "&Memories", self.show_memories, anywhere=True))
        for key, page in w.plugin_pages.items():
            pages.append(self._add(f"go.page.{key}", page.title, partial(w.show_view, key),
                                   anywhere=True))
        return pages

    def _provided(self, modules: Iterable[str]) -> dict[str, list[QAction]]:
        """What other parts of the window add; a module that fails is said in the status
        bar, and the menus go on without it."""
        found: dict[str, list[QAction]] = {}
        for name in modules:
            try:
                given = importlib.import_module(name).window_actions(self.window)
            except Exception as exc:
                self.window.status.set_idle(f"⚠ Menu items of {name} are missing: "
                                            f"{describe(exc)}")
                continue
            for menu, actions in dict(given).items():
                if menu not in MENUS:
                    continue
                for action in actions:
                    if isinstance(action, QAction):
                        found.setdefault(menu, []).append(action)
                        if action.objectName():
                            self.actions.setdefault(action.objectName(), action)
        return found

    @staticmethod
    def _fill(menu: QMenu, mine: Sequence[QAction | None], theirs: Sequence[QAction], *,
              before_last: bool) -> None:
        """Own items, then the contributed ones; in Go and Edit the contributed ones come
        before the last group (Back; the photo edits stay last in Edit)."""
        last: list[QAction | None] = []
        if before_last and theirs and None in mine:
            cut = len(mine) - list(reversed(mine)).index(None) - 1
            mine, last = mine[:cut], list(mine[cut:])
        for action in mine:
            menu.addSeparator() if action is None else menu.addAction(action)
        if theirs:
            menu.addSeparator()
            for action in theirs:
                menu.addAction(action)
        for action in last:
            menu.addSeparator() if action is None else menu.addAction(action)

    def _every_action(self) -> list[QAction]:
        seen: list[QAction] = []
        for menu in self.menus.values():
            for action in menu.actions():
                if not action.isSeparator() and action not in seen:
                    seen.append(action)
        return seen

    # ------------------------------------------------------------------ state

    def schedule_update(self, *_args: Any) -> None:
        self._later.start()

    def update(self) -> None:
        """Grey out what cannot work on the photos chosen now; the count in the status bar."""
        w = self.window
        ids = w.selected_ids()
        grid = w._current_grid()
        viewer = w.stack.currentWidget() is w.viewer
        for action in self._every_action():
            needs = action.property("needs")
            if needs == SOME:
                action.setEnabled(bool(ids))
            elif needs == ONE:
                action.setEnabled(len(ids) == 1)
        chosen = grid is not None and not viewer and grid.model() is not None
        self.actions["edit.select_all"].setEnabled(chosen)
        self.actions["edit.select_none"].setEnabled(chosen and bool(ids))
        self.actions["view.info_panel"].setEnabled(viewer)
        self.actions["view.info_panel"].setChecked(viewer and w.viewer.panel.isVisible())
        self.actions["view.full_screen"].setChecked(w.isFullScreen())
        self.actions["view.memories"].setChecked(not w.memories.collapsed)
        self.actions["go.back"].setEnabled(w.stack.currentWidget() is not w.library_page)
        selection = grid.selectionModel() if chosen and grid is not None else None
        count = len(selection.selectedIndexes()) if selection is not None else 0
        self.selected.setText(f"{count:,} selected" if count > 1 else "")

    def _text_focused(self, _old: QWidget | None, new: QWidget | None) -> None:
        if isinstance(new, QLineEdit | QTextEdit | QPlainTextEdit | QAbstractSpinBox) \
                and new.window() is self.window:
            new.removeEventFilter(self.search_keys)      # installed once
            new.installEventFilter(self.search_keys)

    # ------------------------------------------------------------------ what they do

    def quit(self) -> None:
        self.window.close()

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Add a folder of photos",
                                                  os.path.expanduser("~"))
        if folder:
            self.window.add_folders([folder])

    def show_in_folder(self) -> None:
        from glimpse_desktop.gui import photo_menu

        paths = self.window.lib.photo_rows(self.window.selected_ids()[:1])
        if paths:
            photo_menu.show_in_folder(paths[0].path)

    def copy_paths(self) -> None:
        from glimpse_desktop.gui import photo_menu

        rows = self.window.lib.photo_rows(self.window.selected_ids())
        photo_menu.copy_paths([r.path for r in rows])

    def find_similar(self) -> None:
        ids = self.window.selected_ids()
        if len(ids) == 1:
            self.window.find_similar(ids[0])

    def set_date(self) -> None:
        from glimpse_desktop.gui import edit_dialogs

        ids = self.window.selected_ids()
        if ids:
            edit_dialogs.set_date(self.window, ids)

    def set_place(self) -> None:
        from glimpse_desktop.gui import edit_dialogs

        ids = self.window.selected_ids()
        if ids:
            edit_dialogs.set_place(self.window, ids)

    def select_all(self) -> None:
        grid = self.window._current_grid()
        if grid is not None and self.window.stack.currentWidget() is not self.window.viewer:
            model = grid.model()
            while model is not None and model.canFetchMore(grid.rootIndex()):
                model.fetchMore(grid.rootIndex())   # all means all, not the rows read so far
            grid.selectAll()
            grid.setFocus()

    def select_none(self) -> None:
        grid = self.window._current_grid()
        if grid is not None and grid.selectionModel() is not None:
            grid.selectionModel().clearSelection()

    def zoom(self, step: int) -> None:
        w = self.window
        if w.stack.currentWidget() is w.viewer:
            w.viewer.zoom_by(1.25 if step > 0 else 0.8)
        else:
            w.zoom.setValue(w.zoom.value() + step * max(16, w.zoom.pageStep()))

    def toggle_full_screen(self) -> None:
        w = self.window
        if w.isFullScreen():
            w.showMaximized() if getattr(self, "_was_maximized", False) else w.showNormal()
        else:
            self._was_maximized = w.isMaximized()
            w.showFullScreen()
        self.schedule_update()

    def toggle_info(self) -> None:
        if self.window.stack.currentWidget() is self.window.viewer:
            self.window.viewer.toggle_panel()
        self.schedule_update()

    def toggle_memories(self) -> None:
        strip = self.window.memories
        strip.set_collapsed(not strip.collapsed)
        self.schedule_update()

    def show_memories(self) -> None:
        self.window.show_library()
        self.window.memories.set_collapsed(False)
        self.window.memories.reveal()

    def go_back(self) -> None:
        w = self.window
        if w.stack.currentWidget() is w.viewer:
            w.viewer.close_viewer()
        elif w.stack.currentWidget() is w.results_page:
            w._results_back()
        else:
            w.show_library()

    def show_shortcuts(self) -> None:
        from glimpse_desktop.gui.shortcuts import ShortcutsDialog

        dialog = ShortcutsDialog(self.window, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def about(self) -> None:
        from glimpse_desktop import __version__

        QMessageBox.about(self.window, "About Glimpse",
                          f"<h3>Glimpse {__version__}</h3><p>A photo library that stays on "
                          "your computer: search in plain words, people, places and "
                          "albums.</p><p>Help ▸ Keyboard Shortcuts lists every key.</p>")


class _SearchKeys(QObject):
    """Typing in the search box (or any text field of the window): the keys of actions that
    work on photos (Ctrl+E, Delete, the star keys, Ctrl+R, F5) go to the box, never to the
    library. An accepted ShortcutOverride makes Qt
    deliver the key to the focused widget instead of firing the shortcut."""

    def __init__(self, menus: WindowMenus) -> None:
        super().__init__(menus)
        self.menus = menus

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            pressed = QKeySequence(event.keyCombination())
            for action in self.menus.window.actions():
                if action.property("anywhere"):
                    continue
                if any(pressed.matches(k) == QKeySequence.SequenceMatch.ExactMatch
                       for k in action.shortcuts()):
                    event.accept()
                    return True
        return False


def key_text(keys: Sequence[QKeySequence], *, native: bool = True) -> str:
    """An action's keys as a person reads them: "F1 or ?"."""
    fmt = (QKeySequence.SequenceFormat.NativeText if native
           else QKeySequence.SequenceFormat.PortableText)
    return " or ".join(dict.fromkeys(k.toString(fmt) for k in keys if not k.isEmpty()))


def menu_text(action: QAction) -> str:
    """The item's words without its mnemonic or ellipsis: "Export"."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…")

