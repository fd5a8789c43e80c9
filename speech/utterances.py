"""What one chunk of audio is: the recipe it is made from (stored beside it, so any process can
make it again), the name it is planned under, the rendered utterance, and the two formats (the
kiosk's WAV, the phone's 8 kHz mu-law)."""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from speech.audio import PHONE_RATE, ulaw_wav_bytes


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
    voice: str = ""  # the engine that spoke it


@dataclass(frozen=True)
class Recipe:
    """Everything needed to make one chunk's audio, stored so any process can make it later."""

    text: str
    spoken: str
    pinyin: str
    pause_ms: int
    rate: int
    gain: float = 1.0  # the listener's loudness (大声一点), on top of the service's volume

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        data = json.loads(text)
        return cls(str(data["text"]), str(data["spoken"]), str(data["pinyin"]), int(data["pause_ms"]), int(data["rate"]),
                   float(data.get("gain", 1.0)))


@dataclass(frozen=True)
class Planned:
    """A chunk whose audio will exist under `name` (made in the background, or when fetched)."""

    key: str
    format: AudioFormat
    recipe: Recipe

    @property
    def name(self) -> str:
        return self.key + self.format.suffix


def audio_seconds(path: Path, fmt: AudioFormat) -> float:
    if fmt is AudioFormat.ULAW:
        return ulaw_wav_bytes(path) / PHONE_RATE
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()
