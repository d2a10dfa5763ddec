"""Entry point of the frozen bundle: one program under two names.

PyInstaller analyses this one script (torch makes an analysis take minutes, so it is done once)
and builds two executables from it that share one folder of libraries: `glimpse-desktop`, the
windowed app, and `glimpse`, the console CLI. The name the program was started as picks which.
"""

import multiprocessing
import os
import sys


def main() -> int:
    # A frozen program that starts child processes (torch's or a library's) must let the child
    # run its task instead of starting the app again; a no-op everywhere else.
    multiprocessing.freeze_support()
    name = os.path.basename(sys.executable).lower().removesuffix(".exe")
    if name == "glimpse":
        from glimpse_desktop.cli import main as cli_main

        return cli_main()
    from glimpse_desktop.app import main as app_main

    return app_main()


if __name__ == "__main__":
    sys.exit(main())
