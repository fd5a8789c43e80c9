"""A polite HTTP client for government websites: it says who it is (a User-Agent with the hall's
contact), honours robots.txt, asks conditionally (ETag / If-Modified-Since), sends at most one
request a second to a host, gives up after a timeout, tries again with back-off on a timeout, a
5xx or a 429, and reads no more than a size limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import requests

USER_AGENT = "tingwen/1.0 (+{contact}; reads government notices aloud to elderly listeners)"
AGENT_NAME = "tingwen"
MAX_BYTES = 5 * 1024 * 1024
RETRIED_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 (not modified since what we had)
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    retry_after: float = 0.0  # seconds the site asked us to wait (429, 503)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """The page could not be had: `reason` says why, for staff."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url, self.reason = url, reason


class Forbidden(FetchError):
    """robots.txt asks crawlers to keep out of this page."""


class PoliteClient:
    def __init__(self, contact: str, per_host_seconds: float = 1.0, timeout: float = 15.0, retries: int = 3,
                 backoff_seconds: float = 2.0, max_bytes: int = MAX_BYTES, sleep: Callable[[float], None] = time.sleep):
        self.user_agent = USER_AGENT.format(contact=contact)
        self.per_host_seconds, self.timeout, self.retries = per_host_seconds, timeout, retries
        self.backoff_seconds, self.max_bytes, self.sleep = backoff_seconds, max_bytes, sleep
        self.session = requests.Session()
        self.session.headers["User-Agent"] = self.user_agent
        self._robots: dict[str, RobotFileParser | FetchError] = {}
        self._last_request: dict[str, float] = {}
        self._lock = threading.Lock()
        self.requests = 0  # made, for the run's report

    def close(self) -> None:
        self.session.close()

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us read `url` (read once per site and client; none there:
        everything; the site answering it with an error: nothing). FetchError when the site
        cannot be reached at all."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            robots = RobotFileParser(urljoin(origin, "/robots.txt"))
            try:
                found = self._request(robots.url, {})
            except FetchError as error:
                self._robots[origin] = error
                raise FetchError(url, f"the site cannot be reached ({error.reason})") from None
            if found.status >= 500:
                robots.disallow_all = True
            elif found.status >= 400:
                robots.allow_all = True
            else:
                robots.parse(found.body.decode("utf-8", "replace").splitlines())
            self._robots[origin] = robots
        known = self._robots[origin]
        if isinstance(known, FetchError):
            raise FetchError(url, f"the site cannot be reached ({known.reason})")
        return known.can_fetch(AGENT_NAME, url)

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """The page (or 304 when it has not changed since `etag` / `last_modified`); FetchError
        says why not, Forbidden when robots.txt keeps us out."""
        if not self.allowed(url):
            raise Forbidden(url, "robots.txt asks crawlers not to read this page")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        found = self._request(url, headers)
        if found.status not in (200, 304):
            raise FetchError(url, f"the site answered {found.status}")
        return found

    def _request(self, url: str, headers: dict[str, str]) -> Fetched:
        for attempt in range(self.retries + 1):
            self._pace(url)
            try:
                found = self._read(url, headers)
            except (requests.Timeout, requests.ConnectionError) as error:
                if attempt == self.retries:
                    raise FetchError(url, f"no answer after {attempt + 1} tries ({type(error).__name__})") from None
                self.sleep(self.backoff_seconds * 2**attempt)
                continue
            if found.status in RETRIED_STATUSES and attempt < self.retries:
                self.sleep(min(60.0, max(self.backoff_seconds * 2**attempt, found.retry_after)))
                continue
            return found
        raise AssertionError("unreachable")

    def _pace(self, url: str) -> None:
        """At most one request a second to a host (across threads)."""
        host = urlsplit(url).netloc
        with self._lock:
            wait = self._last_request.get(host, -1e9) + self.per_host_seconds - time.monotonic()
            if wait > 0:
                self.sleep(wait)
            self._last_request[host] = time.monotonic()
            self.requests += 1

    def _read(self, url: str, headers: dict[str, str]) -> Fetched:
        with self.session.get(url, headers=headers, timeout=self.timeout, stream=True, allow_redirects=True) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(url, f"larger than {self.max_bytes // (1024 * 1024)} MB")
            body = bytearray()
            for piece in response.iter_content(64 * 1024):
                body += piece
                if len(body) > self.max_bytes:
                    raise FetchError(url, f"larger than {self.max_bytes // (1024 * 1024)} MB")
            wait = response.headers.get("Retry-After", "")
            return Fetched(response.url, response.status_code, bytes(body), response.headers.get("Content-Type", ""),
                           response.headers.get("ETag"), response.headers.get("Last-Modified"), float(wait) if wait.isdigit() else 0.0)
