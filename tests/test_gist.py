"""Each notice's gist is the sentence that carries its decision or requirement, about 60
characters, or none; the phone menu and the kiosk read it right after the title."""

import pytest
from conftest import FIXTURES, PhoneCall, audio_urls, phone_app

from content.gist import find_gist
from content.ingest import SourceFormat, parse_all
from content.menu import Event, Menu, Say
from content.store import NoticeStore

REAL = FIXTURES / "real"
GISTS = {  # the corpus, then real notices of other organs and years
    "关于临河区土地征收成片开发调整方案的批复": "原则同意《巴彦淖尔市临河区土地征收成片开发调整方案》",
    "关于公布第八批非遗代表性项目的通知": "自治区人民政府决定命名蒙古族谚语等89个、95处项目为第八批",
    "森林草原防灭火命令": "严禁野外吸烟、野炊、烧纸",
    "关于印发就业促进行动实施方案的通知": "现将《内蒙古自治区就业促进行动实施方案》印发给你们",
    "关于公布第五批市级非遗名录等的通知": "市人民政府决定将鄂尔多斯长调民歌等35个项目列为第五批市级",
    "关于公布第五批上海市非遗名录等的通知": "市政府同意市文广影视局确定的第五批上海市",
    "禁止在铜川市龙潭水库工程占地和淹没区新增建设项目等的通告": "禁止在龙潭水库工程占地和淹没区实施与该工程无关的新建",
    "关于同意湖北省监利县撤县设市的批复": "同意撤销监利县，设立玉沙市。",
    "关于撤销陇南地区设立地级陇南市的批复": "同意撤销陇南地区和武都县，设立地级陇南市。",
    "禁止在冠县大沙河水库工程占地和淹没区范围内新增建设项目等的通告": "自本通告发布之日起，在冠县大沙河水库工程占地和淹没区范围内",
    "印发吉安市市本级政务公开工作实施细则的通知": "现将《吉安市市本级政务公开工作实施细则》印发给你们，请遵照执行。",
}


@pytest.fixture(scope="module")
def notices(corpus_path):
    files = [corpus_path, *sorted(REAL.glob("*.txt"))]
    return {n.spoken_title: n for n in parse_all(files, SourceFormat.AUTO, "内蒙古自治区人民政府")}


@pytest.mark.parametrize("title, start", sorted(GISTS.items()))
def test_the_gist_is_the_decision(notices, title, start):
    gist = notices[title].gist
    assert gist.startswith(start), gist
    assert gist.endswith("。") and len(gist) <= 70


def test_every_gist_is_short_and_never_a_purpose_clause(notices):
    assert len(notices) >= 20
    for notice in notices.values():
        if notice.gist:
            assert len(notice.gist) <= 70, notice.gist
            assert not notice.gist.startswith(("为", "根据", "按照")), notice.gist


@pytest.mark.parametrize(
    "texts, expected",
    [
        (["请各地区按照要求做好有关工作。"], None),  # nothing decided: no gist
        (["经研究，现批复如下：", "一、同意设立某某开发区。"], "同意设立某某开发区。"),
        (["本办法自2026年1月1日起施行。"], "本办法自2026年1月1日起施行。"),
    ],
)
def test_gist_rules(texts, expected):
    assert find_gist(texts) == expected


def test_the_phone_says_the_gist_after_the_title(tmp_path):
    app = phone_app(tmp_path / "data")
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        menu = Menu(store.latest())
    order = next(n for n in menu.notices if n.spoken_title == "通辽市科尔沁区土地征收成片开发方案的批复")
    number = menu.notices.index(order) + 1
    _, actions = menu.step(menu.start()[0], Event.press(str(number)))
    said = "".join(a.text for a in actions if isinstance(a, Say))
    assert said.index("通辽市科尔沁区") < said.index("要点：原则同意《通辽市科尔沁区土地征收成片开发方案》")
    call = PhoneCall(app).start().press(str(number))
    assert set(audio_urls(app, next(a.text for a in actions if isinstance(a, Say)))) <= set(call.plays)


def test_the_kiosk_shows_and_reads_the_gist(tmp_path):
    app = phone_app(tmp_path / "data")
    client = app.test_client()
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        order = next(n for n in store.latest() if n.spoken_title == "包头市东河区土地征收成片开发方案的批复")
    page = client.get(f"/notice/{order.id}").get_data(as_text=True)
    assert '<p class="gist"><span class="sentence" data-i="1">要点：原则同意《包头市东河区土地征收成片开发方案》' in page
    spoken = [s["text"] for s in client.get(f"/kiosk/speech/intro/{order.id}").get_json()["sentences"]]
    assert spoken[1].startswith("要点：原则同意")


def test_the_kiosk_shows_the_full_title_and_the_menu_the_short_one(tmp_path):
    app = phone_app(tmp_path / "data")
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        store.save(parse_all([REAL / "ordos-ich-2017.txt"], SourceFormat.TEXT, None))
        ordos = next(n for n in store.latest() if n.doc_number == "鄂府发〔2017〕142号")
    page = app.test_client().get(f"/notice/{ordos.id}").get_data(as_text=True)
    assert f'<span class="sentence" data-i="0">{ordos.title}</span>' in page
    assert len(ordos.title) > 60 and ordos.spoken_title == "关于公布第五批市级非遗名录等的通知"
