"""The call log behaves the same in SQLite and PostgreSQL: a call's life and its summary, a
stream token used exactly once even when two servers try it at the same moment, a status
callback and a webhook at once losing neither, and (PostgreSQL) one caller salt for all servers."""

import threading

import pytest

from content.database import PostgresConnection
from ivr.callstore import CallEvent, CallStore


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request, tmp_path):
    return tmp_path / "calls.sqlite3" if request.param == "sqlite" else request.getfixturevalue("postgres_server")()


def test_a_calls_life_and_its_summary(where):
    store = CallStore(where, b"salt" * 8)
    store.begin("CA1", "+8613800000000", "{}")
    store.save("CA1", '{"mode": "top"}', [CallEvent("play", 4, "1"), CallEvent("cancel", 4, "1")])
    assert store.finish("CA1", "completed", 42)
    assert not store.finish("CAunknown", "completed", 1)
    call = store.get("CA1")
    assert call.ended and call.turns == 1 and call.state == '{"mode": "top"}'
    summary = store.summary({4: "命令"}, "Asia/Shanghai")
    assert summary["calls"] == 1 and summary["average_duration_s"] == 42
    assert summary["most_listened"] == [{"notice_id": 4, "title": "命令", "calls": 1}]
    assert summary["cancels"][0]["count"] == 1
    assert [e[0] for e in store.events("CA1")] == ["start", "play", "cancel", "end"]
    store.close()


def test_a_stream_token_is_used_once_by_two_servers_at_once(where):
    first = CallStore(where, b"s" * 32)
    first.begin("CA2", None, "{}")
    first.set_stream_token("CA2", "token")
    first.close()
    results, start = [], threading.Barrier(2)

    def take():  # each "server" with its own connection, as each request has
        store = CallStore(where, b"s" * 32)
        start.wait()
        results.append(store.take_stream_token("CA2", "token"))
        store.close()

    threads = [threading.Thread(target=take) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == [False, True]


def test_a_status_callback_and_a_webhook_at_once_lose_nothing(where):
    opened = CallStore(where, b"s" * 32)
    opened.begin("CA3", None, "{}")
    opened.close()
    start = threading.Barrier(2)

    def webhook():
        store = CallStore(where, b"s" * 32)
        start.wait()
        for n in range(20):
            store.save("CA3", f'{{"n": {n}}}', [CallEvent("key")])
        store.close()

    def status():
        store = CallStore(where, b"s" * 32)
        start.wait()
        store.finish("CA3", "completed", 30)
        store.close()

    threads = [threading.Thread(target=webhook), threading.Thread(target=status)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    store = CallStore(where, b"s" * 32)
    call = store.get("CA3")
    assert call.turns == 20 and call.state == '{"n": 19}' and call.ended
    assert [e[0] for e in store.events("CA3")].count("key") == 20
    store.close()


def test_postgres_keeps_one_caller_salt_for_every_server(postgres_server):
    from ivr import callstore

    url = postgres_server()
    first = CallStore(url)
    callstore._shared_salts.clear()  # as another server (process) starts: it reads the salt made
    second = CallStore(url)
    assert first.salt == second.salt and len(first.salt) == 32
    statements = []
    execute, query = PostgresConnection.execute, PostgresConnection.query
    try:
        PostgresConnection.execute = lambda self, sql, params=(): statements.append(sql) or execute(self, sql, params)
        PostgresConnection.query = lambda self, sql, params=(): statements.append(sql) or query(self, sql, params)
        CallStore(url).close()  # every webhook opens the call log: the salt is not read again
    finally:
        PostgresConnection.execute, PostgresConnection.query = execute, query
    assert not [s for s in statements if "caller_salt" in s], statements
    assert first.caller_hash("+8613800000000") == second.caller_hash("+8613800000000")
    first.close(), second.close()


def test_postgres_writes_a_turn_without_waiting_for_its_disk_and_the_end_with(postgres_server):
    """A turn's state is written as SQLite's call log writes it (a crash of the database server
    may lose the last turns, never half of one); the end of a call waits for the disk."""
    store = CallStore(postgres_server())
    seen = []
    execute = store.conn.execute

    def noting(sql, params=()):
        if sql.startswith(("UPDATE calls", "INSERT INTO calls")):
            seen.append((sql.split()[0], store.conn.query("SHOW synchronous_commit")[0]["synchronous_commit"]))  # inside the write
        return execute(sql, params)

    store.conn.execute = noting
    store.begin("CA9", "+8613800000000", "{}")
    store.save("CA9", "{}", [CallEvent("key")])
    store.finish("CA9", "completed", 10)
    assert seen == [("INSERT", "off"), ("UPDATE", "off"), ("UPDATE", "on")]
    assert store.conn.conn.execute("SHOW synchronous_commit").fetchone()["synchronous_commit"] == "on"  # only inside those
    store.close()
