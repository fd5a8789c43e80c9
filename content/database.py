"""One interface over the two databases a store can live in: SQLite in the data folder (the
default, for one hall) and PostgreSQL (TINGWEN_DATABASE_URL, for several servers sharing one
store). The stores write their SQL once, with `?` placeholders and standard SQL (RETURNING,
ON CONFLICT); what differs (placeholders, the write lock, schema versions) is decided here."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, Self

from content.revision_watch import unwatch

log = logging.getLogger(__name__)

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(POSTGRES_SCHEMES)


def is_busy(error: Exception) -> bool:
    """A lock another process held past our wait (SQLite's busy, PostgreSQL's lock timeout)."""
    text = str(error).lower()
    return "locked" in text or "busy" in text or "lock timeout" in text


def shown(where: object) -> str:
    """A database's place for messages and logs: a URL without its password."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", str(where))


class Connection(Protocol):
    """What the stores use of a connection, whichever the database."""

    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict]: ...

    def writing(self, lock: str, durable: bool = True) -> contextlib.AbstractContextManager[None]: ...

    def close(self) -> None: ...


_pools: dict[tuple[int, str], Any] = {}
_pools_lock = threading.Lock()
POOL_SIZE = 64  # connections a process keeps to one database (a worker's threads share them)
READY_IN_SERVERS = 4  # connections a server's worker opens before its first caller (keep_ready)


def _pool(url: str):
    """One psycopg_pool per database URL and process: every request borrows a connection
    instead of opening one (which costs more than the request itself)."""
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    import psycopg

    key = (os.getpid(), url)  # a forked worker never uses its parent's connections
    with _pools_lock:
        if key not in _pools:
            psycopg.connect(url, connect_timeout=10).close()  # unreachable: the server's own reason
            _pools[key] = ConnectionPool(
                url,
                min_size=1,  # a tool needs one; a server's worker keeps more (keep_ready)
                max_size=POOL_SIZE,
                kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": 10},
                timeout=30,
                open=True,
            )
        return _pools[key]


def keep_ready(url: str | os.PathLike, count: int = READY_IN_SERVERS, timeout: float = 10.0) -> None:
    """In a server's worker, before its first request: on PostgreSQL, this process's pool for
    `url` keeps `count` connections open, opened now (SQLite: nothing to do). A pool of one
    opens a second connection only when two callers' webhooks meet, and the second caller
    waits while it is made."""
    if not is_postgres(str(url)):
        return
    pool = _pool(str(url))
    pool.resize(min_size=count, max_size=max(count, POOL_SIZE))
    # (pool.wait would close the pool if the server refused some: polled instead)
    deadline = time.monotonic() + timeout
    while (opened := pool.get_stats().get("pool_available", 0)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    if opened < count:  # the server allows fewer, or is slow: the worker still serves, connecting on demand
        log.warning("%d of %d connections to %s open after %.0f s; the others are made on demand", opened, count, shown(url), timeout)


def close_pool(url: str) -> None:
    """Close this process's pool for one database (a database no longer used: a tool or a test
    that made it for itself); the next use opens a new one."""
    unwatch(url)
    with _pools_lock:
        pool = _pools.pop((os.getpid(), url), None)
    if pool is not None:
        pool.close()


def close_pools() -> None:
    """Close this process's pools (before gunicorn forks its workers from us)."""
    with _pools_lock:
        for key in [k for k in _pools if k[0] == os.getpid()]:
            unwatch(key[1], wanted=True)  # each worker listens for itself
            _pools.pop(key).close()


class _Pending:
    """A statement of a write transaction not yet sent (`PostgresConnection.writing`): reading
    its result sends it, with whatever was queued before it, and waits for the answer."""

    def __init__(self, sender: PostgresConnection):
        self._sender = sender
        self._rowcount = -1
        self._rows: list[dict] | None = None
        self.sent = False

    def answered(self, rowcount: int, rows: list[dict] | None) -> None:
        self._rowcount, self._rows, self.sent = rowcount, rows, True

    def _wait(self) -> None:
        if not self.sent:
            self._sender._send()

    @property
    def rowcount(self) -> int:
        self._wait()
        return self._rowcount

    def fetchall(self) -> list[dict]:
        self._wait()
        return list(self._rows or [])

    def fetchone(self) -> dict | None:
        self._wait()
        return self._rows[0] if self._rows else None


class PostgresConnection:
    """psycopg 3 (a connection borrowed from the process's pool), autocommit outside
    `writing`; a write transaction takes a transaction-level advisory lock named by `lock`, so
    writers of one store queue up as SQLite's do, waiting at most `busy_seconds`."""

    dialect = "postgresql"

    def __init__(self, url: str, busy_seconds: float = 5.0):
        self.pool = _pool(url)
        self.busy_seconds = busy_seconds
        self._conn = None  # borrowed at the first statement: a menu kept per revision may need none
        self._queued: list[tuple[str, _Pending]] | None = None  # inside `writing`: statements not yet sent
        self._binder = None  # inside `writing`: the ClientCursor that binds and sends them

    @property
    def conn(self):
        if self._conn is None:
            self._conn = self.pool.getconn()
        return self._conn

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()):
        if self._queued is not None:
            return self._queue(sql, params)
        return self.conn.execute(self._sql(sql), list(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._queued is not None:
            for row in rows:
                self._queue(sql, row)
            return
        with self.conn.cursor() as cursor:
            cursor.executemany(self._sql(sql), [list(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        if self._queued is not None:
            return self._queue(sql, params).fetchall()
        return self.conn.execute(self._sql(sql), list(params)).fetchall()

    def _queue(self, sql: str, params: Sequence[Any]) -> _Pending:
        """A statement of the write, its parameters bound here (as psycopg's ClientCursor binds
        them, quoted by libpq), to go with the others in one message."""
        pending = _Pending(self)
        self._queued.append((self._binder.mogrify(self._sql(sql), list(params)), pending))
        return pending

    def _send(self) -> None:
        """Everything queued, in one message (one round trip; the simple query protocol runs
        the statements in order, and stops at the first that fails), each answer kept."""
        queued, self._queued = self._queued, []
        if not queued:
            return
        cursor = self._binder
        cursor.execute(";\n".join(text for text, _ in queued))
        for number, (_, pending) in enumerate(queued):
            if number:
                cursor.nextset()
            pending.answered(cursor.rowcount, cursor.fetchall() if cursor.description is not None else None)

    @contextlib.contextmanager
    def writing(self, lock: str, durable: bool = True) -> Iterator[None]:
        """One write transaction under the advisory lock `lock`. Not `durable`: its COMMIT does
        not wait for the server's disk (synchronous_commit off: a crash of the database server
        may lose the last such writes, never half of one), as SQLite's call log is written."""
        # BEGIN, the lock, the writes and COMMIT go out as one message, so a write costs one
        # round trip (a statement whose result is read inside sends what is queued, and waits).
        # psycopg's pipeline mode does the same at three times the CPU per write.
        from psycopg import ClientCursor, Error, pq

        self._queued, self._binder = [], ClientCursor(self.conn)
        try:
            self._queue("BEGIN", ())
            self._queue(
                "SELECT set_config('lock_timeout', ?, true), set_config('synchronous_commit', ?, true), pg_advisory_xact_lock(hashtext(?))",
                [f"{int(self.busy_seconds * 1000)}ms", "on" if durable else "off", lock],
            )
            yield
            self._queue("COMMIT", ())
            self._send()
        except BaseException:  # what was not sent is dropped (finally); what was is rolled back
            if self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
                with contextlib.suppress(Error):
                    self.conn.execute("ROLLBACK")
            raise
        finally:
            self._queued, self._binder = None, None

    def close(self) -> None:
        if self._conn is not None:
            self.pool.putconn(self._conn)
            self._conn = None

    def __del__(self) -> None:  # a store a failing request never closed gives its connection back
        with contextlib.suppress(Exception):
            self.close()


class Store:
    """What every store does with its connection: closes it, also as a context manager."""

    conn: Connection

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_file_locks: dict[str, threading.Lock] = {}
_file_locks_guard = threading.Lock()


def file_lock(name: str) -> threading.Lock:
    """This process's lock for writing to the database file `name`."""
    with _file_locks_guard:
        return _file_locks.setdefault(str(name), threading.Lock())


_FIRST_PAUSE = 0.0002  # seconds a writer waits before asking SQLite for the write lock again
_LONGEST_PAUSE = 0.002


class SqliteConnection:
    """A sqlite3 connection (the sqlite-utils Database's), rows as dicts. `close` gives a
    connection that came from the thread's idle ones (content.connections.open_database) back to
    them instead of closing it."""

    dialect = "sqlite"

    def __init__(
        self, conn: sqlite3.Connection, release: Callable[[], None] | None = None, lock: threading.Lock | None = None, busy_ms: int = 5000,
    ):
        self.conn = conn
        self.release = release
        self.lock = lock or file_lock(conn.execute("PRAGMA database_list").fetchone()[2])
        self.busy_ms = busy_ms  # the connection's busy timeout (content.connections.open_database sets it)

    @classmethod
    def kept(cls, db) -> SqliteConnection:
        """The connection of a sqlite-utils Database from content.connections.open_database,
        given back to the kept ones when closed."""
        return cls(db.conn, db.give_back, db.file_lock, db.busy_ms)

    def execute(self, sql: str, params: Sequence[Any] = ()):
        return self.conn.execute(sql, list(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        cursor = self.conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    @contextlib.contextmanager
    def writing(self, lock: str, durable: bool = True) -> Iterator[None]:
        # (How durable a commit is, SQLite sets per connection: the call log's `synchronous`.)
        # Threads of one process queue on a lock of their own for the file: a thread finding
        # SQLite's write lock taken would sleep in its busy handler (1, 2, 5, 10 ms…) instead.
        with self.lock:
            self._begin_immediate()
            try:
                yield
            except BaseException:
                self.conn.rollback()
                raise
            self.conn.execute("COMMIT")

    def _begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, waiting for another process's writer in steps of a fraction of a
        millisecond up to the busy timeout (then SQLite's "database is locked"): SQLite's own
        busy handler sleeps 1, 2, 5, 10 ms… however soon the lock is free, which made most of
        the slowest webhooks when the workers of one server wrote at once."""
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            deadline = time.monotonic() + self.busy_ms / 1000
            pause = _FIRST_PAUSE
            while True:
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as error:
                    if not is_busy(error) or time.monotonic() >= deadline:
                        raise
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(self.busy_ms)}")

    def close(self) -> None:
        if self.release is not None:
            release, self.release = self.release, None
            release()
        else:
            self.conn.close()
