"""绩效目标面板: every target of the project's performance-goal form, computed live for a chosen period.

Each goal says how it is computed and where its evidence is; a figure that rests on a module not in service (its
tables not migrated, its package absent) or on data that does not exist yet is "unavailable", never a number
made up. The trend is the same figure for the previous period of the same kind.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from domain.analysis.periods import Period, parse_period
from domain.errors import Forbidden
from domain.identity.actor import Actor
from domain.identity.policy import has_city_wide_scope, require
from domain.statistics.service import DISPOSED, StatsFilter, _where, latest_main_feedback
from domain.types import local_today

__all__ = ["GOAL_KEYS", "MODULES", "Goal", "Module", "modules_in_service", "performance_goals"]

SATISFIED_AT = 4  # satisfaction 1–5: 4 and 5 count as satisfied


@dataclass(frozen=True)
class Module:
    key: str
    system: str  # risk / analysis
    name: str
    package: str  # the domain package that implements it
    tables: tuple[str, ...]  # what must be migrated for it to serve


# The nine modules of the seed: six of the risk early-warning system, three of the analysis-evaluation system.
MODULES: tuple[Module, ...] = (
    Module("clues", "risk", "风险线索接收", "domain.warnings.service", ("risk_clue",)),
    Module("judgement", "risk", "风险分析研判", "domain.warnings.service", ("risk_score", "risk_clue")),
    Module("warnings", "risk", "预警发布", "domain.warnings.service", ("risk_warning", "routing_rule")),
    Module("disposal", "risk", "风险处置反馈", "domain.disposal.models", ("warning_feedback", "warning_disposal")),
    Module("models", "risk", "风险模型管理", "domain.risk.models", ("model_version", "model_alias")),
    Module("statistics", "risk", "风险统计展示", "domain.statistics.service", ("risk_warning",)),
    Module("behaviour", "analysis", "监管行为分析", "domain.analysis.behaviour", ("supervision_action",)),
    Module("evaluations", "analysis", "监管效能评价", "domain.evaluation.service", ("evaluation_run",)),
    Module("reports", "analysis", "分析报告", "domain.reports.models", ("analysis_report",)),
)
SYSTEM_TARGETS = {"risk": 6, "analysis": 3}


def modules_in_service(session: Session) -> dict[str, bool]:
    """A module serves when its package imports and its tables are migrated in this database."""
    inspector = sa.inspect(session.connection())
    names = set(inspector.get_table_names())
    out: dict[str, bool] = {}
    for m in MODULES:
        try:
            importlib.import_module(m.package)
            ok = True
        except ImportError:
            ok = False
        out[m.key] = ok and all(t in names for t in m.tables)
    return out


@dataclass
class Goal:
    key: str
    name: str
    target: float
    target_text: str  # "≥ 95%"
    unit: str  # "%", "份", "个"
    value: float | None  # None: not available
    status: str  # met / not_met / in_progress / unavailable
    explanation: str  # how it is computed
    detail: str  # the figures behind the value, or why it is unavailable
    evidence: str  # which page holds the records: behaviour / warnings / statistics / sources / reports / models
    previous: float | None = None  # the same figure for the previous period

    @property
    def status_label(self) -> str:
        return GOAL_STATUS[self.status]

    @property
    def trend(self) -> str | None:
        """up / down / flat against the previous period, or None when either is missing."""
        if self.value is None or self.previous is None:
            return None
        if abs(self.value - self.previous) < 1e-9:
            return "flat"
        return "up" if self.value > self.previous else "down"


GOAL_STATUS = {"met": "已达成", "not_met": "未达成", "in_progress": "进行中", "unavailable": "暂无数据"}
GOAL_KEYS = ("data_analysed", "disposal_rate", "satisfaction", "city_action_coverage", "reports_per_year",
             "integration_completion", "risk_modules", "analysis_modules", "models_in_service")


def _status(value: float | None, target: float, *, strict: bool = False) -> str:
    if value is None:
        return "unavailable"
    ok = value > target if strict else value >= target - 1e-12
    return "met" if ok else "not_met"


def _pct(num: int, den: int) -> float | None:
    return num / den if den else None


def _analysis(session: Session, actor: Actor, period: Period) -> Any | None:
    try:
        from domain.analysis.behaviour import analyse_behaviour
    except ImportError:
        return None
    try:
        return analyse_behaviour(session, actor, period)
    except Forbidden:
        return None


def _disposal(session: Session, f: StatsFilter) -> tuple[int, int, int, int]:
    """(warnings, disposed, rated feedback, satisfied feedback) for the period's warnings."""
    from domain.disposal.models import WarningFeedback
    from domain.warnings.models import Warning

    w = Warning.__table__.c  # type: ignore[attr-defined]
    cond = _where(f, include_dismissed=False)
    total, disposed = session.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((w.status.in_(DISPOSED), 1), else_=0)), 0))
        .where(*cond)).one()
    fb = WarningFeedback.__table__.c  # type: ignore[attr-defined]
    rated, satisfied = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(
            sa.case((fb.satisfaction >= SATISFIED_AT, 1), else_=0)), 0))
        .select_from(Warning.__table__.join(WarningFeedback.__table__,  # type: ignore[attr-defined]
                                            sa.and_(fb.warning_id == w.id, fb.part == "main")))
        .where(*cond, fb.satisfaction.is_not(None), latest_main_feedback(rated=True))).one()
    return int(total), int(disposed), int(rated), int(satisfied)


def _reports(session: Session, year: int) -> int | None:
    try:
        from domain.reports.models import AnalysisReport
    except ImportError:
        return None
    if not sa.inspect(session.connection()).has_table(AnalysisReport.__tablename__):
        return None
    return int(session.execute(sa.select(sa.func.count(sa.distinct(col(AnalysisReport.period))))
                               .where(col(AnalysisReport.period).in_([f"{year}H1", f"{year}H2"]))).scalar_one())


def _models_in_service(session: Session) -> int:
    from domain.risk.models import ModelAlias, ModelVersion

    return int(session.execute(sa.select(sa.func.count(sa.distinct(col(ModelAlias.model_name))))
                               .join(ModelVersion, col(ModelVersion.id) == ModelAlias.version_id)
                               .where(col(ModelAlias.alias) == "champion",
                                      col(ModelVersion.status) == "ready")).scalar_one())


def _integration(session: Session, actor: Actor) -> tuple[int, int] | None:
    from domain.integration.service import integration_status

    try:
        status = integration_status(session, actor, latest=1)
    except Forbidden:
        return None
    return status.connected_fresh, status.expected


def _figures(session: Session, actor: Actor, f: StatsFilter) -> dict[str, tuple[float | None, str]]:
    """Each goal's value and the figures behind it, for one period."""
    out: dict[str, tuple[float | None, str]] = {}
    analysis = _analysis(session, actor, f.period)
    if analysis is None:
        out["data_analysed"] = out["city_action_coverage"] = (None, "监管行为分析不可用（无权限或模块未上线）")
    else:
        out["data_analysed"] = (analysis.data_coverage,
                                f"已分析 {analysis.used} 条 / 采集 {analysis.collected} 条监管行为")
        city = [d for d in analysis.departments if d.level == "city"]
        used, collected = sum(d.actions for d in city), sum(d.collected for d in city)
        out["city_action_coverage"] = (analysis.city_level_coverage,
                                       f"市级部门监管行为：已纳入分析 {used} 条 / 采集 {collected} 条")
    total, disposed, rated, satisfied = _disposal(session, f)
    out["disposal_rate"] = (_pct(disposed, total), f"已处置 {disposed} 条 / 下发 {total} 条（不含已撤销）")
    out["satisfaction"] = (_pct(satisfied, rated), f"评价 4–5 分 {satisfied} 条 / 有满意度评价的反馈 {rated} 条")
    return out


def performance_goals(session: Session, actor: Actor, period: str | Period | None = None, *,
                      today: date | None = None) -> list[Goal]:
    """The nine goals for `period` (default: the current year), each with the previous period's value."""
    require(actor, "statistics.read")
    today = today or local_today()
    p = parse_period(period or str(today.year))
    department_id = None if has_city_wide_scope(actor) else actor.department_id
    now_f = StatsFilter(period=p, department_id=department_id)
    before_f = StatsFilter(period=p.previous(), department_id=department_id)
    now, before = _figures(session, actor, now_f), _figures(session, actor, before_f)
    goals: list[Goal] = []

    def rate_goal(key: str, name: str, target: float, explanation: str, evidence: str, *, strict: bool = False,
                  text: str | None = None) -> None:
        value, detail = now[key]
        goals.append(Goal(key, name, target, text or f"≥ {target:.0%}", "%", value,
                          _status(value, target, strict=strict), explanation,
                          detail if value is not None else f"暂无数据：{detail}", evidence, before[key][0]))

    rate_goal("data_analysed", "监管数据分析率", 0.95,
              "期间内采集的监管行为中，被监管行为分析纳入计算的比例（排除的记录及原因见监管行为分析页）。", "behaviour")
    rate_goal("disposal_rate", "预警处理率", 0.90,
              "期间内下发的预警（不含已撤销）中，已提交处置反馈或已办结的比例。", "warnings")
    rate_goal("satisfaction", "部门对预警的满意度", 0.80,
              "期间内预警的主办部门反馈（每条预警取最后一轮）中，满意度评价为 4–5 分的比例。", "statistics")
    rate_goal("city_action_coverage", "市级监管行为分析覆盖率", 1.0,
              "期间内市级部门采集的监管行为中，被监管行为分析覆盖的比例。", "behaviour", text="= 100%")

    reports = _reports(session, p.start.year)
    closed_halves = sum(1 for h in ("H1", "H2") if parse_period(f"{p.start.year}{h}").is_closed(today))
    if reports is None:
        goals.append(Goal("reports_per_year", "年度分析报告", 2, "= 2 份/年", "份", None, "unavailable",
                          "当年上、下半年各生成一份半年度分析报告（按已归档报告的期间计数）。",
                          "暂无数据：分析报告模块未上线", "reports"))
    else:
        status = "met" if reports >= 2 else ("in_progress" if reports >= closed_halves else "not_met")
        goals.append(Goal("reports_per_year", "年度分析报告", 2, "= 2 份/年", "份", float(reports), status,
                          "当年上、下半年各生成一份半年度分析报告（按已归档报告的期间计数）。",
                          f"{p.start.year} 年已归档 {reports} 份，已结束的半年 {closed_halves} 个", "reports",
                          _reports(session, p.start.year - 1)))

    integration = _integration(session, actor)
    if integration is None or not integration[1]:
        goals.append(Goal("integration_completion", "集成对接完成率", 0.95, "> 95%", "%", None, "unavailable",
                          "应接入的数据源（启用且非手工录入）中，各应报数据在时限内有成功批次的比例。",
                          "暂无数据：尚未登记应接入的数据源", "sources"))
    else:
        fresh, expected = integration
        value = fresh / expected
        goals.append(Goal("integration_completion", "集成对接完成率", 0.95, "> 95%", "%", value,
                          _status(value, 0.95, strict=True),
                          "应接入的数据源（启用且非手工录入）中，各应报数据在时限内有成功批次的比例（当前值）。",
                          f"已按时接入 {fresh} 个 / 应接入 {expected} 个数据源", "sources"))

    serving = modules_in_service(session)
    for system, key, name in (("risk", "risk_modules", "风险预警系统模块"),
                              ("analysis", "analysis_modules", "分析评价系统模块")):
        mods = [m for m in MODULES if m.system == system]
        up = [m.name for m in mods if serving[m.key]]
        down = [m.name for m in mods if not serving[m.key]]
        target = SYSTEM_TARGETS[system]
        goals.append(Goal(key, name, target, f"= {target} 个", "个", float(len(up)),
                          "met" if len(up) >= target else "not_met",
                          "模块的程序已部署且其数据表已迁移到本数据库即计为在用。",
                          "在用：" + ("、".join(up) or "无") + ("；未上线：" + "、".join(down) if down else ""),
                          "statistics"))

    models = _models_in_service(session)
    goals.append(Goal("models_in_service", "在用风险模型", 1, "≥ 1 个", "个", float(models),
                      "met" if models >= 1 else "not_met",
                      "持有“冠军”（champion）别名、用于每日评分的模型数。",
                      f"在用模型 {models} 个", "models"))
    return goals
