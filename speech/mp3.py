"""MP3 for the podcast feed, encoded with LAME (the lameenc package): mono, at a bit rate a
podcast app on a phone streams easily (48 kb/s, at most 64), from our own PCM."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

import lameenc

from speech.audio import Pcm, resample

BITRATE_KBPS = 48  # speech stays clear; a ten-minute notice is about 3.5 MB
MP3_RATE = 24_000  # MPEG-2 layer III: the neural voice's own rate, espeak-ng's resampled to it


def encode_mp3(parts: Iterable[Pcm], out: BinaryIO, bitrate_kbps: int = BITRATE_KBPS) -> tuple[int, float]:
    """The parts one after another as MP3 into `out`, one part at a time (a half-hour notice
    never sits in memory whole); returns the bytes written and the audio's length in seconds."""
    if not 8 <= bitrate_kbps <= 64:
        raise ValueError(f"MP3 bit rate {bitrate_kbps} kb/s: 8 to 64 for the feed")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(MP3_RATE)
    encoder.set_channels(1)
    encoder.set_quality(5)  # LAME's "good": for speech at this rate no slower setting is heard
    written = samples = 0
    for part in parts:
        if not len(part.samples):
            continue
        pcm = resample(part, MP3_RATE).samples.astype("<i2")
        samples += len(pcm)
        written += out.write(bytes(encoder.encode(pcm.tobytes())))
    if not samples:
        raise ValueError("no audio to encode")
    written += out.write(bytes(encoder.flush()))
    return written, samples / MP3_RATE
