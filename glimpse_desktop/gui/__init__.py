"""The desktop interface (PySide6). Only this package imports Qt; it calls the same core API as
the CLI, and results of background work reach it as queued signals."""
