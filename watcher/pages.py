"""What a government website's pages say: the text of a page in its own encoding (UTF-8, or the
GBK/GB18030 older portals still serve), the articles a list page links to (title, address,
date; relative links made whole), and its next page (下一页)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from content.ingest import decode_text

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
_DATE = re.compile(r"(20\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_ARTICLE = re.compile(r"\.(s?html?|jsp|aspx?|php)$|/t\d{8}_\d+", re.IGNORECASE)
_NEXT = ("下一页", "下页", "后一页")
# TRS/UCAP portals page their lists in script: createPageHTML(pages, current, "index", "html"), or
# var countPage = 34; var currentPage = 0; the pages are then index.html, index_1.html, index_2.html…
_CREATE_PAGE = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']")
_COUNT_PAGE = re.compile(r"\bcountPage\s*=\s*(\d+)")
_CURRENT_PAGE = re.compile(r"\bcurrentPage\s*=\s*(\d+)")


@dataclass(frozen=True)
class Listed:
    url: str
    title: str
    day: date | None


def page_text(body: bytes, content_type: str = "") -> str:
    """The page's text in the charset its header or its <meta> names (content.ingest.decode_text
    tries UTF-8 and GB18030 after it); what none reads has its bad bytes replaced."""
    named = re.search(r"charset=([\w-]+)", content_type or "", re.IGNORECASE)
    meta = None if named else _CHARSET.search(body[:4096])
    declared = named.group(1) if named else meta.group(1).decode("ascii", "replace") if meta else None
    try:
        return decode_text(body, declared)
    except UnicodeDecodeError:
        return body.decode("utf-8", "replace")


def listed_articles(html: str, page_url: str) -> list[Listed]:
    """The articles a list page links to, in its order, each once: links to pages of the same
    site that look like articles, with the date beside them when there is one."""
    soup = BeautifulSoup(html, "html.parser")
    host = urlsplit(page_url).netloc
    site = host.removeprefix("www.")
    found: dict[str, Listed] = {}
    for anchor in soup.find_all("a", href=True):
        href = anchor["href"].strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(page_url, href).split("#")[0]
        parts = urlsplit(url)
        same_site = parts.netloc in (host, site) or parts.netloc.endswith("." + site)  # www.nmg.gov.cn and nmg.gov.cn
        if parts.scheme not in ("http", "https") or not same_site or not _ARTICLE.search(parts.path):
            continue
        title = (anchor.get("title") or anchor.get_text(" ", strip=True)).strip()
        if len(title) < 6 or url == page_url or title in _NEXT:  # menus, paging, "更多"
            continue
        row = anchor.find_parent(["li", "tr", "dd", "div"]) or anchor
        day = _day(row.get_text(" ", strip=True))
        if day is None:  # a list of notices dates each of them; a link without one is navigation
            continue
        found.setdefault(url, Listed(url, title, day))
    return list(found.values())


def next_page(html: str, page_url: str) -> str | None:
    """The list's next page: a link reading 下一页, else the one the portal's paging script
    would make (index_1.html after index.html); None on the last page."""
    soup = BeautifulSoup(html, "html.parser")
    for anchor in soup.find_all("a", href=True):
        if anchor.get_text(strip=True) in _NEXT and not anchor["href"].startswith(("javascript:", "#")):
            following = urljoin(page_url, anchor["href"].strip())
            return following if following != page_url else None
    scripts = " ".join(script.get_text() for script in soup.find_all("script"))
    made = _CREATE_PAGE.search(scripts)
    if made:
        pages, current, name, ext = int(made.group(1)), int(made.group(2)), made.group(3), made.group(4)
    else:
        count, now = _COUNT_PAGE.search(scripts), _CURRENT_PAGE.search(scripts)
        if not (count and now):
            return None
        pages, current, name, ext = int(count.group(1)), int(now.group(1)), "index", "html"
    if current + 1 >= pages:
        return None
    return urljoin(page_url, f"{name}_{current + 1}.{ext}")


def _day(text: str) -> date | None:
    match = _DATE.search(text)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
