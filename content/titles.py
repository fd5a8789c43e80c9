"""Short spoken titles: what a listener hears on the menu (about 20 characters).

A written title leads with the issuing organ and may carry a 文号; a list-page body has no title at
all, so the subject and document type are read off the body's set phrases (请示…收悉 → 批复,
现将《X》印发 → 通知, …).
"""

from __future__ import annotations

import re

TARGET_LENGTH = 20
_ORGAN_PREFIX = re.compile(r"^.{2,30}?(?:人民政府|行政公署|办公厅|办公室|委员会|公署|政府|厅|局|委|部|院)(?=关于)")
_PARENS = re.compile(r"[（(][^（）()]*[）)]|〔[^〕]*〕|\[[^\]]*\]")
_MARKS = re.compile(r"[《》〈〉<>“”\"'「」『』\s]")

# Ways to make a long spoken title shorter, tried in order until it is short enough.
_SHORTENINGS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"内蒙古自治区|自治区级|(?<=印发)自治区"), ""),
    (re.compile(r"(?<=关于)(?:审核批准|审批|批准)"), ""),
    (re.compile(r"进一步|切实|认真|深入贯彻落实|深入"), ""),
]

_RULES: list[tuple[re.Pattern[str], str]] = [
    # 你市《关于…的请示》(…)收悉 → 关于…的批复
    (re.compile(r"《\s*(关于.+?)的请示\s*》.{0,40}?收悉"), r"\1的批复"),
    (re.compile(r"(关于[^，,。《》]{2,60}?)的请示.{0,40}?收悉"), r"\1的批复"),
    # 现将《X》印发给你们 → 关于印发X的通知 (转发 likewise)
    (re.compile(r"现将《(.+?)》(印发|转发)"), r"关于\2\1的通知"),
    # 决定命名…为Y，…现予公布 → 关于公布Y的通知
    (re.compile(r"命名.{1,80}?为([^，,。；;]{2,60}?)[，,。；;](?=.*现予公布)"), r"关于公布\1的通知"),
    (re.compile(r"现将(.{2,40}?)予以公布"), r"关于公布\1的通知"),
]


def spoken_title(title: str | None, body: str, issuer: str | None = None) -> str:
    """The title a listener hears: no issuing organ, no 文号, no brackets, about 20 characters."""
    if title:
        return shorten(_strip_issuer(title, issuer))
    return shorten(derive_title(body))


def _strip_issuer(title: str, issuer: str | None) -> str:
    title = _PARENS.sub("", title)
    if issuer and title.startswith(issuer) and len(title) > len(issuer) + 1:
        return title[len(issuer) :]
    return _ORGAN_PREFIX.sub("", title)


def derive_title(body: str) -> str:
    """A title from the body's set phrases, for sources (list pages) that give none."""
    flat = body.replace("\n", "")
    for pattern, template in _RULES:
        match = pattern.search(flat)
        if match:
            return match.expand(template)
    if "发布如下命令" in flat or "特发布此令" in flat or "命令如下" in flat:
        subject = re.search(r"关于([^，,。的]{2,12}?)工作", flat)
        return f"{subject.group(1)}命令" if subject else "政府命令"
    kind = _closing_kind(flat)
    purpose = re.search(r"^.{0,80}?为了?([^，,。：:]{4,30})[，,]", flat)
    if purpose:
        return f"关于{purpose.group(1)}的{kind}"
    return kind


def _closing_kind(flat: str) -> str:
    """The document type named in its closing phrase (现将有关事项通告如下, 特此通知 …)."""
    for kind in ("通告", "公告", "批复", "决定", "意见", "通报", "函", "通知"):
        if re.search(rf"(?:特此|现将有关事项|现就有关事项){kind}|{kind}如下", flat):
            return kind
    return "通知"


def shorten(text: str) -> str:
    text = _MARKS.sub("", _PARENS.sub("", text))
    for pattern, replacement in _SHORTENINGS:
        if len(text) <= TARGET_LENGTH:
            break
        text = pattern.sub(replacement, text)
    return text


_KIND_SUFFIX = re.compile(r"的?(?:通知|批复|命令|通告|公告|决定|意见|函|通报)$")
_ACTION_PREFIX = re.compile(r"^关于(?:印发|转发|公布|做好|加强|进一步)?")


def title_subject(spoken: str) -> str:
    """The subject of a spoken title, as a listener would name it: 关于印发就业促进行动实施方案的通知
    → 就业促进行动实施方案; 森林草原防灭火命令 → 森林草原防灭火."""
    subject = _KIND_SUFFIX.sub("", _ACTION_PREFIX.sub("", spoken))
    return subject if len(subject) >= 2 else ""
