"""Where captions are kept: the ``captions`` table (one caption a photo), the reply cache
(``caption_cache``: replies by content, model and prompt, so nothing is paid for twice), the
claims runs make on a question (``caption_claims``), and the caption's words in the text
index and tags. Functions take a ``Connection``; those that write run inside a write."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from glimpse_desktop.captions.records import Caption
from glimpse_desktop.kernel.db import Connection

__all__ = ["add_tags", "add_text", "average_tokens", "cache_reply", "cached_replies",
           "candidates", "caption", "caption_for_index", "caption_source", "claim",
           "clear_caption_error", "clear_index", "delete_caption", "load_data", "photo",
           "photo_count", "place_names", "record_errors", "release_claims", "set_model_caption",
           "set_user_caption"]

# Cached replies are looked up this many contents at a time (SQLite's variable limit).
_CHUNK = 500


def load_data(raw: str | None) -> dict[str, Any] | None:
    """A caption's stored JSON fields, or None for plain text (or JSON that is not an object).
    """
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# ---------------------------------------------------------------------- captions


def caption(conn: Connection, photo_id: int) -> Caption | None:
    """A photo's caption, or None when it has none."""
    row = conn.row(
        "SELECT summary, data, source, model, updated_at FROM captions WHERE photo_id = ?",
        (photo_id,))
    if row is None:
        return None
    return Caption(summary=str(row["summary"] or ""), data=load_data(row["data"]),
                   source=str(row["source"]), model=row["model"],
                   updated_at=str(row["updated_at"]))


def caption_source(conn: Connection, photo_id: int) -> str | None:
    """Who wrote a photo's caption ('model', 'user', 'xmp'), or None when it has none."""
    value = conn.one("SELECT source FROM captions WHERE photo_id = ?", (photo_id,))
    return None if value is None else str(value)


def caption_for_index(conn: Connection, photo_id: int) -> dict[str, Any] | None:
    """What the text index needs of a photo's caption: summary, data (raw JSON), model."""
    return conn.row("SELECT summary, data, model FROM captions WHERE photo_id = ?",
                    (photo_id,))


def delete_caption(conn: Connection, photo_id: int) -> None:
    conn.execute("DELETE FROM captions WHERE photo_id = ?", (photo_id,))


def set_user_caption(conn: Connection, photo_id: int, content_hash: str | None, summary: str,
                     at: str) -> None:
    """The person's own caption; structured fields an earlier model gave stay."""
    conn.execute(
        "INSERT INTO captions(photo_id, content_hash, source, summary, updated_at) "
        "VALUES (?, ?, 'user', ?, ?) ON CONFLICT(photo_id) DO UPDATE SET "
        "source = 'user', summary = excluded.summary, "
        "content_hash = excluded.content_hash, updated_at = excluded.updated_at",
        (photo_id, content_hash, summary, at))


def set_model_caption(conn: Connection, photo_id: int, content_hash: str, model: str,
                      prompt_sha: str, summary: str, data: str | None, at: str) -> None:
    """A model's caption (``data``: its JSON fields as text, None for plain text)."""
    conn.execute(
        "INSERT OR REPLACE INTO captions(photo_id, content_hash, source, model, "
        "prompt_sha, summary, data, updated_at) VALUES (?, ?, 'model', ?, ?, ?, ?, ?)",
        (photo_id, content_hash, model, prompt_sha, summary, data, at))


# ---------------------------------------------------------------------- text index, tags


def clear_index(conn: Connection, photo_id: int, text_source: str, tag_prefix: str) -> None:
    """Remove a photo's caption words from the text index and its caption tags."""
    conn.execute("DELETE FROM photo_text WHERE photo_id = ? AND source = ?",
                 (photo_id, text_source))
    conn.execute("DELETE FROM photo_tags WHERE photo_id = ? AND source LIKE ?",
                 (photo_id, tag_prefix + "%"))


def add_text(conn: Connection, photo_id: int, field: str, source: str, value: str) -> None:
    conn.execute("INSERT INTO photo_text(photo_id, field, source, value) VALUES (?, ?, ?, ?)",
                 (photo_id, field, source, value))


def add_tags(conn: Connection, photo_id: int, source: str,
             tags: Iterable[tuple[str, str]]) -> None:
    """(tag, vocabulary) pairs, without a confidence: a model named them."""
    conn.executemany("INSERT OR IGNORE INTO photo_tags(photo_id, tag, source, confidence, "
                     "vocabulary) VALUES (?, ?, ?, NULL, ?)",
                     [(photo_id, tag, source, vocabulary) for tag, vocabulary in tags])


# ---------------------------------------------------------------------- photos


def photo(conn: Connection, photo_id: int) -> dict[str, Any] | None:
    """A photo's path, status and content hash, or None when the library has no such photo."""
    return conn.row("SELECT id, path, status, content_hash FROM photos WHERE id = ?",
                    (photo_id,))


def photo_count(conn: Connection) -> int:
    return int(conn.one("SELECT count(*) FROM photos"))


def candidates(conn: Connection, *, replace: bool, model: str, prompt_sha: str
               ) -> list[dict[str, Any]]:
    """Readable photos with no caption, or a model's caption of earlier content (or, with
    ``replace``, from another model or prompt), oldest first: id, path, content_hash, root_id,
    size, mtime_ns, taken_at. The person's own captions are never among them."""
    return conn.rows(
        "SELECT p.id, p.path, p.content_hash, p.root_id, p.size, p.mtime_ns, p.taken_at "
        "FROM photos p LEFT JOIN captions c ON c.photo_id = p.id "
        "WHERE p.status = 'ok' AND p.companion_of IS NULL AND (c.photo_id IS NULL OR "
        "(c.source = 'model' AND "
        "(c.content_hash != p.content_hash OR (? AND (c.model IS NOT ? OR "
        "c.prompt_sha IS NOT ?))))) ORDER BY p.id",
        (int(replace), model, prompt_sha))


def place_names(conn: Connection, photo_id: int) -> tuple[str | None, str | None, str | None]:
    """The city, region and country a photo was placed in (None each when unknown)."""
    row = conn.row("SELECT city, region, country FROM photo_places WHERE photo_id = ?",
                   (photo_id,))
    if row is None:
        return None, None, None
    return row["city"], row["region"], row["country"]


def record_errors(conn: Connection, rows: Sequence[dict[str, Any]], reason: str,
                  at: str) -> None:
    """A failed caption for each photo (``candidates`` rows), in the errors table."""
    conn.executemany(
        "INSERT INTO errors(path, stage, root_id, photo_id, reason, size, mtime_ns, "
        "at) VALUES (?, 'caption', ?, ?, ?, ?, ?, ?) ON CONFLICT(path, stage) DO "
        "UPDATE SET reason = excluded.reason, photo_id = excluded.photo_id, "
        "at = excluded.at",
        [(row["path"], row["root_id"], row["id"], reason, row["size"], row["mtime_ns"], at)
         for row in rows])


def clear_caption_error(conn: Connection, photo_id: int) -> None:
    conn.execute("DELETE FROM errors WHERE photo_id = ? AND stage = 'caption'", (photo_id,))


# ---------------------------------------------------------------------- reply cache, claims


def cached_replies(conn: Connection, model: str, prompt_sha: str, hashes: Sequence[str]
                   ) -> dict[str, dict[str, Any]]:
    """Replies already paid for, by content hash: content_hash, reply, is_json."""
    out: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        for row in conn.rows(
                "SELECT content_hash, reply, is_json FROM caption_cache WHERE model = ? "
                f"AND prompt_sha = ? AND content_hash IN ({','.join('?' * len(chunk))})",
                (model, prompt_sha, *chunk)):
            out[row["content_hash"]] = row
    return out


def cache_reply(conn: Connection, content_hash: str, model: str, prompt_sha: str, reply: str,
                is_json: bool, tokens_in: int | None, tokens_out: int | None, at: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO caption_cache(content_hash, model, prompt_sha, reply, "
        "is_json, tokens_in, tokens_out, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (content_hash, model, prompt_sha, reply, int(is_json), tokens_in, tokens_out, at))


def average_tokens(conn: Connection, model: str) -> tuple[float, float, int] | None:
    """The mean input and output tokens of the model's earlier replies, and how many there
    were; None when none counted their tokens."""
    row = conn.row(
        "SELECT avg(tokens_in) AS tin, avg(tokens_out) AS tout, count(*) AS n "
        "FROM caption_cache WHERE model = ? AND tokens_in IS NOT NULL", (model,))
    if row is None or not row["n"]:
        return None
    return float(row["tin"]), float(row["tout"] or 0), int(row["n"])


def claim(conn: Connection, key: tuple[str, str, str], owner: str, now: float,
          ttl: float) -> bool:
    """Record that ``owner`` asks ``key`` (content, model, prompt) now; False when another
    owner claimed it less than ``ttl`` seconds ago."""
    row = conn.row("SELECT owner, claimed_at FROM caption_claims WHERE content_hash = ? "
                   "AND model = ? AND prompt_sha = ?", key)
    if row is not None and row["owner"] != owner and now - float(row["claimed_at"]) < ttl:
        return False
    conn.execute("INSERT OR REPLACE INTO caption_claims(content_hash, model, prompt_sha, "
                 "owner, claimed_at) VALUES (?, ?, ?, ?, ?)", (*key, owner, now))
    return True


def release_claims(conn: Connection, model: str, prompt_sha: str, owner: str,
                   hashes: Iterable[str]) -> None:
    conn.executemany(
        "DELETE FROM caption_claims WHERE content_hash = ? AND model = ? AND prompt_sha = ? "
        "AND owner = ?", [(h, model, prompt_sha, owner) for h in hashes])
