"""Camera RAW files, shown through LibRaw (rawpy) and exiv2's preview manager.

Every camera stores a ready-made JPEG rendering of the shot inside its RAW file; that preview
is what Glimpse shows, thumbnails and indexes, as Lightroom and digiKam do. It is found by:

1. LibRaw (``extract_thumb``): the largest preview LibRaw knows for the camera (a JPEG, or
   for some older cameras an RGB bitmap), in every container LibRaw 0.22 reads;
2. exiv2's ``PreviewManager`` when LibRaw finds none or cannot open the file (exiv2 reads
   previews LibRaw does not, e.g. in CR3 files whose sensor data it refuses), the largest by
   width x height, checked to be a picture of the size it claims;
3. when neither holds one large enough for what the caller asked, LibRaw *develops* the
   sensor data (``postprocess``: half size when that is enough, camera white balance, 8
   bits), drawing its memory from the caller's pixel budget.

Neither the preview nor the developed pixels are turned here: the orientation (LibRaw's
``flip``, or exiv2's ``Exif.Image.Orientation`` when LibRaw cannot open the file) is
returned for the caller to apply once. The sensor size returned is LibRaw's visible area
(or EXIF's PixelXDimension/PixelYDimension), before that orientation.

The input is untrusted: every LibRaw and exiv2 failure becomes ``RawError`` (or
``RawUnsupported`` for a RAW Glimpse recognises but cannot show) with a message for the
person. LibRaw prints some data errors ("unknown file: data corrupted at 1378", "Unexpected
end of file") on the process's C stderr itself: rawpy 0.28 exposes no way to replace
LibRaw's data-error callback, and redirecting fd 2 around the call would swallow every other
thread's messages, so those lines stay.

LibRaw is built with OpenMP: its bundled libgomp reads ``OMP_NUM_THREADS`` once, when it
loads, so the count is set (to ``threads.budget().libraw``) for the import of rawpy only; it
runs on the decode workers, which are the parallelism already.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from glimpse_desktop.kernel import threads

__all__ = [
    "RAW_EXTENSIONS",
    "RawError",
    "RawImage",
    "RawUnsupported",
    "looks_raw",
    "open_raw",
]

_import_lock = threading.Lock()


def _import_rawpy() -> Any:
    with _import_lock:
        saved = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(threads.budget().libraw)
        try:
            import rawpy
        finally:
            if saved is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = saved
    return rawpy


_rawpy: Any = None


def _libraw() -> Any:
    """rawpy, imported with the first RAW read (LibRaw and exiv2 cost every command ~40 ms
    of start-up; most never meet a RAW)."""
    global _rawpy
    if _rawpy is None:
        _rawpy = _import_rawpy()
    return _rawpy

# The containers LibRaw 0.22 reads, by their usual extensions.
RAW_EXTENSIONS: frozenset[str] = frozenset({
    ".dng",  # Adobe, and Leica/Pentax/Ricoh/phones that write DNG natively
    ".cr2", ".cr3", ".crw",  # Canon
    ".nef", ".nrw",  # Nikon
    ".arw", ".srf", ".sr2",  # Sony
    ".raf",  # Fujifilm
    ".orf",  # Olympus / OM System
    ".rw2", ".rwl",  # Panasonic, Leica (Panasonic-made)
    ".pef",  # Pentax
    ".srw",  # Samsung
    ".3fr",  # Hasselblad
    ".iiq",  # Phase One
    ".mrw",  # Minolta
    ".x3f",  # Sigma
    ".erf",  # Epson
    ".kdc", ".dcr",  # Kodak
    ".mos",  # Leaf
    ".mef",  # Mamiya
})

# LibRaw's flip (dcraw's) -> the EXIF orientation it was made from.
_FLIP_TO_ORIENTATION = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}

# Magic numbers that only RAW containers use.
_RAW_MAGIC = (
    (0, b"IIRO"), (0, b"IIRS"), (0, b"MMOR"),  # Olympus ORF
    (0, b"IIU\x00"),  # Panasonic RW2/RWL
    (0, b"FUJIFILMCCD-RAW"),  # Fujifilm RAF
    (0, b"II\x1a\x00\x00\x00HEAPCCDR"),  # Canon CRW (CIFF)
    (0, b"\x00MRM"),  # Minolta MRW
    (0, b"FOVb"),  # Sigma X3F
    (4, b"ftypcrx "),  # Canon CR3 (ISO-BMFF)
)
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")
# TIFF values only RAW files use (as exiv2's TiffImage::mimeType and dcraw tell them apart).
_RAW_COMPRESSIONS = frozenset({32767, 32769, 32770, 32772, 32773, 34316, 34713, 34892,
                               65000, 65535})
_RAW_PHOTOMETRICS = frozenset({32803, 34892})  # CFA, LinearRaw

# A RAW stores at least a few bits per sensor pixel, even lossy-compressed (~3); a file with
# less than 1/8 of a bit per pixel has lost its sensor data (cut short, or stripped as test
# suites do), and developing it would show a black or garbled picture as if it were the photo.
_MIN_BITS_PER_PIXEL = 1 / 8
# An embedded picture of w x h pixels stored in fewer than w*h/2000 bytes is a placeholder
# (stripped files keep tags that describe previews whose data is gone).
_MIN_PREVIEW_BYTES_PER_PIXEL = 1 / 2000
# The smallest previews cameras write are EXIF's 160 x 120 thumbnails; stripped files keep
# 1 x 1 and 8 x 8 stand-ins, which are not a picture of the photo.
_MIN_PREVIEW_EDGE = 100


class RawError(Exception):
    """The RAW file cannot be shown; the message is for the person, as is."""


class RawUnsupported(RawError):
    """A RAW file Glimpse recognises but cannot show (no preview, sensor data it cannot read)."""


class _CutShort(RawUnsupported):
    """The sensor data ends early: the file was cut short (or stripped of its image data).
    Its small preview is not shown in its stead: a stand-in cached as the photo's thumbnail
    would outlive the copy being completed."""


class Budget(Protocol):
    """An allowance of decoded pixels (``kernel.decode.Budget``)."""

    def hold(self, n: int) -> contextlib.AbstractContextManager[None]: ...


@dataclass(frozen=True, slots=True)
class RawImage:
    """What a RAW file is shown through: exactly one of ``encoded`` and ``pixels``.

    ``encoded``: an embedded preview as stored (JPEG, or a TIFF exiv2 rebuilt), to be decoded
    by the caller (at the DCT scale it needs). ``pixels``: RGB, 8 bits, (height, width, 3):
    LibRaw's bitmap preview, or the developed sensor data. ``orientation``: EXIF 1-8, not yet
    applied to either. ``sensor_size``: (width, height) of the sensor's picture before
    orientation, None when unknown. ``source``: "libraw" (LibRaw's preview), "exiv2" (exiv2's
    preview) or "developed"."""

    encoded: bytes | None
    pixels: NDArray[np.uint8] | None
    orientation: int
    sensor_size: tuple[int, int] | None
    source: str


@dataclass(frozen=True, slots=True)
class _Preview:
    encoded: bytes | None
    pixels: NDArray[np.uint8] | None
    width: int
    height: int
    source: str


def looks_raw(data: bytes) -> bool:
    """Whether ``data`` is a camera RAW rather than an ordinary image, whatever its name.

    Meant for files whose extension lies (a NEF saved as .tif); cheap for every format but
    TIFF, which is asked of exiv2 (a TIFF is a RAW when it declares a DNG version, a colour
    filter array or a maker's RAW compression in any of its IFDs). Never raises."""
    head = bytes(data[:32])
    if any(head[at:at + len(magic)] == magic for at, magic in _RAW_MAGIC):
        return True
    if head[:4] not in _TIFF_MAGIC:
        return False
    if head[8:10] == b"CR":
        return True  # Canon CR2's header extension
    from glimpse_desktop.kernel import exiv

    try:
        image = exiv.from_bytes(data)
        exif = image.exifData()
        for datum in exif:
            key = datum.key()
            if key == "Exif.Image.DNGVersion":
                return True
            if key.endswith(".Compression") and datum.toInt64(0) in _RAW_COMPRESSIONS:
                return True
            if (key.endswith(".PhotometricInterpretation")
                    and datum.toInt64(0) in _RAW_PHOTOMETRICS):
                return True
    except (exiv.ExivError, *exiv.FAILURES):
        return False
    return False


def open_raw(data: bytes, *, long_edge: int = 0, short_edge: int = 0, budget: Budget,
             max_pixels: int) -> RawImage:
    """How to show the RAW file held in ``data`` at least ``long_edge`` x ``short_edge``
    (both 0: as large as it is).

    The largest embedded preview when it is that large; else the sensor data developed (half
    size when that suffices), its memory held from ``budget`` and refused past ``max_pixels``
    sensor pixels; else (when developing fails) the largest preview there is.

    Raises RawUnsupported for a RAW without a preview whose sensor data LibRaw cannot read,
    RawError for anything else that cannot be shown (truncated, corrupt, not a RAW)."""
    if not data:
        raise RawError("empty file (0 bytes)")
    orientation: int | None = None
    sensor: tuple[int, int] | None = None
    preview: _Preview | None = None
    libraw_problem: str | None = None
    opened: Any = None
    try:
        opened = _open_libraw(data)
    except RawError as exc:
        libraw_problem = str(exc)
    with contextlib.ExitStack() as stack:
        if opened is not None:
            stack.callback(opened.close)
            sizes = opened.sizes
            orientation = _FLIP_TO_ORIENTATION.get(int(sizes.flip), 1)
            if sizes.width > 0 and sizes.height > 0:
                sensor = (int(sizes.width), int(sizes.height))
            # Before any develop: rawpy frees the file's bytes once the sensor data is
            # unpacked, and LibRaw would then read the preview from freed memory.
            preview = _libraw_preview(opened)
        if preview is None or not _serves(preview.width, preview.height, long_edge, short_edge):
            found, exif_orientation, exif_sensor, mime = _exiv2_preview(data)
            if orientation is None:
                orientation = exif_orientation
            sensor = sensor or exif_sensor
            if found is not None and (preview is None or
                                      found.width * found.height > preview.width * preview.height):
                preview = found
            if opened is None and preview is None:
                raise _no_preview(libraw_problem, mime)
        if opened is not None and (preview is None or (
                not _serves(preview.width, preview.height, long_edge, short_edge)
                and _larger(sensor, preview))):
            try:
                pixels = _develop(opened, len(data), long_edge, short_edge, budget, max_pixels)
            except _CutShort:
                raise
            except RawError:
                if preview is None:
                    raise
            else:
                return RawImage(encoded=None, pixels=pixels, orientation=orientation or 1,
                                sensor_size=sensor, source="developed")
    assert preview is not None  # every path without one has raised
    return RawImage(encoded=preview.encoded, pixels=preview.pixels,
                    orientation=orientation or 1, sensor_size=sensor, source=preview.source)


def _serves(width: int, height: int, long_edge: int, short_edge: int) -> bool:
    if not long_edge and not short_edge:
        return False  # as large as the photo is: the sensor's, not a preview's
    return max(width, height) >= long_edge and min(width, height) >= short_edge


def _larger(sensor: tuple[int, int] | None, preview: _Preview) -> bool:
    """Whether developing the sensor gives more pixels than the preview has."""
    return sensor is not None and sensor[0] * sensor[1] > preview.width * preview.height


def _libraw_message(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text) or type(exc).__name__


def _open_libraw(data: bytes) -> Any:
    rawpy = _libraw()
    try:
        return rawpy.imread(io.BytesIO(data))
    except rawpy.LibRawFileUnsupportedError as exc:
        raise RawError("not a RAW file LibRaw reads (an unsupported camera, or another "
                       "kind of file)") from exc
    except (rawpy.LibRawIOError, rawpy.LibRawDataError) as exc:
        raise RawError(f"truncated or corrupt RAW file ({_libraw_message(exc)})") from exc
    except (rawpy.LibRawTooBigError, rawpy.LibRawUnsufficientMemoryError, MemoryError) as exc:
        raise RawError("refused: the RAW file declares more data than memory allows") from exc
    except rawpy.LibRawError as exc:
        raise RawError(f"unreadable RAW file ({_libraw_message(exc)})") from exc


def _libraw_preview(opened: Any) -> _Preview | None:
    rawpy = _libraw()
    try:
        thumb = opened.extract_thumb()
    except (rawpy.LibRawError, NotImplementedError, MemoryError):
        return None  # none, a kind rawpy cannot hand over, or a corrupt one: exiv2 may know
    if thumb.format == rawpy.ThumbFormat.JPEG:
        return _checked(bytes(thumb.data), "libraw")
    pixels = np.asarray(thumb.data)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    if (pixels.ndim != 3 or pixels.shape[2] != 3
            or max(pixels.shape[:2]) < _MIN_PREVIEW_EDGE):
        return None
    if pixels.dtype != np.uint8:  # 16-bit bitmap previews exist in some DNGs
        pixels = (pixels.astype(np.float32) * (255.0 / 65535.0) + 0.5).astype(np.uint8)
    return _Preview(None, np.ascontiguousarray(pixels), pixels.shape[1], pixels.shape[0],
                    "libraw")


def _checked(encoded: bytes, source: str, claimed: tuple[int, int] | None = None
             ) -> _Preview | None:
    """The preview if ``encoded`` is a picture (of the ``claimed`` size); None for a
    placeholder: a stripped file keeps tags describing previews whose data is gone, and such
    a "preview" must not become the photo.

    Raises RawError when it is a picture but cannot be decoded: a file cut short while being
    copied must not show (and have cached) a smaller stand-in preview as if it were the
    photo."""
    try:
        img = Image.open(io.BytesIO(encoded))
    except Exception:  # not a picture at all (Pillow fails on junk with assorted types)
        return None
    with img:
        width, height = img.size
        if img.format not in ("JPEG", "TIFF") or max(width, height) < _MIN_PREVIEW_EDGE:
            return None
        if claimed is not None and claimed != (width, height):
            return None
        if len(encoded) < width * height * _MIN_PREVIEW_BYTES_PER_PIXEL:
            return None
        if img.format == "TIFF" and width * height > 16_000_000:
            return None  # exiv2 rebuilt a huge uncompressed IFD: not a preview
        try:
            if img.format == "JPEG":
                img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            img.load()  # at 1/8 scale for a JPEG: a few ms, and a cut-off one fails here
        except MemoryError as exc:
            raise RawError("not enough memory to read the RAW file's preview") from exc
        except Exception as exc:
            raise RawError(f"truncated or corrupt embedded preview ({exc})") from exc
    return _Preview(encoded, None, width, height, source)


def _exiv2_preview(data: bytes) -> tuple[_Preview | None, int | None,
                                          tuple[int, int] | None, str | None]:
    """exiv2's largest usable preview, EXIF orientation, EXIF pixel size and MIME type."""
    import exiv2

    from glimpse_desktop.kernel import exiv

    try:
        image = exiv.from_bytes(data)
        mime = str(image.mimeType())
        exif = image.exifData()
        orientation = _exif_int(exif, "Exif.Image.Orientation")
        width = _exif_int(exif, "Exif.Photo.PixelXDimension")
        height = _exif_int(exif, "Exif.Photo.PixelYDimension")
        if mime in ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif",
                    "image/avif", "image/gif", "image/bmp", "image/jxl"):
            # An ordinary image under a RAW's name: its EXIF thumbnail is not the photo.
            return None, None, None, mime
        manager = exiv2.PreviewManager(image)
        props = sorted(manager.getPreviewProperties(),
                       key=lambda p: int(p.width_) * int(p.height_), reverse=True)
        found = None
        damaged: RawError | None = None
        for prop in props:
            encoded = bytes(manager.getPreviewImage(prop).data())
            try:
                found = _checked(encoded, "exiv2", (int(prop.width_), int(prop.height_)))
            except RawError as exc:
                # A stripped file's rebuilt TIFF previews fail like cut-off ones: only a
                # smaller preview after a damaged larger one tells a file cut short.
                damaged = damaged or exc
                continue
            if found is not None:
                if damaged is not None:
                    raise damaged
                break
    except (exiv.ExivError, *exiv.FAILURES):
        return None, None, None, None
    sensor = (width, height) if width and height and width > 0 and height > 0 else None
    valid = orientation if orientation is not None and 1 <= orientation <= 8 else None
    return found, valid, sensor, mime


def _exif_int(exif: Any, key: str) -> int | None:
    from glimpse_desktop.kernel import exiv

    if key not in exif:  # exif[key] on a missing key would create it
        return None
    try:
        return int(exif[key].toInt64(0))
    except exiv.FAILURES:
        return None


def _no_preview(libraw_problem: str | None, mime: str | None) -> RawError:
    if mime is not None and not mime.startswith("image/x-") and mime != "image/tiff":
        return RawError(f"not a RAW file: its contents are {mime}")
    reason = libraw_problem or "no embedded preview"
    if mime is not None and mime.startswith("image/x-"):
        # exiv2 knows the container, LibRaw cannot read it: a camera LibRaw does not know,
        # or a file cut short.
        return RawUnsupported(f"RAW file without a usable embedded preview ({reason})")
    return RawError(reason)


def _develop(opened: Any, file_size: int, long_edge: int, short_edge: int, budget: Budget,
             max_pixels: int) -> NDArray[np.uint8]:
    """The sensor data as RGB (not turned), at half size when that serves the request."""
    rawpy = _libraw()
    sizes = opened.sizes
    raw_pixels = int(sizes.raw_width) * int(sizes.raw_height)
    width, height = int(sizes.width), int(sizes.height)
    if raw_pixels <= 0 or width <= 0 or height <= 0:
        raise RawUnsupported("RAW file without a preview, and without sensor data")
    if raw_pixels > max_pixels:
        raise RawError(f"refused: the sensor's {raw_pixels / 1e6:.0f} megapixels are over the "
                       f"{max_pixels / 1e6:.0f} MP safety limit")
    if file_size * 8 < raw_pixels * _MIN_BITS_PER_PIXEL:
        raise _CutShort("RAW file cut short (or stripped of its image data): no usable "
                        "preview, and its sensor data is missing")
    half = ((long_edge or short_edge) != 0 and max(width, height) // 2 >= long_edge
            and min(width, height) // 2 >= short_edge)
    with budget.hold(_develop_cost(raw_pixels, half)):
        try:
            rgb = opened.postprocess(half_size=half, use_camera_wb=True, output_bps=8,
                                     user_flip=0)
        except (rawpy.LibRawTooBigError, rawpy.LibRawUnsufficientMemoryError,
                MemoryError) as exc:
            raise RawError("not enough memory to develop this RAW file") from exc
        except rawpy.LibRawIOError as exc:
            raise _CutShort("RAW file cut short: no usable preview, and its sensor data "
                            "ends early") from exc
        except rawpy.LibRawError as exc:
            raise RawUnsupported(f"RAW file without a preview whose sensor data LibRaw "
                                 f"cannot read ({_libraw_message(exc)})") from exc
    pixels = np.asarray(rgb)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or not pixels.size:
        raise RawUnsupported("RAW file without a preview whose sensor data LibRaw cannot read")
    return pixels


def _develop_cost(raw_pixels: int, half: bool) -> int:
    """The memory a develop holds, in the budget's units (pixels of 4 bytes): LibRaw's
    unpacked sensor data (2 bytes a photosite), its working image (4 channels of 2 bytes a
    pixel; a quarter of the pixels at half size) and the 8-bit RGB it returns."""
    image = raw_pixels // 4 if half else raw_pixels
    return (2 * raw_pixels + 8 * image + 3 * image) // 4
