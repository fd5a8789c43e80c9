"""Spoken titles name each notice's real subject and document type, short enough to hear."""

import pytest

from content.titles import spoken_title

CORPUS_TITLES = [
    "关于临河区土地征收成片开发调整方案的批复",
    "关于公布第八批非遗代表性项目的通知",
    "通辽市科尔沁区土地征收成片开发方案的批复",
    "森林草原防灭火命令",
    "包头市东河区土地征收成片开发方案的批复",
    "关于印发遏制与防治艾滋病规划的通知",
    "关于印发就业促进行动实施方案的通知",
]


@pytest.mark.parametrize("index, expected", list(enumerate(CORPUS_TITLES)))
def test_corpus_spoken_titles(corpus_notices, index, expected):
    assert corpus_notices[index].spoken_title == expected


def test_spoken_titles_are_short_and_clean(corpus_notices):
    for notice in corpus_notices:
        title = notice.spoken_title
        assert len(title) <= 24, title
        assert not any(mark in title for mark in "《》()（）〔〕")
        assert not title.startswith("内蒙古自治区人民政府")


@pytest.mark.parametrize(
    "title, body, issuer, expected",
    [
        # issuing organ and 文号 dropped from a written title
        ("内蒙古自治区人民政府关于做好养老服务工作的通知（内政发〔2025〕3号）", "", None, "关于做好养老服务工作的通知"),
        ("内蒙古自治区人民政府办公厅关于印发补贴办法的通知", "", None, "关于印发补贴办法的通知"),
        ("内蒙古自治区人民政府森林草原防火命令", "", "内蒙古自治区人民政府", "森林草原防火命令"),
        # derived from the body's set phrases when there is no title
        (None, "你市《关于某某事项的请示》收悉。现批复如下：同意。", None, "关于某某事项的批复"),
        (None, "现将《供暖保障办法》印发给你们，请遵照执行。", None, "关于印发供暖保障办法的通知"),
        (None, "自治区人民政府决定命名甲等5个项目为第一批示范项目，现予公布。", None, "关于公布第一批示范项目的通知"),
        (None, "为加强冬季道路安全管理，保障群众出行，现将有关事项通告如下：", None, "关于加强冬季道路安全管理的通告"),
        (None, "为做好春节期间值班工作，特此通知。", None, "关于做好春节期间值班工作的通知"),
    ],
)
def test_spoken_title_rules(title, body, issuer, expected):
    assert spoken_title(title, body, issuer) == expected
