"""The voice menu: the one conversation that the phone, the kiosk and hands-free listening drive.

Pure logic, no I/O: `Menu(notices).step(state, event) -> (state, actions)`. The state, events and
actions are plain values (content/menu_state.py); what is said is made by content/menu_texts.py;
this module decides what comes next. A key means the same everywhere: the map of keys and words
is content/keys.py. `menu_for` is the one factory every front end and command uses.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

from content.commands import Vocabulary, load_vocabulary
from content.keys import ITEM_KEYS, IntentKind
from content.menu_bulletin import Bulletin
from content.menu_inputs import Inputs
from content.menu_reading import Reading
from content.menu_resume import Remembering
from content.menu_services import PhoneServices, top_page_size
from content.menu_state import (
    Action, Choice, End, Event, Forget, Intent, Listen, MenuState, Mode, Play, Resume, Say, SendText, Stop, Subscribe, Transfer,
    Turn, keep, rememberable,
)
from content.menu_texts import BULLETIN_NOTICES, MenuTexts, prompt_texts
from content.menu_voice import VOICE_INTENTS, adjusted, in_range
from content.model import Notice
from content.office_hours import OfficeHours
from content.prompts import Prompts
from content.reading import Segment, menu_items, menu_root, section_label, segments, subtree_end
from content.store import NoticeStore

__all__ = [  # the conversation's values, importable from here with the machine that uses them
    "Action", "Choice", "End", "Event", "Forget", "Intent", "Listen", "MenuState", "Mode", "Play", "Resume", "Say", "Stop",
    "SendText", "Subscribe", "Transfer",
    "BULLETIN_NOTICES", "DEFAULT_MAX_MISSES", "MENU_NOTICES", "PAGE_SIZE", "Menu", "MenuSettings", "menu_for",
]

PAGE_SIZE = len(ITEM_KEYS)  # items on a page, one key each (content/keys.py)
DEFAULT_MAX_MISSES = 3
TURNS_KEPT = 8192  # (state, event) pairs whose turn a menu remembers
MENU_NOTICES = 40  # the latest notices a listener can page through (five pages); a setting


class Menu(Inputs, Reading, Remembering, PhoneServices, Bulletin):
    """The conversation: menus of the latest notices and of a notice's parts here, what each
    state accepts in content/menu_inputs.py, reading (a part sentence by sentence, hands-free
    every notice in turn) in content/menu_reading.py, a remembered caller's offer to go on in
    content/menu_resume.py, a person and text messages in content/menu_services.py, the daily
    bulletin's calls in content/menu_bulletin.py."""

    def __init__(
        self,
        notices: Sequence[Notice],
        prompts: Prompts | None = None,
        max_misses: int = DEFAULT_MAX_MISSES,
        vocabulary: Vocabulary | None = None,
        subscription: bool = False,
        office_hours: OfficeHours | None = None,
        texting: bool = False,
    ):
        self.notices = list(notices)  # newest first
        self.by_id = {n.id: n for n in self.notices}
        self.texts = MenuTexts(prompts)
        self.prompts = self.texts.prompts
        self.words = vocabulary or load_vocabulary()
        self.max_misses = max_misses
        # The phone offers the daily bulletin on key 8 of the latest notices and a person on
        # key 7; their pages then hold fewer notices (the kiosk, with no number to call back
        # and staff at hand, keeps eight). Text messages take no key from a menu of items.
        self.subscription = subscription
        self.office_hours = office_hours
        self.texting = texting
        self.top_size = top_page_size(PAGE_SIZE, office_hours is not None, subscription)
        self._segments: dict[int | None, list[Segment]] = {}
        self._choices: dict[MenuState, tuple[Choice, ...]] = {}  # what each state accepts (Inputs.choices)
        self._turns: dict[tuple[MenuState, Event], tuple[MenuState, tuple[Action, ...]]] = {}  # step's answers

    def parts(self, notice: Notice) -> list[Segment]:
        """The notice's parts as the menu reads them (computed once per menu)."""
        return self._parts(notice)

    def _parts(self, notice: Notice) -> list[Segment]:
        if notice.id not in self._segments:
            self._segments[notice.id] = segments(notice)
        return self._segments[notice.id]

    # Entry points

    def start(
        self, greeted: bool = False, subscribed: bool = False, pace: int = 0, loudness: int = 0, resume: Resume | None = None
    ) -> tuple[MenuState, list[Action]]:
        """A call or a visit begins at the latest notices, with the listener's own pace and
        loudness when they are remembered; a remembered place in a notice still on the menu is
        offered first (接着听)."""
        listener = MenuState(greeted=greeted, subscribed=subscribed and self.subscription, pace=pace, loudness=loudness)
        turn = Turn(listener if in_range(listener) else replace(listener, pace=0, loudness=0))
        if self._resumable(resume):
            self._offer_resume(turn, resume)
        else:
            self._enter_top(turn, page=0)
        return turn.state, turn.actions

    def step(self, state: MenuState, event: Event) -> tuple[MenuState, list[Action]]:
        """The next state and what to do, from `state` on `event`. A turn depends on nothing
        else than these and the menu's notices, so each is worked out once per menu: the same
        turns come on every call (the latest notices, a notice read on sentence by sentence)."""
        if not rememberable(state):
            return self._step(state, event)
        known = self._turns.get((state, event))
        if known is None:
            next_state, actions = self._step(state, event)
            known = keep(self._turns, (state, event), (next_state, tuple(actions)), TURNS_KEPT)
        return known[0], list(known[1])

    def _step(self, state: MenuState, event: Event) -> tuple[MenuState, list[Action]]:
        if not self.is_valid(state) or state.mode is Mode.ENDED:
            # a stale state (its notice is gone) or a finished session starts again
            fresh, actions = self.start(greeted=state.greeted and state.mode is not Mode.ENDED, pace=state.pace, loudness=state.loudness)
            return fresh, ([Stop()] if state.playing else []) + actions
        turn = Turn(state)
        if event.kind == "finished":
            turn.state = replace(state, playing=False)
            self._on_finished(turn)
            if not turn.actions:  # a prompt ended: keep listening for the same choices
                turn.actions.append(Listen(self.choices(turn.state)))
            return turn.state, turn.actions
        if event.kind == "check" and not state.confirming:
            intent = self._accept(state, Event.said(event.intent)) if event.intent else None
            if intent is not None and intent.kind is IntentKind.CHOOSE:
                if state.playing:
                    turn.actions.append(Stop())
                turn.state = replace(state, confirming=intent.number, playing=False, misses=0)
                turn.say(self.prompts.confirm.format(number=intent.number))
                turn.actions.append(Listen(self.choices(turn.state)))
                return turn.state, turn.actions
            event = Event.said(event.intent) if event.intent else Event.unclear()
        if event.kind == "unclear":
            if state.is_reading:  # noise must not stop the reading
                return state, [Listen(self.choices(state))]
            self._miss(turn, self.prompts.unclear)
            return turn.state, turn.actions
        if event.kind == "timeout":
            if state.is_reading:  # nobody pressed anything: read on
                turn.state = replace(state, playing=False)
                self._on_finished(turn)
            else:
                self._miss(turn, self.prompts.silence)
            return turn.state, turn.actions
        intent = self._accept(state, event)
        if intent is None:
            self._miss(turn, self.prompts.invalid)
            return turn.state, turn.actions
        turn.state = replace(turn.state, misses=0)
        if turn.state.playing or intent.kind is IntentKind.CANCEL:
            # any valid input cuts what is playing; cancel says so even if nothing seems to be
            turn.actions.append(Stop())
            turn.state = replace(turn.state, playing=False)
        self._on_intent(turn, intent)
        return turn.state, turn.actions

    def prompt_texts(self) -> list[str]:
        """Every prompt this menu can say to these notices (content/menu_texts.py walks it)."""
        return prompt_texts(self)

    # Input

    def _miss(self, turn: Turn, what: str) -> None:
        misses = turn.state.misses + 1
        turn.state = replace(turn.state, misses=misses, confirming=0)  # a miss drops a pending confirmation
        if misses >= self.max_misses:
            turn.actions.append(Stop())
            turn.state = replace(turn.state, mode=Mode.ENDED, playing=False)
            turn.say(self.goodbye(turn.state), interruptible=False)
            turn.actions.append(End("no valid input"))
            return
        turn.actions.append(Stop())
        turn.say(what)
        self._repeat_current(turn, short=True)

    def _on_intent(self, turn: Turn, intent: Intent) -> None:
        if turn.state.confirming:
            number = turn.state.confirming
            turn.state = replace(turn.state, confirming=0)
            if intent.kind is IntentKind.YES:
                self._on_intent(turn, Intent(IntentKind.CHOOSE, number))
            else:
                self._repeat_current(turn, short=True)
            return
        if intent.kind is IntentKind.FORGET:
            self._forget(turn)
            return
        if self._service_intent(turn, intent):
            return
        if intent.kind in VOICE_INTENTS:
            turn.state, confirmation = adjusted(turn.state, intent.kind, self.prompts)
            turn.say(confirmation)  # at the new pace and loudness, as what follows
            self._repeat_current(turn, short=True)  # reading: the sentence that was cut, again
            return
        mode = turn.state.mode
        if mode is Mode.TOP:
            self._top_intent(turn, intent)
        elif mode is Mode.NOTICE:
            self._notice_intent(turn, intent)
        elif mode is Mode.READING:
            self._reading_intent(turn, intent)
        elif mode is Mode.PART_END:
            self._part_end_intent(turn, intent)
        elif mode is Mode.READ_ALL:
            self._read_all_intent(turn, intent)
        elif mode is Mode.RESUME:
            self._resume_intent(turn, intent)

    def _repeat_current(self, turn: Turn, short: bool) -> None:
        state = turn.state
        if state.mode is Mode.TOP:
            self._say_top(turn, short=short, help_=not short)
        elif state.mode is Mode.NOTICE:
            self._say_notice_menu(turn, short=short, help_=not short)
        elif state.mode is Mode.PART_END:
            self._say_part_end(turn)
        elif state.is_reading:
            self._play_current(turn)
        elif state.mode is Mode.RESUME:
            self._offer_resume(turn, Resume(state.notice_id, state.cursor, state.sentence))

    # The latest notices

    def _top_pages(self) -> int:
        return max(1, -(-len(self.notices) // self.top_size))

    def _page_count(self, state: MenuState) -> int:
        if state.mode is Mode.TOP:
            return self._top_pages()
        return max(1, -(-len(self._items(state)) // PAGE_SIZE))

    def _page_item_count(self, state: MenuState) -> int:
        size = self.top_size if state.mode is Mode.TOP else PAGE_SIZE
        total = len(self.notices) if state.mode is Mode.TOP else len(self._items(state))
        return max(0, min(size, total - state.page * size))

    def _enter_top(self, turn: Turn, page: int) -> None:
        kept = turn.state
        turn.state = replace(MenuState(), greeted=kept.greeted, coached=kept.coached, subscribed=kept.subscribed, page=page,
                             pace=kept.pace, loudness=kept.loudness, forgotten=kept.forgotten)
        if not turn.state.greeted:
            turn.say(self.prompts.greeting)
            turn.state = replace(turn.state, greeted=True)
        self._say_top(turn, short=False, help_=True)

    def _say_top(self, turn: Turn, short: bool, help_: bool) -> None:
        said = self.texts
        offer = said.operator_offer(self.office_hours) + said.bulletin_offer(self.subscription, turn.state.subscribed)
        if not self.notices:
            turn.say(self.prompts.no_notices, offer)
            turn.actions.append(Listen(self.choices(turn.state)))
            return
        state = turn.state
        count = self._page_item_count(state)
        if short:
            turn.say(said.top_short(count))
        else:
            titles = [n.spoken_title for n in self.notices[state.page * self.top_size : state.page * self.top_size + count]]
            turn.say(*said.top_menu(titles, len(self.notices), state.page, self._top_pages(), offer, help_ or not state.heard))
            turn.state = replace(turn.state, heard=True)
        turn.actions.append(Listen(self.choices(turn.state)))

    def _top_intent(self, turn: Turn, intent: Intent) -> None:
        state = turn.state
        if intent.kind is IntentKind.CHOOSE:
            notice = self.notices[state.page * self.top_size + intent.number - 1]
            self._open_notice(turn, notice)
        elif intent.kind in (IntentKind.SUBSCRIBE, IntentKind.UNSUBSCRIBE):
            self._subscribe(turn, intent.kind is IntentKind.SUBSCRIBE)
        elif intent.kind is IntentKind.READ_ALL:
            self._start_read_all(turn)
        elif intent.kind in (IntentKind.NEXT, IntentKind.PREVIOUS):
            step = 1 if intent.kind is IntentKind.NEXT else -1
            turn.state = replace(state, page=(state.page + step) % self._top_pages(), heard=False)
            self._say_top(turn, short=False, help_=False)
        elif intent.kind is IntentKind.CANCEL:
            self._say_top(turn, short=False, help_=False)  # the top never hangs up by itself
        else:  # repeat, help
            self._say_top(turn, short=False, help_=True)

    # A notice and its parts

    def _items(self, state: MenuState):
        notice = self.by_id.get(state.notice_id)
        return menu_items(notice, state.path) if notice else []

    def _open_notice(self, turn: Turn, notice: Notice) -> None:
        turn.say(self.texts.notice_intro(notice), self.texts.notice_gist(notice))
        root = menu_root(notice)
        if not menu_items(notice, root):  # nothing to choose from: read it straight away
            parts = self._parts(notice)
            if not parts:
                turn.say(self.prompts.notice_end)
                self._enter_top(turn, page=self._page_of(notice))
                return
            self._start_reading(turn, notice, 0, len(parts) - 1, origin=None)
            return
        turn.state = replace(turn.state, mode=Mode.NOTICE, notice_id=notice.id, path=root, page=0, heard=False)
        self._say_notice_menu(turn, short=False, help_=False)

    def _say_notice_menu(self, turn: Turn, short: bool, help_: bool) -> None:
        state = turn.state
        count = self._page_item_count(state)
        if short:
            turn.say(self.texts.section_short(count))
        else:
            labels = [section_label(s) for s in self._items(state)[state.page * PAGE_SIZE : state.page * PAGE_SIZE + count]]
            whole = state.path == menu_root(self.by_id[state.notice_id])
            total, pages = len(self._items(state)), self._page_count(state)
            turn.say(*self.texts.section_menu(labels, total, state.page, pages, whole, help_ or not state.heard))
            turn.state = replace(turn.state, heard=True)
        turn.actions.append(Listen(self.choices(turn.state)))

    def _notice_intent(self, turn: Turn, intent: Intent) -> None:
        state = turn.state
        notice = self.by_id[state.notice_id]
        parts = self._parts(notice)
        if intent.kind is IntentKind.CHOOSE:
            section = self._items(state)[state.page * PAGE_SIZE + intent.number - 1]
            if section.children:
                turn.say(section_label(section))
                turn.state = replace(state, path=section.path, page=0, heard=False)
                self._say_notice_menu(turn, short=False, help_=False)
            else:
                index = next(i for i, s in enumerate(parts) if s.path == section.path)
                self._start_reading(turn, notice, index, subtree_end(parts, index), origin=state.path)
        elif intent.kind is IntentKind.READ_ALL:
            if state.path == menu_root(notice):
                self._start_reading(turn, notice, 0, len(parts) - 1, origin=state.path)
            else:
                index = next(i for i, s in enumerate(parts) if s.path == state.path)
                self._start_reading(turn, notice, index, subtree_end(parts, index), origin=state.path)
        elif intent.kind in (IntentKind.NEXT, IntentKind.PREVIOUS):
            step = 1 if intent.kind is IntentKind.NEXT else -1
            turn.state = replace(state, page=(state.page + step) % self._page_count(state), heard=False)
            self._say_notice_menu(turn, short=False, help_=False)
        elif intent.kind is IntentKind.CANCEL:
            self._back_from_menu(turn, notice)
        else:
            self._say_notice_menu(turn, short=False, help_=True)

    def _back_from_menu(self, turn: Turn, notice: Notice) -> None:
        path = turn.state.path
        if path == menu_root(notice):
            self._enter_top(turn, page=self._page_of(notice))
            return
        parent = path.rpartition(".")[0]
        if len(parent) <= len(menu_root(notice)):  # never into the flattened issued document
            parent = menu_root(notice)
        turn.state = replace(turn.state, mode=Mode.NOTICE, path=parent, page=0, heard=False)
        self._say_notice_menu(turn, short=False, help_=False)

    def goodbye(self, state: MenuState) -> str:
        """The last words of a call: a subscriber also hears how to stop the daily bulletin."""
        return self.texts.goodbye(state.subscribed)

    def _page_of(self, notice: Notice) -> int:
        return self.notices.index(notice) // self.top_size

    def _subscribe(self, turn: Turn, on: bool) -> None:
        """The daily bulletin on or off (asking for what is already so just says so), then the
        latest notices again, briefly."""
        if on == turn.state.subscribed:
            turn.say(self.prompts.already_subscribed if on else self.prompts.not_subscribed)
        else:
            turn.delegate(self.texts.subscription(on))
            turn.state = replace(turn.state, subscribed=on)
        self._say_top(turn, short=True, help_=False)

_cached: dict[tuple, tuple[MenuSettings, Menu]] = {}  # in order of use, the most recent last
_cache_lock = threading.Lock()
_CACHED_MENUS = 8


@dataclass(frozen=True)
class MenuSettings:
    """What shapes the menu besides the notices; one value from the configuration, used by the
    server's front ends, prerender, `models check` and `listen` alike."""

    max_misses: int = DEFAULT_MAX_MISSES
    vocabulary: Vocabulary | None = None  # None: content/data/commands.toml
    notices: int = MENU_NOTICES
    prompts: Prompts | None = None  # None: content/data/prompts.toml
    subscription: bool = False  # the phone's key 8: the daily bulletin on or off
    office_hours: OfficeHours | None = None  # the phone's key 7: a person, in these hours (None: no one to reach)
    texting: bool = False  # the phone's key 5: the notice by text message


_DEFAULT_SETTINGS = MenuSettings()


def menu_for(store: NoticeStore, settings: MenuSettings | None = None) -> Menu:
    """The one menu factory: the menu over the store's latest `settings.notices` notices
    (withdrawn ones left out), rebuilt whenever the store is written (every webhook and kiosk
    request needs one; loading the notices each time would dominate)."""
    settings = settings or _DEFAULT_SETTINGS
    # The settings themselves are kept with the menu, so the id in the key cannot be reused by
    # other settings while the entry lives (their vocabulary holds dicts: no hash by value).
    key = (str(store.path), store.revision(), id(settings))
    with _cache_lock:
        cached = _cached.pop(key, None)
        if cached is not None and cached[0] is settings:
            _cached[key] = cached  # the most recently used last
            return cached[1]
    notices = store.latest(limit=settings.notices)
    cached = (settings, Menu(notices, settings.prompts, settings.max_misses, settings.vocabulary, settings.subscription,
                             settings.office_hours, settings.texting))
    with _cache_lock:
        for old in [k for k in _cached if k[0] == key[0] and k[1] != key[1]]:  # this store's older revisions
            del _cached[old]
        while len(_cached) >= _CACHED_MENUS:  # then the least recently used (the phone's and the kiosk's live side by side)
            del _cached[next(iter(_cached))]
        _cached[key] = cached
    return cached[1]
