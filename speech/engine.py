"""What every voice shares: the engine interface, its settings, the places syntheses wait for
(most urgent first), and espeak-ng itself (the check that it reads Chinese, and its command,
with a timeout, behind every other voice). pyttsx3 driving espeak-ng is speech/pyttsx3_voice.py,
the neural voice speech/neural.py. An engine only has to turn tone-numbered pinyin into a WAV
file, so another can be added behind the same small interface.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
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
