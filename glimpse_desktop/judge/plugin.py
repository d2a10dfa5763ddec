"""The judging feature's contributions, through the hooks of kernel/hookspecs.py."""

from __future__ import annotations

from glimpse_desktop.judge.filters import FILTERS
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.search.filters import SearchFilter


@hookimpl
def glimpse_search_filters() -> list[SearchFilter]:
    """``is:favorite``, ``is:rejected`` (``-is:rejected``), ``rating:>=4``, ``rating:0``."""
    return list(FILTERS)
