"""The phone line made ready in a server's worker before its first call.

A worker that has just started would otherwise do, in its first callers' webhooks, what it does
only once: build the phone's menu, open the call log's connections as webhooks meet, close the
calls dropped without a status callback, and build (and serialise) the answers every call hears
first. Done here, a restart or a deploy costs no caller a slow first turn. No call is made up
for it: the answers are built as respond() builds them, and kept only in the worker.
"""

from __future__ import annotations

import logging

from flask import Flask, g

from content.keys import ALL_KEYS
from content.menu import End, Event, Listen, Menu, MenuState, Play, Say, Stop
from content.store import NoticeStore
from ivr.callstore import CallStore
from ivr.reading import extend_reading
from ivr.views import phone_menu, phone_settings, respond

log = logging.getLogger(__name__)

_PLAIN = (Say, Play, Listen, Stop, End)  # what a turn says and does itself; the rest only a call carries out (ivr/delegated.py)


def prepare_line(app: Flask, connections: int) -> int:
    """Make the phone line of `app` ready: `connections` connections to the call log opened at
    once (each kept for a request), the log's tidy-up done, the menu built and the answers to
    the greeting and to each first key kept, those whose audio is made: nothing is queued for
    rendering here (workers starting together would put it ahead of their first callers).
    Returns how many answers it kept. What cannot be done now (a full disk, a store that cannot
    be read) is logged and left to the first calls, which meet it with their own spoken
    apology: a worker that cannot prepare still serves."""
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
            turns = first_turns(menu, settings.reading_batch)
            g.tingwen_names_only = True  # an answer whose audio is not made yet is left to prerendering
            for state, actions in turns:
                respond(menu, state, actions)
        except Exception as error:
            log.warning("the first answers could not be made ready (%s: %s); the first calls build them", type(error).__name__, error)
    return len(answers) - before


def first_turns(menu: Menu, reading_batch: int) -> list[tuple[MenuState, list]]:
    """The greeting a new caller hears, and what each key pressed after it says (its sentences
    extended as a webhook extends them); turns that only a call can carry out (a transfer, a
    text message, the bulletin) are left to the call."""
    state, actions = menu.start()
    turns = [(state, actions)]
    for key in ALL_KEYS:
        after, said = menu.step(state, Event.press(key))
        if all(isinstance(action, _PLAIN) for action in said):
            after, said, _, _ = extend_reading(menu, after, said, reading_batch)
            turns.append((after, said))
    return turns
