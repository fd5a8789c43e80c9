"""Shared fixtures: the real corpus, a fresh SQLite store per test, the app factory."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.fixture
def store(tmp_path: Path):
    with NoticeStore(tmp_path / "tingwen.sqlite3") as opened:
        yield opened


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
    from speech.engine import Pyttsx3Espeak, VoiceSettings
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
