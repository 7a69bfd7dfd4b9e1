"""Routing table (派发规则): which department a warning goes to — by supervision item, else industry code prefix,
else district, else a default department. One SQL expression serves the single warning, the set-based automatic
issue and the preview, so they can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.util import AliasedClass
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.errors import FieldError, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import require
from domain.reference.models import Industry
from domain.supervision.models import Entity, SupervisionItem
from domain.types import utcnow
from domain.warnings.models import OPEN_STATUSES, ROUTING_KINDS, RoutingRule, Warning

__all__ = [
    "Route",
    "RoutingRuleInput",
    "RoutingRuleView",
    "delete_routing_rule",
    "list_routing_rules",
    "preview_routing",
    "route_entity",
    "routing_columns",
    "save_routing_rule",
]

_rule = RoutingRule.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Route:
    department_id: int | None
    rule_id: int | None
    kind: str | None  # which kind of rule matched

    @property
    def found(self) -> bool:
        return self.department_id is not None


def _best(kind: str, condition: Any, *order: Any, column: str) -> sa.ScalarSelect[Any]:
    return (sa.select(_rule.c[column]).where(_rule.c.kind == kind, _rule.c.active.is_(True), condition)
            .order_by(*order, _rule.c.priority, _rule.c.id).limit(1).scalar_subquery())


def _section_of(industry_code: Any) -> Any:
    """The GB/T 4754 section letter of a two-digit division (entities carry the division)."""
    industry = Industry.__table__  # type: ignore[attr-defined]
    # correlated explicitly: nested two levels deep, automatic correlation would not reach the entity
    return (sa.select(industry.c.parent_code).where(industry.c.code == industry_code)
            .scalar_subquery().correlate_except(industry))


def routing_columns(item_id: Any, industry_code: Any, region_code: Any) -> dict[str, Any]:
    """Correlated expressions giving (department_id, routing_rule_id, routing kind) for the row in scope; each
    kind is tried in order, the first that matches wins. The routing table is small: these are index lookups."""
    def pick(column: str) -> Any:
        return sa.func.coalesce(
            _best("item", _rule.c.item_id == item_id, column=column),
            _best("industry", sa.and_(industry_code.is_not(None), sa.or_(
                industry_code.like(_rule.c.industry_prefix + sa.literal("%")),
                _rule.c.industry_prefix == _section_of(industry_code))),
                  sa.func.length(_rule.c.industry_prefix).desc(), column=column),
            _best("district", _rule.c.region_code == region_code, column=column),
            _best("default", sa.true(), column=column),
        )
    return {"department_id": pick("department_id"), "routing_rule_id": pick("id"), "kind": pick("kind")}


def route_entity(session: Session, entity_id: int, item_id: int | None = None) -> Route:
    """Where a warning about this entity (and item, if any) would go now."""
    entity = Entity.__table__  # type: ignore[attr-defined]
    cols = routing_columns(sa.literal(item_id, sa.Integer) if item_id is not None else sa.null(),
                           entity.c.industry_code, entity.c.region_code)
    row = session.execute(sa.select(cols["department_id"], cols["routing_rule_id"], cols["kind"])
                          .where(entity.c.id == entity_id)).first()
    if row is None:
        raise NotFound(f"监管对象 {entity_id} 不存在", field="entity_id")
    return Route(row[0], row[1], row[2])


@dataclass(frozen=True)
class RoutingRuleView:
    rule: RoutingRule
    department_name: str
    item_name: str | None

    @property
    def condition(self) -> str:
        r = self.rule
        if r.kind == "item":
            return f"监管事项：{self.item_name or r.item_id}"
        if r.kind == "industry":
            return f"行业 {r.industry_prefix}（门类字母或代码前缀）"
        if r.kind == "district":
            return f"行政区划 {r.region_code}"
        return "其他全部"


def list_routing_rules(session: Session, actor: Actor) -> list[RoutingRuleView]:
    require(actor, "warnings.work")
    kind_order = sa.case({k: i for i, k in enumerate(ROUTING_KINDS)}, value=RoutingRule.kind)
    rows = session.execute(
        sa.select(RoutingRule, col(Department.name), col(SupervisionItem.name))
        .join(Department, col(Department.id) == RoutingRule.department_id)
        .outerjoin(SupervisionItem, col(SupervisionItem.id) == RoutingRule.item_id)
        .order_by(kind_order, col(RoutingRule.priority), col(RoutingRule.id))).all()
    return [RoutingRuleView(rule, dept, item) for rule, dept, item in rows]


@dataclass
class RoutingRuleInput:
    kind: str
    department_code: str
    item_code: str | None = None
    industry_prefix: str | None = None
    region_code: str | None = None
    priority: int = 100
    active: bool = True
    note: str = ""


def _validated(session: Session, data: RoutingRuleInput) -> dict[str, Any]:
    errors: list[FieldError] = []
    values: dict[str, Any] = {"kind": data.kind, "priority": data.priority, "active": data.active,
                              "note": (data.note or "").strip(), "item_id": None, "industry_prefix": None,
                              "region_code": None}
    if data.kind not in ROUTING_KINDS:
        errors.append(FieldError("kind", "invalid_enum", f"规则类型“{data.kind}”无效，可选："
                                 + "、".join(f"{k}（{v}）" for k, v in ROUTING_KINDS.items())))
    dept = session.exec(select(Department).where(Department.code == (data.department_code or "").strip())).first()
    if dept is None:
        errors.append(FieldError("department_code", "unknown_department",
                                 f"责任部门：代码“{data.department_code}”不存在"))
    elif not dept.active:
        errors.append(FieldError("department_code", "inactive_department", f"责任部门：“{dept.name}”已停用"))
    else:
        values["department_id"] = dept.id
    if data.kind == "item":
        item = session.exec(select(SupervisionItem).where(SupervisionItem.code == (data.item_code or "").strip())
                            ).first()
        if item is None:
            errors.append(FieldError("item_code", "unknown_item", f"监管事项：编码“{data.item_code or ''}”不存在"))
        else:
            values["item_id"] = item.id
    elif data.kind == "industry":
        prefix = (data.industry_prefix or "").strip().upper()
        if not (1 <= len(prefix) <= 4 and prefix.isalnum()):
            errors.append(FieldError("industry_prefix", "invalid_prefix",
                                     f"行业代码前缀：“{prefix}”无效，应为 1–4 位门类字母或代码，如 C、C13"))
        values["industry_prefix"] = prefix
    elif data.kind == "district":
        region = (data.region_code or "").strip()
        if not (len(region) == 6 and region.isdigit()):
            errors.append(FieldError("region_code", "invalid_region",
                                     f"行政区划：“{region}”应为6位数字代码，如 320505"))
        values["region_code"] = region
    if not 0 <= data.priority <= 10_000:
        errors.append(FieldError("priority", "out_of_range", f"优先级 {data.priority} 应在 0–10000 之间"))
    if len(values["note"]) > 200:
        errors.append(FieldError("note", "too_long", "说明超过 200 个字符"))
    if errors:
        raise InvalidInput(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)
    return values


def save_routing_rule(session: Session, actor: Actor, data: RoutingRuleInput,
                      rule_id: int | None = None) -> RoutingRule:
    """Create (no id) or replace a routing rule; analysts edit the table."""
    require(actor, "warnings.work")
    values = _validated(session, data)
    if rule_id is None:
        rule = RoutingRule(**values, updated_by_name=actor.username)
        before: dict[str, Any] = {}
    else:
        found = session.get(RoutingRule, rule_id)
        if found is None:
            raise NotFound(f"派发规则 {rule_id} 不存在", field="id")
        rule = found
        before = {k: getattr(rule, k) for k in values}
        for k, v in values.items():
            setattr(rule, k, v)
        rule.updated_by_name, rule.updated_at = actor.username, utcnow()
    session.add(rule)
    session.flush()
    record_audit(session, actor, "warning.routing.save", "routing_rule", rule.id,
                 {k: [before.get(k), v] for k, v in values.items() if before.get(k) != v})
    return rule


def delete_routing_rule(session: Session, actor: Actor, rule_id: int) -> None:
    require(actor, "warnings.work")
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(f"派发规则 {rule_id} 不存在", field="id")
    used = session.exec(select(sa.func.count()).select_from(Warning).where(Warning.routing_rule_id == rule_id)).one()
    if used:
        # The warnings record which rule chose their department; keep it, switched off.
        rule.active = False
        rule.updated_by_name, rule.updated_at = actor.username, utcnow()
        session.add(rule)
        record_audit(session, actor, "warning.routing.deactivate", "routing_rule", rule_id, {"active": [True, False]})
    else:
        session.delete(rule)
        record_audit(session, actor, "warning.routing.delete", "routing_rule", rule_id, {"kind": rule.kind})
    session.flush()


@dataclass(frozen=True)
class PreviewRow:
    warning_id: int
    code: str
    entity_name: str
    level: str
    current_department: str
    proposed_department: str | None
    proposed_kind: str | None

    @property
    def changes(self) -> bool:
        return self.current_department != (self.proposed_department or "")


def preview_routing(session: Session, actor: Actor, *, sample: int = 20) -> list[PreviewRow]:
    """Where a sample of current open warnings would go under the table as it is now (one statement)."""
    require(actor, "warnings.work")
    entity = Entity.__table__  # type: ignore[attr-defined]
    w = Warning.__table__  # type: ignore[attr-defined]
    cols = routing_columns(sa.null(), entity.c.industry_code, entity.c.region_code)
    current = AliasedClass(Department)
    proposed = AliasedClass(Department)
    page = (sa.select(w.c.id).where(w.c.status.in_(OPEN_STATUSES)).order_by(w.c.created_at.desc(), w.c.id.desc())
            .limit(min(max(sample, 1), 200)).subquery())
    routed = (sa.select(w.c.id, w.c.code, w.c.level, w.c.department_id, entity.c.name.label("entity_name"),
                        cols["department_id"].label("proposed_id"), cols["kind"].label("kind"))
              .join(page, page.c.id == w.c.id).join(entity, entity.c.id == w.c.entity_id).subquery())
    rows = session.execute(
        sa.select(routed.c.id, routed.c.code, routed.c.entity_name, routed.c.level, current.name, proposed.name,
                  routed.c.kind)
        .join(current, current.id == routed.c.department_id)
        .outerjoin(proposed, proposed.id == routed.c.proposed_id)
        .order_by(routed.c.id.desc())).all()
    return [PreviewRow(*row) for row in rows]
