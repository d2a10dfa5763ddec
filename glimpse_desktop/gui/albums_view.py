"""Albums, Places and Memories: the views over what Glimpse sorted by dates and places.

- ``AlbumsPage``: the folder tree (gui/album_folders.py) beside the covers of what the chosen
  folder holds (every album under "All albums": the person's own first, then trips and
  events newest first), filtered by kind; new album or folder, rename, delete, move to a
  folder (menu or drag), slideshow; opening one shows its photos.
- ``MemoriesStrip``: "On this day" and "N years ago" above the library grid, hidden on days
  with nothing to show.
- ``PlacesPage``: countries, regions and cities with their photo counts, and the chosen
  place's photos beside them.

Each reads the core off the GUI thread (``Tasks``); covers come from the window's thumbnail
cache, so nothing here touches a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPainterPath, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import (
    Album,
    AlbumDetail,
    AlbumFolder,
    AlbumTree,
    LibraryStatus,
    Memory,
    PhotoRow,
    PlaceCity,
    PlaceCountry,
    PlaceRegion,
)
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.album_folders import (
    ALL,
    MIME_ALBUM,
    FolderTree,
    ask_delete_folder,
    ask_folder,
    folder_paths,
)
from glimpse_desktop.gui.pages import TreeAndGridPage, dimmed, title_font
from glimpse_desktop.gui.photo_model import ResultListModel, Row, ThumbnailCache
from glimpse_desktop.gui.settings import app_settings
from glimpse_desktop.gui.tasks import Tasks, describe

ItemRole = Qt.ItemDataRole.UserRole + 40

BADGES = {"trip": "Trip", "event": "Event", "smart": "Smart", "manual": "", "folder": "Folder",
          "person": "Person"}
FILTERS = (("all", "All", None), ("yours", "Yours", ("manual", "smart")),
           ("trip", "Trips", ("trip",)), ("event", "Events", ("event",)))


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def date_span(start: str | None, end: str | None) -> str:
    """"May 2024", "3 – 5 May 2024", "Dec 2023 – Jan 2024": the dates a cover shows."""
    if not start:
        return ""
    try:
        a = date.fromisoformat(start[:10])
        b = date.fromisoformat((end or start)[:10])
    except ValueError:
        return ""
    if a == b:
        return f"{a.day} {a:%b %Y}"
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day} – {b.day} {a:%b %Y}"
    if a.year == b.year:
        return f"{a.day} {a:%b} – {b.day} {b:%b %Y}"
    return f"{a:%b %Y} – {b:%b %Y}"


@dataclass(slots=True)
class Cover:
    """One card: an album or a memory."""

    key: int
    title: str
    subtitle: str
    badge: str
    photo_id: int | None
    content_hash: str | None
    payload: Album | Memory | AlbumFolder | None = None


class CoverModel(QAbstractListModel):
    """Cards with their cover thumbnails (from the shared cache, repainted as they load)."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.covers: list[Cover] = []
        thumbnails.ready.connect(self._thumbnail_ready)

    def set_covers(self, covers: list[Cover]) -> None:
        self.beginResetModel()
        self.covers = covers
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.covers)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.covers):
            return None
        cover = self.covers[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cover.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{cover.title}\n{cover.subtitle}" if cover.subtitle else cover.title
        if role == ItemRole:
            return cover
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and 0 <= index.row() < len(self.covers):
            album = self.covers[index.row()].payload
            # The person's own albums can be dragged onto a folder of the tree.
            if isinstance(album, Album) and not album.auto and album.person is None:
                flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def mimeTypes(self) -> list[str]:
        return [MIME_ALBUM]

    def mimeData(self, indexes: Any) -> QMimeData:
        data = QMimeData()
        for index in indexes[:1]:
            album = self.covers[index.row()].payload
            if isinstance(album, Album):
                data.setData(MIME_ALBUM, str(album.id).encode("ascii"))
        return data

    def pixmap(self, cover: Cover) -> Any:
        if cover.photo_id is None or not cover.content_hash:
            return None
        return self.thumbnails.get(cover.photo_id, cover.content_hash)

    def _thumbnail_ready(self, content_hash: str) -> None:
        for row, cover in enumerate(self.covers):
            if cover.content_hash == content_hash:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class CoverDelegate(QStyledItemDelegate):
    """A rounded square cover, a badge for automatic albums, the title and a dimmed line."""

    def __init__(self, edge: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.edge = edge

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        line = option.fontMetrics.height()
        return QSize(self.edge + 12, self.edge + 2 * line + 18)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        cover = index.data(ItemRole)
        if not isinstance(cover, Cover):
            return
        model = index.model()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        rect = option.rect
        palette = option.palette
        square = QRect(rect.left() + 6, rect.top() + 6, self.edge, self.edge)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        clip = QPainterPath()
        clip.addRoundedRect(square, 10, 10)
        painter.setClipPath(clip)
        pixmap = model.pixmap(cover) if isinstance(model, CoverModel) else None
        if pixmap is not None and not pixmap.isNull():
            side = min(pixmap.width(), pixmap.height())
            source = QRect((pixmap.width() - side) // 2, (pixmap.height() - side) // 2,
                           side, side)
            painter.drawPixmap(square, pixmap, source)
        else:
            painter.fillRect(square, palette.color(QPalette.ColorRole.AlternateBase))
        if option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(square, QColor(255, 255, 255, 30))
        painter.setClipping(False)
        if selected:
            painter.setPen(palette.color(QPalette.ColorRole.Highlight))
            pen = painter.pen()
            pen.setWidth(3)
            painter.setPen(pen)
            painter.drawRoundedRect(square.adjusted(1, 1, -1, -1), 10, 10)
        if cover.badge:
            font = QFont(option.font)
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
            font.setBold(True)
            painter.setFont(font)
            metrics = painter.fontMetrics()
            w, h = metrics.horizontalAdvance(cover.badge) + 12, metrics.height() + 4
            badge = QRect(square.left() + 8, square.top() + 8, w, h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 160))
            painter.drawRoundedRect(badge, h / 2, h / 2)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, cover.badge)
        line = option.fontMetrics.height()
        text = QRect(square.left(), square.bottom() + 6, self.edge, line)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(cover.title,
                                                          Qt.TextElideMode.ElideRight,
                                                          self.edge))
        painter.setFont(option.font)
        painter.setPen(palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        painter.drawText(text.translated(0, line + 2),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         option.fontMetrics.elidedText(cover.subtitle,
                                                       Qt.TextElideMode.ElideRight, self.edge))
        painter.restore()


class CoverList(QListView):
    """Cards in rows that wrap (albums) or in one scrolling line (memories)."""

    def __init__(self, edge: int, *, one_line: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setSpacing(6)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setItemDelegate(CoverDelegate(edge, self))
        self.setFrameShape(QListView.Shape.NoFrame)
        if one_line:
            self.setFlow(QListView.Flow.LeftToRight)
            self.setWrapping(False)
            self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)


def _covers_of(lib: Library, items: list[Album] | list[Memory]) -> dict[int, str]:
    """Content hashes of the cover photos (read off the GUI thread with the items)."""
    ids = [i.cover for i in items if i.cover is not None]
    return {r.id: r.content_hash for r in lib.photo_rows(ids)} if ids else {}


def album_rows(album: AlbumDetail, judged: Sequence[PhotoRow] = ()) -> list[Row]:
    """An album's photos as the photo grid's rows, in the album's order; a smart album's
    with the score its search gave them. ``judged``: the library's rows of these photos
    (``Library.photo_rows``), whose hearts, stars, rejects and turns the tiles show."""
    rows = {r.id: r for r in judged}
    out = []
    for p in album.photos:
        row = (Row.of(rows[p.id]) if p.id in rows else
               Row(p.id, p.taken_ts, p.content_hash, p.filename, p.path, p.taken_at, p.status))
        row.score = p.score
        out.append(row)
    return out


class AlbumsPage(QWidget):
    """The folder tree beside the covers of what the chosen folder holds; double-click (or
    Enter) opens an album in the photo grid, or a folder's card that folder."""

    open_album = Signal(int, str)
    play_album = Signal(int)        # show this album as a slideshow

    def __init__(self, lib: Library, tasks: Tasks, thumbnails: ThumbnailCache,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks = lib, tasks
        self._filter = "all"
        self._albums: list[Album] = []
        self._tree = AlbumTree(folders=(), albums=(), auto=())
        self._hashes: dict[int, str] = {}
        self.own: list[Album] = []      # the person's albums, for "Add to album"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        head = QHBoxLayout()
        head.setContentsMargins(16, 10, 16, 4)
        head.setSpacing(6)      # the page's layout has none: its two buttons touched
        self.title = QLabel("Albums")
        self.title.setFont(title_font(self))
        self.subtitle = dimmed(QLabel())
        # Wraps rather than widening the window: the counts alone made it wider than 800 px.
        self.subtitle.setWordWrap(True)
        head.addWidget(self.title)
        head.addSpacing(12)
        head.addWidget(self.subtitle, 1)
        self.filters = QButtonGroup(self)
        for key, label, _kinds in FILTERS:
            button = QToolButton()
            button.setText(label)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setChecked(key == "all")
            button.setProperty("filter", key)
            self.filters.addButton(button)
            head.addWidget(button)
        self.filters.buttonClicked.connect(
            lambda b: self._set_filter(str(b.property("filter"))))
        head.addSpacing(12)
        self.new_folder_button = QPushButton("New folder…")
        self.new_folder_button.clicked.connect(lambda: self.new_folder())
        head.addWidget(self.new_folder_button)
        self.new_button = QPushButton("New album…")
        self.new_button.clicked.connect(lambda: self.new_album())
        head.addWidget(self.new_button)
        layout.addLayout(head)
        self.folders = FolderTree()
        self.folders.currentItemChanged.connect(lambda *_: self._fill())
        self.folders.album_activated.connect(
            lambda album: self.open_album.emit(album.id, album.title))
        self.folders.album_dropped.connect(self.move_album)
        self.folders.folder_dropped.connect(self.move_folder)
        self.folders.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.folders.customContextMenuRequested.connect(self._tree_menu)
        self.model = CoverModel(thumbnails, self)
        self.list = CoverList(176)
        self.list.setModel(self.model)
        self.list.setDragEnabled(True)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.list.activated.connect(self._activated)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.empty = dimmed(QLabel())
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setContentsMargins(40, 40, 40, 40)
        self.empty.hide()
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.list, 1)
        column.addWidget(self.empty, 1)
        split = QSplitter()
        split.addWidget(self.folders)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([230, 800])
        layout.addWidget(split, 1)

    def refresh(self) -> None:
        def read() -> tuple[AlbumTree, dict[int, str]]:
            tree = self.lib.albums.tree()
            return tree, _covers_of(self.lib, _every_album(tree))

        self.tasks.run(read, self._show, self._failed, read=True)

    def _failed(self, exc: BaseException) -> None:
        self._albums = []
        self.model.set_covers([])
        self._show_empty(f"Albums could not be read: {describe(exc)}")

    def refresh_if_shown(self) -> None:
        """After a change: the whole page if it is on screen; otherwise only the person's own
        albums ("Add to album" lists them), which is cheap: listing every album runs each
        smart album's search, and that may load the search model."""
        if self.isVisible():
            self.refresh()
        else:
            self.tasks.run(lambda: self.lib.albums.list_albums(["manual"]), self._own_read,
                           read=True)

    def _own_read(self, albums: list[Album]) -> None:
        self.own = albums

    def _show(self, found: tuple[AlbumTree, dict[int, str]]) -> None:
        self._tree, hashes = found
        self._albums = [*self._tree.albums, *_in_folders(self._tree.folders), *self._tree.auto]
        self._hashes = hashes
        self.own = [a for a in self._albums if a.kind == "manual"]
        self.folders.fill(self._tree, self.folders.key_of(self.folders.currentItem()))
        self._fill()

    def _set_filter(self, key: str) -> None:
        self._filter = key
        self._fill()

    def chosen_folder(self) -> AlbumFolder | None:
        """The folder chosen in the tree (an album's folder when an album is), None for "All
        albums"."""
        item = self.folders.currentItem()
        kind, value = self.folders.node(item)
        if kind == "album" and item is not None:
            kind, value = self.folders.node(item.parent())
        return value if kind == "folder" else None

    def _fill(self) -> None:
        kinds = dict((k, v) for k, _label, v in FILTERS)[self._filter]
        folder = self.chosen_folder()
        covers = []
        if folder is None:
            shown = [a for a in self._albums if kinds is None or a.kind in kinds]
        else:
            shown = [a for a in folder.albums if kinds is None or a.kind in kinds]
            for below in folder.folders:
                first = _first_cover(below)
                covers.append(Cover(below.id, below.name, plural(below.count, "album"),
                                    BADGES["folder"], first,
                                    None if first is None else self._hashes.get(first), below))
        for album in shown:
            cover = album.cover
            span = date_span(album.start, album.end)
            badge = BADGES["person"] if album.person is not None else BADGES.get(album.kind, "")
            covers.append(Cover(album.id, album.title,
                                " · ".join(p for p in (plural(album.count, "photo"), span) if p),
                                badge, cover,
                                None if cover is None else self._hashes.get(cover), album))
        self.model.set_covers(covers)
        own = sum(1 for a in self._albums if a.kind in ("manual", "smart"))
        auto = len(self._albums) - own
        where = f" · in {folder.path}" if folder is not None else ""
        self.subtitle.setText(f"{plural(own, 'album')} of yours · {auto:,} made for you{where}"
                              if self._albums else "")
        if not self._albums and folder is None:
            self._show_empty(
                "No albums yet. Glimpse makes albums of your events and trips from the "
                "dates and places of your photos as it reads them; make your own with "
                "“New album…”, or select photos in the library and choose “Add to album” "
                "from their menu.")
        elif not covers and folder is not None:
            self._show_empty(
                "Nobody is named yet: name people in People and each gets an album here."
                if folder.virtual else
                f"“{folder.name}” is empty: drag albums onto it in the list on the left, or "
                "choose “Move to folder…” from an album's menu.")
        elif not covers:
            self._show_empty("No albums of this kind yet.")
        else:
            self._show_empty(None)

    def _show_empty(self, text: str | None) -> None:
        self.empty.setText(text or "")
        self.empty.setVisible(bool(text))
        self.list.setVisible(not text)

    def album_at(self, row: int) -> Album | None:
        if not 0 <= row < len(self.model.covers):
            return None
        album = self.model.covers[row].payload
        return album if isinstance(album, Album) else None

    def select_folder(self, folder_id: int) -> None:
        item = self.folders.item_for(("folder", folder_id))
        if item is not None:
            self.folders.setCurrentItem(item)

    def _activated(self, index: QModelIndex) -> None:
        if not 0 <= index.row() < len(self.model.covers):
            return
        payload = self.model.covers[index.row()].payload
        if isinstance(payload, AlbumFolder):
            self.select_folder(payload.id)
        elif isinstance(payload, Album):
            self.open_album.emit(payload.id, payload.title)

    def _album_items(self, menu: QMenu, album: Album) -> None:
        menu.addAction("Open", lambda: self.open_album.emit(album.id, album.title))
        menu.addAction("Slideshow", lambda: self.play_album.emit(album.id))
        if album.person is not None:
            return      # a person's album follows the person: change them in People
        menu.addAction("Rename…", lambda: self.rename(album))
        if not album.auto:
            menu.addAction("Move to folder…", lambda: self.ask_move(album))
        menu.addAction("Delete…", lambda: self.delete(album))

    def _folder_items(self, menu: QMenu, folder: AlbumFolder) -> None:
        if folder.virtual:
            return
        menu.addAction("New folder inside…", lambda: self.new_folder(folder))
        menu.addAction("New album here…", lambda: self.new_album(folder=folder))
        menu.addAction("Rename folder…", lambda: self.rename_folder(folder))
        menu.addAction("Move folder to…", lambda: self.ask_move_folder(folder))
        menu.addAction("Delete folder…", lambda: self.delete_folder(folder))

    def _menu(self, pos: QPoint) -> None:
        index = self.list.indexAt(pos)
        payload = self.model.covers[index.row()].payload if index.isValid() else None
        menu = QMenu(self.list)
        if isinstance(payload, Album):
            self._album_items(menu, payload)
            menu.addSeparator()
        elif isinstance(payload, AlbumFolder):
            menu.addAction("Open", lambda: self.select_folder(payload.id))
            self._folder_items(menu, payload)
            menu.addSeparator()
        here = self.chosen_folder()
        menu.addAction("New album…", lambda: self.new_album(
            folder=here if here is not None and not here.virtual else None))
        menu.addAction("New folder…", lambda: self.new_folder(
            here if here is not None and not here.virtual else None))
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def _tree_menu(self, pos: QPoint) -> None:
        kind, value = self.folders.node(self.folders.itemAt(pos))
        menu = QMenu(self.folders)
        if kind == "album":
            self._album_items(menu, value)
        elif kind == "folder":
            self._folder_items(menu, value)
        if kind in (ALL, "none") or (kind == "folder" and not value.virtual):
            if menu.actions():
                menu.addSeparator()
            menu.addAction("New folder…", lambda: self.new_folder())
        if menu.actions():
            menu.exec(self.folders.viewport().mapToGlobal(pos))

    # ------------------------------------------------------------------ actions

    def new_album(self, photo_ids: list[int] | None = None, *,
                  folder: AlbumFolder | None = None) -> None:
        title, ok = QInputDialog.getText(self, "New album", "Name of the new album:")
        if not ok or not title.strip():
            return
        ids = list(photo_ids or [])
        where = None if folder is None else folder.id
        self.tasks.run(lambda: self.lib.albums.create(title.strip(), ids, folder=where),
                       lambda _album: self.refresh_if_shown(), self._warn)

    def new_folder(self, parent: AlbumFolder | None = None) -> None:
        """A new folder (inside ``parent``); "Travel/2024" makes both."""
        inside = f" inside “{parent.path}”" if parent is not None else ""
        name, ok = QInputDialog.getText(
            self, "New folder", f"Name of the new folder{inside} (Travel/2024 makes both):")
        if not ok or not name.strip():
            return
        path = f"{parent.path}/{name.strip()}" if parent is not None else name.strip()
        self.tasks.run(lambda: self.lib.albums.create_folder(path),
                       lambda made: self._made_folder(made), self._warn)

    def _made_folder(self, made: AlbumFolder) -> None:
        from glimpse_desktop.gui.album_folders import EXPANDED, _expanded_setting

        # The folders above the new one open, so the person sees where it went.
        opened = _expanded_setting() | {str(made.parent)} if made.parent else None
        if opened is not None:
            app_settings().setValue(EXPANDED, sorted(opened))
        self.refresh_if_shown()

    def rename(self, album: Album) -> None:
        title, ok = QInputDialog.getText(self, "Rename album", "New name:", text=album.title)
        if not ok or not title.strip() or title.strip() == album.title:
            return
        self.tasks.run(lambda: self.lib.albums.rename(album.id, title.strip()),
                       lambda _album: self.refresh_if_shown(), self._warn)

    def delete(self, album: Album) -> None:
        text = (f"Delete the album “{album.title}”? Its photos stay in your library"
                + (", and Glimpse will not make this album again." if album.auto else "."))
        answer = QMessageBox.question(self, "Delete album", text)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.tasks.run(lambda: self.lib.albums.delete(album.id),
                       lambda _r: self.refresh_if_shown(), self._warn)

    def ask_move(self, album: Album) -> None:
        ok, folder = ask_folder(self, folder_paths(self._tree), album.title, album.folder_id)
        if ok:
            self.move_album(album.id, folder)

    def move_album(self, album_id: int, folder_id: int | None) -> None:
        self.tasks.run(lambda: self.lib.albums.move(album_id, folder_id),
                       lambda _r: self.refresh_if_shown(), self._warn)

    def move_folder(self, folder_id: int, into: int | None) -> None:
        self.tasks.run(lambda: self.lib.albums.move_folder(folder_id, into),
                       lambda _r: self.refresh_if_shown(), self._warn)

    def ask_move_folder(self, folder: AlbumFolder) -> None:
        inside = {folder.id, *(f.id for f in _folders_below(folder))}
        paths = [(fid, path) for fid, path in folder_paths(self._tree) if fid not in inside]
        ok, into = ask_folder(self, paths, folder.name, folder.parent)
        if ok:
            self.move_folder(folder.id, into)

    def rename_folder(self, folder: AlbumFolder) -> None:
        name, ok = QInputDialog.getText(self, "Rename folder", "New name:", text=folder.name)
        if not ok or not name.strip() or name.strip() == folder.name:
            return
        self.tasks.run(lambda: self.lib.albums.rename_folder(folder.id, name.strip()),
                       lambda _r: self.refresh_if_shown(), self._warn)

    def delete_folder(self, folder: AlbumFolder) -> None:
        what = ask_delete_folder(self, folder)
        if what is None:
            return
        self.tasks.run(lambda: self.lib.albums.delete_folder(folder.id, albums=what),
                       lambda _r: self.refresh_if_shown(), self._warn)

    def _warn(self, exc: BaseException) -> None:
        QMessageBox.warning(self, "Glimpse", describe(exc))
        self.refresh()


def _in_folders(folders: tuple[AlbumFolder, ...]) -> list[Album]:
    """The person's albums filed in folders (People's are not: they are in no list but
    their folder)."""
    out: list[Album] = []
    for folder in folders:
        if folder.virtual:
            continue
        out += folder.albums
        out += _in_folders(folder.folders)
    return out


def _every_album(tree: AlbumTree) -> list[Album]:
    people = [a for f in tree.folders if f.virtual for a in f.albums]
    return [*tree.albums, *_in_folders(tree.folders), *tree.auto, *people]


def _folders_below(folder: AlbumFolder) -> list[AlbumFolder]:
    out: list[AlbumFolder] = []
    for below in folder.folders:
        out += [below, *_folders_below(below)]
    return out


def _first_cover(folder: AlbumFolder) -> int | None:
    """A folder's card shows the cover of its first album (or of a folder's inside it)."""
    for album in folder.albums:
        if album.cover is not None:
            return album.cover
    for below in folder.folders:
        found = _first_cover(below)
        if found is not None:
            return found
    return None


def _card_line(memory: Memory) -> str:
    """A memory card's second line, short enough for the card: the day itself for "On this
    day" (the strip says what the cards are), else the memory's own subtitle."""
    if memory.kind == "on_this_day" and memory.date:
        day = date.fromisoformat(memory.date)
        return f"{day.day} {day:%b %Y}"
    return memory.subtitle or plural(memory.count, "photo")


class MemoriesStrip(QWidget):
    """"On this day" and "N years ago" cards over the library grid; hidden when empty.

    One click on a card opens its photos. The cards fold away under the heading (its arrow,
    or View ▸ Show Memories; remembered), and fold by themselves while the window is too
    short for them and a useful part of the grid (``fit_height``)."""

    open_photos = Signal(str, list)
    collapsed_changed = Signal(bool)
    # Below this much window height the cards leave the grid too little room: folded.
    SHORT_WINDOW = 720

    def __init__(self, lib: Library, tasks: Tasks, thumbnails: ThumbnailCache,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks = lib, tasks
        self._short = False
        self._chosen = bool(app_settings().value("memories/collapsed", False, type=bool))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 4, 16, 0)
        layout.setSpacing(2)
        head = QHBoxLayout()
        self.toggle_button = QToolButton()
        self.toggle_button.setObjectName("memoriesToggle")
        self.toggle_button.setText("Memories")
        self.toggle_button.setFont(title_font(self, 1.1))
        self.toggle_button.setAutoRaise(True)
        self.toggle_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle_button.clicked.connect(lambda: self.set_collapsed(not self.collapsed))
        head.addWidget(self.toggle_button)
        self.count_label = dimmed(QLabel())
        head.addWidget(self.count_label)
        self.hide_button = QToolButton()
        self.hide_button.setText("Hide")
        self.hide_button.setAutoRaise(True)
        self.hide_button.setToolTip("Hide memories until tomorrow")
        self.hide_button.clicked.connect(self.hide_for_today)
        head.addStretch(1)
        head.addWidget(self.hide_button)
        layout.addLayout(head)
        self.model = CoverModel(thumbnails, self)
        self.list = CoverList(112, one_line=True)
        self.list.setModel(self.model)
        self.list.setFixedHeight(112 + 2 * self.fontMetrics().height() + 40)
        # One click opens a memory (as the README says): a card is a link, not a file to
        # select first. Not `activated` too: on desktops that activate on a single click it
        # would open it twice. Enter opens the current one (eventFilter).
        self.list.clicked.connect(self._activated)
        self.list.installEventFilter(self)
        layout.addWidget(self.list)
        self._show_state()
        self.hide()

    @property
    def collapsed(self) -> bool:
        """Whether the cards are folded away (by the person, or for a short window)."""
        return self._chosen or self._short

    def set_collapsed(self, collapsed: bool) -> None:
        """The person's choice, remembered for the next start; unfolding in a short window
        unfolds it there too."""
        self._chosen = collapsed
        if not collapsed:
            self._short = False
        app_settings().setValue("memories/collapsed", collapsed)
        self._show_state()

    def fit_height(self, window_height: int) -> None:
        """Fold the cards while the window is short; unfold them when it grows again (unless
        the person folded them)."""
        short = window_height < self.SHORT_WINDOW
        if short != self._short:
            self._short = short
            self._show_state()

    def reveal(self) -> None:
        """Shown again (Go ▸ Memories) even if hidden for today, when there are any."""
        app_settings().remove("memories/hidden_on")
        self.setVisible(bool(self.model.covers))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.list and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self._activated(self.list.currentIndex())
            return True
        return super().eventFilter(watched, event)

    def _show_state(self) -> None:
        folded = self.collapsed
        self.list.setVisible(not folded)
        self.toggle_button.setArrowType(Qt.ArrowType.RightArrow if folded
                                        else Qt.ArrowType.DownArrow)
        self.toggle_button.setToolTip("Show memories" if folded else "Fold memories away")
        self.collapsed_changed.emit(folded)

    def refresh(self) -> None:
        def read() -> tuple[list[Memory], dict[int, str]]:
            found = self.lib.auto_albums.memories()
            return found, _covers_of(self.lib, found)

        self.tasks.run(read, self._show, lambda _exc: self.hide(), read=True)

    def hide_for_today(self) -> None:
        """Out of the way until tomorrow, in this window and the next."""
        app_settings().setValue("memories/hidden_on", date.today().isoformat())
        self.hide()

    @staticmethod
    def hidden_today() -> bool:
        return bool(app_settings().value("memories/hidden_on") == date.today().isoformat())

    def _show(self, found: tuple[list[Memory], dict[int, str]]) -> None:
        memories, hashes = found
        covers = [Cover(n, memory.title, _card_line(memory), "", memory.cover,
                        hashes.get(memory.cover), memory)
                  for n, memory in enumerate(memories)]
        self.model.set_covers(covers)
        self.count_label.setText(f"· {len(covers)}" if covers else "")
        self.setVisible(bool(covers) and not self.hidden_today())

    def _activated(self, index: QModelIndex) -> None:
        if not 0 <= index.row() < len(self.model.covers):
            return
        memory = self.model.covers[index.row()].payload
        if not isinstance(memory, Memory):
            return
        title = memory.title
        if memory.subtitle:
            title = f"{title} · {memory.subtitle}"
        self.open_photos.emit(title, list(memory.photo_ids))


class PlacesPage(TreeAndGridPage):
    """Countries > regions > cities with photo counts; the chosen place's photos beside."""

    def __init__(self, lib: Library, tasks: Tasks, thumbnails: ThumbnailCache,
                 parent: QWidget | None = None) -> None:
        super().__init__(lib, tasks, thumbnails, "Place", parent)
        self.page.set_title("Places", "Choose a place on the left.")
        self.page.set_empty("Choose a country, region or city on the left.")

    def refresh(self) -> None:
        self.tasks.run(lambda: (self.lib.places.tree(), self.lib.status()), self._show,
                       lambda exc: self.page.set_empty(describe(exc)), read=True)

    def _show(self, found: tuple[list[PlaceCountry], LibraryStatus]) -> None:
        tree, status = found
        selected = self._selected()
        self.tree.clear()
        items: dict[tuple[str | None, ...], QTreeWidgetItem] = {}

        def add(parent: QTreeWidgetItem | None, label: str,
                node: PlaceCountry | PlaceRegion | PlaceCity,
                key: tuple[str | None, ...], where: str) -> QTreeWidgetItem:
            item = QTreeWidgetItem([label, f"{node.photos:,}"])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setData(0, Qt.ItemDataRole.UserRole, (key, where))
            inferred = node.inferred
            if inferred:
                item.setToolTip(0, f"{where}: {plural(node.photos, 'photo')}, "
                                   f"{inferred:,} placed by a photo taken minutes apart")
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            items[key] = item
            return item

        for country in tree:
            c_name = country.name
            c_item = add(None, c_name, country, (c_name,), c_name)
            for region in country.regions:
                # "" asks Places for the photos that have no region (or no city): the
                # key of a node is exactly the photos its count is of.
                r_name = region.name
                r_key = "" if r_name is None else r_name
                parent = c_item
                if r_name is not None:
                    parent = add(c_item, str(r_name), region, (c_name, r_key),
                                 f"{r_name}, {c_name}")
                for city in region.cities:
                    name = city.name
                    label = str(name) if name else f"Elsewhere in {r_name or c_name}"
                    where = ", ".join(str(p) for p in (name, r_name, c_name) if p)
                    add(parent, label, city, (c_name, r_key, name or ""), where)
        self.tree.expandToDepth(0)
        placed = sum(c.photos for c in tree)
        gps = status.with_gps
        if not tree:
            self.page.set_title("Places", "")
            self.page.set_empty(
                "No photo has a place yet. Photos from phones and cameras that record GPS "
                "are placed on a map of towns and cities kept on this computer as they are "
                "read — nothing is looked up online." + (
                    f" {plural(gps, 'photo')} carry a position: they are being placed."
                    if gps else ""))
        elif selected and selected in items:
            self.tree.setCurrentItem(items[selected])
        else:
            self.page.set_title("Places", f"{plural(placed, 'photo')} in "
                                          f"{plural(len(tree), 'country')}".replace(
                                              "countrys", "countries"))

    def _selected(self) -> tuple[str | None, ...] | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        key, _where = item.data(0, Qt.ItemDataRole.UserRole)
        return tuple(key)

    def _chosen(self) -> None:
        item = self.tree.currentItem()
        if item is None:
            return
        key, where = item.data(0, Qt.ItemDataRole.UserRole)
        key = tuple(key)
        country = key[0]
        region = key[1] if len(key) > 1 else None
        city = key[2] if len(key) > 2 else None

        def read() -> list[PhotoRow]:
            return self.lib.photo_rows(self.lib.places.photos(country=country, region=region,
                                                              city=city))

        self.tasks.run(read, lambda rows: self._photos(key, str(where), rows),
                       lambda exc: self.page.set_empty(describe(exc)), read=True)

    def _photos(self, key: tuple[str | None, ...], where: str,
                rows: list[PhotoRow]) -> None:
        if key != self._selected():
            return      # another place was chosen meanwhile
        model = ResultListModel(self.lib, rows, sectioned=True, thumbnails=self.thumbnails,
                                parent=self)
        self.page.grid.setModel(model)
        title = where.split(",")[0]
        self.page.set_title(title, f"{plural(len(rows), 'photo')} · {where}")
        self.page.set_empty(None if rows else "No photos here any more.")
