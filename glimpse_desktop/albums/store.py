"""The albums feature's storage: every statement on ``albums`` and ``album_photos`` that the
services (albums/service.py, albums/auto.py) and the ``album:`` filter run. Functions take a
``Connection`` (a reader, or the writer's inside its transaction) and return records or plain
values; what to do with them is the services' business.

``albums``: one row per album; ``removed`` = 1 is the tombstone of an automatic album the
person deleted, ``edited`` = 1 an automatic album they changed. ``album_photos``: membership,
with ``position`` (a manual album's order), ``added_by`` ('user' or 'auto') and ``removed``
= 1 for a photo the person took out of an automatic album.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from glimpse_desktop.albums import events as ev
from glimpse_desktop.albums.records import AlbumPhoto, AutoAlbum
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.places.service import UNTRUSTED_TIME_SOURCES

AUTO_KINDS = ("event", "trip")
_CHUNK = 500     # ids per IN (...) list: well under SQLite's 32,766 host parameters

_PHOTO_COLUMNS = ("p.id, p.path, p.filename, p.content_hash, p.taken_at, p.taken_ts, "
                  "p.width, p.height, p.status, p.format")


@dataclass(frozen=True, slots=True)
class StoredAlbum:
    """A row of ``albums`` as the services read it (``details`` still JSON text)."""

    id: int
    kind: str
    title: str
    query: str | None
    cover_photo: int | None
    details: str | None
    edited: bool
    removed: bool
    start_ts: float | None
    end_ts: float | None
    auto_key: str | None
    created_at: str
    updated_at: str
    folder_id: int | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> StoredAlbum:
        return cls(int(row["id"]), str(row["kind"]), str(row["title"]), row["query"],
                   None if row["cover_photo"] is None else int(row["cover_photo"]),
                   row["details"], bool(row["edited"]), bool(row["removed"]),
                   row["start_ts"], row["end_ts"], row["auto_key"], str(row["created_at"]),
                   str(row["updated_at"]),
                   None if row.get("folder_id") is None else int(row["folder_id"]))


@dataclass(frozen=True, slots=True)
class Membership:
    """A row of ``album_photos`` for one album: what a rebuild must respect."""

    photo_id: int
    removed: bool
    added_by: str
    position: int | None


_ALBUM_COLUMNS = ("id, kind, title, query, cover_photo, details, edited, removed, start_ts, "
                  "end_ts, auto_key, created_at, updated_at, folder_id")


def _photo(row: Sequence[Any], *, added_by: bool) -> AlbumPhoto:
    return AlbumPhoto(int(row[0]), str(row[1]), str(row[2]), str(row[3]), row[4],
                      None if row[5] is None else float(row[5]), row[6], row[7],
                      str(row[8]), row[9],
                      added_by=str(row[10]) if added_by else None)


# ---------------------------------------------------------------------------- finding albums


def album(conn: Connection, album_id: int) -> StoredAlbum | None:
    """The album with this id, unless deleted."""
    row = conn.row(f"SELECT {_ALBUM_COLUMNS} FROM albums WHERE id = ? AND removed = 0",
                   (album_id,))
    return None if row is None else StoredAlbum.of(row)


def albums_titled(conn: Connection, title: str) -> list[StoredAlbum]:
    """The albums (not deleted) with this title, in any case, oldest first."""
    return [StoredAlbum.of(r) for r in conn.rows(
        f"SELECT {_ALBUM_COLUMNS} FROM albums WHERE title = ? COLLATE NOCASE AND removed = 0 "
        "ORDER BY id", (title,))]


def title_taken(conn: Connection, title: str, keep: int | None = None) -> int | None:
    """The id of another album (not ``keep``) with this title in any case, or None."""
    found = conn.one("SELECT id FROM albums WHERE title = ? COLLATE NOCASE AND removed = 0 "
                     "AND id IS NOT ?", (title, keep))
    return None if found is None else int(found)


def listed(conn: Connection, kinds: Sequence[str]) -> list[StoredAlbum]:
    """Albums of these kinds as the albums list orders them: the person's own first (in
    their order, then by title), then automatic ones newest first."""
    return [StoredAlbum.of(r) for r in conn.rows(
        f"SELECT {_ALBUM_COLUMNS} FROM albums WHERE removed = 0 "
        f"AND kind IN ({','.join('?' * len(kinds))}) "
        "ORDER BY kind IN ('event', 'trip'), "
        "CASE WHEN kind IN ('event', 'trip') THEN -coalesce(start_ts, 0) "
        "ELSE coalesce(position, 0) END, title COLLATE NOCASE, id", tuple(kinds))]


# ---------------------------------------------------------------------------- photos of albums


def members(conn: Connection, album_id: int, *, arranged: bool) -> list[AlbumPhoto]:
    """The photos of a manual (``arranged``: in the person's order) or automatic (by time)
    album, less those taken out."""
    order = ("ap.position, ap.added_at, p.id" if arranged
             else "p.taken_ts IS NULL, p.taken_ts, p.id")
    return [_photo(r, added_by=True) for r in conn.execute(
        f"SELECT {_PHOTO_COLUMNS}, ap.added_by FROM album_photos ap "
        "JOIN photos p ON p.id = ap.photo_id "
        f"WHERE ap.album_id = ? AND ap.removed = 0 AND p.companion_of IS NULL "
        # A photo in the trash (kernel.photos.FLAG_TRASHED) is in no album until restored.
        f"AND (p.flags & 16) = 0 ORDER BY {order}",
        (album_id,))]


def photos(conn: Connection, ids: Sequence[int]) -> dict[int, AlbumPhoto]:
    """The photos with these ids (those that exist), by id."""
    found: dict[int, AlbumPhoto] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start:start + _CHUNK])
        for r in conn.execute(f"SELECT {_PHOTO_COLUMNS} FROM photos p WHERE p.id IN "
                              f"({','.join('?' * len(chunk))})", chunk):
            found[int(r[0])] = _photo(r, added_by=False)
    return found


def member_ids(conn: Connection, album_id: int, *, showable: bool = False) -> list[int]:
    """Ids of an album's photos (less those taken out), oldest first; ``showable``: only
    those that can be shown now (status ok)."""
    ok = " AND p.status = 'ok'" if showable else ""
    # A RAW kept as its JPEG's companion (kernel/pairs.py) is in the album as that photo.
    return [int(r[0]) for r in conn.execute(
        "SELECT ap.photo_id FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
        f"WHERE ap.album_id = ? AND ap.removed = 0 AND p.companion_of IS NULL{ok} "
        "AND (p.flags & 16) = 0 "
        "ORDER BY p.taken_ts, p.id",
        (album_id,))]


def memberships(conn: Connection, album_id: int) -> list[Membership]:
    """Every ``album_photos`` row of an album, those taken out included."""
    return [Membership(int(r[0]), bool(r[1]), str(r[2]), r[3]) for r in conn.execute(
        "SELECT photo_id, removed, added_by, position FROM album_photos WHERE album_id = ?",
        (album_id,))]


# ---------------------------------------------------------------------------- the person's edits


def create(conn: Connection, kind: str, title: str, query: str | None, ids: Sequence[int],
           now: str, folder_id: int | None = None) -> int:
    """A new album of the person's (after their others, in ``folder_id``), holding ``ids``
    in that order."""
    position = conn.one("SELECT coalesce(max(position), -1) + 1 FROM albums "
                        "WHERE kind IN ('manual', 'smart')")
    conn.execute("INSERT INTO albums(kind, title, query, position, folder_id, created_at, "
                 "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (kind, title, query, position, folder_id, now, now))
    album_id = int(conn.raw.last_insert_rowid())
    conn.executemany("INSERT INTO album_photos(album_id, photo_id, position, added_by, "
                     "added_at) VALUES (?, ?, ?, 'user', ?)",
                     [(album_id, pid, n, now) for n, pid in enumerate(ids)])
    return album_id


def add(conn: Connection, album_id: int, ids: Iterable[int], now: str) -> tuple[int, int]:
    """Put photos into an album (at its end) by the person's hand; one taken out before
    comes back. (added, already in it)."""
    position = int(conn.one("SELECT coalesce(max(position), -1) + 1 FROM album_photos "
                            "WHERE album_id = ?", (album_id,)))
    added = already = 0
    for pid in ids:
        removed = conn.one("SELECT removed FROM album_photos WHERE album_id = ? AND "
                           "photo_id = ?", (album_id, pid))
        if removed is not None and not removed:
            already += 1
            continue
        if removed is not None:  # taken out of an automatic album before: back in
            conn.execute("UPDATE album_photos SET removed = 0, added_by = 'user', "
                         "added_at = ? WHERE album_id = ? AND photo_id = ?",
                         (now, album_id, pid))
        else:
            conn.execute("INSERT INTO album_photos(album_id, photo_id, position, added_by, "
                         "added_at) VALUES (?, ?, ?, 'user', ?)", (album_id, pid, position, now))
            position += 1
        added += 1
    return added, already


def take_out(conn: Connection, album_id: int, ids: Sequence[int], *, for_good: bool) -> int:
    """Take photos out of an album; ``for_good`` (an automatic album) keeps each as a row
    marked removed, so that a rebuild does not put it back. How many were in it. A cover
    among them is forgotten."""
    removed = 0
    for pid in ids:
        if for_good:
            conn.execute("UPDATE album_photos SET removed = 1 WHERE album_id = ? AND "
                         "photo_id = ? AND removed = 0", (album_id, pid))
        else:
            conn.execute("DELETE FROM album_photos WHERE album_id = ? AND photo_id = ?",
                         (album_id, pid))
        removed += conn.raw.changes()
    if removed:
        conn.execute("UPDATE albums SET cover_photo = NULL WHERE id = ? AND cover_photo "
                     f"IN ({','.join('?' * len(ids))})", (album_id, *ids))
    return removed


def rename(conn: Connection, album_id: int, title: str) -> None:
    conn.execute("UPDATE albums SET title = ? WHERE id = ?", (title, album_id))


def touch(conn: Connection, album_id: int, now: str, *, edited: bool) -> None:
    """Record a change; ``edited`` marks it the person's edit of an automatic album."""
    mark = ", edited = 1" if edited else ""
    conn.execute(f"UPDATE albums SET updated_at = ?{mark} WHERE id = ?", (now, album_id))


def delete(conn: Connection, album_id: int, now: str, *, tombstone: bool) -> None:
    """Delete an album; ``tombstone`` (an automatic one) keeps it hidden, so that a rebuild
    does not make it again."""
    if tombstone:
        conn.execute("UPDATE albums SET removed = 1, edited = 1, updated_at = ? WHERE id = ?",
                     (now, album_id))
    else:
        conn.execute("DELETE FROM albums WHERE id = ?", (album_id,))


def arrange(conn: Connection, album_id: int, order: Sequence[int], now: str) -> None:
    """Give a manual album's photos the positions of ``order``."""
    conn.executemany("UPDATE album_photos SET position = ? WHERE album_id = ? AND "
                     "photo_id = ?", [(n, album_id, pid) for n, pid in enumerate(order)])
    conn.execute("UPDATE albums SET updated_at = ? WHERE id = ?", (now, album_id))


def set_cover(conn: Connection, album_id: int, photo_id: int, now: str) -> None:
    conn.execute("UPDATE albums SET cover_photo = ?, updated_at = ? WHERE id = ?",
                 (photo_id, now, album_id))


# ---------------------------------------------------------------------------- folders


@dataclass(frozen=True, slots=True)
class StoredFolder:
    """A row of ``album_folders``."""

    id: int
    parent_id: int | None
    name: str
    created_at: str


def folders(conn: Connection) -> list[StoredFolder]:
    """Every folder, by name within its parent (any case)."""
    return [StoredFolder(int(r[0]), None if r[1] is None else int(r[1]), str(r[2]), str(r[3]))
            for r in conn.execute("SELECT id, parent_id, name, created_at FROM album_folders "
                                  "ORDER BY name COLLATE NOCASE, id")]


def folder_child(conn: Connection, parent: int | None, name: str) -> int | None:
    """The id of the folder called ``name`` (any case) in ``parent`` (None: the top)."""
    found = conn.one("SELECT id FROM album_folders WHERE ifnull(parent_id, 0) = ? "
                     "AND name = ? COLLATE NOCASE", (parent or 0, name))
    return None if found is None else int(found)


def create_folder(conn: Connection, parent: int | None, name: str, now: str) -> int:
    conn.execute("INSERT INTO album_folders(parent_id, name, created_at, updated_at) "
                 "VALUES (?, ?, ?, ?)", (parent, name, now, now))
    return int(conn.raw.last_insert_rowid())


def rename_folder(conn: Connection, folder_id: int, name: str, now: str) -> None:
    conn.execute("UPDATE album_folders SET name = ?, updated_at = ? WHERE id = ?",
                 (name, now, folder_id))


def move_folder(conn: Connection, folder_id: int, parent: int | None, now: str) -> None:
    conn.execute("UPDATE album_folders SET parent_id = ?, updated_at = ? WHERE id = ?",
                 (parent, now, folder_id))


def folder_below(conn: Connection, folder_id: int) -> list[int]:
    """``folder_id`` and every folder under it, at any depth (the folder first)."""
    return [int(r[0]) for r in conn.execute(
        "WITH RECURSIVE below(id) AS (SELECT ? UNION ALL SELECT f.id FROM album_folders f "
        "JOIN below b ON f.parent_id = b.id) SELECT id FROM below", (folder_id,))]


def albums_in_folders(conn: Connection, folder_ids: Sequence[int]) -> list[int]:
    """Ids of the albums (not deleted) in these folders."""
    out: list[int] = []
    for start in range(0, len(folder_ids), _CHUNK):
        chunk = list(folder_ids[start:start + _CHUNK])
        out += [int(r[0]) for r in conn.execute(
            "SELECT id FROM albums WHERE removed = 0 AND folder_id IN "
            f"({','.join('?' * len(chunk))}) ORDER BY id", chunk)]
    return out


def children_up(conn: Connection, folder_id: int, parent: int | None) -> tuple[int, int]:
    """Move a folder's albums and folders into ``parent``: (albums, folders) moved."""
    conn.execute("UPDATE albums SET folder_id = ? WHERE folder_id = ?", (parent, folder_id))
    albums = conn.raw.changes()
    conn.execute("UPDATE album_folders SET parent_id = ? WHERE parent_id = ?",
                 (parent, folder_id))
    return albums, conn.raw.changes()


def delete_folder(conn: Connection, folder_id: int) -> None:
    """The folder's row (its folders go with it: ON DELETE CASCADE)."""
    conn.execute("DELETE FROM album_folders WHERE id = ?", (folder_id,))


def put_in_folder(conn: Connection, album_id: int, folder_id: int | None, now: str) -> None:
    conn.execute("UPDATE albums SET folder_id = ?, updated_at = ? WHERE id = ?",
                 (folder_id, now, album_id))


# ---------------------------------------------------------------------------- automatic albums


def _details(raw: str | None) -> dict[str, Any]:
    """An album's ``details`` column (JSON text) as a dict; {} when empty or damaged."""
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def auto_albums(conn: Connection, kinds: Sequence[str]) -> list[AutoAlbum]:
    """Automatic albums of these kinds newest first (not deleted): one query, cheap for
    thousands of events."""
    out: list[AutoAlbum] = []
    for r in conn.execute(
            "SELECT a.id, a.kind, a.title, a.edited, a.start_ts, a.end_ts, a.cover_photo, "
            "a.details, (SELECT count(*) FROM album_photos ap WHERE ap.album_id = a.id "
            "AND ap.removed = 0) AS count FROM albums a "
            f"WHERE a.removed = 0 AND a.kind IN ({','.join('?' * len(kinds))}) "
            "ORDER BY a.start_ts DESC, a.id DESC", tuple(kinds)):
        about = _details(r[7])
        out.append(AutoAlbum(int(r[0]), str(r[1]), str(r[2]), bool(r[3]), r[4], r[5],
                             int(r[8]), None if r[6] is None else int(r[6]),
                             about.get("start_date"), about.get("end_date"), about))
    return out


def count_auto(conn: Connection, kind: str) -> int:
    """Automatic albums of this kind the person sees."""
    return int(conn.one("SELECT count(*) FROM albums WHERE kind = ? AND removed = 0", (kind,)))


def auto_albums_overlapping(conn: Connection, window: tuple[float, float] | None
                            ) -> list[StoredAlbum]:
    """Every automatic album (deleted and edited ones too) whose time meets ``window``
    (all of them when None): what a build reconciles its groups with."""
    params: tuple[float, ...] = ()
    where = ""
    if window is not None:
        where, params = " AND start_ts <= ? AND end_ts >= ?", (window[1], window[0])
    return [StoredAlbum.of(r) for r in conn.rows(
        f"SELECT {_ALBUM_COLUMNS} FROM albums WHERE kind IN ('event', 'trip'){where}",
        params)]


def span_of_overlapping(conn: Connection, lo: float, hi: float
                        ) -> tuple[float | None, float | None]:
    """The first start and last end of the automatic albums that meet [lo, hi]."""
    row = conn.execute("SELECT min(start_ts), max(end_ts) FROM albums "
                       "WHERE kind IN ('event', 'trip') AND start_ts <= ? AND end_ts >= ?",
                       (hi, lo)).fetchone()
    return (None, None) if row is None else (row[0], row[1])


def spans_holding(conn: Connection, photo_ids: Sequence[int]) -> list[tuple[float, float]]:
    """The times (start, end) of the automatic albums that hold any of these photos."""
    out: list[tuple[float, float]] = []
    for start in range(0, len(photo_ids), _CHUNK):
        chunk = list(photo_ids[start:start + _CHUNK])
        out += [(float(lo), float(hi)) for lo, hi in conn.execute(
            "SELECT DISTINCT a.start_ts, a.end_ts FROM album_photos ap "
            "JOIN albums a ON a.id = ap.album_id WHERE a.kind IN ('event', 'trip') "
            f"AND a.start_ts IS NOT NULL AND ap.photo_id IN ({','.join('?' * len(chunk))})",
            chunk)]
    return out


def spans_that_lost_photos(conn: Connection) -> list[tuple[float, float]]:
    """The times of automatic albums (neither edited nor deleted) holding fewer photos than
    when they were built: forgotten photos left them."""
    return [(float(lo), float(hi)) for lo, hi in conn.execute(
        "SELECT a.start_ts, a.end_ts FROM albums a "
        "WHERE a.kind IN ('event', 'trip') AND a.removed = 0 AND a.edited = 0 "
        "AND a.start_ts IS NOT NULL AND coalesce(json_extract(a.details, '$.photos'), "
        "-1) != (SELECT count(*) FROM album_photos ap WHERE ap.album_id = a.id "
        "AND ap.removed = 0)")]


def delete_auto(conn: Connection, album_id: int) -> None:
    """An automatic album whose photos went: gone (its memberships with it)."""
    conn.execute("DELETE FROM albums WHERE id = ?", (album_id,))


def refill(conn: Connection, album_id: int, *, title: str, start_ts: float, end_ts: float,
           cover: int, details: str, now: str) -> None:
    """Give an automatic album the title, time, cover and details of its group."""
    conn.execute("UPDATE albums SET title = ?, start_ts = ?, end_ts = ?, cover_photo = ?, "
                 "details = ?, updated_at = ? WHERE id = ?",
                 (title, start_ts, end_ts, cover, details, now, album_id))


def drop_auto_members(conn: Connection, album_id: int, photo_ids: Iterable[int]) -> None:
    conn.executemany("DELETE FROM album_photos WHERE album_id = ? AND photo_id = ?",
                     [(album_id, pid) for pid in photo_ids])


def add_auto_members(conn: Connection, album_id: int, placed: Iterable[tuple[int, int]],
                     now: str) -> None:
    """Photos put in by Glimpse, as (position, photo id)."""
    conn.executemany("INSERT INTO album_photos(album_id, photo_id, position, added_by, "
                     "added_at) VALUES (?, ?, ?, 'auto', ?)",
                     [(album_id, pid, pos, now) for pos, pid in placed])


def move_members(conn: Connection, album_id: int, placed: Iterable[tuple[int, int]]) -> None:
    """New positions, as (position, photo id)."""
    conn.executemany("UPDATE album_photos SET position = ? WHERE album_id = ? "
                     "AND photo_id = ?", [(pos, album_id, pid) for pos, pid in placed])


def create_auto(conn: Connection, kind: str, title: str, base_key: str, start_ts: float,
                end_ts: float, cover: int, details: str, now: str) -> int:
    """A new automatic album, keyed ``base_key`` (or ``base_key-2``... when taken)."""
    key, n = base_key, 1
    while conn.one("SELECT 1 FROM albums WHERE auto_key = ?", (key,)):
        n += 1
        key = f"{base_key}-{n}"
    conn.execute("INSERT INTO albums(kind, title, auto_key, start_ts, end_ts, cover_photo, "
                 "details, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (kind, title, key, start_ts, end_ts, cover, details, now, now))
    return int(conn.raw.last_insert_rowid())


# ---------------------------------------------------------------------------- the album: filter


def filter_albums(conn: Connection, name: str) -> list[tuple[int, str, str | None]]:
    """The albums an ``album:`` value names, as (id, kind, query): the album of that title
    (any case), else those whose titles start with those words, else the one with that id."""
    found = conn.execute("SELECT id, kind, query FROM albums WHERE removed = 0 AND "
                         "title = ? COLLATE NOCASE", (name,)).fetchall()
    if not found:
        like = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %"
        found = conn.execute("SELECT id, kind, query FROM albums WHERE removed = 0 AND "
                             "title LIKE ? ESCAPE '\\'", (like,)).fetchall()
    if not found and name.isascii() and name.isdigit():
        found = conn.execute("SELECT id, kind, query FROM albums WHERE removed = 0 AND id = ?",
                             (int(name),)).fetchall()
    return [(int(str(r[0])), str(r[1]), None if r[2] is None else str(r[2])) for r in found]


def titles(conn: Connection, limit: int) -> list[str]:
    """Album titles: the person's own albums first, then Glimpse's, newest first."""
    return [str(r[0]) for r in conn.execute(
        "SELECT title FROM albums WHERE removed = 0 "
        "ORDER BY kind NOT IN ('manual', 'smart'), coalesce(start_ts, 0) DESC LIMIT ?",
        (limit,))]


# ---------------------------------------------------------------------------- photos, as the
# grouping into events and trips reads them

# Photos whose date says when they were taken (not when the file was copied).
_DATED = ("p.taken_ts IS NOT NULL AND coalesce(p.taken_at_source, '') NOT IN ("
          + ", ".join(f"'{s}'" for s in UNTRUSTED_TIME_SOURCES) + ")")

# A photo's position: its own GPS, else the place inferred for it from a neighbour in time.
# (0, 0) is what broken GPS units write, not a place in the Gulf of Guinea.
_OWN_GPS = ("p.gps_lat IS NOT NULL AND p.gps_lon IS NOT NULL "
            "AND NOT (p.gps_lat = 0 AND p.gps_lon = 0)")
_LAT = f"CASE WHEN {_OWN_GPS} THEN p.gps_lat ELSE pp.lat END"
_LON = f"CASE WHEN {_OWN_GPS} THEN p.gps_lon ELSE pp.lon END"
_LOCAL = "p.taken_ts + coalesce(p.taken_at_offset, 0) * 60.0"

_SHOTS = f"""
SELECT p.id, p.taken_ts, {_LOCAL} AS local, {_LAT}, {_LON},
       pp.city, pp.region, pp.country, pp.country_code
FROM photos p LEFT JOIN photo_places pp ON pp.photo_id = p.id
WHERE {_DATED} {{where}}
ORDER BY p.taken_ts, p.id
"""

# Photos per day and place, what an ordinary day is derived from (ev.home_day_counts);
# grouped in SQL, a row per place and day, not per photo. Places to 0.1 degree (under 6 km
# off): plenty to tell home (30 km) from away (100 km), and a tenth of the rows of 0.01.
_DAY_PLACES = f"""
SELECT CAST(d AS INTEGER) - (d < CAST(d AS INTEGER)) AS day, round(lat, 1), round(lon, 1),
       count(*)
FROM (SELECT ({_LOCAL} - {{start}}) / 86400.0 AS d,
             {_LAT} AS lat, {_LON} AS lon
      FROM photos p LEFT JOIN photo_places pp ON pp.photo_id = p.id WHERE {_DATED})
GROUP BY 1, 2, 3
"""

# Located photos as (cell y, cell x, day), the evidence home is inferred from.
_LOCATED = f"""
SELECT CAST(round(lat / {ev.CELL_DEGREES}) AS INTEGER) AS cy,
       CAST(round(lon / {ev.CELL_DEGREES}) AS INTEGER) AS cx,
       CAST(d AS INTEGER) - (d < CAST(d AS INTEGER)) AS day, lat, lon, city, country
FROM (SELECT coalesce(p.gps_lat, pp.lat) AS lat, coalesce(p.gps_lon, pp.lon) AS lon,
             (p.taken_ts + coalesce(p.taken_at_offset, 0) * 60.0
              - {ev.DEFAULT.day_start_hour * 3600}) / 86400.0 AS d,
             pp.city AS city, pp.country AS country
      FROM photos p LEFT JOIN photo_places pp ON pp.photo_id = p.id
      WHERE {_DATED})
WHERE lat IS NOT NULL AND lon IS NOT NULL AND NOT (lat = 0 AND lon = 0)
"""


def shots(conn: Connection, window: tuple[float, float] | None) -> list[ev.Shot]:
    """Dated photos (of ``window``, or all), oldest first, with their place: what events
    and trips are grouped from."""
    if window is None:
        cur = conn.execute(_SHOTS.format(where=""))
    else:
        cur = conn.execute(_SHOTS.format(where="AND p.taken_ts BETWEEN ? AND ?"), window)
    return [ev.Shot(int(r[0]), float(r[1]), float(r[2]),
                    None if r[3] is None or r[4] is None else float(r[3]),
                    None if r[3] is None or r[4] is None else float(r[4]),
                    r[5], r[6], r[7], r[8]) for r in cur]


def day_places(conn: Connection, day_start_s: float
               ) -> list[tuple[int, float | None, float | None, int]]:
    """Photos per (day, place to 0.1 degree) of the whole library, as (day, lat, lon,
    photos); a day starts ``day_start_s`` after local midnight."""
    return [(int(r[0]), None if r[1] is None or r[2] is None else float(r[1]),
             None if r[1] is None or r[2] is None else float(r[2]), int(r[3]))
            for r in conn.execute(_DAY_PLACES.format(start=day_start_s))]


def located_days(conn: Connection) -> list[tuple[int, int, int]]:
    """Distinct (cell y, cell x, day) of located, dated photos: where home is inferred from."""
    return [(int(r[0]), int(r[1]), int(r[2])) for r in conn.execute(
        f"SELECT DISTINCT cy, cx, day FROM ({_LOCATED})")]


def centre_of(conn: Connection, cell: tuple[int, int]) -> tuple[float, float]:
    """The mean position of the located photos of a cell (one that has some)."""
    lat, lon = conn.execute(f"SELECT avg(lat), avg(lon) FROM ({_LOCATED}) "
                            "WHERE cy = ? AND cx = ?", cell).fetchone() or (None, None)
    assert lat is not None and lon is not None, "a cell of located photos has some"
    return float(lat), float(lon)


def city_near(conn: Connection, lat: float, lon: float) -> tuple[str, str | None] | None:
    """(city, country) most photos near a point were placed in (about 25 km around it)."""
    dlon = 0.25 / max(0.1, math.cos(math.radians(lat)))
    row = conn.execute("SELECT city, country FROM photo_places WHERE city IS NOT NULL "
                       "AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? "
                       "GROUP BY city, country ORDER BY count(*) DESC, city LIMIT 1",
                       (lat - 0.25, lat + 0.25, lon - dlon, lon + dlon)).fetchone()
    return None if row is None else (str(row[0]), row[1])


def newest_photo_id(conn: Connection) -> int:
    return int(conn.one("SELECT coalesce(max(id), 0) FROM photos"))


def written_since(conn: Connection, at: str) -> tuple[list[int], list[int]]:
    """Ids of photos, and of photos whose place, were written at or after ``at``."""
    return ([int(r[0]) for r in conn.execute(
                "SELECT id FROM photos WHERE updated_at >= ?", (at,))],
            [int(r[0]) for r in conn.execute(
                "SELECT photo_id FROM photo_places WHERE updated_at >= ?", (at,))])


def photos_changed_since(conn: Connection, max_id: int, since: str
                         ) -> list[tuple[int, float | None, str]]:
    """(id, taken_ts, updated_at) of photos newer than ``max_id`` or written since ``since``."""
    return [(int(r[0]), r[1], str(r[2])) for r in conn.execute(
        "SELECT id, taken_ts, updated_at FROM photos WHERE id > ? OR updated_at >= ?",
        (max_id, since))]


def places_changed_since(conn: Connection, since: str) -> list[tuple[int, float | None, str]]:
    """(photo id, taken_ts, place's updated_at) of photos placed again since ``since``."""
    return [(int(r[0]), r[1], str(r[2])) for r in conn.execute(
        "SELECT p.id, p.taken_ts, pp.updated_at FROM photo_places pp "
        "JOIN photos p ON p.id = pp.photo_id WHERE pp.updated_at >= ?", (since,))]


def taken_on_days(conn: Connection, days: Sequence[str], before_year: int
                  ) -> list[tuple[int, str]]:
    """(id, taken_at) of showable photos (status ok, truly dated) taken on these days of the
    year ("MM-DD") in years before ``before_year``, oldest first."""
    return [(int(r[0]), str(r[1])) for r in conn.execute(
        "SELECT id, taken_at FROM photos p WHERE status = 'ok' AND companion_of IS NULL "
        f"AND taken_at IS NOT NULL AND {_DATED} "
        f"AND substr(taken_at, 6, 5) IN ({','.join('?' * len(days))}) "
        "AND CAST(substr(taken_at, 1, 4) AS INTEGER) < ? ORDER BY taken_ts, id",
        [*days, before_year])]


def photos_by_time(conn: Connection) -> list[tuple[int, str, str, str | None]]:
    """(id, path, status, taken_at) of every photo of the library that is not unsupported
    (missing and offline ones too), in the order they were taken, undated last."""
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in conn.execute(
        "SELECT id, path, status, taken_at FROM photos "
        "WHERE status IN ('ok', 'missing', 'offline') AND companion_of IS NULL "
        "AND (flags & 16) = 0 ORDER BY taken_ts IS NULL, taken_ts, id")]
