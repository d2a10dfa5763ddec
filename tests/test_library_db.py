"""The connection factory, migrations, the writer and embedding tables, on real files."""

from __future__ import annotations

import os
from pathlib import Path

import apsw
import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import vectors
from glimpse_desktop.kernel.db import LibraryError, Writer, connect, versions
from glimpse_desktop.kernel.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    LibraryTooNewError,
    Migration,
    NotALibraryError,
    current_version,
    migrate,
)


def test_connection_has_wal_foreign_keys_vec_and_fts5(tmp_path: Path) -> None:
    conn = connect(tmp_path / "a.sqlite3")
    assert conn.one("PRAGMA journal_mode") == "wal"
    assert conn.one("PRAGMA foreign_keys") == 1
    assert conn.one("PRAGMA busy_timeout") == 10_000
    assert str(conn.one("SELECT vec_version()")).startswith("v")
    facts = versions(conn)
    assert facts["fts5"] == "yes"
    assert facts["driver"].startswith("apsw")
    conn.close()


def test_fresh_library_is_migrated_to_latest(tmp_path: Path) -> None:
    conn = connect(tmp_path / "a.sqlite3")
    assert migrate(conn) == LATEST_VERSION
    assert conn.one("PRAGMA user_version") == LATEST_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"photos", "roots", "volumes", "errors", "photo_text", "photos_fts",
            "embedding_spaces", "schema_migrations", "settings"} <= tables
    # Re-opening is a no-op, not a second migration.
    assert migrate(conn) == LATEST_VERSION
    assert conn.one("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)
    conn.close()


def _v2(conn: object) -> None:
    from glimpse_desktop.kernel.db import Connection

    assert isinstance(conn, Connection)
    conn.execute("ALTER TABLE photos ADD COLUMN stars_v2 INTEGER")


def test_upgrade_copies_the_file_first_and_records_the_version(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    conn = connect(path)
    migrate(conn)
    conn.execute("INSERT INTO settings(key, value) VALUES ('k', 'v')")
    upgraded = (*MIGRATIONS, Migration(LATEST_VERSION + 1, "test", "why", _v2))
    assert migrate(conn, upgraded) == LATEST_VERSION + 1
    backups = list(tmp_path.glob("a.sqlite3.v*.bak"))
    assert len(backups) == 1
    old = connect(backups[0])
    assert current_version(old) == LATEST_VERSION
    assert old.one("SELECT value FROM settings WHERE key='k'") == "v"
    old.close()
    cols = {r["name"] for r in conn.rows("PRAGMA table_info(photos)")}
    assert "stars_v2" in cols
    conn.close()


def test_failed_migration_leaves_no_trace(tmp_path: Path) -> None:
    conn = connect(tmp_path / "a.sqlite3")
    migrate(conn)

    def broken(c: object) -> None:
        from glimpse_desktop.kernel.db import Connection

        assert isinstance(c, Connection)
        c.execute("CREATE TABLE half_done(x)")
        c.execute("THIS IS NOT SQL")

    with pytest.raises(apsw.SQLError):
        migrate(conn, (*MIGRATIONS, Migration(LATEST_VERSION + 1, "broken", "why", broken)))
    assert current_version(conn) == LATEST_VERSION
    assert conn.one("SELECT count(*) FROM sqlite_master WHERE name='half_done'") == 0
    conn.close()


def test_newer_library_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    conn = connect(path)
    migrate(conn)
    conn.execute("INSERT INTO schema_migrations(version, name, applied_at) "
                 "VALUES (999, 'from the future', 'x')")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(LibraryTooNewError, match=r"newer version of Glimpse.*999"):
        Library.open(path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.bak"))


def test_a_foreign_sqlite_file_is_not_migrated(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = connect(path)
    conn.execute("CREATE TABLE invoices(id INTEGER PRIMARY KEY)")
    with pytest.raises(NotALibraryError):
        migrate(conn)
    assert conn.one("SELECT count(*) FROM sqlite_master WHERE name='photos'") == 0
    conn.close()


def test_a_file_that_is_not_sqlite_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a database " * 100)
    with pytest.raises(LibraryError, match="not a SQLite database"):
        Library.open(path)
    assert path.read_text().startswith("hello")


def test_writer_commits_and_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    conn = connect(path)
    migrate(conn)
    writer = Writer(path)
    writer.call(lambda c: c.execute("INSERT INTO settings VALUES ('a', '1')"))

    def fails(c: object) -> None:
        from glimpse_desktop.kernel.db import Connection

        assert isinstance(c, Connection)
        c.execute("INSERT INTO settings VALUES ('b', '2')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        writer.call(fails)
    # A reader on its own connection sees the commit and not the rolled-back write.
    assert conn.rows("SELECT key FROM settings ORDER BY key") == [{"key": "a"}]
    writer.close()
    conn.close()


def test_embedding_space_per_model_with_nearest_neighbours(tmp_path: Path) -> None:
    conn = connect(tmp_path / "a.sqlite3")
    migrate(conn)
    with conn.transaction():
        table = vectors.ensure_space(conn, "clip/ViT-B-32", kind="image", dim=4)
        assert vectors.ensure_space(conn, "clip/ViT-B-32", kind="image", dim=4) == table
        other = vectors.ensure_space(conn, "clip/ViT-L-14", kind="image", dim=3)
        assert other != table
        vectors.put(conn, table, 1, [1, 0, 0, 0])
        vectors.put(conn, table, 2, [0, 1, 0, 0])
        vectors.put(conn, table, 3, [0.9, 0.1, 0, 0])
    found = vectors.nearest(conn, table, [1, 0, 0, 0], k=2)
    assert [i for i, _ in found] == [1, 3]
    assert found[0][1] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="registered"):
        vectors.ensure_space(conn, "clip/ViT-B-32", kind="image", dim=8)
    conn.close()


def test_library_dir_is_created_and_cache_sits_beside_an_explicit_library(
        tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "mine.sqlite3"
    with Library.open(path) as lib:
        assert path.is_file()
        assert lib.paths.cache == tmp_path / "deep" / "er" / "mine.cache"


def test_environment_variable_chooses_the_library(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env.sqlite3"
    monkeypatch.setenv("GLIMPSE_LIBRARY", str(path))
    with Library.open() as lib:
        assert lib.paths.library == path
    assert os.path.exists(path)


def test_a_foreign_database_is_left_exactly_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "accounts.db"
    other = apsw.Connection(str(path))
    other.execute("CREATE TABLE invoices(id INTEGER PRIMARY KEY); INSERT INTO invoices VALUES (1)")
    other.close()
    before = path.read_bytes()
    with pytest.raises(NotALibraryError, match="not a Glimpse library"):
        Library.open(path)
    assert path.read_bytes() == before  # not even switched to WAL
    assert not os.path.exists(f"{path}-wal")


def test_two_processes_opening_a_new_library_at_once(tmp_path: Path) -> None:
    import threading

    # Several rounds: the window between two processes' first looks at a new file is small.
    for round_ in range(10):
        path = tmp_path / f"race{round_}.sqlite3"
        barrier = threading.Barrier(4)
        failures: list[BaseException] = []

        def open_it(path: Path = path, barrier: threading.Barrier = barrier,
                    failures: list[BaseException] = failures) -> None:
            barrier.wait()
            try:
                Library.open(path).close()
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        conn = connect(path)
        assert current_version(conn) == LATEST_VERSION
        assert conn.one("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)
        conn.close()


def test_unusable_library_locations_say_why(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="is a folder, not a library file"):
        Library.open(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LibraryError, match="cannot create the library folder"):
        Library.open(blocker / "sub" / "lib.sqlite3")
