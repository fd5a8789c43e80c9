"""First audio on a cold cache: how long a caller or visitor waits for the first sound, with the
neural voice, on a fresh data folder, while the start-up pre-render pass runs.

    .venv/bin/python bench/first_audio.py                # 1 and 20 calls at once (goal: cold p95 <= 500 ms / 1 s)
    .venv/bin/python bench/first_audio.py --calls 1 5    # other sizes
    .venv/bin/python bench/first_audio.py --tiny         # one call of each kind (CI runs this so it cannot rot)

For each front end and each size, a fresh `tingwen serve` (gunicorn, one worker) is started on a
new data folder, N callers act at once (cold: nothing is cached but what pre-rendering has made
by then), then N callers do the same again (warm: the baseline, in the same run):
- stream: Twilio's Media Streams protocol over a real WebSocket: from our `start` to the first
  media frame, from pressing a notice's key to its first frame (after the clear), and from
  pressing 1 in that notice to its first part's first frame;
- webhook: POST /ivr/voice, then GET its first <Play> URL: to the end of that audio; the same for
  the notice's key (POST /ivr/gather);
- kiosk: POST /kiosk/menu, then GET its first audio: to the end of it; the same for the key.
Callers choose different notices (key 1 + caller number mod 7), so their audio differs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import simple_websocket
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ivr_load import free_port  # noqa: E402

TOKEN = "bench-auth-token"
PUBLIC = "https://ivr.example.gov.cn"
GOALS_MS = {1: 500, 20: 1000}  # cold first audio, p95, on 2 cores
NOTICES_ON_A_PAGE = 7


@dataclass
class Waits:
    """Milliseconds, by what was waited for; failures counted."""

    ms: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, seconds: float) -> None:
        with self.lock:
            self.ms.setdefault(what, []).append(seconds * 1000)

    def fail(self, error: str) -> None:
        with self.lock:
            self.failures.append(error)


class Server:
    """`tingwen serve` on a fresh data folder, neural voice, pre-rendering at start-up."""

    def __init__(self, mode: str):
        self.folder = tempfile.TemporaryDirectory(prefix="tingwen-bench-first-")
        self.port = free_port()
        env = {**os.environ, "TINGWEN_VOICE": "neural", "TINGWEN_PHONE_MODE": mode, "TINGWEN_PRERENDER": "1",
               "TWILIO_AUTH_TOKEN": TOKEN, "TINGWEN_PUBLIC_URL": PUBLIC, "TINGWEN_ACCESS_LOG": "", "TINGWEN_WORKERS": "1"}  # fmt: skip
        self.log = open(Path(self.folder.name) / "server.log", "w")
        command = [sys.executable, "-m", "server", "--data-dir", self.folder.name, "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped: {Path(self.log.name).read_text()[-2000:]}")
            try:
                status, _ = self.request("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("the server did not come up")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body, headers or {})
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    def signed_post(self, path: str, params: dict) -> bytes:
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
        status, body = self.request("POST", path, urllib.parse.urlencode(params).encode(),
                                    {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})  # fmt: skip
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        return body

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)
        self.log.close()
        self.folder.cleanup()


def _get_audio(server: Server, url: str) -> None:
    status, body = server.request("GET", url.replace(PUBLIC, ""))
    if status != 200 or body[:4] != b"RIFF":
        raise RuntimeError(f"audio {url} answered {status}")


def webhook_call(server: Server, number: int, waits: Waits, label: str) -> None:
    sid = f"CA{number:032d}"
    began = time.monotonic()
    twiml = server.signed_post("/ivr/voice", {"CallSid": sid, "From": "+8613800000000"}).decode()
    _get_audio(server, re.findall(r"<Play>([^<]+)</Play>", twiml)[0])
    waits.add(f"{label} answer", time.monotonic() - began)
    action = re.search(r'<Gather[^>]* action="([^"]+)"', twiml).group(1).replace("&amp;", "&")
    path = urllib.parse.urlsplit(action)
    began = time.monotonic()
    key = str(1 + number % NOTICES_ON_A_PAGE)
    twiml = server.signed_post(path.path + (f"?{path.query}" if path.query else ""), {"CallSid": sid, "From": "+8613800000000", "Digits": key}).decode()
    _get_audio(server, re.findall(r"<Play>([^<]+)</Play>", twiml)[0])
    waits.add(f"{label} key -> notice", time.monotonic() - began)


def kiosk_visit(server: Server, number: int, waits: Waits, label: str) -> None:
    def turn(body: dict) -> dict:
        status, answer = server.request("POST", "/kiosk/menu", json.dumps(body).encode(), {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"/kiosk/menu answered {status}")
        return json.loads(answer)

    def first_audio(answer: dict) -> str:
        return next(a["audio"][0] for a in answer["actions"] if a["type"] == "say" and a["audio"])

    began = time.monotonic()
    answer = turn({})
    _get_audio(server, first_audio(answer))
    waits.add(f"{label} start", time.monotonic() - began)
    began = time.monotonic()
    answer = turn({"state": answer["state"], "event": {"kind": "key", "key": str(1 + number % NOTICES_ON_A_PAGE)}})
    _get_audio(server, first_audio(answer))
    waits.add(f"{label} key -> notice", time.monotonic() - began)


class StreamCaller:
    """Twilio's side of a Media Streams call: marks echoed at once, keys pressed once audio comes."""

    def __init__(self, server: Server, number: int):
        self.server, self.number = server, number
        self.sid, self.stream_sid = f"CA{number:032d}", f"MZ{number:032d}"
        self.events: list[tuple[float, str]] = []
        self.changed = threading.Condition()

    def _send(self, message: dict) -> None:
        self.ws.send(json.dumps(message))

    def _read(self) -> None:
        try:
            while True:
                raw = self.ws.receive()
                if raw is None:
                    continue
                message = json.loads(raw)
                with self.changed:
                    self.events.append((time.monotonic(), message["event"]))
                    self.changed.notify_all()
                if message["event"] == "mark":
                    self._send({"event": "mark", "streamSid": self.stream_sid, "mark": message["mark"]})
        except (simple_websocket.ConnectionClosed, OSError):
            return

    def _first_media(self, since: float, after_clear: bool) -> float:
        with self.changed:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                later = [(t, e) for t, e in self.events if t >= since]
                if after_clear:
                    cleared = next((i for i, (_, e) in enumerate(later) if e == "clear"), None)
                    later = later[cleared + 1 :] if cleared is not None else []
                media = next((t for t, e in later if e == "media"), None)
                if media is not None:
                    return media
                self.changed.wait(0.5)
        raise RuntimeError("no audio within 60 s")

    def call(self, waits: Waits, label: str) -> None:
        twiml = self.server.signed_post("/ivr/voice", {"CallSid": self.sid, "From": "+8613800000000"}).decode()
        url = re.search(r'url="([^"]+)"', twiml).group(1)
        token = re.search(r'name="token" value="([^"]+)"', twiml).group(1)
        headers = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, {})}
        self.ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{self.server.port}/ivr/stream", headers=headers)
        threading.Thread(target=self._read, daemon=True).start()
        try:
            began = time.monotonic()
            self._send({"event": "start", "streamSid": self.stream_sid,
                        "start": {"streamSid": self.stream_sid, "callSid": self.sid, "customParameters": {"token": token}}})  # fmt: skip
            waits.add(f"{label} start", self._first_media(began, after_clear=False) - began)
            for key, what in ((str(1 + self.number % NOTICES_ON_A_PAGE), "key -> notice"), ("1", "key in notice -> part")):
                time.sleep(0.3)  # a moment of listening
                pressed = time.monotonic()
                self._send({"event": "dtmf", "streamSid": self.stream_sid, "dtmf": {"digit": key}})
                waits.add(f"{label} {what}", self._first_media(pressed, after_clear=True) - pressed)
            self._send({"event": "stop", "streamSid": self.stream_sid})
        finally:
            self.ws.close()


def stream_call(server: Server, number: int, waits: Waits, label: str) -> None:
    StreamCaller(server, number).call(waits, label)


FRONT_ENDS = {"stream": ("stream", stream_call), "webhook": ("gather", webhook_call), "kiosk": ("gather", kiosk_visit)}


def run(front_end: str, calls: int) -> Waits:
    mode, act = FRONT_ENDS[front_end]
    server = Server(mode)
    waits = Waits()
    try:
        for label, offset in (("cold", 0), ("warm", 7 * 1000)):  # the same notices again
            def one(number: int) -> None:
                try:
                    act(server, number, waits, label)
                except Exception as error:  # counted and shown, not fatal to the run
                    waits.fail(f"{type(error).__name__}: {error}")

            threads = [threading.Thread(target=one, args=(offset + n,)) for n in range(calls)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(180)
        if waits.failures:  # what the server said about them
            errors = [line for line in Path(server.log.name).read_text().splitlines() if " ERROR " in line or "Traceback" in line]
            for line in errors[-10:]:
                print(f"  server: {line[:300]}", file=sys.stderr)
    finally:
        server.stop()
    return waits


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--front-ends", nargs="+", default=list(FRONT_ENDS), choices=list(FRONT_ENDS))
    parser.add_argument("--tiny", action="store_true", help="one call of each kind")
    args = parser.parse_args()
    sizes = [1] if args.tiny else args.calls
    rows = []
    failures = 0
    for front_end in args.front_ends:
        for calls in sizes:
            waits = run(front_end, calls)
            failures += len(waits.failures)
            for error in waits.failures[:5]:
                print(f"  {front_end} x{calls}: {error}", file=sys.stderr)
            for what in sorted({w.split(" ", 1)[1] for w in waits.ms}, key=lambda w: ("start" not in w and "answer" not in w, w)):
                cold, warm = waits.ms.get(f"cold {what}", []), waits.ms.get(f"warm {what}", [])
                if cold and warm:
                    rows.append((front_end, calls, what, cold, warm))
            print(f"measured {front_end} with {calls} at once", flush=True)
    print()
    print("first audio, neural voice, fresh data folder, pre-rendering running; milliseconds")
    print(f"{'front end':<9}{'calls':>6}  {'waiting for':<24}{'cold p50':>9}{'cold p95':>9}{'warm p50':>9}{'warm p95':>9}{'cold/warm':>10}  goal")
    for front_end, calls, what, cold, warm in rows:
        goal = GOALS_MS.get(calls)
        verdict = "" if goal is None else f"p95 <= {goal}: {'met' if p95(cold) <= goal else 'NOT MET'}"
        print(f"{front_end:<9}{calls:>6}  {what:<24}{statistics.median(cold):>9.0f}{p95(cold):>9.0f}{statistics.median(warm):>9.0f}"
              f"{p95(warm):>9.0f}{p95(cold) / max(p95(warm), 1e-3):>9.1f}x  {verdict}")  # fmt: skip
    print(f"failed calls: {failures}")
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
