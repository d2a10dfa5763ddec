"""Model weights onto disk: resumable, verified, atomic.

Weight files are 100 MB – 1 GB and come over home connections that drop, so a download goes to
``<dest>.part`` beside the destination, resumes with an HTTP Range request, is checked against
its size and SHA-256, and only then is renamed onto ``dest``: a loader never sees half a file.
Standard library only, so fetching a model never needs something that is not installed yet.

Every ``DownloadError`` message is shown to the person; each says what happened and what to
try, and one that a front end can help with (installing the file by hand) carries a code.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import re
import secrets
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from glimpse_desktop import __version__
from glimpse_desktop.kernel.messages import CodedError
from glimpse_desktop.kernel.progress import (
    Cancelled,
    CancelToken,
    ProgressCallback,
    ProgressMeter,
)

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = [
    "USER_AGENT",
    "Cancelled",
    "ChecksumError",
    "DownloadError",
    "download",
    "install_file",
    "part_path",
    "sha256_file",
]

USER_AGENT = f"glimpse-desktop/{__version__}"
CHUNK = 256 * 1024  # small enough that a cancel is seen within a fraction of a second

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)", re.IGNORECASE)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NO_NETWORK = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EADDRNOTAVAIL}
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_NOT_ALLOWED = {errno.EACCES, errno.EPERM, errno.EROFS}
_O_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows would otherwise translate newlines


class DownloadError(CodedError):
    """A download or install that failed; the message is for the person. ``models.
    download_failed`` ({"model", "file"}): the file can still be installed by hand."""


class ChecksumError(DownloadError):
    """The file's size or SHA-256 is not the expected one."""


def part_path(dest: Path) -> Path:
    """Where the unfinished download of ``dest`` is kept between attempts."""
    return dest.with_name(dest.name + ".part")


def sha256_file(path: Path, cancel: CancelToken | None = None) -> str:
    """Hex SHA-256 of a file, read in chunks; raises ``Cancelled`` between chunks."""
    hasher = hashlib.sha256()
    _hash_into(hasher, path, None, cancel, None)
    return hasher.hexdigest()


def download(
    urls: Sequence[str],
    dest: Path,
    *,
    sha256: str,
    size: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    timeout: float = 30.0,
    what: str = "",
) -> Path:
    """Fetch ``dest`` from the first of ``urls`` that works and verify it; returns ``dest``.

    ``what`` is the model id: it names the file in messages and in the error's values (how
    to install it by hand on a machine without internet is for the front end to say). A dest
    that already has the right hash is returned without any request. An unfinished
    ``<dest>.part`` from an earlier call is resumed. Raises ``ChecksumError`` when no address
    gave the expected bytes, ``DownloadError`` for any other failure and ``Cancelled`` when
    ``cancel`` was set; the .part is kept whenever it can be resumed.
    """
    job = _Download(dest, sha256=_checked_sha256(sha256), size=size, cancel=cancel,
                    timeout=timeout, model_id=what,
                    meter=ProgressMeter(what or dest.name, progress))
    return job.run(list(urls))


def install_file(
    src: Path,
    dest: Path,
    *,
    sha256: str,
    size: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Copy a weight file fetched by hand (added from a file) to ``dest``.

    The copy is hashed as it is written and renamed onto ``dest`` only when size and SHA-256
    match, so ``dest`` is never half-written or wrong. ``src`` is only read, never moved or
    changed. Raises ``ChecksumError`` for the wrong file, ``DownloadError`` when reading or
    writing fails, ``Cancelled`` when ``cancel`` was set. Returns ``dest``.
    """
    expected = _checked_sha256(sha256)
    meter = ProgressMeter(dest.name, progress)
    try:
        src_size = src.stat().st_size
        is_file = src.is_file()
    except OSError as exc:
        raise DownloadError(f"Cannot read {src}: {exc.strerror or exc}. "
                            "Check the file name and try again.") from exc
    if not is_file:
        raise DownloadError(f"{src} is not a file. Give the path of the downloaded weight file.")
    if size is not None and src_size != size:
        raise ChecksumError(
            f"{src} is {src_size:,} bytes but {dest.name} should be {size:,} bytes. "
            "Check that this is the right file; a download that stopped early is smaller.")
    if dest.exists() and _same_file(src, dest):
        # Copying a file onto itself would truncate it: verify it where it lies instead.
        meter.start_phase("verify", src_size)
        hasher = hashlib.sha256()
        try:
            _hash_into(hasher, src, None, cancel, meter)
        except OSError as exc:
            raise DownloadError(f"Cannot read {src}: {exc.strerror or _short(exc)}. "
                                "Check the file and try again.") from exc
        _check_digest(hasher.hexdigest(), expected, str(src), dest.name)
        meter.finish()
        return dest

    _make_folder(dest.parent, dest.name)
    # A name of our own rather than mkstemp: mkstemp makes the file 0600, and os.replace
    # would carry that onto the model file.
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
    try:
        _copy_verified(src, tmp, src_size, expected, size, cancel, meter, dest)
        try:
            os.replace(tmp, dest)
        except OSError as exc:
            raise _disk_error(exc, dest.parent, dest.name, None, resumable=False) from exc
    except BaseException:
        _unlink(tmp)
        raise
    _fsync_folder(dest.parent)
    # The model is here now; an unfinished download of it would only waste space.
    _unlink(part_path(dest))
    meter.finish()
    return dest


def _copy_verified(src: Path, tmp: Path, total: int, expected: str, size: int | None,
                   cancel: CancelToken | None, meter: ProgressMeter, dest: Path) -> None:
    """Copy ``src`` to the new file ``tmp``, hashing what is written; fsync it if it matches."""
    def cannot_read(exc: OSError) -> DownloadError:
        return DownloadError(f"Cannot read {src}: {exc.strerror or _short(exc)}. "
                             "Check the file and try again.")

    def cannot_write(exc: OSError) -> DownloadError:
        return _disk_error(exc, dest.parent, dest.name, size, resumable=False)

    try:
        inp = open(src, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        raise cannot_read(exc) from exc
    try:
        try:
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
        except OSError as exc:
            raise cannot_write(exc) from exc
        try:
            hasher = hashlib.sha256()
            meter.start_phase("copy", total)
            while True:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                try:
                    chunk = inp.read(CHUNK)
                except OSError as exc:
                    raise cannot_read(exc) from exc
                if not chunk:
                    break
                try:
                    _write_all(out, chunk)
                except OSError as exc:
                    raise cannot_write(exc) from exc
                hasher.update(chunk)
                meter.advance(len(chunk))
            if size is not None and meter.done != size:  # the source changed while we read
                raise ChecksumError(f"{src} gave {meter.done:,} bytes, {size:,} expected. "
                                    "Check that the file is complete and try again.")
            _check_digest(hasher.hexdigest(), expected, str(src), dest.name)
            try:
                os.fsync(out)  # the data must be on disk before the name says it is there
            except OSError as exc:
                raise cannot_write(exc) from exc
        finally:
            os.close(out)
    finally:
        inp.close()


# --- the download itself ---------------------------------------------------------------------


class _UrlFailed(Exception):
    """This address cannot give us the file; the next one may."""

    def __init__(self, reason: str, *, checksum: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.checksum = checksum


class _Interrupted(Exception):
    """The body stopped early; the .part holds what came, worth one more try with Range."""


class _Restart(Exception):
    """The .part cannot be continued from this address; fetch the whole file once more."""


class _Download:
    def __init__(self, dest: Path, *, sha256: str, size: int | None,
                 cancel: CancelToken | None, timeout: float, model_id: str,
                 meter: ProgressMeter) -> None:
        self.dest = dest
        self.part = part_path(dest)
        self.sha256 = sha256
        self.size = size
        self.cancel = cancel
        self.timeout = timeout
        self.model_id = model_id
        self.name = model_id or dest.name
        self.meter = meter
        # Invariant: self.hasher has seen exactly the first self.hashed bytes of the .part, so a
        # retry within this call does not read the .part again. -1: not hashed yet.
        self.hasher: _Hash = hashlib.sha256()
        self.hashed = -1
        self.opener = urllib.request.build_opener()

    # The steps, in order.

    def run(self, urls: list[str]) -> Path:
        if self._dest_is_good():
            return self.dest
        _make_folder(self.dest.parent, self.name)
        if self._part_is_done():
            return self.dest
        if not urls:
            raise DownloadError(f"No download address is known for {self.name}.",
                                code="models.download_failed", values=self._values())
        failures: list[tuple[str, _UrlFailed]] = []
        for url in urls:
            try:
                self._from(url)
            except _UrlFailed as exc:
                failures.append((url, exc))
                continue
            self.meter.finish()
            return self.dest
        raise self._final_error(failures)

    def _dest_is_good(self) -> bool:
        try:
            have = self.dest.stat().st_size
        except OSError:
            return False
        if self.size is not None and have != self.size:
            return False
        self.meter.start_phase("verify", have)
        hasher = hashlib.sha256()
        try:
            _hash_into(hasher, self.dest, None, self.cancel, self.meter)
        except OSError:
            return False  # unreadable: download it again, the rename replaces it
        if hasher.hexdigest() != self.sha256:
            return False
        self.meter.finish()
        return True

    def _part_is_done(self) -> bool:
        """With the size known, a .part of that size needs no request, only a check."""
        have = self._part_size()
        if self.size is None or have < self.size:
            return False
        if have == self.size:
            self.meter.start_phase("download", self.size)
            self._hash_part(have)
            if self.hasher.hexdigest() == self.sha256:
                self._install()
                self.meter.finish()
                return True
        self._discard_part()  # too long or wrong: no byte of it can be trusted
        return False

    def _from(self, url: str) -> None:
        """One address: resume, retry once after a dropped connection, restart once."""
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise _UrlFailed("not an http or https address")
        retries, restarts = 1, 1
        while True:
            try:
                self._attempt(url)
                return
            except _Interrupted as exc:
                if retries == 0:
                    raise _UrlFailed(f"{exc} (twice)") from exc
                retries -= 1
            except _Restart as exc:
                if restarts == 0:
                    raise _UrlFailed(str(exc)) from exc
                restarts -= 1
                self._discard_part()

    def _attempt(self, url: str) -> None:
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        offset = self._part_size()
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        host = urllib.parse.urlsplit(url).hostname or url
        try:
            response: http.client.HTTPResponse = self.opener.open(
                urllib.request.Request(url, headers=headers), timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            try:
                if exc.code == 416 and offset:
                    self._range_not_satisfiable(exc.headers.get("Content-Range", ""), offset)
                    return
                raise _UrlFailed(f"HTTP {exc.code} {exc.reason}") from exc
            finally:
                exc.close()
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            raise _UrlFailed(_describe_network_error(exc, host, self.timeout)) from exc

        with response:
            status = response.status
            length = _int_or_none(response.getheader("Content-Length"))
            if status == 206:
                match = _CONTENT_RANGE.fullmatch(response.getheader("Content-Range", "").strip())
                if match is None:
                    raise _Restart("the server answered a resume with no usable Content-Range")
                start, end = int(match[1]), int(match[2])
                total = None if match[3] == "*" else int(match[3])
                if start != offset:
                    raise _Restart(f"the server resumed at byte {start:,}, not {offset:,}")
                if length is None:
                    length = end - start + 1
            elif status == 200:
                offset, total = 0, length  # the server ignored Range: it sends the whole file
            else:
                raise _UrlFailed(f"unexpected answer HTTP {status} {response.reason}")
            if self.size is not None and total is not None and total != self.size:
                raise _UrlFailed(f"the server offers {total:,} bytes, {self.size:,} expected",
                                 checksum=True)
            self._receive(response, offset, total if total is not None else self.size, length)
            if total is not None and self.hashed < total:
                # A server that sends less than asked for; Range picks up after it.
                raise _Interrupted(f"the server sent {self.hashed:,} of {total:,} bytes")
        self._verify_and_install(resumed=offset > 0)

    def _receive(self, response: http.client.HTTPResponse, offset: int, total: int | None,
                 length: int | None) -> None:
        self.meter.start_phase("download", total)
        if offset:
            self._hash_part(offset)
        else:
            self.hasher, self.hashed = hashlib.sha256(), 0
        flags = os.O_WRONLY | os.O_CREAT | _O_BINARY
        flags |= os.O_APPEND if offset else os.O_TRUNC
        try:
            fd = os.open(self.part, flags, 0o666)
        except OSError as exc:
            raise self._disk_error(exc) from exc
        received = 0
        try:
            while True:
                try:
                    # read1 returns what has arrived, so cancel and progress keep up with a
                    # slow link instead of waiting for a whole chunk.
                    chunk = response.read1(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _Interrupted(f"the connection broke ({_short(exc)})") from exc
                if not chunk:
                    break
                try:
                    _write_all(fd, chunk)
                except OSError as exc:
                    raise self._disk_error(exc) from exc
                self.hasher.update(chunk)
                self.hashed += len(chunk)
                received += len(chunk)
                self.meter.advance(len(chunk))
                if self.size is not None and self.hashed > self.size:
                    os.close(fd)
                    fd = -1
                    self._discard_part()
                    raise _UrlFailed(f"the server sent more than the {self.size:,} bytes "
                                     "expected", checksum=True)
                if self.cancel is not None:
                    self.cancel.raise_if_cancelled()
        finally:
            if fd >= 0:
                os.close(fd)
        if length is not None and received < length:
            raise _Interrupted(f"the connection closed after {received:,} of {length:,} bytes")

    def _range_not_satisfiable(self, content_range: str, offset: int) -> None:
        """HTTP 416: the .part reaches the end of the file or beyond; check it or start over."""
        match = _UNSATISFIED_RANGE.fullmatch(content_range.strip())
        total = int(match[1]) if match else None
        if total is not None and self.size is not None and total != self.size:
            raise _UrlFailed(f"the server offers {total:,} bytes, {self.size:,} expected",
                             checksum=True)
        if total is not None and total != offset:
            raise _Restart("the partial file is longer than the file on the server")
        self.meter.start_phase("download", offset)
        self._hash_part(offset)
        self._verify_and_install(resumed=True)

    def _verify_and_install(self, *, resumed: bool) -> None:
        got = self.hashed
        digest = self.hasher.hexdigest()
        if self.size is not None and got != self.size:
            problem = f"{got:,} bytes arrived, {self.size:,} expected"
        elif digest != self.sha256:
            problem = f"SHA-256 {digest}, expected {self.sha256}"
        else:
            self._install()
            return
        self._discard_part()
        if resumed:
            # Bytes kept from an earlier attempt may be the bad ones: one fresh download.
            raise _Restart(f"the resumed file did not match ({problem})")
        raise _UrlFailed(f"wrong file: {problem}", checksum=True)

    def _install(self) -> None:
        try:
            fd = os.open(self.part, os.O_RDWR | _O_BINARY)
            try:
                os.fsync(fd)  # the data must be on disk before the name says it is complete
            finally:
                os.close(fd)
            os.replace(self.part, self.dest)
        except OSError as exc:
            raise self._disk_error(exc) from exc
        _fsync_folder(self.dest.parent)

    # Helpers.

    def _part_size(self) -> int:
        try:
            return self.part.stat().st_size
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise self._disk_error(exc) from exc

    def _hash_part(self, length: int) -> None:
        """Bring the hasher up to the first ``length`` bytes of the .part, counting them."""
        if self.hashed != length:
            self.hasher = hashlib.sha256()
            try:
                _hash_into(self.hasher, self.part, length, self.cancel, self.meter)
            except OSError as exc:
                raise self._disk_error(exc) from exc
            self.hashed = length
        else:
            self.meter.advance(length)

    def _discard_part(self) -> None:
        _unlink(self.part)
        self.hasher, self.hashed = hashlib.sha256(), -1

    def _disk_error(self, exc: OSError) -> DownloadError:
        need = None if self.size is None else self.size - max(self.hashed, 0)
        return _disk_error(exc, self.dest.parent, self.name, need, resumable=True)

    def _values(self) -> dict[str, str]:
        """What a front end needs to say how to install the file by hand."""
        return {"model": self.model_id or self.dest.name, "file": self.dest.name}

    def _final_error(self, failures: list[tuple[str, _UrlFailed]]) -> DownloadError:
        lines = [f"Could not download {self.name}:"]
        lines += [f"  {url}: {failure.reason}" for url, failure in failures]
        checksum = any(failure.checksum for _, failure in failures)
        if checksum:
            lines.append("The server sent a different file from the one expected (it may have "
                         "changed or be damaged). Try again later or update Glimpse.")
        else:
            kept = self._part_size()
            again = "Check the internet connection and try again"
            if kept:
                again += f"; the {kept:,} bytes already downloaded are kept and it will resume"
            lines.append(again + ".")
        if self.size is not None:
            lines.append(f"(The file is {self.size:,} bytes, SHA-256 {self.sha256}.)")
        else:
            lines.append(f"(The file's SHA-256 is {self.sha256}.)")
        message = "\n".join(lines)
        kind = ChecksumError if checksum else DownloadError
        return kind(message, code="models.download_failed", values=self._values())


# --- small helpers ---------------------------------------------------------------------------


def _checked_sha256(sha256: str) -> str:
    value = sha256.strip().lower()
    if not _SHA256.fullmatch(value):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return value


def _check_digest(got: str, expected: str, source: str, name: str) -> None:
    if got != expected:
        raise ChecksumError(
            f"{source} is not the expected file for {name}: its SHA-256 is {got}, expected "
            f"{expected}. Check that this is the right file and that it downloaded completely.")


def _hash_into(hasher: _Hash, path: Path, limit: int | None, cancel: CancelToken | None,
               meter: ProgressMeter | None) -> None:
    left = limit
    with open(path, "rb") as f:
        while left is None or left > 0:
            if cancel is not None:
                cancel.raise_if_cancelled()
            chunk = f.read(CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                break
            hasher.update(chunk)
            if left is not None:
                left -= len(chunk)
            if meter is not None:
                meter.advance(len(chunk))
    if left:
        raise OSError(errno.EIO, f"{path} is shorter than expected", str(path))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _make_folder(folder: Path, name: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(exc, folder, name, None, resumable=False) from exc


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a folder, and there the
    # rename is journalled by NTFS anyway.
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the file itself is synced
    finally:
        os.close(fd)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass  # a stale file left behind is harmless; failing the whole job over it is not


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 1_000_000 else f"{n:,} bytes"


def _short(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _disk_error(exc: OSError, folder: Path, name: str, need: int | None, *,
                resumable: bool) -> DownloadError:
    kept = (" The part already downloaded is kept and the download resumes where it stopped."
            if resumable else "")
    if exc.errno in _DISK_FULL:
        more = f" (about {_mb(need)} more is needed)" if need else ""
        return DownloadError(f"Not enough free disk space in {folder} to save {name}{more}. "
                             f"Free some space and try again.{kept}")
    if exc.errno in _NOT_ALLOWED:
        return DownloadError(f"Glimpse may not write to {folder} ({exc.strerror}). Make the "
                             f"folder writable or choose another model folder, then try again."
                             f"{kept}")
    where = exc.filename or folder
    return DownloadError(f"Could not write {where} while saving {name}: "
                         f"{exc.strerror or _short(exc)}. Check the disk and try again.{kept}")


def _describe_network_error(exc: BaseException, host: str, timeout: float) -> str:
    reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror) or (
            isinstance(reason, OSError) and reason.errno in _NO_NETWORK):
        return f"could not reach {host} (no network?)"
    if isinstance(reason, ConnectionRefusedError):
        return f"{host} refused the connection (server down?)"
    if isinstance(reason, TimeoutError):
        return f"{host} did not answer within {timeout:g} s"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"the certificate of {host} could not be verified ({reason.verify_message})"
    if isinstance(reason, http.client.RemoteDisconnected):
        return f"{host} closed the connection without answering"
    if isinstance(reason, BaseException):
        return f"{host}: {_short(reason)}"
    return f"{host}: {reason}"
