"""The viewer's small parts: its line icons and colours, how a photo's details read,
and reading a photo's details and pixels off the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import shiboken6
from PySide6.QtCore import (
    QDate,
    QLocale,
    QPointF,
    QRectF,
    Qt,
    QTime,
)
from PySide6.QtGui import (
    QColor,
    QIcon,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)

from glimpse_desktop.api import PhotoFace
from glimpse_desktop.api.library import Library, LibraryError
from glimpse_desktop.api.records import Exposure, Gps, Photo
from glimpse_desktop.gui.tasks import describe

ZOOM_MAX = 8.0           # 800 %: enough to check focus on a single eyelash
ZOOM_STEP = 1.25
# The original is decoded at most this large on the long edge: beyond it a photo would cost
# gigabytes as a QImage, and 16k px already shows more detail than any screen at 100 %.
FULL_MAX_EDGE = 16384
READ_AHEAD = 6           # previews kept for photos around the current one
PANEL_WIDTH = 320
LONG_TEXT = 280          # characters of a caption or description shown before "Show more"


# ---------------------------------------------------------------------------------- helpers

def alive(obj: object) -> bool:
    """A callback may arrive after its widget was closed and deleted."""
    return shiboken6.isValid(obj)


def line_icon(name: str, color: QColor, size: int = 20) -> QIcon:
    """Small line icons drawn here, crisp at any scale and in the palette's own colour (the
    platform's icon theme is not there on every system)."""
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(color, 1.7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    s = float(size)
    c = s / 2
    path = QPainterPath()
    if name == "back":
        path.moveTo(c + 1, c - 5.5)
        path.lineTo(c - 4.5, c)
        path.lineTo(c + 1, c + 5.5)
        path.moveTo(c - 4.5, c)
        path.lineTo(c + 6, c)
    elif name == "left":
        path.moveTo(c + 2.5, c - 6)
        path.lineTo(c - 3.5, c)
        path.lineTo(c + 2.5, c + 6)
    elif name == "right":
        path.moveTo(c - 2.5, c - 6)
        path.lineTo(c + 3.5, c)
        path.lineTo(c - 2.5, c + 6)
    elif name in ("plus", "minus"):
        path.addEllipse(QPointF(c - 1.5, c - 1.5), 5.5, 5.5)
        path.moveTo(c + 2.5, c + 2.5)
        path.lineTo(c + 7, c + 7)
        path.moveTo(c - 4.3, c - 1.5)
        path.lineTo(c + 1.3, c - 1.5)
        if name == "plus":
            path.moveTo(c - 1.5, c - 4.3)
            path.lineTo(c - 1.5, c + 1.3)
    elif name == "faces":
        # A face in a viewfinder's corners.
        for sx, sy in ((-1, -1), (1, -1), (-1, 1), (1, 1)):
            path.moveTo(c + sx * 7.5, c + sy * 3.5)
            path.lineTo(c + sx * 7.5, c + sy * 7.5)
            path.lineTo(c + sx * 3.5, c + sy * 7.5)
        path.addEllipse(QPointF(c, c - 1.2), 2.6, 2.6)
        path.moveTo(c - 4.2, c + 5)
        path.cubicTo(c - 3.2, c + 1.8, c + 3.2, c + 1.8, c + 4.2, c + 5)
    elif name == "info":
        path.addEllipse(QPointF(c, c), 7.5, 7.5)
        path.moveTo(c, c - 0.5)
        path.lineTo(c, c + 4)
        p.drawPath(path)
        p.setBrush(color)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QPointF(c, c - 3.6), 1.1, 1.1)
        path = QPainterPath()
    elif name == "folder":
        path.moveTo(c - 7, c - 4.5)
        path.lineTo(c - 2.5, c - 4.5)
        path.lineTo(c - 1, c - 3)
        path.lineTo(c + 7, c - 3)
        path.lineTo(c + 7, c + 5.5)
        path.lineTo(c - 7, c + 5.5)
        path.closeSubpath()
    elif name == "similar":
        path.addRoundedRect(QRectF(c - 7, c - 7, 9, 9), 1.5, 1.5)
        path.addRoundedRect(QRectF(c - 2, c - 2, 9, 9), 1.5, 1.5)
    elif name == "close":
        path.moveTo(c - 4, c - 4)
        path.lineTo(c + 4, c + 4)
        path.moveTo(c + 4, c - 4)
        path.lineTo(c - 4, c + 4)
    p.drawPath(path)
    p.end()
    return QIcon(pixmap)


def dim_colour(palette: QPalette) -> QColor:
    """Secondary text: the text colour part-way to the background (readable in both themes)."""
    text = palette.color(QPalette.ColorRole.WindowText)
    window = palette.color(QPalette.ColorRole.Window)
    t = 0.58
    return QColor(round(text.red() * t + window.red() * (1 - t)),
                  round(text.green() * t + window.green() * (1 - t)),
                  round(text.blue() * t + window.blue() * (1 - t)))


def long_date(taken_at: str | None, locale: QLocale | None = None) -> str | None:
    """'Saturday 16 March 2024, 15:02' in the person's own language and order. The time is
    the one on the camera's clock where the photo was taken (not converted to here)."""
    if not taken_at:
        return None
    try:
        when = datetime.fromisoformat(taken_at)
    except ValueError:
        return taken_at
    locale = locale or QLocale()
    date = locale.toString(QDate(when.year, when.month, when.day),
                           QLocale.FormatType.LongFormat)
    time = locale.toString(QTime(when.hour, when.minute, when.second),
                           QLocale.FormatType.ShortFormat)
    return f"{date}, {time}"


def exposure_text(exposure: Exposure | None) -> str | None:
    """'1/250 s · f/2.8 · ISO 100 · 35 mm' from what the camera recorded (any part missing
    is left out)."""
    if exposure is None:
        return None
    parts = []
    t = exposure.time
    if t:
        if t < 1 and round(1 / t) >= 2:
            parts.append(f"1/{round(1 / t)} s")
        else:
            parts.append(f"{round(t, 1):g} s")
    if exposure.f_number:
        parts.append(f"f/{round(float(exposure.f_number), 1):g}")
    if exposure.iso:
        parts.append(f"ISO {int(exposure.iso)}")
    if exposure.focal_length:
        parts.append(f"{round(float(exposure.focal_length), 1):g} mm")
    return " · ".join(parts) or None


def place_text(gps: Gps | None) -> str | None:
    """'38.72230° N, 9.13930° W · 50 m'."""
    if gps is None:
        return None
    lat, lon = float(gps.lat), float(gps.lon)
    text = (f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, "
            f"{abs(lon):.5f}° {'E' if lon >= 0 else 'W'}")
    if gps.alt is not None:
        text += f" · {float(gps.alt):.0f} m"
    return text


def face_label(face: PhotoFace) -> str:
    """What a face's box says: the person's name, "Unnamed" for a person not named yet,
    "Unknown" for a face no person holds."""
    if face.name:
        return face.name
    return "Unnamed" if face.person is not None else "Unknown"


@dataclass
class Entry:
    """What is known of one photo before it is shown: its details and its preview."""

    info: Photo
    preview: QImage | None
    problem: str | None = None    # why there is no preview


def read_photo(lib: Library, photo_id: int) -> Photo:
    info = lib.photo(photo_id)
    if info is None:
        raise LibraryError(f"photo {photo_id} is no longer in the library")
    return info


def read_preview(lib: Library, info: Photo) -> QImage:
    """The preview (made now if missing: a decode), else the grid thumbnail: off the GUI
    thread only."""
    path = lib.thumbnails.path_for(info.content_hash, "preview")
    if not path.is_file():
        try:
            path = lib.thumbnail(info.id, "preview")
        except LibraryError:
            # The original is offline or unreadable: the small thumbnail is better than none.
            grid = lib.thumbnails.path_for(info.content_hash, "grid")
            if not grid.is_file():
                raise
            path = grid
    image = QImage(str(path))
    if image.isNull():
        raise LibraryError(f"cannot read the preview {path}")
    return image.convertToFormat(QImage.Format.Format_RGB32)


def read_entry(lib: Library, photo_id: int) -> Entry:
    info = read_photo(lib, photo_id)
    try:
        return Entry(info, read_preview(lib, info))
    except LibraryError as exc:
        return Entry(info, None, describe(exc))


def read_full(lib: Library, photo_id: int) -> QImage:
    pil = lib.full_image(photo_id, max_edge=FULL_MAX_EDGE)
    data = pil.tobytes("raw", "RGB")
    image = QImage(data, pil.width, pil.height, pil.width * 3, QImage.Format.Format_RGB888)
    # Converted here, not on the GUI thread: RGB32 is what the raster engine draws fastest.
    return image.convertToFormat(QImage.Format.Format_RGB32)

