"""The places feature's storage for reading: a photo's place, the counts the tree of places
is made of, the photos of a place, and the names ``place:`` knows. (``photo_places``: one
row per placed photo; ``country`` NULL where its GPS is far from every known place.)"""

from __future__ import annotations

from dataclasses import dataclass

from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.places.records import Place, PlacesStatus

# Photos the views count: those of unplugged drives too, not missing ones.
# A RAW kept as its JPEG's companion (kernel/pairs.py) is not counted apart from its photo.
_VISIBLE = "p.status IN ('ok', 'offline') AND p.companion_of IS NULL"


@dataclass(frozen=True, slots=True)
class CityCount:
    """One (country, region, city) of the tree, with its photos, how many of them are
    inferred, and its newest photo (``newest``: taken_ts, -1e18 undated; ``cover``: its id)."""

    country: str
    country_code: str | None
    region: str | None
    city: str | None
    photos: int
    inferred: int
    newest: float
    cover: int


def place_of(conn: Connection, photo_id: int) -> Place | None:
    """A photo's place, None when it has none (no GPS, or nowhere near a known place)."""
    r = conn.execute(
        "SELECT city, region, country, country_code, source, from_photo, lat, lon, "
        "distance_km FROM photo_places WHERE photo_id = ? AND country IS NOT NULL",
        (photo_id,)).fetchone()
    if r is None:
        return None
    return Place(city=r[0], region=r[1], country=str(r[2]), country_code=r[3],
                 source=str(r[4]), from_photo=None if r[5] is None else int(r[5]),
                 lat=float(r[6]), lon=float(r[7]),
                 distance_km=None if r[8] is None else float(r[8]))


def city_counts(conn: Connection) -> list[CityCount]:
    """Every (country, region, city) with photos that can be shown, and its counts."""
    # SQLite takes the bare column p.id from the row holding max(): the newest photo.
    return [CityCount(str(r[0]), r[1], r[2], r[3], int(r[4]), int(r[5] or 0), float(r[6]),
                      int(r[7])) for r in conn.execute(
        f"""SELECT pp.country, pp.country_code, pp.region, pp.city, count(*) AS photos,
                   sum(pp.source = 'inferred') AS inferred,
                   max(coalesce(p.taken_ts, -1e18)) AS newest, p.id AS cover
            FROM photo_places pp JOIN photos p ON p.id = pp.photo_id
            WHERE pp.country IS NOT NULL AND {_VISIBLE}
            GROUP BY pp.country, pp.country_code, pp.region, pp.city""")]


def photos_in(conn: Connection, country: str | None, region: str | None,
              city: str | None) -> list[int]:
    """Ids of the photos placed in a country (and region, and city), newest first; "" for a
    region or city asks for the photos that have none; None leaves that level open."""
    where, params = ["pp.country IS NOT NULL", _VISIBLE], []
    for column, value in (("country", country), ("region", region), ("city", city)):
        if value == "":
            where.append(f"pp.{column} IS NULL")
        elif value is not None:
            where.append(f"pp.{column} = ?")
            params.append(value)
    return [int(r[0]) for r in conn.execute(
        f"SELECT p.id FROM photo_places pp JOIN photos p ON p.id = pp.photo_id "
        f"WHERE {' AND '.join(where)} ORDER BY p.taken_ts IS NULL, p.taken_ts DESC, "
        f"p.id DESC", params)]


def status(conn: Connection) -> PlacesStatus:
    """Photos placed from their GPS, inferred, and with GPS far from every known place."""
    r = conn.execute(
        "SELECT count(*) FILTER (WHERE source = 'gps' AND country IS NOT NULL), "
        "count(*) FILTER (WHERE source = 'inferred'), "
        "count(*) FILTER (WHERE country IS NULL), "
        "count(DISTINCT country), "
        "count(DISTINCT coalesce(city, '') || char(31) || coalesce(region, '') || char(31) "
        "|| coalesce(country, '')) FILTER (WHERE city IS NOT NULL) "
        "FROM photo_places").fetchone()
    placed, inferred, nowhere, countries, cities = (int(v or 0) for v in r or (0,) * 5)
    return PlacesStatus(placed=placed, inferred=inferred, nowhere=nowhere,
                        countries=countries, cities=cities)


def name_counts(conn: Connection) -> list[tuple[str | None, str | None, str, int]]:
    """(city, region, country, photos) of every placed (city, region, country)."""
    return [(r[0], r[1], str(r[2]), int(r[3])) for r in conn.execute(
        "SELECT city, region, country, count(*) FROM photo_places "
        "WHERE country IS NOT NULL GROUP BY city, region, country")]


def names(conn: Connection) -> list[tuple[str | None, str | None, str, str | None]]:
    """Every distinct (city, region, country, country_code) photos were placed in."""
    return [(r[0], r[1], str(r[2]), r[3]) for r in conn.execute(
        "SELECT DISTINCT city, region, country, country_code "
        "FROM photo_places WHERE country IS NOT NULL")]
