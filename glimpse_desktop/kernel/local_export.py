"""Finding a CLIP model's ONNX export in a folder or a .zip a person gives to
``Registry.add``: the way onto a computer without internet or without torch.

The files are looked for under the names the manifest's ``exported`` lists (``visual.onnx``,
``text.onnx``), where the hub publishes them (Immich's ``visual/model.onnx`` and
``textual/model.onnx``: a clone or a download of the Hugging Face repository), and as a
Glimpse model folder copied from another computer holds them (``<digest>-visual.onnx``), at
the top of what was given or in one folder below it (a .zip of the folder). The image and text
towers are required; the vocabulary may be absent (the kind supplies the copy it ships).

Nothing is extracted but the chosen members, each to a name of ours: a member's own path
never becomes a path on this computer.
"""

from __future__ import annotations

import fnmatch
import secrets
import shutil
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from glimpse_desktop.kernel.messages import CodedError

__all__ = ["EXPORT_NAMES", "REQUIRED_ROLES", "exported_files", "is_export_source",
           "stored_names"]

# The names a conversion here gives the files, and an export lacking manifest names is
# stored under.
EXPORT_NAMES = {"visual": "visual.onnx", "text": "text.onnx",
                "vocab": "bpe_simple_vocab_16e6.txt.gz"}
REQUIRED_ROLES = ("visual", "text")
# The layouts an export is known in besides the manifest's names: Hugging Face repositories
# (Immich's, open_clip's ONNX exports) and a Glimpse model folder (names after the digest).
_LAYOUTS = {
    "visual": ("visual.onnx", "visual/model.onnx", "*-visual.onnx"),
    "text": ("text.onnx", "textual/model.onnx", "text/model.onnx", "*-text.onnx"),
    "vocab": ("bpe_simple_vocab_16e6.txt.gz", "*-bpe_simple_vocab_16e6.txt.gz"),
}


def stored_names(exported: dict[str, Any] | None) -> dict[str, str]:
    """Role -> the name the file is kept under in the model's folder: the manifest's
    ``exported`` names where it lists them, else ours."""
    if exported:
        return {role: str(f.name) for role, f in exported.items()}
    return dict(EXPORT_NAMES)


def is_export_source(source: Path) -> bool:
    """``source`` is given as an export (a folder or a .zip) rather than a checkpoint file
    (a torch checkpoint is a zip archive too, but not named .zip)."""
    return source.is_dir() or (source.suffix.lower() == ".zip" and source.is_file())


def _published_path(url: str) -> str:
    """The file's path inside its repository: after ``/resolve/<revision>/`` on Hugging
    Face, else its name."""
    path = urllib.parse.urlparse(url).path
    if "/resolve/" in path:
        rest = path.split("/resolve/", 1)[1]
        if "/" in rest:
            return urllib.parse.unquote(rest.split("/", 1)[1])
    return urllib.parse.unquote(path.rsplit("/", 1)[-1])


def _candidates(role: str, exported: dict[str, Any] | None) -> list[str]:
    names: list[str] = []
    if exported and role in exported:
        f = exported[role]
        names.append(str(f.name))
        names.extend(_published_path(u) for u in f.urls)
    names.extend(_LAYOUTS[role])
    return list(dict.fromkeys(n for n in names if n))


def _resolve(exists: Callable[[str], bool], glob: Callable[[str], list[str]],
             prefixes: Sequence[str], exported: dict[str, Any] | None
             ) -> dict[str, str] | None:
    """Role -> relative path for the first prefix under which both towers are found."""
    for prefix in prefixes:
        found: dict[str, str] = {}
        for role in _LAYOUTS:
            for candidate in _candidates(role, exported):
                if "*" in candidate:
                    matches = [m for m in glob(prefix + candidate)
                               if "/" not in m[len(prefix):]]
                    if len(matches) > 1:
                        raise CodedError(
                            f"{len(matches)} files could be the {role} tower "
                            f"({', '.join(sorted(matches)[:4])}): give a folder holding one")
                    if matches:
                        found[role] = matches[0]
                        break
                elif exists(prefix + candidate):
                    found[role] = prefix + candidate
                    break
        if all(role in found for role in REQUIRED_ROLES):
            return found
    return None


def _wanted(exported: dict[str, Any] | None) -> str:
    names = stored_names(exported)
    return (f"{names['visual']} and {names['text']} (or visual/model.onnx and "
            "textual/model.onnx, as Hugging Face keeps them)")


@contextmanager
def exported_files(source: Path, exported: dict[str, Any] | None, scratch: Path
                   ) -> Iterator[dict[str, Path]]:
    """Role -> the file of the export in ``source`` (a folder, or a .zip whose chosen members
    are extracted into a fresh folder under ``scratch``, removed on exit). Raises CodedError
    (``models.not_an_export``) when the towers are not there."""
    if source.is_dir():
        subfolders = sorted(p.name + "/" for p in source.iterdir() if p.is_dir()
                            and not p.name.startswith("."))
        found = _resolve(lambda rel: (source / rel).is_file(),
                         lambda pattern: [p.relative_to(source).as_posix()
                                          for p in source.glob(pattern)],
                         ["", *subfolders], exported)
        if found is None:
            raise _not_an_export(source, exported)
        yield {role: source / rel for role, rel in found.items()}
        return
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CodedError(f"{source} could not be read as a .zip: {exc}",
                         code="models.not_an_export",
                         values={"source": str(source), "wanted": _wanted(exported)}) from exc
    with archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        listed = set(names)
        tops = sorted({n.split("/", 1)[0] + "/" for n in names if "/" in n})
        found = _resolve(listed.__contains__, lambda pattern: fnmatch.filter(names, pattern),
                         ["", *tops], exported)
        if found is None:
            raise _not_an_export(source, exported)
        folder = scratch / f".add-{secrets.token_hex(6)}"
        folder.mkdir(parents=True)
        try:
            out: dict[str, Path] = {}
            for role, member in found.items():
                target = folder / EXPORT_NAMES[role]
                try:
                    with archive.open(member) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise CodedError(f"{member} in {source} could not be read: {exc}",
                                     code="models.not_an_export",
                                     values={"source": str(source),
                                             "wanted": _wanted(exported)}) from exc
                out[role] = target
            yield out
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _not_an_export(source: Path, exported: dict[str, Any] | None) -> CodedError:
    return CodedError(f"{source} holds no ONNX export of the model: it needs "
                      f"{_wanted(exported)}", code="models.not_an_export",
                      values={"source": str(source), "wanted": _wanted(exported)})
