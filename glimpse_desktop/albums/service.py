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
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from glimpse_desktop.albums import store
from glimpse_desktop.albums.records import (
    Album,
    AlbumAdded,
    AlbumCover,
    AlbumDeleted,
    AlbumDetail,
    AlbumOrder,
    AlbumPhoto,
    AlbumRemoved,
    AlbumRenamed,
)
from glimpse_desktop.albums.store import StoredAlbum
from glimpse_desktop.kernel import photos
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer, now_iso
from glimpse_desktop.kernel.messages import Notice
from glimpse_desktop.search.engine import SMART_ALBUM_LIMIT, SearchResult
from glimpse_desktop.search.query import QueryError, parse

__all__ = ["AUTO_KINDS", "KINDS", "SMART_LIMIT", "USER_KINDS", "AlbumError", "Albums"]

USER_KINDS = ("manual", "smart")
AUTO_KINDS = store.AUTO_KINDS
KINDS = USER_KINDS + AUTO_KINDS
# A smart album shows at most this many photos: a saved search is a view, and the best
# matches of a text search come first; a filter-only album (after:2023 camera:fuji) is cheap.
SMART_LIMIT = SMART_ALBUM_LIMIT
MAX_TITLE = 200


class AlbumError(LibraryError):
    """An album action that cannot be done; the message says why and what to do instead."""


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
                 run_search: Callable[[str, int], SearchResult]) -> None:
        self._reader = reader
        self._writer = writer
        self._search = run_search

    # ------------------------------------------------------------------ finding albums

    def _resolve(self, conn: Connection, ref: str | int) -> StoredAlbum:
        """The album ``ref`` names: an id, or a title in any case. An int is an id and
        nothing else (the GUI's and scripts' way in, whatever titles other albums have)."""
        if isinstance(ref, int):
            found = store.album(conn, ref)
            if found is None:
                raise AlbumError(f"no album {ref}", code="albums.unknown",
                                 values={"album": ref})
            return found
        text = str(ref).strip()
        if not text:
            raise AlbumError("which album? Give its id or its title", code="albums.which")
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
                 notices: list[Notice] | None = None) -> dict[str, Any]:
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
            notices=None if notices is None else tuple(notices))

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
        out = []
        for album in store.listed(conn, wanted):
            members, notices = self._view(conn, album)
            if not members and not include_empty:
                continue
            out.append(Album(**self._summary(album, members,
                                             notices if album.kind == "smart" else None)))
        return out

    def show(self, ref: str | int) -> AlbumDetail:
        """An album and its photos in the order it shows them (manual: as arranged; automatic:
        by time; smart: as its search ranks them, with ``score``). ``notices`` says what the
        search of a smart album could not do (no CLIP model: text matches only)."""
        conn = self._reader()
        album = self._resolve(conn, ref)
        members, notices = self._view(conn, album)
        return AlbumDetail(**self._summary(album, members, notices), photos=tuple(members))

    def photo_ids(self, ref: str | int) -> list[int]:
        """The photos of an album, in its order (export, the album: filter)."""
        conn = self._reader()
        album = self._resolve(conn, ref)
        members, _ = self._view(conn, album)
        return [m.id for m in members]

    # ------------------------------------------------------------------ changing

    def create(self, title: str, photos: Sequence[str | int] = (), *,
               query: str | None = None) -> AlbumDetail:
        """A new manual album (with ``photos`` in that order), or with ``query`` a smart
        album that shows what that search finds. A title already used is refused."""
        title = _clean_title(title)
        conn = self._reader()
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
            return store.create(c, kind, title, query, ids, now_iso())

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
        pid = self._photo_ids(conn, [photo])[0]
        members, _ = self._view(conn, album)
        if pid not in {m.id for m in members}:
            raise AlbumError(f"photo {photo} is not in {album.title!r}: the cover is one "
                             "of the album's photos")
        self._writer.call(lambda c: store.set_cover(c, album.id, pid, now_iso()))
        return AlbumCover(id=album.id, title=album.title, cover=pid)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _not_smart(album: StoredAlbum, what: str) -> None:
        if album.kind == "smart":
            raise AlbumError(f"{album.title!r} is a smart album (the search "
                             f"{album.query!r}): you cannot {what} it by hand; make a "
                             "manual album for hand-picked photos")

    @staticmethod
    def _touch(c: Connection, album: StoredAlbum, now: str) -> None:
        """Record a change; on an automatic album it is the person's edit, which rebuilds
        respect from then on."""
        store.touch(c, album.id, now, edited=album.kind in AUTO_KINDS)
