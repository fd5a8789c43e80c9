"""New notices arrive by themselves: the watcher reads a real local HTTP server shaped like the
regional portal (list pages with relative links and a 下一页, UTF-8 and GBK articles, a
robots.txt that forbids a path, a page that answers 304, one that times out, one that is not a
notice), politely, and puts what it finds in front of staff as drafts (or publishes it), with
nothing stored or fetched twice, across a restart too."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import live_app
from flask import Flask, Response, request

from content.drafts import Drafts
from content.store import NoticeStore
from watcher.client import PoliteClient
from watcher.pages import next_page
from watcher.run import WatchPass, WatchSettings
from watcher.state import WatchState

CONTACT = "it@hall.example.gov.cn"


def _article(title: str, number: str, body: str, day: str = "2025-11-03") -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="{{charset}}"><title>{title}_内蒙古自治区人民政府</title></head><body>
<div class="nav"><a href="/">首页</a></div>
<table class="xxgk"><tr><td>发文机关：</td><td>内蒙古自治区人民政府办公厅</td><td>文号：</td><td>{number}</td></tr>
<tr><td>成文日期：</td><td>{day}</td><td>标题：</td><td>{title}</td></tr></table>
<div id="zoom"><p>各盟行政公署、市人民政府，自治区各委、办、厅、局：</p>
<p>{body}</p><p>一、总体要求</p><p>坚持以人民为中心，做好各项工作。</p><p>二、工作措施</p><p>加强组织领导，确保落实到位。</p>
<p>内蒙古自治区人民政府办公厅</p><p>{day[:4]}年{int(day[5:7])}月{int(day[8:])}日</p></div></body></html>"""


class Portal:
    """The regional portal's 政府文件 list in miniature, with every kind of trouble a crawler meets."""

    def __init__(self):
        self.hits: Counter[str] = Counter()
        self.agents: set[str] = set()
        self.conditional: Counter[str] = Counter()
        self.times: list[tuple[float, str]] = []
        self.heating = "全区各级政府要做好今冬供暖保障工作。"
        self.lock = threading.Lock()

    def app(self) -> Flask:
        app = Flask("portal")

        @app.before_request
        def counted():
            with self.lock:
                self.hits[request.path] += 1
                self.agents.add(request.headers.get("User-Agent", ""))
                self.times.append((time.monotonic(), request.path))
                if request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since"):
                    self.conditional[request.path] += 1

        @app.get("/robots.txt")
        def robots():
            return Response("User-agent: *\nDisallow: /private/\n", mimetype="text/plain")

        @app.get("/zwgk/zfxxgk/zfwj/")
        def first_list():
            return self._list([("./202511/t20251103_101.html", "关于做好今冬明春供暖保障工作的通知", "2025-11-03"),
                               ("../../../private/t20251102_102.html", "内部文件不对外", "2025-11-02"),
                               ("/zwgk/zfxxgk/zfwj/202511/t20251101_103.html", "关于印发养老服务补贴办法的通知", "2025-11-01")],
                              next_page="index_1.html")

        @app.get("/zwgk/zfxxgk/zfwj/index_1.html")
        def second_list():
            return self._list([("./202510/t20251030_104.html", "关于加强冬季安全生产工作的通知", "2025-10-30"),
                               ("./202510/t20251029_105.html", "一个很慢很慢的页面标题", "2025-10-29"),
                               ("./202510/t20251028_106.html", "机构简介和领导信息页面", "2025-10-28"),
                               ("./202510/t20251027_107.pdf", "附件下载材料文件", "2025-10-27")])

        @app.get("/zwgk/zfxxgk/zfwj/202511/t20251103_101.html")
        def heating():
            page = _article("关于做好今冬明春供暖保障工作的通知", "内政办发〔2025〕41号", self.heating)
            return Response(page.replace("{charset}", "utf-8"), mimetype="text/html")

        @app.get("/zwgk/zfxxgk/zfwj/202511/t20251101_103.html")
        def pension():
            page = _article("关于印发养老服务补贴办法的通知", "内政办发〔2025〕40号", "现将养老服务补贴办法印发给你们，请认真贯彻执行。", "2025-11-01")
            return Response(page.replace("{charset}", "gbk").encode("gbk"), content_type="text/html")  # charset only in <meta>

        @app.get("/zwgk/zfxxgk/zfwj/202510/t20251030_104.html")
        def safety():
            etag = '"safety-v1"'
            if request.headers.get("If-None-Match") == etag:
                return Response(status=304, headers={"ETag": etag})
            page = _article("关于加强冬季安全生产工作的通知", "内政办发〔2025〕39号", "入冬以来，安全生产形势严峻复杂。", "2025-10-30")
            return Response(page.replace("{charset}", "utf-8"), mimetype="text/html", headers={"ETag": etag})

        @app.get("/zwgk/zfxxgk/zfwj/202510/t20251029_105.html")
        def slow():
            time.sleep(1.5)
            return Response("<html><body><div id='zoom'>迟到的内容</div></body></html>", mimetype="text/html")

        @app.get("/zwgk/zfxxgk/zfwj/202510/t20251028_106.html")
        def not_a_notice():
            return Response("<html><head><title>机构简介</title></head><body><ul><li>领导信息</li></ul></body></html>", mimetype="text/html")

        @app.get("/zwgk/zfxxgk/zfwj/202510/t20251027_107.pdf")
        def pdf():
            return Response(b"%PDF-1.4 ...", mimetype="application/pdf")

        @app.get("/private/t20251102_102.html")
        def private():
            return Response("never to be read", mimetype="text/html")

        return app

    def _list(self, rows, next_page=None) -> Response:
        items = "".join(f'<li><a href="{href}" title="{title}" target="_blank">{title}</a><span>{day}</span></li>' for href, title, day in rows)
        current = 0 if next_page else 1  # the portal pages its list in script, as TRS sites do
        paging = f'<script>createPageHTML(2, {current}, "index", "html");</script>'
        return Response(f"<html><head><meta charset='utf-8'></head><body><div class='nav'><a href='/'>首页</a>"
                        f"<a href='/zwgk/'>政务公开</a></div><ul class='list'>{items}</ul><div class='page'>{paging}</div></body></html>",
                        mimetype="text/html")

    def article_hits(self) -> Counter[str]:
        return Counter({p: n for p, n in self.hits.items() if "/t2025" in p})


@pytest.fixture
def portal():
    site = Portal()
    port, stop = live_app(site.app())
    site.url = f"http://127.0.0.1:{port}/zwgk/zfxxgk/zfwj/"
    yield site
    stop()


def _pass(tmp_path: Path, portal: Portal, store: NoticeStore, **settings) -> WatchPass:
    client = PoliteClient(CONTACT, per_host_seconds=settings.pop("per_host_seconds", 0.02), timeout=0.5, retries=1, backoff_seconds=0.01)
    watch = WatchSettings(urls=(portal.url,), contact=CONTACT, recheck_hours=settings.pop("recheck_hours", 24.0), **settings)
    return WatchPass(WatchState(tmp_path / "watch.sqlite3"), lambda: NoticeStore(store.path), Drafts(tmp_path / "drafts"), client, watch)


@pytest.fixture
def notices(tmp_path):
    store = NoticeStore(tmp_path / "tingwen.sqlite3")
    yield store
    store.close()


def test_a_pass_puts_the_new_notices_in_front_of_staff(tmp_path, portal, notices):
    report = _pass(tmp_path, portal, notices).run()
    drafts = Drafts(tmp_path / "drafts")
    made = {n.title: n for d in drafts.pending() for n in d.parse()}
    assert set(made) == {"关于做好今冬明春供暖保障工作的通知", "关于印发养老服务补贴办法的通知", "关于加强冬季安全生产工作的通知"}
    heating = made["关于做好今冬明春供暖保障工作的通知"]
    assert heating.doc_number == "内政办发〔2025〕41号" and heating.source.endswith("/202511/t20251103_101.html")
    assert "养老服务补贴办法印发给你们" in made["关于印发养老服务补贴办法的通知"].body  # GBK, read by its <meta>
    assert notices.count() == 0  # nothing reaches callers before 发布
    assert (report.new, report.failed, report.forbidden, report.pages) == (3, 3, 1, 2)
    assert portal.hits["/private/t20251102_102.html"] == 0  # robots.txt kept us out
    assert portal.agents == {f"tingwen/1.0 (+{CONTACT}; reads government notices aloud to elderly listeners)"}
    overview = WatchState(tmp_path / "watch.sqlite3").overview()
    reasons = {r["url"].rsplit("/", 1)[1]: r["reason"] for r in overview["failed"]}
    assert "no answer" in reasons["t20251029_105.html"]
    assert "no article body" in reasons["t20251028_106.html"]
    assert "not an HTML page" in reasons["t20251027_107.pdf"]
    assert "robots.txt" in reasons["t20251102_102.html"]


def test_a_second_pass_stores_nothing_twice_and_asks_conditionally(tmp_path, portal, notices):
    _pass(tmp_path, portal, notices, recheck_hours=0).run()
    before = portal.article_hits()
    report = _pass(tmp_path, portal, notices, recheck_hours=0).run()
    assert report.new == 0 and len(Drafts(tmp_path / "drafts").pending()) == 3
    assert portal.conditional["/zwgk/zfxxgk/zfwj/202510/t20251030_104.html"] == 1  # asked with its ETag, answered 304
    assert portal.article_hits()["/private/t20251102_102.html"] == 0 and before["/private/t20251102_102.html"] == 0


def test_autopublish_stores_them_and_a_changed_article_updates_its_notice_in_place(tmp_path, portal, notices):
    _pass(tmp_path, portal, notices, autopublish=True).run()
    assert notices.count() == 3 and Drafts(tmp_path / "drafts").pending() == []
    heating = next(n for n in notices.latest() if n.doc_number == "内政办发〔2025〕41号")
    portal.heating = "全区各级政府要做好今冬供暖保障工作，确保群众温暖过冬。"
    report = _pass(tmp_path, portal, notices, autopublish=True, recheck_hours=0).run()
    assert (report.new, report.changed) == (0, 1) and notices.count() == 3
    again = notices.get(heating.id)
    assert "确保群众温暖过冬" in again.body
    changed = WatchState(tmp_path / "watch.sqlite3").overview()["changed"]
    assert len(changed) == 1 and changed[0]["change"].startswith("正文：")


def test_a_restart_mid_pass_loses_nothing_and_fetches_nothing_twice(tmp_path, portal, notices):
    first = _pass(tmp_path, portal, notices)
    calls = 0
    real = first.drafts.create_from_web

    def dies_on_the_second(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise SystemExit("the service was restarted")
        return real(*args, **kwargs)

    first.drafts.create_from_web = dies_on_the_second
    with pytest.raises(SystemExit):
        first.run()
    fetched_before = portal.article_hits()
    report = _pass(tmp_path, portal, notices).run()
    assert report.new == 2  # the kept page and the one after it; the draft made before the restart is not new again
    drafts = Drafts(tmp_path / "drafts").pending()
    assert len(drafts) == 3 and len({d.id for d in drafts}) == 3
    after = portal.article_hits()
    twice = [p for p in fetched_before if after[p] > fetched_before[p]]
    assert twice == []  # the page kept before the restart was not fetched again


def test_at_most_one_request_a_second_to_a_host(tmp_path, portal, notices):
    _pass(tmp_path, portal, notices, per_host_seconds=1.0).run()
    starts = [t for t, _ in portal.times]
    assert len(starts) >= 8
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 0.95


def test_watch_once_from_the_command_line_shows_progress(tmp_path, portal):
    from server import cli

    env = {"TINGWEN_DATA_DIR": str(tmp_path / "data"), "TINGWEN_WATCH_CONTACT": CONTACT, "TINGWEN_WATCH_AUTOPUBLISH": "1"}
    result = CliRunner().invoke(cli, ["watch", "--once", portal.url], env=env)
    assert result.exit_code == 0, result.output
    assert "list page" in result.output and "3 new article(s)" in result.output
    with NoticeStore(tmp_path / "data" / "tingwen.sqlite3") as store:
        assert {n.doc_number for n in store.latest()} >= {"内政办发〔2025〕41号", "内政办发〔2025〕40号", "内政办发〔2025〕39号"}


def _signed_in(app, tmp_path):
    import re

    from staff.accounts import StaffStore

    with StaffStore(app.config["TINGWEN"].staff_db) as accounts:
        accounts.add("wang", "correct horse battery")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True)).group(1)
    client.post("/staff/login", data={"username": "wang", "password": "correct horse battery", "csrf_token": token})
    return client


def test_the_server_watches_in_the_background_and_staff_see_it_and_publish(tmp_path, portal):
    from conftest import phone_app

    app = phone_app(tmp_path / "data", watch_urls=portal.url, watch_contact=CONTACT)
    state = WatchState(tmp_path / "data" / "watch.sqlite3")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(r["finished_at"] for r in state.overview()["runs"]):
        time.sleep(0.2)
    app.extensions["tingwen.watch"].stop()
    client = _signed_in(app, tmp_path)
    page = client.get("/staff/watch").get_data(as_text=True)
    assert portal.url in page and "预览并发布" in page
    assert page.count("预览并发布") == 3 and "robots.txt" in page and "no article body" in page
    drafts = Drafts(tmp_path / "data" / "staff-drafts").pending()
    heating = next(d for d in drafts if d.origin.endswith("t20251103_101.html"))
    preview = client.get(f"/staff/drafts/{heating.id}").get_data(as_text=True)
    assert "关于做好今冬明春供暖保障工作的通知" in preview
    token = __import__("re").search(r'name="csrf_token" value="([^"]+)"', preview).group(1)
    client.post(f"/staff/drafts/{heating.id}/publish", data={"csrf_token": token})
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        published = store.by_key("doc:内政办发〔2025〕41号")
    assert published is not None and published.source == portal.url + "202511/t20251103_101.html"  # where a text message points


def test_on_postgresql_one_pass_at_a_time_and_what_was_seen_is_shared(tmp_path, portal, notices, postgres_server):
    from watcher.background import run_leased

    url = postgres_server()
    first, second = WatchState(url), WatchState(url)
    holder = first.take_lease("server-a")
    assert holder == "server-a" and second.take_lease("server-b") is None  # another server waits its turn
    first.give_lease(holder)

    def make(state):
        client = PoliteClient(CONTACT, per_host_seconds=0.02, timeout=0.5, retries=0)
        return WatchPass(state, lambda: NoticeStore(notices.path), Drafts(tmp_path / "drafts"), client,
                         WatchSettings(urls=(portal.url,), contact=CONTACT))

    report = run_leased(second, make)
    assert report is not None and report.new == 3
    again = run_leased(first, make)  # the other server knows what was seen
    assert again.new == 0 and len(Drafts(tmp_path / "drafts").pending()) == 3
    first.close()
    second.close()


def test_the_client_retries_a_busy_site_and_refuses_an_oversized_page():
    from watcher.client import FetchError

    app, tries = Flask("flaky"), Counter()

    @app.get("/flaky.html")
    def flaky():
        tries["flaky"] += 1
        return Response("busy", status=503, headers={"Retry-After": "0"}) if tries["flaky"] < 3 else Response("<html>ok</html>", mimetype="text/html")

    @app.get("/big.html")
    def big():
        return Response(b"x" * (6 * 1024 * 1024), mimetype="text/html")

    port, stop = live_app(app)
    try:
        client = PoliteClient(CONTACT, per_host_seconds=0.0, timeout=2, retries=3, backoff_seconds=0.01)
        assert client.get(f"http://127.0.0.1:{port}/flaky.html").body == b"<html>ok</html>" and tries["flaky"] == 3
        with pytest.raises(FetchError, match="larger than 5 MB"):
            client.get(f"http://127.0.0.1:{port}/big.html")
    finally:
        stop()


@pytest.mark.parametrize(
    "page, url, following",
    [
        ('<div class="page"><a href="index_1.html">下一页</a></div>', "https://www.nmg.gov.cn/zwgk/", "https://www.nmg.gov.cn/zwgk/index_1.html"),
        ('<script>createPageHTML(34, 0, "index", "shtml");</script>', "https://www.nmg.gov.cn/zwgk/", "https://www.nmg.gov.cn/zwgk/index_1.shtml"),
        ('<script>createPageHTML(34, 5, "index", "html");</script>', "https://a.gov.cn/l/index_5.html", "https://a.gov.cn/l/index_6.html"),
        ('<script>createPageHTML(6, 5, "index", "html");</script>', "https://a.gov.cn/l/index_5.html", None),  # the last page
        ("<script>var currentPage = 2;//所在页从0开始\nvar countPage = 34//共多少页</script>", "https://a.gov.cn/l/index_2.html",
         "https://a.gov.cn/l/index_3.html"),
        ('<div class="page"><a href="javascript:void(0)">下一页</a></div>', "https://a.gov.cn/l/", None),
        ("<p>无分页</p>", "https://a.gov.cn/l/", None),
    ],
)
def test_the_next_list_page_by_link_or_by_the_portals_paging_script(page, url, following):
    assert next_page(f"<html><body>{page}</body></html>", url) == following
