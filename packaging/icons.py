"""Render the app icon (resources/glimpse-desktop.svg) to the bitmaps that packaging needs.

    python packaging/icons.py OUT_DIR

writes OUT_DIR/hicolor/<N>x<N>/apps/glimpse-desktop.png for the freedesktop icon theme (Linux
menus and docks), and OUT_DIR/glimpse-desktop.ico (Windows executables; the macOS build lets
PyInstaller convert the 512 px PNG).

The SVG stays the one source of the icon: the bitmaps are made at build time with Qt's own SVG
renderer (QtSvg ships in PySide6-Essentials, already a dependency), so no rasteriser is added and
no generated binary is committed. Pillow (a dependency too) packs the ICO from the exact renders,
which keeps the small sizes crisp instead of scaling one large image down.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # the ICO format stops at 256
NAME = "glimpse-desktop"
SVG = Path(__file__).resolve().parent.parent / "resources" / f"{NAME}.svg"


def render(out_dir: Path, svg: Path = SVG) -> list[Path]:
    """Write the PNG renders and the ICO into ``out_dir``; returns the files written."""
    # Build machines have no display; offscreen is enough to paint into an image.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Packaging is not part of the app: the rule that keeps Qt inside glimpse_desktop/gui is
    # about the app's layers, and this build tool uses Qt only to rasterise the icon.
    from PIL import Image
    from PySide6.QtCore import Qt  # noqa: TID251
    from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: TID251
    from PySide6.QtSvg import QSvgRenderer  # noqa: TID251

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"icons: {svg} is not an SVG that Qt can read")
    written: list[Path] = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        target = out_dir / "hicolor" / f"{size}x{size}" / "apps" / f"{NAME}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target), "PNG"):
            raise SystemExit(f"icons: could not write {target}")
        written.append(target)
    del app  # keep the application alive until every render is done

    renders = [Image.open(out_dir / "hicolor" / f"{s}x{s}" / "apps" / f"{NAME}.png")
               for s in ICO_SIZES]
    ico = out_dir / f"{NAME}.ico"
    largest = renders[-1]
    largest.save(ico, format="ICO", sizes=[im.size for im in renders], append_images=renders[:-1])
    written.append(ico)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    for path in render(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
