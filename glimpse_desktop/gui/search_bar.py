"""The search box over the window: filters suggested as one types, and what a search
found (or why it found nothing) in the window's words.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import (
    QStringListModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QFocusEvent,
    QIcon,
    QKeyEvent,
)
from PySide6.QtWidgets import (
    QCompleter,
    QLineEdit,
    QStyle,
    QWidget,
)

from glimpse_desktop import api as search_codes
from glimpse_desktop.api import filter_keys
from glimpse_desktop.kernel.messages import Notice

# Filters the search box suggests, with what a person types after them.
FILTER_HINTS = {
    "person": "a name", "camera": "a camera", "lens": "a lens", "tag": "a tag or keyword",
    "after": "a date: 2023, 2023-06, 2023-06-14", "before": "a date", "type": "jpg, png, raw…",
    "folder": "part of a folder's path", "place": "a place", "album": "an album",
    "is": "favorite, rejected (-is:rejected: not)", "rating": "stars: 4, >=4, <=2, 0",
}


# What a filter that matches nothing is called, in the window's words.
_NOTHING_FOR = {
    "place": "no photo was taken in a place called “{value}”",
    "camera": "no photo was taken with a camera called “{value}”",
    "lens": "no photo was taken with a lens called “{value}”",
    "tag": "no photo is tagged “{value}”",
    "folder": "no photo is in a folder called “{value}”",
    "type": "no photo is a {value} file",
    "person": "no photo shows {value}",
    "album": "the album “{value}” has no photos",
    "after": "no photo was taken in or after {value}",
    "before": "no photo was taken before {value}",
    "is": "no photo is {value}",
    "rating": "no photo has a rating of {value}",
}
# Notices that mean search by content did not take part.
_NO_CONTENT = (search_codes.MODEL_NOT_INSTALLED, search_codes.NOTHING_EMBEDDED,
               search_codes.MODEL_FAILED)


def phrase(notice: Notice) -> str:
    """A search notice (a code and its values) in the window's words."""
    v = notice.values
    if notice.code == search_codes.FILTER_MATCHES_NOTHING and v.get("negated"):
        return f"every photo matches {v['filter']}:{v['value']}"
    if notice.code == search_codes.FILTER_MATCHES_NOTHING:
        return _NOTHING_FOR.get(str(v["filter"]), "nothing matches {filter}:{value}").format(
            filter=v["filter"], value=v["value"])
    if notice.code == search_codes.FILTERS_EXCLUDE_EACH_OTHER:
        return f"no photo matches {' '.join(v['filters'])} all together"
    if notice.code == search_codes.MODEL_NOT_INSTALLED:
        return ("the model for searching by what is in the photos is not installed "
                "(Settings › Search model)")
    if notice.code == search_codes.NOTHING_EMBEDDED:
        return "photos are still being prepared for searching by content"
    if notice.code == search_codes.NOT_EMBEDDED_YET:
        n = int(v["count"])
        return f"{n:,} photo{'s are' if n != 1 else ' is'} still being prepared for " \
               "searching by content"
    if notice.code == search_codes.SWITCHING_MODEL:
        return f"search uses {v['active']} until every photo is ready for {v['target']}"
    if notice.code == search_codes.MODEL_FAILED:
        return f"searching by content failed: {v['reason']}"
    return notice.code.replace("_", " ")


def short_notice(result: Any) -> str:
    """The search's notices in a line that fits under the title."""
    said = [phrase(n) for n in result.notices]
    if not said:
        return ""
    text = " · ".join(said)
    if not result.semantic and any(n.code in _NO_CONTENT for n in result.notices):
        return f"matched by names, folders and text only: {text}"
    return text


def count_title(result: Any, noun: str = "photo") -> str:
    """ "635 photos", or "At least 10,000 photos" when the ranking stopped looking."""
    n = int(result.total)
    words = f"{n:,} {noun}{'s' if n != 1 else ''}"
    return words if result.exact else f"At least {words}"


def quoted(value: str) -> str:
    return f'"{value}"' if re.search(r"\s", value) else value


class SearchBox(QLineEdit):
    """Plain words and filters; completes filter names, then people, cameras, lenses, tags."""

    cleared = Signal()
    focused = Signal()
    submitted = Signal(str)      # Enter with a query (not Enter choosing a suggestion)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("Search your photos: “kids on a beach”, person:Anna, "
                                "after:2023 camera:iphone")
        self.setClearButtonEnabled(True)
        self.addAction(QIcon.fromTheme("edit-find", self.style().standardIcon(
            QStyle.StandardPixmap.SP_FileDialogContentsView)),
            QLineEdit.ActionPosition.LeadingPosition)
        self.vocabulary: dict[str, list[str]] = {}
        # The query put away when the person left its results (Esc): Up or Ctrl+F bring it
        # back, so a query typed with care is never lost to a key press.
        self.last_query = ""
        self._words = QStringListModel(self)
        self.completer_ = QCompleter(self._words, self)
        self.completer_.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer_.setFilterMode(Qt.MatchFlag.MatchStartsWith)
        self.completer_.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer_.setMaxVisibleItems(12)
        self.completer_.setWidget(self)
        self.completer_.activated.connect(self._insert)
        self.textEdited.connect(self._suggest)
        self.returnPressed.connect(self._return)

    def _return(self) -> None:
        # Enter on a suggestion reaches the box before the suggestion is inserted: look again
        # once it has been, and search only if Enter was not choosing a suggestion.
        typed = self.text()
        QTimer.singleShot(0, lambda: self.submitted.emit(typed) if self.text() == typed
                          else None)

    def _token(self) -> tuple[int, str]:
        """Where the word being typed starts, and the word."""
        text = self.text()[: self.cursorPosition()]
        match = re.search(r'(\S+:"[^"]*|\S*)$', text)
        assert match is not None
        return match.start(), match.group(0)

    def suggestions(self, token: str) -> list[str]:
        """What to offer for the word being typed: filters by their start, then a filter's
        values by the start of the value, quotes or not (person:b offers person:"Barack
        Obama")."""
        def plain(text: str) -> str:
            return text.replace('"', "").lower()

        if ":" in token:
            key, typed = token.split(":", 1)
            sign = "-" if key.startswith("-") else ""    # -is:rejected stays a "not"
            key = key.lower().lstrip("-")
            values = [v for v in self.vocabulary.get(key, [])
                      if plain(v).startswith(plain(typed))]
            return [f"{sign}{key}:{quoted(v)}" for v in values]
        if len(token) < 1:
            return []
        keys = [f"{key}:" for key in filter_keys() if key.startswith(token.lower())]
        words = [f"person:{quoted(n)}" for n in self.vocabulary.get("person", [])
                 if any(part.lower().startswith(token.lower()) for part in n.split())]
        return keys + words

    def _hide_popup(self) -> None:
        popup = self.completer_.popup()
        if popup is not None:
            popup.hide()

    def _popup_visible(self) -> bool:
        popup = self.completer_.popup()
        return popup is not None and popup.isVisible()

    def _suggest(self, _text: str) -> None:
        _start, token = self._token()
        options = self.suggestions(token)
        if not options:
            self._hide_popup()
            return
        self._words.setStringList(options)
        self.completer_.setCompletionPrefix("")     # filtered above: show them all
        self.completer_.complete()

    def _insert(self, completion: str) -> None:
        start, _token = self._token()
        text, cursor = self.text(), self.cursorPosition()
        add = completion if completion.endswith(":") else completion + " "
        self.setText(text[:start] + add + text[cursor:])
        self.setCursorPosition(start + len(add))
        if completion.endswith(":"):
            self._suggest(self.text())

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.focused.emit()      # names and tags may have changed: read them again

    def put_away(self) -> None:
        """Empty the box, keeping its query for ``recall``."""
        if self.text().strip():
            self.last_query = self.text()
        self.clear()

    def recall(self) -> bool:
        """An empty box takes back the query put away last (selected: typing replaces it)."""
        if self.text() or not self.last_query:
            return False
        self.setText(self.last_query)
        self.selectAll()
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._popup_visible():
            # The suggestions list has the keys while it is open (Esc closes it there).
            super().keyPressEvent(event)
            return
        if event.key() == Qt.Key.Key_Escape:
            self.put_away()
            self.cleared.emit()
            return
        if event.key() == Qt.Key.Key_Up and self.recall():
            return
        super().keyPressEvent(event)


