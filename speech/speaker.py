"""The speech-out pipeline: text → spoken form → pinyin → audio chunks, cached, in the format a
front end plays (WAV for the kiosk, 8 kHz mu-law for the phone)."""

from __future__ import annotations

import tempfile
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from speech.audio import PHONE_RATE, Pcm, read_wav, to_phone, ulaw_wav_bytes, with_silence, write_ulaw_wav, write_wav
from speech.cache import AudioCache, cache_key
from speech.chunking import chunk_text
from speech.engine import Engine, Pyttsx3Espeak, VoiceSettings, check_voice
from speech.normalize import normalize
from speech.pronounce import load_dictionary, to_pinyin

SENTENCE_PAUSE_MS = 250
SECTION_PAUSE_MS = 700
_PREPARED_LIMIT = 20_000  # texts whose chunks and pinyin are remembered
_PIPELINE_VERSION = 1  # bump when a change alters audio for the same text, to retire old cache entries


class AudioFormat(StrEnum):
    WAV = "wav"  # 16-bit PCM at the engine's rate, for the kiosk
    ULAW = "ulaw"  # 8 kHz mono mu-law WAV, for the phone

    @property
    def suffix(self) -> str:
        return ".wav" if self is AudioFormat.WAV else ".ulaw.wav"


@dataclass(frozen=True)
class Utterance:
    """One rendered chunk: what was written, what is said, and the audio file that says it."""

    text: str
    spoken: str
    pinyin: str
    path: Path
    format: AudioFormat
    seconds: float


def audio_seconds(path: Path, fmt: AudioFormat) -> float:
    if fmt is AudioFormat.ULAW:
        return ulaw_wav_bytes(path) / PHONE_RATE
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


class Speaker:
    def __init__(
        self,
        cache: AudioCache,
        settings: VoiceSettings | None = None,
        engine: Engine | None = None,
        pronunciations: Path | None = None,
    ):
        self.settings = settings or VoiceSettings()
        check_voice(self.settings.voice)
        load_dictionary(pronunciations)
        self.cache = cache
        self.engine = engine or Pyttsx3Espeak(self.settings)
        self._prepared: dict[str, tuple[tuple[str, str, str], ...]] = {}

    def prepare(self, text: str) -> tuple[tuple[str, str, str], ...]:
        """(chunk, spoken form, pinyin) for each chunk of `text` that has something to say.
        Remembered per text: the same prompts and sentences come back on every call."""
        prepared = self._prepared.get(text)
        if prepared is None:
            prepared = tuple(
                (chunk, spoken, pinyin)
                for chunk in chunk_text(text)
                for spoken in [normalize(chunk)]
                for pinyin in [to_pinyin(spoken)]
                if pinyin
            )
            if len(self._prepared) >= _PREPARED_LIMIT:
                self._prepared.clear()
            self._prepared[text] = prepared
        return prepared

    def spoken(self, text: str) -> str:
        return normalize(text)

    def pinyin(self, text: str) -> str:
        return to_pinyin(normalize(text))

    def audio_file(self, name: str, fmt: AudioFormat) -> Path | None:
        """The cached file a front end's audio URL names (`<hash><suffix>`), or None: names are
        checked to be content hashes, so no other file can be reached through them."""
        if not name.endswith(fmt.suffix):
            return None
        key = name[: -len(fmt.suffix)]
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            return None
        path = self.cache.path_for(key, fmt.suffix)
        return path if path.exists() else None

    def render(self, text: str, fmt: AudioFormat = AudioFormat.WAV, pause_ms: int = SENTENCE_PAUSE_MS) -> Utterance:
        """One chunk of audio for `text` as it is (prompts, single sentences); cached."""
        spoken = normalize(text)
        return self._render(text, spoken, to_pinyin(spoken), fmt, pause_ms)

    def _render(self, text: str, spoken: str, pinyin: str, fmt: AudioFormat, pause_ms: int) -> Utterance:
        if not pinyin:
            raise ValueError(f"nothing to say in {text!r}")
        s = self.settings
        key = cache_key(_PIPELINE_VERSION, self.engine.name, s.voice, s.rate, s.volume, fmt, pause_ms, pinyin)
        path = self.cache.get(key, fmt.suffix)
        if path is None:
            path = self.cache.put(key, fmt.suffix, lambda out: self._synthesize(pinyin, out, fmt, pause_ms))
        return Utterance(text, spoken, pinyin, path, fmt, audio_seconds(path, fmt))

    def render_text(self, text: str, fmt: AudioFormat = AudioFormat.WAV, final_pause_ms: int = SECTION_PAUSE_MS) -> Iterator[Utterance]:
        """A section's text as chunks, rendered one at a time so the first can play at once."""
        chunks = self.prepare(text)
        for index, (chunk, spoken, pinyin) in enumerate(chunks):
            last = index == len(chunks) - 1
            yield self._render(chunk, spoken, pinyin, fmt, final_pause_ms if last else SENTENCE_PAUSE_MS)

    def _synthesize(self, pinyin: str, out: Path, fmt: AudioFormat, pause_ms: int) -> None:
        with tempfile.TemporaryDirectory(prefix="tingwen-tts-") as folder:
            raw = Path(folder) / "engine.wav"
            self.engine.synthesize(pinyin, raw, self.settings)
            pcm = read_wav(raw)
        if self.settings.volume != 1.0:
            louder = np.clip(pcm.samples.astype(np.float32) * self.settings.volume, -32768, 32767)
            pcm = Pcm(louder.astype(np.int16), pcm.rate)
        pcm = with_silence(pcm, pause_ms)
        if fmt is AudioFormat.ULAW:
            write_ulaw_wav(out, to_phone(pcm))
        else:
            write_wav(out, pcm)
