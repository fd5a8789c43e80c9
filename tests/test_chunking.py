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


TITLES = [  # notice titles as the menu reads them: long, no pause, the first thing heard after a key
    "内蒙古自治区人民政府办公厅关于印发自治区深化医药卫生体制改革2025年重点工作任务的通知。",
    "鄂尔多斯市人民政府关于调整城乡居民基本医疗保险缴费标准的公告",
    "关于做好2025年普通高等学校毕业生就业创业工作的通知。",
    "呼和浩特市赛罕区人民政府关于征收集体土地的补偿安置方案公告",
    "锡林郭勒盟行政公署关于公布第三批盟级非物质文化遗产代表性项目名录的通知",
    "关于印发遏制与防治艾滋病规划的通知。",
    "2025年全区春季农业生产工作要点",
]


@pytest.mark.parametrize("title", TITLES)
def test_a_long_first_sentence_is_cut_short_between_two_words(title):
    from speech.chunking import FIRST_MAX_CHARS, FIRST_MIN_CHARS, REST_MIN_CHARS
    from speech.words import word_ends

    chunks = chunk_text(title)
    first = chunks[0]
    assert FIRST_MIN_CHARS <= len(first) <= FIRST_MAX_CHARS
    assert len(first) in word_ends(title)  # the end of a word of the whole title, never inside one
    assert not (first[-1].isdigit() or title[len(first)].isdigit())  # 2025|年 would be read as a number
    assert sum(ch.isalnum() for ch in title[len(first) :]) >= REST_MIN_CHARS
    assert "".join(chunks) == title


@pytest.mark.parametrize(
    "text",
    [
        "1.加大健康知识普及力度。",  # short enough to be said whole
        "关于公布第八批代表性项目的通知。",
        "经研究，现就有关事项批复如下：",  # a pause comes first
    ],
)
def test_a_short_or_paused_sentence_is_not_cut_at_a_word(text):
    from speech.chunking import ends_mid_sentence

    assert not ends_mid_sentence(chunk_text(text)[0])


def test_no_chunk_is_only_a_mark():
    title = "关于临河区土地征收成片开发调整方案的批复。"  # 20 characters, then the 「。」 a hard cut left alone
    for text in (title, "甲" * 20 + "。", "甲" * 60 + "。"):
        chunks = chunk_text(text)
        assert all(any(ch.isalnum() for ch in chunk) for chunk in chunks), chunks
        assert "".join(chunks) == text


def test_a_chunk_cut_at_a_word_is_followed_by_a_breath_not_a_sentence_pause(speaker_factory):
    from speech.speaker import BREATH_PAUSE_MS, SECTION_PAUSE_MS, SENTENCE_PAUSE_MS

    recipes = speaker_factory().recipes("鄂尔多斯市人民政府关于调整城乡居民基本医疗保险缴费标准的公告。请周知。")
    assert [r.pause_ms for r in recipes] == [BREATH_PAUSE_MS, SENTENCE_PAUSE_MS, SECTION_PAUSE_MS]
    assert BREATH_PAUSE_MS < SENTENCE_PAUSE_MS


SAME_SENTENCES = [
    "「好。」他说。",
    "他说：“好。”然后走了。",
    "《关于做好就业工作的通知》（内政发〔2025〕22号）已印发。请遵照执行！",
    "一是加强领导；二是落实责任。",
    "（一）总体要求。深入贯彻落实。",
    "『甲。』乙。",
    "没有句号的一句话",
]


@pytest.mark.parametrize("text", SAME_SENTENCES)
def test_a_notice_and_its_chunks_end_sentences_in_the_same_places(text):
    """A notice's sentences (content.reading) and the speech side's chunks are cut by one rule:
    every chunk lies inside one sentence, and every sentence ends where a chunk ends."""
    from content.model import Notice
    from content.reading import segments

    sentences = segments(Notice(title="t", spoken_title="t", body=text))[0].sentences
    assert "".join(sentences) == text

    def ends(pieces):
        return {sum(len(p) for p in pieces[: i + 1]) for i in range(len(pieces))}

    chunks = chunk_text(text)
    assert "".join(chunks) == text
    assert ends(sentences) <= ends(chunks)  # no chunk runs across a sentence's end
