"""Export photos (an album, a search) to a folder: copies of the originals, or previews.

What the person is promised, and how it is kept:

* the originals are never moved or changed: ``full`` copies the bytes (so every bit of
  metadata, XMP and IPTC included, comes along) and the file's times; ``preview`` writes a
  new JPEG of at most PREVIEW_EDGE pixels with the original's EXIF (date, camera, GPS);
* nothing in the target folder is ever overwritten: a taken name becomes ``name (2).jpg``,
  claimed atomically with the same machinery sort-by-tag uses (organize/sorting.py); a copy
  made by an earlier export (same bytes) is recognised and not made twice, so an export that
  stopped can simply be run again;
* a file gets its name only once it is complete (written to a hidden temporary file, then
  linked or renamed), so a cancelled or failed export leaves no half-written photo;
* a target that cannot be written (read-only, full, not a folder) stops the export with a
  message and the report of what was exported before, all of it complete.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from glimpse_desktop.kernel.db import LibraryError
from glimpse_desktop.kernel.decode import read_exif
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback, ProgressMeter
from glimpse_desktop.search.sorting import (
    _DISK_FULL,
    _NOT_ALLOWED,
    _copy,
    _names,
    _place,
    _SourceProblem,
)

__all__ = ["FULL", "PREVIEW", "PREVIEW_EDGE", "SIZES", "ExportError", "ExportReport",
           "Exported", "Skipped", "export_photos", "preview_jpeg"]

FULL = "full"
PREVIEW = "preview"
SIZES = (FULL, PREVIEW)
# Long edge of an exported preview: sharp on a 4K screen's shorter side and in a chat or an
# e-mail, a tenth of the bytes of a 24-megapixel original.
PREVIEW_EDGE = 2048
PREVIEW_QUALITY = 90
_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_PIXEL_X, _PIXEL_Y = 0xA002, 0xA003


class ExportError(LibraryError):
    """The export stopped (target read-only or full, not a folder); ``report`` says what was
    exported before, every file of it complete."""

    def __init__(self, message: str, report: ExportReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Exported:
    photo_id: int
    source: str
    target: str


@dataclass(frozen=True)
class Skipped:
    """A photo not exported, and why (``kind``: missing, offline, exists, failed)."""

    photo_id: int
    source: str
    kind: str
    reason: str


@dataclass
class ExportReport:
    output: str
    size: str
    planned: int = 0
    exported: list[Exported] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    bytes_written: int = 0
    cancelled: bool = False

    def as_dict(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for s in self.skipped:
            kinds[s.kind] = kinds.get(s.kind, 0) + 1
        return {"output": self.output, "size": self.size, "planned": self.planned,
                "written": len(self.exported), "skipped": kinds,
                "bytes_written": self.bytes_written, "cancelled": self.cancelled,
                "exported": [vars(e) for e in self.exported],
                "skipped_photos": [vars(s) for s in self.skipped]}


def preview_jpeg(image: Image.Image, original: str) -> bytes:
    """``image`` (upright, sRGB pixels of ``original``) as a JPEG carrying the original's
    EXIF: the date, camera and GPS stay with the photo wherever it goes. The orientation tag
    is reset (the pixels are upright already) and the pixel dimensions are corrected."""
    exif_bytes = b""
    try:
        # Not Image.open(...).getexif(): for a PNG that decodes the whole original again.
        exif = read_exif(original)
        if exif is not None and len(exif):
            exif[_ORIENTATION] = 1
            sub = exif.get_ifd(_EXIF_IFD)
            if _PIXEL_X in sub or _PIXEL_Y in sub:
                sub[_PIXEL_X], sub[_PIXEL_Y] = image.width, image.height
            exif_bytes = exif.tobytes()
    except Exception:  # a RAW Pillow cannot open, broken EXIF: the pixels alone
        exif_bytes = b""
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=PREVIEW_QUALITY, optimize=True, exif=exif_bytes)
    return buf.getvalue()


def _write_new(data: bytes, folder: str, filename: str, mtime_ns: int | None
               ) -> tuple[str, bool]:
    """Write ``data`` under a free name in ``folder``; (target, already_there) where an
    earlier export left exactly these bytes under the name or one of its numbered forms."""
    for name in _names(filename):
        existing = os.path.join(folder, name)
        if not os.path.lexists(existing):
            break
        with contextlib.suppress(OSError):
            if (not os.path.islink(existing) and os.path.getsize(existing) == len(data)
                    and open(existing, "rb").read() == data):  # noqa: SIM115
                return existing, True
    fd, tmp = tempfile.mkstemp(prefix=".glimpse-export-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        return _place(tmp, folder, filename), False
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def export_photos(
    rows: Sequence[Mapping[str, Any]],
    *,
    output: str | os.PathLike[str],
    size: str = FULL,
    render: Callable[[Mapping[str, Any]], bytes] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ExportReport:
    """Export ``rows`` (each with ``id``, ``path``, ``status``) into the folder ``output``.

    ``size`` FULL copies each original; PREVIEW writes ``render(row)`` (JPEG bytes, see
    ``preview_jpeg``) as ``<name>.jpg``. Missing and offline photos, and photos that cannot
    be read or rendered, are skipped and reported; the others are exported in the order given.
    Raises ExportError (with the report of what was done) when the target cannot be written.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    if size == PREVIEW and render is None:
        raise ValueError("previews need a render function")

    def write_one(row: Mapping[str, Any], out: str) -> tuple[str, str]:
        source = str(row["path"])
        if size == FULL:
            target, already = _copy(source, out, os.path.basename(source))
        else:
            assert render is not None
            try:
                data = render(row)
                mtime_ns: int | None = os.stat(source).st_mtime_ns
            except (LibraryError, OSError) as exc:
                raise _SourceProblem(str(exc)) from exc
            stem = os.path.splitext(os.path.basename(source))[0]
            target, already = _write_new(data, out, stem + ".jpg", mtime_ns)
        return target, "same" if already else "new"

    return export_each(rows, output=output, size=size, write_one=write_one,
                       progress=progress, cancel=cancel)


def export_each(rows: Sequence[Mapping[str, Any]], *, output: str | os.PathLike[str],
                size: str, write_one: Callable[[Mapping[str, Any], str], tuple[str, str]],
                progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> ExportReport:
    """The loop every export shares: the folder made, missing and offline photos skipped,
    each other photo written by ``write_one(row, folder)``, which returns the file written
    and what happened (``new``; ``same``: that file was there already; ``skipped``: its name
    is taken) and raises ``_SourceProblem`` for a photo that cannot be read. An OSError is the
    target's: a full disk, a folder that cannot be written or is gone stop the export
    (ExportError, with the report of what was done); a name refused skips that photo."""
    cancel = cancel or CancelToken()
    meter = ProgressMeter("export", progress)
    out = os.path.abspath(os.fspath(output))
    report = ExportReport(output=out, size=size, planned=len(rows))
    if os.path.lexists(out) and not os.path.isdir(out):
        raise ExportError(f"{out} is a file, not a folder: choose a folder to export to",
                          report)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out}: {exc.strerror or exc}", report) from exc
    meter.start_phase("exporting photos", len(rows))
    for row in rows:
        if cancel.cancelled:
            report.cancelled = True
            break
        pid, source, status = int(row["id"]), str(row["path"]), str(row["status"])
        if status in ("missing", "offline"):
            why = ("the file is missing" if status == "missing"
                   else "the drive holding it is not connected")
            report.skipped.append(Skipped(pid, source, status, why))
            meter.advance(current=source)
            continue
        try:
            target, what = write_one(row, out)
        except _SourceProblem as exc:
            report.skipped.append(Skipped(pid, source, "failed", str(exc)))
            meter.advance(errors=1, current=source)
            continue
        except OSError as exc:
            if isinstance(exc, FileNotFoundError) and not os.path.lexists(source):
                report.skipped.append(Skipped(pid, source, "missing", "the file is missing"))
                meter.advance(current=source)
                continue
            why = exc.strerror or str(exc)
            done = len(report.exported)
            if exc.errno in _DISK_FULL:
                raise ExportError(f"the disk holding {out} is full: free some space and run it "
                                  f"again ({done} photos exported before are complete)",
                                  report) from exc
            if exc.errno in _NOT_ALLOWED:
                raise ExportError(f"cannot write to {out}: {why} ({done} photos exported "
                                  "before are complete)", report) from exc
            if exc.errno == errno.ENOTDIR or not os.path.isdir(out):
                raise ExportError(f"{out} is gone or no longer a folder ({done} photos "
                                  "exported before are complete)", report) from exc
            # A name this file system refuses, a path too long: this photo only.
            report.skipped.append(Skipped(pid, source, "failed",
                                          f"cannot write to {out}: {why}"))
            meter.advance(errors=1, current=source)
            continue
        meter.advance(current=source)
        if what == "same":
            report.skipped.append(Skipped(pid, source, "exists", f"already exported as {target}"))
            continue
        if what == "skipped":
            report.skipped.append(Skipped(pid, source, "exists",
                                          f"{os.path.basename(target)} is taken in {out}"))
            continue
        with contextlib.suppress(OSError):
            report.bytes_written += os.path.getsize(target)
        report.exported.append(Exported(pid, source, target))
    meter.finish()
    return report
