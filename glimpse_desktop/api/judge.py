"""Keeping and judging photos (``Library.judge``): a favourite, stars (0-5), a reject flag,
and a rotation added on top of the file's own orientation.

Every change is one writer transaction over all the photos given, and returns a ``JudgeEdit``
saying what each photo was before and after (a photo already so is listed as unchanged).
A RAW kept as the companion of its JPEG (kernel/pairs.py) follows the photo it belongs to:
judged together, so that the RAW still carries the judgement if the pair is ever broken, and
its sidecar says the same as the JPEG's. The caller then reports the change with
``Library.photos_changed(ids, "judged")`` (or ``"rotated"``) so that write-back follows.

Where things are kept: favourite and reject are bits of ``photos.flags`` (never read from a
file, so reading the file again keeps them); stars are ``photos.rating`` with
``rating_source`` 'manual' once the person gives them (a rating the file carries, another
app's xmp:Rating, is shown and can be changed; 0 stars given by the person is kept as 0 so a
re-read does not bring the file's back). A file rated -1 (Lightroom's and Bridge's "rejected")
reads as rejected. ``rotation`` is quarter turns clockwise (0-3) on top of the EXIF
orientation; originals are never touched here (write-back writes it as the file's
orientation when it is on).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image

from glimpse_desktop.kernel import orientation as orientation_math
from glimpse_desktop.kernel import photos
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer
from glimpse_desktop.kernel.decode import Decoded

__all__ = ["MAX_STARS", "TURNS", "JudgeEdit", "JudgeError", "Judged", "Judgement", "Judges",
           "as_read", "compose_orientation", "turn_image", "turns_of"]

MAX_STARS = 5
# What a person asks for, as quarter turns clockwise.
TURNS = {"right": 1, "cw": 1, "clockwise": 1, "left": 3, "ccw": 3, "anticlockwise": 3,
         "counterclockwise": 3, "180": 2, "half": 2}
_COLUMNS = "id, path, flags, rating, rating_source, rotation, companion_of"

Action = Literal["favorite", "rating", "reject", "rotate"]


class JudgeError(LibraryError):
    """Photos or a value that cannot be judged; ``code`` says which: ``judge.unknown_photo``
    (values ``photo``), ``judge.no_photos``, ``judge.bad_rating`` (``value``),
    ``judge.bad_turn`` (``value``, ``turns``)."""


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the person thinks of a photo: favourite, rejected, stars (None: unrated; the
    file's own when ``rating_source`` is None, the person's when 'manual'), and the quarter
    turns clockwise they added (0-3)."""

    favorite: bool
    rejected: bool
    rating: int | None
    rating_source: str | None
    rotation: int

    @property
    def stars(self) -> int:
        """0-5: a file rated -1 (rejected, Lightroom's convention) has none."""
        return max(0, min(MAX_STARS, int(self.rating or 0)))


@dataclass(frozen=True, slots=True)
class Judged:
    """One photo a judgement changed: ``before`` and ``after``. ``companion_of``: the photo
    this RAW is kept with (it followed that photo's judgement), None for a photo itself."""

    id: int
    path: str
    before: Judgement
    after: Judgement
    companion_of: int | None = None


@dataclass(frozen=True, slots=True)
class JudgeEdit:
    """What one judgement did: ``action`` with ``value`` (on/off, the stars, the quarter
    turns added), the photos changed (the ones given first, in order, then their RAW
    companions), and the ids of the ones given that were already so."""

    action: Action
    value: int
    photos: tuple[Judged, ...]
    unchanged: tuple[int, ...] = ()

    @property
    def photo_ids(self) -> list[int]:
        """Every photo changed, companions too: what ``photos_changed`` is told."""
        return [p.id for p in self.photos]

    @property
    def why(self) -> str:
        """The change chain's reason (kernel/changes.py WHY)."""
        return "rotated" if self.action == "rotate" else "judged"


def turns_of(value: str | int) -> int:
    """Quarter turns clockwise for 'left', 'right', '180' (or a number of quarter turns);
    JudgeError (``judge.bad_turn``) for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value % 4
    turns = TURNS.get(str(value).strip().lower())
    if turns is None:
        raise JudgeError(f"cannot rotate {value!r}: say left, right or 180",
                         code="judge.bad_turn",
                         values={"value": str(value), "turns": ["left", "right", "180"]})
    return turns


def compose_orientation(orientation: int | None, rotation: int) -> int:
    """The EXIF orientation that shows the stored pixels as the file's ``orientation`` does,
    turned ``rotation`` quarter turns clockwise more (what write-back writes)."""
    return orientation_math.compose(orientation, rotation)


_TRANSPOSE = {1: Image.Transpose.ROTATE_270, 2: Image.Transpose.ROTATE_180,
              3: Image.Transpose.ROTATE_90}


def turn_image(image: Image.Image, rotation: int | None) -> Image.Image:
    """``image`` (upright as its file says) turned ``rotation`` quarter turns clockwise."""
    method = _TRANSPOSE.get(int(rotation or 0) % 4)
    return image if method is None else image.transpose(method)


def as_read(decoded: Decoded, row: Mapping[str, Any]) -> Image.Image:
    """A photo's pixels decoded from its file (upright as the file says now) upright as the
    library read the file (``row["orientation"]``): write-back may since have written the
    person's turns into the file's orientation, and they are turned by ``row["rotation"]``
    where the photo is shown, never twice. Thumbnails are kept so."""
    back = orientation_math.turns_between(decoded.meta.orientation, row.get("orientation"))
    return turn_image(decoded.image, back)


def _judgement(row: dict[str, Any]) -> Judgement:
    flags = int(row["flags"] or 0)
    rating = None if row["rating"] is None else int(row["rating"])
    return Judgement(favorite=bool(flags & photos.FLAG_FAVORITE),
                     rejected=bool(flags & photos.FLAG_REJECTED) or (rating or 0) < 0,
                     rating=rating, rating_source=row["rating_source"],
                     rotation=int(row["rotation"] or 0) % 4)


def _new_state(before: Judgement, action: Action, value: int) -> Judgement:
    if action == "favorite":
        return Judgement(bool(value), before.rejected, before.rating, before.rating_source,
                         before.rotation)
    if action == "rating":
        # Stars do not take a reject back (a file's -1 becomes the flag, kept).
        return Judgement(before.favorite, before.rejected, value, "manual", before.rotation)
    if action == "reject":
        rating, source = before.rating, before.rating_source
        if not value and (rating or 0) < 0:
            # The file's -1 was its reject: taken back, the photo has no stars, kept so.
            rating, source = 0, "manual"
        return Judgement(before.favorite, bool(value), rating, source, before.rotation)
    return Judgement(before.favorite, before.rejected, before.rating, before.rating_source,
                     (before.rotation + value) % 4)


def _flags(flags: int, state: Judgement) -> int:
    flags &= ~(photos.FLAG_FAVORITE | photos.FLAG_REJECTED)
    if state.favorite:
        flags |= photos.FLAG_FAVORITE
    if state.rejected:
        flags |= photos.FLAG_REJECTED
    return flags


class Judges:
    """Favourites, stars, rejects and rotation of photos (``Library.judge``)."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer) -> None:
        self.reader = reader
        self.writer = writer

    def resolve(self, refs: Sequence[int | str]) -> list[int]:
        """The ids of these photos (ids, or paths), each once, in the order given; JudgeError
        (``judge.unknown_photo``) naming the first that is not in the library,
        ``judge.no_photos`` when none is given."""
        if not refs:
            raise JudgeError("no photos given", code="judge.no_photos")
        conn = self.reader()
        ids: list[int] = []
        for ref in refs:
            row = photos.get_photo(conn, ref if isinstance(ref, int) else str(ref))
            if row is None or isinstance(ref, bool):
                raise JudgeError(f"no photo {ref} in this library", code="judge.unknown_photo",
                                 values={"photo": str(ref)})
            ids.append(int(row["id"]))
        return list(dict.fromkeys(ids))

    def judgement(self, ref: int | str) -> Judgement:
        """What the person thinks of one photo now."""
        photo_id = self.resolve([ref])[0]
        row = self.reader().row(f"SELECT {_COLUMNS} FROM photos WHERE id = ?", (photo_id,))
        assert row is not None
        return _judgement(row)

    def favorite(self, refs: Sequence[int | str], on: bool = True) -> JudgeEdit:
        """Make these photos favourites (``on``), or no longer."""
        return self._apply(refs, "favorite", int(bool(on)))

    def rate(self, refs: Sequence[int | str], stars: int) -> JudgeEdit:
        """Give these photos ``stars`` (0-5; 0: no stars), as the person's own rating (kept
        when the files are read again). JudgeError (``judge.bad_rating``) outside 0-5."""
        try:
            value = int(stars)
        except (TypeError, ValueError):
            value = -1
        if isinstance(stars, bool) or value != stars or not 0 <= value <= MAX_STARS:
            raise JudgeError(f"a rating is 0 to {MAX_STARS} stars, not {stars!r}",
                             code="judge.bad_rating", values={"value": str(stars)})
        return self._apply(refs, "rating", value)

    def reject(self, refs: Sequence[int | str], on: bool = True) -> JudgeEdit:
        """Flag these photos rejected (``on``), or take the flag back."""
        return self._apply(refs, "reject", int(bool(on)))

    def rotate(self, refs: Sequence[int | str], turn: str | int) -> JudgeEdit:
        """Turn these photos: 'left', 'right', '180' (or quarter turns clockwise). Shown so
        everywhere; the files are left as they are (write-back writes the orientation)."""
        turns = turns_of(turn)
        return self._apply(refs, "rotate", turns)

    def toggle_favorite(self, refs: Sequence[int | str]) -> JudgeEdit:
        """Favourite on for all when any is not one, else off for all (as a heart button
        over a selection does)."""
        ids = self.resolve(refs)
        states = self._states(self.reader(), ids)
        return self.favorite(ids, not all(s.favorite for s in states.values()))

    def toggle_reject(self, refs: Sequence[int | str]) -> JudgeEdit:
        """Rejected for all when any is not, else the flag taken back from all."""
        ids = self.resolve(refs)
        states = self._states(self.reader(), ids)
        return self.reject(ids, not all(s.rejected for s in states.values()))

    @staticmethod
    def _states(conn: Connection, ids: Sequence[int]) -> dict[int, Judgement]:
        return {int(r[0]): _judgement(dict(zip(("id", "path", "flags", "rating",
                                                  "rating_source", "rotation",
                                                  "companion_of"), r, strict=True)))
                for r in photos.rows_of(conn, ids, _COLUMNS)}

    def _apply(self, refs: Sequence[int | str], action: Action, value: int) -> JudgeEdit:
        ids = self.resolve(refs)

        def write(conn: Connection) -> JudgeEdit:
            # Read inside the writer's transaction: two judgements at once both count.
            given = [dict(zip(_COLUMNS.split(", "), r, strict=True))
                     for r in photos.rows_of(conn, ids, _COLUMNS)]
            found = {int(r["id"]) for r in given}
            missing = [i for i in ids if i not in found]
            if missing:   # deleted since it was resolved
                raise JudgeError(f"no photo {missing[0]} in this library",
                                 code="judge.unknown_photo", values={"photo": str(missing[0])})
            companions: list[dict[str, Any]] = []
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                companions += conn.rows(
                    f"SELECT {_COLUMNS} FROM photos WHERE companion_of IN "
                    f"({','.join('?' * len(chunk))}) ORDER BY companion_of, path", chunk)
            changed: list[Judged] = []
            unchanged: list[int] = []
            for row in [*given, *(c for c in companions if int(c["id"]) not in found)]:
                before = _judgement(row)
                after = _new_state(before, action, value)
                if after == before:
                    if row["companion_of"] is None or int(row["id"]) in found:
                        unchanged.append(int(row["id"]))
                    continue
                conn.execute(
                    "UPDATE photos SET flags = ?, rating = ?, rating_source = ?, rotation = ? "
                    "WHERE id = ?", (_flags(int(row["flags"] or 0), after), after.rating,
                                     after.rating_source, after.rotation, int(row["id"])))
                changed.append(Judged(id=int(row["id"]), path=str(row["path"]), before=before,
                                      after=after, companion_of=row["companion_of"]))
            return JudgeEdit(action=action, value=value, photos=tuple(changed),
                             unchanged=tuple(unchanged))

        return self.writer.call(write)
