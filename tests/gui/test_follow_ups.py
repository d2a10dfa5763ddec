"""The window and the change chain: an edit made in the window goes through
``Library.photos_changed`` (write-back writes the real sidecar), an index or a watched batch
runs the chain once, inside the library, never again from the window, and captions the
chain starts in the background show as the window's job and result (real library, real
files, real watcher, a local captioning service that speaks the real protocol, follow-ups
registered the way a third-party plugin's are)."""

from __future__ import annotations

import contextlib
import itertools
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import plugins
from glimpse_desktop.kernel.changes import Change, FollowUp
from glimpse_desktop.kernel.hookspecs import hookimpl
from tests import captionserver as cs
from tests import imagegen as ig
from tests.captionserver import (  # noqa: F401 - fixtures
    FakeService,
    MemoryKeyring,
    memory_keyring_fixture,
    service_fixture,
)

WAIT = 60_000
_names = itertools.count()
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"


class _Counter:
    """A plugin whose follow-up notes every run of the chain: (why, ids)."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, tuple[int, ...] | None]] = []

    def note(self, library: Any, change: Change) -> None:
        self.runs.append((change.why, change.ids))

    @hookimpl
    def glimpse_follow_ups(self) -> list[FollowUp]:
        return [FollowUp("test-counter", self.note)]

    def whys(self) -> list[str]:
        return [why for why, _ids in self.runs]


@contextlib.contextmanager
def counting() -> Iterator[_Counter]:
    name = f"test-counter-{next(_names)}"
    counter = _Counter()
    plugins.host().register(counter, name)
    try:
        yield counter
    finally:
        plugins.host().unregister(name)


def _id(lib: Library, path: Path) -> int:
    row = lib.reader().row("SELECT id FROM photos WHERE path = ?", (str(path),))
    assert row is not None
    return int(row["id"])


def _description(sidecar: Path) -> str | None:
    """dc:description of an XMP sidecar (its default language), as another app reads it."""
    root = ET.parse(sidecar).getroot()
    for desc in root.iter(f"{DC}description"):
        for item in desc.iter(f"{RDF}li"):
            return item.text
    return None


def test_a_caption_edited_in_the_window_reaches_the_sidecar_through_the_chain(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Callable[..., Any]) -> None:
    photo = ig.write_jpeg(photo_dir / "harbour.jpg", (900, 600), seed=1)
    lib.add_root(photo_dir)
    lib.index()
    harbour = _id(lib, photo)
    sidecar = Path(str(photo) + ".xmp")
    assert not sidecar.exists()
    lib.config.set("writeback.sync", True)
    with counting() as counter:
        w = window(start_jobs=False)
        w.changes.timer.setInterval(0)     # a burst of edits needs no waiting out here
        jobs: list[str] = []
        w.jobs.started.connect(lambda job: jobs.append(job.name))
        w.show()
        w.open_photo_id(harbour)
        qtbot.waitUntil(lambda: w.stack.currentWidget() is w.viewer
                        and w.viewer.current_row() == 0, timeout=WAIT)
        with qtbot.waitSignal(w.changes.ran, timeout=WAIT) as ran:
            w.viewer.save_caption(harbour, "Boats in the morning haze")
        reports = ran.args[0]
        # One run of the chain, for the edit: the test's follow-up saw it, and write-back
        # wrote the photo's sidecar as its part of it.
        assert [r.change.why for r in reports] == ["edited"]
        assert counter.whys() == ["edited"]
        assert reports[0].problems == {}
        written = reports[0].result("write-back")
        assert written is not None and (written.written, written.failed) == (1, 0)
        assert "Writing metadata" in jobs
    assert _description(sidecar) == "Boats in the morning haze"
    qtbot.waitUntil(lambda: w.status.message.text() == "Wrote 1 file.", timeout=WAIT)

    # A second edit: the same sidecar follows it.
    lib.captions.set_text(harbour, "Boats at dusk")
    with qtbot.waitSignal(w.changes.ran, timeout=WAIT):
        w.photos_changed([harbour], "captions")
    assert _description(sidecar) == "Boats at dusk"


def test_after_an_index_or_a_watched_batch_the_window_runs_no_chain_of_its_own(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Callable[..., Any]) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", (640, 480), seed=1)
    lib.add_root(photo_dir)
    with counting() as counter:
        w = window()
        w.changes.timer.setInterval(0)
        ran: list[object] = []
        w.changes.ran.connect(ran.append)
        w.show()
        # The index ran (and its chain, inside Library.index), then watching began.
        qtbot.waitUntil(lambda: w.watcher is not None, timeout=WAIT)
        assert counter.whys() == ["indexed"]
        assert not w.changes.pending and not w.changes.timer.isActive()

        new = ig.write_jpeg(photo_dir / "b.jpg", (640, 480), seed=2)
        qtbot.waitUntil(lambda: "watched" in counter.whys(), timeout=WAIT)
        qtbot.waitUntil(lambda: any(r.path == str(new) for r in w.model.rows), timeout=WAIT)
        # Whatever the window would still run, it runs now: nothing.
        w.changes.run_now()
        assert w.tasks.wait()
        qtbot.wait(0)
        assert counter.whys().count("indexed") == 1
        assert set(counter.whys()) == {"indexed", "watched"}
        assert ran == [] and not w.changes.pending


def test_captions_the_chain_starts_show_as_the_windows_job_and_result(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Callable[..., Any],
        service: FakeService, memory_keyring: MemoryKeyring) -> None:
    photo = ig.write_jpeg(photo_dir / "p0.jpg", (900, 600), seed=3)
    lib.add_root(photo_dir)
    lib.config.set("caption.base_url", service.url)
    lib.config.set("caption.model", "test-vision")
    lib.config.set("caption.enabled", True)
    lib.config.set("caption.auto", True)
    lib.config.set("caption.max_edge", 256)
    lib.config.set("caption.rpm", 100_000)
    lib.captions.backoff_base = 0.01
    lib.captions.give_consent()
    # The service answers once the window shows the run and its read is over (so what the
    # bar says last is the run's own result).
    gate = threading.Event()

    def answer(body: dict[str, Any]) -> cs.Answer:
        gate.wait(WAIT / 1000)
        return cs.good("An axolotl in a teacup.")

    service.default = answer
    lib.captions.timeout = WAIT / 1000
    w = window()
    jobs: list[Any] = []
    w.jobs.started.connect(jobs.append)
    with qtbot.waitSignal(w.caption_runs.finished, timeout=WAIT):
        w.show()
        qtbot.waitUntil(lambda: w.index_job is None
                        and any(j.name == "Writing captions" for j in jobs), timeout=WAIT)
        job = next(j for j in jobs if j.name == "Writing captions")
        assert job.last is not None and job.last.total == 1     # the run's own progress
        gate.set()
    qtbot.waitUntil(lambda: job.done, timeout=WAIT)
    assert len(service.requests) == 1
    caption = lib.captions.get(_id(lib, photo))
    assert caption is not None
    qtbot.waitUntil(lambda: w.status.message.text().startswith("Wrote 1 caption"),
                    timeout=WAIT)


def test_cancelling_the_captions_job_stops_the_background_run(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Callable[..., Any],
        service: FakeService, memory_keyring: MemoryKeyring) -> None:
    for i in range(3):
        ig.write_jpeg(photo_dir / f"p{i}.jpg", (900, 600), seed=10 + i)
    lib.add_root(photo_dir)
    for key, value in (("caption.base_url", service.url), ("caption.model", "test-vision"),
                       ("caption.enabled", True), ("caption.auto", True),
                       ("caption.max_edge", 256), ("caption.rpm", 100_000),
                       ("caption.concurrency", 1)):
        lib.config.set(key, value)
    lib.captions.give_consent()
    gate = threading.Event()

    def answer(body: dict[str, Any]) -> cs.Answer:
        gate.wait(WAIT / 1000)
        return cs.good("A quiet street.")

    service.default = answer
    lib.captions.timeout = WAIT / 1000
    w = window()
    jobs: list[Any] = []
    w.jobs.started.connect(jobs.append)
    w.show()
    qtbot.waitUntil(lambda: any(j.name == "Writing captions" for j in jobs), timeout=WAIT)
    job = next(j for j in jobs if j.name == "Writing captions")
    # The read is over (what the bar says last is the run's), one photo is being asked about.
    qtbot.waitUntil(lambda: w.index_job is None and len(service.requests) == 1, timeout=WAIT)
    with qtbot.waitSignal(w.caption_runs.finished, timeout=WAIT):
        job.cancel()
        gate.set()            # the request in flight ends and is kept
    qtbot.waitUntil(lambda: job.done, timeout=WAIT)
    report = lib.captions.background_report
    assert report is not None and report.cancelled and report.captioned == 1
    # The photos after the one in flight were never asked about.
    assert len(service.requests) == 1
    qtbot.waitUntil(lambda: w.status.message.text() == "Writing captions: cancelled",
                    timeout=WAIT)
    # The answer in flight was kept.
    assert sum(lib.captions.get(_id(lib, photo_dir / f"p{i}.jpg")) is not None
               for i in range(3)) == 1


def _broken(library: Any, change: Change) -> None:
    raise RuntimeError("the colour server is down")


class _Broken:
    @hookimpl
    def glimpse_follow_ups(self) -> list[FollowUp]:
        return [FollowUp("test-broken", _broken)]


def test_the_windows_index_summary_says_what_did_not_follow(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Callable[..., Any]) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", (640, 480), seed=1)
    lib.add_root(photo_dir)
    plugins.host().register(_Broken(), "test-broken-window")
    try:
        w = window()
        w.show()
        qtbot.waitUntil(lambda: w.watcher is not None, timeout=WAIT)
        qtbot.waitUntil(lambda: w.status.message.text() == (
            "Photos read: 1 new · ⚠ after reading, test-broken failed: the colour server is "
            "down"), timeout=WAIT)
    finally:
        plugins.host().unregister("test-broken-window")
