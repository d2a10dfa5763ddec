"""One change chain: what must happen after photos change, written once.

Index, the watcher, every CLI verb and the window report a change with
``Library.photos_changed(ids, why)``; the follow-ups that plugins contribute (sidecars read,
faces named from regions, people clustered, places and albums updated, captions written for
new photos, sidecars written back) run once each, in the order their declared dependencies
give. A follow-up that fails is reported in the ``ChangeReport`` with its reason and never
stops the ones after it; a cancel stops the chain between follow-ups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback

# Why photos changed. Follow-ups choose the reasons they run for.
WHY = (
    "indexed",    # a scan read new, changed or moved files
    "watched",    # the watcher read a burst of changes
    "catch-up",   # the watcher caught up after a pause: anything may have changed
    "sidecars",   # another app wrote a sidecar beside photos
    "edited",     # a person changed metadata (rating, description, date, place, tags)
    "people",     # names or faces changed (named, merged, not-this-person)
    "captions",   # captions were written or edited
    "tags",       # tags were added or removed
    "albums",     # albums changed (their names travel in sidecars)
)


class ChainError(ValueError):
    """The follow-ups' declared dependencies cannot be ordered (a cycle)."""


@dataclass(frozen=True)
class Change:
    """What changed: ``ids`` the photos (``None``: any photo may have), ``why`` one of WHY."""

    ids: tuple[int, ...] | None
    why: str
    progress: ProgressCallback | None = None
    cancel: CancelToken | None = None

    @property
    def everything(self) -> bool:
        return self.ids is None


@dataclass(frozen=True)
class FollowUp:
    """One thing to do after photos change.

    ``run(library, change)`` returns a report (any object, kept in ``ChangeReport.results``
    under ``name``) or None. ``after`` names follow-ups that must run first when both run;
    ``when`` the reasons this one runs for (``None``: every reason)."""

    name: str
    run: Callable[[Any, Change], Any]
    after: tuple[str, ...] = ()
    when: frozenset[str] | None = None

    def wanted(self, why: str) -> bool:
        return self.when is None or why in self.when


@dataclass
class ChangeReport:
    """What the chain did: each follow-up's report by name, the ones that failed with why,
    and whether a cancel stopped it."""

    change: Change
    ran: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False

    def result(self, name: str) -> Any:
        return self.results.get(name)


def order(follow_ups: Iterable[FollowUp]) -> list[FollowUp]:
    """Follow-ups in an order that keeps every ``after``, otherwise as contributed. A name in
    ``after`` that no follow-up has is ignored (that plugin is not loaded)."""
    items = list(follow_ups)
    by_name: dict[str, FollowUp] = {}
    for item in items:
        by_name.setdefault(item.name, item)
    done: list[FollowUp] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def place(item: FollowUp, path: Sequence[str]) -> None:
        if item.name in placed:
            return
        if item.name in visiting:
            raise ChainError("follow-ups depend on each other in a circle: "
                             + " -> ".join([*path, item.name]))
        visiting.add(item.name)
        for dep in item.after:
            if dep in by_name:
                place(by_name[dep], [*path, item.name])
        visiting.discard(item.name)
        placed.add(item.name)
        done.append(item)

    for item in by_name.values():
        place(item, [])
    return done


def run_chain(library: Any, follow_ups: Iterable[FollowUp], change: Change,
              *, errors: tuple[type[BaseException], ...] = (Exception,),
              fatal: Callable[[BaseException], bool] = lambda exc: False) -> ChangeReport:
    """Run the follow-ups ``change.why`` wants, in order. An exception of ``errors`` from one
    is recorded under its name, unless ``fatal`` says it is not that follow-up's fault (a
    full disk, a damaged library): that one goes up, as does any other."""
    report = ChangeReport(change)
    for item in order(follow_ups):
        if not item.wanted(change.why):
            continue
        if change.cancel is not None and change.cancel.cancelled:
            report.cancelled = True
            break
        try:
            result = item.run(library, change)
        except errors as exc:
            if fatal(exc):
                raise
            report.problems[item.name] = str(exc) or type(exc).__name__
            continue
        report.ran.append(item.name)
        if result is not None:
            report.results[item.name] = result
            if getattr(result, "cancelled", False):
                report.cancelled = True
                break
    return report
