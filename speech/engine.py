"""Text-to-speech engines: pyttsx3 driving espeak-ng, with a direct espeak-ng fallback.

pyttsx3's espeak driver keeps one engine per process and its run loop is not re-entrant, so it
lives on one worker thread and every request is queued to it. If it fails or hangs, the direct
`espeak-ng` command (with a timeout) takes over. An engine only has to turn tone-numbered pinyin
into a WAV file, so another engine can be added behind the same small interface.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

VOICE = "cmn-latn-pinyin"
DEFAULT_RATE = 130  # slower than espeak-ng's default, for elderly listeners
# The paces a listener can choose (the kiosk's 慢 / 正常 / 快), in words per minute; every engine
# honours the rate (the neural voice through its duration control), none by resampling.
PACES = {"slow": DEFAULT_RATE, "normal": 160, "fast": 190}
MIN_RATE, MAX_RATE = 60, 400  # words per minute any voice is asked for
TIMEOUT_SECONDS = 20.0


class Priority(IntEnum):
    """Who waits for a synthesis, most urgent first."""

    FIRST_SOUND = 0  # the first phrase of a turn a listener is waiting to hear
    LISTENER = 1  # the rest of what a listener is hearing
    BACKGROUND = 2  # prerendering: nobody waits for it


_work = threading.local()


@contextlib.contextmanager
def synthesis_priority(priority: Priority) -> Iterator[None]:
    """The synthesis this thread does meanwhile waits as `priority` (see SynthesisGate)."""
    before = getattr(_work, "priority", Priority.LISTENER)
    _work.priority = priority
    try:
        yield
    finally:
        _work.priority = before


def background_work() -> contextlib.AbstractContextManager[None]:
    """Mark the synthesis this thread does as background work (prerendering): whoever a
    listener is waiting for goes first."""
    return synthesis_priority(Priority.BACKGROUND)


def current_priority() -> Priority:
    return getattr(_work, "priority", Priority.LISTENER)


def yield_the_cpu() -> None:
    """Run this thread at the lowest CPU priority (Linux: a thread's own nice value): a thread
    that only works ahead (prerendering) then takes only what callers leave. ONNX Runtime
    computes on the calling thread, so this reaches the synthesis too."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (OSError, AttributeError):  # not Linux, or not allowed: it still goes last at the gate
        log.debug("could not lower the CPU priority of thread %s", threading.current_thread().name)


class SynthesisGate:
    """The places for syntheses running at once on one engine, handed out most urgent first
    (then in order of arrival): `places` for listeners, one more kept for a turn's first sound
    alone (so it never waits for another listener's later phrase), and background work on
    places of its own (one fewer than `places`, at least one) that listeners never wait for. The
    background runs at the lowest CPU priority (yield_the_cpu), so it takes only what is left."""

    def __init__(self, places: int = 1) -> None:
        self.places = max(1, places)
        self._background_places = max(1, self.places - 1)
        self._condition = threading.Condition()
        self._busy = 0
        self._background_busy = 0
        self._waiting: set[tuple[int, int]] = set()  # (priority, arrival) of each waiter
        self._arrivals = itertools.count()

    def _limit(self, priority: int) -> int:
        """How many may run at once while this priority starts."""
        return self.places + 1 if priority == Priority.FIRST_SOUND else self.places

    def _may_start(self, ticket: tuple[int, int]) -> bool:
        listeners_busy = self._busy - self._background_busy
        listener_waiting = any(t[0] != Priority.BACKGROUND for t in self._waiting)
        first_waiting = any(t[0] == Priority.FIRST_SOUND for t in self._waiting)

        def eligible(t: tuple[int, int]) -> bool:
            if t[0] == Priority.BACKGROUND:  # never starts while a listener waits for a place
                return self._background_busy < self._background_places and not listener_waiting
            if t[0] == Priority.LISTENER and first_waiting:  # the cores go to first sounds first
                return False
            return listeners_busy < self._limit(t[0])

        return eligible(ticket) and min(t for t in self._waiting if eligible(t)) == ticket

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        priority = current_priority()
        with self._condition:
            ticket = (int(priority), next(self._arrivals))
            self._waiting.add(ticket)
            try:
                self._condition.wait_for(lambda: self._may_start(ticket))
            finally:
                self._waiting.discard(ticket)
            self._busy += 1
            self._background_busy += priority == Priority.BACKGROUND
            self._condition.notify_all()  # another place may still be free for the next in line
        try:
            yield
        finally:
            with self._condition:
                self._busy -= 1
                self._background_busy -= priority == Priority.BACKGROUND
                self._condition.notify_all()


class EngineUnavailable(RuntimeError):
    """No Mandarin speech can be produced on this machine; the message says why and what to install."""


@dataclass(frozen=True)
class VoiceSettings:
    voice: str = VOICE
    rate: int = DEFAULT_RATE
    volume: float = 1.0  # gain applied to the engine's audio: 0.0 … 2.0

    def __post_init__(self) -> None:
        if not MIN_RATE <= self.rate <= MAX_RATE:
            raise ValueError(f"speaking rate {self.rate} is outside {MIN_RATE}…{MAX_RATE} words per minute")
        if not 0.0 <= self.volume <= 2.0:
            raise ValueError(f"volume {self.volume} is outside 0.0…2.0")


class Engine(Protocol):
    """What a voice offers; it may also say `places`, how many syntheses it runs at once (the
    speaker renders ahead with that many threads; 1 when it does not say)."""

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


class _FastPoll:
    """Stands in for the `time` module inside pyttsx3's espeak driver: shorter poll sleeps."""

    def __getattr__(self, name: str):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(min(seconds, 0.001))


@dataclass
class _Job:
    pinyin: str
    out: Path
    done: Future = field(default_factory=Future)
    abandoned: bool = False


class _Pyttsx3Worker:
    """The one thread that owns this process's pyttsx3 engine (pyttsx3 keeps one per process).

    It is set up once for one voice and rate: with pyttsx3 2.99 a new rate takes effect an
    utterance late, and a run without an utterance speaks the previous text again. Each job is
    written to a private file and moved into place only if its caller is still waiting.
    """

    _instance: _Pyttsx3Worker | None = None
    _instance_lock = threading.Lock()

    @classmethod
    def shared(cls, settings: VoiceSettings) -> _Pyttsx3Worker:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls(settings)
            return cls._instance

    def __init__(self, settings: VoiceSettings):
        self.settings = settings
        self.broken: str | None = None
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="tingwen-tts", daemon=True)
        self._thread.start()

    def submit(self, job: _Job) -> None:
        self._jobs.put(job)

    def _start(self, finished: list[bool]):
        import pyttsx3
        import pyttsx3.drivers.espeak as driver

        # The driver prints "Audio saved to …" for every file; send that to the debug log.
        driver.print = lambda *args, **_: log.debug(" ".join(map(str, args)))
        # Its run loop polls for the end of an utterance every 10 ms, which is most of our
        # overhead per chunk; poll every millisecond instead (this module's loop only).
        driver.time = _FastPoll()
        engine = pyttsx3.init("espeak")
        voice = next((v.id for v in engine.getProperty("voices") if self.settings.voice in (v.languages or [])), None)
        if voice is None:
            raise EngineUnavailable(f"pyttsx3 finds no espeak voice {self.settings.voice!r}")
        engine.setProperty("voice", voice)
        engine.setProperty("rate", self.settings.rate)
        # Speak once so the properties have landed. The driver may finish writing a file after
        # runAndWait returns, even while the process exits, so its folder is never removed under
        # it: it is left for the next process to clear (_clear_stale_scratch).
        _clear_stale_scratch()
        self._scratch = Path(tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-"))
        engine.connect("finished-utterance", lambda name, completed: finished.append(completed))
        # runAndWait ends the loop before it by calling the driver's stop(), which cancels
        # whatever libespeak is still finishing and leaves a flag behind that cancels the next
        # utterance part-way (a short file, or [True, False] for one job). This worker never
        # stops an utterance (a hung one is abandoned), so stop does nothing here.
        engine.proxy._driver.stop = lambda: None
        self._driver = engine.proxy._driver
        self._ends = _UtteranceEnds(driver._espeak, engine.proxy._driver._onSynth)
        engine.save_to_file("ni3 hao3.", str(self._scratch / "settle.wav"))
        engine.runAndWait()
        _until_finished(finished)  # its end may come after runAndWait: not into the first job's list
        self._ends.until_quiet()
        return engine

    def _run(self) -> None:
        finished: list[bool] = []
        jobs = 0
        try:
            engine = self._start(finished)
        except Exception as error:  # no libespeak-ng, or pyttsx3 broken: every job falls back
            self.broken = f"pyttsx3 could not start: {error}"
            log.error("%s; using espeak-ng directly", self.broken)
            engine = None
        while True:
            job = self._jobs.get()
            if engine is None:
                job.done.set_exception(EngineUnavailable(self.broken or "pyttsx3 unavailable"))
                continue
            # A private file in the worker's own folder, which outlives the job: a driver that
            # reports the end late writes its file then, and must find the folder still there.
            jobs += 1
            private = self._scratch / f"job-{jobs}.wav"
            try:
                self._ends.until_quiet()  # no late callback of an earlier utterance lands in this one
                self._driver._stopping = False  # nor a cancel left pending for it (see _start)
                self._ends.reset()
                finished.clear()
                engine.save_to_file(job.pinyin, str(private))
                engine.runAndWait()
                _until_finished(finished)
                self._ends.until_quiet()
                if finished != [True] or not private.exists() or private.stat().st_size <= 44:
                    raise EngineUnavailable(f"pyttsx3 did not complete the utterance ({finished})")
                self._ends.check_whole(private)
                if not job.abandoned:
                    shutil.move(private, job.out)
                job.done.set_result(None)
            except Exception as error:
                job.done.set_exception(error)
            finally:
                private.unlink(missing_ok=True)


class _UtteranceEnds:
    """Sees every callback libespeak-ng makes (before pyttsx3's driver does) and notes where the
    utterance's audio ends (its END event's audio position), so a file the driver wrote short is
    caught. pyttsx3's driver sometimes writes a file before the utterance is over (upstream
    pyttsx3 issue 334, words skipped on a busy Linux machine; seen here as 2.5 s of a 4.2 s
    sentence in a CI run): such a file is refused and the espeak-ng command makes the chunk."""

    SLACK_SECONDS = 0.05

    def __init__(self, espeak, driver_callback) -> None:
        self._espeak = espeak
        self._driver_callback = driver_callback
        self.end_ms: int | None = None
        espeak.SetSynthCallback(self._on_synth)  # libespeak has one callback: ours, then the driver's

    def _on_synth(self, wav, numsamples, events) -> int:
        try:
            i = 0
            while events[i].type != self._espeak.EVENT_LIST_TERMINATED:
                if events[i].type == self._espeak.EVENT_END:
                    self.end_ms = max(self.end_ms or 0, events[i].audio_position)
                i += 1
        except Exception:  # noting the end must never break the driver's own callback
            log.debug("could not read libespeak's events", exc_info=True)
        return self._driver_callback(wav, numsamples, events)

    def reset(self) -> None:
        self.end_ms = None

    def until_quiet(self, timeout: float = 5.0) -> None:
        """Wait until libespeak has finished the utterance it is making, callbacks and all."""
        deadline = time.monotonic() + timeout
        while self._espeak.IsPlaying() and time.monotonic() < deadline:
            time.sleep(0.002)

    def check_whole(self, wav_path: Path) -> None:
        with wave.open(str(wav_path), "rb") as wav:
            seconds = wav.getnframes() / wav.getframerate()
        if self.end_ms is None:
            raise EngineUnavailable("libespeak-ng did not say where the utterance ends")
        if seconds < self.end_ms / 1000 - self.SLACK_SECONDS:
            raise EngineUnavailable(f"pyttsx3 wrote {seconds:.2f} s of a {self.end_ms / 1000:.2f} s utterance")


_SCRATCH_PREFIX = "tingwen-pyttsx3-"


def _clear_stale_scratch() -> None:
    """Remove the pyttsx3 folders of processes that have ended."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SCRATCH_PREFIX}*-*"):
        pid = folder.name[len(_SCRATCH_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # another user's process, still running


def _until_finished(finished: list[bool], timeout: float = 2.0) -> None:
    """pyttsx3's espeak driver can return from runAndWait before libespeak's end-of-message
    callback has written the file and said so. Wait for it before the next utterance starts:
    arriving late, it would write this audio into the next job's file."""
    deadline = time.monotonic() + timeout
    while not finished and time.monotonic() < deadline:
        time.sleep(0.002)


class Pyttsx3Espeak:
    """pyttsx3 driving espeak-ng, with the espeak-ng command for whatever it cannot do: other
    voices or rates than the one the process's engine was set up for (`tingwen say --rate`),
    an utterance the driver does not report as completed, or a driver that hangs."""

    name = "pyttsx3"

    def __init__(self, settings: VoiceSettings | None = None, fallback: Engine | None = None, timeout: float = TIMEOUT_SECONDS):
        self.worker = _Pyttsx3Worker.shared(settings or VoiceSettings())
        self.fallback = fallback or EspeakCommand(timeout)
        self.timeout = timeout
        self.hung = False

    def synthesize(self, pinyin: str, out: Path, settings: VoiceSettings) -> None:
        fixed = self.worker.settings
        if self.hung or self.worker.broken or (settings.voice, settings.rate) != (fixed.voice, fixed.rate):
            self.fallback.synthesize(pinyin, out, settings)
            return
        job = _Job(pinyin, out)
        self.worker.submit(job)
        try:
            job.done.result(timeout=self.timeout)
        except FutureTimeout:
            job.abandoned = True
            self.hung = True
            log.error("pyttsx3 did not finish within %.0f s; using espeak-ng directly from now on", self.timeout)
            self.fallback.synthesize(pinyin, out, settings)
        except Exception as error:
            log.warning("pyttsx3 failed (%s); using espeak-ng directly for this chunk", error)
            self.fallback.synthesize(pinyin, out, settings)
