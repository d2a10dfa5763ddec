"""The world's land and country borders the map draws without any network: Natural Earth
(public domain) at 1:110m and 1:50m, shipped as places/data/outlines.json.gz (made by
tools/build_map_outlines.py from the npm package world-atlas; licences beside it).
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from importlib import resources

from glimpse_desktop.kernel.messages import CodedError
from glimpse_desktop.places.mapgrid import world_xy

__all__ = ["LEVELS", "MapOutlines", "OutlinesError", "map_outlines"]

# Coarse for the whole world, finer from a continent down.
LEVELS = ("110m", "50m")
_FILE = "outlines.json.gz"


class OutlinesError(CodedError):
    """The shipped outlines are missing or unreadable (a broken install)."""


@dataclass(frozen=True, slots=True)
class MapOutlines:
    """One level of detail: ``land`` (rings to fill even-odd: a lake is a ring inside a
    ring) and ``borders`` (lines between two countries), each a flat tuple x0, y0, x1, y1…
    in fractions of the Web Mercator square (mapgrid.world_xy)."""

    level: str
    land: tuple[tuple[float, ...], ...]
    borders: tuple[tuple[float, ...], ...]


@functools.cache
def _data() -> dict[str, object]:
    try:
        raw = resources.files("glimpse_desktop.places").joinpath("data", _FILE).read_bytes()
        data: dict[str, object] = json.loads(gzip.decompress(raw))
    except (OSError, ValueError, EOFError) as exc:
        raise OutlinesError(f"the map's outlines cannot be read ({exc}): reinstall Glimpse",
                            code="map.outlines_unreadable", values={"why": str(exc)}) from exc
    return data


def _lines(flat_deltas: list[list[int]], scale: list[float], translate: list[float]
           ) -> tuple[tuple[float, ...], ...]:
    sx, sy = scale
    tx, ty = translate
    out = []
    for deltas in flat_deltas:
        qx = qy = 0
        pts: list[float] = []
        for i in range(0, len(deltas) - 1, 2):
            qx += deltas[i]
            qy += deltas[i + 1]
            x, y = world_xy(qy * sy + ty, qx * sx + tx)
            pts += (x, y)
        out.append(tuple(pts))
    return tuple(out)


@functools.cache
def map_outlines(level: str = "50m") -> MapOutlines:
    """The outlines at ``level`` ('110m' or '50m'), read once per process."""
    if level not in LEVELS:
        raise OutlinesError(f"no outlines at {level!r}: there are {', '.join(LEVELS)}",
                            code="map.outlines_level", values={"level": level})
    levels = _data().get("levels")
    if not isinstance(levels, dict) or level not in levels:
        raise OutlinesError("the map's outlines are incomplete: reinstall Glimpse",
                            code="map.outlines_unreadable", values={"why": level})
    found = levels[level]
    return MapOutlines(level=level,
                       land=_lines(found["land"], found["scale"], found["translate"]),
                       borders=_lines(found["borders"], found["scale"], found["translate"]))
