"""Choosing the voice, and falling back loudly to espeak-ng when the neural voice cannot load:
`tingwen voices`, `tingwen say --voice`, the cache never mixing voices."""

import json
import logging
import os
import shutil
import subprocess
import sys

import pytest

from speech.cache import AudioCache
from speech.engine import VoiceSettings
from speech.neural import MODEL_FILES, NeuralUnavailable, NeuralVoice, model_folder
from speech.speaker import Speaker
from speech.utterances import AudioFormat
from speech.voices import ESPEAK, NEURAL, choose_voice


def _tingwen(tmp_path, *args, **env):
    return subprocess.run(
        [sys.executable, "-m", "server", "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env},
    )


@pytest.fixture
def damaged_model(tmp_path):
    folder = tmp_path / "damaged-model"
    shutil.copytree(model_folder(), folder)
    data = bytearray((folder / "mb_melgan.onnx").read_bytes())
    data[5000:5100] = bytes(100)
    (folder / "mb_melgan.onnx").write_bytes(bytes(data))
    return folder


def test_voices_lists_both_and_marks_the_neural_one_in_use(tmp_path):
    result = _tingwen(tmp_path, "voices", "--json")
    assert result.returncode == 0, result.stderr
    reports = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(reports) == {NEURAL, ESPEAK}
    assert reports[NEURAL]["loads"] and reports[NEURAL]["in_use"]
    assert reports[ESPEAK]["loads"] and not reports[ESPEAK]["in_use"]


@pytest.mark.parametrize("problem", ["damaged", "missing"])
def test_a_voice_that_cannot_load_is_reported_and_espeak_speaks(tmp_path, damaged_model, problem):
    folder = damaged_model if problem == "damaged" else tmp_path / "no-model-here"
    listed = _tingwen(tmp_path, "voices", TINGWEN_NEURAL_MODEL_DIR=str(folder))
    assert listed.returncode == 0, listed.stderr
    neural_line = next(line for line in listed.stdout.splitlines() if line.lstrip("* ").startswith(NEURAL))
    assert "CANNOT LOAD" in neural_line and problem in neural_line and str(folder) in neural_line
    assert next(line for line in listed.stdout.splitlines() if ESPEAK in line).startswith("*")
    assert "espeak-ng speaks instead" in listed.stderr

    out = tmp_path / "fallback.wav"
    spoken = _tingwen(tmp_path, "say", "您好，这里是听文。", "--out", str(out), TINGWEN_NEURAL_MODEL_DIR=str(folder))
    assert spoken.returncode == 0, spoken.stderr
    assert "voice pyttsx3" in spoken.stdout and out.stat().st_size > 10_000
    errors = [line for line in spoken.stderr.splitlines() if "ERROR" in line.split()[:3] and "VOICE:" in line]
    assert len(errors) == 1 and problem in errors[0]  # once, loudly, naming the reason


def test_the_server_falls_back_and_says_so_once(tmp_path, damaged_model, caplog):
    from conftest import phone_app

    with caplog.at_level(logging.ERROR):
        first = phone_app(tmp_path / "a", voice=NEURAL, neural_model_dir=str(damaged_model))
        phone_app(tmp_path / "b", voice=NEURAL, neural_model_dir=str(damaged_model))
    speaker = first.extensions["tingwen.speaker"]
    assert speaker.engine.name in ("pyttsx3", "espeak-ng")  # espeak-ng as its own process beside the neural voice
    assert speaker.render("您好。", AudioFormat.ULAW).path.stat().st_size > 1000
    loud = [r for r in caplog.records if "VOICE:" in r.getMessage()]
    assert len(loud) == 1 and "damaged" in loud[0].getMessage()


def test_a_damaged_model_file_is_refused_by_name(damaged_model):
    with pytest.raises(NeuralUnavailable, match="mb_melgan.onnx"):
        NeuralVoice(damaged_model)
    assert set(MODEL_FILES) <= {p.name for p in damaged_model.iterdir()}


def test_the_cache_never_mixes_voices(tmp_path):
    cache = AudioCache(tmp_path / "audio")
    text = "请按一到八选择通知。"
    neural = choose_voice(NEURAL, VoiceSettings())
    espeak = choose_voice(ESPEAK, VoiceSettings())
    natural = Speaker(cache, VoiceSettings(), engine=neural.engine, fallback=neural.fallback)
    formant = Speaker(cache, VoiceSettings(), engine=espeak.engine)
    names = set()
    for speaker in (natural, formant):
        for fmt in AudioFormat:
            names.add(next(speaker.render_text(text, fmt)).path.name)
            names.add(speaker.plan(text, fmt)[0].name)
    assert len(names) == 4  # two voices × two formats; planned names equal rendered ones
    assert natural.render(text).path.read_bytes() != formant.render(text).path.read_bytes()
    for other in (VoiceSettings(rate=150), VoiceSettings(volume=0.5)):  # every setting is in the key
        assert Speaker(cache, other, engine=neural.engine).plan(text, AudioFormat.WAV)[0].name not in names


def test_when_no_voice_can_speak_the_kiosk_says_so_instead_of_failing(tmp_path):
    from conftest import phone_app

    from speech.engine import EspeakCommand

    app = phone_app(tmp_path / "data")
    broken = EspeakCommand()
    broken.binary = str(tmp_path / "no-espeak-here")
    app.extensions["tingwen.speaker"] = Speaker(AudioCache(tmp_path / "empty-cache"), VoiceSettings(), engine=broken)
    client = app.test_client()
    answer = client.get("/kiosk/speech/card/1")
    assert answer.status_code == 503 and "无法朗读" in answer.get_json()["error"]
    turn = client.post("/kiosk/menu", json={"event": {"kind": "start"}})
    assert turn.status_code == 200
    says = [a for a in turn.get_json()["actions"] if a["type"] == "say"]
    assert says and all(a["audio"] == [] and a["text"] for a in says)  # the caption still shows the words
