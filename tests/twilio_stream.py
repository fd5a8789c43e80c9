"""Twilio's side of a Media Streams call, for the tests of the streaming phone line."""

from __future__ import annotations

import json
import threading
import time

from conftest import PHONE_TOKEN, PhoneCall


class TwilioStream:
    """Plays Twilio's part in a Media Streams call over a real WebSocket on loopback: answers the
    call with a signed /ivr/voice, opens the signed socket, sends start/media/dtmf/stop, and echoes
    each mark once the audio before it has arrived (as if played)."""

    def __init__(self, app, port, sid="CA5treamcall00000000000000000000", realtime=False):
        self.app, self.port, self.sid = app, port, sid
        self.realtime = realtime  # echo marks only once the audio before them would have played
        self.play_until = 0.0
        self.timers = []
        self.phone = PhoneCall(app, sid=sid)
        self.messages = []  # (time, parsed message)
        self.lock = threading.Lock()
        self.send_lock = threading.Lock()  # marks are echoed from the reader thread
        self.stream_sid = "MZ" + sid[2:]
        self.ws = None

    def answer(self):
        self.phone.start()
        stream = self.phone.twiml.xpath("/Response/Connect/Stream")[0]
        self.url = stream.get("url")
        self.token = stream.xpath("string(Parameter[@name='token']/@value)")
        self.parameters = {p.get("name"): p.get("value") for p in stream.xpath("Parameter")}  # Twilio passes them all on
        return self

    def connect(self, token=None, signed=True):
        import simple_websocket
        from twilio.request_validator import RequestValidator

        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = RequestValidator(PHONE_TOKEN).compute_signature(self.url, {})
        self.ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{self.port}/ivr/stream", headers=headers)
        self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        parameters = {**getattr(self, "parameters", {}), "token": self.token if token is None else token}
        start = {"streamSid": self.stream_sid, "callSid": self.sid, "customParameters": parameters}
        self.send({"event": "start", "sequenceNumber": "1", "start": start, "streamSid": self.stream_sid})
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def send(self, message):
        with self.send_lock:
            self.ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))

    def _echo(self, message):
        import simple_websocket
        from wsproto.utilities import LocalProtocolError

        try:
            self.send(message)
        except (simple_websocket.ConnectionClosed, LocalProtocolError, OSError):
            pass  # the call is over (or closing: a mark echoed as the socket closes)

    def _read(self):
        import simple_websocket

        try:
            while True:
                raw = self.ws.receive()
                if raw is None:
                    continue
                message = json.loads(raw)
                now = time.monotonic()
                with self.lock:
                    self.messages.append((now, message))
                if message["event"] == "media":
                    self.play_until = max(self.play_until, now) + 0.02
                elif message["event"] == "clear":
                    self.play_until = now
                    for timer in self.timers:
                        timer.cancel()
                elif message["event"] == "mark":
                    echo = {"event": "mark", "streamSid": self.stream_sid, "mark": message["mark"]}
                    if self.realtime:
                        timer = threading.Timer(max(0.0, self.play_until - now), self._echo, args=(echo,))
                        self.timers.append(timer)
                        timer.start()
                    else:
                        self._echo(echo)
        except (simple_websocket.ConnectionClosed, OSError):
            with self.lock:
                self.messages.append((time.monotonic(), {"event": "closed"}))

    def press(self, digit):
        self.send({"event": "dtmf", "streamSid": self.stream_sid, "dtmf": {"track": "inbound_track", "digit": digit}})

    def speak(self, ulaw: bytes):
        import base64

        for i in range(0, len(ulaw), 160):
            payload = base64.b64encode(ulaw[i : i + 160]).decode()
            self.send({"event": "media", "streamSid": self.stream_sid, "media": {"track": "inbound", "payload": payload}})

    def wait_for(self, predicate, timeout=20.0):
        """Wait until predicate(messages) is true; returns the messages then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                snapshot = [m for _, m in self.messages]
            if predicate(snapshot):
                return snapshot
            time.sleep(0.01)
        raise AssertionError(f"timed out; last events: {[m['event'] for m in snapshot[-8:]]}")

    def hang_up(self):
        """Twilio's end of a call: a `stop` message, then the server closes the socket."""
        self.send({"event": "stop", "streamSid": self.stream_sid})
        return self.wait_for(lambda ms: ms[-1]["event"] == "closed" if ms else False)

    def close(self):
        import simple_websocket

        if self.ws is not None:
            try:
                self.ws.close()
            except simple_websocket.ConnectionClosed:
                pass  # the server closed it first
