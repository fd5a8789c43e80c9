"""Connections to the stores' databases, kept cheap: a SQLite file is opened, migrated and
checked once per process, then its connections are kept open for the next request (any
thread's, per file; a file replaced, restored or damaged under them is opened afresh, and none
crosses a fork), and in a server the write-ahead log is folded into the file by one background
thread, never in a caller's request. `open_connection` opens a store on either database.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from content.database import file_lock
from content.errors import StoreBusy, StoreUnreadable
from content.migrations import MIGRATIONS, migrate, open_postgres, schema_version

log = logging.getLogger(__name__)


IDLE_PER_FILE = 16  # SQLite connections kept open for the next request, per file and process
_idle: dict[Path, list[tuple[tuple[int, int] | None, Database]]] = {}  # most recent last
_idle_lock = threading.Lock()
_idle_pid = os.getpid()  # the process the idle connections belong to
_forked_away: list[Database] = []  # a parent's connections, held so nothing closes them in a child
_checked: set[tuple[int, str, int, int, str, int]] = set()  # files whose schema this process has checked


_opening_locks: dict[Path, threading.Lock] = {}


def _opening_lock(path: Path) -> threading.Lock:
    """This process's lock for checking and migrating the file `path` the first time (the threads
    of a new worker open the same new files together: one migrates, the others wait for it
    without sleeping in SQLite's busy handler, whose sleeps grow to 100 ms)."""
    with _idle_lock:
        return _opening_locks.setdefault(path, threading.Lock())


def _identity(path: Path) -> tuple[int, int] | None:
    """What tells a file apart from one put in its place: device and inode. (Not its size or
    time: the background checkpoint changes both every few seconds, and every idle connection
    would be closed and opened again after it. A file written over in place fails the schema
    check of the next open instead.)"""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _reused(path: Path) -> Database | None:
    """An idle connection to the same file as when it was given back. If another file has been
    put in its place (replaced, restored), every idle one is closed: connections of one process
    share a file's log, and an old one kept open would show the new file through the old log."""
    identity = _identity(path)
    with _idle_lock:
        _forget_after_fork()
        idle = _idle.get(path)
        if not idle:
            return None
        if identity is not None and idle[-1][0] == identity:
            return idle.pop()[1]
        stale = _idle.pop(path)
    for _, db in stale:
        db.close()
    return None


def _forget_after_fork() -> None:
    """In a forked child the parent's connections are never used nor closed (closing could
    fold the parent's log or drop its locks): they are set aside and forgotten."""
    global _idle_pid
    if _idle_pid != os.getpid():
        _forked_away.extend(db for idle in _idle.values() for _, db in idle)
        _idle.clear()
        _idle_pid = os.getpid()


def _give_back(path: Path, db: Database) -> None:
    """Keep a store's connection for the next request (no close, so no checkpoint in a
    caller's path); past IDLE_PER_FILE the oldest idle one is closed. It is kept under the
    identity of the file it was opened on (no second look at the file per request): a file put
    in its place meanwhile is told apart at the next `_reused`."""
    try:
        if db.conn.in_transaction:
            db.conn.rollback()
    except sqlite3.Error:
        db.close()
        return
    identity = db.identity  # type: ignore[attr-defined]
    with _idle_lock:
        _forget_after_fork()
        if getattr(db, "pid", None) != os.getpid():  # opened before a fork: not ours to keep
            _forked_away.append(db)
            return
        idle = _idle.setdefault(path, [])
        stale = [entry for entry in idle if entry[0] != identity]
        idle[:] = [entry for entry in idle if entry[0] == identity] + [(identity, db)]
        if len(idle) > IDLE_PER_FILE:
            stale.append(idle.pop(0))
    for _, old in stale:
        old.close()


def close_idle() -> None:
    """Close every idle connection of this process (tools that exit, tests that move files)."""
    with _idle_lock:
        stale = [db for idle in _idle.values() for _, db in idle]
        _idle.clear()
    for db in stale:
        db.close()


CHECKPOINT_SECONDS = 5.0


class _Checkpoints:
    """In a server, no caller's request checkpoints the write-ahead log: connections are opened
    with autocheckpoint off, and one background thread per process folds each file's log into
    it every few seconds (PASSIVE: it waits for nobody and nobody waits for it)."""

    def __init__(self) -> None:
        self.deferred = False
        self.paths: set[Path] = set()
        self.lock = threading.Lock()
        self.thread_pid: int | None = None

    def register(self, path: Path) -> None:
        with self.lock:
            self.paths.add(path)
            if self.thread_pid != os.getpid():  # none yet in this process (or we were forked)
                self.thread_pid = os.getpid()
                threading.Thread(target=self._run, name="tingwen-wal-checkpoint", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(CHECKPOINT_SECONDS)
            with self.lock:
                paths = list(self.paths)
            for path in paths:
                self.checkpoint(path)

    def checkpoint(self, path: Path) -> None:
        if not path.exists():  # gone (a test's folder, a moved store): nothing to fold any more
            with self.lock:
                self.paths.discard(path)
            return
        if not Path(f"{path}-wal").exists():
            return
        try:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=0.1)  # never makes a file
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                connection.close()
        except sqlite3.Error as error:  # busy, gone, damaged: the next round tries again
            log.debug("checkpoint of %s skipped: %s", path, error)


checkpoints = _Checkpoints()


def defer_checkpoints() -> None:
    """The server's stores: checkpoints in the background, never in a request (see _Checkpoints)."""
    checkpoints.deferred = True


def open_database(
    path: Path,
    migrations: list[Callable[[Database], None]] = MIGRATIONS,
    name: str = "the notice store",
    busy_seconds: float = 5.0,
    pragmas: tuple[str, ...] = (),
) -> Database:
    """Open (or create) one of our SQLite files, in WAL mode, waiting up to `busy_seconds` for
    another process's write, and migrated to the newest schema. A file that is not a database
    (damaged, or something else) is StoreUnreadable and a store locked past the wait StoreBusy,
    each with one line that says what to do; a full disk is the OSError it is. `pragmas` (the
    store's own connection settings, such as "foreign_keys = ON") are set on a new connection.

    Every request opens its stores, so this is cheap after the first time: the schema is checked
    once per process and file, and `give_back()` on the result keeps the connection open for the
    thread's next open of the same file (unless the file has changed under it)."""
    path = Path(path)
    busy_ms = int(busy_seconds * 1000)
    reused = _reused(path)
    if reused is not None:
        try:
            current = schema_version(reused) == len(migrations)  # another process may have moved it on
        except sqlite3.DatabaseError:
            current = False
        if current:
            if reused.busy_ms != busy_ms:  # type: ignore[attr-defined]
                reused.execute(f"PRAGMA busy_timeout = {busy_ms}")
                reused.busy_ms = busy_ms  # type: ignore[attr-defined]
            return reused
        reused.close()
        _checked.difference_update({c for c in _checked if c[1] == str(path)})
    path.parent.mkdir(parents=True, exist_ok=True)
    # any thread may take it next from the idle ones; one thread at a time ever uses it
    db = Database(sqlite3.connect(path, check_same_thread=False))
    try:
        db.execute(f"PRAGMA busy_timeout = {busy_ms}")
        identity = _identity(path)
        checked = (os.getpid(), str(path), *(identity or (0, 0)), name, len(migrations))
        if checked not in _checked:
            with _opening_lock(path):  # threads opening a new file queue here, not in SQLite's busy handler
                if checked not in _checked:
                    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                        db.enable_wal()
                    migrate(db, migrations, name)
                    _checked.add(checked)
        elif schema_version(db) != len(migrations):  # reads the header: a damaged file fails here, by name
            migrate(db, migrations, name)
        for pragma in pragmas:
            db.execute(f"PRAGMA {pragma}")
        if checkpoints.deferred:
            db.execute("PRAGMA wal_autocheckpoint = 0")
            checkpoints.register(path)
        db.busy_ms = busy_ms  # type: ignore[attr-defined]
        db.identity = identity  # type: ignore[attr-defined]
        db.pid = os.getpid()  # type: ignore[attr-defined]
        db.give_back = lambda: _give_back(path, db)  # type: ignore[attr-defined]
        db.file_lock = file_lock(str(path))  # type: ignore[attr-defined]
        return db
    except sqlite3.DatabaseError as error:
        db.close()
        text = str(error)
        if "locked" in text or "busy" in text:
            raise StoreBusy(path, busy_seconds) from None
        if "disk is full" in text or "disk I/O" in text:
            raise OSError(28, f"{name} cannot be opened ({text}): is the disk full?", str(path)) from None
        raise StoreUnreadable(path, name, text) from None


def open_connection(where: Path | str, migrations: list[Callable[[Database], None]], postgres_migrations: list[list[str]], name: str):
    """A store's connection, migrated: PostgreSQL for a postgresql:// URL, else the SQLite file."""
    from content.database import SqliteConnection, is_postgres  # database.py's connection classes use this module

    if is_postgres(str(where)):
        return open_postgres(str(where), postgres_migrations, name)
    db = open_database(Path(where), migrations, name=name)
    return SqliteConnection.kept(db)
