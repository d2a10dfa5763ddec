"""Albums: the person's own (manual and smart) and the ones Glimpse made (events, trips).

Kinds and what a person can do with each:

* ``manual``: photos the person put in, in the order they arranged them. Create, rename,
  add, remove, order, choose a cover, delete (really deleted; the photos stay in the library).
* ``smart``: a saved search (``albums.query``); its photos are whatever that search finds
  now, so new photos join by themselves. It runs through the same search as everything else:
  filters and words always work (the words through the text index), and with the CLIP model
  installed the words also match what is in the photos. Without the model the album says so
  (a notice) and shows the text matches. Photos cannot be added to or taken out of it by hand.
* ``event`` and ``trip`` (automatic, made by organize/events): shown in time order. The
  person may rename them, take photos out, add photos or delete them; any of these marks the
  album ``edited`` so that a rebuild never changes it again, a photo taken out stays as a row
  with ``removed`` = 1 (a rebuild must not put it back), and a deleted automatic album stays
  as a tombstone (``albums.removed`` = 1) so that a rebuild does not bring it back.

Albums are named by id or by title (any case). Titles are unique among the albums a person
sees, so a title always names one album; an automatic album that happens to share a title
with another is reached by its id (the error says which ids).

Folders (albums/folders.py) hold the person's albums and other folders, to any depth; a
folder is named by its path ("Travel/2024") or id. Every named person has an album: the smart
album ``person:"Name"`` in the "People" folder. It is made from People each time it is read
(no row of its own), so renaming, merging, hiding or forgetting the person changes it with
nothing to keep in step; it is reached as ``People/Name`` or by its id, minus the person's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from glimpse_desktop.albums import folders as fold
from glimpse_desktop.albums import store
from glimpse_desktop.albums.records import (
    Album,
    AlbumAdded,
    AlbumCover,
    AlbumDeleted,
    AlbumDetail,
    AlbumFolder,
    AlbumMoved,
    AlbumOrder,
    AlbumPhoto,
    AlbumRemoved,
    AlbumRenamed,
    AlbumTree,
    FolderDeleted,
    FolderMoved,
    FolderRenamed,
)
from glimpse_desktop.albums.store import StoredAlbum, StoredFolder
from glimpse_desktop.faces.records import Person
from glimpse_desktop.kernel import photos
from glimpse_desktop.kernel.db import Connection, Writer, now_iso
from glimpse_desktop.kernel.messages import Notice
from glimpse_desktop.search.engine import SMART_ALBUM_LIMIT, SearchResult
from glimpse_desktop.search.query import QueryError, parse

__all__ = ["AUTO_KINDS", "FOLDER_CONTENTS", "KINDS", "SMART_LIMIT", "USER_KINDS", "AlbumError",
           "Albums", "person_query"]

USER_KINDS = ("manual", "smart")
AUTO_KINDS = store.AUTO_KINDS
KINDS = USER_KINDS + AUTO_KINDS
# A smart album shows at most this many photos: a saved search is a view, and the best
# matches of a text search come first; a filter-only album (after:2023 camera:fuji) is cheap.
SMART_LIMIT = SMART_ALBUM_LIMIT
MAX_TITLE = 200
# What deleting a folder does with the albums in it (and below): 'up' moves them and its
# folders to its parent; 'delete' deletes them (their photos stay in the library).
FOLDER_CONTENTS = ("up", "delete")


AlbumError = fold.AlbumError


def person_query(name: str) -> str:
    """The saved search of a person's album: ``person:"Name"`` (single quotes for a name
    that holds a double quote)."""
    return f"person:'{name}'" if '"' in name else f'person:"{name}"'


def _clean_title(title: str) -> str:
    text = " ".join(str(title).split())
    if not text:
        raise AlbumError("an album needs a title")
    if len(text) > MAX_TITLE:
        raise AlbumError(f"that title is too long ({len(text)} characters; at most "
                         f"{MAX_TITLE})")
    return text


class Albums:
    """Albums of one library. ``run_search(query, limit)`` is the library's search (smart
    albums are saved searches); reads go through ``reader()``, changes through ``writer``."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer,
                 run_search: Callable[[str, int], SearchResult],
                 people: Callable[[], Sequence[Person]] | None = None) -> None:
        self._reader = reader
        self._writer = writer
        self._search = run_search
        # The library's named people, for their albums (None: a library without People).
        self._people = people

    # ------------------------------------------------------------------ finding albums

    def _resolve(self, conn: Connection, ref: str | int) -> StoredAlbum:
        """The album ``ref`` names: an id, or a title in any case. An int is an id and
        nothing else (the GUI's and scripts' way in, whatever titles other albums have)."""
        if isinstance(ref, int) and ref < 0:
            return self._person_album(-ref, ref)
        if isinstance(ref, int):
            found = store.album(conn, ref)
            if found is None:
                raise AlbumError(f"no album {ref}", code="albums.unknown",
                                 values={"album": ref})
            return found
        text = str(ref).strip()
        if not text:
            raise AlbumError("which album? Give its id or its title", code="albums.which")
        if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
            return self._person_album(int(text[1:]), text)
        head, _, name = text.partition("/")
        if name and head.strip().casefold() == fold.PEOPLE.casefold():
            wanted = " ".join(name.split()).casefold()
            for person in self._named():
                if str(person.name).casefold() == wanted:
                    return self._person_album(int(person.id or 0), text)
            raise AlbumError(f"nobody is named {name.strip()!r} in People",
                             code="albums.unknown_person", values={"name": name.strip()})
        by_id = store.album(conn, int(text)) if text.isascii() and text.isdigit() else None
        by_title = store.albums_titled(conn, " ".join(text.split()))
        if by_id is not None and all(a.id == by_id.id for a in by_title):
            return by_id
        if by_id is not None:
            raise AlbumError(f"{text!r} is both album {by_id.id} and the title of album "
                             f"{by_title[0].id}: use the id")
        if len(by_title) == 1:
            return by_title[0]
        if by_title:
            ids = ", ".join(str(a.id) for a in by_title)
            raise AlbumError(f"{len(by_title)} albums are called {text!r} (ids {ids}): "
                             "give the id")
        raise AlbumError(f"no album {text!r}", code="albums.unknown", values={"album": text})

    def _photo_ids(self, conn: Connection, refs: Iterable[str | int]) -> list[int]:
        """Photo ids for ids or paths, in order, without repeats; every unknown one is named
        in one error, before anything changes."""
        ids: list[int] = []
        unknown: list[str] = []
        for ref in refs:
            row = photos.get_photo(conn, ref)
            if row is None:
                unknown.append(str(ref))
            else:
                ids.append(int(row["id"]))
        if unknown:
            raise AlbumError(f"not in the library: {', '.join(unknown)} (give photo ids or "
                             "paths)")
        return list(dict.fromkeys(ids))

    # ------------------------------------------------------------------ people's albums

    def _named(self) -> list[Person]:
        """Named people the People list shows (hidden ones are not), by name."""
        if self._people is None:
            return []
        return sorted((p for p in self._people() if p.name and p.id is not None),
                      key=lambda p: str(p.name).casefold())

    @staticmethod
    def _person_stored(person: Person) -> StoredAlbum:
        """A person's album as a smart album that has no row: minus the person's id."""
        pid = int(person.id or 0)
        cover = person.cover.photo if person.cover is not None else None
        return StoredAlbum(id=-pid, kind="smart", title=str(person.name),
                           query=person_query(str(person.name)), cover_photo=cover,
                           details=None, edited=False, removed=False, start_ts=None,
                           end_ts=None, auto_key=None, created_at="", updated_at="")

    def _person_album(self, person_id: int, ref: str | int) -> StoredAlbum:
        for person in self._named():
            if person.id == person_id:
                return self._person_stored(person)
        raise AlbumError(f"no album {ref}", code="albums.unknown", values={"album": ref})

    @staticmethod
    def _not_person(album: StoredAlbum, what: str) -> None:
        if album.id < 0:
            raise AlbumError(f"{album.title!r} is the album of a person in People: it follows "
                             f"their name and photos, so you cannot {what} it; rename, merge "
                             "or hide the person in People instead",
                             code="albums.person_album",
                             values={"album": album.title, "person": -album.id})

    @staticmethod
    def _check_title_free(conn: Connection, title: str, keep: int | None = None) -> None:
        other = store.title_taken(conn, title, keep)
        if other is not None:
            raise AlbumError(f"there is already an album called {title!r} (album "
                             f"{other}): choose another title")

    # ------------------------------------------------------------------ reading

    def _smart(self, album: StoredAlbum) -> tuple[list[AlbumPhoto], list[Notice]]:
        """A smart album's photos (its saved search, run now) and what the search said, as
        notices each front end phrases (printed as JSON, a notice is its text)."""
        try:
            result = self._search(str(album.query or ""), SMART_LIMIT)
        except QueryError as exc:
            return [], [Notice(exc.code, f"the saved search {album.query!r} cannot run now: "
                               f"{exc}", exc.values)]
        found = store.photos(self._reader(), [h.photo_id for h in result.hits])
        out = [replace(found[h.photo_id], score=round(h.score, 4))
               for h in result.hits if h.photo_id in found]
        notices = list(result.notices)
        if len(result.hits) >= SMART_LIMIT:
            notices.append(Notice("albums.smart_limit", f"only the first {SMART_LIMIT} photos "
                                  "the search finds are shown", {"limit": SMART_LIMIT}))
        return out, notices

    @staticmethod
    def _summary(album: StoredAlbum, members: list[AlbumPhoto],
                 notices: list[Notice] | None = None,
                 paths: Mapping[int, str] | None = None) -> dict[str, Any]:
        """The fields of ``album``'s record (an Album, or an AlbumDetail with its photos)."""
        dated = [m for m in members if m.taken_ts is not None]
        first = min(dated, key=lambda m: (m.taken_ts or 0.0, m.id)) if dated else None
        last = max(dated, key=lambda m: (m.taken_ts or 0.0, m.id)) if dated else None
        cover = album.cover_photo
        if cover is None or cover not in {m.id for m in members}:
            cover = members[0].id if members else None
        try:
            details = json.loads(album.details) if album.details else None
        except ValueError:
            details = None
        return dict(
            id=album.id, kind=album.kind, title=album.title, auto=album.kind in AUTO_KINDS,
            edited=album.edited, count=len(members), cover=cover,
            start=first.taken_at if first else None, end=last.taken_at if last else None,
            query=album.query, details=details, created_at=album.created_at,
            updated_at=album.updated_at,
            notices=None if notices is None else tuple(notices),
            folder=(fold.PEOPLE if album.id < 0 else None if album.folder_id is None
                    else (paths or {}).get(album.folder_id)),
            folder_id=album.folder_id, person=-album.id if album.id < 0 else None)

    def _view(self, conn: Connection, album: StoredAlbum
              ) -> tuple[list[AlbumPhoto], list[Notice]]:
        if album.kind == "smart":
            return self._smart(album)
        return store.members(conn, album.id, arranged=album.kind == "manual"), []

    def list_albums(self, kinds: Sequence[str] | None = None, *, include_empty: bool = True
                    ) -> list[Album]:
        """Every album the person sees (deleted automatic albums are not), the person's own
        first (in their order, then by title), then automatic ones newest first. Each with
        its kind, ``auto``, photo count, cover photo, first and last dates, and the saved
        search of a smart album (run now to count its photos)."""
        wanted = tuple(kinds) if kinds else KINDS
        bad = [k for k in wanted if k not in KINDS]
        if bad:
            raise AlbumError(f"unknown album kind {bad[0]!r} (one of {', '.join(KINDS)})")
        conn = self._reader()
        paths = fold.paths(store.folders(conn))
        out = []
        for album in store.listed(conn, wanted):
            members, notices = self._view(conn, album)
            if not members and not include_empty:
                continue
            out.append(Album(**self._summary(album, members,
                                             notices if album.kind == "smart" else None,
                                             paths)))
        return out

    def people_albums(self) -> list[Album]:
        """Every named person's album (the smart album ``person:"Name"``), by name: what
        the "People" folder holds. Hidden people have none."""
        out = []
        for person in self._named():
            album = self._person_stored(person)
            members, notices = self._smart(album)
            out.append(Album(**self._summary(album, members, notices)))
        return out

    def show(self, ref: str | int) -> AlbumDetail:
        """An album and its photos in the order it shows them (manual: as arranged; automatic:
        by time; smart: as its search ranks them, with ``score``). ``notices`` says what the
        search of a smart album could not do (no CLIP model: text matches only)."""
        conn = self._reader()
        album = self._resolve(conn, ref)
        members, notices = self._view(conn, album)
        return AlbumDetail(**self._summary(album, members, notices,
                                           fold.paths(store.folders(conn))),
                           photos=tuple(members))

    def photo_ids(self, ref: str | int) -> list[int]:
        """The photos of an album, in its order (export, the album: filter)."""
        conn = self._reader()
        album = self._resolve(conn, ref)
        members, _ = self._view(conn, album)
        return [m.id for m in members]

    # ------------------------------------------------------------------ changing

    def create(self, title: str, photos: Sequence[str | int] = (), *,
               query: str | None = None, folder: str | int | None = None) -> AlbumDetail:
        """A new manual album (with ``photos`` in that order), or with ``query`` a smart
        album that shows what that search finds; in ``folder`` (a path or id; None: the
        top). A title already used is refused."""
        title = _clean_title(title)
        conn = self._reader()
        folder_id = None if folder is None else self._folder(conn, folder).id
        kind = "manual"
        if query is not None:
            query = " ".join(query.split())
            if photos:
                raise AlbumError("a smart album shows what its search finds: give photos or "
                                 "a query, not both")
            try:
                parsed = parse(query)
            except QueryError as exc:
                raise AlbumError(f"cannot save that search: {exc}") from exc
            if parsed.is_empty:
                raise AlbumError("a smart album needs a search", code="albums.smart_no_query")
            kind = "smart"
        ids = self._photo_ids(conn, photos)

        def apply(c: Connection) -> int:
            self._check_title_free(c, title)
            return store.create(c, kind, title, query, ids, now_iso(), folder_id)

        album_id = self._writer.call(apply)
        return self.show(album_id)

    def add(self, ref: str | int, photos: Sequence[str | int]) -> AlbumAdded:
        """Put photos into a manual or automatic album (at the end of a manual one). A photo
        taken out of an automatic album before comes back. Returns counts."""
        conn = self._reader()
        album = self._resolve(conn, ref)
        self._not_smart(album, "add photos to")
        ids = self._photo_ids(conn, photos)
        if not ids:
            raise AlbumError("which photos? Give photo ids or paths")

        def apply(c: Connection) -> AlbumAdded:
            now = now_iso()
            added, already = store.add(c, album.id, ids, now)
            if added:
                self._touch(c, album, now)
            return AlbumAdded(id=album.id, title=album.title, added=added, already=already)

        return self._writer.call(apply)

    def remove(self, ref: str | int, photos: Sequence[str | int]) -> AlbumRemoved:
        """Take photos out of an album (never out of the library). From an automatic album
        the photo stays out for good: a rebuild does not put it back."""
        conn = self._reader()
        album = self._resolve(conn, ref)
        self._not_smart(album, "take photos out of")
        ids = self._photo_ids(conn, photos)
        if not ids:
            raise AlbumError("which photos? Give photo ids or paths")

        def apply(c: Connection) -> AlbumRemoved:
            removed = store.take_out(c, album.id, ids, for_good=album.kind != "manual")
            if removed:
                self._touch(c, album, now_iso())
            return AlbumRemoved(id=album.id, title=album.title, removed=removed,
                                not_in_album=len(ids) - removed)

        return self._writer.call(apply)

    def rename(self, ref: str | int, title: str) -> AlbumRenamed:
        """Give an album a new title (an automatic one then keeps it through rebuilds)."""
        title = _clean_title(title)
        album = self._resolve(self._reader(), ref)
        self._not_person(album, "rename")

        def apply(c: Connection) -> AlbumRenamed:
            self._check_title_free(c, title, keep=album.id)
            store.rename(c, album.id, title)
            self._touch(c, album, now_iso())
            return AlbumRenamed(id=album.id, was=album.title, title=title)

        return self._writer.call(apply)

    def delete(self, ref: str | int) -> AlbumDeleted:
        """Delete an album; its photos stay in the library. An automatic album is kept as a
        hidden tombstone so that rebuilding events does not make it again."""
        album = self._resolve(self._reader(), ref)
        self._not_person(album, "delete")
        self._writer.call(lambda c: store.delete(c, album.id, now_iso(),
                                                 tombstone=album.kind in AUTO_KINDS))
        return AlbumDeleted(id=album.id, title=album.title, kind=album.kind)

    def order(self, ref: str | int, photos: Sequence[str | int], *,
              before: str | int | None = None, after: str | int | None = None
              ) -> AlbumOrder:
        """Arrange a manual album: ``photos`` go, in the order given, before the photo
        ``before`` or after the photo ``after`` (neither: at the start); the others keep
        their order. Giving every photo of the album sets the whole order."""
        if before is not None and after is not None:
            raise AlbumError("the photos go before one photo or after one, not both",
                             code="albums.before_and_after")
        conn = self._reader()
        album = self._resolve(conn, ref)
        if album.kind != "manual":
            raise AlbumError(f"{album.title!r} is a {album.kind} album: "
                             + ("its photos are in time order" if album.kind in AUTO_KINDS
                                else "its photos are in the order its search ranks them")
                             + "; only manual albums can be arranged")
        moving = self._photo_ids(conn, photos)
        if not moving:
            raise AlbumError("which photos? Give photo ids or paths")
        current = [m.id for m in store.members(conn, album.id, arranged=True)]
        outside = [str(p) for p in moving if p not in current]
        if outside:
            raise AlbumError(f"not in {album.title!r}: photo {', '.join(outside)}")
        anchor_ref = before if before is not None else after
        anchor = self._photo_ids(conn, [anchor_ref])[0] if anchor_ref is not None else None
        if anchor is not None and (anchor not in current or anchor in moving):
            raise AlbumError(f"photo {anchor_ref} is not one of the other photos of "
                             f"{album.title!r}")
        rest = [p for p in current if p not in moving]
        at = 0 if anchor is None else rest.index(anchor) + (1 if after is not None else 0)
        new = rest[:at] + moving + rest[at:]
        self._writer.call(lambda c: store.arrange(c, album.id, new, now_iso()))
        return AlbumOrder(id=album.id, title=album.title, order=tuple(new))

    def set_cover(self, ref: str | int, photo: str | int) -> AlbumCover:
        """Choose the photo that shows an album (one of its photos). It does not freeze an
        automatic album: only its title and photos are the person's edits."""
        conn = self._reader()
        album = self._resolve(conn, ref)
        self._not_person(album, "choose the cover of")
        pid = self._photo_ids(conn, [photo])[0]
        members, _ = self._view(conn, album)
        if pid not in {m.id for m in members}:
            raise AlbumError(f"photo {photo} is not in {album.title!r}: the cover is one "
                             "of the album's photos")
        self._writer.call(lambda c: store.set_cover(c, album.id, pid, now_iso()))
        return AlbumCover(id=album.id, title=album.title, cover=pid)

    # ------------------------------------------------------------------ helpers

    @classmethod
    def _not_smart(cls, album: StoredAlbum, what: str) -> None:
        cls._not_person(album, what)
        if album.kind == "smart":
            raise AlbumError(f"{album.title!r} is a smart album (the search "
                             f"{album.query!r}): you cannot {what} it by hand; make a "
                             "manual album for hand-picked photos")

    @staticmethod
    def _touch(c: Connection, album: StoredAlbum, now: str) -> None:
        """Record a change; on an automatic album it is the person's edit, which rebuilds
        respect from then on."""
        store.touch(c, album.id, now, edited=album.kind in AUTO_KINDS)

    # ------------------------------------------------------------------ folders

    def _folder(self, conn: Connection, ref: str | int) -> StoredFolder:
        """The folder ``ref`` names: an id, or a path from the top in any case."""
        every = store.folders(conn)
        by_id = {f.id: f for f in every}
        if isinstance(ref, int):
            if ref in by_id:
                return by_id[ref]
            raise AlbumError(f"no folder {ref}", code="albums.unknown_folder",
                             values={"folder": ref})
        names = fold.split_path(ref)
        at: int | None = None
        for name in names:
            found = store.folder_child(conn, at, name)
            if found is None:
                break
            at = found
        else:
            assert at is not None
            return by_id[at]
        text = "/".join(names)
        if text.isascii() and text.isdigit() and int(text) in by_id:
            return by_id[int(text)]
        if len(names) > 1 and names[0].casefold() == fold.PEOPLE.casefold():
            raise AlbumError("the People folder holds only the albums of people",
                             code="albums.people_folder")
        raise AlbumError(f"no folder {text!r}", code="albums.unknown_folder",
                         values={"folder": text})

    def _to_folder(self, conn: Connection, to: str | int | None) -> StoredFolder | None:
        """Where an album or folder goes: None (or "" or "/") is the top."""
        if to is None or (isinstance(to, str) and not to.strip("/ ")):
            return None
        return self._folder(conn, to)

    def tree(self) -> AlbumTree:
        """Every album, nested: the person's folders (each with its folders and albums, by
        name), then the "People" folder of every named person's album; the person's albums
        in no folder; and the events and trips Glimpse made, which stay out of folders."""
        conn = self._reader()
        every = store.folders(conn)
        listed = self.list_albums()
        by_folder: dict[int | None, list[Album]] = {}
        auto = []
        for album in listed:
            if album.auto:
                auto.append(album)
            else:
                by_folder.setdefault(album.folder_id, []).append(album)
        for group in by_folder.values():
            group.sort(key=lambda a: (a.title.casefold(), a.id))
        top = fold.build(every, by_folder, self.people_albums())
        return AlbumTree(folders=tuple(top), albums=tuple(by_folder.get(None, ())),
                         auto=tuple(auto))

    def folder(self, ref: str | int) -> AlbumFolder:
        """One folder with what it holds (its folders, nested, and its albums)."""
        text = ref.strip("/ ") if isinstance(ref, str) else None
        wanted: str | int
        if text is not None and text.casefold() == fold.PEOPLE.casefold():
            wanted = fold.PEOPLE
        else:
            wanted = self._folder(self._reader(), ref).id

        def find(nodes: Iterable[AlbumFolder]) -> AlbumFolder | None:
            for node in nodes:
                if (node.path if isinstance(wanted, str) else node.id) == wanted and (
                        isinstance(wanted, int) or node.virtual):
                    return node
                below = find(node.folders)
                if below is not None:
                    return below
            return None

        found = find(self.tree().folders)
        if found is None:   # the People folder of a library nobody is named in
            return AlbumFolder(id=0, name=fold.PEOPLE, path=fold.PEOPLE, parent=None,
                               folders=(), albums=(), count=0, virtual=True)
        return found

    def create_folder(self, path: str, *, parents: bool = True) -> AlbumFolder:
        """A new folder at ``path`` ("Travel/2024"); the folders above it are made when
        missing (``parents``). A path that is a folder already is refused."""
        names = fold.split_path(path)
        if names[0].casefold() == fold.PEOPLE.casefold():
            raise AlbumError("“People” is the folder of the albums of people: choose "
                             "another name", code="albums.folder_reserved",
                             values={"name": names[0]})

        def apply(c: Connection) -> int:
            at: int | None = None
            made = False
            now = now_iso()
            for n, name in enumerate(names):
                found = store.folder_child(c, at, name)
                if found is None:
                    if n < len(names) - 1 and not parents:
                        raise AlbumError(f"no folder {'/'.join(names[:n + 1])!r}",
                                         code="albums.unknown_folder",
                                         values={"folder": "/".join(names[:n + 1])})
                    found = store.create_folder(c, at, name, now)
                    made = True
                at = found
            if not made:
                raise AlbumError(f"there is already a folder {'/'.join(names)!r}",
                                 code="albums.folder_exists",
                                 values={"folder": "/".join(names)})
            assert at is not None
            return at

        return self.folder(self._writer.call(apply))

    def rename_folder(self, ref: str | int, name: str) -> FolderRenamed:
        """Give a folder a new name (its place, albums and folders stay)."""
        name = fold.clean_name(name)
        conn = self._reader()
        found = self._folder(conn, ref)
        if found.parent_id is None and name.casefold() == fold.PEOPLE.casefold():
            raise AlbumError("“People” is the folder of the albums of people: choose "
                             "another name", code="albums.folder_reserved",
                             values={"name": name})
        was = fold.paths(store.folders(conn))[found.id]

        def apply(c: Connection) -> FolderRenamed:
            other = store.folder_child(c, found.parent_id, name)
            if other is not None and other != found.id:
                raise AlbumError(f"there is already a folder called {name!r} there",
                                 code="albums.folder_exists", values={"folder": name})
            store.rename_folder(c, found.id, name, now_iso())
            path = fold.paths(store.folders(c))[found.id]
            return FolderRenamed(id=found.id, was=was, name=name, path=path)

        return self._writer.call(apply)

    def move_folder(self, ref: str | int, to: str | int | None) -> FolderMoved:
        """Put a folder (with everything in it) into folder ``to`` (None: the top). A
        folder cannot go into itself or into a folder below it."""
        conn = self._reader()
        found = self._folder(conn, ref)
        target = self._to_folder(conn, to)
        if target is not None and target.id in store.folder_below(conn, found.id):
            raise AlbumError("a folder cannot go into itself or a folder inside it",
                             code="albums.folder_cycle",
                             values={"folder": found.name, "to": target.name})
        if target is None and found.name.casefold() == fold.PEOPLE.casefold():
            raise AlbumError("“People” is the folder of the albums of people: rename this "
                             "folder first", code="albums.folder_reserved",
                             values={"name": found.name})
        was = fold.paths(store.folders(conn))[found.id]

        def apply(c: Connection) -> FolderMoved:
            parent = None if target is None else target.id
            # Checked again in the write: another window may have moved the target since.
            if parent is not None and parent in store.folder_below(c, found.id):
                raise AlbumError("a folder cannot go into itself or a folder inside it",
                                 code="albums.folder_cycle",
                                 values={"folder": found.name, "to": str(to)})
            other = store.folder_child(c, parent, found.name)
            if other is not None and other != found.id:
                raise AlbumError(f"there is already a folder called {found.name!r} there",
                                 code="albums.folder_exists", values={"folder": found.name})
            store.move_folder(c, found.id, parent, now_iso())
            return FolderMoved(id=found.id, was=was, path=fold.paths(store.folders(c))[found.id])

        return self._writer.call(apply)

    def delete_folder(self, ref: str | int, *, albums: str = "up") -> FolderDeleted:
        """Delete a folder. ``albums='up'``: its albums and folders move to its parent (the
        top when it has none); ``albums='delete'``: the albums in it and in every folder
        below are deleted with it (their photos stay in the library)."""
        if albums not in FOLDER_CONTENTS:
            raise AlbumError(f"albums={albums!r}: say 'up' (move them to the folder above) or "
                             "'delete' (delete the albums; their photos stay)",
                             code="albums.folder_contents", values={"albums": albums})
        conn = self._reader()
        found = self._folder(conn, ref)
        paths = fold.paths(store.folders(conn))
        path, parent = paths[found.id], found.parent_id

        def apply(c: Connection) -> FolderDeleted:
            now = now_iso()
            below = store.folder_below(c, found.id)
            if albums == "up":
                moved, moved_folders = store.children_up(c, found.id, parent)
                # Names clash only where a moved folder meets one of the parent's own.
                store.delete_folder(c, found.id)
                deleted: list[int] = []
                gone = 1
            else:
                deleted = store.albums_in_folders(c, below)
                for album_id in deleted:
                    store.delete(c, album_id, now, tombstone=False)
                store.delete_folder(c, found.id)
                moved = moved_folders = 0
                gone = len(below)
            return FolderDeleted(id=found.id, path=path, albums=albums,
                                 to=None if parent is None else paths.get(parent),
                                 moved_albums=moved, moved_folders=moved_folders,
                                 deleted_albums=tuple(deleted), deleted_folders=gone)

        if albums == "up":
            self._check_up(conn, found)
        return self._writer.call(apply)

    def _check_up(self, conn: Connection, found: StoredFolder) -> None:
        """Moving a folder's folders up must not give its parent two folders of one name."""
        clashes = [f.name for f in store.folders(conn) if f.parent_id == found.id
                   and store.folder_child(conn, found.parent_id, f.name) not in (None, found.id)]
        if clashes:
            raise AlbumError(f"the folder above already has a folder called {clashes[0]!r}: "
                             "rename one of them first", code="albums.folder_exists",
                             values={"folder": clashes[0]})

    def move(self, ref: str | int, to: str | int | None) -> AlbumMoved:
        """Put one of the person's albums (manual or smart) into folder ``to`` (a path or
        id; None: the top). Events and trips stay where Glimpse keeps them, and a person's
        album stays in People."""
        conn = self._reader()
        album = self._resolve(conn, ref)
        self._not_person(album, "move")
        if album.kind in AUTO_KINDS:
            raise AlbumError(f"{album.title!r} is an {album.kind} Glimpse made: events and "
                             "trips stay with the others, in time order; make an album of "
                             "its photos to file them in a folder", code="albums.folder_auto",
                             values={"album": album.title, "kind": album.kind})
        target = self._to_folder(conn, to)
        paths = fold.paths(store.folders(conn))
        was = None if album.folder_id is None else paths.get(album.folder_id)
        folder_id = None if target is None else target.id
        self._writer.call(lambda c: store.put_in_folder(c, album.id, folder_id, now_iso()))
        return AlbumMoved(id=album.id, title=album.title, was=was,
                          folder=None if target is None else paths.get(target.id))
