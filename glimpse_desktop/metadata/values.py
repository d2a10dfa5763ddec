"""Values as files write them, to Glimpse's: text, dates and offsets, GPS angles, a date in a
file name. Pure functions over strings and numbers (no file, no exiv2), each defensive: a value
that does not parse is None, never an exception."""

from __future__ import annotations

import os
import re
from datetime import datetime
from typing import Any

__all__ = ["EARLIEST_YEAR", "clean_text", "date_from_filename", "parse_angle", "parse_datetime",
           "parse_offset", "text_of"]

EARLIEST_YEAR = 1826  # the oldest surviving photograph


def text_of(raw: bytes) -> str:
    """Bytes a file calls text: UTF-8 when they are (phones, Lightroom and ExifTool write
    UTF-8 even into EXIF's ASCII tags), else Latin-1 (old cameras, old IPTC)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def clean_text(value: Any) -> str | None:
    """Text from a tag, without NULs and surrounding space; None when empty.

    ``str`` values that carry surrogate escapes (exiv2's decoding of bytes that are not UTF-8)
    are decoded again as Latin-1."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        value = text_of(bytes(value))
    elif not isinstance(value, str):
        return None
    if not value.isascii() and any("\udc80" <= ch <= "\udcff" for ch in value):
        value = text_of(value.encode("utf-8", "surrogateescape"))
    text = value.replace("\x00", "").strip()
    return text or None


_DATE_RE = re.compile(
    r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,](\d+))?)?"
    r"\s*(?:GMT|UTC)?(Z|[+\-]\d{1,2}(?::?\d{2})?)?\s*$"   # Apple writes "GMT+02:00", "GMT+2"
)
_OFFSET_RE = re.compile(r"(?:GMT|UTC)?([+\-])(\d{1,2})(?::?(\d{2}))?")


def parse_offset(text: Any) -> int | None:
    """'+02:00' / '-0530' / 'Z' to minutes east of UTC; None for anything else."""
    s = clean_text(text)
    if not s:
        return None
    if s == "Z":
        return 0
    m = _OFFSET_RE.fullmatch(s)
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    if minutes > 14 * 60:
        return None
    return minutes if m.group(1) == "+" else -minutes


def _checked(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
             second: int = 0, micro: int = 0) -> datetime | None:
    if year < EARLIEST_YEAR or year > datetime.now().year + 1:
        return None
    try:
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None


def _micro(frac: str) -> int:
    digits = re.sub(r"\D", "", frac)[:6]
    return int(digits.ljust(6, "0")) if digits else 0


def parse_datetime(text: Any, subsec: Any = None) -> tuple[datetime, int | None] | None:
    """An EXIF, XMP or IPTC date to a naive local datetime and its offset (minutes) if the
    text states one; ``subsec`` (EXIF's SubSecTime*) fills the fraction the text lacks."""
    s = clean_text(text)
    if not s:
        return None
    m = _DATE_RE.match(s)
    if not m:
        return None
    hour, minute, second = (int(m.group(i) or 0) for i in (4, 5, 6))
    local = _checked(int(m.group(1)), int(m.group(2)), int(m.group(3)), hour, minute, second,
                     _micro(m.group(7) or clean_text(subsec) or ""))
    if local is None:
        return None
    return local, parse_offset(m.group(8)) if m.group(8) else None


# A date (and maybe a time) in a file name, as phones, messengers and camera uploads name
# their files: IMG_20190714_153012, PXL_20230101_101112345, IMG-20190714-WA0003,
# Screenshot_2020-05-01-10-11-12, "2019-07-14 15.30.12", "Screenshot 2020-05-01 at 10.11.12",
# 20190714_153012. Not inside a longer run of letters and digits (a counter, a hash, a
# version "v2019.12.10").
_NAME_RE = re.compile(
    r"(?<![0-9A-Za-z])((?:19|20)\d\d)([-_.]?)(\d\d)\2(\d\d)"
    r"(?:(?:[-_ T.]|\s+at\s+)?(\d\d)([-_.:]?)(\d\d)\6(\d\d)(?:[-_.]?(\d{1,3}))?)?"
    r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)


def date_from_filename(path: str) -> datetime | None:
    """The date (and time, when there is one; else midnight) a file's name states."""
    stem = os.path.splitext(os.path.basename(path))[0]
    for m in _NAME_RE.finditer(stem):
        year, month, day = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if m.group(5) is not None:
            found = _checked(year, month, day, int(m.group(5)), int(m.group(7)),
                             int(m.group(8)), _micro(m.group(9) or ""))
            if found is not None:
                return found
        found = _checked(year, month, day)
        if found is not None:
            return found
    return None


_ANGLE_RE = re.compile(
    r"^\s*(\d+(?:\.\d+)?)(?:\s*(?:deg|°|[,\s])\s*(\d+(?:\.\d+)?)(?:\s*(?:'|[,\s])\s*"
    r"(\d+(?:\.\d+)?)\s*\"?)?)?\s*'?\s*([NSEWnsew])?\s*$"
)


def parse_angle(text: Any) -> tuple[float, str | None] | None:
    """An angle written as text: decimal degrees ("48.8566"), degrees and minutes as XMP
    writes them ("54,59.380000N"), or degrees, minutes and seconds ("48 51 24", "48,51,24N",
    "48 deg 51' 24\""), with its hemisphere letter when the text carries one (upper case)."""
    s = clean_text(text)
    if not s:
        return None
    sign = 1.0
    if s[0] in "+-":
        sign, s = (-1.0 if s[0] == "-" else 1.0), s[1:]
    m = _ANGLE_RE.match(s)
    if not m:
        return None
    deg = float(m.group(1))
    minutes = float(m.group(2) or 0)
    seconds = float(m.group(3) or 0)
    if minutes >= 60 or seconds >= 60:
        return None
    letter = m.group(4).upper() if m.group(4) else None
    return sign * (deg + minutes / 60.0 + seconds / 3600.0), letter
