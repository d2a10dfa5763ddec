"""The library grid's model: every photo of the library has its row from the start, rows are
read a page at a time where the person looks, wherever that is.

A scrubber that jumps to 2009 in a library of 1M photos can neither read the 900k rows before
it nor wait for them. So the model knows the library's months with their counts
(``Library.timeline.months()``: one grouped pass, no photo rows) and from them the row where
every month starts: it has one row per photo from then on (``rowCount`` is the library), a
slot that is empty until the page around it is read. The grid asks for what it paints
(``tile_data``/``data``), and the model reads the pages of the empty slots among them off
the GUI thread: a page at a month's start by date (keyset paging along ``photos_by_time``),
a page that continues a loaded one from its last row, and only a page in the middle of a
month by an offset within that month.

The first page is read before the months (so the first paint waits for no count): until the
months arrive the model is a plain list that grows at its end (``canFetchMore``), as
``PhotoListModel``; then the slots of the rest of the library are added after it.

Photos added or changed meanwhile (``apply_rows``) go in at their place: a changed row is
refreshed; a new photo next to loaded rows is inserted there, one among photos not read yet
leaves an empty slot in its month, filled when that page is read (from the library as it is).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import QPixmap

from glimpse_desktop.api import PhotoRow
from glimpse_desktop.api.library import Library
from glimpse_desktop.api.timeline import TimelineSummary
from glimpse_desktop.gui.photo_model import PAGE, Row, ThumbnailCache, _PhotoRows, month_label

# Pages read at once, and asked for at most (the newest; older ones are dropped).
IN_FLIGHT = 2
WANTED = 12
# How long after the first page the months of the whole library are read (ms).
MONTHS_AFTER_MS = 300

Background = Callable[[Callable[[], Any], Callable[[Any], None],
                       Callable[[BaseException], None]], None]


def month_key(taken_ts: float | None) -> str:
    """ "2024-03" for the month of ``taken_ts`` (as ``kernel/timeline.py`` counts it), "" for
    an undated photo."""
    if taken_ts is None:
        return ""
    t = time.gmtime(taken_ts)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}"


def _month_order(key: str) -> tuple[int, int]:
    """Ascending in the grid's order: newest month first, undated last."""
    return (1, 0) if not key else (0, -(int(key[:4]) * 12 + int(key[5:7])))


# Roles a view paints with: a row not read yet shows a placeholder until its page arrives.
_PAINTED = frozenset({Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.DisplayRole,
                      Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.SizeHintRole,
                      Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole,
                      Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole,
                      Qt.ItemDataRole.AccessibleTextRole})


class TimelineModel(_PhotoRows):
    """Every photo of the library, newest first, in month sections; see the module docstring."""

    disposable = False

    def __init__(self, lib: Library, *, page: int = PAGE, thumbnails: ThumbnailCache | None = None,
                 tile: int = 192, parent: QObject | None = None) -> None:
        super().__init__(lib, thumbnails=thumbnails, tile=tile, parent=parent)
        self.page = page
        self._slots: list[Row | None] = []
        self._pos: dict[int, int] = {}           # photo id -> row, for the rows read
        self._keys: list[str] = []               # months in order ("" = undated, last)
        self._counts: list[int] = []
        self._starts: list[int] | None = None
        self.known = False                       # the months of the whole library are known
        self._exhausted = False
        self._fetching = False
        self._months_asked = False
        self._pending: set[tuple[str, int]] = set()     # pages asked for, not arrived
        self._wanted: list[tuple[str, int]] = []        # of those, not sent yet
        self._in_flight = 0
        # Photos whose unread row was taken out when they left the lists (``_drop_unread``).
        self._dropped: set[int] = set()
        # Rows read from the library so far (tests: a jump reads only the pages near it).
        self.rows_read = 0
        # As PhotoListModel's: with a way to run reads off the GUI thread (the window's
        # Tasks), pages are read there; without one (tests, scripts) in place.
        self.background: Background | None = None

    # ------------------------------------------------------------------ the rows

    @property
    def rows(self) -> list[Row]:
        """The rows read so far, in order (``row_of`` gives a photo's row in the model)."""
        return [r for r in self._slots if r is not None]

    @rows.setter
    def rows(self, value: list[Row]) -> None:
        self._slots = list(value)

    def row_at(self, pos: int) -> Row | None:
        """The row at ``pos`` if it has been read (None: not yet; reading it is queued)."""
        row = self._slots[pos] if 0 <= pos < len(self._slots) else None
        if row is None and 0 <= pos < len(self._slots):
            self._want(pos)
        return row

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._slots)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._slots):
            return None
        row = self._slots[index.row()]
        if row is None:
            if role in _PAINTED:
                self._want(index.row())       # painted when its page arrives
                return self._placeholder if role == Qt.ItemDataRole.DecorationRole else None
            # An action asks for the photo itself (its id, its path): read its page now.
            self.ensure_loaded([index.row()])
            row = self._slots[index.row()]
            if row is None:
                return None
        return self._role_data(row, role)

    def tile_data(self, pos: int) -> tuple[QPixmap | None, str, float | None]:
        row = self._slots[pos]
        if row is None:
            self._want(pos)
            return (None, "ok", None)
        return (self.thumbnails.get(row.id, row.content_hash, row.rotation), row.status,
                row.score)

    def paired(self, pos: int) -> bool:
        row = self._slots[pos]
        return row is not None and row.paired

    def damaged(self, pos: int) -> bool:
        row = self._slots[pos]
        return row is not None and row.damaged

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        self.ensure_loaded(i.row() for i in indexes if i.isValid())
        data.setUrls([QUrl.fromLocalFile(r.path) for i in indexes
                      if i.isValid() and (r := self._slots[i.row()]) is not None])
        return data

    def photo_ids(self, indexes: Iterable[QModelIndex | QPersistentModelIndex]) -> list[int]:
        """The photos of these rows; rows not read yet (a Select All over the library) are
        read here first."""
        positions = [i.row() for i in indexes if 0 <= i.row() < len(self._slots)]
        self.ensure_loaded(positions)
        return [r.id for p in positions if (r := self._slots[p]) is not None]

    def row_of(self, photo_id: int) -> int | None:
        return self._pos.get(photo_id)

    # ------------------------------------------------------------------ months

    def sections(self) -> list[tuple[int, str]]:
        return [(start, month_label(key)) for start, key in zip(self._month_starts(),
                                                                 self._keys, strict=True)]

    def month_keys(self) -> list[str]:
        """The months of the sections, in order ("2024-03"; "" for the undated photos)."""
        return list(self._keys)

    def month_row(self, key: str) -> int | None:
        """The first row of a month ("2024-03"), None when the library has no photo then."""
        try:
            s = self._keys.index(key)
        except ValueError:
            return None
        return self._month_starts()[s]

    def _month_starts(self) -> list[int]:
        if self._starts is None:
            starts, at = [], 0
            for n in self._counts:
                starts.append(at)
                at += n
            self._starts = starts
        return self._starts

    def _section_of(self, pos: int) -> int:
        return bisect.bisect_right(self._month_starts(), pos) - 1

    def _count(self, key: str, delta: int) -> int:
        """Add ``delta`` photos to a month (made when new); the index of its section."""
        self._starts = None
        try:
            s = self._keys.index(key)
        except ValueError:
            s = bisect.bisect_left([_month_order(k) for k in self._keys], _month_order(key))
            self._keys.insert(s, key)
            self._counts.insert(s, 0)
        self._counts[s] += delta
        if self._counts[s] <= 0:
            del self._keys[s], self._counts[s]
        return s

    # ------------------------------------------------------------------ the first pages

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self.known and not self._exhausted

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self.known or self._exhausted or self._fetching:
            return
        last = self._slots[-1] if self._slots else None
        after = (last.taken_ts, last.id) if last else None
        if self.background is None or not self._slots:
            self._add_page(self._read_page(after, None))
            return
        self._fetching = True
        self.background(lambda: self._read_page(after, None), self._page_arrived,
                        self._page_failed)

    def fetch_now(self, *, limit: int | None = None) -> None:
        """The next page here and now (End, Down at the last line before the months are
        known); the whole library has its rows once they are."""
        if self.known or self._exhausted:
            return
        last = self._slots[-1] if self._slots else None
        self._add_page(self._read_page((last.taken_ts, last.id) if last else None, limit))

    def _read_page(self, after: tuple[float | None, int] | None,
                   limit: int | None) -> tuple[list[Row], bool]:
        limit = limit or self.page
        page = self.lib.photo_page(after=after, limit=limit)
        return [Row.of(raw) for raw in page], len(page) < limit

    def _page_arrived(self, result: tuple[list[Row], bool]) -> None:
        self._fetching = False
        if not self.known:
            self._add_page(result)

    def _page_failed(self, exc: BaseException) -> None:
        self._fetching = False

    def _add_page(self, result: tuple[list[Row], bool]) -> None:
        rows, last_page = result
        if last_page:
            self._exhausted = True
        rows = [r for r in rows if r.id not in self._pos]
        self.rows_read += len(rows)
        if rows:
            pos = len(self._slots)
            self.beginInsertRows(QModelIndex(), pos, pos + len(rows) - 1)
            self._slots.extend(rows)
            for i, row in enumerate(rows, pos):
                self._pos[row.id] = i
                self._count(month_key(row.taken_ts), 1)
            self._sections = None
            self._track(rows)
            self.endInsertRows()
        if not self._exhausted:
            self._ask_months()

    def _ask_months(self) -> None:
        """The months of the whole library, read once the first page is shown."""
        if self._months_asked:
            return
        self._months_asked = True
        if self.background is None:
            self.apply_timeline(self.lib.timeline.months())
            return
        # After the first paint: the read passes over every photo, and on a machine with
        # few cores it would compete with the window's first frames.
        lib = self.lib

        def months() -> TimelineSummary:
            try:
                return lib.timeline.months()
            finally:
                # The pass filled this thread's page cache with every photo row (up to 32 MB
                # at 1M photos) that no page read will want: let it go with its connection.
                lib.release_reader()

        QTimer.singleShot(MONTHS_AFTER_MS, self, lambda: self.background(
            months, self.apply_timeline, self._months_failed)
            if self.background is not None else None)

    def _months_failed(self, exc: BaseException) -> None:
        self._months_asked = False      # asked again with the next page

    def apply_timeline(self, summary: TimelineSummary) -> None:
        """Size the model for the whole library: the rows after those read are added as
        empty slots, read where the grid shows them."""
        if self.known:
            return
        keys = [m.key for m in summary.months] + ([""] if summary.undated else [])
        counts = [m.count for m in summary.months] + ([summary.undated] if summary.undated
                                                      else [])
        total = sum(counts)
        loaded = len(self._slots)
        if total <= loaded:
            # The library shrank meanwhile, or all of it is read: the list as it is.
            self._exhausted = self._exhausted or total == loaded
            return
        # The rows read are the newest of the library: the months' counts must cover them.
        mine = dict(zip(self._keys, self._counts, strict=True))
        theirs = dict(zip(keys, counts, strict=True))
        if any(theirs.get(k, 0) < n for k, n in mine.items()):
            self._months_asked = False       # changed while read: counted again later
            return
        self.beginInsertRows(QModelIndex(), loaded, total - 1)
        self._slots.extend([None] * (total - loaded))
        self._keys, self._counts, self._starts = keys, counts, None
        self._sections = None
        self.known = True
        self.endInsertRows()

    # ------------------------------------------------------------------ pages where looked

    def _block(self, pos: int) -> tuple[str, int, int]:
        """(month, offset in it, first row) of the page that holds ``pos``."""
        s = self._section_of(pos)
        start = self._month_starts()[s]
        offset = (pos - start) // self.page * self.page
        return self._keys[s], offset, start + offset

    def _want(self, pos: int) -> None:
        if not self.known:
            return
        key, offset, first = self._block(pos)
        if (key, offset) in self._pending:
            return
        self._pending.add((key, offset))
        if self.background is None:
            before = self._slots[first - 1] if first > 0 else None
            self._block_arrived(key, offset, before, self._reader(key, offset, before)())
            return
        # Newest first, a few at a time: while the grid is flung, the pages on screen now
        # are read before those it has already passed (which are dropped, and asked for
        # again if they come back into view).
        self._wanted.append((key, offset))
        while len(self._wanted) > WANTED:
            self._pending.discard(self._wanted.pop(0))
        self._pump()

    def _pump(self) -> None:
        while self._in_flight < IN_FLIGHT and self._wanted and self.background is not None:
            key, offset = self._wanted.pop()
            start = self.month_row(key)
            first = start + offset if start is not None else len(self._slots)
            if first >= len(self._slots) or None not in self._slots[first:first + self.page]:
                self._pending.discard((key, offset))
                continue
            before = self._slots[first - 1] if first > 0 else None
            self._in_flight += 1

            def done(rows: list[Row], key: str = key, offset: int = offset,
                     before: Row | None = before) -> None:
                self._in_flight -= 1
                self._block_arrived(key, offset, before, rows)
                self._pump()

            def failed(_exc: BaseException, key: str = key, offset: int = offset) -> None:
                self._in_flight -= 1
                self._pending.discard((key, offset))
                self._pump()

            self.background(self._reader(key, offset, before), done, failed)

    def _reader(self, key: str, offset: int, before: Row | None) -> Callable[[], list[Row]]:
        lib, limit = self.lib, self.page
        if before is not None:
            # Continue from the row above: keyset paging, whatever the offset.
            after = (before.taken_ts, before.id)
            return lambda: [Row.of(r) for r in lib.photo_page(after=after, limit=limit)]
        year, month = (int(key[:4]), int(key[5:7])) if key else (None, None)
        if offset == 0 and year is not None and month is not None:
            y, m = year, month
            return lambda: [Row.of(r) for r in lib.timeline.page_at(y, m, limit=limit)]
        return lambda: [Row.of(r) for r in lib.timeline.month_page(year, month, offset=offset,
                                                                  limit=limit)]

    def _block_arrived(self, key: str, offset: int, before: Row | None,
                       rows: list[Row]) -> None:
        self._pending.discard((key, offset))
        self.rows_read += len(rows)
        if before is not None:
            at = self.row_of(before.id)
            first = at + 1 if at is not None else None
        else:
            start = self.month_row(key)
            first = start + offset if start is not None else None
        if first is None:
            return                  # the page's anchor went away meanwhile: asked again
        s = self._section_of(first) if first < len(self._slots) else -1
        if s < 0 or self._keys[s] != key:
            return
        end = self._month_starts()[s] + self._counts[s]
        filled: list[Row] = []
        pos = first
        for row in rows:
            if pos >= end or month_key(row.taken_ts) != key:
                break               # the page ran into the next month: its own page reads it
            if self._slots[pos] is None and row.id not in self._pos:
                self._slots[pos] = row
                self._pos[row.id] = pos
                filled.append(row)
            pos += 1
        if filled:
            self._track(filled)
            self.dataChanged.emit(self.index(first), self.index(pos - 1))

    def prefetch(self, first: int, last: int) -> None:
        """Ask for the pages of rows ``first`` to ``last`` not read yet (the grid: what is on
        screen and a screen either side, so a fling finds its rows read)."""
        if not self.known:
            return
        pos, last = max(0, first), min(last, len(self._slots) - 1)
        while pos <= last:
            s = self._section_of(pos)
            _key, _offset, start = self._block(pos)
            month_end = self._month_starts()[s] + self._counts[s]
            end = min(start + self.page, month_end)
            if None in self._slots[pos:end]:
                self._want(pos)
            pos = max(pos + 1, end)

    def ensure_loaded(self, positions: Iterable[int]) -> None:
        """Read the pages of these rows here and now (an action on a selection that reaches
        rows nobody scrolled to)."""
        if not self.known:
            return
        for pos in sorted(set(positions)):
            if 0 <= pos < len(self._slots) and self._slots[pos] is None:
                key, offset, first = self._block(pos)
                before = self._slots[first - 1] if first > 0 else None
                self._pending.discard((key, offset))
                self._pending.add((key, offset))
                self._block_arrived(key, offset, before, self._reader(key, offset, before)())

    # ------------------------------------------------------------------ live updates

    def add_photos(self, photo_ids: Iterable[int]) -> int:
        """As ``PhotoListModel.add_photos``: read these photos' rows here and apply them."""
        ids = list(dict.fromkeys(int(i) for i in photo_ids))
        return self.apply_rows(self.lib.photo_rows(ids)) if ids else 0

    def apply_rows(self, rows: Iterable[Row | PhotoRow | Mapping[str, Any]], *,
                   held: bool = False) -> int:
        """Bring these photos' rows up to date at their place: refreshed, moved in time,
        dropped, or inserted. ``held``: photos the library listed already (judged, edited):
        one whose row is not read yet has its unread row, and is not inserted again. Returns
        how many rows were inserted."""
        fresh: list[Row] = []
        for row in (r if isinstance(r, Row) else Row.of(r) for r in rows):
            shown = row.status in ("ok", "offline")
            pos = self.row_of(row.id)
            if pos is not None:
                old = self._slots[pos]
                assert old is not None
                if shown and old.key == row.key:
                    if old != row:
                        self._replace(pos, row)
                    continue
                self._remove_at(pos)
            elif row.status == "missing" and self.known:
                # Listed once (counted in its month), now gone or in the trash; a new file
                # that cannot be shown (unsupported) never was.
                self._drop_unread(row)
            elif held and self.known:
                continue
            if shown:
                fresh.append(row)
        inserted = 0
        for row in sorted(fresh, key=lambda r: r.key):
            inserted += self._insert(row)
        return inserted

    def _replace(self, pos: int, row: Row) -> None:
        old = self._slots[pos]
        self._slots[pos] = row
        if old is not None and old.tile_key != row.tile_key:     # new pixels, or turned
            self._untrack(old)
            self._track([row])
        index = self.index(pos)
        self.dataChanged.emit(index, index)

    def _shift(self, pos: int, by: int) -> None:
        for photo_id, at in self._pos.items():
            if at >= pos:
                self._pos[photo_id] = at + by

    def _remove_at(self, pos: int) -> None:
        row = self._slots[pos]
        self.beginRemoveRows(QModelIndex(), pos, pos)
        del self._slots[pos]
        if row is not None:
            self._pos.pop(row.id, None)
            self._untrack(row)
        self._shift(pos, -1)
        self._count(self._keys[self._section_of(pos)] if row is None
                    else month_key(row.taken_ts), -1)
        self._sections = None
        self.endRemoveRows()

    def _insert(self, row: Row) -> int:
        """Put a new photo at its place; 1 when its row went in read, 0 when it is left for
        a page (beyond the rows read before the months are known, or among rows not read)."""
        key = month_key(row.taken_ts)
        s = self._count(key, 0) if key in self._keys else -1
        if s < 0:
            # A month the library did not have: its section goes in at its place.
            orders = [_month_order(k) for k in self._keys]
            s = bisect.bisect_left(orders, _month_order(key))
            start = self._month_starts()[s] if s < len(self._keys) else len(self._slots)
            end = start
        else:
            start = self._month_starts()[s]
            end = start + self._counts[s]
        gap_from, at = self._gap(start, end, row)
        if at == len(self._slots) and not self.known and not self._exhausted:
            return 0            # beyond what is read: the next page brings it in its turn
        read = at == gap_from   # nothing unread between its neighbours: its exact place
        self._dropped.discard(row.id)
        self.beginInsertRows(QModelIndex(), at, at)
        self._slots.insert(at, row if read else None)
        self._shift(at, 1)
        if read:
            self._pos[row.id] = at
            self._track([row])
        self._count(key, 1)
        self._sections = None
        self.endInsertRows()
        return 1 if read else 0

    def _gap(self, start: int, end: int, row: Row) -> tuple[int, int]:
        """The rows ``[from, to)`` of a month's rows ``start..end`` that lie between the read
        rows either side of ``row``'s place (all unread: ``row`` is one of them, or goes
        in at ``to``)."""
        last_before, first_after = -1, -1
        for p in range(start, end):
            other = self._slots[p]
            if other is None:
                continue
            if other.key > row.key:
                first_after = p
                break
            last_before = p
        return (last_before + 1 if last_before >= 0 else start,
                first_after if first_after >= 0 else end)

    def _drop_unread(self, row: Row) -> None:
        """A photo that left the library's lists (moved to the trash, its file gone) before
        its row was read: one of the unread rows where it was goes, so its month counts it no
        more and the pages read later fill the rest. Once per photo: the same change is
        often said twice (the trash, then the watcher seeing the file go)."""
        key = month_key(row.taken_ts)
        if row.id in self._dropped or key not in self._keys:
            return
        s = self._keys.index(key)
        start = self._month_starts()[s]
        gap_from, at = self._gap(start, start + self._counts[s], row)
        if gap_from < at:
            self._dropped.add(row.id)
            self._remove_at(gap_from)
