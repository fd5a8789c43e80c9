"""A single notice as text: header fields, signature block, attachments and an issued document."""

from datetime import date

from conftest import FIXTURES, find_section

from content.ingest import parse_file


def test_issued_plan_notice_fields():
    (notice,) = parse_file(FIXTURES / "notice_with_issued_plan.txt")
    assert notice.title == "内蒙古自治区人民政府办公厅关于印发自治区养老服务补贴发放管理办法的通知"
    assert notice.spoken_title == "关于印发养老服务补贴发放管理办法的通知"
    assert notice.doc_number == "内政办发〔2025〕12号"
    assert notice.issuer == "内蒙古自治区人民政府办公厅"
    assert notice.addressee == "各盟行政公署、市人民政府，自治区各委、办、厅、局"
    assert notice.signed_date == date(2025, 4, 2)
    assert notice.annotation == "（此件公开发布）"
    assert notice.attachments == ["养老服务补贴申请表", "养老服务补贴发放名册"]
    assert notice.body.startswith("经自治区人民政府同意")
    assert "附件" not in notice.body


def test_issued_regulation_is_a_subtree_of_chapters_and_articles():
    (notice,) = parse_file(FIXTURES / "notice_with_issued_plan.txt")
    (regulation,) = notice.sections
    assert regulation.heading == "内蒙古自治区养老服务补贴发放管理办法"
    assert [c.heading for c in regulation.children] == ["总则", "补贴对象和标准", "附则"]
    article3 = find_section(notice.sections, "1.2.1")
    assert article3.marker == "第三条"
    assert article3.heading is None
    assert [c.marker for c in article3.children] == ["（一）", "（二）"]
    # decimals in a ratio stay inside the article text
    assert "5.5∶4.5" in find_section(notice.sections, "1.2.2").text


def test_labelled_header_and_square_brackets():
    (notice,) = parse_file(FIXTURES / "notice_plain_opinion.txt")
    assert notice.doc_number == "内政发〔2025〕7号"
    assert notice.signed_date == date(2025, 10, 20)
    assert notice.published_date == date(2025, 10, 22)
    assert notice.issuer == "内蒙古自治区人民政府"
    assert [s.heading for s in notice.sections] == ["总体要求", "重点工作", "保障措施"]
    assert [c.heading for c in notice.sections[1].children] == ["加强热源保障", "强化管网检修", "做好困难群众帮扶"]


def test_notice_without_title_derives_one(tmp_path):
    path = tmp_path / "reply.txt"
    path.write_text("包头市人民政府：\n你市《关于某某事项的请示》收悉。现批复如下：同意。\n2025年1月5日\n", "utf-8")
    (notice,) = parse_file(path)
    assert notice.title is None
    assert notice.addressee == "包头市人民政府"
    assert notice.spoken_title == "关于某某事项的批复"
    assert notice.signed_date == date(2025, 1, 5)
