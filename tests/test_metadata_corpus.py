"""Glimpse's reading of real camera files held against ExifTool's, the reference reader.

The corpus (tests/camerafiles.py) is 132 files from cameras and phones, taken from the test
folders of registry packages; the edge cases are small JPEGs that ExifTool itself writes the
awkward metadata into (XMP-only, IPTC-only and filename-only dates, GPS in odd but valid forms).
Every file goes through the real ingest path: a folder added to a real library and indexed,
then read back through the public API (``Library.photo``), as the viewer and ``info`` show it.

What Glimpse should say is worked out from ExifTool's tags (``exiftool -j -n -G1``, one run
for all files) with the date order of issue 18, first found wins:

  1. EXIF DateTimeOriginal (+ SubSecTimeOriginal, OffsetTimeOriginal)
  2. XMP exif:DateTimeOriginal
  3. XMP photoshop:DateCreated
  4. IPTC DateCreated + TimeCreated (+ its offset)
  5. XMP xmp:CreateDate
  6. EXIF CreateDate (DateTimeDigitized)
  7. a date in the file name (IMG_20190714_153012, PXL_…, IMG-20190714-WA0003,
     Screenshot_2020-05-01-10-11-12, 2019-07-14 15.30.12)
  8. EXIF ModifyDate (IFD0 DateTime)
  9. the file's mtime: such files are left out of the date score (ExifTool states no date)

A value that is no date (0000:00:00 00:00:00) is skipped, as if absent. Agreement: the date's
wall clock equal to the second (the day, when the field holds a day only) and the UTC offset
equal where both have one; GPS within 1e-5 degrees of ExifTool's (Composite, else XMP
exif:GPSLatitude/Longitude; 0,0 is no position); Make and Model equal after trimming. The bar
is 97 % on each over the files that have it, and no position where ExifTool has none.

The source Glimpse records for a date (``Photo.taken_at_source``) names the field it used:
its group (exif, xmp, photoshop, iptc) and its tag, "name" for the file name, "mtime" for the
file's modification time (see ``SOURCE_NAMES``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from glimpse_desktop.api import Library, Photo
from tests import camerafiles
from tests.test_xmp import exiftool

BAR = 0.97
GPS_TOLERANCE = 1e-5

# The tags the expectations are worked out from (one ExifTool run reads them for every file).
TAGS = (
    "-ExifIFD:DateTimeOriginal", "-IFD0:DateTimeOriginal", "-ExifIFD:OffsetTimeOriginal",
    "-XMP-exif:DateTimeOriginal", "-XMP-photoshop:DateCreated",
    "-IPTC:DateCreated", "-IPTC:TimeCreated", "-XMP-xmp:CreateDate", "-ExifIFD:CreateDate",
    "-IFD0:ModifyDate", "-Composite:GPSLatitude", "-Composite:GPSLongitude",
    "-XMP-exif:GPSLatitude", "-XMP-exif:GPSLongitude", "-Make", "-Model", "-File:FileType",
)

# The steps of the date order, by name; each maps to what its recorded source must say.
STEPS = ("exif:DateTimeOriginal", "xmp:exif:DateTimeOriginal", "xmp:photoshop:DateCreated",
         "iptc:DateCreated", "xmp:xmp:CreateDate", "exif:CreateDate", "file:name",
         "exif:ModifyDate", "file:mtime")


def _is(*words: str, without: tuple[str, ...] = ()) -> Callable[[str], bool]:
    def check(source: str) -> bool:
        s = source.lower()
        return all(w in s for w in words) and not any(w in s for w in without)
    return check


def _modify(source: str) -> bool:
    s = source.lower()
    tag = re.split(r"[:.]", s)[-1]
    return "xmp" not in s and (tag in ("modifydate", "datetime") or "modifydate" in s)


# What a recorded ``taken_at_source`` must contain (case-insensitive) for each step.
SOURCE_NAMES: dict[str, Callable[[str], bool]] = {
    "exif:DateTimeOriginal": _is("exif", "datetimeoriginal", without=("xmp",)),
    "xmp:exif:DateTimeOriginal": _is("xmp", "datetimeoriginal"),
    "xmp:photoshop:DateCreated": _is("photoshop", "datecreated"),
    "iptc:DateCreated": _is("iptc"),
    "xmp:xmp:CreateDate": _is("xmp", "createdate", without=("photoshop",)),
    "exif:CreateDate": lambda s: ("createdate" in s.lower() or "digitized" in s.lower())
    and "xmp" not in s.lower(),
    "file:name": _is("name", without=("mtime",)),
    "exif:ModifyDate": _modify,
    "file:mtime": _is("mtime"),
}


# ---------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class When:
    """A date as a field states it: the wall clock, whether it has a time, its offset."""

    wall: datetime          # to the second
    has_time: bool
    offset: int | None      # minutes east of UTC
    step: str               # which step of the order it came from

    def show(self) -> str:
        text = self.wall.isoformat() if self.has_time else self.wall.date().isoformat()
        if self.offset is not None:
            text += f" {self.offset:+d} min"
        return f"{text} [{self.step}]"


_DATE = re.compile(r"^(\d{4})[:-](\d{2})[:-](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?"
                   r"(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")


def _offset(text: object) -> int | None:
    m = re.fullmatch(r"\s*(Z|([+-])(\d{2}):?(\d{2}))\s*", str(text or ""))
    if m is None:
        return None
    if m.group(1) == "Z":
        return 0
    minutes = int(m.group(3)) * 60 + int(m.group(4))
    return -minutes if m.group(2) == "-" else minutes


def _when(text: object, step: str, offset_text: object = None) -> When | None:
    """ExifTool's date text (EXIF or XMP form) as a When; None for no date or a non-date."""
    m = _DATE.match(str(text or "").strip())
    if m is None:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    has_time = m.group(4) is not None
    try:
        wall = datetime(y, mo, d, int(m.group(4) or 0), int(m.group(5) or 0),
                        int(m.group(6) or 0))
    except ValueError:
        return None
    if y < 1800:   # 0000:00:00 and the like: a camera with no clock set
        return None
    offset = _offset(m.group(7)) if m.group(7) else _offset(offset_text)
    return When(wall, has_time, offset, step)


_NAME_DATES = (   # (pattern, has_time): the file-name forms of the issue
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})"), True),
    (re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[- _](\d{2})[-.](\d{2})[-.](\d{2})"), True),
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})-WA\d"), False),
)


def _name_date(name: str) -> When | None:
    for pattern, has_time in _NAME_DATES:
        m = pattern.search(name)
        if m is None:
            continue
        y, mo, d, *clock = (int(g) for g in m.groups())
        h, mi, sec = clock if has_time else (0, 0, 0)
        try:
            wall = datetime(y, mo, d, h, mi, sec)
        except ValueError:
            continue
        return When(wall, has_time, None, "file:name")
    return None


def expected_date(tags: dict[str, Any], filename: str) -> When | None:
    """The date the issue's order takes from what ExifTool read; None: only the mtime."""
    iptc_day = tags.get("IPTC:DateCreated")
    iptc = None
    if iptc_day is not None:
        time = tags.get("IPTC:TimeCreated")
        iptc = f"{iptc_day} {time}" if time else str(iptc_day)
    candidates = (
        (tags.get("ExifIFD:DateTimeOriginal") or tags.get("IFD0:DateTimeOriginal"),
         "exif:DateTimeOriginal", tags.get("ExifIFD:OffsetTimeOriginal")),
        (tags.get("XMP-exif:DateTimeOriginal"), "xmp:exif:DateTimeOriginal", None),
        (tags.get("XMP-photoshop:DateCreated"), "xmp:photoshop:DateCreated", None),
        (iptc, "iptc:DateCreated", None),
        (tags.get("XMP-xmp:CreateDate"), "xmp:xmp:CreateDate", None),
        (tags.get("ExifIFD:CreateDate"), "exif:CreateDate", None),
    )
    for text, step, offset_text in candidates:
        found = _when(text, step, offset_text)
        if found is not None:
            return found
    return _name_date(filename) or _when(tags.get("IFD0:ModifyDate"), "exif:ModifyDate")


def expected_gps(tags: dict[str, Any]) -> tuple[float, float] | None:
    lat = tags.get("Composite:GPSLatitude", tags.get("XMP-exif:GPSLatitude"))
    lon = tags.get("Composite:GPSLongitude", tags.get("XMP-exif:GPSLongitude"))
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    if abs(lat) < 1e-9 and abs(lon) < 1e-9:   # a phone's "no fix"
        return None
    return float(lat), float(lon)


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def expected_camera(tags: dict[str, Any]) -> tuple[str | None, str | None] | None:
    make = next((_text(v) for k, v in tags.items() if k.endswith(":Make")), None)
    model = next((_text(v) for k, v in tags.items() if k.endswith(":Model")), None)
    return None if make is None and model is None else (make, model)


# ---------------------------------------------------------------------------- Glimpse's side


def glimpse_when(photo: Photo | None) -> When | None:
    if photo is None or photo.taken_at is None:
        return None
    try:
        parsed = datetime.fromisoformat(photo.taken_at)
    except ValueError:
        return None
    delta = parsed.utcoffset()
    offset = None if delta is None else int(delta.total_seconds() // 60)
    return When(parsed.replace(tzinfo=None, microsecond=0), True, offset,
                photo.taken_at_source or "?")


def dates_agree(want: When, got: When | None) -> bool:
    if got is None or SOURCE_NAMES["file:mtime"](got.step):
        return False
    if want.has_time and got.wall != want.wall:
        return False
    if not want.has_time and got.wall.date() != want.wall.date():
        return False
    return want.offset is None or got.offset is None or want.offset == got.offset


def gps_of(photo: Photo | None) -> tuple[float, float] | None:
    if photo is None or photo.gps is None:
        return None
    return photo.gps.lat, photo.gps.lon


def gps_agree(want: tuple[float, float], got: tuple[float, float] | None) -> bool:
    if got is None:
        return False
    return all(abs(a - b) <= GPS_TOLERANCE for a, b in zip(want, got, strict=True))


def camera_of(photo: Photo | None) -> tuple[str | None, str | None] | None:
    if photo is None:
        return None
    return _text(photo.camera.make), _text(photo.camera.model)


# ---------------------------------------------------------------------------- one library


@dataclass
class Reading:
    """One file: what ExifTool read, what Glimpse holds (None: not in the library)."""

    name: str
    tags: dict[str, Any]
    photo: Photo | None
    errors: list[str]


def _index(folder: Path, work: Path) -> dict[str, Reading]:
    """``folder`` indexed into a new library; each file's reading by ExifTool and Glimpse,
    keyed by its path relative to ``folder``."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    tags = {str(Path(t["SourceFile"]).resolve()): t
            for t in exiftool("-n", "-G1", "-q", "-q", *TAGS, *map(str, files))}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GLIMPSE_MODEL_DIR", str(work / "models"))
        lib = Library.open(work / "lib" / "library.sqlite3", load_models=False)
        try:
            lib.add_root(folder)
            lib.index()
            readings = {}
            for path in files:
                key = str(path.resolve())
                readings[str(path.relative_to(folder))] = Reading(
                    path.name, tags.get(key, {}), lib.photo(key),
                    [f"{e.stage}: {e.reason}" for e in lib.file_errors(key)])
        finally:
            lib.close()
    return readings


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Reading]:
    work = tmp_path_factory.mktemp("corpus")
    folder = work / "Pictures"
    for path in camerafiles.camera_files():
        (folder / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / path.parent.name / path.name)
    return _index(folder.resolve(), work)


def _report(title: str, rows: list[str], agreed: int, total: int) -> str:
    lines = "\n".join(f"  {r}" for r in rows)
    return (f"{title}: Glimpse agrees with ExifTool on {agreed}/{total} "
            f"({agreed / max(total, 1):.1%}, the bar is {BAR:.0%}); disagreeing files "
            f"(file: ExifTool | Glimpse):\n{lines}")


def _why(reading: Reading) -> str:
    if reading.photo is None:
        return f"not in the library ({'; '.join(reading.errors) or 'no row'})"
    return ""


def test_corpus_dates_agree_with_exiftool(corpus: dict[str, Reading]) -> None:
    rows, agreed, total = [], 0, 0
    for rel, r in sorted(corpus.items()):
        want = expected_date(r.tags, r.name)
        if want is None:
            continue
        total += 1
        got = glimpse_when(r.photo)
        if dates_agree(want, got):
            agreed += 1
        else:
            rows.append(f"{rel}: {want.show()} | {got.show() if got else _why(r) or None}")
    assert total >= 100, f"only {total} corpus files have a date: is the corpus complete?"
    assert agreed >= BAR * total, _report("date taken", rows, agreed, total)


def test_corpus_gps_agrees_with_exiftool_and_none_is_invented(
        corpus: dict[str, Reading]) -> None:
    rows, invented, agreed, total = [], [], 0, 0
    for rel, r in sorted(corpus.items()):
        want, got = expected_gps(r.tags), gps_of(r.photo)
        if want is None:
            if got is not None:
                invented.append(f"{rel}: none | {got}")
            continue
        total += 1
        if gps_agree(want, got):
            agreed += 1
        else:
            rows.append(f"{rel}: {want} | {got if r.photo else _why(r)}")
    assert total >= 15, f"only {total} corpus files have a position: is the corpus complete?"
    assert not invented, "Glimpse places photos ExifTool finds no position in:\n  " + \
        "\n  ".join(invented)
    assert agreed >= BAR * total, _report("GPS", rows, agreed, total)


def test_corpus_camera_agrees_with_exiftool(corpus: dict[str, Reading]) -> None:
    rows, agreed, total = [], 0, 0
    for rel, r in sorted(corpus.items()):
        want = expected_camera(r.tags)
        if want is None:
            continue
        total += 1
        got = camera_of(r.photo)
        if got == want:
            agreed += 1
        else:
            rows.append(f"{rel}: {want} | {got if r.photo else _why(r)}")
    assert total >= 120, f"only {total} corpus files name a camera: is the corpus complete?"
    assert agreed >= BAR * total, _report("camera", rows, agreed, total)


# ---------------------------------------------------------------------------- edge cases


@dataclass(frozen=True)
class Edge:
    """A file ExifTool writes (``args``) into a small JPEG with no metadata, and what Glimpse
    must read from it, checked against ExifTool's own reading too."""

    path: str                      # relative to the edge-case folder
    args: tuple[str, ...] = ()     # exiftool's tag assignments
    taken: str | None = None       # the wall clock ISO (a day only: the day)
    offset: int | None = None
    step: str | None = None        # the step of the order that must be used
    gps: tuple[float, float] | None = None
    no_gps: bool = False
    write: Callable[[Path], None] | None = None   # instead of Pillow's bare JPEG


MTIME = datetime(2001, 2, 3, 4, 5, 6).timestamp()   # a file time unlike every date below


def _bare(path: Path) -> None:
    fmt = "PNG" if path.suffix == ".png" else "JPEG"
    Image.new("RGB", (64, 48), (120, 80, 40)).save(path, fmt)


def _degrees_only(path: Path) -> None:
    """GPS latitude/longitude as one rational each (degrees only, no minutes or seconds):
    valid EXIF, which ExifTool reads; ExifTool itself writes three rationals, so Pillow
    writes this one."""
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({0: b"\x02\x03\x00\x00", 1: "N", 2: (IFDRational(103, 2),),
                                 3: "W", 4: (IFDRational(1, 4),)})
    Image.new("RGB", (64, 48), (120, 80, 40)).save(path, "JPEG", exif=exif.tobytes())


def _ladder(first: int) -> Edge:
    """A file holding every date field from step ``first`` of the order on (step s dated
    200s-0s-0s), so only the order decides which one is taken."""
    args: list[str] = []
    for s in range(first, 9):
        y, stamp = f"200{s}", f"200{s}:0{s}:0{s} 0{s}:0{s}:0{s}"
        args += {
            1: [f"-ExifIFD:DateTimeOriginal={stamp}", "-ExifIFD:SubSecTimeOriginal=12",
                "-ExifIFD:OffsetTimeOriginal=+01:00"],
            2: [f"-XMP-exif:DateTimeOriginal={stamp}"],
            3: [f"-XMP-photoshop:DateCreated={stamp}+03:00"],
            4: [f"-IPTC:DateCreated={y}:04:04", "-IPTC:TimeCreated=04:04:04+04:00"],
            5: [f"-XMP-xmp:CreateDate={stamp}"],
            6: [f"-ExifIFD:CreateDate={stamp}"],
            7: [],   # the file's name
            8: [f"-IFD0:ModifyDate={stamp}"],
        }[s]
    name = "IMG_20070707_070707.jpg" if first <= 7 else "plain.jpg"
    offset = {1: 60, 3: 180, 4: 240}.get(first)
    return Edge(f"order-{first}/{name}", tuple(args), taken=f"200{first}-0{first}-0{first}"
                f"T0{first}:0{first}:0{first}", offset=offset, step=STEPS[first - 1])


EDGES = (
    Edge("xmp-exif-datetimeoriginal.jpg", ("-XMP-exif:DateTimeOriginal=2011:02:03 04:05:06",),
         taken="2011-02-03T04:05:06", step="xmp:exif:DateTimeOriginal"),
    Edge("photoshop-datecreated-offset.jpg",
         ("-XMP-photoshop:DateCreated=2012:03:04 05:06:07+05:30",),
         taken="2012-03-04T05:06:07", offset=330, step="xmp:photoshop:DateCreated"),
    Edge("xmp-createdate-alone.jpg", ("-XMP-xmp:CreateDate=2013:04:05 06:07:08",),
         taken="2013-04-05T06:07:08", step="xmp:xmp:CreateDate"),
    Edge("iptc-only.jpg", ("-IPTC:DateCreated=2014:05:06", "-IPTC:TimeCreated=07:08:09+01:00"),
         taken="2014-05-06T07:08:09", offset=60, step="iptc:DateCreated"),
    Edge("saved-by-photoshop-in-2017.jpg",
         ("-IFD0:ModifyDate=2017:06:07 08:09:10", "-IFD0:Software=Adobe Photoshop CC 2017",
          "-XMP-photoshop:DateCreated=2009:09:09 10:11:12+02:00",
          "-XMP-xmp:CreateDate=2009:09:09 10:11:12+02:00",
          "-XMP-xmp:ModifyDate=2017:06:07 08:09:10+02:00",
          "-IPTC:DateCreated=2009:09:09", "-IPTC:TimeCreated=10:11:12+02:00"),
         taken="2009-09-09T10:11:12", offset=120, step="xmp:photoshop:DateCreated"),
    Edge("IMG_20190714_153012.jpg", taken="2019-07-14T15:30:12", step="file:name"),
    Edge("PXL_20230101_101112345.jpg", taken="2023-01-01T10:11:12", step="file:name"),
    Edge("IMG-20190714-WA0003.jpg", taken="2019-07-14", step="file:name"),
    Edge("Screenshot_2020-05-01-10-11-12.png", taken="2020-05-01T10:11:12", step="file:name"),
    Edge("2019-07-14 15.30.12.jpg", taken="2019-07-14T15:30:12", step="file:name"),
    *(_ladder(first) for first in range(1, 9)),
    Edge("gps-xmp-form.jpg", ("-XMP-exif:GPSLatitude=54,59.38N",
                              "-XMP-exif:GPSLongitude=1,30.5W"),
         gps=(54 + 59.38 / 60, -(1 + 30.5 / 60))),
    Edge("gps-degrees-only.jpg", write=_degrees_only, gps=(51.5, -0.25)),
    Edge("gps-lower-case-refs.jpg", ("-GPSLatitude=22.9068", "-GPSLatitudeRef#=s",
                                     "-GPSLongitude=43.1729", "-GPSLongitudeRef#=w"),
         gps=(-22.9068, -43.1729)),
    Edge("gps-zero-fix.jpg", ("-GPSLatitude=0", "-GPSLatitudeRef=N", "-GPSLongitude=0",
                              "-GPSLongitudeRef=E"), no_gps=True),
)


def _exiftool_write(edits: list[tuple[Path, tuple[str, ...]]], work: Path) -> None:
    """Every edit in one ExifTool process (an argument file, ``-execute`` between files)."""
    if shutil.which("exiftool") is None:
        pytest.fail("exiftool is not installed: `sudo apt-get install libimage-exiftool-perl` "
                    "(Debian/Ubuntu), `brew install exiftool` (macOS), or run `make test`")
    lines: list[str] = []
    for path, args in edits:
        lines += ["-overwrite_original", "-q", *args, str(path), "-execute"]
    argfile = work / "exiftool.args"
    argfile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(["exiftool", "-@", str(argfile)], capture_output=True, text=True)
    assert done.returncode == 0, f"exiftool could not write the edge cases: {done.stderr}"


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Reading]:
    work = tmp_path_factory.mktemp("edges")
    folder = (work / "Pictures").resolve()
    edits = []
    for edge in EDGES:
        path = folder / edge.path
        path.parent.mkdir(parents=True, exist_ok=True)
        (edge.write or _bare)(path)
        if edge.args:
            edits.append((path, edge.args))
    _exiftool_write(edits, work)
    for edge in EDGES:
        os.utime(folder / edge.path, (MTIME, MTIME))
    return _index(folder, work)


def _when_of(edge: Edge) -> When:
    assert edge.taken is not None and edge.step is not None
    has_time = "T" in edge.taken
    wall = (datetime.fromisoformat(edge.taken) if has_time
            else datetime.combine(date.fromisoformat(edge.taken), datetime.min.time()))
    return When(wall, has_time, edge.offset, edge.step)


@pytest.mark.parametrize("edge", [e for e in EDGES if e.taken], ids=lambda e: e.path)
def test_edge_case_dates(edges: dict[str, Reading], edge: Edge) -> None:
    r = edges[edge.path]
    want = _when_of(edge)
    step = want.step
    # The file holds what the case says: ExifTool's reading, through the order, gives it.
    from_exiftool = expected_date(r.tags, r.name)
    assert from_exiftool == want, (from_exiftool, r.tags)
    assert r.photo is not None, _why(r)
    got = glimpse_when(r.photo)
    assert got is not None and dates_agree(want, got), \
        f"{edge.path}: ExifTool {want.show()} | Glimpse {got.show() if got else None}"
    if want.offset is not None:
        assert got.offset == want.offset, f"{edge.path}: the offset of {want.show()} is lost"
    assert SOURCE_NAMES[step](got.step), \
        f"{edge.path}: dated from {step}, but the recorded source is {got.step!r}"


def test_a_photo_with_no_date_at_all_is_dated_by_its_mtime(edges: dict[str, Reading]) -> None:
    bare = [e.path for e in EDGES if e.gps or e.no_gps]
    for path in bare:
        r = edges[path]
        got = glimpse_when(r.photo)
        assert expected_date(r.tags, r.name) is None, r.tags
        assert got is not None and SOURCE_NAMES["file:mtime"](got.step), (path, got)
        assert abs((got.wall - datetime.fromtimestamp(MTIME)).total_seconds()) < 1, (path, got)


@pytest.mark.parametrize("edge", [e for e in EDGES if e.gps or e.no_gps],
                         ids=lambda e: e.path)
def test_edge_case_positions(edges: dict[str, Reading], edge: Edge) -> None:
    r = edges[edge.path]
    want = expected_gps(r.tags)
    assert want == (None if edge.no_gps else pytest.approx(edge.gps, abs=1e-6)), r.tags
    assert r.photo is not None, _why(r)
    got = gps_of(r.photo)
    if want is None:
        assert got is None, f"{edge.path}: Glimpse places it at {got}, ExifTool nowhere"
    else:
        assert gps_agree(want, got), f"{edge.path}: ExifTool {want} | Glimpse {got}"


def test_expectations_follow_the_issue_order() -> None:
    """The order worked out from ExifTool's tags, on tags as ExifTool names them (a check
    of this file's own arithmetic, which every other test leans on)."""
    tags = {"IFD0:ModifyDate": "2017:01:01 00:00:00", "XMP-xmp:CreateDate": "2010:01:01 00:00",
            "IPTC:DateCreated": "2009:09:09", "IPTC:TimeCreated": "10:11:12+02:00",
            "ExifIFD:DateTimeOriginal": "0000:00:00 00:00:00"}
    assert expected_date(tags, "x.jpg") == When(datetime(2009, 9, 9, 10, 11, 12), True, 120,
                                                "iptc:DateCreated")
    assert expected_date({"IFD0:ModifyDate": "2017:01:01 00:00:00"},
                         "IMG-20190714-WA0003.jpg") == When(datetime(2019, 7, 14), False,
                                                            None, "file:name")
    assert expected_date({"XMP-exif:DateTimeOriginal": "2002:07:13 15:58:28Z"}, "a.jpg") == \
        When(datetime(2002, 7, 13, 15, 58, 28), True, 0, "xmp:exif:DateTimeOriginal")
    assert expected_gps({"Composite:GPSLatitude": 0, "Composite:GPSLongitude": 0}) is None
    assert dates_agree(When(datetime(2019, 7, 14), False, None, "file:name"),
                       When(datetime(2019, 7, 14, 12), True, None, "file:name"))
    assert not dates_agree(When(datetime(2019, 7, 14, 1), True, 60, "exif:DateTimeOriginal"),
                           When(datetime(2019, 7, 14, 1), True, 0, "exif:DateTimeOriginal"))
    assert all(SOURCE_NAMES[s](s) for s in STEPS)
    assert not SOURCE_NAMES["exif:DateTimeOriginal"]("xmp:exif:DateTimeOriginal")
    assert not SOURCE_NAMES["exif:ModifyDate"]("exif:DateTimeOriginal")
    assert not SOURCE_NAMES["file:name"]("file:mtime")
