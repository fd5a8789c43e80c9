"""A source that cannot be parsed is refused whole, naming file and line, and nothing is stored."""

import pytest
from conftest import FIXTURES

from content.errors import IngestError
from content.ingest import ingest

GOOD_NOTICE = "某某市人民政府：\n你市《关于某事的请示》收悉。同意。\n2025年1月5日\n"

BROKEN = [
    ("bad-date.txt", "第一条通知正文。2025年1月2日\n2025-13-01\n", 2, "impossible publication date"),
    ("no-date-after.txt", "甲通知正文。\n2025-01-03\n乙通知正文没有日期。\n", 2, "no publication date after it"),
    ("two-dates.txt", "甲通知正文。\n2025-01-03\n2025-01-02\n", 3, "no notice text before it"),
    ("bad-signing.txt", "某某局：\n正文内容。\n2025年2月30日\n", 3, "impossible signing date"),
    ("binary.txt", b"\xff\xfe\x00\x00\x81\x00\n\xff", 1, "not text"),
    ("empty.txt", "  \n", 1, "empty"),
]


@pytest.mark.parametrize("name, content, line, problem", BROKEN)
def test_broken_file_refused_whole(store, tmp_path, name, content, line, problem):
    ingest(store, [FIXTURES / "notice_plain_opinion.txt"])
    before = [n.to_json() for n in store.latest()]

    good = tmp_path / "a-good.txt"
    good.write_text(GOOD_NOTICE, "utf-8")
    broken = tmp_path / name
    if isinstance(content, bytes):
        broken.write_bytes(content)
    else:
        broken.write_text(content, "utf-8")

    with pytest.raises(IngestError) as caught:
        ingest(store, [good, broken])
    message = str(caught.value)
    assert str(broken) in message
    assert f"line {line}" in message
    assert problem in message
    # the good file of the same run was not stored either, and nothing before it was lost
    assert [n.to_json() for n in store.latest()] == before


def test_missing_path_is_named(store, tmp_path):
    with pytest.raises(IngestError, match="no-such-file.txt: no such file or folder"):
        ingest(store, [tmp_path / "no-such-file.txt"])
    assert store.count() == 0
