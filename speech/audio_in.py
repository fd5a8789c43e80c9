"""Incoming audio → 16 kHz 16-bit mono PCM, the form the recogniser takes.

Phone audio arrives as 8 kHz mu-law in 20 ms frames; kiosk microphones give 16/44.1/48 kHz PCM,
mono or stereo. Conversion is streaming (a frame at a time, resampler state kept between frames)
and `reset()` drops that state, so no audio from before a barge-in leaks into the next utterance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr

from speech.audio import ulaw_decode

TARGET_RATE = 16000


@dataclass(frozen=True)
class InputFormat:
    rate: int
    channels: int = 1
    ulaw: bool = False

    def __post_init__(self) -> None:
        if self.ulaw and (self.rate, self.channels) != (8000, 1):
            raise ValueError("mu-law input must be 8 kHz mono (telephone audio)")
        if self.rate not in (8000, 16000, 22050, 32000, 44100, 48000):
            raise ValueError(f"unsupported input sample rate {self.rate}")
        if self.channels not in (1, 2):
            raise ValueError(f"unsupported channel count {self.channels}")


PHONE = InputFormat(8000, 1, ulaw=True)


class PcmConverter:
    """Turns frames of one input format into 16 kHz mono int16 bytes, keeping resampler state."""

    def __init__(self, fmt: InputFormat):
        self.fmt = fmt
        self._leftover = b""
        self._stream = self._new_stream()

    def _new_stream(self):
        if self.fmt.rate == TARGET_RATE:
            return None
        return soxr.ResampleStream(self.fmt.rate, TARGET_RATE, 1, dtype="float32", quality="HQ")

    def reset(self) -> None:
        self._leftover = b""
        self._stream = self._new_stream()

    def convert(self, data: bytes, last: bool = False) -> bytes:
        samples = self._samples(data)
        if self._stream is not None:
            samples = self._stream.resample_chunk(samples.astype(np.float32), last=last)
        return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()

    def _samples(self, data: bytes) -> np.ndarray:
        if self.fmt.ulaw:
            return ulaw_decode(data).astype(np.float32)
        data = self._leftover + data
        frame = 2 * self.fmt.channels
        usable = len(data) - len(data) % frame
        self._leftover = data[usable:]
        samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32)
        if self.fmt.channels == 2:
            samples = samples.reshape(-1, 2).mean(axis=1)
        return samples


def to_16k(data: bytes, fmt: InputFormat) -> bytes:
    """A whole recording at once."""
    return PcmConverter(fmt).convert(data, last=True)
