"""The window's results page over a person's photos, an album's, or a given list of photos
(a memory, a map area): the ``MainWindow`` methods of that name, kept here (window.py is at
its size limit). Each reads off the GUI thread and shows what it read unless a newer view was
asked for meanwhile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from glimpse_desktop.api import AlbumDetail, PhotoRow
from glimpse_desktop.gui.albums_view import album_rows
from glimpse_desktop.gui.photo_model import ResultListModel
from glimpse_desktop.gui.tasks import describe
from glimpse_desktop.gui.wording import quoted, say

if TYPE_CHECKING:
    from glimpse_desktop.gui.window import MainWindow



def show_person(self: MainWindow, person_id: int) -> None:
    self.show_person_photos(person_id, "")


def show_person_photos(self: MainWindow, person_id: int, title: str) -> None:
    self._query = f"person#{person_id}"
    query = self._query
    self.show_view("results", section="people")
    self.results_page.set_title(title or "Person", "")

    def read() -> tuple[str, list[PhotoRow]]:
        person = self.lib.people.show(person_id)
        rows = self.lib.photo_rows([p.id for p in person.photos])
        return person.name or f"Unnamed {person_id}", rows

    def shown(found: tuple[str, list[PhotoRow]]) -> None:
        if self._query != query:
            return
        name, rows = found
        model = ResultListModel(self.lib, rows, sectioned=True, thumbnails=self.thumbnails,
                                parent=self)
        self.results_page.grid.setModel(model)
        self.results_page.set_title(name, f"{len(rows):,} photo{'s' if len(rows) != 1 else ''}")
        self.results_page.set_empty(None if rows else "No photos of this person.")

    self.tasks.run(read, shown, lambda exc: self.results_page.set_empty(describe(exc)),
                   read=True)


def show_album(self: MainWindow, album_id: int, title: str) -> None:
    """An album's photos in the results grid, in the album's order; back to Albums."""
    self._query = f"album#{album_id}"
    query = self._query
    self.show_view("results", section="albums")
    self._album_shown = album_id
    self._album_kind = ""
    self.results_page.set_title(title, "")

    def read() -> tuple[AlbumDetail, list[PhotoRow]]:
        album = self.lib.albums.show(album_id)     # with the photos' hearts, stars, turns
        return album, self.lib.photo_rows([p.id for p in album.photos])

    def shown(found: tuple[AlbumDetail, list[PhotoRow]]) -> None:
        if self._query != query:
            return
        album, judged = found
        rows = album_rows(album, judged)
        self._album_kind = album.kind
        # A manual album keeps the order its person gave it: no month headers then.
        model = ResultListModel(self.lib, rows, sectioned=album.kind != "manual",
                                thumbnails=self.thumbnails, parent=self)
        self.results_page.grid.setModel(model)
        notes = [f"{len(rows):,} photo{'s' if len(rows) != 1 else ''}"]
        if album.query:
            notes.append(f"the photos that match {quoted(album.query)}")
        notes += [say(n) for n in album.notices or ()]
        self.results_page.set_title(album.title, " · ".join(notes))
        self.results_page.set_empty(None if rows else (
            "No photos match this album's search now." if album.kind == "smart" else
            "This album is empty: select photos in the library and choose “Add to "
            "album” from their menu."))

    self.tasks.run(read, shown, lambda exc: self.results_page.set_empty(describe(exc)),
                   read=True)


def show_photo_ids(self: MainWindow, title: str, ids: list[int], *,
                   section: str = "library") -> None:
    """A given list of photos (a memory) in the results grid, oldest first."""
    self._query = f"ids#{title}"
    query = self._query
    self.show_view("results", section=section)
    self.results_page.set_title(title, "")

    def shown(rows: list[PhotoRow]) -> None:
        if self._query != query:
            return
        model = ResultListModel(self.lib, rows, sectioned=True, thumbnails=self.thumbnails,
                                parent=self)
        self.results_page.grid.setModel(model)
        self.results_page.set_title(title, f"{len(rows):,} photo"
                                           f"{'s' if len(rows) != 1 else ''}")
        self.results_page.set_empty(None if rows else "These photos are gone.")

    self.tasks.run(lambda: self.lib.photo_rows(ids), shown,
                   lambda exc: self.results_page.set_empty(describe(exc)), read=True)
