"""Offline command recognition with Vosk, limited to what the menu accepts at that moment.

Facts from DESIGN.md this is built around (Vosk 0.3.45): one `Model` shared by all threads; one
`KaldiRecognizer` per stream, never used from two threads at once; runtime grammars work only on
small lookahead models, and a grammar word missing from the model's vocabulary is dropped
silently, so every phrase is segmented into words the model knows and a phrase that cannot be is
refused loudly; changing a grammar mid-utterance aborts the process, so a new grammar only ever
takes effect between utterances, on a fresh recogniser. Grammar JSON must keep non-ASCII text as
it is (`ensure_ascii=False`): escaped words are silently missing words.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from speech.audio_in import TARGET_RATE, InputFormat, PcmConverter

log = logging.getLogger(__name__)

UNKNOWN_TOKENS = ("[unk]", "<unk>", "<UNK>")
MAX_WORD_CHARS = 8
NOISE_CONFIDENCE = 0.5
# Chinese numbers easily heard one for the other: a choice containing one is confirmed.
CONFUSABLE = set("四十")


class ModelUnavailable(RuntimeError):
    """No usable speech model: the service runs keypad-only and says so."""


class VocabularyError(ValueError):
    """A phrase the model cannot recognise (a word missing from its vocabulary)."""


@dataclass
class SpeechModel:
    """A loaded Vosk model, shared by every session in the process."""

    path: Path
    model: object
    unknown: str | None
    load_seconds: float
    _known: dict[str, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def knows(self, word: str) -> bool:
        with self._lock:
            if word not in self._known:
                self._known[word] = self.model.vosk_model_find_word(word) >= 0
            return self._known[word]

    def segment(self, phrase: str) -> list[str]:
        """The phrase as words the model knows (fewest words first), or VocabularyError."""
        text = "".join(phrase.split())
        if " " in phrase.strip() and all(self.knows(w) for w in phrase.split()):
            return phrase.split()
        best: list[list[str] | None] = [None] * (len(text) + 1)
        best[0] = []
        for end in range(1, len(text) + 1):
            for start in range(max(0, end - MAX_WORD_CHARS), end):
                if best[start] is None:
                    continue
                word = text[start:end]
                if self.knows(word) and (best[end] is None or len(best[start]) + 1 < len(best[end])):
                    best[end] = best[start] + [word]
        if best[len(text)] is None:
            missing = [c for c in text if not self.knows(c)]
            raise VocabularyError(
                f"{phrase!r} cannot be said with the words of the speech model at {self.path}"
                + (f" (unknown characters: {''.join(missing)})" if missing else "")
            )
        return best[len(text)]


_models: dict[Path, SpeechModel] = {}
_models_lock = threading.Lock()
# Creating recognisers concurrently on one model has crashed Vosk; creation is serialised.
_create_lock = threading.Lock()


def load_model(path: Path | str) -> SpeechModel:
    """Load a model folder once per process; later calls share it."""
    folder = Path(path).expanduser()
    with _models_lock:
        if folder in _models:
            return _models[folder]
        if not (folder / "am" / "final.mdl").exists() or not (folder / "conf").is_dir():
            raise ModelUnavailable(f"{folder} is not a Vosk model folder (no am/final.mdl or conf/)")
        import vosk

        vosk.SetLogLevel(-1)
        started = time.perf_counter()
        try:
            model = vosk.Model(str(folder))
        except Exception as error:
            raise ModelUnavailable(f"Vosk could not load the model at {folder}: {error}") from None
        seconds = time.perf_counter() - started
        unknown = next((t for t in UNKNOWN_TOKENS if model.vosk_model_find_word(t) >= 0), None)
        loaded = _models[folder] = SpeechModel(folder, model, unknown, seconds)
        log.info("speech model %s loaded in %.1f s (unknown-word token %s)", folder, seconds, unknown)
        return loaded


def missing_phrases(model: SpeechModel, phrases: Iterable[str]) -> list[str]:
    """The phrases this model cannot recognise (checked at start-up and by `tingwen models check`)."""
    missing = []
    for phrase in phrases:
        try:
            model.segment(phrase)
        except VocabularyError:
            missing.append(phrase)
    return missing


@dataclass(frozen=True)
class Grammar:
    """The phrases valid now, as the model's words."""

    phrases: dict[str, str]  # words without spaces → the phrase as the menu wrote it
    words_json: str

    @classmethod
    def compile(cls, model: SpeechModel, phrases: Iterable[str]) -> Grammar:
        entries: dict[str, str] = {}
        sentences: list[str] = []
        for phrase in phrases:
            words = model.segment(phrase)
            entries["".join(words)] = phrase
            sentences.append(" ".join(words))
        if model.unknown:
            sentences.append(model.unknown)
        return cls(entries, json.dumps(sorted(set(sentences)), ensure_ascii=False))


@dataclass(frozen=True)
class Heard:
    """One utterance as recognised."""

    text: str  # what the recogniser heard, spaces removed ("" for nothing)
    phrase: str | None  # the valid phrase it matched, or None: not understood
    confidence: float  # the lowest word confidence of the match
    confirm: bool = False  # an easily confused choice (四/十): ask before acting on it
    early: bool = False  # fired on a stable partial result, before the end of speech

    def sure(self, threshold: float) -> bool:
        return self.phrase is not None and self.confidence >= threshold and not self.confirm


@dataclass(frozen=True)
class Endpointing:
    """When an utterance is over: short, for one-word commands."""

    trailing_silence_ms: int = 400
    max_utterance_ms: int = 4000
    stable_partial_ms: int = 200  # a partial that exactly matches a phrase this long fires early
    speech_rms: float = 400.0  # 16-bit RMS above which a frame counts as speech


class Session:
    """One call or kiosk session: one recogniser, fed from one thread at a time."""

    def __init__(self, model: SpeechModel, fmt: InputFormat, phrases: Iterable[str], endpointing: Endpointing | None = None):
        self.model = model
        self.endpointing = endpointing or Endpointing()
        self.converter = PcmConverter(fmt)
        self.lock = threading.Lock()
        self._pending: Grammar | None = None
        self._grammar = Grammar.compile(model, phrases)
        self._recognizer = self._new_recognizer(self._grammar)
        self._clear()

    def _new_recognizer(self, grammar: Grammar):
        import vosk

        with _create_lock:
            recognizer = vosk.KaldiRecognizer(self.model.model, TARGET_RATE, grammar.words_json)
        recognizer.SetWords(True)
        return recognizer

    def _clear(self) -> None:
        self._speech_ms = 0
        self._silence_ms = 0
        self._partial = ""
        self._partial_ms = 0

    @property
    def in_utterance(self) -> bool:
        return self._speech_ms > 0

    def set_phrases(self, phrases: Iterable[str]) -> None:
        """The menu moved on: new valid phrases, from the next utterance on (never mid-utterance)."""
        grammar = Grammar.compile(self.model, phrases)
        with self.lock:
            if self.in_utterance:
                self._pending = grammar
            else:
                self._use(grammar)

    def _use(self, grammar: Grammar) -> None:
        self._grammar = grammar
        self._recognizer = self._new_recognizer(grammar)
        self._pending = None

    def reset(self) -> None:
        """Drop everything heard so far (after a barge-in, or when playback starts again)."""
        with self.lock:
            self.converter.reset()
            self._recognizer.Reset()
            self._clear()
            if self._pending is not None:
                self._use(self._pending)

    def feed(self, data: bytes) -> Heard | None:
        """A frame of input audio; returns what was heard when an utterance ends."""
        with self.lock:
            pcm = self.converter.convert(data)
            if not pcm:
                return None
            milliseconds = len(pcm) * 1000 // (2 * TARGET_RATE)
            loud = _rms(pcm) >= self.endpointing.speech_rms
            if loud:
                self._speech_ms += milliseconds
                self._silence_ms = 0
            elif self.in_utterance:
                self._silence_ms += milliseconds
            if not self.in_utterance:
                return None  # silence before speech is not worth decoding
            endpoint = self._recognizer.AcceptWaveform(pcm)
            ended = (
                endpoint
                or self._silence_ms >= self.endpointing.trailing_silence_ms
                or self._speech_ms + self._silence_ms >= self.endpointing.max_utterance_ms
            )
            if not ended and self._stable_partial(milliseconds):
                return self._finish(early=True)
            return self._finish() if ended else None

    def finish(self) -> Heard | None:
        """The input stopped (the caller hung up, the kiosk microphone closed)."""
        with self.lock:
            return self._finish() if self.in_utterance else None

    def _stable_partial(self, milliseconds: int) -> bool:
        partial = "".join(json.loads(self._recognizer.PartialResult()).get("partial", "").split())
        if partial and partial == self._partial and partial in self._grammar.phrases:
            self._partial_ms += milliseconds
        else:
            self._partial, self._partial_ms = partial, 0
        return self._partial_ms >= self.endpointing.stable_partial_ms

    def _finish(self, early: bool = False) -> Heard:
        result = json.loads(self._recognizer.FinalResult())
        self._recognizer.Reset()
        self.converter.reset()
        self._clear()
        grammar = self._grammar
        if self._pending is not None:
            self._use(self._pending)
        return understand(result, grammar, self.model.unknown, early)


def recognise_recording(model: SpeechModel, recording: Path, phrases: list[str]) -> Heard | None:
    """What a session listening for `phrases` understands from a WAV recording, fed in 20 ms
    frames as a live stream would be (`tingwen listen`). Raises wave.Error, ValueError or
    VocabularyError for a recording or phrases it cannot take."""
    import wave

    from speech.audio_in import InputFormat

    with wave.open(str(recording), "rb") as opened:
        fmt = InputFormat(opened.getframerate(), opened.getnchannels())
        audio = opened.readframes(opened.getnframes())
    session = Session(model, fmt, phrases)
    frame = fmt.rate * fmt.channels * 2 // 50
    for start in range(0, len(audio), frame):
        heard = session.feed(audio[start : start + frame])
        if heard:
            return heard
    return session.finish()


def understand(result: dict, grammar: Grammar, unknown: str | None, early: bool = False) -> Heard:
    """A recogniser's final result → the phrase it matches, or "not understood".

    Chinese output comes space-separated; spaces are removed. Off-menu speech becomes the unknown
    token: an utterance that is mostly unknown words, or whose confident words are not exactly one
    valid phrase, is not forced onto a command."""
    words = result.get("result", [])
    heard = [w for w in words if w.get("word") != unknown]
    # A grammar makes the recogniser map trailing noise onto some word, with low confidence:
    # such words are dropped when confident ones remain (멈춤 1.00 + 도움 0.47 → 멈춤).
    confident = [w for w in heard if float(w.get("conf", 0.0)) >= NOISE_CONFIDENCE]
    heard = confident or heard
    text = "".join(w["word"] for w in heard)
    phrase = grammar.phrases.get(text)
    if phrase is None or len(words) - len(heard) > len(heard):
        return Heard(text, None, 0.0, early=early)
    confidence = min((float(w.get("conf", 0.0)) for w in heard), default=0.0)
    return Heard(text, phrase, confidence, confirm=any(c in CONFUSABLE for c in phrase), early=early)


def _rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0


class RecognitionPool:
    """A bounded pool of threads decoding for many sessions. Each session's frames are decoded in
    order, by one thread at a time: frames queue per session and one task drains the queue."""

    def __init__(self, workers: int = 4):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tingwen-asr")
        self._lock = threading.Lock()
        self._queues: dict[int, list[tuple[bytes, Future]]] = {}

    def feed(self, session: Session, data: bytes) -> Future:
        """Queue a frame; the future gives what `Session.feed` returned for it."""
        done: Future = Future()
        with self._lock:
            queue = self._queues.get(id(session))
            if queue is None:
                self._queues[id(session)] = [(data, done)]
                self._executor.submit(self._drain, session)
            else:
                queue.append((data, done))
        return done

    def _drain(self, session: Session) -> None:
        while True:
            with self._lock:
                queue = self._queues[id(session)]
                if not queue:
                    del self._queues[id(session)]
                    return
                data, done = queue.pop(0)
            try:
                done.set_result(session.feed(data))
            except Exception as error:  # reported to whoever waits on this frame
                done.set_exception(error)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
