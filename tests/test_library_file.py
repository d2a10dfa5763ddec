"""Only `add` makes a library: every other verb, given a path that is not a library (missing,
empty, a folder, not SQLite, in a folder that does not exist), says what is wrong and leaves
the path exactly as it was."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.api.library import Library, LibraryError, NoLibraryError
from glimpse_desktop.kernel.db import connect
from glimpse_desktop.kernel.paths import LibraryPaths
from tests.conftest import unprivileged

# Every verb but `add`, with the arguments it needs to get as far as opening the library.
VERBS: list[list[str]] = [
    ["status"], ["status", "--json"], ["errors"], ["errors", "--json"],
    ["text-search", "beach"], ["search", "beach"], ["similar", "1"], ["info", "1"],
    ["places"], ["tag"], ["writeback", "--dry-run"], ["caption", "--dry-run"],
    ["config"], ["config", "get", "index.workers"], ["duplicates"],
    ["sort-by-tag", "--output", "OUT", "--dry-run"], ["events"], ["home"], ["memories"],
    ["export", "--to", "OUT"], ["organize", "--to", "OUT", "--dry-run"],
    ["thumbnail", "1"], ["forget-missing", "--dry-run"], ["remove", "/nowhere"],
    ["index"], ["watch", "--settle", "0.1"],
    ["albums", "list"], ["albums", "show", "1"], ["albums", "rebuild"],
    ["albums", "delete", "1"], ["people", "list"], ["people", "show", "1"],
    ["people", "name", "1", "Ann"], ["people", "update"], ["people", "recluster"],
    ["models", "use", "clip-vit-b-32"],
    ["people"], ["albums"],
]


def _fingerprint(path: Path) -> tuple[bool, str]:
    if not path.exists():
        return False, ""
    if path.is_dir():
        return True, repr(sorted(os.listdir(path)))
    return True, hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> list[str]:
    if not path.parent.exists():
        return ["(no folder)"]
    return sorted(p.name for p in path.parent.iterdir() if p != path)


def _run(capsys: pytest.CaptureFixture[str], library: Path, args: list[str],
         out_dir: Path) -> tuple[int, str]:
    args = [str(out_dir) if a == "OUT" else a for a in args]
    code = cli.main(["--library", str(library), *args])
    _, err = capsys.readouterr()
    return code, err


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "folder", "missing-parent"])
def test_no_verb_but_add_makes_or_changes_a_library(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str) -> None:
    where = tmp_path / "given"
    where.mkdir()
    library = where / "lib.sqlite3"
    if kind == "empty":
        library.touch()
    elif kind == "text":
        library.write_text("my shopping list\n")
    elif kind == "folder":
        library.mkdir()
    elif kind == "missing-parent":
        library = where / "typo" / "lib.sqlite3"
    before, around = _fingerprint(library), _siblings(library)
    expected = {"missing": "no library", "missing-parent": "no library",
                "empty": "is empty: it is not a Glimpse library",
                "text": "is not a Glimpse library (it is not a SQLite database)",
                "folder": "is a folder, not a library file"}[kind]
    for args in VERBS:
        code, err = _run(capsys, library, args, tmp_path / "out")
        assert code != 0, args
        assert expected in err, (args, err)
        assert "Traceback" not in err and "disk I/O error" not in err
        assert _fingerprint(library) == before, args
        assert _siblings(library) == around, args  # no -wal, -shm or .bak beside it
        assert library.is_dir() == (kind == "folder")
    assert not (tmp_path / "out").exists()
    if kind in ("missing", "missing-parent"):
        # The terminal says how to make one.
        assert "glimpse add FOLDER" in err


@pytest.mark.parametrize("kind", ["empty", "text", "folder"])
def test_doctor_says_what_the_file_is(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      kind: str) -> None:
    library = tmp_path / "lib.sqlite3"
    if kind == "empty":
        library.touch()
    elif kind == "text":
        library.write_text("not a database")
    else:
        library.mkdir()
    before = _fingerprint(library)
    code = cli.main(["--library", str(library), "doctor"])
    out, err = capsys.readouterr()
    assert code == 0, err
    said = {"empty": "is empty", "text": "is not a Glimpse library",
            "folder": "is a folder, not a library file"}[kind]
    assert said in out and "disk I/O error" not in out + err
    assert _fingerprint(library) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib.sqlite3"]


def test_add_makes_a_library_in_an_empty_file_and_refuses_others(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, photo_dir: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    assert cli.main(["--library", str(empty), "add", str(photo_dir)]) == 0
    capsys.readouterr()
    assert cli.main(["--library", str(empty), "status"]) == 0
    text = tmp_path / "notes.txt"
    text.write_text("keep me")
    folder = tmp_path / "folder"
    folder.mkdir()
    for path, said in ((text, "not a Glimpse library"), (folder, "is a folder")):
        assert cli.main(["--library", str(path), "add", str(photo_dir)]) == 1
        assert said in capsys.readouterr().err
    assert text.read_text() == "keep me" and list(folder.iterdir()) == []


def test_opening_for_reading_never_creates(tmp_path: Path) -> None:
    """The core rule beneath the CLI: Library(create=False) and connect(readonly=True) refuse
    what is not already a library, and change nothing."""
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    with pytest.raises(NoLibraryError) as missing:
        Library(LibraryPaths.resolve(tmp_path / "none.sqlite3"), create=False)
    assert missing.value.code == "library.missing"
    with pytest.raises(LibraryError) as refused:
        Library(LibraryPaths.resolve(empty), create=False)
    assert refused.value.code == "library.empty"
    with pytest.raises(LibraryError, match="is empty"):
        connect(empty, readonly=True)
    with pytest.raises(LibraryError, match="is empty"):
        connect(empty, create=False)
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.sqlite3"]


def test_a_library_in_a_folder_nobody_may_write_is_refused_in_words() -> None:
    # Outside pytest's tmp_path, whose parents are private to root.
    with tempfile.TemporaryDirectory(prefix="glimpse-perm-") as tmp:
        locked = Path(tmp) / "locked"
        locked.mkdir()
        os.chmod(tmp, 0o755)
        os.chmod(locked, 0o555)
        photos = Path(tmp) / "photos"
        photos.mkdir()
        os.chmod(photos, 0o755)
        report = Path(tmp) / "said.txt"
        os.chmod(tmp, 0o777)

        def attempt() -> None:
            import contextlib
            import io
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                code = cli.main(["--library", str(locked / "lib.sqlite3"), "add", str(photos)])
            report.write_text(f"{code}\n{err.getvalue()}")

        assert unprivileged(attempt) == 0
        code, said = report.read_text().split("\n", 1)
        assert code == "1"
        assert "read-only for you" in said and "Traceback" not in said
        assert list(locked.iterdir()) == []
