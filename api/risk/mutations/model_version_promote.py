"""promoteModelVersion / demoteModelAlias: give a version an alias, or take the challenger alias away (启用/停用)."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.risk.mutations.common import parse_id
from api.risk.types import ModelVersionType
from domain.errors import Conflict, InvalidInput, NotFound
from domain.risk import queries as q
from domain.risk import versions
from domain.risk.models import ModelAlias

__all__ = ["DemoteModelAliasInput", "PromoteModelVersionInput", "PromoteModelVersionPayload",
           "demote_model_alias_mutation", "promote_model_version_mutation"]


@strawberry.input(description="Which version gets which alias (启用模型版本).")
class PromoteModelVersionInput:
    version_id: strawberry.ID
    alias: str = strawberry.field(default="champion", description="champion (冠军) or challenger (挑战者).")
    reason: str = strawberry.field(description="Why, kept in the alias history (原因, required).")


@strawberry.input(description="Take an alias away; only the challenger can be left empty (停用别名).")
class DemoteModelAliasInput:
    alias: str = "challenger"
    reason: str = ""
    model_name: str = q.DEFAULT_MODEL


@strawberry.type(description="The version as it is now, or why the change was refused.")
class PromoteModelVersionPayload:
    version: ModelVersionType | None
    errors: list[UserError]


def _promote(session, actor, version_id: int, alias: str, reason: str) -> q.VersionView:
    versions.promote_model_version(session, actor, version_id, alias=alias, reason=reason)
    return q.get_version(session, actor, version_id)


def _demote(session, actor, data: DemoteModelAliasInput) -> q.VersionView | None:
    holder = session.get(ModelAlias, (data.model_name, data.alias))
    versions.demote_alias(session, actor, data.alias, reason=data.reason, model_name=data.model_name)
    return q.get_version(session, actor, holder.version_id) if holder else None


async def promote_model_version_mutation(info: Info, input: PromoteModelVersionInput) -> PromoteModelVersionPayload:
    try:
        view = await info.context.write(_promote, info.context.actor, parse_id(input.version_id, "version_id"),
                                        input.alias, input.reason)
    except (InvalidInput, Conflict, NotFound) as exc:
        return PromoteModelVersionPayload(version=None, errors=user_errors(exc))
    return PromoteModelVersionPayload(version=ModelVersionType.build(view), errors=[])


async def demote_model_alias_mutation(info: Info, input: DemoteModelAliasInput) -> PromoteModelVersionPayload:
    try:
        view = await info.context.write(_demote, info.context.actor, input)
    except (InvalidInput, Conflict, NotFound) as exc:
        return PromoteModelVersionPayload(version=None, errors=user_errors(exc))
    return PromoteModelVersionPayload(version=ModelVersionType.build(view) if view else None, errors=[])
