"""File import: encodings, formats, English and Chinese headers, the import job, idempotent re-import, and an
import killed half-way."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from domain.errors import InvalidInput
from domain.integration.models import IngestionBatch, IngestionError
from domain.jobs.models import Job
from domain.jobs.runner import run_job_now
from domain.supervision.files import open_records
from domain.supervision.imports import IMPORT_JOB, import_params
from domain.supervision.models import SupervisionAction
from tests.domain.supervision.factories import ADMIN, seed_basics, uscc

ROOT = Path(__file__).resolve().parents[3]
CN_HEADERS = ["行为编号", "行为类别", "监管事项编码", "实施部门编码", "统一社会信用代码", "开始日期", "决定日期",
              "结果", "罚没金额（元）", "文书编号", "执法人员"]
EN_HEADERS = ["external_id", "kind", "item_code", "department_code", "uscc", "started_on", "decided_on", "result",
              "penalty_amount", "document_number", "officers"]


def rows(n: int, start: int = 0) -> list[list[str]]:
    return [[f"F-{i}", "检查", "320500-SCJG-JC-001", "SZ-SCJG", uscc(i % 3), "2025-03-01", "2025-03-02",
             "不合格" if i % 2 else "合格", "", "", "张三"] for i in range(start, start + n)]


def write_csv(path: Path, headers: list[str], data: list[list[str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(data)
    return path


@pytest.fixture
def basics(session):
    return seed_basics(session)


def run_import(db, path: Path, kind: str = "actions", source: str = "SCJG-SYS", **kw) -> Job:
    return run_job_now(db, ADMIN, IMPORT_JOB, import_params(kind=kind, source=source, path=path, **kw))


@pytest.mark.parametrize(("encoding", "headers"), [
    ("utf-8", EN_HEADERS), ("utf-8-sig", CN_HEADERS), ("gbk", CN_HEADERS), ("gb18030", EN_HEADERS)])
def test_csv_in_each_encoding_with_either_header_language(db, basics, tmp_path, encoding, headers):
    bad = [["F-bad", "检查", "320500-SCJG-JC-001", "SZ-SCJG", uscc(0), "2025-03-01", "", "优秀", "", "", "李四"]]
    path = write_csv(tmp_path / "actions.csv", headers, rows(4) + bad, encoding)
    with open_records(path, "actions") as opened:
        assert opened.encoding == ("gb18030" if encoding in ("gbk", "gb18030") else encoding)
    job = run_import(db, path)
    assert job.status == "succeeded", job.error
    assert {k: job.result[k] for k in ("received", "accepted", "rejected")} == {
        "received": 5, "accepted": 4, "rejected": 1}
    with db.unit_of_work() as s:
        assert s.exec(select(SupervisionAction.result).where(SupervisionAction.external_id == "F-1")).one() == "fail"
        error = s.exec(select(IngestionError)).one()
        assert (error.record_index, error.field, error.code) == (4, "result", "invalid_enum")
        assert "优秀" in error.message
        batch = s.get(IngestionBatch, job.result["batch_id"])
        assert (batch.channel, batch.file_name, batch.job_id) == ("file", "actions.csv", job.id)


def test_xlsx_with_typed_cells(db, basics, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(CN_HEADERS)
    sheet.append(["X-1", "行政处罚", "320500-SCJG-CF-001", "SZ-SCJG", uscc(1), datetime(2025, 1, 5),
                  date(2025, 1, 20), None, 1500.5, "苏市监罚〔2025〕7号", "王五"])
    sheet.append(["X-2", "检查", "320500-SCJG-JC-001", "SZ-SCJG", uscc(2), "2025-02-01", None, "合格", None, None,
                  None])
    sheet.append([None] * len(CN_HEADERS))  # trailing blank row
    workbook.save(tmp_path / "actions.xlsx")
    job = run_import(db, tmp_path / "actions.xlsx")
    assert (job.result["accepted"], job.result["rejected"]) == (2, 0)
    with db.unit_of_work() as s:
        penalty = s.exec(select(SupervisionAction).where(SupervisionAction.external_id == "X-1")).one()
        assert (penalty.started_on, float(penalty.penalty_amount)) == (date(2025, 1, 5), 1500.5)


def test_jsonl_lines_with_english_or_chinese_keys_and_a_broken_line(db, basics, tmp_path):
    lines = [json.dumps(dict(zip(EN_HEADERS, rows(1)[0], strict=True)), ensure_ascii=False),
             json.dumps(dict(zip(CN_HEADERS, rows(1, 1)[0], strict=True)), ensure_ascii=False),
             "{not json", json.dumps({"external_id": "J", "colour": "red"})]
    path = tmp_path / "actions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    job = run_import(db, path)
    assert (job.result["accepted"], job.result["rejected"]) == (2, 2)
    with db.unit_of_work() as s:
        errors = s.exec(select(IngestionError).order_by(IngestionError.record_index)).all()
        assert [(e.record_index, e.code) for e in errors] == [(2, "invalid_json"), (3, "unknown_field")]


def test_a_file_with_unknown_or_missing_columns_is_refused_before_reading(db, basics, tmp_path):
    path = write_csv(tmp_path / "a.csv", [*CN_HEADERS, "颜色"], rows(2), "utf-8")
    with pytest.raises(InvalidInput) as info, open_records(path, "actions"):
        pass
    assert info.value.code == "unknown_column" and "第12列“颜色”" in info.value.message
    path = write_csv(tmp_path / "b.csv", CN_HEADERS[1:], [r[1:] for r in rows(2)], "utf-8")
    with pytest.raises(InvalidInput) as info, open_records(path, "actions"):
        pass
    assert info.value.code == "missing_column" and "行为编号" in info.value.message
    job = run_import(db, path)
    assert job.status == "failed" and "行为编号" in job.error
    with pytest.raises(InvalidInput) as info:
        import_params(kind="actions", source="SCJG-SYS", path=tmp_path / "x.xls")
    assert info.value.code == "unsupported_format"
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(IngestionBatch)).one() == 0


def test_importing_the_same_file_again_gives_the_same_result(db, basics, tmp_path):
    path = write_csv(tmp_path / "a.csv", CN_HEADERS, rows(30), "gbk")
    first = run_import(db, path)
    second = run_import(db, path)
    assert first.result["accepted"] == second.result["accepted"] == 30
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(SupervisionAction)).one() == 30


def test_the_sample_files_import_cleanly(db, basics, tmp_path):
    samples = ROOT / "docs" / "samples"
    for name, kind in (("entities.csv", "entities"), ("items.csv", "items"), ("actions.csv", "actions"),
                       ("actions.jsonl", "actions"), ("complaints.csv", "complaints"), ("credit.csv", "credit")):
        job = run_import(db, samples / name, kind=kind, source="MANUAL")
        assert job.status == "succeeded", (name, job.error)
        assert job.result["rejected"] == 0 and job.result["accepted"] > 0, (name, job.result)


def test_an_import_killed_half_way_leaves_nothing_and_can_be_run_again(db, basics, tmp_path, database_url):
    total = 200_000
    path = write_csv(tmp_path / "big.csv", EN_HEADERS, rows(total), "utf-8")
    env = {**os.environ, "REGWATCH_DATABASE_URL": database_url, "REGWATCH_VAR_DIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "cli", "import", "--kind", "actions", "--source", "SCJG-SYS",
                                str(path)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:  # wait until the import has visibly written progress, then kill it without warning
            with db.unit_of_work() as s:
                job = s.exec(select(Job).where(Job.kind == IMPORT_JOB)).first()
            if job is not None and job.progress_done >= 20_000:
                break
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the import never reported progress"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    with db.unit_of_work() as s:
        job = s.exec(select(Job).where(Job.kind == IMPORT_JOB)).one()
        assert job.status == "running" and job.progress_done < total  # killed before the end
        assert s.exec(select(sa.func.count()).select_from(SupervisionAction)).one() == 0
        assert s.exec(select(sa.func.count()).select_from(IngestionBatch)).one() == 0
        assert s.exec(select(sa.func.count()).select_from(IngestionError)).one() == 0
    again = run_import(db, path)
    assert (again.result["received"], again.result["accepted"]) == (total, total)


@pytest.mark.parametrize("content", [
    "统一社会信用代码,名称\n".encode("utf-16"),  # UTF-16 with its BOM, as some spreadsheet exports save
    bytes(range(256)) * 8,  # not text at all
])
def test_a_file_in_neither_utf8_nor_gbk_is_refused_with_a_chinese_message(db, basics, tmp_path, content):
    path = tmp_path / "actions.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as info, open_records(path, "actions"):
        pass
    assert info.value.code == "unknown_encoding" and "UTF-8" in info.value.message and "GBK" in info.value.message
    job = run_import(db, path)
    assert job.status == "failed" and "无法识别文件编码" in job.error and "UnicodeDecodeError" not in job.error
