"""A normal (non-editable) install works: the wheel carries every file of every package, and
installed into a fresh virtual environment, away from the checkout, `tingwen serve` starts with
the bundled notices and answers a signed call with our audio."""

import os
import signal
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from pathlib import Path

import pytest
from test_production_server import Served, environment, signed_call

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("content", "speech", "textrules", "ivr", "kiosk", "staff", "feed", "commands")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the tracked files, as a deployer would build it from a clean checkout."""
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, tracked):
        path = Path(name.decode())
        if (ROOT / path).is_file():
            (source / path).parent.mkdir(parents=True, exist_ok=True)
            (source / path).write_bytes((ROOT / path).read_bytes())
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(folder / "dist"), str(source)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    [made] = (folder / "dist").glob("tingwen-*.whl")
    return made


def test_the_wheel_carries_every_file_of_every_package(wheel):
    tracked = subprocess.run(["git", "ls-files", *PACKAGES, "server.py", "config.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    wanted = {name for name in tracked.stdout.split() if "__pycache__" not in name}
    shipped = set(zipfile.ZipFile(wheel).namelist())
    assert wanted - shipped == set()
    assert {"content/data/prompts.toml", "content/data/commands.toml", "kiosk/templates/kiosk/base.html"} <= shipped
    assert not any(name.startswith(("tests/", "bench/")) for name in shipped)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed for real (not editable); the
    dependencies come from the test environment's site-packages (a path line, whose own .pth
    files, such as the checkout's editable hook, are not run)."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "tingwen-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def test_the_installed_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import server, content, kiosk; print(server.__file__); print(content.__file__); print(kiosk.__file__)"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(installed)) for line in where.stdout.split()), where.stdout


def test_the_installed_service_starts_and_answers_a_signed_call(installed, tmp_path):
    env = environment(tmp_path / "data")
    server = Served([str(installed / "bin" / "tingwen"), "serve", "--port", "{port}"], env, cwd=tmp_path)
    try:
        health = server.wait_ready()
        assert health.status == 200
        status, _, twiml = signed_call(server.base, "http://127.0.0.1:8000")
        assert status == 200 and "<Play>" in twiml
        audio_url = twiml.split("<Play>")[1].split("</Play>")[0].replace("http://127.0.0.1:8000", server.base)
        with urllib.request.urlopen(audio_url, timeout=30) as answer:
            assert answer.read(4) == b"RIFF"
        with urllib.request.urlopen(server.base + "/", timeout=30) as answer:
            assert "最新政府文件" in answer.read().decode()
        with urllib.request.urlopen(server.base + "/kiosk/static/kiosk.js", timeout=30) as answer:
            assert answer.status == 200
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.log
    assert "INFO tingwen: empty store: loaded 7 bundled notices" in server.log
    assert "Traceback" not in server.log and "FileNotFoundError" not in server.log


def test_the_installed_commands_work_away_from_the_checkout(installed, tmp_path):
    tingwen = str(installed / "bin" / "tingwen")
    env = {**os.environ, "TINGWEN_VOICE": "espeak", "TINGWEN_DATA_DIR": str(tmp_path / "data")}
    for command in (["notices"], ["normalize", "拨打12119"], ["say", "您好，这里是听文。", "--out", "hello.wav"], ["search", "就业"]):
        done = subprocess.run([tingwen, *command], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
        assert done.returncode == 0, (command, done.stderr[-2000:])
    assert (tmp_path / "hello.wav").read_bytes()[:4] == b"RIFF"
