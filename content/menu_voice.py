"""The listener's own pace and loudness (慢一点, 快一点, 大声一点, 小声一点): which inputs change them
and what a change does to the state and says. A step at a time within PACE_STEPS and
LOUDNESS_STEPS; the front ends turn the steps into the voice's own rate and a gain
(speech.speaker.listener_voice), from the next sentence on."""

from __future__ import annotations

from dataclasses import replace

from content.commands import Vocabulary
from content.keys import IntentKind, key_of
from content.menu_state import LOUDNESS_STEPS, PACE_STEPS, Choice, Intent, MenuState
from content.prompts import Prompts

# intent → (state field, step, its range)
_CHANGES = {
    IntentKind.SLOWER: ("pace", -1, PACE_STEPS),
    IntentKind.FASTER: ("pace", +1, PACE_STEPS),
    IntentKind.LOUDER: ("loudness", +1, LOUDNESS_STEPS),
    IntentKind.SOFTER: ("loudness", -1, LOUDNESS_STEPS),
}
VOICE_INTENTS = tuple(_CHANGES)


def voice_choices(words: Vocabulary, keyed: bool) -> tuple[Choice, ...]:
    """The four changes, by voice always; by key only where the number keys choose nothing
    (while a notice is read), so a key never means two things on one menu. 忘记我 is heard at
    any moment too (its key belongs to the remembered caller's question alone)."""
    said = {IntentKind.SLOWER: words.slower, IntentKind.FASTER: words.faster,
            IntentKind.LOUDER: words.louder, IntentKind.SOFTER: words.softer}  # fmt: skip
    changes = tuple(Choice(key_of(kind) if keyed else None, said[kind], Intent(kind)) for kind in VOICE_INTENTS)
    return (*changes, Choice(None, words.forget, Intent(IntentKind.FORGET))) if words.forget else changes


def in_range(state: MenuState) -> bool:
    return state.pace in PACE_STEPS and state.loudness in LOUDNESS_STEPS


def adjusted(state: MenuState, kind: IntentKind, prompts: Prompts) -> tuple[MenuState, str]:
    """The state one step slower/faster/louder/softer (or as it was, at the end of the range),
    and the few words that confirm it."""
    name, step, steps = _CHANGES[kind]
    wanted = getattr(state, name) + step
    if wanted not in steps:
        return state, getattr(prompts, f"{kind.value}_limit")
    return replace(state, **{name: wanted}), getattr(prompts, kind.value)
