"""The library's photo folders (roots) and the drives (volumes) they are on: storage.

Plain rows in, plain rows out; ``api.roots`` holds the rules (what may be added, what a
removal forgets) and makes the public records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glimpse_desktop.kernel import fts, photos
from glimpse_desktop.kernel.db import Connection, now_iso

# ``api.records.Root``'s fields but ``present``, in order.
ROOT_COLUMNS = ("id", "path", "status", "added_at", "last_scan_at", "volume", "photos",
                "missing", "offline", "unsupported", "errors", "warnings")


def with_counts(conn: Connection, warning_stages: Sequence[str]) -> list[tuple[Any, ...]]:
    """Every root (ROOT_COLUMNS), by path: its state, its drive's mount point, its photos by
    status, its error rows and its warning rows (those of ``warning_stages``)."""
    marks = ", ".join("?" * len(warning_stages))
    return list(conn.execute(
        f"""SELECT r.id, r.path, r.status, r.added_at, r.last_scan_at,
                  v.mount_point AS volume,
                  count(p.id) FILTER (WHERE p.status = 'ok' AND p.companion_of IS NULL)
                      AS photos,
                  count(p.id) FILTER (WHERE p.status = 'missing' AND (p.flags & 16) = 0) AS missing,
                  count(p.id) FILTER (WHERE p.status = 'offline') AS offline,
                  count(p.id) FILTER (WHERE p.status = 'unsupported') AS unsupported,
                  (SELECT count(*) FROM errors e WHERE e.root_id = r.id
                   AND e.stage NOT IN ({marks})) AS errors,
                  (SELECT count(*) FROM errors e WHERE e.root_id = r.id
                   AND e.stage IN ({marks})) AS warnings
           FROM roots r LEFT JOIN volumes v ON v.id = r.volume_id
           LEFT JOIN photos p ON p.root_id = r.id
           GROUP BY r.id ORDER BY r.path""", (*warning_stages, *warning_stages)))


def add(conn: Connection, path: str, *, mount_point: str, device: int,
        absorbed: Sequence[int]) -> int:
    """A new root at ``path`` on the drive mounted at ``mount_point``; the roots
    ``absorbed`` (inside it) hand it their photos and errors and go. Returns its id."""
    conn.execute("INSERT INTO volumes(mount_point, device, first_seen) VALUES (?, ?, ?) "
                 "ON CONFLICT(mount_point) DO UPDATE SET device = excluded.device",
                 (mount_point, device, now_iso()))
    volume_id = conn.one("SELECT id FROM volumes WHERE mount_point = ?", (mount_point,))
    conn.execute("INSERT INTO roots(path, volume_id, status, added_at) VALUES (?, ?, 'new', ?)",
                 (path, volume_id, now_iso()))
    root_id = int(conn.raw.last_insert_rowid())
    for inner in absorbed:
        ids = [int(row[0]) for row in conn.execute("SELECT id FROM photos WHERE root_id = ?",
                                                   (inner,))]
        conn.execute("UPDATE photos SET root_id = ? WHERE root_id = ?", (root_id, inner))
        conn.execute("UPDATE errors SET root_id = ? WHERE root_id = ?", (root_id, inner))
        conn.execute("DELETE FROM roots WHERE id = ?", (inner,))
        fts.mark(conn, ids)  # folder words are relative to the root
    return root_id


def remove(conn: Connection, root_id: int) -> tuple[int, list[str]]:
    """Forget a root and its photos (with all that hangs off them). Returns how many photos
    went, and the content hashes no photo has any more (their thumbnails can go)."""
    ids = [int(r[0]) for r in conn.execute("SELECT id FROM photos WHERE root_id = ?",
                                           (root_id,))]
    hashes = [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT content_hash FROM photos WHERE root_id = ?", (root_id,))]
    photos.delete_photos(conn, ids)
    conn.execute("DELETE FROM roots WHERE id = ?", (root_id,))
    return len(ids), photos.orphans(conn, hashes)
