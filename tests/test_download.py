"""Model downloads against a real HTTP server on 127.0.0.1 that really implements Range, with
misbehaviours switched on per file: error statuses, a connection closed part-way, Range
ignored, wrong bytes, and a stall the test releases (for cancelling mid-transfer)."""

from __future__ import annotations

import hashlib
import os
import random
import re
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from glimpse_desktop.kernel.download import (
    USER_AGENT,
    ChecksumError,
    DownloadError,
    download,
    install_file,
    part_path,
    sha256_file,
)
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, Progress
from tests.conftest import closed_port, ram_disk, unprivileged

SIZE = 300_000
MODEL = "clip-test"


def _says_install_by_hand(exc: DownloadError) -> None:
    """The error says, as data, which model and file a person can install by hand; how
    (a command, a button) is each front end's to say, never core's."""
    assert exc.code == "models.download_failed"
    assert exc.values["model"] == MODEL
    assert "glimpse " not in str(exc)

def payload(seed: int = 1, size: int = SIZE) -> bytes:
    return random.Random(seed).randbytes(size)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Served:
    """One file on the test server and how it misbehaves."""

    data: bytes
    status: int | None = None  # answer every request with this error status
    ignore_range: bool = False  # always 200 with the whole file
    wrong_bytes: bool = False  # same length, different content
    close_after: int | None = None  # send this many body bytes, then close the connection...
    close_times: int = 1  # ...on this many requests
    stall_after: int | None = None  # send this many body bytes, then wait for `release`
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    resume: threading.Event = field(default_factory=threading.Event)


@dataclass
class Request:
    path: str
    range: str | None
    user_agent: str | None
    status: int
    sent: int = 0  # body bytes written


class Server:
    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                try:
                    server.handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (cancelled): what the test wanted

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, data: bytes, **misbehaviour: object) -> Served:
        served = Served(data, **misbehaviour)  # type: ignore[arg-type]
        self.files[path] = served
        return served

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        served = self.files.get(h.path)
        req = Request(h.path, h.headers.get("Range"), h.headers.get("User-Agent"), 0)
        with self.lock:
            self.requests.append(req)
        h.close_connection = True
        if served is None or served.status is not None:
            status = 404 if served is None or served.status is None else served.status
            req.status = status
            h.send_response(status)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        data = bytes(b ^ 0xFF for b in served.data) if served.wrong_bytes else served.data
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", req.range or "")
        if match and not served.ignore_range:
            start = int(match[1])
            if start >= len(data):
                req.status = 416
                h.send_response(416)
                h.send_header("Content-Range", f"bytes */{len(data)}")
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            req.status = 206
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            req.status = 200
            h.send_response(200)
            h.send_header("Accept-Ranges", "none" if served.ignore_range else "bytes")
        body = data[start:]
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if served.close_after is not None and served.close_times > 0:
            served.close_times -= 1
            self.send(h, req, body[:served.close_after])
            return  # close_connection: the client sees the body end early
        if served.stall_after is not None:
            self.send(h, req, body[:served.stall_after])
            served.stalled.set()
            served.release.wait(5)
            # A little more, so the client sees the cancel at its next chunk, then nothing
            # until the test is done with this connection.
            self.send(h, req, body[served.stall_after:served.stall_after + 4096])
            served.resume.wait(5)
            self.send(h, req, body[served.stall_after + 4096:])
            return
        self.send(h, req, body)

    @staticmethod
    def send(h: BaseHTTPRequestHandler, req: Request, data: bytes) -> None:
        h.wfile.write(data)
        h.wfile.flush()
        req.sent += len(data)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's proxy settings must not route 127.0.0.1 elsewhere.
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def running_server() -> Iterator[Server]:
    srv = Server()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


@pytest.fixture
def server(running_server: Server) -> Iterator[Server]:
    """The shared server with no files and no requests logged: each test sets up its own."""
    running_server.files.clear()
    running_server.requests.clear()
    try:
        yield running_server
    finally:
        for served in running_server.files.values():
            served.release.set()  # a stalled handler thread must not outlive its test
            served.resume.set()


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "models" / "clip.onnx"


def test_plain_download_is_verified_and_leaves_no_part(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/m", data)
    assert download([server.url("/m")], dest, sha256=sha(data), size=len(data),
                    what=MODEL) == dest
    assert dest.read_bytes() == data
    assert not part_path(dest).exists()
    assert [(r.range, r.status, r.sent) for r in server.requests] == [(None, 200, len(data))]
    assert server.requests[0].user_agent == USER_AGENT
    assert USER_AGENT.startswith("glimpse-desktop/")


def test_dropped_connection_resumes_the_same_url_with_range(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/m", data, close_after=100_000)
    download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL)
    assert dest.read_bytes() == data
    first, second = server.requests
    assert (first.range, first.sent) == (None, 100_000)
    assert (second.range, second.status, second.sent) == ("bytes=100000-", 206, len(data) - 100_000)


def test_a_part_left_by_an_earlier_call_is_resumed(server: Server, dest: Path) -> None:
    data = payload()
    served = server.add("/m", data, close_after=120_000, close_times=2)
    with pytest.raises(DownloadError) as info:
        download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL)
    assert not isinstance(info.value, ChecksumError)
    assert "resume" in str(info.value)
    # The retry asked for the rest and lost it too; what arrived is kept.
    assert part_path(dest).read_bytes() == data[:240_000]
    assert not dest.exists()

    served.close_times = 0
    server.requests.clear()
    download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL)
    assert dest.read_bytes() == data
    assert [(r.range, r.sent) for r in server.requests] == [("bytes=240000-", len(data) - 240_000)]


def test_a_server_that_ignores_range_is_downloaded_again(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/m", data, ignore_range=True)
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(data[:50_000])
    download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL)
    assert dest.read_bytes() == data
    assert [(r.range, r.status, r.sent) for r in server.requests] == [
        ("bytes=50000-", 200, len(data))]
    assert not part_path(dest).exists()


def test_a_complete_part_is_checked_after_416(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/m", data)
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(data)
    # No size given, so only the server can say that the part is complete.
    download([server.url("/m")], dest, sha256=sha(data), what=MODEL)
    assert dest.read_bytes() == data
    assert [(r.range, r.status, r.sent) for r in server.requests] == [
        (f"bytes={len(data)}-", 416, 0)]


def test_a_damaged_complete_part_is_fetched_again(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/m", data)
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(data[:-1] + b"\0")
    download([server.url("/m")], dest, sha256=sha(data), what=MODEL)
    assert dest.read_bytes() == data
    assert [(r.range, r.status) for r in server.requests] == [
        (f"bytes={len(data)}-", 416), (None, 200)]


def test_a_complete_part_of_known_size_needs_no_request(server: Server, dest: Path) -> None:
    data = payload()
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(data)
    download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL)
    assert dest.read_bytes() == data
    assert server.requests == []


def test_wrong_bytes_raise_checksum_error_and_leave_nothing(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/m", data, wrong_bytes=True)
    with pytest.raises(ChecksumError) as info:
        download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL)
    message = str(info.value)
    assert sha(data) in message
    assert sha(bytes(b ^ 0xFF for b in data)) in message
    _says_install_by_hand(info.value)
    assert not dest.exists()
    assert not part_path(dest).exists()


def test_wrong_sha256_raises_checksum_error(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/m", data)
    with pytest.raises(ChecksumError, match="expected " + "0" * 64):
        download([server.url("/m")], dest, sha256="0" * 64, what=MODEL)
    assert not dest.exists()
    assert not part_path(dest).exists()


def test_size_mismatch_raises_checksum_error(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/m", data)
    with pytest.raises(ChecksumError) as info:
        download([server.url("/m")], dest, sha256=sha(data), size=len(data) + 1, what=MODEL)
    assert f"{len(data):,}" in str(info.value)
    assert f"{len(data) + 1:,}" in str(info.value)
    assert not dest.exists()
    assert not part_path(dest).exists()


def test_a_failing_url_moves_on_to_the_next(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/gone", data, status=404)
    server.add("/broken", data, status=500)
    server.add("/m", data)
    urls = [server.url("/gone"), server.url("/broken"), server.url("/m")]
    download(urls, dest, sha256=sha(data), size=len(data), what=MODEL)
    assert dest.read_bytes() == data
    assert [(r.path, r.status) for r in server.requests] == [
        ("/gone", 404), ("/broken", 500), ("/m", 200)]


def test_the_final_error_lists_every_url(server: Server, dest: Path) -> None:
    server.add("/gone", b"", status=404)
    server.add("/broken", b"", status=503)
    urls = [server.url("/gone"), server.url("/broken")]
    with pytest.raises(DownloadError) as info:
        download(urls, dest, sha256="1" * 64, what=MODEL)
    message = str(info.value)
    assert f"{urls[0]}: HTTP 404" in message
    assert f"{urls[1]}: HTTP 503" in message
    _says_install_by_hand(info.value)


def test_connection_refused_says_how_to_get_the_file_by_hand(dest: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/m"
    with pytest.raises(DownloadError) as info:
        download([url], dest, sha256="1" * 64, what=MODEL)
    message = str(info.value)
    assert url in message
    assert "refused" in message
    _says_install_by_hand(info.value)
    assert "1" * 64 in message  # so a file fetched by hand can be checked


def test_no_network_says_so(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    # A failing DNS lookup cannot be produced for real here; the resolver is the seam.
    def no_dns(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(DownloadError) as info:
        download(["https://models.example.org/clip.onnx"], dest, sha256="1" * 64, what=MODEL)
    assert "could not reach models.example.org (no network?)" in str(info.value)
    _says_install_by_hand(info.value)


def test_cancel_keeps_the_part_and_a_later_call_resumes(server: Server, dest: Path) -> None:
    data = payload()
    served = server.add("/m", data, stall_after=100_000)
    token = CancelToken()
    outcome: list[BaseException | Path] = []

    def run() -> None:
        try:
            outcome.append(download([server.url("/m")], dest, sha256=sha(data),
                                    size=len(data), cancel=token, what=MODEL))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert served.stalled.wait(5)
    token.cancel()
    served.release.set()
    worker.join(5)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
    kept = part_path(dest).stat().st_size
    assert 0 < kept < len(data)
    assert part_path(dest).read_bytes() == data[:kept]
    assert not dest.exists()
    served.resume.set()

    served.stall_after = None
    server.requests.clear()
    download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL)
    assert dest.read_bytes() == data
    assert [(r.range, r.status, r.sent) for r in server.requests] == [
        (f"bytes={kept}-", 206, len(data) - kept)]


def test_progress_counts_bytes_up_to_the_total(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/m", data)
    events: list[Progress] = []
    download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL,
             progress=events.append)
    assert events and all(e.phase == "download" and e.job == MODEL for e in events)
    done = [e.done for e in events]
    assert done == sorted(done)
    assert all(e.total == len(data) for e in events)
    assert events[-1].done == len(data) and events[-1].finished


def test_a_correct_dest_returns_without_a_request(server: Server, dest: Path) -> None:
    data = payload()
    dest.parent.mkdir(parents=True)
    dest.write_bytes(data)
    assert download([server.url("/m")], dest, sha256=sha(data), what=MODEL) == dest
    assert server.requests == []


def test_a_wrong_dest_is_replaced(server: Server, dest: Path) -> None:
    data = payload()
    server.add("/m", data)
    dest.parent.mkdir(parents=True)
    dest.write_bytes(payload(seed=2))
    download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL)
    assert dest.read_bytes() == data


def test_disk_full_keeps_the_part_resumable(server: Server, tmp_path: Path) -> None:
    data = payload()
    server.add("/m", data)
    with ram_disk(tmp_path / "disk", "1m") as disk:
        dest = disk / "models" / "clip.onnx"
        dest.parent.mkdir()
        # A real, nearly full disk: about a third of the model fits.
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        filler = disk / "other-files"
        filler.write_bytes(bytes(free - 100_000))
        with pytest.raises(DownloadError) as info:
            download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL)
        assert "Not enough free disk space" in str(info.value)
        assert str(dest.parent) in str(info.value)
        kept = part_path(dest).read_bytes()
        assert 0 < len(kept) < len(data)
        assert kept == data[:len(kept)]          # what was written is the file's start
        assert not dest.exists()

        # The person frees some space; the download goes on from where it stopped.
        filler.unlink()
        server.requests.clear()
        download([server.url("/m")], dest, sha256=sha(data), size=len(data), what=MODEL)
        assert dest.read_bytes() == data
        assert [r.range for r in server.requests] == [f"bytes={len(kept)}-"]
        assert not part_path(dest).exists()


def test_an_unwritable_folder_is_a_plain_error(server: Server) -> None:
    data = payload()
    server.add("/m", data)
    # Outside pytest's tmp_path, whose parents are private to root: 'nobody' must reach it.
    with tempfile.TemporaryDirectory(prefix="glimpse-perm-") as tmp:
        os.chmod(tmp, 0o755)
        dest = Path(tmp) / "models" / "clip.onnx"
        dest.parent.mkdir()
        dest.parent.chmod(0o555)     # nobody may write here, its owner included

        def attempt() -> None:
            with pytest.raises(DownloadError, match="may not write to") as info:
                download([server.url("/m")], dest, sha256=sha(data), what=MODEL)
            assert str(dest.parent) in str(info.value)

        try:
            assert unprivileged(attempt) == 0
        finally:
            dest.parent.chmod(0o755)
        assert list(dest.parent.iterdir()) == []


def test_install_file_verifies_and_copies(tmp_path: Path, dest: Path) -> None:
    data = payload()
    src = tmp_path / "Downloads" / "clip.onnx"
    src.parent.mkdir()
    src.write_bytes(data)
    before = src.stat()
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(data[:10])  # a download given up on
    events: list[Progress] = []
    assert install_file(src, dest, sha256=sha(data), size=len(data),
                        progress=events.append) == dest
    assert dest.read_bytes() == data
    assert src.read_bytes() == data and src.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in dest.parent.iterdir()) == ["clip.onnx"]
    assert events[-1].done == len(data) and events[-1].finished


def test_install_file_refuses_a_wrong_file_and_leaves_it_alone(tmp_path: Path,
                                                              dest: Path) -> None:
    data, other = payload(), payload(seed=3)
    src = tmp_path / "other.onnx"
    src.write_bytes(other)
    with pytest.raises(ChecksumError) as info:
        install_file(src, dest, sha256=sha(data))
    assert sha(data) in str(info.value) and sha(other) in str(info.value)
    assert src.read_bytes() == other
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # no temporary copy left behind

    with pytest.raises(ChecksumError, match="should be"):
        install_file(src, dest, sha256=sha(data), size=len(data) + 5)
    assert src.read_bytes() == other


def test_install_file_onto_itself_only_verifies(dest: Path) -> None:
    data = payload()
    dest.parent.mkdir(parents=True)
    dest.write_bytes(data)
    assert install_file(dest, dest, sha256=sha(data), size=len(data)) == dest
    assert dest.read_bytes() == data


def test_sha256_file_matches_hashlib_and_honours_cancel(tmp_path: Path) -> None:
    data = payload()
    path = tmp_path / "f"
    path.write_bytes(data)
    assert sha256_file(path) == sha(data)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        sha256_file(path, token)
