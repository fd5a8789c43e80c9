"""Versioned schema changes, applied in order on open: the notice store's own (SQLite and
PostgreSQL, step for step), and how any store's list is applied (`migrate` for a SQLite file,
`open_postgres` for PostgreSQL; the call log, staff and subscriber stores keep their lists
beside their code). Keeping connections open is content/connections.py's.

On SQLite the version lives in `user_version`; on PostgreSQL in schema_versions under the store's
name. Each migration runs in its own transaction, so a store is always at one whole version. Add
a new step to the end of a list; never edit one that has shipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlite_utils import Database

from content.errors import StoreUnreadable
from content.revision_watch import CHANNEL as REVISION_CHANNEL

log = logging.getLogger(__name__)


def _v1_notices(db: Database) -> None:
    db["notices"].create(
        {
            "id": int,
            "key": str,
            "content_hash": str,
            "title": str,
            "spoken_title": str,
            "doc_number": str,
            "issuer": str,
            "addressee": str,
            "signed_date": str,
            "published_date": str,
            "sort_date": str,
            "annotation": str,
            "source": str,
            "body": str,
            "search_text": str,
            "ingested_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"key", "content_hash", "spoken_title", "body", "search_text", "ingested_at", "updated_at"},
    )
    db["notices"].create_index(["key"], unique=True)
    db["notices"].create_index(["sort_date", "id"])
    db["sections"].create(
        {
            "notice_id": int,
            "position": int,
            "path": str,
            "ordinal": int,
            "marker": str,
            "heading": str,
            "text": str,
        },
        pk=("notice_id", "position"),
        foreign_keys=[("notice_id", "notices", "id")],
        not_null={"path", "ordinal", "marker", "text"},
    )
    db["attachments"].create(
        {"notice_id": int, "position": int, "name": str},
        pk=("notice_id", "position"),
        foreign_keys=[("notice_id", "notices", "id")],
        not_null={"name"},
    )
    # Chinese has no spaces, so the default tokenizer finds nothing; trigram finds 3+ characters
    # and the store falls back to substring counting for shorter words.
    db["notices"].enable_fts(
        ["spoken_title", "title", "search_text"], tokenize="trigram", create_triggers=True
    )


def _v2_withdrawal_and_revision(db: Database) -> None:
    # a withdrawn notice stays stored but leaves the menus, the kiosk and search
    db["notices"].add_column("withdrawn_at", str)
    # a counter that every write to the notices moves on, for caches built from the store
    db.execute("CREATE TABLE store_revision (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")
    db.execute("INSERT INTO store_revision (id, n) VALUES (1, 0)")
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER notices_revision_{event.lower()} AFTER {event} ON notices "
            "BEGIN UPDATE store_revision SET n = n + 1 WHERE id = 1; END"
        )


def _v3_revision_announced(db: Database) -> None:
    """On PostgreSQL the revision is now announced to the servers sharing the store (see
    POSTGRES_MIGRATIONS and content/revision_watch.py). A SQLite store has one server, which
    reads its own file: nothing changes here; the step keeps both schemas' versions in step."""


MIGRATIONS: list[Callable[[Database], None]] = [_v1_notices, _v2_withdrawal_and_revision, _v3_revision_announced]


def schema_version(db: Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(
    db: Database, migrations: list[Callable[[Database], None]] = MIGRATIONS, name: str = "the notice store"
) -> int:
    """Bring a database up to the newest of `migrations`; returns the version it is at.

    Safe when several processes open a new file at once (gunicorn workers): the version is read
    again inside an immediate write transaction, so exactly one of them applies the migrations.
    Other stores, such as the phone line's call log, keep their own list in their own file."""
    version = schema_version(db)
    if version == len(migrations):
        return version
    if version < len(migrations):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(db)
            for number, step in enumerate(migrations[version:], start=version + 1):
                step(db)
                db.execute(f"PRAGMA user_version = {number}")
            db.conn.execute("COMMIT")
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        version = schema_version(db)
    if version > len(migrations):
        raise RuntimeError(
            f"{name} is at schema version {version}, newer than this tingwen "
            f"({len(migrations)}); upgrade tingwen before using it"
        )
    return version


# PostgreSQL: the same schema as the SQLite migrations above, step for step. Search uses pg_trgm
# (Debian's postgresql-contrib) on search_text; the revision counter moves with every statement
# that writes notices, as SQLite's triggers do.
POSTGRES_MIGRATIONS: list[list[str]] = [
    [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE TABLE notices (id BIGSERIAL PRIMARY KEY, key TEXT NOT NULL UNIQUE, content_hash TEXT NOT NULL, "
        "title TEXT, spoken_title TEXT NOT NULL, doc_number TEXT, issuer TEXT, addressee TEXT, signed_date TEXT, "
        "published_date TEXT, sort_date TEXT, annotation TEXT, source TEXT, body TEXT NOT NULL, search_text TEXT NOT NULL, "
        "ingested_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE INDEX notices_sort_date_id ON notices (sort_date, id)",
        "CREATE TABLE sections (notice_id BIGINT NOT NULL REFERENCES notices (id), position INTEGER NOT NULL, "
        "path TEXT NOT NULL, ordinal INTEGER NOT NULL, marker TEXT NOT NULL, heading TEXT, text TEXT NOT NULL, "
        "PRIMARY KEY (notice_id, position))",
        "CREATE TABLE attachments (notice_id BIGINT NOT NULL REFERENCES notices (id), position INTEGER NOT NULL, "
        "name TEXT NOT NULL, PRIMARY KEY (notice_id, position))",
        "CREATE INDEX notices_search_trigram ON notices USING gin (search_text gin_trgm_ops)",
    ],
    [
        "ALTER TABLE notices ADD COLUMN withdrawn_at TEXT",
        "CREATE TABLE store_revision (id INTEGER PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL)",
        "INSERT INTO store_revision (id, n) VALUES (1, 0)",
        "CREATE FUNCTION notices_revision() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN UPDATE store_revision SET n = n + 1 WHERE id = 1; RETURN NULL; END $$",
        "CREATE TRIGGER notices_revision AFTER INSERT OR UPDATE OR DELETE ON notices "
        "FOR EACH STATEMENT EXECUTE FUNCTION notices_revision()",
    ],
    [  # every server is told the new revision as the write commits (content/revision_watch.py)
        "CREATE OR REPLACE FUNCTION notices_revision() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ DECLARE moved BIGINT; BEGIN UPDATE store_revision SET n = n + 1 WHERE id = 1 RETURNING n INTO moved; "
        f"PERFORM pg_notify('{REVISION_CHANNEL}', moved::text); RETURN NULL; END $$",
    ],
]


def open_postgres(url: str, migrations: list[list[str]], name: str, busy_seconds: float = 5.0):
    """A PostgreSQL connection migrated to the newest of `migrations` (each store keeps its
    version under its own name in schema_versions; one process migrates, the others wait)."""
    from content.database import PostgresConnection, shown

    try:
        conn = PostgresConnection(url, busy_seconds)
    except Exception as error:  # refused, no such database, bad password (the pool times out)
        raise StoreUnreadable(shown(url), name, str(error).strip()) from None
    if (url, name, len(migrations)) in _migrated:  # every request opens a store: check once per process
        return conn
    with conn.conn.transaction():
        conn.conn.execute("SELECT pg_advisory_xact_lock(hashtext('tingwen migrations'))")
        conn.conn.execute("CREATE TABLE IF NOT EXISTS schema_versions (store TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        row = conn.conn.execute("SELECT version FROM schema_versions WHERE store = %s", [name]).fetchone()
        version = row["version"] if row else 0
        if version > len(migrations):
            raise RuntimeError(f"{name} is at schema version {version}, newer than this tingwen ({len(migrations)}); upgrade tingwen")
        for number, steps in enumerate(migrations[version:], start=version + 1):
            for statement in steps:
                conn.conn.execute(statement)
            conn.conn.execute(
                "INSERT INTO schema_versions (store, version) VALUES (%s, %s) "
                "ON CONFLICT (store) DO UPDATE SET version = excluded.version",
                [name, number],
            )
    _migrated.add((url, name, len(migrations)))
    return conn


_migrated: set[tuple[str, str, int]] = set()
