"""The records the Library facade's own methods return: its photo folders (roots), what it
holds (status), one photo in full (``Photo``) or as the grid's light row (``PhotoRow``), the
folders of the Folders view, text-search hits, per-file errors and the doctor report.

Every record is frozen; sequences are tuples. A front end's JSON output is them field by
field, so a field's name is its JSON key. Times are ISO 8601 text as the library stores them;
paths are absolute text. A feature's part of a record (people, places, search, a caption) is
that feature's own record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any, Literal

from glimpse_desktop.kernel.messages import Notice

if TYPE_CHECKING:   # annotations only: the records stay cheap to import
    from glimpse_desktop.captions.records import Caption
    from glimpse_desktop.faces.records import PeopleStatus
    from glimpse_desktop.kernel.syslibs import SystemLibraries
    from glimpse_desktop.places.records import Place, PlacesStatus
    from glimpse_desktop.search.clip_runtime import ModelRuntime, RuntimeChoice
    from glimpse_desktop.search.semantic import SearchStatus

# A photo's state: ``ok`` (its file is there and was read), ``missing`` (gone from a folder
# that is present), ``offline`` (its folder's drive is absent), ``unsupported`` (a file
# Glimpse recognises but cannot show, such as a RAW without a preview).
PhotoStatus = Literal["ok", "missing", "offline", "unsupported"]
# A photo folder's state: ``new`` (never read), ``online`` (read, reachable at the last
# scan), ``offline`` (its drive was absent at the last scan).
RootStatus = Literal["new", "online", "offline"]

# Stages whose errors mean "this file could not be read or saved"; `metadata` holds warnings
# about single fields of photos that were read fine. Plugins' stages add their own names.
WARNING_STAGES = ("metadata",)
ERROR_STAGES = ("scan", "read", "decode", "ingest", "thumbnail", "clip", "faces", "caption",
                *WARNING_STAGES)


@dataclass(frozen=True, slots=True)
class Root:
    """One photo folder of the library (a *root*), with its state and counts."""

    id: int
    path: str
    """The folder, absolute with symlinks resolved."""
    status: RootStatus
    """``new``, ``online`` or ``offline`` as of the last scan (``present`` is now)."""
    added_at: str
    last_scan_at: str | None
    """When a scan last finished reading it; None if never."""
    volume: str | None
    """The mount point of the drive holding it, None if unknown."""
    photos: int
    """Photos in it whose files are there and were read (status ``ok``)."""
    missing: int
    offline: int
    unsupported: int
    errors: int
    """Files under it that could not be read or saved."""
    warnings: int
    """Warnings about single fields of photos that were read fine (stage ``metadata``)."""
    present: bool
    """The folder is reachable right now."""


@dataclass(frozen=True, slots=True)
class RootAdded:
    """What ``add_root`` did."""

    id: int
    """The new folder's id."""
    path: str
    """The folder as the library spells it (absolute, symlinks resolved)."""
    absorbed: tuple[str, ...]
    """Folders of the library inside the new one, which it took over (their photos keep
    their rows)."""


@dataclass(frozen=True, slots=True)
class MissingPhoto:
    """A photo whose file is gone from a folder that is present (``forget_missing``)."""

    id: int
    path: str
    missing_since: str | None
    """When it was first seen missing."""
    content_hash: str


@dataclass(frozen=True, slots=True)
class LibraryStatus:
    """What the library holds (the CLI's status verb). Photo counts are by status."""

    library: str
    """The library file."""
    cache: str
    """The folder of thumbnails and other caches."""
    photos: int
    """Photos whose files are there and were read."""
    missing: int
    offline: int
    unsupported: int
    errors: int
    """Files that could not be read or saved, every stage but the warning ones."""
    warnings: int
    """Warnings about single fields of photos that were read fine."""
    with_gps: int
    """Readable photos with a position."""
    roots: tuple[Root, ...]
    search: SearchStatus
    """Search by content."""
    people: PeopleStatus
    """Faces and people."""
    places: PlacesStatus
    """Places."""


@dataclass(frozen=True, slots=True)
class Gps:
    """Where a photo was taken, as its file says."""

    lat: float
    """Degrees north (negative: south)."""
    lon: float
    """Degrees east (negative: west)."""
    alt: float | None
    """Metres above sea level, None if unknown."""


@dataclass(frozen=True, slots=True)
class Camera:
    make: str | None
    model: str | None


@dataclass(frozen=True, slots=True)
class Exposure:
    """How a photo was exposed; each None when its file does not say."""

    time: float | None
    """Seconds."""
    f_number: float | None
    iso: int | None
    focal_length: float | None
    """Millimetres (the lens's own, not the 35 mm equivalent)."""


@dataclass(frozen=True, slots=True)
class TextEntry:
    """One text found in or written about a photo (what full-text search reads)."""

    field: str
    """What it is: caption, description, keywords, tags, prompt, negative_prompt,
    generation, or a plugin's own."""
    source: str
    """Where it came from: the file's EXIF/XMP/IPTC/PNG text, a sidecar, a model, the
    person."""
    value: str


@dataclass(frozen=True, slots=True)
class PhotoError:
    """Why one stage could not do its work on a photo's file."""

    stage: str
    """scan, read, decode, ingest, thumbnail, clip, faces, caption, metadata (a warning
    about one field), or a plugin stage's name."""
    reason: str
    at: str
    """When it was recorded."""


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be read or saved, and why (the CLI's errors verb)."""

    path: str
    stage: str
    """As ``PhotoError.stage``."""
    reason: str
    at: str
    """When it was recorded."""


@dataclass(frozen=True, slots=True)
class Photo:
    """All Glimpse knows about one photo (the CLI's info verb). Each metadata field is None when
    the file does not say."""

    id: int
    path: str
    status: PhotoStatus
    taken_at: str | None
    """Wall-clock time as the camera recorded it, with its offset when known."""
    taken_at_source: str | None
    """Where ``taken_at`` came from (an EXIF tag, the file name, its modification time)."""
    gps: Gps | None
    camera: Camera
    lens: str | None
    exposure: Exposure
    width: int | None
    """Pixels, upright."""
    height: int | None
    orientation: int | None
    """The EXIF orientation, 1..8."""
    format: str | None
    """The image format (JPEG, PNG, HEIF, a RAW format ...)."""
    mime: str | None
    size: int
    """Bytes of the file."""
    modified_ns: int
    """The file's modification time, nanoseconds since the epoch."""
    content_hash: str
    """The hash of the file's bytes: a renamed or moved file keeps it."""
    rating: int | None
    """Stars, 0..5."""
    place: Place | None
    """Where it was taken, in words; None when it has no place."""
    caption: Caption | None
    """None when it has none."""
    texts: tuple[TextEntry, ...]
    """What it is about first (caption, description, keywords, tags), then how it was made."""
    errors: tuple[PhotoError, ...]
    """What could not be done with its file, by stage."""
    thumbnail: str | None
    """The cached grid thumbnail, None until one is made."""
    added_at: str
    updated_at: str
    companions: tuple[CompanionFile, ...] = ()
    """The other files of this photo: the RAW of a RAW+JPEG pair shot together (this photo
    is the JPEG shown; kernel/pairs.py says when files pair), by path."""
    companion_of: int | None = None
    """For the RAW of a pair (looked up by its path): the id of the photo it belongs to; it
    is not listed as a photo of its own."""
    gps_source: str | None = None
    """Where ``gps`` came from: 'manual' when the person set it (or cleared it: then ``gps``
    is None), None when from the file. ``taken_at_source`` is 'manual' for a date they set."""
    damaged: bool = False
    """The file is damaged (cut short, or its picture does not decode): what it says about
    itself was kept, and as much of its picture as decodes is shown (the rest grey)."""
    favorite: bool = False
    """The person marked it a favourite."""
    rejected: bool = False
    """The person flagged it rejected (a photo to get rid of)."""
    rating_source: str | None = None
    """'manual' when the person gave ``rating``; None when it is the file's own."""
    rotation: int = 0
    """Quarter turns clockwise the person added on top of ``orientation`` (0..3); ``width``
    and ``height`` are the file's upright size, before this rotation."""


@dataclass(frozen=True, slots=True)
class CompanionFile:
    """A file kept with a photo rather than shown as one: the RAW of a RAW+JPEG pair."""

    id: int
    """Its own row's id (what follows its file when it moves)."""
    path: str
    format: str | None
    """E.g. "DNG", "CR2"."""
    size: int
    """Bytes of the file."""
    status: PhotoStatus
    content_hash: str


@dataclass(frozen=True, slots=True)
class PhotoRow:
    """A photo as a grid tile needs it: the light row of every list of photos (the library
    page by page, search hits, a folder's, a person's or a place's photos)."""

    id: int
    path: str
    filename: str
    content_hash: str
    taken_at: str | None
    """As ``Photo.taken_at``."""
    taken_ts: float | None
    """``taken_at`` as seconds since the epoch (local time read as UTC when the offset is
    unknown): the order of the library, newest first; None for undated photos."""
    width: int | None
    height: int | None
    status: PhotoStatus
    format: str | None
    companions: int = 0
    """How many files are kept with it (1 for the JPEG of a RAW+JPEG pair): see
    ``Photo.companions``."""
    damaged: bool = False
    """As ``Photo.damaged``."""
    favorite: bool = False
    """As ``Photo.favorite``."""
    rating: int | None = None
    """As ``Photo.rating``."""
    rejected: bool = False
    """As ``Photo.rejected``."""
    rotation: int = 0
    """As ``Photo.rotation``."""

    def __post_init__(self) -> None:
        for name in ("damaged", "favorite", "rejected"):   # SQLite gives 0/1
            object.__setattr__(self, name, bool(getattr(self, name)))
        object.__setattr__(self, "rotation", int(self.rotation or 0) % 4)


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder that holds photos (the Folders view)."""

    path: str
    photos: int
    """Photos directly in it whose files are there or on an absent drive."""
    root: str
    """The library folder it is in (or is)."""


@dataclass(frozen=True, slots=True)
class TextHit:
    """A photo whose text matches a full-text search (the CLI's text-search verb)."""

    id: int
    path: str
    taken_at: str | None
    status: PhotoStatus
    rank: float
    """SQLite FTS5's bm25 rank: lower is a better match (it is negative)."""
    snippet: str
    """Where it matched, the matching words in [brackets]."""


@dataclass(frozen=True, slots=True)
class ModelsFolder:
    """The folder of downloaded models (the doctor report)."""

    dir: str
    exists: bool
    installed: tuple[str, ...]
    """Ids of the search models installed there."""


@dataclass(frozen=True, slots=True)
class FacesFacts:
    """Face finding in the doctor report: the faces feature's status, when a library is
    open, with the onnxruntime providers that would run the face models."""

    providers: tuple[str, ...]
    """onnxruntime providers present, in the order they are tried."""
    providers_why: str
    status: PeopleStatus | None = None
    """Faces and people, with a library open; None without."""
    recogniser: str = ""
    """The runtime that embeds faces ("openvino" or "onnxruntime"; the detector always runs
    on onnxruntime)."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape: the status's fields, then the providers, in one object."""
        return {**_fields_of(self.status), "providers": list(self.providers),
                "providers_why": self.providers_why, "recogniser": self.recogniser}


@dataclass(frozen=True, slots=True)
class SearchFacts:
    """Search in the doctor report: the search feature's status, how the model runs."""

    status: SearchStatus
    runtime: RuntimeChoice | None = None
    """How the image model runs here: the runtime, device and precision measured fastest
    within cosine 0.99 of fp32 on the person's photos, with each candidate's figures (or the
    one ``GLIMPSE_RUNTIME`` forces); None before the first measurement or without a model."""
    runtime_why: str | None = None
    """Why it runs so, in a sentence (or that it is not measured yet, and when it will be);
    None when no model is installed."""
    text_encoder: str | None = None
    """What encodes the words of a query (ONNX, or torch until its ONNX export is made);
    None when no model is installed."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape: the status's fields with the runtime and text encoder beside
        them (``runtime`` null until measured)."""
        out = _fields_of(self.status)
        if self.runtime_why is not None:
            out["runtime"] = self.runtime
            out["runtime_why"] = self.runtime_why
        if self.text_encoder is not None:
            out["text_encoder"] = self.text_encoder
        return out


@dataclass(frozen=True, slots=True)
class Doctor:
    """Versions, paths and devices: what a bug report needs (the CLI's doctor verb)."""

    glimpse: str
    python: str
    platform: str
    driver: str
    """The SQLite driver and its version."""
    sqlite: str
    sqlite_vec: str
    fts5: str
    """``yes``, or ``no (why)``."""
    pillow: str
    pillow_heif: str
    libheif: str
    library: str
    """The library file, with `` (not created yet)`` when there is none."""
    library_schema: int | None
    """The library's schema version, None without a library."""
    library_error: str | None
    """Why the library could not be opened, None when it could (or there is none)."""
    cache: str
    models: ModelsFolder
    devices: Any
    """The compute devices (``kernel.devices.describe()``)."""
    faces: FacesFacts
    system_libraries: SystemLibraries
    """What the window needs from the operating system (Linux: Qt's X11 libraries)."""
    search: SearchFacts | None = field(default=None)
    """With a library open; None (and left out of the JSON) without one."""
    image_runtimes: tuple[ModelRuntime, ...] = field(default=())
    """For each installed search model, how its image tower runs here (the runtime, device
    and precision measured on the person's photos, and why), with or without a library."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape: every field, ``search`` only when there is one."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.search is None:
            del out["search"]
        return out


def json_default(value: Any) -> Any:
    """``json.dump``'s ``default`` for records: a record as its ``as_dict()`` or its fields
    (nested records come back here), a notice as its words, anything else as its text."""
    if isinstance(value, Notice):
        return value.text
    if is_dataclass(value) and not isinstance(value, type):
        return _fields_of(value)
    return str(value)


def _fields_of(value: Any) -> dict[str, Any]:
    """A feature's status (a record or, until it has one, a mapping) as a dict to merge."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return dict(as_dict())
    return {f.name: getattr(value, f.name) for f in fields(value)}
