"""The disposal steps as mutations (receiveWarning, returnWarning, reassignWarning, …): each takes the warning id,
the rowVersion the caller saw (optional; recommended) and the step's own fields."""

from __future__ import annotations

from datetime import date

import strawberry

from api.context import Info
from api.disposal.mutations.common import WarningStepPayload, run_step
from api.errors import UserError, user_errors
from api.ids import parse_id
from domain.disposal import service as d
from domain.disposal.inbox import bulk_receive
from domain.errors import DomainError

__all__ = ["WarningStepsMutation"]

ID = strawberry.ID


def _dept(value: ID | None) -> int | None:
    return parse_id(value, "departmentId") if value is not None else None


@strawberry.type(name="BulkReceivePayload")
class BulkReceivePayload:
    received: list[str] = strawberry.field(description="Codes of the warnings received.")
    failed: list[UserError] = strawberry.field(description="One per warning not received (field: its code).")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WarningStepsMutation:
    @strawberry.mutation(description="签收: the responsible department's handler takes the warning on.")
    async def receive_warning(self, info: Info, id: ID, row_version: int | None = None,
                              comment: str = "") -> WarningStepPayload:
        return await run_step(info, id, d.receive_warning, row_version=row_version, comment=comment)

    @strawberry.mutation(description="申请退回 (退单): not this department's jurisdiction; an analyst approves "
                                     "(reassigns) or rejects it.")
    async def return_warning(self, info: Info, id: ID, reason: str, row_version: int | None = None
                             ) -> WarningStepPayload:
        return await run_step(info, id, d.request_return, reason, row_version=row_version)

    @strawberry.mutation(description="同意退回: the analyst reassigns the warning to `departmentId`.")
    async def approve_return(self, info: Info, id: ID, department_id: ID, comment: str = "",
                             row_version: int | None = None) -> WarningStepPayload:
        return await run_step(info, id, d.approve_return, _dept(department_id), comment=comment,
                              row_version=row_version)

    @strawberry.mutation(description="驳回退回: back to the same department, deadlines unchanged.")
    async def reject_return(self, info: Info, id: ID, reason: str, row_version: int | None = None
                            ) -> WarningStepPayload:
        return await run_step(info, id, d.reject_return, reason, row_version=row_version)

    @strawberry.mutation(description="改派 (analyst): to another department, a new dispatch.")
    async def reassign_warning(self, info: Info, id: ID, department_id: ID, reason: str,
                               row_version: int | None = None) -> WarningStepPayload:
        return await run_step(info, id, d.reassign_warning, _dept(department_id), reason, row_version=row_version)

    @strawberry.mutation(description="增加协办部门 (analyst).")
    async def add_assisting_department(self, info: Info, id: ID, department_id: ID, comment: str = "",
                                       row_version: int | None = None) -> WarningStepPayload:
        return await run_step(info, id, d.add_assisting_department, _dept(department_id), comment=comment,
                              row_version=row_version)

    @strawberry.mutation(description="延期申请: a later disposal deadline (local date) with a reason.")
    async def request_extension(self, info: Info, id: ID, new_due_date: date, reason: str,
                                row_version: int | None = None) -> WarningStepPayload:
        return await run_step(info, id, d.request_extension, new_due_date, reason, row_version=row_version)

    @strawberry.mutation(description="同意延期 (analyst): the disposal deadline moves.")
    async def approve_extension(self, info: Info, id: ID, comment: str = "", row_version: int | None = None
                                ) -> WarningStepPayload:
        return await run_step(info, id, d.approve_extension, comment=comment, row_version=row_version)

    @strawberry.mutation(description="驳回延期 (analyst): the deadline stays.")
    async def reject_extension(self, info: Info, id: ID, reason: str, row_version: int | None = None
                               ) -> WarningStepPayload:
        return await run_step(info, id, d.reject_extension, reason, row_version=row_version)

    @strawberry.mutation(description="督办 (analyst): an event and a notice to the department, counted.")
    async def urge_warning(self, info: Info, id: ID, comment: str = "", row_version: int | None = None
                           ) -> WarningStepPayload:
        return await run_step(info, id, d.urge_warning, comment, row_version=row_version)

    @strawberry.mutation(description="退回重办 (analyst): the feedback is rejected with a reason.")
    async def rework_warning(self, info: Info, id: ID, reason: str, row_version: int | None = None
                             ) -> WarningStepPayload:
        return await run_step(info, id, d.rework_warning, reason, row_version=row_version)

    @strawberry.mutation(description="办结 (analyst): the feedback is accepted.")
    async def close_warning(self, info: Info, id: ID, comment: str = "", row_version: int | None = None
                            ) -> WarningStepPayload:
        return await run_step(info, id, d.close_warning, comment, row_version=row_version)

    @strawberry.mutation(description="撤销预警 (analyst) with a reason.")
    async def dismiss_warning(self, info: Info, id: ID, reason: str, row_version: int | None = None
                              ) -> WarningStepPayload:
        return await run_step(info, id, d.dismiss_warning, reason, row_version=row_version)

    @strawberry.mutation(description="Mark the caller's notices read (all when `ids` is omitted); returns how many.")
    async def mark_notices_read(self, info: Info, ids: list[ID] | None = None) -> int:
        from domain.notifications.notices import mark_notices_read

        ctx = info.context
        wanted = None if ids is None else [parse_id(i, "ids") for i in ids]
        return await ctx.write(mark_notices_read, ctx.actor, wanted)

    @strawberry.mutation(description="批量签收: each warning on its own; those that changed meanwhile are listed.")
    async def bulk_receive_warnings(self, info: Info, ids: list[ID]) -> BulkReceivePayload:
        ctx = info.context
        try:
            wanted = [parse_id(i, "ids") for i in ids]
            result = await ctx.write(bulk_receive, ctx.actor, wanted)
        except DomainError as exc:
            return BulkReceivePayload(received=[], failed=[], errors=user_errors(exc))
        return BulkReceivePayload(received=result.received,
                                  failed=[UserError(field=code, code="not_received", message=why)
                                          for code, why in result.failed])
