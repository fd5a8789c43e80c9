"""Key 8 (or saying 订阅/退订) on the phone's menu of the latest notices puts the caller's number
on the daily bulletin and takes it off again; numbers are sealed, never readable in the file."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from conftest import PhoneCall, audio_urls, live_app, phone_app
from twilio_stream import TwilioStream
from content.menu import Event, Intent, IntentKind, Menu, Mode, Subscribe
from content.connections import close_idle
from content.prompts import load_prompts
from ivr.numbers import NumberKey, dialable, load_number_key
from ivr.subscribers import SubscriberStore, open_subscribers

OUR_NUMBER = "+861088880000"
CALLER = "+8613912345678"
PROMPTS = load_prompts()


@pytest.fixture
def app(tmp_path):
    return phone_app(tmp_path / "data", bulletin_from=OUR_NUMBER, twilio_account_sid="AC" + "0" * 32)


def subscribers(app) -> SubscriberStore:
    config = app.config["TINGWEN"]
    return open_subscribers(config.subscribers_db, config.data_dir / "subscriber-key")


def heard(call: PhoneCall, app, text: str) -> bool:
    urls = audio_urls(app, text)
    plays = call.plays
    return any(plays[i : i + len(urls)] == urls for i in range(len(plays)))


def test_key_8_subscribes_then_unsubscribes_with_spoken_confirmations(app):
    call = PhoneCall(app, caller=CALLER).start()
    assert PROMPTS.subscribe_item in _menu_text(app, subscribed=False)
    call.press("8")
    assert heard(call, app, PROMPTS.subscribed)
    with subscribers(app) as store:
        assert store.is_subscribed(CALLER)
        assert [s.number for s in store.subscribers()] == [CALLER]
    call.press("8")
    assert heard(call, app, PROMPTS.unsubscribed)
    with subscribers(app) as store:
        assert not store.is_subscribed(CALLER)
        assert store.subscribers() == []


def test_a_subscriber_calling_again_is_offered_to_stop(app):
    PhoneCall(app, caller=CALLER).start().press("8")
    again = PhoneCall(app, sid="CA" + "1" * 32, caller=CALLER).start()
    state = app.extensions["tingwen.call_log"]().get(again.sid).state
    assert '"subscribed": true' in state
    assert PROMPTS.unsubscribe_item in _menu_text(app, subscribed=True)
    again.press("8")
    assert heard(again, app, PROMPTS.unsubscribed)
    with subscribers(app) as store:
        assert not store.is_subscribed(CALLER)


@pytest.mark.parametrize("withheld", ["anonymous", "+266696687", "", "client:kiosk", "12345"])
def test_a_withheld_number_hears_why_and_nothing_is_stored(app, withheld):
    call = PhoneCall(app, caller=withheld).start()
    call.press("8")
    assert heard(call, app, PROMPTS.no_number)
    assert not heard(call, app, PROMPTS.subscribed)
    with subscribers(app) as store:
        assert store.subscribers() == []
    assert '"subscribed": false' in app.extensions["tingwen.call_log"]().get(call.sid).state


def test_numbers_are_not_readable_in_a_copy_of_the_database(app, tmp_path):
    numbers = [CALLER, "+8615000000001", "+14155550100"]
    for n, number in enumerate(numbers):
        PhoneCall(app, sid=f"CA{n:032d}", caller=number).start().press("8")
    config = app.config["TINGWEN"]
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(config.subscribers_db, copy)
    if Path(f"{config.subscribers_db}-wal").exists():  # a live database is its file and its log
        shutil.copy(f"{config.subscribers_db}-wal", f"{copy}-wal")
    raw = copy.read_bytes() + b"".join(p.read_bytes() for p in config.data_dir.glob("subscribers.sqlite3-*"))
    for number in numbers:
        for form in (number, number.lstrip("+"), number[-8:]):
            assert form.encode() not in raw and form.encode("utf-16-le") not in raw
        assert hashlib.sha256(number.encode()).hexdigest().encode() not in raw
    # With the key file they can be dialled; with another key the copy is refused by name.
    with SubscriberStore(copy, load_number_key(config.data_dir / "subscriber-key")) as store:
        assert sorted(s.number for s in store.subscribers()) == sorted(numbers)
    from cryptography.fernet import Fernet
    from content.errors import StoreUnreadable

    with pytest.raises(StoreUnreadable, match="another subscriber-key"):
        SubscriberStore(copy, NumberKey(Fernet.generate_key()))


def test_the_kiosk_keeps_eight_notices_and_the_phone_offers_key_8(app, loaded_store):
    from content.menu import menu_for, MenuSettings

    notices = loaded_store.latest()
    assert len(notices) >= 7
    kiosk = Menu(notices)
    phone = Menu(notices, subscription=True)
    kiosk_keys = [c.key for c in kiosk.choices(kiosk.start()[0])]
    phone_keys = [c.key for c in phone.choices(phone.start()[0])]
    assert "8" not in kiosk_keys or len(notices) >= 8
    assert "8" in phone_keys and phone_keys.count("8") == 1
    state, actions = phone.step(phone.start()[0], Event.press("8"))
    assert any(isinstance(a, Subscribe) and a.on for a in actions) and state.subscribed and state.mode is Mode.TOP
    # Saying it works too, and asking for what is already so changes nothing.
    state, actions = phone.step(state, Event.said(Intent(IntentKind.SUBSCRIBE)))
    assert not any(isinstance(a, Subscribe) for a in actions) and state.subscribed
    state, actions = phone.step(state, Event.said(Intent(IntentKind.UNSUBSCRIBE)))
    assert any(isinstance(a, Subscribe) and not a.on for a in actions) and not state.subscribed
    # On the phone, 7 notices a page: the 8th notice is on page 2, chosen there with 1.
    if len(notices) >= 8:
        state, _ = phone.step(phone.start()[0], Event.press("#"))
        state, actions = phone.step(state, Event.press("1"))
        assert state.notice_id == notices[7].id or any(getattr(a, "notice_id", None) == notices[7].id for a in actions)
    words = set(phone.phrases())
    assert {"订阅", "退订"} <= words and not {"订阅", "退订"} & set(kiosk.phrases())
    assert menu_for(loaded_store, MenuSettings(subscription=True)).subscription


@pytest.mark.parametrize(
    "raw, expected",
    [("+86 139-1234-5678", "+8613912345678"), ("+14155550100", "+14155550100"), ("anonymous", None), ("Restricted", None),
     ("+7378742833", None), ("13912345678", None), ("+0123456789", None), ("+86139123456789012", None), (None, None)],
)
def test_which_numbers_can_be_called_back(raw, expected):
    assert dialable(raw) == expected


def _menu_text(app, subscribed: bool) -> str:
    from content.menu import Say, menu_for
    from content.store import NoticeStore

    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        menu = menu_for(store, app.config["TINGWEN_PHONE_MENU"])
    _, actions = menu.start(subscribed=subscribed)
    return "".join(a.text for a in actions if isinstance(a, Say))


def test_key_8_on_a_streaming_call_subscribes_the_caller(tmp_path):
    app = phone_app(tmp_path / "data", bulletin_from=OUR_NUMBER, phone_mode="stream")
    port, stop = live_app(app)
    call = TwilioStream(app, port)
    try:
        call.answer().connect()
        assert call.parameters["caller"] == call.phone.caller
        call.wait_for(lambda ms: any(m["event"] == "mark" for m in ms))
        call.press("8")
        call.wait_for(lambda ms: any(m["event"] == "clear" for m in ms))
        deadline = __import__("time").monotonic() + 10
        while not _subscribed(app, call.phone.caller) and __import__("time").monotonic() < deadline:
            __import__("time").sleep(0.05)
        assert _subscribed(app, call.phone.caller)
    finally:
        call.close()
        stop()


def _subscribed(app, number: str) -> bool:
    with subscribers(app) as store:
        return store.is_subscribed(number)


@pytest.mark.parametrize("damage", ["key", "database"])
def test_a_damaged_subscriber_list_is_said_and_the_line_goes_on(tmp_path, damage):
    data = tmp_path / "data"
    phone_app(data, bulletin_from=OUR_NUMBER)  # made once, then damaged
    close_idle()  # as when that server stopped: its connections are closed (and their logs folded in)
    if damage == "key":
        (data / "subscriber-key").write_bytes(b"not a key")
    else:
        (data / "subscribers.sqlite3").write_bytes(b"garbage" * 100)
        for extra in data.glob("subscribers.sqlite3-*"):
            extra.unlink()
    load_number_key.cache_clear()
    app = phone_app(data, bulletin_from=OUR_NUMBER)  # starts all the same, and says why in the log
    app.testing = False
    call = PhoneCall(app, caller=CALLER).start()
    assert call.last.status_code == 200 and call.plays
    call.press("8")
    assert call.last.status_code == 200 and heard(call, app, PROMPTS.subscribe_failed)
    call.press("1")
    assert call.last.status_code == 200 and call.plays  # the menu goes on
    load_number_key.cache_clear()


def test_a_bulletin_reads_at_most_five_new_notices_newest_first_then_the_menu(loaded_store):
    from content.menu import BULLETIN_NOTICES, Listen, Say

    notices = loaded_store.latest()
    phone = Menu(notices, subscription=True)
    state, actions = phone.start_bulletin([n.id for n in reversed(notices)] + [987654])
    said = [a.text for a in actions if isinstance(a, Say)]
    chosen = notices[:BULLETIN_NOTICES]
    assert said[0] == PROMPTS.bulletin_intro.format(count=len(chosen))
    items = said[1 : 1 + 2 * len(chosen)]
    assert items[0::2] == [PROMPTS.bulletin_number.format(number=n) for n in range(1, len(chosen) + 1)]
    assert items[1::2] == [phone.texts.bulletin_item(n) for n in chosen]
    assert said[1 + 2 * len(chosen)] == PROMPTS.bulletin_stop_hint
    assert PROMPTS.unsubscribe_item in said[-1]  # then the usual menu, offering to stop
    assert state.mode is Mode.TOP and state.subscribed and isinstance(actions[-1], Listen)
    # Nothing known: who is calling and why, how to stop, the menu.
    _, actions = phone.start_bulletin([])
    assert [a.text for a in actions if isinstance(a, Say)][:2] == [PROMPTS.bulletin_nothing, PROMPTS.bulletin_stop_hint]
    # Everything a bulletin says is among the texts made ahead (never synthesised while a subscriber waits).
    assert set(said) <= set(phone.prompt_texts())
