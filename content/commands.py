"""The words a listener may say for each menu choice, from one data file
(content/data/commands.toml), so synonyms can be added without code changes — and so a model
in another language can be tested with its own words."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

_COMMANDS = ("cancel", "repeat", "help", "next", "next_part", "continue", "previous", "read_all", "yes", "no")
_OPTIONAL = ("subscribe", "unsubscribe", "slower", "faster", "louder", "softer", "resume", "forget", "operator", "text")


@dataclass(frozen=True)
class Vocabulary:
    numbers: dict[int, tuple[str, ...]]
    cancel: tuple[str, ...]
    repeat: tuple[str, ...]
    help: tuple[str, ...]
    next: tuple[str, ...]
    next_part: tuple[str, ...]
    continue_: tuple[str, ...]
    previous: tuple[str, ...]
    read_all: tuple[str, ...]
    yes: tuple[str, ...]
    no: tuple[str, ...]
    subjects: bool = True
    subscribe: tuple[str, ...] = ()  # the phone's daily bulletin (key 8 on its top menu)
    unsubscribe: tuple[str, ...] = ()
    slower: tuple[str, ...] = ()  # the listener's pace and loudness (慢一点, 大声一点 …)
    faster: tuple[str, ...] = ()
    louder: tuple[str, ...] = ()
    softer: tuple[str, ...] = ()
    resume: tuple[str, ...] = ()  # a remembered caller (接着听, 忘记我)
    forget: tuple[str, ...] = ()
    operator: tuple[str, ...] = ()  # the phone: a person (key 7 on its top menu), in office hours
    text: tuple[str, ...] = ()  # the phone: the notice by text message (key 5 while it is read)

    def number(self, n: int) -> tuple[str, ...]:
        return self.numbers.get(n, ())


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    if path is None:
        text, source = resources.files("content").joinpath("data/commands.toml").read_text("utf-8"), "commands.toml"
    else:
        text, source = Path(path).read_text("utf-8"), str(path)
    try:
        data = tomllib.loads(text)
        numbers = {int(n): tuple(words) for n, words in data["numbers"].items()}
        commands = data["commands"]
        missing = [name for name in _COMMANDS if name not in commands]
        if missing:
            raise KeyError(", ".join(missing))
        words = {name: tuple(commands[name]) for name in _COMMANDS}
    except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as error:
        raise ValueError(f"{source}: not a valid command vocabulary ({error})") from None
    words["continue_"] = words.pop("continue")
    try:  # optional: a vocabulary without them offers these by key only
        for name in _OPTIONAL:
            words[name] = tuple(str(w) for w in commands.get(name, ()))
    except TypeError as error:
        raise ValueError(f"{source}: not a valid command vocabulary ({error})") from None
    return Vocabulary(numbers=numbers, subjects=bool(data.get("options", {}).get("subjects", True)), **words)
