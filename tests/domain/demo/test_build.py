"""Loading the demo city into a real database through the ingestion path."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from domain.demo.generator import DemoCity
from domain.demo.profiles import SOURCES
from domain.demo.service import RECENT_DAYS, build_demo_city, has_entities
from domain.errors import Forbidden, InvalidInput
from domain.identity.actor import SYSTEM, Actor
from domain.identity.models import Department, User
from domain.integration.models import DataSource, IngestionBatch, IngestionError
from domain.integration.service import create_data_source, integration_status
from domain.supervision.models import Complaint, CreditRecord, Entity, SupervisionAction, SupervisionItem
from domain.types import local_today, utcnow

END = local_today() - timedelta(days=1)


def table_counts(db) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {model.__tablename__: conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
                for model in (Entity, SupervisionAction, Complaint, CreditRecord, SupervisionItem, Department,
                              DataSource, User)}


@pytest.fixture
def built(db):
    return build_demo_city(db, SYSTEM, entities=2000, seed=9, end_date=END)


def test_the_city_arrives_through_ingestion_with_the_generated_counts(db, built):
    city = DemoCity(entities=2000, seed=9, end_date=END)
    chunk = next(city.chunks())
    counts = table_counts(db)
    assert counts["entity"] == 2000 == built.accepted["entities"]
    assert counts["supervision_item"] == len(city.item_records()) == 208
    assert counts["department"] == 31
    # each system sent its records up to its last nightly push: today's arrive tonight, the 住建 system went quiet
    last_day = {s["code"]: END - timedelta(days=1 + s["quiet_days"]) for s in SOURCES}
    sent = sum(1 for s in last_day for a in chunk.action_records(s) if a["started_on"] <= last_day[s])
    assert sent < len(chunk.actions)
    assert counts["supervision_action"] == sent == built.accepted["actions"]
    complaints = sum(1 for c in chunk.complaint_records() if c["received_on"] <= last_day["phase-one"])
    assert counts["complaint"] == complaints == built.accepted["complaints"]
    credit = sum(1 for c in chunk.credit_records() if c["listed_on"] <= last_day["dc-credit-base"])
    assert counts["credit_record"] == credit == built.accepted["credit"]
    with db.unit_of_work() as session:
        assert has_entities(session)
        first = chunk.entity_records().__next__()
        stored = session.exec(select(Entity).where(Entity.uscc == first["uscc"])).one()
        assert (stored.name, stored.entity_type, stored.industry_code, stored.founded_on) == (
            first["name"], first["entity_type"], first["industry_code"], first["founded_on"])


def test_each_source_has_an_integration_account_and_dated_batches_with_real_errors(db, built):
    with db.unit_of_work() as session:
        sources = {s.code: s for s in session.exec(select(DataSource))}
        assert len(sources) == 9
        assert {s.kind for s in sources.values()} == {"phase_one", "department_system", "data_centre", "manual"}
        users = {u.id: u for u in session.exec(select(User))}
        for source in sources.values():
            if source.kind == "manual":
                assert source.user_id is None
            else:
                user = users[source.user_id]
                assert user.username == f"svc-{source.code}" and user.password_hash is None
                assert user.roles == ["viewer"]
            assert source.expected_feeds
        batches = list(session.exec(select(IngestionBatch)))
        status = {s.source.code: s for s in integration_status(session, SYSTEM).sources}
        assert not status["zj-system"].fresh  # the quiet 住建 system
        assert utcnow() - status["zj-system"].last_push_at > timedelta(days=20)
        for busy in ("phase-one", "scjg-system", "dc-entity-base"):
            assert status[busy].fresh and utcnow() - status[busy].last_push_at < timedelta(days=2)
        assert sum(b.rejected for b in batches) == sum(built.rejected.values()) >= 8
        # after the initial load, a push each night it has something to send (most nights for a busy system)
        nights = {b.created_at.date() for b in batches if b.source_id == sources["scjg-system"].id}
        assert len(nights) >= RECENT_DAYS - 3
        latest = sorted(batches, key=lambda b: b.created_at)[-20:]
        assert any(b.rejected for b in latest)
        assert all(s.created_at < min(b.created_at for b in batches if b.source_id == s.id)
                   for s in sources.values())
        errors = list(session.exec(select(IngestionError)))
        codes = {e.code for e in errors}
        assert {"uscc_check_character", "unknown_industry", "unknown_item", "future_date", "date_order",
                "required", "invalid_enum"} <= codes
        assert all(e.message for e in errors)


def test_running_it_again_updates_and_never_duplicates(db, built):
    before = table_counts(db)
    again = build_demo_city(db, SYSTEM, entities=2000, seed=9, end_date=END)
    assert table_counts(db) == before
    assert again.accepted == built.accepted


def test_only_someone_allowed_to_ingest_may_build_it_and_the_size_is_checked(db):
    viewer = Actor(user_id=999, username="leader", roles=frozenset({"viewer"}))
    with pytest.raises(Forbidden):
        build_demo_city(db, viewer, entities=10, seed=1, end_date=date(2026, 1, 31))
    with pytest.raises(InvalidInput) as err:
        build_demo_city(db, SYSTEM, entities=0, seed=1)
    assert err.value.field == "entities"
    assert table_counts(db)["entity"] == 0


def test_it_joins_the_manual_import_source_created_at_setup_instead_of_adding_another(db):
    with db.unit_of_work() as session:
        create_data_source(session, SYSTEM, code="MANUAL", name="手工导入", kind="manual")
    build_demo_city(db, SYSTEM, entities=200, seed=4, end_date=END)
    with db.unit_of_work() as session:
        sources = list(session.exec(select(DataSource)))
        assert len(sources) == 9 and sum(s.kind == "manual" for s in sources) == 1
        manual = next(s for s in sources if s.kind == "manual")
        assert session.exec(select(sa.func.count()).select_from(SupervisionAction)
                            .where(SupervisionAction.source_id == manual.id)).one() > 0
