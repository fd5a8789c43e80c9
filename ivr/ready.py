"""The phone line made ready in a server's worker before its first call.

A worker that has just started would otherwise do, in its first callers' webhooks, what it does
only once: build the phone's menu, open the call log's connections as webhooks meet, close the
calls dropped without a status callback, and build (and serialise) the answer to each turn a
caller reaches: the greeting, each key, a notice's parts read on. Done here, a restart or a
deploy costs no caller a slow turn. No call is made up for it: the answers are built as
respond() builds them, and kept only in the worker.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator

from flask import Flask, g

from content.keys import ALL_KEYS
from content.menu import End, Event, Listen, Menu, MenuState, Mode, Play, Say, Stop
from content.store import NoticeStore
from ivr.callstore import CallStore
from ivr.reading import extend_reading
from ivr.views import answer_key, phone_menu, phone_settings, respond

log = logging.getLogger(__name__)

PREPARED_TURNS = 5000  # turns a worker walks before its first call: about 0.6 s, and 1-2 s to build their 700-odd answers

_PLAIN = (Say, Play, Listen, Stop, End)  # what a turn says and does itself; the rest only a call carries out (ivr/delegated.py)


def prepare_line(app: Flask, connections: int) -> int:
    """Make the phone line of `app` ready: `connections` connections to the call log opened at
    once (each kept for a request), the log's tidy-up done, the menu built, and the answers to
    the turns callers reach first (reachable_turns) kept, those whose audio is made: nothing
    is queued for rendering here (workers starting together would put it ahead of their first
    callers). Returns how many answers it kept. What cannot be done now (a full disk, a store
    that cannot be read) is logged and left to the first calls, which meet it with their own
    spoken apology: a worker that cannot prepare still serves."""
    answers = app.extensions["tingwen.phone_answers"]
    before = len(answers)
    with app.test_request_context():
        settings = phone_settings()
        try:
            stores = [CallStore.open(settings) for _ in range(max(1, connections))]
            try:
                stores[0].tidy()
            finally:
                for store in stores:
                    store.close()
        except Exception as error:
            log.warning("the call log could not be made ready (%s: %s); the first calls open it", type(error).__name__, error)
        try:
            with NoticeStore(app.config["TINGWEN_DB"]) as notices:
                menu = phone_menu(notices)
            g.tingwen_names_only = True  # an answer whose audio is not made yet is left to prerendering
            built = set()
            for state, actions in reachable_turns(menu, settings.reading_batch):
                key = answer_key(state, actions)
                if key in built:  # many turns are answered alike (the same menu said again)
                    continue
                built.add(key)
                respond(menu, state, actions)
                if len(built) == 1 and key not in answers:  # the greeting's audio, which prerendering makes first, is not there: nor is the rest
                    break
        except Exception as error:
            log.warning("the phone answers could not be made ready (%s: %s); the calls build them", type(error).__name__, error)
    return len(answers) - before


def reachable_turns(menu: Menu, reading_batch: int, most: int = PREPARED_TURNS) -> Iterator[tuple[MenuState, list]]:
    """The turns a caller can reach from the greeting, those with fewer keys pressed first, up
    to `most`: what each key says, and listening on (silence on a menu, the next sentences
    while reading, which costs no key), each reading turn extended as a webhook extends it; a
    key while sentences play acts on any of them. Turns that only a call can carry out (a
    transfer, a text message, the bulletin), a call's end, and turns at another pace or
    loudness (whose audio prerendering does not make) are left to the call. Each turn is walked
    when it is asked for: prepare_line, stopping after the greeting, walks no further."""
    state, actions = menu.start()
    usual = (state.pace, state.loudness)
    yield state, actions
    walked = 1
    seen = {state}
    waiting = deque([state])  # by keys pressed to get there: listening on goes to the front
    while waiting and walked < most:
        state = waiting.popleft()
        listened = Event.finished() if state.is_reading else Event.timeout()
        for event in [listened, *(Event.press(key) for key in ALL_KEYS)]:
            after, said = menu.step(state, event)
            if after.mode is Mode.ENDED or (after.pace, after.loudness) != usual or not all(isinstance(action, _PLAIN) for action in said):
                continue
            after, said, steps, _ = extend_reading(menu, after, said, reading_batch)
            yield after, said
            walked += 1
            for reached in [step.state for step in steps] or [after]:
                if reached not in seen:
                    seen.add(reached)
                    (waiting.appendleft if event is listened else waiting.append)(reached)
            if walked >= most:
                break
