"""A government site's document list page, dumped as text.

Notice bodies carry no titles; each is followed by its publication date (`2025-04-09`), which on
the page starts the line of the next notice. Lines break in odd places (the page's own wrapping),
so a notice's lines are joined without a separator, and the page furniture before the first
notice (the read-aloud button's description) is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from content.anatomy import NoticeParts, assemble
from content.errors import IngestError
from content.metadata import ANNOTATION, CHINESE_DATE, parse_date
from content.model import Notice

DATE_LINE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_FURNITURE = re.compile(r"朗读|按钮|点击|打印|关闭窗口|字号|分享|收藏|浏览次数|返回顶部|扫一扫")
# The signing date, then the annotation, closes the letter; what follows is the issued document.
_SIGNATURE = re.compile(rf"(?P<date>{CHINESE_DATE.pattern})\s*(?P<note>{ANNOTATION.pattern})?")


@dataclass
class _Chunk:
    first_line: int
    lines: list[str]

    @property
    def text(self) -> str:
        return "".join(line.strip() for line in self.lines)


def looks_like(text: str) -> bool:
    return sum(1 for line in text.splitlines() if DATE_LINE.match(line)) >= 1


def parse(text: str, source: Path | str, issuer: str | None = None) -> list[Notice]:
    chunks, dates = _split(text, source)
    notices = []
    for chunk, (published, date_line) in zip(chunks, dates):
        if not chunk.text:
            raise IngestError(source, date_line, "a publication date with no notice text before it")
        notices.append(_notice(chunk, published, source, issuer))
    return notices


def _split(text: str, source: Path | str) -> tuple[list[_Chunk], list[tuple[date, int]]]:
    """Notice chunks, each with the publication date (and its line) that follows it."""
    chunks = [_Chunk(1, [])]
    dates: list[tuple[date, int]] = []
    for number, line in enumerate(text.splitlines(), 1):
        match = DATE_LINE.match(line)
        if not match:
            chunks[-1].lines.append(line)
            continue
        try:
            dates.append((date(*(int(g) for g in match.groups())), number))
        except ValueError:
            raise IngestError(source, number, f"impossible publication date {match.group(0).strip()!r}") from None
        chunks.append(_Chunk(number, [line[match.end() :]]))
    if chunks[-1].text:
        raise IngestError(source, chunks[-1].first_line, "notice text with no publication date after it")
    chunks.pop()
    if not dates:
        raise IngestError(source, 1, "no publication dates (YYYY-MM-DD) found: not a list-page dump")
    _drop_furniture(chunks[0])
    return chunks, dates


def _drop_furniture(chunk: _Chunk) -> None:
    """Drop leading sentences that describe the page (朗读按钮 …) rather than a notice."""
    while chunk.lines:
        taken, sentence = 0, ""
        for line in chunk.lines:
            sentence += line.strip()
            taken += 1
            if "。" in line or len(sentence) > 120:
                break
        head = sentence.split("。")[0]
        if not _FURNITURE.search(head) or len(head) > 80:
            return
        chunk.first_line += taken
        chunk.lines = chunk.lines[taken:]


def _notice(chunk: _Chunk, published: date, source: Path | str, issuer: str | None) -> Notice:
    text = chunk.text
    signature = None
    for candidate in _SIGNATURE.finditer(text):
        if candidate["note"] or not text[candidate.end() :].strip():
            signature = candidate
            break
    letter, issued, signed, note = text, "", None, None
    if signature:
        signed = parse_date(signature["date"])
        if signed is None:
            raise IngestError(source, chunk.first_line, f"impossible signing date {signature['date']!r}")
        letter, issued = text[: signature.start()], text[signature.end() :]
        note = signature["note"].strip() if signature["note"] else None
    notice = assemble(
        NoticeParts(
            letter=letter,
            issuer=issuer,
            signed_date=signed,
            published_date=published,
            annotation=note,
            issued_text=issued,
            source=str(source),
        )
    )
    return notice
