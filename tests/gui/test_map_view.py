"""The Map view in a real window over a real library (JPEGs with real GPS EXIF): markers
with counts, a click zooms into a cluster or opens a photo, an area chosen shows its photos,
and street tiles are asked of a real HTTP server on 127.0.0.1 only once turned on."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library, MapCluster, world_xy
from glimpse_desktop.gui.map_canvas import MapCanvas
from tests.test_map import ids, placed_library
from tests.tileserver import TileServer, tile_png


@pytest.fixture
def tile_server() -> Iterator[TileServer]:
    server = TileServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def map_window(qtbot: QtBot, lib: Library, photo_dir: Path, window: Any) -> Any:
    placed_library(lib, photo_dir)
    w = window(start_jobs=False)
    w.show()
    qtbot.waitExposed(w)
    w.show_view("map")
    page = w.map_page
    qtbot.waitUntil(lambda: page.view is not None and page.counts is not None)
    return w


def settled(page: Any) -> bool:
    """The clusters on screen are those of the zoom shown."""
    return page.view is not None and page.view.zoom == page.canvas.zoom and bool(
        page.canvas.clusters)


def marker(canvas: MapCanvas, count: int) -> tuple[QPoint, MapCluster]:
    canvas.repaint()
    for at, _r, cluster in canvas._placed:
        if cluster.count == count:
            return at.toPoint(), cluster
    raise AssertionError(f"no marker of {count} among {[c.count for c in canvas.clusters]}")


def test_markers_with_counts_and_the_photos_without_a_place(qtbot: QtBot,
                                                            map_window: Any) -> None:
    page = map_window.map_page
    assert page.subtitle.text() == "Photos on the map: 7, without a place: 2"
    qtbot.waitUntil(lambda: settled(page))
    assert sorted(c.count for c in page.canvas.clusters) == [1, 1, 2, 3]
    at, lisbon = marker(page.canvas, 3)
    image = page.canvas.grab().toImage()
    # A white ring round the thumbnail, and the red count badge up to its right.
    r = page.canvas.radius(lisbon)
    assert image.pixelColor(at.x(), at.y() - round(r) + 1).lightness() > 240
    badge = image.pixelColor(at.x() + round(r * 0.45) + 6, at.y() - round(r) + 5)
    assert badge.red() > 180 and badge.green() < 110
    # The thumbnail of the newest photo arrives and is drawn inside the ring.
    qtbot.waitUntil(lambda: page._thumbnail(lisbon.photo_id) is not None)


def test_a_click_zooms_into_a_cluster_then_opens_a_photo(qtbot: QtBot,
                                                          map_window: Any) -> None:
    page, canvas = map_window.map_page, map_window.map_page.canvas
    named = ids(map_window.lib)
    qtbot.waitUntil(lambda: settled(page))
    before = canvas.zoom
    at, lisbon = marker(canvas, 3)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=at)
    assert canvas.zoom > before
    shown = canvas.visible_area()
    assert shown.contains(lisbon.south, lisbon.west) and shown.contains(lisbon.north,
                                                                        lisbon.east)
    # Zoomed in, the Baixa (2 photos) and Belém (1) stand apart.
    qtbot.waitUntil(lambda: settled(page) and len(canvas.clusters) >= 2)
    assert sorted(c.count for c in canvas.clusters if shown.contains(c.lat, c.lon)) == [1, 2]
    at, belem = marker(canvas, 1)
    assert belem.photo_id == named["belem.jpg"]
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: map_window.stack.currentWidget() is map_window.viewer)
    qtbot.waitUntil(lambda: map_window.viewer.current_photo() == named["belem.jpg"])


def drag(qtbot: QtBot, canvas: MapCanvas, a: QPointF, b: QPointF,
         modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, modifier, a.toPoint())
    qtbot.mouseMove(canvas, ((a + b) / 2).toPoint())
    qtbot.mouseMove(canvas, b.toPoint())
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, modifier, b.toPoint())


def test_shift_drag_shows_the_photos_of_an_area(qtbot: QtBot, map_window: Any) -> None:
    page, canvas = map_window.map_page, map_window.map_page.canvas
    named = ids(map_window.lib)
    qtbot.waitUntil(lambda: settled(page))
    center = canvas.center
    # Around Portugal and Spain.
    drag(qtbot, canvas, canvas.to_screen(*world_xy(44, -11)),
         canvas.to_screen(*world_xy(36, 3)), Qt.KeyboardModifier.ShiftModifier)
    assert canvas.center == center                  # a selection, not a pan
    grid = map_window.results_page.grid
    qtbot.waitUntil(lambda: map_window.stack.currentWidget() is map_window.results_page
                    and grid.model() is not None and grid.model().rowCount() == 3)
    model = grid.model()
    assert sorted(model.photo_ids([model.index(r) for r in range(3)])) == sorted(
        named[n] for n in ("baixa1.jpg", "baixa2.jpg", "belem.jpg"))
    assert map_window.results_page.title.text() == "Photos in the chosen area"
    assert map_window.back_button.text() == "← Map"
    map_window.back_button.click()
    assert map_window.stack.currentWidget() is page


def test_the_select_area_tool_and_a_plain_drag(qtbot: QtBot, map_window: Any) -> None:
    page, canvas = map_window.map_page, map_window.map_page.canvas
    named = ids(map_window.lib)
    qtbot.waitUntil(lambda: settled(page))
    # Without the tool, a drag pans the map (zoomed in: the whole world does not pan).
    canvas.zoom_at(1)
    center = canvas.center
    drag(qtbot, canvas, QPointF(400, 300), QPointF(300, 300))
    assert canvas.center[0] > center[0]
    page.select_button.click()
    assert canvas.selecting
    drag(qtbot, canvas, canvas.to_screen(*world_xy(40, 130)),
         canvas.to_screen(*world_xy(30, 140)))
    grid = map_window.results_page.grid
    qtbot.waitUntil(lambda: grid.model() is not None and grid.model().rowCount() == 2)
    model = grid.model()
    assert sorted(model.photo_ids([model.index(r) for r in range(2)])) == sorted(
        [named["kyoto1.jpg"], named["kyoto2.jpg"]])
    assert not page.select_button.isChecked() and not canvas.selecting


def test_wheel_zooms_around_the_pointer(qtbot: QtBot, map_window: Any) -> None:
    canvas = map_window.map_page.canvas
    qtbot.waitUntil(lambda: settled(map_window.map_page))
    point = canvas.to_screen(*world_xy(35.0116, 135.7681))          # Kyoto
    zoom = canvas.zoom
    event = QWheelEvent(point, canvas.mapToGlobal(point), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    canvas.wheelEvent(event)
    assert canvas.zoom == zoom + 2
    after = canvas.to_screen(*world_xy(35.0116, 135.7681))
    assert abs(after.x() - point.x()) < 1 and abs(after.y() - point.y()) < 1


def test_no_tile_is_asked_for_until_street_maps_are_on(
        qtbot: QtBot, map_window: Any, tile_server: TileServer) -> None:
    lib, page, canvas = map_window.lib, map_window.map_page, map_window.map_page.canvas
    lib.config.set("map.tile_url", tile_server.url + "/{z}/{x}/{y}.png")
    page.refresh()
    qtbot.waitUntil(lambda: settled(page))
    for _ in range(3):                                   # look around: zoom in, pan
        canvas.zoom_at(2)
        canvas.set_view(canvas.zoom, (canvas.center[0] + 0.01, canvas.center[1]))
        canvas.repaint()
        qtbot.waitUntil(lambda: settled(page) or not canvas.clusters)
    assert page.tiles is None and canvas.street_tile is None and canvas.attribution == ""
    assert tile_server.paths() == []

    lib.config.set("map.tiles", True)
    page.refresh()
    qtbot.waitUntil(lambda: page.tiles is not None)
    canvas.repaint()
    n = 1 << canvas.zoom
    qtbot.waitUntil(lambda: len(page._street) >= 4)
    # The tile under the middle of the view fetched too (the first ones may lie mostly
    # above the view).
    middle = (canvas.zoom, int(canvas.center[0] * n), int(canvas.center[1] * n))
    qtbot.waitUntil(lambda: middle in page._street)
    assert all(path.startswith(f"/{canvas.zoom}/") for path in tile_server.paths())
    assert all(agent.startswith("glimpse-desktop/") for _, agent in tile_server.requests)
    assert canvas.attribution == "© OpenStreetMap contributors"
    # A tile drawn where it belongs: its pixels are the server's.
    canvas.repaint()
    image = canvas.grab().toImage()
    checked = 0
    seen: list[tuple[int, int, int, float, float]] = []
    # Pixels of whichever tiles are on screen, away from the markers and the attribution
    # drawn over them: a grid of points over each tile's visible part.
    for z, x, y in [k for k in page._street if k[0] == canvas.zoom]:
        corner = canvas.to_screen(x / n, y / n)
        seen.append((z, x, y, corner.x(), corner.y()))
        served = Image.open(io.BytesIO(tile_png(f"/{z}/{x}/{y}.png"))).convert("RGB")
        for dx in range(8, 256, 24):
            for dy in range(8, 256, 24):
                px, py = round(corner.x()) + dx, round(corner.y()) + dy
                if not (0 <= px < canvas.width() and 0 <= py < canvas.height() - 40) or any(
                        canvas.cluster_at(QPointF(px + ex, py + ey)) is not None
                        for ex in (-24, 0, 24) for ey in (-24, 0, 24)):
                    continue
                got = image.pixelColor(px, py)
                assert (got.red(), got.green(), got.blue()) == served.getpixel((dx, dy))
                checked += 1
    assert checked, (canvas.size(), canvas.zoom, seen)

    # Turned off again: the street tiles go, and nothing more is asked.
    lib.config.set("map.tiles", False)
    page.refresh()
    qtbot.waitUntil(lambda: page.tiles is None)
    assert page.tile_tasks.wait()           # requests already on their way end
    asked = len(tile_server.paths())
    canvas.zoom_at(1)
    canvas.repaint()
    assert page.tile_tasks.wait()
    assert len(tile_server.paths()) == asked and canvas.attribution == ""


def test_settings_say_what_street_maps_reveal_and_turn_them_on(
        qtbot: QtBot, lib: Library, settings: Any) -> None:
    dialog = settings("library")
    box = dialog.library.map
    texts = " ".join(label.text() for label in box.findChildren(type(dialog.library.photos)))
    assert "each tile request tells them which area you are looking at" in texts
    qtbot.waitUntil(lambda: box.url.text() == "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert not box.tiles.isChecked()
    box.tiles.setChecked(True)
    qtbot.waitUntil(lambda: lib.config.get("map.tiles") is True)
    box.url.setText("http://127.0.0.1:9/{z}/{x}.png")
    box.url.editingFinished.emit()
    assert box.notice.kind == "error" and "{y}" in box.notice.text()
    box.url.setText("http://127.0.0.1:9/tiles/{z}/{x}/{y}.png")
    box.url.editingFinished.emit()
    qtbot.waitUntil(lambda: lib.config.get("map.tile_url")
                    == "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png")
    assert lib.config.get("map.tile_url") == "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
    box.reset.click()
    qtbot.waitUntil(lambda: lib.config.describe("map.tile_url").source == "default")


def test_photos_read_while_the_map_is_shown_join_it(qtbot: QtBot, map_window: Any,
                                                     photo_dir: Path) -> None:
    from tests import imagegen as ig

    page = map_window.map_page
    qtbot.waitUntil(lambda: settled(page))
    ig.write_jpeg(photo_dir / "sydney.jpg", (96, 64), seed=50,
                  datetime_original="2024:07:01 10:00:00", gps=(-33.8568, 151.2153))
    map_window.lib.index()
    map_window.refresh_counts()            # as after every batch the window reads
    qtbot.waitUntil(lambda: page.subtitle.text()
                    == "Photos on the map: 8, without a place: 2", timeout=15_000)
    qtbot.waitUntil(lambda: sum(c.count for c in page.canvas.clusters) == 8)
