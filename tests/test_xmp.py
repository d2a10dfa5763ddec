"""XMP documents: parsing, merging into other apps' sidecars, region geometry, and what
exiftool (the reference reader) makes of what we write."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from glimpse_desktop.metadata import xmp
from glimpse_desktop.writeback import files

# A sidecar as digiKam 7 writes it (Exiv2), with a Lightroom develop block: properties as
# attributes (xmp:Rating among them) and as elements, its own namespaces, old names.
DIGIKAM_SIDECAR = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:digiKam="http://www.digikam.org/ns/1.0/"
    xmlns:MicrosoftPhoto="http://ns.microsoft.com/photo/1.0/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
   exif:DateTimeOriginal="2019-07-14T10:22:31"
   tiff:Make="Canon"
   xmp:Rating="3"
   xmp:CreatorTool="digiKam-7.9.0"
   MicrosoftPhoto:Rating="50"
   crs:Exposure2012="+0.35"
   crs:WhiteBalance="As Shot"
   crs:HasSettings="True">
   <digiKam:TagsList>
    <rdf:Seq>
     <rdf:li>Places/Lisbon</rdf:li>
     <rdf:li>People/Alice Example</rdf:li>
    </rdf:Seq>
   </digiKam:TagsList>
   <MicrosoftPhoto:LastKeywordXMP>
    <rdf:Bag>
     <rdf:li>Places/Lisbon</rdf:li>
    </rdf:Bag>
   </MicrosoftPhoto:LastKeywordXMP>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>Places|Lisbon</rdf:li>
     <rdf:li>People|Alice Example</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Lisbon</rdf:li>
     <rdf:li>Alice Example</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <dc:description>
    <rdf:Alt>
     <rdf:li xml:lang="x-default">Tram 28 going up</rdf:li>
    </rdf:Alt>
   </dc:description>
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:AppliedToDimensions stDim:w="4000" stDim:h="3000" stDim:unit="pixel"/>
    <mwg-rs:RegionList>
     <rdf:Bag>
      <rdf:li>
       <rdf:Description mwg-rs:Name="Alice Example" mwg-rs:Type="Face">
        <mwg-rs:Area stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"
          stArea:unit="normalized"/>
       </rdf:Description>
      </rdf:li>
     </rdf:Bag>
    </mwg-rs:RegionList>
   </mwg-rs:Regions>
   <crs:ToneCurvePV2012>
    <rdf:Seq>
     <rdf:li>0, 0</rdf:li>
     <rdf:li>255, 255</rdf:li>
    </rdf:Seq>
   </crs:ToneCurvePV2012>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""


def exiftool(*args: str) -> list[dict[str, Any]]:
    """exiftool's JSON for the arguments. The tests that call it need Debian's
    libimage-exiftool-perl (`make test` installs it): without it they fail, never skip."""
    if shutil.which("exiftool") is None:
        pytest.fail("exiftool is not installed: `sudo apt-get install libimage-exiftool-perl` "
                    "(Debian/Ubuntu), `brew install exiftool` (macOS), or run `make test`, "
                    "which installs it")
    done = subprocess.run(["exiftool", "-j", *args], capture_output=True, check=True)
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


def sample() -> xmp.XmpData:
    return xmp.XmpData(
        description="Ana and Rui at the harbour",
        subjects=["harbour", "Ana", "Rui"],
        hierarchical=["harbour", "People|Ana", "People|Rui"],
        rating=4,
        regions=[xmp.XmpRegion("Ana", 0.25, 0.4, 0.1, 0.2),
                 xmp.XmpRegion("Rui", 0.7, 0.45, 0.12, 0.18)],
        applied_to=(640, 480),
        caption=xmp.XmpCaption("Two people at a harbour", "gpt-4o-mini",
                               '{"mood":"calm","objects":["boat"]}', "model"))


def test_a_written_document_parses_back_to_what_was_meant() -> None:
    back = xmp.parse(xmp.merge(None, sample()))
    assert back.owned() == sample().owned()
    assert back.applied_to == (640, 480)


def test_orientation_round_trips_and_matches_the_exif_meaning() -> None:
    box = (0.1, 0.2, 0.3, 0.4)
    for orientation in range(1, 9):
        there = xmp.from_upright(box, orientation)
        assert xmp.to_upright(there, orientation) == pytest.approx(box)
    # Orientation 6: the stored image is shown turned 90° clockwise, so its top-left corner
    # is shown top right.
    assert xmp.to_upright((0.0, 0.0, 0.1, 0.2), 6) == pytest.approx((0.8, 0.0, 0.2, 0.1))
    # 8: turned 90° counter-clockwise: the stored top-left corner is shown bottom left.
    assert xmp.to_upright((0.0, 0.0, 0.1, 0.2), 8) == pytest.approx((0.0, 0.9, 0.2, 0.1))
    region = xmp.region_from_upright("Ana", box, 6)
    assert xmp.region_to_upright(region, 6) == pytest.approx(box)


def test_merge_keeps_another_apps_properties_and_items_and_adds_ours() -> None:
    merged = xmp.merge_report(DIGIKAM_SIDECAR, sample())
    text = merged.body.decode()
    for kept in ('crs:Exposure2012="+0.35"', "digiKam:TagsList", "People/Alice Example",
                 'MicrosoftPhoto:Rating="50"', "crs:ToneCurvePV2012", "255, 255",
                 'tiff:Make="Canon"', 'xmp:CreatorTool="digiKam-7.9.0"',
                 'x:xmptk="XMP Core 4.4.0-Exiv2"'):
        assert kept in text, kept
    # digiKam's description stays (our caption is in glimpse:Caption*); our rating replaces
    # theirs.
    assert "Tram 28 going up" in text and 'xmp:Rating="3"' not in text
    back = xmp.parse(merged.body)
    assert back.owned() == merged.expected.owned()
    # digiKam's keywords (as spelt) and its region stay; ours follow.
    assert back.subjects == ["Lisbon", "Alice Example", "harbour", "Ana", "Rui"]
    assert back.hierarchical == ["Places|Lisbon", "People|Alice Example", "harbour",
                                 "People|Ana", "People|Rui"]
    assert [r.name for r in back.regions] == ["Alice Example", "Ana", "Rui"]
    assert back.description == "Tram 28 going up" and back.rating == 4
    assert back.caption is not None and back.caption.summary == "Two people at a harbour"
    assert merged.written.description is None
    assert back.applied_to == (4000, 3000)
    # What is ours, to be replaced next time: nothing of digiKam's.
    assert merged.written.subjects == ["harbour", "Ana", "Rui"]
    assert [r.name for r in merged.written.regions] == ["Ana", "Rui"]


# Another app's sidecar with what Glimpse does not understand but must keep: a region of another
# type, a region with extra fields, a description in two languages.
OTHER_REGIONS = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
  xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
  xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"
  xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
  xmlns:acme="https://acme.example/ns/1.0/">
  <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Tram</rdf:li>
   <rdf:li xml:lang="pt-PT">Eléctrico</rdf:li></rdf:Alt></dc:description>
  <dc:subject><rdf:Bag><rdf:li>Lisbon</rdf:li><rdf:li>Tram</rdf:li></rdf:Bag></dc:subject>
  <lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|Portugal|Lisbon</rdf:li></rdf:Bag>
  </lr:hierarchicalSubject>
  <mwg-rs:Regions rdf:parseType="Resource">
   <mwg-rs:AppliedToDimensions stDim:w="640" stDim:h="480" stDim:unit="pixel"/>
   <mwg-rs:RegionList><rdf:Bag>
    <rdf:li rdf:parseType="Resource"><mwg-rs:Name>Rex</mwg-rs:Name><mwg-rs:Type>Pet</mwg-rs:Type>
     <mwg-rs:Area stArea:x="0.2" stArea:y="0.7" stArea:w="0.2" stArea:h="0.2"
      stArea:unit="normalized"/></rdf:li>
    <rdf:li rdf:parseType="Resource"><mwg-rs:Type>Focus</mwg-rs:Type>
     <mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:w="0.1" stArea:h="0.1"
      stArea:unit="normalized"/></rdf:li>
    <rdf:li rdf:parseType="Resource"><mwg-rs:Name>Bea</mwg-rs:Name>
     <mwg-rs:Type>Face</mwg-rs:Type>
     <mwg-rs:Area stArea:x="0.8" stArea:y="0.3" stArea:w="0.1" stArea:h="0.15"
      stArea:unit="normalized"/>
     <mwg-rs:Extensions rdf:parseType="Resource"><acme:Confidence>0.93</acme:Confidence>
     </mwg-rs:Extensions></rdf:li>
   </rdf:Bag></mwg-rs:RegionList>
  </mwg-rs:Regions>
  <xmp:Rating>2</xmp:Rating>
 </rdf:Description></rdf:RDF></x:xmpmeta>"""


def test_merge_keeps_other_regions_languages_and_their_description_without_a_caption() -> None:
    ours = xmp.XmpData(description="From the camera", subjects=["tram", "Ana"],
                       hierarchical=["tram", "People|Ana"],
                       regions=[xmp.XmpRegion("Ana", 0.4, 0.4, 0.1, 0.2)], applied_to=(640, 480))
    merged = xmp.merge_report(OTHER_REGIONS, ours)
    text = merged.body.decode()
    back = xmp.parse(merged.body)
    assert back.owned() == merged.expected.owned()
    # Theirs stays: x-default (Glimpse has no caption), pt-PT, their rating, every region
    # (a pet, a focus area without a name, a face with its extension).
    assert back.description == "Tram" and "Eléctrico" in text and back.rating == 2
    assert "From the camera" not in text and merged.written.description is None
    assert "acme:Confidence" in text and "0.93" in text and "Focus" in text
    assert [(r.name, r.type) for r in back.regions] == [("Rex", "Pet"), ("Bea", "Face"),
                                                        ("Ana", "Face")]
    # "Tram" is there already (their spelling): not written twice.
    assert back.subjects == ["Lisbon", "Tram", "Ana"]
    assert merged.written.subjects == ["Ana"]
    assert back.hierarchical == ["Places|Portugal|Lisbon", "tram", "People|Ana"]
    # With a caption too, their x-default stays; the caption is kept in glimpse:Caption*.
    captioned = xmp.XmpData(description="Tram 28 at dusk",
                            caption=xmp.XmpCaption("Tram 28 at dusk"))
    again = xmp.merge_report(OTHER_REGIONS, captioned)
    text = again.body.decode()
    assert xmp.parse(again.body).description == "Tram"
    assert again.written.description is None
    caption = xmp.parse(again.body).caption
    assert caption is not None and caption.summary == "Tram 28 at dusk"
    assert '<rdf:li xml:lang="pt-PT">Eléctrico</rdf:li>' in text


def test_a_second_write_replaces_only_what_glimpse_wrote_the_first_time() -> None:
    first = xmp.merge_report(OTHER_REGIONS, xmp.XmpData(
        description="A tram", subjects=["beach", "tram", "Ana"], hierarchical=["beach"],
        rating=5, regions=[xmp.XmpRegion("Ana", 0.4, 0.4, 0.1, 0.2)],
        caption=xmp.XmpCaption("A tram")))
    # The person deletes the tag "beach", the caption and the rating, and Ana is now Anna.
    second = xmp.merge_report(first.body, xmp.XmpData(
        subjects=["tram", "Anna"], hierarchical=[],
        regions=[xmp.XmpRegion("Anna", 0.4, 0.4, 0.1, 0.2)]), previous=first.written)
    back = xmp.parse(second.body)
    assert back.subjects == ["Lisbon", "Tram", "Anna"]   # theirs stay, "beach" goes
    assert back.hierarchical == ["Places|Portugal|Lisbon"]
    assert [r.name for r in back.regions] == ["Rex", "Bea", "Anna"]
    # Their description was never replaced by our caption; the caption goes.
    assert back.description == "Tram" and back.caption is None
    assert back.rating is None   # ours (5) replaced theirs (2) and is gone now
    # A record that survives JSON.
    again = xmp.XmpData.from_record(json.loads(json.dumps(second.written.record())))
    assert again is not None and again.subjects == ["Anna"]
    assert again.regions == second.written.regions


def test_writing_the_same_again_leaves_the_document_as_it_was() -> None:
    first = xmp.merge_report(DIGIKAM_SIDECAR, sample())
    second = xmp.merge_report(first.body, sample(), previous=first.written)
    assert second.body == first.body and second.written == first.written


@pytest.mark.parametrize("attrs", [
    'stArea:x="nan" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"',
    'stArea:x="0.5" stArea:y="inf" stArea:w="0.2" stArea:h="0.3"',
    'stArea:x="0.5" stArea:y="0.4" stArea:w="-0.2" stArea:h="0.3"',
    'stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="1e999"',
    'stArea:x="-3" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"',
    'stArea:x="0.5" stArea:y="0.4" stArea:w="0" stArea:h="0.3"',
    'stArea:x="12" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"'])
def test_a_region_that_is_not_a_finite_fraction_is_left_out(attrs: str) -> None:
    doc = DIGIKAM_SIDECAR.replace(
        'stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"', attrs)
    data = xmp.parse(doc)
    assert data.regions == []
    assert data.subjects == ["Lisbon", "Alice Example"]   # the rest is read


@pytest.mark.parametrize(("w", "h"), [("inf", "3000"), ("nan", "3000"), ("-4000", "3000"),
                                      ("1e300", "3000"), ("4000", "0"), ("x", "3000")])
def test_image_dimensions_that_are_not_a_size_are_left_out(w: str, h: str) -> None:
    doc = DIGIKAM_SIDECAR.replace('stDim:w="4000" stDim:h="3000"', f'stDim:w="{w}" stDim:h="{h}"')
    data = xmp.parse(doc)
    assert data.applied_to is None and [r.name for r in data.regions] == ["Alice Example"]


@pytest.mark.parametrize("rating", ["nan", "inf", "-inf", "1e999", "7", "-5"])
def test_a_rating_out_of_range_is_left_out(rating: str) -> None:
    assert xmp.parse(DIGIKAM_SIDECAR.replace('xmp:Rating="3"',
                                             f'xmp:Rating="{rating}"')).rating is None


def test_parse_reads_a_digikam_sidecar_in_its_attribute_forms() -> None:
    data = xmp.parse(DIGIKAM_SIDECAR)
    assert data.description == "Tram 28 going up"
    assert data.subjects == ["Lisbon", "Alice Example"]
    assert data.rating == 3
    assert data.regions == [xmp.XmpRegion("Alice Example", 0.5, 0.4, 0.2, 0.3)]
    assert data.applied_to == (4000, 3000)


@pytest.mark.parametrize("bad", ["", "not xml at all", "<x:xmpmeta><rdf:RDF>",
                                 "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>"
                                 "<x:xmpmeta xmlns:x='adobe:ns:meta/'>&a;</x:xmpmeta>"])
def test_unreadable_documents_raise_a_clear_error(bad: str) -> None:
    with pytest.raises(xmp.XmpError):
        xmp.parse(bad)


def test_exiftool_reads_our_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg.xmp"
    files.write_sidecar(str(path), sample())
    got = exiftool("-struct", "-XMP:all", str(path))[0]
    assert got["Description"] == "Ana and Rui at the harbour"
    assert got["Subject"] == ["harbour", "Ana", "Rui"]
    assert got["HierarchicalSubject"] == ["harbour", "People|Ana", "People|Rui"]
    assert got["Rating"] == 4
    info = got["RegionInfo"]
    assert info["AppliedToDimensions"] == {"W": 640, "H": 480, "Unit": "pixel"}
    regions = {r["Name"]: r for r in info["RegionList"]}
    assert set(regions) == {"Ana", "Rui"}
    assert regions["Ana"]["Type"] == "Face"
    assert regions["Ana"]["Area"] == {"X": 0.25, "Y": 0.4, "W": 0.1, "H": 0.2,
                                      "Unit": "normalized"}
    assert got["CaptionSummary"] == "Two people at a harbour"


def test_exiftool_still_reads_the_other_apps_fields_after_a_merge(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg.xmp"
    path.write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    before = exiftool("-struct", "-XMP:all", str(path))[0]
    files.write_sidecar(str(path), sample())
    after = exiftool("-struct", "-XMP:all", str(path))[0]
    ours = {"Description", "Subject", "HierarchicalSubject", "Rating", "RegionInfo",
            "CaptionSummary", "CaptionModel", "CaptionData", "CaptionSource", "SourceFile"}
    theirs = {k: v for k, v in before.items() if k not in ours}
    assert {"TagsList", "Exposure2012", "ToneCurvePV2012", "LastKeywordXMP", "Make",
            "CreatorTool", "DateTimeOriginal"} <= set(theirs)
    assert {k: after.get(k) for k in theirs} == theirs
    # Their description stays; our caption is there in our own namespace.
    assert after["Rating"] == 4 and after["Description"] == "Tram 28 going up"
    assert after["CaptionSummary"] == "Two people at a harbour"


def test_text_xml_cannot_hold_is_cleaned_not_written_broken(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg.xmp"
    files.write_sidecar(str(path), xmp.XmpData(description="Pasted\x0b caption\x01",
                                               subjects=["tab\x08bed"]))
    back = xmp.parse(path.read_bytes())
    assert back.description == "Pasted caption" and back.subjects == ["tabbed"]


def test_line_ends_of_any_kind_are_written_as_xml_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg.xmp"
    data = xmp.XmpData(description="Holiday 2009\r\nLisbon,\rPortugal",
                       caption=xmp.XmpCaption("Holiday 2009\r\nLisbon"))
    done = files.write_sidecar(str(path), data)
    back = xmp.parse(path.read_bytes())
    assert back.description == "Holiday 2009\nLisbon,\nPortugal"
    assert back.caption is not None and back.caption.summary == "Holiday 2009\nLisbon"
    # Written again from the same text: still ours (not another app's edit), still verified.
    again = files.write_sidecar(str(path), data, done.record)
    assert again.record.description == "Holiday 2009\nLisbon,\nPortugal"
    assert xmp.same_text("a\r\nb") == xmp.same_text("a\nb") == "a b"


def test_one_region_per_face_when_another_app_renamed_or_moved_ours() -> None:
    ours = xmp.XmpRegion("Alice", 0.5, 0.5, 0.2, 0.2)
    first = xmp.merge_report(None, xmp.XmpData(regions=[ours]))
    # Another app renames our region: theirs stays, ours is not added again beside it.
    renamed = first.body.replace(b">Alice<", b">Alicia<")
    again = xmp.merge_report(renamed, xmp.XmpData(regions=[ours], subjects=["t"]),
                             previous=first.written)
    assert [r.name for r in xmp.parse(again.body).regions] == ["Alicia"]
    assert again.written.regions == []
    # Another app moves it, then the person is renamed in Glimpse: still one region.
    moved = first.body.replace(b'stArea:x="0.5"', b'stArea:x="0.52"')
    assert moved != first.body
    bob = xmp.XmpRegion("Bob", 0.5, 0.5, 0.2, 0.2)
    after = xmp.merge_report(moved, xmp.XmpData(regions=[bob]), previous=first.written)
    assert [r.name for r in xmp.parse(after.body).regions] == ["Alice"]
    # A face elsewhere in the picture is still added.
    other = xmp.XmpRegion("Carol", 0.15, 0.15, 0.1, 0.1)
    both = xmp.merge_report(moved, xmp.XmpData(regions=[bob, other]), previous=first.written)
    assert [r.name for r in xmp.parse(both.body).regions] == ["Alice", "Carol"]


def test_another_apps_keyword_differing_only_in_case_from_ours_stays() -> None:
    first = xmp.merge_report(None, xmp.XmpData(subjects=["beach"], hierarchical=["beach"]))
    theirs = first.body.replace(b"<rdf:li>beach</rdf:li>",
                                b"<rdf:li>beach</rdf:li><rdf:li>Beach</rdf:li>")
    second = xmp.merge_report(theirs, xmp.XmpData(), previous=first.written)
    back = xmp.parse(second.body)
    assert back.subjects == ["Beach"] and back.hierarchical == ["Beach"]
    assert second.written.subjects == []
