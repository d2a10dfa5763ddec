"""The library as a Qt list model: rows fetched a page at a time, thumbnails off the GUI thread.

- Rows come from ``Library.photo_page`` (keyset paging, newest first) as the view scrolls:
  ``canFetchMore``/``fetchMore`` add one page at a time, so opening a library of 1M photos
  reads 500 rows, not 1M.
- Thumbnails are read (or made, for a photo read before thumbnails existed) by two plain
  worker threads into ``QImage``s cropped and scaled to the tile (``read_tile``), collected
  on the GUI thread by a timer, turned into ``QPixmap``s there and kept in an LRU cache of
  bounded size. Until then a tile shows a placeholder; nothing on the GUI thread touches a
  file.
- Photos added or changed by an ingestion run (``IndexReport.photo_ids``) are inserted at
  their place in the order, as row insertions: the view keeps its scroll position and
  selection, never a model reset.
"""

from __future__ import annotations

import bisect
import calendar
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QBuffer,
    QByteArray,
    QIODevice,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QImageReader, QPixmap, QTransform

from glimpse_desktop.api import PhotoRow
from glimpse_desktop.api.library import Library, LibraryError

PAGE = 200
# Pixmaps kept: a 176 px tile is 124 KB as a pixmap, so 800 of them (five screens of the
# densest grid) stay near 100 MB whatever the size of the library.
CACHE_ITEMS = 800

PhotoIdRole = Qt.ItemDataRole.UserRole + 1
PathRole = Qt.ItemDataRole.UserRole + 2
TakenRole = Qt.ItemDataRole.UserRole + 3
ScoreRole = Qt.ItemDataRole.UserRole + 4
HashRole = Qt.ItemDataRole.UserRole + 5
StatusRole = Qt.ItemDataRole.UserRole + 6
# True for the JPEG of a RAW+JPEG pair (a photo with a RAW file kept with it).
PairedRole = Qt.ItemDataRole.UserRole + 7
DamagedRole = Qt.ItemDataRole.UserRole + 8


def month_of(taken_at: str | None) -> str:
    """The section a photo belongs to: "2024-03" from its local date, "" when undated."""
    return taken_at[:7] if taken_at and len(taken_at) >= 7 and taken_at[4] == "-" else ""


def month_label(month: str) -> str:
    """ "2024-03" -> "March 2024"; "" -> "No date"."""
    if not month:
        return "No date"
    try:
        year, number = int(month[:4]), int(month[5:7])
        return f"{calendar.month_name[number]} {year}"
    except (ValueError, IndexError):
        return month


def sections_of(months: Sequence[str]) -> list[tuple[int, str]]:
    """Runs of equal months as (first row, label)."""
    out: list[tuple[int, str]] = []
    previous: str | None = None
    for i, month in enumerate(months):
        if month != previous:
            out.append((i, month_label(month)))
            previous = month
    return out


@dataclass(slots=True)
class Row:
    id: int
    taken_ts: float | None
    content_hash: str
    filename: str
    path: str
    taken_at: str | None
    status: str
    score: float | None = None
    paired: bool = False
    damaged: bool = False
    favorite: bool = False
    rating: int | None = None
    rejected: bool = False
    rotation: int = 0        # quarter turns clockwise the person added (api.judge)

    @property
    def tile_key(self) -> str:
        """The thumbnail cache's key for this tile: its pixels, as turned."""
        return tile_key(self.content_hash, self.rotation)

    @property
    def key(self) -> tuple[float, int]:
        """Sort key, ascending for bisect: the view shows newest first (undated last)."""
        return (-(self.taken_ts if self.taken_ts is not None else float("-inf")), -self.id)

    @classmethod
    def of(cls, raw: PhotoRow | Mapping[str, Any]) -> Row:
        """A tile's row from the library's ``PhotoRow``, or from a mapping with at least id,
        path and content_hash (a duplicate group's member)."""
        if isinstance(raw, PhotoRow):
            return cls(raw.id, raw.taken_ts, raw.content_hash, raw.filename, raw.path,
                       raw.taken_at, raw.status, paired=raw.companions > 0,
                       damaged=raw.damaged, favorite=raw.favorite, rating=raw.rating,
                       rejected=raw.rejected, rotation=raw.rotation)
        return cls(int(raw["id"]), raw.get("taken_ts"), str(raw["content_hash"]),
                   str(raw.get("filename") or raw["path"].rsplit("/", 1)[-1]),
                   str(raw["path"]), raw.get("taken_at"), str(raw.get("status") or "ok"),
                   raw.get("score"), rotation=int(raw.get("rotation") or 0) % 4)


# A turned photo's pixmaps are cached apart from its upright ones: "<hash>@r<quarter turns>".
_TURNED = "@r"


def tile_key(content_hash: str, rotation: int = 0) -> str:
    """The thumbnail cache's key for a photo's pixels turned ``rotation`` quarter turns
    clockwise (the content hash alone when not turned)."""
    turns = int(rotation or 0) % 4
    return f"{content_hash}{_TURNED}{turns}" if turns else content_hash


def _split_key(key: str) -> tuple[str, int]:
    content_hash, _, turns = key.partition(_TURNED)
    return content_hash, int(turns or 0)


def turned(image: QImage, rotation: int) -> QImage:
    """``image`` turned ``rotation`` quarter turns clockwise (once, when loaded: never per
    paint)."""
    turns = int(rotation or 0) % 4
    return image if not turns else image.transformed(QTransform().rotate(90 * turns))


def read_tile(path: str, size: int, focus: tuple[float, float] | None = None, *,
              sharper: Callable[[], str | None] | None = None) -> QImage:
    """A square of the image at ``path`` scaled to ``size`` pixels: a grid tile.

    The square is the whole short side, placed over ``focus`` (the centre of the photo's
    faces, as fractions of its width and height) so that no face is cut off; without faces,
    centred across and a little above the middle down a portrait photo (where the subject's
    head usually is). When the file is too small for a sharp tile of ``size`` (a zoomed-in
    grid, a HiDPI screen), ``sharper()`` may name a larger picture of the photo to use.

    Made to hold the GIL as little as possible, because the GUI thread waits for it: on a
    two-core machine every millisecond a worker holds it can be a millisecond of a scroll
    frame. The file is read by Python (which lets go of the GIL while the disk works; PySide
    keeps it through ``QImageReader.size()``, so a cold file read there stalled the window
    for 150-480 ms). One ``QImageReader.read()`` then decodes, crops and scales (smoothly:
    the JPEG handler scales with ``SmoothTransformation``) with the GIL released, where
    cropping and scaling a decoded ``QImage`` holds it throughout."""
    with open(path, "rb") as fh:
        data = QByteArray(fh.read())
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    full = reader.size()
    if size > 0 and full.isValid():
        side = min(full.width(), full.height())
        # Upscaled by more than a quarter: blurred. A larger source when there is one.
        if sharper is not None and side * 5 < size * 4:
            better = sharper()
            if better:
                return read_tile(better, size, focus)
        fx, fy = focus if focus is not None else (0.5, 0.4)
        x = min(max(0, round(fx * full.width() - side / 2)), full.width() - side)
        y = min(max(0, round(fy * full.height() - side / 2)), full.height() - side)
        reader.setClipRect(QRect(x, y, side, side))
        reader.setScaledSize(QSize(size, size))
    image = reader.read()
    if image.isNull():
        raise LibraryError(f"cannot read thumbnail {path}: {reader.errorString()}")
    return image


class _Loader:
    """The workers' side of the thumbnail cache: a stack of requests in, a list of results
    out, under one lock. The workers touch no Qt object but the QImages they make, so a
    cache deleted with its window can never be called back into from a worker."""

    def __init__(self, lib: Library, threads: int, backlog: int) -> None:
        self.lib = lib
        self.backlog = backlog
        self.cond = threading.Condition()
        self.stack: deque[tuple[int, str, int]] = deque()
        self.results: list[tuple[str, QImage | None, int, str]] = []
        self.dropped: list[str] = []
        self.busy = 0
        self.stopped = False
        for i in range(max(1, threads)):
            threading.Thread(target=self.work, name=f"glimpse-thumbs-{i}", daemon=True).start()

    def ask(self, photo_id: int, content_hash: str, size: int) -> None:
        with self.cond:
            self.stack.append((photo_id, content_hash, size))
            while len(self.stack) > self.backlog:
                self.dropped.append(self.stack.popleft()[1])   # scrolled past long ago
            self.cond.notify()

    def take(self) -> tuple[list[tuple[str, QImage | None, int, str]], list[str]]:
        with self.cond:
            results, self.results = self.results, []
            dropped, self.dropped = self.dropped, []
        return results, dropped

    def work(self) -> None:
        while True:
            with self.cond:
                while not self.stack and not self.stopped:
                    self.cond.wait()
                if self.stopped:
                    return
                photo_id, content_hash, size = self.stack.pop()      # newest first
                self.busy += 1
            result: tuple[str, QImage | None, int, str]
            try:
                result = (content_hash, self.load(photo_id, content_hash, size), size, "")
            except Exception as exc:  # a bad file costs its tile, never the view
                result = (content_hash, None, size, str(exc) or type(exc).__name__)
            with self.cond:
                self.results.append(result)
                self.busy -= 1
                self.cond.notify_all()

    def load(self, photo_id: int, key: str, size: int) -> QImage:
        content_hash, turns = _split_key(key)
        path = self.lib.thumbnails.path_for(content_hash, "grid")
        if not path.is_file():
            path = self.lib.thumbnail(photo_id, "grid")   # made now, off the GUI
        # Cropped, scaled and turned here, off the GUI thread: the GUI thread only ever blits
        # a tile. The square is placed over the faces of the upright picture, then turned.
        return turned(read_tile(str(path), size, self.lib.timeline.focus(photo_id),
                                sharper=lambda: self._preview(photo_id, content_hash)), turns)

    def _preview(self, photo_id: int, content_hash: str) -> str | None:
        """The photo's 1280 px preview (made from the original if need be) for a tile larger
        than its grid thumbnail; None when the original cannot be read (the grid one is
        used)."""
        path = self.lib.thumbnails.path_for(content_hash, "preview")
        if path.is_file():
            return str(path)
        try:
            return str(self.lib.thumbnail(photo_id, "preview"))
        except Exception:  # an offline drive, a damaged file: the smaller one will do
            return None

    def idle(self) -> bool:
        with self.cond:
            return not self.stack and not self.busy

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.stack.clear()
            self.cond.notify_all()


class ThumbnailCache(QObject):
    """Pixmaps by content hash, loaded on demand by worker threads, least recently used out.

    With a ``size`` (the grid's tile edge in device pixels) every pixmap is the photo's centre
    square at exactly that size, cropped and scaled by the workers, so painting a tile is a
    blit. After a zoom the pixmaps of the old size are still returned (the view scales them
    while it waits) and reloaded at the new size.

    Requests go on a stack, newest first: while the grid is flung, the tiles on screen now
    load before the ones that already scrolled past, and requests too old to matter are
    dropped (asked for again if their tile comes back). Asking costs an append; results are
    collected on the GUI thread by a timer, a batch at a time."""

    ready = Signal(str)
    # Requests kept waiting at most: a few screens of the densest grid.
    BACKLOG = 600
    # How often finished loads are collected while some are outstanding (ms).
    COLLECT_MS = 8
    PER_TICK = 10

    def __init__(self, lib: Library, *, capacity: int = CACHE_ITEMS, threads: int = 2,
                 size: int = 0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.capacity = capacity
        self.size = size
        self.ratio = 1.0
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self._pending: dict[str, int] = {}           # hash -> size asked for
        self._failed: set[str] = set()
        self._loader = _Loader(lib, threads, self.BACKLOG)
        self._arrived: list[tuple[str, QImage | None, int, str]] = []
        # The workers end with the cache, even one nobody stopped (a test's, a closed view's).
        weakref.finalize(self, self._loader.stop)
        self._collect = QTimer(self, interval=self.COLLECT_MS)
        self._collect.timeout.connect(self._collect_results)

    def set_size(self, size: int, ratio: float = 1.0) -> None:
        """A new tile size (device pixels; ``ratio`` device pixels per logical pixel):
        pixmaps are made again at that size as they are asked for."""
        self.size = max(0, int(size))
        self.ratio = ratio

    def get(self, photo_id: int, content_hash: str, rotation: int = 0) -> QPixmap | None:
        """The pixmap if cached (marked recently used); otherwise a load is queued once.
        ``rotation``: the quarter turns clockwise the person gave the photo; a photo just
        turned gets its cached pixmap turned here at once (one transform, then cached)."""
        content_hash = tile_key(content_hash, rotation)
        pixmap = self._pixmaps.get(content_hash)
        if pixmap is None:
            pixmap = self._turn_cached(content_hash)
        if pixmap is not None:
            self._pixmaps.move_to_end(content_hash)
            if self._sizes.get(content_hash) != self.size:
                self._queue(photo_id, content_hash)
            return pixmap
        if content_hash not in self._failed:
            self._queue(photo_id, content_hash)
        return None

    def _turn_cached(self, key: str) -> QPixmap | None:
        """The pixmap for ``key`` made from one of the same pixels turned otherwise, if one is
        cached (the tile of a photo just rotated changes at once, with no grey between)."""
        content_hash, turns = _split_key(key)
        for other in range(4):
            source = self._pixmaps.get(tile_key(content_hash, other))
            if other == turns or source is None:
                continue
            pixmap = source.transformed(QTransform().rotate(90 * ((turns - other) % 4)))
            pixmap.setDevicePixelRatio(source.devicePixelRatio())
            self._pixmaps[key] = pixmap
            self._sizes[key] = self._sizes.get(tile_key(content_hash, other), self.size)
            return pixmap
        return None

    def _queue(self, photo_id: int, content_hash: str) -> None:
        if self._pending.get(content_hash) == self.size or self._loader.stopped:
            return
        self._pending[content_hash] = self.size
        self._loader.ask(photo_id, content_hash, self.size)
        if not self._collect.isActive():
            self._collect.start()

    def _collect_results(self) -> None:
        results, dropped = self._loader.take()
        for content_hash in dropped:
            self._pending.pop(content_hash, None)
        self._arrived.extend(results)
        # A bounded number per tick (each becomes a pixmap here): a burst of finished loads
        # is spread over a few frames instead of stalling one.
        batch, self._arrived = self._arrived[:self.PER_TICK], self._arrived[self.PER_TICK:]
        for content_hash, image, size, why in batch:
            if image is None:
                self._failed_load(content_hash, why)
            else:
                self._loaded(content_hash, image, size)
        if not self._pending and not self._arrived:
            self._collect.stop()

    def forget_failures(self) -> None:
        """Try failed tiles again (a drive came back, a file was fixed)."""
        self._failed.clear()

    def has_failed(self, content_hash: str) -> bool:
        return content_hash in self._failed

    def __len__(self) -> int:
        return len(self._pixmaps)

    def _loaded(self, content_hash: str, image: QImage, size: int) -> None:
        if self._pending.get(content_hash) == size:
            del self._pending[content_hash]
        if size != self.size and content_hash in self._pixmaps:
            return      # an old size arriving after a zoom: the one at the new size follows
        pixmap = QPixmap.fromImage(image)                         # GUI thread: allowed here
        pixmap.setDevicePixelRatio(self.ratio if size else 1.0)
        self._pixmaps[content_hash] = pixmap
        self._sizes[content_hash] = size
        self._pixmaps.move_to_end(content_hash)
        while len(self._pixmaps) > self.capacity:
            gone, _ = self._pixmaps.popitem(last=False)
            self._sizes.pop(gone, None)
        self.ready.emit(content_hash)

    def _failed_load(self, content_hash: str, _why: str) -> None:
        self._pending.pop(content_hash, None)
        self._failed.add(content_hash)
        self.ready.emit(content_hash)

    def wait(self, msecs: int = 30_000) -> bool:
        """Tests: let the queued loads finish; their results are collected by the event
        loop (``qtbot.waitUntil``) as usual."""
        deadline = time.monotonic() + msecs / 1000
        while not self._loader.idle():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def stop(self) -> None:
        """Shutdown: drop what waits; the workers end after the load in hand."""
        self._collect.stop()
        self._loader.stop()


class _PhotoRows(QAbstractListModel):
    """What every photo list shares: the rows, their roles, thumbnails and month sections."""

    # Sections are shown as date headers by the grid; a list ranked by score has none.
    sectioned = True

    def __init__(self, lib: Library, *, thumbnails: ThumbnailCache | None = None,
                 tile: int = 192, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.tile = tile
        self.rows: list[Row] = []
        self._months: list[str] = []
        self._sections: list[tuple[int, str]] | None = None
        self._by_hash: dict[str, set[int]] = {}    # tile key -> the photos showing it
        self.thumbnails = (thumbnails if thumbnails is not None
                           else ThumbnailCache(lib, parent=self))
        self.thumbnails.ready.connect(self._thumbnail_ready)
        self._placeholder = QPixmap(QSize(tile, tile))
        self._placeholder.fill(QColor(60, 60, 60))

    # ------------------------------------------------------------------ Qt model interface

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self._role_data(self.rows[index.row()], role)

    def _role_data(self, row: Row, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return row.filename
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self.thumbnails.get(row.id, row.content_hash, row.rotation)
            return pixmap if pixmap is not None else self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{row.path}\n{row.taken_at.replace('T', ' ') if row.taken_at else 'no date'}"
            if row.score is not None:
                tip += f"\nmatch {row.score:.0%}"
            if row.status != "ok":
                tip += ("\nthe drive holding it is not connected" if row.status == "offline"
                        else f"\n{row.status}")
            if row.damaged:
                tip += "\ndamaged file: shown as far as its picture decodes"
            return tip
        if role == PhotoIdRole:
            return row.id
        if role == PathRole:
            return row.path
        if role == TakenRole:
            return row.taken_at
        if role == ScoreRole:
            return row.score
        if role == HashRole:
            return row.content_hash
        if role == StatusRole:
            return row.status
        if role == PairedRole:
            return row.paired
        if role == DamagedRole:
            return row.damaged
        return None

    def tile_data(self, row: int) -> tuple[QPixmap | None, str, float | None]:
        """What the grid paints for a row, without a round trip through Qt's model API:
        the pixmap (None until loaded), the status and the match score."""
        item = self.rows[row]
        return (self.thumbnails.get(item.id, item.content_hash, item.rotation), item.status,
                item.score)

    def row_at(self, row: int) -> Row | None:
        """The row at ``row`` (what the grid paints a tile's marks from)."""
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def paired(self, row: int) -> bool:
        """Whether the row's photo is the JPEG of a RAW+JPEG pair (its tile says so)."""
        return self.rows[row].paired

    def damaged(self, row: int) -> bool:
        """Whether the row's photo is a damaged file (its tile says so)."""
        return self.rows[row].damaged

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """Dragging tiles out of the window drags the files (into a file manager, an editor)."""
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(self.rows[i.row()].path) for i in indexes
                      if i.isValid() and i.row() < len(self.rows)])
        return data

    # ------------------------------------------------------------------ helpers for views

    def photo_ids(self, indexes: Iterable[QModelIndex | QPersistentModelIndex]) -> list[int]:
        return [self.rows[i.row()].id for i in indexes if 0 <= i.row() < len(self.rows)]

    def row_of(self, photo_id: int) -> int | None:
        """The row showing a photo, or None (O(log n) in the library, O(1) in a list)."""
        raise NotImplementedError

    def sections(self) -> list[tuple[int, str]]:
        """Date headers as (first row, "March 2024"); empty for a ranked list."""
        if not self.sectioned:
            return []
        if self._sections is None:
            self._sections = sections_of(self._months)
        return self._sections

    # ------------------------------------------------------------------ bookkeeping

    def _track(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self._by_hash.setdefault(row.tile_key, set()).add(row.id)

    def _untrack(self, row: Row) -> None:
        ids = self._by_hash.get(row.tile_key)
        if ids is not None:
            ids.discard(row.id)
            if not ids:
                del self._by_hash[row.tile_key]

    def _insert_block(self, pos: int, rows: Sequence[Row]) -> None:
        """Rows that go together at ``pos``: one insertion for the views, however many."""
        if not rows:
            return
        self.beginInsertRows(QModelIndex(), pos, pos + len(rows) - 1)
        self.rows[pos:pos] = rows
        self._months[pos:pos] = [month_of(r.taken_at) for r in rows]
        self._sections = None
        self._track(rows)
        self._inserted(pos, rows)
        self.endInsertRows()

    def _remove_at(self, pos: int) -> None:
        self.beginRemoveRows(QModelIndex(), pos, pos)
        row = self.rows.pop(pos)
        del self._months[pos]
        self._sections = None
        self._untrack(row)
        self._removed(pos, row)
        self.endRemoveRows()

    def _replace_at(self, pos: int, row: Row) -> None:
        """The same photo at the same place with new details (a new path after a move)."""
        old = self.rows[pos]
        self.rows[pos] = row
        month = month_of(row.taken_at)
        if month != self._months[pos]:
            self._months[pos] = month
            self._sections = None
        if old.tile_key != row.tile_key:
            self._untrack(old)
            self._track([row])
        index = self.index(pos)
        self.dataChanged.emit(index, index)

    def _inserted(self, pos: int, rows: Sequence[Row]) -> None:
        """Subclasses keep their own indexes in step."""

    def _removed(self, pos: int, row: Row) -> None:
        """Subclasses keep their own indexes in step."""

    def remove_photos(self, photo_ids: Iterable[int]) -> int:
        """Take rows out (photos forgotten, or gone from the disk)."""
        removed = 0
        for photo_id in set(photo_ids):
            pos = self.row_of(photo_id)
            if pos is not None:
                self._remove_at(pos)
                removed += 1
        return removed

    def _thumbnail_ready(self, content_hash: str) -> None:
        for photo_id in self._by_hash.get(content_hash, ()):
            pos = self.row_of(photo_id)
            if pos is not None:
                index = self.index(pos)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class PhotoListModel(_PhotoRows):
    """Every photo of the library, newest first, fetched a page at a time.

    Rows are kept sorted by their key (date, then id), so the row of any photo is a bisect
    (``row_of``), and updates from an ingestion run (``apply_rows``) cost O(log n) a photo plus
    one insertion per run of neighbouring new photos."""

    def __init__(self, lib: Library, *, page: int = PAGE, thumbnails: ThumbnailCache | None = None,
                 tile: int = 192, parent: QObject | None = None) -> None:
        super().__init__(lib, thumbnails=thumbnails, tile=tile, parent=parent)
        self.page = page
        self._keys: list[tuple[float, int]] = []
        self._key_of: dict[int, tuple[float, int]] = {}
        self._exhausted = False
        # With a way to run reads off the GUI thread (the window's Tasks), pages after the
        # first are read there: the query and the rows cost the GUI thread nothing while
        # the grid is flung. Without one (tests, scripts) fetchMore reads in place.
        self.background: Callable[[Callable[[], Any], Callable[[Any], None],
                                   Callable[[BaseException], None]], None] | None = None
        self._fetching = False

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or self._fetching:
            return
        last = self.rows[-1] if self.rows else None
        after = (last.taken_ts, last.id) if last else None
        if self.background is None or not self.rows:
            self._add_page(self._read_page(after))
            return
        self._fetching = True
        self.background(lambda: self._read_page(after), self._page_arrived,
                        self._page_failed)

    def fetch_now(self, *, limit: int | None = None) -> None:
        """The next page read here and now, whatever ``background`` says (a key press that
        needs the rows before it can move: End, Down at the last line)."""
        if self._exhausted:
            return
        last = self.rows[-1] if self.rows else None
        self._add_page(self._read_page((last.taken_ts, last.id) if last else None, limit))

    def _read_page(self, after: tuple[float | None, int] | None,
                   limit: int | None = None) -> tuple[list[Row], bool]:
        limit = limit or self.page
        page = self.lib.photo_page(after=after, limit=limit)
        return [Row.of(raw) for raw in page], len(page) < limit

    def _page_arrived(self, result: tuple[list[Row], bool]) -> None:
        self._fetching = False
        self._add_page(result)

    def _page_failed(self, exc: BaseException) -> None:
        self._fetching = False      # the next scroll to the end asks again

    def _add_page(self, result: tuple[list[Row], bool]) -> None:
        rows, last_page = result
        if last_page:
            self._exhausted = True
        self._insert_block(len(self.rows), [r for r in rows if r.id not in self._key_of])

    def row_of(self, photo_id: int) -> int | None:
        key = self._key_of.get(photo_id)
        if key is None:
            return None
        pos = bisect.bisect_left(self._keys, key)
        return pos if pos < len(self._keys) and self._keys[pos] == key else None

    def _inserted(self, pos: int, rows: Sequence[Row]) -> None:
        keys = [r.key for r in rows]
        self._keys[pos:pos] = keys
        for row, key in zip(rows, keys, strict=True):
            self._key_of[row.id] = key

    def _removed(self, pos: int, row: Row) -> None:
        del self._keys[pos]
        self._key_of.pop(row.id, None)

    # ------------------------------------------------------------------ live updates

    def add_photos(self, photo_ids: Iterable[int]) -> int:
        """Insert, refresh or drop the photos an ingestion run wrote (reads them here: from
        the GUI, read them off its thread with ``lib.photo_rows`` and call ``apply_rows``)."""
        ids = list(dict.fromkeys(int(i) for i in photo_ids))
        if not ids:
            return 0
        return self.apply_rows(self.lib.photo_rows(ids))

    def apply_rows(self, rows: Iterable[Row | PhotoRow | Mapping[str, Any]]) -> int:
        """Bring these photos' rows up to date, at their place in the order: new ones
        inserted, changed ones refreshed (or moved, when their date changed), missing ones
        dropped. Photos beyond the rows fetched so far are left for ``fetchMore``, which
        reaches them in order anyway. Returns how many rows were inserted."""
        fresh: list[Row] = []
        for row in (r if isinstance(r, Row) else Row.of(r) for r in rows):
            shown = row.status in ("ok", "offline")
            pos = self.row_of(row.id)
            if pos is not None:
                if shown and self.rows[pos].key == row.key:
                    if self.rows[pos] != row:
                        self._replace_at(pos, row)
                    continue
                self._remove_at(pos)          # gone, or moved in time: out, then back in
            if shown:
                fresh.append(row)
        if not fresh:
            return 0
        fresh.sort(key=lambda r: r.key)
        # Neighbouring new photos go in as one block (a folder of new photos is one insertion).
        inserted = 0
        i = 0
        while i < len(fresh):
            pos = bisect.bisect_left(self._keys, fresh[i].key)
            j = i + 1
            limit = self._keys[pos] if pos < len(self._keys) else None
            while j < len(fresh) and (limit is None or fresh[j].key < limit):
                j += 1
            if pos == len(self.rows) and not self._exhausted:
                break      # beyond what is loaded: fetchMore brings these in their turn
            self._insert_block(pos, fresh[i:j])
            inserted += j - i
            i = j
        return inserted


class ResultListModel(_PhotoRows):
    """A fixed list of photos: search results (ranked, with scores), a person's photos, a
    folder, a group of duplicates. Rows are the library's ``PhotoRow``s, mappings with at least
    id, path and content_hash, or ``Row``s (made off the GUI thread for long lists)."""

    # The grid deletes a list it no longer shows (the library's own model stays).
    disposable = True

    def __init__(self, lib: Library, rows: Iterable[Row | PhotoRow | Mapping[str, Any]], *,
                 sectioned: bool = False, sections: Sequence[tuple[int, str]] | None = None,
                 thumbnails: ThumbnailCache | None = None, tile: int = 192,
                 parent: QObject | None = None) -> None:
        """``sectioned``: month headers; ``sections``: headers of the caller's own (groups of
        duplicates), as (first row, label)."""
        super().__init__(lib, thumbnails=thumbnails, tile=tile, parent=parent)
        self.sectioned = sectioned or sections is not None
        self.rows = [r if isinstance(r, Row) else Row.of(r) for r in rows]
        self._months = [month_of(r.taken_at) for r in self.rows]
        self._fixed = list(sections) if sections is not None else None
        self._track(self.rows)
        self._positions: dict[int, int] | None = None
        # Each photo's place in the list as made (pages appended later come after), so a
        # photo that left (moved to the trash) comes back where it was (Restore, Undo).
        self._rank: dict[int, int] = {r.id: i for i, r in enumerate(self.rows)}
        self._gone: dict[int, Row] = {}

    def row_of(self, photo_id: int) -> int | None:
        if self._positions is None:
            self._positions = {r.id: i for i, r in enumerate(self.rows)}
        return self._positions.get(photo_id)

    def _inserted(self, pos: int, rows: Sequence[Row]) -> None:
        self._positions = None
        for row in rows:
            self._rank.setdefault(row.id, len(self._rank))
            self._gone.pop(row.id, None)

    def apply_rows(self, rows: Iterable[Row | PhotoRow | Mapping[str, Any]]) -> int:
        """Bring the rows of the photos this list holds up to date (hearts, stars, turned
        tiles, a new path); a photo no longer shown (in the trash) leaves the list, and one
        that left comes back at its place once shown again. Photos the list never held stay
        out: a list is not a query. Returns how many rows came back."""
        back = 0
        for row in (r if isinstance(r, Row) else Row.of(r) for r in rows):
            shown = row.status in ("ok", "offline")
            pos = self.row_of(row.id)
            if pos is not None:
                if not shown:
                    self._remove_at(pos)
                elif self.rows[pos] != row:
                    row.score = self.rows[pos].score      # the ranking's, not the library's
                    self._replace_at(pos, row)
                continue
            old = self._gone.get(row.id)
            if shown and old is not None and self._fixed is None:
                row.score = old.score
                rank = self._rank[row.id]
                at = bisect.bisect_left([self._rank.get(r.id, -1) for r in self.rows], rank)
                self._insert_block(at, [row])
                back += 1
        return back

    def _removed(self, pos: int, row: Row) -> None:
        self._positions = None
        self._gone[row.id] = row
        if self._fixed is not None:
            # A group loses a member: the headers after it move up by one.
            self._fixed = [(start - 1 if start > pos else start, label)
                           for start, label in self._fixed]

    def sections(self) -> list[tuple[int, str]]:
        if self._fixed is not None:
            return self._fixed
        return super().sections()


class PagedResultModel(ResultListModel):
    """A ranked list longer than one page (search results): the first page comes with it,
    the rest is read a page at a time as the view scrolls, by ``read_page(offset, limit)``
    (positions in the ranking; a page may hold fewer rows than asked for when photos went
    missing meanwhile). ``total``: how many positions the ranking has."""

    def __init__(self, lib: Library, rows: Iterable[Row | PhotoRow | Mapping[str, Any]], *,
                 total: int,
                 read_page: Callable[[int, int], list[Row]], page: int = PAGE,
                 sectioned: bool = False, thumbnails: ThumbnailCache | None = None,
                 tile: int = 192, parent: QObject | None = None) -> None:
        """``sectioned``: month headers (a list in date order: filters alone)."""
        super().__init__(lib, rows, sectioned=sectioned, thumbnails=thumbnails, tile=tile,
                         parent=parent)
        self.total = total
        self.page = page
        self._read_page = read_page
        self._next = len(self.rows)        # the ranking position the next page starts at
        # As PhotoListModel's: pages read off the GUI thread when the window gives a way.
        self.background: Callable[[Callable[[], Any], Callable[[Any], None],
                                   Callable[[BaseException], None]], None] | None = None
        self._fetching = False

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._next < self.total

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._fetching or self._next >= self.total:
            return
        offset, limit = self._next, self.page
        if self.background is None:
            self._arrived(offset, limit, self._read_page(offset, limit))
            return
        self._fetching = True
        self.background(lambda: self._read_page(offset, limit),
                        lambda rows: self._arrived(offset, limit, rows), self._failed_page)

    def _arrived(self, offset: int, limit: int, rows: list[Row]) -> None:
        self._fetching = False
        if offset != self._next:
            return
        self._next = offset + limit
        self._insert_block(len(self.rows), [r for r in rows if self.row_of(r.id) is None])

    def _failed_page(self, exc: BaseException) -> None:
        self._fetching = False      # the next scroll to the end asks again
