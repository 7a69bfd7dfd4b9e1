"""A small hand-built city whose analysis figures are worked out by hand in the tests (2026H1, as of 2026-12-01).

SZ-A (city): items I1 (inspection), I2 (penalty), I3 (inspection, never exercised); eight actions collected in
H1, two excluded (no item; decided before started), one more in H2. SZ-B (city): items J1, J2; three actions,
all complete and timely. WZ-C (district): nothing. Three complaints in H1, one in H2. Four warnings of SZ-A.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from domain.identity.models import Department
from domain.integration.models import DataSource
from domain.supervision.models import Complaint, Entity, SupervisionAction, SupervisionItem
from domain.supervision.uscc import make_uscc_from_int

__all__ = ["AS_OF", "build_city"]

AS_OF = date(2026, 12, 1)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def build_city(session: Session, *, warnings: bool = True) -> dict[str, Any]:
    a = Department(code="SZ-A", name="苏州市甲局", level="city")
    b = Department(code="SZ-B", name="苏州市乙局", level="city")
    c = Department(code="WZ-C", name="吴中区丙局", level="district", region_code="320506")
    session.add_all([a, b, c])
    source = DataSource(code="test-src", name="测试数据源", kind="department")
    session.add(source)
    session.flush()
    items = {}
    for code, dept, kind in (("I1", a, "inspection"), ("I2", a, "penalty"), ("I3", a, "inspection"),
                             ("J1", b, "inspection"), ("J2", b, "penalty")):
        items[code] = SupervisionItem(code=code, name=f"事项{code}", department_id=dept.id, kind=kind)
    items["I9"] = SupervisionItem(code="I9", name="已停用事项", department_id=a.id, kind="other", active=False)
    session.add_all(items.values())
    ents = [Entity(uscc=make_uscc_from_int("320505", n + 1), name=f"测试企业{n + 1}", entity_type="enterprise",
                   region_code="320505", industry_code="C13") for n in range(3)]
    session.add_all(ents)
    session.flush()
    e1, e2, e3 = ents

    def act(ext, kind, item, dept, ent, started, decided=None, result=None, amount=None, doc=None, officers=None,
            trigger=None):
        return SupervisionAction(
            source_id=source.id, external_id=ext, kind=kind, item_id=items[item].id if item else None,
            department_id=dept.id, entity_id=ent.id, started_on=date.fromisoformat(started),
            decided_on=date.fromisoformat(decided) if decided else None, result=result,
            penalty_amount=Decimal(amount) if amount else None, document_number=doc, officers=officers,
            trigger=trigger)

    session.add_all([
        act("a1", "inspection", "I1", a, e1, "2026-01-10", "2026-01-20", "pass", officers="张三", trigger="random"),
        act("a2", "inspection", "I1", a, e2, "2026-02-01", "2026-03-10", "fail", officers="李四", trigger="random"),
        act("a3", "inspection", "I1", a, e3, "2026-03-01", None, None, officers="王五", trigger="complaint"),
        act("a4", "penalty", "I2", a, e2, "2026-03-15", "2026-04-14", amount="5000", doc="苏市监罚〔2026〕1号",
            officers="张三"),
        act("a5", "penalty", "I2", a, e3, "2026-04-01", "2026-08-10", amount="2000", doc="  ", officers="李四"),
        act("a6", "inspection", "I1", a, e2, "2026-05-20", "2026-05-25", "rectify", officers="张三", trigger="routine"),
        act("a7", "inspection", None, a, e1, "2026-02-02", "2026-02-03", "pass", officers="张三"),
        act("a8", "inspection", "I1", a, e1, "2026-06-10", "2026-06-01", "pass", officers="张三", trigger="random"),
        act("a9", "inspection", "I1", a, e1, "2026-07-05", "2026-07-06", "pass", officers="张三", trigger="random"),
        act("b1", "inspection", "J1", b, e1, "2026-01-05", "2026-01-06", "pass", officers="赵六", trigger="random"),
        act("b2", "penalty", "J2", b, e1, "2026-05-01", "2026-05-02", amount="100", doc="X", officers="赵六"),
        act("b3", "inspection", "J1", b, e1, "2026-06-01", "2026-06-02", "pass", officers="赵六"),
    ])
    for ext, received, responded in (("c1", "2026-01-10", "2026-01-20"), ("c2", "2026-02-01", "2026-03-01"),
                                     ("c3", "2026-03-01", None), ("c4", "2026-07-01", "2026-07-02")):
        session.add(Complaint(source_id=source.id, external_id=ext, entity_id=e1.id,
                              received_on=date.fromisoformat(received), channel="12345", category="质量",
                              responded_on=date.fromisoformat(responded) if responded else None))
    session.flush()
    if warnings:
        _warnings(session, a, e1, e2, e3)
    return {"a": a, "b": b, "c": c, "entities": ents, "items": items, "source": source}


def _warnings(session: Session, dept: Department, *ents: Entity) -> None:
    from domain.disposal.models import WarningFeedback
    from domain.warnings.models import Warning

    def warning(code, ent, status, dispatched, due, closed=None):
        return Warning(code=code, entity_id=ent.id, level="yellow", source="manual", department_id=dept.id,
                       status=status, dispatched_at=_dt(dispatched), receipt_due_at=_dt(dispatched),
                       disposal_due_at=_dt(due), closed_at=_dt(closed) if closed else None)

    e1, e2, e3 = ents
    w1 = warning("YJ-2026-000001", e1, "closed", "2026-02-01T02:00", "2026-02-10T02:00", "2026-02-05T02:00")
    w2 = warning("YJ-2026-000002", e2, "in_progress", "2026-03-01T02:00", "2026-03-08T02:00")
    w3 = warning("YJ-2026-000003", e3, "feedback_submitted", "2026-04-01T02:00", "2026-04-30T02:00")
    w4 = warning("YJ-2026-000004", e1, "dismissed", "2026-04-02T02:00", "2026-04-30T02:00")
    session.add_all([w1, w2, w3, w4])
    session.flush()
    session.add_all([
        WarningFeedback(warning_id=w1.id, department_id=dept.id, part="main", outcome="confirmed", satisfaction=5),
        WarningFeedback(warning_id=w1.id, department_id=dept.id, part="assist", satisfaction=1),
        WarningFeedback(warning_id=w3.id, department_id=dept.id, part="main", outcome="partly", satisfaction=5),
        # reworked: the second round's rating replaces the first
        WarningFeedback(warning_id=w3.id, department_id=dept.id, part="main", round=2, outcome="partly",
                        satisfaction=3),
    ])
    session.flush()
