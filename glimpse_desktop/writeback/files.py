"""Writing metadata to files: XMP sidecars beside photos, and (when asked) into JPEGs.

Every write is atomic (a temp file in the same folder, fsync, rename) and verified by reading
it back before it replaces anything; a failure leaves the old file exactly as it was.

Embedding works on the JPEG's segments, never on pixels: the APP1 XMP packet is merged or
inserted, and EXIF IFD0's ImageDescription and XPKeywords are changed by writing a new IFD0
(every other entry copied as is) at the end of the TIFF blob, so sub-IFDs, MakerNotes and the
thumbnail keep their offsets. Every other segment and the entropy-coded data stay byte for byte.
Like the XMP (see `xmp.merge_report`), the EXIF keeps what another app put there: its
keywords stay in XPKeywords, and its ImageDescription (Glimpse's caption is then only in XMP).
"""

from __future__ import annotations

import errno
import os
import struct
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

from glimpse_desktop.kernel.tiff import TYPE_SIZES as _TYPE_SIZES
from glimpse_desktop.kernel.tiff import Entry, Tiff
from glimpse_desktop.metadata import xmp

__all__ = ["JPEG_EXTENSIONS", "MAX_XMP_PACKET", "FolderNames", "Segment", "WriteBackError",
           "Written", "embed_jpeg", "jpeg_segments", "read_embedded_xmp", "read_exif_texts",
           "sidecar_path", "write_sidecar"]

JPEG_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif")
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_HEADER = b"Exif\x00\x00"
# XMP part 3: the main packet must fit one APP1 segment with its namespace header.
MAX_XMP_PACKET = 65502
MAX_SEGMENT = 65533          # payload bytes after the two length bytes
T_IMAGE_DESCRIPTION = 0x010E
T_XP_KEYWORDS = 0x9C9E
# Tags whose values are offsets of other IFDs (Exif, GPS, Interoperability, SubIFDs), and
# offset/length pairs of data (the thumbnail, strips, tiles).
_IFD_POINTERS = (0x8769, 0x8825, 0xA005, 0x014A)
_DATA_POINTERS = ((0x0201, 0x0202), (0x0111, 0x0117), (0x0144, 0x0145))


class WriteBackError(OSError):
    """A file could not be written (the reason is a sentence to show as is)."""


class _Changed(WriteBackError):
    """The file changed (another app wrote it) between our read and our rename."""


def _signature(path: str) -> tuple[int, int] | None:
    """A file's (size, mtime_ns), None when there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteBackError(exc.errno or 0, f"cannot read {path}: {exc.strerror or exc}"
                             ) from exc
    return st.st_size, st.st_mtime_ns


@dataclass
class Written:
    """A file written: its new bytes, and what of them Glimpse wrote (its own keywords,
    regions, description and rating, not another app's): give it back as ``previous`` next
    time, so that only those are replaced."""

    body: bytes
    record: xmp.XmpData
    exif: xmp.XmpData | None = None   # embedding: what of EXIF's two texts is Glimpse's


# ---------------------------------------------------------------------------- sidecars

class FolderNames:
    """A folder's file names, indexed once for every photo's sidecar lookup in it."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)
        self.by_lower: dict[str, list[str]] = {}
        self.stems: dict[str, int] = {}
        for n in sorted(self.names):
            self.by_lower.setdefault(n.lower(), []).append(n)
            if not n.lower().endswith(".xmp"):
                stem = os.path.splitext(n)[0].lower()
                self.stems[stem] = self.stems.get(stem, 0) + 1

    def find(self, name: str, owner: str) -> str | None:
        """``name`` as it is in the folder: exactly, else in another case when that cannot be
        another file's (on a case-sensitive disk a.jpg and A.jpg are two photos, each with
        its own a.jpg.xmp and A.jpg.xmp: no case-blind match while anything collides)."""
        if name in self.names:
            return name
        same = self.by_lower.get(name.lower(), [])
        if len(same) == 1 and len(self.by_lower.get(owner.lower(), [])) <= 1:
            return same[0]
        return None

    @classmethod
    def of(cls, folder: str) -> FolderNames:
        """The folder's names as listed now (none when it cannot be listed)."""
        try:
            return cls(os.listdir(folder or "."))
        except OSError:
            return cls(())


def sidecar_path(photo: str, names: Iterable[str] | FolderNames | None = None) -> str:
    """Where a photo's sidecar lives: an existing ``name.ext.xmp`` (any case), else an
    existing ``name.xmp`` (Lightroom's way, only when no other photo in the folder shares the
    stem), else a new ``name.ext.xmp``. ``names``: the folder's file names, if already listed."""
    folder, filename = os.path.split(photo)
    index = names if isinstance(names, FolderNames) else (
        FolderNames.of(folder) if names is None else FolderNames(names))
    full = index.find(f"{filename}.xmp", filename)
    if full is not None:
        return os.path.join(folder, full)
    stem = os.path.splitext(filename)[0]
    short = index.find(f"{stem}.xmp", filename)
    if short is not None and index.stems.get(stem.lower(), 0) <= 1:
        return os.path.join(folder, short)
    return os.path.join(folder, f"{filename}.xmp")


def _reason(exc: OSError, path: str) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk holding {path} is full: nothing was changed"
    if exc.errno in (errno.EROFS,):
        return f"{os.path.dirname(path)} is on a read-only disk: nothing was changed"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"no permission to write in {os.path.dirname(path)}: nothing was changed"
    return f"cannot write {path}: {exc.strerror or exc}"


def _atomic_write(path: str, data: bytes, *, keep_times_of: str | None = None,
                  read_as: tuple[int, int] | bool | None = False) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder (never a reader
    seeing half a file, never the old file lost). ``read_as``: the file's `_signature` when
    it was read (None: there was none); if it is another now, `_Changed` and nothing is
    replaced (another app's write must not be lost)."""
    folder = os.path.dirname(path) or "."
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".glimpse-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if keep_times_of is not None and os.path.exists(keep_times_of):
            st = os.stat(keep_times_of)
            os.chmod(tmp, st.st_mode & 0o7777)
            os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        elif os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        if read_as is not False and _signature(path) != read_as:
            raise _Changed(errno.EAGAIN, f"{path} was changed by another app while it was "
                           "being written; not written (it is merged again next time)")
        os.replace(tmp, path)
        tmp = None
        try:
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass  # some file systems cannot sync a folder; the rename is done all the same
    except WriteBackError:
        raise
    except OSError as exc:
        raise WriteBackError(exc.errno or 0, _reason(exc, path)) from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _check_inside(path: str) -> None:
    """A sidecar that is a link may point anywhere (another folder, another disk): never
    write through it."""
    if os.path.islink(path):
        raise WriteBackError(errno.EPERM, f"{path} is a symbolic link (to "
                             f"{os.readlink(path)}): not written, to never change a file "
                             "outside the photo's folder")


def write_sidecar(path: str, data: xmp.XmpData, previous: xmp.XmpData | None = None
                  ) -> Written:
    """Merge ``data`` into the sidecar at ``path`` (created if absent), atomically, then
    read it back and check it says what was meant. ``previous``: what Glimpse wrote there
    before (`Written.record`), replaced by ``data``; another app's items stay. WriteBackError
    says why not (an unreadable existing sidecar is left alone). A sidecar another app
    writes meanwhile is merged again (once)."""
    try:
        return _write_sidecar(path, data, previous)
    except _Changed:
        return _write_sidecar(path, data, previous)


def _write_sidecar(path: str, data: xmp.XmpData, previous: xmp.XmpData | None) -> Written:
    _check_inside(path)
    existing: bytes | None = None
    read_as: tuple[int, int] | None = None
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            read_as = (st.st_size, st.st_mtime_ns)
            existing = fh.read(16 * 1024 * 1024 + 1)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise WriteBackError(exc.errno or 0, f"cannot read {path}: {exc.strerror or exc}"
                             ) from exc
    if existing is not None and len(existing) > 16 * 1024 * 1024:
        raise WriteBackError(errno.EFBIG, f"{path} is too large to be an XMP sidecar")
    try:
        merged = xmp.merge_report(existing, data, previous=previous)
    except xmp.XmpError as exc:
        raise WriteBackError(errno.EINVAL, f"{path} is not a readable XMP sidecar ({exc}); "
                             "it was left as it is") from exc
    try:
        ok = xmp.parse(merged.body).owned() == merged.expected.owned()
    except xmp.XmpError:
        ok = False
    if not ok:   # checked before anything replaces the old sidecar
        raise WriteBackError(errno.EIO, f"{path}: the merged XMP would not read back as "
                             "meant; not written")
    if merged.body != existing:
        _atomic_write(path, merged.body, read_as=read_as)
        _verify_sidecar(path, merged.expected)
    return Written(merged.body, merged.written)


def _verify_sidecar(path: str, expected: xmp.XmpData) -> None:
    try:
        with open(path, "rb") as fh:
            back = xmp.parse(fh.read())
    except (OSError, xmp.XmpError) as exc:
        raise WriteBackError(errno.EIO, f"{path} could not be read back: {exc}") from exc
    if back.owned() != expected.owned():
        raise WriteBackError(errno.EIO, f"{path} does not read back as written")


# ---------------------------------------------------------------------------- JPEG segments

@dataclass
class Segment:
    marker: int          # 0xE1 for APP1 ...
    start: int           # offset of the 0xFF marker byte in the file
    payload: bytes       # bytes after the length field

    def raw(self) -> bytes:
        """The segment as it is written in a file: marker, length, payload."""
        return bytes((0xFF, self.marker)) + struct.pack(">H", len(self.payload) + 2) \
            + self.payload


def jpeg_segments(data: bytes) -> tuple[list[Segment], int]:
    """The segments before the scan, and the offset where the scan (SOS) starts; ValueError
    for something that is not a JPEG."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file (no SOI marker)")
    pos = 2
    out: list[Segment] = []
    while True:
        while pos < len(data) and data[pos] == 0xFF and pos + 1 < len(data) \
                and data[pos + 1] == 0xFF:
            pos += 1   # fill bytes
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise ValueError("damaged JPEG: segment markers end before the image data")
        marker = data[pos + 1]
        if marker == 0xDA:
            return out, pos
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if length < 2 or pos + 2 + length > len(data):
            raise ValueError("damaged JPEG: a segment runs past the end of the file")
        out.append(Segment(marker, pos, data[pos + 4:pos + 2 + length]))
        pos += 2 + length


def read_embedded_xmp(path: str) -> bytes | None:
    """The main XMP packet of a JPEG, or None. Reads only the segment headers and the APP1
    segments (indexing calls this for every JPEG: the rest of the file is not read again)."""
    with open(path, "rb") as fh:
        if fh.read(2) != b"\xff\xd8":
            return None
        while True:
            head = fh.read(4)
            while len(head) >= 2 and head[0] == 0xFF and head[1] == 0xFF:
                head = head[1:] + fh.read(1)   # fill bytes
            if len(head) < 4 or head[0] != 0xFF or head[1] in (0xDA, 0xD9):
                return None
            if head[1] in (0x01, *range(0xD0, 0xD8)):
                fh.seek(-2, os.SEEK_CUR)
                continue
            length = struct.unpack(">H", head[2:4])[0]
            if length < 2:
                return None
            if head[1] != 0xE1:
                fh.seek(length - 2, os.SEEK_CUR)
                continue
            payload = fh.read(length - 2)
            if payload.startswith(XMP_HEADER):
                return payload[len(XMP_HEADER):]


# ---------------------------------------------------------------------------- EXIF IFD0
# Read with the kernel's TIFF reader (kernel/tiff.py), the one RAW previews are found with.

def _exif_tiff(blob: bytes) -> Tiff:
    """The TIFF structure of an EXIF block (a standard TIFF header: no RAW variant)."""
    if blob[:4] not in (b"II*\x00", b"MM\x00*"):
        raise ValueError("EXIF without a TIFF header")
    return Tiff(blob)


def _ifd0(tiff: Tiff) -> tuple[list[Entry], int]:
    """IFD0's entries, in file order, and the next-IFD offset."""
    at = tiff.first_ifd
    if at + 2 > tiff.size:
        raise ValueError("EXIF IFD0 lies outside the segment")
    n = tiff.u16(at)
    if at + 2 + 12 * n + 4 > tiff.size:
        raise ValueError("EXIF IFD0 runs past the segment")
    return tiff.entries(at)


def read_exif_texts(payload: bytes) -> tuple[str | None, str | None]:
    """ImageDescription and XPKeywords of an EXIF APP1 payload (for read-back checks)."""
    tiff = _exif_tiff(payload[len(EXIF_HEADER):])
    entries, _ = _ifd0(tiff)
    desc = keys = None
    for entry in entries:
        if entry.tag == T_IMAGE_DESCRIPTION:
            desc = tiff.value(entry).rstrip(b"\x00").decode("utf-8", "replace")
        elif entry.tag == T_XP_KEYWORDS:
            keys = tiff.value(entry).decode("utf-16-le", "replace").rstrip("\x00")
    return desc, keys


def _new_exif(e: str, entries: list[tuple[int, int, int, bytes]], next_ifd: int,
              values: dict[int, tuple[int, bytes]], blob: bytes, at: int) -> bytes:
    """``blob`` cut at ``at`` followed by a new IFD0 with ``entries`` (copied as they are)
    plus ``values`` (tag -> (type, bytes)), their data after it."""
    head = bytearray(blob[:at])
    if len(head) % 2:
        head += b"\x00"   # IFDs start on a word boundary
    ifd_at = len(head)
    tags = sorted({*(t for t, *_ in entries if t not in values), *values})
    by_tag = {t: (typ, count, raw) for t, typ, count, raw in entries}
    ifd = bytearray(struct.pack(e + "H", len(tags)))
    extra = bytearray()
    data_at = ifd_at + 2 + 12 * len(tags) + 4
    for tag in tags:
        if tag in values:
            typ, value = values[tag]
            count = len(value) // _TYPE_SIZES[typ]
            if len(value) <= 4:
                raw = value.ljust(4, b"\x00")
            else:
                raw = struct.pack(e + "I", data_at + len(extra))
                extra += value
                if len(extra) % 2:
                    extra += b"\x00"
            ifd += struct.pack(e + "HHI", tag, typ, count) + raw
        else:
            typ, count, raw = by_tag[tag]
            ifd += struct.pack(e + "HHI", tag, typ, count) + raw
    ifd += struct.pack(e + "I", next_ifd)
    out = head + ifd + extra
    struct.pack_into(e + "I", out, 4, ifd_at)
    return bytes(out)


def _reach(tiff: Tiff, at: int, seen: set[int], depth: int = 0,
           skip: tuple[int, ...] = ()) -> int:
    """The end of everything the IFD at ``at`` refers to: its own entries (unless ``skip``),
    their values, the IFDs they point to (Exif, GPS, Interoperability, SubIFDs, and the next
    IFD), and the data their offsets name (thumbnail, strips, tiles), all the way down.
    ValueError for a structure that cannot be followed."""
    if at in seen or depth > 8:
        return 0
    seen.add(at)
    if at < 8 or at + 2 > tiff.size:
        raise ValueError("an IFD lies outside the EXIF segment")
    n = tiff.u16(at)
    if at + 2 + 12 * n + 4 > tiff.size:
        raise ValueError("an IFD runs past the EXIF segment")
    end = 0 if skip else at + 2 + 12 * n + 4
    by_tag: dict[int, list[int]] = {}
    for i in range(n):
        e = at + 2 + 12 * i
        tag, typ, count = tiff.u16(e), tiff.u16(e + 2), tiff.u32(e + 4)
        if tag in skip:
            continue
        size = _TYPE_SIZES.get(typ, 1) * count
        value_at = e + 8 if size <= 4 else tiff.u32(e + 8)
        if size > 4:
            end = max(end, value_at + size)
        if typ in (3, 4, 13) and count <= 4096:
            unit = 2 if typ == 3 else 4
            fmt = tiff.endian + ("H" if typ == 3 else "I") * count
            by_tag[tag] = list(struct.unpack(fmt, tiff.data[value_at:value_at + unit * count]))
    for tag in _IFD_POINTERS:
        for target in by_tag.get(tag, []):
            end = max(end, _reach(tiff, target, seen, depth + 1))
    for offsets, lengths in _DATA_POINTERS:
        for off, length in zip(by_tag.get(offsets, []), by_tag.get(lengths, []), strict=False):
            end = max(end, off + length)
    next_ifd = tiff.u32(at + 2 + 12 * n)
    if next_ifd:
        end = max(end, _reach(tiff, next_ifd, seen, depth + 1))
    return end


def _ours_at_end(tiff: Tiff, entries: list[Entry], next_ifd: int) -> bool:
    """IFD0 (and the values of the two tags Glimpse writes) is the last thing in the blob and
    nothing else reaches into it (no value, sub-IFD, next IFD or thumbnail at or after it): an
    earlier write of ours, whose space can be reused. When in doubt: no (the new IFD0 is then
    appended, which is always safe)."""
    at = tiff.first_ifd
    if at <= 8 or next_ifd >= at:
        return False
    end = at + 2 + 12 * len(entries) + 4
    for en in entries:
        size = _TYPE_SIZES.get(en.typ, 1) * en.count
        if en.tag in (T_IMAGE_DESCRIPTION, T_XP_KEYWORDS) and size > 4:
            off = tiff.u32(en.field)
            if off < at:
                return False
            end = max(end, off + size + (size % 2))
    try:
        # Everything else IFD0 refers to, directly or not, must lie before it.
        others = _reach(tiff, at, set(), skip=(T_IMAGE_DESCRIPTION, T_XP_KEYWORDS))
    except (ValueError, struct.error):
        return False
    if others > at:
        return False
    return end >= tiff.size - 1


def _exif_values(description: str | None, keywords: list[str]) -> dict[int, tuple[int, bytes]]:
    values: dict[int, tuple[int, bytes]] = {}
    if description:
        values[T_IMAGE_DESCRIPTION] = (2, description.encode("utf-8") + b"\x00")
    if keywords:
        values[T_XP_KEYWORDS] = (1, ";".join(keywords).encode("utf-16-le") + b"\x00\x00")
    return values


def _split_keywords(text: str | None) -> list[str]:
    return [k.strip() for k in (text or "").split(";") if k.strip()]


def _exif_texts(current: tuple[str | None, str | None], data: xmp.XmpData,
                previous: xmp.XmpData) -> tuple[str | None, list[str], xmp.XmpData]:
    """ImageDescription and XPKeywords merged as the XMP is: another app's keywords stay
    (ours from before go), and so does its description (or its edit of ours). Returns the
    description, the keywords and what of them is Glimpse's."""
    desc, keys = current
    written = xmp.XmpData()
    fold = xmp._fold
    theirs_desc = desc is not None and desc.strip() != "" and (
        previous.description is None
        or xmp.same_text(desc) != xmp.same_text(previous.description))
    description: str | None
    if theirs_desc:
        description = desc   # another app's, or its edit of ours: never replaced
    else:
        description = xmp.clean(data.description) if data.description else None
        written.description = description
    was_ours = {xmp.same_text(k) for k in previous.subjects}
    keywords = [k for k in _split_keywords(keys) if xmp.same_text(k) not in was_ours]
    seen = {fold(k) for k in keywords}
    for k in data.subjects:
        k = xmp.clean(k).strip().replace(";", ",")
        if k and fold(k) not in seen:
            seen.add(fold(k))
            keywords.append(k)
            written.subjects.append(k)
    return description, keywords, written


def _edit_exif(payload: bytes | None, data: xmp.XmpData, previous: xmp.XmpData
               ) -> tuple[bytes | None, str | None, list[str], xmp.XmpData]:
    """The EXIF segment's payload with ImageDescription and XPKeywords merged (None: there
    is none and nothing to write), the two as they now read, and what of them is ours."""
    if payload is None:
        description, keywords, written = _exif_texts((None, None), data, previous)
        values = _exif_values(description, keywords)
        if not values:
            return None, None, [], written
        blob = b"II*\x00" + struct.pack("<I", 8)
        return (EXIF_HEADER + _new_exif("<", [], 0, values, blob, 8), description, keywords,
                written)
    tiff = _exif_tiff(payload[len(EXIF_HEADER):])
    entries, next_ifd = _ifd0(tiff)
    description, keywords, written = _exif_texts(read_exif_texts(payload), data, previous)
    values = _exif_values(description, keywords)
    kept = [(en.tag, en.typ, en.count, tiff.raw_value(en)) for en in entries
            if en.tag not in (T_IMAGE_DESCRIPTION, T_XP_KEYWORDS)]
    current = {en.tag: tiff.value(en) for en in entries
               if en.tag in (T_IMAGE_DESCRIPTION, T_XP_KEYWORDS)}
    desc_now, keys_now = read_exif_texts(payload)
    if current == {t: v for t, (_typ, v) in values.items()} or (
            desc_now == description and _split_keywords(keys_now) == keywords):
        # Already says this: the segment stays byte for byte.
        return payload, desc_now, _split_keywords(keys_now), written
    cut = tiff.first_ifd if _ours_at_end(tiff, entries, next_ifd) else tiff.size
    values_bytes = _new_exif(tiff.endian, kept, next_ifd, values, tiff.data, cut)
    return EXIF_HEADER + values_bytes, description, keywords, written


def embed_jpeg(path: str, data: xmp.XmpData, previous: xmp.XmpData | None = None,
               previous_exif: xmp.XmpData | None = None) -> Written:
    """Write ``data`` into the JPEG at ``path``: its XMP packet and EXIF
    ImageDescription/XPKeywords, merged (``previous``, ``previous_exif``: what Glimpse wrote
    there before, `Written.record` and `Written.exif`); the pixels, every other segment and
    the file's mtime stay. WriteBackError says why not (nothing is changed then). A file
    another app writes meanwhile is merged again (once)."""
    try:
        return _embed_jpeg(path, data, previous, previous_exif)
    except _Changed:
        return _embed_jpeg(path, data, previous, previous_exif)


def _embed_jpeg(path: str, data: xmp.XmpData, previous: xmp.XmpData | None,
                previous_exif: xmp.XmpData | None) -> Written:
    if os.path.splitext(path)[1].lower() not in JPEG_EXTENSIONS:
        raise WriteBackError(errno.EINVAL, f"{path}: writing into this format is not "
                             "supported; use sidecars")
    if os.path.islink(path):
        raise WriteBackError(errno.EPERM, f"{path} is a symbolic link: not written")
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            read_as = (st.st_size, st.st_mtime_ns)
            original = fh.read()
    except OSError as exc:
        raise WriteBackError(exc.errno or 0, f"cannot read {path}: {exc.strerror or exc}"
                             ) from exc
    try:
        segments, _scan_at = jpeg_segments(original)
    except ValueError as exc:
        raise WriteBackError(errno.EINVAL, f"{path}: {exc}; not written") from exc
    xmp_seg = next((s for s in segments
                    if s.marker == 0xE1 and s.payload.startswith(XMP_HEADER)), None)
    exif_seg = next((s for s in segments
                     if s.marker == 0xE1 and s.payload.startswith(EXIF_HEADER)), None)
    try:
        merged = xmp.merge_report(xmp_seg.payload[len(XMP_HEADER):] if xmp_seg else None, data,
                                  previous=previous)
        packet = merged.body
    except xmp.XmpError as exc:
        raise WriteBackError(errno.EINVAL, f"{path}: its XMP cannot be read ({exc}); "
                             "not written") from exc
    if len(packet) > MAX_XMP_PACKET:
        raise WriteBackError(errno.EFBIG, f"{path}: the XMP would be {len(packet)} bytes, "
                             f"more than one JPEG segment holds ({MAX_XMP_PACKET}); use "
                             "sidecars for this photo")
    try:
        exif_payload, description, keywords, exif_written = _edit_exif(
            exif_seg.payload if exif_seg else None, data, previous_exif or xmp.XmpData())
    except (ValueError, struct.error) as exc:
        raise WriteBackError(errno.EINVAL, f"{path}: its EXIF cannot be read ({exc}); "
                             "not written") from exc
    if exif_payload is not None and len(exif_payload) > MAX_SEGMENT:
        raise WriteBackError(errno.EFBIG, f"{path}: the EXIF would not fit one segment")
    new_xmp = Segment(0xE1, -1, XMP_HEADER + packet)
    new_exif = Segment(0xE1, -1, exif_payload) if exif_payload is not None else None
    # New segments go after EXIF (XMP) or after APP0/JFIF (both), else right after SOI.
    anchor = exif_seg or next((s for s in segments if s.marker == 0xE0), None)
    inserted = b""
    if new_exif is not None and exif_seg is None:
        inserted += new_exif.raw()
    if xmp_seg is None:
        inserted += new_xmp.raw()
    out = bytearray(b"\xff\xd8")
    if anchor is None:
        out += inserted
    pos = 2
    for seg in segments:
        out += original[pos:seg.start]   # fill bytes between segments: as they were
        end = seg.start + 4 + len(seg.payload)
        if seg is exif_seg and new_exif is not None:
            out += new_exif.raw()
        elif seg is xmp_seg:
            out += new_xmp.raw()
        else:
            out += original[seg.start:end]
        if seg is anchor:
            out += inserted
        pos = end
    out += original[pos:]
    new = bytes(out)
    _verify_jpeg(path, original, new, merged.expected, description, keywords)
    if new != original:
        _atomic_write(path, new, keep_times_of=path, read_as=read_as)
        with open(path, "rb") as fh:
            if fh.read() != new:
                raise WriteBackError(errno.EIO, f"{path} does not read back as written")
    return Written(new, merged.written, exif_written)


def _verify_jpeg(path: str, original: bytes, new: bytes, expected: xmp.XmpData,
                 description: str | None, keywords: list[str]) -> None:
    """Before anything replaces the file: the scan data and every segment we did not mean to
    change are identical, and ours parse back to what was meant."""
    old_segs, old_scan = jpeg_segments(original)
    new_segs, new_scan = jpeg_segments(new)
    problem = None
    if original[old_scan:] != new[new_scan:]:
        problem = "the image data would change"

    def others(segs: list[Segment]) -> list[bytes]:
        return [s.raw() for s in segs if not (s.marker == 0xE1 and (
            s.payload.startswith(XMP_HEADER) or s.payload.startswith(EXIF_HEADER)))]

    if problem is None and others(old_segs) != others(new_segs):
        problem = "other segments would change"
    if problem is None:
        packet = next((s.payload[len(XMP_HEADER):] for s in new_segs
                       if s.marker == 0xE1 and s.payload.startswith(XMP_HEADER)), None)
        exif = next((s.payload for s in new_segs
                     if s.marker == 0xE1 and s.payload.startswith(EXIF_HEADER)), None)
        try:
            if packet is None or xmp.parse(packet).owned() != expected.owned():
                problem = "its XMP would not read back as written"
            elif exif is not None:
                desc, keys = read_exif_texts(exif)
                if (desc or None) != (description or None) or \
                        _split_keywords(keys) != keywords:
                    problem = "its EXIF would not read back as written"
        except (ValueError, struct.error) as exc:
            problem = f"it would not read back ({exc})"
    if problem is not None:
        raise WriteBackError(errno.EIO, f"{path}: {problem}; not written")
