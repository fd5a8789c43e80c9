"""Every store's schema is written twice, as SQLite migrations and as PostgreSQL statements: the
two must give the same tables with the same columns, so a column added to one cannot be
forgotten in the other."""

import sqlite3

import psycopg
import pytest
from cryptography.fernet import Fernet

from content.store import NoticeStore
from ivr.callstore import CallStore
from ivr.numbers import NumberKey
from ivr.subscribers import SubscriberStore
from staff.accounts import StaffStore
from watcher.state import WatchState

STORES = {
    "notices": lambda where: NoticeStore(where),
    "calls": lambda where: CallStore(where, b"salt" * 8),
    "subscribers": lambda where: SubscriberStore(where, NumberKey(Fernet.generate_key())),
    "staff": lambda where: StaffStore(where),
    "watch": lambda where: WatchState(where),
}
# What one database has for its own way of working, not as part of the store's data:
SQLITE_ONLY = ("notices_fts",)  # FTS5 search (PostgreSQL searches notices.search_text with pg_trgm)
POSTGRES_ONLY = ("schema_versions",)  # SQLite keeps the schema version in the file's header


def sqlite_columns(path) -> dict[str, set[str]]:
    connection = sqlite3.connect(path)
    try:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            t: {r[1] for r in connection.execute(f'PRAGMA table_info("{t}")')}
            for t in tables
            if not t.startswith("sqlite_") and not t.startswith(SQLITE_ONLY)
        }
    finally:
        connection.close()


def postgres_columns(url) -> dict[str, set[str]]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        if table not in POSTGRES_ONLY:
            found.setdefault(table, set()).add(column)
    return found


@pytest.mark.parametrize("name", sorted(STORES))
def test_both_databases_give_the_same_tables_and_columns(name, tmp_path, postgres_server):
    url = postgres_server()
    STORES[name](tmp_path / f"{name}.sqlite3").close()
    STORES[name](url).close()
    lite, postgres = sqlite_columns(tmp_path / f"{name}.sqlite3"), postgres_columns(url)
    assert lite, f"{name}: no tables made in SQLite"
    if name == "calls":
        lite.setdefault("shared_settings", {"name", "value"})  # the caller salt: a file beside SQLite, a row in PostgreSQL
    assert lite == postgres
