"""Kiosk pages. For now the home page: the latest notices as large numbered cards."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from content.store import NoticeStore

blueprint = Blueprint("kiosk", __name__, template_folder="templates")
HOME_PAGE_SIZE = 9  # one keypad digit per card


@blueprint.get("/")
def home():
    with NoticeStore(current_app.config["TINGWEN_DB"]) as store:
        notices = store.latest(limit=HOME_PAGE_SIZE)
    model = current_app.extensions.get("tingwen.speech_model")
    voice_status = None if model is None or model.available else "语音识别未开启，请使用按键。"
    return render_template("kiosk/home.html", notices=notices, voice_status=voice_status)
