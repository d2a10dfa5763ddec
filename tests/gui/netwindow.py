"""The desktop window as a person first uses it, for tests/test_no_network.py to trace.

    python tests/gui/netwindow.py LIBRARY SECONDS

Opens LIBRARY in the real window (offscreen Qt), waits for its first read (faces on, so the
face models run), opens Settings on the Device page and waits for what it shows, then leaves
the window open SECONDS more, as a person would, and quits. Prints what it saw as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    library, seconds = Path(sys.argv[1]), float(sys.argv[2])
    from glimpse_desktop.gui import prepare_qt_environment

    prepare_qt_environment()
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from glimpse_desktop.api.library import Library, LibraryPaths
    from glimpse_desktop.gui.settings import SettingsDialog
    from glimpse_desktop.gui.window import MainWindow

    QCoreApplication.setOrganizationName("Glimpse-nettest")
    app = QApplication([sys.argv[0]])

    def spin(until: Callable[[], bool], timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not until() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
        return until()

    lib = Library(LibraryPaths.resolve(str(library)), load_models=False, create=False)
    seen: dict[str, object] = {}
    try:
        window = MainWindow(lib)
        window.show()
        # The first read ends by starting the watcher.
        seen["read"] = spin(lambda: window.watcher is not None, 180)
        seen["faces"] = int(lib.reader().one("SELECT count(*) FROM faces"))
        dialog = SettingsDialog(lib, window.tasks, window.jobs, window)
        dialog.show()
        dialog.show_page("device")
        page = dialog.device
        seen["device"] = spin(lambda: page.info is not None, 120)
        seen["providers"] = page.fields["providers"].text()
        # The map, down to street level: with street maps off it asks nobody for tiles.
        window.show_view("map")
        seen["map"] = spin(lambda: bool(window.map_page.canvas.clusters), 60)
        window.map_page.canvas.fit(38.70, -9.16, 38.74, -9.12)
        window.map_page.canvas.repaint()
        spin(lambda: window.map_page.view is not None
             and window.map_page.view.zoom == window.map_page.canvas.zoom, 30)
        seen["map_zoom"] = window.map_page.canvas.zoom
        # Left open: whatever a library starts in the background has time to show itself
        # (onnxruntime's telemetry sent its first report 9 s after loading).
        spin(lambda: False, seconds)
        dialog.close()
        window.close()
        app.processEvents()
    finally:
        lib.close()
    print(json.dumps(seen), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
