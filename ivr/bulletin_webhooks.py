"""The webhooks of our daily bulletin calls (placed by `tingwen bulletin`, the attempt's id in
each URL): /ivr/bulletin when the call is answered, /ivr/bulletin/status for Twilio's word on
it, /ivr/bulletin/machine for what answered (a person, an answering machine, a fax), and
/ivr/bulletin/voicemail, the short message a machine gets after its beep.

Twilio listens for a machine in the background, so a person hears the bulletin at once; when a
machine's greeting has ended, the call is moved (Twilio's REST API) to the message.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, request

from monitoring import metrics
from content.store import NoticeStore
from ivr.bulletin import TwilioDialer
from ivr.callstore import CallEvent, CallStore
from ivr.twilio_rest import TwilioRefused
from ivr.twilio_wire import FAX, FINAL_STATUSES, MACHINE_ENDS
from ivr.views import (
    answer, call_sid, close_call_record, fault, phone_menu, phone_settings, respond, subscriber_list, twilio_signed,
)

log = logging.getLogger(__name__)
bulletin_blueprint = Blueprint("ivr_bulletin", __name__, url_prefix="/ivr")  # registered by the app factory
bulletin_blueprint.register_error_handler(Exception, fault)  # never a 500: as every phone webhook


@bulletin_blueprint.post("/bulletin")
@twilio_signed
def bulletin():
    """A subscriber has answered: the bulletin is heard, then the usual menu goes on by /ivr/gather."""
    sid = call_sid()
    attempt_id = _attempt_id()
    covered = _answered(attempt_id, sid)
    event = CallEvent("bulletin", detail={"attempt": attempt_id, "notices": list(covered)})
    return answer(sid, request.form.get("To"), lambda menu, _calls: menu.start_bulletin(covered), [event], bulletin=covered)


def _answered(attempt_id: int, sid: str) -> tuple[int, ...]:
    """Mark the bulletin attempt heard; the notices it reads (none if it cannot be found)."""
    settings = phone_settings()
    try:
        if settings.bulletin is not None:
            with subscriber_list() as store:
                attempt = store.attempt(attempt_id)
                if attempt is not None:
                    store.outcome(attempt.id, "answered", sid, datetime.now(UTC), *_limits())
                    return attempt.notices
    except Exception as error:  # the subscriber answered: they hear the menu all the same
        log.error("bulletin call %s: the subscribers cannot be read: %s", sid, error)
    log.warning("bulletin call %s: attempt %s unknown; the menu alone is read", sid, attempt_id)
    return ()


@bulletin_blueprint.post("/bulletin/status")
@twilio_signed
def bulletin_status():
    """Twilio's word on a bulletin call (initiated, answered, completed, busy, no-answer…)."""
    sid, attempt_id = _bulletin_callback()
    call_status = request.form.get("CallStatus", "")[:32]
    with subscriber_list() as store:
        known = store.outcome(attempt_id, call_status, sid, datetime.now(UTC), *_limits())
    if call_status in FINAL_STATUSES:
        close_call_record(sid, call_status)
        metrics.bulletin_call(call_status)
    return ("", 204) if known else ("unknown bulletin attempt", 404)


@bulletin_blueprint.post("/bulletin/machine")
@twilio_signed
def bulletin_machine():
    """What answered the bulletin call (AnsweredBy). A machine whose greeting has ended gets the
    short message instead of the bulletin; a fax is hung up on; a person (or "unknown") goes on
    hearing the bulletin untouched."""
    sid, attempt_id = _bulletin_callback()
    settings = phone_settings()
    answered_by = request.form.get("AnsweredBy", "")[:32]
    if answered_by not in MACHINE_ENDS + (FAX,):
        return "", 204
    with subscriber_list() as store:
        if answered_by == FAX:
            known = store.attempt(attempt_id) is not None
        else:
            known = store.left_message(attempt_id, sid, datetime.now(UTC), *_limits()) is not None
    if not known:
        return "unknown bulletin attempt", 404
    calls = CallStore.open(settings)
    calls.note(sid, CallEvent("machine", detail={"attempt": attempt_id, "answered_by": answered_by}))
    calls.close()
    dialer = TwilioDialer(settings.bulletin)
    try:
        if answered_by == FAX:
            dialer.hang_up(sid)
        else:
            dialer.redirect(sid, settings.url(f"/ivr/bulletin/voicemail?attempt={attempt_id}"))
    except TwilioRefused as error:  # the call ended meanwhile: nothing is left to move
        log.warning("bulletin call %s: Twilio would not move it (%s)", sid, error)
    except Exception as error:
        log.error("bulletin call %s: a machine answered, but Twilio cannot be reached to leave the message: %s", sid, error)
        return "Twilio cannot be reached to move the call", 503
    return "", 204


@bulletin_blueprint.post("/bulletin/voicemail")
@twilio_signed
def bulletin_voicemail():
    """The message left on an answering machine: our own audio, made ahead, then hang up."""
    sid = call_sid()
    attempt_id = _attempt_id()
    notices: tuple[int, ...] = ()
    try:
        if phone_settings().bulletin is not None:
            with subscriber_list() as store:
                attempt = store.attempt(attempt_id)
                notices = attempt.notices if attempt is not None else ()
    except Exception as error:  # the machine is recording: it gets the message without the titles
        log.error("bulletin call %s: the subscribers cannot be read: %s", sid, error)
    with NoticeStore(current_app.config["TINGWEN_DB"]) as store:
        menu = phone_menu(store)
    state, actions = menu.voicemail(notices)
    calls = CallStore.open(phone_settings())
    calls.note(sid, CallEvent("voicemail", detail={"attempt": attempt_id, "notices": list(notices)}))
    metrics.bulletin_call("voicemail")
    calls.close()
    return respond(menu, state, actions)


def _bulletin_callback() -> tuple[str, int]:
    """(CallSid, attempt id) of Twilio's note on a bulletin call; 400 if either is malformed,
    404 where the bulletin is not set up."""
    sid, attempt_id = call_sid(), _attempt_id()
    if phone_settings().bulletin is None:
        abort(404, "the bulletin is not set up here")
    return sid, attempt_id


def _limits() -> tuple[int, int]:
    """(days without an answer before a number is paused, calls a day) for the store's outcome."""
    bulletin = phone_settings().bulletin
    return bulletin.pause_after_days, bulletin.attempts_per_day


def _attempt_id() -> int:
    raw = request.args.get("attempt", "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        abort(400, "attempt is missing or malformed")
    return int(raw)
