"""Spoken titles name each notice's real subject and document type, short enough to hear."""

import pytest
from conftest import FIXTURES

from content.ingest import SourceFormat, parse_all
from content.titles import KINDS, spoken_title

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


REAL = FIXTURES / "real"
# Real notices of other organs and years (tests/fixtures/real): before these rules the written
# titles were read in full (34 to 60 characters) and the list-page ones as 通告 or a purpose clause.
REAL_TITLES = {
    "ordos-ich-2017.txt": "关于公布第五批市级非遗名录等的通知",
    "shanghai-ich-2015.txt": "关于公布第五批上海市非遗名录等的通知",
    "shaanxi-longtan-reservoir-2010.txt": "禁止在铜川市龙潭水库工程占地和淹没区新增建设项目等的通告",
    "guangdong-ich-2007.txt": "关于公布广东省第二批省级非遗名录的通知",
    "yanan-ich-2023.txt": "关于公布第五批非遗代表性项目名录的通知",
    "chaohu-ich-2010.txt": "关于公布第三批市级非遗名录的通知",
    "state-council-jianli-city-2014.txt": "关于同意湖北省监利县撤县设市的批复",
    "jian-open-government-2003.txt": "印发吉安市市本级政务公开工作实施细则的通知",
}
LISTPAGE_TITLES = [  # listpage-reservoirs.txt, in order: no titles in the source
    "禁止在呼和浩特市红吉水库工程淹没区等的通告",
    "禁止在冠县大沙河水库工程占地和淹没区范围内新增建设项目等的通告",
    "禁止在鄂北地区水资源配置二期工程建设控制范围内新增建设项目的通告",
    "公布第四批新乡市市级非遗保护项目名录的通知",
    "关于撤销陇南地区设立地级陇南市的批复",
]


@pytest.mark.parametrize("name, expected", sorted(REAL_TITLES.items()))
def test_real_written_titles_are_shortened_to_their_subject(name, expected):
    (notice,) = parse_all([REAL / name], SourceFormat.TEXT, None)
    assert notice.spoken_title == expected
    assert len(notice.title) > len(expected)  # the full title stays for the kiosk


def test_real_list_page_notices_get_their_subject_not_their_purpose():
    found = parse_all([REAL / "listpage-reservoirs.txt"], SourceFormat.LISTPAGE, None)
    assert [n.spoken_title for n in found] == LISTPAGE_TITLES
    assert not any(t.startswith(("关于保证", "关于保障", "关于为")) for t in LISTPAGE_TITLES)


def test_no_spoken_title_anywhere_is_over_32_characters(corpus_notices):
    files = sorted(FIXTURES.rglob("*.txt")) + sorted(FIXTURES.rglob("*.html"))
    notices = corpus_notices + parse_all([f for f in files if "commands" not in f.name], SourceFormat.AUTO, None)
    assert len(notices) >= 20
    for notice in notices:
        assert 2 <= len(notice.spoken_title) <= 32, notice.spoken_title
        assert notice.spoken_title.endswith(KINDS), notice.spoken_title  # it names its type


@pytest.mark.parametrize(
    "title, expected",
    [
        # a long title: 文号 and 有关事项 dropped, the list cut, then 关于
        ("某市人民政府关于做好二〇二四年全市城乡防汛抗旱和地质灾害防治有关事项的通知（某政发〔2024〕1号）", "做好二〇二四年全市城乡防汛抗旱等的通知"),
        ("关于做好防汛有关事项的通知", "关于做好防汛有关事项的通知"),  # short enough: left as written
        ("关于公布第一批市级非物质文化遗产代表性项目名录和市级传承人名单的通知", "关于公布第一批市级非遗名录等的通知"),
        ("关于印发中华人民共和国某某条例实施办法的通知", "关于印发国家某某条例实施办法的通知"),
    ],
)
def test_shortening_rules(title, expected):
    assert spoken_title(title, "") == expected
