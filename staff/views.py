"""The staff console (/staff/): sign in, the notices with their state and listens, upload →
preview → 发布, a notice's page (spoken title, withdraw, restore), the pronunciation dictionary,
what callers hear (charts with tables) and the audit log. In Chinese, for office staff."""

from __future__ import annotations

import re

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import HTTPException

from monitoring import metrics
from content.errors import IngestError, NoticeNotFound
from content.reading import find_section, section_label, segments
from content.store import NoticeStore
from textrules.sentences import split_sentences
from speech.normalize import normalize
from speech.pronounce import check_entry, dictionary_entries, save_entry, to_pinyin
from speech.speaker import Speaker
from speech.utterances import AudioFormat
from staff.accounts import StaffStore
from staff.charts import bar_chart, stacked_bar_chart
from content.drafts import Drafts
from staff.security import csrf_token, guard, sign_in, signed_in

log = logging.getLogger(__name__)
blueprint = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static")
blueprint.before_request(guard)


@blueprint.after_request
def _protect(response):
    """No framing (clickjacking), no scripts or objects from anywhere but our own files, no
    sniffing, and staff pages are not kept in shared caches."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; object-src 'none'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.context_processor
def _page_values():
    return {"csrf_token": csrf_token, "staff_name": signed_in}


@blueprint.errorhandler(Exception)
def _fault(error: Exception):
    """A refusal keeps its status; anything else (a damaged file, a full disk) is logged and
    shown to staff in words, naming the file where there is one."""
    if isinstance(error, HTTPException):
        return error
    metrics.error(type(error).__name__, "staff")
    log.error("staff %s failed: %s: %s", request.path, type(error).__name__, error, exc_info=not isinstance(error, (OSError, ValueError)))
    return render_template("staff/fault.html", message=f"出错了：{error}"), 503


def _settings() -> dict:
    return current_app.config["TINGWEN_STAFF"]


def _accounts() -> StaffStore:
    return StaffStore(_settings()["db"])


def _notices() -> NoticeStore:
    return NoticeStore(current_app.config["TINGWEN_DB"])


def _call_log():
    """The phone line's call log (opened by the composition root: staff does not import ivr);
    it has summary(), listens() and close()."""
    return current_app.extensions["tingwen.call_log"]()


def _speaker() -> Speaker:
    return current_app.extensions["tingwen.speaker"]


def _render_soon() -> None:
    """Ask the background prerender for a pass now (it makes only what is not cached)."""
    prerender = current_app.extensions.get("tingwen.prerender")
    if prerender is not None:
        prerender.poke()


def _record(action: str, **detail) -> None:
    with _accounts() as accounts:
        accounts.record(signed_in() or "?", action, **detail)


# Signing in


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    problem = None
    if request.method == "POST":
        name = request.form.get("username", "").strip()[:64]
        password = request.form.get("password", "")[:256]
        with _accounts() as accounts:
            locked = accounts.locked_until(name)
            if locked is None and accounts.check(name, password):
                accounts.record(name, "login")
                sign_in(name)
                target = request.args.get("next", "")
                return redirect(target if target.startswith("/staff/") and "//" not in target else url_for("staff.index"))
            locked = locked or accounts.locked_until(name)
        problem = "尝试次数过多，该账号已锁定一分钟，请稍后再试。" if locked else "用户名或密码错误。"
        log.warning("staff sign-in failed for %r%s", name, " (locked)" if locked else "")
    return render_template("staff/login.html", problem=problem), 401 if problem else 200


@blueprint.post("/logout")
def logout():
    _record("logout")
    from flask import session

    session.clear()
    return redirect(url_for("staff.login"))


# Notices


@blueprint.get("/")
def index():
    with _notices() as store:
        notices = store.latest(withdrawn=True)
    calls = _call_log()
    listens = calls.listens()
    calls.close()
    return render_template("staff/index.html", notices=notices, listens=listens)


@blueprint.route("/upload", methods=["GET", "POST"])
def upload():
    if request.method == "GET":
        return render_template("staff/upload.html", problem=None)
    files = [(f.filename or "file.txt", f.read()) for f in request.files.getlist("files") if f and f.filename]
    try:
        draft = _drafts().create(signed_in(), request.form.get("issuer", "").strip() or None, files, request.form.get("text"))
    except IngestError as error:
        return render_template("staff/upload.html", problem=str(error)), 400
    _record("upload", draft=draft.id, files=[name[3:] for name in draft.files])
    return redirect(url_for("staff.preview", draft_id=draft.id))


def _drafts() -> Drafts:
    return Drafts(_settings()["drafts"])


def _draft(draft_id: str):
    draft = _drafts().get(draft_id)
    if draft is None:
        abort(404)
    return draft


def _shown_error(error: IngestError, folder: Path) -> str:
    """The error as the CLI says it, with the file's name as uploaded (not our folder)."""
    source = re.sub(r"^\d\d-", "", Path(error.source).name) if error.source.startswith(str(folder)) else error.source
    where = f"{source}，第 {error.line} 行" if error.line else source
    return f"{where}：{error.problem}"


def _parsed(draft_id: str):
    """The draft and its notices; or, when a file cannot be read, the preview page naming it."""
    draft = _draft(draft_id)
    try:
        return draft, draft.parse(), None
    except IngestError as error:
        page = render_template("staff/preview.html", draft=draft, notices=[], problem=_shown_error(error, draft.folder))
        return draft, [], (page, 400)


@blueprint.get("/drafts/<draft_id>")
def preview(draft_id: str):
    draft, notices, refused = _parsed(draft_id)
    if refused:
        return refused
    readings = [
        [(segment, _part_label(notice, segment.path), [(s, normalize(s)) for s in segment.sentences]) for segment in segments(notice)]
        for notice in notices
    ]
    return render_template("staff/preview.html", draft=draft, notices=list(zip(notices, readings)), problem=None)


def _part_label(notice, path: str) -> str:
    section = find_section(notice, path) if path else None
    return section_label(section) if section else "正文"


@blueprint.post("/drafts/<draft_id>/publish")
def publish(draft_id: str):
    draft, notices, refused = _parsed(draft_id)
    if refused:
        return refused
    with _notices() as store:
        saved = store.save(notices)
    _drafts().discard(draft)
    _record("publish", notices=[n.id for n in notices], titles=[n.spoken_title for n in notices])
    _render_soon()  # the new notices' audio, in the background
    flash(f"已发布 {saved.total} 条通知（新增 {saved.added}，更新 {saved.updated}，未变 {saved.unchanged}）。")
    return redirect(url_for("staff.index"))


@blueprint.get("/notices/<int:notice_id>")
def notice(notice_id: int):
    try:
        with _notices() as store:
            found = store.get(notice_id)
    except NoticeNotFound:
        abort(404)
    return render_template("staff/notice.html", notice=found, outline=[(s, section_label(s), s.path.count(".")) for s in found.walk()])


@blueprint.post("/notices/<int:notice_id>/title")
def set_title(notice_id: int):
    title = request.form.get("spoken_title", "")
    try:
        with _notices() as store:
            changed = store.set_spoken_title(notice_id, title)
    except NoticeNotFound:
        abort(404)
    except ValueError:
        flash("朗读标题需要 1 到 64 个字。")
        return redirect(url_for("staff.notice", notice_id=notice_id))
    _record("title", notice=notice_id, spoken_title=changed.spoken_title)
    flash("朗读标题已保存。")
    return redirect(url_for("staff.notice", notice_id=notice_id))


@blueprint.post("/notices/<int:notice_id>/<any(withdraw, restore):action>")
def withdraw_or_restore(notice_id: int, action: str):
    try:
        with _notices() as store:
            store.set_withdrawn(notice_id, action == "withdraw")
    except NoticeNotFound:
        abort(404)
    _record(action, notice=notice_id)
    flash("已撤回：电话和自助机上不再出现。" if action == "withdraw" else "已恢复：电话和自助机上重新出现。")
    return redirect(url_for("staff.notice", notice_id=notice_id))


# Hearing what callers will hear


@blueprint.post("/speech")
def speech():
    """The audio of a sentence (or a word said with a proposed pinyin), as the service says it."""
    text = request.form.get("text", "")[:500]
    pinyin = request.form.get("pinyin")
    try:
        if pinyin:
            word, pinyin = check_entry(text, pinyin)
            planned = _speaker().plan_pinyin(word, pinyin, AudioFormat.WAV)
        else:
            planned = [p for sentence in split_sentences(text) for p in _speaker().plan(sentence, AudioFormat.WAV)]
    except ValueError as error:
        return jsonify(error=str(error)), 400
    except Exception as error:
        log.error("staff speech for %r failed: %s", text[:40], error)
        return jsonify(error="暂时无法朗读"), 503
    return jsonify(audio=[url_for("staff.audio", name=p.name) for p in planned], pinyin=to_pinyin(normalize(text)) if not pinyin else pinyin)


@blueprint.get("/audio/<name>")
def audio(name: str):
    try:
        path = _speaker().audio_file(name, AudioFormat.WAV)
    except Exception as error:
        log.error("staff audio %s failed: %s", name, error)
        abort(503)
    if path is None:
        abort(404)
    return send_file(path, mimetype="audio/wav", max_age=3600)


# Pronunciations


@blueprint.route("/pronunciations", methods=["GET", "POST"])
def pronunciations():
    extra: Path = _settings()["pronunciations"]
    problem = None
    if request.method == "POST":
        word, pinyin = request.form.get("word", ""), request.form.get("pinyin", "")
        try:
            word, pinyin = check_entry(word, pinyin)
            save_entry(extra, word, pinyin)
        except ValueError as error:
            problem = str(error)
        else:
            _record("pronunciation", word=word, pinyin=pinyin)
            _speaker().refresh_pronunciations()
            _render_soon()  # only the audio whose words changed: the rest keeps its name
            flash(f"已保存：{word} 读作 {pinyin}。含有这个词的语音将重新生成。")
            return redirect(url_for("staff.pronunciations", q=word))
    query = request.args.get("q", "").strip()
    entries = sorted(dictionary_entries(extra), key=lambda e: (e[2] != "hall", e[0]))
    if query:
        entries = [e for e in entries if query in e[0] or query in e[1]]
    return render_template("staff/pronunciations.html", entries=entries, query=query, problem=problem), 400 if problem else 200


# The website watcher


@blueprint.get("/watch")
def watch():
    """What the watcher found on the website: its last passes, the drafts waiting, the articles
    that changed, the pages it could not read and why."""
    try:
        status = current_app.extensions["tingwen.watch_status"]()
    except Exception as error:  # the page says this part is missing
        log.error("staff: the website watcher's state cannot be read: %s", error)
        status = None
    return render_template("staff/watch.html", status=status, drafts=_drafts().pending())


# What callers hear


@blueprint.get("/calls")
def calls():
    zone = current_app.config["TINGWEN_STAFF"]["timezone"]
    today = datetime.now(ZoneInfo(zone)).date()
    since = _day(request.args.get("from"), today - timedelta(days=29))
    until = _day(request.args.get("to"), today)
    with _notices() as store:
        titles = {n.id: n.spoken_title for n in store.latest(withdrawn=True)}
    log_store = _call_log()
    summary = log_store.summary(titles, zone, since, until)
    log_store.close()
    charts = {
        "per_day": bar_chart([d["day"][5:] for d in summary["calls_per_day"]], [d["calls"] for d in summary["calls_per_day"]], "每天来电数"),
        "listened": bar_chart([r["title"] or str(r["notice_id"]) for r in summary["most_listened"]], [r["calls"] for r in summary["most_listened"]], "收听最多的通知（来电数）", horizontal=True),
        "parts": bar_chart([f"{r['title'] or r['notice_id']} {r['path'] or '正文'}" for r in summary["parts_listened"]], [r["calls"] for r in summary["parts_listened"]], "收听最多的部分（来电数）", horizontal=True),
        "cancels": bar_chart([f"{r['title'] or '最新通知列表'} {r['path'] or ''}".strip() for r in summary["cancels"]], [r["count"] for r in summary["cancels"]], "按星号键取消的位置（次数）", horizontal=True),
        "unclear": bar_chart([r["heard"] for r in summary["not_understood"]], [r["count"] for r in summary["not_understood"]], "没有听懂的语音指令（次数）", horizontal=True),
    }
    transfers = summary["transfers"]["per_day"]
    charts["transfers"] = stacked_bar_chart(
        [d["day"][5:] for d in transfers],
        {"接通": [d["answered"] for d in transfers], "无人接听或占线": [d["unanswered"] for d in transfers], "非工作时间": [d["closed"] for d in transfers]},
        "转人工服务（每天的次数）",
    )
    hands_free = _hands_free(since, until)
    if hands_free is not None and hands_free["bulletin"] is not None:  # drawn only when the bulletin is on
        days = hands_free["bulletin_days"]
        charts["bulletin"] = stacked_bar_chart(
            [d["day"][5:] for d in days],
            {"接听": [d["heard"] for d in days], "答录机留言": [d["voicemail"] for d in days], "占线或未接": [d["unanswered"] for d in days]},
            "每日播报电话（每天的号码数）",
        )
    return render_template("staff/calls.html", summary=summary, charts=charts, since=since, until=until, zone=zone,
                           hands_free=hands_free)


def _hands_free(since: date, until: date) -> dict | None:
    """The bulletin's and the feed's state (from the composition root), or None if it cannot be read."""
    try:
        return current_app.extensions["tingwen.hands_free"](since, until)
    except Exception as error:  # the page shows the rest and says this part is missing
        log.error("staff: the bulletin's and feed's state cannot be read: %s", error)
        return None


def _day(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


@blueprint.get("/log")
def audit_log():
    with _accounts() as accounts:
        entries = accounts.audit()
    zone = ZoneInfo(current_app.config["TINGWEN_STAFF"]["timezone"])
    return render_template("staff/log.html", entries=entries, zone=zone)
