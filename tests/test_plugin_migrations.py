"""Plugins keep tables of their own (the ``glimpse_migrations`` hook): each plugin's steps run
once, after the app's, each in one transaction with its record; a broken plugin's step leaves
no trace and never keeps the library from opening. Real library files throughout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.db import connect
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.kernel.migrations import (
    LATEST_VERSION,
    PluginMigration,
    current_version,
    migrate,
    migrate_plugins,
    plugin_versions,
)
from glimpse_desktop.kernel.plugins import host

NOTES_V1 = PluginMigration("notes", 1, "CREATE TABLE notes_photo(photo_id INTEGER PRIMARY KEY "
                           "REFERENCES photos(id) ON DELETE CASCADE, note TEXT NOT NULL)",
                           why="a note per photo")
NOTES_V2 = PluginMigration("notes", 2, "ALTER TABLE notes_photo ADD COLUMN author TEXT; "
                           "CREATE INDEX notes_by_author ON notes_photo(author)")


class NotesPlugin:
    def __init__(self, steps: list[PluginMigration]) -> None:
        self.steps = steps

    @hookimpl
    def glimpse_migrations(self) -> list[PluginMigration]:
        return list(self.steps)


@pytest.fixture
def notes() -> Iterator[NotesPlugin]:
    plugin = NotesPlugin([NOTES_V1])
    host().register(plugin, name="notes")
    try:
        yield plugin
    finally:
        host().unregister("notes")
        host().hook_problems.pop("notes.glimpse_migrations", None)


def _tables(library_path: Path) -> set[str]:
    conn = connect(library_path)
    try:
        return {str(r[0]) for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    finally:
        conn.close()


def _versions(library_path: Path) -> dict[str, int]:
    conn = connect(library_path)
    try:
        return plugin_versions(conn)
    finally:
        conn.close()


def test_the_plugin_schema_table_is_the_next_app_migration(tmp_path: Path) -> None:
    conn = connect(tmp_path / "library.sqlite3", create=True)
    try:
        assert migrate(conn) == LATEST_VERSION
        assert conn.one("SELECT name FROM schema_migrations WHERE version = 6") \
            == "plugin-schema"
        assert plugin_versions(conn) == {}
    finally:
        conn.close()


def test_a_plugins_tables_are_made_when_the_library_opens(notes: NotesPlugin,
                                                          library_path: Path) -> None:
    Library.open(library_path).close()
    assert "notes_photo" in _tables(library_path)
    assert _versions(library_path) == {"notes": 1}
    # Opening again runs nothing twice (a second CREATE TABLE would fail).
    Library.open(library_path).close()
    assert _versions(library_path) == {"notes": 1}
    assert "notes.glimpse_migrations" not in host().hook_problems
    # A new release of the plugin adds a step: it runs on the next open, and only it.
    notes.steps.append(NOTES_V2)
    with Library.open(library_path) as lib:
        lib.writer.call(lambda c: c.execute(
            "INSERT INTO photos(path, folder, filename, size, mtime_ns, content_hash, "
            "added_at, updated_at) VALUES ('/x/a.jpg', '/x', 'a.jpg', 1, 1, 'h', 'now', 'now')"))
        photo = int(lib.reader().one("SELECT id FROM photos"))
        lib.writer.call(lambda c: c.execute("INSERT INTO notes_photo(photo_id, note, author) "
                                            "VALUES (?, 'sunset', 'ana')", (photo,)))
    assert _versions(library_path) == {"notes": 2}
    assert "notes_by_author" in _tables(library_path)


def test_a_failing_step_leaves_no_trace_and_the_library_opens(notes: NotesPlugin,
                                                              library_path: Path) -> None:
    Library.open(library_path).close()
    # Step 2 creates a table, then fails: the table must not stay behind.
    notes.steps.append(PluginMigration("notes", 2, "CREATE TABLE notes_extra(x); "
                                       "CREATE TABLE notes_photo(x)"))
    with Library.open(library_path) as lib:
        assert lib.photo_count() == 0         # open and usable
    assert _versions(library_path) == {"notes": 1}
    assert "notes_extra" not in _tables(library_path)
    problem = host().hook_problems["notes.glimpse_migrations"]
    assert "migration 2 failed" in problem and "notes_photo" in problem
    listed = {p.name: p for p in host().plugins()}
    assert listed["notes"].problem is not None and "migration 2" in listed["notes"].problem


def test_malformed_steps_are_reported_not_run(tmp_path: Path) -> None:
    conn = connect(tmp_path / "library.sqlite3", create=True)
    try:
        migrate(conn)
        gap = PluginMigration("gap", 2, "CREATE TABLE gap_t(x)")
        twice = [PluginMigration("twice", 1, "CREATE TABLE twice_a(x)"),
                 PluginMigration("twice", 1, "CREATE TABLE twice_b(x)")]
        report = migrate_plugins(conn, [gap, *twice, NOTES_V1, "not a migration"])  # type: ignore[list-item]
        assert set(report.failed) == {"gap", "twice", "str"}
        assert "1, 2, 3" in report.failed["gap"]
        assert report.applied == [("notes", 1)]
        assert plugin_versions(conn) == {"notes": 1}
        assert conn.one("SELECT count(*) FROM sqlite_master WHERE name LIKE 'gap_%' "
                        "OR name LIKE 'twice_%'") == 0
        # A library whose tables are newer than the plugin (it was downgraded): left alone.
        report = migrate_plugins(conn, [NOTES_V1, NOTES_V2])
        assert report.versions == {"notes": 2}
        report = migrate_plugins(conn, [NOTES_V1])
        assert report.versions == {"notes": 2} and "newer" in report.failed["notes"]
        assert current_version(conn) == LATEST_VERSION
    finally:
        conn.close()


def test_a_migration_record_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="whole number"):
        PluginMigration("notes", 0, "CREATE TABLE notes_t(x)")
    with pytest.raises(ValueError, match="no SQL"):
        PluginMigration("notes", 1, "  ")
    with pytest.raises(ValueError, match="names its plugin"):
        PluginMigration("", 1, "CREATE TABLE t(x)")
