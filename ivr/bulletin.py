"""The daily bulletin run (`tingwen bulletin`, started by a timer): call each subscriber who has
news, once a day, inside the calling window, through Twilio's REST API.

Pacing: at most `calls_per_minute` calls are claimed in any minute (by this run and any other
running at once). Retries: a busy or unanswered call is tried again `retry_minutes` after it
ended, up to `attempts_per_day`; after `pause_after_days` days in a row without an answer the
number is paused. Restart safety: a call is written down before it is placed and its Twilio id
right after; a run first asks Twilio about every call it has not heard the end of, so a crash
between the two neither repeats the call nor forgets the subscriber. Answering machines: Twilio
listens in the background (asynchronous detection, so a person hears the bulletin at once) and
tells /ivr/bulletin/machine; a machine's call is then moved to a short message after its beep.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time as clock_time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from content.menu import BULLETIN_NOTICES
from ivr.numbers import masked_number as masked
from ivr.subscribers import DELIVERED, FAILED, Attempt, SubscriberStore
from ivr.twilio_rest import TwilioAccount, TwilioRefused, refusals

log = logging.getLogger(__name__)
UNHEARD_AFTER = timedelta(minutes=30)  # a placed call with no news this long after: ask Twilio
_FINAL = set(DELIVERED + FAILED)


@dataclass(frozen=True)
class BulletinSettings:
    public_url: str  # where Twilio reaches our webhooks
    from_number: str  # our Twilio number, the caller id subscribers see
    account_sid: str
    auth_token: str
    # The rest come from the settings (config.py declares each with its default).
    api_url: str
    timezone: str
    window: str  # local times between which subscribers may be called
    calls_per_minute: int
    attempts_per_day: int
    retry_minutes: int
    pause_after_days: int
    voicemail: bool  # detect answering machines and leave them a short message

    def url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    @property
    def retry_after(self) -> timedelta:
        return timedelta(minutes=self.retry_minutes)

    def bounds(self) -> tuple[clock_time, clock_time]:
        return window_bounds(self.window)

    def problems(self) -> list[str]:
        """What is missing for a run, by setting name (empty when it can run; the values
        themselves were checked when the settings were read)."""
        return [f"{name} is not set" for value, name in ((self.account_sid, "TWILIO_ACCOUNT_SID"),
                (self.auth_token, "TWILIO_AUTH_TOKEN"), (self.from_number, "TINGWEN_BULLETIN_FROM")) if not value]


def window_bounds(window: str) -> tuple[clock_time, clock_time]:
    """`09:00-20:00` as its two times (`24:00` ends the day); a ValueError names what is wrong."""
    start, _, end = (part.strip() for part in window.partition("-"))
    try:
        bounds = clock_time.fromisoformat(start), clock_time.max if end == "24:00" else clock_time.fromisoformat(end)
    except ValueError:
        raise ValueError("use HH:MM-HH:MM, e.g. 09:00-20:00") from None
    if bounds[0] >= bounds[1]:
        raise ValueError("the start must come before the end")
    return bounds


class Dialer(Protocol):
    """What a run needs of the telephone network (Twilio's REST API, see TwilioDialer)."""

    def place(self, to: str, url: str, status_url: str, machine_url: str | None = None) -> str: ...

    def find(self, to: str, since: datetime) -> list[tuple[str, str]]: ...

    def status(self, call_sid: str) -> str: ...

    def redirect(self, call_sid: str, url: str) -> None: ...

    def hang_up(self, call_sid: str) -> None: ...


class TwilioDialer:
    """Outbound calls with the `twilio` client: calls.create with our webhook and status callback."""

    def __init__(self, settings: BulletinSettings):
        self.settings = settings
        self.client = TwilioAccount(settings.account_sid, settings.auth_token, settings.api_url).client()

    def place(self, to: str, url: str, status_url: str, machine_url: str | None = None) -> str:
        """Call `to`; Twilio fetches `url` when it is answered. With `machine_url`, Twilio also
        listens for an answering machine, to the end of its greeting, without holding the call
        up, and posts what answered there."""
        detection = {}
        if machine_url:
            detection = dict(machine_detection="DetectMessageEnd", async_amd="true",
                             async_amd_status_callback=machine_url, async_amd_status_callback_method="POST")
        with refusals():
            call = self.client.calls.create(
                to=to,
                from_=self.settings.from_number,
                url=url,
                method="POST",
                status_callback=status_url,
                status_callback_method="POST",
                status_callback_event=["initiated", "answered", "completed"],
                timeout=30,  # seconds of ringing: elderly listeners walk to the phone
                **detection,
            )
        return call.sid

    def redirect(self, call_sid: str, url: str) -> None:
        """Move a call under way to the TwiML at `url` (what it was playing stops)."""
        with refusals():
            self.client.calls(call_sid).update(url=url, method="POST")

    def hang_up(self, call_sid: str) -> None:
        with refusals():
            self.client.calls(call_sid).update(status="completed")

    def find(self, to: str, since: datetime) -> list[tuple[str, str]]:
        # No StartTime filter: a call still queued when the run died has not started yet.
        calls = self.client.calls.list(to=to, from_=self.settings.from_number, limit=50)
        return [(c.sid, c.status) for c in calls if c.date_created is None or c.date_created >= since - timedelta(minutes=1)]

    def status(self, call_sid: str) -> str:
        return self.client.calls(call_sid).fetch().status


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class RunReport:
    placed: list[str] = field(default_factory=list)  # the numbers called, in order (masked for display)
    refused: int = 0
    recovered: int = 0
    outside_window: bool = False
    stopped: str = ""  # why the run ended early (Twilio unreachable), empty if it did not

    def lines(self) -> list[str]:
        if self.outside_window:
            return ["outside the calling window: nobody was called"]
        said = [f"{len(self.placed)} call(s) placed", f"{self.refused} refused by Twilio"]
        if self.recovered:
            said.append(f"{self.recovered} earlier call(s) settled with Twilio")
        return [", ".join(said)] + ([f"stopped early: {self.stopped}"] if self.stopped else [])


class BulletinRun:
    def __init__(
        self,
        subscribers: SubscriberStore,
        news: Callable[[str], list[tuple[int, str]]],
        dialer: Dialer,
        settings: BulletinSettings,
        clock: Clock | None = None,
    ):
        """`news(heard_until)`: (notice id, stored at) of the notices stored after that moment,
        newest first (the notice store's published_since)."""
        self.store = subscribers
        self.news = news
        self.dialer = dialer
        self.settings = settings
        self.clock = clock or Clock()
        self.zone = ZoneInfo(settings.timezone)

    def in_window(self, moment: datetime) -> bool:
        start, end = self.settings.bounds()
        return start <= moment.astimezone(self.zone).time() < end

    def day(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).date().isoformat()

    def run(self) -> RunReport:
        report = RunReport()
        try:
            report.recovered = self.settle_unfinished()
        except Exception as error:  # Twilio unreachable: call nobody until what happened is known
            log.error("bulletin: cannot ask Twilio about earlier calls (%s); stopping this run", error)
            report.stopped = f"Twilio cannot be reached to settle earlier calls ({type(error).__name__}: {error})"
            return report
        if not self.in_window(self.clock.now()):
            report.outside_window = True
            return report
        seen: set[int] = set()
        while True:
            now = self.clock.now()
            if not self.in_window(now):
                break
            settings = self.settings
            due = [n for n in self.store.candidates(self.day(now), now, settings.attempts_per_day, settings.retry_after) if n not in seen]
            if not due:
                break
            seen.add(due[0])
            subscriber = self.store.subscriber(due[0])
            if subscriber is None:  # unsubscribed this moment
                continue
            notices = self.news(subscriber.heard_until)[:BULLETIN_NOTICES]
            if not notices:
                continue
            while True:
                claimed = self.store.claim(subscriber, notices, self.day(now), now, settings.attempts_per_day,
                                           settings.retry_after, settings.calls_per_minute)
                if not isinstance(claimed, float):
                    break
                self.clock.sleep(claimed)  # the pace: wait for the minute to have room
                now = self.clock.now()
                if not self.in_window(now):
                    return report
            if claimed is None:
                continue
            if not self._dial(claimed, subscriber.number, report):
                break
        return report

    def _dial(self, attempt: Attempt, number: str, report: RunReport) -> bool:
        settings = self.settings
        try:
            sid = self.dialer.place(
                number,
                settings.url(f"/ivr/bulletin?attempt={attempt.id}"),
                settings.url(f"/ivr/bulletin/status?attempt={attempt.id}"),
                settings.url(f"/ivr/bulletin/machine?attempt={attempt.id}") if settings.voicemail else None,
            )
        except TwilioRefused as error:
            log.warning("bulletin: Twilio refused the call to %s: %s", masked(number), error)
            report.refused += 1
            self.store.outcome(attempt.id, "failed", None, self.clock.now(), settings.pause_after_days,
                               settings.attempts_per_day, str(error))
            return True
        except Exception as error:  # Twilio unreachable: the call may or may not exist; the next run asks
            log.error("bulletin: cannot reach Twilio (%s); stopping this run", error)
            report.stopped = f"Twilio cannot be reached ({type(error).__name__}: {error})"
            return False
        self.store.placed(attempt.id, sid)
        report.placed.append(masked(number))
        log.info("bulletin: called %s (%s), %d notice(s)", masked(number), sid, len(attempt.notices))
        return True

    def settle_unfinished(self) -> int:
        """Ask Twilio about every call claimed but not heard of to the end: a claim that never
        became a call stops counting; a call Twilio has placed keeps its id and gets its outcome."""
        settled = 0
        now = self.clock.now()
        for attempt in self.store.unfinished():
            claimed_at = datetime.fromisoformat(attempt.claimed_at)
            subscriber = self.store.subscriber(attempt.subscriber_id)
            if subscriber is None:
                continue
            sid, status = attempt.call_sid, None
            if sid is None:
                found = self.dialer.find(subscriber.number, claimed_at)
                if not found:
                    self.store.not_placed(attempt.id, "no such call at Twilio: the run stopped before placing it")
                    settled += 1
                    continue
                sid, status = found[0]
                self.store.placed(attempt.id, sid)
            elif now - claimed_at < UNHEARD_AFTER:
                continue  # a call under way: its status callback will come
            status = status or self.dialer.status(sid)
            if status in _FINAL:
                self.store.outcome(attempt.id, status, sid, now, self.settings.pause_after_days, self.settings.attempts_per_day)
                settled += 1
        return settled
