"""Faces without a person, end to end with the real default face models on real photographs
(tests/facephotos.py): the waiting faces grouped by likeness, named or added in bulk (one face
per photo), kept apart, and ignored (never clustered, shown or counted; taken back)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glimpse_desktop.api import Library, PeopleError, WaitingFaces
from glimpse_desktop.faces import clustering
from tests.facephotos import GROUP, GROUP_FACES, IDENTITY

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def people_lib(face_photos: Path, photo_dir: Path, lib: Library) -> Iterator[Library]:
    for name in [*IDENTITY, GROUP]:
        shutil.copy(face_photos / name, photo_dir / name)
    lib.add_root(photo_dir)
    lib.index()
    yield lib


def _file_of(lib: Library) -> dict[int, str]:
    """Face id -> the file its photo is."""
    return {int(r[0]): str(r[1]) for r in lib.reader().execute(
        "SELECT f.id, ph.filename FROM faces f JOIN photos ph ON ph.id = f.photo_id")}


def _faces_of(lib: Library, filename: str) -> list[int]:
    return [f for f, name in _file_of(lib).items() if name == filename]


def _group_files(waiting: WaitingFaces, files: dict[int, str]) -> list[list[str]]:
    return [sorted(files[f.face] for f in g.faces) for g in waiting.groups]


def test_waiting_faces_are_grouped_by_likeness(people_lib: Library) -> None:
    people = people_lib.people
    files = _file_of(people_lib)
    waiting = people.waiting_faces()
    status = people.status()
    # Obama and Franck are people already; the rest wait: the two Cages, the two Biebers,
    # Biden, the Queen, Clooney and the six friends.
    assert waiting.faces == status.waiting == len(IDENTITY) + GROUP_FACES - 7
    groups = _group_files(waiting, files)
    assert groups[:2] == sorted([["bieber1.jpg", "bieber2.jpg"], ["cage1.jpg", "cage2.jpg"]])\
        or sorted(groups[:2]) == [["bieber1.jpg", "bieber2.jpg"], ["cage1.jpg", "cage2.jpg"]]
    assert all(len(g) == 1 for g in groups[2:])           # largest first, ones allowed
    assert sum(len(g) for g in groups) == waiting.faces     # every waiting face once
    assert waiting.total_groups == len(groups) and waiting.ignored == 0
    for group in waiting.groups:
        assert group.photos == len({f.photo for f in group.faces})   # a photo once
        assert all(f.person is None and not f.ignored for f in group.faces)
        assert all(Path(str(f.crop)).is_file() for f in group.faces)
    # Paging through the groups.
    page = people.waiting_faces(offset=1, limit=2)
    assert [g.faces for g in page.groups] == [g.faces for g in waiting.groups[1:3]]
    assert page.total_groups == waiting.total_groups
    with pytest.raises(PeopleError) as bad:
        people.waiting_faces(offset=-1)
    assert bad.value.code == "faces.bad_page"


def test_naming_a_group_makes_a_person_of_its_faces(people_lib: Library) -> None:
    people = people_lib.people
    files = _file_of(people_lib)
    waiting = people.waiting_faces()
    cage = next(g for g in waiting.groups if files[g.faces[0].face].startswith("cage"))
    ids = [f.face for f in cage.faces]
    done = people.name_faces(ids, "Nicolas  Cage")
    assert done.created and done.name == "Nicolas Cage" and set(done.added) == set(ids)
    assert not done.skipped
    assigned = {int(r[0]): r[1] for r in people_lib.reader().execute(
        "SELECT id, assigned FROM faces WHERE person_id = ?", (done.person,))}
    assert assigned == {i: "user" for i in ids}
    assert people.status().waiting == waiting.faces - 2
    assert all(f.face not in ids for g in people.waiting_faces().groups for f in g.faces)
    # The name is searchable at once, and a full re-cluster keeps the faces where put.
    assert len(people_lib.search("person:nicolas", limit=10).hits) == 2
    people.recluster()
    assert people.show("Nicolas Cage").faces and len(people.show("Nicolas Cage").faces) == 2
    # Adding to the person who has the name (by name, or by id) adds, never makes another.
    queen = _faces_of(people_lib, "queen.jpg")
    again = people.name_faces(queen, "nicolas cage")
    assert not again.created and again.person == done.person and again.added == tuple(queen)
    clooney = _faces_of(people_lib, "clooney.jpg")
    added = people.add_faces([*clooney, ids[0]], done.person)
    assert added.added == tuple(clooney) and added.already == (ids[0],)
    with pytest.raises(PeopleError) as nobody:
        people.add_faces(clooney, "Nobody Here")
    assert nobody.value.code == "people.unknown"


def test_two_faces_of_one_photo_never_join_one_person_in_bulk(people_lib: Library) -> None:
    people = people_lib.people
    friends = _faces_of(people_lib, GROUP)
    assert len(friends) == GROUP_FACES
    done = people.name_faces([friends[0], friends[1], *_faces_of(people_lib, "biden.jpg")],
                             "Joey")
    assert done.added[0] == friends[0] and len(done.added) == 2
    assert [(s.face, s.reason, s.other) for s in done.skipped] == [
        (friends[1], "same_photo", friends[0])]
    # Adding another face of that photo later is refused the same way, and said.
    later = people.add_faces([friends[2]], "Joey")
    assert later.added == () and later.skipped[0].reason == "same_photo"
    # A face that went meanwhile is reported, not an error; nothing at all is a coded error.
    gone = people.name_faces([10_000_000], "Ross")
    assert gone.added == () and gone.skipped[0].reason == "unknown" and not gone.created
    assert people_lib.reader().one("SELECT count(*) FROM people WHERE name = 'Ross'") == 0
    with pytest.raises(PeopleError) as empty:
        people.name_faces([], "Ross")
    assert empty.value.code == "faces.none_given"
    with pytest.raises(PeopleError):
        people.name_faces(friends[3:4], "  ")


def test_an_ignored_face_is_never_clustered_shown_or_counted(people_lib: Library,
                                                            photo_dir: Path) -> None:
    people = people_lib.people
    files = _file_of(people_lib)
    before = people.waiting_faces()
    strangers = _faces_of(people_lib, GROUP)[:2] + _faces_of(people_lib, "cage1.jpg")
    done = people.ignore_faces(strangers)
    assert set(done.faces) == set(strangers) and not done.left
    after = people.waiting_faces()
    assert after.faces == before.faces - 3 == people.status().waiting
    assert after.ignored == 3
    shown = {f.face for g in after.groups for f in g.faces}
    assert not shown & set(strangers)
    assert ["cage2.jpg"] in _group_files(after, files)           # its look-alike is alone now
    assert {f.face for f in people.ignored_faces()} == set(strangers)
    assert all(f.ignored and f.person is None for f in people.ignored_faces())
    # Thresholds so loose that everyone looks alike: ignored faces stay out of every person.
    people.recluster(join=0.05, found=0.05, min_faces=2, remember=False)
    people.cluster()
    ignored_people = people_lib.reader().rows(
        f"SELECT person_id FROM faces WHERE id IN ({','.join(map(str, strangers))})")
    assert all(r["person_id"] is None for r in ignored_people)
    people.recluster(join=0.42, found=0.48, min_faces=3)
    # A face found again in an edited file is the same stranger: still ignored.
    path = photo_dir / "cage1.jpg"
    with Image.open(path) as im:
        im.convert("RGB").point(lambda v: min(255, int(v * 1.1))).save(path, quality=85)
    assert people_lib.index().updated == 1
    refound = _faces_of(people_lib, "cage1.jpg")
    assert refound and refound != strangers[2:]
    assert set(refound) <= {f.face for f in people.ignored_faces()}
    # Taken back: waiting again, grouped again.
    back = people.ignore_faces([*strangers[:2], *refound], undo=True)
    assert set(back.faces) == {*strangers[:2], *refound} and back.undo
    assert people.ignored_faces() == []
    again = people.waiting_faces()
    assert again.faces == before.faces and again.ignored == 0
    assert ["cage1.jpg", "cage2.jpg"] in _group_files(again, _file_of(people_lib))
    with pytest.raises(PeopleError) as unknown:
        people.ignore_faces([10_000_000])
    assert unknown.value.code == "faces.unknown"


def test_ignoring_a_face_of_a_person_takes_it_out(people_lib: Library) -> None:
    people = people_lib.people
    face = _faces_of(people_lib, "obama1.jpg")[0]
    person = people.photo_faces(_photo_of(people_lib, "obama1.jpg"))[0].person
    assert person is not None
    people.name(person, "Barack Obama")
    done = people.ignore_faces([face])
    assert done.left == (face,)
    assert len(people.show("Barack Obama").faces) == 3
    assert len(people_lib.search("person:barack", limit=10).hits) == 3
    shown = people.photo_faces(_photo_of(people_lib, "obama1.jpg"))[0]
    assert shown.ignored and shown.person is None
    # Naming it by hand is the person's word that it is someone: the ignore goes.
    people.assign_face(face, "Barack Obama")
    assert not people.photo_faces(_photo_of(people_lib, "obama1.jpg"))[0].ignored
    assert people.ignored_faces() == []


def _photo_of(lib: Library, filename: str) -> int:
    return int(lib.reader().one("SELECT id FROM photos WHERE filename = ?", (filename,)))


def test_not_the_same_person_drops_a_face_out_of_its_group(people_lib: Library) -> None:
    people = people_lib.people
    files = _file_of(people_lib)
    cage1, cage2 = _faces_of(people_lib, "cage1.jpg")[0], _faces_of(people_lib, "cage2.jpg")[0]
    apart = people.keep_apart([cage2], [cage1])
    assert apart.pairs == 1 and apart.faces == (cage2,)
    groups = _group_files(people.waiting_faces(), files)
    assert ["cage1.jpg"] in groups and ["cage2.jpg"] in groups
    # Grouped from scratch (another session), the link still keeps them apart.
    fresh = Library.open(people_lib.paths.library, workers=1)
    try:
        assert ["cage2.jpg"] in _group_files(fresh.people.waiting_faces(), files)
        # Clustering keeps them apart too, even when they could found a person together.
        fresh.people.recluster(min_faces=2, remember=False)
        rows = fresh.reader().rows(f"SELECT person_id FROM faces WHERE id IN ({cage1}, {cage2})")
        persons = [r["person_id"] for r in rows]
        assert persons[0] is None or persons[0] != persons[1]
    finally:
        fresh.close()
    with pytest.raises(PeopleError) as alone:
        people.keep_apart([cage1], [cage1])
    assert alone.value.code == "faces.none_given"


# ---------------------------------------------------------------------------- the algorithm


def _people_among_strangers(n_people: int, per: int, strangers: int,
                            seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vecs = []
    truth = []
    for p in range(n_people):
        centre = rng.standard_normal(128)
        centre /= np.linalg.norm(centre)
        noise = rng.standard_normal((per, 128))
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        vecs.append(centre * 0.85 + noise * 0.5)
        truth += [p] * per
    vecs.append(rng.standard_normal((strangers, 128)))
    truth += [-1] * strangers
    out = np.concatenate(vecs).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out, np.asarray(truth)


def test_group_waiting_keeps_photos_and_apart_pairs_and_finds_people_in_cells() -> None:
    vectors, truth = _people_among_strangers(30, 5, 600)
    photo = np.arange(len(truth))
    params = clustering.Params()
    exact = clustering.group_waiting(vectors, photo, params)
    cells = clustering.group_waiting(vectors, photo, params, exact_below=0)
    for labels in (exact, cells):
        sizes = np.bincount(labels)
        assert list(sizes) == sorted(sizes, reverse=True)      # largest first
        for p in range(30):
            assert len(set(labels[truth == p].tolist())) == 1   # each person one group
        assert (sizes[labels[truth == -1]] == 1).all()          # strangers alone
    # Two faces of one photo, or a pair kept apart, never share a group.
    photo_clash = photo.copy()
    photo_clash[1] = photo_clash[0]
    labels = clustering.group_waiting(vectors, photo_clash, params)
    assert labels[0] != labels[1]
    labels = clustering.group_waiting(vectors, photo, params, np.array([[5, 6]]))
    assert labels[5] != labels[6]
    assert clustering.group_waiting(np.zeros((0, 128)), np.zeros(0), params).size == 0


# ---------------------------------------------------------------------------- the command line


def test_faces_from_the_command_line(people_lib: Library,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from glimpse_desktop.cli import main
    lib = ["--library", str(people_lib.paths.library)]
    files = _file_of(people_lib)
    people_lib.close()
    capsys.readouterr()
    assert main([*lib, "faces", "waiting", "--json"]) == 0
    waiting = json.loads(capsys.readouterr().out)
    first = waiting["groups"][0]
    assert len(first["faces"]) == 2 and first["photos"] == 2
    assert {"face", "photo", "crop", "box"} <= set(first["faces"][0])
    ids = [str(f["face"]) for f in first["faces"]]
    assert main([*lib, "faces"]) == 0                      # `waiting` is the default
    out = capsys.readouterr()
    assert out.out.startswith("Group 1: 2 faces in 2 photos") and "waiting in" in out.err
    friends = [str(f) for f, name in files.items() if name == GROUP]
    assert main([*lib, "faces", "name", *ids, friends[0], friends[1], "--person",
                 "Some", "One"]) == 0
    out = capsys.readouterr()
    assert "Some One: 3 faces added (new person" in out.out
    assert f"face {friends[1]} not added: Some One is already face {friends[0]}" in out.err
    assert main([*lib, "faces", "ignore", friends[2], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["faces"] == [int(friends[2])]
    assert main([*lib, "faces", "ignored", "--json"]) == 0
    assert [f["face"] for f in json.loads(capsys.readouterr().out)] == [int(friends[2])]
    assert main([*lib, "faces", "ignore", friends[2], "--undo"]) == 0
    assert "1 face wait for a person again" in capsys.readouterr().out
    assert main([*lib, "faces", "add", friends[3], "--to", "nobody"]) == 1
    assert "no person" in capsys.readouterr().err
    assert main([*lib, "faces", "apart", friends[4], "--from", friends[5]]) == 0
    assert "kept apart" in capsys.readouterr().out
    # A real process, as a shell runs it: text for people, JSON for scripts.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "glimpse_desktop", *lib, "faces", "waiting",
                          "--limit", "1", "--json"], capture_output=True, text=True, env=env,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["groups"]) == 1


def test_faces_of_a_photo_in_the_trash_wait_for_no_one(
        people_lib: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".local" / "share").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    people = people_lib.people
    files = _file_of(people_lib)
    before = people.waiting_faces()
    photo = people_lib.reader().one("SELECT id FROM photos WHERE filename = ?", (GROUP,))
    group_faces = {f for f, name in files.items() if name == GROUP}
    waiting_there = group_faces & {f.face for g in before.groups for f in g.faces}
    assert waiting_there
    people.name_faces(_faces_of(people_lib, "cage1.jpg"), "Nicolas Cage")
    before = people.waiting_faces()
    named = int(people_lib.reader().one("SELECT id FROM photos WHERE filename = 'cage1.jpg'"))
    named_path = str(people_lib.reader().one("SELECT path FROM photos WHERE id = ?", (named,)))
    listed = io.StringIO()
    people.export_csv(listed)
    assert sorted(people_lib.trash.move([photo, named]).photo_ids) == sorted([photo, named])
    kept = io.StringIO()
    people.export_csv(kept)
    named_rows = {line for line in listed.getvalue().splitlines()
                  if line.split(",")[0] == named_path}
    assert named_rows and (len(kept.getvalue().splitlines())
                           == len(listed.getvalue().splitlines()) - len(named_rows))
    after = people.waiting_faces()
    shown = {f.face for g in after.groups for f in g.faces}
    assert not shown & group_faces
    assert after.faces == before.faces - len(waiting_there) == people.status().waiting
    people_lib.trash.restore([photo, named])
    assert people.waiting_faces().faces == before.faces == people.status().waiting
