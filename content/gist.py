"""A notice's gist: the one sentence that carries its decision or requirement, which elderly
callers often want instead of the whole text (同意…, 决定…现予公布, 禁止…, 现将《X》印发…,
自…起施行). Chosen by rules in order of how decisive a sentence is, trimmed to about 60
characters at a pause; None when no sentence fits.
"""

from __future__ import annotations

import re

from content.titles import first_item_end

TARGET_LENGTH = 60
# What makes a sentence the notice's decision, strongest first.
_DECISIONS = [
    re.compile(r"^(?:原则)?同意|[，,](?:原则)?同意(?!.{0,6}(?:意见|报送))"),
    re.compile(r"决定(?:将|命名|授予|给予|对|撤销|设立|成立|自)"),
    re.compile(r"现予(?:以)?公布|予以公布|并予公布"),
    re.compile(r"禁止|严禁|不得(?:在|于|任何|向|新建|新增|扩建|迁入|开发|擅自)"),
    re.compile(r"现将《[^》]{2,60}》(?:印发|转发)"),
    re.compile(r"自.{2,20}?起(?:施行|实施|执行|生效)"),
]
_SENTENCE = re.compile(r"[^。！？；;]+[。！？；;]?")
_CLAUSE = re.compile(r"[^，,：:]+[，,：:]?")
_BRACKETS = re.compile(r"[（(][^（）()]{0,40}[）)]|〔[^〕]*〕")
_MARKER = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、])")
# Clauses that say why or by what authority, not what: a gist starts after them.
_PREAMBLE = re.compile(r"^(?:现批复如下|根据|按照|依照|依据|经|为了?|鉴于|结合|遵照)")


def find_gist(texts: list[str]) -> str | None:
    """The decisive sentence among `texts` (the letter, then each part, in reading order)."""
    sentences = []
    for text in texts:
        for sentence in _SENTENCE.findall((text or "").replace("\n", "")):
            sentence = _MARKER.sub("", _BRACKETS.sub("", sentence.strip()))
            if sentence:
                sentences.append(sentence)
    for pattern in _DECISIONS:
        for sentence in sentences:
            match = pattern.search(sentence)
            if match:
                return trim(sentence, match.start() + (sentence[match.start()] in "，,"))
    return None


def _cut_list(clause: str, room: int) -> str:
    """A long clause naming several things (X和Y) keeps the first, plus 等 (as titles do)."""
    if len(clause) <= room:
        return clause
    position = first_item_end(clause[:room], earliest=9)
    return clause[:position] + "等，" if position is not None else clause[:room] + "，"


def notice_texts(body: str, sections) -> list[str]:
    """What the gist is looked for in: the letter, then each part's heading and text in order
    (a heading that stops mid-clause, like 不得在, runs on into its text)."""
    texts = [body]
    for section in sections:
        heading = section.heading or ""
        joiner = "" if heading[-1:] in "在的和与及对于向把将被从" else "。"
        texts.append(f"{heading}{joiner}{section.text}" if heading else section.text)
    return texts


def trim(sentence: str, decisive: int = 0) -> str:
    """About TARGET_LENGTH characters around the decisive clause (at `decisive`): the clauses
    before it that are not preamble (根据…, 经…, 为了…), it, and what follows while it fits."""
    clauses = _CLAUSE.findall(sentence)
    ends = [sum(len(c) for c in clauses[: i + 1]) for i in range(len(clauses))]
    at = next((i for i, end in enumerate(ends) if end > decisive), len(clauses) - 1)
    first = at
    starts_clause = decisive - (ends[at] - len(clauses[at])) <= 2  # 原则同意…, 严禁…: it says who and what
    while not starts_clause and first > 0 and not _PREAMBLE.match(clauses[first - 1]) and len("".join(clauses[first - 1 : at + 1])) <= TARGET_LENGTH:
        first -= 1
    while first < at and _PREAMBLE.match(clauses[first]):
        first += 1
    chosen = clauses[first : at + 1]
    if first == at and first > 0 and len(chosen[0]) < 10:  # 现予公布 alone: say what is published
        chosen.insert(0, _cut_list(clauses[first - 1], TARGET_LENGTH - len(chosen[0])))
    for clause in clauses[at + 1 :]:
        if len("".join(chosen)) + len(clause) > TARGET_LENGTH:
            break
        chosen.append(clause)
    text = re.sub(r"\s+(?=[，,。；;：:])", "", "".join(chosen)).strip("，,；;：: 。")
    if len(text) > TARGET_LENGTH + 10:
        text = text[:TARGET_LENGTH]
    return text + "。"
