"""Grid tiles cut from the photo where its faces are, and sharp when the tile is larger than
the grid thumbnail."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from pytestqt.qtbot import QtBot

from glimpse_desktop.gui.photo_model import read_tile


def _thirds(path: Path, size: tuple[int, int], *, across: bool) -> None:
    """Red, green and blue thirds, left to right (``across``) or top to bottom."""
    image = Image.new("RGB", size)
    w, h = size
    for i, colour in enumerate(((255, 0, 0), (0, 255, 0), (0, 0, 255))):
        a, b = i / 3, (i + 1) / 3
        box = (round(a * w), 0, round(b * w), h) if across else (0, round(a * h), w, round(b * h))
        image.paste(colour, box)
    image.save(path, quality=95)


def _centre(image: object) -> tuple[int, int, int]:
    from PySide6.QtGui import QImage

    assert isinstance(image, QImage)
    c = image.pixelColor(image.width() // 2, image.height() // 2)
    return c.red(), c.green(), c.blue()


def _dominant(rgb: tuple[int, int, int]) -> int:
    return max(range(3), key=lambda i: rgb[i])


def test_the_square_is_placed_over_the_faces(qtbot: QtBot, tmp_path: Path) -> None:
    wide = tmp_path / "wide.jpg"
    _thirds(wide, (300, 100), across=True)
    assert _dominant(_centre(read_tile(str(wide), 40))) == 1               # centred: green
    assert _dominant(_centre(read_tile(str(wide), 40, (0.1, 0.5)))) == 0   # faces left: red
    assert _dominant(_centre(read_tile(str(wide), 40, (0.95, 0.5)))) == 2  # right: blue
    tall = tmp_path / "tall.jpg"
    _thirds(tall, (100, 300), across=False)
    top = read_tile(str(tall), 40, (0.5, 0.05))
    assert _dominant(_centre(top)) == 0
    assert top.width() == top.height() == 40


def test_a_large_tile_comes_from_the_larger_picture(qtbot: QtBot, tmp_path: Path) -> None:
    small, large = tmp_path / "grid.jpg", tmp_path / "preview.jpg"
    Image.new("RGB", (64, 48), (255, 0, 0)).save(small)
    Image.new("RGB", (640, 480), (0, 0, 255)).save(large)
    asked: list[int] = []

    def sharper() -> str:
        asked.append(1)
        return str(large)

    # As large as the grid thumbnail allows: no need for the preview.
    assert _dominant(_centre(read_tile(str(small), 48, sharper=sharper))) == 0 and not asked
    tile = read_tile(str(small), 200, sharper=sharper)
    assert asked and _dominant(_centre(tile)) == 2 and tile.width() == 200
    # No larger picture (an offline original): the small one, scaled.
    assert _dominant(_centre(read_tile(str(small), 200, sharper=lambda: None))) == 0
