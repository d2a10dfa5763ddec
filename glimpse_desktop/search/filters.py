"""Search filters: the ``key:value`` words of a query, each contributed by a feature.

``person:ana`` comes from faces, ``place:lisbon`` from places, ``album:`` from albums, the
date, camera, lens, type and folder filters from metadata, ``tag:`` from search, and a plugin
adds its own (``color:red``) through the ``glimpse_search_filters`` hook. A filter is a
``SearchFilter`` record: its key, a help line, how a value narrows the ``photos p`` rows (an
SQL condition with its parameters, or the ids of the photos that pass) and, optionally, the
values the search box can suggest. The query parser knows the keys from here; a word whose
key no filter has stays a plain word, so ``re:union`` searches for itself.

A filter's code is a plugin's and may fail: ``suggestions``, ``checked`` and ``narrowed``
call it so that one filter's bug costs that filter alone. It is recorded as its plugin's
problem (in the plugin list); a failed value check or narrowing is a ``QueryError`` with the
code ``search.filter_failed`` (values ``key``, ``plugin``, ``reason``), never a crash.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from glimpse_desktop.kernel import plugins
from glimpse_desktop.kernel.db import Connection, LibraryError, is_environmental
from glimpse_desktop.kernel.messages import CodedError

__all__ = ["FILTER_FAILED", "Condition", "FilterContext", "QueryError", "Repeat", "SearchFilter",
           "as_condition", "checked", "filter_keys", "narrowed", "registered", "suggestions"]


class QueryError(CodedError, ValueError):
    """The query cannot be understood (or names what is not there); the message says which
    part and why, the code lets a front end add where to look."""


# The code of the QueryError for a filter whose own code failed.
FILTER_FAILED = "search.filter_failed"
_HOOK = "glimpse_search_filters"

# How repeated values of one key combine: "all" (each must hold: person:ada person:bob is a
# photo of both), "any" (type:jpg type:png: either), "last" (a later one replaces an earlier
# one: after:2020 after:2021 means after 2021).
Repeat = Literal["all", "any", "last"]
_KEY = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Condition:
    """How one filter value narrows the photos: ``sql``, a condition on the ``photos p`` row
    (``p.id IN (SELECT photo_id FROM my_table WHERE ...)``), with ``params`` for its ``?``
    marks. Build the condition from constants and pass what the person typed as a parameter,
    never inside ``sql``."""

    sql: str
    params: tuple[Any, ...] = ()

    @classmethod
    def photos(cls, ids: Iterable[int]) -> Condition:
        """The photos with these ids (one JSON parameter, however many: SQLite caps ``?``)."""
        return cls("p.id IN (SELECT value FROM json_each(?))",
                   (json.dumps(sorted({int(i) for i in ids})),))


# Every photo passes (a value that names nothing to filter by, such as ``tag:!!``).
EVERY = Condition("1")
# No photo passes.
NONE = Condition("0")


@dataclass(frozen=True)
class FilterContext:
    """What a filter may use while it narrows a search: the read connection, and for filters
    that are searches themselves (a smart album's photos are what its saved search finds),
    ``search(query)``, the ids of the photos a search finds, run one level deeper."""

    conn: Connection
    # How many smart albums' searches this search runs inside; a filter that runs
    # ``search`` refuses to go deeper than ``max_nesting`` (an album whose search names
    # itself).
    nesting: int
    max_nesting: int
    search: Callable[[str], list[int]]

    @property
    def too_deep(self) -> bool:
        return self.nesting >= self.max_nesting


@dataclass(frozen=True)
class SearchFilter:
    """One ``key:value`` filter of the search box.

    ``narrow(context, value)`` turns one value into a ``Condition`` on ``photos p`` (or a
    collection of photo ids); it raises ``search.query.QueryError`` (with a code) for a value
    that names nothing the person could mean, such as a person nobody is called. ``check``,
    when given, runs as the query is parsed, before anything is read: it returns the value
    as the filter will read it (spaces tidied) or raises ``QueryError`` for a value that is
    not one (``after:someday``); a smart album's saved search is checked this way too.
    """

    key: str                      # the word before the colon, lower case: "color"
    help: str                     # what a value is, in a few words: "a colour: red, blue…"
    narrow: Callable[[FilterContext, str], Condition | Collection[int]]
    # The values the search box suggests after ``key:``, most useful first, at most
    # ``limit``: ``values(conn, limit)``.
    values: Callable[[Connection, int], list[str]] | None = None
    check: Callable[[str], str] | None = None
    repeat: Repeat = "all"
    # What happened when no photo passes the filter alone, with ``{value}`` (and ``{key}``)
    # in it: "no photo is tagged {value!r}". Empty: a plain "no photo matches key:value".
    nothing: str = ""

    def __post_init__(self) -> None:
        if not _KEY.fullmatch(self.key):
            raise ValueError(f"a search filter's key is a lower-case word, not {self.key!r}")
        if self.repeat not in ("all", "any", "last"):
            raise ValueError(f"repeat is 'all', 'any' or 'last', not {self.repeat!r}")

    def no_match(self, value: str) -> str:
        """What to say when no photo passes this filter with ``value`` alone."""
        return (self.nothing or "no photo matches {key}:{value}").format(key=self.key,
                                                                          value=value)


def as_condition(narrowed: Condition | Collection[int]) -> Condition:
    """A filter's answer as a condition (a collection of ids is the photos with those ids)."""
    if isinstance(narrowed, Condition):
        return narrowed
    return Condition.photos(narrowed)


def registered() -> dict[str, SearchFilter]:
    """Every filter the plugins contribute, by key, in the order the plugins give (the
    built-in features first). Of two filters with one key the first is kept, so a plugin
    cannot take over ``person:``; the plugin whose filter was left out, or whose hook gave
    something that is not a filter, has it recorded among the host's problems."""
    host = plugins.host()       # the built-in features and installed plugins, registered
    found: dict[str, SearchFilter] = {}
    # A broken plugin's hook is recorded by ``each`` and answers nothing, never the end of
    # search.
    for answer in host.each(_HOOK):
        problems: list[str] = []
        for item in answer.items:
            if not isinstance(item, SearchFilter):
                problems.append(f"{item!r} is not a SearchFilter")
            elif item.key in found:
                problems.append(f"the filter {item.key}: is already given by another "
                                "plugin, so this one was left out")
            else:
                found[item.key] = item
                with _owners_lock:
                    _owners[item.key] = answer.plugin
        if problems:
            host.record(answer.plugin, _HOOK, "; ".join(problems))
    return found


# Which plugin gave each filter key (for the problem a failing filter is recorded as).
_owners: dict[str, str] = {}
_owners_lock = threading.Lock()


def _failed(search_filter: SearchFilter, part: str, exc: Exception) -> str:
    """Record that ``part`` of a filter failed as its plugin's problem; the reason."""
    reason = f"{type(exc).__name__}: {exc}"
    with _owners_lock:
        plugin = _owners.get(search_filter.key, "")
    if plugin:
        plugins.host().record(plugin, _HOOK, f"the filter {search_filter.key}: failed in "
                                             f"{part}: {reason}")
    return reason


def _query_error(search_filter: SearchFilter, part: str, exc: Exception) -> Exception:
    if isinstance(exc, QueryError):
        return exc
    reason = _failed(search_filter, part, exc)
    with _owners_lock:
        plugin = _owners.get(search_filter.key, "")
    return QueryError(f"the filter {search_filter.key}: failed ({reason})",
                      code=FILTER_FAILED,
                      values={"key": search_filter.key, "plugin": plugin, "reason": reason})


def suggestions(search_filter: SearchFilter, conn: Connection, limit: int) -> list[str] | None:
    """The values ``search_filter`` suggests (``values``), or None when it offers none or
    its code failed (recorded as its plugin's problem)."""
    if search_filter.values is None:
        return None
    try:
        return [str(v) for v in search_filter.values(conn, limit)]
    except Exception as exc:  # one filter's bug costs its own suggestions alone
        if is_environmental(exc):
            raise
        _failed(search_filter, "values", exc)
        return None


def checked(search_filter: SearchFilter, value: str) -> str:
    """``value`` as the filter reads it (its ``check``); QueryError for a value it refuses,
    or when its check fails (``search.filter_failed``)."""
    if search_filter.check is None:
        return value
    try:
        return search_filter.check(value)
    except Exception as exc:
        raise _query_error(search_filter, "check", exc) from exc


def narrowed(search_filter: SearchFilter, context: FilterContext, value: str) -> Condition:
    """The condition ``value`` of the filter puts on ``photos p`` (its ``narrow``);
    QueryError for a value that names nothing, or when its code fails
    (``search.filter_failed``). A failure of the library itself goes up as it is."""
    try:
        return as_condition(search_filter.narrow(context, value))
    except Exception as exc:
        if is_environmental(exc) or isinstance(exc, LibraryError):
            raise
        raise _query_error(search_filter, "narrow", exc) from exc


def filter_keys() -> list[str]:
    """The keys the search box knows, in alphabetical order (the order it suggests them)."""
    return sorted(registered())

