"""Deadlines per level (处置时限) in calendar or working days; working days follow China's official calendar
(法定节假日 and 调休 make-up workdays, from the `chinesecalendar` library) with an admin-editable override list for
the days and years the library does not know."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.errors import FieldError, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.policy import require, require_signed_in
from domain.types import LOCAL_TZ, utcnow
from domain.warnings.models import DAY_KINDS, LEVELS, DeadlineSetting, WorkdayOverride

__all__ = [
    "DEFAULT_DEADLINES",
    "Deadline",
    "WorkdayCalendar",
    "add_days",
    "deadline_settings",
    "deadlines_for",
    "delete_workday_override",
    "list_workday_overrides",
    "save_deadline_setting",
    "save_workday_override",
]

# level -> (receipt days, receipt day kind, disposal days, disposal day kind); DESIGN.md's defaults.
DEFAULT_DEADLINES: dict[str, tuple[int, str, int, str]] = {
    "red": (1, "working", 3, "calendar"),
    "orange": (1, "working", 7, "calendar"),
    "yellow": (1, "working", 15, "calendar"),
    "blue": (1, "working", 30, "calendar"),
}
MAX_DAYS = 365
END_OF_DAY = time(23, 59, 59)


class WorkdayCalendar:
    """Is a day a workday: the override list first, then the official calendar, else Monday to Friday."""

    def __init__(self, overrides: dict[date, bool] | None = None) -> None:
        self.overrides = overrides or {}

    @classmethod
    def load(cls, session: Session) -> WorkdayCalendar:
        rows = session.exec(select(col(WorkdayOverride.day), col(WorkdayOverride.is_workday))).all()
        return cls({day: bool(flag) for day, flag in rows})

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # a year the library does not cover yet: weekdays, plus the override list
            return day.weekday() < 5


def add_days(start: date, days: int, kind: str, calendar: WorkdayCalendar) -> date:
    """The day `days` calendar or working days after `start` (the start day itself never counts)."""
    if kind == "calendar":
        return start + timedelta(days=days)
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            remaining -= 1
    return day


@dataclass(frozen=True)
class Deadline:
    level: str
    receipt_days: int
    receipt_day_kind: str
    disposal_days: int
    disposal_day_kind: str

    @property
    def describe(self) -> str:
        return (f"签收 {self.receipt_days} 个{DAY_KINDS[self.receipt_day_kind]}，"
                f"处置 {self.disposal_days} 个{DAY_KINDS[self.disposal_day_kind]}")


def deadline_settings(session: Session) -> dict[str, Deadline]:
    """Every level's deadlines: the saved row, or the default."""
    saved = {row.level: row for row in session.exec(select(DeadlineSetting))}
    out = {}
    for level in LEVELS:
        row = saved.get(level)
        if row is not None:
            out[level] = Deadline(level, row.receipt_days, row.receipt_day_kind, row.disposal_days,
                                  row.disposal_day_kind)
        else:
            r, rk, d, dk = DEFAULT_DEADLINES[level]
            out[level] = Deadline(level, r, rk, d, dk)
    return out


def deadlines_for(level: str, dispatched_at: datetime, settings: dict[str, Deadline],
                  calendar: WorkdayCalendar) -> tuple[datetime, datetime]:
    """(receipt due, disposal due): the end of the local day N days after dispatch, both counted from dispatch."""
    setting = settings[level]
    start = dispatched_at.astimezone(LOCAL_TZ).date()

    def due(days: int, kind: str) -> datetime:
        return datetime.combine(add_days(start, days, kind, calendar), END_OF_DAY, tzinfo=LOCAL_TZ)

    return due(setting.receipt_days, setting.receipt_day_kind), due(setting.disposal_days, setting.disposal_day_kind)


def save_deadline_setting(session: Session, actor: Actor, level: str, *, receipt_days: int, receipt_day_kind: str,
                          disposal_days: int, disposal_day_kind: str) -> Deadline:
    require(actor, "settings.manage")
    errors = []
    if level not in LEVELS:
        errors.append(FieldError("level", "unknown_level", f"等级“{level}”不存在，可选：{'、'.join(LEVELS)}"))
    for name, value in (("receipt_days", receipt_days), ("disposal_days", disposal_days)):
        if not 1 <= value <= MAX_DAYS:
            errors.append(FieldError(name, "out_of_range", f"天数 {value} 应在 1–{MAX_DAYS} 之间"))
    for name, kind in (("receipt_day_kind", receipt_day_kind), ("disposal_day_kind", disposal_day_kind)):
        if kind not in DAY_KINDS:
            errors.append(FieldError(name, "invalid_enum", f"“{kind}”不是有效的计日方式，可选：working（工作日）、"
                                                            "calendar（自然日）"))
    if errors:
        raise InvalidInput(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)
    row = session.get(DeadlineSetting, level)
    before = deadline_settings(session)[level]
    if row is None:
        row = DeadlineSetting(level=level, disposal_days=disposal_days)
    row.receipt_days = receipt_days
    row.receipt_day_kind = receipt_day_kind
    row.disposal_days = disposal_days
    row.disposal_day_kind = disposal_day_kind
    row.updated_by_name, row.updated_at = actor.username, utcnow()
    session.add(row)
    after = Deadline(level, receipt_days, receipt_day_kind, disposal_days, disposal_day_kind)
    record_audit(session, actor, "warning.deadline.update", "warning_deadline_setting", level,
                 {"before": before.__dict__, "after": after.__dict__})
    session.flush()
    return after


def list_workday_overrides(session: Session, actor: Actor) -> list[WorkdayOverride]:
    require_signed_in(actor)
    return list(session.exec(select(WorkdayOverride).order_by(col(WorkdayOverride.day))))


def save_workday_override(session: Session, actor: Actor, day: date, is_workday: bool,
                          note: str = "") -> WorkdayOverride:
    require(actor, "settings.manage")
    if len(note) > 200:
        raise InvalidInput(f"说明长度为 {len(note)} 个字符，超过上限 200", field="note", code="too_long")
    row = session.get(WorkdayOverride, day)
    before = None if row is None else row.is_workday
    if row is None:
        row = WorkdayOverride(day=day, is_workday=is_workday)
    row.is_workday, row.note = is_workday, note.strip()
    row.updated_by_name, row.updated_at = actor.username, utcnow()
    session.add(row)
    record_audit(session, actor, "warning.workday.save", "workday_override", day.isoformat(),
                 {"is_workday": [before, is_workday], "note": note})
    session.flush()
    return row


def delete_workday_override(session: Session, actor: Actor, day: date) -> None:
    require(actor, "settings.manage")
    row = session.get(WorkdayOverride, day)
    if row is None:
        raise NotFound(f"{day.isoformat()} 没有工作日调整", field="day")
    session.delete(row)
    record_audit(session, actor, "warning.workday.delete", "workday_override", day.isoformat(),
                 {"is_workday": [row.is_workday, None]})
    session.flush()
