"""Keeping and judging (``Library.judge``, ``glimpse favorite/rate/reject/rotate``, the
``is:`` and ``rating:`` filters) on a real library of real JPEGs (and a real RAW+JPEG pair):
what is stored, that it survives the files being read again, that a RAW follows its JPEG,
that search and smart albums find it, and what the CLI says (text and ``--json``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from glimpse_desktop import cli
from glimpse_desktop.api import (
    JudgeError,
    Library,
    QueryError,
    compose_orientation,
    turn_image,
    turns_of,
)
from tests import imagegen as ig
from tests.test_pairs import shot

SHOT = "2023:07:14 09:41:27"


def rated_xmp(stars: int) -> str:
    """An XMP packet as Lightroom writes one for a photo it rated."""
    return ig.xmp_packet(description="harbour").replace(
        "   <dc:description>", f"   <xmp:Rating>{stars}</xmp:Rating>\n   <dc:description>", 1)


@pytest.fixture
def world(lib: Library, photo_dir: Path) -> Library:
    for k in range(4):
        ig.write_jpeg(photo_dir / f"p{k}.jpg", (64, 48), seed=k, datetime_original=SHOT)
    ig.write_jpeg(photo_dir / "lr.jpg", (64, 48), seed=7, xmp=rated_xmp(3),
                  datetime_original=SHOT)
    ig.write_jpeg(photo_dir / "lr-reject.jpg", (64, 48), seed=8, xmp=rated_xmp(-1),
                  datetime_original=SHOT)
    lib.add_root(photo_dir)
    lib.index()
    return lib


def pid(lib: Library, path: Path) -> int:
    photo = lib.photo(str(path))
    assert photo is not None, path
    return photo.id


def found(lib: Library, query: str) -> set[str]:
    return {Path(h.path).name for h in lib.search(query, limit=100).hits}


def test_favourite_stars_reject_and_rotation_are_stored_and_returned(
        world: Library, photo_dir: Path) -> None:
    a, b = pid(world, photo_dir / "p0.jpg"), pid(world, photo_dir / "p1.jpg")
    edit = world.judge.favorite([a, str(photo_dir / "p1.jpg")])
    assert edit.action == "favorite" and edit.why == "judged"
    assert edit.photo_ids == [a, b]
    assert [(p.before.favorite, p.after.favorite) for p in edit.photos] == [(False, True)] * 2
    # Already favourites: nothing changes, and it says so.
    again = world.judge.favorite([a])
    assert again.photos == () and again.unchanged == (a,)

    rated = world.judge.rate([a], 4)
    (p,) = rated.photos
    assert (p.before.rating, p.after.rating, p.after.rating_source) == (None, 4, "manual")
    assert world.judge.reject([b]).photos[0].after.rejected
    turned = world.judge.rotate([a], "left")
    assert turned.why == "rotated" and turned.photos[0].after.rotation == 3
    assert world.judge.rotate([a], "180").photos[0].after.rotation == 1

    info = world.photo(a)
    assert info is not None
    assert (info.favorite, info.rejected, info.rating, info.rating_source, info.rotation) == \
        (True, False, 4, "manual", 1)
    tiles = {r.id: r for r in world.photo_page(limit=100)}
    assert (tiles[a].favorite, tiles[a].rating, tiles[a].rotation) == (True, 4, 1)
    assert tiles[b].rejected and not tiles[b].rating

    off = world.judge.favorite([a, b], on=False)
    assert [p.after.favorite for p in off.photos] == [False, False]
    assert world.judge.reject([b], on=False).photos[0].after.rejected is False
    # Toggles as a button over a selection: on for all when any is off.
    assert world.judge.toggle_favorite([a, b]).value == 1
    assert world.judge.toggle_favorite([a, b]).value == 0


def test_bad_input_is_a_coded_error(world: Library, photo_dir: Path) -> None:
    a = pid(world, photo_dir / "p0.jpg")
    for call, code in ((lambda: world.judge.favorite([a, 9999]), "judge.unknown_photo"),
                       (lambda: world.judge.favorite([str(photo_dir / "nope.jpg")]),
                        "judge.unknown_photo"),
                       (lambda: world.judge.favorite([]), "judge.no_photos"),
                       (lambda: world.judge.rate([a], 6), "judge.bad_rating"),
                       (lambda: world.judge.rate([a], -1), "judge.bad_rating"),
                       (lambda: world.judge.rotate([a], "up"), "judge.bad_turn")):
        with pytest.raises(JudgeError) as err:
            call()
        assert err.value.code == code
    # Nothing was half done: the good photo of a list with an unknown one is untouched.
    info = world.photo(a)
    assert info is not None and not info.favorite and info.rating is None


def test_another_apps_rating_is_shown_and_editable_and_the_persons_survives_a_reread(
        world: Library, photo_dir: Path) -> None:
    lr = photo_dir / "lr.jpg"
    info = world.photo(str(lr))
    assert info is not None and (info.rating, info.rating_source) == (3, None)
    assert world.judge.judgement(str(lr)).stars == 3
    world.judge.rate([str(lr)], 0)
    world.judge.favorite([str(lr)])
    # The file is changed (new pixels, the same rating in its XMP) and read again.
    ig.write_jpeg(lr, (64, 48), seed=17, xmp=rated_xmp(3), datetime_original=SHOT)
    world.index()
    info = world.photo(str(lr))
    assert info is not None
    assert (info.rating, info.rating_source, info.favorite) == (0, "manual", True)
    assert "lr.jpg" in found(world, "rating:0")


def test_a_file_rated_minus_one_is_rejected_and_taking_it_back_leaves_no_stars(
        world: Library, photo_dir: Path) -> None:
    rej = photo_dir / "lr-reject.jpg"
    info = world.photo(str(rej))
    assert info is not None and info.rejected and info.rating == -1
    assert found(world, "is:rejected") == {"lr-reject.jpg"}
    edit = world.judge.reject([str(rej)], on=False)
    assert edit.photos[0].after == edit.photos[0].after.__class__(
        favorite=False, rejected=False, rating=0, rating_source="manual", rotation=0)
    assert found(world, "is:rejected") == set()


def test_filters_and_smart_albums(world: Library, photo_dir: Path) -> None:
    p = [pid(world, photo_dir / f"p{k}.jpg") for k in range(4)]
    world.judge.favorite([p[0], p[1]])
    world.judge.rate([p[0]], 5)
    world.judge.rate([p[1]], 2)
    world.judge.rate([p[2]], 4)
    world.judge.reject([p[3]])
    assert found(world, "is:favorite") == {"p0.jpg", "p1.jpg"}
    assert found(world, "is:favourite") == {"p0.jpg", "p1.jpg"}
    assert found(world, "is:rejected") == {"p3.jpg", "lr-reject.jpg"}
    assert found(world, "-is:rejected") == {"p0.jpg", "p1.jpg", "p2.jpg", "lr.jpg"}
    assert found(world, "rating:>=4") == {"p0.jpg", "p2.jpg"}
    assert found(world, "rating:3") == {"lr.jpg"}
    assert found(world, "rating:<=2") == {"p1.jpg", "p3.jpg", "lr-reject.jpg"}
    assert found(world, "rating:0") == {"p3.jpg", "lr-reject.jpg"}
    assert found(world, "is:favorite rating:>=4") == {"p0.jpg"}
    assert found(world, "rating:>=2 -is:favorite") == {"p2.jpg", "lr.jpg"}
    # Leaving every photo out says so, as a "not".
    world.judge.reject([pid(world, photo_dir / n) for n in ("p0.jpg", "p1.jpg", "p2.jpg",
                                                             "lr.jpg")])
    notices = world.search("-is:rejected").notices
    assert [(n.text, dict(n.values)) for n in notices] == [
        ("every photo matches is:rejected",
         {"filter": "is", "value": "rejected", "negated": True})]
    world.judge.reject([pid(world, photo_dir / n) for n in ("p0.jpg", "p1.jpg", "p2.jpg",
                                                             "lr.jpg")], on=False)
    with pytest.raises(QueryError) as err:
        world.search("rating:9")
    assert err.value.code == "search.bad_rating"
    with pytest.raises(QueryError) as err:
        world.search("is:blurry")
    assert err.value.code == "search.unknown_is"
    # A smart album is a saved search: it follows the judgements as they change.
    album = world.albums.create("Keepers", query="rating:>=4 -is:rejected")
    assert set(world.albums.photo_ids(album.id)) == {p[0], p[2]}
    world.judge.reject([p[2]])
    assert len(world.albums.photo_ids(album.id)) == 1
    # The search box suggests the keys and their values.
    from glimpse_desktop.api import filter_keys, search_filters

    assert {"is", "rating"} <= set(filter_keys())
    assert search_filters()["is"].values is not None


def test_a_raw_kept_with_its_jpeg_follows_it(lib: Library, photo_dir: Path) -> None:
    jpeg, dng = shot(photo_dir, "IMG_0001")
    lib.add_root(photo_dir)
    lib.index()
    jpeg_id, raw_id = pid(lib, jpeg), pid(lib, dng)
    edit = lib.judge.rate([jpeg_id], 5)
    assert edit.photo_ids == [jpeg_id, raw_id]
    assert edit.photos[1].companion_of == jpeg_id
    lib.judge.favorite([jpeg_id])
    lib.judge.rotate([jpeg_id], "right")
    raw = lib.photo(raw_id)
    assert raw is not None and (raw.rating, raw.favorite, raw.rotation) == (5, True, 1)


def test_orientation_arithmetic_and_turned_pixels() -> None:
    assert turns_of("right") == 1 and turns_of("left") == 3 and turns_of("180") == 2
    assert compose_orientation(1, 1) == 6 and compose_orientation(1, 3) == 8
    assert compose_orientation(6, 1) == 3 and compose_orientation(8, 1) == 1
    assert compose_orientation(3, 2) == 1 and compose_orientation(None, 0) == 1
    # Mirrored files stay mirrored: 2 (mirror) turned right is 7 (mirror, then 90° right).
    assert compose_orientation(2, 1) == 7 and compose_orientation(5, 1) == 2
    image = Image.new("RGB", (4, 2))
    image.putpixel((0, 0), (255, 0, 0))   # top left
    right = turn_image(image, 1)
    assert right.size == (2, 4) and right.getpixel((1, 0)) == (255, 0, 0)   # top right
    left = turn_image(image, 3)
    assert left.getpixel((0, 3)) == (255, 0, 0)   # bottom left
    assert turn_image(image, 0) is image


def test_full_image_is_turned(world: Library, photo_dir: Path) -> None:
    a = pid(world, photo_dir / "p0.jpg")
    assert world.full_image(a).size == (64, 48)
    world.judge.rotate([a], "right")
    assert world.full_image(a).size == (48, 64)
    assert world.full_image(a, max_edge=32).size == (24, 32)


# ---------------------------------------------------------------------------- the CLI


def run(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--library", str(library), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_verbs(capsys: pytest.CaptureFixture[str], library_path: Path,
                   photo_dir: Path) -> None:
    for k in range(2):
        ig.write_jpeg(photo_dir / f"p{k}.jpg", (64, 48), seed=k, datetime_original=SHOT)
    assert run(capsys, library_path, "add", str(photo_dir))[0] == 0
    assert run(capsys, library_path, "index", "-q")[0] == 0
    a, b = str(photo_dir / "p0.jpg"), str(photo_dir / "p1.jpg")

    code, out, err = run(capsys, library_path, "favorite", a, b)
    assert code == 0 and "Made 2 photos a favourite" in err and "♥ favourite" in out
    code, out, _ = run(capsys, library_path, "favourite", a, "--off", "--json")
    data = json.loads(out)
    assert code == 0 and data["action"] == "favorite" and data["value"] == 0
    assert data["photos"][0]["after"]["favorite"] is False
    code, out, err = run(capsys, library_path, "rate", a, b, "4", "--json")
    data = json.loads(out)
    assert code == 0 and [p["after"]["rating"] for p in data["photos"]] == [4, 4]
    assert data["photos"][0]["after"]["rating_source"] == "manual"
    code, _, err = run(capsys, library_path, "reject", b)
    assert code == 0 and "Rejected 1 photo" in err
    code, _, err = run(capsys, library_path, "rotate", a, "left")
    assert code == 0 and "Turned 1 photo left" in err

    code, out, _ = run(capsys, library_path, "info", a)
    assert "rating          ★★★★☆ (given by you)" in out
    assert "rotated         270° clockwise" in out
    code, out, _ = run(capsys, library_path, "info", b)
    assert "judged          ♥ favourite, rejected" in out
    info = json.loads(run(capsys, library_path, "info", a, "--json")[1])
    assert (info["favorite"], info["rating"], info["rating_source"], info["rotation"]) == \
        (False, 4, "manual", 3)

    # Bad input: a clear message, never a traceback.
    for bad in (("rate", a, "7"), ("rotate", a, "up")):
        with pytest.raises(SystemExit) as exit_:
            run(capsys, library_path, *bad)
        assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err
    code, _, err = run(capsys, library_path, "favorite", str(photo_dir / "nope.jpg"))
    assert code != 0 and "no photo" in err and "Traceback" not in err
    code, out, _ = run(capsys, library_path, "search", "rating:>=4 -is:rejected", "--json")
    assert code == 0 and [Path(h["path"]).name for h in json.loads(out)["results"]] == ["p0.jpg"]
