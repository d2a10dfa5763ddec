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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.search.filters import (
    EVERY,
    Condition,
    FilterContext,
    QueryError,
    SearchFilter,
    checked,
    registered,
)

__all__ = ["QueryError"]   # defined beside the filters, which raise it too

@dataclass
class Term:
    text: str
    weight: float = 1.0  # negative: away from this


@dataclass
class Query:
    terms: list[Term] = field(default_factory=list)
    excluded_words: list[str] = field(default_factory=list)
    # Every filter as the filter reads it, (key, value) in the order typed: what narrows the
    # search (search.filters) and what a front end names when a filter matches nothing ("no
    # photo was taken with a camera called …").
    filters: list[tuple[str, str]] = field(default_factory=list)
    # The indexes in ``filters`` typed as ``-key:value``: photos that filter leaves out.
    negated: set[int] = field(default_factory=set)

    @property
    def text(self) -> str:
        """The positive free text (what FTS matches and what the person sees echoed)."""
        return " ".join(t.text for t in self.terms if t.weight > 0)

    @property
    def has_filters(self) -> bool:
        return bool(self.filters)

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.has_filters

    def values(self, key: str) -> list[str]:
        """The values given for ``key``, in the order typed."""
        return [value for i, (k, value) in enumerate(self.filters)
                if k == key and i not in self.negated]

    @property
    def after(self) -> float | None:
        """The ``after:`` bound (the last one given), seconds since the epoch."""
        values = self.values("after")
        return _date_bound(values[-1], end=False) if values else None

    @property
    def before(self) -> float | None:
        """The ``before:`` bound (the last one given), seconds since the epoch."""
        values = self.values("before")
        return _date_bound(values[-1], end=False) if values else None


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


def add_filter(q: Query, key: str, value: str,
               known: Mapping[str, SearchFilter] | None = None) -> None:
    """Add one ``key:value`` filter (``key`` one a plugin contributes, lower case) to ``q``;
    QueryError for a key no filter has or a value the filter refuses."""
    search_filter = (registered() if known is None else known).get(key)
    if search_filter is None:
        raise QueryError(f"{key}: is not a filter Glimpse knows", code="search.unknown_filter",
                         values={"key": key})
    value = checked(search_filter, value)
    q.filters.append((key, value))


def parse(query: str) -> Query:
    """Take a search string apart; QueryError for a filter that cannot be honoured."""
    q = Query()
    known = registered()
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
        if sep and key.lower() in known and value:
            add_filter(q, key.lower(), value, known)
            continue
        if sep and token.startswith("-") and key[1:].lower() in known and value:
            # -key:value: not these (-is:rejected leaves the rejects out).
            add_filter(q, key[1:].lower(), value, known)
            q.negated.add(len(q.filters) - 1)
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


# ---------------------------------------------------------------- the search feature's filters

_WIDEST_OFFSET = 14 * 3600  # seconds: time zones run from UTC-12 to UTC+14
# Dates are the camera's clock, as a person reads them: a photo taken at 00:30 on New Year's
# Day in Athens (22:30 UTC the day before) belongs to the new year. taken_ts is the instant;
# adding the offset gives back the wall-clock time, read as UTC like the bounds (and like
# taken_ts itself when the offset is unknown).
_LOCAL = "(p.taken_ts + coalesce(p.taken_at_offset, 0) * 60.0)"


def _checked_date(value: str) -> str:
    _date_bound(value, end=False)
    return value


def _after(_context: FilterContext, value: str) -> Condition:
    bound = _date_bound(value, end=False)
    # The bare instant within a day's worth of offsets of the bound keeps the photos_by_time
    # index usable; the wall-clock comparison then decides.
    return Condition(f"p.taken_ts >= ? AND {_LOCAL} >= ?", (bound - _WIDEST_OFFSET, bound))


def _before(_context: FilterContext, value: str) -> Condition:
    bound = _date_bound(value, end=False)
    return Condition(f"p.taken_ts < ? AND {_LOCAL} < ?", (bound + _WIDEST_OFFSET, bound))


def _tag(_context: FilterContext, value: str) -> Condition:
    words = re.findall(r"\w+", value.lower())
    if not words:
        return EVERY
    # Tags from zero-shot tagging and keywords written in the files, as whole words.
    return Condition("p.id IN (SELECT rowid FROM photos_fts WHERE photos_fts MATCH ?)",
                     ('{keywords tags} : "' + " ".join(words) + '"',))


def _tags(conn: Connection, limit: int) -> list[str]:
    """Tags and keywords, most used first."""
    counts: dict[str, int] = {}
    for row in conn.rows("SELECT value FROM photo_text WHERE field IN ('keywords', 'tags') "
                         "LIMIT 200000"):
        for word in re.split(r"[;,\n]", str(row["value"])):
            word = word.strip()
            if word:
                counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w.lower()))[:limit]


AFTER = SearchFilter(
    "after", "a date: 2023, 2023-06, 2023-06-14", _after, check=_checked_date, repeat="last",
    nothing="no photo was taken in or after {value}")
BEFORE = SearchFilter(
    "before", "a date", _before, check=_checked_date, repeat="last",
    nothing="no photo was taken before {value}")
TAG = SearchFilter(
    "tag", "a tag or keyword", _tag, values=_tags, nothing="no photo is tagged {value!r}")
