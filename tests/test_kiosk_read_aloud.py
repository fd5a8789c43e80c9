"""The kiosk in real headless Chromium: read-aloud toggles, keys, highlight and idle reset."""

import urllib.request

from conftest import ARTIFACTS

PLAYING = "() => !tingwen.player.paused && tingwen.player.currentTime > 0"


def toggles(page):
    return page.locator(".region .read-toggle")


def test_everything_starts_off_and_silent(page, kiosk):
    page.goto(kiosk + "/")
    page.wait_for_timeout(800)
    pressed = page.eval_on_selector_all(".read-toggle", "els => els.map(e => e.getAttribute('aria-pressed'))")
    assert pressed and set(pressed) == {"false"}
    assert page.evaluate("() => tingwen.player.paused && !tingwen.player.currentSrc")
    assert page.evaluate("() => [...document.querySelectorAll('audio,video')].every(m => m.paused)")


def test_a_press_plays_our_audio_and_a_second_press_stops_it(page, kiosk):
    page.goto(kiosk + "/")
    first = toggles(page).nth(0)
    first.click()
    page.wait_for_function(PLAYING, timeout=10_000)
    assert first.get_attribute("aria-pressed") == "true"
    assert page.inner_text("#status") == "开始朗读"
    source = page.evaluate("() => tingwen.player.currentSrc")
    assert "/kiosk/audio/" in source
    with urllib.request.urlopen(source) as response:
        wav = response.read()
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and int.from_bytes(wav[24:28], "little") == 24000  # the neural voice
    ARTIFACTS.mkdir(exist_ok=True)
    first.click()
    page.wait_for_function("() => tingwen.player.paused", timeout=200)  # stopped within 200 ms
    assert first.get_attribute("aria-pressed") == "false"
    assert page.inner_text("#status") == "已停止"
    assert page.locator(".sentence.reading").count() == 0


def test_starting_another_region_stops_the_first(page, kiosk):
    page.goto(kiosk + "/")
    toggles(page).nth(0).click()
    page.wait_for_function(PLAYING, timeout=10_000)
    first_source = page.evaluate("() => tingwen.player.currentSrc")
    toggles(page).nth(1).click()
    page.wait_for_function(f"() => tingwen.player.currentSrc && tingwen.player.currentSrc !== {first_source!r} && !tingwen.player.paused", timeout=10_000)
    assert toggles(page).nth(0).get_attribute("aria-pressed") == "false"
    assert toggles(page).nth(1).get_attribute("aria-pressed") == "true"


def test_star_stops_reading(page, kiosk):
    page.goto(kiosk + "/notice/4")
    toggles(page).nth(1).click()
    page.wait_for_function(PLAYING, timeout=10_000)
    page.keyboard.press("*")
    page.wait_for_function("() => tingwen.player.paused", timeout=200)
    assert set(page.eval_on_selector_all(".read-toggle", "els => els.map(e => e.getAttribute('aria-pressed'))")) == {"false"}


def test_keypad_digits_open_notices_and_read_parts(page, kiosk):
    page.goto(kiosk + "/")
    page.keyboard.press("4")
    page.wait_for_url("**/notice/4")
    assert page.inner_text("h1") == "森林草原防灭火命令"
    page.keyboard.press("2")  # the second part: 二、强化责任落实
    page.wait_for_function(PLAYING, timeout=10_000)
    assert page.locator(".sentence.reading").inner_text().startswith("二、强化责任落实")
    page.keyboard.press("*")
    page.wait_for_function("() => tingwen.player.paused", timeout=200)
    page.keyboard.press("*")  # nothing playing: back to the list
    page.wait_for_url(kiosk + "/")


def test_digits_typed_into_a_control_are_not_shortcuts(page, kiosk):
    page.goto(kiosk + "/")
    page.focus("#volume")
    page.keyboard.press("4")
    page.wait_for_timeout(300)
    assert page.url == kiosk + "/"


def test_the_highlight_follows_the_audio(page, kiosk):
    page.goto(kiosk + "/notice/4")
    page.select_option("#speed", "fast")
    toggles(page).nth(1).click()  # 一、防火期和戒严管制期: a heading sentence, then its text
    page.wait_for_function(PLAYING, timeout=10_000)
    assert page.locator(".sentence.reading").get_attribute("data-i") == "0"
    page.wait_for_function("() => document.querySelector('.sentence.reading') && document.querySelector('.sentence.reading').dataset.i === '1'", timeout=15_000)
    highlighted = page.locator(".sentence.reading")
    assert highlighted.inner_text().startswith("锡林郭勒盟")
    assert highlighted.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "notice-mid-reading.png"))
    toggles(page).nth(1).click()


def test_idle_warning_then_reset_to_home(page, kiosk):
    page.goto(kiosk + "/notice/4")
    page.click("#large-type")
    assert page.evaluate("() => document.body.classList.contains('large')")
    page.wait_for_selector("#idle:not([hidden])", timeout=10_000)
    assert int(page.inner_text("#idle-count")) >= 1
    page.wait_for_url(kiosk + "/", timeout=10_000)
    assert not page.evaluate("() => document.body.classList.contains('large')")  # settings reset
    assert page.evaluate("() => tingwen.player.paused")


def test_continue_keeps_the_page(page, kiosk):
    page.goto(kiosk + "/notice/4")
    page.wait_for_selector("#idle:not([hidden])", timeout=10_000)
    page.click("#idle-continue")
    page.wait_for_timeout(2500)
    assert page.url.endswith("/notice/4")


def test_zero_repeats_and_hash_moves_on(page, kiosk):
    page.goto(kiosk + "/notice/4")
    toggles(page).nth(1).click()  # 一、…
    page.wait_for_function("() => !tingwen.player.paused && tingwen.player.currentTime > 0.5", timeout=10_000)
    page.keyboard.press("0")  # repeat: the sentence being read starts again
    page.wait_for_function("() => tingwen.player.currentTime < 0.5", timeout=2_000)
    assert page.locator(".sentence.reading").get_attribute("data-i") == "0"
    page.keyboard.press("#")  # next: the following part
    page.wait_for_function("() => document.querySelector('.sentence.reading') && document.querySelector('.sentence.reading').textContent.startsWith('二、')", timeout=10_000)
    assert toggles(page).nth(2).get_attribute("aria-pressed") == "true"
    assert toggles(page).nth(1).get_attribute("aria-pressed") == "false"
    page.keyboard.press("*")
