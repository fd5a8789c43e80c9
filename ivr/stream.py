"""The streaming phone line: Twilio Media Streams over a WebSocket.

With plain webhooks Twilio hears the caller, not us. Here the call's audio comes to our own
offline recogniser, and we send our audio ourselves, paced a second ahead at most, with a mark
after each chunk so we always know what the caller has heard. A turn starts to play as soon as
its first chunk exists: the call's renderer makes the chunks in order (the first before anyone
else's waiting chunks) and hands each to the sender as it is made, while the ones before it play.
A `*`, a recognised 取消/停止, or any recognised command while we speak sends `clear` at once,
stops our audio (no stale frame follows the clear) and drops what was still to be made. The menu,
call state, call log and limits are the webhook mode's; the outgoing audio is ivr/stream_audio.py's.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from monitoring import logs, metrics
from content.keys import IntentKind, key_of
from content.menu import End, Event, Listen, Menu, MenuState, Mode, Play, Say, Stop
from ivr import twilio_wire as wire
from ivr.callstore import CallEvent, CallStore, turn_events
from ivr.numbers import dialable
from ivr import delegated, operator
from ivr.caller_memory import CallerMemory
from ivr.subscribers import is_subscribed
from ivr.settings import IvrSettings
from ivr.stream_audio import Sender, TurnRenderer
from ivr.views import phone_audio_urls
from speech.normalize import normalize
from speech.speaker import Speaker
from speech.utterances import Recipe

log = logging.getLogger(__name__)

POLL_SECONDS = 0.01


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
        self.handed_over = False  # moved to the hall's staff: the call goes on without this stream
        self.connected = False  # counted among the streams connected now
        self.event_at = time.monotonic()  # when the caller last did something (for time to first audio)
        self.cancel_at: float | None = None  # when a cancel came (for * → clear)
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
            if self.connected:
                metrics.stream_connected(-1)

    def _handle(self, message) -> bool:
        """One message from Twilio; a malformed one (not JSON, fields of the wrong shape) is
        logged and ignored, never the end of the call."""
        try:
            data = wire.stream_message(message)
            if data["event"] in ("start", "dtmf"):
                self.event_at = time.monotonic()
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
            digit = wire.dtmf_digit(data)
            if digit == key_of(IntentKind.CANCEL):
                self.cancel_at = time.monotonic()
            self._step(Event.press(digit))
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
        logs.set_call(call_sid)  # this thread serves the call to its end: its log lines carry its id
        self.connected = True
        metrics.stream_connected(+1)
        self.stream_sid = start.stream_sid
        self.sender.start(self.stream_sid)
        self.caller = dialable(parameters.get(wire.STREAM_CALLER, ""))
        notices = wire.bulletin_notices(parameters)
        if notices is not None:  # our daily bulletin call: it starts by reading the news
            self.state, actions = self.menu.start_bulletin(notices)
        elif wire.returned_from_staff(parameters):  # nobody answered the staff phone: where the caller was
            self.state, actions = self.menu.after_transfer(self._stored_state(call_sid), answered=False)
        else:
            self.state, actions = self.menu.start(subscribed=is_subscribed(self.caller, self.subscriptions), **self._remembered())
        self._open_recognizer(actions)
        self._perform(actions)
        self.calls.save(call_sid, self.state.to_json(), [CallEvent("stream", detail={"stream": self.stream_sid})])
        return True

    def _stored_state(self, call_sid: str) -> MenuState:
        call = self.calls.get(call_sid)
        try:
            return MenuState.from_json(call.state) if call is not None else self.menu.start()[0]
        except (ValueError, TypeError, KeyError):
            log.warning("call %s: unreadable stored state; the menu starts again", call_sid)
            return self.menu.start()[0]

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
        self.event_at = time.monotonic()
        if intent is None and heard.text and self.call_sid:  # for staff: what callers say that we miss
            metrics.recognised("off_menu")
            self.calls.save(self.call_sid, self.state.to_json(), [CallEvent("unclear", detail={"heard": heard.text[:40]})])
        if intent is not None and heard.sure(self.settings.speech_threshold):
            metrics.recognised("understood")
            if intent.kind is IntentKind.CANCEL:
                self.cancel_at = self.event_at
            self._step(Event.said(intent))
        elif intent is not None and heard.confirm and heard.confidence >= self.settings.speech_threshold:
            metrics.recognised("confirmed")
            self._step(Event.check(intent))  # 四/十: the menu asks "您说的是第四项吗？"
        elif not playing:
            if intent is not None or not heard.text:
                metrics.recognised("unclear")
            self._step(Event.unclear())  # noise while we speak does not cut the audio

    def _playback_finished(self) -> None:
        if self.ending or self.handed_over or self.state is None:
            return
        if self.state.is_reading:
            self._step(Event.finished())
        else:
            self.silence_deadline = time.monotonic() + self.settings.gather_timeout

    # The menu

    def _step(self, event: Event) -> None:
        if self.state is None or self.ending or self.handed_over:
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
            carried = delegated.carry_out(self.state, actions, self.caller, self.settings, self.calls, self.subscriptions)
            self.state, actions = carried.state, carried.actions
            log_events += carried.events
            if carried.dial is not None and self._hand_over(actions, carried.dial):
                actions = [Stop()]  # the stream ends as the call moves
            elif carried.dial is not None:  # the caller hears the apology and stays where they were
                self.state, actions = self.menu.after_transfer(self.state, answered=False)
                actions = [Stop(), *actions]
                log_events = [e for e in log_events if e.kind != "transfer"] + [operator.transfer_event(operator.UNREACHABLE)]
        self._perform(actions)
        self.calls.save(self.call_sid, self.state.to_json(), log_events)

    def _hand_over(self, actions: list, dial: wire.Dial) -> bool:
        """Move the call to the <Dial> that puts it through to the hall's staff (Twilio's REST
        API), with what is said first (正在为您转接); the stream then ends, and the call comes
        back to a new one if nobody answers. False if the call cannot be moved."""
        connecting = [a for a in actions if isinstance(a, Say)]
        try:
            operator.move_to_staff(self.settings, self.call_sid, wire.build(connecting, self._audio_urls, normalize, dial.action_url, 1, dial))
        except Exception as error:
            log.error("call %s: could not be put through to the hall's staff: %s", self.call_sid, error)
            return False
        self.handed_over = True
        return True

    def _audio_urls(self, text: str) -> list[str] | None:
        voice = self.speaker.listener_voice(self.state.pace, self.state.loudness)
        return phone_audio_urls(self.speaker, self.settings, text, voice, first=True)

    def _perform(self, actions) -> None:
        recipes: list[Recipe] = []
        for action in actions:
            if isinstance(action, Stop):
                self.sender.clear()
                self.marks_pending.clear()
                if self.cancel_at is not None:
                    metrics.cancel_cleared(time.monotonic() - self.cancel_at)
                    self.cancel_at = None
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
            self.sender.asked(self.event_at)  # its first frame tells how long the caller waited
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
        if self.call_sid and not self.handed_over:  # a call with the staff is closed by its webhooks
            metrics.call_finished("stream", status)
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

