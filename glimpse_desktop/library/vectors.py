"""Embedding spaces: one sqlite-vec table per model, registered in embedding_spaces.

A vec0 table has a fixed dimension and models differ in theirs, so each model id gets its own
table; vectors are keyed by photo id (or face id) and compared by cosine distance.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence

from glimpse_desktop.library.db import Connection, now_iso


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


def put(conn: Connection, table: str, item_id: int, vector: Sequence[float]) -> None:

    blob = struct.pack(f"<{len(vector)}f", *vector)
    conn.execute(f"DELETE FROM {table} WHERE item_id = ?", (item_id,))
    conn.execute(f"INSERT INTO {table}(item_id, embedding) VALUES (?, ?)", (item_id, blob))


def nearest(conn: Connection, table: str, vector: Sequence[float], k: int = 10
            ) -> list[tuple[int, float]]:
    """The k nearest items by cosine distance, closest first."""

    blob = struct.pack(f"<{len(vector)}f", *vector)
    return [
        (int(item), float(dist))
        for item, dist in conn.execute(
            f"SELECT item_id, distance FROM {table} WHERE embedding MATCH ? AND k = ? "
            "ORDER BY distance",
            (blob, k),
        )
    ]
