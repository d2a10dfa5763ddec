"""The core API that the CLI and the GUI share (no Qt here)."""

from glimpse_desktop.api.library import Library, LibraryPaths

__all__ = ["Library", "LibraryPaths"]
