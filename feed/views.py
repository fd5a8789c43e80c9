"""/feed.xml (RSS 2.0 with the iTunes tags podcast apps expect), the episodes' MP3 with HTTP
Range (podcast apps resume and seek), and the feed's cover. Everything listed is already made:
a request never synthesises or encodes (feed/episodes.py makes episodes in the background)."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

import lxml.etree  # noqa: F401  (feedgen uses lxml.etree without importing it)
from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, abort, current_app, send_file
from werkzeug.exceptions import HTTPException

from monitoring import metrics
from content.menu import menu_for
from content.prompts import load_prompts
from content.store import NoticeStore
from feed.episodes import EpisodeShelf

log = logging.getLogger(__name__)
blueprint = Blueprint("feed", __name__)
FEED_TITLE = "听文·政府通知朗读"
FEED_DESCRIPTION = "最新政府通知，由听文逐条朗读，方便老年人收听。每条通知一集，从标题读到最后一部分。"


def _settings() -> dict:
    return current_app.config["TINGWEN_FEED"]


def shelf() -> EpisodeShelf:
    return EpisodeShelf(_settings()["folder"])


@blueprint.get("/feed.xml")
def feed_xml():
    settings = _settings()
    base = settings["public_url"].rstrip("/")
    with NoticeStore(current_app.config["TINGWEN_DB"]) as store:
        notices = menu_for(store, current_app.config["TINGWEN_MENU"]).notices
    episodes = shelf().index()
    zone = ZoneInfo(settings["timezone"])

    feed = FeedGenerator()
    feed.load_extension("podcast")
    feed.title(FEED_TITLE)
    feed.link(href=f"{base}/feed.xml", rel="self")
    feed.link(href=f"{base}/feed.xml", rel="alternate")  # the public door serves the feed alone
    feed.description(FEED_DESCRIPTION)
    feed.language("zh-cn")
    feed.image(f"{base}/feed/cover.png", title=FEED_TITLE, link=f"{base}/feed.xml")
    feed.podcast.itunes_author("听文")
    feed.podcast.itunes_summary(FEED_DESCRIPTION)
    feed.podcast.itunes_category("Government")
    feed.podcast.itunes_explicit("clean")
    feed.podcast.itunes_image(f"{base}/feed/cover.png")
    feed.podcast.itunes_type("episodic")
    newest = None
    for notice in notices:  # newest first, as on the menus
        episode = episodes.get(notice.id)
        if episode is None:
            continue  # still being made
        made = datetime.fromisoformat(episode.made_at)
        day = notice.published_date or notice.signed_date
        published = datetime.combine(day, time(9, 0), zone) if day else made
        newest = max(newest or published, published)
        entry = feed.add_entry(order="append")
        entry.id(f"urn:tingwen:notice:{notice.id}:{episode.key[:16]}")
        entry.title(notice.spoken_title)
        entry.description(notice.gist or notice.title or notice.spoken_title)
        entry.published(published)
        entry.enclosure(f"{base}/feed/episodes/{episode.file_name}", str(episode.bytes), "audio/mpeg")
        entry.podcast.itunes_duration(_duration(episode.seconds))
        entry.podcast.itunes_summary(notice.gist or notice.spoken_title)
        entry.podcast.itunes_explicit("clean")
        entry.podcast.itunes_author(notice.issuer or "听文")
    feed.lastBuildDate(newest or datetime.now(UTC))
    response = Response(feed.rss_str(pretty=True), mimetype="application/rss+xml")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _duration(seconds: float) -> str:
    whole = max(1, round(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


@blueprint.get("/feed/episodes/<name>")
def episode(name: str):
    """An episode's MP3 (names are content hashes: cached for ever); Range requests get 206."""
    path = shelf().path(name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="audio/mpeg", conditional=True, max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@blueprint.get("/feed/cover.png")
def cover():
    response = send_file(io.BytesIO(_cover_png()), mimetype="image/png", max_age=24 * 3600)
    return response


@cache
def _cover_png() -> bytes:
    """The feed's square artwork (podcast apps ask for 1400 px or more): a loudspeaker and its
    sound waves, drawn here, so no file or font is needed."""
    from PIL import Image, ImageDraw

    size = 1400
    image = Image.new("RGB", (size, size), "#1d4e89")
    draw = ImageDraw.Draw(image)
    draw.rectangle((330, 560, 500, 840), fill="white")
    draw.polygon([(500, 560), (720, 380), (720, 1020), (500, 840)], fill="white")
    for radius in (160, 300, 440):
        draw.arc((720 - radius, 700 - radius, 720 + radius, 700 + radius), start=-45, end=45, fill="white", width=44)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


@blueprint.errorhandler(Exception)
def _fault(error: Exception):
    """A broken store or a damaged file: the podcast app gets a 503 it retries, never a 500."""
    if isinstance(error, HTTPException):
        return error
    metrics.error(type(error).__name__, "feed")
    log.error("feed %s failed: %s: %s", getattr(error, "filename", "") or "request", type(error).__name__, error,
              exc_info=not isinstance(error, OSError))
    return Response(load_prompts().cannot_read, status=503, mimetype="text/plain")
