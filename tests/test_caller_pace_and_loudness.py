"""A listener asks for slower, faster, louder or softer (keys 4 6 2 8 while a notice is read, or
慢一点 / 快一点 / 大声一点 / 小声一点 at any moment): the change is confirmed in a few words and the
audio that follows is made by the voice itself at that pace and loudness: longer for the same
sentence when slower, with more energy when louder, on the phone's webhooks, its Media Streams
and the kiosk's 语音菜单 alike."""

import dataclasses
import io
import wave

import numpy as np
import pytest
from conftest import PUBLIC_URL, PhoneCall, live_app, phone_app
from twilio_stream import TwilioStream

from content.keys import IntentKind
from content.menu import Event, Intent, Menu, MenuState, Mode, Play, Say, Stop
from content.menu_state import LOUDNESS_STEPS, PACE_STEPS
from content.prompts import load_prompts
from content.store import NoticeStore
from speech.audio import Pcm, frames, level, read_ulaw_wav, ulaw_decode
from speech.utterances import AudioFormat

PROMPTS = load_prompts()


def _reading(menu):
    """A notice being read, its first sentence playing."""
    state, _ = menu.start()
    state, _ = menu.step(state, Event.press("1"))
    if state.mode is Mode.NOTICE:
        state, _ = menu.step(state, Event.press("9"))
    assert state.mode is Mode.READING
    return state


CHANGES = [  # (key while reading, intent, field, step, confirmation)
    ("4", IntentKind.SLOWER, "pace", -1, PROMPTS.slower),
    ("6", IntentKind.FASTER, "pace", +1, PROMPTS.faster),
    ("2", IntentKind.LOUDER, "loudness", +1, PROMPTS.louder),
    ("8", IntentKind.SOFTER, "loudness", -1, PROMPTS.softer),
]


@pytest.mark.parametrize("key, intent, field, step, confirmation", CHANGES, ids=[c[1].value for c in CHANGES])
def test_a_key_while_reading_changes_the_voice_and_reads_the_sentence_again(menu, key, intent, field, step, confirmation):
    before = _reading(menu)
    for event in (Event.press(key), Event.said(Intent(intent))):
        state, actions = menu.step(before, event)
        assert getattr(state, field) == step and state.mode is Mode.READING
        assert isinstance(actions[0], Stop)
        assert [a.text for a in actions if isinstance(a, Say)] == [confirmation]
        played = [a for a in actions if isinstance(a, Play)]
        assert played and played[0].sentence == before.sentence  # the sentence that was cut, again


@pytest.mark.parametrize("key, intent, field, step, confirmation", CHANGES, ids=[c[1].value for c in CHANGES])
def test_in_a_menu_only_the_voice_changes_it_and_the_keys_still_choose(menu, key, intent, field, step, confirmation):
    state, _ = menu.start()
    spoken, actions = menu.step(state, Event.said(Intent(intent)))
    assert getattr(spoken, field) == step and spoken.mode is Mode.TOP
    assert confirmation in "".join(a.text for a in actions if isinstance(a, Say))
    pressed, _ = menu.step(state, Event.press(key))
    assert (pressed.pace, pressed.loudness) == (0, 0)  # the key means what the menu of notices says
    if int(key) <= len(menu.notices):
        assert pressed.mode in (Mode.NOTICE, Mode.READING)


@pytest.mark.parametrize("key, intent, field, step, confirmation", CHANGES, ids=[c[1].value for c in CHANGES])
def test_steps_stop_at_the_end_of_their_range_and_say_so(menu, key, intent, field, step, confirmation):
    steps = PACE_STEPS if field == "pace" else LOUDNESS_STEPS
    state = _reading(menu)
    for _ in range(len(steps) + 1):
        state, actions = menu.step(state, Event.press(key))
    assert getattr(state, field) == (steps[-1] if step > 0 else steps[0])
    assert [a.text for a in actions if isinstance(a, Say)] == [getattr(PROMPTS, f"{intent.value}_limit")]


def test_the_listeners_voice_is_kept_through_the_whole_call(menu):
    state = _reading(menu)
    state, _ = menu.step(state, Event.press("4"))
    state, _ = menu.step(state, Event.press("2"))
    for key in ("*", "*", "#", "1", "9"):  # back to the notice, to the top, another page, a notice, read
        state, _ = menu.step(state, Event.press(key))
        assert (state.pace, state.loudness) == (-1, 1), key
    assert MenuState.from_json(state.to_json()) == state


@pytest.mark.parametrize("forged", [{"pace": 9}, {"pace": -3}, {"loudness": 5}, {"loudness": -2}])
def test_a_forged_pace_or_loudness_starts_the_menu_again_at_the_usual_voice(menu, forged):
    state = dataclasses.replace(_reading(menu), **forged)
    fresh, actions = menu.step(state, Event.press("0"))
    assert fresh.mode is Mode.TOP and (fresh.pace, fresh.loudness) == (0, 0)


def test_a_state_stored_before_the_voice_fields_existed_still_reads(menu):
    state = _reading(menu)
    import json

    old = {k: v for k, v in json.loads(state.to_json()).items() if k not in ("pace", "loudness")}
    assert MenuState.from_json(json.dumps(old)) == state


def test_louder_is_louder_and_never_clips():
    rate = 8000
    t = np.arange(rate) / rate
    speech = (np.sin(2 * np.pi * 220 * t) * (0.3 + 0.7 * (t % 0.25 < 0.05)) * 8000).astype(np.int16)  # loud onsets
    plain, louder, softer = (level(Pcm(speech, rate), gain).samples.astype(float) for gain in (1.0, 1.6, 1 / 1.6))
    rms = [float(np.sqrt(np.mean(x**2))) for x in (softer, plain, louder)]
    assert rms[0] < rms[1] < rms[2] and rms[2] > rms[1] * 1.25
    assert np.abs(louder).max() <= 10 ** (-1 / 20) * 32767 + 1  # under the peak ceiling


# Through the front ends, with real synthesis (espeak-ng)


def _menu(app):
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        return Menu(store.latest())


def _first_sentence(app) -> str:
    """The sentence a caller hears first when the first notice is read."""
    menu = _menu(app)
    state = _reading(menu)
    return menu.parts(menu.by_id[state.notice_id])[state.cursor].sentences[state.sentence]


def _keys_to_reading(app) -> list[str]:
    """1 opens the first notice; a notice with parts then needs 9 to be read from the start."""
    menu = _menu(app)
    state, _ = menu.start()
    state, _ = menu.step(state, Event.press("1"))
    return ["1", "9"] if state.mode is Mode.NOTICE else ["1"]


def _planned_urls(app, text, pace=0, loudness=0):
    speaker = app.extensions["tingwen.speaker"]
    rate, gain = speaker.listener_voice(pace, loudness)
    return [f"{PUBLIC_URL}/ivr/audio/{c.name}" for c in speaker.plan(text, AudioFormat.ULAW, rate=rate, gain=gain)]


def _fetch(call, urls, folder) -> np.ndarray:
    """The samples of the phone audio (8 kHz mu-law WAV) Twilio would fetch at `urls`."""
    samples = []
    for n, url in enumerate(urls):
        answer = call.client.get(url[len(PUBLIC_URL) :])
        assert answer.status_code == 200
        path = folder / f"{len(list(folder.iterdir()))}-{n}.wav"
        path.write_bytes(answer.data)
        samples.append(ulaw_decode(read_ulaw_wav(path)))
    return np.concatenate(samples).astype(float)


@pytest.fixture
def webhook_app(tmp_path):
    return phone_app(tmp_path / "data")


@pytest.mark.parametrize("key, pace, loudness", [("4", -1, 0), ("6", 1, 0), ("2", 0, 1), ("8", 0, -1)])
def test_on_the_webhooks_the_sentence_after_a_key_is_made_at_the_new_pace_and_loudness(webhook_app, key, pace, loudness, tmp_path):
    app = webhook_app
    call = PhoneCall(app).start()
    for pressed in _keys_to_reading(app):
        call.press(pressed)
    sentence = _first_sentence(app)
    usual = _planned_urls(app, sentence)
    assert set(usual) <= set(call.plays)  # the sentence is playing at the usual voice
    call.press(key)
    changed = _planned_urls(app, sentence, pace, loudness)
    assert set(changed) <= set(call.plays) and not set(usual) & set(call.plays)
    before, after = _fetch(call, usual, tmp_path), _fetch(call, changed, tmp_path)
    if pace:  # the voice's own rate: the same sentence lasts longer when slower, shorter when faster
        assert (len(after) / len(before) > 1.08) if pace < 0 else (len(after) / len(before) < 0.93)
    else:  # the same words, with more (or less) energy
        ratio = np.sqrt(np.mean(after**2)) / np.sqrt(np.mean(before**2))
        assert ratio > 1.2 if loudness > 0 else ratio < 0.8


def test_on_a_stream_the_sentence_after_slower_is_longer(tmp_path):
    app = phone_app(tmp_path / "data", phone_mode="stream")
    app.config["TINGWEN_IVR"] = dataclasses.replace(app.config["TINGWEN_IVR"], stream_lead_ms=600_000)
    port, stop = live_app(app)
    speaker = app.extensions["tingwen.speaker"]
    sentence = _first_sentence(app)

    def sentence_frames(pace):
        rate, gain = speaker.listener_voice(pace, 0)
        return [f for u in speaker.render_text(sentence, AudioFormat.ULAW, rate=rate, gain=gain) for f in frames(read_ulaw_wav(u.path))]

    call = TwilioStream(app, port, realtime=True).answer().connect()  # marks come back as the audio would have played
    try:
        call.wait_for(lambda ms: any(m["event"] == "media" for m in ms))
        keys = _keys_to_reading(app)
        for key in keys:
            call.press(key)
            call.wait_for(lambda ms, n=keys.index(key) + 1: sum(m["event"] == "clear" for m in ms) >= n)
        usual = sentence_frames(0)
        call.wait_for(lambda ms: _contains(_received_after_clear(ms, len(keys)), usual))  # heard at the usual pace
        call.press("4")
        slower = sentence_frames(-1)
        got = call.wait_for(lambda ms: _contains(_received_after_clear(ms, len(keys) + 1), slower), timeout=30)
        assert len(slower) > len(usual) * 1.08  # the same sentence, made slower by the voice itself
        assert _contains(_received_after_clear(got, len(keys) + 1), slower)
    finally:
        call.close()
        stop()


def _received_after_clear(messages, clears):
    import base64

    seen = 0
    for index, message in enumerate(messages):
        if message["event"] == "clear":
            seen += 1
            if seen == clears:
                return [base64.b64decode(m["media"]["payload"]) for m in messages[index + 1 :] if m["event"] == "media"]
    return []


def _contains(received, wanted) -> bool:
    """The frames `wanted` arrived, in order, one after another."""
    if not wanted or len(received) < len(wanted):
        return False
    first = wanted[0]
    return any(received[i : i + len(wanted)] == wanted for i, frame in enumerate(received) if frame == first)


def test_the_kiosk_voice_menu_reads_slower_after_manyidian(tmp_path):
    from server import Config, create_app

    app = create_app(Config(data_dir=tmp_path / "data", voice="espeak", prerender=False))
    client = app.test_client()
    turn = client.post("/kiosk/menu", json={}).get_json()
    for event in ({"kind": "key", "key": "1"}, {"kind": "key", "key": "9"}):
        turn = client.post("/kiosk/menu", json={"state": turn["state"], "event": event}).get_json()
        if turn["reading"]:
            break
    assert turn["reading"]
    usual = [a for a in turn["actions"] if a["type"] == "say"][-1]
    slower_turn = client.post("/kiosk/menu", json={"state": turn["state"], "event": {"kind": "intent", "intent": "slower"}}).get_json()
    said = [a for a in slower_turn["actions"] if a["type"] == "say"]
    assert said[0]["text"] == PROMPTS.slower and said[-1]["text"] == usual["text"]

    def seconds(urls):
        total = 0.0
        for url in urls:
            with wave.open(io.BytesIO(client.get(url).data)) as wav:
                total += wav.getnframes() / wav.getframerate()
        return total

    assert seconds(said[-1]["audio"]) > seconds(usual["audio"]) * 1.08
