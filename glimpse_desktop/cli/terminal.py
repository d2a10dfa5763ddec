"""The terminal's words for a window that cannot open: what the ``glimpse`` command does
instead. The desktop launcher (app.py) reports why by a code and prints these; naming the
commands is the CLI's to do."""

from __future__ import annotations

# By the launcher's codes: ``app.no_display`` (no X11 or Wayland display: ssh, a server) and
# ``app.missing_libraries`` (Qt lacks system libraries; the CLI needs none of them).
_INSTEAD = {
    "app.no_display": ("Use the `glimpse` command here: `glimpse add FOLDER`, `glimpse index`, "
                       "`glimpse search WORDS`, `glimpse --help` for the rest."),
    "app.missing_libraries": "The `glimpse` command works without them (`glimpse --help`).",
}


def instead_of_the_window(code: str) -> str:
    """What to run in the terminal when the window cannot open for the reason ``code``."""
    return _INSTEAD.get(code, "The `glimpse` command works here (`glimpse --help`).")
