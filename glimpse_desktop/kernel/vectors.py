"""Embedding spaces: one sqlite-vec table per model, registered in embedding_spaces.

A vec0 table has a fixed dimension and models differ in theirs, so each model id gets its own
table; vectors are keyed by photo id (or face id) and compared by cosine distance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from glimpse_desktop.kernel.db import Connection, now_iso


def _table_name(model_id: str, kind: str) -> str:
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", model_id).strip("_").lower()[:40] or "model"
    return f"vec_{kind}_{slug}"


def ensure_space(conn: Connection, model_id: str, *, kind: str, dim: int) -> str:
    """The vec0 table for ``model_id`` (created on first use); returns its name."""
    row = conn.row("SELECT kind, dim, table_name FROM embedding_spaces WHERE model_id = ?",
                   (model_id,))
    if row is not None:
        if row["dim"] != dim or row["kind"] != kind:
            raise ValueError(
                f"model {model_id} is registered as {row['kind']}/{row['dim']}-d, "
                f"not {kind}/{dim}-d"
            )
        return str(row["table_name"])
    name = _table_name(model_id, kind)
    suffix = 1
    while conn.one("SELECT 1 FROM embedding_spaces WHERE table_name = ?", (name,)):
        suffix += 1
        name = f"{_table_name(model_id, kind)}_{suffix}"
    conn.execute(
        f"CREATE VIRTUAL TABLE {name} USING vec0("
        f"item_id INTEGER PRIMARY KEY, embedding float[{int(dim)}] distance_metric=cosine)"
    )
    conn.execute(
        "INSERT INTO embedding_spaces(model_id, kind, dim, table_name, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (model_id, kind, dim, name, now_iso()),
    )
    return name


def to_blob(vector: Sequence[float] | np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def put(conn: Connection, table: str, item_id: int, vector: Sequence[float] | np.ndarray
        ) -> None:
    blob = to_blob(vector)
    conn.execute(f"DELETE FROM {table} WHERE item_id = ?", (item_id,))
    conn.execute(f"INSERT INTO {table}(item_id, embedding) VALUES (?, ?)", (item_id, blob))


def nearest(conn: Connection, table: str, vector: Sequence[float] | np.ndarray, k: int = 10
            ) -> list[tuple[int, float]]:
    """The k nearest items by cosine distance, closest first (exact: brute force)."""
    blob = to_blob(vector)
    return [
        (int(item), float(dist))
        for item, dist in conn.execute(
            f"SELECT item_id, distance FROM {table} WHERE embedding MATCH ? AND k = ? "
            "ORDER BY distance",
            (blob, k),
        )
    ]


def table_for(conn: Connection, model_id: str) -> str | None:
    """The vec0 table of ``model_id``, or None if nothing was ever embedded with it."""
    name = conn.one("SELECT table_name FROM embedding_spaces WHERE model_id = ?", (model_id,))
    return None if name is None else str(name)


def store_embedding(conn: Connection, table: str, model_id: str, photo_id: int,
                    vector: Sequence[float] | np.ndarray) -> None:
    """Save a photo's embedding and note which content it was computed from (its current
    hash); the change log entry comes from the photo_embeddings trigger."""
    put(conn, table, photo_id, vector)
    conn.execute(
        "INSERT INTO photo_embeddings(photo_id, model_id, content_hash) "
        "SELECT id, ?, content_hash FROM photos WHERE id = ? "
        "ON CONFLICT(photo_id, model_id) DO UPDATE SET content_hash = excluded.content_hash",
        (model_id, photo_id),
    )


def get_many(conn: Connection, table: str, ids: Sequence[int]) -> dict[int, bytes]:
    """Raw float32 blobs of the given items (those that have one)."""
    found: dict[int, bytes] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for item, blob in conn.execute(
                f"SELECT item_id, embedding FROM {table} WHERE item_id IN ({marks})", chunk):
            found[int(item)] = bytes(blob)
    return found


def embedded(conn: Connection, model_id: str, ids: Sequence[int]) -> set[int]:
    """Which of ``ids`` have an embedding in ``model_id``'s space."""
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        found.update(int(r[0]) for r in conn.execute(
            f"SELECT photo_id FROM photo_embeddings WHERE model_id = ? AND photo_id IN "
            f"({','.join('?' * len(chunk))})", (model_id, *chunk)))
    return found


def changes_since(conn: Connection, model_id: str, seq: int, limit: int = 50_000
                  ) -> tuple[list[int], int]:
    """Photo ids whose embedding changed (added, replaced or removed) after ``seq``, and the
    newest seq seen."""
    rows = conn.rows("SELECT seq, photo_id FROM embedding_log WHERE model_id = ? AND seq > ? "
                     "ORDER BY seq LIMIT ?", (model_id, seq, limit))
    if not rows:
        return [], seq
    return list(dict.fromkeys(int(r["photo_id"]) for r in rows)), int(rows[-1]["seq"])


def last_seq(conn: Connection) -> int:
    return int(conn.one("SELECT coalesce(max(seq), 0) FROM embedding_log"))


def delete(conn: Connection, table: str, ids: Sequence[int]) -> None:
    """Remove items' vectors (vec0 tables cannot take part in foreign keys)."""
    conn.executemany(f"DELETE FROM {table} WHERE item_id = ?", ((i,) for i in ids))
