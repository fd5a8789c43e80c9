"""What the watcher has seen of the website, so that a pass reads only what is new or changed and
a restart loses nothing: each article's address, what became of it (fetched, drafted, published,
failed with the reason, left alone as robots.txt asks), its validators (ETag, Last-Modified) and
a hash of its page; each list page's validators; each pass's counts; and a lease so that one
server's worker runs a pass at a time. In watch.sqlite3 in the data folder, or the PostgreSQL
several servers share."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from content.connections import open_database
from content.database import SqliteConnection, Store, is_postgres
from content.migrations import open_postgres

FETCHED, DRAFTED, PUBLISHED, FAILED, FORBIDDEN = "fetched", "drafted", "published", "failed", "forbidden"
LEASE = timedelta(minutes=30)  # a pass that dies leaves the lease to the next after this


def _v1(db: Database) -> None:
    db["watched_articles"].create(
        {"url": str, "list_url": str, "title": str, "listed_day": str, "status": str, "reason": str, "etag": str,
         "last_modified": str, "page_sha256": str, "page": str, "notice_key": str, "draft_id": str, "first_seen": str,
         "checked_at": str, "changed_at": str, "change": str},
        pk="url", not_null={"status", "first_seen"},
    )
    db["watched_articles"].create_index(["status"])
    db["watched_lists"].create({"url": str, "etag": str, "last_modified": str, "checked_at": str}, pk="url")
    db["watch_runs"].create(
        {"id": int, "started_at": str, "finished_at": str, "lists": int, "pages": int, "requests": int, "new": int,
         "changed": int, "unchanged": int, "failed": int, "problem": str},
        pk="id", not_null={"started_at"},
    )
    db["watch_lease"].create({"name": str, "holder": str, "until": str}, pk="name")


MIGRATIONS = [_v1]
POSTGRES_MIGRATIONS = [
    [
        "CREATE TABLE watched_articles (url TEXT PRIMARY KEY, list_url TEXT, title TEXT, listed_day TEXT, status TEXT NOT NULL, "
        "reason TEXT, etag TEXT, last_modified TEXT, page_sha256 TEXT, page TEXT, notice_key TEXT, draft_id TEXT, "
        "first_seen TEXT NOT NULL, checked_at TEXT, changed_at TEXT, change TEXT)",
        "CREATE INDEX watched_articles_status ON watched_articles (status)",
        "CREATE TABLE watched_lists (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, checked_at TEXT)",
        "CREATE TABLE watch_runs (id BIGSERIAL PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, lists INTEGER, "
        "pages INTEGER, requests INTEGER, new INTEGER, changed INTEGER, unchanged INTEGER, failed INTEGER, problem TEXT)",
        "CREATE TABLE watch_lease (name TEXT PRIMARY KEY, holder TEXT, until TEXT)",
    ],
]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Article:
    url: str
    status: str
    title: str | None
    etag: str | None
    last_modified: str | None
    page_sha256: str | None
    page: str | None  # the page's text while it waits to be handled (a restart reads it from here)
    notice_key: str | None
    draft_id: str | None
    checked_at: str | None


class WatchState(Store):
    def __init__(self, path: Path | str):
        if is_postgres(str(path)):
            self.conn = open_postgres(str(path), POSTGRES_MIGRATIONS, "the website watcher's state")
        else:
            db = open_database(Path(path), MIGRATIONS, name="the website watcher's state")
            self.conn = SqliteConnection.kept(db)

    # Articles

    def article(self, url: str) -> Article | None:
        rows = self.conn.query(
            "SELECT url, status, title, etag, last_modified, page_sha256, page, notice_key, draft_id, checked_at "
            "FROM watched_articles WHERE url = ?", [url])
        return Article(**rows[0]) if rows else None

    def kept(self) -> list[Article]:
        """Articles fetched and not yet handled (a pass cut short), with their pages."""
        return [a for row in self.conn.query("SELECT url FROM watched_articles WHERE status = ?", [FETCHED])
                if (a := self.article(row["url"])) is not None]

    def fetched(self, url: str, list_url: str, title: str, listed_day: str | None, page: str, sha: str, etag: str | None,
                last_modified: str | None) -> None:
        """The article's page is here: kept before anything is made of it."""
        now = _iso(_now())
        with self.conn.writing(f"watch {url}"):
            self.conn.execute(
                "INSERT INTO watched_articles (url, list_url, title, listed_day, status, page, page_sha256, etag, last_modified, "
                "first_seen, checked_at) VALUES (?, ?, ?, ?, 'fetched', ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "list_url = excluded.list_url, title = excluded.title, listed_day = excluded.listed_day, status = 'fetched', "
                "page = excluded.page, page_sha256 = excluded.page_sha256, etag = excluded.etag, "
                "last_modified = excluded.last_modified, checked_at = excluded.checked_at, reason = NULL",
                [url, list_url, title, listed_day, page, sha, etag, last_modified, now, now],
            )

    def settle(self, url: str, status: str, reason: str | None = None, notice_key: str | None = None, draft_id: str | None = None,
               change: str | None = None) -> None:
        """What became of the article (its page text is no longer needed, unless it failed)."""
        now = _iso(_now())
        with self.conn.writing(f"watch {url}"):
            self.conn.execute(
                "UPDATE watched_articles SET status = ?, reason = ?, notice_key = coalesce(?, notice_key), "
                "draft_id = coalesce(?, draft_id), change = coalesce(?, change), changed_at = coalesce(?, changed_at), "
                f"checked_at = ?{'' if status == FAILED else ', page = NULL'} WHERE url = ?",
                [status, reason, notice_key, draft_id, change, now if change else None, now, url],
            )

    def seen_unchanged(self, url: str) -> None:
        with self.conn.writing(f"watch {url}"):
            self.conn.execute("UPDATE watched_articles SET checked_at = ? WHERE url = ?", [_iso(_now()), url])

    def forbidden(self, url: str, list_url: str, title: str, reason: str) -> None:
        now = _iso(_now())
        with self.conn.writing(f"watch {url}"):
            self.conn.execute(
                "INSERT INTO watched_articles (url, list_url, title, status, reason, first_seen, checked_at) "
                "VALUES (?, ?, ?, 'forbidden', ?, ?, ?) ON CONFLICT (url) DO UPDATE SET status = 'forbidden', reason = excluded.reason, "
                "checked_at = excluded.checked_at",
                [url, list_url, title, reason, now, now],
            )

    # List pages

    def list_validators(self, url: str) -> tuple[str | None, str | None]:
        rows = self.conn.query("SELECT etag, last_modified FROM watched_lists WHERE url = ?", [url])
        return (rows[0]["etag"], rows[0]["last_modified"]) if rows else (None, None)

    def list_read(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self.conn.writing(f"watch list {url}"):
            self.conn.execute(
                "INSERT INTO watched_lists (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?) ON CONFLICT (url) DO UPDATE "
                "SET etag = excluded.etag, last_modified = excluded.last_modified, checked_at = excluded.checked_at",
                [url, etag, last_modified, _iso(_now())],
            )

    # Passes

    def begin_run(self) -> int:
        with self.conn.writing("watch runs"):
            return self.conn.query("INSERT INTO watch_runs (started_at) VALUES (?) RETURNING id", [_iso(_now())])[0]["id"]

    def end_run(self, run_id: int, counts: dict[str, int], problem: str | None = None) -> None:
        with self.conn.writing("watch runs"):
            self.conn.execute(
                "UPDATE watch_runs SET finished_at = ?, lists = ?, pages = ?, requests = ?, new = ?, changed = ?, unchanged = ?, "
                "failed = ?, problem = ? WHERE id = ?",
                [_iso(_now()), *(counts.get(k, 0) for k in ("lists", "pages", "requests", "new", "changed", "unchanged", "failed")),
                 problem, run_id],
            )

    def take_lease(self, holder: str | None = None, now: datetime | None = None) -> str | None:
        """The right to run a pass (one at a time across workers and servers), or None while
        another holds it."""
        holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        moment = now or _now()
        with self.conn.writing("watch lease"):
            self.conn.execute("INSERT INTO watch_lease (name, holder, until) VALUES ('pass', NULL, ?) ON CONFLICT (name) DO NOTHING",
                              [_iso(moment)])
            taken = self.conn.execute(
                "UPDATE watch_lease SET holder = ?, until = ? WHERE name = 'pass' AND (holder IS NULL OR until < ? OR holder = ?)",
                [holder, _iso(moment + LEASE), _iso(moment), holder],
            ).rowcount
        return holder if taken else None

    def give_lease(self, holder: str) -> None:
        with self.conn.writing("watch lease"):
            self.conn.execute("UPDATE watch_lease SET holder = NULL WHERE name = 'pass' AND holder = ?", [holder])

    # For staff

    def overview(self, limit: int = 50) -> dict:
        """The last passes, and the articles staff should look at: drafted, changed, failed."""
        runs = self.conn.query(
            "SELECT started_at, finished_at, lists, pages, requests, new, changed, unchanged, failed, problem FROM watch_runs "
            "ORDER BY id DESC LIMIT 10")
        def articles(where: str, order: str) -> list[dict]:
            return self.conn.query(
                f"SELECT url, title, listed_day, status, reason, draft_id, notice_key, change, changed_at, checked_at "
                f"FROM watched_articles WHERE {where} ORDER BY {order} DESC LIMIT {int(limit)}")
        counts = {r["status"]: r["n"] for r in self.conn.query("SELECT status, count(*) AS n FROM watched_articles GROUP BY status")}
        return {
            "runs": runs,
            "counts": counts,
            "drafted": articles("status = 'drafted'", "first_seen"),
            "changed": articles("change IS NOT NULL", "changed_at"),
            "failed": articles("status IN ('failed', 'forbidden')", "checked_at"),
        }
