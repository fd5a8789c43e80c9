"""Real espeak-ng audio: non-silent, in the right format, of a sane length, for kiosk and phone."""

import wave

import numpy as np
import pytest

from speech.audio import FRAME_BYTES, PHONE_RATE, frames, read_ulaw_wav, read_wav, ulaw_decode
from speech.utterances import AudioFormat

SENTENCE = "内蒙古自治区人民政府关于印发就业促进行动实施方案的通知。"


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_kiosk_wav(speaker_factory):
    chunk = speaker_factory().render(SENTENCE, AudioFormat.WAV)
    with wave.open(str(chunk.path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
    pcm = read_wav(chunk.path)
    assert _rms(pcm.samples) > 500  # speech, not silence
    spoken_chars = len(chunk.spoken.replace("，", "").replace("。", ""))
    assert 0.15 * spoken_chars < chunk.seconds < 0.6 * spoken_chars


def test_phone_ulaw_matches_kiosk_audio(speaker_factory):
    speaker = speaker_factory()
    kiosk = speaker.render(SENTENCE, AudioFormat.WAV)
    phone = speaker.render(SENTENCE, AudioFormat.ULAW)
    header = phone.path.read_bytes()[:36]
    assert header[:4] == b"RIFF" and header[8:16] == b"WAVEfmt "
    assert int.from_bytes(header[20:22], "little") == 7  # WAVE_FORMAT_MULAW
    ulaw = read_ulaw_wav(phone.path)
    assert len(ulaw) / PHONE_RATE == pytest.approx(kiosk.seconds, rel=0.05)
    decoded = ulaw_decode(ulaw)
    assert _rms(decoded) > 500
    assert all(len(frame) == FRAME_BYTES for frame in frames(ulaw))


def test_slower_rate_is_longer_and_volume_is_applied(speaker_factory):
    normal = speaker_factory(rate=160).render(SENTENCE)
    slow = speaker_factory(rate=110).render(SENTENCE)
    quiet = speaker_factory(rate=160, volume=0.5).render(SENTENCE)
    assert slow.seconds > normal.seconds * 1.2
    assert _rms(read_wav(quiet.path).samples) == pytest.approx(_rms(read_wav(normal.path).samples) * 0.5, rel=0.1)


def test_section_is_read_in_chunks_with_pauses(speaker_factory, corpus_notices):
    section = corpus_notices[3].sections[0]  # 一、防火期和戒严管制期 …
    chunks = list(speaker_factory().render_text(section.reading_text(), AudioFormat.ULAW))
    assert len(chunks) >= 4
    assert chunks[0].text.startswith("一、防火期和戒严管制期")
    assert chunks[0].spoken.startswith("第一，防火期和戒严管制期")
    tail = read_ulaw_wav(chunks[-1].path)[-int(0.6 * PHONE_RATE) :]
    assert np.abs(ulaw_decode(tail).astype(int)).max() < 200  # the section ends in a pause


def test_nothing_to_say_is_refused(speaker_factory):
    with pytest.raises(ValueError, match="nothing to say"):
        speaker_factory().render("《》（）")
