"""The store's schema is created by versioned migrations and refuses a newer schema."""

import sqlite3

import pytest

from content.migrations import MIGRATIONS
from content.store import NoticeStore


def test_new_store_is_at_latest_version(tmp_path):
    with NoticeStore(tmp_path / "s.sqlite3") as store:
        assert store.schema_version == len(MIGRATIONS)
        tables = set(store.db.table_names())
        assert {"notices", "sections", "attachments", "notices_fts"} <= tables
    assert sqlite3.connect(tmp_path / "s.sqlite3").execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_reopening_keeps_data(tmp_path, corpus_notices):
    with NoticeStore(tmp_path / "s.sqlite3") as store:
        store.save(corpus_notices)
    with NoticeStore(tmp_path / "s.sqlite3") as store:
        assert store.count() == 7


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    NoticeStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    connection.close()
    with pytest.raises(RuntimeError, match="newer than this tingwen"):
        NoticeStore(path)


def test_round_trip_keeps_tree(loaded_store, corpus_notices):
    stored = {n.spoken_title: n for n in loaded_store.latest()}
    for original in corpus_notices:
        again = stored[original.spoken_title]
        assert again.to_json() | {"id": None} == original.to_json() | {"id": None}
        assert again.content_hash() == original.content_hash()


def test_many_processes_opening_a_new_store_at_once(tmp_path):
    """gunicorn workers open the same new files together: exactly one migrates, none fails."""
    import threading

    from ivr.callstore import CallStore

    errors = []

    def open_both():
        try:
            NoticeStore(tmp_path / "notices.sqlite3").close()
            CallStore(tmp_path / "calls.sqlite3", b"salt").close()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=open_both) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sqlite3.connect(tmp_path / "notices.sqlite3").execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
