"""What a photo file says about itself: the date it was taken (and where that came from), its
position, camera, exposure, rating, and the text already in it.

The metadata feature's reader (``read``), contributed to the kernel through the hook
``glimpse_metadata_readers``: the kernel opens the photo and reads its size and orientation,
this fills in the rest of its record (``kernel.meta.PhotoMeta``). EXIF, IPTC and XMP are read
by libexiv2 (``metadata/tags.py``) from the bytes the kernel already holds, in every container
exiv2 knows; an XMP sidecar beside the photo (``photo.jpg.xmp``, darktable's, or
``photo.xmp``, Lightroom's) is read too. PNG text chunks (captions, image generators' prompts)
come from Pillow, which has opened the file for its pixels.

The date taken is the first of these a file states (ExifTool's and digiKam's practice; the
source is recorded in ``taken_at_source`` and shown with the date):

1. EXIF DateTimeOriginal (with OffsetTimeOriginal and SubSecTimeOriginal)
2. XMP exif:DateTimeOriginal
3. XMP photoshop:DateCreated
4. IPTC DateCreated + TimeCreated (its offset)
5. XMP xmp:CreateDate
6. EXIF DateTimeDigitized (with its offset and sub-seconds)
7. PNG's "Creation Time"
8. a date in the file name (IMG_20190714_153012, PXL_…, IMG-20190714-WA0003, Screenshot_…)
9. EXIF DateTime: the time the file was last *modified* by a camera or an editor, so it
   comes after every creation date (a photo saved by Photoshop in 2017 was taken in 2009 if
   its creation fields say so)
10. the file's modification time (the kernel's, when no reader found a date).

A sidecar's creation dates (exif:DateTimeOriginal, photoshop:DateCreated) come before all of
these: a sidecar is where darktable, Lightroom and Glimpse itself keep a person's corrections
to a date. Its xmp:CreateDate (often the time a converter made the sidecar) comes just before
the file's own.

Everything here reads; nothing writes to the original. Values from files are untrusted: each
field is parsed defensively and a bad field is dropped (with a warning), never fatal.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from typing import Any

from glimpse_desktop.kernel import raw
from glimpse_desktop.kernel.meta import PhotoMeta, PhotoSource, TextItem, format_taken
from glimpse_desktop.metadata.prompts import (
    FIELD_DESCRIPTION,
    FIELD_KEYWORDS,
    parse_a1111,
    parse_comfyui,
)
from glimpse_desktop.metadata.tags import Tags, open_tags
from glimpse_desktop.metadata.values import (
    clean_text,
    date_from_filename,
    parse_angle,
    parse_datetime,
    parse_offset,
    text_of,
)

__all__ = ["read"]

# Placeholders cameras write into ImageDescription; they are not descriptions.
_JUNK_DESCRIPTIONS = {
    "olympus digital camera", "sony dsc", "digital camera", "dcim", "default", "image",
    "exif_jpeg_picture", "camera", "kodak digital still camera", "minolta digital camera",
    "sanyo digital camera", "samsung digital camera", "<kenox s630  / samsung s630>",
}
# Placeholders software writes (ExifTool and digiKam ignore them too): "File written by
# Adobe Photoshop¨ 4.0" (the ¨ is a ® in Mac Roman), "Created with GIMP", "CREATOR: gd-jpeg
# v1.0 (using IJG JPEG v62), quality = 90", "<brand> DIGITAL CAMERA", "SAMSUNG CAMERA PICTURES".
_JUNK_PATTERNS = re.compile(
    r"^(?:file written by adobe photoshop\W{0,3}\s*\d[\d.]*|created with gimp.*|"
    r"creator: gd-jpeg.*|(?:[\w-]+ ){1,2}digital (?:still )?camera|[\w-]+ camera pictures|"
    r"untitled|no description|jpeg|picture|photo|hdr|screenshot|ms|mtk|htc)$",
    re.IGNORECASE)
_SIDECAR_LIMIT = 16 * 1024 * 1024   # an XMP sidecar is kilobytes; more is not one

# (source, the date's key, its sub-seconds' key, its offset's key): EXIF dates, best first.
_EXIF_ORIGINAL = (
    ("exif:DateTimeOriginal", "Exif.Photo.DateTimeOriginal", "Exif.Photo.SubSecTimeOriginal",
     "Exif.Photo.OffsetTimeOriginal"),
    # Some writers (piexif's users, old scanners) put it in IFD0: same meaning.
    ("exif:DateTimeOriginal", "Exif.Image.DateTimeOriginal", "Exif.Photo.SubSecTimeOriginal",
     "Exif.Photo.OffsetTimeOriginal"),
)
_EXIF_DIGITIZED = ("exif:CreateDate", "Exif.Photo.DateTimeDigitized",
                   "Exif.Photo.SubSecTimeDigitized", "Exif.Photo.OffsetTimeDigitized")
_EXIF_MODIFIED = ("exif:DateTime", "Exif.Image.DateTime", "Exif.Photo.SubSecTime",
                  "Exif.Photo.OffsetTime")
_XMP_CREATION = (("xmp:exif:DateTimeOriginal", "Xmp.exif.DateTimeOriginal"),
                 ("xmp:photoshop:DateCreated", "Xmp.photoshop.DateCreated"))
_XMP_CREATE_DATE = ("xmp:CreateDate", "Xmp.xmp.CreateDate")


def placeholder(text: str) -> bool:
    """Whether a description is a camera's or a program's stand-in text, not a person's."""
    words = text.strip().lower()
    return words in _JUNK_DESCRIPTIONS or bool(_JUNK_PATTERNS.match(words))


class _Dates:
    """Candidate dates in the order they are tried; the first that parses wins."""

    def __init__(self, meta: PhotoMeta, gps_utc: datetime | None) -> None:
        self.meta = meta
        self.gps_utc = gps_utc

    def found(self) -> bool:
        return self.meta.taken_at is not None

    def offer(self, source: str, text: str | None, subsec: str | None = None,
              offset_text: str | None = None) -> None:
        if self.found() or not text:
            return
        parsed = parse_datetime(text, subsec)
        if parsed is None:
            self.meta.warnings.append(f"unreadable date in {source}: {text!r}")
            return
        local, offset = parsed
        if offset is None:
            offset = parse_offset(offset_text)
        if offset is None and source.startswith("exif:") and self.gps_utc is not None:
            offset = _offset_from_gps(local, self.gps_utc)
        self.set(source, local, offset)

    def set(self, source: str, local: datetime, offset: int | None) -> None:
        meta = self.meta
        meta.taken_at, meta.taken_ts = format_taken(local, offset)
        meta.taken_at_offset, meta.taken_at_source = offset, source

    def exif(self, tags: Tags | None, keys: tuple[str, str, str, str]) -> None:
        if tags is not None and not self.found():
            source, key, subsec, offset = keys
            self.offer(source, tags.text(key), tags.text(subsec), tags.text(offset))

    def xmp(self, tags: Tags | None, source: str, key: str) -> None:
        if tags is not None and not self.found():
            self.offer(source, tags.text(key))

    def iptc(self, tags: Tags | None) -> None:
        if tags is None or self.found():
            return
        day = tags.text("Iptc.Application2.DateCreated")
        if day:
            time = tags.text("Iptc.Application2.TimeCreated")
            self.offer("iptc:DateCreated", f"{day}T{time}" if time else day)


def read(photo: PhotoSource, *, sidecar: bool = True) -> PhotoMeta:
    """What Glimpse keeps about a photo beyond its size and orientation (which the kernel
    reads): camera, exposure, position, rating, the date taken (None when the file states
    none) and the texts. ``sidecar=False``: the photo's own file alone, its sidecar left
    out."""
    meta = PhotoMeta()
    img = photo.image
    tags, problem = open_tags(photo.data, img.info.get("exif"))
    if problem is not None and img.format not in ("GIF", "BMP", "DIB"):
        meta.warnings.append(problem)
    side = _sidecar(photo.path, meta) if sidecar else None

    # Camera and exposure: the file's own EXIF, then its XMP, then the sidecar's.
    layers = [t for t in (tags, side) if t is not None]
    meta.camera_make = _first(layers, "Exif.Image.Make", "Xmp.tiff.Make")
    meta.camera_model = _first(layers, "Exif.Image.Model", "Xmp.tiff.Model")
    meta.lens = _first(layers, "Exif.Photo.LensModel", "Xmp.exifEX.LensModel", "Xmp.aux.Lens")
    meta.exposure_time = _first_number(layers, "Exif.Photo.ExposureTime",
                                       "Xmp.exif.ExposureTime")
    meta.f_number = _first_number(layers, "Exif.Photo.FNumber", "Xmp.exif.FNumber")
    iso = _first_number(layers, "Exif.Photo.ISOSpeedRatings", "Xmp.exif.ISOSpeedRatings")
    meta.iso = int(iso) if iso is not None and 0 < iso < 10_000_000 else None
    meta.focal_length = _first_number(layers, "Exif.Photo.FocalLength", "Xmp.exif.FocalLength")

    # Rating: the sidecar's (a person's latest word), then EXIF's, then XMP's.
    for rated, key in ((side, "Xmp.xmp.Rating"), (tags, "Exif.Image.Rating"),
                       (tags, "Xmp.xmp.Rating")):
        rating = rated.number(key) if rated is not None else None
        if rating is not None and rating == int(rating) and -1 <= rating <= 5:
            meta.rating = int(rating)
            break

    # Position: the sidecar's, then EXIF's GPS, then the file's XMP.
    for tags_, read_gps in ((side, _xmp_gps), (tags, _exif_gps), (tags, _xmp_gps)):
        if tags_ is None:
            continue
        try:
            fix = read_gps(tags_)
        except ValueError as exc:
            meta.warnings.append(str(exc))
            break   # the position this file gives is unusable: no other guess is better
        if fix is not None:
            meta.gps_lat, meta.gps_lon, meta.gps_alt = fix
            break

    # The date taken (see the module's docstring for the order).
    dates = _Dates(meta, _gps_utc(tags) if tags is not None else None)
    for source, key in _XMP_CREATION:
        dates.xmp(side, "sidecar:" + source, key)
    for keys in _EXIF_ORIGINAL:
        dates.exif(tags, keys)
    for source, key in _XMP_CREATION:
        dates.xmp(tags, source, key)
    dates.iptc(tags)
    dates.xmp(side, "sidecar:" + _XMP_CREATE_DATE[0], _XMP_CREATE_DATE[1])
    dates.xmp(tags, *_XMP_CREATE_DATE)
    dates.exif(tags, _EXIF_DIGITIZED)
    png_time = img.info.get("Creation Time") if img.format == "PNG" else None
    dates.offer("png:CreationTime", clean_text(png_time) if isinstance(png_time, str) else None)
    if not dates.found():
        named = date_from_filename(photo.path)
        if named is not None:
            dates.set("filename", named, None)
    dates.exif(tags, _EXIF_MODIFIED)

    meta.texts = _texts(img, tags)
    return meta


def _first(layers: list[Tags], *keys: str) -> str | None:
    for key in keys:
        for tags in layers:
            text = tags.text(key)
            if text:
                return text
    return None


def _first_number(layers: list[Tags], *keys: str) -> float | None:
    for key in keys:
        for tags in layers:
            number = tags.number(key)
            if number is not None and number >= 0:
                return number
    return None


def _sidecar(path: str, meta: PhotoMeta) -> Tags | None:
    """The tags of the XMP sidecar beside the photo, if there is one that reads:
    ``photo.jpg.xmp`` (darktable's, digiKam's and Glimpse's), else ``photo.xmp``
    (Lightroom's) when no other file shares the photo's name (``IMG_1.xmp`` beside
    ``IMG_1.CR2`` and ``IMG_1.JPG`` is the RAW's: Lightroom writes it for RAWs), as
    write-back picks a sidecar."""
    folder, filename = os.path.split(path)
    stem = os.path.splitext(filename)[0]
    for candidate in (path + ".xmp", path + ".XMP", os.path.join(folder, stem + ".xmp"),
                      os.path.join(folder, stem + ".XMP")):
        try:
            if os.path.getsize(candidate) > _SIDECAR_LIMIT:
                continue
            if not candidate.startswith(path) and not _own_stem(folder, filename, stem):
                continue
            with open(candidate, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        tags, problem = open_tags(data)
        if tags is None:
            meta.warnings.append(f"unreadable sidecar {os.path.basename(candidate)}: "
                                 f"{problem}")
            continue
        return tags
    return None


def _own_stem(folder: str, filename: str, stem: str) -> bool:
    """Whether ``filename`` is the only file in ``folder`` named ``stem`` with an extension
    other than a sidecar's (a RAW counts as the owner of a shared stem's sidecar)."""
    if os.path.splitext(filename)[1].lower() in raw.RAW_EXTENSIONS:
        return True
    lowered = stem.lower()
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return not any(os.path.splitext(n)[0].lower() == lowered and n != filename
                   and os.path.splitext(n)[1].lower() != ".xmp" for n in names)


# ---------------------------------------------------------------------------- position


def _hemisphere(present: bool, text: str | None, positive: str, negative: str,
                what: str) -> int:
    """+1 or -1 for a GPS reference letter (in either case, as some phones write it).

    Raises ValueError for anything else (another letter, a word, nothing at all): the
    coordinates are unsigned, so without their hemisphere they could be any of four places,
    and reading them as north and east would put the photo somewhere it was not taken."""
    letter = text.upper() if text else ""
    if letter == positive:
        return 1
    if letter == negative:
        return -1
    shown = repr(text or "") if present else "missing"
    raise ValueError(f"GPS {what} hemisphere is {shown}, not {positive} or {negative}: "
                     "position ignored")


def _exif_angle(tags: Tags, key: str) -> tuple[float, str | None] | None:
    numbers = tags.numbers(key)
    if numbers is not None:
        if not 1 <= len(numbers) <= 3:
            return None
        deg, minutes, seconds = (*numbers, 0.0, 0.0)[:3]
        return deg + minutes / 60.0 + seconds / 3600.0, None
    return parse_angle(tags.text(key))   # degrees written as text: odd, but valid


def _checked_fix(lat: float, lon: float, alt: float | None
                 ) -> tuple[float, float, float | None] | None:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError("GPS position out of range, ignored")
    return round(lat, 7), round(lon, 7), alt


def _exif_gps(tags: Tags) -> tuple[float, float, float | None] | None:
    """EXIF's position: signed degrees and altitude; None when absent or 0,0 (a receiver
    without a fix); ValueError (the warning to keep) for an unusable one."""
    lat, lon = (_exif_angle(tags, "Exif.GPSInfo.GPSLatitude"),
                _exif_angle(tags, "Exif.GPSInfo.GPSLongitude"))
    if lat is None or lon is None:
        return None
    if abs(lat[0]) < 1e-7 and abs(lon[0]) < 1e-7:
        return None
    lat_ref = lat[1] or tags.text("Exif.GPSInfo.GPSLatitudeRef")
    lon_ref = lon[1] or tags.text("Exif.GPSInfo.GPSLongitudeRef")
    lat_sign = _hemisphere(lat[1] is not None or tags.has("Exif.GPSInfo.GPSLatitudeRef"),
                           lat_ref, "N", "S", "latitude")
    lon_sign = _hemisphere(lon[1] is not None or tags.has("Exif.GPSInfo.GPSLongitudeRef"),
                           lon_ref, "E", "W", "longitude")
    alt = tags.number("Exif.GPSInfo.GPSAltitude")
    if alt is not None and tags.number("Exif.GPSInfo.GPSAltitudeRef") == 1:
        alt = -alt
    return _checked_fix(abs(lat[0]) * lat_sign, abs(lon[0]) * lon_sign, alt)


def _xmp_gps(tags: Tags) -> tuple[float, float, float | None] | None:
    """XMP's position, written "DDD,MM.mmmmmmK" or "DDD,MM,SSK" (XMP's own forms), or as
    signed decimal degrees by lenient writers."""
    lat = parse_angle(tags.text("Xmp.exif.GPSLatitude"))
    lon = parse_angle(tags.text("Xmp.exif.GPSLongitude"))
    if lat is None or lon is None:
        return None
    if abs(lat[0]) < 1e-7 and abs(lon[0]) < 1e-7:
        return None
    signed = []
    for (value, letter), (positive, negative, what) in zip(
            (lat, lon), (("N", "S", "latitude"), ("E", "W", "longitude")), strict=True):
        if letter is None:
            signed.append(value)
        else:
            signed.append(abs(value) * _hemisphere(True, letter, positive, negative, what))
    alt = tags.number("Xmp.exif.GPSAltitude")
    if alt is not None and tags.text("Xmp.exif.GPSAltitudeRef") == "1":
        alt = -alt
    return _checked_fix(signed[0], signed[1], alt)


def _gps_utc(tags: Tags) -> datetime | None:
    """The GPS receiver's UTC time of the fix (GPSDateStamp + GPSTimeStamp)."""
    date = tags.text("Exif.GPSInfo.GPSDateStamp")
    stamp = tags.numbers("Exif.GPSInfo.GPSTimeStamp")
    if not date or not stamp or len(stamp) != 3:
        return None
    try:
        day = datetime.strptime(date, "%Y:%m:%d")
        return day + timedelta(hours=stamp[0], minutes=stamp[1], seconds=stamp[2])
    except (ValueError, OverflowError):
        return None


def _offset_from_gps(local: datetime, utc: datetime) -> int | None:
    """The camera's UTC offset from its GPS clock, rounded to a quarter hour."""
    minutes = (local - utc).total_seconds() / 60.0
    rounded = int(round(minutes / 15.0) * 15)
    # Further than a quarter hour from a whole zone, or beyond any zone: the clocks disagree.
    if abs(minutes - rounded) > 5 or abs(rounded) > 14 * 60:
        return None
    return rounded


# ---------------------------------------------------------------------------- texts


def _user_comment(raw: bytes | None) -> str | None:
    """EXIF UserComment: an 8-byte character-code header, then the text."""
    if not raw:
        return None
    head, body = raw[:8], raw[8:]
    if head.startswith(b"ASCII"):
        return clean_text(body.decode("ascii", errors="ignore"))
    if head.startswith(b"UNICODE"):
        # The spec says UCS-2 in the TIFF byte order; writers disagree, so look at the zeros.
        le = body[1::2].count(0) >= body[0::2].count(0)
        return clean_text(body.decode("utf-16-le" if le else "utf-16-be", errors="ignore"))
    if head.startswith(b"JIS"):
        return clean_text(body.decode("shift_jis", errors="ignore"))
    if head == b"\x00" * 8:
        return clean_text(text_of(body))
    return clean_text(text_of(raw))


def _xp(raw: bytes | None) -> str | None:
    """Microsoft's XP* tags: UTF-16LE stored as bytes."""
    return clean_text(raw.decode("utf-16-le", errors="ignore")) if raw else None


# Texts kept as lists (every language, every item, every repetition): field, source, key, and
# how the values are joined into one text.
_LISTED = (
    (FIELD_DESCRIPTION, "xmp:dc:description", "Xmp.dc.description", "\n"),
    (FIELD_DESCRIPTION, "xmp:dc:title", "Xmp.dc.title", "\n"),
    (FIELD_KEYWORDS, "xmp:dc:subject", "Xmp.dc.subject", "; "),
    (FIELD_KEYWORDS, "iptc:Keywords", "Iptc.Application2.Keywords", "; "),
    (FIELD_DESCRIPTION, "iptc:Caption", "Iptc.Application2.Caption", "\n"),
)


def _texts(img: Any, tags: Tags | None) -> list[TextItem]:
    items: list[TextItem] = []

    def add(field_name: str, source: str, value: str | None) -> None:
        # A placeholder is no description wherever it was put (Photoshop mirrors its own into
        # XMP too).
        if value and not (field_name == FIELD_DESCRIPTION and placeholder(value)):
            items.append(TextItem(field_name, source, value))

    if tags is not None:
        description = tags.text("Exif.Image.ImageDescription")
        if description and not placeholder(description):
            add(FIELD_DESCRIPTION, "exif:ImageDescription", description)
        add(FIELD_DESCRIPTION, "exif:UserComment", _user_comment(
            tags.raw("Exif.Photo.UserComment")))
        add(FIELD_DESCRIPTION, "exif:XPComment", _xp(tags.raw("Exif.Image.XPComment")))
        add(FIELD_DESCRIPTION, "exif:XPTitle", _xp(tags.raw("Exif.Image.XPTitle")))
        add(FIELD_DESCRIPTION, "exif:XPSubject", _xp(tags.raw("Exif.Image.XPSubject")))
        keywords = _xp(tags.raw("Exif.Image.XPKeywords"))
        if keywords:
            add(FIELD_KEYWORDS, "exif:XPKeywords", "; ".join(
                k.strip() for k in keywords.split(";") if k.strip()))
        for field_name, source, key, joint in _LISTED:
            add(field_name, source, joint.join(dict.fromkeys(tags.texts(key))))
    if img.format == "PNG":
        info = img.info
        for key in ("Description", "Comment", "Title"):
            value = info.get(key)
            add(FIELD_DESCRIPTION, f"png:{key}", clean_text(value) if isinstance(value, str)
                else None)
        if isinstance(info.get("parameters"), str):
            items += parse_a1111(info["parameters"])
        prompt, workflow = info.get("prompt"), info.get("workflow")
        if isinstance(prompt, str) or isinstance(workflow, str):
            items += parse_comfyui(
                prompt if isinstance(prompt, str) else None,
                workflow if isinstance(workflow, str) else None,
            )
    # Identical text in several places (ImageDescription mirrored into XMP) is stored once.
    seen: set[tuple[str, str]] = set()
    unique: list[TextItem] = []
    for item in items:
        identity = (item.field, item.value)
        if identity not in seen:
            seen.add(identity)
            unique.append(item)
    return unique
