"""Core calls the photo viewer makes: the original at full resolution, and "who is this?" on
one face (real JPEGs, real face photos with the default face pack)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps

from glimpse_desktop.api import FaceNamed, Library, PhotoFace
from glimpse_desktop.api.library import LibraryError
from glimpse_desktop.faces.people import PeopleError
from tests import imagegen as ig


def _face_of(lib: Library, filename: str, index: int = 0) -> PhotoFace:
    photo_id = next(p.id for p in lib.photo_page() if p.filename == filename)
    return lib.people.photo_faces(photo_id)[index]


def test_full_image_is_the_original_upright(lib: Library, photo_dir: Path) -> None:
    path = ig.write_jpeg(photo_dir / "side.jpg", (1800, 1200), seed=5, orientation=6)
    lib.add_root(photo_dir)
    lib.index()
    photo_id = lib.photo_page()[0].id
    full = lib.full_image(photo_id)
    upright = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    assert full.size == upright.size == (1200, 1800)
    assert ImageChops.difference(full, upright).getbbox() is None
    small = lib.full_image(photo_id, max_edge=500)
    assert max(small.size) == 500 and small.size[0] < small.size[1]
    path.unlink()
    with pytest.raises(LibraryError, match="cannot read"):
        lib.full_image(photo_id)
    lib.index()                                  # now known to be missing
    with pytest.raises(LibraryError, match="missing"):
        lib.full_image(photo_id)


def test_name_face_names_assigns_or_starts_a_person(few_faces_lib: Library) -> None:
    lib = few_faces_lib
    obama = _face_of(lib, "obama1.jpg")
    assert obama.person is not None          # his four photos made a person
    person = obama.person
    face = obama.face

    # A face of an unnamed person: the person (every face of them) takes the name.
    done = lib.people.name_face(face, "Barack Obama")
    assert done == FaceNamed(face=face, person=person, name="Barack Obama", action="named")
    assert len(lib.people.find("Barack Obama")) >= 3
    assert lib.people.name_face(face, "barack obama").action == "same"

    # A face of no one and a new name: a person of its own, placed by hand.
    biden = _face_of(lib, "biden.jpg")
    assert biden.person is None
    done = lib.people.name_face(biden.face, "Joe Biden")
    assert done.action == "created"
    joe = lib.people.show("Joe Biden")
    assert [f.face for f in joe.faces] == [biden.face]
    assert joe.faces[0].assigned == "user"

    # A name already there: the face joins that person.
    group = lib.people.photo_faces(_face_of(lib, "friends.jpg").photo)
    first, second = group[0].face, group[1].face
    done = lib.people.name_face(first, "Joe Biden")
    assert done.action == "assigned" and done.person == joe.id
    assert len(lib.people.show("Joe Biden").faces) == 2
    # ... but never two faces of one photo in one person.
    with pytest.raises(PeopleError, match="same photo"):
        lib.people.name_face(second, "Joe Biden")

    # A face of a named person who it is not, under a new name: it alone leaves for a new
    # person; the named person keeps the rest.
    before = len(lib.people.show("Barack Obama").faces)
    done = lib.people.name_face(face, "Someone Else")
    assert done.action == "created"
    assert len(lib.people.show("Barack Obama").faces) == before - 1
    assert [f.face for f in lib.people.show("Someone Else").faces] == [face]
    # Clustering keeps what the person placed.
    lib.people.recluster()
    assert [f.face for f in lib.people.show("Someone Else").faces] == [face]

    with pytest.raises(PeopleError, match="empty"):
        lib.people.name_face(face, "   ")
    with pytest.raises(PeopleError, match="no face"):
        lib.people.name_face(999_999, "Nobody")
