"""Search finds notices by title and body words, including 2-character Chinese words."""

import pytest
from conftest import FIXTURES

from content.ingest import ingest


@pytest.fixture
def searchable(store, corpus_path):
    ingest(store, [corpus_path, FIXTURES])
    return store


@pytest.mark.parametrize(
    "query, expected_title",
    [
        ("就业", "关于印发就业促进行动实施方案的通知"),
        ("艾滋病", "关于印发遏制与防治艾滋病规划的通知"),
        ("森林草原防火", "森林草原防灭火命令"),
        ("养老", "关于印发养老服务补贴发放管理办法的通知"),
        ("补贴", "关于印发养老服务补贴发放管理办法的通知"),
        ("饮水安全", "关于加强农村牧区饮水安全工作的通知"),
        ("第八批 非物质文化遗产", "关于公布第八批非遗代表性项目的通知"),
        ("上海市 非物质文化遗产", "关于公布第五批上海市非遗名录等的通知"),
        ("科尔沁 土地征收", "通辽市科尔沁区土地征收成片开发方案的批复"),
    ],
)
def test_best_match_first(searchable, query, expected_title):
    hits = searchable.search(query)
    assert hits, query
    assert hits[0].notice.spoken_title == expected_title
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_every_hit_contains_every_word(searchable):
    for hit in searchable.search("土地 征收"):
        assert "土地" in hit.notice.full_text() and "征收" in hit.notice.full_text()
    assert len(searchable.search("土地 征收")) == 3


@pytest.mark.parametrize("query", ["量子计算", "火星", "", "   ", '"引号"'])
def test_no_match_is_empty(searchable, query):
    assert searchable.search(query) == []


@pytest.mark.parametrize("query", ["就业%", "%%%", "___", "就_", "\\\\就业", "100%的"])
def test_wildcard_characters_are_plain_text(searchable, query):
    assert searchable.search(query) == []
