"""On PostgreSQL a write transaction goes out as one message (BEGIN, the lock, the writes and
COMMIT: one round trip, the parameters bound by psycopg), and it is still all or nothing: a
statement the server refuses, or an error of ours after part of it was sent, leaves nothing."""

import json

import psycopg
import pytest

from ivr.callstore import CallEvent, CallStore


@pytest.fixture
def store(postgres_server):
    store = CallStore(postgres_server(), b"s" * 32)
    store.begin("CA1", "+8613800000000", "{}")
    yield store
    store.close()


def _messages(monkeypatch) -> list[str]:
    """What goes to the server: every query of a cursor (psycopg's ClientCursor and the
    connection's own execute both send through Cursor.execute)."""
    sent: list[str] = []
    original = psycopg.Cursor.execute
    monkeypatch.setattr(psycopg.Cursor, "execute", lambda self, query, params=None, **kw: sent.append(str(query)) or original(self, query, params, **kw))
    return sent


def test_a_turn_is_written_in_one_message(store, monkeypatch):
    sent = _messages(monkeypatch)
    store.save("CA1", '{"n": 1}', [CallEvent("key", detail={"key": "1"}), CallEvent("play", notice_id=3, path="1.2")])
    assert len(sent) == 1, sent
    assert sent[0].startswith("BEGIN") and sent[0].rstrip().endswith("COMMIT")
    assert store.get("CA1").state == '{"n": 1}'
    assert [e[0] for e in store.events("CA1")][-2:] == ["key", "play"]


def test_a_result_read_inside_sends_what_came_before_and_the_rest_follows(store, monkeypatch):
    sent = _messages(monkeypatch)
    with store.conn.writing("call CA1"):
        store.conn.execute("UPDATE calls SET state = ? WHERE sid = ?", ['{"n": 2}', "CA1"])
        assert store.conn.query("SELECT state FROM calls WHERE sid = ?", ["CA1"]) == [{"state": '{"n": 2}'}]  # its own write, seen
        changed = store.conn.execute("UPDATE calls SET turns = turns + 1 WHERE sid = ?", ["CA1"])
        assert changed.rowcount == 1
    assert len(sent) == 3, sent  # up to the read; up to the row count; the COMMIT
    assert store.get("CA1").state == '{"n": 2}'


@pytest.mark.parametrize("failing", ["refused by the server", "ours, after a read"])
def test_a_failure_inside_leaves_nothing_and_the_connection_usable(store, failing):
    with pytest.raises(Exception) as raised:
        with store.conn.writing("call CA1"):
            store.conn.execute("UPDATE calls SET state = ? WHERE sid = ?", ['{"half": true}', "CA1"])
            if failing == "refused by the server":
                store.conn.execute("INSERT INTO calls (sid, started_at, updated_at, state, turns) VALUES (?, ?, ?, ?, 0)",
                                   ["CA1", "x", "x", "{}"])  # fmt: skip
                store.conn.query("SELECT 1 AS one")  # sends it: the server refuses the duplicate
            else:
                assert store.conn.query("SELECT state FROM calls WHERE sid = ?", ["CA1"])[0]["state"] == '{"half": true}'
                raise RuntimeError("a bug of ours")
    assert isinstance(raised.value, psycopg.errors.UniqueViolation if failing == "refused by the server" else RuntimeError)
    assert store.conn.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert store.get("CA1").state == "{}"  # nothing of it stayed
    store.save("CA1", '{"after": 1}', [CallEvent("key")])
    assert store.get("CA1").state == '{"after": 1}'


def test_quotes_and_percent_signs_travel_intact(store):
    odd = "它's 100% \\n ?; DROP TABLE calls; --"
    store.save("CA1", odd, [CallEvent("key", detail={"heard": odd})])
    assert store.get("CA1").state == odd
    detail = store.conn.query("SELECT detail FROM call_events WHERE sid = ? ORDER BY id DESC LIMIT 1", ["CA1"])[0]["detail"]
    assert json.loads(detail) == {"heard": odd}
