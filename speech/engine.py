"""Text-to-speech engines: pyttsx3 driving espeak-ng, with a direct espeak-ng fallback.

pyttsx3's espeak driver keeps one engine per process and its run loop is not re-entrant, so it
lives on one worker thread and every request is queued to it. If it fails or hangs, the direct
`espeak-ng` command (with a timeout) takes over. An engine only has to turn tone-numbered pinyin
into a WAV file, so another engine can be added behind the same small interface.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

VOICE = "cmn-latn-pinyin"
ESPEAK_DEFAULT_RATE = 175  # words per minute
DEFAULT_RATE = 130  # slower than espeak-ng's default, for elderly listeners
TIMEOUT_SECONDS = 20.0


class EngineUnavailable(RuntimeError):
    """No Mandarin speech can be produced on this machine; the message says why and what to install."""


@dataclass(frozen=True)
class VoiceSettings:
    voice: str = VOICE
    rate: int = DEFAULT_RATE
    volume: float = 1.0  # gain applied to the engine's audio: 0.0 … 2.0

    def __post_init__(self) -> None:
        if not 60 <= self.rate <= 400:
            raise ValueError(f"speaking rate {self.rate} is outside 60…400 words per minute")
        if not 0.0 <= self.volume <= 2.0:
            raise ValueError(f"volume {self.volume} is outside 0.0…2.0")


class Engine(Protocol):
    name: str

    def synthesize(self, pinyin: str, out: Path, settings: VoiceSettings) -> None:
        """Write `pinyin` in `settings.voice` at `settings.rate` to `out` as 16-bit PCM WAV
        (at normal volume: the speaker applies `settings.volume` itself, the same for every engine)."""


def check_voice(voice: str = VOICE) -> None:
    """Fail loudly unless espeak-ng reads Chinese with `voice` (not in English mode)."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise EngineUnavailable("espeak-ng is not installed; install it with: apt-get install espeak-ng")
    try:
        result = subprocess.run(
            [binary, "-q", "-x", "-v", voice, "年"], capture_output=True, text=True, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        raise EngineUnavailable(f"espeak-ng did not answer within {TIMEOUT_SECONDS:.0f} s") from None
    phonemes = result.stdout.strip()
    if result.returncode != 0 or not phonemes:
        raise EngineUnavailable(f"espeak-ng has no voice {voice!r}: {result.stderr.strip() or 'no output'}")
    if "(en)" in phonemes:
        raise EngineUnavailable(
            f"espeak-ng voice {voice!r} reads Chinese in English mode ({phonemes!r}); use {VOICE!r}"
        )


class EspeakCommand:
    """The espeak-ng program, one process per chunk, with a timeout."""

    name = "espeak-ng"

    def __init__(self, timeout: float = TIMEOUT_SECONDS):
        self.binary = shutil.which("espeak-ng") or "espeak-ng"
        self.timeout = timeout

    def synthesize(self, pinyin: str, out: Path, settings: VoiceSettings) -> None:
        command = [self.binary, "-v", settings.voice, "-s", str(settings.rate), "-w", str(out), "--", pinyin]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise EngineUnavailable(f"espeak-ng took longer than {self.timeout:.0f} s") from None
        if result.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
            raise EngineUnavailable(f"espeak-ng failed ({result.returncode}): {result.stderr.strip()[:200]}")


@dataclass
class _Job:
    pinyin: str
    out: Path
    settings: VoiceSettings
    done: Future


class Pyttsx3Espeak:
    """pyttsx3's espeak driver on its own worker thread; falls back to `EspeakCommand`."""

    name = "pyttsx3"

    def __init__(self, fallback: Engine | None = None, timeout: float = TIMEOUT_SECONDS):
        self.fallback = fallback or EspeakCommand(timeout)
        self.timeout = timeout
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._broken: str | None = None
        self._worker = threading.Thread(target=self._run, name="tingwen-tts", daemon=True)
        self._worker.start()

    def synthesize(self, pinyin: str, out: Path, settings: VoiceSettings) -> None:
        if self._broken is None:
            job = _Job(pinyin, out, settings, Future())
            self._jobs.put(job)
            try:
                job.done.result(timeout=self.timeout)
                return
            except FutureTimeout:
                self._broken = f"pyttsx3 did not finish within {self.timeout:.0f} s"
            except Exception as error:  # the engine's own failure: use the fallback this once
                log.warning("pyttsx3 failed (%s); using espeak-ng directly for this chunk", error)
                self.fallback.synthesize(pinyin, out, settings)
                return
            log.error("%s; using espeak-ng directly from now on", self._broken)
        self.fallback.synthesize(pinyin, out, settings)

    def _run(self) -> None:
        try:
            import pyttsx3
            import pyttsx3.drivers.espeak as driver

            # The driver prints "Audio saved to …" for every file; send that to the debug log.
            driver.print = lambda *args, **_: log.debug(" ".join(map(str, args)))
            engine = pyttsx3.init("espeak")
            voice_ids = {v.id: v for v in engine.getProperty("voices")}
            # The driver's first utterance after init comes back empty when it is long (seen with
            # pyttsx3 2.99): warm it up with a short one so real jobs never meet that.
            with tempfile.TemporaryDirectory() as folder:
                engine.save_to_file("ni3 hao3.", str(Path(folder) / "warm-up.wav"))
                engine.runAndWait()
        except Exception as error:  # no libespeak-ng, or pyttsx3 broken: every job falls back
            self._broken = f"pyttsx3 could not start: {error}"
            log.error("%s; using espeak-ng directly", self._broken)
            engine = None
        while True:
            job = self._jobs.get()
            if engine is None:
                job.done.set_exception(EngineUnavailable(self._broken or "pyttsx3 unavailable"))
                continue
            try:
                voice = next((i for i, v in voice_ids.items() if job.settings.voice in (v.languages or [])), job.settings.voice)
                engine.setProperty("voice", voice)
                engine.setProperty("rate", job.settings.rate)
                engine.save_to_file(job.pinyin, str(job.out))
                engine.runAndWait()
                if not job.out.exists() or job.out.stat().st_size <= 44:
                    raise EngineUnavailable("pyttsx3 wrote no audio")
                job.done.set_result(None)
            except Exception as error:
                job.done.set_exception(error)
