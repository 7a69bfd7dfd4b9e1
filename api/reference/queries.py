"""Reference data queries: regions (GB/T 2260) and industries (GB/T 4754-2017)."""

from __future__ import annotations

import strawberry

from api.context import Info
from domain.reference.models import Industry, Region
from domain.reference.service import list_industries, list_regions

__all__ = ["IndustryType", "ReferenceQuery", "RegionType"]


@strawberry.type(name="Region", description="An administrative division, GB/T 2260 (行政区划).")
class RegionType:
    code: str
    name: str
    level: str = strawberry.field(description="province / prefecture / county (省/地/县级).")
    parent_code: str | None

    @classmethod
    def build(cls, r: Region) -> RegionType:
        return cls(code=r.code, name=r.name, level=r.level, parent_code=r.parent_code)


@strawberry.type(name="Industry", description="An industry, GB/T 4754-2017 section or division (国民经济行业).")
class IndustryType:
    code: str
    name: str
    level: str = strawberry.field(description="section / division (门类/大类).")
    parent_code: str | None

    @classmethod
    def build(cls, i: Industry) -> IndustryType:
        return cls(code=i.code, name=i.name, level=i.level, parent_code=i.parent_code)


@strawberry.type
class ReferenceQuery:
    @strawberry.field(description="Regions (行政区划), e.g. parentCode: \"320500\" for Suzhou's districts.")
    async def regions(self, info: Info, parent_code: str | None = None, level: str | None = None,
                      search: str | None = None) -> list[RegionType]:
        rows = await info.context.read(list_regions, parent_code=parent_code, level=level, search=search)
        return [RegionType.build(r) for r in rows]

    @strawberry.field(description="Industries (国民经济行业分类): sections A–T and divisions 01–97.")
    async def industries(self, info: Info, parent_code: str | None = None, level: str | None = None,
                         search: str | None = None) -> list[IndustryType]:
        rows = await info.context.read(list_industries, parent_code=parent_code, level=level, search=search)
        return [IndustryType.build(i) for i in rows]
