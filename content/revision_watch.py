"""The notice store's revision, known to a server without opening the store.

Every webhook and kiosk request builds its menu from the store, kept per revision (`menu_for`),
so each would open the store to ask for the revision. A server sharing a PostgreSQL store
instead listens: the notices' trigger announces every new revision (`pg_notify`, migration 3),
and one thread per process keeps the latest on a connection of its own. While it is not
listening (starting, reconnecting, a tool that never asked to watch), the store asks as before.
A write of this process forgets what it was told, so the next request asks again and sees its
own write at once; other servers' writes arrive as they commit.

SQLite has no NOTIFY, and asking is cheap there: a server reads the revision on one read-only
connection per process and file (`SqliteRevision`), one statement, instead of opening the store
(taking a kept connection, checking its file and schema, giving it back) in every request. It
reads the committed revision each time, so nothing is ever stale.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

CHANNEL = "tingwen_store_revision"
APPLICATION_NAME = "tingwen revision watch"  # how its connection shows in pg_stat_activity
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # between attempts to listen again after a failure
NOTIFY_WAIT = 0.25  # seconds the listener waits for a notice before looking whether to stop


class RevisionWatch:
    """One process's listener for one database URL."""

    def __init__(self, url: str):
        self.url = url
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._value: int | None = None  # None: not listening, or forgotten after our own write
        self._asked = 0  # moves on when the value is forgotten: an answer asked for before is stale
        self._stop = threading.Event()
        self.listening = False  # on the channel, with the revision read after LISTEN
        self._thread = threading.Thread(target=self._run, name="tingwen-revision-watch", daemon=True)
        self._thread.start()

    def current(self) -> tuple[int | None, int]:
        """(the revision, if known, else None; a ticket for `offer`)."""
        with self._lock:
            return self._value, self._asked

    def offer(self, value: int, ticket: int) -> None:
        """What a request asked the database, kept unless something newer came meanwhile."""
        with self._lock:
            if self._value is None and ticket == self._asked and self.listening:
                self._value = value

    def forget(self) -> None:
        """This process wrote the notices: the next request asks the database itself."""
        with self._lock:
            self._value = None
            self._asked += 1

    def stop(self) -> None:
        """Stop listening, and close the connection before returning (a process about to fork
        must not hand its socket to the children)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(5 * NOTIFY_WAIT)

    def _told(self, value: int | None) -> None:
        with self._lock:
            self._value = value
            self._asked += 1

    def _run(self) -> None:
        import psycopg

        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=10, application_name=APPLICATION_NAME) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")  # first: a write after this is announced to us
                    read = lambda: conn.execute("SELECT n FROM store_revision WHERE id = 1").fetchone()[0]  # noqa: E731
                    self._told(read())
                    self.listening, failures = True, 0
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=NOTIFY_WAIT):
                            self._told(int(note.payload) if note.payload.isdigit() else read())  # anyone may notify
            except Exception as error:  # the server gone or restarting: ask in each request meanwhile
                self.listening = False
                self._told(None)
                wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("not told the notice store's revision (%s); asking in each request, listening again in %.1f s", error, wait)
                self._stop.wait(wait)
        self.listening = False
        self._told(None)


class SqliteRevision:
    """One process's reader of a SQLite store's revision: the same questions as RevisionWatch,
    answered by one statement on a read-only connection of its own. Its connections are kept
    for the next question and taken by one thread at a time, never shared while a statement
    runs, so the threads of a worker queue on no lock across one (opened again when the file is
    replaced, as by a restore). Any failure (the file gone or damaged) answers "not known", and
    the store then opens itself and says what is wrong."""

    listening = True  # nothing to wait for: every answer is read when asked

    def __init__(self, path: str):
        self.path = Path(path)
        self.pid = os.getpid()
        self._lock = threading.Lock()  # held only to take or give back an idle connection
        self._idle: list[tuple[sqlite3.Connection, tuple[int, int]]] = []  # each with the (device, inode) it reads
        self._stopped = False

    def current(self) -> tuple[int | None, int]:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None, 0
        file = (stat.st_dev, stat.st_ino)
        with self._lock:
            conn, read = self._idle.pop() if self._idle else (None, None)
        try:
            if conn is None or read != file:
                if conn is not None:
                    conn.close()
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=1, check_same_thread=False)
            revision = conn.execute("SELECT n FROM store_revision WHERE id = 1").fetchone()[0]
        except sqlite3.Error:
            if conn is not None:
                conn.close()
            return None, 0
        with self._lock:
            kept = not self._stopped
            if kept:
                self._idle.append((conn, file))
        if not kept:
            conn.close()
        return revision, 0

    def offer(self, value: int, ticket: int) -> None:
        """Nothing to keep: the next request reads the revision again."""

    def forget(self) -> None:
        """Nothing to forget: a write of this process is read like anyone's."""

    def stop(self) -> None:
        """Close the connections (never a parent's, in a forked child)."""
        if self.pid == os.getpid():
            with self._lock:
                self._stopped = True
                idle, self._idle = self._idle, []
            for conn, _ in idle:
                conn.close()


_watches: dict[str, RevisionWatch | SqliteRevision] = {}
_left_by_parent: list[RevisionWatch | SqliteRevision] = []  # a parent's, never used nor closed in a forked child
_wanted: set[str] = set()
_guard = threading.Lock()


def watch(url: str) -> None:
    """Servers (not tools) are told `url`'s revision (a postgresql:// URL or a SQLite file's
    path): each process starts its listener at its first use (gunicorn's workers are forked
    after the app is built; threads and connections are not)."""
    with _guard:
        _wanted.add(url)


def watcher(url: str) -> RevisionWatch | SqliteRevision | None:
    """This process's listener for `url`, started if wanted and not yet running here."""
    if url not in _wanted:
        return None
    found = _watches.get(url)
    if found is not None and found.pid == os.getpid():
        return found
    with _guard:
        found = _watches.get(url)
        if found is None or found.pid != os.getpid():
            from content.database import is_postgres  # it imports this module

            if found is not None:
                _left_by_parent.append(found)
            found = _watches[url] = RevisionWatch(url) if is_postgres(url) else SqliteRevision(url)
    return found


def unwatch(url: str, wanted: bool = False) -> None:
    """Stop this process's listener for `url` (a database no longer used, or a process about to
    fork its workers, which start their own: `wanted`)."""
    with _guard:
        if not wanted:
            _wanted.discard(url)
        found = _watches.pop(url, None)
    if found is not None:
        found.stop()


def stop_all() -> None:
    """Stop every listener of this process, still wanted (a process about to fork its workers:
    each starts its own at its first use, on connections that never cross the fork)."""
    with _guard:
        found = list(_watches.values())
        _watches.clear()
    for watch in found:
        watch.stop()


def wait_listening(url: str, seconds: float = 10.0) -> bool:
    """True once this process listens for `url` (for tests, which wait for it)."""
    found = watcher(url)
    deadline = time.monotonic() + seconds
    while found is not None and not found.listening and time.monotonic() < deadline:
        time.sleep(0.01)
    return found is not None and found.listening
