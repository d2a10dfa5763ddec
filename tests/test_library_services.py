"""A library's feature services are made on first use, once, whichever threads ask first."""

from __future__ import annotations

import threading
from pathlib import Path

from glimpse_desktop.api import Library

SERVICES = ("people", "places", "albums", "auto_albums", "writeback", "captions")


def test_threads_asking_at_once_get_one_service_each(library_path: Path) -> None:
    lib = Library.open(library_path)
    try:
        assert not set(SERVICES) & set(vars(lib))        # none is made by opening
        start = threading.Barrier(8)
        seen: list[dict[str, int]] = []

        def ask() -> None:
            start.wait()
            seen.append({name: id(getattr(lib, name)) for name in SERVICES})

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == 8 and all(answer == seen[0] for answer in seen)
        # The captions made here are the ones whose background runs write back.
        assert lib.captions.after_background == lib._captions_written
        assert lib.writeback is lib.writeback
    finally:
        lib.close()


def test_closing_makes_no_service(library_path: Path) -> None:
    lib = Library.open(library_path)
    lib.close()
    assert not set(SERVICES) & set(vars(lib))
