"""The doctor report: versions, paths and devices, with or without a usable library (it is
what people run when something is wrong)."""

from __future__ import annotations

import platform
import sys

import PIL
import pillow_heif

from glimpse_desktop import __version__
from glimpse_desktop.api.records import Doctor, FacesFacts, ModelsFolder, SearchFacts
from glimpse_desktop.faces.models import providers as face_providers
from glimpse_desktop.faces.models import recogniser_runtime
from glimpse_desktop.faces.records import PeopleStatus
from glimpse_desktop.kernel import devices
from glimpse_desktop.kernel.db import Connection, LibraryError, connect, versions
from glimpse_desktop.kernel.migrations import current_version
from glimpse_desktop.kernel.paths import LibraryPaths
from glimpse_desktop.kernel.registry import ModelError, Registry, model_list
from glimpse_desktop.kernel.syslibs import system_libraries
from glimpse_desktop.search.clip_runtime import current_choice, model_runtime
from glimpse_desktop.search.export import exported
from glimpse_desktop.search.semantic import SearchStatus

PROVIDERS_WHY = ("onnxruntime providers in order TensorRT, CUDA, CoreML, DirectML, OpenVINO, "
                 "CPU; the first one present runs the face detector, and the recogniser too "
                 "unless it is only the CPU, where OpenVINO embeds faces faster")


def doctor(paths: LibraryPaths, conn: Connection | None = None, *,
           search: SearchFacts | None = None, people: PeopleStatus | None = None) -> Doctor:
    """Versions, paths and devices. Without ``conn`` the library is opened read-only and never
    migrated (a damaged or newer one is reported, not refused). ``search`` and ``people``:
    the open library's search facts and faces status."""
    own = conn is None
    problem: str | None = None
    if conn is None and paths.library.exists():
        try:
            conn = connect(paths.library, readonly=True)
        except LibraryError as exc:
            problem = str(exc)
    if conn is None:
        conn = connect(":memory:")
        schema: int | None = None
    else:
        schema = current_version(conn)
    try:
        facts = versions(conn)
    finally:
        if own:
            conn.close()
    registry = Registry(paths.models)
    installed = tuple(r.id for r in model_list(registry, None, None) if r.installed)
    runtimes = tuple(model_runtime(found) for found in map(registry.installed, installed)
                     if found is not None)
    return Doctor(
        glimpse=__version__, python=sys.version.split()[0], platform=platform.platform(),
        driver=facts["driver"], sqlite=facts["sqlite"], sqlite_vec=facts["sqlite_vec"],
        fts5=facts["fts5"], pillow=PIL.__version__, pillow_heif=pillow_heif.__version__,
        libheif=pillow_heif.libheif_version(),
        library=str(paths.library) + ("" if paths.library.exists() else " (not created yet)"),
        library_schema=schema, library_error=problem, cache=str(paths.cache),
        models=ModelsFolder(dir=str(paths.models), exists=paths.models.is_dir(),
                            installed=installed),
        devices=devices.describe(),
        faces=FacesFacts(providers=tuple(face_providers()), providers_why=PROVIDERS_WHY,
                         status=people, recogniser=_recogniser()),
        system_libraries=system_libraries(), search=search, image_runtimes=runtimes)


def _recogniser() -> str:
    try:
        return recogniser_runtime()
    except ModelError as exc:  # GLIMPSE_FACES_RUNTIME names no runtime: say so, do not crash
        return f"unknown ({exc})"


def search_facts(status: SearchStatus, registry: Registry) -> SearchFacts:
    """The search part of the report: the search status, and for the model being switched
    to (or in use) how its image tower runs here (measured once, on the first photos it
    embeds) and what encodes a query's words."""
    installed = registry.installed(status.target)
    if installed is None:
        return SearchFacts(status=status)
    choice, why = current_choice(installed)
    encoder = ("onnx" if exported(installed).text.is_file()
               else "onnx (converted from the weights on first use)")
    return SearchFacts(status=status, runtime=choice, runtime_why=why, text_encoder=encoder)
