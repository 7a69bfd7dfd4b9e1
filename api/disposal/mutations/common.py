"""What every disposal step mutation shares: run the domain step and answer with the warning as it now stands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from sqlmodel import Session

from api.context import Info
from api.disposal.types import DisposalWarningNode
from api.errors import UserError, user_errors
from api.pagination import selects_field
from domain.disposal.queries import disposal_detail
from domain.errors import DomainError
from domain.identity.actor import Actor

__all__ = ["WarningStepPayload", "run_step"]


@strawberry.type(name="WarningStepPayload", description="The warning after the step, or why the step was refused "
                                                        "(code stale: 已被他人修改，请刷新).")
class WarningStepPayload:
    warning: DisposalWarningNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _step_then_detail(session: Session, actor: Actor, warning_id: int, step: Callable[..., Any],
                      args: tuple[Any, ...], kwargs: dict[str, Any], detail: bool):
    step(session, actor, warning_id, *args, **kwargs)
    session.flush()
    return disposal_detail(session, actor, warning_id) if detail else None


async def run_step(info: Info, warning_id: Any, step: Callable[..., Any], *args: Any, **kwargs: Any
                   ) -> WarningStepPayload:
    from api.ids import parse_id

    ctx = info.context
    try:
        wid = parse_id(warning_id, "id")
        # the warning as it now stands (its timeline, feedback, actions …) is read only when the payload asks for it
        detail = await ctx.write(_step_then_detail, ctx.actor, wid, step, args, kwargs,
                                 selects_field(info, "warning"))
    except DomainError as exc:
        return WarningStepPayload(errors=user_errors(exc))
    return WarningStepPayload(warning=DisposalWarningNode.from_detail(detail) if detail is not None else None)
