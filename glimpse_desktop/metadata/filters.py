"""The metadata feature's search filters: ``camera:``, ``lens:``, ``type:`` and ``folder:``,
read from the columns a photo's file gave (search.filters describes the record)."""

from __future__ import annotations

from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.search.filters import Condition, FilterContext, SearchFilter
from glimpse_desktop.search.query import QueryError

# File types a person names, to the formats Glimpse records.
TYPES = {
    "jpg": ("JPEG", "MPO"), "jpeg": ("JPEG", "MPO"), "png": ("PNG",), "heic": ("HEIF",),
    "heif": ("HEIF",), "tif": ("TIFF",), "tiff": ("TIFF",), "webp": ("WEBP",), "gif": ("GIF",),
    "bmp": ("BMP", "DIB"), "avif": ("AVIF",),
    "raw": ("DNG", "CR2", "NEF", "NRW", "ARW", "ORF", "RW2", "PEF", "RAW"), "dng": ("DNG",),
    "cr2": ("CR2",), "nef": ("NEF",), "arw": ("ARW",), "orf": ("ORF",), "rw2": ("RW2",),
}


def like(value: str) -> str:
    """``value`` anywhere in a text, for ``LIKE ? ESCAPE '\\'`` (its own % and _ taken
    literally)."""
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _camera(_context: FilterContext, value: str) -> Condition:
    return Condition("(coalesce(p.camera_make, '') || ' ' || coalesce(p.camera_model, '')) "
                     "LIKE ? ESCAPE '\\'", (like(value),))


def _lens(_context: FilterContext, value: str) -> Condition:
    return Condition("coalesce(p.lens, '') LIKE ? ESCAPE '\\'", (like(value),))


def _folder(_context: FilterContext, value: str) -> Condition:
    return Condition("p.folder LIKE ? ESCAPE '\\'", (like(value),))


def _kinds(value: str) -> tuple[str, ...]:
    kinds = TYPES.get(value.lower().lstrip("."))
    if kinds is None:
        raise QueryError(f"type:{value} is not a type Glimpse knows "
                         f"({', '.join(sorted(TYPES))})", code="search.unknown_type",
                         values={"value": value, "types": sorted(TYPES)})
    return kinds


def _checked_type(value: str) -> str:
    _kinds(value)
    return value


def _type(_context: FilterContext, value: str) -> Condition:
    kinds = _kinds(value)
    return Condition(f"p.format IN ({','.join('?' * len(kinds))})", kinds)


def _cameras(conn: Connection, limit: int) -> list[str]:
    """Cameras, the most used first."""
    return [str(r["camera"]) for r in conn.rows(
        "SELECT trim(coalesce(camera_model, camera_make)) AS camera, count(*) AS n "
        "FROM photos WHERE coalesce(camera_model, camera_make) IS NOT NULL "
        "GROUP BY camera ORDER BY n DESC LIMIT ?", (limit,)) if r["camera"]]


def _lenses(conn: Connection, limit: int) -> list[str]:
    """Lenses, the most used first."""
    return [str(r["lens"]) for r in conn.rows(
        "SELECT lens, count(*) AS n FROM photos WHERE lens IS NOT NULL AND lens != '' "
        "GROUP BY lens ORDER BY n DESC LIMIT ?", (limit,))]


FILTERS = (
    SearchFilter("camera", "a camera", _camera, values=_cameras,
                 nothing="no photo was taken with a camera called {value!r}"),
    SearchFilter("lens", "a lens", _lens, values=_lenses,
                 nothing="no photo was taken with a lens called {value!r}"),
    # type:jpg type:png: photos of either type.
    SearchFilter("type", "jpg, png, raw…", _type, check=_checked_type, repeat="any",
                 nothing="no photo is a {value} file"),
    SearchFilter("folder", "part of a folder's path", _folder,
                 nothing="no photo is in a folder called {value!r}"),
)
