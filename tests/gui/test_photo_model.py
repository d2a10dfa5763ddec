"""The library's list model against a real library: pages fetched as the view scrolls,
thumbnails loaded off the GUI thread, new photos inserted in place (never a model reset)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt, QThread
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QListView
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.photo_model import PathRole, PhotoIdRole, PhotoListModel, ThumbnailCache
from tests import imagegen as ig


def _album(folder: Path, n: int) -> None:
    for i in range(n):
        day = f"2022:{1 + i % 12:02d}:{1 + i % 27:02d}"
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (96, 64), seed=i,
                      datetime_original=f"{day} 09:{i % 60:02d}:00")


def test_pages_arrive_as_the_view_scrolls(qtbot: QtBot, lib: Library, photo_dir: Path) -> None:
    _album(photo_dir, 23)
    lib.add_root(photo_dir)
    lib.index()
    model = PhotoListModel(lib, page=10)
    assert model.rowCount() == 0 and model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 10
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 23 == lib.photo_count()
    ids = [model.data(model.index(i), PhotoIdRole) for i in range(23)]
    assert ids == [p.id for p in lib.photo_page(limit=100)]     # newest first, no repeats
    # A view asks for more by itself as it is shown and scrolled.
    fresh = PhotoListModel(lib, page=5)
    view = QListView()
    view.setModel(fresh)
    view.resize(300, 200)
    view.show()
    qtbot.waitUntil(lambda: fresh.rowCount() >= 5)
    view.scrollToBottom()
    qtbot.waitUntil(lambda: fresh.rowCount() > 5)


def test_thumbnails_load_off_the_gui_thread_into_a_bounded_cache(
        qtbot: QtBot, lib: Library, photo_dir: Path) -> None:
    _album(photo_dir, 8)
    lib.add_root(photo_dir)
    lib.index()
    # One photo's grid thumbnail is gone from the cache: it is made again, off the GUI thread.
    first = lib.photo_page(limit=1)[0]
    lib.thumbnails.path_for(first.content_hash).unlink()
    threads: set[object] = set()
    original = lib.thumbnail

    def spy(*args: object, **kwargs: object) -> Path:
        threads.add(QThread.currentThread())
        return original(*args, **kwargs)  # type: ignore[arg-type]

    lib.thumbnail = spy  # type: ignore[method-assign]
    cache = ThumbnailCache(lib, capacity=5)
    model = PhotoListModel(lib, thumbnails=cache)
    model.fetchMore()
    placeholder = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    assert isinstance(placeholder, QPixmap)
    changed: list[int] = []
    model.dataChanged.connect(lambda top, bottom, roles: changed.append(top.row()))
    for i in range(8):
        model.data(model.index(i), Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: len(set(changed)) == 8, timeout=20_000)
    assert threads and QThread.currentThread() not in threads
    assert lib.thumbnails.has(first.content_hash)
    assert len(cache) == 5                       # least recently used ones went
    shown = [model.data(model.index(i), Qt.ItemDataRole.DecorationRole) for i in range(8)]
    assert sum(max(p.width(), p.height()) == 96 for p in shown) == 5   # the rest: placeholders


def test_new_photos_are_inserted_in_place_without_a_reset(
        qtbot: QtBot, lib: Library, photo_dir: Path, tmp_path: Path) -> None:
    _album(photo_dir, 6)
    lib.add_root(photo_dir)
    lib.index()
    model = PhotoListModel(lib)
    model.fetchMore()
    resets: list[bool] = []
    inserted: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    # A photo taken between the others arrives (as the watcher would report it).
    ig.write_jpeg(tmp_path / "late.jpg", (96, 64), seed=99,
                  datetime_original="2022:03:15 12:00:00")
    shutil.copy(tmp_path / "late.jpg", photo_dir / "late.jpg")
    report = lib.index()
    assert report.new == 1
    assert model.add_photos(report.photo_ids) == 1
    assert resets == [] and len(inserted) == 1
    order = [model.data(model.index(i), PhotoIdRole) for i in range(model.rowCount())]
    assert order == [p.id for p in lib.photo_page(limit=100)]
    assert model.data(model.index(inserted[0][0])) == "late.jpg"
    # Adding the same photo again changes nothing.
    assert model.add_photos(report.photo_ids) == 0
    assert model.rowCount() == 7 and len(inserted) == 1
    # A photo renamed on disk keeps its row, with its new path; a deleted one leaves.
    late = photo_dir / "late.jpg"
    late.rename(photo_dir / "late-renamed.jpg")
    (photo_dir / "IMG_0000.jpg").unlink()
    report = lib.index()
    assert report.moved == 1
    changed: list[int] = []
    model.dataChanged.connect(lambda top, bottom, roles: changed.append(top.row()))
    assert model.add_photos(report.photo_ids) == 0
    assert model.rowCount() == 6 and len(inserted) == 1 and resets == []
    paths = [model.data(model.index(i), PathRole) for i in range(model.rowCount())]
    assert str(photo_dir / "late-renamed.jpg") in paths
    assert str(photo_dir / "IMG_0000.jpg") not in paths
    # A folder of new photos taken together arrives as one insertion, not one per photo.
    for i in range(5):
        ig.write_jpeg(photo_dir / f"burst_{i}.jpg", (96, 64), seed=200 + i,
                      datetime_original=f"2022:03:16 12:00:0{i}")
    report = lib.index()
    assert report.new == 5
    assert model.add_photos(report.photo_ids) == 5
    assert len(inserted) == 2 and inserted[-1][1] - inserted[-1][0] == 4
    order = [model.data(model.index(i), PhotoIdRole) for i in range(model.rowCount())]
    assert order == [p.id for p in lib.photo_page(limit=100)]
    assert model.rowCount(model.index(0)) == 0 and not model.canFetchMore(model.index(0))
    assert model.data(QModelIndex()) is None


def test_the_qt_binding_does_not_lose_references_to_none(qtbot: QtBot, lib: Library) -> None:
    """PySide6 6.12.0 released a reference to None every time a model's data() returned None
    through C++; a grid painting a few thousand tiles then killed the interpreter. The pin in
    constraints.txt avoids it; this keeps the next upgrade honest."""
    import sys

    model = PhotoListModel(lib)
    model.fetchMore()
    index = model.index(0)           # invalid: data() answers None
    before = sys.getrefcount(None)
    for _ in range(2000):
        assert index.data(Qt.ItemDataRole.UserRole + 99) is None
    assert sys.getrefcount(None) - before > -100


def test_tiles_are_made_square_at_the_grid_size_off_the_gui_thread(
        qtbot: QtBot, lib: Library, photo_dir: Path) -> None:
    _album(photo_dir, 2)
    lib.add_root(photo_dir)
    lib.index()
    cache = ThumbnailCache(lib, size=48)
    model = PhotoListModel(lib, thumbnails=cache)
    model.fetchMore()
    model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: len(cache) == 1)
    tile = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    assert (tile.width(), tile.height()) == (48, 48)          # the 96x64 photo's centre square
    # A zoom: the old tile is still given (the view scales it) while the new size loads.
    cache.set_size(80)
    assert model.data(model.index(0), Qt.ItemDataRole.DecorationRole).width() == 48
    qtbot.waitUntil(lambda: model.data(model.index(0),
                                       Qt.ItemDataRole.DecorationRole).width() == 80)


def test_a_tile_is_the_centre_square_scaled_and_a_broken_file_is_named(
        qtbot: QtBot, tmp_path: Path) -> None:
    from PIL import Image

    from glimpse_desktop.api.library import LibraryError
    from glimpse_desktop.gui.photo_model import read_tile

    # 300x100: a red band, a green centre square, a blue band; as JPEG and as PNG.
    image = Image.new("RGB", (300, 100), (220, 0, 0))
    image.paste((0, 200, 0), (100, 0, 200, 100))
    image.paste((0, 0, 220), (200, 0, 300, 100))
    for name in ("wide.jpg", "wide.png"):
        image.save(tmp_path / name)
        tile = read_tile(str(tmp_path / name), 40)
        assert (tile.width(), tile.height()) == (40, 40)
        for x, y in ((1, 1), (20, 20), (38, 38)):                   # only the green square
            colour = tile.pixelColor(x, y)
            assert colour.green() > 150 and colour.red() < 60 and colour.blue() < 60, name
    assert read_tile(str(tmp_path / "wide.png"), 0).width() == 300   # size 0: as it is
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "wide.jpg").read_bytes()[:40])
    with pytest.raises(LibraryError, match=r"cut\.jpg"):
        read_tile(str(tmp_path / "cut.jpg"), 40)
    with pytest.raises(OSError):
        read_tile(str(tmp_path / "gone.jpg"), 40)
