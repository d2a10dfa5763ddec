"""Search filters come from plugins: the built-in keys each from its feature, a plugin's own
filter over its own table (made by its migration), how repeated values combine, what the
search box suggests, and a plugin that gets a filter wrong, against real libraries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from glimpse_desktop import cli
from glimpse_desktop.api import Condition, FilterContext, Library, SearchFilter, filter_keys
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.kernel.messages import Notice
from glimpse_desktop.kernel.migrations import PluginMigration
from glimpse_desktop.kernel.plugins import host
from glimpse_desktop.search.engine import FILTER_MATCHES_NOTHING
from glimpse_desktop.search.filters import registered
from glimpse_desktop.search.query import QueryError, parse
from tests import imagegen as ig

BUILTIN_KEYS = {"after": "search", "before": "search", "tag": "search", "camera": "metadata",
                "lens": "metadata", "type": "metadata", "folder": "metadata",
                "person": "faces", "place": "places", "album": "albums"}


def _stars(context: FilterContext, value: str) -> Condition:
    return Condition("p.id IN (SELECT photo_id FROM stars_photo WHERE stars >= ?)",
                     (int(value),))


def _checked_stars(value: str) -> str:
    if value not in ("1", "2", "3", "4", "5"):
        raise QueryError(f"stars:{value} is not 1 to 5", code="stars.bad",
                         values={"value": value})
    return value


def _star_values(conn: Connection, limit: int) -> list[str]:
    return [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT stars FROM stars_photo ORDER BY stars DESC LIMIT ?", (limit,))]


class StarsPlugin:
    """A plugin as a third party writes one: its own table, and a filter over it."""

    @hookimpl
    def glimpse_migrations(self) -> list[PluginMigration]:
        return [PluginMigration("stars", 1, "CREATE TABLE stars_photo(photo_id INTEGER "
                                "PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE, "
                                "stars INTEGER NOT NULL)")]

    @hookimpl
    def glimpse_search_filters(self) -> list[SearchFilter]:
        return [SearchFilter("stars", "at least this many stars: 1 to 5", _stars,
                             values=_star_values, check=_checked_stars, repeat="last",
                             nothing="no photo has {value} stars or more")]


@pytest.fixture
def stars() -> Iterator[StarsPlugin]:
    plugin = StarsPlugin()
    host().register(plugin, name="stars")
    try:
        yield plugin
    finally:
        host().unregister("stars")


@pytest.fixture
def starred(stars: StarsPlugin, lib: Library, photo_dir: Path) -> Library:
    """Four photos (two Canon, two Nikon) with 1 to 4 stars."""
    for i in range(4):
        ig.write_jpeg(photo_dir / f"IMG_{i}.jpg", (48, 32), seed=i,
                      make="Canon" if i % 2 else "Nikon", model="EOS R6" if i % 2 else "Z6",
                      datetime_original=f"202{i}:06:01 10:00:00")
    lib.add_root(photo_dir)
    lib.index()
    ids = {Path(r["path"]).name: int(r["id"]) for r in
           lib.reader().rows("SELECT id, path FROM photos")}

    def write(c: Connection) -> None:
        for i in range(4):
            c.execute("INSERT INTO stars_photo(photo_id, stars) VALUES (?, ?)",
                      (ids[f"IMG_{i}.jpg"], i + 1))

    lib.writer.call(write)
    return lib


def _names(lib: Library, query: str) -> set[str]:
    return {Path(h.path).name for h in lib.search(query, limit=100).hits}


def test_each_built_in_filter_comes_from_its_feature() -> None:
    registered()
    by_plugin = {}
    for impl in host().hook.glimpse_search_filters.get_hookimpls():
        for search_filter in impl.function():
            by_plugin[search_filter.key] = impl.plugin_name
    assert {key: by_plugin.get(key) for key in BUILTIN_KEYS} == BUILTIN_KEYS
    assert set(BUILTIN_KEYS) <= set(filter_keys())
    assert filter_keys() == sorted(filter_keys())


def test_an_unknown_key_stays_a_plain_word() -> None:
    q = parse("re:union camera:canon")
    assert [t.text for t in q.terms] == ["re:union"]
    assert q.filters == [("camera", "canon")]


def test_a_plugins_filter_is_parsed_and_its_value_checked(stars: StarsPlugin) -> None:
    assert "stars" in filter_keys()
    assert parse("beach stars:4").filters == [("stars", "4")]
    with pytest.raises(QueryError, match="not 1 to 5") as caught:
        parse("stars:9")
    assert caught.value.code == "stars.bad" and caught.value.values["value"] == "9"
    # Without the plugin, the same word is only a word.
    host().unregister("stars")
    assert parse("stars:4").filters == []


def test_a_plugins_filter_narrows_search_over_its_own_table(starred: Library) -> None:
    lib = starred
    assert _names(lib, "stars:3") == {"IMG_2.jpg", "IMG_3.jpg"}
    # With the built-in filters: each key narrows further.
    assert _names(lib, "stars:3 camera:canon") == {"IMG_3.jpg"}
    # repeat="last": a later value replaces an earlier one.
    assert _names(lib, "stars:1 stars:4") == {"IMG_3.jpg"}
    # A smart album may be a saved search over a plugin's filter.
    lib.albums.create("Best", query="stars:4")
    assert _names(lib, "album:best") == {"IMG_3.jpg"}


def test_a_plugins_filter_that_matches_nothing_says_so(starred: Library) -> None:
    lib = starred
    lib.writer.call(lambda c: c.execute("DELETE FROM stars_photo WHERE stars = 4"))
    result = lib.search("stars:4")
    assert result.total == 0
    assert result.notices == [Notice(FILTER_MATCHES_NOTHING, "no photo has 4 stars or more",
                                     {"filter": "stars", "value": "4"})]


def test_search_help_lists_every_filter_a_plugin_included(
        stars: StarsPlugin, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["search", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    listed = text[text.index("filters (key:value"):]
    for key in [*BUILTIN_KEYS, "stars"]:
        assert f"  {key}:" in listed
    assert "at least this many stars: 1 to 5" in listed      # the plugin's own words
    assert "a date: 2023, 2023-06, 2023-06-14" in listed      # after:, from search's filters


def test_the_search_box_is_offered_a_plugins_values(starred: Library) -> None:
    words = starred.search_vocabulary()
    assert words["stars"] == ["4", "3", "2", "1"]
    assert {"person", "camera", "lens", "tag", "place", "album"} <= set(words)
    assert set(words["camera"]) == {"EOS R6", "Z6"}


def test_repeated_types_are_either_and_repeated_cameras_both(starred: Library) -> None:
    lib = starred
    assert len(_names(lib, "type:jpg type:png")) == 4      # either type
    assert _names(lib, "camera:canon camera:nikon") == set()   # no camera is both
    assert _names(lib, "after:2021 after:2023") == {"IMG_3.jpg"}   # the last bound holds


def test_a_plugin_cannot_take_over_a_built_in_key(lib: Library) -> None:
    impostor = SimpleNamespace(glimpse_search_filters=hookimpl(
        lambda: [SearchFilter("person", "anyone", lambda c, v: Condition("1")),
                 "not a filter"]))
    host().register(impostor, name="impostor")
    try:
        assert registered()["person"].help == "a name"
        problem = host().hook_problems.get("impostor.glimpse_search_filters", "")
        assert "person: is already given" in problem and "not a SearchFilter" in problem
    finally:
        host().unregister("impostor")
        host().hook_problems.pop("impostor.glimpse_search_filters", None)


def test_a_filter_key_must_be_a_lower_case_word() -> None:
    with pytest.raises(ValueError, match="lower-case word"):
        SearchFilter("Color", "x", lambda c, v: Condition("1"))
    with pytest.raises(ValueError, match="repeat"):
        SearchFilter("color", "x", lambda c, v: Condition("1"), repeat="some")  # type: ignore[arg-type]
