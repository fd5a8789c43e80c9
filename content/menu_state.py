"""What the voice menu's conversation is made of: its state, the events that move it and the
actions it answers with. Plain values, no logic of the conversation (that is content/menu.py), so
every front end can store, send and carry them out.

The state is a small value that survives a JSON round trip (it is stored per phone call between
webhooks and sent back by a kiosk page); anything that is not exactly a state is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum

from content.keys import IntentKind


class Mode(StrEnum):
    TOP = "top"  # the latest notices
    NOTICE = "notice"  # a notice's menu of parts (state.path is the menu's section, "" or its root)
    READING = "reading"  # a part of a notice, sentence by sentence
    PART_END = "part_end"  # a part has been read: what comes next?
    READ_ALL = "read_all"  # hands-free: every latest notice in turn
    RESUME = "resume"  # a caller remembered: pick up where they stopped (notice_id, cursor, sentence)?
    ENDED = "ended"  # said goodbye; the next event starts again


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    number: int | None = None


@dataclass(frozen=True)
class Event:
    """A key (0-9 * #), a recognised intent, a timeout (silence), or playback finished."""

    kind: str
    key: str | None = None
    intent: Intent | None = None

    @staticmethod
    def press(key: str) -> Event:
        return Event("key", key=key)

    @staticmethod
    def said(intent: Intent) -> Event:
        return Event("intent", intent=intent)

    @staticmethod
    def check(intent: Intent) -> Event:
        """A spoken choice heard clearly but easily confused (四/十): ask before acting on it."""
        return Event("check", intent=intent)

    @staticmethod
    def timeout() -> Event:
        return Event("timeout")

    @staticmethod
    def finished() -> Event:
        return Event("finished")

    @staticmethod
    def unclear() -> Event:
        """Speech was heard but not understood well enough to act on (low confidence, or an
        easily confused number): in a menu the listener is asked again; reading goes on."""
        return Event("unclear")


@dataclass(frozen=True)
class Choice:
    """One valid input: its key, the words that mean it, and what it does."""

    key: str | None
    words: tuple[str, ...]
    intent: Intent


@dataclass(frozen=True)
class Say:
    text: str
    interruptible: bool = True


@dataclass(frozen=True)
class Play:
    """Read one sentence of a notice (`path` "" is the letter itself)."""

    notice_id: int
    path: str
    sentence: int
    text: str


@dataclass(frozen=True)
class Listen:
    choices: tuple[Choice, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.choices if c.key)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(w for c in self.choices for w in c.words)


@dataclass(frozen=True)
class Stop:
    """Cut whatever is playing, at once."""


@dataclass(frozen=True)
class Subscribe:
    """Put the caller's number on the daily bulletin (`on`) or take it off. The front end that
    knows the number does it and says exactly one of the three texts in this action's place:
    `confirmed`, or `failed` when the list cannot be written, or `no_number` when the caller's
    number is withheld."""

    on: bool
    confirmed: str
    failed: str
    no_number: str

    @property
    def texts(self) -> tuple[str, str, str]:
        return self.confirmed, self.failed, self.no_number


@dataclass(frozen=True)
class End:
    """Goodbye said: the phone hangs up, the kiosk returns to its welcome screen."""

    reason: str


@dataclass(frozen=True)
class Forget:
    """The listener asked to be forgotten: the front end that remembers callers drops what it
    keeps of this one (their place and their pace), and keeps nothing of this call."""


@dataclass(frozen=True)
class Resume:
    """Where a remembered listener picks up: a notice, the index of its part in the menu's
    reading (Menu.parts), and the sentence in that part."""

    notice_id: int
    part: int
    sentence: int


@dataclass(frozen=True)
class Transfer:
    """The listener asked for a person. The front end that can connect them (the phone, in the
    hall's office hours) says `connecting` and hands the call over, and the actions after this
    one wait until nobody answered (Menu.after_transfer); outside office hours it says `closed`
    (which names the hours) in this action's place, and the rest follows as usual."""

    connecting: str
    closed: str

    @property
    def texts(self) -> tuple[str, str]:
        return self.connecting, self.closed


@dataclass(frozen=True)
class SendText:
    """Send the notice to the listener's phone as a text message (`body`). The front end that
    knows the number says exactly one of the texts in this action's place: `sent`, or why not
    (`no_number`: withheld; `cannot_receive`: a landline; `limit`: enough for today; `failed`)."""

    notice_id: int
    body: str
    sent: str
    no_number: str
    cannot_receive: str
    limit: str
    failed: str

    @property
    def texts(self) -> tuple[str, str, str, str, str]:
        return self.sent, self.no_number, self.cannot_receive, self.limit, self.failed


Action = Say | Play | Listen | Stop | End | Subscribe | Forget | Transfer | SendText


PACE_STEPS = range(-2, 3)  # the listener's pace: steps slower or faster than the service's own rate
LOUDNESS_STEPS = range(-1, 3)  # and loudness: one step softer, two louder than the level every chunk has


@dataclass(frozen=True)
class MenuState:
    mode: Mode = Mode.TOP
    page: int = 0
    notice_id: int | None = None
    path: str = ""  # NOTICE: the section whose children are listed; READING: the menu to go back to
    cursor: int = 0  # READING: segment index; READ_ALL: notice index
    segment: int = -1  # READ_ALL: segment index within the notice, -1 while its title is read
    sentence: int = 0
    stop_at: int = 0  # READING: last segment of the chosen part
    greeted: bool = False
    heard: bool = False  # the current menu was said in full once: retries are short
    coached: bool = False  # the reading controls were explained once
    misses: int = 0  # invalid or silent turns in a row
    confirming: int = 0  # the item a listener was asked to confirm (第四条?), 0 when none
    playing: bool = False
    subscribed: bool = False  # the caller's number gets the daily bulletin (phone only)
    pace: int = 0  # PACE_STEPS: what the listener asked for (慢一点, 快一点), from the next sentence on
    loudness: int = 0  # LOUDNESS_STEPS (大声一点, 小声一点)
    forgotten: bool = False  # the listener said 忘记我: nothing of this call is remembered

    @property
    def is_reading(self) -> bool:
        """A notice is being read aloud: a part of it, or every latest notice in turn."""
        return self.mode in (Mode.READING, Mode.READ_ALL)

    def to_json(self) -> str:
        text = _JSON_OF.get(self)
        if text is None:  # every field is a plain value: no deep copy (dataclasses.asdict)
            text = json.dumps({name: getattr(self, name) for name in _STATE_TYPES}, ensure_ascii=False, sort_keys=True)
            if rememberable(self):
                keep(_JSON_OF, self, text, _STATES_KEPT)
        return text

    @classmethod
    def from_json(cls, text: str) -> MenuState:
        """The state a front end stored or a kiosk page sent back; anything that is not exactly
        a state (unknown or missing fields, a field of the wrong type) is a ValueError, so a
        forged or stale state starts the menu again instead of reaching the machine."""
        state = _STATE_OF.get(text)
        if state is None:
            state = cls._read(text)
            if rememberable(state):
                keep(_STATE_OF, text, state, _STATES_KEPT)
        return state

    @classmethod
    def _read(cls, text: str) -> MenuState:
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("menu state nested too deeply") from None
        if isinstance(data, dict):  # stored before these fields existed: the listener's defaults
            data = {**_LATER_FIELDS, **data}
        if not isinstance(data, dict) or set(data) != _STATE_FIELDS:
            raise ValueError("not a menu state")
        for name, kinds in _STATE_TYPES.items():
            value = data[name]
            if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
                raise ValueError(f"menu state field {name} has the wrong type")
            if isinstance(value, int) and not isinstance(value, bool) and not -(2**31) <= value < 2**31:
                raise ValueError(f"menu state field {name} is out of range")
        data["mode"] = Mode(data["mode"])
        return cls(**data)


_STATE_TYPES: dict[str, tuple[type, ...]] = {
    "mode": (str,),
    "page": (int,),
    "notice_id": (int, type(None)),
    "path": (str,),
    "cursor": (int,),
    "segment": (int,),
    "sentence": (int,),
    "stop_at": (int,),
    "greeted": (bool,),
    "heard": (bool,),
    "coached": (bool,),
    "misses": (int,),
    "confirming": (int,),
    "playing": (bool,),
    "subscribed": (bool,),
    "pace": (int,),
    "loudness": (int,),
    "forgotten": (bool,),
}
_STATE_FIELDS = set(_STATE_TYPES)
if _STATE_FIELDS != {f.name for f in fields(MenuState)}:  # to_json and from_json both read this table
    raise AssertionError("content/menu_state.py: _STATE_TYPES must name every MenuState field")
_LATER_FIELDS = {"pace": 0, "loudness": 0, "forgotten": False}  # fields added after states were first stored

# The same states come back on every call (stored and read at each webhook): each one's JSON
# and each JSON's state are worked out once (an unreadable text is never kept, nor a long path).
_STATES_KEPT = 8192
_JSON_OF: dict[MenuState, str] = {}
_STATE_OF: dict[str, MenuState] = {}


def rememberable(state: MenuState) -> bool:
    """Whether a state may be kept in a cache: any state the menu makes, never one a kiosk page
    forged with a long path (caches of states are bounded in number, not in size)."""
    return len(state.path) <= _KEPT_PATH_LIMIT


_KEPT_PATH_LIMIT = 64  # a section path is a few numbers (2.3.1)


def keep(kept: dict, key, value, limit: int):
    """`kept[key] = value`, emptying `kept` first when it holds `limit` entries (the menu's
    caches: what falls out is worked out again alike); returns `value`."""
    if len(kept) >= limit:
        kept.clear()
    kept[key] = value
    return value


@dataclass
class Turn:
    """What one step builds: the next state and the actions in order."""

    state: MenuState
    actions: list[Action] = field(default_factory=list)

    def say(self, *texts: str, interruptible: bool = True) -> None:
        text = "".join(t for t in texts if t)
        if text:
            self.actions.append(Say(text, interruptible))
            self.state = replace(self.state, playing=True)

    def delegate(self, action: Subscribe | Transfer | SendText) -> None:
        """The front end says one of the action's texts in its place."""
        self.actions.append(action)
        self.state = replace(self.state, playing=True)
