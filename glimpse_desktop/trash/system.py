"""The platform's trash: put a file there, find it again, put it back, delete it for good.

- **Linux and the other freedesktop systems**: the XDG trash specification, written here
  (the same directories and ``.trashinfo`` files GNOME Files, Dolphin and send2trash use): the
  home trash (``$XDG_DATA_HOME/Trash``) for files on the home's file system, else the volume's
  ``$topdir/.Trash/$uid`` (when an administrator made ``.Trash`` sticky) or ``.Trash-$uid``.
  Written here rather than through send2trash because a restore must know where each file
  went (send2trash returns nothing, and freezes ``XDG_DATA_HOME`` when it is imported), and
  because a file on another drive must never be copied across to the home trash (send2trash
  does that when the volume has no trash): a volume that cannot hold a trash refuses instead.
  Restore and permanent deletion work fully.
- **macOS and Windows**: send2trash moves the file (Finder's and the Recycle Bin's own
  calls). Windows: the Recycle Bin's ``$I`` records name each file's original path, so a
  restore finds it and moves it back, and a permanent delete removes it. macOS keeps no
  record a program may read (Finder's "Put Back" data is private): a restore looks in the
  volume's trash for a file of the same name and size moved there after the photo went; when
  none is found, the person uses Finder's "Put Back", and Glimpse takes the photo back when it
  sees the file at its place again.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import stat
import struct
import sys
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote

__all__ = ["PLATFORM", "TrashError", "locate", "purge", "put_back", "send"]

# "xdg", "mac" or "windows": how this machine's trash is reached.
PLATFORM = ("mac" if sys.platform == "darwin" else
            "windows" if sys.platform == "win32" else "xdg")

_INFO_SUFFIX = ".trashinfo"


class TrashError(Exception):
    """A file the trash did not take or give back; ``code`` says why: ``read_only`` (its
    folder or volume cannot be written), ``not_found`` (the file is not there), ``no_trash``
    (its volume has no trash Glimpse may use), ``taken`` (another file is at the place it
    would go back to), ``not_in_trash`` (it is no longer in the trash), ``failed`` (any
    other refusal, with the system's words in ``why``)."""

    def __init__(self, code: str, path: str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.code = code
        self.path = path
        self.why = why


def _refusal(exc: OSError, path: str) -> TrashError:
    why = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return TrashError("read_only", path, why)
    if exc.errno == errno.ENOENT:
        return TrashError("not_found", path, why)
    return TrashError("failed", path, why)


@dataclass(frozen=True)
class Sent:
    """A file moved to the trash: where it was and where it is now (None: the platform did
    not say; ``locate`` looks)."""

    original: str
    location: str | None


# ---------------------------------------------------------------------------- XDG


def _home_trash() -> str:
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"),
                                                          ".local", "share")
    return os.path.join(data, "Trash")


def _existing_parent(path: str) -> str:
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _mount_point(path: str) -> str:
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _volume_trashes(topdir: str) -> list[str]:
    """The trash directories a volume may hold for this user, in the spec's order."""
    uid = str(os.getuid()) if hasattr(os, "getuid") else "0"
    found = []
    shared = os.path.join(topdir, ".Trash")
    try:
        st = os.lstat(shared)
        if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX:
            found.append(os.path.join(shared, uid))
    except OSError:
        pass
    found.append(os.path.join(topdir, f".Trash-{uid}"))
    return found


def _xdg_trash_for(path: str) -> tuple[str, str | None]:
    """(trash directory, topdir for relative Paths or None for absolute ones) for a file."""
    home = _home_trash()
    try:
        same = os.lstat(path).st_dev == os.stat(_existing_parent(home)).st_dev
    except OSError as exc:
        raise _refusal(exc, path) from exc
    if same:
        return home, None
    topdir = _mount_point(os.path.dirname(path))
    for trash in _volume_trashes(topdir):
        try:
            os.makedirs(os.path.join(trash, "files"), mode=0o700, exist_ok=True)
            os.makedirs(os.path.join(trash, "info"), mode=0o700, exist_ok=True)
            return trash, topdir
        except OSError:
            continue
    raise TrashError("no_trash", path, f"the drive at {topdir} has no trash Glimpse can use "
                     "(it may be read-only)")


def _xdg_send(path: str) -> Sent:
    trash, topdir = _xdg_trash_for(path)
    files, info = os.path.join(trash, "files"), os.path.join(trash, "info")
    try:
        os.makedirs(files, mode=0o700, exist_ok=True)
        os.makedirs(info, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise TrashError("no_trash", path, f"cannot make the trash at {trash}: "
                         f"{exc.strerror or exc}") from exc
    base = os.path.basename(path)
    stem, ext = os.path.splitext(base)
    recorded = path if topdir is None else os.path.relpath(path, topdir)
    when = dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    body = f"[Trash Info]\nPath={quote(recorded)}\nDeletionDate={when}\n".encode()
    for n in range(1, 10_000):
        name = base if n == 1 else f"{stem}.{n}{ext}"
        info_path = os.path.join(info, name + _INFO_SUFFIX)
        target = os.path.join(files, name)
        if os.path.lexists(target):
            continue
        try:
            # The info file reserves the name (O_EXCL), as the spec asks: two programs trashing
            # files of one name at once never take the same slot.
            fd = os.open(info_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise TrashError("no_trash", path, exc.strerror or str(exc)) from exc
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        try:
            os.rename(path, target)
        except OSError as exc:
            os.unlink(info_path)
            raise _refusal(exc, path) from exc
        return Sent(path, target)
    raise TrashError("failed", path, "the trash holds too many files of this name")


def _xdg_trash_dirs(original: str) -> list[tuple[str, str | None]]:
    dirs: list[tuple[str, str | None]] = [(_home_trash(), None)]
    topdir = _mount_point(os.path.dirname(original))
    dirs += [(t, topdir) for t in _volume_trashes(topdir)]
    return dirs


def _xdg_locate(original: str, since: float) -> str | None:
    best: tuple[float, str] | None = None
    for trash, topdir in _xdg_trash_dirs(original):
        info = os.path.join(trash, "info")
        try:
            names = os.listdir(info)
        except OSError:
            continue
        for name in names:
            if not name.endswith(_INFO_SUFFIX):
                continue
            try:
                with open(os.path.join(info, name), encoding="utf-8") as fh:
                    fields = dict(line.strip().split("=", 1) for line in fh if "=" in line)
                recorded = unquote(fields["Path"])
                when = dt.datetime.strptime(fields["DeletionDate"][:19],
                                            "%Y-%m-%dT%H:%M:%S").timestamp()
            except (OSError, KeyError, ValueError, UnicodeDecodeError):
                continue
            full = recorded if os.path.isabs(recorded) or topdir is None \
                else os.path.join(topdir, recorded)
            target = os.path.join(trash, "files", name[:-len(_INFO_SUFFIX)])
            # DeletionDate has whole seconds in local time: a second of slack.
            if full == original and when >= since - 1 and os.path.lexists(target) \
                    and (best is None or when > best[0]):
                best = (when, target)
    return None if best is None else best[1]


def _xdg_info_of(location: str) -> str:
    trash = os.path.dirname(os.path.dirname(location))
    return os.path.join(trash, "info", os.path.basename(location) + _INFO_SUFFIX)


# ---------------------------------------------------------------------------- Windows


def _recycle_records(original: str, root: str | None = None) -> list[tuple[float, str, str]]:
    """(deleted at, $R file, $I file) of the Recycle Bin's records of ``original``."""
    drive = root or os.path.join(os.path.splitdrive(original)[0] + os.sep, "$Recycle.Bin")
    found = []
    try:
        bins = [os.path.join(drive, d) for d in os.listdir(drive)]
    except OSError:
        return []
    for folder in bins:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.startswith("$I"):
                continue
            record = os.path.join(folder, name)
            parsed = parse_recycle_record(record)
            if parsed is None or os.path.normcase(parsed[1]) != os.path.normcase(original):
                continue
            found.append((parsed[0], os.path.join(folder, "$R" + name[2:]), record))
    return found


def parse_recycle_record(record: str) -> tuple[float, str] | None:
    """(deleted at, original path) from a Recycle Bin ``$I`` file (Vista's version 1, and
    version 2 of Windows 10 on: a 64-bit version, size and FILETIME, then the path)."""
    try:
        with open(record, "rb") as fh:
            data = fh.read(70_000)
        version, _size, filetime = struct.unpack_from("<qqq", data, 0)
        if version == 1:
            raw = data[24:24 + 520]
        elif version == 2:
            (length,) = struct.unpack_from("<i", data, 24)
            raw = data[28:28 + 2 * length]
        else:
            return None
        path = raw.decode("utf-16-le").split("\x00", 1)[0]
    except (OSError, struct.error, UnicodeDecodeError):
        return None
    return filetime / 10_000_000 - 11_644_473_600, path


# ---------------------------------------------------------------------------- macOS


def _mac_locate(original: str, since: float, size: int | None) -> str | None:
    stem, ext = os.path.splitext(os.path.basename(original))
    uid = str(os.getuid()) if hasattr(os, "getuid") else "0"
    places = [os.path.expanduser("~/.Trash"),
              os.path.join(_mount_point(os.path.dirname(original)), ".Trashes", uid)]
    best: tuple[float, str] | None = None
    for place in places:
        try:
            entries = list(os.scandir(place))
        except OSError:
            continue
        for entry in entries:
            if not (entry.name.startswith(stem) and entry.name.endswith(ext)):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            # Finder sets the change time when it moves a file in; the size tells copies of
            # one name apart.
            if st.st_ctime >= since - 2 and (size is None or st.st_size == size) \
                    and (best is None or st.st_ctime > best[0]):
                best = (st.st_ctime, entry.path)
    return None if best is None else best[1]


# ---------------------------------------------------------------------------- the four calls


def send(path: str) -> Sent:
    """Move one file to the trash, or raise ``TrashError`` with the file where it was."""
    if not os.path.lexists(path):
        raise TrashError("not_found", path, "the file is not there")
    if not os.access(os.path.dirname(path) or ".", os.W_OK):
        raise TrashError("read_only", path, "its folder cannot be written")
    if PLATFORM == "xdg":
        return _xdg_send(path)
    from send2trash import send2trash
    from send2trash.exceptions import TrashPermissionError

    size = os.lstat(path).st_size
    since = time.time()
    try:
        send2trash(path)
    except TrashPermissionError as exc:
        raise TrashError("no_trash", path, str(exc)) from exc
    except OSError as exc:
        raise _refusal(exc, path) from exc
    return Sent(path, locate(path, None, since, size=size))


def locate(original: str, location: str | None, since: float, *, size: int | None = None
           ) -> str | None:
    """Where the file that was at ``original`` (sent at ``since``, seconds since the epoch)
    is in the trash now: ``location`` when it is still there, else what the trash's own
    records say; None when it cannot be found (emptied, restored by the system, or a
    platform that keeps no record)."""
    if location and os.path.lexists(location):
        return location
    if PLATFORM == "xdg":
        return _xdg_locate(original, since)
    if PLATFORM == "windows":
        records = [r for r in _recycle_records(original) if r[0] >= since - 2
                   and os.path.lexists(r[1])]
        return max(records)[1] if records else None
    return _mac_locate(original, since, size)


def _record_of(location: str) -> str | None:
    """The trash's record of a file in it, removed with it (XDG's info file, Windows' $I)."""
    if PLATFORM == "xdg":
        return _xdg_info_of(location)
    if PLATFORM == "windows":
        folder, name = os.path.split(location)
        return os.path.join(folder, "$I" + name[2:]) if name.startswith("$R") else None
    return None


def put_back(location: str, original: str) -> None:
    """Move a file from the trash back to where it was (its folder made again if it went);
    never over another file."""
    if os.path.lexists(original):
        raise TrashError("taken", original, "another file is there now")
    if not os.path.lexists(location):
        raise TrashError("not_in_trash", original, "the file is no longer in the trash")
    try:
        os.makedirs(os.path.dirname(original) or ".", exist_ok=True)
        try:
            os.rename(location, original)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # A trash on another file system than the folder (macOS's home trash for a file
            # from another volume): copied back whole, then removed from the trash.
            shutil.move(location, original)
    except OSError as exc:
        raise _refusal(exc, original) from exc
    record = _record_of(location)
    if record is not None:
        try:
            os.unlink(record)
        except OSError:
            pass   # an orphan record: the file managers ignore one whose file is gone


def purge(location: str) -> None:
    """Delete a file in the trash for good (and the trash's record of it)."""
    try:
        if os.path.isdir(location) and not os.path.islink(location):
            shutil.rmtree(location)
        else:
            os.unlink(location)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _refusal(exc, location) from exc
    record = _record_of(location)
    if record is not None:
        try:
            os.unlink(record)
        except OSError:
            pass
