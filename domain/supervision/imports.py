"""File import as a job (导入任务): the pages and the CLI submit `supervision.import`, which streams the file
through `ingest_stream` and reports progress; the batch and its errors are the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session

from domain.errors import InvalidInput
from domain.identity.actor import Actor
from domain.integration.models import INGEST_KINDS, batch_outcome
from domain.jobs.models import Job
from domain.jobs.service import JobContext, job_handler, submit_job
from domain.supervision.fields import KIND_LABELS
from domain.supervision.files import FILE_FORMATS, open_records
from domain.supervision.ingest import INGEST_MODES, authorise_source, ingest_stream
from domain.supervision.validation import printable

__all__ = ["IMPORT_JOB", "import_params", "run_import", "submit_import"]

IMPORT_JOB = "supervision.import"


def import_params(*, kind: str, source: str, path: Path, file_name: str | None = None, mode: str = "partial",
                  channel: str = "file", delete_after: bool = False) -> dict[str, Any]:
    """Check what can be checked before the job starts and build its parameters."""
    if kind not in INGEST_KINDS:
        raise InvalidInput(f"未知的数据类别“{kind}”，可选：{'、'.join(INGEST_KINDS)}", field="kind",
                           code="invalid_kind")
    if mode not in INGEST_MODES:
        raise InvalidInput(f"未知的导入模式“{mode}”", field="mode", code="invalid_mode")
    name = printable(file_name or path.name)[:255]  # an upload's name is the client's to choose
    if Path(name).suffix.lower() not in FILE_FORMATS:
        raise InvalidInput(f"不支持的文件格式“{Path(name).suffix or name}”，请使用 {' / '.join(FILE_FORMATS)}",
                           field="file", code="unsupported_format")
    return {"kind": kind, "source": source, "path": str(path), "file_name": name, "mode": mode,
            "channel": channel, "delete_after": delete_after}


@job_handler(IMPORT_JOB)
def run_import(ctx: JobContext) -> dict[str, Any]:
    params = ctx.params
    path = Path(params["path"])
    kind = params["kind"]
    try:
        with open_records(path, kind) as opened:
            total = opened.total
            ctx.progress(0, total, f"导入{KIND_LABELS[kind]}", force=True)
            result = ingest_stream(
                ctx.db, ctx.actor, source=params["source"], kind=kind, records=opened.records,
                mode=params.get("mode", "partial"), channel=params.get("channel", "file"),
                file_name=params.get("file_name"), job_id=ctx.job_id, max_errors=0,
                on_progress=lambda done: ctx.progress(done, max(total or 0, done) or None,
                                                      f"已读取 {done} 条"))
    finally:
        if params.get("delete_after"):
            path.unlink(missing_ok=True)
    ctx.progress(result.received, result.received, "完成", force=True)
    return {"batch_id": result.batch_id, "kind": kind, "status": result.status,
            "outcome": batch_outcome(result.status, result.accepted, result.rejected), "received": result.received,
            "accepted": result.accepted, "rejected": result.rejected, "errors_total": result.errors_total,
            "encoding": opened.encoding}


def submit_import(session: Session, actor: Actor, *, kind: str, source: str, path: Path, file_name: str,
                  mode: str = "partial", channel: str = "file", delete_after: bool = True) -> Job:
    """Queue a file import after checking now what the job would refuse later (who writes as which source)."""
    params = import_params(kind=kind, source=source, path=path, file_name=file_name, mode=mode, channel=channel,
                           delete_after=delete_after)
    authorise_source(session.connection(), actor, source)
    return submit_job(session, actor, IMPORT_JOB, params)
