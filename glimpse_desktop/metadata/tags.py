"""A file's EXIF, IPTC and XMP as libexiv2 reads them, behind typed lookups by exiv2 key.

exiv2 reads every container Glimpse shows (JPEG, TIFF, PNG, WebP, HEIF/AVIF, JPEG XL, the RAW
formats, XMP sidecars) into three lists of tags named like "Exif.Photo.DateTimeOriginal",
"Iptc.Application2.Keywords", "Xmp.photoshop.DateCreated". ``Tags`` looks a tag up without
creating it (exiv2's ``data[key]`` adds an empty tag when it is missing) and turns its value
into Python's: text (UTF-8, or Latin-1 when it is not), numbers from rationals, lists from XMP
arrays, the languages of an XMP alternative.

Only the keys named in this package are looked up: exiv2 ends the process (an uncaught C++
exception) on an XMP key whose namespace prefix it does not know, so a key is never built
from what a file says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import exiv2

from glimpse_desktop.kernel import exiv
from glimpse_desktop.metadata.values import clean_text

__all__ = ["Tags", "open_tags"]

_RATIONALS = (exiv2.TypeId.unsignedRational, exiv2.TypeId.signedRational)
_INTEGERS = (exiv2.TypeId.unsignedByte, exiv2.TypeId.unsignedShort, exiv2.TypeId.unsignedLong,
             exiv2.TypeId.signedByte, exiv2.TypeId.signedShort, exiv2.TypeId.signedLong,
             exiv2.TypeId.unsignedLongLong, exiv2.TypeId.signedLongLong)
_FLOATS = (exiv2.TypeId.tiffFloat, exiv2.TypeId.tiffDouble)
_XMP_ARRAYS = (exiv2.TypeId.xmpBag, exiv2.TypeId.xmpSeq, exiv2.TypeId.xmpAlt)
_EXIF_HEADER = b"Exif\x00\x00"
# What a damaged value's conversion raises inside exiv2 (C++ exceptions as SWIG maps them):
# that value is unreadable, the others stand.
_BAD_VALUE = exiv.FAILURES


@dataclass
class Tags:
    """The three metadata lists of one exiv2 image (kept open while they are read)."""

    image: Any
    exif: Any
    iptc: Any
    xmp: Any

    @classmethod
    def of(cls, image: Any) -> Tags:
        return cls(image, image.exifData(), image.iptcData(), image.xmpData())

    def _find(self, key: str) -> Any:
        family = key[:4]
        data = self.exif if family == "Exif" else self.iptc if family == "Iptc" else self.xmp
        if data.empty() or key not in data:
            return None
        return data[key]

    def has(self, key: str) -> bool:
        return self._find(key) is not None

    def text(self, key: str) -> str | None:
        """The tag's value as text (XMP arrays: the first item; an alternative: its default
        language), None when absent or empty."""
        datum = self._find(key)
        if datum is None:
            return None
        if key.startswith("Xmp."):
            items = _xmp_items(datum)
            return items[0] if items else None
        try:
            return clean_text(datum.toString())
        except _BAD_VALUE:
            return None

    def texts(self, key: str) -> list[str]:
        """Every value of the tag: each item of an XMP array or each language of an
        alternative (the default first), each repetition of an IPTC dataset."""
        if key.startswith("Xmp."):
            datum = self._find(key)
            return [] if datum is None else _xmp_items(datum)
        if key.startswith("Iptc."):
            if self.iptc.empty():
                return []
            found = []
            try:
                for datum in self.iptc:
                    if datum.key() == key:
                        text = clean_text(datum.toString())
                        if text:
                            found.append(text)
            except _BAD_VALUE:
                pass   # what was read before the bad dataset stands
            return found
        text = self.text(key)
        return [text] if text else []

    def numbers(self, key: str) -> list[float] | None:
        """The tag's numbers (rationals as their quotient; a zero denominator is None for
        the whole tag), None when absent or not numeric."""
        datum = self._find(key)
        if datum is None:
            return None
        try:
            return _numbers(datum)
        except _BAD_VALUE:
            return None

    def number(self, key: str) -> float | None:
        """The tag's first number (also from text such as XMP's "1/250" or "2.8")."""
        numbers = self.numbers(key)
        if numbers:
            return numbers[0]
        return _number_text(self.text(key))

    def raw(self, key: str) -> bytes | None:
        """An EXIF tag's bytes as stored (for UNDEFINED/BYTE tags: UserComment, XP*)."""
        datum = self._find(key)
        if datum is None:
            return None
        try:
            value = datum.value()
            data = getattr(value, "data", None)
            if data is not None:
                return bytes(data())
            return bytes(int(v) for v in datum.toString().split())
        except _BAD_VALUE:
            return None

    def shown(self, key: str) -> str | None:
        """The tag as exiv2 interprets it for people (XP tags decoded from UTF-16)."""
        datum = self._find(key)
        if datum is None:
            return None
        try:
            return clean_text(datum.print(self.exif))
        except _BAD_VALUE:
            return None


def _numbers(datum: Any) -> list[float] | None:
    kind = datum.typeId()
    value = datum.value()
    count = value.count()
    if not 0 < count <= 64:
        return None
    if kind in _RATIONALS:
        found = []
        for i in range(count):
            num, den = value.toRational(i)
            if den == 0:
                return None
            found.append(num / den)
        return found
    if kind in _FLOATS:
        return [float(value.toFloat(i)) for i in range(count)]
    if kind in _INTEGERS:
        return [float(value.toInt64(i)) for i in range(count)]
    return None


def _number_text(text: str | None) -> float | None:
    if not text:
        return None
    try:
        if "/" in text:
            num, den = text.split("/", 1)
            return None if float(den) == 0 else float(num) / float(den)
        return float(text)
    except ValueError:
        return None


def _xmp_items(datum: Any) -> list[str]:
    kind = datum.typeId()
    value = datum.value()
    try:
        if kind == exiv2.TypeId.langAlt:
            langs = dict(value)
            ordered = ([langs.pop("x-default")] if "x-default" in langs else []) + list(
                langs.values())
            items = ordered
        elif kind in _XMP_ARRAYS:
            items = list(value)
        else:
            items = [datum.toString()]
    except _BAD_VALUE:
        return []
    return [t for t in (clean_text(i) for i in items) if t]


def open_tags(data: bytes, exif_blob: Any = None) -> tuple[Tags | None, str | None]:
    """The tags of a file's bytes, and why they could not be read (None when they were).

    ``exif_blob`` is the EXIF another decoder found (Pillow's ``info["exif"]``, for files
    whose EXIF exiv2 misses: HEIF with several EXIF items): read as a TIFF when exiv2 finds
    no EXIF of its own, or cannot open the file at all."""
    tags: Tags | None = None
    problem: str | None = None
    try:
        tags = Tags.of(exiv.from_bytes(data))
    except exiv.ExivError as exc:
        problem = f"unreadable metadata: {exc}"
    if (tags is None or tags.exif.empty()) and isinstance(exif_blob, bytes | bytearray):
        blob = bytes(exif_blob)
        blob = blob[len(_EXIF_HEADER):] if blob.startswith(_EXIF_HEADER) else blob
        try:
            found = Tags.of(exiv.from_bytes(blob))
        except exiv.ExivError:
            found = None
        if found is not None and not found.exif.empty():
            if tags is None:
                return found, None
            tags.exif = found.exif
            tags.image = (tags.image, found.image)   # both stay alive while read
    return tags, problem
