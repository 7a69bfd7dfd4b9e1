"""Indicator sets (validation, versions, audit) and evaluation runs on the hand-built city."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.errors import Forbidden, InvalidInput
from domain.evaluation.defaults import DEFAULT_INDICATORS
from domain.evaluation.export import run_to_xlsx
from domain.evaluation.service import (
    compare_periods,
    ensure_default_set,
    get_run,
    list_indicator_sets,
    run_evaluation,
    save_indicator_set,
)
from domain.identity.actor import Actor
from tests.domain.analysis.dataset import AS_OF, build_city

ANALYST = Actor(user_id=None, username="system", roles=frozenset({"analyst"}))
VIEWER = Actor(user_id=1, username="viewer", roles=frozenset({"viewer"}))


def _indicators(**change):
    rows = [dict(i) for i in DEFAULT_INDICATORS]
    rows[0].update(change)
    return rows


def test_default_set_is_shipped_with_weights_100(session):
    ensure_default_set(session)
    (view,) = list_indicator_sets(session, VIEWER)
    assert view.set.code == "default" and view.total_weight == 100 and len(view.indicators) == 9


def test_weights_must_sum_to_100_and_every_problem_is_reported(session):
    with pytest.raises(InvalidInput) as exc:
        save_indicator_set(session, ANALYST, code="x", name="测试", indicators=_indicators(weight=25))
    assert [e.code for e in exc.value.errors] == ["weights_not_100"]
    assert "当前为 105" in exc.value.errors[0].message
    with pytest.raises(InvalidInput) as exc:
        save_indicator_set(session, ANALYST, code="x", name="", indicators=_indicators(
            metric="nope", target=0.2, floor=0.8, weight="abc"), grade_bands=[{"grade": "好", "min": 50}])
    codes = {e.field: e.code for e in exc.value.errors}
    assert codes["name"] == "required" and codes["indicators[0].metric"] == "unknown_metric"
    assert codes["indicators[0].weight"] == "not_a_number" and codes["indicators[0].target"] == "target_not_above_floor"
    assert codes["grade_bands"] == "no_zero_band"
    with pytest.raises(InvalidInput, match="比率，须在 0–1 之间"):
        save_indicator_set(session, ANALYST, code="x", name="测试", indicators=_indicators(target=95))
    with pytest.raises(Forbidden):
        save_indicator_set(session, VIEWER, code="x", name="测试", indicators=_indicators())
    assert session.exec(select(AuditLog).where(AuditLog.action == "indicator_set.save")).all() == []


def test_editing_makes_a_new_version_and_is_audited(session):
    ensure_default_set(session)
    rows = _indicators()
    rows[0]["weight"], rows[1]["weight"] = 25, 15
    v2 = save_indicator_set(session, ANALYST, code="default", name="默认指标体系（修订）", indicators=rows)
    assert v2.set.version == 2 and v2.indicators[0].weight == 25
    assert [s.set.version for s in list_indicator_sets(session, VIEWER)] == [2]
    assert [s.set.version for s in list_indicator_sets(session, VIEWER, include_history=True)] == [2, 1]
    audit = session.exec(select(AuditLog).where(AuditLog.action == "indicator_set.save")).one()
    assert audit.changes["version"] == 2 and audit.changes["before"]["indicators"][0]["weight"] == 20


def test_run_scores_ranks_and_compares_with_the_previous_period(session):
    build_city(session)
    view = run_evaluation(session, ANALYST, "2026H1", as_of=AS_OF)
    by_code = {r.department_code: r.result for r in view.results}
    a, b = by_code["SZ-A"], by_code["SZ-B"]
    # SZ-A: coverage 2/3 -> 6.667, random 0.5 -> band 70% -> 7, disposal 2/3 -> 4.167, the rest at or below floor
    assert a.scores["item_coverage"] == pytest.approx(20 / 3, abs=1e-4)
    assert a.scores["random_share"] == 7 and a.scores["trace_completeness"] == 0
    assert a.scores["warning_disposal_rate"] == pytest.approx(10 * (2 / 3 - 0.5) / 0.4, abs=1e-4)
    assert a.total == 17.83 and a.grade == "不合格" and a.rank == 2
    # SZ-B: everything at target but the random share; no warnings, so the three disposal indicators are missing
    assert b.scores["_missing"] == ["warning_disposal_rate", "warning_overdue_rate", "satisfaction_rate"]
    assert b.total == 96.25 and b.grade == "优秀" and b.rank == 1
    assert [r.department_code for r in view.results] == ["SZ-B", "SZ-A"]
    assert a.previous_total is None

    h2 = run_evaluation(session, ANALYST, "2026H2", as_of=AS_OF)
    after = {r.department_code: r for r in h2.results}
    assert after["SZ-A"].result.previous_total == 17.83 and after["SZ-A"].result.previous_rank == 2
    assert after["SZ-A"].change == round(after["SZ-A"].result.total - 17.83, 2)
    _, _, rows = compare_periods(session, VIEWER, "2026H1", "2026H2")
    assert {r.department_code for r in rows} == {"SZ-A", "SZ-B"}
    assert session.exec(select(AuditLog).where(AuditLog.action == "evaluation.run")).first() is not None


def test_handler_sees_their_row_only_and_cannot_run(session):
    city = build_city(session)
    view = run_evaluation(session, ANALYST, "2026H1", as_of=AS_OF)
    handler = Actor(user_id=2, username="h", roles=frozenset({"handler"}), department_id=city["a"].id)
    mine = get_run(session, handler, view.run.id)
    assert [(r.department_code, r.result.rank) for r in mine.results] == [("SZ-A", 2)]
    with pytest.raises(Forbidden):
        run_evaluation(session, handler, "2026H1")


def test_excel_export(session):
    build_city(session)
    view = run_evaluation(session, ANALYST, "2026H1", as_of=AS_OF)
    ws = load_workbook(io.BytesIO(run_to_xlsx(view))).active
    assert ws["A4"].value == "排名" and ws["C4"].value == "部门名称"
    assert [ws.cell(5, c).value for c in (1, 2, 4, 5)] == [1, "SZ-B", 96.25, "优秀"]
    assert [ws.cell(6, c).value for c in (1, 2, 4, 5)] == [2, "SZ-A", 17.83, "不合格"]
