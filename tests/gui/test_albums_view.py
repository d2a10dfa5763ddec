"""Albums, Places and Memories in the window, against a real library of photos with EXIF dates
and GPS: the places tree and a city's photos, albums as covers that open into the grid, "Add
to album" and "Remove from album" from the grid's menu, and memories of this day in earlier
years over the library grid."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.photo_model import PhotoIdRole
from tests import imagegen as ig

LISBON = (38.7223, -9.1393)
PORTO = (41.1496, -8.6109)
KYOTO = (35.0116, 135.7681)


def _trip(lib: Library, folder: Path) -> None:
    """Six photos in Lisbon, three in Porto, two in Kyoto, one with no position; two taken on
    today's date in earlier years."""
    today = date.today()
    shots = [(LISBON, f"2023:05:{d:02d} 1{d % 10}:00:00") for d in (6, 6, 7, 7, 8, 8)]
    shots += [(PORTO, f"2023:06:{d:02d} 12:00:00") for d in (10, 10, 11)]
    shots += [(KYOTO, "2024:03:12 09:00:00"), (KYOTO, "2024:03:12 09:30:00")]
    shots += [(None, "2022:01:15 08:00:00")]
    day = "28" if (today.month, today.day) == (2, 29) else f"{today.day:02d}"
    shots += [(LISBON, f"{today.year - 3}:{today.month:02d}:{day} 10:00:00"),
              (LISBON, f"{today.year - 3}:{today.month:02d}:{day} 10:05:00")]
    for i, (gps, when) in enumerate(shots):
        fields: dict[str, object] = {"datetime_original": when, "make": "Apple",
                                     "model": "iPhone 13"}
        if gps is not None:
            fields["gps"] = gps
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (96, 64), seed=i, **fields)  # type: ignore[arg-type]
    lib.add_root(folder)
    lib.index()
    lib.places.update()


def _item(tree: object, *path: str) -> QTreeWidgetItem:
    items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]  # type: ignore[attr-defined]
    found: QTreeWidgetItem | None = None
    for name in path:
        found = next(i for i in items if i.text(0) == name)
        items = [found.child(i) for i in range(found.childCount())]
    assert found is not None
    return found


def _descendants(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    out = [item]
    for i in range(item.childCount()):
        out += _descendants(item.child(i))
    return out


def test_places_show_countries_and_cities_and_a_citys_photos(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: object) -> None:
    _trip(lib, photo_dir)
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    w.show_view("places")
    tree = w.places_page.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 2)
    portugal = _item(tree, "Portugal")
    assert portugal.text(1) == "11"              # 6 + 3 + 2 of this day, earlier years
    assert _item(tree, "Japan").text(1) == "2"
    lisbon = next(i for i in _descendants(portugal) if i.text(0) == "Lisbon")
    assert lisbon.text(1) == "8"
    tree.setCurrentItem(lisbon)
    grid = w.places_page.grid
    qtbot.waitUntil(lambda: grid.model() is not None and grid.model().rowCount() == 8)
    assert w.places_page.page.title.text() == "Lisbon"
    assert "Portugal" in w.places_page.page.subtitle.text()


def test_albums_open_into_the_grid_and_photos_are_added_and_removed_from_the_menu(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: object) -> None:
    _trip(lib, photo_dir)
    kyoto = lib.places.photos(city="Kyoto")
    lib.albums.create("Best of Kyoto", kyoto)
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    # Read after the first paint for "Add to album", without the whole Albums page.
    qtbot.waitUntil(lambda: [a.title for a in w.albums_page.own] == ["Best of Kyoto"])
    assert w.albums_page.model.rowCount() == 0
    w.show_view("albums")
    page = w.albums_page
    qtbot.waitUntil(lambda: any(c.title == "Best of Kyoto" for c in page.model.covers))
    row = next(i for i, c in enumerate(page.model.covers) if c.title == "Best of Kyoto")
    cover = page.model.covers[row]
    assert cover.subtitle == "2 photos · 12 Mar 2024" and cover.content_hash
    page.list.activated.emit(page.model.index(row))
    grid = w.results_page.grid
    qtbot.waitUntil(lambda: grid.model() is not None and grid.model().rowCount() == 2)
    assert w.results_page.title.text() == "Best of Kyoto"
    assert w.back_button.text() == "← Albums"
    shown = {int(grid.model().data(grid.model().index(r, 0), PhotoIdRole)) for r in range(2)}
    assert shown == set(kyoto)

    # "Remove from album" in the photo's menu takes it out of the album and the grid.
    grid.setCurrentIndex(grid.model().index(0, 0))
    first = int(grid.model().data(grid.model().index(0, 0), PhotoIdRole))
    menu = w._grid_menu(grid, grid.visualRect(grid.model().index(0, 0)).center())
    assert isinstance(menu, QMenu) and menu.isVisible()
    remove = next(a for a in menu.actions() if a.text() == "Remove from album")
    remove.trigger()
    menu.close()
    qtbot.waitUntil(lambda: grid.model().rowCount() == 1)
    assert lib.albums.photo_ids("Best of Kyoto") == [i for i in kyoto if i != first]
    # Other photos in the same results grid (a search, a memory) are not the album's.
    w.show_photo_ids("Kyoto", kyoto)
    qtbot.waitUntil(lambda: grid.model() is not None and grid.model().rowCount() == 2)
    menu = w._grid_menu(grid, grid.visualRect(grid.model().index(0, 0)).center())
    assert isinstance(menu, QMenu)
    assert "Remove from album" not in [a.text() for a in menu.actions()]
    menu.close()

    # "Add to album" from the library grid puts it back.
    w.show_view("library")
    library = w.library_page.grid
    qtbot.waitUntil(lambda: w.model.rowCount() > 0)
    row_of = w.model.row_of(first)
    assert row_of is not None
    library.setCurrentIndex(w.model.index(row_of, 0))
    menu = w._grid_menu(library, library.visualRect(w.model.index(row_of, 0)).center())
    assert isinstance(menu, QMenu)
    add_menu = next(a.menu() for a in menu.actions() if a.text() == "Add to album")
    add = next(a for a in add_menu.actions() if a.text() == "Best of Kyoto")
    add.trigger()
    menu.close()
    qtbot.waitUntil(lambda: sorted(lib.albums.photo_ids("Best of Kyoto")) == sorted(kyoto))


def test_memories_of_this_day_show_over_the_library_and_open(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: object) -> None:
    _trip(lib, photo_dir)
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    w.memories.refresh()
    strip = w.memories
    qtbot.waitUntil(lambda: strip.isVisible() and strip.model.rowCount() >= 1)
    first = strip.model.covers[0]
    assert first.title == "3 years ago"
    # The card's second line is the day, whole: "On this day, 7 D…" was cut at card width.
    memory = first.payload
    day = date.fromisoformat(memory.date)
    assert first.subtitle == f"{day.day} {day:%b %Y}"
    metrics = strip.list.fontMetrics()
    assert metrics.horizontalAdvance(first.subtitle) < strip.list.visualRect(
        strip.model.index(0)).width()
    # One click opens it (README: "click one to see its photos").
    qtbot.mouseClick(strip.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=strip.list.visualRect(strip.model.index(0)).center())
    grid = w.results_page.grid
    qtbot.waitUntil(lambda: grid.model() is not None and grid.model().rowCount() == 2)
    assert w.results_page.title.text().startswith("3 years ago")
    # Hidden until tomorrow: a refresh (or the next window) keeps it out of the way.
    strip.hide_button.click()
    assert strip.isHidden()
    # Wait for the refresh to come back (its covers arrive) before saying it stayed hidden.
    with qtbot.waitSignal(strip.model.modelReset):
        strip.refresh()
    assert strip.isHidden() and strip.model.rowCount() >= 1


def test_a_library_without_positions_says_how_places_come(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: object) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", (96, 64), datetime_original="2023:01:01 10:00:00")
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    w.show_view("places")
    qtbot.waitUntil(lambda: "No photo has a place yet" in w.places_page.page.empty.text())
    w.show_view("albums")
    qtbot.waitUntil(lambda: "No albums yet" in w.albums_page.empty.text())
    with qtbot.waitSignal(w.memories.model.modelReset):
        w.memories.refresh()
    assert w.memories.isHidden() and w.memories.model.rowCount() == 0


def test_the_albums_page_shows_each_trip_once_and_no_ordinary_day(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: object) -> None:
    """The albums Glimpse made of a real library (test_auto_albums' world: months of
    ordinary Saturdays at home, a party, Christmas, trips, a day away, undated files), as the
    Albums page shows them: what a person would expect, nothing more."""
    from tests.test_auto_albums import EXPECTED, make_world

    make_world(photo_dir)
    lib.set_faces(False)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    w.show_view("albums")
    page = w.albums_page
    qtbot.waitUntil(lambda: page.model.rowCount() > 0)       # all covers come at once
    badges = {"trip": "Trip", "event": "Event"}
    assert sorted((c.badge, c.title) for c in page.model.covers) == sorted(
        (badges[kind], title) for kind, title in EXPECTED)
    assert page.subtitle.text() == f"0 albums of yours · {len(EXPECTED)} made for you"
