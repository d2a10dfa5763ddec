"""The records the places feature answers with: a photo's place, the tree of places with
their counts, and how many photos are placed. Frozen; a front end's JSON output is
them field by field."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Place", "PlaceCity", "PlaceCountry", "PlaceRegion", "PlacesStatus"]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a photo was taken, in words.

    ``city``, ``region``, ``country`` (names; ``city`` and ``region`` None far from any
    town), ``country_code`` (ISO 3166 alpha-2); ``source``: 'gps' (from the photo's own
    coordinates) or 'inferred' (from ``from_photo``, taken minutes apart with the same
    camera; None for 'gps'); ``lat``, ``lon``: the coordinates looked up, decimal degrees;
    ``distance_km``: from them to the named city (None when no city is named)."""

    city: str | None
    region: str | None
    country: str
    country_code: str | None
    source: str
    from_photo: int | None
    lat: float
    lon: float
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class PlaceCity:
    """A city of the tree: ``name`` (None for the photos of a region far from any town),
    ``photos`` placed there, ``inferred`` (how many of those were placed by a photo taken
    minutes apart), ``cover`` (the id of the most recent one)."""

    name: str | None
    photos: int
    inferred: int
    cover: int | None


@dataclass(frozen=True, slots=True)
class PlaceRegion:
    """A region of the tree (``name`` None where the place data has none), with its counts
    (as ``PlaceCity``) and its ``cities``, most photographed first."""

    name: str | None
    photos: int
    inferred: int
    cover: int | None
    cities: tuple[PlaceCity, ...]


@dataclass(frozen=True, slots=True)
class PlaceCountry:
    """A country of the tree, with its ``country_code``, its counts (as ``PlaceCity``) and
    its ``regions``, most photographed first."""

    name: str
    country_code: str | None
    photos: int
    inferred: int
    cover: int | None
    regions: tuple[PlaceRegion, ...]


@dataclass(frozen=True, slots=True)
class PlacesStatus:
    """How many photos are ``placed`` from their own GPS, ``inferred`` from a neighbour in
    time, and ``nowhere`` (GPS far from every known place); in how many ``countries`` and
    ``cities``."""

    placed: int
    inferred: int
    nowhere: int
    countries: int
    cities: int
