"""What the voice menu accepts, and which states it can stand behind: the valid inputs of each
state (keys from content/keys.py, words from commands.toml), every word a speech model must
know, and whether a stored or sent-back state still fits the notices. `Menu` (content/menu.py)
takes these from this class; they use its notices, words and pages."""

from __future__ import annotations

from dataclasses import replace

from content.keys import IntentKind, key_of
from content.menu_state import Choice, Event, Intent, MenuState, Mode, Resume, keep, rememberable
from content.menu_voice import in_range, voice_choices
from content.reading import find_section
from content.titles import title_subject


CHOICES_KEPT = 4096  # states whose choices a menu remembers


class Inputs:
    def phrases(self) -> list[str]:
        """Every word the menu can accept by voice in any state (every page of the latest
        notices, reading, a part's end, a confirmation): what a speech model must know."""
        states = [MenuState(page=page) for page in range(max(1, self._top_pages()))]
        states += [MenuState(mode=Mode.READING), MenuState(mode=Mode.PART_END), MenuState(confirming=1)]
        states += [MenuState(subscribed=True)]
        return sorted({word for state in states for choice in self.choices(state) for word in choice.words})

    def choices(self, state: MenuState) -> tuple[Choice, ...]:
        """Exactly the inputs valid in `state` (what the Listen action carries), worked out
        once per state and menu: every turn of every call asks."""
        if not rememberable(state):
            return self._choices_in(state)
        known = self._choices.get(state)
        return known if known is not None else keep(self._choices, state, self._choices_in(state), CHOICES_KEPT)

    def _choices_in(self, state: MenuState) -> tuple[Choice, ...]:
        words = self.words
        if state.confirming:
            return (Choice(key_of(IntentKind.YES), words.yes, Intent(IntentKind.YES)), Choice(key_of(IntentKind.NO), words.no, Intent(IntentKind.NO)))
        services = self._service_choices(state)  # a person, a text message (the phone)
        if state.mode is Mode.RESUME:  # 忘记我 has its key here
            voice = [c for c in voice_choices(words, keyed=False) if c.intent.kind is not IntentKind.FORGET]
            return (*self._resume_choices(state), *voice, *services)
        cancel = Choice(key_of(IntentKind.CANCEL), words.cancel, Intent(IntentKind.CANCEL))
        repeat = Choice(key_of(IntentKind.REPEAT), words.repeat + words.help, Intent(IntentKind.REPEAT))
        if state.mode in (Mode.TOP, Mode.NOTICE):
            count = self._page_item_count(state)
            subjects = self._subjects(state) if state.mode is Mode.TOP and words.subjects else {}
            items = [
                Choice(str(n), words.number(n) + subjects.get(n, ()), Intent(IntentKind.CHOOSE, n))
                for n in range(1, count + 1)
            ]
            read_all = Choice(key_of(IntentKind.READ_ALL), words.read_all, Intent(IntentKind.READ_ALL))
            paging = []
            if self._page_count(state) > 1:
                paging = [
                    Choice(key_of(IntentKind.NEXT), words.next, Intent(IntentKind.NEXT)),
                    Choice(key_of(IntentKind.PREVIOUS), words.previous, Intent(IntentKind.PREVIOUS)),
                ]
            bulletin = []
            if state.mode is Mode.TOP and self.subscription:
                # key 8 does what the menu offers (退订 for a subscriber); either can be said
                on = Choice(None, words.subscribe, Intent(IntentKind.SUBSCRIBE))
                off = Choice(None, words.unsubscribe, Intent(IntentKind.UNSUBSCRIBE))
                offered, other = (off, on) if state.subscribed else (on, off)
                bulletin = [replace(offered, key=key_of(offered.intent.kind)), other]
            voice = voice_choices(words, keyed=False)  # the number keys choose here: by voice only
            if state.mode is Mode.TOP and not self.notices:
                return (*services, *bulletin, repeat, *voice)
            return (*items, *services, *bulletin, read_all, *paging, repeat, cancel, *voice)
        if state.is_reading:
            return (
                cancel,
                Choice(key_of(IntentKind.REPEAT), words.repeat, Intent(IntentKind.REPEAT)),
                Choice(key_of(IntentKind.NEXT), words.next + words.next_part, Intent(IntentKind.NEXT)),
                Choice(key_of(IntentKind.PREVIOUS), words.previous, Intent(IntentKind.PREVIOUS)),
                Choice(key_of(IntentKind.HELP), words.help, Intent(IntentKind.HELP)),
                *voice_choices(words, keyed=True),
                *services,
            )
        if state.mode is Mode.PART_END:
            next_part = Choice(key_of(IntentKind.NEXT), words.next + words.continue_, Intent(IntentKind.NEXT))
            return (next_part, repeat, cancel, *voice_choices(words, keyed=True), *services)
        return ()

    def _subjects(self, state: MenuState) -> dict[int, tuple[str, ...]]:
        """A notice can also be chosen by saying its subject (就业促进行动实施方案), when no other
        notice on the page has the same subject."""
        start = state.page * self.top_size
        found = {n: title_subject(notice.spoken_title) for n, notice in enumerate(self.notices[start : start + self.top_size], 1)}
        counts = {}
        for subject in found.values():
            counts[subject] = counts.get(subject, 0) + 1
        return {n: (subject,) for n, subject in found.items() if subject and counts[subject] == 1}

    def is_valid(self, state: MenuState) -> bool:
        """Whether the front ends can render `state` against the notices this menu has."""
        if not self._is_valid_position(state) or not in_range(state):
            return False
        # a confirmation is only ever asked about an item of the menu on show
        return not state.confirming or (
            state.mode in (Mode.TOP, Mode.NOTICE) and 1 <= state.confirming <= self._page_item_count(state)
        )

    def _is_valid_position(self, state: MenuState) -> bool:
        if state.misses < 0 or state.confirming < 0 or state.sentence < 0:
            return False
        if state.mode in (Mode.TOP, Mode.ENDED):
            return 0 <= state.page < max(1, self._top_pages())
        if state.mode is Mode.RESUME:
            return self._resumable(Resume(state.notice_id, state.cursor, state.sentence)) if state.notice_id is not None else False
        if state.mode is Mode.READ_ALL:
            if not 0 <= state.cursor < len(self.notices):
                return False
            parts = self._parts(self.notices[state.cursor])
            if state.segment == -1:
                return state.sentence == 0
            return 0 <= state.segment < len(parts) and state.sentence < max(1, len(parts[state.segment].sentences))
        notice = self.by_id.get(state.notice_id)
        if notice is None:
            return False
        if state.mode is Mode.NOTICE:
            return (state.path == "" or find_section(notice, state.path) is not None) and 0 <= state.page < max(
                1, self._page_count(state)
            )
        parts = self._parts(notice)
        return (
            0 <= state.cursor < len(parts)
            and state.cursor <= state.stop_at < len(parts)
            and state.sentence < max(1, len(parts[state.cursor].sentences))
            and (state.path == "" or find_section(notice, state.path) is not None)
        )

    def position(self, state: MenuState) -> tuple[int | None, str | None]:
        """The notice and part a listener is at (for the call log: where people cancel)."""
        if state.mode is Mode.READ_ALL and 0 <= state.cursor < len(self.notices):
            notice = self.notices[state.cursor]
            parts = self._parts(notice)
            return notice.id, parts[state.segment].path if 0 <= state.segment < len(parts) else None
        if state.mode in (Mode.READING, Mode.PART_END) and state.notice_id in self.by_id:
            parts = self._parts(self.by_id[state.notice_id])
            return state.notice_id, parts[state.cursor].path if state.cursor < len(parts) else None
        if state.mode is Mode.NOTICE:
            return state.notice_id, state.path
        return None, None

    def _accept(self, state: MenuState, event: Event) -> Intent | None:
        choices = self.choices(state)
        if event.kind == "key":
            return next((c.intent for c in choices if c.key is not None and c.key == event.key), None)
        if event.kind == "intent" and event.intent is not None:
            if event.intent.kind is IntentKind.HELP and any(c.intent.kind is IntentKind.REPEAT for c in choices):
                return Intent(IntentKind.HELP)
            return event.intent if any(c.intent == event.intent for c in choices) else None
        return None
