"""regwatch warnings: routing, deadlines, working-day overrides, automatic issue — what an operator types and reads."""

from __future__ import annotations

from sqlmodel import select

from domain.warnings.models import DeadlineSetting, Warning, WorkdayOverride
from tests.cli.factories import regwatch
from tests.domain.warnings.support import build_city, score


def test_routing_deadlines_workdays_and_auto_issue(cli_env, db):
    with db.unit_of_work() as s:
        city = build_city(s)
        score(s, city.run, city.entities[0], 0.9, "red")
        run_id = city.run.id
    added = regwatch("warnings", "route", "district", "WZ-SCJG", "--value", "320505")
    assert added.exit_code == 0, added.output
    listed = regwatch("warnings", "routing")
    assert "行政区划 320505" in listed.output and "默认部门" in listed.output
    bad = regwatch("warnings", "route", "district", "WZ-SCJG", "--value", "32")
    assert bad.exit_code == 1 and "应为6位数字代码" in bad.output
    assert regwatch("warnings", "deadline", "red", "--disposal", "5", "--disposal-kind", "working").exit_code == 0
    assert "5 工作日" in regwatch("warnings", "deadlines").output
    assert regwatch("warnings", "workday", "2031-01-04", "--holiday", "--note", "调整").exit_code == 0
    issued = regwatch("warnings", "auto-issue", str(run_id))
    assert issued.exit_code == 0 and "新发布 1" in issued.output
    with db.unit_of_work() as s:
        assert s.get(DeadlineSetting, "red").disposal_day_kind == "working"
        assert s.exec(select(WorkdayOverride)).one().is_workday is False
        assert s.exec(select(Warning)).one().department_id == city.wuzhong.id
