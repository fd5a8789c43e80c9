"""Staff accounts, sign-in failures and the audit log, in the staff console's own SQLite file
(staff.sqlite3 in the data folder).

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

from content.migrations import open_database

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


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str
    action: str
    detail: dict


class StaffStore:
    def __init__(self, path: Path):
        self.db = open_database(path, MIGRATIONS, name="the staff accounts")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> StaffStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Accounts

    def add(self, name: str, password: str) -> None:
        if not _NAME.match(name):
            raise AccountError(f"{name!r}: a name is 1-64 letters, digits or . @ _ -")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
        with self.db.atomic():
            if self.db.execute("SELECT 1 FROM accounts WHERE name = ?", [name]).fetchone():
                raise AccountError(f"{name!r} exists already; remove it first to set a new password")
            self.db.conn.execute(
                "INSERT INTO accounts (name, password_hash, created_at) VALUES (?, ?, ?)",
                [name, _hasher.hash(password), _now().isoformat(timespec="seconds")],
            )

    def remove(self, name: str) -> bool:
        with self.db.atomic():
            return bool(self.db.conn.execute("DELETE FROM accounts WHERE name = ?", [name]).rowcount)

    def names(self) -> list[tuple[str, str]]:
        return [tuple(row) for row in self.db.execute("SELECT name, created_at FROM accounts ORDER BY name")]

    def locked_until(self, name: str) -> datetime | None:
        row = self.db.execute("SELECT locked_until FROM failures WHERE name = ?", [name]).fetchone()
        if row and row[0]:
            until = datetime.fromisoformat(row[0])
            return until if until > _now() else None
        return None

    def check(self, name: str, password: str) -> bool:
        """Whether the password is the name's; counts failures (a locked name always fails)."""
        if self.locked_until(name):
            return False
        row = self.db.execute("SELECT password_hash FROM accounts WHERE name = ?", [name]).fetchone()
        try:
            good = row is not None and _hasher.verify(row[0], password)
        except (VerificationError, InvalidHashError):
            good = False
        if row is None:
            _hasher.hash(password)  # as slow as a real check: no telling names apart by time
        with self.db.atomic():
            if good:
                self.db.conn.execute("DELETE FROM failures WHERE name = ?", [name])
            else:
                count = (self.db.execute("SELECT count FROM failures WHERE name = ?", [name]).fetchone() or [0])[0] + 1
                locked = (_now() + LOCK_FOR).isoformat() if count >= MAX_FAILURES else None
                self.db.conn.execute(
                    "INSERT INTO failures (name, count, locked_until) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET count = excluded.count, locked_until = excluded.locked_until",
                    [name, 0 if locked else count, locked],
                )
        return good

    # The audit log

    def record(self, who: str, action: str, **detail) -> None:
        with self.db.atomic():
            self.db.conn.execute(
                "INSERT INTO audit (at, who, action, detail) VALUES (?, ?, ?, ?)",
                [_now().isoformat(timespec="seconds"), who, action, json.dumps(detail, ensure_ascii=False)],
            )

    def audit(self, limit: int = 200) -> list[AuditEntry]:
        rows = self.db.execute("SELECT at, who, action, detail FROM audit ORDER BY id DESC LIMIT ?", [limit])
        return [AuditEntry(datetime.fromisoformat(at), who, action, json.loads(detail or "{}")) for at, who, action, detail in rows]
