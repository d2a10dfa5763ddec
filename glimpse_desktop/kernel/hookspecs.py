"""Every hook a Glimpse plugin can implement, in one place (the plugin author's reference).

Glimpse's own features are plugins too: metadata, search, faces, places, albums, captions and
write-back implement these same hooks (``glimpse_desktop/features.py`` lists them), so every
seam here is used by the app itself, not kept for others. A third-party plugin is a module (or
class instance) with functions named like the hooks below, each marked ``@hookimpl``, exposed
through the ``glimpse_desktop.plugins`` entry-point group::

    # pyproject.toml of the plugin
    [project.entry-points."glimpse_desktop.plugins"]
    colors = "glimpse_colors"

    # glimpse_colors.py
    from glimpse_desktop.kernel.hookspecs import hookimpl

    @hookimpl
    def glimpse_stages(library):
        return [ColorStage()]

A hook implementation may take any leading subset of the arguments its specification names
(pluggy matches them by name). Hooks that contribute things return a list; the host joins
every plugin's lists. The records they return (``Stage``, ``FollowUp``, ``SearchFilter``,
``Verb``, ``Setting``, ``PhotoAction``, ``Page``, ``ModelKind``, ``MetadataReader``) are
defined next to the code that runs them and re-exported by ``glimpse_desktop.api``.

Version of this hook set: ``HOOKS_VERSION``. It grows compatibly (new hooks, new optional
fields); a breaking change raises the major number, and plugins may check it.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "glimpse"
HOOKS_VERSION = (1, 0)

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------- the library and its data


@hookspec
def glimpse_settings() -> list[Any]:
    """Settings this plugin adds to the library's settings (``kernel.config.Key`` records:
    name, kind, default, help, optional environment variable and limits). Names are dotted
    and start with the plugin's own prefix (``colors.palette``); they appear in the
    settings list of every front end and are read with ``library.config.get(name)``."""


@hookspec
def glimpse_migrations() -> list[Any]:
    """Tables this plugin keeps in the library (``kernel.migrations.PluginMigration``: the
    plugin's name, a version number and the SQL that brings the plugin's tables from the
    version before to it). Each is applied once, in one transaction, recorded under the
    plugin's name; the app's own migrations keep their numbers. Only ``CREATE`` of the
    plugin's own tables and indexes belongs here. A plugin whose tables cannot be made is
    left out of every other hook (its stages would meet tables that are not there) until a
    library makes them; the plugin list says why."""


@hookspec
def glimpse_stages(library: Any) -> list[Any]:
    """Ingestion stages for ``library`` as it is now (a model that is not installed gives no
    stage). A stage (``kernel.stages.Stage``) declares the pixels it needs (``SizeRequest``),
    whether it runs batched on the model thread, and how to find its backlog, so the same
    stage object serves both a photo being read and catch-up over photos read before it
    existed (``kernel.stages.StageBase`` has the defaults, ``kernel.stages.owed`` the usual
    backlog query; ``Library.catch_up`` runs every stage's backlog, and ``index`` calls it).
    Called again whenever the library's models or features change."""


@hookspec
def glimpse_metadata_readers() -> list[Any]:
    """Readers of what a photo file says about itself (``kernel.meta.MetadataReader``: a name
    and ``read(source) -> PhotoMeta``). Decoding opens each photo once and reads its size and
    orientation itself; each reader then gets the opened image, its EXIF and the file's bytes
    (``kernel.meta.PhotoSource``) and returns the dates, position, camera, rating and texts it
    found, None where it found nothing. Readers merge in plugin order, the first value wins
    (a date with its offset, a position with its altitude, taken whole); a photo none of them
    dates is dated by its file's time. Collected once per process (again after a plugin
    registers); ``read`` runs on ingestion's worker threads, once per photo."""


@hookspec
def glimpse_model_kinds() -> list[Any]:
    """Kinds of model this plugin can load (``kernel.registry.ModelKind``: the manifest's
    ``kind`` name and a loader that turns an installed model, ``kernel.registry.ModelFiles``,
    into a runnable one). The model registry downloads, verifies and installs every kind the
    same way, and loads a model added by hand through its kind to check the files are that
    model; loading is the kind's own."""


@hookspec
def glimpse_search_filters() -> list[Any]:
    """``key:value`` filters for search (``search.filters.SearchFilter``), such as
    ``person:ana`` or ``color:red``: the key, a help line, the SQL condition it adds on the
    ``photos p`` row, and the values it can suggest as a person types."""


@hookspec
def glimpse_photo_text(conn: Any, photo_id: int) -> list[tuple[str, str]]:
    """Extra words for a photo's full-text row, as ``(column, text)`` pairs where column is
    one of ``kernel.fts.TEXT_COLUMNS``; computed from the plugin's own tables each time the
    row is rebuilt (text a plugin stores in ``photo_text`` is indexed without this hook)."""


@hookspec
def glimpse_photos_deleted(conn: Any, photo_ids: list[int]) -> None:
    """Photo rows ``photo_ids`` were just deleted (forgotten, or joined to the row of the same
    photo), inside the writer's transaction on ``conn``: tidy what the schema's foreign keys
    cannot reach, such as a feature's rows that only other rows of its own referred to. Rows
    that reference ``photos(id)`` with ``ON DELETE CASCADE`` need no hook. Each plugin's
    implementation runs in a savepoint of its own: one that raises has its own changes
    rolled back and is recorded (in the plugin list), and the deletion and the other
    plugins go on; only a failure of the disk or the database itself rolls the deletion
    back."""


@hookspec
def glimpse_follow_ups() -> list[Any]:
    """What must happen after photos change (``kernel.changes.FollowUp``: a name, the names
    of the follow-ups it must run after (``after``) and before (``before``), the reasons it
    runs for (``when``), and ``run(library, change)``). ``photos_changed(ids, why)`` runs
    every plugin's follow-ups once, in the order their declared dependencies give; index,
    the watcher, every CLI verb and the window call it. kernel/changes.py lists the built-in
    follow-ups by name."""


# ---------------------------------------------------------------- front ends


@hookspec
def glimpse_cli_verbs() -> list[Any]:
    """Commands for the ``glimpse`` CLI (``cli.verbs.Verb``: name, help, a function that adds
    its arguments to an argparse parser, and ``run(library, args) -> exit code``). A verb
    that changes photos reports it through ``library.photos_changed``."""


@hookspec
def glimpse_photo_actions() -> list[Any]:
    """Actions on selected photos, shown in the window's photo menu
    (``kernel.actions.PhotoAction``, re-exported by the API: an id, a label,
    ``run(library, photo_ids, progress, cancel) -> result text``; the window runs it in the
    background with progress and a Cancel button). No Qt needed."""


@hookspec
def glimpse_gui_pages() -> list[Any]:
    """Pages for the window's sidebar (``gui.hooks.Page``: a title and a factory that builds
    the page's widget for a window). The only hook whose plugin code imports Qt."""
