"""`regwatch report --period 2026H1`: generate a period's analysis report (DOCX + printable HTML) as a job."""

from __future__ import annotations

import typer

from cli.common import console, database, fail, run_with_progress, settings

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(period: str = typer.Option(..., "--period", "-p", help="2026H1, 2026H2, 2026Q3, 2026-07, 2026 or "
                                                                      "2026-03-01~2026-05-31"),
               ) -> None:
        """Generate the analysis report of a period (分析报告) into the archive under REGWATCH_VAR_DIR."""
        from domain.analysis.periods import parse_period
        from domain.errors import InvalidInput
        from reports import jobs  # noqa: F401  (registers the report job)

        try:
            code = parse_period(period).code
        except InvalidInput as exc:
            fail(exc.message, 2)
            return
        cfg = settings()
        db = database()
        job = run_with_progress("analysis_report", {"period": code, "var_dir": str(cfg.var_dir)}, db=db)
        result = job.result or {}
        from domain.reports.models import AnalysisReport

        with db.unit_of_work() as session:
            row = session.get(AnalysisReport, result.get("report_id"))
            assert row is not None
            docx, html = cfg.var_dir / row.docx_path, cfg.var_dir / row.html_path
        console.print(f"分析报告已生成：编号 {row.id}，期间 {row.period}")
        console.print(str(docx))
        console.print(str(html))
