"""Albums: manual, smart (saved searches) and the person's edits of automatic albums, on a real
library with real photos; the album: filter; `glimpse albums` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.albums.records import AlbumDetail, AlbumRenamed
from glimpse_desktop.albums.service import AlbumError
from glimpse_desktop.api import Library
from glimpse_desktop.kernel.db import now_iso
from glimpse_desktop.search.query import QueryError
from tests.imagegen import write_jpeg

SMALL = (160, 120)


@pytest.fixture
def shelf(lib: Library, photo_dir: Path) -> dict[str, int]:
    """Four dated photos: two on a beach in July 2023, a city in 2022, a cat in 2021."""
    write_jpeg(photo_dir / "beach1.jpg", SMALL, seed=1, datetime_original="2023:07:14 10:00:00",
               image_description="sandy beach with kids")
    write_jpeg(photo_dir / "beach2.jpg", SMALL, seed=2, datetime_original="2023:07:15 18:30:00",
               image_description="beach at sunset")
    write_jpeg(photo_dir / "city.jpg", SMALL, seed=3, datetime_original="2022:03:01 12:00:00",
               image_description="old town square")
    write_jpeg(photo_dir / "cat.jpg", SMALL, seed=4, datetime_original="2021:01:05 08:00:00",
               image_description="a cat asleep")
    lib.add_root(photo_dir)
    lib.index()
    base = photo_dir.resolve()
    return {Path(r["path"]).relative_to(base).as_posix(): int(r["id"])
            for r in lib.reader().rows("SELECT id, path FROM photos")}


def ids_of(album: AlbumDetail) -> list[int]:
    return [p.id for p in album.photos]


def make_event(lib: Library, title: str, photo_ids: list[int], key: str = "event:1") -> int:
    """An automatic album as organize/events writes one (kind event, auto_key, auto members)."""
    def apply(c: object) -> int:
        now = now_iso()
        c.execute("INSERT INTO albums(kind, title, auto_key, start_ts, created_at, updated_at) "  # type: ignore[attr-defined]
                  "VALUES ('event', ?, ?, 0, ?, ?)", (title, key, now, now))
        album_id = int(c.raw.last_insert_rowid())  # type: ignore[attr-defined]
        for n, pid in enumerate(photo_ids):
            c.execute("INSERT INTO album_photos(album_id, photo_id, position, added_by, "  # type: ignore[attr-defined]
                      "added_at) VALUES (?, ?, ?, 'auto', ?)", (album_id, pid, n, now))
        return album_id
    return lib.writer.call(apply)


def test_manual_album_create_add_order_cover_remove_rename_delete(
        lib: Library, photo_dir: Path, shelf: dict[str, int]) -> None:
    albums = lib.albums
    b1, b2 = shelf["beach1.jpg"], shelf["beach2.jpg"]
    city, cat = shelf["city.jpg"], shelf["cat.jpg"]
    album = albums.create("  Summer  ", [str(b2), str(photo_dir / "beach1.jpg")])
    assert album.title == "Summer" and album.kind == "manual" and not album.auto
    assert ids_of(album) == [b2, b1]  # the order given, not time order
    assert album.count == 2 and album.cover == b2
    assert album.start is not None and album.start.startswith("2023-07-14")
    assert album.end is not None and album.end.startswith("2023-07-15")

    added = albums.add("summer", [city, b1])  # by title in any case; b1 is there already
    assert (added.added, added.already) == (1, 1)
    assert ids_of(albums.show(album.id)) == [b2, b1, city]
    assert albums.order("Summer", [city]).order == (city, b2, b1)
    assert albums.order("Summer", [city], after=b1).order == (b2, b1, city)
    assert albums.order("Summer", [b1], before=b2).order == (b1, b2, city)
    assert ids_of(albums.show(str(album.id))) == [b1, b2, city]  # by id as text too

    assert albums.set_cover("Summer", city).cover == city
    assert albums.show("Summer").cover == city
    with pytest.raises(AlbumError, match="not in"):
        albums.set_cover("Summer", cat)
    removed = albums.remove("Summer", [city, cat])
    assert (removed.removed, removed.not_in_album) == (1, 1)
    shown = albums.show("Summer")
    assert ids_of(shown) == [b1, b2] and shown.cover == b1  # the cover left with its photo
    assert lib.photo(city) is not None  # out of the album, never out of the library

    assert albums.rename("summer", "Summer 2023") == AlbumRenamed(
        id=album.id, was="Summer", title="Summer 2023")
    with pytest.raises(AlbumError, match="no album 'Summer'"):
        albums.show("Summer")
    assert [a.title for a in albums.list_albums()] == ["Summer 2023"]
    assert albums.delete("SUMMER 2023").kind == "manual"
    assert albums.list_albums() == []
    conn = lib.reader()
    assert conn.one("SELECT count(*) FROM albums") == 0
    assert conn.one("SELECT count(*) FROM album_photos") == 0
    assert conn.one("SELECT count(*) FROM photos") == 4


def test_bad_input_is_refused_and_changes_nothing(lib: Library, shelf: dict[str, int]) -> None:
    albums = lib.albums
    albums.create("Trip", [shelf["city.jpg"]])
    with pytest.raises(AlbumError, match="needs a title"):
        albums.create("   ")
    with pytest.raises(AlbumError, match="already an album called 'trip'"):
        albums.create("trip")
    with pytest.raises(AlbumError, match=r"not in the library: 999, /no/such\.jpg"):
        albums.add("Trip", [shelf["cat.jpg"], 999, "/no/such.jpg"])
    assert ids_of(albums.show("Trip")) == [shelf["city.jpg"]]  # not even the good one
    with pytest.raises(AlbumError, match="no album 'Holiday'"):
        albums.add("Holiday", [shelf["cat.jpg"]])
    with pytest.raises(AlbumError, match="which photos"):
        albums.add("Trip", [])
    other = albums.create("Other")
    with pytest.raises(AlbumError, match="already an album"):
        albums.rename(other.id, "TRIP")
    assert albums.rename("Trip", "TRIP").title == "TRIP"  # its own title in another case
    with pytest.raises(AlbumError, match="not both"):
        albums.order("TRIP", [shelf["city.jpg"]], before=1, after=2)
    with pytest.raises(AlbumError, match="unknown album kind"):
        albums.list_albums(["holiday"])
    # A title that is all digits names the album with that id when no title says otherwise.
    numbered = albums.create(str(other.id))
    with pytest.raises(AlbumError, match="use the id"):
        albums.show(str(other.id))
    assert albums.show(numbered.id).title == str(other.id)


def test_the_persons_edits_of_an_automatic_album(lib: Library, shelf: dict[str, int]) -> None:
    albums = lib.albums
    b1, b2, city = shelf["beach1.jpg"], shelf["beach2.jpg"], shelf["city.jpg"]
    event_id = make_event(lib, "Saturday at the beach", [b2, b1])
    listed = albums.list_albums()
    assert [(a.id, a.kind, a.auto, a.edited, a.count) for a in listed] == [
        (event_id, "event", True, False, 2)]
    assert ids_of(albums.show(event_id)) == [b1, b2]  # time order
    with pytest.raises(AlbumError, match="time order"):
        albums.order(event_id, [b2])

    def state() -> tuple[int, int]:
        row = lib.reader().row("SELECT edited, removed FROM albums WHERE id = ?", (event_id,))
        assert row is not None
        return int(row["edited"]), int(row["removed"])

    albums.set_cover(event_id, b2)
    assert state() == (0, 0)  # a cover is not an edit of what the album is
    albums.rename("saturday at the beach", "Beach weekend")
    assert state() == (1, 0)
    assert albums.remove("Beach weekend", [b1]).removed == 1
    # Taken out for good: the row stays, marked, so a rebuild does not put the photo back.
    assert lib.reader().row(
        "SELECT removed, added_by FROM album_photos WHERE album_id = ? AND photo_id = ?",
        (event_id, b1)) == {"removed": 1, "added_by": "auto"}
    assert ids_of(albums.show(event_id)) == [b2]
    with pytest.raises(QueryError, match="no album called 'weekend'"):
        lib.search("album:weekend")  # titles match whole, or by their first words
    assert [h.photo_id for h in lib.search('album:"Beach weekend"').hits] == [b2]
    assert albums.add(event_id, [b1, city]).added == 2  # b1 comes back, by the person
    assert ids_of(albums.show(event_id)) == [city, b1, b2]

    assert albums.delete("Beach weekend").kind == "event"
    assert state() == (1, 1)  # a tombstone: rebuilds must not make it again
    assert albums.list_albums() == []
    with pytest.raises(AlbumError, match="no album"):
        albums.show(event_id)
    with pytest.raises(QueryError, match="no album called 'Beach weekend'"):
        lib.search('album:"Beach weekend"')
    # Its title is free again for an album of the person's own.
    assert albums.create("Beach weekend").kind == "manual"


def test_album_filter_in_search(lib: Library, shelf: dict[str, int]) -> None:
    lib.albums.create("Summer 2023", [shelf["beach1.jpg"], shelf["beach2.jpg"]])
    lib.albums.create("Cities", [shelf["city.jpg"]])
    found = lib.search("album:summer after:2023-07-15")  # title words from the start
    assert [h.photo_id for h in found.hits] == [shelf["beach2.jpg"]]
    both = lib.search('album:"summer 2023" beach')  # filters and words together
    assert {h.photo_id for h in both.hits} == {shelf["beach1.jpg"], shelf["beach2.jpg"]}
    assert lib.search("album:cities album:summer").hits == []  # in both: none
    with pytest.raises(QueryError, match="no album called 'nowhere'"):
        lib.search("album:nowhere")


def test_smart_albums_are_saved_searches(lib: Library, photo_dir: Path,
                                         shelf: dict[str, int]) -> None:
    albums = lib.albums
    recent = albums.create("Recent", query="after:2022")
    assert recent.kind == "smart" and recent.query == "after:2022"
    # Filters alone: every photo that passes them, newest first.
    assert ids_of(recent) == [shelf["beach2.jpg"], shelf["beach1.jpg"], shelf["city.jpg"]]
    # Words without the CLIP model: the text index finds them, and the album says so.
    beach = albums.show(albums.create("Beach", query="beach after:2023-07-15").id)
    assert ids_of(beach) == [shelf["beach2.jpg"]]
    assert beach.notices and "model" in " ".join(map(str, beach.notices))
    # New photos join by themselves.
    write_jpeg(photo_dir / "new.jpg", SMALL, seed=9, datetime_original="2024:02:02 10:00:00")
    lib.index()
    assert albums.show("Recent").count == 4
    # album: on a smart album runs its search.
    assert len(lib.search("album:recent before:2023").hits) == 1
    with pytest.raises(AlbumError, match="smart album"):
        albums.add("Recent", [shelf["cat.jpg"]])
    with pytest.raises(AlbumError, match="cannot save that search"):
        albums.create("Bad", query="after:someday")
    with pytest.raises(AlbumError, match="not both"):
        albums.create("Both", [shelf["cat.jpg"]], query="cat")
    with pytest.raises(AlbumError, match="needs a search"):
        albums.create("Empty", query="  ")
    # A saved search that leads back to itself says so instead of looping.
    loop = albums.show(albums.create("Loop", query="album:loop").id)
    assert loop.photos == () and "back to itself" in str(loop.notices[0])
    kinds = {a.title: (a.kind, a.count) for a in albums.list_albums()}
    assert kinds["Recent"] == ("smart", 4) and kinds["Loop"] == ("smart", 0)
    assert [a.title for a in albums.list_albums(include_empty=False)] == ["Recent", "Beach"]


def run(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--library", str(library), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli(capsys: pytest.CaptureFixture[str], library_path: Path, lib: Library,
             shelf: dict[str, int]) -> None:
    make_event(lib, "Saturday in Lisbon", [shelf["city.jpg"]])
    lib.close()
    b1, b2 = str(shelf["beach1.jpg"]), str(shelf["beach2.jpg"])
    code, out, err = run(capsys, library_path, "albums", "create", "Summer", b2, b1, "--json")
    assert code == 0, err
    created = json.loads(out)
    assert created["title"] == "Summer" and [p["id"] for p in created["photos"]] == [
        int(b2), int(b1)]
    code, out, _ = run(capsys, library_path, "albums", "create", "Old", "--query", "before:2022")
    assert code == 0 and "Created album" in out and "before:2022" in out
    listed = json.loads(run(capsys, library_path, "albums", "--json")[1])
    assert [(a["title"], a["kind"], a["auto"]) for a in listed] == [
        ("Summer", "manual", False), ("Old", "smart", False),
        ("Saturday in Lisbon", "event", True)]
    code, out, _ = run(capsys, library_path, "albums", "list")
    assert code == 0 and "event (auto)" in out and "search: before:2022" in out
    code, out, _ = run(capsys, library_path, "albums")
    assert code == 0 and "Summer" in out

    assert run(capsys, library_path, "albums", "order", "summer", b1)[0] == 0
    shown = json.loads(run(capsys, library_path, "albums", "show", "Summer", "--json")[1])
    assert [p["id"] for p in shown["photos"]] == [int(b1), int(b2)]
    changed = json.loads(run(capsys, library_path, "albums", "remove", "Summer", b1,
                             "--json")[1])
    assert changed["removed"] == 1
    code, out, _ = run(capsys, library_path, "albums", "add", "Summer", shelf_path(lib, b1))
    assert code == 0 and "Added 1 photo" in out
    code, out, _ = run(capsys, library_path, "albums", "rename", "Summer", "Summer", "2023")
    assert code == 0 and "'Summer 2023'" in out
    assert run(capsys, library_path, "albums", "cover", "Summer 2023", b1)[0] == 0
    code, out, _ = run(capsys, library_path, "albums", "show", "Summer 2023")
    assert code == 0 and f"cover: photo {b1}" in out
    code, _, err = run(capsys, library_path, "albums", "add", "Nope", b1)
    assert code == 1 and "no album 'Nope'" in err
    code, _, err = run(capsys, library_path, "albums", "add", "Old", b1)
    assert code == 1 and "smart album" in err
    code, out, _ = run(capsys, library_path, "search", "album:summer", "--json")
    assert code == 0 and len(json.loads(out)["results"]) == 2
    assert run(capsys, library_path, "albums", "delete", "Saturday in Lisbon")[0] == 0
    listed = json.loads(run(capsys, library_path, "albums", "list", "--kind", "event",
                            "--json")[1])
    assert listed == []


def shelf_path(lib: Library, photo_id: str) -> str:
    info = Library.open(lib.paths.library)
    try:
        row = info.photo(int(photo_id))
        assert row is not None
        return str(row.path)
    finally:
        info.close()


def test_an_int_ref_is_an_id_whatever_titles_other_albums_have(
        lib: Library, shelf: dict[str, int]) -> None:
    first = lib.albums.create("First").id
    year = lib.albums.create(str(first)).id         # an album titled "1", say "2023"
    assert lib.albums.show(first).title == "First"  # the GUI passes ids: always reachable
    assert lib.albums.show(year).title == str(first)
    with pytest.raises(AlbumError, match="use the id"):
        lib.albums.show(str(first))                    # typed text stays ambiguous, and says so
    lib.albums.delete(year)
    assert [a.title for a in lib.albums.list_albums()] == ["First"]
    with pytest.raises(AlbumError, match="no album"):
        lib.albums.show(year)


def test_json_keeps_keys_only_where_they_mean_something(
        capsys: pytest.CaptureFixture[str], library_path: Path, lib: Library,
        shelf: dict[str, int]) -> None:
    """The records print as they always have: who added a photo only in albums photos are
    added to, a score only in a smart album, notices only on albums whose search ran."""
    lib.albums.create("Mine", [shelf["cat.jpg"]])
    lib.albums.create("Recent", query="after:2022")
    lib.close()
    mine = json.loads(run(capsys, library_path, "albums", "show", "Mine", "--json")[1])
    assert mine["notices"] == [] and [p["added_by"] for p in mine["photos"]] == ["user"]
    assert "score" not in mine["photos"][0]
    recent = json.loads(run(capsys, library_path, "albums", "show", "Recent", "--json")[1])
    assert all("added_by" not in p and 0 <= p["score"] <= 1 for p in recent["photos"])
    assert {p["id"] for p in recent["photos"]} == {shelf["beach1.jpg"], shelf["beach2.jpg"],
                                                   shelf["city.jpg"]}
    listed = {a["title"]: a for a in json.loads(run(capsys, library_path, "albums",
                                                    "--json")[1])}
    assert "notices" not in listed["Mine"] and isinstance(listed["Recent"]["notices"], list)
    assert "photos" not in listed["Mine"]
