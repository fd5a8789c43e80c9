"""Twilio voice webhooks: /ivr/voice answers a call, /ivr/gather carries it on, /ivr/status
closes it, /ivr/audio/… serves our own phone audio (the bulletin's calls: ivr/bulletin_webhooks.py).

Every webhook is checked against X-Twilio-Signature before anything else; the call's menu state
lives in the call store between webhooks; whatever arrives garbled gets a safe reprompt or a 400
with a reason, never a 500.
"""

from __future__ import annotations

import logging
import re
from functools import wraps

import secrets

from flask import Blueprint, abort, current_app, g, request, send_file
from werkzeug.exceptions import HTTPException
from flask_sock import Sock
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Connect, VoiceResponse

from content.keys import ALL_KEYS
from content.menu import End, Event, Menu, MenuState, Mode, Say, Stop, menu_for
from content.prompts import load_prompts
from content.store import NoticeStore
from ivr.callstore import CallEvent, CallStore, turn_events
from ivr.numbers import dialable
from ivr.subscribers import SubscriberStore, carry_out, is_subscribed, open_subscribers
from ivr.reading import extend_reading, playing_state, remember
from ivr.settings import READING_GATHER_TIMEOUT, IvrSettings
from ivr.twiml import build
from speech.normalize import normalize
from speech.speaker import AudioFormat, Speaker

log = logging.getLogger(__name__)
blueprint = Blueprint("ivr", __name__, url_prefix="/ivr")
sock = Sock()
TWIML = "text/xml; charset=utf-8"
_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")


def _settings() -> IvrSettings:
    return current_app.config["TINGWEN_IVR"]


def twilio_signed(view):
    """403 unless the request carries a valid X-Twilio-Signature for our public URL."""

    @wraps(view)
    def checked(*args, **kwargs):
        settings = _settings()
        if settings.validate_signatures:
            signature = request.headers.get("X-Twilio-Signature", "")
            url = settings.url(request.full_path if request.query_string else request.path)
            token = settings.auth_token
            if not token or not signature or not RequestValidator(token).validate(url, request.form.to_dict(), signature):
                log.warning("refused %s: missing or wrong X-Twilio-Signature", request.path)
                abort(403, "missing or wrong X-Twilio-Signature")
        return view(*args, **kwargs)

    return checked


def _call_sid() -> str:
    sid = request.form.get("CallSid", "")
    if not _SID.match(sid):
        abort(400, "CallSid is missing or malformed")
    return sid


def _open_stores() -> tuple[NoticeStore, CallStore]:
    settings = _settings()
    return NoticeStore(current_app.config["TINGWEN_DB"]), CallStore.open(settings)


def _menu(notices: NoticeStore) -> Menu:
    return menu_for(notices, current_app.config.get("TINGWEN_PHONE_MENU") or current_app.config["TINGWEN_MENU"])


def _subscriptions() -> SubscriberStore:
    """The daily bulletin's list (only when it is set up: TINGWEN_BULLETIN_FROM, see _opener)."""
    settings = _settings()
    return open_subscribers(settings.subscribers_db, settings.subscriber_key)


def _listener_number() -> str | None:
    """The listener's number, if it can be called back: From on a call to us, To on our bulletin."""
    form = request.form
    return dialable(form.get("To") if form.get("Direction", "").startswith("outbound") else form.get("From"))


def _opener():
    """What opens the bulletin's list, or None when the bulletin is not set up."""
    return _subscriptions if _settings().subscribers_db is not None else None


@blueprint.post("/voice")
@twilio_signed
def voice():
    number = _listener_number()
    return _answer(_call_sid(), request.form.get("From"), lambda menu: menu.start(subscribed=is_subscribed(number, _opener())))


def _answer(sid: str, caller: str | None, opening, events: list[CallEvent] = (), bulletin: tuple[int, ...] | None = None):
    """A call begins (ours to a subscriber, or theirs to us): a finished one hangs up; else the
    menu opens with `opening(menu)`, the call is stored, and it goes on by webhooks or a stream."""
    notices, calls = _open_stores()
    with notices:
        known = calls.get(sid)
        if known is not None and known.ended:
            calls.close()
            return _hang_up(sid)
        menu = _menu(notices)
        state, actions = opening(menu)
        token = secrets.token_urlsafe(24) if _settings().phone_mode == "stream" else None
        calls.begin(sid, caller, state.to_json(), list(events), stream_token=token)
    calls.close()
    if token is not None:
        return _connect_stream(token, _listener_number(), bulletin)
    return _respond(menu, state, actions)


def _connect_stream(token: str, number: str | None, bulletin: tuple[int, ...] | None = None):
    """<Connect><Stream>: the rest of the call runs over our WebSocket; when it closes, hang up.
    The caller's number travels with it (the stream's start message carries no From) for key 8,
    and on a bulletin call the notices it reads (the stream starts with the bulletin)."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=_settings().websocket_url("/ivr/stream"))
    stream.parameter(name="token", value=token)
    if number:
        stream.parameter(name="caller", value=number)
    if bulletin is not None:
        stream.parameter(name="bulletin", value=",".join(map(str, bulletin)))
    response.append(connect)
    response.hangup()
    return str(response), 200, {"Content-Type": TWIML}


@blueprint.before_request
def _check_stream_upgrade():
    """The WebSocket upgrade is signed like any webhook (the signed URL is the wss:// one)."""
    settings = _settings()
    if request.path != "/ivr/stream" or not settings.validate_signatures:
        return None
    url = settings.websocket_url(request.full_path if request.query_string else request.path)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.auth_token or not signature or not RequestValidator(settings.auth_token).validate(url, {}, signature):
        log.warning("refused a stream upgrade: missing or wrong X-Twilio-Signature")
        abort(403, "missing or wrong X-Twilio-Signature")
    return None


@sock.route("/stream", bp=blueprint)
def stream(ws):
    from ivr.stream import StreamCall

    settings = _settings()
    notices, calls = _open_stores()
    with notices:
        menu = _menu(notices)
    status = current_app.extensions.get("tingwen.speech_model")
    model = None
    if status is not None and status.available and status.path is not None:
        from speech.recognizer import ModelUnavailable, load_model

        try:
            model = load_model(status.path)
        except ModelUnavailable as error:
            status.turn_off(str(error))
    try:
        StreamCall(ws, settings, menu, current_app.extensions["tingwen.speaker"], calls, model, current_app.extensions.get("tingwen.asr_pool"),
                   subscriptions=_opener()).run()
    finally:
        calls.close()


@blueprint.post("/gather")
@twilio_signed
def gather():
    sid = _call_sid()
    settings = _settings()
    notices, calls = _open_stores()
    with notices:
        menu = _menu(notices)
        call = calls.get(sid)
        if call is None:  # a call we do not know (lost, or expired): greet it afresh
            state, actions = menu.start()
            calls.begin(sid, request.form.get("From"), state.to_json())
            calls.close()
            return _respond(menu, state, actions)
        if call.ended:
            calls.close()
            return _hang_up(sid)
        before = _restore(menu, call.state)
        if request.form.get("Digits"):  # a key during several sentences acts on the one playing
            before = playing_state(call.reading, _phone_seconds) or before
        if call.age().total_seconds() > settings.max_call_minutes * 60:
            state = MenuState(mode=Mode.ENDED, greeted=True)
            actions = [Stop(), Say(menu.goodbye(before), interruptible=False), End("call too long")]
            calls.save(sid, state.to_json(), [CallEvent("limit", detail={"minutes": settings.max_call_minutes})])
            calls.close()
            return _respond(menu, state, actions)
        event = _event(before, request.form.get("Digits"))
        state, actions = menu.step(before, event)
        events = turn_events(menu, before, event, state, actions)
        state, actions = carry_out(state, actions, _listener_number(), _opener())
        state, actions, steps, more = extend_reading(menu, state, actions, settings.reading_batch)
        calls.save(sid, state.to_json(), events + more, remember(steps))
    calls.close()
    return _respond(menu, state, actions)


def _hang_up(sid: str):
    """A webhook for a call that has ended (a replayed request): nothing more is played."""
    log.warning("webhook %s for the finished call %s: hanging up", request.path, sid)
    response = VoiceResponse()
    response.hangup()
    return str(response), 200, {"Content-Type": TWIML}


def _phone_seconds(text: str) -> float:
    speaker: Speaker = current_app.extensions["tingwen.speaker"]
    return speaker.seconds(text, AudioFormat.ULAW)


@blueprint.post("/status")
@twilio_signed
def status():
    known = close_call_record(_call_sid(), request.form.get("CallStatus", "")[:32] or "unknown")
    return ("", 204) if known else ("unknown CallSid", 404)


def close_call_record(sid: str, call_status: str) -> bool:
    """The call is over (Twilio's status callback, with its CallDuration): close its record."""
    duration = request.form.get("CallDuration", "")
    calls = CallStore.open(_settings())
    try:
        return calls.finish(sid, call_status, int(duration) if duration.isdigit() and len(duration) < 9 else None)
    finally:
        calls.close()


@blueprint.get("/audio/<name>")
def audio(name: str):
    """Our phone audio (8 kHz mu-law WAV), made now if it was only planned; names are content
    hashes, so cache forever."""
    speaker: Speaker = current_app.extensions["tingwen.speaker"]
    try:
        path = speaker.audio_file(name, AudioFormat.ULAW)
    except Exception:
        log.exception("could not make phone audio %s", name)
        abort(503, "audio cannot be made right now")
    if path is None:
        abort(404)
    response = send_file(path, mimetype="audio/wav", max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _restore(menu: Menu, text: str) -> MenuState:
    try:
        return MenuState.from_json(text)
    except (ValueError, TypeError, KeyError):
        log.warning("unreadable stored call state; starting the menu again")
        return menu.start()[0]


def _event(state: MenuState, digits: str | None) -> Event:
    """What Twilio's Gather reported: a key, or nothing (the sentence ended / the caller was silent)."""
    if digits is None or digits == "":
        if state.mode in (Mode.READING, Mode.READ_ALL):
            return Event.finished()
        return Event.timeout()
    key = digits if len(digits) == 1 and digits in ALL_KEYS else "?"
    return Event.press(key)


def _audio_urls(text: str) -> list[str] | None:
    """The URLs of the text's phone audio at once (made in the background or when Twilio
    fetches them), or None: the caller hears <Say> instead of silence. The first text of an
    answer is what the caller hears first: its first chunk is made before anything else waiting."""
    speaker: Speaker = current_app.extensions["tingwen.speaker"]
    first = not g.get("tingwen_audio_planned")
    g.tingwen_audio_planned = True
    try:
        return [_settings().url(f"/ivr/audio/{chunk.name}") for chunk in speaker.plan(text, AudioFormat.ULAW, first=first)]
    except Exception as error:
        log.error("could not plan phone audio (%s); falling back to <Say>", error)
        return None


def _respond(menu: Menu, state: MenuState, actions) -> tuple[str, int, dict]:
    settings = _settings()
    reading = state.mode in (Mode.READING, Mode.READ_ALL)
    timeout = READING_GATHER_TIMEOUT if reading else settings.gather_timeout
    body = build(actions, _audio_urls, normalize, settings.url("/ivr/gather"), timeout)
    return body, 200, {"Content-Type": TWIML}


@blueprint.errorhandler(Exception)
def _fault(error: Exception):
    """Whatever failed inside the service (a full disk, a broken store): a refusal keeps its
    own status; anything else is logged, and a caller hears an apology and the call ends
    politely, never a 500. The next call tries afresh, so the line recovers by itself."""
    if isinstance(error, HTTPException):
        return error
    log.error("phone webhook %s failed: %s: %s", request.path, type(error).__name__, error, exc_info=not isinstance(error, OSError))
    if request.path in ("/ivr/status", "/ivr/bulletin/status", "/ivr/bulletin/machine"):  # Twilio's notes, not calls
        return "the call log cannot be written right now", 503
    apology = [Say(load_prompts().unavailable, interruptible=False), End("fault")]
    return build(apology, _audio_urls, normalize, _settings().url("/ivr/gather"), 1), 200, {"Content-Type": TWIML}

