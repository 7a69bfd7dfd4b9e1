"""The report archive: start a generation job, record a generated report, list, read, locate its files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.analysis.periods import Period, parse_period
from domain.audit.service import record_audit
from domain.errors import NotFound
from domain.identity.actor import Actor
from domain.identity.policy import require
from domain.jobs.models import Job
from domain.jobs.service import submit_job
from domain.reports.models import AnalysisReport

__all__ = [
    "REPORT_JOB",
    "SCHEDULED_REPORT_JOB",
    "get_report",
    "list_reports",
    "record_report",
    "report_exists",
    "report_file",
    "start_report_job",
]

REPORT_JOB = "analysis_report"
SCHEDULED_REPORT_JOB = "analysis_report.half_year"
FILE_KINDS = {"docx": ("docx_path", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
              "html": ("html_path", "text/html; charset=utf-8")}


def start_report_job(session: Session, actor: Actor, period: str | Period, *, var_dir: str | Path) -> Job:
    """Queue the generation of a period's report (a job: charts and the document take a few seconds)."""
    require(actor, "reports.read")
    require(actor, "evaluations.manage")
    period = parse_period(period)
    return submit_job(session, actor, REPORT_JOB, {"period": period.code, "var_dir": str(var_dir)})


def record_report(session: Session, actor: Actor, period: Period, *, title: str, docx_path: str, html_path: str,
                  docx_bytes: int, summary: dict[str, Any], evaluation_run_id: int | None,
                  job_id: int | None) -> AnalysisReport:
    row = AnalysisReport(period=period.code, period_start=period.start, period_end=period.end, title=title,
                         docx_path=docx_path, html_path=html_path, docx_bytes=docx_bytes, summary=summary,
                         evaluation_run_id=evaluation_run_id, job_id=job_id, generated_by_id=actor.user_id,
                         generated_by_name=actor.username)
    session.add(row)
    session.flush()
    record_audit(session, actor, "report.generate", "analysis_report", row.id, {"period": period.code,
                                                                                 "job_id": job_id})
    return row


def report_exists(session: Session, period: Period) -> bool:
    return session.execute(sa.select(col(AnalysisReport.id)).where(col(AnalysisReport.period) == period.code).limit(1)
                           ).first() is not None


def list_reports(session: Session, actor: Actor, *, period: str | None = None, limit: int = 100
                 ) -> list[AnalysisReport]:
    require(actor, "reports.read")
    stmt = select(AnalysisReport).order_by(AnalysisReport.generated_at.desc(),  # type: ignore[attr-defined]
                                           AnalysisReport.id.desc())  # type: ignore[union-attr]
    if period:
        stmt = stmt.where(AnalysisReport.period == parse_period(period).code)
    return list(session.exec(stmt.limit(limit)))


def get_report(session: Session, actor: Actor, report_id: int) -> AnalysisReport:
    require(actor, "reports.read")
    row = session.get(AnalysisReport, report_id)
    if row is None:
        raise NotFound(f"分析报告 {report_id} 不存在", field="id")
    return row


def report_file(report: AnalysisReport, kind: str, var_dir: str | Path) -> tuple[Path, str, str]:
    """(path, media type, download name) of a report's file; NotFound when the file is gone from disk."""
    if kind not in FILE_KINDS:
        raise NotFound(f"报告文件类型“{kind}”不存在（可选 docx、html）", field="kind")
    attr, media = FILE_KINDS[kind]
    base = Path(var_dir).resolve()
    path = (base / getattr(report, attr)).resolve()
    if base not in path.parents or not path.is_file():
        raise NotFound(f"分析报告 {report.id} 的 {kind} 文件不在归档目录中（可能已被移走），请重新生成", field="kind")
    return path, media, f"分析报告-{report.period}-{report.id}.{kind}"
