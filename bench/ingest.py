"""Ingest benchmark: the corpus replicated to N notices, against a plain sqlite3 bulk insert.

    .venv/bin/python bench/ingest.py [--notices 10000]

Builds a list-page dump of N notices (the seven real ones, each copy with its own signing
date so it is a distinct notice), ingests it with tingwen (parse + store with FTS index), and
inserts the same notice and section rows with plain `sqlite3` executemany into bare tables in
the same run. Prints notices per second and the ratio of tingwen's time to the baseline's.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from content.ingest import BUNDLED_ISSUER, bundled_corpus, ingest, parse_all, read_text  # noqa: E402
from content.sources.listpage import DATE_LINE  # noqa: E402
from content.store import NoticeStore  # noqa: E402

_SIGNING = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日(?= ?[(（](?:此件|本文))")


def corpus_items(text: str) -> list[tuple[str, str]]:
    """(body, publication date) for each notice of the bundled list page."""
    items, body = [], []
    for line in text.splitlines():
        match = DATE_LINE.match(line)
        if match:
            items.append(("".join(body), line[: match.end()].strip()))
            body = [line[match.end() :]]
        else:
            body.append(line)
    items[0] = (items[0][0][items[0][0].index("巴彦淖尔市人民政府") :], items[0][1])  # drop page furniture
    return items


def replicate(items: list[tuple[str, str]], count: int) -> str:
    lines = []
    start = date(2000, 1, 1)
    for n in range(count):
        body, published = items[n % len(items)]
        signed = start + timedelta(days=n // len(items))
        lines.append(_SIGNING.sub(f"{signed.year}年{signed.month}月{signed.day}日", body, count=1))
        lines.append(published)
    return "\n".join(lines) + "\n"


def baseline(rows_notices: list[tuple], rows_sections: list[tuple], path: Path, fts: bool = False) -> float:
    """Plain executemany into bare tables; with `fts`, also a trigram index of the same text."""
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE notices (id INTEGER PRIMARY KEY, key TEXT, title TEXT, spoken_title TEXT, body TEXT,"
        " signed_date TEXT, published_date TEXT, search_text TEXT);"
        "CREATE TABLE sections (notice_id INTEGER, position INTEGER, path TEXT, ordinal INTEGER, marker TEXT,"
        " heading TEXT, text TEXT, PRIMARY KEY (notice_id, position));"
    )
    if fts:
        connection.execute(
            "CREATE VIRTUAL TABLE notices_fts USING fts5(spoken_title, title, search_text,"
            " content='notices', content_rowid='id', tokenize='trigram')"
        )
    started = time.perf_counter()
    with connection:
        if fts:
            connection.executemany(
                "INSERT INTO notices_fts (rowid, spoken_title, title, search_text) VALUES (?, ?, ?, ?)",
                [(r[0], r[3], r[2], r[7]) for r in rows_notices],
            )
        connection.executemany("INSERT INTO notices VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows_notices)
        connection.executemany("INSERT INTO sections VALUES (?, ?, ?, ?, ?, ?, ?)", rows_sections)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notices", type=int, default=10_000)
    parser.add_argument("--tiny", action="store_true", help="50 notices: checks that the bench runs (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.notices = 50

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "replicated.txt"
        source.write_text(replicate(corpus_items(read_text(bundled_corpus())), args.notices), "utf-8")
        print(f"replicated corpus: {args.notices} notices, {source.stat().st_size / 1e6:.1f} MB", flush=True)

        started = time.perf_counter()
        notices = parse_all([source], issuer=BUNDLED_ISSUER)
        parse_seconds = time.perf_counter() - started
        print(f"parsed in {parse_seconds:.2f} s", flush=True)

        with NoticeStore(folder / "tingwen.sqlite3") as store:
            started = time.perf_counter()
            report = store.save(notices)
            store_seconds = time.perf_counter() - started
        assert report.added == args.notices, report
        print(f"stored in {store_seconds:.2f} s ({report.added} added)", flush=True)

        rows_notices = [
            (i, n.key, n.title, n.spoken_title, n.body, str(n.signed_date), str(n.published_date), n.full_text())
            for i, n in enumerate(notices, 1)
        ]
        rows_sections = [
            (i, position, s.path, s.ordinal, s.marker, s.heading, s.text)
            for i, n in enumerate(notices, 1)
            for position, s in enumerate(n.walk())
        ]
        plain_seconds = baseline(rows_notices, rows_sections, folder / "plain.sqlite3")
        indexed_seconds = baseline(rows_notices, rows_sections, folder / "plain-fts.sqlite3", fts=True)

        with NoticeStore(folder / "again.sqlite3") as store:
            started = time.perf_counter()
            ingest(store, [source], issuer=BUNDLED_ISSUER)
            total_seconds = time.perf_counter() - started

    count = args.notices
    print()
    print(f"plain sqlite3 bulk insert  : {count / plain_seconds:9.0f} notices/s  (baseline)")
    print(f"plain sqlite3 + trigram FTS: {count / indexed_seconds:9.0f} notices/s  ratio {indexed_seconds / plain_seconds:5.1f}x")
    print(f"tingwen store (FTS, upsert): {count / store_seconds:9.0f} notices/s  ratio {store_seconds / plain_seconds:5.1f}x"
          f"  ({store_seconds / indexed_seconds:.2f}x the indexed baseline)")
    print(f"tingwen ingest (parse+store): {count / total_seconds:8.0f} notices/s  ratio {total_seconds / plain_seconds:5.1f}x")


if __name__ == "__main__":
    main()
