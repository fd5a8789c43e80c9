"""Turn the running text of an official document into a tree of sections.

Markers are accepted only when they both stand where a heading can stand (start of a line, after a
sentence end, or straight after a parent's run-in heading) and continue the numbering sequence
(1 under a new parent, or one more than the last marker of that depth: official documents keep
counting across parents, so （三） may be the first child of 二、). That is what keeps 抢救第一、,
decimals like 2.5 and cited (2025年) out of the tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from content.model import Section
from content.numbering import Level, Marker, find_markers
from textrules.sentences import SENTENCE_END, first_sentence

_BOUNDARY_BEFORE = "\n" + SENTENCE_END + "：:"
_CLOSERS = "”’」』）)"
_MAX_RUN_IN_HEADING = 30  # a parent's text this short, with no sentence end, is only its heading
_MAX_SENTENCE_HEADING = 24  # a first sentence this short, followed by more text, is a heading
_MAX_OPENER_HEADING = 20
_CONNECTORS = "的和与及并或之、，,"


@dataclass
class _Node:
    level: Level | None  # None for the document itself
    marker: Marker | None
    content_start: int
    children: list[_Node] = field(default_factory=list)
    content_end: int = 0


@cache
def sentence_openers() -> tuple[str, ...]:
    """Words that typically begin the body after a run-in heading (data file, one a line)."""
    text = resources.files("content").joinpath("data/sentence_openers.txt").read_text("utf-8")
    words = [line.split("#")[0].strip() for line in text.splitlines()]
    return tuple(sorted((w for w in words if w), key=len, reverse=True))


def parse_sections(text: str) -> tuple[str, list[Section]]:
    """Split `text` into the part before any numbered section and the section tree."""
    root = _Node(level=None, marker=None, content_start=0)
    stack = [root]
    last_number: dict[Level, int] = {}
    last_parent: dict[Level, int] = {}

    accepted: list[_Node] = [root]

    for marker in find_markers(text):
        if marker.start < accepted[-1].content_start:
            continue
        depth = len(stack)
        while depth > 1 and stack[depth - 1].level >= marker.level:
            depth -= 1
        parent = stack[depth - 1]
        starts_list = marker.number == 1 and last_parent.get(marker.level) != id(parent)
        continues = last_number.get(marker.level) == marker.number - 1
        if not (starts_list or continues):
            continue
        if not (_at_boundary(text, marker.start) or _follows_heading(text, stack[-1], marker)):
            continue
        del stack[depth:]
        node = _Node(level=marker.level, marker=marker, content_start=marker.end)
        parent.children.append(node)
        stack.append(node)
        accepted.append(node)
        last_number[marker.level] = marker.number
        last_parent[marker.level] = id(parent)

    # A node's own text runs from its marker to the next accepted marker, wherever that sits.
    for node, following in zip(accepted, accepted[1:]):
        node.content_end = following.marker.start
    accepted[-1].content_end = len(text)

    preamble = _tidy(text[: root.content_end])
    sections = [_to_section(child, str(i), text) for i, child in enumerate(root.children, 1)]
    return preamble, sections


def _at_boundary(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and text[i] in " \t\u3000":
        i -= 1
    if i < 0:
        return True
    if text[i] in _BOUNDARY_BEFORE:
        return True
    if text[i] not in _CLOSERS:
        return False
    if i > 0 and text[i - 1] in SENTENCE_END:  # 。” or 。）
        return True
    # 。（责任单位：…）2. — a parenthetical note after a sentence end still ends the item.
    opener = _matching_opener(text, i)
    return opener is not None and _at_boundary(text, opener)


def _matching_opener(text: str, close: int) -> int | None:
    want = {"）": "（", ")": "("}.get(text[close])
    if want is None:
        return None
    depth = 0
    for j in range(close, max(-1, close - 400), -1):
        if text[j] == text[close]:
            depth += 1
        elif text[j] == want:
            depth -= 1
            if depth == 0:
                return j
    return None


def _follows_heading(text: str, open_node: _Node, marker: Marker) -> bool:
    """`二、重点任务（一）…`: a first child straight after its parent's short heading."""
    if open_node.level is None or marker.level <= open_node.level:
        return False
    between = text[open_node.content_start : marker.start].strip()
    return 0 < len(between) <= _MAX_RUN_IN_HEADING and not any(c in SENTENCE_END for c in between)


def _to_section(node: _Node, path: str, text: str) -> Section:
    own = _tidy(text[node.content_start : node.content_end])
    if node.level is Level.ARTICLE:  # 第X条 is its own label; its first words are not a heading
        heading, body = None, own
    else:
        heading, body = split_heading(own, has_children=bool(node.children))
    return Section(
        path=path,
        ordinal=node.marker.number,
        marker=node.marker.label,
        heading=heading,
        text=body,
        children=[_to_section(c, f"{path}.{i}", text) for i, c in enumerate(node.children, 1)],
    )


def _tidy(text: str) -> str:
    lines = (line.strip(" \t\u3000") for line in text.strip().splitlines())
    return "\n".join(line for line in lines if line)


def split_heading(own: str, has_children: bool) -> tuple[str | None, str]:
    """Separate a section's heading from its body, where the document gives one.

    `总体要求\\n深入贯彻…` (own line), `加大健康知识普及力度。将…` (a short first sentence),
    `重点任务` followed by children, and `强化责任落实各级人民政府要…` (run in, split where a typical
    body opening begins). A section that is one long sentence has no heading.
    """
    own = own.strip()
    if not own:
        return None, ""
    first_line, _, rest_lines = own.partition("\n")
    if rest_lines and len(first_line) <= _MAX_RUN_IN_HEADING and not _has_inner_sentence_end(first_line):
        return first_line.rstrip(SENTENCE_END + "：:"), rest_lines.strip()

    sentence, rest = first_sentence(own)
    if len(sentence) <= _MAX_SENTENCE_HEADING and (rest or has_children):
        return sentence.rstrip(SENTENCE_END), rest
    if not rest and has_children and len(own) <= _MAX_RUN_IN_HEADING and sentence[-1] not in SENTENCE_END + "：:":
        return own, ""
    split = _opener_split(own)
    if split:
        return own[:split], own[split:]
    return None, own


def _has_inner_sentence_end(line: str) -> bool:
    return any(c in SENTENCE_END for c in line.rstrip(SENTENCE_END))


_PUNCTUATION = re.compile(r"[，,、。；;：:！？!?“”《》（）()\s]")


def _opener_split(own: str) -> int | None:
    limit = min(_MAX_OPENER_HEADING, len(own) - 2)
    for pos in range(2, limit + 1):
        head = own[:pos]
        if _PUNCTUATION.search(head):
            return None
        if head[-1] in _CONNECTORS:
            continue
        if own.startswith(sentence_openers(), pos):
            return pos
    return None
