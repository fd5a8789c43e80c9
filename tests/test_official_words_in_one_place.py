"""The lists of official words live in content/official.py alone, and every rule that looks for
an organ or a document type takes them from there: an organ ending added once is found in a
signature line, before 关于 in a title, and in an addressee line alike."""

import re
from pathlib import Path

import pytest

from content.anatomy import split_addressee
from content.official import ADDRESSEE_WORDS, KINDS, ORGAN_ENDINGS
from content.sources.plaintext import parse as parse_text
from content.titles import spoken_title

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("ending", ORGAN_ENDINGS)
def test_every_organ_ending_is_known_to_every_rule(ending):
    organ = f"锡林郭勒盟统计{ending}"
    assert "锡林郭勒盟" not in spoken_title(f"{organ}关于做好年度统计工作的通知", "")  # the organ is dropped
    addressee, rest = split_addressee(f"各旗县{ending}：为做好统计工作，现将有关事项通知如下。")
    assert addressee == f"各旗县{ending}" and rest.startswith("为做好")
    letter = f"关于做好年度统计工作的通知\n各旗县人民政府：\n现将有关事项通知如下。\n{organ}\n2025年3月1日\n"
    notice = parse_text(letter, "test.txt")
    assert notice.issuer == organ


@pytest.mark.parametrize("kind", KINDS)
def test_a_title_ending_with_a_document_type_is_whole(kind):
    assert spoken_title(f"关于做好年度统计工作的{kind}", "").endswith(kind)


def test_no_other_module_lists_organs_or_document_types():
    lists = re.compile(r"人民政府\|行政公署|委员会\|厅|\"通知\", \"批复\"|政府\|公署")
    found = [str(p.relative_to(ROOT)) for p in (ROOT / "content").rglob("*.py") if p.name != "official.py" and lists.search(p.read_text("utf-8"))]
    assert found == []
    assert set(ORGAN_ENDINGS) <= set(ADDRESSEE_WORDS)
