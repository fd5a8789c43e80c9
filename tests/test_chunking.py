"""Chunks follow sentences, never cut inside brackets, decimals or 文号, and start short."""

import pytest

from speech.chunking import FIRST_LIMIT_CHARS, MAX_CHARS, chunk_text


def test_split_at_sentence_ends():
    assert chunk_text("第一句。第二句！第三句？第四句；第五句") == ["第一句。", "第二句！", "第三句？", "第四句；", "第五句"]


@pytest.mark.parametrize(
    "text, kept_whole",
    [
        ("现将《方案。试行》印发给你们。请执行。", "《方案。试行》"),
        ("他说：“保护为主。抢救第一。”然后离开。", "“保护为主。抢救第一。”"),
        ("按照（试行。暂定）办法执行。", "（试行。暂定）"),
    ],
)
def test_never_inside_brackets(text, kept_whole):
    assert any(kept_whole in chunk for chunk in chunk_text(text))


def test_caps_and_first_chunk_short(corpus_notices):
    for notice in corpus_notices:
        for section in [notice.body] + [s.reading_text() for s in notice.walk()]:
            chunks = chunk_text(section)
            if not chunks:
                continue
            assert len(chunks[0]) <= FIRST_LIMIT_CHARS
            assert all(len(c) <= MAX_CHARS for c in chunks)
            assert "".join(chunks).replace(" ", "") == section.replace("\n", "").replace(" ", "")


def test_long_sentence_cut_at_a_pause_not_in_a_number_or_doc_number():
    text = (
        "经审查同意你市报送的方案，方案文号为巴政报〔2025〕22号，预计总投资2.55亿元，"
        "涉及土地面积约为1234.56公顷，覆盖人口约十万人，请依法依规做好各项工作并及时报告进展情况。"
    )
    chunks = chunk_text(text, max_chars=30, first_max=16)
    assert "".join(chunks) == text
    joined_boundaries = [c[-1] for c in chunks[:-1]]
    assert all(mark in "，、：" for mark in joined_boundaries)
    assert any("巴政报〔2025〕22号" in c for c in chunks)
    assert any("2.55亿元" in c for c in chunks)
    assert any("1234.56公顷" in c for c in chunks)


def test_hard_cut_keeps_numbers_whole():
    text = "甲" * 25 + "20251234" + "乙" * 25
    chunks = chunk_text(text, max_chars=30, first_max=30)
    assert "".join(chunks) == text
    assert any("20251234" in c for c in chunks)


@pytest.mark.parametrize(
    "text, first",
    [
        ("您好，欢迎致电听文政府文件朗读热线。", "您好，"),  # the first pause, for audio at once
        ("经研究，现就有关事项批复如下：", "经研究，"),
        ("各盟行政公署、市人民政府，自治区各委、办、厅、局：", "各盟行政公署、"),
        ("请按一到八选择。", "请按一到八选择。"),  # short enough as it is
    ],
)
def test_the_first_chunk_ends_at_an_early_pause(text, first):
    assert chunk_text(text)[0] == first
