"""The built-in features, registered as default plugins through the same hooks a third-party
plugin uses (kernel/hookspecs.py). Adding a feature is a folder with a ``plugin.py`` and one
line here; the order is the order their contributions are listed in (menus, settings, verbs).
"""

from __future__ import annotations

BUILTIN = (
    "glimpse_desktop.metadata.plugin",
    "glimpse_desktop.search.plugin",
    "glimpse_desktop.faces.plugin",
    "glimpse_desktop.places.plugin",
    "glimpse_desktop.albums.plugin",
    "glimpse_desktop.captions.plugin",
    "glimpse_desktop.writeback.plugin",
    "glimpse_desktop.judge.plugin",
    "glimpse_desktop.trash.plugin",
)
