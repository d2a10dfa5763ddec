"""Writing metadata to files: XMP sidecars beside photos, and (when asked) into the photos.

Every write is atomic (a temp file in the same folder, fsync, rename) and verified by reading
it back before it replaces anything; a failure leaves the old file exactly as it was.

The file formats are exiv2's (kernel/exiv.py): Glimpse merges (`xmp.merge_report` for the
XMP, `writeback.exif` for EXIF and IPTC: another app's values stay) and exiv2 writes.
Embedding writes into JPEG, PNG, WebP and TIFF (`EMBED_FORMATS`), on a copy of the photo in
its folder that replaces it only once exiv2 reads back what was meant and the pixels, every
other EXIF and IPTC value and every other XMP property are as they were. Never into camera
RAW files (an original no other tool may touch; DNG included), nor HEIF/AVIF/JPEG XL (exiv2
cannot write BMFF containers): those photos take sidecars.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import exiv2
from PIL import Image

from glimpse_desktop.kernel import exiv, raw
from glimpse_desktop.metadata import xmp
from glimpse_desktop.writeback import exif as exif_fields

__all__ = ["EMBED_FORMATS", "MAX_XMP_PACKET", "FolderNames", "WriteBackError", "Written",
           "can_embed", "embed", "read_embedded_xmp", "sidecar_path", "write_sidecar"]

# The formats written into, by extension, with the type exiv2 must find in the file.
EMBED_FORMATS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jpe": "image/jpeg",
                 ".jfif": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
                 ".tif": "image/tiff", ".tiff": "image/tiff"}
# XMP part 3: the main packet must fit one APP1 segment with its namespace header.
MAX_XMP_PACKET = 65502
_NOT_SUPPORTED = "writing into this format is not supported; use sidecars"


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
        _sync_folder(folder)
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
    if not _reads_as(merged.body, merged.expected):   # before anything replaces the old
        raise WriteBackError(errno.EIO, f"{path}: the merged XMP would not read back as "
                             "meant; not written")
    if merged.body != existing:
        _atomic_write(path, merged.body, read_as=read_as)
        _verify_sidecar(path, merged.expected)
    return Written(merged.body, merged.written)


def _exiv_reads(packet: bytes) -> xmp.XmpData:
    """What exiv2 (Adobe's XMP toolkit underneath) makes of an XMP document, in Glimpse's
    fields: parsed by exiv2, serialised again by it, then read. XmpError when exiv2 cannot
    read it."""
    try:
        image = exiv.from_bytes(packet)
    except exiv.ExivError as exc:
        raise xmp.XmpError(f"exiv2 cannot read it: {exc}") from exc
    if image.mimeType() != "application/rdf+xml":
        raise xmp.XmpError(f"exiv2 reads it as {image.mimeType()}, not XMP")
    if image.xmpData().empty():
        return xmp.XmpData()   # a document that says nothing (all of ours cleared)
    rc, text = exiv2.XmpParser.encode(image.xmpData(),
                                      exiv2.XmpParser.XmpFormatFlags.useCompactFormat)
    if rc != 0:
        raise xmp.XmpError("exiv2 cannot write it again")
    return xmp.parse(str(text))


def _reads_as(packet: bytes, expected: xmp.XmpData) -> bool:
    """Glimpse's reader and exiv2 both read ``packet`` as ``expected`` says."""
    try:
        want = expected.owned()
        return xmp.parse(packet).owned() == want and _exiv_reads(packet).owned() == want
    except xmp.XmpError:
        return False


def _verify_sidecar(path: str, expected: xmp.XmpData) -> None:
    try:
        with open(path, "rb") as fh:
            back = fh.read()
    except OSError as exc:
        raise WriteBackError(errno.EIO, f"{path} could not be read back: {exc}") from exc
    if not _reads_as(back, expected):
        raise WriteBackError(errno.EIO, f"{path} does not read back as written")



# ---------------------------------------------------------------------------- embedding

def can_embed(path: str) -> bool:
    """Whether write-back writes into this photo's own file (by its extension: the format
    is checked again on the file itself when it is written)."""
    return os.path.splitext(path)[1].lower() in EMBED_FORMATS


def read_embedded_xmp(path: str) -> bytes | None:
    """The XMP packet of a photo of a format written into, as exiv2 reads it; None when it
    has none or cannot be read (the metadata stage says what is wrong with such a file)."""
    if not can_embed(path):
        return None
    try:
        packet = exiv.from_path(path).xmpPacket()
    except (exiv.ExivError, UnicodeDecodeError):
        return None
    return packet.encode("utf-8") if packet and packet.strip() else None


# EXIF entries exiv2 lays out anew when it writes (offsets and pointers to other IFDs and to
# data it moves): their values may change without anything they point to changing.
_LAYOUT = ("Exif.Image.ExifTag", "Exif.Image.GPSTag", "Exif.Photo.InteroperabilityTag",
           "Exif.Image.SubIFDs", "Exif.Thumbnail.JPEGInterchangeFormat",
           "Exif.Image.StripOffsets", "Exif.Image.TileOffsets", "Exif.MakerNote.Offset",
           "Exif.Image.JPEGInterchangeFormat", "Exif.MakerNote.ByteOrder",
           "Exif.Image.XMLPacket")   # (a TIFF's XMP: compared as XMP)
# IFD0 tags of a TIFF's own pixels: in a JPEG, PNG or WebP's EXIF they describe nothing (the
# container says how its pixels are stored) and exiv2 drops them when it writes one; the
# pixels themselves are compared instead.
_STRUCTURE = tuple(f"Exif.Image.{t}" for t in (
    "ImageWidth", "ImageLength", "BitsPerSample", "Compression", "PhotometricInterpretation",
    "FillOrder", "SamplesPerPixel", "RowsPerStrip", "StripByteCounts", "PlanarConfiguration",
    "TileWidth", "TileLength", "TileByteCounts"))
# The XMP properties Glimpse writes (with `xmp.DATE_PROPERTIES`, `GPS_PROPERTIES` when set).
_OWNED_XMP = ("Xmp.dc.subject", "Xmp.dc.description", "Xmp.lr.hierarchicalSubject",
              "Xmp.xmp.Rating", "Xmp.mwg-rs.Regions", "Xmp.glimpse.", "Xmp.digiKam.PickLabel",
              "Xmp.tiff.Orientation")
_DATE_XMP = ("Xmp.exif.DateTimeOriginal", "Xmp.photoshop.DateCreated", "Xmp.xmp.CreateDate")


def _others(image: Any, mine: tuple[str, ...]) -> list[tuple[str, str]]:
    """Every EXIF, IPTC and XMP value of ``image`` that write-back does not set (``mine``:
    the prefixes of the keys it may set), as (key, text)."""
    out: list[tuple[str, str]] = []
    for data in (image.exifData(), image.iptcData(), image.xmpData()):
        for datum in data:
            key = str(datum.key())
            if key in _LAYOUT or key.startswith(mine):
                continue
            try:
                text = str(datum.toString())
            except (UnicodeError, *exiv.FAILURES):
                text = "?"
            out.append((key, text))
    return sorted(out)


def _mine(data: xmp.XmpData, mime: str) -> tuple[str, ...]:
    keys: tuple[str, ...] = (*_OWNED_XMP, *exif_fields.GLIMPSE_KEYS)
    if mime != "image/tiff":
        keys += _STRUCTURE
    if data.taken_at is not None:
        keys += _DATE_XMP
    if data.gps is not None or data.clear_gps:
        keys += ("Xmp.exif.GPS", exif_fields.GPS)
    return keys


def _pixels(data: bytes) -> str | None:
    """A digest of every frame's decoded pixels (None when Pillow cannot decode them)."""
    digest = hashlib.sha256()
    try:
        with Image.open(io.BytesIO(data)) as im:
            for frame in range(getattr(im, "n_frames", 1)):
                im.seek(frame)
                digest.update(f"{im.mode} {im.size}".encode())
                digest.update(im.tobytes())
    except Exception:  # Pillow raises many types for a file it cannot decode
        return None
    return digest.hexdigest()


@dataclass
class _Plan:
    """A change written into the temp copy, and what it must read back as."""

    merged: xmp.Merged
    exif: xmp.XmpData                  # what of EXIF's fields is Glimpse's now
    others: list[tuple[str, str]]      # every value it must not change
    fields: tuple[Any, ...]            # EXIF/IPTC fields as they must read back
    mine: tuple[str, ...]
    iptc: bool                         # IPTC was changed (Photoshop's digest is stale)
    wrote: bool                        # False: nothing to change, nothing was written


def _fields(edit: exif_fields.ExifEdit) -> tuple[Any, ...]:
    return (exif_fields.texts(edit), xmp.same_date(exif_fields.taken(edit)),
            xmp.same_place(exif_fields.place(edit)), edit.get(exif_fields.IPTC_DATE),
            edit.get(exif_fields.IPTC_TIME), edit.get(exif_fields.ORIENTATION))


def embed(path: str, data: xmp.XmpData, previous: xmp.XmpData | None = None,
          previous_exif: xmp.XmpData | None = None) -> Written:
    """Write ``data`` into the photo at ``path`` (a format of `EMBED_FORMATS`): its XMP,
    its EXIF ImageDescription/XPKeywords, and the date and place the person set, merged
    (``previous``, ``previous_exif``: what Glimpse wrote there before, `Written.record` and
    `Written.exif`); the pixels, every other value and the file's mtime stay. WriteBackError
    says why not (nothing is changed then). A file another app writes meanwhile is merged
    again (once)."""
    try:
        return _embed(path, data, previous, previous_exif)
    except _Changed:
        return _embed(path, data, previous, previous_exif)


def _embed(path: str, data: xmp.XmpData, previous: xmp.XmpData | None,
           previous_exif: xmp.XmpData | None) -> Written:
    mime = EMBED_FORMATS.get(os.path.splitext(path)[1].lower())
    if mime is None:
        raise WriteBackError(errno.EINVAL, f"{path}: {_NOT_SUPPORTED}")
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
    if mime == "image/tiff" and raw.looks_raw(original):
        # A camera RAW with a TIFF name (DNG and most RAWs are TIFF inside): never written.
        raise WriteBackError(errno.EINVAL, f"{path} is a camera RAW file: not written into; "
                             "its sidecar holds what Glimpse writes")
    folder = os.path.dirname(path) or "."
    tmp: str | None = None
    try:
        # exiv2 writes a file in place: it writes our copy, beside the photo (the rename
        # that replaces the photo stays on one disk).
        fd, tmp = tempfile.mkstemp(prefix=".glimpse-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(original)
        with exiv.write_lock:
            plan = _write_into(tmp, path, mime, data, previous, previous_exif)
        if not plan.wrote:   # it already says all this: the file stays byte for byte
            return Written(original, plan.merged.written, plan.exif)
        if plan.iptc and mime == "image/jpeg":
            _refresh_iptc_digest(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
            new = fh.read()
        os.chmod(tmp, st.st_mode & 0o7777)
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        _verify_embedded(path, tmp, mime, original, new, plan)
        if _signature(path) != read_as:
            raise _Changed(errno.EAGAIN, f"{path} was changed by another app while it was "
                           "being written; not written (it is merged again next time)")
        os.replace(tmp, path)
        tmp = None
        _sync_folder(folder)
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
    try:
        with open(path, "rb") as fh:
            same = fh.read() == new
    except OSError:
        same = False
    if not same:
        raise WriteBackError(errno.EIO, f"{path} does not read back as written")
    return Written(new, plan.merged.written, plan.exif)


def _sync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable (its directory entry synced)."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename is done all the same


def _write_into(tmp: str, path: str, mime: str, data: xmp.XmpData,
                previous: xmp.XmpData | None, previous_exif: xmp.XmpData | None) -> _Plan:
    """Merge ``data`` into the copy at ``tmp`` and have exiv2 write it (unless it already
    says all of it). Run under `exiv.write_lock`."""
    try:
        image = exiv.from_path(tmp)
    except exiv.ExivError as exc:
        raise WriteBackError(errno.EINVAL, f"{path}: exiv2 cannot read it ({exc}); "
                             "not written") from exc
    if image.mimeType() != mime:
        raise WriteBackError(errno.EINVAL, f"{path} holds {image.mimeType()}, not "
                             f"{mime}: not written into; use sidecars")
    mine = _mine(data, mime)
    others = _others(image, mine)
    try:
        packet = image.xmpPacket()
        merged = xmp.merge_report(packet or None, data, previous=previous)
    except (xmp.XmpError, UnicodeDecodeError) as exc:
        raise WriteBackError(errno.EINVAL, f"{path}: its XMP cannot be read ({exc}); "
                             "not written") from exc
    if mime == "image/jpeg" and len(merged.body) > MAX_XMP_PACKET:
        raise WriteBackError(errno.EFBIG, f"{path}: the XMP would be {len(merged.body)} "
                             f"bytes, more than one JPEG segment holds ({MAX_XMP_PACKET}); "
                             "use sidecars for this photo")
    edit = exif_fields.ExifEdit(image, iptc_dates=mime == "image/jpeg"
                                and image.iptcData().count() > 0)
    written_exif = exif_fields.merge_exif(edit, data, previous_exif or xmp.XmpData())
    plan = _Plan(merged, written_exif, others, _fields(edit), mine,
                 iptc=any(k.startswith("Iptc.") for k in edit.touched),
                 wrote=merged.changed or edit.changed)
    if not plan.wrote:
        return plan
    try:
        if merged.changed:
            image.setXmpPacket(merged.body.decode("utf-8"))
        image.writeMetadata()
    except exiv.FAILURES as exc:
        raise WriteBackError(errno.EIO, _exiv_reason(exc, path, tmp)) from exc
    return plan


def _exiv_reason(exc: Exception, path: str, tmp: str) -> str:
    """exiv2's failure to write, in words: a full disk said as such (exiv2 only says it
    could not write)."""
    try:
        vfs = os.statvfs(os.path.dirname(tmp) or ".")
        full = vfs.f_bavail * vfs.f_frsize < os.path.getsize(tmp) + 65536
    except OSError:
        full = False
    if full:
        return f"the disk holding {path} is full: nothing was changed"
    reason = exc.args[1] if len(exc.args) > 1 else exc
    return f"{path}: exiv2 could not write it ({reason}); " \
        "nothing was changed"


def _verify_embedded(path: str, tmp: str, mime: str, original: bytes, new: bytes,
                     plan: _Plan) -> None:
    """Before anything replaces the photo: exiv2 reads the copy as the same format with
    Glimpse's values as meant, every other value as it was, and the pixels are the same."""
    problem = None
    try:
        image = exiv.from_path(tmp)
        if image.mimeType() != mime:
            problem = f"it would read as {image.mimeType()}"
        elif (others := _others(image, plan.mine)) != plan.others:
            end = [("", "")]
            key = next((a[0] or b[0] for a, b in zip([*plan.others, *end], [*others, *end],
                                                      strict=False) if a != b), "")
            problem = f"other metadata would change ({key})"
        elif plan.merged.changed and xmp.parse(image.xmpPacket()).owned() != \
                plan.merged.expected.owned():
            problem = "its XMP would not read back as written"
        elif _fields(exif_fields.ExifEdit(image)) != plan.fields:
            problem = "its EXIF would not read back as written"
    except (exiv.ExivError, xmp.XmpError, UnicodeDecodeError) as exc:
        problem = f"it would not read back ({exc})"
    if problem is None:
        before = _pixels(original)
        if before is None:
            problem = "its pixels cannot be decoded to check them"
        elif _pixels(new) != before:
            problem = "the image data would change"
    if problem is not None:
        raise WriteBackError(errno.EIO, f"{path}: {problem}; not written")


def _refresh_iptc_digest(path: str) -> None:
    """Photoshop's IPTCDigest (image resource 0x0425: the MD5 of the IPTC block, 0x0404)
    made current after exiv2 changed the IPTC in a JPEG: exiv2 leaves it stale, and a stale
    digest makes ExifTool and MWG readers take the IPTC for another app's newer edit.
    Patched in place (same length); a layout not understood is left as it is."""
    with open(path, "rb+") as fh:
        data = fh.read(1024 * 1024)
        at = data.find(b"\xff\xed")
        while at >= 0 and data[at + 4:at + 18] != b"Photoshop 3.0\x00":
            at = data.find(b"\xff\xed", at + 2)
        if at < 0 or at + 4 > len(data):
            return
        end = at + 2 + int.from_bytes(data[at + 2:at + 4], "big")
        pos = at + 18
        iptc: bytes | None = None
        digest_at = -1
        while pos + 12 <= min(end, len(data)) and data[pos:pos + 4] == b"8BIM":
            rid = int.from_bytes(data[pos + 4:pos + 6], "big")
            name = data[pos + 6]
            pos += 6 + ((name + 2) & ~1)
            size = int.from_bytes(data[pos:pos + 4], "big")
            pos += 4
            if rid == 0x0404:
                iptc = data[pos:pos + size]
            elif rid == 0x0425 and size == 16:
                digest_at = pos
            pos += size + (size & 1)
        if iptc is None or digest_at < 0 or digest_at + 16 > end:
            return
        fh.seek(digest_at)
        fh.write(hashlib.md5(iptc).digest())
