"""Supervision data pages: entity search (active search), entity detail with its timeline, the item catalogue."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.reference import load_industries
from domain.reference.service import list_industries, list_regions
from domain.supervision import service
from domain.supervision.fields import (
    ACTION_KIND_LABELS,
    COMPLAINT_CHANNEL_LABELS,
    CREDIT_KIND_LABELS,
    ENTITY_STATUS_LABELS,
    ENTITY_TYPE_LABELS,
    INSPECTION_RESULT_LABELS,
    ITEM_KIND_LABELS,
)
from web.common import actor_of, page_window, pager
from web.templating import render

__all__ = ["LABELS", "page_window", "routes"]

LABELS = {"entity_type": ENTITY_TYPE_LABELS, "status": ENTITY_STATUS_LABELS, "item_kind": ITEM_KIND_LABELS,
          "action_kind": ACTION_KIND_LABELS, "result": INSPECTION_RESULT_LABELS, "channel": COMPLAINT_CHANNEL_LABELS,
          "credit_kind": CREDIT_KIND_LABELS}


def _reference(session):
    regions = list_regions(session, parent_code="320500")
    sections = list_industries(session, level="section")
    return regions, sections


async def entity_list(request: Request) -> Response:
    q = request.query_params
    number, window = page_window(request)
    filters = {"search": q.get("search", "").strip() or None, "region_code": q.get("region") or None,
               "industry_code": q.get("industry") or None, "status": q.get("status") or None}
    db = request.app.state.db
    page = await db.run(service.search_entities, actor_of(request), window, **filters)
    regions, sections = await db.run(_reference)
    region_names = {r.code: r.name for r in regions}
    industry_names = {row["code"]: row["name"] for row in load_industries()}
    return render(request, "supervision/entities.html", {
        "active": "entities", "page_title": "监管对象", "page": page, "filters": filters,
        "pager": pager(request, number, page.total), "regions": regions, "sections": sections,
        "region_names": region_names, "industry_names": industry_names, "labels": LABELS}, block="results")


async def entity_detail(request: Request) -> Response:
    db = request.app.state.db
    actor = actor_of(request)
    entity = await db.run(service.get_entity, actor, request.path_params["uscc"])
    events = await db.run(service.entity_timeline, actor, entity.id)

    def names(session):
        from domain.reference import get_industry, get_region

        region = get_region(entity.region_code) if entity.region_code else None
        industry = get_industry(entity.industry_code) if entity.industry_code else None
        return (region or {}).get("name"), (industry or {}).get("name")

    region_name, industry_name = await db.run(names)
    counts = {kind: sum(1 for e in events if e.kind == kind) for kind in ("action", "complaint", "credit")}
    return render(request, "supervision/entity.html", {
        "active": "entities", "page_title": entity.name, "entity": entity, "events": events, "counts": counts,
        "region_name": region_name, "industry_name": industry_name, "labels": LABELS})


async def item_list(request: Request) -> Response:
    q = request.query_params
    number, window = page_window(request, 50)
    filters = {"search": q.get("search", "").strip() or None, "kind": q.get("kind") or None,
               "department_code": q.get("department") or None}
    db = request.app.state.db
    page = await db.run(service.list_items, actor_of(request), window, **filters)

    def departments(session):
        import sqlalchemy as sa

        from domain.identity.models import Department
        from domain.supervision.models import SupervisionItem

        return session.execute(sa.select(Department.code, Department.name).where(
            Department.id.in_(sa.select(SupervisionItem.department_id))).order_by(Department.code)).all()

    return render(request, "supervision/items.html", {
        "active": "items", "page_title": "监管事项", "page": page, "filters": filters,
        "pager": pager(request, number, page.total, 50), "departments": await db.run(departments),
        "labels": LABELS}, block="results")


routes = [
    Route("/entities", entity_list),
    Route("/entities/{uscc:str}", entity_detail),
    Route("/items", item_list),
]
