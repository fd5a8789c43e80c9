"""A caller reaches a person: key 7 on the phone's latest notices (or saying 人工 at any moment)
puts them through to the hall's staff number in office hours, with a <Dial> whose action brings
the call back (goodbye after a conversation; an apology and the same place when nobody
answered); outside office hours they hear the hours. A streaming call is moved to the <Dial>
through Twilio's REST API (the local stand-in, driven by the real `twilio` client) and comes
back to a new stream. Requests are counted for staff."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
from click.testing import CliRunner
from conftest import PUBLIC_URL, PhoneCall, audio_urls, live_app, phone_app
from twilio_stream import TwilioStream

from content.keys import IntentKind
from content.menu import Event, Intent, Menu, MenuState, Mode, Play, Say, Stop, Transfer, End, menu_for
from content.office_hours import DAY_NAMES, OfficeHours
from content.prompts import load_prompts
from content.store import NoticeStore
from ivr.callstore import CallStore
from twilio_rest_fake import ACCOUNT_SID

PROMPTS = load_prompts()
STAFF = "+864716600000"
ALWAYS = "Mon-Sun 00:00-24:00"
WEEKDAYS = OfficeHours.parse("Mon-Fri 09:00-12:00,13:30-17:00")


def _not_today(zone: str = "Asia/Shanghai") -> str:
    """Office hours on a day that is not today in the hall's zone (the day after tomorrow)."""
    from zoneinfo import ZoneInfo

    day = (datetime.now(ZoneInfo(zone)).weekday() + 2) % 7
    return f"{DAY_NAMES[day].title()} 00:00-24:00"


# Office hours: when, and how they are said


@pytest.mark.parametrize(
    "written, spoken",
    [
        ("Mon-Fri 09:00-12:00,13:30-17:00", "周一至周五，上午九点到中午十二点，下午一点半到五点"),
        ("Mon-Fri 8:30-12:00, 14:30-17:30; Sat 09:00-12:00", "周一至周五，上午八点半到中午十二点，下午两点半到五点半；周六，上午九点到中午十二点"),
        ("Mon,Wed 09:05-11:45", "周一、周三，上午九点零五分到十一点四十五分"),
        ("Sat-Sun 10:00-16:00", "周六、周日，上午十点到下午四点"),
        ("Fri-Mon 19:00-24:00", "周一、周五、周六、周日，晚上七点到晚上十二点"),
        (ALWAYS, "周一至周日，全天"),
    ],
)
def test_office_hours_are_said_as_a_caller_understands_them(written, spoken):
    said = OfficeHours.parse(written).spoken()
    assert said == spoken
    assert not any(ch.isascii() and ch.isalnum() for ch in said)  # no digit or letter reaches the voice


@pytest.mark.parametrize(
    "moment, open_",
    [
        (datetime(2026, 12, 7, 9, 0), True),  # a Monday, the first minute
        (datetime(2026, 12, 7, 11, 59), True),
        (datetime(2026, 12, 7, 12, 0), False),  # lunch
        (datetime(2026, 12, 7, 13, 30), True),
        (datetime(2026, 12, 7, 17, 0), False),  # the end is not inside
        (datetime(2026, 12, 11, 16, 59), True),  # Friday
        (datetime(2026, 12, 12, 10, 0), False),  # Saturday
        (datetime(2026, 12, 6, 10, 0), False),  # Sunday
    ],
)
def test_office_hours_hold_on_their_days_and_times(moment, open_):
    assert WEEKDAYS.is_open(moment) is open_


@pytest.mark.parametrize("bad", ["Mon-Fry 09:00-12:00", "Mon 12:00-09:00", "Mon", "Mon 9-10", "Monday 09:00-10:00", "Mon 09:00-25:00"])
def test_bad_office_hours_are_refused_by_name(tmp_path, monkeypatch, bad):
    from config import Config

    monkeypatch.setenv("TINGWEN_OFFICE_HOURS", bad)
    with pytest.raises(Exception, match="TINGWEN_OFFICE_HOURS"):
        Config.load(tmp_path)


# The menu


def _phone_menu(loaded_store, hours=WEEKDAYS, subscription=False) -> Menu:
    return Menu(loaded_store.latest(), subscription=subscription, office_hours=hours)


@pytest.mark.parametrize("subscription, page", [(False, 6), (True, 6)])
def test_the_latest_notices_offer_a_person_on_seven(loaded_store, subscription, page):
    menu = _phone_menu(loaded_store, subscription=subscription)
    state, actions = menu.start()
    text = "".join(a.text for a in actions if isinstance(a, Say))
    assert PROMPTS.operator_item in text and "按7，" not in text  # 7 is no notice here
    assert menu.top_size == page
    keys = {c.key: c.intent.kind for c in menu.choices(state) if c.key}
    assert keys["7"] is IntentKind.OPERATOR


def test_the_kiosk_and_a_phone_without_staff_keep_seven_for_a_notice(loaded_store):
    menu = Menu(loaded_store.latest())
    state, _ = menu.start()
    assert {c.key: c.intent for c in menu.choices(state) if c.key}["7"] == Intent(IntentKind.CHOOSE, 7)
    assert not any(c.intent.kind is IntentKind.OPERATOR for c in menu.choices(state))


def test_seven_asks_for_a_person_and_the_closed_text_names_the_hours(loaded_store):
    menu = _phone_menu(loaded_store)
    state, _ = menu.start()
    state, actions = menu.step(state, Event.press("7"))
    transfer = next(a for a in actions if isinstance(a, Transfer))
    assert transfer.connecting == PROMPTS.operator_connecting
    assert transfer.closed == PROMPTS.operator_closed.format(hours=WEEKDAYS.spoken())
    assert state.mode is Mode.TOP  # what follows the request: the latest notices, briefly


def test_saying_a_person_while_reading_comes_back_to_the_same_sentence(loaded_store):
    menu = _phone_menu(loaded_store)
    state, _ = menu.start()
    state, _ = menu.step(state, Event.press("1"))
    state, _ = menu.step(state, Event.press("9"))
    state, _ = menu.step(state, Event.finished())
    assert state.mode is Mode.READING
    playing = state.sentence
    asked, actions = menu.step(state, Event.said(Intent(IntentKind.OPERATOR)))
    assert isinstance(actions[0], Stop) and any(isinstance(a, Transfer) for a in actions)
    back, actions = menu.after_transfer(asked, answered=False)
    assert isinstance(actions[0], Say) and actions[0].text == PROMPTS.operator_unanswered
    play = next(a for a in actions if isinstance(a, Play))
    assert (back.mode, back.sentence, play.sentence) == (Mode.READING, playing, playing)
    over, actions = menu.after_transfer(asked, answered=True)
    assert over.mode is Mode.ENDED and isinstance(actions[-1], End)


def test_back_from_a_person_when_the_notice_went_meanwhile(loaded_store):
    menu = _phone_menu(loaded_store)
    gone = MenuState(mode=Mode.READING, notice_id=10**9)
    state, actions = menu.after_transfer(gone, answered=False)
    assert state.mode is Mode.TOP and actions[0].text == PROMPTS.operator_unanswered


# The phone line, by webhooks


def _app(data_dir, hours=ALWAYS, **settings):
    return phone_app(data_dir, operator_number=STAFF, office_hours=hours, **settings)


def _dial(call: PhoneCall):
    dials = call.twiml.xpath("/Response/Dial")
    return dials[0] if dials else None


def test_in_office_hours_seven_puts_the_caller_through(tmp_path):
    app = _app(tmp_path / "data", operator_ring_seconds=20)
    call = PhoneCall(app).start()
    call.press("7")
    dial = _dial(call)
    assert dial is not None and dial.text == STAFF
    assert dial.get("timeout") == "20" and dial.get("action") == f"{PUBLIC_URL}/ivr/operator" and dial.get("method") == "POST"
    assert call.plays == audio_urls(app, PROMPTS.operator_connecting)  # said first, and nothing else
    assert not call.twiml.xpath("//Gather")  # no key can cut the staff phone's ringing
    with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
        assert ("transfer", None, None) in calls.events(call.sid)


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_when_nobody_answers_the_caller_hears_an_apology_and_is_back(tmp_path, status):
    app = _app(tmp_path / "data")
    call = PhoneCall(app).start()
    call.press("7")
    call.post("/ivr/operator", {**call.params, "CallSid": call.sid, "DialCallStatus": status})
    assert call.last.status_code == 200 and not call.hung_up
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        menu = menu_for(store, app.config["TINGWEN_PHONE_MENU"])
    expected = audio_urls(app, PROMPTS.operator_unanswered) + audio_urls(app, menu.texts.top_short(menu.top_size))
    assert call.plays == expected
    call.press("1")  # the menu goes on as before
    assert call.last.status_code == 200 and call.plays


def test_after_talking_to_the_staff_the_call_ends_with_goodbye(tmp_path):
    app = _app(tmp_path / "data")
    call = PhoneCall(app).start()
    call.press("7")
    call.post("/ivr/operator", {**call.params, "CallSid": call.sid, "DialCallStatus": "completed", "DialCallDuration": "95"})
    assert call.hung_up and call.plays == audio_urls(app, PROMPTS.goodbye)


def test_outside_office_hours_the_caller_hears_the_hours(tmp_path):
    hours = _not_today()
    app = _app(tmp_path / "data", hours=hours)
    call = PhoneCall(app).start()
    call.press("7")
    assert _dial(call) is None and call.twiml.xpath("//Gather")
    closed = PROMPTS.operator_closed.format(hours=OfficeHours.parse(hours).spoken())
    assert call.plays[: len(audio_urls(app, closed))] == audio_urls(app, closed)


@pytest.mark.parametrize(
    "params, signed, status",
    [
        ({"CallSid": "CA" + "9" * 32, "DialCallStatus": "no-answer"}, True, 200),  # a call we do not know: hang up
        ({"CallSid": "CA" + "9" * 32, "DialCallStatus": "no-answer"}, False, 403),  # forged
        ({"CallSid": "../../x", "DialCallStatus": "busy"}, True, 400),
        ({"DialCallStatus": "busy"}, True, 400),
    ],
)
def test_a_forged_or_stray_return_from_the_staff_never_fails(tmp_path, params, signed, status):
    app = _app(tmp_path / "data")
    call = PhoneCall(app)
    response = call.post("/ivr/operator", params, signed=signed)
    assert response.status_code == status
    if status == 200:
        assert call.hung_up and not call.plays


def test_a_replayed_return_after_the_call_ended_plays_nothing(tmp_path):
    app = _app(tmp_path / "data")
    call = PhoneCall(app).start()
    call.press("7")
    call.hang_up()
    call.post("/ivr/operator", {**call.params, "CallSid": call.sid, "DialCallStatus": "no-answer"})
    assert call.hung_up and not call.plays


def test_requests_are_counted_for_staff(tmp_path):
    from server import cli

    app = _app(tmp_path / "data")
    for n, status in enumerate(["completed", "no-answer", "busy"]):
        call = PhoneCall(app, sid=f"CA{n:032d}").start()
        call.press("7")
        call.post("/ivr/operator", {**call.params, "CallSid": call.sid, "DialCallStatus": status})
    closed = _app(tmp_path / "data", hours=_not_today())
    PhoneCall(closed, sid="CA" + "7" * 32).start().press("7")
    with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
        counted = calls.summary(timezone="Asia/Shanghai")["transfers"]
    assert {k: counted[k] for k in ("asked", "answered", "unanswered", "closed")} == {"asked": 4, "answered": 1, "unanswered": 2, "closed": 1}
    assert sum(day["answered"] + day["unanswered"] + day["closed"] for day in counted["per_day"]) == 4
    result = CliRunner().invoke(cli, ["calls", "--json"], env={"TINGWEN_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["transfers"]["answered"] == 1
    text = CliRunner().invoke(cli, ["calls"], env={"TINGWEN_DATA_DIR": str(tmp_path / "data")}).output
    assert "a person: 4 asked, 1 answered, 2 not answered, 1 outside office hours" in text


# The phone line, streaming: moved by Twilio's REST API, and back



def _stream_app(tmp_path, cloud, **settings):
    import dataclasses

    app = _app(tmp_path / "data", phone_mode="stream", twilio_account_sid=ACCOUNT_SID, twilio_api_url=cloud.url, **settings)
    app.config["TINGWEN_IVR"] = dataclasses.replace(app.config["TINGWEN_IVR"], stream_lead_ms=600_000)
    return app


def test_a_streaming_call_is_moved_to_the_staff_and_comes_back_to_a_new_stream(tmp_path, cloud):
    from lxml import etree

    app = _stream_app(tmp_path, cloud)
    port, stop = live_app(app)
    try:
        call = TwilioStream(app, port, sid="CA" + "e" * 32)
        cloud.incoming(call.sid, call.phone.caller, "+861088880000")
        call.answer().connect()
        call.wait_for(lambda ms: any(m["event"] == "mark" for m in ms))
        call.press("7")
        moved = cloud.calls[0]
        call.wait_for(lambda ms: bool(moved.updates))
        twiml = etree.fromstring(moved.updates[0]["Twiml"].encode())
        assert twiml.xpath("string(/Response/Dial)") == STAFF
        assert twiml.xpath("/Response/Play/text()") == audio_urls(app, PROMPTS.operator_connecting)
        call.hang_up()  # Twilio ends the stream as it moves the call
        with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
            assert not calls.get(call.sid).ended  # the call goes on with the staff
        call.phone.post("/ivr/operator", {**call.phone.params, "CallSid": call.sid, "DialCallStatus": "no-answer"})
        stream = call.phone.twiml.xpath("/Response/Connect/Stream")[0]
        parameters = {p.get("name"): p.get("value") for p in stream.xpath("Parameter")}
        assert parameters["returned"] == "staff" and parameters["caller"] == call.phone.caller
        again = TwilioStream(app, port, sid=call.sid)
        again.url, again.token, again.parameters = stream.get("url"), parameters["token"], parameters
        again.connect()
        speaker = app.extensions["tingwen.speaker"]
        from speech.utterances import AudioFormat

        apology = sum(1 for _ in speaker.render_text(PROMPTS.operator_unanswered, AudioFormat.ULAW))
        messages = again.wait_for(lambda ms: sum(m["event"] == "mark" for m in ms) > apology)
        assert not any(m["event"] == "closed" for m in messages)
        again.close()
    finally:
        stop()


def _stored_transfer_outcomes(app, sid: str, timeout: float = 10.0) -> list[str]:
    """The transfer outcomes stored for a call, once there are any (or none after timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
            outcomes = [json.loads(r["detail"])["outcome"] for r in calls.conn.query(
                "SELECT detail FROM call_events WHERE sid = ? AND kind = 'transfer'", [sid])]
        if outcomes or time.monotonic() > deadline:
            return outcomes
        time.sleep(0.05)


def test_a_streaming_call_that_cannot_be_moved_hears_the_apology_and_goes_on(tmp_path, cloud):
    app = _stream_app(tmp_path, cloud)
    port, stop = live_app(app)
    try:
        call = TwilioStream(app, port, sid="CA" + "f" * 32)  # Twilio does not know the call: update gets a 404
        call.answer().connect()
        call.wait_for(lambda ms: any(m["event"] == "mark" for m in ms))
        call.press("7")
        call.wait_for(lambda ms: any(m["event"] == "clear" for m in ms))
        # The caller's audio is cleared at once; the turn is stored just after it.
        assert _stored_transfer_outcomes(app, call.sid) == ["failed"]
        call.press("1")  # the call is still ours
        call.wait_for(lambda ms: sum(m["event"] == "clear" for m in ms) >= 2)
        call.close()
    finally:
        stop()


def test_what_a_caller_hears_about_a_person_is_made_ahead(loaded_store):
    said = set(_phone_menu(loaded_store).prompt_texts())
    closed = PROMPTS.operator_closed.format(hours=WEEKDAYS.spoken())
    assert {PROMPTS.operator_connecting, closed, PROMPTS.operator_unanswered} <= said
