"""`regwatch report --period 2026H1` as a real process: the report lands in the archive under REGWATCH_VAR_DIR."""

from __future__ import annotations

from docx import Document
from sqlmodel import select

from domain.reports.models import AnalysisReport
from tests.cli.test_platform_cli import regwatch
from tests.domain.analysis.dataset import build_city


def test_report_command_generates_and_archives(db, database_url, tmp_path):
    with db.unit_of_work() as s:
        build_city(s)
    result = regwatch("report", "--period", "2026H1", url=database_url, var_dir=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "分析报告已生成" in result.stdout
    with db.unit_of_work() as s:
        (row,) = s.exec(select(AnalysisReport)).all()
    assert row.period == "2026H1" and row.generated_by_name == "system"
    doc = Document(str(tmp_path / row.docx_path))
    assert any("工作建议" in p.text for p in doc.paragraphs)
    assert (tmp_path / row.html_path).is_file()


def test_bad_period_is_refused_in_chinese(database_url, tmp_path):
    result = regwatch("report", "--period", "2026H3", url=database_url, var_dir=tmp_path)
    assert result.returncode == 2 and "期间“2026H3”无效" in result.stderr
    assert "Traceback" not in result.stderr
