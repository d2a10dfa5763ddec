"""The map: clusters per zoom, photos of an area (the antimeridian too), what is left off the
map, the shipped outlines, street tiles from a real HTTP server, and `glimpse map`.

The library is real: JPEGs written here with real GPS EXIF, indexed by the real pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.api import Library, MapArea, MapAreaError, map_outlines, world_xy
from glimpse_desktop.kernel.photos import FLAG_TRASHED
from glimpse_desktop.places import mapgrid
from glimpse_desktop.places.mapgrid import Cell
from glimpse_desktop.places.tiles import USER_AGENT, TileError, TileSource
from tests import imagegen as ig
from tests.tileserver import TileServer

# name: (when, (lat, lon) or None)
SHOTS: dict[str, tuple[str, tuple[float, float] | None]] = {
    "baixa1.jpg": ("2024:05:01 12:00:00", (38.7108, -9.1368)),
    "baixa2.jpg": ("2024:05:01 12:05:00", (38.7112, -9.1370)),
    "belem.jpg": ("2024:05:02 10:00:00", (38.6916, -9.2160)),
    "kyoto1.jpg": ("2024:06:01 10:00:00", (35.0116, 135.7681)),
    "kyoto2.jpg": ("2024:06:02 10:00:00", (35.0120, 135.7690)),
    "suva.jpg": ("2023:01:05 09:00:00", (-18.1416, 178.4419)),      # Fiji, west of 180
    "apia.jpg": ("2023:01:09 09:00:00", (-13.8333, -171.7667)),    # Samoa, east of it
    "home1.jpg": ("2022:02:01 08:00:00", None),
    "home2.jpg": ("2022:02:02 08:00:00", None),
}


def placed_library(lib: Library, photo_dir: Path) -> Library:
    """``lib`` with SHOTS written to ``photo_dir`` and indexed."""
    for seed, (name, (when, gps)) in enumerate(SHOTS.items()):
        ig.write_jpeg(photo_dir / name, (96, 64), seed=seed, datetime_original=when, gps=gps,
                      make="FUJIFILM", model="X100V")
    lib.set_faces(False)
    lib.add_root(photo_dir)
    lib.index()
    return lib


@pytest.fixture
def map_lib(lib: Library, photo_dir: Path) -> Library:
    return placed_library(lib, photo_dir)


def ids(lib: Library) -> dict[str, int]:
    return {Path(r[1]).name: int(r[0]) for r in lib.reader().execute(
        "SELECT id, path FROM photos")}


def test_counts_on_the_map_and_without(map_lib: Library) -> None:
    counts = map_lib.map.counts()
    assert (counts.on_map, counts.without) == (7, 2)


def test_clusters_join_a_city_and_keep_cities_apart(map_lib: Library) -> None:
    named = ids(map_lib)
    view = map_lib.map.clusters(3)
    assert view.photos == 7
    by_count = sorted((c.count for c in view.clusters), reverse=True)
    assert by_count == [3, 2, 1, 1]
    lisbon = view.clusters[0]
    assert lisbon.count == 3
    assert lisbon.photo_id == named["belem.jpg"]                # the newest stands for it
    assert lisbon.south == pytest.approx(38.6916) and lisbon.north == pytest.approx(38.7112)
    assert lisbon.west == pytest.approx(-9.2160) and lisbon.east == pytest.approx(-9.1368)
    assert lisbon.lat == pytest.approx((38.7108 + 38.7112 + 38.6916) / 3, abs=1e-6)
    kyoto = view.clusters[1]
    assert kyoto.count == 2 and kyoto.photo_id == named["kyoto2.jpg"]
    assert {c.photo_id for c in view.clusters[2:]} == {named["suva.jpg"], named["apia.jpg"]}


def test_zooming_in_splits_a_cluster(map_lib: Library) -> None:
    named = ids(map_lib)
    # Belém is 7 km from the Baixa: one marker for the country, two for the city.
    assert [c.count for c in map_lib.map.clusters(5).clusters][:1] == [3]
    view = map_lib.map.clusters(14, MapArea(38.6, -9.3, 38.8, -9.0))
    assert sorted((c.count, c.photo_id) for c in view.clusters) == [
        (1, named["belem.jpg"]), (2, named["baixa2.jpg"])]
    assert view.photos == 3
    # At a street's zoom, the two Baixa photos 45 m apart are two markers.
    assert len(map_lib.map.clusters(19, MapArea(38.7, -9.14, 38.72, -9.13)).clusters) == 2


def test_photos_of_an_area_newest_first(map_lib: Library) -> None:
    named = ids(map_lib)
    assert map_lib.map.photos_in(MapArea(38.6, -9.3, 38.8, -9.0)) == [
        named["belem.jpg"], named["baixa2.jpg"], named["baixa1.jpg"]]
    assert map_lib.map.photos_in(MapArea(38.705, -9.15, 38.72, -9.13)) == [
        named["baixa2.jpg"], named["baixa1.jpg"]]
    assert map_lib.map.photos_in(MapArea(0, 0, 10, 10)) == []


def test_an_area_across_the_antimeridian(map_lib: Library) -> None:
    named = ids(map_lib)
    pacific = MapArea(-20, 170, -10, -170)              # 20 degrees over the Pacific
    assert pacific.crosses_antimeridian
    assert map_lib.map.photos_in(pacific) == [named["apia.jpg"], named["suva.jpg"]]
    # The same numbers the other way round are the rest of the world at those latitudes.
    assert map_lib.map.photos_in(MapArea(-20, -170, -10, 170)) == []
    view = map_lib.map.clusters(4, pacific)
    assert sorted(c.photo_id for c in view.clusters) == sorted(
        [named["apia.jpg"], named["suva.jpg"]])


def test_trashed_and_missing_photos_are_not_on_the_map(map_lib: Library,
                                                       photo_dir: Path) -> None:
    named = ids(map_lib)
    assert map_lib.map.clusters(3).photos == 7       # read before the change, then again
    map_lib.writer.call(lambda c: c.execute(
        f"UPDATE photos SET flags = flags | {FLAG_TRASHED} WHERE id = ?",
        (named["baixa1.jpg"],)))
    (photo_dir / "kyoto1.jpg").unlink()
    map_lib.index()
    assert map_lib.map.counts().on_map == 5
    assert map_lib.map.photos_in(MapArea(-90, -180, 90, 180)) == [
        named[n] for n in ("kyoto2.jpg", "belem.jpg", "baixa2.jpg", "apia.jpg", "suva.jpg")]
    assert sorted(c.count for c in map_lib.map.clusters(3).clusters) == [1, 1, 1, 2]


def test_areas_that_are_not_areas_are_refused_clearly() -> None:
    assert MapArea.parse(" 38.6, -9.3 ,38.8,-9.0") == MapArea(38.6, -9.3, 38.8, -9.0)
    for text in ("38.6,-9.3,38.8", "a,b,c,d", "", "1,2,3,4,5", "nan,0,1,1"):
        with pytest.raises(MapAreaError):
            MapArea.parse(text)
    with pytest.raises(MapAreaError, match="south must be at most its north"):
        MapArea(10, 0, 5, 1)
    with pytest.raises(MapAreaError, match=r"within -180\.\.180"):
        MapArea(0, 0, 5, 190)


def test_zoom_out_of_range_is_refused(map_lib: Library) -> None:
    with pytest.raises(MapAreaError, match="zoom"):
        map_lib.map.clusters(20)


# ---------------------------------------------------------------------------- the algorithm


def cell(cx: int, cy: int, lat: float, lon: float, count: int, photo: int,
         newest: float) -> Cell:
    return Cell(cx, cy, count, lat, lon, lat, lon, lat, lon, newest, photo)


def test_neighbouring_cells_with_close_centres_merge() -> None:
    zoom = 6
    n = mapgrid.cells_per_side(zoom)
    # Two photos a few pixels apart on either side of a cell edge, and one far away.
    a_lat, a_lon = 10.0, (5 / n) * 360 - 180 - 0.05
    b_lat, b_lon = 10.0, (5 / n) * 360 - 180 + 0.05
    ax, ay = world_xy(a_lat, a_lon)
    bx, _ = world_xy(b_lat, b_lon)
    assert int(ax * n) + 1 == int(bx * n)
    cy = int(ay * n)
    merged = mapgrid.merge([cell(int(ax * n), cy, a_lat, a_lon, 4, 1, 100.0),
                            cell(int(bx * n), cy, b_lat, b_lon, 1, 2, 200.0),
                            cell(0, 0, 80.0, -179.0, 2, 3, 50.0)], zoom)
    assert [(c.count, c.photo_id) for c in merged] == [(5, 2), (2, 3)]
    assert merged[0].west == pytest.approx(a_lon) and merged[0].east == pytest.approx(b_lon)
    assert merged[0].lon == pytest.approx((4 * a_lon + b_lon) / 5)


def test_web_mercator_round_trip() -> None:
    for lat, lon in ((0, 0), (38.7, -9.1), (-33.9, 151.2), (85.0, 179.9), (-85.0, -179.9)):
        x, y = world_xy(lat, lon)
        back = mapgrid.lat_lon(x, y)
        assert back == pytest.approx((lat, lon), abs=1e-9)
    assert world_xy(0, 0) == pytest.approx((0.5, 0.5))
    assert world_xy(90, -180) == pytest.approx((0.0, 0.0), abs=1e-9)


# ---------------------------------------------------------------------------- outlines


def inside(x: float, y: float, ring: tuple[float, ...]) -> bool:
    found = False
    pts = list(zip(ring[::2], ring[1::2], strict=True))
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            found = not found
    return found


@pytest.mark.parametrize("level", ["110m", "50m"])
def test_shipped_outlines_put_cities_on_land_and_oceans_in_water(level: str) -> None:
    outlines = map_outlines(level)
    assert len(outlines.land) > 100 and len(outlines.borders) > 300

    def on_land(lat: float, lon: float) -> bool:
        x, y = world_xy(lat, lon)
        return sum(inside(x, y, ring) for ring in outlines.land) % 2 == 1

    for lat, lon in ((40.42, -3.70), (48.85, 2.35), (-23.56, -46.65), (40.0, -100.0),
                     (35.0, 135.77), (-25.0, 133.0)):
        assert on_land(lat, lon), (lat, lon)
    for lat, lon in ((30.0, -40.0), (0.0, -150.0), (-40.0, 80.0), (42.0, 50.5)):  # 50.5: Caspian
        assert not on_land(lat, lon), (lat, lon)
    # Fiji and Chukotka span the antimeridian: no line may cross the map to join their
    # halves (Antarctica's ring goes round by the south edge of the map).
    for line in (*outlines.land, *outlines.borders):
        xs, ys = line[0::2], line[1::2]
        for i in range(len(xs) - 1):
            assert abs(xs[i + 1] - xs[i]) < 0.5 or ys[i] == ys[i + 1] == pytest.approx(1.0)
    for lat, lon in ((-17.8, 178.0), (65.0, 175.0), (66.0, -172.0), (67.5, -179.5)):
        assert on_land(lat, lon), (lat, lon)


# ---------------------------------------------------------------------------- tiles


@pytest.fixture
def tile_server() -> Iterator[TileServer]:
    server = TileServer()
    try:
        yield server
    finally:
        server.close()


def test_tiles_come_through_a_disk_cache_with_the_apps_user_agent(
        tile_server: TileServer, tmp_path: Path) -> None:
    source = TileSource(tile_server.url + "/{z}/{x}/{y}.png", tmp_path)
    first = source.tile(3, 4, 2)
    assert first is not None and first.startswith(b"\x89PNG")
    assert tile_server.requests == [("/3/4/2.png", USER_AGENT)]
    assert source.tile(3, 4, 2) == first              # from the cache: no second request
    assert len(tile_server.requests) == 1
    assert source.tile(3, 8, 0) is None               # x beyond the world at zoom 3
    assert len(tile_server.requests) == 1
    missing = TileSource(tile_server.url + "/missing/{z}/{x}/{y}.png", tmp_path)
    assert missing.tile(1, 0, 0) is None
    with pytest.raises(TileError):
        TileSource(tile_server.url + "/{z}/{x}.png", tmp_path)


def test_no_tile_source_until_tiles_are_turned_on(map_lib: Library,
                                                  tile_server: TileServer) -> None:
    map_lib.config.set("map.tile_url", tile_server.url + "/{z}/{x}/{y}.png")
    assert map_lib.config.get("map.tiles") is False
    assert map_lib.map.tiles() is None
    map_lib.config.set("map.tiles", True)
    source = map_lib.map.tiles()
    assert source is not None and source.tile(0, 0, 0) is not None
    assert source.cache.is_relative_to(map_lib.paths.cache)
    assert [p for p, _ in tile_server.requests] == ["/0/0/0.png"]


# ---------------------------------------------------------------------------- the CLI


def run(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--library", str(library), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_map_verb(capsys: pytest.CaptureFixture[str], map_lib: Library,
                  library_path: Path) -> None:
    named = ids(map_lib)
    map_lib.close()
    code, out, _ = run(capsys, library_path, "map")
    assert code == 0 and out == "Photos on the map: 7, without a place: 2\n"
    code, out, _ = run(capsys, library_path, "map", "--json")
    assert code == 0 and json.loads(out) == {"on_map": 7, "without": 2}

    code, out, err = run(capsys, library_path, "map", "--area=-20,170,-10,-170")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [
        str(named["apia.jpg"]), str(named["suva.jpg"])]
    assert out.splitlines()[0].endswith("apia.jpg") and "2 photos" in err
    code, out, _ = run(capsys, library_path, "map", "--area", "38.6,-9.3,38.8,-9.0", "--json")
    assert code == 0
    assert [row["id"] for row in json.loads(out)] == [
        named["belem.jpg"], named["baixa2.jpg"], named["baixa1.jpg"]]

    code, out, err = run(capsys, library_path, "map", "--clusters", "--zoom", "3", "--json")
    assert code == 0
    view = json.loads(out)
    assert view["zoom"] == 3 and view["photos"] == 7 and view["area"] is None
    assert [c["count"] for c in view["clusters"]] == [3, 2, 1, 1]
    assert view["clusters"][0]["photo_id"] == named["belem.jpg"]
    code, out, err = run(capsys, library_path, "map", "--clusters", "--zoom", "14",
                         "--area", "38.6,-9.3,38.8,-9.0")
    assert code == 0 and len(out.splitlines()) == 2 and "3 photos in 2 clusters" in err

    code, out, err = run(capsys, library_path, "map", "--area", "38.6,-9.3")
    assert code != 0 and "south,west,north,east" in err and "Traceback" not in err
    code, out, err = run(capsys, library_path, "map", "--clusters", "--zoom", "25")
    assert code != 0 and "zoom" in err and "Traceback" not in err
