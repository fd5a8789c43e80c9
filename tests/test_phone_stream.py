"""The streaming phone line: scripted calls over a real WebSocket speaking Twilio's Media Streams
protocol, with DTMF, spoken commands (Korean test model and vocabulary) and barge-in."""

import base64
import dataclasses

import numpy as np
import pytest
import soxr
from conftest import FIXTURES, live_app, phone_app
from twilio_stream import TwilioStream

from content.menu import Menu, Play, Say
from content.store import NoticeStore
from ivr.callstore import CallStore
from speech.audio import frames, read_ulaw_wav, ulaw_decode, ulaw_encode
from speech.utterances import AudioFormat


@pytest.fixture
def stream_app(tmp_path, korean_model):
    app = phone_app(
        tmp_path / "data", phone_mode="stream", vosk_model=str(korean_model.path), commands_file=str(FIXTURES / "commands_ko.toml")
    )
    settings = app.config["TINGWEN_IVR"]
    app.config["TINGWEN_IVR"] = dataclasses.replace(settings, stream_lead_ms=600_000)  # tests need not wait for real time
    assert app.extensions["tingwen.speech_model"].checked.wait(60)
    port, stop = live_app(app)
    yield app, port
    stop()


def _media(messages):
    return [base64.b64decode(m["media"]["payload"]) for m in messages if m["event"] == "media"]


def _after_last_clear(messages):
    index = max((i for i, m in enumerate(messages) if m["event"] == "clear"), default=-1)
    return messages[index + 1 :]


def _expected_audio(app, texts):
    speaker = app.extensions["tingwen.speaker"]
    return [f for t in texts for u in speaker.render_text(t, AudioFormat.ULAW) for f in frames(read_ulaw_wav(u.path))]


def _menu(app):
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        return Menu(store.latest(), vocabulary=app.config["TINGWEN_VOCABULARY"])


def _marks_done(messages):
    return any(m["event"] == "mark" for m in messages)


def test_voice_answers_with_connect_stream_and_a_one_time_token(stream_app):
    app, port = stream_app
    call = TwilioStream(app, port).answer()
    assert call.url == "wss://ivr.example.gov.cn/ivr/stream"
    assert len(call.token) > 20
    assert call.phone.twiml.xpath("/Response/Hangup")  # when our socket closes, the call ends


def _chunks(app, texts):
    speaker = app.extensions["tingwen.speaker"]
    return sum(1 for t in texts for _ in speaker.render_text(t, AudioFormat.ULAW))


def _turn_heard(clears, chunks):
    """After the `clears`-th clear, all `chunks` of the new turn have been sent (their marks)."""

    def done(messages):
        if sum(m["event"] == "clear" for m in messages) < clears:
            return False
        return sum(m["event"] == "mark" for m in _after_last_clear(messages)) >= chunks

    return done


def _texts(actions, kinds=(Say, Play)):
    return [a.text for a in actions if isinstance(a, kinds)]


def test_dtmf_reaches_a_section_and_its_audio_frames(stream_app):
    app, port = stream_app
    menu = _menu(app)
    call = TwilioStream(app, port).answer().connect()
    try:
        greeting = call.wait_for(_turn_heard(0, _chunks(app, _texts(menu.start()[1]))))
        assert all(len(f) == 160 for f in _media(greeting))
        call.press("4")
        call.wait_for(_turn_heard(1, _chunks(app, _texts(_actions_after(menu, ["4"])))))
        call.press("1")
        texts = _texts(_actions_after(menu, ["4", "1"]))
        messages = call.wait_for(_turn_heard(2, _chunks(app, texts)))
        expected = _expected_audio(app, texts)
        received = _media(_after_last_clear(messages))
        assert received == expected  # valid 160-byte mu-law frames of exactly that audio, in order
        section = _expected_audio(app, _texts(_actions_after(menu, ["4", "1"]), Play))
        assert np.abs(ulaw_decode(b"".join(section)).astype(int)).max() > 1000  # real speech
    finally:
        call.close()


def _actions_after(menu, keys):
    from content.menu import Event

    state, actions = menu.start()
    for key in keys:
        state, actions = menu.step(state, Event.press(key))
    return actions


def test_star_during_reading_clears_and_no_more_section_audio(stream_app):
    app, port = stream_app
    call = TwilioStream(app, port).answer().connect()
    try:
        menu = _menu(app)
        call.wait_for(_marks_done)
        call.press("4")
        call.press("1")
        call.wait_for(lambda ms: sum(m["event"] == "clear" for m in ms) >= 2 and any(m["event"] == "media" for m in _after_last_clear(ms)))
        call.press("*")
        back = _texts(_actions_after(menu, ["4", "1", "*"]))
        messages = call.wait_for(_turn_heard(3, _chunks(app, back)))
        after = _media(_after_last_clear(messages))
        section = _expected_audio(app, _texts(_actions_after(menu, ["4", "1"]), Play))
        assert after == _expected_audio(app, back)  # the notice's menu, and only it
        assert not set(after) & (set(section) - set(_expected_audio(app, back)))
    finally:
        call.close()


def _korean_phone_audio(korean_speech, word):
    pcm, rate = korean_speech(word)
    samples = np.frombuffer(b"\0\0" * (rate // 4) + pcm + b"\0\0" * rate, dtype="<i2").astype(np.float32)
    return ulaw_encode(soxr.resample(samples, rate, 8000).astype("<i2"))


def test_a_spoken_command_stops_the_reading(stream_app, korean_speech):
    app, port = stream_app
    menu = _menu(app)
    call = TwilioStream(app, port, realtime=True).answer().connect()  # audio "plays" in real time
    try:
        call.press("4")
        call.wait_for(lambda ms: sum(m["event"] == "clear" for m in ms) >= 1)
        call.press("1")
        call.wait_for(lambda ms: sum(m["event"] == "clear" for m in ms) >= 2 and _media(_after_last_clear(ms)))
        call.speak(_korean_phone_audio(korean_speech, "멈춤"))  # 멈춤 = cancel in the test vocabulary, said mid-sentence
        back = _texts(_actions_after(menu, ["4", "1", "*"]))
        messages = call.wait_for(lambda ms: sum(m["event"] == "clear" for m in ms) >= 3, timeout=15)
        after = call.wait_for(lambda ms: len(_media(_after_last_clear(ms))) >= 50)
        assert _media(_after_last_clear(after))[:50] == _expected_audio(app, back)[:50]  # the notice's menu again
        assert sum(m["event"] == "clear" for m in messages) == 3
    finally:
        call.close()


def test_a_bad_token_is_refused(stream_app):
    app, port = stream_app
    call = TwilioStream(app, port).answer().connect(token="not-the-token")
    try:
        messages = call.wait_for(lambda ms: any(m["event"] == "closed" for m in ms))
        assert not _media(messages)
    finally:
        call.close()


def test_an_unsigned_upgrade_is_refused(stream_app):
    import simple_websocket

    app, port = stream_app
    call = TwilioStream(app, port).answer()
    with pytest.raises(simple_websocket.ConnectionError):
        call.connect(signed=False)


def test_garbage_is_ignored_and_the_call_goes_on(stream_app):
    app, port = stream_app
    call = TwilioStream(app, port).answer().connect()
    try:
        call.wait_for(_marks_done)
        call.send(b"\x00\x01binary")
        call.send("{not json")
        call.send({"event": "nonsense", "streamSid": call.stream_sid})
        call.send({"event": "dtmf", "streamSid": "MZsomeoneelse", "dtmf": {"digit": "4"}})
        call.press("4")
        messages = call.wait_for(lambda ms: sum(m["event"] == "clear" for m in ms) >= 1 and _marks_done(_after_last_clear(ms)))
        assert sum(m["event"] == "clear" for m in messages) == 1  # only our own stream's 4 acted
    finally:
        call.close()


def test_a_dropped_socket_closes_the_call_record(stream_app):
    app, port = stream_app
    call = TwilioStream(app, port).answer().connect()
    call.wait_for(_marks_done)
    call.close()
    settings = app.config["TINGWEN_IVR"]
    store = CallStore.open(settings)
    import time

    for _ in range(200):
        row = store.db.execute("SELECT status FROM calls WHERE sid = ?", [call.sid]).fetchone()
        if row[0]:
            break
        time.sleep(0.05)
    assert row[0] in ("dropped", "completed")


def test_too_many_misses_say_goodbye_then_close_the_socket(stream_app):
    app, port = stream_app
    call = TwilioStream(app, port).answer().connect()
    try:
        call.wait_for(_marks_done)
        for key in ("8", "8", "8"):  # there is no item 8 among seven notices
            call.press(key)
        messages = call.wait_for(lambda ms: any(m["event"] == "closed" for m in ms))
        goodbye = _expected_audio(app, ["感谢您的收听，再见。"])
        assert _media(_after_last_clear(messages))[-len(goodbye) :] == goodbye
    finally:
        call.close()
    settings = app.config["TINGWEN_IVR"]
    store = CallStore.open(settings)
    assert store.db.execute("SELECT status FROM calls WHERE sid = ?", [call.sid]).fetchone()[0] == "completed"
