"""Semantic search plumbing for a library: which CLIP model is chosen, its embeddings, the
approximate index beside them, and the encoders for queries.

Two model ids matter. The *target* is the model the person chose: ingestion and the catch-up
job embed with it. The *active* model is the one whose vectors search uses. They differ only
while a switch is under way: search keeps using the old vectors until every photo has a new
one, then the active model follows the target.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from glimpse_desktop.kernel import vectors
from glimpse_desktop.kernel.config import get_setting, set_setting
from glimpse_desktop.kernel.db import Connection, Writer
from glimpse_desktop.kernel.messages import Notice
from glimpse_desktop.kernel.progress import CancelToken, ProgressMeter
from glimpse_desktop.kernel.registry import Installed, ModelError, Registry
from glimpse_desktop.kernel.stages import StageReport
from glimpse_desktop.search.clip import ClipModel
from glimpse_desktop.search.embeddings import ClipStage, backlog_count
from glimpse_desktop.search.export import ensure_exported, exported

log = logging.getLogger(__name__)

TARGET_KEY = "clip.model"
ACTIVE_KEY = "clip.active"
# Catching the approximate index up reads at most this many changed vectors per round.
SYNC_CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class SearchStatus:
    """Where search by content stands in a library.

    ``target``: the model the person chose (new photos are embedded with it). ``active``: the
    model whose vectors search uses now, None before any photo was embedded; it differs from
    ``target`` only while a switch is under way. ``installed``: the target's weights are on
    this computer. ``backlog``: photos still to embed with the target, None when it is not
    installed. ``embedded``: photos with a vector of the active model. ``missing``: when the
    target is not installed, the notice (``models.not_installed``) each front end phrases
    with how to get it; else None.
    """

    target: str
    active: str | None
    installed: bool
    backlog: int | None
    embedded: int
    missing: Notice | None

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, values as they are (the ``--json`` shape; the doctor report
        adds its own keys to it)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class TextEncoder:
    """Text queries to vectors with the model's ONNX text tower and the vocabulary kept
    beside it: no torch, so a cold search from the command line stays fast. A model
    installed before conversion existed is converted on first use (which needs torch: the
    error says so where it is not installed)."""

    def __init__(self, semantic: Semantic, installed: Installed) -> None:
        self._semantic = semantic
        self._installed = installed
        self._onnx: Any = None
        self._constants: dict[tuple[str, ...], np.ndarray] = {}
        self._lock = threading.Lock()
        self.last_used = 0.0      # time.monotonic() of the last query encoded (idle unload)

    @property
    def onnx_path(self) -> Path:
        """The ONNX text tower this encoder runs (whether or not it exists yet)."""
        return exported(self._installed).text

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.last_used = time.monotonic()
        from glimpse_desktop.search.clip_text import ClipTextModelError

        try:
            return np.asarray(self._session().encode(list(texts)), dtype=np.float32)
        except ClipTextModelError as exc:
            with self._lock:
                self._onnx = None
            entry = self._installed.entry
            raise ModelError(f"the text model of {entry.id} could not be used: {exc}",
                             code="models.damaged",
                             values={"model": entry.id, "path": str(self.onnx_path)}) from exc

    def constant(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of fixed texts (the neutral prompts), computed once per model and kept
        beside the weights, so a cold search encodes only what the person typed."""
        key = tuple(texts)
        with self._lock:
            found = self._constants.get(key)
        if found is not None:
            return found
        import hashlib

        digest = hashlib.sha256("\n".join(key).encode()).hexdigest()[:12]
        path = self._installed.derived(f"texts-{digest}.npy")
        try:
            found = np.load(path)
            if found.shape[0] != len(key):
                found = None
        except (OSError, ValueError):
            found = None
        if found is None:
            found = self.encode(list(key))
            try:
                tmp = path.with_name(path.name + ".tmp.npy")
                np.save(tmp, found)
                os.replace(tmp, path)
            except OSError:
                pass
        with self._lock:
            self._constants[key] = found
        return found

    @property
    def loaded(self) -> bool:
        return self._onnx is not None

    def unload(self) -> None:
        """Drop the ONNX session (it is made again for the next query)."""
        with self._lock:
            self._onnx = None

    def _session(self) -> Any:
        with self._lock:
            if self._onnx is None:
                from glimpse_desktop.search.clip_text import ClipTokenizer, OnnxTextEncoder

                files = ensure_exported(self._installed)
                self._onnx = OnnxTextEncoder(files.text, ClipTokenizer(files.vocab))
            return self._onnx


class VectorStore:
    """The active model's vectors: sqlite-vec is the truth, the approximate index beside it
    (a cache file) answers queries and is caught up from the embedding log before each use."""

    def __init__(self, path: Path, model_id: str, table: str, dim: int) -> None:
        self.path = path
        self.model_id = model_id
        self.table = table
        self.dim = dim
        from glimpse_desktop.search.ann import VectorIndex  # usearch: only when searching

        self.index = VectorIndex.open(path, dim)
        self._lock = threading.Lock()
        self._last_sync = 0.0

    def sync(self, conn: Connection, *, save: bool = True) -> None:
        with self._lock:
            while True:
                changed, seq = vectors.changes_since(conn, self.model_id, self.index.seq,
                                                     SYNC_CHUNK)
                if not changed:
                    break
                alive = vectors.embedded(conn, self.model_id, changed)
                blobs = vectors.get_many(conn, self.table, [i for i in changed if i in alive])
                present = [i for i in changed if i in blobs]
                gone = [i for i in changed if i not in blobs]
                if gone:
                    self.index.remove(gone)
                if present:
                    mat = np.frombuffer(b"".join(blobs[i] for i in present), dtype="<f4")
                    self.index.upsert(np.asarray(present, dtype=np.int64),
                                      mat.reshape(len(present), self.dim))
                self.index.seq = seq
            if save and self.index.dirty:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self.index.save()
                except OSError as exc:  # a cache: the next process catches up again
                    log.warning("could not save the vector index %s: %s", self.path, exc)
            self._last_sync = time.monotonic()


class Semantic:
    """Everything semantic search needs from one library."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer, models_dir: Path,
                 cache_dir: Path) -> None:
        self.reader = reader
        self.writer = writer
        self.registry = Registry(models_dir)
        self.cache_dir = cache_dir
        self._models: dict[str, ClipModel] = {}
        self._texts: dict[str, TextEncoder] = {}
        self._stores: dict[str, VectorStore] = {}
        self._status: tuple[float, SearchStatus] | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ choice of model

    def target(self) -> str:
        chosen = get_setting(self.reader(), TARGET_KEY)
        if chosen:
            try:
                self.registry.entry(chosen)
                return chosen
            except ModelError:
                log.warning("the chosen model %s is no longer known; using the default", chosen)
        return self.registry.default().id

    def active(self) -> str | None:
        """The model whose vectors search uses (None: no photo was ever embedded)."""
        conn = self.reader()
        active = get_setting(conn, ACTIVE_KEY)
        if active and vectors.table_for(conn, active):
            return active
        target = self.target()
        return target if vectors.table_for(conn, target) else None

    def use(self, model_id: str) -> None:
        """Choose the model to embed with; search moves to it once every photo has it."""
        self.registry.entry(model_id)
        current = self.active()

        def apply(c: Connection) -> None:
            # Search stays on the vectors it has until the new model has embedded everything.
            if current and get_setting(c, ACTIVE_KEY) is None:
                set_setting(c, ACTIVE_KEY, current)
            set_setting(c, TARGET_KEY, model_id)
        self.writer.call(apply)
        self.promote_if_complete()

    def promote_if_complete(self) -> bool:
        target = self.target()
        conn = self.reader()
        if get_setting(conn, ACTIVE_KEY) == target:
            return True
        if self.registry.installed(target) is None or vectors.table_for(conn, target) is None:
            return False
        if backlog_count(conn, target) > 0:
            return False
        self.writer.call(lambda c: set_setting(c, ACTIVE_KEY, target))
        return True

    # ------------------------------------------------------------------ models

    def model(self, model_id: str | None = None) -> ClipModel:
        """The (lazily loaded) CLIP model; ModelNotInstalledError says how to get it."""
        model_id = model_id or self.target()
        with self._lock:
            found = self._models.get(model_id)
            if found is None:
                found = ClipModel(self.registry.require(model_id))
                self._models[model_id] = found
            return found

    def unload_idle(self, idle_seconds: float) -> list[str]:
        """Free models (the image model, the query encoders) unused for ``idle_seconds``;
        they load again when next needed (``Library.unload_idle`` calls this on a timer)."""
        freed = []
        now = time.monotonic()
        with self._lock:
            models = list(self._models.values())
            encoders = list(self._texts.items())
        for model in models:
            if model.loaded and now - model.last_used > idle_seconds:
                model.unload()
                freed.append(model.model_id)
        for model_id, encoder in encoders:
            if encoder.loaded and now - encoder.last_used > idle_seconds:
                encoder.unload()
                freed.append(f"{model_id} (text)")
        return freed

    def forget(self, model_id: str) -> None:
        """Drop the loaded model and encoders of ``model_id`` (its weights are going away)."""
        with self._lock:
            model = self._models.pop(model_id, None)
            if model is not None:
                model.unload()
            self._texts.pop(model_id, None)

    def text_encoder(self, model_id: str) -> TextEncoder:
        with self._lock:
            enc = self._texts.get(model_id)
            if enc is None:
                enc = TextEncoder(self, self.registry.require(model_id))
                self._texts[model_id] = enc
            return enc

    def table(self, model_id: str) -> str:
        """The model's vec0 table, created (a write) only the first time."""
        existing = vectors.table_for(self.reader(), model_id)
        if existing is not None:
            return existing
        entry = self.registry.entry(model_id)
        return self.writer.call(
            lambda c: vectors.ensure_space(c, model_id, kind="image", dim=entry.dim))

    def stage(self) -> ClipStage | None:
        """The ingestion stage for the target model, or None when it is not installed."""
        target = self.target()
        if self.registry.installed(target) is None:
            return None
        model = self.model(target)
        return ClipStage(model, self.table(target),
                         after=lambda report, meter, cancel: self._caught_up(
                             model, report, meter, cancel))

    # ------------------------------------------------------------------ vectors

    def store(self, model_id: str | None = None) -> VectorStore | None:
        """The caught-up vector store of the active model (or ``model_id``)."""
        model_id = model_id or self.active()
        if model_id is None:
            return None
        conn = self.reader()
        table = vectors.table_for(conn, model_id)
        if table is None:
            return None
        with self._lock:
            store = self._stores.get(model_id)
            if store is None:
                dim = int(conn.one("SELECT dim FROM embedding_spaces WHERE model_id = ?",
                                   (model_id,)))
                store = VectorStore(self.cache_dir / "vectors" / f"{table}.usearch",
                                    model_id, table, dim)
                self._stores[model_id] = store
        store.sync(conn)
        return store

    # ------------------------------------------------------------------ jobs

    def _caught_up(self, model: ClipModel, report: StageReport, meter: ProgressMeter,
                   cancel: CancelToken) -> None:
        """After the CLIP stage's catch-up run (with the ingestion lock held): switch search
        to the target model if every photo has it now, and bring the search index up to
        date."""
        if not report.cancelled:
            self.promote_if_complete()
        self._status = None
        # Bring the search index up to date now, not at the first search after a big import.
        active = self.active()
        if active is not None and not cancel.cancelled:
            meter.start_phase("updating the search index", None)
            self.store(active)

    def status(self, max_age: float = 0.0) -> SearchStatus:
        """Chosen and active model, and how many photos still need embedding. ``max_age``:
        an answer this many seconds old will do (searches ask on every keystroke, and the
        count is a scan of the library)."""
        cached = self._status
        if max_age and cached is not None and time.monotonic() - cached[0] < max_age:
            return cached[1]
        result = self._status_now()
        self._status = (time.monotonic(), result)
        return result

    def _status_now(self) -> SearchStatus:
        conn = self.reader()
        target = self.target()
        active = self.active()
        installed = self.registry.installed(target) is not None
        return SearchStatus(
            target=target, active=active, installed=installed,
            backlog=backlog_count(conn, target) if installed else None,
            embedded=int(conn.one("SELECT count(*) FROM photo_embeddings WHERE model_id = ?",
                                  (active,))) if active else 0,
            missing=None if installed else self.registry.missing(target))
