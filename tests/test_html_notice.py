"""An HTML article page: metadata table, title and body container."""

from datetime import date

import pytest
from conftest import FIXTURES

from content.errors import IngestError
from content.ingest import SourceFormat, detect, parse_file, read_text


def test_article_page_fields():
    path = FIXTURES / "article_page.html"
    assert detect(read_text(path)) is SourceFormat.HTML
    (notice,) = parse_file(path)
    assert notice.title == "内蒙古自治区人民政府关于加强农村牧区饮水安全工作的通知"
    assert notice.spoken_title == "关于加强农村牧区饮水安全工作的通知"
    assert notice.doc_number == "内政发〔2025〕9号"
    assert notice.issuer == "内蒙古自治区人民政府"
    assert notice.signed_date == date(2025, 6, 5)
    assert notice.published_date == date(2025, 6, 10)
    assert notice.addressee == "各盟行政公署、市人民政府"
    assert notice.annotation == "（此件公开发布）"
    assert notice.source.startswith("https://www.nmg.gov.cn/")
    assert [s.heading for s in notice.sections] == ["摸清底数", "落实责任", "畅通渠道"]
    # page furniture outside the body container is not read
    assert "分享到" not in notice.full_text()
    assert "主办" not in notice.full_text()


@pytest.mark.parametrize(
    "html, problem",
    [
        ("<html><body><div class='nav'>首页</div></body></html>", "no article body"),
        ("<html><body><div id='zoom'>正文内容。</div></body></html>", "no title"),
    ],
)
def test_unusable_pages_are_refused(tmp_path, html, problem):
    path = tmp_path / "page.html"
    path.write_text(html, "utf-8")
    with pytest.raises(IngestError) as caught:
        parse_file(path)
    assert problem in str(caught.value)
    assert str(path) in str(caught.value)
