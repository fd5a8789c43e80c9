"""When a person answers the phone line: the hall's office hours (TINGWEN_OFFICE_HOURS), whether
a moment falls inside them, and how they are said to a caller (周一至周五，上午九点到中午十二点…).

Written `Mon-Fri 09:00-12:00,13:30-17:00; Sat 09:00-12:00`: groups separated by `;`, each a
day or a range of days (Mon … Sun) and one or more times (`24:00` ends the day). Public
holidays are not known here: staff shorten the hours for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from cn2an import an2cn

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPOKEN_DAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True)
class OfficeGroup:
    days: tuple[int, ...]  # 0 = Monday, as datetime.weekday()
    spans: tuple[tuple[time, time], ...]  # each start before its end; time.max for 24:00


@dataclass(frozen=True)
class OfficeHours:
    groups: tuple[OfficeGroup, ...]
    written: str

    @classmethod
    def parse(cls, text: str) -> OfficeHours:
        """The hours as written in the setting; a ValueError says what is wrong and how to write it."""
        groups = []
        for part in (p.strip() for p in text.split(";")):
            if not part:
                continue
            days_text, _, times_text = part.partition(" ")
            days = _days(days_text)
            spans = tuple(_span(t) for t in times_text.replace(" ", "").split(",") if t)
            if not spans:
                raise ValueError(f"{part!r} has no times: write e.g. Mon-Fri 09:00-12:00,13:30-17:00")
            groups.append(OfficeGroup(days, spans))
        if not groups:
            raise ValueError("no office hours: write e.g. Mon-Fri 09:00-12:00,13:30-17:00")
        return cls(tuple(groups), text.strip())

    def is_open(self, local: datetime) -> bool:
        """Whether `local` (a time in the hall's zone) is inside the hours."""
        moment = local.time().replace(tzinfo=None)
        return any(
            local.weekday() in group.days and any(start <= moment < end for start, end in group.spans)
            for group in self.groups
        )

    def spoken(self) -> str:
        """The hours as a caller hears them: 周一至周五，上午九点到中午十二点，下午一点半到五点。"""
        return "；".join(
            _spoken_days(group.days) + "，" + "，".join(_spoken_span(start, end) for start, end in group.spans)
            for group in self.groups
        )


def _days(text: str) -> tuple[int, ...]:
    found: list[int] = []
    for item in text.lower().split(","):
        first, _, last = item.partition("-")
        try:
            start = DAY_NAMES.index(first.strip()[:3])
            end = DAY_NAMES.index(last.strip()[:3]) if last else start
        except ValueError:
            raise ValueError(f"{text!r}: days are Mon, Tue, Wed, Thu, Fri, Sat, Sun, or a range such as Mon-Fri") from None
        if len(first.strip()) != 3 or (last and len(last.strip()) != 3):
            raise ValueError(f"{text!r}: days are Mon, Tue, Wed, Thu, Fri, Sat, Sun, or a range such as Mon-Fri")
        found += range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)]
    return tuple(sorted(set(found)))


def _span(text: str) -> tuple[time, time]:
    start, end = (t.zfill(5) for t in text.partition("-")[::2])  # 9:00 as 09:00
    try:
        bounds = time.fromisoformat(start), time.max if end == "24:00" else time.fromisoformat(end)
    except ValueError:
        raise ValueError(f"{text!r}: times are HH:MM-HH:MM, e.g. 09:00-12:00") from None
    if bounds[0] >= bounds[1]:
        raise ValueError(f"{text!r}: the start must come before the end")
    return bounds


def _spoken_days(days: tuple[int, ...]) -> str:
    if len(days) > 2 and days == tuple(range(days[0], days[-1] + 1)):
        return f"{_SPOKEN_DAYS[days[0]]}至{_SPOKEN_DAYS[days[-1]]}"
    return "、".join(_SPOKEN_DAYS[d] for d in days)


def _period(moment: time) -> str:
    hour = moment.hour
    if hour < 6:
        return "凌晨"
    if hour < 12:
        return "上午"
    if hour < 13:
        return "中午"
    return "下午" if hour < 18 else "晚上"


def _clock(moment: time) -> str:
    """九点, 一点半, 两点, 五点十五分 (the 12-hour clock: the period is said before it)."""
    hour = moment.hour % 12 or 12
    spoken = "两" if hour == 2 else an2cn(hour)
    if moment.minute == 0:
        return f"{spoken}点"
    if moment.minute == 30:
        return f"{spoken}点半"
    minute = an2cn(moment.minute) if moment.minute >= 10 else "零" + an2cn(moment.minute)
    return f"{spoken}点{minute}分"


def _spoken_span(start: time, end: time) -> str:
    if end == time.max:
        return "全天" if start == time.min else f"{_period(start)}{_clock(start)}到晚上十二点"
    same = _period(start) == _period(end)
    return f"{_period(start)}{_clock(start)}到{'' if same else _period(end)}{_clock(end)}"
