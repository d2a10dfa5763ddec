"""Decode a photo once, at the smallest resolution every stage can use, oriented upright.

JPEGs are decoded with DCT scaling (Pillow's ``draft``): asking for 1/8 of a 12 MP image costs
a fraction of a full decode. RAW files are shown through the JPEG preview the camera embedded.
Other formats cannot be scaled while they are read (Pillow decodes PNG, TIFF, WebP and HEIF
whole), so their full-size pixels are shrunk right after reading, a strip at a time, and the
full-size pixels of all decodes in the process together are bounded (``PIXELS``).

The photo's metadata is read while it is open, before its pixels are: the kernel reads its
format, size and orientation, the plugins' metadata readers (kernel/meta.py) the rest.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import threading
import warnings
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError, _imaging

from glimpse_desktop.kernel import plugins, raw
from glimpse_desktop.kernel.meta import (
    MetadataReader,
    PhotoMeta,
    PhotoSource,
    read_metadata,
    to_int,
)

pillow_heif.register_heif_opener()
# A file that declares more pixels than this is refused before decoding (decompression bombs).
# 250 MP is above every camera sold (the largest are ~200 MP) and below what would exhaust a
# laptop's memory; stitched panoramas beyond it are reported, not silently skipped.
MAX_PIXELS = 250_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Pillow warns between the limit and twice the limit; in Glimpse that is a refusal too.
warnings.simplefilter("error", Image.DecompressionBombWarning)
# Pillow warns (UserWarning) about junk EXIF it skips; the metadata code copes, and worker
# threads must not spray warnings on the person's terminal.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
# Truncated files are errors, not half-grey thumbnails.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Full-size pixels decoded by all threads together (ingestion's workers, thumbnails made on
# demand, the viewer, captions): ~512 MB at Pillow's 4 bytes per RGB pixel. A 225 MP PNG is
# 687 KB on disk but ~860 MB decoded, so file bytes say nothing about it; the header does.
IN_FLIGHT_PIXELS = 128_000_000
# Pillow keeps an image's pixels in blocks of this size. Blocks larger than the C allocator's
# mmap threshold (at most 32 MB in glibc) go back to the system as soon as the image is freed;
# smaller ones stay in the freeing thread's malloc arena, so each worker that had decoded a
# panorama would keep its own ~1 GB of freed memory, and the peak would grow with the workers.
if "PILLOW_BLOCK_SIZE" not in os.environ:  # the person's own tuning wins
    _imaging.set_block_size(64 * 1024**2)
# Full-size rows converted and shrunk at a time: the conversion never holds a second
# full-size copy.
_STRIP_PIXELS = 4_000_000

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff", ".webp", ".gif", ".bmp",
     ".heic", ".heif", ".hif", ".avif"}
)
SUPPORTED_EXTENSIONS = IMAGE_EXTENSIONS | raw.RAW_EXTENSIONS
_FORMATS = {"JPEG", "MPO", "PNG", "TIFF", "WEBP", "GIF", "BMP", "HEIF", "AVIF", "DIB"}

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_T_ORIENTATION = 0x0112
# How JPEG and PNG files begin: never a RAW container.
_ORDINARY_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


class Budget:
    """An allowance (bytes of files, decoded pixels) that threads draw from, in turn.

    First come, first served: a large request waiting for the others to finish is not
    overtaken for ever by small ones. A request larger than the limit takes all of it, so it
    runs alone."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._queue: deque[object] = deque()
        self._cond = threading.Condition()

    def acquire(self, n: int) -> int:
        """Wait for ``n`` (at most the limit) to be free and take it; returns what was taken."""
        n = max(0, min(n, self.limit))
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            try:
                while self._queue[0] is not ticket or (self._used and
                                                       self._used + n > self.limit):
                    self._cond.wait()
            except BaseException:
                self._queue.remove(ticket)
                self._cond.notify_all()
                raise
            self._queue.popleft()
            self._used += n
            self._cond.notify_all()  # the next in line may fit beside this one
        return n

    def release(self, n: int) -> None:
        with self._cond:
            self._used -= n
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        """How many requests are waiting for their turn."""
        with self._cond:
            return len(self._queue)

    @contextlib.contextmanager
    def hold(self, n: int) -> Iterator[None]:
        taken = self.acquire(n)
        try:
            yield
        finally:
            self.release(taken)


# One budget for every decode in the process, whoever asks: a thumbnail made on demand waits
# behind a panorama being indexed rather than decoding beside it.
PIXELS = Budget(IN_FLIGHT_PIXELS)


class DecodeError(Exception):
    """The file cannot be turned into pixels; the message is shown to the person as is."""


class UnsupportedError(DecodeError):
    """A file Glimpse recognises but cannot show (for example a RAW without a preview).

    ``meta``: what the file says about itself (date, camera, position), read without its
    pixels, when it says anything: the library keeps it with the unsupported file."""

    def __init__(self, message: str, meta: PhotoMeta | None = None) -> None:
        super().__init__(message)
        self.meta = meta


@dataclass
class Decoded:
    """One photo, decoded once: the pixels every stage shares and its metadata."""

    image: Image.Image  # RGB, oriented upright, at least as large as the stages asked for
    meta: PhotoMeta


@dataclass(frozen=True)
class SizeRequest:
    """The smallest decode that serves every stage: minimum long and short edge in pixels."""

    long_edge: int = 0
    short_edge: int = 0

    def union(self, other: SizeRequest) -> SizeRequest:
        return SizeRequest(max(self.long_edge, other.long_edge),
                           max(self.short_edge, other.short_edge))


def _draft_box(width: int, height: int, want: SizeRequest) -> tuple[int, int]:
    """The (w, h) to pass to ``Image.draft`` so both edges stay at least what was asked."""
    long_side, short_side = max(width, height), min(width, height)
    scale = max(want.long_edge / long_side, want.short_edge / short_side, 0.0)
    return max(1, int(width * scale + 0.999)), max(1, int(height * scale + 0.999))


_SRGB = ImageCms.createProfile("sRGB")
_transforms: dict[bytes, Any] = {}
_transforms_lock = threading.Lock()


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert wide-gamut photos (Display P3 from phones, Adobe RGB) so colours look right."""
    if not icc or img.mode != "RGB":
        return img
    key = icc[:2048] + len(icc).to_bytes(8, "little")
    with _transforms_lock:
        transform = _transforms.get(key)
        if transform is None and len(_transforms) < 64:
            try:
                src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                desc = ImageCms.getProfileDescription(src).strip().lower()
                transform = (
                    False if desc.startswith("srgb")
                    else ImageCms.buildTransform(src, _SRGB, "RGB", "RGB")
                )
            except (ImageCms.PyCMSError, OSError, ValueError):
                transform = False
            _transforms[key] = transform
    if not transform:
        return img
    try:
        result = ImageCms.applyTransform(img, transform)
    except (ImageCms.PyCMSError, ValueError):
        return img
    return result if result is not None else img


_WIDE_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})


def _sample_max(img: Image.Image) -> int:
    """The largest value a sample of a 16-bit (or 32-bit integer) image can hold, as the file
    declares it: a 12-bit scan kept in 16-bit samples says so in BitsPerSample or
    MaxSampleValue, and scaling by 65535 would turn it nearly black."""
    tags: Any = getattr(img, "tag_v2", None)
    bits = 32 if img.mode == "I" and tags is not None else 16
    signed = False
    if tags is not None:
        try:
            declared = tags.get(258)  # BitsPerSample, one per sample
            if declared:
                bits = int(max(declared) if isinstance(declared, tuple) else declared)
            fmt = tags.get(339)  # SampleFormat: 2 is signed
            signed = (max(fmt) if isinstance(fmt, tuple) else fmt) == 2
            top = tags.get(281)  # MaxSampleValue
            top = max(top) if isinstance(top, tuple) else top
            if isinstance(top, int) and 0 < top < (1 << bits):
                return top
        except (TypeError, ValueError):
            pass  # a garbled tag: the mode's own range
    bits = min(max(bits, 1), 32)
    return (1 << (bits - 1 if signed else bits)) - 1


def _to_rgb(img: Image.Image, sample_max: int = 65535) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in _WIDE_MODES:
        # 16-bit (and 32-bit) samples: scaled to 8 bits by the range the file declares,
        # neither clipped (every pixel above 255 would turn white) nor cut to the high byte.
        samples = np.asarray(img).astype(np.float32)
        scaled = np.clip(samples * (255.0 / sample_max) + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(scaled, "L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _reduce_factor(size: tuple[int, int], want: SizeRequest) -> int:
    """The largest whole factor that shrinks ``size`` while both edges stay what was asked."""
    factors = []
    if want.long_edge:
        factors.append(max(size) // want.long_edge)
    if want.short_edge:
        factors.append(min(size) // want.short_edge)
    return max(1, min(factors)) if factors else 1


def _rgb_pixels(img: Image.Image, want: SizeRequest) -> Image.Image:
    """``img`` (loaded) as RGB, shrunk by the largest whole factor that still serves ``want``.

    The conversion and the shrinking go a strip of rows at a time, so only the strip exists
    twice: besides the full-size pixels there is never a second full-size copy."""
    factor = _reduce_factor(img.size, want)
    if img.mode == "RGB" and factor == 1:
        # The same pixels, detached from the opened file (the caller closes it) without a
        # full-size copy; pixels mapped from the file itself must be copied.
        return img.copy() if img.readonly else img._new(img.im)
    sample_max = _sample_max(img) if img.mode in _WIDE_MODES else 65535
    width, height = img.size
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    # Strips start on multiples of the factor, so their reductions tile the whole one.
    rows = max(1, _STRIP_PIXELS // (width * factor)) * factor
    for top in range(0, height, rows):
        strip = _to_rgb(img.crop((0, top, width, min(height, top + rows))), sample_max)
        out.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return out


def _decoded_pixels(img: Image.Image, want: SizeRequest) -> int:
    """How many full-size pixels decoding ``img`` holds, known from its header alone: JPEGs
    are decoded at the DCT scale ``draft`` will pick, the rest whole."""
    width, height = img.size
    if img.format in ("JPEG", "MPO") and (want.long_edge or want.short_edge):
        box = _draft_box(width, height, want)
        scale = min(width // box[0], height // box[1])
        step = next((s for s in (8, 4, 2) if scale >= s), 1)
        return -(-width // step) * -(-height // step)
    return width * height


def decode(data: bytes, path: str, *, want: SizeRequest, mtime: float | None = None,
           budget: Budget | None = None) -> Decoded:
    """Decode ``data`` (the bytes of the file at ``path``) once, for every stage.

    The pixels come back at least as large as ``want`` (whole when it asks for nothing), as
    small as a whole-factor reduction allows. The full-size pixels are drawn from ``budget``
    (the process's ``PIXELS`` unless given) while they exist.

    Raises DecodeError (or UnsupportedError) with a message a person can act on.
    """
    if mtime is None:
        mtime = os.stat(path).st_mtime
    ext = os.path.splitext(path)[1].lower()
    exif: Image.Exif | None = None
    full_size: tuple[int, int] | None = None
    orientation_override: int | None = None
    source = data
    developed: Image.Image | None = None
    # A RAW by its name or by its content; a JPEG or PNG named as a RAW (a converter's
    # mistake, a renamed file) is read by its content, as any misnamed photo is.
    is_raw = ((ext in raw.RAW_EXTENSIONS and not data.startswith(_ORDINARY_MAGIC))
              or raw.looks_raw(data))
    if is_raw:
        try:
            found = raw.open_raw(data, long_edge=want.long_edge, short_edge=want.short_edge,
                                 budget=PIXELS if budget is None else budget,
                                 max_pixels=MAX_PIXELS)
        except raw.RawError as exc:
            # No picture to show (no preview, sensor data cut off, damaged): kept as a file
            # that cannot be shown when what it says about itself can still be read.
            meta = _read_without_pixels(data, path, mtime)
            if meta is not None:
                _raw_format(meta, path)
            if meta is not None or isinstance(exc, raw.RawUnsupported):
                raise UnsupportedError(str(exc), meta) from exc
            raise DecodeError(str(exc)) from exc
        if found.encoded is not None:
            source = found.encoded
        elif found.pixels is not None:
            developed = Image.fromarray(found.pixels, "RGB")
        # The container's EXIF is read from ``data`` by the metadata readers (exiv2); the
        # kernel's orientation and size come from LibRaw, and the preview's own EXIF (if
        # any) must not turn it a second time.
        exif = Image.Exif()
        full_size = found.sensor_size
        orientation_override = found.orientation
    try:
        img = Image.open(io.BytesIO(source)) if developed is None else developed
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused: image too large, possible decompression bomb ({exc})") from exc
    except Image.DecompressionBombWarning as exc:
        raise DecodeError(f"refused: image too large, possible decompression bomb ({exc})") from exc
    except UnidentifiedImageError as exc:
        if not data:
            raise DecodeError("empty file (0 bytes)") from exc
        kept = _metadata_only(data, path, want, mtime, "its picture cannot be read")
        if kept is not None:
            return kept
        raise DecodeError("not an image, or an image format Glimpse does not read") from exc
    except (OSError, ValueError, SyntaxError, RuntimeError) as exc:
        kept = _metadata_only(data, path, want, mtime, f"unreadable image header: {exc}")
        if kept is not None:
            return kept
        raise DecodeError(f"unreadable image header: {exc}") from exc
    except MemoryError as exc:
        raise DecodeError("not enough memory to read this image's header") from exc
    except Exception as exc:  # see the note in _decode_opened
        raise DecodeError(f"unreadable image header ({type(exc).__name__}: {exc})") from exc
    try:
        decoded = _decode_opened(img, exif, full_size, orientation_override, want, mtime,
                                 PIXELS if budget is None else budget, path, data)
    finally:
        img.close()
    if is_raw:
        _raw_format(decoded.meta, path)
    return decoded


def _decode_opened(
    img: Image.Image,
    exif: Image.Exif | None,
    full_size: tuple[int, int] | None,
    orientation_override: int | None,
    want: SizeRequest,
    mtime: float,
    budget: Budget,
    path: str,
    data: bytes,
) -> Decoded:
    if img.format not in _FORMATS and exif is None:
        raise DecodeError(f"unsupported image format {img.format}")
    width, height = img.size
    if width <= 0 or height <= 0:
        raise DecodeError("image has no pixels")
    if width * height > MAX_PIXELS:
        raise DecodeError(
            f"refused: {width}x{height} is {width * height / 1e6:.0f} megapixels, over the "
            f"{MAX_PIXELS / 1e6:.0f} MP safety limit (possible decompression bomb)"
        )
    # Taken before the EXIF is read: for a PNG, Pillow decodes the whole image to find EXIF
    # that may follow the pixels. Given back once the full-size pixels are gone.
    with budget.hold(_decoded_pixels(img, want)):
        try:
            return _decode_held(img, exif, full_size, orientation_override, want, mtime,
                                path, data)
        finally:
            img.close()


def _decode_held(
    img: Image.Image,
    exif: Image.Exif | None,
    full_size: tuple[int, int] | None,
    orientation_override: int | None,
    want: SizeRequest,
    mtime: float,
    path: str,
    data: bytes,
) -> Decoded:
    width, height = img.size
    if exif is None:
        try:
            exif = img.getexif()
        except Exception:  # broken EXIF must not cost the photo
            exif = None
    elif full_size is None:
        # RAW: the sensor size from EXIF, not the preview's.
        try:
            sub = exif.get_ifd(0x8769)
            w, h = int(sub.get(0xA002, 0)), int(sub.get(0xA003, 0))
            if w > 0 and h > 0:
                full_size = (w, h)
        except Exception:
            full_size = None
    if img.format == "HEIF" or img.format == "AVIF":
        orientation_override = 1  # pillow-heif has already applied the rotation
    meta = _kernel_meta(img, exif, full_size, orientation_override)
    read_metadata(PhotoSource(path=path, data=data, image=img, exif=exif), meta,
                  metadata_readers(), mtime)
    icc = img.info.get("icc_profile")
    try:
        if img.format in ("JPEG", "MPO") and (want.long_edge or want.short_edge):
            img.draft("RGB", _draft_box(width, height, want))
        img.load()
        pixels = _to_srgb(_rgb_pixels(img, want), icc if isinstance(icc, bytes) else None)
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused: possible decompression bomb ({exc})") from exc
    except MemoryError as exc:
        raise DecodeError("not enough memory to decode this image") from exc
    except (OSError, ValueError, SyntaxError, EOFError, RuntimeError) as exc:
        # RuntimeError: libheif refusing a corrupt HEIC (absurd sizes found while decoding).
        pixels = _salvage(img, data, want, meta, f"corrupt or truncated image data: {exc}")
    except Exception as exc:
        # Hostile files reach corners of the decoders that fail with TypeError, IndexError,
        # struct.error...: still this file's fault, and still a clear message.
        pixels = _salvage(img, data, want, meta,
                          f"corrupt image data ({type(exc).__name__}: {exc})")
    transpose = _TRANSPOSE.get(meta.orientation if orientation_override is None
                               else orientation_override)
    if transpose is not None:
        pixels = pixels.transpose(transpose)
    return Decoded(image=pixels, meta=meta)


def _kernel_meta(img: Image.Image, exif: Image.Exif | None, full_size: tuple[int, int] | None,
                 orientation_override: int | None) -> PhotoMeta:
    """What the kernel reads itself, to turn and size the pixels: format, size (``full_size``,
    the stored size of a RAW's sensor, else the image's), orientation (``orientation_override``
    replaces the EXIF's: a RAW's preview, pixels pillow-heif has turned already)."""
    meta = PhotoMeta(format=img.format, mime=Image.MIME.get(img.format or "", None))
    tag = exif.get(_T_ORIENTATION) if exif is not None else None
    orientation = orientation_override or to_int(tag) or 1
    meta.orientation = orientation if 1 <= orientation <= 8 else 1
    width, height = full_size or img.size
    if meta.orientation >= 5:
        width, height = height, width
    meta.width, meta.height = width, height
    return meta


# The metadata readers, collected from the plugins once and kept with the hook's
# implementations they came from: a plugin registered later (a library opening, a test) is
# noticed by comparing those, without calling any hook per photo.
_readers: tuple[tuple[object, ...], tuple[MetadataReader, ...]] = ((), ())
_readers_lock = threading.Lock()


def metadata_readers() -> tuple[MetadataReader, ...]:
    """The metadata readers of the process's plugins, in plugin order (built-in first)."""
    global _readers
    host = plugins.host()
    impls = tuple(host.pm.hook.glimpse_metadata_readers.get_hookimpls())
    known, readers = _readers
    if len(impls) == len(known) and all(a is b for a, b in zip(impls, known, strict=True)):
        return readers
    with _readers_lock:
        readers = tuple(r for r in host.collect("glimpse_metadata_readers")
                        if isinstance(r, MetadataReader))
        _readers = (impls, readers)
    return readers


def read_exif(path: str) -> Image.Exif | None:
    """The EXIF of the file at ``path`` without decoding its pixels; None when unreadable.

    Pillow decodes a whole PNG to look for EXIF stored after the pixels (a 225 MP PNG: ~860
    MB, outside any budget); here the PNG's chunks are walked instead, the pixels skipped."""
    try:
        with Image.open(path) as img:
            if img.format != "PNG" or "exif" in img.info:
                return img.getexif()
        exif = Image.Exif()
        with open(path, "rb") as fh:
            fh.seek(8)  # the PNG signature
            while len(head := fh.read(8)) == 8:
                length, kind = struct.unpack(">I4s", head)
                if kind == b"eXIf":
                    exif.load(fh.read(length))
                    break
                if kind == b"IEND":
                    break
                fh.seek(length + 4, os.SEEK_CUR)  # the data and its CRC
        return exif
    except Exception:  # no EXIF worth keeping: the caller goes on without it
        return None


# The MIME types freedesktop's shared-mime-info (and exiv2, where it names one) give RAWs.
_RAW_MIME = {"DNG": "image/x-adobe-dng", "CR2": "image/x-canon-cr2", "CR3": "image/x-canon-cr3",
             "CRW": "image/x-canon-crw", "NEF": "image/x-nikon-nef",
             "NRW": "image/x-nikon-nrw", "ARW": "image/x-sony-arw", "SRF": "image/x-sony-srf",
             "SR2": "image/x-sony-sr2", "RAF": "image/x-fuji-raf",
             "ORF": "image/x-olympus-orf", "RW2": "image/x-panasonic-rw2",
             "RWL": "image/x-panasonic-rw2", "PEF": "image/x-pentax-pef",
             "SRW": "image/x-samsung-srw", "3FR": "image/x-hasselblad-3fr",
             "IIQ": "image/x-phaseone-iiq", "MRW": "image/x-minolta-mrw",
             "X3F": "image/x-sigma-x3f", "ERF": "image/x-epson-erf", "KDC": "image/x-kodak-kdc",
             "DCR": "image/x-kodak-dcr", "MOS": "image/x-leaf-mos",
             "MEF": "image/x-mamiya-mef"}


def _raw_format(meta: PhotoMeta, path: str) -> None:
    """A RAW is described as itself, not as the JPEG preview it is shown through."""
    kind = os.path.splitext(path)[1].lstrip(".").upper() or "RAW"
    meta.format = kind
    meta.mime = _RAW_MIME.get(kind, "image/x-raw")


# ---------------------------------------------------------------------------- damaged files

_GREY = (128, 128, 128)   # what libjpeg paints where a truncated JPEG's data ends
_EOI = b"\xff\xd9"


def _has_own_metadata(meta: PhotoMeta) -> bool:
    """Whether the file itself said something worth keeping: a date it states (not its
    name's, not its modification time), a camera or a position."""
    return (meta.taken_at_source not in (None, "file:mtime", "filename")
            or bool(meta.camera_make or meta.camera_model) or meta.gps_lat is not None)


def _grey(meta: PhotoMeta, want: SizeRequest) -> Image.Image:
    """A grey picture of the photo's shape, at the size the stages asked for."""
    width, height = meta.width or 4, meta.height or 3
    long_edge = max(want.long_edge, want.short_edge * 2, 64)
    scale = long_edge / max(width, height)
    return Image.new("RGB", (max(1, round(width * scale)), max(1, round(height * scale))),
                     _GREY)


def _salvage(img: Image.Image, data: bytes, want: SizeRequest, meta: PhotoMeta,
             reason: str) -> Image.Image:
    """The pixels of a file whose decoding failed, as far as they go, for a file whose
    metadata was read: a truncated JPEG decodes up to where its data ends (libjpeg paints the
    rest grey once it is given the end-of-image marker the file lost); any other file whose
    own metadata was read is kept with a grey picture. Either way it is marked damaged.

    Raises DecodeError(``reason``) when nothing is worth keeping."""
    if img.format in ("JPEG", "MPO") and data[:2] == b"\xff\xd8":
        try:
            with Image.open(io.BytesIO(data + _EOI)) as again:
                if want.long_edge or want.short_edge:
                    again.draft("RGB", _draft_box(*again.size, want))
                again.load()
                icc = again.info.get("icc_profile")
                pixels = _to_srgb(_rgb_pixels(again, want), icc if isinstance(icc, bytes)
                                  else None)
        except Exception:  # still undecodable: fall through to the grey picture
            pass
        else:
            meta.damaged = True
            meta.warnings.append("damaged: the file is truncated (it ends before its picture "
                                 "does); the part that decodes is shown, the rest grey")
            return pixels
    if not _has_own_metadata(meta):
        raise DecodeError(reason)
    meta.damaged = True
    meta.warnings.append(f"damaged: {reason}; what the file says about itself is kept")
    return _grey(meta, want)


def _read_without_pixels(data: bytes, path: str, mtime: float) -> PhotoMeta | None:
    """What a file whose picture cannot be read says about itself, read by the metadata
    readers from its bytes (exiv2 knows the container); None when it says nothing of its own
    (a date from its name or its modification time, nothing else)."""
    from glimpse_desktop.kernel import exiv

    try:
        found = exiv.from_bytes(data)
        mime = str(found.mimeType())
        size = (int(found.pixelWidth()), int(found.pixelHeight()))
    except (exiv.ExivError, *exiv.FAILURES):
        return None
    if mime in ("application/rdf+xml", "application/octet-stream"):
        return None   # an XMP sidecar, or a file exiv2 only guessed at: not a photo
    fmt = next((f for f, m in Image.MIME.items() if m == mime), None)
    placeholder = Image.new("RGB", (1, 1), _GREY)
    placeholder.format = fmt
    meta = PhotoMeta(format=fmt, mime=mime, width=size[0] or None, height=size[1] or None)
    read_metadata(PhotoSource(path=path, data=data, image=placeholder, exif=None), meta,
                  metadata_readers(), mtime)
    return meta if _has_own_metadata(meta) else None


def _metadata_only(data: bytes, path: str, want: SizeRequest, mtime: float,
                   reason: str) -> Decoded | None:
    """A file Pillow cannot open at all but exiv2 reads (a JPEG without its picture, a
    header Pillow refuses): its metadata and a grey picture, marked damaged; None when the
    file says nothing of its own (then it is not a photo worth keeping)."""
    meta = _read_without_pixels(data, path, mtime)
    if meta is None:
        return None
    meta.damaged = True
    meta.warnings.append(f"damaged: {reason}; what the file says about itself is kept")
    return Decoded(image=_grey(meta, want), meta=meta)
