"""The one ingestion path: validation errors, idempotent upserts, modes, limits and who may write as a source."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from domain.identity.actor import ANONYMOUS
from domain.integration.models import IngestionBatch, IngestionError
from domain.supervision.ingest import MAX_RECORDS_PER_CALL, ingest, ingest_stream
from domain.supervision.models import Complaint, CreditRecord, Entity, SupervisionAction, SupervisionItem
from domain.types import local_today
from tests.domain.supervision.factories import ADMIN, actor_for, seed_basics, uscc

TODAY = local_today()


def action(n: int, **overrides):
    record = {"external_id": f"A-{n}", "kind": "inspection", "item_code": "320500-SCJG-JC-001",
              "department_code": "SZ-SCJG", "uscc": uscc(n % 3), "started_on": "2025-03-01",
              "decided_on": "2025-03-02", "result": "pass", "officers": "张三、李四"}
    record.update(overrides)
    return record


def codes(result) -> list[tuple[int | None, str | None, str]]:
    return [(e.index, e.field, e.code) for e in result.errors]


@pytest.fixture
def basics(session):
    return seed_basics(session)


def run(db, actor=ADMIN, **kwargs):
    with db.unit_of_work() as s:
        return ingest(s, actor, **kwargs)


def test_valid_actions_are_stored_with_ids_resolved(db, basics):
    result = run(db, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(5)])
    assert (result.received, result.accepted, result.rejected, result.errors) == (5, 5, 0, [])
    with db.unit_of_work() as s:
        rows = s.exec(select(SupervisionAction).order_by(SupervisionAction.external_id)).all()
        assert [r.external_id for r in rows] == [f"A-{i}" for i in range(5)]
        assert rows[0].entity_id == basics["entities"][0].id
        assert rows[0].department_id == basics["departments"][0].id
        assert rows[0].item_id == basics["items"][0].id
        assert rows[0].started_on == date(2025, 3, 1)
        assert rows[0].source_id == basics["sources"][0].id
        batch = s.get(IngestionBatch, result.batch_id)
        assert (batch.kind, batch.channel, batch.status, batch.received, batch.accepted) == (
            "actions", "api", "done", 5, 5)
        audit = s.exec(select(AuditLog).where(AuditLog.action == "ingest.actions")).one()
        assert audit.object_id == str(result.batch_id)


def test_sending_again_updates_and_never_duplicates(db, basics):
    run(db, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(4)])
    again = run(db, source="SCJG-SYS", kind="actions",
                records=[action(0, result="fail"), *[action(i) for i in range(1, 4)]])
    assert again.accepted == 4
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(SupervisionAction)).one() == 4
        first = s.exec(select(SupervisionAction).where(SupervisionAction.external_id == "A-0")).one()
        assert first.result == "fail"
        assert s.exec(select(sa.func.count()).select_from(IngestionBatch)).one() == 2


def test_the_same_external_id_from_two_sources_is_two_actions(db, basics):
    run(db, source="SCJG-SYS", kind="actions", records=[action(1)])
    run(db, source="YJGL-SYS", kind="actions", records=[action(1)])
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(SupervisionAction)).one() == 2


@pytest.mark.parametrize(("overrides", "field", "code"), [
    ({"external_id": ""}, "external_id", "required"),
    ({"external_id": "x" * 65}, "external_id", "too_long"),
    ({"kind": "audit"}, "kind", "invalid_enum"),
    ({"item_code": "NOPE"}, "item_code", "unknown_item"),
    ({"department_code": "NOPE"}, "department_code", "unknown_department"),
    ({"uscc": "91320505MA1234567"}, "uscc", "uscc_length"),
    ({"uscc": "91320505MA12345I7X"}, "uscc", "uscc_alphabet"),
    ({"uscc": uscc(0)[:17] + ("0" if uscc(0)[17] != "0" else "1")}, "uscc", "uscc_check_character"),
    ({"uscc": uscc(99)}, "uscc", "unknown_entity"),
    ({"started_on": "2025-02-30"}, "started_on", "invalid_date"),
    ({"started_on": None}, "started_on", "required"),
    # a week ahead, not tomorrow: TODAY is read when the module is collected and the suite may run across midnight
    ({"started_on": (TODAY + timedelta(days=7)).isoformat(), "decided_on": None}, "started_on", "future_date"),
    ({"decided_on": "2025-02-01"}, "decided_on", "date_order"),
    ({"result": "maybe"}, "result", "invalid_enum"),
    ({"result": None}, "result", "required"),
    ({"kind": "penalty", "result": None, "penalty_amount": "-5", "document_number": "苏市监罚〔2025〕1号"},
     "penalty_amount", "negative_amount"),
    ({"kind": "penalty", "result": None, "penalty_amount": "abc", "document_number": "D"},
     "penalty_amount", "invalid_amount"),
    ({"kind": "penalty", "result": None, "penalty_amount": "1.005", "document_number": "D"},
     "penalty_amount", "invalid_amount"),
    ({"kind": "penalty", "result": None, "penalty_amount": "500"}, "document_number", "required"),
    ({"kind": "penalty", "result": None, "document_number": "D"}, "penalty_amount", "required"),
    ({"kind": "penalty", "result": None, "decided_on": None, "penalty_amount": "1", "document_number": "D"},
     "decided_on", "required"),
    ({"kind": "coercion", "result": None}, "document_number", "required"),
])
def test_each_bad_field_is_named_with_a_code_and_a_chinese_message(db, basics, overrides, field, code):
    result = run(db, source="SCJG-SYS", kind="actions", records=[action(0), action(1, **overrides)])
    assert result.accepted == 1 and result.rejected == 1
    assert (1, field, code) in codes(result)
    message = next(e.message for e in result.errors if e.code == code)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_several_problems_in_one_record_are_all_reported(db, basics):
    result = run(db, source="SCJG-SYS", kind="actions",
                 records=[action(0, kind="x", item_code="NOPE", started_on="bad")])
    assert {(e.field, e.code) for e in result.errors} == {
        ("kind", "invalid_enum"), ("item_code", "unknown_item"), ("started_on", "invalid_date")}
    assert result.rejected == 1


def test_chinese_enum_labels_and_date_spellings_are_accepted(db, basics):
    result = run(db, source="SCJG-SYS", kind="actions", records=[
        action(0, kind="行政处罚", item_code="320500-SCJG-CF-001", result=None, started_on="2025/3/1",
               decided_on="2025年3月9日",
               penalty_amount="1,200.50", document_number="苏市监罚〔2025〕9号"),
        action(1, result="不合格", started_on=date(2025, 1, 2), decided_on=None)])
    assert result.errors == []
    with db.unit_of_work() as s:
        rows = {r.external_id: r for r in s.exec(select(SupervisionAction))}
        assert rows["A-0"].kind == "penalty" and rows["A-0"].penalty_amount == Decimal("1200.50")
        assert rows["A-0"].decided_on == date(2025, 3, 9)
        assert rows["A-1"].result == "fail"


def test_duplicates_inside_one_batch_keep_the_first(db, basics):
    result = run(db, source="SCJG-SYS", kind="actions",
                 records=[action(0), action(1), action(0, result="fail")])
    assert (result.accepted, result.rejected) == (2, 1)
    assert codes(result) == [(2, "external_id", "duplicate_in_batch")]
    assert "序号0" in result.errors[0].message
    with db.unit_of_work() as s:
        assert s.exec(select(SupervisionAction.result).where(SupervisionAction.external_id == "A-0")).one() == "pass"


def test_all_or_nothing_keeps_nothing_when_one_record_fails(db, basics):
    result = run(db, source="SCJG-SYS", kind="actions", mode="all_or_nothing",
                 records=[action(0), action(1), action(2, kind="bad")])
    assert (result.status, result.accepted, result.rejected) == ("rejected", 0, 1)
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(SupervisionAction)).one() == 0
        batch = s.get(IngestionBatch, result.batch_id)
        assert (batch.status, batch.accepted, batch.rejected) == ("rejected", 0, 1)
        assert s.exec(select(IngestionError.record_index).where(IngestionError.batch_id == batch.id)).all() == [2]
    ok = run(db, source="SCJG-SYS", kind="actions", mode="all_or_nothing", records=[action(0), action(1)])
    assert (ok.status, ok.accepted) == ("done", 2)


def test_more_than_the_maximum_per_call_is_refused_with_a_clear_error(db, basics):
    with pytest.raises(InvalidInput) as info:
        run(db, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(MAX_RECORDS_PER_CALL + 1)])
    assert info.value.code == "too_many_records" and str(MAX_RECORDS_PER_CALL) in info.value.message
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(IngestionBatch)).one() == 0


def test_an_integration_user_writes_as_its_own_source_only(db, basics):
    feed_a = actor_for(basics["users"]["a"])
    assert run(db, feed_a, source="SCJG-SYS", kind="actions", records=[action(0)]).accepted == 1
    with pytest.raises(Forbidden) as info:
        run(db, feed_a, source="YJGL-SYS", kind="actions", records=[action(1)])
    assert "SCJG-SYS" in info.value.message
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(SupervisionAction)).one() == 1


def test_handlers_and_anonymous_callers_cannot_write(db, basics):
    with pytest.raises(Forbidden):
        run(db, actor_for(basics["users"]["handler"]), source="MANUAL", kind="actions", records=[action(0)])
    with pytest.raises(Unauthenticated):
        run(db, ANONYMOUS, source="MANUAL", kind="actions", records=[action(0)])
    assert run(db, actor_for(basics["users"]["analyst"]), source="MANUAL", kind="actions",
               records=[action(0)]).accepted == 1


def test_an_unknown_source_is_named(db, basics):
    with pytest.raises(NotFound) as info:
        run(db, source="NOPE", kind="actions", records=[action(0)])
    assert info.value.field == "source"


def test_entities_are_validated_and_upserted_by_uscc(db, basics):
    records = [
        {"uscc": uscc(10), "name": "苏州新企业有限公司", "entity_type": "企业", "industry_code": "39",
         "region_code": "320583", "registered_capital": "500", "founded_on": "2019-05-01", "status": "存续"},
        {"uscc": uscc(11), "name": "", "entity_type": "company", "industry_code": "99", "region_code": "999999",
         "registered_capital": "-1", "founded_on": (TODAY + timedelta(days=3)).isoformat(), "status": "gone"},
        {"uscc": uscc(0).lower(), "name": "改名后的公司", "entity_type": "individual"},
    ]
    result = run(db, source="MANUAL", kind="entities", records=records)
    assert (result.accepted, result.rejected) == (2, 1)
    assert {(e.field, e.code) for e in result.errors} == {
        ("name", "required"), ("entity_type", "invalid_enum"), ("industry_code", "unknown_industry"),
        ("region_code", "unknown_region"), ("registered_capital", "negative_amount"),
        ("founded_on", "future_date"), ("status", "invalid_enum")}
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(Entity)).one() == 4
        renamed = s.exec(select(Entity).where(Entity.uscc == uscc(0))).one()
        assert (renamed.name, renamed.entity_type) == ("改名后的公司", "individual")
        new = s.exec(select(Entity).where(Entity.uscc == uscc(10))).one()
        assert new.registered_capital == Decimal("500") and new.founded_on == date(2019, 5, 1)


def test_items_complaints_and_credit_records(db, basics):
    items = run(db, source="MANUAL", kind="items", records=[
        {"code": "320500-YJGL-JC-001", "name": "对危险化学品企业的检查", "department_code": "SZ-YJGL",
         "kind": "检查", "legal_basis": "《安全生产法》"},
        {"code": "X", "name": "无部门", "department_code": "NOPE", "kind": "penalty"}])
    assert (items.accepted, codes(items)) == (1, [(1, "department_code", "unknown_department")])
    complaints = run(db, source="SCJG-SYS", kind="complaints", records=[
        {"external_id": "C-1", "uscc": uscc(1), "received_on": "2025-01-05", "channel": "12315",
         "category": "食品安全", "responded_on": "2025-01-08", "outcome": "已核实"},
        {"external_id": "C-2", "uscc": uscc(1), "received_on": "2025-01-05", "channel": "fax",
         "category": "价格", "responded_on": "2025-01-01"}])
    assert set(codes(complaints)) == {(1, "channel", "invalid_enum"), (1, "responded_on", "date_order")}
    credit = run(db, source="SCJG-SYS", kind="credit", records=[
        {"external_id": "K-1", "uscc": uscc(2), "kind": "经营异常名录", "listed_on": "2024-06-01",
         "authority": "苏州市市场监督管理局", "reason": "未按时公示年报"},
        {"external_id": "K-2", "uscc": uscc(2), "kind": "abnormal_operation", "listed_on": "2024-06-01",
         "removed_on": "2024-01-01"}])
    assert codes(credit) == [(1, "removed_on", "date_order")]
    with db.unit_of_work() as s:
        assert s.exec(select(SupervisionItem.kind).where(SupervisionItem.code == "320500-YJGL-JC-001")).one() \
            == "inspection"
        assert s.exec(select(Complaint.channel)).all() == ["12315"]
        assert s.exec(select(CreditRecord.kind)).all() == ["abnormal_operation"]


def test_a_stream_is_one_batch_in_chunks_and_matches_the_direct_path(db, basics):
    records = [action(i) for i in range(25)] + [action(3), action(99, kind="bad")]
    result = ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions", records=iter(records), chunk_size=4)
    assert (result.received, result.accepted, result.rejected) == (27, 25, 2)
    assert codes(result) == [(25, "external_id", "duplicate_in_batch"), (26, "kind", "invalid_enum")]
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(SupervisionAction)).one() == 25
        assert s.exec(select(sa.func.count()).select_from(IngestionBatch)).one() == 1


def test_a_stream_that_fails_half_way_leaves_nothing(db, basics):
    def records():
        for i in range(30):
            if i == 20:
                raise OSError("disk gone")
            yield action(i)

    with pytest.raises(OSError):
        ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions", records=records(), chunk_size=5)
    with db.unit_of_work() as s:
        assert s.exec(select(sa.func.count()).select_from(SupervisionAction)).one() == 0
        assert s.exec(select(sa.func.count()).select_from(IngestionBatch)).one() == 0
    again = ingest_stream(db, ADMIN, source="SCJG-SYS", kind="actions", records=[action(i) for i in range(30)])
    assert again.accepted == 30
