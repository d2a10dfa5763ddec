"""A module that adds menu items the way the other parts of the window do
(``window_actions``), for tests/gui/test_menus.py."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence


def window_actions(window: Any) -> dict[str, list[QAction]]:
    mark = QAction("Mark as Tested", window)
    mark.setObjectName("test.mark")
    mark.setShortcut(QKeySequence("Ctrl+Shift+M"))
    mark.triggered.connect(lambda: setattr(window, "marked", window.selected_ids()))
    page = QAction("Test Page", window)
    page.setObjectName("test.page")
    window.addActions([mark, page])
    return {"Photo": [mark], "Go": [page], "Nowhere": [QAction("ignored", window)]}
