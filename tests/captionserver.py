"""A chat-completions service on 127.0.0.1 for the captioning tests.

It speaks the wire format the real ``openai`` client uses (POST /v1/chat/completions, replies
with id, object "chat.completion", choices[0].message.content and usage), records every
request body and its headers, and plays back scripted replies: good JSON, JSON in fences,
malformed text, slow answers, 429 with Retry-After, 500, 401, and errors that echo the
request's Authorization header and URL back (as careless services do). It also answers as an
HTTP proxy (an absolute URL in the request line), so a test can stand in for api.openai.com.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


@dataclass
class Answer:
    status: int = 200
    body: Any = None            # a dict (sent as JSON) or text
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    echo: bool = False          # put the request's Authorization header and URL in the body


def caption_json(summary: str = "A red bicycle leans against a yellow wall.",
                 **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "summary": summary,
        "objects": [{"label": "Bicycle", "colour": "red", "position": "centre"},
                    {"label": "wall", "colour": "yellow", "position": "background"}],
        "scene": "city street",
        "mood": "calm",
        "techniques": ["rule of thirds", "leading lines"],
        "text": "NO PARKING",
    }
    data.update(extra)
    return data


def completion(content: str, model: str = "test-vision", tokens_in: int = 1000,
               tokens_out: int = 100) -> dict[str, Any]:
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out,
                      "total_tokens": tokens_in + tokens_out}}


def good(summary: str = "A red bicycle leans against a yellow wall.", **extra: Any) -> Answer:
    return Answer(body=completion(json.dumps(caption_json(summary, **extra))))


def fenced(summary: str = "A red bicycle in fences.") -> Answer:
    return Answer(body=completion("```json\n" + json.dumps(caption_json(summary)) + "\n```"))


def text(content: str) -> Answer:
    return Answer(body=completion(content))


def slow(seconds: float, then: Answer | None = None) -> Answer:
    answer = then or good()
    return Answer(answer.status, answer.body, answer.headers, delay=seconds)


def error(status: int, message: str = "error", headers: dict[str, str] | None = None
          ) -> Answer:
    return Answer(status, {"error": {"message": message, "type": "test_error",
                                     "code": str(status)}}, headers or {})


def echo(status: int, message: str = "invalid request") -> Answer:
    """An error whose body quotes the request back: its Authorization header (the key) and
    its URL, in the message and as fields of their own."""
    return Answer(status, {"error": {"message": message, "type": "invalid_request_error",
                                     "code": str(status)}}, echo=True)


Script = Answer | Callable[[dict[str, Any]], Answer]


class FakeService:
    """Records requests; answers each with the next scripted answer, else ``default``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.script: deque[Script] = deque()
        self.default: Script = lambda body: good()
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with service._lock:
                    service.requests.append(body)
                    service.headers.append({k.lower(): v for k, v in self.headers.items()})
                    service.paths.append(self.path)
                    spec = service.script.popleft() if service.script else service.default
                if not self.path.endswith("/chat/completions"):
                    answer = error(404, f"no route {self.path}")
                else:
                    answer = spec(body) if callable(spec) else spec
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.echo:
                    auth = self.headers.get("authorization", "")
                    url = f"http://{self.headers.get('host', '')}{self.path}"
                    if isinstance(answer.body, dict):
                        inner = dict(answer.body.get("error") or {})
                        inner["message"] = (f"{inner.get('message', 'error')}: header "
                                            f"Authorization: {auth} for POST {url}")
                        inner["request"] = {"url": url, "headers": {"Authorization": auth}}
                        answer = Answer(answer.status, {"error": inner}, answer.headers)
                    else:
                        answer = Answer(answer.status, f"{answer.body} Authorization: {auth} "
                                        f"{url}", answer.headers)
                payload = (json.dumps(answer.body) if isinstance(answer.body, dict)
                           else str(answer.body)).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass        # the client gave up waiting (the slow answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="service")
def service_fixture() -> Iterator[FakeService]:
    fake = FakeService()
    try:
        yield fake
    finally:
        fake.close()


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps passwords in memory."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError("no such password") from None


@pytest.fixture(name="memory_keyring")
def memory_keyring_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """An empty in-memory keyring and no captioning keys or settings in the environment."""
    for name in ("GLIMPSE_CAPTION_API_KEY", "OPENAI_API_KEY", "GROQ_API_KEY",
                 "OPENROUTER_API_KEY", "GLIMPSE_CAPTION_BASE_URL", "GLIMPSE_CAPTION_MODEL"):
        monkeypatch.delenv(name, raising=False)
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(previous)
