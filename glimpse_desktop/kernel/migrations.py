"""Numbered schema migrations.

Each migration runs in one transaction together with its version record, so a library is
always at exactly one version. The file is copied (``VACUUM INTO``) before the first pending
migration runs, and a library written by a newer Glimpse is refused, never "downgraded".
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from glimpse_desktop.kernel.db import (
    APPLICATION_ID,
    Connection,
    LibraryError,
    NotALibraryError,
    StorageError,
    now_iso,
)

__all__ = ["LATEST_VERSION", "MIGRATIONS", "LibraryTooNewError", "Migration", "NotALibraryError",
           "PluginMigration", "PluginMigrationReport", "current_version", "migrate",
           "migrate_plugins", "plugin_versions"]


class LibraryTooNewError(LibraryError):
    """The library's schema is newer than this version of Glimpse understands."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    # Why the migration exists, for whoever reads the history.
    why: str
    apply: Callable[[Connection], None]


def _sql(script: str) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        conn.execute(script)

    return run


_V1 = """
CREATE TABLE settings(
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A volume is the mounted file system a root lives on: when it is absent, its roots are
-- offline and their photos are kept, not deleted.
CREATE TABLE volumes(
    id          INTEGER PRIMARY KEY,
    mount_point TEXT NOT NULL UNIQUE,
    device      INTEGER,
    first_seen  TEXT NOT NULL
);

CREATE TABLE roots(
    id           INTEGER PRIMARY KEY,
    path         TEXT NOT NULL UNIQUE,
    volume_id    INTEGER REFERENCES volumes(id) ON DELETE SET NULL,
    status       TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'online', 'offline')),
    added_at     TEXT NOT NULL,
    last_scan_at TEXT
);

CREATE TABLE photos(
    id              INTEGER PRIMARY KEY,
    root_id         INTEGER REFERENCES roots(id) ON DELETE CASCADE,
    path            TEXT NOT NULL UNIQUE,
    folder          TEXT NOT NULL,
    filename        TEXT NOT NULL,
    size            INTEGER NOT NULL,
    mtime_ns        INTEGER NOT NULL,
    content_hash    TEXT NOT NULL,
    -- ok: on disk and read; missing: gone from a present root; offline: its root's drive is
    -- absent; unsupported: a file we recognise but cannot show (a RAW with no preview).
    status          TEXT NOT NULL DEFAULT 'ok'
                    CHECK (status IN ('ok', 'missing', 'offline', 'unsupported')),
    missing_since   TEXT,
    format          TEXT,
    mime            TEXT,
    width           INTEGER,
    height          INTEGER,
    orientation     INTEGER,
    -- Wall-clock time as the camera recorded it, ISO 8601, with the offset when known.
    taken_at        TEXT,
    taken_at_offset INTEGER,          -- minutes east of UTC, NULL when unknown
    taken_ts        REAL,             -- seconds since the epoch, for ordering (local time
                                      -- treated as UTC when the offset is unknown)
    taken_at_source TEXT,
    gps_lat         REAL,
    gps_lon         REAL,
    gps_alt         REAL,
    camera_make     TEXT,
    camera_model    TEXT,
    lens            TEXT,
    exposure_time   REAL,
    f_number        REAL,
    iso             INTEGER,
    focal_length    REAL,
    rating          INTEGER,
    flags           INTEGER NOT NULL DEFAULT 0,
    has_thumb       INTEGER NOT NULL DEFAULT 0,
    added_at        TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX photos_by_time ON photos(taken_ts DESC, id DESC);
CREATE INDEX photos_by_root ON photos(root_id, status);
CREATE INDEX photos_by_hash ON photos(content_hash);
CREATE INDEX photos_by_folder ON photos(folder);

-- Text found in or written about a photo. `field` names the FTS column it feeds; later
-- features (captions, tags, OCR, places, people) add rows here with their own `source`.
CREATE TABLE photo_text(
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    field    TEXT NOT NULL,
    source   TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (photo_id, field, source)
) WITHOUT ROWID;

-- rowid = photos.id. Kept in step by library/fts.py whenever photo_text or a path changes.
CREATE VIRTUAL TABLE photos_fts USING fts5(
    filename, folder, description, keywords, prompt, caption, tags, ocr, places, people,
    tokenize = "unicode61 remove_diacritics 2",
    prefix = '2 3'
);

-- One row per file (and stage) that could not be handled, with the reason. Keyed by path so a
-- bad file that has not changed is not retried on every rescan.
CREATE TABLE errors(
    id       INTEGER PRIMARY KEY,
    path     TEXT NOT NULL,
    stage    TEXT NOT NULL,
    root_id  INTEGER REFERENCES roots(id) ON DELETE CASCADE,
    photo_id INTEGER REFERENCES photos(id) ON DELETE CASCADE,
    reason   TEXT NOT NULL,
    size     INTEGER,
    mtime_ns INTEGER,
    at       TEXT NOT NULL,
    UNIQUE (path, stage)
);
CREATE INDEX errors_by_photo ON errors(photo_id);
CREATE INDEX errors_by_root ON errors(root_id);

-- Embedding spaces: one vec0 table per (model id), created on demand by library/vectors.py,
-- because vec0 tables have a fixed dimension and models differ in theirs.
CREATE TABLE embedding_spaces(
    model_id   TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('image', 'face')),
    dim        INTEGER NOT NULL CHECK (dim > 0),
    table_name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
"""

_V2 = """
-- Which photo has an embedding in which model's space, and of which content: a changed file
-- (new hash) is embedded again; a model switch finds what is left to do with one join.
CREATE TABLE photo_embeddings(
    photo_id     INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    model_id     TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    PRIMARY KEY (photo_id, model_id)
) WITHOUT ROWID;
CREATE INDEX photo_embeddings_by_model ON photo_embeddings(model_id);

-- Every change to photo_embeddings, in order. The approximate-nearest-neighbour index (a cache
-- file beside the library) remembers the last seq it has seen and catches up from here, so
-- it survives restarts, other processes and deleted photos without a rebuild.
CREATE TABLE embedding_log(
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id TEXT NOT NULL,
    photo_id INTEGER NOT NULL
);
CREATE INDEX embedding_log_by_model ON embedding_log(model_id, seq);
CREATE TRIGGER photo_embeddings_ins AFTER INSERT ON photo_embeddings BEGIN
    INSERT INTO embedding_log(model_id, photo_id) VALUES (new.model_id, new.photo_id);
END;
CREATE TRIGGER photo_embeddings_upd AFTER UPDATE ON photo_embeddings BEGIN
    INSERT INTO embedding_log(model_id, photo_id) VALUES (new.model_id, new.photo_id);
END;
-- Also fires for rows removed by ON DELETE CASCADE when a photo is forgotten.
CREATE TRIGGER photo_embeddings_del AFTER DELETE ON photo_embeddings BEGIN
    INSERT INTO embedding_log(model_id, photo_id) VALUES (old.model_id, old.photo_id);
END;

-- Tags: zero-shot CLIP tags (source 'clip:<model>') and, later, tags from other sources.
CREATE TABLE photo_tags(
    photo_id   INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,          -- lower case
    source     TEXT NOT NULL,
    confidence REAL,
    vocabulary TEXT,
    PRIMARY KEY (photo_id, tag, source)
) WITHOUT ROWID;
CREATE INDEX photo_tags_by_tag ON photo_tags(tag);
"""

_V3 = """
-- People: groups of faces. A name makes a person an anchor (clustering never moves its faces);
-- hidden people stay out of the People view; the cover is the face the person chose.
-- AUTOINCREMENT: an id the CLI printed never comes to mean someone else.
CREATE TABLE people(
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT,
    hidden        INTEGER NOT NULL DEFAULT 0,
    cover_face_id INTEGER,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX people_by_name ON people(name COLLATE NOCASE) WHERE name IS NOT NULL;

-- One row per face a face pack found. Geometry is in fractions of the upright image. `assigned`
-- says who put the face in its person: 'auto' (clustering may move it) or 'user' (only the
-- person's own action moves it); NULL person: waiting for enough similar faces.
CREATE TABLE faces(
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    photo_id     INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    model_id     TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
    landmarks    TEXT NOT NULL,        -- JSON: x0, y0, ... x4, y4 (fractions)
    score        REAL NOT NULL,
    size_px      INTEGER NOT NULL,
    sharpness    REAL NOT NULL,
    yaw          REAL NOT NULL,
    seeds        INTEGER NOT NULL,     -- good enough to found a person or be evidence for one
    person_id    INTEGER REFERENCES people(id) ON DELETE SET NULL,
    assigned     TEXT CHECK (assigned IN ('auto', 'user')),
    -- 1 once a clustering pass has looked at the face while it waited; a face that starts
    -- waiting again (rejected, its person removed) is looked at again.
    swept        INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);
CREATE TRIGGER faces_waiting_again AFTER UPDATE OF person_id ON faces
WHEN new.person_id IS NULL AND old.person_id IS NOT NULL BEGIN
    -- Whatever took it out (a rejection, its person forgotten), it is nobody's now: clustering
    -- may place it again.
    UPDATE faces SET swept = 0, assigned = NULL WHERE id = new.id;
END;
CREATE INDEX faces_by_photo ON faces(photo_id);
CREATE INDEX faces_by_person ON faces(person_id);
CREATE INDEX faces_by_model ON faces(model_id, person_id);

-- "Not this person": a face never goes back to a person it was taken out of. `kind` 'user'
-- is the person's own "not this person"; 'split' is implied by a split (the faces moved are not
-- the old person, the faces left are not the new one), which merging the two back undoes.
CREATE TABLE face_rejections(
    face_id   INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'split')),
    PRIMARY KEY (face_id, person_id)
) WITHOUT ROWID;

-- "Not this person" is also kept face to face: the rejected face and the faces the person had
-- when it was said (up to 500). Person ids of unnamed groups can change in a re-cluster; these
-- pairs cannot, so no pass can ever put the face back with those faces under any id.
CREATE TABLE face_apart(
    face_id  INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    other_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'split')),
    PRIMARY KEY (face_id, other_id)
) WITHOUT ROWID;
CREATE INDEX face_apart_by_other ON face_apart(other_id);

-- Which photos a face pack has looked at (and found how many faces in), of which content: a
-- changed file or a new pack is looked at again; a photo without faces is not.
CREATE TABLE photo_faces(
    photo_id     INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    model_id     TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    faces        INTEGER NOT NULL,
    PRIMARY KEY (photo_id, model_id)
) WITHOUT ROWID;
"""

_V4 = """
-- Places: where each photo was taken, in words, from offline reverse geocoding (GeoNames'
-- places of 1,000+ people). source 'gps': from the photo's own coordinates; 'inferred': the
-- photo has none, and took the place of `from_photo`, taken minutes apart with the same camera.
-- `lat`/`lon` are the coordinates the place was looked up from (the photo's, or from_photo's).
CREATE TABLE photo_places(
    photo_id     INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    source       TEXT NOT NULL CHECK (source IN ('gps', 'inferred')),
    from_photo   INTEGER REFERENCES photos(id) ON DELETE SET NULL,
    lat          REAL NOT NULL,
    lon          REAL NOT NULL,
    city         TEXT,
    region       TEXT,
    country      TEXT,
    country_code TEXT,
    distance_km  REAL,              -- from the coordinates to the place chosen
    updated_at   TEXT NOT NULL
);
CREATE INDEX photo_places_by_country ON photo_places(country, region, city);
CREATE INDEX photo_places_by_city ON photo_places(city);

-- Albums. kind: 'manual' (made by the person), 'smart' (a saved search, `query`), 'event' and
-- 'trip' (made by Glimpse from dates and places). An automatic album is found again on a rebuild
-- by `auto_key`; once the person edits it (`edited` = 1: renamed, photos removed or added) a
-- rebuild never changes its title or membership again. `removed` = 1: the person deleted an
-- automatic album; it stays as a tombstone so that a rebuild does not bring it back.
CREATE TABLE albums(
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('manual', 'smart', 'event', 'trip')),
    title       TEXT NOT NULL,
    query       TEXT,
    auto_key    TEXT UNIQUE,
    edited      INTEGER NOT NULL DEFAULT 0,
    removed     INTEGER NOT NULL DEFAULT 0,
    start_ts    REAL,
    end_ts      REAL,
    cover_photo INTEGER REFERENCES photos(id) ON DELETE SET NULL,
    position    INTEGER,
    details     TEXT,                -- JSON: places visited, reasons for the title
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX albums_by_kind ON albums(kind, start_ts);

-- Members of manual and automatic albums (a smart album's members are its query's results).
-- position orders a manual album as the person arranged it. removed = 1: the person took the
-- photo out of an automatic album; a rebuild does not put it back.
CREATE TABLE album_photos(
    album_id INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    added_by TEXT NOT NULL DEFAULT 'user' CHECK (added_by IN ('user', 'auto')),
    removed  INTEGER NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL,
    PRIMARY KEY (album_id, photo_id)
) WITHOUT ROWID;
CREATE INDEX album_photos_by_photo ON album_photos(photo_id);
"""

_V5 = """
-- Captions: what a vision model (or the person) wrote about a photo. One current caption per
-- photo. source 'model': a reply from the captioning service; 'user': written or edited by the
-- person (a later captioning run never replaces it); 'xmp': read back from a sidecar or the
-- file's own XMP. `data` holds the structured fields (JSON) when the reply was JSON.
CREATE TABLE captions(
    photo_id     INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    content_hash TEXT NOT NULL,      -- the file the caption describes
    source       TEXT NOT NULL CHECK (source IN ('model', 'user', 'xmp')),
    model        TEXT,
    prompt_sha   TEXT,
    summary      TEXT NOT NULL,
    data         TEXT,
    updated_at   TEXT NOT NULL
);

-- Replies already paid for, keyed by what was asked: the same file, prompt and model are never
-- sent twice (a rename, a lost library row or a second library on the same photos included).
CREATE TABLE caption_cache(
    content_hash TEXT NOT NULL,
    model        TEXT NOT NULL,
    prompt_sha   TEXT NOT NULL,
    reply        TEXT NOT NULL,      -- the model's text as received
    is_json      INTEGER NOT NULL,
    tokens_in    INTEGER,
    tokens_out   INTEGER,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (content_hash, model, prompt_sha)
) WITHOUT ROWID;

-- Questions being asked right now, and by whom (a process's owner token): two Glimpses on one
-- library (the app and the CLI's watcher) never pay for the same reply. A claim older than a
-- quarter of an hour is from a process that stopped, and is taken over.
CREATE TABLE caption_claims(
    content_hash TEXT NOT NULL,
    model        TEXT NOT NULL,
    prompt_sha   TEXT NOT NULL,
    owner        TEXT NOT NULL,
    claimed_at   REAL NOT NULL,
    PRIMARY KEY (content_hash, model, prompt_sha)
) WITHOUT ROWID;

-- Write-back: what was last written for a photo, and where. `digest` hashes the metadata
-- written, so keeping files in sync rewrites only photos whose names, captions, tags or rating
-- changed since. `written` (JSON) is what of the file Glimpse itself wrote (description,
-- keywords, hierarchical keywords, regions, rating, caption; for 'embed' also the EXIF texts):
-- the next write replaces only those, keeping another app's items, and reading the file back
-- skips them (our own words are not news from another app).
CREATE TABLE writeback(
    photo_id   INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    target     TEXT NOT NULL CHECK (target IN ('sidecar', 'embed')),
    path       TEXT NOT NULL,
    digest     TEXT NOT NULL,
    written    TEXT,
    written_at TEXT NOT NULL,
    PRIMARY KEY (photo_id, target)
) WITHOUT ROWID;

-- XMP sidecars (photo.jpg.xmp or photo.xmp, ours or another app's) seen by indexing: a sidecar
-- is read again only when its size or mtime changed. kind 'embedded': `path` is the photo
-- itself, whose embedded XMP (face regions) was read at that size and mtime.
CREATE TABLE sidecars(
    path      TEXT PRIMARY KEY,
    photo_id  INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL DEFAULT 'sidecar' CHECK (kind IN ('sidecar', 'embedded')),
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL,
    read_at   TEXT NOT NULL
);
CREATE INDEX sidecars_by_photo ON sidecars(photo_id);

-- Named face regions from XMP (MWG regions, from a sidecar or embedded), in fractions of the
-- upright image (top-left corner and size). They wait here until a detected face overlaps one;
-- that face then goes to the named person (never one it was said not to be). `face_id` is the
-- face it was matched to; reading the file again keeps the rows (and links) of regions that did
-- not change.
CREATE TABLE xmp_regions(
    id       INTEGER PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    source   TEXT NOT NULL,          -- 'sidecar' or 'embedded'
    name     TEXT NOT NULL,
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
    face_id  INTEGER REFERENCES faces(id) ON DELETE SET NULL
);
CREATE INDEX xmp_regions_by_photo ON xmp_regions(photo_id);
"""

_V6 = """
-- Plugins keep their own tables (glimpse_migrations hook), each plugin's schema versioned on its
-- own: the version of each plugin's tables this library holds.
CREATE TABLE plugin_schema(
    plugin     TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    applied_at TEXT NOT NULL
) WITHOUT ROWID;
"""

_V7 = """
-- RAW+JPEG pairs (kernel/pairs.py): a RAW shot together with a JPEG or HEIC of the same name is
-- kept as a companion file of the photo shown (the JPEG), not as a photo of its own. Its row
-- stays (path, hash, moves); `companion_of` names the photo it belongs to. ON DELETE SET NULL:
-- a forgotten JPEG leaves its RAW a photo again.
ALTER TABLE photos ADD COLUMN companion_of INTEGER REFERENCES photos(id) ON DELETE SET NULL;
CREATE INDEX photos_by_companion ON photos(companion_of) WHERE companion_of IS NOT NULL;
-- A file's partners are found by folder and name, whatever the case of the name.
CREATE INDEX photos_by_name ON photos(folder, filename COLLATE NOCASE);
"""

def _v7(conn: Connection) -> None:
    """The column and indexes, then the pairs a library already holds: files that are not
    read again (unchanged) would otherwise never pair."""
    conn.execute(_V7)
    from glimpse_desktop.kernel import pairs

    keys: dict[tuple[str, str], set[str]] = {}
    for folder, filename in conn.execute("SELECT folder, filename FROM photos"):
        name = str(filename)
        if pairs.pairable(name):
            key = pairs.key_of(os.path.join(str(folder), name))
            keys.setdefault(key, set()).add("raw" if pairs.is_raw(name) else "shown")
    pairs.settle(conn, [k for k, kinds in keys.items() if len(kinds) == 2])


_V8 = """
-- Dates and places a person set: taken_at_source 'manual' marks a date (no new column), and
-- gps_source 'manual' a position (NULL: from the file). A manual value survives the file being
-- read again; a manual position with NULL coordinates is a place the person cleared.
ALTER TABLE photos ADD COLUMN gps_source TEXT;
"""

_V9 = """
-- Keeping and judging (issue 19): favourite and rejected are photos.flags bits
-- (kernel/photos.py FLAG_FAVORITE, FLAG_REJECTED), the stars stay in `rating`; `rating_source`
-- 'manual' marks stars the person gave (NULL: the file's own xmp:Rating), kept when the file
-- is read again. `rotation`: quarter turns clockwise the person added on top of the file's
-- EXIF orientation (0..3), applied wherever the photo is shown; the original is not touched.
ALTER TABLE photos ADD COLUMN rating_source TEXT;
ALTER TABLE photos ADD COLUMN rotation INTEGER NOT NULL DEFAULT 0;
CREATE INDEX photos_favorite ON photos(taken_ts DESC, id DESC) WHERE flags & 4;
CREATE INDEX photos_rated ON photos(rating) WHERE rating IS NOT NULL;
"""

_V10 = """
-- Recently deleted (issue 19, glimpse_desktop/trash/): a photo whose files Glimpse moved to the
-- system trash keeps its row (flag FLAG_TRASHED, status 'missing', its path set aside so a new
-- file there is a new photo) with what a restore needs: where it was, its status then, when it
-- went. `moved`: JSON, what a duplicate review gave the copy kept instead (what could not move).
CREATE TABLE trash(
    photo_id    INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    status      TEXT NOT NULL,
    trashed_at  TEXT NOT NULL,
    trashed_ts  REAL NOT NULL,
    kept_id     INTEGER,
    moved       TEXT
);
CREATE INDEX trash_by_time ON trash(trashed_ts);
-- Every file that went with it: the photo's own, its RAW companions, their XMP sidecars.
-- `row_id`: the file's own photos row (the photo's, a companion's; NULL for a sidecar);
-- `location`: where the file is in the system trash, when the platform lets us know it.
CREATE TABLE trash_files(
    photo_id  INTEGER NOT NULL REFERENCES trash(photo_id) ON DELETE CASCADE,
    path      TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('photo', 'companion', 'sidecar')),
    row_id    INTEGER,
    location  TEXT,
    PRIMARY KEY (photo_id, path)
) WITHOUT ROWID;
"""

_V11 = """
-- Folders of albums (issue 19; immich-app/immich#1010): a folder holds albums and other
-- folders, to any depth. Names are unique among a folder's children in any case, so a path
-- ("Travel/2024") names one folder. Deleting a folder's row would orphan its children: the
-- albums service moves them up (or deletes the albums) first; ON DELETE SET NULL on
-- albums.folder_id is the backstop that leaves an album at the top, never lost.
CREATE TABLE album_folders(
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id  INTEGER REFERENCES album_folders(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX album_folders_by_name
    ON album_folders(ifnull(parent_id, 0), name COLLATE NOCASE);
-- The folder a manual or smart album is in (NULL: the top). Events and trips stay where
-- Glimpse keeps them: the service never puts one in a folder.
ALTER TABLE albums ADD COLUMN folder_id INTEGER REFERENCES album_folders(id) ON DELETE SET NULL;
CREATE INDEX albums_by_folder ON albums(folder_id) WHERE folder_id IS NOT NULL;
"""

_V12 = """
-- "Ignore this face" (issue 19): a stranger in the background. An ignored face is in no person,
-- is never clustered, shown as waiting or counted, until the person takes the ignore back;
-- `ignored_at` (NULL: not ignored) orders the "Ignored faces" list, newest first.
ALTER TABLE faces ADD COLUMN ignored_at TEXT;
CREATE INDEX faces_ignored ON faces(ignored_at) WHERE ignored_at IS NOT NULL;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial",
        "Photos with metadata, roots and volumes, per-file errors, FTS5 text, embedding spaces.",
        _sql(_V1),
    ),
    Migration(
        2,
        "embeddings",
        "Semantic search: which photos are embedded by which model (and of which content), a "
        "change log the approximate index catches up from, and zero-shot tags.",
        _sql(_V2),
    ),
    Migration(
        3,
        "faces",
        "People: faces found by a face pack (box, landmarks, quality), the people they are "
        "grouped into, rejections that clustering must respect, and which photos were looked at.",
        _sql(_V3),
    ),
    Migration(
        4,
        "places-albums",
        "Places from offline reverse geocoding (or inferred from a neighbour in time), and "
        "albums: manual, smart (a saved search), and events and trips made by Glimpse.",
        _sql(_V4),
    ),
    Migration(
        5,
        "captions-writeback",
        "Captions from a vision model (with a cache of replies already paid for), and metadata "
        "that travels: what write-back wrote, XMP sidecars read, and named face regions.",
        _sql(_V5),
    ),
    Migration(
        6,
        "plugin-schema",
        "Plugins keep tables of their own: which version of each plugin's tables the library "
        "holds, so a plugin's migrations run once each, beside the app's own numbers.",
        _sql(_V6),
    ),
    Migration(
        7,
        "raw-pairs",
        "A RAW+JPEG pair shot together is one photo with two files: the RAW's row names the "
        "photo it is a companion of and is not listed on its own; pairs are found by name, "
        "and the pairs already in the library are made.",
        _v7,
    ),
    Migration(
        8,
        "manual-date-place",
        "Dates and places set by the person: where a photo's position came from (gps_source "
        "'manual', or NULL for the file's), so a re-read of the file keeps what they set.",
        _sql(_V8),
    ),
    Migration(
        9,
        "keep-judge-rotate",
        "Favourites, rejects and stars the person gives (kept when files are read again), and "
        "rotation added by hand on top of the file's orientation.",
        _sql(_V9),
    ),
    Migration(
        10,
        "trash",
        "Recently deleted: photos moved to the system trash keep their rows for 30 days, with "
        "where each of their files was, so a restore puts files and rows back as they were.",
        _sql(_V10),
    ),
    Migration(
        11,
        "album-folders",
        "Albums in folders, nested to any depth (a person with hundreds of albums sorts them "
        "as Travel/2024): the folders and the folder each album of the person's is in.",
        _sql(_V11),
    ),
    Migration(
        12,
        "ignored-faces",
        "Faces the person ignored (strangers in the background): never clustered, shown or "
        "counted as waiting, and listed to be taken back.",
        _sql(_V12),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    has_table = conn.one(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
    )
    if not has_table:
        return 0
    return int(conn.one("SELECT coalesce(max(version), 0) FROM schema_migrations"))


def backup_path(db_path: str, version: int) -> Path:
    stamp = now_iso().replace(":", "").replace("-", "")
    path = Path(f"{db_path}.v{version}-{stamp}.bak")
    # Two Glimpses upgrading the same library in the same second must not write one file.
    n = 1
    while path.exists():
        n += 1
        path = Path(f"{db_path}.v{version}-{stamp}-{n}.bak")
    return path


def migrate(conn: Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the library up to the newest schema; return the version reached.

    Raises LibraryTooNewError for a library written by a newer Glimpse and NotALibraryError
    for a SQLite file that belongs to something else.
    """
    latest = migrations[-1].version
    with conn.transaction("DEFERRED"):  # one snapshot: another process may be migrating
        app_id = int(conn.one("PRAGMA application_id"))
        table_count = int(conn.one("SELECT count(*) FROM sqlite_master"))
        version = current_version(conn)
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and table_count > 0):
        raise NotALibraryError(
            f"{conn.path} is a SQLite database but not a Glimpse library",
            code="library.foreign", values={"path": conn.path})
    if version > latest:
        raise LibraryTooNewError(
            f"{conn.path} was written by a newer version of Glimpse (library schema {version}; "
            f"this version understands up to {latest}). Update Glimpse to open it; the library "
            "has not been changed.",
            code="library.too_new",
            values={"path": conn.path, "version": version, "latest": latest})
    pending = [m for m in migrations if m.version > version]
    if not pending:
        return version
    if version > 0 and conn.path not in ("", ":memory:") and os.path.exists(conn.path):
        # A copy made by SQLite itself is consistent even with WAL and concurrent readers.
        for _attempt in range(5):
            target = backup_path(conn.path, version)
            try:
                conn.execute("VACUUM INTO ?", (str(target),))
                break
            except StorageError:
                if not target.exists():
                    raise
                # Another process took the same name between our look and our write.
    for m in pending:
        with conn.transaction("IMMEDIATE"):
            # Another process (the app and the CLI's watcher started together) may have applied
            # it between our look and our write lock.
            if current_version(conn) >= m.version:
                continue
            if m.version == 1 or current_version(conn) == 0:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations("
                    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            m.apply(conn)
            conn.execute(
                "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                (m.version, m.name, now_iso()),
            )
            conn.execute(f"PRAGMA user_version={m.version}")
        version = m.version
    return version


# ---------------------------------------------------------------- plugins' own tables

_PLUGIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class PluginMigration:
    """One step of a plugin's own tables (the ``glimpse_migrations`` hook).

    ``version`` counts from 1 for each plugin on its own (the app's numbers are not the
    plugin's); ``sql`` is the script that brings the plugin's tables from ``version - 1`` to
    ``version``: ``CREATE TABLE``/``CREATE INDEX`` of tables named after the plugin
    (``colors_photo``), never a change to the app's tables. A released step is never edited:
    a later change is a new step. ``why`` says what the step is for, for whoever reads the
    history."""

    plugin: str
    version: int
    sql: str
    why: str = ""

    def __post_init__(self) -> None:
        if not _PLUGIN_NAME.fullmatch(self.plugin):
            raise ValueError(f"a plugin migration names its plugin, not {self.plugin!r}")
        if isinstance(self.version, bool) or not isinstance(self.version, int) \
                or self.version < 1:
            raise ValueError(f"plugin {self.plugin}: a migration's version is a whole number "
                             f"from 1 on, not {self.version!r}")
        if not self.sql.strip():
            raise ValueError(f"plugin {self.plugin}: migration {self.version} has no SQL")


@dataclass
class PluginMigrationReport:
    """What ``migrate_plugins`` did: the version each plugin's tables are at now, and the
    plugins whose migrations could not run (their reason), whose tables stay as they were."""

    versions: dict[str, int] = field(default_factory=dict)
    applied: list[tuple[str, int]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def plugin_versions(conn: Connection) -> dict[str, int]:
    """The version of each plugin's tables this library holds."""
    if not conn.one("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                    "AND name = 'plugin_schema'"):
        return {}
    return {str(r["plugin"]): int(r["version"])
            for r in conn.rows("SELECT plugin, version FROM plugin_schema")}


def migrate_plugins(conn: Connection, migrations: Iterable[PluginMigration]
                    ) -> PluginMigrationReport:
    """Bring every plugin's tables up to its newest migration, after the app's own (the
    library must be migrated already). Each step runs in one transaction with its record in
    ``plugin_schema``. A plugin whose steps are malformed (a version given twice, one
    missing) or whose step fails is reported in ``failed`` and left at the version it had,
    never the end of opening the library: a broken plugin must not lock a person out of
    their photos. A library whose tables for a plugin are newer than the plugin (it was
    downgraded) is left as it is and reported too."""
    report = PluginMigrationReport()
    by_plugin: dict[str, list[PluginMigration]] = {}
    for m in migrations:
        if not isinstance(m, PluginMigration):   # a plugin's mistake, said, not a crash
            report.failed[type(m).__name__] = f"{m!r} is not a PluginMigration"
            continue
        by_plugin.setdefault(m.plugin, []).append(m)
    have = plugin_versions(conn)
    for plugin, steps in by_plugin.items():
        steps.sort(key=lambda m: m.version)
        versions = [m.version for m in steps]
        if versions != list(range(1, len(steps) + 1)):
            report.failed[plugin] = (f"its migrations are numbered {versions}; they must be "
                                     "1, 2, 3… with none missing or given twice")
            report.versions[plugin] = have.get(plugin, 0)
            continue
        version = have.get(plugin, 0)
        if version > versions[-1]:
            report.failed[plugin] = (f"the library holds version {version} of its tables, "
                                     f"newer than this plugin knows ({versions[-1]})")
            report.versions[plugin] = version
            continue
        for m in steps:
            if m.version <= version:
                continue
            try:
                with conn.transaction("IMMEDIATE"):
                    # Another process (the app and the CLI's watcher) may have applied it
                    # between our look and our write lock.
                    now = int(conn.one("SELECT coalesce(max(version), 0) FROM plugin_schema "
                                       "WHERE plugin = ?", (plugin,)))
                    if now >= m.version:
                        version = now
                        continue
                    conn.execute(m.sql)
                    conn.execute("INSERT INTO plugin_schema(plugin, version, applied_at) "
                                 "VALUES (?, ?, ?) ON CONFLICT(plugin) DO UPDATE SET "
                                 "version = excluded.version, applied_at = excluded.applied_at",
                                 (plugin, m.version, now_iso()))
            except StorageError as exc:
                report.failed[plugin] = f"migration {m.version} failed: {exc}"
                break
            version = m.version
            report.applied.append((plugin, m.version))
        report.versions[plugin] = version
    return report
