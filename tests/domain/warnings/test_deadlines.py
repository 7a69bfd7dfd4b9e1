"""Deadlines per level in calendar and working days: weekends, public holidays, 调休 Saturdays, the override list."""

from datetime import UTC, date, datetime

import pytest

from domain.errors import InvalidInput
from domain.identity.actor import SYSTEM
from domain.types import LOCAL_TZ
from domain.warnings.deadlines import (
    WorkdayCalendar,
    add_days,
    deadline_settings,
    deadlines_for,
    save_deadline_setting,
    save_workday_override,
)

CAL = WorkdayCalendar()


def test_working_days_skip_the_weekend():
    assert add_days(date(2026, 3, 6), 1, "working", CAL) == date(2026, 3, 9)  # Friday -> Monday
    assert add_days(date(2026, 3, 6), 1, "calendar", CAL) == date(2026, 3, 7)


def test_working_days_skip_a_public_holiday():
    # 2026-04-03 is a Friday; 2026-04-06 (清明 observed) is a holiday Monday
    assert add_days(date(2026, 4, 3), 1, "working", CAL) == date(2026, 4, 7)


def test_a_make_up_saturday_is_a_working_day():
    # 2026-10-09 Friday; 2026-10-10 is the Saturday worked in exchange for the National Day holiday (调休)
    assert add_days(date(2026, 10, 9), 1, "working", CAL) == date(2026, 10, 10)
    # across National Day: 30 Sep -> 1..7 Oct off (not 3/4 weekend either) -> Thursday 8 Oct
    assert add_days(date(2026, 9, 30), 1, "working", CAL) == date(2026, 10, 8)


def test_the_override_list_wins_and_covers_unknown_years():
    cal = WorkdayCalendar({date(2030, 1, 1): False, date(2030, 1, 5): True})
    assert add_days(date(2029, 12, 31), 1, "working", cal) == date(2030, 1, 2)  # 2030 unknown to the library
    assert cal.is_workday(date(2030, 1, 5))  # a Saturday declared a workday
    assert not cal.is_workday(date(2030, 1, 6))  # Sundays off in unknown years


def test_deadlines_run_from_dispatch_to_the_end_of_the_local_day(session):
    settings = deadline_settings(session)
    dispatched = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)  # 10:00 Friday in Suzhou
    receipt, disposal = deadlines_for("red", dispatched, settings, CAL)
    assert receipt.astimezone(LOCAL_TZ).date() == date(2026, 10, 10)  # the 调休 Saturday
    assert (receipt.astimezone(LOCAL_TZ).hour, receipt.astimezone(LOCAL_TZ).minute) == (23, 59)
    assert disposal.astimezone(LOCAL_TZ).date() == date(2026, 10, 12)  # red: 3 calendar days


def test_levels_can_count_in_working_days(session):
    save_deadline_setting(session, SYSTEM, "orange", receipt_days=1, receipt_day_kind="working",
                          disposal_days=7, disposal_day_kind="working")
    save_workday_override(session, SYSTEM, date(2026, 3, 12), False, "临时调整")
    settings = deadline_settings(session)
    _, disposal = deadlines_for("orange", datetime(2026, 3, 6, 2, tzinfo=UTC), settings, WorkdayCalendar.load(session))
    # Mon 9, Tue 10, Wed 11, (Thu 12 off), Fri 13, Mon 16, Tue 17, Wed 18
    assert disposal.astimezone(LOCAL_TZ).date() == date(2026, 3, 18)
    assert settings["red"].disposal_days == 3 and settings["blue"].disposal_days == 30


def test_bad_settings_are_refused_in_chinese(session):
    with pytest.raises(InvalidInput) as err:
        save_deadline_setting(session, SYSTEM, "orange", receipt_days=0, receipt_day_kind="weekly",
                              disposal_days=7, disposal_day_kind="working")
    assert {e.field for e in err.value.errors} == {"receipt_days", "receipt_day_kind"}
    assert "计日方式" in err.value.errors[1].message
