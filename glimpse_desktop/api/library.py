"""The Library facade: the one API the CLI and the GUI call.

It owns the library file (migrated on open), the single writer, per-thread readers, the
thumbnail cache and the ingestion pipeline.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gc
import json
import os
import platform
import re
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import PIL
import pillow_heif
from PIL import Image

from glimpse_desktop import __version__, features
from glimpse_desktop.albums.auto import AutoAlbums, AutoAlbumsError
from glimpse_desktop.albums.by_date import organize_by_date
from glimpse_desktop.albums.export import (
    PREVIEW,
    PREVIEW_EDGE,
    SIZES,
    ExportError,
    ExportReport,
    export_photos,
    preview_jpeg,
)
from glimpse_desktop.albums.service import AlbumError, Albums
from glimpse_desktop.captions.service import CaptionError, CaptionReport, Captions
from glimpse_desktop.faces import store as faces_store
from glimpse_desktop.faces.models import providers as face_providers
from glimpse_desktop.faces.people import ClusterReport, People, PeopleError
from glimpse_desktop.faces.stage import FaceReport
from glimpse_desktop.kernel import devices, fts, photos, plugins, scan, vectors
from glimpse_desktop.kernel.changes import Change, ChangeReport, FollowUp, run_chain
from glimpse_desktop.kernel.config import Config, ConfigError, get_setting, set_setting
from glimpse_desktop.kernel.db import (
    Connection,
    LibraryError,
    LibraryFullError,
    StorageError,
    Writer,
    connect,
    is_environmental,
    now_iso,
    versions,
)
from glimpse_desktop.kernel.decode import DecodeError, SizeRequest, decode
from glimpse_desktop.kernel.download import DownloadError
from glimpse_desktop.kernel.lock import ExclusiveFile, IngestLock
from glimpse_desktop.kernel.migrations import current_version, migrate
from glimpse_desktop.kernel.paths import LibraryPaths
from glimpse_desktop.kernel.pipeline import (
    Indexer,
    IndexReport,
    Root,
    Stage,
    hash_content,
    read_original,
)
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, ProgressCallback, ProgressMeter
from glimpse_desktop.kernel.registry import (
    Installed,
    ModelError,
    Registry,
    face_pack_list,
    model_list,
)
from glimpse_desktop.kernel.thumbnails import KINDS, ThumbnailCache, ThumbnailStage
from glimpse_desktop.kernel.watcher import Watcher
from glimpse_desktop.places.service import Places, PlacesError
from glimpse_desktop.search import engine as search
from glimpse_desktop.search import tags as tagging
from glimpse_desktop.search.duplicates import DuplicateGroup, find_duplicates
from glimpse_desktop.search.embeddings import EmbedReport
from glimpse_desktop.search.engine import SMART_ALBUM_LIMIT, Hit, SearchResult
from glimpse_desktop.search.query import QueryError
from glimpse_desktop.search.semantic import Semantic
from glimpse_desktop.search.sorting import SortError, SortReport, sort_by_tag
from glimpse_desktop.search.tags import TagReport
from glimpse_desktop.writeback.service import WriteBack

# What the CLI and the GUI need from the layers below, so they import core and nothing else.
__all__ = ["ERROR_STAGES", "AlbumError", "AlreadyInLibraryError", "AutoAlbumsError", "CaptionError",
           "CaptionReport", "ConfigError",
           "DecodeError", "DownloadError",
           "EmbedReport", "ExportError", "ExportReport", "IndexReport", "Library", "LibraryError",
           "LibraryFullError", "LibraryPaths",
           "ModelError", "NoLibraryError", "PeopleError", "QueryError", "Registry",
           "SearchResult",
           "SortError", "SortReport", "StorageError", "doctor", "face_pack_list", "model_list"]


TAGS_SEQ_KEY = "tags.seq"
_T = TypeVar("_T")


class AlreadyInLibraryError(LibraryError):
    """The folder is already one of the library's folders (or inside one)."""


class NoLibraryError(LibraryError):
    """No library exists at the chosen path yet (and the command does not create one)."""


# Stages whose errors mean "this file could not be read or saved"; `metadata` holds warnings
# about single fields of photos that were read fine. Later stages (clip, faces) add theirs.
WARNING_STAGES = ("metadata",)
ERROR_STAGES = ("scan", "read", "decode", "ingest", "thumbnail", "clip", "faces", "caption",
                *WARNING_STAGES)
# The warning stages as an SQL list (constants of this module, never input).
_WARNINGS_SQL = ", ".join(f"'{stage}'" for stage in WARNING_STAGES)


def release_memory() -> None:
    """Hand freed memory back to the system: collect cycles (a model's graph is full of
    them), then ask glibc to return the free pages of its heaps (``malloc_trim``), which it
    otherwise keeps for the process's next allocation. Elsewhere, the collection alone."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass     # not glibc (musl): nothing more to ask for


def _folder_path(folder: str | os.PathLike[str]) -> str:
    """One spelling per folder: absolute, symlinks resolved, so a folder added through a link
    and through its real path is recognised as the same folder (never indexed twice)."""
    return os.path.realpath(os.path.expanduser(os.fspath(folder)))


class Library:
    """An open photo library. Thread-safe; close it when done."""

    def __init__(self, paths: LibraryPaths, *, workers: int | None = None,
                 create: bool = True, load_models: bool = True) -> None:
        """``load_models=False`` defers loading the face pack (a second or more) to the first
        job that reads photos, or to ``load_models()``: the desktop app paints its window
        first."""
        self.paths = paths
        if not create and not paths.library.exists():
            raise NoLibraryError(f"there is no library at {paths.library} yet",
                                 code="library.missing", values={"path": str(paths.library)})
        if create:
            try:
                paths.library.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LibraryError(
                    f"cannot create the library folder {paths.library.parent}: "
                    f"{exc.strerror or exc}", code="library.cannot_create_folder",
                    values={"path": str(paths.library.parent),
                            "why": str(exc.strerror or exc)}) from exc
        # Without ``create`` an empty or foreign file is refused here, before migrate() could
        # turn it into a library: reading commands leave whatever they were given as it was.
        # The features (built-in plugins) and installed plugins, once per process.
        self.plugins = plugins.host()
        self.plugins.register_builtin(features.BUILTIN)
        self.plugins.load_entry_points()
        conn = connect(paths.library, create=create)
        try:
            migrate(conn)
        finally:
            conn.close()
        self.writer = Writer(paths.library)
        self._local = threading.local()
        self._readers: list[Connection] = []
        self._readers_lock = threading.Lock()
        self.thumbnails = ThumbnailCache(paths.cache / "thumbs")
        self.indexer = Indexer(self.writer, self.reader, [ThumbnailStage(self.thumbnails)],
                               workers=workers,
                               lock=IngestLock(f"{paths.library}.ingest.lock"),
                               on_released=self._forget_thumbnails)
        self.semantic = Semantic(reader=self.reader, writer=self.writer,
                                 models_dir=paths.models, cache_dir=paths.cache)
        self.models = self.semantic.registry
        self.people = People(reader=self.reader, writer=self.writer, cache_dir=paths.cache,
                             registry=self.models)
        # Loads nothing here: the geocoder's data is read on the first coordinate to look up.
        self.places = Places(reader=self.reader, writer=self.writer)
        # Smart albums are saved searches: they run through the library's own search.
        self.albums = Albums(reader=self.reader, writer=self.writer,
                             run_search=lambda query, limit: self.search(query, limit=limit))
        # Events, trips, home and memories (organize/events groups; this reconciles).
        self.auto_albums = AutoAlbums(reader=self.reader, writer=self.writer)
        # Settings by name (the CLI's config verb, the GUI's Settings), with environment overrides.
        self.config = Config(reader=self.reader, writer=self.writer)
        # Metadata that travels: XMP sidecars (and JPEGs when asked) written and read back.
        self.writeback = WriteBack(reader=self.reader, writer=self.writer, config=self.config,
                                   thumbnails=self.thumbnails, crops=self.people.crops,
                                   lock=IngestLock(f"{paths.library}.writeback.lock"))
        # Captions from a vision service: sends nothing until turned on and agreed to.
        self.captions = Captions(reader=self.reader, writer=self.writer, config=self.config,
                                 search=lambda query, limit: self.search(query, limit=limit),
                                 release_reader=self.release_reader)
        # Captions written in the background (the CLI's watcher) reach the sidecars too.
        self.captions.after_background = self._captions_written
        self._stages_lock = threading.Lock()
        self._stages_pending = not load_models
        if load_models:
            self._refresh_stages(at_once=True)

    def photos_changed(self, ids: Sequence[int] | None, why: str, *,
                       progress: ProgressCallback | None = None,
                       cancel: CancelToken | None = None) -> ChangeReport:
        """Run what must follow a change to photos (``ids``; ``None``: any photo may have
        changed), once, in the order the features' follow-ups declare: sidecars read, faces
        named, people, places and albums updated, captions, write-back. ``why`` is one of
        ``kernel.changes.WHY``. A follow-up that fails is reported, never the end of the
        chain; a full disk or a damaged library (StorageError) goes up."""
        follow_ups: list[FollowUp] = self.plugins.collect("glimpse_follow_ups")
        change = Change(None if ids is None else tuple(ids), why, progress, cancel)
        return run_chain(self, follow_ups, change, errors=(LibraryError, ModelError, OSError),
                         fatal=lambda exc: isinstance(exc, LibraryFullError)
                         or is_environmental(exc))

    def _captions_written(self, report: CaptionReport) -> None:
        self.writeback.sync(report.photo_ids)

    def load_models(self) -> None:
        """Load what ingestion needs now, if ``Library.open(load_models=False)`` deferred it
        (idempotent, any thread). Jobs that read photos call it themselves."""
        with self._stages_lock:
            if self._stages_pending:
                self._refresh_stages(at_once=True)
                self._stages_pending = False

    def unload_idle(self, idle_seconds: float | None = None) -> list[str]:
        """Give back the memory of models unused for ``idle_seconds`` (default: the
        ``models.unload_after`` setting, in minutes; 0 keeps them): the search model, its
        query encoder, the face pack. Each loads again on its next use. Long-running front
        ends (the window, the CLI's watcher) call this now and then; returns what was freed."""
        if idle_seconds is None:
            minutes = float(self.config.get("models.unload_after"))
            if minutes <= 0:
                return []
            idle_seconds = minutes * 60
        freed = self.semantic.unload_idle(idle_seconds) + self.people.unload_idle(idle_seconds)
        if freed:
            release_memory()
        return freed

    @classmethod
    def open(cls, library: str | os.PathLike[str] | None = None, **kwargs: Any) -> Library:
        """Open (creating and migrating if needed) the library at ``library`` or the default."""
        return cls(LibraryPaths.resolve(library), **kwargs)

    def reader(self) -> Connection:
        """This thread's read connection (WAL: reads never wait for the writer)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.paths.library)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def release_reader(self) -> None:
        """Close this thread's read connection, if it has one (a thread that is about to
        end; a later read on it opens a new one)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._readers_lock:
            if conn in self._readers:
                self._readers.remove(conn)
        conn.close(busy_ok=True)

    def close(self) -> None:
        """Close the writer and every reader. A reader still busy in a thread that outlived
        its owner (a job that did not stop in time at exit) is left to the process's end
        rather than failing the close of all the others."""
        self.captions.stop_background()
        self.writer.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close(busy_ok=True)
            self._readers.clear()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ roots

    def roots(self) -> list[dict[str, Any]]:
        """Every photo folder with its state and counts (``present``: reachable right now)."""
        rows = self.reader().rows(
            f"""SELECT r.id, r.path, r.status, r.added_at, r.last_scan_at,
                      v.mount_point AS volume,
                      count(p.id) FILTER (WHERE p.status = 'ok') AS photos,
                      count(p.id) FILTER (WHERE p.status = 'missing') AS missing,
                      count(p.id) FILTER (WHERE p.status = 'offline') AS offline,
                      count(p.id) FILTER (WHERE p.status = 'unsupported') AS unsupported,
                      (SELECT count(*) FROM errors e WHERE e.root_id = r.id
                       AND e.stage NOT IN ({_WARNINGS_SQL})) AS errors,
                      (SELECT count(*) FROM errors e WHERE e.root_id = r.id
                       AND e.stage IN ({_WARNINGS_SQL})) AS warnings
               FROM roots r LEFT JOIN volumes v ON v.id = r.volume_id
               LEFT JOIN photos p ON p.root_id = r.id
               GROUP BY r.id ORDER BY r.path""")
        for row in rows:
            row["present"] = os.path.isdir(row["path"])
        return rows

    def root_paths(self) -> list[str]:
        """The photo folders alone (no counts): cheap enough for a window's first paint."""
        return [root.path for root in self.indexer.roots()]

    def add_root(self, folder: str | os.PathLike[str]) -> dict[str, Any]:
        """Register a photo folder. A folder inside one already added is refused; a folder
        that contains added ones takes them over (their photos keep their rows)."""
        path = _folder_path(folder)
        if not os.path.exists(path):
            raise LibraryError(f"{path} does not exist")
        if not os.path.isdir(path):
            raise LibraryError(f"{path} is a file, not a folder: add the folder that holds "
                               "your photos")
        if not os.access(path, os.R_OK | os.X_OK):
            raise LibraryError(f"{path} cannot be read (permission denied)")
        existing = self.indexer.roots()
        for root in existing:
            if root.path == path:
                raise AlreadyInLibraryError(f"{path} is already in the library")
            if path.startswith(root.path.rstrip(os.sep) + os.sep):
                raise AlreadyInLibraryError(
                    f"{path} is already in the library, inside {root.path}")
        inner = [r for r in existing if r.path.startswith(path.rstrip(os.sep) + os.sep)]
        mount = scan.mount_point(path)
        device = os.stat(path).st_dev

        def apply(conn: Connection) -> int:
            conn.execute("INSERT INTO volumes(mount_point, device, first_seen) VALUES (?, ?, ?) "
                         "ON CONFLICT(mount_point) DO UPDATE SET device = excluded.device",
                         (mount, device, now_iso()))
            volume_id = conn.one("SELECT id FROM volumes WHERE mount_point = ?", (mount,))
            conn.execute("INSERT INTO roots(path, volume_id, status, added_at) "
                         "VALUES (?, ?, 'new', ?)", (path, volume_id, now_iso()))
            root_id = int(conn.raw.last_insert_rowid())
            for r in inner:
                ids = [row[0] for row in conn.execute(
                    "SELECT id FROM photos WHERE root_id = ?", (r.id,))]
                conn.execute("UPDATE photos SET root_id = ? WHERE root_id = ?", (root_id, r.id))
                conn.execute("UPDATE errors SET root_id = ? WHERE root_id = ?", (root_id, r.id))
                conn.execute("DELETE FROM roots WHERE id = ?", (r.id,))
                fts.refresh(conn, ids)  # folder words are relative to the root
            return root_id

        root_id = self.writer.call(apply)
        return {"id": root_id, "path": path, "absorbed": [r.path for r in inner]}

    def remove_root(self, folder: str | os.PathLike[str]) -> int:
        """Forget a photo folder and what the library knew of it. Files are never touched."""
        path = _folder_path(folder)
        root = next((r for r in self.indexer.roots() if r.path == path), None)
        if root is None:
            raise LibraryError(f"{path} is not a folder of this library",
                               code="roots.unknown", values={"path": path})

        def apply(conn: Connection) -> tuple[int, list[str]]:
            ids = [r[0] for r in conn.execute("SELECT id FROM photos WHERE root_id = ?",
                                              (root.id,))]
            hashes = [r[0] for r in conn.execute(
                "SELECT DISTINCT content_hash FROM photos WHERE root_id = ?", (root.id,))]
            photos.delete_photos(conn, ids)
            conn.execute("DELETE FROM roots WHERE id = ?", (root.id,))
            orphans = [h for h in hashes
                       if not conn.one("SELECT 1 FROM photos WHERE content_hash = ?", (h,))]
            return len(ids), orphans

        count, orphans = self.writer.call(apply)
        self._forget_thumbnails(orphans)
        return count

    def forget_missing(self, *, dry_run: bool = False) -> list[dict[str, Any]]:
        """Forget photos whose files are gone from folders that are present (status
        *missing*; photos on an unplugged drive are *offline* and always kept), with what was
        attached to them: faces (unnamed people left without faces go too), text, vectors,
        thumbnails. Returns the photos forgotten (or that would be, with ``dry_run``)."""
        gone = self.reader().rows(
            "SELECT id, path, missing_since, content_hash FROM photos WHERE status = 'missing' "
            "ORDER BY path")
        if dry_run or not gone:
            return gone
        wanted = [int(r["id"]) for r in gone]

        def apply(conn: Connection) -> list[str]:
            # Only those still missing now: a file that came back meanwhile stays.
            ids = [i for i in wanted if conn.one(
                "SELECT 1 FROM photos WHERE id = ? AND status = 'missing'", (i,))]
            photos.delete_photos(conn, ids)
            return [h for h in {str(r["content_hash"]) for r in gone}
                    if not conn.one("SELECT 1 FROM photos WHERE content_hash = ?", (h,))]

        self._forget_thumbnails(self.writer.call(apply))
        return gone

    def _forget_thumbnails(self, hashes: list[str]) -> None:
        """Cached thumbnails and face crops of content no photo has any more."""
        for content_hash in hashes:
            self.people.crops.forget(content_hash)
            for kind in KINDS:
                try:
                    self.thumbnails.path_for(content_hash, kind).unlink()
                except FileNotFoundError:
                    pass

    # ------------------------------------------------------------------ ingestion

    def index(
        self,
        folders: list[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IndexReport:
        """Scan every root (or the given folders, each a root or inside one)."""
        self.load_models()
        roots = self.indexer.roots()
        if not roots:
            raise LibraryError("the library has no photo folders yet", code="roots.none")
        targets: list[tuple[Root, str]] = []
        if not folders:
            targets = [(r, r.path) for r in roots]
        else:
            for folder in folders:
                path = _folder_path(folder)
                root = self.indexer.root_for(path, roots)
                if root is None:
                    raise LibraryError(f"{path} is not inside a folder of this library",
                                       code="roots.outside",
                                       values={"path": path, "folder": str(folder)})
                targets.append((root, path))
        report = self.indexer.scan(targets, progress=progress, cancel=cancel)
        if not report.cancelled:
            # Names, captions and tags from sidecars (ours or digiKam's) before anything
            # groups or titles the photos.
            self.writeback.read_sidecars(progress=progress, cancel=cancel)
        if not report.cancelled:
            try:
                found, clustered = self.update_people(progress=progress, cancel=cancel)
            except ModelError:
                # The face pack is missing or broken: the photos are read all the same, and
                # `people.problem` says why faces are not (status, doctor and index show it).
                found, clustered = FaceReport(), ClusterReport()
            report.faces = found.faces + faces_store.count_in(self.reader(), report.photo_ids)
            report.people_new = clustered.founded
            report.cancelled = found.cancelled
        if not report.cancelled and self.models.installed(self.semantic.target()) is not None:
            embedded = self.embed(progress=progress, cancel=cancel)
            report.embedded, report.embed_errors = embedded.embedded, embedded.errors
            report.cancelled = embedded.cancelled
            if not report.cancelled:
                tagged = self._tag_new(progress, cancel)
                report.cancelled = bool(tagged and tagged.cancelled)
        if not report.cancelled:
            try:
                placed = self.places.update(progress=progress, cancel=cancel)
                report.places, report.cancelled = placed.changed, placed.cancelled
            except PlacesError:
                pass  # the place data is broken: the places report says so; photos are read
        if not report.cancelled:
            # Events and trips group around what this run read (a fraction of a second at
            # 100k photos when little changed); after places, so titles can name them.
            try:
                built = self.auto_albums.update(progress=progress, cancel=cancel)
                report.albums, report.cancelled = built.changed, built.cancelled
            except LibraryError:
                pass  # photos are read all the same; the events report says what is wrong
        if not report.cancelled:
            # Faces are found by now: named XMP regions give them their names.
            self.writeback.apply_regions()
            self.writeback.sync(progress=progress, cancel=cancel)
        return report

    def embed(self, *, progress: ProgressCallback | None = None,
              cancel: CancelToken | None = None) -> EmbedReport:
        """Embed every photo that has no embedding of its current content in the chosen
        model's space (new model, model switch, photos read before the model was there);
        search moves to the chosen model once it is complete. Without the model installed
        it does nothing (``remaining`` is -1)."""
        self.load_models()
        return self._exclusive_job(
            "embed", progress, cancel, lambda meter, token: self.semantic.embed(
                meter=meter, cancel=token, workers=self.indexer.workers),
            lambda: EmbedReport(cancelled=True))

    def _exclusive_job(self, name: str, progress: ProgressCallback | None,
                       cancel: CancelToken | None,
                       work: Callable[[ProgressMeter, CancelToken], _T],
                       cancelled: Callable[[], _T]) -> _T:
        """A catch-up job outside the pipeline: one ingestion at a time per library (it waits
        for another process that is indexing), with progress and a clean cancel."""
        token = cancel or CancelToken()
        meter = ProgressMeter(name, progress)
        lock = self.indexer.lock
        try:
            with (lock.hold(token, lambda: meter.start_phase(
                    "waiting for another Glimpse that is indexing this library", None))
                  if lock is not None else contextlib.nullcontext()):
                result = work(meter, token)
        except Cancelled:
            result = cancelled()
        meter.finish()
        return result

    def update_people(self, *, progress: ProgressCallback | None = None,
                      cancel: CancelToken | None = None) -> tuple[FaceReport, ClusterReport]:
        """Find faces in photos the face pack has not looked at (photos read before faces
        were on, a pack switch), then let waiting faces join people or found new ones."""
        self.load_models()
        if not self.people.enabled() or not self.people.backlog():
            # Nothing to read: just let waiting faces join people (no progress to show).
            return FaceReport(), self.people.cluster()
        return self._exclusive_job(
            "faces", progress, cancel, lambda meter, token: self.people.update(
                meter=meter, cancel=token, workers=self.indexer.workers),
            lambda: (FaceReport(cancelled=True), ClusterReport()))

    def use_face_pack(self, pack_id: str) -> dict[str, Any]:
        """Switch face pack; the next `index` looks at every photo with it, keeping names."""
        status = self.people.use_pack(pack_id)
        self._refresh_stages()
        return status

    def set_faces(self, on: bool) -> None:
        """Turn face finding on or off for this library (faces already found stay)."""
        self.people.set_enabled(on)
        self._refresh_stages()

    # ------------------------------------------------------------------ models and search

    def _refresh_stages(self, *, at_once: bool = False) -> None:
        stages: list[Stage] = [ThumbnailStage(self.thumbnails)]
        clip = self.semantic.stage()
        if clip is not None:
            stages.append(clip)
        faces = self.people.stage()
        if faces is not None:
            stages.append(faces)
        self.indexer.set_stages(stages, at_once=at_once)

    def download_model(self, model_id: str, *, progress: ProgressCallback | None = None,
                       cancel: CancelToken | None = None) -> Installed:
        """Download, verify and install a model's weights (resumable)."""
        installed = self.models.download(model_id, progress=progress, cancel=cancel)
        self._refresh_stages()
        return installed

    def add_model(self, model_id: str, source: str | os.PathLike[str], *,
                  progress: ProgressCallback | None = None,
                  cancel: CancelToken | None = None) -> Installed:
        """Install a model from a local file (machines without internet)."""
        installed = self.models.add(model_id, Path(source), progress=progress, cancel=cancel)
        self._refresh_stages()
        return installed

    def remove_model(self, model_id: str) -> bool:
        """Delete a model's weights (its embeddings stay in the library)."""
        self.semantic.forget(model_id)
        removed = self.models.remove(model_id)
        self._refresh_stages()
        return removed

    def use_model(self, model_id: str) -> dict[str, Any]:
        """Choose the CLIP model; photos are re-embedded by the next `index`/`embed` (and the
        watcher), and search keeps the old vectors until the new ones are complete. A face
        pack id switches the face pack instead."""
        if self.models.is_face_pack(model_id):
            return self.use_face_pack(model_id)
        self.semantic.use(model_id)
        self._refresh_stages()
        return self.semantic.status()

    def model_list(self) -> list[dict[str, Any]]:
        status = self.semantic.status()
        return model_list(self.models, status["active"], status["target"])

    def face_pack_list(self) -> list[dict[str, Any]]:
        return face_pack_list(self.models, self.people.pack().id)

    def search(self, query: str, *, limit: int = 50, offset: int = 0, depth: int | None = None,
               like: Sequence[int | str] = (), like_weight: float = 0.5,
               min_score: float | None = None) -> SearchResult:
        """Hybrid natural-language search (see core/search.py for scores, the cut-off, and
        ``depth``: how far to rank for ``total`` and later pages)."""
        like_ids = [self._photo_id(ref) for ref in like]
        return search.search(self.semantic, self.reader(), query, limit=limit, offset=offset,
                             depth=depth, like=like_ids, like_weight=like_weight,
                             min_score=min_score)

    def similar(self, ref: int | str, *, limit: int = 50, offset: int = 0,
                depth: int | None = None, min_score: float | None = None,
                query: str = "") -> SearchResult:
        """Photos that look like the given one."""
        return search.similar(self.semantic, self.reader(), self._photo_id(ref), limit=limit,
                              offset=offset, depth=depth, min_score=min_score, query=query)

    def search_page(self, result: SearchResult, offset: int, limit: int) -> list[Hit]:
        """A later page of a search's result (its ranking is kept; nothing is ranked again)."""
        return result.page(self.reader(), offset, limit)

    def tag(self, tags: Sequence[str] = (), *, vocabularies: Sequence[str] = (),
            threshold: float = 0.3, top: int = 3, remember: bool = True,
            progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
            photo_ids: Sequence[int] | None = None) -> TagReport:
        """Zero-shot tags for every embedded photo: the person's own ``tags`` and/or built-in
        ``vocabularies`` (scenes, mood, composition). With ``remember``, `index` tags new
        photos the same way from then on."""
        unknown = [v for v in vocabularies if v not in tagging.VOCABULARIES]
        if unknown:
            raise LibraryError(f"unknown vocabulary {unknown[0]!r} (built in: "
                               f"{', '.join(tagging.VOCABULARIES)})")
        if not tags and not vocabularies:
            raise LibraryError("name the tags to give, or a vocabulary of them",
                               code="tags.none_given",
                               values={"vocabularies": list(tagging.VOCABULARIES)})
        model_id = self.semantic.active()
        if model_id is None:
            missing = self.semantic.status()["missing"]
            if missing is not None:
                raise LibraryError(f"tags need photo embeddings: {missing}", code=missing.code,
                                   values=missing.values)
            raise LibraryError("tags need photo embeddings: no photo has been embedded yet",
                               code="tags.no_embeddings")
        conn = self.reader()
        table = vectors.table_for(conn, model_id)
        assert table is not None
        vocab = {v: tagging.VOCABULARIES[v] for v in vocabularies}
        if tags:
            vocab["custom"] = tagging.custom_vocabulary(tags)
        if remember:
            setting = {"vocabularies": {k: (list(tags) if k == "custom" else [])
                                        for k in vocab},
                       "threshold": threshold, "top": top}
            self.writer.call(lambda c: set_setting(c, tagging.VOCAB_KEY, json.dumps(setting)))
        meter = ProgressMeter("tag", progress)
        seq = vectors.last_seq(conn)
        report = tagging.tag_photos(
            reader=self.reader, writer=self.writer, model_id=model_id, table=table,
            encode=self.semantic.text_encoder(model_id).encode, vocabularies=vocab,
            threshold=threshold, top=top, meter=meter, cancel=cancel or CancelToken(),
            photo_ids=photo_ids)
        if photo_ids is None and not report.cancelled:
            self.writer.call(lambda c: set_setting(c, TAGS_SEQ_KEY, str(seq)))
        meter.finish()
        return report

    def _tag_new(self, progress: ProgressCallback | None, cancel: CancelToken | None
                 ) -> TagReport | None:
        """After indexing: tag newly embedded photos with the remembered tag lists."""
        conn = self.reader()
        raw = get_setting(conn, tagging.VOCAB_KEY)
        model_id = self.semantic.active()
        if not raw or model_id is None:
            return None
        try:
            setting = json.loads(raw)
        except json.JSONDecodeError:
            return None
        since = int(get_setting(conn, TAGS_SEQ_KEY) or 0)
        changed, seq = vectors.changes_since(conn, model_id, since, limit=10_000_000)
        if not changed:
            return None
        vocabs = setting.get("vocabularies", {})
        report = self.tag(vocabs.get("custom", []),
                          vocabularies=[v for v in vocabs if v != "custom"],
                          threshold=float(setting.get("threshold", 0.3)),
                          top=int(setting.get("top", 3)), remember=False,
                          progress=progress, cancel=cancel, photo_ids=changed)
        if not report.cancelled:
            self.writer.call(lambda c: set_setting(c, TAGS_SEQ_KEY, str(seq)))
        return report

    def duplicates(self, *, near: bool = True, threshold: float = 0.95,
                   progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> list[DuplicateGroup]:
        """Exact duplicates (same bytes) and, with embeddings, near duplicates (resized or
        re-encoded copies: embedding similarity confirmed by a look at the thumbnails), each
        group with the suggested copy to keep first."""
        model_id = self.semantic.active() if near else None
        table = vectors.table_for(self.reader(), model_id) if model_id else None
        return find_duplicates(self.reader(), thumbnails=self.thumbnails, model_id=model_id,
                               table=table, near=near and table is not None,
                               threshold=threshold, progress=progress, cancel=cancel)

    def sort_by_tag(self, output: str | os.PathLike[str], *, mode: str = "copy",
                    dry_run: bool = False, progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None) -> SortReport:
        """One folder per tag under ``output`` (a photo's best tag wins); copies by default,
        never overwrites, and a move keeps the photo's row (and all attached to it)."""
        if mode not in ("copy", "move"):
            raise LibraryError(f"mode must be copy or move, not {mode!r}")
        return sort_by_tag(self.reader(), output=output, mode=mode, dry_run=dry_run,
                           writer=self.writer, progress=progress, cancel=cancel)

    def organize(self, output: str | os.PathLike[str], *, by: str = "date", mode: str = "copy",
                 dry_run: bool = False, progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> SortReport:
        """Copy or move every photo into ``output``/YYYY/YYYY-MM-DD/ (``Undated/`` without a
        date), with sort-by-tag's safety: never overwrites, refuses folders that lead outside
        ``output``, and a move keeps the photo's row (and all attached to it)."""
        if by != "date":
            raise LibraryError(f"photos can be organised by date only, not by {by!r}")
        if mode not in ("copy", "move"):
            raise LibraryError(f"mode must be copy or move, not {mode!r}")
        return organize_by_date(self.reader(), output=output, mode=mode, dry_run=dry_run,
                                writer=self.writer, progress=progress, cancel=cancel)

    def export(self, to: str | os.PathLike[str], *, album: str | int | None = None,
               search: str | None = None, size: str = "full", force: bool = False,
               progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> ExportReport:
        """Copy an album's photos, or a search's results, into the folder ``to``: the
        originals byte for byte (``size`` "full") or PREVIEW_EDGE-pixel JPEGs with their EXIF
        ("preview"). Never moves, never overwrites (a taken name becomes "name (2).jpg").

        A folder inside one of the library's folders is refused unless ``force``: the copies
        would be read into the library as photos of their own (duplicates)."""
        if (album is None) == (search is None):
            raise LibraryError("export an album or a search, one of the two",
                               code="export.which")
        if size not in SIZES:
            raise LibraryError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
        target = os.path.realpath(os.path.abspath(os.fspath(to)))
        if not force:
            for root in self.root_paths():
                if target == root or target.startswith(root.rstrip(os.sep) + os.sep):
                    raise LibraryError(
                        f"{target} is inside the library folder {root}: the exported copies "
                        "would be read in as photos of their own (duplicates). Choose a "
                        "folder outside your library folders.", code="export.inside_library",
                        values={"folder": target, "root": root})
        if album is not None:
            ids = self.albums.photo_ids(album)
        else:
            assert search is not None
            if not search.strip():
                raise LibraryError("the search to export is empty",
                                   code="export.empty_search")
            ids = [h.photo_id for h in self.search(search, limit=SMART_ALBUM_LIMIT).hits]
        conn = self.reader()
        rows = self._rows_with_status(conn, ids)

        def render(row: Mapping[str, Any]) -> bytes:
            image = self.full_image(int(row["id"]), max_edge=PREVIEW_EDGE)
            return preview_jpeg(image, str(row["path"]))

        return export_photos(rows, output=to, size=size,
                             render=render if size == PREVIEW else None,
                             progress=progress, cancel=cancel)

    @staticmethod
    def _rows_with_status(conn: Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
        """id, path and status of the given photos, in the order given."""
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = [int(i) for i in ids[start:start + 500]]
            for row in conn.rows("SELECT id, path, status FROM photos WHERE id IN "
                                 f"({','.join('?' * len(chunk))})", chunk):
                found[int(row["id"])] = row
        return [found[i] for i in dict.fromkeys(int(i) for i in ids) if i in found]

    def _photo_id(self, ref: int | str) -> int:
        row = photos.get_photo(self.reader(), ref)
        if row is None:
            raise LibraryError(f"no photo {ref} in this library")
        return int(row["id"])

    def watcher(self, **kwargs: Any) -> Watcher:
        """A watcher over every root; call start()/stop() (or use it as a context manager)."""
        self.load_models()
        kwargs.setdefault("exclusive", ExclusiveFile(f"{self.paths.library}.watch.lock"))
        outer = kwargs.pop("on_report", None)

        def on_report(why: str, report: IndexReport) -> None:
            # New faces join people as they arrive; a failure here is reported with the batch,
            # never the end of watching.
            if report.new or report.updated or report.moved:
                report.faces = faces_store.count_in(self.reader(), report.photo_ids)
                try:
                    clustered = self.people.cluster()
                    report.people_new = clustered.founded
                except (LibraryError, ModelError) as exc:
                    report.errors += 1
                    why = f"{why} (people not updated: {exc})"
                try:
                    report.places = self.places.update().changed
                except LibraryError as exc:
                    report.errors += 1
                    why = f"{why} (places not updated: {exc})"
                try:
                    report.albums = self.auto_albums.update().changed
                except LibraryError as exc:
                    report.errors += 1
                    why = f"{why} (albums not updated: {exc})"
            if report.new or report.updated or report.moved or why == "catch-up":
                # Catching up also reads sidecars edited meanwhile beside unchanged photos.
                ids = None if why == "catch-up" else report.photo_ids
                try:
                    self.writeback.read_sidecars(ids)
                    self.writeback.apply_regions(ids)
                except LibraryError as exc:
                    report.errors += 1
                    why = f"{why} (sidecars not read: {exc})"
            if report.new or report.updated or report.moved:
                # With write-back sync on, the batch's photos get their sidecars (only
                # theirs: a burst of new photos must not re-check the whole library).
                try:
                    written = self.writeback.sync(report.photo_ids)
                    if written is not None and written.failed:
                        why = f"{why} ({written.failed} sidecars not written)"
                except LibraryError as exc:
                    report.errors += 1
                    why = f"{why} (write-back: {exc})"
            if outer is not None:
                outer(why, report)

        def on_sidecars(paths: list[str]) -> None:
            # A sidecar written by another app while we watch: read it, name its faces.
            ids = self.writeback.photos_of_sidecars(paths)
            if not ids:
                return
            try:
                self.writeback.read_sidecars(ids)
                self.writeback.apply_regions(ids)
            except LibraryError as exc:
                if isinstance(exc, StorageError):
                    raise   # a full disk, a damaged library: the watcher stops and says so
                on_report(f"sidecar {paths[0]} not read: {exc}", IndexReport(errors=1))
                return
            on_report(f"sidecar {paths[0]}" + (f" and {len(paths) - 1} more"
                                               if len(paths) > 1 else ""),
                      IndexReport(photo_ids=ids))

        kwargs.setdefault("on_sidecars", on_sidecars)
        return Watcher(self.indexer, on_report=on_report, **kwargs)

    # ------------------------------------------------------------------ reading

    def status(self) -> dict[str, Any]:
        conn = self.reader()
        counts = dict.fromkeys(("ok", "missing", "offline", "unsupported"), 0)
        for status, n in conn.execute("SELECT status, count(*) FROM photos GROUP BY status"):
            counts[status] = n
        return {
            "library": str(self.paths.library),
            "cache": str(self.paths.cache),
            "photos": counts["ok"],
            "missing": counts["missing"],
            "offline": counts["offline"],
            "unsupported": counts["unsupported"],
            "errors": int(conn.one(
                f"SELECT count(*) FROM errors WHERE stage NOT IN "
                f"({', '.join('?' * len(WARNING_STAGES))})", WARNING_STAGES)),
            "warnings": int(conn.one(
                f"SELECT count(*) FROM errors WHERE stage IN "
                f"({', '.join('?' * len(WARNING_STAGES))})", WARNING_STAGES)),
            "with_gps": int(conn.one("SELECT count(*) FROM photos WHERE status = 'ok' AND "
                                     "gps_lat IS NOT NULL")),
            "roots": self.roots(),
            "search": self.semantic.status(),
            "people": self.people.status(),
            "places": self.places.status(),
        }

    def photo(self, ref: str | int) -> dict[str, Any] | None:
        """All Glimpse knows about one photo (by id or path), in the shape `info --json` prints."""
        conn = self.reader()
        row = photos.get_photo(conn, ref)
        if row is None:
            return None
        gps = None
        if row["gps_lat"] is not None and row["gps_lon"] is not None:
            gps = {"lat": row["gps_lat"], "lon": row["gps_lon"], "alt": row["gps_alt"]}
        thumb = self.thumbnails.path_for(row["content_hash"], "grid")
        return {
            "id": row["id"],
            "path": row["path"],
            "status": row["status"],
            "taken_at": row["taken_at"],
            "taken_at_source": row["taken_at_source"],
            "gps": gps,
            "camera": {"make": row["camera_make"], "model": row["camera_model"]},
            "lens": row["lens"],
            "exposure": {"time": row["exposure_time"], "f_number": row["f_number"],
                         "iso": row["iso"], "focal_length": row["focal_length"]},
            "width": row["width"],
            "height": row["height"],
            "orientation": row["orientation"],
            "format": row["format"],
            "mime": row["mime"],
            "size": row["size"],
            "modified_ns": row["mtime_ns"],
            "content_hash": row["content_hash"],
            "rating": row["rating"],
            "place": self.places.of_photo(int(row["id"])),
            "caption": self.captions.get(int(row["id"])),
            "texts": photos.photo_texts(conn, row["id"]),
            "errors": conn.rows("SELECT stage, reason, at FROM errors WHERE photo_id = ? "
                                "OR path = ? ORDER BY stage", (row["id"], row["path"])),
            "thumbnail": str(thumb) if thumb.is_file() else None,
            "added_at": row["added_at"],
            "updated_at": row["updated_at"],
        }

    def photo_page(self, *, after: tuple[float | None, int] | None = None, limit: int = 500,
                   include_unavailable: bool = False) -> list[dict[str, Any]]:
        """One page of the library, newest first, for views that scroll through all of it.

        Keyset paging: pass the ``(taken_ts, id)`` of the last row of a page as ``after`` for
        the next one, so every page costs the same at 1M photos (an OFFSET would read every
        row before it). Photos without a date come last, newest added first."""
        conn = self.reader()
        status = "" if include_unavailable else "AND status IN ('ok', 'offline') "
        cols = ("SELECT id, path, filename, content_hash, taken_at, taken_ts, width, height, "
                "status, format FROM photos ")
        rows: list[dict[str, Any]] = []
        ts, last = after if after is not None else (float("inf"), -1)
        if ts is not None:
            # The dated photos, along the photos_by_time index.
            # A row value, not "a < ? OR (a = ? AND b < ?)": SQLite seeks the index with it,
            # where the OR form reads every older photo and sorts them (O(n) per page).
            bound = "" if after is None else "AND (taken_ts, id) < (?, ?) "
            rows = conn.rows(
                cols + "WHERE taken_ts IS NOT NULL " + status + bound
                + "ORDER BY taken_ts DESC, id DESC LIMIT ?",
                ((ts, last, limit) if after is not None else (limit,)))
            if len(rows) == limit:
                return rows
            last = -1
        more = limit - len(rows)
        bound = "AND id < ? " if last >= 0 else ""
        rows += conn.rows(cols + "WHERE taken_ts IS NULL " + status + bound
                          + "ORDER BY id DESC LIMIT ?",
                          ((last, more) if last >= 0 else (more,)))
        return rows

    def photo_rows(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """The photo_page columns of the given photos, in the order given (missing ids are
        left out): what a view needs to show search hits, a person's or a folder's photos."""
        conn = self.reader()
        found: dict[int, dict[str, Any]] = {}
        ids = [int(i) for i in ids]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for row in conn.rows(
                    "SELECT id, path, filename, content_hash, taken_at, taken_ts, width, height, "
                    f"status, format FROM photos WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk):
                found[int(row["id"])] = row
        return [found[i] for i in dict.fromkeys(ids) if i in found]

    def folder_photos(self, folder: str, *, recursive: bool = False
                      ) -> list[dict[str, Any]]:
        """Photos in one folder (and below it with ``recursive``), newest first."""
        conn = self.reader()
        folder = folder.rstrip(os.sep) or os.sep
        cols = ("SELECT id, path, filename, content_hash, taken_at, taken_ts, width, height, "
                "status, format FROM photos WHERE status IN ('ok', 'offline') AND ")
        order = " ORDER BY taken_ts IS NULL, taken_ts DESC, id DESC"
        if recursive:
            prefix = folder.rstrip(os.sep) + os.sep
            return conn.rows(cols + "(folder = ? OR substr(folder, 1, ?) = ?)" + order,
                             (folder, len(prefix), prefix))
        return conn.rows(cols + "folder = ?" + order, (folder,))

    def folders(self) -> list[dict[str, Any]]:
        """Every folder holding photos, with its count and its root: the Folders view."""
        return self.reader().rows(
            "SELECT p.folder AS folder, count(*) AS photos, r.path AS root "
            "FROM photos p JOIN roots r ON r.id = p.root_id "
            "WHERE p.status IN ('ok', 'offline') GROUP BY p.folder ORDER BY p.folder")

    def search_vocabulary(self, *, limit: int = 500) -> dict[str, list[str]]:
        """Words the search box can suggest after a filter: people's names, cameras, lenses,
        tags and keywords, place names (most used first), album titles (yours first)."""
        conn = self.reader()
        people = [str(r["name"]) for r in conn.rows(
            "SELECT name FROM people WHERE name IS NOT NULL AND hidden = 0 ORDER BY name "
            "LIMIT ?", (limit,))]
        cameras = [str(r["camera"]) for r in conn.rows(
            "SELECT trim(coalesce(camera_model, camera_make)) AS camera, count(*) AS n "
            "FROM photos WHERE coalesce(camera_model, camera_make) IS NOT NULL "
            "GROUP BY camera ORDER BY n DESC LIMIT ?", (limit,)) if r["camera"]]
        lenses = [str(r["lens"]) for r in conn.rows(
            "SELECT lens, count(*) AS n FROM photos WHERE lens IS NOT NULL AND lens != '' "
            "GROUP BY lens ORDER BY n DESC LIMIT ?", (limit,))]
        counts: dict[str, int] = {}
        for row in conn.rows("SELECT value FROM photo_text WHERE field IN ('keywords', 'tags') "
                             "LIMIT 200000"):
            for word in re.split(r"[;,\n]", str(row["value"])):
                word = word.strip()
                if word:
                    counts[word] = counts.get(word, 0) + 1
        tags = sorted(counts, key=lambda w: (-counts[w], w.lower()))[:limit]
        albums = [str(r["title"]) for r in conn.rows(
            "SELECT title FROM albums WHERE removed = 0 "
            "ORDER BY kind NOT IN ('manual', 'smart'), coalesce(start_ts, 0) DESC LIMIT ?",
            (limit,))]
        return {"person": people, "camera": cameras, "lens": lenses, "tag": tags,
                "place": self.places.names(limit=limit), "album": albums}

    def photos_added_after(self, after_id: int | None, *, limit: int = 5000) -> list[int]:
        """Ids of photos written after ``after_id`` (all ids grow), oldest first; with None,
        the newest id alone. A window showing a run in progress polls this."""
        conn = self.reader()
        if after_id is None:
            newest = conn.one("SELECT max(id) FROM photos")
            return [] if newest is None else [int(newest)]
        return [int(r[0]) for r in conn.execute(
            "SELECT id FROM photos WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit))]

    def photo_count(self, *, include_unavailable: bool = False) -> int:
        """How many photos the library view shows."""
        where = "" if include_unavailable else " WHERE status IN ('ok', 'offline')"
        return int(self.reader().one(f"SELECT count(*) FROM photos{where}"))

    def errors(self, *, limit: int | None = None, stage: str | None = None
               ) -> list[dict[str, Any]]:
        where = "WHERE stage = ?" if stage else ""
        params: tuple[Any, ...] = (stage,) if stage else ()
        return self.reader().rows(
            f"SELECT path, stage, reason, at FROM errors {where} ORDER BY at DESC, path "
            f"LIMIT ?", (*params, -1 if limit is None else limit))

    def file_errors(self, path: str) -> list[dict[str, Any]]:
        """Why a file (by path) is not in the library, if it was tried."""
        candidates = list(dict.fromkeys((os.path.abspath(path), os.path.realpath(path))))
        return self.reader().rows(
            f"SELECT path, stage, reason, at FROM errors WHERE path IN "
            f"({', '.join('?' * len(candidates))}) ORDER BY stage", candidates)

    def text_search(self, query: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Photos whose file name, folder or embedded text (descriptions, keywords, AI prompts)
        match every word of ``query``; ``-word`` excludes, "quoted words" form a phrase."""
        return fts.search(self.reader(), query, limit=limit)

    def thumbnail(self, ref: str | int, kind: str = "grid") -> Path:
        """The cached thumbnail or preview of a photo, made now (one decode) if missing."""
        if kind not in KINDS:
            raise LibraryError(f"unknown thumbnail kind {kind!r} (one of {', '.join(KINDS)})")
        row = photos.get_photo(self.reader(), ref)
        if row is None:
            raise LibraryError(f"no photo {ref} in this library")
        target = self.thumbnails.path_for(row["content_hash"], kind)
        if target.is_file():
            return target
        if row["status"] != "ok":
            raise LibraryError(f"photo {row['id']} is {row['status']}: "
                               f"{row['path']} cannot be shown")
        data = read_original(row["path"])
        content_hash = hash_content(data)
        # Edited since it was indexed: key the new pixels by their own hash, so the old
        # hash never points at a picture of different content.
        target = self.thumbnails.path_for(content_hash, kind)
        decoded = decode(data, row["path"], want=SizeRequest(long_edge=KINDS[kind]))
        try:
            self.thumbnails.write(content_hash, kind, decoded.image)
            if kind != "grid" and not self.thumbnails.has(content_hash, "grid"):
                self.thumbnails.write(content_hash, "grid", decoded.image)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise LibraryFullError(f"the disk holding the thumbnail cache "
                                       f"{self.paths.cache} is full: free some space") from exc
            raise LibraryError(f"cannot write to the thumbnail cache {self.paths.cache}: "
                               f"{exc.strerror or exc}") from exc
        return target

    def full_image(self, ref: str | int, *, max_edge: int | None = None) -> Image.Image:
        """The photo's own pixels at full resolution (or at most ``max_edge`` on the long
        edge), upright and in sRGB: what a viewer shows when zoomed past the preview. One
        decode of the original, with the same limits as ingestion (file size, megapixels).

        Raises LibraryError when the file cannot be read now (offline, missing, changed to
        something unreadable) with a message to show as is."""
        row = photos.get_photo(self.reader(), ref)
        if row is None:
            raise LibraryError(f"no photo {ref} in this library")
        if row["status"] != "ok":
            raise LibraryError(f"the original is {row['status']}: {row['path']} cannot be "
                               "read right now")
        data = read_original(row["path"])
        try:
            image = decode(data, row["path"], want=SizeRequest(long_edge=max_edge or 0)).image
        except DecodeError as exc:
            raise LibraryError(f"cannot show {row['path']}: {exc}") from exc
        if max_edge and max(image.size) > max_edge:
            # JPEG drafts come in powers of two; other formats decode whole: scale the rest.
            scale = max_edge / max(image.size)
            image = image.resize((max(1, round(image.width * scale)),
                                  max(1, round(image.height * scale))),
                                 Image.Resampling.LANCZOS)
        return image

    def doctor(self) -> dict[str, Any]:
        """Versions, paths and devices: what a bug report needs."""
        info = doctor(self.paths, self.reader())
        search_info: dict[str, Any] = dict(self.semantic.status())
        installed = self.models.installed(search_info["target"])
        if installed is not None:
            try:
                search_info["precision"] = json.loads(
                    installed.derived("precision.json").read_text("utf-8"))["why"]
            except (OSError, ValueError, KeyError):
                search_info["precision"] = "measured when the model first loads"
            search_info["text_encoder"] = ("onnx" if installed.derived("text.onnx").is_file()
                                           else "torch (ONNX export made on first query)")
        info["search"] = search_info
        faces: dict[str, Any] = dict(self.people.status())
        info["faces"] = {**faces, **info["faces"]}
        return info


def doctor(paths: LibraryPaths, conn: Connection | None = None) -> dict[str, Any]:
    """Versions, paths and devices, with or without a usable library (it is what people run
    when something is wrong, so it opens the library read-only and never migrates it)."""
    own = conn is None
    problem: str | None = None
    if conn is None and paths.library.exists():
        try:
            conn = connect(paths.library, readonly=True)
        except LibraryError as exc:
            problem = str(exc)
    if conn is None:
        conn = connect(":memory:")
        schema: int | None = None
    else:
        schema = current_version(conn)
    try:
        facts = versions(conn)
    finally:
        if own:
            conn.close()
    info: dict[str, Any] = {
        "glimpse": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        **facts,
        "pillow": PIL.__version__,
        "pillow_heif": pillow_heif.__version__,
        "libheif": pillow_heif.libheif_version(),
        "library": str(paths.library) + ("" if paths.library.exists() else " (not created yet)"),
        "library_schema": schema,
        "library_error": problem,
        "cache": str(paths.cache),
        "models": {"dir": str(paths.models), "exists": paths.models.is_dir(),
                   "installed": [r["id"] for r in model_list(Registry(paths.models), None, None)
                                 if r["installed"]]},
    }
    info["devices"] = devices.describe()
    info["faces"] = {"providers": face_providers(),
                     "providers_why": "onnxruntime providers in order CUDA, CoreML, DirectML, "
                                      "CPU; the first one present runs the face models"}
    return info
