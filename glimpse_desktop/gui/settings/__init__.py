"""Settings: photo folders, where the library lives, the search model, faces, captions and
write-back, the device: one module a page.

One dialog with a sidebar of pages, as in a system settings app. Everything it shows comes from
the same API calls as the CLI's status, models and doctor verbs, made off the GUI
thread (``Tasks`` for short calls, ``Jobs`` for downloads and re-clustering, so the window's
status bar shows them and they can be cancelled there too). The dialog itself keeps only what
a person chose and where its window was (QSettings); the library's own settings (face pack,
thresholds, model) live in the library file, where the CLI sees them as well.

File pickers and confirmations are thin shells: ``add_folder(path)``,
``ModelList.add_from_file(id, path)`` and the rest do the work, so tests drive them directly,
and every question is a window-modal box opened with ``open()`` (no nested event loop).
"""

from glimpse_desktop.gui.settings.captions import caption_summary
from glimpse_desktop.gui.settings.common import app_settings
from glimpse_desktop.gui.settings.dialog import SettingsDialog
from glimpse_desktop.gui.settings.writeback import writeback_summary

__all__ = ["SettingsDialog", "app_settings", "caption_summary", "writeback_summary"]
