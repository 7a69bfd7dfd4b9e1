"""The audit trail browser (审计日志): filters by actor, action, object and local dates; changes in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.audit.models import AuditLog
from domain.audit.queries import AuditFilter, audit_choices, list_audit
from domain.errors import FieldError, InvalidInput
from domain.identity import departments as depts
from domain.identity.actor import Actor
from domain.pagination import Page, PageRequest
from web.audit import labels
from web.common import PAGE_SIZE, page_window, pager, read
from web.forms import field_errors
from web.templating import render

__all__ = ["routes"]

DEPARTMENT_FIELDS = ("department_id", "parent_id")


def _date(value: str | None, field: str, errors: list[FieldError]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, "bad_date", f"日期格式应为 YYYY-MM-DD，收到“{value}”"))
        return None


@dataclass
class _AuditPage:
    page: Page[AuditLog]
    errors: dict[str, str]  # a filter the domain refused: the whole trail is shown instead
    actions: list[str]
    object_types: list[str]
    department_names: dict[int, str]


def _audit_page(session: Session, actor: Actor, window: PageRequest, filters: AuditFilter) -> _AuditPage:
    """The trail's page, the filters' choices and the departments its changes name, in one unit of work."""
    errors: dict[str, str] = {}
    try:
        page = list_audit(session, actor, window, filters)
    except InvalidInput as exc:
        errors = field_errors(exc)
        page = list_audit(session, actor, PageRequest(first=PAGE_SIZE), AuditFilter())
    actions, object_types = audit_choices(session, actor)
    names = {d.id: f"{d.code} {d.name}" for d in depts.department_choices(session, actor, include_inactive=True)
             if d.id is not None} if _mentions_departments(page.items) else {}
    return _AuditPage(page, errors, actions, object_types, names)


async def audit_list(request: Request) -> Response:
    params = request.query_params
    raw = {k: params.get(k, "") for k in ("actor", "action", "object_type", "object_id", "date_from", "date_to")}
    problems: list[FieldError] = []
    filters = AuditFilter(actor=raw["actor"], action=raw["action"], object_type=raw["object_type"],
                          object_id=raw["object_id"], date_from=_date(raw["date_from"], "date_from", problems),
                          date_to=_date(raw["date_to"], "date_to", problems))
    number, window = page_window(request)
    errors: dict[str, str] = {e.field or "_form": e.message for e in problems}
    data = await read(request, _audit_page, window, filters)
    if data.errors:
        errors.update(data.errors)
        number = 1
    page = data.page
    object_types = sorted({*data.object_types, *labels.OBJECT_TYPES}, key=lambda t: labels.object_label(t))
    names = data.department_names
    return render(request, "audit/audit.html", {
        "page": page, "pager": pager(request, number, page.total or 0, target="#results"), "filters": raw,
        "errors": errors, "actions": data.actions, "object_types": object_types, "labels": labels,
        "changes_of": lambda row: _changes(row, names), "active": "audit", "page_title": "审计日志"},
        block="results")


def _mentions_departments(rows: list[AuditLog]) -> bool:
    return any(f in (row.changes or {}) for row in rows for f in DEPARTMENT_FIELDS)


def _changes(row: AuditLog, names: dict[int, str]) -> list[tuple[str, str | None, str]]:
    """The row's changes in words; department ids as the department's code and name."""
    changes: dict[str, Any] = dict(row.changes or {})
    for f in DEPARTMENT_FIELDS:
        if isinstance(changes.get(f), list):
            changes[f] = [names.get(v, v) if isinstance(v, int) else v for v in changes[f]]
    return labels.change_rows(changes)


routes = [
    Route("/admin/audit", audit_list, methods=["GET"]),
]
