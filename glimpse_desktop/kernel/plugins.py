"""The plugin host: one pluggy manager for the process, the built-in features and installed
plugins registered the same way.

Plugins come from two places: the default plugins (``glimpse_desktop.features.BUILTIN``, the
built-in features, as datasette lists its own) and the ``glimpse_desktop.plugins``
entry-point group of every installed distribution. Both are registered when the host is first
asked for, so a script that decodes a photo or adds a model without opening a library sees
the same readers and model kinds as the app. A plugin that fails to import or to register is
recorded with its reason and skipped; it never stops the app. ``GLIMPSE_DISABLE_PLUGINS=name,
name`` (or ``all``) keeps installed plugins from loading, for a person whose plugin breaks the
app.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from glimpse_desktop.kernel import hookspecs
from glimpse_desktop.kernel.hookspecs import PROJECT, hookimpl, hookspec

__all__ = ["ENTRY_POINT_GROUP", "Host", "PluginInfo", "hookimpl", "hookspec", "host"]

ENTRY_POINT_GROUP = "glimpse_desktop.plugins"
ENV_DISABLE = "GLIMPSE_DISABLE_PLUGINS"


@dataclass(frozen=True)
class PluginInfo:
    """One plugin as ``glimpse plugins`` lists it."""

    name: str
    builtin: bool
    version: str | None
    module: str | None
    hooks: tuple[str, ...]
    problem: str | None = None     # why it did not load (then it has no hooks)


@dataclass
class Host:
    """The process's plugin manager and what happened while loading plugins."""

    pm: pluggy.PluginManager
    builtin: dict[str, str] = field(default_factory=dict)       # name -> module
    installed: dict[str, str | None] = field(default_factory=dict)  # name -> version
    problems: dict[str, str] = field(default_factory=dict)       # name -> why it was skipped
    # "plugin.hook" -> why that plugin's hook failed (the plugin stays loaded)
    hook_problems: dict[str, str] = field(default_factory=dict)
    loaded_entry_points: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def register_builtin(self, modules: Iterable[str]) -> None:
        """Register the built-in features (module paths); idempotent."""
        with self.lock:
            for module_name in modules:
                name = module_name.rsplit(".", 2)[-2] if module_name.endswith(".plugin") \
                    else module_name.rsplit(".", 1)[-1]
                if name in self.builtin or self.pm.has_plugin(name):
                    continue
                try:
                    module = importlib.import_module(module_name)
                    self.pm.register(module, name=name)
                except Exception as exc:  # a broken feature is reported, never fatal
                    self.problems[name] = f"{type(exc).__name__}: {exc}"
                    continue
                self.builtin[name] = module_name

    def load_entry_points(self) -> None:
        """Register every installed plugin of the entry-point group, once per process."""
        with self.lock:
            if self.loaded_entry_points:
                return
            self.loaded_entry_points = True
            disabled = {n.strip() for n in os.environ.get(ENV_DISABLE, "").split(",")
                        if n.strip()}
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                version = ep.dist.version if ep.dist is not None else None
                if "all" in disabled or ep.name in disabled:
                    self.problems[ep.name] = f"turned off by {ENV_DISABLE}"
                    self.installed[ep.name] = version
                    continue
                if self.pm.has_plugin(ep.name) or ep.name in self.builtin:
                    self.problems[ep.name] = "a plugin of this name is already loaded"
                    continue
                try:
                    plugin = ep.load()
                    self.pm.register(plugin, name=ep.name)
                except Exception as exc:  # a broken plugin is reported and skipped
                    self.problems[ep.name] = f"{type(exc).__name__}: {exc}"
                self.installed[ep.name] = version

    def register(self, plugin: object, name: str) -> None:
        """Register a plugin object directly (tests, embedding applications)."""
        with self.lock:
            if not self.pm.has_plugin(name):
                self.pm.register(plugin, name=name)
                self.installed.setdefault(name, None)

    def unregister(self, name: str) -> None:
        with self.lock:
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                self.pm.unregister(plugin)
            self.installed.pop(name, None)

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a contributing hook and join every plugin's lists, built-in plugins first
        (in the order ``features.py`` gives), then installed ones. A plugin whose hook raises
        is recorded and left out of this call's answer."""
        caller = getattr(self.pm.hook, hook_name)
        found: list[Any] = []
        for impl in self._ordered(caller.get_hookimpls()):
            args = {k: v for k, v in kwargs.items() if k in impl.argnames}
            try:
                result = impl.function(**args)
            except Exception as exc:
                self.hook_problems[f"{impl.plugin_name}.{hook_name}"] = \
                    f"{type(exc).__name__}: {exc}"
                continue
            if result:
                found.extend(result)
        return found

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a hook that tells plugins something happened inside a write (photos deleted):
        every plugin's implementation runs, and an exception goes up, so the write it is part
        of rolls back rather than leaving a plugin's tables out of step."""
        getattr(self.pm.hook, hook_name)(**kwargs)

    def _ordered(self, impls: list[Any]) -> list[Any]:
        order = {name: i for i, name in enumerate(self.builtin)}
        return sorted(impls, key=lambda impl: order.get(impl.plugin_name, len(order)))

    def plugins(self) -> list[PluginInfo]:
        """Every plugin, loaded or not: built-in ones first, then installed ones by name."""
        out: list[PluginInfo] = []
        names = list(dict.fromkeys([*self.builtin, *sorted(self.installed),
                                    *sorted(self.problems)]))
        for name in names:
            plugin = self.pm.get_plugin(name)
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])) \
                if plugin is not None else ()
            module = self.builtin.get(name) or (
                plugin.__name__ if isinstance(plugin, ModuleType)
                else type(plugin).__module__ if plugin is not None else None)
            problem = self.problems.get(name) or next(
                (f"{key.split('.', 1)[1]}: {why}" for key, why in self.hook_problems.items()
                 if key.split(".", 1)[0] == name), None)
            out.append(PluginInfo(name=name, builtin=name in self.builtin,
                                  version=None if name in self.builtin else
                                  self.installed.get(name),
                                  module=module, hooks=hooks, problem=problem))
        return out


def _new_host() -> Host:
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return Host(pm)


_host: Host | None = None
_host_lock = threading.RLock()


def host() -> Host:
    """The process's plugin host, with the built-in features and every installed plugin
    registered on first use."""
    global _host
    with _host_lock:
        if _host is None:
            # The default plugins are named, not imported, here: the kernel knows no feature.
            from glimpse_desktop.features import BUILTIN

            _host = _new_host()
            _host.register_builtin(BUILTIN)
            _host.load_entry_points()
    return _host


def add_hookspecs(module: ModuleType) -> None:
    """Add a front end's own hook specifications (the window's pages) to the host."""
    host().pm.add_hookspecs(module)
