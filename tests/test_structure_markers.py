"""Which marks in running text open sections, and how headings are separated from bodies."""

import pytest

from content.structure import parse_sections


def _outline(sections):
    return [(s.marker, s.heading, [c.marker for c in s.children]) for s in sections]


@pytest.mark.parametrize(
    "text, preamble_contains",
    [
        # inline lists are not headings
        ("工作要求：一是加强领导，二是落实责任，三是强化督查。", "一是加强领导"),
        ("第一，提高认识；第二，加强协作。", "第一，提高认识"),
        ("坚持保护为主、抢救第一、合理利用的方针。", "抢救第一、合理利用"),
        # decimals and cited years are not headings
        ("失业率控制在5.5%左右，资金按2.5亿元安排。", "5.5%"),
        ("依据《某某方案(2025年)》执行。", "(2025年)"),
    ],
)
def test_not_headings(text, preamble_contains):
    preamble, sections = parse_sections(text)
    assert sections == []
    assert preamble_contains in preamble


@pytest.mark.parametrize(
    "text, outline",
    [
        # full-width and half-width brackets, and a heading on its own line
        (
            "前言。\n一、总体要求\n坚持稳中求进。\n二、主要任务\n（一）加强保障。内容一。\n(二)强化服务。内容二。",
            [("一、", "总体要求", []), ("二、", "主要任务", ["（一）", "(二)"])],
        ),
        # 1. directly after a run-in heading with no punctuation between them
        (
            "（一）提高就业质量1.稳定岗位。内容。2.扩大规模。内容。",
            [("（一）", "提高就业质量", ["1.", "2."])],
        ),
        # a parent's numbering continues across parents: （三） is the first child of 二、
        (
            "一、甲要求（一）子一。内容。（二）子二。内容。二、乙措施（三）子三。内容。",
            [("一、", "甲要求", ["（一）", "（二）"]), ("二、", "乙措施", ["（三）"])],
        ),
        # regulations: chapters hold articles, articles hold items, articles carry no heading
        (
            "第一章　总则\n第一条　为规范管理，制定本办法。\n第二条　本办法适用于全区。\n第二章　附则\n第三条　本办法自发布之日起施行。",
            [("第一章", "总则", ["第一条", "第二条"]), ("第二章", "附则", ["第三条"])],
        ),
        # a run-in heading is split where a typical body opening begins
        (
            "一、强化责任落实各级人民政府要建立责任体系。二、强化督导问责全面开展专项行动。",
            [("一、", "强化责任落实", []), ("二、", "强化督导问责", [])],
        ),
    ],
)
def test_section_outline(text, outline):
    _, sections = parse_sections(text)
    assert _outline(sections) == outline


def test_out_of_sequence_numbers_are_text():
    # 三、 cannot follow 一、 directly; it stays in the first section's text.
    _, sections = parse_sections("一、开头内容。三、不是标题。")
    assert [s.marker for s in sections] == ["一、"]
    assert "三、不是标题" in sections[0].text


def test_long_sentence_item_has_no_heading():
    _, sections = parse_sections("规定如下：（一）严禁野外吸烟、野炊、烧纸、烧香、燃放鞭炮、生火取暖等非生产用火。")
    assert sections[0].heading is None
    assert sections[0].text.startswith("严禁野外吸烟")


def test_numbering_restarts_in_an_issued_document():
    from content.anatomy import NoticeParts, assemble

    notice = assemble(
        NoticeParts(
            letter="各有关单位：\n现将《示范方案》印发给你们。\n一、高度重视。内容。\n二、认真落实。内容。",
            issued_text="示范方案\n一、目标任务\n内容。\n二、工作措施\n（一）加强领导。内容。",
        )
    )
    assert [s.heading for s in notice.sections] == ["高度重视", "认真落实", "示范方案"]
    issued = notice.sections[2]
    assert issued.path == "3"
    assert [(c.marker, c.heading, c.path) for c in issued.children] == [("一、", "目标任务", "3.1"), ("二、", "工作措施", "3.2")]
    assert issued.children[1].children[0].path == "3.2.1"
