"""A server's worker makes its phone line ready before its first request (ivr/ready.py): the
answers to the turns callers reach (the greeting, each key, a notice's parts read on) are built
and kept, the call log's connections are open, its tidy-up is done; and the preparation stores
nothing of its own (no call is made up)."""

import sqlite3
from pathlib import Path
from urllib.parse import urlparse

from conftest import PHONE_TOKEN, PUBLIC_URL, PhoneCall, calls_of

from config import Config
from content import connections
from content.database import READY_IN_SERVERS
from content.keys import ALL_KEYS
from content.menu import End, Event, Listen, Mode, Play, Say, Stop, menu_for
from ivr import callstore
from ivr import twilio_wire as wire
from ivr.reading import extend_reading
from ivr.ready import reachable_turns


def _config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", voice="espeak", prerender=False, twilio_auth_token=PHONE_TOKEN, public_url=PUBLIC_URL)


def test_the_first_caller_of_a_new_worker_hears_a_greeting_it_built_before(tmp_path, monkeypatch):
    from server import serving_app

    config = _config(tmp_path)
    first = serving_app(config)
    greeted = PhoneCall(first, sid=f"CA{1:032d}").start()
    _make_audio(first, greeted)  # as prerendering does

    worker = serving_app(config)  # another worker starts, with the audio there
    built = calls_of(monkeypatch, wire, "build")
    call = PhoneCall(worker, sid=f"CA{2:032d}").start()
    assert call.last.status_code == 200
    assert built == [], "the first caller's greeting was built in their own webhook"
    assert call.plays == greeted.plays


# A caller goes a few keys deep and listens on: a notice, one of its parts, its sentences.
DEEPER = [("press", "2"), ("press", "1"), ("silence",), ("silence",), ("press", "#"), ("silence",)]


def test_a_new_worker_has_built_the_answers_of_a_call_that_goes_deeper(tmp_path, monkeypatch):
    from server import serving_app

    config = _config(tmp_path)
    first = serving_app(config)
    heard = PhoneCall(first, sid=f"CA{5:032d}").start()
    _make_audio(first, heard)
    said = []
    for step, *key in DEEPER:
        getattr(heard, step)(*key)
        _make_audio(first, heard)
        said.append(heard.last.data)
    assert len({*said}) >= 4, "the walk reads on through different sentences"

    worker = serving_app(config)
    built = calls_of(monkeypatch, wire, "build")
    call = PhoneCall(worker, sid=f"CA{6:032d}").start()
    for (step, *key), before in zip(DEEPER, said):
        getattr(call, step)(*key)
        assert call.last.data.replace(b"CA" + b"6".rjust(32, b"0"), b"") == before.replace(b"CA" + b"5".rjust(32, b"0"), b"")
    assert built == [], "a turn a few keys deep was built in the caller's own webhook"


def _make_audio(app, call: PhoneCall) -> None:
    """Every chunk the call's last answer plays made, as prerendering makes it."""
    for url in call.plays:
        assert app.test_client().get(urlparse(url).path).status_code == 200, url


def test_a_new_worker_has_the_call_logs_connections_open_and_stored_no_call(tmp_path, monkeypatch):
    """...and, with no audio made yet, it queued none: its answers are left to prerendering and
    to its callers, whose first sentences go first."""
    from server import serving_app
    from speech.speaker import Speaker

    from ivr import ready

    queued = calls_of(monkeypatch, Speaker, "_render_ahead")
    answered = calls_of(monkeypatch, ready, "respond")
    config = _config(tmp_path)
    worker = serving_app(config)
    assert queued == []
    assert len(answered) == 1, "without the greeting's audio the walk stops there: nothing deeper is made either"
    assert len(worker.extensions["tingwen.phone_answers"]) == 0  # none kept without its audio
    kept = connections._idle.get(Path(config.ivr.calls_db), [])
    assert len(kept) >= READY_IN_SERVERS  # webhooks that meet each find one open
    with sqlite3.connect(config.ivr.calls_db) as db:  # preparing made up no call
        assert db.execute("SELECT count(*) FROM calls").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM call_events").fetchone() == (0,)
    PhoneCall(worker, sid=f"CA{4:032d}").start()
    assert queued, "the first caller's greeting is queued as a webhook queues it"


def test_a_new_worker_closes_calls_dropped_without_a_status_callback(tmp_path, monkeypatch):
    from server import serving_app

    config = _config(tmp_path)
    calls_db = Path(config.ivr.calls_db)
    calls_db.parent.mkdir(parents=True)
    store = callstore.CallStore(calls_db)
    store.begin("CA" + "d" * 32, "+8613800000000", "{}")
    with store.conn.writing("calls"):
        store.conn.execute("UPDATE calls SET updated_at = '2020-01-01T00:00:00.000+00:00'")  # no webhook for years
    store.close()
    monkeypatch.setattr(callstore, "_last_expiry", None)  # this test process has not tidied up yet

    serving_app(config)
    with sqlite3.connect(calls_db) as db:
        assert db.execute("SELECT status FROM calls").fetchall() == [("expired",)]


def test_the_turns_walked_are_the_greetings_first_then_deeper_and_none_only_a_call_does(loaded_store):
    settings = Config(data_dir=Path("/nonexistent"), operator_number="+8610012345", bulletin_from="+8610000000", sms_from="+8610000000")
    menu = menu_for(loaded_store, settings.phone_menu)
    greeting = menu.start()
    only_a_call = [key for key in ALL_KEYS if not _plain(menu.step(greeting[0], Event.press(key))[1])]
    assert only_a_call, "the menu offers a person and the bulletin from the greeting"

    turns = list(reachable_turns(menu, reading_batch=4, most=2000))
    assert turns[0] == greeting
    assert len(turns) == 2000
    assert all(_plain(actions) for _, actions in turns)
    assert all(state.mode is not Mode.ENDED for state, _ in turns)
    assert {(state.pace, state.loudness) for state, _ in turns} == {(greeting[0].pace, greeting[0].loudness)}
    shapes = [wire.answer_shape(actions) for _, actions in turns]
    for key in ALL_KEYS:  # each key's answer from the greeting is among the first turns walked
        if key not in only_a_call:
            after, said = menu.step(greeting[0], Event.press(key))
            after, said, _, _ = extend_reading(menu, after, said, 4)
            assert wire.answer_shape(said) in shapes[:200], key
    reading = [actions for state, actions in turns if state.mode is Mode.READING and sum(isinstance(a, Play) for a in actions) > 1]
    assert reading, "a turn that reads is answered with its sentences extended, as a webhook does"

    notice = menu.step(greeting[0], Event.press("1"))[0]
    part, said = menu.step(notice, Event.press("1"))
    part, said, steps, _ = extend_reading(menu, part, said, 4)
    read_on = extend_reading(menu, *menu.step(part, Event.finished()), 4)[1]
    assert wire.answer_shape(said) in shapes and wire.answer_shape(read_on) in shapes, "a notice's part, and reading on"
    assert len(list(reachable_turns(menu, reading_batch=4, most=50))) == 50


def _plain(actions) -> bool:
    return all(isinstance(action, (Say, Play, Listen, Stop, End)) for action in actions)


def test_a_worker_that_cannot_prepare_still_serves(tmp_path, monkeypatch, caplog):
    """The preparation saves the first callers time; a full disk or a failing store at start
    is said in the log, and the worker still starts and answers (its callers meet the fault
    themselves, with the line's spoken apology)."""
    from server import serving_app

    def full(self):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(callstore.CallStore, "tidy", full)
    monkeypatch.setattr("ivr.ready.reachable_turns", lambda menu, batch: 1 / 0)
    app = serving_app(_config(tmp_path))
    said = [r.getMessage() for r in caplog.records]
    assert any("call log could not be made ready" in m and "disk is full" in m for m in said), said
    assert any("phone answers could not be made ready" in m for m in said), said
    assert PhoneCall(app, sid=f"CA{3:032d}").start().last.status_code == 200
