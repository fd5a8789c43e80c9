"""Ingest: files and folders of notices → parsed notices → the store, in one transaction.

Everything is parsed before anything is written, so one unreadable file refuses the whole run
with its name and line, and the store keeps exactly what it had.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

from content.errors import IngestError
from content.model import Notice
from content.sources import html, listpage, plaintext
from content.store import NoticeStore, SaveReport

SUFFIXES = (".txt", ".text", ".html", ".htm")
BUNDLED_CORPUS = "nmg-government-documents-2025.txt"
BUNDLED_ISSUER = "内蒙古自治区人民政府"


class SourceFormat(StrEnum):
    AUTO = "auto"
    LISTPAGE = "listpage"
    TEXT = "text"
    HTML = "html"


@dataclass(frozen=True)
class IngestReport:
    files: int
    save: SaveReport


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders become the notice files inside them, in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                raise IngestError(path, None, f"the folder holds no notice files ({', '.join(SUFFIXES)})")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise IngestError(path, None, "no such file or folder")
    return files


_GB = ("gbk", "gb2312", "gb18030", "cp936")  # all read as GB18030, a superset of the others


def decode_text(data: bytes, declared: str | None = None) -> str:
    """The charset a web page declares, else UTF-8 (with or without BOM), else GB18030, which
    older government sites still serve; UTF-8's UnicodeDecodeError when none of them reads it."""
    if declared and declared.lower().replace("_", "-") not in ("utf-8", "utf8"):
        try:
            return data.decode("gb18030" if declared.lower().replace("_", "") in _GB else declared)
        except (UnicodeDecodeError, LookupError):
            pass  # the page says one thing and is another: read it as any other
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise utf8_error from None


def read_text(path: Path) -> str:
    """A notice file as text (decode_text), or IngestError naming the line it stops at."""
    data = path.read_bytes()
    try:
        return decode_text(data)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise IngestError(path, line, "not text in UTF-8 or GB18030 (binary file?)") from None


def detect(text: str) -> SourceFormat:
    if html.looks_like(text):
        return SourceFormat.HTML
    if listpage.looks_like(text):
        return SourceFormat.LISTPAGE
    return SourceFormat.TEXT


def parse_file(path: Path, fmt: SourceFormat = SourceFormat.AUTO, issuer: str | None = None) -> list[Notice]:
    text = read_text(path)
    if not text.strip():
        raise IngestError(path, 1, "the file is empty")
    chosen = detect(text) if fmt is SourceFormat.AUTO else fmt
    if chosen is SourceFormat.LISTPAGE:
        notices = listpage.parse(text, path, issuer=issuer)
    elif chosen is SourceFormat.HTML:
        notices = [html.parse(text, path, default_issuer=issuer)]
    else:
        notices = [plaintext.parse(text, path, default_issuer=issuer)]
    return notices


def parse_all(
    files: Iterable[Path],
    fmt: SourceFormat = SourceFormat.AUTO,
    issuer: str | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[Notice]:
    """Parse every file before anything is stored; the first bad one raises IngestError."""
    notices: list[Notice] = []
    for path in files:
        notices.extend(parse_file(path, fmt, issuer))
        if on_file:
            on_file(path)
    return notices


def ingest(
    store: NoticeStore,
    paths: Iterable[Path],
    fmt: SourceFormat = SourceFormat.AUTO,
    issuer: str | None = None,
) -> IngestReport:
    files = expand(Path(p) for p in paths)
    return IngestReport(files=len(files), save=store.save(parse_all(files, fmt, issuer)))


def bundled_corpus() -> Path:
    return Path(str(resources.files("content").joinpath("data", BUNDLED_CORPUS)))


def ensure_bundled(store: NoticeStore) -> SaveReport | None:
    """Give an empty store the bundled notices, so a new service has something to read."""
    if store.count():
        return None
    notices = listpage.parse(read_text(bundled_corpus()), BUNDLED_CORPUS, issuer=BUNDLED_ISSUER)
    return store.save(notices)
