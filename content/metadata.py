"""Recognising the metadata of official documents: dates, document numbers (文号), annotations."""

from __future__ import annotations

import re
from datetime import date

from content.numbering import chinese_number

# 巴政报〔2025〕22号, 内自然资字[2024]15号, 国办发（2024）51号, 内政发﹝2025﹞3号 …
_OPEN = "〔［\\[（(﹝【"
_CLOSE = "〕］\\]）)﹞】"
DOC_NUMBER = re.compile(
    rf"(?P<code>[\u4e00-\u9fff]{{1,12}}?)\s*[{_OPEN}]\s*(?P<year>\d{{4}})\s*[{_CLOSE}]\s*第?(?P<serial>\d{{1,5}})\s*号"
)
CHINESE_DATE = re.compile(r"(?P<y>\d{4}|[〇零一二三四五六七八九]{4})\s*年\s*(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3})\s*月\s*(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日")
ISO_DATE = re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})")
ANNOTATION = re.compile(r"[（(]\s*(此件[^（()）]{1,12}|本文有删减|[^（()）]{0,8}删减[^（()）]{0,4})\s*[）)]")

_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}


def normalise_doc_number(code: str, year: str, serial: str) -> str:
    """One spelling for every bracket and width variant: 巴政报〔2025〕22号."""
    return f"{code}〔{year}〕{int(serial)}号"


def parse_doc_number(text: str) -> str | None:
    """The document number if `text` is (essentially) just one, else None."""
    match = DOC_NUMBER.fullmatch(text.strip().strip("：:").strip())
    if not match:
        return None
    return normalise_doc_number(match["code"], match["year"], match["serial"])


def _cn_int(text: str) -> int:
    if text.isdigit():
        return int(text)
    if len(text) == 4:  # a year written digit by digit: 二〇二五
        return int("".join(str(_CN_DIGIT[c]) for c in text))
    return chinese_number(text)


def parse_date(text: str) -> date | None:
    """A date written 2025年3月17日, 二〇二五年三月十七日 or 2025-03-17; None if there is none or it is impossible."""
    match = CHINESE_DATE.search(text) or ISO_DATE.search(text)
    if not match:
        return None
    try:
        return date(_cn_int(match["y"]), _cn_int(match["m"]), _cn_int(match["d"]))
    except (ValueError, KeyError):
        return None


def is_date_line(text: str) -> bool:
    """True when `text` is nothing but a date (a 成文日期 line), possible or not."""
    text = text.strip()
    return bool(CHINESE_DATE.fullmatch(text) or ISO_DATE.fullmatch(text))
