"""Write-back benchmark: prints JSON lines, asserts nothing (not part of the test suite).

On --photos small JPEGs, each with a caption, two tags and a rating:

  sidecars     the first `writeback` (every sidecar created), then one with nothing changed
               (what `writeback.sync` costs after every index), then one after --changed
               captions were edited
  read         a new library on the same folder reading every sidecar back (the lost-library
               case): `index()` as a whole, and `read_sidecars()` alone when nothing changed
  embed        writing into the JPEGs themselves through exiv2 (metadata only, pixels
               checked unchanged before each rename)

    python bench/writeback.py [--photos 2000] [--changed 50]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.db import Connection
from tests import imagegen as ig

T = TypeVar("T")


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "writeback", **fields}), flush=True)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=50)
    args = parser.parse_args()
    emit(event="machine", python=platform.python_version(),
         cpu=platform.processor() or platform.machine())
    work = Path(tempfile.mkdtemp(prefix="glimpse-bench-writeback-"))
    try:
        photos = work / "photos"
        photos.mkdir()
        for i in range(args.photos):
            ig.write_jpeg(photos / f"p{i:05d}.jpg", (320, 240), seed=i,
                          datetime_original="2024:05:04 10:00:00", make="Canon",
                          model="EOS R5", gps=(38.7, -9.1, 5.0))
        lib = Library.open(work / "lib" / "library.sqlite3", load_models=False)
        lib.add_root(photos)
        lib.set_faces(False)          # faces are not what this measures
        lib.index()
        ids = [int(r[0]) for r in lib.reader().execute("SELECT id FROM photos ORDER BY id")]

        def decorate(c: Connection) -> None:
            for n, pid in enumerate(ids):
                c.execute("UPDATE photos SET rating = ? WHERE id = ?", (n % 5 + 1, pid))
                for tag in ("harbour", f"roll {n % 40}"):
                    c.execute("INSERT INTO photo_tags(photo_id, tag, source) "
                              "VALUES (?, ?, 'bench')", (pid, tag))

        lib.writer.call(decorate)
        for pid in ids:
            lib.captions.set_text(pid, f"Boats in the harbour, photo {pid}, in the morning.")

        report, dt = timed(lambda: lib.writeback.run(sidecar=True))
        emit(event="sidecars", phase="first", photos=len(ids), written=report.written,
             seconds=round(dt, 2), per_s=round(report.written / dt, 1))
        report, dt = timed(lambda: lib.writeback.run(sidecar=True))
        emit(event="sidecars", phase="unchanged", photos=len(ids), written=report.written,
             seconds=round(dt, 3))
        for pid in ids[:args.changed]:
            lib.captions.set_text(pid, f"Edited: fishing boats, photo {pid}.")
        report, dt = timed(lambda: lib.writeback.run(sidecar=True))
        emit(event="sidecars", phase="after_edits", changed=args.changed,
             written=report.written, seconds=round(dt, 3))
        lib.close()

        fresh = Library.open(work / "fresh" / "library.sqlite3", load_models=False)
        fresh.add_root(photos)
        fresh.set_faces(False)
        _, dt = timed(fresh.index)
        got = fresh.reader().one("SELECT count(*) FROM captions WHERE source = 'xmp'")
        emit(event="read", phase="new_library_index", photos=len(ids), captions_back=got,
             seconds=round(dt, 2))
        _, dt = timed(fresh.writeback.read_sidecars)
        emit(event="read", phase="nothing_changed", seconds=round(dt, 3))
        fresh.close()

        lib = Library.open(work / "lib" / "library.sqlite3", load_models=False)
        report, dt = timed(lambda: lib.writeback.run(sidecar=False, embed=True))
        emit(event="embed", photos=len(ids), written=report.written, failed=report.failed,
             seconds=round(dt, 2), per_s=round(report.written / dt, 1))
        lib.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
