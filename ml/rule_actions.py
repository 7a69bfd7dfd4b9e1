"""Warning rules (预警规则): save a rule with its revision history, try one out (试运行) without saving.

One function per business action (sync `Session`, `Actor`): permission from the policy table, an audit row in
the same transaction, never a commit. The CEL engine itself is `ml.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.errors import FieldError, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.risk.levels import LEVEL_LABELS, LEVELS
from domain.risk.models import RiskRule, RiskRuleRevision
from domain.risk.queries import ensure_can_manage_models
from domain.supervision.models import Entity
from domain.types import local_today, utcnow
from ml.features import compute_features
from ml.rules import compile_rule, match_rule
from ml.scoring import RuleSpec

__all__ = ["RuleTryResult", "enabled_rules", "save_risk_rule", "try_risk_rule"]


def save_risk_rule(session: Session, actor: Actor, *, code: str, name: str, expression: str, min_level: str,
                   description: str = "", enabled: bool = False, rule_id: int | None = None) -> RiskRule:
    """Create a rule, or save a new revision of `rule_id`. The expression is checked first (syntax, unknown
    features, types); all problems with the input come back together as field errors."""
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
        errors.append(FieldError("min_level", "unknown_level",
                                 f"未知等级“{min_level}”，等级为 " + "、".join(LEVEL_LABELS[lv] for lv in LEVELS)))
    try:
        compiled = compile_rule(expression)
    except InvalidInput as exc:
        errors.extend(exc.errors)
        compiled = None
    if code and not errors:
        clash = session.exec(select(RiskRule).where(col(RiskRule.code) == code)).first()
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
            raise NotFound(f"预警规则 {rule_id} 不存在", field="id")
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
    assert rule.id is not None  # flushed above
    session.add(RiskRuleRevision(rule_id=rule.id, revision=rule.revision, expression=rule.expression,
                                 min_level=rule.min_level, enabled=rule.enabled, saved_by_name=actor.username,
                                 saved_at=now))
    record_audit(session, actor, "rule.save", "risk_rule", rule.id, {"revision": rule.revision, **changes})
    session.flush()
    return rule


@dataclass(frozen=True)
class RuleTryResult:
    """试运行: how many entities a rule matches on current data, and a sample of them."""

    expression: str
    as_of: date
    entities: int
    matched: int
    sample: list[dict[str, Any]]  # {entity_id, uscc, name, features: {name: value}}


def try_risk_rule(session: Session, actor: Actor, expression: str, *, as_of: date | None = None,
                   sample_size: int = 10) -> RuleTryResult:
    """试运行: try an expression against every entity's features as of `as_of` (default today) without saving it."""
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
    return RuleTryResult(compiled.expression, as_of, len(matrix), int(mask.sum()), sample)


def enabled_rules(session: Session) -> list[Any]:
    """The enabled rules, compiled, in code order: what scoring and backtests apply."""
    rules = session.exec(select(RiskRule).where(col(RiskRule.enabled).is_(True)).order_by(col(RiskRule.code))).all()
    return [RuleSpec(r.code, r.min_level, compile_rule(r.expression)) for r in rules]
