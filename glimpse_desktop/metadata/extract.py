"""Metadata from an opened image: dates, GPS, camera, exposure, and the text already in files.

The metadata feature's reader (``read``), contributed to the kernel through the hook
``glimpse_metadata_readers``: the kernel opens the photo and reads its size and orientation,
this fills in the rest of its record (``kernel.meta.PhotoMeta``).

Everything here reads; nothing writes to the original. Values from files are untrusted: each
field is parsed defensively and a bad field is dropped (with a warning), never fatal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from PIL import Image, ImageFile, IptcImagePlugin

from glimpse_desktop.kernel.meta import (
    PhotoMeta,
    PhotoSource,
    TextItem,
    format_taken,
    to_float,
    to_int,
)
from glimpse_desktop.metadata import xmp as xmp_reader

# EXIF / TIFF tag numbers (CIPA DC-008, TIFF 6.0, Microsoft XP tags).
IFD_EXIF = 0x8769
IFD_GPS = 0x8825
T_IMAGE_DESCRIPTION = 0x010E
T_MAKE = 0x010F
T_MODEL = 0x0110
T_ORIENTATION = 0x0112
T_DATETIME = 0x0132
T_XMP = 0x02BC
T_RATING = 0x4746
T_XP_TITLE = 0x9C9B
T_XP_COMMENT = 0x9C9C
T_XP_KEYWORDS = 0x9C9E
T_XP_SUBJECT = 0x9C9F
T_EXPOSURE_TIME = 0x829A
T_F_NUMBER = 0x829D
T_ISO = 0x8827
T_DATETIME_ORIGINAL = 0x9003
T_DATETIME_DIGITIZED = 0x9004
T_OFFSET_TIME = 0x9010
T_OFFSET_TIME_ORIGINAL = 0x9011
T_OFFSET_TIME_DIGITIZED = 0x9012
T_SUBSEC = 0x9290
T_SUBSEC_ORIGINAL = 0x9291
T_SUBSEC_DIGITIZED = 0x9292
T_USER_COMMENT = 0x9286
T_FOCAL_LENGTH = 0x920A
T_PIXEL_X = 0xA002
T_PIXEL_Y = 0xA003
T_LENS_MAKE = 0xA433
T_LENS_MODEL = 0xA434
G_LAT_REF, G_LAT, G_LON_REF, G_LON, G_ALT_REF, G_ALT = 1, 2, 3, 4, 5, 6
G_TIMESTAMP, G_DATESTAMP = 7, 0x1D

# Fields whose text feeds the FTS columns of the same name (see library/fts.py).
FIELD_DESCRIPTION = "description"
FIELD_KEYWORDS = "keywords"
FIELD_PROMPT = "prompt"
# Kept and shown, but not searched: matching a negative prompt would invert the meaning.
FIELD_NEGATIVE_PROMPT = "negative_prompt"
FIELD_GENERATION = "generation"

# Placeholders cameras write into ImageDescription; they are not descriptions.
_JUNK_DESCRIPTIONS = {
    "olympus digital camera", "sony dsc", "digital camera", "dcim", "default", "image",
    "exif_jpeg_picture", "camera", "kodak digital still camera", "minolta digital camera",
    "sanyo digital camera", "samsung digital camera", "<kenox s630  / samsung s630>",
}
_EARLIEST_YEAR = 1826  # the oldest surviving photograph


# ---------------------------------------------------------------------------- small parsers


def clean_text(value: Any) -> str | None:
    """Bytes or str from a tag to stripped text; None when empty."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = _decode_bytes(value)
    if isinstance(value, tuple | list):
        return None
    text = str(value).replace("\x00", "").strip()
    return _undo_latin1(text) or None


def _undo_latin1(text: str) -> str:
    """EXIF's ASCII tags often hold UTF-8 (phones, Lightroom, exiftool), which Pillow decodes
    as Latin-1: "cafÃ©" for "café". Text that is valid UTF-8 once re-encoded was UTF-8."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _decode_bytes(raw: bytes) -> str:
    for enc in ("utf-8", "latin-1"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return ""


def decode_xp(value: Any) -> str | None:
    """Microsoft XP* tags: UTF-16LE stored as a BYTE array."""
    if isinstance(value, tuple | list):
        try:
            value = bytes(value)
        except (TypeError, ValueError):
            return None
    if isinstance(value, str):
        return clean_text(value)
    if not isinstance(value, bytes):
        return None
    return clean_text(value.decode("utf-16-le", errors="ignore"))


def decode_user_comment(value: Any) -> str | None:
    """EXIF UserComment: an 8-byte character-code header, then the text."""
    if isinstance(value, str):
        return clean_text(value)
    if not isinstance(value, bytes):
        return None
    head, body = value[:8], value[8:]
    if head.startswith(b"ASCII"):
        return clean_text(body.decode("ascii", errors="ignore"))
    if head.startswith(b"UNICODE"):
        # The spec says UCS-2 in the TIFF byte order; writers disagree, so look at the zeros.
        le = body[1::2].count(0) >= body[0::2].count(0)
        return clean_text(body.decode("utf-16-le" if le else "utf-16-be", errors="ignore"))
    if head.startswith(b"JIS"):
        return clean_text(body.decode("shift_jis", errors="ignore"))
    if head == b"\x00" * 8:
        return clean_text(_decode_bytes(body))
    return clean_text(_decode_bytes(value))


_DATE_RE = re.compile(
    r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,](\d+))?)?"
    r"\s*(Z|[+\-]\d{2}:?\d{2})?\s*$"
)


def parse_offset(text: Any) -> int | None:
    """'+02:00' / '-0530' / 'Z' to minutes east of UTC."""
    s = clean_text(text)
    if not s:
        return None
    if s == "Z":
        return 0
    m = re.fullmatch(r"([+\-])(\d{2}):?(\d{2})", s)
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    if minutes > 14 * 60:
        return None
    return minutes if m.group(1) == "+" else -minutes


def parse_datetime(text: Any, subsec: Any = None) -> tuple[datetime, int | None] | None:
    """An EXIF or XMP date to a naive local datetime and its offset (minutes) if stated."""
    s = clean_text(text)
    if not s:
        return None
    m = _DATE_RE.match(s)
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hour, minute, second = (int(m.group(i) or 0) for i in (4, 5, 6))
    frac = m.group(7) or clean_text(subsec) or ""
    frac = re.sub(r"\D", "", frac)[:6]
    micro = int(frac.ljust(6, "0")) if frac else 0
    if year < _EARLIEST_YEAR or year > datetime.now().year + 1:
        return None
    try:
        local = datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None
    return local, parse_offset(m.group(8)) if m.group(8) else None


def _dms(value: Any) -> float | None:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return to_float(value)
    parts = [to_float(v) for v in value]
    if any(p is None for p in parts):
        return None
    deg, minutes, seconds = (p for p in parts if p is not None)
    return deg + minutes / 60.0 + seconds / 3600.0


def _hemisphere(value: Any, positive: str, negative: str, what: str) -> int:
    """+1 or -1 for a GPS reference letter (in either case, as some phones write it).

    Raises ValueError for anything else (another letter, a word, nothing at all): the
    coordinates are unsigned, so without their hemisphere they could be any of four places,
    and reading them as north and east would put the photo somewhere it was not taken."""
    text = clean_text(value)
    letter = text.upper() if text else ""
    if letter == positive:
        return 1
    if letter == negative:
        return -1
    shown = "missing" if value is None else repr(text or "")
    raise ValueError(f"GPS {what} hemisphere is {shown}, not {positive} or {negative}: "
                     "position ignored")


def parse_gps(gps: Mapping[int, Any]) -> tuple[float, float, float | None] | None:
    """Signed decimal degrees (and altitude in metres); None for absent, 0,0 or impossible.

    Raises ValueError (its message a warning to keep) when a hemisphere letter is not
    N/S or E/W."""
    lat, lon = _dms(gps.get(G_LAT)), _dms(gps.get(G_LON))
    if lat is None or lon is None:
        return None
    if abs(lat) < 1e-7 and abs(lon) < 1e-7:
        return None  # "Null Island": a receiver without a fix, whatever its letters say
    lat = abs(lat) * _hemisphere(gps.get(G_LAT_REF), "N", "S", "latitude")
    lon = abs(lon) * _hemisphere(gps.get(G_LON_REF), "E", "W", "longitude")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    alt = to_float(gps.get(G_ALT))
    ref = gps.get(G_ALT_REF)
    below = ref in (1, b"\x01") or (isinstance(ref, bytes) and ref[:1] == b"\x01")
    if alt is not None and below:
        alt = -alt
    return round(lat, 7), round(lon, 7), alt


def _gps_utc(gps: Mapping[int, Any]) -> datetime | None:
    date = clean_text(gps.get(G_DATESTAMP))
    stamp = gps.get(G_TIMESTAMP)
    if not date or not isinstance(stamp, tuple | list) or len(stamp) != 3:
        return None
    parts = [to_float(v) for v in stamp]
    if any(p is None for p in parts):
        return None
    try:
        day = datetime.strptime(date, "%Y:%m:%d")
    except ValueError:
        return None
    h, mi, s = (p for p in parts if p is not None)
    return day + timedelta(hours=h, minutes=mi, seconds=s)


# ---------------------------------------------------------------------------- AI prompts


def parse_a1111(parameters: str) -> list[TextItem]:
    """Automatic1111 'parameters': prompt, then 'Negative prompt: ...', then a settings line."""
    lines = parameters.strip().split("\n")
    settings_at = next(
        (i for i in range(len(lines) - 1, -1, -1) if re.match(r"^\s*Steps:\s*\d", lines[i])),
        None,
    )
    body = lines if settings_at is None else lines[:settings_at]
    settings = None if settings_at is None else "\n".join(lines[settings_at:]).strip()
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    target = prompt_lines
    for line in body:
        if line.startswith("Negative prompt:"):
            target = negative_lines
            line = line[len("Negative prompt:"):]
        target.append(line)
    items: list[TextItem] = []
    prompt = "\n".join(prompt_lines).strip()
    negative = "\n".join(negative_lines).strip()
    if prompt:
        items.append(TextItem(FIELD_PROMPT, "a1111", prompt))
    if negative:
        items.append(TextItem(FIELD_NEGATIVE_PROMPT, "a1111", negative))
    if settings:
        items.append(TextItem(FIELD_GENERATION, "a1111", settings))
    return items


# ComfyUI nodes whose text inputs are prompts; "negative" decided by how the graph wires them.
_PROMPT_KEYS = ("text", "text_g", "text_l", "prompt", "positive", "wildcard_text")


def _comfy_negative_ids(graph: Mapping[str, Any]) -> set[str]:
    negative: set[str] = set()
    for node in graph.values():
        if not isinstance(node, Mapping):
            continue
        inputs = node.get("inputs")
        if isinstance(inputs, Mapping):
            link = inputs.get("negative")
            if isinstance(link, list) and link:
                negative.add(str(link[0]))
    return negative


def parse_comfyui(prompt_json: str | None, workflow_json: str | None) -> list[TextItem]:
    """Prompt texts from a ComfyUI API graph ('prompt') or UI graph ('workflow')."""
    positives: list[str] = []
    negatives: list[str] = []
    if prompt_json:
        try:
            graph = json.loads(prompt_json)
        except ValueError:
            graph = None
        if isinstance(graph, Mapping):
            neg_ids = _comfy_negative_ids(graph)
            for node_id, node in graph.items():
                if not isinstance(node, Mapping) or not isinstance(node.get("inputs"), Mapping):
                    continue
                for key in _PROMPT_KEYS:
                    value = node["inputs"].get(key)
                    if isinstance(value, str) and value.strip():
                        (negatives if str(node_id) in neg_ids else positives).append(value.strip())
    if not positives and workflow_json:
        try:
            workflow = json.loads(workflow_json)
        except ValueError:
            workflow = None
        nodes = workflow.get("nodes") if isinstance(workflow, Mapping) else None
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, Mapping) or "TextEncode" not in str(node.get("type", "")):
                continue
            title = str(node.get("title", "")).lower()
            for value in node.get("widgets_values") or []:
                if isinstance(value, str) and value.strip():
                    (negatives if "negative" in title else positives).append(value.strip())
    items = [TextItem(FIELD_PROMPT, "comfyui", t) for t in dict.fromkeys(positives)]
    items += [TextItem(FIELD_NEGATIVE_PROMPT, "comfyui", t) for t in dict.fromkeys(negatives)]
    # Several nodes may hold prompts; one row per (field, source) keeps the schema simple.
    return _join_same_field(items)


def _join_same_field(items: Iterable[TextItem]) -> list[TextItem]:
    merged: dict[tuple[str, str], list[str]] = {}
    for item in items:
        merged.setdefault((item.field, item.source), []).append(item.value)
    return [TextItem(f, s, "\n".join(dict.fromkeys(v))) for (f, s), v in merged.items()]


# ---------------------------------------------------------------------------- the whole photo


def read(photo: PhotoSource) -> PhotoMeta:
    """What Glimpse keeps about a photo beyond its size and orientation (which the kernel
    reads), from an opened (not necessarily loaded) image: camera, exposure, position, rating,
    the date taken (None when the file states none) and the texts.

    ``photo.exif`` is the image's EXIF (for RAW files, the container's)."""
    img, exif = photo.image, photo.exif
    meta = PhotoMeta()
    ifd0: Mapping[int, Any] = exif if exif is not None else {}
    sub: Mapping[int, Any] = {}
    gps: Mapping[int, Any] = {}
    if exif is not None:
        try:
            sub = exif.get_ifd(IFD_EXIF)
        except Exception as exc:  # Pillow raises assorted errors on broken IFDs
            meta.warnings.append(f"unreadable EXIF sub-IFD: {exc}")
        try:
            gps = exif.get_ifd(IFD_GPS)
        except Exception as exc:
            meta.warnings.append(f"unreadable GPS IFD: {exc}")

    # Camera and exposure.
    meta.camera_make = clean_text(ifd0.get(T_MAKE))
    meta.camera_model = clean_text(ifd0.get(T_MODEL))
    meta.lens = clean_text(sub.get(T_LENS_MODEL)) or clean_text(sub.get(T_LENS_MAKE))
    meta.exposure_time = to_float(sub.get(T_EXPOSURE_TIME))
    meta.f_number = to_float(sub.get(T_F_NUMBER))
    meta.iso = to_int(sub.get(T_ISO))
    meta.focal_length = to_float(sub.get(T_FOCAL_LENGTH))
    rating = to_int(ifd0.get(T_RATING))

    # GPS.
    if gps:
        try:
            fix = parse_gps(gps)
        except ValueError as exc:
            meta.warnings.append(str(exc))
        else:
            if fix is not None:
                meta.gps_lat, meta.gps_lon, meta.gps_alt = fix
            elif _dms(gps.get(G_LAT)) not in (None, 0.0):
                # 0,0 is what phones write without a fix: normal, not worth a warning.
                meta.warnings.append("GPS position out of range, ignored")

    # XMP: JPEG APP1, PNG iTXt, WebP and HEIF chunks land in info["xmp"]; TIFF in tag 700.
    xmp: xmp_reader.XmpIndex | None = None
    try:
        xmp = _xmp(img.info.get("xmp") or img.info.get("XML:com.adobe.xmp") or ifd0.get(T_XMP))
    except ValueError as exc:
        meta.warnings.append(str(exc))
    if xmp is not None and xmp.rating is not None and rating is None:
        rating = xmp.rating
    if rating is not None and -1 <= rating <= 5:
        meta.rating = rating

    # Date taken, best source first.
    candidates: list[tuple[str, Any, Any, Any]] = [
        ("exif:DateTimeOriginal", sub.get(T_DATETIME_ORIGINAL), sub.get(T_SUBSEC_ORIGINAL),
         sub.get(T_OFFSET_TIME_ORIGINAL)),
        ("exif:CreateDate", sub.get(T_DATETIME_DIGITIZED), sub.get(T_SUBSEC_DIGITIZED),
         sub.get(T_OFFSET_TIME_DIGITIZED)),
        ("exif:DateTime", ifd0.get(T_DATETIME), sub.get(T_SUBSEC), sub.get(T_OFFSET_TIME)),
    ]
    if xmp is not None:
        candidates += [(source, text, None, None) for source, text in xmp.dates]
    png_time = img.info.get("Creation Time") if img.format == "PNG" else None
    if png_time:
        candidates.append(("png:CreationTime", png_time, None, None))
    for source, text, subsec, offset_text in candidates:
        parsed = parse_datetime(text, subsec)
        if parsed is None:
            if clean_text(text):
                meta.warnings.append(f"unreadable date in {source}: {clean_text(text)!r}")
            continue
        local, offset = parsed
        if offset is None:
            offset = parse_offset(offset_text)
        if offset is None and source.startswith("exif:") and gps:
            offset = _offset_from_gps(local, gps)
        meta.taken_at, meta.taken_ts = format_taken(local, offset)
        meta.taken_at_offset, meta.taken_at_source = offset, source
        break

    meta.texts = _texts(img, ifd0, sub, xmp)
    return meta


def _xmp(packet: Any) -> xmp_reader.XmpIndex | None:
    """What the photo's XMP packet says (None without one); ValueError when it is broken."""
    if not packet:
        return None
    if isinstance(packet, str):
        packet = packet.encode("utf-8", errors="ignore")
    return xmp_reader.index(packet)   # XmpError is a ValueError


def _offset_from_gps(local: datetime, gps: Mapping[int, Any]) -> int | None:
    """The camera's UTC offset from its GPS clock, rounded to a quarter hour."""
    utc = _gps_utc(gps)
    if utc is None:
        return None
    minutes = (local - utc).total_seconds() / 60.0
    rounded = int(round(minutes / 15.0) * 15)
    # Further than a quarter hour from a whole zone, or beyond any zone: the clocks disagree.
    if abs(minutes - rounded) > 5 or abs(rounded) > 14 * 60:
        return None
    return rounded


def _texts(
    img: Image.Image, ifd0: Mapping[int, Any], sub: Mapping[int, Any],
    xmp: xmp_reader.XmpIndex | None
) -> list[TextItem]:
    items: list[TextItem] = []

    def add(field_name: str, source: str, value: str | None) -> None:
        if value:
            items.append(TextItem(field_name, source, value))

    description = clean_text(ifd0.get(T_IMAGE_DESCRIPTION))
    if description and description.lower() not in _JUNK_DESCRIPTIONS:
        add(FIELD_DESCRIPTION, "exif:ImageDescription", description)
    add(FIELD_DESCRIPTION, "exif:UserComment", decode_user_comment(sub.get(T_USER_COMMENT)))
    add(FIELD_DESCRIPTION, "exif:XPComment", decode_xp(ifd0.get(T_XP_COMMENT)))
    add(FIELD_DESCRIPTION, "exif:XPTitle", decode_xp(ifd0.get(T_XP_TITLE)))
    add(FIELD_DESCRIPTION, "exif:XPSubject", decode_xp(ifd0.get(T_XP_SUBJECT)))
    keywords = decode_xp(ifd0.get(T_XP_KEYWORDS))
    if keywords:
        add(FIELD_KEYWORDS, "exif:XPKeywords", "; ".join(
            k.strip() for k in keywords.split(";") if k.strip()))
    if xmp is not None:
        add(FIELD_DESCRIPTION, "xmp:dc:description", "\n".join(dict.fromkeys(xmp.descriptions)))
        add(FIELD_DESCRIPTION, "xmp:dc:title", "\n".join(dict.fromkeys(xmp.titles)))
        add(FIELD_KEYWORDS, "xmp:dc:subject", "; ".join(dict.fromkeys(xmp.subjects)))
    if img.format in ("JPEG", "MPO", "TIFF"):
        items += _iptc(img)
    if img.format == "PNG":
        info = img.info
        for key in ("Description", "Comment", "Title"):
            add(FIELD_DESCRIPTION, f"png:{key}", clean_text(info.get(key)))
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


def _iptc(img: Image.Image) -> list[TextItem]:
    if not isinstance(img, ImageFile.ImageFile):
        return []
    try:
        info = IptcImagePlugin.getiptcinfo(img)
    except Exception:  # a malformed IPTC block is not worth a warning of its own
        return []
    if not info:
        return []

    def values(key: tuple[int, int]) -> list[str]:
        raw = info.get(key)
        if raw is None:
            return []
        seq = raw if isinstance(raw, list) else [raw]
        return [t for t in (clean_text(v) for v in seq) if t]

    items: list[TextItem] = []
    keywords = values((2, 25))
    if keywords:
        items.append(TextItem(FIELD_KEYWORDS, "iptc:Keywords", "; ".join(keywords)))
    caption = values((2, 120))
    if caption:
        items.append(TextItem(FIELD_DESCRIPTION, "iptc:Caption", "\n".join(caption)))
    return items
