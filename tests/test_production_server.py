"""`tingwen serve` is a production server: gunicorn with gthread workers (WebSockets included),
workers and threads as settings, access lines and our own INFO lines in its log, and a graceful
stop on SIGTERM; `gunicorn 'server:serving_app()'` logs our lines too."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import PHONE_TOKEN
from twilio.request_validator import RequestValidator

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """A server process on loopback; its log (stdout and stderr together) is kept."""

    def __init__(self, command, env, cwd=None):
        self.port = free_port()
        self.log_path = Path(env["TINGWEN_DATA_DIR"]) / "server.log"
        Path(env["TINGWEN_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        self.log_file = open(self.log_path, "w")
        command = [part.replace("{port}", str(self.port)) for part in command]
        self.process = subprocess.Popen(command, stdout=self.log_file, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server stopped ({self.process.returncode}):\n{self.log}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return answer
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the server did not come up:\n{self.log}")

    @property
    def log(self) -> str:
        if not self.log_file.closed:
            self.log_file.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.log_file.close()


def environment(data_dir, **extra):
    return {
        **os.environ,
        "TINGWEN_DATA_DIR": str(data_dir),
        "TINGWEN_VOICE": "espeak",
        "TINGWEN_PRERENDER": "0",
        "TWILIO_AUTH_TOKEN": PHONE_TOKEN,
        **extra,
    }


def signed_call(base, public_url, sid="CAserved00000000000000000000000000"):
    params = {"CallSid": sid, "From": "+8613800000000", "CallStatus": "ringing"}
    signature = RequestValidator(PHONE_TOKEN).compute_signature(public_url + "/ivr/voice", params)
    request = urllib.request.Request(
        base + "/ivr/voice", data=urllib.parse.urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, answer.headers, answer.read().decode()


@pytest.fixture
def served(tmp_path):
    started = []

    def start(command, **extra):
        server = Served(command, environment(tmp_path / f"data{len(started)}", **extra))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(signal.SIGKILL, timeout=10)


def test_serve_runs_gunicorn_with_sockets_access_lines_and_a_graceful_stop(served):
    import simple_websocket

    server = served([str(BIN / "tingwen"), "serve", "--port", "{port}"], TINGWEN_WORKERS="2", TINGWEN_THREADS="8")
    server.wait_ready()
    status, headers, twiml = signed_call(server.base, "http://127.0.0.1:8000")
    assert status == 200 and headers["Server"].startswith("gunicorn") and "<Play>" in twiml
    heard = []
    for _ in range(3):  # the server says why and closes at once; the client may see the close first
        socket_ = simple_websocket.Client.connect(f"ws://127.0.0.1:{server.port}/kiosk/listen")  # 101, or it raises
        with contextlib.suppress(simple_websocket.ConnectionClosed):
            heard.append(json.loads(socket_.receive(timeout=10)))
        # our close may find the socket already shut by the client's reader (EBADF): nothing to close
        with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
            socket_.close()
    assert {"error": "语音识别未开启"} in heard  # the WebSocket route, carried by gunicorn
    code = server.stop()
    log = server.log
    assert code == 0, log
    assert "development server" not in log
    assert "Using worker: gthread" in log and log.count("Booting worker") == 2
    assert "INFO tingwen: empty store: loaded 7 bundled notices" in log  # our own lines
    assert log.count("INFO tingwen: prepared ") == 2  # each worker prepared what listeners hear before its first call
    assert '"POST /ivr/voice HTTP/1.1" 200' in log and '"GET /healthz HTTP/1.1" 200' in log  # access lines
    assert "Handling signal: term" in log and "Shutting down: Master" in log
    assert "Traceback" not in log, log[log.find("Traceback") - 800 :][:3000]


def test_a_request_in_progress_finishes_when_sigterm_arrives(served):
    server = served([str(BIN / "tingwen"), "serve", "--port", "{port}"], TINGWEN_GRACEFUL_SECONDS="20")
    server.wait_ready()
    # a slow client: the request line is in, the body arrives after the signal
    params = "CallSid=CAslow000000000000000000000000000&From=%2B861"
    signature = RequestValidator(PHONE_TOKEN).compute_signature("http://127.0.0.1:8000/ivr/voice", {"CallSid": "CAslow000000000000000000000000000", "From": "+861"})
    connection = socket.create_connection(("127.0.0.1", server.port))
    head = (
        f"POST /ivr/voice HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twilio-Signature: {signature}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(params)}\r\nConnection: close\r\n\r\n"
    )
    connection.sendall(head.encode())
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    connection.sendall(params.encode())
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    connection.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b"<Play>" in answer
    assert server.stop() == 0


def test_gunicorn_started_by_hand_logs_our_lines(served, tmp_path):
    server = served([str(BIN / "gunicorn"), "server:serving_app()", "-k", "gthread", "--threads", "4", "-b", "127.0.0.1:{port}"])
    server.wait_ready()
    assert server.stop() == 0
    assert "INFO tingwen: empty store: loaded 7 bundled notices" in server.log
    assert "WARNING speech.models: speech recognition off" in server.log


def test_a_worker_that_cannot_start_stops_the_server_with_one_line(served):
    server = served([str(BIN / "tingwen"), "serve", "--port", "{port}"], TINGWEN_NEURAL_MODEL_DIR="/nonexistent", TINGWEN_AUDIO_CACHE_MB="x")
    code = server.process.wait(60)
    assert code != 0
    assert "Traceback" not in server.log
    assert "TINGWEN_AUDIO_CACHE_MB='x' is not a valid int" in server.log


def test_a_serving_worker_has_prepared_everything_a_listener_hears(tmp_path):
    """serving_app (what `tingwen serve` and bench/ivr_load.py run in each worker) prepares every
    prompt and sentence before the first request: naming their audio in a webhook is a look-up."""
    from config import Config, listener_texts
    from content.store import NoticeStore
    from server import serving_app

    config = Config(data_dir=tmp_path / "data", voice="espeak", prerender=False, twilio_auth_token=PHONE_TOKEN)
    speaker = serving_app(config).extensions["tingwen.speaker"]
    with NoticeStore(config.db_path) as store:
        texts = listener_texts(config, store)
    assert len(texts) > 100
    assert [t for t in texts if t not in speaker._prepared] == []
