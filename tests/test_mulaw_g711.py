"""Our mu-law code matches G.711 and needs no audioop (gone in Python 3.13)."""

import sys

import numpy as np
import pytest

from speech.audio import Pcm, frames, resample, ulaw_decode, ulaw_encode

# (linear sample, mu-law byte) as the ITU-T G.711 reference code (STL ulaw_compress/expand)
# computes them; CPython's old audioop agrees on all but -1, which it rounds to 0x7E.
ENCODE = [(0, 0xFF), (-1, 0x7F), (32767, 0x80), (-32768, 0x00), (1000, 0xCE), (-1000, 0x4E), (100, 0xF2), (8159, 0x9F)]
DECODE = [(0xFF, 0), (0x7F, 0), (0x80, 32124), (0x00, -32124), (0xCE, 988), (0xF0, 120), (0x9F, 8316)]


@pytest.mark.parametrize("linear, code", ENCODE)
def test_encode_known_values(linear, code):
    assert ulaw_encode(np.array([linear], dtype=np.int16)) == bytes([code])


@pytest.mark.parametrize("code, linear", DECODE)
def test_decode_known_values(code, linear):
    assert int(ulaw_decode(bytes([code]))[0]) == linear


def test_round_trip_of_every_code_is_exact():
    codes = bytes(range(256))
    again = ulaw_encode(ulaw_decode(codes))
    # 0x7F and 0xFF are both zero; every other code survives the round trip
    assert [a for a, b in zip(codes, again) if a != b] == [0x7F]


def test_round_trip_error_is_within_a_quantisation_step():
    signal = (np.sin(np.linspace(0, 40 * np.pi, 8000)) * 20000).astype(np.int16)
    error = np.abs(ulaw_decode(ulaw_encode(signal)).astype(int) - signal)
    assert np.all(error <= np.abs(signal.astype(int)) / 16 + 8)


def test_resample_and_frames():
    tone = Pcm((np.sin(np.arange(22050) / 22050 * 2 * np.pi * 440) * 8000).astype(np.int16), 22050)
    phone = resample(tone, 8000)
    assert phone.rate == 8000 and abs(len(phone.samples) - 8000) <= 1
    assert [len(f) for f in frames(b"\x00" * 330)] == [160, 160, 160]
    assert frames(b"\x00" * 330)[-1][10:] == b"\xff" * 150  # padded with mu-law silence


def test_no_audioop():
    assert "audioop" not in sys.modules
