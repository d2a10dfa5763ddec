"""People: faces found at ingestion, grouped into people, and what a person does with them.

The face pack (``faces.pack``) and clustering thresholds are library settings. Clustering runs
after every indexing job (new faces join people or wait for enough similar faces), and fully
from stored embeddings with ``recluster``. Every action here is the person's own and is never
undone by clustering: a name makes a person an anchor, faces moved by hand stay where they
were put, and "not this person" is remembered for good.
"""

from __future__ import annotations

import csv
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from glimpse_desktop.faces import clustering, store
from glimpse_desktop.faces.models import DEFAULT_PACK, FaceModels
from glimpse_desktop.faces.stage import FaceCrops, FaceStage, backlog_count
from glimpse_desktop.kernel import photos
from glimpse_desktop.kernel.config import get_setting, set_setting
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer, now_iso
from glimpse_desktop.kernel.messages import Notice, notice_of
from glimpse_desktop.kernel.registry import FacePack, ModelError, Registry

PACK_KEY = "faces.pack"
ENABLED_KEY = "faces.enabled"
# Faces needed to found a new person (Immich's minFaces default). The similarity thresholds
# come with each face pack (models/manifest.json); how the default pack's were chosen is in
# the README ("People").
DEFAULT_MIN_FACES = 3


class PeopleError(LibraryError):
    """A people action that cannot be done as asked; the message says why."""


@dataclass
class ClusterReport:
    faces: int = 0
    joined: int = 0
    founded: int = 0
    waiting: int = 0
    moved: int = 0
    removed: int = 0


class People:
    """Faces and people of one library (thread-safe; clustering passes run one at a time)."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer, cache_dir: Path,
                 registry: Registry, threads: int | None = None) -> None:
        self.reader = reader
        self.writer = writer
        self.registry = registry
        self.crops = FaceCrops(Path(cache_dir) / "faces")
        self._threads = threads
        self._models: dict[str, FaceModels] = {}
        self._lock = threading.Lock()
        self._cluster_lock = threading.Lock()
        self._last_pass: tuple[Any, ...] | None = None
        self._vectors: dict[str, store.VectorCache] = {}
        # Why faces cannot be found right now, if they cannot (said by each front end).
        self.problem: Notice | None = None

    # ------------------------------------------------------------------ models and settings

    def pack(self) -> FacePack:
        """The face pack this library uses (setting ``faces.pack``)."""
        return self.registry.face_pack(get_setting(self.reader(), PACK_KEY) or DEFAULT_PACK)

    def models(self, pack: FacePack | None = None) -> FaceModels:
        """The loaded-on-demand models of a pack (a clear ModelError when not installed)."""
        pack = pack or self.pack()
        digests = self.registry.face_installed(pack)
        if digests is None:
            raise self.registry.face_missing(pack)
        with self._lock:
            if pack.id not in self._models:
                self._models[pack.id] = FaceModels(pack, folder=self.registry.face_folder(pack),
                                                   digests=digests, threads=self._threads)
            return self._models[pack.id]

    def unload_idle(self, idle_seconds: float) -> list[str]:
        """Free face models unused for ``idle_seconds``; they load again when next needed."""
        now = time.monotonic()
        with self._lock:
            idle = [m for m in self._models.values()
                    if m.loaded and now - m.last_used > idle_seconds]
        for models in idle:
            models.unload()
        return [m.model_id for m in idle]

    def use_pack(self, pack_id: str) -> dict[str, Any]:
        """Switch face pack. Photos are looked at again by the next `index` (in the
        background with the watcher); each new face takes over the person and rejections of
        the old face it overlaps, so names are kept."""
        pack = self.registry.face_pack(pack_id)
        if self.registry.face_installed(pack) is None:
            raise self.registry.face_missing(pack)

        def apply(c: Connection) -> None:
            set_setting(c, PACK_KEY, pack.id)
            _forget_face_errors(c)   # another pack may well read what this one could not

        self.writer.call(apply)
        return self.status()

    def enabled(self) -> bool:
        return get_setting(self.reader(), ENABLED_KEY) != "0"

    def set_enabled(self, on: bool) -> None:
        def apply(c: Connection) -> None:
            set_setting(c, ENABLED_KEY, "1" if on else "0")
            if on:
                _forget_face_errors(c)

        self.writer.call(apply)

    def _keys(self, pack: FacePack) -> dict[str, str]:
        # Thresholds are per pack: one recogniser's similarities mean nothing to another's.
        return {name: f"faces.{name}.{pack.id}" for name in ("join", "found", "min_faces")}

    def params(self) -> clustering.Params:
        """The clustering thresholds for the pack in use (settings over the pack's defaults)."""
        conn = self.reader()
        pack = self.pack()
        defaults = {"join": pack.join, "found": pack.found, "min_faces": DEFAULT_MIN_FACES}
        values: dict[str, float] = {}
        for name, key in self._keys(pack).items():
            raw = get_setting(conn, key)
            try:
                values[name] = float(raw) if raw is not None else float(defaults[name])
            except ValueError:
                values[name] = float(defaults[name])
        return clustering.Params(join=values["join"], found=values["found"],
                                 min_faces=max(1, int(values["min_faces"])))

    def set_threshold(self, join: float | None = None, found: float | None = None,
                      min_faces: int | None = None) -> clustering.Params:
        keys = self._keys(self.pack())
        for name, val in (("join", join), ("found", found), ("min_faces", min_faces)):
            if val is None:
                continue
            if name != "min_faces" and not 0.0 < float(val) < 1.0:
                raise PeopleError(f"a similarity threshold is between 0 and 1, not {val}")
            if name == "min_faces" and int(val) < 1:
                raise PeopleError(f"a person needs at least one face, not {val}")
            self._set(keys[name], str(val))
        return self.params()

    def _set(self, key: str, value: str) -> None:
        self.writer.call(lambda c: set_setting(c, key, value))

    def stage(self) -> FaceStage | None:
        """The ingestion stage, or None when faces are turned off or the pack is missing."""
        self.problem = None
        if not self.enabled():
            return None
        try:
            models = self.models()
            models.load()
        except ModelError as exc:
            # Said by `status`, `doctor` and `index`; everything else keeps working.
            self.problem = notice_of(exc)
            return None
        pack = models.pack
        # The vector table exists before the first photo is written: its creation failing
        # (a full disk) must not cost the photos of the batch that would have made it.
        table = self.writer.call(lambda c: store.space(c, pack.id, pack.dim))
        return FaceStage(models, self.crops, lambda c: table)

    def _table(self, conn: Connection, pack: FacePack) -> str | None:
        name = conn.one("SELECT table_name FROM embedding_spaces WHERE model_id = ? "
                        "AND kind = 'face'", (pack.id,))
        return None if name is None else str(name)

    # ------------------------------------------------------------------ background work

    def cannot_find(self) -> ModelError | None:
        """Why faces cannot be found now (faces on, the pack missing or broken), as the error
        a job that needs them raises; None when they can (or are turned off)."""
        if self.problem is None:
            return None
        return ModelError(f"faces cannot be found: {self.problem}", code=self.problem.code,
                          values=self.problem.values)

    def backlog(self) -> int:
        """Photos the pack in use has not looked at yet."""
        return backlog_count(self.reader(), self.pack().id)

    def _arrays(self) -> tuple[FacePack, store.FaceArrays] | None:
        pack = self.pack()
        conn = self.reader()
        table = self._table(conn, pack)
        if table is None:
            return None
        cache = self._vectors.setdefault(table, store.VectorCache(pack.dim))
        return pack, store.load(conn, pack.id, table, pack.dim, cache)

    def _run(self, full: bool, params: clustering.Params | None) -> ClusterReport:
        with self._cluster_lock:
            loaded = self._arrays()
            if loaded is None:
                return ClusterReport()
            pack, arrays = loaded
            params = params or self.params()
            faces = clustering.Faces(vectors=arrays.vectors, photo=arrays.photo,
                                     person=arrays.person, seeds=arrays.seeds,
                                     fixed=arrays.fixed, rejected=arrays.rejected)
            waiting = arrays.person == 0
            fresh = arrays.fresh if arrays.fresh is not None else waiting
            # After a batch of new faces only they (and their surroundings) need a look; a
            # change of thresholds, or many new faces at once, calls for the whole sweep.
            # Once a day the whole sweep runs anyway: waiting faces may by now be close enough
            # to a person who has grown since they were last looked at.
            swept_key = f"faces.swept_params.{pack.id}"
            sweep_key = f"faces.full_sweep_at.{pack.id}"
            same_params = get_setting(self.reader(), swept_key) == repr(vars(params))
            try:
                recent = time.time() - float(get_setting(self.reader(), sweep_key) or 0) < 86400
            except ValueError:
                recent = False
            focused = (not full and same_params and recent
                       and int(np.count_nonzero(fresh)) * 10
                       < max(1, int(np.count_nonzero(waiting))))
            looked = waiting.copy()
            if full:
                result = clustering.recluster(faces, params)
            elif focused:
                # The new faces and the waiting faces around them may join people or found
                # one together; only they count as looked at.
                new = np.flatnonzero(fresh)
                near = clustering.neighbourhood(faces, params, new)
                result = clustering.assign(faces, params, candidates=near, focus=new)
                looked = np.zeros_like(waiting)
                looked[near] = True
            else:
                result = clustering.assign(faces, params)
            # Never write a result that breaks a promise to the person. (Only what this pass
            # changes is judged: a state left by an older version must not stop clustering.)
            before = set(clustering.check(faces, faces.person))
            problems = [p for p in clustering.check(faces, result.person) if p not in before]
            if problems:
                raise PeopleError("clustering produced an inconsistent result: "
                                  + "; ".join(problems[:3]))
            # Marked only if still waiting after the pass (a face placed and then taken out
            # again in the same write is left for the next pass to look at).
            swept = arrays.ids[looked & waiting & (result.person == 0)]

            def write(c: Connection) -> dict[str, Any]:
                out = _apply(c, arrays, result.person)
                store.mark_swept(c, swept.tolist())
                set_setting(c, swept_key, repr(vars(params)))
                if not focused:
                    set_setting(c, sweep_key, repr(time.time()))
                return out

            applied = self.writer.call(write)
            return ClusterReport(faces=len(arrays.ids), joined=result.joined,
                                 founded=result.founded, waiting=result.waiting,
                                 moved=applied["moved"], removed=applied["removed"])

    def cluster(self) -> ClusterReport:
        """The incremental pass: waiting faces join the nearest person or found new ones.

        Skipped when nothing it depends on changed since the last pass in this process (the
        same faces in the same people, the same rejections and thresholds): the watcher calls
        it after every batch, and a pass over a large library reads every face vector."""
        before = self._signature()
        if before == self._last_pass:
            return ClusterReport(waiting=int(before[-1]))
        report = self._run(False, None)
        self._last_pass = self._signature()
        return report

    def _signature(self) -> tuple[Any, ...]:
        conn = self.reader()
        pack = self.pack()
        faces = conn.execute(
            "SELECT count(*), total(id), total(coalesce(person_id, 0) * (id % 1000003)), "
            "count(*) FILTER (WHERE person_id IS NULL) FROM faces WHERE model_id = ?",
            (pack.id,)).fetchone()
        others = conn.execute(
            "SELECT (SELECT count(*) FROM face_rejections), (SELECT count(*) FROM face_apart), "
            "(SELECT count(*) FROM people), "
            "(SELECT coalesce(max(updated_at), '') FROM people)").fetchone()
        return (pack.id, tuple(vars(self.params()).items()), *tuple(others or ()),
                *tuple(faces or ()))

    def recluster(self, *, join: float | None = None, found: float | None = None,
                  min_faces: int | None = None, remember: bool = True) -> ClusterReport:
        """Cluster again from stored embeddings (no re-detection), keeping names, faces placed
        by hand, and every rejection. New thresholds are remembered unless ``remember`` is off."""
        params = self.params()
        params = clustering.Params(join=params.join if join is None else join,
                                   found=params.found if found is None else found,
                                   min_faces=params.min_faces if min_faces is None
                                   else min_faces)
        if remember and (join is not None or found is not None or min_faces is not None):
            self.set_threshold(join, found, min_faces)
        return self._run(True, params)

    # ------------------------------------------------------------------ reading

    def person_ref(self, ref: int | str, conn: Connection | None = None) -> dict[str, Any]:
        """A person by id or by name (case-insensitive)."""
        conn = conn or self.reader()
        row = None
        text = " ".join(str(ref).split())
        unnamed = re.fullmatch(r"(?i)unnamed (\d+)", text)
        if isinstance(ref, int) or text.isdigit() or unnamed:
            row = conn.row("SELECT * FROM people WHERE id = ?",
                           (int(unnamed.group(1) if unnamed else text),))
        if row is None:
            row = conn.row("SELECT * FROM people WHERE name = ? COLLATE NOCASE", (text,))
        if row is None and text:
            # A first name (or the first words of a name) that only one person has.
            like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            found = conn.rows("SELECT * FROM people WHERE name LIKE ? ESCAPE '\\' LIMIT 2",
                              (like + " %",))
            if len(found) == 1:
                row = found[0]
            elif found:
                raise PeopleError(f"more than one person is called {text!r}: use the full "
                                  "name or the person's id")
        if row is None:
            raise PeopleError(f"no person {ref!r}", code="people.unknown",
                              values={"person": ref})
        return row

    def _face(self, conn: Connection, face_id: int) -> dict[str, Any]:
        row = conn.row("SELECT * FROM faces WHERE id = ?", (int(face_id),))
        if row is None:
            raise PeopleError(f"no face {face_id}", code="faces.unknown",
                              values={"face": face_id})
        return row

    def list_people(self, *, include_hidden: bool = False, include_waiting: bool = False
             ) -> list[dict[str, Any]]:
        """People with their face and photo counts and cover, named first, then the most
        photographed. Hidden people, and named people left without faces, only with
        ``include_hidden``."""
        conn = self.reader()
        rows = conn.rows(
            f"""SELECT p.id, p.name, p.hidden, p.cover_face_id,
                      count(f.id) AS faces, count(DISTINCT f.photo_id) AS photos
               FROM people p LEFT JOIN faces f ON f.person_id = p.id
               {'' if include_hidden else 'WHERE p.hidden = 0'}
               GROUP BY p.id
               {'' if include_hidden else 'HAVING count(f.id) > 0'}
               ORDER BY p.name IS NULL, count(DISTINCT f.photo_id) DESC, p.id""")
        for row in rows:
            row["hidden"] = bool(row["hidden"])
            row["cover"] = self._cover(conn, row["id"], row["cover_face_id"])
            row.pop("cover_face_id")
        if include_waiting:
            waiting = conn.one("SELECT count(*) FROM faces WHERE person_id IS NULL")
            rows.append({"id": None, "name": None, "hidden": False, "faces": waiting,
                         "photos": conn.one("SELECT count(DISTINCT photo_id) FROM faces "
                                            "WHERE person_id IS NULL"), "cover": None})
        return rows

    def _cover(self, conn: Connection, person_id: int, chosen: int | None
               ) -> dict[str, Any] | None:
        """The chosen cover face, or the best one: sharp, frontal, large, confident."""
        row = None
        if chosen is not None:
            row = conn.row("SELECT * FROM faces WHERE id = ? AND person_id = ?",
                           (chosen, person_id))
        if row is None:
            row = conn.row(
                "SELECT * FROM faces WHERE person_id = ? ORDER BY seeds DESC, "
                "(min(size_px, 160) / 160.0) * score * (1.0 - abs(yaw) / 90.0) DESC, id "
                "LIMIT 1", (person_id,))
        return None if row is None else self._face_out(conn, row)

    def _face_out(self, conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
        photo = conn.row("SELECT path, content_hash FROM photos WHERE id = ?",
                         (row["photo_id"],))
        box = (row["x"], row["y"], row["w"], row["h"])
        crop = self.crops.path_for(photo["content_hash"], box) if photo else None
        return {"face": row["id"], "photo": row["photo_id"],
                "path": photo["path"] if photo else None,
                "box": [round(v, 4) for v in box], "score": round(row["score"], 3),
                "size_px": row["size_px"], "seeds": bool(row["seeds"]),
                "person": row["person_id"], "assigned": row["assigned"],
                "crop": str(crop) if crop is not None and crop.is_file() else None}

    def show(self, ref: int | str) -> dict[str, Any]:
        """A person, their faces and their photos (newest first)."""
        conn = self.reader()
        person = self.person_ref(ref, conn)
        faces = conn.rows(
            "SELECT f.* FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.person_id = ? "
            "ORDER BY p.taken_ts DESC, f.id", (person["id"],))
        return {"id": person["id"], "name": person["name"], "hidden": bool(person["hidden"]),
                "cover": self._cover(conn, person["id"], person["cover_face_id"]),
                "faces": [self._face_out(conn, f) for f in faces],
                "photos": self._photos(conn, person["id"])}

    def _photos(self, conn: Connection, person_id: int) -> list[dict[str, Any]]:
        return conn.rows(
            "SELECT DISTINCT p.id, p.path, p.taken_at, p.status FROM photos p "
            "JOIN faces f ON f.photo_id = p.id WHERE f.person_id = ? "
            "ORDER BY p.taken_ts DESC, p.id DESC", (person_id,))

    def find(self, name: str) -> list[dict[str, Any]]:
        """Every photo of a person (by name or id), newest first."""
        conn = self.reader()
        return self._photos(conn, self.person_ref(name, conn)["id"])

    def photo_faces(self, photo_ref: int | str) -> list[dict[str, Any]]:
        """The faces in one photo with their people (what the viewer draws)."""
        conn = self.reader()
        photo = photos.get_photo(conn, photo_ref)
        if photo is None:
            raise PeopleError(f"no photo {photo_ref} in this library")
        out = []
        for row in conn.rows("SELECT * FROM faces WHERE photo_id = ? ORDER BY x",
                             (photo["id"],)):
            face = self._face_out(conn, row)
            face["name"] = conn.one("SELECT name FROM people WHERE id = ?",
                                    (row["person_id"],)) if row["person_id"] else None
            out.append(face)
        return out

    def status(self) -> dict[str, Any]:
        conn = self.reader()
        pack = self.pack()
        return {
            "enabled": self.enabled(),
            "pack": pack.id,
            "installed": self.registry.face_installed(pack) is not None,
            "problem": self.problem,
            "faces": int(conn.one("SELECT count(*) FROM faces")),
            "people": int(conn.one("SELECT count(*) FROM people WHERE hidden = 0")),
            "named": int(conn.one("SELECT count(*) FROM people WHERE name IS NOT NULL")),
            "waiting": int(conn.one("SELECT count(*) FROM faces WHERE person_id IS NULL")),
            "backlog": backlog_count(conn, pack.id),
            "thresholds": vars(self.params()),
        }

    # ------------------------------------------------------------------ the person's actions

    def name(self, ref: int | str, name: str) -> dict[str, Any]:
        """Name (or rename) a person. A name already used by someone else is refused with
        the merge that would join them."""
        name = _clean_name(name)

        def apply(c: Connection) -> dict[str, Any]:
            person = self.person_ref(ref, c)
            other = c.row("SELECT id FROM people WHERE name = ? COLLATE NOCASE AND id != ?",
                          (name, person["id"]))
            if other is not None:
                raise PeopleError(f"{name!r} is already person {other['id']}",
                                  code="people.name_taken",
                                  values={"name": name, "other": other["id"],
                                          "person": person["id"]})
            c.execute("UPDATE people SET name = ?, updated_at = ? WHERE id = ?",
                      (name, now_iso(), person["id"]))
            store.refresh_names(c, store.photos_of_people(c, [person["id"]]))
            return {"id": person["id"], "name": name, "was": person["name"]}

        return self.writer.call(apply)

    def merge(self, into: int | str, *others: int | str) -> dict[str, Any]:
        """Join people into the first one: faces, rejections and (if it has none) the name.
        Where two of their faces share a photo, only one can be this person: the other is
        taken out (and remembered as "not this person")."""
        if not others:
            raise PeopleError("name at least two people to merge")

        def apply(c: Connection) -> dict[str, Any]:
            target = self.person_ref(into, c)
            sources = [self.person_ref(o, c) for o in others]
            if any(src["id"] == target["id"] for src in sources):
                raise PeopleError(f"person {target['id']} cannot be merged with itself")
            names = {s["name"] for s in sources if s["name"]}
            if target["name"] is None and len(names) > 1:
                raise PeopleError(f"those people have different names ({', '.join(names)}): "
                                  "name the one to keep first")
            now = now_iso()
            ids = [target["id"], *dict.fromkeys(src["id"] for src in sources)]
            marks = ",".join("?" * len(ids))
            # Merging people that were split apart undoes the split: what the split implied
            # about them goes. The person's own "not this person" is never undone: it holds for
            # the merged person, and a face it names leaves.
            c.execute(f"DELETE FROM face_rejections WHERE kind = 'split' AND person_id IN "
                      f"({marks}) AND face_id IN (SELECT id FROM faces WHERE person_id IN "
                      f"({marks}))", (*ids, *ids))
            c.execute(f"DELETE FROM face_apart WHERE kind = 'split' AND face_id IN (SELECT id "
                      f"FROM faces WHERE person_id IN ({marks})) AND other_id IN (SELECT id FROM "
                      f"faces WHERE person_id IN ({marks}))", (*ids, *ids))
            for src in ids[1:]:
                c.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at, kind) "
                          "SELECT face_id, ?, at, kind FROM face_rejections WHERE person_id = ?",
                          (target["id"], src))
            rejected = {int(r[0]) for r in c.execute(
                "SELECT face_id FROM face_rejections WHERE person_id = ?", (target["id"],))}
            rows = c.rows(
                f"SELECT id, photo_id FROM faces WHERE person_id IN ({marks}) ORDER BY "
                f"person_id != ?, seeds DESC, score DESC, id", (*ids, target["id"]))
            apart: dict[int, set[int]] = {}
            for a, b in c.execute(
                    f"SELECT face_id, other_id FROM face_apart WHERE face_id IN (SELECT id FROM "
                    f"faces WHERE person_id IN ({marks}))", ids):
                apart.setdefault(int(a), set()).add(int(b))
                apart.setdefault(int(b), set()).add(int(a))
            kept: set[int] = set()
            kept_faces: set[int] = set()
            detached = 0
            for row in rows:
                face_id, photo_id = int(row["id"]), int(row["photo_id"])
                if (face_id in rejected or photo_id in kept
                        or apart.get(face_id, set()) & kept_faces):
                    # Two of their faces share this photo: only one can be this person.
                    c.execute("UPDATE faces SET person_id = NULL, assigned = NULL WHERE id = ?",
                              (face_id,))
                    c.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at) "
                              "VALUES (?, ?, ?)", (face_id, target["id"], now))
                    detached += 1
                    continue
                kept.add(photo_id)
                kept_faces.add(face_id)
                # Merged by the person: these faces now belong where they were put.
                c.execute("UPDATE faces SET person_id = ?, assigned = 'user' WHERE id = ?",
                          (target["id"], face_id))
            c.executemany("DELETE FROM people WHERE id = ?", [(i,) for i in ids[1:]])
            if target["name"] is None and names:
                c.execute("UPDATE people SET name = ?, updated_at = ? WHERE id = ?",
                          (names.pop(), now, target["id"]))
            c.execute("UPDATE people SET updated_at = ? WHERE id = ?", (now, target["id"]))
            store.refresh_names(c, [int(r["photo_id"]) for r in rows])
            return {"id": target["id"], "merged": ids[1:], "faces": len(kept),
                    "detached": detached}

        return self.writer.call(apply)

    def split(self, ref: int | str, face_ids: Sequence[int]) -> dict[str, Any]:
        """Move faces out of a person into a new person of their own: they are not the old
        person, and the faces left behind are not the new one (both remembered)."""
        if not face_ids:
            raise PeopleError("name the faces to move", code="faces.none_given")

        face_ids = list(dict.fromkeys(int(f) for f in face_ids))

        def apply(c: Connection) -> dict[str, Any]:
            person = self.person_ref(ref, c)
            rows = [self._face(c, f) for f in face_ids]
            wrong = [r["id"] for r in rows if r["person_id"] != person["id"]]
            if wrong:
                raise PeopleError(f"face {wrong[0]} is not one of person {person['id']}'s")
            seen: set[int] = set()
            for r in rows:
                if int(r["photo_id"]) in seen:
                    raise PeopleError("two of those faces are in the same photo; they cannot "
                                      "be one person")
                seen.add(int(r["photo_id"]))
            now = now_iso()
            c.execute("INSERT INTO people(created_at, updated_at) VALUES (?, ?)", (now, now))
            new_id = int(c.raw.last_insert_rowid())
            for r in rows:
                c.execute("UPDATE faces SET person_id = ?, assigned = 'user' WHERE id = ?",
                          (new_id, r["id"]))
            for r in rows:   # all moved first: the moved faces are not kept from each other
                c.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at, kind) "
                          "VALUES (?, ?, ?, 'split')", (r["id"], person["id"], now))
                store.keep_apart(c, r["id"], person["id"], kind="split")
            # And the other way round: the faces left behind are not the new person, so a
            # re-cluster cannot pour them into it and undo the split.
            c.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at, kind) "
                      "SELECT id, ?, ?, 'split' FROM faces WHERE person_id = ?",
                      (new_id, now, person["id"]))
            if person["cover_face_id"] in {r["id"] for r in rows}:
                c.execute("UPDATE people SET cover_face_id = NULL WHERE id = ?", (person["id"],))
            store.refresh_names(c, [r["photo_id"] for r in rows])
            store.prune_people(c)
            return {"from": person["id"], "id": new_id, "faces": [r["id"] for r in rows]}

        return self.writer.call(apply)

    def reject(self, face_ids: Sequence[int], ref: int | str | None = None) -> dict[str, Any]:
        """"Not this person": take faces out of their person for good. They wait for
        clustering to find who they are (never that person again)."""
        def apply(c: Connection) -> dict[str, Any]:
            now = now_iso()
            done = []
            for face_id in face_ids:
                row = self._face(c, face_id)
                person_id: int | None = (int(self.person_ref(ref, c)["id"]) if ref is not None
                                         else row["person_id"])
                if person_id is None:
                    raise PeopleError(f"face {face_id} is not in any person")
                if row["person_id"] is not None and row["person_id"] != person_id:
                    raise PeopleError(f"face {face_id} is person {row['person_id']}'s, not "
                                      f"person {person_id}'s")
                c.execute("INSERT OR IGNORE INTO face_rejections(face_id, person_id, at) "
                          "VALUES (?, ?, ?)", (row["id"], person_id, now))
                store.keep_apart(c, row["id"], person_id)
                if row["person_id"] == person_id:
                    c.execute("UPDATE faces SET person_id = NULL, assigned = NULL WHERE id = ?",
                              (row["id"],))
                    c.execute("UPDATE people SET cover_face_id = NULL WHERE id = ? AND "
                              "cover_face_id = ?", (person_id, row["id"]))
                done.append({"face": row["id"], "person": person_id})
                store.refresh_names(c, [row["photo_id"]])
            store.prune_people(c)
            return {"rejected": done}

        return self.writer.call(apply)

    def assign_face(self, face_id: int, ref: int | str) -> dict[str, Any]:
        """Put a face in a person by hand (the viewer's "this is ...")."""
        def apply(c: Connection) -> dict[str, Any]:
            row = self._face(c, face_id)
            person = self.person_ref(ref, c)
            clash = c.one("SELECT id FROM faces WHERE photo_id = ? AND person_id = ? AND id != ?",
                          (row["photo_id"], person["id"], row["id"]))
            if clash is not None:
                raise PeopleError(f"face {clash} in the same photo is already "
                                  f"{person['name'] or 'person ' + str(person['id'])}")
            store.bring_together(c, row["id"], person["id"])
            c.execute("UPDATE faces SET person_id = ?, assigned = 'user' WHERE id = ?",
                      (person["id"], row["id"]))
            store.refresh_names(c, [row["photo_id"]])
            store.prune_people(c)
            return {"face": row["id"], "person": person["id"]}

        return self.writer.call(apply)

    def name_face(self, face_id: int, name: str) -> dict[str, Any]:
        """The viewer's "Who is this?" on one face, in one write. ``action`` says what it did:

        - ``same``: the face is already that person's;
        - ``assigned``: someone already has the name, so the face joins them (as
          ``assign_face`` would);
        - ``named``: the face's person has no name yet, so the person (every face of them)
          takes the name;
        - ``created``: a face of no person, or of a named person who it is not, starts a new
          person under the name, holding this face (placed by hand, so clustering keeps it
          there; similar faces join the named person at the next clustering pass)."""
        name = _clean_name(name)

        def apply(c: Connection) -> dict[str, Any]:
            row = self._face(c, face_id)
            current = (c.row("SELECT * FROM people WHERE id = ?", (row["person_id"],))
                       if row["person_id"] is not None else None)
            named = c.row("SELECT * FROM people WHERE name = ? COLLATE NOCASE", (name,))
            if named is not None and current is not None and named["id"] == current["id"]:
                return {"face": row["id"], "person": named["id"], "name": named["name"],
                        "action": "same"}
            if named is not None:
                clash = c.one("SELECT id FROM faces WHERE photo_id = ? AND person_id = ? "
                              "AND id != ?", (row["photo_id"], named["id"], row["id"]))
                if clash is not None:
                    raise PeopleError(f"face {clash} in the same photo is already "
                                      f"{named['name']}")
                person_id, action = int(named["id"]), "assigned"
                store.bring_together(c, row["id"], person_id)
            elif current is not None and current["name"] is None:
                c.execute("UPDATE people SET name = ?, updated_at = ? WHERE id = ?",
                          (name, now_iso(), current["id"]))
                store.refresh_names(c, store.photos_of_people(c, [current["id"]]))
                return {"face": row["id"], "person": current["id"], "name": name,
                        "action": "named"}
            else:
                now = now_iso()
                c.execute("INSERT INTO people(name, created_at, updated_at) VALUES (?, ?, ?)",
                          (name, now, now))
                person_id, action = int(c.raw.last_insert_rowid()), "created"
            c.execute("UPDATE faces SET person_id = ?, assigned = 'user' WHERE id = ?",
                      (person_id, row["id"]))
            if current is not None:
                c.execute("UPDATE people SET cover_face_id = NULL WHERE id = ? AND "
                          "cover_face_id = ?", (current["id"], row["id"]))
            store.refresh_names(c, [row["photo_id"]])
            store.prune_people(c)
            return {"face": row["id"], "person": person_id, "name": name if named is None
                    else named["name"], "action": action}

        return self.writer.call(apply)

    def delete(self, ref: int | str) -> dict[str, Any]:
        """Forget a person (name and all): their faces wait to be grouped again."""
        def apply(c: Connection) -> dict[str, Any]:
            person = self.person_ref(ref, c)
            touched = store.photos_of_people(c, [person["id"]])
            c.execute("DELETE FROM people WHERE id = ?", (person["id"],))
            store.refresh_names(c, touched)
            return {"id": person["id"], "name": person["name"], "faces": len(touched)}

        return self.writer.call(apply)

    def hide(self, ref: int | str, hidden: bool = True) -> dict[str, Any]:
        def apply(c: Connection) -> dict[str, Any]:
            person = self.person_ref(ref, c)
            c.execute("UPDATE people SET hidden = ?, updated_at = ? WHERE id = ?",
                      (int(hidden), now_iso(), person["id"]))
            return {"id": person["id"], "hidden": hidden}

        return self.writer.call(apply)

    def cover(self, ref: int | str, face_id: int) -> dict[str, Any]:
        def apply(c: Connection) -> dict[str, Any]:
            person = self.person_ref(ref, c)
            row = self._face(c, face_id)
            if row["person_id"] != person["id"]:
                raise PeopleError(f"face {face_id} is not one of person {person['id']}'s")
            c.execute("UPDATE people SET cover_face_id = ?, updated_at = ? WHERE id = ?",
                      (row["id"], now_iso(), person["id"]))
            return {"id": person["id"], "cover": row["id"]}

        return self.writer.call(apply)

    def tag(self, name: str, references: Sequence[int | str]) -> dict[str, Any]:
        """Tag every photo of a person from reference photos of them: the reference faces
        become the person's (created under ``name`` if new), and every face similar enough
        to any of them joins (one face per photo; faces the person placed elsewhere, faces in
        other named people and rejected faces stay where they are). More reference photos
        cover more looks (ages, glasses, light)."""
        if not references:
            raise PeopleError("give at least one reference photo of the person")
        name = _clean_name(name)
        pack = self.pack()
        conn = self.reader()
        existing = conn.row("SELECT id FROM people WHERE name = ? COLLATE NOCASE", (name,))
        existing_id = int(existing["id"]) if existing else None
        ref_faces: list[list[dict[str, Any]]] = []
        paths: list[str] = []
        counts: list[int] = []      # faces in each reference photo (or 1 for face:ID)
        for ref in references:
            # face:ID names one face (of a photo with several people); anything else a photo.
            face_ref = re.fullmatch(r"(?i)face:(\d+)", str(ref).strip())
            photo = (conn.row("SELECT p.* FROM photos p JOIN faces f ON f.photo_id = p.id "
                              "WHERE f.id = ?", (int(face_ref.group(1)),)) if face_ref
                     else photos.get_photo(conn, ref))
            if photo is None:
                raise PeopleError(f"no face {face_ref.group(1)}" if face_ref else
                                  f"{ref} is not a photo of this library (add its folder and "
                                  "index it first)")
            found = conn.rows(
                "SELECT f.id, f.size_px, f.person_id, f.assigned, p.name, "
                "EXISTS (SELECT 1 FROM face_rejections r WHERE r.face_id = f.id AND "
                "r.person_id = ?) AS rejected FROM faces f LEFT JOIN people p "
                "ON p.id = f.person_id WHERE f.photo_id = ? AND f.model_id = ?"
                + (" AND f.id = ?" if face_ref else ""),
                (existing_id, photo["id"], pack.id,
                 *((int(face_ref.group(1)),) if face_ref else ())))
            paths.append(str(photo["path"]))
            if not found:
                pending = bool(backlog_count(conn, pack.id))
                raise PeopleError(f"no face was found in {photo['path']}"
                                  + (" (photos are still waiting to be looked at)"
                                     if pending else ""),
                                  code="faces.none_in_photo",
                                  values={"path": photo["path"], "pending": pending})
            mine = [f for f in found if existing_id is not None and f["person_id"] == existing_id]
            # A face named outright, or the person's own face there, needs no matching.
            counts.append(1 if face_ref or mine else len(found))
            free = [f for f in found if f["person_id"] is None or f["person_id"] == existing_id
                    or (f["assigned"] != "user" and f["name"] is None)]
            if mine:
                free = mine      # already this person in that photo: that face it is
            elif not free:
                raise PeopleError(f"every face in {photo['path']} is already someone you named "
                                  "or placed", code="faces.all_taken",
                                  values={"path": photo["path"]})
            else:
                kept = [f for f in free if not f["rejected"]]
                if not kept and len(free) > 1:
                    raise PeopleError(
                        f"every face in {photo['path']} was said not to be {name}: name the "
                        "one to use, e.g. face:ID")
                free = kept or free   # one face, given as the reference: the person's word
            ref_faces.append(free)
        table = self._table(conn, pack)
        assert table is not None
        loaded = store.load(conn, pack.id, table, pack.dim)
        where = loaded.index_of()
        params = self.params()
        # In a reference photo with several faces, the person is the face most like the
        # other (single-face) references, if one is close enough to them; guessing would pin
        # a stranger's face to the name, so otherwise the person is asked which face.
        single = [where[r[0]["id"]] for r, n in zip(ref_faces, counts, strict=True)
                  if n == 1 and len(r) == 1 and r[0]["id"] in where]
        chosen: list[int] = []
        for cands, path, n_faces in zip(ref_faces, paths, counts, strict=True):
            cands = [f for f in cands if f["id"] in where]
            if not cands:
                continue
            if len(cands) > 1 or n_faces > 1:
                listing = ", ".join(f"face:{f['id']}" for f in cands)
                if not single:
                    raise PeopleError(f"{path} has {len(cands)} faces ({listing}): name the "
                                      "one to use, e.g. face:ID", code="faces.which",
                                      values={"path": path})
                anchor = loaded.vectors[single]
                scored = [(float((anchor @ loaded.vectors[where[f["id"]]]).max()), f)
                          for f in cands]
                score, best = max(scored, key=lambda t: t[0])
                if score < params.join:
                    raise PeopleError(f"none of the {len(cands)} faces in {path} looks like "
                                      f"the other reference photos ({listing}): name the one "
                                      "to use, e.g. face:ID")
            else:
                best = cands[0]
            chosen.append(where[best["id"]])
        refs = loaded.vectors[chosen]
        sims = (loaded.vectors @ refs.T).max(axis=1) if len(chosen) else np.zeros(0)

        def apply(c: Connection) -> dict[str, Any]:
            now = now_iso()
            row = c.row("SELECT * FROM people WHERE name = ? COLLATE NOCASE", (name,))
            if row is None:
                c.execute("INSERT INTO people(name, created_at, updated_at) VALUES (?, ?, ?)",
                          (name, now, now))
                person_id = int(c.raw.last_insert_rowid())
            else:
                person_id = int(row["id"])
            before = {int(r[0]) for r in c.execute(
                "SELECT DISTINCT photo_id FROM faces WHERE person_id = ?", (person_id,))}
            have = set(before)
            touched: set[int] = set()
            for i in chosen:
                face_id, photo_id = int(loaded.ids[i]), int(loaded.photo[i])
                if photo_id in have and not c.one(
                        "SELECT 1 FROM faces WHERE id = ? AND person_id = ?",
                        (face_id, person_id)):
                    continue     # the person already has another face there (placed meanwhile)
                store.bring_together(c, face_id, person_id)
                c.execute("UPDATE faces SET person_id = ?, assigned = 'user' WHERE id = ?",
                          (person_id, face_id))
                have.add(photo_id)
                touched.add(photo_id)
            rejected = {int(r[0]) for r in c.execute(
                "SELECT face_id FROM face_rejections WHERE person_id = ?", (person_id,))}
            locked = {int(r[0]) for r in c.execute(
                "SELECT f.id FROM faces f LEFT JOIN people p ON p.id = f.person_id WHERE "
                "f.person_id IS NOT NULL AND f.person_id != ? AND "
                "(f.assigned = 'user' OR p.name IS NOT NULL)", (person_id,))}
            order = np.argsort(-sims)
            for i in order:
                if sims[i] < params.join:
                    break
                face_id, photo_id = int(loaded.ids[i]), int(loaded.photo[i])
                if photo_id in have or face_id in rejected or face_id in locked:
                    continue
                if c.one("SELECT 1 FROM face_apart l JOIN faces f ON f.id = CASE WHEN "
                         "l.face_id = ?1 THEN l.other_id ELSE l.face_id END WHERE "
                         "(l.face_id = ?1 OR l.other_id = ?1) AND f.person_id = ?2 LIMIT 1",
                         (face_id, person_id)):
                    continue
                if not c.one("SELECT 1 FROM faces WHERE id = ?", (face_id,)):
                    continue
                c.execute("UPDATE faces SET person_id = ?, assigned = 'auto' WHERE id = ?",
                          (person_id, face_id))
                have.add(photo_id)
                touched.add(photo_id)
            touched.update(store.enforce_apart(c))
            store.refresh_names(c, touched)
            store.prune_people(c)
            return {"id": person_id, "name": name, "references": len(chosen),
                    "reference_faces": [int(loaded.ids[i]) for i in chosen],
                    "tagged": len(have - before), "already": len(before),
                    "photos": len(have)}

        return self.writer.call(apply)

    def export_csv(self, target: str | os.PathLike[str] | TextIO, *,
                   include_unnamed: bool = True) -> int:
        """Write ``path,person,person_id,face_id,x,y,w,h`` for every face in a person (hidden
        people left out); returns the number of rows."""
        conn = self.reader()
        rows = conn.rows(
            "SELECT ph.path, pe.name, pe.id AS person_id, f.id AS face_id, f.x, f.y, f.w, f.h "
            "FROM faces f JOIN people pe ON pe.id = f.person_id JOIN photos ph "
            "ON ph.id = f.photo_id WHERE pe.hidden = 0 "
            + ("" if include_unnamed else "AND pe.name IS NOT NULL ")
            + "ORDER BY ph.path, f.x")
        def write(fh: TextIO) -> None:
            out = csv.writer(fh)
            out.writerow(["path", "person", "person_id", "face_id", "x", "y", "w", "h"])
            for r in rows:
                out.writerow([r["path"], r["name"] or f"Unnamed {r['person_id']}",
                              r["person_id"], r["face_id"],
                              *(round(r[k], 4) for k in ("x", "y", "w", "h"))])

        if not isinstance(target, str | os.PathLike):
            write(target)
            return len(rows)
        path = Path(target)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                write(fh)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise PeopleError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return len(rows)


def _forget_face_errors(conn: Connection) -> None:
    conn.execute("DELETE FROM errors WHERE stage = 'faces'")


def _clean_name(name: str) -> str:
    """A person's name as stored: single spaces, not empty, not a number (numbers are ids)."""
    name = " ".join(str(name).split())
    if not name:
        raise PeopleError("a name cannot be empty")
    if name.isdigit():
        raise PeopleError("a name cannot be only digits (they are person ids)")
    if re.fullmatch(r"(?i)unnamed \d+", name):
        raise PeopleError(f"{name!r} is how unnamed people are shown; choose a real name")
    if len(name) > 200:
        raise PeopleError("a name can be at most 200 characters")
    return name


def _apply(conn: Connection, arrays: store.FaceArrays, person: np.ndarray) -> dict[str, Any]:
    """Write a clustering result, re-checking each change against the library as it is now:
    a face the person moved, rejected, or put in a person they named since the faces were
    read keeps the person's choice."""
    now = now_iso()
    new_ids: dict[int, int] = {}
    changed = np.nonzero(person != arrays.person)[0]
    moved = 0
    touched: set[int] = set()
    went: dict[int, set[int]] = {}     # old person -> the people its faces went to
    for i in changed:
        label = int(person[i])
        if label < 0 and label not in new_ids:
            conn.execute("INSERT INTO people(created_at, updated_at) VALUES (?, ?)", (now, now))
            new_ids[label] = int(conn.raw.last_insert_rowid())
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
    touched.update(store.enforce_apart(conn))
    removed = store.prune_people(conn)
    if touched:
        store.refresh_names(conn, touched)
    return {"moved": moved, "removed": removed}
