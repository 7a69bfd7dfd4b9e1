"""Supervision data pages: entity search (active search), entity detail with its timeline, the item catalogue."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.identity.actor import Actor
from domain.pagination import Page, PageRequest
from domain.reference import load_industries, load_regions
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
from web.common import page_window, pager, read
from web.templating import render

__all__ = ["LABELS", "page_window", "routes"]

LABELS = {"entity_type": ENTITY_TYPE_LABELS, "status": ENTITY_STATUS_LABELS, "item_kind": ITEM_KIND_LABELS,
          "action_kind": ACTION_KIND_LABELS, "result": INSPECTION_RESULT_LABELS, "channel": COMPLAINT_CHANNEL_LABELS,
          "credit_kind": CREDIT_KIND_LABELS}


@cache
def _filter_choices() -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...], dict[str, str], dict[str, str]]:
    """The districts of Suzhou and the industry sections to filter by, with region and industry names by code:
    static reference data (the region and industry tables are loaded from the same shipped files), read once."""
    regions = tuple(sorted((r for r in load_regions() if r["parent_code"] == "320500"), key=lambda r: r["code"]))
    sections = tuple(sorted((i for i in load_industries() if i["level"] == "section"), key=lambda i: i["code"]))
    return (regions, sections, {str(r["code"]): str(r["name"]) for r in regions},
            {str(i["code"]): str(i["name"]) for i in load_industries()})


async def entity_list(request: Request) -> Response:
    q = request.query_params
    number, window = page_window(request)
    filters = {"search": q.get("search", "").strip() or None, "region_code": q.get("region") or None,
               "industry_code": q.get("industry") or None, "status": q.get("status") or None}
    page = await read(request, service.search_entities, window, **filters)
    regions, sections, region_names, industry_names = _filter_choices()
    return render(request, "supervision/entities.html", {
        "active": "entities", "page_title": "监管对象", "page": page, "filters": filters,
        "pager": pager(request, number, page.total or 0), "regions": regions, "sections": sections,
        "region_names": region_names, "industry_names": industry_names, "labels": LABELS}, block="results")


async def entity_detail(request: Request) -> Response:
    data = await read(request, service.entity_page, request.path_params["uscc"])
    return render(request, "supervision/entity.html", {
        "active": "entities", "page_title": data.entity.name, "entity": data.entity, "events": data.events,
        "counts": data.counts, "region_name": data.region_name, "industry_name": data.industry_name,
        "labels": LABELS})


def _item_list_data(session: Session, actor: Actor, window: PageRequest, filters: dict[str, Any]
                    ) -> tuple[Page[service.ItemRow], list[tuple[str, str]]]:
    """The catalogue's page and its department filter's choices, in one unit of work."""
    return service.list_items(session, actor, window, **filters), service.item_departments(session, actor)


async def item_list(request: Request) -> Response:
    q = request.query_params
    number, window = page_window(request, 50)
    filters = {"search": q.get("search", "").strip() or None, "kind": q.get("kind") or None,
               "department_code": q.get("department") or None}
    page, departments = await read(request, _item_list_data, window, filters)
    return render(request, "supervision/items.html", {
        "active": "items", "page_title": "监管事项", "page": page, "filters": filters,
        "pager": pager(request, number, page.total or 0, 50), "departments": departments,
        "labels": LABELS}, block="results")


routes = [
    Route("/entities", entity_list),
    Route("/entities/{uscc:str}", entity_detail),
    Route("/items", item_list),
]
