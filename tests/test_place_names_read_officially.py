"""Place names read as they are officially read: a hand-written table of 191 names (Inner
Mongolia's leagues, banners, counties and towns; China's provinces and prefecture-level cities),
the gazetteer's coverage and sources, and the hall's list still winning over it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from speech import pronounce
from speech.pronounce import GAZETTEERS, parse_dictionary, read_characters, to_pinyin

TABLE = Path(__file__).parent / "fixtures/readings/place_names.tsv"
CASES = [tuple(line.split("\t")[:2]) for line in TABLE.read_text("utf-8").splitlines() if line and not line.startswith("#")]


def _levels(name: str) -> Counter:
    from importlib import resources

    text = resources.files("speech").joinpath("data", name).read_text("utf-8")
    return Counter(line.split("# ")[1] for line in text.splitlines() if line and not line.startswith("#"))


def test_the_table_is_big_enough():
    assert len(CASES) >= 150 and len(set(CASES)) == len(CASES)


@pytest.mark.parametrize("name, reading", CASES, ids=[n for n, _ in CASES])
def test_place_name_read_officially(name, reading):
    assert to_pinyin(name) == reading


@pytest.mark.parametrize(
    "sentence, name, reading",
    [
        ("请到喀喇沁旗政务服务中心办理", "喀喇沁旗", "ka1 la3 qin4 qi2"),
        ("克什克腾旗、翁牛特旗两地", "克什克腾旗", "ke4 shi2 ke4 teng2 qi2"),
        ("六安市和蚌埠市的代表", "蚌埠市", "beng4 bu4 shi4"),
    ],
)
def test_names_inside_sentences(sentence, name, reading):
    at = sentence.index(name)
    readings = read_characters(sentence)[at:at + len(name)]
    assert " ".join(s for s, _ in readings) == reading
    assert readings[0][1].startswith("the gazetteer (speech/data/places/")


def test_every_list_says_where_it_comes_from_and_covers_inner_mongolia():
    for name in GAZETTEERS:
        header = [line for line in pronounce._bundled_text(name).splitlines() if line.startswith("#")]
        assert any("统计用区划代码" in line for line in header) and any("Readings:" in line for line in header)
        assert len(parse_dictionary(pronounce._bundled_text(name), name)) > 100
    levels = _levels("places/inner_mongolia.txt")
    # 12 leagues and cities, 103 county-level divisions and 1,225 township-level ones (with the
    # short forms of their names), as the 2023 list has them
    assert levels["prefecture"] >= 12 and levels["county"] >= 103 and levels["township"] >= 1225
    china = _levels("places/china.txt")
    assert china["province"] >= 34 and china["prefecture"] >= 333


def test_the_halls_entry_beats_the_gazetteer(tmp_path, pypinyin_restored):
    extra = tmp_path / "pronunciations.txt"
    extra.write_text("商都县\tshang1 dou1 xian4\n查干\tcha2 gan4\n", "utf-8")  # the hall may read them otherwise
    pronounce.load_dictionary(extra)
    assert to_pinyin("商都县") == "shang1 dou1 xian4"
    assert to_pinyin("查干淖尔镇") == "cha2 gan4 nao4 er3 zhen4"  # a hall word inside a longer gazetteer name


def test_without_the_halls_entries_the_gazetteer_reads_them():  # runs after the test above
    assert to_pinyin("商都县") == "shang1 du1 xian4"
    assert to_pinyin("查干淖尔镇") == "cha2 gan1 nao4 er3 zhen4"
