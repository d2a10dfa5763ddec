"""The one connection factory and the one writer.

apsw is the driver everywhere: many Pythons (pyenv builds, macOS' system Python) ship a
``sqlite3`` module that cannot load extensions, and sqlite-vec is an extension. apsw bundles its
own SQLite (with FTS5) and loads extensions on every platform, so there is a single driver to
reason about.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import apsw
import sqlite_vec

from glimpse_desktop.kernel.messages import CodedError

T = TypeVar("T")

# "GLMP": marks a file as a Glimpse library so a random SQLite file is never migrated by mistake.
APPLICATION_ID = 0x474C4D50
BUSY_TIMEOUT_MS = 10_000


class LibraryError(CodedError):
    """A library file cannot be opened or used; the message says why, the code as data."""


class NotALibraryError(LibraryError):
    """The file is a SQLite database but not a Glimpse library."""


class LibraryFullError(LibraryError):
    """The disk (or quota) holding the library is full; what was committed is kept."""


# Any other failure of the storage layer; callers above the library need not know the driver.
StorageError = apsw.Error


_ENVIRONMENTAL = (apsw.FullError, apsw.IOError, apsw.CorruptError, apsw.ReadOnlyError,
                  apsw.BusyError, apsw.LockedError, apsw.CantOpenError, apsw.NoMemError,
                  MemoryError)


def _full_in_disguise(exc: BaseException) -> bool:
    # Virtual tables (sqlite-vec's vec0) report a full disk met while creating their shadow
    # tables as a plain SQLError carrying SQLite's message.
    return isinstance(exc, apsw.SQLError) and "database or disk is full" in str(exc)


def is_environmental(exc: BaseException) -> bool:
    """True for failures of the disk or the database itself, as opposed to a bad value."""
    return isinstance(exc, _ENVIRONMENTAL) or _full_in_disguise(exc)


def translate(exc: BaseException, path: str) -> BaseException:
    """A driver error as the message a person can act on (others pass through unchanged)."""
    if isinstance(exc, apsw.FullError) or _full_in_disguise(exc):
        return LibraryFullError(
            f"the disk holding the library {path} is full: free some space and run the "
            "command again (everything saved before this point is kept)")
    if isinstance(exc, apsw.ReadOnlyError):
        return LibraryError(f"the library {path} is read-only: check the permissions of the "
                            "file and its folder")
    if isinstance(exc, apsw.IOError):
        return LibraryError(f"the library {path} could not be written ({exc}); is the disk "
                            "full or removed?")
    if isinstance(exc, apsw.CorruptError):
        return LibraryError(f"the library {path} is damaged ({exc}); restore a backup "
                            "(the .bak copies beside it) or open another library")
    return exc


class Connection:
    """A thin, typed wrapper over an apsw connection with the pragmas Glimpse relies on."""

    def __init__(self, raw: apsw.Connection, path: str) -> None:
        self.raw = raw
        self.path = path
        # Work a write leaves to its end, by key, and what it has gathered for it until then
        # (kernel/fts.py: the photos whose full-text rows to rebuild once, whichever modules
        # changed their words). Only for a transaction ``transaction()`` opened.
        self._before_commit: dict[str, Callable[[Connection], None]] = {}
        self.pending: dict[str, Any] = {}
        self._managed = False

    def execute(self, sql: str, params: Any = None) -> apsw.Cursor:
        return self.raw.execute(sql, params)

    def executemany(self, sql: str, seq: Any) -> apsw.Cursor:
        return self.raw.executemany(sql, seq)

    def one(self, sql: str, params: Any = None) -> Any:
        """First column of the first row, or None."""
        row = self.raw.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def rows(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        """All rows as dicts keyed by column name."""
        cur = self.raw.execute(sql, params)
        out: list[dict[str, Any]] = []
        names: list[str] | None = None
        for row in cur:
            if names is None:
                names = [d[0] for d in cur.getdescription()]
            out.append(dict(zip(names, row, strict=True)))
        return out

    def row(self, sql: str, params: Any = None) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def before_commit(self, key: str, fn: Callable[[Connection], None]) -> bool:
        """Have ``fn(self)`` run once, just before the transaction that ``transaction()``
        opened commits (the first ``fn`` given for a key is kept; ``pending[key]`` holds what
        the write gathers for it until then). False outside such a transaction: the caller
        does its work at once."""
        if not self._managed or not self.in_transaction:
            return False
        self._before_commit.setdefault(key, fn)
        return True

    @contextlib.contextmanager
    def transaction(self, mode: str = "IMMEDIATE") -> Iterator[Connection]:
        """BEGIN <mode> ... COMMIT, rolled back on any exception; the work registered with
        ``before_commit`` runs just before the COMMIT, inside the transaction."""
        self.raw.execute(f"BEGIN {mode}")
        self._managed = True
        try:
            yield self
            while self._before_commit:
                key = next(iter(self._before_commit))
                self._before_commit.pop(key)(self)
        except BaseException:
            # SQLite itself ends the transaction on some errors (SQLITE_FULL, IOERR).
            if self.in_transaction:
                self.raw.execute("ROLLBACK")
            raise
        else:
            self.raw.execute("COMMIT")
        finally:
            self._managed = False
            self._before_commit.clear()
            self.pending.clear()

    @property
    def in_transaction(self) -> bool:
        return not self.raw.getautocommit()

    def close(self, *, busy_ok: bool = False) -> bool:
        """Close; with ``busy_ok`` a connection in use by another thread right now is left
        open (False) instead of raising."""
        try:
            self.raw.close()
        except apsw.ThreadingViolationError:
            if not busy_ok:
                raise
            return False
        return True


def connect(path: str | Path, *, readonly: bool = False, create: bool = True) -> Connection:
    """Open a library file with every PRAGMA set and sqlite-vec loaded.

    This is the only function in Glimpse that opens a database.
    """
    path = str(path)
    # Reading never makes a library: without ``create`` the file must already be one.
    must_be_library = (readonly or not create) and path != ":memory:"
    if path != ":memory:":
        _check_place(path, must_exist=must_be_library)
    flags = apsw.SQLITE_OPEN_READONLY if readonly else apsw.SQLITE_OPEN_READWRITE
    if create and not readonly:
        flags |= apsw.SQLITE_OPEN_CREATE
    try:
        raw = apsw.Connection(path, flags=flags)
    except apsw.Error as exc:
        # SQLite says "disk I/O error" for a folder opened read-only; say what is wrong.
        raise LibraryError(f"cannot open library {path}: {_why_cannot_open(path)}",
                           code="library.cannot_open",
                           values={"path": path, "why": _why_cannot_open(path)}) from exc
    raw.setbusytimeout(BUSY_TIMEOUT_MS)
    try:
        raw.enable_load_extension(True)
        raw.load_extension(sqlite_vec.loadable_path())
        raw.enable_load_extension(False)
    except apsw.Error as exc:
        raw.close()
        raise LibraryError(f"cannot load the sqlite-vec extension: {exc}") from exc
    conn = Connection(raw, path)
    try:
        # Identify the file before changing anything in it (WAL mode is persistent): another
        # program's database chosen by mistake must be left exactly as it was.
        # Both facts from one snapshot: another process may be creating this library now.
        with conn.transaction("DEFERRED"):
            app_id = int(conn.one("PRAGMA application_id"))
            tables = int(conn.one("SELECT count(*) FROM sqlite_master"))
        if app_id != APPLICATION_ID and (app_id != 0 or tables != 0):
            raise NotALibraryError(
                f"{path} is a SQLite database but not a Glimpse library",
                code="library.foreign", values={"path": path})
        if app_id != APPLICATION_ID and must_be_library:
            # An empty file (or an empty database) is not a library yet; only a command that
            # creates one may make it one.
            empty = os.path.getsize(path) == 0
            raise NotALibraryError(
                f"{path} is empty: it is not a Glimpse library" if empty else
                f"{path} is an empty SQLite database, not a Glimpse library",
                code="library.empty", values={"path": path})
        if not readonly and path != ":memory:":
            # WAL lets readers (the window, the CLI's status) run while ingestion writes.
            mode = _with_retry(lambda: conn.one("PRAGMA journal_mode=WAL"))
            if mode is None or str(mode).lower() != "wal":
                raise LibraryError(f"{path}: cannot switch to WAL journal mode (got {mode})")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-32000")
        # Verify the pieces the schema depends on at open, so a broken install fails here with
        # a clear message instead of deep inside a query.
        conn.one("SELECT vec_version()")
    except LibraryError:
        raw.close()
        raise
    except apsw.NotADBError as exc:
        raw.close()
        raise NotALibraryError(
            f"{path} is not a Glimpse library (it is not a SQLite database)",
            code="library.not_sqlite", values={"path": path}) from exc
    except (apsw.ReadOnlyError, apsw.CantOpenError) as exc:
        raw.close()
        raise LibraryError(f"cannot use library {path}: {_why_cannot_open(path)}",
                           code="library.cannot_open",
                           values={"path": path, "why": _why_cannot_open(path)}) from exc
    except apsw.Error as exc:
        raw.close()
        raise LibraryError(f"cannot use library {path}: {exc}", code="library.cannot_open",
                           values={"path": path, "why": str(exc)}) from exc
    return conn


def _with_retry(fn: Callable[[], T], seconds: float = BUSY_TIMEOUT_MS / 1000) -> T:
    """Switching the journal mode needs a moment alone with the file; SQLite's busy handler
    does not cover it, so retry while another process holds it."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return fn()
        except apsw.BusyError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _check_place(path: str, *, must_exist: bool) -> None:
    """Refuse, in words, a path that cannot hold a library before SQLite is asked to open it
    (it would say "disk I/O error" or "unable to open database file")."""
    if os.path.isdir(path):
        raise LibraryError(f"{path} is a folder, not a library file",
                           code="library.is_folder", values={"path": path})
    if must_exist and not os.path.exists(path):
        raise LibraryError(f"there is no library at {path}", code="library.missing",
                           values={"path": path})


def _why_cannot_open(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        return "it is a folder, not a library file"
    if not os.path.isdir(folder):
        return f"the folder {folder} does not exist"
    if not os.path.exists(path) and not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is read-only for you (a new library cannot be made there)"
    if os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        return "the file is read-only or not yours (check its permissions)"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (f"the folder {folder} is read-only for you (the library needs to write its "
                "journal beside the file)")
    return "the file could not be opened"


def versions(conn: Connection) -> dict[str, str]:
    """Driver, SQLite, sqlite-vec and FTS5 facts for the doctor report."""
    fts5 = "yes"
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.__fts5_probe USING fts5(x)")
        conn.execute("DROP TABLE temp.__fts5_probe")
    except apsw.Error as exc:
        fts5 = f"no ({exc})"
    return {
        "driver": f"apsw {apsw.apsw_version()}",
        "sqlite": apsw.sqlite_lib_version(),
        "sqlite_vec": str(conn.one("SELECT vec_version()")),
        "fts5": fts5,
    }


class Writer:
    """The library's single writer: a thread that owns the write connection.

    Work is submitted as ``fn(conn)`` and runs inside ``BEGIN IMMEDIATE ... COMMIT``; callers get
    a Future. Readers use their own connections and never wait on this thread (WAL).
    """

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._queue: queue.Queue[tuple[Callable[[Connection], Any], Future[Any]] | None] = (
            queue.Queue()
        )
        self._ready = threading.Event()
        self._open_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="glimpse-db-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._open_error is not None:
            raise self._open_error

    def _run(self) -> None:
        try:
            conn = connect(self._path)
        except BaseException as exc:  # reported to the constructor's caller
            self._open_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    break
                fn, fut = job
                if not fut.set_running_or_notify_cancel():
                    continue
                try:
                    with conn.transaction("IMMEDIATE"):
                        result = fn(conn)
                except BaseException as exc:
                    translated = translate(exc, self._path)
                    if translated is not exc:
                        translated.__cause__ = exc
                    fut.set_exception(translated)
                else:
                    fut.set_result(result)
        finally:
            with contextlib.suppress(apsw.Error):
                conn.execute("PRAGMA optimize")
            conn.close()

    def submit(self, fn: Callable[[Connection], T]) -> Future[T]:
        if not self._thread.is_alive():
            raise LibraryError("the library writer has stopped")
        fut: Future[T] = Future()
        self._queue.put((fn, fut))
        return fut

    def call(self, fn: Callable[[Connection], T], timeout: float | None = None) -> T:
        """Run ``fn(conn)`` in one write transaction and wait for its result."""
        return self.submit(fn).result(timeout)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


def now_iso() -> str:
    """UTC timestamp for bookkeeping columns."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
