"""A server on a SQLite store reads the notices' revision on read-only connections of its own,
never shared while a statement runs (content/revision_watch.py's SqliteRevision), so a request
whose menu is kept opens no store and the threads of a worker queue on no lock; yet every answer is the committed revision: another process's ingest is on the next
menu, a restored file is read afresh, and a store that cannot be read is reported by name."""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, PhoneCall, phone_app

from content import revision_watch
from content.connections import close_idle
from content.errors import StoreUnreadable
from content.menu import menu_for
from content.store import NoticeStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A phone app on the bundled notices, warm, with every opening of the notice store counted."""
    app = phone_app(tmp_path / "data")
    PhoneCall(app, sid="CAwarm00000000000000000000000000").start().press("4")
    opened: list[NoticeStore] = []
    monkeypatch.setattr(NoticeStore, "_open", lambda self, _open=NoticeStore._open: opened.append(self) or _open(self))
    yield app, app.config["TINGWEN_DB"], opened
    revision_watch.unwatch(str(app.config["TINGWEN_DB"]))


def _menu_titles(db) -> list[str]:
    with NoticeStore(db) as store:
        return [f"{n.title or ''} {n.spoken_title}" for n in menu_for(store).notices]


def test_a_webhook_whose_menu_is_kept_opens_no_store(served):
    app, db, opened = served
    call = PhoneCall(app).start().press("4").press("1").silence().press("*")
    assert call.last.status_code == 200
    assert opened == []
    assert app.test_client().post("/kiosk/menu", json={}).status_code == 200
    assert opened == []


def test_threads_asking_at_once_read_the_revision_side_by_side(tmp_path, monkeypatch):
    """Two threads' statements run at the same time, each on a connection of its own (no lock
    is held across one); asked one after the other, they share the connection kept."""
    import threading

    db = tmp_path / "tingwen.sqlite3"
    with NoticeStore(db) as store:
        store.count()
    both_inside = threading.Barrier(2, timeout=5)

    class Meeting(sqlite3.Connection):
        def execute(self, *args):
            both_inside.wait()  # each waits here for the other: they must be inside together
            return super().execute(*args)

    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: connect(*a, **k, factory=Meeting) if "mode=ro" in str(a[0]) else connect(*a, **k))
    reader = revision_watch.SqliteRevision(str(db))
    try:
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(reader.current())) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == 2 and answers[0] == answers[1] and answers[0][0] is not None, answers
        assert len(reader._idle) == 2
        monkeypatch.setattr(sqlite3, "connect", connect)
        both_inside = threading.Barrier(1)
        for _ in range(3):
            assert reader.current() == answers[0]
        assert len(reader._idle) == 2  # one after another: no new connection
    finally:
        reader.stop()
    assert reader._idle == []


def test_another_processs_ingest_is_on_the_next_menu(served):
    app, db, opened = served
    assert not [t for t in _menu_titles(db) if "冬季供暖" in t]
    opened.clear()
    env = os.environ | {"TINGWEN_DATA_DIR": str(Path(db).parent)}
    done = subprocess.run([sys.executable, "-c", "import server; server.main()", "ingest", str(FIXTURES / "notice_plain_opinion.txt")],
                          capture_output=True, text=True, env=env, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [t for t in _menu_titles(db) if "冬季供暖" in t]  # at once: no waiting for a poll
    assert opened  # the menu was built again from the store


def test_this_processs_own_write_is_on_the_next_menu(served):
    app, db, _ = served
    with NoticeStore(db) as store:
        first = menu_for(store).notices[0]
        store.set_withdrawn(first.id, True)
    assert f"{first.title or ''} {first.spoken_title}" not in _menu_titles(db)


def test_a_file_put_in_the_stores_place_is_read_afresh(served, tmp_path):
    app, db, _ = served
    with NoticeStore(db) as store:
        first = menu_for(store).notices[0]
    replacement = tmp_path / "replacement.sqlite3"
    source, copy = sqlite3.connect(db), sqlite3.connect(replacement)
    source.backup(copy)
    source.close()
    copy.execute("UPDATE notices SET withdrawn_at = '2026-01-01T00:00:00+00:00' WHERE id = ?", [first.id])  # its trigger counts a revision
    copy.commit()
    copy.close()
    close_idle()
    for suffix in ("", "-wal", "-shm"):  # as a restore puts a new file in the store's place
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.move(replacement, db)
    assert f"{first.title or ''} {first.spoken_title}" not in _menu_titles(db)


def test_a_store_that_cannot_be_read_is_reported_by_name(served):
    app, db, _ = served
    listener = revision_watch.watcher(str(db))
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    close_idle()
    listener.stop()
    Path(db).write_bytes(b"this is not a database" * 100)
    assert listener.current()[0] is None  # not known: the store opens itself and says why
    with pytest.raises(StoreUnreadable, match=Path(db).name), NoticeStore(db) as store:
        store.revision()
    call = PhoneCall(app, sid="CAbroken0000000000000000000000000").start()
    assert call.last.status_code == 200 and b"<Hangup" in call.last.data  # the caller hears an apology, and the call ends politely


def test_a_tool_reads_the_store_itself_and_keeps_no_reader(tmp_path):
    path = tmp_path / "notices.sqlite3"
    with NoticeStore(path) as store:
        assert store._conn is not None  # opened at once: a damaged file is said by the command that opened it
        store.revision()
    assert revision_watch.watcher(str(path)) is None
