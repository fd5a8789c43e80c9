"""Staff accounts, sign-in failures and the audit log, in the staff console's own SQLite file
(staff.sqlite3 in the data folder), or in the PostgreSQL database several servers share.

Passwords are kept only as Argon2id hashes (argon2-cffi). Five failed sign-ins in a row lock
that name for a minute. Every action that changes what listeners hear is written to the audit
log with who did it and when."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from content.database import Store
from content.connections import open_connection

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=1)
MIN_PASSWORD = 8
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A name or password that cannot be used; the message says why."""


def _v1_accounts(db: Database) -> None:
    db["accounts"].create({"name": str, "password_hash": str, "created_at": str}, pk="name", not_null={"password_hash", "created_at"})
    db["failures"].create({"name": str, "count": int, "locked_until": str}, pk="name")
    db["audit"].create({"id": int, "at": str, "who": str, "action": str, "detail": str}, pk="id", not_null={"at", "who", "action"})
    db["audit"].create_index(["at"])


MIGRATIONS = [_v1_accounts]
POSTGRES_MIGRATIONS = [
    [
        "CREATE TABLE accounts (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created_at TEXT NOT NULL)",
        "CREATE TABLE failures (name TEXT PRIMARY KEY, count INTEGER, locked_until TEXT)",
        "CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL, detail TEXT)",
        "CREATE INDEX audit_at ON audit (at)",
    ]
]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str
    action: str
    detail: dict


class StaffStore(Store):
    def __init__(self, path: Path | str):
        """`path`: the SQLite file, or a postgresql:// URL shared by several servers."""
        self.conn = open_connection(path, MIGRATIONS, POSTGRES_MIGRATIONS, "the staff accounts")

    # Accounts

    def add(self, name: str, password: str) -> None:
        if not _NAME.match(name):
            raise AccountError(f"{name!r}: a name is 1-64 letters, digits or . @ _ -")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
        with self.conn.writing("staff"):
            if self.conn.query("SELECT 1 AS found FROM accounts WHERE name = ?", [name]):
                raise AccountError(f"{name!r} exists already; remove it first to set a new password")
            self.conn.execute(
                "INSERT INTO accounts (name, password_hash, created_at) VALUES (?, ?, ?)",
                [name, _hasher.hash(password), _now().isoformat(timespec="seconds")],
            )

    def remove(self, name: str) -> bool:
        with self.conn.writing("staff"):
            return bool(self.conn.execute("DELETE FROM accounts WHERE name = ?", [name]).rowcount)

    def names(self) -> list[tuple[str, str]]:
        return [(r["name"], r["created_at"]) for r in self.conn.query("SELECT name, created_at FROM accounts ORDER BY name")]

    def locked_until(self, name: str) -> datetime | None:
        rows = self.conn.query("SELECT locked_until FROM failures WHERE name = ?", [name])
        if rows and rows[0]["locked_until"]:
            until = datetime.fromisoformat(rows[0]["locked_until"])
            return until if until > _now() else None
        return None

    def check(self, name: str, password: str) -> bool:
        """Whether the password is the name's; counts failures (a locked name always fails)."""
        if self.locked_until(name):
            return False
        rows = self.conn.query("SELECT password_hash FROM accounts WHERE name = ?", [name])
        row = rows[0]["password_hash"] if rows else None
        try:
            good = row is not None and _hasher.verify(row, password)
        except (VerificationError, InvalidHashError):
            good = False
        if row is None:
            _hasher.hash(password)  # as slow as a real check: no telling names apart by time
        with self.conn.writing("staff"):
            if good:
                self.conn.execute("DELETE FROM failures WHERE name = ?", [name])
            else:
                before = self.conn.query("SELECT count FROM failures WHERE name = ?", [name])
                count = (before[0]["count"] if before else 0) + 1
                locked = (_now() + LOCK_FOR).isoformat() if count >= MAX_FAILURES else None
                self.conn.execute(
                    "INSERT INTO failures (name, count, locked_until) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET count = excluded.count, locked_until = excluded.locked_until",
                    [name, 0 if locked else count, locked],
                )
        return good

    # The audit log

    def record(self, who: str, action: str, **detail) -> None:
        with self.conn.writing("staff"):
            self.conn.execute(
                "INSERT INTO audit (at, who, action, detail) VALUES (?, ?, ?, ?)",
                [_now().isoformat(timespec="seconds"), who, action, json.dumps(detail, ensure_ascii=False)],
            )

    def audit(self, limit: int = 200) -> list[AuditEntry]:
        rows = self.conn.query("SELECT at, who, action, detail FROM audit ORDER BY id DESC LIMIT ?", [limit])
        return [AuditEntry(datetime.fromisoformat(r["at"]), r["who"], r["action"], json.loads(r["detail"] or "{}")) for r in rows]
