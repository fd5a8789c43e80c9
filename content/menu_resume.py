"""A listener the phone remembers: where they stopped (the sentence after the one playing when
they hung up) and the offer to go on from there next time, or to be forgotten (忘记我). `Menu`
(content/menu.py) takes these turns from this class; it keeps nothing itself: the front end
that knows the caller stores the Resume point and carries out the Forget action."""

from __future__ import annotations

from dataclasses import replace

from content.keys import IntentKind, key_of
from content.menu_state import Choice, Forget, Intent, Listen, MenuState, Mode, Resume, Turn
from content.reading import find_section, section_label


class Remembering:
    def resume_point(self, state: MenuState) -> Resume | None:
        """Where a listener who stops now picks up next time: the sentence after the one playing
        (a part's end: the next part), or None when they were not reading a chosen notice, it
        is over, or they asked to be forgotten."""
        if state.forgotten or state.mode not in (Mode.READING, Mode.PART_END) or state.notice_id not in self.by_id:
            return None
        parts = self._parts(self.by_id[state.notice_id])
        part, sentence = (state.cursor, state.sentence + 1) if state.mode is Mode.READING else (state.stop_at + 1, 0)
        if part < len(parts) and sentence >= len(parts[part].sentences):
            part, sentence = part + 1, 0
        return Resume(state.notice_id, part, sentence) if part < len(parts) else None

    def _resumable(self, resume: Resume | None) -> bool:
        if resume is None or resume.notice_id not in self.by_id:
            return False
        parts = self._parts(self.by_id[resume.notice_id])
        return 0 <= resume.part < len(parts) and 0 <= resume.sentence < len(parts[resume.part].sentences)

    def _offer_resume(self, turn: Turn, resume: Resume) -> None:
        notice = self.by_id[resume.notice_id]
        turn.state = replace(turn.state, mode=Mode.RESUME, notice_id=notice.id, cursor=resume.part, sentence=resume.sentence)
        if not turn.state.greeted:
            turn.say(self.prompts.greeting)
            turn.state = replace(turn.state, greeted=True)
        section = find_section(notice, self._parts(notice)[resume.part].path)
        part = self.prompts.resume_part.format(label=section_label(section)) if section is not None else ""
        turn.say(self.prompts.resume_offer.format(title=notice.spoken_title, part=part))
        turn.actions.append(Listen(self.choices(turn.state)))

    def _resume_choices(self, state: MenuState) -> tuple[Choice, ...]:
        words = self.words
        return (
            Choice(key_of(IntentKind.RESUME), words.resume, Intent(IntentKind.RESUME)),
            Choice(key_of(IntentKind.NEXT), words.next, Intent(IntentKind.NEXT)),
            Choice(key_of(IntentKind.CANCEL), words.cancel, Intent(IntentKind.CANCEL)),
            Choice(key_of(IntentKind.REPEAT), words.repeat + words.help, Intent(IntentKind.REPEAT)),
            Choice(key_of(IntentKind.FORGET), words.forget, Intent(IntentKind.FORGET)),
        )

    def _resume_intent(self, turn: Turn, intent: Intent) -> None:
        state = turn.state
        if intent.kind is IntentKind.RESUME:
            notice = self.by_id[state.notice_id]
            sentence = state.sentence
            self._start_reading(turn, notice, state.cursor, len(self._parts(notice)) - 1, origin=None, sentence=sentence)
        elif intent.kind is IntentKind.REPEAT:
            self._offer_resume(turn, Resume(state.notice_id, state.cursor, state.sentence))
        else:  # the latest notices, as on any other call
            self._enter_top(turn, page=0)

    def _forget(self, turn: Turn) -> None:
        """忘记我: the front end drops what it keeps; this call keeps nothing and goes on at the
        usual pace and loudness."""
        turn.actions.append(Forget())
        turn.state = replace(turn.state, forgotten=True, pace=0, loudness=0)
        turn.say(self.prompts.forgotten)
        if turn.state.mode is Mode.RESUME:
            self._enter_top(turn, page=0)
        else:
            self._repeat_current(turn, short=True)
