"""Composition root: the Flask app factory, the production server, and the `tingwen` command
line (its group here; the commands in commands/, the settings in config.py).

Only this module, config.py and commands/ import every package, and nothing imports this one; the
front ends find the store through the app config.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import sqlite3
import sys
import time
from datetime import date
from pathlib import Path

import click
from flask import Flask, Response, g, request
from gunicorn.app.base import BaseApplication
from werkzeug.exceptions import HTTPException

import feed
import ivr
import kiosk
import staff
from commands import COMMANDS
from config import (
    DATA_DIR_ENV, STAFF_SECRET_FILE, Config, build_speaker, hall_day, listener_texts, make_episodes, open_subscriber_list,
    open_watch_state, speech_model_status, watch_pass,
)
from content.errors import StoreBusy, StoreUnreadable
from content.ingest import ensure_bundled
from content.database import READY_IN_SERVERS, close_pools, keep_ready, shown
from content.menu import menu_for
from content.revision_watch import stop_all as stop_revision_watches, watch as watch_revision
from content.connections import close_idle, defer_checkpoints
from content.store import NoticeStore
from content.titles import load_abbreviations
from feed.episodes import EpisodeShelf
from ivr.call_summary import OpenCalls
from ivr.callstore import CallStore
from ivr.ready import prepare_line
from monitoring import logs, metrics
from speech.engine import EngineUnavailable, VoiceSettings, check_voice
from speech.recognizer import RecognitionPool
from speech.pronounce import load_dictionary
from speech.prerender import BackgroundPrerender
from speech.exiting import settle_synthesis
from speech.speaker import Speaker
from staff.accounts import StaffStore
from staff.sessions import StaffSessions
from watcher.background import WatchJob

log = logging.getLogger("tingwen")


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


def start_watching(config: Config, prerender: BackgroundPrerender | None) -> WatchJob:
    """Follow TINGWEN_WATCH_URLS every TINGWEN_WATCH_MINUTES; what was published is rendered soon."""

    def after(report) -> None:
        if prerender is not None and (report.new or report.changed):
            prerender.poke()

    job = WatchJob(lambda: open_watch_state(config), lambda state: watch_pass(config, state), config.watch_minutes, after)
    return job.start()


def watch_status(config: Config) -> dict:
    """For the staff console: what the watcher follows, its last passes and what it found."""
    with open_watch_state(config) as state:
        overview = state.overview()
    return {**overview, "urls": config.watched_urls, "minutes": config.watch_minutes, "autopublish": config.watch_autopublish}


MAX_REQUEST_BYTES = 256 * 1024  # a webhook or a kiosk turn is a few kilobytes; larger bodies get 413
def configure_logging(kind: str | None = None) -> None:
    """INFO and above to standard error, wherever the app starts (the command line, gunicorn,
    a test), unless the host has set up logging itself: text, or JSON lines with
    TINGWEN_LOG_FORMAT=json (gunicorn's own lines too)."""
    logs.configure(kind or os.environ.get("TINGWEN_LOG_FORMAT", "text"))


def serving_app(config: Config | None = None) -> Flask:
    """The app as a production worker runs it (`tingwen serve`, and bench/ivr_load.py): built,
    then everything a listener can hear prepared (chunks and pinyin: the reading front end takes
    about 1.6 ms a sentence), on PostgreSQL a few connections opened, and the phone line made
    ready (ivr/ready.py) before the worker takes its first request, so no caller waits on any."""
    app = create_app(config)
    config, speaker = app.config["TINGWEN"], app.extensions["tingwen.speaker"]
    started = time.monotonic()
    with NoticeStore(config.db_path) as store:
        count = speaker.prepare_ahead(listener_texts(config, store))
    ready = min(READY_IN_SERVERS, config.threads)
    # PostgreSQL (every store shares the one database): callers whose webhooks meet find a connection open
    keep_ready(config.db_path, ready)
    answers = prepare_line(app, ready)
    log.info("prepared %d texts to be heard and kept %d phone answers in %.1f s", count, answers, time.monotonic() - started)
    return app


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.load()
    configure_logging(config.log_format)
    defer_checkpoints()  # a request never folds a database's log into it: a background thread does
    watch_revision(str(config.db_path))  # the revision known without opening the store in every request
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
    if config.watched_urls:  # new notices from the website, in the background
        app.extensions["tingwen.watch"] = start_watching(config, app.extensions.get("tingwen.prerender"))
    app.register_blueprint(kiosk.blueprint)
    app.register_blueprint(ivr.blueprint)
    app.register_blueprint(ivr.bulletin_blueprint)  # the daily bulletin's calls (ivr/bulletin_webhooks.py)
    app.register_blueprint(ivr.operator_blueprint)  # back from the hall's staff (ivr/operator_webhooks.py)
    app.register_blueprint(feed.blueprint)
    _set_up_staff(app, config)
    app.add_url_rule("/healthz", "healthz", lambda: _health(app))
    _measure(app, config, speaker)
    app.register_error_handler(Exception, _fault)
    return app


def _set_up_staff(app: Flask, config: Config) -> None:
    """The staff console: its accounts store, and session cookies signed with a key kept in the
    data folder (so sessions survive a restart and are shared by every worker)."""
    StaffStore(config.staff_db).close()  # create or migrate it now
    app.secret_key = _secret(config.data_dir / STAFF_SECRET_FILE)
    app.session_interface = StaffSessions()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_NAME="tingwen_staff")
    app.config["TINGWEN_STAFF"] = {
        "db": config.staff_db,
        "drafts": config.drafts_dir,
        "pronunciations": config.pronunciations,
        "idle_minutes": config.staff_idle_minutes,
        "timezone": config.timezone,
    }
    app.extensions["tingwen.call_log"] = lambda: CallStore.open(config.ivr)  # staff reads it; only we know ivr
    app.extensions["tingwen.hands_free"] = lambda since, until: hands_free_status(config, since, until)
    app.extensions["tingwen.watch_status"] = lambda: watch_status(config)
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


def _measure(app: Flask, config: Config, speaker: Speaker) -> None:
    """Every request timed by route; /metrics for the hall's Prometheus (the public door of the
    nginx example never passes it)."""
    metrics.voice_chosen(config.voice, speaker.engine.name)

    @app.before_request
    def _started() -> None:
        g.tingwen_started = time.monotonic()

    @app.after_request
    def _answered(response):
        started = g.pop("tingwen_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            metrics.request(route, request.method, response.status_code, time.monotonic() - started)
        return response

    def page() -> Response:
        body = metrics.exposition(OpenCalls(lambda: CallStore.open(config.ivr)))
        return Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8")

    app.add_url_rule("/metrics", "metrics", page)


def _fault(error: Exception):
    """Outside the front ends (which answer their own listeners): a refusal keeps its status,
    anything else is logged and answered 503 as JSON, never a 500."""
    if isinstance(error, HTTPException):
        return error
    metrics.error(type(error).__name__, "service")
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


def hands_free_status(config: Config, since: date, until: date) -> dict:
    """For the staff console: the daily bulletin's counts today and each day from `since` to
    `until` (None and [] when it is off), and how many of the latest notices have a podcast
    episode ready."""
    counts, days = None, []
    if config.bulletin_from:
        with open_subscriber_list(config) as store:
            counts = store.counts(hall_day(config))
            days = store.per_day(since.isoformat(), until.isoformat())
    with NoticeStore(config.db_path) as store:
        listed = {n.id for n in menu_for(store, config.menu).notices}
    ready = len(set(EpisodeShelf(config.episodes_dir).index()) & listed)
    return {"bulletin": counts, "bulletin_days": days, "episodes": ready, "notices": len(listed), "feed_url": config.feed_url}


def _check_subscribers(config: Config) -> None:
    """Create or migrate the bulletin's list and check its key now. A damaged one does not stop
    the phone line and the kiosk: it is logged, and key 8 says the bulletin cannot be done."""
    if not config.bulletin_from:
        return
    try:
        open_subscriber_list(config).close()
    except (StoreUnreadable, StoreBusy, sqlite3.DatabaseError) as error:
        log.error("BULLETIN: %s; callers pressing 8 hear that it cannot be done now", error)


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
    ctx.obj = Config.load(data_dir)
    configure_logging(ctx.obj.log_format)
    try:
        load_abbreviations(ctx.obj.abbreviations)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the kiosk page and the phone webhooks (bundled notices loaded into an empty store)
    with gunicorn: TINGWEN_WORKERS processes of TINGWEN_THREADS threads, WebSockets included,
    access logs, and a graceful stop on SIGTERM."""
    config: Config = ctx.obj
    metrics.use_multiprocess(config.data_dir / "metrics")  # before anything counts: the workers add up in files there
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
    close_idle()  # and so are SQLite's: a connection must never cross a fork
    stop_revision_watches()  # nor a revision listener's


class ProductionServer(BaseApplication):
    """gunicorn, hosting serving_app(config) in each worker (the neural voice loads once per
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
            "worker_exit": lambda server, worker: settle_synthesis(),  # no synthesis cut off as a worker stops
            "child_exit": lambda server, worker: metrics.worker_exited(worker.pid),  # its live gauges stop counting
        }
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)

    def load(self) -> Flask:
        configure_logging(self.config.log_format)
        try:
            return serving_app(self.config)
        except (StoreUnreadable, StoreBusy, EngineUnavailable, OSError, sqlite3.DatabaseError, ValueError) as error:
            log.critical("tingwen cannot start: %s", error)
            sys.exit(4)  # gunicorn's "App failed to load": the master stops instead of retrying


for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
