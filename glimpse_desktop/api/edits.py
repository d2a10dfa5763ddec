"""Dates and places a person sets (``Library.edits``): set or shift the date and time of a
selection, take it from the file again, set its place (coordinates, another photo's, none).

What a person sets is kept in the library as theirs (``taken_at_source`` and ``gps_source``
'manual'): reading the file again keeps it. The caller then reports the change with
``Library.photos_changed(ids, "taken")``, so that places, events and trips follow and, with
write-back on, the files are written.

The words for durations and dates live here too (``parse_shift``, ``parse_when``), so every
front end reads "+1h03m" or "2019-07-14 15:30" alike; a value that cannot be read is an
``EditError`` whose message says what would be read.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

from glimpse_desktop.api.records import Gps
from glimpse_desktop.kernel import photos
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer, now_iso
from glimpse_desktop.kernel.decode import DecodeError, SizeRequest, decode
from glimpse_desktop.kernel.meta import PhotoMeta, PhotoSource, date_from_mtime, format_taken
from glimpse_desktop.kernel.pipeline import read_original
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback, ProgressMeter

__all__ = ["MANUAL", "DateChanged", "DateEdit", "EditError", "EditProblem", "Edits",
           "PlaceChanged", "PlaceEdit", "date_source_text", "parse_shift", "parse_when",
           "shifted"]

MANUAL = photos.MANUAL
# Photos written per transaction: a cancel stops between batches, and what was written stays.
BATCH = 500
# A file's date is read at this size at most: enough for its metadata, no more pixels.
_READ_SIZE = SizeRequest(long_edge=16, short_edge=16)


class EditError(LibraryError):
    """A date, duration, place or photo that cannot be used; ``code`` says which
    (``edits.bad_duration``, ``edits.bad_date``, ``edits.bad_place``, ``edits.unknown_photo``,
    ``edits.no_photos``, ``edits.no_place``)."""


# ---------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class EditProblem:
    """A photo an edit left as it was, and why (``code``: ``edits.no_date`` for a shift of a
    photo without a date, ``edits.out_of_range`` for one shifted past year 9999,
    ``edits.unreadable`` for a file whose date could not be read again)."""

    id: int
    path: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class DateChanged:
    """One photo's date before and after an edit, as ``Photo.taken_at``."""

    id: int
    path: str
    before: str | None
    after: str | None
    source: str | None
    """Where ``after`` came from: 'manual' (set by the person), or the file's field."""


@dataclass(frozen=True, slots=True)
class DateEdit:
    """What a date edit did: each photo changed, in the order given, and those left alone."""

    action: Literal["set", "shift", "from-file"]
    photos: tuple[DateChanged, ...]
    problems: tuple[EditProblem, ...] = ()
    cancelled: bool = False
    """A cancel stopped it between batches: ``photos`` are those written."""

    @property
    def photo_ids(self) -> list[int]:
        return [p.id for p in self.photos]


@dataclass(frozen=True, slots=True)
class PlaceChanged:
    """One photo's position before and after an edit."""

    id: int
    path: str
    before: Gps | None
    after: Gps | None
    """None: no position (cleared, or none in the file)."""
    source: str | None
    """'manual' (set or cleared by the person), or None: the file's."""


@dataclass(frozen=True, slots=True)
class PlaceEdit:
    """What a place edit did: each photo changed, in the order given, and those left alone."""

    action: Literal["set", "from-photo", "clear", "from-file"]
    photos: tuple[PlaceChanged, ...]
    problems: tuple[EditProblem, ...] = ()
    cancelled: bool = False

    @property
    def photo_ids(self) -> list[int]:
        return [p.id for p in self.photos]


# ---------------------------------------------------------------------------- words

_UNITS = {"w": 7 * 86400, "week": 7 * 86400, "weeks": 7 * 86400,
          "d": 86400, "day": 86400, "days": 86400,
          "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
          "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
          "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_CLOCK = re.compile(r"(?:(\d+)\s*d(?:ays?)?\s+)?(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?")
_ISO = re.compile(r"P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                  r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?")
# Far enough for any camera clock, near enough that a typo is not a leap of centuries.
MAX_SHIFT = timedelta(days=366 * 200)
_DURATION_HELP = "write it like +1h03m, -2d, +1 h 3 min, +00:30, -1:02:03 or PT1H3M"


def _bad_duration(text: str, why: str = "") -> EditError:
    return EditError(f"cannot read {text!r} as a time to shift by{': ' + why if why else ''}; "
                     f"{_DURATION_HELP}", code="edits.bad_duration",
                     values={"text": text, "why": why})


def parse_shift(text: str) -> timedelta:
    """A signed duration to shift dates by: units ("+1h03m", "-2d", "+1 h 3 min", "90s",
    "1w"), a clock ("+00:30", "-1:02:03", "+2d 03:00") or ISO 8601 ("PT1H3M", "-P2DT1H").
    No sign shifts forward. Raises EditError (``edits.bad_duration``) for anything else, for
    years and months (they have no fixed length), for zero, and beyond 200 years."""
    raw = text if isinstance(text, str) else str(text)
    s = raw.strip().lower()
    sign = 1
    if s and s[0] in "+-":
        sign, s = (-1 if s[0] == "-" else 1), s[1:].strip()
    if not s:
        raise _bad_duration(raw, "no duration given")
    seconds: float
    if s[0] == "p":
        iso = _ISO.fullmatch(s.upper())
        if re.match(r"P\d+(?:\.\d+)?[YM]", s.upper()):
            raise _bad_duration(raw, "years and months have no fixed length; give days")
        if iso is None or s.upper() in ("P", "PT") or s.upper().endswith("T"):
            raise _bad_duration(raw)
        w, d, h, m, sec = (float(g) if g else 0.0 for g in iso.groups())
        seconds = w * 7 * 86400 + d * 86400 + h * 3600 + m * 60 + sec
    elif clock := _CLOCK.fullmatch(s):
        days, hours, minutes, secs = clock.groups()
        if int(minutes) > 59 or (secs is not None and float(secs) >= 60):
            raise _bad_duration(raw, "minutes and seconds go up to 59")
        seconds = (int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60
                   + float(secs or 0))
    else:
        seconds, at = 0.0, 0
        compact = re.sub(r"\s+", "", s)
        for part in _PART.finditer(compact):
            if part.start() != at:
                raise _bad_duration(raw)
            unit = _UNITS.get(part.group(2))
            if unit is None:
                raise _bad_duration(raw, f"{part.group(2)!r} is not a unit (d, h, min, s)")
            seconds += float(part.group(1)) * unit
            at = part.end()
        if at == 0 or at != len(compact):
            raise _bad_duration(raw)
    delta = timedelta(seconds=sign * seconds)
    if not delta:
        raise _bad_duration(raw, "a shift of zero changes nothing")
    if abs(delta) > MAX_SHIFT:
        raise _bad_duration(raw, "more than 200 years")
    return delta


_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_DATE_HELP = "write it like 2019-07-14 15:30, 2019-07-14T15:30:12 or 2019-07-14T15:30:12+02:00"


def parse_when(text: str) -> tuple[datetime, int | None]:
    """A date and time a person typed: the wall-clock time (naive) and its offset in minutes
    east of UTC when given ("2019-07-14T15:30:12+02:00", "2019-07-14 15:30", "2019-07-14",
    "2019:07:14 15:30:12" as EXIF writes it; "Z" is UTC). Raises EditError
    (``edits.bad_date``) for anything else."""
    raw = text if isinstance(text, str) else str(text)
    s = raw.strip()
    exif = re.fullmatch(r"(\d{4}):(\d{2}):(\d{2})([ T].*)?", s)
    if exif:
        s = f"{exif.group(1)}-{exif.group(2)}-{exif.group(3)}{exif.group(4) or ''}"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*"
                        r"(Z|[+-]\d{2}(:?\d{2})?)?)?", s, re.IGNORECASE):
        raise EditError(f"cannot read {raw!r} as a date and time; {_DATE_HELP}",
                        code="edits.bad_date", values={"text": raw})
    s = re.sub(r"\s+(?=[+-]\d{2}|Z)", "", s, flags=re.IGNORECASE)
    if re.search(r"[ T]\d:", s):     # 9:05 as 09:05
        s = re.sub(r"([ T])(\d):", r"\g<1>0\2:", s)
    try:
        when = datetime.fromisoformat(s.upper() if _OFFSET.search(s) else s)
    except ValueError as exc:
        raise EditError(f"{raw!r} is not a date that exists ({exc}); {_DATE_HELP}",
                        code="edits.bad_date", values={"text": raw}) from exc
    offset = None
    if when.tzinfo is not None:
        utc = when.utcoffset()
        offset = None if utc is None else int(utc.total_seconds() // 60)
        when = when.replace(tzinfo=None)
    if offset is not None and not -18 * 60 <= offset <= 18 * 60:
        raise EditError(f"{raw!r} has an offset from UTC beyond 18 hours",
                        code="edits.bad_date", values={"text": raw})
    return when, offset


def _stored(taken_at: str) -> tuple[datetime, int | None] | None:
    """A stored ``taken_at`` as wall clock and offset; None when it cannot be read."""
    try:
        when = datetime.fromisoformat(taken_at)
    except (TypeError, ValueError):
        return None
    utc = when.utcoffset()
    offset = None if utc is None else int(utc.total_seconds() // 60)
    return when.replace(tzinfo=None), offset


def shifted(taken_at: str, by: timedelta) -> tuple[str, float, int | None]:
    """``taken_at`` (as stored) moved by ``by`` on its own clock, its offset kept: the new
    text, sortable seconds and offset. Raises EditError (``edits.out_of_range``) for a date
    that cannot be read or one moved past the calendar."""
    found = _stored(taken_at)
    if found is None:
        raise EditError(f"the date {taken_at!r} cannot be read", code="edits.out_of_range",
                        values={"taken_at": taken_at})
    local, offset = found
    try:
        text, ts = format_taken(local + by, offset)
    except (OverflowError, ValueError) as exc:
        raise EditError(f"{taken_at} shifted by {by} leaves the calendar",
                        code="edits.out_of_range", values={"taken_at": taken_at}) from exc
    return text, ts, offset


# The words for where a date came from (``Photo.taken_at_source``): exact names first, then
# the reader's prefixes ("exif:DateTimeOriginal" is "EXIF DateTimeOriginal"); a name neither
# knows is shown as it is.
DATE_SOURCES = {
    MANUAL: "set by you",
    "filename": "file name",
    "file:name": "file name",
    "file:mtime": "file modified time",
    "exif:DateTime": "EXIF DateTime (when the file was last edited)",
}
_SOURCE_PREFIXES = {"exif": "EXIF", "xmp": "XMP", "iptc": "IPTC", "png": "PNG",
                    "quicktime": "QuickTime"}


def date_source_text(source: str | None) -> str | None:
    """Where a date came from, in words ("set by you", "EXIF DateTimeOriginal", "file name",
    "file modified time"); None for no source."""
    if not source:
        return None
    if source in DATE_SOURCES:
        return DATE_SOURCES[source]
    prefix, _, rest = source.partition(":")
    if rest and prefix.lower() in _SOURCE_PREFIXES:
        return f"{_SOURCE_PREFIXES[prefix.lower()]} {rest}"
    return source


def check_place(lat: float, lon: float, alt: float | None = None) -> tuple[float, float,
                                                                           float | None]:
    """Coordinates a person gave, as numbers in range; EditError (``edits.bad_place``)
    otherwise."""
    try:
        values = (float(lat), float(lon), None if alt is None else float(alt))
    except (TypeError, ValueError) as exc:
        raise EditError(f"coordinates are numbers (degrees), not {lat!r}, {lon!r}",
                        code="edits.bad_place", values={"lat": lat, "lon": lon}) from exc
    la, lo, al = values
    if not (math.isfinite(la) and -90 <= la <= 90):
        raise EditError(f"latitude {lat} is outside -90..90 degrees", code="edits.bad_place",
                        values={"lat": lat, "lon": lon})
    if not (math.isfinite(lo) and -180 <= lo <= 180):
        raise EditError(f"longitude {lon} is outside -180..180 degrees",
                        code="edits.bad_place", values={"lat": lat, "lon": lon})
    if al is not None and not (math.isfinite(al) and -12_000 <= al <= 100_000):
        raise EditError(f"altitude {alt} m is not one on Earth", code="edits.bad_place",
                        values={"lat": lat, "lon": lon, "alt": alt})
    return la, lo, al


# ---------------------------------------------------------------------------- the service

_DATE_COLUMNS = "id, path, status, taken_at, taken_at_offset, taken_at_source"
_GPS_COLUMNS = "id, path, status, gps_lat, gps_lon, gps_alt, gps_source"
# (taken_at, taken_ts, offset, source) for a photo, or a problem that leaves it alone.
_NewDate = tuple[str | None, float | None, int | None, str | None]
_NewPlace = tuple[float | None, float | None, float | None, str | None]


def _gps(lat: Any, lon: Any, alt: Any) -> Gps | None:
    return None if lat is None or lon is None else Gps(lat=float(lat), lon=float(lon),
                                                       alt=None if alt is None else float(alt))


class Edits:
    """Dates and places of photos, set by the person (``Library.edits``)."""

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer) -> None:
        self.reader = reader
        self.writer = writer

    # ------------------------------------------------------------------ which photos

    def resolve(self, refs: Sequence[int | str]) -> list[int]:
        """The ids of these photos (ids, or paths), each once, in the order given; EditError
        (``edits.unknown_photo``) naming the first that is not in the library,
        ``edits.no_photos`` when none is given."""
        if not refs:
            raise EditError("no photos given", code="edits.no_photos")
        conn = self.reader()
        ids: list[int] = []
        for ref in refs:
            if isinstance(ref, int) and not isinstance(ref, bool):
                ids.append(ref)
                continue
            row = photos.get_photo(conn, str(ref))
            if row is None:
                raise EditError(f"no photo {ref} in this library", code="edits.unknown_photo",
                                values={"photo": str(ref)})
            ids.append(int(row["id"]))
        ids = list(dict.fromkeys(ids))
        found = {int(r[0]) for r in photos.rows_of(conn, ids, "id")}
        for i in ids:
            if i not in found:
                raise EditError(f"no photo {i} in this library", code="edits.unknown_photo",
                                values={"photo": str(i)})
        return ids

    # ------------------------------------------------------------------ dates

    def set_date(self, refs: Sequence[int | str], when: str | datetime, *,
                 progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> DateEdit:
        """Give these photos one date and time (text as ``parse_when`` reads it, or a
        datetime). Without an offset each photo keeps its own (the time is its wall clock);
        with one, all take it."""
        if isinstance(when, datetime):
            utc = when.utcoffset()
            local = when.replace(tzinfo=None)
            given = None if utc is None else int(utc.total_seconds() // 60)
        else:
            local, given = parse_when(when)

        def new(row: dict[str, Any]) -> _NewDate | EditProblem:
            offset = given if given is not None else row["taken_at_offset"]
            text, ts = format_taken(local, None if offset is None else int(offset))
            return text, ts, offset, MANUAL

        return self._dates("set", refs, new, progress, cancel)

    def shift_date(self, refs: Sequence[int | str], by: str | timedelta, *,
                   progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> DateEdit:
        """Move each photo's own date by ``by`` (text as ``parse_shift`` reads it, or a
        timedelta), keeping its offset: a camera whose clock was wrong. A photo without a
        date is left alone (a problem of the report)."""
        delta = by if isinstance(by, timedelta) else parse_shift(by)

        def new(row: dict[str, Any]) -> _NewDate | EditProblem:
            if not row["taken_at"]:
                return EditProblem(int(row["id"]), str(row["path"]), "edits.no_date",
                                   "it has no date to shift")
            try:
                text, ts, offset = shifted(str(row["taken_at"]), delta)
            except EditError as exc:
                return EditProblem(int(row["id"]), str(row["path"]), exc.code, str(exc))
            return text, ts, offset, MANUAL

        return self._dates("shift", refs, new, progress, cancel)

    def date_from_file(self, refs: Sequence[int | str], *,
                       progress: ProgressCallback | None = None,
                       cancel: CancelToken | None = None) -> DateEdit:
        """Undo a date set by hand: read each photo's date from its file again (as indexing
        does, down to the file's modification time). A file that cannot be read keeps the
        date it has (a problem of the report)."""
        def new(row: dict[str, Any]) -> _NewDate | EditProblem:
            meta = _read_file(row)
            if isinstance(meta, EditProblem):
                return meta
            if (str(meta.taken_at_source or "").startswith("sidecar:")
                    and row["taken_at_source"] == MANUAL
                    and _same_moment(meta.taken_at, row["taken_at"])):
                # The sidecar only repeats the person's date (write-back wrote it there): the
                # file's own date is the one asked for. Write-back then takes ours out.
                meta = _read_own_file(row, meta)
            return meta.taken_at, meta.taken_ts, meta.taken_at_offset, meta.taken_at_source

        return self._dates("from-file", refs, new, progress, cancel)

    def _dates(self, action: Literal["set", "shift", "from-file"], refs: Sequence[int | str],
               new: Callable[[dict[str, Any]], _NewDate | EditProblem],
               progress: ProgressCallback | None, cancel: CancelToken | None) -> DateEdit:
        done: list[DateChanged] = []

        def plan(row: dict[str, Any]) -> tuple[Any, ...] | EditProblem:
            value = new(row)
            if isinstance(value, EditProblem):
                return value
            text, ts, offset, source = value
            done.append(DateChanged(int(row["id"]), str(row["path"]), row["taken_at"], text,
                                    source))
            return text, offset, ts, source

        problems, cancelled = self._run(
            refs, _DATE_COLUMNS, plan, "UPDATE photos SET taken_at = ?, taken_at_offset = ?, "
            "taken_ts = ?, taken_at_source = ?, updated_at = ? WHERE id = ?",
            "dates", done, progress, cancel, reads_files=action == "from-file")
        return DateEdit(action, tuple(done), tuple(problems), cancelled)

    # ------------------------------------------------------------------ places

    def set_place(self, refs: Sequence[int | str], lat: float, lon: float,
                  alt: float | None = None, *, progress: ProgressCallback | None = None,
                  cancel: CancelToken | None = None) -> PlaceEdit:
        """Put these photos at ``lat``, ``lon`` (degrees; ``alt`` metres, optional)."""
        la, lo, al = check_place(lat, lon, alt)
        return self._places("set", refs, lambda row: (la, lo, al, MANUAL), progress, cancel)

    def copy_place(self, refs: Sequence[int | str], source: int | str, *,
                   progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> PlaceEdit:
        """Put these photos where ``source`` (an id or a path) was taken; EditError
        (``edits.no_place``) when it has no position."""
        src_id = self.resolve([source])[0]
        row = self.reader().row("SELECT path, gps_lat, gps_lon, gps_alt FROM photos "
                                "WHERE id = ?", (src_id,))
        if row is None or row["gps_lat"] is None or row["gps_lon"] is None:
            raise EditError(f"photo {source} has no place to take",
                            code="edits.no_place", values={"photo": str(source)})
        la, lo, al = float(row["gps_lat"]), float(row["gps_lon"]), row["gps_alt"]
        return self._places("from-photo", refs, lambda r: (la, lo, al, MANUAL), progress,
                            cancel)

    def clear_place(self, refs: Sequence[int | str], *,
                    progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None) -> PlaceEdit:
        """Take these photos' positions away, and keep them away when their files are read
        again (a position the person does not want shown)."""
        return self._places("clear", refs, lambda row: (None, None, None, MANUAL), progress,
                            cancel)

    def place_from_file(self, refs: Sequence[int | str], *,
                        progress: ProgressCallback | None = None,
                        cancel: CancelToken | None = None) -> PlaceEdit:
        """Undo a place set or cleared by hand: each photo's position as its file says."""
        def new(row: dict[str, Any]) -> _NewPlace | EditProblem:
            meta = _read_file(row)
            if isinstance(meta, EditProblem):
                return meta
            if (row["gps_source"] == MANUAL and meta.gps_lat is not None
                    and _same_place(meta, row)):
                # Read back as the person set it: a sidecar that write-back wrote says so
                # first; the file's own position is the one asked for.
                meta = _read_own_file(row, meta)
            if meta.gps_lat is None or meta.gps_lon is None:
                return None, None, None, None
            return meta.gps_lat, meta.gps_lon, meta.gps_alt, None

        return self._places("from-file", refs, new, progress, cancel)

    def _places(self, action: Literal["set", "from-photo", "clear", "from-file"],
                refs: Sequence[int | str],
                new: Callable[[dict[str, Any]], _NewPlace | EditProblem],
                progress: ProgressCallback | None, cancel: CancelToken | None) -> PlaceEdit:
        done: list[PlaceChanged] = []

        def plan(row: dict[str, Any]) -> tuple[Any, ...] | EditProblem:
            value = new(row)
            if isinstance(value, EditProblem):
                return value
            lat, lon, alt, source = value
            done.append(PlaceChanged(int(row["id"]), str(row["path"]),
                                     _gps(row["gps_lat"], row["gps_lon"], row["gps_alt"]),
                                     _gps(lat, lon, alt), source))
            return lat, lon, alt, source

        problems, cancelled = self._run(
            refs, _GPS_COLUMNS, plan, "UPDATE photos SET gps_lat = ?, gps_lon = ?, "
            "gps_alt = ?, gps_source = ?, updated_at = ? WHERE id = ?",
            "places", done, progress, cancel, reads_files=action == "from-file")
        return PlaceEdit(action, tuple(done), tuple(problems), cancelled)

    # ------------------------------------------------------------------ the batches

    def _run(self, refs: Sequence[int | str], columns: str,
             plan: Callable[[dict[str, Any]], tuple[Any, ...] | EditProblem], sql: str,
             what: str, done: list[Any], progress: ProgressCallback | None,
             cancel: CancelToken | None, *, reads_files: bool = False
             ) -> tuple[list[EditProblem], bool]:
        """Plan each photo's new values and write them BATCH photos per transaction; the
        problems, and whether a cancel stopped it (``done`` then holds what was written).
        ``reads_files``: ``plan`` reads the photos' files (from-file), so it runs before the
        write transaction rather than inside it."""
        ids = self.resolve(refs)
        conn = self.reader()
        # The RAW kept with a photo (a RAW+JPEG pair, kernel/pairs.py) is the same shot: its
        # date and place go with the photo's, and come back with it if the pair breaks.
        chosen = list(ids)
        for start in range(0, len(chosen), BATCH):
            chunk = chosen[start:start + BATCH]
            ids += [int(r[0]) for r in conn.execute(
                f"SELECT id FROM photos WHERE companion_of IN ({', '.join('?' * len(chunk))})",
                chunk)]
        ids = list(dict.fromkeys(ids))
        token = cancel or CancelToken()
        meter = ProgressMeter(f"Setting {what}", progress)
        meter.start_phase(f"setting {what}", len(ids))
        problems: list[EditProblem] = []
        for start in range(0, len(ids), BATCH):
            if token.cancelled:
                meter.finish()
                return problems, True
            chunk = ids[start:start + BATCH]
            kept, told = len(done), len(problems)

            def planned(c: Connection, chunk: list[int] = chunk) -> list[tuple[Any, ...]]:
                rows = {int(r["id"]): r for r in c.rows(
                    f"SELECT {columns} FROM photos WHERE id IN "
                    f"({', '.join('?' * len(chunk))})", chunk)}
                updates: list[tuple[Any, ...]] = []
                for photo_id in chunk:
                    row = rows.get(photo_id)
                    if row is None:          # forgotten since it was chosen
                        continue
                    value = plan(row)
                    if isinstance(value, EditProblem):
                        problems.append(value)
                    else:
                        updates.append((*value, now_iso(), photo_id))
                return updates

            def plan_and_write(c: Connection) -> list[tuple[Any, ...]]:
                updates = planned(c)
                c.executemany(sql, updates)
                return updates

            try:
                if reads_files:
                    # Reading files is slow: planned outside the writer, which only writes.
                    updates = planned(conn)
                    self.writer.call(partial(_write, sql, updates))
                else:
                    # Planned and written in one transaction: a shift moves the date as it is
                    # under the writer's lock, so two edits at once both count.
                    updates = self.writer.call(plan_and_write)
            except BaseException:
                del done[kept:]          # this batch was not written
                del problems[told:]
                raise
            changed = len(updates)
            meter.advance(len(chunk), errors=len(chunk) - changed)
        meter.finish()
        return problems, False


def _write(sql: str, rows: list[tuple[Any, ...]], conn: Connection) -> None:
    conn.executemany(sql, rows)


def _same_moment(a: Any, b: Any) -> bool:
    try:
        return datetime.fromisoformat(str(a)) == datetime.fromisoformat(str(b))
    except ValueError:
        return False


def _same_place(meta: PhotoMeta, row: dict[str, Any]) -> bool:
    if row["gps_lat"] is None or row["gps_lon"] is None or meta.gps_lon is None:
        return False
    return (abs(float(meta.gps_lat or 0) - float(row["gps_lat"])) < 1e-6
            and abs(float(meta.gps_lon) - float(row["gps_lon"])) < 1e-6)


def _read_own_file(row: dict[str, Any], fallback: PhotoMeta) -> PhotoMeta:
    """What a photo's own file states, its sidecar left out (a date down to the file's
    modification time); ``fallback`` when the file cannot be read now."""
    from PIL import Image

    from glimpse_desktop.metadata import extract  # the metadata feature's own reader

    path = str(row["path"])
    try:
        data = read_original(path)
        with Image.open(io.BytesIO(data)) as img:
            meta = extract.read(PhotoSource(path, data, img, None), sidecar=False)
        mtime = os.stat(path).st_mtime
    except Exception:  # any failure to read it now: the date read with the sidecar stands
        return fallback
    if meta.taken_at is None:
        meta.taken_at, meta.taken_ts, meta.taken_at_offset = date_from_mtime(mtime)
        meta.taken_at_source = "file:mtime"
    return meta


def _read_file(row: dict[str, Any]) -> PhotoMeta | EditProblem:
    """What a photo's file says about itself, read as indexing reads it; a problem when the
    file cannot be read now."""
    photo_id, path = int(row["id"]), str(row["path"])
    try:
        data = read_original(path)
        mtime = os.stat(path).st_mtime
        return decode(data, path, want=_READ_SIZE, mtime=mtime).meta
    except (LibraryError, DecodeError, OSError) as exc:
        return EditProblem(photo_id, path, "edits.unreadable",
                           f"its file cannot be read now: {exc}")

