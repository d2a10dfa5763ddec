"""The desktop interface (PySide6). Only this package imports Qt; it calls the same core API as
the CLI, and results of background work reach it as queued signals."""

import os


def prepare_qt_environment() -> None:
    """Settings Qt reads from the environment once, before the application object exists.

    ``QT_NO_GUI_THREADPOOL``: Qt's raster engine hands translucent fills and blends over about
    a hundred lines (the scroll bar's groove, a hover tint) to a pool of helper threads and
    waits for them. With the thumbnail workers busy those helpers wait for a core, and the GUI
    thread with them. On a two-core machine, turning the pool off (with ``read_tile`` holding
    the GIL less) took the longest stall while flinging the grid from 18-32 ms to 10-15 ms
    (``bench/gui.py``). What is lost is a parallel scale or conversion of a big image on the
    GUI thread, which the app never does: full-size photos are read and scaled by workers. A
    value the person set wins."""
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
