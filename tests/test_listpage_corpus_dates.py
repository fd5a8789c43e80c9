"""The list-page dump yields seven notices with the right dates, and no notice made of page furniture."""

from datetime import date

import pytest

# (publication date, signing date, words the body must contain)
EXPECTED = [
    (date(2025, 4, 9), date(2025, 3, 17), "临河区土地征收成片开发调整方案"),
    (date(2025, 3, 10), date(2025, 3, 6), "非物质文化遗产"),
    (date(2025, 3, 7), date(2025, 3, 5), "科尔沁区"),
    (date(2025, 3, 3), date(2025, 2, 27), "发布如下命令"),
    (date(2025, 2, 28), date(2025, 2, 25), "东河区"),
    (date(2025, 2, 24), date(2025, 2, 20), "艾滋病"),
    (date(2025, 2, 19), date(2025, 2, 13), "就业促进行动实施方案"),
]


def test_seven_notices(corpus_notices):
    assert len(corpus_notices) == 7


@pytest.mark.parametrize("index, expected", list(enumerate(EXPECTED)))
def test_dates_and_subject(corpus_notices, index, expected):
    published, signed, words = expected
    notice = corpus_notices[index]
    assert notice.published_date == published
    assert notice.signed_date == signed
    assert words in notice.full_text()


def test_preamble_is_not_a_notice(corpus_notices):
    for notice in corpus_notices:
        assert "朗读按钮" not in notice.full_text()
        assert "取消朗读" not in notice.full_text()
    assert corpus_notices[0].addressee == "巴彦淖尔市人民政府"


def test_annotations_and_addressees(corpus_notices):
    assert [n.annotation for n in corpus_notices].count("(此件公开发布)") == 6
    assert corpus_notices[6].annotation == "(本文有删减)"
    assert corpus_notices[3].addressee.startswith("各盟行政公署、市人民政府,各旗县人民政府")


def test_cited_document_numbers_are_not_the_notice_number(corpus_notices):
    # 巴政报〔2025〕22号 is the number of the 请示 being answered, not of the 批复 itself.
    assert [n.doc_number for n in corpus_notices] == [None] * 7
