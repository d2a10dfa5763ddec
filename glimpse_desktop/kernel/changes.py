"""One change chain: what must happen after photos change, written once.

Index, the watcher, every CLI verb and the window report a change with
``Library.photos_changed(ids, why)``; the follow-ups that plugins contribute (hook
``glimpse_follow_ups``) run once each, in the order their declared dependencies give. A
follow-up that fails is reported in the ``ChangeReport`` with its reason and never stops the
ones after it; a cancel stops the chain between follow-ups.

The built-in follow-ups, by name (their reports are in ``ChangeReport.results`` under these
names; a follow-up that had nothing to do reports nothing):

================  =============================  ===========================================
name              runs for                       report
================  =============================  ===========================================
``sidecars-read`` indexed, watched, catch-up,    ``writeback.plugin.SidecarsRead``: sidecars
                  sidecars                       read, faces named from their regions
``tags``          indexed, watched, catch-up     ``search.tags.TagReport`` (remembered tags
                                                 given to newly embedded photos)
``people``        indexed, watched, catch-up     ``faces.records.PeopleUpdate``: faces in the
                                                 changed photos, the clustering pass
``places``        indexed, watched, catch-up,    ``places.service.PlacesReport``
                  taken
``albums``        indexed, watched, catch-up,    ``albums.auto.AutoAlbumReport`` (after
                  taken                          places: titles name them)
``captions``      indexed, watched, catch-up     ``True``: a background caption run started
                                                 (its ``CaptionReport`` is
                                                 ``library.captions.background_report``)
``write-back``    every reason but sidecars      ``writeback.service.WriteBackReport``
                                                 (``written``, ``failed``), with
                                                 ``writeback.sync`` on
================  =============================  ===========================================

The order they run in: sidecars-read, tags, people, places, albums, captions, write-back.
A plugin's follow-up names the ones it needs first in ``after`` (``("places",)`` sees
places already updated) and those that must see its work in ``before`` (``("write-back",)``
gets what it changed into the sidecars); otherwise it runs after the built-in ones. A
plugin's follow-up that cannot join the chain (its name is taken, or its ``after`` and
``before`` close a circle with follow-ups given before it) is left out by ``chain`` and
recorded as that plugin's problem; the built-in chain always runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from glimpse_desktop.kernel.db import LibraryError
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, ProgressCallback

# Why photos changed. Follow-ups choose the reasons they run for.
WHY = (
    "indexed",    # a scan read new, changed or moved files
    "watched",    # the watcher read a burst of changes
    "catch-up",   # the watcher caught up after a pause: anything may have changed
    "sidecars",   # another app wrote a sidecar beside photos
    "edited",     # a person changed metadata (rating, description, tags)
    "taken",      # a person set when or where photos were taken (date, time, place)
    "people",     # names or faces changed (named, merged, not-this-person)
    "captions",   # captions were written or edited
    "tags",       # tags were added or removed
    "albums",     # albums changed (their names travel in sidecars)
    "judged",     # a person made photos favourites, gave stars, rejected them (or took it back)
    "rotated",    # a person turned photos (shown turned everywhere; written as orientation)
)

# The reasons a scan of files gives: new, changed and moved photos (follow-ups that group,
# place and caption photos run for these).
READ = frozenset({"indexed", "watched", "catch-up"})
# Reasons that move photos in time or space: what groups and places photos runs for these.
WHEN_WHERE = READ | {"taken"}


class ChainError(LibraryError):
    """The follow-ups cannot make one chain (a cycle in their ``after``, two of one name, a
    reason not in WHY), or ``photos_changed`` was given a reason not in WHY."""


@dataclass(frozen=True)
class Change:
    """What changed: ``ids`` the photos (``None``: any photo may have; ``()``: none did, e.g.
    a catch-up that only found sidecars edited), ``why`` one of WHY; the caller's progress
    callback and cancel token, for follow-ups that take long."""

    ids: tuple[int, ...] | None
    why: str
    progress: ProgressCallback | None = None
    cancel: CancelToken | None = None

    @property
    def everything(self) -> bool:
        """Any photo may have changed (no list of ids)."""
        return self.ids is None

    @property
    def nothing(self) -> bool:
        """The change names no photo at all (an empty list of ids)."""
        return self.ids is not None and not self.ids

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.cancelled


@dataclass(frozen=True)
class FollowUp:
    """One thing to do after photos change.

    ``run(library, change)`` returns a report (any object, kept in ``ChangeReport.results``
    under ``name``) or None (nothing to report). ``after`` names follow-ups that must run
    first, ``before`` follow-ups that must run after this one (a plugin's tags before
    ``write-back``), when both are loaded: a name no loaded plugin has is ignored. ``when``:
    the reasons (of WHY) this one runs for, ``None``: every reason. A report with
    ``cancelled`` true stops the chain there."""

    name: str
    run: Callable[[Any, Change], Any]
    after: tuple[str, ...] = ()
    when: frozenset[str] | None = None
    before: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ChainError(f"a follow-up needs a name, not {self.name!r}",
                             code="changes.no_name")
        # Accept any iterable of names; keep them as the declared types.
        object.__setattr__(self, "after", tuple(self.after))
        object.__setattr__(self, "before", tuple(self.before))
        if self.when is not None:
            when = frozenset(self.when)
            unknown = sorted(when - set(WHY))
            if unknown:
                raise ChainError(
                    f"follow-up {self.name!r} runs for {unknown[0]!r}, which is not a reason "
                    f"photos change (one of {', '.join(WHY)})", code="changes.unknown_reason",
                    values={"follow_up": self.name, "why": unknown[0], "known": list(WHY)})
            object.__setattr__(self, "when", when)

    def wanted(self, why: str) -> bool:
        return self.when is None or why in self.when


@dataclass
class ChangeReport:
    """What the chain did.

    ``ran``: the follow-ups that ran to the end, in order; ``results``: the reports of those
    that had one, by name (see the table above); ``problems``: the ones that failed, by name,
    with the reason as a message (``errors`` holds the exceptions, whose ``code`` and
    ``values`` a front end can phrase); ``cancelled``: a cancel (or a follow-up that was
    cancelled) stopped the chain, and the follow-ups after it did not run."""

    change: Change
    ran: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)
    cancelled: bool = False

    def result(self, name: str) -> Any:
        """The report of follow-up ``name``, or None (it did not run, or had none)."""
        return self.results.get(name)


def order(follow_ups: Iterable[FollowUp]) -> list[FollowUp]:
    """Follow-ups in an order that keeps every ``after`` and ``before``, otherwise as
    contributed. A name that no follow-up has is ignored (that plugin is not loaded). Two
    follow-ups of one name, or a circle of dependencies, raise ChainError naming them."""
    by_name: dict[str, FollowUp] = {}
    for item in follow_ups:
        if item.name in by_name:
            raise ChainError(f"two follow-ups are named {item.name!r}; each needs its own name",
                             code="changes.duplicate", values={"follow_up": item.name})
        by_name[item.name] = item
    # Every dependency as "runs after": ``before`` is the other side's ``after``.
    deps: dict[str, list[str]] = {name: [d for d in item.after if d in by_name]
                                  for name, item in by_name.items()}
    for item in by_name.values():
        for later in item.before:
            if later in deps:
                deps[later].append(item.name)
    done: list[FollowUp] = []
    placed: set[str] = set()
    visiting: list[str] = []

    def place(item: FollowUp) -> None:
        if item.name in placed:
            return
        if item.name in visiting:
            circle = [*visiting[visiting.index(item.name):], item.name]
            raise ChainError("follow-ups wait for each other in a circle: "
                             + " -> ".join(circle) + " (each runs after the next)",
                             code="changes.cycle", values={"follow_ups": circle})
        visiting.append(item.name)
        for dep in deps[item.name]:
            place(by_name[dep])
        visiting.pop()
        placed.add(item.name)
        done.append(item)

    for item in by_name.values():
        place(item)
    return done


def chain(contributions: Iterable[tuple[str, Iterable[Any]]]
          ) -> tuple[list[FollowUp], dict[str, str]]:
    """The follow-ups that make one chain, from each plugin's contribution (``(plugin,
    follow-ups)``, the built-in features first), and why the others were left out, by
    plugin. A later follow-up of a name already given, a record that is not a FollowUp, or a
    plugin's follow-ups that close a circle with those given before them are left out:
    one plugin's mistake never stops the chain of the others, and the earlier contributor
    (the built-in features) keeps its place."""
    kept: list[FollowUp] = []
    problems: dict[str, list[str]] = {}
    for plugin, items in contributions:
        said = problems.setdefault(plugin, [])
        mine: list[FollowUp] = []
        names = {f.name for f in kept}
        for item in items:
            if not isinstance(item, FollowUp):
                said.append(f"{item!r} is not a FollowUp")
            elif item.name in names:
                said.append(f"the follow-up {item.name!r} is left out: another has its name")
            else:
                names.add(item.name)
                mine.append(item)
        # The follow-ups kept so far make one chain, so a circle runs through this plugin's:
        # leave those out until the rest is one chain again.
        while mine:
            try:
                order([*kept, *mine])
            except ChainError as exc:
                circle = set(exc.values.get("follow_ups", ())) if exc.code == "changes.cycle" \
                    else set()
                out = [f for f in mine if f.name in circle] or mine
                said.append(f"left out {', '.join(f.name for f in out)}: {exc}")
                mine = [f for f in mine if all(f is not o for o in out)]
                continue
            break
        kept += mine
    return kept, {plugin: "; ".join(why) for plugin, why in problems.items() if why}


def run_chain(library: Any, follow_ups: Iterable[FollowUp], change: Change, *,
              fatal: Callable[[BaseException], bool] = lambda exc: False) -> ChangeReport:
    """Run the follow-ups ``change.why`` wants, in order. An exception from one is recorded
    under its name and the next one runs, unless ``fatal`` says it is not that follow-up's
    fault (a full disk, a damaged library): that one goes up. A cancel (the token, or
    ``Cancelled`` from a follow-up) stops the chain between follow-ups."""
    if change.why not in WHY:
        raise ChainError(f"{change.why!r} is not a reason photos change (one of "
                         f"{', '.join(WHY)})", code="changes.unknown_reason",
                         values={"why": change.why, "known": list(WHY)})
    report = ChangeReport(change)
    for item in order(follow_ups):
        if not item.wanted(change.why):
            continue
        if change.cancelled:
            report.cancelled = True
            break
        try:
            result = item.run(library, change)
        except Cancelled:
            report.cancelled = True
            break
        except Exception as exc:
            if fatal(exc):
                raise
            report.problems[item.name] = str(exc) or type(exc).__name__
            report.errors[item.name] = exc
            continue
        report.ran.append(item.name)
        if result is not None:
            report.results[item.name] = result
            if getattr(result, "cancelled", False) is True:
                report.cancelled = True
                break
    return report

