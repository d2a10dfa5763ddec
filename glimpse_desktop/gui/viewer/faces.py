"""Naming a face in place: the 'Who is this?' popup, and what naming did, in words.
"""

from __future__ import annotations

from PySide6.QtCore import (
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QFont,
    QPalette,
)
from PySide6.QtWidgets import (
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import FaceNamed
from glimpse_desktop.gui.viewer.parts import dim_colour


class NamePopup(QFrame):
    """'Who is this?': a line with the names already in the library offered as one types."""

    chosen = Signal(str)

    def __init__(self, names: list[str], current: str, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(6)
        title = QLabel("Who is this?")
        font = title.font()
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        layout.addWidget(title)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.line = QLineEdit(current)
        self.line.setPlaceholderText("Name")
        self.line.selectAll()
        self.line.setMinimumWidth(220)
        completer = QCompleter(sorted(names, key=str.casefold), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.line.setCompleter(completer)
        self.ok = QPushButton("Name")
        self.ok.setDefault(True)
        row.addWidget(self.line, 1)
        row.addWidget(self.ok)
        layout.addLayout(row)
        hint = QLabel("A name already used puts the face with that person.")
        hint.setWordWrap(True)
        palette = hint.palette()
        palette.setColor(QPalette.ColorRole.WindowText, dim_colour(hint.palette()))
        hint.setPalette(palette)
        font = hint.font()
        font.setPointSizeF(font.pointSizeF() * 0.88)
        hint.setFont(font)
        layout.addWidget(hint)
        self.line.returnPressed.connect(self.accept)
        self.ok.clicked.connect(self.accept)

    def accept(self) -> None:
        name = " ".join(self.line.text().split())
        if not name:
            return
        self.close()
        self.chosen.emit(name)


def named_text(result: FaceNamed) -> str:
    """What naming a face did, in words."""
    name = result.name
    return {"same": f"Already {name}.",
            "assigned": f"Added to {name}.",
            "named": f"Named {name}: their other photos too.",
            "created": f"Named {name}."}.get(result.action, f"Named {name}.")

