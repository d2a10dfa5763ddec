"""Build the map's offline outlines (glimpse_desktop/places/data/outlines.json.gz) from the
npm package ``world-atlas`` (Natural Earth 4.1.0 as TopoJSON).

    npm pack world-atlas && tar xzf world-atlas-*.tgz
    python tools/build_map_outlines.py package/ glimpse_desktop/places/data/

Two levels of detail: 1:110m for the whole world, 1:50m from a continent down. For each:
``land`` (rings to fill, even-odd: lakes such as the Caspian are holes) and ``borders``
(lines between two countries; coasts are the land's own edges). Points stay in TopoJSON's
quantised integers, delta-encoded and simplified (Douglas-Peucker, in quanta), so the file is
small and reads fast; places/outlines.py decodes it.
"""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
import sys
from pathlib import Path

Point = tuple[int, int]
# How far (in quanta: 1e5 of them span the world) a simplified line may stray from the data.
TOLERANCE = {"110m": 8, "50m": 5}


def _arcs(topo: dict) -> list[list[Point]]:
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x, y))
        out.append(pts)
    return out


def _simplify(pts: list[Point], tol: float) -> list[Point]:
    if len(pts) < 3:
        return pts
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = pts[a], pts[b]
        dx, dy = bx - ax, by - ay
        norm = (dx * dx + dy * dy) ** 0.5
        worst, at = -1.0, -1
        for i in range(a + 1, b):
            px, py = pts[i]
            d = (abs(dy * (px - ax) - dx * (py - ay)) / norm if norm
                 else ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5)
            if d > worst:
                worst, at = d, i
        if worst > tol:
            keep[at] = True
            stack += [(a, at), (at, b)]
    return [p for p, k in zip(pts, keep, strict=True) if k]


def _ring(arcs: list[list[Point]], refs: list[int]) -> list[Point]:
    ring: list[Point] = []
    for ref in refs:
        arc = arcs[ref] if ref >= 0 else arcs[~ref][::-1]
        ring.extend(arc if not ring else arc[1:])
    return ring


def _unwrapped(ring: list[Point], turn: int) -> list[list[Point]]:
    """A ring cut at the antimeridian (Fiji, Chukotka) as merged land leaves it: its points
    jump from one edge of the world to the other, which would draw a line across the map.
    Made continuous (longitudes past 180), plus a copy a turn away, so that the part past
    the edge is drawn on the other side. A ring around a pole (Antarctica) is kept as is."""
    out, shift, polar = [ring[0]], 0, [ring[0]]
    for (x0, _), (x1, y1) in itertools.pairwise(ring):
        if abs(x1 - x0) > turn // 2:
            shift += -turn if x1 > x0 else turn
            # Around a pole, the jump goes by way of the pole (y 0: the south edge).
            polar += [(x0, 0), (x1, 0)]
        polar.append((x1, y1))
        out.append((x1 + shift, y1))
    if shift != 0:
        return [polar]
    if all(x == x1 for (x, _), (x1, _) in zip(ring, out, strict=True)):
        return [ring]
    low, high = min(x for x, _ in out), max(x for x, _ in out)
    back = -turn if high > turn else turn if low < 0 else 0
    return [out, [(x + back, y) for x, y in out]] if back else [out]


def _delta(pts: list[Point]) -> list[int]:
    flat, px, py = [], 0, 0
    for x, y in pts:
        flat += [x - px, y - py]
        px, py = x, y
    return flat


def level(topo: dict, tol: float) -> dict:
    # Simplify each arc once, so that a border and the coasts either side of it stay joined.
    arcs = [_simplify(a, tol) for a in _arcs(topo)]
    turn = round(360 / topo["transform"]["scale"][0])       # quanta in 360 degrees
    land = []
    for geom in topo["objects"]["land"]["geometries"]:
        polys = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        for poly in polys:
            for refs in poly:
                ring = _ring(arcs, refs)
                if len(ring) >= 4:
                    land += [_delta(r) for r in _unwrapped(ring, turn)]
    # A border is an arc two different countries share (topojson.mesh's a !== b).
    owners: dict[int, set[int]] = {}
    for n, geom in enumerate(topo["objects"]["countries"]["geometries"]):
        polys = (geom.get("arcs") or []) if geom["type"] == "MultiPolygon" else \
            [geom.get("arcs") or []]
        for poly in polys:
            for refs in poly:
                for ref in refs:
                    owners.setdefault(ref if ref >= 0 else ~ref, set()).add(n)
    borders = [_delta(arcs[i]) for i, who in sorted(owners.items())
               if len(who) > 1 and len(arcs[i]) >= 2]
    return {"scale": topo["transform"]["scale"], "translate": topo["transform"]["translate"],
            "land": land, "borders": borders}


def main(src: Path, dest: Path) -> None:
    out = {"version": 1, "source": "Natural Earth 4.1.0 via world-atlas 2.0.2",
           "levels": {}}
    for name in ("110m", "50m"):
        topo = json.loads((src / f"countries-{name}.json").read_text())
        out["levels"][name] = level(topo, TOLERANCE[name])
    dest.mkdir(parents=True, exist_ok=True)
    data = json.dumps(out, separators=(",", ":")).encode()
    (dest / "outlines.json.gz").write_bytes(gzip.compress(data, 9, mtime=0))
    shutil.copy(src / "LICENSE", dest / "LICENSE.world-atlas")
    print(f"{dest / 'outlines.json.gz'}: {(dest / 'outlines.json.gz').stat().st_size:,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
