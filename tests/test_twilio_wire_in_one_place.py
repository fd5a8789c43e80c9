"""Twilio's wire format lives in ivr/twilio_wire.py alone: no other module of the service builds
TwiML, checks a signature, names a Media Streams field or a stream parameter, or lists Twilio's
call statuses. A second copy (the drift this guards against) fails here by name."""

import re
from pathlib import Path

import pytest

from ivr import twilio_wire as wire

ROOT = Path(__file__).resolve().parent.parent
SERVICE = [p for folder in ("content", "speech", "ivr", "kiosk", "staff", "feed", "commands") for p in (ROOT / folder).rglob("*.py")]
SERVICE += [ROOT / "server.py", ROOT / "config.py"]
WIRE = ROOT / "ivr" / "twilio_wire.py"

MARKS = {
    "TwiML built": r"VoiceResponse\(|Connect\(|Gather\(",
    "a signature checked": r"RequestValidator",
    "TwiML's content type": r"text/xml",
    "a Media Streams field": r"[\"'](streamSid|customParameters|payload)[\"']",
    "a stream parameter named": r"parameter\(name=",
    "Twilio's call statuses listed": r"[\"']no-answer[\"']",
    "an answering machine's result": r"machine_end_",
}


@pytest.mark.parametrize("what, pattern", MARKS.items(), ids=list(MARKS))
def test_only_the_wire_module_knows(what, pattern):
    elsewhere = [str(p.relative_to(ROOT)) for p in SERVICE if p != WIRE and re.search(pattern, p.read_text("utf-8"))]
    assert elsewhere == [], f"{what} outside ivr/twilio_wire.py"
    assert re.search(pattern, WIRE.read_text("utf-8")), f"the wire module no longer has {what}: update this test"


def test_stream_messages_round_trip():
    sent = wire.media("MZ1", b"\xff\x7f" * 80)
    assert wire.media_payload(wire.stream_message(wire.encode(sent))) == b"\xff\x7f" * 80
    assert wire.stream_message(wire.encode(wire.clear("MZ1"))) == {"event": "clear", "streamSid": "MZ1"}
    for garbled in (b"\x00binary", "not json", "[1, 2]", '{"event": 3}', "[" * 100_000):
        with pytest.raises(ValueError):
            wire.stream_message(garbled)


def test_the_stream_parameters_our_twiml_sends_are_the_ones_the_stream_reads():
    twiml = wire.connect_stream("wss://example.org/ivr/stream", "tok", "+8613800000000", (3, 1))
    names = re.findall(r'<Parameter name="(\w+)" value="([^"]*)"', twiml)
    start = wire.StreamStart.read({"event": "start", "streamSid": "MZ1", "start": {"callSid": "CA1", "customParameters": dict(names)}})
    assert (start.call_sid, start.stream_sid) == ("CA1", "MZ1")
    parameters = start.parameters
    assert parameters[wire.STREAM_TOKEN] == "tok" and parameters[wire.STREAM_CALLER] == "+8613800000000"
    assert wire.bulletin_notices(parameters) == [3, 1]
    assert wire.bulletin_notices({"token": "t"}) is None
