"""The writeback feature's contributions, through the hooks of kernel/hookspecs.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from glimpse_desktop.kernel.actions import PhotoAction
from glimpse_desktop.kernel.changes import READ, WHY, Change, FollowUp
from glimpse_desktop.kernel.config import Key
from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback
from glimpse_desktop.writeback.records import SidecarsRead, WriteBackReport

__all__ = ["SidecarsRead"]


def _read_sidecars(library: Any, change: Change) -> SidecarsRead | None:
    # A scan's change reaches past its own photos: sidecars may have been edited beside
    # unchanged photos meanwhile, and an index's catch-up finds faces in photos read before,
    # which named regions then name. Elsewhere only the photos named are read.
    ids = None if change.why in ("indexed", "catch-up") else change.ids
    if ids is not None and not ids:
        return None
    read: SidecarsRead = library.writeback.read_sidecars(ids, progress=change.progress,
                                                         cancel=change.cancel)
    if read.cancelled:
        return read
    # Faces are found by now (the scan's stages, the catch-up): regions give them names,
    # before people are clustered, so other faces can join the named ones.
    named = library.writeback.apply_regions(ids)
    return dataclasses.replace(read, named=int(named))


def _write_back(library: Any, change: Change) -> WriteBackReport | None:
    # An index writes what changed anywhere (faces found and named in photos read before
    # join named people); the other reasons name the photos they changed (None: any).
    ids = None if change.why == "indexed" else change.ids
    report: WriteBackReport | None = library.writeback.sync(ids, progress=change.progress,
                                                            cancel=change.cancel)
    return report


@hookimpl
def glimpse_follow_ups() -> list[FollowUp]:
    """``sidecars-read`` (first: what other apps wrote is the photos' own word before
    anything groups, tags or titles them) and ``write-back`` (last, with writeback.sync on:
    after everything that changes what it writes; a sidecar another app just wrote is read,
    not answered with a write)."""
    return [
        FollowUp("sidecars-read", _read_sidecars, when=READ | {"sidecars"}),
        FollowUp("write-back", _write_back,
                 after=("sidecars-read", "people", "tags", "places", "albums", "captions"),
                 when=frozenset(WHY) - {"sidecars"}),
    ]



def _targets_on(library: Any) -> bool:
    return bool(library.config.get("writeback.sidecar") or library.config.get("writeback.embed"))


def _write_now(library: Any, photo_ids: Sequence[int], progress: ProgressCallback,
               cancel: CancelToken) -> str:
    """The selected photos' metadata written now to the targets the settings name, whether
    or not sync is on (a person asked for it)."""
    report: WriteBackReport = library.writeback.run(
        sidecar=bool(library.config.get("writeback.sidecar")),
        embed=bool(library.config.get("writeback.embed")), photo_ids=list(photo_ids),
        progress=progress, cancel=cancel)
    if report.cancelled:
        return f"Writing metadata stopped: {report.written:,} written"
    text = f"Wrote {report.written:,} file{'s' if report.written != 1 else ''}"
    if report.unchanged:
        text += f" · {report.unchanged:,} up to date"
    if report.failed:
        text += f" · {report.failed:,} failed"
        if report.errors:
            first = report.errors[0]
            text += f": {first.path}: {first.reason}"
    return text + "."


@hookimpl
def glimpse_photo_actions() -> list[PhotoAction]:
    """"Write metadata to files now" for the selected photos, where a target (sidecars or
    the JPEGs themselves) is on in the settings."""
    return [PhotoAction(id="writeback.write_now", label="Write metadata to files now",
                        run=_write_now, enabled=_targets_on)]


@hookimpl
def glimpse_settings() -> list[Key]:
    """Write-back's settings (writeback.*): sidecars, embedding, keeping files in step."""
    return [
        Key("writeback.sync", "bool", False,
            "Keep your photos' metadata in step: names, captions, tags and ratings are written "
            "whenever they change."),
        Key("writeback.sidecar", "bool", True,
            "Write XMP sidecars beside the photos (photo.jpg.xmp), read by digiKam, darktable and "
            "Lightroom. The photo files themselves are not changed."),
        Key("writeback.embed", "bool", False,
            "Also write into the JPEG files themselves (description, keywords and XMP); the "
            "pixels and other metadata are kept byte for byte."),
    ]
