"""EXIF orientations (1-8) and the quarter turns a person adds on top of them
(``photos.rotation``): what write-back writes as a file's orientation, and what a file read
again says it was turned by (so a turn written into the file is not applied twice)."""

from __future__ import annotations

__all__ = ["compose", "turns_between"]

# EXIF orientation as (mirrored left to right first, then quarter turns clockwise): what turns
# the stored pixels upright.
_PARTS = {1: (0, 0), 6: (0, 1), 3: (0, 2), 8: (0, 3), 2: (1, 0), 7: (1, 1), 4: (1, 2),
          5: (1, 3)}
_BY_PARTS = {parts: o for o, parts in _PARTS.items()}


def compose(orientation: int | None, rotation: int) -> int:
    """The EXIF orientation that shows the stored pixels as ``orientation`` does, turned
    ``rotation`` quarter turns clockwise more."""
    mirrored, turns = _PARTS.get(int(orientation or 1), (0, 0))
    return _BY_PARTS[(mirrored, (turns + int(rotation)) % 4)]


def turns_between(orientation: int | None, other: int | None) -> int | None:
    """The quarter turns clockwise that take ``orientation`` to ``other`` (None when one is
    the mirror image of the other: no turn does that)."""
    a = _PARTS.get(int(orientation or 1), (0, 0))
    b = _PARTS.get(int(other or 1), (0, 0))
    return None if a[0] != b[0] else (b[1] - a[1]) % 4
