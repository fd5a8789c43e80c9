"""Polyphones and local names are read right, and the dictionary can be extended by a data file."""

import pytest

from speech.pronounce import load_dictionary, parse_dictionary, to_pinyin

CASES = [
    ("内蒙古", "nei4 meng3 gu3"),
    ("银行", "yin2 hang2"),
    ("行动", "xing2 dong4"),
    ("重点", "zhong4 dian3"),
    ("重复", "chong2 fu4"),
    ("还款", "huan2 kuan3"),
    ("巴彦淖尔", "ba1 yan4 nao4 er3"),
    ("鄂尔多斯", "e4 er3 duo1 si1"),
    ("锡林郭勒", "xi1 lin2 guo1 le4"),
    ("乌兰察布", "wu1 lan2 cha2 bu4"),
    ("呼和浩特", "hu1 he2 hao4 te4"),
    ("阿拉善盟", "a1 la1 shan4 meng2"),
    ("九十五处", "jiu3 shi2 wu3 chu4"),
    ("幺二幺幺九", "yao1 er4 yao1 yao1 jiu3"),
]


@pytest.mark.parametrize("word, pinyin", CASES)
def test_pronunciation(word, pinyin):
    assert to_pinyin(word) == pinyin


def test_pauses_and_sentence_ends_become_punctuation():
    assert to_pinyin("你好，世界。再见") == "ni3 hao3, shi4 jie4. zai4 jian4"


def test_only_pinyin_reaches_the_engine(corpus_notices):
    import re

    from speech.normalize import normalize

    for notice in corpus_notices[:3]:
        pinyin = to_pinyin(normalize(notice.full_text()))
        assert re.fullmatch(r"[a-z1-5 ,.、]+", pinyin)


def test_extra_dictionary_file(tmp_path, pypinyin_restored):
    assert to_pinyin("嘎鲁图") != "ga2 lu3 tu2"  # not this reading before the hall's file is loaded
    extra = tmp_path / "pronunciations.txt"
    extra.write_text("# 本地读音\n嘎鲁图\tga2 lu3 tu2\n", "utf-8")
    load_dictionary(extra)
    assert to_pinyin("嘎鲁图") == "ga2 lu3 tu2"


def test_a_hall_word_taught_by_another_test_is_not_known_here():
    assert to_pinyin("嘎鲁图") != "ga2 lu3 tu2"  # runs after test_extra_dictionary_file: nothing leaked


@pytest.mark.parametrize("line", ["银行 yin2", "银行 yin hang", "银行"])
def test_bad_dictionary_line_names_source_and_line(line):
    with pytest.raises(ValueError, match=r"extra.txt, line 2: expected the word"):
        parse_dictionary("# comment\n" + line, "extra.txt")
