"""Faces and people in the library file: storage, the arrays clustering works on, and the
names that feed full-text search.

Face vectors live in a vec0 table per face pack (``embedding_spaces`` kind ``face``), keyed by
face id; a trigger created with the table drops a face's vector with its row, cascades from
deleted photos included.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glimpse_desktop.faces.records import Assigned, PersonPhoto, PersonRef
from glimpse_desktop.kernel import fts, vectors
from glimpse_desktop.kernel.db import Connection, now_iso
from glimpse_desktop.kernel.photos import FLAG_TRASHED

# A new face takes over the person (and the rejections) of an old face of the same photo when
# their boxes overlap this much: the same face, found again after an edit or by another pack.
CARRY_IOU = 0.5


@dataclass(frozen=True)
class NewFace:
    """A face to store: geometry in fractions of the upright image, and its embedding."""

    box: tuple[float, float, float, float]
    landmarks: tuple[float, ...]
    score: float
    size_px: int
    sharpness: float
    yaw: float
    seeds: bool
    vector: np.ndarray


def space(conn: Connection, model_id: str, dim: int) -> str:
    """The vec0 table of a face pack, created with the trigger that keeps it in step with
    ``faces`` (call inside a write)."""
    existing = vectors.table_for(conn, model_id)
    table = vectors.ensure_space(conn, model_id, kind="face", dim=dim)
    if existing is None:
        literal = model_id.replace("'", "''")
        conn.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_gone AFTER DELETE ON faces "
            f"WHEN old.model_id = '{literal}' BEGIN "
            f"DELETE FROM {table} WHERE item_id = old.id; END")
    return table


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def store(conn: Connection, *, photo_id: int, model_id: str, table: str,
          faces: Sequence[NewFace]) -> list[int]:
    """Replace the faces of a photo with the ones a pack just found (call inside a write).

    A new face that overlaps an old one (IoU > 0.5) keeps the old face's person, how it got
    there, and its rejections: names survive an edited file and a switch of face pack.
    """
    content_hash = conn.one("SELECT content_hash FROM photos WHERE id = ?", (photo_id,))
    if content_hash is None:
        return []   # forgotten meanwhile
    old = conn.rows("SELECT id, x, y, w, h, person_id, assigned, ignored_at FROM faces "
                    "WHERE photo_id = ?", (photo_id,))
    now = now_iso()
    ids: list[int] = []
    taken: set[int] = set()
    touched = False
    for face in faces:
        conn.execute(
            "INSERT INTO faces(photo_id, model_id, content_hash, x, y, w, h, landmarks, score, "
            "size_px, sharpness, yaw, seeds, created_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (photo_id, model_id, content_hash, *face.box,
             json.dumps([round(v, 5) for v in face.landmarks]), face.score, face.size_px,
             face.sharpness, face.yaw, int(face.seeds), now))
        face_id = int(conn.raw.last_insert_rowid())
        ids.append(face_id)
        vectors.put(conn, table, face_id, face.vector)
        best, best_iou = None, CARRY_IOU
        for o in old:
            overlap = iou(face.box, (o["x"], o["y"], o["w"], o["h"]))
            if o["id"] not in taken and overlap > best_iou:
                best, best_iou = o, overlap
        if best is None:
            continue
        taken.add(best["id"])
        conn.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at, kind) "
                     "SELECT ?, person_id, at, kind FROM face_rejections WHERE face_id = ?",
                     (face_id, best["id"]))
        conn.execute("INSERT OR IGNORE INTO face_apart(face_id, other_id, kind) "
                     "SELECT ?, other_id, kind FROM face_apart WHERE face_id = ?",
                     (face_id, best["id"]))
        conn.execute("INSERT OR IGNORE INTO face_apart(face_id, other_id, kind) "
                     "SELECT face_id, ?, kind FROM face_apart WHERE other_id = ?",
                     (face_id, best["id"]))
        if best["ignored_at"] is not None:
            # The same stranger, found again: still ignored.
            conn.execute("UPDATE faces SET ignored_at = ? WHERE id = ?",
                         (best["ignored_at"], face_id))
        if best["person_id"] is not None:
            conn.execute("UPDATE faces SET person_id = ?, assigned = ? WHERE id = ?",
                         (best["person_id"], best["assigned"], face_id))
            conn.execute("UPDATE people SET cover_face_id = ? WHERE cover_face_id = ?",
                         (face_id, best["id"]))
            touched = True
    if old:
        conn.executemany("DELETE FROM faces WHERE id = ?", [(o["id"],) for o in old])
        touched = touched or any(o["person_id"] is not None for o in old)
    conn.execute("DELETE FROM photo_faces WHERE photo_id = ? AND model_id != ?",
                 (photo_id, model_id))
    conn.execute(
        "INSERT INTO photo_faces(photo_id, model_id, content_hash, faces) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(photo_id, model_id) DO UPDATE SET content_hash = excluded.content_hash, "
        "faces = excluded.faces", (photo_id, model_id, content_hash, len(faces)))
    if touched:
        refresh_names(conn, [photo_id])
    return ids


# How many of a person's faces a "not this person" is tied to, best first.
APART_LIMIT = 500


def keep_apart(conn: Connection, face_id: int, person_id: int, *, kind: str = "user") -> None:
    """Tie a rejection to the faces the person has now (call inside a write)."""
    conn.execute(
        "INSERT OR IGNORE INTO face_apart(face_id, other_id, kind) SELECT ?, id, ? FROM faces "
        "WHERE person_id = ? AND id != ? ORDER BY seeds DESC, score DESC, id LIMIT ?",
        (face_id, kind, person_id, face_id, APART_LIMIT))


def bring_together(conn: Connection, face_id: int, person_id: int) -> None:
    """The person said this face *is* this person: what kept it from the person's faces goes
    (call inside a write)."""
    conn.execute("DELETE FROM face_rejections WHERE face_id = ? AND person_id = ?",
                 (face_id, person_id))
    conn.execute("DELETE FROM face_apart WHERE face_id = ?1 AND other_id IN (SELECT id FROM "
                 "faces WHERE person_id = ?2) OR other_id = ?1 AND face_id IN (SELECT id FROM "
                 "faces WHERE person_id = ?2)", (face_id, person_id))


def enforce_apart(conn: Connection) -> list[int]:
    """Take out of their person the faces that share it with a face they were said not to be:
    the one clustering put there leaves; when the person placed both by hand, the later word
    wins and the link goes. Returns the photos touched. Call inside a write, after anything
    that moved faces."""
    pairs = conn.rows(
        "SELECT a.id AS a, a.assigned AS a_how, a.photo_id AS a_photo, b.id AS b, "
        "b.assigned AS b_how, b.photo_id AS b_photo FROM face_apart l "
        "JOIN faces a ON a.id = l.face_id JOIN faces b ON b.id = l.other_id "
        "WHERE a.person_id IS NOT NULL AND a.person_id = b.person_id")
    touched: list[int] = []
    for pair in pairs:
        if pair["a_how"] != "user":
            leaving, photo = pair["a"], pair["a_photo"]
        elif pair["b_how"] != "user":
            leaving, photo = pair["b"], pair["b_photo"]
        else:
            conn.execute("DELETE FROM face_apart WHERE face_id = ? AND other_id = ?",
                         (pair["a"], pair["b"]))
            continue
        conn.execute("UPDATE faces SET person_id = NULL, assigned = NULL WHERE id = ? AND "
                     "person_id IS NOT NULL", (leaving,))
        touched.append(int(photo))
    return touched


def refresh_names(conn: Connection, photo_ids: Iterable[int]) -> None:
    """Put the names of the people in these photos into their full-text rows (inside a
    write); a search for Alice and ``person:Alice`` find them."""
    ids = list(dict.fromkeys(photo_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        names: dict[int, list[str]] = {}
        for photo_id, name in conn.execute(
                f"SELECT f.photo_id, p.name FROM faces f JOIN people p ON p.id = f.person_id "
                f"WHERE f.photo_id IN ({marks}) AND p.name IS NOT NULL "
                f"ORDER BY f.x", chunk):
            names.setdefault(int(photo_id), []).append(str(name))
        conn.execute(f"DELETE FROM photo_text WHERE field = 'people' AND source = 'faces' "
                     f"AND photo_id IN ({marks})", chunk)
        conn.executemany(
            "INSERT INTO photo_text(photo_id, field, source, value) VALUES (?, 'people', "
            "'faces', ?)", [(pid, " ".join(dict.fromkeys(n))) for pid, n in names.items()])
        fts.mark(conn, chunk)


def count_in(conn: Connection, photo_ids: Sequence[int]) -> int:
    """How many faces these photos have."""
    total = 0
    for start in range(0, len(photo_ids), 500):
        chunk = list(photo_ids[start:start + 500])
        total += int(conn.one(f"SELECT count(*) FROM faces WHERE photo_id IN "
                              f"({','.join('?' * len(chunk))})", chunk))
    return total


def photos_of_people(conn: Connection, person_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(person_ids))
    out: list[int] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out += [int(r[0]) for r in conn.execute(
            f"SELECT DISTINCT photo_id FROM faces WHERE person_id IN "
            f"({','.join('?' * len(chunk))})", chunk)]
    return out


@dataclass
class FaceArrays:
    """Every face of one pack, as clustering sees them (rows in face id order)."""

    ids: np.ndarray          # (n,) face ids
    vectors: np.ndarray      # (n, dim) float32, L2-normalised
    photo: np.ndarray        # (n,) photo ids
    person: np.ndarray       # (n,) person id, 0 = none
    seeds: np.ndarray        # (n,) bool
    fixed: np.ndarray        # (n,) bool: placed by the person, or in a named person
    rejected: dict[int, set[int]]  # row index -> person ids
    fresh: np.ndarray | None = None  # (n,) bool: waiting and not looked at by a pass yet

    def index_of(self) -> dict[int, int]:
        return {int(f): i for i, f in enumerate(self.ids)}


class VectorCache:
    """Face vectors already read, by face id. A face's vector never changes (a re-found face
    is a new row with a new id), so a later pass reads only the faces added since."""

    def __init__(self, dim: int) -> None:
        self.ids = np.zeros(0, np.int64)
        self.vectors = np.zeros((0, dim), np.float32)

    def update(self, conn: Connection, table: str) -> None:
        newest = int(self.ids[-1]) if self.ids.size else 0
        found: list[tuple[int, bytes]] = [
            (int(item), bytes(blob)) for item, blob in conn.execute(
                f"SELECT item_id, embedding FROM {table} WHERE item_id > ? ORDER BY item_id",
                (newest,))]
        if not found:
            return
        ids = np.fromiter((r[0] for r in found), np.int64, len(found))
        vecs = np.frombuffer(b"".join(r[1] for r in found), dtype="<f4")
        self.ids = np.concatenate([self.ids, ids])
        self.vectors = np.concatenate([self.vectors, vecs.reshape(len(found), -1)])

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, have) for the given face ids, in their order."""
        if np.array_equal(ids, self.ids):
            return self.vectors, np.ones(len(ids), bool)   # the usual case: no copy
        pos = np.searchsorted(self.ids, ids)
        pos = np.minimum(pos, max(0, self.ids.size - 1))
        have = (self.ids[pos] == ids) if self.ids.size else np.zeros(len(ids), bool)
        out = np.zeros((len(ids), self.vectors.shape[1]), np.float32)
        out[have] = self.vectors[pos[have]]
        return out, have


def load(conn: Connection, model_id: str, table: str, dim: int,
         cache: VectorCache | None = None) -> FaceArrays:
    """The faces of a pack with their vectors, people and constraints, as one snapshot (a
    rejection written meanwhile is either in all of it or in none). With a ``cache``, only
    the vectors of faces added since its last use are read."""
    with conn.transaction("DEFERRED"):
        return _load(conn, model_id, table, dim, cache or VectorCache(dim))


def _load(conn: Connection, model_id: str, table: str, dim: int,
          cache: VectorCache) -> FaceArrays:
    rows = conn.execute(
        "SELECT f.id, f.photo_id, coalesce(f.person_id, 0), f.seeds, "
        "coalesce(f.assigned = 'user' OR p.name IS NOT NULL, 0), "
        "f.person_id IS NULL AND f.swept = 0 "
        "FROM faces f LEFT JOIN people p ON p.id = f.person_id "
        # Ignored faces (strangers) are not clustered at all: not as candidates, not as
        # evidence, not as neighbours that would help found a person.
        "WHERE f.model_id = ? AND f.ignored_at IS NULL ORDER BY f.id", (model_id,)).fetchall()
    n = len(rows)
    meta = np.array(rows, dtype=np.int64).reshape(n, 6) if n else np.zeros((0, 6), np.int64)
    ids = meta[:, 0]
    cache.update(conn, table)
    vecs, have = cache.lookup(ids)
    where = {int(f): i for i, f in enumerate(ids)}
    rejected: dict[int, set[int]] = {}
    for face_id, person_id in conn.execute(
            "SELECT r.face_id, r.person_id FROM face_rejections r JOIN faces f "
            "ON f.id = r.face_id WHERE f.model_id = ?", (model_id,)):
        i = where.get(int(face_id))
        if i is not None:
            rejected.setdefault(i, set()).add(int(person_id))
    # A face kept apart from other faces may not join the people those faces are in now.
    for face_id, person_id in conn.execute(
            "SELECT l.face_id, b.person_id FROM face_apart l JOIN faces b ON b.id = l.other_id "
            "WHERE b.person_id IS NOT NULL UNION SELECT l.other_id, a.person_id FROM face_apart "
            "l JOIN faces a ON a.id = l.face_id WHERE a.person_id IS NOT NULL"):
        i = where.get(int(face_id))
        if i is not None:
            rejected.setdefault(i, set()).add(int(person_id))
    keep = have   # a face whose vector was lost cannot be clustered (it keeps its person)
    arrays = FaceArrays(ids=ids[keep], vectors=vecs[keep], photo=meta[keep, 1],
                        person=meta[keep, 2], seeds=meta[keep, 3].astype(bool),
                        fixed=meta[keep, 4].astype(bool), rejected={},
                        fresh=meta[keep, 5].astype(bool))
    if not keep.all():
        remap = {int(old): new for new, old in enumerate(np.nonzero(keep)[0])}
        arrays.rejected = {remap[i]: s for i, s in rejected.items() if i in remap}
    else:
        arrays.rejected = rejected
    return arrays


def prune_people(conn: Connection) -> int:
    """Delete unnamed people that have no faces left (named ones stay: the name is the
    person's own work)."""
    conn.execute("DELETE FROM people WHERE name IS NULL AND NOT EXISTS "
                 "(SELECT 1 FROM faces f WHERE f.person_id = people.id)")
    return int(conn.raw.changes())


def mark_swept(conn: Connection, face_ids: Iterable[int]) -> None:
    """Faces a clustering pass looked at while they waited (call inside a write)."""
    conn.executemany("UPDATE faces SET swept = 1 WHERE id = ? AND person_id IS NULL",
                     [(int(i),) for i in face_ids])


# ---------------------------------------------------------------------- people, as the service
# reads and changes them. Writes are called inside a write (``Writer.call``); reads take any
# connection.

_PERSON = "SELECT id, name, hidden, cover_face_id FROM people"
_FACE = ("SELECT f.id, f.photo_id, f.person_id, f.assigned, f.x, f.y, f.w, f.h, f.score, "
         "f.size_px, f.seeds, ph.path, ph.content_hash, f.ignored_at FROM faces f "
         "LEFT JOIN photos ph ON ph.id = f.photo_id")


@dataclass(frozen=True)
class StoredFace:
    """A face row with its photo's path and content hash (None if the photo is gone)."""

    id: int
    photo_id: int
    person_id: int | None
    assigned: Assigned
    box: tuple[float, float, float, float]
    score: float
    size_px: int
    seeds: bool
    path: str | None
    content_hash: str | None
    ignored: bool = False


def _person(row: Sequence[Any]) -> PersonRef:
    return PersonRef(id=int(row[0]), name=row[1], hidden=bool(row[2]),
                     cover_face=None if row[3] is None else int(row[3]))


def _face(row: Sequence[Any]) -> StoredFace:
    return StoredFace(id=int(row[0]), photo_id=int(row[1]),
                      person_id=None if row[2] is None else int(row[2]),
                      assigned=row[3], box=(float(row[4]), float(row[5]), float(row[6]),
                                            float(row[7])),
                      score=float(row[8]), size_px=int(row[9]), seeds=bool(row[10]),
                      path=row[11], content_hash=row[12], ignored=row[13] is not None)


def face_table(conn: Connection, model_id: str) -> str | None:
    """The vec0 table of a face pack's vectors, or None before its first face."""
    name = conn.one("SELECT table_name FROM embedding_spaces WHERE model_id = ? "
                    "AND kind = 'face'", (model_id,))
    return None if name is None else str(name)


def signature(conn: Connection, model_id: str) -> tuple[Any, ...]:
    """What a clustering pass depends on, in a few numbers: the pack's faces and their people,
    rejections, kept-apart faces and people (last: the faces waiting for a person)."""
    faces = conn.execute(
        "SELECT count(*), total(id), total(coalesce(person_id, 0) * (id % 1000003)), "
        "count(*) FILTER (WHERE person_id IS NULL AND ignored_at IS NULL) FROM faces "
        "WHERE model_id = ?",
        (model_id,)).fetchone()
    others = conn.execute(
        "SELECT (SELECT count(*) FROM face_rejections), (SELECT count(*) FROM face_apart), "
        "(SELECT count(*) FROM people), "
        "(SELECT coalesce(max(updated_at), '') FROM people)").fetchone()
    return (*tuple(others or ()), *tuple(faces or ()))


def person(conn: Connection, person_id: int) -> PersonRef | None:
    row = conn.execute(f"{_PERSON} WHERE id = ?", (int(person_id),)).fetchone()
    return None if row is None else _person(row)


def person_named(conn: Connection, name: str, *, other_than: int | None = None
                 ) -> PersonRef | None:
    """The person of this name (case-insensitive), leaving ``other_than`` out."""
    row = conn.execute(f"{_PERSON} WHERE name = ? COLLATE NOCASE AND id IS NOT ?",
                       (name, other_than)).fetchone()
    return None if row is None else _person(row)


def people_starting(conn: Connection, words: str, limit: int) -> list[PersonRef]:
    """People whose name starts with these whole words (at most ``limit``)."""
    like = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [_person(r) for r in conn.execute(
        f"{_PERSON} WHERE name LIKE ? ESCAPE '\\' LIMIT ?", (like + " %", limit))]


def people_called(conn: Connection, name: str) -> list[int]:
    """The ids of the person of this exact name (case-insensitive) if there is one, else of
    everyone whose name starts with these words."""
    ids = [int(r[0]) for r in conn.execute(
        "SELECT id FROM people WHERE name = ? COLLATE NOCASE", (name,))]
    if not ids:
        like = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        ids = [int(r[0]) for r in conn.execute(
            "SELECT id FROM people WHERE name LIKE ? ESCAPE '\\'", (like + " %",))]
    return ids


def names(conn: Connection, limit: int) -> list[str]:
    """People's names, alphabetically (hidden people left out)."""
    return [str(r[0]) for r in conn.execute(
        "SELECT name FROM people WHERE name IS NOT NULL AND hidden = 0 ORDER BY name "
        "LIMIT ?", (limit,))]


def face(conn: Connection, face_id: int) -> StoredFace | None:
    row = conn.execute(f"{_FACE} WHERE f.id = ?", (int(face_id),)).fetchone()
    return None if row is None else _face(row)


def people_counted(conn: Connection, *, include_hidden: bool
                   ) -> list[tuple[PersonRef, int, int]]:
    """People with their face and photo counts, named first, then the most photographed.
    Without ``include_hidden``: neither hidden people nor people without faces."""
    return [(_person(r), int(r[4]), int(r[5])) for r in conn.execute(
        f"""SELECT p.id, p.name, p.hidden, p.cover_face_id,
                  count(f.id) AS faces, count(DISTINCT f.photo_id) AS photos
           FROM people p LEFT JOIN faces f ON f.person_id = p.id
                -- a photo in Recently deleted counts for no one until restored
                AND f.photo_id NOT IN (SELECT photo_id FROM trash)
           {'' if include_hidden else 'WHERE p.hidden = 0'}
           GROUP BY p.id
           {'' if include_hidden else 'HAVING count(f.id) > 0'}
           ORDER BY p.name IS NULL, count(DISTINCT f.photo_id) DESC, p.id""")]


# A face ``f`` whose photo is not in Recently deleted (kernel.photos.FLAG_TRASHED): until
# restored, such a face waits for no one, counts for no one and is no one's cover.
NOT_TRASHED = (f"NOT EXISTS (SELECT 1 FROM photos tp WHERE tp.id = f.photo_id "
               f"AND (tp.flags & {FLAG_TRASHED}) != 0)")


def waiting(conn: Connection) -> tuple[int, int]:
    """(faces, photos) of the faces in no person."""
    row = conn.execute("SELECT count(*), count(DISTINCT photo_id) FROM faces f "
                       "WHERE person_id IS NULL AND ignored_at IS NULL AND "
                       f"{NOT_TRASHED}").fetchone() or (0, 0)
    return int(row[0]), int(row[1])


def cover_face(conn: Connection, person_id: int, chosen: int | None) -> StoredFace | None:
    """The chosen cover face if still the person's, else the best one: sharp, frontal,
    large, confident."""
    row = None
    if chosen is not None:
        row = conn.execute(f"{_FACE} WHERE f.id = ? AND f.person_id = ?",
                           (chosen, person_id)).fetchone()
    if row is None:
        row = conn.execute(
            f"{_FACE} WHERE f.person_id = ? AND {NOT_TRASHED} ORDER BY f.seeds DESC, "
            "(min(f.size_px, 160) / 160.0) * f.score * (1.0 - abs(f.yaw) / 90.0) DESC, f.id "
            "LIMIT 1", (person_id,)).fetchone()
    return None if row is None else _face(row)


def faces_of_person(conn: Connection, person_id: int) -> list[StoredFace]:
    """A person's faces, newest photo first."""
    return [_face(r) for r in conn.execute(
        f"{_FACE} WHERE f.person_id = ? ORDER BY ph.taken_ts DESC, f.id", (person_id,))]


def faces_in_photo(conn: Connection, photo_id: int) -> list[tuple[StoredFace, str | None]]:
    """The faces of a photo, left to right, with their person's name."""
    return [(_face(r[:-1]), r[-1]) for r in conn.execute(
        f"SELECT q.*, pe.name FROM ({_FACE} WHERE f.photo_id = ?) q "
        "LEFT JOIN people pe ON pe.id = q.person_id ORDER BY q.x", (photo_id,))]


def person_photos(conn: Connection, person_id: int) -> list[PersonPhoto]:
    """The photos a person is in, newest first."""
    return [PersonPhoto(id=int(r[0]), path=str(r[1]), taken_at=r[2], status=str(r[3]))
            for r in conn.execute(
                "SELECT DISTINCT p.id, p.path, p.taken_at, p.status FROM photos p "
                "JOIN faces f ON f.photo_id = p.id WHERE f.person_id = ? "
                "AND p.companion_of IS NULL AND (p.flags & 16) = 0 "
                "ORDER BY p.taken_ts DESC, p.id DESC",
                (person_id,))]


def counts(conn: Connection) -> tuple[int, int, int, int]:
    """(faces, people not hidden, people named, faces waiting for a person)."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM faces), (SELECT count(*) FROM people WHERE hidden = 0), "
        "(SELECT count(*) FROM people WHERE name IS NOT NULL), "
        "(SELECT count(*) FROM faces f WHERE person_id IS NULL AND ignored_at IS NULL "
        f"AND {NOT_TRASHED})"
    ).fetchone() or (0, 0, 0, 0)
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def forget_face_errors(conn: Connection) -> None:
    """Forget why photos could not be looked at for faces (they are tried again)."""
    conn.execute("DELETE FROM errors WHERE stage = 'faces'")


def new_person(conn: Connection, name: str | None = None) -> int:
    now = now_iso()
    conn.execute("INSERT INTO people(name, created_at, updated_at) VALUES (?, ?, ?)",
                 (name, now, now))
    return int(conn.raw.last_insert_rowid())


def rename(conn: Connection, person_id: int, name: str) -> None:
    conn.execute("UPDATE people SET name = ?, updated_at = ? WHERE id = ?",
                 (name, now_iso(), person_id))


def set_hidden(conn: Connection, person_id: int, hidden: bool) -> None:
    conn.execute("UPDATE people SET hidden = ?, updated_at = ? WHERE id = ?",
                 (int(hidden), now_iso(), person_id))


def set_cover(conn: Connection, person_id: int, face_id: int) -> None:
    conn.execute("UPDATE people SET cover_face_id = ?, updated_at = ? WHERE id = ?",
                 (face_id, now_iso(), person_id))


def drop_cover(conn: Connection, person_id: int, face_id: int) -> None:
    """The person's cover is no longer this face (it left them)."""
    conn.execute("UPDATE people SET cover_face_id = NULL WHERE id = ? AND cover_face_id = ?",
                 (person_id, face_id))


def delete_person(conn: Connection, person_id: int) -> None:
    conn.execute("DELETE FROM people WHERE id = ?", (person_id,))


def place(conn: Connection, face_id: int, person_id: int, how: str = "user") -> None:
    """Put a face in a person (``how``: ``user`` by hand, ``auto`` by matching). A face
    the person ignored and now names is no stranger: the ignore goes."""
    conn.execute("UPDATE faces SET person_id = ?, assigned = ?, ignored_at = NULL WHERE id = ?",
                 (person_id, how, face_id))


def has_face(conn: Connection, face_id: int, person_id: int | None = None) -> bool:
    """The face exists (and, with ``person_id``, is that person's)."""
    if person_id is None:
        return bool(conn.one("SELECT 1 FROM faces WHERE id = ?", (face_id,)))
    return bool(conn.one("SELECT 1 FROM faces WHERE id = ? AND person_id = ?",
                         (face_id, person_id)))


def other_face_in_photo(conn: Connection, photo_id: int, person_id: int, face_id: int
                        ) -> int | None:
    """Another face of this photo the person has, if any (a person is once in a photo)."""
    found = conn.one("SELECT id FROM faces WHERE photo_id = ? AND person_id = ? AND id != ?",
                     (photo_id, person_id, face_id))
    return None if found is None else int(found)


def merge(conn: Connection, target: int, sources: Sequence[int]) -> tuple[int, int, list[int]]:
    """Join the ``sources`` people into ``target`` (their rows go). Returns (faces kept,
    faces taken out, photos touched). Where two of their faces share a photo (or one was said
    not to be the other), only one can be this person: the other leaves, remembered as "not
    this person"."""
    now = now_iso()
    ids = [target, *sources]
    marks = ",".join("?" * len(ids))
    # Merging people that were split apart undoes the split: what the split implied about
    # them goes. The person's own "not this person" is never undone: it holds for the merged
    # person, and a face it names leaves.
    conn.execute(f"DELETE FROM face_rejections WHERE kind = 'split' AND person_id IN "
                 f"({marks}) AND face_id IN (SELECT id FROM faces WHERE person_id IN "
                 f"({marks}))", (*ids, *ids))
    conn.execute(f"DELETE FROM face_apart WHERE kind = 'split' AND face_id IN (SELECT id "
                 f"FROM faces WHERE person_id IN ({marks})) AND other_id IN (SELECT id FROM "
                 f"faces WHERE person_id IN ({marks}))", (*ids, *ids))
    for src in sources:
        conn.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at, kind) "
                     "SELECT face_id, ?, at, kind FROM face_rejections WHERE person_id = ?",
                     (target, src))
    rejected = {int(r[0]) for r in conn.execute(
        "SELECT face_id FROM face_rejections WHERE person_id = ?", (target,))}
    rows = [(int(r[0]), int(r[1])) for r in conn.execute(
        f"SELECT id, photo_id FROM faces WHERE person_id IN ({marks}) ORDER BY "
        f"person_id != ?, seeds DESC, score DESC, id", (*ids, target))]
    apart: dict[int, set[int]] = {}
    for a, b in conn.execute(
            f"SELECT face_id, other_id FROM face_apart WHERE face_id IN (SELECT id FROM "
            f"faces WHERE person_id IN ({marks}))", ids):
        apart.setdefault(int(a), set()).add(int(b))
        apart.setdefault(int(b), set()).add(int(a))
    kept: set[int] = set()
    kept_faces: set[int] = set()
    detached = 0
    for face_id, photo_id in rows:
        if (face_id in rejected or photo_id in kept
                or apart.get(face_id, set()) & kept_faces):
            conn.execute("UPDATE faces SET person_id = NULL, assigned = NULL WHERE id = ?",
                         (face_id,))
            conn.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at) "
                         "VALUES (?, ?, ?)", (face_id, target, now))
            detached += 1
            continue
        kept.add(photo_id)
        kept_faces.add(face_id)
        # Merged by the person: these faces now belong where they were put.
        place(conn, face_id, target)
    conn.executemany("DELETE FROM people WHERE id = ?", [(i,) for i in sources])
    conn.execute("UPDATE people SET updated_at = ? WHERE id = ?", (now, target))
    return len(kept), detached, [photo for _, photo in rows]


def split(conn: Connection, person_id: int, face_ids: Sequence[int]) -> int:
    """Move faces of a person into a new person; returns its id. The moved faces are not the
    old person, and the faces left behind are not the new one (both remembered, as a split,
    which a later merge of the two undoes)."""
    now = now_iso()
    new_id = new_person(conn)
    for face_id in face_ids:
        place(conn, face_id, new_id)
    for face_id in face_ids:   # all moved first: the moved faces are not kept from each other
        conn.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at, kind) "
                     "VALUES (?, ?, ?, 'split')", (face_id, person_id, now))
        keep_apart(conn, face_id, person_id, kind="split")
    # And the other way round, so a re-cluster cannot pour them into it and undo the split.
    conn.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at, kind) "
                 "SELECT id, ?, ?, 'split' FROM faces WHERE person_id = ?",
                 (new_id, now, person_id))
    conn.execute("UPDATE people SET cover_face_id = NULL WHERE id = ? AND cover_face_id IN "
                 f"({','.join('?' * len(face_ids))})", (person_id, *face_ids))
    return new_id


def reject(conn: Connection, face: StoredFace, person_id: int) -> None:
    """"Not this person", remembered for good; the face leaves the person if it was in it."""
    conn.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at) "
                 "VALUES (?, ?, ?)", (face.id, person_id, now_iso()))
    keep_apart(conn, face.id, person_id)
    if face.person_id == person_id:
        conn.execute("UPDATE faces SET person_id = NULL, assigned = NULL WHERE id = ?",
                     (face.id,))
        drop_cover(conn, person_id, face.id)


@dataclass(frozen=True)
class TagCandidate:
    """A face of a reference photo, as ``People.tag`` weighs it."""

    id: int
    person_id: int | None
    assigned: Assigned
    person_name: str | None
    rejected: bool
    """Said not to be the person being tagged."""


def photo_of_face(conn: Connection, face_id: int) -> dict[str, Any] | None:
    """The photo row a face is in."""
    return conn.row("SELECT p.* FROM photos p JOIN faces f ON f.photo_id = p.id "
                    "WHERE f.id = ?", (face_id,))


def tag_candidates(conn: Connection, *, photo_id: int, model_id: str, person_id: int | None,
                   face_id: int | None = None) -> list[TagCandidate]:
    """The pack's faces in a photo (just ``face_id`` if given), weighed for ``person_id``."""
    return [TagCandidate(id=int(r[0]), person_id=None if r[1] is None else int(r[1]),
                         assigned=r[2], person_name=r[3], rejected=bool(r[4]))
            for r in conn.execute(
                "SELECT f.id, f.person_id, f.assigned, p.name, "
                "EXISTS (SELECT 1 FROM face_rejections r WHERE r.face_id = f.id AND "
                "r.person_id = ?) FROM faces f LEFT JOIN people p "
                "ON p.id = f.person_id WHERE f.photo_id = ? AND f.model_id = ?"
                + (" AND f.id = ?" if face_id is not None else ""),
                (person_id, photo_id, model_id,
                 *((face_id,) if face_id is not None else ())))]


def tag(conn: Connection, name: str, chosen: Sequence[tuple[int, int]],
        similar: Sequence[tuple[int, int]]) -> tuple[int, set[int], set[int]]:
    """Tag a person (made under ``name`` if new) with the ``chosen`` reference faces, then with
    the ``similar`` ones, most similar first, one face per photo: faces the person placed
    elsewhere, faces in other named people, rejected faces and faces kept apart from theirs
    stay where they are. Faces are ``(face id, photo id)``. Returns (person id, photos before,
    photos now)."""
    found = person_named(conn, name)
    person_id = new_person(conn, name) if found is None else found.id
    before = set(photos_of_people(conn, [person_id]))
    have = set(before)
    touched: set[int] = set()
    for face_id, photo_id in chosen:
        if photo_id in have and not has_face(conn, face_id, person_id):
            continue     # the person already has another face there (placed meanwhile)
        bring_together(conn, face_id, person_id)
        place(conn, face_id, person_id)
        have.add(photo_id)
        touched.add(photo_id)
    rejected = {int(r[0]) for r in conn.execute(
        "SELECT face_id FROM face_rejections WHERE person_id = ?", (person_id,))}
    locked = {int(r[0]) for r in conn.execute(
        "SELECT f.id FROM faces f LEFT JOIN people p ON p.id = f.person_id WHERE "
        "f.person_id IS NOT NULL AND f.person_id != ? AND "
        "(f.assigned = 'user' OR p.name IS NOT NULL)", (person_id,))}
    for face_id, photo_id in similar:
        if photo_id in have or face_id in rejected or face_id in locked:
            continue
        if conn.one("SELECT 1 FROM face_apart l JOIN faces f ON f.id = CASE WHEN "
                    "l.face_id = ?1 THEN l.other_id ELSE l.face_id END WHERE "
                    "(l.face_id = ?1 OR l.other_id = ?1) AND f.person_id = ?2 LIMIT 1",
                    (face_id, person_id)):
            continue
        if not has_face(conn, face_id):
            continue
        place(conn, face_id, person_id, "auto")
        have.add(photo_id)
        touched.add(photo_id)
    touched.update(enforce_apart(conn))
    refresh_names(conn, touched)
    prune_people(conn)
    return person_id, before, have


def export_rows(conn: Connection, *, include_unnamed: bool
                ) -> list[tuple[str, str | None, int, int, float, float, float, float]]:
    """(path, name, person id, face id, x, y, w, h) of every face in a person not hidden,
    by path and left to right."""
    return [(str(r[0]), r[1], int(r[2]), int(r[3]), float(r[4]), float(r[5]), float(r[6]),
             float(r[7])) for r in conn.execute(
        "SELECT ph.path, pe.name, pe.id AS person_id, f.id AS face_id, f.x, f.y, f.w, f.h "
        "FROM faces f JOIN people pe ON pe.id = f.person_id JOIN photos ph "
        f"ON ph.id = f.photo_id WHERE pe.hidden = 0 AND {NOT_TRASHED} "
        + ("" if include_unnamed else "AND pe.name IS NOT NULL ")
        + "ORDER BY ph.path, f.x")]


def write_clustering(conn: Connection, arrays: FaceArrays, person: np.ndarray) -> tuple[int, int]:
    """Write a clustering result (a person label per face of ``arrays``; negative labels are
    new people), re-checking each change against the library as it is now: a face the person
    moved, rejected, or put in a person they named since the faces were read keeps the
    person's choice. Returns (faces moved, people removed)."""
    new_ids: dict[int, int] = {}
    changed = np.nonzero(person != arrays.person)[0]
    moved = 0
    touched: set[int] = set()
    went: dict[int, set[int]] = {}     # old person -> the people its faces went to
    for i in changed:
        label = int(person[i])
        if label < 0 and label not in new_ids:
            new_ids[label] = new_person(conn)
        target = new_ids.get(label, label) or None
        face_id, old = int(arrays.ids[i]), int(arrays.person[i]) or None
        conn.execute(
            "UPDATE faces SET person_id = ?1, assigned = CASE WHEN ?1 IS NULL THEN NULL "
            "ELSE 'auto' END WHERE id = ?2 AND person_id IS ?3 AND coalesce(assigned, '') != "
            "'user' AND NOT EXISTS (SELECT 1 FROM people WHERE id = ?3 AND name IS NOT NULL) "
            "AND (?1 IS NULL OR (EXISTS (SELECT 1 FROM people WHERE id = ?1) AND "
            "NOT EXISTS (SELECT 1 FROM face_rejections WHERE face_id = ?2 AND person_id = ?1) "
            "AND NOT EXISTS (SELECT 1 FROM faces g WHERE g.photo_id = faces.photo_id AND "
            "g.id != ?2 AND g.person_id = ?1)))", (target, face_id, old))
        if conn.raw.changes():
            moved += 1
            touched.add(int(arrays.photo[i]))
            if old is not None and target is not None:
                went.setdefault(old, set()).add(target)
    # A person re-clustering folded into others is the same human under another id: what was
    # said about them ("not this person") moves with them before the empty row goes, and a
    # face it names leaves the person it now applies to.
    for old, targets in went.items():
        if conn.one("SELECT 1 FROM faces WHERE person_id = ?", (old,)):
            continue
        for target in targets:
            conn.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at, kind) "
                         "SELECT face_id, ?, at, kind FROM face_rejections WHERE person_id = ?",
                         (target, old))
            evicted = [int(r[0]) for r in conn.execute(
                "SELECT f.photo_id FROM faces f JOIN face_rejections r ON r.face_id = f.id "
                "AND r.person_id = f.person_id WHERE f.person_id = ?", (target,))]
            conn.execute(
                "UPDATE faces SET person_id = NULL, assigned = NULL WHERE person_id = ? AND "
                "id IN (SELECT face_id FROM face_rejections WHERE person_id = ?)",
                (target, target))
            touched.update(evicted)
    touched.update(enforce_apart(conn))
    removed = prune_people(conn)
    if touched:
        refresh_names(conn, touched)
    return moved, removed
