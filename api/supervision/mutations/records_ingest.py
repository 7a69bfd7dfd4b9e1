"""Ingestion mutations (数据推送): ingestEntities, ingestSupervisionItems, ingestSupervisionActions,
ingestComplaints, ingestCreditRecords — one contract, one domain path (`domain.supervision.ingest.ingest`)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from api.context import Info
from api.errors import camel_field
from domain.errors import InvalidInput, NotFound
from domain.integration.models import BATCH_OUTCOME_LABELS, batch_outcome
from domain.supervision.ingest import MAX_RECORDS_PER_CALL, IngestResult, RecordError, ingest

__all__ = ["IngestResultType", "SupervisionMutation"]


@strawberry.enum(name="IngestMode", description="导入模式: PARTIAL keeps the valid records; ALL_OR_NOTHING keeps "
                                                 "none if any fails.")
class IngestMode(Enum):
    PARTIAL = "partial"
    ALL_OR_NOTHING = "all_or_nothing"


@strawberry.type(name="IngestRecordError", description="One problem with one record (记录错误): its 0-based index "
                                                       "in `records` (null for the call as a whole), the field, a "
                                                       "stable code and a Chinese message.")
class IngestRecordErrorType:
    index: int | None
    field: str | None
    code: str
    message: str

    @classmethod
    def build(cls, e: RecordError) -> IngestRecordErrorType:
        return cls(index=e.index, field=camel_field(e.field), code=e.code, message=e.message)


@strawberry.type(name="IngestResult", description="The outcome of one push (导入结果).")
class IngestResultType:
    batch_id: strawberry.ID | None = strawberry.field(description="The ingestion batch (导入批次); null when the "
                                                                   "call was refused as a whole.")
    status: str = strawberry.field(description="done / rejected (ALL_OR_NOTHING with errors) / refused.")
    outcome: str = strawberry.field(description="What the push came to: done (全部接收) / partial (部分接收) / "
                                                "all_rejected (全部拒收) / rejected (整批拒收) / refused.")
    outcome_label: str = strawberry.field(description="The outcome in Chinese (全部接收 / 部分接收 / 全部拒收 / …).")
    received: int
    accepted: int = strawberry.field(description="Records stored (inserted or updated) (接收).")
    rejected: int = strawberry.field(description="Records refused (拒收).")
    errors: list[IngestRecordErrorType]

    @classmethod
    def build(cls, r: IngestResult) -> IngestResultType:
        outcome = batch_outcome(r.status, r.accepted, r.rejected)
        return cls(batch_id=strawberry.ID(str(r.batch_id)), status=r.status, outcome=outcome,
                   outcome_label=BATCH_OUTCOME_LABELS[outcome], received=r.received, accepted=r.accepted,
                   rejected=r.rejected, errors=[IngestRecordErrorType.build(e) for e in r.errors])


_PARTIAL = (" Optional fields left out keep the stored value; an explicit null clears it (except status).")


@strawberry.input(name="EntityInput", description="监管对象 (keyed by uscc)." + _PARTIAL)
class EntityInput:
    uscc: str = strawberry.field(description="统一社会信用代码, checked against GB 32100-2015.")
    name: str = strawberry.field(description="名称.")
    entity_type: str = strawberry.field(description="enterprise / individual / cooperative / other (主体类型).")
    industry_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="GB/T 4754-2017 (行业代码): C, 13, C13, 1310 or C1310; the division is "
                                              "stored, and the four-digit class where given.")
    region_code: str | None = strawberry.field(default=strawberry.UNSET, description="GB/T 2260 (行政区划代码).")
    registered_capital: str | None = strawberry.field(
        default=strawberry.UNSET, description="万元, decimal text (注册资本).")
    founded_on: str | None = strawberry.field(default=strawberry.UNSET, description="YYYY-MM-DD (成立日期).")
    status: str | None = strawberry.field(default=strawberry.UNSET, description="active / suspended / revoked / "
                                          "cancelled (登记状态); null or omitted keeps the stored status.")
    status_changed_on: str | None = strawberry.field(
        default=strawberry.UNSET, description="YYYY-MM-DD: when the status took effect (状态变更日期; for revoked / "
                                              "cancelled the 吊销/注销日期). Needs status.")


@strawberry.input(name="SupervisionItemInput", description="监管事项 (keyed by code)." + _PARTIAL)
class SupervisionItemInput:
    code: str = strawberry.field(description="监管事项编码.")
    name: str = strawberry.field(description="事项名称.")
    department_code: str = strawberry.field(description="实施部门编码.")
    kind: str = strawberry.field(description="inspection / penalty / coercion / other (事项类别).")
    legal_basis: str | None = strawberry.field(default=strawberry.UNSET, description="设定依据.")


@strawberry.input(name="SupervisionActionInput", description="监管行为 (keyed by source and externalId). "
                                                            "Inspections need result; penalties decidedOn, "
                                                            "penaltyAmount and documentNumber; coercion "
                                                            "documentNumber.")
class SupervisionActionInput:
    external_id: str = strawberry.field(description="Id in the source system (行为编号).")
    kind: str = strawberry.field(description="inspection / penalty / coercion / other (行为类别).")
    item_code: str = strawberry.field(description="监管事项编码.")
    department_code: str = strawberry.field(description="实施部门编码.")
    uscc: str = strawberry.field(description="统一社会信用代码 of a known entity.")
    started_on: str = strawberry.field(description="YYYY-MM-DD, not in the future (开始日期).")
    decided_on: str | None = strawberry.field(
        default=strawberry.UNSET, description="YYYY-MM-DD, not before startedOn (决定日期).")
    result: str | None = strawberry.field(
        default=strawberry.UNSET, description="Inspections: pass / fail / rectify (结果).")
    penalty_amount: str | None = strawberry.field(
        default=strawberry.UNSET, description="Yuan, decimal text (罚没金额).")
    document_number: str | None = strawberry.field(default=strawberry.UNSET, description="文书编号.")
    officers: str | None = strawberry.field(default=strawberry.UNSET, description="执法人员.")
    trigger: str | None = strawberry.field(
        default=strawberry.UNSET, description="How the inspection was triggered (检查方式): random (双随机抽查) / "
                                              "complaint (投诉举报) / clue (线索核查) / routine (日常检查) / "
                                              "campaign (专项检查).")


@strawberry.input(name="ComplaintInput", description="投诉举报 (keyed by source and externalId)." + _PARTIAL)
class ComplaintInput:
    external_id: str = strawberry.field(description="投诉编号.")
    uscc: str = strawberry.field(description="统一社会信用代码 of a known entity.")
    received_on: str = strawberry.field(description="YYYY-MM-DD (受理日期).")
    channel: str = strawberry.field(description="12345 / 12315 / letter / visit / online (渠道).")
    category: str = strawberry.field(description="投诉类别.")
    responded_on: str | None = strawberry.field(default=strawberry.UNSET, description="YYYY-MM-DD (答复日期).")
    outcome: str | None = strawberry.field(default=strawberry.UNSET, description="处理结果.")


@strawberry.input(name="CreditRecordInput", description="信用记录 (keyed by source and externalId)." + _PARTIAL)
class CreditRecordInput:
    external_id: str = strawberry.field(description="记录编号.")
    uscc: str = strawberry.field(description="统一社会信用代码 of a known entity.")
    kind: str = strawberry.field(description="abnormal_operation / serious_violation / commendation (信用类别).")
    listed_on: str = strawberry.field(description="YYYY-MM-DD (列入日期).")
    removed_on: str | None = strawberry.field(default=strawberry.UNSET, description="YYYY-MM-DD (移出日期).")
    authority: str | None = strawberry.field(default=strawberry.UNSET, description="作出决定机关.")
    reason: str | None = strawberry.field(default=strawberry.UNSET, description="列入原因.")


async def _ingest(info: Info, kind: str, source: str, records: list[Any], mode: IngestMode) -> IngestResultType:
    ctx = info.context
    try:
        # a field left out (UNSET) is not in the record, so the upsert keeps what is stored
        given = [{k: v for k, v in vars(r).items() if v is not strawberry.UNSET} for r in records]
        result = await ctx.write(ingest, ctx.actor, source=source, kind=kind, records=given, mode=mode.value,
                                 channel="api")
    except (InvalidInput, NotFound) as exc:  # refused as a whole: no batch
        return IngestResultType(batch_id=None, status="refused", outcome="refused", outcome_label="整次拒绝",
                                received=len(records), accepted=0, rejected=0,
                                errors=[IngestRecordErrorType(index=None, field=camel_field(e.field), code=e.code,
                                                              message=e.message) for e in exc.errors])
    return IngestResultType.build(result)


_LIMIT = f"At most {MAX_RECORDS_PER_CALL} records per call (每次最多 {MAX_RECORDS_PER_CALL} 条)."


@strawberry.type
class SupervisionMutation:
    @strawberry.mutation(description=f"Push entities (推送监管对象). {_LIMIT}")
    async def ingest_entities(self, info: Info, source: str, records: list[EntityInput],
                              mode: IngestMode = IngestMode.PARTIAL) -> IngestResultType:
        return await _ingest(info, "entities", source, records, mode)

    @strawberry.mutation(description=f"Push catalogue items (推送监管事项). {_LIMIT}")
    async def ingest_supervision_items(self, info: Info, source: str, records: list[SupervisionItemInput],
                                       mode: IngestMode = IngestMode.PARTIAL) -> IngestResultType:
        return await _ingest(info, "items", source, records, mode)

    @strawberry.mutation(description=f"Push supervision actions (推送监管行为). {_LIMIT}")
    async def ingest_supervision_actions(self, info: Info, source: str, records: list[SupervisionActionInput],
                                         mode: IngestMode = IngestMode.PARTIAL) -> IngestResultType:
        return await _ingest(info, "actions", source, records, mode)

    @strawberry.mutation(description=f"Push complaints (推送投诉举报). {_LIMIT}")
    async def ingest_complaints(self, info: Info, source: str, records: list[ComplaintInput],
                                mode: IngestMode = IngestMode.PARTIAL) -> IngestResultType:
        return await _ingest(info, "complaints", source, records, mode)

    @strawberry.mutation(description=f"Push credit records (推送信用记录). {_LIMIT}")
    async def ingest_credit_records(self, info: Info, source: str, records: list[CreditRecordInput],
                                    mode: IngestMode = IngestMode.PARTIAL) -> IngestResultType:
        return await _ingest(info, "credit", source, records, mode)
