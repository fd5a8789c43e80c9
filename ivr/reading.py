"""Reading flow on the webhook phone line: several sentences in one `<Gather>`.

One sentence per webhook leaves the Gather's timeout (a whole second, Twilio's least) plus a
round trip of silence after every sentence. So while a notice is read, the turn's actions are
extended with the sentences that follow (as if each had finished), up to a batch, and the call
remembers the state at each sentence and when the TwiML went out. A key still interrupts at
once (every `<Play>` is inside the Gather); the key then acts on the sentence that was playing,
found from the time since the TwiML was sent and the sentences' lengths.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from content.menu import Action, Event, Listen, Menu, MenuState, Play, Say, Stop
from ivr.callstore import CallEvent, turn_events
from ivr.settings import DEFAULT_READING_BATCH

REACTION_SECONDS = 0.6  # Twilio fetching the first audio, and a listener's reaction to a sentence


@dataclass(frozen=True)
class Step:
    """One sentence (with any title said before it) and the menu state while it plays."""

    state: MenuState
    texts: tuple[str, ...]


def _spoken(actions: list[Action]) -> tuple[str, ...]:
    return tuple(a.text for a in actions if isinstance(a, (Say, Play)))


def _only_reading(actions: list[Action]) -> bool:
    """A turn that just reads on: (a cut,) plays and interruptible titles, then listens."""
    if not actions or not isinstance(actions[-1], Listen) or not any(isinstance(a, Play) for a in actions):
        return False
    return all(isinstance(a, (Play, Stop)) or (isinstance(a, Say) and a.interruptible) for a in actions[:-1])


def extend_reading(
    menu: Menu, state: MenuState, actions: list[Action], batch: int = DEFAULT_READING_BATCH
) -> tuple[MenuState, list[Action], list[Step], list[CallEvent]]:
    """The turn extended with the sentences that follow, while the menu just reads on. Returns
    the state after the last sentence, the actions (one Listen at the end), the steps for
    finding the playing sentence later, and the call-log events of the added turns."""
    if not state.is_reading or not _only_reading(actions):
        return state, actions, [], []
    steps = [Step(state, _spoken(actions))]
    spoken = actions[:-1]
    listen = actions[-1]
    events: list[CallEvent] = []
    while len(steps) < batch:
        following, more = menu.step(state, Event.finished())
        if not following.is_reading or not _only_reading(more):
            break
        events += turn_events(menu, state, Event.finished(), following, more)
        state = following
        steps.append(Step(state, _spoken(more)))
        spoken += more[:-1]
        listen = more[-1]
    return state, spoken + [listen], steps, events


def remember(steps: list[Step]) -> str | None:
    """What the call keeps about a batch: each sentence's state and texts, and when it went out."""
    if len(steps) < 2:
        return None
    return json.dumps({"sent": now(), "steps": [[s.state.to_json(), list(s.texts)] for s in steps]}, ensure_ascii=False)


def now() -> float:
    """Wall-clock seconds (webhooks of one call may reach different processes)."""
    return time.time()


def playing_state(remembered: str | None, seconds: Callable[[str], float]) -> MenuState | None:
    """The state of the sentence that was playing now, from what `remember` kept; `seconds(text)`
    is a text's audio length. None when nothing was remembered (or it cannot be read)."""
    if not remembered:
        return None
    try:
        data = json.loads(remembered)
        steps = [(MenuState.from_json(state), texts) for state, texts in data["steps"]]
        elapsed = now() - float(data["sent"]) - REACTION_SECONDS
    except (ValueError, TypeError, KeyError):
        return None
    start = 0.0
    current = steps[0][0]
    for state, texts in steps:
        if start > elapsed:
            break
        current = state
        start += sum(seconds(t) for t in texts)
    return current
