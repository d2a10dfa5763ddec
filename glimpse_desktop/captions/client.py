"""The client side of captioning: one OpenAI-compatible chat-completions service.

Any service that speaks OpenAI's chat-completions protocol with images (OpenAI, Groq,
OpenRouter, a local Ollama, LM Studio or vLLM) is reached through the official ``openai``
client with its base URL. The client's own retries are off: ours can be cancelled from the
GUI or Ctrl-C while they wait, honour ``Retry-After``, and are tested against a local server.

Nothing here reads the library or settings: core/captions.py decides what is sent, and whether
anything may be sent at all.
"""

from __future__ import annotations

import base64
import email.utils
import io
import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from PIL import Image

from glimpse_desktop.kernel.messages import CodedError
from glimpse_desktop.kernel.progress import Cancelled, CancelToken
from glimpse_desktop.kernel.redact import redact, remember_secret

__all__ = ["DEFAULT_PROMPT", "JSON_AGAIN", "Captioner", "RateLimiter", "Reply", "ServiceError",
           "encode_jpeg", "host_of", "is_local", "parse_json", "retry_after"]

DEFAULT_PROMPT = """\
Describe this photo for a personal photo library's search index. Reply with one JSON object and \
nothing else, with these keys:
"summary": one sentence saying what the photo shows;
"objects": a list of the main things in it, each {"label": a noun, "colour": its main colour \
or null, "position": where it is in the frame, e.g. "left", "centre", "top right"};
"scene": the kind of place, in a few words (e.g. "beach", "city street", "kitchen");
"mood": one or two words for its mood;
"techniques": the photographic techniques used, chosen from "rule of thirds", "leading lines", \
"symmetry", "framing", "pattern", "centered" (an empty list when none applies);
"text": any text visible in the photo, verbatim, or "" when there is none."""

# The second request when a reply that should have been JSON was not.
JSON_AGAIN = ("That was not valid JSON. Reply again with the JSON object only: no prose, no "
              "code fences.")
SYSTEM = "You describe photographs accurately and briefly. You never invent details."

# Tests make these small; a person never needs to.
BACKOFF_BASE = 1.0       # seconds before the first retry, doubled each time (with jitter)
MAX_WAIT = 60.0          # the longest single wait, whatever a Retry-After asks for
MAX_ATTEMPTS = 6         # requests per call before giving up
TIMEOUT = 120.0          # seconds for one request (a local model on a CPU is slow)

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


class ServiceError(CodedError):
    """The service could not caption a photo. ``fatal``: no later photo will fare better (a
    refused key, an unknown model, a service still down after retries), so a run stops.

    The message is redacted here, where a service's words become ours: a service that echoes
    the request (its Authorization header, a URL with a password) cannot put the key into the
    errors table, a log or the terminal."""

    def __init__(self, message: str, *, fatal: bool, status: int | None = None,
                 code: str = "", values: Mapping[str, Any] | None = None) -> None:
        super().__init__(redact(message), code=code, values=values)
        self.fatal = fatal
        self.status = status


@dataclass
class Reply:
    """What the service answered: its text, the JSON object in it (None when it gave none),
    the tokens it counted (None when it did not say), and how many requests it took."""

    text: str
    data: dict[str, Any] | None
    tokens_in: int | None
    tokens_out: int | None
    requests: int = 1


def host_of(base_url: str) -> str:
    """The host name of a service URL ("api.openai.com"), lower case."""
    return (urlparse(base_url).hostname or "").lower()


def is_local(base_url: str) -> bool:
    """True for a service on this machine or the local network's mDNS names: photos sent
    there never leave the person's own computers, and cost nothing."""
    host = host_of(base_url)
    return host in _LOCAL_HOSTS or host.startswith("127.") or host.endswith(".local")


def encode_jpeg(image: Image.Image, max_edge: int, quality: int = 85) -> bytes:
    """A downscaled JPEG copy of ``image`` that carries no metadata at all (no EXIF, GPS,
    XMP or ICC profile): only pixels leave the machine."""
    image = image.convert("RGB")
    if max(image.size) > max_edge:
        scale = max_edge / max(image.size)
        image = image.resize((max(1, round(image.width * scale)),
                              max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
    # A fresh image from raw pixels: nothing in .info (exif, icc_profile, xmp) can ride along.
    clean = Image.frombytes("RGB", image.size, image.tobytes())
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


def parse_json(text: str) -> dict[str, Any] | None:
    """The JSON object in a reply: bare, inside ```json fences, or between the first "{" and
    the last "}" of a chatty reply; None when there is none."""
    candidates = [text.strip()]
    fenced = _FENCE.match(text)
    if fenced:
        candidates.insert(0, fenced.group(1).strip())
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds a service asked us to wait: ``retry-after-ms``, ``Retry-After`` in seconds, or
    ``Retry-After`` as an HTTP date; None when it did not say."""
    if not headers:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    return None


class RateLimiter:
    """At most ``rpm`` requests a minute, shared by every thread of a run: requests are spaced
    ``60 / rpm`` seconds apart (a provider counts over any minute, so bursts are what trip
    it). ``clock`` and ``wait`` are seams for tests; ``wait`` returns True when cancelled."""

    def __init__(self, rpm: int, *, clock: Callable[[], float] = time.monotonic,
                 wait: Callable[[CancelToken, float], bool] | None = None) -> None:
        self.interval = 60.0 / max(1, rpm)
        self._clock = clock
        self._wait = wait or (lambda token, seconds: token.wait(seconds))
        self._lock = threading.Lock()
        self._next = float("-inf")

    def acquire(self, cancel: CancelToken | None = None) -> None:
        """Wait for this request's turn; raises Cancelled if the run is stopped meanwhile."""
        token = cancel or CancelToken()
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        delay = slot - now
        if delay > 0 and self._wait(token, delay):
            raise Cancelled()
        token.raise_if_cancelled()


def _status_message(host: str, model: str, status: int, detail: str) -> str:
    if status == 401:
        return f"{host} did not accept the API key (401). {detail}".strip()
    if status == 403:
        return f"{host} refused access (403): {detail or 'the key may lack permission'}"
    if status == 404:
        return (f"{host} does not know the model {model!r} or the address is wrong (404): "
                f"check caption.model and caption.base_url. {detail}").strip()
    return f"{host} rejected the request ({status}): {detail or 'no reason given'}"


class Captioner:
    """Captions photos with one model of one service. Thread-safe: one instance serves every
    worker of a run."""

    def __init__(self, base_url: str, model: str, api_key: str | None, *,
                 timeout: float | None = None, backoff_base: float | None = None,
                 max_wait: float | None = None, max_attempts: int | None = None,
                 limiter: RateLimiter | None = None,
                 wait: Callable[[CancelToken, float], bool] | None = None) -> None:
        import openai  # a second or so to import: only when something is really sent

        self.base_url = base_url
        self.host = host_of(base_url) or base_url
        self.model = model
        self.backoff_base = BACKOFF_BASE if backoff_base is None else backoff_base
        self.max_wait = MAX_WAIT if max_wait is None else max_wait
        self.max_attempts = MAX_ATTEMPTS if max_attempts is None else max_attempts
        self.limiter = limiter
        self._wait = wait or (lambda token, seconds: token.wait(seconds))
        self._openai = openai
        remember_secret(api_key)
        # A local service needs no key, but the client insists on one; it is never checked.
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed",
                                     max_retries=0,
                                     timeout=TIMEOUT if timeout is None else timeout)

    def close(self) -> None:
        self._client.close()

    def messages(self, jpeg: bytes, prompt: str, context: str | None = None
                 ) -> list[dict[str, Any]]:
        """The chat request for one photo: the prompt (and the date and place when the
        person chose to send them) and the image as a data URL."""
        text = prompt if not context else f"{prompt}\n\n{context}"
        url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
        return [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": [{"type": "text", "text": text},
                                             {"type": "image_url", "image_url": {"url": url}}]}]

    def caption(self, jpeg: bytes, prompt: str, *, context: str | None = None,
                want_json: bool = True, cancel: CancelToken | None = None) -> Reply:
        """Ask for a caption of one JPEG. With ``want_json``, a reply that is not a JSON
        object is asked for once more as JSON only; if that fails too, the plain text is the
        reply. Raises ServiceError, or Cancelled when ``cancel`` is set while waiting."""
        token = cancel or CancelToken()
        messages = self.messages(jpeg, prompt, context)
        text, tokens_in, tokens_out = self._send(messages, token)
        data = parse_json(text)
        reply = Reply(text, data, tokens_in, tokens_out)
        if data is None and want_json:
            again = [*messages, {"role": "assistant", "content": text},
                     {"role": "user", "content": JSON_AGAIN}]
            try:
                text2, in2, out2 = self._send(again, token)
            except (Cancelled, ServiceError):
                # The first reply is paid for and describes the photo: keep it as text.
                return reply
            reply.requests = 2
            reply.tokens_in = _add(tokens_in, in2)
            reply.tokens_out = _add(tokens_out, out2)
            data2 = parse_json(text2)
            if data2 is not None:
                reply.text, reply.data = text2, data2
        return reply

    def _send(self, messages: list[dict[str, Any]], token: CancelToken
              ) -> tuple[str, int | None, int | None]:
        """One completion, with retries on 429, 5xx, timeouts and lost connections."""
        openai = self._openai
        last = ""
        for attempt in range(self.max_attempts):
            token.raise_if_cancelled()
            if self.limiter is not None:
                self.limiter.acquire(token)
            asked: float | None = None
            try:
                response = self._client.chat.completions.create(
                    model=self.model, messages=messages, temperature=0.2)  # type: ignore[arg-type]
            except openai.APIStatusError as exc:
                status = exc.status_code
                detail = _detail(exc)
                if status != 429 and status < 500:
                    raise ServiceError(_status_message(self.host, self.model, status, detail),
                                       fatal=status in (401, 403, 404), status=status,
                                       code="captions.key_refused" if status == 401 else "",
                                       values={"host": self.host, "model": self.model}
                                       ) from None
                last = f"{self.host} answered {status}" + (f": {detail}" if detail else "")
                asked = retry_after(exc.response.headers)
            except openai.APITimeoutError:
                last = f"{self.host} did not answer in time"
            except openai.APIConnectionError as exc:
                last = f"cannot reach {self.host}: {exc.__cause__ or exc}"
            except openai.OpenAIError as exc:
                raise ServiceError(f"{self.host}: {exc}", fatal=False) from None
            else:
                choices = response.choices or []
                content = choices[0].message.content if choices else None
                usage = response.usage
                # A service that echoes the request in a good answer must not put the key
                # into the reply cache and the captions either.
                return (redact(content or "", shapes=False),
                        usage.prompt_tokens if usage is not None else None,
                        usage.completion_tokens if usage is not None else None)
            if attempt + 1 == self.max_attempts:
                break
            # Exponential backoff with full jitter, unless the service said how long.
            delay = asked if asked is not None else \
                self.backoff_base * (2 ** attempt) * random.uniform(0.5, 1.0)
            if self._wait(token, min(delay, self.max_wait)):
                raise Cancelled()
        raise ServiceError(f"{last} (gave up after {self.max_attempts} tries; run again later)",
                           fatal=True)


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


def _detail(exc: Any) -> str:
    """The service's own words about an error, when its body has them: redacted whole, then
    shortened (shortening first could cut a key where redaction no longer recognises it)."""
    body = getattr(exc, "body", None)
    text = str(getattr(exc, "message", "") or "")
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            text = str(inner["message"])
        elif isinstance(inner, str):
            text = inner
    return redact(text)[:300]
