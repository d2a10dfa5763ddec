"""Settings a person can change, by name: the CLI's config verb and the GUI's Settings.

Each setting is kept in the library's `settings` table under its own name. Scripts may override
some of them by environment variable (the environment wins, and the settings list says so).
API keys are not settings: they come from the environment or the OS keyring, never from the
library (see core/captions.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from glimpse_desktop.kernel import plugins
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer

__all__ = ["KERNEL_KEYS", "Config", "ConfigError", "Key", "Setting", "get_setting", "keys",
           "set_setting"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def get_setting(conn: Connection, key: str) -> str | None:
    """A raw value of the library's ``settings`` table (internal state as well as the
    settings below), or None."""
    value = conn.one("SELECT value FROM settings WHERE key = ?", (key,))
    return None if value is None else str(value)


def set_setting(conn: Connection, key: str, value: str | None) -> None:
    """Store (or with None, remove) a raw value of the ``settings`` table; inside a write."""
    if value is None:
        conn.execute("DELETE FROM settings WHERE key = ?", (key,))
    else:
        conn.execute("INSERT INTO settings(key, value) VALUES (?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


class ConfigError(LibraryError):
    """An unknown setting, or a value it does not take."""


@dataclass(frozen=True)
class Key:
    """One setting: its type ('bool', 'int', 'float', 'str', 'url'), default, limits and
    help."""

    name: str
    kind: str
    default: Any
    help: str
    env: str | None = None
    low: float | None = None
    high: float | None = None

    def parse(self, raw: Any) -> Any:
        """``raw`` (text from the command line or the settings table, or a Python value) as
        this setting's type; ConfigError says what it takes."""
        text = str(raw).strip()
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ConfigError(f"{self.name} is on or off: give true or false, not {text!r}")
        if self.kind in ("int", "float"):
            try:
                value: float = int(text) if self.kind == "int" else float(text)
            except ValueError:
                raise ConfigError(f"{self.name} takes a number, not {text!r}") from None
            if (self.low is not None and value < self.low) or (
                    self.high is not None and value > self.high):
                raise ConfigError(f"{self.name} takes a number from {_num(self.low)} to "
                                  f"{_num(self.high)}, not {text}")
            return value
        if self.kind == "url":
            return _service_url(self.name, text)
        return str(raw)


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting as it stands: what it is, the value in force and where that value came
    from.

    ``name``: the dotted name (``caption.model``). ``value``: the value in force, of the
    setting's type. ``source``: where it came from: 'environment' (``env`` is set and wins),
    'library' (stored in this library) or 'default'. ``default``: the value when nothing is
    set. ``type``: 'bool', 'int', 'float', 'str' or 'url'. ``help``: one or two sentences for
    a person. ``env``: the environment variable that overrides it, or None when none does.
    """

    name: str
    value: Any
    source: str
    default: Any
    type: str
    help: str
    env: str | None


def _service_url(name: str, text: str) -> str:
    """A service address without credentials in it: a password in the URL would be kept in
    the library and shown in the consent text, the settings and every error that quotes it.
    """
    from urllib.parse import urlsplit

    from glimpse_desktop.kernel.redact import redact, url_userinfo

    if url_userinfo(text):
        raise ConfigError(f"{name} must not hold a user name or password "
                          f"({redact(text)}): give the address without them",
                          code="config.url_credentials",
                          values={"setting": name, "url": redact(text)})
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} takes an http:// or https:// address, not {redact(text)!r}")
    return text


def _num(value: float | None) -> str:
    return "any" if value is None else f"{value:g}"


# The kernel's own settings; each feature (and any plugin) adds its own through the
# ``glimpse_settings`` hook: caption.* from captions, writeback.* from write-back.
KERNEL_KEYS: tuple[Key, ...] = (
    Key("models.unload_after", "float", 5.0,
        "Minutes a model (search, faces) may sit unused before its memory is given back; it "
        "loads again when next needed. 0: keep models loaded.",
        env="GLIMPSE_MODELS_UNLOAD_AFTER", low=0, high=24 * 60),
)

# A setting's name: dotted lower-case words, the first one the plugin's own prefix.
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def keys() -> dict[str, Key]:
    """Every setting by name: the features' and plugins' (in plugin order), then the
    kernel's. The kernel's names are taken first, so no plugin takes over a kernel setting.
    A record that is not a ``Key``, a malformed name, or a name already taken is left out
    and reported as the problem of the plugin that gave it (``<plugin>.glimpse_settings``,
    shown in the plugin list)."""
    host = plugins.host()
    kernel = {key.name: key for key in KERNEL_KEYS}
    found: dict[str, Key] = {}
    for answer in host.each("glimpse_settings"):
        problems = []
        for key in answer.items:
            if not isinstance(key, Key) or not _NAME.match(key.name) or key.name in found \
                    or key.name in kernel:
                name = getattr(key, "name", repr(key))
                problems.append(f"setting {name!r} left out: not a new, dotted Key")
                continue
            found[key.name] = key
        if problems:
            host.record(answer.plugin, "glimpse_settings", "; ".join(problems))
        elif answer.problem is None:
            host.forget(answer.plugin, "glimpse_settings")
    return {**found, **kernel}


class Config:
    """The library's settings by name, with their defaults and environment overrides."""

    def __init__(self, reader: Callable[[], Connection], writer: Writer) -> None:
        self._reader = reader
        self._writer = writer

    @staticmethod
    def key(name: str) -> Key:
        """The setting called ``name``; ConfigError lists the known ones."""
        try:
            return keys()[name]
        except KeyError:
            if "key" in name.lower():
                raise ConfigError(f"there is no setting called {name!r}; API keys are never "
                                  "kept in the library", code="config.key_not_a_setting",
                                  values={"setting": name}) from None
            raise ConfigError(f"there is no setting called {name!r}; known settings: "
                              + ", ".join(keys()), code="config.unknown",
                              values={"setting": name}) from None

    def get(self, name: str) -> Any:
        """The value in force: the environment's, else the library's, else the default."""
        return self.describe(name).value

    def stored(self, name: str) -> Any:
        """The library's own value (ignoring the environment), or the default."""
        key = self.key(name)
        raw = get_setting(self._reader(), name)
        if raw is None:
            return key.default
        try:
            return key.parse(raw)
        except ConfigError:
            return key.default

    def describe(self, name: str) -> Setting:
        """The setting called ``name`` with its value in force and where that came from."""
        key = self.key(name)

        def setting(value: Any, source: str) -> Setting:
            return Setting(name=name, value=value, source=source, default=key.default,
                           type=key.kind, help=key.help, env=key.env)

        env_value = os.environ.get(key.env) if key.env else None
        if env_value:
            try:
                return setting(key.parse(env_value), "environment")
            except ConfigError:
                pass
        raw = get_setting(self._reader(), name)
        if raw is not None:
            try:
                return setting(key.parse(raw), "library")
            except ConfigError:
                pass
        return setting(key.default, "default")

    def items(self) -> list[Setting]:
        """Every setting, described."""
        return [self.describe(name) for name in keys()]

    def set(self, name: str, value: Any) -> Any:
        """Store ``value`` (text or a Python value) for ``name``; returns it parsed."""
        key = self.key(name)
        parsed = key.parse(value)
        text = ("true" if parsed else "false") if key.kind == "bool" else str(parsed)
        self._writer.call(lambda c: set_setting(c, name, text))
        return parsed

    def unset(self, name: str) -> None:
        """Back to the default."""
        self.key(name)
        self._writer.call(lambda c: set_setting(c, name, None))
