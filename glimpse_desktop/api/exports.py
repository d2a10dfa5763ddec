"""Exporting chosen photos with the person's choices (``Library.exports``): the window's
Export dialog (File ▸ Export…, Ctrl+E) and the command line's export of photos.

``Library.export`` copies an album or a search as originals or previews; this takes any
photos (a selection) and ``ExportOptions``: originals or resized JPEGs (long edge, quality),
metadata kept, kept without the location, or removed, names as they are or by date, and what
a taken name gets. Resized copies come from ``Library.full_image``: upright, with the turns
the person gave the photo.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image

from glimpse_desktop.albums.export import ExportReport
from glimpse_desktop.albums.export_options import (
    CLASHES,
    METADATA,
    NAMINGS,
    SIZES,
    ExportOptions,
    export_with,
)
from glimpse_desktop.kernel.db import Connection, LibraryError
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback

__all__ = ["CLASHES", "METADATA", "NAMINGS", "SIZES", "ExportOptions", "Exports"]


class Exports:
    """Export photos by id (the facade's ``exports``)."""

    def __init__(self, *, reader: Callable[[], Connection], root_paths: Callable[[], list[str]],
                 full_image: Callable[..., Image.Image]) -> None:
        self._reader = reader
        self._root_paths = root_paths
        self._full_image = full_image

    def inside_library(self, folder: str | os.PathLike[str]) -> str | None:
        """The library folder ``folder`` is in (copies there would be read in again as
        duplicates), or None."""
        target = os.path.realpath(os.path.abspath(os.fspath(folder)))
        for root in self._root_paths():
            if target == root or target.startswith(root.rstrip(os.sep) + os.sep):
                return root
        return None

    def photos(self, ids: Sequence[int], to: str | os.PathLike[str],
               options: ExportOptions | None = None, *, force: bool = False,
               progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> ExportReport:
        """Export the photos ``ids`` (in that order) into the folder ``to``.

        A folder inside one of the library's folders is refused (``export.inside_library``)
        unless ``force``; no photos is ``export.no_photos``; a choice that does not exist is
        ``export.option``. Raises ExportError, with what was exported before, when the folder
        cannot be written."""
        options = options or ExportOptions()
        options.check()
        if not ids:
            raise LibraryError("no photos to export", code="export.no_photos")
        root = self.inside_library(to)
        if root is not None and not force:
            target = os.path.realpath(os.path.abspath(os.fspath(to)))
            raise LibraryError(
                f"{target} is inside the library folder {root}: the exported copies would be "
                "read in as photos of their own (duplicates). Choose a folder outside your "
                "library folders.", code="export.inside_library",
                values={"folder": target, "root": root})
        rows = self._rows(self._reader(), ids)

        def full(photo_id: int, long_edge: int) -> Image.Image:
            return self._full_image(photo_id, max_edge=long_edge)

        return export_with(rows, output=to, options=options, full_image=full,
                           progress=progress, cancel=cancel)

    @staticmethod
    def _rows(conn: Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = [int(i) for i in ids[start:start + 500]]
            for row in conn.rows("SELECT id, path, status, taken_at, orientation, rotation "
                                 f"FROM photos WHERE id IN ({','.join('?' * len(chunk))})",
                                 chunk):
                found[int(row["id"])] = dict(row)
        return [found[i] for i in dict.fromkeys(int(i) for i in ids) if i in found]
