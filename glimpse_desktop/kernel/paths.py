"""Where a library, its caches and the models live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from glimpse_desktop import APP_NAME

LIBRARY_FILENAME = "library.glimpse.sqlite3"
ENV_LIBRARY = "GLIMPSE_LIBRARY"
ENV_CACHE = "GLIMPSE_CACHE_DIR"
ENV_MODELS = "GLIMPSE_MODEL_DIR"


@dataclass(frozen=True)
class LibraryPaths:
    """The library file, its cache folder (thumbnails, previews) and the model folder."""

    library: Path
    cache: Path
    models: Path

    @classmethod
    def resolve(cls, library: str | os.PathLike[str] | None = None) -> LibraryPaths:
        """``--library`` wins, then $GLIMPSE_LIBRARY, then the platform's user data dir.

        The default library keeps its cache in the platform's user cache dir; a library chosen
        explicitly keeps it beside itself, so a library on an external drive carries its
        thumbnails along.
        """
        chosen = library or os.environ.get(ENV_LIBRARY)
        if chosen:
            lib = Path(chosen).expanduser().absolute()
            cache = lib.parent / f"{lib.stem}.cache"
        else:
            lib = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / LIBRARY_FILENAME
            cache = Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
        if os.environ.get(ENV_CACHE):
            cache = Path(os.environ[ENV_CACHE]).expanduser().absolute()
        models = Path(os.environ.get(ENV_MODELS) or
                      Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models")
        return cls(lib, cache, models.expanduser().absolute())
