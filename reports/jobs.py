"""Report jobs: generate a period's report (DOCX + HTML) into the archive; the half-yearly schedule.

Imported by the composition root (regwatch_app, cli) so the handlers are registered.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from domain.analysis.periods import Period, last_closed_half_year, parse_period
from domain.identity.actor import Actor
from domain.jobs.models import JobSchedule
from domain.jobs.schedule import ensure_schedule
from domain.jobs.service import JobContext, job_handler
from domain.reports.data import ReportData, gather_report_data
from domain.reports.models import AnalysisReport
from domain.reports.service import REPORT_JOB, SCHEDULED_REPORT_JOB, record_report, report_exists
from domain.types import LOCAL_TZ, local_today, utcnow
from reports.render import outline, render_docx, render_html

__all__ = ["REPORT_SCHEDULE", "ensure_report_schedule", "generate_report", "write_report_files"]

REPORT_SCHEDULE = "half_year_report"


def write_report_files(data: ReportData, actor: Actor, var_dir: str | Path, job_id: int | None) -> dict[str, Any]:
    """Draw the charts, render DOCX and HTML, write both under <var_dir>/reports/<period>/ (no database work)."""
    sections = outline(data)
    docx = render_docx(data, sections, generated_by=actor.username)
    page = render_html(data, sections, generated_by=actor.username)
    stamp = utcnow().astimezone(LOCAL_TZ).strftime("%Y%m%dT%H%M%S")  # the operator reads it: Beijing time
    rel = Path("reports") / data.period.code.replace("~", "_") / f"report-{stamp}-{job_id or 'now'}"
    base = Path(var_dir)
    (base / rel.parent).mkdir(parents=True, exist_ok=True)
    (base / rel.with_suffix(".docx")).write_bytes(docx)
    (base / rel.with_suffix(".html")).write_text(page, encoding="utf-8")
    return {"docx_path": str(rel.with_suffix(".docx")), "html_path": str(rel.with_suffix(".html")),
            "docx_bytes": len(docx)}


def _archive(session: Session, actor: Actor, data: ReportData, files: dict[str, Any],
             job_id: int | None) -> AnalysisReport:
    return record_report(session, actor, data.period, title=data.title, summary=data.summary(),
                         evaluation_run_id=data.evaluation.run.id if data.evaluation else None, job_id=job_id,
                         **files)


def generate_report(session: Session, actor: Actor, period: Period, var_dir: str | Path, *,
                    job_id: int | None = None) -> AnalysisReport:
    """Gather, draw, write and archive in one unit of work (tests, scripts); the job splits it in three."""
    data = gather_report_data(session, actor, period)
    return _archive(session, actor, data, write_report_files(data, actor, var_dir, job_id), job_id)


def _generate_in_steps(ctx: JobContext, period: Period) -> AnalysisReport:
    """Short transactions around the slow part, so progress can be written meanwhile (SQLite has one writer)."""
    ctx.progress(0, 3, "汇总数据", force=True)
    with ctx.db.unit_of_work() as session:
        data = gather_report_data(session, ctx.actor, period)
    ctx.progress(1, 3, "绘制图表并生成文档", force=True)
    files = write_report_files(data, ctx.actor, _var_dir(ctx.params), ctx.job_id)
    ctx.progress(2, 3, "归档", force=True)
    with ctx.db.unit_of_work() as session:
        row = _archive(session, ctx.actor, data, files, ctx.job_id)
    ctx.progress(3, 3, "完成", force=True)
    return row


def _var_dir(params: dict[str, Any]) -> str:
    if params.get("var_dir"):
        return str(params["var_dir"])
    from domain.settings import get_settings

    return str(get_settings().var_dir)


@job_handler(REPORT_JOB)
def _run_report(ctx: JobContext) -> dict[str, Any]:
    period = parse_period(ctx.params.get("period"))
    row = _generate_in_steps(ctx, period)
    return {"report_id": row.id, "period": period.code}


@job_handler(SCHEDULED_REPORT_JOB)
def _run_half_year(ctx: JobContext) -> dict[str, Any]:
    """Daily check: once a half year has closed and has no archived report, generate it (two a year)."""
    # "today" in the params: act as of another day (a catch-up run, tests)
    today = date.fromisoformat(ctx.params["today"]) if ctx.params.get("today") else local_today()
    period = last_closed_half_year(today)
    with ctx.db.unit_of_work() as session:
        if report_exists(session, period):
            return {"period": period.code, "skipped": "已有该期报告"}
    row = _generate_in_steps(ctx, period)
    return {"report_id": row.id, "period": period.code}


def ensure_report_schedule(session: Session, *, var_dir: str | Path, daily_at: str = "02:30") -> JobSchedule:
    """The half-yearly report timetable: checked daily, generates only when a closed half year lacks a report."""
    return ensure_schedule(session, name=REPORT_SCHEDULE, kind=SCHEDULED_REPORT_JOB, daily_at=daily_at,
                           params={"var_dir": str(var_dir)})
