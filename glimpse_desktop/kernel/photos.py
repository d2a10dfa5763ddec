"""Photos, their texts and per-file errors: every write the ingestion makes goes through here."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from glimpse_desktop.kernel import fts, pairs, plugins, vectors
from glimpse_desktop.kernel import orientation as orientation_math
from glimpse_desktop.kernel.db import Connection, now_iso
from glimpse_desktop.kernel.redact import redact

# photo_text fields that come from the file itself; a re-read replaces exactly these, so text
# added later by people or models (captions, tags, names) survives a changed file.
FILE_TEXT_FIELDS = ("description", "keywords", "prompt", "negative_prompt", "generation")

# photos.flags bits. An unsupported file keeps this bit while missing or offline, so it comes
# back as unsupported rather than as a photo that can be shown.
FLAG_UNSUPPORTED = 1
# The file is damaged (truncated, or its pixels do not decode) but what it says about itself
# was read: it is kept and shown (grey where nothing decodes), and marked.
FLAG_DAMAGED = 2
# The person's judgement (never read from the file, so a re-read keeps it): a favourite, and
# a reject (Lightroom's "rejected" flag, xmp:Rating -1 when written back).
FLAG_FAVORITE = 4
FLAG_REJECTED = 8
# The file was moved to the system trash by Glimpse: the row is kept (names, albums, captions
# come back with a restore) but shown only in "Recently deleted".
FLAG_TRASHED = 16
if pairs.JUDGED != FLAG_FAVORITE | FLAG_REJECTED:   # pairs.py cannot import this module
    raise ImportError("kernel.pairs.JUDGED is out of step with the judgement flags")
_BACK = f"CASE WHEN flags & {FLAG_UNSUPPORTED} THEN 'unsupported' ELSE 'ok' END"

META_COLUMNS = (
    "format", "mime", "width", "height", "orientation", "taken_at", "taken_at_offset",
    "taken_ts", "taken_at_source", "gps_lat", "gps_lon", "gps_alt", "camera_make",
    "camera_model", "lens", "exposure_time", "f_number", "iso", "focal_length", "rating",
)

# The file's columns a person may set by hand, each with the column that says so ('manual'):
# reading the file again leaves those as the person set them.
MANUAL = "manual"
MANUAL_GUARDS = {
    **dict.fromkeys(("taken_at", "taken_at_offset", "taken_ts", "taken_at_source"),
                    "taken_at_source"),
    **dict.fromkeys(("gps_lat", "gps_lon", "gps_alt"), "gps_source"),
    "rating": "rating_source",
}


_INT64 = 2**63


def safe_value(value: Any) -> Any:
    """A value from an untrusted file made storable: text without lone surrogates (JSON can
    smuggle them in), integers within SQLite's 64 bits, finite floats; otherwise None."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def split_path(path: str) -> tuple[str, str]:
    folder, filename = os.path.split(path)
    return folder, filename


def delete_photos(conn: Connection, ids: Sequence[int]) -> None:
    """Delete photo rows with what foreign keys cannot reach: their FTS rows and image
    vectors (vec0 tables; row ids are reused, so a stale vector would attach itself to the
    next new photo); then the features tidy their own (``glimpse_photos_deleted``: people
    left without faces, say), each in a savepoint of its own: a plugin whose tidying fails is
    recorded and the deletion stands."""
    if not ids:
        return
    gone = [str(r[0]) for r in conn.execute(
        f"SELECT path FROM photos WHERE id IN ({', '.join('?' * len(ids))})", list(ids))]
    fts.delete(conn, ids)
    tables = [str(r[0]) for r in conn.execute(
        "SELECT table_name FROM embedding_spaces WHERE kind = 'image'")]
    for table in tables:
        vectors.delete(conn, table, ids)
    conn.executemany("DELETE FROM photos WHERE id = ?", [(i,) for i in ids])
    pairs.settle_paths(conn, gone)   # a RAW whose JPEG went is a photo again
    plugins.host().notify("glimpse_photos_deleted", conn=conn, photo_ids=list(ids))


def _evict_path(conn: Connection, path: str, keep_id: int | None) -> None:
    """Another photo takes ``path``: the row holding it steps aside, as a missing photo (its
    file was overwritten by a move, or it moved on itself and its own move is written next).
    Rows are never deleted for a vanished file: if its bytes turn up again, it is found."""
    for row in conn.rows("SELECT id FROM photos WHERE path = ? AND id IS NOT ?",
                         (path, keep_id)):
        stale = int(row["id"])
        folder, filename = split_path(path)
        # A name no file has (the path column is unique): the row waits to be found by content.
        aside = f"{filename} (replaced, #{stale})"
        conn.execute(
            "UPDATE photos SET path = ?, filename = ?, status = 'missing', "
            "missing_since = coalesce(missing_since, ?), updated_at = ? WHERE id = ?",
            (os.path.join(folder, aside), aside, now_iso(), now_iso(), stale))
        conn.execute("DELETE FROM errors WHERE photo_id = ?", (stale,))
        fts.mark(conn, [stale])


def upsert_photo(
    conn: Connection,
    *,
    path: str,
    root_id: int | None,
    size: int,
    mtime_ns: int,
    content_hash: str,
    meta: Any | None,
    status: str = "ok",
    texts: Iterable[Any] = (),
    photo_id: int | None = None,
    fresh: bool = False,
) -> int:
    """Insert or update the row for ``path`` (or ``photo_id``) and its file texts; return its id.
    ``fresh``: a new photo whatever row holds ``path`` now (that photo moved on)."""
    folder, filename = split_path(path)
    values: dict[str, Any] = {c: None for c in META_COLUMNS}
    if meta is not None:
        data = asdict(meta) if not isinstance(meta, dict) else meta
        values.update({c: safe_value(data.get(c)) for c in META_COLUMNS})
    now = now_iso()
    if fresh:
        _evict_path(conn, path, None)
    elif photo_id is None:
        photo_id = conn.one("SELECT id FROM photos WHERE path = ?", (path,))
    old_path = None if photo_id is None else conn.one("SELECT path FROM photos WHERE id = ?",
                                                      (photo_id,))
    common = {
        "path": path, "folder": folder, "filename": filename, "root_id": root_id,
        "size": size, "mtime_ns": mtime_ns, "content_hash": content_hash, "status": status,
        **values,
    }
    flag = FLAG_UNSUPPORTED if status == "unsupported" else 0
    if meta is not None and (meta.get("damaged") if isinstance(meta, dict)
                             else getattr(meta, "damaged", False)):
        flag |= FLAG_DAMAGED
    if photo_id is None:
        cols = [*common.keys(), "flags", "added_at", "updated_at"]
        conn.execute(
            f"INSERT INTO photos({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [*common.values(), flag, now, now],
        )
        photo_id = int(conn.raw.last_insert_rowid())
    else:
        # The path may be taken by a stale row (a file replaced by another one's move): the row
        # being updated wins, the stale one has no file any more.
        _evict_path(conn, path, photo_id)
        # A date or a place the person set stays when the file is read again (SET reads
        # the row's old values, so each guard sees the source before this update).
        sets = ", ".join(f"{c} = CASE WHEN {MANUAL_GUARDS[c]} = '{MANUAL}' THEN {c} ELSE ? END"
                         if c in MANUAL_GUARDS else f"{c} = ?" for c in common)
        if "orientation" in values:
            sets += _absorbed_turns(conn, photo_id, values["orientation"])
        conn.execute(
            f"UPDATE photos SET {sets}, flags = (flags & ~{FLAG_UNSUPPORTED | FLAG_DAMAGED}) | ?, "
            f"missing_since = NULL, updated_at = ? WHERE id = ?",
            [*common.values(), flag, now, photo_id],
        )
    conn.execute(
        f"DELETE FROM photo_text WHERE photo_id = ? AND field IN "
        f"({', '.join('?' * len(FILE_TEXT_FIELDS))})",
        (photo_id, *FILE_TEXT_FIELDS),
    )
    conn.executemany(
        "INSERT OR REPLACE INTO photo_text(photo_id, field, source, value) VALUES (?, ?, ?, ?)",
        [(photo_id, t.field, t.source, safe_value(t.value)) for t in texts],
    )
    fts.mark(conn, [photo_id])
    pairs.settle_paths(conn, [path] if old_path in (None, path) else [path, str(old_path)])
    return photo_id


def _absorbed_turns(conn: Connection, photo_id: int, orientation: Any) -> str:
    """The SQL that drops the person's turns of a photo when its file now says them itself
    (write-back wrote them as its orientation): never turned twice."""
    row = conn.row("SELECT orientation, rotation FROM photos WHERE id = ? AND rotation != 0",
                   (photo_id,))
    if row is None or orientation is None:
        return ""
    turned = orientation_math.compose(row["orientation"], int(row["rotation"]))
    return ", rotation = 0" if int(orientation) == turned else ""


def move_photo(conn: Connection, photo_id: int, new_path: str, *, root_id: int | None,
               size: int | None = None, mtime_ns: int | None = None) -> None:
    """The same photo at another path: the row, and all that hangs off it, stays."""
    folder, filename = split_path(new_path)
    old_path = conn.one("SELECT path FROM photos WHERE id = ?", (photo_id,))
    _evict_path(conn, new_path, photo_id)
    conn.execute(
        f"""UPDATE photos SET path = ?, folder = ?, filename = ?, root_id = ?,
               size = coalesce(?, size), mtime_ns = coalesce(?, mtime_ns),
               status = {_BACK}, missing_since = NULL, updated_at = ?
           WHERE id = ?""",
        (new_path, folder, filename, root_id, size, mtime_ns, now_iso(), photo_id),
    )
    # Errors recorded for the destination path (a file that failed there) are moot now.
    conn.execute("DELETE FROM errors WHERE path = ? AND photo_id IS NOT ?", (new_path, photo_id))
    conn.execute("UPDATE errors SET path = ? WHERE photo_id = ?", (new_path, photo_id))
    fts.mark(conn, [photo_id])
    pairs.settle_paths(conn, [new_path] if old_path is None else [str(old_path), new_path])


def move_folder(conn: Connection, old: str, new: str, *, root_id: int | None) -> list[int]:
    """A folder renamed or moved: every photo below it keeps its row. Returns the ids moved."""
    old_prefix, new_prefix = old.rstrip(os.sep) + os.sep, new.rstrip(os.sep) + os.sep
    rows = conn.rows(
        "SELECT id, path FROM photos WHERE path >= ? AND path < ?",
        (old_prefix, old_prefix[:-1] + chr(ord(os.sep) + 1)),
    )
    for row in rows:
        move_photo(conn, row["id"], new_prefix + row["path"][len(old_prefix):], root_id=root_id)
    return [r["id"] for r in rows]


def file_gone(path: str) -> bool:
    """True only when ``path`` is known not to exist: a folder that cannot be read, a drive
    that answers with I/O errors, say nothing about its files (they are not moves)."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except (OSError, ValueError):
        return False
    return False


# Rows that describe the file at the row's path (re-read from it), not the photo: when two
# rows of one photo are joined, the survivor takes the present file's.
_FROM_THE_FILE = {"errors", "sidecars", "xmp_regions", "writeback"}

# Within this long before a photo went missing, a row of its content that appeared elsewhere
# is taken to be its file moved (a move seen in two halves, a copy then a delete across
# drives); two copies that lived side by side for longer are two photos.
REJOIN_WINDOW_SECONDS = 3600


def _references(conn: Connection) -> list[tuple[str, str]]:
    """Every (table, column) that refers to a photo, found from the schema itself so that a
    table added by a later migration is carried along when rows are joined."""
    tables = [str(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    found: list[tuple[str, str]] = []
    for table in tables:
        for fk in conn.rows(f"SELECT \"table\", \"from\" FROM pragma_foreign_key_list('{table}')"):
            if fk["table"] == "photos":
                found.append((table, str(fk["from"])))
    return found


def join_rows(conn: Connection, keep: int, other: int) -> None:
    """Two rows turned out to be one photo (its file moved and was read again as new before
    the move was seen): ``keep`` takes ``other``'s path and whatever ``other`` has that
    ``keep`` lacks (albums, tags, a caption, the person's choices); then ``other`` goes.

    What hangs off the content (thumbnails, faces found, embeddings) is the same for both;
    ``keep``'s wins, except faces that people were given on ``other`` alone."""
    row = conn.row("SELECT path, root_id, size, mtime_ns FROM photos WHERE id = ?", (other,))
    if row is None or keep == other:
        return
    kept_named = conn.one("SELECT count(*) FROM faces WHERE photo_id = ? AND person_id IS NOT "
                          "NULL", (keep,))
    other_named = conn.one("SELECT count(*) FROM faces WHERE photo_id = ? AND person_id IS NOT "
                           "NULL", (other,))
    kept_looked = conn.one("SELECT count(*) FROM photo_faces WHERE photo_id = ?", (keep,))
    # The faces of one of them stay: ``keep``'s, unless only ``other``'s were looked for or
    # given to people.
    take_faces = (other_named and not kept_named) or not kept_looked
    drop = keep if take_faces else other
    conn.execute("DELETE FROM faces WHERE photo_id = ?", (drop,))
    conn.execute("DELETE FROM photo_faces WHERE photo_id = ?", (drop,))
    # A caption the person wrote beats a model's, whichever row it was on.
    if conn.one("SELECT 1 FROM captions WHERE photo_id = ? AND source = 'user'", (other,)) \
            and not conn.one("SELECT 1 FROM captions WHERE photo_id = ? AND source = 'user'",
                             (keep,)):
        conn.execute("DELETE FROM captions WHERE photo_id = ?", (keep,))
    for table, column in _references(conn):
        if table in _FROM_THE_FILE:
            conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (keep,))
        elif table in ("faces", "photo_embeddings"):
            # One photo, one set: the other's go with it (their vectors by trigger or below).
            if table == "faces" and take_faces:
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?",
                             (keep, other))
            continue
        # Where both have a value (a primary key on the photo), ``keep``'s stays.
        conn.execute(f"UPDATE OR IGNORE {table} SET {column} = ? WHERE {column} = ?",
                     (keep, other))
    delete_photos(conn, [other])
    move_photo(conn, keep, str(row["path"]), root_id=row["root_id"], size=int(row["size"]),
               mtime_ns=int(row["mtime_ns"]))


def rejoin(conn: Connection, missing: Iterable[int] | None = None) -> list[tuple[int, int]]:
    """Join each missing photo to a newer row of the same content whose file is present and
    that appeared at most an hour before the photo went missing: the newer row was its file,
    moved and read as new before the move was known (a move seen as a delete, events that
    overlapped, a copy then a delete across drives). Copies that lived side by side for
    longer stay two photos.

    ``missing``: only these rows (just marked missing); None: every missing row. Returns
    the (kept, dropped) pairs."""
    query = ("SELECT m.id AS keep, m.path AS old, n.id AS other, n.path AS new FROM photos m "
             "JOIN photos n ON n.content_hash = m.content_hash AND n.id > m.id "
             "WHERE m.status = 'missing' AND n.status IN ('ok', 'unsupported') "
             # A photo in the trash is not a move's first half (Recently deleted keeps it).
             f"AND (m.flags & {FLAG_TRASHED}) = 0 "
             "AND unixepoch(n.added_at) >= unixepoch(m.missing_since) - "
             f"{REJOIN_WINDOW_SECONDS}")
    pairs: list[dict[str, Any]] = []
    if missing is None:
        pairs = conn.rows(query + " ORDER BY m.id, n.id")
    else:
        ids = list(missing)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            pairs += conn.rows(query + f" AND m.id IN ({', '.join('?' * len(chunk))})", chunk)
        pairs.sort(key=lambda p: (p["keep"], p["other"]))
    joined: list[tuple[int, int]] = []
    used: set[int] = set()
    for pair in pairs:
        keep, other = int(pair["keep"]), int(pair["other"])
        if keep in used or other in used:
            continue
        if not file_gone(pair["old"]) or not os.path.lexists(pair["new"]):
            continue
        join_rows(conn, keep, other)
        used.update((keep, other))
        joined.append((keep, other))
    return joined


def touch_photo(conn: Connection, photo_id: int, *, size: int, mtime_ns: int) -> None:
    """Same bytes, new modification time (a `touch`, a copy that kept content): no re-read."""
    conn.execute(
        f"""UPDATE photos SET size = ?, mtime_ns = ?, status = {_BACK},
               missing_since = NULL, updated_at = ? WHERE id = ?""",
        (size, mtime_ns, now_iso(), photo_id),
    )
    pairs.settle_ids(conn, [photo_id])


def mark_status(conn: Connection, photo_ids: Iterable[int], status: str) -> int:
    """Mark photos missing/offline/ok; rows are never deleted for a vanished file."""
    ids = list(photo_ids)
    now = now_iso()
    # Files going or coming back make or break pairs; a drive going offline or coming back
    # does not (offline files pair as they were).
    settled: list[str] = []
    for chunk_start in range(0, len(ids), 500) if status != "offline" else ():
        chunk = ids[chunk_start:chunk_start + 500]
        settled += [str(r[0]) for r in conn.execute(
            f"SELECT path FROM photos WHERE id IN ({', '.join('?' * len(chunk))})"
            + (" AND status = 'missing'" if status == "ok" else ""), chunk)]
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start:chunk_start + 500]
        marks = ", ".join("?" * len(chunk))
        if status == "ok":
            conn.execute(
                f"UPDATE photos SET status = {_BACK}, missing_since = NULL, updated_at = ? "
                f"WHERE id IN ({marks}) AND status IN ('missing', 'offline')",
                (now, *chunk),
            )
        else:
            conn.execute(
                f"UPDATE photos SET status = ?, missing_since = coalesce(missing_since, ?), "
                f"updated_at = ? WHERE id IN ({marks})",
                (status, now, now, *chunk),
            )
    pairs.settle_paths(conn, settled)
    return len(ids)


def record_error(conn: Connection, *, path: str, stage: str, reason: str,
                 root_id: int | None = None, photo_id: int | None = None,
                 size: int | None = None, mtime_ns: int | None = None) -> None:
    conn.execute(
        """INSERT INTO errors(path, stage, root_id, photo_id, reason, size, mtime_ns, at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(path, stage) DO UPDATE SET reason = excluded.reason,
               root_id = excluded.root_id, photo_id = coalesce(excluded.photo_id, photo_id),
               size = excluded.size, mtime_ns = excluded.mtime_ns, at = excluded.at""",
        # Reasons can quote a remote service or a URL: never a key or a password in the file.
        (safe_value(path), stage, root_id, photo_id, safe_value(redact(reason)), size, mtime_ns,
         now_iso()),
    )


def clear_errors(conn: Connection, path: str, stages: Iterable[str] | None = None) -> None:
    if stages is None:
        conn.execute("DELETE FROM errors WHERE path = ?", (path,))
    else:
        st = list(stages)
        conn.execute(
            f"DELETE FROM errors WHERE path = ? AND stage IN ({', '.join('?' * len(st))})",
            (path, *st),
        )


def get_photo(conn: Connection, ref: str | int) -> dict[str, Any] | None:
    """A photo by id or by path (absolute, or relative to the current directory)."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        row = conn.row("SELECT * FROM photos WHERE id = ?", (int(ref),))
        if row is not None or isinstance(ref, int):
            return row
    for candidate in dict.fromkeys((os.path.abspath(str(ref)), os.path.realpath(str(ref)))):
        row = conn.row("SELECT * FROM photos WHERE path = ?", (candidate,))
        if row is not None:
            return row
    return None


def photo_texts(conn: Connection, photo_id: int) -> list[tuple[str, str, str]]:
    """(field, source, value) of a photo's texts: what a person reads first, what the photo
    is about, then how it was made."""
    return [(str(f), str(s), str(v)) for f, s, v in conn.execute(
        """SELECT field, source, value FROM photo_text WHERE photo_id = ?
           ORDER BY CASE field WHEN 'caption' THEN 0 WHEN 'description' THEN 1
                    WHEN 'keywords' THEN 2 WHEN 'tags' THEN 3 WHEN 'prompt' THEN 4
                    WHEN 'negative_prompt' THEN 5 WHEN 'generation' THEN 6 ELSE 7 END,
                    field, source""",
        (photo_id,))]


# ---------------------------------------------------------------------------- reading
# What the Library facade reads, as plain rows (tuples, in the column order each function
# names): the facade makes its records of them. Tuples, not dicts: a grid of 1M photos reads
# these page after page.

# A grid tile's columns (``api.records.PhotoRow``'s fields, in order). A file rated -1
# (Lightroom's and Bridge's reject) is rejected.
ROW_COLUMNS = ("id, path, filename, content_hash, taken_at, taken_ts, width, height, status, "
               "format, (SELECT count(*) FROM photos c WHERE c.companion_of = photos.id), "
               f"(flags & {FLAG_DAMAGED}) != 0, (flags & {FLAG_FAVORITE}) != 0, rating, "
               f"((flags & {FLAG_REJECTED}) != 0 OR coalesce(rating, 0) < 0), rotation")
# A RAW kept as the companion of its JPEG (kernel/pairs.py) is a file of that photo, never a
# photo of its own in a list or a count.
# A photo in the trash (FLAG_TRASHED) is shown only in "Recently deleted".
_SHOWN = ("status IN ('ok', 'offline') AND companion_of IS NULL "
          f"AND (flags & {FLAG_TRASHED}) = 0")
# Every photo of the library, missing and unsupported ones too: still not one in the trash.
_LISTED = f"AND companion_of IS NULL AND (flags & {FLAG_TRASHED}) = 0 "


def page(conn: Connection, *, after: tuple[float | None, int] | None, limit: int,
         include_unavailable: bool = False) -> list[tuple[Any, ...]]:
    """One page of the library (ROW_COLUMNS), newest first; undated photos last, newest
    added first. ``after``: the ``(taken_ts, id)`` of the previous page's last row.

    Keyset paging, so every page costs the same at 1M photos (an OFFSET would read every
    row before it)."""
    status = _LISTED if include_unavailable else f"AND {_SHOWN} "
    select = f"SELECT {ROW_COLUMNS} FROM photos "
    rows: list[tuple[Any, ...]] = []
    ts, last = after if after is not None else (float("inf"), -1)
    if ts is not None:
        # The dated photos, along the photos_by_time index.
        # A row value, not "a < ? OR (a = ? AND b < ?)": SQLite seeks the index with it,
        # where the OR form reads every older photo and sorts them (O(n) per page).
        bound = "" if after is None else "AND (taken_ts, id) < (?, ?) "
        rows = list(conn.execute(
            select + "WHERE taken_ts IS NOT NULL " + status + bound
            + "ORDER BY taken_ts DESC, id DESC LIMIT ?",
            ((ts, last, limit) if after is not None else (limit,))))
        if len(rows) == limit:
            return rows
        last = -1
    more = limit - len(rows)
    bound = "AND id < ? " if last >= 0 else ""
    rows += conn.execute(select + "WHERE taken_ts IS NULL " + status + bound
                         + "ORDER BY id DESC LIMIT ?",
                         ((last, more) if last >= 0 else (more,)))
    return rows


def rows_of(conn: Connection, ids: Sequence[int], columns: str = ROW_COLUMNS
            ) -> list[tuple[Any, ...]]:
    """``columns`` (the first one ``id``) of the given photos, in the order given; ids of no
    photo are left out."""
    found: dict[int, tuple[Any, ...]] = {}
    wanted = [int(i) for i in ids]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for row in conn.execute(f"SELECT {columns} FROM photos WHERE id IN "
                                f"({','.join('?' * len(chunk))})", chunk):
            found[int(row[0])] = row
    return [found[i] for i in dict.fromkeys(wanted) if i in found]


def in_folder(conn: Connection, folder: str, *, recursive: bool = False
              ) -> list[tuple[Any, ...]]:
    """The photos (ROW_COLUMNS) directly in ``folder`` (and below it with ``recursive``)
    that are there or on an absent drive, newest first."""
    select = f"SELECT {ROW_COLUMNS} FROM photos WHERE {_SHOWN} AND "
    order = " ORDER BY taken_ts IS NULL, taken_ts DESC, id DESC"
    if recursive:
        prefix = folder.rstrip(os.sep) + os.sep
        return list(conn.execute(select + "(folder = ? OR substr(folder, 1, ?) = ?)" + order,
                                 (folder, len(prefix), prefix)))
    return list(conn.execute(select + "folder = ?" + order, (folder,)))


def folders(conn: Connection) -> list[tuple[str, int, str]]:
    """(folder, photos, root path) of every folder holding photos that are there or on an
    absent drive, by folder."""
    return [(str(f), int(n), str(root)) for f, n, root in conn.execute(
        f"SELECT p.folder, count(*), r.path FROM photos p JOIN roots r ON r.id = p.root_id "
        f"WHERE p.{_SHOWN} GROUP BY p.folder ORDER BY p.folder")]


def counts_by_status(conn: Connection) -> dict[str, int]:
    """How many photos have each status (every status present, 0 when none)."""
    counts = dict.fromkeys(("ok", "missing", "offline", "unsupported"), 0)
    # A photo in the trash is missing from its place, not from the library.
    for status, n in conn.execute("SELECT status, count(*) FROM photos WHERE companion_of IS "
                                  f"NULL AND (flags & {FLAG_TRASHED}) = 0 GROUP BY status"):
        counts[str(status)] = int(n)
    return counts


def count_with_gps(conn: Connection) -> int:
    """Readable photos with a position."""
    return int(conn.one("SELECT count(*) FROM photos WHERE status = 'ok' AND gps_lat IS NOT "
                        "NULL AND companion_of IS NULL"))


def count_errors(conn: Connection, warning_stages: Sequence[str]) -> tuple[int, int]:
    """(errors, warnings): error rows of the other stages, and of ``warning_stages``."""
    marks = ", ".join("?" * len(warning_stages))
    for errors, warnings in conn.execute(
            f"SELECT count(*) FILTER (WHERE stage NOT IN ({marks})), "
            f"count(*) FILTER (WHERE stage IN ({marks})) FROM errors",
            (*warning_stages, *warning_stages)):
        return int(errors), int(warnings)
    return 0, 0     # an aggregate always gives its one row


def errors(conn: Connection, *, limit: int | None = None, stage: str | None = None
           ) -> list[tuple[str, str, str, str]]:
    """(path, stage, reason, at) of recorded errors (of one stage), newest first."""
    where = "WHERE stage = ?" if stage else ""
    params: tuple[Any, ...] = (stage,) if stage else ()
    return [(str(p), str(s), str(r), str(a)) for p, s, r, a in conn.execute(
        f"SELECT path, stage, reason, at FROM errors {where} ORDER BY at DESC, path LIMIT ?",
        (*params, -1 if limit is None else limit))]


def errors_of_paths(conn: Connection, paths: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """(path, stage, reason, at) recorded for any of these paths, by stage."""
    return [(str(p), str(s), str(r), str(a)) for p, s, r, a in conn.execute(
        f"SELECT path, stage, reason, at FROM errors WHERE path IN "
        f"({', '.join('?' * len(paths))}) ORDER BY stage", list(paths))]


def errors_of_photo(conn: Connection, photo_id: int, path: str
                    ) -> list[tuple[str, str, str]]:
    """(stage, reason, at) recorded for a photo or its file, by stage."""
    return [(str(s), str(r), str(a)) for s, r, a in conn.execute(
        "SELECT stage, reason, at FROM errors WHERE photo_id = ? OR path = ? ORDER BY stage",
        (photo_id, path))]


def missing(conn: Connection) -> list[tuple[int, str, str | None, str]]:
    """(id, path, missing_since, content_hash) of every missing photo, by path."""
    return [(int(i), str(p), s, str(h)) for i, p, s, h in conn.execute(
        "SELECT id, path, missing_since, content_hash FROM photos WHERE status = 'missing' "
        f"AND (flags & {FLAG_TRASHED}) = 0 ORDER BY path")]


def delete_missing(conn: Connection, ids: Iterable[int]) -> None:
    """Delete those of these photos that are still missing (a file that came back meanwhile
    keeps its photo)."""
    delete_photos(conn, [i for i in ids if conn.one(
        "SELECT 1 FROM photos WHERE id = ? AND status = 'missing' "
        f"AND (flags & {FLAG_TRASHED}) = 0", (i,))])


def orphans(conn: Connection, hashes: Iterable[str]) -> list[str]:
    """The content hashes no photo has any more (their thumbnails can go)."""
    return [h for h in dict.fromkeys(hashes)
            if not conn.one("SELECT 1 FROM photos WHERE content_hash = ?", (h,))]


def added_after(conn: Connection, after_id: int | None, *, limit: int) -> list[int]:
    """Ids of photos written after ``after_id`` (ids grow), oldest first; with None, the
    newest id alone."""
    if after_id is None:
        newest = conn.one("SELECT max(id) FROM photos")
        return [] if newest is None else [int(newest)]
    return [int(r[0]) for r in conn.execute(
        "SELECT id FROM photos WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit))]


def count(conn: Connection, *, include_unavailable: bool = False) -> int:
    """How many photos there are (only those there or on an absent drive, by default)."""
    where = f" WHERE 1 {_LISTED}" if include_unavailable else f" WHERE {_SHOWN}"
    return int(conn.one(f"SELECT count(*) FROM photos{where}"))
