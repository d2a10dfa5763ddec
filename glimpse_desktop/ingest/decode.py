"""Decode a photo once, at the smallest resolution every stage can use, oriented upright.

JPEGs are decoded with DCT scaling (Pillow's ``draft``): asking for 1/8 of a 12 MP image costs
a fraction of a full decode. RAW files are shown through the JPEG preview the camera embedded.
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import pillow_heif
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from glimpse_desktop.ingest import raw
from glimpse_desktop.ingest.metadata import PhotoMeta, extract

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


class DecodeError(Exception):
    """The file cannot be turned into pixels; the message is shown to the person as is."""


class UnsupportedError(DecodeError):
    """A file Glimpse recognises but cannot show (for example a RAW without a preview)."""


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


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale down rather than clip, or every pixel turns white.
        return img.point(lambda v: v / 256).convert("L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def decode(data: bytes, path: str, *, want: SizeRequest, mtime: float | None = None) -> Decoded:
    """Decode ``data`` (the bytes of the file at ``path``) once, for every stage.

    Raises DecodeError (or UnsupportedError) with a message a person can act on.
    """
    if mtime is None:
        mtime = os.stat(path).st_mtime
    ext = os.path.splitext(path)[1].lower()
    exif: Image.Exif | None = None
    full_size: tuple[int, int] | None = None
    orientation_override: int | None = None
    source = data
    if ext in raw.RAW_EXTENSIONS or raw.is_tiff_raw(data):
        try:
            preview = raw.extract_preview(data)
        except raw.RawPreviewError as exc:
            raise UnsupportedError(f"RAW file without a usable embedded preview ({exc})") from exc
        source = preview.jpeg
        exif = raw.read_tiff_exif(data)
        orientation_override = preview.orientation
    try:
        img = Image.open(io.BytesIO(source))
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused: image too large, possible decompression bomb ({exc})") from exc
    except Image.DecompressionBombWarning as exc:
        raise DecodeError(f"refused: image too large, possible decompression bomb ({exc})") from exc
    except UnidentifiedImageError as exc:
        if not data:
            raise DecodeError("empty file (0 bytes)") from exc
        raise DecodeError("not an image, or an image format Glimpse does not read") from exc
    except (OSError, ValueError, SyntaxError, RuntimeError) as exc:
        raise DecodeError(f"unreadable image header: {exc}") from exc
    except MemoryError as exc:
        raise DecodeError("not enough memory to read this image's header") from exc
    except Exception as exc:  # see the note in _decode_opened
        raise DecodeError(f"unreadable image header ({type(exc).__name__}: {exc})") from exc
    try:
        decoded = _decode_opened(img, exif, full_size, orientation_override, want, mtime)
    finally:
        img.close()
    if source is not data:
        _raw_format(decoded.meta, path)
    return decoded


def _decode_opened(
    img: Image.Image,
    exif: Image.Exif | None,
    full_size: tuple[int, int] | None,
    orientation_override: int | None,
    want: SizeRequest,
    mtime: float,
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
    meta = extract(img, exif=exif, mtime=mtime, full_size=full_size,
                   orientation_override=orientation_override)
    icc = img.info.get("icc_profile")
    try:
        if img.format in ("JPEG", "MPO") and (want.long_edge or want.short_edge):
            img.draft("RGB", _draft_box(width, height, want))
        img.load()
        pixels = _to_srgb(_to_rgb(img), icc if isinstance(icc, bytes) else None)
        if pixels is img:
            # Detach from the opened file: the caller closes it, and the file's bytes should
            # not stay alive as long as the pixels do.
            pixels = img.copy()
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused: possible decompression bomb ({exc})") from exc
    except MemoryError as exc:
        raise DecodeError("not enough memory to decode this image") from exc
    except (OSError, ValueError, SyntaxError, EOFError, RuntimeError) as exc:
        # RuntimeError: libheif refusing a corrupt HEIC (absurd sizes found while decoding).
        raise DecodeError(f"corrupt or truncated image data: {exc}") from exc
    except Exception as exc:
        # Hostile files reach corners of the decoders that fail with TypeError, IndexError,
        # struct.error...: still this file's fault, and still a clear message.
        raise DecodeError(f"corrupt image data ({type(exc).__name__}: {exc})") from exc
    transpose = _TRANSPOSE.get(meta.orientation if orientation_override is None
                               else orientation_override)
    if transpose is not None:
        pixels = pixels.transpose(transpose)
    return Decoded(image=pixels, meta=meta)


_RAW_MIME = {"DNG": "image/x-adobe-dng", "CR2": "image/x-canon-cr2", "NEF": "image/x-nikon-nef",
             "NRW": "image/x-nikon-nrw", "ARW": "image/x-sony-arw", "ORF": "image/x-olympus-orf",
             "RW2": "image/x-panasonic-rw2", "PEF": "image/x-pentax-pef"}


def _raw_format(meta: PhotoMeta, path: str) -> None:
    """A RAW is described as itself, not as the JPEG preview it is shown through."""
    kind = os.path.splitext(path)[1].lstrip(".").upper() or "RAW"
    meta.format = kind
    meta.mime = _RAW_MIME.get(kind, "image/x-raw")
