"""Clue files through the ingestion path: a GBK CSV and an XLSX import as the `clues` kind — same batches and per-row
error report as supervision data, the clues' own validation, idempotency and deduplication."""

from openpyxl import Workbook
from sqlmodel import select

from domain.identity.actor import SYSTEM
from domain.integration.models import IngestionBatch, IngestionError
from domain.jobs.runner import run_job_now
from domain.supervision.imports import IMPORT_JOB, import_params
from domain.supervision.uscc import make_uscc_from_int
from domain.warnings.models import RiskClue
from tests.domain.warnings.support import build_city


def test_a_gbk_csv_of_clues_imports_with_row_errors_and_again_changes_nothing(db, tmp_path):
    with db.unit_of_work() as s:
        city = build_city(s)
        known = city.entities[0].uscc
    unknown = make_uscc_from_int("320505", 777)
    lines = ["线索编号,统一社会信用代码,监管对象名称,线索来源,线索类别,反映内容,接收日期",
             f"G-1,{known},,12345,食品安全,过期食品,2026-03-01",
             f"G-2,{unknown},某未登记商户,12315,价格,价格欺诈,2026/03/02",
             f"G-3,{known},,12345,食品安全,同一问题再次反映,2026-03-05",
             "G-4,,,12345,,缺少对象和类别,2026-03-05"]
    path = tmp_path / "线索.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    for _attempt in range(2):
        params = import_params(kind="clues", source="dept-push", path=path, file_name=path.name,
                               delete_after=False)
        job = run_job_now(db, SYSTEM, IMPORT_JOB, params)
        assert job.status == "succeeded", job.error
        assert (job.result["received"], job.result["accepted"], job.result["rejected"]) == (4, 3, 1)
    with db.unit_of_work() as s:
        clues = {c.external_id: c for c in s.exec(select(RiskClue))}
        assert len(clues) == 3  # the second import changed nothing
        assert clues["G-1"].source == "hotline_12345" and clues["G-2"].entity_problem == "unknown"
        assert clues["G-3"].duplicate_of_id == clues["G-1"].id and clues["G-3"].status == "duplicate"
        batch = s.exec(select(IngestionBatch).order_by(IngestionBatch.id)).first()
        assert batch.kind == "clues" and batch.rejected == 1
        errors = s.exec(select(IngestionError).where(IngestionError.batch_id == batch.id)).all()
        assert {(e.row_number, e.field, e.code) for e in errors} == {(5, "uscc", "required"),
                                                                   (5, "category", "required")}


def test_an_xlsx_all_or_nothing_keeps_nothing_when_a_row_fails(db, tmp_path):
    with db.unit_of_work() as s:
        city = build_city(s)
        known = city.entities[1].uscc
    wb = Workbook()
    ws = wb.active
    ws.append(["线索编号", "统一社会信用代码", "线索类别", "线索描述", "接收日期"])
    ws.append(["X-1", known, "广告", "虚假宣传", "2026-03-01"])
    ws.append(["X-2", known, "广告", "虚假宣传", "2099-01-01"])
    path = tmp_path / "clues.xlsx"
    wb.save(path)
    params = import_params(kind="clues", source="dept-push", path=path, file_name=path.name, mode="all_or_nothing",
                           delete_after=False)
    job = run_job_now(db, SYSTEM, IMPORT_JOB, params)
    assert job.status == "succeeded" and job.result["status"] == "rejected", (job.status, job.error, job.result)
    with db.unit_of_work() as s:
        assert s.exec(select(RiskClue)).all() == []
        error = s.exec(select(IngestionError)).one()
        assert (error.row_number, error.code) == (3, "future_date") and "接收日期" in error.message
