"""The trash feature's contributions, through the hooks of kernel/hookspecs.py."""

from __future__ import annotations

from typing import Any

from glimpse_desktop.kernel.changes import READ, Change, FollowUp
from glimpse_desktop.kernel.hookspecs import hookimpl


def _taken_back(library: Any, change: Change) -> Any:
    # A photo the person put back with the system's own "Put back" / "Restore" is found by
    # the scan (its bytes, at its place again) and joined to its trashed row: it leaves
    # Recently deleted at once, not at the next start. Nothing to look at while the trash
    # holds nothing (one indexed look).
    if change.nothing or not library.reader().one("SELECT EXISTS(SELECT 1 FROM trash)"):
        return None
    report = library.trash.tidy()
    return report if report.expired or report.returned else None


@hookimpl
def glimpse_follow_ups() -> list[FollowUp]:
    """``trash``: after a scan, photos in Recently deleted that are back on disk (put back
    by the system's own means) are shown again, and those past their 30 days forgotten; its
    report is a ``TidyReport`` when it did either."""
    return [FollowUp("trash", _taken_back, when=READ)]
