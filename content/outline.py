"""A notice as staff read it in a terminal: metadata, the letter, then the section tree."""

from __future__ import annotations

from content.model import Notice, Section


def outline(notice: Notice) -> str:
    """A readable outline for staff: metadata, the letter, then the section tree."""
    labels = [
        ("标题", notice.title),
        ("朗读标题", notice.spoken_title),
        ("文号", notice.doc_number),
        ("发文机关", notice.issuer),
        ("主送机关", notice.addressee),
        ("成文日期", notice.signed_date),
        ("发布日期", notice.published_date),
        ("附注", notice.annotation),
        ("要点", notice.gist),
        ("状态", "已撤回" if notice.withdrawn else None),
        ("来源", notice.source),
    ]
    lines = [f"[{notice.id}] {notice.spoken_title}"]
    lines += [f"  {label}：{value}" for label, value in labels if value]
    lines += [f"  附件{i}：{name}" for i, name in enumerate(notice.attachments, 1)]
    if notice.body:
        lines += ["", notice.body]
    for section in notice.sections:
        _outline_section(section, 0, lines)
    return "\n".join(lines)


def _outline_section(section: Section, depth: int, lines: list[str]) -> None:
    indent = "  " * depth
    lines.append(f"{indent}{section.path} {section.marker}{section.heading or ''}".rstrip())
    if section.text:
        lines.extend(f"{indent}    {line}" for line in section.text.splitlines())
    for child in section.children:
        _outline_section(child, depth + 1, lines)


def pad(text: str, width: int) -> str:
    """Pad for a terminal, where a Chinese character takes two columns."""
    columns = sum(2 if ord(c) > 0x2E80 else 1 for c in text)
    return text + " " * max(0, width - columns)
