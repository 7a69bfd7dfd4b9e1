"""The records behind the behaviour analysis' findings: actions missing traces, penalties without follow-up,
catalogue items never exercised, and the collected actions the analysis left out with their reasons.

Each list is chosen on the base table (filters, order by id, limit/offset); the rows shown are then joined to
their department, item and entity for that page only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.util import AliasedClass
from sqlmodel import Session, col

from domain.analysis.behaviour import (
    A,
    days_between,
    due_for_timeliness,
    plus_days,
    require_analysis_read,
    scoped_departments,
    trace_complete,
    used_condition,
)
from domain.analysis.periods import Period, parse_period
from domain.analysis.rules import (
    EXCLUSION_REASONS,
    FIELD_LABELS,
    FOLLOW_UP_DAYS,
    REQUIRED_FIELDS,
    TIMELINESS_LIMIT_DAYS,
)
from domain.errors import InvalidInput
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.supervision.models import Entity, SupervisionItem
from domain.types import local_today

__all__ = ["FINDING_KINDS", "FindingPage", "FindingRow", "list_findings"]

FINDING_KINDS = {
    "missing_trace": "留痕不全的监管行为",
    "no_follow_up": "处罚后未跟踪检查",
    "never_exercised": "期间内未实施的监管事项",
    "late": "超时办结的监管行为",
    "excluded": "未纳入分析的记录",
}
MAX_LIMIT = 500


@dataclass
class FindingRow:
    kind: str
    department_code: str
    department_name: str
    item_code: str | None = None
    item_name: str | None = None
    action_id: int | None = None
    external_id: str | None = None
    action_kind: str | None = None
    entity_uscc: str | None = None
    entity_name: str | None = None
    started_on: date | None = None
    decided_on: date | None = None
    detail: str = ""
    missing: list[str] = field(default_factory=list)


@dataclass
class FindingPage:
    kind: str
    label: str
    period: Period
    rows: list[FindingRow]
    total: int
    offset: int
    limit: int


def _missing_fields(values: dict[str, Any], kind: str) -> list[str]:
    out = []
    for name in REQUIRED_FIELDS.get(kind, ()):
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append(name)
    return out


def list_findings(session: Session, actor: Actor, period: str | Period, kind: str, department_code: str | None = None,
                  *, limit: int = 50, offset: int = 0, as_of: date | None = None) -> FindingPage:
    require_analysis_read(actor)
    if kind not in FINDING_KINDS:
        raise InvalidInput(f"发现类别“{kind}”无效，可选：{'、'.join(f'{k}（{v}）' for k, v in FINDING_KINDS.items())}",
                           field="kind", code="bad_kind")
    if offset < 0:
        raise InvalidInput(f"起始位置不能为负数，收到 {offset}", field="offset", code="out_of_range")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"每页条数须在 1–{MAX_LIMIT} 之间，收到 {limit}", field="limit", code="out_of_range")
    period = parse_period(period)
    as_of = as_of or local_today()
    ids = [d.id for d in scoped_departments(session, actor, department_code)]
    if kind == "never_exercised":
        return _never_exercised(session, period, ids, limit, offset)
    in_period = [col(A.started_on) >= period.start, col(A.started_on) < period.end, col(A.department_id).in_(ids)]
    if kind == "missing_trace":
        where = [*in_period, used_condition(), ~trace_complete()]
    elif kind == "late":
        span = days_between(session, col(A.decided_on), col(A.started_on))
        where = [*in_period, used_condition(), sa.or_(*[
            sa.and_(col(A.kind) == k, due_for_timeliness(session, k, as_of),
                    sa.or_(col(A.decided_on).is_(None), span > TIMELINESS_LIMIT_DAYS[k]))
            for k in ("inspection", "penalty")])]
    elif kind == "excluded":
        where = [*in_period, ~used_condition()]
    else:  # no_follow_up
        f = AliasedClass(A)
        window_end = plus_days(session, col(A.decided_on), FOLLOW_UP_DAYS)
        followed = sa.exists().where(f.entity_id == A.entity_id, f.department_id == A.department_id,
                                     f.kind == "inspection", f.started_on > A.decided_on, f.started_on <= window_end)
        where = [*in_period, col(A.kind) == "penalty", used_condition(), col(A.decided_on).is_not(None),
                 window_end <= as_of, ~followed]
    total = int(session.execute(sa.select(sa.func.count()).select_from(A).where(*where)).scalar_one())
    page_ids = list(session.scalars(sa.select(col(A.id)).where(*where).order_by(col(A.id)).limit(limit).offset(offset)))
    item = AliasedClass(SupervisionItem)
    rows = session.execute(
        sa.select(A, col(Department.code), col(Department.name), item.code, item.name, col(Entity.uscc),
                  col(Entity.name))
        .join(Department, col(Department.id) == A.department_id).join(Entity, col(Entity.id) == A.entity_id)
        .outerjoin(item, item.id == A.item_id).where(col(A.id).in_(page_ids)).order_by(col(A.id))
    ).all() if page_ids else []
    out = []
    for action, dcode, dname, icode, iname, uscc, ename in rows:
        row = FindingRow(kind=kind, department_code=dcode, department_name=dname, item_code=icode, item_name=iname,
                         action_id=action.id, external_id=action.external_id, action_kind=action.kind,
                         entity_uscc=uscc, entity_name=ename, started_on=action.started_on,
                         decided_on=action.decided_on)
        if kind == "missing_trace":
            row.missing = _missing_fields(action.model_dump(), action.kind)
            row.detail = "缺少：" + "、".join(FIELD_LABELS[m] for m in row.missing)
        elif kind == "excluded":
            reason = "no_item" if action.item_id is None else "date_order"
            row.missing = [reason]
            row.detail = EXCLUSION_REASONS[reason]
        elif kind == "late":
            limit_days = TIMELINESS_LIMIT_DAYS[action.kind]
            if action.decided_on is None:
                row.detail = f"尚未办结（时限 {limit_days} 天）"
            else:
                row.detail = f"用时 {(action.decided_on - action.started_on).days} 天，超过时限 {limit_days} 天"
        else:
            row.detail = f"处罚决定后 {FOLLOW_UP_DAYS} 天内未对该对象开展跟踪检查"
        out.append(row)
    return FindingPage(kind=kind, label=FINDING_KINDS[kind], period=period, rows=out, total=total, offset=offset,
                       limit=limit)


def _never_exercised(session: Session, period: Period, ids: list[Any], limit: int, offset: int) -> FindingPage:
    item = SupervisionItem
    exercised = sa.exists().where(col(A.item_id) == item.id, col(A.department_id) == item.department_id,
                                  col(A.started_on) >= period.start, col(A.started_on) < period.end)
    where = [col(item.active), col(item.department_id).in_(ids), ~exercised]
    total = int(session.execute(sa.select(sa.func.count()).select_from(item).where(*where)).scalar_one())
    rows = session.execute(
        sa.select(col(item.code), col(item.name), col(item.kind), col(Department.code), col(Department.name))
        .join(Department, col(Department.id) == item.department_id).where(*where)
        .order_by(col(Department.code), col(item.code)).limit(limit).offset(offset)).all()
    out = [FindingRow(kind="never_exercised", department_code=dcode, department_name=dname, item_code=code,
                      item_name=name, action_kind=ikind, detail="期间内没有任何监管行为")
           for code, name, ikind, dcode, dname in rows]
    return FindingPage(kind="never_exercised", label=FINDING_KINDS["never_exercised"], period=period, rows=out,
                       total=total, offset=offset, limit=limit)

