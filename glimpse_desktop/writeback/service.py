"""Metadata that travels: names, captions, tags and ratings written to XMP (sidecars, and JPEGs
when asked), and read back from sidecars and embedded XMP, ours or another app's (digiKam,
darktable, Lightroom), so they survive a lost library and arrive from other tools.

Keeping and judging (api/judge.py) travels too:

- stars: ``xmp:Rating`` 0-5; a reject: ``xmp:Rating`` -1 (the Adobe/Lightroom and Bridge
  convention, which digiKam reads as "rejected" too), its stars kept in the library;
- a favourite: digiKam's pick label ``digiKam:PickLabel`` 3 ("accepted"), a reject
  ``digiKam:PickLabel`` 1: digiKam shows both, and reading a file back (a lost library, a
  sidecar another app wrote) restores the favourite from 3 and the reject from 1 or from a
  rating of -1 (a label of none or "pending" takes nothing away);
- a photo the person turned: the orientation composed of the file's own and their quarter
  turns, as ``tiff:Orientation`` in the sidecar and, when writing into files, as EXIF
  IFD0 Orientation through exiv2 (pixels untouched); turned back, the file's own again.

A rating read from a file is the file's (``rating_source`` NULL); stars the person gave or
took away in Glimpse are kept unless another app changes the rating Glimpse wrote.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glimpse_desktop.captions.service import index_caption
from glimpse_desktop.faces import people as faces_store
from glimpse_desktop.faces.stage import FaceCrops
from glimpse_desktop.kernel import fts, photos
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer, is_environmental, now_iso
from glimpse_desktop.kernel.lock import IngestLock
from glimpse_desktop.kernel.orientation import compose as compose_orientation
from glimpse_desktop.kernel.pipeline import hash_content
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, ProgressCallback, ProgressMeter
from glimpse_desktop.kernel.thumbnails import KINDS, ThumbnailCache
from glimpse_desktop.metadata import xmp
from glimpse_desktop.writeback import files, store
from glimpse_desktop.writeback.records import (
    CaptionPayload,
    FileProblem,
    Payload,
    PlanItem,
    RegionPayload,
    SidecarsRead,
    WriteBackReport,
)

__all__ = ["REGION_IOU", "Payload", "PlanItem", "SidecarsRead", "WriteBack", "WriteBackReport"]

TARGETS = ("sidecar", "embed")
# A region and a detected face are the same face when they overlap this much (or the face's
# centre lies inside the region: other apps draw looser or tighter boxes than our detector).
REGION_IOU = 0.3
_PEOPLE = "People|"
# Descriptions a photo already has, best first, when it has no caption. Not the file's own
# dc:description as the metadata stage keeps it: that joins every language into one text.
_DESCRIPTION_ORDER = ("xmp-sidecar", "exif:ImageDescription")
_NOT_DESCRIPTIONS = ("xmp:dc:description",)
# Tags read from XMP: a sidecar's, and the file's own embedded XMP.
_TAG_SOURCES = {"sidecar": "xmp", "embedded": "xmp-embedded"}


@dataclass
class _Tally:
    """A run's counts as it goes; its ``WriteBackReport`` at the end."""

    dry_run: bool
    written: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[FileProblem] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    cancelled: bool = False

    def report(self) -> WriteBackReport:
        return WriteBackReport(written=self.written, unchanged=self.unchanged,
                               skipped=self.skipped, failed=self.failed,
                               errors=tuple(self.errors), targets=tuple(self.targets),
                               dry_run=self.dry_run, cancelled=self.cancelled)


@dataclass
class _Item:
    photo_id: int
    path: str
    target: str
    target_path: str
    action: str
    reason: str
    payload: Payload | None = None
    digest: str = ""
    previous: xmp.XmpData | None = None       # what Glimpse wrote there last time
    previous_exif: xmp.XmpData | None = None
    written: str | None = None                # what it writes now (JSON), once written

    def public(self) -> PlanItem:
        return PlanItem(photo_id=self.photo_id, path=self.path, target=self.target,
                        target_path=self.target_path, action=self.action, reason=self.reason)


def _digest(payload: Payload) -> str:
    return hashlib.sha256(json.dumps(payload.as_dict(), sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()[:32]


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _previous(raw: str | None) -> tuple[xmp.XmpData | None, xmp.XmpData | None]:
    """A writeback row's record: what was written into the XMP, and (embedding) the EXIF."""
    if not raw:
        return None, None
    try:
        rec = json.loads(raw)
    except ValueError:
        return None, None
    if not isinstance(rec, dict):
        return None, None
    return xmp.XmpData.from_record(rec), xmp.XmpData.from_record(rec.get("exif"))


def subtract(data: xmp.XmpData, ours: xmp.XmpData | None) -> xmp.XmpData:
    """What a file says that Glimpse did not write there itself (``ours``: the record of its
    last write; None when the library has none, as after a lost library: then all of it)."""
    if ours is None:
        return data
    # Keywords as spelt: another app's "Beach" beside our "beach" is its own.
    subjects = {xmp.same_text(t) for t in ours.subjects}
    hierarchical = {xmp.same_text(t) for t in ours.hierarchical}
    caption = data.caption
    if caption is not None and ours.caption is not None and \
            _fold(caption.summary) == _fold(ours.caption.summary):
        caption = None
    return xmp.XmpData(
        description=(None if data.description and ours.description
                     and _fold(data.description) == _fold(ours.description)
                     else data.description),
        title=data.title,
        subjects=[t for t in data.subjects if xmp.same_text(t) not in subjects],
        hierarchical=[t for t in data.hierarchical if xmp.same_text(t) not in hierarchical],
        rating=None if data.rating is not None and data.rating == ours.rating else data.rating,
        pick=None if data.pick is not None and data.pick == ours.pick else data.pick,
        regions=[r for r in data.regions if not any(xmp._same_region(r, o)
                                                    for o in ours.regions)],
        applied_to=data.applied_to, caption=caption)


def _sidecar_of(photo: str, names: files.FolderNames, known: str | None) -> str:
    """The photo's sidecar (`files.sidecar_path`), except that a Lightroom ``name.xmp``
    already read as this photo's stays its own while it is there: another photo with the
    same stem appearing (a.cr2 beside a.jpg) makes the name ambiguous for new sidecars, but
    what was read from it (names, tags) must not be cleared, nor a new a.jpg.xmp split the
    photo's metadata in two."""
    found = files.sidecar_path(photo, names)
    if known is None or os.path.basename(found) in names.names:
        return found
    folder, filename = os.path.split(photo)
    known_folder, known_name = os.path.split(known)
    if known_folder == folder and known_name in names.names and \
            known_name.lower() == os.path.splitext(filename)[0].lower() + ".xmp":
        return known
    return found


def _stored_size(row: dict[str, Any]) -> tuple[int, int] | None:
    w, h = row.get("width"), row.get("height")
    if not w or not h:
        return None
    return (int(h), int(w)) if (row.get("orientation") or 1) >= 5 else (int(w), int(h))


def to_xmp(payload: Payload) -> xmp.XmpData:
    """A photo's write-back payload as the XMP Glimpse writes."""
    orientation = payload.orientation or 1
    caption = payload.caption
    pick = store.PICK_REJECTED if payload.rejected else \
        store.PICK_ACCEPTED if payload.favorite else None
    return xmp.XmpData(
        description=payload.description,
        subjects=list(payload.keywords),
        hierarchical=list(payload.hierarchical),
        rating=-1 if payload.rejected else payload.rating,
        pick=pick,
        orientation=(compose_orientation(orientation, payload.rotation)
                     if payload.rotation else None),
        base_orientation=orientation,
        regions=[xmp.region_from_upright(r.name, (r.x, r.y, r.w, r.h), orientation)
                 for r in payload.regions],
        applied_to=((int(payload.stored_size[0]), int(payload.stored_size[1]))
                    if payload.regions and payload.stored_size else None),
        caption=(xmp.XmpCaption(summary=caption.summary, model=caption.model,
                                data=xmp.caption_data(caption.data),
                                source=caption.source) if caption else None),
        taken_at=payload.taken_at, gps=payload.gps, clear_gps=payload.clear_gps)


def _set_by_hand(conn: Connection, photo_id: int
                 ) -> tuple[str | None, tuple[float, float, float | None] | None, bool]:
    """The date taken and the place of a photo when the person set them (the edits service,
    api/edits.py): (taken_at, (lat, lon, alt), place cleared). A library whose photos have no
    ``gps_source`` yet (before migration 8) has no place set by hand."""
    row = conn.row("SELECT * FROM photos WHERE id = ?", (photo_id,)) or {}
    taken = str(row["taken_at"]) if row.get("taken_at_source") == "manual" and \
        row.get("taken_at") else None
    if row.get("gps_source") != "manual":
        return taken, None, False
    lat, lon, alt = row.get("gps_lat"), row.get("gps_lon"), row.get("gps_alt")
    if lat is None or lon is None:
        return taken, None, True
    return taken, (float(lat), float(lon), None if alt is None else float(alt)), False


class WriteBack:
    """Write-back and read-back of a library's metadata (``lib.writeback``)."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer,
                 config: Any, thumbnails: ThumbnailCache, crops: FaceCrops,
                 lock: IngestLock | None = None) -> None:
        self.reader = reader
        self.writer = writer
        self.config = config
        self.thumbnails = thumbnails
        self.crops = crops
        # One write-back (or read-back) at a time per library, across threads and processes:
        # a run's plan, its writes and their records, and a read of the files, never
        # interleave (else a record of what Glimpse wrote would name another run's text, and
        # Glimpse's own items would look like another app's). Never held while waiting for
        # the ingest lock, nor taken inside it.
        self.lock = lock

    def _held(self, cancel: CancelToken, meter: ProgressMeter | None = None
              ) -> contextlib.AbstractContextManager[None]:
        if self.lock is None:
            return contextlib.nullcontext()
        return self.lock.hold(cancel, None if meter is None else lambda: meter.start_phase(
            "waiting for another Glimpse that is writing metadata to this library", None))

    # ------------------------------------------------------------------ what to write

    def payload(self, photo_id: int, conn: Connection | None = None) -> Payload:
        """What Glimpse knows of a photo that travels: description (its caption, else the
        description it has), keywords (tags and people's names), hierarchical keywords
        ("People|Name" for names), rating, named face regions (upright fractions) and the
        full caption. KeyError when there is no such photo."""
        conn = conn or self.reader()
        photo = store.photo_for_payload(conn, photo_id)
        if photo is None:
            raise KeyError(photo_id)
        caption = store.xmp_caption_row(conn, photo_id)
        description = caption["summary"] if caption else None
        origin = "caption" if description else None
        if not description:
            texts = store.description_texts(conn, photo_id)
            ordered = [s for s in _DESCRIPTION_ORDER if s in texts] + \
                [s for s in texts if s not in _DESCRIPTION_ORDER and s not in _NOT_DESCRIPTIONS]
            origin = next((s for s in ordered if texts[s].strip()), None)
            description = texts[origin].strip() if origin else None
        taken_at, gps, clear_gps = _set_by_hand(conn, photo_id)
        regions = store.named_faces(conn, photo_id)
        names = list(dict.fromkeys(str(r["name"]) for r in regions))
        folded = {_fold(n) for n in names}
        tags: list[str] = []
        for tag in store.tag_names(conn, photo_id):
            if _fold(tag) not in folded:   # one of each, however it is spelt
                folded.add(_fold(tag))
                tags.append(tag)
        return Payload(
            description=description or None,
            description_from=origin,
            keywords=(*tags, *names),
            hierarchical=(*tags, *(_PEOPLE + n for n in names)),
            rating=photo["rating"],
            regions=tuple(RegionPayload(str(r["name"]), *(round(float(r[k]), 5)
                                                          for k in ("x", "y", "w", "h")))
                          for r in regions),
            caption=(CaptionPayload(summary=caption["summary"], model=caption["model"],
                                    data=caption["data"], source=caption["source"])
                     if caption else None),
            orientation=int(photo["orientation"] or 1),
            stored_size=_stored_size(photo),
            taken_at=taken_at, gps=gps, clear_gps=clear_gps,
            favorite=bool(int(photo["flags"] or 0) & photos.FLAG_FAVORITE),
            rejected=bool(int(photo["flags"] or 0) & photos.FLAG_REJECTED)
            or int(photo["rating"] or 0) < 0,
            rotation=int(photo["rotation"] or 0) % 4)

    def _items(self, *, sidecar: bool, embed: bool,
               photo_ids: Sequence[int] | None) -> list[_Item]:
        conn = self.reader()
        targets = [t for t, on in (("sidecar", sidecar), ("embed", embed)) if on]
        rows = store.photo_rows(conn, photo_ids)
        before = {(int(r["photo_id"]), str(r["target"])): r
                  for r in store.written_records(conn)}
        read = {int(r["photo_id"]): str(r["path"]) for r in store.sidecar_rows(conn)}
        listings: dict[str, files.FolderNames] = {}
        out: list[_Item] = []
        for row in rows:
            pid, path, folder = int(row["id"]), str(row["path"]), str(row["folder"])
            payload = self.payload(pid, conn)
            digest = _digest(payload)
            for target in targets:
                last = before.get((pid, target))
                if target == "sidecar":
                    if folder not in listings:
                        listings[folder] = files.FolderNames.of(folder)
                    names = listings[folder]
                    target_path = _sidecar_of(path, names, read.get(pid))
                    exists = os.path.basename(target_path) in names.names
                else:
                    target_path, exists = path, True
                item = _Item(pid, path, target, target_path, "update" if exists else "create",
                             "", payload, digest)
                if last is not None:
                    item.previous, item.previous_exif = _previous(last["written"])
                if target == "embed" and not files.can_embed(path):
                    item.action, item.reason = "skip", ("writing into this format is not "
                                                        "supported; use sidecars")
                elif payload.empty() and last is None:
                    item.action, item.reason = "skip", "nothing to write"
                elif last is not None and last["digest"] == digest and \
                        last["path"] == target_path and (exists or target == "embed"):
                    item.action, item.reason = "unchanged", "already written"
                elif payload.empty():
                    item.reason = "clear what was written before"
                else:
                    item.reason = "new" if last is None else "changed since the last write"
                out.append(item)
        return out

    def plan(self, *, sidecar: bool = True, embed: bool = False,
             photo_ids: Sequence[int] | None = None) -> list[PlanItem]:
        """What a run would do, per photo and target: ``action`` is 'create', 'update',
        'unchanged' or 'skip' (with the ``reason``)."""
        return [i.public() for i in self._items(sidecar=sidecar, embed=embed,
                                                photo_ids=photo_ids)]

    # ------------------------------------------------------------------ writing

    def run(self, *, sidecar: bool = True, embed: bool = False, dry_run: bool = False,
            photo_ids: Sequence[int] | None = None, progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None) -> WriteBackReport:
        """Write what changed since the last write (sidecars and/or JPEGs). One file that
        cannot be written is reported and skipped; nothing already there is lost. One run (or
        read of the files) at a time per library: another's is waited for, cancellably; a
        sidecar another app changed since it was read is read first."""
        token = cancel or CancelToken()
        meter = ProgressMeter("writeback", progress)
        report = _Tally(dry_run=dry_run)
        try:
            with self._held(token, meter):
                self._run(report, meter, token, sidecar=sidecar, embed=embed,
                          photo_ids=photo_ids)
        except Cancelled:
            report.cancelled = True
        meter.finish()
        return report.report()

    def _run(self, report: _Tally, meter: ProgressMeter, token: CancelToken, *,
             sidecar: bool, embed: bool, photo_ids: Sequence[int] | None) -> None:
        dry_run = report.dry_run
        items = self._items(sidecar=sidecar, embed=embed, photo_ids=photo_ids)
        unread = [] if dry_run else self._unread(items)
        if unread:
            # Another app wrote these sidecars since they were last read: what it said is
            # taken in first (else our write would mark it as read, and it would never be).
            self._read_sidecars(unread, None, token)
            self.apply_regions(unread)
            items = self._items(sidecar=sidecar, embed=embed, photo_ids=photo_ids)
        todo = [i for i in items if i.action in ("create", "update")]
        report.unchanged = sum(1 for i in items if i.action == "unchanged")
        report.skipped = sum(1 for i in items if i.action == "skip")
        meter.start_phase("writing metadata", len(todo))
        for item in todo:
            if token.cancelled:
                report.cancelled = True
                break
            if dry_run:
                report.written += 1
                report.targets.append(item.target_path)
                meter.advance()
                continue
            try:
                if item.target == "sidecar":
                    self._write_sidecar(item)
                else:
                    self._embed(item)
            except files.WriteBackError as exc:
                report.failed += 1
                report.errors.append(FileProblem(item.target_path, exc.strerror or str(exc)))
                meter.advance(errors=1)
                continue
            report.written += 1
            report.targets.append(item.target_path)
            meter.advance(current=item.target_path)

    def _unread(self, items: list[_Item]) -> list[int]:
        """The photos of ``items`` to write whose sidecar is there but not as last read."""
        rows = {int(r["photo_id"]): r for r in store.sidecar_rows(self.reader())}
        out: list[int] = []
        for item in items:
            if item.target != "sidecar" or item.action not in ("create", "update"):
                continue
            try:
                st = os.stat(item.target_path)
            except OSError:
                continue
            row = rows.get(item.photo_id)
            if row is None or row["path"] != item.target_path or \
                    (row["size"], row["mtime_ns"]) != (st.st_size, st.st_mtime_ns):
                out.append(item.photo_id)
        return list(dict.fromkeys(out))

    def sync(self, photo_ids: Sequence[int] | None = None,
             progress: ProgressCallback | None = None,
             cancel: CancelToken | None = None) -> WriteBackReport | None:
        """Keep files in step when ``writeback.sync`` is on (else do nothing): writes the
        photos whose metadata changed (of ``photo_ids`` only, when given: a batch of new
        photos need not look at the whole library), to the targets the settings name."""
        if not self.config.get("writeback.sync"):
            return None
        sidecar, embed = bool(self.config.get("writeback.sidecar")), \
            bool(self.config.get("writeback.embed"))
        if not (sidecar or embed):
            return None
        if photo_ids is not None and not photo_ids:
            return None
        return self.run(sidecar=sidecar, embed=embed, photo_ids=photo_ids, progress=progress,
                        cancel=cancel)

    def _record(self, c: Connection, item: _Item, *, seen: str, kind: str) -> None:
        store.record_written(c, item.photo_id, item.target, item.target_path, item.digest,
                             item.written, now_iso())
        # Our own write is not news: reading it back would only undo later edits.
        try:
            st = os.stat(seen)
        except OSError:
            return
        store.record_read(c, seen, item.photo_id, kind, st.st_size, st.st_mtime_ns, now_iso())

    def _write_sidecar(self, item: _Item) -> None:
        assert item.payload is not None
        done = files.write_sidecar(item.target_path, to_xmp(item.payload), item.previous)
        if item.payload.description_from == "xmp-sidecar":
            # Another app's description, read from a sidecar, put back where our caption was:
            # it is theirs again (read back as theirs, never taken out as ours).
            done.record.description = None
        item.written = json.dumps(done.record.record(), ensure_ascii=False)
        self.writer.call(lambda c: self._record(c, item, seen=item.target_path,
                                                kind="sidecar"))

    def _embed(self, item: _Item) -> None:
        assert item.payload is not None
        try:
            with open(item.path, "rb") as fh:
                old_hash = hash_content(fh.read())
        except OSError as exc:
            raise files.WriteBackError(exc.errno or 0, f"cannot read {item.path}: "
                                       f"{exc.strerror or exc}") from exc
        done = files.embed(item.path, to_xmp(item.payload), item.previous,
                           item.previous_exif)
        item.written = json.dumps({**done.record.record(),
                                   "exif": (done.exif or xmp.XmpData()).record()},
                                  ensure_ascii=False)
        new = done.body
        new_hash = hash_content(new)
        st = os.stat(item.path)

        def apply(c: Connection) -> tuple[str | None, bool]:
            current = store.content_hash(c, item.photo_id)
            self._record(c, item, seen=item.path, kind="embedded")
            if current != old_hash:
                # The file had changed since it was read (another write, a concurrent embed):
                # the next index reads it afresh. Its size and mtime may be the ones the
                # library knows (we keep the mtime), so they are made to differ.
                store.mark_changed(c, item.photo_id)
                return None, False
            # Same pixels, new bytes: everything derived from the pixels carries over, so a
            # later index finds the file unchanged (no re-detection, names stay).
            shared = store.rekey(c, item.photo_id, st.st_size, st.st_mtime_ns, old_hash,
                                 new_hash)
            return old_hash, shared

        old, shared = self.writer.call(apply)
        if old is not None:
            self._rekey_cache(old, new_hash, keep_old=shared)

    def _rekey_cache(self, old: str, new: str, *, keep_old: bool) -> None:
        """Thumbnails and face crops are keyed by content: give them the new key (a copy when
        another photo still has the old bytes)."""
        moves: list[tuple[Path, Path]] = [
            (self.thumbnails.path_for(old, kind), self.thumbnails.path_for(new, kind))
            for kind in KINDS]
        folder = self.crops.root / old[:2]
        if folder.is_dir():
            for crop in folder.glob(f"{old}-*.jpg"):
                moves.append((crop, self.crops.root / new[:2] /
                              (new + crop.name[len(old):])))
        for src, dst in moves:
            if not src.is_file() or dst.exists():
                continue
            try:
                dst.parent.mkdir(parents=True, exist_ok=True)
                if keep_old:
                    shutil.copy2(src, dst)
                else:
                    os.replace(src, dst)
            except OSError:
                pass  # a cache: what cannot be moved is made again when needed

    # ------------------------------------------------------------------ reading

    def read_sidecars(self, photo_ids: Sequence[int] | None = None,
                      progress: ProgressCallback | None = None,
                      cancel: CancelToken | None = None) -> SidecarsRead:
        """Read the sidecars (and JPEGs' embedded XMP) of the library's photos that are new
        or changed since last read, and apply them: descriptions and keywords to the photo's
        text, keywords to its tags, the rating (when the photo has none, or another app changed
        the one Glimpse wrote), Glimpse's caption
        (when it has none), and named face regions (matched to faces by `apply_regions`).
        What Glimpse itself wrote into that file (its writeback record) is not read back as
        another app's word; with no record (a new library on old files) all of it is.
        Returns counts and errors: a sidecar that cannot be read, or holds a value that cannot
        be kept, is reported (and kept as a metadata warning of the photo) and left alone.
        Faces are named from the files' regions by `apply_regions`, not here (``named`` 0)."""
        token = cancel or CancelToken()
        try:
            with self._held(token):
                return self._read_sidecars(photo_ids, progress, token)
        except Cancelled:
            return SidecarsRead(cancelled=True)

    def _read_sidecars(self, photo_ids: Sequence[int] | None,
                       progress: ProgressCallback | None, token: CancelToken
                       ) -> SidecarsRead:
        meter = ProgressMeter("sidecars", progress)
        conn = self.reader()
        rows = store.photos_to_read(conn, photo_ids)
        seen: dict[int, dict[str, dict[str, Any]]] = {}
        for r in store.sidecar_stats(conn):
            seen.setdefault(int(r["photo_id"]), {})[str(r["kind"])] = r
        ours: dict[tuple[int, str], xmp.XmpData | None] = {
            (int(r["photo_id"]), "sidecar" if r["target"] == "sidecar" else "embedded"):
                _previous(r["written"])[0]
            for r in store.read_records(conn)}
        listings: dict[str, files.FolderNames] = {}
        wordless: set[int] = set()
        todo: list[tuple[dict[str, Any], str, str, xmp.XmpData | None, os.stat_result | None]] = []
        problems: list[tuple[dict[str, Any], str, str]] = []   # (photo, file, reason)
        result = {"read": 0, "embedded": 0, "cleared": 0}
        errors: list[FileProblem] = []
        meter.start_phase("reading XMP sidecars", len(rows))
        for row in rows:
            if token.cancelled:
                break
            meter.advance()
            pid, path, folder = int(row["id"]), str(row["path"]), str(row["folder"])
            if folder not in listings:
                listings[folder] = files.FolderNames.of(folder)
            names = listings[folder]
            known = seen.get(pid, {})
            side_row = known.get("sidecar")
            sidecar = _sidecar_of(path, names, str(side_row["path"]) if side_row else None)
            if os.path.basename(sidecar) in names.names:
                try:
                    st = os.stat(sidecar)
                except OSError:
                    st = None
                fresh = (st is not None and side_row is not None
                         and side_row["path"] == sidecar
                         and (side_row["size"], side_row["mtime_ns"]) ==
                         (st.st_size, st.st_mtime_ns)
                         and str(side_row["read_at"]) >= str(row["updated_at"]))
                if st is not None and not fresh:
                    try:
                        with open(sidecar, "rb") as fh:
                            found = xmp.parse(fh.read(16 * 1024 * 1024))
                    except Exception as exc:  # any file, any value: reported, never fatal
                        reason = str(exc) if isinstance(exc, (OSError, xmp.XmpError)) else \
                            f"unreadable XMP ({type(exc).__name__}: {exc})"
                        errors.append(FileProblem(sidecar, reason))
                        problems.append((row, sidecar, reason))
                        continue
                    todo.append((row, "sidecar", sidecar,
                                 subtract(found, ours.get((pid, "sidecar"))), st))
            elif side_row is not None:
                todo.append((row, "sidecar", str(side_row["path"]), None, None))
            emb = known.get("embedded")
            if files.can_embed(path) and (
                    emb is None or (emb["size"], emb["mtime_ns"]) !=
                    (row["size"], row["mtime_ns"])):
                data: xmp.XmpData | None
                try:
                    packet = files.read_embedded_xmp(path)
                    data = xmp.parse(packet) if packet else None
                except (OSError, xmp.XmpError):
                    data = None   # the metadata stage has said what is wrong with the file
                except Exception as exc:
                    data = None
                    errors.append(FileProblem(path, f"unreadable embedded XMP "
                                              f"({type(exc).__name__}: {exc})"))
                if data is not None:
                    data = subtract(data, ours.get((pid, "embedded")))
                elif emb is None:
                    # A first look that finds no XMP changes no word of the photo: its
                    # full-text row, just built by the index, is not rebuilt for it.
                    wordless.add(pid)
                todo.append((row, "embedded", path, data, None))
        touched: list[int] = []

        def apply_one(c: Connection, row: dict[str, Any], kind: str, where: str,
                      data: xmp.XmpData | None, st: os.stat_result | None) -> None:
            pid = int(row["id"])
            if kind == "sidecar":
                self._apply_file(c, row, data, "sidecar")
                if data is None or st is None:
                    store.forget_sidecar(c, where)
                    result["cleared"] += 1
                else:
                    store.record_read(c, where, pid, "sidecar", st.st_size, st.st_mtime_ns,
                                      now_iso())
                    result["read"] += 1
                photos.clear_errors(c, where, ["metadata"])
            else:
                self._apply_file(c, row, data, "embedded")
                store.record_read(c, where, pid, "embedded", row["size"], row["mtime_ns"],
                                  now_iso())
                if data is not None and data.regions:
                    result["embedded"] += 1

        def warn(c: Connection, row: dict[str, Any], where: str, reason: str) -> None:
            """A file's problem, kept as the photo's metadata warning (as a field the
            metadata stage cannot read is)."""
            photos.record_error(c, path=where, stage="metadata", reason=reason,
                                root_id=row.get("root_id"), photo_id=int(row["id"]))

        def apply(c: Connection, batch: list[Any]) -> None:
            for row, kind, where, data, st in batch:
                # One file's value the database refuses costs that file, not the batch.
                c.execute("SAVEPOINT sidecar")
                try:
                    apply_one(c, row, kind, where, data, st)
                except Exception as exc:
                    if not c.in_transaction or isinstance(exc, LibraryError) or \
                            is_environmental(exc):
                        raise
                    c.execute("ROLLBACK TO sidecar")
                    c.execute("RELEASE sidecar")
                    reason = f"its XMP could not be kept ({type(exc).__name__}: {exc})"
                    errors.append(FileProblem(where, reason))
                    warn(c, row, where, reason)
                    continue
                c.execute("RELEASE sidecar")
                touched.append(int(row["id"]))
            fts.mark(c, [int(row["id"]) for row, kind, _w, _d, _s in batch
                         if kind != "embedded" or int(row["id"]) not in wordless])

        for start in range(0, len(todo), 200):
            self.writer.call(functools.partial(apply, batch=todo[start:start + 200]))
        if problems:
            def report(c: Connection) -> None:
                for row, where, reason in problems:
                    warn(c, row, where, reason)
            self.writer.call(report)
        meter.finish()
        return SidecarsRead(read=result["read"], embedded=result["embedded"],
                            cleared=result["cleared"], photos=len(dict.fromkeys(touched)),
                            errors=tuple(errors))

    def photos_of_sidecars(self, paths: Sequence[str]) -> list[int]:
        """The photos these sidecar files belong to (``a.jpg.xmp`` -> a.jpg; Lightroom's
        ``a.xmp`` -> the photo named ``a.*`` in that folder)."""
        conn = self.reader()
        ids: list[int] = []
        for path in paths:
            base = path[:-4] if path.lower().endswith(".xmp") else path
            found = store.photo_ids_by_path(conn, base)
            if found is not None:
                ids.append(found)
                continue
            folder, stem = os.path.split(base)
            ids += store.photo_ids_by_stem(conn, folder, stem)
        return list(dict.fromkeys(ids))

    @staticmethod
    def _names(data: xmp.XmpData) -> list[str]:
        names = [r.name for r in data.regions if r.type.lower() == "face"]
        names += [h[len(_PEOPLE):].split("|")[-1] for h in data.hierarchical
                  if h.lower().startswith(_PEOPLE.lower()) and len(h) > len(_PEOPLE)]
        return list(dict.fromkeys(n.strip() for n in names if n.strip()))

    def _apply_file(self, c: Connection, row: dict[str, Any], data: xmp.XmpData | None,
                    kind: str) -> None:
        """What a sidecar (``kind`` 'sidecar') or the file's own XMP ('embedded') says, less
        what Glimpse wrote there (see `subtract`), into the library; None: it is gone."""
        pid = int(row["id"])
        tag_source = _TAG_SOURCES[kind]
        store.clear_file_values(c, pid, tag_source, sidecar=kind == "sidecar")
        names: list[str] = []
        if data is not None:
            names = self._names(data)
            folded = {_fold(n) for n in names}
            if kind == "sidecar":
                # (the file's own description and keywords are the metadata stage's)
                if data.description:
                    store.set_file_text(c, pid, "description", data.description)
                if data.subjects:
                    store.set_file_text(c, pid, "keywords", "; ".join(data.subjects))
                if data.rating is not None and store.wrote_rating(c, pid):
                    # Not the rating Glimpse wrote there (`subtract`): another app changed
                    # it, and that is the photo's rating now.
                    store.set_rating(c, pid, data.rating, only_unrated=False)
                elif data.rating is not None:
                    # 0 is "not rated" (XMP, Windows): the sidecar's stars count then.
                    store.set_rating(c, pid, data.rating, only_unrated=True)
            if data.pick is not None:
                # digiKam's pick label (ours subtracted): a favourite or a reject.
                store.set_pick(c, pid, data.pick)
            # Tags as the other app spelt them ("Lisbon"); one of each, whatever the case
            # (search matches them without it).
            for tag in data.subjects:
                if _fold(tag) not in folded:
                    folded.add(_fold(tag))
                    store.add_file_tag(c, pid, tag, tag_source)
            self._apply_caption(c, row, data)
        self._set_regions(c, row, data.regions if data is not None else [], kind)
        self._people_text(c, pid, names)

    @staticmethod
    def _apply_caption(c: Connection, row: dict[str, Any], data: xmp.XmpData) -> None:
        cap = data.caption
        if cap is None or store.has_caption(c, int(row["id"])):
            return
        store.set_xmp_caption(c, int(row["id"]), row["content_hash"], cap.model, cap.summary,
                              cap.data, now_iso())
        # As a fresh caption is: its text, OCR and structured fields' tags, searchable.
        index_caption(c, int(row["id"]))

    @staticmethod
    def _set_regions(c: Connection, row: dict[str, Any], regions: list[xmp.XmpRegion],
                     source: str) -> None:
        """The file's named face regions, kept in step: a region that did not change keeps
        its row, and so the face it was matched to (a region read again after a rename must
        not undo what the person said of that face since)."""
        orientation = int(row["orientation"] or 1)
        have = store.region_rows(c, int(row["id"]), source)
        keep: set[int] = set()
        for region in regions:
            if region.type.lower() != "face":
                continue
            x, y, w, h = xmp.region_to_upright(region, orientation)
            same = next((r for r in have if int(r["id"]) not in keep and r["name"] == region.name
                         and max(abs(float(r[k]) - v) for k, v in
                                 (("x", x), ("y", y), ("w", w), ("h", h))) <= 1e-6), None)
            if same is not None:
                keep.add(int(same["id"]))
                continue
            keep.add(store.insert_region(c, int(row["id"]), source, region.name, (x, y, w, h)))
        for r in have:
            if int(r["id"]) not in keep:
                store.remove_region(c, int(r["id"]))

    @staticmethod
    def _people_text(c: Connection, pid: int, names: list[str]) -> None:
        """Names from XMP are searchable before (or without) any face being detected."""
        store.set_people_text(c, pid, names)

    # ------------------------------------------------------------------ regions to people

    def apply_regions(self, photo_ids: Sequence[int] | None = None) -> int:
        """Give named XMP regions' faces their names: a detected face that overlaps a region
        (IoU >= REGION_IOU, or its centre inside the region) goes to the person of that name
        (created if none), placed by hand. A face someone put in another person by hand keeps
        its person, and so does a face in a named person; a face is never given to a person
        it was said not to be ("Not this person", or kept apart from that person's faces),
        and nothing here takes such a word back. Returns how many faces were named."""
        conn = self.reader()
        sql = ("SELECT r.id, r.photo_id, r.name, r.x, r.y, r.w, r.h FROM xmp_regions r "
               "WHERE r.face_id IS NULL AND EXISTS (SELECT 1 FROM faces f "
               "WHERE f.photo_id = r.photo_id)")
        regions: list[dict[str, Any]] = []
        if photo_ids is None:
            regions = conn.rows(sql)
        else:
            ids = [int(i) for i in dict.fromkeys(photo_ids)]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                regions += conn.rows(f"{sql} AND r.photo_id IN ({','.join('?' * len(chunk))})",
                                     chunk)
        if not regions:
            return 0

        def apply(c: Connection) -> int:
            named = 0
            touched: set[int] = set()
            for region in regions:
                face = self._match(c, region)
                if face is None or face["ignored_at"] is not None:
                    continue   # (an ignored face: the person's word against the file's)
                person = c.row("SELECT id, name FROM people WHERE name = ? COLLATE NOCASE",
                               (region["name"],))
                if face["person_id"] is not None and person is not None and \
                        face["person_id"] == person["id"]:
                    c.execute("UPDATE xmp_regions SET face_id = ? WHERE id = ?",
                              (face["id"], region["id"]))
                    continue
                if face["person_id"] is not None and (face["assigned"] == "user" or c.one(
                        "SELECT name FROM people WHERE id = ?", (face["person_id"],))):
                    continue   # placed by hand, or in a person someone named: their word
                if person is not None and c.one(
                        "SELECT 1 FROM faces WHERE photo_id = ? AND person_id = ? AND id != ?",
                        (region["photo_id"], person["id"], face["id"])):
                    continue   # that person already has a face in this photo
                if person is not None and self._said_not(c, int(face["id"]), int(person["id"])):
                    continue   # the person's word against the file's
                if person is None:
                    now = now_iso()
                    c.execute("INSERT INTO people(name, created_at, updated_at) "
                              "VALUES (?, ?, ?)", (region["name"], now, now))
                    person_id = int(c.raw.last_insert_rowid())
                else:
                    person_id = int(person["id"])
                c.execute("UPDATE faces SET person_id = ?, assigned = 'user' WHERE id = ?",
                          (person_id, face["id"]))
                c.execute("UPDATE xmp_regions SET face_id = ? WHERE id = ?",
                          (face["id"], region["id"]))
                touched.add(int(region["photo_id"]))
                named += 1
            if touched:
                faces_store.refresh_names(c, sorted(touched))
                faces_store.prune_people(c)
            return named

        return int(self.writer.call(apply))

    @staticmethod
    def _said_not(c: Connection, face_id: int, person_id: int) -> bool:
        """The face was rejected from the person, or kept apart from one of its faces."""
        return bool(c.one("SELECT 1 FROM face_rejections WHERE face_id = ? AND person_id = ?",
                          (face_id, person_id)) or c.one(
            "SELECT 1 FROM face_apart a JOIN faces o ON o.id = (CASE WHEN a.face_id = ?1 "
            "THEN a.other_id ELSE a.face_id END) WHERE (a.face_id = ?1 OR a.other_id = ?1) "
            "AND o.person_id = ?2", (face_id, person_id)))

    @staticmethod
    def _match(c: Connection, region: dict[str, Any]) -> dict[str, Any] | None:
        box = (float(region["x"]), float(region["y"]), float(region["w"]), float(region["h"]))
        best: tuple[float, dict[str, Any]] | None = None
        for face in c.rows("SELECT id, x, y, w, h, person_id, assigned, ignored_at FROM faces "
                           "WHERE photo_id = ?", (region["photo_id"],)):
            fbox = (float(face["x"]), float(face["y"]), float(face["w"]), float(face["h"]))
            overlap = faces_store.iou(box, fbox)
            cx, cy = fbox[0] + fbox[2] / 2, fbox[1] + fbox[3] / 2
            inside = box[0] <= cx <= box[0] + box[2] and box[1] <= cy <= box[1] + box[3]
            if overlap < REGION_IOU and not inside:
                continue
            score = overlap + (0.5 if inside else 0.0)
            if best is None or score > best[0]:
                best = (score, face)
        return None if best is None else best[1]
