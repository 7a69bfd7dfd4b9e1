"""GraphQL types for supervision data (监管数据): entities, items, actions, complaints, credit records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import FieldNode, IntValueNode, NullValueNode, StringValueNode, VariableNode
from strawberry.dataloader import DataLoader

from api.context import Info
from api.nodes import node as make_node
from api.pagination import (
    Connection,
    build_connection,
    decode_cursor,
    node_asks,
    selects_field,
)
from api.risk.types import RiskScoreType
from domain.errors import InvalidInput
from domain.pagination import Page, PageRequest
from domain.supervision import service
from domain.supervision.models import Complaint, CreditRecord, Entity, SupervisionItem

__all__ = [
    "ComplaintType",
    "CreditRecordType",
    "EntityNode",
    "SupervisionActionType",
    "SupervisionItemType",
]

NESTED_MAX = 100


@strawberry.type(name="SupervisionItem", description="A catalogue entry (监管事项).")
class SupervisionItemType:
    code: str = strawberry.field(description="Item code (监管事项编码).")
    name: str = strawberry.field(description="Name (事项名称).")
    kind: str = strawberry.field(description="inspection / penalty / coercion / other (检查/行政处罚/行政强制/其他).")
    department_code: str = strawberry.field(description="Owning department (实施部门编码).")
    department_name: str = strawberry.field(description="Owning department (实施部门).")
    legal_basis: str = strawberry.field(description="Legal basis (设定依据).")
    active: bool
    action_count: int = strawberry.field(description="Actions recorded under this item (监管行为数).")

    @classmethod
    def build(cls, row: service.ItemRow) -> SupervisionItemType:
        item: SupervisionItem = row.item
        return cls(code=item.code, name=item.name, kind=item.kind, department_code=row.department_code,
                   department_name=row.department_name, legal_basis=item.legal_basis, active=item.active,
                   action_count=row.action_count)


@strawberry.type(name="SupervisionAction", description="One supervision action (监管行为).")
class SupervisionActionType:
    id: strawberry.ID
    source_code: str = strawberry.field(description="Data source that sent it (数据源).")
    external_id: str = strawberry.field(description="Id in the source system (外部编号).")
    kind: str = strawberry.field(description="inspection / penalty / coercion / other (行为类别).")
    item_code: str | None = strawberry.field(description="Supervision item (监管事项编码).")
    item_name: str | None
    department_code: str = strawberry.field(description="Acting department (实施部门编码).")
    department_name: str
    uscc: str = strawberry.field(description="Entity's unified social credit code (统一社会信用代码).")
    entity_name: str
    started_on: date = strawberry.field(description="Start / inspection date (开始日期).")
    decided_on: date | None = strawberry.field(description="Decision or closing date (决定日期).")
    result: str | None = strawberry.field(description="Inspection result pass / fail / rectify (结果).")
    penalty_amount: Decimal | None = strawberry.field(description="Fines and confiscations in yuan (罚没金额).")
    document_number: str | None = strawberry.field(description="Document number (文书编号).")
    officers: str | None = strawberry.field(description="Officers (执法人员).")
    trigger: str | None = strawberry.field(
        description="How the inspection was triggered (检查方式): random (双随机抽查) / complaint / clue / routine / "
                    "campaign (专项); null if unknown.")
    updated_at: datetime

    @classmethod
    def build(cls, row: service.ActionRow) -> SupervisionActionType:
        a = row.action
        return make_node(cls, {"id": str(a.id), "source_code": row.source_code, "external_id": a.external_id,
                          "kind": a.kind, "item_code": row.item_code, "item_name": row.item_name,
                          "department_code": row.department_code, "department_name": row.department_name,
                          "uscc": row.entity_uscc, "entity_name": row.entity_name, "started_on": a.started_on,
                          "decided_on": a.decided_on, "result": a.result, "penalty_amount": a.penalty_amount,
                          "document_number": a.document_number, "officers": a.officers, "trigger": a.trigger,
                          "updated_at": a.updated_at})


@strawberry.type(name="Complaint", description="A complaint about an entity (投诉举报).")
class ComplaintType:
    id: strawberry.ID
    external_id: str
    received_on: date = strawberry.field(description="Received (受理日期).")
    channel: str = strawberry.field(description="12345 / 12315 / letter / visit / online (渠道).")
    category: str = strawberry.field(description="Category (投诉类别).")
    responded_on: date | None = strawberry.field(description="Answered (答复日期).")
    outcome: str | None = strawberry.field(description="Outcome (处理结果).")

    @classmethod
    def build(cls, c: Complaint) -> ComplaintType:
        return cls(id=strawberry.ID(str(c.id)), external_id=c.external_id, received_on=c.received_on,
                   channel=c.channel, category=c.category, responded_on=c.responded_on, outcome=c.outcome)


@strawberry.type(name="CreditRecord", description="A credit record (信用记录).")
class CreditRecordType:
    id: strawberry.ID
    external_id: str
    kind: str = strawberry.field(
        description="abnormal_operation / serious_violation / commendation (经营异常名录/严重违法失信名单/守信激励).")
    listed_on: date = strawberry.field(description="Listed (列入日期).")
    removed_on: date | None = strawberry.field(description="Removed (移出日期).")
    authority: str | None = strawberry.field(description="Deciding authority (作出决定机关).")
    reason: str | None

    @classmethod
    def build(cls, r: CreditRecord) -> CreditRecordType:
        return cls(id=strawberry.ID(str(r.id)), external_id=r.external_id, kind=r.kind, listed_on=r.listed_on,
                   removed_on=r.removed_on, authority=r.authority, reason=r.reason)


def _window_args(first: int | None, after: str | None) -> tuple[int, int]:
    PageRequest(first=first).validate(NESTED_MAX)
    offset = decode_cursor(after, "after")
    if offset is not None and not isinstance(offset, int):
        raise InvalidInput("after 不是这个列表的游标", field="after", code="bad_cursor")
    return (0 if offset is None else offset + 1), (20 if first is None else first)


def _window(info: Info, first: int | None, after: str | None) -> tuple[int, int, bool]:
    """(offset, limit, count?) of a nested window: offset cursors (a few rows per entity), the total only when
    `totalCount` is selected."""
    offset, limit = _window_args(first, after)
    return offset, limit, selects_field(info, "totalCount")


# schema field -> (loader name, domain function) of an entity's nested windows
NESTED_WINDOWS = {"actions": ("entity.actions", service.actions_for_entities),
                  "complaints": ("entity.complaints", service.complaints_for_entities),
                  "creditRecords": ("entity.credit", service.credit_for_entities)}


def nested_windows(info: Info) -> dict[str, tuple[int, int, bool]]:
    """The nested windows the current `entity` field selects directly: field -> the loader key's (offset, limit + 1,
    count), exactly as `_nested` will ask, so they can be read with the entity and primed into the loaders.

    Read from graphql-core's nodes (Strawberry's `info.selected_fields` converts the whole selection below the
    field on every call): fields selected directly (not through fragments, which are left to the nested
    resolvers), their `first`/`after` literals or variables."""
    raw = info._raw_info
    # a dict at run time (graphql-core's annotation says VariableValues, whose `coerced` is that dict)
    variables: dict[str, Any] = getattr(raw.variable_values, "coerced", raw.variable_values)  # type: ignore[arg-type]
    out: dict[str, tuple[int, int, bool]] = {}
    for node in raw.field_nodes:
        for sel in node.selection_set.selections if node.selection_set else ():
            if not isinstance(sel, FieldNode):
                continue
            name = sel.name.value
            if name not in NESTED_WINDOWS or name in out:
                continue
            values = {arg.name.value: _argument(arg.value, variables) for arg in sel.arguments or ()}
            first, after = values.get("first"), values.get("after")
            if first is _ODD or after is _ODD:
                continue  # anything odd is left to the nested resolver (and its errors)
            try:
                first = None if first is None else int(first)
                offset, limit = _window_args(first, None if after is None else str(after))
            except (TypeError, ValueError, InvalidInput):
                continue
            out[name] = (offset, limit + 1, node_asks(sel.selection_set, "totalCount", raw.fragments))
    return out


_ODD = object()


def _argument(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, IntValueNode | StringValueNode):
        return value.value
    if isinstance(value, NullValueNode):
        return None
    if isinstance(value, VariableNode):
        return variables.get(value.name.value)
    return _ODD


def prime_nested(info: Info, entity_id: int, found: dict[str, tuple[list, int]],
                 windows: dict[str, tuple[int, int, bool]]) -> None:
    """The windows read with the entity, for `_nested` to answer at once (no loader, no await)."""
    primed = info.context.primed
    for name, result in found.items():
        primed[(NESTED_WINDOWS[name][0], entity_id, *windows[name])] = result


def _connection(rows: list, total: int, offset: int, limit: int, build) -> Connection:
    """`rows` holds up to limit + 1 rows: the extra one only says there is a next page."""
    page = Page(items=rows[:limit], total=total, offset=offset, has_next=len(rows) > limit,
                has_previous=offset > 0)
    return build_connection(page, build)


def _nested(info: Info, name: str, fn, entity_id: int, first: int | None, after: str | None, build) -> Any:
    """A nested window's connection: at once when it was read with the entity (`prime_nested`), else an awaitable
    of it through the relation's loader (one batch per window for every entity of a list)."""
    offset, limit, count = _window(info, first, after)
    key = (entity_id, offset, limit + 1, count)
    found = info.context.primed.get((name, *key))
    if found is not None:
        return _connection(found[0], found[1], offset, limit, build)
    return _loaded(info, name, fn, key, offset, limit, build)


async def _loaded(info: Info, name: str, fn, key: tuple[int, int, int, bool], offset: int, limit: int,
                  build) -> Connection:
    rows, total = await _loader(info, name, fn).load(key)
    return _connection(rows, total, offset, limit, build)


def _loader(info: Info, name: str, fn):
    """One DataLoader per relation and window: keys are (entity id, offset, limit, count), one batch per window."""
    ctx = info.context

    async def load(keys: list[tuple[int, int, int, bool]]) -> list[tuple[list, int]]:
        results: dict[tuple[int, int, int, bool], tuple[list, int]] = {}
        windows = {key[1:] for key in keys}
        for offset, limit, count in windows:
            ids = [key[0] for key in keys if key[1:] == (offset, limit, count)]
            found = await ctx.read(fn, ctx.actor, ids, offset=offset, limit=limit, count=count)
            for eid in ids:
                results[(eid, offset, limit, count)] = found.get(eid, ([], 0))
        return [results[key] for key in keys]

    return ctx.loader(name, lambda: DataLoader(load_fn=load))


@strawberry.type(name="Entity", description="A supervised market entity (监管对象).")
class EntityNode:
    id: strawberry.ID
    uscc: str = strawberry.field(description="Unified social credit code (统一社会信用代码).")
    name: str = strawberry.field(description="Name (名称).")
    entity_type: str = strawberry.field(description="enterprise / individual / cooperative / other (主体类型).")
    industry_code: str | None = strawberry.field(description="GB/T 4754-2017 code (行业代码).")
    region_code: str | None = strawberry.field(description="GB/T 2260 code (行政区划代码).")
    registered_capital: Decimal | None = strawberry.field(description="In 10,000 yuan (注册资本，万元).")
    founded_on: date | None = strawberry.field(description="Founding date (成立日期).")
    status: str = strawberry.field(description="active / suspended / revoked / cancelled (登记状态).")
    industry_class_code: str | None = strawberry.field(description="GB/T 4754-2017 four-digit class, where the "
                                                                   "source gave one (行业小类).")
    status_changed_on: date | None = strawberry.field(description="When the status took effect (状态变更日期).")
    deregistered_on: date | None = strawberry.field(description="When it left the register: the earliest 吊销/注销 "
                                                               "date; null while registered (注销/吊销日期).")
    updated_at: datetime

    @classmethod
    def build(cls, e: Entity) -> EntityNode:
        return make_node(cls, {"id": str(e.id), "uscc": e.uscc, "name": e.name, "entity_type": e.entity_type,
                          "industry_code": e.industry_code, "region_code": e.region_code,
                          "registered_capital": e.registered_capital, "founded_on": e.founded_on,
                          "status": e.status, "industry_class_code": e.industry_class_code,
                          "status_changed_on": e.status_changed_on, "deregistered_on": e.deregistered_on,
                          "updated_at": e.updated_at})

    @strawberry.field(description="Its latest risk score from the champion (or scored on demand), null before any "
                                  "(当前风险评分).")
    async def risk_score(self, info: Info) -> RiskScoreType | None:
        from api.warnings.types import entity_risk_score

        return await entity_risk_score(info, int(self.id))

    @strawberry.field(description="Its risk scores over past runs, newest first (历次风险评分).")
    async def risk_scores(self, info: Info, first: int = 10) -> list[RiskScoreType]:
        from api.warnings.types import entity_risk_scores

        return await entity_risk_scores(info, int(self.id), first)

    @strawberry.field(description="Its supervision actions, newest first (监管行为).")
    def actions(self, info: Info, first: int | None = None,
                      after: str | None = None) -> Connection[SupervisionActionType]:
        return _nested(info, "entity.actions", service.actions_for_entities, int(self.id), first, after,
                             SupervisionActionType.build)

    @strawberry.field(description="Complaints about it, newest first (投诉举报).")
    def complaints(self, info: Info, first: int | None = None,
                         after: str | None = None) -> Connection[ComplaintType]:
        return _nested(info, "entity.complaints", service.complaints_for_entities, int(self.id), first,
                             after, ComplaintType.build)

    @strawberry.field(description="Its credit records, newest first (信用记录).")
    def credit_records(self, info: Info, first: int | None = None,
                             after: str | None = None) -> Connection[CreditRecordType]:
        return _nested(info, "entity.credit", service.credit_for_entities, int(self.id), first, after,
                             CreditRecordType.build)
