"""The streaming phone line: Twilio Media Streams over a WebSocket.

With plain webhooks Twilio hears the caller, not us. Here the call's audio comes to our own
offline recogniser, and we send our audio ourselves, paced a second ahead at most, with a mark
after each chunk so we always know what the caller has heard. A turn starts to play as soon as
its first chunk exists: the call's renderer makes the chunks in order (the first before anyone
else's waiting chunks) and hands each to the sender as it is made, while the ones before it play.
A `*`, a recognised 取消/停止, or any recognised command while we speak sends `clear` at once,
stops our audio (no stale frame follows the clear) and drops what was still to be made. The menu,
call state, call log and limits are the webhook mode's.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from content.menu import End, Event, Listen, Menu, MenuState, Mode, Play, Say, Stop
from ivr import twilio_wire as wire
from ivr.callstore import CallEvent, CallStore, turn_events
from ivr.numbers import dialable
from ivr import caller_memory
from ivr.caller_memory import CallerMemory
from ivr.subscribers import carry_out, is_subscribed
from ivr.settings import IvrSettings
from speech.audio import frames, read_ulaw_wav
from speech.speaker import Speaker
from speech.utterances import AudioFormat, Recipe

log = logging.getLogger(__name__)

FRAME_MS = 20
POLL_SECONDS = 0.01


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


class StreamCall:
    """One call's WebSocket: inbound events drive the menu; the menu's actions become audio."""

    def __init__(self, ws, settings: IvrSettings, menu: Menu, speaker: Speaker, calls: CallStore, speech_model=None, pool=None,
                 subscriptions=None):
        self.ws = ws
        self.settings = settings
        self.menu = menu
        self.speaker = speaker
        self.calls = calls
        self.speech_model = speech_model
        self.pool = pool
        self.subscriptions = subscriptions  # opens the daily bulletin's list (key 8), or None
        self.caller: str | None = None
        self._send_lock = threading.Lock()
        self.sender = Sender(self._send_json, settings.stream_lead_ms)
        self.renderer = TurnRenderer(speaker, self.sender, lambda: self.call_sid)
        self.events: queue.Queue[tuple[str, object]] = queue.Queue()
        self.stream_sid: str | None = None
        self.call_sid: str | None = None
        self.state: MenuState | None = None
        self.words: dict[str, object] = {}
        self.marks_pending: set[str] = set()
        self.turn = 0
        self.silence_deadline: float | None = None
        self.ending = False
        self.session = None
        self.started = time.monotonic()

    # Sending

    def _send_json(self, message: dict) -> None:
        with self._send_lock:
            self.ws.send(wire.encode(message))

    # The loop

    def run(self) -> None:
        try:
            while True:
                self._drain_internal()
                if self.ending and not self.marks_pending:
                    break
                if self.silence_deadline and time.monotonic() >= self.silence_deadline:
                    self.silence_deadline = None
                    self._step(Event.timeout())
                message = self.ws.receive(timeout=POLL_SECONDS)
                if message is None:
                    continue
                if not self._handle(message):
                    break
        except Exception as error:  # the socket dropped, or worse: close the record, never crash
            if type(error).__name__ != "ConnectionClosed":
                log.exception("stream for call %s failed", self.call_sid)
            self._close_record("dropped")
        finally:
            self.renderer.close()
            self.sender.close()
            if self.ending:
                self._close_record("completed")

    def _handle(self, message) -> bool:
        """One message from Twilio; a malformed one (not JSON, fields of the wrong shape) is
        logged and ignored, never the end of the call."""
        try:
            data = wire.stream_message(message)
            return self._dispatch(data["event"], data)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            log.warning("call %s: malformed message ignored: %.80r", self.call_sid, message)
            return True

    def _dispatch(self, kind: str, data: dict) -> bool:
        if kind == "connected":
            return True
        if kind == "start":
            return self._on_start(data)
        if self.stream_sid is None or wire.stream_sid(data) != self.stream_sid:
            log.warning("call %s: %s for an unknown stream ignored", self.call_sid, kind)
            return True
        if kind == "media":
            self._on_media(data)
        elif kind == "dtmf":
            self._step(Event.press(wire.dtmf_digit(data)))
        elif kind == "mark":
            name = wire.mark_name(data)
            if name in self.marks_pending:  # marks of audio cleared away may still come back
                self.marks_pending.discard(name)
                if not self.marks_pending:
                    self._playback_finished()
        elif kind == "stop":
            self._close_record("completed")
            return False
        else:
            log.info("call %s: unknown event %r ignored", self.call_sid, kind)
        return True

    def _on_start(self, data: dict) -> bool:
        start = wire.StreamStart.read(data)
        call_sid, parameters = start.call_sid, start.parameters
        token = parameters.get(wire.STREAM_TOKEN, "")
        if not call_sid or not self.calls.take_stream_token(call_sid, token):
            log.warning("stream refused: wrong or reused token for call %r", call_sid)
            self.ws.close(reason=1008, message="bad token")
            return False
        self.call_sid = call_sid
        self.stream_sid = start.stream_sid
        self.sender.start(self.stream_sid)
        self.caller = dialable(parameters.get(wire.STREAM_CALLER, ""))
        notices = wire.bulletin_notices(parameters)
        if notices is not None:  # our daily bulletin call: it starts by reading the news
            self.state, actions = self.menu.start_bulletin(notices)
        else:
            self.state, actions = self.menu.start(subscribed=is_subscribed(self.caller, self.subscriptions), **self._remembered())
        self._open_recognizer(actions)
        self._perform(actions)
        self.calls.save(call_sid, self.state.to_json(), [CallEvent("stream", detail={"stream": self.stream_sid})])
        return True

    def _remembered(self) -> dict:
        """The caller's own pace and loudness, and where they stopped, if they are remembered."""
        try:
            kept = CallerMemory(self.calls).recall(self.caller)
        except Exception as error:  # the caller hears the menu as a new caller would
            log.error("call %s: could not read what is remembered of the caller: %s", self.call_sid, error)
            return {}
        return {"pace": kept.pace, "loudness": kept.loudness, "resume": kept.resume} if kept else {}

    def _open_recognizer(self, actions) -> None:
        if self.speech_model is None:
            return
        from speech.audio_in import PHONE
        from speech.recognizer import Session, VocabularyError

        listen = next((a for a in actions if isinstance(a, Listen)), None)
        try:
            self.session = Session(self.speech_model, PHONE, listen.words if listen else ())
        except VocabularyError as error:
            log.error("call %s: speech off for this call: %s", self.call_sid, error)
            self.session = None

    def _on_media(self, data: dict) -> None:
        if self.session is None:
            return
        try:
            payload = wire.media_payload(data)
        except ValueError:
            return
        if self.pool is not None:
            future = self.pool.feed(self.session, payload)
            future.add_done_callback(lambda f: self.events.put(("heard", f)))
        else:
            try:
                heard = self.session.feed(payload)
            except Exception as error:  # the recogniser, not the call, failed: keys still work
                log.error("call %s: the recogniser failed: %s", self.call_sid, error, exc_info=error)
                return
            if heard:
                self._on_heard(heard)

    def _drain_internal(self) -> None:
        while True:
            try:
                kind, value = self.events.get_nowait()
            except queue.Empty:
                return
            if kind != "heard":
                continue
            if value.exception() is not None:
                error = value.exception()
                log.error("call %s: the recogniser failed: %s", self.call_sid, error, exc_info=error)
            elif value.result():
                self._on_heard(value.result())

    def _on_heard(self, heard) -> None:
        log.info("call %s heard %r (phrase %r, confidence %.2f)", self.call_sid, heard.text, heard.phrase, heard.confidence)
        intent = self.words.get(heard.phrase) if heard.phrase else None
        playing = bool(self.marks_pending) or not self.sender.idle
        if intent is None and heard.text and self.call_sid:  # for staff: what callers say that we miss
            self.calls.save(self.call_sid, self.state.to_json(), [CallEvent("unclear", detail={"heard": heard.text[:40]})])
        if intent is not None and heard.sure(self.settings.speech_threshold):
            self._step(Event.said(intent))
        elif intent is not None and heard.confirm and heard.confidence >= self.settings.speech_threshold:
            self._step(Event.check(intent))  # 四/十: the menu asks "您说的是第四项吗？"
        elif not playing:
            self._step(Event.unclear())  # noise while we speak does not cut the audio

    def _playback_finished(self) -> None:
        if self.ending or self.state is None:
            return
        if self.state.mode in (Mode.READING, Mode.READ_ALL):
            self._step(Event.finished())
        else:
            self.silence_deadline = time.monotonic() + self.settings.gather_timeout

    # The menu

    def _step(self, event: Event) -> None:
        if self.state is None or self.ending:
            return
        self.silence_deadline = None
        before = self.state
        if time.monotonic() - self.started > self.settings.max_call_minutes * 60:
            self.state = MenuState(mode=Mode.ENDED, greeted=True, pace=before.pace, loudness=before.loudness)
            actions = [Stop(), Say(self.menu.goodbye(before), interruptible=False), End("call too long")]
            log_events = [CallEvent("limit", detail={"minutes": self.settings.max_call_minutes})]
        else:
            self.state, actions = self.menu.step(before, event)
            log_events = turn_events(self.menu, before, event, self.state, actions)
            self.state, actions = carry_out(self.state, actions, self.caller, self.subscriptions)
            actions = caller_memory.carry_out(actions, self.caller, CallerMemory(self.calls))
        self._perform(actions)
        self.calls.save(self.call_sid, self.state.to_json(), log_events)

    def _perform(self, actions) -> None:
        recipes: list[Recipe] = []
        for action in actions:
            if isinstance(action, Stop):
                self.sender.clear()
                self.marks_pending.clear()
                if self.session is not None:
                    self.session.reset()  # nothing heard before the barge-in leaks into the next utterance
            elif isinstance(action, (Say, Play)):
                recipes += self._recipes(action.text)
            elif isinstance(action, Listen):
                self.words = {w: c.intent for c in action.choices for w in c.words}
                if self.session is not None:
                    self._update_grammar(list(self.words))
            elif isinstance(action, End):
                self.ending = True
        if recipes:
            self.turn += 1
            named = [(r, f"t{self.turn}-{i}") for i, r in enumerate(recipes)]
            self.marks_pending = {name for _, name in named}
            self.renderer.play(named)
        elif not self.ending:
            self._playback_finished()

    def _update_grammar(self, phrases: list[str]) -> None:
        from speech.recognizer import VocabularyError

        try:
            self.session.set_phrases(phrases)
        except VocabularyError as error:
            log.error("call %s: speech off for this call: %s", self.call_sid, error)
            self.session = None

    def _recipes(self, text: str) -> list[Recipe]:
        """What the text's chunks are made from, at once (nothing is synthesised here), at the
        caller's own pace and loudness."""
        try:
            rate, gain = self.speaker.listener_voice(self.state.pace, self.state.loudness)
            return self.speaker.recipes(text, rate, gain=gain)
        except Exception:
            log.exception("call %s: could not prepare %r; skipped", self.call_sid, text[:40])
            return []

    def _close_record(self, status: str) -> None:
        if self.call_sid:
            seconds = int(time.monotonic() - self.started)
            self.calls.finish(self.call_sid, status, seconds)
            self._remember_caller()
            self.call_sid = None

    def _remember_caller(self) -> None:
        """The caller's pace and loudness, and the sentence after the one playing as they hung
        up (the state moves on only when a sentence has been heard), for their next call."""
        if self.state is None or self.caller is None:
            return
        try:
            CallerMemory(self.calls).keep(self.caller, self.state, self.menu.resume_point(self.state))
        except Exception as error:
            log.error("call %s: could not remember the caller: %s", self.call_sid, error)

