"""Delete to the system trash, Recently deleted, and the duplicates' "keep this one"
(``Library.trash``).

A photo moved to the trash keeps its row: the flag ``FLAG_TRASHED`` hides it from every list,
count and search, its status is 'missing' (its file is not at its place, so scans and the
watcher leave it be), and its path is set aside (``(in trash #12) IMG_1.JPG``) so a new file
at its old place is a new photo. The ``trash`` table keeps where it was and when; a restore
moves the files back and clears the flag, and the photo's people, faces, albums, captions and
stars are there again because they never left. Its RAW companions and XMP sidecars go and come
back with it. Thirty days on, ``tidy`` forgets the row; the system trash keeps or empties the
files by its own rules. "Delete permanently" deletes the files from the trash and forgets the
row at once.

Files move first and rows follow in one transaction per photo: a photo whose files cannot all
move is put back as it was and reported (``TrashProblem``), and the others still go.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from glimpse_desktop.kernel import fts, pairs, photos
from glimpse_desktop.kernel.db import Connection, Writer
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback, ProgressMeter
from glimpse_desktop.trash import system
from glimpse_desktop.trash.records import (
    KEEP_DAYS,
    DeletedPhoto,
    KeepReport,
    MovedToKept,
    PhotoHoldings,
    PurgeReport,
    RestoreReport,
    TidyReport,
    TrashedFile,
    TrashError,
    TrashProblem,
    TrashReport,
)

__all__ = ["Trash", "aside_name", "sidecars_of"]

_DAY = 86_400.0
_TRASHED = photos.FLAG_TRASHED


def aside_name(filename: str, photo_id: int) -> str:
    """The name a trashed photo's row holds meanwhile: no file has it, and it shares no stem
    with its old neighbours (a RAW+JPEG pairing by name never meets it)."""
    return f"(in trash #{photo_id}) {filename}"


def sidecars_of(paths: Sequence[str]) -> list[str]:
    """The XMP sidecars that belong to these files of one photo (a photo and its RAWs, all in
    one folder): ``name.ext.xmp`` of each (any case), and ``stem.xmp`` (Lightroom's) when no
    other file shares the stem, as metadata/extract.py and write-back pick them."""
    if not paths:
        return []
    folder = os.path.dirname(paths[0])
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return []
    own = {os.path.basename(p).lower() for p in paths}
    stems = {os.path.splitext(n)[0].lower() for n in own}
    others = {os.path.splitext(n)[0].lower() for n in names
              if not n.lower().endswith(".xmp") and n.lower() not in own}
    found = []
    for n in sorted(names):
        low = n.lower()
        if not low.endswith(".xmp"):
            continue
        base = low[:-4]
        if base in own or (base in stems and base not in others):
            found.append(os.path.join(folder, n))
    return found


def _problem(photo_id: int | None, path: str, code: str, why: str) -> TrashProblem:
    return TrashProblem(photo_id, path, f"trash.{code}", why)


class Trash:
    """The library's trash. ``clock``: seconds since the epoch, now (tests set it)."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer,
                 forget_thumbnails: Callable[[list[str]], None]) -> None:
        self._reader = reader
        self._writer = writer
        self._forget_thumbnails = forget_thumbnails
        self.clock: Callable[[], float] = time.time

    # ------------------------------------------------------------------ reading

    def _entry(self, conn: Connection, row: dict[str, Any], now: float) -> DeletedPhoto:
        files = tuple(TrashedFile(str(f["path"]), str(f["kind"]), f["location"])
                      for f in conn.rows("SELECT path, kind, location FROM trash_files "
                                         "WHERE photo_id = ? ORDER BY kind != 'photo', path",
                                         (row["photo_id"],)))
        left = KEEP_DAYS - (now - float(row["trashed_ts"])) / _DAY
        return DeletedPhoto(
            id=int(row["photo_id"]), path=str(row["path"]),
            filename=os.path.basename(str(row["path"])), content_hash=str(row["content_hash"]),
            taken_at=row["taken_at"], width=row["width"], height=row["height"],
            format=row["format"], size=int(row["size"] or 0), trashed_at=str(row["trashed_at"]),
            days_left=max(0, int(left)), files=files, kept_id=row["kept_id"],
            moved=_from_json(int(row["photo_id"]), row.get("moved")))

    _SELECT = ("SELECT t.photo_id, t.path, t.trashed_at, t.trashed_ts, t.kept_id, t.moved, "
               "p.content_hash, p.taken_at, p.width, p.height, p.format, p.size "
               "FROM trash t JOIN photos p ON p.id = t.photo_id ")

    def deleted(self) -> list[DeletedPhoto]:
        """Recently deleted: the photos Glimpse moved to the trash in the last 30 days,
        most recently deleted first."""
        now = self.clock()
        conn = self._reader()
        return [self._entry(conn, r, now) for r in conn.rows(
            self._SELECT + "WHERE t.trashed_ts > ? ORDER BY t.trashed_ts DESC, t.photo_id DESC",
            (now - KEEP_DAYS * _DAY,))]

    def count(self) -> int:
        """How many photos Recently deleted holds."""
        return int(self._reader().one("SELECT count(*) FROM trash WHERE trashed_ts > ?",
                                      (self.clock() - KEEP_DAYS * _DAY,)))

    def _deleted_ids(self, refs: Sequence[int | str]) -> tuple[list[int], list[TrashProblem]]:
        """Trashed photos by id, or by the path they had."""
        conn = self._reader()
        ids: list[int] = []
        problems: list[TrashProblem] = []
        for ref in refs:
            text = str(ref)
            found = None
            if text.isdigit():
                found = conn.one("SELECT photo_id FROM trash WHERE photo_id = ?", (int(text),))
            if found is None:
                for candidate in dict.fromkeys((os.path.abspath(text),
                                                os.path.realpath(text))):
                    found = conn.one("SELECT photo_id FROM trash WHERE path = ? ORDER BY "
                                     "trashed_ts DESC", (candidate,))
                    if found is not None:
                        break
            if found is None:
                problems.append(_problem(int(text) if text.isdigit() else None, text,
                                         "not_trashed", "not in Recently deleted"))
            elif int(found) not in ids:
                ids.append(int(found))
        return ids, problems

    # ------------------------------------------------------------------ to the trash

    def move(self, refs: Sequence[int | str], *, progress: ProgressCallback | None = None,
             cancel: CancelToken | None = None) -> TrashReport:
        """Move photos (ids or paths) to the system trash with their RAW companions and
        sidecars. Each photo goes whole or not at all; a refused one is reported and the
        others still go. Report it with ``photos_changed(report.photo_ids, "edited")``."""
        if not refs:
            raise TrashError("no photos given", code="trash.no_photos")
        conn = self._reader()
        meter = ProgressMeter("trash", progress)
        meter.start_phase("trash", len(refs))
        done: list[DeletedPhoto] = []
        problems: list[TrashProblem] = []
        seen: set[int] = set()
        for ref in refs:
            if cancel is not None and cancel.cancelled:
                return TrashReport(tuple(done), tuple(problems), cancelled=True)
            row = photos.get_photo(conn, ref)
            if row is None:
                problems.append(_problem(None, str(ref), "unknown_photo", "no such photo"))
            elif int(row["id"]) not in seen:
                seen.add(int(row["id"]))
                result = self._move_one(conn, row)
                (done if isinstance(result, DeletedPhoto) else problems).append(result)  # type: ignore[arg-type]
            meter.advance(current=str(ref))
        meter.finish()
        return TrashReport(tuple(done), tuple(problems))

    def _move_one(self, conn: Connection, row: dict[str, Any]) -> DeletedPhoto | TrashProblem:
        photo_id, path = int(row["id"]), str(row["path"])
        if int(row["flags"]) & _TRASHED:
            return _problem(photo_id, path, "already", "already in Recently deleted")
        if row["companion_of"] is not None:
            # A RAW kept with its JPEG goes with that photo, not alone.
            row = conn.row("SELECT * FROM photos WHERE id = ?", (row["companion_of"],)) or row
            photo_id, path = int(row["id"]), str(row["path"])
            if int(row["flags"]) & _TRASHED:
                return _problem(photo_id, path, "already", "already in Recently deleted")
        if row["status"] == "offline":
            return _problem(photo_id, path, "offline", "its drive is not connected")
        if row["status"] == "missing" or not os.path.lexists(path):
            return _problem(photo_id, path, "not_found", "its file is not there")
        companions = [c for c in pairs.companions(conn, photo_id)
                      if os.path.lexists(str(c["path"]))]
        files: list[tuple[str, str, int | None]] = [(path, "photo", photo_id)]
        files += [(str(c["path"]), "companion", int(c["id"])) for c in companions]
        files += [(s, "sidecar", None) for s in sidecars_of([f[0] for f in files])]
        # Every folder is looked at before any file moves: a photo goes whole or stays.
        for f, _, _ in files:
            if not os.access(os.path.dirname(f) or ".", os.W_OK):
                return _problem(photo_id, f, "read_only", "its folder cannot be written")
        sent: list[tuple[system.Sent, str, int | None]] = []
        for f, kind, row_id in files:
            try:
                sent.append((system.send(f), kind, row_id))
            except system.TrashError as exc:
                self._undo_sends(sent)
                return _problem(photo_id, f, exc.code, exc.why)
        now = self.clock()
        at = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")

        def write(c: Connection) -> None:
            c.execute("INSERT INTO trash(photo_id, path, status, trashed_at, trashed_ts) "
                      "VALUES (?, ?, ?, ?, ?)", (photo_id, path, row["status"], at, now))
            for s, kind, row_id in sent:
                c.execute("INSERT INTO trash_files(photo_id, path, kind, row_id, location) "
                          "VALUES (?, ?, ?, ?, ?)", (photo_id, s.original, kind, row_id,
                                                     s.location))
                if row_id is not None:
                    name = aside_name(os.path.basename(s.original), row_id)
                    c.execute(
                        "UPDATE photos SET path = ?, filename = ?, status = 'missing', "
                        f"flags = flags | {_TRASHED}, missing_since = ?, updated_at = ? "
                        "WHERE id = ?", (os.path.join(os.path.dirname(s.original), name), name,
                                         at, at, row_id))
            fts.mark(c, [photo_id])

        try:
            self._writer.call(write)
        except BaseException:
            self._undo_sends(sent)   # the library could not record it: nothing lost
            raise
        return self._entry(self._reader(), self._reader().row(
            self._SELECT + "WHERE t.photo_id = ?", (photo_id,)) or {}, now)

    @staticmethod
    def _undo_sends(sent: list[tuple[system.Sent, str, int | None]]) -> None:
        for s, _, _ in reversed(sent):
            if s.location is not None:
                try:
                    system.put_back(s.location, s.original)
                except system.TrashError:
                    pass   # still in the trash, where the person can find it

    # ------------------------------------------------------------------ back

    def restore(self, refs: Sequence[int | str], *, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> RestoreReport:
        """Put photos (ids, or the paths they had) back where they were, with their files,
        and show them again with all they had. A photo whose file the trash no longer holds,
        or whose place another file took, stays in Recently deleted and is reported."""
        if not refs:
            raise TrashError("no photos given", code="trash.no_photos")
        ids, problems = self._deleted_ids(refs)
        meter = ProgressMeter("restore", progress)
        meter.start_phase("restore", len(ids))
        restored: list[int] = []
        paths: list[str] = []
        lost: list[str] = []
        for photo_id in ids:
            if cancel is not None and cancel.cancelled:
                return RestoreReport(tuple(restored), tuple(paths), tuple(problems),
                                     tuple(lost), cancelled=True)
            result = self._restore_one(photo_id)
            if isinstance(result, TrashProblem):
                problems.append(result)
            else:
                restored.append(photo_id)
                paths.append(result[0])
                lost += result[1]
            meter.advance()
        meter.finish()
        return RestoreReport(tuple(restored), tuple(paths), tuple(problems), tuple(lost))

    def _restore_one(self, photo_id: int) -> tuple[str, list[str]] | TrashProblem:
        conn = self._reader()
        entry = conn.row("SELECT * FROM trash WHERE photo_id = ?", (photo_id,))
        if entry is None:
            return _problem(photo_id, str(photo_id), "not_trashed", "not in Recently deleted")
        path, since = str(entry["path"]), float(entry["trashed_ts"])
        files = conn.rows("SELECT * FROM trash_files WHERE photo_id = ? "
                          "ORDER BY kind != 'photo', path", (photo_id,))
        found: list[tuple[dict[str, Any], str]] = []
        lost: list[str] = []
        for f in files:
            original = str(f["path"])
            if os.path.lexists(original):
                return _problem(photo_id, original, "taken", "another file is there now")
            where = system.locate(original, f["location"], since)
            if where is None:
                if f["kind"] == "photo":
                    return _problem(photo_id, path, "not_in_trash",
                                    "the system trash no longer holds it")
                lost.append(original)
                continue
            found.append((f, where))
        back: list[tuple[str, str]] = []
        for f, where in found:
            try:
                system.put_back(where, str(f["path"]))
            except system.TrashError as exc:
                for original, location in reversed(back):   # all or nothing, as it went
                    try:
                        os.rename(original, location)
                    except OSError:
                        pass
                return _problem(photo_id, exc.path, exc.code, exc.why)
            back.append((str(f["path"]), where))
        returned = {int(f["row_id"]): str(f["path"]) for f, _ in found
                    if f["row_id"] is not None}
        gone_rows = [int(f["row_id"]) for f in files
                     if f["row_id"] is not None and int(f["row_id"]) not in returned]

        def write(c: Connection) -> None:
            self._unflag(c, returned, str(entry["status"]), gone_rows)
            c.execute("DELETE FROM trash WHERE photo_id = ?", (photo_id,))

        self._writer.call(write)
        return path, lost

    @staticmethod
    def _unflag(c: Connection, returned: dict[int, str], status: str,
                gone_rows: Sequence[int]) -> None:
        """Rows whose files are back at their places: shown again as they were."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for row_id, original in returned.items():
            # A row that took the place meanwhile is a file that vanished too: it steps aside,
            # as the kernel's own moves do.
            for other in c.rows("SELECT id, filename FROM photos WHERE path = ? AND id != ?",
                                (original, row_id)):
                name = f"{other['filename']} (replaced, #{other['id']})"
                c.execute("UPDATE photos SET path = ?, filename = ?, status = 'missing' "
                          "WHERE id = ?", (os.path.join(os.path.dirname(original), name),
                                           name, other["id"]))
            folder, filename = os.path.split(original)
            c.execute(f"UPDATE photos SET path = ?, folder = ?, filename = ?, status = ?, "
                      f"flags = flags & ~{_TRASHED}, missing_since = NULL, updated_at = ? "
                      "WHERE id = ?", (original, folder, filename,
                                       "unsupported" if status == "unsupported" else "ok",
                                       now, row_id))
        for row_id in gone_rows:
            # A RAW the system trash no longer holds: its row is shown as missing, not lost.
            c.execute(f"UPDATE photos SET flags = flags & ~{_TRASHED}, updated_at = ? "
                      "WHERE id = ?", (now, row_id))
        fts.mark(c, list(returned))
        pairs.settle_paths(c, list(returned.values()))

    # ------------------------------------------------------------------ for good

    def purge(self, refs: Sequence[int | str] | None = None, *,
              progress: ProgressCallback | None = None,
              cancel: CancelToken | None = None) -> PurgeReport:
        """Delete photos in Recently deleted for good (``None``: all of them): their files
        leave the system trash, their rows are forgotten. Never for a photo outside Recently
        deleted."""
        if refs is None:
            ids = [int(r[0]) for r in self._reader().execute("SELECT photo_id FROM trash")]
            problems: list[TrashProblem] = []
        else:
            if not refs:
                raise TrashError("no photos given", code="trash.no_photos")
            ids, problems = self._deleted_ids(refs)
        meter = ProgressMeter("purge", progress)
        meter.start_phase("purge", len(ids))
        deleted: list[int] = []
        files = 0
        for photo_id in ids:
            if cancel is not None and cancel.cancelled:
                return PurgeReport(tuple(deleted), files, tuple(problems), cancelled=True)
            conn = self._reader()
            since = float(conn.one("SELECT trashed_ts FROM trash WHERE photo_id = ?",
                                   (photo_id,)) or 0)
            failed = None
            for f in conn.rows("SELECT * FROM trash_files WHERE photo_id = ?", (photo_id,)):
                where = system.locate(str(f["path"]), f["location"], since)
                if where is None:
                    continue   # emptied by the system already
                try:
                    system.purge(where)
                    files += 1
                except system.TrashError as exc:
                    failed = _problem(photo_id, str(f["path"]), exc.code, exc.why)
                    break
            if failed is not None:
                problems.append(failed)
            else:
                self._forget([photo_id])
                deleted.append(photo_id)
            meter.advance()
        meter.finish()
        return PurgeReport(tuple(deleted), files, tuple(problems))

    def _forget(self, photo_ids: Sequence[int]) -> None:
        """Forget trashed photos' rows (and their companions'), and their thumbnails."""
        def write(c: Connection) -> list[str]:
            rows: list[int] = []
            hashes: list[str] = []
            for photo_id in photo_ids:
                rows += [int(r[0]) for r in c.execute(
                    "SELECT row_id FROM trash_files WHERE photo_id = ? AND row_id IS NOT NULL",
                    (photo_id,))]
                rows.append(photo_id)
            rows = [r for r in dict.fromkeys(rows)
                    if c.one(f"SELECT flags & {_TRASHED} FROM photos WHERE id = ?", (r,))]
            for start in range(0, len(rows), 500):
                chunk = rows[start:start + 500]
                hashes += [str(r[0]) for r in c.execute(
                    f"SELECT content_hash FROM photos WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk)]
            c.executemany("DELETE FROM trash WHERE photo_id = ?", [(i,) for i in photo_ids])
            photos.delete_photos(c, rows)
            return photos.orphans(c, hashes)

        self._forget_thumbnails(self._writer.call(write))

    # ------------------------------------------------------------------ the daily check

    def tidy(self) -> TidyReport:
        """The check a window or a command runs when it opens a library (cheap: one indexed
        query, a look at each trashed photo's place): photos in Recently deleted for 30 days
        are forgotten (their files stay in the system trash, which empties by its own rules),
        and photos the person put back by the system's own means are taken back."""
        now = self.clock()
        conn = self._reader()
        expired = [int(r[0]) for r in conn.execute(
            "SELECT photo_id FROM trash WHERE trashed_ts <= ?", (now - KEEP_DAYS * _DAY,))]
        if expired:
            self._forget(expired)
        returned: list[int] = []
        for entry in self._reader().rows(
                "SELECT t.photo_id, t.path, t.status, p.status AS now, p.path AS at, "
                "p.content_hash, p.size FROM trash t JOIN photos p ON p.id = t.photo_id"):
            photo_id = int(entry["photo_id"])
            if entry["now"] != "missing" and os.path.lexists(str(entry["at"])):
                # A scan found its bytes again somewhere (a move): it is no longer deleted.
                def found(c: Connection, pid: int = photo_id) -> None:
                    c.execute(f"UPDATE photos SET flags = flags & ~{_TRASHED} WHERE id = ? "
                              "OR id IN (SELECT row_id FROM trash_files WHERE photo_id = ?)",
                              (pid, pid))
                    c.execute("DELETE FROM trash WHERE photo_id = ?", (pid,))
                    fts.mark(c, [pid])
                self._writer.call(found)
                returned.append(photo_id)
                continue
            if entry["now"] != "missing":
                continue   # its drive went and came back: still in the trash
            original = str(entry["path"])
            try:
                same = os.path.getsize(original) == int(entry["size"])
            except OSError:
                continue
            # Back at its place, the same size, and no longer in the trash: put back by hand.
            files = self._reader().rows("SELECT * FROM trash_files WHERE photo_id = ?",
                                        (photo_id,))
            main = next((f for f in files if f["kind"] == "photo"), None)
            if not same or main is None or (main["location"] is not None
                                            and os.path.lexists(str(main["location"]))):
                continue
            back = {int(f["row_id"]): str(f["path"]) for f in files
                    if f["row_id"] is not None and os.path.lexists(str(f["path"]))}
            gone = [int(f["row_id"]) for f in files
                    if f["row_id"] is not None and int(f["row_id"]) not in back]

            def put(c: Connection, pid: int = photo_id, back: dict[int, str] = back,
                    gone: list[int] = gone, status: str = str(entry["status"])) -> None:
                self._unflag(c, back, status, gone)
                c.execute("DELETE FROM trash WHERE photo_id = ?", (pid,))

            self._writer.call(put)
            returned.append(photo_id)
        return TidyReport(tuple(expired), tuple(returned))

    # ------------------------------------------------------------------ duplicates

    def holdings(self, photo_ids: Sequence[int]) -> dict[int, PhotoHoldings]:
        """What the library holds for each of these photos (those that exist), by id."""
        conn = self._reader()
        out: dict[int, PhotoHoldings] = {}
        for photo_id in dict.fromkeys(int(i) for i in photo_ids):
            row = conn.row("SELECT rating, flags FROM photos WHERE id = ?", (photo_id,))
            if row is None:
                continue
            caption = conn.row("SELECT summary, source FROM captions WHERE photo_id = ?",
                               (photo_id,))
            out[photo_id] = PhotoHoldings(
                id=photo_id,
                people=tuple(str(r[0]) for r in conn.execute(
                    "SELECT DISTINCT pe.name FROM faces f JOIN people pe ON pe.id = f.person_id "
                    "WHERE f.photo_id = ? AND pe.name IS NOT NULL ORDER BY f.x", (photo_id,))),
                albums=tuple(str(r[0]) for r in conn.execute(
                    "SELECT a.title FROM album_photos ap JOIN albums a ON a.id = ap.album_id "
                    "WHERE ap.photo_id = ? AND ap.removed = 0 AND a.removed = 0 "
                    "AND a.kind = 'manual' ORDER BY a.title", (photo_id,))),
                caption=None if caption is None else str(caption["summary"]),
                caption_source=None if caption is None else str(caption["source"]),
                rating=row["rating"], favorite=bool(int(row["flags"]) & photos.FLAG_FAVORITE),
                tags=tuple(str(r[0]) for r in conn.execute(
                    "SELECT tag FROM photo_tags WHERE photo_id = ? AND source = 'user' "
                    "ORDER BY tag", (photo_id,))))
        return out

    def keep(self, kept: int | str, others: Sequence[int | str], *,
             progress: ProgressCallback | None = None,
             cancel: CancelToken | None = None) -> KeepReport:
        """Keep one copy of a duplicate group and move the others to the trash. What
        belonged to a trashed copy is given to the kept one first: its album memberships,
        the people named on its faces (on the kept copy's matching face; where there is none,
        the name is kept in the trash record), the caption the person wrote, the stars, the
        favourite, the tags the person gave. The trashed copies keep their own, so a restore
        brings each back as it was. Report with ``photos_changed(report.photo_ids,
        "edited")``."""
        conn = self._reader()
        row = photos.get_photo(conn, kept)
        if row is None:
            raise TrashError(f"no photo {kept}", code="trash.unknown_photo",
                             values={"photo": str(kept)})
        kept_id = int(row["id"])
        other_rows = []
        for ref in others:
            other = photos.get_photo(conn, ref)
            if other is None:
                raise TrashError(f"no photo {ref}", code="trash.unknown_photo",
                                 values={"photo": str(ref)})
            if int(other["id"]) == kept_id:
                raise TrashError("the copy kept is among those to trash",
                                 code="trash.same_photo", values={"photo": str(ref)})
            other_rows.append(int(other["id"]))
        if not other_rows:
            raise TrashError("no photos given", code="trash.no_photos")
        moved: dict[int, MovedToKept] = {}
        for oid in other_rows:
            moved[oid] = self._writer.call(functools.partial(_give, other=oid, kept=kept_id))
        report = self.move(other_rows, progress=progress, cancel=cancel)

        def note(c: Connection) -> None:
            for t in report.trashed:
                c.execute("UPDATE trash SET kept_id = ?, moved = ? WHERE photo_id = ?",
                          (kept_id, json.dumps(_as_json(moved[t.id])), t.id))

        self._writer.call(note)
        trashed = set(report.photo_ids)
        return KeepReport(kept_id, tuple(moved[o] for o in other_rows if o in trashed), report)

    def keep_many(self, plan: Sequence[tuple[int | str, Sequence[int | str]]], *,
                  progress: ProgressCallback | None = None,
                  cancel: CancelToken | None = None) -> list[KeepReport]:
        """``keep`` for many groups (the copy kept, the copies to trash), with one progress
        over every copy; a cancel stops between photos, and what was done stays done (the
        list then ends early)."""
        meter = ProgressMeter("keep", progress)
        meter.start_phase("trash", sum(len(others) for _, others in plan))
        reports: list[KeepReport] = []
        for kept, others in plan:
            if cancel is not None and cancel.cancelled:
                break
            reports.append(self.keep(kept, others, cancel=cancel))
            meter.advance(len(others), errors=len(reports[-1].trash.problems))
        meter.finish()
        return reports


def _as_json(m: MovedToKept) -> dict[str, Any]:
    return {"albums": list(m.albums), "people": list(m.people),
            "people_not_placed": list(m.people_not_placed), "caption": m.caption,
            "rating": m.rating, "favorite": m.favorite, "tags": list(m.tags)}


def _from_json(photo_id: int, text: str | None) -> MovedToKept | None:
    if not text:
        return None
    try:
        d = json.loads(text)
        return MovedToKept(photo_id, tuple(d["albums"]), tuple(d["people"]),
                           tuple(d["people_not_placed"]), bool(d["caption"]), d["rating"],
                           bool(d["favorite"]), tuple(d["tags"]))
    except (ValueError, KeyError, TypeError):
        return None   # a record another version wrote: the photo is listed without it


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Intersection over union of two faces' boxes (fractions of the upright image)."""
    x1, y1 = max(a["x"], b["x"]), max(a["y"], b["y"])
    x2 = min(a["x"] + a["w"], b["x"] + b["w"])
    y2 = min(a["y"] + a["h"], b["y"] + b["h"])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a["w"] * a["h"] + b["w"] * b["h"] - inter
    return inter / union if union > 0 else 0.0


def _give(c: Connection, other: int, kept: int) -> MovedToKept:
    """Copy onto ``kept`` what the person gave ``other`` and ``kept`` lacks."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    albums = [str(r["name"]) for r in c.rows(
        "SELECT a.id, a.title AS name FROM album_photos ap JOIN albums a ON a.id = ap.album_id "
        "WHERE ap.photo_id = ? AND ap.removed = 0 AND ap.added_by = 'user' AND NOT EXISTS "
        "(SELECT 1 FROM album_photos k WHERE k.album_id = ap.album_id AND k.photo_id = ? "
        "AND k.removed = 0)", (other, kept))]
    c.execute("INSERT INTO album_photos(album_id, photo_id, position, added_by, removed, "
              "added_at) SELECT album_id, ?, position, 'user', 0, ? FROM album_photos "
              "WHERE photo_id = ? AND removed = 0 AND added_by = 'user' "
              "ON CONFLICT(album_id, photo_id) DO UPDATE SET removed = 0", (kept, now, other))
    c.execute("UPDATE albums SET cover_photo = ? WHERE cover_photo = ?", (kept, other))
    placed: list[str] = []
    not_placed: list[str] = []
    kept_faces = c.rows("SELECT f.id, f.x, f.y, f.w, f.h, f.person_id, f.assigned, pe.name "
                        "FROM faces f LEFT JOIN people pe ON pe.id = f.person_id "
                        "WHERE f.photo_id = ?", (kept,))
    for face in c.rows("SELECT f.x, f.y, f.w, f.h, f.person_id, pe.name FROM faces f "
                       "JOIN people pe ON pe.id = f.person_id WHERE f.photo_id = ? "
                       "AND pe.name IS NOT NULL", (other,)):
        match = max(kept_faces, key=lambda k: _overlap(face, k), default=None)
        name = str(face["name"])
        if match is None or _overlap(face, match) < 0.3:
            not_placed.append(name)
        elif match["person_id"] == face["person_id"]:
            continue
        elif match["name"] is not None and match["assigned"] == "user":
            not_placed.append(name)   # the person named that face otherwise: theirs stands
        else:
            c.execute("UPDATE faces SET person_id = ?, assigned = 'user' WHERE id = ?",
                      (face["person_id"], match["id"]))
            placed.append(name)
    caption = False
    if c.one("SELECT 1 FROM captions WHERE photo_id = ? AND source = 'user'", (other,)) and \
            not c.one("SELECT 1 FROM captions WHERE photo_id = ? AND source = 'user'", (kept,)):
        c.execute("INSERT OR REPLACE INTO captions(photo_id, content_hash, source, model, "
                  "prompt_sha, summary, data, updated_at) SELECT ?, (SELECT content_hash FROM "
                  "photos WHERE id = ?), source, model, prompt_sha, summary, data, ? "
                  "FROM captions WHERE photo_id = ?", (kept, kept, now, other))
        caption = True
    mine = c.row("SELECT rating, rating_source, flags FROM photos WHERE id = ?", (other,)) or {}
    theirs = c.row("SELECT rating, rating_source, flags FROM photos WHERE id = ?",
                   (kept,)) or {}
    rating = None
    if mine.get("rating_source") == photos.MANUAL and mine.get("rating") is not None and (
            theirs.get("rating_source") != photos.MANUAL
            or int(theirs.get("rating") or 0) < int(mine["rating"])):
        rating = int(mine["rating"])
        c.execute("UPDATE photos SET rating = ?, rating_source = ? WHERE id = ?",
                  (rating, photos.MANUAL, kept))
    favorite = bool(int(mine.get("flags") or 0) & photos.FLAG_FAVORITE) and not (
        int(theirs.get("flags") or 0) & photos.FLAG_FAVORITE)
    if favorite:
        c.execute(f"UPDATE photos SET flags = flags | {photos.FLAG_FAVORITE} WHERE id = ?",
                  (kept,))
    tags = [str(r[0]) for r in c.execute(
        "SELECT tag FROM photo_tags WHERE photo_id = ? AND source = 'user' AND tag NOT IN "
        "(SELECT tag FROM photo_tags WHERE photo_id = ? AND source = 'user')", (other, kept))]
    c.execute("INSERT OR IGNORE INTO photo_tags(photo_id, tag, source, confidence, vocabulary) "
              "SELECT ?, tag, source, confidence, vocabulary FROM photo_tags "
              "WHERE photo_id = ? AND source = 'user'", (kept, other))
    if caption or tags or placed:
        fts.mark(c, [kept])
    return MovedToKept(other, tuple(albums), tuple(placed), tuple(not_placed), caption,
                       rating, favorite, tuple(tags))
