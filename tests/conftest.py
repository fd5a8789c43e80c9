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
