"""Composition root of the desktop app: opens the Library, then builds the Qt window over it.

`glimpse-desktop` (or `python -m glimpse_desktop` with no command) opens the default library,
`--library PATH` another. Paths given after the options (what a file manager passes through
the desktop entry's "Open with Glimpse") are folders to add, or photos to show.

Nothing on this path imports torch or open_clip: the window paints first, and models load in
the background when the first job needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

EXIT_NO_DISPLAY = 2
EXIT_MISSING_LIBRARIES = 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="glimpse-desktop",
                                     description="Glimpse Desktop photo library")
    parser.add_argument("--library", metavar="PATH", help="library file to open")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="folders to add to the library, or photos to show")
    args, qt_args = parser.parse_known_args(argv)

    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        # Qt would abort with a core dump; a terminal without a desktop (ssh, a server) is
        # where the CLI is the way in.
        from glimpse_desktop.cli.terminal import instead_of_the_window

        print("glimpse-desktop: there is no display to open the window on (no DISPLAY or "
              f"WAYLAND_DISPLAY). {instead_of_the_window('app.no_display')}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    if missing_libraries():
        return EXIT_MISSING_LIBRARIES

    from glimpse_desktop.gui import prepare_qt_environment

    prepare_qt_environment()
    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    QCoreApplication.setOrganizationName("Glimpse")
    QCoreApplication.setApplicationName("Glimpse Desktop")
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    assert isinstance(app, QApplication)
    app.setDesktopFileName("glimpse-desktop")
    # The icon: from the desktop's theme once installed, else resources/ of a checkout or of
    # the PyInstaller bundle.
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in (getattr(sys, "_MEIPASS", None), os.path.join(here, "..")):
        icon = os.path.join(folder, "resources", "glimpse-desktop.svg") if folder else ""
        if icon and os.path.isfile(icon):
            app.setWindowIcon(QIcon.fromTheme("glimpse-desktop", QIcon(icon)))
            break

    from glimpse_desktop.api.library import Library, LibraryError, LibraryPaths, StorageError
    from glimpse_desktop.gui.single_instance import InstanceServer, bring_forward, hand_over
    from glimpse_desktop.gui.wording import say
    from glimpse_desktop.kernel.paths import ENV_LIBRARY

    paths = LibraryPaths.resolve(args.library)
    # One window per library: a window that has it open already takes the paths and comes
    # forward; this launch ends there.
    if hand_over(paths.library, args.paths):
        return 0
    instance = InstanceServer(paths.library)
    if not instance.listen() and hand_over(paths.library, args.paths):
        return 0                 # another launch took the library at the same moment
    # The window makes the default library on its first start (and a new one at a path the
    # person names that does not exist yet: the window's "Add Folder" is its add).
    # A file that exists but is empty or not a library is refused, never made into one: a
    # hand-picked empty file is more likely a library that lost its contents than a wish to
    # start again in it.
    explicit = bool(args.library or os.environ.get(ENV_LIBRARY))
    create = not explicit or not os.path.lexists(paths.library)
    try:
        lib = Library(paths, load_models=False, create=create)
    except (LibraryError, StorageError) as exc:
        # A library from a newer Glimpse, a full disk, a folder without permission: said in
        # words, in a window (the person may have started us from a menu, with no terminal).
        print(f"glimpse-desktop: {say(exc)}", file=sys.stderr)
        QMessageBox.critical(None, "Glimpse", f"The library cannot be opened.\n\n{say(exc)}")
        return 1

    from glimpse_desktop.gui.window import MainWindow

    try:
        window = MainWindow(lib)
        instance.arrived.connect(lambda given: bring_forward(window, given, window.open_paths))
        window.show()
        if args.paths:
            QTimer.singleShot(0, lambda: window.open_paths(args.paths))
        status = app.exec()
    finally:
        instance.close()
        lib.close()
    return int(status)


def missing_libraries() -> bool:
    """Whether the X11 window cannot start for system libraries this Linux lacks; then says
    which and the command that installs them. Checked before Qt loads: Qt's own message
    ("could not load the Qt platform plugin xcb ... reinstalling the application may fix
    this") names neither the library nor the remedy."""
    from glimpse_desktop.api import system_libraries, window_uses_xcb

    if not window_uses_xcb():
        return False
    found = system_libraries()
    if found.state != "missing":
        return False
    print(f"glimpse-desktop: the window cannot start: Qt needs system libraries that "
          f"{found.distribution} does not have: {', '.join(found.missing)}.", file=sys.stderr)
    if found.install:
        print(f"Install them with:\n  {found.install}", file=sys.stderr)
    if found.unknown and found.manager not in ("dnf", "zypper"):   # those install by name
        print(f"Install the packages of your distribution that provide: "
              f"{', '.join(found.unknown)}.", file=sys.stderr)
    from glimpse_desktop.cli.terminal import instead_of_the_window

    print(instead_of_the_window("app.missing_libraries"), file=sys.stderr)
    return True


if __name__ == "__main__":
    sys.exit(main())
