"""Embedded-preview extraction from TIFF-based RAW files, on real files built byte by byte."""

from __future__ import annotations

import contextlib
import io
import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from glimpse_desktop.kernel import raw
from glimpse_desktop.kernel.raw import (
    RAW_EXTENSIONS,
    RawPreviewError,
    extract_preview,
    is_tiff_raw,
    read_tiff_exif,
)
from tests.imagegen import (
    photo_like,
    write_arw,
    write_cr2,
    write_dng,
    write_jpeg,
    write_nef,
    write_raw_without_preview,
    write_tiff,
)

PREVIEW = (800, 600)
DATE = "2023:07:14 09:41:27"
WRITERS: dict[str, Callable[..., Path]] = {
    ".dng": write_dng, ".cr2": write_cr2, ".nef": write_nef, ".arw": write_arw,
}
MAKES = {".dng": "Adobe", ".cr2": "Canon", ".nef": "NIKON CORPORATION", ".arw": "SONY"}


@pytest.fixture(scope="module")
def raw_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("raw")
    return {
        ext: writer(folder / f"shot{ext}", preview_size=PREVIEW, seed=7,
                    datetime_original=DATE, orientation=6, model=f"Model {ext}").read_bytes()
        for ext, writer in WRITERS.items()
    }


# What the reader may do for any input, however hostile: the IFD cap, and each IFD's entries
# and integer values under their caps (1024 entries, 32 SubIFDs, a handful of scalar tags).
MAX_IFDS = 64
MAX_VALUES = MAX_IFDS * (1024 + 32 + 64)


@dataclass
class Work:
    ifds: int = 0      # IFDs read
    values: int = 0    # IFD entries and integer values read

    def within_bounds(self) -> bool:
        return self.ifds <= MAX_IFDS and self.values <= MAX_VALUES


@contextlib.contextmanager
def counting() -> Iterator[Work]:
    """Count the work the real TIFF reader does, instead of timing it: a loop or a runaway
    count shows as IFDs and values read, the same on any machine. A reader past the bounds is
    stopped at once (an AssertionError, which no caller catches) rather than left to spin."""
    work = Work()
    real = raw.Tiff

    class Counting(real):  # type: ignore[misc, valid-type]
        def read_ifd(self, offset: int) -> tuple[dict[int, Any], int]:
            work.ifds += 1
            assert work.within_bounds(), f"runaway: {work}"
            entries, next_offset = super().read_ifd(offset)
            work.values += len(entries)
            return entries, next_offset

        def ints(self, entry: Any, max_count: int, what: str, *, first_only: bool = False
                 ) -> tuple[int, ...]:
            values: tuple[int, ...] = super().ints(entry, max_count, what,
                                                   first_only=first_only)
            work.values += len(values)
            assert work.within_bounds(), f"runaway: {work}"
            return values

    setattr(raw, "Tiff", Counting)  # noqa: B010 - a class, replaced for the block only
    try:
        yield work
    finally:
        setattr(raw, "Tiff", real)  # noqa: B010


def _raises_within_bounds(data: bytes) -> RawPreviewError:
    with counting() as work, pytest.raises(RawPreviewError) as info:
        extract_preview(data)
    assert work.within_bounds(), work
    return info.value


# ---------------------------------------------------------------------------- happy paths


@pytest.mark.parametrize("ext", list(WRITERS))
def test_extracts_the_full_preview_not_the_thumbnail(raw_files: dict[str, bytes], ext: str) -> None:
    data = raw_files[ext]
    preview = extract_preview(data)

    assert (preview.width, preview.height) == PREVIEW
    assert preview.jpeg in data  # stored bytes, untouched
    with Image.open(io.BytesIO(preview.jpeg)) as img:
        img.load()
        assert img.format == "JPEG"
        assert img.size == PREVIEW
        # The preview is the photo itself, not a thumbnail blown up.
        expected = np.asarray(photo_like(*PREVIEW, seed=7), dtype=np.int16)
        assert np.abs(np.asarray(img, dtype=np.int16) - expected).mean() < 8


@pytest.mark.parametrize("ext", list(WRITERS))
def test_orientation_comes_from_ifd0(raw_files: dict[str, bytes], ext: str) -> None:
    assert extract_preview(raw_files[ext]).orientation == 6


@pytest.mark.parametrize("ext", list(WRITERS))
def test_missing_or_invalid_orientation_means_1(tmp_path: Path, ext: str) -> None:
    absent = WRITERS[ext](tmp_path / f"a{ext}", preview_size=(64, 48), orientation=None)
    invalid = WRITERS[ext](tmp_path / f"b{ext}", preview_size=(64, 48), orientation=9)
    assert extract_preview(absent.read_bytes()).orientation == 1
    assert extract_preview(invalid.read_bytes()).orientation == 1


@pytest.mark.parametrize("ext", list(WRITERS))
def test_read_tiff_exif_gives_camera_and_date(raw_files: dict[str, bytes], ext: str) -> None:
    exif = read_tiff_exif(raw_files[ext])
    assert exif is not None
    assert exif[0x010F] == MAKES[ext]
    assert exif[0x0110] == f"Model {ext}"
    assert exif[0x0112] == 6
    assert exif.get_ifd(0x8769)[0x9003] == DATE


def test_read_tiff_exif_reads_gps_from_a_raw(tmp_path: Path) -> None:
    data = write_nef(tmp_path / "g.nef", preview_size=(64, 48), gps=(-33.5, 151.25)).read_bytes()
    exif = read_tiff_exif(data)
    assert exif is not None
    gps = exif.get_ifd(0x8825)
    assert gps[1] == "S" and gps[3] == "E"
    assert tuple(float(v) for v in gps[2]) == (33.0, 30.0, 0.0)


@pytest.mark.parametrize("ext", list(WRITERS))
def test_is_tiff_raw_recognises_each_maker(raw_files: dict[str, bytes], ext: str) -> None:
    assert is_tiff_raw(raw_files[ext])


def test_is_tiff_raw_rejects_ordinary_files(tmp_path: Path) -> None:
    assert not is_tiff_raw(write_tiff(tmp_path / "a.tif", (64, 48), make="Scanner").read_bytes())
    assert not is_tiff_raw(write_tiff(tmp_path / "b.tif", (64, 48),
                                      compression="tiff_lzw").read_bytes())
    assert not is_tiff_raw(write_jpeg(tmp_path / "c.jpg", (64, 48)).read_bytes())
    assert not is_tiff_raw(b"")
    assert not is_tiff_raw(b"II*\x00\xff\xff\xff\xff")


def test_raw_extensions() -> None:
    assert {".dng", ".cr2", ".nef", ".nrw", ".arw", ".orf", ".rw2", ".pef"} <= RAW_EXTENSIONS
    assert not {".cr3", ".raf", ".tif", ".tiff", ".jpg"} & RAW_EXTENSIONS
    assert all(e.startswith(".") and e == e.lower() for e in RAW_EXTENSIONS)


def test_largest_jpeg_wins_by_pixel_count(tmp_path: Path) -> None:
    # A "thumbnail" bigger than the main preview: pixel count decides, not where it sits.
    data = write_cr2(tmp_path / "big_thumb.cr2", preview_size=(320, 240),
                     thumb_size=(400, 300)).read_bytes()
    assert (extract_preview(data).width, extract_preview(data).height) == (400, 300)


def test_lossless_jpeg_raw_data_is_not_a_preview(tmp_path: Path) -> None:
    # write_dng stores the sensor data as SOF3 lossless JPEG, declared larger than the preview.
    data = write_dng(tmp_path / "l.dng", preview_size=(320, 240), sensor_size=(4000, 3000),
                     raw_compression=7).read_bytes()
    assert b"\xff\xd8\xff\xc3" in data
    assert (extract_preview(data).width, extract_preview(data).height) == (320, 240)
    plain = write_dng(tmp_path / "u.dng", preview_size=(320, 240), sensor_size=(320, 240),
                      raw_compression=1).read_bytes()
    assert extract_preview(plain).width == 320


@pytest.mark.parametrize("magic", [b"IIRO", b"IIRS", b"IIU\x00"])
def test_olympus_and_panasonic_magic_numbers(raw_files: dict[str, bytes], magic: bytes) -> None:
    data = magic + raw_files[".arw"][4:]
    assert extract_preview(data).width == PREVIEW[0]
    assert is_tiff_raw(data)
    exif = read_tiff_exif(data)
    assert exif is not None and exif[0x010F] == "SONY"


def test_big_endian_olympus_magic(raw_files: dict[str, bytes]) -> None:
    data = b"MMOR" + raw_files[".nef"][4:]
    assert extract_preview(data).width == PREVIEW[0]


def _mini_tiff(entries: list[tuple[int, int, int, bytes]], *, next_offset: int = 0,
               extra: bytes = b"", head: bytes = b"II*\x00") -> bytes:
    """Little-endian TIFF: header, IFD0 at 8 with ``entries`` (value fields given raw), extra."""
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHL", tag, typ, count) + value.ljust(4, b"\0")
    return head + struct.pack("<L", 8) + ifd + struct.pack("<L", next_offset) + extra


def _long(v: int) -> bytes:
    return struct.pack("<L", v)


def test_panasonic_jpg_from_raw_tag() -> None:
    buf = io.BytesIO()
    photo_like(96, 64, seed=3).save(buf, "JPEG")
    jpeg = buf.getvalue()
    offset = 8 + 2 + 12 + 4
    data = _mini_tiff([(0x002E, 7, len(jpeg), _long(offset))], extra=jpeg, head=b"IIU\x00")
    preview = extract_preview(data)
    assert (preview.width, preview.height) == (96, 64) and preview.jpeg == jpeg


# ---------------------------------------------------------------------------- no preview


@pytest.mark.parametrize("ext", [".dng", ".cr2", ".nef", ".arw"])
def test_raw_without_preview_raises_but_keeps_exif(tmp_path: Path, ext: str) -> None:
    data = write_raw_without_preview(tmp_path / f"bare{ext}", sensor_size=(64, 48),
                                     datetime_original=DATE).read_bytes()
    assert b"\xff\xd8" not in data
    assert "no embedded JPEG preview" in str(_raises_within_bounds(data))
    exif = read_tiff_exif(data)
    assert exif is not None and exif.get_ifd(0x8769)[0x9003] == DATE
    assert is_tiff_raw(data)


# ---------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("ext", list(WRITERS))
@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
def test_truncated_files_raise(raw_files: dict[str, bytes], ext: str) -> None:
    data = raw_files[ext]
    preview = extract_preview(data)
    start = data.find(preview.jpeg)
    first_ifd = struct.unpack_from("<L" if data[:2] == b"II" else ">L", data, 4)[0]
    cuts = {0, 1, 4, 7, 8, 12, first_ifd + 1, first_ifd + 40, start // 2, start, start + 2,
            start + len(preview.jpeg) // 2, start + len(preview.jpeg) - 1}
    for cut in sorted(c for c in cuts if c < start + len(preview.jpeg)):
        _raises_within_bounds(data[:cut])
        read_tiff_exif(data[:cut])  # may or may not find IFD0, but must not raise


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
def test_random_bytes_raise() -> None:
    rng = random.Random(1)
    for i in range(200):
        junk = rng.randbytes(rng.randrange(0, 4096))
        if i % 2:  # half of them behind a plausible TIFF header
            junk = (b"II*\x00", b"MM\x00*")[i % 4 // 2] + junk
        _raises_within_bounds(junk)
        read_tiff_exif(junk)
        is_tiff_raw(junk)


def test_non_tiff_inputs_raise(tmp_path: Path) -> None:
    assert "byte-order" in str(_raises_within_bounds(write_jpeg(tmp_path / "a.jpg", (64, 48))
                                               .read_bytes()))
    assert "BigTIFF" in str(_raises_within_bounds(b"II+\x00\x08\x00\x00\x00" + bytes(64)))
    _raises_within_bounds(b"II\x2a")
    assert read_tiff_exif(b"\xff\xd8\xff\xe0") is None


def test_ifd_loop_terminates() -> None:
    self_loop = _mini_tiff([(0x0100, 3, 1, struct.pack("<H", 64))], next_offset=8)
    _raises_within_bounds(self_loop)
    # IFD0 -> IFD1 -> IFD0, and a SubIFD pointing back at IFD0.
    ifd1_at = 8 + 2 + 12 * 2 + 4
    ifd1 = struct.pack("<H", 1) + struct.pack("<HHL", 0x014A, 4, 1) + _long(8) + _long(8)
    two = _mini_tiff([(0x0100, 3, 1, struct.pack("<H", 64)), (0x014A, 4, 1, _long(8))],
                     next_offset=ifd1_at, extra=ifd1)
    _raises_within_bounds(two)
    assert not is_tiff_raw(two)


def test_loop_in_a_real_file_still_yields_its_preview(raw_files: dict[str, bytes]) -> None:
    data = bytearray(raw_files[".arw"])
    ifd0 = struct.unpack_from("<L", data, 4)[0]
    count = struct.unpack_from("<H", data, ifd0)[0]
    struct.pack_into("<L", data, ifd0 + 2 + 12 * count, ifd0)  # IFD0's next -> IFD0
    with counting() as work:
        assert extract_preview(bytes(data)).width == PREVIEW[0]
    assert work.within_bounds()


def test_absurd_counts_raise_quickly() -> None:
    # An IFD declaring 65535 entries.
    _raises_within_bounds(b"II*\x00" + _long(8) + struct.pack("<H", 0xFFFF) + bytes(64))
    # SubIFDs with four billion offsets.
    _raises_within_bounds(_mini_tiff([(0x014A, 4, 0xFFFFFFFF, _long(8))]))
    # A JPEG "length" of 4 GB.
    big = _mini_tiff([(0x0201, 4, 1, _long(8)), (0x0202, 4, 1, _long(0xFFFFFFFF))])
    assert "beyond the end" in str(_raises_within_bounds(big))
    # A billion strips: not a single-strip JPEG, so simply no preview (and no billion reads).
    strips = _mini_tiff([(0x0103, 3, 1, struct.pack("<H", 7)),
                         (0x0111, 4, 1_000_000_000, _long(8)),
                         (0x0117, 4, 1_000_000_000, _long(8))])
    assert "no embedded JPEG" in str(_raises_within_bounds(strips))


def test_endless_ifd_chain_is_capped() -> None:
    # 1000 distinct, valid, chained IFDs: no cycle to detect, so the IFD cap has to stop it.
    data = bytearray(b"II*\x00" + _long(8))
    for i in range(1000):
        nxt = len(data) + 18 if i < 999 else 0
        data += struct.pack("<H", 1) + struct.pack("<HHLL", 0x0100, 4, 1, 64) + _long(nxt)
    assert "IFDs" in str(_raises_within_bounds(bytes(data)))
    with counting() as work, pytest.raises(RawPreviewError):
        extract_preview(bytes(data))
    assert work.ifds == MAX_IFDS        # walked up to the cap, and not one IFD further


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
def test_mutated_files_fail_cleanly(tmp_path: Path) -> None:
    """Flip bytes in the IFD region: every outcome is a preview or RawPreviewError."""
    samples = [write_dng(tmp_path / "m.dng", preview_size=(48, 32), thumb_size=(16, 12),
                         sensor_size=(48, 32)).read_bytes()]
    samples += [writer(tmp_path / f"m{ext}", preview_size=(48, 32), thumb_size=(16, 12))
                .read_bytes() for ext, writer in WRITERS.items() if ext != ".dng"]
    rng = random.Random(5)
    outcomes = {"preview": 0, "error": 0}
    most = Work()
    for i in range(1200):
        data = bytearray(samples[i % len(samples)])
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(0, min(len(data), 1200))] = rng.randrange(256)
        mutated = bytes(data)
        with counting() as work:
            try:
                extract_preview(mutated)
                outcomes["preview"] += 1
            except RawPreviewError:
                outcomes["error"] += 1
            is_tiff_raw(mutated)
        read_tiff_exif(mutated)
        # Each file alone stays within the bounds (both readers together, so twice them).
        assert work.ifds <= 2 * MAX_IFDS and work.values <= 2 * MAX_VALUES, (i, work)
        most = Work(max(most.ifds, work.ifds), max(most.values, work.values))
    assert outcomes["preview"] and outcomes["error"]
    assert most.ifds >= 2      # the files were really walked, not refused at the header
