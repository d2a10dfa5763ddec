"""A factory of real test images: every function writes an actual file that real decoders read.

Nothing here is a mock. JPEGs carry EXIF laid out the way cameras lay it out (ExifIFD and GPS IFD
as sub-IFDs, UserComment with its 8-byte charset header, XP* tags as UTF-16LE bytes), XMP and IPTC
sit in their own APP segments, and the RAW writers build TIFF containers byte by byte with an
embedded JPEG preview where each maker puts it. Pixel content comes from ``photo_like`` so that
decode and hash timings resemble those of real photographs rather than of flat colour fields.

Conventions: options are keyword-only, every writer returns the ``Path`` it wrote, and a metadata
option left at ``None`` writes no tag at all (so "absent" is always testable).
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageChops, ImageDraw
from PIL.PngImagePlugin import PngInfo

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "FRAME_MARKER_COLOURS",
    "ExifFields",
    "a1111_parameters",
    "comfyui_prompt_json",
    "comfyui_workflow_json",
    "exif_block",
    "photo_like",
    "write_arw",
    "write_bmp",
    "write_corrupt_jpeg",
    "write_cr2",
    "write_dng",
    "write_gif",
    "write_heic",
    "write_jpeg",
    "write_nef",
    "write_not_an_image",
    "write_png",
    "write_png_bomb",
    "write_quartered_png",
    "write_raw_without_preview",
    "write_tiff",
    "write_tiff16",
    "write_truncated_jpeg",
    "write_webp",
    "write_zero_byte",
    "xmp_packet",
]

Size = tuple[int, int]
GPS = tuple[float, float] | tuple[float, float, float]


# --------------------------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------------------------


def photo_like(width: int, height: int, seed: int = 0) -> Image.Image:
    """An RGB image with the statistics of a photograph: smooth gradients, shapes, sensor noise.

    The noise matters: flat synthetic images compress to almost nothing, and then JPEG entropy
    decoding (the dominant cost of ingesting real photos) would be unrealistically cheap.
    """
    rng = np.random.default_rng(seed)
    # The smooth part is computed at 1/8 scale and upsampled by Pillow: per-pixel float maths at
    # 12 MP would cost a second, and a bilinear gradient looks the same either way.
    sw, sh = max(2, width // 8), max(2, height // 8)
    ys = np.linspace(0.0, 1.0, sh, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, sw, dtype=np.float32)[None, :]
    corners = rng.uniform(20, 235, size=(3, 3)).astype(np.float32)
    fx, fy = rng.uniform(0.5, 4.0, size=2)
    px, py = rng.uniform(0, 2 * math.pi, size=2)
    wave = np.sin(xs * (fx * 2 * math.pi) + px) * np.cos(ys * (fy * 2 * math.pi) + py) * 30.0
    tint = rng.uniform(0.4, 1.0, size=3).astype(np.float32)
    small = np.empty((sh, sw, 3), dtype=np.float32)
    for ch in range(3):
        c0, c1, c2 = corners[:, ch]
        small[..., ch] = c0 + (c1 - c0) * xs + (c2 - c0) * ys + wave * tint[ch]
    np.clip(small, 0, 255, out=small)
    img = Image.fromarray(small.astype(np.uint8)).resize((width, height), Image.Resampling.BILINEAR)

    # Shapes give hard edges, which is where JPEG spends its bits on real scenes.
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(4, 9))):
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        cx, cy = rng.uniform(0, 1, size=2)
        rx, ry = rng.uniform(0.05, 0.25, size=2)
        box = ((cx - rx) * width, (cy - ry) * height, (cx + rx) * width, (cy + ry) * height)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)

    # Texture (random detail a few pixels across, like foliage or fabric) and sensor noise are
    # what make real photos cost ~0.3 bytes/pixel at quality 90 and take their time to decode;
    # without them this image would compress to half that. Both are added in C by ImageChops.
    tw, th = max(1, width // 3), max(1, height // 3)
    texture = Image.frombytes("RGB", (tw, th), rng.bytes(tw * th * 3))
    texture = texture.resize((width, height), Image.Resampling.BILINEAR)
    img = ImageChops.add(img, texture.point([v * 40 // 255 for v in range(256)] * 3), 1.0, -20)
    noise = Image.frombytes("RGB", (width, height), rng.bytes(width * height * 3))
    return ImageChops.add(img, noise.point([v % 25 for v in range(256)] * 3), 1.0, -12)


# --------------------------------------------------------------------------------------------
# TIFF structures, shared by the EXIF blocks and the RAW containers
# --------------------------------------------------------------------------------------------

_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED, _SRATIONAL = 1, 2, 3, 4, 5, 7, 10
_TYPE_SIZE = {_BYTE: 1, _ASCII: 1, _SHORT: 2, _LONG: 4, _RATIONAL: 8, _UNDEFINED: 1,
              _SRATIONAL: 8}


class _Blob:
    """Bytes placed after all IFDs; LONG entries refer to it and get its offset at layout time."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0


class _Ifd:
    """One image file directory; values may reference other IFDs or blobs by object."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[int, object]] = {}
        self.next: _Ifd | None = None
        self.offset = 0

    def byte(self, tag: int, data: bytes) -> None:
        self.entries[tag] = (_BYTE, data)

    def undefined(self, tag: int, data: bytes) -> None:
        self.entries[tag] = (_UNDEFINED, data)

    def ascii(self, tag: int, text: str) -> None:
        # Cameras and Windows write UTF-8 into "ASCII" fields; readers cope, so we do the same.
        self.entries[tag] = (_ASCII, text.encode("utf-8") + b"\0")

    def short(self, tag: int, *values: int) -> None:
        self.entries[tag] = (_SHORT, list(values))

    def long(self, tag: int, *values: int | _Blob | _Ifd) -> None:
        self.entries[tag] = (_LONG, list(values))

    def rational(self, tag: int, *values: Fraction | tuple[int, int]) -> None:
        self.entries[tag] = (_RATIONAL, [_pair(v) for v in values])

    def srational(self, tag: int, *values: Fraction | tuple[int, int]) -> None:
        self.entries[tag] = (_SRATIONAL, [_pair(v) for v in values])

    def strip(self, data: bytes) -> _Blob:
        """Point StripOffsets/StripByteCounts at ``data`` as a single strip."""
        blob = _Blob(data)
        self.long(0x0111, blob)
        self.long(0x0117, len(data))
        return blob

    def jpeg_interchange(self, jpeg: bytes) -> None:
        self.long(0x0201, _Blob(jpeg))
        self.long(0x0202, len(jpeg))

    def _payload(self, typ: int, values: object, order: str) -> tuple[int, bytes]:
        if typ in (_BYTE, _ASCII, _UNDEFINED):
            assert isinstance(values, bytes)
            return len(values), values
        assert isinstance(values, list)
        if typ == _SHORT:
            return len(values), struct.pack(f"{order}{len(values)}H", *values)
        if typ == _LONG:
            ints = [v.offset if isinstance(v, _Blob | _Ifd) else v for v in values]
            return len(ints), struct.pack(f"{order}{len(ints)}L", *ints)
        code = "l" if typ == _SRATIONAL else "L"
        flat = [n for pair in values for n in pair]
        return len(values), struct.pack(f"{order}{len(flat)}{code}", *flat)

    def size(self) -> int:
        # Payload sizes never depend on offsets, so layout can be computed before serialising.
        extra = 0
        for typ, values in self.entries.values():
            count = len(values) if isinstance(values, bytes | list) else 0
            n = count * _TYPE_SIZE[typ]
            if n > 4:
                extra += n + (n & 1)
        return 2 + 12 * len(self.entries) + 4 + extra

    def serialise(self, order: str) -> bytes:
        head = struct.pack(f"{order}H", len(self.entries))
        body = b""
        extra = b""
        extra_at = self.offset + 2 + 12 * len(self.entries) + 4
        for tag in sorted(self.entries):
            typ, values = self.entries[tag]
            count, payload = self._payload(typ, values, order)
            if len(payload) <= 4:
                body += struct.pack(f"{order}HHL", tag, typ, count) + payload.ljust(4, b"\0")
            else:
                body += struct.pack(f"{order}HHLL", tag, typ, count, extra_at + len(extra))
                extra += payload + b"\0" * (len(payload) & 1)
        nxt = self.next.offset if self.next is not None else 0
        return head + body + struct.pack(f"{order}L", nxt) + extra

    def children(self) -> Iterator[_Ifd | _Blob]:
        for typ, values in self.entries.values():
            if typ == _LONG and isinstance(values, list):
                yield from (v for v in values if isinstance(v, _Ifd | _Blob))
        if self.next is not None:
            yield self.next


def _pair(value: Fraction | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, Fraction):
        return value.numerator, value.denominator
    return value


def _build_tiff(ifd0: _Ifd, *, big_endian: bool = False, cr2_raw_ifd: _Ifd | None = None) -> bytes:
    """Serialise a TIFF: header, then every reachable IFD, then every blob (as cameras do)."""
    order = ">" if big_endian else "<"
    ifds: list[_Ifd] = []
    blobs: list[_Blob] = []
    stack: list[_Ifd | _Blob] = [ifd0]
    seen: set[int] = set()
    while stack:
        node = stack.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, _Blob):
            blobs.append(node)
        else:
            ifds.append(node)
            stack.extend(node.children())

    pos = 16 if cr2_raw_ifd is not None else 8
    for ifd in ifds:
        ifd.offset = pos
        pos += ifd.size()
        pos += pos & 1
    for blob in blobs:
        blob.offset = pos
        pos += len(blob.data)
        pos += pos & 1

    if big_endian:
        out = bytearray(b"MM\0*" + struct.pack(">L", ifd0.offset))
    else:
        out = bytearray(b"II*\0" + struct.pack("<L", ifd0.offset))
    if cr2_raw_ifd is not None:
        # Canon's CR2 header extension: "CR", major 2, minor 0, then the offset of the raw IFD.
        out += b"CR\x02\x00" + struct.pack(f"{order}L", cr2_raw_ifd.offset)
    for ifd in ifds:
        assert len(out) == ifd.offset
        out += ifd.serialise(order)
        out += b"\0" * (len(out) & 1)
    for blob in blobs:
        assert len(out) == blob.offset
        out += blob.data
        out += b"\0" * (len(out) & 1)
    return bytes(out)


# --------------------------------------------------------------------------------------------
# EXIF
# --------------------------------------------------------------------------------------------


class ExifFields(TypedDict, total=False):
    """The EXIF options every writer accepts; ``None`` (or absence) writes no tag."""

    datetime_original: str | None  # "YYYY:MM:DD HH:MM:SS"
    offset_time_original: str | None  # "+02:00"
    subsec_time_original: str | None
    datetime_digitized: str | None
    datetime: str | None  # IFD0 DateTime (file modification time by the EXIF spec)
    gps: GPS | None  # signed decimal degrees (lat, lon[, altitude metres, negative = below sea])
    make: str | None
    model: str | None
    lens_model: str | None
    orientation: int | None  # 1-8
    exposure_time: float | None  # seconds
    f_number: float | None
    iso: int | None
    focal_length: float | None  # millimetres
    image_description: str | None
    user_comment: str | None
    xp_comment: str | None
    xp_keywords: list[str] | None


def _rational(value: float, max_den: int = 1_000_000) -> Fraction:
    return Fraction(value).limit_denominator(max_den)


def _dms(value: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    # Work in whole 1/10000 s of arc so seconds can never round up to 60.
    total = round(abs(value) * 3600 * 10_000)
    deg, rem = divmod(total, 3600 * 10_000)
    minutes, sec = divmod(rem, 60 * 10_000)
    return (deg, 1), (minutes, 1), (sec, 10_000)


def _user_comment(text: str, big_endian: bool) -> bytes:
    # The 8-byte character-code header is what cameras write; UNICODE follows the TIFF byte order.
    try:
        return b"ASCII\0\0\0" + text.encode("ascii")
    except UnicodeEncodeError:
        return b"UNICODE\0" + text.encode("utf-16-be" if big_endian else "utf-16-le")


def _xp(text: str) -> bytes:
    # Windows Explorer writes UTF-16LE with a terminating NUL, whatever the TIFF byte order.
    return text.encode("utf-16-le") + b"\0\0"


_IFD0_TEXT = {0x010E: "image_description", 0x010F: "make", 0x0110: "model", 0x0132: "datetime"}
_EXIF_TEXT = {0x9003: "datetime_original", 0x9004: "datetime_digitized",
              0x9011: "offset_time_original", 0x9291: "subsec_time_original",
              0xA434: "lens_model"}


def _add_exif(ifd0: _Ifd, fields: ExifFields, *, big_endian: bool = False,
              exif_extra: dict[int, int] | None = None) -> None:
    """Put each field where cameras put it: IFD0, the ExifIFD (0x8769) or the GPS IFD (0x8825)."""
    text: dict[str, object] = dict(fields)
    for tag, key in _IFD0_TEXT.items():
        if isinstance(value := text.get(key), str):
            ifd0.ascii(tag, value)
    if (orientation := fields.get("orientation")) is not None:
        ifd0.short(0x0112, orientation)
    if (xp_comment := fields.get("xp_comment")) is not None:
        ifd0.byte(0x9C9C, _xp(xp_comment))
    if (xp_keywords := fields.get("xp_keywords")) is not None:
        ifd0.byte(0x9C9E, _xp(";".join(xp_keywords)))

    sub = _Ifd()
    if (exposure := fields.get("exposure_time")) is not None:
        sub.rational(0x829A, _rational(exposure))
    if (f_number := fields.get("f_number")) is not None:
        sub.rational(0x829D, _rational(f_number, 100))
    if (iso := fields.get("iso")) is not None:
        sub.short(0x8827, iso)
    for tag, key in _EXIF_TEXT.items():
        if isinstance(value := text.get(key), str):
            sub.ascii(tag, value)
    if (focal := fields.get("focal_length")) is not None:
        sub.rational(0x920A, _rational(focal, 1000))
    if (comment := fields.get("user_comment")) is not None:
        sub.undefined(0x9286, _user_comment(comment, big_endian))
    for tag, number in (exif_extra or {}).items():
        sub.long(tag, number)
    if sub.entries:
        sub.undefined(0x9000, b"0232")  # ExifVersion, present in every camera file
        ifd0.long(0x8769, sub)

    if (gps := fields.get("gps")) is not None:
        g = _Ifd()
        g.byte(0x0000, bytes([2, 3, 0, 0]))  # GPSVersionID
        lat, lon = gps[0], gps[1]
        g.ascii(0x0001, "N" if lat >= 0 else "S")
        g.rational(0x0002, *_dms(lat))
        g.ascii(0x0003, "E" if lon >= 0 else "W")
        g.rational(0x0004, *_dms(lon))
        if len(gps) == 3:
            alt = gps[2]
            g.byte(0x0005, bytes([0 if alt >= 0 else 1]))  # 1 = below sea level
            g.rational(0x0006, (round(abs(alt) * 1000), 1000))
        ifd0.long(0x8825, g)


def exif_block(**fields: Unpack[ExifFields]) -> bytes:
    """An APP1-ready EXIF payload (``b"Exif\\0\\0"`` + little-endian TIFF), or b"" when empty.

    Built by hand rather than with ``PIL.Image.Exif`` because Pillow infers sub-IFD tag types from
    Python values, which would store UserComment as BYTE instead of UNDEFINED.
    """
    ifd0 = _Ifd()
    _add_exif(ifd0, fields)
    if not ifd0.entries:
        return b""
    return b"Exif\0\0" + _build_tiff(ifd0)


# --------------------------------------------------------------------------------------------
# XMP and IPTC
# --------------------------------------------------------------------------------------------


def xmp_packet(description: str | None = None, subjects: Sequence[str] = (),
               create_date: str | None = None) -> str:
    """A complete XMP packet as Adobe software writes it (``create_date`` in ISO 8601)."""
    props: list[str] = []
    if description is not None:
        props.append(
            "   <dc:description>\n    <rdf:Alt>\n"
            f'     <rdf:li xml:lang="x-default">{escape(description)}</rdf:li>\n'
            "    </rdf:Alt>\n   </dc:description>"
        )
    if subjects:
        items = "\n".join(f"     <rdf:li>{escape(s)}</rdf:li>" for s in subjects)
        props.append(f"   <dc:subject>\n    <rdf:Bag>\n{items}\n    </rdf:Bag>\n   </dc:subject>")
    if create_date is not None:
        props.append(f"   <xmp:CreateDate>{escape(create_date)}</xmp:CreateDate>")
        props.append(f"   <photoshop:DateCreated>{escape(create_date)}</photoshop:DateCreated>")
    body = "\n".join(props)
    # Real packets carry whitespace padding so editors can grow them in place.
    padding = ("\n" + " " * 99) * 20
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 6.0-c006">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">\n'
        f"{body}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>"
        f"{padding}\n"
        '<?xpacket end="w"?>'
    )


def _iptc_app13(keywords: Sequence[str]) -> bytes:
    """Photoshop 3.0 APP13 payload with one 8BIM 0x0404 IPTC-NAA resource."""

    def dataset(record: int, number: int, value: bytes) -> bytes:
        return struct.pack(">BBBH", 0x1C, record, number, len(value)) + value

    iptc = dataset(1, 90, b"\x1b%G")  # CodedCharacterSet = UTF-8, so non-ASCII keywords survive
    iptc += dataset(2, 0, b"\x00\x04")  # ApplicationRecordVersion 4
    for word in keywords:
        iptc += dataset(2, 25, word.encode("utf-8"))
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0"  # empty Pascal name, padded
    resource += struct.pack(">L", len(iptc)) + iptc + b"\0" * (len(iptc) & 1)
    return b"Photoshop 3.0\0" + resource


def _insert_app_segments(jpeg: bytes, segments: Sequence[tuple[int, bytes]]) -> bytes:
    """Insert (marker, payload) segments after the existing APPn segments, before DQT."""
    pos = 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF and 0xE0 <= jpeg[pos + 1] <= 0xEF:
        pos += 2 + struct.unpack(">H", jpeg[pos + 2 : pos + 4])[0]
    extra = b""
    for marker, payload in segments:
        if len(payload) + 2 > 0xFFFF:
            raise ValueError(f"APP segment of {len(payload)} bytes does not fit in one marker")
        extra += bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:pos] + extra + jpeg[pos:]


# --------------------------------------------------------------------------------------------
# Ordinary formats
# --------------------------------------------------------------------------------------------


def _jpeg_bytes(img: Image.Image, quality: int = 90, exif: bytes = b"") -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif)
    return buf.getvalue()


def _finish(path: Path, data: bytes | None = None, mtime: float | None = None) -> Path:
    if data is not None:
        path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def write_jpeg(
    path: str | os.PathLike[str],
    size: Size = (640, 480),
    *,
    seed: int = 0,
    quality: int = 90,
    xmp: str | None = None,
    iptc_keywords: Sequence[str] | None = None,
    mtime: float | None = None,
    **exif: Unpack[ExifFields],
) -> Path:
    """A camera-like JPEG: APP1 EXIF, then APP1 XMP and APP13 IPTC when asked for."""
    data = _jpeg_bytes(photo_like(*size, seed=seed), quality, exif_block(**exif))
    segments: list[tuple[int, bytes]] = []
    if xmp is not None:
        segments.append((0xE1, b"http://ns.adobe.com/xap/1.0/\0" + xmp.encode("utf-8")))
    if iptc_keywords is not None:
        segments.append((0xED, _iptc_app13(iptc_keywords)))
    if segments:
        data = _insert_app_segments(data, segments)
    return _finish(Path(path), data, mtime)


def a1111_parameters(prompt: str, negative: str | None = "blurry, lowres") -> str:
    """The ``parameters`` text chunk AUTOMATIC1111's web UI writes into its PNGs."""
    lines = [prompt]
    if negative is not None:
        lines.append(f"Negative prompt: {negative}")
    lines.append(
        "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234567890, Size: 512x512, "
        "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.7.0"
    )
    return "\n".join(lines)


def comfyui_prompt_json(prompt: str, negative: str = "blurry, lowres") -> str:
    """The ``prompt`` chunk ComfyUI writes: the executed API graph, keyed by node id."""
    graph = {
        "3": {"class_type": "KSampler", "inputs": {
            "seed": 156680208700286, "steps": 20, "cfg": 8, "sampler_name": "euler",
            "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0],
            "negative": ["7", 0], "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple",
              "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
        "5": {"class_type": "EmptyLatentImage",
              "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": prompt, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": negative, "clip": ["4", 1]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage",
              "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }
    return json.dumps(graph)


def comfyui_workflow_json(prompt: str, negative: str = "blurry, lowres") -> str:
    """The ``workflow`` chunk ComfyUI writes: the editor's node list with widget values."""

    Links = list[dict[str, object]]

    def node(node_id: int, typ: str, order: int, widgets: list[object],
             inputs: Links, outputs: Links) -> dict[str, object]:
        return {"id": node_id, "type": typ, "pos": [100 + 300 * order, 200],
                "size": {"0": 400, "1": 200}, "flags": {}, "order": order, "mode": 0,
                "inputs": inputs, "outputs": outputs,
                "properties": {"Node name for S&R": typ}, "widgets_values": widgets}

    clip_in = [{"name": "clip", "type": "CLIP", "link": 3}]
    cond_out = [{"name": "CONDITIONING", "type": "CONDITIONING", "links": [4], "slot_index": 0}]
    workflow = {
        "last_node_id": 9, "last_link_id": 9,
        "nodes": [
            node(4, "CheckpointLoaderSimple", 0, ["v1-5-pruned-emaonly.safetensors"], [],
                 [{"name": "MODEL", "type": "MODEL", "links": [1], "slot_index": 0}]),
            node(5, "EmptyLatentImage", 1, [512, 512, 1], [],
                 [{"name": "LATENT", "type": "LATENT", "links": [2], "slot_index": 0}]),
            node(6, "CLIPTextEncode", 2, [prompt], clip_in, cond_out),
            node(7, "CLIPTextEncode", 3, [negative], clip_in,
                 [{"name": "CONDITIONING", "type": "CONDITIONING", "links": [6],
                   "slot_index": 0}]),
            node(3, "KSampler", 4, [156680208700286, "randomize", 20, 8, "euler", "normal", 1],
                 [{"name": "model", "type": "MODEL", "link": 1},
                  {"name": "positive", "type": "CONDITIONING", "link": 4},
                  {"name": "negative", "type": "CONDITIONING", "link": 6},
                  {"name": "latent_image", "type": "LATENT", "link": 2}],
                 [{"name": "LATENT", "type": "LATENT", "links": [7], "slot_index": 0}]),
            node(9, "SaveImage", 5, ["ComfyUI"],
                 [{"name": "images", "type": "IMAGE", "link": 9}], []),
        ],
        "links": [[1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [3, 4, 1, 6, 0, "CLIP"],
                  [4, 6, 0, 3, 1, "CONDITIONING"], [6, 7, 0, 3, 2, "CONDITIONING"]],
        "groups": [], "config": {}, "extra": {}, "version": 0.4,
    }
    return json.dumps(workflow)


def write_png(
    path: str | os.PathLike[str],
    size: Size = (512, 512),
    *,
    seed: int = 0,
    text: dict[str, str] | None = None,
    mtime: float | None = None,
) -> Path:
    """A PNG with text chunks (tEXt, or iTXt when a value is not Latin-1), e.g. AI prompts."""
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)  # Pillow switches to iTXt by itself for non-Latin-1 text
    path = Path(path)
    photo_like(*size, seed=seed).save(path, "PNG", pnginfo=info)
    return _finish(path, mtime=mtime)


def write_heic(
    path: str | os.PathLike[str],
    size: Size = (640, 480),
    *,
    seed: int = 0,
    quality: int = 80,
    mtime: float | None = None,
    **exif: Unpack[ExifFields],
) -> Path:
    """An HEIC as phones write it. A non-1 ``orientation`` is stored by pillow-heif as irot/imir
    transforms (and the EXIF copy reset to 1), so readers get upright pixels."""
    import pillow_heif  # imported here so the rest of this module works without it

    heif = pillow_heif.from_pillow(photo_like(*size, seed=seed))
    path = Path(path)
    block = exif_block(**exif)
    if block:
        heif.save(path, quality=quality, exif=block)
    else:
        heif.save(path, quality=quality)
    return _finish(path, mtime=mtime)


def _pil_exif(fields: ExifFields) -> Image.Exif | None:
    block = exif_block(**fields)
    if not block:
        return None
    exif = Image.Exif()
    exif.load(block)
    return exif


def write_tiff(
    path: str | os.PathLike[str],
    size: Size = (640, 480),
    *,
    seed: int = 0,
    compression: str | None = None,
    mtime: float | None = None,
    **exif: Unpack[ExifFields],
) -> Path:
    """An ordinary RGB TIFF (not a RAW); EXIF fields land in IFD0 and its Exif/GPS sub-IFDs.

    EXIF needs ``compression=None``: compressed TIFFs go through libtiff, and Pillow cannot hand
    libtiff the Exif/GPS sub-IFDs ("Bad LONG8 or IFD8 value for EXIFIFDOffset").
    """
    path = Path(path)
    kwargs: dict[str, object] = {}
    pil_exif = _pil_exif(exif)
    if pil_exif is not None:
        if compression is not None:
            raise ValueError("write_tiff: EXIF can only be written to uncompressed TIFFs")
        kwargs["exif"] = pil_exif
    if compression is not None:
        kwargs["compression"] = compression
    photo_like(*size, seed=seed).save(path, "TIFF", **kwargs)
    return _finish(path, mtime=mtime)


def write_webp(
    path: str | os.PathLike[str],
    size: Size = (640, 480),
    *,
    seed: int = 0,
    quality: int = 80,
    lossless: bool = False,
    mtime: float | None = None,
    **exif: Unpack[ExifFields],
) -> Path:
    path = Path(path)
    photo_like(*size, seed=seed).save(path, "WEBP", quality=quality, lossless=lossless,
                                      exif=exif_block(**exif))
    return _finish(path, mtime=mtime)


def write_bmp(path: str | os.PathLike[str], size: Size = (640, 480), *, seed: int = 0,
              mtime: float | None = None) -> Path:
    path = Path(path)
    photo_like(*size, seed=seed).save(path, "BMP")
    return _finish(path, mtime=mtime)


# A solid square in the centre of frame i has colour FRAME_MARKER_COLOURS[i % 4], so a test can
# tell which frame a decoder produced (thumbnails should come from frame 0, red).
FRAME_MARKER_COLOURS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0),
)


def write_gif(path: str | os.PathLike[str], size: Size = (320, 240), *, seed: int = 0,
              frames: int = 3, mtime: float | None = None) -> Path:
    """An animated, looping GIF; frame i is photo_like(seed + i) with a marker square."""
    w, h = size
    side = max(2, min(w, h) // 3)
    box = ((w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2)
    images = []
    for i in range(frames):
        img = photo_like(w, h, seed=seed + i)
        img.paste(FRAME_MARKER_COLOURS[i % len(FRAME_MARKER_COLOURS)], box)
        images.append(img)
    path = Path(path)
    images[0].save(path, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return _finish(path, mtime=mtime)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def write_truncated_jpeg(path: str | os.PathLike[str], size: Size = (640, 480), *,
                         seed: int = 0, keep: float = 0.6, **exif: Unpack[ExifFields]) -> Path:
    """A valid JPEG (headers and EXIF intact) cut after ``keep`` of its bytes, as an
    interrupted copy leaves it."""
    data = _jpeg_bytes(photo_like(*size, seed=seed), 90, exif_block(**exif))
    return _finish(Path(path), data[: int(len(data) * keep)])


def write_zero_byte(path: str | os.PathLike[str]) -> Path:
    return _finish(Path(path), b"")


def write_not_an_image(path: str | os.PathLike[str]) -> Path:
    """Text content, typically under an image name such as ``notes.jpg``."""
    return _finish(Path(path), b"Shopping list\n- milk\n- eggs\nThis is not a JPEG.\n" * 4)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">L", len(data)) + kind + data
            + struct.pack(">L", zlib.crc32(kind + data) & 0xFFFFFFFF))


def write_png_bomb(path: str | os.PathLike[str], pixels: int = 30000 * 30000) -> Path:
    """A complete, valid PNG that declares ``pixels`` pixels yet is only ~100 KB on disk.

    1-bit greyscale keeps the zero stream 8x shorter than 8-bit; decoders that trust the header
    would still allocate the full image.
    """
    return _finish(Path(path), _png_bomb_bytes(pixels))


@functools.lru_cache(maxsize=4)
def _png_bomb_bytes(pixels: int) -> bytes:
    # Cached: deflating ~110 MB of zeros takes a third of a second, and many tests want a bomb.
    width = max(1, math.isqrt(pixels))
    height = max(1, -(-pixels // width))
    row = bytes(1 + (width + 7) // 8)  # filter byte 0 + packed bits
    rows_per_call = max(1, (1 << 20) // len(row))
    batch = row * rows_per_call
    comp = zlib.compressobj(9)
    parts: list[bytes] = []
    left = height
    while left > 0:
        n = min(left, rows_per_call)
        parts.append(comp.compress(batch if n == rows_per_call else row * n))
        left -= n
    parts.append(comp.flush())
    idat = b"".join(parts)
    ihdr = struct.pack(">LLBBBBB", width, height, 1, 0, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
    for start in range(0, len(idat), 1 << 16):  # encoders split IDAT; so do we
        out += _png_chunk(b"IDAT", idat[start : start + (1 << 16)])
    return out + _png_chunk(b"IEND", b"")


def write_corrupt_jpeg(path: str | os.PathLike[str], size: Size = (640, 480), *,
                       seed: int = 0) -> Path:
    """Valid SOI/APP/DQT/SOF/DHT/SOS headers followed by random entropy-coded data, then EOI.

    The garbage holds no 0xFF byte, so no accidental markers. Like bit rot in real files, it is
    not guaranteed to fail: libjpeg only *warns* about bad Huffman codes, and Pillow then decodes
    it without raising into garbled pixels. Tests must accept a clean error or a decoded image.
    """
    data = _jpeg_bytes(photo_like(*size, seed=seed))
    sos = data.find(b"\xff\xda")
    start = sos + 2 + struct.unpack(">H", data[sos + 2 : sos + 4])[0]
    rng = np.random.default_rng(seed + 1)
    garbage = rng.integers(0, 255, size=len(data) - 2 - start, dtype=np.uint8).tobytes()
    return _finish(Path(path), data[:start] + garbage + b"\xff\xd9")


# --------------------------------------------------------------------------------------------
# RAW containers
# --------------------------------------------------------------------------------------------


def _preview_jpegs(preview_size: Size, seed: int, thumb_size: Size | None) -> tuple[bytes, bytes]:
    img = photo_like(*preview_size, seed=seed)
    preview = _jpeg_bytes(img, 85)
    thumb = b""
    if thumb_size is not None:
        thumb = _jpeg_bytes(img.resize(thumb_size, Image.Resampling.BILINEAR), 80)
    return preview, thumb


def _rgb_bytes(size: Size, seed: int, bits: int = 8) -> bytes:
    """Interleaved RGB samples; 16-bit ones little-endian (only CR2, an "II" file, uses them)."""
    arr = np.asarray(photo_like(*size, seed=seed))
    if bits == 16:
        return (arr.astype("<u2") * 257).tobytes()
    return arr.tobytes()


def _sensor_bytes(n: int, seed: int) -> bytes:
    """Fake sensor data. Never starts with FFD8, so it cannot pass for an embedded JPEG."""
    data = bytearray(np.random.default_rng(seed + 1000).bytes(n))
    if data:
        data[0] = 0x00
    return bytes(data)


def _lossless_jpeg(width: int, height: int, seed: int) -> bytes:
    """A lossless (SOF3) JPEG shell around fake data, as DNG stores compressed raw sensor data.

    With write_dng's default sizes it declares more pixels than the preview, so a reader that
    picks "the largest JPEG" without checking the SOF type would wrongly choose it.
    """
    sof3 = struct.pack(">BHHB", 14, height, width // 2, 2) + b"\x01\x11\x00\x02\x11\x00"
    dht = b"\x00" + bytes([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]) + bytes(range(12))
    sos = b"\x02\x01\x00\x02\x00\x01\x00\x00"
    body = _sensor_bytes(width * height // 8, seed).replace(b"\xff", b"\xfe")

    def seg(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    return b"\xff\xd8" + seg(0xC3, sof3) + seg(0xC4, dht) + seg(0xDA, sos) + body + b"\xff\xd9"


def _raw_ifd(ifd: _Ifd, size: Size, *, bits: int, compression: int, data: bytes) -> None:
    w, h = size
    ifd.long(0x00FE, 0)  # NewSubFileType: full-resolution image
    ifd.long(0x0100, w)
    ifd.long(0x0101, h)
    ifd.short(0x0102, bits)
    ifd.short(0x0103, compression)
    ifd.short(0x0106, 32803)  # PhotometricInterpretation: CFA
    ifd.strip(data)
    ifd.short(0x0115, 1)
    ifd.long(0x0116, h)
    ifd.short(0x011C, 1)
    ifd.short(0x828D, 2, 2)  # CFARepeatPatternDim
    ifd.byte(0x828E, bytes([0, 1, 1, 2]))  # CFAPattern: RGGB


def _rgb_ifd(ifd: _Ifd, size: Size, data: bytes, *, bits: int = 8,
             subfile_type: int | None = 1) -> None:
    w, h = size
    if subfile_type is not None:
        ifd.long(0x00FE, subfile_type)
    ifd.long(0x0100, w)
    ifd.long(0x0101, h)
    ifd.short(0x0102, bits, bits, bits)
    ifd.short(0x0103, 1)
    ifd.short(0x0106, 2)
    ifd.strip(data)
    ifd.short(0x0115, 3)
    ifd.long(0x0116, h)
    ifd.short(0x011C, 1)


def _resolution(ifd: _Ifd) -> None:
    ifd.rational(0x011A, (72, 1))
    ifd.rational(0x011B, (72, 1))
    ifd.short(0x0128, 2)


def _raw_fields(exif: ExifFields, make: str, model: str) -> ExifFields:
    fields: ExifFields = {"make": make, "model": model, "orientation": 1}
    fields.update(exif)
    return fields


def _sensor_dims(exif_size: Size) -> dict[int, int]:
    # PixelXDimension / PixelYDimension: what readers report as the RAW's full size.
    return {0xA002: exif_size[0], 0xA003: exif_size[1]}


def write_dng(
    path: str | os.PathLike[str],
    *,
    preview_size: Size = (1024, 768),
    thumb_size: Size = (256, 192),
    sensor_size: Size = (2048, 1536),
    raw_compression: int = 7,
    seed: int = 0,
    **exif: Unpack[ExifFields],
) -> Path:
    """An Adobe DNG: IFD0 is an uncompressed RGB thumbnail, SubIFDs hold the raw image and a
    JPEG preview (Compression 7, one strip). With ``raw_compression=7`` (the default, as Adobe's
    converter writes) the raw is a lossless-JPEG (SOF3) stream larger than the preview."""
    fields = _raw_fields(exif, "Adobe", "Adobe DNG Test Camera")
    preview, _ = _preview_jpegs(preview_size, seed, None)

    raw = _Ifd()
    if raw_compression == 7:
        raw_data = _lossless_jpeg(*sensor_size, seed)
        _raw_ifd(raw, sensor_size, bits=14, compression=7, data=raw_data)
    else:
        n = sensor_size[0] * sensor_size[1] * 2
        _raw_ifd(raw, sensor_size, bits=16, compression=1, data=_sensor_bytes(n, seed))
    raw.long(0xC61D, 16383)  # WhiteLevel

    prev = _Ifd()
    prev.long(0x00FE, 1)
    prev.long(0x0100, preview_size[0])
    prev.long(0x0101, preview_size[1])
    prev.short(0x0102, 8, 8, 8)
    prev.short(0x0103, 7)
    prev.short(0x0106, 6)  # YCbCr
    prev.strip(preview)
    prev.short(0x0115, 3)
    prev.long(0x0116, preview_size[1])
    prev.short(0x011C, 1)
    prev.long(0xC71A, 2)  # PreviewColorSpace: sRGB

    ifd0 = _Ifd()
    _rgb_ifd(ifd0, thumb_size, _rgb_bytes(thumb_size, seed))
    ifd0.ascii(0x0131, "Glimpse imagegen")
    ifd0.long(0x014A, raw, prev)
    ifd0.byte(0xC612, bytes([1, 4, 0, 0]))  # DNGVersion
    ifd0.byte(0xC613, bytes([1, 1, 0, 0]))  # DNGBackwardVersion
    ifd0.ascii(0xC614, str(fields.get("model") or "Unknown"))  # UniqueCameraModel
    ifd0.srational(0xC621, *[(v, 10000) for v in (  # ColorMatrix1, required for colour DNG
        6722, -635, -963, -4287, 12460, 2028, -908, 2162, 5668)])
    ifd0.rational(0xC628, (1, 2), (1, 1), (2, 3))  # AsShotNeutral
    _add_exif(ifd0, fields, exif_extra=_sensor_dims(sensor_size))
    return _finish(Path(path), _build_tiff(ifd0))


def write_cr2(
    path: str | os.PathLike[str],
    *,
    preview_size: Size = (1024, 768),
    thumb_size: Size = (160, 120),
    seed: int = 0,
    **exif: Unpack[ExifFields],
) -> Path:
    """A Canon CR2: IFD0 = big JPEG (Compression 6 strip), IFD1 = small JPEG thumbnail via
    JPEGInterchangeFormat, IFD2 = small uncompressed 16-bit RGB, IFD3 = raw (the header points
    to it)."""
    fields = _raw_fields(exif, "Canon", "Canon EOS 5D Mark IV")
    preview, thumb = _preview_jpegs(preview_size, seed, thumb_size)

    ifd0 = _Ifd()
    ifd0.long(0x0100, preview_size[0])
    ifd0.long(0x0101, preview_size[1])
    ifd0.short(0x0102, 8, 8, 8)
    ifd0.short(0x0103, 6)
    ifd0.strip(preview)
    _resolution(ifd0)
    _add_exif(ifd0, fields, exif_extra=_sensor_dims(preview_size))

    ifd1 = _Ifd()
    ifd1.short(0x0103, 6)
    _resolution(ifd1)
    ifd1.jpeg_interchange(thumb)

    small = (384, 256)
    ifd2 = _Ifd()
    _rgb_ifd(ifd2, small, _rgb_bytes(small, seed, bits=16), bits=16, subfile_type=None)

    ifd3 = _Ifd()
    ifd3.short(0x0103, 6)
    ifd3.strip(_sensor_bytes(preview_size[0] * preview_size[1], seed))
    ifd3.long(0xC5D8, 1)
    ifd3.short(0xC640, 1, preview_size[0] // 2, preview_size[0] // 2)  # CR2 slice layout

    ifd0.next, ifd1.next, ifd2.next = ifd1, ifd2, ifd3
    return _finish(Path(path), _build_tiff(ifd0, cr2_raw_ifd=ifd3))


def write_nef(
    path: str | os.PathLike[str],
    *,
    preview_size: Size = (1024, 768),
    thumb_size: Size = (160, 120),
    seed: int = 0,
    **exif: Unpack[ExifFields],
) -> Path:
    """A Nikon NEF, big-endian: IFD0 = uncompressed RGB thumbnail, SubIFD0 = JpgFromRaw via
    JPEGInterchangeFormat, SubIFD1 = raw (Compression 34713, Nikon)."""
    fields = _raw_fields(exif, "NIKON CORPORATION", "NIKON D750")
    preview, _ = _preview_jpegs(preview_size, seed, None)

    jpg = _Ifd()
    jpg.long(0x00FE, 1)
    jpg.short(0x0103, 6)
    _resolution(jpg)
    jpg.jpeg_interchange(preview)
    jpg.short(0x0213, 2)  # YCbCrPositioning: co-sited

    raw = _Ifd()
    _raw_ifd(raw, preview_size, bits=14, compression=34713,
             data=_sensor_bytes(preview_size[0] * preview_size[1], seed))

    ifd0 = _Ifd()
    _rgb_ifd(ifd0, thumb_size, _rgb_bytes(thumb_size, seed))
    ifd0.ascii(0x0131, "Ver.1.10")
    ifd0.long(0x014A, jpg, raw)
    ifd0.byte(0x9216, bytes([1, 0, 0, 0]))  # TIFF/EPStandardID
    _add_exif(ifd0, fields, big_endian=True, exif_extra=_sensor_dims(preview_size))
    return _finish(Path(path), _build_tiff(ifd0, big_endian=True))


def write_arw(
    path: str | os.PathLike[str],
    *,
    preview_size: Size = (1024, 768),
    thumb_size: Size = (160, 120),
    seed: int = 0,
    **exif: Unpack[ExifFields],
) -> Path:
    """A Sony ARW: IFD0 carries the PreviewImage via JPEGInterchangeFormat and a SubIFD with the
    raw (Compression 32767); IFD1 is a small JPEG thumbnail."""
    fields = _raw_fields(exif, "SONY", "ILCE-7M3")
    preview, thumb = _preview_jpegs(preview_size, seed, thumb_size)

    raw = _Ifd()
    _raw_ifd(raw, preview_size, bits=12, compression=32767,
             data=_sensor_bytes(preview_size[0] * preview_size[1], seed))

    ifd0 = _Ifd()
    ifd0.long(0x00FE, 1)
    ifd0.short(0x0103, 6)
    _resolution(ifd0)
    ifd0.ascii(0x0131, "ILCE-7M3 v3.10")
    ifd0.long(0x014A, raw)
    ifd0.jpeg_interchange(preview)
    _add_exif(ifd0, fields, exif_extra=_sensor_dims(preview_size))

    ifd1 = _Ifd()
    ifd1.short(0x0103, 6)
    _resolution(ifd1)
    ifd1.jpeg_interchange(thumb)
    ifd0.next = ifd1
    return _finish(Path(path), _build_tiff(ifd0))


_RAW_FLAVOURS: dict[str, tuple[str, str, bool, int]] = {
    # ext: (make, model, big-endian, raw compression)
    ".dng": ("Adobe", "Adobe DNG Test Camera", False, 1),
    ".cr2": ("Canon", "Canon EOS 5D Mark IV", False, 6),
    ".nef": ("NIKON CORPORATION", "NIKON D750", True, 34713),
    ".arw": ("SONY", "ILCE-7M3", False, 32767),
}


def write_raw_without_preview(
    path: str | os.PathLike[str],
    ext: str | None = None,
    *,
    sensor_size: Size = (640, 480),
    seed: int = 0,
    **exif: Unpack[ExifFields],
) -> Path:
    """A valid TIFF-based RAW holding only sensor data: no JPEG anywhere in the file.

    ``ext`` picks the maker layout (.dng, .cr2, .nef, .arw); it defaults to the suffix of
    ``path`` when that is one of those, else .dng. A ``path`` without a suffix gets ``ext``.
    """
    path = Path(path)
    flavour = (ext or path.suffix or ".dng").lower()
    if flavour not in _RAW_FLAVOURS:
        flavour = ".dng"
    if not path.suffix:
        path = path.with_suffix(flavour)
    make, model, big_endian, compression = _RAW_FLAVOURS[flavour]
    fields = _raw_fields(exif, make, model)
    n = sensor_size[0] * sensor_size[1] * 2
    ifd0 = _Ifd()
    _raw_ifd(ifd0, sensor_size, bits=16, compression=compression, data=_sensor_bytes(n, seed))
    if flavour == ".dng":
        ifd0.byte(0xC612, bytes([1, 4, 0, 0]))
        ifd0.ascii(0xC614, model)
    _add_exif(ifd0, fields, big_endian=big_endian, exif_extra=_sensor_dims(sensor_size))
    data = _build_tiff(ifd0, big_endian=big_endian,
                       cr2_raw_ifd=ifd0 if flavour == ".cr2" else None)
    return _finish(path, data)


def write_quartered_png(path: str | os.PathLike[str], size: Size) -> Path:
    """A valid 1-bit PNG of ``size`` (which may be hundreds of megapixels: a few hundred KB on
    disk, deflated a batch of rows at a time) in four quarters: white top-left and
    bottom-right, black top-right and bottom-left. Where each quarter lands in a downscaled
    copy shows whether a decoder reassembled the image in the right order."""
    width, height = size
    if width % 16 or height % 2:
        raise ValueError("write_quartered_png: width must be a multiple of 16, height even")
    half = width // 16  # bytes in half a row of packed bits
    top = b"\0" + b"\xff" * half + b"\0" * half  # filter "none", then the bits
    bottom = b"\0" + b"\0" * half + b"\xff" * half
    comp = zlib.compressobj(9)
    parts: list[bytes] = []
    rows_per_call = max(1, (1 << 20) // len(top))
    for row, count in ((top, height // 2), (bottom, height // 2)):
        while count > 0:
            n = min(count, rows_per_call)
            parts.append(comp.compress(row * n))
            count -= n
    parts.append(comp.flush())
    idat = b"".join(parts)
    out = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">LLBBBBB", width, height,
                                                                    1, 0, 0, 0, 0))
    for start in range(0, len(idat), 1 << 16):
        out += _png_chunk(b"IDAT", idat[start : start + (1 << 16)])
    return _finish(Path(path), out + _png_chunk(b"IEND", b""))


def write_tiff16(
    path: str | os.PathLike[str],
    size: Size = (64, 48),
    *,
    channels: int = 1,
    big_endian: bool = False,
    max_sample_value: int | None = None,
    peak: int | None = None,
) -> Path:
    """An uncompressed 16-bit-per-sample TIFF (greyscale, or RGB with ``channels=3``), as
    scanners and raw converters write them. Pillow reads greyscale ones as ``I;16`` (little
    endian) or ``I;16B`` (big endian).

    The samples rise left to right from 0 to ``peak``: by default the top of the range, 65535,
    or ``max_sample_value`` when given (a 12-bit scan kept in 16-bit samples declares 4095).
    """
    width, height = size
    top = peak if peak is not None else (max_sample_value or 65535)
    ramp = np.round(np.linspace(0, top, width)).astype(np.uint32)
    grey = np.broadcast_to(ramp, (height, width))
    samples = np.stack([grey] * channels, axis=-1) if channels > 1 else grey
    data = samples.astype(">u2" if big_endian else "<u2").tobytes()
    ifd = _Ifd()
    ifd.long(0x0100, width)
    ifd.long(0x0101, height)
    ifd.short(0x0102, *([16] * channels))
    ifd.short(0x0103, 1)  # no compression
    ifd.short(0x0106, 2 if channels >= 3 else 1)  # RGB, or BlackIsZero
    ifd.strip(data)
    ifd.short(0x0115, channels)
    ifd.long(0x0116, height)
    if max_sample_value is not None:
        ifd.short(0x0119, *([max_sample_value] * channels))
    ifd.short(0x011C, 1)
    return _finish(Path(path), _build_tiff(ifd, big_endian=big_endian))
