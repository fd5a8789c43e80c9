"""The menu's actions only the phone can carry out, in one place for webhooks and streams: the
daily bulletin on or off (ivr/subscribers.py), forgetting a caller (ivr/caller_memory.py), a
notice by text message (ivr/texting.py) and a person (ivr/operator.py). Each is said in its
place; what they add to the call log comes back with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from content.menu_state import MenuState
from ivr import caller_memory, operator, subscribers
from ivr import twilio_wire as wire
from ivr.caller_memory import CallerMemory
from ivr.callstore import CallEvent, CallStore
from ivr.settings import IvrSettings
from ivr.texting import Texting


@dataclass
class Carried:
    state: MenuState
    actions: list
    dial: wire.Dial | None = None  # put the caller through to the hall's staff after `actions`
    events: list[CallEvent] = field(default_factory=list)


def carry_out(state: MenuState, actions: list, number: str | None, settings: IvrSettings, calls: CallStore, subscriptions,
              now: datetime | None = None) -> Carried:
    """`number`: the caller's, if it can be called back; `subscriptions` opens the bulletin's
    list (None when it is off)."""
    state, actions = subscribers.carry_out(state, actions, number, subscriptions)
    actions = caller_memory.carry_out(actions, number, CallerMemory(calls))
    actions, texted = Texting(settings, calls).carry_out(actions, number, now)
    actions, dial, transferred = operator.carry_out(actions, settings, now)
    return Carried(state, actions, dial, texted + transferred)
