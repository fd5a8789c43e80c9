"""The shape of what is read: a notice and its tree of sections.

Plain dataclasses so every layer (ingest, store, menu, front ends) passes the same values
around, and so a notice can be hashed to tell whether a re-ingested source changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from content.gist import find_gist, notice_texts


@dataclass
class Section:
    """One numbered part of a notice (一、 / （一） / 1. / （1） / 第X章 / 第X条, or an embedded document).

    `path` is the position among siblings from the top ("2.1" = second top-level section, its
    first child); it is stable for a given text, unlike `ordinal`, which follows the document's own
    numbering and may continue across parents (（六） can be the first child of 三、).
    """

    path: str
    ordinal: int
    marker: str
    heading: str | None
    text: str
    children: list[Section] = field(default_factory=list)

    def walk(self):
        """This section and all below it, depth first, in reading order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def reading_text(self) -> str:
        """What is read aloud for this section alone: its marker and heading, then its text."""
        if not self.heading:
            return f"{self.marker}{self.text}"
        return "。".join(part for part in (f"{self.marker}{self.heading}", self.text) if part)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "ordinal": self.ordinal,
            "marker": self.marker,
            "heading": self.heading,
            "text": self.text,
            "children": [child.to_json() for child in self.children],
        }


@dataclass
class Notice:
    """A government notice as listeners will hear it, with the metadata staff search by."""

    title: str | None
    spoken_title: str
    body: str
    sections: list[Section] = field(default_factory=list)
    doc_number: str | None = None
    issuer: str | None = None
    addressee: str | None = None
    signed_date: date | None = None
    published_date: date | None = None
    attachments: list[str] = field(default_factory=list)
    annotation: str | None = None
    source: str | None = None
    id: int | None = None
    withdrawn: bool = False  # kept in the store, but off the menus, the kiosk and search

    @property
    def key(self) -> str:
        """Identity that survives edits to the text, so a corrected notice is updated in place."""
        if self.doc_number:
            return f"doc:{self.doc_number}"
        if self.title:
            return f"title:{self.title}"
        signed = self.signed_date.isoformat() if self.signed_date else ""
        return f"spoken:{signed}:{self.spoken_title}"

    @cached_property
    def gist(self) -> str | None:
        """The one sentence that carries the notice's decision or requirement (content/gist.py)."""
        return find_gist(notice_texts(self.body, self.walk()))

    @property
    def sort_date(self) -> date | None:
        return self.published_date or self.signed_date

    def walk(self):
        for section in self.sections:
            yield from section.walk()

    def full_text(self) -> str:
        """Everything a listener could hear, in order: what search looks through."""
        parts = [self.title or self.spoken_title, self.body]
        for section in self.walk():
            parts.extend(p for p in (section.heading, section.text) if p)
        return "\n".join(p for p in parts if p)

    def content_hash(self) -> str:
        """Hash of what ingest stores of the text: equal hashes mean nothing changed. Not the id,
        not where it was read from (the same text from another path is unchanged), not the
        withdrawal, and not the gist, which is derived from the text (and costs the ingest)."""
        data = self._record() | {"id": None, "source": None, "withdrawn": None}
        encoded = json.dumps(data, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()

    def to_json(self) -> dict:
        """The public JSON form (`tingwen notices --json`): these keys, missing values null."""
        record = self._record()
        sections = record.pop("sections")
        return record | {"gist": self.gist, "sections": sections}

    def _record(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "spoken_title": self.spoken_title,
            "doc_number": self.doc_number,
            "issuer": self.issuer,
            "addressee": self.addressee,
            "signed_date": self.signed_date.isoformat() if self.signed_date else None,
            "published_date": self.published_date.isoformat() if self.published_date else None,
            "attachments": list(self.attachments),
            "source": self.source,
            "body": self.body,
            "annotation": self.annotation,
            "withdrawn": self.withdrawn,
            "sections": [section.to_json() for section in self.sections],
        }
