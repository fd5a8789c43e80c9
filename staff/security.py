"""Sign-in, sessions and CSRF for the staff console.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Strict, Secure behind HTTPS) that carry
the staff name, a CSRF token and the time of the last request: idle longer than the configured
minutes and the session is over. Every POST under /staff/ must carry the session's CSRF token."""

from __future__ import annotations

import secrets
import time

from flask import abort, current_app, redirect, request, session, url_for

OPEN_ENDPOINTS = {"staff.login", "staff.static"}
UPLOAD_BYTES = 32 * 1024 * 1024  # one upload of notices (list pages, article pages, pasted text)


def signed_in() -> str | None:
    """The staff name of this session, if it is signed in and not idle too long."""
    name = session.get("staff")
    if not name:
        return None
    idle = current_app.config["TINGWEN_STAFF"]["idle_minutes"] * 60
    if time.time() - session.get("seen", 0) > idle:
        session.clear()
        return None
    session["seen"] = time.time()
    return name


def sign_in(name: str) -> None:
    session.clear()  # a fresh session (and CSRF token) for every sign-in
    session["staff"] = name
    session["seen"] = time.time()
    session["csrf"] = secrets.token_urlsafe(32)


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def guard():
    """Before every staff request: anonymous requests go to the sign-in page (JSON and audio
    requests get 401), and a POST without the session's CSRF token is refused."""
    if request.endpoint == "staff.upload":  # notices as files: more than a webhook's 256 KiB
        request.max_content_length = UPLOAD_BYTES
        request.max_form_memory_size = UPLOAD_BYTES
    if request.method == "POST":
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
        if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
            abort(400, "缺少或错误的安全令牌（CSRF），请刷新页面后重试")
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if signed_in() is None:
        if request.accept_mimetypes.best == "application/json" or request.path.startswith("/staff/audio/"):
            abort(401)
        return redirect(url_for("staff.login", next=request.path))
    return None
