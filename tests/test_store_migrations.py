"""The store's schema is created by versioned migrations, in SQLite and in PostgreSQL alike,
and a newer schema is refused."""

import sqlite3

import pytest

from content.migrations import MIGRATIONS, POSTGRES_MIGRATIONS
from content.store import NoticeStore


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request, tmp_path):
    return tmp_path / "s.sqlite3" if request.param == "sqlite" else request.getfixturevalue("postgres_server")()


def test_both_databases_have_the_same_number_of_steps():
    assert len(POSTGRES_MIGRATIONS) == len(MIGRATIONS)


def test_new_store_is_at_latest_version(where):
    with NoticeStore(where) as store:
        assert store.schema_version == len(MIGRATIONS)
        tables = {r["name"] for r in store.conn.query(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if store.conn.dialect == "sqlite"
            else "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        )}  # fmt: skip
        assert {"notices", "sections", "attachments", "store_revision"} <= tables
        if store.conn.dialect == "postgresql":
            assert store.conn.query("SELECT version FROM schema_versions WHERE store = 'the notice store'")[0]["version"] == len(MIGRATIONS)
        else:
            assert "notices_fts" in tables
    if store.conn.dialect == "sqlite":
        assert sqlite3.connect(where).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_reopening_keeps_data(where, corpus_notices):
    with NoticeStore(where) as store:
        store.save(corpus_notices)
    with NoticeStore(where) as store:
        assert store.count() == 7
        assert store.revision() > 0


def test_a_newer_postgres_schema_is_refused(postgres_server):
    url = postgres_server()
    with NoticeStore(url) as store:
        store.conn.execute("UPDATE schema_versions SET version = version + 1 WHERE store = 'the notice store'")
    from content import migrations

    migrations._migrated.clear()  # as a process starting afresh
    with pytest.raises(RuntimeError, match="newer than this tingwen"):
        NoticeStore(url)


def test_an_unreachable_postgres_is_one_clear_error(tmp_path):
    from content.errors import StoreUnreadable

    with pytest.raises(StoreUnreadable, match="postgres:\\*\\*\\*@") as caught:
        NoticeStore(f"postgresql://postgres:secret@/nothing?host={tmp_path}&port=1")
    assert "secret" not in str(caught.value)


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
