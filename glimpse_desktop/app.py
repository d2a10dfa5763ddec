"""Composition root of the desktop app: builds the Library, then (when it lands) the Qt UI.

The window itself arrives with the GUI issue; until then `glimpse-desktop` opens the library
(creating and migrating it, so problems show up now), says where it is and how to use the CLI,
and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from glimpse_desktop.core.library import Library, LibraryError, StorageError

EXIT_NO_GUI = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="glimpse-desktop",
                                     description="Glimpse Desktop photo library")
    parser.add_argument("--library", metavar="PATH", help="library file to open")
    args = parser.parse_args(argv)
    try:
        with Library.open(args.library) as lib:
            status = lib.status()
    except (LibraryError, StorageError) as exc:
        print(f"glimpse-desktop: {exc}", file=sys.stderr)
        return 1
    print(
        "Glimpse Desktop's window is not part of this version yet.\n"
        f"Your library is ready at {status['library']} ({status['photos']} photos in "
        f"{len(status['roots'])} folder{'' if len(status['roots']) == 1 else 's'}).\n"
        "Use the `glimpse` command meanwhile:\n"
        "  glimpse add ~/Pictures      add a photo folder\n"
        "  glimpse index               read new and changed photos\n"
        "  glimpse watch               keep the library in step with the folders\n"
        "  glimpse status              what is in the library\n"
        "  glimpse models download vit-b-32-laion2b   the model for search (once)\n"
        "  glimpse search \"kids on a beach\"          find photos in plain words\n"
        "  glimpse people              everyone in your photos, grouped by face",
        file=sys.stderr,
    )
    return EXIT_NO_GUI


if __name__ == "__main__":
    sys.exit(main())
