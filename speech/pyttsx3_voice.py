"""pyttsx3 driving espeak-ng, with the espeak-ng command for whatever it cannot do.

pyttsx3's espeak driver keeps one engine per process and its run loop is not re-entrant, so it
lives on one worker thread and every request is queued to it. If it fails, hangs or writes a file
too short for its syllables, the direct `espeak-ng` command (with a timeout) makes the chunk.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import shutil
import tempfile
import threading
import time
import wave
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from speech.engine import TIMEOUT_SECONDS, Engine, EngineUnavailable, EspeakCommand, VoiceSettings

log = logging.getLogger(__name__)


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
        engine.save_to_file("ni3 hao3.", str(self._scratch / "settle.wav"))
        engine.runAndWait()
        _until_finished(finished)  # its end may come after runAndWait: not into the first job's list
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
                finished.clear()
                engine.save_to_file(job.pinyin, str(private))
                engine.runAndWait()
                _until_finished(finished)
                if finished != [True] or not private.exists() or private.stat().st_size <= 44:
                    raise EngineUnavailable(f"pyttsx3 did not complete the utterance ({finished})")
                _check_whole(private, job.pinyin, self.settings.rate)
                if not job.abandoned:
                    shutil.move(private, job.out)
                job.done.set_result(None)
            except Exception as error:
                job.done.set_exception(error)
            finally:
                private.unlink(missing_ok=True)


# espeak-ng says a Mandarin syllable in about 0.41 s at 130 words a minute; a file with less than
# this share of that was cut short (seen in CI: 2.5 s of a 4.2 s sentence, with the driver
# reporting the utterance complete: pyttsx3's espeak driver can end an utterance early when a
# cancel meant for the one before is still pending, upstream issue 334).
_LEAST_SHARE = 0.65
_SYLLABLE = re.compile(r"[a-z]+[1-5]")


def _check_whole(wav_path: Path, pinyin: str, rate: int) -> None:
    """Refuse a file shorter than its syllables need at this rate: the command makes it instead."""
    with wave.open(str(wav_path), "rb") as wav:
        seconds = wav.getnframes() / wav.getframerate()
    least = _LEAST_SHARE * len(_SYLLABLE.findall(pinyin)) * 60 / rate
    if seconds < least:
        raise EngineUnavailable(f"pyttsx3 wrote {seconds:.2f} s for {least / _LEAST_SHARE:.1f} s of syllables: cut short")


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
