"""Write-back: sidecars and embedded XMP written from a real library (real faces), read back
into a new library, merged with other apps' sidecars, and JPEGs changed only where meant."""

from __future__ import annotations

import contextlib
import io
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glimpse_desktop.api.library import Library
from glimpse_desktop.kernel.db import Connection, now_iso
from glimpse_desktop.metadata import xmp
from glimpse_desktop.writeback import files
from tests import imagegen as ig
from tests.conftest import eventually, ram_disk
from tests.test_xmp import DIGIKAM_SIDECAR, exiftool


def photo_id(lib: Library, name: str) -> int:
    return int(lib.reader().one("SELECT id FROM photos WHERE filename = ?", (name,)))


def named_faces(lib: Library) -> dict[str, set[tuple[str, tuple[float, ...]]]]:
    """name -> {(file, box)} of every face in a named person."""
    out: dict[str, set[tuple[str, tuple[float, ...]]]] = {}
    for r in lib.reader().rows(
            "SELECT p.name, ph.filename, f.x, f.y, f.w, f.h FROM faces f JOIN people p ON "
            "p.id = f.person_id JOIN photos ph ON ph.id = f.photo_id WHERE p.name IS NOT NULL"):
        out.setdefault(r["name"], set()).add(
            (r["filename"], tuple(round(r[k], 2) for k in ("x", "y", "w", "h"))))
    return out


def add_tag(lib: Library, pid: int, tag: str) -> None:
    """A tag as the tagging code stores it."""
    def apply(c: Connection) -> None:
        c.execute("INSERT INTO photo_tags(photo_id, tag, source, confidence, vocabulary) "
                  "VALUES (?, ?, 'clip:test', 0.9, 'custom')", (pid, tag))
    lib.writer.call(apply)


def set_rating(lib: Library, pid: int, rating: int) -> None:
    lib.writer.call(lambda c: c.execute("UPDATE photos SET rating = ? WHERE id = ?",
                                        (rating, pid)))


def name_people(lib: Library) -> None:
    """The man with four photos is Barack Obama; the face in biden.jpg is Joe Biden."""
    people = lib.people.list_people()
    most = max(people, key=lambda p: p.faces)
    assert most.faces >= 4
    lib.people.name(most.id, "Barack Obama")
    face = lib.people.photo_faces(photo_id(lib, "biden.jpg"))[0]
    lib.people.name_face(face.face, "Joe Biden")


# --------------------------------------------------------------------------- round trip

def test_names_captions_tags_and_ratings_survive_a_lost_library(
        few_faces_lib: Library, photo_dir: Path, tmp_path: Path) -> None:
    lib = few_faces_lib
    name_people(lib)
    obama1, biden = photo_id(lib, "obama1.jpg"), photo_id(lib, "biden.jpg")
    lib.captions.set_text(obama1, "A man speaking at a podium")
    add_tag(lib, obama1, "podium")
    add_tag(lib, biden, "portrait")
    set_rating(lib, biden, 5)
    before = named_faces(lib)
    assert {"Barack Obama", "Joe Biden"} <= set(before)

    report = lib.writeback.run()
    assert report.failed == 0 and report.written >= 5
    assert (photo_dir / "obama1.jpg.xmp").is_file() and (photo_dir / "biden.jpg.xmp").is_file()
    # The originals are untouched by sidecars.
    assert lib.reader().one("SELECT count(*) FROM writeback WHERE target = 'embed'") == 0

    # The library is lost; a new one reads the same folder.
    with Library.open(tmp_path / "again" / "library.sqlite3", workers=2) as again:
        again.add_root(photo_dir)
        again.index()
        after = named_faces(again)
        for name in ("Barack Obama", "Joe Biden"):
            assert after.get(name) == before[name], name
        cap = again.reader().row("SELECT source, summary FROM captions WHERE photo_id = ?",
                                 (photo_id(again, "obama1.jpg"),))
        assert cap is not None and cap["source"] == "xmp"
        assert cap["summary"] == "A man speaking at a podium"
        hits = {h.path for h in again.text_search("podium")}
        assert str(photo_dir / "obama1.jpg") in hits
        tagged = {h.photo_id for h in again.search("tag:portrait").hits}
        assert photo_id(again, "biden.jpg") in tagged
        assert again.reader().one("SELECT rating FROM photos WHERE filename = 'biden.jpg'") == 5
        assert {h.path for h in again.text_search("Biden")} >= {str(photo_dir / "biden.jpg")}


def test_exiftool_reports_the_regions_and_keywords_we_wrote(
        few_faces_lib: Library, photo_dir: Path) -> None:
    lib = few_faces_lib
    name_people(lib)
    biden = photo_id(lib, "biden.jpg")
    add_tag(lib, biden, "portrait")
    set_rating(lib, biden, 4)
    lib.writeback.run(photo_ids=[biden])
    got = exiftool("-struct", str(photo_dir / "biden.jpg.xmp"))[0]
    assert got["Subject"] == ["portrait", "Joe Biden"]
    assert got["HierarchicalSubject"] == ["portrait", "People|Joe Biden"]
    assert got["Rating"] == 4
    face = lib.people.photo_faces(biden)[0]
    row = lib.reader().row("SELECT width, height, orientation FROM photos WHERE id = ?",
                           (biden,))
    assert row is not None and (row["orientation"] or 1) == 1
    [region] = got["RegionInfo"]["RegionList"]
    x, y, w, h = face.box
    assert region["Name"] == "Joe Biden" and region["Type"] == "Face"
    assert region["Area"]["X"] == pytest.approx(x + w / 2, abs=1e-3)
    assert region["Area"]["Y"] == pytest.approx(y + h / 2, abs=1e-3)
    assert region["Area"]["W"] == pytest.approx(w, abs=1e-3)
    assert got["RegionInfo"]["AppliedToDimensions"]["W"] == row["width"]


def test_a_digikam_sidecar_names_the_faces_it_draws(few_faces_lib: Library,
                                                    photo_dir: Path) -> None:
    lib = few_faces_lib
    biden = photo_id(lib, "biden.jpg")
    [face] = [f for f in lib.people.photo_faces(biden)][:1]
    assert face.name is None
    x, y, w, h = face.box
    # digiKam draws a slightly larger box than our detector, around the same face.
    region = xmp.XmpRegion("Joe Biden", x + w / 2, y + h / 2, w * 1.2, h * 1.25)
    sidecar = DIGIKAM_SIDECAR.replace(
        'mwg-rs:Name="Alice Example"', 'mwg-rs:Name="Joe Biden"').replace(
        'stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"',
        f'stArea:x="{region.x}" stArea:y="{region.y}" stArea:w="{region.w}" '
        f'stArea:h="{region.h}"').replace("People|Alice Example", "People|Joe Biden").replace(
        "<rdf:li>Alice Example</rdf:li>", "<rdf:li>Joe Biden</rdf:li>")
    (photo_dir / "biden.jpg.xmp").write_text(sidecar, encoding="utf-8")
    lib.index()
    faces = lib.people.photo_faces(biden)
    assert faces[0].name == "Joe Biden" and faces[0].assigned == "user"
    text = {t.field: t.value for t in lib.photo(biden).texts
            if t.source in ("xmp-sidecar", "xmp")}
    assert text["description"] == "Tram 28 going up"
    assert "Joe Biden" in text["people"]
    tags = {r[0] for r in lib.reader().execute(
        "SELECT tag FROM photo_tags WHERE photo_id = ? AND source = 'xmp'", (biden,))}
    assert tags == {"Lisbon"}   # as spelt; a person's name is a name, not a tag
    # A sidecar that did not change is not read again.
    assert lib.writeback.read_sidecars().read == 0


def test_a_face_placed_by_hand_keeps_its_person(few_faces_lib: Library,
                                                photo_dir: Path) -> None:
    lib = few_faces_lib
    biden = photo_id(lib, "biden.jpg")
    face = lib.people.photo_faces(biden)[0]
    lib.people.name_face(face.face, "Joe Biden")
    x, y, w, h = face.box
    data = xmp.XmpData(regions=[xmp.XmpRegion("Somebody Else", x + w / 2, y + h / 2, w, h)])
    files.write_sidecar(str(photo_dir / "biden.jpg.xmp"), data)
    lib.index()
    assert lib.people.photo_faces(biden)[0].name == "Joe Biden"
    # ... but the name is searchable all the same.
    assert {h.path for h in lib.text_search("Somebody")} == {str(photo_dir / "biden.jpg")}


def test_a_sidecar_written_while_watching_is_read(few_faces_lib: Library,
                                                  photo_dir: Path) -> None:
    lib = few_faces_lib
    biden = photo_id(lib, "biden.jpg")
    face = lib.people.photo_faces(biden)[0]
    x, y, w, h = face.box
    with lib.watcher(settle=0.2, poll=0.05, catch_up=False) as watcher:
        files.write_sidecar(str(photo_dir / "biden.jpg.xmp"), xmp.XmpData(
            description="At the lectern",
            regions=[xmp.XmpRegion("Joe Biden", x + w / 2, y + h / 2, w, h)]))
        assert eventually(lambda: lib.people.photo_faces(biden)[0].name == "Joe Biden")
        assert watcher.wait_idle(10)
    assert {h.path for h in lib.text_search("lectern")} == {str(photo_dir / "biden.jpg")}
    # The sidecar is not a photo.
    assert lib.reader().one("SELECT count(*) FROM photos WHERE path LIKE '%.xmp'") == 0


def test_with_sync_on_watching_writes_the_sidecars_of_new_photos_only(
        lib: Library, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "old.jpg", (320, 240), seed=1, image_description="An old one")
    lib.add_root(photo_dir)
    lib.index()
    lib.config.set("writeback.sync", True)
    with lib.watcher(settle=0.2, poll=0.05, catch_up=False) as watcher:
        ig.write_jpeg(photo_dir / "new.jpg", (320, 240), seed=2,
                      image_description="Arrived while watching")
        assert eventually(lambda: (photo_dir / "new.jpg.xmp").is_file())
        assert watcher.wait_idle(10)
    assert xmp.parse((photo_dir / "new.jpg.xmp").read_bytes()).description == \
        "Arrived while watching"
    # The batch wrote its own photos' sidecars; the rest of the library waits for an index
    # (or `glimpse writeback`), which looks at every photo.
    assert not (photo_dir / "old.jpg.xmp").exists()
    lib.index()
    assert (photo_dir / "old.jpg.xmp").is_file()


def test_merging_keeps_another_apps_sidecar(few_faces_lib: Library, photo_dir: Path) -> None:
    lib = few_faces_lib
    name_people(lib)
    path = photo_dir / "obama2.jpg.xmp"
    # Alice's region is in a corner, where no face is.
    path.write_text(DIGIKAM_SIDECAR.replace(
        'stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"',
        'stArea:x="0.05" stArea:y="0.05" stArea:w="0.04" stArea:h="0.04"'), encoding="utf-8")
    lib.index()
    report = lib.writeback.run()
    assert report.failed == 0
    text = path.read_text("utf-8")
    for kept in ("digiKam:TagsList", 'crs:Exposure2012="+0.35"', "crs:ToneCurvePV2012",
                 "MicrosoftPhoto:LastKeywordXMP"):
        assert kept in text
    back = xmp.parse(text)
    # digiKam's region stays (no face was found there: it is still Alice), ours is added.
    assert [r.name for r in back.regions] == ["Alice Example", "Barack Obama"]
    assert back.regions[0] == xmp.XmpRegion("Alice Example", 0.05, 0.05, 0.04, 0.04)
    assert back.subjects[:2] == ["Lisbon", "Alice Example"] and "Barack Obama" in back.subjects
    assert back.hierarchical[:2] == ["Places|Lisbon", "People|Alice Example"]
    assert back.description == "Tram 28 going up"   # theirs: Glimpse has no caption here
    got = exiftool("-struct", str(path))[0]
    assert {r["Name"] for r in got["RegionInfo"]["RegionList"]} == {"Alice Example",
                                                                    "Barack Obama"}
    assert got["TagsList"] == ["Places/Lisbon", "People/Alice Example"]
    assert got["Exposure2012"] == "+0.35" or got["Exposure2012"] == 0.35


# --------------------------------------------------------------------------- sync

def test_sync_rewrites_only_the_photos_that_changed(few_faces_lib: Library) -> None:
    lib = few_faces_lib
    name_people(lib)
    assert lib.writeback.sync() is None          # off by default
    lib.config.set("writeback.sync", True)
    first = lib.writeback.sync()
    assert first is not None and first.written >= 5 and first.failed == 0
    again = lib.writeback.sync()
    assert again is not None and again.written == 0 and again.unchanged == first.written
    biden = lib.people.person_ref("Joe Biden")
    lib.people.name(biden.id, "Joseph Biden")
    third = lib.writeback.sync()
    assert third is not None and third.written == 1
    assert list(third.targets) == [str(Path(lib.photo(photo_id(lib, "biden.jpg")).path))
                             + ".xmp"]
    assert "Joseph Biden" in Path(third.targets[0]).read_text("utf-8")


def test_a_photo_with_nothing_is_skipped_and_cleared_when_it_had_something(
        lib: Library, photo_dir: Path) -> None:
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo_dir / "biden.jpg", quality=90)
    lib.add_root(photo_dir)
    lib.index()
    biden = photo_id(lib, "biden.jpg")
    plan = {p.photo_id: p for p in lib.writeback.plan()}
    assert plan[biden].action == "skip"
    set_rating(lib, biden, 3)
    lib.writeback.run()
    assert xmp.parse((photo_dir / "biden.jpg.xmp").read_bytes()).rating == 3
    set_rating(lib, biden, 0)
    lib.writer.call(lambda c: c.execute("UPDATE photos SET rating = NULL WHERE id = ?",
                                        (biden,)))
    assert {p.photo_id: p for p in lib.writeback.plan()}[biden].action == "update"
    lib.writeback.run()
    assert xmp.parse((photo_dir / "biden.jpg.xmp").read_bytes()).rating is None


# --------------------------------------------------------------------------- bad input

def test_a_read_only_folder_is_a_clear_failure_and_nothing_is_lost(
        lib: Library, tmp_path: Path) -> None:
    with ram_disk(tmp_path / "ro", "8m") as disk:
        Image.new("RGB", (64, 48), (200, 30, 30)).save(disk / "a.jpg", quality=90)
        (disk / "a.jpg.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")
        lib.add_root(disk)
        lib.index()
        pid = photo_id(lib, "a.jpg")
        set_rating(lib, pid, 5)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        report = lib.writeback.run(sidecar=True, embed=True)
        assert report.written == 0 and report.failed == 2
        assert all("read-only" in e.reason for e in report.errors), report.errors
        assert (disk / "a.jpg.xmp").read_text("utf-8") == DIGIKAM_SIDECAR


def test_a_full_disk_is_a_clear_failure_and_the_old_sidecar_stays(
        lib: Library, tmp_path: Path) -> None:
    with ram_disk(tmp_path / "small", "8m") as disk:
        Image.new("RGB", (64, 48), (200, 30, 30)).save(disk / "a.jpg", quality=90)
        (disk / "a.jpg.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")
        lib.add_root(disk)
        lib.index()
        pid = photo_id(lib, "a.jpg")
        lib.captions.set_text(pid, "A long caption " * 200)
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)   # fill it to the last byte
        try:
            for chunk in (65536, 512, 1):
                with contextlib.suppress(OSError):
                    while os.write(fd, b"\0" * chunk):
                        pass
        finally:
            os.close(fd)
        report = lib.writeback.run()
        assert report.failed == 1 and "is full" in report.errors[0].reason, report.errors
        assert (disk / "a.jpg.xmp").read_text("utf-8") == DIGIKAM_SIDECAR
        assert [p.name for p in disk.iterdir() if p.name.startswith(".")] == []


def test_sidecar_names_digikam_and_lightroom_style() -> None:
    assert files.sidecar_path("/p/a.jpg", ["a.jpg"]) == "/p/a.jpg.xmp"
    assert files.sidecar_path("/p/a.jpg", ["a.jpg", "a.JPG.XMP"]) == "/p/a.JPG.XMP"
    assert files.sidecar_path("/p/a.jpg", ["a.jpg", "a.xmp"]) == "/p/a.xmp"
    # a.xmp could be a.jpg's or a.cr2's: not ours to take.
    assert files.sidecar_path("/p/a.jpg", ["a.jpg", "a.cr2", "a.xmp"]) == "/p/a.jpg.xmp"


def test_embedded_regions_name_faces_in_a_new_library(
        few_faces_lib: Library, photo_dir: Path, tmp_path: Path) -> None:
    lib = few_faces_lib
    name_people(lib)
    biden = photo_id(lib, "biden.jpg")
    assert lib.writeback.run(sidecar=False, embed=True, photo_ids=[biden]).written == 1
    with Library.open(tmp_path / "again" / "library.sqlite3", workers=2) as again:
        again.add_root(photo_dir)
        again.index()
        assert again.people.photo_faces(photo_id(again, "biden.jpg"))[0].name == "Joe Biden"
        assert again.reader().one("SELECT source FROM xmp_regions") == "embedded"


def test_a_corrupt_sidecar_is_reported_and_left_alone(lib: Library, photo_dir: Path) -> None:
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo_dir / "a.jpg", quality=90)
    broken = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>half a file"
    (photo_dir / "a.jpg.xmp").write_bytes(broken)
    lib.add_root(photo_dir)
    lib.index()
    assert lib.writeback.read_sidecars(photo_ids=[photo_id(lib, "a.jpg")]).errors
    set_rating(lib, photo_id(lib, "a.jpg"), 2)
    report = lib.writeback.run()
    assert report.failed == 1
    assert "not a readable XMP sidecar" in report.errors[0].reason
    assert (photo_dir / "a.jpg.xmp").read_bytes() == broken
    assert [p.name for p in photo_dir.iterdir() if p.name.startswith(".")] == []


def test_a_symlinked_sidecar_is_never_written_through(lib: Library, photo_dir: Path,
                                                      tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.xmp"
    outside.write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo_dir / "a.jpg", quality=90)
    os.symlink(outside, photo_dir / "a.jpg.xmp")
    lib.add_root(photo_dir)
    lib.index()
    set_rating(lib, photo_id(lib, "a.jpg"), 2)
    report = lib.writeback.run()
    assert report.failed == 1 and "symbolic link" in report.errors[0].reason
    assert outside.read_text("utf-8") == DIGIKAM_SIDECAR


def test_embedding_into_heic_and_gif_is_refused_per_file(lib: Library,
                                                         photo_dir: Path) -> None:
    """exiv2 cannot write HEIF (BMFF) and does not write GIF: those photos take sidecars."""
    ig.write_heic(photo_dir / "b.heic")
    Image.new("RGB", (64, 48), (20, 30, 200)).save(photo_dir / "c.gif")
    before = {n: (photo_dir / n).read_bytes() for n in ("b.heic", "c.gif")}
    lib.add_root(photo_dir)
    lib.index()
    for name in before:
        set_rating(lib, photo_id(lib, name), 4)
    items = lib.writeback.plan(sidecar=False, embed=True)
    assert len(items) == 2
    assert all(i.action == "skip" and "use sidecars" in i.reason for i in items)
    report = lib.writeback.run(sidecar=False, embed=True)
    assert report.skipped == 2 and report.written == 0
    for name, data in before.items():
        assert (photo_dir / name).read_bytes() == data
        with pytest.raises(files.WriteBackError, match="not supported; use sidecars"):
            files.embed(str(photo_dir / name), xmp.XmpData(rating=1))
    # The sidecar takes what the HEIC cannot, date and place included.
    assert lib.writeback.run().written == 2
    assert xmp.parse((photo_dir / "b.heic.xmp").read_bytes()).rating == 4


# --------------------------------------------------------------------------- embedding

def camera_jpeg(path: Path) -> None:
    """A JPEG as a camera writes it: EXIF with make, model, date, GPS and a MakerNote."""
    image = Image.fromarray(np.random.default_rng(7).integers(0, 255, (120, 160, 3),
                                                              dtype=np.uint8))
    exif = Image.Exif()
    exif[0x010F] = "Leica"
    exif[0x0110] = "Leica M11"
    exif[0x0112] = 1
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2021:06:05 14:03:22"
    sub[0x927C] = b"MAKERNOTE\x00\x01\x02\x03" * 8
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (38.0, 42.0, 36.0)
    gps[3], gps[4] = "W", (9.0, 8.0, 24.0)
    image.save(path, quality=88, exif=exif.tobytes())


XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_HEADER = b"Exif\x00\x00"


def jpeg_parts(data: bytes) -> tuple[list[bytes], int]:
    """A JPEG's segments before the scan (marker, length, payload) and where the scan starts
    (the test's own reading, independent of exiv2's)."""
    assert data[:2] == b"\xff\xd8"
    pos, out = 2, []
    while data[pos + 1] != 0xDA:
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        out.append(data[pos:pos + 2 + length])
        pos += 2 + length
    return out, pos


def scan_data(data: bytes) -> bytes:
    return data[jpeg_parts(data)[1]:]


def other_segments(data: bytes) -> list[bytes]:
    return [s for s in jpeg_parts(data)[0] if not (s[1] == 0xE1 and (
        s[4:].startswith(XMP_HEADER) or s[4:].startswith(EXIF_HEADER)))]


CAMERA_TAGS = ("-Make", "-Model", "-DateTimeOriginal", "-GPSLatitude", "-GPSLongitude",
               "-MakerNoteUnknownText", "-MakerNote", "-Orientation", "-ExifImageWidth")


def test_embedding_changes_only_the_metadata_it_owns(tmp_path: Path) -> None:
    path = tmp_path / "cam.jpg"
    camera_jpeg(path)
    original = path.read_bytes()
    mtime = os.stat(path).st_mtime_ns
    before = exiftool("-n", *CAMERA_TAGS, str(path))[0]
    data = xmp.XmpData(description="Tram 28 in Alfama", subjects=["tram", "Lisbon"],
                       hierarchical=["tram", "Lisbon"], rating=5,
                       regions=[xmp.XmpRegion("Ana", 0.5, 0.5, 0.2, 0.3)],
                       applied_to=(160, 120))
    first = files.embed(str(path), data)
    written = path.read_bytes()
    assert scan_data(written) == scan_data(original)
    assert other_segments(written) == other_segments(original)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(written))),
                          np.asarray(Image.open(io.BytesIO(original))))
    assert os.stat(path).st_mtime_ns == mtime
    after = exiftool("-n", *CAMERA_TAGS, str(path))[0]
    assert after == before
    got = exiftool("-struct", "-ImageDescription", "-XPKeywords", "-XMP:all", str(path))[0]
    assert got["ImageDescription"] == "Tram 28 in Alfama"
    assert got["XPKeywords"] == "tram;Lisbon"
    assert got["Subject"] == ["tram", "Lisbon"] and got["Rating"] == 5
    assert got["RegionInfo"]["RegionList"][0]["Name"] == "Ana"
    # Writing again, and again with other words, does not grow the file each time (what
    # Glimpse wrote before is given back, as the library does, so its words are replaced).
    done = files.embed(str(path), data, first.record, first.exif)
    assert path.read_bytes() == written and done.record == first.record
    for words in ("A much longer description of a tram going up a hill", "Short"):
        data.description = words
        done = files.embed(str(path), data, done.record, done.exif)
        assert len(path.read_bytes()) < len(written) + 200
        assert exiftool("-ImageDescription", str(path))[0]["ImageDescription"] == words
    assert exiftool("-n", *CAMERA_TAGS, str(path))[0] == before
    assert scan_data(path.read_bytes()) == scan_data(original)


def test_embedding_into_a_jpeg_without_exif_creates_it(tmp_path: Path) -> None:
    path = tmp_path / "plain.jpg"
    Image.new("RGB", (32, 32), (1, 2, 3)).save(path, quality=90)
    original = path.read_bytes()
    files.embed(str(path), xmp.XmpData(description="Plain", subjects=["x"]))
    got = exiftool("-ImageDescription", "-XPKeywords", "-Description", str(path))[0]
    assert got["ImageDescription"] == "Plain" and got["XPKeywords"] == "x"
    assert got["Description"] == "Plain"
    assert scan_data(path.read_bytes()) == scan_data(original)
    assert other_segments(path.read_bytes()) == other_segments(original)


def test_an_xmp_too_large_for_one_segment_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cam.jpg"
    camera_jpeg(path)
    original = path.read_bytes()
    data = xmp.XmpData(subjects=[f"keyword number {i}" for i in range(4000)])
    with pytest.raises(files.WriteBackError, match="more than one JPEG segment"):
        files.embed(str(path), data)
    assert path.read_bytes() == original


def test_the_library_keeps_faces_and_names_after_an_embed(
        few_faces_lib: Library, photo_dir: Path) -> None:
    lib = few_faces_lib
    name_people(lib)
    biden = photo_id(lib, "biden.jpg")
    conn = lib.reader()
    old_hash = conn.one("SELECT content_hash FROM photos WHERE id = ?", (biden,))
    faces_before = conn.rows("SELECT id, person_id FROM faces WHERE photo_id = ?", (biden,))
    thumb_before = lib.thumbnails.path_for(old_hash).read_bytes()
    report = lib.writeback.run(sidecar=False, embed=True, photo_ids=[biden])
    assert report.written == 1, report.errors
    new_hash = conn.one("SELECT content_hash FROM photos WHERE id = ?", (biden,))
    assert new_hash != old_hash
    assert conn.one("SELECT content_hash FROM photo_faces WHERE photo_id = ?",
                    (biden,)) == new_hash
    assert lib.thumbnails.path_for(new_hash).read_bytes() == thumb_before
    assert not lib.thumbnails.path_for(old_hash).exists()
    index = lib.index()
    assert index.updated == 0 and index.new == 0
    assert conn.rows("SELECT id, person_id FROM faces WHERE photo_id = ?",
                     (biden,)) == faces_before
    assert lib.people.photo_faces(biden)[0].name == "Joe Biden"
    got = exiftool("-struct", "-XMP:all", str(photo_dir / "biden.jpg"))[0]
    assert got["RegionInfo"]["RegionList"][0]["Name"] == "Joe Biden"


def test_regions_of_a_rotated_photo_refer_to_the_stored_image(
        face_photos: Path, lib: Library, photo_dir: Path, tmp_path: Path) -> None:
    """A portrait taken with the camera on its side: pixels stored sideways, EXIF orientation
    6 (turn 90° clockwise to show). MWG areas are in the stored image's frame."""
    upright = Image.open(face_photos / "biden.jpg").convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.rotate(90, expand=True).save(photo_dir / "side.jpg", quality=92,
                                         exif=exif.tobytes())
    lib.add_root(photo_dir)
    lib.index()
    pid = photo_id(lib, "side.jpg")
    [face] = lib.people.photo_faces(pid)[:1]
    lib.people.name_face(face.face, "Joe Biden")
    assert lib.writeback.run().written == 1
    got = exiftool("-struct", str(photo_dir / "side.jpg.xmp"))[0]["RegionInfo"]
    x, y, w, h = face.box
    assert got["AppliedToDimensions"]["W"] == upright.height
    assert got["AppliedToDimensions"]["H"] == upright.width
    area = got["RegionList"][0]["Area"]
    assert area["X"] == pytest.approx(y + h / 2, abs=2e-3)
    assert area["Y"] == pytest.approx(1 - (x + w / 2), abs=2e-3)
    assert (area["W"], area["H"]) == (pytest.approx(h, abs=2e-3), pytest.approx(w, abs=2e-3))
    with Library.open(tmp_path / "again" / "library.sqlite3", workers=2) as again:
        again.add_root(photo_dir)
        again.index()
        assert again.people.photo_faces(photo_id(again, "side.jpg"))[0].name == "Joe Biden"


# --------------------------------------------------------------------------- merging, item by item

EMBEDDED_XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/">
<dc:subject><rdf:Bag><rdf:li>Lisbon</rdf:li><rdf:li>Tram</rdf:li></rdf:Bag></dc:subject>
<lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|Portugal|Lisbon</rdf:li></rdf:Bag>
</lr:hierarchicalSubject>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">Tram</rdf:li>
<rdf:li xml:lang="pt-PT">Eléctrico</rdf:li></rdf:Alt></dc:description>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


def test_another_apps_sidecar_and_embedded_metadata_survive_a_write_back(
        lib: Library, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", xmp=EMBEDDED_XMP, xp_keywords=["family", "beach"],
                  image_description="Windows desc")
    ig.write_jpeg(photo_dir / "b.jpg", seed=2)
    (photo_dir / "b.jpg.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    lib.add_root(photo_dir)
    lib.index()
    a, b = photo_id(lib, "a.jpg"), photo_id(lib, "b.jpg")
    tags = {(r["photo_id"], r["tag"], r["source"]) for r in lib.reader().rows(
        "SELECT photo_id, tag, source FROM photo_tags")}
    # As spelt, the embedded keywords as well as the sidecar's.
    assert tags == {(a, "Lisbon", "xmp-embedded"), (a, "Tram", "xmp-embedded"),
                    (b, "Lisbon", "xmp")}
    assert {h.photo_id for h in lib.search("tag:tram").hits} == {a}
    add_tag(lib, a, "harbour")
    add_tag(lib, b, "harbour")
    report = lib.writeback.run(sidecar=True, embed=True)
    assert report.failed == 0 and report.written == 4, report.errors

    side = exiftool("-struct", "-XMP:all", str(photo_dir / "b.jpg.xmp"))[0]
    assert [r["Name"] for r in side["RegionInfo"]["RegionList"]] == ["Alice Example"]
    assert side["HierarchicalSubject"] == ["Places|Lisbon", "People|Alice Example",
                                           "harbour"]
    assert side["Subject"] == ["Lisbon", "Alice Example", "harbour"]
    assert side["Description"] == "Tram 28 going up" and side["Rating"] == 3

    got = exiftool("-struct", "-G1", "-XMP:all", "-IFD0:all", str(photo_dir / "a.jpg"))[0]
    assert got["XMP-dc:Subject"] == ["Lisbon", "Tram", "harbour"]
    assert got["XMP-lr:HierarchicalSubject"][0] == "Places|Portugal|Lisbon"
    assert got["IFD0:XPKeywords"].split(";")[:2] == ["family", "beach"]
    assert "harbour" in got["IFD0:XPKeywords"].split(";")
    # No caption: the description in each language, and the EXIF one, stay as they were.
    assert got["IFD0:ImageDescription"] == "Windows desc"
    both = exiftool("-struct", "-XMP-dc:Description", str(photo_dir / "a.jpg"))[0]
    assert both["Description"] == "Tram"
    assert exiftool("-XMP-dc:Description-pt-PT", str(photo_dir / "a.jpg"))[0][
        "Description-pt-PT"] == "Eléctrico"


def test_a_caption_never_replaces_another_apps_description(
        lib: Library, photo_dir: Path, tmp_path: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", seed=1, image_description="Taken by Dad")
    ig.write_jpeg(photo_dir / "b.jpg", seed=2)
    (photo_dir / "b.jpg.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    lib.add_root(photo_dir)
    lib.index()
    a, b = photo_id(lib, "a.jpg"), photo_id(lib, "b.jpg")
    lib.captions.set_text(a, "A garden")
    lib.captions.set_text(b, "A tram on a hill")
    report = lib.writeback.run(sidecar=True, embed=True)
    assert report.failed == 0, report.errors
    side = xmp.parse((photo_dir / "b.jpg.xmp").read_bytes())
    assert side.description == "Tram 28 going up"
    assert side.caption is not None and side.caption.summary == "A tram on a hill"
    got = exiftool("-IFD0:ImageDescription", "-XMP-glimpse:all", str(photo_dir / "a.jpg"))[0]
    assert got["ImageDescription"] == "Taken by Dad"
    assert got["CaptionSummary"] == "A garden"
    # A lost library: both texts come back, each as what it is.
    with Library.open(tmp_path / "again" / "lib.sqlite3", workers=1) as other:
        other.add_root(photo_dir)
        other.index()
        assert {r["photo_id"]: r["summary"] for r in other.reader().rows(
            "SELECT photo_id, summary FROM captions")} == {
            photo_id(other, "a.jpg"): "A garden", photo_id(other, "b.jpg"): "A tram on a hill"}
        assert other.reader().one(
            "SELECT value FROM photo_text WHERE photo_id = ? AND source = 'xmp-sidecar' AND "
            "field = 'description'", (photo_id(other, "b.jpg"),)) == "Tram 28 going up"


def test_another_apps_edit_of_our_description_is_kept(lib: Library, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "c.jpg", seed=3)
    lib.add_root(photo_dir)
    lib.index()
    pid = photo_id(lib, "c.jpg")
    lib.captions.set_text(pid, "A boat")
    assert lib.writeback.run().written == 1
    sidecar = photo_dir / "c.jpg.xmp"
    assert xmp.parse(sidecar.read_bytes()).description == "A boat"
    sidecar.write_bytes(sidecar.read_bytes().replace(
        b'xml:lang="x-default">A boat<', b'xml:lang="x-default">Our boat, Lisbon<'))
    lib.index()
    assert lib.reader().one("SELECT value FROM photo_text WHERE source = 'xmp-sidecar' AND "
                            "field = 'description'") == "Our boat, Lisbon"
    add_tag(lib, pid, "harbour")
    assert lib.writeback.run().written == 1
    back = xmp.parse(sidecar.read_bytes())
    assert back.description == "Our boat, Lisbon" and back.subjects == ["harbour"]
    lib.captions.set_text(pid, "A small boat")
    lib.writeback.run()
    assert xmp.parse(sidecar.read_bytes()).description == "Our boat, Lisbon"


def test_embedding_keeps_their_image_description_and_their_edit_of_ours(
        tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    ig.write_jpeg(path, seed=3, image_description="Taken by Dad")

    def exif_description() -> str | None:
        got = exiftool("-IFD0:ImageDescription", str(path))[0].get("ImageDescription")
        return None if got is None else str(got)

    cap = xmp.XmpData(description="A garden", caption=xmp.XmpCaption("A garden"))
    done = files.embed(str(path), cap)
    assert exif_description() == "Taken by Dad" and done.exif is not None
    assert done.exif.description is None
    # Without their text, ours goes in; an edit of ours is then theirs.
    plain = tmp_path / "b.jpg"
    ig.write_jpeg(plain, seed=4)
    first = files.embed(str(plain), cap)
    assert first.exif is not None and first.exif.description == "A garden"
    edited = tmp_path / "b-edited.jpg"
    edited.write_bytes(plain.read_bytes().replace(b"A garden\x00", b"A gardeN\x00"))
    new = xmp.XmpData(description="A green garden", caption=xmp.XmpCaption("A green garden"))
    again = files.embed(str(edited), new, first.record, first.exif)
    path = edited
    assert exif_description() == "A gardeN"
    assert again.exif is not None and again.exif.description is None


def test_deleting_a_tag_of_ours_removes_only_it(lib: Library, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "b.jpg", seed=2)
    (photo_dir / "b.jpg.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    lib.add_root(photo_dir)
    lib.index()
    pid = photo_id(lib, "b.jpg")
    add_tag(lib, pid, "harbour")
    add_tag(lib, pid, "boat")
    lib.captions.set_text(pid, "Boats in the harbour")
    assert lib.writeback.run().written == 1
    assert xmp.parse((photo_dir / "b.jpg.xmp").read_bytes()).subjects == [
        "Lisbon", "Alice Example", "boat", "harbour"]
    lib.writer.call(lambda c: c.execute("DELETE FROM photo_tags WHERE tag = 'boat'"))
    lib.captions.set_text(pid, "")
    assert lib.writeback.run().written == 1
    back = xmp.parse((photo_dir / "b.jpg.xmp").read_bytes())
    assert back.subjects == ["Lisbon", "Alice Example", "harbour"]
    assert back.hierarchical == ["Places|Lisbon", "People|Alice Example", "harbour"]
    assert [r.name for r in back.regions] == ["Alice Example"]
    # Our caption never replaced digiKam's description; with the caption gone, it is still
    # digiKam's: reading the sidecar again keeps it, and so does the next write.
    assert back.caption is None and back.description == "Tram 28 going up"
    os.utime(photo_dir / "b.jpg.xmp", ns=(1, 1))
    lib.index()
    assert lib.reader().one("SELECT value FROM photo_text WHERE source = 'xmp-sidecar' AND "
                            "field = 'description'") == "Tram 28 going up"
    add_tag(lib, pid, "quay")
    assert lib.writeback.run().written == 1
    assert xmp.parse((photo_dir / "b.jpg.xmp").read_bytes()).description == "Tram 28 going up"
    text = (photo_dir / "b.jpg.xmp").read_text("utf-8")
    assert "digiKam:TagsList" in text and 'crs:Exposure2012="+0.35"' in text


def test_our_own_sidecar_read_again_does_not_bring_back_what_was_deleted(
        lib: Library, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "b.jpg", seed=2)
    lib.add_root(photo_dir)
    lib.index()
    pid = photo_id(lib, "b.jpg")
    add_tag(lib, pid, "beach")
    lib.captions.set_text(pid, "A wrong caption")
    assert lib.writeback.run().written == 1
    # The photo and its sidecar are renamed: the sidecar is read again, as the photo's.
    os.rename(photo_dir / "b.jpg", photo_dir / "c.jpg")
    os.rename(photo_dir / "b.jpg.xmp", photo_dir / "c.jpg.xmp")
    lib.index()
    assert lib.reader().rows("SELECT tag, source FROM photo_tags") == [
        {"tag": "beach", "source": "clip:test"}]
    assert lib.reader().one("SELECT count(*) FROM photo_text WHERE source = 'xmp-sidecar'") == 0
    # The person deletes the tag and the caption: they stay deleted, in the library and file.
    lib.writer.call(lambda c: c.execute("DELETE FROM photo_tags WHERE source = 'clip:test'"))
    lib.captions.set_text(pid, "")
    assert lib.writeback.run().written == 1
    lib.index()
    assert lib.reader().one("SELECT count(*) FROM photo_tags") == 0
    assert lib.reader().one("SELECT count(*) FROM captions") == 0
    back = xmp.parse((photo_dir / "c.jpg.xmp").read_bytes())
    assert back.subjects == [] and back.description is None and back.caption is None
    assert not {h.path for h in lib.text_search("wrong")}


def add_face(lib: Library, pid: int, box: tuple[float, float, float, float]) -> int:
    """A detected face, as the face stage stores it (no face pack needed)."""
    def apply(c: Connection) -> int:
        content = c.one("SELECT content_hash FROM photos WHERE id = ?", (pid,))
        c.execute("INSERT INTO faces(photo_id, model_id, content_hash, x, y, w, h, landmarks, "
                  "score, size_px, sharpness, yaw, seeds, created_at) VALUES "
                  "(?, 'test', ?, ?, ?, ?, ?, '[]', 0.9, 100, 1.0, 0.0, 1, ?)",
                  (pid, content, *box, now_iso()))
        return int(c.raw.last_insert_rowid())
    return int(lib.writer.call(apply))


def test_a_region_read_again_does_not_undo_not_this_person(lib: Library,
                                                           photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "b.jpg", seed=2)
    (photo_dir / "b.jpg.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    lib.add_root(photo_dir)
    lib.index()
    pid = photo_id(lib, "b.jpg")
    face = add_face(lib, pid, (0.41, 0.26, 0.18, 0.28))   # inside Alice's region
    assert lib.writeback.apply_regions() == 1
    assert lib.people.photo_faces(pid)[0].name == "Alice Example"
    lib.people.reject([face])
    assert lib.people.photo_faces(pid)[0].name is None
    # Moved: the sidecar is read again; and edited by digiKam: read again too.
    os.rename(photo_dir / "b.jpg", photo_dir / "c.jpg")
    os.rename(photo_dir / "b.jpg.xmp", photo_dir / "c.jpg.xmp")
    lib.index()
    with (photo_dir / "c.jpg.xmp").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    lib.index()
    assert lib.reader().one("SELECT count(*) FROM face_rejections WHERE face_id = ?",
                            (face,)) == 1
    assert lib.people.photo_faces(pid)[0].name is None
    # A region that did not change keeps its row and its link.
    assert lib.reader().rows("SELECT name, face_id FROM xmp_regions") == [
        {"name": "Alice Example", "face_id": face}]
    # A new row (the region moved a little) is not given the face either.
    lib.writer.call(lambda c: c.execute("UPDATE xmp_regions SET face_id = NULL"))
    assert lib.writeback.apply_regions() == 0
    assert lib.people.photo_faces(pid)[0].name is None


@pytest.mark.parametrize("bad", [
    ('stDim:w="4000"', 'stDim:w="inf"'), ('stDim:h="3000"', 'stDim:h="nan"'),
    ('stArea:x="0.5"', 'stArea:x="nan"'), ('stArea:w="0.2"', 'stArea:w="-0.2"'),
    ('stArea:y="0.4"', 'stArea:y="1e999"'), ('xmp:Rating="3"', 'xmp:Rating="inf"')])
def test_a_malformed_value_costs_only_that_value(lib: Library, photo_dir: Path,
                                                 bad: tuple[str, str]) -> None:
    ig.write_jpeg(photo_dir / "a.jpg")
    ig.write_jpeg(photo_dir / "b.jpg", seed=2)
    (photo_dir / "a.jpg.xmp").write_text(DIGIKAM_SIDECAR.replace(*bad), encoding="utf-8")
    (photo_dir / "b.jpg.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    lib.add_root(photo_dir)
    lib.index()
    a, b = photo_id(lib, "a.jpg"), photo_id(lib, "b.jpg")
    # Both sidecars are read; the bad value alone is left out.
    texts = {r["photo_id"] for r in lib.reader().rows(
        "SELECT photo_id FROM photo_text WHERE source = 'xmp-sidecar'")}
    assert texts == {a, b}
    assert lib.reader().one("SELECT count(*) FROM xmp_regions WHERE photo_id = ?",
                            (b,)) == 1


def test_a_sidecar_that_cannot_be_read_is_a_warning_not_a_failure(
        lib: Library, photo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ig.write_jpeg(photo_dir / "a.jpg")
    ig.write_jpeg(photo_dir / "b.jpg", seed=2)
    (photo_dir / "a.jpg.xmp").write_text(DIGIKAM_SIDECAR.replace("Tram 28", "BOOM"),
                                         encoding="utf-8")
    (photo_dir / "b.jpg.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    lib.add_root(photo_dir)
    real = xmp.parse

    def fragile(packet: bytes | str) -> xmp.XmpData:
        if b"BOOM" in (packet.encode() if isinstance(packet, str) else packet):
            raise OverflowError("cannot convert float infinity to integer")
        return real(packet)

    monkeypatch.setattr(xmp, "parse", fragile)
    lib.index()   # does not raise
    a, b = photo_id(lib, "a.jpg"), photo_id(lib, "b.jpg")
    errors = lib.reader().rows("SELECT path, stage, photo_id, reason FROM errors")
    assert [(e["path"], e["stage"], e["photo_id"]) for e in errors] == [
        (str(photo_dir / "a.jpg.xmp"), "metadata", a)]
    assert "OverflowError" in errors[0]["reason"]
    assert lib.reader().one("SELECT count(*) FROM photo_text WHERE photo_id = ? AND "
                            "source = 'xmp-sidecar'", (b,)) == 2
    # Once it can be read, the warning goes.
    (photo_dir / "a.jpg.xmp").write_text(DIGIKAM_SIDECAR + "\n", encoding="utf-8")
    lib.index()
    assert lib.reader().one("SELECT count(*) FROM errors") == 0


def test_sidecar_names_on_a_case_sensitive_disk() -> None:
    both = ["A.jpg", "a.jpg", "A.jpg.xmp", "a.jpg.xmp"]
    assert files.sidecar_path("/p/A.jpg", both) == "/p/A.jpg.xmp"
    assert files.sidecar_path("/p/a.jpg", both) == "/p/a.jpg.xmp"
    # One sidecar in another case, two photos it could belong to: neither takes it.
    one = ["A.jpg", "a.jpg", "A.JPG.XMP"]
    assert files.sidecar_path("/p/A.jpg", one) == "/p/A.jpg.xmp"
    assert files.sidecar_path("/p/a.jpg", one) == "/p/a.jpg.xmp"
    # Two sidecars differing in case only, for one photo: the exact one.
    assert files.sidecar_path("/p/a.jpg", ["a.jpg", "a.JPG.xmp", "a.jpg.XMP"]) == \
        "/p/a.jpg.xmp"
    assert files.sidecar_path("/p/a.jpg", ["a.jpg", "a.JPG.xmp", "a.jpg.xmp"]) == \
        "/p/a.jpg.xmp"


def test_a_lightroom_sidecar_stays_with_its_photo_when_a_namesake_appears(
        lib: Library, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg")
    (photo_dir / "a.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    lib.add_root(photo_dir)
    lib.index()
    pid = photo_id(lib, "a.jpg")
    assert lib.reader().one("SELECT path FROM sidecars WHERE kind = 'sidecar'") == \
        str(photo_dir / "a.xmp")
    Image.new("RGB", (64, 48), (20, 30, 200)).save(photo_dir / "a.png")
    lib.index()
    assert lib.reader().one("SELECT value FROM photo_text WHERE photo_id = ? AND "
                            "source = 'xmp-sidecar' AND field = 'description'",
                            (pid,)) == "Tram 28 going up"
    set_rating(lib, pid, 5)
    [plan] = [p for p in lib.writeback.plan() if p.photo_id == pid]
    assert plan.target_path == str(photo_dir / "a.xmp")


def test_a_caption_read_from_xmp_is_indexed_like_a_fresh_one(lib: Library,
                                                             photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg")
    files.write_sidecar(str(photo_dir / "a.jpg.xmp"), xmp.XmpData(caption=xmp.XmpCaption(
        "A harbour", "m", xmp.caption_data({"objects": [{"label": "sailboat"}],
                                            "mood": "serene", "text": "PORTO"}), "model")))
    lib.add_root(photo_dir)
    lib.index()
    a = str(photo_dir / "a.jpg")
    for word in ("harbour", "sailboat", "serene", "PORTO"):
        assert {h.path for h in lib.text_search(word)} == {a}, word
    assert lib.reader().one("SELECT count(*) FROM photo_tags WHERE source LIKE 'caption:%'") >= 1


def test_an_embed_that_raced_another_change_makes_the_next_index_read_the_file(
        lib: Library, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg")
    lib.add_root(photo_dir)
    lib.index()
    pid = photo_id(lib, "a.jpg")
    set_rating(lib, pid, 4)
    # The library thinks the file has other bytes than it has (changed meanwhile).
    lib.writer.call(lambda c: c.execute("UPDATE photos SET content_hash = 'elsewhere' "
                                        "WHERE id = ?", (pid,)))
    assert lib.writeback.run(sidecar=False, embed=True).written == 1
    assert lib.reader().one("SELECT mtime_ns FROM photos WHERE id = ?", (pid,)) == -1
    report = lib.index()
    assert report.updated == 1
    assert lib.reader().one("SELECT content_hash FROM photos WHERE id = ?",
                            (pid,)) != "elsewhere"


def test_ifd0_is_not_reused_when_something_lies_after_it(tmp_path: Path) -> None:
    """An EXIF block written by another tool with IFD0 first and the Exif sub-IFD after it (a
    layout that looks like ours at the end): the sub-IFD must survive, every time."""
    le = "<"
    # header | IFD0 (ImageDescription, ExifIFD pointer) | Exif IFD (DateTimeOriginal) | values
    ifd0_at, n0 = 8, 2
    exif_at = ifd0_at + 2 + 12 * n0 + 4
    n1 = 1
    desc_at = exif_at + 2 + 12 * n1 + 4
    desc = b"Old words here\x00"
    date_at = desc_at + len(desc) + (len(desc) % 2)
    date = b"2021:06:05 14:03:22\x00"
    blob = bytearray(b"II*\x00" + struct.pack(le + "I", ifd0_at))
    blob += struct.pack(le + "H", n0)
    blob += struct.pack(le + "HHII", 0x010E, 2, len(desc), desc_at)
    blob += struct.pack(le + "HHII", 0x8769, 4, 1, exif_at)
    blob += struct.pack(le + "I", 0)
    blob += struct.pack(le + "H", n1)
    blob += struct.pack(le + "HHII", 0x9003, 2, len(date), date_at)
    blob += struct.pack(le + "I", 0)
    blob += desc + b"\x00" * (len(desc) % 2) + date
    payload = EXIF_HEADER + bytes(blob)
    plain = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(plain, "JPEG", quality=90)
    raw = plain.getvalue()
    path = tmp_path / "odd.jpg"
    path.write_bytes(raw[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
                     + raw[2:])
    assert exiftool("-DateTimeOriginal", str(path))[0]["DateTimeOriginal"] == \
        "2021:06:05 14:03:22"
    done = None
    for words in ("First", "Second, longer words", "Third"):
        data = xmp.XmpData(description=words, caption=xmp.XmpCaption(words))
        # ("Old words here" is said to be Glimpse's own, so that each write replaces it.)
        done = files.embed(str(path), data, done.record if done else None,
                                done.exif if done else xmp.XmpData(description="Old words here"))
        got = exiftool("-ImageDescription", "-DateTimeOriginal", str(path))[0]
        assert got["ImageDescription"] == words
        assert got["DateTimeOriginal"] == "2021:06:05 14:03:22"


def test_one_write_back_at_a_time_and_a_wait_can_be_cancelled(lib: Library,
                                                               photo_dir: Path) -> None:
    import threading

    from glimpse_desktop.kernel.lock import IngestLock
    from glimpse_desktop.kernel.progress import CancelToken

    ig.write_jpeg(photo_dir / "a.jpg", seed=1)
    lib.add_root(photo_dir)
    lib.index()
    add_tag(lib, photo_id(lib, "a.jpg"), "harbour")
    assert lib.writeback.lock is not None
    other = IngestLock(lib.writeback.lock.path)   # as another process holds it
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with other.hold():
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        token = CancelToken()
        threading.Timer(0.3, token.cancel).start()
        report = lib.writeback.run(cancel=token)
        assert report.cancelled and report.written == 0
        assert not (photo_dir / "a.jpg.xmp").exists()
        token = CancelToken()
        threading.Timer(0.3, token.cancel).start()
        assert lib.writeback.read_sidecars(cancel=token).cancelled
    finally:
        release.set()
        thread.join()
    assert lib.writeback.run().written == 1


def test_a_sidecar_written_by_another_app_during_our_write_is_merged_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.jpg.xmp"
    path.write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    real = xmp.merge_report
    calls = []

    def racing(existing: bytes | None, data: xmp.XmpData, **kw: object) -> xmp.Merged:
        calls.append(1)
        if len(calls) == 1:   # another app writes between our read and our rename
            path.write_text(DIGIKAM_SIDECAR.replace("Lisbon", "Porto"), encoding="utf-8")
            os.utime(path, ns=(1, 1))
        return real(existing, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(files.xmp, "merge_report", racing)
    files.write_sidecar(str(path), xmp.XmpData(subjects=["harbour"]))
    assert len(calls) == 2
    back = xmp.parse(path.read_bytes())
    assert back.subjects == ["Porto", "Alice Example", "harbour"]


def test_an_edit_made_just_before_our_write_is_read_not_lost(lib: Library,
                                                             photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", seed=1)
    lib.add_root(photo_dir)
    lib.index()
    pid = photo_id(lib, "a.jpg")
    add_tag(lib, pid, "tram")
    assert lib.writeback.run().written == 1
    side = photo_dir / "a.jpg.xmp"
    # digiKam adds a keyword and a description (Glimpse not watching)...
    body = side.read_bytes().replace(b"<rdf:li>tram</rdf:li>",
                                     b"<rdf:li>tram</rdf:li><rdf:li>Lisbon</rdf:li>")
    body = body.replace(b"</rdf:Description>", b'<dc:description><rdf:Alt><rdf:li xml:lang='
                        b'"x-default">Tram 28</rdf:li></rdf:Alt></dc:description>'
                        b"</rdf:Description>")
    side.write_bytes(body)
    os.utime(side, ns=(1, 1))
    # ... and a tag added in Glimpse is written before any index.
    add_tag(lib, pid, "street")
    assert lib.writeback.run().written == 1
    back = xmp.parse(side.read_bytes())
    assert set(back.subjects) == {"tram", "Lisbon", "street"}
    assert back.description == "Tram 28"
    assert {r["tag"] for r in lib.reader().rows(
        "SELECT tag FROM photo_tags WHERE photo_id = ?", (pid,))} == {"tram", "Lisbon", "street"}
    assert lib.reader().one("SELECT value FROM photo_text WHERE source = 'xmp-sidecar' AND "
                            "field = 'description'") == "Tram 28"


def test_a_rating_changed_by_another_app_is_the_photos_rating(lib: Library,
                                                              photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", seed=1)
    lib.add_root(photo_dir)
    lib.index()
    pid = photo_id(lib, "a.jpg")
    set_rating(lib, pid, 3)
    assert lib.writeback.run().written == 1
    side = photo_dir / "a.jpg.xmp"
    assert xmp.parse(side.read_bytes()).rating == 3
    side.write_bytes(side.read_bytes().replace(b"<xmp:Rating>3<", b"<xmp:Rating>5<"))
    os.utime(side, ns=(1, 1))
    lib.index()
    assert lib.reader().one("SELECT rating FROM photos WHERE id = ?", (pid,)) == 5
    add_tag(lib, pid, "street")
    assert lib.writeback.run().written == 1
    assert xmp.parse(side.read_bytes()).rating == 5
    # Read again, our own 5 is no news; a change in Glimpse is written.
    os.utime(side, ns=(2, 2))
    lib.index()
    set_rating(lib, pid, 2)
    lib.writeback.run()
    assert xmp.parse(side.read_bytes()).rating == 2
    assert lib.reader().one("SELECT rating FROM photos WHERE id = ?", (pid,)) == 2
