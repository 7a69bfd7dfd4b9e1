"""The automatic issue's bulk path: the same rows whether PostgreSQL checks the foreign keys row by row or the
parents are locked set-based and the two inserts run without the triggers; nothing of that leaks into the rest
of the transaction; the industry section computed once per (district, industry) pair is the entity's."""

import pytest
import sqlalchemy as sa
from sqlmodel import select

from domain.notifications.models import OutboxEvent
from domain.risk.models import ModelVersion
from domain.warnings import auto_issue
from domain.warnings.auto_issue import auto_issue_warnings
from domain.warnings.models import Warning, WarningEvent, entity_columns
from tests.api.risk.factories import add_run
from tests.domain.warnings.support import build_city, score


@pytest.fixture
def city(session):
    c = build_city(session, n=8)
    session.commit()
    return c


def _postgresql(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _issue_night(session, city):
    levels = ["red", "orange", "yellow", "yellow", "blue", None, "red", "orange"]
    industries = ["C13", "C13", "C14", "5211", "F52", "C13", None, "I65"]  # sections by letter, by code, none
    for i, (e, level) in enumerate(zip(city.entities, levels, strict=True)):
        e.industry_code, e.region_code = industries[i], ("320505", "320506", None)[i % 3]
        session.add(e)
        score(session, city.run, e, 0.9 - i / 20, level)
    return auto_issue_warnings(session, city.analyst, city.run.id, min_level="yellow")


def _snapshot(session):
    """What the issue wrote, without ids and codes' numbers (two cities number alike anyway)."""
    warnings = sorted((w.entity_id, w.level, w.source, w.department_id, w.routing_rule_id, w.status, w.code,
                       w.region_code, w.industry_code, w.industry_section, w.scoring_run_id, w.model_version_id)
                      for w in session.exec(select(Warning)))
    events = sorted((e.kind, e.to_status, e.department_id, e.payload["level"])
                    for e in session.exec(select(WarningEvent)))
    outbox = sorted((o.kind, o.department_id, tuple(o.departments)) for o in session.exec(select(OutboxEvent)))
    return warnings, events, outbox


@pytest.mark.parametrize("triggers_off", [True, False])
def test_same_rows_with_and_without_the_row_by_row_key_checks(session, city, monkeypatch, triggers_off):
    if not triggers_off:  # as for a role that may not set session_replication_role
        monkeypatch.setattr(auto_issue, "_may_skip_triggers", lambda s: False)
    result = _issue_night(session, city)
    assert (result.issued, result.raised, result.unrouted) == (6, 0, 0)
    assert ("parents_locked" in result.steps) == (triggers_off and _postgresql(session))
    warnings, events, outbox = _snapshot(session)
    assert [w[1] for w in warnings] == ["red", "orange", "yellow", "yellow", "red", "orange"]
    assert len({w[6] for w in warnings}) == 6 and len(events) == 6 and len(outbox) == 6
    for entity_id, *_rest, region, industry, section, run_id, version_id in warnings:
        assert run_id == city.run.id and version_id == city.version_id
        expected = entity_columns(session.connection(), entity_id)
        assert (region, industry, section) == (expected["region_code"], expected["industry_code"],
                                               expected["industry_section"])
    # every key points at an existing row, checked or not
    orphans = session.execute(sa.text(
        "SELECT count(*) FROM risk_warning w LEFT JOIN entity e ON e.id = w.entity_id "
        "LEFT JOIN department d ON d.id = w.department_id LEFT JOIN routing_rule r ON r.id = w.routing_rule_id "
        "WHERE e.id IS NULL OR d.id IS NULL OR (w.routing_rule_id IS NOT NULL AND r.id IS NULL)")).scalar_one()
    assert orphans == 0


def test_the_settings_and_key_checks_are_back_after_the_issue(session, city):
    postgresql = _postgresql(session)
    if postgresql:
        before = {n: session.execute(sa.text(f"SHOW {n}")).scalar_one()
                  for n in ("work_mem", "jit", "session_replication_role")}
    _issue_night(session, city)
    if postgresql:
        after = {n: session.execute(sa.text(f"SHOW {n}")).scalar_one() for n in before}
        assert after == before and after["session_replication_role"] == "origin"
    # in the same transaction, a bad key is refused again
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        session.execute(sa.insert(WarningEvent.__table__).values(
            warning_id=987654, kind="x", actor_name="t", comment="", payload={}, at=sa.func.now()))


def test_a_second_night_raises_and_never_duplicates_on_the_bulk_path(session, city):
    _issue_night(session, city)
    session.commit()
    run2 = add_run(session, session.get(ModelVersion, city.version_id))
    for i, e in enumerate(city.entities):
        score(session, run2, e, 0.95 - i / 50, "red" if i in (1, 2) else "yellow")
    again = auto_issue_warnings(session, city.analyst, run2.id, min_level="yellow")
    # entities 1, 2 rise to red; 4 (blue) and 5 (none) get their first warning; nothing twice
    assert (again.issued, again.raised) == (2, 2)
    open_per_entity = session.execute(sa.text(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM risk_warning GROUP BY entity_id) x")).scalar_one()
    assert open_per_entity == 1
    assert session.exec(select(sa.func.count()).select_from(OutboxEvent)).one() == 10
