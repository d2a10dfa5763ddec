"""What a photo file says about itself, as the kernel stores it in the ``photos`` row, and the
readers that find it.

Decoding opens a photo once; the kernel itself reads only what it needs to show the pixels
right (format, size, EXIF orientation). Everything else (dates, position, camera, exposure,
rating, the text already in the file) comes from the metadata readers that plugins contribute
through ``glimpse_metadata_readers`` (kernel/hookspecs.py): the metadata feature reads EXIF,
XMP, IPTC and PNG text, and a plugin can add a reader of its own (a maker note, a sidecar of
another app). A photo none of them dates is dated by its file's modification time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from PIL import Image

__all__ = ["KERNEL_FIELDS", "MetadataReader", "PhotoMeta", "PhotoSource", "TextItem",
           "date_from_mtime", "format_taken", "merge", "read_metadata", "to_float", "to_int"]


@dataclass(frozen=True)
class TextItem:
    """A piece of text a photo file holds, kept in ``photo_text`` and indexed for search."""

    field: str    # what it is: description, keywords, prompt, negative_prompt, generation
    source: str   # where in the file it was found, as "exif:ImageDescription", "xmp:dc:title"
    value: str


@dataclass
class PhotoMeta:
    """A photo as its file describes it: the columns of its ``photos`` row, its texts, and
    what could not be read (one warning per bad field, recorded against the photo)."""

    format: str | None = None          # Pillow's format name (JPEG, PNG, HEIF) or the RAW's
    mime: str | None = None
    width: int | None = None           # pixels, after orientation (for a RAW: the sensor's)
    height: int | None = None
    orientation: int = 1               # EXIF orientation 1-8 the pixels were turned by
    taken_at: str | None = None        # ISO 8601, with the UTC offset when known
    taken_at_offset: int | None = None  # minutes east of UTC, when known
    taken_ts: float | None = None      # sortable seconds (wall clock as UTC without an offset)
    taken_at_source: str | None = None  # where the date came from ("exif:DateTimeOriginal")
    gps_lat: float | None = None       # signed decimal degrees
    gps_lon: float | None = None
    gps_alt: float | None = None       # metres above sea level
    camera_make: str | None = None
    camera_model: str | None = None
    lens: str | None = None
    exposure_time: float | None = None  # seconds
    f_number: float | None = None
    iso: int | None = None
    focal_length: float | None = None  # millimetres
    rating: int | None = None          # -1 (rejected) to 5
    # The file is damaged (truncated, or its pixels do not decode) but what it says about
    # itself was read: it is kept, shown as much as decodes (the rest grey) and marked.
    damaged: bool = False
    texts: list[TextItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# Set by the kernel from the opened image before any reader runs; a reader's values for them
# are not used (the pixels are turned and sized by these).
KERNEL_FIELDS = ("format", "mime", "width", "height", "orientation", "damaged")
# Fields that only make sense together: each group is taken whole from the first reader that
# has its first field (a date with its own offset and source, a position with its altitude).
_GROUPS = (("taken_at", "taken_at_offset", "taken_ts", "taken_at_source"),
           ("gps_lat", "gps_lon", "gps_alt"))
_SINGLE = tuple(f.name for f in fields(PhotoMeta)
                if f.name not in (*KERNEL_FIELDS, "texts", "warnings")
                and not any(f.name in group for group in _GROUPS))


@dataclass(frozen=True)
class PhotoSource:
    """What a metadata reader reads from: one photo, opened but not decoded."""

    path: str
    data: bytes                # the file's bytes (for a RAW, the whole container)
    image: Image.Image         # opened, not loaded (for a RAW, the embedded preview)
    exif: Image.Exif | None    # the photo's EXIF (for a RAW, the container's IFD0)


@dataclass(frozen=True)
class MetadataReader:
    """A reader of what photo files say about themselves (hook ``glimpse_metadata_readers``).

    ``read`` returns a ``PhotoMeta`` holding what it found (None where it found nothing); it
    runs on ingestion's worker threads, once per photo, so it must be thread-safe and should
    not decode pixels. A value it cannot read is a warning in the record, not an exception;
    an exception is kept as a warning for the photo and the other readers' values stand."""

    name: str
    read: Callable[[PhotoSource], PhotoMeta]


def merge(into: PhotoMeta, found: PhotoMeta) -> None:
    """Add what ``found`` holds to ``into`` where ``into`` has nothing yet (the first reader
    wins); texts join unless the same field and source are already there; warnings join."""
    for group in _GROUPS:
        if getattr(into, group[0]) is None and getattr(found, group[0]) is not None:
            for name in group:
                setattr(into, name, getattr(found, name))
    for name in _SINGLE:
        if getattr(into, name) is None:
            setattr(into, name, getattr(found, name))
    if found.texts:
        have = {(t.field, t.source) for t in into.texts}
        into.texts.extend(t for t in found.texts if (t.field, t.source) not in have)
    into.warnings.extend(found.warnings)


def read_metadata(source: PhotoSource, meta: PhotoMeta,
                  readers: Sequence[MetadataReader], mtime: float) -> PhotoMeta:
    """``meta`` (holding the kernel's fields) completed by every reader in turn, dated by
    ``mtime`` (the file's modification time) when none of them found a date."""
    for reader in readers:
        try:
            found = reader.read(source)
        except Exception as exc:  # one reader's bug costs its own values, not the photo
            meta.warnings.append(f"metadata reader {reader.name} failed: "
                                 f"{type(exc).__name__}: {exc}")
            continue
        merge(meta, found)
    if meta.taken_at is None:
        meta.taken_at, meta.taken_ts, meta.taken_at_offset = date_from_mtime(mtime)
        meta.taken_at_source = "file:mtime"
    return meta


# ---------------------------------------------------------------------------- values


def to_float(value: Any) -> float | None:
    """A number from a tag (an int, a rational pair, text, the first of a sequence); None for
    anything else, a zero denominator, infinity or NaN."""
    if isinstance(value, tuple | list):
        if len(value) == 2 and all(isinstance(v, int) for v in value):
            num, den = value
            return None if den == 0 else num / den
        return to_float(value[0]) if value else None
    try:
        result = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return result if math.isfinite(result) else None


def to_int(value: Any) -> int | None:
    """``to_float`` cut to a whole number."""
    number = to_float(value)
    return None if number is None else int(number)


def format_taken(local: datetime, offset: int | None) -> tuple[str, float]:
    """ISO 8601 text (with the offset when known) and a sortable epoch.

    With no offset the wall-clock time is ordered as if it were UTC: it keeps photos of one
    day together, which is what a person scrolling a timeline expects.
    """
    tz = timezone(timedelta(minutes=offset)) if offset is not None else UTC
    aware = local.replace(tzinfo=tz)
    spec = "milliseconds" if local.microsecond else "seconds"
    text = (aware if offset is not None else local).isoformat(timespec=spec)
    return text, aware.timestamp()


def date_from_mtime(mtime: float) -> tuple[str, float, int | None]:
    """A file's modification time as a date taken: text, sortable epoch, offset (minutes), in
    this machine's time zone."""
    local = datetime.fromtimestamp(mtime).astimezone()
    offset_td = local.utcoffset()
    offset = int(offset_td.total_seconds() // 60) if offset_td is not None else None
    text, ts = format_taken(local.replace(tzinfo=None), offset)
    return text, ts, offset
