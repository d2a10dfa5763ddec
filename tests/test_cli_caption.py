"""`glimpse caption` and `glimpse config`, in-process and as a real process (Ctrl-C)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from glimpse_desktop import cli
from glimpse_desktop.captions import client
from tests import captionserver as cs
from tests import imagegen as ig
from tests.captionserver import (  # noqa: F401 - fixtures
    FakeService,
    MemoryKeyring,
    memory_keyring_fixture,
    service_fixture,
)
from tests.conftest import eventually


@pytest.fixture(autouse=True)
def _fast_and_hermetic(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "BACKOFF_BASE", 0.01)
    monkeypatch.setattr(client, "TIMEOUT", 5.0)


def run(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--library", str(library), *args])
    out, err = capsys.readouterr()
    return code, out, err


def ready_library(capsys: pytest.CaptureFixture[str], library: Path, photos: Path,
                  service: FakeService, n: int = 3) -> None:
    for i in range(n):
        ig.write_jpeg(photos / f"img{i}.jpg", size=(800, 600), seed=i, gps=(38.72, -9.14))
    assert run(capsys, library, "add", str(photos))[0] == 0
    assert run(capsys, library, "index", "-q")[0] == 0
    for key, value in (("caption.base_url", service.url), ("caption.model", "test-vision"),
                       ("caption.max_edge", "300")):
        assert run(capsys, library, "config", "set", key, value)[0] == 0


def test_caption_needs_captioning_on_and_consent(
        capsys: pytest.CaptureFixture[str], library_path: Path, photo_dir: Path,
        service: FakeService) -> None:
    ready_library(capsys, library_path, photo_dir, service)
    code, _, err = run(capsys, library_path, "caption")
    assert code == 1 and "glimpse config set caption.enabled true" in err
    assert run(capsys, library_path, "config", "set", "caption.enabled", "true")[0] == 0
    # No terminal to ask on, and no --yes: the terms are shown and nothing is sent.
    code, _, err = run(capsys, library_path, "caption")
    assert code == 1 and "--yes" in err
    assert "127.0.0.1" in err and "300 pixels" in err and "test-vision" in err
    code, out, _ = run(capsys, library_path, "caption", "--dry-run")
    assert code == 0 and "3 photos to caption" in out and "nothing was sent" in out
    code, out, _ = run(capsys, library_path, "caption", "--dry-run", "--json")
    dry = json.loads(out)
    assert dry["estimate"]["to_send"] == 3 and dry["consented"] is False
    assert service.requests == []


def test_caption_run_search_and_info(capsys: pytest.CaptureFixture[str], library_path: Path,
                                     photo_dir: Path, service: FakeService) -> None:
    ready_library(capsys, library_path, photo_dir, service)
    run(capsys, library_path, "config", "set", "caption.enabled", "on")
    service.script.append(cs.good("A platypus reading a newspaper."))
    code, out, err = run(capsys, library_path, "caption", "--yes", "--limit", "1", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["captioned"], report["photos"]) == (1, 1)
    code, out, err = run(capsys, library_path, "search", "platypus", "--json")
    assert code == 0, err
    hits = json.loads(out)["results"]
    assert len(hits) == 1
    code, out, _ = run(capsys, library_path, "info", str(hits[0]["id"]))
    assert "caption         A platypus reading a newspaper. (test-vision)" in out
    # The rest, with a prompt from a file; a second run has nothing left to do.
    prompt = photo_dir.parent / "prompt.txt"
    prompt.write_text("List what you see, as JSON.", encoding="utf-8")
    code, out, err = run(capsys, library_path, "caption", "--prompt-file", str(prompt), "-q")
    assert code == 0, err
    assert "Captioned 2 of 2 photos" in out
    assert service.requests[-1]["messages"][1]["content"][0]["text"] == \
        "List what you see, as JSON."
    code, out, _ = run(capsys, library_path, "caption", "--where", "platypus")
    assert code == 0 and "Captioned 0 of 0 photos" in out
    assert len(service.requests) == 3


def test_a_costly_run_asks_first(capsys: pytest.CaptureFixture[str], library_path: Path,
                                 photo_dir: Path, service: FakeService) -> None:
    ready_library(capsys, library_path, photo_dir, service)
    for key, value in (("caption.enabled", "true"), ("caption.price_in", "2.5"),
                       ("caption.price_out", "10"), ("caption.concurrency", "1")):
        run(capsys, library_path, "config", "set", key, value)
    code, _, err = run(capsys, library_path, "caption", "--yes", "--limit", "1")
    assert code == 0, err
    code, _, err = run(capsys, library_path, "caption")      # agreed, but the cost is > $0
    assert code == 1 and "cost about $" in err and "--yes" in err
    assert len(service.requests) == 1
    code, out, err = run(capsys, library_path, "caption", "--yes", "--max-cost", "0.001",
                         "--json")
    report = json.loads(out)
    assert report["stopped_by_cap"] and report["captioned"] == 1


def test_service_errors_are_clear(capsys: pytest.CaptureFixture[str], library_path: Path,
                                  photo_dir: Path, service: FakeService) -> None:
    ready_library(capsys, library_path, photo_dir, service, n=2)
    run(capsys, library_path, "config", "set", "caption.enabled", "true")
    service.default = lambda body: cs.error(404, "model 'test-vision' not found")
    code, _, err = run(capsys, library_path, "caption", "--yes", "-q")
    assert code == 1
    assert "127.0.0.1 does not know the model 'test-vision'" in err
    assert len(service.requests) == 1


def test_config_verbs(capsys: pytest.CaptureFixture[str], library_path: Path,
                      photo_dir: Path, monkeypatch: pytest.MonkeyPatch,
                      memory_keyring: MemoryKeyring) -> None:
    assert run(capsys, library_path, "add", str(photo_dir))[0] == 0
    code, out, _ = run(capsys, library_path, "config", "--json")
    items = {i["name"]: i for i in json.loads(out)}
    assert items["caption.enabled"]["value"] is False
    assert items["caption.enabled"]["source"] == "default"
    code, out, _ = run(capsys, library_path, "config", "set", "caption.max_edge", "512")
    assert code == 0 and out.strip() == "caption.max_edge = 512"
    code, out, _ = run(capsys, library_path, "config", "get", "caption.max_edge", "--json")
    got = json.loads(out)
    assert (got["value"], got["source"]) == (512, "library")
    code, _, err = run(capsys, library_path, "config", "set", "caption.max_edge", "10")
    assert code == 1 and "256 to 4096" in err
    code, _, err = run(capsys, library_path, "config", "set", "caption.api_key", "sk-x")
    assert code == 1 and "never kept in the library" in err
    monkeypatch.setenv("GLIMPSE_CAPTION_MODEL", "llava")
    code, out, _ = run(capsys, library_path, "config", "list")
    assert "caption.model = llava  [environment]" in out
    code, out, _ = run(capsys, library_path, "config", "unset", "caption.max_edge")
    assert code == 0
    assert run(capsys, library_path, "config", "get", "caption.max_edge")[1].strip() == "1024"
    # The key: from a pipe into the keyring, never echoed.
    monkeypatch.setattr(sys, "stdin", io.StringIO("sk-piped-secret\n"))
    code, out, err = run(capsys, library_path, "config", "set-key")
    assert code == 0 and "sk-piped" not in out + err
    assert memory_keyring.store == {("glimpse-desktop", "api.openai.com"): "sk-piped-secret"}
    code, _, err = run(capsys, library_path, "config", "delete-key")
    assert code == 0 and "removed" in err and memory_keyring.store == {}


def test_ctrl_c_keeps_what_was_captioned(tmp_path: Path, library_path: Path, photo_dir: Path,
                                         service: FakeService,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    ready_library(capsys, library_path, photo_dir, service, n=4)
    run(capsys, library_path, "config", "set", "caption.enabled", "true")
    run(capsys, library_path, "config", "set", "caption.concurrency", "1")
    arrived = threading.Event()
    release = threading.Event()

    def second(body: dict[str, Any]) -> cs.Answer:
        arrived.set()
        release.wait(20)      # held until the process has had its Ctrl-C
        return cs.good("The second.")

    service.script.extend([cs.good("The first."), second])
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "glimpse_desktop", "--library", str(library_path), "caption",
         "--yes", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=env)
    lines: list[str] = []
    heard = threading.Event()

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("Stopping after"):
                heard.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        assert arrived.wait(60)
        proc.send_signal(signal.SIGINT)
        # It says it heard Ctrl-C while the second request is still held at the service; only
        # then is that request answered, so the caption kept below arrived after Ctrl-C.
        assert heard.wait(60), "".join(lines)
        release.set()
        assert proc.wait(timeout=60) is not None
        reader.join(60)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    err = "".join(lines)
    assert proc.returncode == 130, err
    assert "stopped; 2 captions kept, run again to go on" in err
    assert len(service.requests) == 2
    code, out, err = run(capsys, library_path, "caption", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["captioned"], report["from_cache"]) == (2, 0)
    assert len(service.requests) == 4


def test_watch_captions_new_photos_in_the_background(
        capsys: pytest.CaptureFixture[str], library_path: Path, photo_dir: Path,
        service: FakeService) -> None:
    ready_library(capsys, library_path, photo_dir, service, n=1)
    for key, value in (("caption.enabled", "true"), ("caption.auto", "true")):
        run(capsys, library_path, "config", "set", key, value)
    assert run(capsys, library_path, "caption", "--yes", "-q")[0] == 0
    assert len(service.requests) == 1
    service.default = lambda body: cs.good("An axolotl in a teacup.")

    def later() -> None:
        eventually(lambda: False, timeout=1.5)       # the watcher is up by then
        ig.write_jpeg(photo_dir / "new.jpg", size=(640, 480), seed=42)

    writer = threading.Thread(target=later)
    writer.start()
    code, _, err = run(capsys, library_path, "watch", "--settle", "0.2", "--duration", "8")
    writer.join()
    assert code == 0, err
    assert len(service.requests) == 2
    code, out, _ = run(capsys, library_path, "search", "axolotl", "--json")
    assert [Path(h["path"]).name for h in json.loads(out)["results"]] == ["new.jpg"]


def test_dry_run_while_off_and_a_missing_key(
        capsys: pytest.CaptureFixture[str], library_path: Path, photo_dir: Path,
        service: FakeService) -> None:
    ready_library(capsys, library_path, photo_dir, service, n=1)
    code, out, _ = run(capsys, library_path, "caption", "--dry-run")
    assert code == 0 and "Captioning is off" in out and "1 photo to caption" in out
    run(capsys, library_path, "config", "set", "caption.base_url", "https://api.openai.com/v1")
    run(capsys, library_path, "config", "set", "caption.enabled", "true")
    code, _, err = run(capsys, library_path, "caption", "--yes")
    assert code == 1 and "no API key for api.openai.com" in err
    code, out, _ = run(capsys, library_path, "caption", "--dry-run")
    assert "No API key was found" in out and "cost unknown" in out
    assert service.requests == []
