"""How a notice is read aloud: its parts in reading order, their sentences, and short labels.

The voice menu reads sentence by sentence so that a key press loses at most one sentence, `0`
repeats the sentence being read, and a stored call can resume at an exact place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from content.model import Notice, Section
from textrules.sentences import split_sentences

LABEL_CHARS = 12
# Where a long first clause can be cut so the label still sounds like a phrase: before these.
_PHRASE_BREAKS = "须要的和在等及或对将把被与向于"


@dataclass(frozen=True)
class Segment:
    """One part of a notice as read: the letter ("" path) or one section (its own text only)."""

    path: str
    text: str
    sentences: tuple[str, ...]


def segments(notice: Notice) -> list[Segment]:
    parts = []
    if notice.body:
        parts.append(Segment("", notice.body, tuple(split_sentences(notice.body))))
    for section in notice.walk():
        text = section.reading_text()
        parts.append(Segment(section.path, text, tuple(split_sentences(text)) or (text,)))
    return [p for p in parts if p.sentences]


def subtree_end(parts: list[Segment], index: int) -> int:
    """Index of the last segment inside the section at `index` (its descendants follow it)."""
    path = parts[index].path
    if path == "":
        return index
    end = index
    while end + 1 < len(parts) and parts[end + 1].path.startswith(path + "."):
        end += 1
    return end


def find_section(notice: Notice, path: str) -> Section | None:
    sections, found = notice.sections, None
    for index in path.split("."):
        if not (index.isascii() and index.isdigit()) or not 1 <= int(index) <= len(sections):
            return None
        found = sections[int(index) - 1]
        sections = found.children
    return found


def menu_root(notice: Notice) -> str:
    """The path whose children form a notice's first menu: a single issued document (the 方案 of a
    印发 notice) is not a level of its own."""
    if len(notice.sections) == 1 and notice.sections[0].children:
        return notice.sections[0].path
    return ""


def menu_items(notice: Notice, path: str) -> list[Section]:
    if path == "":
        return list(notice.sections)
    section = find_section(notice, path)
    return list(section.children) if section else []


def section_label(section: Section) -> str:
    """What the menu calls a section: 一、防火期和戒严管制期, or the first words of its text."""
    if section.heading:
        return f"{section.marker}{section.heading}"
    clause = re.split(r"[，,、；;。：:]", section.text, maxsplit=1)[0]
    if len(clause) > LABEL_CHARS:
        cuts = [i for i in range(4, LABEL_CHARS + 1) if clause[i] in _PHRASE_BREAKS]
        clause = clause[: cuts[-1]] if cuts else clause[:LABEL_CHARS]
    return f"{section.marker}{clause}"


def spoken_date(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def all_sentences(notices: list[Notice]) -> list[str]:
    """Every sentence the menu can play from these notices (what Play actions carry)."""
    unique: dict[str, None] = {}
    for notice in notices:
        for segment in segments(notice):
            unique.update((sentence, None) for sentence in segment.sentences)
    return list(unique)
