"""The notice store: one SQLite file (or one PostgreSQL database shared by several servers)
that ingest writes and every front end reads.

Writes happen in one transaction per ingest run, so a failing source leaves the store exactly as
it was. WAL mode lets the phone line and kiosk keep reading while staff load notices.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path


from monitoring import metrics
from content.database import Connection, SqliteConnection, Store, is_busy, is_postgres, shown
from content.errors import NoticeNotFound, StoreBusy
from content.connections import open_database
from content.migrations import MIGRATIONS, POSTGRES_MIGRATIONS, open_postgres
from content.revision_watch import RevisionWatch, SqliteRevision, watcher
from content.model import Notice, Section

_SUMMARY_COLUMNS = (
    "id, title, spoken_title, doc_number, issuer, addressee, signed_date, published_date, "
    "annotation, source, body, withdrawn_at"
)
_LISTED = "withdrawn_at IS NULL"  # what listeners can reach
_NEWEST_FIRST = "ORDER BY sort_date DESC, id DESC"
# FTS5 bm25 weights for (spoken_title, title, search_text): a title hit outranks a body hit.
_TITLE_WEIGHT = 10
MAX_SEARCH_TERMS = 16  # words of a query that count: SQLite refuses an expression tree of hundreds


@dataclass(frozen=True)
class SaveReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged


@dataclass(frozen=True)
class SearchHit:
    notice: Notice
    score: float


def stored_at(moment: datetime | None = None) -> str:
    """How the store writes when a notice was stored (UTC, whole seconds): as text, such times
    compare in time order, which is how a subscriber's bulletin finds what is new."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


class NoticeStore(Store):
    def __init__(self, path: Path | str, busy_seconds: float = 5.0):
        """`path`: the SQLite file, or a postgresql:// URL (a store shared by several servers).
        `busy_seconds`: how long a write waits for another process's write to finish."""
        self.busy_seconds = busy_seconds
        self._conn: Connection | None = None
        if is_postgres(str(path)):
            self.path = str(path)
            self._conn = open_postgres(self.path, POSTGRES_MIGRATIONS, "the notice store", busy_seconds)  # it borrows at its first statement
            self.schema_version = len(POSTGRES_MIGRATIONS)
        else:
            self.path = Path(path)
            self.schema_version = len(MIGRATIONS)  # open_database brings it there
            if watcher(str(self.path)) is None:  # a tool: opened now, so a damaged file is said at once
                self._open()

    @property
    def conn(self) -> Connection:
        """The store's connection; in a server, a SQLite file is opened at the first statement:
        a request whose menu is kept for the revision (told by content/revision_watch.py) opens
        nothing."""
        return self._conn if self._conn is not None else self._open()

    def _open(self) -> Connection:
        self._conn = SqliteConnection.kept(open_database(self.path, busy_seconds=self.busy_seconds, pragmas=("foreign_keys = ON",)))
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    @property
    def location(self) -> str:
        """Where the store is, for messages (a URL without its password)."""
        return shown(self.path)

    # Writing

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction, taken at its start: a second writer waits for the first (the
        busy timeout) and then reads what the first wrote; if the first is still writing after
        that, StoreBusy says so in one line."""
        try:
            with self.conn.writing("notices"):
                yield
        except Exception as error:
            if is_busy(error):
                raise StoreBusy(self.location, self.busy_seconds) from None
            raise
        finally:
            if (listener := self._listener()) is not None:  # this process's next request reads its own write at once
                listener.forget()

    def save(self, notices: Iterable[Notice], progress: Callable[[Notice], None] | None = None) -> SaveReport:
        """Add new notices and update changed ones in place, all or nothing."""
        added = updated = unchanged = 0
        now = stored_at()
        with self._writing():
            known = {r["key"]: (r["id"], r["content_hash"]) for r in self.conn.query("SELECT key, id, content_hash FROM notices")}
            for notice in notices:
                digest = notice.content_hash()
                existing = known.get(notice.key)
                if existing and existing[1] == digest:
                    notice.id = existing[0]
                    unchanged += 1
                elif existing:
                    notice.id = existing[0]
                    self._update(notice, digest, now)
                    updated += 1
                else:
                    notice.id = self._insert(notice, digest, now)
                    added += 1
                known[notice.key] = (notice.id, digest)
                if progress:
                    progress(notice)
        metrics.ingested(added, updated, unchanged)
        return SaveReport(added, updated, unchanged)

    def _row(self, notice: Notice, digest: str, now: str) -> dict:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {
            "key": notice.key,
            "content_hash": digest,
            "title": notice.title,
            "spoken_title": notice.spoken_title,
            "doc_number": notice.doc_number,
            "issuer": notice.issuer,
            "addressee": notice.addressee,
            "signed_date": iso(notice.signed_date),
            "published_date": iso(notice.published_date),
            "sort_date": iso(notice.sort_date),
            "annotation": notice.annotation,
            "source": notice.source,
            "body": notice.body,
            "search_text": notice.full_text(),
            "updated_at": now,
        }

    def _insert(self, notice: Notice, digest: str, now: str) -> int:
        row = self._row(notice, digest, now) | {"ingested_at": now}
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        new_id = self.conn.query(f"INSERT INTO notices ({columns}) VALUES ({marks}) RETURNING id", list(row.values()))[0]["id"]
        self._write_children(new_id, notice)
        return new_id

    def _update(self, notice: Notice, digest: str, now: str) -> None:
        row = self._row(notice, digest, now)
        assignments = ", ".join(f"{column} = ?" for column in row)
        self.conn.execute(f"UPDATE notices SET {assignments} WHERE id = ?", [*row.values(), notice.id])
        self.conn.execute("DELETE FROM sections WHERE notice_id = ?", [notice.id])
        self.conn.execute("DELETE FROM attachments WHERE notice_id = ?", [notice.id])
        self._write_children(notice.id, notice)

    def _write_children(self, notice_id: int, notice: Notice) -> None:
        self.conn.executemany(
            "INSERT INTO sections (notice_id, position, path, ordinal, marker, heading, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (notice_id, position, s.path, s.ordinal, s.marker, s.heading, s.text)
                for position, s in enumerate(notice.walk())
            ],
        )
        self.conn.executemany(
            "INSERT INTO attachments (notice_id, position, name) VALUES (?, ?, ?)",
            [(notice_id, position, name) for position, name in enumerate(notice.attachments)],
        )

    # Reading

    def count(self) -> int:
        return self.conn.query("SELECT count(*) AS n FROM notices")[0]["n"]

    def _listener(self) -> RevisionWatch | SqliteRevision | None:
        """This server process's listener for the revision, else None (a tool)."""
        return watcher(str(self.path))

    def revision(self) -> int:
        """Moves on with every write to the notices (a trigger counts them), even several in one
        second: a key for caches built from the store, such as the menu. A server is told it
        (content/revision_watch.py) instead of opening the store to ask in every request."""
        listener = self._listener()
        if listener is not None:
            known, ticket = listener.current()
            if known is not None:
                return known
        n = self.conn.query("SELECT n FROM store_revision WHERE id = 1")[0]["n"]
        if listener is not None:
            listener.offer(n, ticket)
        return n

    def latest(self, limit: int | None = None, offset: int = 0, withdrawn: bool = False) -> list[Notice]:
        """Newest first (publication date, else signing date), with their sections; withdrawn
        notices only when asked for (staff listings)."""
        paging = f"LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
        where = "" if withdrawn else f"WHERE {_LISTED}"
        rows = self.conn.query(f"SELECT {_SUMMARY_COLUMNS} FROM notices {where} {_NEWEST_FIRST} {paging}")
        return self._with_children([self._notice(row) for row in rows])

    def published_since(self, moment: str | None, limit: int = 20) -> list[tuple[int, str]]:
        """(id, stored at) of the listed notices stored after `moment` (an ISO time; None: all),
        newest first: what a subscriber's daily bulletin has not yet read to them."""
        where, params = _LISTED, []
        if moment:
            where += " AND ingested_at > ?"
            params.append(moment)
        rows = self.conn.query(f"SELECT id, ingested_at FROM notices WHERE {where} {_NEWEST_FIRST} LIMIT {int(limit)}", params)
        return [(r["id"], r["ingested_at"]) for r in rows]

    def set_withdrawn(self, notice_id: int, withdrawn: bool) -> Notice:
        """Withdraw a notice from listeners (it stays stored), or restore it."""
        _check_id(notice_id)
        with self._writing():
            moment = stored_at() if withdrawn else None
            cursor = self.conn.execute("UPDATE notices SET withdrawn_at = ? WHERE id = ?", [moment, notice_id])
        if cursor.rowcount == 0:
            raise NoticeNotFound(notice_id)
        return self.get(notice_id)

    def set_spoken_title(self, notice_id: int, title: str) -> Notice:
        """Staff's own menu title for a notice (kept until its text changes on a new ingest)."""
        _check_id(notice_id)
        title = " ".join(title.split())
        if not title or len(title) > 64:
            raise ValueError("a spoken title is 1 to 64 characters")
        with self._writing():
            cursor = self.conn.execute("UPDATE notices SET spoken_title = ? WHERE id = ?", [title, notice_id])
        if cursor.rowcount == 0:
            raise NoticeNotFound(notice_id)
        return self.get(notice_id)

    def by_key(self, key: str) -> Notice | None:
        """The stored notice with this identity (Notice.key), withdrawn or not, if there is one."""
        rows = self.conn.query("SELECT id FROM notices WHERE key = ?", [key])
        return self.get(rows[0]["id"]) if rows else None

    def get(self, notice_id: int) -> Notice:
        _check_id(notice_id)
        rows = list(self.conn.query(f"SELECT {_SUMMARY_COLUMNS} FROM notices WHERE id = ?", [notice_id]))
        if not rows:
            raise NoticeNotFound(notice_id)
        return self._with_children([self._notice(rows[0])])[0]

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """Best match first. Words of 3+ characters go through the trigram index; shorter
        Chinese words (养老, 补贴) are counted as substrings, title hits weighing more."""
        terms = list(dict.fromkeys(t for t in query.split() if t))[:MAX_SEARCH_TERMS]
        if not terms:
            return []
        if all(len(t) >= 3 for t in terms) and self.conn.dialect == "sqlite":
            match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
            rows = self.conn.query(
                f"SELECT rowid AS id, -bm25(notices_fts, {_TITLE_WEIGHT}, {_TITLE_WEIGHT}, 1) AS score "
                f"FROM notices_fts WHERE notices_fts MATCH ? AND rowid IN (SELECT id FROM notices WHERE {_LISTED}) "
                "ORDER BY score DESC LIMIT ?",
                [match, limit],
            )
        else:
            # Short words (养老) everywhere, and every word in PostgreSQL: occurrences counted;
            # there LIKE on 3+ characters uses the pg_trgm index on search_text.
            score, params = _substring_score(terms)
            wheres, values = [], []
            for term in terms:
                if self.conn.dialect == "postgresql" and len(term) >= 3:
                    wheres.append("search_text LIKE ? ESCAPE '\\'")
                    values.append("%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
                else:
                    wheres.append("strpos(search_text, ?) > 0" if self.conn.dialect == "postgresql" else "instr(search_text, ?) > 0")
                    values.append(term)
            rows = self.conn.query(
                f"SELECT id, {score} AS score FROM notices WHERE {' AND '.join(wheres + [_LISTED])} "
                "ORDER BY score DESC, sort_date DESC LIMIT ?",
                [*params, *values, limit],
            )
        if not rows:
            return []
        marks = ", ".join("?" for _ in rows)
        found = self._with_children(
            [self._notice(r) for r in self.conn.query(f"SELECT {_SUMMARY_COLUMNS} FROM notices WHERE id IN ({marks})", [r["id"] for r in rows])]
        )
        by_id = {n.id: n for n in found}
        return [SearchHit(by_id[r["id"]], float(r["score"])) for r in rows]

    def _notice(self, row: dict) -> Notice:
        day = lambda s: date.fromisoformat(s) if s else None  # noqa: E731
        return Notice(
            id=row["id"],
            title=row["title"],
            spoken_title=row["spoken_title"],
            body=row["body"],
            doc_number=row["doc_number"],
            issuer=row["issuer"],
            addressee=row["addressee"],
            signed_date=day(row["signed_date"]),
            published_date=day(row["published_date"]),
            annotation=row["annotation"],
            source=row["source"],
            withdrawn=row["withdrawn_at"] is not None,
        )

    def _with_children(self, notices: list[Notice]) -> list[Notice]:
        if not notices:
            return notices
        by_id = {n.id: n for n in notices}
        marks = ", ".join("?" for _ in by_id)
        nodes: dict[tuple[int, str], Section] = {}
        for row in self.conn.query(
            f"SELECT * FROM sections WHERE notice_id IN ({marks}) ORDER BY notice_id, position", list(by_id)
        ):
            section = Section(row["path"], row["ordinal"], row["marker"], row["heading"], row["text"])
            nodes[(row["notice_id"], row["path"])] = section
            parent_path = row["path"].rpartition(".")[0]
            if parent_path:
                nodes[(row["notice_id"], parent_path)].children.append(section)
            else:
                by_id[row["notice_id"]].sections.append(section)
        for row in self.conn.query(
            f"SELECT notice_id, name FROM attachments WHERE notice_id IN ({marks}) ORDER BY notice_id, position",
            list(by_id),
        ):
            by_id[row["notice_id"]].attachments.append(row["name"])
        return notices


def _check_id(notice_id: int) -> None:
    """An id SQLite cannot even hold (a forged URL's 999…9) names no notice."""
    if not 0 < notice_id < 2**63:
        raise NoticeNotFound(notice_id)


def _substring_score(terms: list[str]) -> tuple[str, list]:
    """SQL that counts each term's occurrences, title occurrences weighing more."""
    parts, params = [], []
    for term in terms:
        for column, weight in (("spoken_title", _TITLE_WEIGHT), ("coalesce(title, '')", _TITLE_WEIGHT), ("search_text", 1)):
            parts.append(f"{weight} * (length({column}) - length(replace({column}, ?, ''))) / ?")
            params += [term, len(term)]
    return "(" + " + ".join(parts) + ")", params
