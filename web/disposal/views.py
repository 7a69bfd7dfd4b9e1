"""Disposal pages: the inbox (tabs with out-of-band counts, filters, sorting, pages, bulk receive, live updates by
server-sent events, Excel export), the disposal panel shown on a warning's page (only the steps allowed now, each
a form with inline validation; the timeline), feedback with evidence upload (streamed to disk), evidence download,
and the webhook subscriptions with their delivery log."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlmodel import select
from sse_starlette.sse import EventSourceResponse
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from domain.db import Database
from domain.disposal import evidence as ev
from domain.disposal import service as d
from domain.disposal.events import EVENT_KINDS, event_label
from domain.disposal.inbox import (
    SORTS,
    TABS,
    InboxFilter,
    bulk_receive,
    inbox_counts,
    inbox_page,
    inbox_rows_for_export,
)
from domain.disposal.models import EXTENSION_STATUSES, MEASURES, OUTCOMES
from domain.disposal.overdue import SWEEP_JOB, SWEEP_MINUTES
from domain.disposal.queries import disposal_detail
from domain.errors import DomainError, Forbidden, InvalidInput
from domain.identity.models import Department
from domain.identity.policy import can, has_city_wide_scope
from domain.jobs.schedule import ensure_schedule
from domain.notifications import webhooks as wh
from domain.notifications.bus import bus
from domain.notifications.models import DELIVERY_STATUSES
from domain.notifications.pump import DELIVER_JOB, NotificationPump
from domain.types import local_today, utcnow
from domain.warnings.models import LEVELS, WARNING_STATUSES
from web.common import actor_of, page_window, pager, read, redirect_after_post, run
from web.forms import field_errors
from web.templating import AUDIT_ACTION_NAMES, JOB_KIND_NAMES, flash, localtime, render, templates

__all__ = ["routes", "start_background"]

templates.env.filters["event_label"] = event_label
JOB_KIND_NAMES.setdefault(SWEEP_JOB, "超期巡检")
JOB_KIND_NAMES.setdefault(DELIVER_JOB, "推送投递")
AUDIT_ACTION_NAMES.update({f"warning.{k}": v for k, v in EVENT_KINDS.items()})
AUDIT_ACTION_NAMES.update({"evidence.upload": "上传证明材料", "evidence.download": "下载证明材料",
                           "webhook.create": "新建推送订阅", "webhook.update": "修改推送订阅",
                           "webhook.retry": "重发推送"})

LABELS = {"status": WARNING_STATUSES, "measure": MEASURES, "outcome": OUTCOMES, "extension": EXTENSION_STATUSES,
          "delivery": DELIVERY_STATUSES, "event": EVENT_KINDS}
PAGE_SIZE = 20
# the form inputs carry the domain's field names; only these differ ("_" is the templates' whole-form slot)
_FIELDS = {"evidence_ids": "evidence", "row_version": "_", "id": "_", "_form": "_"}


def start_background(db: Database) -> NotificationPump:
    """Called by the app's lifespan: the delivery loop and the overdue sweep's timetable."""
    try:
        with db.unit_of_work() as session:
            ensure_schedule(session, name="overdue_sweep", kind=SWEEP_JOB, interval_minutes=SWEEP_MINUTES)
    except Exception:  # a database behind its migrations is reported by /readyz
        import logging

        logging.getLogger("regwatch").warning("could not schedule the overdue sweep", exc_info=True)
    pump = NotificationPump(db)
    pump.start()
    return pump


def _errors(exc: DomainError) -> dict[str, str]:
    return field_errors(exc, rename=_FIELDS)


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


def _date(text: str | None, field: str, label: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{label}“{text}”不是有效日期（YYYY-MM-DD）", field=field, code="bad_date") from None


# ---- the inbox ----------------------------------------------------------------------------------------------------

def _filter(request: Request) -> tuple[InboxFilter, dict[str, str]]:
    q = request.query_params
    raw = {k: q.get(k, "") for k in ("tab", "level", "created_from", "created_to", "search", "department", "sort")}
    f = InboxFilter(tab=raw["tab"] or "pending", level=raw["level"] or None,
                    created_from=_date(raw["created_from"], "created_from", "开始日期"),
                    created_to=_date(raw["created_to"], "created_to", "结束日期"), search=raw["search"] or None,
                    department_id=_int(raw["department"]), sort=raw["sort"] or "newest")
    return f, raw


def _departments(session, actor) -> list[Any]:
    """The department filter's choices: (id, name) rows, not ORM departments."""
    return list(session.execute(select(Department.id, Department.name).where(Department.active)
                                .order_by(Department.code)).all())


def _inbox_data(session, actor, f: InboxFilter, req):
    """The tab's rows (no count of their own: the tab's total is its count, read with every tab's in one grouped
    statement at the same instant), the counts, the department choices and the unread notices."""
    from domain.notifications.notices import unread_count

    now = utcnow()
    page = inbox_page(session, actor, replace(req, count=False), f, now=now)
    counts = inbox_counts(session, actor, InboxFilter(level=f.level, created_from=f.created_from,
                                                      created_to=f.created_to, search=f.search,
                                                      department_id=f.department_id), now=now)
    page = replace(page, total=counts[f.tab])
    departments = _departments(session, actor) if has_city_wide_scope(actor) else []
    return page, counts, departments, unread_count(session, actor)


async def inbox(request: Request) -> Response:
    actor = actor_of(request)
    if not (has_city_wide_scope(actor) or can(actor, "warnings.handle")):
        raise Forbidden("没有权限查看处置工作台：需要“处置本部门预警”或研判权限", code="forbidden")
    errors: dict[str, str] = {}
    number, req = page_window(request, PAGE_SIZE)
    try:
        f, raw = _filter(request)
        page, counts, departments, unread = await read(request, _inbox_data, f, req)
    except InvalidInput as exc:
        errors = _errors(exc)
        f, raw = InboxFilter(), {k: "" for k in ("tab", "level", "created_from", "created_to", "search",
                                                 "department", "sort")}
        page, counts, departments, unread = await read(request, _inbox_data, f, req)
    params = {k: v for k, v in raw.items() if v and k != "tab"}
    ctx = {"active": "disposal", "page_title": "处置工作台", "page": page, "counts": counts, "f": f, "raw": raw,
           "tabs": TABS, "sorts": SORTS, "levels": LEVELS, "labels": LABELS, "departments": departments,
           "city_wide": has_city_wide_scope(actor), "errors": errors, "unread": unread,
           "pager": pager(request, number, page.total or 0, PAGE_SIZE, target="#inbox-results"),
           "query": urlencode(params), "can_receive": can(actor, "warnings.handle"),
           "export_url": "/disposal/export.xlsx?" + urlencode({k: v for k, v in raw.items() if v})}
    return render(request, "disposal/inbox.html", ctx, block="results")


async def inbox_export(request: Request) -> Response:
    from openpyxl import Workbook

    f, _ = _filter(request)
    rows = await read(request, inbox_rows_for_export, f)

    def build() -> bytes:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(TABS[f.tab][0])
        sheet.append(["预警编号", "监管对象", "统一社会信用代码", "等级", "状态", "责任部门", "下发时间", "签收期限",
                      "处置期限", "签收时间", "是否超期", "督办次数"])
        for r in rows:
            w = r.warning
            sheet.append([w.code, r.entity_name, r.entity_uscc, templates.env.filters["level_name"](w.level),
                          WARNING_STATUSES.get(w.status, w.status), r.department_name, localtime(w.dispatched_at),
                          localtime(w.receipt_due_at), localtime(w.disposal_due_at),
                          localtime(w.received_at) if w.received_at else "", "是" if r.overdue else "否",
                          r.urge_count])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    data = await asyncio.to_thread(build)
    name = f"disposal-{f.tab}.xlsx"
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


async def inbox_bulk_receive(request: Request) -> Response:
    form = await request.form()
    ids = [int(str(v)) for v in form.getlist("ids") if str(v).isdigit()]
    try:
        result = await run(request, bulk_receive, ids)
    except InvalidInput as exc:
        return redirect_after_post(request, "/disposal?tab=pending", error=exc.message)
    message = f"已签收 {len(result.received)} 条"
    if result.failed:
        message += "；未签收：" + "；".join(f"{code}（{why}）" for code, why in result.failed)
    return redirect_after_post(request, "/disposal?tab=pending", message=message)


def _in_scope(actor, message: dict[str, Any]) -> bool:
    return has_city_wide_scope(actor) or (actor.department_id is not None
                                           and actor.department_id in (message.get("departments") or []))


async def inbox_stream(request: Request) -> Response:
    """Server-sent events for the open inbox and detail pages: every warning event in the viewer's scope."""
    actor = actor_of(request)
    if not (has_city_wide_scope(actor) or can(actor, "warnings.handle")):
        raise Forbidden("没有权限订阅处置动态", code="forbidden")

    async def events() -> AsyncIterator[dict[str, str]]:
        async with bus.subscribe() as queue:
            yield {"event": "ready", "data": "{}"}
            while True:
                message = await queue.get()
                if _in_scope(actor, message):
                    yield {"event": "warning", "data": json.dumps({
                        "kind": message.get("kind"), "label": event_label(message.get("kind") or ""),
                        "warningId": message.get("warningId"), "warningCode": message.get("warningCode"),
                        "status": message.get("status")}, ensure_ascii=False)}

    return EventSourceResponse(events(), ping=15, headers={"cache-control": "no-store"})


# ---- the disposal panel of one warning ----------------------------------------------------------------------------

def _panel_data(session, actor, warning_id: int):
    detail = disposal_detail(session, actor, warning_id)
    names = {a.name for a in detail.actions}
    departments = _departments(session, actor) if names & {"approve_return", "reassign", "add_assist"} else []
    return detail, departments


def _embedded(request: Request) -> bool:
    """The panel inside the warning's own page (/warnings/{id}), which shows the timeline itself."""
    from urllib.parse import urlsplit

    return urlsplit(request.headers.get("hx-current-url", "")).path.startswith("/warnings/")


async def _panel(request: Request, warning_id: int, *, errors: dict[str, str] | None = None,
                 open_action: str | None = None, values: dict[str, Any] | None = None,
                 message: str | None = None, status_code: int = 200) -> Response:
    if message and not errors and _embedded(request):
        # a step done on the warning's page: reload it whole, so its facts and timeline show the step too
        flash(request, message)
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    detail, departments = await read(request, _panel_data, warning_id)
    ctx = {"detail": detail, "w": detail.warning, "departments": departments, "labels": LABELS,
           "errors": errors or {}, "open_action": open_action, "values": values or {}, "message": message,
           "actions": {a.name: a for a in detail.actions}, "active": "disposal",
           "page_title": f"处置 {detail.warning.code}", "today": local_today().isoformat(),
           "embedded": _embedded(request)}
    return render(request, "disposal/warning.html", ctx, block="panel", status_code=status_code)


async def warning_page(request: Request) -> Response:
    return await _panel(request, int(request.path_params["warning_id"]))


def _step_call(name: str, form: FormData):
    """The domain step for a form, and its arguments."""
    text = {k: str(form.get(k) or "") for k in ("reason", "comment", "department_id", "new_due_date")}
    dept = _int(text["department_id"])
    calls = {
        "receive": (d.receive_warning, (), {"comment": text["comment"]}),
        "request_return": (d.request_return, (text["reason"],), {}),
        "approve_return": (d.approve_return, (dept,), {"comment": text["comment"]}),
        "reject_return": (d.reject_return, (text["reason"],), {}),
        "reassign": (d.reassign_warning, (dept, text["reason"]), {}),
        "add_assist": (d.add_assisting_department, (dept,), {"comment": text["comment"]}),
        "request_extension": (d.request_extension, (_date(text["new_due_date"], "new_due_date", "延期日期"),
                                                    text["reason"]), {}),
        "approve_extension": (d.approve_extension, (), {"comment": text["comment"]}),
        "reject_extension": (d.reject_extension, (text["reason"],), {}),
        "urge": (d.urge_warning, (text["comment"],), {}),
        "rework": (d.rework_warning, (text["reason"],), {}),
        "close": (d.close_warning, (text["comment"],), {}),
        "dismiss": (d.dismiss_warning, (text["reason"],), {}),
    }
    return calls[name]


async def warning_step(request: Request) -> Response:
    warning_id = int(request.path_params["warning_id"])
    name = request.path_params["action"]
    form = await request.form()
    if name not in d.ACTIONS or name in ("submit_feedback", "assist_feedback"):
        return await _panel(request, warning_id, errors={"_": f"未知的处置操作“{name}”"}, status_code=200)
    try:
        fn, args, kwargs = _step_call(name, form)
        await run(request, fn, warning_id, *args, row_version=_int(str(form.get("row_version") or "")), **kwargs)
    except DomainError as exc:
        return await _panel(request, warning_id, errors=_errors(exc), open_action=name,
                            values={k: str(v) for k, v in form.items()},
                            status_code=200 if request.headers.get("hx-request") else 409)
    return await _panel(request, warning_id, message=f"已{d.ACTIONS[name].label}")


def _copy_upload(upload: UploadFile) -> Iterator[bytes]:
    upload.file.seek(0)
    while chunk := upload.file.read(1 << 16):
        yield chunk


def _submit_with_files(session, actor, warning_id: int, part: str, data: d.FeedbackInput, row_version: int | None,
                       stored: list[ev.StoredFile]):
    ids: list[int] = [ev.register_evidence(session, actor, warning_id, s).id or 0 for s in stored]
    data.evidence_ids = [*data.evidence_ids, *ids]
    step = d.submit_feedback if part == "main" else d.submit_assist_feedback
    return step(session, actor, warning_id, data, row_version=row_version)


async def feedback_submit(request: Request) -> Response:
    """The feedback form with its files: each file streamed to disk (size and type checked as it goes), then the
    files' rows and the feedback in one unit of work; a refusal removes the stored files again."""
    settings = request.app.state.settings
    form = await request.form(max_files=ev.MAX_FILES_PER_FEEDBACK, max_fields=100)
    warning_id = _int(str(form.get("warning_id") or "")) or 0
    part = "assist" if form.get("part") == "assist" else "main"
    action = "submit_feedback" if part == "main" else "assist_feedback"
    values = {k: str(v) for k, v in form.items() if not isinstance(v, UploadFile)}
    values["measures"] = ",".join(str(m) for m in form.getlist("measures"))
    stored: list[ev.StoredFile] = []
    try:
        uploads = [f for f in form.getlist("evidence") if isinstance(f, UploadFile) and f.filename]
        if uploads:  # who may add evidence is checked before anything is written to disk
            await read(request, ev.check_can_upload, warning_id)
        for upload in uploads:
            stored.append(await asyncio.to_thread(ev.store_upload, settings.var_dir, upload.filename or "",
                                                  _copy_upload(upload)))
        satisfaction = _int(str(form.get("satisfaction") or ""))
        data = d.FeedbackInput(measures=[str(m) for m in form.getlist("measures")],
                               outcome=str(form.get("outcome") or "") or None,
                               description=str(form.get("description") or ""),
                               satisfaction=satisfaction if part == "main" else None,
                               satisfaction_comment=str(form.get("satisfaction_comment") or ""))
        await run(request, _submit_with_files, warning_id, part, data,
                  _int(str(form.get("row_version") or "")), stored)
    except DomainError as exc:
        for s in stored:
            ev.discard_stored(settings.var_dir, s)
        return await _panel(request, warning_id, errors=_errors(exc), open_action=action, values=values,
                            status_code=200 if request.headers.get("hx-request") else 422)
    finally:
        await form.close()
    return await _panel(request, warning_id, message="处置反馈已提交" if part == "main" else "协办反馈已提交")


async def evidence_upload(request: Request) -> Response:
    """POST /disposal/evidence (multipart: warning_id, evidence): for API clients, before submitFeedback."""
    settings = request.app.state.settings
    form = await request.form(max_files=1, max_fields=10)
    try:
        warning_id = _int(str(form.get("warning_id") or "")) or 0
        await read(request, ev.check_can_upload, warning_id)
        upload = form.get("evidence")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("请选择要上传的文件（字段 evidence）", field="evidence", code="required")
        stored = await asyncio.to_thread(ev.store_upload, settings.var_dir, upload.filename, _copy_upload(upload))
        try:
            row = await run(request, ev.register_evidence, warning_id, stored)
        except DomainError:
            ev.discard_stored(settings.var_dir, stored)
            raise
    except DomainError as exc:
        status = {"not_found": 404, "forbidden": 403, "unauthenticated": 401}.get(exc.code, 422)
        return JSONResponse({"errors": [{"field": e.field, "code": e.code, "message": e.message}
                                        for e in exc.errors]}, status_code=status)
    finally:
        await form.close()
    return JSONResponse({"id": row.id, "name": row.original_name, "size": row.size_bytes,
                         "contentType": row.content_type}, status_code=201)


async def evidence_download(request: Request) -> Response:
    settings = request.app.state.settings
    row, path = await run(request, ev.evidence_for_download, int(request.path_params["evidence_id"]),
                          settings.var_dir)
    return FileResponse(path, media_type=row.content_type, filename=row.original_name,
                        content_disposition_type="attachment",
                        headers={"x-content-type-options": "nosniff", "cache-control": "private, no-store",
                                 "content-security-policy": "default-src 'none'; sandbox"})


# ---- notices ---------------------------------------------------------------------------------------------------

def _notices(session, actor):
    from domain.notifications.notices import list_notices, unread_count

    return list_notices(session, actor, limit=100), unread_count(session, actor)


async def notices_page(request: Request) -> Response:
    notices, unread = await read(request, _notices)
    return render(request, "disposal/notices.html", {"active": "disposal", "page_title": "我的通知",
                                                      "notices": notices, "unread": unread})


async def notices_read(request: Request) -> Response:
    from domain.notifications.notices import mark_notices_read

    count = await run(request, mark_notices_read, None)
    return redirect_after_post(request, "/disposal/notices", message=f"已将 {count} 条通知标为已读")


# ---- webhooks -----------------------------------------------------------------------------------------------------

def _webhooks_data(session, actor, req, status):
    subs = wh.list_subscriptions(session, actor)
    page = wh.page_deliveries(session, actor, req, max_size=200, status=status or None)
    attempts = wh.attempts_of(session, actor, [row[0].id for row in page.items])
    return subs, page, attempts, _departments(session, actor)


async def webhooks_page(request: Request) -> Response:
    number, req = page_window(request, 50)
    status = request.query_params.get("status", "")
    subs, page, attempts, departments = await read(request, _webhooks_data, req, status)
    return render(request, "disposal/webhooks.html", {
        "active": "disposal", "page_title": "推送订阅与投递记录", "subs": subs, "page": page, "attempts": attempts,
        "departments": {dep.id: dep.name for dep in departments}, "labels": LABELS, "status": status,
        "event_kinds": EVENT_KINDS, "pager": pager(request, number, page.total or 0, 50), "errors": {},
        "created_secret": None}, block="deliveries")


async def webhooks_create(request: Request) -> Response:
    form = await request.form()
    data = wh.SubscriptionInput(name=str(form.get("name") or ""), url=str(form.get("url") or ""),
                                secret=str(form.get("secret") or "") or None,
                                event_kinds=[str(k) for k in form.getlist("event_kinds")],
                                department_ids=[int(str(v)) for v in form.getlist("department_ids")
                                                if str(v).isdigit()])
    try:
        sub = await run(request, wh.create_subscription, data)
    except DomainError as exc:
        return redirect_after_post(request, "/disposal/webhooks", error=exc.message)
    return redirect_after_post(request, "/disposal/webhooks",
                               message=f"已新建推送订阅“{sub.name}”，签名密钥：{sub.secret}（仅显示这一次，请妥善保存）")


async def webhooks_toggle(request: Request) -> Response:
    sub_id = int(request.path_params["subscription_id"])
    form = await request.form()
    active = form.get("active") == "1"
    try:
        await run(request, wh.update_subscription, sub_id, wh.SubscriptionInput(active=active))
    except DomainError as exc:
        return redirect_after_post(request, "/disposal/webhooks", error=exc.message)
    return redirect_after_post(request, "/disposal/webhooks", message="已启用" if active else "已停用")


async def webhooks_retry(request: Request) -> Response:
    try:
        await run(request, wh.retry_now, int(request.path_params["delivery_id"]))
    except DomainError as exc:
        return redirect_after_post(request, "/disposal/webhooks", error=exc.message)
    return redirect_after_post(request, "/disposal/webhooks", message="已安排立即重发")


routes = [
    Route("/disposal", inbox),
    Route("/disposal/export.xlsx", inbox_export),
    Route("/disposal/stream", inbox_stream),
    Route("/disposal/bulk-receive", inbox_bulk_receive, methods=["POST"]),
    Route("/disposal/feedback", feedback_submit, methods=["POST"]),
    Route("/disposal/evidence", evidence_upload, methods=["POST"]),
    Route("/disposal/evidence/{evidence_id:int}", evidence_download),
    Route("/disposal/warnings/{warning_id:int}", warning_page),
    Route("/disposal/warnings/{warning_id:int}/act/{action}", warning_step, methods=["POST"]),
    Route("/disposal/notices", notices_page),
    Route("/disposal/notices/read", notices_read, methods=["POST"]),
    Route("/disposal/webhooks", webhooks_page),
    Route("/disposal/webhooks", webhooks_create, methods=["POST"]),
    Route("/disposal/webhooks/{subscription_id:int}/active", webhooks_toggle, methods=["POST"]),
    Route("/disposal/webhooks/deliveries/{delivery_id:int}/retry", webhooks_retry, methods=["POST"]),
]
UPLOAD_PATHS = ("/disposal/feedback", "/disposal/evidence")
