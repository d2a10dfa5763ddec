"""Delete to the system trash and Recently deleted (glimpse_desktop/trash/): real files, the
real XDG trash in a temporary HOME, RAW+JPEG pairs and sidecars, rows that come back with
their albums, people and captions, a read-only drive's refusal, 30 days by a set clock, and
the CLI in real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from glimpse_desktop.api import Library, TrashError
from glimpse_desktop.kernel.photos import FLAG_FAVORITE
from glimpse_desktop.trash import system
from glimpse_desktop.trash.service import sidecars_of
from tests import imagegen as ig
from tests.conftest import eventually, ram_disk
from tests.test_pairs import shot

DAY = 86_400.0


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of the test's own: the trash every test uses is $XDG_DATA_HOME/Trash there."""
    home = tmp_path / "home"
    (home / ".local" / "share").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home


def trash_dir(home: Path) -> Path:
    return home / ".local" / "share" / "Trash"


def in_trash(home: Path) -> list[str]:
    """The names the home trash holds, as a file manager lists them."""
    files = trash_dir(home) / "files"
    return sorted(os.listdir(files)) if files.exists() else []


def listed(lib: Library) -> list[str]:
    return sorted(r.filename for r in lib.photo_page(limit=1000))


def pid(lib: Library, path: Path) -> int:
    value = lib.reader().one("SELECT id FROM photos WHERE path = ?", (str(path),))
    assert value is not None, path
    return int(value)


@pytest.fixture
def three(lib: Library, photo_dir: Path) -> Library:
    for n, name in enumerate(("a.jpg", "b.jpg", "c.jpg")):
        ig.write_jpeg(photo_dir / name, (320, 240), seed=n + 1,
                      datetime_original=f"2021:05:0{n + 1} 10:00:00")
    lib.add_root(photo_dir)
    lib.index()
    return lib


def test_trash_moves_the_file_to_the_xdg_trash_and_hides_the_photo_everywhere(
        three: Library, photo_dir: Path, home: Path) -> None:
    lib = three
    a = pid(lib, photo_dir / "a.jpg")
    album = lib.albums.create("Trip", [a, pid(lib, photo_dir / "b.jpg")])
    assert a in [h.photo_id for h in lib.search("a.jpg").hits]
    report = lib.trash.move([str(photo_dir / "a.jpg")])
    assert report.photo_ids == (a,) and not report.problems
    assert not (photo_dir / "a.jpg").exists()
    assert in_trash(home) == ["a.jpg"]
    info = (trash_dir(home) / "info" / "a.jpg.trashinfo").read_text()
    assert f"Path={photo_dir / 'a.jpg'}" in unquote(info)
    assert report.trashed[0].files[0].location == str(trash_dir(home) / "files" / "a.jpg")

    # Nowhere but Recently deleted: pages, counts, folders, albums, text search, missing.
    assert listed(lib) == ["b.jpg", "c.jpg"]
    assert lib.photo_count() == 2 and lib.photo_count(include_unavailable=True) == 2
    assert lib.status().photos == 2 and lib.status().missing == 0
    assert [f.photos for f in lib.folders()] == [2]
    assert sorted(p.filename for p in lib.folder_photos(str(photo_dir))) == ["b.jpg", "c.jpg"]
    assert lib.albums.photo_ids(album.id) == [pid(lib, photo_dir / "b.jpg")]
    assert a not in [h.photo_id for h in lib.search("a.jpg").hits]
    assert lib.forget_missing(dry_run=True) == []
    assert [d.id for d in lib.trash.deleted()] == [a]
    assert lib.trash.deleted()[0].path == str(photo_dir / "a.jpg")
    assert lib.trash.deleted()[0].days_left == 29

    # A scan does not make it a missing photo, and forget-missing leaves it.
    lib.index()
    assert lib.forget_missing() == []
    assert [d.id for d in lib.trash.deleted()] == [a]


def test_restore_puts_file_and_row_back_with_albums_people_captions_stars(
        three: Library, photo_dir: Path, home: Path) -> None:
    lib = three
    a = pid(lib, photo_dir / "a.jpg")
    album = lib.albums.create("Keepers", [a])
    lib.captions.set_text(a, "Grandma's garden")
    lib.people.name(_person_with_face(lib, a), "Ana")

    def flags() -> tuple[object, ...]:
        return tuple(lib.reader().row(
            "SELECT path, status, flags, rating FROM photos WHERE id = ?", (a,)).values())

    lib.writer.call(lambda c: c.execute(
        f"UPDATE photos SET flags = flags | {FLAG_FAVORITE}, rating = 4, "
        "rating_source = 'manual' WHERE id = ?", (a,)))
    before = flags()
    lib.trash.move([a])
    assert not (photo_dir / "a.jpg").exists()
    restored = lib.trash.restore([str(photo_dir / "a.jpg")])   # the path it had
    assert restored.restored == (a,) and not restored.problems
    assert (photo_dir / "a.jpg").exists() and in_trash(home) == []
    assert not (trash_dir(home) / "info" / "a.jpg.trashinfo").exists()
    assert flags() == before
    assert lib.albums.photo_ids(album.id) == [a]
    assert lib.captions.get(a) is not None and lib.captions.get(a).summary == "Grandma's garden"
    assert [p.id for p in lib.people.find("Ana")] == [a]
    assert listed(lib) == ["a.jpg", "b.jpg", "c.jpg"]
    assert lib.trash.deleted() == []
    assert a in [h.photo_id for h in lib.search("Grandma").hits]


def _person_with_face(lib: Library, photo_id: int) -> int:
    """A person with one face on the photo, written as the face stage writes them (the test
    photos are generated scenes, with no face for a detector to find)."""
    def write(c: object) -> int:
        conn = c  # type: ignore[assignment]
        conn.execute("INSERT INTO people(name, created_at, updated_at) VALUES "  # type: ignore[attr-defined]
                     "(NULL, '2024-01-01', '2024-01-01')")
        person = int(conn.raw.last_insert_rowid())  # type: ignore[attr-defined]
        conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO faces(photo_id, model_id, content_hash, x, y, w, h, landmarks, score, "
            "size_px, sharpness, yaw, seeds, person_id, assigned, created_at) SELECT id, 'm', "
            "content_hash, 0.3, 0.3, 0.2, 0.2, '[]', 0.9, 80, 1, 0, 1, ?, 'user', '2024' "
            "FROM photos WHERE id = ?", (person, photo_id))
        return person
    return int(lib.writer.call(write))  # type: ignore[arg-type]


def test_raw_pair_and_sidecars_go_and_come_back_together(lib: Library, photo_dir: Path,
                                                         home: Path) -> None:
    jpeg, dng = shot(photo_dir, "IMG_0001")
    (photo_dir / "IMG_0001.JPG.xmp").write_text(ig.xmp_packet("mine"))
    (photo_dir / "IMG_0001.xmp").write_text(ig.xmp_packet("lightroom's"))
    ig.write_jpeg(photo_dir / "IMG_0002.JPG", seed=5)
    (photo_dir / "IMG_0002.JPG.xmp").write_text(ig.xmp_packet("other"))
    lib.add_root(photo_dir)
    lib.index()
    assert listed(lib) == ["IMG_0001.JPG", "IMG_0002.JPG"]
    j = pid(lib, jpeg)
    raw_id = pid(lib, dng)
    report = lib.trash.move([j])
    assert {f.kind for f in report.trashed[0].files} == {"photo", "companion", "sidecar"}
    assert in_trash(home) == ["IMG_0001.DNG", "IMG_0001.JPG", "IMG_0001.JPG.xmp",
                              "IMG_0001.xmp"]
    assert sorted(os.listdir(photo_dir)) == ["IMG_0002.JPG", "IMG_0002.JPG.xmp"]
    lib.index()
    assert listed(lib) == ["IMG_0002.JPG"]

    assert lib.trash.restore([j]).restored == (j,)
    assert sorted(os.listdir(photo_dir)) == ["IMG_0001.DNG", "IMG_0001.JPG",
                                             "IMG_0001.JPG.xmp", "IMG_0001.xmp",
                                             "IMG_0002.JPG", "IMG_0002.JPG.xmp"]
    assert in_trash(home) == []
    assert listed(lib) == ["IMG_0001.JPG", "IMG_0002.JPG"]
    assert lib.reader().one("SELECT companion_of FROM photos WHERE id = ?", (raw_id,)) == j
    lib.index()
    assert listed(lib) == ["IMG_0001.JPG", "IMG_0002.JPG"]


def test_sidecar_of_a_shared_stem_stays_with_the_photo_it_belongs_to(tmp_path: Path) -> None:
    for name in ("a.jpg", "a.png", "a.xmp", "a.jpg.xmp", "b.jpg", "b.xmp"):
        (tmp_path / name).write_bytes(b"x")
    assert sidecars_of([str(tmp_path / "a.jpg")]) == [str(tmp_path / "a.jpg.xmp")]
    assert sidecars_of([str(tmp_path / "b.jpg")]) == [str(tmp_path / "b.xmp")]


def test_two_files_of_one_name_take_two_slots_and_each_comes_back(
        three: Library, photo_dir: Path, home: Path, tmp_path: Path) -> None:
    lib = three
    other = tmp_path / "Elsewhere"
    other.mkdir()
    ig.write_jpeg(other / "a.jpg", seed=42)
    lib.add_root(other)
    lib.index()
    first, second = pid(lib, photo_dir / "a.jpg"), pid(lib, other / "a.jpg")
    lib.trash.move([first, second])
    assert in_trash(home) == ["a.2.jpg", "a.jpg"]
    assert lib.trash.restore([second]).restored == (second,)
    assert (other / "a.jpg").exists() and not (photo_dir / "a.jpg").exists()
    assert lib.trash.restore([first]).restored == (first,)
    assert (photo_dir / "a.jpg").exists()


def test_a_read_only_drive_refuses_with_a_code_and_the_others_still_go(
        lib: Library, tmp_path: Path, photo_dir: Path, home: Path) -> None:
    with ram_disk(tmp_path / "card", "8m") as card:
        ig.write_jpeg(card / "on_card.jpg", seed=3)
        ig.write_jpeg(photo_dir / "home.jpg", seed=4)
        lib.add_root(card)
        lib.add_root(photo_dir)
        lib.index()
        subprocess.run(["mount", "-o", "remount,ro", str(card)], check=True)
        try:
            report = lib.trash.move([str(card / "on_card.jpg"), str(photo_dir / "home.jpg")])
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(card)], check=True)
        assert [p.code for p in report.problems] == ["trash.read_only"]
        assert report.problems[0].path == str(card / "on_card.jpg")
        assert [t.filename for t in report.trashed] == ["home.jpg"]
        assert (card / "on_card.jpg").exists()
        assert listed(lib) == ["on_card.jpg"]


def test_a_file_on_another_drive_goes_to_that_drives_own_trash(
        lib: Library, tmp_path: Path, home: Path) -> None:
    with ram_disk(tmp_path / "card", "8m") as card:
        ig.write_jpeg(card / "x.jpg", seed=3)
        lib.add_root(card)
        lib.index()
        x = pid(lib, card / "x.jpg")
        lib.trash.move([x])
        volume_trash = card / f".Trash-{os.getuid()}"
        assert os.listdir(volume_trash / "files") == ["x.jpg"]
        assert "Path=x.jpg" in (volume_trash / "info" / "x.jpg.trashinfo").read_text()
        assert in_trash(home) == []
        # Found again through the trash's own records even without the stored location.
        lib.writer.call(lambda c: c.execute("UPDATE trash_files SET location = NULL"))
        assert lib.trash.restore([x]).restored == (x,)
        assert (card / "x.jpg").exists()


def test_offline_and_unknown_photos_are_refused(three: Library, photo_dir: Path) -> None:
    lib = three
    b = pid(lib, photo_dir / "b.jpg")
    lib.writer.call(lambda c: c.execute("UPDATE photos SET status = 'offline' WHERE id = ?",
                                        (b,)))
    report = lib.trash.move([b, "no-such.jpg"])
    assert [p.code for p in report.problems] == ["trash.offline", "trash.unknown_photo"]
    assert (photo_dir / "b.jpg").exists()
    with pytest.raises(TrashError) as raised:
        lib.trash.move([])
    assert raised.value.code == "trash.no_photos"
    again = lib.trash.move([pid(lib, photo_dir / "c.jpg")])
    assert not lib.trash.move([again.photo_ids[0]]).trashed
    assert lib.trash.move([again.photo_ids[0]]).problems[0].code == "trash.already"


def test_restore_refuses_when_another_file_took_the_place(three: Library,
                                                          photo_dir: Path) -> None:
    lib = three
    a = pid(lib, photo_dir / "a.jpg")
    lib.trash.move([a])
    ig.write_jpeg(photo_dir / "a.jpg", seed=77)    # a new photo of the same name
    lib.index()
    report = lib.trash.restore([a])
    assert [p.code for p in report.problems] == ["trash.taken"]
    assert [d.id for d in lib.trash.deleted()] == [a]
    assert listed(lib) == ["a.jpg", "b.jpg", "c.jpg"]   # the new one, shown
    assert pid(lib, photo_dir / "a.jpg") != a


def test_thirty_days_on_the_row_is_forgotten_and_the_file_left_to_the_trash(
        three: Library, photo_dir: Path, home: Path) -> None:
    lib = three
    now = 1_800_000_000.0
    lib.trash.clock = lambda: now
    a, b = pid(lib, photo_dir / "a.jpg"), pid(lib, photo_dir / "b.jpg")
    lib.trash.move([a])
    lib.trash.clock = lambda: now + 10 * DAY
    lib.trash.move([b])
    assert [(d.id, d.days_left) for d in lib.trash.deleted()] == [(b, 30), (a, 20)]
    lib.trash.clock = lambda: now + 30 * DAY + 1
    assert [d.id for d in lib.trash.deleted()] == [b]
    tidy = lib.trash.tidy()
    assert tidy.expired == (a,) and tidy.returned == ()
    assert lib.reader().one("SELECT count(*) FROM photos WHERE id = ?", (a,)) == 0
    assert in_trash(home) == ["a.jpg", "b.jpg"]   # the system trash empties it by its rules
    assert lib.trash.tidy().expired == ()


def test_put_back_by_the_file_manager_is_taken_back(three: Library, photo_dir: Path,
                                                    home: Path) -> None:
    lib = three
    a = pid(lib, photo_dir / "a.jpg")
    lib.albums.create("Kept", [a])
    lib.trash.move([a])
    # What a file manager's "Restore" does: the file back, the info file gone.
    os.rename(trash_dir(home) / "files" / "a.jpg", photo_dir / "a.jpg")
    (trash_dir(home) / "info" / "a.jpg.trashinfo").unlink()
    lib.index()          # the scan finds it; the trash follow-up takes it back
    assert lib.trash.deleted() == []
    assert listed(lib) == ["a.jpg", "b.jpg", "c.jpg"]
    assert pid(lib, photo_dir / "a.jpg") == a
    assert lib.albums.photo_ids("Kept") == [a]


def test_a_drive_unplugged_and_back_leaves_recently_deleted_as_it_was(
        three: Library, photo_dir: Path, tmp_path: Path) -> None:
    lib = three
    a = pid(lib, photo_dir / "a.jpg")
    lib.trash.move([a])
    photo_dir.rename(tmp_path / "unplugged")        # the drive's folder is gone: offline
    lib.index()
    assert lib.status().offline == 2 and lib.status().missing == 0
    assert lib.trash.tidy().returned == ()
    assert [d.id for d in lib.trash.deleted()] == [a]
    (tmp_path / "unplugged").rename(photo_dir)
    lib.index()
    assert lib.trash.tidy().returned == ()
    assert listed(lib) == ["b.jpg", "c.jpg"] and [d.id for d in lib.trash.deleted()] == [a]
    assert lib.trash.restore([a]).restored == (a,)
    assert listed(lib) == ["a.jpg", "b.jpg", "c.jpg"]


def test_delete_permanently_removes_the_file_from_the_trash_and_the_row(
        three: Library, photo_dir: Path, home: Path) -> None:
    lib = three
    a, b = pid(lib, photo_dir / "a.jpg"), pid(lib, photo_dir / "b.jpg")
    lib.trash.move([a, b])
    assert lib.trash.purge([b, 999]).deleted == (b,)
    assert in_trash(home) == ["a.jpg"]
    assert not (trash_dir(home) / "info" / "b.jpg.trashinfo").exists()
    assert lib.reader().one("SELECT count(*) FROM photos WHERE id = ?", (b,)) == 0
    # Only what is in Recently deleted: a shown photo is never deleted for good.
    report = lib.trash.purge([pid(lib, photo_dir / "c.jpg")])
    assert report.deleted == () and report.problems[0].code == "trash.not_trashed"
    assert (photo_dir / "c.jpg").exists()
    assert lib.trash.purge().deleted == (a,)
    assert in_trash(home) == []


def test_keep_one_copy_gives_it_what_the_others_had(lib: Library, photo_dir: Path,
                                                    home: Path) -> None:
    ig.write_jpeg(photo_dir / "orig.jpg", (640, 480), seed=7)
    shutil.copy(photo_dir / "orig.jpg", photo_dir / "copy.jpg")
    lib.add_root(photo_dir)
    lib.index()
    kept, other = pid(lib, photo_dir / "orig.jpg"), pid(lib, photo_dir / "copy.jpg")
    groups = lib.duplicates(near=False)
    assert len(groups) == 1
    lib.albums.create("Holiday", [other])
    lib.captions.set_text(other, "At the lake")
    person = _person_with_face(lib, other)
    lib.people.name(person, "Bea")
    _person_with_face(lib, kept)   # the same face, found on the kept copy, nobody's yet
    lib.writer.call(lambda c: c.execute(
        "UPDATE faces SET person_id = NULL, assigned = NULL WHERE photo_id = ?", (kept,)))
    lib.writer.call(lambda c: c.execute(
        f"UPDATE photos SET rating = 5, rating_source = 'manual', flags = flags | "
        f"{FLAG_FAVORITE} WHERE id = ?", (other,)))
    report = lib.trash.keep(kept, [other])
    moved = report.moved[0]
    assert moved.albums == ("Holiday",) and moved.people == ("Bea",)
    assert moved.caption and moved.rating == 5 and moved.favorite
    assert report.trash.photo_ids == (other,)
    assert lib.albums.photo_ids("Holiday") == [kept]
    assert [p.id for p in lib.people.find("Bea")] == [kept]
    assert lib.captions.get(kept).summary == "At the lake"  # type: ignore[union-attr]
    row = lib.photo(kept)
    assert row is not None and row.rating == 5 and row.favorite
    assert in_trash(home) == ["copy.jpg"]
    assert lib.trash.deleted()[0].kept_id == kept
    assert lib.trash.deleted()[0].moved == moved
    assert lib.duplicates(near=False) == []
    with pytest.raises(TrashError):
        lib.trash.keep(kept, [kept])


def test_the_watcher_leaves_a_trashed_photo_in_recently_deleted(
        three: Library, photo_dir: Path, home: Path) -> None:
    lib = three
    a = pid(lib, photo_dir / "a.jpg")
    album = lib.albums.create("Seen", [a])
    with lib.watcher(settle=0.3, poll=0.05) as watcher:
        assert watcher.wait_idle(30)
        lib.trash.move([a])
        assert watcher.wait_idle(30)
        assert eventually(lambda: [d.id for d in lib.trash.deleted()] == [a])
        assert lib.forget_missing() == [] and listed(lib) == ["b.jpg", "c.jpg"]
        lib.trash.restore([a])
        assert eventually(lambda: listed(lib) == ["a.jpg", "b.jpg", "c.jpg"])
        assert watcher.wait_idle(30)
    assert pid(lib, photo_dir / "a.jpg") == a
    assert lib.albums.photo_ids(album.id) == [a]
    assert lib.reader().one("SELECT count(*) FROM photos") == 3


# ---------------------------------------------------------------------------- the CLI


def glimpse(library: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home),
           "XDG_DATA_HOME": str(home / ".local" / "share"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run([sys.executable, "-m", "glimpse_desktop", "--library",
                           str(library), *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


@pytest.fixture
def cli_lib(three: Library, library_path: Path) -> Iterator[Path]:
    three.close()
    yield library_path


def test_cli_trash_list_restore_and_purge(cli_lib: Path, photo_dir: Path, home: Path) -> None:
    done = glimpse(cli_lib, home, "trash", str(photo_dir / "a.jpg"), str(photo_dir / "b.jpg"),
                   "-q")
    assert done.returncode == 0, done.stderr
    assert "Moved 2 photos to the trash" in done.stderr
    assert in_trash(home) == ["a.jpg", "b.jpg"]
    listing = glimpse(cli_lib, home, "deleted", "--json")
    assert listing.returncode == 0, listing.stderr
    entries = json.loads(listing.stdout)
    assert sorted(e["path"] for e in entries) == [str(photo_dir / "a.jpg"),
                                                   str(photo_dir / "b.jpg")]
    assert {e["days_left"] for e in entries} == {29}
    back = glimpse(cli_lib, home, "restore", str(photo_dir / "a.jpg"), "--json")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["paths"] == [str(photo_dir / "a.jpg")]
    assert (photo_dir / "a.jpg").exists()
    refused = glimpse(cli_lib, home, "trash", "--purge", str(photo_dir / "b.jpg"))
    assert refused.returncode != 0 and "--yes" in refused.stderr
    assert in_trash(home) == ["b.jpg"]
    gone = glimpse(cli_lib, home, "trash", "--purge", str(photo_dir / "b.jpg"), "--yes")
    assert gone.returncode == 0, gone.stderr
    assert in_trash(home) == []
    missing = glimpse(cli_lib, home, "trash", str(photo_dir / "nope.jpg"))
    assert missing.returncode == 1 and "nope.jpg" in missing.stderr


def test_cli_duplicates_keep_suggested(lib: Library, library_path: Path, photo_dir: Path,
                                       home: Path) -> None:
    ig.write_jpeg(photo_dir / "big.jpg", (640, 480), seed=7)
    shutil.copy(photo_dir / "big.jpg", photo_dir / "same.jpg")
    lib.add_root(photo_dir)
    lib.index()
    same = pid(lib, photo_dir / "same.jpg")
    lib.albums.create("Lake", [same])
    lib.close()
    listed_json = glimpse(library_path, home, "duplicates", "--exact", "--json")
    assert listed_json.returncode == 0, listed_json.stderr
    members = json.loads(listed_json.stdout)[0]["members"]
    assert {m["id"]: m["holdings"]["albums"] for m in members}[same] == ["Lake"]
    plain = glimpse(library_path, home, "duplicates", "--exact")
    assert "[album Lake]" in plain.stdout
    asked = glimpse(library_path, home, "duplicates", "--exact", "--keep-suggested")
    assert asked.returncode != 0 and "--yes" in asked.stderr
    done = glimpse(library_path, home, "duplicates", "--exact", "--keep-suggested", "--yes",
                   "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result) == 1 and len(result[0]["trash"]["trashed"]) == 1
    assert len(os.listdir(photo_dir)) == 1 and len(in_trash(home)) == 1


def test_system_module_reads_a_recycle_bin_record(tmp_path: Path) -> None:
    # Windows 10's $I format, version 2: the original path comes back from it.
    original = "C:\\Users\\ana\\Pictures\\IMG_1.JPG"
    encoded = (original + "\x00").encode("utf-16-le")
    import struct

    record = tmp_path / "$IABC123.JPG"
    record.write_bytes(struct.pack("<qqqi", 2, 1234, 133_000_000_000_000_000,
                                   len(original) + 1) + encoded)
    parsed = system.parse_recycle_record(str(record))
    assert parsed is not None and parsed[1] == original
    assert 2022 < 1970 + parsed[0] / (365.25 * DAY) < 2023


def test_a_rejected_copy_is_not_suggested_and_its_reject_stays_with_it(
        lib: Library, photo_dir: Path, home: Path) -> None:
    # The larger copy is the better one by its pixels, but the person rejected it.
    ig.write_jpeg(photo_dir / "large.jpg", (640, 480), seed=7)
    shutil.copy(photo_dir / "large.jpg", photo_dir / "twin.jpg")
    lib.add_root(photo_dir)
    lib.index()
    large, twin = pid(lib, photo_dir / "large.jpg"), pid(lib, photo_dir / "twin.jpg")
    first = lib.duplicates(near=False)[0].best.id
    rejected, chosen = first, (twin if first == large else large)
    lib.judge.rate([rejected], 4)
    lib.judge.toggle_reject([rejected])
    lib.judge.toggle_favorite([rejected])
    [group] = lib.duplicates(near=False)
    assert group.best.id == chosen                      # the copy not turned down
    report = lib.trash.keep(group.best.id, [m.id for m in group.members[1:]])
    assert report.trash.photo_ids == (rejected,)
    kept = lib.judge.judgement(chosen)
    # Its stars and heart were about the picture: they stay with the copy kept. Its reject
    # was about that copy, which is gone: the copy kept is not rejected.
    assert kept.rating == 4 and kept.rating_source == "manual" and kept.favorite
    assert not kept.rejected
    lib.trash.restore([rejected])
    back = lib.judge.judgement(rejected)
    assert back.rejected and back.favorite and back.rating == 4
