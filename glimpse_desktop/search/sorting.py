"""Sort photos into one folder per tag, by copying or moving the files.

Safety rules, in the order they matter to the person whose photos these are:

* nothing is ever overwritten: a taken name becomes ``name (2).jpg``, and the name is claimed
  atomically (a hard link, or an exclusive create that is then renamed onto) so a file that
  appears meanwhile is not replaced either;
* the originals are never modified; a copy is written to a hidden temporary file beside its
  target and only then given its name, so a half-written file never carries a photo's name;
* a tag becomes one safe path component, and a folder that would still lead outside the
  output folder (through a symlink already there) is refused;
* a move updates the library row right after the file moved, so names, tags and embeddings
  follow the photo, and a run that stops (full disk, unreadable file, cancel) leaves every
  finished photo consistent on disk and in the library.
"""

from __future__ import annotations

import contextlib
import errno
import filecmp
import os
import re
import shutil
import stat
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from glimpse_desktop.kernel import photos
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback, ProgressMeter

__all__ = ["COPY", "MOVE", "Placement", "Skipped", "SortError", "SortReport", "folder_name",
           "sort_by_tag", "sort_photos"]

COPY = "copy"
MOVE = "move"

# Folder names stay well under every file system's 255-byte limit, leaving room for the
# path around them (Windows' 260-character paths) and for the file names inside.
MAX_NAME_BYTES = 100
# Device names Windows reserves in every folder, with or without an extension.
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                       *(f"COM{c}" for c in "123456789¹²³"),
                       *(f"LPT{c}" for c in "123456789¹²³")})
# Characters Windows (and exFAT/FAT sticks everywhere) refuse in names.
_ILLEGAL = re.compile(r'[<>:"|?*]')
_SEPARATORS = re.compile(r"[/\\]+")
_BUFFER = 1 << 20
# Give up finding a free "name (n)" after this many: something is wrong with the folder.
_MAX_TRIES = 10_000
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_NOT_ALLOWED = (errno.EACCES, errno.EPERM, errno.EROFS)


class SortError(LibraryError):
    """Sorting stopped (a full disk, an unreadable photo, an output folder that cannot be
    written); ``report`` says what was finished before, all of it consistent."""

    def __init__(self, message: str, report: SortReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Placement:
    """A photo and where it goes (dry run) or went."""

    photo_id: int
    source: str
    target: str
    tag: str


@dataclass(frozen=True)
class Skipped:
    """A photo left where it is, and why (``kind``: untagged, missing, offline, refused,
    in_place, exists, failed)."""

    photo_id: int
    source: str
    kind: str
    reason: str
    tag: str | None = None


@dataclass
class SortReport:
    mode: str
    output: str
    dry_run: bool
    planned: int = 0  # photos that had somewhere to go
    copied: int = 0
    moved: int = 0
    placements: list[Placement] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # Moved photos now outside every library folder: their rows (names, tags, embeddings)
    # are kept, but no scan or watcher looks at them until the output folder is added.
    unwatched: int = 0
    # The output lies inside a library folder: the next scan indexes copies as photos.
    output_in_library: bool = False
    cancelled: bool = False

    def skipped_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.skipped:
            counts[s.kind] = counts.get(s.kind, 0) + 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "output": self.output, "dry_run": self.dry_run,
            "planned": self.planned, "copied": self.copied, "moved": self.moved,
            "skipped": self.skipped_by_kind(), "unwatched": self.unwatched,
            "output_in_library": self.output_in_library, "cancelled": self.cancelled,
            "placements": [vars(p) for p in self.placements],
            "skipped_photos": [vars(s) for s in self.skipped],
        }


def folder_name(tag: str) -> str | None:
    """``tag`` as one folder name that is safe on every system, or None when nothing usable
    is left ("." or "../.." or only control characters).

    Path-like tags keep their words ("../../etc" -> "etc", "a/b" -> "a_b"); control and
    invisible formatting characters are dropped; characters Windows refuses become "_";
    leading dots (hidden files) and trailing dots or spaces (which Windows strips) go;
    reserved device names ("con", "lpt1.x") get a "_"; the result is at most
    MAX_NAME_BYTES of UTF-8.
    """
    text = unicodedata.normalize("NFC", tag)
    # Control, format (bidirectional overrides can disguise a name), private-use and
    # unassigned characters: none has a place in a folder name.
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    parts = [p.strip() for p in _SEPARATORS.split(text)]
    text = "_".join(p for p in parts if p not in ("", ".", ".."))
    text = _ILLEGAL.sub("_", text)
    text = re.sub(r"\s+", " ", text)
    text = _trim(text)
    if not text:
        return None
    stem, dot, rest = text.partition(".")
    if stem.rstrip().upper() in _RESERVED:
        text = f"{stem}_{dot}{rest}"
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:
        text = _trim(encoded[:MAX_NAME_BYTES].decode("utf-8", "ignore"))
    return text or None


def _trim(text: str) -> str:
    return text.lstrip(". ").rstrip(". ")


def _inside(folder: str, real_output: str) -> bool:
    real = os.path.realpath(folder)
    try:
        return real != real_output and os.path.commonpath([real, real_output]) == real_output
    except ValueError:  # different drives on Windows
        return False


def _names(filename: str) -> Iterator[str]:
    stem, ext = os.path.splitext(filename)
    yield filename
    for n in range(2, _MAX_TRIES):
        yield f"{stem} ({n}){ext}"


class _SourceProblem(Exception):
    """The original could not be read or removed: the run stops."""


class _Refused(Exception):
    """No folder for a tag: no usable name, or it leads outside the output (a symlink)."""


# --------------------------------------------------------------------------- file operations


def _place(src: str, folder: str, filename: str) -> str:
    """Give ``src`` a free name in ``folder`` without replacing anything there; ``src`` is
    gone afterwards. ``src`` must be on the same file system as ``folder``."""
    use_link = True
    for name in _names(filename):
        dst = os.path.join(folder, name)
        if use_link:
            try:
                os.link(src, dst)  # fails on any existing name, a symlink included
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno in _DISK_FULL or exc.errno == errno.EXDEV:
                    raise
                # No hard links here (FAT and exFAT sticks, some network shares): reserve
                # the name with an exclusive create and rename onto our own empty file.
                use_link = False
            else:
                try:
                    os.unlink(src)
                except OSError as exc:
                    with contextlib.suppress(OSError):
                        os.unlink(dst)
                    raise _SourceProblem(f"cannot remove {src}: {exc.strerror or exc}") from exc
                return dst
        try:
            fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0))
        except FileExistsError:
            continue
        os.close(fd)
        try:
            os.replace(src, dst)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(dst)
            raise
        return dst
    raise OSError(errno.EEXIST, f"no free name for {filename} in {folder}")


def _copy_to_temp(source: str, folder: str, *, durable: bool) -> tuple[str, os.stat_result]:
    """A copy of ``source`` (bytes, times, permissions) in a hidden file in ``folder``."""
    try:
        fin = open(source, "rb")  # noqa: SIM115 - closed below, errors told apart
    except OSError as exc:
        raise _SourceProblem(f"cannot read {source}: {exc.strerror or exc}") from exc
    with fin:
        st = os.fstat(fin.fileno())
        fd, tmp = tempfile.mkstemp(prefix=".glimpse-sort-", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fout:
                while True:
                    try:
                        data = fin.read(_BUFFER)
                    except OSError as exc:
                        raise _SourceProblem(
                            f"cannot read {source}: {exc.strerror or exc}") from exc
                    if not data:
                        break
                    fout.write(data)
                fout.flush()
                if durable:
                    # The original is deleted next: the copy must be on the disk first.
                    os.fsync(fout.fileno())
            # What shutil.copy2 keeps besides the bytes: times, mode, extended attributes.
            shutil.copystat(source, tmp)
            if os.stat(tmp).st_size != st.st_size:
                raise _SourceProblem(f"{source} changed while it was being copied")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    return tmp, st


def _same_content(a: str, b: str) -> bool:
    """True when ``b`` already holds exactly the bytes of ``a`` (a copy made before)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    if sa.st_size != sb.st_size or sa.st_mtime_ns != sb.st_mtime_ns:
        return False
    try:
        return filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def _copy(source: str, folder: str, filename: str) -> tuple[str, bool]:
    """Copy into ``folder``; returns (target, already_there)."""
    for name in _names(filename):
        existing = os.path.join(folder, name)
        if not os.path.lexists(existing):
            break
        if _same_content(source, existing):
            return existing, True
    tmp, _ = _copy_to_temp(source, folder, durable=False)
    try:
        return _place(tmp, folder, filename), False
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _move(source: str, folder: str, filename: str) -> str:
    """Move into ``folder``: a rename on the same file system, else copy, check, delete."""
    same_device = os.stat(source).st_dev == os.stat(folder).st_dev
    if same_device:
        try:
            return _place(source, folder, filename)
        except OSError as exc:
            if exc.errno != errno.EXDEV:  # a bind mount: same device, still two mounts
                raise
    tmp, st = _copy_to_temp(source, folder, durable=True)
    try:
        target = _place(tmp, folder, filename)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    try:
        if os.stat(target).st_size != st.st_size:
            raise _SourceProblem(f"the copy of {source} at {target} has the wrong size")
        os.unlink(source)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(target)
        if isinstance(exc, OSError):
            raise _SourceProblem(f"cannot remove {source}: {exc.strerror or exc}") from exc
        raise
    return target


def _put_back(target: str, source: str) -> None:
    """Undo a move whose library update failed, so the row's path is right again."""
    folder, filename = os.path.split(source)
    if os.path.lexists(source):
        return  # something took the name meanwhile: leave both files alone
    if os.stat(target).st_dev == os.stat(folder).st_dev:
        os.rename(target, source)
    else:
        tmp, _ = _copy_to_temp(target, folder, durable=True)
        os.rename(tmp, os.path.join(folder, filename))
        os.unlink(target)


# --------------------------------------------------------------------------- the job


def _tagged(conn: Connection, tags_source: str | None) -> list[dict[str, Any]]:
    """Every photo with its first tag (highest confidence, ties by name; None if untagged)."""
    where = ""
    params: tuple[str, ...] = ()
    if tags_source is not None:
        # "clip" selects every "clip:<model>"; a full source selects just that one.
        escaped = tags_source.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where = "WHERE source = ? OR source LIKE ? ESCAPE '\\'"
        params = (tags_source, escaped + ":%")
    return conn.rows(
        f"""SELECT p.id, p.path, p.status, t.tag
            FROM photos p LEFT JOIN (
                SELECT photo_id, tag, row_number() OVER (
                    PARTITION BY photo_id
                    ORDER BY confidence IS NULL, confidence DESC, tag) AS pos
                FROM photo_tags {where}) t ON t.photo_id = p.id AND t.pos = 1
            ORDER BY p.id""", params)


def sort_by_tag(
    conn: Connection,
    *,
    output: str | os.PathLike[str],
    mode: str,
    dry_run: bool,
    writer: Writer | None,
    tags_source: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> SortReport:
    """Copy or move every tagged photo into ``output``/<its first tag>/.

    A photo's first tag is its most confident one (ties by name), from ``tags_source`` only
    when given ("clip" for every CLIP model, or a full source such as "clip:ViT-B-32").
    Untagged photos, photos whose file is missing or offline, and tags that make no safe
    folder are skipped and reported. With ``dry_run`` the plan is returned and nothing is
    touched. ``mode`` "move" needs ``writer``: each photo's row follows its file.

    Raises SortError (with the report of what was finished) when a photo cannot be read
    or the output cannot be written (full disk, no permission).

    ``conn`` is a read connection of the calling thread (``Library.reader()``).
    """
    def folder_of(tag: str) -> tuple[str, ...] | None:
        name = folder_name(tag)
        return None if name is None else (name,)

    rows = [{"id": r["id"], "path": r["path"], "status": r["status"], "group": r["tag"]}
            for r in _tagged(conn, tags_source)]
    return sort_photos(conn, rows, folder_of, output=output, mode=mode, dry_run=dry_run,
                       writer=writer, ungrouped=("untagged", "the photo has no tag"),
                       progress=progress, cancel=cancel)


def sort_photos(
    conn: Connection,
    rows: Iterable[Mapping[str, Any]],
    folder_of: Callable[[str], Sequence[str] | None],
    *,
    output: str | os.PathLike[str],
    mode: str,
    dry_run: bool,
    writer: Writer | None,
    ungrouped: tuple[str, str] = ("untagged", "the photo has no tag"),
    job: str = "sort",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> SortReport:
    """Copy or move photos into folders below ``output``, with every safety rule above.

    The organisers share this: sort-by-tag groups by tag, organise-by-date by day. Each of
    ``rows`` has ``id``, ``path``, ``status`` and ``group`` (None: nothing to sort it by,
    skipped as ``ungrouped`` = (kind, reason)); ``folder_of(group)`` gives the group's folder
    as path components below ``output``, each already one safe name (``folder_name``), or
    None when the group makes no usable folder. Photos go in the order of ``rows``, so the
    first of two photos of the same name keeps it.
    """
    if mode not in (COPY, MOVE):
        raise ValueError(f"mode must be {COPY!r} or {MOVE!r}, not {mode!r}")
    if mode == MOVE and not dry_run and writer is None:
        raise ValueError("moving photos needs the library writer: their rows follow them")
    cancel = cancel or CancelToken()
    meter = ProgressMeter(job, progress)
    out = os.path.abspath(os.fspath(output))
    report = SortReport(mode=mode, output=out, dry_run=dry_run)
    if os.path.lexists(out) and not os.path.isdir(out):
        raise SortError(f"{out} is a file, not a folder: choose a folder to sort into", report)
    if not dry_run:
        try:
            os.makedirs(out, exist_ok=True)
        except OSError as exc:
            raise SortError(f"cannot create {out}: {exc.strerror or exc}", report) from exc
    real_out = os.path.realpath(out)
    roots = sorted((str(r["path"]), int(r["id"])) for r in conn.rows("SELECT id, path FROM roots"))
    report.output_in_library = _root_for(os.path.join(real_out, ""), roots) is not None

    meter.start_phase("planning", None)
    plan: list[tuple[int, str, str, str]] = []  # photo id, source, folder, group
    folders: dict[str, str | _Refused] = {}  # group -> its real folder, or why there is none
    for row in rows:
        pid, source, status, tag = int(row["id"]), str(row["path"]), row["status"], row["group"]
        if tag is None:
            report.skipped.append(Skipped(pid, source, *ungrouped))
            continue
        if status in ("missing", "offline"):
            why = ("the file is missing" if status == "missing"
                   else "the drive holding it is not connected")
            report.skipped.append(Skipped(pid, source, status, why, tag))
            continue
        if tag not in folders:
            folders[tag] = _folder_for(tag, folder_of(tag), out, real_out)
        folder = folders[tag]
        if isinstance(folder, _Refused):
            report.skipped.append(Skipped(pid, source, "refused", str(folder), tag))
            continue
        if os.path.realpath(os.path.dirname(source)) == folder:
            report.skipped.append(Skipped(pid, source, "in_place",
                                          "already in its folder", tag))
            continue
        plan.append((pid, source, folder, tag))
    report.planned = len(plan)

    if dry_run:
        _predict(plan, report)
        report.planned = len(report.placements)
        meter.finish()
        return report

    meter.start_phase("copying photos" if mode == COPY else "moving photos", len(plan))
    for pid, source, folder, tag in plan:
        if cancel.cancelled:
            report.cancelled = True
            break
        meter.advance(current=source)
        if not os.path.lexists(source):
            report.skipped.append(Skipped(pid, source, "missing", "the file is missing", tag))
            continue
        try:
            if not stat.S_ISREG(os.stat(source).st_mode):
                # Never move a folder (or a device) that stands where a photo was.
                raise _SourceProblem(f"cannot read {source}: it is not a file any more")
            _make_folder(folder, real_out)
            if mode == COPY:
                target, already = _copy(source, folder, os.path.basename(source))
                if already:
                    report.skipped.append(Skipped(pid, source, "exists",
                                                  f"already copied to {target}", tag))
                    continue
                report.copied += 1
            else:
                assert writer is not None
                target = _move(source, folder, os.path.basename(source))
                try:
                    _update_row(writer, pid, source, target, roots, report)
                except Exception as exc:
                    where = ("it was put back" if os.path.lexists(source)
                             else f"the file is now at {target}")
                    raise SortError(f"the library could not record the move of {source} "
                                    f"({exc}); {where}, and sorting stopped", report) from exc
                report.moved += 1
        except _Refused as exc:
            report.skipped.append(Skipped(pid, source, "refused", str(exc), tag))
            continue
        except _SourceProblem as exc:
            raise SortError(f"{exc}; stopped (photos sorted before it are done and "
                            "consistent)", report) from exc
        except OSError as exc:
            if isinstance(exc, FileNotFoundError) and not os.path.lexists(source):
                # Gone between the look and the copy (deleted, or its drive removed).
                report.skipped.append(Skipped(pid, source, "missing", "the file is missing",
                                              tag))
                continue
            why = exc.strerror or str(exc)
            if exc.errno in _DISK_FULL:
                raise SortError(f"the disk holding {out} is full: free some space and run "
                                "it again (photos sorted before are done)", report) from exc
            if exc.errno in _NOT_ALLOWED:
                raise SortError(f"cannot write to {folder}: {why}", report) from exc
            # A name this file system refuses, a path too long: this photo only.
            report.skipped.append(Skipped(pid, source, "failed",
                                          f"cannot write to {folder}: {why}", tag))
            continue
        report.placements.append(Placement(pid, source, target, tag))
    meter.finish()
    return report


def _folder_for(group: str, parts: Sequence[str] | None, out: str, real_out: str
                ) -> _Refused | str:
    """The real path of a group's folder, or why there cannot be one."""
    if not parts or any(p in ("", ".", "..") or _SEPARATORS.search(p) for p in parts):
        return _Refused(f"{group!r} makes no usable folder name")
    folder = out
    for part in parts:
        folder = os.path.join(folder, part)
        if not _inside(folder, real_out):
            return _Refused(f"the folder {folder} leads outside {out} (a link?)")
        if os.path.lexists(folder) and not os.path.isdir(folder):
            return _Refused(f"{folder} exists and is not a folder")
    return os.path.realpath(folder)


def _make_folder(folder: str, real_out: str) -> None:
    """Create ``folder`` (a real path below ``real_out``) level by level. Each level is
    checked again before each file: it is still what the plan checked, not a link put in
    its place since."""
    level = real_out
    for part in os.path.relpath(folder, real_out).split(os.sep):
        level = os.path.join(level, part)
        with contextlib.suppress(FileExistsError):
            os.mkdir(level)
        if os.path.islink(level) or not _inside(level, real_out) or not os.path.isdir(level):
            raise _Refused(f"the folder {level} leads outside the output folder (a link?)")


def _predict(plan: list[tuple[int, str, str, str]], report: SortReport) -> None:
    """The targets a real run would choose, given what is on disk now."""
    claimed: set[str] = set()
    for pid, source, folder, tag in plan:
        target: str | None = None
        for name in _names(os.path.basename(source)):
            candidate = os.path.join(folder, name)
            key = os.path.normcase(candidate)
            if key in claimed:
                continue
            if not os.path.lexists(candidate):
                claimed.add(key)
                target = candidate
                break
            if report.mode == COPY and _same_content(source, candidate):
                report.skipped.append(Skipped(pid, source, "exists",
                                              f"already copied to {candidate}", tag))
                break
        if target is not None:
            report.placements.append(Placement(pid, source, target, tag))


def _root_for(path: str, roots: list[tuple[str, int]]) -> int | None:
    best: tuple[int, int] | None = None
    for root, root_id in roots:
        if path.startswith(root.rstrip(os.sep) + os.sep) and (best is None or
                                                               len(root) > best[0]):
            best = (len(root), root_id)
    return None if best is None else best[1]


def _update_row(writer: Writer, photo_id: int, source: str, target: str,
                roots: list[tuple[str, int]], report: SortReport) -> None:
    """Point the photo's row at its new file; put the file back if the library says no."""
    st = os.stat(target)
    root_id = _root_for(target, roots)

    def move(conn: Connection) -> None:
        photos.move_photo(conn, photo_id, target, root_id=root_id, size=st.st_size,
                          mtime_ns=st.st_mtime_ns)

    try:
        writer.call(move)
    except BaseException:
        with contextlib.suppress(OSError):
            _put_back(target, source)
        raise
    if root_id is None:
        report.unwatched += 1
