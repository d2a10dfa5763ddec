"""The window's records for plugins that bring their own Qt (``glimpse_gui_pages``).

A plugin returns ``Page`` records from its ``glimpse_gui_pages`` hook; the window adds each to
its sidebar, under the built-in views, and builds the page's widget the first time a person
opens it::

    @hookimpl
    def glimpse_gui_pages():
        from glimpse_desktop.gui.hooks import Page
        return [Page(id="colors.palette", title="Colours", factory=ColoursPage)]

Photo actions need no Qt: they are ``glimpse_desktop.api.PhotoAction`` records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class Page:
    """A page of the window's sidebar.

    ``title``: what the sidebar says; ``factory(window)``: builds the page's widget for the
    ``MainWindow`` it is shown in (it may keep the window, whose ``lib``, ``tasks`` and
    ``start_job`` it can use); ``id``: a stable dotted name, the plugin's own prefix first
    (defaults to the title), which ``window.show_view`` takes too."""

    title: str
    factory: Callable[[Any], QWidget]
    id: str = ""

    def __post_init__(self) -> None:
        if not self.title:
            raise ValueError("a page needs a title")
        if not callable(self.factory):
            raise TypeError(f"page {self.title!r}: factory must be callable")

    @property
    def key(self) -> str:
        """The name the window knows the page by."""
        return self.id or self.title
