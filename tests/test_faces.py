"""People, end to end, with the real default face models on real photographs of real people
(fetched from public packages, see tests/facephotos.py): detection, clustering, the person's
actions, and what must survive re-clustering, moved files and search."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glimpse_desktop.api import Library
from glimpse_desktop.faces.models import YUNET_SFACE as PACK
from glimpse_desktop.faces.models import FaceModels, clean_graph, pack_folder, similarity_transform
from glimpse_desktop.faces.people import PeopleError
from glimpse_desktop.search.query import QueryError
from tests.facephotos import GROUP, GROUP_FACES, IDENTITY


@pytest.fixture(scope="session")
def models() -> FaceModels:
    return FaceModels(PACK, threads=2).load()


def _two_obamas(face_photos: Path, target: Path) -> Path:
    """One photo holding two real photographs of the same man side by side (a photo of a
    photo, a mirror): the same person twice in one frame, which clustering must keep apart."""
    a = Image.open(face_photos / "obama1.jpg").convert("RGB")
    b = Image.open(face_photos / "obama3.jpg").convert("RGB")
    h = 600
    a = a.resize((round(a.width * h / a.height), h))
    b = b.resize((round(b.width * h / b.height), h))
    canvas = Image.new("RGB", (a.width + b.width, h), "white")
    canvas.paste(a, (0, 0))
    canvas.paste(b, (a.width, 0))
    canvas.save(target, quality=92)
    return target


@pytest.fixture
def people_lib(face_photos: Path, photo_dir: Path, lib: Library) -> Iterator[Library]:
    for name in [*IDENTITY, GROUP]:
        shutil.copy(face_photos / name, photo_dir / name)
    lib.add_root(photo_dir)
    lib.index()
    yield lib


def _faces_by_file(lib: Library) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for row in lib.reader().rows(
            "SELECT f.id, f.person_id, f.seeds, f.x, ph.filename FROM faces f "
            "JOIN photos ph ON ph.id = f.photo_id ORDER BY f.x"):
        out.setdefault(str(row["filename"]), []).append(row)
    return out


def _person_of(lib: Library, filename: str) -> int | None:
    faces = _faces_by_file(lib)[filename]
    assert len(faces) == 1, (filename, faces)
    person = faces[0]["person_id"]
    return None if person is None else int(str(person))


def _assert_pure(lib: Library, *, mixed_ok: bool = False) -> None:
    """Every person holds one identity only, and no photo has two faces in one person."""
    by_person: dict[int, set[str]] = {}
    for filename, faces in _faces_by_file(lib).items():
        seen: set[int] = set()
        for face in faces:
            if face["person_id"] is None:
                continue
            person = int(str(face["person_id"]))
            assert person not in seen, f"two faces of {filename} are one person"
            seen.add(person)
            if filename in IDENTITY or filename == "two.jpg":
                by_person.setdefault(person, set()).add(IDENTITY.get(filename, "obama"))
            else:
                by_person.setdefault(person, set()).add(f"{filename}#{face['id']}")
    for person, who in by_person.items():
        assert mixed_ok or len(who) == 1, f"person {person} mixes {who}"


# ---------------------------------------------------------------------------- the models


def test_models_ship_with_the_install_and_are_verified() -> None:
    folder = pack_folder(PACK)
    assert (folder / PACK.detector.name).is_file()
    assert (folder / PACK.recognizer.name).is_file()


def test_a_damaged_model_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    for f in (PACK.detector.name, PACK.recognizer.name):
        shutil.copy(pack_folder(PACK) / f, tmp_path / f)
    with open(tmp_path / PACK.recognizer.name, "r+b") as fh:
        fh.seek(5000)
        fh.write(b"\0" * 64)
    from glimpse_desktop.kernel.registry import ModelError
    with pytest.raises(ModelError, match="damaged"):
        FaceModels(PACK, folder=tmp_path).load()


def test_cleaned_recogniser_takes_batches_and_gives_the_same_vectors(
        models: FaceModels, face_photos: Path) -> None:
    import onnx
    graph = onnx.load_from_string(clean_graph(
        (pack_folder(PACK) / PACK.recognizer.name).read_bytes())).graph
    assert [i.name for i in graph.input] == ["data"]   # the weight "inputs" are gone
    faces = [models.find(Image.open(face_photos / n))[0].crop
             for n in ("obama1.jpg", "cage1.jpg", "queen.jpg")]
    together = models.embed(np.stack(faces))
    alone = np.concatenate([models.embed(f[None]) for f in faces])
    assert together.shape == (3, 128)
    np.testing.assert_allclose(together, alone, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_alignment_maps_landmarks_onto_the_template() -> None:
    rng = np.random.default_rng(1)
    from glimpse_desktop.faces.models import TEMPLATE
    angle, scale, shift = 0.3, 2.5, np.array([40.0, -7.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = (TEMPLATE - shift) @ rot / scale + rng.normal(0, 1e-3, TEMPLATE.shape)
    m = similarity_transform(src, TEMPLATE)
    mapped = src @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(mapped, TEMPLATE, atol=0.05)


def test_detection_finds_every_face_with_landmarks_inside_the_box(
        models: FaceModels, face_photos: Path) -> None:
    for name in IDENTITY:
        image = Image.open(face_photos / name)
        found = models.find(image)
        assert len(found) == 1, name
        face = found[0]
        x, y, w, h = face.box
        points = np.array(face.landmarks).reshape(5, 2)
        assert (points[:, 0] > x - 0.02).all() and (points[:, 0] < x + w + 0.02).all(), name
        assert (points[:, 1] > y - 0.02).all() and (points[:, 1] < y + h + 0.02).all(), name
        # Eyes above the nose above the mouth, left eye left of the right one.
        assert points[0, 0] < points[1, 0] and points[:2, 1].max() < points[2, 1] \
            < points[3:, 1].min(), name
        assert face.seeds and face.crop.shape == (112, 112, 3)
    group = models.find(Image.open(face_photos / GROUP))
    assert len(group) == GROUP_FACES


def test_blank_and_tiny_images_have_no_faces(models: FaceModels) -> None:
    assert models.find(Image.new("RGB", (800, 600), "grey")) == []
    assert models.find(Image.new("RGB", (3, 2), "white")) == []


def test_same_person_is_close_and_different_people_are_not(
        models: FaceModels, face_photos: Path) -> None:
    """The measurement the default thresholds come from (see README, People)."""
    names = list(IDENTITY)
    vecs = models.embed(np.stack([models.find(Image.open(face_photos / n))[0].crop
                                  for n in names]))
    sims = vecs @ vecs.T
    same = [sims[i, j] for i in range(len(names)) for j in range(i)
            if IDENTITY[names[i]] == IDENTITY[names[j]]]
    other = [sims[i, j] for i in range(len(names)) for j in range(i)
             if IDENTITY[names[i]] != IDENTITY[names[j]]]
    assert min(same) > PACK.found > PACK.join > max(other)


# ---------------------------------------------------------------------------- ingestion


def test_indexing_finds_faces_and_groups_people(people_lib: Library) -> None:
    faces = _faces_by_file(people_lib)
    assert len(faces[GROUP]) == GROUP_FACES
    assert all(len(faces[n]) == 1 for n in IDENTITY)
    obama = {_person_of(people_lib, n) for n in IDENTITY if IDENTITY[n] == "obama"}
    franck = {_person_of(people_lib, n) for n in IDENTITY if IDENTITY[n] == "franck"}
    assert len(obama) == 1 and None not in obama
    assert len(franck) == 1 and None not in franck and obama != franck
    # Two photos of Cage are not enough to found a person (min_faces 3): they wait.
    assert _person_of(people_lib, "cage1.jpg") is None
    _assert_pure(people_lib)
    listed = people_lib.people.list_people()
    assert sorted(p.faces for p in listed) == [3, 4]
    for person in listed:
        assert person.cover is not None and Path(str(person.cover.crop)).is_file()
    status = people_lib.status().people
    assert status.people == 2 and status.backlog == 0
    assert status.waiting == len(IDENTITY) + GROUP_FACES - 7


def test_recluster_with_a_lower_minimum_founds_the_pairs_and_keeps_people_apart(
        people_lib: Library) -> None:
    before = _person_of(people_lib, "obama1.jpg")
    report = people_lib.people.recluster(min_faces=2)
    assert report.founded == 2
    cage = {_person_of(people_lib, "cage1.jpg"), _person_of(people_lib, "cage2.jpg")}
    bieber = {_person_of(people_lib, "bieber1.jpg"), _person_of(people_lib, "bieber2.jpg")}
    assert len(cage) == 1 and len(bieber) == 1 and None not in cage | bieber and cage != bieber
    assert _person_of(people_lib, "obama1.jpg") == before   # ids stay stable
    _assert_pure(people_lib)
    assert people_lib.people.params().min_faces == 2        # remembered


def test_two_faces_in_one_photo_are_never_one_person(
        face_photos: Path, people_lib: Library, photo_dir: Path) -> None:
    _two_obamas(face_photos, photo_dir / "two.jpg")
    people_lib.index()
    two = _faces_by_file(people_lib)["two.jpg"]
    assert len(two) == 2
    obama = _person_of(people_lib, "obama1.jpg")
    persons = [f["person_id"] for f in two]
    assert persons.count(obama) == 1, persons   # one of them joins Obama, never both
    # Thresholds so loose that everyone looks alike: the photo rule still holds.
    people_lib.people.recluster(join=0.05, found=0.05, min_faces=2)
    _assert_pure(people_lib, mixed_ok=True)
    people_lib.people.recluster(join=0.42, found=0.48, min_faces=2)
    _assert_pure(people_lib)
    # A merge by hand cannot break it either: the second face is taken out and remembered.
    other = next(f for f in _faces_by_file(people_lib)["two.jpg"]
                 if f["person_id"] != _person_of(people_lib, "obama1.jpg"))
    ours = _person_of(people_lib, "obama1.jpg")
    assert ours is not None
    if other["person_id"] is None:
        moved = people_lib.people.split(ours, [_faces_by_file(people_lib)["obama2.jpg"][0]["id"]])
        people_lib.people.assign_face(int(str(other["id"])), moved.id)
        other_person = moved.id
    else:
        other_person = int(str(other["person_id"]))
    result = people_lib.people.merge(ours, other_person)
    assert result.detached >= 1
    _assert_pure(people_lib)


def test_naming_merging_and_the_name_in_search(people_lib: Library) -> None:
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    people.name(obama, "Barack Obama")
    assert people.person_ref("barack obama").id == obama
    found = {Path(p.path).name for p in people.find("Barack Obama")}
    assert found == {n for n in IDENTITY if IDENTITY[n] == "obama"}
    # Names are in the text index and behind person: in search.
    hits = {Path(h.path).name for h in people_lib.text_search("obama")}
    assert found <= hits
    result = people_lib.search("person:barack")
    assert {Path(h.path).name for h in result.hits} == found
    with pytest.raises(QueryError, match="nobody is named"):
        people_lib.search("person:nobody")
    # A second group named the same is refused with the merge that would join them.
    franck = _person_of(people_lib, "franck1.jpg")
    assert franck is not None
    with pytest.raises(PeopleError, match="is already person") as taken:
        people.name(franck, "barack obama")
    # The merge that would join them, as data each front end offers in its own way.
    assert taken.value.code == "people.name_taken"
    assert (taken.value.values["other"], taken.value.values["person"]) == (obama, franck)
    people.name(franck, "Franck")
    merged = people.merge("Barack Obama", "Franck")
    assert merged.faces == 7 and merged.detached == 0
    assert len(people_lib.search("person:barack").hits) == 7
    with pytest.raises(QueryError):     # the merged-in name is gone
        people_lib.search("person:franck")
    with pytest.raises(PeopleError):
        people.person_ref("Franck")


def test_a_rejected_face_never_returns_to_that_person(people_lib: Library) -> None:
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    face = _faces_by_file(people_lib)["obama4.jpg"][0]["id"]
    people.reject([int(str(face))])
    assert _person_of(people_lib, "obama4.jpg") != obama
    people.cluster()
    assert _person_of(people_lib, "obama4.jpg") != obama
    for join in (0.42, 0.3, 0.1):
        people.recluster(join=join, min_faces=2)
        assert _person_of(people_lib, "obama4.jpg") != obama
        _assert_pure(people_lib, mixed_ok=True)
    people.recluster(join=0.42, min_faces=2)
    assert _person_of(people_lib, "obama1.jpg") == obama
    _assert_pure(people_lib)


def test_split_hide_cover_and_export(people_lib: Library, tmp_path: Path) -> None:
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    face2 = int(str(_faces_by_file(people_lib)["obama2.jpg"][0]["id"]))
    face3 = int(str(_faces_by_file(people_lib)["obama3.jpg"][0]["id"]))
    split = people.split(obama, [face2])
    assert _person_of(people_lib, "obama2.jpg") == split.id
    people.recluster(min_faces=2)   # a split is the person's own choice: it stays
    assert _person_of(people_lib, "obama2.jpg") == split.id
    assert _person_of(people_lib, "obama1.jpg") == obama
    people.cover(obama, face3)
    cover = people.show(obama).cover
    assert cover is not None and cover.face == face3
    with pytest.raises(PeopleError, match="not one of"):
        people.cover(obama, face2)
    people.hide(split.id)
    assert split.id not in {p.id for p in people.list_people()}
    assert split.id in {p.id for p in people.list_people(include_hidden=True)}
    people.name(obama, "Obama")
    target = tmp_path / "people.csv"
    rows = people.export_csv(target)
    with open(target, newline="", encoding="utf-8") as fh:
        read = list(csv.DictReader(fh))
    assert len(read) == rows
    named = {Path(r["path"]).name for r in read if r["person"] == "Obama"}
    assert named == {"obama1.jpg", "obama3.jpg", "obama4.jpg"}
    assert not any(Path(r["path"]).name == "obama2.jpg" for r in read)   # hidden


def test_tag_from_reference_photos(people_lib: Library, photo_dir: Path) -> None:
    people = people_lib.people
    people.recluster(min_faces=5)   # nobody is grouped: the references must do the work
    assert people.list_people() == []
    result = people.tag("Nicolas Cage", [str(photo_dir / "cage1.jpg")])
    assert result.references == 1 and result.tagged == 2
    assert {Path(p.path).name for p in people.find("Nicolas Cage")} == \
        {"cage1.jpg", "cage2.jpg"}
    again = people.tag("Nicolas Cage", [str(photo_dir / "cage2.jpg")])
    assert again.tagged == 0 and again.already == 2    # never twice
    obama = people.tag("Obama", [str(photo_dir / "obama1.jpg"), str(photo_dir / "obama4.jpg")])
    assert obama.photos == 4
    blank = photo_dir / "blank.jpg"
    Image.new("RGB", (640, 480), "grey").save(blank)
    people_lib.index()
    with pytest.raises(PeopleError, match="no face"):
        people.tag("Nobody", [str(blank)])
    # Names are cleaned and checked as `people name` does.
    again = people.tag("  nicolas   CAGE ", [str(photo_dir / "cage1.jpg")])
    assert again.id == result.id and again.tagged == 0
    for bad in ("", "   ", "123"):
        with pytest.raises(PeopleError):
            people.tag(bad, [str(photo_dir / "cage1.jpg")])
    _assert_pure(people_lib)


def test_names_survive_moved_and_renamed_files(people_lib: Library, photo_dir: Path) -> None:
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    people.name(obama, "Obama")
    face4 = int(str(_faces_by_file(people_lib)["obama4.jpg"][0]["id"]))
    people.reject([face4])
    (photo_dir / "2009").mkdir()
    os.rename(photo_dir / "obama1.jpg", photo_dir / "2009" / "president.jpg")
    os.rename(photo_dir / "obama4.jpg", photo_dir / "2009" / "other.jpg")
    report = people_lib.index()
    assert report.moved == 2
    found = {Path(p.path).name for p in people.find("Obama")}
    assert found == {"president.jpg", "obama2.jpg", "obama3.jpg"}
    assert people_lib.people.photo_faces(str(photo_dir / "2009" / "other.jpg"))[0].person \
        != obama
    # The text index follows too.
    assert "president.jpg" in {Path(h.path).name for h in people_lib.text_search("obama")}


def test_an_edited_photo_keeps_its_name(people_lib: Library, photo_dir: Path) -> None:
    """A changed file is looked at again; the face found where the old one was keeps its
    person (box overlap), so an edit in another app does not lose a name."""
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    people.name(obama, "Obama")
    path = photo_dir / "obama1.jpg"
    with Image.open(path) as im:
        edited = im.convert("RGB").point(lambda v: min(255, int(v * 1.1)))
    edited.save(path, quality=85)
    report = people_lib.index()
    assert report.updated == 1
    assert _person_of(people_lib, "obama1.jpg") == obama


def test_faces_off_and_on_again(face_photos: Path, photo_dir: Path, lib: Library) -> None:
    lib.set_faces(False)
    for name in ("obama1.jpg", "obama2.jpg", "obama3.jpg"):
        shutil.copy(face_photos / name, photo_dir / name)
    lib.add_root(photo_dir)
    lib.index()
    assert lib.people.status().faces == 0
    lib.set_faces(True)
    assert lib.people.status().backlog == 3
    report = lib.index()          # photos read before are looked at now
    assert report.faces == 3 and report.people_new == 1
    assert lib.people.status().backlog == 0


def test_forgotten_photos_take_their_faces_and_vectors(people_lib: Library,
                                                      photo_dir: Path) -> None:
    conn = people_lib.reader()
    table = conn.one("SELECT table_name FROM embedding_spaces WHERE kind = 'face'")
    assert conn.one(f"SELECT count(*) FROM {table}") == conn.one("SELECT count(*) FROM faces")
    people_lib.remove_root(photo_dir)
    assert conn.one("SELECT count(*) FROM faces") == 0
    assert conn.one(f"SELECT count(*) FROM {table}") == 0
    assert conn.one("SELECT count(*) FROM people") == 0


# ---------------------------------------------------------------------------- face packs


@pytest.fixture
def mirror_pack(people_lib: Library, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A second face pack published over HTTP, the way the InsightFace packs are: the same
    two files as the default (the only face weights this machine has) under another id, so
    its vectors live in a space of their own and every face is found again."""
    from tests.test_download import Server
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = Server()
    server.thread.start()
    files = {}
    for f in PACK.files:
        data = (pack_folder(PACK) / f.name).read_bytes()
        server.add(f"/mirror/{f.name}", data)
        files[f.name] = {"file": f.name, "sha256": f.sha256, "size": len(data),
                         "urls": [server.url(f"/mirror/{f.name}")]}
    manifest = {"faces": [{
        "id": "mirror", "name": "Mirror of the default pack", "format": "yunet-sface",
        "dim": 128, "detector": files[PACK.detector.name],
        "recognizer": files[PACK.recognizer.name],
        "licence": "test licence, non-commercial", "restricted": True}]}
    folder = people_lib.models.model_dir / "manifest.d"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mirror.json").write_text(__import__("json").dumps(manifest))
    try:
        yield "mirror"
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def test_switching_face_pack_keeps_names_and_rejections(people_lib: Library,
                                                        mirror_pack: str) -> None:
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    people.name(obama, "Obama")
    people.reject([int(str(_faces_by_file(people_lib)["obama4.jpg"][0]["id"]))])
    with pytest.raises(Exception, match="not installed"):
        people_lib.use_face_pack(mirror_pack)
    rows = {r.id: r for r in people_lib.face_pack_list()}
    assert rows["mirror"].restricted and not rows["mirror"].installed
    people_lib.models.download_face_pack(mirror_pack)
    status = people_lib.use_face_pack(mirror_pack)
    assert status.pack == mirror_pack and status.backlog == len(IDENTITY) + 1
    report = people_lib.index()
    assert report.faces == len(IDENTITY) + GROUP_FACES
    conn = people_lib.reader()
    assert {r[0] for r in conn.execute("SELECT DISTINCT model_id FROM faces")} == {mirror_pack}
    assert {Path(p.path).name for p in people.find("Obama")} == \
        {"obama1.jpg", "obama2.jpg", "obama3.jpg"}
    assert _person_of(people_lib, "obama4.jpg") != obama
    people.recluster(join=0.2)
    assert _person_of(people_lib, "obama4.jpg") != obama
    old = conn.one("SELECT table_name FROM embedding_spaces WHERE model_id = ?", (PACK.id,))
    assert conn.one(f"SELECT count(*) FROM {old}") == 0     # the old pack's vectors went


def test_restricted_pack_needs_the_licence_accepted(people_lib: Library, mirror_pack: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from glimpse_desktop.cli import main
    lib_path = str(people_lib.paths.library)
    assert main(["--library", lib_path, "models", "download", mirror_pack]) == 1
    assert "--accept-licence" in capsys.readouterr().err
    assert main(["--library", lib_path, "models", "download", mirror_pack,
                 "--accept-licence"]) == 0
    assert main(["--library", lib_path, "models", "use", mirror_pack]) == 0
    assert main(["--library", lib_path, "models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "mirror" in listing and "in use" in listing and "buffalo_l" in listing


def test_scrfd_outputs_are_decoded_like_insightface() -> None:
    """SCRFD (InsightFace packs) reports distances from anchor centres in stride units, two
    anchors per cell; one confident anchor must come back as its box and landmarks."""
    from glimpse_desktop.faces.models import decode_scrfd
    size = 640
    outs: list[np.ndarray] = []
    for stride in (8, 16, 32):
        outs.append(np.zeros(((size // stride) ** 2 * 2, 1), np.float32))
    for stride in (8, 16, 32):
        outs.append(np.zeros(((size // stride) ** 2 * 2, 4), np.float32))
    for stride in (8, 16, 32):
        outs.append(np.zeros(((size // stride) ** 2 * 2, 10), np.float32))
    # Stride 16, cell (x=10, y=5), second anchor: centre (160, 80).
    row = (5 * (size // 16) + 10) * 2 + 1
    outs[1][row] = 0.9
    outs[4][row] = [2, 1, 3, 4]                   # left, top, right, bottom in strides
    outs[7][row] = np.arange(10, dtype=np.float32) / 10
    boxes, points, scores = decode_scrfd([o[None] for o in outs], size, 0.5)
    assert scores.tolist() == pytest.approx([0.9])
    assert boxes[0].tolist() == pytest.approx([160 - 32, 80 - 16, 32 + 48, 16 + 64])
    assert points[0, 0].tolist() == pytest.approx([160 + 0.0, 80 + 1.6])
    with pytest.raises(Exception, match="SCRFD"):
        decode_scrfd(outs[:6], size, 0.5)


def test_people_from_the_command_line(people_lib: Library, photo_dir: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from glimpse_desktop.cli import main
    lib = ["--library", str(people_lib.paths.library)]
    people_lib.close()       # the CLI opens the library file like a person's shell would
    capsys.readouterr()
    assert main([*lib, "people", "--json"]) == 0          # `list` is the default action
    listed = json.loads(capsys.readouterr().out)
    assert sorted(p["faces"] for p in listed) == [3, 4]
    biggest = max(listed, key=lambda p: p["faces"])["id"]
    assert main([*lib, "people", "name", str(biggest), "Barack", "Obama"]) == 0
    assert "is now Barack Obama" in capsys.readouterr().out
    assert main([*lib, "people", "find", "barack obama"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4
    assert main([*lib, "people", "show", "Barack Obama", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    face = shown["faces"][0]["face"]
    assert main([*lib, "people", "reject", str(face)]) == 0
    assert "(remembered)" in capsys.readouterr().out
    assert main([*lib, "people", "faces", shown["faces"][0]["path"], "--json"]) == 0
    in_photo = json.loads(capsys.readouterr().out)
    assert [f["face"] for f in in_photo] == [face] and in_photo[0]["person"] is None
    assert main([*lib, "search", "person:barack", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["results"]) == 3
    assert main([*lib, "people", "export", "--csv", str(tmp_path / "p.csv")]) == 0
    assert (tmp_path / "p.csv").read_text().count("Barack Obama") == 3
    assert main([*lib, "people", "recluster", "--min-faces", "2"]) == 0
    assert "kept" in capsys.readouterr().out
    assert main([*lib, "people", "name", "999", "X"]) == 1
    assert "no person" in capsys.readouterr().err
    assert main([*lib, "status"]) == 0
    assert "People: " in capsys.readouterr().out


def test_a_photo_copied_into_a_watched_folder_joins_its_person(
        people_lib: Library, face_photos: Path, photo_dir: Path, tmp_path: Path) -> None:
    from tests.conftest import eventually
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    people_lib.people.name(obama, "Obama")
    # A new photograph of him (a different framing of a real photo: new bytes, new hash),
    # written elsewhere and copied in, as a camera import would.
    with Image.open(face_photos / "obama3.jpg") as im:
        framed = im.convert("RGB").crop((0, 0, im.width, im.height * 2 // 3))
    framed.save(tmp_path / "new.jpg", quality=88)
    reports: list[str] = []
    with people_lib.watcher(settle=0.3, poll=0.05,
                            on_report=lambda why, r: reports.append(why)) as watcher:
        assert watcher.wait_idle(30)
        shutil.copy(tmp_path / "new.jpg", photo_dir / "new.jpg")
        assert eventually(lambda: "new.jpg" in {Path(p.path).name
                                                for p in people_lib.people.find("Obama")},
                          timeout=60), reports
    assert len(people_lib.people.find("Obama")) == 5


def _no_rejection_undone(lib: Library) -> None:
    conn = lib.reader()
    assert conn.one("SELECT count(*) FROM face_rejections r JOIN faces f ON f.id = r.face_id "
                    "AND f.person_id = r.person_id") == 0
    # ... nor with the faces the person had when it was said, under any id.
    assert conn.one("SELECT count(*) FROM face_apart l JOIN faces a ON a.id = l.face_id "
                    "JOIN faces b ON b.id = l.other_id WHERE a.person_id = b.person_id") == 0


def test_merging_back_a_split_keeps_every_rejection(people_lib: Library) -> None:
    """Reject a face, let it land elsewhere, then merge that person in: the rejected face
    leaves, and clustering goes on working (the stored state keeps every rule)."""
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    face4 = int(str(_faces_by_file(people_lib)["obama4.jpg"][0]["id"]))
    face3 = int(str(_faces_by_file(people_lib)["obama3.jpg"][0]["id"]))
    people.reject([face4])
    moved = people.split(obama, [face3])
    people.assign_face(face4, moved.id)       # "this is the person of obama3"
    merged = people.merge(obama, moved.id)    # they were all him after all
    assert merged.detached == 1                # ... but face 4 was said not to be
    assert _person_of(people_lib, "obama4.jpg") is None
    assert _person_of(people_lib, "obama3.jpg") == obama
    _no_rejection_undone(people_lib)
    people.cluster()
    people.recluster(min_faces=2)
    _no_rejection_undone(people_lib)
    with pytest.raises(PeopleError, match="itself"):
        people.merge(obama, obama)


def test_a_recluster_that_folds_people_together_keeps_their_rejections(
        people_lib: Library) -> None:
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    faces = _faces_by_file(people_lib)
    people.reject([int(str(faces["obama3.jpg"][0]["id"])),
                   int(str(faces["obama4.jpg"][0]["id"]))])
    rejections = people_lib.reader().one("SELECT count(*) FROM face_rejections")
    for join, found in ((0.05, 0.05), (0.3, 0.3), (0.42, 0.48)):
        people.recluster(join=join, found=found, min_faces=2)
        _no_rejection_undone(people_lib)
        assert people_lib.reader().one("SELECT count(*) FROM face_rejections") >= rejections
    # Back at sane thresholds, whatever ids the passes went through: he is one person again,
    # and the two faces said not to be him are still not.
    him = _person_of(people_lib, "obama1.jpg")
    assert him is not None and him == _person_of(people_lib, "obama2.jpg")
    assert him not in {_person_of(people_lib, "obama3.jpg"), _person_of(people_lib, "obama4.jpg")}
    assert obama is not None


def test_ids_are_never_reused_and_crops_go_with_their_photos(
        people_lib: Library, photo_dir: Path) -> None:
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    face2 = int(str(_faces_by_file(people_lib)["obama2.jpg"][0]["id"]))
    first = people.split(obama, [face2]).id
    people.assign_face(face2, obama)              # back: the split person is gone
    assert first not in {p.id for p in people.list_people(include_hidden=True)}
    second = people.split(obama, [face2]).id
    assert second > first
    crops = list(people.crops.root.rglob("*.jpg"))
    assert len(crops) == len(IDENTITY) + GROUP_FACES
    people_lib.remove_root(photo_dir)
    assert list(people.crops.root.rglob("*.jpg")) == []


def test_a_group_photo_as_reference_needs_the_face_named(people_lib: Library,
                                                         photo_dir: Path) -> None:
    people = people_lib.people
    group = str(photo_dir / GROUP)
    with pytest.raises(PeopleError, match="face:"):
        people.tag("Someone", [group])          # six faces: which one is meant?
    faces = people.photo_faces(group)
    chosen = faces[2].face
    result = people.tag("Someone", [f"face:{chosen}"])
    assert result.reference_faces == (chosen,)
    assert people.photo_faces(group)[2].name == "Someone"
    # A group photo with nobody like the other reference is refused, not guessed.
    with pytest.raises(PeopleError, match="looks like"):
        people.tag("Nicolas Cage", [str(photo_dir / "cage1.jpg"), group])


def test_names_are_found_by_first_name_and_unnamed_label(people_lib: Library) -> None:
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    franck = _person_of(people_lib, "franck1.jpg")
    assert obama is not None and franck is not None
    assert people.person_ref(f"Unnamed {franck}").id == franck
    people.name(obama, "Barack Obama")
    people.name(franck, "Barack")
    assert people.person_ref("barack").id == franck           # the exact name first
    assert {Path(h.path).name for h in people_lib.search("person:barack").hits} == \
        {"franck1.jpg", "franck2.jpg", "franck3.jpg"}
    people.name(franck, "Barack Franck")
    with pytest.raises(PeopleError, match="more than one"):
        people.person_ref("barack")
    assert len(people_lib.search("person:barack").hits) == 7    # both of them
    with pytest.raises(PeopleError, match="real name"):
        people.name(obama, "Unnamed 3")
    deleted = people.delete("Barack Franck")
    assert deleted.id == franck and _person_of(people_lib, "franck1.jpg") is None


def test_a_broken_face_pack_is_said_not_silent(people_lib: Library, mirror_pack: str,
                                               tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    for f in PACK.files:
        (junk / f.name).write_bytes(b"not a model")
    from glimpse_desktop.kernel.download import DownloadError
    from glimpse_desktop.kernel.registry import ModelError
    with pytest.raises((ModelError, DownloadError)):
        people_lib.models.add_face_pack(mirror_pack, junk)    # refused, not "installed"
    assert people_lib.models.face_installed(people_lib.models.face_pack(mirror_pack)) is None
    people_lib.models.download_face_pack(mirror_pack)
    people_lib.use_face_pack(mirror_pack)
    for f in PACK.files:     # then the files go missing behind Glimpse's back
        (people_lib.models.model_dir / "faces" / mirror_pack / f.name).unlink()
    people_lib._refresh_stages(at_once=True)
    status = people_lib.status().people
    assert status.problem and "not installed" in str(status.problem)
    report = people_lib.index()           # photos are still read; faces say why they are not
    assert report.errors == 0
    with pytest.raises(ModelError, match="cannot be found"):
        people_lib.update_people()


def test_forgetting_a_person_lets_their_faces_be_grouped_again(people_lib: Library) -> None:
    people = people_lib.people
    franck = _person_of(people_lib, "franck1.jpg")
    assert franck is not None
    face = int(str(_faces_by_file(people_lib)["franck2.jpg"][0]["id"]))
    people.assign_face(face, franck)          # placed by hand...
    people.delete(franck)                     # ... then the person is forgotten
    conn = people_lib.reader()
    assert conn.one("SELECT count(*) FROM faces WHERE person_id IS NULL AND "
                    "assigned IS NOT NULL") == 0
    people.cluster()
    regrouped = {_person_of(people_lib, f"franck{i}.jpg") for i in (1, 2, 3)}
    assert len(regrouped) == 1 and None not in regrouped


def test_tag_never_takes_back_a_rejection_by_guessing(face_photos: Path, people_lib: Library,
                                                     photo_dir: Path) -> None:
    people = people_lib.people
    _two_obamas(face_photos, photo_dir / "two.jpg")
    people_lib.index()
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    people.name(obama, "Barack")
    # Both faces of the two-photo picture were said not to be Barack (one of them is him:
    # the person may be wrong, but only their own word can undo it).
    two = [int(str(f["id"])) for f in _faces_by_file(people_lib)["two.jpg"]]
    for face in two:
        if _faces_by_file(people_lib)["two.jpg"][two.index(face)]["person_id"] == obama:
            people.reject([face])
        else:
            people_lib.writer.call(lambda c, f=face: c.execute(
                "INSERT INTO face_rejections(face_id, person_id, at) VALUES (?, ?, 'now')",
                (f, obama)))
    with pytest.raises(PeopleError, match="said not to be"):
        people.tag("Barack", [str(photo_dir / "obama2.jpg"), str(photo_dir / "two.jpg")])
    _no_rejection_undone(people_lib)


def test_a_split_does_not_keep_the_moved_faces_apart(people_lib: Library) -> None:
    people = people_lib.people
    obama = _person_of(people_lib, "obama1.jpg")
    assert obama is not None
    faces = [int(str(_faces_by_file(people_lib)[n][0]["id"])) for n in ("obama2.jpg",
                                                                         "obama3.jpg")]
    people.split(obama, faces)
    conn = people_lib.reader()
    assert conn.one(f"SELECT count(*) FROM face_apart WHERE face_id IN ({faces[0]}, "
                    f"{faces[1]}) AND other_id IN ({faces[0]}, {faces[1]})") == 0
    assert conn.one("SELECT count(*) FROM face_apart") > 0


def test_forgetting_missing_photos_takes_their_faces_and_empty_people(
        people_lib: Library, photo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from glimpse_desktop.cli import main
    people = people_lib.people
    franck = _person_of(people_lib, "franck1.jpg")
    for i in (1, 2, 3):
        (photo_dir / f"franck{i}.jpg").unlink()
    report = people_lib.index()
    assert report.missing == 3
    assert _person_of(people_lib, "franck1.jpg") == franck      # kept while missing
    lib = ["--library", str(people_lib.paths.library)]
    assert main([*lib, "forget-missing", "--dry-run", "--json"]) == 0
    import json
    assert len(json.loads(capsys.readouterr().out)["photos"]) == 3
    assert people_lib.status().missing == 3
    gone = people_lib.forget_missing()
    assert {Path(r.path).name for r in gone} == {"franck1.jpg", "franck2.jpg",
                                                    "franck3.jpg"}
    assert people_lib.status().missing == 0
    assert franck not in {p.id for p in people.list_people(include_hidden=True)}
    assert people_lib.reader().one("SELECT count(*) FROM faces") == len(IDENTITY) + \
        GROUP_FACES - 3
    from tests.conftest import assert_consistent
    assert_consistent(people_lib)


def test_a_pack_added_by_hand_is_checked_by_loading_it(tmp_path: Path) -> None:
    """A pack whose manifest publishes no digests is checked by loading it through the
    ``faces`` kind the faces plugin contributes (the registry knows no model), before any
    library is open: files that are not its models are refused and removed."""
    import json

    from glimpse_desktop.kernel.registry import ModelError, Registry

    folder = tmp_path / "models"
    (folder / "manifest.d").mkdir(parents=True)
    unpublished = {f.name: {"file": f.name} for f in PACK.files}
    (folder / "manifest.d" / "hand.json").write_text(json.dumps({"faces": [{
        "id": "by-hand", "format": "yunet-sface", "dim": 128,
        "detector": unpublished[PACK.detector.name],
        "recognizer": unpublished[PACK.recognizer.name]}]}))
    registry = Registry(folder)
    pack = registry.face_pack("by-hand")
    junk = tmp_path / "junk"
    junk.mkdir()
    for f in PACK.files:
        (junk / f.name).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="does not hold the by-hand models"):
        registry.add_face_pack("by-hand", junk)
    assert registry.face_installed(pack) is None
    assert not any((registry.face_folder(pack) / f.name).exists() for f in PACK.files)

    real = tmp_path / "real"
    real.mkdir()
    for f in PACK.files:
        shutil.copyfile(pack_folder(PACK) / f.name, real / f.name)
    digests = registry.add_face_pack("by-hand", real)
    assert registry.face_installed(pack) == digests
    assert set(digests) == {f.name for f in PACK.files}
