"""The search feature's contributions, through the hooks of kernel/hookspecs.py."""

from __future__ import annotations

from typing import Any

from glimpse_desktop.kernel.changes import READ, Change, FollowUp
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.search.filters import SearchFilter
from glimpse_desktop.search.query import AFTER, BEFORE, TAG
from glimpse_desktop.search.tags import TagReport, tag_new


@hookimpl
def glimpse_search_filters() -> list[SearchFilter]:
    """``after:`` and ``before:`` (dates, by the camera's clock) and ``tag:`` (tags and
    keywords)."""
    return [AFTER, BEFORE, TAG]


def _tag_new(library: Any, change: Change) -> TagReport | None:
    # Incremental by the vectors' change sequence: photos embedded since the last pass, by
    # the scan or an index's catch-up, whichever photos the change names. Without the
    # search model installed there is nothing to tag with.
    if library.models.installed(library.semantic.target()) is None:
        return None
    return tag_new(library, progress=change.progress, cancel=change.cancel)


@hookimpl
def glimpse_follow_ups() -> list[FollowUp]:
    """``tags``: newly embedded photos get the tag lists the person asked to remember, after
    ``sidecars-read`` (the files' own keywords come first)."""
    return [FollowUp("tags", _tag_new, after=("sidecars-read",), when=READ)]



@hookimpl
def glimpse_stages(library: Any) -> list[Any]:
    """``clip``: image embeddings for search, of each photo read and of photos read before
    the model was installed or chosen, when the chosen model is installed."""
    stage = library.semantic.stage()
    return [] if stage is None else [stage]


@hookimpl
def glimpse_model_kinds() -> list[Any]:
    """``clip``: the CLIP models search embeds photos and queries with."""
    from glimpse_desktop.kernel.registry import ModelKind
    from glimpse_desktop.search.clip import load_installed
    from glimpse_desktop.search.export import install_model, precheck

    # Converted to ONNX once, when added or downloaded: indexing and search never need torch.
    return [ModelKind("clip", load_installed, install=install_model, precheck=precheck)]
