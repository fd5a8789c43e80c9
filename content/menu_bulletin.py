"""The daily bulletin's calls: the menu's opening when tingwen calls a subscriber with the new
notices, and the message it leaves on an answering machine. `Menu` (content/menu.py) takes
these from this class; they use its notices, texts and `_enter_top`."""

from __future__ import annotations

from collections.abc import Sequence

from content.menu_state import Action, End, MenuState, Mode, Turn
from content.menu_texts import BULLETIN_NOTICES
from content.model import Notice


class Bulletin:
    def start_bulletin(self, notice_ids: Sequence[int]) -> tuple[MenuState, list[Action]]:
        """A daily bulletin call: who is calling and why, the new notices' titles and gists
        (newest first, at most BULLETIN_NOTICES), how to stop the bulletin, then the usual menu."""
        said = self.texts
        turn = Turn(MenuState(greeted=True, subscribed=self.subscription))
        fresh = self._bulletin_notices(notice_ids)
        turn.say(said.bulletin_intro(len(fresh)))
        for number, notice in enumerate(fresh, 1):
            turn.say(said.bulletin_number(number))
            turn.say(said.bulletin_item(notice))
        turn.say(self.prompts.bulletin_stop_hint)
        self._enter_top(turn, page=0)
        return turn.state, turn.actions

    def voicemail(self, notice_ids: Sequence[int]) -> tuple[MenuState, list[Action]]:
        """The message a daily bulletin call leaves on an answering machine: who is calling,
        the new notices' titles, how to hear them and how to stop the bulletin; then goodbye.
        Nothing in it waits for a key: a machine presses none."""
        said = self.texts
        turn = Turn(MenuState(mode=Mode.ENDED, greeted=True, subscribed=self.subscription))
        fresh = self._bulletin_notices(notice_ids)
        turn.say(said.bulletin_intro(len(fresh)), interruptible=False)
        for number, notice in enumerate(fresh, 1):
            turn.say(said.bulletin_number(number), interruptible=False)
            turn.say(said.voicemail_item(notice), interruptible=False)
        turn.say(self.prompts.voicemail_end, interruptible=False)
        turn.actions.append(End("voicemail"))
        return turn.state, turn.actions

    def _bulletin_notices(self, notice_ids: Sequence[int]) -> list[Notice]:
        """The bulletin's notices among the latest, newest first, at most BULLETIN_NOTICES."""
        wanted = set(notice_ids)
        return [n for n in self.notices if n.id in wanted][:BULLETIN_NOTICES]
