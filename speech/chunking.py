"""Where to cut text into chunks of audio.

A chunk is what the listener loses at most when they press a key, and what `0`/重复 repeats, so
chunks follow sentences (。！？；). They are never cut inside 《》“”（）〔〕, a decimal or a 文号, are
capped in length (long sentences are cut at a pause), and the first chunk of a text is short
(to a pause within FIRST_MAX_CHARS where there is one, never past FIRST_LIMIT_CHARS) so that
audio can start at once, even with the slower neural voice.
"""

from __future__ import annotations

MAX_CHARS = 60
FIRST_MAX_CHARS = 12  # preferred: the first pause within this
FIRST_LIMIT_CHARS = 20  # never longer
_SENTENCE_END = "。！？；!?;"
_PAUSES = "，、：,:"
_OPEN_TO_CLOSE = {"《": "》", "“": "”", "（": "）", "(": ")", "〔": "〕", "[": "]", "［": "］", "【": "】", "「": "」", "‘": "’"}


def _outside_brackets(text: str) -> list[bool]:
    """For each position: True when it is outside every bracket pair (unclosed ones end at the text's end)."""
    outside: list[bool] = []
    waiting: list[str] = []
    for ch in text:
        if waiting and ch == waiting[-1]:
            waiting.pop()
            outside.append(False)
        elif ch in _OPEN_TO_CLOSE:
            waiting.append(_OPEN_TO_CLOSE[ch])
            outside.append(False)
        else:
            outside.append(not waiting)
    return outside


def _sentences(text: str) -> list[str]:
    outside = _outside_brackets(text)
    pieces, start = [], 0
    for i, ch in enumerate(text):
        if ch in _SENTENCE_END and outside[i]:
            # keep a closing quote or bracket that follows the end mark with this sentence
            end = i + 1
            while end < len(text) and text[end] in "”’」）)":
                end += 1
            pieces.append(text[start:end])
            start = end
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def _safe_cut(text: str, limit: int) -> int | None:
    """The last pause at or before `limit` that is outside brackets and not inside a number."""
    outside = _outside_brackets(text)
    for i in range(min(limit - 1, len(text) - 1), 0, -1):
        if text[i] in _PAUSES and outside[i]:
            before, after = text[i - 1 : i], text[i + 1 : i + 2]
            if text[i] in ",:" and before.isdigit() and after.isdigit():
                continue  # 1,000 or 8:30
            return i + 1
    return None


def _hard_cut(text: str, limit: int) -> int:
    """No pause to cut at: cut at `limit`, moved back out of brackets and digit runs."""
    outside = _outside_brackets(text)
    cut = limit
    while cut > 1 and (not outside[cut - 1] or (text[cut - 1].isalnum() and text[cut].isalnum() and text[cut].isascii())):
        cut -= 1
    return cut if cut > 1 else limit


def _split_long(sentence: str, limit: int) -> list[str]:
    pieces = []
    while len(sentence) > limit:
        cut = _safe_cut(sentence, limit) or _hard_cut(sentence, limit)
        pieces.append(sentence[:cut])
        sentence = sentence[cut:]
    if sentence:
        pieces.append(sentence)
    return pieces


def chunk_text(text: str, max_chars: int = MAX_CHARS, first_max: int = FIRST_MAX_CHARS) -> list[str]:
    """Cut one section's text into chunks in reading order."""
    text = " ".join(text.split("\n")).strip()
    chunks: list[str] = []
    for sentence in _sentences(text):
        if not chunks and len(sentence) > first_max:
            # the first chunk is short so that audio starts at once: up to a pause within
            # first_max, else within FIRST_LIMIT_CHARS, else cut there (outside brackets and numbers)
            cut = _safe_cut(sentence, first_max)
            if cut is None and len(sentence) > FIRST_LIMIT_CHARS:
                cut = _safe_cut(sentence, FIRST_LIMIT_CHARS) or _hard_cut(sentence, FIRST_LIMIT_CHARS)
            if cut:
                chunks.append(sentence[:cut])
                sentence = sentence[cut:]
        chunks.extend(_split_long(sentence, max_chars))
    return [c.strip() for c in chunks if c.strip()]
