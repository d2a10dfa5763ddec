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

import numpy as np

from glimpse_desktop.kernel import fts, vectors
from glimpse_desktop.kernel.db import Connection, now_iso

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
    old = conn.rows("SELECT id, x, y, w, h, person_id, assigned FROM faces WHERE photo_id = ?",
                    (photo_id,))
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
        fts.refresh(conn, chunk)


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
        "WHERE f.model_id = ? ORDER BY f.id", (model_id,)).fetchall()
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
