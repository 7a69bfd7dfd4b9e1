"""The figures of an analysis report, gathered from the data (no rendering here: see the top-level `reports`).

Sections: period summary, risk warnings (by level, department, district, industry, month), disposal, the
department evaluation ranking, behaviour findings, model performance, and recommendations derived from them.
Modules still being built (warnings, disposal) give "no data" rather than zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from domain.analysis.behaviour import BehaviourAnalysis, analyse_behaviour
from domain.analysis.disposal import DISPOSAL_UNAVAILABLE, warning_model
from domain.analysis.findings import list_findings
from domain.analysis.periods import Period, parse_period
from domain.evaluation.defaults import DEFAULT_INDICATORS
from domain.evaluation.service import RunView, latest_run, run_evaluation
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import can, require
from domain.supervision.models import Entity
from domain.types import LOCAL_TZ, local_today, table_of

__all__ = ["LEVEL_LABELS", "ReportData", "gather_report_data"]

LEVEL_LABELS = {"red": "红色（I级）", "orange": "橙色（II级）", "yellow": "黄色（III级）", "blue": "蓝色（IV级）"}
ATTENTION_BELOW = 0.8  # a department metric under this share is named in the recommendations


@dataclass
class ReportData:
    period: Period
    title: str
    generated_on: date
    analysis: BehaviourAnalysis
    evaluation: RunView | None
    warnings: dict[str, Any] | None  # None: the warning module is not there
    findings: dict[str, Any]
    model: dict[str, Any] | None
    recommendations: list[str] = field(default_factory=list)
    unavailable: str = DISPOSAL_UNAVAILABLE

    def summary(self) -> dict[str, Any]:
        """Headline figures, stored with the archived report."""
        totals = self.analysis.totals()
        m = totals.metrics()
        return {
            "departments": len(self.analysis.departments), "actions_collected": self.analysis.collected,
            "actions_used": self.analysis.used, "data_coverage": self.analysis.data_coverage,
            "city_level_coverage": self.analysis.city_level_coverage, "item_coverage": m["item_coverage"],
            "trace_completeness": m["trace_completeness"], "random_share": m["random_share"],
            "warnings": None if self.warnings is None else self.warnings["total"],
            "warning_disposal_rate": m["warning_disposal_rate"], "satisfaction_rate": m["satisfaction_rate"],
            "evaluation_run_id": self.evaluation.run.id if self.evaluation else None,
        }


def _region_names(session: Session) -> dict[str, str]:
    from domain.reference.models import Region

    return dict(session.execute(sa.select(col(Region.code), col(Region.name))).all())


def _industry_names() -> dict[str, str]:
    from domain.reference import load_industries

    return {row["code"]: row["name"] for row in load_industries()}


def _warning_figures(session: Session, period: Period) -> dict[str, Any] | None:
    warning = warning_model()
    if warning is None or not sa.inspect(session.connection()).has_table(warning.__tablename__):
        return None
    lo, hi = period.utc_bounds()
    w = table_of(warning).c
    where = [w.dispatched_at >= lo, w.dispatched_at < hi]

    def grouped(*cols: Any, joins: Any = None) -> list[Any]:
        stmt = sa.select(*cols, sa.func.count()).where(*where).group_by(*cols).order_by(sa.func.count().desc())
        if joins is not None:
            stmt = stmt.select_from(joins)
        return list(session.execute(stmt).all())

    by_level = {level: n for level, n in grouped(w.level)}
    dept_rows = grouped(col(Department.name), joins=table_of(warning).join(table_of(Department),
                                                                          col(Department.id) == w.department_id))
    ent = table_of(warning).join(table_of(Entity), col(Entity.id) == w.entity_id)
    regions, industries = _region_names(session), _industry_names()
    by_district = [(regions.get(code or "", code or "未知区划"), n)
                   for code, n in grouped(col(Entity.region_code), joins=ent)]
    section = sa.func.substr(col(Entity.industry_code), 1, 2)
    by_industry = [(industries.get(code or "", code or "未知行业"), n) for code, n in grouped(section, joins=ent)]
    if session.get_bind().dialect.name == "sqlite":
        month = sa.func.strftime("%Y-%m", sa.func.datetime(w.dispatched_at, "+8 hours"))
    else:
        month = sa.func.to_char(sa.func.timezone(str(LOCAL_TZ), w.dispatched_at), "YYYY-MM")
    trend = sorted((m, n) for m, n in grouped(month))
    return {"total": sum(by_level.values()),
            "by_level": [(LEVEL_LABELS.get(k, k), by_level.get(k, 0)) for k in LEVEL_LABELS] +
                        [(k, v) for k, v in by_level.items() if k not in LEVEL_LABELS],
            "by_department": [(name, n) for name, n in dept_rows], "by_district": by_district,
            "by_industry": by_industry[:10], "trend": trend}


def _model_figures(session: Session) -> dict[str, Any] | None:
    from domain.risk.models import ModelAlias, ModelVersion

    row = session.execute(sa.select(ModelVersion, col(ModelAlias.set_at)).join(
        ModelAlias, col(ModelAlias.version_id) == ModelVersion.id).where(col(ModelAlias.alias) == "champion")
        .order_by(col(ModelAlias.set_at).desc())).first()
    if row is None:
        return None
    version, set_at = row
    metrics = version.metrics or {}
    return {"version_id": version.id, "model_name": version.model_name, "set_at": set_at,
            "roc_auc": metrics.get("roc_auc"), "pr_auc": metrics.get("pr_auc"),
            "brier_score": metrics.get("brier_score"), "baseline_roc_auc": metrics.get("baseline_roc_auc"),
            "features": len(version.features or [])}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _recommendations(data: ReportData) -> list[str]:
    """Plain recommendations naming the departments and items that need attention, with their figures."""
    out: list[str] = []
    labels = {
        "item_coverage": ("监管事项覆盖率", "梳理未实施的监管事项，制定检查计划"),
        "trace_completeness": ("全过程留痕率", "补录检查结果、文书编号、执法人员等必填信息"),
        "inspection_timeliness": ("检查结果及时率", "督促在 20 日内录入并公示检查结果"),
        "penalty_timeliness": ("处罚决定及时率", "对超过 90 日未作出决定的案件逐件督办"),
        "random_share": ("双随机抽查占比", "提高“双随机、一公开”抽查在日常检查中的比重"),
        "follow_up_rate": ("处罚后跟踪检查率", "对受到处罚的对象开展跟踪检查，防止违法行为反弹"),
        "warning_disposal_rate": ("预警处理率", "加快预警签收与处置反馈"),
    }
    # a metric is named when under ATTENTION_BELOW, or under its target when the target is lower (双随机 70%):
    # never "raise" a figure that already meets the indicator set's target
    indicators = data.evaluation.indicator_set.indicators if data.evaluation else []
    targets = {i["metric"]: i["target"] for i in DEFAULT_INDICATORS if i["direction"] == "higher"}
    targets.update({i.metric: i.target for i in indicators if i.direction == "higher"})
    bar = {key: min(ATTENTION_BELOW, targets.get(key, ATTENTION_BELOW)) for key in labels}
    for d in data.analysis.departments:
        m = d.metrics()
        weak = [(key, m[key]) for key in labels if m.get(key) is not None and m[key] < bar[key]]
        if weak:
            parts = "；".join(f"{labels[k][0]} {_pct(v)}（目标 {_pct(targets[k]) if k in targets else '—'}），"
                             f"建议{labels[k][1]}" for k, v in weak[:3])
            out.append(f"{d.name}（{d.code}）：{parts}。")
    never = data.findings.get("never_exercised")
    if never and never["total"]:
        sample = "、".join(f"{r.item_name}（{r.item_code}，{r.department_name}）" for r in never["rows"][:5])
        out.append(f"全市共有 {never['total']} 项监管事项在本期未实施任何监管行为，包括：{sample}，"
                   "建议相关部门核实事项是否仍需保留或纳入抽查计划。")
    follow = data.findings.get("no_follow_up")
    if follow and follow["total"]:
        out.append(f"共有 {follow['total']} 件行政处罚在决定后 90 日内未开展跟踪检查，建议纳入下期检查计划。")
    coverage = data.analysis.data_coverage
    if coverage is not None and coverage < 0.95:
        out.append(f"本期采集的监管行为中仅 {_pct(coverage)} 纳入分析（目标 ≥95%），"
                   "主要原因见“数据覆盖”一节，建议数据源单位补全事项编码与日期。")
    if data.evaluation:
        failing = [r for r in data.evaluation.results if r.result.grade == "不合格"]
        if failing:
            out.append("评价等级为“不合格”的部门：" + "、".join(
                f"{r.department_name}（{r.result.total:.2f} 分）" for r in failing if r.result.total is not None)
                + "，建议约谈并限期整改。")
    if not out:
        out.append("本期各部门主要指标均达到目标，建议保持现有监管力度并持续关注风险变化。")
    return out


def gather_report_data(session: Session, actor: Actor, period: str | Period, *, as_of: date | None = None,
                       evaluate_if_missing: bool = True) -> ReportData:
    require(actor, "reports.read")
    period = parse_period(period)
    analysis = analyse_behaviour(session, actor, period, as_of=as_of)
    evaluation = latest_run(session, actor, period)
    if evaluation is None and evaluate_if_missing and can(actor, "evaluations.manage"):
        evaluation = run_evaluation(session, actor, period, as_of=as_of)
    findings = {}
    for kind in ("never_exercised", "no_follow_up", "missing_trace", "excluded"):
        page = list_findings(session, actor, period, kind, limit=20, as_of=as_of)
        findings[kind] = {"label": page.label, "total": page.total, "rows": page.rows}
    data = ReportData(period=period, title=f"苏州市监管行为分析与效能评价报告（{period.label}）",
                      generated_on=local_today(), analysis=analysis, evaluation=evaluation,
                      warnings=_warning_figures(session, period), findings=findings, model=_model_figures(session))
    data.recommendations = _recommendations(data)
    return data

