"""The Viewer widget: one photo large, next and previous along the window's list, the
canvas and the info panel, the faces' menu.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QSize,
    QSizeF,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QCursor,
    QFont,
    QImage,
    QKeyEvent,
    QPalette,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import Photo, PhotoFace
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.photo_model import PhotoIdRole, turned
from glimpse_desktop.gui.tasks import Tasks, describe
from glimpse_desktop.gui.viewer.canvas import Canvas, PhotoNotice
from glimpse_desktop.gui.viewer.faces import NamePopup, named_text
from glimpse_desktop.gui.viewer.info import InfoPanel
from glimpse_desktop.gui.viewer.judge_bar import JudgeBar
from glimpse_desktop.gui.viewer.parts import (
    READ_AHEAD,
    ZOOM_STEP,
    Entry,
    alive,
    dim_colour,
    face_label,
    line_icon,
    read_entry,
    read_full,
    read_photo,
    read_preview,
)
from glimpse_desktop.gui.widgets import ElidedLabel

# ---------------------------------------------------------------------------------- viewer

class Viewer(QWidget):
    """One photo large, with next/previous along a list model of the window.

    ``open(model, row)`` shows the photo at ``row`` of any list model whose items carry
    ``PhotoIdRole``. Esc or Back emits ``closed``; ``current_row()`` is the row shown last,
    for the grid to select."""

    closed = Signal()
    person_chosen = Signal(int)
    find_similar = Signal(int)
    photo_changed = Signal(int)          # photo id now shown
    metadata_changed = Signal(int)       # photo id whose caption or face names changed
    photo_menu = Signal(int, str, QPoint)  # photo id, its path, where (global): a right-click

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.tasks = tasks
        self._model: QAbstractItemModel | None = None
        self._index = QPersistentModelIndex()
        self._last_row = -1
        self._photo_id: int | None = None
        self._info: Photo | None = None
        self._preview: QImage | None = None
        self._full: QImage | None = None
        self._full_state = "idle"       # idle, loading, done, failed
        self._preview_hash: str | None = None
        self._preview_loading = False
        self._canvas_photo: int | None = None    # the photo the canvas's view was set for
        # The preview turned as the person turned the photo: (preview, turns, turned image),
        # made once per turn, never per paint.
        self._turned: tuple[QImage, int, QImage] | None = None
        self._full_turns = 0     # the turns the full-resolution image was read with
        self.name_popup: NamePopup | None = None
        self._faces: list[PhotoFace] = []
        self._names: list[str] = []
        self._cache: OrderedDict[int, Entry] = OrderedDict()
        self._pending: set[int] = set()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.canvas = Canvas(self)
        self.canvas.zoom_changed.connect(self._zoom_changed)
        self.canvas.face_clicked.connect(self._face_clicked)
        self.canvas.toggled_zoom.connect(self.toggle_zoom)
        self.notice = PhotoNotice(self.canvas)
        self.panel = InfoPanel(self)
        self.panel.person_chosen.connect(self.person_chosen)
        self.panel.find_similar.connect(self.find_similar)
        self.panel.caption_edited.connect(self.save_caption)

        self.bar = QWidget(self)
        self.bar.setObjectName("viewerBar")
        bar = QHBoxLayout(self.bar)
        bar.setContentsMargins(8, 6, 10, 6)
        bar.setSpacing(2)
        self.back_button = self._tool("back", "Back to the photos (Esc)", self.close_viewer)
        self.back_button.setText("Back")
        self.back_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.title = ElidedLabel(tooltip_over=None)
        font = self.title.font()
        font.setWeight(QFont.Weight.DemiBold)
        self.title.setFont(font)
        self.position = QLabel()
        self.prev_button = self._tool("left", "Previous photo (←)", self.previous)
        self.next_button = self._tool("right", "Next photo (→)", self.next)
        self.zoom_out_button = self._tool("minus", "Zoom out (−)", lambda: self.zoom_by(
            1 / ZOOM_STEP))
        self.zoom_label = QToolButton()
        self.zoom_label.setAutoRaise(True)
        self.zoom_label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.zoom_label.setToolTip("Fit (Ctrl+0) or 100 % (Ctrl+1); Enter switches")
        self.zoom_label.setMinimumWidth(52)
        self.zoom_label.clicked.connect(self.toggle_zoom)
        self.zoom_in_button = self._tool("plus", "Zoom in (+)", lambda: self.zoom_by(ZOOM_STEP))
        self.faces_button = self._tool("faces", "Show faces (Shift+F)", self.toggle_faces)
        self.faces_button.setCheckable(True)
        self.faces_button.setChecked(True)
        self.info_button = self._tool("info", "Show details (I)", self.toggle_panel)
        self.info_button.setCheckable(True)
        self.info_button.setChecked(True)
        bar.addWidget(self.back_button)
        bar.addSpacing(10)
        bar.addWidget(self.title, 1)
        bar.addSpacing(8)
        bar.addWidget(self.position)
        bar.addSpacing(12)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        bar.addSpacing(14)
        # Favourite, stars, reject, rotate: the window does them (gui/judge_actions.py).
        self.judge_bar = JudgeBar(self.bar)
        bar.addWidget(self.judge_bar)
        bar.addSpacing(14)
        bar.addWidget(self.zoom_out_button)
        bar.addWidget(self.zoom_label)
        bar.addWidget(self.zoom_in_button)
        bar.addSpacing(14)
        bar.addWidget(self.faces_button)
        bar.addWidget(self.info_button)
        # The bar never sets the window's least width (it made the window wider than 800 px):
        # when narrow, the zoom buttons go (the wheel, + and − still zoom), see _fit_bar.
        self.bar.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._zoom_tools = (self.zoom_out_button, self.zoom_label, self.zoom_in_button)

        # Big arrows on the photo's sides, as in every photo app.
        self.side_prev = self._side("left", "Previous photo", self.previous)
        self.side_next = self._side("right", "Next photo", self.next)
        # The arrows sit on the photo area's edges: placed again whenever it changes size
        # (the info panel shown or hidden changes it without resizing the viewer).
        self.canvas.installEventFilter(self)

        self._rule = QFrame(self)
        self._rule.setFrameShape(QFrame.Shape.HLine)
        self._rule.setFrameShadow(QFrame.Shadow.Plain)
        self._vrule = QFrame(self)
        self._vrule.setFrameShape(QFrame.Shape.VLine)
        self._vrule.setFrameShadow(QFrame.Shadow.Plain)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.canvas, 1)
        body.addWidget(self._vrule)
        body.addWidget(self.panel)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.bar)
        outer.addWidget(self._rule)
        outer.addLayout(body, 1)
        self._restyle()
        self._update_controls()

    # ------------------------------------------------------------------ building

    def _tool(self, icon: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton()
        button.setProperty("glyph", icon)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip(tip)
        button.setIconSize(QSize(20, 20))
        button.clicked.connect(slot)
        return button

    def _side(self, icon: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton(self.canvas)
        button.setIcon(line_icon(icon, QColor(255, 255, 255), 24))
        button.setIconSize(QSize(24, 24))
        button.setFixedSize(44, 44)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip(tip)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setStyleSheet("QToolButton { background: rgba(0, 0, 0, 95); border: none;"
                             " border-radius: 22px; }"
                             "QToolButton:hover { background: rgba(0, 0, 0, 165); }"
                             "QToolButton:pressed { background: rgba(0, 0, 0, 200); }")
        button.clicked.connect(slot)
        return button

    def _restyle(self) -> None:
        palette = self.palette()
        colour = palette.color(QPalette.ColorRole.ButtonText)
        for button in self.bar.findChildren(QToolButton):
            glyph = button.property("glyph")
            if glyph:
                button.setIcon(line_icon(str(glyph), colour))
        position = self.position.palette()
        position.setColor(QPalette.ColorRole.WindowText, dim_colour(palette))
        self.position.setPalette(position)
        line = QPalette(palette)
        line.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.Mid))
        self._rule.setPalette(line)
        self._vrule.setPalette(line)

    def changeEvent(self, event: Any) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._restyle()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_side_buttons()
        self._fit_bar()

    def _fit_bar(self) -> None:
        layout = self.bar.layout()
        if layout is None:
            return
        layout.invalidate()
        shown = not self.zoom_out_button.isHidden()
        zoom = sum(w.sizeHint().width() for w in self._zoom_tools) + 2 * layout.spacing()
        need = layout.minimumSize().width() + (0 if shown else zoom)
        fits = need <= self.width()
        if fits != shown:
            for w in self._zoom_tools:
                w.setVisible(fits)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._place_side_buttons()
        self.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self._place_side_buttons()
        return super().eventFilter(watched, event)

    def _place_side_buttons(self) -> None:
        h = self.canvas.height()
        y = (h - 44) // 2
        self.side_prev.move(16, y)
        self.side_next.move(self.canvas.width() - 44 - 16, y)

    # ------------------------------------------------------------------ navigation

    def open(self, model: QAbstractItemModel, row: int) -> None:
        """Show the photo at ``row`` of ``model``; next/previous move along it."""
        if model is not self._model:
            if self._model is not None:
                for signal in (self._model.rowsRemoved, self._model.modelReset,
                               self._model.rowsInserted):
                    try:
                        signal.disconnect(self._rows_changed)
                    except (RuntimeError, TypeError):
                        pass
            self._model = model
            self._cache.clear()
            model.rowsRemoved.connect(self._rows_changed)
            model.modelReset.connect(self._rows_changed)
            model.rowsInserted.connect(self._rows_changed)
        # Opening the photo shown last time reads it again: a caption, a name or a new
        # version of the file may have arrived while the viewer was closed.
        self._photo_id = None
        self._show_row(row)
        self.setFocus()

    def current_row(self) -> int:
        """The row of the model shown last (what the grid selects on return)."""
        return self._index.row() if self._index.isValid() else self._last_row

    def current_photo(self) -> int | None:
        return self._photo_id

    def next(self) -> None:
        self._step(1)

    def previous(self) -> None:
        self._step(-1)

    def close_viewer(self) -> None:
        self.closed.emit()

    def _step(self, delta: int) -> None:
        if self._model is None:
            return
        row = self.current_row() + delta
        self._fetch_if_near_end(row)
        if 0 <= row < self._model.rowCount():
            self._show_row(row)

    def _fetch_if_near_end(self, row: int) -> None:
        model = self._model
        if model is not None and row >= model.rowCount() - 2 and model.canFetchMore(
                QModelIndex()):
            model.fetchMore(QModelIndex())

    def _photo_at(self, row: int) -> int | None:
        if self._model is None or not 0 <= row < self._model.rowCount():
            return None
        value = self._model.index(row, 0).data(PhotoIdRole)
        return None if value is None else int(value)

    def _rows_changed(self, *args: object) -> None:
        if self._model is None:
            return
        if not self._index.isValid():
            # The photo shown left the list (forgotten, filtered out): show its neighbour.
            rows = self._model.rowCount()
            if rows == 0:
                self.closed.emit()
                return
            self._show_row(min(max(self._last_row, 0), rows - 1))
            return
        self._last_row = self._index.row()
        self._update_controls()

    def _show_row(self, row: int) -> None:
        assert self._model is not None
        photo_id = self._photo_at(row)
        if photo_id is None:
            return
        self._index = QPersistentModelIndex(self._model.index(row, 0))
        self._last_row = row
        self._fetch_if_near_end(row)
        if photo_id == self._photo_id:
            self._update_controls()
            return
        self._photo_id = photo_id
        self._full, self._full_state = None, "idle"
        self._preview_hash, self._preview_loading = None, False
        self._faces = []
        self.notice.hide()
        entry = self._cache.get(photo_id)
        if entry is not None:
            self._cache.move_to_end(photo_id)
            self._info = entry.info
            self._show_entry(entry)
        else:
            self._info, self._preview = None, None
            self.canvas.clear()
            self.canvas.loading = True
            self.panel.show_info(None)
        self.panel.show_faces(None)
        self._update_controls()
        # Always read again: the cached details may be older than a rename or a new caption.
        self.tasks.run(lambda: read_photo(self.lib, photo_id),
                       done=lambda info: self._info_ready(photo_id, info),
                       failed=lambda exc: self._failed(photo_id, exc), read=True)
        self._load_faces(photo_id)
        self.photo_changed.emit(photo_id)

    def _show_entry(self, entry: Entry, *, panel: bool = True) -> None:
        self._preview = entry.preview
        self._preview_hash = entry.info.content_hash if entry.preview is not None else None
        if panel:
            self.panel.show_info(entry.info)
        self._show_image()
        self._note_status(entry)
        self._read_ahead()

    def reload_current(self) -> None:
        """Read the photo shown again (the person judged or turned it): its details, its
        stars and heart, and the picture turned as it is now."""
        photo_id = self._photo_id
        if photo_id is None:
            return
        self.tasks.run(lambda: read_photo(self.lib, photo_id),
                       done=lambda info: self._info_ready(photo_id, info),
                       failed=lambda exc: self._failed(photo_id, exc), read=True)

    def _info_ready(self, photo_id: int, info: Photo) -> None:
        if not alive(self) or photo_id != self._photo_id:
            return
        turned_now = self._info is not None and self._info.id == info.id and \
            self._info.rotation != info.rotation
        self._info = info
        self.panel.show_info(info)
        self._update_controls()
        if turned_now:
            if self._full is not None or self._full_state == "loading":
                self._full, self._full_state = None, "idle"   # read again, turned
            self._canvas_photo = None                          # fit the new shape
            self._show_image()
        if self._preview_hash == info.content_hash or self._preview_loading:
            return
        # No preview yet, or the one read ahead is of older content (the file was edited).
        self._preview_loading = True
        self.tasks.run(lambda: self._unless_moved_on(
                           photo_id, lambda: Entry(info, read_preview(self.lib, info))),
                       done=lambda entry: self._preview_ready(photo_id, entry),
                       failed=lambda exc: self._preview_failed(photo_id, info, exc),
                       read=True)

    def _unless_moved_on(self, photo_id: int, work: Callable[[], Any]) -> Any:
        """In a worker: skip a decode for a photo the person has already stepped past
        (holding the arrow key queues one per photo)."""
        if photo_id != self._photo_id:
            return None
        return work()

    def _preview_ready(self, photo_id: int, entry: Entry | None) -> None:
        if not alive(self) or entry is None:
            return
        if photo_id == self._photo_id and self._info is not None \
                and self._info.id == photo_id:
            # The details may have been read again while the preview was decoded (a caption
            # saved, a name given): keep the newer ones.
            entry.info = self._info
        self._remember(photo_id, entry)
        if photo_id != self._photo_id:
            return
        self._preview_loading = False
        # The panel already shows these details (and may hold a caption being typed).
        self._show_entry(entry, panel=self.panel.info is not entry.info)

    def _preview_failed(self, photo_id: int, info: Photo, exc: BaseException) -> None:
        if not alive(self):
            return
        entry = Entry(info, None, describe(exc))
        if photo_id == self._photo_id:
            self._preview_loading = False
            self.canvas.loading = False
            self._show_entry(entry)

    def _remember(self, photo_id: int, entry: Entry) -> None:
        self._cache[photo_id] = entry
        self._cache.move_to_end(photo_id)
        while len(self._cache) > READ_AHEAD:
            self._cache.popitem(last=False)

    def _read_ahead(self) -> None:
        """The next photo's preview (then the previous one's), read while this one is seen."""
        row = self.current_row()
        for other in (row + 1, row - 1):
            photo_id = self._photo_at(other)
            if photo_id is None or photo_id in self._cache or photo_id in self._pending:
                continue
            self._pending.add(photo_id)
            self._read_ahead_one(photo_id)

    def _read_ahead_one(self, photo_id: int) -> None:
        def failed(exc: BaseException) -> None:
            if alive(self):
                self._pending.discard(photo_id)   # shown with its error if it is opened

        self.tasks.run(lambda: read_entry(self.lib, photo_id),
                       done=lambda entry: self._read_ahead_done(photo_id, entry),
                       failed=failed, read=True)

    def _read_ahead_done(self, photo_id: int, entry: Entry) -> None:
        if not alive(self):
            return
        self._pending.discard(photo_id)
        if entry.preview is not None:
            self._remember(photo_id, entry)
            if photo_id == self._photo_id and self._preview is None:
                self._show_entry(entry)

    def _note_status(self, entry: Entry) -> None:
        status = entry.info.status
        if entry.preview is None:
            self.canvas.loading = False
            self.canvas.viewport().update()
            self.notice.show_message(f"This photo cannot be shown: {entry.problem}", "error")
        elif status == "offline":
            self.notice.show_message("The original is on a drive that is not connected: "
                                     "showing the preview.")
        elif status == "missing":
            self.notice.show_message("The original file is missing from its folder: "
                                     "showing the preview.")

    def _failed(self, photo_id: int, exc: BaseException) -> None:
        if alive(self) and photo_id == self._photo_id:
            self.canvas.loading = False
            self.canvas.viewport().update()
            self.notice.show_message(describe(exc), "error")

    # ------------------------------------------------------------------ image and zoom

    def _turns(self) -> int:
        return self._info.rotation if self._info is not None else 0

    def _shown_preview(self) -> QImage | None:
        """The preview as the person turned the photo (turned once, then kept)."""
        preview, turns = self._preview, self._turns()
        if preview is None or not turns:
            return preview
        if self._turned is None or self._turned[0] is not preview or self._turned[1] != turns:
            self._turned = (preview, turns, turned(preview, turns))
        return self._turned[2]

    def _logical_size(self) -> QSizeF:
        """The original's upright size in pixels, turned as the person turned it: the
        scene's units."""
        preview = self._shown_preview()
        w, h = (self._info.width, self._info.height) if self._info else (None, None)
        if self._turns() % 2:
            w, h = h, w
        if preview is None or preview.isNull():
            return QSizeF(float(w or 1), float(h or 1))
        if not w or not h:
            return QSizeF(preview.size())
        if abs(w / h - preview.width() / preview.height()) > 0.02:
            # Details and pixels disagree (the file changed): the pixels' shape wins.
            return QSizeF(float(max(w, h)) * preview.width() / max(preview.size().width(),
                                                                     preview.size().height()),
                          float(max(w, h)) * preview.height() / max(preview.size().width(),
                                                                      preview.size().height()))
        return QSizeF(float(w), float(h))

    def _show_image(self) -> None:
        full = self._full if self._full_turns == self._turns() else None
        images = [i for i in (self._shown_preview(), full) if i is not None]
        self.canvas.loading = not images
        self.canvas.set_images(self._logical_size(), images,
                               keep_view=self._canvas_photo == self._photo_id)
        self._canvas_photo = self._photo_id if images else None
        self.canvas.set_faces(self._faces, self._turns())
        self._update_zoom_label()
        self._maybe_load_full()

    def _zoom_changed(self) -> None:
        self._update_zoom_label()
        self._maybe_load_full()

    def _maybe_load_full(self) -> None:
        """Past the preview's pixels, the original at full resolution (once per photo)."""
        if (self._full_state != "idle" or self._preview is None or self._info is None
                or self._photo_id is None):
            return
        size = self.canvas.logical_size()
        needed = size.width() * self.canvas.zoom() * self.devicePixelRatioF()
        if needed <= self._preview.width() * 1.02 or size.width() <= self._preview.width():
            return
        if self._info.status != "ok":
            return      # offline or missing: the preview is all there is (the note says so)
        photo_id = self._photo_id
        self._full_state = "loading"
        self._full_turns = self._turns()     # lib.full_image turns it as the photo is now
        self.tasks.run(lambda: self._unless_moved_on(photo_id,
                                                     lambda: read_full(self.lib, photo_id)),
                       done=lambda image: self._full_ready(photo_id, image),
                       failed=lambda exc: self._full_failed(photo_id, exc), read=True)

    def _full_ready(self, photo_id: int, image: QImage | None) -> None:
        if not alive(self) or photo_id != self._photo_id or image is None:
            return
        self._full, self._full_state = image, "done"
        if self._full_turns != self._turns():    # turned while it was read: read again
            self._full, self._full_state = None, "idle"
            self._maybe_load_full()
            return
        # Same scene size: the view keeps its zoom and centre, only the pixels get sharper.
        self.canvas.set_images(self.canvas.logical_size(),
                               [i for i in (self._shown_preview(), image) if i is not None],
                               keep_view=True)

    def _full_failed(self, photo_id: int, exc: BaseException) -> None:
        if not alive(self) or photo_id != self._photo_id:
            return
        self._full_state = "failed"
        self.notice.show_message(f"Full resolution is not available: {describe(exc)}",
                                 "error")

    def shown_image_size(self) -> QSize:
        """The pixel size of the image drawn at the current zoom (the preview, or the
        original once zoom needs it and it is loaded)."""
        image = self.canvas.image.choose(self.canvas.zoom() * self.devicePixelRatioF())
        return image.size() if image is not None else QSize()

    def full_resolution_loaded(self) -> bool:
        return self._full is not None

    def zoom(self) -> float:
        return self.canvas.zoom()

    def zoom_by(self, factor: float) -> None:
        self.canvas.zoom_by(factor)

    def zoom_to(self, zoom: float) -> None:
        """1.0 is 100 % (one original pixel per screen pixel)."""
        self.canvas.zoom_to(zoom)

    def fit(self) -> None:
        self.canvas.fit()

    def toggle_zoom(self) -> None:
        """Fit <-> 100 % (200 % for a photo that fits at 100 % already)."""
        if self.canvas.is_fit():
            self.canvas.zoom_to(1.0 if self.canvas.fit_zoom() < 0.999 else 2.0)
        else:
            self.canvas.fit()

    def _update_zoom_label(self) -> None:
        self.zoom_label.setText("Fit" if self.canvas.is_fit()
                                else f"{self.canvas.zoom() * 100:.0f} %")

    # ------------------------------------------------------------------ faces

    def _load_faces(self, photo_id: int) -> None:
        self.tasks.run(lambda: self.lib.people.photo_faces(photo_id),
                       done=lambda faces: self._faces_ready(photo_id, faces),
                       failed=lambda exc: self._failed(photo_id, exc), read=True)

    def _faces_ready(self, photo_id: int, faces: list[PhotoFace]) -> None:
        if not alive(self) or photo_id != self._photo_id:
            return
        # Ignored faces (strangers) are not drawn: the person asked not to see them again.
        faces = [f for f in faces if not f.ignored]
        self._faces = faces
        self.canvas.set_faces(faces, self._turns())
        self.panel.show_faces(faces)
        self._update_controls()

    def shown_faces(self) -> list[dict[str, Any]]:
        """The face boxes drawn now: face id, label text, rectangle in canvas coordinates."""
        out = []
        for box in self.canvas.boxes:
            rect = self.canvas.mapFromScene(box.rect).boundingRect()
            out.append({"face": box.face.face, "person": box.face.person,
                        "label": box.label.text, "rect": rect, "visible": box.isVisible()})
        return out

    def toggle_faces(self) -> None:
        visible = not self.canvas.faces_visible
        self.canvas.show_faces(visible)
        self.faces_button.setChecked(visible)
        self.faces_button.setToolTip(("Hide" if visible else "Show") + " faces (Shift+F)")

    def _face(self, face_id: int) -> PhotoFace | None:
        return next((f for f in self._faces if f.face == face_id), None)

    def _face_clicked(self, face_id: int, where: QPoint) -> None:
        menu = self.face_menu(face_id)
        if menu is not None:
            menu.popup(where)

    def face_menu(self, face_id: int) -> QMenu | None:
        """What a click on a face offers (the menu is built, not shown)."""
        face = self._face(face_id)
        if face is None:
            return None
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        name, person = face.name, face.person
        title = menu.addAction(face_label(face) if person is not None else "Unknown face")
        title.setEnabled(False)
        menu.addSeparator()
        box = next((b for b in self.canvas.boxes if b.face.face == face_id), None)
        where = (self.canvas.viewport().mapToGlobal(
            self.canvas.mapFromScene(box.rect.bottomLeft()) + QPoint(0, 28))
            if box is not None else None)
        menu.addAction("Name…" if not name else "Someone else…",
                       lambda: self.ask_name(face_id, where))
        if person is not None:
            menu.addAction(f"Not {name}" if name else "Not this person",
                           lambda: self.reject_face(face_id))
            menu.addSeparator()
            menu.addAction(f"Show all photos of {name}" if name
                           else "Show all photos of this person",
                           lambda: self.person_chosen.emit(person))
        menu.addSeparator()
        ignore = menu.addAction("Ignore this face", lambda: self.ignore_face(face_id))
        ignore.setToolTip("A stranger: never grouped or shown again (People › Ignored faces "
                          "takes it back)")
        return menu

    def ask_name(self, face_id: int, where: QPoint | None = None) -> NamePopup:
        """The "Name…" popup; names come from the library in the background."""
        face = self._face(face_id)
        popup = NamePopup(self._names, (face.name if face else None) or "", self)
        popup.chosen.connect(lambda name: self.name_face(face_id, name))
        popup.adjustSize()
        popup.move(where if where is not None else QCursor.pos())
        popup.show()
        popup.line.setFocus()
        self.name_popup = popup
        self.tasks.run(lambda: [p.name for p in self.lib.people.list_people(
                           include_hidden=True) if p.name],
                       done=lambda names: self._names_ready(popup, names), read=True)
        return popup

    def _names_ready(self, popup: NamePopup, names: list[str]) -> None:
        if not alive(self):
            return
        self._names = names
        if alive(popup):
            completer = QCompleter(sorted(names, key=str.casefold), popup)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            popup.line.setCompleter(completer)

    def name_face(self, face_id: int, name: str) -> None:
        """Name a face: an existing name takes the face, an unnamed person takes the name,
        otherwise a new person starts with this face (``People.name_face``)."""
        photo_id = self._photo_id
        self.tasks.run(lambda: self.lib.people.name_face(face_id, name),
                       done=lambda result: self._acted(photo_id, named_text(result)),
                       failed=lambda exc: self._action_failed(photo_id, exc))

    def reject_face(self, face_id: int) -> None:
        """"Not this person": the face leaves its person for good."""
        face = self._face(face_id)
        person = face.person if face else None
        photo_id = self._photo_id
        who = face_label(face) if face and face.name else "this person"
        self.tasks.run(lambda: self.lib.people.reject([face_id], person),
                       done=lambda result: self._acted(photo_id, f"Noted: not {who}."),
                       failed=lambda exc: self._action_failed(photo_id, exc))

    def ignore_face(self, face_id: int) -> None:
        """"Ignore this face": a stranger in the background, out of every person and view."""
        photo_id = self._photo_id
        self.tasks.run(lambda: self.lib.people.ignore_faces([face_id]),
                       done=lambda _result: self._acted(
                           photo_id, "Face ignored (People › Ignored faces takes it back)."),
                       failed=lambda exc: self._action_failed(photo_id, exc))

    def save_caption(self, photo_id: int, text: str) -> None:
        """Keep the person's caption (an empty one removes it); search finds its words, and a
        captioning run never replaces it."""

        def saved(_result: object) -> None:
            if not alive(self) or photo_id != self._photo_id:
                return
            self.notice.show_message("Caption saved." if text else "Caption removed.",
                                     "done", timeout_ms=2500)
            self.metadata_changed.emit(photo_id)
            self.tasks.run(lambda: read_photo(self.lib, photo_id),
                           done=lambda info: self._info_ready(photo_id, info),
                           failed=lambda exc: self._failed(photo_id, exc), read=True)

        self.tasks.run(lambda: self.lib.captions.set_text(photo_id, text), done=saved,
                       failed=lambda exc: self._action_failed(photo_id, exc))

    def _acted(self, photo_id: int | None, message: str) -> None:
        if not alive(self) or photo_id != self._photo_id or photo_id is None:
            return
        self.notice.show_message(message, "done", timeout_ms=3500)
        self._load_faces(photo_id)
        self.metadata_changed.emit(photo_id)

    def _action_failed(self, photo_id: int | None, exc: BaseException) -> None:
        if not alive(self):
            return
        self.notice.show_message(describe(exc), "error")
        if photo_id is not None and photo_id == self._photo_id:
            self._load_faces(photo_id)

    # ------------------------------------------------------------------ panel, keys

    def toggle_panel(self) -> None:
        visible = not self.panel.isVisible()
        self.panel.setVisible(visible)
        self._vrule.setVisible(visible)
        self.info_button.setChecked(visible)
        self.info_button.setToolTip(("Hide" if visible else "Show") + " details (I)")

    def _update_controls(self) -> None:
        model, row = self._model, self.current_row()
        rows = model.rowCount() if model is not None else 0
        more = model is not None and model.canFetchMore(QModelIndex())
        has_prev, has_next = row > 0, row + 1 < rows or more
        self.prev_button.setEnabled(has_prev)
        self.next_button.setEnabled(has_next)
        self.side_prev.setVisible(has_prev)
        self.side_next.setVisible(has_next)
        name = Path(self._info.path).name if self._info else ""
        self.title.setText(name)
        self.title.setToolTip(self._info.path if self._info else "")
        self.position.setText(f"{row + 1:,} of {rows:,}{'+' if more else ''}"
                              if rows and row >= 0 else "")
        info = self._info
        self.judge_bar.setEnabled(info is not None)
        self.judge_bar.show_state(bool(info and info.favorite),
                                  max(0, int(info.rating or 0)) if info else 0,
                                  bool(info and info.rejected))
        self._update_zoom_label()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """A right-click on the photo (not on a face, which has its own menu): the window's
        photo menu for the photo shown."""
        photo_id = self.current_photo()
        if photo_id is None:
            return
        self.photo_menu.emit(photo_id, self._info.path if self._info else "",
                             event.globalPos())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        K = Qt.Key
        if key == K.Key_Escape:
            self.close_viewer()
        elif key in (K.Key_Right, K.Key_Space, K.Key_PageDown):
            self.next()
        elif key in (K.Key_Left, K.Key_Backspace, K.Key_PageUp):
            self.previous()
        elif key in (K.Key_Plus, K.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif key in (K.Key_Minus, K.Key_Underscore):
            self.zoom_by(1 / ZOOM_STEP)
        # Ctrl+0 and Ctrl+1 (as in Lightroom): 0-5 alone give stars (gui/judge_actions.py).
        elif key == K.Key_0 and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.fit()
        elif key == K.Key_1 and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_to(1.0)
        elif key in (K.Key_Return, K.Key_Enter):
            self.toggle_zoom()
        elif key == K.Key_F and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.toggle_faces()     # F alone: favourite
        elif key == K.Key_I:
            self.toggle_panel()
        elif key == K.Key_Home and self._model is not None and self._model.rowCount():
            self._show_row(0)
        else:
            super().keyPressEvent(event)
            return
        event.accept()


