"""An article page of a Chinese government site: metadata table, title, and the body container.

Such pages (gov.cn and the provincial sites built on the same TRS/UCAP systems) put 索引号, 发文机关,
文号, 成文日期 and 发布日期 in a table above the article, and the article in a container with one
of a few well-known ids or classes. The body then reads like a plain-text notice.
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from content.errors import IngestError
from content.model import Notice
from content.sources import plaintext

BODY_SELECTORS = (
    "#UCAP-CONTENT",
    "#zoom",
    ".TRS_Editor",
    ".TRS_UEDITOR",
    ".pages_content",
    ".article-content",
    ".view",
    "#content",
    ".content",
    "article",
)
_BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "li", "tr", "br", "table")
_LABEL = re.compile(r"^\s*([\u4e00-\u9fff]{2,5})\s*[：:]?\s*$")
_INLINE_LABEL = re.compile(r"^\s*([\u4e00-\u9fff]{2,5})\s*[：:]\s*(\S.*)$")


def looks_like(text: str) -> bool:
    head = text.lstrip()[:2000].lower()
    return head.startswith("<!doctype html") or "<html" in head or "<body" in head


def parse(text: str, source: Path | str, default_issuer: str | None = None) -> Notice:
    soup = BeautifulSoup(text, "html.parser")
    body = _body(soup)
    if body is None:
        raise IngestError(source, 1, f"no article body found (looked for {', '.join(BODY_SELECTORS)})")
    known = _metadata(soup, body)
    title = known.get("title") or _title(soup)
    if not title:
        raise IngestError(source, 1, "no title found (metadata table, <meta name=ArticleTitle>, <h1> or <title>)")
    known["title"] = title
    canonical = soup.find("link", rel="canonical")
    if canonical and canonical.get("href"):
        known.setdefault("source", canonical["href"])
    lines = _text_lines(body)
    if not any(line.strip() for line in lines):
        raise IngestError(source, body.sourceline, "the article body is empty")
    return plaintext.parse("\n".join(lines), source, known=known, default_issuer=default_issuer)


def _body(soup: BeautifulSoup) -> Tag | None:
    for selector in BODY_SELECTORS:
        found = soup.select_one(selector)
        if found and found.get_text(strip=True):
            return found
    return None


def _metadata(soup: BeautifulSoup, body: Tag) -> dict[str, str]:
    """Label/value pairs from table cells (`<td>文号：</td><td>…</td>` or `<td>文号：…</td>`)."""
    fields: dict[str, str] = {}
    cells = [c for c in soup.find_all(["td", "th", "li", "span", "dt", "dd"]) if body not in c.parents and c is not body]
    texts = [c.get_text(" ", strip=True) for c in cells]
    for i, text in enumerate(texts):
        label, value = None, None
        inline = _INLINE_LABEL.match(text)
        alone = _LABEL.match(text)
        if inline and inline.group(1) in plaintext.LABELS:
            label, value = inline.group(1), inline.group(2)
        elif alone and alone.group(1) in plaintext.LABELS and i + 1 < len(texts):
            label, value = alone.group(1), texts[i + 1]
        if label and value and not _LABEL.match(value):
            fields.setdefault(plaintext.LABELS[label], value.strip())
    return fields


def _title(soup: BeautifulSoup) -> str | None:
    meta = soup.find("meta", attrs={"name": "ArticleTitle"})
    if meta and meta.get("content", "").strip():
        return meta["content"].strip()
    heading = soup.find("h1")
    if heading and heading.get_text(strip=True):
        return heading.get_text("", strip=True)
    if soup.title and soup.title.string:
        return re.split(r"[_|－-]", soup.title.string.strip())[0].strip() or None
    return None


def _text_lines(body: Tag) -> list[str]:
    for tag in body.find_all(["script", "style"]):
        tag.decompose()
    for tag in body.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return [line.strip() for line in body.get_text().splitlines()]
