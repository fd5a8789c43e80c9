"""Kiosk pages: the latest notices as large numbered cards, and a notice page whose regions
(header, each section) each carry a read-aloud toggle. The page asks for a region's speech when
its toggle is pressed; the server answers with its sentences and the URLs of their audio, made by
the same TTS as the phone."""

from __future__ import annotations

import itertools
import json
import logging
from functools import cache
from urllib.parse import urlsplit

import segno
from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file
from flask_sock import Sock
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from monitoring import metrics
from content.commands import load_vocabulary
from content.keys import ALL_KEYS, ITEM_KEYS, key_legend, page_intents, spoken_intents
from content.errors import NoticeNotFound
from content.menu import End, Event, Intent, IntentKind, Listen, MenuState, Play, Say, Stop, menu_for
from content.model import Notice
from content.prompts import load_prompts
from content.menu_texts import MenuTexts
from content.reading import find_section, section_label
from content.store import NoticeStore
from textrules.sentences import split_sentences
from speech.engine import PACES
from speech.speaker import Speaker
from speech.utterances import AudioFormat

blueprint = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static", static_url_path="/kiosk/static")
sock = Sock()
HOME_PAGE_SIZE = len(ITEM_KEYS)  # one keypad digit per card (content/keys.py); 9 reads them all
SPEECH_PAGE = 30  # sentences one /kiosk/speech answer plans; the page asks for the next ones


@blueprint.context_processor
def _key_map() -> dict:
    """Every kiosk page lists the keys, and its script maps keys to intents, from content/keys.py."""
    return {"key_legend": key_legend(), "page_intents": page_intents(), "item_keys": len(ITEM_KEYS)}


def _store() -> NoticeStore:
    return NoticeStore(current_app.config["TINGWEN_DB"])


def _voice_status() -> str | None:
    model = current_app.extensions.get("tingwen.speech_model")
    return None if model is None or model.available else "语音识别未开启，请使用按键。"


def _kiosk_settings() -> dict:
    return current_app.config.get("TINGWEN_KIOSK", {"idle_seconds": 120, "countdown_seconds": 30, "gather_seconds": 8})


@blueprint.get("/")
def home():
    with _store() as store:
        notices = store.latest(limit=HOME_PAGE_SIZE)
    feed_url = _kiosk_settings().get("feed_url")
    if feed_url and urlsplit(feed_url).hostname in _LOOPBACK:
        feed_url = None  # a phone cannot reach this machine's own address: no code that leads nowhere
    return render_template(
        "kiosk/home.html", notices=notices, voice_status=_voice_status(), settings=_kiosk_settings(),
        feed_url=feed_url, feed_qr=feed_qr(feed_url) if feed_url else None,
    )


_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@cache
def feed_qr(url: str) -> Markup:
    """The podcast feed's address as a QR code (segno), inline SVG that scales without blur."""
    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=True))


@blueprint.get("/notice/<int:notice_id>")
def notice(notice_id: int):
    found = _listed(notice_id)
    parts = [(s, section_label(s), s.path.count(".")) for s in found.walk()]
    return render_template(
        "kiosk/notice.html",
        notice=found,
        intro=_texts().notice_intro(found),
        gist=_texts().notice_gist(found),
        parts=parts,
        sentences=split_sentences,
        voice_status=_voice_status(),
        settings=_kiosk_settings(),
    )


@blueprint.get("/kiosk/speech/<kind>/<int:notice_id>")
@blueprint.get("/kiosk/speech/<kind>/<int:notice_id>/<path>")
def speech(kind: str, notice_id: int, path: str = ""):
    """A region's sentences and the URLs of their audio (16-bit WAV), in reading order."""
    found = _listed(notice_id)
    if kind == "card":
        texts = [_texts().notice_intro(found)]
    elif kind == "intro":
        texts = [_texts().notice_intro(found)] + [t for t in (_texts().notice_gist(found), found.body) if t]
    elif kind == "full":  # hands-free: the whole notice, from its title
        texts = _texts().whole_notice(found)
    elif kind == "section":
        section = find_section(found, path)
        if section is None:
            abort(404)
        texts = [section.reading_text()]
    else:
        abort(404)
    start = request.args.get("from", "0")
    start = int(start) if start.isascii() and start.isdigit() and len(start) < 9 else 0
    # One request plans one page of sentences, however long the notice: the page asks for the
    # next when it gets there, so a request's work is bounded and nothing is made ahead unheard.
    chosen = list(itertools.islice((s for text in texts for s in split_sentences(text)), start, start + SPEECH_PAGE + 1))
    sentences = []
    for index, sentence in enumerate(chosen[:SPEECH_PAGE]):
        audio = _audio_urls(sentence, first=index == 0)
        if audio:
            sentences.append({"text": sentence, "audio": audio})
    if chosen and not sentences:
        return jsonify({"error": load_prompts().cannot_read}), 503  # no voice can speak: the page says so
    answer: dict = {"sentences": sentences}
    if len(chosen) > SPEECH_PAGE:
        answer["more"] = f"{request.path}?from={start + SPEECH_PAGE}"
    return jsonify(answer)


def _rate() -> int | None:
    """The pace the page asks for (?speed=slow|normal|fast); slow is the service's own rate."""
    speed = request.args.get("speed", "slow")
    return None if speed == "slow" or speed not in PACES else PACES[speed]


def _audio_urls(text: str, first: bool, voice: tuple[int | None, float] | None = None) -> list[str]:
    """The names of the text's audio, at once: it is made in the background or when fetched
    (`first`: what the visitor hears first, made before anything else waiting), at the page's
    pace, or at `voice` (rate, gain) where the 语音菜单 was asked to read slower or louder."""
    speaker: Speaker = current_app.extensions["tingwen.speaker"]
    rate, gain = voice or (_rate(), 1.0)
    try:
        return [f"/kiosk/audio/{chunk.name}" for chunk in speaker.plan(text, AudioFormat.WAV, rate=rate, first=first, gain=gain)]
    except Exception:  # no voice can speak: the page shows the text and says it cannot read
        log.exception("could not plan kiosk audio")
        return []


@blueprint.get("/kiosk/audio/<name>")
def audio(name: str):
    """Our kiosk audio (16-bit WAV), made now if it was only planned; names are content hashes,
    so cache forever."""
    speaker: Speaker = current_app.extensions["tingwen.speaker"]
    try:
        path = speaker.audio_file(name, AudioFormat.WAV)
    except Exception:
        log.exception("could not make kiosk audio %s", name)
        abort(503, "audio cannot be made right now")
    if path is None:
        abort(404)
    response = send_file(path, mimetype="audio/wav", max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@blueprint.errorhandler(Exception)
def _fault(error: Exception):
    """A refusal keeps its status; anything else that fails inside (a full disk, a broken store)
    is logged, and the visitor is told plainly, as JSON to the page's script or as a page."""
    if isinstance(error, HTTPException):
        return error
    metrics.error(type(error).__name__, "kiosk")
    log.error("kiosk %s failed: %s: %s", request.path, type(error).__name__, error, exc_info=not isinstance(error, OSError))
    message = load_prompts().cannot_read
    if request.path.startswith("/kiosk/"):
        return jsonify({"error": message}), 503
    return render_template("kiosk/unavailable.html", voice_status=message, settings=_kiosk_settings()), 503


def _listed(notice_id: int) -> Notice:
    """The notice, if listeners may reach it: unknown and withdrawn ones are 404."""
    try:
        with _store() as store:
            found = store.get(notice_id)
    except NoticeNotFound:
        abort(404)
    if found.withdrawn:
        abort(404)
    return found


def _texts() -> MenuTexts:
    """What the kiosk's menu says, so a notice is introduced in the menu's words."""
    return MenuTexts(current_app.config["TINGWEN_MENU"].prompts)


log = logging.getLogger(__name__)


def kiosk_commands() -> dict[str, tuple[str, int | None]]:
    """Spoken words → (intent, number), for the kiosk's microphone: every word of commands.toml
    on the one key map (content/keys.py)."""
    return spoken_intents(current_app.config.get("TINGWEN_VOCABULARY") or load_vocabulary())


@sock.route("/kiosk/listen", bp=blueprint)
def listen(ws):
    """16 kHz 16-bit mono PCM from the kiosk microphone → what was said, as a key."""
    from speech.audio_in import InputFormat
    from speech.recognizer import ModelUnavailable, Session, VocabularyError, load_model

    status = current_app.extensions.get("tingwen.speech_model")
    if status is None or not status.available:
        ws.send(json.dumps({"error": "语音识别未开启"}))
        return
    commands = kiosk_commands()
    try:
        session = Session(load_model(status.path), InputFormat(16000), list(commands))
    except (ModelUnavailable, VocabularyError) as error:
        status.turn_off(str(error))
        ws.send(json.dumps({"error": "语音识别未开启"}))
        return
    received = 0
    while True:
        data = ws.receive()
        if data is None:
            break
        if isinstance(data, str):
            if data == "reset":
                session.reset()  # our own audio started: do not act on what came before
            continue
        received += len(data)
        heard = session.feed(data)
        if heard is not None:
            meant = commands.get(heard.phrase) if heard.phrase else None
            threshold = current_app.config["TINGWEN_IVR"].speech_threshold
            message = {"heard": heard.text, "intent": None, "number": None, "bytes": received}
            if meant and heard.sure(threshold):
                message["intent"], message["number"] = meant
            if meant and heard.confirm and heard.confidence >= threshold:
                message["check"] = meant[1]  # 四/十: the number to confirm before acting
            metrics.recognised("understood" if message["intent"] else "confirmed" if "check" in message
                               else "off_menu" if heard.text and not meant else "unclear")
            ws.send(json.dumps(message))



@blueprint.post("/kiosk/menu")
def menu_turn():
    """One turn of the voice menu (content/menu.py), the same conversation as the phone's. The
    page keeps the small menu state and sends it back with each event; a stale or forged state
    simply starts the menu again."""
    data = _json_body()
    event = _event(data.get("event"))
    with _store() as store:
        menu = menu_for(store, current_app.config["TINGWEN_MENU"])
    state = None
    if isinstance(data.get("state"), str) and event is not None:
        try:
            state = MenuState.from_json(data["state"])
        except (ValueError, TypeError, KeyError):
            state = None
    if state is None or event is None:
        state, actions = menu.start()
    else:
        state, actions = menu.step(state, event)
    out = []
    voice = current_app.extensions["tingwen.speaker"].listener_voice(state.pace, state.loudness, _rate())
    for action in actions:
        if isinstance(action, (Say, Play)):
            audio = _audio_urls(action.text, first=not any(o["type"] == "say" for o in out), voice=voice)
            out.append({"type": "say", "text": action.text, "audio": audio})
        elif isinstance(action, Stop):
            out.append({"type": "stop"})
        elif isinstance(action, Listen):
            out.append({"type": "listen", "keys": list(action.keys), "words": list(action.words)})
        elif isinstance(action, End):
            out.append({"type": "end", "reason": action.reason})
    return jsonify(state=state.to_json(), reading=state.is_reading, actions=out)


def _json_body() -> dict:
    """The request's JSON object; anything else (not JSON, nested past reason) is a 400. Its size
    is bounded by the app's MAX_CONTENT_LENGTH (413)."""
    try:
        data = json.loads(request.get_data(as_text=True))
    except (ValueError, RecursionError):
        abort(400, "expected a JSON object")
    if not isinstance(data, dict):
        abort(400, "expected a JSON object")
    return data


def _event(raw) -> Event | None:
    """The page's event: {"kind": "key", "key": "4"}, {"kind": "intent", "intent": "cancel"},
    "timeout", "finished", "unclear"; None (or "start") starts the menu."""
    if not isinstance(raw, dict) or raw.get("kind") in (None, "start"):
        return None
    kind = raw["kind"]
    if kind == "key":
        key = raw.get("key")
        return Event.press(key if isinstance(key, str) and key in ALL_KEYS and len(key) == 1 else "?")
    if kind == "intent":
        number = raw.get("number")
        if number is not None and (isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 99):
            abort(400, "an intent's number is a whole number from 0 to 99")
        try:
            return Event.said(Intent(IntentKind(raw.get("intent")), number))
        except (ValueError, TypeError):
            abort(400, "unknown intent")
    if kind == "check":  # a spoken number easily misheard: the menu confirms it first
        number = raw.get("number")
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 9:
            abort(400, "check needs the number heard, 1 to 9")
        return Event.check(Intent(IntentKind.CHOOSE, number))
    if not isinstance(kind, str):
        abort(400, "an event's kind is a word")
    if kind in ("timeout", "finished", "unclear"):
        return getattr(Event, kind)()
    abort(400, f"unknown event kind {kind!r}")
