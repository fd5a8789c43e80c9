"""The deployment examples work as shipped: the systemd unit passes systemd's own check and runs
the installed command, and the nginx example (run for real, with a throwaway certificate) lets
only /ivr/ through its public door while the hall's door carries the kiosk and its microphone."""

import contextlib
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import PHONE_TOKEN
from test_production_server import Served, environment, free_port
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "tingwen.service"
BULLETIN_UNIT = ROOT / "deploy" / "tingwen-bulletin.service"
BULLETIN_TIMER = ROOT / "deploy" / "tingwen-bulletin.timer"
NGINX = ROOT / "deploy" / "nginx-tingwen.conf"


def test_the_systemd_unit_passes_systemds_check(tmp_path):
    text = UNIT.read_text()
    assert "ExecStart=/opt/tingwen/bin/tingwen serve --host 127.0.0.1" in text
    assert "KillSignal=SIGTERM" in text and "Restart=on-failure" in text
    stop = int(text.split("TimeoutStopSec=")[1].split()[0])
    graceful = int(text.split("TINGWEN_GRACEFUL_SECONDS=")[1].split()[0])
    assert stop > graceful  # systemd waits longer than gunicorn's graceful stop
    here = tmp_path / "tingwen.service"
    here.write_text(
        text.replace("/opt/tingwen/bin/tingwen", str(Path(sys.executable).with_name("tingwen")))
        .replace("User=tingwen", "User=root").replace("Group=tingwen", "Group=root")
    )  # fmt: skip
    verify = shutil.which("systemd-analyze")
    assert verify, "systemd-analyze (Debian's systemd) is needed to check the unit"
    done = subprocess.run([verify, "verify", str(here)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_bulletin_timer_and_its_service_pass_systemds_check(tmp_path):
    service = BULLETIN_UNIT.read_text()
    assert "ExecStart=/opt/tingwen/bin/tingwen bulletin" in service and "Type=oneshot" in service
    assert "OnCalendar=*:0/15" in BULLETIN_TIMER.read_text()
    here = tmp_path / BULLETIN_UNIT.name
    here.write_text(
        service.replace("/opt/tingwen/bin/tingwen", str(Path(sys.executable).with_name("tingwen")))
        .replace("User=tingwen", "User=root").replace("Group=tingwen", "Group=root")
    )  # fmt: skip
    (tmp_path / BULLETIN_TIMER.name).write_text(BULLETIN_TIMER.read_text())
    done = subprocess.run([shutil.which("systemd-analyze"), "verify", str(here), str(tmp_path / BULLETIN_TIMER.name)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.fixture
def proxied(tmp_path):
    """tingwen behind the example nginx config: (public https base, hall http base)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx (Debian's nginx-light, in scripts/system-packages.txt) is needed"
    public_port, hall_port = free_port(), free_port()
    public = f"https://127.0.0.1:{public_port}"
    server = Served([str(Path(sys.executable).with_name("tingwen")), "serve", "--port", "{port}"], environment(tmp_path / "data", TINGWEN_PUBLIC_URL=public))
    server.wait_ready()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (
        NGINX.read_text()
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{public_port} ssl;")
        .replace("/etc/ssl/tingwen/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/ssl/tingwen/privkey.pem", str(tmp_path / "key.pem"))
        .replace("listen 192.168.10.1:80;", f"listen 127.0.0.1:{hall_port};")
        .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{server.port};")
    )
    (tmp_path / "site.conf").write_text(site)
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"user root; daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/nginx-error.log;\n"
        "events {}\n"
        f"http {{ access_log off; client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fastcgi; uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;\n"
        f"  include {tmp_path}/site.conf; }}\n"
    )
    proxy = subprocess.Popen([nginx, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{hall_port}/healthz", timeout=2)
                break
            assert proxy.poll() is None, proxy.stderr.read()
            time.sleep(0.1)
        yield public, f"http://127.0.0.1:{hall_port}"
    finally:
        proxy.send_signal(signal.SIGQUIT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proxy.wait(10)
        if proxy.poll() is None:
            proxy.kill()
        server.stop()


def _get(url, data=None, headers=None):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the throwaway certificate
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_only_the_phone_line_is_public_and_the_hall_gets_everything(proxied):
    import simple_websocket

    public, hall = proxied
    params = {"CallSid": "CAproxied000000000000000000000000", "From": "+8613800000000"}
    signature = RequestValidator(PHONE_TOKEN).compute_signature(public + "/ivr/voice", params)
    status, body = _get(public + "/ivr/voice", urllib.parse.urlencode(params).encode(), {"X-Twilio-Signature": signature})
    assert status == 200 and b"<Play>" in body  # signed for the public URL, checked behind the proxy
    audio = body.decode().split("<Play>")[1].split("</Play>")[0]
    assert audio.startswith(public + "/ivr/audio/")
    status, wav = _get(audio)
    assert status == 200 and wav[:4] == b"RIFF"
    for path in ["/", "/notice/1", "/kiosk/speech/card/1", "/kiosk/menu", "/kiosk/listen", "/healthz", "/metrics", "/staff/", "/feedx"]:
        assert _get(public + path)[0] == 404, path
    status, rss = _get(public + "/feed.xml")  # the podcast feed faces families' phones
    assert status == 200 and b"<rss" in rss and f"{public}/feed/cover.png".encode() in rss
    assert _get(public + "/feed/cover.png")[0] == 200
    assert _get(public + "/feed/episodes/" + "0" * 64 + ".mp3")[0] == 404
    status, _ = _get(public + "/ivr/stream", headers={"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert status == 403  # the stream's upgrade reaches tingwen, which wants a signature
    for path in ["/", "/notice/1", "/kiosk/speech/card/1", "/healthz", "/metrics"]:
        assert _get(hall + path)[0] == 200, path
    socket_ = simple_websocket.Client.connect(hall.replace("http", "ws") + "/kiosk/listen")  # the microphone socket
    with contextlib.suppress(simple_websocket.ConnectionClosed):
        socket_.receive(timeout=10)
        socket_.close()
