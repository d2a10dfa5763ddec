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
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from glimpse_desktop.faces import clustering, store
from glimpse_desktop.faces.models import DEFAULT_PACK, FaceModels
from glimpse_desktop.faces.records import (
    ClusterReport,
    CoverSet,
    Face,
    FaceAssigned,
    FaceNamed,
    Merged,
    NameFaceAction,
    PeopleStatus,
    Person,
    PersonDeleted,
    PersonDetail,
    PersonHidden,
    PersonPhoto,
    PersonRef,
    PhotoFace,
    Rejected,
    Rejection,
    Renamed,
    SplitResult,
    Tagged,
)
from glimpse_desktop.faces.stage import FaceCrops, FaceStage, backlog_count

# Part of the faces feature's public API for features that change faces inside a write of
# their own (write-back names faces from the regions other apps wrote): how people keep their
# names in the full-text index, let go of people left without faces, and compare boxes.
from glimpse_desktop.faces.store import iou as iou
from glimpse_desktop.faces.store import prune_people as prune_people
from glimpse_desktop.faces.store import refresh_names as refresh_names
from glimpse_desktop.faces.waiting import WaitingFaceActions
from glimpse_desktop.kernel import photos
from glimpse_desktop.kernel.config import get_setting, set_setting
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer
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


class People(WaitingFaceActions):
    """Faces and people of one library (thread-safe; clustering passes run one at a time).
    The faces that wait for a person, and ignored faces: ``faces.waiting.WaitingFaceActions``."""

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

    def use_pack(self, pack_id: str) -> PeopleStatus:
        """Switch face pack. Photos are looked at again by the next `index` (in the
        background with the watcher); each new face takes over the person and rejections of
        the old face it overlaps, so names are kept."""
        pack = self.registry.face_pack(pack_id)
        if self.registry.face_installed(pack) is None:
            raise self.registry.face_missing(pack)

        def apply(c: Connection) -> None:
            set_setting(c, PACK_KEY, pack.id)
            store.forget_face_errors(c)   # another pack may well read what this one could not

        self.writer.call(apply)
        return self.status()

    def enabled(self) -> bool:
        return get_setting(self.reader(), ENABLED_KEY) != "0"

    def set_enabled(self, on: bool) -> None:
        def apply(c: Connection) -> None:
            set_setting(c, ENABLED_KEY, "1" if on else "0")
            if on:
                store.forget_face_errors(c)

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
        table = store.face_table(conn, pack.id)
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

            def write(c: Connection) -> tuple[int, int]:
                out = store.write_clustering(c, arrays, result.person)
                store.mark_swept(c, swept.tolist())
                set_setting(c, swept_key, repr(vars(params)))
                if not focused:
                    set_setting(c, sweep_key, repr(time.time()))
                return out

            moved, removed = self.writer.call(write)
            return ClusterReport(faces=len(arrays.ids), joined=result.joined,
                                 founded=result.founded, waiting=result.waiting,
                                 moved=moved, removed=removed)

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
        pack = self.pack()
        return (pack.id, tuple(vars(self.params()).items()),
                *store.signature(self.reader(), pack.id))

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

    def person_ref(self, ref: int | str, conn: Connection | None = None) -> PersonRef:
        """A person by id or by name (case-insensitive)."""
        conn = conn or self.reader()
        found = None
        text = " ".join(str(ref).split())
        unnamed = re.fullmatch(r"(?i)unnamed (\d+)", text)
        if isinstance(ref, int) or text.isdigit() or unnamed:
            found = store.person(conn, int(unnamed.group(1) if unnamed else text))
        if found is None:
            found = store.person_named(conn, text)
        if found is None and text:
            # A first name (or the first words of a name) that only one person has.
            starting = store.people_starting(conn, text, 2)
            if len(starting) == 1:
                found = starting[0]
            elif starting:
                raise PeopleError(f"more than one person is called {text!r}: use the full "
                                  "name or the person's id")
        if found is None:
            raise PeopleError(f"no person {ref!r}", code="people.unknown",
                              values={"person": ref})
        return found

    def _face(self, conn: Connection, face_id: int) -> store.StoredFace:
        found = store.face(conn, face_id)
        if found is None:
            raise PeopleError(f"no face {face_id}", code="faces.unknown",
                              values={"face": face_id})
        return found

    def list_people(self, *, include_hidden: bool = False, include_waiting: bool = False
                    ) -> list[Person]:
        """People with their face and photo counts and cover, named first, then the most
        photographed. Hidden people, and named people left without faces, only with
        ``include_hidden``. With ``include_waiting``, a last row (id None) counts the faces
        that wait for a person."""
        conn = self.reader()
        rows = [Person(id=p.id, name=p.name, hidden=p.hidden, faces=faces, photos=photos,
                       cover=self._cover(conn, p.id, p.cover_face))
                for p, faces, photos in store.people_counted(conn,
                                                             include_hidden=include_hidden)]
        if include_waiting:
            faces, photos = store.waiting(conn)
            rows.append(Person(id=None, name=None, hidden=False, faces=faces, photos=photos,
                               cover=None))
        return rows

    def _cover(self, conn: Connection, person_id: int, chosen: int | None) -> Face | None:
        """The chosen cover face, or the best one: sharp, frontal, large, confident."""
        row = store.cover_face(conn, person_id, chosen)
        return None if row is None else self._face_out(row)

    def _crop(self, row: store.StoredFace) -> str | None:
        if row.content_hash is None:
            return None
        crop = self.crops.path_for(row.content_hash, row.box)
        return str(crop) if crop is not None and crop.is_file() else None

    def _face_out(self, row: store.StoredFace) -> Face:
        return Face(face=row.id, photo=row.photo_id, path=row.path,
                    box=_rounded(row.box), score=round(row.score, 3), size_px=row.size_px,
                    seeds=row.seeds, person=row.person_id, assigned=row.assigned,
                    crop=self._crop(row), ignored=row.ignored)

    def show(self, ref: int | str) -> PersonDetail:
        """A person, their faces and their photos (newest first)."""
        conn = self.reader()
        person = self.person_ref(ref, conn)
        return PersonDetail(
            id=person.id, name=person.name, hidden=person.hidden,
            cover=self._cover(conn, person.id, person.cover_face),
            faces=tuple(self._face_out(f) for f in store.faces_of_person(conn, person.id)),
            photos=tuple(store.person_photos(conn, person.id)))

    def find(self, name: str) -> list[PersonPhoto]:
        """Every photo of a person (by name or id), newest first."""
        conn = self.reader()
        return store.person_photos(conn, self.person_ref(name, conn).id)

    def photo_faces(self, photo_ref: int | str) -> list[PhotoFace]:
        """The faces in one photo with their people (what the viewer draws)."""
        conn = self.reader()
        photo = photos.get_photo(conn, photo_ref)
        if photo is None:
            raise PeopleError(f"no photo {photo_ref} in this library")
        return [PhotoFace(face=row.id, photo=row.photo_id, path=row.path,
                          box=_rounded(row.box), score=round(row.score, 3),
                          size_px=row.size_px, seeds=row.seeds, person=row.person_id,
                          assigned=row.assigned, crop=self._crop(row), ignored=row.ignored,
                          name=name)
                for row, name in store.faces_in_photo(conn, int(photo["id"]))]

    def status(self) -> PeopleStatus:
        """Faces and people in this library, and whether faces can be found now."""
        conn = self.reader()
        pack = self.pack()
        faces, people, named, waiting = store.counts(conn)
        return PeopleStatus(
            enabled=self.enabled(), pack=pack.id,
            installed=self.registry.face_installed(pack) is not None, problem=self.problem,
            faces=faces, people=people, named=named, waiting=waiting,
            backlog=backlog_count(conn, pack.id), thresholds=self.params())

    # ------------------------------------------------------------------ the person's actions

    def name(self, ref: int | str, name: str) -> Renamed:
        """Name (or rename) a person. A name already used by someone else is refused with
        the merge that would join them."""
        name = _clean_name(name)

        def apply(c: Connection) -> Renamed:
            person = self.person_ref(ref, c)
            other = store.person_named(c, name, other_than=person.id)
            if other is not None:
                raise PeopleError(f"{name!r} is already person {other.id}",
                                  code="people.name_taken",
                                  values={"name": name, "other": other.id,
                                          "person": person.id})
            store.rename(c, person.id, name)
            store.refresh_names(c, store.photos_of_people(c, [person.id]))
            return Renamed(id=person.id, name=name, was=person.name)

        return self.writer.call(apply)

    def merge(self, into: int | str, *others: int | str) -> Merged:
        """Join people into the first one: faces, rejections and (if it has none) the name.
        Where two of their faces share a photo, only one can be this person: the other is
        taken out (and remembered as "not this person")."""
        if not others:
            raise PeopleError("name at least two people to merge")

        def apply(c: Connection) -> Merged:
            target = self.person_ref(into, c)
            sources = [self.person_ref(o, c) for o in others]
            if any(src.id == target.id for src in sources):
                raise PeopleError(f"person {target.id} cannot be merged with itself")
            names = {s.name for s in sources if s.name}
            if target.name is None and len(names) > 1:
                raise PeopleError(f"those people have different names ({', '.join(names)}): "
                                  "name the one to keep first")
            merged = list(dict.fromkeys(src.id for src in sources))
            kept, detached, touched = store.merge(c, target.id, merged)
            if target.name is None and names:
                store.rename(c, target.id, names.pop())
            store.refresh_names(c, touched)
            return Merged(id=target.id, merged=tuple(merged), faces=kept, detached=detached)

        return self.writer.call(apply)

    def split(self, ref: int | str, face_ids: Sequence[int]) -> SplitResult:
        """Move faces out of a person into a new person of their own: they are not the old
        person, and the faces left behind are not the new one (both remembered)."""
        if not face_ids:
            raise PeopleError("name the faces to move", code="faces.none_given")

        face_ids = list(dict.fromkeys(int(f) for f in face_ids))

        def apply(c: Connection) -> SplitResult:
            person = self.person_ref(ref, c)
            rows = [self._face(c, f) for f in face_ids]
            wrong = [r.id for r in rows if r.person_id != person.id]
            if wrong:
                raise PeopleError(f"face {wrong[0]} is not one of person {person.id}'s")
            seen: set[int] = set()
            for r in rows:
                if r.photo_id in seen:
                    raise PeopleError("two of those faces are in the same photo; they cannot "
                                      "be one person")
                seen.add(r.photo_id)
            new_id = store.split(c, person.id, [r.id for r in rows])
            store.refresh_names(c, [r.photo_id for r in rows])
            store.prune_people(c)
            return SplitResult(source=person.id, id=new_id, faces=tuple(r.id for r in rows))

        return self.writer.call(apply)

    def reject(self, face_ids: Sequence[int], ref: int | str | None = None) -> Rejected:
        """"Not this person": take faces out of their person for good. They wait for
        clustering to find who they are (never that person again)."""
        def apply(c: Connection) -> Rejected:
            done = []
            for face_id in face_ids:
                row = self._face(c, face_id)
                person_id = self.person_ref(ref, c).id if ref is not None else row.person_id
                if person_id is None:
                    raise PeopleError(f"face {face_id} is not in any person")
                if row.person_id is not None and row.person_id != person_id:
                    raise PeopleError(f"face {face_id} is person {row.person_id}'s, not "
                                      f"person {person_id}'s")
                store.reject(c, row, person_id)
                done.append(Rejection(face=row.id, person=person_id))
                store.refresh_names(c, [row.photo_id])
            store.prune_people(c)
            return Rejected(rejected=tuple(done))

        return self.writer.call(apply)

    def assign_face(self, face_id: int, ref: int | str) -> FaceAssigned:
        """Put a face in a person by hand (the viewer's "this is ...")."""
        def apply(c: Connection) -> FaceAssigned:
            row = self._face(c, face_id)
            person = self.person_ref(ref, c)
            clash = store.other_face_in_photo(c, row.photo_id, person.id, row.id)
            if clash is not None:
                raise PeopleError(f"face {clash} in the same photo is already "
                                  f"{person.name or 'person ' + str(person.id)}")
            store.bring_together(c, row.id, person.id)
            store.place(c, row.id, person.id)
            store.refresh_names(c, [row.photo_id])
            store.prune_people(c)
            return FaceAssigned(face=row.id, person=person.id)

        return self.writer.call(apply)

    def name_face(self, face_id: int, name: str) -> FaceNamed:
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

        def apply(c: Connection) -> FaceNamed:
            row = self._face(c, face_id)
            current = store.person(c, row.person_id) if row.person_id is not None else None
            named = store.person_named(c, name)
            if named is not None and current is not None and named.id == current.id:
                return FaceNamed(face=row.id, person=named.id, name=str(named.name),
                                 action="same")
            action: NameFaceAction
            if named is not None:
                clash = store.other_face_in_photo(c, row.photo_id, named.id, row.id)
                if clash is not None:
                    raise PeopleError(f"face {clash} in the same photo is already "
                                      f"{named.name}")
                person_id, action = named.id, "assigned"
                store.bring_together(c, row.id, person_id)
            elif current is not None and current.name is None:
                store.rename(c, current.id, name)
                store.refresh_names(c, store.photos_of_people(c, [current.id]))
                return FaceNamed(face=row.id, person=current.id, name=name, action="named")
            else:
                person_id, action = store.new_person(c, name), "created"
            store.place(c, row.id, person_id)
            if current is not None:
                store.drop_cover(c, current.id, row.id)
            store.refresh_names(c, [row.photo_id])
            store.prune_people(c)
            return FaceNamed(face=row.id, person=person_id,
                             name=name if named is None else str(named.name), action=action)

        return self.writer.call(apply)

    def delete(self, ref: int | str) -> PersonDeleted:
        """Forget a person (name and all): their faces wait to be grouped again."""
        def apply(c: Connection) -> PersonDeleted:
            person = self.person_ref(ref, c)
            touched = store.photos_of_people(c, [person.id])
            store.delete_person(c, person.id)
            store.refresh_names(c, touched)
            return PersonDeleted(id=person.id, name=person.name, faces=len(touched))

        return self.writer.call(apply)

    def hide(self, ref: int | str, hidden: bool = True) -> PersonHidden:
        """Keep a person out of the People list (or show them again)."""
        def apply(c: Connection) -> PersonHidden:
            person = self.person_ref(ref, c)
            store.set_hidden(c, person.id, hidden)
            return PersonHidden(id=person.id, hidden=hidden)

        return self.writer.call(apply)

    def cover(self, ref: int | str, face_id: int) -> CoverSet:
        """Show a person by one of their faces."""
        def apply(c: Connection) -> CoverSet:
            person = self.person_ref(ref, c)
            row = self._face(c, face_id)
            if row.person_id != person.id:
                raise PeopleError(f"face {face_id} is not one of person {person.id}'s")
            store.set_cover(c, person.id, row.id)
            return CoverSet(id=person.id, cover=row.id)

        return self.writer.call(apply)

    def tag(self, name: str, references: Sequence[int | str]) -> Tagged:
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
        existing = store.person_named(conn, name)
        existing_id = existing.id if existing else None
        ref_faces: list[list[store.TagCandidate]] = []
        paths: list[str] = []
        counts: list[int] = []      # faces in each reference photo (or 1 for face:ID)
        for ref in references:
            # face:ID names one face (of a photo with several people); anything else a photo.
            face_ref = re.fullmatch(r"(?i)face:(\d+)", str(ref).strip())
            named_face = int(face_ref.group(1)) if face_ref else None
            photo = (store.photo_of_face(conn, named_face) if named_face is not None
                     else photos.get_photo(conn, ref))
            if photo is None:
                raise PeopleError(f"no face {named_face}" if named_face is not None else
                                  f"{ref} is not a photo of this library (add its folder and "
                                  "index it first)")
            found = store.tag_candidates(conn, photo_id=int(photo["id"]), model_id=pack.id,
                                         person_id=existing_id, face_id=named_face)
            paths.append(str(photo["path"]))
            if not found:
                pending = bool(backlog_count(conn, pack.id))
                raise PeopleError(f"no face was found in {photo['path']}"
                                  + (" (photos are still waiting to be looked at)"
                                     if pending else ""),
                                  code="faces.none_in_photo",
                                  values={"path": photo["path"], "pending": pending})
            mine = [f for f in found if existing_id is not None and f.person_id == existing_id]
            # A face named outright, or the person's own face there, needs no matching.
            counts.append(1 if face_ref or mine else len(found))
            free = [f for f in found if f.person_id is None or f.person_id == existing_id
                    or (f.assigned != "user" and f.person_name is None)]
            if mine:
                free = mine      # already this person in that photo: that face it is
            elif not free:
                raise PeopleError(f"every face in {photo['path']} is already someone you named "
                                  "or placed", code="faces.all_taken",
                                  values={"path": photo["path"]})
            else:
                kept = [f for f in free if not f.rejected]
                if not kept and len(free) > 1:
                    raise PeopleError(
                        f"every face in {photo['path']} was said not to be {name}: name the "
                        "one to use, e.g. face:ID")
                free = kept or free   # one face, given as the reference: the person's word
            ref_faces.append(free)
        table = store.face_table(conn, pack.id)
        assert table is not None
        loaded = store.load(conn, pack.id, table, pack.dim)
        where = loaded.index_of()
        params = self.params()
        # In a reference photo with several faces, the person is the face most like the
        # other (single-face) references, if one is close enough to them; guessing would pin
        # a stranger's face to the name, so otherwise the person is asked which face.
        single = [where[r[0].id] for r, n in zip(ref_faces, counts, strict=True)
                  if n == 1 and len(r) == 1 and r[0].id in where]
        chosen: list[int] = []
        for cands, path, n_faces in zip(ref_faces, paths, counts, strict=True):
            cands = [f for f in cands if f.id in where]
            if not cands:
                continue
            if len(cands) > 1 or n_faces > 1:
                listing = ", ".join(f"face:{f.id}" for f in cands)
                if not single:
                    raise PeopleError(f"{path} has {len(cands)} faces ({listing}): name the "
                                      "one to use, e.g. face:ID", code="faces.which",
                                      values={"path": path})
                anchor = loaded.vectors[single]
                scored = [(float((anchor @ loaded.vectors[where[f.id]]).max()), f)
                          for f in cands]
                score, best = max(scored, key=lambda t: t[0])
                if score < params.join:
                    raise PeopleError(f"none of the {len(cands)} faces in {path} looks like "
                                      f"the other reference photos ({listing}): name the one "
                                      "to use, e.g. face:ID")
            else:
                best = cands[0]
            chosen.append(where[best.id])
        refs = loaded.vectors[chosen]
        sims = (loaded.vectors @ refs.T).max(axis=1) if len(chosen) else np.zeros(0)
        order = [int(i) for i in np.argsort(-sims)]
        similar = [(int(loaded.ids[i]), int(loaded.photo[i]))
                   for i in order[:int(np.count_nonzero(sims >= params.join))]]
        reference = [(int(loaded.ids[i]), int(loaded.photo[i])) for i in chosen]

        def apply(c: Connection) -> Tagged:
            person_id, before, have = store.tag(c, name, reference, similar)
            return Tagged(id=person_id, name=name, references=len(chosen),
                          reference_faces=tuple(face for face, _ in reference),
                          tagged=len(have - before), already=len(before), photos=len(have))

        return self.writer.call(apply)

    def export_csv(self, target: str | os.PathLike[str] | TextIO, *,
                   include_unnamed: bool = True) -> int:
        """Write ``path,person,person_id,face_id,x,y,w,h`` for every face in a person (hidden
        people left out); returns the number of rows."""
        rows = store.export_rows(self.reader(), include_unnamed=include_unnamed)

        def write(fh: TextIO) -> None:
            out = csv.writer(fh)
            out.writerow(["path", "person", "person_id", "face_id", "x", "y", "w", "h"])
            for path, name, person_id, face_id, *box in rows:
                out.writerow([path, name or f"Unnamed {person_id}", person_id, face_id,
                              *(round(v, 4) for v in box)])

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


def _rounded(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x, y, w, h = (round(v, 4) for v in box)
    return x, y, w, h
