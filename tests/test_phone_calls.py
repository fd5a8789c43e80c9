"""Whole phone calls, Twilio's side played by the real twilio library: every request signed,
every <Gather action> followed, TwiML checked with XPath."""

import pytest
from conftest import PUBLIC_URL, PhoneCall, audio_urls, phone_app

from content.prompts import load_prompts
from content.menu import Menu, Say
from content.store import NoticeStore
from speech.audio import PHONE_RATE


@pytest.fixture
def app(tmp_path):
    return phone_app(tmp_path / "data")


@pytest.fixture
def menu(app):
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        return Menu(store.latest())


def _urls_for_texts(app, texts):
    return [url for text in texts for url in audio_urls(app, text)]


def test_welcome_names_the_latest_notices(app, menu):
    call = PhoneCall(app).start()
    assert call.last.status_code == 200
    assert call.last.headers["Content-Type"].startswith("text/xml")
    gather = call.twiml.xpath("/Response/Gather")[0]
    assert gather.get("input") == "dtmf" and gather.get("numDigits") == "1"
    assert gather.get("actionOnEmptyResult") == "true" and gather.get("finishOnKey") == ""
    assert int(gather.get("timeout")) >= 8
    assert gather.get("action") == f"{PUBLIC_URL}/ivr/gather"
    _, actions = menu.start()
    expected = _urls_for_texts(app, [a.text for a in actions if isinstance(a, Say)])
    assert call.twiml.xpath("/Response/Gather/Play/text()") == expected
    assert "关于临河区土地征收成片开发调整方案的批复" in "".join(a.text for a in actions if isinstance(a, Say))


def test_notice_then_section_plays_that_section_in_order(app, menu, loaded_store):
    order = NoticeStore(app.config["TINGWEN_DB"]).latest()[3]
    call = PhoneCall(app).start().press("4")
    assert call.plays  # the notice's intro and its parts menu
    call.press("1")
    sentences = _sentences(order.sections[0])
    coaching = audio_urls(app, load_prompts().reading_start)
    assert call.plays[: len(coaching)] == coaching
    heard = call.plays[len(coaching) :]
    webhooks = 1
    while call.twiml.xpath("string(//Gather/@timeout)") == "1":  # still reading: several sentences a Gather
        call.silence()  # they played to their end
        webhooks += 1
        heard += call.plays
    expected = [url for s in sentences for url in audio_urls(app, s)]
    assert heard[: len(expected)] == expected
    assert webhooks <= len(sentences) // 8 + 2  # not one webhook (and a second of silence) per sentence


def _sentences(section):
    from textrules.sentences import split_sentences

    return split_sentences(section.reading_text())


def test_star_during_a_section_returns_to_the_notice_menu(app, menu):
    call = PhoneCall(app).start().press("4").press("3").press("2")
    call.press("*")
    state_menu_text = "共有4个部分"
    spoken = _said_on_call(app, call)
    assert any(state_menu_text in t for t in spoken)


def _said_on_call(app, call):
    """Texts whose audio matches the last response (search the menu's prompts for them)."""
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        texts = Menu(store.latest()).prompt_texts()
    plays = call.plays
    return [t for t in texts if audio_urls(app, t) and all(u in plays for u in audio_urls(app, t))]


def test_hash_moves_on_to_the_next_part(app, loaded_store):
    call = PhoneCall(app).start().press("4").press("1")
    call.press("#")
    order = NoticeStore(app.config["TINGWEN_DB"]).latest()[3]
    first = audio_urls(app, _sentences(order.sections[1])[0])
    assert call.plays[: len(first)] == first


def test_silence_and_invalid_keys_reprompt_then_hang_up(app):
    call = PhoneCall(app).start()
    call.silence()
    assert any("没有听到您的选择" in t for t in _said_on_call(app, call)) and not call.hung_up
    call.press("8")
    assert any(t.startswith("没有这个选项") for t in _said_on_call(app, call)) and not call.hung_up
    call.silence()
    assert call.hung_up
    assert call.twiml.xpath("/Response/Play/text()") == audio_urls(app, "感谢您的收听，再见。")
    assert not call.twiml.xpath("//Gather")


def test_audio_urls_resolve_to_8khz_wavs(app):
    call = PhoneCall(app).start()
    client = app.test_client()
    for url in call.plays:
        response = client.get(url[len(PUBLIC_URL) :])
        assert response.status_code == 200
        assert response.mimetype == "audio/wav"
        assert "max-age" in response.headers["Cache-Control"]
        header = response.data[:36]
        assert int.from_bytes(header[24:28], "little") == PHONE_RATE
        assert int.from_bytes(header[20:22], "little") == 7  # mu-law


def test_unknown_audio_is_404(app):
    client = app.test_client()
    assert client.get("/ivr/audio/" + "0" * 64 + ".ulaw.wav").status_code == 404
    assert client.get("/ivr/audio/..%2F..%2Fetc%2Fpasswd").status_code == 404
