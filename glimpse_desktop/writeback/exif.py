"""The EXIF and IPTC fields write-back sets in a file, through exiv2's ExifData and IptcData.

The orientation (IFD0 Orientation) is written only for a photo the person turned in Glimpse:
the file's own orientation composed with their quarter turns (api/judge.compose_orientation),
and the file's own again once they turn it back.

Merged as the XMP is (`xmp.merge_report`): another app's ImageDescription and keywords in
XPKeywords stay (ours from before go); the date taken and the place are written only where the
person set them in Glimpse, as digiKam writes them: EXIF DateTimeOriginal and
DateTimeDigitized (with OffsetTime*, ExifVersion 0231 then, and SubSecTime*), the GPS IFD
replaced as a whole (a new place makes the old direction, time stamp and datum wrong), IPTC
DateCreated/TimeCreated only in a file that already has IPTC. The modify date
(IFD0 DateTime) stays: it is not when the photo was taken. An edit of ours by another app
since our last write is theirs (see `xmp.theirs_since`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import exiv2

from glimpse_desktop.kernel import exiv
from glimpse_desktop.metadata import xmp

__all__ = ["GLIMPSE_KEYS", "ExifEdit", "merge_exif", "place", "taken", "texts"]

DESCRIPTION = "Exif.Image.ImageDescription"
XP_KEYWORDS = "Exif.Image.XPKeywords"
DATES = ("Exif.Photo.DateTimeOriginal", "Exif.Photo.DateTimeDigitized")
OFFSETS = ("Exif.Photo.OffsetTimeOriginal", "Exif.Photo.OffsetTimeDigitized")
SUBSECONDS = ("Exif.Photo.SubSecTimeOriginal", "Exif.Photo.SubSecTimeDigitized")
EXIF_VERSION = "Exif.Photo.ExifVersion"
GPS = "Exif.GPSInfo."
IPTC_DATE, IPTC_TIME = "Iptc.Application2.DateCreated", "Iptc.Application2.TimeCreated"
ORIENTATION = "Exif.Image.Orientation"
# Every key write-back may set (the rest of a file's EXIF and IPTC must read back unchanged).
GLIMPSE_KEYS = (DESCRIPTION, XP_KEYWORDS, *DATES, *OFFSETS, *SUBSECONDS, EXIF_VERSION,
                IPTC_DATE, IPTC_TIME, ORIENTATION)


@dataclass
class ExifEdit:
    """An open image's EXIF and IPTC, changed key by key: what changed, and which keys."""

    image: Any
    iptc_dates: bool = False    # the file has IPTC (and takes IPTC dates)
    changed: bool = False
    touched: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.exif = self.image.exifData()
        self.iptc = self.image.iptcData()

    def _data(self, key: str) -> Any:
        return self.iptc if key.startswith("Iptc.") else self.exif

    def _find(self, key: str) -> Any:
        data = self._data(key)
        k = exiv2.IptcKey(key) if key.startswith("Iptc.") else exiv2.ExifKey(key)
        it = data.findKey(k)
        return None if it == data.end() else it

    def get(self, key: str) -> str | None:
        """The key's value as exiv2 writes it as text (None when absent or unreadable)."""
        it = self._find(key)
        if it is None:
            return None
        try:
            return str(it.toString())
        except (UnicodeError, *exiv.FAILURES):
            return None

    def set(self, key: str, value: str | Any) -> None:
        """Set ``key`` (a text, or an exiv2 Value of the tag's type) unless it says it."""
        text = value if isinstance(value, str) else str(value.toString())
        if self.get(key) == text:
            return
        self._data(key)[key] = value
        self.changed = True
        self.touched.add(key)

    def erase(self, key: str) -> None:
        it = self._find(key)
        if it is not None:
            # (never keep an iterator past its erase: python-exiv2 cannot check it)
            self._data(key).erase(it)
            self.changed = True
            self.touched.add(key)

    def gps_keys(self) -> list[str]:
        return [str(d.key()) for d in self.exif if str(d.key()).startswith(GPS)]


def _bytes(data: bytes) -> str:
    """Bytes as exiv2 reads a BYTE or UNDEFINED tag's value from text."""
    return " ".join(str(b) for b in data)


def _keywords_of(edit: ExifEdit) -> list[str]:
    raw = edit.get(XP_KEYWORDS)
    if not raw:
        return []
    try:
        text = bytes(int(b) for b in raw.split()).decode("utf-16-le", "replace")
    except ValueError:
        return []
    return [k.strip() for k in text.rstrip("\x00").split(";") if k.strip()]


def texts(edit: ExifEdit) -> tuple[str | None, list[str]]:
    """ImageDescription and the keywords in XPKeywords, as a reader sees them."""
    desc = edit.get(DESCRIPTION)
    return (desc.rstrip("\x00") if desc and desc.strip("\x00 ") else None), _keywords_of(edit)


def taken(edit: ExifEdit) -> str | None:
    """DateTimeOriginal (+ SubSecTimeOriginal, OffsetTimeOriginal) as ISO text."""
    parsed = xmp.parse_date(edit.get(DATES[0]))
    if parsed is None:
        return None
    local, _ = parsed
    sub = (edit.get(SUBSECONDS[0]) or "").strip()
    if sub.isdigit():
        local = local.replace(microsecond=int((sub + "000000")[:6]))
    off = (edit.get(OFFSETS[0]) or "").strip()
    return local.isoformat(timespec="milliseconds" if local.microsecond else "seconds") + (
        off if len(off) == 6 and off[0] in "+-" else "")


def _degrees(edit: ExifEdit, key: str) -> float | None:
    raw = edit.get(GPS + key)
    ref = (edit.get(GPS + key + "Ref") or "").strip()
    try:
        parts = [float(n) / float(d) for n, d in (p.split("/") for p in (raw or "").split())]
    except (ValueError, ZeroDivisionError):
        return None
    if not parts or not ref:
        return None
    value = float(sum(v / 60 ** i for i, v in enumerate(parts[:3])))
    return -value if ref in ("S", "W") else value


def place(edit: ExifEdit) -> tuple[float, float, float | None] | None:
    """The GPS IFD's place (degrees, metres), None when it has none."""
    lat, lon = _degrees(edit, "GPSLatitude"), _degrees(edit, "GPSLongitude")
    if lat is None or lon is None:
        return None
    alt: float | None = None
    raw = edit.get(GPS + "GPSAltitude")
    if raw and "/" in raw:
        num, den = raw.split()[0].split("/")
        try:
            alt = float(num) / float(den)
        except (ValueError, ZeroDivisionError):
            alt = None
        if alt is not None and (edit.get(GPS + "GPSAltitudeRef") or "0").strip() == "1":
            alt = -alt
    return lat, lon, alt


def _dms(value: float) -> str:
    """Degrees as the three rationals EXIF keeps (seconds to 1/10000)."""
    total = round(abs(value) * 3600 * 10000)
    d, rest = divmod(total, 3600 * 10000)
    m, s = divmod(rest, 60 * 10000)
    return f"{d}/1 {m}/1 {s}/10000"


def _merge_texts(edit: ExifEdit, data: xmp.XmpData, previous: xmp.XmpData,
                 written: xmp.XmpData) -> None:
    desc, keys = texts(edit)
    fold = xmp._fold
    theirs_desc = desc is not None and (
        previous.description is None
        or xmp.same_text(desc) != xmp.same_text(previous.description))
    if not theirs_desc:
        # Another app's description, or its edit of ours, is never replaced.
        ours = xmp.clean(data.description) if data.description else None
        written.description = ours
        if ours is None:
            edit.erase(DESCRIPTION)
        elif ours != desc:
            edit.set(DESCRIPTION, ours)
    was_ours = {xmp.same_text(k) for k in previous.subjects}
    keywords = [k for k in keys if xmp.same_text(k) not in was_ours]
    seen = {fold(k) for k in keywords}
    for k in data.subjects:
        k = xmp.clean(k).strip().replace(";", ",")
        if k and fold(k) not in seen:
            seen.add(fold(k))
            keywords.append(k)
            written.subjects.append(k)
    if keywords == keys:
        return
    if not keywords:
        edit.erase(XP_KEYWORDS)
    else:
        edit.set(XP_KEYWORDS, _bytes(";".join(keywords).encode("utf-16-le") + b"\x00\x00"))


def _merge_date(edit: ExifEdit, data: xmp.XmpData, previous: xmp.XmpData,
                written: xmp.XmpData) -> None:
    if data.taken_at is None:
        return
    written.taken_at = data.taken_at
    ours = xmp.same_date(data.taken_at)
    now = taken(edit)
    if xmp.theirs_since(ours, xmp.same_date(previous.taken_at), xmp.same_date(now)) or \
            xmp.same_date(now) == ours:
        return
    parsed = xmp.parse_date(data.taken_at)
    if parsed is None:
        return
    local, off = parsed
    stamp = local.strftime("%Y:%m:%d %H:%M:%S")
    offset = None if off is None else f"{'+' if off >= 0 else '-'}{abs(off) // 60:02d}:" \
        f"{abs(off) % 60:02d}"
    sub = f"{local.microsecond // 1000:03d}" if local.microsecond else None
    for key in DATES:
        edit.set(key, stamp)
    for keys, value in ((OFFSETS, offset), (SUBSECONDS, sub)):
        for key in keys:
            if value is None:
                edit.erase(key)   # an old offset or fraction would change our moment
            else:
                edit.set(key, value)
    if offset is not None:
        version = edit.get(EXIF_VERSION) or ""
        try:
            current = bytes(int(b) for b in version.split()).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            current = ""
        if current < "0231":   # OffsetTime* came with EXIF 2.31
            edit.set(EXIF_VERSION, _bytes(b"0231"))
    if edit.iptc_dates:
        edit.set(IPTC_DATE, local.strftime("%Y-%m-%d"))
        # IPTC's time always carries a zone: with none known exiv2 would write +00:00, which
        # every reader takes for UTC. Then the time is left out (its date alone is true).
        if offset:
            edit.set(IPTC_TIME, local.strftime("%H:%M:%S") + offset)
        else:
            edit.erase(IPTC_TIME)


def _merge_place(edit: ExifEdit, data: xmp.XmpData, previous: xmp.XmpData,
                 written: xmp.XmpData) -> None:
    if data.gps is None and not data.clear_gps:
        return
    written.gps, written.clear_gps = data.gps, data.clear_gps
    ours = xmp.place_form(data)
    now = xmp.place_form(xmp.XmpData(gps=place(edit)), file=True)
    if xmp.theirs_since(ours, xmp.place_form(previous), now) or now == ours:
        return
    for key in edit.gps_keys():
        edit.erase(key)
    if data.gps is None:
        return
    lat, lon, alt = data.gps
    edit.set(GPS + "GPSVersionID", "2 3 0 0")
    edit.set(GPS + "GPSLatitudeRef", "N" if lat >= 0 else "S")
    edit.set(GPS + "GPSLatitude", _dms(lat))
    edit.set(GPS + "GPSLongitudeRef", "E" if lon >= 0 else "W")
    edit.set(GPS + "GPSLongitude", _dms(lon))
    if alt is not None:
        edit.set(GPS + "GPSAltitudeRef", "1" if alt < 0 else "0")
        edit.set(GPS + "GPSAltitude", f"{round(abs(alt) * 100)}/100")


def _merge_orientation(edit: ExifEdit, data: xmp.XmpData, previous: xmp.XmpData,
                       written: xmp.XmpData) -> None:
    """The photo turned by the person: IFD0 Orientation says so (the pixels stay as they
    are). Turned back: the file's own orientation again. Another app's change of ours since
    our last write stays."""
    text = edit.get(ORIENTATION)
    now = int(text) if text and text.isdigit() else None
    if data.orientation is not None:
        written.orientation = data.orientation
        if not xmp.theirs_since(data.orientation, previous.orientation, now):
            edit.set(ORIENTATION, str(data.orientation))
    elif previous.orientation is not None and now == previous.orientation:
        edit.set(ORIENTATION, str(data.base_orientation))


def merge_exif(edit: ExifEdit, data: xmp.XmpData, previous: xmp.XmpData) -> xmp.XmpData:
    """Put ``data``'s description, keywords, date and place into the file's EXIF (and IPTC
    dates), merged with what is there; ``previous``: what of them Glimpse wrote last time.
    Returns what of them is Glimpse's now (the next ``previous``)."""
    written = xmp.XmpData()
    _merge_texts(edit, data, previous, written)
    _merge_date(edit, data, previous, written)
    _merge_place(edit, data, previous, written)
    _merge_orientation(edit, data, previous, written)
    return written

