"""A library of many photo rows written straight into its database (no files read): what the
timeline tests page through. Dates spread over years; the newest ``thumbs`` rows get real
thumbnails in the cache."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from glimpse_desktop.api.library import Library
from glimpse_desktop.kernel.db import now_iso


def fill(lib: Library, folder: Path, stamps: list[float | None], *,
         flags: dict[int, int] | None = None, ratings: dict[int, int] | None = None) -> None:
    """One photo row per stamp (``taken_ts``; None: undated), the n-th with ``flags[n]`` and
    ``ratings[n]``, in ``folder``/Pictures added as a root (the files are not written)."""
    root = folder / "Pictures"
    root.mkdir(parents=True, exist_ok=True)
    lib.add_root(root)
    root_id = int(lib.reader().one("SELECT id FROM roots WHERE path = ?", (str(root),)))
    first = int(lib.reader().one("SELECT coalesce(max(id), 0) FROM photos"))
    now = now_iso()
    flags, ratings = flags or {}, ratings or {}
    batch: list[tuple[Any, ...]] = []
    for n, ts in enumerate(stamps):
        k = first + n
        taken = None if ts is None else datetime.fromtimestamp(ts, UTC).replace(
            tzinfo=None).isoformat(timespec="seconds")
        batch.append((root_id, f"{root}/IMG_{k:06d}.jpg", str(root), f"IMG_{k:06d}.jpg", 1, 1,
                      f"{k:064x}", taken, ts, now, now, flags.get(n, 0), ratings.get(n)))

    def write(c: Any) -> None:
        c.executemany(
            "INSERT INTO photos(root_id, path, folder, filename, size, mtime_ns, content_hash, "
            "taken_at, taken_ts, added_at, updated_at, flags, rating, width, height, has_thumb,"
            " format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 4000, 3000, 0, 'JPEG')",
            batch)

    lib.writer.call(write)
