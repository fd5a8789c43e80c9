"""The kiosk under faults and with every spoken word: it keeps reading when its audio folder takes
no files or a cached WAV is damaged, bounds the work of one request for a huge notice, hears
every command word of commands.toml, and 9 means what it means on the phone."""

import dataclasses
import shutil
import time

import pytest
from conftest import live_app, phone_app

from content.commands import load_vocabulary
from content.ingest import SourceFormat, parse_all
from content.menu_texts import MenuTexts
from content.store import NoticeStore
from speech.audio import wav_problem

PLAYING = "() => !tingwen.player.paused && tingwen.player.currentTime > 0"


def _app(data_dir):
    app = phone_app(data_dir)
    app.testing = False
    return app


def _long_notice(folder, sections, sentences_each):
    lines = ["标题：关于开展测试朗读工作的通知", "发文字号：测试发〔2025〕1号", "发布日期：2025-11-01", "", "各有关单位："]
    numerals = "一二三四五六七八九"
    for n in range(sections):
        marker = f"{numerals[n]}、" if n < 9 else f"{n + 1}."
        lines.append(f"{marker}第{n + 1}项工作")
        lines.append("".join(f"这是第{n + 1}项工作的第{k + 1}句说明文字。" for k in range(sentences_each)))
    path = folder / "long.txt"
    path.write_text("\n".join(lines), "utf-8")
    return path


def _ingest(app, path):
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        [notice] = parse_all([path], SourceFormat.TEXT, "测试机关")
        store.save([notice])
        return notice.id


def test_kiosk_reads_from_a_spare_cache_when_its_audio_folder_takes_no_files(tmp_path):
    app = _app(tmp_path / "data")
    client = app.test_client()
    folder = app.extensions["tingwen.speaker"].primary_cache.folder
    app.extensions["tingwen.speaker"].wait_ahead()
    shutil.move(folder, tmp_path / "moved")
    folder.write_text("not a folder")  # as root ignores permissions, a file where the folder was
    app.extensions["tingwen.speaker"]._checked_at = None
    for path in ["/kiosk/speech/card/1", "/kiosk/speech/intro/1"]:
        answer = client.get(path)
        assert answer.status_code == 200
        for sentence in answer.get_json()["sentences"]:
            audio = client.get(sentence["audio"][0])
            assert audio.status_code == 200 and audio.data[:4] == b"RIFF"
    turn = client.post("/kiosk/menu", json={})
    assert turn.status_code == 200 and turn.get_json()["actions"][0]["audio"]
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["audio_cache"].startswith("spare: ")
    folder.unlink()
    shutil.move(tmp_path / "moved", folder)
    app.extensions["tingwen.speaker"]._checked_at = None
    assert client.get("/healthz").status_code == 200  # back on its own cache


def test_a_damaged_cached_wav_is_made_again_for_the_kiosk(tmp_path):
    app = _app(tmp_path / "data")
    client = app.test_client()
    url = client.get("/kiosk/speech/card/1").get_json()["sentences"][0]["audio"][0]
    whole = client.get(url).data
    speaker = app.extensions["tingwen.speaker"]
    speaker.wait_ahead()
    for path in speaker.cache.folder.glob("??/*.wav"):
        path.write_bytes(b"")  # every cached file, the voice's own probe included
    speaker._checked_at = None
    assert client.get("/kiosk/speech/card/1").status_code == 200
    again = client.get(url)
    assert again.status_code == 200 and abs(len(again.data) - len(whole)) < len(whole) // 10
    name = url.rsplit("/", 1)[1]
    assert wav_problem(speaker.cache.folder / name[:2] / name) is None  # repaired on disk


def test_one_request_for_a_huge_notice_plans_one_page(tmp_path):
    app = _app(tmp_path / "data")
    notice_id = _ingest(app, _long_notice(tmp_path, 2000, 3))
    client = app.test_client()
    started = time.monotonic()
    answer = client.get(f"/kiosk/speech/full/{notice_id}")
    assert time.monotonic() - started < 10
    body = answer.get_json()
    assert answer.status_code == 200 and 0 < len(body["sentences"]) <= 30 and body["more"]
    recipes = list((app.extensions["tingwen.speaker"].cache.folder / "recipes").glob("*/*.json"))
    assert len(recipes) < 200  # one page's chunks, not the notice's thousands
    seen = [s["text"] for s in body["sentences"]]
    for _ in range(3):  # the next pages follow on without repeating or skipping
        body = client.get(body["more"]).get_json()
        seen += [s["text"] for s in body["sentences"]]
    assert len(seen) == len(set(seen)) == 120
    body_starts = next(i for i, text in enumerate(seen) if "第1项工作" in text)
    with NoticeStore(app.config["TINGWEN_DB"]) as store:  # first the introduction, as the phone menu says it
        assert "".join(seen[:body_starts]) == MenuTexts().notice_intro(store.get(notice_id))


def test_the_kiosk_hears_every_command_word_as_the_phone_menu_means_it(tmp_path):
    """Not a hand copy: each word the kiosk's microphone acts on means, at the kiosk, what it
    means in the phone's menu (the Listen choices of some state carry that word and intent)."""
    from content.menu import Menu, MenuState, Mode

    app = _app(tmp_path / "data")
    with app.app_context():
        from kiosk.views import kiosk_commands

        heard = kiosk_commands()
    words = load_vocabulary()
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        menu = Menu(store.latest(), vocabulary=dataclasses.replace(words, subjects=False), subscription=True)  # no titles: a page's own
    states = [MenuState(), MenuState(subscribed=True), MenuState(mode=Mode.READING), MenuState(mode=Mode.PART_END), MenuState(confirming=1)]
    meant = {}
    for state in states:
        for choice in menu.choices(state):
            for word in choice.words:
                meant.setdefault(word, set()).add((choice.intent.kind.value, choice.intent.number))
    assert set(meant) - set(heard) == set()  # every word the phone understands, the kiosk hears
    for word, (intent, number) in heard.items():
        if word in meant and not any(m[0] == intent for m in meant[word]):
            raise AssertionError(f"{word}: the kiosk takes it for {intent}, the phone for {meant[word]}")
    assert heard["第三条"] == ("choose", 3) and heard["取消"] == ("cancel", None)


@pytest.fixture(scope="module")
def kiosk_with_long_notice(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kiosk-keys")
    app = phone_app(folder / "data")
    notice_id = _ingest(app, _long_notice(folder, 2, 40))
    port, stop = live_app(app)
    yield f"http://127.0.0.1:{port}", notice_id
    stop()


def test_nine_reads_every_notice_at_home_and_the_whole_notice_inside_one(page, kiosk_with_long_notice):
    base, notice_id = kiosk_with_long_notice
    page.goto(base + "/")
    assert page.locator(".card").count() <= 8  # 1-8 choose a card; 9 is never a card
    page.keyboard.press("9")
    page.wait_for_function(PLAYING, timeout=10_000)
    assert page.locator(".page-toggle").get_attribute("aria-pressed") == "true"
    assert page.url == base + "/"
    page.keyboard.press("*")
    page.goto(f"{base}/notice/{notice_id}")
    assert page.locator(".region[data-key='9']").count() == 0
    page.keyboard.press("9")
    page.wait_for_function(PLAYING, timeout=10_000)
    assert page.locator(".page-toggle").get_attribute("aria-pressed") == "true"


def test_reading_goes_on_past_the_first_page_of_sentences(page, kiosk_with_long_notice):
    base, notice_id = kiosk_with_long_notice
    page.goto(f"{base}/notice/{notice_id}")
    page.locator(".region .read-toggle").nth(1).click()  # the first part: a heading and 40 sentences
    page.wait_for_function(PLAYING, timeout=20_000)
    for _ in range(100):  # skip ahead a chunk at a time (a long sentence has two), as if each had played to its end
        state = page.evaluate("() => tingwen.state()")
        if state["index"] >= 33:
            break
        source = page.evaluate("() => tingwen.player.currentSrc")
        page.evaluate("() => tingwen.player.dispatchEvent(new Event('ended'))")
        page.wait_for_function(f"() => tingwen.player.currentSrc !== {source!r} && !tingwen.player.paused", timeout=20_000)
    state = page.evaluate("() => tingwen.state()")
    assert state["region"] == 1 and state["index"] >= 33  # sentences of the second page, still the same part
    assert page.locator(".sentence.reading").count() <= 1
