"""The records the albums feature answers with: albums (the person's own and Glimpse's), their
photos, what an edit did, home and memories. Frozen: a front end reads them, never edits
them; a front end's JSON output is them field by field (``as_dict`` where a field is left
out rather than printed as null, as the output has always done).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from glimpse_desktop.kernel.messages import Notice

__all__ = ["Album", "AlbumAdded", "AlbumCover", "AlbumDeleted", "AlbumDetail", "AlbumFolder",
           "AlbumMoved", "AlbumOrder", "AlbumPhoto", "AlbumRemoved", "AlbumRenamed", "AlbumTree",
           "AutoAlbum", "FolderDeleted", "FolderMoved", "FolderRenamed", "Home", "Memory"]


def _fields_without(record: Any, *optional: str) -> dict[str, Any]:
    """``record``'s fields by name, less those of ``optional`` that are None (keys the JSON
    output has only where they mean something)."""
    return {f.name: getattr(record, f.name) for f in fields(record)
            if not (f.name in optional and getattr(record, f.name) is None)}


@dataclass(frozen=True, slots=True)
class AlbumPhoto:
    """A photo as an album shows it: the fields of the library's grid row (``PhotoRow``:
    ``path`` absolute; ``content_hash``, what its thumbnail is cached under; ``taken_at``, ISO
    8601 with the camera's UTC offset where known, and ``taken_ts`` the same as seconds since
    1970, both None when undated; ``width``, ``height`` in pixels; ``status`` ok, missing,
    offline or unsupported; ``format``, the file type), then ``added_by``: who put it in a
    manual or automatic album ('user' or 'auto'; None in a smart album), and ``score``: how
    well it matches a smart album's search, 0 to 1 (None elsewhere)."""

    id: int
    path: str
    filename: str
    content_hash: str
    taken_at: str | None
    taken_ts: float | None
    width: int | None
    height: int | None
    status: str
    format: str | None
    added_by: str | None = None
    score: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return _fields_without(self, "added_by", "score")


@dataclass(frozen=True, slots=True)
class Album:
    """An album the person sees.

    ``kind``: manual, smart (a saved search), event or trip (made by Glimpse: ``auto``);
    ``edited``: an automatic album the person renamed or changed, which rebuilds leave alone;
    ``count``: its photos now; ``cover``: the id of the photo that shows it (None when empty);
    ``start`` and ``end``: ``taken_at`` of its first and last dated photo (None without
    dates); ``query``: a smart album's saved search (None otherwise); ``details``: what
    Glimpse recorded about an automatic album (days, places, countries...; None for the
    person's own); ``created_at``, ``updated_at``: ISO 8601, UTC. ``notices``: what a smart
    album's search could not do now (no CLIP model: text matches only); None where no search
    ran (a listed album of another kind). ``folder``: the path of the folder it is in
    ("Travel/2024"; None at the top); ``folder_id`` that folder's id. ``person``: for a
    person's album (every named person has one, in the "People" folder: the smart album
    ``person:"Name"``, kept by no row of its own), the person's id, and then ``id`` is minus
    that id; None for every other album."""

    id: int
    kind: str
    title: str
    auto: bool
    edited: bool
    count: int
    cover: int | None
    start: str | None
    end: str | None
    query: str | None
    details: Mapping[str, Any] | None
    created_at: str
    updated_at: str
    notices: tuple[Notice, ...] | None = None
    folder: str | None = None
    folder_id: int | None = None
    person: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return _fields_without(self, "notices", "person")


@dataclass(frozen=True, slots=True)
class AlbumDetail(Album):
    """An album with its ``photos`` in the order it shows them (manual: as arranged;
    automatic: by time; smart: as its search ranks them, each with its ``score``)."""

    photos: tuple[AlbumPhoto, ...] = ()


@dataclass(frozen=True, slots=True)
class AlbumAdded:
    """Photos put into album ``id``: ``added`` went in, ``already`` were in it."""

    id: int
    title: str
    added: int
    already: int


@dataclass(frozen=True, slots=True)
class AlbumRemoved:
    """Photos taken out of album ``id``: ``removed`` were, ``not_in_album`` were not in it."""

    id: int
    title: str
    removed: int
    not_in_album: int


@dataclass(frozen=True, slots=True)
class AlbumRenamed:
    """Album ``id`` is now called ``title``; it was called ``was``."""

    id: int
    was: str
    title: str


@dataclass(frozen=True, slots=True)
class AlbumDeleted:
    """The album that was deleted (its photos stay in the library)."""

    id: int
    title: str
    kind: str


@dataclass(frozen=True, slots=True)
class AlbumOrder:
    """A manual album's photo ids in their new ``order``."""

    id: int
    title: str
    order: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AlbumCover:
    """Album ``id`` is shown by photo ``cover``."""

    id: int
    title: str
    cover: int


@dataclass(frozen=True, slots=True)
class AlbumMoved:
    """Album ``id`` went from folder ``was`` to folder ``folder`` (paths; None: the top)."""

    id: int
    title: str
    was: str | None
    folder: str | None


@dataclass(frozen=True, slots=True)
class AlbumFolder:
    """A folder of albums: ``path`` is its names from the top joined by "/" ("Travel/2024"),
    ``parent`` its parent's id (None at the top). ``folders``: the folders in it and
    ``albums``: its albums, each in the order the albums list keeps (by title); ``count``:
    albums in it and in every folder below. ``virtual``: the "People" folder, which holds
    every named person's album and is made from People each time (it cannot be renamed,
    moved or deleted; its ``id`` is 0)."""

    id: int
    name: str
    path: str
    parent: int | None
    folders: tuple[AlbumFolder, ...]
    albums: tuple[Album, ...]
    count: int
    created_at: str | None = None
    virtual: bool = False


@dataclass(frozen=True, slots=True)
class AlbumTree:
    """Every album as the albums list nests them: ``folders`` at the top (the person's,
    then "People"), ``albums``: the person's own albums in no folder, ``auto``: the events
    and trips Glimpse made (newest first; they stay out of folders)."""

    folders: tuple[AlbumFolder, ...]
    albums: tuple[Album, ...]
    auto: tuple[Album, ...]


@dataclass(frozen=True, slots=True)
class FolderRenamed:
    """Folder ``id`` is now called ``name`` (at ``path``); it was at ``was``."""

    id: int
    was: str
    name: str
    path: str


@dataclass(frozen=True, slots=True)
class FolderMoved:
    """Folder ``id`` moved from ``was`` to ``path`` (full paths)."""

    id: int
    was: str
    path: str


@dataclass(frozen=True, slots=True)
class FolderDeleted:
    """Folder ``id`` (at ``path``) is gone. ``albums``: what became of the albums in it and
    below ('up': moved to its parent ``to``, None: the top; 'deleted': deleted, their photos
    staying in the library); ``moved_albums``, ``moved_folders``: what moved up;
    ``deleted_albums``: ids of the albums deleted; ``deleted_folders``: how many folders
    went, this one included."""

    id: int
    path: str
    albums: str
    to: str | None
    moved_albums: int
    moved_folders: int
    deleted_albums: tuple[int, ...]
    deleted_folders: int


@dataclass(frozen=True, slots=True)
class AutoAlbum:
    """An event or trip Glimpse made (``kind``), as the events list shows it.

    ``edited``: the person changed it (rebuilds leave it alone); ``start_ts``, ``end_ts``:
    its first and last photo, seconds since 1970 (UTC); ``start_date``, ``end_date``: the
    local days those were taken on (YYYY-MM-DD; None if unknown); ``count``: its photos;
    ``cover``: the photo that shows it; ``details``: what the grouping recorded (days,
    place, places, countries, away...)."""

    id: int
    kind: str
    title: str
    edited: bool
    start_ts: float | None
    end_ts: float | None
    count: int
    cover: int | None
    start_date: str | None
    end_date: str | None
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Home:
    """Where the person lives, which trips are measured from.

    ``lat``, ``lon``: decimal degrees; ``place``: the city most photos near it were placed in
    ("Lisbon, Portugal"; None if none is known); ``source``: 'set' (by the person) or
    'inferred' (where photos were taken on the most distinct days); ``days``: how many days of
    photos an inferred home rests on (None for one the person set)."""

    lat: float
    lon: float
    place: str | None
    source: str
    days: int | None


@dataclass(frozen=True, slots=True)
class Memory:
    """Something to show on a day: photos of this day in an earlier year (``kind``
    'on_this_day'), or an event or trip of the same week then (``kind`` 'event' or 'trip').

    ``title``: "1 year ago" for a day, the album's title for an album; ``subtitle``: the
    other half ("On this day, 12 March 2024" or "1 year ago"); ``years_ago`` and ``year``:
    when; ``date``: the day (YYYY-MM-DD; an album's first day); ``album_id``: the album
    (None for a day); ``photo_ids``: its photos that can be shown now, oldest first;
    ``cover``: one of them; ``count``: how many."""

    kind: str
    title: str
    subtitle: str
    years_ago: int
    year: int
    date: str
    photo_ids: tuple[int, ...]
    cover: int
    count: int
    album_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return _fields_without(self, "album_id")
