"""regwatch import / reference load / sources: what an operator types and reads."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from domain.integration.models import DataSource, IngestionBatch
from domain.reference import load_regions
from domain.reference.models import Region
from domain.supervision.models import SupervisionAction
from tests.cli.factories import regwatch
from tests.domain.supervision.factories import seed_basics, uscc


def test_reference_load_is_idempotent(cli_env, db):
    for _ in range(2):
        result = regwatch("reference", "load")
        assert result.exit_code == 0, result.output
        assert f"loaded {len(load_regions())} regions" in result.output
    with db.unit_of_work() as s:
        assert s.exec(select(Region.name).where(Region.code == "320571")).one() == "苏州工业园区"
        assert s.exec(select(sa.func.count()).select_from(Region)).one() == len(load_regions())


def test_sources_add_then_list(cli_env, db, session):
    seed_basics(session)
    added = regwatch("sources", "add", "DC-ENT", "数据中心法人库", "--kind", "data_centre", "--feeds", "entities",
                     "--stale-after-days", "3")
    assert added.exit_code == 0, added.output
    bad = regwatch("sources", "add", "X", "坏的", "--kind", "fax")
    assert bad.exit_code == 2 and "类别" in bad.output
    listed = regwatch("sources", "list")
    assert listed.exit_code == 0 and "DC-ENT" in listed.output and "integration completion" in listed.output
    with db.unit_of_work() as s:
        source = s.exec(select(DataSource).where(DataSource.code == "DC-ENT")).one()
        assert (source.expected_feeds, source.stale_after_days) == (["entities"], 3)


def test_import_reports_counts_and_errors_and_refuses_bad_arguments(cli_env, db, session, tmp_path: Path):
    seed_basics(session)
    path = tmp_path / "actions.csv"
    path.write_text("external_id,kind,item_code,department_code,uscc,started_on,result\n"
                    f"C-1,inspection,320500-SCJG-JC-001,SZ-SCJG,{uscc(0)},2025-01-01,pass\n"
                    f"C-2,inspection,320500-SCJG-JC-001,SZ-SCJG,{uscc(0)},2025-01-01,great\n", encoding="utf-8")
    result = regwatch("import", "--kind", "actions", "--source", "SCJG-SYS", str(path))
    assert result.exit_code == 0, result.output
    assert "accepted 1" in result.output and "rejected 1" in result.output and "invalid_enum" in result.output
    strict = regwatch("import", "--kind", "actions", "--source", "SCJG-SYS", "--mode", "all_or_nothing", str(path))
    assert strict.exit_code == 1 and "(rejected)" in strict.output
    default_source = regwatch("import", "--kind", "actions", str(path))  # the manual-entry source
    assert default_source.exit_code == 0, default_source.output
    wrong = regwatch("import", "--kind", "widgets", str(path))
    assert wrong.exit_code == 2 and "widgets" in wrong.output
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(SupervisionAction)).one() == 2  # C-1 from two sources
        assert [b.status for b in s.exec(select(IngestionBatch).order_by(IngestionBatch.id))] == [
            "done", "rejected", "done"]


def test_import_shows_the_outcome_and_file_rows_and_no_traceback_for_a_broken_csv(cli_env, db, session,
                                                                                tmp_path: Path):
    seed_basics(session)
    header = "external_id,kind,item_code,department_code,uscc,started_on,result\n"
    partial = tmp_path / "partial.csv"
    partial.write_text(header + f"P-1,inspection,320500-SCJG-JC-001,SZ-SCJG,{uscc(0)},2025-01-01,pass\n\n"
                       f"P-2,inspection,320500-SCJG-JC-001,SZ-SCJG,{uscc(0)},2025-01-01,great\n", encoding="utf-8")
    result = regwatch("import", "--kind", "actions", "--source", "SCJG-SYS", str(partial))
    assert result.exit_code == 0, result.output
    assert "部分接收" in result.output
    assert "│ 4 " in result.output or "┃ 4 " in result.output or " 4  " in result.output, result.output  # row 4
    bad = tmp_path / "bad.csv"
    bad.write_text(header + f"B-1,inspection,320500-SCJG-JC-001,SZ-SCJG,{uscc(0)},2025-01-01,great\n",
                   encoding="utf-8")
    nothing = regwatch("import", "--kind", "actions", "--source", "SCJG-SYS", str(bad))
    assert nothing.exit_code == 1 and "全部拒收" in nothing.output, nothing.output
    broken = tmp_path / "broken.csv"
    broken.write_text(header + 'X-1,inspection,"320500-SCJG-JC-001,SZ-SCJG\n' + ("x" * 200 + "\n") * 1000,
                      encoding="utf-8")
    failed = regwatch("import", "--kind", "actions", "--source", "SCJG-SYS", str(broken))
    assert failed.exit_code != 0
    assert "Traceback" not in failed.output and "_csv.Error" not in failed.output, failed.output
    assert "引号不成对" in failed.output and "第 2 行" in failed.output, failed.output
