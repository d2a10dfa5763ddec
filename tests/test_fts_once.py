"""A photo's full-text row is rebuilt once per change: the writes of one transaction mark the
photos whose words changed (``fts.mark``) and the rows are rebuilt as it commits, after the
photo's row and every stage's results are written; the example plugin's colour stage adds
its words without rebuilding anything itself (real library, real images, the example plugin
registered the way an installed one is; ``fts.refresh`` is wrapped to count the rebuilds)."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import fts, plugins
from glimpse_desktop.kernel.db import Connection, connect

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "glimpse-colors"


def _solid(path: Path, rgb: tuple[int, int, int]) -> Path:
    image = Image.new("RGB", (96, 64), rgb)
    for x in range(0, 96, 8):
        image.putpixel((x, 10), (255, 255, 255))
    image.save(path, "JPEG", quality=90)
    return path


@pytest.fixture
def rebuilt(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """How many times each photo's full-text row was rebuilt."""
    counts: Counter[int] = Counter()
    original = fts.refresh

    def counted(conn: Connection, photo_ids: Iterable[int]) -> None:
        ids = list(photo_ids)
        counts.update(ids)
        original(conn, ids)

    monkeypatch.setattr(fts, "refresh", counted)
    return counts


@contextlib.contextmanager
def installed_colours(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example plugin (examples/glimpse-colors) registered for the block."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    plugin = importlib.import_module("glimpse_colors.plugin")
    plugins.host().register(plugin, "colors-test")
    try:
        yield
    finally:
        plugins.host().unregister("colors-test")
        for name in [m for m in sys.modules if m.split(".")[0] == "glimpse_colors"]:
            del sys.modules[name]


@pytest.fixture
def colours(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with installed_colours(monkeypatch):
        yield


def _ids(lib: Library) -> dict[str, int]:
    return {Path(str(r["path"])).name: int(r["id"])
            for r in lib.reader().rows("SELECT id, path FROM photos")}


def _found(lib: Library, words: str) -> set[str]:
    return {Path(str(r["path"])).name for r in fts.search(lib.reader(), words)}


def test_an_index_rebuilds_each_new_photos_row_once_after_the_stages_wrote(
        library_path: Path, photo_dir: Path, colours: None, rebuilt: Counter[int]) -> None:
    _solid(photo_dir / "one.jpg", (210, 30, 30))
    _solid(photo_dir / "two.jpg", (25, 50, 200))
    with Library.open(library_path, workers=2) as lib:
        lib.add_root(photo_dir)
        report = lib.index()
        assert report.new == 2 and report.follow_up_problems == {}
        ids = _ids(lib)
        # Once each: the photo's row, its file's words and the colour stage's results were
        # all written before the one rebuild.
        assert rebuilt == Counter({ids["one.jpg"]: 1, ids["two.jpg"]: 1})
        assert _found(lib, "red") == {"one.jpg"}
        assert _found(lib, "blue") == {"two.jpg"}


def test_a_stage_that_catches_up_later_rebuilds_the_rows_it_gave_words(
        library_path: Path, photo_dir: Path, rebuilt: Counter[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _solid(photo_dir / "older.jpg", (200, 20, 25))
    with Library.open(library_path, workers=2) as lib:
        lib.add_root(photo_dir)
        lib.index()
        old = _ids(lib)["older.jpg"]
        assert _found(lib, "red") == set()
    assert rebuilt == Counter({old: 1})
    # The plugin is installed afterwards: the next index catches the photo up, and its
    # words reach the text index without the stage rebuilding the row itself.
    with installed_colours(monkeypatch), Library.open(library_path, workers=2) as lib:
        lib.index()
        assert rebuilt == Counter({old: 2})
        assert _found(lib, "red") == {"older.jpg"}


def test_marks_in_one_write_make_one_rebuild_each_as_it_commits(
        lib: Library, photo_dir: Path, rebuilt: Counter[int]) -> None:
    for name in ("a", "b", "c"):
        _solid(photo_dir / f"{name}.jpg", (100, 100, 100))
    lib.add_root(photo_dir)
    lib.index()
    ids = _ids(lib)
    a, b, c = ids["a.jpg"], ids["b.jpg"], ids["c.jpg"]
    rebuilt.clear()

    def write(conn: Connection) -> None:
        # Three modules of one change mark what they touched, some of it twice.
        fts.mark(conn, [a, b])
        fts.mark(conn, [b])
        # Words written after the marks are in the rebuilt rows: the rebuild is at the end.
        conn.execute("INSERT INTO photo_text(photo_id, field, source, value) "
                     "VALUES (?, 'description', 'test', 'lighthouse')", (b,))
        fts.mark(conn, [c, a])
        assert not rebuilt

    lib.writer.call(write)
    assert rebuilt == Counter({a: 1, b: 1, c: 1})
    assert _found(lib, "lighthouse") == {"b.jpg"}

    # A write that fails leaves nothing marked for the next one.
    def failing(conn: Connection) -> None:
        fts.mark(conn, [a])
        raise ValueError("refused")

    with pytest.raises(ValueError):
        lib.writer.call(failing)
    lib.writer.call(lambda conn: conn.execute("SELECT 1"))
    assert rebuilt == Counter({a: 1, b: 1, c: 1})

    # Outside a writer's transaction the row is rebuilt at once.
    conn = connect(lib.paths.library)
    try:
        fts.mark(conn, [c])
    finally:
        conn.close()
    assert rebuilt[c] == 2
