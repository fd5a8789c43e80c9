"""Short spoken titles: what a listener hears on the menu (about 20 characters, never over 32).

A written title leads with the issuing organ, may carry a 文号 and may list several subjects; it
is shortened by rules that keep the subject and the document type. A list-page body has no title
at all, so the subject is read off what the notice does (请示…收悉 → 批复, 现将《X》印发 → 通知,
禁止在X…, 决定将X列为Y…现予公布, a project named before 通告如下), never off why it was written (为了…).
"""

from __future__ import annotations

import re
import threading
from importlib import resources
from pathlib import Path

from content.official import KINDS, ORGAN_ENDINGS, alternatives

TARGET_LENGTH = 20
MAX_LENGTH = 32
_KIND = "|".join(KINDS)
_ORGAN_PREFIX = re.compile(rf"^.{{2,30}}?(?:{alternatives(ORGAN_ENDINGS)})(?=关于)")
_PARENS = re.compile(r"[（(][^（）()]*[）)]|〔[^〕]*〕|\[[^\]]*\]")
_MARKS = re.compile(r"[《》〈〉<>“”\"'「」『』\s]")
_SUFFIX = re.compile(rf"(的?)({_KIND})$")

# Words a long spoken title can lose without losing its subject or type (see `shorten`).
_REGION = re.compile(r"内蒙古自治区|自治区级|(?<=印发)自治区")
_FILLERS = [
    re.compile(r"(?:的)?(?:有关|相关)(?:事项|问题|事宜)(?=的)"),
    re.compile(r"(?<=关于)(?:审核批准|审批|批准)(?:并)?"),
    re.compile(r"进一步|切实|认真|深入贯彻落实|深入"),
]

_RULES: list[tuple[re.Pattern[str], str]] = [
    # 你市《关于…的请示》(…)收悉 → 关于…的批复
    (re.compile(r"《\s*(关于.+?)的请示\s*》.{0,40}?收悉"), r"\1的批复"),
    (re.compile(r"(关于[^，,。《》]{2,60}?)的请示.{0,40}?收悉"), r"\1的批复"),
    # 现将《X》印发给你们 → 关于印发X的通知 (转发 likewise)
    (re.compile(r"现将《(.+?)》(印发|转发)"), r"关于\2\1的通知"),
    # 决定命名…为Y，…现予公布 → 关于公布Y的通知
    (re.compile(r"命名.{1,80}?为([^，,。；;]{2,60}?)[，,。；;](?=.*现予(?:以)?公布)"), r"关于公布\1的通知"),
    # 决定将X等N个项目列为Y(，…)，现予公布 → 关于公布Y的通知
    (re.compile(r"(?:列为|列入|确定为)([^，,。；;]{2,50}(?:名录|名单|项目|名城|名镇|名村|之乡|单位|基地))[，,。；;]?(?=.*现予(?:以)?公布)"), r"关于公布\1的通知"),
    # …确定的第五批…名录(共计N项)…，现予公布
    (re.compile(r"(第.{1,6}批[^，,。；;（(]{2,50}?(?:名录|名单))(?=.{0,80}?现予(?:以)?公布)"), r"关于公布\1的通知"),
    (re.compile(r"现将(.{2,40}?)予以公布"), r"关于公布\1的通知"),
]
# 禁止在X范围内新建… / 不得在X淹没区新建… → 关于禁止在X范围内新增建设项目的通告
_FORBIDDEN = re.compile(
    r"(?:(?:禁止|不得|严禁)(?:任何单位和个人)?(?:在|于)(?:"
    r"(?P<ranged>[^，,。；;、]{2,40}?)(?P<range>范围内|区域内|范围|以内)"
    r"|(?P<place>[^，,。；;、]{2,40}[区地])))"
    r"|(?:在(?P<before>[^，,。；;、]{2,40}?)(?P<range2>范围内|区域内)[，,]?(?:任何单位[^，,。；;]{0,12}?)?(?:不得|禁止|严禁)(?:新建|扩建|改建|新增))"
)
# 呼和浩特市红吉水库是…大型水库 / X工程是…重点建设项目 → the project a 通告 is about
_PROJECT = re.compile(r"(?:^|[。；;：:、])\s*(?:[一二三四五六七八九十]+、)?([^，,。；;：:为根据]{2,24}?(?:工程|水库|项目|电站|公路|铁路|机场|大桥|枢纽))(?:是|为|位于|已|经|涉及|包括)")
_PURPOSE = re.compile(r"^.{0,80}?为了?([^，,。：:]{4,30})[，,]")
_WHY_NOT_WHAT = re.compile(r"^(?:保证|确保|保障|维护|做好)[^，,。]{0,40}(?:顺利|秩序|权益|安全)")

_abbreviations: list[tuple[str, str]] = []
_loaded: set[str] = set()
_lock = threading.Lock()


def read_data_file(path: Path) -> str:
    """A staff-edited text file; one that is not UTF-8 is a ValueError naming it."""
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start}); fix or remove the file") from None


def load_abbreviations(extra: Path | None = None) -> None:
    """Abbreviations for long titles (content/data/abbreviations.txt, then `extra`, the hall's own
    file of the same form): `全称<TAB>简称` a line; each file once per process."""
    sources = [("bundled", resources.files("content").joinpath("data/abbreviations.txt").read_text("utf-8"))]
    if extra is not None and extra.exists():
        sources.append((str(extra), read_data_file(extra)))
    with _lock:
        for name, text in sources:
            if name in _loaded:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                parts = line.split()
                if len(parts) != 2 or len(parts[1]) >= len(parts[0]):
                    raise ValueError(f"{name}, line {number}: expected a long form and a shorter one, got {line!r}")
                _abbreviations.append((parts[0], parts[1]))
            _abbreviations.sort(key=lambda pair: -len(pair[0]))  # longest first
            _loaded.add(name)


def spoken_title(title: str | None, body: str, issuer: str | None = None) -> str:
    """The title a listener hears: subject and type, no issuing organ, no 文号, no brackets,
    about 20 characters and never over 32."""
    if title:
        return shorten(_strip_issuer(title, issuer))
    return shorten(derive_title(body))


def _strip_issuer(title: str, issuer: str | None) -> str:
    title = _PARENS.sub("", title)
    if issuer and title.startswith(issuer) and len(title) > len(issuer) + 1:
        return title[len(issuer) :]
    return _ORGAN_PREFIX.sub("", title)


def derive_title(body: str) -> str:
    """A title from what the body does, for sources (list pages) that give none."""
    flat = body.replace("\n", "")
    for pattern, template in _RULES:
        match = pattern.search(flat)
        if match:
            return match.expand(template)
    if "发布如下命令" in flat or "特发布此令" in flat or "命令如下" in flat:
        subject = re.search(r"关于([^，,。的]{2,12}?)工作", flat)
        return f"{subject.group(1)}命令" if subject else "政府命令"
    kind = _closing_kind(flat)
    forbidden = _FORBIDDEN.search(flat)
    if forbidden:
        place = forbidden.group("ranged") or forbidden.group("place") or forbidden.group("before")
        project = _PROJECT.search(flat)
        if project and re.match(r"上述|该|本", place):  # 在上述工程建设控制范围内: name the project
            place = project.group(1) + re.sub(r"^(?:上述|该|本)(?:工程|项目)?", "", place)
        people = "和迁入人口" if re.search(r"迁入人口|人口迁入", flat) else ""
        where = forbidden.group("range") or forbidden.group("range2") or ""
        return f"关于禁止在{place}{where}新增建设项目{people}的{kind}"
    project = _PROJECT.search(flat)
    if project:
        return f"关于{project.group(1)}的{kind}"
    purpose = _PURPOSE.search(flat)
    if purpose and not _WHY_NOT_WHAT.match(purpose.group(1)):
        return f"关于{purpose.group(1)}的{kind}"
    return kind


def _closing_kind(flat: str) -> str:
    """The document type named in its closing phrase (现将有关事项通告如下, 特此通知 …)."""
    for kind in ("通告", "公告", "批复", "决定", "意见", "通报", "函", "通知"):
        if re.search(rf"(?:特此|现将有关事项|现就有关事项|现将有关事宜){kind}|{kind}如下|(?:如下|以下){kind}", flat):
            return kind
    return "通知"


def shorten(text: str) -> str:
    """Shorten a title step by step until it is about TARGET_LENGTH; never over MAX_LENGTH."""
    text = _MARKS.sub("", _PARENS.sub("", text))
    for step in _SHORTENINGS:  # in order, each keeping the subject and the type
        if len(text) <= TARGET_LENGTH:
            return text
        text = step(text)
    return _cap(text)


def _abbreviate(text: str) -> str:
    load_abbreviations()
    for long, short in _abbreviations:  # only as many as it takes
        if len(text) <= TARGET_LENGTH:
            break
        text = text.replace(long, short)
    return text


def _drop_fillers(text: str) -> str:
    for pattern in _FILLERS:
        if len(text) <= TARGET_LENGTH:
            break
        text = pattern.sub("", text)
    return text


def _split_kind(text: str) -> tuple[str, str]:
    """('关于公布X', '的通知'): the title without its type, and the type (with 的)."""
    match = _SUFFIX.search(text)
    return (text[: match.start()], match.group()) if match else (text, "")


def first_item_end(text: str, earliest: int = 6) -> int | None:
    """Where the first item of a list (X以及Y和Z) ends: at the first 以及, else at the last 和 or 及
    (an earlier one is more often inside a name: 呼和浩特, 占地和淹没区); None when there is no
    list, or its first item would be shorter than `earliest`."""
    masked = text
    for word in _NOT_JOINERS:
        masked = masked.replace(word, "_" * len(word))
    position = masked.find("以及", earliest)
    if position < 0:
        position = max(masked.rfind("和"), masked.rfind("及"))
    return position if position >= earliest else None


def _cut_list(text: str) -> str:
    """A list of subjects becomes its first item plus 等."""
    head, kind = _split_kind(text)
    position = first_item_end(head)
    return text if position is None else head[:position].rstrip("、，") + "等" + kind


# Words in which 和 or 及 does not join a list (place names and common words).
_NOT_JOINERS = ("呼和浩特", "和林格尔", "和田", "和平", "和谐", "和顺", "和龙", "及时", "普及", "涉及", "危及", "波及")


_QUALIFIERS = ("自治区级", "国家级", "省级", "市级", "县级", "旗县级", "全市", "全省", "全区")


def _drop_repeats(text: str) -> str:
    """A qualifier said twice (市级…市级) is said once."""
    for word in _QUALIFIERS:
        first = text.find(word)
        if first >= 0 and text.find(word, first + len(word)) > 0:
            head = text[: first + len(word)]
            return head + text[first + len(word) :].replace(word, "")
    return text


def _drop_guan_yu(text: str) -> str:
    return text[2:] if text.startswith("关于") else text


_SHORTENINGS = (lambda t: _REGION.sub("", t), _abbreviate, _drop_fillers, _cut_list, _drop_repeats, _drop_guan_yu)


def _cap(text: str) -> str:
    """Still too long: keep the head of the subject and the type."""
    if len(text) <= MAX_LENGTH:
        return text
    head, kind = _split_kind(text)
    limit = MAX_LENGTH - len(kind) - 1
    ends = [m.end() for m in re.finditer(r"范围内|区域内|[区县市省地]", head[:limit]) if m.end() >= limit // 2]
    return head[: ends[-1] if ends else limit] + "等" + kind


_ACTION_PREFIX = re.compile(r"^(?:关于)?(?:印发|转发|公布|做好|加强|进一步|禁止在)?")


def title_subject(spoken: str) -> str:
    """The subject of a spoken title, as a listener would name it: 关于印发就业促进行动实施方案的通知
    → 就业促进行动实施方案; 森林草原防灭火命令 → 森林草原防灭火."""
    subject = _SUFFIX.sub("", _ACTION_PREFIX.sub("", spoken))
    return subject if len(subject) >= 2 else ""
