"""No API key (or URL password) leaks through a service's error messages: not into the library
file, the logs, the terminal or the window. The service is a real HTTP server on 127.0.0.1
that echoes the request's Authorization header and URL back, as careless services do."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.api import Library
from glimpse_desktop.captions import client
from glimpse_desktop.captions.service import CaptionError
from glimpse_desktop.kernel.redact import forget_secrets, redact
from tests import captionserver as cs
from tests import imagegen as ig
from tests.captionserver import (  # noqa: F401 - fixtures
    FakeService,
    MemoryKeyring,
    memory_keyring_fixture,
    service_fixture,
)

ROOT = Path(__file__).resolve().parent.parent
URL_PASSWORD = "hunter2-url-password"


@pytest.fixture(name="key")
def key_fixture(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh key in the environment, as a person sets it; no key remembered from before."""
    forget_secrets()
    key = f"sk-proj-{uuid.uuid4().hex}"
    monkeypatch.setenv("GLIMPSE_CAPTION_API_KEY", key)
    monkeypatch.setattr(client, "BACKOFF_BASE", 0.01)
    return key


def library_bytes(library: Path) -> bytes:
    """Every byte of the library: the main file, its -wal and -shm, and any copy beside it."""
    return b"".join(p.read_bytes() for p in sorted(library.parent.iterdir()) if p.is_file())


def leaked(key: str, text: str | bytes) -> list[str]:
    """What of the key (or the URL password) is in ``text``."""
    data = text.encode() if isinstance(text, str) else text
    return [s for s in (key, key[8:], f"Bearer {key[:6]}", URL_PASSWORD) if s.encode() in data]


def ready(lib: Library, photos: Path, service: FakeService, n: int) -> list[int]:
    for i in range(n):
        ig.write_jpeg(photos / f"p{i}.jpg", size=(640, 480), seed=i)
    lib.add_root(photos)
    lib.index()
    lib.config.set("caption.base_url", service.url)
    lib.config.set("caption.model", "test-vision")
    lib.config.set("caption.enabled", True)
    lib.config.set("caption.max_edge", 256)
    lib.config.set("caption.concurrency", 1)
    lib.config.set("caption.rpm", 100_000)
    lib.captions.backoff_base = 0.01
    lib.captions.give_consent()
    return [int(r[0]) for r in lib.reader().execute("SELECT id FROM photos ORDER BY id")]


def test_echoed_keys_never_reach_the_library_the_logs_or_the_report(
        key: str, library_path: Path, photo_dir: Path, service: FakeService,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    lib = Library.open(library_path, workers=2)
    try:
        ids = ready(lib, photo_dir, service, 3)
        # 400 for one photo (recorded, the run goes on), with a URL password in the words.
        service.script.append(cs.echo(400, f"image rejected, see http://admin:{URL_PASSWORD}"
                                           "@10.1.2.3/docs"))
        # A good answer that quotes the request: the caption is kept, the key is not.
        service.script.append(cs.good(f"A beach. (Request: Authorization: Bearer {key})"))
        report = lib.captions.run()
        assert (report.captioned, report.failed) == (2, 1)
        texts = [str(report.errors)]
        # 500 until the run gives up, then 401: both stop the run with the service's words.
        for status in (500, 401):
            service.default = lambda body, status=status: cs.echo(status, "request failed")
            with pytest.raises(CaptionError) as stopped:
                lib.captions.run(prompt=f"Another question {status}, in JSON.", replace=True)
            texts.append(str(stopped.value))
        # The key really went out and really came back, so there was something to catch.
        assert all(h["authorization"] == f"Bearer {key}" for h in service.headers)
        summaries = [str(getattr(lib.captions.get(i), "summary", None)) for i in ids]
        assert "A beach. (Request: Authorization: Bearer [redacted])" in summaries
        reasons = [e.reason for e in lib.errors(stage="caption")]
        assert reasons and "Authorization: Bearer [redacted]" in reasons[0]
        assert "http://[redacted]@10.1.2.3/docs" in reasons[0]
        assert "Authorization: Bearer [redacted]" in texts[1] and "(500)" not in texts[1]
        assert "did not accept the API key (401)" in texts[2]
        for text in [*texts, *reasons, caplog.text, *capsys.readouterr()]:
            assert leaked(key, text) == [], text
        # The write-ahead log too, before it is folded into the file.
        assert leaked(key, library_bytes(library_path)) == []
    finally:
        lib.close()
    assert leaked(key, library_bytes(library_path)) == []


def test_the_cli_shows_no_key_in_a_real_process(
        key: str, library_path: Path, photo_dir: Path, service: FakeService) -> None:
    lib = Library.open(library_path, workers=2)
    try:
        ready(lib, photo_dir, service, 6)
    finally:
        lib.close()
    # Every photo refused with the key in the reply: five in a row stop the run.
    service.default = lambda body: cs.echo(400, "unsupported image")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GLIMPSE_CAPTION_API_KEY": key,
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}

    def glimpse(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "glimpse_desktop", "--library",
                               str(library_path), *args], capture_output=True, text=True,
                              env=env, timeout=120)

    runs = [glimpse("caption", "--yes"), glimpse("caption", "--yes", "--json"),
            glimpse("errors"), glimpse("errors", "--json"), glimpse("status"),
            glimpse("info", "1")]
    assert runs[0].returncode == 1 and "5 photos in a row were refused" in runs[0].stderr
    assert "Authorization: Bearer [redacted]" in runs[2].stdout
    assert len(service.requests) >= 10
    for done in runs:
        assert leaked(key, done.stdout + done.stderr) == [], done.args
    assert leaked(key, library_bytes(library_path)) == []


def test_a_base_url_with_a_password_is_refused(
        capsys: pytest.CaptureFixture[str], library_path: Path, photo_dir: Path,
        memory_keyring: MemoryKeyring) -> None:
    assert cli.main(["--library", str(library_path), "add", str(photo_dir)]) == 0
    url = f"http://someone:{URL_PASSWORD}@llm.example.net/v1"
    code = cli.main(["--library", str(library_path), "config", "set", "caption.base_url", url])
    out, err = capsys.readouterr()
    assert code == 1
    assert "must not hold a user name or password" in err and "set-key" in err
    assert URL_PASSWORD not in out + err
    assert cli.main(["--library", str(library_path), "config", "get",
                     "caption.base_url"]) == 0
    assert capsys.readouterr().out.strip() == "https://api.openai.com/v1"
    assert URL_PASSWORD.encode() not in library_bytes(library_path)


@pytest.mark.parametrize(("text", "kept", "gone"), [
    ("header Authorization: Bearer abc.def-123 sent", "Authorization: Bearer [redacted] sent",
     "abc.def-123"),
    ('{"x-api-key": "k3y-value-99"}', '"x-api-key": "[redacted]"', "k3y-value-99"),
    ("retry https://u:p4ss@example.org/v1 later", "https://[redacted]@example.org/v1", "p4ss"),
    ("an OpenRouter key sk-or-v1-0123456789abcdef in the text", "key [redacted] in",
     "0123456789abcdef"),
    ("Invalid token provided", "Invalid token provided", "[redacted]"),
])
def test_redact_masks_credentials_and_keeps_prose(text: str, kept: str, gone: str) -> None:
    out = redact(text)
    assert kept in out and gone not in out


def test_a_long_error_that_ends_in_the_key_is_not_cut_inside_it(
        library_path: Path, photo_dir: Path, service: FakeService, memory_keyring: MemoryKeyring,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's words are shortened for the errors table; shortening before redacting
    left the start of a key that has no recognisable shape (a self-hosted service's)."""
    forget_secrets()
    key = f"myLocalServerKey{uuid.uuid4().hex}"
    monkeypatch.setenv("GLIMPSE_CAPTION_API_KEY", key)
    monkeypatch.setattr(client, "BACKOFF_BASE", 0.01)
    lib = Library.open(library_path, workers=2)
    try:
        ready(lib, photo_dir, service, 1)
        service.script.append(cs.error(400, f"{'x' * 280} got key {key}"))
        report = lib.captions.run()
        assert report.failed == 1
        reasons = [e.reason for e in lib.errors(stage="caption")]
        assert reasons and "x" * 100 in reasons[0]
        assert key[:6] not in reasons[0] + str(report.errors)
    finally:
        lib.close()
    assert key[:6].encode() not in library_bytes(library_path)
