"""The stage engine: a stage contributed by a plugin runs on photos being read (the pipeline)
and catches up on photos read before the plugin was there, through the same stage object."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import plugins
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.decode import Decoded, SizeRequest
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.kernel.progress import Progress
from glimpse_desktop.kernel.stages import BacklogPhoto, StageBase, owed, owed_count
from tests.conftest import assert_consistent
from tests.imagegen import write_jpeg

# The plugin's own table, as its migration would make it.
TABLE = ("CREATE TABLE IF NOT EXISTS probe_photo(photo_id INTEGER PRIMARY KEY "
         "REFERENCES photos(id) ON DELETE CASCADE, content_hash TEXT NOT NULL, "
         "result TEXT NOT NULL)")
DONE = ("EXISTS (SELECT 1 FROM probe_photo d WHERE d.photo_id = p.id "
        "AND d.content_hash = p.content_hash)")


class Probe(StageBase):
    """A third party's batch stage: the photo's size on the workers, turned into text on the
    model thread (so a stored result proves both halves ran), stored in its own table."""

    name = "probe"
    label = "probing photos"
    batched = True

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse           # content hashes it fails on
        self.processed: list[str] = []
        self._lock = threading.Lock()

    def wants(self) -> SizeRequest:
        return SizeRequest(long_edge=64)

    def process(self, content_hash: str, decoded: Decoded) -> tuple[str, int]:
        with self._lock:
            self.processed.append(content_hash)
        if content_hash in self.refuse:
            raise ValueError("not a photo this probe can take")
        return content_hash, max(decoded.image.size)

    def process_batch(self, items: list[Any]) -> list[Any]:
        # Pixels at least as large as the stage asked for, whichever path decoded them.
        return [f"{content_hash[:8]}:{'ok' if edge >= 64 else edge}"
                for content_hash, edge in items]

    def write(self, conn: Connection, photo_id: int, result: Any) -> None:
        conn.execute("INSERT OR REPLACE INTO probe_photo(photo_id, content_hash, result) "
                     "SELECT id, content_hash, ? FROM photos WHERE id = ?", (result, photo_id))

    def backlog(self, conn: Connection) -> list[BacklogPhoto]:
        return owed(conn, self.name, DONE)

    def backlog_count(self, conn: Connection) -> int:
        return owed_count(conn, self.name, DONE)


class ProbePlugin:
    """An installed plugin contributing the stage, and hearing of deleted photos."""

    def __init__(self, stage: object) -> None:
        self.stage = stage
        self.deleted: list[int] = []

    @hookimpl
    def glimpse_stages(self, library: Any) -> list[Any]:
        return [self.stage]

    @hookimpl
    def glimpse_photos_deleted(self, photo_ids: list[int]) -> None:
        self.deleted += photo_ids


@contextlib.contextmanager
def installed(plugin: ProbePlugin) -> Iterator[ProbePlugin]:
    host = plugins.host()
    host.register(plugin, name="probe-plugin")
    try:
        yield plugin
    finally:
        host.unregister("probe-plugin")


def _open(library_path: Path) -> Library:
    lib = Library.open(library_path, workers=2)
    lib.writer.call(lambda c: c.execute(TABLE))
    return lib


def _hashes(lib: Library) -> dict[str, str]:
    return {str(r["filename"]): str(r["content_hash"])
            for r in lib.reader().rows("SELECT filename, content_hash FROM photos")}


def _results(lib: Library) -> dict[str, str]:
    return {str(r["filename"]): str(r["result"]) for r in lib.reader().rows(
        "SELECT p.filename, d.result FROM probe_photo d JOIN photos p ON p.id = d.photo_id")}


def test_a_plugin_stage_runs_on_new_photos_and_catches_up_once_on_old_ones(
        library_path: Path, photo_dir: Path) -> None:
    write_jpeg(photo_dir / "old.jpg", size=(640, 480), seed=1)
    with _open(library_path) as lib:
        lib.add_root(photo_dir)
        assert lib.index().new == 1
    stage = Probe()
    with installed(ProbePlugin(stage)), _open(library_path) as lib:
        write_jpeg(photo_dir / "new.jpg", size=(640, 480), seed=2)
        events: list[Progress] = []
        report = lib.index(progress=events.append)
        assert report.new == 1 and report.errors == 0
        hashes = _hashes(lib)
        # Both photos went through process and process_batch, each once: the new one in the
        # pipeline as it was read, so catch-up owed the old one alone.
        assert _results(lib) == {name: f"{h[:8]}:ok" for name, h in hashes.items()}
        assert sorted(stage.processed) == sorted(hashes.values())
        probing = [e.total for e in events if e.phase == "probing photos"]
        assert probing and set(probing) == {1}
        assert stage.backlog_count(lib.reader()) == 0

        events.clear()
        again = lib.index(progress=events.append)
        assert again.new == again.updated == 0
        assert sorted(stage.processed) == sorted(hashes.values())     # nothing twice
        assert not [e for e in events if e.phase == "probing photos"]
        caught = lib.catch_up()
        assert caught.stage("probe").done == 0 and caught.stage("probe").remaining == 0
        assert_consistent(lib)


def test_catch_up_records_a_stage_failure_under_its_name_and_leaves_changed_files(
        library_path: Path, photo_dir: Path) -> None:
    for seed, name in enumerate(("a.jpg", "b.jpg", "c.jpg")):
        write_jpeg(photo_dir / name, size=(320, 240), seed=seed)
    with _open(library_path) as lib:
        lib.add_root(photo_dir)
        lib.index()
        hashes = _hashes(lib)
    # c.jpg is edited after it was read: catch-up must not store results of the new bytes
    # under the old content (the next scan reads it, every stage included).
    write_jpeg(photo_dir / "c.jpg", size=(320, 240), seed=9)
    stage = Probe(refuse=frozenset({hashes["a.jpg"]}))
    with installed(ProbePlugin(stage)), _open(library_path) as lib:
        caught = lib.catch_up().stage("probe")
        assert (caught.done, caught.errors, caught.skipped) == (1, 1, 1)
        assert _results(lib) == {"b.jpg": f"{hashes['b.jpg'][:8]}:ok"}
        (error,) = lib.errors(stage="probe")
        assert error.path.endswith("a.jpg") and "can take" in error.reason
        # The failed photo is not owed again until it changes; the changed one still is.
        assert caught.remaining == 1
        processed = len(stage.processed)
        assert lib.catch_up().stage("probe").errors == 0
        assert len(stage.processed) == processed
        report = lib.index()
        assert report.updated == 1
        assert set(_results(lib)) == {"b.jpg", "c.jpg"}
        assert stage.backlog_count(lib.reader()) == 0
        assert lib.catch_up().stage("probe").done == 0


def test_a_stage_that_cannot_run_is_left_out_and_deleted_photos_are_heard_of(
        library_path: Path, photo_dir: Path) -> None:
    write_jpeg(photo_dir / "a.jpg", size=(320, 240), seed=1)
    plugin = ProbePlugin(object())       # no name, no methods: not a stage
    with installed(plugin), _open(library_path) as lib:
        assert {s.name for s in lib.indexer.stages} <= {"thumbnail", "clip", "faces"}
        lib.add_root(photo_dir)
        assert lib.index().new == 1
        photo_id = int(lib.reader().one("SELECT id FROM photos"))
        (photo_dir / "a.jpg").unlink()
        lib.index()
        assert [p.path for p in lib.forget_missing()] == [str(photo_dir / "a.jpg")]
        assert plugin.deleted == [photo_id]
        assert_consistent(lib)


class ThreadProbe(Probe):
    """A batch stage that notes the thread each of its batches ran on, and whether another
    model's batch was running at the same time."""

    running = 0                    # batches of any ThreadProbe running now
    overlapped = False
    guard = threading.Lock()

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.threads: list[int] = []

    def process_batch(self, items: list[Any]) -> list[Any]:
        with ThreadProbe.guard:
            ThreadProbe.running += 1
            ThreadProbe.overlapped |= ThreadProbe.running > 1
        try:
            self.threads.append(threading.get_ident())
            # Long enough for another stage's batch to start meanwhile, were it allowed to.
            threading.Event().wait(0.02)
            return super().process_batch(items)
        finally:
            with ThreadProbe.guard:
                ThreadProbe.running -= 1

    def write(self, conn: Connection, photo_id: int, result: Any) -> None:
        return None

    def backlog(self, conn: Connection) -> list[BacklogPhoto]:
        return []


class TwoStages:
    def __init__(self, *stages: object) -> None:
        self.stages = list(stages)

    @hookimpl
    def glimpse_stages(self, library: Any) -> list[Any]:
        return self.stages


def test_each_batched_stage_runs_on_one_long_lived_thread_of_its_own_one_at_a_time(
        library_path: Path, photo_dir: Path) -> None:
    for i in range(6):
        write_jpeg(photo_dir / f"p{i}.jpg", size=(320, 240), seed=i)
    first, second = ThreadProbe("probe-a"), ThreadProbe("probe-b")
    host = plugins.host()
    host.register(TwoStages(first, second), name="two-stages")
    try:
        with Library.open(library_path, workers=2) as lib:
            lib.indexer.batch_size = 2          # several batches in one run
            lib.add_root(photo_dir)
            assert lib.index().new == 6
            write_jpeg(photo_dir / "p6.jpg", size=(320, 240), seed=6)
            assert lib.index().new == 1         # a second run
    finally:
        host.unregister("two-stages")
    # Every batch of a stage, in both runs, ran on the same thread: one thread team per
    # model for the life of the process, not one per batch.
    assert len(first.threads) >= 4 and len(second.threads) >= 4
    assert len(set(first.threads)) == 1 and len(set(second.threads)) == 1
    assert set(first.threads) != set(second.threads)
    assert threading.get_ident() not in set(first.threads) | set(second.threads)
    names = {t.ident: t.name for t in threading.enumerate()}
    assert names[first.threads[0]].startswith("glimpse-model-probe-a")
    # Each model's team may take every core: the two never ran at the same time.
    assert not ThreadProbe.overlapped
