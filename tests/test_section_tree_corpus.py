"""The section trees of the real corpus match the documents' own numbering."""

from conftest import find_section


def _headings(sections):
    return [s.heading for s in sections]


def _markers(sections):
    return [s.marker for s in sections]


def test_intangible_heritage_notice_has_no_sections(corpus_notices):
    notice = corpus_notices[1]
    # 抢救第一、合理利用 is an inline list; 附件：1. 2. are attachments, not sections.
    assert notice.sections == []
    assert notice.attachments == [
        "第八批自治区级非物质文化遗产代表性项目(89个、95处)",
        "自治区级非物质文化遗产代表性项目名录扩展项目(52个、76处)",
    ]
    assert "抢救第一、合理利用" in notice.body


def test_fire_order_has_eight_sections_and_third_holds_four_items(corpus_notices):
    order = corpus_notices[3]
    assert [s.ordinal for s in order.sections] == list(range(1, 9))
    assert _headings(order.sections) == [
        "防火期和戒严管制期",
        "强化责任落实",
        "强化火源治理",
        "强化预警监测",
        "强化应急准备",
        "强化报告制度",
        "强化宣传教育",
        "强化督导问责",
    ]
    third = order.sections[2]
    assert _markers(third.children) == ["(一)", "(二)", "(三)", "(四)"]
    assert third.text.endswith("严格执行以下规定:")
    assert third.children[0].text.startswith("严禁野外吸烟")
    # run-in heading split from its body
    assert order.sections[1].text.startswith("各级人民政府要建立健全")
    assert order.body.endswith("发布如下命令。")


def test_aids_plan_is_an_embedded_document_with_its_own_tree(corpus_notices):
    notice = corpus_notices[5]
    assert notice.body.startswith("经自治区人民政府同意")
    assert len(notice.sections) == 1
    plan = notice.sections[0]
    assert plan.heading == "内蒙古自治区遏制与防治艾滋病规划(2025-2030年)"
    assert plan.text.startswith("艾滋病是严重危害人民群众身体健康的重大传染病")
    assert _headings(plan.children) == ["防治目标", "防治措施", "保障措施", "指导与评估"]
    measures = plan.children[1]
    assert [c.ordinal for c in measures.children] == [1, 2, 3, 4, 5, 6]
    assert [len(c.children) for c in measures.children] == [4, 2, 3, 3, 2, 3]
    for group in measures.children:
        assert [item.ordinal for item in group.children] == list(range(1, len(group.children) + 1))
    first_item = find_section(notice.sections, "1.2.1.1")
    assert first_item.heading == "加大健康知识普及力度"
    assert first_item.text.startswith("将艾滋病防治知识纳入")
    assert measures.children[0].heading == "强化宣教干预和社会动员,增强公众防治意识"


def test_employment_plan_items_continue_across_parents(corpus_notices):
    plan = corpus_notices[6].sections[0]
    assert plan.heading == "内蒙古自治区就业促进行动实施方案"
    tasks, safeguards = plan.children[1], plan.children[2]
    assert tasks.heading == "重点任务"
    assert [c.ordinal for c in tasks.children] == [1, 2, 3, 4, 5]
    items = [item.ordinal for group in tasks.children for item in group.children]
    assert items == list(range(1, 20))
    assert [c.ordinal for c in safeguards.children] == [6, 7]
    assert _headings(safeguards.children) == ["强化组织领导", "强化统筹调度"]
    # a parenthetical 责任单位 note after an item's last sentence stays with that item
    assert tasks.children[0].children[0].text.endswith("不再单独列出)")


def test_paths_are_positions_among_siblings(corpus_notices):
    plan = corpus_notices[6].sections[0]
    safeguards = plan.children[2]
    assert safeguards.path == "1.3"
    assert [c.path for c in safeguards.children] == ["1.3.1", "1.3.2"]
    assert find_section(corpus_notices[6].sections, "1.3.2").ordinal == 7
