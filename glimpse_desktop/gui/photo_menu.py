"""The window's photo menu (a grid's and the viewer's) and what it does: open, show in the
file manager, copy paths, find similar photos, albums, and the actions plugins add
(``glimpse_photo_actions``), run on the selected photos as background jobs with progress and
Cancel in the status bar."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMenu

from glimpse_desktop.api import PhotoAction
from glimpse_desktop.gui.grid import PhotoGrid
from glimpse_desktop.gui.photo_model import PathRole, PhotoIdRole
from glimpse_desktop.gui.tasks import Job, describe

if TYPE_CHECKING:
    from glimpse_desktop.gui.window import MainWindow


def grid_menu(window: MainWindow, grid: PhotoGrid, pos: QPoint) -> QMenu | None:
    """The menu of the photo under ``pos`` in ``grid`` (and the others selected with it),
    shown at once; None where there is no photo."""
    index = grid.indexAt(pos)
    if not index.isValid():
        return None
    selection = grid.selectionModel()
    if selection is not None and not selection.isSelected(index):
        grid.setCurrentIndex(index)
    model = grid.model()
    chosen = [i for i in (selection.selectedIndexes() if selection else [])] or [index]
    paths = [str(model.data(i, PathRole)) for i in chosen]
    ids = [int(model.data(i, PhotoIdRole)) for i in chosen]
    menu = QMenu(grid)
    menu.addAction("Open", lambda: window.open_photo(grid, index.row()))
    menu.addAction("Show in file manager", lambda: show_in_folder(paths[0]))
    menu.addAction("Copy path" if len(paths) == 1 else f"Copy {len(paths)} paths",
                   lambda: copy_paths(paths))
    similar = QAction("Find similar photos", menu)
    similar.triggered.connect(lambda: window.find_similar(ids[0]))
    similar.setEnabled(len(ids) == 1)
    menu.addAction(similar)
    menu.addAction("Slideshow from here" if len(ids) == 1 else f"Slideshow of {len(ids)} photos",
                   lambda: _slideshow(window))
    menu.addSeparator()
    _edit_items(window, menu, ids)
    _album_items(window, menu, ids)
    if (grid is window.results_page.grid and window._album_shown is not None
            and window._album_kind != "smart"):
        album_id = window._album_shown
        menu.addAction("Remove from album" if len(ids) == 1 else
                       f"Remove {len(ids)} photos from album",
                       lambda: remove_from_album(window, album_id, ids, grid))
    add_photo_actions(window, menu, ids)
    _trash_item(window, menu, ids)
    _popup(menu, grid.viewport().mapToGlobal(pos))
    return menu


def viewer_menu(window: MainWindow, photo_id: int, path: str, where: QPoint) -> QMenu:
    """The menu of the photo the viewer shows, at ``where`` (global), shown at once."""
    menu = QMenu(window.viewer)
    menu.addAction("Find similar photos", lambda: window.find_similar(photo_id))
    menu.addAction("Slideshow from here", lambda: _slideshow(window))
    if path:
        menu.addAction("Show in file manager", lambda: show_in_folder(path))
        menu.addAction("Copy path", lambda: copy_paths([path]))
    menu.addSeparator()
    _edit_items(window, menu, [photo_id])
    _album_items(window, menu, [photo_id])
    add_photo_actions(window, menu, [photo_id])
    _trash_item(window, menu, [photo_id])
    _popup(menu, where)
    return menu


def _slideshow(window: MainWindow) -> None:
    from glimpse_desktop.gui.slideshow import start_slideshow

    start_slideshow(window)


def _popup(menu: QMenu, where: QPoint) -> None:
    # popup(), not exec(): no nested event loop; the menu deletes itself when closed.
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    menu.popup(where)


def _trash_item(window: MainWindow, menu: QMenu, ids: list[int]) -> None:
    from glimpse_desktop.gui import trash_view

    menu.addSeparator()
    trash_view.menu_item(window, menu, ids)


def _edit_items(window: MainWindow, menu: QMenu, ids: list[int]) -> None:
    """Set date and time, set place (gui/edit_dialogs.py): for a camera whose clock or GPS
    was wrong, or a scan that has neither."""
    from glimpse_desktop.gui import edit_dialogs, judge_actions

    judge_actions.menu_items(window, menu, ids)   # Favourite, Rate ▸, Reject, Rotate ▸
    menu.addSeparator()
    menu.addAction("Set date and time…", lambda: edit_dialogs.set_date(window, ids))
    menu.addAction("Set place…", lambda: edit_dialogs.set_place(window, ids))


def _album_items(window: MainWindow, menu: QMenu, ids: list[int]) -> None:
    to_album = menu.addMenu("Add to album")
    own = window.albums_page.own          # the person's albums, as the Albums page read them
    for album in own:
        to_album.addAction(album.title,
                           partial(add_to_album, window, album.id, album.title, ids))
    if own:
        to_album.addSeparator()
    to_album.addAction("New album…", lambda: window.albums_page.new_album(ids))


# ------------------------------------------------------------------ plugins' photo actions


def photo_actions(window: MainWindow) -> list[PhotoAction]:
    """The photo actions every plugin (built-in ones first) offers; anything a plugin returns
    that is not a ``PhotoAction`` is left out."""
    found = window.lib.plugins.collect("glimpse_photo_actions")
    return [action for action in found if isinstance(action, PhotoAction)]


def add_photo_actions(window: MainWindow, menu: QMenu, ids: Sequence[int]) -> list[QAction]:
    """The plugins' actions under the menu's own items, each greyed out where its
    ``enabled`` says it cannot run now."""
    actions = photo_actions(window)
    added: list[QAction] = []
    if actions:
        menu.addSeparator()
    for action in actions:
        item = QAction(action.label, menu)
        item.setObjectName(action.id)
        item.setData(action.id)
        item.setEnabled(bool(ids) and action.available(window.lib))
        item.triggered.connect(partial(run_photo_action, window, action, list(ids)))
        menu.addAction(item)
        added.append(item)
    return added


def run_photo_action(window: MainWindow, action: PhotoAction, ids: Sequence[int],
                     *_checked: Any) -> Job:
    """``action`` on ``ids`` as a job of the window (progress, pause and Cancel in the status
    bar); its result text, or why it failed, is shown there when it ends."""
    lib, photo_ids = window.lib, list(ids)

    def done(result: Any) -> None:
        if result is None:               # cancelled
            window.status.set_idle(f"{action.label}: stopped")
        else:
            window.status.set_idle(str(result))

    def failed(why: str) -> None:
        window.status.set_idle(f"⚠ {action.label}: {why}")

    return window.start_job(
        action.label, lambda progress, cancel: action.run(lib, photo_ids, progress, cancel),
        done, failed)


# ------------------------------------------------------------------ what the menu does


def add_to_album(window: MainWindow, album_id: int, title: str, ids: list[int]) -> None:
    def done(_result: Any) -> None:
        window.status.set_idle(f"Added {len(ids):,} photo{'s' if len(ids) != 1 else ''} "
                               f"to “{title}”")
        window.albums_page.refresh_if_shown()
        window.photos_changed(ids, "albums")     # album names travel in sidecars

    window.tasks.run(lambda: window.lib.albums.add(album_id, ids), done,
                     _say_failure(window))


def remove_from_album(window: MainWindow, album_id: int, ids: list[int],
                      grid: PhotoGrid) -> None:
    model = grid.model()

    def done(_result: Any) -> None:
        if grid.model() is model and hasattr(model, "remove_photos"):
            model.remove_photos(ids)
        window.albums_page.refresh_if_shown()
        window.photos_changed(ids, "albums")

    window.tasks.run(lambda: window.lib.albums.remove(album_id, ids), done,
                     _say_failure(window))


def _say_failure(window: MainWindow) -> Callable[[BaseException], None]:
    return lambda exc: window.status.set_idle(f"⚠ {describe(exc)}")


def show_in_folder(path: str) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))


def copy_paths(paths: list[str]) -> None:
    QGuiApplication.clipboard().setText("\n".join(paths))

