"""Embedded write-back through exiv2 in every format it writes (JPEG, PNG, WebP, TIFF), and
sidecars for the rest (HEIC): the date and place a person set, round trips read back by
ExifTool and by exiv2, another app's values kept, and a file exiv2 would damage refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glimpse_desktop.kernel import exiv
from glimpse_desktop.metadata import xmp
from glimpse_desktop.writeback import files
from tests import imagegen as ig
from tests.test_xmp import exiftool

DATE = "2009-09-09T10:11:12.250+02:00"
SOUTH_WEST_BELOW = (-33.865143, -70.5, -12.5)


def photo(path: Path) -> None:
    rng = np.random.default_rng(3)
    image = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    kwargs = {"lossless": True} if path.suffix == ".webp" else {}
    image.save(path, **kwargs)


def pixels(path: Path) -> bytes:
    with Image.open(path) as im:
        return im.convert("RGB").tobytes()


@pytest.mark.parametrize("ext", ["jpg", "png", "webp", "tif"])
def test_date_and_place_round_trip_in_every_format_exiv2_writes(tmp_path: Path,
                                                                ext: str) -> None:
    path = tmp_path / f"a.{ext}"
    photo(path)
    before = pixels(path)
    data = xmp.XmpData(description="Harbour", subjects=["boat"], rating=4,
                       taken_at=DATE, gps=SOUTH_WEST_BELOW)
    done = files.embed(str(path), data)
    assert pixels(path) == before
    got = exiftool("-n", "-G1", "-DateTimeOriginal", "-SubSecTimeOriginal",
                   "-OffsetTimeOriginal", "-XMP-exif:DateTimeOriginal",
                   "-XMP-photoshop:DateCreated", "-XMP-xmp:CreateDate", "-GPSLatitude",
                   "-GPSLongitude", "-GPSLatitudeRef", "-GPSLongitudeRef", "-GPSAltitude",
                   "-GPSAltitudeRef", "-XMP-dc:Subject",
                   "-XMP-xmp:Rating", str(path))[0]
    assert got["ExifIFD:DateTimeOriginal"] == "2009:09:09 10:11:12"
    assert str(got["ExifIFD:SubSecTimeOriginal"]) == "250"
    assert got["ExifIFD:OffsetTimeOriginal"] == "+02:00"
    for key in ("XMP-exif:DateTimeOriginal", "XMP-photoshop:DateCreated",
                "XMP-xmp:CreateDate"):
        assert got[key].startswith("2009:09:09 10:11:12.25") and got[key].endswith("+02:00")
    assert got["GPS:GPSLatitudeRef"] == "S" and got["GPS:GPSLongitudeRef"] == "W"
    assert got["GPS:GPSLatitude"] == pytest.approx(33.865143, abs=1e-6)
    assert got["GPS:GPSLongitude"] == pytest.approx(70.5, abs=1e-6)
    assert got["GPS:GPSAltitude"] == pytest.approx(12.5) and got["GPS:GPSAltitudeRef"] == 1
    assert got["XMP-dc:Subject"] == "boat" and got["XMP-xmp:Rating"] == 4
    # exiv2 reads the same back.
    image = exiv.from_path(path)
    back = xmp.parse(image.xmpPacket())
    assert xmp.same_date(back.taken_at) == xmp.same_date(DATE)
    assert xmp.same_place(back.gps) == xmp.same_place(SOUTH_WEST_BELOW)
    assert image.exifData()["Exif.Photo.ExifVersion"].toString() == "48 50 51 49"
    # The place cleared: every GPS value goes, in EXIF and XMP; the date stays.
    data.gps, data.clear_gps = None, True
    files.embed(str(path), data, done.record, done.exif)
    gone = exiftool("-GPS:all", "-XMP-exif:all", str(path))[0]
    assert not [k for k in gone if k.startswith("GPS")], gone
    assert "DateTimeOriginal" in gone
    assert pixels(path) == before


def test_a_heic_takes_the_date_and_place_in_its_sidecar(tmp_path: Path) -> None:
    heic = tmp_path / "a.heic"
    ig.write_heic(heic)
    original = heic.read_bytes()
    assert not files.can_embed(str(heic))
    side = tmp_path / "a.heic.xmp"
    files.write_sidecar(str(side), xmp.XmpData(taken_at="2019-07-14T15:30:12",
                                               gps=(51.5, 0.1275, None)))
    got = exiftool("-n", "-XMP:all", str(side))[0]
    assert got["DateTimeOriginal"] == "2019:07:14 15:30:12"
    assert got["GPSLatitude"] == pytest.approx(51.5) and got["GPSLongitude"] == \
        pytest.approx(0.1275)
    assert exiv.from_path(side).mimeType() == "application/rdf+xml"
    assert heic.read_bytes() == original


def test_another_apps_exif_iptc_and_xmp_survive_and_the_iptc_digest_is_current(
        tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    photo(path)
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-Artist=Ana",
                    "-Copyright=CC-BY", "-IPTC:Keywords=harbour", "-IPTC:City=Porto",
                    "-IPTC:DateCreated=2001:02:03", "-IPTCDigest=new",
                    "-XMP-dc:Creator=Ana", "-XMP-photoshop:City=Porto", "-Make=Nikon",
                    str(path)], check=True)
    files.embed(str(path), xmp.XmpData(subjects=["boat"], taken_at="2009-09-09T10:11:12"))
    got = exiftool("-G1", "-Artist", "-Copyright", "-IPTC:all", "-XMP-dc:Creator",
                   "-XMP-photoshop:City", "-Make", "-XMP-dc:Subject", str(path))[0]
    assert got["IFD0:Artist"] == "Ana" and got["IFD0:Copyright"] == "CC-BY"
    assert got["IFD0:Make"] == "Nikon"
    assert got["IPTC:Keywords"] == "harbour" and got["IPTC:City"] == "Porto"
    assert got["IPTC:DateCreated"] == "2009:09:09"
    # No offset known: no IPTC time, which would have to claim one (exiv2 would say +00:00).
    assert "IPTC:TimeCreated" not in got
    assert got["XMP-dc:Creator"] == "Ana" and got["XMP-photoshop:City"] == "Porto"
    assert got["XMP-dc:Subject"] == "boat"
    warnings = subprocess.run(["exiftool", "-validate", "-warning", "-a", str(path)],
                              capture_output=True, text=True).stdout
    assert "IPTCDigest is not current" not in warnings


def test_a_date_another_app_changed_since_our_write_stays(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    photo(path)
    data = xmp.XmpData(taken_at="2009-09-09T10:11:12")
    done = files.embed(str(path), data)
    subprocess.run(["exiftool", "-q", "-overwrite_original",
                    "-AllDates=2010:01:01 00:00:00", "-XMP-exif:DateTimeOriginal=2010:01:01",
                    str(path)], check=True)
    data.subjects = ["boat"]
    files.embed(str(path), data, done.record, done.exif)
    assert exiftool("-DateTimeOriginal", str(path))[0]["DateTimeOriginal"] == \
        "2010:01:01 00:00:00"
    # A new date set in Glimpse is the person's word: it is written.
    data.taken_at = "2011-05-05T05:05:05"
    files.embed(str(path), data, done.record, done.exif)
    assert exiftool("-DateTimeOriginal", str(path))[0]["DateTimeOriginal"] == \
        "2011:05:05 05:05:05"


def test_a_maker_note_exiv2_would_not_keep_is_refused_and_the_file_stays(
        tmp_path: Path) -> None:
    """Bytes under a Canon make that are no Canon maker note: exiv2 reads them as one and
    drops them when the EXIF moves; the read-back sees it, and nothing is written."""
    path = tmp_path / "cam.jpg"
    image = Image.new("RGB", (32, 24), (5, 6, 7))
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif.get_ifd(0x8769)[0x927C] = b"MAKERNOTE\x00\x01\x02\x03" * 8
    image.save(path, exif=exif.tobytes())
    done = None
    for words in ("First", "A much longer description", "Short"):
        before = path.read_bytes()
        try:
            done = files.embed(str(path), xmp.XmpData(description=words),
                               done.record if done else None, done.exif if done else None)
        except files.WriteBackError as exc:
            assert "MakerNote" in str(exc) and "not written" in str(exc)
            assert path.read_bytes() == before
            assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
            return
        # Written: then the maker note is there as it was.
        notes = [d.toString() for d in exiv.from_path(path).exifData()
                 if d.key() == "Exif.Photo.MakerNote"]
        assert notes and notes[0].startswith("77 65 75 69 82 78 79 84 69 0 1 2 3")


def test_a_camera_raw_with_a_tiff_name_is_never_written_into(tmp_path: Path) -> None:
    path = ig.write_dng(tmp_path / "shot.tif", preview_size=(320, 240),
                        datetime_original="2020:02:02 02:02:02")
    before = path.read_bytes()
    with pytest.raises(files.WriteBackError, match="camera RAW"):
        files.embed(str(path), xmp.XmpData(subjects=["boat"], rating=3))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["shot.tif"]   # no temp file left
