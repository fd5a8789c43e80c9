"""The first sound at once on a cold cache: a streaming turn plays its first chunk while the rest
are made (real neural voice, real WebSocket), a clear drops what was still to be made, the first
chunk a listener waits for is made before chunks others planned earlier, and audio behind a name
already handed out is made again when its file is damaged or gone."""

import dataclasses
import threading
import time

import pytest
from conftest import PUBLIC_URL, PhoneCall, live_app, phone_app
from twilio_stream import TwilioStream

from content.menu import Event, Play, Say
from speech.cache import AudioCache
from speech.engine import VoiceSettings
from speech.speaker import Speaker
from speech.utterances import AudioFormat
from speech.voices import NEURAL, choose_voice


class SlowedEngine:
    """The real engine, each synthesis held back a little (a busy machine), with the pinyin and
    the time each one finished: what a test compares the first frame against."""

    def __init__(self, engine, delay=0.25):
        self.engine, self.delay = engine, delay
        self.name, self.model_id = engine.name, getattr(engine, "model_id", "")
        self.places = getattr(engine, "places", 1)
        self.done: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def synthesize(self, pinyin, out, settings):
        self.engine.synthesize(pinyin, out, settings)
        time.sleep(self.delay)
        with self.lock:
            self.done.append((time.monotonic(), pinyin))

    def finished_before(self, moment):
        with self.lock:
            return [p for t, p in self.done if t <= moment]


@pytest.fixture
def neural_stream(tmp_path):
    app = phone_app(tmp_path / "data", phone_mode="stream", voice=NEURAL)
    settings = app.config["TINGWEN_IVR"]
    app.config["TINGWEN_IVR"] = dataclasses.replace(settings, stream_lead_ms=600_000)  # no waiting for real time
    speaker = app.extensions["tingwen.speaker"]
    assert speaker.engine.name == NEURAL
    speaker.engine = SlowedEngine(speaker.engine)
    port, stop = live_app(app)
    yield app, port, speaker
    stop()


def _turn_texts(app, keys):
    from test_phone_stream import _menu

    menu = _menu(app)
    state, actions = menu.start()
    for key in keys:
        state, actions = menu.step(state, Event.press(key))
    return [a.text for a in actions if isinstance(a, (Say, Play))]


def _recipes(speaker, texts):
    return [r for t in texts for r in speaker.recipes(t)]


def _first_media_after(call, moment, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with call.lock:
            found = [t for t, m in call.messages if m["event"] == "media" and t > moment]
        if found:
            return found[0]
        time.sleep(0.005)
    raise AssertionError("no audio came")


def _connected(app, port):
    """A streaming call answered and its socket opened; (the call, when it started)."""
    call = TwilioStream(app, port).answer()
    began = time.monotonic()
    call.connect()
    return call, began


def _marks_after(call, moment):
    with call.lock:
        return [m for t, m in call.messages if m["event"] == "mark" and t > moment]


def test_a_stream_turn_sends_its_first_chunk_before_its_last_is_made(neural_stream):
    app, port, speaker = neural_stream
    engine = speaker.engine
    call, began = _connected(app, port)
    try:
        greeting = _recipes(speaker, _turn_texts(app, []))
        assert len(greeting) >= 3
        first = _first_media_after(call, began)
        assert len(engine.finished_before(first)) < len(greeting)  # the rest is still being made
        call.wait_for(lambda messages: len(_marks_after(call, began)) >= len(greeting), timeout=120)

        pressed = time.monotonic()
        call.press("4")
        intro = _recipes(speaker, _turn_texts(app, ["4"]))
        assert len(intro) >= 3
        first = _first_media_after(call, pressed)
        made = [p for p in engine.finished_before(first) if p in {r.pinyin for r in intro}]
        assert len(made) < len(intro), "the turn waited for its last chunk before sending its first"
        call.wait_for(lambda messages: len(_marks_after(call, pressed)) >= len(intro), timeout=120)
        heard = [m["mark"]["name"] for m in _marks_after(call, pressed)]
        assert heard == sorted(heard, key=lambda name: int(name.rsplit("-", 1)[1]))  # in reading order
    finally:
        call.close()


def test_a_clear_drops_what_was_still_to_be_made(neural_stream):
    app, port, speaker = neural_stream
    engine = speaker.engine
    call, began = _connected(app, port)
    try:
        _first_media_after(call, began)
        call.press("*")  # cancel the greeting as soon as it is heard
        call.wait_for(lambda messages: any(m["event"] == "clear" for m in messages), timeout=30)
        time.sleep(2.0)  # long enough for the whole greeting to have been made, had it gone on
        greeting = _recipes(speaker, _turn_texts(app, []))
        made = {p for _, p in engine.done}
        assert greeting[-1].pinyin not in made  # its last chunk was never synthesised
    finally:
        call.close()


def test_the_first_chunk_a_listener_waits_for_goes_before_chunks_planned_earlier(tmp_path):
    choice = choose_voice(NEURAL, VoiceSettings())
    engine = SlowedEngine(choice.engine, delay=0.3)
    engine.places = 1  # one renderer: the order is the queue's
    speaker = Speaker(AudioCache(tmp_path / "audio"), VoiceSettings(), engine=engine)
    assert speaker.can_speak()  # its probe is made now, not among the chunks below
    engine.done.clear()
    long_text = "各盟行政公署、市人民政府，自治区各委、办、厅、局。现将有关事项通知如下。请认真贯彻执行。各地要加强组织领导。"
    other = "您好，这里是听文。"
    earlier = speaker.plan(long_text, AudioFormat.ULAW)
    time.sleep(0.05)  # the renderer has taken the first chunk of the earlier text
    later = speaker.plan(other, AudioFormat.ULAW)
    assert speaker.wait_ahead(120)
    order = [p for _, p in engine.done]
    assert order[:2] == [earlier[0].recipe.pinyin, later[0].recipe.pinyin]
    assert order[2:] == [p.recipe.pinyin for p in earlier[1:]]


def _damage(folder, how):
    damaged = 0
    for path in folder.rglob("*.wav"):
        if how == "garbage":  # the same length, written in place
            size = path.stat().st_size
            with open(path, "r+b") as handle:
                handle.write(bytes([0x5A]) * size)
        elif how == "truncated":
            path.write_bytes(path.read_bytes()[:30])
        else:
            path.unlink()
        damaged += 1
    return damaged


def _played(call):
    """The audio paths the call's TwiML names (as the test client fetches them)."""
    return [url.replace(PUBLIC_URL, "") for url in call.twiml.xpath("//Play/text()")]


@pytest.mark.parametrize("how", ["garbage", "truncated", "removed"])
def test_damaged_audio_behind_a_handed_out_name_is_made_again(tmp_path, how):
    app = phone_app(tmp_path / "data")
    client = app.test_client()
    call = PhoneCall(app)
    call.start()
    urls = _played(call)
    assert len(urls) >= 3
    for url in urls:
        assert client.get(url).status_code == 200
    speaker = app.extensions["tingwen.speaker"]
    assert speaker.wait_ahead(60)
    assert _damage(speaker.cache.folder, how) >= len(urls)

    again = PhoneCall(app, sid="CA0123456789abcdef0123456789abcde2")
    again.start()
    for url in _played(again) + urls:  # this call's names and the ones handed out before
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.data[:4] == b"RIFF" and len(answer.data) > 1000


def test_damaged_kiosk_audio_is_made_again(tmp_path):
    app = phone_app(tmp_path / "data")
    client = app.test_client()
    turn = client.post("/kiosk/menu", json={}).get_json()
    urls = [u for a in turn["actions"] if a["type"] == "say" for u in a["audio"]]
    assert urls and all(client.get(u).status_code == 200 for u in urls)
    app.extensions["tingwen.speaker"].wait_ahead(60)
    _damage(app.extensions["tingwen.speaker"].cache.folder, "garbage")
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200 and answer.data[:4] == b"RIFF", url


def test_a_hung_up_call_stops_making_its_turn(neural_stream):
    app, port, speaker = neural_stream
    engine = speaker.engine
    call, began = _connected(app, port)
    _first_media_after(call, began)
    call.send({"event": "stop", "streamSid": call.stream_sid})  # the caller hangs up during the greeting
    call.close()
    time.sleep(2.0)  # long enough for the whole greeting to have been made, had it gone on
    greeting = _recipes(speaker, _turn_texts(app, []))
    assert greeting[-1].pinyin not in {p for _, p in engine.done}


def test_a_turn_is_made_only_so_far_ahead_of_the_caller():
    """The voice is shared by every call: a long turn is made a few seconds ahead of what is
    sent, not all at once."""
    from ivr.stream_audio import Sender, TurnRenderer
    from speech.utterances import Recipe

    sent = []
    sender = Sender(sent.append, lead_ms=1000)
    sender.start("MZ1")
    made = []

    class Quick:
        def render_recipe(self, recipe, fmt, first=False):
            made.append(recipe)
            raise RuntimeError("no audio needed here")  # the renderer then queues the mark alone

    renderer = TurnRenderer(Quick(), sender, lambda: "CA1")
    original = sender.queued_ms
    sender.queued_ms = lambda: 60_000  # a minute of audio already waiting to be sent
    turn = [Recipe(f"第{i}句。", f"第{i}句。", "di4 ju4.", 250, 130) for i in range(10)]
    renderer.play([(recipe, f"t1-{i}") for i, recipe in enumerate(turn)])
    time.sleep(0.5)
    assert made == turn[:1]  # the first at once, then it waits for the caller to catch up
    sender.queued_ms = original
    deadline = time.monotonic() + 5
    while len(made) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    renderer.close()
    sender.close()
    assert len(made) == 10


def test_a_new_turn_never_waits_behind_a_chunk_of_the_cleared_one(neural_stream):
    app, port, speaker = neural_stream
    engine = speaker.engine
    greeting = _recipes(speaker, _turn_texts(app, []))
    slow = {r.pinyin for r in greeting[1:]}
    synthesize = engine.synthesize

    def held_back(pinyin, out, settings):  # the greeting's later chunks take long (a busy voice)
        synthesize(pinyin, out, settings)
        if pinyin in slow:
            time.sleep(3.0)

    engine.synthesize = held_back
    engine.delay = 0.0
    call, began = _connected(app, port)
    try:
        _first_media_after(call, began)
        time.sleep(0.2)  # the greeting's second chunk is being made now
        pressed = time.monotonic()
        call.press("4")
        call.wait_for(lambda messages: any(m["event"] == "clear" for m in messages), timeout=30)
        first = _first_media_after(call, pressed)
        assert first - pressed < 2.5  # the notice's first chunk did not wait the 3 s behind the old one
    finally:
        call.close()
