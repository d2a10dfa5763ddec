"""Faces without a person: the faces that wait, grouped by likeness so that a person can name
or dismiss them in bulk, and the faces the person ignored (strangers in the background).

``WaitingFaceActions`` is a part of ``People`` (``Library.people``): it reads the faces the way the
clustering does (stored embeddings, the pack's thresholds) and writes through the same writer,
each action in one transaction. An ignored face (``faces.ignored_at``) is in no person, is never
clustered, grouped or counted as waiting, and is listed by ``ignored_faces`` until the ignore
is taken back.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from glimpse_desktop.faces import clustering, store
from glimpse_desktop.faces.records import (
    Face,
    FacesApart,
    FacesIgnored,
    FaceSkipped,
    FacesNamed,
    PersonRef,
    WaitingFaces,
    WaitingGroup,
)
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer, now_iso

if TYPE_CHECKING:
    from glimpse_desktop.kernel.registry import FacePack

# How good a face is to show first: the order People's covers use (sharp, frontal, large,
# confident; faces fit to found a person before the rest).
_QUALITY = ("f.seeds * 2.0 + (min(f.size_px, 160) / 160.0) * f.score "
            "* (1.0 - min(abs(f.yaw), 90.0) / 90.0)")


@dataclass
class _Grouped:
    """The last grouping: face ids (ascending) and their group labels."""

    key: tuple[str, float, int]
    ids: np.ndarray
    labels: np.ndarray


class WaitingFaceActions:
    """The waiting-faces part of ``People`` (mixed into it; see ``faces.people``)."""

    # Provided by People.
    reader: Callable[[], Connection]
    writer: Writer
    _vectors: dict[str, store.VectorCache]

    if TYPE_CHECKING:
        def pack(self) -> FacePack: ...
        def params(self) -> clustering.Params: ...
        def person_ref(self, ref: int | str, conn: Connection | None = None) -> PersonRef: ...
        def _face_out(self, row: store.StoredFace) -> Face: ...

    _grouped: _Grouped | None = None
    _grouping_lock = threading.Lock()

    # ------------------------------------------------------------------ reading

    def waiting_faces(self, *, offset: int = 0, limit: int | None = None) -> WaitingFaces:
        """The faces in no person (ignored ones left out), grouped by likeness: largest
        groups first, groups of one included, each group's faces best first. ``offset`` and
        ``limit`` page through the groups (a library can hold 100,000s of strangers)."""
        if offset < 0 or (limit is not None and limit < 0):
            raise _error("offset and limit cannot be negative", "faces.bad_page",
                         {"offset": offset, "limit": limit})
        conn = self.reader()
        with conn.transaction("DEFERRED"):     # one snapshot of faces and links
            rows = [(int(r[0]), int(r[1]), str(r[2]), float(r[3])) for r in conn.execute(
                f"SELECT f.id, f.photo_id, f.model_id, {_QUALITY} FROM faces f "
                f"WHERE f.person_id IS NULL AND f.ignored_at IS NULL AND {store.NOT_TRASHED} "
                "ORDER BY f.id")]
            apart_rows = _apart_rows(conn)
            ignored = int(conn.one("SELECT count(*) FROM faces WHERE ignored_at IS NOT NULL"))
            labels, ids, quality = self._group(conn, rows, apart_rows)
        total = int(labels.max()) + 1 if labels.size else 0
        # Groups in label order (largest first); faces in a group best first.
        order = np.lexsort((ids, -quality, labels))
        starts = np.searchsorted(labels[order], np.arange(total + 1))
        stop = total if limit is None else min(total, offset + limit)
        wanted = [order[starts[g]:starts[g + 1]] for g in range(min(offset, total), stop)]
        faces = _faces_by_id(conn, [int(ids[i]) for part in wanted for i in part])
        groups = []
        photo_of = {int(r[0]): int(r[1]) for r in rows}
        for part in wanted:
            members = tuple(self._face_out(faces[int(ids[i])]) for i in part
                            if int(ids[i]) in faces)
            if members:
                groups.append(WaitingGroup(
                    faces=members,
                    photos=len({photo_of[int(ids[i])] for i in part})))
        return WaitingFaces(groups=tuple(groups), total_groups=total, faces=len(rows),
                            ignored=ignored)

    def _group(self, conn: Connection, rows: list[tuple[int, int, str, float]],
               apart_rows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(labels, face ids, quality) of the waiting faces, in face id order."""
        n = len(rows)
        ids = np.fromiter((int(r[0]) for r in rows), np.int64, n)
        photo = np.fromiter((int(r[1]) for r in rows), np.int64, n)
        quality = np.fromiter((float(r[3]) for r in rows), np.float64, n)
        if n == 0:
            return np.zeros(0, np.int64), ids, quality
        pack = self.pack()
        params = self.params()
        digest = hashlib.blake2b(np.asarray(apart_rows, dtype=np.int64).tobytes(),
                                 digest_size=8).digest()
        key = (pack.id, params.found, int.from_bytes(digest, "little"))
        with self._grouping_lock:
            cached = self._grouped
            if cached is not None and cached.key == key and cached.ids.size:
                # Faces only left (named, ignored) since the last grouping: the groups that
                # remain are still right, and a large library is not grouped again.
                pos = np.minimum(np.searchsorted(cached.ids, ids), cached.ids.size - 1)
                if bool((cached.ids[pos] == ids).all()):
                    return _ranked(cached.labels[pos]), ids, quality
            labels = self._compute(conn, pack, params, ids, photo, rows, apart_rows)
            self._grouped = _Grouped(key=key, ids=ids, labels=labels)
            return labels, ids, quality

    def _compute(self, conn: Connection, pack: FacePack, params: clustering.Params,
                 ids: np.ndarray, photo: np.ndarray, rows: list[tuple[int, int, str, float]],
                 apart_rows: list[tuple[int, int]]) -> np.ndarray:
        n = ids.size
        labels = np.full(n, -1, dtype=np.int64)
        ours = np.fromiter((r[2] == pack.id for r in rows), np.bool_, n)
        table = store.face_table(conn, pack.id)
        if table is not None and ours.any():
            cache = self._vectors.setdefault(table, store.VectorCache(pack.dim))
            cache.update(conn, table)
            vectors, have = cache.lookup(ids)
            use = np.flatnonzero(ours & have)
            where = {int(f): k for k, f in enumerate(ids[use].tolist())}
            apart = [(where[a], where[b]) for a, b in apart_rows if a in where and b in where]
            labels[use] = clustering.group_waiting(
                vectors[use], photo[use], params,
                np.asarray(apart, dtype=np.int64).reshape(-1, 2))
        # Faces of another pack (before the photos are looked at again), or without a vector:
        # each a group of its own.
        alone = np.flatnonzero(labels < 0)
        labels[alone] = labels.max(initial=-1) + 1 + np.arange(alone.size)
        return _ranked(labels)

    def ignored_faces(self, *, limit: int | None = None) -> list[Face]:
        """The faces the person ignored, the most recently ignored first."""
        conn = self.reader()
        ids = [int(r[0]) for r in conn.execute(
            "SELECT id FROM faces WHERE ignored_at IS NOT NULL ORDER BY ignored_at DESC, id "
            "DESC LIMIT ?", (-1 if limit is None else int(limit),))]
        found = _faces_by_id(conn, ids)
        return [self._face_out(found[i]) for i in ids if i in found]

    # ------------------------------------------------------------------ the person's actions

    def name_faces(self, face_ids: Sequence[int], name: str) -> FacesNamed:
        """Put faces in the person called ``name`` (made if nobody has the name yet), placed
        by hand (clustering keeps them there). A person is in a photo once: a face whose
        photo the person already has a face in, or whose photo an earlier face of
        ``face_ids`` is in, is skipped and said why (``FacesNamed.skipped``)."""
        from glimpse_desktop.faces.people import _clean_name

        name = _clean_name(name)
        wanted = _face_list(face_ids)

        def apply(c: Connection) -> FacesNamed:
            named = store.person_named(c, name)
            created = named is None
            person_id = store.new_person(c, name) if named is None else named.id
            return _place_all(c, wanted, person_id,
                              name if named is None else named.name, created)

        return self.writer.call(apply)

    def add_faces(self, face_ids: Sequence[int], ref: int | str) -> FacesNamed:
        """Put faces in an existing person (by id or name), as ``name_faces`` does."""
        wanted = _face_list(face_ids)

        def apply(c: Connection) -> FacesNamed:
            person = self.person_ref(ref, c)
            return _place_all(c, wanted, person.id, person.name, False)

        return self.writer.call(apply)

    def ignore_faces(self, face_ids: Sequence[int], *, undo: bool = False) -> FacesIgnored:
        """"Ignore this face": a stranger. The face leaves its person if it had one, is never
        clustered again, not shown or counted as waiting. With ``undo`` the faces wait again
        (clustering looks at them at its next pass)."""
        wanted = _face_list(face_ids)

        def apply(c: Connection) -> FacesIgnored:
            rows = [_known(c, f) for f in wanted]
            changed: list[int] = []
            left: list[int] = []
            touched: list[int] = []
            now = now_iso()
            for row in rows:
                if row.ignored != undo:
                    continue                 # already as asked
                if undo:
                    c.execute("UPDATE faces SET ignored_at = NULL, swept = 0 WHERE id = ?",
                              (row.id,))
                else:
                    if row.person_id is not None:
                        c.execute("UPDATE faces SET person_id = NULL, assigned = NULL "
                                  "WHERE id = ?", (row.id,))
                        store.drop_cover(c, row.person_id, row.id)
                        left.append(row.id)
                        touched.append(row.photo_id)
                    c.execute("UPDATE faces SET ignored_at = ? WHERE id = ?", (now, row.id))
                changed.append(row.id)
            if touched:
                store.refresh_names(c, touched)
                store.prune_people(c)
            return FacesIgnored(faces=tuple(changed), undo=undo, left=tuple(left))

        return self.writer.call(apply)

    def keep_apart(self, face_ids: Sequence[int], others: Sequence[int]) -> FacesApart:
        """"Not the same person": ``face_ids`` are not the person of ``others`` (say, a face
        dropped out of a group of waiting faces). Remembered for good: they are never grouped
        or clustered together again (until one of them is put in the other's person by
        hand)."""
        wanted = _face_list(face_ids)
        rest = [o for o in dict.fromkeys(int(o) for o in others) if o not in set(wanted)]
        if not rest:
            raise _error("name the faces they are not the same person as",
                         "faces.none_given", {})
        rest = rest[:store.APART_LIMIT]

        def apply(c: Connection) -> FacesApart:
            for f in (*wanted, *rest):
                _known(c, f)
            before = c.raw.total_changes()
            c.executemany("INSERT OR IGNORE INTO face_apart(face_id, other_id, kind) "
                          "VALUES (?, ?, 'user')", [(f, o) for f in wanted for o in rest])
            return FacesApart(faces=tuple(wanted), others=tuple(rest),
                              pairs=c.raw.total_changes() - before)

        result = self.writer.call(apply)
        with self._grouping_lock:
            # The faces leave their groups at once (each alone), without grouping the whole
            # library again: what the next full grouping would say about them.
            cached = self._grouped
            if cached is not None:
                pos = np.searchsorted(cached.ids, np.asarray(wanted, dtype=np.int64))
                pos = pos[pos < cached.ids.size]
                pos = pos[np.isin(cached.ids[pos], wanted)]
                labels = cached.labels.copy()
                labels[pos] = labels.max(initial=-1) + 1 + np.arange(pos.size)
                self._grouped = None
                apart_rows = _apart_rows(self.reader())
                digest = hashlib.blake2b(np.asarray(apart_rows, dtype=np.int64).tobytes(),
                                         digest_size=8).digest()
                self._grouped = _Grouped(
                    key=(cached.key[0], cached.key[1], int.from_bytes(digest, "little")),
                    ids=cached.ids, labels=_ranked(labels))
        return result


# ---------------------------------------------------------------------------- helpers


def _error(message: str, code: str, values: dict[str, object]) -> LibraryError:
    from glimpse_desktop.faces.people import PeopleError

    return PeopleError(message, code=code, values=values)


def _face_list(face_ids: Sequence[int]) -> list[int]:
    try:
        wanted = list(dict.fromkeys(int(f) for f in face_ids))
    except (TypeError, ValueError) as exc:
        raise _error(f"a face is given by its id (a number): {exc}", "faces.bad_id",
                     {}) from exc
    if not wanted:
        raise _error("name the faces", "faces.none_given", {})
    return wanted


def _apart_rows(conn: Connection) -> list[tuple[int, int]]:
    """The pairs of waiting faces said not to be the same person."""
    return [(int(a), int(b)) for a, b in conn.execute(
        "SELECT l.face_id, l.other_id FROM face_apart l "
        "JOIN faces a ON a.id = l.face_id JOIN faces b ON b.id = l.other_id "
        "WHERE a.person_id IS NULL AND b.person_id IS NULL "
        "AND a.ignored_at IS NULL AND b.ignored_at IS NULL ORDER BY 1, 2")]


def _known(conn: Connection, face_id: int) -> store.StoredFace:
    row = store.face(conn, face_id)
    if row is None:
        raise _error(f"no face {face_id}", "faces.unknown", {"face": face_id})
    return row


def _ranked(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0, 1, ... by group size (largest first), ties by first face."""
    if labels.size == 0:
        return labels
    uniq, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    first = np.full(uniq.size, labels.size, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(labels.size))
    rank = np.empty(uniq.size, dtype=np.int64)
    rank[np.lexsort((first, -sizes))] = np.arange(uniq.size)
    return rank[inverse].astype(np.int64)


def _faces_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, store.StoredFace]:
    out: dict[int, store.StoredFace] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        for row in conn.execute(f"{store._FACE} WHERE f.id IN ({','.join('?' * len(chunk))})",
                                chunk):
            face = store._face(row)
            out[face.id] = face
    return out


def _place_all(c: Connection, wanted: list[int], person_id: int, name: str | None,
               created: bool) -> FacesNamed:
    """Put the faces in the person, in the order given, one face per photo (inside a write)."""
    taken = {int(r[0]): int(r[1]) for r in c.execute(
        "SELECT photo_id, id FROM faces WHERE person_id = ?", (person_id,))}
    added: list[int] = []
    already: list[int] = []
    skipped: list[FaceSkipped] = []
    touched: list[int] = []
    for face_id in wanted:
        row = store.face(c, face_id)
        if row is None:
            skipped.append(FaceSkipped(face=face_id, reason="unknown"))
            continue
        if row.person_id == person_id:
            already.append(row.id)
            continue
        other = taken.get(row.photo_id)
        if other is not None:
            skipped.append(FaceSkipped(face=row.id, reason="same_photo", other=other))
            continue
        store.bring_together(c, row.id, person_id)
        store.place(c, row.id, person_id)
        if row.person_id is not None:
            store.drop_cover(c, row.person_id, row.id)
        taken[row.photo_id] = row.id
        added.append(row.id)
        touched.append(row.photo_id)
    if created and not added and not already:
        # Nothing could be put in the new person: no empty person is left behind.
        store.delete_person(c, person_id)
    if touched:
        store.refresh_names(c, touched)
        store.prune_people(c)
    return FacesNamed(person=person_id, name=name, created=created and bool(added),
                      added=tuple(added), already=tuple(already), skipped=tuple(skipped))
