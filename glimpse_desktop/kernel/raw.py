"""Embedded JPEG previews from TIFF-based camera RAW files.

Demosaicing sensor data is slow and needs a RAW library per maker; every camera, however, stores
a ready-made JPEG rendering of the shot inside the file, which is what Glimpse shows, thumbnails
and indexes. This module finds that JPEG by walking the file's TIFF structure in memory
(with kernel/tiff.py, the reader the write-back of EXIF uses too).

The input is untrusted: every offset is bounds-checked, IFD cycles are broken, the number of IFDs
and entries looked at is capped, and any inconsistency surfaces as ``RawPreviewError`` (never
``IndexError``/``struct.error``, never an endless loop).

Where maker formats put the preview, and how each is found here:

* DNG: a SubIFD (0x014A) with Compression 7 and one strip holding a baseline JPEG.
* CR2: IFD0 with Compression 6 and one strip (full-size JPEG); IFD1 a thumbnail via 0x201/0x202.
* NEF/NRW: a SubIFD with JPEGInterchangeFormat (0x201) + Length (0x202), the "JpgFromRaw".
* ARW/SRF/SR2: IFD0 with 0x201/0x202 (the PreviewImage).
* PEF, SRW: JPEGs referenced by 0x201/0x202 in IFD0/IFD1/SubIFDs.
* RW2/RWL: Panasonic's own magic (0x0055) and the JpgFromRaw in IFD0 tag 0x002E.
* ORF: Olympus magic ("IIRO"/"IIRS"/"MMOR"); older bodies keep the large preview only inside the
  maker note, which is not parsed here, so those raise ``RawPreviewError``.

Raw sensor data stored as *lossless* JPEG (SOF3, e.g. in DNG and CR2) is not a picture and is
skipped. Deliberately absent from RAW_EXTENSIONS: CR3 (an ISO-BMFF/MP4 container, not TIFF),
RAF (Fujifilm's own header; its TIFF part is nested at an offset), CRW (Canon CIFF), X3F (Sigma),
MRW (Minolta's block format with TIFF nested inside).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image

from glimpse_desktop.kernel.tiff import MAGIC_RW2, MAGIC_TIFF, Entry, Tiff, TiffError

__all__ = [
    "RAW_EXTENSIONS",
    "RawPreview",
    "RawPreviewError",
    "extract_preview",
    "is_tiff_raw",
    "read_tiff_exif",
]

RAW_EXTENSIONS: frozenset[str] = frozenset({
    ".dng",  # Adobe, and Leica/Pentax/Ricoh/phones that write DNG natively
    ".cr2",  # Canon (2004-2018)
    ".nef", ".nrw",  # Nikon
    ".arw", ".srf", ".sr2",  # Sony
    ".orf",  # Olympus / OM System
    ".rw2", ".rwl",  # Panasonic, Leica (Panasonic-made)
    ".pef",  # Pentax
    ".srw",  # Samsung
})

# Caps on work per file. Real files have fewer than 10 IFDs and at most a few hundred entries
# per IFD; anything beyond is corrupt or hostile and must not cost us more than a few ms.
_MAX_IFDS = 64
_MAX_SUBIFDS = 32
_MAX_JPEG_SEGMENTS = 512

# TIFF tags
_T_NEW_SUBFILE_TYPE = 0x00FE
_T_COMPRESSION = 0x0103
_T_PHOTOMETRIC = 0x0106
_T_STRIP_OFFSETS = 0x0111
_T_ORIENTATION = 0x0112
_T_STRIP_BYTE_COUNTS = 0x0117
_T_SUB_IFDS = 0x014A
_T_JPEG_IF = 0x0201
_T_JPEG_IF_LENGTH = 0x0202
_T_EXIF_IFD = 0x8769
_T_DNG_VERSION = 0xC612
_T_RW2_JPG_FROM_RAW = 0x002E

_OFFSET_TYPES = frozenset({4, 13})  # LONG, IFD: how SubIFDs are stored

# Compression values only RAW files use; a TIFF carrying one of these is not an ordinary image.
_RAW_COMPRESSIONS = frozenset({
    32767,  # Sony ARW
    32769,  # Epson ERF / packed
    32770, 32772,  # Samsung SRW
    34316,  # Panasonic RAW
    34713,  # Nikon NEF
    34892,  # DNG lossy JPEG
    65000,  # Kodak DCR
    65535,  # Pentax PEF
})
_RAW_PHOTOMETRICS = frozenset({32803, 34892})  # CFA, LinearRaw

# SOF markers of pictures (baseline, extended, progressive). Lossless SOF3 and the arithmetic or
# hierarchical variants are never how a camera stores a viewable preview.
_PICTURE_SOF = frozenset({0xC0, 0xC1, 0xC2})
_OTHER_SOF = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


class RawPreviewError(Exception):
    """The file holds no usable embedded JPEG, or its structure is truncated or corrupt."""


@dataclass(frozen=True, slots=True)
class RawPreview:
    jpeg: bytes  # the largest embedded picture JPEG, exactly as stored
    width: int  # from the JPEG's SOF segment, before any rotation
    height: int
    orientation: int  # IFD0 Orientation (EXIF 1-8); 1 when absent or invalid


def _walk(tiff: Tiff, *, into_exif: bool) -> Iterator[tuple[int, dict[int, Entry]]]:
    """Yield (index, entries) for IFD0's chain, SubIFDs (and their chains), and the ExifIFD."""
    queue: deque[tuple[int, bool]] = deque([(tiff.first_ifd, True)])
    visited: set[int] = set()
    index = 0
    while queue:
        offset, follow_next = queue.popleft()
        if offset == 0 or offset in visited:
            continue  # a cycle (or a repeated pointer) adds nothing; skipping it ends the walk
        if len(visited) >= _MAX_IFDS:
            raise RawPreviewError(f"corrupt file: more than {_MAX_IFDS} IFDs")
        visited.add(offset)
        entries, next_offset = tiff.read_ifd(offset)
        yield index, entries
        index += 1
        sub = entries.get(_T_SUB_IFDS)
        if sub is not None and sub.typ in _OFFSET_TYPES:
            queue.extend((o, True) for o in tiff.ints(sub, _MAX_SUBIFDS, "SubIFDs list"))
        if into_exif:
            exif_offset = tiff.first_int(entries, _T_EXIF_IFD)
            if exif_offset:
                queue.append((exif_offset, False))
        if follow_next and next_offset:
            queue.append((next_offset, True))


def _jpeg_dimensions(data: bytes, start: int, length: int) -> tuple[int, int] | None:
    """(width, height) from the SOF of a picture JPEG in data[start:start+length], else None.

    None for anything that is not a baseline/progressive JPEG, notably lossless (SOF3) raw data.
    """
    end = start + length
    if length < 4 or data[start : start + 2] != b"\xff\xd8":
        return None
    pos = start + 2
    for _ in range(_MAX_JPEG_SEGMENTS):
        if pos + 4 > end or data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # standalone markers carry no length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # EOI or start of scan before any SOF: not a picture
            return None
        seg_len = (data[pos + 2] << 8) | data[pos + 3]
        if seg_len < 2 or pos + 2 + seg_len > end:
            return None
        if marker in _PICTURE_SOF:
            if seg_len < 8:
                return None
            height = (data[pos + 5] << 8) | data[pos + 6]
            width = (data[pos + 7] << 8) | data[pos + 8]
            # Height 0 defers the size to a DNL marker; no camera preview does that.
            return (width, height) if width and height else None
        if marker in _OTHER_SOF:
            return None
        pos += 2 + seg_len
    return None


@dataclass(frozen=True, slots=True)
class _Candidate:
    offset: int
    length: int
    width: int
    height: int


def _candidate(tiff: Tiff, offset: int, length: int, what: str) -> _Candidate | None:
    if length <= 0:
        return None
    tiff.check(offset, length, what)
    dims = _jpeg_dimensions(tiff.data, offset, length)
    if dims is None:
        return None
    return _Candidate(offset, length, dims[0], dims[1])


def _candidates_in(tiff: Tiff, entries: dict[int, Entry], ifd_index: int) -> Iterator[_Candidate]:
    # (a) JPEGInterchangeFormat + length: thumbnails, Nikon JpgFromRaw, Sony PreviewImage.
    jpeg_offset = tiff.first_int(entries, _T_JPEG_IF)
    jpeg_length = tiff.first_int(entries, _T_JPEG_IF_LENGTH)
    if jpeg_offset and jpeg_length:
        found = _candidate(tiff, jpeg_offset, jpeg_length, "embedded JPEG (0x201/0x202)")
        if found is not None:
            yield found

    # (b) A JPEG-compressed image stored as a single strip: DNG previews, CR2's big JPEG.
    compression = tiff.first_int(entries, _T_COMPRESSION)
    offsets = entries.get(_T_STRIP_OFFSETS)
    counts = entries.get(_T_STRIP_BYTE_COUNTS)
    if (compression in (6, 7) and offsets is not None and counts is not None
            and offsets.count == 1 and counts.count == 1):
        strip_offset = tiff.ints(offsets, 1, "StripOffsets")[0]
        strip_length = tiff.ints(counts, 1, "StripByteCounts")[0]
        found = _candidate(tiff, strip_offset, strip_length, "embedded JPEG strip")
        if found is not None:
            yield found

    # (c) Panasonic RW2 keeps its JPEG as the value of tag 0x002E in IFD0.
    if tiff.magic == MAGIC_RW2 and ifd_index == 0:
        entry = entries.get(_T_RW2_JPG_FROM_RAW)
        if entry is not None and entry.typ in (1, 7) and entry.count > 4:
            found = _candidate(tiff, tiff.u32(entry.field), entry.count, "RW2 JpgFromRaw")
            if found is not None:
                yield found


def extract_preview(data: bytes) -> RawPreview:
    """The largest embedded picture JPEG of a TIFF-based RAW file held in ``data``.

    Raises RawPreviewError when there is none, or when the structure or the preview is
    truncated or corrupt: a file cut short while being copied must not yield a smaller
    stand-in preview that would then be cached as if it were the photo.
    """
    try:
        return _largest_preview(data)
    except TiffError as exc:
        raise RawPreviewError(str(exc)) from exc


def _largest_preview(data: bytes) -> RawPreview:
    tiff = Tiff(data)
    best: _Candidate | None = None
    orientation = 1
    seen: set[int] = set()
    for index, entries in _walk(tiff, into_exif=True):
        if index == 0:
            value = tiff.first_int(entries, _T_ORIENTATION)
            if value is not None and 1 <= value <= 8:
                orientation = value
        for found in _candidates_in(tiff, entries, index):
            if found.offset in seen:
                continue
            seen.add(found.offset)
            if best is None or (found.width * found.height, found.length) > (
                best.width * best.height, best.length
            ):
                best = found
    if best is None:
        raise RawPreviewError("no embedded JPEG preview")
    return RawPreview(
        jpeg=bytes(data[best.offset : best.offset + best.length]),
        width=best.width,
        height=best.height,
        orientation=orientation,
    )


def is_tiff_raw(data: bytes) -> bool:
    """Whether ``data`` looks like a TIFF-based camera RAW rather than an ordinary TIFF image.

    Meant for files whose extension lies or is missing; cheap (reads a few IFDs), never raises.
    """
    try:
        tiff = Tiff(data)
        if tiff.magic != MAGIC_TIFF:
            return True  # ORF and RW2 magic numbers exist only in RAW files
        if data[8:10] == b"CR":
            return True  # Canon CR2 header extension
        for index, entries in _walk(tiff, into_exif=False):
            if index == 0 and _T_DNG_VERSION in entries:
                return True
            if tiff.first_int(entries, _T_PHOTOMETRIC) in _RAW_PHOTOMETRICS:
                return True
            if tiff.first_int(entries, _T_COMPRESSION) in _RAW_COMPRESSIONS:
                return True
    except (RawPreviewError, TiffError):
        return False
    return False


_EXIF_HEADERS = {
    b"II*\x00": b"II*\x00", b"MM\x00*": b"MM\x00*",
    b"IIRO": b"II*\x00", b"IIRS": b"II*\x00", b"MMOR": b"MM\x00*",  # Olympus ORF
    b"IIU\x00": b"II*\x00",  # Panasonic RW2
}


def read_tiff_exif(data: bytes) -> Image.Exif | None:
    """The RAW file's IFD0 as a ``PIL.Image.Exif``, sub-IFDs reachable via ``get_ifd``.

    Pillow cannot open most RAW files as images, but their container *is* a TIFF, so its
    header + IFD0 parse as an EXIF block. ExifIFD and GPS IFD are loaded here, so a corrupt one
    shows up now (as None) rather than as an exception in the caller. None when unreadable.
    """
    header = _EXIF_HEADERS.get(bytes(data[:4]))
    if header is None or len(data) < 8:
        return None
    # Pillow only accepts the standard magic; Olympus/Panasonic differ in those two bytes only.
    stream = data if header == data[:4] else header + data[4:]
    exif = Image.Exif()
    try:
        exif.load(stream)
        if not len(exif):
            return None
        exif.get_ifd(0x8769)
        exif.get_ifd(0x8825)
    except Exception:  # Pillow raises a zoo of types (struct.error, ValueError, ...) on junk
        return None
    return exif
