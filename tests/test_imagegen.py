"""The test-image factory writes what real devices write; check it with independent readers."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, IptcImagePlugin, TiffImagePlugin, UnidentifiedImageError

from tests.imagegen import (
    FRAME_MARKER_COLOURS,
    a1111_parameters,
    comfyui_prompt_json,
    comfyui_workflow_json,
    exif_block,
    photo_like,
    write_bmp,
    write_corrupt_jpeg,
    write_gif,
    write_heic,
    write_jpeg,
    write_not_an_image,
    write_png,
    write_png_bomb,
    write_tiff,
    write_truncated_jpeg,
    write_webp,
    write_zero_byte,
    xmp_packet,
)


def _dms_to_deg(dms: tuple[float, float, float]) -> float:
    return float(dms[0]) + float(dms[1]) / 60 + float(dms[2]) / 3600


@pytest.mark.parametrize(
    ("lat", "lon", "alt", "refs"),
    [
        (48.858222, 2.2945, 35.0, ("N", "E", b"\x00")),  # Paris
        (40.689247, -74.044502, 93.5, ("N", "W", b"\x00")),  # New York
        (-33.856784, 151.215297, 4.0, ("S", "E", b"\x00")),  # Sydney
        (-22.951916, -43.210487, -12.25, ("S", "W", b"\x01")),  # Rio, below sea level
    ],
)
def test_gps_refs_and_rationals(tmp_path: Path, lat: float, lon: float, alt: float,
                                refs: tuple[str, str, bytes]) -> None:
    path = write_jpeg(tmp_path / "gps.jpg", (64, 48), gps=(lat, lon, alt))
    with Image.open(path) as img:
        gps = img.getexif().get_ifd(0x8825)
    assert (gps[1], gps[3], gps[5]) == refs
    assert gps[0] == b"\x02\x03\x00\x00"
    # Degrees and minutes are whole, seconds carry the precision, as cameras write them.
    assert gps[2][0].denominator == 1 and gps[2][1].denominator == 1
    assert 0 <= float(gps[2][2]) < 60 and 0 <= float(gps[4][2]) < 60
    assert _dms_to_deg(gps[2]) == pytest.approx(abs(lat), abs=1e-6)
    assert _dms_to_deg(gps[4]) == pytest.approx(abs(lon), abs=1e-6)
    assert float(gps[6]) == pytest.approx(abs(alt))


def test_gps_without_altitude(tmp_path: Path) -> None:
    with Image.open(write_jpeg(tmp_path / "a.jpg", (32, 32), gps=(0.0, -0.5))) as img:
        gps = img.getexif().get_ifd(0x8825)
    assert gps[1] == "N" and gps[3] == "W" and 5 not in gps and 6 not in gps


def test_exif_fields_land_in_the_camera_ifds(tmp_path: Path) -> None:
    path = write_jpeg(
        tmp_path / "e.jpg", (64, 48), datetime_original="2021:06:01 12:00:00",
        offset_time_original="+02:00", subsec_time_original="042",
        datetime_digitized="2021:06:01 12:00:01", datetime="2021:06:02 08:00:00",
        make="Apple", model="iPhone 12", lens_model="iPhone 12 back camera 4.2mm f/1.6",
        orientation=6, exposure_time=1 / 250, f_number=1.6, iso=64, focal_length=4.2,
        image_description="Harbour at dusk",
    )
    with Image.open(path) as img:
        exif = img.getexif()
        sub = exif.get_ifd(0x8769)
    assert (exif[0x010F], exif[0x0110], exif[0x0112]) == ("Apple", "iPhone 12", 6)
    assert exif[0x0132] == "2021:06:02 08:00:00" and exif[0x010E] == "Harbour at dusk"
    assert 0x9003 not in exif  # DateTimeOriginal belongs in the ExifIFD, not IFD0
    assert sub[0x9003] == "2021:06:01 12:00:00" and sub[0x9004] == "2021:06:01 12:00:01"
    assert (sub[0x9011], sub[0x9291]) == ("+02:00", "042")
    assert sub[0x829A] == pytest.approx(1 / 250) and sub[0x829D] == pytest.approx(1.6)
    assert sub[0x8827] == 64 and sub[0x920A] == pytest.approx(4.2)
    assert sub[0xA434].startswith("iPhone 12")


def test_no_fields_no_exif(tmp_path: Path) -> None:
    assert exif_block() == b""
    with Image.open(write_jpeg(tmp_path / "plain.jpg", (32, 32))) as img:
        assert "exif" not in img.info


def _exif_ifd_types(jpeg: Path) -> dict[int, int]:
    """Field types of the ExifIFD, which Pillow's Exif mapping does not expose."""
    with Image.open(jpeg) as img:
        tiff = img.info["exif"][6:]
    ifd0 = TiffImagePlugin.ImageFileDirectory_v2(tiff[:8])
    fp = io.BytesIO(tiff)
    fp.seek(ifd0.next)
    ifd0.load(fp)
    sub = TiffImagePlugin.ImageFileDirectory_v2(tiff[:8])
    fp.seek(ifd0[0x8769])
    sub.load(fp)
    return dict(sub.tagtype)


@pytest.mark.parametrize(
    ("text", "header", "encoding"),
    [("Sunset over the bay", b"ASCII\0\0\0", "ascii"), ("Café – 東京", b"UNICODE\0", "utf-16-le")],
)
def test_user_comment_has_charset_header(tmp_path: Path, text: str, header: bytes,
                                         encoding: str) -> None:
    path = write_jpeg(tmp_path / "uc.jpg", (32, 32), user_comment=text)
    with Image.open(path) as img:
        value = img.getexif().get_ifd(0x8769)[0x9286]
    assert value == header + text.encode(encoding)
    assert _exif_ifd_types(path)[0x9286] == 7  # UNDEFINED, as the EXIF spec requires


def test_xp_fields_are_utf16le(tmp_path: Path) -> None:
    path = write_jpeg(tmp_path / "xp.jpg", (32, 32), xp_comment="Grüße aus Köln",
                      xp_keywords=["family", "Zürich", "夏"])
    with Image.open(path) as img:
        exif = img.getexif()
    comment, keywords = exif[0x9C9C], exif[0x9C9E]
    assert isinstance(comment, bytes) and isinstance(keywords, bytes)
    assert comment == "Grüße aus Köln".encode("utf-16-le") + b"\0\0"  # NUL-terminated, as Windows
    assert keywords.decode("utf-16-le").rstrip("\0").split(";") == ["family", "Zürich", "夏"]


def test_xmp_and_iptc_segments(tmp_path: Path) -> None:
    packet = xmp_packet("Beach <day> & night", ["sea", "sand", "Ærø"], "2021-06-01T12:00:00+02:00")
    path = write_jpeg(tmp_path / "x.jpg", (64, 48), datetime_original="2021:06:01 12:00:00",
                      xmp=packet, iptc_keywords=["holiday", "Ærø"])
    with Image.open(path) as img:
        xmp = img.getxmp()["xmpmeta"]["RDF"]["Description"]
        iptc = IptcImagePlugin.getiptcinfo(img)
        assert img.getexif().get_ifd(0x8769)[0x9003] == "2021:06:01 12:00:00"  # EXIF still intact
    assert xmp["description"]["Alt"]["li"]["text"] == "Beach <day> & night"
    assert xmp["subject"]["Bag"]["li"] == ["sea", "sand", "Ærø"]
    assert xmp["CreateDate"] == xmp["DateCreated"] == "2021-06-01T12:00:00+02:00"
    assert iptc is not None
    assert iptc[(2, 25)] == [b"holiday", "Ærø".encode()]
    data = path.read_bytes()
    assert data.index(b"Exif\0\0") < data.index(b"http://ns.adobe.com/xap/1.0/\0") < data.index(
        b"Photoshop 3.0\0")


def test_mtime(tmp_path: Path) -> None:
    path = write_jpeg(tmp_path / "m.jpg", (16, 16), mtime=1_600_000_000.0)
    assert path.stat().st_mtime == 1_600_000_000.0


def test_photo_like_is_deterministic_noisy_and_seed_dependent() -> None:
    a, b = photo_like(320, 240, seed=1), photo_like(320, 240, seed=1)
    c = photo_like(320, 240, seed=2)
    assert a.mode == "RGB" and a.size == (320, 240)
    assert a.tobytes() == b.tobytes()
    diff = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(c, dtype=np.int16)).mean()
    assert diff > 20
    buf = io.BytesIO()
    a.save(buf, "JPEG", quality=90)
    assert len(buf.getvalue()) > 0.25 * 320 * 240  # texture and noise cost bytes, as in photos


def test_png_text_chunks(tmp_path: Path) -> None:
    params = a1111_parameters("red dragon, castle", "blurry")
    path = write_png(tmp_path / "ai.png", (64, 64), text={
        "parameters": params,
        "prompt": comfyui_prompt_json("red dragon, castle"),
        "workflow": comfyui_workflow_json("red dragon, castle"),
        "Comment": "夕焼け",  # not Latin-1: must go to iTXt
    })
    with Image.open(path) as img:
        text = dict(img.text)  # type: ignore[attr-defined]
    assert text["parameters"] == params
    assert params.splitlines()[1] == "Negative prompt: blurry"
    assert "Sampler: Euler a" in params.splitlines()[2]
    prompt = json.loads(text["prompt"])
    encoders = [n for n in prompt.values() if n["class_type"] == "CLIPTextEncode"]
    assert encoders[0]["inputs"]["text"] == "red dragon, castle"
    workflow = json.loads(text["workflow"])
    assert ["red dragon, castle"] in [n["widgets_values"] for n in workflow["nodes"]
                                      if n["type"] == "CLIPTextEncode"]
    assert text["Comment"] == "夕焼け"
    assert b"iTXtComment" in path.read_bytes() and b"tEXtparameters" in path.read_bytes()


def test_png_bomb_is_small_but_declares_a_huge_size(tmp_path: Path) -> None:
    path = write_png_bomb(tmp_path / "bomb.png")
    data = path.read_bytes()
    assert len(data) < 1_000_000
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">LL", data[16:24])
    assert width * height >= 30000 * 30000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(path)


def test_heic_opens_with_exif_date(tmp_path: Path) -> None:
    path = write_heic(tmp_path / "p.heic", (160, 120), datetime_original="2020:01:02 03:04:05",
                      make="Apple", model="iPhone 13", gps=(51.5, -0.12))
    heif = pillow_heif.open_heif(path)
    assert heif.size == (160, 120)
    exif = Image.Exif()
    exif.load(heif.info["exif"])
    assert exif[0x010F] == "Apple"
    assert exif.get_ifd(0x8769)[0x9003] == "2020:01:02 03:04:05"
    assert exif.get_ifd(0x8825)[3] == "W"


def test_heic_orientation_is_applied_by_the_decoder(tmp_path: Path) -> None:
    """pillow-heif stores EXIF orientation as irot/imir and hands back upright pixels.

    Through Pillow the EXIF copy then says 1 and ``info["original_orientation"]`` keeps the
    camera's value; rotating again by EXIF would turn the photo twice.
    """
    path = write_heic(tmp_path / "r.heic", (160, 120), orientation=6)
    pillow_heif.register_heif_opener()
    with Image.open(path) as img:
        assert img.size == (120, 160)
        assert img.getexif().get(0x0112, 1) == 1
        assert img.info.get("original_orientation") == 6


def test_other_formats_round_trip(tmp_path: Path) -> None:
    date = "2019:12:31 23:59:59"
    tiff = write_tiff(tmp_path / "a.tif", (64, 48), datetime_original=date, make="Scanner",
                      gps=(10.0, 20.0))
    with Image.open(tiff) as img:
        assert img.getexif().get_ifd(0x8769)[0x9003] == date
        assert img.getexif().get_ifd(0x8825)[1] == "N"
    with pytest.raises(ValueError):
        write_tiff(tmp_path / "b.tif", (8, 8), compression="tiff_lzw", make="x")
    webp = write_webp(tmp_path / "a.webp", (64, 48), datetime_original=date, orientation=3)
    with Image.open(webp) as img:
        assert img.format == "WEBP"
        assert img.getexif()[0x0112] == 3
        assert img.getexif().get_ifd(0x8769)[0x9003] == date
    with Image.open(write_bmp(tmp_path / "a.bmp", (64, 48))) as img:
        assert (img.format, img.size) == ("BMP", (64, 48))


def test_animated_gif_first_frame_is_marked(tmp_path: Path) -> None:
    with Image.open(write_gif(tmp_path / "a.gif", (96, 72), frames=3)) as img:
        assert getattr(img, "n_frames", 1) == 3
        assert img.convert("RGB").getpixel((48, 36)) == FRAME_MARKER_COLOURS[0]
        img.seek(1)
        assert img.convert("RGB").getpixel((48, 36)) == FRAME_MARKER_COLOURS[1]


def test_bad_inputs(tmp_path: Path) -> None:
    truncated = write_truncated_jpeg(tmp_path / "t.jpg", (64, 48),
                                     datetime_original="2020:01:01 00:00:00")
    with Image.open(truncated) as img:  # the header survives the cut
        assert img.size == (64, 48)
        with pytest.raises(OSError):
            img.load()
    assert write_zero_byte(tmp_path / "z.jpg").stat().st_size == 0
    for bad in (tmp_path / "z.jpg", write_not_an_image(tmp_path / "n.jpg")):
        with pytest.raises(UnidentifiedImageError):
            Image.open(bad)
    corrupt = write_corrupt_jpeg(tmp_path / "c.jpg", (64, 48))
    with Image.open(corrupt) as img:
        assert img.size == (64, 48)  # headers are valid; the pixels are garbage
