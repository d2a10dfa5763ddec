"""Favourites, stars, rejects and rotation written back (writeback/, api/judge.py): sidecars
and embedded metadata of real JPEGs, read back by exiv2 and ExifTool, by a new library that
reads the same folder (a lost library), and from a sidecar another app wrote."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import exiv
from glimpse_desktop.metadata import xmp
from tests import imagegen as ig
from tests.test_xmp import exiftool

SHOT = "2023:07:14 09:41:27"


def pid(lib: Library, path: Path) -> int:
    photo = lib.photo(str(path))
    assert photo is not None, path
    return photo.id


def shots(folder: Path) -> dict[str, Path]:
    return {name: ig.write_jpeg(folder / f"{name}.jpg", (64, 48), seed=k,
                                datetime_original=SHOT)
            for k, name in enumerate(("fav", "rated", "rejected", "turned", "plain"))}


def test_sidecars_say_it_and_a_lost_library_gets_it_back(lib: Library, photo_dir: Path,
                                                         tmp_path: Path) -> None:
    files = shots(photo_dir)
    lib.add_root(photo_dir)
    lib.index()
    ids = {name: pid(lib, path) for name, path in files.items()}
    lib.judge.favorite([ids["fav"]])
    lib.judge.rate([ids["fav"]], 5)
    lib.judge.rate([ids["rated"]], 3)
    lib.judge.rate([ids["rejected"]], 4)
    lib.judge.reject([ids["rejected"]])
    lib.judge.rotate([ids["turned"]], "right")
    report = lib.writeback.run()
    assert report.failed == 0
    assert not (photo_dir / "plain.jpg.xmp").exists()    # nothing to say

    def side(name: str) -> xmp.XmpData:
        return xmp.parse((photo_dir / f"{name}.jpg.xmp").read_bytes())

    assert (side("fav").rating, side("fav").pick) == (5, 3)
    assert (side("rated").rating, side("rated").pick) == (3, None)
    assert (side("rejected").rating, side("rejected").pick) == (-1, 1)
    assert side("turned").orientation == 6 and side("turned").rating is None
    # exiv2 reads the same.
    data = exiv.from_path(photo_dir / "fav.jpg.xmp").xmpData()
    assert data["Xmp.xmp.Rating"].toString() == "5"
    assert data["Xmp.digiKam.PickLabel"].toString() == "3"
    got = exiftool("-n", "-XMP-tiff:Orientation", "-XMP-xmp:Rating",
                   str(photo_dir / "turned.jpg.xmp"), str(photo_dir / "rejected.jpg.xmp"))
    assert got[0]["Orientation"] == 6 and got[1]["Rating"] == -1
    # The originals are untouched.
    assert exiftool("-n", "-Orientation", str(files["turned"]))[0].get("Orientation") in (None,
                                                                                            1)

    # Taken back: ours go from the sidecar; another app's stay.
    lib.judge.favorite([ids["fav"]], on=False)
    lib.judge.rotate([ids["turned"]], "left")
    lib.writeback.run()
    assert side("fav").pick is None and side("fav").rating == 5
    assert side("turned").orientation is None

    lib.judge.favorite([ids["fav"]])
    lib.judge.rotate([ids["turned"]], "180")
    lib.writeback.run()
    with Library.open(tmp_path / "again" / "library.sqlite3", workers=2) as again:
        again.add_root(photo_dir)
        again.index()
        fav = again.photo(str(files["fav"]))
        assert fav is not None and fav.favorite and fav.rating == 5
        assert fav.rating_source is None          # the file's own now
        rej = again.photo(str(files["rejected"]))
        assert rej is not None and rej.rejected and not rej.favorite
        rated = again.photo(str(files["rated"]))
        assert rated is not None and (rated.rating, rated.favorite, rated.rejected) == \
            (3, False, False)
        assert {h.photo_id for h in again.search("is:favorite").hits} == {fav.id}
        assert {h.photo_id for h in again.search("is:rejected").hits} == {rej.id}


def test_a_sidecar_from_another_app_gives_stars_as_the_files_own(lib: Library,
                                                                 photo_dir: Path) -> None:
    files = shots(photo_dir)
    lib.add_root(photo_dir)
    lib.index()
    plain, rated = pid(lib, files["plain"]), pid(lib, files["rated"])
    lib.judge.rate([rated], 0)           # the person took the stars away
    packet = ig.xmp_packet().replace(
        'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">',
        'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"\n'
        '    xmlns:digiKam="http://www.digikam.org/ns/1.0/"\n'
        '    xmp:Rating="4" digiKam:PickLabel="3">')
    for name in ("plain", "rated"):
        (photo_dir / f"{name}.jpg.xmp").write_text(packet)
    lib.index()
    lib.photos_changed(None, "sidecars")
    p = lib.photo(plain)
    assert p is not None and (p.rating, p.rating_source, p.favorite) == (4, None, True)
    r = lib.photo(rated)
    assert r is not None and (r.rating, r.rating_source) == (0, "manual")


def test_embedded_orientation_is_composed_and_read_back_once(lib: Library, photo_dir: Path,
                                                             tmp_path: Path) -> None:
    sideways = ig.write_jpeg(photo_dir / "sideways.jpg", (64, 48), seed=3,
                             datetime_original=SHOT, orientation=6)
    upright_before = ImageOps.exif_transpose(Image.open(sideways)).convert("RGB")
    pixels_before = Image.open(sideways).convert("RGB").tobytes()
    lib.add_root(photo_dir)
    lib.index()
    photo = pid(lib, sideways)
    lib.judge.rotate([photo], "right")
    lib.judge.favorite([photo])
    report = lib.writeback.run(sidecar=False, embed=True)
    assert report.failed == 0 and report.written == 1
    image = exiv.from_path(sideways)
    assert image.exifData()["Exif.Image.Orientation"].toString() == "3"   # 6, a turn more
    assert xmp.parse(image.xmpPacket()).orientation == 3
    assert exiftool("-n", "-Orientation", str(sideways))[0]["Orientation"] == 3
    assert Image.open(sideways).convert("RGB").tobytes() == pixels_before   # pixels untouched
    shown = ImageOps.exif_transpose(Image.open(sideways)).convert("RGB")
    assert shown.tobytes() == upright_before.transpose(Image.Transpose.ROTATE_270).tobytes()
    # The library shows it as before: the file's own orientation and the person's turn.
    info = lib.photo(photo)
    assert info is not None and (info.orientation, info.rotation) == (6, 1)
    assert lib.full_image(photo).size == (64, 48)   # 48x64 upright, a turn right

    # A new library reads the file as it is now: turned by the file, not twice.
    with Library.open(tmp_path / "again" / "library.sqlite3", workers=2) as again:
        again.add_root(photo_dir)
        again.index()
        back = again.photo(str(sideways))
        assert back is not None and (back.orientation, back.rotation) == (3, 0)
        assert back.favorite
        assert again.full_image(back.id).tobytes() == lib.full_image(photo).tobytes()

    # This library reading the file again (another app touched it) is not turned twice.
    ig.write_jpeg(photo_dir / "sideways.jpg", (64, 48), seed=3, datetime_original=SHOT,
                  orientation=3)
    lib.index()
    info = lib.photo(photo)
    assert info is not None and (info.orientation, info.rotation) == (3, 0)

    # Turned left: upside down (3) a turn left is 6 in the file; turned back, 3 again.
    lib.judge.rotate([photo], "left")
    lib.writeback.run(sidecar=False, embed=True)
    assert exiv.from_path(sideways).exifData()["Exif.Image.Orientation"].toString() == "6"
    lib.judge.rotate([photo], "right")
    lib.writeback.run(sidecar=False, embed=True)
    assert exiv.from_path(sideways).exifData()["Exif.Image.Orientation"].toString() == "3"
    info = lib.photo(photo)
    assert info is not None and (info.orientation, info.rotation) == (3, 0)
