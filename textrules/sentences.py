"""Where a sentence ends in written Chinese: at 。！？； (and their ASCII forms), never inside a
bracket or quotation pair (《》“”（）〔〕【】「」…), with a closing mark that follows the end kept
in its sentence. A notice's sentences (what a caller steps through with 0 and #) and the speech
side's chunks are cut by this one rule, so 「好。」 is one sentence on both sides.
"""

from __future__ import annotations

SENTENCE_END = "。！？；!?;"
BRACKETS = {"《": "》", "“": "”", "（": "）", "(": ")", "〔": "〕", "[": "]", "［": "］", "【": "】", "「": "」", "『": "』", "‘": "’"}
_TRAILING_CLOSERS = "”’」』）)"  # a stray closer right after the end mark stays with its sentence


def outside_brackets(text: str) -> list[bool]:
    """For each position: True when it is outside every bracket pair (an unclosed one runs to
    the text's end)."""
    outside: list[bool] = []
    waiting: list[str] = []
    for ch in text:
        if waiting and ch == waiting[-1]:
            waiting.pop()
            outside.append(False)
        elif ch in BRACKETS:
            waiting.append(BRACKETS[ch])
            outside.append(False)
        else:
            outside.append(not waiting)
    return outside


def sentence_ends(text: str) -> list[int]:
    """The positions just after each sentence of `text` (the last one's end is len(text) when
    the text does not end with a mark)."""
    outside = outside_brackets(text)
    ends = []
    for i, ch in enumerate(text):
        if ch in SENTENCE_END and outside[i]:
            end = i + 1
            while end < len(text) and text[end] in _TRAILING_CLOSERS:
                end += 1
            if not ends or end > ends[-1]:
                ends.append(end)
    if not ends or ends[-1] < len(text):
        ends.append(len(text))
    return ends


def split_sentences(text: str) -> list[str]:
    """Every sentence of `text` in order, each with its end mark, stripped; none empty."""
    pieces, start = [], 0
    for end in sentence_ends(text):
        pieces.append(text[start:end].strip())
        start = end
    return [p for p in pieces if p]


def first_sentence(text: str) -> tuple[str, str]:
    """The first sentence (with its end mark) and the rest, stripped."""
    end = sentence_ends(text)[0] if text else 0
    return text[:end], text[end:].strip()
