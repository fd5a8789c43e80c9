"""Twilio voice webhooks: /ivr/voice answers a call, /ivr/gather carries it on, /ivr/status
closes it, /ivr/audio/… serves our own phone audio (the bulletin's calls: ivr/bulletin_webhooks.py,
which shares the helpers at the end of this module).

Every webhook is checked against X-Twilio-Signature before anything else; the call's menu state
lives in the call store between webhooks; whatever arrives garbled gets a safe reprompt or a 400
with a reason, never a 500. What goes over the wire is ivr/twilio_wire.py's.
"""

from __future__ import annotations

import logging
from functools import wraps

import secrets

from flask import Blueprint, abort, current_app, g, request, send_file
from werkzeug.exceptions import HTTPException
from flask_sock import Sock

from monitoring import logs, metrics
from ivr import twilio_wire as wire
from content.keys import ALL_KEYS
from content.menu import End, Event, Menu, MenuState, Mode, Say, Stop, menu_for
from content.prompts import load_prompts
from content.store import NoticeStore
from ivr import delegated
from ivr.answers import Answers, Chunk
from ivr.caller_memory import CallerMemory
from ivr.callstore import CallEvent, CallStore, turn_events
from ivr.numbers import dialable
from ivr.subscribers import SubscriberStore, is_subscribed, open_subscribers
from ivr.reading import extend_reading, playing_state, remember
from ivr.settings import READING_GATHER_TIMEOUT, IvrSettings
from speech.normalize import normalize
from speech.speaker import Speaker
from speech.utterances import AudioFormat

log = logging.getLogger(__name__)
blueprint = Blueprint("ivr", __name__, url_prefix="/ivr")
sock = Sock()


def phone_settings() -> IvrSettings:
    return current_app.config["TINGWEN_IVR"]


def _require_signature(url: str, params: dict[str, str], what: str) -> None:
    """403 unless the request carries Twilio's signature of `url` and `params` (when checked)."""
    settings = phone_settings()
    if settings.validate_signatures and not wire.signed(settings.auth_token, url, params, request.headers.get(wire.SIGNATURE_HEADER, "")):
        log.warning("refused %s: missing or wrong %s", what, wire.SIGNATURE_HEADER)
        abort(403, f"missing or wrong {wire.SIGNATURE_HEADER}")


def twilio_signed(view):
    """403 unless the request carries a valid X-Twilio-Signature for our public URL."""

    @wraps(view)
    def checked(*args, **kwargs):
        url = phone_settings().url(request.full_path if request.query_string else request.path)
        _require_signature(url, request.form.to_dict(), request.path)
        with logs.call(request.form.get("CallSid", "")[:64] or None):  # its log lines carry the call's id
            return view(*args, **kwargs)

    return checked


def call_sid() -> str:
    """The webhook's CallSid; 400 if it is missing or malformed."""
    sid = request.form.get("CallSid", "")
    if not wire.valid_sid(sid):
        abort(400, "CallSid is missing or malformed")
    return sid


def open_stores() -> tuple[NoticeStore, CallStore]:
    return NoticeStore(current_app.config["TINGWEN_DB"]), CallStore.open(phone_settings())


def phone_menu(notices: NoticeStore) -> Menu:
    """The phone's menu (with the daily bulletin's key 8 when it is set up)."""
    return menu_for(notices, current_app.config.get("TINGWEN_PHONE_MENU") or current_app.config["TINGWEN_MENU"])


def subscriber_list() -> SubscriberStore:
    """The daily bulletin's list (only when it is set up: TINGWEN_BULLETIN_FROM, see _opener)."""
    settings = phone_settings()
    return open_subscribers(settings.subscribers_db, settings.subscriber_key)


def listener_number() -> str | None:
    """The listener's number, if it can be called back: From on a call to us, To on our bulletin."""
    form = request.form
    return dialable(form.get("To") if form.get("Direction", "").startswith("outbound") else form.get("From"))


def _opener():
    """What opens the bulletin's list, or None when the bulletin is not set up."""
    return subscriber_list if phone_settings().subscribers_db is not None else None


@blueprint.post("/voice")
@twilio_signed
def voice():
    number = listener_number()

    def opening(menu: Menu, calls: CallStore):
        """The latest notices, at the caller's own pace, after the offer to go on where they
        stopped when they are remembered."""
        kept = _recall(calls, number)
        voice = {"pace": kept.pace, "loudness": kept.loudness, "resume": kept.resume} if kept else {}
        return menu.start(subscribed=is_subscribed(number, _opener()), **voice)

    return answer(call_sid(), request.form.get("From"), opening)


def _recall(calls: CallStore, number: str | None):
    try:
        return CallerMemory(calls).recall(number)
    except Exception as error:  # the caller hears the menu as a new caller would
        log.error("could not read what is remembered of a caller: %s", error)
        return None


def answer(sid: str, caller: str | None, opening, events: list[CallEvent] = (), bulletin: tuple[int, ...] | None = None):
    """A call begins (ours to a subscriber, or theirs to us): a finished one hangs up; else the
    menu opens with `opening(menu, calls)`, the call is stored, and it goes on by webhooks or a stream."""
    notices, calls = open_stores()
    with notices:
        known = calls.get(sid)
        if known is not None and known.ended:
            calls.close()
            return _hang_up(sid)
        menu = phone_menu(notices)
        state, actions = opening(menu, calls)
        token = secrets.token_urlsafe(24) if phone_settings().phone_mode == "stream" else None
        calls.begin(sid, caller, state.to_json(), list(events), stream_token=token)
    calls.close()
    metrics.call_started(phone_settings().phone_mode, "bulletin" if bulletin is not None else "call")
    log.info("call answered (%s)", phone_settings().phone_mode)
    if token is not None:
        # The caller's number travels with the stream (its start message carries no From) for
        # key 8, and on a bulletin call the notices it reads (the stream starts with the bulletin).
        url = phone_settings().websocket_url("/ivr/stream")
        return wire.twiml(wire.connect_stream(url, token, listener_number(), bulletin))
    return respond(menu, state, actions)


@blueprint.before_request
def _check_stream_upgrade():
    """The WebSocket upgrade is signed like any webhook (the signed URL is the wss:// one)."""
    if request.path == "/ivr/stream":
        _require_signature(phone_settings().websocket_url(request.full_path if request.query_string else request.path), {}, "a stream upgrade")


@sock.route("/stream", bp=blueprint)
def stream(ws):
    from ivr.stream import StreamCall

    settings = phone_settings()
    notices, calls = open_stores()
    with notices:
        menu = phone_menu(notices)
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
    sid = call_sid()
    settings = phone_settings()
    notices, calls = open_stores()
    with notices:
        menu = phone_menu(notices)
        call = calls.get(sid)
        if call is None:  # a call we do not know (lost, or expired): greet it afresh
            state, actions = menu.start()
            calls.begin(sid, request.form.get("From"), state.to_json())
            calls.close()
            return respond(menu, state, actions)
        if call.ended:
            calls.close()
            return _hang_up(sid)
        before = restore(menu, call.state)
        if request.form.get("Digits"):  # a key during several sentences acts on the one playing
            before = playing_state(call.reading, _phone_seconds(before)) or before
        if call.age().total_seconds() > settings.max_call_minutes * 60:
            state = MenuState(mode=Mode.ENDED, greeted=True, pace=before.pace, loudness=before.loudness)
            actions = [Stop(), Say(menu.goodbye(before), interruptible=False), End("call too long")]
            calls.save(sid, state.to_json(), [CallEvent("limit", detail={"minutes": settings.max_call_minutes})])
            calls.close()
            return respond(menu, state, actions)
        event = _event(before, request.form.get("Digits"))
        state, actions = menu.step(before, event)
        events = turn_events(menu, before, event, state, actions)
        carried = delegated.carry_out(state, actions, listener_number(), settings, calls, _opener())
        if carried.dial is not None:  # put through to the hall's staff: the menu waits for the call to come back
            calls.save(sid, carried.state.to_json(), events + carried.events)
            calls.close()
            return respond(menu, carried.state, carried.actions, carried.dial)
        state, actions, steps, more = extend_reading(menu, carried.state, carried.actions, settings.reading_batch)
        calls.save(sid, state.to_json(), events + carried.events + more, remember(steps))
    calls.close()
    return respond(menu, state, actions)


def _hang_up(sid: str):
    """A webhook for a call that has ended (a replayed request): nothing more is played."""
    log.warning("webhook %s for the finished call %s: hanging up", request.path, sid)
    return wire.twiml(wire.hang_up())


def _listener_voice(state: MenuState) -> tuple[int, float]:
    """(rate, gain) of the caller's own pace and loudness."""
    speaker: Speaker = current_app.extensions["tingwen.speaker"]
    return speaker.listener_voice(state.pace, state.loudness)


def _phone_seconds(state: MenuState):
    """How long a text lasts on this call (at the caller's pace)."""
    speaker: Speaker = current_app.extensions["tingwen.speaker"]
    rate, gain = _listener_voice(state)
    return lambda text: speaker.seconds(text, AudioFormat.ULAW, rate, gain)


@blueprint.post("/status")
@twilio_signed
def status():
    sid = call_sid()
    call_status = request.form.get("CallStatus", "")[:32] or "unknown"
    known = close_call_record(sid, call_status)
    if known:
        _remember_caller(sid)
        if phone_settings().phone_mode == "gather":  # a stream counts its own end (ivr/stream.py)
            metrics.call_finished("gather", call_status)
    return ("", 204) if known else ("unknown CallSid", 404)


def _remember_caller(sid: str) -> None:
    """The call is over: keep the caller's pace and loudness, and the sentence after the one
    that was playing when they hung up (nothing for a withheld number, or one that asked to be
    forgotten). A failure here is logged; the call record is closed all the same."""
    number = listener_number()
    if number is None or phone_settings().caller_memory_days <= 0:
        return
    notices, calls = open_stores()
    try:
        with notices:
            menu = phone_menu(notices)
        call = calls.get(sid)
        if call is not None:
            last = restore(menu, call.state)
            playing = playing_state(call.reading, _phone_seconds(last)) or last
            CallerMemory(calls).keep(number, playing, menu.resume_point(playing))
    except Exception as error:
        log.error("call %s: could not remember the caller: %s", sid, error)
    finally:
        calls.close()


def close_call_record(sid: str, call_status: str) -> bool:
    """The call is over (Twilio's status callback, with its CallDuration): close its record."""
    duration = request.form.get("CallDuration", "")
    calls = CallStore.open(phone_settings())
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


def restore(menu: Menu, text: str) -> MenuState:
    try:
        return MenuState.from_json(text)
    except (ValueError, TypeError, KeyError):
        log.warning("unreadable stored call state; starting the menu again")
        return menu.start()[0]


def _event(state: MenuState, digits: str | None) -> Event:
    """What Twilio's Gather reported: a key, or nothing (the sentence ended / the caller was silent)."""
    if digits is None or digits == "":
        if state.is_reading:
            return Event.finished()
        return Event.timeout()
    key = digits if len(digits) == 1 and digits in ALL_KEYS else "?"
    return Event.press(key)


def phone_audio_urls(
    speaker: Speaker, settings: IvrSettings, text: str, voice: tuple[int | None, float], first: bool, chunks: list[Chunk] | None = None,
    queue: bool = True,
) -> list[str] | None:
    """The URLs of the text's phone audio at once (made in the background or when Twilio
    fetches them from /ivr/audio/), at the caller's `voice` (rate, gain), or None: the caller
    hears <Say> instead of silence. `first`: what the caller hears first, made before anything
    else waiting. `chunks`, if given, gets each chunk's (key, suffix); without `queue` nothing
    missing is queued (Speaker.plan). The webhooks and a streaming call moved to the hall's
    staff use it."""
    rate, gain = voice
    try:
        planned = speaker.plan(text, AudioFormat.ULAW, rate=rate, first=first, gain=gain, queue=queue)
    except Exception as error:
        log.error("could not plan phone audio (%s); falling back to <Say>", error)
        return None
    if chunks is not None:
        chunks.extend((chunk.key, chunk.format.suffix) for chunk in planned)
    return [settings.url(f"/ivr/audio/{chunk.name}") for chunk in planned]


def _audio_urls(text: str, voice: tuple[int | None, float] = (None, 1.0)) -> list[str] | None:
    """phone_audio_urls for this answer: its first text is the one made first; the chunks it
    names are noted for respond (None once a text could not be planned). Under
    `g.tingwen_names_only` (ivr/ready.py) nothing missing is queued for rendering."""
    first = not g.get("tingwen_audio_planned")
    g.tingwen_audio_planned = True
    chunks = g.get("tingwen_chunks")
    queue = not g.get("tingwen_names_only", False)
    urls = phone_audio_urls(current_app.extensions["tingwen.speaker"], phone_settings(), text, voice, first, chunks, queue)
    if urls is None:
        g.tingwen_chunks = None
    return urls


@blueprint.record_once
def _keep_answers(setup) -> None:
    """Each app keeps its own answers (its own audio and public URL)."""
    setup.app.extensions["tingwen.phone_answers"] = Answers()


def respond(menu: Menu, state: MenuState, actions, dial: wire.Dial | None = None) -> tuple[str, int, dict]:
    """The menu's actions as a TwiML answer: our audio in a <Gather>, which comes back to
    /ivr/gather (with `dial`: then the caller is put through to the hall's staff). A turn of
    the same shape at the same voice is answered as before while its audio is all there
    (ivr/answers.py)."""
    settings = phone_settings()
    speaker: Speaker = current_app.extensions["tingwen.speaker"]
    answers: Answers = current_app.extensions["tingwen.phone_answers"]
    key = answer_key(state, actions) if dial is None else None
    if key is not None and (kept := answers.get(key, speaker.cache.has)) is not None:
        return wire.twiml(kept)
    voice, timeout = _listener_voice(state), _gather_timeout(state)
    g.tingwen_chunks = []
    answer = wire.build(actions, lambda text: _audio_urls(text, voice), normalize, settings.url("/ivr/gather"), timeout, dial)
    chunks = g.pop("tingwen_chunks", None)
    if key is not None and chunks is not None and all(speaker.cache.has(*chunk) for chunk in chunks):
        answers.put(key, answer, chunks)
    return wire.twiml(answer)


def answer_key(state: MenuState, actions) -> tuple:
    """What a turn's TwiML depends on (ivr/answers.py): the speaker's names, the caller's voice,
    how long the Gather listens, and the shape of what is said."""
    speaker: Speaker = current_app.extensions["tingwen.speaker"]
    return speaker.names_version, _listener_voice(state), _gather_timeout(state), wire.answer_shape(actions)


def _gather_timeout(state: MenuState) -> int:
    """Seconds a Gather waits for a key: short while sentences are read on, a menu's own wait else."""
    return READING_GATHER_TIMEOUT if state.is_reading else phone_settings().gather_timeout


@blueprint.errorhandler(Exception)
def fault(error: Exception):
    """Whatever failed inside the service (a full disk, a broken store): a refusal keeps its
    own status; anything else is logged, and a caller hears an apology and the call ends
    politely, never a 500. The next call tries afresh, so the line recovers by itself."""
    if isinstance(error, HTTPException):
        return error
    metrics.error(type(error).__name__, "phone")
    log.error("phone webhook %s failed: %s: %s", request.path, type(error).__name__, error, exc_info=not isinstance(error, OSError))
    if request.path in ("/ivr/status", "/ivr/bulletin/status", "/ivr/bulletin/machine"):  # Twilio's notes, not calls
        return "the call log cannot be written right now", 503
    apology = [Say(load_prompts().unavailable, interruptible=False), End("fault")]
    return wire.twiml(wire.build(apology, _audio_urls, normalize, phone_settings().url("/ivr/gather"), 1))

