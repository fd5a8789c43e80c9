"""A notice by text message: key 5 while a notice is read or after a part (发短信 by voice there
and in its menu) sends the caller its title, 文号, date and web address through Twilio's
Messaging REST API (the local stand-in, driven by the real `twilio` client). Only to a number
that can receive one, at most TINGWEN_TEXTS_PER_DAY a caller a day (across servers sharing one
PostgreSQL); the wording is prompts.toml's; every outcome is said and counted."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from conftest import PhoneCall, audio_urls, live_app, phone_app
from twilio_stream import TwilioStream

from content.keys import IntentKind
from content.menu import Event, Intent, Menu, Mode, Play, SendText, Stop, menu_for
from content.model import Notice
from content.prompts import load_prompts
from content.store import NoticeStore
from ivr.callstore import CallStore
from ivr.texting import can_receive_texts
from twilio_rest_fake import ACCOUNT_SID

PROMPTS = load_prompts()
OURS = "+861088880000"
MOBILE = "+8613812345678"


# The message


def test_every_corpus_notice_makes_a_message_with_its_facts(loaded_store):
    menu = Menu(loaded_store.latest(), texting=True)
    assert len(menu.notices) >= 7
    for notice in menu.notices:
        body = menu.texts.sms_body(notice)
        lines = body.split("\n")
        assert lines[0] == "【听文】" + (notice.title or notice.spoken_title)
        day = notice.published_date or notice.signed_date
        assert f"日期：{day.year}年{day.month}月{day.day}日" in lines
        assert (f"文号：{notice.doc_number}" in lines) == bool(notice.doc_number)
        assert "None" not in body and "{" not in body
        assert not any(line.startswith("全文：") for line in lines)  # a list-page dump has no address of its own


@pytest.mark.parametrize(
    "source, address",
    [
        ("https://www.nmg.gov.cn/zwgk/zfxxgk/zfxxgkml/202504/t20250409_2695395.html", True),
        ("http://www.nmg.gov.cn/zwgk/a.html", True),
        ("/srv/notices/a.html", False),
        ("corpus.txt", False),
        (None, False),
    ],
)
def test_the_page_address_is_given_when_the_notice_came_from_the_web(source, address):
    notice = Notice(title="关于做好冬季供暖工作的通知", spoken_title="冬季供暖工作", body="正文。", doc_number="内政办发〔2025〕12号",
                    published_date=date(2025, 11, 3), source=source, id=1)
    body = Menu([notice]).texts.sms_body(notice)
    assert body.split("\n") == ["【听文】关于做好冬季供暖工作的通知", "文号：内政办发〔2025〕12号", "日期：2025年11月3日"] + (
        [f"全文：{source}"] if address else [])


def test_the_message_wording_is_the_prompts_files(tmp_path, loaded_store):
    from importlib import resources

    text = resources.files("content").joinpath("data/prompts.toml").read_text("utf-8").replace("【听文】", "【12345政务热线】")
    custom = tmp_path / "prompts.toml"
    custom.write_text(text, "utf-8")
    menu = Menu(loaded_store.latest(), prompts=load_prompts(custom), texting=True)
    assert menu.texts.sms_body(menu.notices[0]).startswith("【12345政务热线】")


@pytest.mark.parametrize(
    "number, receives",
    [("+8613812345678", True), ("+8619912345678", True), ("+8612812345678", False), ("+864716600000", False),
     ("+861088880000", False), ("+14155550100", True), ("+447700900123", True)],
)
def test_which_numbers_can_receive_a_text(number, receives):
    assert can_receive_texts(number) is receives


# The menu


def _reading(menu: Menu):
    state, _ = menu.start()
    state, _ = menu.step(state, Event.press("1"))
    if state.mode is Mode.NOTICE:
        state, _ = menu.step(state, Event.press("9"))
    return state


def test_five_while_reading_sends_the_notice_and_reading_goes_on(loaded_store):
    menu = Menu(loaded_store.latest(), texting=True)
    state = _reading(menu)
    assert state.mode is Mode.READING
    after, actions = menu.step(state, Event.press("5"))
    assert isinstance(actions[0], Stop)
    sent = next(a for a in actions if isinstance(a, SendText))
    assert sent.notice_id == state.notice_id and sent.body == menu.texts.sms_body(menu.by_id[state.notice_id])
    play = next(a for a in actions if isinstance(a, Play))
    assert (after.mode, after.sentence, play.sentence) == (Mode.READING, state.sentence, state.sentence)


def test_a_parts_end_offers_the_text_message(loaded_store):
    menu = Menu(loaded_store.latest(), texting=True)
    state = _reading(menu)
    while state.mode is Mode.READING:
        state, actions = menu.step(state, Event.finished())
    assert state.mode is Mode.PART_END
    assert PROMPTS.text_hint in "".join(a.text for a in actions if hasattr(a, "text"))
    _, actions = menu.step(state, Event.said(Intent(IntentKind.TEXT)))
    assert any(isinstance(a, SendText) for a in actions)


def test_without_texting_five_is_no_choice_while_reading(loaded_store):
    menu = Menu(loaded_store.latest())
    state = _reading(menu)
    after, actions = menu.step(state, Event.press("5"))
    assert after.misses == 1 and not any(isinstance(a, SendText) for a in actions)


# The phone line



def _app(data_dir, cloud, **settings):
    return phone_app(data_dir, sms_from=OURS, twilio_account_sid=ACCOUNT_SID, twilio_api_url=cloud.url, **settings)


def _menu(app) -> Menu:
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        return menu_for(store, app.config["TINGWEN_PHONE_MENU"])


def _call_reading(app, caller=MOBILE, sid="CA" + "a" * 32) -> PhoneCall:
    call = PhoneCall(app, sid=sid, caller=caller).start()
    call.press("1")
    if call.twiml.xpath("//Gather") and _menu(app).notices[0].sections:
        call.press("9")
    return call


def _heard(app, call: PhoneCall, text: str) -> bool:
    urls = audio_urls(app, text)
    return call.plays[: len(urls)] == urls


def test_five_sends_the_notice_to_the_callers_mobile(tmp_path, cloud):
    app = _app(tmp_path / "data", cloud)
    call = _call_reading(app)
    call.press("5")
    assert len(cloud.messages) == 1
    message, notice = cloud.messages[0], _menu(app).notices[0]
    assert (message.to, message.from_, message.body) == (MOBILE, OURS, _menu(app).texts.sms_body(notice))
    assert _heard(app, call, PROMPTS.text_sent) and len(call.plays) > len(audio_urls(app, PROMPTS.text_sent))  # and reading goes on


def test_at_most_the_days_limit_per_caller(tmp_path, cloud):
    app = _app(tmp_path / "data", cloud, texts_per_day=2)
    call = _call_reading(app)
    for _ in range(2):
        call.press("5")
        assert _heard(app, call, PROMPTS.text_sent)
    call.press("5")
    assert _heard(app, call, PROMPTS.text_limit) and len(cloud.messages) == 2
    later = _call_reading(app, sid="CA" + "b" * 32)  # another call the same day
    later.press("5")
    assert _heard(app, later, PROMPTS.text_limit) and len(cloud.messages) == 2
    other = _call_reading(app, caller="+8613900000001", sid="CA" + "c" * 32)
    other.press("5")
    assert _heard(app, other, PROMPTS.text_sent) and len(cloud.messages) == 3


@pytest.mark.parametrize(
    "caller, said",
    [
        ("+861088880001", "text_cannot_receive"),  # a Beijing landline: never sent to Twilio
        ("+14155550100", "text_cannot_receive"),  # Twilio refuses it as no mobile (21614)
        ("anonymous", "text_no_number"),
    ],
)
def test_a_number_that_cannot_receive_one_is_told_why(tmp_path, cloud, caller, said):
    cloud.landlines.add("+14155550100")
    app = _app(tmp_path / "data", cloud, texts_per_day=1)
    call = _call_reading(app, caller=caller)
    call.press("5")
    assert _heard(app, call, getattr(PROMPTS, said)) and cloud.messages == []
    if caller.startswith("+1"):  # a refusal does not use up the day's message
        cloud.landlines.clear()
        call.press("5")
        assert _heard(app, call, PROMPTS.text_sent) and len(cloud.messages) == 1


def test_when_twilio_cannot_be_reached_the_caller_hears_so_and_nothing_is_counted(tmp_path, cloud):
    app = _app(tmp_path / "data", cloud, texts_per_day=1)
    call = _call_reading(app)
    cloud.failing = True
    call.press("5")
    assert _heard(app, call, PROMPTS.text_failed)
    cloud.failing = False
    call.press("5")
    assert _heard(app, call, PROMPTS.text_sent) and len(cloud.messages) == 1
    with CallStore.open(app.config["TINGWEN_IVR"]) as calls:
        assert calls.summary(timezone="Asia/Shanghai")["texts"] == {"failed": 1, "sent": 1}


def test_without_an_account_the_caller_hears_it_failed_never_a_500(tmp_path, cloud):
    app = phone_app(tmp_path / "data", sms_from=OURS)  # TWILIO_ACCOUNT_SID not set
    call = _call_reading(app)
    call.press("5")
    assert call.last.status_code == 200 and _heard(app, call, PROMPTS.text_failed)


def test_two_servers_on_one_postgresql_share_the_days_limit(tmp_path, cloud, postgres_server):
    url = postgres_server()
    first = _app(tmp_path / "a", cloud, database_url=url, texts_per_day=1)
    second = _app(tmp_path / "b", cloud, database_url=url, texts_per_day=1)
    _call_reading(first).press("5")
    call = _call_reading(second, sid="CA" + "d" * 32)
    call.press("5")
    assert _heard(second, call, PROMPTS.text_limit) and len(cloud.messages) == 1


def test_a_streaming_call_sends_it_too(tmp_path, cloud):
    app = _app(tmp_path / "data", cloud, phone_mode="stream")
    app.config["TINGWEN_IVR"] = dataclasses.replace(app.config["TINGWEN_IVR"], stream_lead_ms=600_000)
    port, stop = live_app(app)
    try:
        call = TwilioStream(app, port, sid="CA" + "5" * 32)
        call.phone.caller = MOBILE
        call.answer().connect()
        call.wait_for(lambda ms: any(m["event"] == "mark" for m in ms))
        call.press("1")
        call.wait_for(lambda ms: sum(m["event"] == "clear" for m in ms) >= 1)
        if _menu(app).notices[0].sections:
            call.press("9")
            call.wait_for(lambda ms: sum(m["event"] == "clear" for m in ms) >= 2)
        call.press("5")
        call.wait_for(lambda ms: bool(cloud.messages))
        assert cloud.messages[0].to == MOBILE and cloud.messages[0].body == _menu(app).texts.sms_body(_menu(app).notices[0])
        call.close()
    finally:
        stop()


def test_what_a_caller_hears_about_a_text_message_is_made_ahead(loaded_store):
    menu = Menu(loaded_store.latest(), texting=True)
    said = set(menu.prompt_texts())
    assert {PROMPTS.text_sent, PROMPTS.text_no_number, PROMPTS.text_cannot_receive, PROMPTS.text_limit, PROMPTS.text_failed} <= said
    assert any(PROMPTS.text_hint in text for text in said)  # a part's end says the key
