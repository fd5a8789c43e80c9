"""What the combiner knows of one reading of one polyphone: the same features at training time
(scripts/polyphones/train_combiner.py) and at run time (speech/polyphones/__init__.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from pypinyin.constants import PHRASES_DICT
from pypinyin.contrib.tone_convert import to_tone3

from speech.words import words

LONGEST_WORD = 7


@cache
def cedict_words() -> dict[str, str]:
    """CC-CEDICT's words that hold a polyphone → their tone-numbered pinyin."""
    text = resources.files("speech").joinpath("data/polyphones/cedict_words.txt").read_text("utf-8")
    return dict(line.split("\t", 1) for line in text.splitlines() if line and not line.startswith("#"))


def _tone3(syllable: str) -> str:
    return to_tone3(syllable, neutral_tone_with_five=True).replace("ü", "v")


def covering(sentence: str, position: int, reading_in) -> list[tuple[int, str]]:
    """(length, reading of the polyphone) of each dictionary word of the sentence that covers
    `position`, longest first, then the one that starts first."""
    found = []
    for start in range(max(0, position - LONGEST_WORD + 1), position + 1):
        for stop in range(max(position + 1, start + 2), min(len(sentence), start + LONGEST_WORD) + 1):
            reading = reading_in(sentence[start:stop], position - start)
            if reading:
                found.append((stop - start, start, reading))
    found.sort(key=lambda f: (-f[0], f[1]))
    return [(length, reading) for length, _, reading in found]


def _in_cedict(word: str, offset: int) -> str | None:
    pinyin = cedict_words().get(word)
    return pinyin.split()[offset] if pinyin else None


def _in_pypinyin(word: str, offset: int) -> str | None:
    readings = PHRASES_DICT.get(word)
    return _tone3(readings[offset][0]) if readings and len(readings) == len(word) else None


@dataclass
class Context:
    """One sentence as the features see it: pypinyin's reading of each character (`base`, "" where
    it has none), the segmenter's word around each character, and the dictionary words around a
    polyphone (looked up once: the dictionaries' agreement and the features both ask)."""

    sentence: str
    base: list[str]
    word_of: list[str] = field(default_factory=list)
    _covers: dict[int, tuple[list[tuple[int, str]], list[tuple[int, str]]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.word_of:
            for word in words(self.sentence):  # the segmenter that cuts chunks: one dictionary in memory
                self.word_of.extend([word] * len(word))

    def words_around(self, position: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
        """(CC-CEDICT's, pypinyin's phrases) words covering `position`, as covering() gives them."""
        if position not in self._covers:
            self._covers[position] = (covering(self.sentence, position, _in_cedict), covering(self.sentence, position, _in_pypinyin))
        return self._covers[position]


def dictionary_reading(context: Context, position: int) -> str | None:
    """The reading pypinyin gave, when both dictionaries back it: pypinyin's longest phrase
    around the polyphone reads it so, and so does one of CC-CEDICT's words around it. The BiLSTM
    learnt from one marked polyphone a sentence and is weak on common words (充分, 了解): where
    the dictionaries agree, they decide (on CPP's dev split that is right more often than the
    BiLSTM, and government text is full of such words)."""
    base = context.base[position]
    cedict, phrases = context.words_around(position)
    if not base or not phrases or phrases[0][1] != base:
        return None
    return base if any(same_syllable(r, base) for _, r in cedict) else None


def same_syllable(a: str, b: str) -> bool:
    """The same reading, or the same syllable where one of the two is written in the neutral
    tone (CC-CEDICT writes 部分 bu4 fen5 where pypinyin has bu4 fen4)."""
    return a == b or (a[:-1] == b[:-1] and "5" in (a[-1], b[-1]))


def features(context: Context, position: int, scores: dict[str, float], priors: dict[str, float]) -> dict[str, dict[str, float]]:
    """Each candidate reading → its features. `scores` are the BiLSTM's, `priors` the log counts of
    the readings in CPP's train labels."""
    s, char = context.sentence, context.sentence[position]
    left = s[position - 1] if position > 0 else "^"
    right = s[position + 1] if position + 1 < len(s) else "$"
    left2, right2 = (s[position - 2:position] if position > 1 else "^"), s[position + 1:position + 3]
    word = context.word_of[position] if position < len(context.word_of) else char
    in_phrases = len(word) > 1 and word in PHRASES_DICT
    base = context.base[position]
    cedict, phrases = context.words_around(position)
    top = max(scores.values())
    total = sum(math.exp(v - top) for v in scores.values())
    found = {}
    for reading, score in scores.items():
        is_base, is_top = float(base == reading), float(score == top)
        f = {
            "bilstm_gap": score - top, "bilstm_top": is_top, "bilstm_prob": math.exp(score - top) / total,
            "prior": priors.get(reading, 0.0),
            "base": is_base, "base_in_phrases": float(is_base and in_phrases),
            f"c={char}|r={reading}": 1.0, f"c={char}|r={reading}|base": is_base, f"c={char}|r={reading}|top": is_top,
            f"r={reading}|L={left}": 1.0, f"r={reading}|R={right}": 1.0, f"r={reading}|LR={left}{right}": 1.0,
            f"r={reading}|L2={left2}": 1.0, f"r={reading}|R2={right2}": 1.0, f"r={reading}|w={word}": 1.0,
        }
        for name, covers in (("cedict", cedict), ("phrases", phrases)):
            if covers:
                longest = float(covers[0][1] == reading)
                f[f"{name}_longest"] = longest
                f[f"{name}_any"] = float(any(r == reading for _, r in covers))
                f[f"{name}_longest_len{min(covers[0][0], 4)}"] = longest
                f[f"c={char}|{name}_longest"] = longest
        if cedict and phrases:
            f["cedict_phrases_agree"] = float(cedict[0][1] == reading == phrases[0][1])
            f["dictionaries_agree"] = float(cedict[0][1] == reading == phrases[0][1] == base)
            f[f"dictionaries_agree_len{min(cedict[0][0], phrases[0][0], 4)}"] = f["dictionaries_agree"]
        f["bilstm_and_cedict"] = float(is_top and bool(cedict) and cedict[0][1] == reading)
        found[reading] = f
    return found
