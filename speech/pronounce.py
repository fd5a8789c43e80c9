"""Spoken Chinese → the tone-numbered pinyin sent to espeak-ng's cmn-latn-pinyin voice.

Sending pinyin rather than characters lets us fix polyphones (银行/行动, 重点/重复, 还款) and local
names (巴彦淖尔, 锡林郭勒) ourselves: our lists and the gazetteer of place names, the construction
rules (constructions.py), the dictionaries and the context model (polyphones/), in that order.
"""

from __future__ import annotations

import re
import threading
from importlib import resources
from pathlib import Path

from pypinyin import Style, lazy_pinyin, load_phrases_dict, load_single_dict
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
from pypinyin.seg import mmseg

from speech.constructions import construction_readings
from speech.polyphones import Context, dictionary_readings, model_readings

_SYLLABLE = re.compile(r"^[a-z]+[1-5]$")
_loaded: dict[str, int] = {}  # source → the version (mtime) loaded
_origins: dict[str, str] = {}  # word → which of our lists gave its reading (the last loaded wins, as in pypinyin)
_hall: dict[str, list[str]] = {}  # the hall's own words → their syllables: these win wherever they stand
BUILT_IN, HALL = "the built-in list (speech/data/pronunciations.txt)", "the hall's list (pronunciations.txt)"
GAZETTEERS = ("places/china.txt", "places/inner_mongolia.txt")  # provinces and cities of China; Inner Mongolia to its towns
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


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start}); fix or remove the file") from None


def _bundled_text(name: str = "pronunciations.txt") -> str:
    return resources.files("speech").joinpath("data", name).read_text("utf-8")


def load_dictionary(extra: Path | None = None) -> bool:
    """Teach pypinyin our pronunciations (the gazetteer's place names, our built-in list, then
    `extra`: the later wins): each file once per process, and `extra` again whenever it has
    changed on disk (staff fix a name while the service runs, in this process or another). True
    when something new was loaded."""
    sources: list[tuple[str, Path | None, str]] = [
        *((name, None, f"the gazetteer (speech/data/{name})") for name in GAZETTEERS),
        ("pronunciations.txt", None, BUILT_IN),
    ]
    if extra is not None and extra.exists():
        sources.append((str(extra), extra, HALL))
    changed = False
    with _lock:
        for name, path, origin in sources:
            version = path.stat().st_mtime_ns if path is not None else 0
            if _loaded.get(name) == version:
                continue
            phrases = parse_dictionary(_read(path) if path is not None else _bundled_text(name), name)
            singles = {w: p for w, p in phrases.items() if len(w) == 1}
            if singles:
                load_single_dict({ord(w): ",".join(p[0]) for w, p in singles.items()}, style="tone3")
            load_phrases_dict({w: p for w, p in phrases.items() if len(w) > 1}, style="tone3")
            _origins.update(dict.fromkeys(phrases, origin))
            if path is not None:
                _hall.clear()
                _hall.update({w: [s[0] for s in p] for w, p in phrases.items()})
            _loaded[name] = version
            changed = True
    return changed


def dictionary_entries(extra: Path | None = None) -> list[tuple[str, str, str]]:
    """(word, pinyin, "built-in" or "hall") for every entry; the hall's own win."""
    entries = {w: (" ".join(s[0] for s in p), "built-in") for w, p in parse_dictionary(_bundled_text(), "bundled").items()}
    if extra is not None and extra.exists():
        entries.update((w, (" ".join(s[0] for s in p), "hall")) for w, p in parse_dictionary(_read(extra), str(extra)).items())
    return [(word, pinyin, source) for word, (pinyin, source) in entries.items()]


def check_entry(word: str, pinyin: str) -> tuple[str, str]:
    """A word and its pinyin as a dictionary line takes them (ValueError says what is wrong)."""
    word, syllables = word.strip(), pinyin.strip().lower().split()
    if not word or not all("\u4e00" <= c <= "\u9fff" for c in word):
        raise ValueError("词语只能是汉字")
    if len(syllables) != len(word) or not all(_SYLLABLE.match(s) for s in syllables):
        raise ValueError(f"“{word}”有 {len(word)} 个字，需要 {len(word)} 个带声调数字的拼音（如 yin2 hang2）")
    return word, " ".join(syllables)


def save_entry(extra: Path, word: str, pinyin: str) -> None:
    """Add or change the hall's entry for `word` in `extra` (written aside, then renamed)."""
    word, pinyin = check_entry(word, pinyin)
    lines = extra.read_text("utf-8").splitlines() if extra.exists() else ["# 本大厅的读音：每行一个词语和它的拼音"]
    kept = [line for line in lines if line.split("#", 1)[0].split()[:1] != [word]]
    temporary = extra.with_name(extra.name + ".tmp")
    temporary.write_text("\n".join([*kept, f"{word}\t{pinyin}"]) + "\n", "utf-8")
    temporary.replace(extra)


def base_readings(text: str) -> list[str]:
    """pypinyin's reading of each character of `text`, our lists loaded ("" for a character it
    does not read): what the context model starts from."""
    load_dictionary()
    pieces = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: [""] * len(s))
    if len(pieces) != len(text):  # one reading per character, whatever pypinyin grouped
        pieces = [next(iter(lazy_pinyin(c, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: [""])), "") for c in text]
    return [p if _SYLLABLE.match(p) else "" for p in pieces]


def read_characters(spoken: str) -> list[tuple[str, str]]:
    """(tone-numbered syllable or "", what chose it) for each character of `spoken`, in the order
    that decides: the hall's list, our built-in list and the gazetteer of place names (whole
    words); then the rules for constructions (以…为…, which see past the words segmentation cuts);
    then a polyphone's reading where pypinyin's phrases and CC-CEDICT's words agree; then the
    context model for any other polyphone; else pypinyin (its phrase dictionary, or a character's
    most common reading)."""
    base = base_readings(spoken)
    why = [""] * len(spoken)
    position = 0
    for word in mmseg.seg.cut(spoken):
        if word in _origins:
            why[position:position + len(word)] = [_origins[word]] * len(word)
        position += len(word)
    readings = list(base)
    with _lock:  # a reload may be replacing them
        hall = list(_hall.items())
    for word, syllables in hall:  # inside a longer word of another list too (查干 in 查干淖尔)
        start = spoken.find(word)
        while start >= 0:
            readings[start:start + len(word)] = syllables
            why[start:start + len(word)] = [HALL] * len(word)
            start = spoken.find(word, start + 1)
    context = Context(spoken, base)
    for decide in (construction_readings, dictionary_readings, model_readings):
        settled = {i for i, w in enumerate(why) if w}
        for at, (syllable, chosen_by) in decide(context, settled).items():
            readings[at], why[at] = syllable, chosen_by
    return list(zip(readings, why))


def to_pinyin(spoken: str) -> str:
    """Tone-numbered pinyin with `、` for a list's short pauses, `, ` for pauses and `. ` for
    sentence ends."""
    words: list[str] = []
    for char, (syllable, _) in zip(spoken, read_characters(spoken)):
        if syllable:
            words.append(syllable)
        elif char in "。！？；":
            _end(words, ".")
        elif char.strip(" 、"):
            _end(words, ",")
        elif char == "、":
            _end(words, "、")  # a list's short pause (espeak-ng reads it as a comma)
    text = " ".join(words)
    for mark in _MARKS:
        text = text.replace(" " + mark, mark)
    return text.strip(" ,、")


_MARKS = ("、", ",", ".")  # pauses, shortest first


def explain(spoken: str) -> list[tuple[str, str, str]]:
    """(word, its pinyin, what chose it) for each word of `spoken` as the reading cuts it: one of
    our lists, a construction rule, the context model (with pypinyin's reading when it differs),
    pypinyin's phrase dictionary, or a character's most common reading (its others named when it
    has several). `tingwen normalize --pinyin --why` prints it."""
    characters = read_characters(spoken)
    base = base_readings(spoken)
    found, position = [], 0
    for word in mmseg.seg.cut(spoken):
        span = range(position, position + len(word))
        position += len(word)
        syllables = [characters[i][0] for i in span if characters[i][0]]
        if not syllables:
            continue  # punctuation: a pause, not a reading
        chosen = [characters[i][1] for i in span if characters[i][1]]
        if chosen:
            why = chosen[0]
            changed = [f"{spoken[i]} {base[i]}" for i in span if characters[i][1] == why and base[i] != characters[i][0]]
            if changed and why not in (BUILT_IN, HALL) and not why.startswith("the gazetteer"):
                why += f" (pypinyin alone: {', '.join(changed)})"
        elif len(word) > 1 and word in PHRASES_DICT:
            why = "pypinyin's phrase dictionary"
        else:
            readings = PINYIN_DICT.get(ord(word[0]), "").split(",") if len(word) == 1 else []
            why = "the character's most common reading" + (f" (also {', '.join(readings[1:])})" if len(readings) > 1 else "")
        found.append((word, " ".join(syllables), why))
    return found


def _end(words: list[str], mark: str) -> None:
    """Close a phrase with `mark`, or lengthen the pause that already closes it."""
    if words and words[-1] not in _MARKS:
        words.append(mark)
    elif words and _MARKS.index(mark) > _MARKS.index(words[-1]):
        words[-1] = mark
