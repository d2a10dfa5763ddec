"""What a person types into the search box, taken apart.

``red car in the snow after:2021-06 camera:iphone -night`` becomes free text for CLIP and the
text index, filters that narrow the photos, and excluded words. ``+`` and ``-`` between terms
(with spaces around them) do query arithmetic in the manner of rclip: ``beach + sunset -
people`` looks for beaches at sunset, away from crowds. ``2:sunset`` weighs a term twice.
"""

from __future__ import annotations

import calendar
import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from glimpse_desktop.kernel.messages import CodedError

FILTER_KEYS = ("after", "before", "camera", "tag", "type", "folder", "person", "place",
               "album", "lens")
# Filters whose data arrives with later features; a clear message beats an empty result.
NOT_YET: dict[str, str] = {}
# File types a person names, to the formats Glimpse records.
TYPES = {
    "jpg": ("JPEG", "MPO"), "jpeg": ("JPEG", "MPO"), "png": ("PNG",), "heic": ("HEIF",),
    "heif": ("HEIF",), "tif": ("TIFF",), "tiff": ("TIFF",), "webp": ("WEBP",), "gif": ("GIF",),
    "bmp": ("BMP", "DIB"), "avif": ("AVIF",),
    "raw": ("DNG", "CR2", "NEF", "NRW", "ARW", "ORF", "RW2", "PEF", "RAW"), "dng": ("DNG",),
    "cr2": ("CR2",), "nef": ("NEF",), "arw": ("ARW",), "orf": ("ORF",), "rw2": ("RW2",),
}


class QueryError(CodedError, ValueError):
    """The query cannot be understood (or names what is not there); the message says which
    part and why, the code lets a front end add where to look."""


@dataclass
class Term:
    text: str
    weight: float = 1.0  # negative: away from this


@dataclass
class Query:
    terms: list[Term] = field(default_factory=list)
    excluded_words: list[str] = field(default_factory=list)
    after: float | None = None   # taken_ts bounds, seconds since the epoch
    before: float | None = None
    cameras: list[str] = field(default_factory=list)
    lenses: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    # For each person: filter, the ids of the people it names (filled in by the search).
    person_ids: list[list[int]] = field(default_factory=list)
    albums: list[str] = field(default_factory=list)
    # For each album: filter, the ids of the photos in the albums it names (filled in by the
    # search: a smart album's photos are its own search's results).
    album_photo_ids: list[list[int]] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    # For each place: filter, the (cities, regions, countries) names it matches (filled in by
    # the search: "place:Lisbon" is the city and the region of that name).
    place_names: list[tuple[list[str], list[str], list[str]]] = field(default_factory=list)
    # Every filter as typed, (key, value) in order: what a front end names when a filter
    # matches nothing ("no photo was taken with a camera called …").
    filters: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The positive free text (what FTS matches and what the person sees echoed)."""
        return " ".join(t.text for t in self.terms if t.weight > 0)

    @property
    def has_filters(self) -> bool:
        return bool(self.after is not None or self.before is not None or self.cameras
                    or self.lenses or self.tags or self.types or self.folders or self.people
                    or self.albums or self.places)

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.has_filters


def _date_bound(value: str, *, end: bool) -> float:
    """``2021``, ``2021-06``, ``2021-06-15`` as the start (or the end) of that period."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value.strip())
    if not m:
        raise QueryError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if day is not None:
            start = datetime(year, int(month or 1), int(day))
            stop = start + timedelta(days=1)
        elif month is not None:
            mo = int(month)
            start = datetime(year, mo, 1)
            stop = start + timedelta(days=calendar.monthrange(year, mo)[1])
        else:
            start, stop = datetime(year, 1, 1), datetime(year + 1, 1, 1)
    except ValueError as exc:
        raise QueryError(f"{value!r} is not a date: {exc}") from None
    # taken_ts treats a local time without offset as UTC (see the photos table), so the
    # bounds are naive local dates compared the same way.
    epoch = datetime(1970, 1, 1)
    return ((stop if end else start) - epoch).total_seconds()


def _split(query: str) -> list[str]:
    try:
        lexer = shlex.shlex(query, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:  # an unclosed quote: take the words as they are
        return query.replace('"', " ").split()


def add_filter(q: Query, key: str, value: str) -> None:
    """Add one ``key:value`` filter (``key`` one of FILTER_KEYS, lower case) to ``q``."""
    if key in NOT_YET:
        raise QueryError(NOT_YET[key])
    if key == "after":
        q.after = _date_bound(value, end=False)
    elif key == "before":
        q.before = _date_bound(value, end=False)
    elif key == "camera":
        q.cameras.append(value)
    elif key == "lens":
        q.lenses.append(value)
    elif key == "tag":
        q.tags.append(value.lower())
    elif key == "folder":
        q.folders.append(value)
    elif key == "person":
        value = " ".join(value.split())
        q.people.append(value)
    elif key == "album":
        value = " ".join(value.split())
        q.albums.append(value)
    elif key == "place":
        value = " ".join(value.split())
        q.places.append(value)
    elif key == "type":
        kinds = TYPES.get(value.lower().lstrip("."))
        if kinds is None:
            raise QueryError(f"type:{value} is not a type Glimpse knows "
                             f"({', '.join(sorted(TYPES))})")
        q.types.extend(kinds)
    else:
        raise QueryError(f"{key}: is not a filter Glimpse knows")
    q.filters.append((key, value))


def parse(query: str) -> Query:
    """Take a search string apart; QueryError for a filter that cannot be honoured."""
    q = Query()
    sign = 1.0
    words: list[str] = []
    weight = 1.0

    def end_term() -> None:
        nonlocal words, weight, sign
        if words:
            q.terms.append(Term(" ".join(words), sign * weight))
            sign = 1.0
        words, weight = [], 1.0

    for token in _split(query):
        key, sep, value = token.partition(":")
        if sep and key.lower() in FILTER_KEYS and value:
            add_filter(q, key.lower(), value)
            continue
        if token in ("+", "-"):
            end_term()
            sign = 1.0 if token == "+" else -1.0
            continue
        if token.startswith("-") and len(token) > 1:
            # -word: not this (excluded from text matches, and pushed away from in CLIP).
            end_term()
            word = token[1:]
            q.excluded_words.append(word)
            q.terms.append(Term(word, -1.0))
            continue
        m = re.fullmatch(r"(\d+(?:\.\d+)?):(.+)", token)
        if m and not words:
            weight = float(m.group(1))
            token = m.group(2)
        words.append(token)
    end_term()
    if q.after is not None and q.before is not None and q.after >= q.before:
        raise QueryError("after: is not earlier than before:, so nothing can match")
    return q
