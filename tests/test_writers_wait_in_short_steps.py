"""A write that finds another process's writer at work asks SQLite for the lock again every
fraction of a millisecond (content/database.py), instead of sleeping in SQLite's busy handler
(1, 2, 5, 10 ms… however soon the lock is free), and still gives up with the store's one-line
StoreBusy once its busy timeout has passed."""

import sqlite3
import threading
import time

import pytest

from content.errors import StoreBusy
from content.store import NoticeStore


def _hold_the_write_lock(path, seconds: float, held: threading.Event) -> None:
    """Another process's writer, as SQLite sees it: its own connection, its own lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


def _traced(store: NoticeStore) -> list[str]:
    statements: list[str] = []
    store.conn.conn.set_trace_callback(statements.append)
    return statements


def test_a_writer_asks_again_in_short_steps_and_writes_once_the_lock_is_free(tmp_path):
    path = tmp_path / "notices.sqlite3"
    store = NoticeStore(path)
    held = threading.Event()
    holder = threading.Thread(target=_hold_the_write_lock, args=(path, 0.05, held))
    holder.start()
    held.wait()
    statements = _traced(store)
    with store._writing():
        store.conn.execute("UPDATE store_revision SET n = n + 100 WHERE id = 1")
    holder.join()
    store.conn.conn.set_trace_callback(None)
    asks = statements.count("BEGIN IMMEDIATE")
    assert asks >= 5, f"asked for the lock {asks} times in 50 ms: waited in SQLite's busy handler"
    assert statements[-3:-1] == ["PRAGMA busy_timeout = 5000", "UPDATE store_revision SET n = n + 100 WHERE id = 1"]  # its wait back
    assert store.revision() >= 100
    store.close()


def test_a_writer_gives_up_after_the_busy_timeout_with_one_clear_error(tmp_path):
    path = tmp_path / "notices.sqlite3"
    NoticeStore(path).close()
    store = NoticeStore(path, busy_seconds=0.2)
    held = threading.Event()
    holder = threading.Thread(target=_hold_the_write_lock, args=(path, 1.0, held))
    holder.start()
    held.wait()
    with pytest.raises(StoreBusy, match=str(path.name)):
        with store._writing():
            store.conn.execute("UPDATE store_revision SET n = n + 1 WHERE id = 1")
    holder.join()
    with store._writing():  # and the next write, the lock free again, goes through
        store.conn.execute("UPDATE store_revision SET n = n + 1 WHERE id = 1")
    store.close()
