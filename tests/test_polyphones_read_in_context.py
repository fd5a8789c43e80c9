"""Every polyphone of government text read as the dictionaries and grammar read it, from its
sentence: the table (tests/fixtures/readings/government_polyphones.tsv) was written by hand from
《现代汉语词典》, not from tingwen's output. Also: the hall's list still wins, the context model
runs on a bare sentence, and what chose each reading is said."""

from __future__ import annotations

from pathlib import Path

import pytest

from speech.polyphones import Context, model_readings
from speech.polyphones.bilstm import load_bilstm
from speech.pronounce import base_readings, read_characters, to_pinyin

TABLE = Path(__file__).parent / "fixtures/readings/government_polyphones.tsv"


def _cases() -> list[tuple[str, str, str]]:
    rows = []
    for line in TABLE.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            marked, reading, source = line.split("\t")
            rows.append((marked, reading, source))
    return rows


CASES = _cases()


def test_the_table_is_of_polyphones_and_big_enough():
    from pypinyin.constants import PINYIN_DICT

    def polyphone(char: str) -> bool:
        return load_bilstm().is_polyphone(char) or "," in PINYIN_DICT.get(ord(char), "")

    assert len(CASES) >= 200
    assert [m for m, _, _ in CASES if not polyphone(m[m.index("【") + 1])] == []
    assert len({m for m, _, _ in CASES}) == len(CASES), "a sentence twice"


@pytest.mark.parametrize("marked, reading, source", CASES, ids=[m for m, _, _ in CASES])
def test_polyphone_read_as_the_dictionary_says(marked, reading, source):
    at = marked.index("【")
    sentence = marked.replace("【", "").replace("】", "")
    syllable, chosen_by = read_characters(sentence)[at]
    assert syllable == reading, f"{sentence}: {sentence[at]} read {syllable} by {chosen_by}; {source} says {reading}"


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("以人民为中心", "yi3 ren2 min2 wei2 zhong1 xin1"),
        ("全心全意为人民服务。", "quan2 xin1 quan2 yi4 wei4 ren2 min2 fu2 wu4."),
        ("倡导无偿献血，加强血液管理", "chang4 dao3 wu2 chang2 xian4 xue4, jia1 qiang2 xue4 ye4 guan3 li3"),
    ],
)
def test_whole_sentences_reach_the_engine_as_pinyin(sentence, expected):
    assert to_pinyin(sentence) == expected


def test_the_model_reads_a_polyphone_the_dictionaries_leave_open():
    """Without any list or rule, the BiLSTM and combiner decide 还, 了 and 地 from the sentence."""
    for sentence, at, reading in [("他还是来了", 1, "hai2"), ("他还是来了", 4, "le5"), ("各地应加大投入", 1, "di4")]:
        base = base_readings(sentence)
        assert model_readings(Context(sentence, base), set())[at][0] == reading


def test_a_hall_entry_beats_every_rule_and_the_model(tmp_path, pypinyin_restored):
    from speech import pronounce

    extra = tmp_path / "pronunciations.txt"
    extra.write_text("以人民为中心\tyi3 ren2 min2 wei4 zhong1 xin1\n", "utf-8")  # a hall's (wrong) choice still wins
    pronounce.load_dictionary(extra)
    assert read_characters("以人民为中心")[3] == ("wei4", pronounce.HALL)


def test_without_the_halls_entry_the_rule_reads_it():  # runs after the test above: nothing leaked
    assert read_characters("以人民为中心")[3][0] == "wei2"


def test_characters_outside_the_dictionaries_still_read():
    """Rare characters, Latin letters and punctuation: one entry per character, no crash."""
    text = "𠮷A、《通知》：甲乙。"
    readings = read_characters(text)
    assert len(readings) == len(text)
    assert readings[1] == ("", "") and readings[-1][0] == ""
