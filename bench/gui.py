"""GUI figures (issue 5), one JSON line each:

- ``first_paint``: from launching the app's process (interpreter start, imports, opening the
  library, building the window) to the library grid painted with its first page of photos,
  and to the first screen of thumbnails shown. Target: <= 1.0 s with 100k photos.
- ``scroll``: thumbnails shown per second while the grid scrolls down through the library a
  line and a half at a time, 60 steps a second, from the thumbnail cache, and the longest the
  GUI thread went without running its event loop meanwhile (target: no stall > 16 ms); then
  ``scroll_fast``, the same at three lines a frame, where the loader, not the fling, is the
  limit (target >= 500 thumbnails/s).
- ``jump``: the timeline scrubber's jump to a month of each year of the library (issue 19):
  from the jump asked for (``PhotoGrid.scroll_to_month``, what a click on the scrubber calls)
  to the month's first tiles painted with their photos' rows read (the pages there, by date);
  and ``months``: the one grouped read of the library's months the grid sizes itself by
  (off the GUI thread, after the first page). Target: a jump to any year <= 100 ms.
- ``load``: thumbnails made ready per second when 500 not yet cached are asked for at once
  (the loader alone: read from the thumbnail cache, cropped, scaled, made pixmaps).
- ``memory``: resident memory of the idle window with the library open, before any model
  loads (target <= 400 MB), and after the scroll (pixmap cache full); whether torch or
  open_clip were imported (they must not be, on the start path).
- ``memory_after_read``: the window's first read of ``--read-photos`` real photos (faces on,
  and the search model when one is installed in $GLIMPSE_MODEL_DIR), then idle: resident
  memory once the read is over (models loaded), and once the idle models were unloaded
  (``models.unload_after``, set short here; target <= 500 MB).

The library is synthetic: ``--photos`` rows (100k by default) dated over 15 years, of which
the first ``--thumbs`` have real 256 px JPEG thumbnails in the cache (scrolling stops there),
so the figures measure the GUI, not ingestion. The files themselves do not exist; the window is
started without its background jobs (reading photos would mark them missing).

    python bench/gui.py [--photos 100000] [--thumbs 8000] [--keep DIR] [--read-photos 200]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(folder: Path, photos: int, thumbs: int) -> Path:
    """A library of ``photos`` rows, the newest ``thumbs`` with thumbnails in the cache."""
    import numpy as np
    from PIL import Image

    from glimpse_desktop.api.library import Library
    from glimpse_desktop.kernel.db import now_iso

    path = folder / "library.sqlite3"
    if path.exists():
        return path
    os.environ["GLIMPSE_CACHE_DIR"] = str(folder / "cache")
    lib = Library.open(path)
    root = folder / "Pictures"
    root.mkdir(exist_ok=True)
    lib.add_root(root)
    rng = np.random.default_rng(5)
    now = now_iso()
    end = 1.73e9
    stamps = np.sort(end - rng.uniform(0, 15 * 365 * 86400, photos))[::-1]

    def rows(c: object) -> None:
        from datetime import UTC, datetime
        batch = []
        for k in range(photos):
            ts = float(stamps[k])
            taken = datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat(
                timespec="seconds")
            batch.append((1, f"{root}/{k // 1000:03d}/IMG_{k:06d}.jpg", f"{root}/{k // 1000:03d}",
                          f"IMG_{k:06d}.jpg", 1, 1, f"{k:064x}", taken, ts, now, now))
        c.executemany(  # type: ignore[attr-defined]
            "INSERT INTO photos(root_id, path, folder, filename, size, mtime_ns, content_hash, "
            "taken_at, taken_ts, added_at, updated_at, width, height, has_thumb, format) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 4000, 3000, 1, 'JPEG')", batch)

    lib.writer.call(rows)
    # Thumbnails of the newest photos (what the grid shows first, in order).
    first = lib.photo_page(limit=thumbs)
    for n, row in enumerate(first):
        pixels = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
        image = Image.fromarray(pixels).resize((256, 192), Image.Resampling.BICUBIC)
        lib.thumbnails.write(row.content_hash, "grid", image)
        if n % 1000 == 999:
            print(f"  thumbnails {n + 1}/{thumbs}", file=sys.stderr)
    lib.close()
    return path


def child(library: Path, launched: float, scroll_seconds: float, thumbs: int) -> None:
    """The app's start path as `glimpse-desktop` runs it, then the measurements."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from glimpse_desktop.gui import prepare_qt_environment

    prepare_qt_environment()            # as app.main does, before the QApplication
    from PySide6.QtCore import QCoreApplication, QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("Glimpse-bench")
    app = QApplication([sys.argv[0]])
    from glimpse_desktop.api.library import Library
    from glimpse_desktop.gui.window import MainWindow

    lib = Library.open(library, load_models=False)
    window = MainWindow(lib, start_jobs=False)
    window.resize(1280, 820)
    grid = window.library_page.grid
    marks: dict[str, float] = {}
    original_paint = grid.paintEvent
    # A jump in flight: the row whose tile must be painted with its photo to end it.
    watch: dict[str, Any] = {}

    def paint(event: object) -> None:
        original_paint(event)  # type: ignore[arg-type]
        if "first_paint" not in marks and window.model.rowCount() > 0:
            marks["first_paint"] = time.time()
        row = watch.get("row")
        if row is not None and window.model._slots[row] is not None:
            watch["painted"] = time.perf_counter()

    grid.paintEvent = paint  # type: ignore[method-assign]
    visible_loaded: list[float] = []

    def on_ready(_hash: str) -> None:
        if "thumbs_on_screen" in marks:
            return
        shown = [grid.model().index(r, 0) for r in range(min(window.model.rowCount(), 60))]
        on_screen = [i for i in shown if grid.viewport().rect().intersects(grid.visualRect(i))]
        rows_there = [window.model._slots[i.row()] for i in on_screen]
        if on_screen and all(r is not None and window.thumbnails._pixmaps.get(r.content_hash)
                             is not None for r in rows_there):
            marks["thumbs_on_screen"] = time.time()
            visible_loaded.append(len(on_screen))

    window.thumbnails.ready.connect(on_ready)
    window.show()
    while "first_paint" not in marks or "thumbs_on_screen" not in marks:
        app.processEvents()
        if time.time() - launched > 30:
            break
    idle_rss = _rss_now()
    first = {"bench": "first_paint", "photos": lib.photo_count(),
             "seconds": round(marks.get("first_paint", float("nan")) - launched, 3),
             "thumbnails_on_screen_seconds": round(
                 marks.get("thumbs_on_screen", float("nan")) - launched, 3),
             "tiles_on_screen": visible_loaded[0] if visible_loaded else None,
             "target_seconds": 1.0}
    print(json.dumps(first), flush=True)

    # ---- scrolling, 60 steps a second: a fast fling (a line and a half of tiles a frame,
    # about 460 tiles a second at 1280 px, more than a person scrolls) for the stalls, then
    # a fling twice as fast (about 900 tiles a second) for how many thumbnails the loader
    # keeps up with.
    shown = {"n": 0}
    window.thumbnails.ready.connect(lambda _h: shown.__setitem__("n", shown["n"] + 1))
    clock = QElapsedTimer()
    clock.start()
    bar = grid.verticalScrollBar()

    def fling(name: str, lines: float, seconds: float) -> None:
        gaps: list[float] = []
        when: list[float] = []
        last = {"t": clock.nsecsElapsed()}

        def tick() -> None:
            now = clock.nsecsElapsed()
            gaps.append((now - last["t"]) / 1e6)
            when.append(now / 1e9)
            last["t"] = now

        probe = QTimer(interval=1)
        probe.timeout.connect(tick)
        step = max(1, round(grid.tile() * lines))
        driver = QTimer(interval=16)
        driver.timeout.connect(lambda: bar.setValue(bar.value() + step))
        start = time.time()
        before = shown["n"]
        probe.start()
        driver.start()
        while time.time() - start < seconds:
            app.processEvents()
            time.sleep(0.0005)
        driver.stop()
        probe.stop()
        elapsed = time.time() - start
        worst = max(range(len(gaps)), key=gaps.__getitem__) if gaps else 0
        order = sorted(gaps)
        print(json.dumps({
            "bench": name, "lines_per_frame": lines, "seconds": round(elapsed, 2),
            "rows_read": window.model.rows_read,
            "thumbnails_shown": shown["n"] - before,
            "thumbnails_per_second": round((shown["n"] - before) / elapsed, 1),
            "longest_stall_ms": round(order[-1], 1) if gaps else None,
            "p99_gap_ms": round(order[int(len(order) * 0.99)], 1) if gaps else None,
            "gaps_over_16ms": sum(g > 16 for g in gaps),
            "longest_stall_at_s": round(when[worst] - when[0], 2) if gaps else None,
            "stall_target_ms": 16, "rate_target": 500}), flush=True)

    fling("scroll", 1.5, scroll_seconds)
    fling("scroll_fast", 3.0, scroll_seconds / 2)
    # ---- the scrubber: a jump to a month of every year, oldest last.
    t0 = time.perf_counter()
    summary = lib.timeline.months()
    months_seconds = time.perf_counter() - t0
    lib.release_reader()       # its page cache: the window's own read keeps one already
    waited = time.time()
    while not window.model.known and time.time() - waited < 30:
        app.processEvents()
        time.sleep(0.001)
    jumps: list[dict[str, Any]] = []
    targets = [next(m for m in summary.months if m.year == y) for y, _n in summary.years()]
    for month in [*targets[1::2], *targets[::2]]:   # back and forth through the years
        first_row = window.model.month_row(month.key)
        read_before = window.model.rows_read
        watch.clear()
        watch["row"] = first_row
        t0 = time.perf_counter()
        grid.scroll_to_month(month.key)
        while "painted" not in watch and time.perf_counter() - t0 < 10:
            app.processEvents()
        watch["row"] = None
        jumps.append({"month": month.key,
                      "ms": round((watch.get("painted", float("nan")) - t0) * 1000, 1),
                      "rows_read": window.model.rows_read - read_before})
        settle = time.time()
        while time.time() - settle < 0.2:
            app.processEvents()
            time.sleep(0.002)
    times = sorted(j["ms"] for j in jumps)
    print(json.dumps({
        "bench": "jump", "photos": lib.photo_count(), "years": len(jumps),
        "months_read_seconds": round(months_seconds, 3),
        "median_ms": times[len(times) // 2] if times else None,
        "max_ms": times[-1] if times else None, "jumps": jumps,
        "target_ms": 100}), flush=True)
    # ---- the loader alone: a thousand thumbnails not yet cached, asked for at once.
    grid.verticalScrollBar().setValue(0)
    wanted = min(thumbs, window.model.rowCount())     # the photos with thumbnails
    window.model.ensure_loaded(range(max(0, wanted - 600), wanted))
    rows = [r for r in window.model._slots[max(0, wanted - 600):wanted] if r is not None]
    # (No more than the loader keeps waiting: older requests are dropped by design.)
    fresh = [r for r in rows[-500:] if r.content_hash not in window.thumbnails._pixmaps]
    done = {"n": 0}
    window.thumbnails.ready.connect(lambda _h: done.__setitem__("n", done["n"] + 1))
    t0 = time.time()
    for row in fresh:
        window.thumbnails.get(row.id, row.content_hash)
    while done["n"] < len(fresh) and time.time() - t0 < 30:
        app.processEvents()
        time.sleep(0.001)
    load_seconds = time.time() - t0
    print(json.dumps({
        "bench": "load", "thumbnails": len(fresh), "seconds": round(load_seconds, 2),
        "thumbnails_per_second": round(done["n"] / load_seconds, 1), "rate_target": 500}),
        flush=True)
    print(json.dumps({
        "bench": "memory", "idle_rss_mb": round(idle_rss, 1),
        "after_scroll_rss_mb": round(_rss_now(), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "pixmaps_cached": len(window.thumbnails),
        "torch_imported": "torch" in sys.modules, "open_clip_imported": "open_clip" in sys.modules,
        "target_mb": 400}), flush=True)
    window.close()
    lib.close()


def read_child(folder: Path) -> None:
    """The window over a folder of real photos: its first read, then idle until the models
    are unloaded; RSS at each step."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from glimpse_desktop.gui import prepare_qt_environment

    prepare_qt_environment()
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("Glimpse-bench")
    app = QApplication([sys.argv[0]])
    from glimpse_desktop.api.library import Library
    from glimpse_desktop.gui.window import MainWindow

    lib = Library.open(folder / "read" / "library.sqlite3", load_models=False)
    lib.add_root(folder / "Photos")
    lib.config.set("models.unload_after", "0.05")        # 3 s, not the default 5 min
    window = MainWindow(lib)
    unloaded: list[list[str]] = []
    window.models_unloaded.connect(unloaded.append)
    started = time.time()
    window.show()
    while window.watcher is None and time.time() - started < 600:
        app.processEvents()
        time.sleep(0.01)
    read_seconds = time.time() - started
    loaded = {"faces": lib.people.models().loaded,
              "search": any(m.loaded for m in lib.semantic._models.values())}
    after_read = _rss_now()
    while not unloaded and time.time() - started < 900:
        app.processEvents()
        time.sleep(0.01)
    idle = time.time()
    while time.time() - idle < 2:         # settle, as a person's idle window would
        app.processEvents()
        time.sleep(0.01)
    print(json.dumps({
        "bench": "memory_after_read", "photos": lib.photo_count(),
        "read_seconds": round(read_seconds, 1), "models_loaded_after_read": loaded,
        "after_read_rss_mb": round(after_read, 1),
        "models_unloaded": unloaded[0] if unloaded else None,
        "after_unload_rss_mb": round(_rss_now(), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "torch_imported": "torch" in sys.modules, "target_mb": 500}), flush=True)
    window.close()
    lib.close()


def make_read_photos(folder: Path, n: int) -> None:
    """``n`` real JPEGs (3000x2000, EXIF dates), some with the real face photographs."""
    from tests import imagegen as ig

    photos = folder / "Photos"
    if photos.is_dir() and len(list(photos.iterdir())) >= n:
        return
    photos.mkdir(parents=True, exist_ok=True)
    faces: list[Path] = []
    try:
        from tests import facephotos

        faces = sorted(facephotos.photos().glob("*.jpg"))
    except Exception as exc:  # no face photographs here: synthetic photos only
        print(f"  (no face photographs: {exc})", file=sys.stderr)
    for i in range(n):
        target = photos / f"IMG_{i:05d}.jpg"
        if faces and i % 4 == 0:
            shutil.copy(faces[(i // 4) % len(faces)], target)
            os.utime(target, (1.6e9 + i, 1.6e9 + i))
        else:
            ig.write_jpeg(target, (3000, 2000), seed=i,
                          datetime_original=f"2023:{1 + i % 12:02d}:{1 + i % 27:02d} 10:00:00")


def _rss_now() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--thumbs", type=int, default=8000)
    parser.add_argument("--scroll-seconds", type=float, default=6.0)
    parser.add_argument("--keep", metavar="DIR", help="build (or reuse) the library here")
    parser.add_argument("--read-photos", type=int, default=200,
                        help="photos for the read-then-idle memory figure (0: skip it)")
    parser.add_argument("--child", metavar="LIBRARY", help=argparse.SUPPRESS)
    parser.add_argument("--read-child", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--launched", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.launched, args.scroll_seconds, args.thumbs)
        return
    if args.read_child:
        read_child(Path(args.read_child))
        return
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="glimpse-gui-"))
    folder.mkdir(parents=True, exist_ok=True)
    t = time.time()
    library = build(folder, args.photos, args.thumbs)
    print(json.dumps({"bench": "setup", "photos": args.photos, "thumbnails": args.thumbs,
                      "seconds": round(time.time() - t, 1)}), flush=True)
    env = dict(os.environ, GLIMPSE_CACHE_DIR=str(folder / "cache"),
               QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               XDG_CONFIG_HOME=str(folder / "config"))
    for _run in range(2):   # the first run warms the OS file cache, as a second launch would
        launched = time.time()
        out = subprocess.run([sys.executable, __file__, "--child", str(library), "--launched",
                              str(launched), "--scroll-seconds", str(args.scroll_seconds),
                              "--thumbs", str(args.thumbs)],
                             env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            sys.stderr.write(out.stderr)
            raise SystemExit(out.returncode)
    sys.stdout.write(out.stdout)
    if args.read_photos > 0:
        make_read_photos(folder, args.read_photos)
        shutil.rmtree(folder / "read", ignore_errors=True)     # a first read each time
        out = subprocess.run([sys.executable, __file__, "--read-child", str(folder)],
                             env=dict(env, GLIMPSE_CACHE_DIR=str(folder / "read-cache")),
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            sys.stderr.write(out.stderr)
            raise SystemExit(out.returncode)
        sys.stdout.write(out.stdout)


if __name__ == "__main__":
    main()
