"""Spoken Chinese → the tone-numbered pinyin sent to espeak-ng's cmn-latn-pinyin voice.

Sending pinyin rather than characters lets us fix polyphones (银行/行动, 重点/重复, 还款) and local
names (巴彦淖尔, 锡林郭勒) ourselves, through pypinyin's phrase dictionary and our own data file.
"""

from __future__ import annotations

import re
import threading
from importlib import resources
from pathlib import Path

from pypinyin import Style, lazy_pinyin, load_phrases_dict, load_single_dict

_SYLLABLE = re.compile(r"^[a-z]+[1-5]$")
_loaded: set[str] = set()
_lock = threading.Lock()


def parse_dictionary(text: str, source: str) -> dict[str, list[list[str]]]:
    """`word<TAB>pin1 yin1` lines → pypinyin's phrase form; a bad line names its source and line."""
    phrases: dict[str, list[list[str]]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        word, syllables = parts[0], parts[1:]
        if len(syllables) != len(word) or not all(_SYLLABLE.match(s) for s in syllables):
            raise ValueError(
                f"{source}, line {number}: expected the word and one tone-numbered syllable per "
                f"character (like '银行 yin2 hang2'), got {line!r}"
            )
        phrases[word] = [[s] for s in syllables]
    return phrases


def load_dictionary(extra: Path | None = None) -> None:
    """Teach pypinyin our pronunciations (bundled, then `extra`); each file once per process."""
    sources = [("bundled", resources.files("speech").joinpath("data/pronunciations.txt").read_text("utf-8"))]
    if extra is not None and extra.exists():
        sources.append((str(extra), extra.read_text("utf-8")))
    with _lock:
        for name, text in sources:
            if name in _loaded:
                continue
            phrases = parse_dictionary(text, name)
            singles = {w: p for w, p in phrases.items() if len(w) == 1}
            if singles:
                load_single_dict({ord(w): ",".join(p[0]) for w, p in singles.items()}, style="tone3")
            load_phrases_dict({w: p for w, p in phrases.items() if len(w) > 1}, style="tone3")
            _loaded.add(name)


def to_pinyin(spoken: str) -> str:
    """Tone-numbered pinyin with `、` for a list's short pauses, `, ` for pauses and `. ` for
    sentence ends."""
    load_dictionary()
    words: list[str] = []
    for piece in lazy_pinyin(spoken, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: [s]):
        if _SYLLABLE.match(piece):
            words.append(piece)
        elif any(c in piece for c in "。！？；"):
            _end(words, ".")
        elif piece.strip(" 、"):
            _end(words, ",")
        elif "、" in piece:
            _end(words, "、")  # a list's short pause (espeak-ng reads it as a comma)
    text = " ".join(words)
    for mark in _MARKS:
        text = text.replace(" " + mark, mark)
    return text.strip(" ,、")


_MARKS = ("、", ",", ".")  # pauses, shortest first


def _end(words: list[str], mark: str) -> None:
    """Close a phrase with `mark`, or lengthen the pause that already closes it."""
    if words and words[-1] not in _MARKS:
        words.append(mark)
    elif words and _MARKS.index(mark) > _MARKS.index(words[-1]):
        words[-1] = mark
