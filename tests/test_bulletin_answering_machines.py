"""A bulletin call that an answering machine takes: Twilio listens in the background (so a person
hears the bulletin at once), and when the machine's greeting ends the call is moved to a short
message, which counts as the day's bulletin. Driven through the real `twilio` client against the
fake of Twilio's REST API, and our signed webhooks as Twilio calls them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from bulletin_harness import OUR_NUMBER, PROMPTS, FakeClock, TwilioSide, find_sequence, publish, run, store_of, subscribe
from conftest import PUBLIC_URL, PhoneCall, audio_urls
from content.menu import BULLETIN_NOTICES, Menu, menu_for
from content.connections import close_idle
from content.store import NoticeStore
from ivr.callstore import CallStore

pytest_plugins = ["bulletin_harness"]  # the app and cloud fixtures
NUMBER = "+8613900000001"


def _latest(app):
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        return menu_for(store, app.config["TINGWEN_PHONE_MENU"]), store.latest()


def _attempt(app):
    with store_of(app) as store:
        return store.attempts()[-1]


def _answered_bulletin(app, cloud) -> TwilioSide:
    """A subscriber with one new notice is called, and the call is answered (by whom, the test says)."""
    subscribe(app, NUMBER)
    publish(app, "关于做好冬季供暖保障工作的通知")
    run(app, FakeClock(datetime.now(UTC)))
    twilio = TwilioSide(app, cloud.calls[0])
    twilio.answer()
    return twilio


def _events(app, sid):
    calls = CallStore.open(app.config["TINGWEN_IVR"])
    try:
        return [kind for kind, _, _ in calls.events(sid)]
    finally:
        calls.close()


def test_twilio_is_asked_to_listen_for_machines_without_holding_up_a_person(app, cloud):
    subscribe(app, NUMBER)
    publish(app, "关于做好冬季供暖保障工作的通知")
    run(app, FakeClock(datetime.now(UTC)))
    attempt = _attempt(app)
    assert cloud.calls[0].machine_detection == {
        "MachineDetection": "DetectMessageEnd",  # wait for the end of the greeting: the message starts after the beep
        "AsyncAmd": "true",  # a person hears the bulletin at once, not after seconds of silence
        "AsyncAmdStatusCallback": f"{PUBLIC_URL}/ivr/bulletin/machine?attempt={attempt.id}",
        "AsyncAmdStatusCallbackMethod": "POST",
    }
    twilio = TwilioSide(app, cloud.calls[0])
    twilio.answer()
    twilio.status("completed", 60)
    # Turned off (TINGWEN_BULLETIN_VOICEMAIL=0): no detection asked for, none paid for.
    publish(app, "关于开展冬季安全生产检查的通知")
    clock = FakeClock(datetime.now(UTC))
    clock.advance(days=1)
    run(app, clock, voicemail=False)
    assert len(cloud.calls) == 2 and cloud.calls[1].machine_detection == {}


@pytest.mark.parametrize("answered_by", ["machine_end_beep", "machine_end_silence", "machine_end_other"])
def test_a_machine_gets_a_short_message_after_its_greeting(app, cloud, answered_by):
    subscribe(app, NUMBER)
    ids = publish(app, "关于做好冬季供暖保障工作的通知", "关于开展冬季安全生产检查的通知")
    clock = FakeClock(datetime.now(UTC))
    run(app, clock)
    twilio = TwilioSide(app, cloud.calls[0])
    twilio.answer()  # the bulletin starts at once, as for a person
    assert twilio.machine(answered_by).status_code == 204
    attempt = _attempt(app)
    assert cloud.calls[0].updates == [{"Url": f"{PUBLIC_URL}/ivr/bulletin/voicemail?attempt={attempt.id}", "Method": "POST"}]
    message = twilio.follow_redirect()
    menu, latest = _latest(app)
    fresh = [n for n in latest if n.id in ids]  # newest first
    said = [PROMPTS.bulletin_intro.format(count=2)]
    for number, notice in enumerate(fresh, 1):
        said += [PROMPTS.bulletin_number.format(number=number), PROMPTS.voicemail_item.format(title=notice.spoken_title)]
    said.append(PROMPTS.voicemail_end)
    positions = [find_sequence(message.plays, audio_urls(app, text)) for text in said]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), positions
    assert message.hung_up and not message.twiml.xpath("//Gather") and not message.twiml.xpath("//Say")
    for url in message.plays:  # our own voice, served
        assert message.client.get(url[len(PUBLIC_URL) :]).status_code == 200
    assert "回拨" in PROMPTS.voicemail_end and "退订" in PROMPTS.voicemail_end  # how to hear it all, how to stop
    # A message left is the day's bulletin: not called again today, not again for the same news.
    twilio.status("completed", 41)
    assert _attempt(app).status == "voicemail"
    assert {"machine", "voicemail"} <= set(_events(app, cloud.calls[0].sid))
    clock.advance(hours=3)
    assert run(app, clock).placed == []
    clock.advance(days=1)
    assert run(app, clock).placed == []
    publish(app, "关于调整冬季公交运营时间的通知")
    assert len(run(app, clock).placed) == 1


def test_the_message_is_made_ahead_and_names_at_most_five(loaded_store):
    notices = loaded_store.latest()
    phone = Menu(notices, subscription=True)
    state, actions = phone.voicemail([n.id for n in notices] + [987654])
    said = [a.text for a in actions if hasattr(a, "text")]
    chosen = notices[:BULLETIN_NOTICES]
    assert said[0] == PROMPTS.bulletin_intro.format(count=len(chosen))
    assert said[2:-1:2] == [PROMPTS.voicemail_item.format(title=n.spoken_title) for n in chosen]
    assert said[-1] == PROMPTS.voicemail_end
    assert all(not a.interruptible for a in actions if hasattr(a, "interruptible"))  # nothing waits for a key
    assert set(said) <= set(phone.prompt_texts())  # never synthesised while the machine records
    _, nothing = phone.voicemail([])
    assert [a.text for a in nothing if hasattr(a, "text")] == [PROMPTS.bulletin_nothing, PROMPTS.voicemail_end]


@pytest.mark.parametrize("answered_by", ["human", "unknown", "machine_start"])
def test_a_person_hears_the_bulletin_untouched(app, cloud, answered_by):
    twilio = _answered_bulletin(app, cloud)
    phone = twilio.phone
    assert twilio.machine(answered_by).status_code == 204
    assert cloud.calls[0].updates == []
    assert phone.press("1").last.status_code == 200 and phone.plays  # the menu goes on
    twilio.status("completed", 120)
    assert _attempt(app).status == "completed"


def test_a_fax_is_hung_up_on(app, cloud):
    twilio = _answered_bulletin(app, cloud)
    assert twilio.machine("fax").status_code == 204
    assert cloud.calls[0].updates == [{"Status": "completed"}] and cloud.calls[0].status == "completed"


def test_a_call_over_before_the_machine_was_heard_and_twilio_down(app, cloud, caplog):
    subscribe(app, NUMBER, "+8613900000002")
    publish(app, "关于做好冬季供暖保障工作的通知")
    run(app, FakeClock(datetime.now(UTC)))
    ended = TwilioSide(app, cloud.calls[0])
    ended.answer()
    cloud.calls[0].status = "completed"  # the machine hung up first: Twilio refuses to move the call (21220)
    assert ended.machine("machine_end_beep").status_code == 204
    assert "would not move it" in caplog.text
    with store_of(app) as store:
        assert store.attempts()[0].status == "voicemail"  # done for the day all the same
    down = TwilioSide(app, cloud.calls[1])
    down.answer()
    cloud.failing = True
    answer = down.machine("machine_end_beep")
    assert answer.status_code == 503 and b"Twilio cannot be reached" in answer.data
    assert "Traceback" not in caplog.text


def test_the_machine_webhook_refuses_unsigned_unknown_and_malformed(app, cloud):
    twilio = _answered_bulletin(app, cloud)
    path = "/ivr/bulletin/machine"
    form = {"CallSid": cloud.calls[0].sid, "AnsweredBy": "machine_end_beep"}
    assert app.test_client().post(f"{path}?attempt=1", data=form).status_code == 403
    phone = twilio.phone
    assert phone.post(f"{path}?attempt=x1", form).status_code == 400
    assert phone.post(f"{path}?attempt=99999", form).status_code == 404
    assert phone.post(f"{path}?attempt=1", {"AnsweredBy": "machine_end_beep"}).status_code == 400  # no CallSid
    assert cloud.calls[0].updates == []
    # The message for an attempt we do not know still says who calls and how to stop, then hangs up.
    stray = PhoneCall(app, sid="CA" + "f" * 32, caller=NUMBER)
    stray.post("/ivr/bulletin/voicemail?attempt=99999", {"CallSid": stray.sid, "To": NUMBER})
    assert stray.last.status_code == 200 and stray.hung_up
    assert find_sequence(stray.plays, audio_urls(app, PROMPTS.bulletin_nothing)) >= 0


@pytest.mark.parametrize("app", [{"phone_mode": "stream"}], indirect=True)
def test_a_streaming_bulletin_call_is_moved_to_the_message_too(app, cloud):
    twilio = _answered_bulletin(app, cloud)
    phone = twilio.phone
    assert phone.twiml.xpath("//Connect/Stream")
    assert twilio.machine("machine_end_beep").status_code == 204
    message = twilio.follow_redirect()
    assert not message.twiml.xpath("//Connect") and message.plays and message.hung_up
    assert find_sequence(message.plays, audio_urls(app, PROMPTS.voicemail_end)) >= 0


@pytest.mark.parametrize("app", [{"database": "postgresql"}], indirect=True)
def test_messages_left_are_counted_on_postgresql(app, cloud):
    import json

    subscribe(app, NUMBER, "+8613900000002")
    publish(app, "关于做好冬季供暖保障工作的通知")
    run(app, FakeClock(datetime.now(UTC)))
    machine, person = TwilioSide(app, cloud.calls[0]), TwilioSide(app, cloud.calls[1])
    machine.answer()
    machine.machine("machine_end_beep")
    machine.status("completed", 30)
    person.answer()
    person.status("completed", 200)
    config = app.config["TINGWEN"]
    env = {"TINGWEN_DATA_DIR": str(config.data_dir), "TINGWEN_BULLETIN_FROM": OUR_NUMBER, "TINGWEN_TIMEZONE": config.timezone,
           "TINGWEN_VOICE": "espeak", "TINGWEN_DATABASE_URL": config.database_url}
    counted = json.loads(CliRunner().invoke(__import__("server").cli, ["subscribers", "--json"], env=env).output)
    assert (counted["calls_today"], counted["heard_today"], counted["voicemail_today"]) == (2, 1, 1)
    text = CliRunner().invoke(__import__("server").cli, ["subscribers"], env=env).output
    assert "1 message(s) left on answering machines" in text


def test_a_damaged_subscriber_list_still_leaves_a_message(app, cloud):
    twilio = _answered_bulletin(app, cloud)
    config = app.config["TINGWEN"]
    close_idle()  # the damage comes while no connection is open (one open would fold its log back in)
    config.subscribers_db.write_bytes(b"garbage" * 1000)
    for extra in config.data_dir.glob("subscribers.sqlite3-*"):
        extra.unlink()
    app.testing = False
    assert twilio.machine("machine_end_beep").status_code == 503  # Twilio's note cannot be kept: said, not a 500
    attempt = cloud.calls[0].url.rpartition("=")[2]
    message = twilio.phone.post(f"/ivr/bulletin/voicemail?attempt={attempt}", {**twilio.phone.params, "CallSid": cloud.calls[0].sid})
    assert message.status_code == 200 and twilio.phone.hung_up
    assert find_sequence(twilio.phone.plays, audio_urls(app, PROMPTS.bulletin_nothing)) >= 0
    assert find_sequence(twilio.phone.plays, audio_urls(app, PROMPTS.voicemail_end)) >= 0
