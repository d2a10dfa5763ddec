"""Glimpse's public API: what the CLI, the window, the web app and plugins build on (no Qt).

The ``Library`` facade and the records it returns (frozen dataclasses), the records plugins
return from their hooks (``Stage``, ``FollowUp``, ``SearchFilter``, ``PhotoAction``,
``PluginMigration``, ``MetadataReader``, ``ModelKind``), and the errors it raises. Names here
are the contract: ``API_VERSION`` grows its minor number when something is added and its
major number when something a caller relies on changes. Modules below ``glimpse_desktop.api``
(the kernel, the features) may change between any two releases.
"""

from glimpse_desktop.albums.auto import AutoAlbumReport
from glimpse_desktop.albums.records import (
    Album,
    AlbumAdded,
    AlbumCover,
    AlbumDeleted,
    AlbumDetail,
    AlbumOrder,
    AlbumPhoto,
    AlbumRemoved,
    AlbumRenamed,
    AutoAlbum,
    Home,
    Memory,
)
from glimpse_desktop.api.library import Library, LibraryError, LibraryPaths
from glimpse_desktop.api.plugins import PluginInfo, load_plugins
from glimpse_desktop.api.records import (
    ERROR_STAGES,
    WARNING_STAGES,
    Camera,
    Doctor,
    Exposure,
    FacesFacts,
    FileError,
    Folder,
    Gps,
    LibraryStatus,
    MissingPhoto,
    ModelsFolder,
    Photo,
    PhotoError,
    PhotoRow,
    PhotoStatus,
    Root,
    RootAdded,
    RootStatus,
    SearchFacts,
    TextEntry,
    TextHit,
    json_default,
)
from glimpse_desktop.api.roots import AlreadyInLibraryError
from glimpse_desktop.captions.records import Caption, Consent, Destination, Estimate
from glimpse_desktop.faces.people import PeopleError
from glimpse_desktop.faces.records import (
    ClusterReport,
    CoverSet,
    Face,
    FaceAssigned,
    FaceNamed,
    Merged,
    PeopleStatus,
    PeopleUpdate,
    Person,
    PersonDeleted,
    PersonDetail,
    PersonHidden,
    PersonPhoto,
    PersonRef,
    PhotoFace,
    Rejected,
    Rejection,
    Renamed,
    SplitResult,
    Tagged,
)
from glimpse_desktop.kernel.actions import PhotoAction
from glimpse_desktop.kernel.changes import WHY, ChangeReport
from glimpse_desktop.kernel.config import Key, Setting
from glimpse_desktop.kernel.devices import (
    DeviceChoice,
    DeviceReport,
    OnnxDevices,
    TorchDevices,
)
from glimpse_desktop.kernel.meta import MetadataReader, PhotoMeta, PhotoSource, TextItem
from glimpse_desktop.kernel.migrations import PluginMigration
from glimpse_desktop.kernel.registry import FacePackInfo, ModelFiles, ModelInfo, ModelKind
from glimpse_desktop.kernel.stages import (
    BacklogPhoto,
    CatchUpReport,
    Stage,
    StageBase,
    StageReport,
    owed,
    owed_count,
)
from glimpse_desktop.places.records import (
    Place,
    PlaceCity,
    PlaceCountry,
    PlaceRegion,
    PlacesStatus,
)
from glimpse_desktop.search.engine import (
    FILTER_MATCHES_NOTHING,
    FILTERS_EXCLUDE_EACH_OTHER,
    MODEL_FAILED,
    MODEL_NOT_INSTALLED,
    NOT_EMBEDDED_YET,
    NOTHING_EMBEDDED,
    SWITCHING_MODEL,
    Hit,
    SearchResult,
)
from glimpse_desktop.search.filters import Condition, FilterContext, SearchFilter, filter_keys
from glimpse_desktop.search.query import QueryError
from glimpse_desktop.search.semantic import SearchStatus
from glimpse_desktop.writeback.records import (
    CaptionPayload,
    FileProblem,
    Payload,
    PlanItem,
    RegionPayload,
    SidecarsRead,
    WriteBackReport,
)

API_VERSION = (1, 0)

__all__ = [
           "API_VERSION", "ERROR_STAGES", "FILTERS_EXCLUDE_EACH_OTHER",
           "FILTER_MATCHES_NOTHING", "MODEL_FAILED", "MODEL_NOT_INSTALLED",
           "NOTHING_EMBEDDED", "NOT_EMBEDDED_YET", "SWITCHING_MODEL", "WARNING_STAGES",
           "WHY", "Album", "AlbumAdded", "AlbumCover", "AlbumDeleted", "AlbumDetail",
           "AlbumOrder", "AlbumPhoto", "AlbumRemoved", "AlbumRenamed",
           "AlreadyInLibraryError", "AutoAlbum", "AutoAlbumReport", "BacklogPhoto",
           "Camera", "Caption", "CaptionPayload", "CatchUpReport", "ChangeReport",
           "ClusterReport", "Condition", "Consent", "CoverSet", "Destination",
           "DeviceChoice", "DeviceReport", "Doctor", "Estimate", "Exposure", "Face",
           "FaceAssigned", "FaceNamed", "FacePackInfo", "FacesFacts", "FileError",
           "FileProblem", "FilterContext", "Folder", "Gps", "Hit", "Home", "Key", "Library",
           "LibraryError", "LibraryPaths", "LibraryStatus", "Memory", "Merged",
           "MetadataReader", "MissingPhoto", "ModelFiles", "ModelInfo", "ModelKind",
           "ModelsFolder", "OnnxDevices", "Payload", "PeopleError", "PeopleStatus",
           "PeopleUpdate", "Person", "PersonDeleted", "PersonDetail", "PersonHidden",
           "PersonPhoto", "PersonRef", "Photo", "PhotoAction", "PhotoError",
           "PhotoFace", "PhotoMeta", "PhotoRow", "PhotoSource", "PhotoStatus", "Place",
           "PlaceCity", "PlaceCountry", "PlaceRegion", "PlacesStatus", "PlanItem",
           "PluginInfo", "PluginMigration", "QueryError", "RegionPayload", "Rejected",
           "Rejection", "Renamed", "Root", "RootAdded", "RootStatus", "SearchFacts",
           "SearchFilter", "SearchResult", "SearchStatus", "Setting", "SidecarsRead",
           "SplitResult", "Stage", "StageBase", "StageReport", "Tagged", "TextEntry",
           "TextHit", "TextItem", "TorchDevices", "WriteBackReport", "filter_keys",
           "json_default", "load_plugins", "owed", "owed_count",
]
