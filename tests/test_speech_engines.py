"""The Mandarin voice is checked at start-up, pyttsx3 runs on one thread, and the espeak-ng
command takes over whenever pyttsx3 cannot do the job."""

import threading
import wave

import pytest

from speech.engine import EngineUnavailable, EspeakCommand, VoiceSettings, check_voice
from speech.pyttsx3_voice import Pyttsx3Espeak
from speech.pronounce import to_pinyin

PINYIN = to_pinyin("内蒙古自治区人民政府。")


class RecordingCommand(EspeakCommand):
    """The real espeak-ng command, noting which jobs reached it."""

    def __init__(self):
        super().__init__()
        self.calls: list[str] = []

    def synthesize(self, pinyin, out, settings):
        self.calls.append(pinyin)
        super().synthesize(pinyin, out, settings)


def _seconds(path):
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def test_mandarin_voice_passes_the_check():
    check_voice("cmn-latn-pinyin")


@pytest.mark.parametrize("voice", ["cmn", "no-such-voice"])
def test_voice_that_reads_chinese_as_english_fails_loudly(voice):
    # espeak-ng's plain cmn voice, and any voice it does not know, read 年 in English mode
    with pytest.raises(EngineUnavailable, match="English mode"):
        check_voice(voice)


def test_missing_espeak_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineUnavailable, match="apt-get install espeak-ng"):
        check_voice()


def test_pyttsx3_and_command_agree(tmp_path):
    """pyttsx3 makes the utterance itself, as long as the command's; a rare file its driver cut
    short (a CI run once got 2.5 s of this 4.2 s sentence) is made by the command instead, so
    every file agrees, and pyttsx3 did the job itself in most of three tries."""
    fallback = RecordingCommand()
    engine = Pyttsx3Espeak(VoiceSettings(), fallback=fallback)
    fallback.synthesize(PINYIN, tmp_path / "b.wav", VoiceSettings())
    for n in range(3):
        engine.synthesize(PINYIN, tmp_path / f"a{n}.wav", VoiceSettings())
        assert _seconds(tmp_path / f"a{n}.wav") == pytest.approx(_seconds(tmp_path / "b.wav"), abs=0.15)
    assert len(fallback.calls) <= 2  # the direct call, and at most one file pyttsx3 cut short


class _ShortWave:
    """Stands in for the `wave` module inside pyttsx3's espeak driver: the file it writes keeps
    only the first half of the audio, as the driver's file did on a busy machine."""

    @staticmethod
    def open(path, mode):
        wav = wave.open(path, mode)
        whole = wav.writeframes
        wav.writeframes = lambda frames: whole(frames[: len(frames) // 4 * 2])
        return wav


def test_a_file_pyttsx3_wrote_short_is_made_again_by_the_command(tmp_path, monkeypatch):
    import pyttsx3.drivers.espeak as driver

    fallback = RecordingCommand()
    engine = Pyttsx3Espeak(VoiceSettings(), fallback=fallback)
    fallback.synthesize(PINYIN, tmp_path / "whole.wav", VoiceSettings())
    monkeypatch.setattr(driver, "wave", _ShortWave)
    engine.synthesize(PINYIN, tmp_path / "a.wav", VoiceSettings())
    assert fallback.calls == [PINYIN, PINYIN]  # the short file was refused and the command made it
    assert _seconds(tmp_path / "a.wav") == pytest.approx(_seconds(tmp_path / "whole.wav"), abs=0.01)
    monkeypatch.undo()
    engine.synthesize(PINYIN, tmp_path / "b.wav", VoiceSettings())  # a whole file is kept again
    assert fallback.calls == [PINYIN, PINYIN]
    assert _seconds(tmp_path / "b.wav") == pytest.approx(_seconds(tmp_path / "whole.wav"), abs=0.15)


def test_other_rate_goes_to_the_command(tmp_path):
    fallback = RecordingCommand()
    engine = Pyttsx3Espeak(VoiceSettings(rate=130), fallback=fallback)
    engine.synthesize(PINYIN, tmp_path / "slow.wav", VoiceSettings(rate=100))
    assert fallback.calls == [PINYIN]
    assert _seconds(tmp_path / "slow.wav") > 1.0


def test_hanging_pyttsx3_is_abandoned_for_the_command(tmp_path):
    fallback = RecordingCommand()
    engine = Pyttsx3Espeak(VoiceSettings(), fallback=fallback, timeout=0.0001)
    for name in ("a.wav", "b.wav"):
        engine.synthesize(PINYIN, tmp_path / name, VoiceSettings())
    assert fallback.calls == [PINYIN, PINYIN]
    assert (tmp_path / "b.wav").stat().st_size > 44


def test_concurrent_requests_are_serialised(tmp_path):
    engine = Pyttsx3Espeak(VoiceSettings())
    errors = []

    def speak(i):
        try:
            engine.synthesize(PINYIN, tmp_path / f"{i}.wav", VoiceSettings())
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    lengths = [_seconds(tmp_path / f"{i}.wav") for i in range(6)]
    assert max(lengths) - min(lengths) < 0.15


def test_settings_are_validated():
    with pytest.raises(ValueError, match="speaking rate"):
        VoiceSettings(rate=10)
    with pytest.raises(ValueError, match="volume"):
        VoiceSettings(volume=3.0)
