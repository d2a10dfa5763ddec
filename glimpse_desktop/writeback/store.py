"""Where write-back keeps its records: what Glimpse wrote into each file (``writeback``:
digest and the XMP it wrote, so its own words are never read back as another app's), which
files were read and when (``sidecars``), the named regions read from them (``xmp_regions``),
and the photo values a file's XMP sets (text, tags, rating, caption). Functions take a
``Connection``; those that write run inside a write."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from glimpse_desktop.kernel import photos
from glimpse_desktop.kernel.db import Connection

__all__ = ["add_file_tag", "chunks", "clear_file_values", "content_hash", "description_texts",
           "forget_sidecar", "has_caption", "insert_region", "mark_changed", "named_faces",
           "photo_for_payload", "photo_ids_by_path", "photo_ids_by_stem", "photo_rows",
           "photos_to_read", "read_records", "record_read", "record_written", "region_rows",
           "rekey", "remove_region", "set_file_text", "set_people_text", "set_pick", "set_rating",
           "set_xmp_caption", "sidecar_rows", "sidecar_stats", "tag_names", "written_records",
           "wrote_rating", "xmp_caption_row"]

# Ids are looked up this many at a time (SQLite's variable limit).
_CHUNK = 500


def chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    """Distinct ``ids`` in slices a query's ``IN (...)`` can take."""
    unique = [int(i) for i in dict.fromkeys(ids)]
    for start in range(0, len(unique), _CHUNK):
        yield unique[start:start + _CHUNK]


# ---------------------------------------------------------------------- what a photo says


def photo_for_payload(conn: Connection, photo_id: int) -> dict[str, Any] | None:
    """id, rating, width, height, orientation, flags (favourite, rejected) and rotation of a
    photo; None when there is no such photo."""
    return conn.row("SELECT id, rating, width, height, orientation, flags, rotation "
                    "FROM photos WHERE id = ?", (photo_id,))


def xmp_caption_row(conn: Connection, photo_id: int) -> dict[str, Any] | None:
    """source, model, summary and data (JSON text) of a photo's caption, or None."""
    return conn.row("SELECT source, model, summary, data FROM captions WHERE photo_id = ?",
                    (photo_id,))


def description_texts(conn: Connection, photo_id: int) -> dict[str, str]:
    """A photo's descriptions by their source (EXIF, a sidecar, ...)."""
    return {str(r["source"]): str(r["value"]) for r in conn.rows(
        "SELECT source, value FROM photo_text WHERE photo_id = ? AND "
        "field = 'description' ORDER BY source", (photo_id,))}


def named_faces(conn: Connection, photo_id: int) -> list[dict[str, Any]]:
    """The photo's faces in named people: name, x, y, w, h (upright fractions), by name."""
    return conn.rows(
        "SELECT p.name, f.x, f.y, f.w, f.h FROM faces f JOIN people p ON "
        "p.id = f.person_id WHERE f.photo_id = ? AND p.name IS NOT NULL "
        "ORDER BY p.name COLLATE NOCASE, f.x", (photo_id,))


def tag_names(conn: Connection, photo_id: int) -> list[str]:
    """A photo's tags, each once, in case-blind order."""
    return [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT tag FROM photo_tags WHERE photo_id = ? "
        "ORDER BY tag COLLATE NOCASE, tag", (photo_id,))]


# ---------------------------------------------------------------------- writing files


def photo_rows(conn: Connection, photo_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    """id, path, folder of the readable photos (of ``photo_ids``, when given), by path."""
    where = "status = 'ok'"
    if photo_ids is None:
        return conn.rows(f"SELECT id, path, folder FROM photos WHERE {where} ORDER BY path")
    rows: list[dict[str, Any]] = []
    for chunk in chunks(photo_ids):
        rows += conn.rows(f"SELECT id, path, folder FROM photos WHERE {where} AND id "
                          f"IN ({','.join('?' * len(chunk))}) ORDER BY path", chunk)
    return rows


def written_records(conn: Connection) -> list[dict[str, Any]]:
    """What Glimpse last wrote where: photo_id, target, path, digest, written (JSON)."""
    return conn.rows("SELECT photo_id, target, path, digest, written FROM writeback")


def read_records(conn: Connection) -> list[dict[str, Any]]:
    """What Glimpse last wrote into each file, for reading back: photo_id, target, written."""
    return conn.rows("SELECT photo_id, target, written FROM writeback")


def sidecar_rows(conn: Connection) -> list[dict[str, Any]]:
    """The sidecars read last: photo_id, path, size, mtime_ns."""
    return conn.rows(
        "SELECT photo_id, path, size, mtime_ns FROM sidecars WHERE kind = 'sidecar'")


def sidecar_stats(conn: Connection) -> list[dict[str, Any]]:
    """Every file read (sidecars and JPEGs' own XMP): path, photo_id, kind, size, mtime_ns,
    read_at."""
    return conn.rows("SELECT path, photo_id, kind, size, mtime_ns, read_at FROM sidecars")


def record_written(conn: Connection, photo_id: int, target: str, path: str, digest: str,
                   written: str | None, at: str) -> None:
    conn.execute("INSERT OR REPLACE INTO writeback(photo_id, target, path, digest, written, "
                 "written_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (photo_id, target, path, digest, written, at))


def record_read(conn: Connection, path: str, photo_id: int, kind: str, size: int,
                mtime_ns: int, at: str) -> None:
    """The file as last read (or written by Glimpse itself: not news to read back)."""
    conn.execute("INSERT OR REPLACE INTO sidecars(path, photo_id, kind, size, mtime_ns, "
                 "read_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (path, photo_id, kind, size, mtime_ns, at))


def forget_sidecar(conn: Connection, path: str) -> None:
    conn.execute("DELETE FROM sidecars WHERE path = ?", (path,))


# ---------------------------------------------------------------------- reading files


def photos_to_read(conn: Connection, photo_ids: Sequence[int] | None
                   ) -> list[dict[str, Any]]:
    """The readable photos (of ``photo_ids``, when given) with what reading needs: id, path,
    folder, size, mtime_ns, updated_at, orientation, content_hash, root_id."""
    cols = ("SELECT id, path, folder, size, mtime_ns, updated_at, orientation, "
            "content_hash, root_id FROM photos WHERE status = 'ok'")
    if photo_ids is None:
        return conn.rows(cols)
    rows: list[dict[str, Any]] = []
    for chunk in chunks(photo_ids):
        rows += conn.rows(f"{cols} AND id IN ({','.join('?' * len(chunk))})", chunk)
    return rows


def clear_file_values(conn: Connection, photo_id: int, tag_source: str, sidecar: bool
                      ) -> None:
    """Take out what a file's XMP set (its tags; a sidecar's text too) before it is read
    again."""
    conn.execute("DELETE FROM photo_tags WHERE photo_id = ? AND source = ?",
                 (photo_id, tag_source))
    if sidecar:
        conn.execute("DELETE FROM photo_text WHERE photo_id = ? AND source = 'xmp-sidecar'",
                     (photo_id,))


def set_file_text(conn: Connection, photo_id: int, field: str, value: str) -> None:
    """A sidecar's description or keywords, as the photo's text."""
    conn.execute("INSERT OR REPLACE INTO photo_text(photo_id, field, source, value) "
                 "VALUES (?, ?, 'xmp-sidecar', ?)", (photo_id, field, value))


def wrote_rating(conn: Connection, photo_id: int) -> bool:
    """Glimpse has written this photo's sidecar (so a rating there other than its own is
    another app's change)."""
    return bool(conn.one("SELECT 1 FROM writeback WHERE photo_id = ? AND target = 'sidecar' "
                         "AND written IS NOT NULL", (photo_id,)))


def set_rating(conn: Connection, photo_id: int, rating: int, *, only_unrated: bool) -> None:
    """The photo's rating, as the file's own (``rating_source`` NULL). With ``only_unrated``
    only when it has none (0 is none) and the person gave it none: stars they took away stay
    away."""
    if only_unrated:
        conn.execute("UPDATE photos SET rating = ?, rating_source = NULL WHERE id = ? AND "
                     "coalesce(rating, 0) = 0 AND rating_source IS NULL", (rating, photo_id))
    else:
        conn.execute("UPDATE photos SET rating = ?, rating_source = NULL WHERE id = ?",
                     (rating, photo_id))


# digiKam's pick labels (digiKam:PickLabel) as Glimpse reads and writes them.
PICK_REJECTED, PICK_ACCEPTED = 1, 3


def set_pick(conn: Connection, photo_id: int, pick: int) -> None:
    """A pick label a file says (not Glimpse's own write): accepted is a favourite, rejected
    a reject. Other labels (none, pending) take nothing away: a favourite given in Glimpse
    before write-back was on is never lost to a file that says nothing of it."""
    flag = {PICK_ACCEPTED: photos.FLAG_FAVORITE, PICK_REJECTED: photos.FLAG_REJECTED}.get(pick)
    if flag is not None:
        conn.execute(f"UPDATE photos SET flags = flags | {flag} WHERE id = ?", (photo_id,))


def add_file_tag(conn: Connection, photo_id: int, tag: str, source: str) -> None:
    conn.execute("INSERT OR IGNORE INTO photo_tags(photo_id, tag, source) VALUES (?, ?, ?)",
                 (photo_id, tag, source))


def has_caption(conn: Connection, photo_id: int) -> bool:
    return bool(conn.one("SELECT 1 FROM captions WHERE photo_id = ?", (photo_id,)))


def set_xmp_caption(conn: Connection, photo_id: int, content_hash: str, model: str | None,
                    summary: str, data: str | None, at: str) -> None:
    """A caption read from a file's XMP (Glimpse's own, written by another library)."""
    conn.execute("INSERT INTO captions(photo_id, content_hash, source, model, prompt_sha, "
                 "summary, data, updated_at) VALUES (?, ?, 'xmp', ?, NULL, ?, ?, ?)",
                 (photo_id, content_hash, model, summary, data, at))


def region_rows(conn: Connection, photo_id: int, source: str) -> list[dict[str, Any]]:
    """The named regions read from one file of a photo: id, name, x, y, w, h."""
    return conn.rows("SELECT id, name, x, y, w, h FROM xmp_regions WHERE photo_id = ? AND "
                     "source = ?", (photo_id, source))


def insert_region(conn: Connection, photo_id: int, source: str, name: str,
                  box: tuple[float, float, float, float]) -> int:
    """A named region read from a file; returns its id."""
    conn.execute("INSERT INTO xmp_regions(photo_id, source, name, x, y, w, h) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)", (photo_id, source, name, *box))
    return int(conn.raw.last_insert_rowid())


def remove_region(conn: Connection, region_id: int) -> None:
    conn.execute("DELETE FROM xmp_regions WHERE id = ?", (region_id,))


def set_people_text(conn: Connection, photo_id: int, names: list[str]) -> None:
    """Names from XMP (and every region read), searchable before any face is found."""
    every = names + [str(r[0]) for r in conn.execute(
        "SELECT name FROM xmp_regions WHERE photo_id = ? ORDER BY x", (photo_id,))]
    every = list(dict.fromkeys(every))
    conn.execute("DELETE FROM photo_text WHERE photo_id = ? AND field = 'people' AND "
                 "source = 'xmp'", (photo_id,))
    if every:
        conn.execute("INSERT INTO photo_text(photo_id, field, source, value) VALUES "
                     "(?, 'people', 'xmp', ?)", (photo_id, " ".join(every)))


def photo_ids_by_path(conn: Connection, path: str) -> int | None:
    value = conn.one("SELECT id FROM photos WHERE path = ?", (path,))
    return None if value is None else int(value)


def photo_ids_by_stem(conn: Connection, folder: str, stem: str) -> list[int]:
    """The photos named ``stem.*`` in ``folder`` (Lightroom's ``stem.xmp`` is theirs)."""
    pattern = stem.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"
    return [int(r[0]) for r in conn.execute(
        "SELECT id FROM photos WHERE folder = ? AND filename LIKE ? ESCAPE '\\'",
        (folder, pattern))]


def content_hash(conn: Connection, photo_id: int) -> str | None:
    value = conn.one("SELECT content_hash FROM photos WHERE id = ?", (photo_id,))
    return None if value is None else str(value)


def mark_changed(conn: Connection, photo_id: int) -> None:
    """Make the next index read the photo afresh (its size and mtime may be the ones the
    library knows: the mtime is made to differ)."""
    conn.execute("UPDATE photos SET mtime_ns = -1 WHERE id = ?", (photo_id,))


def rekey(conn: Connection, photo_id: int, size: int, mtime_ns: int, old_hash: str,
          new_hash: str) -> bool:
    """The photo's file has new bytes but the same pixels (metadata written into it):
    everything derived from the pixels carries over to the new content hash, and replies
    already paid for stay found. Returns whether another photo still has the old bytes."""
    conn.execute("UPDATE photos SET size = ?, mtime_ns = ?, content_hash = ? WHERE id = ?",
                 (size, mtime_ns, new_hash, photo_id))
    for table in ("faces", "photo_faces", "photo_embeddings", "captions"):
        conn.execute(f"UPDATE {table} SET content_hash = ? WHERE photo_id = ? AND "
                     "content_hash = ?", (new_hash, photo_id, old_hash))
    conn.execute("INSERT OR IGNORE INTO caption_cache(content_hash, model, prompt_sha, "
                 "reply, is_json, tokens_in, tokens_out, created_at) SELECT ?, model, "
                 "prompt_sha, reply, is_json, tokens_in, tokens_out, created_at FROM "
                 "caption_cache WHERE content_hash = ?", (new_hash, old_hash))
    return conn.one("SELECT 1 FROM photos WHERE content_hash = ?", (old_hash,)) is not None
