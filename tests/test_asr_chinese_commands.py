"""The Chinese command tables and intent matching, on text (no Chinese model can be downloaded
here): every word the menu accepts, segmentation into a model's vocabulary, and what a
recogniser's space-separated output becomes."""

from pathlib import Path

import pytest

from content.menu import IntentKind, Menu, MenuState, Mode
from speech.recognizer import Grammar, SpeechModel, VocabularyError, understand


class TextVocabulary:
    """Stands in for a Chinese model's word list (vosk_model_find_word), for text-only tests."""

    def __init__(self, words):
        self.words = {w: i for i, w in enumerate(sorted(words))}

    def vosk_model_find_word(self, word):
        return self.words.get(word, -1)


def chinese_model(extra=()):
    # Like vosk-model-small-cn: single characters, common words, and an unknown-word token.
    words = set("一二三四五六七八九十零幺两第条个项页取消停止不听了重复再说遍下上部分返回帮助继续全部连续收听从头文"
                "慢快点大小声音接着忘记我要住") | {
        "取消", "停止", "重复", "下一", "上一", "返回", "帮助", "继续", "全部", "第二", "[unk]", *extra,
    }  # fmt: skip
    return SpeechModel(Path("text-only"), TextVocabulary(words), "[unk]", 0.0)


def _words(menu, state):
    return {w: c.intent for c in menu.choices(state) for w in c.words}


@pytest.fixture
def menu(loaded_store):
    return Menu(loaded_store.latest())


def test_number_words_and_their_variants(menu):
    words = _words(menu, menu.start()[0])
    for spoken, n in [("三", 3), ("第三条", 3), ("第三项", 3), ("第三个", 3), ("幺", 1), ("两", 2), ("第两个", 2), ("第七条", 7)]:
        assert words[spoken].kind is IntentKind.CHOOSE and words[spoken].number == n, spoken
    assert words["零"].kind is IntentKind.REPEAT
    assert words["全部"].kind is IntentKind.READ_ALL


@pytest.mark.parametrize(
    "word, kind",
    [("取消", IntentKind.CANCEL), ("停止", IntentKind.CANCEL), ("不听了", IntentKind.CANCEL), ("重复", IntentKind.REPEAT),
     ("再说一遍", IntentKind.REPEAT), ("下一条", IntentKind.NEXT), ("下一个", IntentKind.NEXT), ("上一条", IntentKind.PREVIOUS)],
)  # fmt: skip
def test_command_synonyms_while_reading(menu, word, kind):
    assert _words(menu, MenuState(mode=Mode.READING))[word].kind is kind


def test_notice_subjects_choose_notices(menu):
    words = _words(menu, menu.start()[0])
    assert words["就业促进行动实施方案"].number == 7
    assert words["森林草原防灭火"].number == 4


def test_every_command_word_segments_into_the_vocabulary(menu):
    model = chinese_model()
    for state in (MenuState(mode=Mode.READING), MenuState(mode=Mode.PART_END)):
        grammar = Grammar.compile(model, _words(menu, state))
        assert grammar.phrases  # nothing refused
    assert model.segment("第二条") == ["第二", "条"]
    assert model.segment("取消") == ["取消"]


def test_a_subject_the_model_cannot_say_is_refused_naming_it(menu):
    with pytest.raises(VocabularyError, match="临河区土地征收成片开发调整方案.*unknown characters"):
        Grammar.compile(chinese_model(), _words(menu, menu.start()[0]))


def _result(*words, conf=0.95):
    return {"result": [{"word": w, "conf": conf} for w in words], "text": " ".join(words)}


@pytest.mark.parametrize(
    "words, phrase",
    [
        (("第二", "条"), "第二条"),  # Chinese output is space-separated: spaces removed
        (("取消",), "取消"),
        (("重", "复"), "重复"),
        (("[unk]", "取消"), "取消"),  # a little noise around a command
        (("[unk]", "[unk]", "取消"), None),  # mostly off-menu speech
        (("[unk]",), None),
        (("第二", "条", "取消"), None),  # two commands at once: not forced onto one
        ((), None),
    ],
)
def test_understanding_recogniser_output(words, phrase):
    grammar = Grammar.compile(chinese_model(), ["第二条", "取消", "重复", "第四条", "第十条"])
    assert understand(_result(*words), grammar, "[unk]").phrase == phrase


def test_low_confidence_trailing_noise_is_dropped():
    grammar = Grammar.compile(chinese_model(), ["取消", "帮助"])
    result = {"result": [{"word": "取消", "conf": 1.0}, {"word": "帮助", "conf": 0.4}]}
    assert understand(result, grammar, "[unk]").phrase == "取消"
    both = {"result": [{"word": "取消", "conf": 0.9}, {"word": "帮助", "conf": 0.8}]}
    assert understand(both, grammar, "[unk]").phrase is None  # two confident commands: not forced


def test_confusable_numbers_need_confirmation_and_low_confidence_is_not_sure():
    grammar = Grammar.compile(chinese_model(), ["第二条", "第四条", "第十条"])
    four = understand(_result("第", "四", "条"), grammar, "[unk]")
    assert four.phrase == "第四条" and four.confirm and not four.sure(0.6)
    two = understand(_result("第二", "条", conf=0.9), grammar, "[unk]")
    assert two.sure(0.6)
    unsure = understand(_result("第二", "条", conf=0.3), grammar, "[unk]")
    assert unsure.phrase == "第二条" and not unsure.sure(0.6)
