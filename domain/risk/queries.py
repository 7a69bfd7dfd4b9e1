"""Reading risk models (风险模型管理): versions with their aliases, alias history, comparison, scoring runs, scores.

Read-only: every change (train, promote, rollback, thresholds, backtest, rules) lives with the engine's
service functions. The pages and GraphQL both read through here, so they show the same thing.

A version's `metrics` JSON is read in the one shape training writes: `domain.risk.metrics.ModelMetrics`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Session, col, select

from domain.errors import InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.policy import can, require
from domain.pagination import Page, PageRequest, select_page
from domain.risk.levels import LEVELS
from domain.risk.metrics import (
    CalibrationBin,
    CurvePoint,
    EventMetrics,
    FeatureImportance,
    LiftRow,
    MetricAtK,
    ModelMetrics,
)
from domain.risk.models import (
    ModelAlias,
    ModelAliasHistory,
    ModelVersion,
    RiskRule,
    RiskRuleRevision,
    RiskScore,
    ScoringRun,
)
from domain.supervision.models import Entity

__all__ = [
    "DEFAULT_MODEL",
    "DRIFT_PSI_THRESHOLD",
    "AliasPeriod",
    "BacktestView",
    "CalibrationBin",
    "CurvePoint",
    "DriftItem",
    "DriftView",
    "EventMetrics",
    "FeatureImportance",
    "LiftRow",
    "MetricAtK",
    "ModelMetrics",
    "ModelSummary",
    "RiskScoreView",
    "VersionComparison",
    "VersionView",
    "alias_history",
    "can_manage_models",
    "compare_versions",
    "drift_psi_threshold",
    "ensure_can_manage_models",
    "ensure_can_read_models",
    "get_rule",
    "get_version",
    "latest_scoring_run",
    "list_backtests",
    "list_models",
    "list_rules",
    "list_versions",
    "risk_scores_of_entity",
    "rule_revisions",
    "version_drift",
]

DEFAULT_MODEL = "entity_risk"
# PSI above 0.2 is the usual "significant shift"; operators may change it with REGWATCH_DRIFT_PSI_THRESHOLD.
DRIFT_PSI_THRESHOLD = 0.2
MAX_SCORES = 200


# ---- permissions -------------------------------------------------------------------------------------------

def ensure_can_read_models(actor: Actor) -> None:
    """The identity policy's models.read permission (analysts, viewers, admins)."""
    require(actor, "models.read")


def can_manage_models(actor: Actor) -> bool:
    """The identity policy's models.manage permission (analysts; admins do not, see domain/identity/policy.py)."""
    return can(actor, "models.manage")


def ensure_can_manage_models(actor: Actor) -> None:
    require(actor, "models.manage")


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# ---- versions ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VersionView:
    """A model version (模型版本) with the aliases it holds now; the artifact is never loaded for reading."""

    version: ModelVersion
    aliases: tuple[str, ...] = ()

    @property
    def id(self) -> int:
        assert self.version.id is not None
        return self.version.id

    @property
    def label(self) -> str:
        return f"{self.version.model_name} v{self.version.version}"

    @property
    def metrics(self) -> ModelMetrics:
        return ModelMetrics.parse(self.version.metrics)

    @property
    def thresholds(self) -> list[tuple[str, float | None]]:
        return [(level, _num((self.version.thresholds or {}).get(level))) for level in LEVELS]

    @property
    def beats_baseline(self) -> bool | None:
        m = self.metrics
        if m.roc_auc is None or m.baseline_roc_auc is None:
            return None
        return m.roc_auc > m.baseline_roc_auc


# SQLModel declares `artifact` as bytes; on the class it is the mapped attribute defer() takes.
_NO_ARTIFACT = defer(cast("QueryableAttribute[Any]", ModelVersion.artifact), raiseload=True)
_NEWEST_FIRST = (col(ModelVersion.version).desc(), col(ModelVersion.id).desc())
_RUNS_NEWEST_FIRST = (col(ScoringRun.as_of).desc(), col(ScoringRun.id).desc())


def _versions_stmt(model_name: str) -> sa.Select[Any]:
    return (select(ModelVersion).options(_NO_ARTIFACT)
            .where(ModelVersion.model_name == model_name)
            .order_by(*_NEWEST_FIRST))


def _aliases_by_version(session: Session, version_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    ids = list(version_ids)
    if not ids:
        return {}
    found: dict[int, list[str]] = {}
    for row in session.exec(select(ModelAlias).where(col(ModelAlias.version_id).in_(ids)).order_by(ModelAlias.alias)):
        found.setdefault(row.version_id, []).append(row.alias)
    return {k: tuple(v) for k, v in found.items()}


def list_versions(session: Session, actor: Actor, req: PageRequest | None = None, *,
                  model_name: str = DEFAULT_MODEL, max_size: int = 200) -> Page[VersionView]:
    """Versions newest first, each with its current aliases: three statements whatever the page size."""
    ensure_can_read_models(actor)
    def load(versions: list[ModelVersion]) -> list[VersionView]:
        views = [VersionView(v) for v in versions]
        aliases = _aliases_by_version(session, [vw.id for vw in views])
        return [VersionView(vw.version, aliases.get(vw.id, ())) for vw in views]

    return select_page(session, _versions_stmt(model_name), req or PageRequest(), max_size=max_size, load=load,
                       order_by=_NEWEST_FIRST)


def get_version(session: Session, actor: Actor, version_id: int) -> VersionView:
    ensure_can_read_models(actor)
    version = session.exec(select(ModelVersion).options(_NO_ARTIFACT).where(ModelVersion.id == version_id)).first()
    if version is None:
        raise NotFound(f"模型版本 {version_id} 不存在", field="id")
    return VersionView(version, _aliases_by_version(session, [version_id]).get(version_id, ()))


@dataclass(frozen=True)
class ModelSummary:
    """A model (风险模型) by name: how many versions, the newest, and who holds each alias."""

    name: str
    version_count: int
    latest: VersionView | None
    aliases: dict[str, VersionView]


def list_models(session: Session, actor: Actor) -> list[ModelSummary]:
    """Every model name with its alias holders and newest version, in four statements."""
    ensure_can_read_models(actor)
    counts = session.execute(
        sa.select(col(ModelVersion.model_name), sa.func.count(), sa.func.max(col(ModelVersion.version)))
        .group_by(col(ModelVersion.model_name)).order_by(col(ModelVersion.model_name))).all()
    if not counts:
        return []
    alias_rows = list(session.exec(select(ModelAlias)))
    latest_keys = [(name, top) for name, _n, top in counts]
    wanted = sa.or_(*[sa.and_(ModelVersion.model_name == n, ModelVersion.version == v) for n, v in latest_keys])
    if alias_rows:
        wanted = sa.or_(wanted, col(ModelVersion.id).in_([a.version_id for a in alias_rows]))
    versions = {VersionView(v).id: v for v in session.exec(select(ModelVersion).options(_NO_ARTIFACT).where(wanted))}
    held: dict[int, list[str]] = {}
    for a in alias_rows:
        held.setdefault(a.version_id, []).append(a.alias)
    view = {vid: VersionView(v, tuple(sorted(held.get(vid, [])))) for vid, v in versions.items()}
    out = []
    for name, n, top in counts:
        latest = next((vw for vw in view.values() if vw.version.model_name == name and vw.version.version == top), None)
        aliases = {a.alias: view[a.version_id] for a in alias_rows
                   if a.model_name == name and a.version_id in view}
        out.append(ModelSummary(name=name, version_count=n, latest=latest, aliases=aliases))
    return out


@dataclass(frozen=True)
class AliasPeriod:
    """One period a version held an alias (别名历史)."""

    entry: ModelAliasHistory
    version_number: int | None

    @property
    def is_current(self) -> bool:
        return self.entry.valid_to is None


def alias_history(session: Session, actor: Actor, *, model_name: str = DEFAULT_MODEL,
                  version_id: int | None = None, limit: int = 200) -> list[AliasPeriod]:
    """Which version held which alias, from when to when, set by whom: newest first, one statement."""
    ensure_can_read_models(actor)
    stmt = (sa.select(ModelAliasHistory, col(ModelVersion.version))
            .join(ModelVersion, col(ModelVersion.id) == ModelAliasHistory.version_id)
            .where(col(ModelAliasHistory.model_name) == model_name)
            .order_by(col(ModelAliasHistory.valid_from).desc(), col(ModelAliasHistory.id).desc()).limit(limit))
    if version_id is not None:
        stmt = stmt.where(col(ModelAliasHistory.version_id) == version_id)
    return [AliasPeriod(entry, number) for entry, number in session.execute(stmt).all()]


# ---- comparison --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VersionComparison:
    """Two versions side by side (版本对比): metric differences, features added or dropped, thresholds."""

    a: VersionView
    b: VersionView

    @property
    def metric_rows(self) -> list[tuple[str, str, float | None, float | None, float | None, bool]]:
        """(key, Chinese label, a, b, b - a, higher is better): headline, new events only, calibration, baseline."""
        ma, mb = self.a.metrics, self.b.metrics

        def ci(m: ModelMetrics, end: int) -> float | None:
            return m.overall.roc_auc_ci[end] if m.overall.roc_auc_ci else None

        def gap(m: ModelMetrics) -> float | None:
            return None if m.overall.mean_gap is None else abs(m.overall.mean_gap)

        def top(m: ModelMetrics) -> float | None:
            return float(m.top_1000[1]) if m.top_1000 else None

        rows = [
            ("roc_auc", "ROC-AUC（验证窗口）", ma.roc_auc, mb.roc_auc, True),
            ("roc_auc_ci_low", "ROC-AUC 95% 区间下限", ci(ma, 0), ci(mb, 0), True),
            ("roc_auc_ci_high", "ROC-AUC 95% 区间上限", ci(ma, 1), ci(mb, 1), True),
            ("new_events_roc_auc", "ROC-AUC（仅新发事件）", ma.new_events.roc_auc, mb.new_events.roc_auc, True),
            ("pr_auc", "PR-AUC", ma.pr_auc, mb.pr_auc, True),
            ("new_events_pr_auc", "PR-AUC（仅新发事件）", ma.new_events.pr_auc, mb.new_events.pr_auc, True),
            ("brier_score", "Brier 分数", ma.brier_score, mb.brier_score, False),
            ("mean_predicted", "平均预测概率", ma.overall.mean_predicted, mb.overall.mean_predicted, False),
            ("positive_rate", "实际发生率", ma.positive_rate, mb.positive_rate, True),
            ("mean_gap", "平均预测偏离实际（绝对值）", gap(ma), gap(mb), False),
            ("ece", "期望校准误差 ECE", ma.ece, mb.ece, False),
            ("top_1000", "评分最高的 1000 家中发生处罚/检查不合格的家数", top(ma), top(mb), True),
            ("baseline_roc_auc", "公平基线 ROC-AUC（逻辑回归）", ma.baseline_roc_auc, mb.baseline_roc_auc, True),
            ("baseline_new_events_roc_auc", "公平基线 ROC-AUC（仅新发事件）", ma.baseline_new_events.roc_auc,
             mb.baseline_new_events.roc_auc, True),
        ]
        shares = sorted({r.share for r in ma.at_k if r.share} | {r.share for r in mb.at_k if r.share})
        for share in shares:
            pa = next((r.precision for r in ma.at_k if r.share == share), None)
            pb = next((r.precision for r in mb.at_k if r.share == share), None)
            rows.append((f"precision_at_{share:g}", f"前 {share:.0%} 精确率", pa, pb, True))
        for d in (1, 2):
            la = next((r.lift for r in ma.overall.lift if r.decile == d), None)
            lb = next((r.lift for r in mb.overall.lift if r.decile == d), None)
            rows.append((f"lift_decile_{d}", f"第 {d} 个十分位提升度", la, lb, True))
        return [(key, label, a, b, None if a is None or b is None else b - a, better)
                for key, label, a, b, better in rows]

    @property
    def features_added(self) -> list[str]:
        return [f for f in self.b.version.features if f not in set(self.a.version.features)]

    @property
    def features_removed(self) -> list[str]:
        return [f for f in self.a.version.features if f not in set(self.b.version.features)]

    @property
    def importance_rows(self) -> list[tuple[str, float | None, float | None]]:
        ia = {f.feature: f.importance for f in self.a.metrics.importance}
        ib = {f.feature: f.importance for f in self.b.metrics.importance}
        names = sorted(set(ia) | set(ib), key=lambda n: -max(ia.get(n, 0.0), ib.get(n, 0.0)))
        return [(n, ia.get(n), ib.get(n)) for n in names]


def compare_versions(session: Session, actor: Actor, a_id: int, b_id: int) -> VersionComparison:
    ensure_can_read_models(actor)
    found = session.exec(select(ModelVersion).options(_NO_ARTIFACT).where(col(ModelVersion.id).in_([a_id, b_id]))).all()
    by_id = {VersionView(v).id: v for v in found}
    for name, vid in (("a", a_id), ("b", b_id)):
        if vid not in by_id:
            raise NotFound(f"模型版本 {vid} 不存在（对比的{name.upper()}侧）", field=name)
    aliases = _aliases_by_version(session, by_id)
    return VersionComparison(VersionView(by_id[a_id], aliases.get(a_id, ())),
                             VersionView(by_id[b_id], aliases.get(b_id, ())))


# ---- scoring runs, drift, backtests ------------------------------------------------------------------------

def latest_scoring_run(session: Session, actor: Actor, version_id: int) -> ScoringRun | None:
    """The newest finished whole-population run of a version (not backtests, not one-entity on-demand runs)."""
    ensure_can_read_models(actor)
    return session.exec(
        select(ScoringRun).where(ScoringRun.version_id == version_id,
                                 col(ScoringRun.role).in_(("champion", "challenger")), ScoringRun.status == "succeeded")
        .order_by(*_RUNS_NEWEST_FIRST).limit(1)).first()


def drift_psi_threshold() -> float:
    """REGWATCH_DRIFT_PSI_THRESHOLD, validated with the other settings at start."""
    from domain.settings import get_settings

    return get_settings().drift_psi_threshold


@dataclass(frozen=True)
class DriftItem:
    name: str  # "score" or a feature name
    psi: float
    flagged: bool


@dataclass(frozen=True)
class DriftView:
    """Population stability (PSI, 稳定性) between the training data and one scoring run."""

    run: ScoringRun
    threshold: float
    items: list[DriftItem]

    @property
    def flagged(self) -> list[DriftItem]:
        return [i for i in self.items if i.flagged]


def _drift_items(raw: Mapping[str, Any] | None, threshold: float) -> list[DriftItem]:
    """The run's drift as scoring writes it: {score: psi, features: {name: psi}}; score first, then by PSI."""
    raw = dict(raw or {})
    items = [DriftItem("score", float(raw["score"]), float(raw["score"]) > threshold)] \
        if _num(raw.get("score")) is not None else []
    features = raw.get("features")
    if not isinstance(features, Mapping):
        features = {}
    pairs = sorted(((str(k), float(v)) for k, v in features.items() if _num(v) is not None), key=lambda p: -p[1])
    return items + [DriftItem(name, psi, psi > threshold) for name, psi in pairs]


def version_drift(session: Session, actor: Actor, version_id: int) -> DriftView | None:
    run = latest_scoring_run(session, actor, version_id)
    if run is None or not run.drift:
        return None
    threshold = drift_psi_threshold()
    return DriftView(run=run, threshold=threshold, items=_drift_items(run.drift, threshold))


@dataclass(frozen=True)
class BacktestView:
    """A backtest (回测): entities per level over a past window, and how many had a confirmed outcome after."""

    run: ScoringRun

    @property
    def summary(self) -> dict[str, Any]:
        return dict(self.run.backtest or {})

    @property
    def in_training_window(self) -> bool:
        """The date's outcome window overlaps the version's training outcomes: the figures are optimistic."""
        return bool(self.summary.get("in_training_window"))

    @property
    def roc_auc(self) -> float | None:
        return _num(self.summary.get("roc_auc"))

    @property
    def window_days(self) -> int | None:
        value = _num(self.summary.get("window_days"))
        return None if value is None else int(value)

    @property
    def window_complete(self) -> bool:
        return bool(self.summary.get("window_complete", True))

    @property
    def rows(self) -> list[tuple[str, int, int | None, float | None]]:
        """(level, entities, with a confirmed outcome afterwards, outcome rate) per level, red first."""
        levels = self.summary.get("levels")
        if not isinstance(levels, Mapping):
            levels = {}
        rows = []
        for level in (*LEVELS, "none"):
            value = levels.get(level)
            if not isinstance(value, Mapping):
                continue
            n = int(_num(value.get("entities")) or 0)
            hit = _num(value.get("outcomes"))
            rows.append((level, n, None if hit is None else int(hit), None if hit is None or not n else hit / n))
        return rows


def list_backtests(session: Session, actor: Actor, version_id: int, *, limit: int = 20) -> list[BacktestView]:
    ensure_can_read_models(actor)
    runs = session.exec(select(ScoringRun).where(ScoringRun.version_id == version_id, ScoringRun.role == "backtest")
                        .order_by(col(ScoringRun.id).desc()).limit(limit))
    return [BacktestView(r) for r in runs]


# ---- risk scores -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RiskScoreView:
    """An entity's score from one run (风险评分): level, model level, rules, contributions, version."""

    score: RiskScore
    run: ScoringRun
    version_number: int
    model_name: str
    uscc: str
    entity_name: str

    @property
    def contributions(self) -> list[tuple[str, float | None, float]]:
        out = []
        for item in self.score.contributions or []:  # [[feature, value, contribution], ...] as scoring writes
            if isinstance(item, list | tuple) and len(item) >= 3 and _num(item[2]) is not None:
                out.append((str(item[0]), _num(item[1]), float(item[2])))
        return out


def risk_scores_of_entity(session: Session, actor: Actor, uscc: str, *, first: int = 10,
                          include_shadow: bool = False) -> list[RiskScoreView]:
    """An entity's scores newest first, from champion and on-demand runs (challenger too if asked): one statement."""
    ensure_can_read_models(actor)
    code = (uscc or "").strip().upper()
    if len(code) != 18:
        raise InvalidInput(f"统一社会信用代码应为 18 位，收到 {len(code)} 位",
                           field="uscc", code="uscc_length")
    if first < 1 or first > MAX_SCORES:
        raise InvalidInput(f"条数须在 1–{MAX_SCORES} 之间，收到 {first}", field="first",
                           code="page_size_too_large" if first > MAX_SCORES else "page_size_negative")
    roles = ("champion", "on_demand", "challenger") if include_shadow else ("champion", "on_demand")
    rows = session.execute(
        sa.select(RiskScore, ScoringRun, col(ModelVersion.version), col(ModelVersion.model_name), col(Entity.uscc),
                  col(Entity.name))
        .join(Entity, col(Entity.id) == RiskScore.entity_id)
        .join(ScoringRun, col(ScoringRun.id) == RiskScore.run_id)
        .join(ModelVersion, col(ModelVersion.id) == ScoringRun.version_id)
        .where(col(Entity.uscc) == code, col(ScoringRun.role).in_(roles))
        .order_by(*_RUNS_NEWEST_FIRST).limit(first)).all()
    return [RiskScoreView(score, run, number, name, u, en) for score, run, number, name, u, en in rows]


# ---- rules -------------------------------------------------------------------------------------------------

def list_rules(session: Session, actor: Actor) -> list[RiskRule]:
    ensure_can_read_models(actor)
    return list(session.exec(select(RiskRule).order_by(col(RiskRule.enabled).desc(), RiskRule.code)))


def get_rule(session: Session, actor: Actor, rule_id: int) -> RiskRule:
    ensure_can_read_models(actor)
    rule = session.get(RiskRule, rule_id)
    if rule is None:
        raise NotFound(f"预警规则 {rule_id} 不存在", field="id")
    return rule


def rule_revisions(session: Session, actor: Actor, rule_id: int) -> list[RiskRuleRevision]:
    ensure_can_read_models(actor)
    return list(session.exec(select(RiskRuleRevision).where(RiskRuleRevision.rule_id == rule_id)
                             .order_by(col(RiskRuleRevision.revision).desc())))
