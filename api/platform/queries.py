"""Platform queries: server information. (Jobs are their own feature: api/jobs.)"""

from __future__ import annotations

import strawberry

from api.context import Info
from api.jobs.types import JobType  # re-exported while importers move to api.jobs.types
from domain.platform import server_info

__all__ = ["JobType", "PlatformQuery", "ServerInfoType"]


@strawberry.type(name="ServerInfo", description="About this server (服务信息).")
class ServerInfoType:
    version: str
    database_backend: str = strawberry.field(description="sqlite or postgresql (数据库类型).")
    migration_head: str | None = strawberry.field(description="The migration the database is at (数据库版本).")


@strawberry.type
class PlatformQuery:
    @strawberry.field(description="Version, database backend and migration head (服务信息).")
    async def server_info(self, info: Info) -> ServerInfoType:
        data = await info.context.read(server_info)
        return ServerInfoType(version=str(data["version"]), database_backend=str(data["database_backend"]),
                              migration_head=data["migration_head"])
