"""What one request costs the databases: no connection is opened once the server is warm (the
stores' connections are kept for the next request, the schema checked once per process), every
webhook that writes does so in one transaction, and the statements per request stay few, on
SQLite and on PostgreSQL, so the cost of the phone line cannot creep back unnoticed."""

import sqlite3
import threading

import pytest
from conftest import PhoneCall, phone_app

# (what happens, the most SQL statements it may take)
WEBHOOKS = [
    ("a call is answered", 8),  # with the one look-up of what is remembered of the caller
    ("a key chooses a notice", 7),
    ("a key chooses a part", 7),
    ("a reading goes on (no key)", 7),
    ("a key cancels", 7),
    ("the status callback", 5),
    ("a kiosk menu turn", 1),  # the notices' revision (the menu is kept for it)
]


@pytest.fixture
def counted(tmp_path, monkeypatch):
    """The app, with every SQLite connection a request opens from now on counted and its statements traced."""
    opened: list[sqlite3.Connection] = []
    statements: list[str] = []
    connect = sqlite3.connect

    requests = threading.current_thread()  # the test client answers in this thread

    def counting_connect(*args, **kwargs):
        connection = connect(*args, **kwargs)
        if threading.current_thread() is requests:  # not the background checkpoints' own connections
            connection.set_trace_callback(statements.append)
            opened.append(connection)
        return connection

    monkeypatch.setattr(sqlite3, "connect", counting_connect)
    app = phone_app(tmp_path / "data")
    PhoneCall(app, sid="CAwarm00000000000000000000000000").start().press("4")  # warm: the stores opened once
    return app, opened, statements


def _do(app, call, what):
    if what == "a call is answered":
        call.start()
    elif what == "a key chooses a notice":
        call.press("4")
    elif what == "a key chooses a part":
        call.press("1")
    elif what == "a reading goes on (no key)":
        call.silence()
    elif what == "a key cancels":
        call.press("*")
    elif what == "the status callback":
        call.post("/ivr/status", {"CallSid": call.sid, "CallStatus": "completed", "CallDuration": "30"})
    else:
        call.last = app.test_client().post("/kiosk/menu", json={})
    return call.last.status_code


def test_every_webhook_opens_no_connection_and_takes_few_statements(counted):
    app, opened, statements = counted
    call = PhoneCall(app)
    for what, most in WEBHOOKS:
        before_open, before = len(opened), len(statements)
        assert _do(app, call, what) in (200, 204), what
        # the wait for a write (content/database.py turns SQLite's sleeping busy handler off
        # around BEGIN IMMEDIATE) is a setting, not work: two statements that touch no page
        done = [s for s in statements[before:] if not s.startswith("PRAGMA busy_timeout")]
        assert len(opened) == before_open, f"{what}: opened a database connection"
        assert len(done) <= most, f"{what}: {len(done)} statements: {done}"
        writes = [s for s in done if s.startswith(("INSERT", "UPDATE", "DELETE"))]
        if writes:
            assert done.count("BEGIN IMMEDIATE") == 1, f"{what}: its writes are not one transaction: {done}"
        logged = [s for s in done if s.startswith("INSERT INTO call_events")]
        assert len(logged) <= 1, f"{what}: its events are not one statement: {logged}"


# (what happens, the most pages of the call log its write may change: SQLite appends each to the log)
PAGES = [
    ("a call is answered", 6),  # the call's row and its key, the start event and its two indexes
    ("a key chooses a notice", 4),  # the call's row (no index of calls changes in a turn), the events
    ("a key chooses a part", 4),
    ("a reading goes on (no key)", 4),
    ("a key cancels", 4),
]


def test_a_turn_changes_few_pages_of_the_call_log(tmp_path, monkeypatch):
    from content import connections

    monkeypatch.setattr(connections.checkpoints, "checkpoint", lambda path: None)  # the log is ours to read
    app = phone_app(tmp_path / "data")
    calls_db = app.config["TINGWEN"].ivr.calls_db
    log = calls_db.with_name(calls_db.name + "-wal")
    page = sqlite3.connect(calls_db).execute("PRAGMA page_size").fetchone()[0]
    call = PhoneCall(app)
    for what, most in PAGES:
        emptied = sqlite3.connect(calls_db)
        emptied.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log starts empty: what the turn adds is what it wrote
        emptied.close()
        assert _do(app, call, what) == 200, what
        frames = (log.stat().st_size - 32) / (24 + page)  # the log's header, then a header and a page per frame
        assert 1 <= frames <= most, f"{what}: {frames} pages written"


def test_no_checkpoint_in_a_request_and_the_background_folds_the_log(counted, monkeypatch):
    import time

    from content import connections

    app, _, _ = counted
    calls_db = app.config["TINGWEN"].ivr.calls_db
    for _, db in connections._idle[calls_db]:
        assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    folded = []
    monkeypatch.setattr(connections.checkpoints, "checkpoint", folded.append)  # the background thread holds off
    before = calls_db.stat().st_mtime_ns, calls_db.stat().st_size
    call = PhoneCall(app, sid="CAcheckpoint00000000000000000000")
    log = calls_db.with_name(calls_db.name + "-wal")
    rounds = 0
    while rounds < 20 or log.stat().st_size <= 1000 * 4096:  # past the log SQLite would fold in on a commit
        call.start().press("4").press("*")
        rounds += 1
    assert (calls_db.stat().st_mtime_ns, calls_db.stat().st_size) == before  # nothing folded into the file
    monkeypatch.undo()
    deadline = time.monotonic() + 4 * connections.CHECKPOINT_SECONDS
    while time.monotonic() < deadline and (calls_db.stat().st_mtime_ns, calls_db.stat().st_size) == before:
        time.sleep(0.1)
    assert (calls_db.stat().st_mtime_ns, calls_db.stat().st_size) != before, "the background never folded the log in"


def test_a_request_after_the_file_was_replaced_opens_it_afresh(counted, tmp_path):
    """A restored or replaced database is never read through a connection to the old file."""
    import shutil

    app, opened, _ = counted
    calls_db = app.config["TINGWEN"].ivr.calls_db
    from content.connections import close_idle

    close_idle()
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(calls_db, copy)
    shutil.move(copy, calls_db)  # a new file (a new inode) in its place, as a restore does
    before = len(opened)
    assert PhoneCall(app, sid="CAafter00000000000000000000000000").start().last.status_code == 200
    assert len(opened) > before


def test_a_connection_never_crosses_a_fork(tmp_path):
    """gunicorn forks its workers: a child opens its own connections and leaves the parent's alone."""
    import os

    from content.store import NoticeStore

    path = tmp_path / "notices.sqlite3"
    NoticeStore(path).close()  # the parent keeps it for its next request
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: a store of its own, and the parent's connection untouched
        try:
            from content import connections

            kept = [db for idle in connections._idle.values() for _, db in idle]
            store = NoticeStore(path)
            fresh = all(store.conn.conn is not db.conn for db in kept + connections._forked_away)
            store.count()
            store.close()
            os.write(write, b"fresh" if fresh else b"reused")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 16) == b"fresh"
    with NoticeStore(path) as store:  # and the parent's own still works
        assert store.count() == 0


def test_on_postgres_a_webhook_takes_as_few_statements(tmp_path, postgres_server, monkeypatch):
    """The same on PostgreSQL (several servers): connections come from each process's pool, and
    a webhook sends no more statements than on SQLite; nothing made once (the schema, the
    servers' caller salt) is looked at again."""
    from content.database import PostgresConnection

    app = phone_app(tmp_path / "data", database_url=postgres_server())
    PhoneCall(app, sid="CAwarm00000000000000000000000000").start().press("4")
    statements: list[str] = []
    for name in ("execute", "query", "executemany"):
        original = getattr(PostgresConnection, name)
        monkeypatch.setattr(PostgresConnection, name, lambda self, sql, params=(), _original=original: statements.append(sql) or _original(self, sql, params))
    call = PhoneCall(app)
    for what, most in WEBHOOKS:
        before = len(statements)
        assert _do(app, call, what) in (200, 204), what
        done = statements[before:]
        assert len(done) <= max(most - 2, 0), f"{what}: {len(done)} statements: {done}"  # no BEGIN and COMMIT of their own
        assert not [s for s in done if "schema_versions" in s or "caller_salt" in s], f"{what}: {done}"


def test_a_checkpoint_keeps_the_connections_kept_for_the_next_request(counted):
    """The background checkpoint folds the log into the file every few seconds, which changes
    its size and time but not what file it is: the next request still takes a kept connection."""
    from content import connections

    app, opened, _ = counted
    calls_db = app.config["TINGWEN"].ivr.calls_db
    call = PhoneCall(app, sid="CAfolded000000000000000000000000").start().press("4")
    before = calls_db.stat().st_mtime_ns, calls_db.stat().st_size
    connections.checkpoints.checkpoint(calls_db)
    assert (calls_db.stat().st_mtime_ns, calls_db.stat().st_size) != before  # folded in
    count = len(opened)
    assert call.press("*").last.status_code == 200
    assert len(opened) == count
