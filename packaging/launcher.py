"""Entry point of the frozen bundle: one program under two names.

PyInstaller analyses this one script and builds the executables from it that share one folder
of libraries: `glimpse-desktop`, the windowed app, and `glimpse`, the console CLI (on Linux a
link to the first). The name the program was started as picks which.

``GLIMPSE_BUNDLE_SMOKE=1`` makes `glimpse-desktop` exit with status 0 as soon as its main
window is on screen (tests/test_packaging.py starts the bundled window that way, offscreen):
a window that cannot start exits with its error instead.
"""

import multiprocessing
import os
import sys

ENV_SMOKE = "GLIMPSE_BUNDLE_SMOKE"


def main() -> int:
    # A frozen program that starts child processes (a library's worker) must let the child
    # run its task instead of starting the app again; a no-op everywhere else.
    multiprocessing.freeze_support()
    # argv[0]: started through the `glimpse` link, sys.executable names what it points to.
    name = os.path.basename(sys.argv[0] or sys.executable).lower().removesuffix(".exe")
    if name == "glimpse":
        from glimpse_desktop.cli import main as cli_main

        return cli_main()
    from glimpse_desktop.app import main as app_main

    if os.environ.get(ENV_SMOKE):
        _quit_once_shown()
    return app_main()


def _quit_once_shown() -> None:
    """Make the application object app.main() will use, with a timer that ends it, status 0,
    once the main window is visible."""
    from glimpse_desktop.gui import prepare_qt_environment

    prepare_qt_environment()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])

    def poll() -> None:
        for widget in app.topLevelWidgets():
            if type(widget).__name__ == "MainWindow" and widget.isVisible():
                print(f"{ENV_SMOKE}: the window is shown: {widget.windowTitle()}", flush=True)
                app.exit(0)

    timer = QTimer(app)
    timer.timeout.connect(poll)
    timer.start(100)


if __name__ == "__main__":
    sys.exit(main())
