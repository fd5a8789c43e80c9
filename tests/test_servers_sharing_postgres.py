"""Several servers, one PostgreSQL: a call whose webhooks alternate between two `tingwen serve`
processes (each with its own data folder, one shared audio folder) hears exactly what it hears
on one server; `tingwen calls` counts it once; a notice ingested through one is on the other's
menu at once."""

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import FIXTURES, PHONE_TOKEN
from lxml import etree
from test_production_server import Served, environment
from twilio.request_validator import RequestValidator

TINGWEN = str(Path(sys.executable).with_name("tingwen"))
PUBLIC = "https://ivr.example.gov.cn"  # the load balancer's address, the same for every server


def _env(data, url, audio):
    return environment(data, TINGWEN_DATABASE_URL=url, TINGWEN_AUDIO_DIR=str(audio), TINGWEN_PUBLIC_URL=PUBLIC)


def _post(base, path, params):
    signature = RequestValidator(PHONE_TOKEN).compute_signature(PUBLIC + path, params)
    request = urllib.request.Request(base + path, data=urllib.parse.urlencode(params).encode(), headers={"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return etree.fromstring(answer.read())


def _call(bases, sid, keys):
    """Answer on bases[0], then each key on the next server in turn; what the caller hears."""
    heard = []
    twiml = _post(bases[0], "/ivr/voice", {"CallSid": sid, "From": "+8613800000000"})
    heard.append([p.text.rsplit("/", 1)[1] for p in twiml.iter("Play")])
    for n, key in enumerate(keys, 1):
        twiml = _post(bases[n % len(bases)], "/ivr/gather", {"CallSid": sid, "Digits": key})
        heard.append([p.text.rsplit("/", 1)[1] for p in twiml.iter("Play")])
    return heard


@pytest.fixture
def two_servers(tmp_path, postgres_server):
    url = postgres_server()
    audio = tmp_path / "shared-audio"
    servers = [Served([TINGWEN, "serve", "--port", "{port}"], _env(tmp_path / f"server-{n}", url, audio)) for n in "ab"]
    for server in servers:
        server.wait_ready()
    yield url, audio, servers
    for server in servers:
        server.stop()


def test_a_call_alternating_between_two_servers_hears_what_one_server_says(tmp_path, two_servers):
    url, audio, servers = two_servers
    keys = ["4", "1", "0", "*", "2", "*"]
    alternating = _call([s.base for s in servers], "CAalternating000000000000000000000", keys)
    alone = _call([servers[0].base], "CAalone00000000000000000000000000", keys)
    assert alternating == alone and all(alternating)
    for name in alternating[1]:  # either server serves the audio the other planned
        with urllib.request.urlopen(f"{servers[1].base}/ivr/audio/{name}", timeout=60) as answer:
            assert answer.read(4) == b"RIFF"
    summary = subprocess.run([TINGWEN, "calls", "--json"], capture_output=True, text=True, env=_env(tmp_path / "admin", url, audio))
    assert summary.returncode == 0, summary.stderr
    assert json.loads(summary.stdout)["calls"] == 2  # each call once, whichever server took its webhooks


def test_a_notice_ingested_through_one_server_is_on_the_others_menu(tmp_path, two_servers):
    url, audio, servers = two_servers
    done = subprocess.run(
        [TINGWEN, "ingest", str(FIXTURES / "notice_plain_opinion.txt")], capture_output=True, text=True, env=_env(tmp_path / "server-a", url, audio)
    )
    assert done.returncode == 0, done.stderr
    with urllib.request.urlopen(servers[1].base + "/", timeout=30) as answer:
        assert "冬季供暖" in answer.read().decode()
    assert not (tmp_path / "server-a" / "tingwen.sqlite3").exists()  # nothing went to SQLite
    assert os.path.isdir(audio)
