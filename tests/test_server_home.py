"""A real server on loopback starts with the bundled notices and shows them on the home page."""

import threading
import urllib.request

import pytest
from werkzeug.serving import make_server

from content.store import NoticeStore
from server import Config, create_app


@pytest.fixture
def live_server(tmp_path):
    app = create_app(Config(data_dir=tmp_path / "data", prerender=False))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", tmp_path / "data"
    server.shutdown()
    thread.join(timeout=5)


def test_empty_store_gets_bundled_notices(live_server):
    base, data_dir = live_server
    with NoticeStore(data_dir / "tingwen.sqlite3") as store:
        assert store.count() == 7
        assert store.latest()[0].issuer == "内蒙古自治区人民政府"


def test_home_page_lists_latest_notices(live_server):
    base, _ = live_server
    with urllib.request.urlopen(base + "/") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        page = response.read().decode("utf-8")
    assert 'lang="zh-CN"' in page
    assert page.index("关于临河区土地征收成片开发调整方案的批复") < page.index("关于印发就业促进行动实施方案的通知")
    assert "森林草原防灭火命令" in page


def test_restart_does_not_reload_bundled_notices(tmp_path):
    config = Config(data_dir=tmp_path / "data", prerender=False)
    create_app(config)
    create_app(config)
    with NoticeStore(config.db_path) as store:
        assert store.count() == 7
