"""The slideshow: any view's photos one after another, full screen, with a gentle cross-fade.

What it shows is what the window shows: the selection when more than one photo is chosen,
else the current grid (the library, a search, an album, a memory, a person's photos, a
folder, a place) from its current photo, or the viewer's list from the photo on screen. It
walks the grid's own model a row at a time and asks it for the next page near the end, so
a library of a million photos is shown without reading a million ids first.

Keys: Space pause/resume, ←/→ previous/next, +/− the interval (remembered), F11 window or
full screen, Esc back to where the show started (the same view and photo). Photos are
decoded at screen size a few ahead, off the GUI thread (``window.tasks``); one that cannot
be read is passed over. Videos are not shown yet (issue 20).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractItemModel,
    QEasingCurve,
    QModelIndex,
    QRectF,
    QSize,
    Qt,
    QTimer,
    QVariantAnimation,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from glimpse_desktop.api import LibraryError
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.photo_model import PhotoIdRole, StatusRole
from glimpse_desktop.gui.settings import app_settings
from glimpse_desktop.gui.tasks import Tasks, describe

__all__ = ["INTERVALS", "IdsSource", "ModelSource", "Slideshow", "start_slideshow",
           "window_actions"]

# The interval steps +/− walk through, in seconds; the chosen one is remembered.
INTERVALS = (1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 60.0)
DEFAULT_INTERVAL = 4.0
SETTING = "slideshow/interval"
FADE_MS = 700
AHEAD = 3          # photos decoded ahead of the one on screen
KEEP = 6           # decoded photos kept (those ahead, the one shown, one or two behind)
WAIT_MS = 150      # how soon to look again for a page the model is still reading
SKIP_LIMIT = 50    # unreadable photos passed over in a row before the show says so


class Source(Protocol):
    """Where the photos come from: the photo after or before one, the first to show."""

    def first(self) -> int | None: ...

    def step(self, photo_id: int, delta: int) -> int | None:
        """The photo ``delta`` (+1 or −1) from ``photo_id``; None while a page is being
        read (ask again soon)."""
        ...


class IdsSource:
    """A fixed list of photos (the selection), in order, starting at ``start``."""

    def __init__(self, ids: Sequence[int], start: int = 0) -> None:
        self.ids = list(dict.fromkeys(ids))
        self.start = min(max(0, start), max(0, len(self.ids) - 1))
        self._at = {pid: n for n, pid in enumerate(self.ids)}

    def first(self) -> int | None:
        return self.ids[self.start] if self.ids else None

    def step(self, photo_id: int, delta: int) -> int | None:
        if not self.ids:
            return None
        n = self._at.get(photo_id, 0)
        return self.ids[(n + delta) % len(self.ids)]


class ModelSource:
    """A grid's model, walked a row at a time from ``row``; near its end the model reads
    its next page (``fetchMore``), and past the end of everything the show starts over.
    Rows are found again by photo id, so photos arriving meanwhile do not throw it off."""

    def __init__(self, model: QAbstractItemModel, row: int = 0) -> None:
        self.model = model
        self.row = max(0, row)

    def _id(self, row: int) -> int | None:
        value = self.model.data(self.model.index(row, 0), PhotoIdRole)
        return None if value is None else int(value)

    def _showable(self, row: int) -> bool:
        status = self.model.data(self.model.index(row, 0), StatusRole)
        return status in (None, "ok")

    def first(self) -> int | None:
        count = self.model.rowCount()
        if count == 0 and self.model.canFetchMore(QModelIndex()):
            self.model.fetchMore(QModelIndex())
            count = self.model.rowCount()
        if count == 0:
            return None
        return self._id(min(self.row, count - 1))

    def _row_of(self, photo_id: int) -> int | None:
        row_of = getattr(self.model, "row_of", None)
        if callable(row_of):
            found = row_of(photo_id)
            return None if found is None else int(found)
        for row in range(self.model.rowCount()):
            if self._id(row) == photo_id:
                return row
        return None

    def step(self, photo_id: int, delta: int) -> int | None:
        count = self.model.rowCount()
        if count == 0:
            return None
        row = self._row_of(photo_id)
        if row is None:
            row = min(self.row, count - 1)
        self.row = row
        for _ in range(min(count, SKIP_LIMIT)):
            row += delta
            if row >= count - AHEAD and self.model.canFetchMore(QModelIndex()):
                self.model.fetchMore(QModelIndex())
                count = self.model.rowCount()
            if row >= count:
                if self.model.canFetchMore(QModelIndex()):
                    return None         # the next page is on its way
                row = 0
            elif row < 0:
                # Backwards past the first photo: the last one read so far, not every
                # page of the library.
                row = count - 1
            if self._showable(row):
                return self._id(row)
        return self._id(row % count)


def _read_image(lib: Library, photo_id: int, edge: int) -> QImage:
    """The photo at screen size, upright (off the GUI thread); its preview when the
    original cannot be read now."""
    try:
        pil = lib.full_image(photo_id, max_edge=edge)
    except LibraryError:
        from glimpse_desktop.gui.viewer.parts import read_photo, read_preview

        return read_preview(lib, read_photo(lib, photo_id))
    pil = pil.convert("RGB")
    data = pil.tobytes("raw", "RGB")
    image = QImage(data, pil.width, pil.height, pil.width * 3, QImage.Format.Format_RGB888)
    return image.convertToFormat(QImage.Format.Format_RGB32)


def interval_setting() -> float:
    try:
        value = float(app_settings().value(SETTING, DEFAULT_INTERVAL))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = DEFAULT_INTERVAL
    return value if 0 < value <= 600 else DEFAULT_INTERVAL


class Slideshow(QWidget):
    """The show itself: a black full-screen widget that paints the photo on screen over the
    one before it while the cross-fade runs; the controls appear when the mouse moves."""

    finished = Signal()
    shown = Signal(int)         # the photo now on screen

    def __init__(self, lib: Library, tasks: Tasks, source: Source, *,
                 read: Callable[[Library, int, int], QImage] = _read_image,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.lib, self.tasks, self.source = lib, tasks, source
        self._read = read
        self.setWindowTitle("Slideshow — Glimpse")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.interval = interval_setting()
        self.paused = False
        self.current: int | None = None
        self._previous: QImage | None = None
        self._image: QImage | None = None
        self._cache: OrderedDict[int, QImage] = OrderedDict()
        self._loading: set[int] = set()
        self._failed: set[int] = set()
        self._want: int | None = None      # the photo to show as soon as it is decoded
        self._skipped = 0
        self._fade = 1.0
        self._message = ""
        self._ended = False
        self.timer = QTimer(self, singleShot=True)
        self.timer.timeout.connect(self.next)
        self.animation = QVariantAnimation(self, startValue=0.0, endValue=1.0,
                                           duration=FADE_MS)
        self.animation.setEasingCurve(QEasingCurve.Type.InOutQuad)
        self.animation.valueChanged.connect(self._faded)
        # Timers of the widget's own: they die with it (a show ended mid-message).
        self._message_timer = QTimer(self, singleShot=True, interval=1500)
        self._message_timer.timeout.connect(self._clear_message)
        self._hide_controls = QTimer(self, singleShot=True, interval=2500)
        self._hide_controls.timeout.connect(self._controls_away)
        self._controls_made = False
        self._controls = self._build_controls()
        self._controls_made = True
        self._controls.hide()

    # ------------------------------------------------------------------ controls

    def _build_controls(self) -> QWidget:
        bar = QWidget(self)
        bar.setObjectName("slideshowControls")
        bar.setStyleSheet(
            "#slideshowControls { background: rgba(20, 20, 20, 200); border-radius: 10px; }"
            "QToolButton, QLabel { color: white; font-size: 14px; padding: 4px 8px; }"
            "QToolButton { border: none; } QToolButton:hover { background: #444; "
            "border-radius: 6px; }")
        row = QHBoxLayout(bar)
        row.setContentsMargins(10, 4, 10, 4)

        def button(text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
            b = QToolButton(bar)
            b.setText(text)
            b.setToolTip(tip)
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.clicked.connect(slot)
            row.addWidget(b)
            return b

        button("◀", "Previous (←)", self.previous)
        self.pause_button = button("❚❚", "Pause (Space)", self.toggle_pause)
        button("▶", "Next (→)", self.next)
        row.addSpacing(16)
        button("−", "Shorter interval (−)", lambda: self.change_interval(-1))
        self.interval_label = QLabel(bar)
        row.addWidget(self.interval_label)
        button("+", "Longer interval (+)", lambda: self.change_interval(+1))
        row.addSpacing(16)
        button("✕", "End the slideshow (Esc)", self._end)
        self._update_controls()
        return bar

    def _update_controls(self) -> None:
        self.pause_button.setText("▶ Play" if self.paused else "❚❚ Pause")
        self.pause_button.setToolTip("Play (Space)" if self.paused else "Pause (Space)")
        self.interval_label.setText(f"{self.interval:g} s")
        if self._controls_made:
            self._place_controls()

    def _place_controls(self) -> None:
        bar = self._controls
        bar.adjustSize()
        bar.move((self.width() - bar.width()) // 2, self.height() - bar.height() - 32)

    def _controls_away(self) -> None:
        self._controls.hide()
        self.setCursor(Qt.CursorShape.BlankCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.unsetCursor()
        self._place_controls()
        self._controls.show()
        self._controls.raise_()
        self._hide_controls.start()
        super().mouseMoveEvent(event)

    def resizeEvent(self, event: Any) -> None:
        self._place_controls()
        super().resizeEvent(event)

    # ------------------------------------------------------------------ running

    def edge(self) -> int:
        """The long edge photos are decoded at: the screen's, in device pixels."""
        screen = self.screen()
        size = screen.size() if screen is not None else QSize(1920, 1080)
        ratio = screen.devicePixelRatio() if screen is not None else 1.0
        return max(640, round(max(size.width(), size.height()) * ratio))

    def start(self, *, full_screen: bool = True) -> bool:
        """Show the first photo (as soon as it is decoded); False when there is none."""
        first = self.source.first()
        if first is None:
            return False
        if full_screen:
            self.showFullScreen()
        else:
            self.show()
        self.activateWindow()
        self.setFocus()
        self._go(first)
        return True

    def _go(self, photo_id: int) -> None:
        """Show ``photo_id`` now if it is decoded, else when it is; decode the next ones."""
        self.timer.stop()
        self._want = photo_id
        if photo_id in self._cache:
            self._show(photo_id)
        else:
            self._load(photo_id)

    def _load(self, photo_id: int) -> None:
        if photo_id in self._cache or photo_id in self._loading:
            return
        self._loading.add(photo_id)
        edge = self.edge()
        self.tasks.run(lambda: self._read(self.lib, photo_id, edge),
                       lambda image: self._loaded(photo_id, image),
                       lambda exc: self._not_loaded(photo_id, exc), read=True)

    def _loaded(self, photo_id: int, image: QImage) -> None:
        self._loading.discard(photo_id)
        if self._ended:
            return
        self._cache[photo_id] = image
        while len(self._cache) > KEEP:
            oldest = next(iter(self._cache))
            if oldest in (self.current, self._want):
                self._cache.move_to_end(oldest)
                if len(self._cache) <= KEEP + 2:
                    break
                continue
            self._cache.pop(oldest)
        if photo_id == self._want:
            self._show(photo_id)

    def _not_loaded(self, photo_id: int, exc: BaseException) -> None:
        self._loading.discard(photo_id)
        self._failed.add(photo_id)
        if self._ended or photo_id != self._want:
            return
        self._skipped += 1
        if self._skipped >= SKIP_LIMIT:
            self._say(f"These photos cannot be shown now: {describe(exc)}", sticky=True)
            return
        following = self.source.step(photo_id, +1)
        if following is not None and following != photo_id:
            self.current = photo_id
            self._go(following)

    def _show(self, photo_id: int) -> None:
        self._want = None
        self._skipped = 0
        self._previous = self._image
        self._image = self._cache[photo_id]
        self._cache.move_to_end(photo_id)
        self.current = photo_id
        self.animation.stop()
        if self._previous is None:
            self._fade = 1.0
            self.update()
        else:
            self._fade = 0.0
            self.animation.start()
        self.shown.emit(photo_id)
        self._preload(photo_id)
        if not self.paused:
            self.timer.start(self._interval_ms())

    def _preload(self, photo_id: int) -> None:
        at = photo_id
        for _ in range(AHEAD):
            ahead = self.source.step(at, +1)
            if ahead is None or ahead == photo_id:
                return
            if ahead not in self._failed:
                self._load(ahead)
            at = ahead

    def _interval_ms(self) -> int:
        return max(50, round(self.interval * 1000))

    def _faded(self, value: Any) -> None:
        self._fade = float(value)
        self.update()

    # ------------------------------------------------------------------ the person's keys

    def next(self) -> None:
        self._step(+1)

    def previous(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        if self.current is None:
            return
        following = self.source.step(self.current, delta)
        if following is None:       # a page is being read: look again in a moment
            self.timer.start(WAIT_MS)
            return
        self._go(following)

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self.timer.stop()
            self._say("Paused")
        else:
            self._say("Playing")
            self.timer.start(self._interval_ms())
        self._update_controls()

    def change_interval(self, step: int) -> None:
        """One step longer (+1) or shorter (−1) between photos, remembered for next time."""
        longer = [i for i in INTERVALS if i > self.interval]
        shorter = [i for i in INTERVALS if i < self.interval]
        if step > 0 and longer:
            self.interval = longer[0]
        elif step < 0 and shorter:
            self.interval = shorter[-1]
        app_settings().setValue(SETTING, self.interval)
        self._update_controls()
        self._say(f"{self.interval:g} seconds a photo")
        if not self.paused and self.current is not None and self._want is None:
            self.timer.start(self._interval_ms())

    def _say(self, text: str, *, sticky: bool = False) -> None:
        self._message = text
        self.update()
        if sticky:
            self._message_timer.stop()
        else:
            self._message_timer.start()

    def _clear_message(self) -> None:
        self._message = ""
        self.update()

    def _end(self) -> None:
        self.close()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.close()
        elif key == Qt.Key.Key_Space:
            self.toggle_pause()
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_PageDown):
            self.next()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp):
            self.previous()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.change_interval(+1)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.change_interval(-1)
        elif key == Qt.Key.Key_F11:
            self.showNormal() if self.isFullScreen() else self.showFullScreen()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: Any) -> None:
        self._ended = True
        self.timer.stop()
        self.animation.stop()
        self._cache.clear()
        self.finished.emit()
        super().closeEvent(event)

    # ------------------------------------------------------------------ painting

    def _draw(self, painter: QPainter, image: QImage | None, opacity: float) -> None:
        if image is None or image.isNull() or opacity <= 0:
            return
        area = QRectF(self.rect())
        scale = min(area.width() / image.width(), area.height() / image.height())
        w, h = image.width() * scale, image.height() * scale
        target = QRectF(area.left() + (area.width() - w) / 2,
                        area.top() + (area.height() - h) / 2, w, h)
        painter.setOpacity(opacity)
        painter.drawImage(target, image)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("black"))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        if self._fade < 1.0:
            self._draw(painter, self._previous, 1.0 - self._fade)
        self._draw(painter, self._image, self._fade)
        painter.setOpacity(1.0)
        text = self._message or ("" if self._image is not None else "Loading…")
        if text:
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.4)
            painter.setFont(font)
            metrics = painter.fontMetrics()
            box = metrics.boundingRect(text).adjusted(-18, -10, 18, 10)
            box.moveCenter(self.rect().center())
            box.moveTop(48)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 170))
            painter.drawRoundedRect(box, 12, 12)
            painter.setPen(QColor("white"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()


# ---------------------------------------------------------------------------- the window's way in


def _source_of(window: Any) -> Source | None:
    """What F5 shows: the selection (more than one photo chosen), else the viewer's list from
    its photo, else the current grid from its current photo."""
    chosen = window.selected_ids()
    if len(chosen) > 1:
        return IdsSource(chosen)
    viewer = getattr(window, "viewer", None)
    if viewer is not None and window.stack.currentWidget() is viewer:
        model = getattr(viewer, "_model", None)
        if model is not None:
            return ModelSource(model, viewer.current_row())
    grid = window._current_grid()
    if grid is not None and grid.model() is not None and grid.model().rowCount() > 0:
        current = grid.currentIndex()
        return ModelSource(grid.model(), current.row() if current.isValid() else 0)
    return None


def start_slideshow(window: Any, source: Source | None = None) -> Slideshow | None:
    """Start a slideshow of ``source`` (what the window shows when None); focus comes back
    to the same view when it ends. None when there is nothing to show."""
    source = source or _source_of(window)
    if source is None:
        window.status.set_idle("Nothing to show: open a view with photos first.")
        return None
    before = window.focusWidget()
    show = Slideshow(window.lib, window.tasks, source, parent=window)

    def ended() -> None:
        window.slideshow = None
        window.activateWindow()
        if before is not None:
            before.setFocus()

    show.finished.connect(ended)
    window.slideshow = show
    if not show.start():
        show.close()
        return None
    return show


def start_ids(window: Any, ids: Sequence[int]) -> Slideshow | None:
    """A slideshow of these photos, in this order (an album, a memory)."""
    return start_slideshow(window, IdsSource(ids)) if ids else None


def window_actions(window: Any) -> dict[str, list[QAction]]:
    """The slideshow's window-level action: View › Slideshow (F5). Made once per window."""
    made = getattr(window, "_slideshow_actions", None)
    if made is None:
        action = QAction("Slideshow", window)
        action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setStatusTip("Show the selection, or this view from the current photo, as a "
                            "slideshow (Space pause, ←/→, +/− interval, Esc to end)")
        action.triggered.connect(lambda: start_slideshow(window))
        made = {"View": [action]}
        window._slideshow_actions = made
    return dict(made)


def install(window: Any) -> None:
    """Wire the slideshow into a window: F5 and a "Slideshow" button on the results page
    (an album, a search, a memory, a person's photos)."""
    window.slideshow = None
    for actions in window_actions(window).values():
        window.addActions(actions)
    button = QToolButton()
    button.setText("▶ Slideshow")
    button.setAutoRaise(True)
    button.setToolTip("Show these photos as a slideshow (F5)")
    button.clicked.connect(lambda: start_slideshow(window))
    window.results_page.tools.addWidget(button)
    window.slideshow_button = button
    window.albums_page.play_album.connect(lambda album_id: play_album(window, album_id))


def play_album(window: Any, album_id: int) -> None:
    """An album's slideshow, in the album's order (its ids read off the GUI thread)."""
    window.tasks.run(lambda: window.lib.albums.photo_ids(album_id),
                     lambda ids: start_ids(window, ids) if ids else window.status.set_idle(
                         "This album has no photos to show."),
                     lambda exc: window.status.set_idle(f"⚠ {describe(exc)}"), read=True)
