""""Nothing leaves your machine", checked: the window and every `glimpse` verb run as real
processes under strace, and any attempt to reach another machine (a DNS query included) fails
the test. The only service used is a captioning server on 127.0.0.1; with captions (or later
map tiles, serving) pointed elsewhere, talking to it is the person's choice, not tested here.

Slow (a minute or two): every verb is a fresh process, and the window is left open a while.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sys
from pathlib import Path

import pytest

from glimpse_desktop import cli
from tests import imagegen as ig
from tests import nettrace
from tests.captionserver import FakeService

ROOT = Path(__file__).resolve().parent.parent
# The window stays open this long after showing the Device page. onnxruntime's telemetry sent
# its first report 9 s after the library loaded; the issue saw it within 12 s.
WINDOW_OPEN_SECONDS = 15.0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(name="world")
def world_fixture(tmp_path: Path, face_photos: Path) -> dict[str, Path]:
    """Photos with dates, places and faces; the person's folders all under tmp_path."""
    photos = tmp_path / "Pictures"
    photos.mkdir()
    for i in range(4):
        ig.write_jpeg(photos / f"IMG_{i}.jpg", size=(800, 600), seed=i,
                      datetime_original=f"2024:03:1{i} 10:00:00", gps=(38.7223, -9.1393),
                      make="FUJIFILM", model="X-T5")
    for name in ("obama1.jpg", "biden.jpg"):
        shutil.copy(face_photos / name, photos / name)
    # A model entry whose download address is a closed port here: `models download` must
    # ask it and nothing else.
    manifest = tmp_path / "models" / "manifest.d"
    manifest.mkdir(parents=True)
    (manifest / "nettest.json").write_text(json.dumps({"format": 1, "clip": [{
        "id": "net-test", "name": "Network test", "arch": "ViT-B-32", "dim": 512,
        "image_size": 224, "file": "weights.pt",
        "urls": [f"http://127.0.0.1:{closed_port()}/weights.pt"], "size": 1000,
        "sha256": "0" * 64, "licence": "test only", "config": {}}]}))
    return {"photos": photos, "library": tmp_path / "lib" / "library.sqlite3",
            "home": tmp_path}


def child_env(home: Path) -> dict[str, str]:
    return nettrace.clean_env(
        PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", HOME=str(home / "home"),
        XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"), GLIMPSE_CACHE_DIR=str(home / "cache"),
        GLIMPSE_MODEL_DIR=str(home / "models"), GLIMPSE_LIBRARY=str(home / "lib" / "x.sqlite3"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")


def every_verb() -> set[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


@pytest.mark.timeout(600)
def test_the_window_reaches_no_other_machine(world: dict[str, Path], tmp_path: Path) -> None:
    env = child_env(world["home"])
    glimpse = [sys.executable, "-m", "glimpse_desktop", "--library", str(world["library"])]
    for args in (["add", str(world["photos"])], ["people", "on"]):
        done = nettrace.run([*glimpse, *args], tmp_path / "setup.trace", env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    done = nettrace.run([sys.executable, str(ROOT / "tests" / "gui" / "netwindow.py"),
                         str(world["library"]), str(WINDOW_OPEN_SECONDS)],
                        tmp_path / "window.trace", env=env, cwd=tmp_path, timeout=400)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # It really read the photos with the face models, and really showed the Device page.
    assert seen["read"] and seen["device"] and seen["faces"] >= 2, seen
    assert seen["map"] and seen["map_zoom"] >= 12, seen
    assert "Azure" not in seen["providers"] and "CPU" in seen["providers"]
    assert done.outbound == [], "\n".join(done.outbound)


@pytest.mark.timeout(900)     # a fresh process per verb; slower on a busy machine
def test_no_verb_reaches_another_machine(world: dict[str, Path], tmp_path: Path) -> None:
    service = FakeService()
    photos, out = str(world["photos"]), tmp_path / "out"
    verbs: list[list[str]] = [
        ["add", photos], ["people", "on"], ["index"],
        # Long enough for anything a library starts in the background to show itself.
        ["watch", "--settle", "0.2", "--duration", "12"],
        ["status"], ["info", "1"], ["set-date", "1", "--shift=+1h"],
        ["set-place", "2", "--lat", "38.72", "--lon", "-9.14"],
        ["places"], ["errors"], ["text-search", "IMG"],
        ["map"], ["map", "--clusters", "--zoom", "5"], ["map", "--area", "38,-10,40,-8"],
        ["search", "beach after:2024"], ["similar", "1"], ["tag", "--tags", "beach"],
        ["writeback", "--dry-run"], ["duplicates"],
        ["sort-by-tag", "--output", str(out / "tags"), "--dry-run"],
        ["albums", "list"], ["albums", "create", "Lisbon", "1", "2"], ["albums", "show", "1"],
        ["events"], ["home"], ["memories"],
        ["export", "--search", "IMG", "--to", str(out / "export"), "--size", "preview"],
        ["organize", "--to", str(out / "by-date"), "--dry-run"],
        ["people", "list"], ["people", "recluster"],
        ["people", "export", "--csv", str(out / "people.csv")],
        ["models", "list"], ["models", "download", "net-test"],
        ["thumbnail", "1"], ["doctor"], ["plugins"],
        ["config", "set", "caption.base_url", service.url],
        ["config", "set", "caption.model", "test-vision"],
        ["config", "set", "caption.enabled", "true"],
        ["caption", "--yes", "--limit", "1"],
        ["timeline"], ["favorite", "1"], ["favourite", "2", "--off"], ["rate", "1", "4"],
        ["reject", "3"], ["rotate", "1", "left"], ["faces"], ["album", "tree"],
        ["trash", "3"], ["deleted"], ["restore", "3"],
        ["forget-missing"], ["remove", photos],
    ]
    assert {v[0] for v in verbs} == every_verb(), "a verb is not traced here: add it"
    # No CLIP model here (tag and similar need one); the download's only address is a
    # closed port.
    expected_failures = {"tag": (1,), "similar": (1,), "models": (0, 1)}
    env = child_env(world["home"])
    glimpse = [sys.executable, "-m", "glimpse_desktop", "--library", str(world["library"])]
    failures = []
    try:
        for n, args in enumerate(verbs):
            done = nettrace.run([*glimpse, *args], tmp_path / f"verb{n}.trace", env=env,
                                cwd=tmp_path)
            assert done.returncode in expected_failures.get(args[0], (0,)), (args, done.stderr)
            assert "Traceback" not in done.stderr, (args, done.stderr)
            if done.outbound:
                failures.append(f"glimpse {' '.join(args)}:\n  " + "\n  ".join(done.outbound))
    finally:
        service.close()
    assert len(service.requests) == 1           # captioning talked to 127.0.0.1, once
    assert failures == [], "\n".join(failures)


def test_the_trace_sees_a_name_lookup_and_spares_loopback(tmp_path: Path) -> None:
    """The mechanism itself: a lookup made by C code (getaddrinfo) in a child is caught,
    wherever the resolver is; a connection to 127.0.0.1 is not."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    probe = ("import socket\n"
             f"socket.create_connection(('127.0.0.1', {port})).close()\n"
             "try:\n    socket.getaddrinfo('glimpse-probe.invalid', 443)\n"
             "except OSError:\n    pass\n")
    try:
        done = nettrace.run([sys.executable, "-c", probe], tmp_path / "probe.trace",
                            env=nettrace.clean_env(), cwd=tmp_path)
    finally:
        listener.close()
    assert done.returncode == 0, done.stderr
    assert done.outbound, "a DNS query went unseen"
    assert all("htons(53)" in line for line in done.outbound), done.outbound
    assert nettrace.outbound('connect(3, {sa_family=AF_INET6, sin6_port=htons(443), '
                             'sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2606:4700::1", '
                             '&sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH') != []
