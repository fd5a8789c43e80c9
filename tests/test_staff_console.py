"""The staff console in headless Chromium: sign-in, wrong passwords and lock-out; upload →
preview (a sentence plays) → 发布, after which the kiosk and the phone menu have the notice;
withdraw; a pronunciation change remakes only the audio that has the word; charts whose tables
match `tingwen calls --json`; no staff route answers an anonymous request or a POST without its
CSRF token; axe-core finds no WCAG 2.2 AA violation; screenshots are kept."""

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import ARTIFACTS, FIXTURES, PhoneCall, live_app, phone_app

from staff.accounts import StaffStore

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "春风十里不如你2025"


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    data = tmp_path_factory.mktemp("staff") / "data"
    app = phone_app(data)
    app.testing = False
    with StaffStore(data / "staff.sqlite3") as accounts:
        accounts.add("wang", PASSWORD)
        accounts.add("li", PASSWORD)
    port, stop = live_app(app)
    yield app, f"http://127.0.0.1:{port}", data
    stop()


def sign_in(page, base, name="wang", password=PASSWORD):
    page.goto(base + "/staff/login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("button[type=submit]")


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"staff-{name}.png"), full_page=True)


def test_sign_in_wrong_password_and_lock_out(page, console):
    _, base, _ = console
    page.goto(base + "/staff/")
    assert "/staff/login" in page.url  # nothing without a session
    shot(page, "login")
    for _ in range(5):
        sign_in(page, base, "li", "wrong password")
        assert page.locator(".problem").inner_text() in ("用户名或密码错误。", "尝试次数过多，该账号已锁定一分钟，请稍后再试。")
    sign_in(page, base, "li", PASSWORD)  # the right password, but the name is locked for a minute
    assert "锁定" in page.locator(".problem").inner_text() and "/staff/login" in page.url
    sign_in(page, base)  # another name is not locked
    assert page.url == base + "/staff/"
    cookie = next(c for c in page.context.cookies() if c["name"] == "tingwen_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.locator("h1").inner_text() == "全部通知"
    shot(page, "notices")


def test_an_idle_session_ends(page, console):
    app, base, _ = console
    sign_in(page, base)
    assert page.url == base + "/staff/"
    app.config["TINGWEN_STAFF"]["idle_minutes"] = 0
    try:
        page.goto(base + "/staff/log")
        assert "/staff/login" in page.url
    finally:
        app.config["TINGWEN_STAFF"]["idle_minutes"] = 30


def test_upload_preview_play_and_publish_reach_the_kiosk_and_the_phone(page, console):
    app, base, _ = console
    sign_in(page, base)
    page.goto(base + "/staff/upload")
    shot(page, "upload")
    page.set_input_files("#files", [str(FIXTURES / "notice_plain_opinion.txt")])
    page.click("button.primary")
    assert "/staff/drafts/" in page.url
    assert page.locator("h2").first.inner_text() == "内蒙古自治区人民政府关于进一步做好冬季供暖保障工作的意见"
    assert "读作：" in page.content() and "十月十五日" in page.content()  # numbers as they will be read
    assert "冬季供暖" not in page.context.request.get(base + "/").text()  # nothing is published before 发布
    button = page.locator("li button.play").first
    button.click()
    page.wait_for_function("() => !tingwenStaff.player.paused && tingwenStaff.player.currentTime > 0", timeout=20_000)
    assert "/staff/audio/" in page.evaluate("() => tingwenStaff.player.currentSrc")
    shot(page, "preview")
    page.get_by_role("button", name="发布", exact=True).click()
    assert page.url == base + "/staff/"
    assert "已发布 1 条通知" in page.locator(".notice-box").inner_text()
    assert "冬季供暖" in page.context.request.get(base + "/").text()  # the kiosk's list
    from content.menu import menu_for
    from content.store import NoticeStore

    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        menu = menu_for(store, app.config["TINGWEN_MENU"])
    first = menu.notices[0]
    assert "冬季供暖" in first.spoken_title  # the newest: item 1 of the phone menu
    call = PhoneCall(app, sid="CAstaffpublish000000000000000000").start()
    speaker = app.extensions["tingwen.speaker"]
    from speech.utterances import AudioFormat

    top = [t for t in menu.prompt_texts() if first.spoken_title in t][0]
    assert any(p.name in " ".join(call.plays) for p in speaker.plan(top, AudioFormat.ULAW))


def test_an_upload_with_a_bad_file_names_it_and_publishes_nothing(page, console):
    _, base, _ = console
    sign_in(page, base)
    page.goto(base + "/staff/upload")
    page.fill("#text", "2025-13-45\n")
    page.click("button.primary")
    problem = page.locator(".problem").inner_text()
    assert "粘贴的文本.txt" in problem
    assert page.get_by_role("button", name="发布", exact=True).count() == 0


def test_withdraw_and_restore_from_the_notice_page(page, console):
    _, base, _ = console
    sign_in(page, base)
    page.goto(base + "/staff/notices/4")
    shot(page, "notice")
    page.click("text=撤回（从电话和自助机上撤下）")
    assert "已撤回" in page.locator(".notice-box").inner_text()
    assert page.context.request.get(base + "/notice/4").status == 404
    page.click("text=恢复（重新出现在电话和自助机上）")
    assert page.context.request.get(base + "/notice/4").status == 200
    page.fill("#spoken_title", "森林草原防火命令")
    page.click("text=保存")
    assert page.locator("#spoken_title").input_value() == "森林草原防火命令"
    page.goto(base + "/staff/log")
    log = page.locator("table").inner_text()
    assert "撤回" in log and "恢复" in log and "修改朗读标题" in log and "登录" in log and "wang" in log
    shot(page, "log")


def test_a_pronunciation_change_remakes_only_the_audio_with_the_word(page, console):
    app, base, data = console
    speaker = app.extensions["tingwen.speaker"]
    from speech.utterances import AudioFormat

    with_word, without = "请到锡林郭勒盟政务服务中心办理。", "请到政务服务中心办理。"
    before = {t: [p.name for p in speaker.plan(t, AudioFormat.WAV)] for t in (with_word, without)}
    for names in before.values():
        for name in names:
            speaker.audio_file(name, AudioFormat.WAV)
    sign_in(page, base)
    page.goto(base + "/staff/pronunciations?q=锡林")
    assert "xi1 lin2 guo1 le4" in page.content()
    page.fill("#word", "锡林郭勒")
    page.fill("#pinyin", "xi2 lin2 guo1 le4")
    page.click("text=听新的读音")
    page.wait_for_function("() => !tingwenStaff.player.paused", timeout=20_000)
    shot(page, "pronunciations")
    page.click("button.primary")
    assert "已保存" in page.locator(".notice-box").inner_text()
    assert "xi2 lin2 guo1 le4" in page.locator("table").inner_text()
    assert "锡林郭勒\txi2 lin2 guo1 le4" in (data / "pronunciations.txt").read_text()
    after = {t: [p.name for p in speaker.plan(t, AudioFormat.WAV)] for t in (with_word, without)}
    assert after[without] == before[without]  # still cached under the same name
    assert after[with_word] != before[with_word]  # new audio for the new reading
    assert speaker.pinyin(with_word).startswith("qing3 dao4 xi2 lin2")
    page.fill("#word", "锡林郭勒")
    page.fill("#pinyin", "xi1 lin2")
    page.click("button.primary")
    assert "需要 4 个" in page.locator(".problem").inner_text()


def test_charts_render_and_their_tables_match_the_command_line(page, console):
    app, base, data = console
    call = PhoneCall(app, sid="CAstaffcharts0000000000000000000").start()
    call.press("4").press("1").press("*").hang_up()
    sign_in(page, base)
    page.goto(base + "/staff/calls?from=2000-01-01&to=2100-01-01")
    assert page.locator("figure svg[role=img]").count() == 6
    shot(page, "calls")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("tingwen")), "--data-dir", str(data), "calls", "--json", "--from", "2000-01-01", "--to", "2100-01-01"],
        capture_output=True, text=True, env={"TINGWEN_VOICE": "espeak", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)

    def rows(table):
        return page.eval_on_selector_all(f"#{table} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))")

    assert rows("table-per-day") == [[d["day"], str(d["calls"])] for d in summary["calls_per_day"]]
    assert rows("table-listened") == [[str(r["notice_id"]), r["title"] or "", str(r["calls"])] for r in summary["most_listened"]]
    assert rows("table-cancels") == [[r["title"] or "最新通知列表", r["path"] or "", str(r["count"])] for r in summary["cancels"]]
    assert rows("table-transfers") == [[d["day"], str(d["answered"]), str(d["unanswered"]), str(d["closed"])] for d in summary["transfers"]["per_day"]]
    assert f"要求转人工 {summary['transfers']['asked']} 次" in page.locator("#person-counts").inner_text()
    assert summary["calls"] >= 1 and summary["most_listened"]


def test_every_staff_route_refuses_an_anonymous_request(console):
    app, _, _ = console
    client = app.test_client()
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff") and r.endpoint != "staff.login" and r.endpoint != "staff.static"]
    assert len(routes) >= 12
    for rule in routes:
        path = re.sub(r"<(?:int:)?([^>]+)>", lambda m: "1" if "int" in m.group(0) else "x" * 20, rule.rule.replace("<any(withdraw, restore):action>", "withdraw"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            answer = client.open(path, method=method)
            assert answer.status_code in (302, 400, 401), (method, path, answer.status_code)
            assert answer.status_code != 302 or "/staff/login" in answer.headers["Location"]


def test_a_post_without_the_csrf_token_is_refused(console):
    app, _, data = console
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = client.post("/staff/login", data={"username": "wang", "password": PASSWORD})
    assert refused.status_code == 400
    assert client.post("/staff/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token}).status_code == 302
    before = (data / "tingwen.sqlite3").stat().st_mtime_ns
    for path in ["/staff/notices/4/withdraw", "/staff/pronunciations", "/staff/logout"]:
        assert client.post(path, data={"word": "锡林", "pinyin": "xi1 lin2"}).status_code == 400
        assert client.post(path, data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/notice/4").status_code == 200  # not withdrawn
    assert (data / "tingwen.sqlite3").stat().st_mtime_ns == before


@pytest.mark.parametrize("path", ["/staff/login", "/staff/", "/staff/upload", "/staff/watch", "/staff/notices/4", "/staff/pronunciations", "/staff/calls", "/staff/log"])
def test_axe_finds_no_violations_in_the_console(page, console, path):
    _, base, _ = console
    if path != "/staff/login":
        sign_in(page, base)
    page.goto(base + path)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    violations = [(v["id"], v["help"], len(v["nodes"])) for v in results.response["violations"]]
    assert violations == [], violations


def test_accounts_from_the_command_line(tmp_path):
    tingwen = str(Path(sys.executable).with_name("tingwen"))

    def run(*args, stdin=""):
        return subprocess.run([tingwen, "--data-dir", str(tmp_path), "staff", *args], input=stdin, capture_output=True, text=True)

    assert run("add", "zhao", "--password-stdin", stdin="short\n").returncode == 1  # too short
    added = run("add", "zhao", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert "zhao" in run("list").stdout
    stored = (tmp_path / "staff.sqlite3").read_bytes()
    assert PASSWORD.encode() not in stored and b"$argon2id$" in stored
    assert run("add", "zhao", "--password-stdin", stdin=PASSWORD + "\n").returncode == 1  # exists
    assert run("remove", "zhao").returncode == 0
    assert "no accounts" in run("list").stdout


def test_publishing_renders_the_new_notices_audio_in_the_background(tmp_path):
    import re as _re

    from config import DB_FILE
    from content.ingest import SourceFormat, parse_all
    from content.store import NoticeStore
    from speech.utterances import AudioFormat

    # One short notice in the store (so the bundled seven are not loaded): its first pass is quick.
    (tmp_path / "data").mkdir()
    with NoticeStore(tmp_path / "data" / DB_FILE) as store:
        store.save(parse_all([FIXTURES / "notice_with_issued_plan.txt"], SourceFormat.TEXT, None))
    app = phone_app(tmp_path / "data", prerender=True)
    assert app.config["TINGWEN_DB"] == tmp_path / "data" / DB_FILE
    prerender = app.extensions["tingwen.prerender"]
    assert prerender.done.wait(300)  # the notice already there first
    prerender.done.clear()
    with StaffStore(tmp_path / "data" / "staff.sqlite3") as accounts:
        accounts.add("wang", PASSWORD)
    client = app.test_client()
    token = _re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True)).group(1)
    client.post("/staff/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    token = _re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/upload").get_data(as_text=True)).group(1)  # a new session's
    draft = client.post("/staff/upload", data={"csrf_token": token, "text": (FIXTURES / "notice_plain_opinion.txt").read_text()})
    assert draft.status_code == 302, draft.get_data(as_text=True)[-800:]
    assert client.post(draft.headers["Location"] + "/publish", data={"csrf_token": token}).status_code == 302
    assert prerender.done.wait(120)  # poked at once, not at the next poll
    speaker = app.extensions["tingwen.speaker"]
    sentence = "对低保家庭给予供暖补贴。"
    for fmt in AudioFormat:
        assert all(speaker.cache.path_for(p.key, fmt.suffix).exists() for p in speaker.plan(sentence, fmt))


def test_commands_not_understood_are_counted_for_staff(console, page):
    from ivr.callstore import CallEvent, CallStore

    app, base, _ = console
    store = CallStore.open(app.config["TINGWEN_IVR"])
    store.begin("CAunclear00000000000000000000000", None, "{}")
    for heard in ("天气怎么样", "天气怎么样", "喂"):
        store.save("CAunclear00000000000000000000000", "{}", [CallEvent("unclear", detail={"heard": heard})])
    store.close()
    sign_in(page, base)
    page.goto(base + "/staff/calls")
    rows = page.eval_on_selector_all("#table-unclear tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))")
    assert rows == [["天气怎么样", "2"], ["喂", "1"]]


def test_an_upload_may_be_larger_than_a_webhook(console):
    app, _, _ = console
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True)).group(1)
    client.post("/staff/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/upload").get_data(as_text=True)).group(1)
    notice = (FIXTURES / "notice_plain_opinion.txt").read_text()
    padded = notice.replace("为切实保障群众温暖过冬，现提出以下意见。", "为切实保障群众温暖过冬，现提出以下意见。\n" + "各地区要做好准备。" * 40_000)
    assert len(padded.encode()) > 1_000_000
    answer = client.post("/staff/upload", data={"csrf_token": token, "files": (io.BytesIO(padded.encode()), "大文件.txt")}, content_type="multipart/form-data")
    assert answer.status_code == 302 and "/staff/drafts/" in answer.headers["Location"]
    assert client.post("/kiosk/menu", data="x" * 1_000_000, content_type="application/json").status_code == 413  # the rest keep theirs


def test_a_damaged_pronunciations_file_is_named_on_the_page(console):
    app, _, data = console
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True)).group(1)
    client.post("/staff/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    own = data / "pronunciations.txt"
    kept = own.read_bytes() if own.exists() else None
    own.write_bytes(b"\xff\xfe damaged")
    try:
        answer = client.get("/staff/pronunciations")
    finally:
        own.write_bytes(kept) if kept is not None else own.unlink()
    assert answer.status_code == 503
    assert "pronunciations.txt" in answer.get_data(as_text=True) and "UTF-8" in answer.get_data(as_text=True)


def test_staff_pages_cannot_be_framed_or_run_foreign_scripts(console):
    app, _, _ = console
    answer = app.test_client().get("/staff/login")
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert answer.headers["X-Frame-Options"] == "DENY" and answer.headers["Cache-Control"] == "no-store"


def test_titles_cannot_inject_markup_into_the_charts(tmp_path):
    from staff.charts import bar_chart

    svg = bar_chart(['<script>alert(1)</script>"'], [1], '标题<img src=x onerror=alert(1)>')
    assert "<script>" not in svg and "<img" not in svg
