"""The model manifest's entries (``models/manifest.json`` and ``<model dir>/manifest.d``):
what a search model or a face pack is, where its files are published, and the errors a model
raises. The registry (``kernel.registry``) decides what is installed and installs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from glimpse_desktop.kernel.messages import CodedError

__all__ = ["FACE_FORMATS", "ClipEntry", "FacePack", "ModelError", "ModelFile",
           "ModelNotInstalledError", "PackFile", "by_hand", "download_files", "load_manifest"]


class ModelError(CodedError):
    """A model is unknown, missing or unusable: the message says what happened, the code
    (``models.*``, ``faces.pack_*``) lets each front end say how to get it."""


class ModelNotInstalledError(ModelError):
    pass


@dataclass(frozen=True)
class ClipEntry:
    """One CLIP model as the manifest describes it."""

    id: str
    name: str
    arch: str
    pretrained: str | None
    dim: int
    image_size: int
    file: str
    urls: tuple[str, ...]
    size: int | None
    sha256: str | None
    licence: str
    licence_url: str = ""
    default: bool = False
    summary: str = ""
    retrieval_r5: dict[str, float] | None = None
    # An open_clip model config for architectures open_clip does not ship (custom models).
    config: dict[str, Any] | None = None
    # Preprocessing overrides (mean, std, interpolation, resize_mode); open_clip's pretrained
    # config for (arch, pretrained) is used otherwise.
    preprocess: dict[str, Any] = field(default_factory=dict)
    # A trusted ONNX export of the same weights, by role (``visual``, ``text``, ``vocab``):
    # downloaded instead of the weights, so no conversion (and no torch) is needed.
    exported: dict[str, PackFile] | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ClipEntry:
        try:
            return cls(
                id=str(raw["id"]), name=str(raw.get("name") or raw["id"]), arch=str(raw["arch"]),
                pretrained=raw.get("pretrained"), dim=int(raw["dim"]),
                image_size=int(raw["image_size"]), file=str(raw["file"]),
                urls=tuple(raw.get("urls") or ()), size=raw.get("size"),
                sha256=(str(raw["sha256"]).lower() if raw.get("sha256") else None),
                licence=str(raw.get("licence") or "unknown"),
                licence_url=str(raw.get("licence_url") or ""),
                default=bool(raw.get("default", False)), summary=str(raw.get("summary") or ""),
                retrieval_r5=raw.get("retrieval_r5"), config=raw.get("config"),
                preprocess=dict(raw.get("preprocess") or {}),
                exported=_exported_from_json(raw.get("exported")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"bad manifest entry {raw.get('id', '?')!r}: {exc}") from exc


# The files of a trusted export, by role; the roles are what a CLIP model runs from.
EXPORTED_ROLES = ("visual", "text", "vocab")


def _exported_from_json(raw: Any) -> dict[str, PackFile] | None:
    if not raw:
        return None
    files = {role: PackFile.from_json(raw[role]) for role in EXPORTED_ROLES}
    names = [f.name for f in files.values()]
    if len(set(names)) != len(names) or any("/" in n or "\\" in n or n.startswith(".")
                                            for n in names):
        raise ValueError(f"the exported files need distinct plain names, not {names}")
    if any(not f.urls for f in files.values()):
        raise ValueError("every exported file needs a download address")
    return files


@dataclass(frozen=True)
class PackFile:
    """One file of a face pack: where it is published and what its bytes must hash to."""

    name: str
    sha256: str | None = None
    urls: tuple[str, ...] = ()
    size: int | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PackFile:
        return cls(name=str(raw["file"]),
                   sha256=str(raw["sha256"]).lower() if raw.get("sha256") else None,
                   urls=tuple(raw.get("urls") or ()), size=raw.get("size"))


@dataclass(frozen=True)
class FacePack:
    """A face detector + recogniser pair as the manifest describes it. ``format`` says how
    to run it: ``yunet-sface`` (OpenCV Zoo) or ``scrfd-arcface`` (InsightFace packs)."""

    id: str
    name: str
    format: str
    detector: PackFile
    recognizer: PackFile
    dim: int
    licence: str
    licence_url: str = ""
    summary: str = ""
    default: bool = False
    # Shown and confirmed before a download (non-commercial licences).
    restricted: bool = False
    # Built-in packs: the installed Python package whose folder holds the files.
    package: str | None = None
    folder: str = "models"
    # Default clustering thresholds: similarities are not comparable between recognisers.
    join: float = 0.42
    found: float = 0.48

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FacePack:
        try:
            fmt = str(raw.get("format") or "yunet-sface")
            if fmt not in FACE_FORMATS:
                raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FACE_FORMATS)})")
            return cls(
                id=str(raw["id"]), name=str(raw.get("name") or raw["id"]), format=fmt,
                detector=PackFile.from_json(raw["detector"]),
                recognizer=PackFile.from_json(raw["recognizer"]), dim=int(raw["dim"]),
                licence=str(raw.get("licence") or "unknown"),
                licence_url=str(raw.get("licence_url") or ""),
                summary=str(raw.get("summary") or ""), default=bool(raw.get("default", False)),
                restricted=bool(raw.get("restricted", False)), package=raw.get("package"),
                folder=str(raw.get("folder") or "models"),
                join=float((raw.get("thresholds") or {}).get("join", 0.42)),
                found=float((raw.get("thresholds") or {}).get("found", 0.48)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"bad face pack entry {raw.get('id', '?')!r}: {exc}") from exc

    @property
    def files(self) -> tuple[PackFile, PackFile]:
        return self.detector, self.recognizer


FACE_FORMATS = ("yunet-sface", "scrfd-arcface")


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One file a search model's download fetches (the model list shows them, so a person can
    fetch them on another computer and add them here).

    ``role``: ``weights`` (the open_clip checkpoint, converted to ONNX here, which needs
    torch) or a trusted export's ``visual``, ``text`` or ``vocab`` (nothing to convert).
    ``file``: the name it is kept under in the model's folder, and looked for under in a
    folder added by hand. ``urls``: where it is published, tried in order. ``size``,
    ``sha256``: as the manifest gives them; None where it does not (the hub publishes them
    with the file).
    """

    role: str
    file: str
    urls: tuple[str, ...]
    size: int | None
    sha256: str | None


def download_files(entry: ClipEntry) -> tuple[ModelFile, ...]:
    """What ``download`` fetches for ``entry``: its trusted export where it has one, else its
    weights."""
    if entry.exported is not None:
        return tuple(ModelFile(role, f.name, f.urls, f.size, f.sha256)
                     for role, f in entry.exported.items())
    return (ModelFile("weights", entry.file, entry.urls, entry.size, entry.sha256),)


def by_hand(entry: ClipEntry) -> dict[str, Any]:
    """The values a front end needs to say how to install ``entry`` without internet here
    (``models.not_installed``, ``models.download_failed``): ``model``, ``name``;
    ``exported``: a download fetches its trusted ONNX export (added as a folder or .zip,
    no torch needed), else its open_clip weights (added as the file; converting them needs
    torch); ``files``: the files to fetch on another computer, each ``{"role", "file", "url",
    "size"}`` (an export's vocabulary left out: the search feature ships it); ``file``,
    ``url``: the weights' name and first address (None without one)."""
    files = [{"role": f.role, "file": f.file, "url": f.urls[0] if f.urls else None,
              "size": f.size} for f in download_files(entry) if f.role != "vocab"]
    return {"model": entry.id, "name": entry.name, "exported": entry.exported is not None,
            "files": files, "file": entry.file, "url": entry.urls[0] if entry.urls else None}


def load_manifest(text: str, origin: str) -> tuple[list[ClipEntry], list[FacePack]]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"the model manifest {origin} is not valid JSON: {exc}") from exc
    return ([ClipEntry.from_json(e) for e in raw.get("clip", [])],
            [FacePack.from_json(e) for e in raw.get("faces", [])])
