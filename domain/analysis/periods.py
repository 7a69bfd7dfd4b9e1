"""Periods (统计期间): `2026H1`, `2026H2`, `2026Q3`, `2026-07`, `2026` and custom ranges `2026-03-01~2026-05-31`.

One parser for every feature that reports by period (analysis, evaluation, reports, statistics). A period is a
half-open range of local (Asia/Shanghai) dates [start, end); `previous()` is the period of the same kind and
length just before it, used for "change from the previous period".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.errors import InvalidInput
from domain.types import LOCAL_TZ, local_today

__all__ = ["PERIOD_HELP", "Period", "last_closed_half_year", "parse_period"]

PERIOD_HELP = ("期间格式：2026H1（上半年）、2026H2、2026Q3（季度）、2026-07（月）、2026（全年）"
               "或 2026-03-01~2026-05-31（自定义）")

_HALF = re.compile(r"^(\d{4})\s*[Hh]([12])$")
_QUARTER = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:~|～|\.\.|至|/)\s*(\d{4}-\d{1,2}-\d{1,2})$")


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str  # half / quarter / month / year / range
    start: date  # first day
    end: date  # the day after the last day (exclusive)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def code(self) -> str:
        s = self.start
        if self.kind == "half":
            return f"{s.year}H{1 if s.month == 1 else 2}"
        if self.kind == "quarter":
            return f"{s.year}Q{(s.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{s.year}-{s.month:02d}"
        if self.kind == "year":
            return f"{s.year}"
        return f"{s.isoformat()}~{self.last_day.isoformat()}"

    @property
    def label(self) -> str:
        s = self.start
        if self.kind == "half":
            return f"{s.year}年{'上' if s.month == 1 else '下'}半年"
        if self.kind == "quarter":
            return f"{s.year}年第{'一二三四'[(s.month - 1) // 3]}季度"
        if self.kind == "month":
            return f"{s.year}年{s.month}月"
        if self.kind == "year":
            return f"{s.year}年"
        return f"{s.year}年{s.month}月{s.day}日至{self.last_day.year}年{self.last_day.month}月{self.last_day.day}日"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants: local midnight of the first day to local midnight after the last."""
        lo = datetime.combine(self.start, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
        hi = datetime.combine(self.end, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
        return lo, hi

    def is_closed(self, today: date | None = None) -> bool:
        return (today or local_today()) >= self.end

    def previous(self) -> Period:
        s = self.start
        if self.kind == "half":
            return Period("half", _month_start(s.year, s.month - 6), s)
        if self.kind == "quarter":
            return Period("quarter", _month_start(s.year, s.month - 3), s)
        if self.kind == "month":
            return Period("month", _month_start(s.year, s.month - 1), s)
        if self.kind == "year":
            return Period("year", date(s.year - 1, 1, 1), s)
        return Period("range", s - timedelta(days=self.days), s)

    def __str__(self) -> str:
        return self.code


def _bad(text: str, why: str, field: str) -> InvalidInput:
    return InvalidInput(f"期间“{text}”无效：{why}。{PERIOD_HELP}", field=field, code="bad_period")


def parse_period(text: str | Period | None, *, field: str = "period") -> Period:
    """Parse a period code; a specific Chinese error for anything else."""
    if isinstance(text, Period):
        return text
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput(f"请填写统计期间。{PERIOD_HELP}", field=field, code="required")
    if m := _HALF.match(raw):
        year, half = int(m[1]), int(m[2])
        if half == 1:
            return Period("half", date(year, 1, 1), date(year, 7, 1))
        return Period("half", date(year, 7, 1), date(year + 1, 1, 1))
    if m := _QUARTER.match(raw):
        year, q = int(m[1]), int(m[2])
        return Period("quarter", date(year, 3 * q - 2, 1), _month_start(year, 3 * q + 1))
    if m := _MONTH.match(raw):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise _bad(raw, f"月份 {month} 不在 1–12 之间", field)
        return Period("month", date(year, month, 1), _month_start(year, month + 1))
    if m := _YEAR.match(raw):
        return Period("year", date(int(m[1]), 1, 1), date(int(m[1]) + 1, 1, 1))
    if m := _RANGE.match(raw):
        try:
            first, last = date.fromisoformat(_pad(m[1])), date.fromisoformat(_pad(m[2]))
        except ValueError as exc:
            raise _bad(raw, "日期不存在", field) from exc
        if last < first:
            raise _bad(raw, "结束日期早于开始日期", field)
        if (last - first).days > 3660:
            raise _bad(raw, "自定义期间不能超过十年", field)
        return Period("range", first, last + timedelta(days=1))
    raise _bad(raw, "无法识别", field)


def _pad(text: str) -> str:
    y, m, d = text.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


def last_closed_half_year(today: date | None = None) -> Period:
    """The most recent half year that has ended by `today` (on 2026-07-01 that is 2026H1)."""
    today = today or local_today()
    if today.month >= 7:
        return parse_period(f"{today.year}H1")
    return parse_period(f"{today.year - 1}H2")
