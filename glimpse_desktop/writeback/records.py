"""The write-back feature's public records: what Glimpse writes of a photo, what a run would
do and did, and what reading the files back found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CaptionPayload", "FileProblem", "Payload", "PlanItem", "RegionPayload",
           "SidecarsRead", "WriteBackReport"]


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A file that could not be written or read: ``path`` (absolute) and ``reason``, in
    words (the system's, or the XMP reader's)."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class RegionPayload:
    """A named face, as written to XMP: ``name`` (the person's) and its box as fractions of
    the upright photo (``x``, ``y`` its top left corner, ``w``, ``h`` its size; rounded to
    five places)."""

    name: str
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class CaptionPayload:
    """A photo's caption, as written to XMP: ``summary`` (its text), ``model`` (the model
    that wrote it; None when none did), ``data`` (the model's structured fields as JSON text,
    None for plain text) and ``source`` ('model', 'user' or 'xmp')."""

    summary: str
    model: str | None
    data: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Payload:
    """What Glimpse knows of a photo that travels with it (written to its sidecar or JPEG).

    ``description``: its caption, else a description it already has; None when neither.
    ``description_from``: where that came from ('caption', a text source such as
    'xmp-sidecar'), None without one. ``keywords``: its tags, then its people's names.
    ``hierarchical``: the same with names as 'People|Name'. ``rating``: 0-5 stars, None when
    unrated. ``regions``: its named faces. ``caption``: the full caption, None without one.
    ``orientation``: the EXIF orientation (1-8) the regions are turned by. ``stored_size``:
    (width, height) of the pixels as stored, None when unknown. ``taken_at``: the date
    taken when the person set it (ISO 8601, the UTC offset when known), else None.
    ``gps``: the place when the person set it (latitude, longitude in degrees, altitude in
    metres or None), else None. ``clear_gps``: the person cleared the place.
    ``favorite``, ``rejected``: the person's judgement (a reject is written as xmp:Rating -1,
    Lightroom's convention, and both as digiKam's pick label). ``rotation``: quarter turns
    clockwise the person added (written as the orientation, composed with ``orientation``).
    """

    description: str | None
    description_from: str | None
    keywords: tuple[str, ...]
    hierarchical: tuple[str, ...]
    rating: int | None
    regions: tuple[RegionPayload, ...]
    caption: CaptionPayload | None
    orientation: int
    stored_size: tuple[int, int] | None
    taken_at: str | None = None
    gps: tuple[float, float, float | None] | None = None
    clear_gps: bool = False
    favorite: bool = False
    rejected: bool = False
    rotation: int = 0

    def empty(self) -> bool:
        """Nothing here to write (orientation and size alone say nothing)."""
        return not (self.description or self.keywords or self.regions or self.caption
                    or self.rating or self.taken_at or self.gps or self.clear_gps
                    or self.favorite or self.rejected or self.rotation)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values. The digest of what was written is taken of this, so its keys
        and values stay as they have always been: a change would rewrite every file."""
        caption = self.caption
        return {
            "description": self.description,
            "description_from": self.description_from,
            "keywords": list(self.keywords),
            "hierarchical": list(self.hierarchical),
            "rating": self.rating,
            "regions": [{"name": r.name, "x": r.x, "y": r.y, "w": r.w, "h": r.h}
                        for r in self.regions],
            "caption": (None if caption is None else
                        {"summary": caption.summary, "model": caption.model,
                         "data": caption.data, "source": caption.source}),
            "orientation": self.orientation,
            "stored_size": self.stored_size,
            # (only when set: a library's older digests stay as they were)
            **({"taken_at": self.taken_at} if self.taken_at else {}),
            **({"gps": list(self.gps)} if self.gps else {}),
            **({"clear_gps": True} if self.clear_gps else {}),
            **({"favorite": True} if self.favorite else {}),
            **({"rejected": True} if self.rejected else {}),
            **({"rotation": self.rotation} if self.rotation else {}),
        }


@dataclass(frozen=True, slots=True)
class PlanItem:
    """What a write-back run would do to one file of one photo.

    ``photo_id``, ``path``: the photo. ``target``: 'sidecar' or 'embed' (into the JPEG).
    ``target_path``: the file written. ``action``: 'create', 'update', 'unchanged' or 'skip'.
    ``reason``: why, in words ('' when creating or updating says it all).
    """

    photo_id: int
    path: str
    target: str
    target_path: str
    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class WriteBackReport:
    """What a write-back run did (or, with ``dry_run``, would do).

    ``written``: files written (or that would be). ``unchanged``: files already up to date.
    ``skipped``: photos with nothing to write, or whose format cannot be written into.
    ``failed``: files that could not be written, each in ``errors``. ``targets``: the files
    written (or planned), in order. ``cancelled``: the run was stopped before the end.
    """

    written: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    errors: tuple[FileProblem, ...] = ()
    targets: tuple[str, ...] = ()
    dry_run: bool = False
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class SidecarsRead:
    """What reading the files back did (the ``sidecars-read`` follow-up's report).

    ``read``: sidecars read because they were new or changed. ``embedded``: JPEGs whose own
    XMP named faces. ``cleared``: photos whose values were taken out because their sidecar
    went. ``photos``: photos touched. ``named``: faces named from the files' named regions
    (by the follow-up, after reading). ``errors``: files that could not be read or kept (also
    kept as metadata warnings of their photos). ``cancelled``: stopped before the end.
    """

    read: int = 0
    embedded: int = 0
    cleared: int = 0
    photos: int = 0
    named: int = 0
    errors: tuple[FileProblem, ...] = ()
    cancelled: bool = False
