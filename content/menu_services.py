"""What the phone offers beside the notices: a person (the hall's staff, in office hours: key 7
on the latest notices, 人工 at any moment) and a notice by text message (key 5 while it is read
or after a part, 发短信 wherever a notice is chosen). The menu decides when they are offered and
what is said around them; the phone carries them out (ivr/operator.py, ivr/texting.py), since
only it knows the caller's number and the time. `Menu` (content/menu.py) takes these turns
from this class; they use its notices, words and `_repeat_current`.
"""

from __future__ import annotations

from dataclasses import replace

from content.keys import ITEM_KEYS, IntentKind, key_of
from content.menu_state import Choice, End, Intent, MenuState, Mode, Say, Turn
from content.model import Notice
from content.office_hours import OfficeHours

# The keys these services take from a page of the latest notices (the daily bulletin's 8 too).
SERVICE_INTENTS = (IntentKind.OPERATOR, IntentKind.SUBSCRIBE)


def top_page_size(page_size: int, operator: bool, subscription: bool) -> int:
    """How many notices a page of the latest notices holds: the item keys before the first
    one a service on this menu takes (the phone's 7 for a person, 8 for the bulletin)."""
    offered = {IntentKind.OPERATOR: operator, IntentKind.SUBSCRIBE: subscription}
    taken = [ITEM_KEYS.index(key) for kind in SERVICE_INTENTS if offered[kind] and (key := key_of(kind)) in ITEM_KEYS]
    return min([page_size, *taken])


class PhoneServices:
    office_hours: OfficeHours | None  # None: no person to reach on this menu
    texting: bool  # the notice by text message is offered

    def _service_choices(self, state: MenuState) -> tuple[Choice, ...]:
        """A person and a text message, where they are offered: their keys on the latest
        notices (7) and while a notice is read or after a part (5); by voice wherever they apply."""
        words, found = self.words, []
        if self.office_hours is not None:
            keyed = state.mode is Mode.TOP
            found.append(Choice(key_of(IntentKind.OPERATOR) if keyed else None, words.operator, Intent(IntentKind.OPERATOR)))
        if self.texting and state.mode in (Mode.NOTICE, Mode.READING, Mode.READ_ALL, Mode.PART_END):
            keyed = state.is_reading or state.mode is Mode.PART_END
            found.append(Choice(key_of(IntentKind.TEXT) if keyed else None, words.text, Intent(IntentKind.TEXT)))
        return tuple(c for c in found if c.key or c.words)

    def _chosen_notice(self, state: MenuState) -> Notice | None:
        """The notice a listener is in (its menu, reading it, a part's end, or hands-free)."""
        if state.mode is Mode.READ_ALL:
            return self.notices[state.cursor] if 0 <= state.cursor < len(self.notices) else None
        if state.mode in (Mode.NOTICE, Mode.READING, Mode.PART_END):
            return self.by_id.get(state.notice_id)
        return None

    def _service_intent(self, turn: Turn, intent: Intent) -> bool:
        """A person or a text message asked for: the front end carries it out in the action's
        place, then the listener is where they were (reading: the sentence that was cut)."""
        if intent.kind is IntentKind.OPERATOR and self.office_hours is not None:
            turn.delegate(self.texts.transfer(self.office_hours))
        elif intent.kind is IntentKind.TEXT and (notice := self._chosen_notice(turn.state)) is not None:
            turn.delegate(self.texts.send_text(notice))
        else:
            return False
        self._repeat_current(turn, short=True)
        return True

    def after_transfer(self, state: MenuState, answered: bool) -> tuple[MenuState, list]:
        """The call is back from the hall's staff number: after a conversation, goodbye; when
        nobody answered (busy, no answer, failed), an apology and the caller is where they were."""
        if answered:
            ended = replace(state, mode=Mode.ENDED, playing=True)
            return ended, [Say(self.goodbye(state), interruptible=False), End("transferred")]
        apology = Say(self.prompts.operator_unanswered)
        if not self.is_valid(state) or state.mode is Mode.ENDED:  # its notice went meanwhile
            fresh, actions = self.start(greeted=True, subscribed=state.subscribed, pace=state.pace, loudness=state.loudness)
            return fresh, [apology, *actions]
        turn = Turn(replace(state, playing=False, confirming=0, misses=0))
        turn.actions.append(apology)
        self._repeat_current(turn, short=True)
        return turn.state, turn.actions
