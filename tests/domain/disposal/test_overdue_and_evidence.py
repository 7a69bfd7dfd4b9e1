"""Overdue with a controllable clock (one event per deadline, escalation notices); evidence files by content."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlmodel import select

from domain.disposal import evidence as ev
from domain.disposal import service as d
from domain.disposal.inbox import InboxFilter, inbox_counts
from domain.disposal.models import WarningDisposal
from domain.disposal.overdue import sweep_overdue
from domain.errors import Forbidden, InvalidInput, NotFound
from domain.notifications.models import Notification
from domain.types import LOCAL_TZ, utcnow
from domain.warnings.models import WarningEvent
from tests.domain.disposal.support import make_warning, make_world


@pytest.fixture
def world(db):
    return make_world(db)


def sweep(db, now):
    with db.unit_of_work() as s:
        return sweep_overdue(s, now)


def overdue_events(db, wid):
    with db.unit_of_work("read") as s:
        return [e.payload["deadline"] for e in s.exec(select(WarningEvent).where(
            WarningEvent.warning_id == wid, WarningEvent.kind == "overdue").order_by(WarningEvent.id))]


def test_overdue_is_recorded_once_per_deadline_and_escalated(db, world):
    t0 = utcnow()
    w = make_warning(db, world.dept_a, dispatched_at=t0, receipt_days=1, disposal_days=5)
    assert sweep(db, t0 + timedelta(hours=12)) == {"receipt": 0, "disposal": 0, "notices": 0}
    result = sweep(db, t0 + timedelta(days=2))
    assert (result["receipt"], result["disposal"]) == (1, 0)
    assert result["notices"] == 2  # the department's lead and the analyst
    assert sweep(db, t0 + timedelta(days=3))["receipt"] == 0  # once per deadline
    with db.unit_of_work("read") as s:
        assert inbox_counts(s, world.handler_a, InboxFilter(), now=t0 + timedelta(days=3))["overdue"] == 1
        assert inbox_counts(s, world.handler_a, InboxFilter(), now=t0 + timedelta(hours=1))["overdue"] == 0
        users = {n.user_id for n in s.exec(select(Notification).where(Notification.kind == "overdue"))}
        assert users == {world.lead_a.user_id, world.analyst.user_id}
        assert s.get(WarningDisposal, w.id).escalated_at is not None
    with db.unit_of_work() as s:
        d.receive_warning(s, world.handler_a, w.id)  # late, but received: the receipt clock stops counting
    assert sweep(db, t0 + timedelta(days=6))["disposal"] == 1
    today = (t0 + timedelta(days=6)).astimezone(LOCAL_TZ).date()
    with db.unit_of_work() as s:
        d.request_extension(s, world.handler_a, w.id, today + timedelta(days=3), "等待检测报告")
        d.approve_extension(s, world.analyst, w.id)
    assert sweep(db, t0 + timedelta(days=7))["disposal"] == 0  # the new deadline has not passed
    assert sweep(db, t0 + timedelta(days=11))["disposal"] == 1  # a new deadline, a new record
    assert overdue_events(db, w.id) == ["receipt", "disposal", "disposal"]


def test_feedback_given_stops_the_disposal_clock(db, world):
    t0 = utcnow()
    w = make_warning(db, world.dept_a, dispatched_at=t0, status="feedback_submitted", disposal_days=1)
    assert sweep(db, t0 + timedelta(days=3)) == {"receipt": 0, "disposal": 0, "notices": 0}
    assert overdue_events(db, w.id) == []


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _docx() -> bytes:
    import docx

    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("整改报告")
    document.save(buf)
    return buf.getvalue()


def chunks(data: bytes, size: int = 1000):
    for i in range(0, len(data), size):
        yield data[i:i + size]


@pytest.mark.parametrize(("name", "data"), [("现场照片.png", PNG), ("整改报告.docx", None),
                                            ("检查记录.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")])
def test_allowed_files_are_stored_outside_the_web_root_under_a_random_name(tmp_path, name, data):
    data = data if data is not None else _docx()
    stored = ev.store_upload(tmp_path, name, chunks(data))
    path = tmp_path / "evidence" / stored.stored_name
    assert path.read_bytes() == data and stored.original_name == name and stored.size_bytes == len(data)
    assert name not in stored.stored_name and len(stored.stored_name) == 32
    assert oct(path.stat().st_mode)[-3:] == "600"


@pytest.mark.parametrize(("name", "data", "code"), [
    ("照片.png", b"MZ\x90\x00" + b"\0" * 64, "type_mismatch"),  # an executable renamed
    ("报告.docx", b"PK\x03\x04" + b"\0" * 64, "type_mismatch"),  # a zip that is no Office document
    ("脚本.html", b"<html></html>", "bad_type"),
    ("空.pdf", b"", "empty"),
])
def test_files_are_refused_by_content_and_nothing_stays_on_disk(tmp_path, name, data, code):
    with pytest.raises(InvalidInput) as info:
        ev.store_upload(tmp_path, name, chunks(data))
    assert info.value.code == code and name in info.value.message
    assert not (tmp_path / "evidence").exists() or list((tmp_path / "evidence").iterdir()) == []


def test_a_file_over_the_limit_is_stopped_while_streaming(tmp_path):
    with pytest.raises(InvalidInput) as info:
        ev.store_upload(tmp_path, "大.png", chunks(PNG + b"\0" * 5000), max_bytes=2000)
    assert info.value.code == "too_large"
    assert list((tmp_path / "evidence").iterdir()) == []


def test_evidence_download_only_for_those_who_may_see_the_warning(db, world, tmp_path):
    w = make_warning(db, world.dept_a, status="in_progress")
    stored = ev.store_upload(tmp_path, "现场照片.png", chunks(PNG))
    with db.unit_of_work() as s:
        with pytest.raises(Forbidden):
            ev.register_evidence(s, world.analyst, w.id, stored)
        row = ev.register_evidence(s, world.handler_a, w.id, stored)
    with db.unit_of_work() as s:
        assert ev.evidence_for_download(s, world.analyst, row.id, tmp_path)[1].read_bytes() == PNG
        with pytest.raises(NotFound):
            ev.evidence_for_download(s, world.handler_b, row.id, tmp_path)
        with pytest.raises(NotFound):
            ev.evidence_for_download(s, world.handler_a, row.id + 100, tmp_path)
    with db.unit_of_work() as s:
        fb = d.submit_feedback(s, world.handler_a, w.id, d.FeedbackInput(
            measures=["onsite_inspection"], outcome="false_alarm", description="现场核查未发现问题。",
            satisfaction=2, evidence_ids=[row.id]))
    with db.unit_of_work("read") as s:
        assert [e.feedback_id for e in ev.list_evidence(s, world.handler_a, w.id)] == [fb.id]


def test_a_sweep_over_a_backlog_costs_the_same_statements_whatever_its_size_and_catches_up_in_batches(db, world):
    from domain.disposal.overdue import sweep_overdue as sweep_with
    from tests.support import backend, count_statements

    t0 = utcnow()
    one = [make_warning(db, world.dept_a, dispatched_at=t0, receipt_days=1) for _ in range(1)]
    with count_statements(db) as small, db.unit_of_work() as s:
        assert sweep_with(s, t0 + timedelta(days=2), limit=3)["receipt"] == 1
    many = [make_warning(db, world.dept_a, dispatched_at=t0, receipt_days=1) for _ in range(7)]
    with count_statements(db) as large, db.unit_of_work() as s:
        first = sweep_with(s, t0 + timedelta(days=2), limit=3)
    assert (first["receipt"], first["more"], first["notices"]) == (3, 1, 6)  # lead + analyst each
    def shape(statements):  # SQLite's ORM inserts events one by one (it needs their ids); PostgreSQL batches them
        events = [x for x in statements if x.startswith("INSERT INTO warning_event")]
        return len(statements) - len(events) + (1 if events and backend() == "sqlite" else 0), len(events)

    assert shape(large.statements)[0] == shape(small.statements)[0], (small.statements, large.statements)
    assert shape(large.statements)[1] == (3 if backend() == "sqlite" else 1)
    with db.unit_of_work() as s:
        rest = [sweep_with(s, t0 + timedelta(days=2), limit=3) for _ in range(3)]
    assert [(r["receipt"], r.get("more", 0)) for r in rest] == [(3, 1), (1, 0), (0, 0)]
    for w in [*one, *many]:
        assert overdue_events(db, w.id) == ["receipt"]
