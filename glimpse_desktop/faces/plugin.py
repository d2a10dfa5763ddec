"""The faces feature's contributions, through the hooks of kernel/hookspecs.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glimpse_desktop.faces.filters import PERSON
from glimpse_desktop.kernel.changes import READ, Change, FollowUp
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.search.filters import SearchFilter

if TYPE_CHECKING:
    from glimpse_desktop.faces.records import PeopleUpdate


@hookimpl
def glimpse_search_filters() -> list[SearchFilter]:
    """``person:NAME``: the photos a person is in."""
    return [PERSON]


def _update_people(library: Any, change: Change) -> PeopleUpdate | None:
    # An index's catch-up may have found faces in photos it did not read: they wait to be
    # clustered even when the scan changed nothing.
    if change.nothing and change.why != "indexed":
        return None
    from glimpse_desktop.faces import store as faces_store
    from glimpse_desktop.faces.records import PeopleUpdate

    faces = 0 if change.ids is None else faces_store.count_in(library.reader(), change.ids)
    return PeopleUpdate(faces=faces, cluster=library.people.cluster())


@hookimpl
def glimpse_follow_ups() -> list[FollowUp]:
    """``people``: waiting faces join people or found new ones, after ``sidecars-read`` has
    named faces from the files' regions (new faces can then join the named people)."""
    return [FollowUp("people", _update_people, after=("sidecars-read",), when=READ)]



@hookimpl
def glimpse_stages(library: Any) -> list[Any]:
    """``faces``: faces found in each photo read, and in photos read before (faces turned
    on, a switch of face pack), when faces are on and the pack is installed."""
    stage = library.people.stage()
    return [] if stage is None else [stage]


@hookimpl
def glimpse_photos_deleted(conn: Any) -> None:
    """Unnamed people left without faces go with the photos (named ones stay: the name is
    the person's own work)."""
    from glimpse_desktop.faces import store as faces_store

    faces_store.prune_people(conn)


@hookimpl
def glimpse_model_kinds() -> list[Any]:
    """``faces``: the face packs (a detector and a recogniser) people are found with."""
    from glimpse_desktop.faces.models import load_pack
    from glimpse_desktop.kernel.registry import ModelKind

    return [ModelKind("faces", load_pack)]
