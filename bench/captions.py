"""Captioning benchmark: prints JSON lines, asserts nothing (not part of the test suite).

A run against a chat-completions service on 127.0.0.1 (the test suite's stand-in, answering
after --latency seconds, as a cloud model does in one to a few seconds), through the real
client. What it measures is Glimpse's side: preparing each photo (decode, downscale, JPEG
without metadata), the requests in flight, writing captions and the text index.

  prepare      outgoing JPEGs made per second (one thread), and their mean size
  run          photos captioned per second at each --concurrency, and the share of the ideal
               (concurrency / latency) reached
  cached       a second library on the same photos: every caption from the cache, per second

    python bench/captions.py [--photos 200] [--latency 0.5] [--concurrency 1,4,8]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from glimpse_desktop.api import Library
from tests import captionserver as cs
from tests import imagegen as ig


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "captions", **fields}), flush=True)


def configure(lib: Library, service: cs.FakeService, concurrency: int) -> None:
    lib.config.set("caption.base_url", service.url)
    lib.config.set("caption.model", "bench-vision")
    lib.config.set("caption.enabled", True)
    lib.config.set("caption.concurrency", concurrency)
    lib.config.set("caption.rpm", 100_000)
    lib.captions.give_consent()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", default="1,4,8")
    args = parser.parse_args()
    emit(event="machine", python=platform.python_version(), cpu=platform.processor() or
         platform.machine())
    work = Path(tempfile.mkdtemp(prefix="glimpse-bench-captions-"))
    service = cs.FakeService()
    service.default = lambda body: cs.slow(args.latency, cs.good("A harbour at dawn."))
    try:
        photos = work / "photos"
        photos.mkdir()
        for i in range(args.photos):
            ig.write_jpeg(photos / f"p{i:05d}.jpg", (4000, 3000), seed=i, quality=88,
                          datetime_original="2024:05:04 10:00:00", gps=(38.7, -9.1, 5.0))
        for n in [int(c) for c in args.concurrency.split(",")]:
            lib = Library.open(work / f"lib{n}" / "library.sqlite3", load_models=False)
            lib.add_root(photos)
            lib.index()
            configure(lib, service, n)
            ids = [int(r[0]) for r in lib.reader().execute("SELECT id FROM photos LIMIT 20")]
            if n == int(args.concurrency.split(",")[0]):
                t0 = time.perf_counter()
                sizes = [len(lib.captions.outgoing_image(i)) for i in ids]
                dt = time.perf_counter() - t0
                emit(event="prepare", photos=len(ids), per_s=round(len(ids) / dt, 1),
                     mean_kb=round(sum(sizes) / len(sizes) / 1024, 1), source_px="4000x3000")
            # Each library asks again: a new prompt per concurrency keeps the cache out.
            t0 = time.perf_counter()
            report = lib.captions.run(prompt=f"Describe this photo (run {n}).")
            dt = time.perf_counter() - t0
            ideal = n / args.latency
            emit(event="run", concurrency=n, photos=report.captioned, seconds=round(dt, 2),
                 per_s=round(report.captioned / dt, 2), ideal_per_s=round(ideal, 2),
                 share_of_ideal=round(report.captioned / dt / ideal, 3),
                 latency_s=args.latency)
            lib.close()
        # The same photos and question in another library: answered from... its own cache
        # only, so copy the first library's file (as a restored backup would be).
        first = int(args.concurrency.split(",")[0])
        shutil.copy(work / f"lib{first}" / "library.sqlite3", work / "copy.sqlite3")
        lib = Library.open(work / "copy.sqlite3", load_models=False)
        lib.reader().execute("SELECT 1")
        lib.writer.call(lambda c: c.execute("DELETE FROM captions"))
        t0 = time.perf_counter()
        report = lib.captions.run(prompt=f"Describe this photo (run {first}).")
        dt = time.perf_counter() - t0
        emit(event="cached", photos=report.captioned, from_cache=report.from_cache,
             seconds=round(dt, 3), per_s=round(report.captioned / dt, 1),
             requests=report.requests)
        lib.close()
    finally:
        service.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
