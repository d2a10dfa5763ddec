"""Street-map tiles, only when the person turned them on (``map.tiles``): each request tells
the tile server which area is being looked at, so nothing is asked while it is off.

Tiles are PNGs addressed ``{z}/{x}/{y}`` as OpenStreetMap serves them. Following its tile
usage policy (operations.osmfoundation.org/policies/tiles): a User-Agent that names the app,
a disk cache kept a week before a tile is asked for again, and no bulk download (only the
tiles of the view on screen are asked for, by the window, a few at a time).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from glimpse_desktop import __version__
from glimpse_desktop.kernel.config import Key
from glimpse_desktop.kernel.messages import CodedError

__all__ = [
    "DEFAULT_TILE_URL",
    "SETTINGS",
    "TILE_ATTRIBUTION",
    "USER_AGENT",
    "TileError",
    "TileSource",
]

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILE_ATTRIBUTION = "© OpenStreetMap contributors"
USER_AGENT = f"glimpse-desktop/{__version__} (photo manager; map view)"
# A tile is asked for again after this long (OSM's tiles change; its servers ask for a week).
FRESH_S = 7 * 24 * 3600
TIMEOUT_S = 10.0
_MAX_BYTES = 2 * 1024 * 1024

SETTINGS = (
    Key("map.tiles", "bool", False,
        "Show street maps from a tile server on the map. Each tile request tells that "
        "server which area you are looking at; off, the map draws the coasts and borders "
        "kept on this computer and asks nothing."),
    Key("map.tile_url", "url", DEFAULT_TILE_URL,
        "Where street-map tiles come from when map.tiles is on: an address with {z}, {x} "
        "and {y} in it (OpenStreetMap's by default)."),
)


class TileError(CodedError):
    """A tile address template without its {z}, {x} and {y}."""


class TileSource:
    """Tiles from one server, through a cache on disk (``cache_dir/tiles``)."""

    def __init__(self, url_template: str, cache_dir: Path) -> None:
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in url_template]
        if missing:
            raise TileError(f"the tile address {url_template!r} lacks {', '.join(missing)}",
                            code="map.tile_url", values={"url": url_template})
        self.url_template = url_template
        key = hashlib.sha256(url_template.encode()).hexdigest()[:16]
        self.cache = Path(cache_dir) / "tiles" / key

    def url(self, z: int, x: int, y: int) -> str:
        return self.url_template.replace("{z}", str(z)).replace("{x}", str(x)).replace(
            "{y}", str(y))

    def cached(self, z: int, x: int, y: int) -> bytes | None:
        """The tile from the disk cache, fresh or not; None when it was never fetched."""
        try:
            return self._path(z, x, y).read_bytes()
        except OSError:
            return None

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's PNG: from the cache while fresh, else from the server (cached then).
        None when the tile does not exist or the server cannot be reached (a stale cached
        tile is answered then: an old street map beats none)."""
        n = 1 << z
        if not (0 <= z <= 19 and 0 <= x < n and 0 <= y < n):
            return None
        path = self._path(z, x, y)
        try:
            if time.time() - path.stat().st_mtime < FRESH_S:
                return path.read_bytes()
        except OSError:
            pass
        # Here, not at the top: every command loads this module (its settings), few fetch.
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.url(z, x, y),
                                         headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
                data: bytes = answer.read(_MAX_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError):
            return self.cached(z, x, y)
        if not data or len(data) > _MAX_BYTES:
            return self.cached(z, x, y)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_suffix(f".{os.getpid()}.part")
            part.write_bytes(data)
            os.replace(part, path)
        except OSError:
            pass                       # a full or read-only cache: the tile is still shown
        return data

    def _path(self, z: int, x: int, y: int) -> Path:
        return self.cache / str(z) / str(x) / f"{y}.png"
