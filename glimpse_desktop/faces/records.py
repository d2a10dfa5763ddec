"""The records the faces feature returns: people, their faces and photos, what each of the
person's actions changed, and the reports of clustering and of the ``people`` follow-up.

Every record is frozen; sequences are tuples. Face boxes are fractions of the upright image
(``x, y, w, h`` from the top left), so they hold at any display size. The CLI's people verbs print
these records field by field as JSON (``SplitResult`` keeps the key ``from``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from glimpse_desktop.faces.clustering import Params
from glimpse_desktop.kernel.messages import Notice

# How a face came to be in its person: placed by the person ("user"), by clustering ("auto"),
# or in no person (None).
Assigned = Literal["user", "auto"] | None
# What naming one face did (``People.name_face``).
NameFaceAction = Literal["same", "assigned", "named", "created"]


@dataclass(frozen=True, slots=True)
class Face:
    """One face found in a photo, with its person if it has one."""

    face: int
    """The face's id (``face:ID`` on the command line)."""
    photo: int
    """The id of the photo it is in."""
    path: str | None
    """The photo's path, or None if the photo is gone from the library."""
    box: tuple[float, float, float, float]
    """``(x, y, w, h)`` in fractions of the upright image, rounded to 4 places."""
    score: float
    """The detector's confidence, 0..1, rounded to 3 places."""
    size_px: int
    """The face's size in pixels of the original image (the longer side of its box)."""
    seeds: bool
    """Good enough (large, sharp, frontal) to found a person on its own."""
    person: int | None
    """The id of its person, or None while it waits for one."""
    assigned: Assigned
    """How it came to be in that person: ``user`` (placed by hand), ``auto``, or None."""
    crop: str | None
    """The cached crop of the face (a file), or None when none is cached yet."""
    ignored: bool = False
    """The person ignored it (a stranger): in no person, never grouped, not waiting."""


@dataclass(frozen=True, slots=True)
class PhotoFace(Face):
    """A face in one photo as the viewer draws it: a ``Face`` with its person's name."""

    name: str | None = None
    """The person's name, or None for an unnamed person or no person."""


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person as stored: what ``People.person_ref`` resolves an id or a name to."""

    id: int
    name: str | None
    """None until the person is named."""
    hidden: bool
    """Kept out of the People list by the person."""
    cover_face: int | None
    """The face chosen as the person's cover, or None for the best one."""


@dataclass(frozen=True, slots=True)
class Person:
    """One row of the People list."""

    id: int | None
    """The person's id; None only on the row of faces waiting for a person
    (``list_people(include_waiting=True)``)."""
    name: str | None
    """None until the person is named."""
    hidden: bool
    faces: int
    """How many faces the person has."""
    photos: int
    """How many photos those faces are in."""
    cover: Face | None
    """The face that shows the person (the chosen one, else the best), or None."""


@dataclass(frozen=True, slots=True)
class PersonPhoto:
    """A photo a person is in."""

    id: int
    path: str
    taken_at: str | None
    """When it was taken (ISO 8601 as read from the file), or None if unknown."""
    status: str
    """``ok``, ``missing`` or ``offline``."""


@dataclass(frozen=True, slots=True)
class PersonDetail:
    """A person with their faces and photos, newest first (``People.show``)."""

    id: int
    name: str | None
    hidden: bool
    cover: Face | None
    faces: tuple[Face, ...]
    photos: tuple[PersonPhoto, ...]


@dataclass(frozen=True, slots=True)
class PeopleStatus:
    """Faces and people in a library, and whether faces can be found now."""

    enabled: bool
    """Face finding is on for this library (setting ``faces.enabled``)."""
    pack: str
    """The id of the face pack in use."""
    installed: bool
    """The pack's models are installed."""
    problem: Notice | None
    """Why faces cannot be found now, or None."""
    faces: int
    """Faces found, in every person or none."""
    people: int
    """People not hidden."""
    named: int
    """People with a name."""
    waiting: int
    """Faces in no person yet."""
    backlog: int
    """Photos the pack in use has not looked at yet."""
    thresholds: Params
    """The clustering thresholds in use for this pack."""


@dataclass(frozen=True, slots=True)
class Renamed:
    """``People.name``: a person named or renamed."""

    id: int
    name: str
    was: str | None
    """The name before, or None if the person had none."""


@dataclass(frozen=True, slots=True)
class Merged:
    """``People.merge``: people joined into one."""

    id: int
    """The person they were joined into."""
    merged: tuple[int, ...]
    """The ids of the people that went into it (they no longer exist)."""
    faces: int
    """The faces the merged person has."""
    detached: int
    """Faces taken out because another face of the person was in the same photo."""


@dataclass(frozen=True, slots=True)
class SplitResult:
    """``People.split``: faces moved out of a person into a new one."""

    source: int
    """The person the faces left (``from`` in JSON)."""
    id: int
    """The new person."""
    faces: tuple[int, ...]
    """The faces moved."""

    def as_dict(self) -> dict[str, int | list[int]]:
        """The JSON shape: ``source`` is ``from`` there."""
        return {"from": self.source, "id": self.id, "faces": list(self.faces)}


@dataclass(frozen=True, slots=True)
class Rejection:
    """One "not this person": the face is never this person again."""

    face: int
    person: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """``People.reject``: the faces taken out of their person for good."""

    rejected: tuple[Rejection, ...]


@dataclass(frozen=True, slots=True)
class FaceAssigned:
    """``People.assign_face``: a face put in a person by hand."""

    face: int
    person: int


@dataclass(frozen=True, slots=True)
class FaceNamed:
    """``People.name_face``: what naming one face did."""

    face: int
    person: int
    """The person the face is in now."""
    name: str
    """That person's name."""
    action: NameFaceAction
    """``same``: it was that person's already; ``assigned``: it joined the person who has
    the name; ``named``: its person took the name; ``created``: a new person holds it."""


@dataclass(frozen=True, slots=True)
class PersonDeleted:
    """``People.delete``: a person forgotten (their faces wait to be grouped again)."""

    id: int
    name: str | None
    faces: int
    """The photos the person was in."""


@dataclass(frozen=True, slots=True)
class PersonHidden:
    """``People.hide``: a person hidden from, or shown again in, the People list."""

    id: int
    hidden: bool


@dataclass(frozen=True, slots=True)
class CoverSet:
    """``People.cover``: the face that shows a person."""

    id: int
    cover: int
    """The face id."""


@dataclass(frozen=True, slots=True)
class Tagged:
    """``People.tag``: a person tagged in every photo from reference photos of them."""

    id: int
    name: str
    references: int
    """Reference faces used."""
    reference_faces: tuple[int, ...]
    """Their ids."""
    tagged: int
    """Photos newly tagged."""
    already: int
    """Photos the person was tagged in before."""
    photos: int
    """Photos the person is tagged in now."""


@dataclass(frozen=True, slots=True)
class ClusterReport:
    """What a clustering pass did."""

    faces: int = 0
    """Faces it looked at."""
    joined: int = 0
    """Waiting faces that joined a person."""
    founded: int = 0
    """People it founded."""
    waiting: int = 0
    """Faces still waiting for a person."""
    moved: int = 0
    """Faces whose person changed (written)."""
    removed: int = 0
    """Unnamed people left without faces, deleted."""


@dataclass(frozen=True, slots=True)
class PeopleUpdate:
    """The ``people`` follow-up's report after photos changed."""

    faces: int = 0
    """Faces the changed photos have."""
    cluster: ClusterReport = field(default_factory=ClusterReport)
    """The clustering pass (``cluster.founded``: people founded by it)."""


# ---------------------------------------------------------------------------- waiting faces

# Why a face could not be put in a person (``FacesNamed.skipped``): ``same_photo``: the
# person already has another face in that photo (or another of the faces given is that
# photo's, and was taken first); ``unknown``: no such face (gone since it was shown).
SkipReason = Literal["same_photo", "unknown"]


@dataclass(frozen=True, slots=True)
class WaitingGroup:
    """Faces that wait for a person and look alike (``People.waiting_faces``)."""

    faces: tuple[Face, ...]
    """Best first (large, sharp, frontal, confident)."""
    photos: int
    """How many photos they are in (one face each: two faces of a photo are never grouped)."""


@dataclass(frozen=True, slots=True)
class WaitingFaces:
    """The faces in no person, grouped by likeness, largest groups first."""

    groups: tuple[WaitingGroup, ...]
    """The groups asked for (``offset``/``limit``); groups of one face included."""
    total_groups: int
    """Groups in all."""
    faces: int
    """Faces waiting in all (ignored faces are not counted)."""
    ignored: int
    """Faces the person ignored."""


@dataclass(frozen=True, slots=True)
class FaceSkipped:
    """A face that could not be put in the person, and why."""

    face: int
    reason: SkipReason
    other: int | None = None
    """For ``same_photo``: the face of that photo the person has (or was given first)."""


@dataclass(frozen=True, slots=True)
class FacesNamed:
    """``People.name_faces`` / ``People.add_faces``: faces put in a person by hand."""

    person: int
    name: str | None
    created: bool
    """A new person was made under the name."""
    added: tuple[int, ...]
    """The faces now the person's (placed by the person: clustering keeps them there)."""
    already: tuple[int, ...]
    """Faces that were the person's already."""
    skipped: tuple[FaceSkipped, ...]
    """Faces that could not be added, and why."""


@dataclass(frozen=True, slots=True)
class FacesIgnored:
    """``People.ignore_faces``: faces ignored (or, with ``undo``, waiting again)."""

    faces: tuple[int, ...]
    """The faces whose state changed."""
    undo: bool
    left: tuple[int, ...] = ()
    """Faces that were in a person and left it when ignored."""


@dataclass(frozen=True, slots=True)
class FacesApart:
    """``People.keep_apart``: faces said not to be the same person as others."""

    faces: tuple[int, ...]
    others: tuple[int, ...]
    pairs: int
    """Pairs remembered (never grouped together again)."""
