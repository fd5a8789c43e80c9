"""Call state and the call log, in a SQLite file of the phone line's own (calls.sqlite3), or in
the PostgreSQL database several servers share.

The menu state of each call is kept here between webhooks (not in cookies), so a call survives a
server restart; every call event goes to an event table for the staff summary. Callers' numbers
are kept only as a salted hash.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

from sqlite_utils import Database

from content.keys import IntentKind, key_of
from content.menu import End, Event, Menu, MenuState, Mode, Play
from content.errors import StoreUnreadable
from content.database import Connection, SqliteConnection, Store, is_postgres
from content.connections import open_database
from content.migrations import open_postgres
from ivr.settings import IvrSettings

STALE_AFTER = timedelta(hours=2)
PURGE_EVERY = timedelta(hours=1)
TEXT_LEDGER = timedelta(days=2)  # text messages are counted per day: the ledger keeps no more (ivr/texting.py)
EXPIRE_EVERY = timedelta(minutes=1)
_last_purge: datetime | None = None  # when this process last applied the retention setting
_last_expiry: datetime | None = None  # when this process last closed calls dropped without a callback


def _v1_calls(db: Database) -> None:
    db["calls"].create(
        {
            "sid": str,
            "caller_hash": str,
            "started_at": str,
            "updated_at": str,
            "ended_at": str,
            "status": str,
            "duration_s": int,
            "state": str,
            "turns": int,
        },
        pk="sid",
        not_null={"started_at", "updated_at", "state", "turns"},
    )
    db["calls"].create_index(["updated_at"])
    db["call_events"].create(
        {"id": int, "sid": str, "at": str, "kind": str, "notice_id": int, "path": str, "detail": str},
        pk="id",
        not_null={"sid", "at", "kind"},
    )
    db["call_events"].create_index(["sid"])
    db["call_events"].create_index(["kind", "at"])


def _v2_stream_tokens(db: Database) -> None:
    # the one-time token a streaming call's WebSocket must present (Media Streams mode)
    db["calls"].add_column("stream_token", str)


def _v3_reading_batches(db: Database) -> None:
    # webhook reading: the sentences of the last Gather, each with its menu state (ivr/reading.py)
    db["calls"].add_column("reading", str)


def _v4_callers(db: Database) -> None:
    # what is remembered of a caller between calls (ivr/caller_memory.py), by the salted hash
    db["callers"].create(
        {"caller_hash": str, "pace": int, "loudness": int, "notice_id": int, "part": int, "sentence": int, "updated_at": str},
        pk="caller_hash",
        not_null={"pace", "loudness", "updated_at"},
    )
    db["callers"].create_index(["updated_at"])


def _v5_texts(db: Database) -> None:
    # the text messages sent to callers today (ivr/texting.py): their daily limit, by the salted hash
    db["texts"].create(
        {"id": int, "caller_hash": str, "sent_at": str, "notice_id": int, "status": str, "message_sid": str},
        pk="id",
        not_null={"caller_hash", "sent_at", "status"},
    )
    db["texts"].create_index(["caller_hash", "sent_at"])


def _v6_open_calls_by_ended_at(db: Database) -> None:
    # Open calls are found by `ended_at IS NULL`, which changes once a call, not by the time of
    # its last webhook, which every turn writes: an index on that was one more page per turn
    # on SQLite, and on PostgreSQL no turn's update could stay on its page (HOT).
    db.execute("DROP INDEX IF EXISTS idx_calls_updated_at")
    db["calls"].create_index(["ended_at"])


MIGRATIONS = [_v1_calls, _v2_stream_tokens, _v3_reading_batches, _v4_callers, _v5_texts, _v6_open_calls_by_ended_at]
# PostgreSQL, step for step; and the settings every server shares (the caller salt).
POSTGRES_MIGRATIONS = [
    [
        "CREATE TABLE calls (sid TEXT PRIMARY KEY, caller_hash TEXT, started_at TEXT NOT NULL, updated_at TEXT NOT NULL, "
        "ended_at TEXT, status TEXT, duration_s INTEGER, state TEXT NOT NULL, turns INTEGER NOT NULL)",
        "CREATE INDEX calls_updated_at ON calls (updated_at)",
        "CREATE TABLE call_events (id BIGSERIAL PRIMARY KEY, sid TEXT NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL, "
        "notice_id BIGINT, path TEXT, detail TEXT)",
        "CREATE INDEX call_events_sid ON call_events (sid)",
        "CREATE INDEX call_events_kind_at ON call_events (kind, at)",
        "CREATE TABLE shared_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ],
    ["ALTER TABLE calls ADD COLUMN stream_token TEXT"],
    ["ALTER TABLE calls ADD COLUMN reading TEXT"],
    [
        "CREATE TABLE callers (caller_hash TEXT PRIMARY KEY, pace INTEGER NOT NULL, loudness INTEGER NOT NULL, "
        "notice_id BIGINT, part INTEGER, sentence INTEGER, updated_at TEXT NOT NULL)",
        "CREATE INDEX callers_updated_at ON callers (updated_at)",
    ],
    [
        "CREATE TABLE texts (id BIGSERIAL PRIMARY KEY, caller_hash TEXT NOT NULL, sent_at TEXT NOT NULL, notice_id BIGINT, "
        "status TEXT NOT NULL, message_sid TEXT)",
        "CREATE INDEX texts_caller_hash_sent_at ON texts (caller_hash, sent_at)",
    ],
    ["DROP INDEX IF EXISTS calls_updated_at", "CREATE INDEX calls_ended_at ON calls (ended_at)"],
]


_shared_salts: dict[str, bytes] = {}  # per PostgreSQL database: the servers' one caller salt


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Call:
    sid: str
    started_at: datetime
    state: str  # MenuState as JSON
    turns: int
    ended: bool
    reading: str | None = None  # the sentences of the last Gather (ivr/reading.py), if several

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or _now()) - self.started_at


@dataclass(frozen=True)
class CallEvent:
    kind: str  # start, key, play, cancel, invalid, timeout, hangup, limit, end; bulletin, machine, voicemail; transfer, text
    notice_id: int | None = None
    path: str | None = None
    detail: dict | None = None


class CallStore(Store):
    def __init__(self, path: Path | str, salt: bytes | None = None, keep_days: int = 0, memory_days: int = 0):
        """`path`: the SQLite file, or a postgresql:// URL shared by several servers (whose
        caller salt is then kept in the database, once for all of them). `keep_days`: calls
        older than this are purged with their events (0: kept for ever); `memory_days`: what is
        remembered of a caller (ivr/caller_memory.py) is forgotten after this (0: nothing is)."""
        self.keep_days = keep_days
        self.memory_days = memory_days
        self.db: Database | None = None  # SQLite's sqlite-utils handle (tests and tools)
        if is_postgres(str(path)):
            self.conn: Connection = open_postgres(str(path), POSTGRES_MIGRATIONS, "the call log")
            self.salt = self._shared_salt(str(path))
        else:
            # With WAL, synchronous NORMAL keeps every write atomic and survives a crash of the
            # service; only a power cut can lose the last turns of a call's state, which a caller
            # barely notices (on PostgreSQL a turn is written likewise: `durable=False`).
            self.db = open_database(Path(path), MIGRATIONS, name="the call log", pragmas=("synchronous = NORMAL",))
            self.conn = SqliteConnection.kept(self.db)
            self.salt = salt if salt is not None else secrets.token_bytes(32)

    @classmethod
    def open(cls, settings: IvrSettings) -> CallStore:
        if is_postgres(str(settings.calls_db)):
            return cls(settings.calls_db, None, settings.call_log_days, settings.caller_memory_days)
        return cls(settings.calls_db, load_salt(settings.salt_file), settings.call_log_days, settings.caller_memory_days)

    def _shared_salt(self, url: str) -> bytes:
        """The salt every server hashes callers' numbers with, made once by whichever is first,
        and read once per process (it never changes): every webhook opens the call log, and a
        write under one lock for all servers in each would queue every request behind it."""
        salt = _shared_salts.get(url)
        if salt is None:
            salt = _shared_salts[url] = self._make_or_read_salt()
        return salt

    def _make_or_read_salt(self) -> bytes:
        with self.conn.writing("caller salt"):
            self.conn.execute(
                "INSERT INTO shared_settings (name, value) VALUES ('caller_salt', ?) ON CONFLICT (name) DO NOTHING",
                [secrets.token_hex(32)],
            )
            return bytes.fromhex(self.conn.query("SELECT value FROM shared_settings WHERE name = 'caller_salt'")[0]["value"])

    def caller_hash(self, number: str | None) -> str | None:
        if not number:
            return None
        return hashlib.sha256(self.salt + number.encode("utf-8")).hexdigest()

    def get(self, sid: str) -> Call | None:
        rows = self.conn.query("SELECT sid, started_at, state, turns, ended_at, reading FROM calls WHERE sid = ?", [sid])
        if not rows:
            return None
        row = rows[0]
        return Call(row["sid"], datetime.fromisoformat(row["started_at"]), row["state"], row["turns"], row["ended_at"] is not None, row["reading"])

    def begin(self, sid: str, caller: str | None, state: str, events: list[CallEvent] = (), stream_token: str | None = None) -> None:
        """Open a call (or reopen one Twilio asks about again) with its first turn's events and,
        on a streaming call, its WebSocket's one-time token: one transaction. Stale calls are
        expired and old ones purged now and then, not on every call."""
        now = _now()
        with self.conn.writing(f"call {sid}", durable=False):  # one call's webhooks queue up; other calls go on
            self.conn.execute(
                "INSERT INTO calls (sid, caller_hash, started_at, updated_at, state, turns, stream_token) VALUES (?, ?, ?, ?, ?, 0, ?) "
                "ON CONFLICT(sid) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state, "
                "stream_token = excluded.stream_token",
                [sid, self.caller_hash(caller), _iso(now), _iso(now), state, stream_token],
            )
            self._log_all(sid, now, [CallEvent("start"), *events])
            self._expire_now_and_then(now)
        self._purge_now_and_then(now)

    def tidy(self) -> None:
        """What `begin` does now and then, done now (a server's worker before its first call):
        calls dropped without a status callback closed, and the retention settings applied."""
        now = _now()
        with self.conn.writing("calls", durable=False):
            self._expire_now_and_then(now)
        self._purge_now_and_then(now)

    def _expire_now_and_then(self, now: datetime) -> None:
        global _last_expiry
        if _last_expiry is None or now - _last_expiry > EXPIRE_EVERY:
            _last_expiry = now
            self._expire(now)

    def _purge_now_and_then(self, now: datetime) -> None:
        """Apply the retention setting at most once an hour per process (calls begin often)."""
        global _last_purge
        if _last_purge is None or now - _last_purge > PURGE_EVERY:
            _last_purge = now
            if self.keep_days:
                self.purge(self.keep_days, now)
            with self.conn.writing("callers"):  # what is remembered of callers lasts its own days
                self.conn.execute("DELETE FROM callers WHERE updated_at < ?", [self.memory_cutoff(now)])
                self.conn.execute("DELETE FROM texts WHERE sent_at < ?", [_iso(now - TEXT_LEDGER)])

    def purge(self, days: int, now: datetime | None = None) -> int:
        """Forget calls that began more than `days` ago, with their events; returns how many."""
        cutoff = _iso((now or _now()) - timedelta(days=days))
        with self.conn.writing("calls"):
            old = "SELECT sid FROM calls WHERE started_at < ? AND ended_at IS NOT NULL"
            self.conn.execute(f"DELETE FROM call_events WHERE sid IN ({old})", [cutoff])
            self.conn.execute("DELETE FROM call_events WHERE at < ?", [cutoff])
            removed = self.conn.execute("DELETE FROM calls WHERE started_at < ? AND ended_at IS NOT NULL", [cutoff]).rowcount
        return removed

    def save(self, sid: str, state: str, events: list[CallEvent], reading: str | None = None) -> None:
        """The call's new menu state, the sentences now queued to play (if several), and what
        happened in this turn, together."""
        now = _now()
        with self.conn.writing(f"call {sid}", durable=False):  # one call's webhooks queue up; other calls go on
            self.conn.execute(
                "UPDATE calls SET state = ?, reading = ?, updated_at = ?, turns = turns + 1 WHERE sid = ?",
                [state, reading, _iso(now), sid],
            )
            self._log_all(sid, now, events)

    def note(self, sid: str, event: CallEvent) -> bool:
        """Log what happened on a known call without changing its state; False if unknown."""
        now = _now()
        with self.conn.writing(f"call {sid}"):  # one call's webhooks queue up; other calls go on
            if not self.conn.query("SELECT 1 FROM calls WHERE sid = ?", [sid]):
                return False
            self._log(sid, now, event)
        return True

    def set_stream_token(self, sid: str, token: str) -> None:
        with self.conn.writing(f"call {sid}"):  # one call's webhooks queue up; other calls go on
            self.conn.execute("UPDATE calls SET stream_token = ? WHERE sid = ?", [token, sid])

    def take_stream_token(self, sid: str, token: str) -> bool:
        """True once for the right token: it is cleared as it is used."""
        with self.conn.writing(f"call {sid}"):  # one call's webhooks queue up; other calls go on
            cursor = self.conn.execute(
                "UPDATE calls SET stream_token = NULL WHERE sid = ? AND stream_token = ? AND stream_token IS NOT NULL "
                "AND ended_at IS NULL",
                [sid, token],
            )
        return cursor.rowcount == 1

    def finish(self, sid: str, status: str, duration_s: int | None) -> bool:
        """Close the call record (Twilio's status callback); False if the call is unknown."""
        now = _now()
        with self.conn.writing(f"call {sid}"):  # one call's webhooks queue up; other calls go on
            cursor = self.conn.execute(
                "UPDATE calls SET ended_at = coalesce(ended_at, ?), status = ?, duration_s = coalesce(?, duration_s), "
                "updated_at = ?, stream_token = NULL WHERE sid = ?",
                [_iso(now), status, duration_s, _iso(now), sid],
            )
            if cursor.rowcount:
                self._log(sid, now, CallEvent("end", detail={"status": status, "duration_s": duration_s}))
        return bool(cursor.rowcount)

    def _log(self, sid: str, at: datetime, event: CallEvent) -> None:
        self._log_all(sid, at, [event])

    def _log_all(self, sid: str, at: datetime, events: list[CallEvent]) -> None:
        """A turn's events in one statement (one row each): on PostgreSQL the server parses and
        plans one INSERT instead of one per event."""
        if events:
            when = _iso(at)
            rows = [(sid, when, e.kind, e.notice_id, e.path, json.dumps(e.detail, ensure_ascii=False) if e.detail else None) for e in events]
            self.conn.execute(
                "INSERT INTO call_events (sid, at, kind, notice_id, path, detail) VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(rows)),
                [value for row in rows for value in row],
            )

    def _expire(self, now: datetime) -> None:
        """Calls with no webhook for a long time were dropped without a status callback: close them."""
        cutoff = _iso(now - STALE_AFTER)
        self.conn.execute(
            "UPDATE calls SET ended_at = updated_at, status = 'expired' WHERE ended_at IS NULL AND updated_at < ?",
            [cutoff],
        )

    # The staff summary

    def events(self, sid: str) -> list[tuple[str, int | None, str | None]]:
        rows = self.conn.query("SELECT kind, notice_id, path FROM call_events WHERE sid = ? ORDER BY id", [sid])
        return [(r["kind"], r["notice_id"], r["path"]) for r in rows]

    def summary(self, titles: dict[int, str] | None = None, timezone: str = "UTC", since: date | None = None,
                until: date | None = None) -> dict:
        """The staff summary of the calls begun from `since` to `until` (ivr/call_summary.py)."""
        from ivr.call_summary import summary

        return summary(self, titles or {}, timezone, since, until)

    def open_calls(self, now: datetime | None = None) -> int:
        """Calls not over yet (those silent for STALE_AFTER are over, whatever Twilio said)."""
        cutoff = _iso((now or _now()) - STALE_AFTER)
        return self.conn.query("SELECT count(*) AS n FROM calls WHERE ended_at IS NULL AND updated_at >= ?", [cutoff])[0]["n"]

    def remembered_callers(self) -> int:
        """How many callers' place and pace are remembered now (ivr/caller_memory.py): a count, never who."""
        if self.memory_days <= 0:
            return 0
        return self.conn.query("SELECT count(*) AS n FROM callers WHERE updated_at >= ?", [self.memory_cutoff()])[0]["n"]

    def memory_cutoff(self, now: datetime | None = None) -> str:
        """The stored time before which nothing of a caller is remembered any more."""
        return _iso((now or _now()) - timedelta(days=self.memory_days))

    def stamp(self, now: datetime | None = None) -> str:
        """Now (or `now`), as the call log stores times: in UTC, so that they compare as text."""
        return _iso((now or _now()).astimezone(UTC))

    def listens(self) -> Counter:
        """How many calls played each notice, by notice id (for the staff's list)."""
        rows = self.conn.query("SELECT notice_id FROM call_events WHERE kind = 'play' GROUP BY notice_id, sid")
        return Counter(r["notice_id"] for r in rows)


def turn_events(menu: Menu, before: MenuState, event: Event, after: MenuState, actions) -> list[CallEvent]:
    """What one menu turn adds to the call log (the same for webhooks and streams)."""
    events = []
    if event.kind == "key":
        events.append(CallEvent("key", detail={"key": event.key}))
    notice_id, path = menu.position(before)
    if event.key == key_of(IntentKind.CANCEL) or (event.intent is not None and event.intent.kind is IntentKind.CANCEL):  # pressed or said
        events.append(CallEvent("cancel", notice_id, path, {"mode": before.mode.value}))
    if after.misses > before.misses or (after.mode is Mode.ENDED and before.mode is not Mode.ENDED):
        events.append(CallEvent("timeout" if event.kind == "timeout" else "invalid", notice_id, path))
    for action in actions:
        if isinstance(action, Play) and action.sentence == 0:
            events.append(CallEvent("play", action.notice_id, action.path))
        elif isinstance(action, End):
            events.append(CallEvent("hangup", detail={"reason": action.reason}))
    return events


@cache
def load_salt(path: Path) -> bytes:
    """A random salt kept in the data folder, made on first use, for hashing callers' numbers.
    Read once per process: every webhook opens the call log."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    try:
        return bytes.fromhex(path.read_bytes().decode("ascii").strip())
    except ValueError:  # not ASCII, or not hex: damaged
        raise StoreUnreadable(path, "the caller salt", "not the hexadecimal key tingwen wrote") from None
