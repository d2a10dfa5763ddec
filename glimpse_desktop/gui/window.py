"""The main window: search box on top, sidebar of views, the views, live status below.

Start-up is ordered for a fast first paint: the window and the first page of the library grid
appear first; reading new photos (``Library.index``, which loads the models it needs in its
own thread) and then watching the folders start afterwards, as a job in the status bar.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from PySide6.QtCore import (
    QPoint,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeyEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSlider,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import Hit, LibraryStatus, Photo, PhotoRow
from glimpse_desktop.api.library import IndexReport, Library
from glimpse_desktop.gui import follow_ups, judge_actions, photo_menu, result_views
from glimpse_desktop.gui.follow_ups import index_summary
from glimpse_desktop.gui.grid import MAX_TILE, MIN_TILE, PhotoGrid
from glimpse_desktop.gui.hooks import Page
from glimpse_desktop.gui.pages import (
    FolderBrowserPage,
    GridPage,
    WelcomePage,
    folders_of,
)
from glimpse_desktop.gui.photo_model import (
    PAGE,
    PagedResultModel,
    PhotoIdRole,
    ResultListModel,
    Row,
    ThumbnailCache,
)
from glimpse_desktop.gui.search_bar import SearchBox, count_title, phrase, short_notice
from glimpse_desktop.gui.settings import app_settings
from glimpse_desktop.gui.sidebar import Sidebar
from glimpse_desktop.gui.statusbar import JobStatus, ProblemsDialog
from glimpse_desktop.gui.tasks import Job, Jobs, Tasks, describe
from glimpse_desktop.gui.timeline_model import TimelineModel
from glimpse_desktop.gui.wording import quoted
from glimpse_desktop.kernel.progress import Progress

# Search results are ranked (and counted) this deep, and shown a page at a time as the grid
# scrolls; the header says "at least" when more than this many match.
SEARCH_DEPTH = 10_000


class MainWindow(QMainWindow):
    """Glimpse's window over one open library."""

    def __init__(self, lib: Library, *, start_jobs: bool = True, page: int = PAGE,
                 parent: QWidget | None = None) -> None:
        """``start_jobs``: read new photos and watch the folders once shown (tests of
        the views alone turn it off); ``page``: rows the library grid fetches at a time."""
        super().__init__(parent)
        self.lib = lib
        # The window keeps the library open: what follows an index may go on in threads of
        # its own (the change chain's captions for new photos).
        lib.stays_open = True
        self.start_jobs = start_jobs
        self.setWindowTitle("Glimpse")
        self.setAcceptDrops(True)
        self.tasks = Tasks(self)
        self.jobs = Jobs(self, thread_end=lib.release_reader)
        self.thumbnails = ThumbnailCache(lib, parent=self, threads=2)
        self.watcher: Any = None
        self.index_job: Job | None = None
        self._closing = False
        self._last_id = 0
        self._query = ""
        self._back_to = "library"
        self._viewer_grid: PhotoGrid | None = None
        self._starting: Any = None
        self._status_busy = False
        self._status_again = False
        # Photos a cancelled read left unread (0: how many is not known); None: none.
        self._unread: int | None = None
        self._results_section = "library"
        self._back_page: QWidget | None = None

        # ---- the library grid (built first: it is what the first paint shows)
        self.page = page
        self.model = TimelineModel(lib, page=page, thumbnails=self.thumbnails, parent=self)
        self.model.background = self._read_in_background
        self.library_page = GridPage()
        self.library_page.grid.setModel(self.model)
        self.library_page.grid.show_timeline()
        self.results_page = GridPage()
        self.back_button = QToolButton()
        self.back_button.setText("← Library")
        self.back_button.setAutoRaise(True)
        self.back_button.clicked.connect(self._results_back)
        self.results_page.tools.addWidget(self.back_button)

        # ---- other views (People, viewer: their own modules)
        from glimpse_desktop.gui.people import PeopleView
        from glimpse_desktop.gui.viewer import Viewer

        self.people_page = PeopleView(lib, self.tasks)
        self.viewer = Viewer(lib, self.tasks)
        self.welcome = WelcomePage()
        self.folders_page = FolderBrowserPage(lib, self.tasks, self.thumbnails)
        from glimpse_desktop.gui.duplicates_view import DuplicatesReview

        self.duplicates_page = DuplicatesReview(self)
        from glimpse_desktop.gui.albums_view import AlbumsPage, MemoriesStrip, PlacesPage

        self.albums_page = AlbumsPage(lib, self.tasks, self.thumbnails)
        self.places_page = PlacesPage(lib, self.tasks, self.thumbnails)
        from glimpse_desktop.gui.map_view import MapPage

        self.map_page = MapPage(lib, self.tasks, self.thumbnails)
        self.memories = MemoriesStrip(lib, self.tasks, self.thumbnails)
        self.library_page.insert_above_grid(self.memories)
        self._album_shown: int | None = None
        self._album_kind = ""
        self._collections_read = False
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {
            "welcome": self.welcome, "library": self.library_page, "results": self.results_page,
            "people": self.people_page, "albums": self.albums_page, "places": self.places_page,
            "folders": self.folders_page, "duplicates": self.duplicates_page,
            "viewer": self.viewer, "map": self.map_page}
        for widget in self.pages.values():
            self.stack.addWidget(widget)

        # ---- top bar: search and zoom
        self.search = SearchBox()
        self.search.submitted.connect(self.run_search)
        self.search.cleared.connect(self.show_library)
        self.search.focused.connect(self.update_vocabulary)
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(MIN_TILE, MAX_TILE)
        self.zoom.setValue(self.library_page.grid.tile())
        self.zoom.setFixedWidth(140)
        self.zoom.setToolTip("Tile size (Ctrl + mouse wheel)")
        self.zoom.valueChanged.connect(self._zoom)
        self._zoom(self.zoom.value())
        self.settings_button = QToolButton()
        self.settings_button.setText("Settings")
        self.settings_button.setIcon(QIcon.fromTheme("preferences-system"))
        self.settings_button.setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_button.setToolTip("Settings (Ctrl+,)")
        self.settings_button.setAutoRaise(True)
        self.settings_button.clicked.connect(self.open_settings)
        top = QHBoxLayout()
        top.setContentsMargins(10, 8, 10, 8)
        top.addWidget(self.search, 1)
        top.addSpacing(12)
        small = QLabel("▫")
        top.addWidget(small)
        top.addWidget(self.zoom)
        top.addWidget(QLabel("◻"))
        top.addSpacing(8)
        top.addWidget(self.settings_button)

        self.sidebar = Sidebar()
        self.sidebar.chosen.connect(self.show_view)
        # Pages plugins add (glimpse_gui_pages), built the first time they are shown.
        self.plugin_pages: dict[str, Page] = {}
        for extra in lib.plugins.collect("glimpse_gui_pages"):
            if isinstance(extra, Page) and extra.key not in self.pages | self.plugin_pages:
                self.plugin_pages[extra.key] = extra
                self.sidebar.add_view(extra.key, extra.title)
        split = QSplitter()
        split.addWidget(self.sidebar)
        split.addWidget(self.stack)
        split.setStretchFactor(1, 1)
        split.setSizes([210, 1000])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.setCentralWidget(central)
        self.status = JobStatus(self.jobs)
        self.setStatusBar(self.status)
        for grid_page in (self.library_page, self.results_page):
            grid_page.grid.selection_count_changed.connect(self.status.set_selected)
        self.status.problems_clicked.connect(self.show_problems)
        self.status.resume_clicked.connect(self.resume_reading)
        self.jobs.started.connect(self.sidebar.add_job)
        self.jobs.ended.connect(self.sidebar.end_job)
        self.tasks.error.connect(lambda why: self.status.set_idle(f"⚠ {why}"))
        self._report.connect(self._watched)
        self._watch_progress.connect(self._watching_progress)

        # ---- wiring between views
        for grid in self.grids():
            self._wire_grid(grid)
        self.viewer.closed.connect(self._viewer_closed)
        self.viewer.find_similar.connect(self.find_similar)
        self.viewer.person_chosen.connect(self.show_person)
        self.viewer.photo_menu.connect(self._viewer_menu)
        # Edits go through the change chain (write-back keeps sidecars in step). The viewer
        # says a photo's caption or face names changed, not which: naming a face may name
        # its whole group, so any photo may have changed.
        self.viewer.metadata_changed.connect(lambda _id: self.photos_changed(None, "edited"))
        # Favourite, stars, reject, rotate: keys, the "Photo" menu's actions, viewer buttons.
        judge_actions.window_actions(self)
        self.people_page.people_changed.connect(lambda: self.photos_changed(None, "people"))
        self.people_page.show_photos.connect(self.show_person_photos)
        self.albums_page.open_album.connect(self.show_album)
        self.map_page.open_photo.connect(self.open_photo_id)
        self.map_page.show_photos.connect(
            lambda title, ids: self.show_photo_ids(title, ids, section="map"))
        self.memories.open_photos.connect(
            lambda title, ids: self.show_photo_ids(title, ids, section="library"))
        if hasattr(self.people_page, "open_photo"):
            self.people_page.open_photo.connect(self.open_photo_id)
        self.welcome.add_folders.connect(self.add_folders)
        from glimpse_desktop.gui import slideshow  # F5, and Slideshow on results and albums

        slideshow.install(self)
        self._pull = QTimer(self, interval=1500)
        self._pull.timeout.connect(self._pull_new_photos)
        # The change chain after edits, a little after them (once for a burst); captions
        # the chain starts in the background, shown as a job.
        self.changes = follow_ups.Changes(self)
        self.caption_runs = follow_ups.BackgroundCaptions(self)
        self._watch_check = QTimer(self, interval=3000)
        self._watch_check.timeout.connect(self._check_watcher)
        self._watch_check.start()
        # Models idle for a while (the `models.unload_after` setting) give their memory back.
        self._unload = QTimer(self, singleShot=True, interval=1000)
        self._unload.timeout.connect(self._unload_idle_models)
        self._unload.start()
        # Delete to the trash, Recently deleted, and the daily check (gui/trash_view.py).
        from glimpse_desktop.gui import trash_view

        trash_view.install(self)
        self._restore()
        # The menu bar and every window-level shortcut (gui/menus.py).
        from glimpse_desktop.gui.menus import WindowMenus

        self.menus = WindowMenus(self)

        if lib.root_paths():
            self.show_view("library")
        else:
            self.show_view("welcome")
        self.refresh_counts()

    # ------------------------------------------------------------------ start and stop

    def grids(self) -> list[PhotoGrid]:
        return [self.library_page.grid, self.results_page.grid, self.folders_page.grid,
                self.places_page.grid]

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.memories.fit_height(self.height())

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.start_jobs and self.index_job is None and self.watcher is None:
            # After the first paint: reading photos loads models; never before the window.
            QTimer.singleShot(50, self.start_background)
        if not self._collections_read:
            # Memories over the grid and the albums "Add to album" offers, read after the
            # first paint.
            self._collections_read = True
            QTimer.singleShot(100, self.memories.refresh)
            QTimer.singleShot(150, self.albums_page.refresh_if_shown)

    def start_background(self) -> None:
        """Read what changed since last time, then watch the folders."""
        if self._closing or not self.lib.root_paths():
            return
        self.index_now(then_watch=True)

    def index_now(self, *, then_watch: bool = False) -> None:
        if self.index_job is not None and not self.index_job.done:
            return

        def done(report: IndexReport | None) -> None:
            job, self.index_job = self.index_job, None
            self._pull.stop()
            if self._closing:
                return
            if report is None or report.cancelled:
                # Cancelled: what is left is read at the next change the watcher sees, at
                # Resume, or at the next start; until then the status bar says so.
                last = job.last if job is not None else None
                self._unread = (last.total - last.done if last is not None and last.total
                                and last.done < last.total else 0)
            else:
                self._unread = None
            if self.watcher is not None:
                self._show_watching()
            if report is not None:
                self.refresh_rows(report.photo_ids)
                self._pull_new_photos()
                self.status.set_idle(index_summary(report))
            self.refresh_counts()
            self.people_page.refresh()
            self.memories.refresh()
            self.albums_page.refresh_if_shown()
            # index() has run the change chain itself (captions, write-back): not again here.
            if then_watch:
                self.start_watching()

        def failed(why: str) -> None:
            self.index_job = None
            self._pull.stop()
            if self._closing:
                return
            self.status.set_idle(f"⚠ Reading photos failed: {why}")
            if then_watch:
                self.start_watching()

        self._last_id = self._max_id()
        self.status.set_resumable(False)
        self.index_job = self.start_job(
            "Reading photos", lambda progress, cancel: self.lib.index(progress=progress,
                                                                      cancel=cancel),
            done, failed)
        self._pull.start()

    def _read_in_background(self, fn: Any, done: Any, failed: Any) -> None:
        def report(exc: BaseException) -> None:
            failed(exc)
            self.status.set_idle(f"⚠ {describe(exc)}")
        self.tasks.run(fn, done, report, read=True)

    def start_job(self, name: str, work: Any, done: Any = None, failed: Any = None) -> Job:
        return self.jobs.start(name, work, done, failed)

    def _max_id(self) -> int:
        ids = self.lib.photos_added_after(None)
        return ids[-1] if ids else 0

    def _pull_new_photos(self) -> None:
        """While photos are being read, show the new ones as they are written."""
        ids = self.lib.photos_added_after(self._last_id)
        if ids:
            self._last_id = ids[-1]
            self.refresh_rows(ids)
            self.refresh_counts()

    def refresh_rows(self, photo_ids: list[int], *, held: bool = False) -> None:
        """Bring the rows of these photos up to date in every grid: their rows are read off
        the GUI thread, then inserted, refreshed or dropped in place in the library grid, and
        refreshed (or dropped, or put back) in the other grids that hold them (results, an
        album, a person's photos, a folder). ``held``: photos the library listed already
        (judged): none is inserted in the library grid as new."""
        if not photo_ids or self._closing:
            return
        model = self.model
        ids = list(photo_ids)

        def read() -> list[Row]:
            return [Row.of(r) for r in self.lib.photo_rows(ids)]

        def apply(rows: list[Row]) -> None:
            if self._closing:
                return
            if model is self.model:          # not a model since replaced
                model.apply_rows(rows, held=held)
            for grid in self.grids():
                other = grid.model()
                if isinstance(other, ResultListModel):
                    # Each its own copy: a model keeps the rows it is given.
                    other.apply_rows([dataclasses.replace(r) for r in rows])

        self.tasks.run(read, apply, read=True)

    def start_watching(self) -> None:
        if self.watcher is not None or self._starting is not None or self._closing:
            return
        watcher = self.lib.watcher(on_report=self._bridge_report, catch_up=False,
                                   progress=self._watch_progress.emit)

        def started(_result: object) -> None:
            self._starting = None
            if self._closing:
                return           # closeEvent stops it
            self.watcher = watcher
            self._show_watching()

        def failed(exc: BaseException) -> None:
            self._starting = None
            self.status.set_watching("Not watching")
            self.status.setToolTip(describe(exc))
            self.status.set_idle(f"Not watching for new photos: {describe(exc)}")

        self._starting = watcher
        self.tasks.run(watcher.start, started, failed)

    def stop_watching(self, *, wait: bool = False) -> None:
        """Stop watching. The watcher's thread may be in the middle of a batch (grouping faces
        cannot be interrupted), so it is joined off the GUI thread, unless ``wait``."""
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            self.status.set_watching("")
            if wait:
                watcher.stop()
            else:
                self.tasks.run(watcher.stop)

    def _check_watcher(self) -> None:
        """A watcher that stopped by itself (a full disk, a damaged library) says so."""
        watcher = self.watcher
        if watcher is None:
            return
        if watcher.error is not None:
            self.watcher = None
            self.status.set_watching("Not watching")
            self.status.set_idle(f"⚠ Watching stopped: {describe(watcher.error)}. Restart "
                                 "Glimpse to watch again.")
        elif watcher.problems:
            self.status.watching.setToolTip("\n".join(watcher.problems))

    _report = Signal(str, object)
    _watch_progress = Signal(object)
    # Models unloaded after sitting idle (their ids): memory given back.
    models_unloaded = Signal(list)

    def _unload_idle_models(self) -> None:
        """Off the GUI thread (an unload waits for a batch in progress), then again in a
        quarter of the idle time, between 1 and 30 seconds."""
        if self._closing:
            return

        def unload() -> tuple[list[str], float]:
            return self.lib.unload_idle(), float(self.lib.config.get("models.unload_after"))

        def done(found: tuple[list[str], float]) -> None:
            freed, minutes = found
            if self._closing:
                return
            if freed:
                self.models_unloaded.emit(freed)
            self._unload.start(int(1000 * (min(30.0, max(1.0, minutes * 15)) if minutes > 0
                                           else 30.0)))

        def failed(exc: BaseException) -> None:
            if not self._closing:
                self._unload.start(30_000)

        self.tasks.run(unload, done, failed, read=True)

    def _show_watching(self) -> None:
        roots = len(self.lib.root_paths())
        text = f"Watching {roots} folder{'s' if roots != 1 else ''}"
        reading = self.index_job is not None and not self.index_job.done
        if self._unread is not None and not reading:
            # Beside a Resume button; the left of the bar says the read was cancelled.
            text += (f" — {self._unread:,} photo{'s' if self._unread != 1 else ''} not read "
                     "yet" if self._unread else " — not every photo read yet")
        self.status.set_watching(text)
        self.status.set_resumable(self._unread is not None and not reading)

    def resume_reading(self) -> None:
        """Read what a cancelled read left (Resume in the status bar; the watcher's next
        change does it too)."""
        if self._closing or self._unread is None:
            return
        self.index_now(then_watch=self.watcher is None and self._starting is None)
        if self.watcher is not None:
            self._show_watching()

    def _watching_progress(self, event: Progress) -> None:
        """A batch the watcher is reading (a burst of photos copied in)."""
        if self.watcher is None or event.finished:
            return
        if event.total:
            self.status.set_watching(f"Reading new photos: {event.done:,} of {event.total:,}")
        else:
            self.status.set_watching("Reading new photos…")

    def _bridge_report(self, why: str, report: IndexReport) -> None:
        """Watcher thread -> GUI thread."""
        self._report.emit(why, report)

    def _watched(self, why: str, report: IndexReport) -> None:
        if self.watcher is not None:
            self._show_watching()
        if self._unread is not None:
            self.resume_reading()         # a change: finish what a cancel left unread
        if report.photo_ids:
            self.thumbnails.forget_failures()
            self.refresh_rows(report.photo_ids)
        self.refresh_counts()
        if report.new or report.updated or report.moved:
            self.people_page.refresh()
        if report.albums or report.places:
            self.albums_page.refresh_if_shown()
            self.memories.refresh()
        changed = report.new + report.updated + report.moved
        if changed or report.missing or report.errors:
            self.status.set_idle(index_summary(report))
        # The watcher has run the change chain for the batch itself: not again here.

    def photos_changed(self, ids: list[int] | None, why: str) -> None:
        """An edit made in the window (``why``: one of ``api.WHY``; ``ids`` None: any photo
        may have changed): the library's change chain runs for it in the background, a few
        seconds later, once for a burst of edits (follow_ups.Changes)."""
        if self._closing:
            return
        self.changes.add(ids, why)

    def refresh_counts(self) -> None:
        """Re-read the counts (title, problems, places) off the GUI thread; never two reads
        at once (a big library's status takes a moment), the latest wish served last."""
        if self._status_busy:
            self._status_again = True
            return
        self._status_busy = True

        def show(status: LibraryStatus) -> None:
            self._status_busy = False
            if self._status_again:
                self._status_again = False
                QTimer.singleShot(1000, self.refresh_counts)
            n = status.photos
            self.library_page.set_title(
                "Library", f"{n:,} photo{'s' if n != 1 else ''}" + (
                    f" · {status.offline:,} on drives not connected" if status.offline
                    else ""))
            self.library_page.set_empty(
                None if n or self.model.rowCount() else
                "No photos yet. They appear here as they are read." if status.roots else
                "Add a folder of photos to begin.")
            self.status.set_problems(status.errors, status.warnings)
            self.map_page.refresh_if_shown()
        def failed(exc: BaseException) -> None:
            self._status_busy = False
            self.status.set_idle(f"⚠ {describe(exc)}")

        self.tasks.run(self.lib.status, show, failed, read=True)
        self.update_vocabulary()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop everything that reads the library before the caller closes it: jobs are
        cancelled and joined, the watcher stopped, every thread pool of the window (tasks,
        thumbnails, People's covers) emptied of queued work and waited for."""
        self._closing = True
        self._save()
        self._pull.stop()
        self._watch_check.stop()
        self._unload.stop()
        self.changes.timer.stop()
        self.jobs.cancel_all()
        self.caption_runs.stop()
        self.thumbnails.stop()
        for pool in self.findChildren(QThreadPool):
            pool.clear()                 # queued, not started: never run
        self.stop_watching(wait=True)
        self.jobs.wait(20.0)
        for pool in self.findChildren(QThreadPool):
            pool.waitForDone(10_000)
        if self._starting is not None:   # it finished starting while we waited
            self._starting.stop()
            self._starting = None
        super().closeEvent(event)

    def _restore(self) -> None:
        settings = app_settings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        tile = settings.value("grid/tile")
        if tile is not None:
            try:
                self.zoom.setValue(int(tile))
            except (TypeError, ValueError):
                pass

    def _save(self) -> None:
        settings = app_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("grid/tile", self.zoom.value())

    # ------------------------------------------------------------------ views

    def show_view(self, key: str, *, focus: bool = True, section: str = "library") -> None:
        """Show a page; ``section``: the sidebar entry results belong to (Library for a
        search, People for a person's photos)."""
        if key == "library" and not self.lib.root_paths():
            key = "welcome"
        if key not in self.pages and key in self.plugin_pages and not self._build_page(key):
            return
        page = self.pages[key]
        if key not in ("viewer", "welcome"):
            self._back_to = key
        if key not in ("results", "viewer") and self.search.text():
            self.search.put_away()       # a query left in the box would not match the page
            self._query = ""
        self.stack.setCurrentWidget(page)
        count_of = getattr(getattr(page, "grid", None), "selection_count", None)
        self.status.set_selected(count_of() if callable(count_of) else 0)
        self.sidebar.select(section if key in ("welcome", "results") else key)
        self.back_button.setText({"people": "← People", "albums": "← Albums", "map": "← Map"}.get(
            section, "← Library"))
        self._results_section = section
        self._album_shown = None          # show_album sets it again after this
        if key == "people":
            self.people_page.refresh()
        elif key == "folders":
            self.folders_page.refresh()
        elif key == "albums":
            self.albums_page.refresh()
        elif key == "places":
            self.places_page.refresh()
        elif key == "map":
            self.map_page.refresh()
        if self._current_grid() is not None:
            self._tiles_drawn()
        if focus and key in ("library", "results", "folders", "duplicates", "places"):
            grid = self._current_grid()
            if grid is not None:
                grid.setFocus()

    def _build_page(self, key: str) -> bool:
        """A plugin's page, built for this window; one that fails to build is reported in
        the status bar, and the window stays where it was."""
        extra = self.plugin_pages[key]
        try:
            widget = extra.factory(self)
        except Exception as exc:
            self.status.set_idle(f"⚠ {extra.title}: the page could not open: {describe(exc)}")
            return False
        self.pages[key] = widget
        self.stack.addWidget(widget)
        return True

    def _results_back(self) -> None:
        if self._results_section in ("people", "albums", "map"):
            self.show_view(self._results_section)
        else:
            self.show_library()

    def show_library(self) -> None:
        self.search.put_away()
        self._query = ""
        self.show_view("library")

    def _current_grid(self) -> PhotoGrid | None:
        page = self.stack.currentWidget()
        if page is self.folders_page:
            return self.folders_page.grid
        if page is self.places_page:
            return self.places_page.grid
        grid = getattr(page, "grid", None)
        return grid if isinstance(grid, PhotoGrid) else None

    def selected_ids(self) -> list[int]:
        """The photos a menu-bar action or a shortcut works on: the viewer's photo while the
        viewer is shown, else the current grid's selection (or its current photo), in the
        grid's order; [] where no photo is chosen."""
        if self.stack.currentWidget() is self.viewer:
            shown = self.viewer.current_photo()
            return [] if shown is None else [shown]
        grid = self._current_grid()
        if grid is None or grid.model() is None:
            return []
        selection = grid.selectionModel()
        chosen = sorted(selection.selectedIndexes() if selection else [],
                        key=lambda index: index.row())
        if not chosen and grid.currentIndex().isValid():
            chosen = [grid.currentIndex()]
        return [int(grid.model().data(i, PhotoIdRole)) for i in chosen]

    def _zoom(self, value: int) -> None:
        for grid in self.grids():
            grid.set_tile(value)
        self._tiles_drawn()

    def _tiles_drawn(self, *_args: object) -> None:
        """Thumbnails made at the size the grid in view draws its tiles (it fills the width)."""
        grid = self._current_grid() or self.library_page.grid
        self.thumbnails.set_size(grid.tile_pixels(), grid.devicePixelRatioF())

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.recall()
        self.search.selectAll()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.stack.currentWidget() is self.results_page:
            self.show_library()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ search

    def run_search(self, text: str) -> None:
        text = text.strip()
        if not text:
            self.show_library()
            return
        self._query = text
        self.results_page.set_title("Searching…", text)
        self.results_page.set_empty("Searching…")
        self.show_view("results", focus=False)

        def search() -> tuple[Any, list[Row]]:
            result = self.lib.search(text, limit=self.page, depth=SEARCH_DEPTH)
            return result, self._hit_rows(result.hits, ranked=result.ranked)

        def failed(exc: BaseException) -> None:
            if text != self._query:
                return
            self.results_page.set_title("Search", text)
            self.results_page.set_empty(describe(exc))

        self.tasks.run(search, lambda found: self._show_results(text, *found), failed, read=True)

    def _hit_rows(self, hits: list[Hit], *, ranked: bool) -> list[Row]:
        """The grid's rows of search hits, in their order, with their scores where they were
        ranked (off the GUI thread)."""
        scores = {h.photo_id: h.score for h in hits} if ranked else {}
        rows = [Row.of(r) for r in self.lib.photo_rows([h.photo_id for h in hits])]
        for row in rows:
            row.score = scores.get(row.id)
        return rows

    def _result_model(self, result: Any, rows: list[Row]) -> PagedResultModel:
        """The results grid's model: the first page now, the rest of the ranking as the
        grid scrolls, read off the GUI thread."""
        def read_page(offset: int, limit: int) -> list[Row]:
            return self._hit_rows(self.lib.search_page(result, offset, limit),
                                  ranked=result.ranked)

        # Filters alone list photos newest first: under month headers, as the library.
        model = PagedResultModel(self.lib, rows, total=int(result.total), read_page=read_page,
                                 page=self.page, sectioned=not result.ranked,
                                 thumbnails=self.thumbnails, parent=self)
        model.background = self._read_in_background
        return model

    def _show_results(self, text: str, result: Any, rows: list[Row]) -> None:
        if text != self._query:
            return   # a newer search was typed meanwhile
        self.results_page.grid.setModel(self._result_model(result, rows))
        note = short_notice(result)
        self.results_page.set_title(count_title(result),
                                    f"for {quoted(text)}" + (f" · {note}" if note else ""))
        self.results_page.subtitle.setToolTip("\n".join(phrase(n) for n in result.notices))
        self.results_page.set_empty(None if result.total else (
            f"Nothing matches {quoted(text)}." + (f"\n\n{note[0].upper()}{note[1:]}."
                                            if note else "")))

    def find_similar(self, photo_id: int) -> None:
        self._query = f"similar:{photo_id}"
        query = self._query
        self.results_page.set_title("Looking for similar photos…", "")
        self.results_page.set_empty("Looking for similar photos…")
        self.show_view("results")

        def similar() -> tuple[Any, list[Row]]:
            result = self.lib.similar(photo_id, limit=self.page, depth=SEARCH_DEPTH)
            return result, self._hit_rows(result.hits, ranked=result.ranked)

        def shown(found: tuple[Any, list[Row]]) -> None:
            if self._query != query:
                return
            result, rows = found
            self.results_page.grid.setModel(self._result_model(result, rows))
            self.results_page.set_title(count_title(result, "similar photo"), "")
            if result.total:
                self.results_page.set_empty(None)
            elif not result.semantic:
                self.results_page.set_empty(
                    "Finding photos that look alike needs the search model, which is not "
                    "installed yet: Settings › Search model.")
            else:
                self.results_page.set_empty("No photo looks enough like this one.")

        def failed(exc: BaseException) -> None:
            self.results_page.set_title("Similar photos")
            self.results_page.set_empty(describe(exc))

        self.tasks.run(similar, shown, failed, read=True)

    def update_vocabulary(self) -> None:
        def got(words: dict[str, list[str]]) -> None:
            self.search.vocabulary = words
        self.tasks.run(self.lib.search_vocabulary, got, read=True)

    # ------------------------------------------------------------------ people, albums, lists
    # A person's photos, an album's, a given list (gui/result_views.py).
    show_person = result_views.show_person
    show_person_photos = result_views.show_person_photos
    show_album = result_views.show_album
    show_photo_ids = result_views.show_photo_ids

    # ------------------------------------------------------------------ grid actions

    def _wire_grid(self, grid: PhotoGrid) -> None:
        # activated: Enter, and a double-click (or a single click where the desktop asks for
        # that); connecting doubleClicked too would open the photo twice.
        grid.activated.connect(lambda index, g=grid: self.open_photo(g, index.row()))
        grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        grid.customContextMenuRequested.connect(lambda pos, g=grid: self._grid_menu(g, pos))
        grid.tile_changed.connect(self.zoom.setValue)
        grid.drawn_changed.connect(self._tiles_drawn)

    def open_photo(self, grid: PhotoGrid, row: int) -> None:
        model = grid.model()
        if model is None or not 0 <= row < model.rowCount():
            return
        self._viewer_grid = grid
        if self.stack.currentWidget() is not self.viewer:
            self._back_page = self.stack.currentWidget()
        self.viewer.open(model, row)
        self.stack.setCurrentWidget(self.viewer)
        # After the mouse release that ended the double-click, not before it.
        QTimer.singleShot(0, self.viewer.setFocus)

    def open_photo_id(self, photo_id: int) -> None:
        def shown(rows: list[PhotoRow]) -> None:
            model = ResultListModel(self.lib, rows, thumbnails=self.thumbnails, parent=self)
            self._viewer_grid = None
            if self.stack.currentWidget() is not self.viewer:
                self._back_page = self.stack.currentWidget()
            self.viewer.open(model, 0)
            self.stack.setCurrentWidget(self.viewer)
        self.tasks.run(lambda: self.lib.photo_rows([photo_id]), shown, read=True)

    def _viewer_closed(self) -> None:
        back = self._back_page or self.library_page
        self.stack.setCurrentWidget(back)
        grid = self._viewer_grid
        if grid is not None and grid.model() is not None:
            index = grid.model().index(self.viewer.current_row(), 0)
            if index.isValid():
                grid.setCurrentIndex(index)
                grid.scrollTo(index)
            grid.setFocus()

    def _grid_menu(self, grid: PhotoGrid, pos: QPoint) -> QMenu | None:
        return photo_menu.grid_menu(self, grid, pos)

    def _viewer_menu(self, photo_id: int, path: str, where: QPoint) -> QMenu:
        return photo_menu.viewer_menu(self, photo_id, path, where)

    # ------------------------------------------------------------------ folders

    def add_folders(self, folders: list[str]) -> None:
        def add() -> list[str]:
            added = []
            for folder in folders:
                self.lib.add_root(folder)
                added.append(folder)
            return added

        def done(added: list[str]) -> None:
            self.stop_watching()
            self.show_view("library")
            self.refresh_counts()
            self.index_now(then_watch=True)

        def failed(exc: BaseException) -> None:
            QMessageBox.warning(self, "Glimpse", f"Could not add the folder: {describe(exc)}")

        self.tasks.run(add, done, failed)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.source() is None and folders_of(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = [f for f in folders_of(event.mimeData().urls()) if os.path.isdir(f)]
        if folders and event.source() is None:
            event.acceptProposedAction()
            self.add_folders(folders)

    def open_paths(self, paths: list[str]) -> None:
        """Paths from the command line or a file manager: folders are added, a photo of the
        library is shown."""
        folders = [os.path.abspath(p) for p in paths if os.path.isdir(p)]
        files = [os.path.abspath(p) for p in paths if os.path.isfile(p)]
        if folders:
            self.add_folders(folders)
        if files:
            def shown(found: Photo | None) -> None:
                if found is None:
                    self.status.set_idle(f"{files[0]} is not in the library: add its folder "
                                         "to see it here")
                else:
                    self.open_photo_id(found.id)
            self.tasks.run(lambda: self.lib.photo(files[0]), shown, read=True)

    def show_problems(self) -> None:
        dialog = ProblemsDialog(self.lib, self.tasks, self)
        dialog.exec()
        dialog.deleteLater()

    def open_settings(self) -> None:
        from glimpse_desktop.gui.settings import SettingsDialog

        dialog = SettingsDialog(self.lib, self.tasks, self.jobs, self)
        dialog.roots_changed.connect(self._roots_changed)
        dialog.models_changed.connect(self._models_changed)
        dialog.people_changed.connect(self.people_page.refresh)
        dialog.people_changed.connect(lambda: self.photos_changed(None, "people"))
        dialog.captions_changed.connect(lambda: self.photos_changed(None, "captions"))
        dialog.exec()
        # Write-back may have been turned on: write what is there now.
        self.photos_changed(None, "edited")
        dialog.deleteLater()

    def _models_changed(self) -> None:
        """A model installed or switched, faces turned on: the catch-up (embedding, faces)
        runs as the next read of the folders."""
        self.refresh_counts()
        if self.lib.root_paths():
            self.index_now()

    def _roots_changed(self) -> None:
        self.stop_watching()
        # A folder removed takes its photos with it: start the grid again from the top.
        old = self.model
        self.model = TimelineModel(self.lib, page=self.page, thumbnails=self.thumbnails,
                                   parent=self)
        self.model.background = self._read_in_background
        self.library_page.grid.setModel(self.model)
        old.deleteLater()
        self.refresh_counts()
        self.show_view("library")
        self.index_now(then_watch=True)
