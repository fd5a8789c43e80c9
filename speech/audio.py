"""Audio formats: 16-bit PCM WAV for the kiosk, 8 kHz G.711 mu-law for the phone.

Our own mu-law code (numpy, exact G.711 with a lookup table) and soxr for resampling, because
`audioop` is gone in Python 3.13.
"""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

PHONE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = PHONE_RATE * FRAME_MS // 1000  # 160 bytes of mu-law per 20 ms frame
ULAW_SILENCE = 0xFF
_BIAS = 0x84
_CLIP = 32635
# exponent = position of the highest set bit of (magnitude >> 7), for every byte value
_EXPONENT = np.array([max(0, i.bit_length() - 1) for i in range(256)], dtype=np.int32)


@dataclass(frozen=True)
class Pcm:
    samples: np.ndarray  # int16, mono
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def ulaw_encode(samples: np.ndarray) -> bytes:
    """16-bit linear PCM → G.711 mu-law bytes."""
    pcm = samples.astype(np.int32)
    sign = np.where(pcm < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(pcm), _CLIP) + _BIAS
    exponent = _EXPONENT[(magnitude >> 7) & 0xFF]
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def ulaw_decode(data: bytes) -> np.ndarray:
    """G.711 mu-law bytes → 16-bit linear PCM."""
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    magnitude = (((u & 0x0F) << 3) + _BIAS) << exponent
    magnitude -= _BIAS
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def read_wav(path: Path) -> Pcm:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM, got {8 * wav.getsampwidth()}-bit")
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        if wav.getnchannels() > 1:
            samples = samples.reshape(-1, wav.getnchannels()).mean(axis=1).astype(np.int16)
        return Pcm(samples.copy(), wav.getframerate())


def write_wav(path: Path, pcm: Pcm) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(pcm.rate)
        wav.writeframes(pcm.samples.astype("<i2").tobytes())


def with_silence(pcm: Pcm, milliseconds: int) -> Pcm:
    pad = np.zeros(pcm.rate * milliseconds // 1000, dtype=np.int16)
    return Pcm(np.concatenate([pcm.samples, pad]), pcm.rate)


def resample(pcm: Pcm, rate: int) -> Pcm:
    if pcm.rate == rate:
        return pcm
    converted = soxr.resample(pcm.samples.astype(np.float32), pcm.rate, rate)
    return Pcm(np.clip(np.round(converted), -32768, 32767).astype(np.int16), rate)


def to_phone(pcm: Pcm) -> bytes:
    """Any PCM → 8 kHz mono mu-law, as Twilio plays and streams it."""
    return ulaw_encode(resample(pcm, PHONE_RATE).samples)


def write_ulaw_wav(path: Path, ulaw: bytes) -> None:
    """A WAVE_FORMAT_MULAW (7) file: what <Play> wants for 8 kHz phone audio."""
    fmt = struct.pack("<HHIIHHH", 7, 1, PHONE_RATE, PHONE_RATE, 1, 8, 0)
    fact = struct.pack("<I", len(ulaw))
    pad = b"\x00" if len(ulaw) % 2 else b""
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    chunks += b"fact" + struct.pack("<I", 4) + fact
    chunks += b"data" + struct.pack("<I", len(ulaw)) + ulaw + pad
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def read_ulaw_wav(path: Path) -> bytes:
    """The mu-law payload of a file written by `write_ulaw_wav` (or any mu-law WAV)."""
    return ulaw_payload(path.read_bytes(), path)


def ulaw_payload(data: bytes, path: Path | str = "audio") -> bytes:
    """The mu-law payload of a WAV file's bytes (as served over HTTP, say); `path` names it in errors."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a WAV file")
    position, audio_format, payload = 12, None, None
    while position + 8 <= len(data):
        name, size = data[position : position + 4], struct.unpack("<I", data[position + 4 : position + 8])[0]
        body = data[position + 8 : position + 8 + size]
        if name == b"fmt ":
            audio_format, channels, rate = struct.unpack("<HHI", body[:8])
            if (audio_format, channels, rate) != (7, 1, PHONE_RATE):
                raise ValueError(f"{path}: expected 8 kHz mono mu-law, got format {audio_format}, {channels} ch, {rate} Hz")
        elif name == b"data":
            payload = body
        position += 8 + size + (size % 2)
    if audio_format is None or payload is None:
        raise ValueError(f"{path}: missing fmt or data chunk")
    return payload


def ulaw_wav_bytes(path: Path) -> int:
    """How many bytes (= samples) of mu-law audio a WAV file holds, from its header alone."""
    with path.open("rb") as handle:
        head = handle.read(512)
    position = 12
    while position + 8 <= len(head):
        name, size = head[position : position + 4], struct.unpack("<I", head[position + 4 : position + 8])[0]
        if name == b"data":
            return size
        position += 8 + size + (size % 2)
    return len(read_ulaw_wav(path))


MIN_AUDIO_MS = 10  # a cached chunk shorter than this is not a chunk of speech


def wav_problem(path: Path) -> str | None:
    """What is wrong with a WAV file we wrote (PCM or mu-law), from its header and size alone, or
    None: not RIFF/WAVE, no fmt or data chunk, a data chunk longer than the file (truncated),
    or almost no audio. Cheap enough to run before every file is served."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return "not a WAV file"
    position, rate, width = 12, None, None
    while position + 8 <= len(head):
        name, length = head[position : position + 4], struct.unpack("<I", head[position + 4 : position + 8])[0]
        if name == b"fmt ":
            if length < 16 or position + 24 > len(head):
                return "a damaged fmt chunk"
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", head[position + 8 : position + 24])
            width = channels * max(1, bits // 8)
        elif name == b"data":
            if rate is None or not rate or not width:
                return "no fmt chunk before the data"
            if position + 8 + length > size:
                return f"truncated: {size - position - 8} of {length} bytes of audio"
            if length / width / rate * 1000 < MIN_AUDIO_MS:
                return f"only {length} bytes of audio"
            return None
        position += 8 + length + (length % 2)
    return "no data chunk"


def frames(ulaw: bytes) -> list[bytes]:
    """Split mu-law audio into 20 ms frames of 160 bytes, padding the last with silence."""
    padded = ulaw + bytes([ULAW_SILENCE]) * (-len(ulaw) % FRAME_BYTES)
    return [padded[i : i + FRAME_BYTES] for i in range(0, len(padded), FRAME_BYTES)]


TARGET_DBFS = -20.0  # speech level every chunk is brought to, whatever the engine
PEAK_DBFS = -1.0  # never above this: no clipping on the phone's mu-law or the kiosk's speakers
_GATE_DBFS = -45.0  # 20 ms frames quieter than this are pauses, not speech


def speech_level(samples: np.ndarray, rate: int) -> float | None:
    """RMS level of the speech in `samples` in dBFS (pauses left out), or None for silence."""
    frame = max(1, rate // 50)
    usable = len(samples) // frame * frame
    if usable == 0:
        return None
    blocks = samples[:usable].astype(np.float64).reshape(-1, frame) / 32768.0
    energy = np.mean(blocks**2, axis=1)
    voiced = energy[energy > 10 ** (_GATE_DBFS / 10)]
    if not len(voiced):
        return None
    return float(10 * np.log10(np.mean(voiced)))


def level(pcm: Pcm, gain: float = 1.0) -> Pcm:
    """Bring speech to TARGET_DBFS, apply the listener's `gain`, and keep peaks under PEAK_DBFS,
    so that chunks of one reading, and the two engines, play at the same loudness."""
    current = speech_level(pcm.samples, pcm.rate)
    if current is None:
        return pcm
    scale = 10 ** ((TARGET_DBFS - current) / 20) * gain
    peak = float(np.max(np.abs(pcm.samples.astype(np.float64)))) or 1.0
    ceiling = 10 ** (PEAK_DBFS / 20) * 32767
    scaled = pcm.samples.astype(np.float64) * scale
    if gain > 1.0 and peak * scale > ceiling:
        # louder than the service's own level (a listener asked): a soft limiter holds the peaks
        # under the ceiling, so the speech itself gets louder instead of the whole chunk quieter
        scaled = ceiling * np.tanh(scaled / ceiling)
    elif peak * scale > ceiling:
        scaled = scaled * (ceiling / (peak * scale))
    samples = np.clip(np.round(scaled), -32768, 32767).astype(np.int16)
    return Pcm(samples, pcm.rate)
