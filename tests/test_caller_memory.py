"""The phone line remembers a caller (by the salted hash of their number): their pace and
loudness, and where they stopped; the next call offers 您上次听到《…》…，按1接着听 and goes on
from the sentence after the one that was playing. 忘记我 (or 7 when asked) forgets it all; a
withheld number is never remembered; it survives a restart and is shared by servers on one
PostgreSQL; staff see how many are remembered, never who."""

import dataclasses
import json

import pytest
from click.testing import CliRunner
from conftest import PhoneCall, live_app, phone_app
from twilio_stream import TwilioStream

from content.keys import IntentKind
from content.menu import Event, Forget, Intent, Menu, MenuState, Mode, Play, Resume, Say
from content.prompts import load_prompts
from content.store import NoticeStore
from ivr.caller_memory import CallerMemory
from ivr.callstore import CallStore
from speech.utterances import AudioFormat

PROMPTS = load_prompts()
CALLER = "+8613812345678"


# The menu: where a listener picks up, and the offer


def _reading_notice_with_parts(menu):
    """The first notice with several parts, read from its start."""
    for key, notice in enumerate(menu.notices[:7], 1):
        if len(menu.parts(notice)) > 2:
            state, _ = menu.start()
            state, _ = menu.step(state, Event.press(str(key)))
            state, _ = menu.step(state, Event.press("9"))
            assert state.mode is Mode.READING
            return state, notice
    raise AssertionError("no notice with parts in the corpus")


def test_a_listener_picks_up_at_the_sentence_after_the_one_playing(menu):
    state, notice = _reading_notice_with_parts(menu)
    parts = menu.parts(notice)
    seen = []
    while state.mode is Mode.READING:
        point = menu.resume_point(state)
        if state.sentence + 1 < len(parts[state.cursor].sentences):
            assert point == Resume(notice.id, state.cursor, state.sentence + 1)
        elif state.cursor + 1 < len(parts):
            assert point == Resume(notice.id, state.cursor + 1, 0)
        else:
            assert point is None  # the notice is over: nothing to go on with
        seen.append(point)
        state, _ = menu.step(state, Event.finished())
    assert len(seen) > 3


@pytest.mark.parametrize("how", ["top", "read_all", "forgotten"])
def test_nothing_to_pick_up_outside_a_chosen_notice(menu, how):
    state, _ = menu.start()
    if how == "read_all":
        state, _ = menu.step(state, Event.press("9"))
    if how == "forgotten":
        state, _ = _reading_notice_with_parts(menu)
        state = dataclasses.replace(state, forgotten=True)
    assert menu.resume_point(state) is None


def test_the_offer_names_the_notice_and_goes_on_there(menu):
    state, notice = _reading_notice_with_parts(menu)
    for _ in range(3):
        state, _ = menu.step(state, Event.finished())
    point = menu.resume_point(state)
    offered, actions = menu.start(resume=point, pace=-1, loudness=1)
    said = "".join(a.text for a in actions if isinstance(a, Say))
    assert offered.mode is Mode.RESUME and notice.spoken_title in said and "按1" in said
    assert (offered.pace, offered.loudness) == (-1, 1)
    going_on, actions = menu.step(offered, Event.press("1"))
    play = [a for a in actions if isinstance(a, Play)][0]
    assert (going_on.mode, going_on.notice_id, going_on.cursor, going_on.sentence) == (Mode.READING, notice.id, point.part, point.sentence)
    assert play.text == menu.parts(notice)[point.part].sentences[point.sentence]
    said_too, _ = menu.step(offered, Event.said(Intent(IntentKind.RESUME)))
    assert said_too == going_on
    for key in ("#", "*"):
        latest, _ = menu.step(offered, Event.press(key))
        assert latest.mode is Mode.TOP and latest.pace == -1


def test_seven_or_forget_me_forgets_and_the_call_keeps_nothing(menu):
    state, _ = _reading_notice_with_parts(menu)
    offered, _ = menu.start(resume=menu.resume_point(state), pace=2)
    for event in (Event.press("7"), Event.said(Intent(IntentKind.FORGET))):
        after, actions = menu.step(offered, event)
        assert any(isinstance(a, Forget) for a in actions) and PROMPTS.forgotten in [a.text for a in actions if isinstance(a, Say)]
        assert after.forgotten and (after.pace, after.loudness) == (0, 0) and after.mode is Mode.TOP
    reading, _ = _reading_notice_with_parts(menu)
    after, actions = menu.step(reading, Event.said(Intent(IntentKind.FORGET)))  # by voice at any moment
    assert after.forgotten and any(isinstance(a, Forget) for a in actions) and menu.resume_point(after) is None


@pytest.mark.parametrize("resume", [Resume(987654, 0, 0), Resume(1, 99, 0), Resume(1, 0, 999), None])
def test_a_place_that_no_longer_exists_is_not_offered(menu, resume):
    state, _ = menu.start(resume=resume)
    assert state.mode is Mode.TOP


def test_a_forged_offer_starts_the_menu_again(menu):
    state, _ = _reading_notice_with_parts(menu)
    offered, _ = menu.start(resume=menu.resume_point(state))
    forged = dataclasses.replace(offered, sentence=10_000)
    again, _ = menu.step(forged, Event.press("1"))
    assert again.mode is Mode.TOP


# The phone line, through its webhooks


def _app(data_dir, **settings):
    settings.setdefault("reading_batch", 1)  # one sentence a Gather: the sentence playing is the state's
    return phone_app(data_dir, **settings)


def _menu(app):
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        return Menu(store.latest())


def _listen_a_while(app, sid, caller=CALLER, sentences=3, slower=True):
    """A call that opens a notice with parts, asks for slower, hears a few sentences, hangs up.
    Returns the menu state it hung up in."""
    menu = _menu(app)
    key = next(str(k) for k, n in enumerate(menu.notices[:7], 1) if len(menu.parts(n)) > 2)
    call = PhoneCall(app, sid=sid, caller=caller).start()
    call.press(key).press("9")
    if slower:
        call.press("4")
    for _ in range(sentences):
        call.silence()  # the sentence finished, no key
    with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
        state = MenuState.from_json(calls.get(sid).state)
    call.post("/ivr/status", {"CallSid": sid, "From": caller, "CallStatus": "completed", "CallDuration": "60"})
    assert call.last.status_code == 204
    return state, menu


def test_the_next_call_offers_the_place_and_goes_on_at_the_sentence_after(tmp_path):
    app = _app(tmp_path / "data")
    hung_up_in, menu = _listen_a_while(app, "CA" + "1" * 32)
    expected = menu.resume_point(hung_up_in)
    notice = menu.by_id[expected.notice_id]
    again = PhoneCall(app, sid="CA" + "2" * 32, caller=CALLER).start()
    speaker = app.extensions["tingwen.speaker"]
    rate, gain = speaker.listener_voice(-1, 0)
    offer = menu.start(resume=expected, pace=-1)[1]
    offered_text = [a.text for a in offer if isinstance(a, Say)][-1]
    assert notice.spoken_title in offered_text
    slow_offer = {f"/ivr/audio/{c.name}" for c in speaker.plan(offered_text, AudioFormat.ULAW, rate=rate)}
    assert slow_offer <= {p.split("example.gov.cn", 1)[1] for p in again.plays}  # said at the caller's own pace
    again.press("1")
    sentence = menu.parts(notice)[expected.part].sentences[expected.sentence]
    heard = {p.split("example.gov.cn", 1)[1] for p in again.plays}
    assert {f"/ivr/audio/{c.name}" for c in speaker.plan(sentence, AudioFormat.ULAW, rate=rate)} <= heard


def test_a_batch_of_sentences_resumes_after_the_one_playing_when_the_caller_hung_up(tmp_path):
    app = phone_app(tmp_path / "data", reading_batch=8)
    menu = _menu(app)
    key = next(str(k) for k, n in enumerate(menu.notices[:7], 1) if len(menu.parts(n)) > 2)
    sid = "CA" + "3" * 32
    PhoneCall(app, sid=sid, caller=CALLER).start().press(key).press("9")
    first, _ = menu.step(menu.step(menu.start()[0], Event.press(key))[0], Event.press("9"))
    PhoneCall(app, sid=sid, caller=CALLER).post("/ivr/status", {"CallSid": sid, "From": CALLER, "CallStatus": "completed", "CallDuration": "9"})  # at once
    with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
        kept = CallerMemory(calls).recall(CALLER)
    assert kept.resume == menu.resume_point(first)  # the first sentence of the batch was playing


@pytest.mark.parametrize("withheld", ["anonymous", "+266696687", "", "Restricted"])
def test_a_withheld_number_is_never_remembered(tmp_path, withheld):
    app = _app(tmp_path / "data")
    _listen_a_while(app, "CA" + "4" * 32, caller=withheld)
    with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
        assert calls.remembered_callers() == 0
    again = PhoneCall(app, sid="CA" + "5" * 32, caller=withheld).start()
    assert again.twiml is not None and not any("上次听到" in t for t in again.twiml.xpath("//Say/text()"))
    assert _menu(app).start()[0].mode is Mode.TOP


def test_forget_me_on_a_later_call_forgets_it_all(tmp_path):
    app = _app(tmp_path / "data")
    _listen_a_while(app, "CA" + "6" * 32)
    call = PhoneCall(app, sid="CA" + "7" * 32, caller=CALLER).start().press("7")
    with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
        assert CallerMemory(calls).recall(CALLER) is None and calls.remembered_callers() == 0
    call.press("1").press("9").press("4")  # the rest of this call is not remembered either
    call.post("/ivr/status", {"CallSid": call.sid, "From": CALLER, "CallStatus": "completed", "CallDuration": "30"})
    with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
        assert CallerMemory(calls).recall(CALLER) is None


def test_memory_survives_a_restart_and_shows_as_a_count_for_staff(tmp_path):
    data = tmp_path / "data"
    _listen_a_while(_app(data), "CA" + "8" * 32)
    restarted = _app(data)  # a new server process on the same data folder
    again = PhoneCall(restarted, sid="CA" + "9" * 32, caller=CALLER).start()
    menu = _menu(restarted)
    with CallStore.open(restarted.config["TINGWEN_IVR"]) as calls:
        kept = CallerMemory(calls).recall(CALLER)
        assert kept.pace == -1 and calls.remembered_callers() == 1
        assert CALLER not in json.dumps(calls.conn.query("SELECT * FROM callers"))
    said = [a.text for a in menu.start(resume=kept.resume, pace=-1)[1] if isinstance(a, Say)]
    assert any("上次听到" in t for t in said) and again.last.status_code == 200
    from server import cli

    result = CliRunner().invoke(cli, ["--data-dir", str(data), "calls", "--json"])
    assert json.loads(result.output)["remembered_callers"] == 1


def test_memory_days_zero_remembers_nobody(tmp_path):
    app = _app(tmp_path / "data", caller_memory_days=0)
    _listen_a_while(app, "CA" + "a" * 32)
    with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
        assert calls.conn.query("SELECT count(*) AS n FROM callers")[0]["n"] == 0


def test_two_servers_on_one_postgresql_share_what_they_remember(tmp_path, postgres_server):
    url = postgres_server()
    first = _app(tmp_path / "a", database_url=url)
    second = _app(tmp_path / "b", database_url=url)
    hung_up_in, menu = _listen_a_while(first, "CA" + "b" * 32)
    with CallStore.open(second.config["TINGWEN_IVR"]) as calls:
        kept = CallerMemory(calls).recall(CALLER)
    assert kept is not None and kept.resume == menu.resume_point(hung_up_in) and kept.pace == -1
    call = PhoneCall(second, sid="CA" + "c" * 32, caller=CALLER).start()
    assert call.last.status_code == 200 and call.plays


def test_a_stream_call_is_remembered_and_offered_its_place(tmp_path):
    app = _app(tmp_path / "data", phone_mode="stream")
    app.config["TINGWEN_IVR"] = dataclasses.replace(app.config["TINGWEN_IVR"], stream_lead_ms=600_000)
    port, stop = live_app(app)
    menu = _menu(app)
    key = next(str(k) for k, n in enumerate(menu.notices[:7], 1) if len(menu.parts(n)) > 2)
    try:
        call = TwilioStream(app, port, sid="CA" + "d" * 30 + "01")
        call.phone.caller = CALLER
        call.answer().connect()
        call.wait_for(lambda ms: any(m["event"] == "mark" for m in ms))
        for n, pressed in enumerate((key, "9", "4"), 1):
            call.press(pressed)
            call.wait_for(lambda ms, n=n: sum(m["event"] == "clear" for m in ms) >= n)
        call.hang_up()
        with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
            kept = CallerMemory(calls).recall(CALLER)
            assert kept is not None and kept.pace == -1 and kept.resume is not None
        again = TwilioStream(app, port, sid="CA" + "d" * 30 + "02")
        again.phone.caller = CALLER
        again.answer().connect()
        offer = [a.text for a in menu.start(resume=kept.resume, pace=-1)[1] if isinstance(a, Say)]
        speaker = app.extensions["tingwen.speaker"]
        rate, gain = speaker.listener_voice(-1, 0)
        chunks = sum(1 for t in offer for _ in speaker.render_text(t, AudioFormat.ULAW, rate=rate))
        again.wait_for(lambda ms: sum(m["event"] == "mark" for m in ms) >= chunks)  # the offer, at the caller's pace
        again.close()
    finally:
        stop()
