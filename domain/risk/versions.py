"""The model-version lifecycle (模型版本管理): aliases with their history, level thresholds.

One function per business action (sync `Session`, `Actor`): permission from the policy table
(`domain.risk.queries.ensure_can_manage_models`), an audit row in the same transaction, never a commit.
None of this needs the ML engine: training, scoring, backtests and rules live in `ml/`.
"""

from __future__ import annotations

import itertools
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.errors import Conflict, FieldError, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.risk.levels import LEVEL_LABELS, LEVELS
from domain.risk.models import MODEL_ALIASES, ModelAlias, ModelAliasHistory, ModelVersion
from domain.risk.queries import DEFAULT_MODEL, ensure_can_manage_models, ensure_can_read_models
from domain.types import utcnow

__all__ = [
    "ALIAS_LABELS",
    "REASON_MAX",
    "alias_version",
    "champion_version",
    "demote_alias",
    "ensure_usable",
    "promote_model_version",
    "rollback_model",
    "rollback_target",
    "set_level_thresholds",
    "validate_thresholds",
    "version_row",
]

ALIAS_LABELS = {"champion": "冠军模型", "challenger": "挑战者模型"}
REASON_MAX = 500


def version_row(session: Session, version_id: int) -> ModelVersion:
    """The version row (artifact deferred until asked for), or NotFound naming the field."""
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise NotFound(f"模型版本 {version_id} 不存在", field="version_id")
    return version


def alias_version(session: Session, alias: str, model_name: str = DEFAULT_MODEL) -> ModelVersion | None:
    """The version holding `alias` now, or None."""
    return session.exec(select(ModelVersion).join(ModelAlias, col(ModelAlias.version_id) == ModelVersion.id)
                        .where(col(ModelAlias.model_name) == model_name, col(ModelAlias.alias) == alias)).first()


def champion_version(session: Session, actor: Actor, *, model_name: str = DEFAULT_MODEL) -> ModelVersion | None:
    """The version that scores and drives warnings now (冠军模型), or None before the first promotion."""
    ensure_can_read_models(actor)
    return alias_version(session, "champion", model_name)


def _check_alias(alias: str) -> None:
    if alias not in MODEL_ALIASES:
        raise InvalidInput(f"未知别名“{alias}”，可选：" + "、".join(f"{a}（{ALIAS_LABELS[a]}）" for a in MODEL_ALIASES),
                           field="alias", code="unknown_alias")


def _reason(reason: str, *, required: bool) -> str:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput("请填写原因：它记入别名历史，日后可查为何更换模型", field="reason", code="required")
    if len(text) > REASON_MAX:
        raise InvalidInput(f"原因至多 {REASON_MAX} 字，现有 {len(text)} 字", field="reason", code="too_long")
    return text


def _has_artifact(session: Session, version: ModelVersion) -> bool:
    """Whether the stored booster exists, read with its own statement (readers defer the artifact)."""
    length = session.execute(sa.select(sa.func.length(col(ModelVersion.artifact)))
                             .where(col(ModelVersion.id) == version.id)).scalar()
    return bool(length)


def ensure_usable(session: Session, version: ModelVersion) -> None:
    """A version that can score: trained successfully, with its stored model."""
    if version.status != "ready" or not _has_artifact(session, version):
        raise Conflict(f"模型版本 v{version.version} 状态为 {version.status}，没有可用的模型文件", field="version_id")


def _close_period(session: Session, model_name: str, alias: str, *, at: Any = None, **values: Any) -> None:
    """End the open history period of `alias` at `at` (now), so the next period starts where it ends."""
    session.execute(sa.update(ModelAliasHistory).where(
        col(ModelAliasHistory.model_name) == model_name, col(ModelAliasHistory.alias) == alias,
        col(ModelAliasHistory.valid_to).is_(None)).values(valid_to=at or utcnow(), **values))


def _assign_alias(session: Session, actor: Actor, model_name: str, alias: str, version: ModelVersion,
                  action: str, reason: str) -> ModelAlias:
    """Point `alias` at `version`, closing the previous holder's history period and opening a new one."""
    now = utcnow()
    current = session.get(ModelAlias, (model_name, alias))
    _close_period(session, model_name, alias, at=now)
    assert version.id is not None
    if current is None:
        current = ModelAlias(model_name=model_name, alias=alias, version_id=version.id, set_at=now,
                             set_by_name=actor.username)
        session.add(current)
    else:
        current.version_id = version.id
        current.set_at = now
        current.set_by_name = actor.username
    session.add(ModelAliasHistory(model_name=model_name, alias=alias, version_id=version.id, valid_from=now,
                                  set_by_name=actor.username, action=action, reason=reason))
    session.flush()
    return current


def promote_model_version(session: Session, actor: Actor, version_id: int, *, alias: str = "champion",
                          reason: str) -> ModelAlias:
    """Give `alias` to a version (启用), with the reason kept in the alias history (required). Promoting the
    challenger to champion also ends its challenger period."""
    ensure_can_manage_models(actor)
    _check_alias(alias)
    text = _reason(reason, required=True)
    version = version_row(session, version_id)
    ensure_usable(session, version)
    current = session.get(ModelAlias, (version.model_name, alias))
    if current is not None and current.version_id == version.id:
        raise Conflict(f"版本 v{version.version} 已是{ALIAS_LABELS[alias]}", field="version_id")
    previous = current.version_id if current else None
    for other in MODEL_ALIASES:
        held = session.get(ModelAlias, (version.model_name, other))
        if other != alias and held is not None and held.version_id == version.id:
            _release_alias(session, version.model_name, other)
    result = _assign_alias(session, actor, version.model_name, alias, version, "promote", text)
    record_audit(session, actor, "model.promote", "model_version", version.id,
                 {"alias": alias, "version_id": [previous, version.id], "reason": text})
    return result


def _release_alias(session: Session, model_name: str, alias: str) -> None:
    _close_period(session, model_name, alias)
    session.execute(sa.delete(ModelAlias).where(col(ModelAlias.model_name) == model_name,
                                                col(ModelAlias.alias) == alias))


def demote_alias(session: Session, actor: Actor, alias: str = "challenger", *, reason: str = "",
                 model_name: str = DEFAULT_MODEL) -> None:
    """Take an alias away (停用). The champion cannot be left empty: promote or roll back instead."""
    ensure_can_manage_models(actor)
    _check_alias(alias)
    text = _reason(reason, required=False)
    if alias == "champion":
        raise Conflict("冠军模型不能撤下，只能替换：请启用另一个版本或回滚", field="alias")
    current = session.get(ModelAlias, (model_name, alias))
    if current is None:
        raise NotFound(f"当前没有{ALIAS_LABELS[alias]}", field="alias")
    version_id = current.version_id
    if text:
        _close_period(session, model_name, alias, action="demote", reason=text)
    else:
        _close_period(session, model_name, alias, action="demote")
    session.execute(sa.delete(ModelAlias).where(col(ModelAlias.model_name) == model_name,
                                                col(ModelAlias.alias) == alias))
    record_audit(session, actor, "model.demote", "model_version", version_id, {"alias": alias, "reason": text})


def rollback_target(session: Session, actor: Actor, *, alias: str = "champion",
                    model_name: str = DEFAULT_MODEL) -> ModelVersion | None:
    """The version a rollback of `alias` would restore (the previous holder, if it can still score), or None:
    the pages offer 回滚 only when this is not None."""
    ensure_can_read_models(actor)
    current = session.get(ModelAlias, (model_name, alias))
    if current is None:
        return None
    earlier = session.exec(select(ModelAliasHistory).where(
        col(ModelAliasHistory.model_name) == model_name, col(ModelAliasHistory.alias) == alias,
        col(ModelAliasHistory.version_id) != current.version_id, col(ModelAliasHistory.valid_to).is_not(None))
        .order_by(col(ModelAliasHistory.valid_to).desc(), col(ModelAliasHistory.id).desc())).first()
    if earlier is None:
        return None
    target = session.get(ModelVersion, earlier.version_id)
    if target is None or target.status != "ready" or not _has_artifact(session, target):
        return None
    return target


def rollback_model(session: Session, actor: Actor, *, alias: str = "champion", reason: str = "",
                   model_name: str = DEFAULT_MODEL) -> ModelAlias:
    """Give `alias` back to the version that held it before the current one (回滚)."""
    ensure_can_manage_models(actor)
    _check_alias(alias)
    text = _reason(reason, required=False)
    current = session.get(ModelAlias, (model_name, alias))
    if current is None:
        raise Conflict(f"当前没有{ALIAS_LABELS[alias]}，无可回滚", field="alias")
    target = rollback_target(session, actor, alias=alias, model_name=model_name)
    if target is None:
        raise Conflict(f"此前没有其他可用版本担任过{ALIAS_LABELS[alias]}，无可回滚", field="alias")
    previous = current.version_id
    result = _assign_alias(session, actor, model_name, alias, target, "rollback", text)
    record_audit(session, actor, "model.rollback", "model_version", target.id,
                 {"alias": alias, "version_id": [previous, target.id], "reason": text})
    return result


def validate_thresholds(thresholds: dict[str, Any]) -> dict[str, float]:
    """Level thresholds: all four levels, each a number in [0, 1], red > orange > yellow > blue."""
    errors: list[FieldError] = []
    clean: dict[str, float] = {}
    for key in thresholds:
        if key not in LEVELS:
            errors.append(FieldError(f"thresholds.{key}", "unknown_level",
                                     f"未知等级“{key}”，等级为 " + "、".join(LEVEL_LABELS[lv] for lv in LEVELS)))
    for level in LEVELS:
        raw = thresholds.get(level)
        name = LEVEL_LABELS[level]
        if raw is None or raw == "":
            errors.append(FieldError(f"thresholds.{level}", "required", f"请填写{name}阈值"))
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            errors.append(FieldError(f"thresholds.{level}", "not_a_number", f"{name}阈值“{raw}”不是数字"))
            continue
        if not 0.0 <= value <= 1.0 or value != value:
            errors.append(FieldError(f"thresholds.{level}", "out_of_range", f"{name}阈值 {value} 不在 0–1 之间"))
            continue
        clean[level] = value
    if not errors:
        for higher, lower in itertools.pairwise(LEVELS):
            if clean[higher] <= clean[lower]:
                errors.append(FieldError(f"thresholds.{higher}", "not_ordered",
                                         f"{LEVEL_LABELS[higher]}阈值（{clean[higher]}）须高于{LEVEL_LABELS[lower]}阈值"
                                         f"（{clean[lower]}）"))
    if errors:
        raise InvalidInput(errors[0].message if len(errors) == 1 else f"等级阈值有 {len(errors)} 处问题",
                           field=errors[0].field, code=errors[0].code, errors=errors)
    return clean


def set_level_thresholds(session: Session, actor: Actor, version_id: int, thresholds: dict[str, Any]) -> ModelVersion:
    """Change a version's level thresholds (level → minimum score), validated and audited. Stored scores keep
    the levels they were given: the new thresholds apply from the version's next scoring run."""
    ensure_can_manage_models(actor)
    version = version_row(session, version_id)
    clean = validate_thresholds(thresholds)
    before = dict(version.thresholds)
    version.thresholds = clean
    session.add(version)
    session.flush()
    record_audit(session, actor, "model.thresholds", "model_version", version.id,
                 {level: [before.get(level), clean[level]] for level in LEVELS if before.get(level) != clean[level]})
    return version
