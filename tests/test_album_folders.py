"""Albums in folders (nested, no cycles, deleting a folder moves its albums up or deletes the
albums, never photos) and the album of each named person (a smart album that follows the
person through renames, merges and hiding), on real libraries with real photos; and the
`glimpse albums` verbs for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.albums.service import AlbumError, person_query
from glimpse_desktop.api import AlbumFolder, AlbumTree, Library
from tests.imagegen import write_jpeg
from tests.test_albums import make_event

SMALL = (160, 120)


@pytest.fixture
def shots(lib: Library, photo_dir: Path) -> list[int]:
    """Six dated photos, two a year from 2021 to 2023, oldest first."""
    for n in range(6):
        write_jpeg(photo_dir / f"p{n}.jpg", SMALL, seed=n,
                   datetime_original=f"{2021 + n // 2}:06:0{n + 1} 12:00:00")
    lib.add_root(photo_dir)
    lib.index()
    return [int(r["id"]) for r in lib.reader().rows("SELECT id FROM photos ORDER BY filename")]


def paths_of(tree: AlbumTree) -> dict[str, list[str]]:
    """Every folder's path with the titles of its albums."""
    out: dict[str, list[str]] = {}

    def walk(folders: tuple[AlbumFolder, ...]) -> None:
        for f in folders:
            out[f.path] = [a.title for a in f.albums]
            walk(f.folders)

    walk(tree.folders)
    return out


def photo_count(lib: Library) -> int:
    return int(lib.reader().one("SELECT count(*) FROM photos"))


def test_folders_nest_hold_albums_and_move_without_cycles(lib: Library,
                                                          shots: list[int]) -> None:
    albums = lib.albums
    made = albums.create_folder("Travel / 2024")        # the folder above is made too
    assert (made.name, made.path) == ("2024", "Travel/2024") and made.parent is not None
    with pytest.raises(AlbumError) as exists:
        albums.create_folder("travel/2024")             # any case names the same folder
    assert exists.value.code == "albums.folder_exists"
    lisbon = albums.create("Lisbon", shots[:2], folder="Travel/2024")
    assert lisbon.folder == "Travel/2024" and lisbon.folder_id == made.id
    albums.create("Later", query="after:2022")
    moved = albums.move("Later", "travel")
    assert (moved.was, moved.folder) == (None, "Travel")
    make_event(lib, "Saturday in Lisbon", shots[2:4])

    tree = albums.tree()
    assert paths_of(tree) == {"Travel": ["Later"], "Travel/2024": ["Lisbon"]}
    (travel,) = tree.folders
    assert travel.count == 2 and travel.folders[0].count == 1
    assert [a.title for a in tree.auto] == ["Saturday in Lisbon"] and tree.albums == ()
    later = next(a for a in albums.list_albums() if a.title == "Later")
    assert later.folder == "Travel" and later.count == 4      # a smart album is its search

    with pytest.raises(AlbumError) as auto:
        albums.move("Saturday in Lisbon", "Travel")
    assert auto.value.code == "albums.folder_auto"
    with pytest.raises(AlbumError) as cycle:
        albums.move_folder("Travel", "Travel/2024")
    assert cycle.value.code == "albums.folder_cycle"
    with pytest.raises(AlbumError) as self_cycle:
        albums.move_folder("Travel", made.id)
    assert self_cycle.value.code == "albums.folder_cycle"
    with pytest.raises(AlbumError) as unknown:
        albums.move("Lisbon", "Nowhere")
    assert unknown.value.code == "albums.unknown_folder"
    with pytest.raises(AlbumError) as reserved:
        albums.create_folder("people")
    assert reserved.value.code == "albums.folder_reserved"
    with pytest.raises(AlbumError) as slash:
        albums.rename_folder("Travel", "a/b")
    assert slash.value.code == "albums.folder_name_slash"

    out = albums.move_folder("Travel/2024", None)
    assert (out.was, out.path) == ("Travel/2024", "2024")
    assert albums.show("Lisbon").folder == "2024"             # albums travel with it
    renamed = albums.rename_folder("2024", "Portugal 2024")
    assert (renamed.was, renamed.path) == ("2024", "Portugal 2024")
    albums.move_folder("Portugal 2024", "Travel")
    assert paths_of(albums.tree()) == {"Travel": ["Later"],
                                       "Travel/Portugal 2024": ["Lisbon"]}
    assert albums.move("Lisbon", None).folder is None
    assert albums.show("Lisbon").folder is None


def test_deleting_a_folder_moves_its_albums_up_or_deletes_albums_never_photos(
        lib: Library, shots: list[int]) -> None:
    albums = lib.albums
    albums.create_folder("A/B/C")
    albums.create("In B", shots[:2], folder="A/B")
    albums.create("In C", shots[2:4], folder="A/B/C")
    before = photo_count(lib)

    gone = albums.delete_folder("A/B")                        # 'up' unless told otherwise
    assert (gone.path, gone.albums, gone.to) == ("A/B", "up", "A")
    assert (gone.moved_albums, gone.moved_folders, gone.deleted_albums) == (1, 1, ())
    assert paths_of(albums.tree()) == {"A": ["In B"], "A/C": ["In C"]}

    with pytest.raises(AlbumError) as how:
        albums.delete_folder("A", albums="burn")
    assert how.value.code == "albums.folder_contents"
    both = sorted([albums.show("In B").id, albums.show("In C").id])
    albums.create("Elsewhere", shots[4:])
    gone = albums.delete_folder("A", albums="delete")
    assert gone.deleted_folders == 2 and sorted(gone.deleted_albums) == both
    assert [a.title for a in albums.list_albums()] == ["Elsewhere"]
    assert albums.tree().folders == ()
    assert photo_count(lib) == before                         # the photos stay

    # Moving a folder's folders up never gives the parent two folders of one name.
    albums.create_folder("X/Y")
    albums.create_folder("X/Z/Y")
    with pytest.raises(AlbumError) as clash:
        albums.delete_folder("X/Z")
    assert clash.value.code == "albums.folder_exists"
    assert {f.path for f in albums.tree().folders[0].folders} == {"X/Y", "X/Z"}


def test_a_smart_album_in_a_folder_keeps_any_filter_of_its_search(lib: Library,
                                                                  shots: list[int]) -> None:
    # Nothing in the albums code lists filters: whatever the search knows, a smart album
    # saves (the judge's is:favorite and rating:>=4 join the same way).
    album = lib.albums.create("Mid", query="after:2022-01-01 before:2022-12-31",
                              folder=None)
    lib.albums.create_folder("Years")
    lib.albums.move(album.id, "Years")
    shown = lib.albums.show("Mid")
    assert sorted(p.id for p in shown.photos) == sorted(shots[2:4])
    assert shown.folder == "Years" and shown.kind == "smart"


def test_every_named_person_has_an_album_that_follows_renames_merges_and_hiding(
        few_faces_lib: Library) -> None:
    lib = few_faces_lib
    people = [p for p in lib.people.list_people() if p.id is not None]
    assert people, "the four photos of one man found a person"
    person = max(people, key=lambda p: p.photos)
    assert lib.albums.people_albums() == []                  # nobody named: no albums
    lib.people.name(person.id, "Barack")
    (album,) = lib.albums.people_albums()
    assert (album.id, album.person, album.title) == (-int(person.id or 0), person.id, "Barack")
    assert album.query == person_query("Barack") == 'person:"Barack"'
    assert album.kind == "smart" and album.folder == "People"
    detail = lib.albums.show("people/barack")
    assert detail.count == person.photos
    assert [p.id for p in detail.photos] == [p.id for p in lib.albums.show(album.id).photos]
    assert lib.albums.photo_ids(album.id) == [p.id for p in detail.photos]
    tree = lib.albums.tree()
    (people_folder,) = [f for f in tree.folders if f.virtual]
    assert (people_folder.name, [a.title for a in people_folder.albums]) == ("People",
                                                                            ["Barack"])

    lib.people.name(person.id, "Barack Obama")               # a rename: the album follows
    (album,) = lib.albums.people_albums()
    assert album.title == "Barack Obama" and album.query == 'person:"Barack Obama"'
    assert lib.albums.show(album.id).count == person.photos
    with pytest.raises(AlbumError):
        lib.albums.show("People/Barack")
    for change in (lambda: lib.albums.rename(album.id, "Other"),
                   lambda: lib.albums.delete(album.id),
                   lambda: lib.albums.move(album.id, None),
                   lambda: lib.albums.add(album.id, [1])):
        with pytest.raises(AlbumError) as refused:
            change()
        assert refused.value.code == "albums.person_album"

    # Merge: a second person (some of his faces split off and named) joins the first;
    # one album is left, with every photo.
    faces = [f.face for f in lib.people.show(person.id).faces]
    split = lib.people.split(person.id, faces[:1])
    lib.people.name(split.id, "Obama (old)")
    assert {a.title for a in lib.albums.people_albums()} == {"Barack Obama", "Obama (old)"}
    lib.people.merge(person.id, split.id)
    (album,) = lib.albums.people_albums()
    assert album.title == "Barack Obama" and album.count == person.photos

    lib.people.hide(person.id)                                # hidden people have none
    assert lib.albums.people_albums() == []
    assert not [f for f in lib.albums.tree().folders if f.virtual]


def run(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--library", str(library), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_folders(capsys: pytest.CaptureFixture[str], library_path: Path, lib: Library,
                     shots: list[int]) -> None:
    lib.close()
    code, out, err = run(capsys, library_path, "album", "folder", "create", "Travel/2024")
    assert code == 0 and "Created folder Travel/2024/" in out, err
    code, out, err = run(capsys, library_path, "albums", "create", "Lisbon",
                         str(shots[0]), str(shots[1]), "--folder", "Travel")
    assert code == 0 and "in Travel/" in out, err
    code, out, _ = run(capsys, library_path, "album", "move", "Lisbon", "--to",
                       "Travel/2024", "--json")
    assert code == 0 and json.loads(out) == {"id": 1, "title": "Lisbon", "was": "Travel",
                                             "folder": "Travel/2024"}
    listed = json.loads(run(capsys, library_path, "albums", "--json")[1])
    assert [(a["title"], a["folder"]) for a in listed] == [("Lisbon", "Travel/2024")]
    tree = json.loads(run(capsys, library_path, "albums", "tree", "--json")[1])
    assert tree["folders"][0]["path"] == "Travel"
    assert tree["folders"][0]["folders"][0]["albums"][0]["title"] == "Lisbon"
    code, out, _ = run(capsys, library_path, "albums", "tree")
    assert code == 0 and out.splitlines()[:3] == [
        "Travel/  (1 album)", "  2024/  (1 album)",
        "    Lisbon  [manual, 2 photos, album 1]"]

    code, _, err = run(capsys, library_path, "album", "folder", "move", "Travel",
                       "--to", "Travel/2024")
    assert code != 0 and "cannot go into itself" in err
    code, _, err = run(capsys, library_path, "album", "move", "Lisbon", "--to", "Nowhere")
    assert code != 0 and "no folder 'Nowhere'" in err
    code, out, _ = run(capsys, library_path, "album", "folder", "rename", "Travel/2024",
                       "Portugal", "--json")
    assert code == 0 and json.loads(out)["path"] == "Travel/Portugal"
    code, out, _ = run(capsys, library_path, "album", "folder", "delete", "Travel/Portugal")
    assert code == 0 and "1 album and 0 folders moved up to Travel/" in out
    code, out, _ = run(capsys, library_path, "album", "folder", "delete", "Travel",
                       "--delete-albums", "--json")
    assert code == 0 and json.loads(out)["deleted_albums"] == [1]
    assert json.loads(run(capsys, library_path, "albums", "--json")[1]) == []
    code, out, _ = run(capsys, library_path, "album", "move", "Lisbon", "--top")
    assert code != 0
