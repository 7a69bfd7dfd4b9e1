"""Risk early-warning pages: risk list (风险对象) with Excel export, clues (线索) with manual entry and judgement
(研判), warnings (预警) list and detail, the routing table (派发规则) with its preview."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.warnings.mutations.common import score_entities
from api.warnings.reasons import reasons_of, warning_reasons
from domain.errors import DomainError, Forbidden, InvalidInput
from domain.identity.actor import Actor
from domain.identity.departments import department_choices
from domain.identity.models import Department
from domain.identity.policy import can
from domain.pagination import Page, PageRequest
from domain.reference.service import list_industries, list_regions
from domain.settings import get_settings
from domain.types import local_today
from domain.warnings import clues as clue_service
from domain.warnings import deadlines as deadline_service
from domain.warnings import risk_list, routing
from domain.warnings import service as warning_service
from domain.warnings.models import (
    CLUE_SOURCES,
    CLUE_STATUSES,
    DAY_KINDS,
    ENTITY_PROBLEMS,
    LEVELS,
    ROUTING_KINDS,
    WARNING_SOURCES,
    WARNING_STATUSES,
)
from web.common import actor_of, page_window, pager, redirect_after_post
from web.forms import field_errors
from web.templating import AUDIT_ACTION_NAMES, flash, render

__all__ = ["routes"]

LABELS = {"clue_source": CLUE_SOURCES, "clue_status": CLUE_STATUSES, "problem": ENTITY_PROBLEMS,
          "warning_source": WARNING_SOURCES, "warning_status": WARNING_STATUSES, "routing_kind": ROUTING_KINDS,
          "day_kind": DAY_KINDS, "decision": clue_service.DECISIONS}
AUDIT_ACTION_NAMES.update({
    "clue.create": "录入线索", "clue.submit": "推送线索", "clue.judge.issue": "研判：发布预警",
    "clue.judge.merge": "研判：并入预警", "clue.judge.dismiss": "研判：排除线索", "ingest.clues": "导入线索",
    "warning.issue": "发布预警", "warning.raise_level": "提升预警等级", "warning.auto_issue": "评分后自动发布预警",
    "warning.routing.save": "保存派发规则", "warning.routing.delete": "删除派发规则",
    "warning.routing.deactivate": "停用派发规则", "warning.deadline.update": "修改处置时限",
    "warning.workday.save": "保存工作日调整", "warning.workday.delete": "删除工作日调整",
})
# the form inputs carry the domain's field names; only these differ ("_" is the templates' whole-form slot)
_FIELD_NAMES = {"entity_id": "uscc", "_form": "_"}


def _errors(exc: DomainError) -> dict[str, str]:
    return field_errors(exc, rename=_FIELD_NAMES)


def _error_status(request: Request, exc: DomainError) -> int:
    """htmx swaps only 2xx answers: a form shown again with its errors is a 200 to htmx, a 422/409 otherwise."""
    if request.headers.get("hx-request") == "true":
        return 200
    return 422 if isinstance(exc, InvalidInput) else 409


def _date_param(text: str | None, name: str, label: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{label}：“{text}”不是有效日期，应为 YYYY-MM-DD", field=name, code="invalid_date") from None


def _float_param(text: str | None, name: str, label: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{label}：“{text}”不是数字", field=name, code="not_a_number") from None


def _int_param(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


# ---- risk list -----------------------------------------------------------------------------------------------

def _risk_filter(request: Request) -> tuple[risk_list.RiskFilter, dict[str, str]]:
    q = request.query_params
    raw = {k: q.get(k, "").strip() for k in ("level", "region", "section", "department", "score_min", "score_max",
                                             "rule", "open", "search")}
    f = risk_list.RiskFilter(
        level=raw["level"] or None, region_code=raw["region"] or None, industry_section=raw["section"] or None,
        department_id=_int_param(raw["department"]),
        score_min=_float_param(raw["score_min"], "score_min", "最低评分"),
        score_max=_float_param(raw["score_max"], "score_max", "最高评分"),
        rule=raw["rule"] or None, has_open_warning={"yes": True, "no": False}.get(raw["open"]),
        search=raw["search"] or None)
    return f, raw


def _risk_reference(session, actor):
    from sqlmodel import select

    from domain.risk.models import RiskRule

    run = risk_list.champion_run(session)
    rules = [r.code for r in session.exec(select(RiskRule).order_by(RiskRule.code))]
    return (list_regions(session, parent_code="320500"), list_industries(session, level="section"),
            department_choices(session, actor), rules, run)


async def risk_page(request: Request) -> Response:
    db = request.app.state.db
    actor = actor_of(request)
    number, window = page_window(request)
    errors: dict[str, str] = {}
    try:
        f, raw = _risk_filter(request)
        page = await db.run(risk_list.list_risk, actor, window, f, work="read")
    except InvalidInput as exc:
        errors = _errors(exc)
        raw = {k: request.query_params.get(k, "") for k in request.query_params}
        page = await db.run(risk_list.list_risk, actor, window, risk_list.RiskFilter(), work="read")
    regions, sections, departments, rules, run = await db.run(_risk_reference, actor, work="read")
    rows = [(row, reasons_of(row.contributions, row.score.rules_matched, top=3)) for row in page.items]
    export_query = urlencode({k: v for k, v in request.query_params.items() if k != "page" and v})
    return render(request, "warnings/risk.html", {
        "active": "analysis", "page_title": "风险对象", "page": page, "rows": rows, "raw": raw, "errors": errors,
        "pager": pager(request, number, page.total or 0, target="#risk-results"), "regions": regions,
        "sections": sections, "departments": departments, "rules": rules, "run": run, "levels": LEVELS,
        "export_query": export_query, "can_issue": can(actor, "warnings.work")}, block="results")


EXPORT_HEADERS = ("排名", "监管对象", "统一社会信用代码", "行政区划", "行业", "风险评分", "风险等级", "主要原因",
                  "命中规则", "未办结预警", "责任部门")


def _export_rows(session, actor, f: risk_list.RiskFilter) -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from web.templating import LEVEL_NAMES

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("风险对象")
    ws.append(list(EXPORT_HEADERS))
    for i, row in enumerate(risk_list.iter_risk_rows(session, actor, f), start=1):
        reasons = "；".join(r.text for r in reasons_of(row.contributions, None, top=3))
        ws.append([i, row.entity_name, row.uscc, row.region_code or "", row.industry_code or "",
                   round(row.score.score, 4), LEVEL_NAMES.get(row.score.level or "", "—"), reasons,
                   "、".join(row.score.rules_matched or []), row.open_warning_code or "",
                   row.open_warning_department or ""])
    for col, width in enumerate((6, 32, 22, 10, 8, 10, 8, 60, 16, 18, 24), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def risk_export(request: Request) -> Response:
    f, _ = _risk_filter(request)
    data = await request.app.state.db.run(_export_rows, actor_of(request), f, work="read")
    name = f"risk-{local_today().isoformat()}.xlsx"
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def entity_risk_fragment(request: Request) -> Response:
    """The risk part of an entity page (current score, explanation, history chart, clues, warnings)."""
    db = request.app.state.db
    try:
        info = await db.run(risk_list.entity_risk, actor_of(request), int(request.path_params["entity_id"]),
                            work="read")
    except Forbidden:
        if request.headers.get("hx-request") == "true":  # the entity page's slot stays empty for this reader
            return Response("", media_type="text/html")
        raise
    reasons = reasons_of(info.current.contributions, info.current.rules_matched, top=8) if info.current else []
    chart = {"dates": [p.as_of.isoformat() for p in info.history], "scores": [round(p.score, 4) for p in info.history],
             "levels": [p.level for p in info.history]}
    return render(request, "warnings/entity_risk.html", {
        "active": "analysis", "page_title": info.entity.name, "info": info, "reasons": reasons, "chart": chart,
        "labels": LABELS, "can_issue": can(actor_of(request), "warnings.work")}, block="risk")


# ---- clues ---------------------------------------------------------------------------------------------------

def _clue_filter(request: Request) -> tuple[clue_service.ClueFilter, dict[str, str]]:
    q = request.query_params
    raw = {k: q.get(k, "").strip() for k in ("status", "source", "category", "department", "received_from",
                                             "received_to", "search", "problem")}
    f = clue_service.ClueFilter(
        status=raw["status"] or None, source=raw["source"] or None, category=raw["category"] or None,
        department_id=_int_param(raw["department"]),
        received_from=_date_param(raw["received_from"], "received_from", "开始日期"),
        received_to=_date_param(raw["received_to"], "received_to", "结束日期"),
        problem=True if raw["problem"] == "yes" else None, search=raw["search"] or None)
    return f, raw


async def clue_list(request: Request) -> Response:
    db = request.app.state.db
    actor = actor_of(request)
    number, window = page_window(request)
    errors: dict[str, str] = {}
    try:
        f, raw = _clue_filter(request)
        page = await db.run(clue_service.list_clues, actor, window, f, work="read")
    except InvalidInput as exc:
        errors = _errors(exc)
        raw = dict(request.query_params)
        page = await db.run(clue_service.list_clues, actor, window, clue_service.ClueFilter(), work="read")
    departments = await db.run(department_choices, actor_of(request), work="read")
    return render(request, "warnings/clues.html", {
        "active": "clues", "page_title": "风险线索", "page": page, "raw": raw, "errors": errors,
        "departments": departments, "labels": LABELS, "can_work": can(actor, "clues.work"),
        "pager": pager(request, number, page.total or 0, target="#clue-results")}, block="results")


def _clue_input(form: FormData) -> clue_service.ClueInput:
    def get(name: str) -> str:
        return str(form.get(name) or "").strip()
    return clue_service.ClueInput(
        uscc=get("uscc"), entity_name=get("entity_name"), source=get("source") or "manual",
        category=get("category"), description=get("description"), item_code=get("item_code"),
        reporting_department_code=get("reporting_department_code"), occurred_on=get("occurred_on") or None,
        received_on=get("received_on") or None)


def _clue_form_context(form: dict[str, Any], errors: dict[str, str], departments) -> dict[str, Any]:
    return {"active": "clues", "page_title": "录入线索", "form": form, "errors": errors, "departments": departments,
            "labels": LABELS, "today": local_today().isoformat()}


async def clue_new(request: Request) -> Response:
    departments = await request.app.state.db.run(department_choices, actor_of(request), work="read")
    form = {"source": "manual", "received_on": local_today().isoformat()}
    return render(request, "warnings/clue_new.html", _clue_form_context(form, {}, departments))


async def clue_create(request: Request) -> Response:
    db = request.app.state.db
    form = await request.form()
    data = _clue_input(form)
    dedup = get_settings().clue_dedup_days
    if request.headers.get("hx-request") == "true" and form.get("_validate"):
        errors: dict[str, str] = {}
        try:
            await db.run(clue_service.create_clue, actor_of(request), data, dedup_days=dedup, work="dry_run")
        except DomainError as exc:
            errors = _errors(exc)
        departments = await db.run(department_choices, actor_of(request), work="read")
        return render(request, "warnings/clue_new.html", _clue_form_context(dict(form), errors, departments),
                      block="clue_form")
    try:
        clue = await db.run(clue_service.create_clue, actor_of(request), data, dedup_days=dedup)
    except DomainError as exc:
        departments = await db.run(department_choices, actor_of(request), work="read")
        return render(request, "warnings/clue_new.html", _clue_form_context(dict(form), _errors(exc), departments),
                      block="clue_form", status_code=_error_status(request, exc))
    if clue.entity_id is not None and clue.duplicate_of_id is None:
        await score_entities(db, [clue.entity_id])  # the engine's single-entity scoring, as GraphQL does
    note = f"（与线索 {clue.duplicate_of_id} 重复，已关联）" if clue.duplicate_of_id else ""
    flash(request, f"线索已录入{note}。")
    return redirect_after_post(request, f"/clues/{clue.id}")


async def clue_detail(request: Request) -> Response:
    db = request.app.state.db
    actor = actor_of(request)
    view = await db.run(clue_service.judgement_view, actor, int(request.path_params["clue_id"]), work="read")
    return render(request, "warnings/clue.html", _judgement_context(request, view, {}, None))


def _judgement_context(request: Request, view: clue_service.JudgementView, errors: dict[str, str],
                       form: dict[str, Any] | None) -> dict[str, Any]:
    score = view.score
    reasons = reasons_of(score.contributions, score.rules_matched, top=5) if score else []
    default_reasons = "\n".join([f"线索：{view.clue.category}—{view.clue.description[:200]}",
                                 *[r.text for r in reasons[:3]]])
    form = form or {"decision": "merge" if view.open_warning else "issue", "level": view.suggested_level,
                    "department_id": str(view.route.department_id) if view.route and view.route.department_id else "",
                    "reasons": default_reasons, "comment": ""}
    return {"active": "clues", "page_title": f"线索 {view.clue.id}", "view": view, "reasons": reasons,
            "labels": LABELS, "levels": LEVELS, "errors": errors, "form": form,
            "can_judge": can(actor_of(request), "clues.work") and view.clue.status == "pending"}


async def clue_judge(request: Request) -> Response:
    db = request.app.state.db
    actor = actor_of(request)
    clue_id = int(request.path_params["clue_id"])
    form = await request.form()
    judgement = clue_service.Judgement(
        decision=str(form.get("decision") or ""), level=str(form.get("level") or "") or None,
        department_id=_int_param(str(form.get("department_id") or "")),
        reasons=[line.strip() for line in str(form.get("reasons") or "").splitlines() if line.strip()],
        comment=str(form.get("comment") or ""))
    try:
        clue = await db.run(clue_service.judge_clue, actor, clue_id, judgement)
    except DomainError as exc:
        view = await db.run(clue_service.judgement_view, actor, clue_id, work="read")
        return render(request, "warnings/clue.html", _judgement_context(request, view, _errors(exc), dict(form)),
                      status_code=_error_status(request, exc))
    if clue.status == "warned":
        flash(request, "已发布预警。")
        return redirect_after_post(request, f"/warnings/{clue.warning_id}")
    flash(request, "已并入已有预警。" if clue.status == "merged" else "线索已排除。")
    return redirect_after_post(request, f"/clues/{clue.id}")


# ---- warnings ------------------------------------------------------------------------------------------------

def _warning_filter(request: Request) -> tuple[warning_service.WarningFilter, dict[str, str]]:
    q = request.query_params
    raw = {k: q.get(k, "").strip() for k in ("level", "status", "department", "source", "overdue", "created_from",
                                             "created_to", "search", "region", "industry")}
    f = warning_service.WarningFilter(
        level=raw["level"] or None, status=raw["status"] or None, department_id=_int_param(raw["department"]),
        source=raw["source"] or None, overdue={"yes": True, "no": False}.get(raw["overdue"]),
        created_from=_date_param(raw["created_from"], "created_from", "开始日期"),
        created_to=_date_param(raw["created_to"], "created_to", "结束日期"), search=raw["search"] or None,
        region_code=raw["region"] or None, industry=raw["industry"] or None)  # from the statistics drill-down
    return f, raw


def _warning_list_data(session: Session, actor: Actor, window: PageRequest, f: warning_service.WarningFilter | None
                       ) -> tuple[Page[warning_service.WarningRow], dict[str, str], list[Department]]:
    """The warnings page and the department filter's choices, in one unit of work; `f` None: the filter was
    refused (its errors are shown) and the whole list is."""
    errors: dict[str, str] = {}
    try:
        page = warning_service.list_warnings(session, actor, window, f)
    except InvalidInput as exc:
        errors = _errors(exc)
        page = warning_service.list_warnings(session, actor, window)
    return page, errors, department_choices(session, actor)


async def warning_list(request: Request) -> Response:
    actor = actor_of(request)
    number, window = page_window(request)
    errors: dict[str, str] = {}
    f: warning_service.WarningFilter | None = None
    try:
        f, raw = _warning_filter(request)
    except InvalidInput as exc:
        errors = _errors(exc)
        raw = dict(request.query_params)
    page, refused, departments = await request.app.state.db.run(_warning_list_data, actor, window, f, work="read")
    if refused:
        errors, raw = refused, dict(request.query_params)
    return render(request, "warnings/warnings.html", {
        "active": "warnings", "page_title": "风险预警", "page": page, "raw": raw, "errors": errors,
        "departments": departments, "labels": LABELS, "levels": LEVELS,
        "city_wide": can(actor, "warnings.work") or not can(actor, "warnings.handle"),
        "pager": pager(request, number, page.total or 0, target="#warning-results")}, block="results")


async def warning_detail(request: Request) -> Response:
    db = request.app.state.db
    detail = await db.run(warning_service.get_warning, actor_of(request), int(request.path_params["warning_id"]),
                          work="read")
    w = detail.warning
    return render(request, "warnings/warning.html", {
        "active": "warnings", "page_title": f"预警 {w.code}", "detail": detail, "w": w, "labels": LABELS,
        "reasons": warning_reasons(w.reasons, w.explanation, top=5)})


async def warning_new(request: Request) -> Response:
    """发布预警 by hand for a scored entity (from the risk list)."""
    db = request.app.state.db
    actor = actor_of(request)
    entity_id = _int_param(request.query_params.get("entity_id") or "") or 0
    errors: dict[str, str] = {}
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = dict(await request.form())
        entity_id = _int_param(str(form.get("entity_id") or "")) or 0
        try:
            w = await db.run(warning_service.issue_warning, actor, entity_id=entity_id,
                             level=str(form.get("level") or "") or None,
                             reasons=[x.strip() for x in str(form.get("reasons") or "").splitlines() if x.strip()],
                             department_id=_int_param(str(form.get("department_id") or "")),
                             comment=str(form.get("comment") or ""))
        except DomainError as exc:
            errors = _errors(exc)
        else:
            flash(request, f"已发布预警 {w.code}。")
            return redirect_after_post(request, f"/warnings/{w.id}")
    info = await db.run(risk_list.entity_risk, actor, entity_id, work="read")

    def route_of(session, _actor):
        return routing.route_entity(session, entity_id), warning_service.open_warning_of(session, entity_id)

    route, open_w = await db.run(route_of, actor, work="read")
    departments = await db.run(department_choices, actor_of(request), work="read")
    reasons = reasons_of(info.current.contributions, info.current.rules_matched, top=3) if info.current else []
    form = form or {"level": (info.current.level if info.current else None) or "yellow",
                    "department_id": str(route.department_id or ""), "reasons": "\n".join(r.text for r in reasons)}
    return render(request, "warnings/warning_new.html", {
        "active": "warnings", "page_title": "发布预警", "info": info, "form": form, "errors": errors,
        "departments": departments, "levels": LEVELS, "open_warning": open_w, "route": route},
        status_code=422 if errors else 200)


# ---- routing table -------------------------------------------------------------------------------------------

async def routing_page(request: Request, errors: dict[str, str] | None = None,
                       form: dict[str, Any] | None = None) -> Response:
    db = request.app.state.db
    actor = actor_of(request)
    rules = await db.run(routing.list_routing_rules, actor, work="read")
    preview = await db.run(routing.preview_routing, actor, work="read")
    departments = await db.run(department_choices, actor_of(request), work="read")
    settings = await db.run(lambda s, _a: deadline_service.deadline_settings(s), actor, work="read")
    workdays = await db.run(deadline_service.list_workday_overrides, actor, work="read")
    return render(request, "warnings/routing.html", {
        "active": "warnings", "page_title": "派发规则", "rules": rules, "preview": preview,
        "departments": departments, "labels": LABELS, "errors": errors or {}, "form": form or {"kind": "district"},
        "deadlines": settings, "workdays": workdays, "can_settings": can(actor, "settings.manage")},
        status_code=422 if errors else 200)


async def routing_save(request: Request) -> Response:
    form = await request.form()
    data = routing.RoutingRuleInput(
        kind=str(form.get("kind") or ""), department_code=str(form.get("department_code") or ""),
        item_code=str(form.get("item_code") or "") or None,
        industry_prefix=str(form.get("industry_prefix") or "") or None,
        region_code=str(form.get("region_code") or "") or None,
        priority=_int_param(str(form.get("priority") or "")) or 100, note=str(form.get("note") or ""))
    try:
        await request.app.state.db.run(routing.save_routing_rule, actor_of(request), data)
    except DomainError as exc:
        return await routing_page(request, _errors(exc), dict(form))
    flash(request, "派发规则已保存。")
    return redirect_after_post(request, "/warnings/routing")


async def routing_delete(request: Request) -> Response:
    await request.app.state.db.run(routing.delete_routing_rule, actor_of(request),
                                   int(request.path_params["rule_id"]))
    flash(request, "派发规则已删除（已被预警引用的规则改为停用）。")
    return redirect_after_post(request, "/warnings/routing")


async def deadline_save(request: Request) -> Response:
    form = await request.form()
    try:
        await request.app.state.db.run(
            deadline_service.save_deadline_setting, actor_of(request), str(form.get("level") or ""),
            receipt_days=_int_param(str(form.get("receipt_days") or "")) or 0,
            receipt_day_kind=str(form.get("receipt_day_kind") or ""),
            disposal_days=_int_param(str(form.get("disposal_days") or "")) or 0,
            disposal_day_kind=str(form.get("disposal_day_kind") or ""))
    except InvalidInput as exc:  # refusals (not an admin) go to the error page as 403
        return await routing_page(request, {"deadline": "；".join(e.message for e in exc.errors)})
    flash(request, "处置时限已保存，用于此后发布的预警。")
    return redirect_after_post(request, "/warnings/routing")


async def workday_save(request: Request) -> Response:
    form = await request.form()
    try:
        day = _date_param(str(form.get("day") or ""), "day", "日期")
        if day is None:
            raise InvalidInput("日期：必填", field="day", code="required")
        await request.app.state.db.run(deadline_service.save_workday_override, actor_of(request), day,
                                       str(form.get("is_workday") or "1") == "1", str(form.get("note") or ""))
    except InvalidInput as exc:
        return await routing_page(request, {"workday": "；".join(e.message for e in exc.errors)})
    flash(request, "工作日调整已保存。")
    return redirect_after_post(request, "/warnings/routing")


async def workday_delete(request: Request) -> Response:
    day = _date_param(request.path_params["day"], "day", "日期")
    assert day is not None
    await request.app.state.db.run(deadline_service.delete_workday_override, actor_of(request), day)
    flash(request, "工作日调整已删除。")
    return redirect_after_post(request, "/warnings/routing")


routes = [
    Route("/analysis", risk_page),
    Route("/analysis/export.xlsx", risk_export),
    Route("/analysis/entities/{entity_id:int}", entity_risk_fragment),
    Route("/clues", clue_list),
    Route("/clues/new", clue_new),
    Route("/clues", clue_create, methods=["POST"]),
    Route("/clues/{clue_id:int}", clue_detail),
    Route("/clues/{clue_id:int}/judge", clue_judge, methods=["POST"]),
    Route("/warnings", warning_list),
    Route("/warnings/new", warning_new, methods=["GET", "POST"]),
    Route("/warnings/routing", routing_page),
    Route("/warnings/routing", routing_save, methods=["POST"]),
    Route("/warnings/routing/{rule_id:int}/delete", routing_delete, methods=["POST"]),
    Route("/warnings/deadlines", deadline_save, methods=["POST"]),
    Route("/warnings/workdays", workday_save, methods=["POST"]),
    Route("/warnings/workdays/{day}/delete", workday_delete, methods=["POST"]),
    Route("/warnings/{warning_id:int}", warning_detail),
]
