"""Reading risk models (风险模型管理): versions with their aliases, alias history, comparison, scoring runs, scores.

Read-only: every change (train, promote, rollback, thresholds, backtest, rules) lives with the engine's
service functions. The pages and GraphQL both read through here, so they show the same thing.

The `metrics` JSON of a version is read tolerantly (`ModelMetrics.parse`): the engine writes `roc_auc`, `pr_auc`,
`brier_score`, `baseline_roc_auc`, `precision_at_k` ([{k, precision, recall}]), `roc_curve` ({fpr, tpr}),
`pr_curve` ({recall, precision}), `calibration` ([{low, high, mean_predicted, observed_rate, count}]) and
`importance` ([{feature, gain}]); camelCase spellings and a few other shapes are accepted too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from domain.errors import InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.policy import can, require
from domain.pagination import Page, PageRequest, select_page
from domain.risk.models import (
    LEVELS,
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
    "FeatureImportance",
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


# ---- metrics, read tolerantly ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CurvePoint:
    x: float
    y: float
    threshold: float | None = None


@dataclass(frozen=True)
class CalibrationBin:
    lower: float | None
    upper: float | None
    mean_predicted: float | None
    observed_rate: float | None
    count: int | None


@dataclass(frozen=True)
class FeatureImportance:
    feature: str
    importance: float


@dataclass(frozen=True)
class MetricAtK:
    k: int
    precision: float | None
    recall: float | None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in data and data[key] is not None:
            return data[key]
    return None


def _curve(raw: Any, x_keys: Sequence[str], y_keys: Sequence[str]) -> list[CurvePoint]:
    if isinstance(raw, Mapping):
        xs, ys = _first(raw, *x_keys), _first(raw, *y_keys)
        ts = _first(raw, "thresholds", "threshold")
        if not isinstance(xs, list) or not isinstance(ys, list):
            return []
        ts = ts if isinstance(ts, list) else []
        return [CurvePoint(float(x), float(y), _num(ts[i]) if i < len(ts) else None)
                for i, (x, y) in enumerate(zip(xs, ys, strict=False)) if _num(x) is not None and _num(y) is not None]
    points: list[CurvePoint] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, Mapping):
            x, y = _num(_first(item, *x_keys)), _num(_first(item, *y_keys))
            t = _num(_first(item, "threshold"))
        elif isinstance(item, list | tuple) and len(item) >= 2:
            x, y = _num(item[0]), _num(item[1])
            t = _num(item[2]) if len(item) > 2 else None
        else:
            continue
        if x is not None and y is not None:
            points.append(CurvePoint(x, y, t))
    return points


def _calibration(raw: Any) -> list[CalibrationBin]:
    bins: list[CalibrationBin] = []
    if isinstance(raw, Mapping) and isinstance(_first(raw, "bins"), list):
        raw = raw["bins"]
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            continue
        count = _num(_first(item, "count", "n", "size"))
        bins.append(CalibrationBin(
            lower=_num(_first(item, "lower", "binLower", "bin_lower", "low")),
            upper=_num(_first(item, "upper", "binUpper", "bin_upper", "high")),
            mean_predicted=_num(_first(item, "meanPredicted", "mean_predicted", "predicted", "meanScore")),
            observed_rate=_num(_first(item, "observedRate", "observed_rate", "observed", "fractionPositive",
                                      "positiveRate")),
            count=None if count is None else int(count),
        ))
    return bins


def _importance(raw: Any) -> list[FeatureImportance]:
    pairs: list[tuple[str, float]] = []
    if isinstance(raw, Mapping):
        pairs = [(str(k), v) for k, v in raw.items() if _num(v) is not None]
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping):
                name, value = _first(item, "feature", "name"), _num(_first(item, "importance", "gain", "value"))
            elif isinstance(item, list | tuple) and len(item) >= 2:
                name, value = item[0], _num(item[1])
            else:
                continue
            if name is not None and value is not None:
                pairs.append((str(name), value))
    ordered = sorted(pairs, key=lambda p: -float(p[1]))
    return [FeatureImportance(name, float(value)) for name, value in ordered]


def _at_k(metrics: Mapping[str, Any]) -> list[MetricAtK]:
    precision, recall = _first(metrics, "precision_at_k", "precisionAtK"), metrics.get("recallAtK")
    rows: dict[int, dict[str, float | None]] = {}
    if isinstance(precision, list) and recall is None:  # the engine's [{k, precision, recall}, ...]
        recall = precision
    for name, raw in (("precision", precision), ("recall", recall)):
        if isinstance(raw, Mapping):
            items: Iterable[tuple[Any, Any]] = raw.items()
        elif isinstance(raw, list):
            items = [(_first(i, "k"), _first(i, name, "value")) for i in raw if isinstance(i, Mapping)]
        else:
            continue
        for k, v in items:
            try:
                rows.setdefault(int(k), {})[name] = _num(v)
            except (TypeError, ValueError):
                continue
    return [MetricAtK(k, v.get("precision"), v.get("recall")) for k, v in sorted(rows.items())]


@dataclass(frozen=True)
class ModelMetrics:
    """A version's held-out metrics (模型指标), whatever optional parts its training recorded."""

    roc_auc: float | None = None
    pr_auc: float | None = None
    brier_score: float | None = None
    baseline_roc_auc: float | None = None
    baseline_pr_auc: float | None = None
    baseline_brier_score: float | None = None
    positive_rate: float | None = None
    at_k: list[MetricAtK] = field(default_factory=list)
    roc_curve: list[CurvePoint] = field(default_factory=list)
    pr_curve: list[CurvePoint] = field(default_factory=list)
    baseline_roc_curve: list[CurvePoint] = field(default_factory=list)
    calibration: list[CalibrationBin] = field(default_factory=list)
    importance: list[FeatureImportance] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> ModelMetrics:
        m = dict(raw or {})
        curves = m.get("curves") if isinstance(m.get("curves"), Mapping) else {}
        baseline = m.get("baseline") if isinstance(m.get("baseline"), Mapping) else {}
        return cls(
            roc_auc=_num(_first(m, "rocAuc", "roc_auc")),
            pr_auc=_num(_first(m, "prAuc", "pr_auc")),
            brier_score=_num(_first(m, "brierScore", "brier_score", "brier")),
            baseline_roc_auc=_num(_first(m, "baselineRocAuc", "baseline_roc_auc") or _first(baseline, "rocAuc")),
            baseline_pr_auc=_num(_first(m, "baselinePrAuc", "baseline_pr_auc") or _first(baseline, "prAuc")),
            baseline_brier_score=_num(_first(m, "baselineBrierScore", "baseline_brier_score") or
                                      _first(baseline, "brierScore")),
            positive_rate=_num(_first(m, "positiveRate", "positive_rate", "baseRate")),
            at_k=_at_k(m),
            roc_curve=_curve(_first(m, "roc_curve", "roc", "rocCurve") or _first(curves, "roc"), ("fpr", "x"),
                             ("tpr", "y")),
            pr_curve=_curve(_first(m, "pr_curve", "pr", "prCurve") or _first(curves, "pr"), ("recall", "x"),
                            ("precision", "y")),
            baseline_roc_curve=_curve(_first(m, "baselineRoc") or _first(baseline, "roc") or
                                      _first(curves, "baselineRoc"), ("fpr", "x"), ("tpr", "y")),
            calibration=_calibration(_first(m, "calibration", "calibrationTable")),
            importance=_importance(_first(m, "importance", "featureImportance", "feature_importance")),
            raw=m,
        )

    def chart_data(self) -> dict[str, Any]:
        """What the page's ECharts need, as plain JSON (read by web/static/js/charts.js)."""
        return {
            "roc": [[p.x, p.y] for p in self.roc_curve],
            "baselineRoc": [[p.x, p.y] for p in self.baseline_roc_curve],
            "pr": [[p.x, p.y] for p in self.pr_curve],
            "calibration": [[b.mean_predicted, b.observed_rate, b.count] for b in self.calibration
                            if b.mean_predicted is not None and b.observed_rate is not None],
            "importance": [[f.feature, f.importance] for f in self.importance[:20]],
        }


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


def _versions_stmt(model_name: str) -> sa.Select[Any]:
    return (select(ModelVersion).options(defer(ModelVersion.artifact, raiseload=True))
            .where(ModelVersion.model_name == model_name)
            .order_by(ModelVersion.version.desc(), ModelVersion.id.desc()))


def _aliases_by_version(session: Session, version_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    ids = list(version_ids)
    if not ids:
        return {}
    found: dict[int, list[str]] = {}
    for row in session.exec(select(ModelAlias).where(ModelAlias.version_id.in_(ids)).order_by(ModelAlias.alias)):
        found.setdefault(row.version_id, []).append(row.alias)
    return {k: tuple(v) for k, v in found.items()}


def list_versions(session: Session, actor: Actor, req: PageRequest | None = None, *,
                  model_name: str = DEFAULT_MODEL, max_size: int = 200) -> Page[VersionView]:
    """Versions newest first, each with its current aliases: three statements whatever the page size."""
    ensure_can_read_models(actor)
    def load(versions: list[ModelVersion]) -> list[VersionView]:
        aliases = _aliases_by_version(session, [v.id for v in versions])
        return [VersionView(v, aliases.get(v.id, ())) for v in versions]

    return select_page(session, _versions_stmt(model_name), req or PageRequest(), max_size=max_size, load=load,
                       order_by=(ModelVersion.version.desc(), ModelVersion.id.desc()))


def get_version(session: Session, actor: Actor, version_id: int) -> VersionView:
    ensure_can_read_models(actor)
    version = session.exec(select(ModelVersion).options(defer(ModelVersion.artifact, raiseload=True))
                           .where(ModelVersion.id == version_id)).first()
    if version is None:
        raise NotFound(f"model version {version_id} does not exist", field="id")
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
        sa.select(ModelVersion.model_name, sa.func.count(), sa.func.max(ModelVersion.version))
        .group_by(ModelVersion.model_name).order_by(ModelVersion.model_name)).all()
    if not counts:
        return []
    alias_rows = list(session.exec(select(ModelAlias)))
    latest_keys = [(name, top) for name, _n, top in counts]
    wanted = sa.or_(*[sa.and_(ModelVersion.model_name == n, ModelVersion.version == v) for n, v in latest_keys])
    if alias_rows:
        wanted = sa.or_(wanted, ModelVersion.id.in_([a.version_id for a in alias_rows]))
    versions = {v.id: v for v in session.exec(
        select(ModelVersion).options(defer(ModelVersion.artifact, raiseload=True)).where(wanted))}
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
    stmt = (sa.select(ModelAliasHistory, ModelVersion.version)
            .join(ModelVersion, ModelVersion.id == ModelAliasHistory.version_id)
            .where(ModelAliasHistory.model_name == model_name)
            .order_by(ModelAliasHistory.valid_from.desc(), ModelAliasHistory.id.desc()).limit(limit))
    if version_id is not None:
        stmt = stmt.where(ModelAliasHistory.version_id == version_id)
    return [AliasPeriod(entry, number) for entry, number in session.execute(stmt).all()]


# ---- comparison --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VersionComparison:
    """Two versions side by side (版本对比): metric differences, features added or dropped, thresholds."""

    a: VersionView
    b: VersionView

    @property
    def metric_rows(self) -> list[tuple[str, str, float | None, float | None, float | None, bool]]:
        """(key, Chinese label, a, b, b - a, higher is better)."""
        ma, mb = self.a.metrics, self.b.metrics
        rows = [
            ("rocAuc", "ROC-AUC", ma.roc_auc, mb.roc_auc, True),
            ("prAuc", "PR-AUC", ma.pr_auc, mb.pr_auc, True),
            ("brierScore", "Brier 分数", ma.brier_score, mb.brier_score, False),
            ("baselineRocAuc", "基线 ROC-AUC（逻辑回归）", ma.baseline_roc_auc, mb.baseline_roc_auc, True),
        ]
        ks = sorted({r.k for r in ma.at_k} | {r.k for r in mb.at_k})
        for k in ks:
            pa = next((r.precision for r in ma.at_k if r.k == k), None)
            pb = next((r.precision for r in mb.at_k if r.k == k), None)
            rows.append((f"precisionAt{k}", f"前 {k} 名精确率", pa, pb, True))
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
    found = session.exec(select(ModelVersion).options(defer(ModelVersion.artifact, raiseload=True))
                         .where(ModelVersion.id.in_([a_id, b_id]))).all()
    by_id = {v.id: v for v in found}
    for name, vid in (("a", a_id), ("b", b_id)):
        if vid not in by_id:
            raise NotFound(f"model version {vid} does not exist", field=name)
    aliases = _aliases_by_version(session, by_id)
    return VersionComparison(VersionView(by_id[a_id], aliases.get(a_id, ())),
                             VersionView(by_id[b_id], aliases.get(b_id, ())))


# ---- scoring runs, drift, backtests ------------------------------------------------------------------------

def latest_scoring_run(session: Session, actor: Actor, version_id: int) -> ScoringRun | None:
    """The newest finished whole-population run of a version (not backtests, not one-entity on-demand runs)."""
    ensure_can_read_models(actor)
    return session.exec(
        select(ScoringRun).where(ScoringRun.version_id == version_id,
                                 ScoringRun.role.in_(("champion", "challenger")), ScoringRun.status == "succeeded")
        .order_by(ScoringRun.as_of.desc(), ScoringRun.id.desc()).limit(1)).first()


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


def _psi(value: Any) -> float | None:
    if isinstance(value, Mapping):
        return _num(_first(value, "psi", "value"))
    return _num(value)


def _drift_items(raw: Mapping[str, Any] | None, threshold: float) -> list[DriftItem]:
    raw = dict(raw or {})
    if isinstance(raw.get("threshold"), int | float) and raw["threshold"] > 0:
        threshold = float(raw["threshold"])
    pairs: list[tuple[str, float]] = []
    score = _psi(_first(raw, "score", "scorePsi"))
    if score is not None:
        pairs.append(("score", score))
    features = _first(raw, "features", "featurePsi")
    if isinstance(features, Mapping):
        pairs += [(str(k), p) for k, v in features.items() if (p := _psi(v)) is not None]
    elif isinstance(features, list):
        for item in features:
            if isinstance(item, Mapping) and (p := _psi(item)) is not None:
                pairs.append((str(_first(item, "feature", "name")), p))
            elif isinstance(item, list | tuple) and len(item) >= 2 and (p := _psi(item[1])) is not None:
                pairs.append((str(item[0]), p))
    head, rest = pairs[:1] if score is not None else [], pairs[1:] if score is not None else pairs
    ordered = head + sorted(rest, key=lambda p: -p[1])
    return [DriftItem(name, psi, psi > threshold) for name, psi in ordered]


def version_drift(session: Session, actor: Actor, version_id: int) -> DriftView | None:
    run = latest_scoring_run(session, actor, version_id)
    if run is None or not run.drift:
        return None
    threshold = drift_psi_threshold()
    raw = run.drift
    if isinstance(raw.get("threshold"), int | float) and raw["threshold"] > 0:
        threshold = float(raw["threshold"])
    return DriftView(run=run, threshold=threshold, items=_drift_items(raw, threshold))


@dataclass(frozen=True)
class BacktestView:
    """A backtest (回测): entities per level over a past window, and how many had a confirmed outcome after."""

    run: ScoringRun

    @property
    def rows(self) -> list[tuple[str, int, int | None, float | None]]:
        """(level, entities, with a confirmed outcome afterwards, outcome rate) per level, red first."""
        counts = self.run.level_counts if isinstance(self.run.level_counts, Mapping) else {}
        rows = []
        for level in (*LEVELS, "none"):
            value = counts.get(level)
            if value is None:
                continue
            if isinstance(value, Mapping):
                n = int(_num(_first(value, "entities", "count", "n")) or 0)
                hit = _num(_first(value, "outcomes", "confirmed", "positives"))
            else:
                n, hit = int(_num(value) or 0), None
            rows.append((level, n, None if hit is None else int(hit), None if hit is None or not n else hit / n))
        return rows


def list_backtests(session: Session, actor: Actor, version_id: int, *, limit: int = 20) -> list[BacktestView]:
    ensure_can_read_models(actor)
    runs = session.exec(select(ScoringRun).where(ScoringRun.version_id == version_id, ScoringRun.role == "backtest")
                        .order_by(ScoringRun.id.desc()).limit(limit))
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
        for item in self.score.contributions or []:
            if isinstance(item, list | tuple) and len(item) >= 3 and _num(item[2]) is not None:
                out.append((str(item[0]), _num(item[1]), float(item[2])))
            elif isinstance(item, Mapping) and _num(_first(item, "contribution")) is not None:
                out.append((str(_first(item, "feature", "name")), _num(_first(item, "value")),
                            float(item["contribution"])))
        return out


def risk_scores_of_entity(session: Session, actor: Actor, uscc: str, *, first: int = 10,
                          include_shadow: bool = False) -> list[RiskScoreView]:
    """An entity's scores newest first, from champion and on-demand runs (challenger too if asked): one statement."""
    ensure_can_read_models(actor)
    code = (uscc or "").strip().upper()
    if len(code) != 18:
        raise InvalidInput(f"uscc must be the 18-character unified social credit code, got {len(code)} characters",
                           field="uscc", code="uscc_length")
    if first < 1 or first > MAX_SCORES:
        raise InvalidInput(f"first must be between 1 and {MAX_SCORES}, got {first}", field="first",
                           code="page_size_too_large" if first > MAX_SCORES else "page_size_negative")
    roles = ("champion", "on_demand", "challenger") if include_shadow else ("champion", "on_demand")
    rows = session.execute(
        sa.select(RiskScore, ScoringRun, ModelVersion.version, ModelVersion.model_name, Entity.uscc, Entity.name)
        .join(Entity, Entity.id == RiskScore.entity_id)
        .join(ScoringRun, ScoringRun.id == RiskScore.run_id)
        .join(ModelVersion, ModelVersion.id == ScoringRun.version_id)
        .where(Entity.uscc == code, ScoringRun.role.in_(roles))
        .order_by(ScoringRun.as_of.desc(), ScoringRun.id.desc()).limit(first)).all()
    return [RiskScoreView(score, run, number, name, u, en) for score, run, number, name, u, en in rows]


# ---- rules -------------------------------------------------------------------------------------------------

def list_rules(session: Session, actor: Actor) -> list[RiskRule]:
    ensure_can_read_models(actor)
    return list(session.exec(select(RiskRule).order_by(RiskRule.enabled.desc(), RiskRule.code)))


def get_rule(session: Session, actor: Actor, rule_id: int) -> RiskRule:
    ensure_can_read_models(actor)
    rule = session.get(RiskRule, rule_id)
    if rule is None:
        raise NotFound(f"rule {rule_id} does not exist", field="id")
    return rule


def rule_revisions(session: Session, actor: Actor, rule_id: int) -> list[RiskRuleRevision]:
    ensure_can_read_models(actor)
    return list(session.exec(select(RiskRuleRevision).where(RiskRuleRevision.rule_id == rule_id)
                             .order_by(RiskRuleRevision.revision.desc())))
