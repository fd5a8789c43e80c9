"""A person on the phone line: a caller who presses 7 on the latest notices (or says 人工) is put
through to the hall's staff number in office hours; outside them they hear the hours.

The menu asks for it with a Transfer action; here the phone decides by the clock. In office
hours the caller hears 正在为您转接 and Twilio dials the staff with a `<Dial>` whose action
(/ivr/operator, ivr/operator_webhooks.py) brings the call back: after a conversation it ends
with a goodbye, and when nobody answered the caller hears an apology and is where they were.
A streaming call is moved to that `<Dial>` through Twilio's REST API (the stream then ends; the
call comes back to a new stream). Every request is logged in the call log ("transfer", with
its outcome) for `tingwen calls` and the staff charts.
"""

from __future__ import annotations

from datetime import datetime

from content.menu_state import Say, Transfer
from ivr import twilio_wire as wire
from ivr.callstore import CallEvent
from ivr.settings import IvrSettings
from ivr.twilio_rest import refusals

PUT_THROUGH = "dialled"  # the outcomes a request is logged with (the staff phone's own: DialCallStatus)
OUTSIDE_HOURS = "closed"
UNREACHABLE = "failed"  # a streaming call could not be moved (Twilio refused, or cannot be reached)


def carry_out(actions: list, settings: IvrSettings, now: datetime | None = None) -> tuple[list, wire.Dial | None, list[CallEvent]]:
    """The menu's Transfer action at this moment: in office hours, what comes before it, its
    `connecting`, and the <Dial> to place (what followed it waits until the call comes back);
    outside them, its `closed` text in its place and no dial. With the call-log event."""
    for index, action in enumerate(actions):
        if not isinstance(action, Transfer):
            continue
        if settings.staff_answer(now):
            dial = wire.Dial(settings.operator_number, settings.operator_ring_seconds, settings.url("/ivr/operator"))
            said = Say(action.connecting, interruptible=False)
            return [*actions[:index], said], dial, [transfer_event(PUT_THROUGH)]
        return [*actions[:index], Say(action.closed), *actions[index + 1 :]], None, [transfer_event(OUTSIDE_HOURS)]
    return actions, None, []


def transfer_event(outcome: str) -> CallEvent:
    return CallEvent("transfer", detail={"outcome": outcome})


def move_to_staff(settings: IvrSettings, call_sid: str, twiml: str) -> None:
    """Move a streaming call to the TwiML that puts it through (Twilio's REST API); raises
    TwilioRefused, or the client's own error when Twilio cannot be reached."""
    account = settings.account
    problems = account.problems() if account is not None else ["TWILIO_ACCOUNT_SID is not set"]
    if problems:
        raise RuntimeError(f"a streaming call cannot be moved to the hall's staff: {'; '.join(problems)}")
    with refusals():
        account.client().calls(call_sid).update(twiml=twiml)
