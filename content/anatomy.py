"""The parts of an official notice, and how they become a `Notice` whatever the source format.

Every source (list-page dump, plain text, HTML page) finds the same parts: addressee (主送机关),
the letter's own text, attachments (附件说明), the signing date, the annotation ((此件公开发布)) and,
for a 印发 notice, the full text of the document it issues. `assemble` turns those parts into
metadata, a spoken title and a section tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from content.model import Notice, Section
from content.official import ADDRESSEE_WORDS, alternatives
from content.structure import parse_sections
from content.titles import shorten, spoken_title

_ATTACHMENTS = re.compile(r"附\s*件\s*[：:]")
_ATTACHMENT_ITEM = re.compile(r"(?:^|(?<=[\s，,；;）)]))\s*(\d{1,2})\s*[.．、]\s*(?!\d)")
_ISSUED_DOCUMENT = re.compile(r"《(.+?)》(?:印发|转发)")
_ADDRESSEE = re.compile(r"^([^。；;：:！？]{2,150}?)[：:]")
_ADDRESSEE_WORDS = re.compile(alternatives(ADDRESSEE_WORDS))


@dataclass
class NoticeParts:
    """What a source format found, before structure and titles are worked out."""

    letter: str
    title: str | None = None
    doc_number: str | None = None
    issuer: str | None = None
    addressee: str | None = None
    attachments: list[str] = field(default_factory=list)
    signed_date: date | None = None
    published_date: date | None = None
    annotation: str | None = None
    issued_text: str = ""
    issued_title: str | None = None
    source: str | None = None


def split_addressee(text: str) -> tuple[str | None, str]:
    """`各盟行政公署、市人民政府，…：为深入…` → the addressee and the rest."""
    match = _ADDRESSEE.match(text.lstrip())
    if not match or not _ADDRESSEE_WORDS.search(match.group(1)):
        return None, text
    addressee = match.group(1).strip()
    if len(addressee) > 60 and "，" not in addressee and "," not in addressee and "、" not in addressee:
        return None, text
    return addressee, text.lstrip()[match.end() :].lstrip()


def split_attachments(letter: str) -> tuple[str, list[str]]:
    """Cut the 附件说明 off the end of the letter and list the attachments it names."""
    found = list(_ATTACHMENTS.finditer(letter))
    if not found:
        return letter, []
    match = found[-1]  # the 附件说明 closes the letter; earlier mentions are in the text
    listed = letter[match.end() :].strip()
    items = list(_ATTACHMENT_ITEM.finditer(listed))
    if not items or items[0].start() > 2:
        names = [listed] if listed else []
    else:
        names = [
            listed[m.end() : items[i + 1].start() if i + 1 < len(items) else len(listed)]
            for i, m in enumerate(items)
        ]
    names = [re.sub(r"\s+", " ", n).strip(" ，,；;。") for n in names]
    return letter[: match.start()].rstrip(), [n for n in names if n]


def _squash(text: str) -> str:
    return re.sub(r"[\s（）()《》<>〈〉]", "", text)


def _same(a: str, b: str) -> bool:
    """Equal but for spaces and bracket widths: a title as cited and as printed."""
    return _squash(a) == _squash(b)


def issued_document(letter: str, issued_text: str, given_title: str | None) -> Section | None:
    """The 方案/规划 a 印发 notice carries, as one section titled by its own title."""
    issued_text = issued_text.strip()
    if not issued_text:
        return None
    named = _ISSUED_DOCUMENT.search(letter)
    title = given_title
    body = issued_text
    if title is None and named:
        expected = named.group(1)
        squashed_len = len(re.sub(r"\s", "", expected))
        # The title is the first len(expected) characters, give or take brackets and spaces;
        # the longest cut that matches keeps a closing bracket with the title.
        for cut in range(min(len(issued_text), squashed_len + 8), max(0, squashed_len - 4), -1):
            if _same(issued_text[:cut], expected):
                title, body = expected, issued_text[cut:]
                break
    if title is None:
        first, _, rest = issued_text.partition("\n")
        if rest and len(first) <= 60:
            title, body = first.strip(), rest
        else:
            title = named.group(1) if named else "附件正文"
    preamble, children = parse_sections(body)
    return Section(path="", ordinal=1, marker="", heading=title, text=preamble, children=children)


def _renumber(sections: list[Section], prefix: str = "") -> None:
    for i, section in enumerate(sections, 1):
        section.path = f"{prefix}{i}"
        _renumber(section.children, f"{section.path}.")


def assemble(parts: NoticeParts) -> Notice:
    letter, attachments = split_attachments(parts.letter)
    addressee = parts.addressee
    if addressee is None:
        addressee, letter = split_addressee(letter)
    body, sections = parse_sections(letter)
    issued = issued_document(letter, parts.issued_text, parts.issued_title)
    if issued is not None:
        sections.append(issued)
    _renumber(sections)
    return Notice(
        title=parts.title,
        spoken_title=spoken_title(parts.title, letter, parts.issuer) or shorten(letter[:20]),
        body=body,
        sections=sections,
        doc_number=parts.doc_number,
        issuer=parts.issuer,
        addressee=addressee,
        signed_date=parts.signed_date,
        published_date=parts.published_date,
        attachments=parts.attachments or attachments,
        annotation=parts.annotation,
        source=parts.source,
    )
