"""GraphQL types of risk model management (风险模型管理): models, versions, metrics, aliases, scores, rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

import strawberry

from domain.risk import queries as q
from domain.risk.models import RiskRule, RiskRuleRevision, ScoringRun

__all__ = [
    "AliasPeriodType",
    "BacktestLevelType",
    "BacktestType",
    "CalibrationBinType",
    "CurvePointType",
    "DriftItemType",
    "EventMetricsType",
    "FeatureContributionType",
    "FeatureImportanceType",
    "LevelThresholdsType",
    "LiftDecileType",
    "MetricAtKType",
    "ModelMetricsType",
    "ModelVersionType",
    "RiskModelType",
    "RiskRuleRevisionType",
    "RiskRuleType",
    "RiskScoreType",
    "ScoringRunType",
]


@strawberry.type(name="CurvePoint", description="One point of a ROC or precision-recall curve (曲线点).")
class CurvePointType:
    x: float
    y: float


@strawberry.type(name="CalibrationBin", description="One bin of the calibration table (校准分箱).")
class CalibrationBinType:
    lower: float | None
    upper: float | None
    mean_predicted: float | None = strawberry.field(description="Mean predicted score in the bin (平均预测值).")
    observed_rate: float | None = strawberry.field(description="Share with the outcome in the bin (实际发生率).")
    count: int | None

    @classmethod
    def build_all(cls, bins: list[q.CalibrationBin]) -> list[CalibrationBinType]:
        return [cls(lower=b.lower, upper=b.upper, mean_predicted=b.mean_predicted, observed_rate=b.observed_rate,
                    count=b.count) for b in bins]


@strawberry.type(name="FeatureImportance", description="A feature's importance (gain) in the model (特征重要性).")
class FeatureImportanceType:
    feature: str
    importance: float
    share: float | None = strawberry.field(description="Share of the total gain (增益占比).")


@strawberry.type(name="MetricAtK", description="Precision and recall among the top k scored entities (前k名指标).")
class MetricAtKType:
    k: int
    share: float | None = strawberry.field(description="k as a share of the held-out entities (占比).")
    precision: float | None
    recall: float | None


@strawberry.type(name="LiftDecile", description="One decile of the score, highest first (十分位提升度).")
class LiftDecileType:
    decile: int
    count: int
    positives: int
    rate: float | None = strawberry.field(description="Share with the outcome (发生率).")
    lift: float | None = strawberry.field(description="Rate over the overall rate (提升度).")
    cumulative_recall: float | None = strawberry.field(description="Share of all positives down to it (累计覆盖).")


@strawberry.type(name="EventMetrics",
                 description="Held-out figures on one set of entities: all, or new events only (评估指标).")
class EventMetricsType:
    entities: int | None
    positives: int | None
    positive_rate: float | None = strawberry.field(description="Observed rate (实际发生率).")
    mean_predicted: float | None = strawberry.field(description="Mean predicted probability (平均预测概率).")
    roc_auc: float | None
    roc_auc_low: float | None = strawberry.field(description="Bootstrap 95% interval, low end (95%区间下限).")
    roc_auc_high: float | None = strawberry.field(description="Bootstrap 95% interval, high end (95%区间上限).")
    pr_auc: float | None
    brier_score: float | None
    at_k: list[MetricAtKType]
    lift: list[LiftDecileType]

    @classmethod
    def build(cls, e: q.EventMetrics) -> EventMetricsType:
        return cls(entities=e.n, positives=e.positives, positive_rate=e.positive_rate,
                   mean_predicted=e.mean_predicted, roc_auc=e.roc_auc,
                   roc_auc_low=e.roc_auc_ci[0] if e.roc_auc_ci else None,
                   roc_auc_high=e.roc_auc_ci[1] if e.roc_auc_ci else None, pr_auc=e.pr_auc,
                   brier_score=e.brier_score,
                   at_k=[MetricAtKType(k=r.k, share=r.share, precision=r.precision, recall=r.recall) for r in e.at_k],
                   lift=[LiftDecileType(decile=r.decile, count=r.count, positives=r.positives, rate=r.rate,
                                        lift=r.lift, cumulative_recall=r.cumulative_recall) for r in e.lift])


@strawberry.type(name="ModelMetrics", description="Held-out metrics of a model version (模型指标).")
class ModelMetricsType:
    roc_auc: float | None = strawberry.field(description="ROC-AUC on the held-out window (ROC曲线下面积).")
    pr_auc: float | None = strawberry.field(description="Precision-recall AUC (PR曲线下面积).")
    brier_score: float | None = strawberry.field(description="Brier score, lower is better (Brier分数).")
    baseline_roc_auc: float | None = strawberry.field(
        description="ROC-AUC of the fair logistic-regression baseline on the same split (公平基线ROC-AUC).")
    baseline_pr_auc: float | None = strawberry.field(description="PR-AUC of the baseline (基线PR-AUC).")
    positive_rate: float | None = strawberry.field(description="Share of positives in the held-out window (正例率).")
    overall: EventMetricsType = strawberry.field(description="Every held-out entity (全部验证样本).")
    new_events: EventMetricsType = strawberry.field(
        description="Follow-up positives (penalties closing a case failed or ordered to rectify before the cut-off) "
                    "left out (仅新发事件).")
    baseline: EventMetricsType = strawberry.field(description="The fair baseline on every entity (公平基线).")
    baseline_new_events: EventMetricsType = strawberry.field(description="The fair baseline, new events only.")
    follow_up_positives: int | None = strawberry.field(description="Positives left out as follow-ups (后续处置正例).")
    expected_calibration_error: float | None = strawberry.field(
        description="Count-weighted mean |predicted − observed| over score deciles (期望校准误差ECE).")
    expected_calibration_error_before: float | None = strawberry.field(description="ECE before calibration.")
    mean_predicted_before: float | None = strawberry.field(description="Mean raw score before calibration.")
    calibration_method: str | None = strawberry.field(description="platt or isotonic (校准方法).")
    top_1000_positives: int | None = strawberry.field(
        description="Of the 1,000 highest-scored entities, how many had the outcome (前1000名发生数).")
    at_k: list[MetricAtKType] = strawberry.field(description="Precision and recall at the top k (前k名精确率/召回率).")
    roc_curve: list[CurvePointType] = strawberry.field(description="ROC curve: x = FPR, y = TPR (ROC曲线).")
    pr_curve: list[CurvePointType] = strawberry.field(description="PR curve: x = recall, y = precision (PR曲线).")
    calibration: list[CalibrationBinType] = strawberry.field(description="Calibration table, calibrated (校准表).")
    calibration_before: list[CalibrationBinType] = strawberry.field(description="Calibration table, raw (校准前).")
    feature_importance: list[FeatureImportanceType] = strawberry.field(description="Feature importance (特征重要性).")
    raw: strawberry.scalars.JSON = strawberry.field(description="Every metric as recorded at training (原始指标).")

    @classmethod
    def build(cls, m: q.ModelMetrics) -> ModelMetricsType:
        return cls(
            roc_auc=m.roc_auc, pr_auc=m.pr_auc, brier_score=m.brier_score, baseline_roc_auc=m.baseline_roc_auc,
            baseline_pr_auc=m.baseline_pr_auc, positive_rate=m.positive_rate,
            overall=EventMetricsType.build(m.overall), new_events=EventMetricsType.build(m.new_events),
            baseline=EventMetricsType.build(m.baseline),
            baseline_new_events=EventMetricsType.build(m.baseline_new_events),
            follow_up_positives=m.follow_up_positives, expected_calibration_error=m.ece,
            expected_calibration_error_before=m.ece_before, mean_predicted_before=m.mean_predicted_before,
            calibration_method=m.calibration_method, top_1000_positives=m.top_1000[1] if m.top_1000 else None,
            at_k=[MetricAtKType(k=r.k, share=r.share, precision=r.precision, recall=r.recall) for r in m.at_k],
            roc_curve=[CurvePointType(x=p.x, y=p.y) for p in m.roc_curve],
            pr_curve=[CurvePointType(x=p.x, y=p.y) for p in m.pr_curve],
            calibration=CalibrationBinType.build_all(m.calibration),
            calibration_before=CalibrationBinType.build_all(m.calibration_before),
            feature_importance=[FeatureImportanceType(feature=f.feature, importance=f.importance, share=f.share)
                                for f in m.importance],
            raw=cast(strawberry.scalars.JSON, m.raw),
        )


@strawberry.type(name="LevelThresholds",
                 description="Minimum score for each warning level (等级阈值: 红/橙/黄/蓝), highest first.")
class LevelThresholdsType:
    red: float | None
    orange: float | None
    yellow: float | None
    blue: float | None


@strawberry.type(name="ModelVersion", description="A trained model version (模型版本).")
class ModelVersionType:
    id: strawberry.ID
    model_name: str
    version: int
    status: str
    aliases: list[str] = strawberry.field(description="Aliases it holds now: champion / challenger (当前别名).")
    features: list[str] = strawberry.field(description="Feature names, in model order (特征).")
    params: strawberry.scalars.JSON = strawberry.field(description="Training parameters (训练参数).")
    train_from: date | None = strawberry.field(description="First training cut-off (训练起始截止日).")
    train_to: date | None = strawberry.field(description="Last training cut-off (训练结束截止日).")
    validation_cutoff: date | None = strawberry.field(description="Held-out cut-off (验证截止日).")
    label_window_days: int = strawberry.field(description="Days after a cut-off that count for its label (标签窗口).")
    label_counts: strawberry.scalars.JSON = strawberry.field(description="Label counts by source (标签统计).")
    data_fingerprint: str = strawberry.field(description="Fingerprint of the training data (训练数据指纹).")
    metrics: ModelMetricsType
    thresholds: LevelThresholdsType
    trained_by: str = strawberry.field(description="Who trained it (训练人).")
    created_at: datetime

    @classmethod
    def build(cls, view: q.VersionView) -> ModelVersionType:
        v = view.version
        t = dict(view.thresholds)
        return cls(
            id=strawberry.ID(str(v.id)), model_name=v.model_name, version=v.version, status=v.status,
            aliases=list(view.aliases), features=list(v.features or []),
            params=cast(strawberry.scalars.JSON, v.params or {}),
            train_from=v.train_from, train_to=v.train_to, validation_cutoff=v.validation_cutoff,
            label_window_days=v.label_window_days, label_counts=cast(strawberry.scalars.JSON, v.label_counts or {}),
            data_fingerprint=v.data_fingerprint, metrics=ModelMetricsType.build(view.metrics),
            thresholds=LevelThresholdsType(red=t["red"], orange=t["orange"], yellow=t["yellow"], blue=t["blue"]),
            trained_by=v.trained_by_name, created_at=v.created_at,
        )


@strawberry.type(name="RiskModelAlias", description="An alias and the version holding it now (模型别名).")
class RiskModelAliasType:
    alias: str
    version: ModelVersionType


@strawberry.type(name="RiskModel", description="A risk model (风险模型) by name, with its aliases and newest version.")
class RiskModelType:
    name: str
    version_count: int
    latest_version: ModelVersionType | None
    aliases: list[RiskModelAliasType]
    champion: ModelVersionType | None = strawberry.field(description="The version that scores (冠军模型).")
    challenger: ModelVersionType | None = strawberry.field(description="Scored in shadow only (挑战者模型).")

    @classmethod
    def build(cls, m: q.ModelSummary) -> RiskModelType:
        built = {alias: ModelVersionType.build(v) for alias, v in m.aliases.items()}
        return cls(name=m.name, version_count=m.version_count,
                   latest_version=ModelVersionType.build(m.latest) if m.latest else None,
                   aliases=[RiskModelAliasType(alias=a, version=v) for a, v in sorted(built.items())],
                   champion=built.get("champion"), challenger=built.get("challenger"))


@strawberry.type(name="ModelAliasPeriod",
                 description="A period a version held an alias (别名历史): from, to (open while held), by whom.")
class AliasPeriodType:
    id: strawberry.ID
    model_name: str
    alias: str
    version_id: strawberry.ID
    version: int | None
    valid_from: datetime
    valid_to: datetime | None
    set_by: str
    action: str = strawberry.field(description="promote / demote / rollback (启用/停用/回滚).")
    reason: str

    @classmethod
    def build(cls, p: q.AliasPeriod) -> AliasPeriodType:
        e = p.entry
        return cls(id=strawberry.ID(str(e.id)), model_name=e.model_name, alias=e.alias,
                   version_id=strawberry.ID(str(e.version_id)), version=p.version_number, valid_from=e.valid_from,
                   valid_to=e.valid_to, set_by=e.set_by_name, action=e.action, reason=e.reason)


@strawberry.type(name="ScoringRun", description="One scoring of all entities by one version (评分批次).")
class ScoringRunType:
    id: strawberry.ID
    version_id: strawberry.ID
    role: str = strawberry.field(description="champion / challenger / backtest (冠军/挑战者/回测).")
    as_of: date
    status: str
    entities: int
    level_counts: strawberry.scalars.JSON
    started_at: datetime
    finished_at: datetime | None

    @classmethod
    def build(cls, r: ScoringRun) -> ScoringRunType:
        return cls(id=strawberry.ID(str(r.id)), version_id=strawberry.ID(str(r.version_id)), role=r.role,
                   as_of=r.as_of, status=r.status, entities=r.entities,
                   level_counts=cast(strawberry.scalars.JSON, r.level_counts or {}),
                   started_at=r.started_at, finished_at=r.finished_at)


@strawberry.type(name="DriftItem", description="Population stability index of the score or one feature (PSI漂移).")
class DriftItemType:
    name: str
    psi: float
    flagged: bool = strawberry.field(description="Above the configured threshold (超过阈值).")


@strawberry.type(name="BacktestLevel", description="One level of a backtest (回测分级结果).")
class BacktestLevelType:
    level: str
    entities: int
    with_outcome: int | None = strawberry.field(description="Of them, with a confirmed outcome after (事后确认数).")
    outcome_rate: float | None


@strawberry.type(name="Backtest", description="A version run over a past window (回测).")
class BacktestType:
    run: ScoringRunType
    levels: list[BacktestLevelType]
    window_days: int | None = strawberry.field(description="Days of outcomes counted after the date (观察窗口).")
    window_complete: bool = strawberry.field(description="The whole window lies before the latest data (窗口已结束).")
    roc_auc: float | None = strawberry.field(description="ROC-AUC over the window (回测ROC-AUC).")
    in_training_window: bool = strawberry.field(
        description="The window overlaps the version's training outcomes: the figures are optimistic (训练窗口内).")

    @classmethod
    def build(cls, b: q.BacktestView) -> BacktestType:
        return cls(run=ScoringRunType.build(b.run), window_days=b.window_days, window_complete=b.window_complete,
                   roc_auc=b.roc_auc, in_training_window=b.in_training_window,
                   levels=[BacktestLevelType(level=lv, entities=n, with_outcome=hit, outcome_rate=rate)
                           for lv, n, hit, rate in b.rows])


@strawberry.type(name="FeatureContribution", description="A feature's contribution to one score (特征贡献).")
class FeatureContributionType:
    feature: str
    value: float | None
    contribution: float


@strawberry.type(name="RiskScore", description="An entity's score from one scoring run (风险评分).")
class RiskScoreType:
    uscc: str = strawberry.field(description="Unified social credit code (统一社会信用代码).")
    entity_name: str
    score: float
    level: str | None = strawberry.field(description="Level after rules: red/orange/yellow/blue (风险等级).")
    model_level: str | None = strawberry.field(description="Level from thresholds alone (模型等级).")
    rules_matched: list[str] = strawberry.field(description="Codes of the rules that matched (命中规则).")
    contributions: list[FeatureContributionType] = strawberry.field(description="Top contributions (主要贡献特征).")
    as_of: date
    role: str
    model_name: str
    model_version: int
    run_id: strawberry.ID

    @classmethod
    def build(cls, s: q.RiskScoreView) -> RiskScoreType:
        return cls(uscc=s.uscc, entity_name=s.entity_name, score=s.score.score, level=s.score.level,
                   model_level=s.score.model_level, rules_matched=list(s.score.rules_matched or []),
                   contributions=[FeatureContributionType(feature=f, value=v, contribution=c)
                                  for f, v, c in s.contributions],
                   as_of=s.run.as_of, role=s.run.role, model_name=s.model_name, model_version=s.version_number,
                   run_id=strawberry.ID(str(s.run.id)))


@strawberry.type(name="RiskRule", description="An early-warning rule (预警规则): CEL forcing a minimum level.")
class RiskRuleType:
    id: strawberry.ID
    code: str
    name: str
    expression: str = strawberry.field(description="Common Expression Language over feature names (CEL表达式).")
    min_level: str = strawberry.field(description="The least level a match forces (最低等级).")
    description: str
    enabled: bool
    revision: int
    updated_by: str
    updated_at: datetime

    @classmethod
    def build(cls, r: RiskRule) -> RiskRuleType:
        return cls(id=strawberry.ID(str(r.id)), code=r.code, name=r.name, expression=r.expression,
                   min_level=r.min_level, description=r.description, enabled=r.enabled, revision=r.revision,
                   updated_by=r.updated_by_name, updated_at=r.updated_at)


@strawberry.type(name="RiskRuleRevision", description="A saved revision of a rule (规则版本).")
class RiskRuleRevisionType:
    revision: int
    expression: str
    min_level: str
    enabled: bool
    saved_by: str
    saved_at: datetime

    @classmethod
    def build(cls, r: RiskRuleRevision) -> RiskRuleRevisionType:
        return cls(revision=r.revision, expression=r.expression, min_level=r.min_level, enabled=r.enabled,
                   saved_by=r.saved_by_name, saved_at=r.saved_at)
