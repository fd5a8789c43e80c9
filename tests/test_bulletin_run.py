"""`tingwen bulletin` against a local fake of Twilio's REST API, driven by the real `twilio`
client; then Twilio's part played on our signed webhooks with the URLs the client sent: the
window, pacing, retries, pausing, restart safety, and what a subscriber hears."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bulletin_harness import OUR_NUMBER, PROMPTS, FakeClock, TwilioSide, find_sequence, publish, run, store_of, subscribe, zone_at
from conftest import PUBLIC_URL, PhoneCall, audio_urls, live_app
from content.menu import menu_for
from content.connections import close_idle
from content.store import NoticeStore
from ivr.bulletin import BulletinRun, TwilioDialer
from ivr.numbers import masked_number
from twilio_rest_fake import ACCOUNT_SID

pytest_plugins = ["bulletin_harness"]  # the app and cloud fixtures
def test_the_client_sends_twilio_what_it_needs_and_the_subscriber_hears_the_bulletin(app, cloud):
    subscribe(app, "+8613900000001")
    ids = publish(app, "关于做好冬季供暖保障工作的通知")
    report = run(app, FakeClock(datetime.now(UTC)))
    assert len(report.placed) == 1 and not cloud.rejected
    call = cloud.calls[0]
    assert (call.to, call.from_, call.method, call.status_callback_method) == ("+8613900000001", OUR_NUMBER, "POST", "POST")
    assert call.url.startswith(f"{PUBLIC_URL}/ivr/bulletin?attempt=")
    assert call.status_callback.startswith(f"{PUBLIC_URL}/ivr/bulletin/status?attempt=")
    assert {"answered", "completed"} <= set(call.status_callback_events)

    phone = TwilioSide(app, call).answer()
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        menu = menu_for(store, app.config["TINGWEN_PHONE_MENU"])
        notice = store.get(ids[0])
    plays = phone.plays
    order = [PROMPTS.bulletin_intro.format(count=1), PROMPTS.bulletin_number.format(number=1), menu.texts.bulletin_item(notice),
             PROMPTS.bulletin_stop_hint]
    positions = [find_sequence(plays, audio_urls(app, text)) for text in order]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), positions
    assert notice.spoken_title in menu.texts.bulletin_item(notice) and notice.gist and notice.gist in menu.texts.bulletin_item(notice)
    # Then the usual menu: 1 opens the newest notice, the one just read out.
    phone.press("1")
    assert find_sequence(phone.plays, audio_urls(app, notice.spoken_title)) >= 0 or phone.last.status_code == 200
    state = app.extensions["tingwen.call_log"]().get(call.sid).state
    assert '"mode": "notice"' in state or '"mode": "reading"' in state
    # The bulletin caller stops it with 8, on the same call.
    phone.press("*")
    phone.press("8")
    assert find_sequence(phone.plays, audio_urls(app, PROMPTS.unsubscribed)) >= 0
    with store_of(app) as store:
        assert store.subscribers() == []


@pytest.mark.parametrize("app", [{"database": "sqlite"}, {"database": "postgresql"}], indirect=True, ids=["sqlite", "postgresql"])
def test_answered_once_a_day_retried_when_busy_or_unanswered(app, cloud):
    numbers = ["+8613900000001", "+8613900000002", "+8613900000003"]
    subscribe(app, *numbers)
    publish(app, "关于开展安全生产大检查的通知")
    clock = FakeClock(datetime.now(UTC))
    assert len(run(app, clock).placed) == 3
    first = {c.to: c for c in cloud.calls}
    TwilioSide(app, first[numbers[0]]).answer()
    TwilioSide(app, first[numbers[0]]).status("completed", 95)
    TwilioSide(app, first[numbers[1]]).status("busy")
    TwilioSide(app, first[numbers[2]]).status("no-answer")

    assert run(app, clock).placed == []  # retries wait; the answered one is done for the day
    clock.advance(minutes=61)
    run(app, clock)
    assert [len(cloud.to(n)) for n in numbers] == [1, 2, 2]
    for call in cloud.calls[3:]:
        TwilioSide(app, call).status("no-answer")
    clock.advance(minutes=61)
    run(app, clock)
    clock.advance(minutes=61)
    run(app, clock)  # three attempts a day at most
    assert [len(cloud.to(n)) for n in numbers] == [1, 3, 3]
    # Nothing new the next day for the one who heard it; the others have news still.
    for call in cloud.calls[5:]:
        TwilioSide(app, call).status("busy")
    clock.advance(days=1)
    run(app, clock)
    assert [len(cloud.to(n)) for n in numbers] == [1, 4, 4]


def test_no_news_no_call_and_news_since_the_last_bulletin_only(app, cloud):
    subscribe(app, "+8613900000001")
    clock = FakeClock(datetime.now(UTC))
    assert run(app, clock).placed == [] and cloud.calls == []  # the bundled notices are older
    ids = publish(app, "关于加强森林草原防火工作的通知")
    run(app, clock)
    TwilioSide(app, cloud.calls[0]).answer()
    with store_of(app) as store:
        assert store.attempts()[0].notices == tuple(ids)
    clock.advance(days=1)
    assert run(app, clock).placed == []  # heard already
    later = publish(app, "关于做好春节期间市场供应的通知")
    run(app, clock)
    with store_of(app) as store:
        assert store.attempts()[-1].notices == tuple(later)


@pytest.mark.parametrize(
    "local, called",
    [("08:59", False), ("09:00", True), ("13:30", True), ("19:59", True), ("20:00", False), ("23:00", False), ("03:00", False)],
)
def test_calls_only_inside_the_window(app, cloud, local, called):
    subscribe(app, "+8613900000001")
    publish(app, "关于开展消防安全检查的通知")
    zone = ZoneInfo("Asia/Shanghai")
    hour, minute = map(int, local.split(":"))
    moment = datetime.now(zone).replace(hour=hour, minute=minute, second=0, microsecond=0)
    report = run(app, FakeClock(moment.astimezone(UTC)), window="09:00-20:00", timezone="Asia/Shanghai")
    assert bool(cloud.calls) is called and report.outside_window is not called


def test_at_most_n_calls_a_minute_across_runs(app, cloud):
    numbers = [f"+86139000000{n:02d}" for n in range(7)]
    subscribe(app, *numbers)
    publish(app, "关于调整城乡居民医疗保险缴费标准的通知")
    clock = FakeClock(datetime.now(UTC))
    run(app, clock, calls_per_minute=2)
    assert len(cloud.calls) == 7 and clock.slept
    with store_of(app) as store:
        claimed = sorted(datetime.fromisoformat(a.claimed_at) for a in store.attempts())
    for index, moment in enumerate(claimed):
        in_minute = [m for m in claimed if moment <= m < moment + timedelta(minutes=1)]
        assert len(in_minute) <= 2, (index, claimed)
    assert claimed[-1] - claimed[0] >= timedelta(minutes=2)


@pytest.mark.parametrize("app", [{"bulletin_attempts": 1, "bulletin_pause_days": 2}], indirect=True)
def test_a_number_that_fails_for_days_is_paused_and_can_be_resumed(app, cloud):
    subscribe(app, "+8613900000001")
    publish(app, "关于做好防汛抗旱工作的通知")
    clock = FakeClock(datetime.now(UTC))
    for day in range(3):
        run(app, clock)
        for call in cloud.calls[day:]:
            TwilioSide(app, call).status("no-answer")
        clock.advance(days=1)
    assert len(cloud.calls) == 2  # paused after the second failed day: not called on the third
    with store_of(app) as store:
        assert store.subscribers()[0].paused
        counts = store.counts(clock.now().date().isoformat())
        assert counts["paused"] == 1 and counts["active"] == 0
        store.resume("+8613900000001")
    run(app, clock)
    assert len(cloud.calls) == 3


def test_a_crash_before_placing_neither_skips_nor_repeats(app, cloud):
    subscribe(app, "+8613900000001", "+8613900000002")
    publish(app, "关于做好冬季疫情防控工作的通知")
    clock = FakeClock(datetime.now(UTC))
    settings = app.config["TINGWEN"].bulletin
    # A run claims the first subscriber and dies before calls.create: Twilio has no call.
    with store_of(app) as store, NoticeStore(app.config["TINGWEN_DB"]) as notices:
        first = store.subscribers()[0]
        claimed = store.claim(first, notices.published_since(first.heard_until), clock.now().date().isoformat(), clock.now(),
                              settings.attempts_per_day, settings.retry_after, settings.calls_per_minute)
        assert claimed.status == "dialling"
    report = run(app, clock)
    assert report.recovered == 1
    assert sorted(c.to for c in cloud.calls) == ["+8613900000001", "+8613900000002"]


@pytest.mark.parametrize("app", [{"database": "sqlite"}, {"database": "postgresql"}], indirect=True, ids=["sqlite", "postgresql"])
def test_a_crash_after_placing_is_settled_with_twilio_not_called_again(app, cloud):
    subscribe(app, "+8613900000001", "+8613900000002")
    publish(app, "关于做好冬季疫情防控工作的通知")
    clock = FakeClock(datetime.now(UTC))
    config = app.config["TINGWEN"]
    settings = config.bulletin

    class DiesAfterPlacing(TwilioDialer):
        def place(self, to, url, status_url, machine_url=None):
            super().place(to, url, status_url, machine_url)
            raise ConnectionResetError("the run was killed before it wrote the call's id")

    with store_of(app) as subs, NoticeStore(config.db_path) as notices:
        report = BulletinRun(subs, notices.published_since, DiesAfterPlacing(settings), settings, clock).run()
    assert report.stopped and len(cloud.calls) == 1
    cloud.calls[0].status = "completed"  # the subscriber heard it while we were down
    report = run(app, clock)
    assert report.recovered == 1
    assert sorted(c.to for c in cloud.calls) == ["+8613900000001", "+8613900000002"]  # once each
    with store_of(app) as store:
        settled = store.attempts()[0]
        assert settled.call_sid == cloud.calls[0].sid and settled.status == "completed"


@pytest.mark.parametrize("app", [{"database": "sqlite"}, {"database": "postgresql"}], indirect=True, ids=["sqlite", "postgresql"])
def test_two_runs_at_once_call_each_number_once(app, cloud):
    numbers = [f"+86139000000{n:02d}" for n in range(6)]
    subscribe(app, *numbers)
    publish(app, "关于开展全民健身活动的通知")
    clock = FakeClock(datetime.now(UTC))
    threads = [threading.Thread(target=run, args=(app, clock)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(c.to for c in cloud.calls) == numbers


def test_a_number_twilio_refuses_counts_as_a_failed_attempt(app, cloud):
    subscribe(app, "+8613900000001", "+8613900000002")
    publish(app, "关于做好农民工工资支付工作的通知")
    cloud.refused_numbers.add("+8613900000001")
    report = run(app, FakeClock(datetime.now(UTC)))
    assert report.refused == 1 and [c.to for c in cloud.calls] == ["+8613900000002"]
    with store_of(app) as store:
        assert sorted(a.status for a in store.attempts()) == ["failed", "placed"]


def test_wrong_credentials_stop_the_run_with_a_clear_line(app, cloud):
    subscribe(app, "+8613900000001")
    publish(app, "关于做好冬季供暖工作的通知")
    cloud.auth_token = "another-token"
    report = run(app, FakeClock(datetime.now(UTC)))
    assert report.refused == 1 and "authentication" in cloud.rejected


def test_webhooks_refuse_unsigned_unknown_and_malformed(app, cloud):
    phone = PhoneCall(app)
    assert phone.post("/ivr/bulletin?attempt=1", {"CallSid": phone.sid}, signed=False).status_code == 403
    assert phone.post("/ivr/bulletin/status?attempt=999", {"CallSid": phone.sid, "CallStatus": "completed"}).status_code == 404
    for bad in ("x", "-1", "1e9", "９", "1" * 30):
        assert phone.post(f"/ivr/bulletin/status?attempt={bad}", {"CallSid": phone.sid, "CallStatus": "busy"}).status_code == 400
    # An answered bulletin whose attempt is unknown still speaks (the menu), never a 500.
    answered = phone.post("/ivr/bulletin?attempt=424242", {"CallSid": phone.sid, "To": "+8613900000001", "Direction": "outbound-api"})
    assert answered.status_code == 200 and phone.plays


def test_command_line_counts_removes_and_runs(app, cloud, monkeypatch):
    from server import cli

    config = app.config["TINGWEN"]
    subscribe(app, "+8613900000001", "+8613900000002")
    publish(app, "关于做好困难群众冬季取暖工作的通知")
    env = {
        "TINGWEN_DATA_DIR": str(config.data_dir), "TINGWEN_BULLETIN_FROM": OUR_NUMBER, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": "test-auth-token", "TINGWEN_TWILIO_API_URL": cloud.url, "TINGWEN_BULLETIN_WINDOW": "00:00-24:00",
        "TINGWEN_PUBLIC_URL": PUBLIC_URL, "TINGWEN_VOICE": "espeak", "TINGWEN_TIMEZONE": zone_at(10),
    }
    runner = CliRunner()
    counted = runner.invoke(cli, ["subscribers"], env=env)
    assert counted.exit_code == 0 and "2 subscriber(s): 2 active, 0 paused" in counted.output
    removed = runner.invoke(cli, ["subscribers", "remove", "+86 139 0000 0002"], env=env)
    assert removed.exit_code == 0 and masked_number("+8613900000002") in removed.output
    assert "+8613900000002" not in removed.output
    again = runner.invoke(cli, ["subscribers", "remove", "+8613900000002"], env=env)
    assert again.exit_code == 1 and "does not get the daily bulletin" in again.output
    bad = runner.invoke(cli, ["subscribers", "remove", "13900000002"], env=env)
    assert bad.exit_code == 2 and "E.164" in bad.output
    ran = runner.invoke(cli, ["bulletin"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "1 call(s) placed" in ran.output and [c.to for c in cloud.calls] == ["+8613900000001"]
    unset = runner.invoke(cli, ["bulletin"], env={**env, "TWILIO_ACCOUNT_SID": ""})
    assert unset.exit_code == 2 and "TWILIO_ACCOUNT_SID is not set" in unset.output
    closed = runner.invoke(cli, ["bulletin"], env={**env, "TINGWEN_BULLETIN_WINDOW": "20:00-09:00"})
    assert closed.exit_code == 2 and "TINGWEN_BULLETIN_WINDOW" in closed.output


def test_staff_see_the_bulletin_and_the_feed_as_the_command_line_counts_them(app, cloud):
    import json
    import re

    from staff.accounts import StaffStore

    subscribe(app, "+8613900000001", "+8613900000002", "+8613900000003")
    publish(app, "关于做好冬季供暖保障工作的通知")
    run(app, FakeClock(datetime.now(UTC)))
    TwilioSide(app, cloud.calls[0]).answer()
    TwilioSide(app, cloud.calls[1]).status("busy")
    machine = TwilioSide(app, cloud.calls[2])
    machine.answer()
    assert machine.machine("machine_end_beep").status_code == 204
    config = app.config["TINGWEN"]
    with StaffStore(config.staff_db) as accounts:
        accounts.add("wang", "correct horse battery")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True)).group(1)
    client.post("/staff/login", data={"username": "wang", "password": "correct horse battery", "csrf_token": token})
    page = client.get("/staff/calls").get_data(as_text=True)
    env = {"TINGWEN_DATA_DIR": str(config.data_dir), "TINGWEN_BULLETIN_FROM": OUR_NUMBER, "TINGWEN_TIMEZONE": config.timezone,
           "TINGWEN_VOICE": "espeak"}
    counted = json.loads(CliRunner().invoke(__import__("server").cli, ["subscribers", "--json"], env=env).output)
    assert counted == {"subscribers": 3, "active": 3, "paused": 0, "calls_today": 3, "heard_today": 1, "voicemail_today": 1,
                       "unanswered_today": 1}
    cells = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", page.split('id="table-bulletin"')[1].split("</table>")[0])
    shown = ("subscribers", "paused", "calls_today", "heard_today", "voicemail_today", "unanswered_today")
    assert [int(n) for _, n in cells] == [counted[k] for k in shown]
    assert f"{PUBLIC_URL}/feed.xml" in page


def test_staff_see_each_days_bulletin_calls_by_outcome_as_the_command_line_counts_them(app, cloud):
    import json
    import re

    from staff.accounts import StaffStore

    numbers = ["+8613900000001", "+8613900000002", "+8613900000003"]
    subscribe(app, *numbers)
    publish(app, "关于做好冬季供暖保障工作的通知")
    clock = FakeClock(datetime.now(UTC))
    run(app, clock)
    first = {c.to: TwilioSide(app, c) for c in cloud.calls}
    first[numbers[0]].answer()
    first[numbers[0]].status("completed", 90)
    first[numbers[1]].answer()
    first[numbers[1]].machine("machine_end_silence")
    first[numbers[1]].status("completed", 35)
    first[numbers[2]].status("no-answer")
    clock.advance(days=1)
    publish(app, "关于开展冬季安全生产检查的通知")
    run(app, clock)
    for call in cloud.calls[3:]:
        (TwilioSide(app, call).answer() if call.to == numbers[2] else TwilioSide(app, call).status("busy"))
    zone = ZoneInfo(app.config["TINGWEN"].timezone)
    day_one, day_two = (clock.now() - timedelta(days=1)).astimezone(zone).date(), clock.now().astimezone(zone).date()

    config = app.config["TINGWEN"]
    env = {"TINGWEN_DATA_DIR": str(config.data_dir), "TINGWEN_BULLETIN_FROM": OUR_NUMBER, "TINGWEN_TIMEZONE": config.timezone,
           "TINGWEN_VOICE": "espeak"}
    period = ["--from", day_one.isoformat(), "--to", day_two.isoformat()]
    counted = json.loads(CliRunner().invoke(__import__("server").cli, ["subscribers", "--json", *period], env=env).output)
    assert counted["per_day"] == [
        {"day": day_one.isoformat(), "calls": 3, "heard": 1, "voicemail": 1, "unanswered": 1},
        {"day": day_two.isoformat(), "calls": 3, "heard": 1, "voicemail": 0, "unanswered": 2},
    ]
    text = CliRunner().invoke(__import__("server").cli, ["subscribers", *period], env=env).output
    assert f"{day_two.isoformat()}     3 call(s), 1 heard, 0 on machines, 2 busy or unanswered" in text

    with StaffStore(config.staff_db) as accounts:
        accounts.add("wang", "correct horse battery")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True)).group(1)
    client.post("/staff/login", data={"username": "wang", "password": "correct horse battery", "csrf_token": token})
    page = client.get(f"/staff/calls?from={day_one.isoformat()}&to={day_two.isoformat()}").get_data(as_text=True)
    table = page.split('id="table-bulletin-days"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([\d-]+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", table)
    assert [(d, *map(int, n)) for d, *n in rows] == [
        (r["day"], r["calls"], r["heard"], r["voicemail"], r["unanswered"]) for r in counted["per_day"]
    ]
    chart = page.split('id="bulletin-days"')[1].split("</figure>")[0]
    assert 'role="img" aria-label="每日播报电话（每天的号码数）"' in chart and "答录机留言" in chart


def test_a_damaged_subscriber_list_still_lets_an_answered_bulletin_speak(app, cloud):
    subscribe(app, "+8613900000001")
    publish(app, "关于做好冬季供暖保障工作的通知")
    run(app, FakeClock(datetime.now(UTC)))
    config = app.config["TINGWEN"]
    close_idle()  # the damage comes while no connection is open (one open would fold its log back in)
    config.subscribers_db.write_bytes(b"garbage" * 1000)
    for extra in config.data_dir.glob("subscribers.sqlite3-*"):
        extra.unlink()
    app.testing = False
    call = cloud.calls[0]
    phone = TwilioSide(app, call).phone
    phone.post(call.url[len(PUBLIC_URL):], {**phone.params, "CallSid": call.sid, "CallStatus": "in-progress"})
    assert phone.last.status_code == 200 and find_sequence(phone.plays, audio_urls(app, PROMPTS.bulletin_nothing)) >= 0
    status = phone.post(cloud.calls[0].status_callback[len(PUBLIC_URL):], {**phone.params, "CallSid": cloud.calls[0].sid, "CallStatus": "completed"})
    assert status.status_code == 503


def test_twilio_unreachable_stops_the_run_in_one_line_and_calls_nobody(app, cloud):
    from server import cli

    subscribe(app, "+8613900000001", "+8613900000002")
    publish(app, "关于做好冬季供暖保障工作的通知")
    config = app.config["TINGWEN"]
    env = {
        "TINGWEN_DATA_DIR": str(config.data_dir), "TINGWEN_BULLETIN_FROM": OUR_NUMBER, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": "test-auth-token", "TINGWEN_TWILIO_API_URL": "http://127.0.0.1:9", "TINGWEN_BULLETIN_WINDOW": "00:00-24:00",
        "TINGWEN_VOICE": "espeak", "TINGWEN_TIMEZONE": zone_at(10),
    }
    first = CliRunner().invoke(cli, ["bulletin"], env=env)  # the first call cannot be placed
    assert first.exit_code == 1 and "Error: Twilio cannot be reached" in first.output and "Traceback" not in first.output
    again = CliRunner().invoke(cli, ["bulletin"], env=env)  # its claim cannot be settled: nobody is called
    assert again.exit_code == 1 and "settle earlier calls" in again.output
    with store_of(app) as store:
        assert [a.status for a in store.attempts()] == ["dialling"]
    back = CliRunner().invoke(cli, ["bulletin"], env={**env, "TINGWEN_TWILIO_API_URL": cloud.url})
    assert back.exit_code == 0 and sorted(c.to for c in cloud.calls) == ["+8613900000001", "+8613900000002"]


@pytest.mark.parametrize("app", [{"phone_mode": "stream"}], indirect=True, ids=["stream"])
def test_a_bulletin_call_in_streaming_mode_reads_the_news_and_hears_key_8(app, cloud):
    import base64

    from twilio_stream import TwilioStream
    from speech.audio import read_ulaw_wav
    from speech.utterances import AudioFormat

    subscribe(app, "+8613900000001")
    ids = publish(app, "关于做好冬季供暖保障工作的通知", "关于开展全民健身活动的通知")
    run(app, FakeClock(datetime.now(UTC)))
    call = cloud.calls[0]
    side = TwilioSide(app, call)
    side.status("in-progress")
    answered = side.phone.post(call.url[len(PUBLIC_URL):], {**side.phone.params, "CallSid": call.sid, "CallStatus": "in-progress"})
    assert answered.status_code == 200
    stream_element = side.phone.twiml.xpath("/Response/Connect/Stream")[0]
    port, stop = live_app(app)
    stream = TwilioStream(app, port, sid=call.sid)
    try:
        stream.url = stream_element.get("url")
        stream.parameters = {p.get("name"): p.get("value") for p in stream_element.xpath("Parameter")}
        stream.token = stream.parameters["token"]
        assert stream.parameters["caller"] == "+8613900000001"
        assert sorted(map(int, stream.parameters["bulletin"].split(","))) == sorted(ids)
        stream.connect()
        # The first audio the subscriber hears is the bulletin's greeting, not the menu's.
        speaker = app.extensions["tingwen.speaker"]
        first_chunk = speaker.plan(PROMPTS.bulletin_intro.format(count=2), AudioFormat.ULAW)[0]
        expected = read_ulaw_wav(speaker.audio_file(first_chunk.name, AudioFormat.ULAW))[:1600]
        heard = stream.wait_for(lambda ms: sum(m["event"] == "media" for m in ms) >= 10)
        sent = b"".join(base64.b64decode(m["media"]["payload"]) for m in heard if m["event"] == "media")[:1600]
        assert sent == expected
        stream.press("8")
        stream.wait_for(lambda ms: any(m["event"] == "clear" for m in ms))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with store_of(app) as store:
                if not store.subscribers():
                    break
            time.sleep(0.05)
        with store_of(app) as store:
            assert store.subscribers() == []  # 退订 on the bulletin call itself
    finally:
        stream.close()
        stop()
