"""Official text → its spoken form: what a person reading aloud would say.

espeak-ng misreads Arabic numbers above 100 and drops decimal points, and Latin letters switch it
into English, so no Arabic digit, Latin letter or unreadable symbol may reach the engine. Order
matters: the most specific patterns (文号, dates, phone numbers, percentages) go first, and
whatever digits remain are read as plain numbers at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import cn2an

_DIGIT_NAMES = "零一二三四五六七八九"
_PHONE_DIGIT_NAMES = "零幺二三四五六七八九"  # 幺 for 1, as operators and callers say it
_FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９％．ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ",
    "0123456789%.ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
)
# Chinese names of Latin letters, so an abbreviation is spelled in Mandarin, never in English.
_LETTER_NAMES = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "诶 比 西 迪 伊 艾弗 吉 艾尺 艾 杰 开 艾勒 艾马 艾娜 哦 披 吉吾 艾儿 艾丝 提 伊吾 维 豆贝尔维 艾克斯 吾艾 贼德".split(),
    )
)
_PAUSE = "，"
_SENTENCE_END = "。"
_MEASURES = "个万亿千百人户年天名项次位家条所台种类批件场辆套间级周岁倍"
_PHONE_CONTEXT = re.compile(r"热线|电话|拨打|报警|号码|咨询|服务|手机|联系")

_CN_NUM = "[一二三四五六七八九十]{1,3}"


def digits(text: str, names: str = _DIGIT_NAMES) -> str:
    """Read a digit string one digit at a time (years, phone numbers, serials)."""
    return "".join(names[int(d)] for d in text if d.isdigit())


def number(text: str) -> str:
    """Read an integer or decimal as a quantity: 3000 → 三千, 5.5 → 五点五, 10000 → 一万."""
    if len(text) > 1 and text.startswith("0") and "." not in text:
        return digits(text)
    return cn2an.an2cn(text, "low")


def _quantity(text: str, following: str) -> str:
    """2 before a measure word is 两 (两个, 两万元); elsewhere numbers read as usual."""
    spoken = number(text)
    if spoken == "二" and following and following in _MEASURES:
        return "两"
    return spoken


def _date(match: re.Match[str]) -> str:
    year, month, day = match.group("y"), match.group("m"), match.group("d")
    spoken = f"{digits(year)}年" if year else ""
    if month:
        spoken += f"{number(str(int(month)))}月"
    if day:
        spoken += f"{number(str(int(day)))}日"
    return spoken


def _year_range(match: re.Match[str]) -> str:
    return f"{digits(match.group(1))}年到{digits(match.group(2))}年"


def _doc_number(match: re.Match[str]) -> str:
    return f"{match.group('code')}{_PAUSE}{digits(match.group('year'))}{_PAUSE}{number(match.group('serial'))}号"


def _percentage(match: re.Match[str]) -> str:
    return f"百分之{number(match.group(1))}"


def _per_unit(match: re.Match[str]) -> str:
    amount = _quantity(match.group(1), "元")
    return f"每{match.group(3)}{amount}{match.group(2) or ''}元"


def _phone(match: re.Match[str]) -> str:
    return _PAUSE.join(digits(part, _PHONE_DIGIT_NAMES) for part in re.split(r"[-—－]", match.group(0)))


def _maybe_service_number(match: re.Match[str]) -> str:
    """12119, 12345: digit by digit when the words around say it is a number to call."""
    start, end = match.span()
    around = match.string[max(0, start - 12) : end + 12]
    if _PHONE_CONTEXT.search(around) or match.string[start - 1 : start] in "“\"「":
        return digits(match.group(0), _PHONE_DIGIT_NAMES)
    return match.group(0)


def _marker(match: re.Match[str]) -> str:
    label = match.group("n")
    ordinal = number(label) if label.isdigit() else label
    return f"{match.group('lead')}第{ordinal}{_PAUSE}"


def _remaining_number(match: re.Match[str]) -> str:
    following = match.string[match.end() : match.end() + 1]
    return _quantity(match.group(0), following)


_UNITS = {"km": "公里", "kg": "公斤", "cm": "厘米", "mm": "毫米", "m²": "平方米", "㎡": "平方米", "m2": "平方米", "℃": "摄氏度", "°C": "摄氏度"}


def _unit(match: re.Match[str]) -> str:
    return f"{number(match.group(1))}{_UNITS[match.group(2)]}"


def _letters(match: re.Match[str]) -> str:
    return "".join(_LETTER_NAMES[c] for c in match.group(0).upper())


_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # 文号: 巴政报〔2025〕22号 → 巴政报，二零二五，二十二号 (any bracket variant)
    (
        re.compile(r"(?P<code>[\u4e00-\u9fff]{1,12}?)\s*[〔［\[（(﹝【]\s*(?P<year>\d{4})\s*[〕］\]）)﹞】]\s*第?(?P<serial>\d{1,5})\s*号"),
        _doc_number,
    ),
    # ranges of years: 2025-2030年, 2025—2030年 → 二零二五年到二零三零年
    (re.compile(r"(\d{4})\s*年?\s*[-—–－~～至到]\s*(\d{4})\s*年"), _year_range),
    # ISO dates: 2025-04-09
    (re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"), _date),
    # 2025年3月17日, 2025年3月, 3月15日, 2025年
    (re.compile(r"(?:(?P<y>\d{4})年)(?:(?P<m>\d{1,2})月)?(?:(?P<d>\d{1,2})[日号])?"), _date),
    (re.compile(r"(?P<y>)(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})[日号])?"), _date),
    # phone numbers: 0471-6944263, mobiles; then 12119-style service numbers in context
    (re.compile(r"(?<!\d)0\d{2,3}[-—－]\d{7,8}(?!\d)|(?<!\d)1[3-9]\d{9}(?!\d)"), _phone),
    (re.compile(r"(?<![\d.])(?:1\d{4,5}|11[049]|12[02])(?![\d.%万亿])"), _maybe_service_number),
    # percentages and per-unit amounts
    (re.compile(r"(\d+(?:\.\d+)?)\s*%"), _percentage),
    (re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿)?元\s*/\s*(人|户|月|年|次|亩|天)"), _per_unit),
    # section markers at the start of a line or sentence: （一） 1. （1） 一、 → 第一，
    (re.compile(rf"(?P<lead>^|(?<=[。；：:\n，,]))\s*[（(]\s*(?P<n>{_CN_NUM}|\d{{1,2}})\s*[）)]"), _marker),
    (re.compile(r"(?P<lead>^|(?<=[。；：:\n]))\s*(?P<n>\d{1,2})\s*[.．、](?!\d)"), _marker),
    (re.compile(rf"(?P<lead>^|(?<=[。；：:\n]))\s*(?P<n>{_CN_NUM})、"), _marker),
    # ratios and other symbols with a spoken name
    (re.compile(r"(?<=\d)\s*[∶:]\s*(?=\d)"), "比"),
    (re.compile(r"(?<=\d)\s*[-—–~～]\s*(?=\d)"), "到"),
    (re.compile(r"[~～]"), "到"),
    (re.compile(r"\+"), "加"),
    (re.compile(r"[×*]"), "乘"),
    (re.compile(r"≥"), "大于等于"),
    (re.compile(r"≤"), "小于等于"),
    (re.compile(r"&"), "和"),
    # units after a number
    (re.compile(r"(\d+(?:\.\d+)?)\s*(km|kg|cm|mm|m²|㎡|m2|℃|°C)(?![A-Za-z])"), _unit),
    # whatever digits remain are quantities: 3000人 → 三千人, 2.5 → 二点五
    (re.compile(r"\d+(?:\.\d+)?"), _remaining_number),
    (re.compile(r"[A-Za-z]+"), _letters),
]

# Brackets, quotes and other marks become pauses, never silence or noise.
_PAUSE_MARKS = re.compile(r"[《》〈〉<>“”\"'‘’「」『』（）()〔〕\[\]［］【】﹝﹞—–\-_/\\|·•…、,，:：\s]+")
_SENTENCE_MARKS = re.compile(r"[。！？；!?;.]+")
_UNREADABLE = re.compile(r"[^\u4e00-\u9fff，、。]")
_LIST_PAUSE = "、"  # between the items of a list: a shorter pause than 「，」


def _pause_for(marks: re.Match) -> str:
    """「、」 (also between quoted or bracketed items: 《条例》、《办法》) is a list's short pause;
    every other run of marks is a pause."""
    run = marks.group()
    return _LIST_PAUSE if _LIST_PAUSE in run and not any(c in run for c in ",，:：") else _PAUSE


def normalize(text: str) -> str:
    """The spoken form of `text`: Chinese characters, 「、」 between the items of a list, 「，」 for
    a pause and 「。」 for a sentence end."""
    text = text.translate(_FULL_WIDTH)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    text = _SENTENCE_MARKS.sub(_SENTENCE_END, text)
    text = _PAUSE_MARKS.sub(_pause_for, text)
    text = _UNREADABLE.sub("", text)
    text = re.sub(r"[，、。]*。[，、。]*", _SENTENCE_END, text)
    text = re.sub(r"[，、]*，[，、]*", _PAUSE, text)
    text = re.sub(r"、{2,}", _LIST_PAUSE, text)
    return text.strip("，、")
