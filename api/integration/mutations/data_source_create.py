"""createDataSource: register a connected system (admin)."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.integration.types import DataSourceType
from domain.errors import Conflict, InvalidInput
from domain.integration.service import create_data_source

__all__ = ["IntegrationMutation"]


@strawberry.input(name="CreateDataSourceInput", description="A new data source (新建数据源).")
class CreateDataSourceInput:
    code: str
    name: str
    kind: str = strawberry.field(description="phase_one / department_system / data_centre / manual.")
    department_code: str | None = None
    username: str | None = strawberry.field(default=None, description="Its integration user (集成账号).")
    expected_feeds: list[str] = strawberry.field(default_factory=list)
    stale_after_days: int = 7
    description: str = ""


@strawberry.type(name="CreateDataSourcePayload")
class CreateDataSourcePayload:
    data_source: DataSourceType | None
    errors: list[UserError]


@strawberry.type
class IntegrationMutation:
    @strawberry.mutation(description="Register a data source (新建数据源); administrators only.")
    async def create_data_source(self, info: Info, input: CreateDataSourceInput) -> CreateDataSourcePayload:
        ctx = info.context
        try:
            source = await ctx.write(create_data_source, ctx.actor, **vars(input))
        except (InvalidInput, Conflict) as exc:
            return CreateDataSourcePayload(data_source=None, errors=user_errors(exc))
        return CreateDataSourcePayload(data_source=DataSourceType.build(source), errors=[])
