"""The settings of a tingwen installation, and what they build.

Each setting comes from the environment, else from `tingwen.toml` in the data folder (same names,
lower case), else its default; a bad value is refused by name. The app factory (server.py) and
every command (commands/) read one Config, and build the speaker, the texts a listener can hear,
the podcast episodes and the subscriber list from it the same way.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import platformdirs

from content.commands import load_vocabulary
from content.database import is_postgres
from content.menu import DEFAULT_MAX_MISSES, MENU_NOTICES, MenuSettings, menu_for, spoken_texts
from content.store import NoticeStore
from feed.episodes import EpisodeShelf
from ivr.bulletin import BulletinSettings
from ivr.settings import DEFAULT_GATHER_TIMEOUT, DEFAULT_MAX_CALL_MINUTES, DEFAULT_READING_BATCH, IvrSettings
from ivr.numbers import dialable
from ivr.subscribers import SubscriberStore, open_subscribers
from speech.cache import AudioCache, DEFAULT_MAX_BYTES
from speech.engine import DEFAULT_RATE, VoiceSettings
from speech.models import ModelStore, SpeechModelStatus, watch_speech_model
from speech.speaker import Speaker
from speech.voices import DEFAULT_VOICE, VOICES, choose_voice

DATA_DIR_ENV = "TINGWEN_DATA_DIR"
DB_FILE = "tingwen.sqlite3"
CALLS_DB_FILE = "calls.sqlite3"  # the phone line's call state and log
SALT_FILE = "caller-salt"  # hashes callers' numbers; without it old and new calls cannot be matched
STAFF_DB_FILE = "staff.sqlite3"  # staff accounts and the audit log
STAFF_SECRET_FILE = "staff-secret"  # signs the staff console's session cookies
SUBSCRIBERS_DB_FILE = "subscribers.sqlite3"  # the daily phone bulletin's subscribers and calls
SUBSCRIBER_KEY_FILE = "subscriber-key"  # seals subscribers' numbers; without it they cannot be called
ABBREVIATIONS_FILE = "abbreviations.txt"  # the hall's own title abbreviations
PRONUNCIATIONS_FILE = "pronunciations.txt"  # the hall's own pronunciations


@dataclass(frozen=True)
class Config:
    """Where tingwen keeps its data (database, audio cache, speech models), how it speaks, and
    how the phone line is reached. Each setting comes from the environment, else from
    `tingwen.toml` in the data folder (same names, lower case), else its default."""

    data_dir: Path
    database_url: str | None = None  # postgresql://…: notices, calls and staff shared by several servers
    audio_folder: str | None = None  # the audio cache's folder, if not the data folder's (shared by servers)
    voice: str = DEFAULT_VOICE
    neural_model_dir: str | None = None  # a folder with the neural voice's model files (default: those shipped in speech/data/neural)
    speech_rate: int = DEFAULT_RATE
    speech_volume: float = 1.0
    audio_cache_mb: int = DEFAULT_MAX_BYTES // (1024 * 1024)
    public_url: str = "http://127.0.0.1:8000"
    twilio_auth_token: str | None = None
    skip_twilio_signature: bool = False
    gather_timeout: int = DEFAULT_GATHER_TIMEOUT
    max_call_minutes: int = DEFAULT_MAX_CALL_MINUTES
    max_misses: int = DEFAULT_MAX_MISSES
    vosk_model: str | None = None
    phone_mode: str = "gather"
    commands_file: str | None = None
    kiosk_idle_seconds: float = 120
    kiosk_countdown_seconds: float = 30  # at least 20 s to read the warning and press 继续
    prerender: bool = True  # render what callers will hear in the background while serving
    reading_batch: int = DEFAULT_READING_BATCH
    menu_notices: int = MENU_NOTICES  # the latest notices the phone and kiosk menus offer
    workers: int = 1  # `serve`: gunicorn worker processes (each loads its own neural voice)
    threads: int = 32  # `serve`: threads per worker (each open phone stream or kiosk microphone holds one)
    graceful_seconds: int = 30  # `serve`: how long SIGTERM waits for requests and calls in progress
    access_log: str = "-"  # `serve`: where access lines go ("-": standard output; "": none)
    busy_seconds: float = 60  # commands: how long a write waits for another's (two ingests at once)
    call_log_days: int = 365  # the call log keeps this many days (0: for ever)
    timezone: str = "Asia/Shanghai"  # the hall's days, for the staff summary
    staff_idle_minutes: int = 30  # a staff console session ends after this long without a request
    twilio_account_sid: str | None = None  # the daily bulletin's outbound calls (Twilio's REST API)
    twilio_api_url: str = "https://api.twilio.com"
    bulletin_from: str | None = None  # our Twilio number; set, the phone menu offers the bulletin (key 8)
    bulletin_window: str = "09:00-20:00"  # when subscribers may be called, in TINGWEN_TIMEZONE
    bulletin_calls_per_minute: int = 10
    bulletin_attempts: int = 3  # calls a day to a number that is busy or does not answer
    bulletin_retry_minutes: int = 60  # between them
    bulletin_pause_days: int = 3  # days in a row without an answer before a number is paused
    bulletin_voicemail: bool = True  # detect answering machines and leave them a short message

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
        """The phone's menu: the one menu, with the daily bulletin on key 8 when it is set up."""
        return replace(self.menu, subscription=bool(self.bulletin_from))

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
            subscribers_db=self.subscribers_db if self.bulletin_from else None,
            subscriber_key=self.data_dir / SUBSCRIBER_KEY_FILE,
            bulletin=self.bulletin if self.bulletin_from else None,
        )

    @classmethod
    def load(cls, data_dir: Path | str | None = None) -> Config:
        """--data-dir, else $TINGWEN_DATA_DIR, else the user's data directory; then the settings."""
        chosen = data_dir or os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir("tingwen", appauthor=False)
        folder = Path(chosen).expanduser()
        file_values = _config_file(folder / CONFIG_FILE)
        values = {}
        for name, env in _SETTINGS.items():
            raw = os.environ.get(env)
            if raw is None or not raw.strip():
                raw = file_values.get(env.lower())
            if raw is not None:
                values[name] = _convert(env, raw, cls.__dataclass_fields__[name].type)
        if values.get("menu_notices", MENU_NOTICES) < 1:
            raise click.UsageError(f"TINGWEN_MENU_NOTICES={values['menu_notices']!r}: at least 1")
        if values.get("voice", DEFAULT_VOICE) not in VOICES:
            raise click.UsageError(f"TINGWEN_VOICE={values['voice']!r}: use one of {', '.join(VOICES)}")
        if values.get("database_url") and not is_postgres(values["database_url"]):
            raise click.UsageError("TINGWEN_DATABASE_URL: a postgresql://user:password@host:port/database URL (unset: SQLite)")
        if values.get("call_log_days", 0) < 0:
            raise click.UsageError(f"TINGWEN_CALL_LOG_DAYS={values['call_log_days']!r}: 0 (keep for ever) or more")
        try:
            ZoneInfo(values.get("timezone", "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            raise click.UsageError(f"TINGWEN_TIMEZONE={values['timezone']!r}: not a time zone (e.g. Asia/Shanghai)") from None
        if values.get("bulletin_from") and dialable(values["bulletin_from"]) is None:
            raise click.UsageError(f"TINGWEN_BULLETIN_FROM={values['bulletin_from']!r}: our Twilio number in E.164 form, e.g. +8610XXXXXXXX")
        if values.get("phone_mode", "gather") not in ("gather", "stream"):
            raise click.UsageError(f"TINGWEN_PHONE_MODE={values['phone_mode']!r}: use gather or stream")
        return cls(data_dir=folder, **values)


CONFIG_FILE = "tingwen.toml"
_SETTINGS = {
    "database_url": "TINGWEN_DATABASE_URL",
    "audio_folder": "TINGWEN_AUDIO_DIR",
    "voice": "TINGWEN_VOICE",
    "neural_model_dir": "TINGWEN_NEURAL_MODEL_DIR",
    "speech_rate": "TINGWEN_SPEECH_RATE",
    "speech_volume": "TINGWEN_SPEECH_VOLUME",
    "audio_cache_mb": "TINGWEN_AUDIO_CACHE_MB",
    "public_url": "TINGWEN_PUBLIC_URL",
    "twilio_auth_token": "TWILIO_AUTH_TOKEN",
    "skip_twilio_signature": "TINGWEN_SKIP_TWILIO_SIGNATURE",
    "gather_timeout": "TINGWEN_GATHER_TIMEOUT",
    "max_call_minutes": "TINGWEN_MAX_CALL_MINUTES",
    "max_misses": "TINGWEN_MAX_MISSES",
    "vosk_model": "TINGWEN_VOSK_MODEL",
    "phone_mode": "TINGWEN_PHONE_MODE",
    "commands_file": "TINGWEN_COMMANDS",
    "kiosk_idle_seconds": "TINGWEN_KIOSK_IDLE_SECONDS",
    "kiosk_countdown_seconds": "TINGWEN_KIOSK_COUNTDOWN_SECONDS",
    "prerender": "TINGWEN_PRERENDER",
    "reading_batch": "TINGWEN_READING_BATCH",
    "menu_notices": "TINGWEN_MENU_NOTICES",
    "workers": "TINGWEN_WORKERS",
    "threads": "TINGWEN_THREADS",
    "graceful_seconds": "TINGWEN_GRACEFUL_SECONDS",
    "access_log": "TINGWEN_ACCESS_LOG",
    "busy_seconds": "TINGWEN_BUSY_SECONDS",
    "call_log_days": "TINGWEN_CALL_LOG_DAYS",
    "timezone": "TINGWEN_TIMEZONE",
    "staff_idle_minutes": "TINGWEN_STAFF_IDLE_MINUTES",
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "twilio_api_url": "TINGWEN_TWILIO_API_URL",
    "bulletin_from": "TINGWEN_BULLETIN_FROM",
    "bulletin_window": "TINGWEN_BULLETIN_WINDOW",
    "bulletin_calls_per_minute": "TINGWEN_BULLETIN_CALLS_PER_MINUTE",
    "bulletin_attempts": "TINGWEN_BULLETIN_ATTEMPTS",
    "bulletin_retry_minutes": "TINGWEN_BULLETIN_RETRY_MINUTES",
    "bulletin_pause_days": "TINGWEN_BULLETIN_PAUSE_DAYS",
    "bulletin_voicemail": "TINGWEN_BULLETIN_VOICEMAIL",
}


def _config_file(path: Path) -> dict:
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


def hall_day(config: Config) -> str:
    """Today's date in the hall's time zone (TINGWEN_TIMEZONE)."""
    return datetime.now(UTC).astimezone(ZoneInfo(config.timezone)).date().isoformat()
