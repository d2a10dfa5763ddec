"""Glimpse's public API: what the CLI, the window, the web app and plugins build on (no Qt).

The ``Library`` facade and the records it returns (frozen dataclasses), the records plugins
return from their hooks (``Stage``, ``FollowUp``, ``SearchFilter``, ``PhotoAction``,
``PluginMigration``, ``MetadataReader``, ``ModelKind``), and the errors it raises. Names here
are the contract: ``API_VERSION`` grows its minor number when something is added and its
major number when something a caller relies on changes. Modules below ``glimpse_desktop.api``
(the kernel, the features) may change between any two releases.
"""

from glimpse_desktop.api.library import Library, LibraryError, LibraryPaths
from glimpse_desktop.api.plugins import PluginInfo, load_plugins
from glimpse_desktop.faces.people import PeopleError
from glimpse_desktop.kernel.actions import PhotoAction
from glimpse_desktop.kernel.changes import WHY, ChangeReport
from glimpse_desktop.kernel.meta import MetadataReader, PhotoMeta, PhotoSource, TextItem
from glimpse_desktop.kernel.migrations import PluginMigration
from glimpse_desktop.kernel.registry import ModelFiles, ModelKind
from glimpse_desktop.kernel.stages import (
    BacklogPhoto,
    CatchUpReport,
    Stage,
    StageBase,
    StageReport,
    owed,
    owed_count,
)
from glimpse_desktop.search.filters import Condition, FilterContext, SearchFilter, filter_keys
from glimpse_desktop.search.query import QueryError

API_VERSION = (1, 0)

__all__ = ["API_VERSION", "WHY", "BacklogPhoto", "CatchUpReport", "ChangeReport", "Condition",
           "FilterContext", "Library", "LibraryError",
           "LibraryPaths", "PeopleError", "PhotoAction", "PluginInfo", "PluginMigration",
           "QueryError", "SearchFilter", "Stage", "StageBase", "StageReport", "filter_keys",
           "load_plugins", "owed", "owed_count"]
# Metadata readers and model kinds (hooks glimpse_metadata_readers, glimpse_model_kinds).
__all__ += ["MetadataReader", "ModelFiles", "ModelKind", "PhotoMeta", "PhotoSource", "TextItem"]
