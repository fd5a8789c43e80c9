"""Where to cut text into chunks of audio.

A chunk is what the listener loses at most when they press a key, and what `0`/重复 repeats, so
chunks follow sentences (。！？；). They are never cut inside 《》“”（）〔〕, a decimal or a 文号, are
capped in length (long sentences are cut at a pause), and the first chunk of a text is short so
that audio starts at once: a voice's time to the first sound grows with the first chunk's length
(the neural voice: about 95 ms for 9 characters, 175 ms for 20), and after a key press every
caller's first chunk is made at once. It ends at a pause within FIRST_MAX_CHARS (or
WORD_CUT_FROM), else at the end of a word within FIRST_MAX_CHARS, else at a pause or a cut within
FIRST_LIMIT_CHARS.
"""

from __future__ import annotations

from speech.words import word_ends
from textrules.sentences import outside_brackets, split_sentences

MAX_CHARS = 60
FIRST_MAX_CHARS = 12  # preferred: a pause or the end of a word within this
FIRST_LIMIT_CHARS = 20  # never longer
FIRST_MIN_CHARS = 4  # a first chunk cut at a word says at least this much
REST_MIN_CHARS = 6  # and leaves at least this much of its sentence (no orphaned 的通知)
WORD_CUT_FROM = 16  # only a sentence longer than this is cut at a word: a short one is said whole
_LOOK_PAST = 8  # characters past the limit that the segmenter sees, so that it knows the word there
_PAUSES = "，、：,:"


def _safe_cut(text: str, limit: int) -> int | None:
    """The last pause at or before `limit` that is outside brackets and not inside a number."""
    outside = outside_brackets(text)
    for i in range(min(limit - 1, len(text) - 1), 0, -1):
        if text[i] in _PAUSES and outside[i]:
            before, after = text[i - 1 : i], text[i + 1 : i + 2]
            if text[i] in ",:" and before.isdigit() and after.isdigit():
                continue  # 1,000 or 8:30
            return i + 1
    return None


def _hard_cut(text: str, limit: int) -> int:
    """No pause to cut at: cut at `limit`, moved back out of brackets and digit runs."""
    outside = outside_brackets(text)
    cut = limit
    while cut > 1 and (not outside[cut - 1] or (text[cut - 1].isalnum() and text[cut].isalnum() and text[cut].isascii())):
        cut -= 1
    return cut if cut > 1 else limit


def _word_cut(text: str, limit: int) -> int | None:
    """The last end of a word at or before `limit` that is outside brackets and not beside a
    digit or Latin letter (2024|年 would be read as a number, then 年), with FIRST_MIN_CHARS of
    speech before it and REST_MIN_CHARS after."""
    if len(text) <= WORD_CUT_FROM:
        return None
    outside = outside_brackets(text)
    speakable = [i for i, ch in enumerate(text) if ch.isalnum()]
    for end in reversed(word_ends(text[: limit + _LOOK_PAST])):  # a word across the limit is seen whole
        if end > limit or end >= len(text):
            continue
        before, after = text[end - 1], text[end]
        if not outside[end - 1] or not outside[end] or (before.isascii() and before.isalnum()) or (after.isascii() and after.isalnum()):
            continue
        said_before = sum(1 for i in speakable if i < end)
        if said_before < FIRST_MIN_CHARS:
            return None
        if len(speakable) - said_before >= REST_MIN_CHARS:
            return end
    return None


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
    for sentence in split_sentences(text):
        if not chunks and len(sentence) > first_max:
            # the first chunk is short so that audio starts at once: up to a pause within
            # first_max (or a little past it), else the end of a word within first_max, else a
            # pause within FIRST_LIMIT_CHARS,
            # else cut there (outside brackets and numbers)
            cut = _safe_cut(sentence, first_max) or _safe_cut(sentence, WORD_CUT_FROM) or _word_cut(sentence, first_max)
            if cut is None and len(sentence) > FIRST_LIMIT_CHARS:
                cut = _safe_cut(sentence, FIRST_LIMIT_CHARS) or _hard_cut(sentence, FIRST_LIMIT_CHARS)
            if cut:
                chunks.append(sentence[:cut])
                sentence = sentence[cut:]
        chunks.extend(_split_long(sentence, max_chars))
    return _no_bare_marks([c.strip() for c in chunks if c.strip()])


def _no_bare_marks(chunks: list[str]) -> list[str]:
    """A piece with nothing to say (the 「。」 left after a cut at a sentence's last character)
    goes with the chunk before it."""
    kept: list[str] = []
    for chunk in chunks:
        if kept and not any(ch.isalnum() for ch in chunk):
            kept[-1] += chunk
        else:
            kept.append(chunk)
    return kept


def ends_mid_sentence(chunk: str) -> bool:
    """Whether a chunk was cut where the text has no mark (at a word, or a hard cut): the voice
    then goes on after a breath, not a sentence's pause."""
    return bool(chunk) and chunk[-1].isalnum()
