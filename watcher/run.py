"""One pass of the website watcher over its list pages (`tingwen watch --once`, or the server's
background job every TINGWEN_WATCH_MINUTES).

Each list page is asked for conditionally and followed to its next pages; each article it links
to that is new (or due to be checked again, conditionally) is fetched, kept, then parsed with
the HTML ingest: a new notice becomes a draft in the staff console (the same preview → 发布 as an
upload), or is published at once with TINGWEN_WATCH_AUTOPUBLISH; a notice already published is
updated in place and what changed is said. A page that fails is kept with the reason for staff.
Each article's page is written down before anything is made of it and its outcome right after,
and a draft's name comes from its address: a pass cut short by a restart goes on from the kept
pages, fetches nothing twice and makes nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from monitoring import metrics
from content.drafts import Drafts, web_draft_id
from content.errors import IngestError
from content.model import Notice
from content.sources import html
from content.store import NoticeStore
from watcher.client import FetchError, Forbidden, PoliteClient
from watcher.pages import Listed, listed_articles, next_page, page_text
from watcher.state import DRAFTED, FAILED, FORBIDDEN, PUBLISHED, Article, WatchState

log = logging.getLogger(__name__)
_HTML_TYPES = ("text/html", "application/xhtml+xml", "")


@dataclass(frozen=True)
class WatchSettings:
    urls: tuple[str, ...]  # the list pages to follow
    contact: str  # said in the User-Agent: who to tell when the watcher misbehaves
    autopublish: bool = False  # new articles are published at once instead of waiting as drafts
    pages: int = 3  # list pages followed from each URL (下一页)
    recheck_hours: float = 24.0  # an article already seen is asked again (conditionally) after this
    issuer: str | None = None


@dataclass
class PassReport:
    lists: int = 0
    pages: int = 0
    requests: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    forbidden: int = 0
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("lists", "pages", "requests", "new", "changed", "unchanged", "failed")}

    def lines(self) -> list[str]:
        said = [f"{self.pages} list page(s) read, {self.new} new article(s), {self.changed} changed, {self.unchanged} unchanged, "
                f"{self.failed} failed, {self.forbidden} left alone (robots.txt); {self.requests} request(s)"]
        return said + [f"  problem: {p}" for p in self.problems]


class WatchPass:
    def __init__(self, state: WatchState, notices: Callable[[], NoticeStore], drafts: Drafts, client: PoliteClient,
                 settings: WatchSettings, progress: Callable[[str], None] | None = None):
        self.state, self.notices, self.drafts, self.client = state, notices, drafts, client
        self.settings = settings
        self.progress = progress or (lambda line: None)
        self.report = PassReport()

    def run(self) -> PassReport:
        run_id = self.state.begin_run()
        problem = None
        try:
            self._settle_kept()
            for url in self.settings.urls:
                self._follow(url)
        except Exception as error:  # the state keeps what was done; the next pass goes on from there
            problem = f"{type(error).__name__}: {error}"
            self.report.problems.append(problem)
            raise
        finally:
            self.report.requests = self.client.requests
            self.state.end_run(run_id, self.report.counts(), problem or "; ".join(self.report.problems) or None)
            for kind in ("pages", "new", "changed", "unchanged", "failed"):
                metrics.watched(kind, getattr(self.report, kind))
        return self.report

    # Lists

    def _follow(self, start: str) -> None:
        self.report.lists += 1
        url: str | None = start
        for _ in range(self.settings.pages):
            if url is None:
                return
            etag, modified = self.state.list_validators(url)
            try:
                found = self.client.get(url, etag, modified)
            except FetchError as error:
                self.report.problems.append(f"list page {url}: {error.reason}")
                self.progress(f"list page {url}: {error.reason}")
                return
            if found.not_modified:  # nothing new on this page, so none after it either
                self.progress(f"list page {url}: unchanged")
                return
            text = page_text(found.body, found.content_type)
            articles = listed_articles(text, found.url)
            self.report.pages += 1
            self.progress(f"list page {url}: {len(articles)} article(s)")
            for listed in articles:
                self._article(listed, url)
            self.state.list_read(url, found.etag, found.last_modified)  # only once its articles are handled
            url = next_page(text, found.url)

    # Articles

    def _settle_kept(self) -> None:
        """Pages a pass fetched and could not finish (a restart): handled from what was kept."""
        for kept in self.state.kept():
            if kept.page is not None:
                self.progress(f"{kept.url}: handled from the page kept before a restart")
                self._handle(kept.url, kept.page, kept)

    def _due(self, known: Article) -> bool:
        if known.status == FORBIDDEN:
            return False
        if known.checked_at is None or (known.status == FAILED and not known.page_sha256):
            return True  # the page could not be had last time (a timeout, an error): try again
        checked = datetime.fromisoformat(known.checked_at)
        return datetime.now(UTC) - checked >= timedelta(hours=self.settings.recheck_hours)

    def _article(self, listed: Listed, list_url: str) -> None:
        known = self.state.article(listed.url)
        if known is not None and not self._due(known):
            self.report.unchanged += 1
            return
        try:
            found = self.client.get(listed.url, known and known.etag, known and known.last_modified)
        except Forbidden as error:
            self.state.forbidden(listed.url, list_url, listed.title, error.reason)
            self.report.forbidden += 1
            self.progress(f"{listed.url}: left alone ({error.reason})")
            return
        except FetchError as error:
            self._failed(listed, list_url, error.reason)
            return
        if found.not_modified:
            self.state.seen_unchanged(listed.url)
            self.report.unchanged += 1
            return
        kind = found.content_type.split(";")[0].strip().lower()
        sha = hashlib.sha256(found.body).hexdigest()
        if kind not in _HTML_TYPES:
            self._failed(listed, list_url, f"not an HTML page ({kind})", sha)
            return
        if known is not None and known.page_sha256 == sha and known.status in (DRAFTED, PUBLISHED):
            self.state.seen_unchanged(listed.url)
            self.report.unchanged += 1
            return
        text = page_text(found.body, found.content_type)
        day = listed.day.isoformat() if listed.day else None
        self.state.fetched(listed.url, list_url, listed.title, day, text, sha, found.etag, found.last_modified)
        self._handle(listed.url, text, known)

    def _failed(self, listed: Listed, list_url: str, reason: str, sha: str = "") -> None:
        """Kept with the reason for staff; "" for `sha`: it could not be had (tried again next pass)."""
        self.state.fetched(listed.url, list_url, listed.title, None, "", sha, None, None)
        self.state.settle(listed.url, FAILED, reason)
        self.report.failed += 1
        self.progress(f"{listed.url}: failed: {reason}")

    def _handle(self, url: str, text: str, known: Article | None) -> None:
        """A fetched page → a notice: a draft, or the store (published ones are updated in place)."""
        try:
            notice = html.parse(text, url, default_issuer=self.settings.issuer)
        except IngestError as error:
            where = f" (line {error.line})" if error.line else ""
            self.state.settle(url, FAILED, f"not a notice: {error.problem}{where}")
            self.report.failed += 1
            self.progress(f"{url}: not a notice: {error.problem}{where}")
            return
        if not (notice.source or "").startswith(("http://", "https://")):
            notice.source = url
        seen_before = known is not None and known.status in (DRAFTED, PUBLISHED)
        with self.notices() as store:
            published = store.by_key(notice.key)
            if published is not None or self.settings.autopublish:
                saved = store.save([notice])
                change = describe_change(published, notice) if published is not None and saved.updated else None
                self.state.settle(url, PUBLISHED, notice_key=notice.key, change=change)
                self._count(seen_before or published is not None, change, url)
                return
        draft = self.drafts.create_from_web(web_draft_id(url), url, text, issuer=self.settings.issuer)
        self.state.settle(url, DRAFTED, draft_id=draft.id, change="网页有更新，草稿已换成新的内容" if seen_before else None)
        self._count(seen_before, "draft replaced" if seen_before else None, url)

    def _count(self, seen_before: bool, change: str | None, url: str) -> None:
        if not seen_before:
            self.report.new += 1
            self.progress(f"{url}: new")
        elif change:
            self.report.changed += 1
            self.progress(f"{url}: changed: {change}")
        else:
            self.report.unchanged += 1


def describe_change(old: Notice, new: Notice) -> str:
    """What changed in a published notice, in a line staff can read."""
    said = []
    for label, before, after in (("标题", old.title, new.title), ("文号", old.doc_number, new.doc_number),
                                 ("发文机关", old.issuer, new.issuer),
                                 ("成文日期", old.signed_date, new.signed_date), ("发布日期", old.published_date, new.published_date)):
        if before != after:
            said.append(f"{label}：{before or '无'} → {after or '无'}")
    if old.body != new.body:
        said.append(f"正文：{len(old.body)} 字 → {len(new.body)} 字")
    if [s.heading for s in old.sections] != [s.heading for s in new.sections]:
        said.append("章节有变化")
    return "；".join(said) or "格式有变化"
