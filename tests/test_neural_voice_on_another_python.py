"""The natural voice on every current Python: the suite runs on one of 3.11-3.13, and here the
wheel is installed, with its dependencies from the package index, into a fresh environment of
another (3.13 when the suite runs on 3.11 or 3.12, else 3.11), where `tingwen serve` answers a
signed call with neural audio.

The other interpreter is TINGWEN_OTHER_PYTHON, else the one pyenv has (the build machines carry
3.11 and 3.13 under pyenv), else `python3.X` on the PATH."""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import wave
from pathlib import Path

import pytest
from test_production_server import Served, environment, signed_call
from test_wheel_install import wheel  # noqa: F401 (the fixture: the wheel as a deployer builds it)

OTHER = "3.11" if sys.version_info >= (3, 13) else "3.13"


def other_python() -> str:
    """The other interpreter, or a failure saying how to name one (never a skip: CI has one)."""
    named = os.environ.get("TINGWEN_OTHER_PYTHON")
    candidates = [named] if named else []
    if shutil.which("pyenv"):
        for version in subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True).stdout.split():
            if version.startswith(OTHER + "."):
                found = subprocess.run(["pyenv", "which", f"python{OTHER}"], capture_output=True, text=True,
                                       env={**os.environ, "PYENV_VERSION": version})  # fmt: skip
                candidates.append(found.stdout.strip())
    candidates.append(shutil.which(f"python{OTHER}") or "")
    for candidate in filter(None, candidates):
        done = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip() == OTHER:
            return candidate
    pytest.fail(f"no Python {OTHER} found to check the voice on (set TINGWEN_OTHER_PYTHON to one)")


@pytest.fixture(scope="module")
def other_install(wheel, tmp_path_factory) -> Path:  # noqa: F811
    venv = tmp_path_factory.mktemp("other-python") / "env"
    subprocess.run([other_python(), "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def test_the_voice_loads_and_speaks_on_the_other_python(other_install, tmp_path):
    tingwen = str(other_install / "bin" / "tingwen")
    env = {**os.environ, "TINGWEN_DATA_DIR": str(tmp_path / "data")}
    version = subprocess.run([str(other_install / "bin" / "python"), "--version"], capture_output=True, text=True).stdout
    assert version.split()[1].startswith(OTHER + ".")
    listed = subprocess.run([tingwen, "voices", "--json"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert listed.returncode == 0, listed.stderr
    neural = next(r for r in json.loads(listed.stdout) if r["name"] == "neural")
    assert neural["loads"] and neural["in_use"], neural
    out = tmp_path / "hello.wav"
    said = subprocess.run([tingwen, "say", "您好，这里是听文。", "--out", str(out)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert said.returncode == 0 and said.stdout.strip().endswith("voice neural"), said.stdout + said.stderr
    with wave.open(str(out)) as audio:
        assert audio.getframerate() == 24_000 and audio.getnframes() > 24_000  # the neural voice's rate, a second or more


def test_the_other_python_answers_a_signed_call_with_neural_audio(other_install, tmp_path):
    env = environment(tmp_path / "data", TINGWEN_VOICE="neural")
    server = Served([str(other_install / "bin" / "tingwen"), "serve", "--port", "{port}"], env, cwd=tmp_path)
    try:
        server.wait_ready()
        with urllib.request.urlopen(server.base + "/healthz", timeout=30) as answer:
            health = json.loads(answer.read())
        assert health["voice"] == "neural", health
        status, _, twiml = signed_call(server.base, "http://127.0.0.1:8000")
        assert status == 200 and "<Play>" in twiml
        audio_url = twiml.split("<Play>")[1].split("</Play>")[0].replace("http://127.0.0.1:8000", server.base)
        with urllib.request.urlopen(audio_url, timeout=60) as answer:
            audio = answer.read()
        assert audio[:4] == b"RIFF" and len(audio) > 8000  # a second or more of 8 kHz phone audio
        # one synthesis made the kiosk's WAV beside it, at the rate only the neural voice has
        made = [p for p in (tmp_path / "data" / "audio").rglob("*.wav") if not p.name.endswith(".ulaw.wav")]
        assert made
        for path in made:
            with wave.open(str(path)) as wav:
                assert wav.getframerate() == 24_000, path
    finally:
        code = server.stop()
    assert code == 0, server.log
    assert "VOICE:" not in server.log and "Traceback" not in server.log, server.log
