"""Twilio's wire format, in one place: TwiML answers, request signatures, call statuses and
answering-machine results, and the Media Streams messages both ways (as a voice platform keeps
one serializer per telephony provider). The views and the stream call speak to Twilio only
through this module; TwiML is built with the twilio library, signatures checked with its
RequestValidator.

Prompts and sentences are `<Play>` of our own 8 kHz audio nested in a `<Gather>`, so any key
interrupts them at once; if our audio cannot be made, `<Say language="cmn-CN">` of the spoken
form stands in, so a caller never hears silence or an error.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Connect, Gather, VoiceResponse

from content.menu_state import Action, End, Listen, Play, Say

SAY_LANGUAGE = "cmn-CN"
TWIML_TYPE = "text/xml; charset=utf-8"
SIGNATURE_HEADER = "X-Twilio-Signature"
_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")

# CallStatus values after which a call is over: it was heard, or it was never answered.
UNANSWERED_STATUSES = ("busy", "no-answer", "failed", "canceled")
FINAL_STATUSES = ("completed", *UNANSWERED_STATUSES)
# AnsweredBy once a machine's greeting has ended (MachineDetection=DetectMessageEnd): after a beep,
# after silence, or it could not tell; and a fax.
MACHINE_ENDS = ("machine_end_beep", "machine_end_silence", "machine_end_other")
FAX = "fax"

# The custom parameters our <Stream> carries to the WebSocket (its start message has no From).
STREAM_TOKEN = "token"  # the one-use token that ties the stream to the call we answered
STREAM_CALLER = "caller"  # the listener's number, for the daily bulletin's key 8
STREAM_BULLETIN = "bulletin"  # on our bulletin call: the notices it reads, comma-separated
STREAM_RETURNED = "returned"  # back from the hall's staff number, nobody having answered: go on where it was

# <Dial>'s DialCallStatus when the staff phone was answered (else busy, no-answer, failed, canceled).
DIAL_ANSWERED = "completed"


@dataclass(frozen=True)
class Dial:
    """Put the caller through to `number`, ringing `ring_seconds`; Twilio then posts
    DialCallStatus to `action_url` (answered and over, or nobody answered)."""

    number: str
    ring_seconds: int
    action_url: str


# Requests

def signed(token: str | None, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Whether `signature` is Twilio's for `url` and `params` under our auth token. Twilio signs
    the URL as it was configured: the URL as we know it is tried first (one HMAC), then the
    twilio library's full check (with and without the port, and a JSON body's hash)."""
    if not (token and signature):
        return False
    validator = _validator(token)
    params = dict(params)
    if "bodySHA256" not in url:
        expected = validator.compute_signature(url, params).encode()
        if hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            return True
    return validator.validate(url, params, signature)


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def valid_sid(sid: str) -> bool:
    """A CallSid (or any Twilio id) of the shape Twilio sends."""
    return bool(_SID.match(sid))


# TwiML answers

def twiml(body: str) -> tuple[str, int, dict[str, str]]:
    """A Flask answer carrying TwiML."""
    return body, 200, {"Content-Type": TWIML_TYPE}


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def connect_stream(url: str, token: str, caller: str | None, bulletin: tuple[int, ...] | None, returned: bool = False) -> str:
    """<Connect><Stream>: the rest of the call runs over our WebSocket; when it closes, hang up.
    `returned`: the call comes back from the hall's staff number, to go on where it was."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=url)
    stream.parameter(name=STREAM_TOKEN, value=token)
    if caller:
        stream.parameter(name=STREAM_CALLER, value=caller)
    if bulletin is not None:
        stream.parameter(name=STREAM_BULLETIN, value=",".join(map(str, bulletin)))
    if returned:
        stream.parameter(name=STREAM_RETURNED, value="staff")
    response.append(connect)
    response.hangup()
    return str(response)


def gather(action_url: str, timeout: int) -> Gather:
    # finishOnKey="" so that # reaches us as a key instead of ending the input
    return Gather(
        input="dtmf",
        num_digits=1,
        action=action_url,
        method="POST",
        timeout=timeout,
        action_on_empty_result=True,
        finish_on_key="",
    )


def build(
    actions: list[Action],
    audio_urls: Callable[[str], list[str] | None],
    spoken: Callable[[str], str],
    action_url: str,
    timeout: int,
    dial: Dial | None = None,
) -> str:
    """`audio_urls(text)` gives the URLs of the text's audio chunks, or None when it cannot.
    With `dial`, the caller is put through to the hall's staff after what is said."""
    response = VoiceResponse()
    listening: Gather | None = None
    for action in actions:
        if isinstance(action, (Say, Play)):
            interruptible = action.interruptible if isinstance(action, Say) else True
            if interruptible and listening is None:
                listening = gather(action_url, timeout)
                response.append(listening)
            _speak(listening if interruptible else response, action.text, audio_urls, spoken)
        elif isinstance(action, Listen) and listening is None:
            listening = gather(action_url, timeout)
            response.append(listening)
        elif isinstance(action, End):
            response.hangup()
    if dial is not None:
        response.dial(dial.number, timeout=dial.ring_seconds, action=dial.action_url, method="POST")
    return str(response)


def answer_shape(actions: list[Action]) -> tuple:
    """All of `actions` that `build` reads (what is said, whether a key cuts it, where the
    caller is listened to, the hang-up), as a hashable value: two turns of the same shape get
    the same TwiML from the same audio (ivr/answers.py remembers it)."""
    return tuple(
        (type(action).__name__, action.text, action.interruptible if isinstance(action, Say) else True)
        if isinstance(action, (Say, Play))
        else type(action).__name__
        for action in actions
        if isinstance(action, (Say, Play, Listen, End))
    )


def _speak(target, text: str, audio_urls, spoken) -> None:
    urls = audio_urls(text)
    if urls:
        for url in urls:
            target.play(url)
    else:
        target.say(spoken(text), language=SAY_LANGUAGE)


# Media Streams

def stream_message(text: str | bytes) -> dict:
    """One message from Twilio's stream as a dict with a string `event`; a ValueError for
    anything else (binary frames, not JSON, no event)."""
    if isinstance(text, bytes):
        raise ValueError("binary WebSocket frame")
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise ValueError("no event")
    return data


@dataclass(frozen=True)
class StreamStart:
    """What a `start` message says: the call, the stream, and our <Stream>'s custom parameters."""

    call_sid: str
    stream_sid: str
    parameters: dict[str, str]

    @classmethod
    def read(cls, data: dict) -> StreamStart:
        start = data.get("start") or {}
        if not isinstance(start, dict):
            raise ValueError("start is not an object")
        found = start.get("customParameters") or {}
        parameters = {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
        return cls(str(start.get("callSid", ""))[:64], str(data.get("streamSid") or start.get("streamSid") or ""), parameters)


def stream_sid(data: dict) -> str | None:
    return data.get("streamSid")


def dtmf_digit(data: dict) -> str:
    """The key of a `dtmf` message ("?" when it carries none)."""
    return str((data.get("dtmf") or {}).get("digit", ""))[:1] or "?"


def mark_name(data: dict) -> str:
    """The name of a `mark` message: Twilio has played the audio sent before it."""
    return str((data.get("mark") or {}).get("name", ""))


def bulletin_notices(parameters: Mapping[str, str]) -> list[int] | None:
    """The notices a bulletin call reads (None when the stream is not a bulletin call)."""
    if STREAM_BULLETIN not in parameters:
        return None
    return [int(n) for n in parameters[STREAM_BULLETIN].split(",") if n.isascii() and n.isdigit() and len(n) < 19]


def returned_from_staff(parameters: Mapping[str, str]) -> bool:
    """Whether the stream carries on a call that came back from the hall's staff number."""
    return parameters.get(STREAM_RETURNED) == "staff"


def dial_answered(form: Mapping[str, str]) -> bool:
    """Whether <Dial>'s action says the staff phone was answered (the conversation is over)."""
    return form.get("DialCallStatus") == DIAL_ANSWERED


def media_payload(data: dict) -> bytes:
    """The caller's audio in a `media` message (8 kHz mu-law); a ValueError if garbled."""
    try:
        return base64.b64decode(data.get("media", {}).get("payload", ""), validate=True)
    except (TypeError, AttributeError) as error:
        raise ValueError(str(error)) from None


def encode(message: dict) -> str:
    """A message to Twilio's stream as the text frame it expects."""
    return json.dumps(message)


def media(stream_sid: str, frame: bytes) -> dict:
    return {"event": "media", "streamSid": stream_sid, "media": {"payload": base64.b64encode(frame).decode()}}


def mark(stream_sid: str, name: str) -> dict:
    return {"event": "mark", "streamSid": stream_sid, "mark": {"name": name}}


def clear(stream_sid: str) -> dict:
    """Twilio drops the audio it has buffered for the caller, at once."""
    return {"event": "clear", "streamSid": stream_sid}
