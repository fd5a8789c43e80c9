"""The kiosk's voice menu in Chromium: the phone's conversation (content/menu.py), spoken by the
page, driven by the same keys."""

import pytest
from conftest import live_app


@pytest.fixture(scope="module")
def menu_kiosk(tmp_path_factory):
    from server import Config, create_app

    app = create_app(Config(data_dir=tmp_path_factory.mktemp("menu-kiosk"), prerender=False, gather_timeout=1, kiosk_idle_seconds=600))
    port, stop = live_app(app)
    yield f"http://127.0.0.1:{port}", app
    stop()


def caption(page):
    return page.inner_text("#caption")


def wait_caption(page, words, timeout=15_000):
    page.wait_for_function(f"() => document.getElementById('caption').textContent.includes({words!r})", timeout=timeout)


def test_the_menu_conversation_runs_on_the_kiosk(page, menu_kiosk):
    base, _ = menu_kiosk
    page.goto(base + "/")
    page.click("#voice-menu")
    assert page.get_attribute("#voice-menu", "aria-pressed") == "true"
    wait_caption(page, "您好，这里是听文")
    page.wait_for_function("() => !tingwen.player.paused", timeout=10_000)
    assert page.evaluate("() => tingwen.menu().state.mode") == "top"
    page.keyboard.press("4")  # same key map as the phone: the fourth notice
    wait_caption(page, "森林草原防灭火命令")
    page.keyboard.press("1")
    page.wait_for_function("() => tingwen.menu() && tingwen.menu().reading", timeout=10_000)
    wait_caption(page, "开始朗读")
    page.keyboard.press("*")  # cancel: stop at once, back one level
    wait_caption(page, "共有8个部分")
    assert page.evaluate("() => tingwen.menu().state.mode") == "notice"
    page.click("#voice-menu")
    assert page.evaluate("() => tingwen.player.paused")


def test_silence_and_wrong_keys_end_with_goodbye_and_reset(page, menu_kiosk):
    base, _ = menu_kiosk
    page.goto(base + "/notice/4")
    page.click("#voice-menu")
    wait_caption(page, "最新通知共有7条")
    page.keyboard.press("8")  # no eighth notice
    wait_caption(page, "没有这个选项")
    # then two silences (1 s each here) end the session politely and the kiosk goes home
    page.wait_for_url(base + "/", timeout=120_000)
    assert page.get_attribute("#voice-menu", "aria-pressed") == "false"


def test_garbled_menu_requests_are_refused_or_restart(menu_kiosk):
    import json
    import urllib.error
    import urllib.request

    base, _ = menu_kiosk

    def post(payload):
        request = urllib.request.Request(base + "/kiosk/menu", data=payload, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, None

    assert post(b"not json")[0] == 400
    assert post(json.dumps({"event": {"kind": "launch"}}).encode())[0] == 400
    status, turn = post(json.dumps({"state": "{broken", "event": {"kind": "key", "key": "4"}}).encode())
    assert status == 200 and json.loads(turn["state"])["mode"] == "top"  # a forged state starts again
    status, turn = post(json.dumps({"state": turn["state"], "event": {"kind": "key", "key": "x" * 5000}}).encode())
    assert status == 200 and any(a["type"] == "say" and a["text"].startswith("没有这个选项") for a in turn["actions"])


def test_a_check_event_asks_for_confirmation(menu_kiosk):
    import json
    import urllib.request

    base, _ = menu_kiosk

    def post(payload):
        request = urllib.request.Request(base + "/kiosk/menu", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    start = post({"event": {"kind": "start"}})
    asked = post({"state": start["state"], "event": {"kind": "check", "number": 4}})
    assert any(a["type"] == "say" and "您说的是第4项吗" in a["text"] for a in asked["actions"])
    confirmed = post({"state": asked["state"], "event": {"kind": "key", "key": "#"}})
    assert json.loads(confirmed["state"])["mode"] == "notice"
