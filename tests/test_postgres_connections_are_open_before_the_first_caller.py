"""A server's worker on PostgreSQL opens a few connections before its first request: callers
whose webhooks meet each find one open, instead of one waiting while a connection is made.
A tool keeps the one it needs."""

from conftest import PHONE_TOKEN

from config import Config
from content import database
from content.store import NoticeStore


def _pool_of(url: str):
    return database._pool(url)


def test_a_serving_worker_opens_its_connections_before_the_first_request(tmp_path, postgres_server):
    from server import serving_app

    url = postgres_server()
    config = Config(data_dir=tmp_path / "data", database_url=url, voice="espeak", prerender=False, twilio_auth_token=PHONE_TOKEN)
    try:
        serving_app(config)
        stats = _pool_of(url).get_stats()
        assert _pool_of(url).min_size == database.READY_IN_SERVERS
        assert stats["pool_size"] >= database.READY_IN_SERVERS
        assert stats["pool_available"] >= database.READY_IN_SERVERS - 1  # opened, not borrowed
    finally:
        database.close_pool(url)


def test_a_tool_keeps_one_connection(postgres_server):
    url = postgres_server()
    try:
        with NoticeStore(url) as store:
            store.count()
        assert _pool_of(url).min_size == 1
    finally:
        database.close_pool(url)


def test_a_pool_not_filled_in_time_leaves_the_worker_serving(postgres_server, caplog):
    url = postgres_server()
    try:
        with NoticeStore(url) as store:
            store.count()
        database.keep_ready(url, 50, timeout=0)  # not all open at once: a slow or crowded server
        with NoticeStore(url) as store:
            assert store.count() >= 0
        assert any("of 50 connections" in r.getMessage() and "made on demand" in r.getMessage() for r in caplog.records)
    finally:
        database.close_pool(url)
