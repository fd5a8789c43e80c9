"""/ivr/operator: the `<Dial>` to the hall's staff is over (ivr/operator.py put the caller
through). Twilio posts DialCallStatus: after a conversation the caller hears goodbye; when
nobody answered (busy, no answer, failed) they hear an apology and are where they were, by
webhooks or, on a streaming line, on a new stream."""

from __future__ import annotations

import logging
import secrets

from flask import Blueprint, request

from ivr import twilio_wire as wire
from ivr.callstore import CallEvent
from ivr.views import call_sid, fault, listener_number, open_stores, phone_menu, phone_settings, respond, restore, twilio_signed

log = logging.getLogger(__name__)
operator_blueprint = Blueprint("ivr_operator", __name__, url_prefix="/ivr")  # registered by the app factory
operator_blueprint.register_error_handler(Exception, fault)  # never a 500: as every phone webhook


@operator_blueprint.post("/operator")
@twilio_signed
def operator_done():
    sid = call_sid()
    answered = wire.dial_answered(request.form)
    status = request.form.get("DialCallStatus", "")[:32] or "unknown"
    event = CallEvent("transfer", detail={"outcome": "answered" if answered else "unanswered", "status": status})
    settings = phone_settings()
    notices, calls = open_stores()
    try:
        with notices:
            menu = phone_menu(notices)
            call = calls.get(sid)
            if call is None or call.ended:  # not ours, or over: nothing more is played
                log.warning("/ivr/operator for the unknown or finished call %s: hanging up", sid)
                return wire.twiml(wire.hang_up())
            before = restore(menu, call.state)
            if settings.phone_mode == "stream" and not answered:  # a new stream goes on where the caller was
                token = secrets.token_urlsafe(24)
                calls.save(sid, before.to_json(), [event])
                calls.set_stream_token(sid, token)
                url = settings.websocket_url("/ivr/stream")
                return wire.twiml(wire.connect_stream(url, token, listener_number(), None, returned=True))
            state, actions = menu.after_transfer(before, answered)
            calls.save(sid, state.to_json(), [event])
    finally:
        calls.close()
    return respond(menu, state, actions)
