"""The colour maths alone: pure pixels in, colour names out (no Glimpse, no library)."""

from __future__ import annotations

import numpy as np
import pytest

from glimpse_colors.palette import PALETTE, classify, dominant, dominant_batch

SAMPLES = {"red": (220, 20, 30), "orange": (240, 140, 20), "yellow": (240, 220, 30),
           "green": (30, 160, 40), "blue": (20, 60, 220), "purple": (130, 40, 180),
           "pink": (250, 150, 190), "brown": (120, 70, 30), "black": (10, 10, 10),
           "white": (250, 250, 250), "grey": (128, 128, 128)}


@pytest.mark.parametrize("name", PALETTE)
def test_each_palette_colour_is_named(name: str) -> None:
    pixel = np.array([[SAMPLES[name]]], dtype=np.uint8)
    assert PALETTE[int(classify(pixel)[0])] == name


def test_the_dominant_colours_are_those_that_cover_enough_largest_first() -> None:
    image = np.zeros((10, 10, 3), dtype=np.uint8)
    image[:, :] = SAMPLES["blue"]
    image[:3, :] = SAMPLES["white"]          # 30%
    image[3:4, :] = SAMPLES["red"]           # 10%: under the 15% a dominant colour needs
    found = dominant(image)
    assert [name for name, _share in found] == ["blue", "white"]
    assert found[0][1] == pytest.approx(0.6)


def test_a_batch_gives_what_each_photo_alone_gives() -> None:
    rng = np.random.default_rng(7)
    batch = [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(5)]
    batch.append(np.full((4, 6, 3), SAMPLES["green"], dtype=np.uint8))
    assert dominant_batch(batch) == [dominant(image) for image in batch]
    assert dominant_batch([]) == []
