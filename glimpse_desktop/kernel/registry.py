"""The model registry: which models exist (the manifest), which are installed, and where.

The manifest ships with the package (``models/manifest.json``, installed as
``glimpse_desktop.models``). A person can add models of their own by dropping a manifest of the
same form into ``<model dir>/manifest.d/`` (the tests use that door too, with a small model).

Installed weights live in ``<model dir>/clip/<id>/`` beside an ``installed.json`` that records
the digest and size that were verified when the file arrived; files derived from the weights
(the ONNX towers converted from them) sit beside them, named after the digest so they can
never go stale. A model whose manifest entry lists a trusted ``exported`` set (ONNX files
published by someone who converted the same weights) is downloaded as those files instead,
and needs no conversion.

A kind may convert what arrived into what it runs from (``ModelKind.install``): the registry
calls it after the files are verified and before the model counts as installed, so a model
that cannot be converted here is never half installed.

Every kind of model (the manifest's ``clip`` and ``faces`` sections) is downloaded, verified
and installed the same way here; running one is the business of the plugin that contributes
its ``ModelKind`` (hook ``glimpse_model_kinds``): search runs CLIP, faces the face packs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from glimpse_desktop import __version__
from glimpse_desktop.kernel import download, local_export, plugins
from glimpse_desktop.kernel.manifest import (
    FACE_FORMATS,
    ClipEntry,
    FacePack,
    ModelError,
    ModelFile,
    ModelNotInstalledError,
    PackFile,
    by_hand,
    download_files,
    load_manifest,
)
from glimpse_desktop.kernel.messages import CodedError, Notice
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, ProgressCallback

# The manifest's entries and the models' errors live in kernel.manifest; they are named here
# too, where every caller has always found them.
__all__ = ["ENV_MANIFEST", "FACE_FORMATS", "ClipEntry", "FacePack", "FacePackInfo", "Installed",
           "ModelError", "ModelFile", "ModelFiles", "ModelInfo", "ModelInstaller", "ModelKind",
           "ModelNotInstalledError", "PackFile", "Registry", "by_hand", "download_files",
           "face_pack_list", "model_kind", "model_kinds", "model_list", "package_folder"]

ENV_MANIFEST = "GLIMPSE_MODEL_MANIFEST"


def package_folder(pack: FacePack) -> Path:
    """Where a built-in pack's files are: inside the installed package that ships them
    (found without importing it)."""
    spec = importlib.util.find_spec(pack.package) if pack.package else None
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalledError(
            f"the face models come with the {pack.package!r} package, which is not installed",
            code="faces.pack_package_missing", values={"pack": pack.id, "package": pack.package})
    return Path(next(iter(spec.submodule_search_locations))) / pack.folder


@dataclass(frozen=True)
class Installed:
    """An installed CLIP model. ``weights``: the file that arrived (the open_clip checkpoint;
    for a trusted export, its visual ONNX file); ``sha256``, ``size``: that file's, verified
    on arrival. ``exported``: a trusted export's files by role (``visual``, ``text``,
    ``vocab``), empty for a model installed as weights (its ONNX files are ``derived``)."""

    entry: ClipEntry
    weights: Path
    sha256: str
    size: int
    exported: Mapping[str, Path] = field(default_factory=dict, hash=False)

    @property
    def folder(self) -> Path:
        return self.weights.parent

    def derived(self, name: str) -> Path:
        """A file computed from these weights (valid exactly as long as the weights are)."""
        return self.folder / f"{self.sha256[:16]}-{name}"


@dataclass(frozen=True)
class ModelFiles:
    """An installed model as its kind's loader gets it."""

    entry: Any                   # its manifest entry (``ClipEntry``, ``FacePack``)
    folder: Path                 # the folder holding its files
    digests: Mapping[str, str]   # file name -> the sha256 verified when it was installed


ModelInstaller = Callable[[ModelFiles, ProgressCallback | None, CancelToken | None], None]


@dataclass(frozen=True)
class ModelKind:
    """A kind of model a plugin runs (hook ``glimpse_model_kinds``).

    ``name`` is the manifest's section the kind's models are listed in (``clip``, ``faces``).
    ``load`` turns an installed model into a loaded, runnable one, raising ``ModelError``
    when the files are not a model of this kind: the registry loads a model added by hand
    through it (and lets it go) before the model counts as installed.

    ``install`` (optional) prepares verified files for running, once, when a model is added
    or downloaded: e.g. converts a checkpoint to the ONNX files the kind runs from, writing
    them beside it in ``files.folder``. It is called with the model's files (their digests
    verified), a progress callback and a cancel token, before the model counts as installed;
    a ``ModelError`` it raises (files that are not this kind's model, a converter that is not
    installed here) leaves the model uninstalled. When a kind has one, the registry does not
    also ``load`` a model added by hand: installing it is the check. ``install`` also gets a
    trusted export added from a folder (``entry.exported`` names its files); where the folder
    lacked the vocabulary, ``install`` supplies it or raises."""

    name: str
    load: Callable[[ModelFiles], Any]
    install: ModelInstaller | None = None
    # Called with the manifest entry before a checkpoint is copied in or downloaded for
    # ``install``; raises ModelError where ``install`` could not convert it here (its
    # converter is not installed), so gigabytes are not copied only to be thrown away.
    precheck: Callable[[Any], None] | None = None


def model_kinds() -> dict[str, ModelKind]:
    """The kinds of model the process's plugins run, by name (the first plugin's wins)."""
    host = plugins.host()
    kinds: dict[str, ModelKind] = {}
    for kind in host.collect("glimpse_model_kinds"):
        if isinstance(kind, ModelKind):
            kinds.setdefault(kind.name, kind)
    return kinds


def model_kind(name: str) -> ModelKind:
    """The kind ``name`` as the plugin that runs it contributes it; ModelError when no
    plugin loaded here runs that kind."""
    found = model_kinds().get(name)
    if found is None:
        raise ModelError(f"no plugin loaded here runs {name} models")
    return found


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hugging Face puts the LFS digest on its redirect to the CDN: read it there."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Registry:
    """Models known to this installation and their state in ``model_dir``."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = Path(model_dir)
        builtin = resources.files("glimpse_desktop.models").joinpath("manifest.json")
        self._builtin, self._builtin_faces = load_manifest(builtin.read_text("utf-8"),
                                                            "built-in manifest")
        self._seen: tuple[tuple[str, float], ...] | None = None
        self._entries: dict[str, ClipEntry] = {}
        self._faces: dict[str, FacePack] = {}

    def _extra_files(self) -> list[Path]:
        places = [self.model_dir / "manifest.d"]
        if os.environ.get(ENV_MANIFEST):
            places.append(Path(os.environ[ENV_MANIFEST]))
        files: list[Path] = []
        for place in places:
            try:
                if place.is_dir():
                    files.extend(sorted(place.glob("*.json")))
                elif place.is_file():
                    files.append(place)
            except OSError:  # an unreadable model folder: the built-in manifest still works
                continue
        return files

    def _refresh(self) -> dict[str, ClipEntry]:
        """The manifest entries; files dropped into manifest.d count from the next lookup."""
        files = self._extra_files()
        seen = []
        for f in files:
            try:
                seen.append((str(f), f.stat().st_mtime))
            except OSError:
                continue
        key = tuple(seen)
        if key != self._seen:
            entries = {e.id: e for e in self._builtin}
            faces = {p.id: p for p in self._builtin_faces}
            for f in files:
                try:
                    text = f.read_text("utf-8")
                except OSError:
                    continue
                clip, packs = load_manifest(text, str(f))
                entries.update({e.id: e for e in clip})
                faces.update({p.id: p for p in packs})
            self._entries, self._faces, self._seen = entries, faces, key
        return self._entries

    # ------------------------------------------------------------------ queries

    def entries(self) -> list[ClipEntry]:
        return list(self._refresh().values())

    def entry(self, model_id: str) -> ClipEntry:
        entries = self._refresh()
        try:
            return entries[model_id]
        except KeyError:
            known = ", ".join([*sorted(entries), *sorted(self._faces)])
            raise ModelError(f"unknown model {model_id!r} (known: {known})") from None

    def default(self) -> ClipEntry:
        entries = self._refresh()
        for entry in entries.values():
            if entry.default:
                return entry
        return next(iter(entries.values()))

    def folder(self, model_id: str) -> Path:
        return self.model_dir / "clip" / model_id

    def installed(self, model_id: str) -> Installed | None:
        """The installed weights of ``model_id``, or None (a half-written file is not)."""
        entry = self.entry(model_id)
        folder = self.folder(model_id)
        try:
            record = json.loads((folder / "installed.json").read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        weights = folder / str(record.get("file") or entry.file)
        try:
            size = weights.stat().st_size
            exported = {role: folder / str(f["file"])
                        for role, f in (record.get("exported") or {}).items()}
            if any(path.stat().st_size != record["exported"][role]["size"]
                   for role, path in exported.items()):
                return None
        except (OSError, KeyError, TypeError, AttributeError):
            return None
        if size != record.get("size"):
            return None  # replaced or damaged behind our back: download or add it again
        return Installed(entry, weights, str(record["sha256"]), size, exported)

    def require(self, model_id: str) -> Installed:
        found = self.installed(model_id)
        if found is None:
            raise ModelNotInstalledError.of(self.missing(model_id))
        return found

    def missing(self, model_id: str) -> Notice:
        """A model that is not installed, as data (``models.not_installed``): each front end
        says how to get it (a command, a button)."""
        entry = self.entry(model_id)
        return Notice("models.not_installed",
                      f"the model {entry.id} ({entry.name}) is not installed; without it, "
                      "search uses file names, folders and text only", by_hand(entry))

    # ------------------------------------------------------------------ face packs

    def face_packs(self) -> list[FacePack]:
        self._refresh()
        return list(self._faces.values())

    def is_face_pack(self, model_id: str) -> bool:
        self._refresh()
        return model_id in self._faces

    def face_pack(self, pack_id: str) -> FacePack:
        self._refresh()
        try:
            return self._faces[pack_id]
        except KeyError:
            known = ", ".join(sorted(self._faces))
            raise ModelError(f"unknown face pack {pack_id!r} (known: {known})") from None

    def face_folder(self, pack: FacePack) -> Path:
        """Where a pack's files are: inside the package that ships a built-in pack, in the
        model folder for a downloaded one."""
        if pack.package is not None:
            return package_folder(pack)
        return self.model_dir / "faces" / pack.id

    def face_installed(self, pack: FacePack) -> dict[str, str] | None:
        """File name -> verified sha256 of an installed pack, or None."""
        try:
            folder = self.face_folder(pack)
        except ModelError:
            return None
        if pack.package is not None:
            if all((folder / f.name).is_file() for f in pack.files):
                return {f.name: f.sha256 or "" for f in pack.files}
            return None
        try:
            record = json.loads((folder / "installed.json").read_text("utf-8"))
            digests = {str(k): str(v) for k, v in record["files"].items()}
        except (OSError, ValueError, KeyError, AttributeError):
            return None
        for f in pack.files:
            try:
                if (folder / f.name).stat().st_size != record["sizes"][f.name]:
                    return None
            except (OSError, KeyError):
                return None
        return digests

    def face_missing(self, pack: FacePack) -> ModelNotInstalledError:
        """A face pack that is not installed, as a coded error each front end phrases."""
        if pack.package is not None:
            return ModelNotInstalledError(
                f"the files of the face pack {pack.id} are missing from the {pack.package} "
                "package", code="faces.pack_package_missing",
                values={"pack": pack.id, "package": pack.package})
        return ModelNotInstalledError(
            f"the face pack {pack.id} is not installed (licence: {pack.licence})",
            code="faces.pack_not_installed",
            values={"pack": pack.id, "licence": pack.licence,
                    "files": " and ".join(f.name for f in pack.files)})

    def download_face_pack(self, pack_id: str, *, progress: ProgressCallback | None = None,
                           cancel: CancelToken | None = None) -> dict[str, str]:
        """Fetch both files of a pack (resumable), verify them, record them as installed."""
        pack = self.face_pack(pack_id)
        found = self.face_installed(pack)
        if found is not None:
            return found
        if pack.package is not None:
            raise self.face_missing(pack)
        with self._tidy_on_failure(self.face_folder(pack)):
            return self._download_face_pack(pack, progress, cancel)

    def _download_face_pack(self, pack: FacePack, progress: ProgressCallback | None,
                            cancel: CancelToken | None) -> dict[str, str]:
        folder = self.face_folder(pack)
        self._mkdir(folder)
        by_hand = {"pack": pack.id, "files": " and ".join(x.name for x in pack.files),
                   "urls": ", ".join(x.urls[0] for x in pack.files if x.urls)}
        digests: dict[str, str] = {}
        for f in pack.files:
            if not f.urls:
                raise ModelError(f"{pack.id} has no download address for {f.name}",
                                 code="faces.pack_no_address", values=by_hand)
            try:
                sha256, size = f.sha256, f.size
                if sha256 is None:
                    sha256, size = self._published_digest_of(f.urls, f.name, pack.id)
                download.download(list(f.urls), folder / f.name, sha256=sha256, size=size,
                                  progress=progress, cancel=cancel, what=f"{pack.id} {f.name}")
            except download.DownloadError as exc:
                # Said as the pack's: by hand, a pack is added as a folder of its files.
                raise type(exc)(str(exc), code="faces.pack_download_failed",
                                values=by_hand) from exc
            digests[f.name] = sha256
        self._record_pack(pack, folder, digests, "download")
        return digests

    def add_face_pack(self, pack_id: str, source: Path, *,
                      progress: ProgressCallback | None = None,
                      cancel: CancelToken | None = None) -> dict[str, str]:
        """Install a pack from a folder holding its files (machines without internet)."""
        pack = self.face_pack(pack_id)
        if pack.package is not None:
            raise ModelError(f"{pack.id} comes with Glimpse; there is nothing to add")
        source = Path(source)
        if not source.is_dir():
            raise ModelError(f"{source} is not a folder (it should hold "
                             f"{' and '.join(f.name for f in pack.files)})")
        kind = model_kind("faces")
        with self._tidy_on_failure(self.face_folder(pack), resumable=False):
            return self._add_face_pack(pack, source, kind, progress, cancel)

    def _add_face_pack(self, pack: FacePack, source: Path, kind: ModelKind,
                       progress: ProgressCallback | None, cancel: CancelToken | None
                       ) -> dict[str, str]:
        folder = self.face_folder(pack)
        self._mkdir(folder)
        digests: dict[str, str] = {}
        for f in pack.files:
            if not (source / f.name).is_file():
                raise ModelError(f"{source} has no {f.name}")
            digest = f.sha256 or download.sha256_file(source / f.name, cancel=cancel)
            download.install_file(source / f.name, folder / f.name, sha256=digest,
                                  size=f.size, progress=progress, cancel=cancel)
            digests[f.name] = digest
        # Checked by loading: two files that are not this pack's models are refused here,
        # not found out later as an index that silently finds no face.
        try:
            kind.load(ModelFiles(pack, folder, digests))
        except ModelError as exc:
            for f in pack.files:
                (folder / f.name).unlink(missing_ok=True)
            raise ModelError(f"{source} does not hold the {pack.id} models: {exc}") from exc
        self._record_pack(pack, folder, digests, "file")
        return digests

    def _record_pack(self, pack: FacePack, folder: Path, digests: dict[str, str],
                     source: str) -> None:
        record = {"id": pack.id, "files": digests,
                  "sizes": {f.name: (folder / f.name).stat().st_size for f in pack.files},
                  "source": source, "glimpse": __version__}
        tmp = folder / ".installed.json.tmp"
        tmp.write_text(json.dumps(record, indent=1), "utf-8")
        os.replace(tmp, folder / "installed.json")

    # ------------------------------------------------------------------ changes

    def download(self, model_id: str, *, progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> Installed:
        """Fetch the model (resumable), verify size and sha256, install atomically: its
        trusted export where the manifest lists one (nothing to convert), else the weights,
        converted by the kind's ``install`` (checked to be possible here first). A failure
        leaves no folder behind but one holding a download to resume."""
        entry = self.entry(model_id)
        found = self.installed(model_id)
        if found is not None:
            return found
        with self._tidy_on_failure(self.folder(model_id)), self._said_by_hand(entry):
            if entry.exported is not None:
                return self._download_exported(entry, entry.exported, progress, cancel)
            return self._download_weights(entry, progress, cancel)

    def _download_weights(self, entry: ClipEntry, progress: ProgressCallback | None,
                          cancel: CancelToken | None) -> Installed:
        if not entry.urls:
            raise ModelError(f"{entry.id} has no download address", code="models.no_address",
                             values=by_hand(entry))
        kind = model_kinds().get("clip")
        if kind is not None and kind.precheck is not None:
            kind.precheck(entry)
        sha256, size = entry.sha256, entry.size
        if sha256 is None:
            sha256, size = self._published_digest(entry)
        folder = self.folder(entry.id)
        self._mkdir(folder)
        target = folder / entry.file
        # Weights that arrived before a conversion was interrupted are not fetched again.
        if not (target.is_file() and download.sha256_file(target, cancel=cancel) == sha256):
            download.download(list(entry.urls), target, sha256=sha256, size=size,
                              progress=progress, cancel=cancel, what=entry.id)
        if kind is not None and kind.install is not None:
            self._install(kind.install, entry, target, sha256, progress, cancel)
        return self._record(entry, target, sha256, "download")

    def _download_exported(self, entry: ClipEntry, files: dict[str, PackFile],
                           progress: ProgressCallback | None, cancel: CancelToken | None
                           ) -> Installed:
        folder = self.folder(entry.id)
        self._mkdir(folder)
        digests: dict[str, str] = {}
        for role, f in files.items():
            sha256, size = f.sha256, f.size
            if sha256 is None:
                sha256, size = self._published_digest_of(f.urls, f.name, entry.id)
            download.download(list(f.urls), folder / f.name, sha256=sha256, size=size,
                              progress=progress, cancel=cancel, what=f"{entry.id} {role}")
            digests[f.name] = sha256
        return self._install_exported(entry, entry, folder, digests, progress, cancel,
                                      "download-exported")

    def _install_exported(self, entry: ClipEntry, as_exported: ClipEntry, folder: Path,
                          digests: dict[str, str], progress: ProgressCallback | None,
                          cancel: CancelToken | None, source: str) -> Installed:
        """Check an export's verified files with the kind's ``install`` and record them;
        on failure none of them stays. ``as_exported``: the entry with ``exported`` naming
        the files (``entry`` itself for a manifest export)."""
        assert as_exported.exported is not None
        files = as_exported.exported
        visual = files["visual"].name
        kind = model_kinds().get("clip")
        try:
            if kind is not None and kind.install is not None:
                kind.install(ModelFiles(as_exported, folder, digests), progress, cancel)
            for f in files.values():
                if f.name not in digests:   # supplied by the kind (the vocabulary it ships)
                    if not (folder / f.name).is_file():
                        raise ModelError(f"the export of {entry.id} has no {f.name}",
                                         code="models.not_an_export",
                                         values={"source": str(folder), "wanted": f.name})
                    digests[f.name] = download.sha256_file(folder / f.name, cancel=cancel)
        except (Cancelled, KeyboardInterrupt):
            raise   # the verified files stay: the next try checks them without fetching again
        except BaseException:
            for f in files.values():
                (folder / f.name).unlink(missing_ok=True)
            for derived in folder.glob(f"{digests[visual][:16]}-*"):
                derived.unlink(missing_ok=True)
            raise
        record = {role: {"file": f.name, "sha256": digests[f.name],
                         "size": (folder / f.name).stat().st_size}
                  for role, f in files.items()}
        return self._record(entry, folder / visual, digests[visual], source, exported=record)

    def _install(self, install: ModelInstaller, entry: ClipEntry, target: Path, sha256: str,
                 progress: ProgressCallback | None, cancel: CancelToken | None) -> None:
        """Run the kind's ``install`` on verified weights; on failure nothing of them stays
        (neither the weights nor a file derived from them)."""
        try:
            install(ModelFiles(entry, target.parent, {entry.file: sha256}), progress, cancel)
        except (Cancelled, KeyboardInterrupt):
            # Cancelled, or a second Ctrl-C: the weights are verified and fine (maybe hundreds
            # of megabytes fetched), and the next try converts them without fetching again.
            raise
        except BaseException:
            target.unlink(missing_ok=True)
            for derived in target.parent.glob(f"{sha256[:16]}-*"):
                derived.unlink(missing_ok=True)
            raise

    def add(self, model_id: str, source: Path, *, progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None) -> Installed:
        """Install a model from local files (copied; the source is left alone): its open_clip
        checkpoint (a file; converted by the kind's ``install``, which must be possible here:
        checked before anything is copied), or its ONNX export, a folder or a .zip holding the
        towers (``local_export`` says under which names), checked by the digests the manifest
        publishes and by the kind's ``install``; no conversion, so no torch. A failure leaves
        nothing behind."""
        entry = self.entry(model_id)
        source = Path(source)
        folder = self.folder(model_id)
        if local_export.is_export_source(source):
            with self._tidy_on_failure(folder, resumable=False):
                return self._add_export(entry, source, progress, cancel)
        if not source.is_file():
            raise ModelError(f"{source} is not a file or folder")
        if source.suffix.lower() == ".onnx":
            names = local_export.stored_names(entry.exported)
            raise ModelError(f"{source} is one file of an ONNX export: give the folder (or "
                             f".zip) that holds {names['visual']} and {names['text']}",
                             code="models.not_an_export",
                             values={"source": str(source), "wanted": names["visual"]})
        kind = model_kinds().get("clip")
        if kind is not None and kind.precheck is not None:
            kind.precheck(entry)
        with self._tidy_on_failure(folder, resumable=False):
            return self._add_weights(entry, source, progress, cancel)

    def _add_export(self, entry: ClipEntry, source: Path, progress: ProgressCallback | None,
                    cancel: CancelToken | None) -> Installed:
        kind = model_kind("clip")
        if kind.install is None:
            raise ModelError(f"no plugin loaded here installs an ONNX export of {entry.id}")
        names = local_export.stored_names(entry.exported)
        as_exported = entry if entry.exported is not None else dataclasses.replace(
            entry, exported={role: PackFile(name) for role, name in names.items()})
        assert as_exported.exported is not None
        folder = self.folder(entry.id)
        self._mkdir(folder)
        try:
            with local_export.exported_files(source, entry.exported, folder.parent) as found:
                digests: dict[str, str] = {}
                for role, src in found.items():
                    published = as_exported.exported[role]
                    sha256 = published.sha256 or download.sha256_file(src, cancel=cancel)
                    download.install_file(src, folder / names[role], sha256=sha256,
                                          size=published.size, progress=progress,
                                          cancel=cancel)
                    digests[names[role]] = sha256
        except CodedError as exc:
            if isinstance(exc, ModelError | download.DownloadError | Cancelled):
                raise
            raise ModelError(str(exc), code=exc.code or "models.not_an_export",
                             values=exc.values) from exc
        return self._install_exported(entry, as_exported, folder, digests, progress, cancel,
                                      "file-exported")

    def _add_weights(self, entry: ClipEntry, source: Path, progress: ProgressCallback | None,
                     cancel: CancelToken | None) -> Installed:
        folder = self.folder(entry.id)
        self._mkdir(folder)
        target = folder / entry.file
        kind = model_kinds().get("clip")
        if kind is not None and kind.install is not None:
            # Checked by converting it (open_clip loads it strictly: every weight present,
            # every shape right) before it counts as installed.
            digest = entry.sha256 or download.sha256_file(source, cancel=cancel)
            download.install_file(source, target, sha256=digest, size=entry.size,
                                  progress=progress, cancel=cancel)
            try:
                self._install(kind.install, entry, target, digest, progress, cancel)
            except ModelError as exc:
                if exc.code == "models.damaged":
                    raise ModelError(f"{source} is not a {entry.arch} checkpoint: {exc}",
                                     code=exc.code, values=exc.values) from exc
                raise
            return self._record(entry, target, digest, "file")
        if entry.sha256 is not None:
            download.install_file(source, target, sha256=entry.sha256, size=entry.size,
                                  progress=progress, cancel=cancel)
            return self._record(entry, target, entry.sha256, "file")
        # No digest was published with the manifest: the file is checked by loading it as
        # this architecture (strictly: every weight present, every shape right) before it
        # counts as installed.
        kind = model_kind("clip")
        digest = download.sha256_file(source, cancel=cancel)
        download.install_file(source, target, sha256=digest, progress=progress, cancel=cancel)
        try:
            kind.load(ModelFiles(entry, folder, {entry.file: digest}))
        except ModelError as exc:
            target.unlink(missing_ok=True)
            raise ModelError(f"{source} is not a {entry.arch} checkpoint: {exc}") from exc
        return self._record(entry, target, digest, "file")

    def remove(self, model_id: str) -> bool:
        """Delete a model's (or a downloaded face pack's) folder; True when it held an
        installed model. What a failed or interrupted download left there is deleted too,
        but a model that was never installed is not said to be removed (False)."""
        if self.is_face_pack(model_id):
            pack = self.face_pack(model_id)
            if pack.package is not None:
                raise ModelError(f"{pack.id} comes with Glimpse and cannot be removed",
                                 code="faces.pack_builtin", values={"pack": pack.id})
            folder = self.face_folder(pack)
        else:
            self.entry(model_id)
            folder = self.folder(model_id)
        if not folder.exists():
            return False
        # Recorded: installed, even where its files were damaged since (removing is the cure).
        was_installed = (folder / "installed.json").is_file()
        shutil.rmtree(folder)
        self._rmdir_if_empty(folder.parent)
        return was_installed

    # ------------------------------------------------------------------ helpers

    @contextlib.contextmanager
    def _tidy_on_failure(self, folder: Path, *, resumable: bool = True) -> Iterator[None]:
        """On any failure (cancelling included), remove ``folder`` unless it holds something
        worth keeping: an installed model's record, or (``resumable``: a download) bytes of a
        download or weights that the next try resumes from. Nothing else a failed download
        or add left counts."""
        existed = folder.exists()
        try:
            yield
        except BaseException:
            try:
                keep = (folder / "installed.json").exists() or (resumable and any(
                    p.is_file() and not p.name.startswith(".") and p.stat().st_size > 0
                    and "configs" not in p.relative_to(folder).parts
                    for p in folder.rglob("*")))
                if not keep and folder.exists():
                    shutil.rmtree(folder)
                    if not existed:
                        self._rmdir_if_empty(folder.parent)
            except OSError:
                pass   # tidying is a courtesy: the failure itself is what is reported
            raise

    @staticmethod
    def _rmdir_if_empty(folder: Path) -> None:
        with contextlib.suppress(OSError):
            folder.rmdir()

    @contextlib.contextmanager
    def _said_by_hand(self, entry: ClipEntry) -> Iterator[None]:
        """A failed download carries what a front end needs to say how to install the model
        by hand (the download module knows only the file it was fetching)."""
        try:
            yield
        except download.DownloadError as exc:
            if exc.code != "models.download_failed":
                raise
            raise type(exc)(str(exc), code=exc.code,
                            values={**exc.values, **by_hand(entry)}) from exc


    @staticmethod
    def _mkdir(folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelError(f"cannot create the model folder {folder}: "
                             f"{exc.strerror or exc}") from exc

    def _record(self, entry: ClipEntry, weights: Path, sha256: str, source: str,
                exported: dict[str, dict[str, Any]] | None = None) -> Installed:
        size = weights.stat().st_size
        record: dict[str, Any] = {"id": entry.id, "file": weights.name, "sha256": sha256,
                                  "size": size, "source": source, "glimpse": __version__}
        if exported:
            record["exported"] = exported
        tmp = weights.parent / ".installed.json.tmp"
        tmp.write_text(json.dumps(record, indent=1), "utf-8")
        os.replace(tmp, weights.parent / "installed.json")
        return Installed(entry, weights, sha256, size,
                         {role: weights.parent / f["file"] for role, f in (exported or {}).items()})

    @staticmethod
    def _published_digest(entry: ClipEntry) -> tuple[str, int | None]:
        return Registry._published_digest_of(entry.urls, entry.file, entry.id)

    @staticmethod
    def _published_digest_of(urls: tuple[str, ...], file: str, what: str
                             ) -> tuple[str, int | None]:
        """The sha256 and size the hub publishes for the file (Hugging Face serves large
        files from Git LFS, whose object id is the sha256 of the content, in
        ``X-Linked-Etag``; ``X-Linked-Size`` is its length)."""
        failures: list[str] = []
        for url in urls:
            request = urllib.request.Request(
                url, method="HEAD", headers={"User-Agent": download.USER_AGENT})
            opener = urllib.request.build_opener(_NoRedirect)
            try:
                with opener.open(request, timeout=30) as response:
                    headers = response.headers
            except urllib.error.HTTPError as exc:
                headers = exc.headers  # the 302 to the CDN carries the LFS headers
                if exc.code >= 400:
                    failures.append(f"{url}: HTTP {exc.code}")
                    continue
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                failures.append(f"{url}: {reason}")
                continue
            etag = (headers.get("X-Linked-Etag") or headers.get("ETag") or "").strip('W/"')
            if len(etag) == 64 and all(c in "0123456789abcdef" for c in etag.lower()):
                size = headers.get("X-Linked-Size")
                return etag.lower(), (int(size) if size and size.isdigit() else None)
            failures.append(f"{url}: the server published no sha256 for the file")
        raise download.DownloadError(
            f"could not get the published digest of {what}: " + "; ".join(failures) + ".",
            code="models.download_failed", values={"model": what, "file": file})


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One search (CLIP) model as the model list shows it.

    ``id``, ``name``: the manifest's id and its name for people. ``default``: the model a new
    library uses. ``installed``: its weights are on this computer. ``size``: bytes of the
    weights (the installed file's, else the manifest's; None when unknown). ``sha256``: their
    digest (likewise). ``dim``: the length of its embeddings. ``licence``, ``licence_url``:
    the weights' licence and where to read it ('' when none). ``summary``: one line for people
    ('' when none). ``retrieval_r5``: the manifest's recall@5 figures by benchmark, or None.
    ``active``: the library searches with it now. ``target``: the library is switching to it
    (installed, not yet active). ``path``: the installed weights file, or None.
    ``exported``: a download fetches the model's trusted ONNX export (nothing to convert, no
    torch needed), else its open_clip weights (converted here, which needs torch). ``files``:
    what a download fetches, with addresses, sizes and digests where the manifest knows them
    (fetched on another computer, they are what ``Registry.add`` takes).
    """

    id: str
    name: str
    default: bool
    installed: bool
    size: int | None
    sha256: str | None
    dim: int
    licence: str
    licence_url: str
    summary: str
    retrieval_r5: Mapping[str, float] | None
    active: bool
    target: bool
    path: str | None
    exported: bool = False
    files: tuple[ModelFile, ...] = ()


@dataclass(frozen=True, slots=True)
class FacePackInfo:
    """One face pack (detector + recogniser) as the model list shows it.

    ``id``, ``name``: the manifest's id and its name for people. ``kind``: always 'faces'.
    ``default``: the pack a new library uses. ``installed``: its files are on this computer.
    ``builtin``: it comes with Glimpse (an installed Python package holds it). ``dim``: the
    length of its face embeddings. ``licence``, ``licence_url``: its licence and where to read
    it. ``restricted``: its licence limits use (non-commercial), so a download asks first.
    ``summary``: one line for people ('' when none). ``active``: the library uses it now.
    ``size``: bytes of its files together, or None when the manifest does not say.
    """

    id: str
    name: str
    kind: str
    default: bool
    installed: bool
    builtin: bool
    dim: int
    licence: str
    licence_url: str
    restricted: bool
    summary: str
    active: bool
    size: int | None


def model_list(registry: Registry, active: str | None, target: str | None
               ) -> list[ModelInfo]:
    """The search models for the model list (CLI and settings view)."""
    rows = []
    for entry in registry.entries():
        inst = registry.installed(entry.id)
        rows.append(ModelInfo(
            id=entry.id, name=entry.name, default=entry.default,
            installed=inst is not None, size=inst.size if inst else entry.size,
            sha256=inst.sha256 if inst else entry.sha256, dim=entry.dim,
            licence=entry.licence, licence_url=entry.licence_url,
            summary=entry.summary, retrieval_r5=entry.retrieval_r5,
            active=entry.id == active,
            # "switching to" only means something for a model that is there to switch to.
            target=entry.id == target and target != active and inst is not None,
            path=str(inst.weights) if inst else None,
            exported=entry.exported is not None, files=download_files(entry),
        ))
    return rows


def face_pack_list(registry: Registry, active: str | None) -> list[FacePackInfo]:
    """The face packs for the model list (CLI and settings view)."""
    rows = []
    for pack in registry.face_packs():
        installed = registry.face_installed(pack)
        rows.append(FacePackInfo(
            id=pack.id, name=pack.name, kind="faces", default=pack.default,
            installed=installed is not None, builtin=pack.package is not None,
            dim=pack.dim, licence=pack.licence, licence_url=pack.licence_url,
            restricted=pack.restricted, summary=pack.summary,
            active=pack.id == active,
            size=sum(f.size for f in pack.files if f.size) or None,
        ))
    return rows
