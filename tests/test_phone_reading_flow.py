"""Webhook reading flows: several sentences play in one Gather (no second of silence after each),
and a key acts on the sentence that was playing when it was pressed."""

import pytest
from conftest import PUBLIC_URL, PhoneCall, audio_urls, phone_app

import ivr.reading
from content.prompts import load_prompts
from content.menu import MenuState, Mode
from content.store import NoticeStore
from textrules.sentences import split_sentences
from ivr.callstore import CallStore
from speech.utterances import AudioFormat


@pytest.fixture
def app(tmp_path):
    return phone_app(tmp_path / "data")


def _section_sentences(app, notice_index=3, section=1):
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        notice = store.latest()[notice_index]
    return split_sentences(notice.sections[section - 1].reading_text())


def _start_reading(app):
    call = PhoneCall(app).start().press("4").press("1")
    client = app.test_client()
    for url in call.plays:  # Twilio fetches (and plays) every sentence's audio
        assert client.get(url[len(PUBLIC_URL) :]).status_code == 200
    return call


def test_a_section_is_read_in_one_gather(app):
    call = _start_reading(app)
    sentences = _section_sentences(app)
    expected = [u for s in sentences for u in audio_urls(app, s)]
    gather = call.twiml.xpath("/Response/Gather")[0]
    assert gather.get("timeout") == "1"
    plays = gather.xpath("Play/text()")
    assert plays[-len(expected) :] == expected  # after the coaching prompt, every sentence, in order


@pytest.mark.parametrize("listened", [0, 1, 2, 3])
def test_a_key_acts_on_the_sentence_that_was_playing(app, monkeypatch, listened):
    call = _start_reading(app)
    speaker = app.extensions["tingwen.speaker"]
    sentences = _section_sentences(app)
    coaching = load_prompts().reading_start
    sent = ivr.reading.now()
    played = speaker.seconds(coaching, AudioFormat.ULAW) + sum(speaker.seconds(s, AudioFormat.ULAW) for s in sentences[:listened])
    monkeypatch.setattr(ivr.reading, "now", lambda: sent + ivr.reading.REACTION_SECONDS + played + 0.5)
    call.press("0")  # repeat: the sentence playing now
    repeated = audio_urls(app, sentences[listened])
    assert call.plays[: len(repeated)] == repeated


def test_star_during_a_batch_goes_back_to_the_notice_menu(app):
    call = _start_reading(app)
    call.press("*")
    calls = CallStore.open(app.config["TINGWEN_IVR"])
    state = MenuState.from_json(calls.get(call.sid).state)
    calls.close()
    assert state.mode is Mode.NOTICE
    assert call.twiml.xpath("string(//Gather/@timeout)") != "1"


def test_one_sentence_a_gather_when_the_batch_is_one(tmp_path):
    app = phone_app(tmp_path / "data", reading_batch=1)
    call = PhoneCall(app).start().press("4").press("1")
    sentences = _section_sentences(app)
    assert call.plays[-len(audio_urls(app, sentences[0])) :] == audio_urls(app, sentences[0])
    call.silence()
    assert call.plays == audio_urls(app, sentences[1])
