"""The numbering of official documents: which marks open a section, and at what depth.

Chinese official documents (GB/T 9704) number their parts 一、 → （一） → 1. → （1）, and regulations
第X章 → 第X节 → 第X条. Markers are found in running text, so a candidate only counts when it also
fits the numbering sequence (see `content.structure`); this module only says what a candidate is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

import cn2an

CN_DIGITS = "零〇一二三四五六七八九十百两"


class Level(IntEnum):
    """Depth of a marker; a smaller value contains a larger one."""

    CHAPTER = 0  # 第一章
    PART = 1  # 第一节
    ARTICLE = 2  # 第一条
    CN_COMMA = 3  # 一、
    CN_PAREN = 4  # （一）
    DIGIT_DOT = 5  # 1.  1．  1、
    DIGIT_PAREN = 6  # （1）


@dataclass(frozen=True)
class Marker:
    level: Level
    number: int
    start: int
    end: int
    label: str


_CN = f"[{CN_DIGITS}]{{1,4}}"
_PATTERNS: list[tuple[Level, re.Pattern[str]]] = [
    (Level.CHAPTER, re.compile(rf"第({_CN})章")),
    (Level.PART, re.compile(rf"第({_CN})节")),
    (Level.ARTICLE, re.compile(rf"第({_CN})条")),
    (Level.CN_COMMA, re.compile(rf"(?<![第{CN_DIGITS}])({_CN})、")),
    (Level.CN_PAREN, re.compile(rf"[（(]\s*({_CN})\s*[）)]")),
    # 1. but not 2.5 (a decimal) nor 12.3万; also 1、 (a common variant)
    (Level.DIGIT_DOT, re.compile(r"(?<![\d.．])(\d{1,2})\s*(?:[.．](?![\d.．])|、)")),
    (Level.DIGIT_PAREN, re.compile(r"[（(]\s*(\d{1,2})\s*[）)]")),
]


def chinese_number(text: str) -> int:
    """一 → 1, 十九 → 19, 二十三 → 23, 〇 → 0 (numerals as written in markers)."""
    return int(cn2an.cn2an(text.replace("〇", "零").replace("两", "二"), "normal"))


def _number(level: Level, digits: str) -> int | None:
    if level in (Level.DIGIT_DOT, Level.DIGIT_PAREN):
        return int(digits)
    try:
        return chinese_number(digits)
    except ValueError:
        return None


def find_markers(text: str) -> list[Marker]:
    """Every place in `text` written like a section marker, in order (not yet checked for sense)."""
    found: dict[int, Marker] = {}
    for level, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            number = _number(level, match.group(1))
            if number is None or number < 1:
                continue
            marker = Marker(level, number, match.start(), match.end(), match.group(0))
            # At one position the first (outermost) pattern wins.
            found.setdefault(match.start(), marker)
    return sorted(found.values(), key=lambda m: m.start)
