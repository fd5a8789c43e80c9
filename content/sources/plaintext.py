"""A single notice as text, laid out the way official documents are printed.

    内蒙古自治区人民政府关于印发…的通知          ← title (one or more lines)
    内政发〔2025〕5号                          ← 发文字号
    各盟行政公署、市人民政府，…：               ← 主送机关
    现将《…》印发给你们，请…。                  ← body
    附件：1．…                                 ← 附件说明
    内蒙古自治区人民政府                        ← 署名
    2025年2月13日                              ← 成文日期
    （此件公开发布）                            ← 附注
    内蒙古自治区就业促进行动实施方案            ← an issued document, if any
    …

Labelled lines (`发文字号：…`, `成文日期：…`) are accepted anywhere in the header. The HTML source
feeds its article body through here too, with what its metadata table already said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from content.anatomy import NoticeParts, assemble
from content.errors import IngestError
from content.metadata import ANNOTATION, is_date_line, parse_date, parse_doc_number
from content.model import Notice
from content.official import KINDS, ORGAN_ENDINGS, alternatives

LABELS = {
    "标题": "title",
    "名称": "title",
    "发文字号": "doc_number",
    "文号": "doc_number",
    "发文机关": "issuer",
    "主送机关": "addressee",
    "成文日期": "signed_date",
    "发布日期": "published_date",
    "来源": "source",
}
_LABELLED = re.compile(rf"^\s*({'|'.join(LABELS)})\s*[：:]\s*(.*)$")
_IGNORED_LABELS = re.compile(r"^\s*(索引号|主题分类|公文种类|有效性|信息来源|生成日期)\s*[：:]")
_ORGAN_LINE = re.compile(rf"^[\u4e00-\u9fff（）()]{{2,40}}(?:{alternatives(ORGAN_ENDINGS)})$")


@dataclass
class _Line:
    number: int
    text: str


def parse(
    text: str,
    source: Path | str,
    known: dict[str, str] | None = None,
    first_line: int = 1,
    default_issuer: str | None = None,
) -> Notice:
    """`known` fields win over what the text says; `default_issuer` is used only if neither names one."""
    fields = dict(known or {})
    lines = [_Line(n, t.strip(" \t\u3000")) for n, t in enumerate(text.splitlines(), first_line)]
    content = [line for line in lines if line.text]
    if not content:
        raise IngestError(source, first_line, "the file holds no text")

    position = _read_header(content, fields, source)
    body_lines = content[position:]
    if not body_lines:
        raise IngestError(source, content[-1].number, "a title but no body after it")
    letter_lines, signed, note, issued_lines, issuer = _split_signature(body_lines, source)

    doc_number = fields.get("doc_number")
    if doc_number:
        doc_number = parse_doc_number(doc_number) or doc_number.strip()
    dates = {}
    for name in ("signed_date", "published_date"):
        if fields.get(name):
            dates[name] = parse_date(fields[name])
            if dates[name] is None:
                raise IngestError(source, first_line, f"{name.replace('_', ' ')} {fields[name]!r} is not a date")
    issued_title = None
    if issued_lines and len(issued_lines) > 1 and len(issued_lines[0].text) <= 60 and not is_date_line(issued_lines[0].text):
        issued_title = issued_lines[0].text
        issued_lines = issued_lines[1:]
    return assemble(
        NoticeParts(
            letter="\n".join(line.text for line in letter_lines),
            title=fields.get("title"),
            doc_number=doc_number,
            issuer=fields.get("issuer") or issuer or default_issuer,
            addressee=fields.get("addressee"),
            signed_date=dates.get("signed_date") or signed,
            published_date=dates.get("published_date"),
            annotation=note,
            issued_text="\n".join(line.text for line in issued_lines),
            issued_title=issued_title,
            source=fields.get("source") or str(source),
        )
    )


def _read_header(lines: list[_Line], fields: dict[str, str], source: Path | str) -> int:
    """Read title, 文号 and labelled lines from the top; return where the body starts."""
    title_lines: list[str] = []
    position = 0
    while position < len(lines):
        text = lines[position].text
        labelled = _LABELLED.match(text)
        if labelled:
            fields.setdefault(LABELS[labelled.group(1)], labelled.group(2).strip())
        elif _IGNORED_LABELS.match(text):
            pass
        elif parse_doc_number(text):
            fields.setdefault("doc_number", text)
        elif fields.get("title") and text == fields["title"]:
            pass  # the page repeats its title above the body
        elif not title_lines and "title" not in fields and _looks_like_title(text, lines, position):
            title_lines.append(text)
        elif title_lines and _continues_title(title_lines, text, lines, position):
            title_lines.append(text)
        else:
            break
        position += 1
    if title_lines:
        fields.setdefault("title", "".join(title_lines))
    return position


def _looks_like_title(text: str, lines: list[_Line], position: int) -> bool:
    if len(text) > 80 or text.endswith(("：", ":", "。")) or "。" in text:
        return False
    return position + 1 < len(lines)


def _continues_title(title_lines: list[str], text: str, lines: list[_Line], position: int) -> bool:
    """A long title wraps onto a second line; the addressee or a sentence does not continue it."""
    joined = "".join(title_lines)
    return (
        len(joined) + len(text) <= 80
        and not joined.endswith(KINDS)
        and not text.endswith(("：", ":"))
        and "。" not in text
        and not parse_doc_number(text)
    )


def _split_signature(lines: list[_Line], source: Path | str):
    """Find 署名 + 成文日期 (+ 附注) closing the letter; what follows is the issued document."""
    for i, line in enumerate(lines):
        if not is_date_line(line.text):
            continue
        signed = parse_date(line.text)
        if signed is None:
            raise IngestError(source, line.number, f"impossible signing date {line.text!r}")
        end = i
        issuer = None
        if i > 0 and _ORGAN_LINE.match(lines[i - 1].text):
            end = i - 1
            issuer = lines[i - 1].text
        rest = lines[i + 1 :]
        note = None
        if rest and ANNOTATION.fullmatch(rest[0].text):
            note = rest[0].text
            rest = rest[1:]
        return lines[:end], signed, note, rest, issuer
    return lines, None, None, [], None
