"""setLevelThresholds: a version's minimum score per level (等级阈值), ordered red > orange > yellow > blue in 0–1."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.risk.mutations.common import parse_id
from api.risk.types import ModelVersionType
from domain.errors import Conflict, InvalidInput, NotFound
from domain.risk import queries as q
from domain.risk import versions

__all__ = ["SetLevelThresholdsInput", "SetLevelThresholdsPayload", "set_level_thresholds_mutation"]


@strawberry.input(description="New level thresholds of a version (等级阈值).")
class SetLevelThresholdsInput:
    version_id: strawberry.ID
    red: float = strawberry.field(description="Minimum score for red (红色).")
    orange: float = strawberry.field(description="Minimum score for orange (橙色).")
    yellow: float = strawberry.field(description="Minimum score for yellow (黄色).")
    blue: float = strawberry.field(description="Minimum score for blue (蓝色).")


@strawberry.type(description="The version with its new thresholds, or each problem with them.")
class SetLevelThresholdsPayload:
    version: ModelVersionType | None
    errors: list[UserError]


def _set(session, actor, version_id: int, thresholds: dict[str, float]) -> q.VersionView:
    versions.set_level_thresholds(session, actor, version_id, thresholds)
    return q.get_version(session, actor, version_id)


async def set_level_thresholds_mutation(info: Info, input: SetLevelThresholdsInput) -> SetLevelThresholdsPayload:
    thresholds = {"red": input.red, "orange": input.orange, "yellow": input.yellow, "blue": input.blue}
    try:
        view = await info.context.write(_set, info.context.actor, parse_id(input.version_id, "version_id"), thresholds)
    except (InvalidInput, Conflict, NotFound) as exc:
        return SetLevelThresholdsPayload(version=None, errors=user_errors(exc))
    return SetLevelThresholdsPayload(version=ModelVersionType.build(view), errors=[])
