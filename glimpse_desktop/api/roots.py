"""The library's photo folders (roots): list, add, remove, and forget the photos whose files
were deleted. ``Library`` offers these as its own methods."""

from __future__ import annotations

import os
from collections.abc import Callable

from glimpse_desktop.api.records import WARNING_STAGES, MissingPhoto, Root, RootAdded
from glimpse_desktop.kernel import photos, scan
from glimpse_desktop.kernel import roots as store
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer
from glimpse_desktop.kernel.pipeline import Indexer


class AlreadyInLibraryError(LibraryError):
    """The folder is already one of the library's folders (or inside one)."""


def folder_path(folder: str | os.PathLike[str]) -> str:
    """One spelling per folder: absolute, symlinks resolved, so a folder added through a link
    and through its real path is recognised as the same folder (never indexed twice)."""
    return os.path.realpath(os.path.expanduser(os.fspath(folder)))


class Roots:
    """The photo folders of one library. ``forget_thumbnails`` drops the cached images of
    content no photo has any more."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer, indexer: Indexer,
                 forget_thumbnails: Callable[[list[str]], None]) -> None:
        self.reader, self.writer, self.indexer = reader, writer, indexer
        self.forget_thumbnails = forget_thumbnails

    def list_roots(self) -> list[Root]:
        """Every photo folder with its state and counts (``present``: reachable right now)."""
        return [Root(**dict(zip(store.ROOT_COLUMNS, row, strict=True)),
                     present=os.path.isdir(row[1]))
                for row in store.with_counts(self.reader(), WARNING_STAGES)]

    def add(self, folder: str | os.PathLike[str]) -> RootAdded:
        """Register a photo folder. A folder inside one already added is refused; a folder
        that contains added ones takes them over (their photos keep their rows)."""
        path = folder_path(folder)
        if not os.path.exists(path):
            raise LibraryError(f"{path} does not exist")
        if not os.path.isdir(path):
            raise LibraryError(f"{path} is a file, not a folder: add the folder that holds "
                               "your photos")
        if not os.access(path, os.R_OK | os.X_OK):
            raise LibraryError(f"{path} cannot be read (permission denied)")
        existing = self.indexer.roots()
        for root in existing:
            if root.path == path:
                raise AlreadyInLibraryError(f"{path} is already in the library")
            if path.startswith(root.path.rstrip(os.sep) + os.sep):
                raise AlreadyInLibraryError(
                    f"{path} is already in the library, inside {root.path}")
        inner = [r for r in existing if r.path.startswith(path.rstrip(os.sep) + os.sep)]
        mount = scan.mount_point(path)
        device = os.stat(path).st_dev
        root_id = self.writer.call(lambda conn: store.add(
            conn, path, mount_point=mount, device=device, absorbed=[r.id for r in inner]))
        return RootAdded(id=root_id, path=path, absorbed=tuple(r.path for r in inner))

    def remove(self, folder: str | os.PathLike[str]) -> int:
        """Forget a photo folder and what the library knew of it. Files are never touched.
        Returns how many photos were forgotten."""
        path = folder_path(folder)
        root = next((r for r in self.indexer.roots() if r.path == path), None)
        if root is None:
            raise LibraryError(f"{path} is not a folder of this library",
                               code="roots.unknown", values={"path": path})
        count, orphans = self.writer.call(lambda conn: store.remove(conn, root.id))
        self.forget_thumbnails(orphans)
        return count

    def forget_missing(self, *, dry_run: bool = False) -> list[MissingPhoto]:
        """Forget photos whose files are gone from folders that are present (status
        *missing*; photos on an unplugged drive are *offline* and always kept), with what was
        attached to them. Returns the photos forgotten (or that would be, with ``dry_run``)."""
        gone = [MissingPhoto(*row) for row in photos.missing(self.reader())]
        if dry_run or not gone:
            return gone

        def apply(conn: Connection) -> list[str]:
            photos.delete_missing(conn, [p.id for p in gone])
            return photos.orphans(conn, (p.content_hash for p in gone))

        self.forget_thumbnails(self.writer.call(apply))
        return gone
