"""The reading half of the voice menu: a part of a notice sentence by sentence, what comes after
a part, and hands-free reading of every latest notice in turn. `Menu` (content/menu.py) takes
these turns from this class; they use its notices, texts and menus (`_parts`, `texts`,
`choices`, `_enter_top`, `_say_notice_menu`, `_page_of`)."""

from __future__ import annotations

from dataclasses import replace

from content.keys import IntentKind
from content.menu_state import Intent, Listen, MenuState, Mode, Play, Turn
from content.model import Notice
from content.reading import Segment, find_section, menu_items, menu_root, section_label, subtree_end


class Reading:
    # Reading

    def _start_reading(self, turn: Turn, notice: Notice, start: int, stop_at: int, origin: str | None, sentence: int = 0) -> None:
        menu_path = menu_root(notice) if origin is None else origin
        turn.state = replace(
            turn.state,
            mode=Mode.READING,
            notice_id=notice.id,
            path=menu_path,
            cursor=start,
            stop_at=stop_at,
            sentence=sentence,
            page=0,
            heard=False,
        )
        if not turn.state.coached:
            turn.say(self.prompts.reading_start)
            turn.state = replace(turn.state, coached=True)
        self._play_current(turn)

    def _current_segment(self, state: MenuState) -> tuple[Notice, Segment]:
        if state.mode is Mode.READ_ALL:
            notice = self.notices[state.cursor]
            return notice, self._parts(notice)[state.segment]
        notice = self.by_id[state.notice_id]
        return notice, self._parts(notice)[state.cursor]

    def _play_current(self, turn: Turn) -> None:
        state = turn.state
        if state.mode is Mode.READ_ALL and state.segment < 0:
            notice = self.notices[state.cursor]
            turn.say(self.texts.read_all_notice(state.cursor + 1, notice))
        else:
            notice, segment = self._current_segment(state)
            sentence = min(state.sentence, len(segment.sentences) - 1)
            turn.actions.append(Play(notice.id, segment.path, sentence, segment.sentences[sentence]))
            turn.state = replace(turn.state, sentence=sentence, playing=True)
        turn.actions.append(Listen(self.choices(turn.state)))

    def _on_finished(self, turn: Turn) -> None:
        state = turn.state
        if state.mode is Mode.READING:
            notice, segment = self._current_segment(state)
            if state.sentence + 1 < len(segment.sentences):
                turn.state = replace(state, sentence=state.sentence + 1)
            elif state.cursor < state.stop_at:
                turn.state = replace(state, cursor=state.cursor + 1, sentence=0)
            else:
                turn.state = replace(state, mode=Mode.PART_END)
                self._say_part_end(turn)
                return
            self._play_current(turn)
        elif state.mode is Mode.READ_ALL:
            self._advance_read_all(turn)

    def _reading_intent(self, turn: Turn, intent: Intent) -> None:
        state = turn.state
        notice = self.by_id[state.notice_id]
        parts = self._parts(notice)
        if intent.kind is IntentKind.NEXT:
            if state.cursor + 1 < len(parts):
                cursor = state.cursor + 1
                turn.state = replace(state, cursor=cursor, sentence=0, stop_at=max(state.stop_at, subtree_end(parts, cursor)))
            else:
                turn.say(self.prompts.no_next)
                turn.state = replace(turn.state, mode=Mode.PART_END)
                self._say_part_end(turn)
                return
        elif intent.kind is IntentKind.PREVIOUS:
            if state.cursor > 0:
                turn.state = replace(state, cursor=state.cursor - 1, sentence=0)
            else:
                turn.say(self.prompts.no_previous)
                turn.state = replace(turn.state, sentence=0)
        elif intent.kind is IntentKind.CANCEL:
            self._back_to_origin(turn, notice)
            return
        elif intent.kind is IntentKind.HELP:
            turn.say(self.prompts.reading_help)
        self._play_current(turn)  # repeat: the same sentence again

    def _back_to_origin(self, turn: Turn, notice: Notice) -> None:
        origin = turn.state.path
        if not menu_items(notice, menu_root(notice)):
            self._enter_top(turn, page=self._page_of(notice))
            return
        turn.state = replace(turn.state, mode=Mode.NOTICE, path=origin, page=0, heard=False, cursor=0, sentence=0)
        self._say_notice_menu(turn, short=False, help_=False)

    def _say_part_end(self, turn: Turn) -> None:
        state = turn.state
        notice = self.by_id[state.notice_id]
        parts = self._parts(notice)
        following = state.stop_at + 1
        label = None
        if following < len(parts):
            section = find_section(notice, parts[following].path)
            label = section_label(section) if section else ""
        turn.say(*self.texts.part_end(label, self.texting))
        turn.actions.append(Listen(self.choices(turn.state)))

    def _part_end_intent(self, turn: Turn, intent: Intent) -> None:
        state = turn.state
        notice = self.by_id[state.notice_id]
        parts = self._parts(notice)
        following = state.stop_at + 1
        if intent.kind is IntentKind.NEXT and following < len(parts):
            turn.state = replace(state, mode=Mode.READING, cursor=following, sentence=0, stop_at=subtree_end(parts, following))
            self._play_current(turn)
        elif intent.kind is IntentKind.CANCEL or intent.kind is IntentKind.NEXT:
            self._back_to_origin(turn, notice)
        else:
            self._say_part_end(turn)

    # Hands-free: every latest notice in turn

    def _start_read_all(self, turn: Turn) -> None:
        turn.state = replace(turn.state, mode=Mode.READ_ALL, cursor=0, segment=-1, sentence=0, notice_id=None)
        turn.say(self.prompts.read_all_start)
        self._play_current(turn)

    def _advance_read_all(self, turn: Turn) -> None:
        state = turn.state
        parts = self._parts(self.notices[state.cursor])
        if state.segment >= 0 and state.sentence + 1 < len(parts[state.segment].sentences):
            turn.state = replace(state, sentence=state.sentence + 1)
        elif state.segment + 1 < len(parts):
            turn.state = replace(state, segment=state.segment + 1, sentence=0)
        elif not self._to_next_notice(turn):
            return
        self._play_current(turn)

    def _to_next_notice(self, turn: Turn) -> bool:
        """Hands-free reading moves on to the next notice's title; after the last, it says so,
        returns to the latest notices and answers False."""
        if turn.state.cursor + 1 < len(self.notices):
            turn.state = replace(turn.state, cursor=turn.state.cursor + 1, segment=-1, sentence=0)
            return True
        turn.say(self.prompts.read_all_end)
        self._enter_top(turn, page=0)
        return False

    def _read_all_intent(self, turn: Turn, intent: Intent) -> None:
        state = turn.state
        if intent.kind is IntentKind.NEXT:
            if not self._to_next_notice(turn):
                return
        elif intent.kind is IntentKind.PREVIOUS:
            turn.state = replace(state, cursor=max(0, state.cursor - 1), segment=-1, sentence=0)
        elif intent.kind is IntentKind.CANCEL:
            self._enter_top(turn, page=0)
            return
        elif intent.kind is IntentKind.HELP:
            turn.say(self.prompts.read_all_start)
        self._play_current(turn)
