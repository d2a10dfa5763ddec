"""One photo in full (``Library.photo``): its stored row, with its texts, its errors, its
place and its caption, as a ``Photo`` record."""

from __future__ import annotations

from collections.abc import Callable

from glimpse_desktop.api.records import (
    Camera,
    CompanionFile,
    Exposure,
    Gps,
    Photo,
    PhotoError,
    TextEntry,
)
from glimpse_desktop.captions.records import Caption
from glimpse_desktop.kernel import pairs, photos
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.thumbnails import ThumbnailCache
from glimpse_desktop.places.records import Place


def read_photo(conn: Connection, ref: str | int, *, thumbnails: ThumbnailCache,
               place_of: Callable[[int], Place | None],
               caption_of: Callable[[int], Caption | None]) -> Photo | None:
    """The photo ``ref`` (an id, or a path), None if the library has no such photo."""
    row = photos.get_photo(conn, ref)
    if row is None:
        return None
    photo_id = int(row["id"])
    gps = None
    if row["gps_lat"] is not None and row["gps_lon"] is not None:
        gps = Gps(lat=row["gps_lat"], lon=row["gps_lon"], alt=row["gps_alt"])
    thumb = thumbnails.path_for(row["content_hash"], "grid")
    return Photo(
        id=photo_id, path=row["path"], status=row["status"], taken_at=row["taken_at"],
        taken_at_source=row["taken_at_source"], gps=gps, gps_source=row.get("gps_source"),
        camera=Camera(make=row["camera_make"], model=row["camera_model"]), lens=row["lens"],
        exposure=Exposure(time=row["exposure_time"], f_number=row["f_number"], iso=row["iso"],
                          focal_length=row["focal_length"]),
        width=row["width"], height=row["height"], orientation=row["orientation"],
        format=row["format"], mime=row["mime"], size=row["size"], modified_ns=row["mtime_ns"],
        content_hash=row["content_hash"], rating=row["rating"], place=place_of(photo_id),
        caption=caption_of(photo_id),
        texts=tuple(TextEntry(*t) for t in photos.photo_texts(conn, photo_id)),
        errors=tuple(PhotoError(*e) for e in photos.errors_of_photo(conn, photo_id,
                                                                    row["path"])),
        thumbnail=str(thumb) if thumb.is_file() else None,
        added_at=row["added_at"], updated_at=row["updated_at"],
        companions=tuple(CompanionFile(id=int(c["id"]), path=str(c["path"]), format=c["format"],
                                       size=int(c["size"]), status=c["status"],
                                       content_hash=str(c["content_hash"]))
                         for c in pairs.companions(conn, photo_id)),
        companion_of=row["companion_of"],
        damaged=bool(int(row["flags"] or 0) & photos.FLAG_DAMAGED),
        favorite=bool(int(row["flags"] or 0) & photos.FLAG_FAVORITE),
        rejected=bool(int(row["flags"] or 0) & photos.FLAG_REJECTED)
        or int(row["rating"] or 0) < 0,   # a file rated -1: Lightroom's reject
        rating_source=row.get("rating_source"), rotation=int(row.get("rotation") or 0) % 4)
