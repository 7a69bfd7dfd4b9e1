"""Risk model management (风险模型管理) and scoring (风险评分): one function per business action.

Every function takes the caller's `Session` and `Actor`, checks permission inside (analysts and admins,
`domain.risk.queries.ensure_can_manage_models`), writes its audit row in the same transaction and never
commits. Reading lives in `domain.risk.queries`.

Long actions (train_model, score_all, backtest_model_version) do their reading first and their writing
last, so on SQLite they hold the write lock only for the final inserts.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.errors import Conflict, FieldError, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.risk.models import (
    LEVELS,
    MODEL_ALIASES,
    ModelAlias,
    ModelAliasHistory,
    ModelVersion,
    RiskRule,
    RiskRuleRevision,
    RiskScore,
    ScoringRun,
)
from domain.risk.queries import DEFAULT_MODEL, ensure_can_manage_models, ensure_can_read_models
from domain.supervision.models import Entity
from domain.types import local_today, utcnow

__all__ = [
    "DEFAULT_MODEL",
    "RuleTestResult",
    "backtest_model_version",
    "champion_version",
    "check_backtest",
    "demote_alias",
    "promote_model_version",
    "rollback_model",
    "save_risk_rule",
    "score_all",
    "score_entity",
    "set_level_thresholds",
    "test_risk_rule",
    "train_model",
    "validate_thresholds",
]

Progress = Callable[[int, int | None, str], None]


def _version(session: Session, version_id: int) -> ModelVersion:
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise NotFound(f"model version {version_id} does not exist", field="versionId")
    return version


def _alias_version(session: Session, alias: str, model_name: str = DEFAULT_MODEL) -> ModelVersion | None:
    return session.exec(select(ModelVersion).join(ModelAlias, ModelAlias.version_id == ModelVersion.id)
                        .where(ModelAlias.model_name == model_name, ModelAlias.alias == alias)).first()


def champion_version(session: Session, actor: Actor, *, model_name: str = DEFAULT_MODEL) -> ModelVersion | None:
    """The version that scores and drives warnings now (冠军模型), or None before the first promotion."""
    ensure_can_read_models(actor)
    return _alias_version(session, "champion", model_name)


def _check_alias(alias: str) -> None:
    if alias not in MODEL_ALIASES:
        raise InvalidInput(f"unknown alias {alias!r}; use one of {', '.join(MODEL_ALIASES)}", field="alias",
                           code="unknown_alias")


def _assign_alias(session: Session, actor: Actor, model_name: str, alias: str, version: ModelVersion,
                  action: str, reason: str) -> ModelAlias:
    """Point `alias` at `version`, closing the previous holder's history period and opening a new one."""
    now = utcnow()
    current = session.get(ModelAlias, (model_name, alias))
    session.execute(sa.update(ModelAliasHistory).where(
        ModelAliasHistory.model_name == model_name, ModelAliasHistory.alias == alias,
        col(ModelAliasHistory.valid_to).is_(None)).values(valid_to=now))
    if current is None:
        current = ModelAlias(model_name=model_name, alias=alias, version_id=version.id, set_at=now,
                             set_by_name=actor.username)
        session.add(current)
    else:
        assert version.id is not None
        current.version_id = version.id
        current.set_at = now
        current.set_by_name = actor.username
    session.add(ModelAliasHistory(model_name=model_name, alias=alias, version_id=version.id, valid_from=now,
                                  set_by_name=actor.username, action=action, reason=reason[:500]))
    session.flush()
    return current


def _artifact(version: ModelVersion) -> bytes:
    """The stored booster, read with its own statement: readers load versions with the artifact deferred."""
    from sqlalchemy.orm import object_session

    session = object_session(version)
    assert session is not None
    raw = session.execute(sa.select(ModelVersion.artifact).where(ModelVersion.id == version.id)).scalar()
    return bytes(raw or b"")


def _booster(version: ModelVersion) -> Any:
    from ml.artifacts import booster_from_bytes

    raw = _artifact(version)
    if not raw:
        raise Conflict(f"model version {version.version} has no artifact", field="versionId")
    return booster_from_bytes(raw)


def _usable(version: ModelVersion) -> None:
    if version.status != "ready" or not _artifact(version):
        raise Conflict(f"model version {version.version} is {version.status} and has no usable artifact",
                       field="versionId")


def promote_model_version(session: Session, actor: Actor, version_id: int, *, alias: str = "champion",
                          reason: str = "") -> ModelAlias:
    """Give `alias` to a version (启用). Promoting the challenger to champion also ends its challenger period."""
    ensure_can_manage_models(actor)
    _check_alias(alias)
    version = _version(session, version_id)
    _usable(version)
    current = session.get(ModelAlias, (version.model_name, alias))
    if current is not None and current.version_id == version.id:
        raise Conflict(f"版本 v{version.version} 已是{_ALIAS_ZH.get(alias, alias)}", field="versionId")
    previous = current.version_id if current else None
    for other in MODEL_ALIASES:
        held = session.get(ModelAlias, (version.model_name, other))
        if other != alias and held is not None and held.version_id == version.id:
            _release_alias(session, version.model_name, other)
    result = _assign_alias(session, actor, version.model_name, alias, version, "promote", reason)
    record_audit(session, actor, "model.promote", "model_version", version.id,
                 {"alias": alias, "version_id": [previous, version.id], "reason": reason})
    return result


def _release_alias(session: Session, model_name: str, alias: str) -> None:
    session.execute(sa.update(ModelAliasHistory).where(
        ModelAliasHistory.model_name == model_name, ModelAliasHistory.alias == alias,
        col(ModelAliasHistory.valid_to).is_(None)).values(valid_to=utcnow()))
    session.execute(sa.delete(ModelAlias).where(ModelAlias.model_name == model_name, ModelAlias.alias == alias))


def demote_alias(session: Session, actor: Actor, alias: str = "challenger", *, reason: str = "",
                 model_name: str = DEFAULT_MODEL) -> None:
    """Take an alias away (停用). The champion cannot be left empty: promote or roll back instead."""
    ensure_can_manage_models(actor)
    _check_alias(alias)
    if alias == "champion":
        raise Conflict("冠军模型不能撤下，只能替换：请启用另一个版本或回滚",
                       field="alias")
    current = session.get(ModelAlias, (model_name, alias))
    if current is None:
        raise NotFound(f"当前没有{_ALIAS_ZH.get(alias, alias)}", field="alias")
    version_id = current.version_id
    session.execute(sa.update(ModelAliasHistory).where(
        ModelAliasHistory.model_name == model_name, ModelAliasHistory.alias == alias,
        col(ModelAliasHistory.valid_to).is_(None)).values(valid_to=utcnow(), action="demote",
                                                           reason=reason[:500] if reason else ModelAliasHistory.reason))
    session.execute(sa.delete(ModelAlias).where(ModelAlias.model_name == model_name, ModelAlias.alias == alias))
    record_audit(session, actor, "model.demote", "model_version", version_id, {"alias": alias, "reason": reason})


def rollback_model(session: Session, actor: Actor, *, alias: str = "champion", reason: str = "",
                   model_name: str = DEFAULT_MODEL) -> ModelAlias:
    """Give `alias` back to the version that held it before the current one (回滚)."""
    ensure_can_manage_models(actor)
    _check_alias(alias)
    current = session.get(ModelAlias, (model_name, alias))
    if current is None:
        raise Conflict(f"当前没有{_ALIAS_ZH.get(alias, alias)}，无可回滚", field="alias")
    earlier = session.exec(select(ModelAliasHistory).where(
        ModelAliasHistory.model_name == model_name, ModelAliasHistory.alias == alias,
        ModelAliasHistory.version_id != current.version_id, col(ModelAliasHistory.valid_to).is_not(None))
        .order_by(col(ModelAliasHistory.valid_to).desc(), col(ModelAliasHistory.id).desc())).first()
    if earlier is None:
        raise Conflict(f"此前没有其他版本担任过{_ALIAS_ZH.get(alias, alias)}，无可回滚", field="alias")
    target = session.get(ModelVersion, earlier.version_id)
    assert target is not None
    _usable(target)
    previous = current.version_id
    result = _assign_alias(session, actor, model_name, alias, target, "rollback", reason)
    record_audit(session, actor, "model.rollback", "model_version", target.id,
                 {"alias": alias, "version_id": [previous, target.id], "reason": reason})
    return result


_LEVEL_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
_ALIAS_ZH = {"champion": "冠军模型", "challenger": "挑战者模型"}


def validate_thresholds(thresholds: dict[str, Any]) -> dict[str, float]:
    """Level thresholds: all four levels, each a number in [0, 1], red > orange > yellow > blue."""
    errors: list[FieldError] = []
    clean: dict[str, float] = {}
    for key in thresholds:
        if key not in LEVELS:
            errors.append(FieldError(f"thresholds.{key}", "unknown_level",
                                     f"未知等级“{key}”，等级为 {', '.join(LEVELS)}"))
    for level in LEVELS:
        raw = thresholds.get(level)
        if raw is None or raw == "":
            errors.append(FieldError(f"thresholds.{level}", "required", f"请填写{_LEVEL_ZH[level]}阈值"))
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            errors.append(FieldError(f"thresholds.{level}", "not_a_number",
                                     f"{_LEVEL_ZH[level]}阈值“{raw}”不是数字"))
            continue
        if not 0.0 <= value <= 1.0 or value != value:
            errors.append(FieldError(f"thresholds.{level}", "out_of_range",
                                     f"{_LEVEL_ZH[level]}阈值 {value} 不在 0–1 之间"))
            continue
        clean[level] = value
    if not errors:
        for higher, lower in itertools.pairwise(LEVELS):
            if clean[higher] <= clean[lower]:
                errors.append(FieldError(f"thresholds.{higher}", "not_ordered",
                                         f"{_LEVEL_ZH[higher]}阈值（{clean[higher]}）须高于{_LEVEL_ZH[lower]}阈值"
                                         f"（{clean[lower]}）"))
    if errors:
        raise InvalidInput(errors[0].message if len(errors) == 1 else f"等级阈值有 {len(errors)} 处问题",
                           field=errors[0].field, code=errors[0].code, errors=errors)
    return clean


def set_level_thresholds(session: Session, actor: Actor, version_id: int, thresholds: dict[str, Any]) -> ModelVersion:
    """Change a version's level thresholds (level → minimum score), validated and audited."""
    ensure_can_manage_models(actor)
    version = _version(session, version_id)
    clean = validate_thresholds(thresholds)
    before = dict(version.thresholds)
    version.thresholds = clean
    session.add(version)
    session.flush()
    record_audit(session, actor, "model.thresholds", "model_version", version.id,
                 {level: [before.get(level), clean[level]] for level in LEVELS if before.get(level) != clean[level]})
    return version


# ---------------------------------------------------------------------------------------------- training

def train_model(session: Session, actor: Actor, *, plan: Any = None, label_window_days: int = 90,
                n_cutoffs: int = 4, seed: int = 42, model_name: str = DEFAULT_MODEL, job_id: int | None = None,
                progress: Progress | None = None) -> ModelVersion:
    """Train a new version on the time-split data (`ml.training.TrainingPlan`; default: from the data's dates)
    and record it with its metrics, thresholds, fingerprint and artifact. It holds no alias yet."""
    from ml.training import default_plan, train

    ensure_can_manage_models(actor)
    conn = session.connection()
    plan = plan or default_plan(conn, label_window_days=label_window_days, n_cutoffs=n_cutoffs, seed=seed)
    problems = plan.check()
    if problems:
        raise InvalidInput(problems[0][1], field=problems[0][0], code="invalid_plan",
                           errors=[FieldError(f, "invalid_plan", m) for f, m in problems])
    trained = train(conn, plan, progress=progress)
    number = (session.execute(sa.select(sa.func.max(ModelVersion.version))
                              .where(ModelVersion.model_name == model_name)).scalar() or 0) + 1
    version = ModelVersion(
        model_name=model_name, version=number, status="ready", features=trained.features, params=trained.params,
        train_from=plan.cutoffs[0], train_to=plan.cutoffs[-1], validation_cutoff=plan.validation_cutoff,
        label_window_days=plan.label_window_days, label_counts=trained.label_counts,
        data_fingerprint=trained.fingerprint, metrics=trained.metrics, thresholds=trained.thresholds,
        training_summary=trained.training_summary, artifact=trained.artifact, trained_by_id=actor.user_id,
        trained_by_name=actor.username, job_id=job_id)
    session.add(version)
    session.flush()
    record_audit(session, actor, "model.train", "model_version", version.id, {
        "version": number, "roc_auc": trained.metrics["roc_auc"],
        "baseline_roc_auc": trained.metrics["baseline_roc_auc"], "fingerprint": trained.fingerprint})
    return version


# ---------------------------------------------------------------------------------------------- rules

def save_risk_rule(session: Session, actor: Actor, *, code: str, name: str, expression: str, min_level: str,
                   description: str = "", enabled: bool = False, rule_id: int | None = None) -> RiskRule:
    """Create a rule, or save a new revision of `rule_id`. The expression is checked first (syntax, unknown
    features, types); all problems with the input come back together as field errors."""
    from ml.rules import compile_rule

    ensure_can_manage_models(actor)
    errors: list[FieldError] = []
    code = (code or "").strip()
    name = (name or "").strip()
    if not code:
        errors.append(FieldError("code", "required", "请填写规则编码"))
    elif len(code) > 64 or not all(c.isalnum() or c in "_-." for c in code):
        errors.append(FieldError("code", "invalid", "规则编码为至多 64 位字母、数字或 _ - ."))
    if not name:
        errors.append(FieldError("name", "required", "请填写规则名称"))
    if min_level not in LEVELS:
        errors.append(FieldError("minLevel", "unknown_level",
                                 f"未知等级“{min_level}”，等级为 {', '.join(LEVELS)}"))
    try:
        compiled = compile_rule(expression)
    except InvalidInput as exc:
        errors.extend(exc.errors)
        compiled = None
    if code and not errors:
        clash = session.exec(select(RiskRule).where(RiskRule.code == code)).first()
        if clash is not None and clash.id != rule_id:
            errors.append(FieldError("code", "duplicate", f"规则编码“{code}”已被其他规则使用"))
    if errors:
        raise InvalidInput(errors[0].message if len(errors) == 1 else f"规则有 {len(errors)} 处问题",
                           field=errors[0].field, code=errors[0].code, errors=errors)
    assert compiled is not None
    now = utcnow()
    if rule_id is None:
        rule = RiskRule(code=code, name=name, expression=compiled.expression, min_level=min_level,
                        description=description, enabled=enabled, revision=1, updated_by_name=actor.username,
                        updated_at=now)
        session.add(rule)
        session.flush()
        changes: dict[str, Any] = {"created": {"code": code, "expression": compiled.expression,
                                               "min_level": min_level, "enabled": enabled}}
    else:
        existing = session.get(RiskRule, rule_id)
        if existing is None:
            raise NotFound(f"rule {rule_id} does not exist", field="id")
        rule = existing
        before = {"code": rule.code, "name": rule.name, "expression": rule.expression, "min_level": rule.min_level,
                  "description": rule.description, "enabled": rule.enabled}
        after = {"code": code, "name": name, "expression": compiled.expression, "min_level": min_level,
                 "description": description, "enabled": enabled}
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if not changes:
            return rule
        rule.code, rule.name, rule.expression = code, name, compiled.expression
        rule.min_level, rule.description, rule.enabled = min_level, description, enabled
        rule.revision += 1
        rule.updated_by_name, rule.updated_at = actor.username, now
        session.add(rule)
        session.flush()
    session.add(RiskRuleRevision(rule_id=rule.id, revision=rule.revision, expression=rule.expression,
                                 min_level=rule.min_level, enabled=rule.enabled, saved_by_name=actor.username,
                                 saved_at=now))
    record_audit(session, actor, "rule.save", "risk_rule", rule.id, {"revision": rule.revision, **changes})
    session.flush()
    return rule


@dataclass(frozen=True)
class RuleTestResult:
    """试运行: how many entities a rule matches on current data, and a sample of them."""

    expression: str
    as_of: date
    entities: int
    matched: int
    sample: list[dict[str, Any]]  # {entity_id, uscc, name, features: {name: value}}


def test_risk_rule(session: Session, actor: Actor, expression: str, *, as_of: date | None = None,
                   sample_size: int = 10) -> RuleTestResult:
    """Try an expression against every entity's features as of `as_of` (default today) without saving it."""
    from ml.features import compute_features
    from ml.rules import compile_rule, match_rule

    ensure_can_manage_models(actor)
    compiled = compile_rule(expression)
    as_of = as_of or local_today()
    matrix = compute_features(session.connection(), as_of)
    mask = match_rule(compiled, matrix)
    rows = np.flatnonzero(mask)[:sample_size]
    ids = matrix.entity_ids[rows].tolist()
    entities = {e.id: e for e in session.exec(select(Entity).where(col(Entity.id).in_(ids)))} if ids else {}
    sample = []
    for row, entity_id in zip(rows.tolist(), ids, strict=True):
        entity = entities.get(entity_id)
        sample.append({"entity_id": entity_id, "uscc": entity.uscc if entity else "",
                       "name": entity.name if entity else "",
                       "features": {n: matrix.display_value(n, matrix.values[row, matrix.names.index(n)])
                                    for n in compiled.features}})
    return RuleTestResult(compiled.expression, as_of, len(matrix), int(mask.sum()), sample)


def _enabled_rules(session: Session) -> list[Any]:
    from ml.rules import compile_rule
    from ml.scoring import RuleSpec

    rules = session.exec(select(RiskRule).where(col(RiskRule.enabled).is_(True)).order_by(RiskRule.code)).all()
    return [RuleSpec(r.code, r.min_level, compile_rule(r.expression)) for r in rules]


# ---------------------------------------------------------------------------------------------- scoring

@dataclass
class _Scored:
    version: ModelVersion
    role: str
    pop: Any  # ml.scoring.ScoredPopulation
    drift: dict[str, Any]
    started: Any


def _score(version: ModelVersion, role: str, matrix: Any, rules: list[Any], *, approx: bool = True) -> _Scored:
    """Predict, grade, apply rules, explain and measure drift: reading and computing only."""
    from ml.drift import psi
    from ml.scoring import score_population

    started = utcnow()
    pop = score_population(_booster(version), version.features, version.thresholds, matrix,
                           rules, approx=approx)
    drift: dict[str, Any] = {}
    summary = version.training_summary or {}
    if summary.get("score") and len(pop.scores):
        drift["score"] = round(psi(summary["score"], pop.scores), 5)
        drift["features"] = {name: round(psi(ref, matrix.column(name)), 5)
                             for name, ref in (summary.get("features") or {}).items() if name in matrix.names}
    return _Scored(version, role, pop, drift, started)


def _store(session: Session, scored: _Scored, as_of: date, *, job_id: int | None,
           extra_timings: dict[str, float] | None = None) -> ScoringRun:
    """Write the run and its risk_score rows in bulk (the only writing step)."""
    from ml.scoring import insert_scores

    t = time.perf_counter()
    pop = scored.pop
    run = ScoringRun(version_id=scored.version.id, role=scored.role, as_of=as_of, status="succeeded",
                     entities=len(pop.scores), level_counts=pop.level_counts(), drift=scored.drift, job_id=job_id,
                     started_at=scored.started)
    session.add(run)
    session.flush()
    assert run.id is not None
    insert_scores(session.connection(), run.id, pop)
    timings = {**(extra_timings or {}), **pop.timings, "insert": time.perf_counter() - t}
    run.timings = {k: round(v, 3) for k, v in timings.items()}
    run.finished_at = utcnow()
    session.add(run)
    session.flush()
    return run


def score_all(session: Session, actor: Actor, *, as_of: date | None = None, job_id: int | None = None,
              progress: Progress | None = None) -> list[ScoringRun]:
    """Score every entity with the champion (and the challenger in shadow, if any), one risk_score row per
    entity per run. Features are computed once and shared by both; everything is computed before anything
    is written, so the write lock is held only for the bulk inserts."""
    from ml.features import compute_features

    ensure_can_manage_models(actor)
    report = progress or (lambda done, total, message: None)
    champion = _alias_version(session, "champion")
    if champion is None:
        raise Conflict("no model is the champion yet: train one (regwatch train) and promote it", field="alias")
    challenger = _alias_version(session, "challenger")
    as_of = as_of or local_today()
    rules = _enabled_rules(session)
    steps = 3 if challenger is None else 4
    report(0, steps, f"features as of {as_of}")
    matrix = compute_features(session.connection(), as_of)
    feature_timings = {f"features_{k}": v for k, v in matrix.timings.items()}
    scored = []
    for i, (version, role) in enumerate([(champion, "champion"), (challenger, "challenger")], start=1):
        if version is not None:
            report(i, steps, f"scoring {len(matrix)} entities with version {version.version} ({role})")
            scored.append(_score(version, role, matrix, rules))
    report(steps - 1, steps, "saving scores")
    runs = [_store(session, s, as_of, job_id=job_id, extra_timings=feature_timings) for s in scored]
    record_audit(session, actor, "risk.score", "scoring_run", runs[0].id,
                 {"as_of": as_of.isoformat(), "entities": len(matrix),
                  "runs": {r.role: {"id": r.id, "version_id": r.version_id, "levels": r.level_counts} for r in runs}})
    return runs


def score_entity(session: Session, actor: Actor, entity_id: int, *, as_of: date | None = None) -> RiskScore:
    """Score one entity now with the champion, exact contributions, stored as its own on-demand run."""
    from ml.features import compute_features

    ensure_can_manage_models(actor)
    if session.get(Entity, entity_id) is None:
        raise NotFound(f"entity {entity_id} does not exist", field="entityId")
    champion = _alias_version(session, "champion")
    if champion is None:
        raise Conflict("no model is the champion yet: train one and promote it", field="alias")
    as_of = as_of or local_today()
    matrix = compute_features(session.connection(), as_of, entity_ids=[entity_id])
    if len(matrix) == 0:
        raise InvalidInput(f"entity {entity_id} was founded after {as_of}", field="asOf", code="not_yet_founded")
    run = _store(session, _score(champion, "on_demand", matrix, _enabled_rules(session), approx=False), as_of,
                 job_id=None)
    score = session.exec(select(RiskScore).where(RiskScore.run_id == run.id)).one()
    if score.contributions is None:  # below blue: explain anyway, a single row costs nothing
        from ml.explain import top_contributions

        score.contributions = top_contributions(_booster(champion),
                                                matrix.select(champion.features), champion.features, approx=False)[0]
        session.add(score)
        session.flush()
    return score


# ---------------------------------------------------------------------------------------------- backtest

def check_backtest(session: Session, actor: Actor, version_id: int, *, as_of: date,
                   window_days: int | None = None) -> tuple[ModelVersion, int, date]:
    """Refuse a backtest that cannot run (who, which version, window, date) before any work starts."""
    from ml.training import latest_data_date

    ensure_can_manage_models(actor)
    version = _version(session, version_id)
    _usable(version)
    window = version.label_window_days if window_days is None else window_days
    if window < 1:
        raise InvalidInput("the outcome window must be at least one day", field="windowDays", code="out_of_range")
    latest = latest_data_date(session.connection())
    if latest is None or as_of >= latest:
        raise InvalidInput(f"backtest date {as_of} must be before the latest data ({latest}): the outcomes after "
                           "it must already be known", field="asOf", code="not_in_past")
    return version, window, latest


def backtest_model_version(session: Session, actor: Actor, version_id: int, *, as_of: date,
                           window_days: int | None = None, job_id: int | None = None) -> ScoringRun:
    """回测: score a past date with this version (its thresholds and the enabled rules), then count per level
    how many entities had a confirmed outcome (penalty or failed inspection; later also warning feedback) in
    the window after it. Stored as a scoring run with role "backtest": `level_counts` is
    {level: {entities, outcomes, rate}} (level "none" below blue) and `drift` holds the window's summary
    (window_days, window_complete, outcomes, roc_auc, pr_auc). No risk_score rows are written."""
    from ml.features import compute_features
    from ml.labels import compute_labels
    from ml.scoring import LEVEL_RANK, score_population
    from ml.training import evaluate_predictions

    version, window, latest = check_backtest(session, actor, version_id, as_of=as_of, window_days=window_days)
    conn = session.connection()
    started = utcnow()
    matrix = compute_features(conn, as_of)
    pop = score_population(_booster(version), version.features, version.thresholds, matrix,
                           _enabled_rules(session), explain=False)
    labels = compute_labels(conn, as_of, window, matrix.entity_ids)
    counts: dict[str, Any] = {}
    for level in (*LEVELS, None):
        mask = pop.ranks == LEVEL_RANK[level]
        n, hit = int(mask.sum()), int(labels.y[mask].sum())
        counts[level or "none"] = {"entities": n, "outcomes": hit, "rate": round(hit / n, 4) if n else None}
    summary: dict[str, Any] = {"window_days": window, "window_complete": (latest - as_of).days >= window,
                               "outcomes": int(labels.y.sum())}
    if len(labels.y) and 0 < labels.y.sum() < len(labels.y):
        m = evaluate_predictions(labels.y, pop.scores, curves=False)
        summary.update(roc_auc=round(m["roc_auc"], 4), pr_auc=round(m["pr_auc"], 4))
    run = ScoringRun(version_id=version.id, role="backtest", as_of=as_of, status="succeeded", entities=len(matrix),
                     level_counts=counts, drift=summary, timings={k: round(v, 3) for k, v in pop.timings.items()},
                     job_id=job_id, started_at=started, finished_at=utcnow())
    session.add(run)
    session.flush()
    record_audit(session, actor, "model.backtest", "model_version", version.id,
                 {"as_of": as_of.isoformat(), "window_days": window, "run_id": run.id})
    return run
