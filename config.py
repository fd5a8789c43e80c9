"""The settings of a tingwen installation, and what they build.

Each setting comes from the environment, else from `tingwen.toml` in the data folder (same names,
lower case), else its default; a bad value is refused by name. The app factory (server.py) and
every command (commands/) read one Config, and build the speaker, the texts a listener can hear,
the podcast episodes and the subscriber list from it the same way.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import platformdirs

from content.commands import load_vocabulary
from content.database import is_postgres
from content.menu import DEFAULT_MAX_MISSES, MENU_NOTICES, MenuSettings, menu_for
from content.drafts import Drafts
from content.menu_texts import spoken_texts
from content.office_hours import OfficeHours
from content.store import NoticeStore
from feed.episodes import EpisodeShelf
from ivr.bulletin import BulletinSettings, window_bounds
from ivr.settings import DEFAULT_GATHER_TIMEOUT, DEFAULT_MAX_CALL_MINUTES, DEFAULT_READING_BATCH, IvrSettings
from ivr.numbers import dialable
from ivr.subscribers import SubscriberStore, open_subscribers
from ivr.twilio_rest import TwilioAccount
from speech.cache import AudioCache, DEFAULT_MAX_BYTES
from speech.engine import DEFAULT_RATE, MAX_RATE, MIN_RATE, VoiceSettings
from speech.models import ModelStore, SpeechModelStatus, watch_speech_model
from speech.speaker import Speaker
from speech.voices import DEFAULT_VOICE, VOICES, choose_voice
from watcher.client import PoliteClient
from watcher.run import WatchPass, WatchSettings
from watcher.state import WatchState

DATA_DIR_ENV = "TINGWEN_DATA_DIR"
DB_FILE = "tingwen.sqlite3"
CALLS_DB_FILE = "calls.sqlite3"  # the phone line's call state and log
SALT_FILE = "caller-salt"  # hashes callers' numbers; without it old and new calls cannot be matched
STAFF_DB_FILE = "staff.sqlite3"  # staff accounts and the audit log
STAFF_SECRET_FILE = "staff-secret"  # signs the staff console's session cookies
SUBSCRIBERS_DB_FILE = "subscribers.sqlite3"  # the daily phone bulletin's subscribers and calls
WATCH_DB_FILE = "watch.sqlite3"  # what the website watcher has seen of the website
DRAFTS_DIR = "staff-drafts"  # notices waiting for 发布: uploads and what the watcher found
SUBSCRIBER_KEY_FILE = "subscriber-key"  # seals subscribers' numbers; without it they cannot be called
ABBREVIATIONS_FILE = "abbreviations.txt"  # the hall's own title abbreviations
PRONUNCIATIONS_FILE = "pronunciations.txt"  # the hall's own pronunciations


def setting(env: str, default: Any, help: str, check: Callable[[Any], str | None] | None = None, shown: str | None = None):
    """One setting, declared once: its environment name (lower case in tingwen.toml), its default,
    what it does (the README's tables are checked against this, tests/test_settings_documented.py),
    and a check that names what is wrong with a value. `shown` is the default as the README says it
    when the value itself says little (None, a URL's absence)."""
    return field(default=default, metadata={"env": env, "help": help, "check": check, "shown": shown})


def _at_least(low: float) -> Callable[[Any], str | None]:
    return lambda value: None if value >= low else f"at least {low}"


def _between(low: float, high: float) -> Callable[[Any], str | None]:
    return lambda value: None if low <= value <= high else f"between {low} and {high}"


def _one_of(*allowed: str) -> Callable[[Any], str | None]:
    return lambda value: None if value in allowed else f"use one of {', '.join(allowed)}"


def _postgres(value: str) -> str | None:
    return None if is_postgres(value) else "a postgresql://user:password@host:port/database URL (unset: SQLite)"


def _time_zone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "not a time zone (e.g. Asia/Shanghai)"
    return None


def _calling_window(value: str) -> str | None:
    try:
        window_bounds(value)
    except ValueError as error:
        return str(error)
    return None


def _our_number(value: str) -> str | None:
    return None if dialable(value) is not None else "our Twilio number in E.164 form, e.g. +8610XXXXXXXX"


def _staff_number(value: str) -> str | None:
    return None if dialable(value) is not None else "the hall's staff number in E.164 form, e.g. +86471XXXXXXX"


def _text_sender(value: str) -> str | None:
    if dialable(value) is not None or (value.startswith("MG") and len(value) == 34 and value[2:].isalnum()):
        return None
    return "our Twilio number in E.164 form (+86…) or a Messaging Service SID (MG…)"


def _web_addresses(value: str) -> str | None:
    bad = [u for u in value.split() if not u.startswith(("http://", "https://"))]
    return f"web addresses (http:// or https://) separated by spaces; not one: {bad[0]}" if bad else None


def _office_hours(value: str) -> str | None:
    try:
        OfficeHours.parse(value)
    except ValueError as error:
        return str(error)
    return None


@dataclass(frozen=True)
class Config:
    """Where tingwen keeps its data (database, audio cache, speech models), how it speaks, and
    how the phone line is reached. Each setting comes from the environment, else from
    `tingwen.toml` in the data folder (same names, lower case), else its default."""

    data_dir: Path
    # Where things are kept
    database_url: str | None = setting(
        "TINGWEN_DATABASE_URL", None, "`postgresql://…`: notices, calls and staff accounts in one PostgreSQL for several servers",
        _postgres, shown="SQLite in the data folder")
    audio_folder: str | None = setting(
        "TINGWEN_AUDIO_DIR", None, "the audio cache's folder (several servers may share one)", shown="`audio/` in the data folder")
    # The voice
    voice: str = setting("TINGWEN_VOICE", DEFAULT_VOICE, "`neural` or `espeak`", _one_of(*VOICES))
    neural_model_dir: str | None = setting(
        "TINGWEN_NEURAL_MODEL_DIR", None, "a folder holding the neural voice's model files", shown="those shipped in `speech/data/neural/`")
    speech_rate: int = setting("TINGWEN_SPEECH_RATE", DEFAULT_RATE, "words per minute", _between(MIN_RATE, MAX_RATE))
    speech_volume: float = setting("TINGWEN_SPEECH_VOLUME", 1.0, "gain, 0.0 – 2.0", _between(0.0, 2.0))
    audio_cache_mb: int = setting("TINGWEN_AUDIO_CACHE_MB", DEFAULT_MAX_BYTES // (1024 * 1024), "size bound of the audio cache", _at_least(1))
    prerender: bool = setting("TINGWEN_PRERENDER", True, "render what listeners will hear in the background while serving")
    # The phone line
    public_url: str = setting("TINGWEN_PUBLIC_URL", "http://127.0.0.1:8000", "the public base URL Twilio calls")
    twilio_auth_token: str | None = setting(
        "TWILIO_AUTH_TOKEN", None, "the account's auth token: every webhook's signature is checked with it",
        shown="none: webhooks refuse every request")
    skip_twilio_signature: bool = setting("TINGWEN_SKIP_TWILIO_SIGNATURE", False, "accept unsigned webhooks: for development only")
    gather_timeout: int = setting("TINGWEN_GATHER_TIMEOUT", DEFAULT_GATHER_TIMEOUT, "seconds of silence before a menu is repeated", _at_least(1))
    max_call_minutes: int = setting("TINGWEN_MAX_CALL_MINUTES", DEFAULT_MAX_CALL_MINUTES, "a call longer than this ends with a goodbye", _at_least(1))
    max_misses: int = setting("TINGWEN_MAX_MISSES", DEFAULT_MAX_MISSES, "wrong keys or silences in a row before a goodbye", _at_least(1))
    phone_mode: str = setting("TINGWEN_PHONE_MODE", "gather", "`gather` (webhooks) or `stream` (Media Streams)", _one_of("gather", "stream"))
    reading_batch: int = setting("TINGWEN_READING_BATCH", DEFAULT_READING_BATCH, "sentences read in one `<Gather>`", _at_least(1))
    call_log_days: int = setting("TINGWEN_CALL_LOG_DAYS", 365, "the call log keeps this many days (0: for ever)", _at_least(0))
    caller_memory_days: int = setting(
        "TINGWEN_CALLER_MEMORY_DAYS", 90, "a caller's place in a notice and their pace are remembered this long (0: not at all)",
        _at_least(0))
    # Listening and the menus
    vosk_model: str | None = setting(
        "TINGWEN_VOSK_MODEL", None, "the speech model: a folder or an installed name", shown="the installed one, else keypad only")
    commands_file: str | None = setting(
        "TINGWEN_COMMANDS", None, "a vocabulary file like `content/data/commands.toml`", shown="`content/data/commands.toml`")
    menu_notices: int = setting("TINGWEN_MENU_NOTICES", MENU_NOTICES, "the latest notices the phone and kiosk menus offer", _at_least(1))
    kiosk_idle_seconds: float = setting("TINGWEN_KIOSK_IDLE_SECONDS", 120.0, "a kiosk without input this long warns", _at_least(10))
    kiosk_countdown_seconds: float = setting(
        "TINGWEN_KIOSK_COUNTDOWN_SECONDS", 30.0, "the warning's countdown (at least 20 s to read it and press 继续)", _at_least(20))
    # Running it
    workers: int = setting("TINGWEN_WORKERS", 1, "`serve`: gunicorn worker processes (each loads its own voice)", _at_least(1))
    threads: int = setting("TINGWEN_THREADS", 32, "`serve`: threads per worker (each open stream or microphone holds one)", _at_least(1))
    graceful_seconds: int = setting("TINGWEN_GRACEFUL_SECONDS", 30, "how long SIGTERM waits for requests and calls in progress", _at_least(0))
    log_format: str = setting("TINGWEN_LOG_FORMAT", "text", "`text`, or `json`: one JSON object a line for a log collector",
                              _one_of("text", "json"))
    access_log: str = setting("TINGWEN_ACCESS_LOG", "-", "where access lines go: `-` standard output, a file path, or empty for none")
    busy_seconds: float = setting("TINGWEN_BUSY_SECONDS", 60.0, "how long a command waits for another's write", _at_least(0))
    timezone: str = setting("TINGWEN_TIMEZONE", "Asia/Shanghai", "the hall's time zone, for its days", _time_zone)
    staff_idle_minutes: int = setting("TINGWEN_STAFF_IDLE_MINUTES", 30, "a staff session ends after this long without a request", _at_least(1))
    # The daily bulletin
    twilio_account_sid: str | None = setting(
        "TWILIO_ACCOUNT_SID", None, "the account that places the bulletin's calls, sends text messages and moves streaming calls", shown="none")
    twilio_api_url: str = setting("TINGWEN_TWILIO_API_URL", "https://api.twilio.com", "Twilio's REST API (the tests point it at a local stand-in)")
    bulletin_from: str | None = setting(
        "TINGWEN_BULLETIN_FROM", None, "our Twilio number; set, the phone menu offers the bulletin (key 8)", _our_number,
        shown="none: no bulletin")
    bulletin_window: str = setting("TINGWEN_BULLETIN_WINDOW", "09:00-20:00", "when subscribers may be called, in TINGWEN_TIMEZONE", _calling_window)
    bulletin_calls_per_minute: int = setting("TINGWEN_BULLETIN_CALLS_PER_MINUTE", 10, "calls started in any one minute", _at_least(1))
    bulletin_attempts: int = setting("TINGWEN_BULLETIN_ATTEMPTS", 3, "calls a day to a number that is busy or does not answer", _at_least(1))
    bulletin_retry_minutes: int = setting("TINGWEN_BULLETIN_RETRY_MINUTES", 60, "minutes between them", _at_least(1))
    bulletin_pause_days: int = setting("TINGWEN_BULLETIN_PAUSE_DAYS", 3, "days in a row without an answer before a number is paused", _at_least(1))
    bulletin_voicemail: bool = setting("TINGWEN_BULLETIN_VOICEMAIL", True, "detect answering machines and leave them a short message")
    # A person, and the notice by text message
    operator_number: str | None = setting(
        "TINGWEN_OPERATOR_NUMBER", None, "the hall's staff number; set, the phone menu offers a person (key 7, 人工)", _staff_number,
        shown="none: no key 7")
    office_hours: str = setting("TINGWEN_OFFICE_HOURS", "Mon-Fri 09:00-12:00,13:30-17:00",
                                "when the staff number answers, in TINGWEN_TIMEZONE (`;` between groups of days)", _office_hours)
    operator_ring_seconds: int = setting("TINGWEN_OPERATOR_RING_SECONDS", 25, "how long the staff phone rings before an apology", _between(5, 120))
    sms_from: str | None = setting(
        "TINGWEN_SMS_FROM", None, "our Twilio number (or Messaging Service SID) for text messages; set, key 5 sends a notice",
        _text_sender, shown="none: no key 5")
    texts_per_day: int = setting("TINGWEN_TEXTS_PER_DAY", 3, "text messages one caller may have in a day", _at_least(1))
    # Following the government website
    watch_urls: str | None = setting(
        "TINGWEN_WATCH_URLS", None, "list pages of the website the server follows (space between them)", _web_addresses,
        shown="none: not followed")
    watch_minutes: float = setting("TINGWEN_WATCH_MINUTES", 60.0, "minutes between two passes over them", _at_least(5))
    watch_contact: str | None = setting(
        "TINGWEN_WATCH_CONTACT", None, "who the website can tell about our crawler (in its User-Agent)",
        shown="TINGWEN_PUBLIC_URL")
    watch_autopublish: bool = setting("TINGWEN_WATCH_AUTOPUBLISH", False, "publish new articles at once instead of as drafts")
    watch_pages: int = setting("TINGWEN_WATCH_PAGES", 3, "pages of each list followed (下一页)", _between(1, 50))

    @property
    def db_path(self) -> Path | str:
        """The notice store: TINGWEN_DATABASE_URL if set (PostgreSQL), else the data folder's file."""
        return self.database_url or self.data_dir / DB_FILE

    @property
    def neural_dir(self) -> Path | None:
        return Path(self.neural_model_dir).expanduser() if self.neural_model_dir else None

    @property
    def audio_dir(self) -> Path:
        """TINGWEN_AUDIO_DIR (a folder several servers may share), else the data folder's."""
        return Path(self.audio_folder).expanduser() if self.audio_folder else self.data_dir / "audio"

    @property
    def episodes_dir(self) -> Path:
        """The podcast feed's MP3 episodes, beside the audio they are made from."""
        return self.audio_dir / "episodes"

    @property
    def feed_url(self) -> str:
        return self.public_url.rstrip("/") + "/feed.xml"

    @property
    def abbreviations(self) -> Path:
        """The hall's own abbreviations for long titles (same form as content/data/abbreviations.txt)."""
        return self.data_dir / ABBREVIATIONS_FILE

    @property
    def pronunciations(self) -> Path:
        """Extra pronunciations staff can add (same form as speech/data/pronunciations.txt)."""
        return self.data_dir / PRONUNCIATIONS_FILE

    @cached_property
    def menu(self) -> MenuSettings:
        """The one menu's settings, for the front ends, prerender, `models check` and `listen`."""
        vocabulary = load_vocabulary(Path(self.commands_file) if self.commands_file else None)
        return MenuSettings(max_misses=self.max_misses, vocabulary=vocabulary, notices=self.menu_notices)

    @cached_property
    def phone_menu(self) -> MenuSettings:
        """The phone's menu: the one menu, with the daily bulletin on key 8, a person on key 7 and
        the notice by text message on key 5 when each is set up."""
        hours = OfficeHours.parse(self.office_hours) if self.operator_number else None
        return replace(self.menu, subscription=bool(self.bulletin_from), office_hours=hours, texting=bool(self.sms_from))

    @property
    def subscribers_db(self) -> Path | str:
        return self.database_url or self.data_dir / SUBSCRIBERS_DB_FILE

    @property
    def bulletin(self) -> BulletinSettings:
        return BulletinSettings(
            public_url=self.public_url,
            from_number=self.bulletin_from or "",
            account_sid=self.twilio_account_sid or "",
            auth_token=self.twilio_auth_token or "",
            api_url=self.twilio_api_url,
            timezone=self.timezone,
            window=self.bulletin_window,
            calls_per_minute=self.bulletin_calls_per_minute,
            attempts_per_day=self.bulletin_attempts,
            retry_minutes=self.bulletin_retry_minutes,
            pause_after_days=self.bulletin_pause_days,
            voicemail=self.bulletin_voicemail,
        )

    @property
    def watched_urls(self) -> tuple[str, ...]:
        return tuple((self.watch_urls or "").split())

    @property
    def watch_db(self) -> Path | str:
        return self.database_url or self.data_dir / WATCH_DB_FILE

    @property
    def drafts_dir(self) -> Path:
        return self.data_dir / DRAFTS_DIR

    @property
    def staff_db(self) -> Path | str:
        return self.database_url or self.data_dir / STAFF_DB_FILE

    @property
    def models(self) -> ModelStore:
        return ModelStore(self.data_dir / "models")

    def speech_model_path(self) -> Path | None:
        """The configured model folder (TINGWEN_VOSK_MODEL or VOSK_MODEL_PATH), else the one
        installed with `tingwen models install`, else None: keypad only."""
        chosen = self.vosk_model or os.environ.get("VOSK_MODEL_PATH")
        if chosen:
            installed = self.models.find(chosen)
            return Path(installed.path) if installed else Path(chosen).expanduser()
        return self.models.default_path()

    @property
    def ivr(self) -> IvrSettings:
        return IvrSettings(
            public_url=self.public_url,
            auth_token=self.twilio_auth_token,
            calls_db=self.database_url or self.data_dir / CALLS_DB_FILE,
            salt_file=self.data_dir / SALT_FILE,
            validate_signatures=not self.skip_twilio_signature,
            gather_timeout=self.gather_timeout,
            max_call_minutes=self.max_call_minutes,
            max_misses=self.max_misses,
            phone_mode=self.phone_mode,
            reading_batch=max(1, self.reading_batch),
            call_log_days=self.call_log_days,
            caller_memory_days=self.caller_memory_days,
            subscribers_db=self.subscribers_db if self.bulletin_from else None,
            subscriber_key=self.data_dir / SUBSCRIBER_KEY_FILE,
            bulletin=self.bulletin if self.bulletin_from else None,
            timezone=self.timezone,
            account=TwilioAccount(self.twilio_account_sid or "", self.twilio_auth_token or "", self.twilio_api_url),
            operator_number=self.operator_number,
            office_hours=self.phone_menu.office_hours,
            operator_ring_seconds=self.operator_ring_seconds,
            sms_from=self.sms_from,
            texts_per_day=self.texts_per_day,
        )

    @classmethod
    def load(cls, data_dir: Path | str | None = None) -> Config:
        """--data-dir, else $TINGWEN_DATA_DIR, else the user's data directory; then the settings."""
        chosen = data_dir or os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir("tingwen", appauthor=False)
        folder = Path(chosen).expanduser()
        file_values = read_config_file(folder / CONFIG_FILE)
        values = {}
        for declared in SETTINGS:
            env = declared.metadata["env"]
            raw = os.environ.get(env)
            if raw is None or not raw.strip():
                raw = file_values.get(env.lower())
            if raw is None:
                continue
            value = _convert(env, raw, declared.type)
            check = declared.metadata["check"]
            problem = check(value) if check and value is not None else None
            if problem:
                raise click.UsageError(f"{env}={value!r}: {problem}")
            values[declared.name] = value
        return cls(data_dir=folder, **values)


CONFIG_FILE = "tingwen.toml"
SETTINGS = tuple(f for f in fields(Config) if "env" in f.metadata)  # every setting, in the order declared


def shown_default(declared) -> str:
    """A setting's default as the README and `tingwen settings` say it."""
    value = declared.default
    if declared.metadata["shown"] is not None:
        return declared.metadata["shown"]
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def read_config_file(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise click.UsageError(f"{path}: {error}") from None


def _convert(name: str, raw, kind: str):
    """A setting's text (or TOML value) as the type the Config field declares."""
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).strip().lower() in ("1", "true", "yes", "on"):
                return True
            if str(raw).strip().lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except ValueError:
        raise click.UsageError(f"{name}={raw!r} is not a valid {kind}") from None


def build_speaker(config: Config, rate: int | None = None, voice: str | None = None) -> Speaker:
    """The speech pipeline for this configuration: the chosen voice, espeak-ng behind it (a
    voice that cannot load is reported once, loudly, and espeak-ng speaks); fails loudly only
    when no Mandarin voice at all can speak."""
    settings = VoiceSettings(rate=rate or config.speech_rate, volume=config.speech_volume)
    choice = choose_voice(voice or config.voice, settings, config.neural_dir)
    cache = AudioCache(config.audio_dir, max_bytes=config.audio_cache_mb * 1024 * 1024)
    return Speaker(cache, settings, engine=choice.engine, pronunciations=config.pronunciations, fallback=choice.fallback)


def listener_texts(config: Config, store: NoticeStore) -> list[str]:
    """Everything a listener can hear, prompts first: the phone's menu (with the bulletin when it
    is set up), the kiosk's where it differs, then every sentence of the latest notices."""
    phone = spoken_texts(menu_for(store, config.phone_menu))
    kiosk = menu_for(store, config.menu).prompt_texts() if config.phone_menu.subscription else []
    return list(dict.fromkeys(phone + kiosk))


def make_episodes(config: Config, speaker: Speaker, stop=None) -> int:
    """The podcast feed's episodes for the latest notices (those not made yet, or out of date)."""
    with NoticeStore(config.db_path) as store:
        notices = menu_for(store, config.menu).notices
    return EpisodeShelf(config.episodes_dir).make(speaker, notices, stop)


def speech_model_status(config: Config, phrases: list[str] | None = None) -> SpeechModelStatus:
    return watch_speech_model(config.speech_model_path(), phrases)


def open_subscriber_list(config: Config) -> SubscriberStore:
    """The daily bulletin's subscribers, sealed with the key in the data folder."""
    return open_subscribers(config.subscribers_db, config.data_dir / SUBSCRIBER_KEY_FILE)


def open_watch_state(config: Config) -> WatchState:
    return WatchState(config.watch_db)


def watch_pass(config: Config, state: WatchState, urls: tuple[str, ...] | None = None, progress=None) -> WatchPass:
    """One pass of the website watcher over `urls` (else TINGWEN_WATCH_URLS), as configured."""
    settings = WatchSettings(
        urls=tuple(urls or config.watched_urls), contact=config.watch_contact or config.public_url,
        autopublish=config.watch_autopublish, pages=config.watch_pages,
    )
    return WatchPass(state, lambda: NoticeStore(config.db_path, busy_seconds=config.busy_seconds), Drafts(config.drafts_dir),
                     PoliteClient(settings.contact), settings, progress)


def hall_day(config: Config) -> str:
    """Today's date in the hall's time zone (TINGWEN_TIMEZONE)."""
    return datetime.now(UTC).astimezone(ZoneInfo(config.timezone)).date().isoformat()
