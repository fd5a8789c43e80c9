"""The bulletin's test harness, shared by its test files: a fake of Twilio's REST API on
loopback (`cloud`), an app with the bulletin set up (`app`, parametrisable with database and
phone_mode), a clock that sleeps by moving on, and Twilio's part on our webhooks (TwilioSide)."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from conftest import PUBLIC_URL, PhoneCall, phone_app
from content.model import Notice, Section
from content.prompts import load_prompts
from content.store import NoticeStore
from ivr.bulletin import BulletinRun, TwilioDialer
from ivr.subscribers import open_subscribers
from twilio_rest_fake import ACCOUNT_SID, PlacedCall

OUR_NUMBER = "+861088880000"
PROMPTS = load_prompts()


def zone_at(hour: int) -> str:
    """A fixed-offset zone in which it is now about `hour` o'clock: tests never straddle midnight."""
    offset = (hour - datetime.now(UTC).hour + 12) % 24 - 12
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


class FakeClock:
    def __init__(self, start: datetime):
        self.moment = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.moment += timedelta(seconds=seconds)

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)



@pytest.fixture
def app(tmp_path, cloud, request):
    settings = dict(getattr(request, "param", {}))
    if settings.pop("database", "sqlite") == "postgresql":
        settings["database_url"] = request.getfixturevalue("postgres_server")()
    app = phone_app(
        tmp_path / "data", bulletin_from=OUR_NUMBER, twilio_account_sid=ACCOUNT_SID, twilio_api_url=cloud.url,
        timezone=zone_at(10), bulletin_window="00:00-24:00", **settings,
    )
    time.sleep(1.1)  # the bundled notices are older than any subscription (the store counts in seconds)
    return app


def subscribe(app, *numbers: str) -> None:
    config = app.config["TINGWEN"]
    with open_subscribers(config.subscribers_db, config.data_dir / "subscriber-key") as store:
        for number in numbers:
            store.subscribe(number)


_document_numbers = itertools.count(1)


def publish(app, *titles: str) -> list[int]:
    """New notices (each with a document number of its own, so none is taken for a revision of
    another), stored a second after the subscriptions."""
    time.sleep(1.1)
    notices = [
        Notice(
            title=title, spoken_title=title, doc_number=f"测试〔2026〕{number}号",
            body=f"各盟市：经自治区人民政府同意，决定自2026年12月{n + 1}日起开展{title.removeprefix('关于').removesuffix('的通知')}。",
            published_date=datetime.now(UTC).date(),
            sections=[Section("1", 1, "一、", "工作要求", f"各地区要认真落实{title}，确保取得实效。")],
        )
        for n, title in enumerate(titles)
        for number in [next(_document_numbers)]
    ]
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        store.save(notices)
        return [n.id for n in store.latest() if n.title in titles]


def run(app, clock, **overrides):
    config = app.config["TINGWEN"]
    settings = replace(config.bulletin, **overrides)
    with open_subscribers(config.subscribers_db, config.data_dir / "subscriber-key") as subs, NoticeStore(config.db_path) as notices:
        return BulletinRun(subs, notices.published_since, TwilioDialer(settings), settings, clock).run()


def store_of(app):
    config = app.config["TINGWEN"]
    return open_subscribers(config.subscribers_db, config.data_dir / "subscriber-key")


class TwilioSide:
    """Twilio's part after calls.create: the callee answers (our Url is fetched, signed), keys
    are pressed, and status callbacks go to the StatusCallback the client sent."""

    def __init__(self, app, call: PlacedCall):
        assert call.url.startswith(PUBLIC_URL) and call.status_callback.startswith(PUBLIC_URL)
        self.app, self.call = app, call
        self.phone = PhoneCall(app, sid=call.sid, caller=call.to)
        self.phone.params = {"From": call.from_, "To": call.to, "Direction": "outbound-api"}

    def answer(self) -> PhoneCall:
        self.call.status = "in-progress"
        self.status("in-progress")
        self.phone.post(self.call.url[len(PUBLIC_URL) :], {**self.phone.params, "CallSid": self.call.sid, "CallStatus": "in-progress"})
        assert self.phone.last.status_code == 200, self.phone.last.data
        return self.phone

    def machine(self, answered_by: str):
        """Twilio's answering machine detection says what answered (to AsyncAmdStatusCallback)."""
        url = self.call.machine_detection["AsyncAmdStatusCallback"]
        assert url.startswith(PUBLIC_URL)
        params = {"AccountSid": ACCOUNT_SID, "CallSid": self.call.sid, "AnsweredBy": answered_by, "MachineDetectionDuration": "4100"}
        return self.phone.post(url[len(PUBLIC_URL) :], params)

    def follow_redirect(self) -> PhoneCall:
        """Twilio fetches the TwiML the call was last moved to (calls(sid).update(url=…))."""
        moved = self.call.updates[-1]
        assert moved["Url"].startswith(PUBLIC_URL) and moved.get("Method", "POST") == "POST"
        self.phone.post(moved["Url"][len(PUBLIC_URL) :], {**self.phone.params, "CallSid": self.call.sid, "CallStatus": "in-progress"})
        assert self.phone.last.status_code == 200, self.phone.last.data
        return self.phone

    def status(self, status: str, duration: int | None = None):
        params = {**self.phone.params, "CallSid": self.call.sid, "CallStatus": status}
        if duration is not None:
            params["CallDuration"] = str(duration)
        response = self.phone.post(self.call.status_callback[len(PUBLIC_URL) :], params)
        assert response.status_code == 204, response.data
        return response


def find_sequence(plays: list[str], urls: list[str]) -> int:
    """Where `urls` are played one after another in `plays`, or -1."""
    for index in range(len(plays) - len(urls) + 1):
        if plays[index : index + len(urls)] == urls:
            return index
    return -1
