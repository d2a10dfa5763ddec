"""The records the map answers with: an area of the world, a cluster of photos at a zoom, and
how many photos are on the map. Frozen; a front end's JSON output is them field by field."""

from __future__ import annotations

from dataclasses import dataclass

from glimpse_desktop.kernel.messages import CodedError

__all__ = ["BAD_AREA", "BAD_ZOOM", "MapArea", "MapAreaError", "MapCluster", "MapCounts", "MapView"]

BAD_AREA = "map.bad_area"
BAD_ZOOM = "map.bad_zoom"


class MapAreaError(CodedError, ValueError):
    """An area that is not four numbers south, west, north, east within the world, or a
    zoom the map does not have."""


@dataclass(frozen=True, slots=True)
class MapArea:
    """A rectangle of the world in decimal degrees. ``west`` > ``east`` when it crosses the
    antimeridian (from 170 to -170: 20 degrees over the Pacific, not 340 around it)."""

    south: float
    west: float
    north: float
    east: float

    def __post_init__(self) -> None:
        values = {"south": self.south, "west": self.west, "north": self.north,
                  "east": self.east}
        for value in values.values():
            if value != value:        # NaN
                raise MapAreaError("an area's corners must be numbers", code=BAD_AREA,
                                   values=values)
        if not (-90 <= self.south <= self.north <= 90):
            raise MapAreaError("an area's south must be at most its north, both within "
                               "-90..90", code=BAD_AREA, values=values)
        if not (-180 <= self.west <= 180 and -180 <= self.east <= 180):
            raise MapAreaError("an area's west and east must be within -180..180",
                               code=BAD_AREA, values=values)

    @classmethod
    def parse(cls, text: str) -> MapArea:
        """``"S,W,N,E"`` (decimal degrees) as an area; a clear ``MapAreaError`` otherwise."""
        parts = [p.strip() for p in text.split(",")]
        try:
            if len(parts) != 4:
                raise ValueError
            south, west, north, east = (float(p) for p in parts)
        except ValueError:
            raise MapAreaError(f"{text!r} is not an area: give south,west,north,east in "
                               "decimal degrees (e.g. 38.6,-9.3,38.8,-9.0)", code=BAD_AREA,
                               values={"text": text}) from None
        return cls(south, west, north, east)

    @property
    def crosses_antimeridian(self) -> bool:
        return self.west > self.east

    def contains(self, lat: float, lon: float) -> bool:
        if not self.south <= lat <= self.north:
            return False
        if self.crosses_antimeridian:
            return lon >= self.west or lon <= self.east
        return self.west <= lon <= self.east


@dataclass(frozen=True, slots=True)
class MapCluster:
    """Photos close together at a zoom: ``count`` of them around ``lat``, ``lon`` (their
    mean), within ``south``..``north``, ``west``..``east`` (their extent: zooming there shows
    them apart); ``photo_id``: the newest of them, which stands for the cluster (the photo
    itself when ``count`` is 1)."""

    lat: float
    lon: float
    count: int
    photo_id: int
    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True, slots=True)
class MapCounts:
    """Photos that can be shown ``on_map`` (with coordinates of their own) and ``without``
    them."""

    on_map: int
    without: int


@dataclass(frozen=True, slots=True)
class MapView:
    """The markers of one zoom: ``clusters`` (most photos first) of the photos within
    ``area`` (None: the whole world); ``photos``: how many photos they hold."""

    zoom: int
    area: MapArea | None
    clusters: tuple[MapCluster, ...]
    photos: int
