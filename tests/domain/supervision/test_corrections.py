"""Ingestion corrections (issues 8, 11, 16): partial upserts, industry notations, kind vs item, status dates,
the inspection trigger, control characters, batch outcomes, file row numbers and the stored-error cap."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from domain.integration.models import IngestionBatch, IngestionError, batch_outcome
from domain.supervision import ingest as ingest_module
from domain.supervision.files import open_records
from domain.supervision.ingest import ingest, ingest_stream
from domain.supervision.models import Entity, SupervisionAction
from domain.supervision.validation import normalise_industry_code
from tests.domain.supervision.factories import ADMIN, seed_basics, uscc


@pytest.fixture
def basics(session):
    return seed_basics(session)


def run(db, **kwargs):
    with db.unit_of_work() as s:
        return ingest(s, ADMIN, **kwargs)


def entity(n: int, **fields):
    return {"uscc": uscc(n), "name": f"苏州测试{n}号有限公司", "entity_type": "enterprise", **fields}


def stored(db, n: int) -> Entity:
    with db.unit_of_work() as s:
        return s.exec(select(Entity).where(Entity.uscc == uscc(n))).one()


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def import_file(db, path: Path, kind: str, **kwargs):
    with open_records(path, kind) as opened:
        return ingest_stream(db, ADMIN, source="MANUAL", kind=kind, records=opened.records, **kwargs)


# --- 1. partial upserts -------------------------------------------------------------------------------------------

FULL = {"industry_code": "C13", "region_code": "320505", "registered_capital": "500", "founded_on": "2010-05-01"}


def test_fields_a_push_leaves_out_are_kept_and_an_explicit_null_clears(db, basics):
    run(db, source="MANUAL", kind="entities", records=[entity(0, **FULL)])
    result = run(db, source="MANUAL", kind="entities", records=[entity(0, name="苏州改名有限公司")])
    assert (result.accepted, result.errors) == (1, [])
    row = stored(db, 0)
    assert (row.name, row.industry_code, row.region_code, row.registered_capital, row.founded_on) == (
        "苏州改名有限公司", "13", "320505", Decimal("500.00"), date(2010, 5, 1))
    run(db, source="MANUAL", kind="entities", records=[entity(0, registered_capital=None, status=None)])
    row = stored(db, 0)
    assert row.registered_capital is None and row.status == "active"  # null clears; a null status is "not given"
    assert (row.industry_code, row.founded_on) == ("13", date(2010, 5, 1))


def test_a_file_with_only_the_key_columns_changes_nothing_else(db, basics, tmp_path):
    run(db, source="MANUAL", kind="entities", records=[entity(0, **FULL), entity(1, **FULL)])
    path = write_csv(tmp_path / "e.csv", [["信用代码", "企业名称", "类型"],
                                          [uscc(0), "苏州新名有限公司", "企业"]])
    result = import_file(db, path, "entities")
    assert (result.received, result.accepted, result.rejected) == (1, 1, 0)
    row = stored(db, 0)
    assert (row.name, row.industry_code, row.region_code, row.registered_capital, row.founded_on) == (
        "苏州新名有限公司", "13", "320505", Decimal("500.00"), date(2010, 5, 1))
    # an empty cell is "not given" too; a given cell changes only its own column
    path = write_csv(tmp_path / "f.csv", [["统一社会信用代码", "名称", "主体类型", "注册资本", "成立日期"],
                                          [uscc(1), "苏州测试1号有限公司", "企业", "", "2011-01-02"]])
    import_file(db, path, "entities")
    row = stored(db, 1)
    assert (row.registered_capital, row.founded_on, row.industry_code) == (Decimal("500.00"), date(2011, 1, 2), "13")


def test_partial_action_updates_keep_the_result_and_officers(db, basics):
    base = {"external_id": "A-1", "kind": "inspection", "item_code": "320500-SCJG-JC-001",
            "department_code": "SZ-SCJG", "uscc": uscc(0), "started_on": "2025-03-01"}
    run(db, source="MANUAL", kind="actions", records=[{**base, "result": "fail", "officers": "张三",
                                                       "trigger": "random"}])
    run(db, source="MANUAL", kind="actions", records=[{**base, "result": "pass", "decided_on": "2025-03-05"}])
    with db.unit_of_work() as s:
        row = s.exec(select(SupervisionAction)).one()
        assert (row.result, row.officers, row.trigger, row.decided_on) == ("pass", "张三", "random", date(2025, 3, 5))


# --- 2. industry codes -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "division", "class_code"), [
    ("C13", "13", None), ("1310", "13", "1310"), ("C1310", "13", "1310"), ("13", "13", None), ("C", "C", None),
    ("c 13", "13", None), ("131", "13", None), ("F5261", "52", "5261"), ("C-13.10", "13", "1310"),
])
def test_industry_codes_in_every_common_notation_store_the_division(db, basics, given, division, class_code):
    result = run(db, source="MANUAL", kind="entities", records=[entity(0, industry_code=given)])
    assert result.errors == []
    row = stored(db, 0)
    assert (row.industry_code, row.industry_class_code) == (division, class_code)


@pytest.mark.parametrize(("given", "code", "words"), [
    ("C99", "unknown_industry", "99"), ("99", "unknown_industry", "不存在"), ("A13", "invalid_industry", "不属于门类"),
    ("Z", "invalid_industry", "GB/T 4754"), ("1", "invalid_industry", "GB/T 4754"),
    ("13105", "invalid_industry", "GB/T 4754"), ("1301", "invalid_industry", "中类"),
])
def test_an_industry_code_that_does_not_exist_is_a_clear_error(db, basics, given, code, words):
    result = run(db, source="MANUAL", kind="entities", records=[entity(0, industry_code=given)])
    assert [(e.field, e.code) for e in result.errors] == [("industry_code", code)]
    assert words in result.errors[0].message and "行业代码" in result.errors[0].message


def test_normalise_industry_code_directly():
    industries = {"C": None, "13": "C"}
    assert normalise_industry_code("C1310", industries) == ("13", "1310", "")
    assert normalise_industry_code("", industries)[2]


# --- 3. kind vs item ---------------------------------------------------------------------------------------------

def test_an_action_whose_kind_does_not_fit_its_item_is_rejected(db, basics):
    base = {"department_code": "SZ-SCJG", "uscc": uscc(0), "started_on": "2025-03-01", "decided_on": "2025-03-02",
            "penalty_amount": "100", "document_number": "苏市监罚〔2025〕1号"}
    result = run(db, source="MANUAL", kind="actions", records=[
        {**base, "external_id": "P-1", "kind": "行政处罚", "item_code": "320500-SCJG-JC-001"},
        {**base, "external_id": "P-2", "kind": "行政处罚", "item_code": "320500-SCJG-CF-001"}])
    assert (result.accepted, result.rejected) == (1, 1)
    assert [(e.index, e.field, e.code) for e in result.errors] == [(0, "kind", "kind_item_mismatch")]
    assert "检查" in result.errors[0].message and "行政处罚" in result.errors[0].message


def test_the_sample_actions_file_is_consistent_with_its_items(db, basics):
    root = Path(__file__).resolve().parents[3] / "docs" / "samples"
    with open_records(root / "actions.csv", "actions") as opened:
        records = list(opened.records)
    with open_records(root / "items.csv", "items") as opened:
        item_kinds = {r["code"]: r["kind"] for r in opened.records}
    labels = {"检查": "inspection", "行政处罚": "penalty", "行政强制": "coercion", "其他": "other"}
    for record in records:
        kind = labels.get(record["kind"], record["kind"])
        item_kind = labels.get(item_kinds[record["item_code"]], item_kinds[record["item_code"]])
        assert kind == item_kind, record
    assert any("trigger" in r for r in records)


# --- 4. status dates ---------------------------------------------------------------------------------------------

def test_deregistration_dates_are_stored_and_kept_at_the_earliest(db, basics):
    run(db, source="MANUAL", kind="entities", records=[entity(0, founded_on="2010-01-01")])
    assert stored(db, 0).deregistered_on is None
    run(db, source="MANUAL", kind="entities", records=[entity(0, status="吊销", status_changed_on="2020-06-01")])
    row = stored(db, 0)
    assert (row.status, row.status_changed_on, row.deregistered_on) == ("revoked", date(2020, 6, 1), date(2020, 6, 1))
    run(db, source="MANUAL", kind="entities", records=[entity(0, status="注销", status_changed_on="2022-03-01")])
    row = stored(db, 0)
    assert (row.status, row.status_changed_on, row.deregistered_on) == (
        "cancelled", date(2022, 3, 1), date(2020, 6, 1))
    # the same status again without a date keeps what is known
    run(db, source="MANUAL", kind="entities", records=[entity(0, status="cancelled")])
    row = stored(db, 0)
    assert (row.status_changed_on, row.deregistered_on) == (date(2022, 3, 1), date(2020, 6, 1))


def test_status_dates_come_from_files_under_their_chinese_headers(db, basics, tmp_path):
    path = write_csv(tmp_path / "e.csv", [["统一社会信用代码", "名称", "主体类型", "成立日期", "登记状态", "注销日期"],
                                          [uscc(0), "甲", "企业", "2010-01-01", "注销", "2021-09-30"],
                                          [uscc(1), "乙", "企业", "2010-01-01", "存续", ""],
                                          [uscc(2), "丙", "企业", "2015-01-01", "吊销", "2014-01-01"]])
    result = import_file(db, path, "entities")
    assert (result.accepted, result.rejected) == (2, 1)
    assert [(e.row, e.field, e.code) for e in result.errors] == [(4, "status_changed_on", "date_order")]
    assert stored(db, 0).deregistered_on == date(2021, 9, 30)
    assert stored(db, 1).deregistered_on is None


def test_a_status_date_needs_a_status(db, basics):
    result = run(db, source="MANUAL", kind="entities", records=[entity(0, status_changed_on="2020-01-01")])
    assert [(e.field, e.code) for e in result.errors] == [("status_changed_on", "status_required")]


# --- trigger (issue 16) ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "stored_as"), [
    ("random", "random"), ("双随机", "random"), ("双随机抽查", "random"), ("投诉举报", "complaint"),
    ("线索核查", "clue"), ("日常检查", "routine"), ("专项", "campaign"), (None, None)])
def test_the_inspection_trigger_is_accepted_in_english_and_chinese(db, basics, given, stored_as):
    record = {"external_id": "T-1", "kind": "inspection", "item_code": "320500-SCJG-JC-001",
              "department_code": "SZ-SCJG", "uscc": uscc(0), "started_on": "2025-03-01", "result": "pass"}
    if given is not None:
        record["trigger"] = given
    assert run(db, source="MANUAL", kind="actions", records=[record]).errors == []
    with db.unit_of_work() as s:
        assert s.exec(select(SupervisionAction.trigger)).one() == stored_as


def test_an_unknown_trigger_is_an_error_naming_the_choices(db, basics, tmp_path):
    path = write_csv(tmp_path / "a.csv", [
        ["行为编号", "行为类别", "监管事项编码", "实施部门编码", "统一社会信用代码", "开始日期", "结果", "检查方式"],
        ["T-1", "检查", "320500-SCJG-JC-001", "SZ-SCJG", uscc(0), "2025-03-01", "合格", "抽签"]])
    result = import_file(db, path, "actions")
    assert [(e.row, e.field, e.code) for e in result.errors] == [(2, "trigger", "invalid_enum")]
    assert "双随机抽查" in result.errors[0].message


# --- control characters (issue 8 #7) -----------------------------------------------------------------------------

def test_control_characters_reject_that_record_only_on_either_database(db, basics, tmp_path):
    records = [entity(0, name="苏州\x00有限公司"), entity(1), entity(2, region_code="3205\x0705"),
               {"uscc": uscc(3) + "\x00", "name": "丁", "entity_type": "enterprise"}]
    result = run(db, source="MANUAL", kind="entities", records=records)
    assert (result.accepted, result.rejected) == (1, 3)
    assert [(e.index, e.field, e.code) for e in result.errors] == [
        (0, "name", "control_character"), (2, "region_code", "control_character"), (3, "uscc", "control_character")]
    assert "U+0000" in result.errors[0].message and "\x00" not in result.errors[0].message
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(Entity)).one() == 3  # the 3 seeded, entity 1 updated
        messages = s.exec(select(IngestionError.message)).all()
        assert len(messages) == 3 and not any("\x00" in m for m in messages)


def test_a_nul_in_a_file_cell_or_json_key_is_a_per_record_error(db, basics, tmp_path):
    path = tmp_path / "e.jsonl"
    lines = [f'{{"uscc": "{uscc(0)}", "name": "a\\u0000b", "entity_type": "enterprise"}}',
             f'{{"uscc": "{uscc(1)}", "name": "ok", "entity_type": "enterprise"}}',
             f'{{"uscc": "{uscc(2)}", "na\\u0000me": "x", "entity_type": "enterprise"}}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_file(db, path, "entities")
    assert (result.accepted, result.rejected) == (1, 2)
    assert [(e.row, e.code) for e in result.errors] == [(1, "control_character"), (3, "unknown_field")]


# --- 5. outcome and row numbers ----------------------------------------------------------------------------------

def test_batch_outcomes_tell_a_failed_delivery_at_a_glance():
    assert batch_outcome("done", 0, 4) == "all_rejected"
    assert batch_outcome("done", 3, 1) == "partial"
    assert batch_outcome("done", 4, 0) == "done"
    assert batch_outcome("rejected", 0, 1) == "rejected"


def test_errors_carry_the_file_row_with_the_header_as_row_one(db, basics, tmp_path):
    path = write_csv(tmp_path / "e.csv", [["统一社会信用代码", "名称", "主体类型"],
                                          [uscc(0), "甲", "企业"],
                                          [],  # a blank line is a row of the spreadsheet, not a record
                                          [uscc(1), "", "企业"],
                                          [uscc(2), "丙", "企业"],
                                          [uscc(2), "丙二", "企业"]])
    result = import_file(db, path, "entities")
    assert [(e.index, e.row, e.code) for e in result.errors] == [(1, 4, "required"), (3, 6, "duplicate_in_batch")]
    assert "第5行" in result.errors[1].message
    with db.unit_of_work() as s:
        rows = s.exec(select(IngestionError.record_index, IngestionError.row_number)
                      .order_by(IngestionError.record_index)).all()
        assert rows == [(1, 4), (3, 6)]


def test_api_pushes_have_no_row_number(db, basics):
    result = run(db, source="MANUAL", kind="entities", records=[entity(0), entity(1, name="")])
    assert [(e.index, e.row) for e in result.errors] == [(1, None)]


# --- 13. stored errors are capped --------------------------------------------------------------------------------

def test_stored_errors_are_capped_and_the_total_kept(db, basics, monkeypatch):
    monkeypatch.setattr(ingest_module, "MAX_STORED_ERRORS", 50)
    records = [{"uscc": uscc(10 + i), "name": "", "entity_type": "bogus"} for i in range(120)]
    result = ingest_stream(db, ADMIN, source="MANUAL", kind="entities", records=iter(records))
    assert (result.rejected, result.errors_total) == (120, 240)
    with db.unit_of_work() as s:
        batch = s.get(IngestionBatch, result.batch_id)
        assert (batch.rejected, batch.errors_total, batch.status) == (120, 240, "done")
        kept = s.exec(select(IngestionError.record_index).where(IngestionError.batch_id == batch.id)
                      .order_by(IngestionError.record_index)).all()
        assert len(kept) == 50 and kept[0] == 0 and kept[-1] == 24


# --- 9, 12. broken CSV, oversized .xlsx ---------------------------------------------------------------------------

def test_a_csv_with_an_unclosed_quote_says_where_in_chinese(tmp_path):
    from domain.errors import InvalidInput

    path = tmp_path / "q.csv"
    path.write_text("统一社会信用代码,名称,主体类型\n" + f'{uscc(0)},"甲,企业\n' + ("y" * 300 + "\n") * 600,
                    encoding="utf-8")
    with pytest.raises(InvalidInput) as caught, open_records(path, "entities") as opened:
        list(opened.records)
    assert caught.value.code == "malformed_csv"
    assert "第 2 行" in caught.value.message and "引号" in caught.value.message


def _xlsx(path: Path, rows: int) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "名称", "主体类型"])
    for i in range(rows):
        sheet.append([uscc(i), f"甲{i}", "企业"])
    book.save(path)
    return path


def test_an_xlsx_zip_bomb_is_refused_before_parsing(tmp_path):
    import time
    import zipfile

    from domain.errors import InvalidInput

    path = _xlsx(tmp_path / "bomb.xlsx", 2)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings2.xml", "<sst>" + "A" * (60 * 1024 * 1024) + "</sst>")
    assert path.stat().st_size < 1024 * 1024
    started = time.monotonic()
    with pytest.raises(InvalidInput) as caught, open_records(path, "entities"):
        pass
    assert caught.value.code == "xlsx_bomb" and time.monotonic() - started < 2


def test_xlsx_size_and_cell_limits_are_checked(tmp_path, monkeypatch, db, basics):
    from domain.errors import InvalidInput

    path = _xlsx(tmp_path / "e.xlsx", 20)
    monkeypatch.setenv("REGWATCH_MAX_XLSX_CELLS", "30")
    with pytest.raises(InvalidInput) as caught, open_records(path, "entities"):
        pass
    assert caught.value.code == "xlsx_too_many_cells" and "63" in caught.value.message
    monkeypatch.setenv("REGWATCH_MAX_XLSX_CELLS", "1000")
    monkeypatch.setenv("REGWATCH_MAX_XLSX_BYTES", "2000")
    with pytest.raises(InvalidInput) as caught, open_records(path, "entities"):
        pass
    assert caught.value.code == "xlsx_too_large"
    monkeypatch.delenv("REGWATCH_MAX_XLSX_BYTES")
    result = import_file(db, path, "entities")  # within the limits it imports, rows numbered as in Excel
    assert (result.accepted, result.rejected) == (20, 0)


# --- 15. a write that meets a long merge ------------------------------------------------------------------------

def test_a_write_that_meets_the_write_lock_gets_a_retryable_busy_error_without_sql(db, basics):
    import sqlite3

    from sqlmodel import Session

    from domain.audit.service import record_audit
    from domain.db import Busy, settled

    if db.backend != "sqlite":
        pytest.skip("PostgreSQL writers wait on row locks, not a database-wide write lock")
    locker = sqlite3.connect(db.engine.url.database, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # as the merge of a large import does
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout = 200")
            with pytest.raises(Busy) as caught, Session(bind=connection) as session, settled(session):
                record_audit(session, ADMIN, "test.write", "test", 1, {})
            connection.exec_driver_sql("PRAGMA busy_timeout = 10000")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert caught.value.code == "busy" and "重试" in caught.value.message
    assert "INSERT" not in caught.value.message and "locked" not in caught.value.message


def test_a_stream_import_reports_how_long_it_held_the_write_lock(db, basics):
    records = [entity(i) for i in range(50)]
    result = ingest_stream(db, ADMIN, source="MANUAL", kind="entities", records=iter(records))
    assert set(result.timings) == {"stage", "open", "merge", "merge_cpu", "checkpoint"} and result.accepted == 50
    with db.unit_of_work() as s:
        batch = s.get(IngestionBatch, result.batch_id)
        assert (batch.status, batch.accepted, batch.finished_at is not None) == ("done", 50, True)


def test_a_nul_in_the_source_or_the_file_name_is_refused_or_made_printable(db, basics, tmp_path):
    from domain.errors import InvalidInput
    from domain.supervision.imports import import_params

    with pytest.raises(InvalidInput) as caught:
        run(db, source="MAN\x00UAL", kind="entities", records=[entity(0)])
    assert caught.value.code == "control_character" and "\x00" not in caught.value.message
    params = import_params(kind="entities", source="MANUAL", path=tmp_path / "x.csv", file_name="a\x00b.csv")
    assert params["file_name"] == "a<U+0000>b.csv"
    result = run(db, source="MANUAL", kind="entities", records=[entity(0)], file_name="e\x01.csv")
    with db.unit_of_work() as s:
        assert s.get(IngestionBatch, result.batch_id).file_name == "e<U+0001>.csv"


def test_item_kinds_have_one_definition():
    from domain.demo import vocabulary
    from domain.supervision import fields, models

    assert vocabulary.ITEM_KINDS is models.ITEM_KINDS
    assert tuple(fields.ITEM_KIND_LABELS) == models.ITEM_KINDS == models.ACTION_KINDS
    assert tuple(fields.ACTION_TRIGGER_LABELS) == models.ACTION_TRIGGERS


@pytest.mark.parametrize("header", ["检查方式", "trigger", "触发方式"])
def test_the_trigger_column_reads_from_xlsx_under_english_and_chinese_headers(db, basics, tmp_path, header):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["行为编号", "行为类别", "监管事项编码", "实施部门编码", "统一社会信用代码", "开始日期", "结果",
                  header])
    sheet.append(["X-1", "检查", "320500-SCJG-JC-001", "SZ-SCJG", uscc(0), date(2025, 3, 1), "合格", "双随机抽查"])
    sheet.append(["X-2", "检查", "320500-SCJG-JC-001", "SZ-SCJG", uscc(1), date(2025, 3, 2), "合格", None])
    book.save(tmp_path / "a.xlsx")
    result = import_file(db, tmp_path / "a.xlsx", "actions")
    assert (result.accepted, result.errors) == (2, [])
    with db.unit_of_work() as s:
        assert sorted(s.exec(select(SupervisionAction.external_id, SupervisionAction.trigger)).all()) == [
            ("X-1", "random"), ("X-2", None)]


def test_a_nul_byte_in_a_csv_cell_rejects_that_row_only(db, basics, tmp_path):
    path = tmp_path / "n.csv"
    path.write_bytes(("统一社会信用代码,名称,主体类型\n"
                      f"{uscc(0)},甲\x00乙,企业\n{uscc(1)},丙,企业\n").encode())
    result = import_file(db, path, "entities")
    assert (result.accepted, result.rejected) == (1, 1)
    assert [(e.row, e.field, e.code) for e in result.errors] == [(2, "name", "control_character")]


def test_a_batch_left_running_by_a_dead_import_is_marked_failed_by_the_next_import(db, basics):
    from domain.jobs.models import Job

    with db.unit_of_work() as s:
        job = Job(kind="supervision.import", status="failed", params={}, error="进程中断")
        s.add(job)
        s.flush()
        s.add(IngestionBatch(source_id=basics["sources"][2].id, kind="entities", channel="file", status="running",
                             job_id=job.id))
    run(db, source="MANUAL", kind="entities", records=[entity(0)])
    with db.unit_of_work() as s:
        statuses = [b.status for b in s.exec(select(IngestionBatch).order_by(IngestionBatch.id))]
    assert statuses == ["failed", "done"]
