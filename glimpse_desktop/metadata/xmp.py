"""XMP documents: the metadata Glimpse writes to sidecars and JPEGs, and reads back.

Parsing takes a packet or a sidecar (untrusted: defusedxml) into a small model; a value that
is not a finite number in its range (a rating, a region's area, its image size) is left out.
Writing merges that model into an existing document, item by item, in the properties Glimpse
writes (dc:description, dc:subject, lr:hierarchicalSubject, xmp:Rating, mwg-rs:Regions and
glimpse:*): what Glimpse wrote the last time (``previous``, kept by the library) is replaced,
and every other keyword, region (with its own fields, of any type) and language of the
description stays as another app wrote it, as does every other property and namespace. So a
sidecar written by digiKam, darktable or Lightroom survives our write, and a tag deleted in
Glimpse leaves the file without touching the keywords someone else put there.

Region geometry. MWG regions (mwg-rs:Area) give the region's CENTRE and size as fractions of
the image, and mwg-rs:AppliedToDimensions the image size they refer to. They refer to the image
as stored, before EXIF orientation is applied: readers that draw digiKam's regions on the
upright picture without turning them with the orientation misplace them on portrait photos
(pigallery2 issue #979 and #515, Damselfly issue #352, digiKam bugs 372340 and 395243 where
digiKam itself was fixed to rotate regions with the orientation), and exiftool's MWG module
leaves the coordinates alone when it copies orientation. Glimpse keeps faces in fractions of
the upright image (top-left corner and size), so `to_upright`/`from_upright` convert.
"""

from __future__ import annotations

import io
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from defusedxml import ElementTree as SafeET

from glimpse_desktop.metadata.values import parse_angle, parse_datetime

__all__ = ["NS", "Merged", "XmpCaption", "XmpData", "XmpError", "XmpRegion",
           "from_upright", "merge", "merge_report", "parse", "parse_coordinate",
           "parse_date", "same_date", "same_place", "same_text", "to_upright",
           "xmp_coordinate"]

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "lr": "http://ns.adobe.com/lightroom/1.0/",
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "glimpse": "https://glimpse-desktop.org/xmp/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "digiKam": "http://www.digikam.org/ns/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xml": "http://www.w3.org/XML/1998/namespace",
}
_XPACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


# The top-level properties Glimpse owns; everything else in a document belongs to others.
OWNED = (_q("dc", "description"), _q("dc", "subject"), _q("lr", "hierarchicalSubject"),
         _q("xmp", "Rating"), _q("mwg-rs", "Regions"), _q("glimpse", "CaptionSummary"),
         _q("glimpse", "CaptionModel"), _q("glimpse", "CaptionData"),
         _q("glimpse", "CaptionSource"))
# The date taken and the place, written only where the person set them in Glimpse (as digiKam
# writes a date: the three XMP dates readers look at; the place in XMP's "DDD,MM.mmmmmmK").
DATE_PROPERTIES = (_q("exif", "DateTimeOriginal"), _q("photoshop", "DateCreated"),
                   _q("xmp", "CreateDate"))
GPS_PROPERTIES = (_q("exif", "GPSLatitude"), _q("exif", "GPSLongitude"),
                  _q("exif", "GPSAltitude"), _q("exif", "GPSAltitudeRef"))
_RDF_ATTRS = {_q("rdf", n) for n in ("about", "parseType", "resource", "ID", "nodeID",
                                     "datatype")}


class XmpError(ValueError):
    """The XMP document cannot be read (not XML, not RDF)."""


@dataclass(frozen=True)
class XmpRegion:
    """One MWG region: centre (x, y) and size (w, h) as fractions of the stored image."""

    name: str
    x: float
    y: float
    w: float
    h: float
    type: str = "Face"


@dataclass(frozen=True)
class XmpCaption:
    """Glimpse's full caption, kept in its own namespace so it survives a lost library."""

    summary: str
    model: str | None = None
    data: str | None = None     # the structured fields, JSON text
    source: str | None = None   # 'model' or 'user' when Glimpse wrote it


@dataclass
class XmpData:
    description: str | None = None
    title: str | None = None
    subjects: list[str] = field(default_factory=list)
    hierarchical: list[str] = field(default_factory=list)
    rating: int | None = None
    regions: list[XmpRegion] = field(default_factory=list)
    applied_to: tuple[int, int] | None = None   # stored width, height the regions refer to
    caption: XmpCaption | None = None
    # The date taken the person set (ISO 8601 as the library keeps it: seconds or
    # milliseconds, the UTC offset when known); None: the file's date is not Glimpse's to set.
    taken_at: str | None = None
    # The place the person set: latitude, longitude (degrees, north and east positive) and
    # altitude (metres above sea level, None when unknown); None: not Glimpse's to set.
    gps: tuple[float, float, float | None] | None = None
    # The person cleared the place: the file's GPS is removed (``gps`` is None then).
    clear_gps: bool = False
    # digiKam's pick label (digiKam:PickLabel: 0 none, 1 rejected, 2 pending, 3 accepted):
    # Glimpse writes 3 for a favourite and 1 for a reject, and reads 3 back as a favourite.
    pick: int | None = None
    # The EXIF orientation (1-8, tiff:Orientation) that shows the photo as the person turned
    # it; None: not Glimpse's to set (the person did not turn it).
    orientation: int | None = None
    # The file's own orientation, put back where Glimpse wrote another and the person has
    # turned the photo back (never recorded: the library keeps it).
    base_orientation: int = 1

    def record(self) -> dict[str, Any]:
        """As JSON-ready values (what Glimpse wrote, kept in the library's writeback table).
        The date and place appear only when written (older records have neither)."""
        cap = self.caption
        out: dict[str, Any] = {
            "description": self.description, "subjects": list(self.subjects),
            "hierarchical": list(self.hierarchical), "rating": self.rating,
            "regions": [[r.name, r.x, r.y, r.w, r.h, r.type] for r in self.regions],
            "caption": None if cap is None else cap.summary}
        if self.taken_at is not None:
            out["taken_at"] = self.taken_at
        if self.gps is not None:
            out["gps"] = list(self.gps)
        if self.clear_gps:
            out["clear_gps"] = True
        if self.pick is not None:
            out["pick"] = self.pick
        if self.orientation is not None:
            out["orientation"] = self.orientation
        return out

    @classmethod
    def from_record(cls, raw: str | dict[str, Any] | None) -> XmpData | None:
        """The inverse of `record` (None for nothing recorded, or a record that is unreadable)."""
        if not raw:
            return None
        try:
            rec = json.loads(raw) if isinstance(raw, str) else raw
            return cls(description=rec.get("description"),
                       subjects=[str(t) for t in rec.get("subjects") or []],
                       hierarchical=[str(t) for t in rec.get("hierarchical") or []],
                       rating=rec.get("rating"),
                       regions=[XmpRegion(str(r[0]), float(r[1]), float(r[2]), float(r[3]),
                                          float(r[4]), str(r[5]) if len(r) > 5 else "Face")
                                for r in rec.get("regions") or []],
                       caption=(XmpCaption(str(rec["caption"])) if rec.get("caption")
                                else None),
                       taken_at=str(rec["taken_at"]) if rec.get("taken_at") else None,
                       gps=_gps_of(rec.get("gps")), clear_gps=bool(rec.get("clear_gps")),
                       pick=_small(rec.get("pick"), 0, 5),
                       orientation=_small(rec.get("orientation"), 1, 8))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None

    def owned(self) -> dict[str, Any]:
        """The properties Glimpse writes, in a comparable form (for read-back checks): text
        as a reader sees it (trimmed, without characters XML cannot hold)."""
        def norm(text: str | None) -> str | None:
            return clean(text).strip() or None if text else None

        def norms(values: list[str]) -> list[str]:
            return list(dict.fromkeys(v for v in (norm(t) for t in values) if v))

        cap = self.caption
        return {
            "description": norm(self.description),
            "subjects": norms(self.subjects),
            "hierarchical": norms(self.hierarchical),
            "rating": self.rating,
            "regions": [(norm(r.name), r.type, round(r.x, 4), round(r.y, 4), round(r.w, 4),
                         round(r.h, 4)) for r in self.regions],
            "caption": (None if cap is None else
                        (norm(cap.summary), norm(cap.model), norm(cap.data), norm(cap.source))),
            "taken_at": same_date(self.taken_at),
            "gps": same_place(self.gps),
            "pick": self.pick,
            "orientation": self.orientation,
        }


def _small(value: Any, low: int, high: int) -> int | None:
    """A whole number from ``low`` to ``high`` (a pick label, an orientation), else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == int(number) and low <= number <= high else None


def _gps_of(raw: Any) -> tuple[float, float, float | None] | None:
    if not raw:
        return None
    alt = raw[2] if len(raw) > 2 else None
    return float(raw[0]), float(raw[1]), None if alt is None else float(alt)


_HAS_TIME = re.compile(r"\d[T ]\d{2}:\d{2}")


def parse_date(text: str | None) -> tuple[datetime, int | None] | None:
    """An XMP (or library) date as wall-clock time and UTC offset in minutes (None when the
    text has none); None when it is not a date with a time."""
    if not text or not _HAS_TIME.search(text):
        return None   # a date alone is not a moment
    return parse_datetime(text)


def same_date(text: str | None) -> str | None:
    """A date as compared with what was written (the same moment in any spelling: XMP's
    toolkit writes 12.5 for 12.500)."""
    parsed = parse_date(text)
    if parsed is None:
        return None if text is None else text.strip() or None
    local, off = parsed
    return local.isoformat(timespec="milliseconds") + ("" if off is None else f"{off:+d}")


def same_place(gps: tuple[float, float, float | None] | None) -> tuple[float, ...] | None:
    """A place as compared with what was written: what "DDD,MM.mmmmmm" and a rational
    altitude keep (a tenth of a metre of latitude; a centimetre of altitude)."""
    if gps is None:
        return None
    lat, lon, alt = gps
    return (round(lat, 6), round(lon, 6)) + (() if alt is None else (round(alt, 2),))


def xmp_coordinate(value: float, positive: str, negative: str) -> str:
    """Degrees as XMP's GPSCoordinate: "DDD,MM.mmmmmmK" (Adobe XMP spec part 2, 1.2.7.4)."""
    ref = positive if value >= 0 else negative
    # In millionths of a minute, so the minutes never round up to 60.
    micro = round(abs(value) * 60 * 1_000_000)
    degrees, rest = divmod(micro, 60 * 1_000_000)
    return f"{degrees},{rest / 1_000_000:.6f}{ref}"


def parse_coordinate(text: str | None) -> float | None:
    """XMP's "DDD,MM.mmmmK" or "DDD,MM,SSK" as signed degrees; None when it is not one (a
    coordinate without its hemisphere letter included)."""
    angle = parse_angle(text)
    if angle is None or angle[1] is None:
        return None
    value, letter = angle
    return -abs(value) if letter in ("S", "W") else abs(value)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    """Text without the control characters XML 1.0 cannot hold (a pasted caption can carry
    them; written as they are, no reader could parse the file), with line ends as XML reads
    them back (\\r\\n and \\r as \\n)."""
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def same_text(text: str) -> str:
    """A description as compared with what Glimpse wrote: line ends and runs of spaces do
    not make another text (case does: that is an edit)."""
    return " ".join(clean(text).split())


# ---------------------------------------------------------------------------- geometry

def to_upright(box: tuple[float, float, float, float], orientation: int
               ) -> tuple[float, float, float, float]:
    """A top-left box in fractions of the stored image to fractions of the upright image
    (EXIF orientation 1-8 applied)."""
    x, y, w, h = box
    o = orientation if 1 <= orientation <= 8 else 1
    if o == 1:
        return x, y, w, h
    if o == 2:
        return 1 - x - w, y, w, h
    if o == 3:
        return 1 - x - w, 1 - y - h, w, h
    if o == 4:
        return x, 1 - y - h, w, h
    if o == 5:   # transpose: (u, v) -> (v, u)
        return y, x, h, w
    if o == 6:   # rotate 90 CW to show: (u, v) -> (1 - v, u)
        return 1 - y - h, x, h, w
    if o == 7:   # transverse: (u, v) -> (1 - v, 1 - u)
        return 1 - y - h, 1 - x - w, h, w
    return y, 1 - x - w, h, w   # 8, rotate 270 CW to show: (u, v) -> (v, 1 - u)


_INVERSE = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def from_upright(box: tuple[float, float, float, float], orientation: int
                 ) -> tuple[float, float, float, float]:
    """The inverse of `to_upright`."""
    return to_upright(box, _INVERSE.get(orientation, 1))


def region_from_upright(name: str, box: tuple[float, float, float, float],
                        orientation: int) -> XmpRegion:
    """A face box (top-left, upright fractions) as an MWG region (centre, stored fractions)."""
    x, y, w, h = from_upright(box, orientation)
    return XmpRegion(name=name, x=_clip(x + w / 2), y=_clip(y + h / 2), w=_clip(w), h=_clip(h))


def region_to_upright(region: XmpRegion, orientation: int
                      ) -> tuple[float, float, float, float]:
    """An MWG region as a top-left box in fractions of the upright image."""
    return to_upright((region.x - region.w / 2, region.y - region.h / 2, region.w, region.h),
                      orientation)


def _clip(v: float) -> float:
    return min(1.0, max(0.0, v))


# ---------------------------------------------------------------------------- parsing

def root_element(packet: bytes | str) -> ET.Element:
    """The x:xmpmeta (or bare rdf:RDF) element of a packet or sidecar, parsed safely;
    XmpError (a ValueError) when there is none or it is not XML."""
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    start = packet.find(b"<x:xmpmeta")
    end_tag = b"</x:xmpmeta>"
    if start < 0:
        start, end_tag = packet.find(b"<rdf:RDF"), b"</rdf:RDF>"
    end = packet.rfind(end_tag)
    if start < 0 or end < 0:
        raise XmpError("not an XMP document (no x:xmpmeta or rdf:RDF element)")
    try:
        root = SafeET.fromstring(packet[start:end + len(end_tag)])
    except Exception as exc:  # defusedxml raises several types; all mean "unusable"
        raise XmpError(f"unreadable XMP: {exc}") from exc
    if not isinstance(root, ET.Element):
        raise XmpError("unreadable XMP")
    return root


def _rdf(root: ET.Element) -> ET.Element:
    if root.tag == _q("rdf", "RDF"):
        return root
    rdf = root.find(_q("rdf", "RDF"))
    if rdf is None:
        raise XmpError("XMP without an rdf:RDF element")
    return rdf


def _descriptions(root: ET.Element) -> list[ET.Element]:
    return [d for d in _rdf(root) if d.tag == _q("rdf", "Description")]


def _struct(el: ET.Element) -> ET.Element:
    """The node holding a struct's fields: the element itself (rdf:parseType="Resource" or
    fields as attributes) or its rdf:Description child."""
    inner = el.find(_q("rdf", "Description"))
    return inner if inner is not None else el


def _field(node: ET.Element, tag: str) -> ET.Element | str | None:
    """A struct field, as attribute text or as its element."""
    if tag in node.attrib:
        return node.attrib[tag]
    return node.find(tag)


def _text(value: ET.Element | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    alt = value.find(_q("rdf", "Alt"))
    if alt is not None:
        items = list(alt)
        default = [i for i in items if i.get(_q("xml", "lang")) == "x-default"]
        chosen = (default or items)[:1]
        return (chosen[0].text or "").strip() or None if chosen else None
    return (value.text or "").strip() or None


def _items(value: ET.Element | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    found = [(li.text or "").strip() for li in value.iter(_q("rdf", "li"))]
    if not found and value.text and value.text.strip():
        found = [value.text.strip()]
    return [t for t in found if t]


def _float(value: ET.Element | str | None) -> float | None:
    """A finite number, or None (not a number, "inf", "nan", 1e999: another app's mistake)."""
    text = _text(value)
    try:
        number = float(text) if text is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _property(root: ET.Element, tag: str) -> ET.Element | str | None:
    for desc in _descriptions(root):
        value = _field(desc, tag)
        if value is not None:
            return value
    return None


def parse(packet: bytes | str) -> XmpData:
    """The properties Glimpse reads from an XMP packet or sidecar; XmpError if unreadable."""
    return _read(root_element(packet))


# The largest image side a region's AppliedToDimensions may name (pixels).
_MAX_SIDE = 1_000_000
# Rounding slack for a region's fractions written as 0.9999999 or 1.0000001.
_SLACK = 1e-6


def _read(root: ET.Element) -> XmpData:
    out = XmpData()
    out.description = _text(_property(root, _q("dc", "description")))
    out.title = _text(_property(root, _q("dc", "title")))
    out.subjects = list(dict.fromkeys(_items(_property(root, _q("dc", "subject")))))
    out.hierarchical = list(dict.fromkeys(
        _items(_property(root, _q("lr", "hierarchicalSubject")))))
    rating = _float(_property(root, _q("xmp", "Rating")))
    out.rating = int(rating) if rating is not None and -1 <= rating <= 5 else None
    out.pick = _small(_text(_property(root, _q("digiKam", "PickLabel"))), 0, 5)
    out.orientation = _small(_text(_property(root, _q("tiff", "Orientation"))), 1, 8)
    summary = _text(_property(root, _q("glimpse", "CaptionSummary")))
    if summary:
        out.caption = XmpCaption(
            summary=summary, model=_text(_property(root, _q("glimpse", "CaptionModel"))),
            data=_text(_property(root, _q("glimpse", "CaptionData"))),
            source=_text(_property(root, _q("glimpse", "CaptionSource"))))
    out.taken_at = next((t for t in (_text(_property(root, tag)) for tag in DATE_PROPERTIES)
                         if parse_date(t) is not None), None)
    lat = parse_coordinate(_text(_property(root, GPS_PROPERTIES[0])))
    lon = parse_coordinate(_text(_property(root, GPS_PROPERTIES[1])))
    if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
        out.gps = (lat, lon, _altitude(root))
    regions = _property(root, _q("mwg-rs", "Regions"))
    if isinstance(regions, ET.Element):
        node = _struct(regions)
        dims = _field(node, _q("mwg-rs", "AppliedToDimensions"))
        if isinstance(dims, ET.Element):
            d = _struct(dims)
            w, h = _float(_field(d, _q("stDim", "w"))), _float(_field(d, _q("stDim", "h")))
            if w is not None and h is not None and 1 <= w <= _MAX_SIDE and \
                    1 <= h <= _MAX_SIDE:
                out.applied_to = (int(w), int(h))
        for li in _region_items(node):
            region = _region(_struct(li))
            if region is not None:
                out.regions.append(region)
    return out


def _altitude(root: ET.Element) -> float | None:
    """exif:GPSAltitude (a rational, "1234/10") below sea level when GPSAltitudeRef is 1."""
    text = _text(_property(root, GPS_PROPERTIES[2]))
    if not text:
        return None
    num, _, den = text.partition("/")
    try:
        value = float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(value):
        return None
    return -value if _text(_property(root, GPS_PROPERTIES[3])) == "1" else value


def _region_items(node: ET.Element) -> list[ET.Element]:
    """The rdf:li of a Regions struct's RegionList (its own items, not those of a region's
    fields)."""
    listing = node.find(_q("mwg-rs", "RegionList"))
    if listing is None:
        return []
    return [li for container in listing for li in container if li.tag == _q("rdf", "li")]


def _region(node: ET.Element) -> XmpRegion | None:
    name = _text(_field(node, _q("mwg-rs", "Name")))
    area = _field(node, _q("mwg-rs", "Area"))
    if not name or not isinstance(area, ET.Element):
        return None
    a = _struct(area)
    unit = _text(_field(a, _q("stArea", "unit")))
    values = [_float(_field(a, _q("stArea", k))) for k in ("x", "y", "w", "h")]
    if unit not in (None, "normalized") or any(v is None for v in values):
        return None
    x, y, w, h = (float(v) for v in values if v is not None)
    if not (-_SLACK <= x <= 1 + _SLACK and -_SLACK <= y <= 1 + _SLACK
            and 0 < w <= 1 + _SLACK and 0 < h <= 1 + _SLACK):
        return None   # not a region of this image
    x, y, w, h = _clip(x), _clip(y), _clip(w), _clip(h)
    return XmpRegion(name=name, x=x, y=y, w=w, h=h,
                     type=_text(_field(node, _q("mwg-rs", "Type"))) or "Face")


# ---------------------------------------------------------------------------- writing

_EMPTY = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
          'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')


def _declared(packet: bytes) -> list[tuple[str, str]]:
    """The namespace prefixes a document declares, so ours is written with the same ones."""
    found: list[tuple[str, str]] = []
    try:
        for _event, (prefix, uri) in SafeET.iterparse(io.BytesIO(packet), events=("start-ns",)):
            found.append((prefix, uri))
    except Exception:
        pass
    return found


def _register(pairs: Iterable[tuple[str, str]]) -> None:
    for prefix, uri in pairs:
        if prefix in ("xml",) or not prefix or re.fullmatch(r"ns\d+", prefix):
            continue
        try:
            ET.register_namespace(prefix, uri)
        except ValueError:
            pass


@dataclass
class Merged:
    """A merged document: its bytes, what it reads back as, and what of it Glimpse wrote."""

    body: bytes
    expected: XmpData   # the properties as a reader will see them (the read-back check)
    written: XmpData    # Glimpse's own items in it: the next merge's ``previous``
    changed: bool = True   # False: the document says what it said (nothing to write)


def _fold(text: str) -> str:
    """A keyword or name as compared (case and spacing do not make another one)."""
    return " ".join(clean(text).split()).casefold()


def _same_region(a: XmpRegion, b: XmpRegion, tolerance: float = 5e-4) -> bool:
    return (_fold(a.name) == _fold(b.name) and a.type.casefold() == b.type.casefold()
            and abs(a.x - b.x) <= tolerance and abs(a.y - b.y) <= tolerance
            and abs(a.w - b.w) <= tolerance and abs(a.h - b.h) <= tolerance)


def _around_same_face(a: XmpRegion, b: XmpRegion) -> bool:
    """Two regions drawn around the same thing (as `apply_regions` matches a region to a
    face: IoU >= 0.3, or a centre inside the other)."""
    ax0, ay0, ax1, ay1 = a.x - a.w / 2, a.y - a.h / 2, a.x + a.w / 2, a.y + a.h / 2
    bx0, by0, bx1, by1 = b.x - b.w / 2, b.y - b.h / 2, b.x + b.w / 2, b.y + b.h / 2
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    union = a.w * a.h + b.w * b.h - inter
    if union > 0 and inter / union >= 0.3:
        return True
    return (ax0 <= b.x <= ax1 and ay0 <= b.y <= ay1) or (bx0 <= a.x <= bx1 and by0 <= a.y <= by1)


def merge(existing: bytes | str | None, data: XmpData, *, previous: XmpData | None = None,
          xpacket: bool = True) -> bytes:
    """`merge_report`'s document."""
    return merge_report(existing, data, previous=previous, xpacket=xpacket).body


def merge_report(existing: bytes | str | None, data: XmpData, *,
                 previous: XmpData | None = None, xpacket: bool = True) -> Merged:
    """``existing`` (another app's sidecar, a file's XMP, or None) with Glimpse's items put
    in. ``previous`` is what Glimpse wrote there the last time (None: nothing, as far as the
    library knows): those items are replaced by ``data``'s; everything else stays as it was:

    - keywords (dc:subject, lr:hierarchicalSubject): another app's stay, as spelt; ours follow
      (one the file already has, in any case, is not written twice);
    - regions: another app's stay, with their own fields, whatever their type; ours are added,
      except where that app has a region of the same name around the same thing (for faces:
      of any name, as their rename of ours is);
    - description: another app's stays (and so does its edit of ours: a text other than the
      one Glimpse wrote); ours only fills a place that is empty (or ours already), caption or
      not (the caption itself is always kept in glimpse:Caption*); other languages stay;
    - rating: ours when we have one, else another app's stays;
    - glimpse:Caption*: ours;
    - date taken and place (only when the person set them in Glimpse): ours, in every
      property we write, except where another app changed ours since (ours unchanged since
      the last write and the file saying another): then theirs stays; a cleared place
      removes every exif:GPS* property. Without ours, the file's stay.

    A property with nothing to change is left in its own form. Raises XmpError when
    ``existing`` cannot be read (it is never silently replaced)."""
    if isinstance(existing, str):
        existing = existing.encode("utf-8")
    if not existing or not existing.strip():
        existing = _EMPTY.encode()
    root = root_element(existing)
    if root.tag != _q("x", "xmpmeta"):   # a bare rdf:RDF: wrap it, as readers expect
        wrapper = ET.Element(_q("x", "xmpmeta"))
        wrapper.append(root)
        root = wrapper
    rdf = _rdf(root)
    start = existing.find(b"<x:xmpmeta")
    _register([(p, u) for p, u in NS.items() if p != "xml"])
    _register(_declared(existing[start:] if start >= 0 else existing))
    prev = previous or XmpData()
    old = _read(root)
    snapshot = ET.tostring(root)
    descriptions = _descriptions(root)
    target = descriptions[0] if descriptions else ET.SubElement(
        rdf, _q("rdf", "Description"), {_q("rdf", "about"): ""})
    written = XmpData()

    def drop(tag: str) -> None:
        for desc in descriptions:
            desc.attrib.pop(tag, None)
            for child in desc.findall(tag):
                desc.remove(child)

    # Keywords: another app's first, as they were; ours after them.
    for prefix, name, before, ours, mine in (
            ("dc", "subject", old.subjects, data.subjects, prev.subjects),
            ("lr", "hierarchicalSubject", old.hierarchical, data.hierarchical,
             prev.hierarchical)):
        # Ours as spelt: another app's "Beach" beside our "beach" is its own keyword.
        was_ours = {same_text(t) for t in mine}
        theirs = [t for t in before if same_text(t) not in was_ours]
        seen = {_fold(t) for t in theirs}
        if prefix == "lr":
            # Their "Places|Lisbon" already says our "Lisbon": not a second, flat one.
            seen |= {_fold(t.rsplit("|", 1)[-1]) for t in theirs}
        added: list[str] = []
        for tag in ours:
            folded = _fold(tag)
            if folded and folded not in seen:
                seen.add(folded)
                added.append(tag)
        if prefix == "dc":
            written.subjects = added
        else:
            written.hierarchical = added
        if theirs + added != before:
            drop(_q(prefix, name))
            if theirs or added:
                _bag(target, prefix, name, theirs + added)

    _merge_description(root, target, drop, data, prev, written)

    # Rating: ours when we have one; another app's stays; ours from before goes.
    if data.rating is not None:
        written.rating = int(data.rating)
        if old.rating != written.rating:
            drop(_q("xmp", "Rating"))
            _sub(target, "xmp", "Rating", str(written.rating))
    elif old.rating is not None and old.rating == prev.rating:
        drop(_q("xmp", "Rating"))

    # digiKam's pick label and the orientation: as the rating (ours, else theirs stays).
    small: tuple[tuple[str, str, int | None, int | None, int | None], ...] = (
        ("digiKam", "PickLabel", data.pick, old.pick, prev.pick),
        ("tiff", "Orientation", data.orientation, old.orientation, prev.orientation))
    for prefix, name, want, found, was in small:
        if want is not None:
            if found != want:
                drop(_q(prefix, name))
                _sub(target, prefix, name, str(want))
        elif found is not None and found == was:
            drop(_q(prefix, name))
    written.pick, written.orientation = data.pick, data.orientation

    _merge_regions(root, target, data, prev, written)

    if data.caption is not None or prev.caption is not None or old.caption is None:
        # Glimpse's own namespace: another Glimpse's caption (a lost library) stays until
        # this one has one of its own.
        for tag in OWNED:
            if tag.startswith("{" + NS["glimpse"]):
                drop(tag)
        if data.caption is not None:
            _sub(target, "glimpse", "CaptionSummary", data.caption.summary)
            for field_name, value in (("CaptionModel", data.caption.model),
                                      ("CaptionData", data.caption.data),
                                      ("CaptionSource", data.caption.source)):
                if value:
                    _sub(target, "glimpse", field_name, value)
        written.caption = data.caption

    _merge_date(root, target, drop, old, data, prev, written)
    _merge_place(root, target, drop, old, data, prev, written)

    for desc in descriptions[1:]:
        # A Description left empty by a removal says nothing: drop it.
        if not len(desc) and not (set(desc.attrib) - _RDF_ATTRS):
            rdf.remove(desc)
    expected = _read(root)
    changed = ET.tostring(root) != snapshot
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    if xpacket:
        body = f'<?xpacket begin="\ufeff" id="{_XPACKET_ID}"?>\n{body}\n<?xpacket end="w"?>'
    return Merged(body.encode("utf-8"), expected, written, changed)


def place_form(data: XmpData, *, file: bool = False) -> tuple[Any, ...] | None:
    """A place as compared for merging: ("cleared",), the rounded place, or None (not ours
    to set). ``file``: ``data`` is what a file says (no place there reads as cleared)."""
    if data.gps is not None:
        return same_place(data.gps)
    return ("cleared",) if data.clear_gps or file else None


def theirs_since(ours: Any, before: Any, now: Any) -> bool:
    """Another app changed a value of ours since our last write: ours (``ours``, compared
    form) is what we wrote then (``before``), and the file says another (``now``)."""
    return before is not None and ours == before and now != before


def _merge_date(root: ET.Element, target: ET.Element, drop: Any, old: XmpData,
                data: XmpData, prev: XmpData, written: XmpData) -> None:
    if data.taken_at is None:
        if prev.taken_at is not None and same_date(old.taken_at) == same_date(prev.taken_at):
            # The person took their date back (the file's own again): ours goes, unless
            # another app has written a date since.
            for tag in DATE_PROPERTIES:
                drop(tag)
        return
    written.taken_at = data.taken_at
    ours = same_date(data.taken_at)
    if theirs_since(ours, same_date(prev.taken_at), same_date(old.taken_at)):
        return
    if all(same_date(_text(_property(root, tag))) == ours for tag in DATE_PROPERTIES):
        return   # already says it
    for tag in DATE_PROPERTIES:
        drop(tag)
        prefix = next(p for p, uri in NS.items() if tag.startswith("{" + uri + "}"))
        _sub(target, prefix, tag.split("}")[1], data.taken_at)


def _merge_place(root: ET.Element, target: ET.Element, drop: Any, old: XmpData,
                 data: XmpData, prev: XmpData, written: XmpData) -> None:
    if data.gps is None and not data.clear_gps:
        if prev.gps is not None and place_form(old, file=True) == place_form(prev):
            _drop_gps(root)   # the person took their place back: ours goes (as the date)
        return
    written.gps, written.clear_gps = data.gps, data.clear_gps
    ours = place_form(data)
    if theirs_since(ours, place_form(prev), place_form(old, file=True)) or \
            place_form(old, file=True) == ours:
        return   # another app's place since our write stays; or it already says ours
    _drop_gps(root)
    if data.gps is None:
        return
    lat, lon, alt = data.gps
    _sub(target, "exif", "GPSLatitude", xmp_coordinate(lat, "N", "S"))
    _sub(target, "exif", "GPSLongitude", xmp_coordinate(lon, "E", "W"))
    if alt is not None:
        _sub(target, "exif", "GPSAltitude", f"{round(abs(alt) * 100)}/100")
        _sub(target, "exif", "GPSAltitudeRef", "1" if alt < 0 else "0")


def _drop_gps(root: ET.Element) -> None:
    for desc in _descriptions(root):
        for tag in [t for t in desc.attrib if t.startswith("{" + NS["exif"] + "}GPS")]:
            desc.attrib.pop(tag)
        for child in [c for c in desc if c.tag.startswith("{" + NS["exif"] + "}GPS")]:
            desc.remove(child)


def _merge_description(root: ET.Element, target: ET.Element, drop: Any, data: XmpData,
                       prev: XmpData, written: XmpData) -> None:
    prop = _property(root, _q("dc", "description"))
    default: str | None = None
    others: list[ET.Element] = []   # the other languages: never ours to change
    if isinstance(prop, str):
        default = prop.strip() or None
    elif prop is not None:
        alt = prop.find(_q("rdf", "Alt"))
        if alt is None:
            default = _text(prop)
        else:
            for li in alt:
                if li.tag != _q("rdf", "li"):
                    continue
                if li.get(_q("xml", "lang")) == "x-default":
                    if default is None:
                        default = (li.text or "").strip() or None
                else:
                    others.append(li)
    shown = default or next(((li.text or "").strip() for li in others
                             if (li.text or "").strip()), None)
    theirs = shown is not None and (prev.description is None
                                    or same_text(shown) != same_text(prev.description))
    if theirs:
        # Another app's description, or its edit of ours: never replaced (a caption of ours
        # stays in glimpse:Caption*, and is read back from there).
        return
    new = clean(data.description) if data.description else None
    written.description = new
    if new is not None and default is not None and clean(new).strip() == default:
        return   # already says it
    if new is None and default is None:
        return
    drop(_q("dc", "description"))
    if new or others:
        alt = _sub(_sub(target, "dc", "description"), "rdf", "Alt")
        if new:
            _sub(alt, "rdf", "li", new, {_q("xml", "lang"): "x-default"})
        for li in others:
            alt.append(li)


def _merge_regions(root: ET.Element, target: ET.Element, data: XmpData, prev: XmpData,
                   written: XmpData) -> None:
    prop = _property(root, _q("mwg-rs", "Regions"))
    if not isinstance(prop, ET.Element):
        if data.regions:
            written.regions = list(data.regions)
            regions = _sub(target, "mwg-rs", "Regions",
                           attrib={_q("rdf", "parseType"): "Resource"})
            if data.applied_to is not None:
                _dimensions(regions, data.applied_to)
            bag = _sub(_sub(regions, "mwg-rs", "RegionList"), "rdf", "Bag")
            for ours in data.regions:
                _region_item(bag, ours)
        return
    node = _struct(prop)
    listing = node.find(_q("mwg-rs", "RegionList"))
    placed: list[XmpRegion] = []      # ours, already there as meant
    gone: list[ET.Element] = []       # ours from before, no more
    theirs: list[XmpRegion] = []
    for li in _region_items(node):
        region = _region(_struct(li))
        if region is not None and any(_same_region(region, p) for p in prev.regions):
            same = next((r for r in data.regions if _same_region(region, r)
                         and r not in placed), None)
            if same is not None:
                placed.append(same)
            else:
                gone.append(li)
        elif region is not None:
            theirs.append(region)
    # Not ours where another app has a region around the same thing: of the same name, or,
    # for a face, of any name (their name for that face, or their rename of ours: theirs
    # stays, one region per face; reading it back names the face where the library lets it).
    added = [r for r in data.regions if r not in placed and not any(
        r.type.casefold() == t.type.casefold() and _around_same_face(r, t) and (
            _fold(r.name) == _fold(t.name) or r.type.casefold() == "face")
        for t in theirs)]
    written.regions = [r for r in data.regions if r in placed or r in added]
    if not gone and not added:
        return
    if listing is None:
        listing = _sub(node, "mwg-rs", "RegionList")
    containers = [c for c in listing if c.tag in (_q("rdf", "Bag"), _q("rdf", "Seq"))]
    for container in containers:
        for li in list(container):
            if li in gone:
                container.remove(li)
    if added:
        if not containers:
            containers = [_sub(listing, "rdf", "Bag")]
        if node.find(_q("mwg-rs", "AppliedToDimensions")) is None and \
                data.applied_to is not None:
            _dimensions(node, data.applied_to)
        for ours in added:
            _region_item(containers[0], ours)
    if _region_items(node):
        return
    # No region is left: the list goes, and the whole property when it held nothing else.
    node.remove(listing)
    rest = [c for c in node if c.tag != _q("mwg-rs", "AppliedToDimensions")]
    if not rest and not (set(node.attrib) - _RDF_ATTRS) and (node is prop or not (
            set(prop.attrib) - _RDF_ATTRS)):
        for desc in _descriptions(root):
            if prop in list(desc):
                desc.remove(prop)


def _dimensions(parent: ET.Element, size: tuple[int, int]) -> None:
    w, h = size
    _sub(parent, "mwg-rs", "AppliedToDimensions", attrib={
        _q("stDim", "w"): str(int(w)), _q("stDim", "h"): str(int(h)),
        _q("stDim", "unit"): "pixel"})


def _region_item(bag: ET.Element, r: XmpRegion) -> None:
    li = _sub(bag, "rdf", "li", attrib={_q("rdf", "parseType"): "Resource"})
    _sub(li, "mwg-rs", "Name", r.name)
    _sub(li, "mwg-rs", "Type", r.type)
    _sub(li, "mwg-rs", "Area", attrib={
        _q("stArea", "x"): _num(r.x), _q("stArea", "y"): _num(r.y),
        _q("stArea", "w"): _num(r.w), _q("stArea", "h"): _num(r.h),
        _q("stArea", "unit"): "normalized"})


def _sub(parent: ET.Element, prefix: str, name: str, text: str | None = None,
         attrib: dict[str, str] | None = None) -> ET.Element:
    el = ET.SubElement(parent, _q(prefix, name),
                       {k: clean(v) for k, v in (attrib or {}).items()})
    if text is not None:
        el.text = clean(text)
    return el


def _bag(parent: ET.Element, prefix: str, name: str, values: list[str]) -> None:
    bag = _sub(_sub(parent, prefix, name), "rdf", "Bag")
    for value in values:
        _sub(bag, "rdf", "li", value)


def _num(v: float) -> str:
    return f"{v:.6f}".rstrip("0").rstrip(".") or "0"


def caption_data(data: Any) -> str | None:
    """Structured caption fields as the compact JSON text kept in glimpse:CaptionData."""
    if data is None or data == "":
        return None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return str(data)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
