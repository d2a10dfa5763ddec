"""The FTS5 index over file names, folders and every text Glimpse knows about a photo."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from glimpse_desktop.kernel import plugins
from glimpse_desktop.kernel.db import Connection

# FTS columns, in table order. photo_text.field values with these names are indexed.
COLUMNS = ("filename", "folder", "description", "keywords", "prompt", "caption", "tags", "ocr",
           "places", "people")
TEXT_COLUMNS = COLUMNS[2:]


def _folder_words(folder: str, root: str | None) -> str:
    """The folder names a person chose: the photo folder's own name and the folders inside
    it. What lies above ("/home/ana") is in every path and would match every photo."""
    if root and (folder == root or folder.startswith(root.rstrip("/\\") + os.sep)):
        rel = os.path.relpath(folder, root)
        parts = [os.path.basename(root)] + ([] if rel == "." else re.split(r"[\\/]+", rel))
    else:
        parts = [p for p in re.split(r"[\\/]+", folder) if p][-3:]
    return " ".join(p for p in parts if p)


def mark(conn: Connection, photo_ids: Iterable[int]) -> None:
    """These photos' words changed (their row, their photo_text, a plugin's table that
    ``glimpse_photo_text`` reads): their full-text rows are rebuilt once, at the end of the
    write (just before it commits), after every module of the write has had its say. Outside
    a writer's transaction they are rebuilt at once."""
    ids = [int(i) for i in photo_ids]
    if not ids:
        return
    if conn.before_commit("fts", flush):
        conn.pending.setdefault("fts", set()).update(ids)
    else:
        refresh(conn, dict.fromkeys(ids))


def flush(conn: Connection) -> None:
    """Rebuild the rows of the photos ``mark`` gathered in this write (the writer runs it
    before COMMIT)."""
    ids: set[int] = conn.pending.pop("fts", set())
    if ids:
        refresh(conn, sorted(ids))


def refresh(conn: Connection, photo_ids: Iterable[int]) -> None:
    """Rebuild the FTS rows of these photos now from photos + photo_text and the words
    plugins keep in their own tables (``glimpse_photo_text``); inside a write. Modules that
    change words call ``mark``, which rebuilds each row once per write."""
    host = plugins.host()
    # Asked only when a plugin has words to give: most libraries have none, and this runs
    # for every photo read.
    plugin_text = bool(host.hook.glimpse_photo_text.get_hookimpls())
    for photo_id in photo_ids:
        row = conn.row("SELECT p.filename, p.folder, r.path AS root FROM photos p "
                       "LEFT JOIN roots r ON r.id = p.root_id WHERE p.id = ?", (photo_id,))
        conn.execute("DELETE FROM photos_fts WHERE rowid = ?", (photo_id,))
        if row is None:
            continue
        texts: dict[str, list[str]] = {c: [] for c in TEXT_COLUMNS}
        for field, value in conn.execute(
            "SELECT field, value FROM photo_text WHERE photo_id = ? ORDER BY field, source",
            (photo_id,),
        ):
            if field in texts:
                texts[field].append(value)
        if plugin_text:
            for pair in host.collect("glimpse_photo_text", conn=conn, photo_id=photo_id):
                try:
                    field, value = pair
                except (TypeError, ValueError):
                    continue          # not a (column, text) pair: the plugin's mistake
                if field in texts and isinstance(value, str) and value:
                    texts[field].append(value)
        stem = re.sub(r"[_\-.]+", " ", row["filename"])
        values: list[Any] = [photo_id, f"{row['filename']} {stem}",
                             _folder_words(row["folder"], row["root"])]
        values += ["\n".join(texts[c]) for c in TEXT_COLUMNS]
        conn.execute(
            f"INSERT INTO photos_fts(rowid, {', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' * (len(COLUMNS) + 1))})",
            values,
        )


def delete(conn: Connection, photo_ids: Iterable[int]) -> None:
    conn.executemany("DELETE FROM photos_fts WHERE rowid = ?", ((i,) for i in photo_ids))


_TOKEN = re.compile(r'-?"[^"]*"|\S+')


def build_match(query: str) -> str | None:
    """A person's words to a safe FTS5 MATCH expression.

    Every word must match (prefix match for the last one, as you type); "quoted phrases" stay
    phrases; a leading minus excludes a word. Nothing the person types can be an FTS5 syntax
    error.
    """
    include: list[str] = []
    exclude: list[str] = []
    tokens = _TOKEN.findall(query)
    for i, token in enumerate(tokens):
        negative = token.startswith("-") and len(token) > 1
        body = token[1:] if negative else token
        words = re.findall(r"\w+", body.strip('"'))
        if not words:
            continue
        phrase = '"' + " ".join(words) + '"'
        if not negative and i == len(tokens) - 1 and not body.startswith('"'):
            phrase += "*"
        (exclude if negative else include).append(phrase)
    if not include:
        return None
    expr = " AND ".join(include)
    for phrase in exclude:
        expr += f" NOT {phrase}"
    return expr


def search(conn: Connection, query: str, *, limit: int = 50,
           include_unavailable: bool = False) -> list[dict[str, Any]]:
    """Photos whose text matches, best first, with a snippet showing where it matched."""
    match = build_match(query)
    if match is None:
        return []
    # Offline photos (their drive is unplugged) are still the person's photos, with cached
    # thumbnails: found, and marked. Missing ones only on request.
    # A RAW kept as its JPEG's companion (kernel/pairs.py) is found through its photo.
    status = "AND p.companion_of IS NULL AND (p.flags & 16) = 0" if include_unavailable \
        else "AND p.status IN ('ok', 'offline') AND p.companion_of IS NULL"
    # Weights: what a person typed about a photo (descriptions, keywords, captions, names)
    # counts more than where it happens to be stored.
    return conn.rows(
        f"""
        SELECT p.id, p.path, p.taken_at, p.status,
               bm25(photos_fts, 2.0, 1.0, 4.0, 4.0, 3.0, 4.0, 3.0, 2.0, 2.0, 4.0) AS rank,
               snippet(photos_fts, -1, '[', ']', '…', 12) AS snippet
        FROM photos_fts JOIN photos p ON p.id = photos_fts.rowid
        WHERE photos_fts MATCH ? {status}
        ORDER BY rank LIMIT ?
        """,
        (match, limit),
    )
