"""Integration pages (集成对接): data sources with their status, file import with progress, batch detail with
errors and a downloadable error report."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from domain.errors import DomainError
from domain.identity.policy import can, require
from domain.integration import service
from domain.integration.models import BATCH_OUTCOME_LABELS, INGEST_KINDS, batch_outcome
from domain.jobs import service as jobs
from domain.pagination import PageRequest, decode_cursor
from domain.supervision.fields import KIND_LABELS, RECORD_FIELDS
from domain.supervision.files import FILE_FORMATS
from domain.supervision.imports import IMPORT_JOB, submit_import
from web.common import actor_of, page_window, pager
from web.templating import render

__all__ = ["routes"]

MODE_LABELS = {"partial": "部分导入（保留有效记录）", "all_or_nothing": "全部或全不（任一记录有误则全部不导入）"}
STATUS_LABELS = BATCH_OUTCOME_LABELS  # by `batch_outcome(...)`: 全部接收 / 部分接收 / 全部拒收 / 整批拒收 / …
CHANNEL_LABELS = {"api": "接口推送", "file": "文件导入", "cli": "命令行", "demo": "演示数据"}


def _common() -> dict:
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS, "channel_labels": CHANNEL_LABELS,
            "outcome": lambda b: batch_outcome(b.status, b.accepted, b.rejected),
            "source_kind_labels": service.DATA_SOURCE_KIND_LABELS, "mode_labels": MODE_LABELS}


async def source_list(request: Request) -> Response:
    status = await request.app.state.db.run(service.integration_status, actor_of(request))
    return render(request, "integration/sources.html", {
        "active": "sources", "page_title": "数据源", "status": status, **_common()})


async def _import_page(request: Request, *, error: str | None = None, form: dict | None = None,
                       job=None, status_code: int = 200) -> Response:
    db = request.app.state.db
    actor = actor_of(request)
    number, window = page_window(request)
    sources = await db.run(service.list_data_sources, actor)
    default_source = next((s.code for s in sources if s.active and s.kind == "manual"), None)
    batches = await db.run(service.list_batches, actor, window)
    return render(request, "integration/imports.html", {
        "active": "imports", "page_title": "数据导入", "sources": [s for s in sources if s.active],
        "batches": batches, "pager": pager(request, number, batches.total), "kinds": INGEST_KINDS,
        "fields": RECORD_FIELDS, "formats": FILE_FORMATS, "default_source": default_source,
        "error": error, "form": form or {}, "job": job, "can_ingest": can(actor, "data.ingest"),
        **_common()}, status_code=status_code)


async def import_page(request: Request) -> Response:
    job = None
    job_id = request.query_params.get("job", "")
    if job_id.isdigit():
        job = await request.app.state.db.run(jobs.get_job, actor_of(request), int(job_id))
    return await _import_page(request, job=job)


def _too_large(limit: int) -> str:
    return (f"文件超过上传上限 {limit / 1024 / 1024:.0f} MB（REGWATCH_MAX_UPLOAD_BYTES）："
            "请拆分后分批导入，或在服务器上用命令行 regwatch import 导入")


async def import_upload(request: Request) -> Response:
    """Save the upload under var/imports, queue the import job, and show its progress.

    Who may not ingest is refused (403) before the body is read; a body over the upload limit is refused (413)
    from its Content-Length, or as soon as the bytes copied to disk pass the limit.
    """
    settings = request.app.state.settings
    require(actor_of(request), "data.ingest")
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return await _import_page(request, error=_too_large(limit), status_code=413)
    async with request.form(max_part_size=64 * 1024 * 1024) as form:
        values = {k: form.get(k) for k in ("kind", "source", "mode")}
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await _import_page(request, error="请选择要导入的文件", form=values, status_code=400)
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in FILE_FORMATS:
            return await _import_page(request, error=f"不支持的文件格式“{suffix or upload.filename}”，请使用 "
                                      f"{' / '.join(FILE_FORMATS)}", form=values, status_code=400)
        folder = Path(settings.var_dir) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}{suffix}"
        written = 0
        with path.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    break
                out.write(chunk)
        if written > limit:
            path.unlink(missing_ok=True)
            return await _import_page(request, error=_too_large(limit), form=values, status_code=413)
        file_name = upload.filename
    try:
        job = await request.app.state.db.run(
            submit_import, actor_of(request), kind=str(values["kind"] or ""), source=str(values["source"] or ""),
            path=path, file_name=file_name, mode=str(values["mode"] or "partial"))
    except DomainError as exc:
        path.unlink(missing_ok=True)
        return await _import_page(request, error=exc.message, form=values, status_code=400)
    return RedirectResponse(f"/imports?job={job.id}", status_code=303)


async def import_progress(request: Request) -> Response:
    job = await request.app.state.db.run(jobs.get_job, actor_of(request), request.path_params["job_id"])
    if job.kind != IMPORT_JOB:
        from domain.errors import NotFound

        raise NotFound(f"导入任务 {job.id} 不存在")
    return render(request, "integration/imports.html", {"job": job, **_common()}, block="progress")


async def batch_detail(request: Request) -> Response:
    db = request.app.state.db
    actor = actor_of(request)
    batch_id = request.path_params["batch_id"]
    row = await db.run(service.get_batch, actor, batch_id)
    number, window = page_window(request, 100)
    errors = await db.run(service.batch_errors, actor, batch_id, window)
    return render(request, "integration/batch.html", {
        "active": "imports", "page_title": f"导入批次 {batch_id}", "row": row, "batch": row.batch,
        "errors": errors, "pager": pager(request, number, errors.total, 100), **_common()}, block="errors")


async def batch_error_report(request: Request) -> Response:
    """Every rejected record of the batch as CSV (UTF-8 with BOM, so Excel shows the Chinese)."""
    db = request.app.state.db
    actor = actor_of(request)
    batch_id = request.path_params["batch_id"]
    row = await db.run(service.get_batch, actor, batch_id)
    labels = {spec.name: spec.label for spec in RECORD_FIELDS.get(row.batch.kind, ())}

    async def lines() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["文件行号(表头为第1行)", "序号(index，从0起)", "字段", "字段名", "错误代码", "错误说明"])
        yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
        after = None  # keyset: each chunk starts after the last one's cursor, no count, no growing OFFSET
        while True:
            page = await db.run(service.batch_errors, actor, batch_id,
                                PageRequest(first=1000, after=after, count=False))
            if not page.items:
                return
            after = decode_cursor(page.cursor(len(page.items) - 1))
            buffer.seek(0)
            buffer.truncate()
            for e in page.items:
                writer.writerow([e.row_number if e.row_number is not None else "", e.record_index,
                                 labels.get(e.field or "", ""), e.field or "", e.code, e.message])
            yield buffer.getvalue().encode("utf-8")
            if not page.has_next:
                return

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="batch-{batch_id}-errors.csv"'})


routes = [
    Route("/sources", source_list),
    Route("/imports", import_page, methods=["GET"]),
    Route("/imports", import_upload, methods=["POST"]),
    Route("/imports/jobs/{job_id:int}", import_progress),
    Route("/batches/{batch_id:int}", batch_detail),
    Route("/batches/{batch_id:int}/errors.csv", batch_error_report),
]
