"""Dominant colour names from pixels: pure numpy, no Glimpse, no database.

Every pixel is given one of eleven names (the basic colour terms most languages share, after
Berlin and Kay): hue decides among the chromatic ones, lightness and saturation pick black,
white, grey and brown. A photo's dominant colours are the names that cover at least
``MIN_SHARE`` of it, largest first, at most ``MAX_COLORS``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

PALETTE = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black",
           "white", "grey")
# A name must cover this share of the photo to count as dominant.
MIN_SHARE = 0.15
MAX_COLORS = 3
# Pixels looked at per photo: enough for shares to 1%, small enough to classify a batch of
# 64 photos in a few milliseconds.
SIDE = 48

# Hue bounds in degrees: [start, end) for each chromatic name; red wraps around 0.
_HUES = (("red", 345.0, 360.0), ("red", 0.0, 15.0), ("orange", 15.0, 40.0),
         ("yellow", 40.0, 70.0), ("green", 70.0, 170.0), ("blue", 170.0, 260.0),
         ("purple", 260.0, 290.0), ("pink", 290.0, 345.0))
_INDEX = {name: i for i, name in enumerate(PALETTE)}


def classify(pixels: NDArray[np.uint8]) -> NDArray[np.intp]:
    """The palette index of each RGB pixel (any shape ending in 3)."""
    rgb = pixels.reshape(-1, 3).astype(np.float32) / 255.0
    high = rgb.max(axis=1)
    low = rgb.min(axis=1)
    chroma = high - low
    value = high
    saturation = np.where(high > 0, chroma / np.maximum(high, 1e-6), 0.0)
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    safe = np.maximum(chroma, 1e-6)
    hue = np.select(
        [high == r, high == g],
        [((g - b) / safe) % 6.0, (b - r) / safe + 2.0],
        (r - g) / safe + 4.0) * 60.0
    out = np.full(rgb.shape[0], _INDEX["grey"], dtype=np.intp)
    for name, start, end in _HUES:
        out[(hue >= start) & (hue < end)] = _INDEX[name]
    # Dark oranges and yellows are what people call brown; pale reds are pink.
    warm = (hue >= 15.0) & (hue < 50.0)
    out[warm & (value < 0.6)] = _INDEX["brown"]
    reddish = (hue >= 345.0) | (hue < 15.0)
    out[reddish & (saturation < 0.5) & (value > 0.75)] = _INDEX["pink"]
    # Without colour enough to name, lightness decides.
    achromatic = saturation < 0.2
    out[achromatic] = _INDEX["grey"]
    out[achromatic & (value > 0.85)] = _INDEX["white"]
    out[value < 0.18] = _INDEX["black"]
    return out


def _top(counts: NDArray[np.intp]) -> list[tuple[str, float]]:
    total = max(int(counts.sum()), 1)
    found = [(PALETTE[i], float(n) / total) for i, n in enumerate(counts)
             if n and n / total >= MIN_SHARE]
    return sorted(found, key=lambda pair: (-pair[1], pair[0]))[:MAX_COLORS]


def dominant(pixels: NDArray[np.uint8]) -> list[tuple[str, float]]:
    """The names that cover at least ``MIN_SHARE`` of the image, largest first, with their
    shares (at most ``MAX_COLORS``)."""
    return _top(np.bincount(classify(pixels), minlength=len(PALETTE)))


def dominant_batch(batch: list[NDArray[np.uint8]]) -> list[list[tuple[str, float]]]:
    """``dominant`` for many images at once: one classification over every pixel of the
    batch (numpy's fixed cost per call dwarfs the per-pixel work at these sizes)."""
    if not batch:
        return []
    labels = classify(np.concatenate([p.reshape(-1, 3) for p in batch]))
    out = []
    start = 0
    for pixels in batch:
        size = int(np.prod(pixels.shape[:-1]))
        out.append(_top(np.bincount(labels[start:start + size], minlength=len(PALETTE))))
        start += size
    return out
