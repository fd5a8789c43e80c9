"""A data folder with one damaged file: `tingwen serve` either starts and serves (saying what it
does without), or stops with one line naming the file and what to do, never a traceback."""

import signal
import sys
import urllib.request
from pathlib import Path

import pytest
from test_production_server import Served, environment

TINGWEN = str(Path(sys.executable).with_name("tingwen"))
GARBAGE = b"\x00\xffthis file was damaged\n\x13\x37" * 50


def damage(data: Path, name: str) -> None:
    path = data / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if name == "audio":
        path.write_bytes(GARBAGE)  # a file where the audio folder should be
    else:
        path.write_bytes(GARBAGE)


# name → whether the service can still serve (True) or must stop with a clear line (False)
CASES = {
    "tingwen.sqlite3": False,
    "calls.sqlite3": False,
    "staff.sqlite3": False,
    "caller-salt": False,
    "tingwen.toml": False,
    "pronunciations.txt": False,
    "abbreviations.txt": False,
    "models/models.json": True,
    "models/current": True,
    "audio": True,
    "staff-secret": True,
}


@pytest.mark.parametrize("name", list(CASES))
def test_serve_with_a_damaged_file(tmp_path, name):
    data = tmp_path / "data"
    data.mkdir()
    damage(data, name)
    server = Served([TINGWEN, "serve", "--port", "{port}"], environment(data))
    try:
        if CASES[name]:
            server.wait_ready(timeout=120) if name != "audio" else _wait_up(server)
            with urllib.request.urlopen(server.base + "/", timeout=30) as answer:
                assert answer.status == 200
        else:
            code = server.process.wait(120)
            assert code != 0
            assert name.split("/")[-1] in server.log, server.log[-2000:]
    finally:
        server.stop(signal.SIGTERM)
    assert "Traceback" not in server.log, server.log[server.log.find("Traceback") - 300 :][:3000]


def _wait_up(server):
    """Up, even if /healthz says 503 (the audio cache is not a folder: a spare one serves)."""
    import time
    import urllib.error

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(server.base + "/healthz", timeout=2)
            return
        except urllib.error.HTTPError as error:
            assert error.code == 503
            return
        except OSError:
            assert server.process.poll() is None, server.log[-3000:]
            time.sleep(0.2)
    raise AssertionError(server.log[-3000:])
