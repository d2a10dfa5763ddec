"""Walk photo folders: which files exist, with their size and modification time.

Only ``stat`` happens here (no reads), so a rescan of an unchanged library costs one directory
listing per folder. Unreadable folders and symlink loops are reported and skipped.
"""

from __future__ import annotations

import os
import stat as stat_mod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

# Folders that hold no photos of the person's own: caches, trash, NAS metadata, VCS.
_SKIP_DIRS = {"@eadir", "#recycle", "$recycle.bin", "system volume information", "__macosx",
              ".thumbnails", "node_modules", ".git", ".trash", "lost+found"}


UNSTORABLE_NAME = "file name is not valid UTF-8 on this system; rename the file to add it"
UNSTORABLE_FOLDER = ("folder name is not valid UTF-8 on this system; rename the folder to add "
                     "the photos in it")


def encodable(path: str) -> bool:
    """False for a name that is not valid UTF-8 on this system (it cannot be stored)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_ignored(path: str, root: str) -> bool:
    """True for a path the walk would never reach: hidden, or inside a cache/trash folder."""
    rel = os.path.relpath(path, root)
    if rel == ".":
        return False
    parts = rel.split(os.sep)
    return any(p.startswith(".") for p in parts) or any(
        p.lower() in _SKIP_DIRS for p in parts[:-1])


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class ScanProblem:
    path: str
    reason: str


def printable(path: str) -> str:
    """A storable spelling of any path: undecodable bytes appear as \\xNN."""
    try:
        raw = os.fsencode(path)
    except UnicodeEncodeError:
        return path.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def walk(
    top: str,
    extensions: frozenset[str],
    on_problem: Callable[[ScanProblem], None],
    *,
    root: str | None = None,
    other_roots: Sequence[str] = (),
    on_link: Callable[[str, str], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[str, list[FileEntry]]]:
    """Yield each readable folder below ``top`` (itself included) with its supported files.
    One folder at a time keeps a rescan's memory to the largest folder, not the library.

    Folder symlinks that lead out of ``root`` (the photo folder ``top`` belongs to) are
    followed, once each; links to folders inside it are not, so every photo is known by its
    real path (the one the watcher reports), never twice. Links into ``other_roots`` (other
    photo folders of the library) are not followed either. ``on_link(link, target)`` hears of
    every link that is followed, so the watcher can watch its target too.
    """
    real_root = os.path.realpath(root or top)
    elsewhere = [os.path.realpath(r) for r in other_roots]
    try:
        top_stat = os.stat(top)
    except OSError as exc:
        on_problem(ScanProblem(printable(top), f"cannot open folder: {exc.strerror or exc}"))
        return
    seen_dirs = {(top_stat.st_dev, top_stat.st_ino)}
    stack = [top]
    while stack:
        if should_stop():
            return
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except PermissionError:
            on_problem(ScanProblem(printable(folder), "cannot read folder: permission denied"))
            continue
        except FileNotFoundError:
            continue  # removed while we walked
        except OSError as exc:
            on_problem(ScanProblem(printable(folder),
                                   f"cannot read folder: {exc.strerror or exc}"))
            continue
        subdirs: list[str] = []
        files: list[FileEntry] = []
        enterable = True
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue  # hidden files, AppleDouble "._IMG_1.JPG" resource forks
            try:
                st = entry.stat(follow_symlinks=True)
            except FileNotFoundError:
                if entry.is_symlink():
                    on_problem(ScanProblem(printable(entry.path), "broken symbolic link"))
                continue
            except PermissionError:
                # Listable but not enterable (read without execute permission): like an
                # unreadable folder, its photos are kept as they are, not marked missing.
                on_problem(ScanProblem(printable(folder), "cannot read folder: permission "
                                       "denied (its files cannot be opened)"))
                enterable = False
                break
            except OSError as exc:
                on_problem(ScanProblem(printable(entry.path),
                                       f"cannot read: {exc.strerror or exc}"))
                continue
            if stat_mod.S_ISDIR(st.st_mode):
                if name.lower() in _SKIP_DIRS:
                    continue
                if not encodable(entry.path):
                    # Its path cannot be stored, so neither can anything below it: one error
                    # row for the folder, and the rest of the root is read.
                    on_problem(ScanProblem(printable(entry.path), UNSTORABLE_FOLDER))
                    continue
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if _inside(os.path.realpath(folder), target):
                        on_problem(ScanProblem(printable(entry.path),
                                               "symbolic link loop: skipped"))
                        continue
                    if _inside(target, real_root) or any(_inside(target, r) for r in elsewhere):
                        continue  # a shortcut to a folder that is scanned anyway
                    if on_link is not None:
                        on_link(entry.path, target)
                key = (st.st_dev, st.st_ino)
                if key in seen_dirs:
                    if entry.is_symlink():
                        on_problem(ScanProblem(
                            printable(entry.path),
                            "symbolic link loop (or a second link to a folder already "
                            "scanned): skipped",
                        ))
                    continue
                seen_dirs.add(key)
                subdirs.append(entry.path)
            elif stat_mod.S_ISREG(st.st_mode):
                if os.path.splitext(name)[1].lower() not in extensions:
                    continue
                if not encodable(entry.path):
                    on_problem(ScanProblem(printable(entry.path), UNSTORABLE_NAME))
                    continue
                files.append(FileEntry(entry.path, st.st_size, st.st_mtime_ns))
        if not enterable:
            continue
        yield folder, files
        # Depth-first, in name order, so progress moves through folders the way a person reads them.
        stack.extend(sorted(subdirs, reverse=True))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def stat_file(path: str) -> FileEntry | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat_mod.S_ISREG(st.st_mode):
        return None
    return FileEntry(path, st.st_size, st.st_mtime_ns)


def mount_point(path: str) -> str:
    """The mount point of the file system holding ``path`` (the path itself if it is one)."""
    current = os.path.abspath(path)
    while not os.path.ismount(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current
