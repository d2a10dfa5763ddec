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

Contributing hooks (those that return lists) are called by ``Host.collect``/``Host.each`` one
implementation at a time, in the host's order: the built-in features first, in the order
``features.py`` lists them, then installed plugins. That is not pluggy's own call order, so
``tryfirst``/``trylast`` and hook wrappers have no effect on them; Glimpse uses neither. Each
implementation runs on its own: one that raises is recorded (``hook_problems``) and left out
of that answer, the others still count. A plugin whose tables could not be made
(``glimpse_migrations`` failed) is left out of every hook but that one (``left_out``), since
its stages, filters and follow-ups would run against tables that are not there.

``problems``, ``hook_problems`` and ``left_out`` are written from worker threads (a stage's
hook, a setting read on the writer): read and change them under ``lock``, or through
``record``, ``forget`` and ``plugins``.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from glimpse_desktop.kernel import hookspecs
from glimpse_desktop.kernel.db import Connection, LibraryError, is_environmental
from glimpse_desktop.kernel.hookspecs import PROJECT, hookimpl, hookspec
from glimpse_desktop.kernel.migrations import (
    PluginMigration,
    PluginMigrationReport,
    migrate_plugins,
)

__all__ = ["ENTRY_POINT_GROUP", "Answer", "Host", "PluginInfo", "hookimpl", "hookspec", "host"]

ENTRY_POINT_GROUP = "glimpse_desktop.plugins"
ENV_DISABLE = "GLIMPSE_DISABLE_PLUGINS"


@dataclass(frozen=True)
class PluginInfo:
    """One plugin as the plugin list shows it."""

    name: str
    builtin: bool
    version: str | None
    module: str | None
    hooks: tuple[str, ...]
    problem: str | None = None     # why it did not load (then it has no hooks)


@dataclass(frozen=True)
class Answer:
    """One plugin's answer to a contributing hook: ``plugin`` its name, ``items`` the list
    it returned (empty when it raised), ``problem`` why it raised, or None."""

    plugin: str
    items: list[Any]
    problem: str | None = None


# The hook that makes a plugin's tables: still asked of a plugin left out for its tables, so
# the next library it opens can make them.
_MIGRATIONS = "glimpse_migrations"


@dataclass
class Host:
    """The process's plugin manager and what happened while loading plugins."""

    pm: pluggy.PluginManager
    builtin: dict[str, str] = field(default_factory=dict)       # name -> module
    installed: dict[str, str | None] = field(default_factory=dict)  # name -> version
    problems: dict[str, str] = field(default_factory=dict)       # name -> why it was skipped
    # "plugin.hook" -> why that plugin's hook failed (the plugin stays loaded)
    hook_problems: dict[str, str] = field(default_factory=dict)
    # name -> why every contribution of that plugin is left out (its tables are missing)
    left_out: dict[str, str] = field(default_factory=dict)
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
            self.left_out.pop(name, None)

    def record(self, plugin: str, hook_name: str, why: str) -> None:
        """Note that ``plugin``'s ``hook_name`` failed (the plugin list says why)."""
        with self.lock:
            self.hook_problems[f"{plugin}.{hook_name}"] = why

    def forget(self, plugin: str, hook_name: str) -> None:
        """Drop what ``record`` noted for ``plugin``'s ``hook_name`` (it works again)."""
        with self.lock:
            self.hook_problems.pop(f"{plugin}.{hook_name}", None)

    def leave_out(self, plugin: str, why: str | None) -> None:
        """Leave every contribution of ``plugin`` out (``why``), or take it back (None)."""
        with self.lock:
            if why is None:
                self.left_out.pop(plugin, None)
            else:
                self.left_out[plugin] = why

    def make_tables(self, conn: Connection) -> PluginMigrationReport:
        """Bring every plugin's tables up to date on a migrated library (``conn``). A plugin
        whose ``glimpse_migrations`` raises or whose tables cannot be made is recorded and
        left out of every other hook until a library makes them (its stages, filters and
        follow-ups would meet tables that are not there); the library opens all the same."""
        answers = self.each(_MIGRATIONS)
        report = migrate_plugins(conn, [m for answer in answers for m in answer.items])
        for answer in answers:
            # A migration names its plugin itself; its steps are judged under that name.
            failed = [report.failed[name] for name in dict.fromkeys(
                m.plugin if isinstance(m, PluginMigration) else type(m).__name__
                for m in answer.items) if name in report.failed]
            why = answer.problem or "; ".join(failed) or None
            if why is None:
                self.forget(answer.plugin, _MIGRATIONS)   # fixed since a library failed
                self.leave_out(answer.plugin, None)
                continue
            self.record(answer.plugin, _MIGRATIONS, why)
            self.leave_out(answer.plugin, f"left out, its tables could not be made "
                                          f"(glimpse_migrations: {why})")
        return report

    def implementations(self, hook_name: str) -> list[tuple[str, Callable[..., Any]]]:
        """``(plugin name, function)`` of every implementation of ``hook_name``, in the
        host's order (built-in features as ``features.py`` lists them, then installed
        plugins), leaving out plugins in ``left_out``."""
        caller = getattr(self.pm.hook, hook_name)
        with self.lock:
            skip = set() if hook_name == _MIGRATIONS else set(self.left_out)
        return [(impl.plugin_name, functools.partial(_call, impl))
                for impl in self._ordered(caller.get_hookimpls())
                if impl.plugin_name not in skip]

    def each(self, hook_name: str, **kwargs: Any) -> list[Answer]:
        """Call a contributing hook, each plugin's implementation on its own, in the host's
        order: one answer per plugin. A plugin whose hook raises is recorded and answers
        nothing; the others still count."""
        answers: list[Answer] = []
        for plugin, function in self.implementations(hook_name):
            try:
                # A hook that gives something other than a list fails here too.
                result = list(function(**kwargs) or [])
            except Exception as exc:  # a plugin's bug is reported, never the caller's end
                why = f"{type(exc).__name__}: {exc}"
                self.record(plugin, hook_name, why)
                answers.append(Answer(plugin, [], why))
                continue
            answers.append(Answer(plugin, result))
        return answers

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a contributing hook and join every plugin's lists, built-in plugins first
        (in the order ``features.py`` gives), then installed ones (``each``). A plugin whose
        hook raises is recorded and left out of this call's answer."""
        return [item for answer in self.each(hook_name, **kwargs) for item in answer.items]

    def notify(self, hook_name: str, conn: Connection, **kwargs: Any) -> None:
        """Call a hook that tells plugins something happened inside a write on ``conn``
        (photos deleted). Each implementation runs in a savepoint of its own: one that
        raises has its own changes rolled back and is recorded, and the write and the other
        plugins go on. A failure of the disk or the database itself (``is_environmental``,
        ``LibraryError``) is no plugin's fault and goes up, rolling the write back."""
        for plugin, function in self.implementations(hook_name):
            conn.execute("SAVEPOINT plugin_notify")
            try:
                function(conn=conn, **kwargs)
            except Exception as exc:
                if not conn.in_transaction or isinstance(exc, LibraryError) \
                        or is_environmental(exc):
                    raise
                conn.execute("ROLLBACK TO plugin_notify")
                conn.execute("RELEASE plugin_notify")
                self.record(plugin, hook_name, f"{type(exc).__name__}: {exc}")
                continue
            conn.execute("RELEASE plugin_notify")

    def _ordered(self, impls: list[Any]) -> list[Any]:
        order = {name: i for i, name in enumerate(self.builtin)}
        return sorted(impls, key=lambda impl: order.get(impl.plugin_name, len(order)))

    def plugins(self) -> list[PluginInfo]:
        """Every plugin, loaded or not: built-in ones first, then installed ones by name."""
        out: list[PluginInfo] = []
        with self.lock:   # worker threads record problems while this reads them
            problems = dict(self.problems)
            hook_problems = dict(self.hook_problems)
            left_out = dict(self.left_out)
            names = list(dict.fromkeys([*self.builtin, *sorted(self.installed),
                                        *sorted(problems)]))
        for name in names:
            plugin = self.pm.get_plugin(name)
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])) \
                if plugin is not None else ()
            module = self.builtin.get(name) or (
                plugin.__name__ if isinstance(plugin, ModuleType)
                else type(plugin).__module__ if plugin is not None else None)
            problem = problems.get(name) or left_out.get(name) or next(
                (f"{key.split('.', 1)[1]}: {why}" for key, why in hook_problems.items()
                 if key.split(".", 1)[0] == name), None)
            out.append(PluginInfo(name=name, builtin=name in self.builtin,
                                  version=None if name in self.builtin else
                                  self.installed.get(name),
                                  module=module, hooks=hooks, problem=problem))
        return out


def _call(impl: Any, **kwargs: Any) -> Any:
    # A hook implementation may take any subset of the arguments its spec names.
    return impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})


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
