"""The change chain: what follows a change to photos runs once, in the order the follow-ups
declare, for index, the watcher and a sidecar another app wrote alike (real library, real
images, real watcher, a plugin registered the way a third party's is)."""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import plugins
from glimpse_desktop.kernel.changes import READ, ChainError, Change, FollowUp, order
from glimpse_desktop.kernel.db import LibraryError, LibraryFullError
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.kernel.pipeline import IndexReport
from glimpse_desktop.kernel.progress import CancelToken
from tests import imagegen as ig
from tests.conftest import eventually

BUILT_IN = ["sidecars-read", "tags", "people", "places", "albums", "captions", "write-back"]
LISBON, KYOTO = (38.6916, -9.2160), (35.0116, 135.7681)
_names = itertools.count()
# What another app (digiKam, say) writes beside a photo: its description and rating.
THEIR_SIDECAR = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4">
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Ribeira at sunset, from the
    bridge</rdf:li></rdf:Alt></dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""


class _Plugin:
    """A third-party plugin that contributes follow-ups, as an installed one would."""

    def __init__(self, follow_ups: list[FollowUp]) -> None:
        self.follow_ups = follow_ups

    @hookimpl
    def glimpse_follow_ups(self) -> list[FollowUp]:
        return list(self.follow_ups)


@contextlib.contextmanager
def contributed(*follow_ups: FollowUp) -> Iterator[None]:
    name = f"test-plugin-{next(_names)}"
    plugins.host().register(_Plugin(list(follow_ups)), name)
    try:
        yield
    finally:
        plugins.host().unregister(name)


def noop(library: Any, change: Change) -> None:
    return None


def shot(folder: Path, name: str, when: str, *, gps: tuple[float, float] | None = None,
         seed: int = 0, description: str | None = None) -> Path:
    return ig.write_jpeg(folder / name, (96, 64), seed=seed, datetime_original=when, gps=gps,
                         make="Canon", model="Canon EOS R5", image_description=description)


@pytest.fixture
def travel(lib: Library, photo_dir: Path) -> Library:
    """A morning in Lisbon (six photos with GPS, enough for an event, and one without that
    takes its place from them) and one in Kyoto a day later; not indexed yet."""
    for i in range(6):
        shot(photo_dir, f"lisbon{i}.jpg", f"2023:06:10 10:{i * 5:02d}:00", gps=LISBON,
             seed=10 + i)
    shot(photo_dir, "lisbon_later.jpg", "2023:06:10 10:32:00", seed=2)
    shot(photo_dir, "kyoto.jpg", "2023:06:11 09:00:00", gps=KYOTO, seed=3)
    lib.set_faces(False)     # faces are not what is tested here
    lib.add_root(photo_dir)
    return lib


def placed(lib: Library, ids: tuple[int, ...] | None) -> int:
    if not ids:
        return 0
    return int(lib.reader().one(
        f"SELECT count(*) FROM photo_places WHERE photo_id IN ({','.join('?' * len(ids))})",
        ids))


# ---------------------------------------------------------------------------- the order


def test_the_order_keeps_every_declared_dependency() -> None:
    chain = order([FollowUp("publish", noop, after=("render", "not-loaded")),
                   FollowUp("render", noop),
                   FollowUp("fetch", noop, before=("render",)),
                   FollowUp("log", noop)])
    assert [f.name for f in chain] == ["fetch", "render", "publish", "log"]


def test_a_circle_of_dependencies_is_refused_naming_it(lib: Library) -> None:
    with pytest.raises(ChainError, match=r"a -> b -> c -> a") as caught:
        order([FollowUp("a", noop, after=("b",)), FollowUp("b", noop, after=("c",)),
               FollowUp("c", noop, after=("a",))])
    assert caught.value.code == "changes.cycle"
    # A plugin that closes a circle with the built-in follow-ups is left out (its problem
    # says which follow-ups wait for each other); the built-in chain runs.
    ran: list[str] = []
    circle = FollowUp("colours", lambda library, change: ran.append("colours"),
                      after=("write-back",), before=("places",))
    with contributed(circle):
        assert "write-back" in lib.photos_changed([], "edited").ran and ran == []
        listed = [p.problem or "" for p in plugins.host().plugins()]
        assert any(re.search(r"colours -> .*write-back", why) for why in listed)
    # A follow-up that takes a built-in's name would shadow it: left out too.
    with contributed(FollowUp("places", lambda library, change: ran.append("mine"))):
        assert "places" in lib.photos_changed(None, "indexed").ran and ran == []
        listed = [p.problem or "" for p in plugins.host().plugins()]
        assert any("'places' is left out" in why for why in listed)
    assert lib.photos_changed([], "edited").problems == {}     # the plugins are gone


def test_bad_input_is_a_clear_error(lib: Library) -> None:
    with pytest.raises(ChainError, match="'renamed' is not a reason photos change"):
        lib.photos_changed([1], "renamed")
    with pytest.raises(ChainError, match="whole numbers"):
        lib.photos_changed(["first"], "edited")     # type: ignore[list-item]
    with pytest.raises(ChainError, match="runs for 'indexd'"):
        FollowUp("typo", noop, when=frozenset({"indexd"}))


def test_a_plugins_follow_up_after_places_sees_them_placed(travel: Library) -> None:
    lib = travel
    seen: list[tuple[str, int]] = []

    def count_places(library: Any, change: Change) -> int:
        seen.append((change.why, placed(library, change.ids)))
        return len(seen)

    with contributed(FollowUp("postcards", count_places, after=("places",), when=READ)):
        report = lib.index()
        assert report.new == 8 and report.places == 8      # seven by GPS, one inferred
        assert report.albums >= 1                           # the Lisbon morning
        assert seen == [("indexed", 8)]
        ids = [int(r[0]) for r in lib.reader().execute("SELECT id FROM photos")]
        changes = lib.photos_changed(ids, "watched")
    assert [n for n in changes.ran if n in BUILT_IN] == BUILT_IN
    assert changes.ran.index("postcards") > changes.ran.index("places")
    assert changes.result("postcards") == 2 and changes.problems == {}


def test_a_failing_follow_up_is_reported_and_the_rest_still_run(travel: Library) -> None:
    lib = travel

    def broken(library: Any, change: Change) -> None:
        raise LibraryError("the colour table is missing", code="colours.missing")

    def buggy(library: Any, change: Change) -> None:
        raise KeyError("hue")

    with contributed(FollowUp("colours", broken, before=("places",)),
                     FollowUp("shades", buggy, after=("places",), before=("albums",))):
        report = lib.index()
        ids = tuple(int(r[0]) for r in lib.reader().execute("SELECT id FROM photos"))
        changes = lib.photos_changed(ids, "catch-up")
    assert report.new == 8 and report.places == 8 and report.albums >= 1
    assert placed(lib, ids) == 8
    assert changes.problems == {"colours": "the colour table is missing", "shades": "'hue'"}
    assert isinstance(changes.errors["colours"], LibraryError)
    assert changes.errors["colours"].code == "colours.missing"        # for a front end
    assert [n for n in changes.ran if n in BUILT_IN] == BUILT_IN
    assert "colours" not in changes.ran and not changes.cancelled

    # A full disk is not the follow-up's fault: the chain stops and the caller says so.
    def full(library: Any, change: Change) -> None:
        raise LibraryFullError("the disk is full")

    with contributed(FollowUp("thumbnails-elsewhere", full)), \
            pytest.raises(LibraryFullError):
        lib.photos_changed(ids, "edited")


def test_a_cancel_stops_the_chain_between_follow_ups(travel: Library) -> None:
    lib = travel
    token = CancelToken()

    def stop(library: Any, change: Change) -> None:
        assert change.cancel is token
        token.cancel()     # the person pressed Stop while this ran

    with contributed(FollowUp("stopper", stop, after=("people",), before=("places",),
                              when=frozenset({"indexed"}))):
        report = lib.index(cancel=token)
    assert report.new == 8 and report.cancelled
    assert report.places == 0 and report.albums == 0
    assert placed(lib, tuple(int(r[0]) for r in lib.reader().execute("SELECT id FROM photos"))) \
        == 0
    # Once nothing stops it, the next index does what was left.
    again = lib.index()
    assert not again.cancelled and again.places == 8 and again.albums >= 1


# ---------------------------------------------------------------------------- every caller


def test_index_the_watcher_and_another_apps_sidecar_go_through_the_chain(
        travel: Library, photo_dir: Path) -> None:
    lib = travel
    calls: list[tuple[str, tuple[int, ...] | None]] = []
    batches: list[tuple[str, IndexReport]] = []
    lock = threading.Lock()

    def record(library: Any, change: Change) -> None:
        with lock:
            calls.append((change.why, change.ids))

    def whys() -> list[str]:
        with lock:
            return [why for why, _ in calls]

    with contributed(FollowUp("recorder", record, after=("write-back",))):
        report = lib.index()
        first = lib.reader().rows("SELECT id FROM photos ORDER BY id")
        assert whys() == ["indexed"] and set(calls[0][1] or ()) == {int(r["id"]) for r in first}
        assert report.places == 8
        lib.config.set("writeback.sync", True)
        with lib.watcher(settle=0.2, poll=0.05,
                         on_report=lambda why, r: batches.append((why, r))) as watcher:
            # The catch-up on start reads sidecars edited meanwhile, whatever else changed.
            assert eventually(lambda: "catch-up" in whys())
            shot(photo_dir, "porto.jpg", "2023:06:12 18:00:00", gps=(41.1406, -8.6110),
                 seed=4, description="Porto from the river")
            assert eventually(lambda: "watched" in whys(), timeout=30)
            porto = int(lib.reader().one("SELECT id FROM photos WHERE filename = 'porto.jpg'"))
            assert (next(ids for why, ids in calls if why == "watched") or ()) == (porto,)
            sidecar = photo_dir / "porto.jpg.xmp"
            # With write-back sync on, the new photo's sidecar was written by the chain.
            assert eventually(sidecar.is_file)
            assert watcher.wait_idle(10)
            # Another app (digiKam, say) rewrites that sidecar while we watch.
            sidecar.write_text(THEIR_SIDECAR, encoding="utf-8")
            written = sidecar.read_bytes()
            assert eventually(lambda: ("sidecars", (porto,)) in calls, timeout=30)
            assert watcher.wait_idle(10)
    watched = [r for why, r in batches if r.new]
    assert len(watched) == 1 and watched[0].places == 1 and watched[0].errors == 0
    info = lib.photo(porto)
    assert info is not None and info.rating == 4
    assert [h.path for h in lib.text_search("Ribeira")] == [str(photo_dir / "porto.jpg")]
    # Reading their sidecar is not answered with a write of ours.
    assert sidecar.read_bytes() == written
    assert whys().count("indexed") == 1
