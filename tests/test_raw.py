"""RAW files through LibRaw (rawpy) and exiv2's preview manager: RAWs written by the tests,
and real camera RAWs from public test suites (tests/camerafiles.py)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glimpse_desktop.kernel import raw, scan
from glimpse_desktop.kernel.decode import (
    SUPPORTED_EXTENSIONS,
    Budget,
    DecodeError,
    SizeRequest,
    UnsupportedError,
    decode,
)
from glimpse_desktop.kernel.raw import RAW_EXTENSIONS, RawError, looks_raw, open_raw
from tests import camerafiles
from tests.imagegen import (
    _sensor_bytes,
    photo_like,
    write_arw,
    write_cr2,
    write_dng,
    write_jpeg,
    write_nef,
    write_raw_without_preview,
    write_tiff,
    write_tiff16,
)

PREVIEW = (800, 600)
DATE = "2023:07:14 09:41:27"
WRITERS: dict[str, Callable[..., Path]] = {
    ".dng": write_dng, ".cr2": write_cr2, ".nef": write_nef, ".arw": write_arw,
}
GRID = SizeRequest(long_edge=256)
ROOT = Path(__file__).resolve().parent.parent


class CountingBudget(Budget):
    """The kernel's pixel budget, remembering what was drawn from it."""

    def __init__(self, limit: int = 1 << 40) -> None:
        super().__init__(limit)
        self.taken: list[int] = []

    def acquire(self, n: int) -> int:
        taken = super().acquire(n)
        self.taken.append(taken)
        return taken


def shown(data: bytes, *, long_edge: int = 256, short_edge: int = 0,
          budget: Budget | None = None) -> raw.RawImage:
    return open_raw(data, long_edge=long_edge, short_edge=short_edge,
                    budget=budget or CountingBudget(), max_pixels=250_000_000)


def picture(found: raw.RawImage) -> Image.Image:
    if found.encoded is not None:
        with Image.open(io.BytesIO(found.encoded)) as img:
            return img.convert("RGB")
    assert found.pixels is not None
    return Image.fromarray(found.pixels, "RGB")


@pytest.fixture(scope="module")
def raw_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("raw")
    return {
        ext: writer(folder / f"shot{ext}", preview_size=PREVIEW, seed=7,
                    datetime_original=DATE, orientation=6, model=f"Model {ext}").read_bytes()
        for ext, writer in WRITERS.items()
    }


@pytest.fixture(scope="module")
def camera() -> dict[str, Path]:
    """The real camera RAWs of the registry corpus, by file name."""
    return {p.name: p for p in camerafiles.camera_files()
            if p.suffix.lower() in RAW_EXTENSIONS}


def with_sensor_pattern(path: Path, size: tuple[int, int]) -> bytes:
    """``path`` (write_raw_without_preview, 16-bit samples) with its random sensor data
    replaced by a bright left half and a dark right half."""
    data = path.read_bytes()
    n = size[0] * size[1] * 2
    at = data.find(_sensor_bytes(n, 0))
    assert at > 0
    rows = np.full((size[1], size[0]), 300, dtype="<u2")
    rows[:, : size[0] // 2] = 60000
    sensor = rows.astype(">u2" if data[:2] == b"MM" else "<u2").tobytes()
    return data[:at] + sensor + data[at + n:]


# ---------------------------------------------------------------------------- previews


@pytest.mark.parametrize("ext", list(WRITERS))
def test_the_largest_preview_not_the_thumbnail(raw_files: dict[str, bytes], ext: str) -> None:
    found = shown(raw_files[ext])
    # The stored JPEG (LibRaw puts an EXIF header of its own in front of its data).
    assert found.encoded is not None and found.encoded[-4096:] in raw_files[ext]
    img = picture(found)
    assert img.size == PREVIEW
    # The preview is the photo itself, not a thumbnail blown up.
    expected = np.asarray(photo_like(*PREVIEW, seed=7), dtype=np.int16)
    assert np.abs(np.asarray(img, dtype=np.int16) - expected).mean() < 8
    # LibRaw finds them, except in the CR2 written here (no real sensor layout): exiv2 does.
    assert found.source == ("exiv2" if ext == ".cr2" else "libraw")


@pytest.mark.parametrize("ext", list(WRITERS))
def test_orientation_is_the_containers(raw_files: dict[str, bytes], ext: str) -> None:
    assert shown(raw_files[ext]).orientation == 6


@pytest.mark.parametrize("ext", list(WRITERS))
def test_missing_or_invalid_orientation_means_1(tmp_path: Path, ext: str) -> None:
    absent = WRITERS[ext](tmp_path / f"a{ext}", preview_size=(640, 480), orientation=None)
    invalid = WRITERS[ext](tmp_path / f"b{ext}", preview_size=(640, 480), orientation=9)
    assert shown(absent.read_bytes()).orientation == 1
    assert shown(invalid.read_bytes()).orientation == 1


@pytest.mark.parametrize("ext", list(WRITERS))
def test_decode_turns_a_raw_once_and_describes_it_as_itself(raw_files: dict[str, bytes],
                                                            tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"r{ext}"
    path.write_bytes(raw_files[ext])
    d = decode(raw_files[ext], str(path), want=GRID, mtime=0)
    assert d.meta.orientation == 6
    assert d.image.height > d.image.width  # portrait: turned once, not twice (or never)
    assert d.meta.format == ext[1:].upper()
    assert d.meta.mime is not None and d.meta.mime.startswith("image/x-")
    assert (d.meta.height or 0) > (d.meta.width or 0)  # the stored size is turned too


def test_largest_preview_wins_by_pixel_count(tmp_path: Path) -> None:
    # A "thumbnail" bigger than the main preview: pixel count decides, not where it sits.
    data = write_cr2(tmp_path / "big_thumb.cr2", preview_size=(320, 240),
                     thumb_size=(400, 300)).read_bytes()
    assert picture(shown(data)).size == (400, 300)


def test_lossless_jpeg_raw_data_is_not_a_preview(tmp_path: Path) -> None:
    # write_dng stores the sensor data as SOF3 lossless JPEG, declared larger than the preview.
    data = write_dng(tmp_path / "l.dng", preview_size=(320, 240), thumb_size=(160, 120),
                     sensor_size=(4000, 3000), raw_compression=7).read_bytes()
    assert b"\xff\xd8\xff\xc3" in data
    found = shown(data, long_edge=200)
    assert picture(found).size == (320, 240)
    assert found.sensor_size == (4000, 3000)


# ---------------------------------------------------------------------------- developing


@pytest.mark.parametrize("ext", [".dng", ".nef"])
def test_a_raw_without_preview_is_developed_turned_once(tmp_path: Path, ext: str) -> None:
    size = (640, 480)
    path = write_raw_without_preview(tmp_path / f"bare{ext}", sensor_size=size,
                                     orientation=6, datetime_original=DATE)
    data = with_sensor_pattern(path, size)
    assert b"\xff\xd8" not in data
    budget = CountingBudget()
    found = shown(data, long_edge=256, budget=budget)
    assert found.source == "developed" and found.pixels is not None
    assert found.pixels.shape == (240, 320, 3)  # half size serves 256 px
    assert found.orientation == 6 and found.sensor_size == size
    assert budget.taken and budget.taken[0] >= size[0] * size[1]  # drawn from the budget
    whole = shown(data, long_edge=0, budget=budget)
    assert whole.pixels is not None and whole.pixels.shape == (480, 640, 3)

    path.write_bytes(data)
    d = decode(data, str(path), want=GRID, mtime=0)
    assert d.image.size == (240, 320)  # portrait: turned by decode, not by LibRaw as well
    top, bottom = np.asarray(d.image)[:160], np.asarray(d.image)[160:]
    # The sensor's bright left half is the top once turned 90 degrees clockwise.
    assert top.mean() > bottom.mean() + 60
    assert (d.meta.width, d.meta.height) == (480, 640)
    assert d.meta.taken_at == "2023-07-14T09:41:27"


def test_a_small_preview_is_developed_past_when_more_is_asked(tmp_path: Path) -> None:
    data = write_dng(tmp_path / "s.dng", preview_size=(320, 240), thumb_size=(160, 120),
                     sensor_size=(1280, 960), raw_compression=1).read_bytes()
    assert shown(data, long_edge=256).source == "libraw"
    big = shown(data, long_edge=1000)
    assert big.source == "developed" and big.pixels is not None
    assert big.pixels.shape == (960, 1280, 3)  # half (640) would not serve 1000


def test_a_preview_as_large_as_the_sensor_is_never_developed(
        raw_files: dict[str, bytes]) -> None:
    # The ARW written here declares an 800x600 sensor: developing gives nothing more.
    assert shown(raw_files[".arw"], long_edge=0).source == "libraw"


def test_a_sensor_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = write_raw_without_preview(tmp_path / "big.dng", sensor_size=(640, 480))
    with pytest.raises(RawError, match="safety limit"):
        open_raw(path.read_bytes(), long_edge=256, budget=CountingBudget(),
                 max_pixels=100_000)


# ---------------------------------------------------------------------------- real RAWs


def test_canon_cr3_shows_its_preview_through_exiv2(camera: dict[str, Path]) -> None:
    path = camera["Canon-R6-pruned.CR3"]
    data = path.read_bytes()
    found = shown(data, long_edge=1280)
    # LibRaw reads the CR3's sizes but not its previews: exiv2's preview manager does.
    assert found.source == "exiv2" and found.sensor_size == (3584, 2386)
    assert picture(found).size == (1620, 1080)
    d = decode(data, str(path), want=GRID, mtime=0)
    assert min(d.image.size) >= 256 and d.image.width * 2 == d.image.height * 3
    assert (d.meta.width, d.meta.height) == (3584, 2386)
    assert (d.meta.format, d.meta.mime) == ("CR3", "image/x-canon-cr3")
    assert d.meta.camera_make == "Canon"


def test_fujifilm_raf_shows_librarys_preview(camera: dict[str, Path]) -> None:
    path = camera["FujiFilm.raf"]
    found = shown(path.read_bytes(), long_edge=128)
    assert found.source == "libraw" and picture(found).size == (160, 120)
    # Asked for more, the develop finds the sensor data gone (ExifTool stripped it): a file
    # cut short, whose small preview is not shown in the photo's stead.
    with pytest.raises(UnsupportedError, match="cut short"):
        decode(path.read_bytes(), str(path), want=SizeRequest(long_edge=1280), mtime=0)


@pytest.mark.parametrize("name", ["Panasonic.rw2", "DNG.dng", "IMG_1361.dng", "Nikon.nef",
                                  "CanonRaw.cr3"])
def test_stripped_raws_are_unsupported_not_black(camera: dict[str, Path], name: str) -> None:
    # The test suites keep these files' tags and drop their pixels: LibRaw would "develop"
    # them into a black or garbled picture, and their previews are 8x8 stand-ins.
    path = camera[name]
    with pytest.raises(UnsupportedError, match="sensor data is missing"):
        decode(path.read_bytes(), str(path), want=GRID, mtime=0)


def test_a_raw_libraw_cannot_read_is_unsupported(camera: dict[str, Path]) -> None:
    path = camera["CanonRaw.cr2"]
    with pytest.raises(UnsupportedError, match="LibRaw"):
        decode(path.read_bytes(), str(path), want=GRID, mtime=0)


# ---------------------------------------------------------------------------- recognising


def test_raw_extensions_are_scanned() -> None:
    wanted = {".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf",
              ".rw2", ".rwl", ".dng", ".pef", ".srw", ".3fr", ".iiq", ".mrw", ".x3f", ".erf",
              ".kdc", ".mos", ".mef"}
    assert wanted <= RAW_EXTENSIONS <= SUPPORTED_EXTENSIONS
    assert not {".tif", ".tiff", ".jpg"} & RAW_EXTENSIONS
    assert all(e.startswith(".") and e == e.lower() for e in RAW_EXTENSIONS)


def test_the_scanner_finds_raws_in_any_case(tmp_path: Path) -> None:
    for name in ("a.CR3", "b.raf", "c.Rw2", "d.ORF", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    found = {Path(e.path).name for _, entries in scan.walk(str(tmp_path), SUPPORTED_EXTENSIONS,
                                                              lambda problem: None)
             for e in entries}
    assert found == {"a.CR3", "b.raf", "c.Rw2", "d.ORF"}


@pytest.mark.parametrize("ext", list(WRITERS))
def test_looks_raw_recognises_each_maker(raw_files: dict[str, bytes], ext: str) -> None:
    assert looks_raw(raw_files[ext])


def test_looks_raw_by_magic(camera: dict[str, Path], raw_files: dict[str, bytes]) -> None:
    for name in ("Canon-R6-pruned.CR3", "FujiFilm.raf", "Panasonic.rw2"):
        assert looks_raw(camera[name].read_bytes()), name
    for magic in (b"IIRO", b"IIRS", b"IIU\x00"):
        assert looks_raw(magic + raw_files[".arw"][4:])


def test_looks_raw_rejects_ordinary_files(tmp_path: Path) -> None:
    assert not looks_raw(write_tiff(tmp_path / "a.tif", (64, 48), make="Scanner").read_bytes())
    assert not looks_raw(write_tiff(tmp_path / "b.tif", (64, 48),
                                    compression="tiff_lzw").read_bytes())
    # LibRaw itself would open a 16-bit greyscale TIFF as a "RAW".
    assert not looks_raw(write_tiff16(tmp_path / "c.tif").read_bytes())
    assert not looks_raw(write_jpeg(tmp_path / "d.jpg", (64, 48)).read_bytes())
    assert not looks_raw(b"")
    assert not looks_raw(b"II*\x00\xff\xff\xff\xff")


def test_a_raw_named_tif_is_shown_as_raw(raw_files: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "shot.tif"
    path.write_bytes(raw_files[".nef"])
    d = decode(raw_files[".nef"], str(path), want=GRID, mtime=0)
    # NEF's IFD0 is a 160x120 thumbnail, which Pillow would show as the photo.
    assert max(d.image.size) >= 256 and d.meta.orientation == 6


# ---------------------------------------------------------------------------- bad input


def test_a_jpeg_named_as_a_raw_is_read_as_the_jpeg_it_is(tmp_path: Path) -> None:
    path = write_jpeg(tmp_path / "photo.nef", (640, 480), make="Canon",
                      datetime_original="2020:01:02 03:04:05")
    d = decode(path.read_bytes(), str(path), want=GRID, mtime=0)
    assert (d.meta.format, d.meta.mime) == ("JPEG", "image/jpeg")
    assert (d.meta.width, d.meta.height, d.meta.camera_make) == (640, 480, "Canon")
    assert d.meta.taken_at == "2020-01-02T03:04:05"


def test_empty_and_junk_raws_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.cr3"
    with pytest.raises(DecodeError, match="empty"):
        decode(b"", str(path), want=GRID, mtime=0)
    with pytest.raises(DecodeError):
        decode(os.urandom(5000), str(path), want=GRID, mtime=0)


def test_truncated_raws_fail_cleanly(camera: dict[str, Path], raw_files: dict[str, bytes],
                                     tmp_path: Path) -> None:
    samples = {"Canon-R6-pruned.CR3": camera["Canon-R6-pruned.CR3"].read_bytes(),
               "FujiFilm.raf": camera["FujiFilm.raf"].read_bytes()}
    samples |= {f"shot{ext}": data for ext, data in raw_files.items()}
    for name, data in samples.items():
        for cut in (0, 1, 4, 16, 100, 1000, len(data) // 3, len(data) // 2, len(data) - 1):
            try:
                d = decode(data[:cut], str(tmp_path / name), want=GRID, mtime=0)
            except DecodeError as exc:
                assert str(exc)
            else:
                assert max(d.image.size) >= 100, (name, cut)


FUZZ = textwrap.dedent("""
    import json, random, sys
    from pathlib import Path
    from glimpse_desktop.kernel.decode import DecodeError, SizeRequest, decode

    rng = random.Random(int(sys.argv[1]))
    outcomes = {"shown": 0, "error": 0}
    files = [Path(p) for p in sys.argv[2:]]
    for i in range(300):
        path = files[i % len(files)]
        data = bytearray(path.read_bytes())
        if i % 3 == 0:
            data = data[: rng.randrange(0, len(data))]
        else:
            for _ in range(rng.randrange(1, 12)):
                # Headers and IFDs sit in the first few KB; flip there mostly.
                span = len(data) if rng.random() < 0.3 else min(len(data), 8192)
                data[rng.randrange(0, span)] = rng.randrange(256)
        try:
            decode(bytes(data), str(path), want=SizeRequest(long_edge=256 if i % 2 else 0))
            outcomes["shown"] += 1
        except DecodeError:
            outcomes["error"] += 1
    print(json.dumps(outcomes))
""")


def test_mutated_raws_never_crash_the_process(camera: dict[str, Path],
                                              raw_files: dict[str, bytes],
                                              tmp_path: Path) -> None:
    """Bit flips and cuts in real and written RAWs, in a child process: a crash in LibRaw
    or exiv2 (a segfault) fails this test instead of killing pytest. Every outcome is a
    picture or a DecodeError; anything else is an exception that fails the child."""
    files = [camera["Canon-R6-pruned.CR3"], camera["FujiFilm.raf"], camera["Panasonic.rw2"]]
    for ext, data in raw_files.items():
        path = tmp_path / f"shot{ext}"
        path.write_bytes(data)
        files.append(path)
    bare = write_raw_without_preview(tmp_path / "bare.dng", sensor_size=(160, 120))
    files.append(bare)
    result = subprocess.run([sys.executable, "-c", FUZZ, "7", *map(str, files)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcomes["shown"] + outcomes["error"] == 300
    assert outcomes["shown"] and outcomes["error"]


# ---------------------------------------------------------------------------- OpenMP


def test_libraw_runs_on_the_thread_budget() -> None:
    """rawpy's own libgomp reads OMP_NUM_THREADS when it loads: the budget's count then,
    and the person's own setting afterwards."""
    code = textwrap.dedent("""
        import io, os, threading
        os.environ["OMP_NUM_THREADS"] = "7"
        from glimpse_desktop.kernel import raw, threads
        assert "rawpy" not in __import__("sys").modules   # loads with the first RAW read
        raw._libraw()
        assert os.environ["OMP_NUM_THREADS"] == "7"
        import ctypes, glob, rawpy
        lib = glob.glob(os.path.join(os.path.dirname(rawpy.__file__), "..", "rawpy.libs",
                                     "libgomp*"))
        if lib:
            gomp = ctypes.CDLL(lib[0])
            print(gomp.omp_get_max_threads(), threads.budget().libraw)
        else:
            print(threads.budget().libraw, threads.budget().libraw)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    max_threads, budget = result.stdout.split()
    assert max_threads == budget == "1"
