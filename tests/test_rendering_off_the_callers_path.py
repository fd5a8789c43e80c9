"""Synthesis never sits in a caller's path when it can be done before: webhooks and kiosk pages
answer while the voice is busy, one text is rendered once however many ask for it at once, and
prerendering runs in the background at start-up and after an ingest."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import PUBLIC_URL, PhoneCall, phone_app

from content.ingest import SourceFormat, parse_all
from content.reading import all_sentences
from content.store import NoticeStore
from speech.audio import PHONE_RATE, ulaw_payload
from speech.utterances import AudioFormat
from speech.voices import NEURAL

FIXTURES_NOTICE = "notice_plain_opinion.txt"


class HeldEngine:
    """The app's real engine behind a gate: synthesis waits until the test opens it, and every
    synthesis is counted."""

    def __init__(self, engine):
        self.inner = engine
        self.name = engine.name
        self.model_id = getattr(engine, "model_id", "")
        self.gate = threading.Event()
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def synthesize(self, pinyin, out, settings):
        with self.lock:
            self.calls.append(pinyin)
        assert self.gate.wait(60), "the test never opened the gate"
        self.inner.synthesize(pinyin, out, settings)


@pytest.fixture
def held(tmp_path):
    app = phone_app(tmp_path / "data", voice=NEURAL)
    speaker = app.extensions["tingwen.speaker"]
    speaker.engine = HeldEngine(speaker.engine)
    speaker.engine.gate.set()
    assert speaker.can_speak()  # the voice has spoken once (the probe), before the gate shuts
    speaker.engine.gate.clear()
    speaker.engine.calls.clear()
    return app, speaker.engine


def test_the_phone_is_answered_while_the_voice_is_busy(held):
    app, engine = held
    started = time.perf_counter()
    call = PhoneCall(app).start()
    assert time.perf_counter() - started < 2.0
    assert call.last.status_code == 200 and call.plays  # <Play> URLs, not a <Say> fallback
    assert not call.twiml.xpath("//Say")
    engine.gate.set()
    first = app.test_client().get(call.plays[0][len(PUBLIC_URL) :])  # made when fetched (or already)
    assert first.status_code == 200
    audio = ulaw_payload(first.data)
    assert len(audio) > PHONE_RATE  # more than a second of the greeting


def test_the_kiosk_is_answered_while_the_voice_is_busy(held):
    app, engine = held
    client = app.test_client()
    answer = client.get("/kiosk/speech/card/1?speed=normal")
    assert answer.status_code == 200
    urls = [u for s in answer.get_json()["sentences"] for u in s["audio"]]
    assert urls
    engine.gate.set()
    fetched = client.get(urls[0])
    assert fetched.status_code == 200 and fetched.data[:4] == b"RIFF"


def test_many_requests_for_one_uncached_text_render_it_once(held):
    app, engine = held
    call = PhoneCall(app).start()
    url = call.plays[0][len(PUBLIC_URL) :]
    client = app.test_client()
    with ThreadPoolExecutor(20) as pool:
        waiting = [pool.submit(client.get, url) for _ in range(20)]
        time.sleep(0.3)  # all twenty are waiting for the one render
        engine.gate.set()
        bodies = {w.result().data for w in waiting}
    assert len(bodies) == 1 and all(w.result().status_code == 200 for w in waiting)
    text = app.extensions["tingwen.speaker"].pinyin(_greeting_first_chunk(app))
    assert engine.calls.count(text) == 1


def test_concurrent_renders_in_one_speaker_make_one_synthesis(held):
    app, engine = held
    speaker = app.extensions["tingwen.speaker"]
    engine.gate.set()
    text = "自治区各委、办、厅、局，各直属单位。"
    with ThreadPoolExecutor(12) as pool:
        paths = set(pool.map(lambda fmt: speaker.render(text, fmt).path, [AudioFormat.WAV, AudioFormat.ULAW] * 6))
    assert len(paths) == 2  # one file per format
    assert engine.calls.count(speaker.pinyin(text)) == 1  # one synthesis for both formats


def test_prerender_runs_in_the_background_and_again_after_an_ingest(tmp_path, caplog):
    import logging

    from conftest import FIXTURES

    from config import DB_FILE

    caplog.set_level(logging.INFO)
    # One short notice in the store (so the bundled seven are not loaded): the first pass is quick.
    (tmp_path / "data").mkdir()
    with NoticeStore(tmp_path / "data" / DB_FILE) as store:
        store.save(parse_all([FIXTURES / "notice_with_issued_plan.txt"], SourceFormat.TEXT, None))
    app = phone_app(tmp_path / "data", prerender=True)
    job = app.extensions["tingwen.prerender"]
    job.check_seconds = 0.2
    assert PhoneCall(app).start().last.status_code == 200  # the service answers meanwhile
    assert job.done.wait(300)
    speaker = app.extensions["tingwen.speaker"]
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        first = store.latest()[0]
    menu_texts = app.extensions["tingwen.prerender"].texts()
    for text in (menu_texts[0], menu_texts[-1]):
        for fmt in AudioFormat:
            assert _ready(speaker, text, fmt)
    assert first.spoken_title in "".join(menu_texts[:40])  # prompts (with the titles) come first
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("prerender:")]
    assert any("texts ready" in m for m in progress) and any("done" in m for m in progress)

    job.done.clear()
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        store.save(parse_all([FIXTURES / FIXTURES_NOTICE], SourceFormat.TEXT, None))
    assert job.done.wait(300)
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        new = next(n for n in store.latest() if n.source and n.source.endswith(FIXTURES_NOTICE))
    sentences = all_sentences([new])
    assert sentences and set(sentences) <= set(job.texts())
    for fmt in AudioFormat:
        assert _ready(speaker, sentences[-1], fmt)


def _ready(speaker, text, fmt):
    return all(speaker.cache.path_for(p.name[: -len(fmt.suffix)], fmt.suffix).exists() for p in speaker.plan(text, fmt))


def _greeting_first_chunk(app):
    from content.menu import Menu, Say

    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        _, actions = Menu(store.latest()).start()
    text = next(a.text for a in actions if isinstance(a, Say))
    return app.extensions["tingwen.speaker"].prepare(text)[0][0]
