"""Who gets the daily phone bulletin, and each day's calls to them (subscribers.sqlite3, or the
shared PostgreSQL).

A number is kept twice, neither readable in a copy of the database: a keyed hash (HMAC-SHA256)
to find it, and a Fernet token (AES-128-CBC with HMAC) to dial it (ivr/numbers.py). The key is a
file in the data folder (subscriber-key), like the caller salt; several servers on one PostgreSQL
need the same file, and a server with another key is refused by name rather than sealing numbers
no one can open. Every call of a bulletin run is written down (claimed) before it is placed, so a run that
crashes or restarts neither skips nor repeats anyone (ivr/bulletin.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import InvalidToken
from sqlite_utils import Database

from content.database import Store
from content.errors import StoreUnreadable
from content.connections import open_connection
from content.store import stored_at as iso
from ivr.numbers import NumberKey, load_number_key, masked_number
from ivr.twilio_wire import UNANSWERED_STATUSES

log = logging.getLogger(__name__)
STORE_NAME = "the bulletin subscribers"
IN_FLIGHT = ("dialling", "placed", "answered")  # an attempt whose call is not over
HEARD = ("answered", "completed")  # the callee picked up and heard the bulletin
VOICEMAIL = "voicemail"  # an answering machine picked up: a short message was left after its beep
DELIVERED = HEARD + (VOICEMAIL,)  # done for the day: not called again
FAILED = UNANSWERED_STATUSES  # Twilio's unanswered outcomes
NOT_PLACED = "not placed"  # a claim whose call never reached Twilio: it does not count


def _v1_subscribers(db: Database) -> None:
    db["subscribers"].create(
        {
            "id": int,
            "number_hash": str,
            "number_sealed": str,
            "subscribed_at": str,
            "heard_until": str,  # notices stored up to this moment were read to them
            "failed_days": int,  # days in a row on which every attempt failed
            "last_failed_day": str,
            "paused_at": str,
        },
        pk="id",
        not_null={"number_hash", "number_sealed", "subscribed_at", "heard_until", "failed_days"},
    )
    db["subscribers"].create_index(["number_hash"], unique=True)
    db["bulletin_attempts"].create(
        {
            "id": int,
            "subscriber_id": int,
            "day": str,  # the hall's day (TINGWEN_TIMEZONE)
            "claimed_at": str,
            "call_sid": str,
            "status": str,
            "ended_at": str,
            "notices": str,  # JSON list of the notice ids the bulletin reads
            "covers_until": str,  # the newest of them was stored then
            "detail": str,
        },
        pk="id",
        not_null={"subscriber_id", "day", "claimed_at", "status", "notices", "covers_until"},
    )
    db["bulletin_attempts"].create_index(["subscriber_id", "day"])
    db["bulletin_attempts"].create_index(["claimed_at"])
    db["subscriber_settings"].create({"name": str, "value": str}, pk="name", not_null={"value"})


MIGRATIONS = [_v1_subscribers]
POSTGRES_MIGRATIONS = [
    [
        "CREATE TABLE subscribers (id BIGSERIAL PRIMARY KEY, number_hash TEXT NOT NULL UNIQUE, number_sealed TEXT NOT NULL, "
        "subscribed_at TEXT NOT NULL, heard_until TEXT NOT NULL, failed_days INTEGER NOT NULL, last_failed_day TEXT, paused_at TEXT)",
        "CREATE TABLE bulletin_attempts (id BIGSERIAL PRIMARY KEY, subscriber_id BIGINT NOT NULL, day TEXT NOT NULL, "
        "claimed_at TEXT NOT NULL, call_sid TEXT, status TEXT NOT NULL, ended_at TEXT, notices TEXT NOT NULL, "
        "covers_until TEXT NOT NULL, detail TEXT)",
        "CREATE INDEX bulletin_attempts_day ON bulletin_attempts (subscriber_id, day)",
        "CREATE INDEX bulletin_attempts_claimed ON bulletin_attempts (claimed_at)",
        "CREATE TABLE subscriber_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]
]

@dataclass(frozen=True)
class Subscriber:
    id: int
    number: str
    subscribed_at: str
    heard_until: str
    failed_days: int
    paused: bool


@dataclass(frozen=True)
class Attempt:
    id: int
    subscriber_id: int
    day: str
    claimed_at: str
    call_sid: str | None
    status: str
    notices: tuple[int, ...]
    covers_until: str


_keys_checked: set[tuple[str, str]] = set()


class SubscriberStore(Store):
    def __init__(self, where: Path | str, key: NumberKey):
        """`where`: the SQLite file, or the postgresql:// URL several servers share."""
        self.key = key
        self.conn = open_connection(where, MIGRATIONS, POSTGRES_MIGRATIONS, STORE_NAME)
        self._check_key(where)

    def _check_key(self, where) -> None:
        """The first server to open the store writes its key's fingerprint; any other key is
        refused. Checked once per process and store (every call's first webhook opens it)."""
        if (str(where), self.key.fingerprint) in _keys_checked:
            return
        rows = self.conn.query("SELECT value FROM subscriber_settings WHERE name = 'key'")
        if not rows:
            with self.conn.writing("subscribers"):
                self.conn.execute(
                    "INSERT INTO subscriber_settings (name, value) VALUES ('key', ?) ON CONFLICT (name) DO NOTHING",
                    [self.key.fingerprint],
                )
            rows = self.conn.query("SELECT value FROM subscriber_settings WHERE name = 'key'")
        if rows[0]["value"] != self.key.fingerprint:
            self.close()
            raise StoreUnreadable(
                where, STORE_NAME, "its numbers were sealed with another subscriber-key file: copy that file here"
            )
        _keys_checked.add((str(where), self.key.fingerprint))

    # Subscribing (a caller on the phone menu, or staff on the command line)

    def is_subscribed(self, number: str) -> bool:
        return bool(self.conn.query("SELECT 1 FROM subscribers WHERE number_hash = ?", [self.key.lookup(number)]))

    def subscribe(self, number: str, now: datetime | None = None) -> bool:
        """True if the number was added; the bulletin reads what is stored from now on (from the
        second before, as the store counts in seconds: a notice is read twice rather than never)."""
        moment = iso((now or datetime.now(UTC)) - timedelta(seconds=1))
        with self.conn.writing("subscribers"):
            cursor = self.conn.execute(
                "INSERT INTO subscribers (number_hash, number_sealed, subscribed_at, heard_until, failed_days) "
                "VALUES (?, ?, ?, ?, 0) ON CONFLICT (number_hash) DO NOTHING",
                [self.key.lookup(number), self.key.seal(number), moment, moment],
            )
        return cursor.rowcount == 1

    def unsubscribe(self, number: str) -> bool:
        """True if the number was on the list; it is gone with its call history."""
        with self.conn.writing("subscribers"):
            rows = self.conn.query("SELECT id FROM subscribers WHERE number_hash = ?", [self.key.lookup(number)])
            if not rows:
                return False
            self.conn.execute("DELETE FROM bulletin_attempts WHERE subscriber_id = ?", [rows[0]["id"]])
            self.conn.execute("DELETE FROM subscribers WHERE id = ?", [rows[0]["id"]])
        return True

    def counts(self, day: str) -> dict[str, int]:
        """For `tingwen subscribers`: how many subscribe, are paused, and were called on `day`."""
        row = self.conn.query("SELECT count(*) AS total, count(paused_at) AS paused FROM subscribers")[0]
        today = next(iter(self.per_day(day, day)), _day(day))
        return {
            "subscribers": row["total"],
            "active": row["total"] - row["paused"],
            "paused": row["paused"],
            "calls_today": today["calls"],
            "heard_today": today["heard"],
            "voicemail_today": today["voicemail"],
            "unanswered_today": today["unanswered"],
        }

    def per_day(self, since: str, until: str) -> list[dict]:
        """Each day from `since` to `until` (hall days, ISO) with bulletin calls: how many were
        placed, heard by a person, left on an answering machine, and busy or unanswered. A number
        is reached at most once a day, so the reached counts are numbers as well as calls."""
        rows = self.conn.query(
            "SELECT day, status, count(*) AS n FROM bulletin_attempts WHERE day >= ? AND day <= ? AND status <> ? "
            "GROUP BY day, status ORDER BY day",
            [since, until, NOT_PLACED],
        )
        days: dict[str, dict] = {}
        for row in rows:
            day = days.setdefault(row["day"], _day(row["day"]))
            day["calls"] += row["n"]
            outcome = _OUTCOMES.get(row["status"])
            if outcome:
                day[outcome] += row["n"]
        return list(days.values())

    def subscribers(self) -> list[Subscriber]:
        rows = self.conn.query("SELECT * FROM subscribers ORDER BY id")
        return [self._subscriber(r) for r in rows]

    def _subscriber(self, row: dict) -> Subscriber:
        try:
            number = self.key.open(row["number_sealed"])
        except InvalidToken:
            raise StoreUnreadable("subscribers", STORE_NAME, f"subscriber {row['id']}'s number cannot be opened") from None
        return Subscriber(row["id"], number, row["subscribed_at"], row["heard_until"], row["failed_days"], row["paused_at"] is not None)

    def resume(self, number: str) -> bool:
        """Take a paused number back into the daily calls (staff, when the family asks)."""
        with self.conn.writing("subscribers"):
            cursor = self.conn.execute(
                "UPDATE subscribers SET paused_at = NULL, failed_days = 0 WHERE number_hash = ?", [self.key.lookup(number)]
            )
        return cursor.rowcount == 1

    # A bulletin run (ivr/bulletin.py)

    def candidates(self, day: str, now: datetime, attempts_per_day: int, retry_after: timedelta) -> list[int]:
        """The ids of subscribers who may be called now: not paused, not reached today, no call
        of theirs under way, attempts left today, and the last one long enough ago. (Whether
        there is news for them is the caller's question: it needs the notice store.) Numbers
        stay sealed: only the one about to be called is opened."""
        rows = self.conn.query(
            "SELECT s.id, "
            f"(SELECT count(*) FROM bulletin_attempts a WHERE a.subscriber_id = s.id AND a.day = ? AND a.status <> ?) AS tries, "
            f"(SELECT count(*) FROM bulletin_attempts a WHERE a.subscriber_id = s.id AND a.day = ? AND a.status IN {_list(DELIVERED + IN_FLIGHT)}) AS busy, "
            "(SELECT max(ended_at) FROM bulletin_attempts a WHERE a.subscriber_id = s.id AND a.day = ?) AS last_end "
            "FROM subscribers s WHERE s.paused_at IS NULL ORDER BY s.id",
            [day, NOT_PLACED, day, *DELIVERED, *IN_FLIGHT, day],
        )
        cutoff = iso(now - retry_after)
        return [
            r["id"]
            for r in rows
            if not r["busy"] and r["tries"] < attempts_per_day and (r["last_end"] is None or r["last_end"] <= cutoff)
        ]

    def claim(
        self, subscriber: Subscriber, notices: list[tuple[int, str]], day: str, now: datetime, attempts_per_day: int,
        retry_after: timedelta, per_minute: int,
    ) -> Attempt | float | None:
        """Write down the call about to be placed, or say why not: a number of seconds to wait
        (`per_minute` calls were claimed in the last minute, by this run or another), or None
        (someone else claimed it, or it is no longer due). Done under the store's write lock,
        so two runs at once never call the same number or exceed the pace together."""
        with self.conn.writing("subscribers"):
            recent = self.conn.query(
                "SELECT claimed_at FROM bulletin_attempts WHERE claimed_at > ? AND status <> ? ORDER BY claimed_at",
                [iso(now - timedelta(minutes=1)), NOT_PLACED],
            )
            if len(recent) >= per_minute:
                free_at = datetime.fromisoformat(recent[-per_minute]["claimed_at"]) + timedelta(minutes=1)
                return max(0.5, (free_at - now).total_seconds())
            if subscriber.id not in self.candidates(day, now, attempts_per_day, retry_after):
                return None
            ids = json.dumps([notice_id for notice_id, _ in notices])
            covers = max(at for _, at in notices)
            new_id = self.conn.query(
                "INSERT INTO bulletin_attempts (subscriber_id, day, claimed_at, status, notices, covers_until) "
                "VALUES (?, ?, ?, 'dialling', ?, ?) RETURNING id",
                [subscriber.id, day, iso(now), ids, covers],
            )[0]["id"]
        return self.attempt(new_id)

    def attempt(self, attempt_id: int) -> Attempt | None:
        rows = self.conn.query("SELECT * FROM bulletin_attempts WHERE id = ?", [attempt_id])
        return _attempt(rows[0]) if rows else None

    def subscriber(self, subscriber_id: int) -> Subscriber | None:
        rows = self.conn.query("SELECT * FROM subscribers WHERE id = ?", [subscriber_id])
        return self._subscriber(rows[0]) if rows else None

    def unfinished(self) -> list[Attempt]:
        """Attempts a run claimed but whose call's end we have not heard of (a crash, a restart,
        a status callback that never came): the next run asks Twilio what became of them."""
        rows = self.conn.query(f"SELECT * FROM bulletin_attempts WHERE status IN {_list(IN_FLIGHT)} ORDER BY id", list(IN_FLIGHT))
        return [_attempt(r) for r in rows]

    def placed(self, attempt_id: int, call_sid: str) -> None:
        with self.conn.writing("subscribers"):
            self.conn.execute(
                "UPDATE bulletin_attempts SET call_sid = ?, status = 'placed' WHERE id = ? AND status = 'dialling'",
                [call_sid, attempt_id],
            )

    def not_placed(self, attempt_id: int, why: str) -> None:
        """The call never reached Twilio: the claim does not count, and the number stays due."""
        with self.conn.writing("subscribers"):
            self.conn.execute(
                "UPDATE bulletin_attempts SET status = ?, detail = ? WHERE id = ? AND status = 'dialling'",
                [NOT_PLACED, why[:500], attempt_id],
            )

    def outcome(self, attempt_id: int, status: str, call_sid: str | None, now: datetime, pause_after_days: int,
                attempts_per_day: int, detail: str | None = None) -> bool:
        """What became of an attempt (Twilio's status callback, or what a run asked Twilio).
        Answered: the subscriber has heard everything the bulletin covered. Busy, no answer,
        failed: retried later that day; when the day's last attempt fails, the day counts as
        failed, and after `pause_after_days` such days in a row the number is paused. Applied
        once: a repeated callback changes nothing. False if the attempt is unknown."""
        status = "answered" if status == "in-progress" else status
        if status not in HEARD + FAILED:
            with self.conn.writing("subscribers"):  # queued, ringing…: only the call's id is news
                cursor = self.conn.execute(
                    "UPDATE bulletin_attempts SET call_sid = coalesce(call_sid, ?), "
                    "status = CASE WHEN status = 'dialling' THEN 'placed' ELSE status END WHERE id = ?",
                    [call_sid, attempt_id],
                )
            return cursor.rowcount == 1
        with self.conn.writing("subscribers"):
            attempt = self.attempt(attempt_id)
            if attempt is None:
                return False
            ended = iso(now) if status != "answered" else None
            if attempt.status in DELIVERED:  # answered first, completed later: just the end
                kept = "completed" if status == "completed" and attempt.status == "answered" else attempt.status
                self.conn.execute(
                    "UPDATE bulletin_attempts SET status = ?, ended_at = coalesce(ended_at, ?) WHERE id = ?",
                    [kept, ended, attempt_id],
                )
                return True
            if attempt.status in FAILED:
                return True
            self.conn.execute(
                "UPDATE bulletin_attempts SET status = ?, call_sid = coalesce(call_sid, ?), ended_at = ?, detail = ? WHERE id = ?",
                [status, call_sid, ended, detail, attempt_id],
            )
            if status in DELIVERED:
                self.conn.execute(
                    "UPDATE subscribers SET heard_until = CASE WHEN heard_until < ? THEN ? ELSE heard_until END, "
                    "failed_days = 0 WHERE id = ?",
                    [attempt.covers_until, attempt.covers_until, attempt.subscriber_id],
                )
                return True
            tries = self.conn.query(
                "SELECT count(*) AS n FROM bulletin_attempts WHERE subscriber_id = ? AND day = ? AND status <> ?",
                [attempt.subscriber_id, attempt.day, NOT_PLACED],
            )[0]["n"]
            if tries >= attempts_per_day:
                self.conn.execute(
                    "UPDATE subscribers SET failed_days = failed_days + 1, last_failed_day = ? "
                    "WHERE id = ? AND (last_failed_day IS NULL OR last_failed_day <> ?)",
                    [attempt.day, attempt.subscriber_id, attempt.day],
                )
                self.conn.execute(
                    "UPDATE subscribers SET paused_at = ? WHERE id = ? AND failed_days >= ? AND paused_at IS NULL",
                    [iso(now), attempt.subscriber_id, pause_after_days],
                )
        return True

    def left_message(self, attempt_id: int, call_sid: str, now: datetime, pause_after_days: int, attempts_per_day: int) -> Attempt | None:
        """An answering machine took the bulletin call: the short message left after its beep
        counts as the day's bulletin (a machine is not called again and again). The attempt
        (None if unknown)."""
        attempt = self.attempt(attempt_id)
        if attempt is None:
            return None
        if attempt.status not in DELIVERED:  # the machine's news came before the call's own
            self.outcome(attempt_id, "answered", call_sid, now, pause_after_days, attempts_per_day)
        with self.conn.writing("subscribers"):
            self.conn.execute(
                f"UPDATE bulletin_attempts SET status = ? WHERE id = ? AND status IN {_list(HEARD)}",
                [VOICEMAIL, attempt_id, *HEARD],
            )
        return self.attempt(attempt_id)

    def attempts(self, subscriber_id: int | None = None) -> list[Attempt]:
        where, params = ("WHERE subscriber_id = ?", [subscriber_id]) if subscriber_id is not None else ("", [])
        return [_attempt(r) for r in self.conn.query(f"SELECT * FROM bulletin_attempts {where} ORDER BY id", params)]


# How an attempt's status is counted for staff (those still under way count only as calls).
_OUTCOMES = {**dict.fromkeys(HEARD, "heard"), VOICEMAIL: "voicemail", **dict.fromkeys(FAILED, "unanswered")}


def _day(day: str) -> dict:
    return {"day": day, "calls": 0, "heard": 0, "voicemail": 0, "unanswered": 0}


def _attempt(row: dict) -> Attempt:
    return Attempt(row["id"], row["subscriber_id"], row["day"], row["claimed_at"], row["call_sid"], row["status"],
                   tuple(json.loads(row["notices"])), row["covers_until"])


def _list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("?" for _ in values) + ")"


def open_subscribers(where: Path | str, key_file: Path) -> SubscriberStore:
    return SubscriberStore(where, load_number_key(key_file))


def is_subscribed(number: str | None, opener: Callable[[], SubscriberStore] | None) -> bool:
    """Whether a caller gets the bulletin (their menu then offers 退订); a list that cannot be
    read is logged and taken as no, so the call goes on and key 8 says what is wrong."""
    if number is None or opener is None:
        return False
    try:
        with opener() as store:
            return store.is_subscribed(number)
    except Exception as error:
        log.error("bulletin: cannot read the subscribers: %s", error)
        return False


def carry_out(state, actions: list, number: str | None, opener: Callable[[], SubscriberStore] | None):
    """Do the menu's Subscribe actions for the caller's `number` (returns the state and actions
    to play). Each Subscribe is said in its place: its confirmation, or why it could not be done
    (a withheld number, a list that cannot be written), and the state keeps what is true."""
    from content.menu_state import Say, Subscribe

    done = []
    for action in actions:
        if not isinstance(action, Subscribe):
            done.append(action)
            continue
        said = None
        if number is None or opener is None:
            said = action.no_number
        else:
            try:
                with opener() as store:
                    store.subscribe(number) if action.on else store.unsubscribe(number)
                log.info("bulletin: %s %s", masked_number(number), "subscribed" if action.on else "unsubscribed")
            except Exception as error:
                log.error("bulletin: could not %s: %s", "subscribe" if action.on else "unsubscribe", error)
                said = action.failed
        if said is not None:  # not done: the caller's state stays as it was
            state = replace(state, subscribed=not action.on)
        done.append(Say(said or action.confirmed))
    return state, done
