"""Folders of albums: paths, names, and the tree the albums list nests (pure: the storage
is albums/store.py, the actions albums/service.py).

A folder is named by its path from the top, its names joined by "/" ("Travel/2024"), in
any case, or by its id. "People" at the top is the folder of every named person's album,
made from People each time: no folder of the person's may take that name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from glimpse_desktop.albums.records import Album, AlbumFolder
from glimpse_desktop.albums.store import StoredFolder
from glimpse_desktop.kernel.db import LibraryError

__all__ = ["MAX_DEPTH", "MAX_NAME", "PEOPLE", "AlbumError", "build", "clean_name", "paths",
           "split_path"]

PEOPLE = "People"
MAX_NAME = 120
# Deep enough for any filing scheme; a bound keeps a path printable and a walk cheap.
MAX_DEPTH = 32


class AlbumError(LibraryError):
    """An album or folder action that cannot be done; the message says why and what to do
    instead (albums/service.py raises it too)."""


def clean_name(name: str) -> str:
    """A folder's name, its spaces tidied; refused when empty, too long or holding "/"
    (which separates the names of a path)."""
    text = " ".join(str(name).split())
    if not text:
        raise AlbumError("a folder needs a name", code="albums.folder_name_empty")
    if "/" in text:
        raise AlbumError(f"a folder's name cannot hold '/' ({text!r}): '/' separates the "
                          "folders of a path", code="albums.folder_name_slash",
                          values={"name": text})
    if len(text) > MAX_NAME:
        raise AlbumError(f"that folder name is too long ({len(text)} characters; at most "
                          f"{MAX_NAME})", code="albums.folder_name_long",
                          values={"length": len(text), "limit": MAX_NAME})
    return text


def split_path(path: str) -> list[str]:
    """The names of a path ("Travel / 2024/" → ["Travel", "2024"]); empty parts dropped."""
    parts = [" ".join(p.split()) for p in str(path).split("/")]
    names = [p for p in parts if p]
    if not names:
        raise AlbumError("which folder? Give its path (Travel/2024) or its id",
                          code="albums.folder_which")
    if len(names) > MAX_DEPTH:
        raise AlbumError(f"folders nest at most {MAX_DEPTH} deep",
                          code="albums.folder_too_deep", values={"limit": MAX_DEPTH})
    for name in names:
        clean_name(name)
    return names


def paths(folders: Iterable[StoredFolder]) -> dict[int, str]:
    """Every folder's path, by id."""
    by_id = {f.id: f for f in folders}
    out: dict[int, str] = {}

    def path_of(fid: int) -> str:
        if fid in out:
            return out[fid]
        names: list[str] = []
        seen: set[int] = set()
        at: int | None = fid
        # The service never makes a loop; a damaged file that holds one still prints.
        while at is not None and at in by_id and at not in seen:
            seen.add(at)
            names.append(by_id[at].name)
            at = by_id[at].parent_id
        out[fid] = "/".join(reversed(names))
        return out[fid]

    for fid in by_id:
        path_of(fid)
    return out


def build(folders: Sequence[StoredFolder], albums: Mapping[int | None, Sequence[Album]],
          people: Sequence[Album]) -> list[AlbumFolder]:
    """The folders at the top, each with its folders and albums (``albums`` by folder id),
    then the "People" folder of ``people`` when there are any."""
    children: dict[int | None, list[StoredFolder]] = {}
    for f in folders:
        children.setdefault(f.parent_id, []).append(f)
    names = paths(folders)

    def node(f: StoredFolder, depth: int) -> AlbumFolder:
        below = [] if depth > MAX_DEPTH else [node(c, depth + 1)
                                               for c in children.get(f.id, [])]
        own = tuple(albums.get(f.id, ()))
        return AlbumFolder(id=f.id, name=f.name, path=names[f.id], parent=f.parent_id,
                           folders=tuple(below), albums=own,
                           count=len(own) + sum(b.count for b in below),
                           created_at=f.created_at)

    known = {f.id for f in folders}
    top = [node(f, 0) for f in folders if f.parent_id is None or f.parent_id not in known]
    if people:
        top.append(AlbumFolder(id=0, name=PEOPLE, path=PEOPLE, parent=None, folders=(),
                               albums=tuple(people), count=len(people), virtual=True))
    return top
