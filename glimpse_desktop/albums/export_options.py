"""Export with the person's choices (the window's Export dialog, and the command line's):
originals or resized JPEGs (long edge, quality), metadata kept, kept without the location, or
removed, files named as they are or by the date taken, and what a taken name gets.

The promises of ``albums/export.py`` hold here too: originals are never changed (metadata is
taken out of the *copy*, in memory, before it is written), every file appears under its name
only once complete, and a target that cannot be written stops the export with the report of
what was done before. Only "replace" writes over a file, and only one in the chosen folder.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image

from glimpse_desktop.albums.export import (
    _EXIF_IFD,
    _ORIENTATION,
    _PIXEL_X,
    _PIXEL_Y,
    ExportReport,
    export_each,
)
from glimpse_desktop.kernel.db import LibraryError
from glimpse_desktop.kernel.decode import read_exif
from glimpse_desktop.kernel.orientation import compose
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback
from glimpse_desktop.search.sorting import _names, _place, _SourceProblem

__all__ = ["CLASHES", "METADATA", "NAMINGS", "SIZES", "ExportOptions", "export_with"]

ORIGINAL, RESIZED = "original", "resized"
SIZES = (ORIGINAL, RESIZED)
KEEP, NO_GPS, STRIP = "keep", "no-gps", "strip"
METADATA = (KEEP, NO_GPS, STRIP)
NAMINGS = ("original", "date")
NUMBER, SKIP, REPLACE = "number", "skip", "replace"
CLASHES = (NUMBER, SKIP, REPLACE)
_GPS_IFD = 0x8825


@dataclass(frozen=True)
class ExportOptions:
    """What an export makes. ``size``: "original" (the file's bytes) or "resized" (a JPEG of
    at most ``long_edge`` pixels at ``quality``, the photo upright with the turns the person
    gave it); ``metadata``: "keep", "no-gps" (everything but the location) or "strip";
    ``naming``: "original" or "date" ("2024-05-03 14.22.10.jpg", the original name where the
    photo has no date); ``clash``: a name taken in the folder gets a number ("name (2).jpg"),
    is skipped, or is replaced."""

    size: str = ORIGINAL
    long_edge: int = 2048
    quality: int = 90
    metadata: str = KEEP
    naming: str = "original"
    clash: str = NUMBER

    def check(self) -> None:
        """Raises LibraryError (code ``export.option``) for a choice that does not exist."""
        for name, value, allowed in (("size", self.size, SIZES),
                                     ("metadata", self.metadata, METADATA),
                                     ("naming", self.naming, NAMINGS),
                                     ("clash", self.clash, CLASHES)):
            if value not in allowed:
                raise LibraryError(f"{name} must be one of {', '.join(allowed)}, not {value!r}",
                                   code="export.option",
                                   values={"option": name, "value": value})
        if not 64 <= self.long_edge <= 20_000:
            raise LibraryError(f"the long edge must be 64 to 20000 pixels, not {self.long_edge}",
                               code="export.option",
                               values={"option": "long_edge", "value": self.long_edge})
        if not 10 <= self.quality <= 100:
            raise LibraryError(f"the JPEG quality must be 10 to 100, not {self.quality}",
                               code="export.option",
                               values={"option": "quality", "value": self.quality})


def file_name(row: Mapping[str, Any], options: ExportOptions) -> str:
    """The name the photo gets in the folder (before a clash is settled)."""
    source = str(row["path"])
    stem, ext = os.path.splitext(os.path.basename(source))
    if options.size == RESIZED:
        ext = ".jpg"
    taken = row.get("taken_at")
    if options.naming == "date" and taken:
        with contextlib.suppress(ValueError):
            stem = datetime.fromisoformat(str(taken)).strftime("%Y-%m-%d %H.%M.%S")
    return stem + ext


_ORIENTATION_KEY = "Exif.Image.Orientation"


def resized_jpeg(image: Image.Image, original: str, options: ExportOptions) -> bytes:
    """``image`` (upright sRGB pixels of ``original``) as a JPEG with the original's EXIF
    as ``options.metadata`` says: the orientation reset (the pixels are upright), the pixel
    size corrected, the GPS block dropped for "no-gps", nothing for "strip"."""
    exif_bytes = b""
    if options.metadata != STRIP:
        try:
            exif = read_exif(original)
            if exif is not None and len(exif):
                exif[_ORIENTATION] = 1
                sub = exif.get_ifd(_EXIF_IFD)
                if _PIXEL_X in sub or _PIXEL_Y in sub:
                    sub[_PIXEL_X], sub[_PIXEL_Y] = image.width, image.height
                if options.metadata == NO_GPS and _GPS_IFD in exif:
                    del exif[_GPS_IFD]
                exif_bytes = exif.tobytes()
        except Exception:  # a RAW Pillow cannot open, broken EXIF: the pixels alone
            exif_bytes = b""
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=options.quality, optimize=True, exif=exif_bytes)
    return buf.getvalue()


def without_metadata(data: bytes, metadata: str) -> bytes:
    """An original's bytes with its metadata removed ("strip") or its location removed
    ("no-gps"), through exiv2 in memory; the pixels are not touched."""
    from glimpse_desktop.kernel import exiv

    with exiv.write_lock:
        image = exiv.from_bytes(data)
        if metadata == STRIP:
            image.clearMetadata()
        else:
            exif = image.exifData()
            for key in [d.key() for d in exif if d.key().startswith("Exif.GPSInfo.")]:
                exif.erase(exif.findKey(_exif_key(key)))
            xmp = image.xmpData()
            for key in [d.key() for d in xmp
                        if d.key().startswith(("Xmp.exif.GPS", "Xmp.exifEX.GPS"))]:
                xmp.erase(xmp.findKey(_xmp_key(key)))
        image.writeMetadata()
        return bytes(image.io().data())     # the file as written, in memory


def turned_original(data: bytes, orientation: int | None, rotation: int,
                    metadata: str) -> bytes:
    """An original's bytes that show as the library shows the photo: the quarter turns the
    person gave it (``photos.rotation``) as its EXIF orientation, composed with the file's
    own as the library read it (the pixels untouched; the same whether write-back wrote
    the turns into the file or not). After "strip" the orientation alone comes back, so a
    photo shot upright is not shown on its side. A file exiv2 cannot write is left as is."""
    want = compose(orientation, rotation)
    if rotation % 4 == 0 and (metadata != STRIP or want == 1):
        return data
    from glimpse_desktop.kernel import exiv

    try:
        with exiv.write_lock:
            image = exiv.from_bytes(data)
            image.exifData()[_ORIENTATION_KEY] = str(want)
            image.writeMetadata()
            return bytes(image.io().data())
    except exiv.FAILURES:
        return data


def _exif_key(key: str) -> Any:
    import exiv2

    return exiv2.ExifKey(key)


def _xmp_key(key: str) -> Any:
    import exiv2

    return exiv2.XmpKey(key)


def _write(data: bytes, folder: str, filename: str, clash: str, mtime_ns: int | None
           ) -> tuple[str, str]:
    """Write ``data`` as ``filename`` in ``folder``; (target, what) where what is "new",
    "same" (an earlier export left exactly these bytes), "skipped" or "replaced"."""
    first = os.path.join(folder, filename)
    if clash == NUMBER:
        for name in _names(filename):
            existing = os.path.join(folder, name)
            if not os.path.lexists(existing):
                break
            if _same(existing, data):
                return existing, "same"
    elif os.path.lexists(first):
        if _same(first, data):
            return first, "same"
        if clash == SKIP:
            return first, "skipped"
    fd, tmp = tempfile.mkstemp(prefix=".glimpse-export-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        if clash == REPLACE and os.path.lexists(first):
            if os.path.isdir(first) and not os.path.islink(first):
                raise IsADirectoryError(21, "a folder has this name", first)
            os.replace(tmp, first)        # atomic: the old file or the new, never half
            return first, "replaced"
        return _place(tmp, folder, filename), "new"
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _same(path: str, data: bytes) -> bool:
    with contextlib.suppress(OSError):
        if not os.path.islink(path) and os.path.getsize(path) == len(data):
            with open(path, "rb") as fh:
                return fh.read() == data
    return False


def export_with(rows: Sequence[Mapping[str, Any]], *, output: str | os.PathLike[str],
                options: ExportOptions,
                full_image: Callable[[int, int], Image.Image],
                progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> ExportReport:
    """Export ``rows`` (``id``, ``path``, ``status``, ``taken_at``) into ``output`` as
    ``options`` say; ``full_image(id, long_edge)`` gives a photo's upright pixels for
    resized copies. Missing, offline and unreadable photos are skipped and reported (as are
    names taken, with "skip"); raises ExportError when the folder cannot be written."""
    options.check()

    def write_one(row: Mapping[str, Any], out: str) -> tuple[str, str]:
        pid, source = int(row["id"]), str(row["path"])
        try:
            if options.size == RESIZED:
                data = resized_jpeg(full_image(pid, options.long_edge), source, options)
            else:
                with open(source, "rb") as fh:
                    data = fh.read()
                if options.metadata != KEEP:
                    data = without_metadata(data, options.metadata)
                data = turned_original(data, row.get("orientation"),
                                       int(row.get("rotation") or 0), options.metadata)
            mtime_ns: int | None = os.stat(source).st_mtime_ns
        except FileNotFoundError:
            raise                          # the loop says the file is missing
        except (LibraryError, OSError, ValueError, RuntimeError) as exc:
            raise _SourceProblem(str(exc)) from exc
        return _write(data, out, file_name(row, options), options.clash, mtime_ns)

    return export_each(rows, output=output, size=options.size, write_one=write_one,
                       progress=progress, cancel=cancel)
