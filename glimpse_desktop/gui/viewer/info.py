"""The info panel beside the photo: everything known of it, in the order a person
looks for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QPoint,
    QRect,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QKeySequence,
    QPalette,
    QResizeEvent,
    QShortcut,
    QTextOption,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import Caption, Photo, PhotoFace, date_source_text
from glimpse_desktop.gui.viewer.parts import (
    LONG_TEXT,
    PANEL_WIDTH,
    dim_colour,
    exposure_text,
    face_label,
    line_icon,
    long_date,
    place_text,
)
from glimpse_desktop.gui.widgets import ElidedLabel

# ---------------------------------------------------------------------------------- panel


def megapixels(pixels: int) -> str:
    """"12.2 MP"; a small picture in two figures ("0.049 MP"), never "0.0 MP"."""
    mp = pixels / 1e6
    if mp >= 0.1:
        return f"{mp:.1f} MP"
    return f"{mp:.2g} MP" if mp > 0 else "0 MP"

class FlowLayout(QLayout):
    """Chips that wrap onto the next line (tags, keywords)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line > 0:
                x, y, line = rect.x(), y + line + self._spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y()


class WrappedPath(QTextEdit):
    """A file path that wraps anywhere (a folder name has no spaces to wrap at), selectable
    and copied exactly as it is (a label would need invisible break characters in it)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.setPlainText(text)
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Never the keyboard's: arrows keep moving between photos.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.document().setDocumentMargin(0)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextEdit { background: transparent; }")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit_height(PANEL_WIDTH - 40)

    def _fit_height(self, width: int) -> None:
        self.document().setTextWidth(max(1, width))
        self.setFixedHeight(math.ceil(self.document().size().height()) + 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height(self.viewport().width())


class PanelText(QLabel):
    """A wrapped label that asks its layout for the height its text needs at the panel's
    width (a plain wrapped QLabel in a scroll area asks for a guess, leaving gaps)."""

    def _width(self) -> int:
        return self.width() if self.width() > 40 else PANEL_WIDTH - 40

    def sizeHint(self) -> QSize:
        width = self._width()
        return QSize(width, self.heightForWidth(width) if self.wordWrap()
                     else super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.wordWrap() and self.heightForWidth(self.width()) != self.height():
            self.updateGeometry()


# Texts of a photo as the panel titles them (photo_text fields; names and places have their
# own sections). Keywords and tags are shown as chips.
TEXT_FIELDS = {"caption": "Caption", "description": "Description", "prompt": "Prompt",
               "negative_prompt": "Negative prompt", "ocr": "Text in the photo",
               "generation": "Generation settings"}
CHIP_FIELDS = {"keywords": "Keywords", "tags": "Tags"}


class InfoPanel(QScrollArea):
    """Everything known of the photo, in the order a person looks for it."""

    person_chosen = Signal(int)
    find_similar = Signal(int)
    caption_edited = Signal(int, str)       # photo id, the new text ("" removes the caption)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewerPanel")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedWidth(PANEL_WIDTH)
        self.info: Photo | None = None
        self.faces: list[PhotoFace] | None = None
        self.body = QWidget()
        self.body.setObjectName("viewerPanelBody")
        self.layout_ = QVBoxLayout(self.body)
        self.layout_.setContentsMargins(20, 18, 20, 20)
        self.layout_.setSpacing(3)
        self.setWidget(self.body)
        self.texts: dict[str, str] = {}         # what each part shows, as plain text
        self.caption_editor: QPlainTextEdit | None = None
        self._caption_span = (0, 0)             # the layout items the caption part fills
        self._rebuild()

    # ------------------------------------------------------------------ public

    def show_info(self, info: Photo | None) -> None:
        self.info = info
        self._rebuild()

    def show_faces(self, faces: list[PhotoFace] | None) -> None:
        self.faces = faces
        self._rebuild()

    # ------------------------------------------------------------------ building

    def _clear(self) -> None:
        while self.layout_.count():
            item = self.layout_.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self.texts = {}

    def _caption(self, text: str) -> None:
        label = QLabel(text.upper())
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * 0.78)
        font.setWeight(QFont.Weight.DemiBold)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
        label.setFont(font)
        palette = label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, dim_colour(self.palette()))
        label.setPalette(palette)
        self.layout_.addSpacing(16)
        self.layout_.addWidget(label)
        self.layout_.addSpacing(2)

    def _text(self, text: str, *, key: str | None = None, dim: bool = False,
              selectable: bool = True, size: float = 1.0, bold: bool = False) -> QLabel:
        label = PanelText(text)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        if selectable:
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = label.font()
        if size != 1.0:
            font.setPointSizeF(font.pointSizeF() * size)
        if bold:
            font.setWeight(QFont.Weight.DemiBold)
        label.setFont(font)
        if dim:
            palette = label.palette()
            palette.setColor(QPalette.ColorRole.WindowText, dim_colour(self.palette()))
            label.setPalette(palette)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.layout_.addWidget(label)
        if key is not None:
            self.texts[key] = text
        return label

    def _long_text(self, text: str, *, key: str, dim: bool, size: float) -> None:
        """A text of any length: a few lines, and the rest a click away."""
        label = self._text(text, key=key, dim=dim, size=size)
        if len(text) <= LONG_TEXT:
            return
        cut = text[:LONG_TEXT].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
        label.setText(cut)
        more = QLabel(f'<a href="more" style="color: {link_colour(self.palette()).name()};'
                      ' text-decoration: none;">Show more</a>')
        more.setTextFormat(Qt.TextFormat.RichText)

        def expand() -> None:
            label.setText(text)
            more.hide()

        more.linkActivated.connect(lambda _href: expand())
        self.layout_.addWidget(more)

    def _chips(self, words: list[str]) -> None:
        holder = QWidget()
        flow = FlowLayout(holder)
        base = self.palette().color(QPalette.ColorRole.Window)
        chip_bg = base.lighter(135) if base.lightness() < 128 else base.darker(108)
        for word in words:
            chip = QLabel(word)
            chip.setStyleSheet(f"QLabel {{ background: {chip_bg.name()}; border-radius: 10px;"
                               " padding: 2px 9px; }")
            flow.addWidget(chip)
        self.layout_.addWidget(holder)

    def _button(self, text: str, icon: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(line_icon(icon, self.palette().color(QPalette.ColorRole.ButtonText)),
                             text)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(button)
        row.addStretch(1)
        holder = QWidget()
        holder.setLayout(row)
        self.layout_.addSpacing(6)
        self.layout_.addWidget(holder)
        return button

    def _rebuild(self) -> None:
        self.body.setUpdatesEnabled(False)
        self._clear()
        info = self.info
        if info is None:
            self._text("Loading…", dim=True, selectable=False)
            self.layout_.addStretch(1)
            self.body.setUpdatesEnabled(True)
            return
        path = Path(info.path)
        title = ElidedLabel(tooltip_over=None)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        title.setText(path.name)
        title.setToolTip(str(path))
        self.layout_.addWidget(title)
        self.texts["title"] = path.name
        when = long_date(info.taken_at)
        self._text(when or "No date", key="date", dim=when is None)
        extra = []
        taken = info.taken_at or ""
        if len(taken) > 19 and taken[19] in "+-Z":
            extra.append("UTC" + (taken[19:] if taken[19] != "Z" else ""))
        if (info.taken_at_source or "").startswith("file:"):
            extra.append("date of the file (none in the photo)")
        if extra:
            self._text(" · ".join(extra), key="date_note", dim=True, size=0.9)
        source = info.taken_at_source or ""
        if source and not source.startswith("file:"):
            # Where the date came from: "set by you" is one that can be taken back.
            self._text("Set by you" if source == "manual" else
                       f"From {date_source_text(source)}", key="date_source", dim=True,
                       size=0.9)

        if info.status in ("offline", "missing"):
            self._caption("Original")
            self._text("On a drive that is not connected: this is the preview."
                       if info.status == "offline" else
                       "The file is gone from its folder: this is the preview.", key="status")

        texts = info.texts
        places = [t.value for t in texts if t.field == "places" and t.value]
        coords = place_text(info.gps)
        if places or coords:
            self._caption("Place")
            if places:
                self._text(", ".join(dict.fromkeys(str(p) for p in places)), key="place")
            if coords:
                self._text(coords, key="coordinates", dim=bool(places))

        make, model = info.camera.make or "", info.camera.model or ""
        camera = " ".join(v for v in (make, model) if v)
        if make and model.lower().startswith(make.lower().split()[0]):
            camera = model       # "Canon Canon EOS R5" is written "Canon EOS R5"
        exposure = exposure_text(info.exposure)
        if camera or info.lens or exposure:
            self._caption("Camera")
            if camera:
                self._text(camera, key="camera")
            if info.lens:
                self._text(info.lens, key="lens", dim=True)
            if exposure:
                self._text(exposure, key="exposure")

        self._caption("Image")
        parts = []
        if info.width and info.height:
            w, h = int(info.width), int(info.height)
            parts.append(f"{w:,} × {h:,} · {megapixels(w * h)}")
        size_parts = []
        if info.size is not None:
            size = int(info.size)
            size_parts.append(f"{size / 1e6:.1f} MB" if size >= 100_000
                              else f"{max(1, round(size / 1e3))} KB")
        if info.format:
            size_parts.append(info.format)
        if size_parts:
            parts.append(" · ".join(size_parts))
        self._text("\n".join(parts) or "Size unknown", key="size")

        people = [f for f in (self.faces or [])]
        if people:
            self._caption("People")
            links, names, unknown, seen = [], [], 0, set()
            link = link_colour(self.palette()).name()
            for face in people:
                if face.person is None:
                    unknown += 1
                    continue
                if face.person in seen:
                    continue
                seen.add(face.person)
                names.append(face_label(face))
                links.append(f'<a href="person:{face.person}" style="color: {link};'
                             f' text-decoration: none;">{escape_html(face_label(face))}</a>')
            html = ", ".join(links)
            if unknown:
                html += ("<br>" if html else "") + (
                    f"<span>{unknown} face{'s' if unknown > 1 else ''} not yet recognised"
                    "</span>")
            names_label = PanelText(html)
            names_label.setTextFormat(Qt.TextFormat.RichText)
            names_label.setWordWrap(True)
            names_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            names_label.linkActivated.connect(self._link)
            names_label.setToolTip("Click a name to see every photo of them")
            self.layout_.addWidget(names_label)
            self.texts["people"] = ", ".join(names) + (f" ({unknown} not recognised)"
                                                       if unknown else "")

        caption = info.caption
        self._caption_section(caption)
        for field, heading in {**TEXT_FIELDS, **CHIP_FIELDS}.items():
            if field == "caption" and caption:
                continue        # shown above, in its own words and fields
            # The same text often comes twice (EXIF and XMP), spaced differently.
            # Tags drawn from the caption are its object and scene chips above already.
            values = list({" ".join(t.value.split()): t.value.strip()
                           for t in texts if t.field == field and t.value.strip()
                           and not (caption and t.source == "caption")}.values())
            if not values:
                continue
            self._caption(heading)
            if field in CHIP_FIELDS:
                words: list[str] = []
                for value in values:
                    for word in value.replace(";", "\n").replace(",", "\n").split("\n"):
                        if word.strip():
                            words.append(word.strip())
                self._chips(list(dict.fromkeys(words)))
                self.texts[field] = ", ".join(dict.fromkeys(words))
            else:
                self._long_text("\n\n".join(values), key=field, dim=field == "generation",
                                size=0.9 if field == "generation" else 1)

        # A RAW+JPEG pair is one photo with two files: both are named.
        self._caption("Files" if info.companions else "File")
        for shown in (str(path), *(c.path for c in info.companions)):
            path_view = WrappedPath(shown)
            font = path_view.font()
            font.setPointSizeF(font.pointSizeF() * 0.92)
            path_view.setFont(font)
            self.layout_.addWidget(path_view)
        self.texts["path"] = str(path)
        if info.companions:
            self.texts["companions"] = "\n".join(c.path for c in info.companions)
        if info.damaged:
            self._text("This file is damaged: what it says about itself was kept, and its "
                       "picture is shown as far as it decodes (the rest grey).", key="damaged")
        self._button("Show in folder", "folder", self._show_in_folder)

        if info.errors:
            self._caption("Problems")
            for error in info.errors:
                label = self._text(f"{error.stage}: {error.reason}",
                                   key="errors")
                palette = label.palette()
                bad = QColor(220, 80, 70) if self.palette().color(
                    QPalette.ColorRole.Window).lightness() < 128 else QColor(170, 30, 30)
                palette.setColor(QPalette.ColorRole.WindowText, bad)
                label.setPalette(palette)

        self.layout_.addSpacing(18)
        similar = self._button("Find similar photos", "similar",
                               lambda: self.find_similar.emit(info.id))
        similar.setToolTip("Photos that look like this one")
        self.layout_.addStretch(1)
        self.body.setUpdatesEnabled(True)

    def _caption_section(self, caption: Caption | None) -> None:
        """The caption: its sentence, the fields a model described, who wrote it, and Edit
        (or "Add a caption" where there is none)."""
        self.caption_editor = None
        first = self.layout_.count()
        self._caption_part(caption)
        self._caption_span = (first, self.layout_.count())

    def _caption_part(self, caption: Caption | None) -> None:
        link = link_colour(self.palette()).name()
        if not caption:
            add = QLabel(f'<a href="edit" style="color: {link}; text-decoration: none;">'
                         "Add a caption…</a>")
            add.setTextFormat(Qt.TextFormat.RichText)
            add.setToolTip("Describe this photo in your own words; search finds them")
            add.linkActivated.connect(lambda _href: self.edit_caption())
            self.layout_.addSpacing(12)
            self.layout_.addWidget(add)
            return
        self._caption("Caption")
        summary = caption.summary
        self._long_text(summary, key="caption", dim=False, size=1)
        data = caption.data or {}
        objects = []
        for item in data.get("objects") or []:
            if isinstance(item, dict) and item.get("label"):
                colour = str(item.get("colour") or item.get("color") or "").strip()
                objects.append(f"{colour} {item['label']}".strip() if colour else
                               str(item["label"]))
            elif isinstance(item, str) and item.strip():
                objects.append(item.strip())
        if objects:
            self._chips(list(dict.fromkeys(objects))[:24])
            self.texts["caption_objects"] = ", ".join(dict.fromkeys(objects))
        details = []
        for key, label in (("scene", "Scene"), ("mood", "Mood")):
            value = data.get(key)
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value if v)
            if value:
                details.append(f"{label}: {value}")
        techniques = data.get("techniques")
        if isinstance(techniques, list) and techniques:
            details.append("Composition: " + ", ".join(str(t) for t in techniques if t))
        if details:
            self._text("\n".join(details), key="caption_details", size=0.92)
        seen_text = data.get("text")
        if isinstance(seen_text, list):
            seen_text = " / ".join(str(t) for t in seen_text if t)
        if seen_text:
            self._text(f"Text in the photo: {seen_text}", key="caption_text", size=0.92)
        source = caption.source
        by = ("Written by you" if source == "user" else
              "From the photo's XMP" if source == "xmp" else
              f"Written by {caption.model or 'a model'}")
        note = QLabel(f'<span>{escape_html(by)}</span> · <a href="edit" style="color: {link};'
                      ' text-decoration: none;">Edit</a>')
        note.setTextFormat(Qt.TextFormat.RichText)
        palette = note.palette()
        palette.setColor(QPalette.ColorRole.WindowText, dim_colour(self.palette()))
        note.setPalette(palette)
        font = note.font()
        font.setPointSizeF(font.pointSizeF() * 0.88)
        note.setFont(font)
        note.linkActivated.connect(lambda _href: self.edit_caption())
        self.layout_.addWidget(note)
        self.texts["caption_by"] = by

    def edit_caption(self) -> QPlainTextEdit | None:
        """Turn the caption into a text box with Save and Cancel (Ctrl+Return saves)."""
        info = self.info
        if info is None:
            return None
        if self.caption_editor is not None:
            self.caption_editor.setFocus()
            return self.caption_editor
        caption = info.caption
        editor = QPlainTextEdit(caption.summary if caption is not None else "")
        editor.setPlaceholderText("What is in this photo? Search finds these words.")
        editor.setFixedHeight(110)
        editor.setTabChangesFocus(True)
        photo_id = info.id

        def save() -> None:
            self.caption_edited.emit(photo_id, editor.toPlainText().strip())

        save_button = QPushButton("Save")
        save_button.setDefault(True)
        save_button.clicked.connect(save)
        cancel_button = QPushButton("Cancel")
        cancel_button.clicked.connect(self._rebuild)
        shortcut = QShortcut(QKeySequence("Ctrl+Return"), editor)
        shortcut.activated.connect(save)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), editor)
        escape.setContext(Qt.ShortcutContext.WidgetShortcut)
        escape.activated.connect(self._rebuild)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 4, 0, 0)
        buttons.addStretch(1)
        buttons.addWidget(cancel_button)
        buttons.addWidget(save_button)
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        heading = QLabel("CAPTION")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 0.78)
        font.setWeight(QFont.Weight.DemiBold)
        heading.setFont(font)
        box.addWidget(heading)
        box.addWidget(editor)
        box.addLayout(buttons)
        # The editor takes the place of the caption (or of the "Add a caption" link).
        first, last = self._caption_span
        for i in range(first, last):
            item = self.layout_.itemAt(i)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
        self.layout_.insertWidget(last, holder)
        holder.show()
        self.caption_editor = editor
        editor.setFocus()
        return editor

    def _link(self, href: str) -> None:
        if href.startswith("person:"):
            self.person_chosen.emit(int(href.split(":", 1)[1]))

    def _show_in_folder(self) -> None:
        if self.info is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.info.path).parent)))


def link_colour(palette: QPalette) -> QColor:
    """The palette's link colour, lightened where it would be dark on a dark panel."""
    link = palette.color(QPalette.ColorRole.Link)
    if palette.color(QPalette.ColorRole.Window).lightness() < 128 and link.lightness() < 150:
        link = palette.color(QPalette.ColorRole.Highlight).lighter(140)
    return link


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


