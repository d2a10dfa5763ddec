"""The one way Glimpse opens a file's metadata with libexiv2 (python-exiv2).

exiv2 reads EXIF, IPTC and XMP from every container Glimpse shows (JPEG, TIFF, PNG, WebP,
HEIF/AVIF, JPEG XL, the RAW formats, XMP sidecars); the metadata feature reads through it, the
write-back writes through it, and RAW previews come from its preview manager when LibRaw finds
none. Everything that touches exiv2 opens the image here, so that:

- libexiv2's own messages never reach the person's terminal (it reports through Python's
  logging, which prints warnings to stderr when nothing else is set up); failures surface as
  ``ExivError`` with exiv2's reason;
- a *path* is only ever a local file: ``ImageFactory.open`` also takes URLs (http, ftp,
  ssh...), and fetching one because a file name said so is not something a photo manager
  does;
- XMP's toolkit is initialised once, before any worker thread opens a file (its first use is
  not thread-safe in libexiv2), and files are parsed one at a time (see ``write_lock``).

An ``exiv2.Image`` is not shared between threads: each caller opens its own.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import exiv2

__all__ = ["FAILURES", "ExivError", "from_bytes", "from_path", "write_lock"]

exiv2.LogMsg.setLevel(exiv2.LogMsg.Level.mute)
exiv2.XmpParser.initialize()

# libexiv2 reads and writes one file at a time in a process, as digiKam has it (one mutex for
# every exiv2 call). Reading a file that declares an XMP namespace exiv2 does not know
# registers it in a global table, thread-safe only with a lock function that python-exiv2
# cannot pass to ``XmpParser.initialize``: so parsing is serialised here. A JPEG's parse is
# ~0.4 ms, far from what decoding its pixels costs, so ingestion's workers barely wait.
# ``write_lock`` (the same lock) is held across a whole write-back of one file.
write_lock = threading.RLock()
_lock = write_lock


class ExivError(ValueError):
    """exiv2 could not read or write a file; the message is exiv2's reason."""


# What libexiv2's failures arrive as: Exiv2Error for its own checks; C++ standard exceptions
# from inside it (a vector index out of range on a damaged TIFF) as SWIG turns them into
# Python's (IndexError, ValueError, OverflowError, RuntimeError, MemoryError...). Each is
# about this file.
FAILURES = (exiv2.Exiv2Error, IndexError, ValueError, OverflowError, RuntimeError,
             MemoryError, TypeError)


def _error(exc: Exception) -> ExivError:
    if not isinstance(exc, exiv2.Exiv2Error):
        return ExivError(f"damaged metadata ({type(exc).__name__}: {exc})")
    args: tuple[Any, ...] = tuple(exc.args)   # (ErrorCode, message)
    reason = str(args[1]) if len(args) > 1 else str(exc)
    return ExivError(reason or type(exc).__name__)


def _open(source: Any, read: bool) -> Any:
    try:
        image = exiv2.ImageFactory.open(source)
        if read:
            with _lock:
                image.readMetadata()
    except FAILURES as exc:
        raise _error(exc) from exc
    return image


def from_bytes(data: bytes | bytearray | memoryview, *, read: bool = True) -> Any:
    """An ``exiv2.Image`` over ``data`` (kept alive by the image), its metadata read.

    Raises ExivError for anything exiv2 cannot read (not an image it knows, damaged)."""
    if not len(data):
        raise ExivError("empty file")
    return _open(data, read)


def from_path(path: str | os.PathLike[str], *, read: bool = True) -> Any:
    """An ``exiv2.Image`` of the local file at ``path``, its metadata read (``read=False``:
    opened only, to write).

    Raises ExivError when the file is missing or unreadable. exiv2 is handed the absolute
    path, which no URL scheme matches."""
    text = os.path.abspath(os.fspath(path))
    if not os.path.isfile(text):
        raise ExivError(f"not a file: {text}")
    return _open(text, read)
