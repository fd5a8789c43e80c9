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
    return render_template("kiosk/home.html", notices=notices)
