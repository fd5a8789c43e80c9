"""What the phone line needs to know from configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from content.office_hours import OfficeHours
from ivr.bulletin import BulletinSettings
from ivr.twilio_rest import TwilioAccount

DEFAULT_GATHER_TIMEOUT = 8  # seconds of silence before a menu is repeated: generous for elderly callers
READING_GATHER_TIMEOUT = 1  # after a sentence: go on reading unless a key comes at once
DEFAULT_MAX_CALL_MINUTES = 30
DEFAULT_READING_BATCH = 8  # webhooks: sentences read in one Gather, so a notice flows without gaps


@dataclass(frozen=True)
class IvrSettings:
    """The phone line's part of the settings (config.py declares each, with its default, once)."""

    public_url: str  # the base URL Twilio calls, e.g. https://ivr.example.gov.cn
    auth_token: str | None  # the Twilio account's auth token, for X-Twilio-Signature
    calls_db: Path | str  # the SQLite file, or the postgresql:// URL shared by several servers
    salt_file: Path
    validate_signatures: bool
    gather_timeout: int
    max_call_minutes: int
    max_misses: int
    phone_mode: str  # "gather", or "stream": Twilio Media Streams over a WebSocket
    reading_batch: int  # 1: one sentence per webhook
    call_log_days: int  # calls older than this are purged with their events (0: never)
    caller_memory_days: int  # a caller's place and pace are remembered this long (0: not at all)
    speech_threshold: float = 0.6  # below this confidence a spoken command is asked again
    stream_lead_ms: int = 1000  # streaming: how far ahead of real time our audio may be sent
    subscribers_db: Path | str | None = None  # the daily bulletin's list (None: no key 8 on the menu)
    subscriber_key: Path | None = None  # seals subscribers' numbers (ivr/subscribers.py)
    bulletin: BulletinSettings | None = None  # the daily bulletin's calls (None: it is off)
    timezone: str = "Asia/Shanghai"  # the hall's: its office hours and its days
    account: TwilioAccount | None = None  # Twilio's REST API: moving a streaming call, text messages
    operator_number: str | None = None  # the hall's staff (None: no key 7, no 人工)
    office_hours: OfficeHours | None = None  # when someone answers operator_number
    operator_ring_seconds: int = 25  # how long the staff phone rings before the caller hears an apology
    sms_from: str | None = None  # our number (or Messaging Service) that sends notices (None: no key 5)
    texts_per_day: int = 3  # text messages a caller may have in one of the hall's days

    def local_now(self, now: datetime | None = None) -> datetime:
        """Now (or `now`) in the hall's time zone."""
        return (now or datetime.now(UTC)).astimezone(ZoneInfo(self.timezone))

    def staff_answer(self, now: datetime | None = None) -> bool:
        """Whether a caller asking for a person is put through now (a staff number, in office hours)."""
        return bool(self.operator_number and self.office_hours and self.office_hours.is_open(self.local_now(now)))

    def url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    def websocket_url(self, path: str) -> str:
        """wss:// for an https public URL, ws:// for plain http (loopback development)."""
        base = self.public_url.rstrip("/")
        if base.startswith("https://"):
            return "wss://" + base[len("https://") :] + path
        return "ws://" + base.removeprefix("http://") + path
