"""Automatic issue and raise (bulk SQL) write their outbox rows too, shaped like the ORM listener's."""

import pytest
from sqlmodel import select

from domain.disposal.models import WarningAssist
from domain.notifications.models import OutboxEvent
from domain.warnings.auto_issue import auto_issue_warnings
from domain.warnings.models import Warning, WarningEvent
from domain.warnings.service import issue_warning
from tests.api.risk.factories import add_run
from tests.domain.warnings.support import build_city, score


@pytest.fixture
def city(session):
    c = build_city(session)
    session.commit()
    return c


def test_automatic_issue_and_raise_reach_the_outbox(session, city):
    from domain.risk.models import ModelVersion

    e0, e1, e2 = city.entities[:3]
    score(session, city.run, e0, 0.95, "red")
    score(session, city.run, e1, 0.70, "orange")
    manual = issue_warning(session, city.analyst, entity_id=e2.id, level="yellow", reasons=["人工"])
    session.add(WarningAssist(warning_id=manual.id, department_id=city.health.id))
    session.flush()
    by_hand = {o.event_id for o in session.exec(select(OutboxEvent))}
    assert len(by_hand) == 1  # the ORM listener's row for the manual issue

    result = auto_issue_warnings(session, city.analyst, city.run.id, min_level="yellow")
    assert result.issued == 2
    issued = session.exec(select(WarningEvent).where(WarningEvent.kind == "issue",
                                                     WarningEvent.id.not_in(by_hand))).all()
    rows = {o.event_id: o for o in session.exec(select(OutboxEvent).where(OutboxEvent.event_id.not_in(by_hand)))}
    assert set(rows) == {ev.id for ev in issued}
    for ev in issued:
        w = session.get(Warning, ev.warning_id)
        o = rows[ev.id]
        assert (o.kind, o.warning_id, o.department_id, o.departments, o.dispatched_at) == (
            "issue", w.id, w.department_id, [w.department_id], None)
        assert o.payload == {"warningCode": w.code, "level": w.level, "status": "issued", "fromStatus": None,
                             "toStatus": "issued", "actorName": city.analyst.username,
                             "comment": f"评分批次 {city.run.id} 自动发布", "rowVersion": 1}

    run2 = add_run(session, session.get(ModelVersion, city.version_id))
    score(session, run2, e2, 0.88, "red")
    assert auto_issue_warnings(session, city.analyst, run2.id, min_level="yellow").raised == 1
    raised = session.exec(select(WarningEvent).where(WarningEvent.kind == "raise_level")).one()
    o = session.exec(select(OutboxEvent).where(OutboxEvent.event_id == raised.id)).one()
    assert (o.kind, o.warning_id) == ("raise_level", manual.id)
    assert o.departments == sorted({manual.department_id, city.health.id})
    assert o.payload["level"] == "red" and o.payload["rowVersion"] == 2 and o.payload["warningCode"] == manual.code
    assert session.exec(select(OutboxEvent)).all().__len__() == 4  # nothing written twice
