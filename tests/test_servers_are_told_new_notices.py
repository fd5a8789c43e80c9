"""Servers sharing a PostgreSQL store are told its revision (LISTEN/NOTIFY) instead of asking
for it in every request: no statement for it while listening, another server's notice on the
menu as soon as it commits, this process's own write seen at once, and asking again whenever
the listener is down."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from conftest import FIXTURES

from content import revision_watch
from content.database import PostgresConnection
from content.menu import menu_for
from content.store import NoticeStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def url(postgres_server):
    url = postgres_server()
    with NoticeStore(url):  # made and migrated
        pass
    revision_watch.watch(url)
    assert revision_watch.wait_listening(url)
    yield url
    revision_watch.unwatch(url)


def _asked(monkeypatch) -> list[str]:
    asked: list[str] = []
    query = PostgresConnection.query
    monkeypatch.setattr(PostgresConnection, "query", lambda self, sql, params=(): asked.append(sql) or query(self, sql, params))
    return asked


def _eventually(check, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_a_listening_server_asks_nothing_for_the_revision(url, monkeypatch):
    asked = _asked(monkeypatch)
    store = NoticeStore(url)
    first = store.revision()
    assert store.revision() == first
    assert not [sql for sql in asked if "store_revision" in sql], asked
    assert store.conn._conn is None  # not even a connection borrowed for it
    store.close()


def test_another_servers_notice_is_on_the_menu_once_it_commits(url, monkeypatch, tmp_path):
    with NoticeStore(url) as store:
        before = store.revision()
        assert not [n for n in menu_for(store).notices if "冬季供暖" in n.title]
    env = os.environ | {"TINGWEN_DATABASE_URL": url, "TINGWEN_DATA_DIR": str(tmp_path / "another-server")}
    done = subprocess.run([sys.executable, "-c", "import server; server.main()", "ingest", str(FIXTURES / "notice_plain_opinion.txt")],
                          capture_output=True, text=True, env=env, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    asked = _asked(monkeypatch)
    with NoticeStore(url) as store:
        assert _eventually(lambda: store.revision() > before)
        assert [n for n in menu_for(store).notices if "冬季供暖" in n.title]
    assert not [sql for sql in asked if "store_revision" in sql], asked  # told, not asked


def test_this_processs_own_write_is_seen_at_once(url):
    from content.ingest import SourceFormat, parse_all

    with NoticeStore(url) as store:
        before = store.revision()
        store.save(parse_all([FIXTURES / "notice_with_issued_plan.txt"], SourceFormat.TEXT, None))
        assert store.revision() > before  # no waiting for the announcement
        assert len(menu_for(store).notices) == 1


def test_a_lost_listener_means_asking_until_it_listens_again(url, monkeypatch):
    monkeypatch.setattr(revision_watch, "RETRY_SECONDS", (0.2,))
    listener = revision_watch.watcher(url)
    with psycopg.connect(url, autocommit=True) as admin:
        stopped = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
            [revision_watch.APPLICATION_NAME],
        ).fetchall()
        assert len(stopped) == 1
        assert _eventually(lambda: not listener.listening, 5)
        admin.execute("UPDATE notices SET title = title")  # a write while nobody listens: no notice for it
        asked = _asked(monkeypatch)
        with NoticeStore(url) as store:
            truth = admin.execute("SELECT n FROM store_revision").fetchone()[0]
            assert store.revision() == truth
            assert [sql for sql in asked if "store_revision" in sql]  # asked, since not told
    assert _eventually(lambda: listener.listening)
    assert listener.current()[0] == truth


def test_a_tool_that_never_watches_asks_and_starts_no_listener(postgres_server, monkeypatch):
    url = postgres_server()
    asked = _asked(monkeypatch)
    with NoticeStore(url) as store:
        store.revision()
    assert [sql for sql in asked if "store_revision" in sql]
    assert revision_watch.watcher(url) is None


def test_a_stray_notice_on_the_channel_is_checked_not_believed(url):
    listener = revision_watch.watcher(url)
    with psycopg.connect(url, autocommit=True) as admin:
        truth = admin.execute("SELECT n FROM store_revision").fetchone()[0]
        admin.execute(f"NOTIFY {revision_watch.CHANNEL}, 'not a number'")
        admin.execute(f"NOTIFY {revision_watch.CHANNEL}")
    time.sleep(3 * revision_watch.NOTIFY_WAIT)
    assert listener.listening and listener.current()[0] == truth
