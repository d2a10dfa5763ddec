"""Secrets out of text: what a remote service says about an error never carries a key further.

A captioning service may echo the request back in its error ("invalid header Authorization:
Bearer sk-…"), and a URL may hold a user name and password. Every place where such text becomes
data (an exception's message, a row of the errors table, a log record) passes it through
``redact`` first. It knows the keys this process has used (``remember_secret``) and the usual
shapes of credentials, so a key it was never told about is still caught when it looks like one.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

__all__ = ["MASK", "forget_secrets", "redact", "remember_secret", "url_userinfo"]

MASK = "[redacted]"

# Shorter strings would mask ordinary words; no real API key is this short.
_MIN_SECRET = 6

_secrets: set[str] = set()
_lock = threading.Lock()
_factory_installed = False

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # URL userinfo: scheme://user:password@host, scheme://token@host.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s\"'<>]+@"), r"\1" + MASK + "@"),
    # HTTP credentials schemes, wherever they appear (an echoed header, a JSON dump of one).
    (re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=:-]+"), r"\1\2" + MASK),
    # Other schemes only with a credential-like value: "invalid token provided" is prose.
    (re.compile(r"(?i)\b(basic|token|digest)(\s+)(?=[A-Za-z0-9._~+/=:-]*\d)"
                r"[A-Za-z0-9._~+/=:-]{16,}"), r"\1\2" + MASK),
    # Headers and fields that hold a key, as "name: value", "name=value" or JSON.
    (re.compile(r"(?i)((?:authorization|proxy-authorization|x-api-key|api[-_]?key|"
                r"access[-_]?token|secret|password)[\"']?\s*[:=]\s*[\"']?"
                r"(?:(?:bearer|basic|token|digest)\s+)?+)"
                r"(?!\[redacted\])[^\s\"',;&}]+"), r"\1" + MASK),
    # The shapes of the keys of OpenAI, OpenRouter, Groq, Anthropic, Hugging Face, Google.
    (re.compile(r"\b(?:sk|gsk|hf|xai|pk|rk)[-_][A-Za-z0-9_-]{8,}"), MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"), MASK),
)


def remember_secret(secret: str | None) -> None:
    """Mask ``secret`` wherever ``redact`` sees it from now on (the API key a request uses)."""
    if secret and len(secret.strip()) >= _MIN_SECRET:
        with _lock:
            _secrets.add(secret.strip())
        _install_log_factory()


def forget_secrets() -> None:
    """Forget the keys given to ``remember_secret`` (tests)."""
    with _lock:
        _secrets.clear()


def redact(text: str, secrets: Iterable[str | None] = (), *, shapes: bool = True) -> str:
    """``text`` with every known key (those remembered, and ``secrets``), credential shapes
    (Bearer tokens, ``Authorization:`` values, ``sk-…`` keys) and URL passwords masked.
    ``shapes=False`` masks the known keys only (a caption may rightly quote "password: …"
    read off a photo)."""
    if not text:
        return text
    with _lock:
        known = set(_secrets)
    known.update(s.strip() for s in secrets if s and len(s.strip()) >= _MIN_SECRET)
    # Longest first: a key that contains another is masked whole.
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, MASK)
    if not shapes:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def url_userinfo(url: str) -> bool:
    """True when ``url`` holds a user name or password (``http://user:pw@host/``)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "@" in url
    return bool(parts.netloc and "@" in parts.netloc)


def _install_log_factory() -> None:
    """Every log record, whoever logs it (the HTTP client, ours), is redacted as it is made:
    no handler or log file configured later can see the key."""
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is logging's own error to report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)
