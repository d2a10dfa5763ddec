"""The features' services a ``Library`` holds (people, places, albums, events, write-back,
captions), each made on its first use.

A one-shot command pays only for the features it touches: a plain search never imports the
albums' event grouping, the geocoder, the face clustering or the captioning client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

if TYPE_CHECKING:
    from glimpse_desktop.albums.auto import AutoAlbums
    from glimpse_desktop.albums.service import Albums
    from glimpse_desktop.api.edits import Edits
    from glimpse_desktop.api.exports import Exports
    from glimpse_desktop.api.judge import Judges
    from glimpse_desktop.api.timeline import Timeline
    from glimpse_desktop.captions.service import CaptionReport, Captions
    from glimpse_desktop.faces.people import People
    from glimpse_desktop.kernel.config import Config
    from glimpse_desktop.kernel.db import Connection, Writer
    from glimpse_desktop.kernel.paths import LibraryPaths
    from glimpse_desktop.kernel.registry import Registry
    from glimpse_desktop.kernel.thumbnails import ThumbnailCache
    from glimpse_desktop.places.map_service import PhotoMap
    from glimpse_desktop.places.service import Places
    from glimpse_desktop.search.engine import SearchResult
    from glimpse_desktop.trash.service import Trash
    from glimpse_desktop.writeback.service import WriteBack


_T = TypeVar("_T")
# One lock for every library's services (each is made in well under a second, once): two
# threads asking for the same service at once (an index worker's stages and the window's
# People page, say) get the one object. Reentrant: write-back is made with people's crops.
_MAKING = threading.RLock()


class _MadeOnce(Generic[_T]):
    """A service made on first use, once per library, however many threads ask at once
    (``functools.cached_property`` lost its lock in Python 3.12)."""

    def __init__(self, make: Callable[[Any], _T]) -> None:
        self._make = make
        self._name = make.__name__
        self.__doc__ = make.__doc__

    @overload
    def __get__(self, obj: None, owner: type) -> _MadeOnce[_T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> _T: ...

    def __get__(self, obj: object | None, owner: type) -> _MadeOnce[_T] | _T:
        if obj is None:
            return self
        # Once made, the instance's own attribute answers: this descriptor defines no
        # __set__, so lookups find the instance's dict first.
        with _MAKING:
            made: _T | None = obj.__dict__.get(self._name)
            if made is None:
                made = self._make(obj)
                obj.__dict__[self._name] = made
            return made


class FeatureServices:
    """The part of ``Library`` that makes the features' services; the library gives them its
    connections, settings and search."""

    paths: LibraryPaths
    writer: Writer
    models: Registry
    config: Config
    thumbnails: ThumbnailCache

    if TYPE_CHECKING:   # the library's own, which the services are given
        def reader(self) -> Connection: ...
        def release_reader(self) -> None: ...
        def search(self, query: str, *, limit: int = 50) -> SearchResult: ...
        def _captions_written(self, report: CaptionReport) -> None: ...
        def root_paths(self) -> list[str]: ...
        def full_image(self, ref: str | int, *, max_edge: int | None = None) -> Any: ...
        def _forget_thumbnails(self, hashes: list[str]) -> None: ...

    @_MadeOnce
    def people(self) -> People:
        """People and their faces."""
        from glimpse_desktop.faces.people import People

        return People(reader=self.reader, writer=self.writer, cache_dir=self.paths.cache,
                      registry=self.models)

    @_MadeOnce
    def places(self) -> Places:
        """Where photos were taken. Loads nothing: the geocoder's data is read on the first
        coordinate to look up."""
        from glimpse_desktop.places.service import Places

        return Places(reader=self.reader, writer=self.writer)

    @_MadeOnce
    def map(self) -> PhotoMap:
        """The photos on a world map: clusters per zoom, the photos of an area, and street
        tiles when the person turned them on."""
        from glimpse_desktop.places.map_service import PhotoMap

        return PhotoMap(reader=self.reader, config=self.config, cache_dir=self.paths.cache)

    @_MadeOnce
    def albums(self) -> Albums:
        """Albums, smart albums (saved searches: they run through the library's own search)
        and their covers."""
        from glimpse_desktop.albums.service import Albums

        return Albums(reader=self.reader, writer=self.writer,
                      run_search=lambda query, limit: self.search(query, limit=limit),
                      people=lambda: self.people.list_people())

    @_MadeOnce
    def auto_albums(self) -> AutoAlbums:
        """Events, trips, home and memories (organize/events groups; this reconciles)."""
        from glimpse_desktop.albums.auto import AutoAlbums

        return AutoAlbums(reader=self.reader, writer=self.writer)

    @_MadeOnce
    def edits(self) -> Edits:
        """Dates and places set by the person (kept when files are read again)."""
        from glimpse_desktop.api.edits import Edits

        return Edits(reader=self.reader, writer=self.writer)

    @_MadeOnce
    def exports(self) -> Exports:
        """Export chosen photos with the person's choices (size, metadata, names)."""
        from glimpse_desktop.api.exports import Exports

        return Exports(reader=self.reader, root_paths=self.root_paths,
                       full_image=self.full_image)

    @_MadeOnce
    def judge(self) -> Judges:
        """Favourites, stars, rejects and rotation the person gives photos."""
        from glimpse_desktop.api.judge import Judges

        return Judges(reader=self.reader, writer=self.writer)

    @_MadeOnce
    def timeline(self) -> Timeline:
        """The months of the library with their counts, and the photos at a date."""
        from glimpse_desktop.api.timeline import Timeline

        return Timeline(reader=self.reader)

    @_MadeOnce
    def writeback(self) -> WriteBack:
        """Metadata that travels: XMP sidecars (and JPEGs when asked) written and read back."""
        from glimpse_desktop.kernel.lock import IngestLock
        from glimpse_desktop.writeback.service import WriteBack

        return WriteBack(reader=self.reader, writer=self.writer, config=self.config,
                         thumbnails=self.thumbnails, crops=self.people.crops,
                         lock=IngestLock(f"{self.paths.library}.writeback.lock"))

    @_MadeOnce
    def captions(self) -> Captions:
        """Captions from a vision service: sends nothing until turned on and agreed to."""
        from glimpse_desktop.captions.service import Captions

        captions = Captions(reader=self.reader, writer=self.writer, config=self.config,
                            search=lambda query, limit: self.search(query, limit=limit),
                            release_reader=self.release_reader)
        # Captions written in the background (the CLI's watcher) reach the sidecars too.
        captions.after_background = self._captions_written
        return captions

    @_MadeOnce
    def trash(self) -> Trash:
        """Delete to the system trash, Recently deleted (30 days), restore, delete for good,
        and keeping one copy of duplicates."""
        from glimpse_desktop.trash.service import Trash

        return Trash(reader=self.reader, writer=self.writer,
                     forget_thumbnails=self._forget_thumbnails)
