"""rollbackModel: give an alias back to the version that held it before (回滚)."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.risk.types import ModelVersionType
from domain.errors import Conflict, InvalidInput, NotFound
from domain.risk import queries as q
from domain.risk import versions

__all__ = ["RollbackModelInput", "RollbackModelPayload", "rollback_model_mutation"]


@strawberry.input(description="Which alias to roll back (回滚).")
class RollbackModelInput:
    alias: str = strawberry.field(default="champion", description="champion (冠军) or challenger (挑战者).")
    reason: str = strawberry.field(default="", description="Why, kept in the alias history (原因).")
    model_name: str = q.DEFAULT_MODEL


@strawberry.type(description="The version that holds the alias now, or why it could not roll back.")
class RollbackModelPayload:
    version: ModelVersionType | None
    errors: list[UserError]


def _rollback(session, actor, data: RollbackModelInput) -> q.VersionView:
    held = versions.rollback_model(session, actor, alias=data.alias, reason=data.reason, model_name=data.model_name)
    return q.get_version(session, actor, held.version_id)


async def rollback_model_mutation(info: Info, input: RollbackModelInput | None = None) -> RollbackModelPayload:
    try:
        view = await info.context.write(_rollback, info.context.actor, input or RollbackModelInput())
    except (InvalidInput, Conflict, NotFound) as exc:
        return RollbackModelPayload(version=None, errors=user_errors(exc))
    return RollbackModelPayload(version=ModelVersionType.build(view), errors=[])
