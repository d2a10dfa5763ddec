"""What the trash service reports: typed, frozen records; problems as codes with values, which
each front end phrases (``trash.read_only``, ``trash.offline``…)."""

from __future__ import annotations

from dataclasses import dataclass

from glimpse_desktop.kernel.db import LibraryError

__all__ = ["KEEP_DAYS", "DeletedPhoto", "KeepReport", "MovedToKept", "PhotoHoldings",
           "PurgeReport",
           "RestoreReport", "TidyReport", "TrashError", "TrashProblem", "TrashReport",
           "TrashedFile"]

# How long "Recently deleted" keeps a photo (Apple Photos' and Google Photos' 30 days).
KEEP_DAYS = 30


class TrashError(LibraryError):
    """A request the trash cannot take at all (``trash.unknown_photo``, ``trash.no_photos``,
    ``trash.same_photo``); a photo refused among others is a ``TrashProblem`` instead."""


@dataclass(frozen=True, slots=True)
class TrashProblem:
    """A photo left as it was, and why. ``code``: ``trash.read_only`` (its folder or drive
    cannot be written), ``trash.offline`` (its drive is not connected), ``trash.not_found``
    (its file is not there), ``trash.no_trash`` (its drive has no trash Glimpse may use),
    ``trash.already`` (already in Recently deleted), ``trash.not_trashed`` (not in Recently
    deleted), ``trash.taken`` (another file is where it would go back), ``trash.not_in_trash``
    (the system trash no longer holds it: emptied, or put back elsewhere), ``trash.failed``
    (any other refusal; ``why`` has the system's words), ``trash.unknown_photo``."""

    id: int | None
    path: str
    code: str
    why: str


@dataclass(frozen=True, slots=True)
class TrashedFile:
    """One file that went with a photo: ``kind`` 'photo', 'companion' (a RAW of a RAW+JPEG
    pair) or 'sidecar' (an XMP sidecar); ``location``: where it is in the system trash, when
    known."""

    path: str
    kind: str
    location: str | None


@dataclass(frozen=True, slots=True)
class DeletedPhoto:
    """A photo in Recently deleted."""

    id: int
    path: str
    """Where it was (where a restore puts it back)."""
    filename: str
    content_hash: str
    taken_at: str | None
    width: int | None
    height: int | None
    format: str | None
    size: int
    trashed_at: str
    """When it went (ISO 8601, UTC)."""
    days_left: int
    """Whole days before it leaves Recently deleted (0: it goes today)."""
    files: tuple[TrashedFile, ...]
    kept_id: int | None
    """The copy kept instead, when a duplicate review trashed it."""
    moved: MovedToKept | None = None
    """What it gave the copy kept (and the names that found no face there), then."""


@dataclass(frozen=True, slots=True)
class TrashReport:
    """What a move to the trash did: the photos that went (with their files), in the order
    given, and those left as they were. ``photo_ids``: what to pass to ``photos_changed``."""

    trashed: tuple[DeletedPhoto, ...]
    problems: tuple[TrashProblem, ...]
    cancelled: bool = False

    @property
    def photo_ids(self) -> tuple[int, ...]:
        return tuple(p.id for p in self.trashed)


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """What a restore did: photos back at their places (``photo_ids``), those that stayed in
    the trash, and files of a restored photo the trash no longer held (``lost``: a sidecar or
    RAW the system trash had emptied; the photo came back without it)."""

    restored: tuple[int, ...]
    paths: tuple[str, ...]
    problems: tuple[TrashProblem, ...]
    lost: tuple[str, ...] = ()
    cancelled: bool = False

    @property
    def photo_ids(self) -> tuple[int, ...]:
        return self.restored


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What a permanent deletion did: photos whose files were deleted for good and rows
    forgotten, and those left in Recently deleted."""

    deleted: tuple[int, ...]
    files: int
    problems: tuple[TrashProblem, ...]
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class TidyReport:
    """The check run when a library opens: photos past their 30 days forgotten (their files
    left to the system trash's own rules), and photos the person put back by the system's
    own means (Finder's "Put Back", a file manager's "Restore") taken back."""

    expired: tuple[int, ...]
    returned: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MovedToKept:
    """What one trashed copy gave the copy kept: ``albums`` it was added to, ``people``
    named on the kept copy's matching faces, ``people_not_placed`` (named on the trashed copy
    where the kept copy has no matching face: kept in the trash record), ``caption`` (the
    person's own), ``rating``, ``favorite``, ``tags`` the person gave."""

    from_id: int
    albums: tuple[str, ...]
    people: tuple[str, ...]
    people_not_placed: tuple[str, ...]
    caption: bool
    rating: int | None
    favorite: bool
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KeepReport:
    """A duplicate group resolved: the copy kept, what moved to it from each other copy, and
    the trash report of the others."""

    kept_id: int
    moved: tuple[MovedToKept, ...]
    trash: TrashReport

    @property
    def photo_ids(self) -> tuple[int, ...]:
        return (self.kept_id, *self.trash.photo_ids)


@dataclass(frozen=True, slots=True)
class PhotoHoldings:
    """What the library holds for a photo beyond its file (what a duplicate review weighs,
    and what moves to the copy kept): people named on its faces, the person's albums it is
    in, its caption (and who wrote it: 'user', 'model' or 'xmp'), stars, favourite, tags the
    person gave."""

    id: int
    people: tuple[str, ...]
    albums: tuple[str, ...]
    caption: str | None
    caption_source: str | None
    rating: int | None
    favorite: bool
    tags: tuple[str, ...]
