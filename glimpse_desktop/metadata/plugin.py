"""The metadata feature's contributions, through the hooks of kernel/hookspecs.py."""

from __future__ import annotations

from glimpse_desktop.kernel.hookspecs import hookimpl
from glimpse_desktop.kernel.meta import MetadataReader, PhotoMeta, PhotoSource
from glimpse_desktop.metadata.filters import FILTERS
from glimpse_desktop.search.filters import SearchFilter


@hookimpl
def glimpse_search_filters() -> list[SearchFilter]:
    """``camera:``, ``lens:``, ``type:`` and ``folder:``, read from what the files gave."""
    return list(FILTERS)


@hookimpl
def glimpse_metadata_readers() -> list[MetadataReader]:
    """EXIF, XMP, IPTC and PNG text: dates, position, camera, exposure, rating, texts."""
    return [MetadataReader("metadata", _read)]


def _read(photo: PhotoSource) -> PhotoMeta:
    # The readers (EXIF, XMP, IPTC) load with the first photo read, not with every command.
    from glimpse_desktop.metadata import extract

    return extract.read(photo)
