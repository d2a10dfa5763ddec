"""Keeping and judging from the window: the "Photo" menu's actions and their keys, the photo
menu's items, and the viewer's buttons, all doing one thing (``judge``) on the photos chosen
(``MainWindow.selected_ids``: the viewer's photo, else the grid's selection).

Keys (agreed for the whole window): ``.`` or ``F`` favourite on/off, ``0``-``5`` stars (0:
none), ``X`` reject on/off, ``[`` / ``]`` (and Ctrl+L / Ctrl+R) rotate left / right. They
are window shortcuts, so they work in the grid and the viewer alike; a text box keeps the
plain keys it types (Qt gives a focused line edit its printable keys first).

After a change the grid's rows are read again (hearts, stars, turned tiles), the viewer
shows it, and the change chain runs (``photos_changed(ids, "judged"|"rotated")``: write-back
follows).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from glimpse_desktop.api import JudgeEdit
from glimpse_desktop.gui.tasks import describe

if TYPE_CHECKING:
    from glimpse_desktop.gui.window import MainWindow

__all__ = ["judge", "menu_items", "window_actions"]

_ATTRIBUTE = "_judge_actions"
_TURN_WORDS = {1: "right", 2: "upside down", 3: "left"}


def _photos(n: int) -> str:
    return f"{n:,} photo{'s' if n != 1 else ''}"


def done_text(edit: JudgeEdit) -> str:
    """What a judgement did, in words for the status bar."""
    n = len([p for p in edit.photos if p.companion_of is None]) or len(edit.photos)
    if not edit.photos:
        return "Nothing to change: " + ("already so" if edit.unchanged else "no photo")
    if edit.action == "favorite":
        return (f"♥ {_photos(n)} a favourite" if edit.value
                else f"{_photos(n)} no longer a favourite")
    if edit.action == "reject":
        return f"Rejected {_photos(n)}" if edit.value else f"Took back the reject of {_photos(n)}"
    if edit.action == "rating":
        return (f"{'★' * edit.value} for {_photos(n)}" if edit.value
                else f"Took the stars from {_photos(n)}")
    return f"Turned {_photos(n)} {_TURN_WORDS.get(edit.value, '')}".rstrip()


def judge(window: MainWindow, action: str, value: int = 0,
          ids: list[int] | None = None) -> None:
    """Do ``action`` on ``ids`` (default: the photos chosen in the window): 'favorite' and
    'reject' toggle (on for all when any is off), 'rating' gives ``value`` stars, 'rotate'
    turns ``value`` quarter turns clockwise. Off the GUI thread; the window shows it."""
    chosen = list(ids) if ids is not None else window.selected_ids()
    if not chosen:
        window.status.set_idle("Choose a photo first")
        return
    lib = window.lib
    calls: dict[str, Callable[[], JudgeEdit]] = {
        "favorite": lambda: lib.judge.toggle_favorite(chosen),
        "reject": lambda: lib.judge.toggle_reject(chosen),
        "rating": lambda: lib.judge.rate(chosen, value),
        "rotate": lambda: lib.judge.rotate(chosen, value),
    }

    def done(edit: JudgeEdit) -> None:
        window.status.set_idle(done_text(edit))
        if not edit.photo_ids:
            return
        window.refresh_rows(edit.photo_ids, held=True)
        shown = window.viewer.current_photo()
        if shown is not None and shown in edit.photo_ids:
            window.viewer.reload_current()
        window.photos_changed(edit.photo_ids, edit.why)

    def failed(exc: BaseException) -> None:
        window.status.set_idle(f"⚠ {describe(exc)}")

    window.tasks.run(calls[action], done, failed)


def _action(window: MainWindow, text: str, keys: list[str], slot: Callable[[], Any],
            tip: str = "") -> QAction:
    action = QAction(text, window)
    action.setShortcuts([QKeySequence(k) for k in keys])
    # The window's, not one widget's: the grid and the viewer alike. A focused line edit
    # takes the printable keys it types before a shortcut sees them.
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda *_: slot())
    return action


def window_actions(window: MainWindow) -> dict[str, list[QAction]]:
    """The "Photo" menu's judging actions, with their keys, added to ``window`` once (the
    same actions on every call: the menu bar collects them by name)."""
    made: dict[str, list[QAction]] | None = getattr(window, _ATTRIBUTE, None)
    if made is not None:
        return made
    act = partial(judge, window)
    photo = [
        _action(window, "Favourite", [".", "F"], lambda: act("favorite"),
                "Make the chosen photos favourites, or no longer"),
        *(_action(window, "No stars" if n == 0 else "★" * n + "☆" * (5 - n), [str(n)],
                  partial(act, "rating", n), f"Give the chosen photos {n} stars")
          for n in range(6)),
        _action(window, "Reject", ["X"], lambda: act("reject"),
                "Flag the chosen photos rejected, or take it back"),
        _action(window, "Rotate left", ["[", "Ctrl+L"], lambda: act("rotate", 3)),
        _action(window, "Rotate right", ["]", "Ctrl+R"], lambda: act("rotate", 1)),
        _action(window, "Rotate 180°", [], lambda: act("rotate", 2)),
    ]
    for a in photo:
        a.setObjectName("judge." + a.text())
    window.addActions(photo)
    window.viewer.judge_bar.judged.connect(
        lambda what, value: judge(window, what, value, _viewer_photo(window)))
    made = {"Photo": photo}
    setattr(window, _ATTRIBUTE, made)
    return made


def _viewer_photo(window: MainWindow) -> list[int]:
    shown = window.viewer.current_photo()
    return [] if shown is None else [shown]


def menu_items(window: MainWindow, menu: QMenu, ids: list[int]) -> None:
    """The photo menu's Favourite / Rate ▸ / Reject / Rotate ▸ for ``ids``."""
    act = partial(judge, window, ids=ids)
    menu.addAction("Favourite\t.", lambda: act("favorite"))
    rate = menu.addMenu("Rate")
    for n in range(6):
        rate.addAction(("No stars" if n == 0 else "★" * n + "☆" * (5 - n)) + f"\t{n}",
                       partial(act, "rating", n))
    menu.addAction("Reject\tX", lambda: act("reject"))
    rotate = menu.addMenu("Rotate")
    rotate.addAction("Left\t[", lambda: act("rotate", 3))
    rotate.addAction("Right\t]", lambda: act("rotate", 1))
    rotate.addAction("180°", lambda: act("rotate", 2))
