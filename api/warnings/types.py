"""GraphQL types for risk scores (as a list), clues (风险线索) and warnings (风险预警)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from api.context import Info
from api.nodes import node
from api.risk.types import FeatureContributionType
from api.warnings.reasons import reasons_of, warning_reasons
from domain.warnings.clues import ClueRow
from domain.warnings.models import RiskClue, WarningEvent
from domain.warnings.risk_list import RiskRow
from domain.warnings.service import ListedEvent, WarningDetail, WarningRow

if TYPE_CHECKING:
    from api.supervision.types import EntityNode

__all__ = [
    "ClueAttachmentType",
    "RiskClueNode",
    "RiskScoreNode",
    "RiskWarningNode",
    "WarningDepartmentType",
    "WarningEventNode",
]

EntityRef = Annotated["EntityNode", strawberry.lazy("api.supervision.types")]


def _entity_loader(info: Info) -> DataLoader:
    ctx = info.context

    async def load(ids: list[int]) -> list[Any]:
        from domain.pagination import by_id
        from domain.supervision.models import Entity

        found = await ctx.read(lambda s, _a: by_id(s, Entity, ids), ctx.actor)
        return [found.get(i) for i in ids]

    return ctx.loader("warnings.entity", lambda: DataLoader(load_fn=load))


async def _entity(info: Info, entity_id: int | None) -> Any:
    from api.supervision.types import EntityNode

    if entity_id is None:
        return None
    e = await _entity_loader(info).load(entity_id)
    return EntityNode.build(e) if e is not None else None


_ENTITY_CLASS: list[Any] = []  # EntityNode, found on first use


def _entity_class() -> Any:
    if not _ENTITY_CLASS:
        # api.supervision.types imports this module's resolvers: imported here to break the cycle (once: an import
        # statement per row cost ~1 µs)
        from api.supervision.types import EntityNode

        _ENTITY_CLASS.append(EntityNode)
    return _ENTITY_CLASS[0]


def _entity_node(e: Any) -> Any:
    """The nested entity from the columns a list loaded for it (None when not asked)."""
    if e is None:
        return None
    return _entity_class().build(e)


def _contributions(raw: list[Any] | None) -> list[FeatureContributionType]:
    out = []
    for item in raw or []:
        if isinstance(item, list | tuple) and len(item) >= 3 and item[2] is not None:
            out.append(FeatureContributionType(feature=str(item[0]),
                                               value=None if item[1] is None else float(item[1]),
                                               contribution=float(item[2])))
    return out


@strawberry.type(name="RiskScoreItem", description="An entity's score in the champion's latest run, for the risk "
                                                   "list (风险对象): level, reasons in Chinese, open warning.")
class RiskScoreNode:
    id: strawberry.ID
    entity_id: strawberry.ID
    uscc: str = strawberry.field(description="统一社会信用代码.")
    entity_name: str
    score: float
    level: str | None = strawberry.field(description="red / orange / yellow / blue after rules (风险等级).")
    model_level: str | None = strawberry.field(description="Level from the thresholds alone (模型等级).")
    rules_matched: list[str] = strawberry.field(description="Codes of the rules that matched (命中规则).")
    contributions: list[FeatureContributionType] = strawberry.field(description="Top contributions (主要贡献特征).")
    reasons: list[str] = strawberry.field(description="The top reasons in plain Chinese (主要原因).")
    run_id: strawberry.ID
    open_warning_id: strawberry.ID | None = strawberry.field(description="The entity's open warning (未办结预警).")
    open_warning_code: str | None

    @classmethod
    def build(cls, r: RiskRow) -> RiskScoreNode:
        s = r.score
        return cls(id=strawberry.ID(str(s.id)), entity_id=strawberry.ID(str(s.entity_id)), uscc=r.uscc,
                   entity_name=r.entity_name, score=s.score, level=s.level, model_level=s.model_level,
                   rules_matched=list(s.rules_matched or []), contributions=_contributions(s.contributions),
                   reasons=[x.text for x in reasons_of(s.contributions or [], s.rules_matched or [], top=5)],
                   run_id=strawberry.ID(str(s.run_id)),
                   open_warning_id=strawberry.ID(str(r.open_warning_id)) if r.open_warning_id else None,
                   open_warning_code=r.open_warning_code)

    @strawberry.field(description="The entity (监管对象).")
    async def entity(self, info: Info) -> EntityRef | None:
        return await _entity(info, int(self.entity_id))


@strawberry.type(name="WarningDepartment", description="The department responsible for a warning (责任部门).")
class WarningDepartmentType:
    id: strawberry.ID
    code: str
    name: str


@strawberry.type(name="WarningEvent", description="One step of a warning's life (处置记录): who, which department, "
                                                  "when, what, comment.")
class WarningEventNode:
    id: strawberry.ID
    kind: str = strawberry.field(description="issue / raise_level / merge_clue / receive / … (环节).")
    from_status: str | None
    to_status: str | None
    actor_name: str
    department_id: strawberry.ID | None
    at: datetime
    comment: str
    payload: JSON

    @classmethod
    def build(cls, e: WarningEvent | ListedEvent) -> WarningEventNode:
        return node(cls, {"id": str(e.id), "kind": e.kind, "from_status": e.from_status, "to_status": e.to_status,
                          "actor_name": e.actor_name,
                          "department_id": str(e.department_id) if e.department_id else None, "at": e.at,
                          "comment": e.comment, "payload": e.payload or {}})


@strawberry.type(name="RiskWarning", description="风险预警: a graded warning about an entity, routed to a department.")
class RiskWarningNode:
    id: strawberry.ID
    code: str = strawberry.field(description="YJ-<year>-<6-digit sequence> (预警编号).")
    level: str = strawberry.field(description="red / orange / yellow / blue (预警等级).")
    source: str = strawberry.field(description="model / rule / clue / manual (来源).")
    status: str = strawberry.field(description="issued / in_progress / return_requested / feedback_submitted / "
                                               "closed / dismissed (状态).")
    # the reasons snapshot and explanation, rendered into text only when `reasons` is selected
    reasons_source: strawberry.Private[tuple[Any, Any]]

    @strawberry.field(description="Reasons in plain Chinese (预警理由).")
    def reasons(self) -> list[str]:
        return [x.text for x in warning_reasons(*self.reasons_source)]

    explanation: JSON = strawberry.field(description="The explanation snapshot at issue: score, level, rules, "
                                                     "contributions (解释快照).")
    score: float | None
    model_version: int | None = strawberry.field(description="The model version that produced the score.")
    department: WarningDepartmentType
    entity_id: strawberry.ID
    dispatched_at: datetime
    receipt_due_at: datetime = strawberry.field(description="签收期限.")
    disposal_due_at: datetime = strawberry.field(description="处置期限.")
    received_at: datetime | None
    closed_at: datetime | None
    overdue: bool = strawberry.field(description="Past its receipt or disposal deadline while open (超期).")
    routing_rule_id: strawberry.ID | None = strawberry.field(description="The routing rule that chose the "
                                                                        "department; null when chosen by hand.")
    created_by: str
    created_at: datetime
    row_version: int = strawberry.field(description="Changes with every update (optimistic concurrency).")
    last_event: WarningEventNode | None
    # built with the node from the columns the page loaded (a plain field: no resolver call per node)
    entity: EntityRef | None = strawberry.field(description="The entity (监管对象).")
    events_: strawberry.Private[list[WarningEvent] | None] = None
    clues_: strawberry.Private[list[RiskClue] | None] = None

    @classmethod
    def build(cls, r: WarningRow, *, model_version: int | None = None) -> RiskWarningNode:
        w = r.warning
        explanation = w.explanation or {}
        event = r.last_event
        return node(cls, {
            "id": str(w.id), "code": w.code, "level": w.level, "source": w.source, "status": w.status,
            "reasons_source": (w.reasons, w.explanation), "explanation": explanation, "score": w.score,
            "model_version": model_version if model_version is not None else explanation.get("model_version"),
            "department": node(WarningDepartmentType, {"id": str(w.department_id), "code": r.department_code,
                                                       "name": r.department_name}),
            "entity_id": str(w.entity_id), "dispatched_at": w.dispatched_at, "receipt_due_at": w.receipt_due_at,
            "disposal_due_at": w.disposal_due_at, "received_at": w.received_at, "closed_at": w.closed_at,
            "overdue": r.overdue, "routing_rule_id": str(w.routing_rule_id) if w.routing_rule_id else None,
            "created_by": w.created_by_name, "created_at": w.created_at, "row_version": w.row_version,
            "last_event": WarningEventNode.build(event) if event else None,
            "entity": _entity_node(r.entity)})

    @classmethod
    def build_lean(cls, r: WarningRow) -> RiskWarningNode:
        """A list's node whose nested entity is asked for its id, code or name only (`warning_list_shape`): the
        entity is made of the columns every row carries. Its other fields are not there: were one read, graphql-core
        would report the missing attribute, never a wrong value."""
        made = cls.build(r)
        w = r.warning
        lean = object.__new__(_entity_class())
        lean.__dict__ = {"id": str(w.entity_id), "uscc": r.entity_uscc, "name": r.entity_name}
        made.entity = lean
        return made

    @classmethod
    def from_detail(cls, d: WarningDetail) -> RiskWarningNode:
        node = cls.build(d.row, model_version=d.model_version)
        node.events_ = d.events
        node.clues_ = d.clues
        return node

    @strawberry.field(description="Every step, oldest first (处置记录); on riskWarning(id) only.")
    def events(self) -> list[WarningEventNode]:
        return [WarningEventNode.build(e) for e in self.events_ or []]

    @strawberry.field(description="The clues judged into this warning or merged into it (关联线索); on "
                                  "riskWarning(id) only.")
    def clues(self) -> list[RiskClueNode]:
        return [RiskClueNode.build_clue(c) for c in self.clues_ or []]


@strawberry.type(name="ClueAttachment", description="An attachment of a clue (附件).")
class ClueAttachmentType:
    name: str
    url: str


@strawberry.type(name="RiskClue", description="风险线索: a lead about an entity, kept even when the entity is unknown.")
class RiskClueNode:
    id: strawberry.ID
    uscc: str = strawberry.field(description="As reported, even when invalid (统一社会信用代码).")
    entity_name: str
    entity_id: strawberry.ID | None
    entity_problem: str | None = strawberry.field(description="unknown (未登记) / invalid (代码无效) / null.")
    source: str = strawberry.field(description="department / hotline_12345 / hotline_12315 / data_centre / manual.")
    external_id: str | None
    category: str
    description: str
    reporting_department_id: strawberry.ID | None
    reporting_department_name: str | None
    occurred_on: date | None
    received_on: date
    attachments: list[ClueAttachmentType]
    status: str = strawberry.field(description="pending / warned / merged / dismissed / duplicate (状态).")
    duplicate_of_id: strawberry.ID | None = strawberry.field(description="The first clue this one duplicates.")
    duplicates: int = strawberry.field(description="Later clues linked to this one (重复线索数).")
    warning_id: strawberry.ID | None
    warning_code: str | None
    judged_by: str | None
    judged_at: datetime | None
    judgement_reason: str
    created_at: datetime

    @classmethod
    def build(cls, r: ClueRow) -> RiskClueNode:
        return cls.build_clue(r.clue, department_name=r.department_name, warning_code=r.warning_code,
                              duplicates=r.duplicates)

    @classmethod
    def build_clue(cls, c: RiskClue, *, department_name: str | None = None, warning_code: str | None = None,
                   duplicates: int = 0) -> RiskClueNode:
        def ident(v: int | None) -> strawberry.ID | None:
            return strawberry.ID(str(v)) if v is not None else None
        return cls(id=strawberry.ID(str(c.id)), uscc=c.uscc, entity_name=c.entity_name, entity_id=ident(c.entity_id),
                   entity_problem=c.entity_problem, source=c.source, external_id=c.external_id, category=c.category,
                   description=c.description, reporting_department_id=ident(c.reporting_department_id),
                   reporting_department_name=department_name, occurred_on=c.occurred_on, received_on=c.received_on,
                   attachments=[ClueAttachmentType(name=a.get("name", ""), url=a.get("url", ""))
                                for a in c.attachments or [] if isinstance(a, dict)],
                   status=c.status, duplicate_of_id=ident(c.duplicate_of_id), duplicates=duplicates,
                   warning_id=ident(c.warning_id), warning_code=warning_code, judged_by=c.judged_by_name,
                   judged_at=c.judged_at, judgement_reason=c.judgement_reason, created_at=c.created_at)

    @strawberry.field(description="The entity, when the code matched one (监管对象).")
    async def entity(self, info: Info) -> EntityRef | None:
        return await _entity(info, int(self.entity_id) if self.entity_id else None)


def _scores_loader(info: Info, limit: int) -> DataLoader:
    ctx = info.context

    async def load(ids: list[int]) -> list[list[Any]]:
        from domain.warnings.risk_list import scores_for_entities

        found = await ctx.read(scores_for_entities, ctx.actor, ids, limit=limit)
        return [found.get(i, []) for i in ids]

    return ctx.loader(f"warnings.entity_scores.{limit}", lambda: DataLoader(load_fn=load))


async def entity_risk_scores(info: Info, entity_id: int, first: int = 10) -> list[Any]:
    """entity.riskScores: newest first, batched across the entities of a page."""
    from api.risk.types import RiskScoreType

    return [RiskScoreType.build(v) for v in await _scores_loader(info, first).load(entity_id)]


async def entity_risk_score(info: Info, entity_id: int) -> Any:
    """entity.riskScore: the latest champion (or on-demand) score, or null."""
    scores = await entity_risk_scores(info, entity_id, 1)
    return scores[0] if scores else None
