"""The plugin host as the front ends see it: the built-in features and installed plugins,
loaded once per process, and what each contributes (the plugin list of the CLI and Settings)."""

from __future__ import annotations

from glimpse_desktop.kernel.hookspecs import HOOKS_VERSION
from glimpse_desktop.kernel.plugins import ENTRY_POINT_GROUP, ENV_DISABLE, Host, PluginInfo, host

__all__ = ["ENTRY_POINT_GROUP", "ENV_DISABLE", "HOOKS_VERSION", "Host", "PluginInfo",
           "load_plugins"]


def load_plugins() -> Host:
    """The process's plugin host with the built-in features and every installed plugin
    registered (idempotent: ``Library.open`` does the same). A plugin that fails to load is
    in ``host.problems``, never raised."""
    return host()
