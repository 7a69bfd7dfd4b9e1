"""Supervision data queries: entities, one entity, the item catalogue, actions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry
from sqlmodel import Session

from api.context import Info
from api.pagination import Connection, build_connection, page_request
from api.supervision.types import (
    EntityNode,
    SupervisionActionType,
    SupervisionItemType,
    nested_windows,
    prime_nested,
)
from domain.identity.actor import Actor
from domain.supervision import service

__all__ = ["SupervisionQuery"]


# schema field -> the relation's name in domain.supervision.service.entity_with_windows
_RELATIONS = {"actions": "actions", "complaints": "complaints", "creditRecords": "credit"}


def _entity_with_windows(session: Session, actor: Actor, uscc: str,
                         windows: dict[str, tuple[int, int, bool]]) -> tuple[Any, dict[str, tuple[list, int]]]:
    """The entity and the nested windows its selection asks for, in one statement (the windows by schema field)."""
    entity, found = service.entity_with_windows(session, actor, uscc,
                                                {_RELATIONS[name]: window for name, window in windows.items()})
    return entity, {name: found[_RELATIONS[name]] for name in windows}


@strawberry.type
class SupervisionQuery:
    @strawberry.field(description="Search entities by name fragment or USCC; filter by region, industry, status "
                                  "(监管对象查询).")
    async def entities(self, info: Info, search: str | None = None, region_code: str | None = None,
                       industry_code: str | None = None, status: str | None = None, first: int | None = None,
                       after: str | None = None, last: int | None = None,
                       before: str | None = None) -> Connection[EntityNode]:
        ctx = info.context
        page = await ctx.read(service.search_entities, ctx.actor, page_request(first, after, last, before, info=info),
                              search=search, region_code=region_code, industry_code=industry_code, status=status,
                              max_size=ctx.settings.max_page_size, rows=True)
        return build_connection(page, EntityNode.build)

    @strawberry.field(description="One entity by its unified social credit code (监管对象).")
    async def entity(self, info: Info, uscc: str) -> EntityNode:
        # the nested windows it selects are read in the same unit of work and primed for their fields
        windows = nested_windows(info)
        entity, found = await info.context.read(_entity_with_windows, info.context.actor, uscc, windows)
        prime_nested(info, int(entity.id or 0), found, windows)
        return EntityNode.build(entity)

    @strawberry.field(description="The supervision item catalogue (监管事项目录).")
    async def supervision_items(self, info: Info, department_code: str | None = None, kind: str | None = None,
                                search: str | None = None, first: int | None = None, after: str | None = None,
                                last: int | None = None,
                                before: str | None = None) -> Connection[SupervisionItemType]:
        ctx = info.context
        page = await ctx.read(service.list_items, ctx.actor, page_request(first, after, last, before, info=info),
                              department_code=department_code, kind=kind, search=search,
                              max_size=ctx.settings.max_page_size)
        return build_connection(page, SupervisionItemType.build)

    @strawberry.field(description="Supervision actions filtered by department, item, kind and start date "
                                  "(监管行为查询); handlers see their own department's only.")
    async def supervision_actions(self, info: Info, department_code: str | None = None,
                                  item_code: str | None = None, kind: str | None = None,
                                  date_from: Annotated[date | None, strawberry.argument(
                                      name="from", description="Started on or after (开始日期起).")] = None,
                                  date_to: Annotated[date | None, strawberry.argument(
                                      name="to", description="Started on or before (开始日期止).")] = None,
                                  uscc: str | None = None, first: int | None = None, after: str | None = None,
                                  last: int | None = None,
                                  before: str | None = None) -> Connection[SupervisionActionType]:
        ctx = info.context
        page = await ctx.read(service.list_actions, ctx.actor, page_request(first, after, last, before, info=info),
                              department_code=department_code, item_code=item_code, kind=kind, date_from=date_from,
                              date_to=date_to, uscc=uscc, max_size=ctx.settings.max_page_size)
        return build_connection(page, SupervisionActionType.build)
