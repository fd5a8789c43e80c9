"""The key and command map, once: which key and which spoken words mean which intent, how the
prompts name the key, and what it does.

Everything that needs the map is made from `KEYS`: the menu's choices (content/menu.py), the
kiosk's keys and spoken commands (it sends intents, never re-maps keys), the prompts' key hints
(the {cancel_key}-style placeholders of prompts.toml), the valid-key set of every front end, and
the README's table (checked by a test). A new key or command is one row here, plus its words in
commands.toml.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class IntentKind(StrEnum):
    CHOOSE = "choose"
    READ_ALL = "read_all"
    CANCEL = "cancel"
    REPEAT = "repeat"
    NEXT = "next"
    PREVIOUS = "previous"
    HELP = "help"
    YES = "yes"  # confirming an easily misheard choice (第四条/第十条)
    NO = "no"
    SUBSCRIBE = "subscribe"  # the daily bulletin by phone (订阅每日播报)
    UNSUBSCRIBE = "unsubscribe"
    SLOWER = "slower"  # the listener's pace and loudness, from the next sentence on
    FASTER = "faster"
    LOUDER = "louder"
    SOFTER = "softer"
    RESUME = "resume"  # a remembered caller: go on where they stopped (接着听)
    FORGET = "forget"  # forget what is remembered of this caller (忘记我)
    OPERATOR = "operator"  # a person: the hall's staff, in office hours (人工)
    TEXT = "text"  # the notice by text message to the caller's phone (发短信)


@dataclass(frozen=True)
class KeyRow:
    """One intent: its key (None: spoken only), the commands.toml lists of its words, how a
    prompt names its key, and what it does (the README's words)."""

    intent: IntentKind
    key: str | None
    commands: tuple[str, ...]
    spoken: str
    meaning: str
    label: str = ""  # the kiosk's legend of keys (连读, 停止并返回, ...); "" for none


ITEM_KEYS = "12345678"  # choose the item of that number on the menu on show
ALL_KEYS = "0123456789*#"  # what a keypad sends; any other key is refused before the menu sees it

KEYS: tuple[KeyRow, ...] = (
    KeyRow(IntentKind.CHOOSE, None, ("numbers",), "",
           "choose that item on the current menu (on the phone, a page of the latest notices gives up `8` when the "
           "daily bulletin is set up and `7` when a person can be reached: 6 or 7 notices a page there)"),
    KeyRow(IntentKind.SUBSCRIBE, "8", ("subscribe",), "8",
           "on the phone's latest notices, with the daily bulletin set up: subscribe to it"),
    KeyRow(IntentKind.UNSUBSCRIBE, "8", ("unsubscribe",), "8", "the same for a subscriber: stop the daily bulletin"),
    KeyRow(IntentKind.READ_ALL, "9", ("read_all",), "9",
           "on the latest notices: read them all, one after another (hands-free); in a notice: read it "
           "(or the chosen part) from the start (the kiosk too: 9 is never a card)", "连读"),
    KeyRow(IntentKind.CANCEL, "*", ("cancel",), "星号键",
           "stop speaking at once and go back one level (at the top: hear the list again)", "停止并返回"),
    KeyRow(IntentKind.NO, "*", ("no",), "星号键", "not that one (after 您说的是第四项吗？)"),
    KeyRow(IntentKind.REPEAT, "0", ("repeat",), "0", "repeat the current menu with help; while reading, the current sentence", "重复"),
    KeyRow(IntentKind.HELP, None, ("help",), "", "the help (in a menu the same as `0`)"),
    KeyRow(IntentKind.NEXT, "#", ("next", "next_part", "continue"), "井号键",
           "next page of a list; while reading, the next part (hands-free: the next notice)", "下一条"),
    KeyRow(IntentKind.YES, "#", ("yes",), "井号键", "yes, that one (after 您说的是第四项吗？)"),
    KeyRow(IntentKind.PREVIOUS, None, ("previous",), "", "the previous part (or page)"),
    KeyRow(IntentKind.SLOWER, "4", ("slower",), "4",
           "while a notice is read (where `1`–`8` choose nothing): read more slowly; by voice at any moment"),
    KeyRow(IntentKind.FASTER, "6", ("faster",), "6", "the same: read faster"),
    KeyRow(IntentKind.LOUDER, "2", ("louder",), "2", "the same: louder"),
    KeyRow(IntentKind.SOFTER, "8", ("softer",), "8", "the same: softer"),
    KeyRow(IntentKind.RESUME, "1", ("resume",), "1",
           "a caller the phone remembers, asked 接着听吗: go on from the sentence after the one they last heard"),
    KeyRow(IntentKind.FORGET, "7", ("forget",), "7",
           "the same question: forget their place and pace (忘记我 may be said at any moment)"),
    KeyRow(IntentKind.OPERATOR, "7", ("operator",), "7",
           "on the phone's latest notices, with a staff number set up: a person, in office hours (outside them: "
           "the hours); 人工 may be said at any moment"),
    KeyRow(IntentKind.TEXT, "5", ("text",), "5",
           "on the phone, with text messages set up, while a notice is read or after a part: the notice's title, "
           "文号, date and address by SMS (by voice also in its menu of parts)"),
)  # fmt: skip

_BY_INTENT = {row.intent: row for row in KEYS}


def key_of(intent: IntentKind) -> str | None:
    """The key of an intent (None: it is spoken only, or chosen by its number's key)."""
    return _BY_INTENT[intent].key


def prompt_keys() -> dict[str, str]:
    """How the prompts name each key: {cancel_key: 星号键, next_key: 井号键, ...}, for the
    placeholders of prompts.toml."""
    return {f"{row.intent.value}_key": row.spoken for row in KEYS if row.spoken}


def key_legend() -> list[tuple[str, str]]:
    """(key, what it does) for the keys a kiosk page lists under its content."""
    return [(row.key, row.label) for row in KEYS if row.key and row.label]


def page_intents() -> dict[str, str]:
    """Key → intent on the kiosk's pages, where each key has one meaning (the first row that
    names it: * cancels, # goes on, 0 repeats); the item keys choose."""
    keys: dict[str, str] = {key: IntentKind.CHOOSE.value for key in ITEM_KEYS}
    for row in KEYS:
        if row.key and row.key not in ITEM_KEYS:
            keys.setdefault(row.key, row.intent.value)
    return keys


def _words(vocabulary, command: str) -> tuple[str, ...]:
    return tuple(getattr(vocabulary, "continue_" if command == "continue" else command))


def spoken_intents(vocabulary) -> dict[str, tuple[str, int | None]]:
    """Every word of the vocabulary → (intent, number): what a front end that hears words (the
    kiosk's microphone) acts on."""
    words: dict[str, tuple[str, int | None]] = {}
    for n in range(1, len(ITEM_KEYS) + 1):
        words.update((w, (IntentKind.CHOOSE.value, n)) for w in vocabulary.number(n))
    for row in KEYS:
        for command in row.commands if row.intent is not IntentKind.CHOOSE else ():
            words.update((w, (row.intent.value, None)) for w in _words(vocabulary, command) if w not in words)
    return words


def markdown_table(vocabulary) -> str:
    """The README's table of keys and words, made from KEYS and the vocabulary (its first words)."""
    lines = ["| input | meaning |", "| --- | --- |"]
    for row in KEYS:
        if row.intent is IntentKind.CHOOSE:
            key, said = "`1`–`8`", f"{vocabulary.number(1)[0]}…{vocabulary.number(8)[0]}"
        else:
            key = f"`{row.key}`" if row.key else ""
            said = ", ".join(w for command in row.commands for w in _words(vocabulary, command)[:2])
        lines.append(f"| {' / '.join(part for part in (key, said) if part)} | {row.meaning} |")
    return "\n".join(lines)
