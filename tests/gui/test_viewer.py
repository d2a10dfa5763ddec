"""The photo viewer against a real library: real JPEGs with real EXIF, real face photos with
the default face pack, real Qt offscreen. What a person sees (the panel's texts, the image's
pixels, the boxes' names) and what the library holds after their clicks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from PySide6.QtCore import QLocale, QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel, QWheelEvent
from PySide6.QtWidgets import QApplication, QMenu, QPushButton
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.photo_model import PhotoIdRole, PhotoListModel
from glimpse_desktop.gui.tasks import Tasks
from glimpse_desktop.gui.viewer import Viewer
from tests import imagegen as ig

WAIT = 30_000




@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[Tasks]:
    tasks = Tasks()
    yield tasks
    tasks.wait()


@pytest.fixture
def british() -> Iterator[None]:
    """Dates in a known language and order, whatever the machine's locale."""
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    yield
    QLocale.setDefault(before)


def _viewer(qtbot: QtBot, lib: Library, tasks: Tasks) -> Viewer:
    viewer = Viewer(lib, tasks)
    qtbot.addWidget(viewer)
    viewer.resize(1200, 800)
    viewer.show()
    return viewer


def _row_of(model: PhotoListModel, filename: str) -> int:
    while model.canFetchMore():
        model.fetchMore()
    return next(i for i, r in enumerate(model.rows) if r.filename == filename)


def _street(folder: Path, size: tuple[int, int] = (2400, 1600), **extra: object) -> Path:
    return ig.write_jpeg(
        folder / "street.jpg", size, seed=3, datetime_original="2024:03:16 15:02:00",
        offset_time_original="+01:00", make="FUJIFILM", model="X-T4",
        lens_model="XF35mmF1.4 R", exposure_time=1 / 250, f_number=2.8, iso=100,
        focal_length=35.0, gps=(38.7223, -9.1393, 50.0),
        image_description="Tram 28 climbing towards Graça", xp_keywords=["street", "lisbon"],
        **extra)  # type: ignore[arg-type]


def test_the_panel_shows_the_photos_details(qtbot: QtBot, lib: Library, photo_dir: Path,
                                           tasks: Tasks, british: None) -> None:
    path = _street(photo_dir)
    for i in range(2):
        ig.write_jpeg(photo_dir / f"other{i}.jpg", (320, 240), seed=10 + i,
                      datetime_original=f"2023:0{i + 1}:01 10:00:00")
    lib.add_root(photo_dir)
    lib.index()
    model = PhotoListModel(lib)
    row = _row_of(model, "street.jpg")
    viewer = _viewer(qtbot, lib, tasks)
    viewer.open(model, row)
    qtbot.waitUntil(lambda: "exposure" in viewer.panel.texts, timeout=WAIT)
    texts = viewer.panel.texts
    assert texts["title"] == "street.jpg"
    assert texts["date"] == "Saturday, 16 March 2024, 15:02"
    assert texts["camera"] == "FUJIFILM X-T4"
    assert texts["lens"] == "XF35mmF1.4 R"
    assert texts["exposure"] == "1/250 s · f/2.8 · ISO 100 · 35 mm"
    assert texts["coordinates"] == "38.72230° N, 9.13930° W · 50 m"
    assert texts["size"].startswith("2,400 × 1,600 · 3.8 MP\n")
    assert texts["size"].endswith("MB · JPEG")
    assert texts["path"] == str(path)
    assert texts["description"] == "Tram 28 climbing towards Graça"
    assert texts["keywords"] == "street, lisbon"
    assert texts["date_note"] == "UTC+01:00"
    assert viewer.title.text() == "street.jpg"
    assert viewer.position.text() == f"{row + 1} of 3"
    # The preview is what is drawn first, fitted to the window.
    qtbot.waitUntil(lambda: not viewer.shown_image_size().isEmpty(), timeout=WAIT)
    assert viewer.shown_image_size() == QSize(1280, 853)
    assert viewer.canvas.is_fit() and viewer.zoom_label.text() == "Fit"
    # I folds the panel away and back; the person's own find-similar button is there.
    qtbot.keyClick(viewer, Qt.Key.Key_I)
    assert viewer.panel.isHidden()
    qtbot.keyClick(viewer, Qt.Key.Key_I)
    assert not viewer.panel.isHidden()
    photo_id = int(model.data(model.index(row), PhotoIdRole))
    with qtbot.waitSignal(viewer.find_similar) as similar:
        next(b for b in viewer.panel.body.findChildren(QPushButton)
             if b.text() == "Find similar photos").click()
    assert similar.args == [photo_id]


def test_next_and_previous_move_along_the_model_and_fetch_more(
        qtbot: QtBot, lib: Library, photo_dir: Path, tasks: Tasks) -> None:
    for i in range(5):
        ig.write_jpeg(photo_dir / f"IMG_{i}.jpg", (400, 300), seed=i,
                      datetime_original=f"2022:05:0{i + 1} 12:00:00")
    lib.add_root(photo_dir)
    lib.index()
    model = PhotoListModel(lib, page=2)
    model.fetchMore()
    assert model.rowCount() == 2
    viewer = _viewer(qtbot, lib, tasks)
    viewer.open(model, 0)

    def shown(row: int) -> bool:
        return (viewer.current_row() == row and viewer.current_photo()
                == model.data(model.index(row), PhotoIdRole) and viewer.title.text()
                == model.rows[row].filename)

    qtbot.waitUntil(lambda: shown(0), timeout=WAIT)
    assert not viewer.prev_button.isEnabled() and viewer.next_button.isEnabled()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: shown(1), timeout=WAIT)
    # Reaching the end of the rows loaded so far asks the model for more.
    assert model.rowCount() > 2
    qtbot.keyClick(viewer, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: shown(2), timeout=WAIT)
    viewer.next_button.click()
    viewer.side_next.click()
    qtbot.waitUntil(lambda: shown(4), timeout=WAIT)
    assert model.rowCount() == 5 and not model.canFetchMore()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)          # the last photo: nowhere to go
    assert viewer.current_row() == 4 and not viewer.next_button.isEnabled()
    assert viewer.position.text() == "5 of 5"
    # A zoomed photo is left for the next one fitted to the window (same size or not).
    qtbot.waitUntil(lambda: not viewer.shown_image_size().isEmpty(), timeout=WAIT)
    viewer.zoom_to(2.0)
    assert not viewer.canvas.is_fit()
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: shown(3), timeout=WAIT)
    qtbot.waitUntil(lambda: not viewer.shown_image_size().isEmpty(), timeout=WAIT)
    assert viewer.canvas.is_fit()
    qtbot.keyClick(viewer, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: shown(2), timeout=WAIT)
    # The next photo's preview was read ahead while this one was shown.
    qtbot.waitUntil(lambda: model.data(model.index(3), PhotoIdRole) in viewer._cache,
                    timeout=WAIT)
    with qtbot.waitSignal(viewer.closed):
        qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert viewer.current_row() == 2                  # what the grid selects on return
    with qtbot.waitSignal(viewer.closed):
        viewer.back_button.click()


def test_zooming_past_the_preview_loads_the_upright_original(
        qtbot: QtBot, lib: Library, photo_dir: Path, tasks: Tasks) -> None:
    # Stored on its side (EXIF orientation 6), as phones do: shown upright at every size.
    path = _street(photo_dir, (2400, 1600), orientation=6)
    lib.add_root(photo_dir)
    lib.index()
    model = PhotoListModel(lib)
    viewer = _viewer(qtbot, lib, tasks)
    viewer.open(model, _row_of(model, "street.jpg"))
    qtbot.waitUntil(lambda: not viewer.shown_image_size().isEmpty(), timeout=WAIT)
    assert viewer.shown_image_size() == QSize(853, 1280)          # the preview, upright
    assert not viewer.full_resolution_loaded()
    # Fit to the window is below the preview's pixels: no decode of the original yet.
    assert viewer.canvas.logical_size().toSize() == QSize(1600, 2400)
    qtbot.keyClick(viewer, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)   # 100 %
    assert viewer.zoom() == pytest.approx(1.0)
    centre = viewer.canvas.viewport().rect().center()
    before = viewer.canvas.mapToScene(centre)
    qtbot.waitUntil(viewer.full_resolution_loaded, timeout=WAIT)
    upright = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    assert upright.size == (1600, 2400)
    assert viewer.shown_image_size() == QSize(*upright.size)
    # Swapped in where the preview was: the same point of the photo stays in the middle.
    assert viewer.canvas.mapToScene(centre) == before
    full = viewer.canvas.image.images[-1]
    for x, y in ((10, 10), (1590, 40), (800, 2390), (400, 1200)):
        colour = full.pixelColor(x, y)
        expected = upright.getpixel((x, y))
        assert isinstance(expected, tuple)
        assert abs(colour.red() - expected[0]) <= 2
        assert abs(colour.green() - expected[1]) <= 2
        assert abs(colour.blue() - expected[2]) <= 2
    # Zooming back out draws the preview again; Enter toggles fit and 100 %.
    qtbot.keyClick(viewer, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)  # fit
    assert viewer.canvas.is_fit() and viewer.shown_image_size() == QSize(853, 1280)
    qtbot.keyClick(viewer, Qt.Key.Key_Return)
    assert viewer.zoom() == pytest.approx(1.0) and viewer.zoom_label.text() == "100 %"
    qtbot.keyClick(viewer, Qt.Key.Key_Plus)
    assert viewer.zoom() == pytest.approx(1.25)
    qtbot.keyClick(viewer, Qt.Key.Key_Return)
    assert viewer.canvas.is_fit()
    # The wheel zooms about the point under the mouse; a double click goes back to fit.
    viewer.zoom_to(1.0)
    viewport = viewer.canvas.viewport()
    at = QPoint(300, 250)
    under = viewer.canvas.mapToScene(at)
    before_zoom = viewer.zoom()
    wheel = QWheelEvent(QPointF(at), QPointF(viewport.mapToGlobal(at)), QPoint(),
                        QPoint(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    assert viewer.zoom() == pytest.approx(before_zoom * 1.25)
    moved = viewer.canvas.mapToScene(at) - under
    assert abs(moved.x()) <= 4 and abs(moved.y()) <= 4       # (whole screen pixels)
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert viewer.canvas.is_fit()
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert viewer.zoom() == pytest.approx(1.0)
    # Zooming out past fit stops at fit.
    for _ in range(12):
        qtbot.keyClick(viewer, Qt.Key.Key_Minus)
    assert viewer.canvas.is_fit() and viewer.zoom() == pytest.approx(viewer.canvas.fit_zoom())
    # A drag pans the zoomed photo.
    viewer.zoom_to(2.0)
    bar = viewer.canvas.horizontalScrollBar()
    start = bar.value()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=QPoint(600, 400))
    qtbot.mouseMove(viewport, QPoint(500, 400))
    qtbot.mouseMove(viewport, QPoint(400, 400))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=QPoint(400, 400))
    assert bar.value() == start + 200


def test_a_missing_original_still_shows_its_preview_with_a_note(
        qtbot: QtBot, lib: Library, photo_dir: Path, tasks: Tasks) -> None:
    path = _street(photo_dir, (1600, 1200))
    lib.add_root(photo_dir)
    lib.index()
    photo_id = lib.photo_page()[0].id
    lib.thumbnail(photo_id, "preview")
    path.unlink()
    lib.index()
    info = lib.photo(photo_id)
    assert info is not None and info.status == "missing"
    viewer = _viewer(qtbot, lib, tasks)
    # The library view leaves missing photos out; a list of search results may hold one.
    results = QStandardItemModel()
    item = QStandardItem("street.jpg")
    item.setData(photo_id, PhotoIdRole)
    results.appendRow(item)
    viewer.open(results, 0)
    qtbot.waitUntil(lambda: not viewer.shown_image_size().isEmpty(), timeout=WAIT)
    assert viewer.shown_image_size() == QSize(1280, 960)
    qtbot.waitUntil(viewer.notice.isVisible, timeout=WAIT)
    assert "missing" in viewer.notice.text.text()
    assert "status" in viewer.panel.texts
    # Zooming in cannot read the original: the preview stays, nothing is tried.
    viewer.zoom_to(3.0)
    assert viewer._full_state == "idle" and viewer.shown_image_size() == QSize(1280, 960)


def _menu_action(menu: QMenu, text: str) -> None:
    action = next(a for a in menu.actions() if a.text() == text)
    action.trigger()


def test_faces_are_drawn_named_and_rejected_in_the_library(
        qtbot: QtBot, few_faces_lib: Library, tasks: Tasks) -> None:
    lib = few_faces_lib
    model = PhotoListModel(lib)
    viewer = _viewer(qtbot, lib, tasks)
    viewer.open(model, _row_of(model, "obama1.jpg"))
    qtbot.waitUntil(lambda: len(viewer.shown_faces()) == 1, timeout=WAIT)
    face = viewer.shown_faces()[0]
    person = face["person"]
    assert person is not None                       # clustered with the other three photos
    assert face["label"] == "Unnamed" and face["visible"]
    assert viewer.panel.texts["people"].count("Unnamed") == 1
    # The box lies over the face, inside the photo as drawn.
    qtbot.waitUntil(lambda: not viewer.shown_image_size().isEmpty(), timeout=WAIT)
    photo_rect = viewer.canvas.mapFromScene(viewer.canvas.image.boundingRect()).boundingRect()
    assert photo_rect.contains(face["rect"])

    # Click on the box: the menu offers to name; the name line completes existing names.
    menu = viewer.face_menu(face["face"])
    assert menu is not None
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Unnamed", "Name…", "Not this person", "Show all photos of this person",
        "Ignore this face"]
    _menu_action(menu, "Name…")
    popup = viewer.name_popup
    assert popup is not None and popup.isVisible()
    qtbot.keyClicks(popup.line, "Barack Obama")
    qtbot.keyClick(popup.line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: viewer.shown_faces()[0]["label"] == "Barack Obama", timeout=WAIT)
    assert lib.people.show(person).name == "Barack Obama"      # the whole person
    assert "Barack Obama" in viewer.panel.texts["people"]
    assert len(lib.people.find("Barack Obama")) >= 3        # his other photos too

    # "Show all photos of ..." hands the person to the window.
    menu = viewer.face_menu(face["face"])
    assert menu is not None
    with qtbot.waitSignal(viewer.person_chosen) as chosen:
        _menu_action(menu, "Show all photos of Barack Obama")
    assert chosen.args == [person]

    # Shift+F hides the boxes and shows them again (F alone: favourite).
    qtbot.keyClick(viewer, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    assert not viewer.shown_faces()[0]["visible"]
    qtbot.keyClick(viewer, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    assert viewer.shown_faces()[0]["visible"]

    # "Not this person": the face leaves the person, for good, and the box says so.
    menu = viewer.face_menu(face["face"])
    assert menu is not None
    _menu_action(menu, "Not Barack Obama")
    qtbot.waitUntil(lambda: viewer.shown_faces()[0]["label"] == "Unknown", timeout=WAIT)
    assert face["face"] not in [f.face for f in lib.people.show(person).faces]
    assert lib.people.show(person).name == "Barack Obama"
    assert lib.people.photo_faces(viewer.current_photo())[0].person is None
    lib.people.recluster()
    assert lib.people.photo_faces(viewer.current_photo())[0].person != person

    # An error from the library is shown to the person, not swallowed.
    viewer.name_face(face["face"], "Unnamed 4")
    qtbot.waitUntil(lambda: viewer.notice.isVisible() and viewer.notice.level == "error",
                    timeout=WAIT)
    assert "unnamed people" in viewer.notice.text.text()


def test_a_click_on_a_face_box_opens_its_menu(qtbot: QtBot, few_faces_lib: Library,
                                             tasks: Tasks) -> None:
    model = PhotoListModel(few_faces_lib)
    viewer = _viewer(qtbot, few_faces_lib, tasks)
    viewer.open(model, _row_of(model, "friends.jpg"))
    qtbot.waitUntil(lambda: len(viewer.shown_faces()) == 6, timeout=WAIT)
    qtbot.waitUntil(lambda: not viewer.shown_image_size().isEmpty(), timeout=WAIT)
    face = viewer.shown_faces()[2]
    assert face["label"] == "Unknown"               # one photo each: no person yet
    qtbot.mouseClick(viewer.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=face["rect"].center())
    qtbot.waitUntil(lambda: any(m.isVisible() for m in viewer.findChildren(QMenu)),
                    timeout=WAIT)
    menu = next(m for m in viewer.findChildren(QMenu) if m.isVisible())
    assert [a.text() for a in menu.actions() if a.text()] == ["Unknown face", "Name…",
                                                              "Ignore this face"]
    menu.close()
    # A new name for a face of no one starts a person with that face.
    viewer.name_face(face["face"], "Courteney Cox")
    qtbot.waitUntil(lambda: viewer.shown_faces()[2]["label"] == "Courteney Cox", timeout=WAIT)
    assert [p.name for p in few_faces_lib.people.list_people()].count("Courteney Cox") == 1
