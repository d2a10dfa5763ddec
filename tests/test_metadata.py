"""Metadata and decoding, from real files written by the tests (real EXIF, XMP, IPTC, PNG)."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.decode import DecodeError, SizeRequest, UnsupportedError, decode
from glimpse_desktop.kernel.meta import PhotoMeta
from tests import imagegen as ig

GRID = SizeRequest(long_edge=256)


def meta_of(path: Path, want: SizeRequest = GRID) -> PhotoMeta:
    return decode(path.read_bytes(), str(path), want=want).meta


def texts(meta: PhotoMeta) -> dict[str, str]:
    return {f"{t.field}/{t.source}": t.value for t in meta.texts}


def test_date_with_offset_and_subseconds(tmp_path: Path) -> None:
    p = ig.write_jpeg(tmp_path / "a.jpg", datetime_original="2023:07:14 18:03:22",
                      offset_time_original="+02:00", subsec_time_original="12")
    m = meta_of(p)
    assert m.taken_at == "2023-07-14T18:03:22.120+02:00"
    assert m.taken_at_source == "exif:DateTimeOriginal"
    assert m.taken_at_offset == 120
    assert m.taken_ts == datetime.fromisoformat("2023-07-14T16:03:22.120+00:00").timestamp()


def test_date_fallbacks_in_order(tmp_path: Path) -> None:
    p = ig.write_jpeg(tmp_path / "b.jpg", datetime_digitized="2020:01:02 03:04:05",
                      datetime="2021:01:01 00:00:00")
    m = meta_of(p)
    assert (m.taken_at, m.taken_at_source) == ("2020-01-02T03:04:05", "exif:CreateDate")
    assert m.taken_at_offset is None

    p = ig.write_jpeg(tmp_path / "c.jpg", datetime="2021:05:06 07:08:09")
    assert meta_of(p).taken_at_source == "exif:DateTime"

    p = ig.write_jpeg(tmp_path / "d.jpg",
                      xmp=ig.xmp_packet(create_date="2019-03-04T05:06:07-05:00"))
    m = meta_of(p)
    assert m.taken_at == "2019-03-04T05:06:07-05:00"
    assert m.taken_at_source.startswith("xmp:")

    when = datetime(2018, 8, 9, 10, 11, 12).timestamp()
    p = ig.write_jpeg(tmp_path / "e.jpg", mtime=when)
    m = meta_of(p)
    assert m.taken_at_source == "file:mtime"
    assert m.taken_at is not None and m.taken_at.startswith("2018-08-09T10:11:12")
    assert m.taken_ts == pytest.approx(when)


def test_garbage_dates_fall_through_and_are_reported(tmp_path: Path) -> None:
    p = ig.write_jpeg(tmp_path / "g.jpg", datetime_original="0000:00:00 00:00:00",
                      datetime_digitized="2022:02:03 04:05:06")
    m = meta_of(p)
    assert m.taken_at_source == "exif:CreateDate"
    assert any("0000:00:00" in w for w in m.warnings)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(38.7223, -9.1393), (-33.8688, 151.2093), (35.6762, 139.6503), (-22.9068, -43.1729)],
    ids=["Lisbon N/W", "Sydney S/E", "Tokyo N/E", "Rio S/W"],
)
def test_gps_in_every_hemisphere(tmp_path: Path, lat: float, lon: float) -> None:
    m = meta_of(ig.write_jpeg(tmp_path / "gps.jpg", gps=(lat, lon, 12.5)))
    assert m.gps_lat == pytest.approx(lat, abs=1e-5)
    assert m.gps_lon == pytest.approx(lon, abs=1e-5)
    assert m.gps_alt == pytest.approx(12.5, abs=0.01)


def test_gps_below_sea_level_null_island_and_nonsense(tmp_path: Path) -> None:
    m = meta_of(ig.write_jpeg(tmp_path / "deadsea.jpg", gps=(31.5, 35.5, -430.0)))
    assert m.gps_alt == pytest.approx(-430.0)
    m = meta_of(ig.write_jpeg(tmp_path / "zero.jpg", gps=(0.0, 0.0)))
    assert (m.gps_lat, m.gps_lon) == (None, None)
    m = meta_of(ig.write_jpeg(tmp_path / "bad.jpg", gps=(95.0, 10.0)))
    assert m.gps_lat is None


def test_camera_lens_and_exposure(tmp_path: Path) -> None:
    p = ig.write_jpeg(tmp_path / "cam.jpg", make="FUJIFILM", model="X-T4",
                      lens_model="XF23mmF1.4 R", exposure_time=1 / 250, f_number=2.8, iso=400,
                      focal_length=23.0)
    m = meta_of(p)
    assert (m.camera_make, m.camera_model, m.lens) == ("FUJIFILM", "X-T4", "XF23mmF1.4 R")
    assert m.exposure_time == pytest.approx(0.004)
    assert (m.f_number, m.iso, m.focal_length) == (2.8, 400, 23.0)


# Where the stored image's top-left pixel must appear once the photo is shown upright.
_CORNER = {1: "tl", 2: "tr", 3: "br", 4: "bl", 5: "tl", 6: "tr", 7: "br", 8: "bl"}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_applied_to_pixels_and_dimensions(tmp_path: Path, orientation: int) -> None:
    stored = Image.new("RGB", (400, 200), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 100, 50))  # a red block in the stored top-left
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.jpg"
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())
    decoded = decode(path.read_bytes(), str(path), want=SizeRequest(long_edge=100))
    img, meta = decoded.image, decoded.meta
    assert meta.orientation == orientation
    expected_size = (200, 400) if orientation >= 5 else (400, 200)
    assert (meta.width, meta.height) == expected_size
    assert img.size[0] < img.size[1] if orientation >= 5 else img.size[0] > img.size[1]
    w, h = img.size
    probes = {"tl": (2, 2), "tr": (w - 3, 2), "bl": (2, h - 3), "br": (w - 3, h - 3)}
    red = {k for k, xy in probes.items() if img.getpixel(xy)[0] > 200}
    assert red == {_CORNER[orientation]}


def test_draft_decode_is_small_but_big_enough(tmp_path: Path) -> None:
    p = ig.write_jpeg(tmp_path / "big.jpg", size=(4000, 3000))
    d = decode(p.read_bytes(), str(p), want=GRID)
    assert max(d.image.size) >= 256
    assert d.image.size == (500, 375)  # the 1/8 DCT scale, not a full decode
    assert (d.meta.width, d.meta.height) == (4000, 3000)


def test_text_fields_in_jpeg(tmp_path: Path) -> None:
    p = ig.write_jpeg(
        tmp_path / "t.jpg",
        image_description="Grandma's 80th birthday",
        user_comment="cake by Ana",
        xp_comment="Große Feier",
        xp_keywords=["family", "birthday"],
        xmp=ig.xmp_packet(description="Party in the garden", subjects=["garden", "party"]),
        iptc_keywords=["Lisboa", "summer"],
    )
    t = texts(meta_of(p))
    assert t["description/exif:ImageDescription"] == "Grandma's 80th birthday"
    assert t["description/exif:UserComment"] == "cake by Ana"
    assert t["description/exif:XPComment"] == "Große Feier"
    assert t["keywords/exif:XPKeywords"] == "family; birthday"
    assert t["description/xmp:dc:description"] == "Party in the garden"
    assert t["keywords/xmp:dc:subject"] == "garden; party"
    assert t["keywords/iptc:Keywords"] == "Lisboa; summer"


def test_camera_placeholder_descriptions_are_ignored(tmp_path: Path) -> None:
    p = ig.write_jpeg(tmp_path / "o.jpg", image_description="OLYMPUS DIGITAL CAMERA         ")
    assert not meta_of(p).texts


def test_automatic1111_prompt(tmp_path: Path) -> None:
    p = ig.write_png(tmp_path / "sd.png", text={
        "parameters": ig.a1111_parameters("a red dragon over a castle", "blurry, lowres")})
    t = texts(meta_of(p))
    assert t["prompt/a1111"] == "a red dragon over a castle"
    assert t["negative_prompt/a1111"] == "blurry, lowres"
    assert t["generation/a1111"].startswith("Steps:")


def test_comfyui_prompt_and_workflow(tmp_path: Path) -> None:
    p = ig.write_png(tmp_path / "c.png", text={
        "prompt": ig.comfyui_prompt_json("a red dragon", "ugly"),
        "workflow": ig.comfyui_workflow_json("a red dragon", "ugly")})
    t = texts(meta_of(p))
    assert "a red dragon" in t["prompt/comfyui"]
    assert "ugly" not in t["prompt/comfyui"]
    assert t["negative_prompt/comfyui"] == "ugly"
    # A workflow alone (no API graph) still yields the prompt.
    p = ig.write_png(tmp_path / "w.png",
                     text={"workflow": ig.comfyui_workflow_json("misty forest", "ugly")})
    assert "misty forest" in texts(meta_of(p))["prompt/comfyui"]


@pytest.mark.parametrize("kind", ["png", "tiff", "webp", "bmp", "gif", "heic"])
def test_every_format_decodes(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"x.{kind}"
    writer = {"png": ig.write_png, "tiff": ig.write_tiff, "webp": ig.write_webp,
              "bmp": ig.write_bmp, "gif": ig.write_gif, "heic": ig.write_heic}[kind]
    writer(path, (320, 240))
    d = decode(path.read_bytes(), str(path), want=GRID)
    assert d.image.mode == "RGB"
    assert (d.meta.width, d.meta.height) == (320, 240)
    assert d.meta.format in {"PNG", "TIFF", "WEBP", "BMP", "GIF", "HEIF"}


def test_gif_uses_the_first_frame(tmp_path: Path) -> None:
    path = ig.write_gif(tmp_path / "anim.gif", (300, 300), frames=3)
    img = decode(path.read_bytes(), str(path), want=GRID).image
    r, g, b = img.getpixel((150, 150))[:3]
    assert r > 180 and g < 90 and b < 90  # frame 0's marker is red


@pytest.mark.parametrize("kind", ["tiff", "webp", "heic"])
def test_exif_in_other_containers(tmp_path: Path, kind: str) -> None:
    writer = {"tiff": ig.write_tiff, "webp": ig.write_webp, "heic": ig.write_heic}[kind]
    path = writer(tmp_path / f"e.{kind}", (320, 240), datetime_original="2022:12:24 19:30:00",
                  make="Apple", model="iPhone 15", gps=(48.8566, 2.3522))
    m = meta_of(path)
    assert m.taken_at == "2022-12-24T19:30:00"
    assert (m.camera_make, m.camera_model) == ("Apple", "iPhone 15")
    assert m.gps_lat == pytest.approx(48.8566, abs=1e-4)


@pytest.mark.parametrize("kind", ["dng", "cr2", "nef", "arw"])
def test_raw_through_its_embedded_preview(tmp_path: Path, kind: str) -> None:
    writer = {"dng": ig.write_dng, "cr2": ig.write_cr2, "nef": ig.write_nef,
              "arw": ig.write_arw}[kind]
    path = writer(tmp_path / f"r.{kind}", preview_size=(1024, 768),
                  datetime_original="2021:06:01 12:00:00", orientation=6)
    d = decode(path.read_bytes(), str(path), want=GRID)
    assert d.meta.taken_at == "2021-06-01T12:00:00"
    assert d.meta.camera_make
    assert d.meta.orientation == 6
    assert d.meta.format == kind.upper() and d.meta.mime is not None and "x-" in d.meta.mime
    assert d.image.size[1] > d.image.size[0]  # shown upright (portrait)


def test_raw_without_preview_is_unsupported(tmp_path: Path) -> None:
    # Without a preview the sensor data is developed (tests/test_raw.py); without either,
    # there is nothing to show.
    path = ig.write_raw_without_preview(tmp_path / "r.dng")
    with pytest.raises(UnsupportedError, match="preview"):
        decode(path.read_bytes()[:2000], str(path), want=GRID)


@pytest.mark.parametrize(
    ("writer", "message"),
    [
        (ig.write_zero_byte, "empty file"),
        (ig.write_not_an_image, "not an image"),
        (ig.write_png_bomb, "decompression bomb"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path: Path, writer: object, message: str) -> None:
    path = tmp_path / "bad.jpg"
    writer(path)  # type: ignore[operator]
    with pytest.raises(DecodeError, match=message):
        decode(path.read_bytes(), str(path), want=GRID)


def test_a_truncated_jpeg_keeps_its_metadata_and_what_decodes(tmp_path: Path) -> None:
    path = ig.write_truncated_jpeg(tmp_path / "cut.jpg", (640, 480), keep=0.5,
                                   datetime_original="2009:09:09 10:11:12", make="Canon",
                                   model="EOS 5D", gps=(38.7223, -9.1393, 10.0))
    d = decode(path.read_bytes(), str(path), want=SizeRequest())
    m = d.meta
    assert m.damaged and any("truncated" in w for w in m.warnings)
    assert (m.taken_at, m.taken_at_source) == ("2009-09-09T10:11:12", "exif:DateTimeOriginal")
    assert (m.camera_make, m.camera_model, m.width, m.height) == ("Canon", "EOS 5D", 640, 480)
    assert m.gps_lat == pytest.approx(38.7223, abs=1e-5)
    # The top of the picture decoded; where the data ended, grey.
    full = Image.open(ig.write_jpeg(tmp_path / "whole.jpg", (640, 480))).convert("RGB")
    assert d.image.size == (640, 480)
    top = d.image.crop((0, 0, 640, 40)).tobytes()
    assert top != Image.new("RGB", (640, 40), (128, 128, 128)).tobytes()
    assert d.image.getpixel((639, 479)) == (128, 128, 128)
    assert full.getpixel((639, 479)) != (128, 128, 128)


def test_a_jpeg_cut_before_its_picture_is_kept_with_its_metadata_and_a_grey_picture(
        tmp_path: Path) -> None:
    whole = ig.write_jpeg(tmp_path / "w.jpg", (640, 480), datetime_original="2010:01:02 03:04:05",
                          make="NIKON CORPORATION", model="NIKON D90")
    data = whole.read_bytes()
    sof = data.index(b"\xff\xdb")   # the first quantisation table: after EXIF, before pixels
    cut = tmp_path / "header-only.jpg"
    cut.write_bytes(data[:sof])
    d = decode(cut.read_bytes(), str(cut), want=GRID)
    assert d.meta.damaged and d.meta.taken_at == "2010-01-02T03:04:05"
    assert d.meta.camera_model == "NIKON D90" and d.meta.mime == "image/jpeg"
    assert d.image.getcolors() == [(d.image.width * d.image.height, (128, 128, 128))]
    # A file that says nothing of its own is still an error, not a grey photo.
    bare = tmp_path / "bare.jpg"
    bare.write_bytes(ig.write_jpeg(tmp_path / "b.jpg", (64, 48)).read_bytes()[:200])
    with pytest.raises(DecodeError):
        decode(bare.read_bytes(), str(bare), want=GRID)


def test_bit_rot_in_entropy_data_never_crashes(tmp_path: Path) -> None:
    # libjpeg only warns about bad Huffman codes, as every viewer does it shows garbled
    # pixels; Glimpse must either do the same or report a clean DecodeError.
    path = ig.write_corrupt_jpeg(tmp_path / "rot.jpg", (640, 480))
    try:
        d = decode(path.read_bytes(), str(path), want=GRID)
    except DecodeError as exc:
        assert "corrupt" in str(exc)
    else:
        assert (d.meta.width, d.meta.height) == (640, 480) and d.image.mode == "RGB"


def test_wrong_extension_is_read_by_content(tmp_path: Path) -> None:
    png = ig.write_png(tmp_path / "really-a-png.png", (200, 100))
    disguised = tmp_path / "holiday.jpg"
    os.rename(png, disguised)
    m = meta_of(disguised)
    assert m.format == "PNG" and m.mime == "image/png"
    assert (m.width, m.height) == (200, 100)


def test_offset_derived_from_the_gps_clock(tmp_path: Path) -> None:
    # Cameras without OffsetTime* but with GPS record UTC in GPSDateStamp/GPSTimeStamp.
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2023:08:01 21:15:10"  # local wall clock
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (35.0, 40.0, 0.0), 3: "E", 4: (139.0, 45.0, 0.0),
                7: (12.0, 15.0, 9.0), 0x1D: "2023:08:01"})  # 12:15:09 UTC: Tokyo is +09:00
    path = tmp_path / "tokyo.jpg"
    Image.new("RGB", (64, 48), (10, 200, 30)).save(path, "JPEG", exif=exif.tobytes())
    m = meta_of(path)
    assert m.taken_at == "2023-08-01T21:15:10+09:00"
    assert m.taken_at_offset == 540
    assert m.gps_lat == pytest.approx(35 + 40 / 60)


def test_utf8_in_ascii_exif_tags_is_read_as_utf8(tmp_path: Path) -> None:
    # Phones and exiftool write UTF-8 into ImageDescription (an ASCII tag).
    p = ig.write_jpeg(tmp_path / "u.jpg", image_description="Crème brûlée at the café",
                      make="Café Cameras", xp_comment="京都の寺")
    m = meta_of(p)
    t = texts(m)
    assert t["description/exif:ImageDescription"] == "Crème brûlée at the café"
    assert m.camera_make == "Café Cameras"
    assert t["description/exif:XPComment"] == "京都の寺"
    p = ig.write_jpeg(tmp_path / "k.jpg", image_description="京都の寺")
    assert texts(meta_of(p))["description/exif:ImageDescription"] == "京都の寺"


def _jpeg_with_gps_refs(path: Path, lat_ref: str | None, lon_ref: str | None) -> Path:
    """A JPEG whose GPS IFD holds Paris's coordinates under the given hemisphere letters
    (None: the tag left out), written by Pillow's EXIF writer as a phone app would."""
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({2: (48.0, 51.0, 24.0), 4: (2.0, 21.0, 8.0)})
    if lat_ref is not None:
        gps[1] = lat_ref
    if lon_ref is not None:
        gps[3] = lon_ref
    Image.new("RGB", (64, 48), (10, 200, 30)).save(path, "JPEG", exif=exif.tobytes())
    return path


@pytest.mark.parametrize(("lat_ref", "lon_ref", "told"), [
    ("X", "E", "latitude hemisphere is 'X'"),
    ("N", "Q", "longitude hemisphere is 'Q'"),
    ("", "W", "latitude hemisphere is ''"),
    (None, "E", "latitude hemisphere is missing"),
    ("N", None, "longitude hemisphere is missing"),
    ("North", "E", "latitude hemisphere is 'North'"),
    ("E", "N", "latitude hemisphere is 'E'"),  # the letters swapped
    ("x", "e", "latitude hemisphere is 'x'"),
])
def test_gps_with_an_unknown_hemisphere_is_no_position_and_a_warning(
        tmp_path: Path, lat_ref: str | None, lon_ref: str | None, told: str) -> None:
    from tests.test_xmp import exiftool

    path = _jpeg_with_gps_refs(tmp_path / "where.jpg", lat_ref, lon_ref)
    # The file holds what the case says (ExifTool, the reference reader, reads the junk
    # letter back and, lenient, would place the photo in the north-east all the same).
    seen = exiftool("-n", "-GPSLatitudeRef", "-GPSLongitudeRef", "-GPSLatitude", str(path))[0]
    assert seen["GPSLatitude"] == pytest.approx(48.856667, abs=1e-5)
    if lat_ref:
        assert str(seen["GPSLatitudeRef"]) == lat_ref
    m = meta_of(path)
    assert (m.gps_lat, m.gps_lon, m.gps_alt) == (None, None, None)
    assert any(told in w and "position ignored" in w for w in m.warnings), m.warnings


def test_gps_hemisphere_letters_in_lower_case_are_read(tmp_path: Path) -> None:
    m = meta_of(_jpeg_with_gps_refs(tmp_path / "south.jpg", "s", "w"))
    assert m.gps_lat == pytest.approx(-(48 + 51 / 60 + 24 / 3600), abs=1e-6)
    assert m.gps_lon == pytest.approx(-(2 + 21 / 60 + 8 / 3600), abs=1e-6)
    assert m.warnings == []
    m = meta_of(_jpeg_with_gps_refs(tmp_path / "north.jpg", "n", "e"))
    assert m.gps_lat == pytest.approx(48.856667, abs=1e-5)
    assert m.gps_lon == pytest.approx(2.352222, abs=1e-5)
    # A receiver without a fix writes 0,0, often with empty letters: no place, no warning.
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "", 2: (0.0, 0.0, 0.0), 3: "", 4: (0.0, 0.0, 0.0)})
    Image.new("RGB", (64, 48)).save(tmp_path / "nofix.jpg", "JPEG", exif=exif.tobytes())
    m = meta_of(tmp_path / "nofix.jpg")
    assert (m.gps_lat, m.warnings) == (None, [])


def test_unknown_hemisphere_is_reported_by_ingestion(lib: Library, photo_dir: Path) -> None:
    _jpeg_with_gps_refs(photo_dir / "junk.jpg", "X", "E")
    _jpeg_with_gps_refs(photo_dir / "good.jpg", "S", "E")
    lib.add_root(photo_dir)
    assert lib.index().new == 2
    got = {r["filename"]: (r["gps_lat"], r["gps_lon"]) for r in lib.reader().rows(
        "SELECT filename, gps_lat, gps_lon FROM photos")}
    assert got["junk.jpg"] == (None, None)
    assert got["good.jpg"][0] == pytest.approx(-48.856667, abs=1e-5)
    errors = lib.reader().rows("SELECT path, stage, reason FROM errors")
    assert [(Path(e["path"]).name, e["stage"]) for e in errors] == [("junk.jpg", "metadata")]
    assert "hemisphere is 'X'" in errors[0]["reason"]


def _rgb(img: Image.Image, x: int, y: int) -> tuple[int, ...]:
    pixel = img.getpixel((x, y))
    assert isinstance(pixel, tuple)
    return pixel


@pytest.mark.parametrize(("channels", "big_endian", "mode"), [
    (1, False, "I;16"), (1, True, "I;16B"), (3, False, "RGB"), (3, True, "RGB")])
def test_16_bit_tiffs_are_tone_mapped_to_8_bits(
        tmp_path: Path, channels: int, big_endian: bool, mode: str) -> None:
    path = ig.write_tiff16(tmp_path / "scan.tif", (256, 32), channels=channels,
                           big_endian=big_endian)
    with Image.open(path) as img:
        assert img.mode == mode  # what Pillow makes of the file: the case under test
    d = decode(path.read_bytes(), str(path), want=SizeRequest())
    assert d.image.mode == "RGB" and d.image.size == (256, 32)
    assert (d.meta.width, d.meta.height, d.meta.format) == (256, 32, "TIFF")
    row = [_rgb(d.image, x, 10) for x in range(256)]
    # The ramp 0..65535 becomes 0..255, evenly: scaled, neither clipped to white nor cut off.
    assert row[0] == (0, 0, 0) and row[-1] == (255, 255, 255)
    greys = [p[0] for p in row]
    assert all(p == (g, g, g) for p, g in zip(row, greys, strict=True))
    assert all(abs(g - x) <= 1 for x, g in enumerate(greys))


def test_16_bit_tiff_with_a_12_bit_range_uses_the_range_it_declares(tmp_path: Path) -> None:
    # A 12-bit scanner keeps 0..4095 in 16-bit samples and says so in MaxSampleValue:
    # dividing by 256 would show it nearly black.
    path = ig.write_tiff16(tmp_path / "scan12.tif", (256, 8), big_endian=True,
                           max_sample_value=4095)
    d = decode(path.read_bytes(), str(path), want=SizeRequest())
    greys = [_rgb(d.image, x, 4)[0] for x in range(256)]
    assert greys[0] == 0 and greys[-1] == 255
    assert all(abs(g - x) <= 1 for x, g in enumerate(greys))


def test_16_bit_tiffs_are_indexed_with_thumbnails(lib: Library, photo_dir: Path) -> None:
    ig.write_tiff16(photo_dir / "little.tif", (640, 480))
    ig.write_tiff16(photo_dir / "big-endian.tif", (640, 480), big_endian=True)
    ig.write_tiff16(photo_dir / "colour.tif", (640, 480), channels=3, big_endian=True)
    lib.add_root(photo_dir)
    report = lib.index()
    assert (report.new, report.errors) == (3, 0)
    assert lib.reader().rows("SELECT path, reason FROM errors") == []
    for r in lib.reader().rows("SELECT content_hash, width, height, status FROM photos"):
        assert (r["width"], r["height"], r["status"]) == (640, 480, "ok")
        with Image.open(lib.thumbnails.path_for(str(r["content_hash"]))) as thumb:
            assert thumb.size == (256, 192)
            dark, light = _rgb(thumb, 2, 96), _rgb(thumb, 253, 96)
            assert max(dark) < 20 and min(light) > 235  # the ramp, not a white or black field


def test_exif_after_a_pngs_pixels_is_read_without_decoding_them(tmp_path: Path) -> None:
    from glimpse_desktop.kernel.decode import read_exif
    from tests.test_ingest import _WatchedZip

    exif = Image.Exif()
    exif[0x0110] = "Pano Camera"
    exif.get_ifd(0x8769)[0x9003] = "2024:01:02 03:04:05"
    path = ig.write_quartered_png(tmp_path / "pano.png", (4096, 2048))
    data = path.read_bytes()
    # Encoders may put eXIf after the pixels (the PNG spec allows it): before IEND.
    tiff = exif.tobytes()[len(b"Exif\0\0"):]
    path.write_bytes(data[:-12] + ig._png_chunk(b"eXIf", tiff) + data[-12:])
    _WatchedZip.log, _WatchedZip.lock = [], threading.Lock()
    before = Image.DECODERS.get("zip")
    Image.register_decoder("zip", _WatchedZip)  # type: ignore[arg-type]
    try:
        got = read_exif(str(path))
        assert got is not None and got[0x0110] == "Pano Camera"
        assert got.get_ifd(0x8769)[0x9003] == "2024:01:02 03:04:05"
        assert _WatchedZip.log == []  # not one pixel decoded
        with Image.open(path) as img:  # what Pillow alone does to find it
            assert img.getexif()[0x0110] == "Pano Camera"
        assert _WatchedZip.log != []
    finally:
        Image.DECODERS.pop("zip", None)
        if before is not None:
            Image.DECODERS["zip"] = before
    assert meta_of(path).camera_model == "Pano Camera"
    assert read_exif(str(tmp_path / "absent.png")) is None


def test_a_plugins_metadata_reader_adds_what_the_others_did_not_find(tmp_path: Path) -> None:
    """Readers merge in plugin order, the first value wins; a reader that fails costs only
    its own values; a plugin registered after decoding began is heard from the next photo."""
    from glimpse_desktop.kernel import plugins
    from glimpse_desktop.kernel.hookspecs import hookimpl
    from glimpse_desktop.kernel.meta import MetadataReader, PhotoSource, TextItem

    def read(photo: PhotoSource) -> PhotoMeta:
        return PhotoMeta(taken_at="1999-12-31T23:59:00", taken_ts=946684740.0,
                         taken_at_source="test:sidecar", camera_make="Plugin cam",
                         lens="Plugin lens", gps_lat=1.5, gps_lon=2.5,
                         texts=[TextItem("description", "test:note", f"{len(photo.data)} bytes")])

    def broken(photo: PhotoSource) -> PhotoMeta:
        raise RuntimeError("boom")

    class Plugin:
        @hookimpl
        def glimpse_metadata_readers(self) -> list[MetadataReader]:
            return [MetadataReader("test", read), MetadataReader("broken", broken)]

    dated = ig.write_jpeg(tmp_path / "dated.jpg", datetime_original="2023:07:14 18:03:22",
                          make="Canon", gps=(38.7223, -9.1393))
    bare = ig.write_jpeg(tmp_path / "bare.jpg")
    assert meta_of(bare).taken_at_source == "file:mtime"
    host = plugins.host()
    host.register(Plugin(), name="test-metadata-reader")
    try:
        d, b = meta_of(dated), meta_of(bare)
    finally:
        host.unregister("test-metadata-reader")

    assert (d.taken_at, d.taken_at_source) == ("2023-07-14T18:03:22", "exif:DateTimeOriginal")
    assert d.camera_make == "Canon" and d.lens == "Plugin lens"
    assert (d.gps_lat, d.gps_lon) == (38.7223, -9.1393)     # a position is taken whole
    assert (b.taken_at, b.taken_at_source) == ("1999-12-31T23:59:00", "test:sidecar")
    assert (b.camera_make, b.gps_lat, b.gps_lon) == ("Plugin cam", 1.5, 2.5)
    assert texts(b)["description/test:note"] == f"{bare.stat().st_size} bytes"
    assert "metadata reader broken failed: RuntimeError: boom" in b.warnings
    assert meta_of(bare).taken_at_source == "file:mtime"     # gone with its plugin


def _sidecar(path: Path, *, original: str | None = None, create: str | None = None,
             rating: int | None = None, gps: tuple[str, str] | None = None) -> Path:
    """An XMP sidecar as darktable or Lightroom writes one."""
    props = []
    if original:
        props.append(f"<exif:DateTimeOriginal>{original}</exif:DateTimeOriginal>")
    if create:
        props.append(f"<xmp:CreateDate>{create}</xmp:CreateDate>")
    if rating is not None:
        props.append(f"<xmp:Rating>{rating}</xmp:Rating>")
    if gps:
        props.append(f"<exif:GPSLatitude>{gps[0]}</exif:GPSLatitude>"
                     f"<exif:GPSLongitude>{gps[1]}</exif:GPSLongitude>")
    path.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        + "".join(props) + "</rdf:Description></rdf:RDF></x:xmpmeta>", encoding="utf-8")
    return path


def test_a_sidecar_corrects_the_date_rating_and_place(tmp_path: Path) -> None:
    p = ig.write_jpeg(tmp_path / "a.jpg", datetime_original="2001:01:01 00:00:00",
                      gps=(10.0, 10.0))
    _sidecar(tmp_path / "a.jpg.xmp", original="2009-09-09T10:11:12+02:00", rating=4,
             gps=("54,59.380000N", "1,30.500000W"))
    m = meta_of(p)
    assert (m.taken_at, m.taken_at_source) == ("2009-09-09T10:11:12+02:00",
                                               "sidecar:xmp:exif:DateTimeOriginal")
    assert m.rating == 4
    assert (m.gps_lat, m.gps_lon) == (pytest.approx(54.989667, abs=1e-5),
                                      pytest.approx(-1.508333, abs=1e-5))
    # Its xmp:CreateDate (when a converter made it) does not beat the camera's own date.
    q = ig.write_jpeg(tmp_path / "b.jpg", datetime_original="2001:01:01 00:00:00")
    _sidecar(tmp_path / "b.jpg.xmp", create="2020-02-02T02:02:02")
    assert meta_of(q).taken_at_source == "exif:DateTimeOriginal"


def test_a_name_xmp_sidecar_belongs_to_its_photo_only_when_the_name_is_its_own(
        tmp_path: Path) -> None:
    # Lightroom's IMG_1.xmp beside IMG_1.CR2 and IMG_1.JPG is the RAW's, not the JPEG's.
    pair = ig.write_jpeg(tmp_path / "IMG_1.JPG", datetime_original="2001:01:01 00:00:00")
    ig.write_dng(tmp_path / "IMG_1.CR2", preview_size=(64, 48))
    _sidecar(tmp_path / "IMG_1.xmp", original="2009-09-09T10:11:12")
    assert meta_of(pair).taken_at_source == "exif:DateTimeOriginal"
    # Alone with its name, the photo's it is.
    alone = ig.write_jpeg(tmp_path / "solo.jpg", datetime_original="2001:01:01 00:00:00")
    _sidecar(tmp_path / "solo.xmp", original="2009-09-09T10:11:12")
    assert meta_of(alone).taken_at == "2009-09-09T10:11:12"


@pytest.mark.parametrize(("name", "when"), [
    ("IMG_20190714_153012.jpg", "2019-07-14T15:30:12"),
    ("PXL_20230101_101112345.jpg", "2023-01-01T10:11:12.345000"),
    ("IMG-20190714-WA0003.jpg", "2019-07-14T00:00:00"),
    ("Screenshot_2020-05-01-10-11-12.png", "2020-05-01T10:11:12"),
    ("2019-07-14 15.30.12.jpg", "2019-07-14T15:30:12"),
    ("Screenshot 2020-05-01 at 10.11.12.png", "2020-05-01T10:11:12"),
    ("20190714_153012.jpg", "2019-07-14T15:30:12"),
    ("IMG_20190714_153012_HDR.jpg", "2019-07-14T15:30:12"),
    ("IMG_1234.jpg", None),              # a counter
    ("DSC_20191301.jpg", None),          # no 13th month
    ("ab20190714cd.jpg", None),          # inside a hash
    ("abc120190714.jpg", None),
    ("v2019.12.10.jpg", None),           # a version
    ("1920x1080 wallpaper.png", None),
])
def test_dates_in_file_names(name: str, when: str | None) -> None:
    from glimpse_desktop.metadata.values import date_from_filename

    found = date_from_filename(f"/photos/{name}")
    assert (found.isoformat() if found else None) == when
