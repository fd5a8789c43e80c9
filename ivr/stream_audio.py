"""A streaming call's audio to the caller: the Sender paces 20 ms media frames against the clock
(at most `lead_ms` ahead of what the caller has heard), sends a mark after each chunk, and on a
clear drops everything not yet sent; the TurnRenderer makes a turn's chunks in order and hands
each to the sender as soon as it exists, so the first plays while the rest are made.
"""

from __future__ import annotations

import logging
import threading
import time

from monitoring import metrics
from ivr import twilio_wire as wire
from speech.audio import frames, read_ulaw_wav
from speech.speaker import Speaker
from speech.utterances import AudioFormat, Recipe

log = logging.getLogger(__name__)

FRAME_MS = 20


class Sender:
    """Sends media frames paced against the clock, then a mark per chunk; `clear()` drops
    everything not yet sent and tells Twilio to drop what it has buffered."""

    def __init__(self, send_json, lead_ms: int = 1000):
        self._send_json = send_json
        self.lead_ms = lead_ms  # never more than this much audio buffered ahead at Twilio
        self._lock = threading.Condition()
        self._queue: list[tuple[int, list[bytes], str]] = []
        self._generation = 0
        self._stream_sid: str | None = None
        self._clock: float | None = None
        self._sent_ms = 0
        self._closed = False
        self._asked: float | None = None  # when the caller did what the next audio answers
        self._thread = threading.Thread(target=self._run, name="tingwen-stream-send", daemon=True)
        self._thread.start()

    def start(self, stream_sid: str) -> None:
        with self._lock:
            self._stream_sid = stream_sid

    @property
    def generation(self) -> int:
        """Moves on at every clear: audio made for an older generation is never sent."""
        with self._lock:
            return self._generation

    def play(self, chunks: list[tuple[list[bytes], str]], generation: int | None = None) -> None:
        """Queue chunks (frames and the mark after them); those made for a generation that a
        clear has ended are dropped."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            for frames_, mark in chunks:
                self._queue.append((self._generation, frames_, mark))
            self._lock.notify()

    def asked(self, moment: float) -> None:
        """The audio about to be queued answers what the caller did at `moment` (time.monotonic):
        its first frame out is the caller's wait, for the metrics."""
        with self._lock:
            if self._asked is None:
                self._asked = moment

    def clear(self) -> None:
        """Drop unsent audio and send `clear`, atomically: no old frame can follow it."""
        with self._lock:
            self._generation += 1
            self._queue.clear()
            self._clock = None
            self._sent_ms = 0
            if self._stream_sid:
                self._send_json(wire.clear(self._stream_sid))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify()

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._queue

    def queued_ms(self) -> int:
        """Audio handed over and not yet sent (Twilio holds at most `lead_ms` more)."""
        with self._lock:
            return sum(len(frames_) for _, frames_, _ in self._queue) * FRAME_MS

    def _run(self) -> None:
        try:
            self._pace()
        except Exception as error:  # the socket went away under us: nothing more to send
            log.info("stream sender stopped: %s", error)
            with self._lock:
                self._closed = True

    def _pace(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._clock = None  # Twilio's buffer drains while we have nothing to send
                    self._sent_ms = 0
                    self._lock.wait()
                if self._closed:
                    return
                generation, chunk, mark = self._queue[0]
                if self._clock is None:
                    self._clock = time.monotonic()
                ahead = self._sent_ms - (time.monotonic() - self._clock) * 1000
                if ahead > self.lead_ms:
                    self._lock.wait(timeout=(ahead - self.lead_ms) / 1000)
                    continue
                if generation != self._generation or not self._stream_sid:
                    self._queue.pop(0)
                    continue
                if chunk:
                    frame = chunk.pop(0)
                    self._send_json(wire.media(self._stream_sid, frame))
                    self._sent_ms += FRAME_MS
                    if self._asked is not None:
                        metrics.first_audio(time.monotonic() - self._asked)
                        self._asked = None
                if not chunk:
                    self._queue.pop(0)
                    self._send_json(wire.mark(self._stream_sid, mark))


class TurnRenderer:
    """One call's audio maker: each turn's chunks are made in order, each handed to the sender
    as soon as it exists, and never more than AHEAD_SECONDS ahead of what has been sent (the
    voice is shared by every call). A clear ends a turn: the next one starts at once on its own
    thread, never behind a chunk of the old one still being made; a hang-up ends everything."""

    AHEAD_SECONDS = 12.0

    def __init__(self, speaker: Speaker, sender: Sender, call_label):
        self.speaker = speaker
        self.sender = sender
        self._label = call_label  # the call's id for log lines (known only after start)
        self._closed = threading.Event()
        self._current: tuple[threading.Thread, int] | None = None  # the last turn's thread, its generation

    def play(self, turn: list[tuple[Recipe, str]]) -> None:
        generation = self.sender.generation
        # a turn that follows another with no clear between plays after it: wait for its chunks
        before = self._current[0] if self._current is not None and self._current[1] == generation else None
        thread = threading.Thread(target=self._run, args=(generation, turn, before), name="tingwen-stream-render", daemon=True)
        self._current = (thread, generation)
        thread.start()

    def close(self) -> None:
        self._closed.set()

    def _run(self, generation: int, turn: list[tuple[Recipe, str]], before: threading.Thread | None) -> None:
        if before is not None:
            before.join()
        for index, (recipe, mark) in enumerate(turn):
            while index and self._wanted(generation) and self.sender.queued_ms() > self.AHEAD_SECONDS * 1000:
                self._closed.wait(0.1)  # far enough ahead: the cores go to other callers meanwhile
            if not self._wanted(generation):
                return  # cleared, or hung up: the rest of this turn is not wanted any more
            self.sender.play([(self._frames(recipe, first=index == 0), mark)], generation)

    def _wanted(self, generation: int) -> bool:
        return not self._closed.is_set() and self.sender.generation == generation

    def _frames(self, recipe: Recipe, first: bool) -> list[bytes]:
        try:
            return frames(read_ulaw_wav(self.speaker.render_recipe(recipe, AudioFormat.ULAW, first=first).path))
        except Exception:  # its mark still goes, so the turn ends and the menu goes on
            log.exception("call %s: could not render %r; skipped", self._label(), recipe.text[:40])
            return []
